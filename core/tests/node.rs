//! Every rule of the name-ARP node, on the in-memory segment.

use std::net::Ipv4Addr;

use whohas_core::device::{Capabilities, LinkDevice, Segment, SegmentPort};
use whohas_core::node::{Config, Delivery, Event, Node, ResolveError, SendError};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, Name, NameArpPacket, NameArpRepr,
};

const VM1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const VM2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const PEER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);

type Port<'a> = SegmentPort<'a, 4, 32>;
type Lan = Segment<4, 32>;

fn name(text: &str) -> Name {
    Name::try_from(text).unwrap()
}

fn node<'a>(segment: &'a Lan, mac: EthernetAddress, me: &str) -> Node<Port<'a>> {
    Node::new(segment.attach(mac).unwrap(), name(me), Config::default())
}

/// Owned copies of events, for assertions after the callback returns.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Data(EthernetAddress, Option<Name>, Vec<u8>),
    Answered(EthernetAddress),
    Resolved(Name, EthernetAddress),
    Failed(Name, usize),
    ArpAnswered(EthernetAddress, Ipv4Addr),
    ArpResolved(Ipv4Addr, EthernetAddress),
    ArpFailed(Ipv4Addr),
}

fn poll<const C: usize, const P: usize, const Q: usize>(node: &mut Node<Port<'_>, C, P, Q>, now: Instant) -> Vec<Seen> {
    let mut seen = Vec::new();
    node.poll(now, |event| {
        seen.push(match event {
            Event::Data { from, from_name, payload } => Seen::Data(from, from_name.cloned(), payload.to_vec()),
            Event::Answered { requester } => Seen::Answered(requester),
            Event::Resolved { name, hardware_addr } => Seen::Resolved(name.clone(), hardware_addr),
            Event::ResolutionFailed { name, dropped_frames } => Seen::Failed(name.clone(), dropped_frames),
            Event::ArpAnswered { requester, address } => Seen::ArpAnswered(requester, address),
            Event::ArpResolved { address, hardware_addr } => Seen::ArpResolved(address, hardware_addr),
            Event::ArpResolutionFailed { address } => Seen::ArpFailed(address),
            other => panic!("an event the tests do not know: {other:?}"),
        })
    })
    .unwrap();
    seen
}

fn drain(port: &mut Port<'_>) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buffer = [0u8; 1514];
    while let Ok(len) = port.receive(&mut buffer) {
        frames.push(buffer[..len].to_vec());
    }
    frames
}

fn ethertype(frame: &[u8]) -> EtherType {
    EthernetFrame::new_checked(frame).unwrap().ethertype()
}

fn name_arp(frame: &[u8]) -> NameArpRepr {
    let frame = EthernetFrame::new_checked(frame).unwrap();
    NameArpRepr::parse(&NameArpPacket::new_checked(frame.payload()).unwrap()).unwrap()
}

fn frame(src: EthernetAddress, dst: EthernetAddress, ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.0);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(body);
    frame
}

fn reply_body(who: &str, mac: EthernetAddress) -> Vec<u8> {
    let mut body = (who.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(&mac.0);
    body.extend_from_slice(who.as_bytes());
    body.extend_from_slice(&[0, 0]);
    body
}

fn request_body(who: &str) -> Vec<u8> {
    reply_body(who, EthernetAddress::UNSPECIFIED)
}

#[test]
fn seed_conversation_second_message_uses_the_cache() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut monitor = segment.attach(PEER).unwrap();
    let t = Instant::from_secs(1);

    assert_eq!(vm1.send(t, &name("VM2"), b"Hi Hello").unwrap(), Delivery::Queued);
    assert_eq!(poll(&mut vm2, t), vec![Seen::Answered(VM1)]);
    assert_eq!(poll(&mut vm1, t), vec![Seen::Resolved(name("VM2"), VM2)]);
    assert_eq!(poll(&mut vm2, t), vec![Seen::Data(VM1, None, b"Hi Hello".to_vec())]);
    vm2.send_to_address(VM1, b"Nice to meet you!\n").unwrap();
    assert_eq!(poll(&mut vm1, t), vec![Seen::Data(VM2, Some(name("VM2")), b"Nice to meet you!\n".to_vec())]);

    let later = t + Duration::from_secs(10);
    assert_eq!(vm1.send(later, &name("VM2"), b"again").unwrap(), Delivery::Sent);
    assert_eq!(poll(&mut vm2, later), vec![Seen::Data(VM1, None, b"again".to_vec())]);

    let wire: Vec<EtherType> = drain(&mut monitor).iter().map(|f| ethertype(f)).collect();
    assert_eq!(
        wire,
        [EtherType::NAME_ARP, EtherType::NAME_ARP, EtherType::DATA, EtherType::DATA, EtherType::DATA],
        "exactly one request and one reply, then data only"
    );
    assert_eq!(vm1.stats().requests_sent, 1);
    assert_eq!(vm2.stats().replies_sent, 1);
}

