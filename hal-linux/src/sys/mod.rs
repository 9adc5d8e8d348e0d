//! The only unsafe code of this crate: socket options and addresses that
//! `nix` does not wrap. Each block says why it is sound.

use std::mem::{self, MaybeUninit};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::socket::{LinkAddr, SockaddrLike};

pub(crate) mod xdp;

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
/// to an interface: `count` of them, frame `i` being `frame(i)`. Returns how
/// many the kernel took (a prefix). A single frame goes with `send(2)`,
/// which skips setting up and copying in a message header: 0.3 µs less a
/// frame on a veth pair, which a ping-pong pays every round trip.
pub(crate) fn send_batch<'a>(
    fd: BorrowedFd<'_>,
    count: usize,
    frame: impl Fn(usize) -> &'a [u8],
) -> Result<usize, Errno> {
    let count = count.min(BATCH_MAX);
    if count == 1 {
        let frame = frame(0);
        // SAFETY: the pointer and length describe `frame`, borrowed for the
        // whole call, which the kernel only reads. No address: the socket
        // is bound to its interface. MSG_DONTWAIT: sending never blocks.
        let sent = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), libc::MSG_DONTWAIT) };
        return Errno::result(sent).map(|_| 1);
    }
    // Only the first `count` entries are written and handed over: setting
    // up all 64 for a frame or two costs more than the call.
    let mut iovecs = [const { MaybeUninit::<libc::iovec>::uninit() }; BATCH_MAX];
    let mut headers = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; BATCH_MAX];
    for (i, (iov, header)) in iovecs.iter_mut().zip(&mut headers).take(count).enumerate() {
        let frame = frame(i);
        let iov = iov.write(libc::iovec { iov_base: frame.as_ptr().cast_mut().cast(), iov_len: frame.len() });
        header.write(message(iov, None));
    }
    // SAFETY: the first `count` headers are initialised, each pointing at
    // one iovec that points into a frame borrowed for the whole call; the
    // kernel reads no more than `count` headers, only reads the frames
    // (sending) and writes the `msg_len` fields of the headers, which we
    // own. No address is given: the socket is bound to its interface.
    // MSG_DONTWAIT: the socket itself blocks (see `recv_batch`), sending never.
    let sent = unsafe {
        libc::sendmmsg(fd.as_raw_fd(), headers.as_mut_ptr().cast(), count as libc::c_uint, libc::MSG_DONTWAIT)
    };
    Errno::result(sent).map(|sent| sent as usize)
}

/// A message header of one buffer and, when receiving, room for the
/// sender's address; every other field zero.
fn message(iov: &mut libc::iovec, address: Option<&mut libc::sockaddr_ll>) -> libc::mmsghdr {
    // SAFETY: mmsghdr is a plain C struct for which all-zero bytes (null
    // pointers, zero lengths) are a valid value.
    let mut header: libc::mmsghdr = unsafe { mem::zeroed() };
    header.msg_hdr.msg_iov = iov;
    header.msg_hdr.msg_iovlen = 1;
    if let Some(address) = address {
        header.msg_hdr.msg_name = (address as *mut libc::sockaddr_ll).cast();
        header.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    }
    header
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

/// Bounds how long a blocking [`recv_batch`] sleeps (`SO_RCVTIMEO`). A
/// socket with a receive timeout also gives up its wait on a signal
/// (`EINTR`) even where the handler asked for calls to be restarted.
pub(crate) fn set_receive_timeout(fd: BorrowedFd<'_>, timeout: std::time::Duration) -> Result<(), Errno> {
    let timeout = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    set_option(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)
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

/// Receives one frame with `recvfrom(2)` into the first slot of `slots`,
/// waiting for it as a blocking [`recv_batch`] does. Cheaper than a batch
/// of one (no message header to copy in and out): 0.4 µs less a frame on a
/// veth pair, for frames that come one at a time.
pub(crate) fn recv_one(fd: BorrowedFd<'_>, slots: &mut RecvSlots<'_>) -> Result<usize, Errno> {
    let slot = &mut slots.buffer[..slots.slot_len];
    // SAFETY: sockaddr_ll is a plain C struct of integers and a byte array;
    // all-zero is a valid value of it.
    let mut address: libc::sockaddr_ll = unsafe { mem::zeroed() };
    let mut address_len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `slot.len()` bytes into `slot` and
    // at most `address_len` bytes (the exact size of `address`) into
    // `address`, both borrowed mutably for the whole call, and updates
    // `address_len`. MSG_TRUNC makes the result the frame's length on the
    // wire; the socket itself blocks, up to its receive timeout.
    let len = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            slot.as_mut_ptr().cast(),
            slot.len(),
            libc::MSG_TRUNC,
            (&mut address as *mut libc::sockaddr_ll).cast(),
            &mut address_len,
        )
    };
    slots.lens[0] = Errno::result(len)? as usize;
    slots.outgoing[0] = address.sll_pkttype == libc::PACKET_OUTGOING;
    Ok(1)
}

