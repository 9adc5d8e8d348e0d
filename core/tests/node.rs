//! Every rule of the node's name-ARP and data handling, on the in-memory
//! segment.

mod common;

use common::*;
use whohas_core::device::{Capabilities, LinkDevice, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::station::{Config, Delivery, ResolveError, Resources, SendError};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{EtherType, EthernetAddress, NameArpRepr};

type Port<'a> = SegmentPort<'a, 4, 32>;
type Lan = Segment<4, 32>;

fn node<'a>(segment: &'a Lan, mac: EthernetAddress, me: &str) -> Node<'a, Port<'a>> {
    Node::new(segment.attach(mac).unwrap(), name(me), Config::default(), common::resources())
}

#[test]
fn seed_conversation_second_message_uses_the_cache() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut monitor = segment.attach(PEER).unwrap();
    let t = Instant::from_secs(1);

    assert_eq!(vm1.at(t).send(&name("VM2"), b"Hi Hello").unwrap(), Delivery::Queued);
    assert_eq!(poll(&mut vm2, t), vec![Seen::Answered(VM1)]);
    assert_eq!(poll(&mut vm1, t), vec![Seen::Resolved(name("VM2"), VM2)]);
    assert_eq!(poll(&mut vm2, t), vec![Seen::Data(VM1, None, b"Hi Hello".to_vec())]);
    vm2.at(t).send_to_address(VM1, b"Nice to meet you!\n").unwrap();
    assert_eq!(poll(&mut vm1, t), vec![Seen::Data(VM2, Some(name("VM2")), b"Nice to meet you!\n".to_vec())]);

    let later = t + Duration::from_secs(10);
    assert_eq!(vm1.at(later).send(&name("VM2"), b"again").unwrap(), Delivery::Sent);
    assert_eq!(poll(&mut vm2, later), vec![Seen::Data(VM1, None, b"again".to_vec())]);

    let wire: Vec<EtherType> = drain(&mut monitor).iter().map(|f| ethertype(f)).collect();
    assert_eq!(
        wire,
        [EtherType::NAME_ARP, EtherType::NAME_ARP, EtherType::DATA, EtherType::DATA, EtherType::DATA],
        "exactly one request and one reply, then data only"
    );
    assert_eq!(vm1.stats().name_arp.requests_sent, 1);
    assert_eq!(vm2.stats().name_arp.replies_sent, 1);
}

#[test]
fn a_handler_answers_every_sender_of_one_poll() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut clients = [segment.attach(VM1).unwrap(), segment.attach(PEER).unwrap()];
    for (i, client) in clients.iter_mut().enumerate() {
        client.transmit(&frame(client.mac_address(), VM2, 0xfffd, &[b'0' + i as u8; 20])).unwrap();
    }
    let mut answered = Vec::new();
    vm2.poll(
        Instant::ZERO,
        &mut from_fn(|ctx, event| {
            if let whohas_core::Event::Data { from, .. } = event {
                assert_eq!(ctx.send_to_address(from, b"Nice to meet you!\n"), Ok(Delivery::Sent));
                answered.push(from);
            }
        }),
    )
    .unwrap();
    assert_eq!(answered, [VM1, PEER]);
    for client in &mut clients {
        let got: Vec<Vec<u8>> = drain(client).into_iter().filter(|f| f[..6] == client.mac_address().0).collect();
        assert_eq!(got.len(), 1, "{} got its own answer", client.mac_address());
    }
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
    assert_eq!(vm2.stats().name_arp.rx_requests_for_others, 1);
    assert_eq!(vm2.stats().link.rx_not_for_us, 1);
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
    assert_eq!(vm1.at(Instant::ZERO).lookup(&name("VM2")), None);
    assert!(vm1.cache().is_empty());
    assert_eq!(vm1.stats().name_arp.rx_unsolicited_replies, 2);
}