#[test]
fn reply_is_unicast_with_the_c_layout() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut peer = segment.attach(PEER).unwrap();
    peer.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0xfffe, &request_body("VM2"))).unwrap();
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Answered(PEER)]);
    let frames = drain(&mut peer);
    assert_eq!(frames.len(), 1);
    let mut expected = frame(VM2, PEER, 0xfffe, &reply_body("VM2", VM2));
    expected.resize(60, 0);
    assert_eq!(frames[0], expected);
}

#[test]
fn answers_requests_unicast_to_it_but_not_for_other_names() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut peer = segment.attach(PEER).unwrap();
    peer.transmit(&frame(PEER, VM2, 0xfffe, &request_body("VM2"))).unwrap();
    peer.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0xfffe, &request_body("VM3"))).unwrap();
    peer.transmit(&frame(PEER, VM1, 0xfffe, &request_body("VM2"))).unwrap();
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Answered(PEER)]);
    assert_eq!(vm2.stats().rx_requests_for_others, 1);
    assert_eq!(vm2.stats().rx_not_for_us, 1);
    assert_eq!(drain(&mut peer).len(), 1);
}

#[test]
fn unsolicited_reply_does_not_enter_the_cache() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut attacker = segment.attach(PEER).unwrap();
    attacker.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    attacker.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![]);
    assert_eq!(vm1.lookup(b"VM2", Instant::ZERO), None);
    assert!(vm1.cache().is_empty());
    assert_eq!(vm1.stats().rx_unsolicited_replies, 2);
}

#[test]
fn reply_for_a_pending_name_sent_to_another_station_is_ignored() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut peer = segment.attach(PEER).unwrap();
    assert_eq!(vm1.resolve(Instant::ZERO, &name("VM2")), Ok(None));
    peer.transmit(&frame(PEER, VM2, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![]);
    assert_eq!(vm1.lookup(b"VM2", Instant::ZERO), None);
    peer.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::Resolved(name("VM2"), PEER)]);
}

#[test]
fn silent_peer_fails_after_the_configured_retries() {
    let segment = Lan::new();
    let config = Config { retry_interval: Duration::from_millis(200), max_attempts: 4, ..Config::default() };
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config);
    let mut monitor = segment.attach(PEER).unwrap();
    let start = Instant::from_secs(5);
    vm1.send(start, &name("nobody"), b"one").unwrap();
    vm1.send(start, &name("nobody"), b"two").unwrap();

    let mut now = start;
    let mut failure = None;
    for _ in 0..100 {
        let events = poll(&mut vm1, now);
        if let Some(event) = events.into_iter().next() {
            failure = Some((now, event));
            break;
        }
        now += Duration::from_millis(50);
    }
    let (failed_at, event) = failure.expect("resolution never failed");
    assert_eq!(event, Seen::Failed(name("nobody"), 2));
    assert_eq!(failed_at - start, Duration::from_millis(800), "4 attempts, 200 ms apart, then one more interval");
    let requests: Vec<NameArpRepr> = drain(&mut monitor).iter().map(|f| name_arp(f)).collect();
    assert_eq!(requests, vec![NameArpRepr::Request { name: name("nobody") }; 4]);
    assert_eq!(vm1.stats().resolution_failures, 1);
    assert_eq!(vm1.stats().queue_drops, 2);

    // Held off: no new request goes out until the hold-off passes.
    let until = failed_at + Config::default().failure_holdoff;
    assert_eq!(vm1.send(failed_at, &name("nobody"), b"x"), Err(SendError::Resolve(ResolveError::HeldOff { until })));
    assert!(drain(&mut monitor).is_empty());
    assert_eq!(vm1.resolve(until, &name("nobody")), Ok(None));
    assert_eq!(drain(&mut monitor).len(), 1);
}

