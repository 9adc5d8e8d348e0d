//! A capture decoder that speaks tshark's summary language.
//!
//! [`Decoder::summarize`] gives one line per frame with tshark's columns
//! (number, relative time, source, destination, protocol, length, info) for
//! Ethernet II, ARP, IPv4, IPv6, ICMP, ICMPv6 (echo, neighbour discovery,
//! MLD), UDP, TCP and whohas' own name-ARP, data, transfer and presence
//! frames. The Protocol and
//! Info columns are written to match `tshark -r` (with
//! `tools/wireshark/whohas.lua` loaded for whohas' own ethertypes); the
//! decode tests compare them on every frame. Application protocols above
//! UDP/TCP are not decoded. [`detail`] is a `tshark -V`-style view of one
//! frame with a hex dump.
//!
//! IP, UDP and TCP headers are parsed by `etherparse`; ARP and whohas'
//! protocols by the core's own codecs.

mod presence;
mod tcp;
mod transfer;

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::net::IpAddr;

use etherparse::icmpv4::TimeExceededCode;
use etherparse::icmpv6::{Icmpv6PayloadSlice, NdpOptionSlice, NdpOptionsIterator};
use etherparse::{
    Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, IpNumber, Ipv4Slice, Ipv6Slice, TcpSlice, UdpSlice,
};
use whohas_core::Duration;
use whohas_core::auth::{KeyRing, is_signed};
use whohas_core::wire::auth::Handshake;
use whohas_core::wire::{
    self, ArpOperation, ArpPacket, ArpRepr, Escaped, EtherType, EthernetAddress, EthernetFrame, NameArpPacket,
    NameArpRepr,
};

use crate::pcap::Frame;

/// Bytes of a data message shown in the Info column.
const PREVIEW: usize = 48;

/// One line of a capture summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Frame number, from 1.
    pub number: u64,
    /// Time since the first frame (in JSON: seconds).
    #[serde(serialize_with = "seconds")]
    pub time: Duration,
    /// Network-layer source when there is one, else the MAC address.
    pub source: String,
    /// Network-layer destination when there is one, else the MAC address.
    pub destination: String,
    /// The highest protocol decoded, as tshark names it.
    pub protocol: String,
    /// Frame length on the wire.
    pub length: usize,
    /// What the frame says.
    pub info: String,
}

fn seconds<S: serde::Serializer>(time: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(time.total_micros() as f64 / 1e6)
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.time.total_micros();
        write!(
            f,
            "{:>5} {:>4}.{:06} {} → {} {} {} {}",
            self.number,
            micros / 1_000_000,
            micros % 1_000_000,
            self.source,
            self.destination,
            self.protocol,
            self.length,
            self.info
        )
    }
}

/// Decodes frames in capture order, keeping the state tshark keeps between
/// frames (TCP conversations, ICMP echo requests awaiting replies).
#[derive(Default)]
pub struct Decoder {
    first: Option<std::time::Duration>,
    number: u64,
    /// (requester, responder, protocol, id, seq) → frame of the request.
    echo_requests: HashMap<(IpAddr, IpAddr, u8, u16, u16), u64>,
    tcp: tcp::Tracker,
    /// Keyed mode's key: whohas frames are checked and shown without their
    /// trailer.
    keys: Option<KeyRing>,
    /// Bytes of FCS the capture kept after each frame (removed by the
    /// reader, counted in the Length column).
    fcs_len: usize,
}

/// A MAC address as `tshark -n` shows it: whohas has no vendor database,
/// so no name is resolved (not even "Broadcast").
fn mac_column(addr: EthernetAddress) -> String {
    addr.to_string()
}

struct Layer {
    source: Option<String>,
    destination: Option<String>,
    protocol: String,
    info: String,
}

impl Layer {
    fn link(protocol: impl Into<String>, info: impl Into<String>) -> Layer {
        Layer { source: None, destination: None, protocol: protocol.into(), info: info.into() }
    }
}

