//! Every rule of the node's RFC 826 ARP, on the in-memory segment.

mod common;

use std::net::Ipv4Addr;

use common::*;
use whohas_core::device::{LinkDevice, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::station::Config;
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{ArpOperation, ArpRepr, EtherType, EthernetAddress};

type Port<'a> = SegmentPort<'a, 4, 32>;
type Lan = Segment<4, 32>;

const IP_VM1: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const IP_VM2: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const IP_PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 9);
const UNKNOWN: EthernetAddress = EthernetAddress::UNSPECIFIED;

fn node<'a>(segment: &'a Lan, mac: EthernetAddress, me: &str, ip: Option<Ipv4Addr>) -> Node<'a, Port<'a>> {
    let mut node = Node::new(segment.attach(mac).unwrap(), name(me), Config::default(), common::resources());
    if let Some(ip) = ip {
        node.add_ipv4_address(ip).unwrap();
    }
    node
}

fn broadcast(port: &mut Port<'_>, body: &[u8]) {
    port.transmit(&frame(port.mac_address(), EthernetAddress::BROADCAST, 0x0806, body)).unwrap();
}

#[test]
fn answers_arp_for_its_ipv4_addresses_only() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2", Some(IP_VM2));
    let mut peer = segment.attach(PEER).unwrap();
    let ask = |target| arp_body(ArpOperation::Request, (PEER, IP_PEER), (UNKNOWN, target));
    broadcast(&mut peer, &ask(IP_VM2));
    broadcast(&mut peer, &ask(Ipv4Addr::new(198, 18, 0, 3)));
    // A gratuitous announcement of someone else's address is not a question.
    broadcast(&mut peer, &arp_body(ArpOperation::Request, (PEER, IP_PEER), (UNKNOWN, IP_PEER)));
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::ArpAnswered(PEER, IP_VM2)]);
    assert_eq!(vm2.stats().arp.rx_requests_for_others, 2);
    let answers = drain(&mut peer);
    assert_eq!(answers.len(), 1);
    assert_eq!(&answers[0][..12], &[PEER.0, VM2.0].concat()[..], "unicast from VM2 to the requester");
    assert_eq!(
        arp(&answers[0]),
        ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: VM2,
            source_protocol_addr: IP_VM2,
            target_hardware_addr: PEER,
            target_protocol_addr: IP_PEER,
        }
    );
}

#[test]
fn resolves_ipv4_addresses_and_refuses_unsolicited_arp_replies() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1", Some(IP_VM1));
    let mut vm2 = node(&segment, VM2, "VM2", Some(IP_VM2));
    let mut attacker = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;

    let lie = arp_body(ArpOperation::Reply, (PEER, IP_PEER), (VM1, IP_VM1));
    attacker.transmit(&frame(PEER, VM1, 0x0806, &lie)).unwrap();
    assert_eq!(poll(&mut vm1, t), vec![]);
    assert_eq!(vm1.at(t).lookup_ipv4(IP_PEER), None);
    assert_eq!(vm1.stats().arp.rx_unsolicited_replies, 1);

    assert_eq!(vm1.at(t).resolve_ipv4(IP_VM2), Ok(None));
    assert_eq!(vm1.at(t).resolve_ipv4(IP_VM2), Ok(None), "one request in flight");
    assert_eq!(poll(&mut vm2, t), vec![Seen::ArpAnswered(VM1, IP_VM2)]);
    assert_eq!(poll(&mut vm1, t), vec![Seen::ArpResolved(IP_VM2, VM2)]);
    assert_eq!(vm1.at(t).resolve_ipv4(IP_VM2), Ok(Some(VM2)));
    assert_eq!(vm1.stats().arp.requests_sent, 1);
    let requests: Vec<ArpRepr> =
        drain(&mut attacker).iter().filter(|f| ethertype(f) == EtherType::ARP).map(|f| arp(f)).collect();
    assert_eq!(requests[0].source_protocol_addr, IP_VM1);
}

