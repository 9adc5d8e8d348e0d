//! IPv4 beside whohas on the one LAN9118: smoltcp as a service of the
//! node. The node hands it the frames of its ethertypes, IPv4 and ARP, so
//! frames are split by ethertype in one place (the node's dispatch) and
//! ARP has one owner: the node has no IPv4 address and never answers ARP;
//! smoltcp does. smoltcp answers ping itself; a UDP socket echoes what
//! comes to port 7.
//!
//! smoltcp drops a packet with a bad checksum without a word, so the
//! service checks IPv4 headers and ICMP checksums first and counts what
//! it drops: every malformed frame is counted by reason.

use core::convert::Infallible;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::udp;
use smoltcp::wire::{
    EthernetAddress as SmolMac, HardwareAddress, Icmpv4Packet, IpCidr, IpProtocol, Ipv4Cidr, Ipv4Packet,
};
use whohas_core::device::{LinkDevice, TransmitError};
use whohas_core::nb;
use whohas_core::service::Service;
use whohas_core::station::Station;
use whohas_core::time::Instant;
use whohas_core::wire::ethernet::{HEADER_LEN, MAX_FRAME_LEN};
use whohas_core::wire::{EtherType, EthernetAddress, EthernetRepr};

/// The UDP echo port (RFC 862).
const ECHO_PORT: u16 = 7;
/// The address unless `WHOHAS_STATION_IPV4` (`a.b.c.d/len`) was set at
/// build time.
const DEFAULT_ADDRESS: &str = "198.18.7.2/24";
/// Bytes of UDP datagrams held each way.
const UDP_BUFFER: usize = 1536;
/// Datagrams held each way.
const UDP_PACKETS: usize = 4;

/// The stack's storage, sized here and nowhere else (as embassy's
/// `StackResources`): one socket, the UDP echo.
pub struct IpResources<'a> {
    sockets: [SocketStorage<'a>; 1],
    rx_meta: [udp::PacketMetadata; UDP_PACKETS],
    rx_data: [u8; UDP_BUFFER],
    tx_meta: [udp::PacketMetadata; UDP_PACKETS],
    tx_data: [u8; UDP_BUFFER],
}

impl IpResources<'_> {
    /// Empty storage.
    pub const fn new() -> Self {
        IpResources {
            sockets: [SocketStorage::EMPTY],
            rx_meta: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            rx_data: [0; UDP_BUFFER],
            tx_meta: [udp::PacketMetadata::EMPTY; UDP_PACKETS],
            tx_data: [0; UDP_BUFFER],
        }
    }
}

/// What the stack counted.
#[derive(Default, Clone, Copy, defmt::Format)]
pub struct IpStats {
    /// ARP frames handed to smoltcp.
    pub rx_arp: u64,
    /// IPv4 packets handed to smoltcp.
    pub rx_ipv4: u64,
    /// IPv4 packets dropped: too short, a bad header checksum or length.
    pub rx_ipv4_malformed: u64,
    /// ICMP messages dropped for a bad checksum.
    pub rx_icmp_bad_checksum: u64,
    /// UDP datagrams echoed.
    pub udp_echoed: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Frames smoltcp sent that the NIC had no room for.
    pub tx_dropped: u64,
}

/// smoltcp's interface and sockets, hosted by the node as a [`Service`].
pub struct IpStack<'a> {
    iface: Interface,
    sockets: SocketSet<'a>,
    echo: SocketHandle,
    next_poll: Option<Instant>,
    stats: IpStats,
}

/// The address the image was built with; `None` if it does not parse.
pub fn configured_address() -> Option<Ipv4Cidr> {
    option_env!("WHOHAS_STATION_IPV4").unwrap_or(DEFAULT_ADDRESS).parse().ok()
}

