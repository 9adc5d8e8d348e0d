//! The AF_PACKET device.

use std::cell::Cell;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, LinkAddr, MsgFlags, SockFlag, SockType};
use whohas_core::EthernetAddress;
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::wire::EtherType;
use whohas_core::wire::ethernet::HEADER_LEN;

use crate::interface::{self, Interface};
use crate::{Error, filter, sys};

/// How to open an [`AfPacketDevice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Ethertypes the kernel passes up; everything else is dropped in the
    /// kernel by a BPF filter. `None`: every frame; an empty list: none (a
    /// transmit-only socket).
    pub ethertypes: Option<Vec<EtherType>>,
    /// Send straight to the driver, bypassing the kernel's qdisc
    /// (`PACKET_QDISC_BYPASS`): faster injection, no traffic control.
    pub bypass_qdisc: bool,
    /// Refuse interfaces whose MTU is below this.
    pub min_mtu: usize,
}

impl Default for Options {
    /// The ethertypes whohas speaks (name-ARP, data, ARP), qdisc kept, any MTU.
    fn default() -> Self {
        Options { ethertypes: Some(EtherType::WHOHAS.to_vec()), bypass_qdisc: false, min_mtu: 0 }
    }
}

/// A raw AF_PACKET socket bound to one Ethernet interface.
///
/// Receives every frame addressed to the station (unicast to its MAC,
/// broadcast, multicast it listens to, and in promiscuous mode frames for
/// other stations, which the node ignores) except the socket's own
/// transmissions, which the kernel keeps back (`PACKET_IGNORE_OUTGOING`, and
/// a `PACKET_OUTGOING` check for kernels older than 4.20). The socket is
/// non-blocking; wait for frames by polling its descriptor ([`AsFd`]).
#[derive(Debug)]
pub struct AfPacketDevice {
    fd: OwnedFd,
    interface: Interface,
    /// Why the last transmission was refused, until one succeeds (a cell,
    /// so sending through `&self` can note it).
    tx_full: Cell<Option<TxFull>>,
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

fn open_error(interface: &str, context: &'static str, errno: Errno) -> Error {
    match errno {
        Errno::EPERM | Errno::EACCES => Error::PermissionDenied { interface: interface.to_owned() },
        Errno::ENETDOWN => Error::InterfaceDown { name: interface.to_owned() },
        Errno::ENODEV | Errno::ENXIO => Error::NoSuchInterface { name: interface.to_owned(), available: Vec::new() },
        errno => Error::io(context, errno),
    }
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
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
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
        let address = sys::link_addr(info.index, libc::ETH_P_ALL as u16)
            .map_err(|errno| Error::io("building the interface address", errno))?;
        socket::bind(fd.as_raw_fd(), &address)
            .map_err(|errno| open_error(interface, "binding the socket to the interface", errno))?;
        log::debug!("opened AF_PACKET socket on {} ({}, MTU {})", info.name, info.mac, info.mtu);
        Ok(AfPacketDevice { fd, interface: info, tx_full: Cell::new(None) })
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
        match self.send_call("sending frames (sendmmsg)", || sys::send_batch(self.fd.as_fd(), frames)) {
            Ok(sent) => Ok(sent),
            Err(nb::Error::WouldBlock) => Ok(0),
            Err(nb::Error::Other(err)) => Err(err),
        }
    }

    /// Why the last transmission was refused, if the latest one was.
    pub(crate) fn tx_full(&self) -> Option<TxFull> {
        self.tx_full.get()
    }

    /// Runs a send call, noting whether (and why) the kernel had no room.
    fn send_call<T>(&self, context: &'static str, call: impl FnMut() -> Result<T, Errno>) -> nb::Result<T, Error> {
        let mut refusal = None;
        let result = self.socket_call(context, call, &mut refusal);
        self.tx_full.set(refusal);
        result
    }

    /// Runs a socket call again while a signal interrupts it, and maps its
    /// failures: an empty receive queue or a full transmit queue is
    /// `WouldBlock` (noting which in `refusal`), a vanished or downed
    /// interface is `InterfaceDown`.
    fn socket_call<T>(
        &self,
        context: &'static str,
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
                Err(Errno::ENETDOWN | Errno::ENXIO) => {
                    Err(nb::Error::Other(Error::InterfaceDown { name: self.interface.name.clone() }))
                }
                Err(errno) => Err(nb::Error::Other(Error::io(context, errno))),
            };
        }
    }

    fn max_frame_len(&self) -> usize {
        self.interface.mtu + HEADER_LEN
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
        let fd = self.fd.as_raw_fd();
        loop {
            let (len, from) = self.socket_call(
                "receiving a frame",
                || {
                    // MSG_TRUNC makes the kernel report the frame's full length
                    // even when it did not fit, as the LinkDevice contract asks.
                    let mut iov = [IoSliceMut::new(buffer)];
                    socket::recvmsg::<LinkAddr>(fd, &mut iov, None, MsgFlags::MSG_TRUNC)
                        .map(|message| (message.bytes, message.address))
                },
                &mut None,
            )?;
            // Skip the socket's own transmissions, which kernels without
            // PACKET_IGNORE_OUTGOING still loop back.
            if from.is_none_or(|from| from.pkttype() != libc::PACKET_OUTGOING) {
                return Ok(len);
            }
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > self.max_frame_len() {
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len(), max: self.max_frame_len() }));
        }
        self.send_call("sending a frame", || socket::send(self.fd.as_raw_fd(), frame, MsgFlags::empty())).map(drop)
    }
}
