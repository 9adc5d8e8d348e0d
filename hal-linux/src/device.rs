//! The AF_PACKET device.

use std::cell::Cell;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType};
use whohas_link::EtherType;
use whohas_link::EthernetAddress;
use whohas_link::HEADER_LEN;
use whohas_link::{Capabilities, LinkDevice};

use crate::interface::{self, Interface};
use crate::{Error, filter, sys};

/// How to open an [`AfPacketDevice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Ethertypes the kernel passes up; everything else is dropped in the
    /// kernel by a BPF filter. `None`: every frame; an empty list: none (a
    /// transmit-only socket). With IPv6 among them (or `None`), the socket
    /// also asks the interface for every multicast frame while it is open.
    pub ethertypes: Option<Vec<EtherType>>,
    /// Send straight to the driver, bypassing the kernel's qdisc
    /// (`PACKET_QDISC_BYPASS`): faster injection, no traffic control.
    pub bypass_qdisc: bool,
    /// Send through an AF_XDP socket ([`TransmitPath::Xdp`]) if the kernel
    /// gives one, else through the packet socket. Frames sent so go
    /// straight to the driver: past the qdisc and the egress hooks (tc,
    /// nftables), and unseen by captures on this host (tcpdump sees them
    /// on the peer's side only), as with `bypass_qdisc`.
    pub xdp: bool,
    /// Refuse interfaces whose MTU is below this.
    pub min_mtu: usize,
    /// The socket buffers, each way, in bytes: room for bursts of a large
    /// transfer window. Above the system's limit only with CAP_NET_ADMIN.
    pub buffer: usize,
}

impl Default for Options {
    /// The ethertypes whohas speaks (name-ARP, data, ARP), qdisc kept, no
    /// AF_XDP, any MTU.
    fn default() -> Self {
        Options {
            ethertypes: Some(EtherType::WHOHAS.to_vec()),
            bypass_qdisc: false,
            xdp: false,
            min_mtu: 0,
            buffer: 4 << 20,
        }
    }
}

/// How an [`AfPacketDevice`] sends its frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransmitPath {
    /// `sendmmsg(2)` batches (`send(2)` for one frame) on the packet
    /// socket, through the interface's qdisc.
    Socket,
    /// An AF_XDP socket in copy mode on the interface's queue 0 (see
    /// [`Options::xdp`]): frames copied into memory shared with the kernel
    /// and handed over with one `sendto(2)` per 32, straight to the
    /// driver, without a message header per frame.
    Xdp,
}

impl std::fmt::Display for TransmitPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransmitPath::Socket => "packet socket",
            TransmitPath::Xdp => "AF_XDP",
        })
    }
}

/// A raw AF_PACKET socket bound to one Ethernet interface.
///
/// Receives every frame addressed to the station (unicast to its MAC,
/// broadcast, multicast it listens to, and in promiscuous mode frames for
/// other stations, which the node ignores) except the socket's own
/// transmissions, which the kernel keeps back (`PACKET_IGNORE_OUTGOING`, and
/// a `PACKET_OUTGOING` check for kernels older than 4.20). `receive` and
/// `transmit` never block; wait for frames by polling the descriptor
/// ([`AsFd`]), or through [`Wait`](whohas_link::Wait), which sleeps in the
/// receive call itself, so a frame that wakes it has been read by then
/// (one system call less per frame than `poll(2)` and `recvmmsg(2)`). The
/// socket is therefore a blocking one that is always called with
/// `MSG_DONTWAIT` elsewhere: read it through this type, not directly.
///
/// Frames move in batches: one `recvmmsg(2)` fills up to 64 frames that
/// `receive` then hands out, and `transmit` collects up to 64 frames that
/// one `sendmmsg(2)` sends at [`flush`](LinkDevice::flush) (or when the
/// batch is full; dropping the device flushes too).
///
/// An interface that goes down is waited out: nothing arrives, frames to
/// send wait in the batch, and [`Wait`](whohas_link::Wait) checks
/// the interface every [`LINK_RECHECK`](crate::LINK_RECHECK) until it
/// is up again (the kernel re-attaches the socket by itself). An interface
/// that is deleted is [`Error::InterfaceGone`].
#[derive(Debug)]
pub struct AfPacketDevice {
    fd: OwnedFd,
    interface: Interface,
    /// Why the last transmission was refused, until one succeeds (a cell,
    /// so sending through `&self` can note it).
    tx_full: Cell<Option<TxFull>>,
    /// The kernel said the interface went down (`ENETDOWN`), and it has
    /// not been seen up since.
    link_down: Cell<bool>,
    /// The socket's receive timeout (`SO_RCVTIMEO`) as last set, which
    /// bounds a blocking receive in [`Wait`](whohas_link::Wait); zero until
    /// the first.
    receive_timeout: Duration,
    /// Boxed: the batches are big (and the device is moved around).
    rx: Box<Batch>,
    tx: Box<Batch>,
    /// Frames go out through this AF_XDP socket rather than the packet
    /// socket ([`TransmitPath::Xdp`]). Boxed, as the batches are: most
    /// devices have none.
    xdp: Option<Box<sys::xdp::XdpTransmit>>,
}

