//! Transmission through an AF_XDP socket in copy mode: frames are copied
//! into chunks of a UMEM (memory shared with the kernel), their
//! descriptors put on the socket's TX ring, and one `sendto(2)` hands the
//! ring to the kernel, which builds each frame's buffer from its chunk and
//! gives it to the driver directly (no qdisc, no message header per frame).
//! The kernel returns a chunk on the completion ring once its frame is
//! gone. Copy mode works on any interface (veth has no zero-copy).

use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::errno::Errno;

use super::set_option;

/// The largest chunk the kernel accepts in aligned mode: a page.
const CHUNK_MAX: usize = 4096;

/// The smallest chunk the kernel accepts.
const CHUNK_MIN: usize = 2048;

/// Memory mapped from the kernel or anonymous, unmapped when dropped.
#[derive(Debug)]
struct Mapping {
    start: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes of `fd` at `offset` shared, or anonymous memory
    /// when `fd` is `None`.
    fn new(fd: Option<&OwnedFd>, len: usize, offset: u64) -> Result<Mapping, Errno> {
        let (flags, raw_fd) = match fd {
            Some(fd) => (libc::MAP_SHARED | libc::MAP_POPULATE, fd.as_raw_fd()),
            None => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE, -1),
        };
        let offset = libc::off_t::try_from(offset).map_err(|_| Errno::EINVAL)?;
        // SAFETY: a fresh mapping at an address the kernel chooses touches
        // no memory of ours; the result is checked before use.
        let start =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, raw_fd, offset) };
        if start == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        Ok(Mapping { start: NonNull::new(start.cast()).ok_or(Errno::ENOMEM)?, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `start` and `len` are exactly what mmap returned and was
        // given; nothing points into the mapping once its owner drops it.
        unsafe { libc::munmap(self.start.as_ptr().cast(), self.len) };
    }
}

/// One ring of an AF_XDP socket, mapped: the kernel and this process each
/// move one of two free-running indices, and `entries` holds a power of
/// two of `T`.
#[derive(Debug)]
struct Ring<T> {
    map: Mapping,
    producer: usize,
    consumer: usize,
    entries: usize,
    mask: u32,
    _entry: std::marker::PhantomData<T>,
}

impl<T: Copy> Ring<T> {
    /// Maps the ring of `size` entries whose offsets the kernel gave.
    fn map(fd: &OwnedFd, offsets: &libc::xdp_ring_offset, page_offset: u64, size: u32) -> Result<Ring<T>, Errno> {
        let len = offsets.desc as usize + size as usize * mem::size_of::<T>();
        let map = Mapping::new(Some(fd), len, page_offset)?;
        Ok(Ring {
            map,
            producer: offsets.producer as usize,
            consumer: offsets.consumer as usize,
            entries: offsets.desc as usize,
            mask: size - 1,
            _entry: std::marker::PhantomData,
        })
    }

    fn index(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: the kernel places each index inside the mapping, 4-byte
        // aligned (XDP_MMAP_OFFSETS), and both sides only access it
        // atomically; the mapping lives as long as `self`.
        unsafe { &*self.map.start.as_ptr().add(offset).cast::<AtomicU32>() }
    }

    fn producer(&self) -> &AtomicU32 {
        self.index(self.producer)
    }

    fn consumer(&self) -> &AtomicU32 {
        self.index(self.consumer)
    }

    fn entry(&self, position: u32) -> *mut T {
        let i = (position & self.mask) as usize;
        // SAFETY: `i` is below the ring's size, and the kernel's entries
        // start at `entries` inside the mapping, which holds all of them.
        unsafe { self.map.start.as_ptr().add(self.entries).cast::<T>().add(i) }
    }

    fn read(&self, position: u32) -> T {
        // SAFETY: the entry is inside the mapping (`entry`), and the
        // producer published it before moving the index the caller read
        // with Acquire.
        unsafe { self.entry(position).read_volatile() }
    }

    fn write(&self, position: u32, value: T) {
        // SAFETY: the entry is inside the mapping (`entry`); the kernel
        // does not read it before the producer index covers it, which the
        // caller moves with Release afterwards.
        unsafe { self.entry(position).write_volatile(value) }
    }
}

