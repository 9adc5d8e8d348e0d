//! Every rule of the node's IPv6 neighbour discovery, on the in-memory
//! segment: the ARP rules with IPv6 addresses, and RFC 4861's checks.

mod common;

use std::net::Ipv6Addr;

use common::*;
use whohas_core::device::{LinkDevice, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::time::Instant;
use whohas_core::wire::ipv6::{self, link_local, multicast_mac, solicited_node};
use whohas_core::wire::{AdvertFlags, EtherType, EthernetAddress, Icmpv6Packet, Icmpv6Repr};

type Port<'a> = SegmentPort<'a, 4, 32>;
type Lan = Segment<4, 32>;

fn ip(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

fn node<'a>(segment: &'a Lan, mac: EthernetAddress, me: &str, addresses: &[Ipv6Addr]) -> Node<'a, Port<'a>> {
    let mut node = Node::new(segment.attach(mac).unwrap(), name(me), Default::default(), common::resources());
    for &address in addresses {
        node.add_ipv6_address(address).unwrap();
    }
    node
}

/// An Ethernet frame from `src` to `dst` carrying `packet`.
fn ipv6_frame(src: EthernetAddress, dst: EthernetAddress, packet: &Icmpv6Packet<'_>) -> Vec<u8> {
    let mut body = vec![0; packet.buffer_len()];
    packet.emit(&mut body);
    frame(src, dst, EtherType::IPV6.0, &body)
}

fn advert(from: Ipv6Addr, to: Ipv6Addr, solicited: bool, mac: EthernetAddress) -> Icmpv6Packet<'static> {
    Icmpv6Packet {
        src_addr: from,
        dst_addr: to,
        message: Icmpv6Repr::NeighborAdvert {
            flags: AdvertFlags { router: false, solicited, override_: true },
            target: from,
            target_lladdr: Some(mac),
        },
    }
}

fn parsed(frame: &[u8]) -> Icmpv6Packet<'_> {
    Icmpv6Packet::parse(&frame[14..]).unwrap().1
}

#[test]
fn resolves_by_solicitation_to_the_solicited_node_group_and_answers_for_its_own_addresses() {
    let segment = Lan::new();
    let (a, b) = (ip("2001:db8::1"), ip("2001:db8::2"));
    let mut vm1 = node(&segment, VM1, "VM1", &[a]);
    let mut vm2 = node(&segment, VM2, "VM2", &[b, link_local(VM2)]);
    let mut monitor = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;

    assert_eq!(vm1.at(t).resolve_ipv6(b), Ok(None));
    assert_eq!(vm1.at(t).resolve_ipv6(b), Ok(None), "one solicitation in flight");
    let sent = drain(&mut monitor);
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0][..6], &multicast_mac(solicited_node(b)).0);
    assert_eq!(
        parsed(&sent[0]),
        Icmpv6Packet {
            src_addr: a,
            dst_addr: solicited_node(b),
            message: Icmpv6Repr::NeighborSolicit { target: b, source_lladdr: Some(VM1) }
        }
    );
    assert_eq!(poll(&mut vm2, t), vec![Seen::Ipv6Answered(VM1, b)]);
    assert_eq!(poll(&mut vm1, t), vec![Seen::Ipv6Resolved(b, VM2)]);
    assert_eq!(vm1.at(t).resolve_ipv6(b), Ok(Some(VM2)));
    assert_eq!(vm1.stats().ndp.requests_sent, 1);
    assert_eq!(vm2.stats().ndp.replies_sent, 1);

    // A link-local target is asked from the node's link-local address (here
    // derived from its MAC: it has none configured).
    drain(&mut monitor);
    vm1.at(t).resolve_ipv6(link_local(VM2)).unwrap();
    assert_eq!(parsed(&drain(&mut monitor)[0]).src_addr, link_local(VM1));
    poll(&mut vm2, t);
    assert_eq!(poll(&mut vm1, t), vec![Seen::Ipv6Resolved(link_local(VM2), VM2)]);
}

#[test]
fn nothing_unsolicited_enters_the_cache() {
    let segment = Lan::new();
    let (a, b, c) = (ip("2001:db8::1"), ip("2001:db8::2"), ip("2001:db8::3"));
    let mut vm1 = node(&segment, VM1, "VM1", &[a]);
    let mut attacker = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;
    // Unasked, solicited flag or not.
    attacker.transmit(&ipv6_frame(PEER, VM1, &advert(c, a, true, PEER))).unwrap();
    attacker.transmit(&ipv6_frame(PEER, VM1, &advert(c, a, false, PEER))).unwrap();
    assert_eq!(poll(&mut vm1, t), vec![]);
    assert_eq!(vm1.at(t).lookup_ipv6(c), None);
    assert_eq!(vm1.stats().ndp.rx_unsolicited_replies, 2);

    // Asked, but answered to the all-nodes group, or for another MAC.
    vm1.at(t).resolve_ipv6(b).unwrap();
    attacker
        .transmit(&ipv6_frame(PEER, multicast_mac(ipv6::ALL_NODES), &advert(b, ipv6::ALL_NODES, true, PEER)))
        .unwrap();
    attacker.transmit(&ipv6_frame(PEER, VM1, &advert(b, a, true, VM2))).unwrap();
    assert_eq!(poll(&mut vm1, t), vec![]);
    assert_eq!(vm1.stats().ndp.rx_mismatched_replies, 1);
    assert_eq!(vm1.at(t).lookup_ipv6(b), None);
}