/// How many frames a receive asks for after a short batch.
const TRICKLE_BATCH: usize = 8;

/// While frames come one at a time, a blocking receive takes one frame
/// (`recvfrom(2)`, cheaper than a batch), except every this many, which
/// takes a batch to see whether a burst has begun.
const TRICKLE_CHECK: u8 = 16;

/// Frames received or waiting to be sent, in fixed slots of one buffer.
#[derive(Debug)]
struct Batch {
    buffer: Vec<u8>,
    slot_len: usize,
    lens: [usize; sys::BATCH_MAX],
    /// Received: the socket's own frames looped back, skipped.
    outgoing: [bool; sys::BATCH_MAX],
    count: usize,
    /// Received: the next frame to hand out.
    next: usize,
    /// Received: the last `recvmmsg(2)` returned a short batch, so the
    /// socket's queue was empty then: once the batch is handed out, the
    /// next `receive` says `WouldBlock` without asking the kernel again
    /// (one system call less per frame when frames come one at a time).
    /// Only once: a node that polls again at once asks the kernel.
    drained: bool,
    /// Received: how many frames to ask the kernel for next: a few after a
    /// short batch (frames come one at a time, and every slot offered costs
    /// setting up), all of them after a full one (a burst).
    want: usize,
    /// Received: how many blocking receives in a row found a single frame
    /// (counting up to [`TRICKLE_CHECK`], then again from 1); from 1 on,
    /// the next blocking receive takes one frame unless it is the check.
    trickle: u8,
}

impl Batch {
    fn new(slot_len: usize) -> Box<Batch> {
        Box::new(Batch {
            buffer: vec![0; slot_len * sys::BATCH_MAX],
            slot_len,
            lens: [0; sys::BATCH_MAX],
            outgoing: [false; sys::BATCH_MAX],
            count: 0,
            next: 0,
            drained: false,
            want: sys::BATCH_MAX,
            trickle: 0,
        })
    }

    fn slot(&self, i: usize) -> &[u8] {
        &self.buffer[i * self.slot_len..][..self.lens[i].min(self.slot_len)]
    }
}

/// Why the kernel refused a frame for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxFull {
    /// The socket's send buffer is full (`EAGAIN`): `POLLOUT` says when
    /// there is room.
    Socket,
    /// The queue discipline dropped the frame (`ENOBUFS`): the socket stays
    /// writable, so only time tells.
    Queue,
}

/// The interface as it is now, if it is still the one the socket was
/// bound to (same name, same index); else `InterfaceGone`.
fn still_there(interface: &Interface) -> Result<Interface, Error> {
    match interface::by_name(&interface.name) {
        Ok(now) if now.index == interface.index => Ok(now),
        Ok(_) | Err(Error::NoSuchInterface { .. }) => Err(Error::InterfaceGone { name: interface.name.clone() }),
        Err(other) => Err(other),
    }
}