#[test]
fn arp_resolution_of_a_silent_address_fails_after_its_retries() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1", None);
    let mut monitor = segment.attach(PEER).unwrap();
    let nobody = Ipv4Addr::new(198, 18, 0, 200);
    vm1.at(Instant::ZERO).resolve_ipv4(nobody).unwrap();
    let mut seen = Vec::new();
    for second in 0..=3 {
        seen.extend(poll(&mut vm1, Instant::from_secs(second)));
    }
    assert_eq!(seen, vec![Seen::ArpFailed(nobody)]);
    let requests = drain(&mut monitor);
    assert_eq!(requests.len(), 3);
    // No address of its own: the requests come from 0.0.0.0, like an RFC 5227 probe.
    assert!(requests.iter().all(|f| arp(f).is_probe()));
}

#[test]
fn a_station_claiming_one_of_our_addresses_is_reported() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2", Some(IP_VM2));
    let mut intruder = segment.attach(PEER).unwrap();
    // A gratuitous ARP announcing VM2's address from another MAC.
    broadcast(&mut intruder, &arp_body(ArpOperation::Request, (PEER, IP_VM2), (UNKNOWN, IP_VM2)));
    // And a reply naming it as the sender.
    let reply = arp_body(ArpOperation::Reply, (PEER, IP_VM2), (VM1, IP_VM1));
    intruder.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0x0806, &reply)).unwrap();
    assert_eq!(
        poll(&mut vm2, Instant::ZERO),
        vec![Seen::AddressClaimed(IP_VM2, PEER), Seen::AddressClaimed(IP_VM2, PEER)]
    );
    assert!(drain(&mut intruder).is_empty(), "a claim is not answered");
}

#[test]
fn a_request_from_a_cached_station_refreshes_it_but_a_new_mac_is_not_merged() {
    let segment = Lan::new();
    let config = Config { cache_ttl: Duration::from_secs(30), ..Config::default() };
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config, common::resources());
    vm1.add_ipv4_address(IP_VM1).unwrap();
    let mut others = segment.attach(PEER).unwrap();
    vm1.at(Instant::ZERO).resolve_ipv4(IP_VM2).unwrap();
    let reply = arp_body(ArpOperation::Reply, (VM2, IP_VM2), (VM1, IP_VM1));
    others.transmit(&frame(VM2, VM1, 0x0806, &reply)).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::ArpResolved(IP_VM2, VM2)]);

    // VM2 asks for someone at t = 20 s: its entry is good for 30 s from then.
    let ask = arp_body(ArpOperation::Request, (VM2, IP_VM2), (UNKNOWN, IP_PEER));
    others.transmit(&frame(VM2, EthernetAddress::BROADCAST, 0x0806, &ask)).unwrap();
    poll(&mut vm1, Instant::from_secs(20));
    assert_eq!(vm1.at(Instant::from_secs(45)).lookup_ipv4(IP_VM2), Some(VM2), "refreshed by the merge step");

    // Another MAC using VM2's address is not merged: anyone could send that.
    let spoof = arp_body(ArpOperation::Request, (PEER, IP_VM2), (UNKNOWN, IP_PEER));
    others.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0x0806, &spoof)).unwrap();
    poll(&mut vm1, Instant::from_secs(21));
    assert_eq!(vm1.at(Instant::from_secs(21)).lookup_ipv4(IP_VM2), Some(VM2));
    assert_eq!(vm1.stats().arp.conflicts, 1);
}

#[test]
fn two_answers_to_one_arp_resolution_are_a_conflict() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1", Some(IP_VM1));
    let mut others = segment.attach(PEER).unwrap();
    vm1.at(Instant::ZERO).resolve_ipv4(IP_VM2).unwrap();
    for mac in [VM2, PEER] {
        let reply = arp_body(ArpOperation::Reply, (mac, IP_VM2), (VM1, IP_VM1));
        others.transmit(&frame(mac, VM1, 0x0806, &reply)).unwrap();
    }
    assert_eq!(
        poll(&mut vm1, Instant::ZERO),
        vec![Seen::ArpResolved(IP_VM2, VM2), Seen::AddressConflict(IP_VM2, VM2, PEER)]
    );
}