#[test]
fn reply_for_a_pending_name_sent_to_another_station_is_ignored() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut peer = segment.attach(PEER).unwrap();
    assert_eq!(vm1.at(Instant::ZERO).resolve(&name("VM2")), Ok(None));
    peer.transmit(&frame(PEER, VM2, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![]);
    assert_eq!(vm1.at(Instant::ZERO).lookup(&name("VM2")), None);
    peer.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::Resolved(name("VM2"), PEER)]);
}

#[test]
fn a_reply_naming_another_mac_than_its_source_is_dropped() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut attacker = segment.attach(PEER).unwrap();
    vm1.at(Instant::ZERO).resolve(&name("VM2")).unwrap();
    // The attacker answers in VM2's name but points at a third MAC.
    attacker.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", VM2))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![]);
    assert_eq!(vm1.stats().name_arp.rx_mismatched_replies, 1);
    assert_eq!(vm1.at(Instant::ZERO).lookup(&name("VM2")), None, "still resolving");
    attacker.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("VM2", VM2))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::Resolved(name("VM2"), VM2)]);
}

#[test]
fn a_second_answer_from_another_station_is_a_conflict() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut others = segment.attach(PEER).unwrap();
    let t = Instant::from_secs(1);
    vm1.at(t).resolve(&name("VM2")).unwrap();
    others.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("VM2", VM2))).unwrap();
    others.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("VM2", VM2))).unwrap();
    others.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(
        poll(&mut vm1, t),
        vec![Seen::Resolved(name("VM2"), VM2), Seen::NameConflict(name("VM2"), VM2, PEER)],
        "a repeat of the first answer is no conflict; another MAC is"
    );
    assert_eq!(vm1.at(t).lookup(&name("VM2")), Some(VM2), "the first answer stays cached");
    let stats = vm1.stats().name_arp;
    assert_eq!((stats.rx_repeated_replies, stats.conflicts), (1, 1));
    // One retry interval later the window has closed: a late answer is unsolicited.
    let later = t + Config::default().retry_interval;
    poll(&mut vm1, later);
    others.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, later), vec![]);
    assert_eq!(vm1.stats().name_arp.rx_unsolicited_replies, 1);
}

#[test]
fn a_new_answer_replacing_a_cached_mac_says_so() {
    let segment = Lan::new();
    let config = Config { cache_ttl: Duration::from_secs(30), ..Config::default() };
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config, common::resources());
    let mut others = segment.attach(PEER).unwrap();
    vm1.at(Instant::ZERO).resolve(&name("VM2")).unwrap();
    others.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("VM2", VM2))).unwrap();
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::Resolved(name("VM2"), VM2)]);
    // The entry expires; VM2 has been replaced by a machine with another MAC.
    let later = Instant::from_secs(40);
    assert_eq!(vm1.at(later).resolve(&name("VM2")), Ok(None));
    others.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("VM2", PEER))).unwrap();
    assert_eq!(poll(&mut vm1, later), vec![Seen::Moved(name("VM2"), VM2, PEER)]);
}

#[test]
fn traffic_from_a_cached_station_does_not_refresh_its_name() {
    let segment = Lan::new();
    let config = Config { cache_ttl: Duration::from_secs(30), ..Config::default() };
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config, common::resources());
    let mut vm2 = segment.attach(VM2).unwrap();
    vm1.at(Instant::ZERO).resolve(&name("VM2")).unwrap();
    vm2.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("VM2", VM2))).unwrap();
    poll(&mut vm1, Instant::ZERO);
    vm2.transmit(&frame(VM2, VM1, 0xfffd, b"still here")).unwrap();
    assert_eq!(
        poll(&mut vm1, Instant::from_secs(29)),
        vec![Seen::Data(VM2, Some(name("VM2")), b"still here".to_vec())]
    );
    assert_eq!(
        vm1.at(Instant::from_secs(30)).lookup(&name("VM2")),
        None,
        "only an answer to a request refreshes a name"
    );
}

