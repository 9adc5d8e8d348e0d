//! Live capture and injection on an interface through libpcap.

use std::os::fd::{AsFd, BorrowedFd};

use pcap::{Active, Capture, Device, Direction, Linktype};
use std::time::Duration;

use whohas_link::{Capabilities, EtherType, EthernetAddress, HEADER_LEN, LinkDevice, MAX_PAYLOAD_LEN, Wait};

use crate::Error;
use crate::reader::linktype_name;

/// How to open a [`LiveDevice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// Ethertypes captured; everything else is dropped in the kernel by the
    /// filter libpcap compiles. `None`: every frame.
    pub ethertypes: Option<Vec<EtherType>>,
    /// The station's MAC address; `None` reads the interface's own.
    pub mac: Option<EthernetAddress>,
    /// Put the interface in promiscuous mode.
    pub promiscuous: bool,
}

impl Default for LiveOptions {
    /// The frames whohas speaks ([`EtherType::WHOHAS`]), own MAC, no
    /// promiscuity.
    fn default() -> Self {
        LiveOptions { ethertypes: Some(EtherType::WHOHAS.to_vec()), mac: None, promiscuous: false }
    }
}

/// A capture filter in tcpdump syntax that passes exactly `ethertypes`.
pub fn ethertype_filter(ethertypes: &[EtherType]) -> String {
    if ethertypes.is_empty() {
        // No frame is this short: a transmit-only handle. (libpcap refuses
        // a filter it can prove matches nothing, so it cannot say so.)
        return "less 1".to_owned();
    }
    let terms: Vec<String> = ethertypes.iter().map(|ethertype| format!("ether proto 0x{:04x}", ethertype.0)).collect();
    terms.join(" or ")
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
    truncated: u64,
    /// The last frame was refused for want of room, until one is taken.
    tx_refused: bool,
}

/// How long a device whose frames are refused sleeps before trying again:
/// libpcap's socket reports itself writable even then.
const REFUSED_BACKOFF: Duration = Duration::from_millis(1);

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
        if let Some(ethertypes) = &options.ethertypes {
            capture
                .filter(&ethertype_filter(ethertypes), true)
                .map_err(|source| Error::Pcap { context: "compiling the filter", source })?;
        }
        let mac = options
            .mac
            .or_else(|| sysfs(interface, "address")?.parse().ok())
            .ok_or_else(|| Error::UnknownMac { interface: interface.to_owned() })?;
        let mtu = sysfs(interface, "mtu").and_then(|mtu| mtu.parse().ok()).unwrap_or(MAX_PAYLOAD_LEN);
        Ok(LiveDevice { capture, interface: interface.to_owned(), mac, mtu, truncated: 0, tx_refused: false })
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Frames libpcap captured only in part, dropped.
    pub fn truncated(&self) -> u64 {
        self.truncated
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
        loop {
            let packet = match self.capture.next_packet() {
                Ok(packet) => packet,
                Err(pcap::Error::TimeoutExpired) => return Err(nb::Error::WouldBlock),
                // libpcap's words for ENODEV: the interface was deleted. (An
                // interface that goes down and up again is waited out by
                // libpcap itself.)
                Err(pcap::Error::PcapError(reason)) if reason.contains("interface disappeared") => {
                    return Err(nb::Error::Other(Error::InterfaceGone { name: self.interface.clone() }));
                }
                Err(source) => return Err(nb::Error::Other(Error::Pcap { context: "capturing a frame", source })),
            };
            if packet.data.len() < packet.header.len as usize {
                // Captured in part (beyond the snap length): never a frame.
                self.truncated += 1;
                continue;
            }
            let stored = packet.data.len().min(buffer.len());
            buffer[..stored].copy_from_slice(&packet.data[..stored]);
            return Ok(packet.data.len());
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > self.mtu + HEADER_LEN {
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len(), max: self.mtu + HEADER_LEN }));
        }
        let sent = match self.capture.sendpacket(frame) {
            Ok(()) => Ok(()),
            // The kernel's transmit queue is full: try again later.
            Err(pcap::Error::PcapError(reason))
                if reason.contains("No buffer space") || reason.contains("temporarily unavailable") =>
            {
                Err(nb::Error::WouldBlock)
            }
            Err(source) => Err(nb::Error::Other(Error::Pcap { context: "injecting a frame", source })),
        };
        self.tx_refused = matches!(sent, Err(nb::Error::WouldBlock));
        sent
    }
}

impl Wait for LiveDevice {
    /// Sleeps until a frame may be captured, `timeout` passes, or at most
    /// [`LINK_RECHECK`](whohas_hal_linux::LINK_RECHECK): libpcap keeps an
    /// interface that went down to itself, so nothing wakes the descriptor
    /// when it is then deleted. After each wake the interface must still
    /// exist, else [`Error::InterfaceGone`].
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), Error> {
        let most = match writable && self.tx_refused {
            true => REFUSED_BACKOFF,
            false => whohas_hal_linux::LINK_RECHECK,
        };
        let timeout = timeout.map_or(most, |timeout| timeout.min(most));
        whohas_hal_linux::wait_ready(self.as_fd(), false, Some(timeout))
            .map_err(|source| Error::Io { context: "waiting for frames (poll)", source })?;
        match sysfs(&self.interface, "ifindex") {
            Some(_) => Ok(()),
            None => Err(Error::InterfaceGone { name: self.interface.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_built_from_the_ethertype_list() {
        assert_eq!(
            ethertype_filter(&EtherType::WHOHAS),
            "ether proto 0xfffe or ether proto 0xfffd or ether proto 0x0806 or ether proto 0x88b5 or ether proto 0x88b6 or ether proto 0xfffc"
        );
        assert_eq!(ethertype_filter(&[]), "less 1");
    }
}