#[test]
fn repeated_sends_to_a_pending_name_send_one_request() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut monitor = segment.attach(PEER).unwrap();
    for i in 0..5u8 {
        assert_eq!(vm1.send(Instant::from_millis(i.into()), &name("VM2"), &[i]), Ok(Delivery::Queued));
        assert_eq!(vm1.resolve(Instant::from_millis(i.into()), &name("VM2")), Ok(None));
    }
    assert_eq!(drain(&mut monitor).len(), 1);
}

#[test]
fn poll_reports_the_next_retry_deadline() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let t = Instant::from_secs(1);
    assert_eq!(vm1.poll(t, |_| {}), Ok(None));
    vm1.resolve(t, &name("VM2")).unwrap();
    assert_eq!(vm1.poll(t, |_| {}), Ok(Some(t + Config::default().retry_interval)));
}

#[test]
fn queued_frames_keep_their_order() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut vm2 = node(&segment, VM2, "VM2");
    let t = Instant::ZERO;
    for payload in [&b"first"[..], b"second", b"third"] {
        vm1.send(t, &name("VM2"), payload).unwrap();
    }
    poll(&mut vm2, t);
    poll(&mut vm1, t);
    vm1.send(t, &name("VM2"), b"fourth").unwrap();
    let received: Vec<Vec<u8>> = poll(&mut vm2, t)
        .into_iter()
        .map(|seen| match seen {
            Seen::Data(_, _, payload) => payload,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(received, [&b"first"[..], b"second", b"third", b"fourth"]);
}

#[test]
fn expired_names_are_resolved_again() {
    let segment = Lan::new();
    let config = Config { cache_ttl: Duration::from_secs(30), ..Config::default() };
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config);
    let mut vm2 = node(&segment, VM2, "VM2");
    let t = Instant::ZERO;
    vm1.resolve(t, &name("VM2")).unwrap();
    poll(&mut vm2, t);
    poll(&mut vm1, t);
    assert_eq!(vm1.resolve(t + Duration::from_secs(29), &name("VM2")), Ok(Some(VM2)));
    assert_eq!(vm1.resolve(t + Duration::from_secs(30), &name("VM2")), Ok(None));
    assert_eq!(vm1.stats().requests_sent, 2);
}

#[test]
fn frames_orphaned_by_cache_eviction_are_resolved_again() {
    let segment = Lan::new();
    let mut vm1: Node<Port<'_>, 1> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default());
    let mut peer = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;
    vm1.send(t, &name("A"), b"to a").unwrap();
    vm1.send(t, &name("B"), b"to b").unwrap();
    drain(&mut peer);
    // Both answer before VM1 polls: B's entry evicts A's from the one-slot cache.
    peer.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("A", PEER))).unwrap();
    peer.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("B", VM2))).unwrap();
    let mut events = Vec::new();
    vm1.poll(t, |event| events.push(format!("{event:?}"))).unwrap();
    let sent = drain(&mut peer);
    assert_eq!(sent.len(), 2, "B's data and a new request for A: {events:?}");
    assert_eq!(ethertype(&sent[0]), EtherType::DATA);
    assert_eq!(name_arp(&sent[1]), NameArpRepr::Request { name: name("A") });
    peer.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("A", PEER))).unwrap();
    poll(&mut vm1, t);
    let sent = drain(&mut peer);
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0][14..18], b"to a");
}

#[test]
fn ignores_foreign_own_and_other_stations_frames() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut peer = segment.attach(PEER).unwrap();
    let ask = arp_body(ArpOperation::Request, (PEER, IP_PEER), (EthernetAddress::UNSPECIFIED, IP_VM2));
    peer.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0x0806, &ask)).unwrap();
    peer.transmit(&frame(PEER, VM2, 0x0800, &[0x45; 40])).unwrap();
    peer.transmit(&frame(PEER, VM2, 0x86dd, &[0x60; 40])).unwrap();
    peer.transmit(&frame(VM2, EthernetAddress::BROADCAST, 0xfffe, &request_body("VM2"))).unwrap();
    peer.transmit(&frame(PEER, VM1, 0xfffd, b"not for you")).unwrap();
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    let stats = vm2.stats();
    assert_eq!((stats.rx_foreign, stats.rx_own, stats.rx_not_for_us), (2, 1, 1));
    assert_eq!(stats.rx_requests_for_others, 1, "ARP for an address VM2 does not have");
    assert!(drain(&mut peer).is_empty());
}