/// An AF_XDP socket that only transmits, bound to queue 0 of an interface
/// in copy mode.
#[derive(Debug)]
pub(crate) struct XdpTransmit {
    // Declared first: closed before the memory it shares is unmapped.
    fd: OwnedFd,
    tx: Ring<libc::xdp_desc>,
    completion: Ring<u64>,
    umem: Mapping,
    chunk_len: usize,
    /// Chunks no frame occupies, by address in the UMEM.
    free: Vec<u64>,
}

// SAFETY: the rings and the UMEM are owned by this value alone (the kernel
// is the only other party); moving it to another thread moves that
// ownership, and `&self` methods do not touch them.
unsafe impl Send for XdpTransmit {}

impl XdpTransmit {
    /// Opens an AF_XDP socket for frames up to `max_frame` bytes on
    /// interface `ifindex`, with chunks for about `buffer` bytes of frames
    /// in flight (what a socket's send buffer would hold). Fails where the
    /// kernel has no AF_XDP, frames do not fit a page, locked memory is
    /// short, or another AF_XDP socket holds the queue (`EBUSY`).
    pub(crate) fn open(ifindex: u32, max_frame: usize, buffer: usize) -> Result<XdpTransmit, Errno> {
        let chunk_len = max_frame.next_power_of_two().max(CHUNK_MIN);
        if chunk_len > CHUNK_MAX {
            return Err(Errno::EMSGSIZE);
        }
        let chunks = (buffer / chunk_len).clamp(64, 4096).next_power_of_two();
        // SAFETY: socket(2) takes no pointers; the result is checked and
        // owned from here on.
        let raw = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        let fd = {
            let raw = Errno::result(raw)?;
            // SAFETY: `raw` is a descriptor socket(2) just opened, owned by
            // nothing else.
            unsafe { OwnedFd::from_raw_fd(raw) }
        };
        let umem = Mapping::new(None, chunks * chunk_len, 0)?;
        let registration = libc::xdp_umem_reg {
            addr: umem.start.as_ptr() as u64,
            len: umem.len as u64,
            chunk_size: chunk_len as u32,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        // The kernel pins the UMEM; its pages stay ours.
        set_option(borrow(&fd), libc::SOL_XDP, libc::XDP_UMEM_REG, &registration)?;
        let ring_size = chunks as libc::c_int;
        // A fill ring is required even by a socket that never receives.
        for ring in [libc::XDP_UMEM_FILL_RING, libc::XDP_UMEM_COMPLETION_RING, libc::XDP_TX_RING] {
            set_option(borrow(&fd), libc::SOL_XDP, ring, &ring_size)?;
        }
        // Frames are charged to the socket's send buffer until sent.
        super::set_buffer(borrow(&fd), false, buffer)?;
        let offsets = mmap_offsets(&fd)?;
        let tx = Ring::map(&fd, &offsets.tx, libc::XDP_PGOFF_TX_RING as u64, chunks as u32)?;
        let completion = Ring::map(&fd, &offsets.cr, libc::XDP_UMEM_PGOFF_COMPLETION_RING, chunks as u32)?;
        let address = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            sxdp_flags: libc::XDP_COPY,
            sxdp_ifindex: ifindex,
            sxdp_queue_id: 0,
            sxdp_shared_umem_fd: 0,
        };
        // SAFETY: `address` is a fully initialised sockaddr_xdp and the
        // length given is its exact size; the kernel only reads it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_xdp).cast(),
                mem::size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
            )
        };
        Errno::result(rc)?;
        let free = (0..chunks as u64).rev().map(|i| i * chunk_len as u64).collect();
        Ok(XdpTransmit { fd, tx, completion, umem, chunk_len, free })
    }

    /// Sends up to `count` frames, frame `i` being `frame(i)`: as many as
    /// there are free chunks. Returns how many were handed to the kernel;
    /// `EAGAIN` if none could be. Frames the driver could not take yet stay
    /// on the TX ring, sent by the next call (see [`pending`](Self::pending)).
    pub(crate) fn send<'a>(&mut self, count: usize, frame: impl Fn(usize) -> &'a [u8]) -> Result<usize, Errno> {
        self.reclaim();
        let count = count.min(self.free.len());
        if (0..count).any(|i| frame(i).len() > self.chunk_len) {
            return Err(Errno::EMSGSIZE);
        }
        let start = self.tx.producer().load(Ordering::Relaxed);
        for (i, address) in (0..count).zip(self.free.drain(self.free.len() - count..).rev()) {
            let frame = frame(i);
            // SAFETY: `address` is a free chunk's offset, so `chunk_len`
            // bytes from it lie inside the UMEM, which the kernel does not
            // read until the descriptor is published below.
            let chunk =
                unsafe { std::slice::from_raw_parts_mut(self.umem.start.as_ptr().add(address as usize), frame.len()) };
            chunk.copy_from_slice(frame);
            self.tx.write(
                start.wrapping_add(i as u32),
                libc::xdp_desc { addr: address, len: frame.len() as u32, options: 0 },
            );
        }
        self.tx.producer().store(start.wrapping_add(count as u32), Ordering::Release);
        match self.kick() {
            Ok(()) if count > 0 => Ok(count),
            Ok(()) => Err(Errno::EAGAIN),
            Err(errno) => Err(errno),
        }
    }

    /// Whether frames wait on the TX ring for the driver.
    pub(crate) fn pending(&self) -> bool {
        self.tx.consumer().load(Ordering::Acquire) != self.tx.producer().load(Ordering::Relaxed)
    }

    /// Asks the kernel to send what is on the TX ring, again while each
    /// call takes its budget (in copy mode 32 frames, then `EAGAIN`) and
    /// some remain. A driver or socket buffer
    /// with no room (`EAGAIN`, `EBUSY`, `ENOBUFS` without progress) is not
    /// an error: those frames go with a later call.
    pub(crate) fn kick(&mut self) -> Result<(), Errno> {
        while self.pending() {
            let before = self.tx.consumer().load(Ordering::Acquire);
            // SAFETY: no buffer and no address: the call only tells the
            // kernel to read the TX ring, which it shares with us.
            let rc = unsafe {
                libc::sendto(self.fd.as_raw_fd(), std::ptr::null(), 0, libc::MSG_DONTWAIT, std::ptr::null(), 0)
            };
            let progressed = self.tx.consumer().load(Ordering::Acquire) != before;
            match Errno::result(rc) {
                // The budget taken (`EAGAIN` after 32 frames) or a
                // signal: go on while frames leave.
                Ok(_) | Err(Errno::EAGAIN | Errno::EBUSY | Errno::ENOBUFS | Errno::EINTR) if progressed => {}
                Ok(_) | Err(Errno::EAGAIN | Errno::EBUSY | Errno::ENOBUFS | Errno::EINTR) => return Ok(()),
                Err(errno) => return Err(errno),
            }
        }
        Ok(())
    }

    /// Takes back the chunks of frames the kernel is done with.
    fn reclaim(&mut self) {
        let end = self.completion.producer().load(Ordering::Acquire);
        let mut position = self.completion.consumer().load(Ordering::Relaxed);
        while position != end {
            self.free.push(self.completion.read(position));
            position = position.wrapping_add(1);
        }
        self.completion.consumer().store(position, Ordering::Release);
    }
}

fn borrow(fd: &OwnedFd) -> std::os::fd::BorrowedFd<'_> {
    std::os::fd::AsFd::as_fd(fd)
}

/// Where the kernel placed each ring's indices and entries
/// (`XDP_MMAP_OFFSETS`).
fn mmap_offsets(fd: &OwnedFd) -> Result<libc::xdp_mmap_offsets, Errno> {
    // SAFETY: xdp_mmap_offsets is a plain C struct of integers; all-zero
    // is a valid value of it.
    let mut offsets: libc::xdp_mmap_offsets = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::xdp_mmap_offsets>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes (the exact size of
    // `offsets`, borrowed mutably for the call) and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_XDP,
            libc::XDP_MMAP_OFFSETS,
            (&mut offsets as *mut libc::xdp_mmap_offsets).cast(),
            &mut len,
        )
    };
    Errno::result(rc)?;
    // Kernels before 5.4 write the shorter layout without flags.
    if len as usize != mem::size_of::<libc::xdp_mmap_offsets>() {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(offsets)
}