impl Decoder {
    /// A decoder at the start of a capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder for a capture of keyed stations: each whohas frame's
    /// trailer is checked with `keys` (either key of a rotation), noted in
    /// the Info column, and left out of the decoding (length stays the
    /// frame's).
    pub fn with_keys(keys: KeyRing) -> Self {
        Decoder { keys: Some(keys), ..Self::default() }
    }

    /// Frames came with an FCS of `len` bytes, which the reader removed:
    /// the Length column counts it, as tshark's does.
    pub fn with_fcs_len(self, len: usize) -> Self {
        Decoder { fcs_len: len, ..self }
    }

    /// The summary line of the next frame.
    pub fn summarize(&mut self, frame: &Frame<'_>) -> Summary {
        self.number += 1;
        let first = *self.first.get_or_insert(frame.timestamp);
        let length = frame.original_len.max(frame.data.len());
        let Ok(eth) = EthernetFrame::new_checked(frame.data) else {
            return Summary {
                number: self.number,
                time: (frame.timestamp - first).into(),
                source: String::new(),
                destination: String::new(),
                protocol: "Ethernet".to_owned(),
                length: length + self.fcs_len,
                info: "[Malformed Packet]".to_owned(),
            };
        };
        let layer = match &self.keys {
            Some(keys) if is_signed(eth.ethertype()) => match keys.check(frame.data) {
                Some((inner_len, repr, _)) => {
                    let inner = EthernetFrame::new_unchecked(&frame.data[..inner_len]);
                    let mut layer = self.layer(&inner, inner_len);
                    let _ = write!(layer.info, " [keyed {:08x}#{}", repr.stamp.epoch, repr.stamp.counter);
                    if repr.echo.epoch != 0 {
                        let _ = write!(layer.info, ", answers {:08x}#{}", repr.echo.epoch, repr.echo.counter);
                    }
                    layer.info.push(']');
                    layer
                }
                None => {
                    let mut layer = self.layer(&eth, length);
                    layer.info = "[keyed: no valid tag]".to_owned();
                    layer
                }
            },
            _ => self.layer(&eth, length),
        };
        Summary {
            number: self.number,
            time: (frame.timestamp - first).into(),
            source: layer.source.unwrap_or_else(|| mac_column(eth.src_addr())),
            destination: layer.destination.unwrap_or_else(|| mac_column(eth.dst_addr())),
            protocol: layer.protocol,
            length: length + self.fcs_len,
            info: layer.info,
        }
    }

    fn layer(&mut self, eth: &EthernetFrame<&[u8]>, length: usize) -> Layer {
        let payload = eth.payload();
        match eth.ethertype() {
            EtherType::ARP => arp(payload),
            EtherType::NAME_ARP => name_arp(payload),
            EtherType::DATA => {
                let message = wire::data::message(length, payload);
                let mut info = format!("Message ({} bytes)", message.len());
                if !message.is_empty() {
                    let _ = write!(info, ": {}", Escaped::preview(message, PREVIEW));
                }
                Layer::link("NAME-DATA", info)
            }
            EtherType::TRANSFER => Layer::link("NAME-XFER", transfer::info(eth.dst_addr(), eth.src_addr(), payload)),
            EtherType::PRESENCE => Layer::link("NAME-PRES", presence::info(payload)),
            EtherType::KEYED => Layer::link("NAME-KEYED", handshake(payload)),
            EtherType::IPV4 => self.ipv4(payload),
            EtherType::IPV6 => self.ipv6(payload),
            EtherType(other) => Layer::link(format!("0x{other:04x}"), "Ethernet II"),
        }
    }

    fn ipv4(&mut self, payload: &[u8]) -> Layer {
        match Ipv4Slice::from_slice(payload) {
            Ok(ip) => {
                let header = ip.header();
                let (src, dst) = (header.source_addr().into(), header.destination_addr().into());
                self.ip(src, dst, header.ttl(), ip.payload().ip_number, ip.payload().payload, "IPv4")
            }
            Err(_) => Layer::link("IPv4", "[Malformed Packet]"),
        }
    }

