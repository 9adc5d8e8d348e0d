//! Property tests: parsing never panics, emit then parse is the identity,
//! and whatever bytes follow a body (struct padding, Ethernet padding, a
//! NIC's leaked memory) never change what it parses to.

mod common;

use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use whohas_core::device::{LinkDevice, Segment};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::scan::{Ipv4Range, Rate, ScanConfig, ScanStatus, Scanner};
use whohas_core::station::Config;
use whohas_core::time::{Duration, Instant};

use whohas_core::wire::presence::{PresenceKind, PresenceRepr};
use whohas_core::wire::transfer::{Kind, TransferRepr};
use whohas_core::wire::{
    AdvertFlags, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv6Packet, Icmpv6Repr, NAME_MAX, Name, NameArpPacket, NameArpRepr, PrettyFrame,
};

fn unicast() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(|mut b| {
        b[0] &= 0xfe;
        b[5] |= 1;
        EthernetAddress(b)
    })
}

fn names() -> impl Strategy<Value = Name> {
    prop::collection::vec(any::<u8>(), 1..=NAME_MAX).prop_map(|bytes| Name::new(&bytes).unwrap())
}

fn name_arp_reprs() -> impl Strategy<Value = NameArpRepr> {
    prop_oneof![
        names().prop_map(|name| NameArpRepr::Request { name }),
        (names(), unicast()).prop_map(|(name, hardware_addr)| NameArpRepr::Reply { name, hardware_addr }),
    ]
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(frame) = EthernetFrame::new_checked(&bytes[..]) {
            let _ = EthernetRepr::parse(&frame);
        }
        let _ = NameArpRepr::parse(&NameArpPacket::new_unchecked(&bytes[..]));
        if let Ok(packet) = NameArpPacket::new_checked(&bytes[..]) {
            let _ = (packet.name(), packet.trailer(), packet.hardware_addr());
        }
        let _ = PrettyFrame(&bytes).to_string();
        if let Ok(packet) = ArpPacket::new_checked(&bytes[..]) {
            let _ = ArpRepr::parse(&packet);
        }
        let _ = Icmpv6Packet::parse(&bytes);
    }

    /// ICMPv6 echo, NS and NA: emit then parse is the identity, and bytes
    /// after the IPv6 payload (Ethernet padding) change nothing.
    #[test]
    fn icmpv6_round_trips(
        src in any::<[u8; 16]>(),
        dst in any::<[u8; 16]>(),
        target in any::<[u8; 16]>(),
        kind in 0u8..4,
        numbers in any::<(u16, u16)>(),
        data in prop::collection::vec(any::<u8>(), 0..64),
        flags in any::<(bool, bool, bool)>(),
        lladdr in prop::option::of(unicast()),
        padding in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let (mut src, mut target) = (Ipv6Addr::from(src), Ipv6Addr::from(target));
        // A multicast source or target is rejected, as it should be.
        if src.is_multicast() { src = Ipv6Addr::UNSPECIFIED; }
        if target.is_multicast() { target = Ipv6Addr::LOCALHOST; }
        let (ident, seq_no) = numbers;
        let message = match kind {
            0 => Icmpv6Repr::EchoRequest { ident, seq_no, data: &data },
            1 => Icmpv6Repr::EchoReply { ident, seq_no, data: &data },
            2 => Icmpv6Repr::NeighborSolicit { target, source_lladdr: lladdr },
            _ => Icmpv6Repr::NeighborAdvert {
                flags: AdvertFlags { router: flags.0, solicited: flags.1, override_: flags.2 },
                target,
                target_lladdr: lladdr,
            },
        };
        let packet = Icmpv6Packet { src_addr: src, dst_addr: Ipv6Addr::from(dst), message };
        let mut bytes = vec![0u8; packet.buffer_len()];
        packet.emit(&mut bytes);
        bytes.extend_from_slice(&padding);
        prop_assert_eq!(Icmpv6Packet::parse(&bytes).map(|(_, parsed)| parsed), Ok(packet));
    }

    #[test]
    fn arp_round_trips(
        request in any::<bool>(),
        sha in unicast(),
        spa in any::<[u8; 4]>(),
        tha in any::<[u8; 6]>(),
        tpa in any::<[u8; 4]>(),
    ) {
        let repr = ArpRepr {
            operation: if request { ArpOperation::Request } else { ArpOperation::Reply },
            source_hardware_addr: sha,
            source_protocol_addr: Ipv4Addr::from(spa),
            target_hardware_addr: EthernetAddress(tha),
            target_protocol_addr: Ipv4Addr::from(tpa),
        };
        let mut buf = [0u8; 28];
        repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).unwrap()), Ok(repr));
    }

    #[test]
    fn name_arp_round_trips(repr in name_arp_reprs(), extra_zeros in 0usize..40) {
        let mut body = vec![0xaa; repr.buffer_len()];
        repr.emit(&mut NameArpPacket::new_unchecked(&mut body[..]));
        body.resize(body.len() + extra_zeros, 0);
        prop_assert_eq!(NameArpRepr::parse(&NameArpPacket::new_checked(&body[..]).unwrap()), Ok(repr));
    }

    /// The C program's struct padding is uninitialised memory and a NIC may
    /// pad with anything: no bytes after the name change the parse.
    #[test]
    fn name_arp_ignores_any_trailer(repr in name_arp_reprs(), trailer in prop::collection::vec(any::<u8>(), 0..60)) {
        let mut body = vec![0; repr.buffer_len()];
        repr.emit(&mut NameArpPacket::new_unchecked(&mut body[..]));
        body.truncate(body.len() - 2);
        body.extend_from_slice(&trailer);
        prop_assert_eq!(NameArpRepr::parse(&NameArpPacket::new_checked(&body[..]).unwrap()), Ok(repr));
    }

    #[test]
    fn arp_ignores_any_trailer(sha in unicast(), spa in any::<[u8; 4]>(), trailer in prop::collection::vec(any::<u8>(), 0..40)) {
        let repr = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: sha,
            source_protocol_addr: Ipv4Addr::from(spa),
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: Ipv4Addr::new(198, 18, 0, 1),
        };
        let mut body = vec![0; 28];
        repr.emit(&mut ArpPacket::new_unchecked(&mut body[..]));
        body.extend_from_slice(&trailer);
        prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&body[..]).unwrap()), Ok(repr));
    }

    #[test]
    fn presence_ignores_any_trailer(
        name in names(),
        epoch in any::<u32>(),
        answer in any::<bool>(),
        trailer in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        let repr = PresenceRepr { kind: PresenceKind::Announce, answer, epoch, expiry_secs: 30, name };
        let mut body = vec![0; repr.buffer_len()];
        repr.emit(&mut body);
        body.extend_from_slice(&trailer);
        prop_assert_eq!(PresenceRepr::parse(&body), Ok(repr));
    }

    #[test]
    fn transfer_ignores_any_trailer(
        seq in any::<u32>(),
        payload in prop::collection::vec(any::<u8>(), 0..40),
        trailer in prop::collection::vec(any::<u8>(), 0..60),
    ) {
        let (a, b) = (EthernetAddress([2, 0, 0, 0, 0, 1]), EthernetAddress([2, 0, 0, 0, 0, 2]));
        let repr = TransferRepr {
            kind: Kind::Data, from_initiator: true, messages: false, conn_id: 7, seq, ack: 0,
            window: 64, timestamp: 1, echo: 0, sack: &[], payload: &payload,
        };
        let mut body = vec![0; repr.buffer_len()];
        repr.emit(b, a, &mut body);
        body.extend_from_slice(&trailer);
        prop_assert_eq!(TransferRepr::parse(b, a, &body), Ok(repr));
    }

    #[test]
    fn ethernet_round_trips(src in unicast(), dst in any::<[u8; 6]>(), ethertype in any::<u16>()) {
        let repr = EthernetRepr { src_addr: src, dst_addr: EthernetAddress(dst), ethertype: EtherType(ethertype) };
        let mut buf = [0u8; 14];
        repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        prop_assert_eq!(EthernetRepr::parse(&EthernetFrame::new_checked(&buf[..]).unwrap()), Ok(repr));
    }

    /// Arbitrary frames of the node's own ethertypes (and others) never make
    /// it panic, and every frame is accounted for in exactly one counter or
    /// as a delivered/answered frame.
    #[test]
    fn node_survives_arbitrary_frames(
        frames in prop::collection::vec(
            (prop_oneof![Just(0xfffeu16), Just(0xfffd), Just(0x0806), any::<u16>()], prop::collection::vec(any::<u8>(), 0..120)),
            1..20,
        )
    ) {
        let segment: Segment<2, 32> = Segment::new();
        let me = EthernetAddress([2, 0, 0, 0, 0, 2]);
        let mut node: Node<_> = Node::new(segment.attach(me).unwrap(), Name::try_from("VM2").unwrap(), Config::default(), common::resources());
        let mut peer = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 9])).unwrap();
        for (ethertype, body) in &frames {
            let mut frame = vec![0xff; 6];
            frame.extend_from_slice(&[2, 0, 0, 0, 0, 9]);
            frame.extend_from_slice(&ethertype.to_be_bytes());
            frame.extend_from_slice(body);
            peer.transmit(&frame).unwrap();
        }
        let mut events = 0u64;
        node.poll(Instant::ZERO, &mut from_fn(|_, _| events += 1)).unwrap();
        let s = node.stats();
        prop_assert_eq!(s.link.rx_frames, frames.len() as u64);
        prop_assert_eq!(s.rx_accounted(), s.link.rx_frames);
        prop_assert_eq!(events, s.data.rx + s.name_arp.replies_sent);
    }

    /// Time arithmetic saturates everywhere: a scan with any retry count,
    /// back-off, timeout and rate, started at any time (even the end of
    /// time), neither panics nor stalls: it finishes within one poll per
    /// request it may send (plus one per round's wait), having sent every
    /// request its retry budget allows to the addresses nobody answers for,
    /// and its deadlines never go backwards.
    #[test]
    fn scans_survive_extreme_settings_and_times(
        attempts in any::<u8>(),
        backoff_percent in any::<u16>(),
        timeout_micros in any::<u64>(),
        pps in any::<u32>(),
        start in prop_oneof![Just(u64::MAX), Just(u64::MAX - 1_000_000), any::<u64>()],
        adaptive in any::<bool>(),
    ) {
        let segment: Segment<1, 4> = Segment::new();
        let port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
        let config = ScanConfig {
            rate: Rate::PacketsPerSecond(pps),
            attempts,
            timeout: Duration::from_micros(timeout_micros),
            backoff_percent,
            adaptive,
        };
        let range: Ipv4Range = "198.18.0.0/30".parse().unwrap();
        let mut now = Instant::from_micros(start);
        let scanner: Scanner<4> = Scanner::new(range, Ipv4Addr::new(198, 18, 0, 1), config, now).unwrap();
        let mut node: Node<_, _> = Node::with_services(port, Name::try_from("scanner").unwrap(), Config::default(), common::resources(), scanner);
        let hosts = range.len();
        let rounds = u64::from(attempts.max(1));
        let budget = hosts * rounds + rounds + 2;
        let mut polls = 0;
        while node.services().status() != ScanStatus::Done {
            prop_assert!(polls < budget, "scan stalled after {polls} polls: {:?}", node.services().progress());
            polls += 1;
            let next = node.poll(now, &mut from_fn(|_, _| {})).unwrap();
            if node.services().status() == ScanStatus::Done {
                break;
            }
            let next = next.expect("a running scan has a deadline");
            prop_assert!(next >= now || next == Instant::from_micros(start), "deadline went back: {next} < {now}");
            now = next.max(now);
        }
        // Nobody answers: every address got every attempt.
        let (sent, _) = node.services().progress();
        prop_assert_eq!(sent, hosts * rounds);
    }
}