fn open_error(interface: &str, context: &'static str, errno: Errno) -> Error {
    match errno {
        Errno::EPERM | Errno::EACCES => Error::PermissionDenied { interface: interface.to_owned() },
        Errno::ENETDOWN => Error::InterfaceDown { name: interface.to_owned() },
        Errno::ENODEV | Errno::ENXIO => Error::NoSuchInterface { name: interface.to_owned(), available: Vec::new() },
        errno => Error::io(context, errno),
    }
}

/// The AF_XDP socket frames to `interface` go through, if the kernel
/// gives one; else `None`, and why is logged: a kernel without AF_XDP,
/// frames larger than a page, too little lockable memory, or another
/// AF_XDP socket on the interface's queue 0 (`EBUSY`).
fn open_xdp(interface: &Interface, options: &Options) -> Option<Box<sys::xdp::XdpTransmit>> {
    let max_frame = interface.mtu + HEADER_LEN;
    sys::xdp::XdpTransmit::open(interface.index, max_frame, options.buffer)
        .inspect_err(|errno| {
            let why = match errno {
                Errno::EMSGSIZE => format!("its frames of {max_frame} bytes are larger than a page"),
                errno => errno.desc().to_owned(),
            };
            log::warn!("{}: no AF_XDP socket ({why}): sending through the packet socket", interface.name)
        })
        .ok()
        .map(Box::new)
}

impl AfPacketDevice {
    /// Opens `interface` with the default [`Options`].
    pub fn open(interface: &str) -> Result<Self, Error> {
        Self::open_with(interface, &Options::default())
    }

    /// Opens `interface`.
    pub fn open_with(interface: &str, options: &Options) -> Result<Self, Error> {
        let info = interface::by_name(interface)?;
        if !info.is_ethernet() {
            return Err(Error::NotEthernet { name: info.name, hardware_type: info.hardware_type });
        }
        if !info.up {
            return Err(Error::InterfaceDown { name: info.name });
        }
        if info.mtu < options.min_mtu {
            return Err(Error::MtuTooSmall { name: info.name, mtu: info.mtu, needed: options.min_mtu });
        }
        // Protocol 0: the socket receives nothing until it is bound below,
        // so no frame from another interface slips in before the bind.
        let fd = socket::socket(
            AddressFamily::Packet,
            SockType::Raw,
            // Blocking: only `receive_blocking` waits in the kernel; every
            // other call says MSG_DONTWAIT.
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|errno| open_error(interface, "creating an AF_PACKET socket", errno))?;
        if let Some(ethertypes) = &options.ethertypes {
            sys::attach_filter(fd.as_fd(), &filter::ethertype_filter(ethertypes))
                .map_err(|errno| Error::io("attaching the BPF ethertype filter", errno))?;
        }
        match sys::ignore_outgoing(fd.as_fd()) {
            // Kernels before 4.20 lack the option; receive() checks pkttype instead.
            Ok(()) | Err(Errno::ENOPROTOOPT) => {}
            Err(errno) => return Err(Error::io("setting PACKET_IGNORE_OUTGOING", errno)),
        }
        if options.bypass_qdisc {
            sys::bypass_qdisc(fd.as_fd()).map_err(|errno| Error::io("setting PACKET_QDISC_BYPASS", errno))?;
        }
        for receive in [true, false] {
            sys::set_buffer(fd.as_fd(), receive, options.buffer)
                .map_err(|errno| Error::io("sizing the socket buffers", errno))?;
        }
        let address = sys::link_addr(info.index, libc::ETH_P_ALL as u16)
            .map_err(|errno| Error::io("building the interface address", errno))?;
        socket::bind(fd.as_raw_fd(), &address)
            .map_err(|errno| open_error(interface, "binding the socket to the interface", errno))?;
        // IPv6 neighbour discovery goes to multicast groups (solicited-node,
        // all-nodes) that a NIC's filter may not pass unless the kernel
        // joined them itself.
        if options.ethertypes.as_ref().is_none_or(|ethertypes| ethertypes.contains(&EtherType::IPV6)) {
            sys::all_multicast(fd.as_fd(), info.index)
                .map_err(|errno| Error::io("asking the interface for all multicast frames", errno))?;
        }
        let slot_len = info.mtu + HEADER_LEN;
        let xdp = if options.xdp { open_xdp(&info, options) } else { None };
        log::debug!(
            "opened AF_PACKET socket on {} ({}, MTU {}), sending through {}",
            info.name,
            info.mac,
            info.mtu,
            if xdp.is_some() { TransmitPath::Xdp } else { TransmitPath::Socket }
        );
        Ok(AfPacketDevice {
            fd,
            interface: info,
            tx_full: Cell::new(None),
            link_down: Cell::new(false),
            receive_timeout: Duration::ZERO,
            rx: Batch::new(slot_len),
            tx: Batch::new(slot_len),
            xdp,
        })
    }