    fn ipv6(&mut self, payload: &[u8]) -> Layer {
        match Ipv6Slice::from_slice(payload) {
            Ok(ip) => {
                let header = ip.header();
                let (src, dst) = (header.source_addr().into(), header.destination_addr().into());
                self.ip(src, dst, header.hop_limit(), ip.payload().ip_number, ip.payload().payload, "IPv6")
            }
            Err(_) => Layer::link("IPv6", "[Malformed Packet]"),
        }
    }

    /// The layer above IP, with the IP addresses as source and destination.
    fn ip(&mut self, src: IpAddr, dst: IpAddr, hop_limit: u8, number: IpNumber, body: &[u8], family: &str) -> Layer {
        let mut layer = match number {
            IpNumber::ICMP => self.icmpv4(src, dst, hop_limit, body),
            IpNumber::IPV6_ICMP => self.icmpv6(src, dst, hop_limit, body),
            number => self.transport(src, dst, number, body, family),
        };
        layer.source = Some(src.to_string());
        layer.destination = Some(dst.to_string());
        layer
    }

    fn transport(&mut self, src: IpAddr, dst: IpAddr, number: IpNumber, body: &[u8], ip: &str) -> Layer {
        match number {
            IpNumber::UDP => match UdpSlice::from_slice(body) {
                Ok(udp) => Layer::link(
                    "UDP",
                    format!(
                        "{} → {} Len={}",
                        udp.source_port(),
                        udp.destination_port(),
                        usize::from(udp.length()).saturating_sub(8)
                    ),
                ),
                Err(_) => Layer::link("UDP", "[Malformed Packet]"),
            },
            IpNumber::TCP => match TcpSlice::from_slice(body) {
                Ok(tcp) => Layer::link("TCP", self.tcp.info(self.number, src, dst, &tcp)),
                Err(_) => Layer::link("TCP", "[Malformed Packet]"),
            },
            other => Layer::link(ip, format!("Unknown ({})", other.0)),
        }
    }

    /// The Info suffix of an echo reply that answers an earlier request.
    fn echo(&mut self, src: IpAddr, dst: IpAddr, protocol: u8, request: bool, id: u16, seq: u16) -> String {
        if request {
            self.echo_requests.insert((src, dst, protocol, id, seq), self.number);
            String::new()
        } else {
            match self.echo_requests.get(&(dst, src, protocol, id, seq)) {
                Some(number) => format!(" (request in {number})"),
                None => String::new(),
            }
        }
    }

    fn icmpv4(&mut self, src: IpAddr, dst: IpAddr, ttl: u8, body: &[u8]) -> Layer {
        let Ok(icmp) = Icmpv4Slice::from_slice(body) else { return Layer::link("ICMP", "[Malformed Packet]") };
        let info = match icmp.icmp_type() {
            kind @ (Icmpv4Type::EchoRequest(echo) | Icmpv4Type::EchoReply(echo)) => {
                let request = matches!(kind, Icmpv4Type::EchoRequest(_));
                let suffix = self.echo(src, dst, 1, request, echo.id, echo.seq);
                format!(
                    "Echo (ping) {}id=0x{:04x}, seq={}/{}, ttl={ttl}{suffix}",
                    if request { "request  " } else { "reply    " },
                    echo.id,
                    echo.seq,
                    echo.seq.swap_bytes()
                )
            }
            Icmpv4Type::DestinationUnreachable(_) => {
                format!("Destination unreachable ({})", unreachable_v4(icmp.code_u8()))
            }
            Icmpv4Type::TimeExceeded(TimeExceededCode::TtlExceededInTransit) => {
                "Time-to-live exceeded (Time to live exceeded in transit)".to_owned()
            }
            Icmpv4Type::TimeExceeded(_) => "Time-to-live exceeded (Fragment reassembly time exceeded)".to_owned(),
            _ => format!("Unknown ICMP (obsolete or malformed?) type {}", icmp.type_u8()),
        };
        Layer::link("ICMP", info)
    }