#[test]
fn silent_peer_fails_after_the_configured_retries() {
    let segment = Lan::new();
    let config = Config { retry_interval: Duration::from_millis(200), max_attempts: 4, ..Config::default() };
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config, common::resources());
    let mut monitor = segment.attach(PEER).unwrap();
    let start = Instant::from_secs(5);
    vm1.at(start).send(&name("nobody"), b"one").unwrap();
    vm1.at(start).send(&name("nobody"), b"two").unwrap();

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
    assert_eq!(vm1.stats().name_arp.failures, 1);
    assert_eq!(vm1.stats().data.queue_drops, 2);

    // Held off: no new request goes out until the hold-off passes.
    let until = failed_at + Config::default().failure_holdoff;
    assert_eq!(vm1.at(failed_at).send(&name("nobody"), b"x"), Err(SendError::Resolve(ResolveError::HeldOff { until })));
    assert!(drain(&mut monitor).is_empty());
    assert_eq!(vm1.at(until).resolve(&name("nobody")), Ok(None));
    assert_eq!(drain(&mut monitor).len(), 1);
}

#[test]
fn repeated_sends_to_a_pending_name_send_one_request() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut monitor = segment.attach(PEER).unwrap();
    for i in 0..5u8 {
        assert_eq!(vm1.at(Instant::from_millis(i.into())).send(&name("VM2"), &[i]), Ok(Delivery::Queued));
        assert_eq!(vm1.at(Instant::from_millis(i.into())).resolve(&name("VM2")), Ok(None));
    }
    assert_eq!(drain(&mut monitor).len(), 1);
}

#[test]
fn sending_to_a_cached_peer_behind_a_busy_device_asks_nobody() {
    let segment = Lan::new();
    let (gate, busy) = Gate::new(segment.attach(VM1).unwrap());
    let mut vm1: Node<_> = Node::new(gate, name("VM1"), Config::default(), common::resources());
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut monitor = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;
    vm1.at(t).resolve(&name("VM2")).unwrap();
    poll(&mut vm2, t);
    assert_eq!(poll(&mut vm1, t), vec![Seen::Resolved(name("VM2"), VM2)]);
    drain(&mut monitor);

    busy.set(true);
    assert_eq!(vm1.at(t).send(&name("VM2"), b"first"), Ok(Delivery::Queued), "the device is full");
    assert_eq!(vm1.at(t).send(&name("VM2"), b"second"), Ok(Delivery::Queued), "behind the first, not resolved again");
    poll(&mut vm1, t);
    assert!(vm1.is_tx_blocked());
    busy.set(false);
    let later = t + Duration::from_secs(5);
    assert_eq!(poll(&mut vm1, later), vec![], "no second Resolved, no failure");
    let wire = drain(&mut monitor);
    let payloads: Vec<&[u8]> = wire.iter().map(|f| &f[14..]).collect();
    assert!(wire.iter().all(|f| ethertype(f) == EtherType::DATA), "no name-ARP request: {wire:?}");
    assert!(payloads[0].starts_with(b"first") && payloads[1].starts_with(b"second"));
    assert_eq!(vm1.stats().name_arp.requests_sent, 1);
}

#[test]
fn answers_to_addresses_wait_for_a_busy_device_in_order() {
    let segment = Lan::new();
    let (gate, busy) = Gate::new(segment.attach(VM2).unwrap());
    let mut vm2: Node<_> = Node::new(gate, name("VM2"), Config::default(), common::resources());
    let mut vm1 = segment.attach(VM1).unwrap();
    busy.set(true);
    assert_eq!(vm2.at(Instant::ZERO).send_to_address(VM1, b"one"), Ok(Delivery::Queued));
    assert_eq!(vm2.at(Instant::ZERO).send_to_address(VM1, b"two"), Ok(Delivery::Queued));
    busy.set(false);
    assert_eq!(vm2.at(Instant::ZERO).send_to_address(VM1, b"three"), Ok(Delivery::Queued), "behind the others");
    poll(&mut vm2, Instant::ZERO);
    let got: Vec<Vec<u8>> =
        drain(&mut vm1).iter().map(|f| f[14..].iter().copied().take_while(|&b| b != 0).collect()).collect();
    assert_eq!(got, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
}

#[test]
fn poll_reports_the_next_retry_deadline() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let t = Instant::from_secs(1);
    let mut idle = from_fn(|_, _| {});
    assert_eq!(vm1.poll(t, &mut idle), Ok(None));
    vm1.at(t).resolve(&name("VM2")).unwrap();
    assert_eq!(vm1.poll(t, &mut idle), Ok(Some(t + Config::default().retry_interval)));
}

