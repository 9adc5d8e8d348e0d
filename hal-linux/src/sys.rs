//! The only unsafe code of this crate: socket options and addresses that
//! `nix` does not wrap. Each block says why it is sound.

use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::socket::{LinkAddr, SockaddrLike};

/// A `sockaddr_ll` for `bind(2)`: the interface and the ethertype to receive
/// (`libc::ETH_P_ALL` for everything).
pub(crate) fn link_addr(ifindex: u32, protocol: u16) -> Result<LinkAddr, Errno> {
    // SAFETY: sockaddr_ll is a plain C struct of integers and a byte array;
    // all-zero is a valid value of it.
    let mut raw: libc::sockaddr_ll = unsafe { mem::zeroed() };
    raw.sll_family = libc::AF_PACKET as u16;
    raw.sll_protocol = protocol.to_be();
    raw.sll_ifindex = i32::try_from(ifindex).map_err(|_| Errno::EINVAL)?;
    let len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `raw` is a fully initialised sockaddr_ll of family AF_PACKET
    // and `len` is its exact size, which is what LinkAddr::from_raw checks
    // for; the pointer is valid for the duration of the call.
    unsafe { LinkAddr::from_raw(std::ptr::addr_of!(raw).cast(), Some(len)) }.ok_or(Errno::EINVAL)
}

fn set_option<T>(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int, value: &T) -> Result<(), Errno> {
    // SAFETY: `value` points to a live, initialised T for the duration of the
    // call, and the length passed is exactly size_of::<T>(); the kernel only
    // reads that many bytes. `fd` is a valid open descriptor (BorrowedFd).
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    };
    Errno::result(rc).map(drop)
}

/// Stops the kernel from looping the socket's own transmissions back to it
/// (`PACKET_IGNORE_OUTGOING`, Linux 4.20).
pub(crate) fn ignore_outgoing(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    set_option(fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &1 as &libc::c_int)
}

/// Sends frames straight to the driver, skipping the qdisc layer
/// (`PACKET_QDISC_BYPASS`): faster, but no traffic shaping applies.
pub(crate) fn bypass_qdisc(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    set_option(fd, libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &1 as &libc::c_int)
}

/// Asks the interface for every multicast frame while the socket is open
/// (`PACKET_ADD_MEMBERSHIP` with `PACKET_MR_ALLMULTI`; the kernel drops the
/// membership when the socket closes).
pub(crate) fn all_multicast(fd: BorrowedFd<'_>, ifindex: u32) -> Result<(), Errno> {
    // SAFETY: packet_mreq is a plain C struct of integers and a byte array;
    // all-zero is a valid value of it.
    let mut request: libc::packet_mreq = unsafe { mem::zeroed() };
    request.mr_ifindex = i32::try_from(ifindex).map_err(|_| Errno::EINVAL)?;
    request.mr_type = libc::PACKET_MR_ALLMULTI as u16;
    set_option(fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &request)
}