    fn icmpv6(&mut self, src: IpAddr, dst: IpAddr, hop_limit: u8, body: &[u8]) -> Layer {
        let Ok(icmp) = Icmpv6Slice::from_slice(body) else { return Layer::link("ICMPv6", "[Malformed Packet]") };
        let kind = icmp.icmp_type();
        let payload = Icmpv6PayloadSlice::from_slice(&kind, icmp.payload());
        let info = match (kind, payload) {
            (kind @ (Icmpv6Type::EchoRequest(echo) | Icmpv6Type::EchoReply(echo)), _) => {
                let request = matches!(kind, Icmpv6Type::EchoRequest(_));
                let suffix = self.echo(src, dst, 58, request, echo.id, echo.seq);
                format!(
                    "Echo (ping) {} id=0x{:04x}, seq={}, hop limit={hop_limit}{suffix}",
                    if request { "request" } else { "reply" },
                    echo.id,
                    echo.seq
                )
            }
            (Icmpv6Type::DestinationUnreachable(_), _) => {
                format!("Destination Unreachable ({})", unreachable_v6(icmp.code_u8()))
            }
            (Icmpv6Type::TimeExceeded(_), _) => "Time Exceeded (hop limit exceeded in transit)".to_owned(),
            (Icmpv6Type::RouterSolicitation, Ok(Icmpv6PayloadSlice::RouterSolicitation(rs))) => {
                match link_layer_address(rs.options_iterator(), Link::Source) {
                    Some(mac) => format!("Router Solicitation from {mac}"),
                    None => "Router Solicitation".to_owned(),
                }
            }
            (Icmpv6Type::RouterAdvertisement(_), Ok(Icmpv6PayloadSlice::RouterAdvertisement(ra))) => {
                match link_layer_address(ra.options_iterator(), Link::Source) {
                    Some(mac) => format!("Router Advertisement from {mac}"),
                    None => "Router Advertisement".to_owned(),
                }
            }
            (Icmpv6Type::NeighborSolicitation, Ok(Icmpv6PayloadSlice::NeighborSolicitation(ns))) => {
                let target = ns.target_address();
                match link_layer_address(ns.options_iterator(), Link::Source) {
                    Some(mac) => format!("Neighbor Solicitation for {target} from {mac}"),
                    None => format!("Neighbor Solicitation for {target}"),
                }
            }
            (Icmpv6Type::NeighborAdvertisement(header), Ok(Icmpv6PayloadSlice::NeighborAdvertisement(na))) => {
                let flags: Vec<&str> = [(header.router, "rtr"), (header.solicited, "sol"), (header.r#override, "ovr")]
                    .into_iter()
                    .filter_map(|(set, name)| set.then_some(name))
                    .collect();
                let flags = if flags.is_empty() { String::new() } else { format!(" ({})", flags.join(", ")) };
                let target = na.target_address();
                match link_layer_address(na.options_iterator(), Link::Target) {
                    Some(mac) => format!("Neighbor Advertisement {target}{flags} is at {mac}"),
                    None => format!("Neighbor Advertisement {target}{flags}"),
                }
            }
            (Icmpv6Type::NeighborSolicitation | Icmpv6Type::NeighborAdvertisement(_), _) => {
                "[Malformed Packet]".to_owned()
            }
            _ => match icmp.type_u8() {
                130 => "Multicast Listener Query".to_owned(),
                131 => "Multicast Listener Report".to_owned(),
                132 => "Multicast Listener Done".to_owned(),
                143 => "Multicast Listener Report Message v2".to_owned(),
                kind => format!("Unknown ICMPv6 type {kind} code {}", icmp.code_u8()),
            },
        };
        Layer::link("ICMPv6", info)
    }
}

/// Which link-layer address option of neighbour discovery.
enum Link {
    Source,
    Target,
}

/// The first source (or target) link-layer address option that holds a MAC
/// address; options after a malformed one are not read.
fn link_layer_address(options: NdpOptionsIterator<'_>, which: Link) -> Option<EthernetAddress> {
    options.map_while(Result::ok).find_map(|option| match (&which, option) {
        (Link::Source, NdpOptionSlice::SourceLinkLayerAddress(address)) => {
            EthernetAddress::from_bytes(address.link_layer_address().get(..6)?)
        }
        (Link::Target, NdpOptionSlice::TargetLinkLayerAddress(address)) => {
            EthernetAddress::from_bytes(address.link_layer_address().get(..6)?)
        }
        _ => None,
    })
}

fn unreachable_v4(code: u8) -> &'static str {
    match code {
        0 => "Network unreachable",
        1 => "Host unreachable",
        2 => "Protocol unreachable",
        3 => "Port unreachable",
        4 => "Fragmentation needed",
        13 => "Communication administratively filtered",
        _ => "Unknown",
    }
}

fn unreachable_v6(code: u8) -> &'static str {
    match code {
        0 => "no route to destination",
        1 => "Administratively prohibited",
        3 => "Address unreachable",
        4 => "Port unreachable",
        _ => "Unknown",
    }
}