#[test]
fn accepts_broadcast_data_and_trims_padding_of_minimum_frames() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut peer = segment.attach(PEER).unwrap();
    let mut padded = frame(PEER, EthernetAddress::BROADCAST, 0xfffd, b"hi\0");
    padded.resize(60, 0);
    peer.transmit(&padded).unwrap();
    let mut long = frame(PEER, VM2, 0xfffd, &[7; 50]);
    long.extend_from_slice(&[0, 0]);
    peer.transmit(&long).unwrap();
    let mut payload = vec![7; 50];
    payload.extend_from_slice(&[0, 0]);
    assert_eq!(
        poll(&mut vm2, Instant::ZERO),
        vec![Seen::Data(PEER, None, b"hi".to_vec()), Seen::Data(PEER, None, payload)]
    );
}

#[test]
fn malformed_frames_are_counted_and_dropped() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut peer = segment.attach(PEER).unwrap();
    let mut lying = request_body("VM2");
    lying[0] = 200;
    for bad in [
        frame(PEER, VM2, 0xfffe, &[1, 2, 3]),
        frame(PEER, VM2, 0xfffe, &lying),
        frame(EthernetAddress::BROADCAST, VM2, 0xfffd, b"group source"),
        frame(PEER, VM2, 0xfffe, &[0; 12]),
    ] {
        peer.transmit(&bad).unwrap();
    }
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    assert_eq!(vm2.stats().rx_malformed, 4);
    assert_eq!(vm2.stats().rx_frames, 4);
}

#[test]
fn send_rejects_oversized_payloads_and_a_full_queue() {
    let segment = Lan::new();
    let mut vm1: Node<Port<'_>, 8, 4, 64> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default());
    let t = Instant::ZERO;
    assert_eq!(vm1.send(t, &name("VM2"), &[0; 1501]), Err(SendError::PayloadTooLong { len: 1501, max: 1500 }));
    assert_eq!(vm1.send(t, &name("VM2"), &[0; 40]), Ok(Delivery::Queued));
    assert_eq!(vm1.send(t, &name("VM2"), &[0; 40]), Err(SendError::QueueFull));
}

#[test]
fn too_many_resolutions_is_an_error_not_a_loss() {
    let segment = Lan::new();
    let mut vm1: Node<Port<'_>, 8, 2> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default());
    let t = Instant::ZERO;
    vm1.resolve(t, &name("a")).unwrap();
    vm1.resolve(t, &name("b")).unwrap();
    assert_eq!(vm1.send(t, &name("c"), b"x"), Err(SendError::Resolve(ResolveError::TooManyResolutions)));
}

/// A device that reports every frame as longer than the buffer.
struct Oversized;

impl LinkDevice for Oversized {
    type Error = ();
    fn mac_address(&self) -> EthernetAddress {
        VM1
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        buffer.fill(0xff);
        Ok(buffer.len() + 1)
    }
    fn transmit(&mut self, _: &[u8]) -> nb::Result<(), ()> {
        Ok(())
    }
}

#[test]
fn truncated_frames_are_counted_and_polling_yields_under_a_flood() {
    let mut node: Node<Oversized> = Node::new(Oversized, name("VM1"), Config::default());
    let now = Instant::from_secs(1);
    assert_eq!(node.poll(now, |_| panic!("no event expected")), Ok(Some(now)));
    assert_eq!(node.stats().rx_truncated, 64);
}

#[test]
fn node_size_with_defaults() {
    let size = core::mem::size_of::<Node<Oversized>>();
    println!("size_of::<Node<_, 8, 4, 2048>>() = {size} bytes");
    // The target is 8 KiB (BENCHMARKS.md): 2 KiB of queue and 1514 bytes
    // of receive buffer are most of it.
    assert!(size <= 8192, "the default node grew to {size} bytes");
}

const IP_VM2: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const IP_PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 9);

fn arp_body(
    operation: ArpOperation,
    sender: (EthernetAddress, Ipv4Addr),
    target: (EthernetAddress, Ipv4Addr),
) -> Vec<u8> {
    let repr = ArpRepr {
        operation,
        source_hardware_addr: sender.0,
        source_protocol_addr: sender.1,
        target_hardware_addr: target.0,
        target_protocol_addr: target.1,
    };
    let mut body = vec![0; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut body[..]));
    body
}

fn arp(frame: &[u8]) -> ArpRepr {
    let frame = EthernetFrame::new_checked(frame).unwrap();
    ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).unwrap()).unwrap()
}