    /// How frames are sent: through AF_XDP if [`Options::xdp`] asked for it
    /// and the kernel gave a socket, else through the packet socket.
    pub fn transmit_path(&self) -> TransmitPath {
        match self.xdp {
            Some(_) => TransmitPath::Xdp,
            None => TransmitPath::Socket,
        }
    }

    /// The interface the socket is bound to.
    pub fn interface(&self) -> &Interface {
        &self.interface
    }

    /// Sends several frames with one system call (`sendmmsg(2)`, up to 64 a
    /// call), for injection at high rates. Returns how many were sent: a
    /// prefix of `frames`, zero if the kernel's queue is full (wait for
    /// writability or retry).
    pub fn transmit_batch(&mut self, frames: &[&[u8]]) -> Result<usize, Error> {
        if let Some(frame) = frames.iter().find(|frame| frame.len() > self.max_frame_len()) {
            return Err(Error::FrameTooLong { len: frame.len(), max: self.max_frame_len() });
        }
        // Frames handed to `transmit` go first.
        match self.flush() {
            Ok(()) => {}
            Err(nb::Error::WouldBlock) => return Ok(0),
            Err(nb::Error::Other(err)) => return Err(err),
        }
        let Self { fd, xdp, interface, link_down, tx_full, .. } = self;
        match Self::send(fd.as_fd(), xdp, interface, link_down, tx_full, frames.len(), |i| frames[i]) {
            Ok(sent) => Ok(sent),
            Err(nb::Error::WouldBlock) => Ok(0),
            Err(nb::Error::Other(err)) => Err(err),
        }
    }

    /// Why the last transmission was refused, if the latest one was.
    pub(crate) fn tx_full(&self) -> Option<TxFull> {
        self.tx_full.get()
    }