fn arp(payload: &[u8]) -> Layer {
    let arp = match ArpPacket::new_checked(payload).and_then(|packet| ArpRepr::parse(&packet)) {
        Ok(arp) => arp,
        Err(_) => return Layer::link("ARP", "[Malformed Packet]"),
    };
    let info = match arp.operation {
        ArpOperation::Request if arp.is_probe() => format!("Who has {}? (ARP Probe)", arp.target_protocol_addr),
        ArpOperation::Request if arp.is_gratuitous() => format!("ARP Announcement for {}", arp.target_protocol_addr),
        ArpOperation::Request => format!("Who has {}? Tell {}", arp.target_protocol_addr, arp.source_protocol_addr),
        ArpOperation::Reply if arp.is_gratuitous() => {
            format!("Gratuitous ARP for {} (Reply)", arp.source_protocol_addr)
        }
        ArpOperation::Reply => format!("{} is at {}", arp.source_protocol_addr, arp.source_hardware_addr),
    };
    Layer::link("ARP", info)
}

/// A keyed-mode handshake's Info (its trailer follows and is not read).
fn handshake(body: &[u8]) -> String {
    match Handshake::parse(body) {
        Ok(Handshake::Challenge { nonce, cause }) => {
            format!("CHALLENGE {nonce:016x} for {:08x}#{}", cause.epoch, cause.counter)
        }
        Ok(Handshake::Answer { echo, ask: None }) => format!("ANSWER {echo:016x}"),
        Ok(Handshake::Answer { echo, ask: Some(ask) }) => format!("ANSWER {echo:016x}, asks {ask:016x}"),
        Err(_) => "[Malformed Packet]".to_owned(),
    }
}

fn name_arp(payload: &[u8]) -> Layer {
    let info = match NameArpRepr::parse(&NameArpPacket::new_unchecked(payload)) {
        Ok(NameArpRepr::Request { name }) => format!("Who has {name}?"),
        Ok(NameArpRepr::Reply { name, hardware_addr }) => format!("{name} is at {hardware_addr}"),
        Err(err) => format!("Malformed: {err}"),
    };
    Layer::link("NAME-ARP", info)
}

/// A hex dump in tshark's `-x` layout: offset, 16 bytes, ASCII.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}  ", row * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  ");
        out.extend(chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }));
        out.push('\n');
    }
    out
}