impl<'a> IpStack<'a> {
    /// The stack at `address` on the NIC whose MAC is `mac`, its socket in
    /// `resources`; `seed` seeds its ports and sequence numbers.
    pub fn new(mac: EthernetAddress, address: Ipv4Cidr, seed: u64, resources: &'a mut IpResources<'a>) -> Self {
        let mut config = Config::new(HardwareAddress::Ethernet(SmolMac(mac.0)));
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut Port::<crate::Nic>::idle(), smol_now(Instant::ZERO));
        iface.update_ip_addrs(|addresses| {
            // One address and room for one: it always fits.
            let _ = addresses.push(IpCidr::Ipv4(address));
        });
        let IpResources { sockets, rx_meta, rx_data, tx_meta, tx_data } = resources;
        let mut sockets = SocketSet::new(&mut sockets[..]);
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(&mut rx_meta[..], &mut rx_data[..]),
            udp::PacketBuffer::new(&mut tx_meta[..], &mut tx_data[..]),
        );
        // A fresh socket binds: only port 0 is refused.
        let _ = socket.bind(ECHO_PORT);
        let echo = sockets.add(socket);
        IpStack { iface, sockets, echo, next_poll: Some(Instant::ZERO), stats: IpStats::default() }
    }

    /// The counters.
    pub fn stats(&self) -> &IpStats {
        &self.stats
    }

    /// Whether smoltcp should see `frame`: a well-formed IPv4 packet whose
    /// ICMP message (if it is one) has a good checksum. Counts the rest.
    fn check_ipv4(&mut self, payload: &[u8]) -> bool {
        let Ok(packet) = Ipv4Packet::new_checked(payload) else {
            self.stats.rx_ipv4_malformed += 1;
            return false;
        };
        if !packet.verify_checksum() {
            self.stats.rx_ipv4_malformed += 1;
            return false;
        }
        let icmp_ok = packet.next_header() != IpProtocol::Icmp
            || Icmpv4Packet::new_checked(packet.payload()).is_ok_and(|icmp| icmp.verify_checksum());
        if !icmp_ok {
            self.stats.rx_icmp_bad_checksum += 1;
        }
        icmp_ok
    }

    /// Queues every datagram waiting at the echo port back to its sender;
    /// how many.
    fn echo_datagrams(&mut self) -> u64 {
        let socket = self.sockets.get_mut::<udp::Socket>(self.echo);
        if !socket.can_recv() {
            return 0;
        }
        let mut echoed = 0;
        let mut datagram = [0u8; UDP_BUFFER];
        while let Ok((len, meta)) = socket.recv_slice(&mut datagram) {
            if socket.send_slice(&datagram[..len], meta.endpoint).is_ok() {
                echoed += 1;
            }
        }
        self.stats.udp_echoed += echoed;
        echoed
    }

    /// Lets smoltcp take `frame` (if any), answer, echo UDP and run its
    /// timers.
    fn run<D: LinkDevice>(&mut self, station: &mut Station<'_, D>, frame: Option<&[u8]>) -> Result<(), D::Error> {
        let now = smol_now(station.now());
        let mut port = Port { station: Some(station), frame, sent: 0, dropped: 0, fault: None };
        self.iface.poll(now, &mut port, &mut self.sockets);
        // A second poll only to send what the echo queued.
        if self.echo_datagrams() > 0 {
            self.iface.poll(now, &mut port, &mut self.sockets);
        }
        self.stats.tx_frames += port.sent;
        self.stats.tx_dropped += port.dropped;
        self.next_poll =
            self.iface.poll_at(now, &self.sockets).map(|at| Instant::from_millis(at.total_millis() as u64));
        port.fault.map_or(Ok(()), Err)
    }
}

impl Service for IpStack<'_> {
    type Event<'s> = Infallible;

    fn accepts(&self, ethertype: EtherType) -> bool {
        matches!(ethertype, EtherType::IPV4 | EtherType::ARP)
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        let payload = &frame[HEADER_LEN..];
        if header.ethertype == EtherType::ARP {
            self.stats.rx_arp += 1;
        } else if self.check_ipv4(payload) {
            self.stats.rx_ipv4 += 1;
        } else {
            return Ok(());
        }
        self.run(station, Some(frame))
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        if self.next_poll.is_some_and(|at| at <= station.now()) {
            self.run(station, None)?;
        }
        Ok(())
    }

    fn poll_at(&self) -> Option<Instant> {
        self.next_poll
    }

    fn has_event(&self) -> bool {
        false
    }

    fn next_event(&mut self, _: &mut [u8]) -> Option<Infallible> {
        None
    }
}

fn smol_now(now: Instant) -> smoltcp::time::Instant {
    smoltcp::time::Instant::from_millis(now.total_millis() as i64)
}

/// smoltcp's view of the node for one poll: at most the one frame the node
/// is handing over, and a way out through the node's station (which pads,
/// counts and flushes like every frame the node sends).
struct Port<'p, 's, D: LinkDevice> {
    station: Option<&'p mut Station<'s, D>>,
    frame: Option<&'p [u8]>,
    sent: u64,
    dropped: u64,
    fault: Option<D::Error>,
}

impl<D: LinkDevice> Port<'_, '_, D> {
    fn idle() -> Self {
        Port { station: None, frame: None, sent: 0, dropped: 0, fault: None }
    }
}

impl<'p, 's, D: LinkDevice> phy::Device for Port<'p, 's, D> {
    type RxToken<'t>
        = Rx<'t>
    where
        Self: 't;
    type TxToken<'t>
        = Tx<'t, 'p, 's, D>
    where
        Self: 't;

    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(Rx<'_>, Tx<'_, 'p, 's, D>)> {
        let frame = self.frame.take()?;
        Some((Rx(frame), Tx(self)))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Tx<'_, 'p, 's, D>> {
        self.station.is_some().then_some(Tx(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME_LEN;
        caps
    }
}

struct Rx<'t>(&'t [u8]);

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

struct Tx<'t, 'p, 's, D: LinkDevice>(&'t mut Port<'p, 's, D>);

impl<D: LinkDevice> phy::TxToken for Tx<'_, '_, '_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = [0u8; MAX_FRAME_LEN];
        let len = len.min(frame.len());
        let result = f(&mut frame[..len]);
        let port = self.0;
        let (Some(station), Some(dst)) = (port.station.as_deref_mut(), EthernetAddress::from_bytes(&frame[..6])) else {
            return result;
        };
        let ethertype = EtherType(u16::from_be_bytes([frame[12], frame[13]]));
        let payload = &frame[HEADER_LEN..len.max(HEADER_LEN)];
        match station.transmit(dst, ethertype, payload.len(), |out| out.copy_from_slice(payload)) {
            Ok(()) => port.sent += 1,
            Err(nb::Error::Other(TransmitError::Device(err))) => port.fault = Some(err),
            Err(_) => port.dropped += 1,
        }
        result
    }
}