#[test]
fn queued_frames_keep_their_order() {
    let segment = Lan::new();
    let mut vm1 = node(&segment, VM1, "VM1");
    let mut vm2 = node(&segment, VM2, "VM2");
    let t = Instant::ZERO;
    for payload in [&b"first"[..], b"second", b"third"] {
        vm1.at(t).send(&name("VM2"), payload).unwrap();
    }
    poll(&mut vm2, t);
    poll(&mut vm1, t);
    vm1.at(t).send(&name("VM2"), b"fourth").unwrap();
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
    let mut vm1: Node<Port<'_>> = Node::new(segment.attach(VM1).unwrap(), name("VM1"), config, common::resources());
    let mut vm2 = node(&segment, VM2, "VM2");
    let t = Instant::ZERO;
    vm1.at(t).resolve(&name("VM2")).unwrap();
    poll(&mut vm2, t);
    poll(&mut vm1, t);
    assert_eq!(vm1.at(t + Duration::from_secs(29)).resolve(&name("VM2")), Ok(Some(VM2)));
    assert_eq!(vm1.at(t + Duration::from_secs(30)).resolve(&name("VM2")), Ok(None));
    assert_eq!(vm1.stats().name_arp.requests_sent, 2);
}

#[test]
fn frames_orphaned_by_cache_eviction_are_resolved_again() {
    let segment = Lan::new();
    let mut resources = Resources::<1, 4, 1>::new();
    let mut vm1: Node<Port<'_>> =
        Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default(), &mut resources);
    let mut peer = segment.attach(PEER).unwrap();
    let t = Instant::ZERO;
    vm1.at(t).send(&name("A"), b"to a").unwrap();
    vm1.at(t).send(&name("B"), b"to b").unwrap();
    drain(&mut peer);
    // Both answer before VM1 polls: B's entry evicts A's from the one-slot cache.
    peer.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("A", PEER))).unwrap();
    peer.transmit(&frame(VM2, VM1, 0xfffe, &reply_body("B", VM2))).unwrap();
    let events = poll(&mut vm1, t);
    let sent = drain(&mut peer);
    assert_eq!(sent.len(), 2, "B's data and a new request for A: {events:?}");
    let (data, requests): (Vec<_>, Vec<_>) = sent.iter().partition(|f| ethertype(f) == EtherType::DATA);
    assert_eq!(&data[0][14..18], b"to b");
    assert_eq!(name_arp(requests[0]), NameArpRepr::Request { name: name("A") });
    // The new answer comes after A's answer window has closed.
    let later = t + Config::default().retry_interval;
    poll(&mut vm1, later);
    peer.transmit(&frame(PEER, VM1, 0xfffe, &reply_body("A", PEER))).unwrap();
    poll(&mut vm1, later);
    let sent: Vec<Vec<u8>> = drain(&mut peer).into_iter().filter(|f| ethertype(f) == EtherType::DATA).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0][14..18], b"to a");
}