/// A `tshark -V`-style view of one frame: each layer's fields, then a hex
/// dump. `summary` is the frame's summary line (for its number and time).
pub fn detail(frame: &Frame<'_>, summary: &Summary) -> String {
    let mut out = String::new();
    let length = summary.length;
    let micros = frame.timestamp.as_micros();
    let _ = writeln!(out, "Frame {}: {length} bytes on wire, {} bytes captured", summary.number, frame.data.len());
    let _ = writeln!(out, "    Epoch Time: {}.{:06} seconds", micros / 1_000_000, micros % 1_000_000);
    let _ = writeln!(out, "    Time since first frame: {}", summary.time);
    let _ = writeln!(out, "    Protocol: {}", summary.protocol);
    if let Ok(eth) = EthernetFrame::new_checked(frame.data) {
        let _ = writeln!(out, "Ethernet II, Src: {}, Dst: {}", eth.src_addr(), eth.dst_addr());
        let _ = writeln!(out, "    Destination: {}", eth.dst_addr());
        let _ = writeln!(out, "    Source: {}", eth.src_addr());
        let _ = writeln!(out, "    Type: {} (0x{:04x})", eth.ethertype(), eth.ethertype().0);
        detail_payload(&mut out, &eth, length);
    }
    let _ = writeln!(out, "    Info: {}", summary.info);
    out.push('\n');
    out.push_str(&hex_dump(frame.data));
    out
}

fn detail_payload(out: &mut String, eth: &EthernetFrame<&[u8]>, length: usize) {
    let payload = eth.payload();
    match eth.ethertype() {
        EtherType::NAME_ARP => {
            let packet = NameArpPacket::new_unchecked(payload);
            if packet.check_len().is_ok() {
                let _ = writeln!(out, "whohas name-ARP");
                let _ = writeln!(out, "    Name length: {} (little endian)", packet.name_len());
                let _ = writeln!(out, "    Hardware address: {}", packet.hardware_addr());
                let _ = writeln!(out, "    Name: {}", Escaped::new(packet.name()));
                let trailer = packet.trailer();
                let note = if trailer.iter().all(|&b| b == 0) {
                    ""
                } else {
                    " (not zero: ignored, as the C original's uninitialised padding)"
                };
                let _ = writeln!(out, "    Trailer: {} bytes{note}", trailer.len());
            }
        }
        EtherType::DATA => {
            let message = wire::data::message(length, payload);
            let _ = writeln!(out, "whohas data");
            let _ = writeln!(out, "    Message: {} bytes", message.len());
            let _ = writeln!(out, "    Padding: {} bytes", payload.len() - message.len());
        }
        EtherType::TRANSFER => transfer::detail(out, eth.dst_addr(), eth.src_addr(), payload),
        EtherType::KEYED => {
            let _ = writeln!(out, "whohas keyed-mode handshake");
            match Handshake::parse(payload) {
                Ok(Handshake::Challenge { nonce, cause }) => {
                    let _ = writeln!(out, "    Kind: challenge");
                    let _ = writeln!(out, "    Nonce: {nonce:016x}");
                    let _ = writeln!(out, "    Refused frame: epoch {:08x}, counter {}", cause.epoch, cause.counter);
                }
                Ok(Handshake::Answer { echo, ask }) => {
                    let _ = writeln!(out, "    Kind: answer");
                    let _ = writeln!(out, "    Answers nonce: {echo:016x}");
                    if let Some(ask) = ask {
                        let _ = writeln!(out, "    Asks back: {ask:016x}");
                    }
                }
                Err(error) => {
                    let _ = writeln!(out, "    [Malformed: {error}]");
                }
            }
        }
        EtherType::ARP => {
            if let Ok(arp) = ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) {
                let _ = writeln!(out, "Address Resolution Protocol ({:?})", arp.operation);
                let _ = writeln!(out, "    Sender MAC address: {}", arp.source_hardware_addr);
                let _ = writeln!(out, "    Sender IP address: {}", arp.source_protocol_addr);
                let _ = writeln!(out, "    Target MAC address: {}", arp.target_hardware_addr);
                let _ = writeln!(out, "    Target IP address: {}", arp.target_protocol_addr);
            }
        }
        EtherType::IPV4 => {
            if let Ok(ip) = Ipv4Slice::from_slice(payload) {
                let h = ip.header();
                let _ = writeln!(
                    out,
                    "Internet Protocol Version 4, Src: {}, Dst: {}",
                    h.source_addr(),
                    h.destination_addr()
                );
                let _ = writeln!(out, "    Total Length: {}", h.total_len());
                let _ = writeln!(out, "    Identification: 0x{:04x}", h.identification());
                let _ = writeln!(out, "    Time to Live: {}", h.ttl());
                let _ = writeln!(out, "    Protocol: {}", h.protocol().0);
                detail_transport(out, ip.payload().ip_number, ip.payload().payload);
            }
        }
        EtherType::IPV6 => {
            if let Ok(ip) = Ipv6Slice::from_slice(payload) {
                let h = ip.header();
                let _ = writeln!(
                    out,
                    "Internet Protocol Version 6, Src: {}, Dst: {}",
                    h.source_addr(),
                    h.destination_addr()
                );
                let _ = writeln!(out, "    Payload Length: {}", h.payload_length());
                let _ = writeln!(out, "    Next Header: {}", ip.payload().ip_number.0);
                let _ = writeln!(out, "    Hop Limit: {}", h.hop_limit());
                detail_transport(out, ip.payload().ip_number, ip.payload().payload);
            }
        }
        _ => {}
    }
}