/// Receives up to `want` frames (at most [`BATCH_MAX`] and what `slots`
/// holds) with one `recvmmsg(2)`. Returns how many arrived. Without
/// `block`, an empty queue is `EAGAIN` at once; with it, the call sleeps
/// until the first frame (then takes what else is queued without waiting)
/// or the socket's receive timeout ([`set_receive_timeout`]), which is
/// `EAGAIN` too.
pub(crate) fn recv_batch(
    fd: BorrowedFd<'_>,
    slots: &mut RecvSlots<'_>,
    want: usize,
    block: bool,
) -> Result<usize, Errno> {
    let slot_len = slots.slot_len;
    let count = want.min(slots.lens.len()).min(slots.outgoing.len()).min(slots.buffer.len() / slot_len).min(BATCH_MAX);
    let mut iovecs = [const { MaybeUninit::<libc::iovec>::uninit() }; BATCH_MAX];
    let mut addresses = [const { MaybeUninit::<libc::sockaddr_ll>::uninit() }; BATCH_MAX];
    let mut headers = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; BATCH_MAX];
    for (slot, ((iov, address), header)) in
        slots.buffer.chunks_exact_mut(slot_len).zip(iovecs.iter_mut().zip(&mut addresses).zip(&mut headers)).take(count)
    {
        let iov = iov.write(libc::iovec { iov_base: slot.as_mut_ptr().cast(), iov_len: slot_len });
        // SAFETY: sockaddr_ll is a plain C struct of integers and a byte
        // array; all-zero is a valid value of it.
        let address = address.write(unsafe { mem::zeroed() });
        header.write(message(iov, Some(address)));
    }
    let wait = if block { libc::MSG_WAITFORONE } else { libc::MSG_DONTWAIT };
    // SAFETY: the first `count` headers are initialised, each pointing at
    // one iovec covering one `slot_len`-byte slot of `slots.buffer`
    // (disjoint, inside the buffer) and at one zeroed sockaddr_ll of the
    // exact size given; all of it lives until the call returns, and the
    // kernel touches no more than `count` headers and those lengths.
    // MSG_TRUNC makes `msg_len` the frame's length on the wire; MSG_DONTWAIT
    // or MSG_WAITFORONE only choose whether it waits; a null timeout is
    // allowed.
    let received = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            headers.as_mut_ptr().cast(),
            count as libc::c_uint,
            libc::MSG_TRUNC | wait,
            std::ptr::null_mut(),
        )
    };
    let received = (Errno::result(received)? as usize).min(count);
    for i in 0..received {
        // SAFETY: entries below `count` were initialised above, and the
        // kernel only wrote valid values into them.
        let (header, address) = unsafe { (headers[i].assume_init_ref(), addresses[i].assume_init_ref()) };
        slots.lens[i] = header.msg_len as usize;
        slots.outgoing[i] = address.sll_pkttype == libc::PACKET_OUTGOING;
    }
    Ok(received)
}