#[test]
fn two_advertisers_are_a_conflict_and_a_claim_on_our_address_is_counted() {
    let segment = Lan::new();
    let (a, b) = (ip("2001:db8::1"), ip("2001:db8::2"));
    let mut vm1 = node(&segment, VM1, "VM1", &[a]);
    let mut others = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;
    vm1.at(t).resolve_ipv6(b).unwrap();
    for mac in [VM2, PEER] {
        others.transmit(&ipv6_frame(mac, VM1, &advert(b, a, true, mac))).unwrap();
    }
    assert_eq!(poll(&mut vm1, t), vec![Seen::Ipv6Resolved(b, VM2), Seen::Ipv6Conflict(b, VM2, PEER)]);
    drain(&mut others);

    // Another station advertising our address, and one probing for it (DAD).
    others.transmit(&ipv6_frame(PEER, VM1, &advert(a, a, false, PEER))).unwrap();
    let probe = Icmpv6Packet {
        src_addr: Ipv6Addr::UNSPECIFIED,
        dst_addr: solicited_node(a),
        message: Icmpv6Repr::NeighborSolicit { target: a, source_lladdr: None },
    };
    others.transmit(&ipv6_frame(PEER, multicast_mac(solicited_node(a)), &probe)).unwrap();
    assert_eq!(poll(&mut vm1, t), vec![]);
    assert_eq!(vm1.stats().ndp.rx_claims, 2);
    assert!(drain(&mut others).is_empty(), "a claim is not answered");
}

#[test]
fn a_silent_address_fails_after_its_retries() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1", &[]);
    let mut monitor = segment.attach(PEER).unwrap();
    let nobody = ip("2001:db8::99");
    vm1.at(Instant::ZERO).resolve_ipv6(nobody).unwrap();
    let mut seen = Vec::new();
    for second in 0..=3 {
        seen.extend(poll(&mut vm1, Instant::from_secs(second)));
    }
    assert_eq!(seen, vec![Seen::Ipv6Failed(nobody)]);
    assert_eq!(drain(&mut monitor).len(), 3);
}

#[test]
fn malformed_neighbour_discovery_is_counted_and_dropped() {
    let segment = Lan::new();
    let b = ip("2001:db8::2");
    let mut vm2 = node(&segment, VM2, "VM2", &[b]);
    let mut peer = segment.attach(PEER).unwrap();
    let solicitation = Icmpv6Packet {
        src_addr: link_local(PEER),
        dst_addr: solicited_node(b),
        message: Icmpv6Repr::NeighborSolicit { target: b, source_lladdr: Some(PEER) },
    };
    let good = ipv6_frame(PEER, multicast_mac(solicited_node(b)), &solicitation);
    let mut wrong_checksum = good.clone();
    wrong_checksum[14 + 40 + 2] ^= 0xff;
    let mut routed = good.clone();
    routed[14 + 7] = 254;
    let mut truncated = good.clone();
    truncated.truncate(14 + 40 + 10);
    truncated[14 + 5] = 10;
    let mut empty_option = good.clone();
    empty_option[14 + 40 + 25] = 0;
    let mut beyond = good.clone();
    beyond[14 + 5] = 200;
    for frame in [wrong_checksum, routed, truncated, empty_option, beyond] {
        peer.transmit(&frame).unwrap();
    }
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    assert_eq!(vm2.stats().ndp.rx_malformed, 5);
    assert!(drain(&mut peer).is_empty());
    assert_eq!(vm2.stats().rx_accounted(), vm2.stats().link.rx_frames);
    // The good one is answered.
    peer.transmit(&good).unwrap();
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Ipv6Answered(PEER, b)]);
}

/// The example frames of docs/PROTOCOL.md's IPv6 section: the hex before
/// each line's comment (three spaces or more set it apart).
fn protocol_md_examples() -> Vec<Vec<u8>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md")).unwrap();
    let section = doc.split("## IPv6 neighbour discovery").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut frames = Vec::new();
    for example in section.split("### Example").skip(1) {
        let block = example.split("```").nth(1).unwrap();
        let bytes = block
            .lines()
            .flat_map(|line| line.split("   ").next().unwrap().split_whitespace().collect::<Vec<_>>())
            .map(|byte| u8::from_str_radix(byte, 16).unwrap())
            .collect();
        frames.push(bytes);
    }
    frames
}

#[test]
fn the_examples_of_protocol_md_are_what_the_codec_reads_and_writes() {
    let frames = protocol_md_examples();
    let (me, host) = (link_local(VM1), ip("2001:db8::2"));
    let expected = [
        Icmpv6Packet {
            src_addr: me,
            dst_addr: ipv6::ALL_NODES,
            message: Icmpv6Repr::EchoRequest { ident: 0x1234, seq_no: 0, data: b"whohas scan" },
        },
        Icmpv6Packet {
            src_addr: me,
            dst_addr: ipv6::ALL_NODES,
            message: Icmpv6Repr::MldQuery { max_response_ms: 500 },
        },
        Icmpv6Packet {
            src_addr: me,
            dst_addr: solicited_node(host),
            message: Icmpv6Repr::NeighborSolicit { target: host, source_lladdr: Some(VM1) },
        },
        advert(host, me, true, VM2),
    ];
    let all_nodes = multicast_mac(ipv6::ALL_NODES);
    let macs = [(all_nodes, VM1), (all_nodes, VM1), (multicast_mac(solicited_node(host)), VM1), (VM1, VM2)];
    assert_eq!(frames.len(), expected.len());
    for ((frame, packet), (dst, src)) in frames.iter().zip(&expected).zip(macs) {
        assert_eq!(parsed(frame), *packet);
        assert_eq!(*frame, ipv6_frame(src, dst, packet), "{packet:?}");
    }
}