fn detail_transport(out: &mut String, number: IpNumber, body: &[u8]) {
    match number {
        IpNumber::UDP => {
            if let Ok(udp) = UdpSlice::from_slice(body) {
                let _ = writeln!(
                    out,
                    "User Datagram Protocol, Src Port: {}, Dst Port: {}",
                    udp.source_port(),
                    udp.destination_port()
                );
                let _ = writeln!(out, "    Length: {}", udp.length());
                let _ = writeln!(out, "    Checksum: 0x{:04x}", udp.checksum());
            }
        }
        IpNumber::TCP => {
            if let Ok(tcp) = TcpSlice::from_slice(body) {
                let _ = writeln!(
                    out,
                    "Transmission Control Protocol, Src Port: {}, Dst Port: {}",
                    tcp.source_port(),
                    tcp.destination_port()
                );
                let _ = writeln!(out, "    Sequence Number (raw): {}", tcp.sequence_number());
                let _ = writeln!(out, "    Acknowledgment Number (raw): {}", tcp.acknowledgment_number());
                let _ = writeln!(out, "    Header Length: {} bytes", tcp.data_offset() * 4);
                let _ = writeln!(out, "    Window: {}", tcp.window_size());
                let _ = writeln!(out, "    TCP payload: {} bytes", tcp.payload().len());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `decode` fuzz target: an ICMPv6 neighbour advertisement
    /// cut after its 4-byte header read its flags out of bounds.
    #[test]
    fn short_icmpv6_messages_are_malformed_not_a_panic() {
        let mut frame = vec![0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
        let mut ipv6 = vec![0x60, 0, 0, 0, 0, 4, 58, 255];
        ipv6.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ipv6.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        frame.extend_from_slice(&ipv6);
        for kind in [133u8, 134, 135, 136, 128, 129, 1, 3] {
            let mut frame = frame.clone();
            frame.extend_from_slice(&[kind, 0, 0, 0]);
            let summary = Decoder::new().summarize(&Frame {
                timestamp: std::time::Duration::ZERO,
                data: &frame,
                original_len: frame.len(),
            });
            assert_eq!(summary.protocol, "ICMPv6", "type {kind}");
        }
    }

    #[test]
    fn hex_dump_has_offsets_and_ascii() {
        let dump = hex_dump(b"Nice to meet you!\n");
        assert_eq!(
            dump,
            "0000  4e 69 63 65 20 74 6f 20 6d 65 65 74 20 79 6f 75   Nice to meet you\n\
             0010  21 0a                                             !.\n"
        );
    }
}
