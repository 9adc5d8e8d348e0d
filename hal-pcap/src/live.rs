//! Live capture and injection on an interface through libpcap.

use std::os::fd::{AsFd, BorrowedFd};

use pcap::{Active, Capture, Device, Direction, Linktype};
use whohas_core::EthernetAddress;
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::wire::ethernet::{HEADER_LEN, MAX_PAYLOAD_LEN};

use crate::Error;
use crate::reader::linktype_name;

/// How to open a [`LiveDevice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// A BPF filter in tcpdump syntax; `None` captures everything.
    pub filter: Option<String>,
    /// The station's MAC address; `None` reads the interface's own.
    pub mac: Option<EthernetAddress>,
    /// Put the interface in promiscuous mode.
    pub promiscuous: bool,
}

impl Default for LiveOptions {
    /// The frames whohas speaks (name-ARP, data, ARP), own MAC, no promiscuity.
    fn default() -> Self {
        LiveOptions {
            filter: Some("ether proto 0xfffe or ether proto 0xfffd or arp".to_owned()),
            mac: None,
            promiscuous: false,
        }
    }
}

/// A libpcap handle on an interface: non-blocking, immediate mode (frames
/// are delivered as they arrive, not batched), incoming frames only, and
/// frames injected with `pcap_sendpacket`. Wait for frames by polling its
/// descriptor ([`AsFd`]).
pub struct LiveDevice {
    capture: Capture<Active>,
    interface: String,
    mac: EthernetAddress,
    mtu: usize,
}

fn sysfs(interface: &str, attribute: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/net/{interface}/{attribute}")).ok().map(|s| s.trim().to_owned())
}

fn open_error(interface: &str, source: pcap::Error) -> Error {
    let reason = source.to_string();
    if reason.contains("ermission") || reason.contains("not permitted") {
        Error::PermissionDenied { interface: interface.to_owned() }
    } else if reason.contains("No such device") || reason.contains("doesn't exist") {
        let available = Device::list().map(|list| list.into_iter().map(|d| d.name).collect()).unwrap_or_default();
        Error::NoSuchInterface { name: interface.to_owned(), available }
    } else {
        Error::Pcap { context: "opening a live capture", source }
    }
}

impl LiveDevice {
    /// Opens `interface` for capture and injection.
    pub fn open(interface: &str, options: &LiveOptions) -> Result<Self, Error> {
        let capture = Capture::from_device(interface)
            .and_then(|inactive| {
                inactive.immediate_mode(true).promisc(options.promiscuous).snaplen(65_535).timeout(1).open()
            })
            .map_err(|err| open_error(interface, err))?;
        let mut capture = capture.setnonblock().map_err(|source| Error::Pcap { context: "setnonblock", source })?;
        let linktype = capture.get_datalink();
        if linktype != Linktype::ETHERNET {
            return Err(Error::NotEthernet { source: interface.to_owned(), linktype: linktype_name(linktype) });
        }
        // Our own injected frames are not "received".
        capture.direction(Direction::In).map_err(|source| Error::Pcap { context: "setting direction", source })?;
        if let Some(filter) = &options.filter {
            capture.filter(filter, true).map_err(|source| Error::Pcap { context: "compiling the filter", source })?;
        }
        let mac = options
            .mac
            .or_else(|| sysfs(interface, "address")?.parse().ok())
            .ok_or_else(|| Error::UnknownMac { interface: interface.to_owned() })?;
        let mtu = sysfs(interface, "mtu").and_then(|mtu| mtu.parse().ok()).unwrap_or(MAX_PAYLOAD_LEN);
        Ok(LiveDevice { capture, interface: interface.to_owned(), mac, mtu })
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// libpcap's receive statistics (received, dropped by the kernel, dropped
    /// by the interface).
    pub fn stats(&mut self) -> Result<pcap::Stat, Error> {
        self.capture.stats().map_err(|source| Error::Pcap { context: "reading capture statistics", source })
    }
}

impl AsFd for LiveDevice {
    /// The selectable descriptor: readable when a frame may be captured.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.capture.as_fd()
    }
}

impl LinkDevice for LiveDevice {
    type Error = Error;

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mtu: self.mtu }
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Error> {
        match self.capture.next_packet() {
            Ok(packet) => {
                let stored = packet.data.len().min(buffer.len());
                buffer[..stored].copy_from_slice(&packet.data[..stored]);
                Ok((packet.header.len as usize).max(packet.data.len()))
            }
            Err(pcap::Error::TimeoutExpired) => Err(nb::Error::WouldBlock),
            Err(source) => Err(nb::Error::Other(Error::Pcap { context: "capturing a frame", source })),
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > self.mtu + HEADER_LEN {
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len(), max: self.mtu + HEADER_LEN }));
        }
        match self.capture.sendpacket(frame) {
            Ok(()) => Ok(()),
            // The kernel's transmit queue is full: try again later.
            Err(pcap::Error::PcapError(reason))
                if reason.contains("No buffer space") || reason.contains("temporarily unavailable") =>
            {
                Err(nb::Error::WouldBlock)
            }
            Err(source) => Err(nb::Error::Other(Error::Pcap { context: "injecting a frame", source })),
        }
    }
}