    /// Sends `count` frames, frame `i` being `frame(i)`, through the
    /// transmit path (`xdp`, else the packet socket `fd`). Returns how many
    /// the kernel took (a prefix), noting in `tx_full` whether (and why) it
    /// had no room. Takes the device's fields apart, so the frames may be
    /// the device's own batch.
    fn send<'a>(
        fd: BorrowedFd<'_>,
        xdp: &mut Option<Box<sys::xdp::XdpTransmit>>,
        interface: &Interface,
        link_down: &Cell<bool>,
        tx_full: &Cell<Option<TxFull>>,
        count: usize,
        frame: impl Fn(usize) -> &'a [u8],
    ) -> nb::Result<usize, Error> {
        let mut refusal = None;
        let result = match xdp {
            Some(xdp) => {
                Self::call("sending frames (AF_XDP)", interface, link_down, || xdp.send(count, &frame), &mut refusal)
            }
            None => Self::call(
                "sending frames (sendmmsg, send)",
                interface,
                link_down,
                || sys::send_batch(fd, count, &frame),
                &mut refusal,
            ),
        };
        // An AF_XDP descriptor polls writable when its TX ring has room,
        // not when the kernel gives chunks back, and frames the driver has
        // not taken yet need another call: either is waited out as a full
        // queue is.
        let waiting = xdp.as_ref().is_some_and(|xdp| xdp.pending());
        tx_full.set(match xdp {
            Some(_) if refusal.is_some() || waiting => Some(TxFull::Queue),
            _ => refusal,
        });
        result
    }

    /// Hands the kernel again what waits on the AF_XDP socket's TX ring;
    /// `WouldBlock` while some still waits.
    fn send_waiting(&mut self) -> nb::Result<(), Error> {
        let Self { xdp: Some(xdp), interface, link_down, tx_full, .. } = self else { return Ok(()) };
        if !xdp.pending() {
            return Ok(());
        }
        Self::call("sending frames (AF_XDP)", interface, link_down, || xdp.kick(), &mut None)?;
        if xdp.pending() {
            tx_full.set(Some(TxFull::Queue));
            return Err(nb::Error::WouldBlock);
        }
        tx_full.set(None);
        Ok(())
    }

    /// Whether the interface went down and has not been seen up since.
    pub(crate) fn is_link_down(&self) -> bool {
        self.link_down.get()
    }

    /// Looks at the interface again after it went down: up again, still
    /// down, or gone.
    pub(crate) fn recheck_link(&self) -> Result<(), Error> {
        if still_there(&self.interface)?.up {
            log::info!("interface {} is up again", self.interface.name);
            self.link_down.set(false);
        }
        Ok(())
    }

    /// Runs a socket call again while a signal interrupts it, and maps its
    /// failures: an empty receive queue or a full transmit queue is
    /// `WouldBlock` (noting which in `refusal`); so is an interface that
    /// went down (noted in `link_down`); one that is gone is
    /// `InterfaceGone`.
    fn call<T>(
        context: &'static str,
        interface: &Interface,
        link_down: &Cell<bool>,
        mut call: impl FnMut() -> Result<T, Errno>,
        refusal: &mut Option<TxFull>,
    ) -> nb::Result<T, Error> {
        loop {
            return match call() {
                Ok(value) => Ok(value),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => {
                    *refusal = Some(TxFull::Socket);
                    Err(nb::Error::WouldBlock)
                }
                Err(Errno::ENOBUFS) => {
                    *refusal = Some(TxFull::Queue);
                    Err(nb::Error::WouldBlock)
                }
                Err(Errno::ENETDOWN | Errno::ENXIO | Errno::ENODEV) => {
                    still_there(interface).map_err(nb::Error::Other)?;
                    if !link_down.replace(true) {
                        log::warn!("interface {} went down: waiting for it to come back", interface.name);
                    }
                    Err(nb::Error::WouldBlock)
                }
                Err(errno) => Err(nb::Error::Other(Error::io(context, errno))),
            };
        }
    }

    fn max_frame_len(&self) -> usize {
        self.interface.mtu + HEADER_LEN
    }

    /// Whether frames received in the last batch are still to be handed out.
    pub(crate) fn has_received(&self) -> bool {
        self.rx.next < self.rx.count
    }

    /// Reads the next batch of frames from the socket, waiting for the first
    /// with `block` (up to the socket's receive timeout; a signal ends the
    /// wait too, as `WouldBlock`, where a non-blocking read goes again).
    fn fill_rx(&mut self, block: bool) -> nb::Result<(), Error> {
        let fd = self.fd.as_fd();
        let rx = &mut self.rx;
        let mut slots = sys::RecvSlots {
            buffer: &mut rx.buffer,
            slot_len: rx.slot_len,
            lens: &mut rx.lens,
            outgoing: &mut rx.outgoing,
        };
        let single = block && rx.trickle != 0 && rx.trickle != TRICKLE_CHECK;
        let received = Self::call(
            "receiving frames (recvmmsg, recvfrom)",
            &self.interface,
            &self.link_down,
            || {
                let result = match single {
                    true => sys::recv_one(fd, &mut slots),
                    false => sys::recv_batch(fd, &mut slots, rx.want, block),
                };
                match result {
                    Err(Errno::EINTR) if block => Err(Errno::EAGAIN),
                    result => result,
                }
            },
            &mut None,
        )?;
        let rx = &mut self.rx;
        if block {
            rx.trickle = if received == 1 { rx.trickle % TRICKLE_CHECK + 1 } else { 0 };
        }
        // A single frame taken alone counts as a short batch: the queue
        // is taken for empty, as it was when the frame before arrived.
        let full = received == rx.want && !single;
        (rx.count, rx.next) = (received, 0);
        rx.drained = !full;
        rx.want = if full { sys::BATCH_MAX } else { TRICKLE_BATCH };
        Ok(())
    }

    /// Sleeps in the receive call until a frame arrives, `limit` passes or
    /// a signal comes, and keeps what arrived for `receive`. The socket's
    /// timeout costs a system call whenever it changes, so `limit` is
    /// rounded down to a power of two of milliseconds (a wait that ends
    /// early is allowed): a node waiting for similar deadlines sets it once.
    pub(crate) fn receive_blocking(&mut self, limit: Duration) -> Result<(), Error> {
        let millis = limit.as_millis().clamp(1, 1 << 20) as u64;
        let rounded = Duration::from_millis(1 << millis.ilog2());
        if rounded != self.receive_timeout {
            sys::set_receive_timeout(self.fd.as_fd(), rounded)
                .map_err(|errno| Error::io("setting the receive timeout (SO_RCVTIMEO)", errno))?;
            self.receive_timeout = rounded;
        }
        match self.fill_rx(true) {
            Ok(()) | Err(nb::Error::WouldBlock) => Ok(()),
            Err(nb::Error::Other(err)) => Err(err),
        }
    }
}