#[test]
fn ignores_foreign_own_and_other_stations_frames() {
    let segment = Lan::new();
    let mut vm2 = node(&segment, VM2, "VM2");
    let mut peer = segment.attach(PEER).unwrap();
    peer.transmit(&frame(PEER, VM2, 0x0800, &[0x45; 40])).unwrap();
    // IPv6 other than neighbour discovery: a UDP header with no payload.
    let udp6 = [&[0x60, 0, 0, 0, 0, 0, 17, 64][..], &[0x20; 32]].concat();
    peer.transmit(&frame(PEER, VM2, 0x86dd, &udp6)).unwrap();
    peer.transmit(&frame(VM2, EthernetAddress::BROADCAST, 0xfffe, &request_body("VM2"))).unwrap();
    peer.transmit(&frame(PEER, VM1, 0xfffd, b"not for you")).unwrap();
    peer.transmit(&frame(PEER, EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]), 0xfffd, b"multicast")).unwrap();
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    let stats = vm2.stats().link;
    assert_eq!((stats.rx_foreign, stats.rx_own, stats.rx_not_for_us), (2, 1, 2));
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
    assert_eq!(vm2.stats().name_arp.rx_malformed, 3);
    assert_eq!(vm2.stats().link.rx_malformed, 1);
    assert_eq!(vm2.stats().link.rx_frames, 4);
}

#[test]
fn send_rejects_oversized_payloads_and_a_full_queue() {
    let segment = Lan::new();
    let mut resources = Resources::<8, 4, 8, 4, 64>::new();
    let mut vm1: Node<Port<'_>> =
        Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default(), &mut resources);
    let t = Instant::ZERO;
    assert_eq!(vm1.at(t).send(&name("VM2"), &[0; 1501]), Err(SendError::PayloadTooLong { len: 1501, max: 1500 }));
    assert_eq!(vm1.at(t).send_to_address(VM2, &[0; 1501]), Err(SendError::PayloadTooLong { len: 1501, max: 1500 }));
    assert_eq!(vm1.at(t).send(&name("VM2"), &[0; 40]), Ok(Delivery::Queued));
    assert_eq!(vm1.at(t).send(&name("VM2"), &[0; 40]), Err(SendError::QueueFull));
}

#[test]
fn too_many_resolutions_is_an_error_not_a_loss() {
    let segment = Lan::new();
    let mut resources = Resources::<8, 2, 8, 2>::new();
    let mut vm1: Node<Port<'_>> =
        Node::new(segment.attach(VM1).unwrap(), name("VM1"), Config::default(), &mut resources);
    let t = Instant::ZERO;
    vm1.at(t).resolve(&name("a")).unwrap();
    vm1.at(t).resolve(&name("b")).unwrap();
    assert_eq!(vm1.at(t).send(&name("c"), b"x"), Err(SendError::Resolve(ResolveError::TooManyResolutions)));
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
    let mut node: Node<Oversized> = Node::new(Oversized, name("VM1"), Config::default(), common::resources());
    let now = Instant::from_secs(1);
    assert_eq!(node.poll(now, &mut from_fn(|_, event| panic!("no event expected: {event:?}"))), Ok(Some(now)));
    assert_eq!(node.stats().link.rx_truncated, 64);
}

#[test]
fn readme_states_the_measured_node_size() {
    // The README states the size of a microcontroller's node: without the
    // `jumbo` feature (which a workspace build turns on for the host
    // crates), whose only cost is a longer receive buffer.
    use whohas_core::wire::ethernet::{MAX_BUFFERED_FRAME_LEN, MAX_FRAME_LEN};
    let align = core::mem::align_of::<Resources>();
    let storage =
        (core::mem::size_of::<Resources>() - (MAX_BUFFERED_FRAME_LEN - MAX_FRAME_LEN)).next_multiple_of(align);
    let node = core::mem::size_of::<Node<Oversized>>();
    println!("size_of::<Resources>() without jumbo = {storage} bytes, size_of::<Node<_>>() = {node}");
    // The target is 8 KiB: 2 KiB of queue and 1514 bytes of receive buffer
    // are most of it.
    assert!(storage + node <= 8192, "the default node grew to {storage} + {node} bytes");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let stated = format!("its `Resources` take {storage} bytes, and the node itself {node} bytes plus the device");
    assert!(readme.contains(&stated), "README.md must say \"{stated}\" (the sizes this test measures)");
}