/// Attaches a classic BPF program (`SO_ATTACH_FILTER`).
pub(crate) fn attach_filter(fd: BorrowedFd<'_>, program: &[libc::sock_filter]) -> Result<(), Errno> {
    let fprog = libc::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| Errno::EINVAL)?,
        // The kernel copies the program and never writes through this pointer.
        filter: program.as_ptr().cast_mut(),
    };
    set_option(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

/// Most frames handed to the kernel in one `sendmmsg(2)` call.
pub(crate) const BATCH_MAX: usize = 64;

/// Sends up to [`BATCH_MAX`] frames with one `sendmmsg(2)` on a socket bound
/// to an interface. Returns how many the kernel took (a prefix of `frames`).
pub(crate) fn send_batch(fd: BorrowedFd<'_>, frames: &[&[u8]]) -> Result<usize, Errno> {
    let count = frames.len().min(BATCH_MAX);
    // SAFETY: iovec and mmsghdr are plain C structs for which all-zero bytes
    // (null pointers, zero lengths) are valid values.
    let mut iovecs: [libc::iovec; BATCH_MAX] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; BATCH_MAX] = unsafe { mem::zeroed() };
    for ((frame, iov), header) in frames[..count].iter().zip(&mut iovecs).zip(&mut headers) {
        iov.iov_base = frame.as_ptr().cast_mut().cast();
        iov.iov_len = frame.len();
        header.msg_hdr.msg_iov = iov;
        header.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the first `count` headers each point at one iovec that points
    // into a frame borrowed for the whole call; the kernel only reads the
    // frames (sending) and writes the `msg_len` fields of the headers, which
    // we own. No address is given: the socket is bound to its interface.
    let sent = unsafe { libc::sendmmsg(fd.as_raw_fd(), headers.as_mut_ptr(), count as libc::c_uint, 0) };
    Errno::result(sent).map(|sent| sent as usize)
}

/// Asks for a `size`-byte socket buffer (`SO_RCVBUF` or `SO_SNDBUF`):
/// beyond the system's limit with the `…FORCE` variant where privileges
/// allow it, else as much as the limit gives.
pub(crate) fn set_buffer(fd: BorrowedFd<'_>, receive: bool, size: usize) -> Result<(), Errno> {
    let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    let (forced, plain) = match receive {
        true => (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        false => (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    };
    set_option(fd, libc::SOL_SOCKET, forced, &size).or_else(|_| set_option(fd, libc::SOL_SOCKET, plain, &size))
}

/// Where [`recv_batch`] puts frames: `slots` slices of `slot_len` bytes in
/// one buffer, with each frame's length on the wire and whether it is the
/// socket's own transmission looped back.
pub(crate) struct RecvSlots<'a> {
    pub(crate) buffer: &'a mut [u8],
    pub(crate) slot_len: usize,
    pub(crate) lens: &'a mut [usize],
    pub(crate) outgoing: &'a mut [bool],
}

/// Receives up to [`BATCH_MAX`] frames (as many as `slots` holds) with one
/// non-blocking `recvmmsg(2)`. Returns how many arrived.
pub(crate) fn recv_batch(fd: BorrowedFd<'_>, slots: &mut RecvSlots<'_>) -> Result<usize, Errno> {
    let count = slots.lens.len().min(slots.outgoing.len()).min(slots.buffer.len() / slots.slot_len).min(BATCH_MAX);
    // SAFETY: iovec, sockaddr_ll and mmsghdr are plain C structs for which
    // all-zero bytes (null pointers, zero lengths) are valid values.
    let mut iovecs: [libc::iovec; BATCH_MAX] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut addresses: [libc::sockaddr_ll; BATCH_MAX] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut headers: [libc::mmsghdr; BATCH_MAX] = unsafe { mem::zeroed() };
    let slot_len = slots.slot_len;
    for (i, ((iov, address), header)) in iovecs.iter_mut().zip(&mut addresses).zip(&mut headers).take(count).enumerate()
    {
        iov.iov_base = slots.buffer[i * slot_len..].as_mut_ptr().cast();
        iov.iov_len = slot_len;
        header.msg_hdr.msg_iov = iov;
        header.msg_hdr.msg_iovlen = 1;
        header.msg_hdr.msg_name = (address as *mut libc::sockaddr_ll).cast();
        header.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    }
    // SAFETY: the first `count` headers each point at one iovec covering
    // `slot_len` bytes of `slots.buffer` (disjoint slots, inside the buffer:
    // `count * slot_len <= buffer.len()`) and at one sockaddr_ll of the exact
    // size given; all of it lives until the call returns, and the kernel
    // writes no more than those lengths. MSG_TRUNC makes `msg_len` the
    // frame's length on the wire; MSG_DONTWAIT keeps the call from blocking;
    // a null timeout is allowed.
    let received = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            headers.as_mut_ptr(),
            count as libc::c_uint,
            libc::MSG_TRUNC | libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    let received = Errno::result(received)? as usize;
    for i in 0..received {
        slots.lens[i] = headers[i].msg_len as usize;
        slots.outgoing[i] = addresses[i].sll_pkttype == libc::PACKET_OUTGOING;
    }
    Ok(received)
}