#[test]
fn answers_arp_for_its_ipv4_addresses_only() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    vm2.add_ipv4_address(IP_VM2).unwrap();
    let mut peer = segment.attach(PEER).unwrap();
    let unknown = EthernetAddress::UNSPECIFIED;
    let ask = |target| arp_body(ArpOperation::Request, (PEER, IP_PEER), (unknown, target));
    peer.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0x0806, &ask(IP_VM2))).unwrap();
    peer.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0x0806, &ask(Ipv4Addr::new(198, 18, 0, 3)))).unwrap();
    // A gratuitous announcement of someone else's address is not a question.
    let announce = arp_body(ArpOperation::Request, (PEER, IP_PEER), (unknown, IP_PEER));
    peer.transmit(&frame(PEER, EthernetAddress::BROADCAST, 0x0806, &announce)).unwrap();
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::ArpAnswered(PEER, IP_VM2)]);
    assert_eq!(vm2.stats().rx_requests_for_others, 2);
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
    let mut vm1 = node(&segment, VM1, "VM1");
    vm1.add_ipv4_address(Ipv4Addr::new(198, 18, 0, 1)).unwrap();
    let mut vm2 = node(&segment, VM2, "VM2");
    vm2.add_ipv4_address(IP_VM2).unwrap();
    let mut attacker = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;

    let lie = arp_body(ArpOperation::Reply, (PEER, IP_PEER), (VM1, Ipv4Addr::new(198, 18, 0, 1)));
    attacker.transmit(&frame(PEER, VM1, 0x0806, &lie)).unwrap();
    assert_eq!(poll(&mut vm1, t), vec![]);
    assert_eq!(vm1.lookup_ipv4(IP_PEER, t), None);
    assert_eq!(vm1.stats().rx_unsolicited_replies, 1);

    assert_eq!(vm1.resolve_ipv4(t, IP_VM2), Ok(None));
    assert_eq!(vm1.resolve_ipv4(t, IP_VM2), Ok(None), "one request in flight");
    assert_eq!(poll(&mut vm2, t), vec![Seen::ArpAnswered(VM1, IP_VM2)]);
    assert_eq!(poll(&mut vm1, t), vec![Seen::ArpResolved(IP_VM2, VM2)]);
    assert_eq!(vm1.resolve_ipv4(t, IP_VM2), Ok(Some(VM2)));
    assert_eq!(vm1.stats().arp_requests_sent, 1);
    let requests: Vec<ArpRepr> =
        drain(&mut attacker).iter().filter(|f| ethertype(f) == EtherType::ARP).map(|f| arp(f)).collect();
    assert_eq!(requests[0].source_protocol_addr, Ipv4Addr::new(198, 18, 0, 1));
}

#[test]
fn arp_resolution_of_a_silent_address_fails_after_its_retries() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut monitor = segment.attach(PEER).unwrap();
    let nobody = Ipv4Addr::new(198, 18, 0, 200);
    vm1.resolve_ipv4(Instant::ZERO, nobody).unwrap();
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

/// A delay that, while "sleeping", lets VM2 run: two stations on one
/// segment without threads or a clock, as on a pair of microcontrollers.
struct PeerRunsDuringDelay<'a, 'b> {
    peer: &'b mut Node<Port<'a>>,
    slept: Duration,
}

impl embedded_hal::delay::DelayNs for PeerRunsDuringDelay<'_, '_> {
    fn delay_ns(&mut self, ns: u32) {
        self.slept = self.slept + Duration::from_micros(u64::from(ns / 1_000));
        self.peer.poll(Instant::ZERO + self.slept, |_| {}).unwrap();
    }
}

#[test]
fn blocking_resolve_with_an_embedded_hal_delay() {
    use whohas_core::blocking::{self, BlockingError};
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut delay = PeerRunsDuringDelay { peer: &mut vm2, slept: Duration::ZERO };
    let (mac, at) = blocking::resolve(&mut vm1, &name("VM2"), Instant::ZERO, &mut delay, |_| {}).unwrap();
    assert_eq!(mac, VM2);
    assert!(at <= Instant::from_millis(2), "answered within a step or two: {at}");
    let nobody = blocking::resolve(&mut vm1, &name("VM9"), at, &mut delay, |_| {});
    assert_eq!(nobody, Err(BlockingError::NoAnswer));
    assert!(delay.slept >= Duration::from_secs(3), "three attempts a second apart: {}", delay.slept);
}