impl Drop for AfPacketDevice {
    /// Frames still held back are sent (best effort) before the socket
    /// closes: a program that transmits and ends loses nothing.
    fn drop(&mut self) {
        let _ = self.flush();
        // Frames a busy driver left on the AF_XDP ring go with the socket
        // unless handed over now: a few tries, a millisecond apart.
        for _ in 0..10 {
            match self.send_waiting() {
                Err(nb::Error::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
                _ => break,
            }
        }
    }
}

impl AsFd for AfPacketDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl LinkDevice for AfPacketDevice {
    type Error = Error;

    fn mac_address(&self) -> EthernetAddress {
        self.interface.mac
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mtu: self.interface.mtu }
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Error> {
        loop {
            if self.rx.next < self.rx.count {
                let i = self.rx.next;
                self.rx.next += 1;
                // Skip the socket's own transmissions, which kernels without
                // PACKET_IGNORE_OUTGOING still loop back.
                if self.rx.outgoing[i] {
                    continue;
                }
                // The length on the wire (MSG_TRUNC): a frame longer than
                // the caller's buffer is reported as such.
                let frame = self.rx.slot(i);
                let stored = frame.len().min(buffer.len());
                buffer[..stored].copy_from_slice(&frame[..stored]);
                return Ok(self.rx.lens[i]);
            }
            if core::mem::take(&mut self.rx.drained) {
                return Err(nb::Error::WouldBlock);
            }
            self.fill_rx(false)?;
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > self.max_frame_len() {
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len(), max: self.max_frame_len() }));
        }
        if self.tx.count == sys::BATCH_MAX {
            self.flush()?;
        }
        let i = self.tx.count;
        let slot_len = self.tx.slot_len;
        self.tx.buffer[i * slot_len..][..frame.len()].copy_from_slice(frame);
        self.tx.lens[i] = frame.len();
        self.tx.count += 1;
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), Error> {
        if self.tx.count == 0 {
            return self.send_waiting();
        }
        let Self { fd, xdp, interface, link_down, tx_full, tx, .. } = self;
        let sent = Self::send(fd.as_fd(), xdp, interface, link_down, tx_full, tx.count, |i| tx.slot(i))?;
        let left = self.tx.count - sent;
        if left > 0 {
            // The kernel took a prefix: the rest moves to the front and
            // waits for room.
            let slot_len = self.tx.slot_len;
            self.tx.buffer.copy_within(sent * slot_len..self.tx.count * slot_len, 0);
            self.tx.lens.copy_within(sent..self.tx.count, 0);
            self.tx.count = left;
            self.tx_full.set(Some(TxFull::Queue));
            return Err(nb::Error::WouldBlock);
        }
        self.tx.count = 0;
        match self.tx_full.get() {
            // All taken, but the driver has not had all yet (AF_XDP).
            Some(_) => Err(nb::Error::WouldBlock),
            None => Ok(()),
        }
    }
}
