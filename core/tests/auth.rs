//! Keyed mode: frames between stations that share a key get through; every
//! forged, altered, replayed or unsolicited one is counted and dropped
//! before the node sees it; other traffic passes untouched.

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use common::{Seen, VM1, VM2, frame, name, poll, reply_body, request_body};
use whohas_core::auth::{AuthDevice, Key, KeyRing};
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::node::Node;
use whohas_core::station::Config;
use whohas_core::time::Instant;
use whohas_core::wire::EthernetAddress;
use whohas_core::wire::auth::{HANDSHAKE_LEN, TRAILER_LEN};

const MALLORY: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x66]);
const KEY: Key = Key([7; 32]);

/// A device whose wire the test holds: frames to receive, frames sent.
#[derive(Clone)]
struct Wire {
    mac: EthernetAddress,
    incoming: Rc<RefCell<VecDeque<Vec<u8>>>>,
    sent: Rc<RefCell<Vec<Vec<u8>>>>,
}

impl Wire {
    fn new(mac: EthernetAddress) -> Wire {
        Wire { mac, incoming: Rc::default(), sent: Rc::default() }
    }

    fn deliver(&self, frame: &[u8]) {
        self.incoming.borrow_mut().push_back(frame.to_vec());
    }

    fn take_sent(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.sent.borrow_mut())
    }
}

impl LinkDevice for Wire {
    type Error = ();

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        let frame = self.incoming.borrow_mut().pop_front().ok_or(nb::Error::WouldBlock)?;
        buffer[..frame.len()].copy_from_slice(&frame);
        Ok(frame.len())
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        self.sent.borrow_mut().push(frame.to_vec());
        Ok(())
    }
}

type Keyed = AuthDevice<Wire, 8>;

fn keyed(wire: &Wire, key: &Key, seed: u64) -> Node<'static, Keyed> {
    let name = if wire.mac == VM1 { "VM1" } else { "VM2" };
    Node::new(AuthDevice::new(wire.clone(), key, seed), common::name(name), Config::default(), common::resources())
}

/// Moves every frame `from` sent to each of `to`.
fn carry(from: &Wire, to: &[&Wire]) -> Vec<Vec<u8>> {
    let frames = from.take_sent();
    for frame in &frames {
        for wire in to {
            wire.deliver(frame);
        }
    }
    frames
}

/// Polls two stations and carries each one's frames to the other until
/// neither sends: what each saw, and every frame carried.
fn converse(one: (&mut Node<Keyed>, &Wire), other: (&mut Node<Keyed>, &Wire)) -> (Vec<Seen>, Vec<Seen>, Vec<Vec<u8>>) {
    let (mut seen_one, mut seen_other, mut carried) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..20 {
        seen_one.extend(poll(one.0, Instant::ZERO));
        let sent = carry(one.1, &[other.1]);
        seen_other.extend(poll(other.0, Instant::ZERO));
        let answered = carry(other.1, &[one.1]);
        if sent.is_empty() && answered.is_empty() {
            return (seen_one, seen_other, carried);
        }
        carried.extend(sent.into_iter().chain(answered));
    }
    panic!("the stations never fall quiet");
}

#[test]
fn keyed_stations_admit_each_other_by_a_handshake_and_talk() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    assert_eq!(vm1.at(Instant::ZERO).max_payload_len(), 1500 - TRAILER_LEN);
    vm1.at(Instant::ZERO).send(&name("VM2"), b"hi").unwrap();
    poll(&mut vm1, Instant::ZERO);
    let request = carry(&a, &[&b]);
    assert_eq!(request.len(), 1);
    // The C program's fields first, unchanged; the trailer last.
    assert_eq!(&request[0][14..14 + 15], &request_body("VM2")[..]);
    assert_eq!(request[0].len(), 60 + TRAILER_LEN, "the node's frame, padded to 60 bytes, then the trailer");
    // VM2 has not admitted VM1 in this run: it refuses and challenges.
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    let challenge = carry(&b, &[&a]);
    assert_eq!(challenge.len(), 1);
    assert_eq!((&challenge[0][..6], &challenge[0][12..15]), (&VM1.0[..], &[0xff, 0xfc, 1][..]));
    assert_eq!(challenge[0].len(), 14 + HANDSHAKE_LEN + TRAILER_LEN);
    // VM1 answers, asks back, and asks its question again at once.
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![]);
    let answer = carry(&a, &[&b]);
    assert_eq!(answer.iter().map(|f| (f[12], f[13], f[14])).collect::<Vec<_>>(), [(0xff, 0xfc, 2), (0xff, 0xfe, 3)]);
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Answered(VM1)]);
    // VM2's answer to VM1's challenge comes before its reply.
    assert_eq!(carry(&b, &[&a]).len(), 2);
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::Resolved(name("VM2"), VM2)]);
    let data = carry(&a, &[&b]);
    assert_eq!(data[0].len(), 60 + TRAILER_LEN);
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Data(VM1, None, b"hi".to_vec())]);
    let (s1, s2) = (*vm1.device().stats(), *vm2.device().stats());
    assert_eq!((s2.rx_verified, s2.rx_unadmitted, s2.tx_challenges, s2.admissions), (2, 1, 1, 1));
    assert_eq!((s1.rx_verified, s1.tx_answers, s1.admissions), (1, 1, 1));
    assert_eq!(s2.tx_answers, 1, "VM2 answered VM1's challenge back");
}

#[test]
fn a_racing_forged_reply_is_dropped_and_the_genuine_one_wins() {
    let (a, b, m) = (Wire::new(VM1), Wire::new(VM2), Wire::new(MALLORY));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    vm1.at(Instant::ZERO).send(&name("VM2"), b"secret").unwrap();
    poll(&mut vm1, Instant::ZERO);
    carry(&a, &[&b, &m]);
    // Mallory answers first, without the key; with another key she cannot
    // even read the request.
    a.deliver(&frame(MALLORY, VM1, 0xfffe, &reply_body("VM2", MALLORY)));
    let mut wrong: Node<Keyed> =
        Node::new(AuthDevice::new(m.clone(), &Key([8; 32]), 3), name("VM2"), Config::default(), common::resources());
    assert_eq!(poll(&mut wrong, Instant::ZERO), vec![]);
    assert_eq!(wrong.device().stats().rx_auth_failures, 1);
    let (seen, _, carried) = converse((&mut vm1, &a), (&mut vm2, &b));
    assert_eq!(seen, vec![Seen::Resolved(name("VM2"), VM2)], "no conflict: forgeries never reach the node");
    assert_eq!(vm1.device().stats().rx_auth_failures, 1);
    let data: Vec<_> = carried.iter().filter(|f| f[12..14] == [0xff, 0xfd]).collect();
    assert!(!data.is_empty() && data.iter().all(|f| f[..6] == VM2.0), "the secret goes to VM2 only");
}

#[test]
fn replayed_altered_and_unsolicited_frames_are_counted_and_dropped() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    vm1.at(Instant::ZERO).send(&name("VM2"), b"pay 10").unwrap();
    let (_, seen, carried) = converse((&mut vm1, &a), (&mut vm2, &b));
    assert_eq!(seen.last(), Some(&Seen::Data(VM1, None, b"pay 10".to_vec())));
    let of = |ethertype: [u8; 2]| carried.iter().filter(move |f| f[12..14] == ethertype);
    let reply: Vec<_> = of([0xff, 0xfe]).filter(|f| f[..6] == VM1.0).cloned().collect();
    let data: Vec<_> = of([0xff, 0xfd]).cloned().collect();

    // Replays: the data frame and both copies of the request (the first,
    // from before VM1's admission, and the one sent again after it).
    b.deliver(&data[0]);
    for request in of([0xff, 0xfe]).filter(|f| f[..6] == [0xff; 6]) {
        b.deliver(request);
    }
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    assert_eq!(vm2.device().stats().rx_replays, 3);
    assert!(b.take_sent().is_empty(), "an admitted sender's replays draw no challenge");

    // Every single-bit flip of the data frame.
    for bit in 0..data[0].len() * 8 {
        let mut altered = data[0].clone();
        altered[bit / 8] ^= 1 << (bit % 8);
        b.deliver(&altered);
        assert_eq!(poll(&mut vm2, Instant::ZERO), vec![], "bit {bit}");
    }
    // A flip in the ethertype makes a frame of another protocol, which the
    // node ignores, but for the one that makes a handshake of it; every
    // other flip fails the tag.
    let stats = *vm2.device().stats();
    assert_eq!((stats.rx_passed, stats.rx_auth_failures), (15, data[0].len() as u64 * 8 - 15));

    // The genuine reply again, and to a later request: it echoes an old
    // request, so it is stale, not an answer.
    vm1.at(Instant::from_secs(100)).send(&name("VM2"), b"x").unwrap();
    a.deliver(&reply[0]);
    poll(&mut vm1, Instant::from_secs(100));
    assert_eq!(vm1.device().stats().rx_replays + vm1.device().stats().rx_stale_replies, 1);

    // A restarted VM1 (new epoch) did not ask: VM2's old reply is stale.
    let a2 = Wire::new(VM1);
    let mut vm1_again = keyed(&a2, &KEY, 99);
    a2.deliver(&reply[0]);
    assert_eq!(poll(&mut vm1_again, Instant::ZERO), vec![]);
    assert_eq!(vm1_again.device().stats().rx_stale_replies, 1);
}

/// VM1 tells VM2 `message`; every frame of the conversation.
fn tell(vm1: (&mut Node<Keyed>, &Wire), vm2: (&mut Node<Keyed>, &Wire), message: &[u8]) -> Vec<Vec<u8>> {
    vm1.0.at(Instant::ZERO).send(&name("VM2"), message).unwrap();
    let (_, seen, carried) = converse(vm1, vm2);
    assert_eq!(
        seen.iter().filter(|s| matches!(s, Seen::Data(..))).collect::<Vec<_>>(),
        [&Seen::Data(VM1, None, message.to_vec())]
    );
    carried
}

/// Delivers `frames` to a station: what it saw.
fn replay(frames: &[Vec<u8>], to: (&mut Node<Keyed>, &Wire)) -> Vec<Seen> {
    for frame in frames {
        to.1.deliver(frame);
    }
    poll(to.0, Instant::ZERO)
}

#[test]
fn a_restarted_receiver_refuses_every_frame_recorded_before_it_started() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    let recorded = tell((&mut vm1, &a), (&mut vm2, &b), b"pay 10 to alice");
    let from_vm1: Vec<_> = recorded.iter().filter(|f| f[6..12] == VM1.0).cloned().collect();

    // VM2 restarts; VM1 runs on. The whole recording, VM1's answers to the
    // old challenges included, is replayed to the new VM2.
    let b2 = Wire::new(VM2);
    let mut vm2 = keyed(&b2, &KEY, 3);
    assert_eq!(replay(&from_vm1, (&mut vm2, &b2)), vec![], "nothing is delivered again");
    let stats = *vm2.device().stats();
    assert_eq!((stats.rx_verified, stats.rx_unadmitted, stats.admissions), (0, 3, 0), "{stats:?}");
    assert_eq!(stats.rx_stale_handshakes, 1, "VM1's answer echoes the old VM2's nonce");
    assert_eq!(stats.tx_challenges, 2, "to the real VM1, for the first and second frames refused (then rarer)");
    // The real VM1 answers it: it is admitted from its current counter on,
    // and the recording is still refused, now as replays.
    carry(&b2, &[&a]);
    poll(&mut vm1, Instant::ZERO);
    carry(&a, &[&b2]);
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    assert_eq!(vm2.device().stats().admissions, 1);
    assert_eq!(replay(&from_vm1, (&mut vm2, &b2)), vec![], "nothing is delivered again");
    assert_eq!(vm2.device().stats().rx_replays, 3);
    // VM1's next message arrives, once.
    tell((&mut vm1, &a), (&mut vm2, &b2), b"pay 20 to bob");
}

/// A group rotates its key from OLD to NEW in three steps, one station
/// after the other, talking between each: every station accepts NEW before
/// any signs with it, and accepts OLD until none does. No frame is lost on
/// the way; afterwards OLD is refused.
#[test]
fn a_key_rotation_one_station_at_a_time_loses_no_frame() {
    const OLD: Key = KEY;
    const NEW: Key = Key([9; 32]);
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &OLD, 1), keyed(&b, &OLD, 2));
    tell((&mut vm1, &a), (&mut vm2, &b), b"before");
    let steps = [
        ("add", KeyRing::new(&OLD, Some(&NEW))),
        ("promote", KeyRing::new(&NEW, Some(&OLD))),
        ("retire", KeyRing::new(&NEW, None)),
    ];
    for (step, keys) in steps {
        vm1.device_mut().set_keys(keys.clone());
        tell((&mut vm1, &a), (&mut vm2, &b), format!("{step}: one station").as_bytes());
        vm2.device_mut().set_keys(keys);
        tell((&mut vm1, &a), (&mut vm2, &b), format!("{step}: both").as_bytes());
    }
    let (s1, s2) = (*vm1.device().stats(), *vm2.device().stats());
    assert_eq!((s1.rx_auth_failures, s2.rx_auth_failures), (0, 0), "{s1:?} {s2:?}");
    assert!(s2.rx_second_key > 0, "VM1 signed with NEW while VM2 still signed with OLD: {s2:?}");
    // A station left on OLD is now refused.
    let c = Wire::new(VM1);
    let mut stale = keyed(&c, &OLD, 3);
    stale.at(Instant::ZERO).send(&name("VM2"), b"still old").unwrap();
    poll(&mut stale, Instant::ZERO);
    assert_eq!(replay(&carry(&c, &[]), (&mut vm2, &b)), vec![]);
    assert_eq!(vm2.device().stats().rx_auth_failures, 1);
}

#[test]
fn a_restarted_senders_old_frames_are_refused() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    let recorded = tell((&mut vm1, &a), (&mut vm2, &b), b"pay 10 to alice");
    let from_vm1: Vec<_> = recorded.iter().filter(|f| f[6..12] == VM1.0).cloned().collect();
    // VM1 restarts (a new epoch) and talks again; then its old frames are
    // replayed to VM2.
    let a2 = Wire::new(VM1);
    let mut vm1 = keyed(&a2, &KEY, 4);
    tell((&mut vm1, &a2), (&mut vm2, &b), b"pay 20 to bob");
    assert_eq!(replay(&from_vm1, (&mut vm2, &b)), vec![]);
    // The old epoch is not admitted: VM2 asks VM1, whose answer is in the
    // epoch it knows already, which changes nothing.
    let (_, seen, _) = converse((&mut vm1, &a2), (&mut vm2, &b));
    assert_eq!(seen, vec![]);
    assert_eq!(replay(&from_vm1, (&mut vm2, &b)), vec![]);
    let stats = *vm2.device().stats();
    assert_eq!(stats.rx_verified, 4, "the two requests and two messages, each once: {stats:?}");
}

#[test]
fn reflected_and_misdirected_frames_are_refused() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    let recorded = tell((&mut vm1, &a), (&mut vm2, &b), b"pay 10 to alice");
    let from_vm1: Vec<_> = recorded.iter().filter(|f| f[6..12] == VM1.0).cloned().collect();
    // VM1's own frames, sent back to it.
    assert_eq!(replay(&from_vm1, (&mut vm1, &a)), vec![]);
    assert_eq!(vm1.device().stats().rx_reflected, from_vm1.len() as u64);
    // VM1's frames to VM2, replayed to a third station that VM1 has talked
    // to: the unicast ones are not for it, and the broadcast request was
    // sent before the third station admitted VM1.
    let c = Wire::new(MALLORY);
    let mut vm3: Node<Keyed> =
        Node::new(AuthDevice::new(c.clone(), &KEY, 5), name("VM3"), Config::default(), common::resources());
    vm1.at(Instant::ZERO).send(&name("VM3"), b"hello VM3").unwrap();
    converse((&mut vm1, &a), (&mut vm3, &c));
    assert_eq!(replay(&from_vm1, (&mut vm3, &c)), vec![]);
    let stats = *vm3.device().stats();
    assert_eq!(stats.rx_misdirected, 2, "VM1's answer to VM2's challenge, and its data: {stats:?}");
    assert_eq!(stats.rx_replays, 2, "the two copies of the request for VM2");
}

#[test]
fn a_sender_forgotten_for_lack_of_room_is_refused_not_trusted() {
    type Small = AuthDevice<Wire, 1>;
    let (a, b, c) = (Wire::new(VM1), Wire::new(VM2), Wire::new(MALLORY));
    let mut vm1 = keyed(&a, &KEY, 1);
    let mut vm2: Node<Small> =
        Node::new(AuthDevice::new(b.clone(), &KEY, 2), name("VM2"), Config::default(), common::resources());
    let mut vm3: Node<Keyed> =
        Node::new(AuthDevice::new(c.clone(), &KEY, 3), name("VM3"), Config::default(), common::resources());
    vm1.at(Instant::ZERO).send(&name("VM2"), b"once").unwrap();
    // Carry by hand: the two nodes' devices differ in size.
    let mut recorded = Vec::new();
    for _ in 0..6 {
        poll(&mut vm1, Instant::ZERO);
        recorded.extend(carry(&a, &[&b]));
        poll(&mut vm2, Instant::ZERO);
        carry(&b, &[&a]);
    }
    assert_eq!(vm2.device().stats().rx_verified, 2, "the request and the message");
    // VM3 takes VM2's only room.
    vm3.at(Instant::ZERO).send(&name("VM2"), b"me too").unwrap();
    for _ in 0..6 {
        poll(&mut vm3, Instant::ZERO);
        carry(&c, &[&b]);
        poll(&mut vm2, Instant::ZERO);
        carry(&b, &[&c]);
    }
    assert_eq!(vm2.device().stats().rx_verified, 4);
    for frame in &recorded {
        b.deliver(frame);
    }
    let seen = poll(&mut vm2, Instant::ZERO);
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(vm2.device().stats().rx_verified, 4, "VM1's frames are refused once VM1 is forgotten");
    assert!(vm2.device().stats().rx_unadmitted >= 3);
}

/// What the fuzz target `auth` found (issue 21): frames signed with the key
/// but claiming more source addresses than the replay table holds, fed
/// twice, got through twice once the table forgot their senders. Now an
/// unadmitted sender is refused, so the second copies never get through.
#[test]
fn signed_frames_claiming_more_senders_than_the_table_holds_get_through_once_at_most() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let mut sender: Keyed = AuthDevice::new(a.clone(), &KEY, 1);
    let mut receiver: AuthDevice<Wire, 4> = AuthDevice::new(b.clone(), &KEY, 2);
    let mut buffer = [0u8; 1514];
    let drain = |device: &mut AuthDevice<Wire, 4>| while device.receive(&mut [0u8; 1514]).is_ok() {};
    // The sender's own address, admitted, among 15 others.
    sender.transmit(&frame(VM1, VM2, 0xfffd, b"hello")).unwrap();
    for _ in 0..2 {
        carry(&a, &[&b]);
        drain(&mut receiver);
        for challenge in b.take_sent() {
            sender.inner().deliver(&challenge);
        }
        while sender.receive(&mut buffer).is_ok() {}
    }
    assert_eq!(receiver.stats().admissions, 1);
    let claimed: Vec<EthernetAddress> = (0..16u8).map(|i| EthernetAddress([2, 0, 0, 0, 0, i])).collect();
    for round in 0..3u8 {
        for &src in &claimed {
            sender.transmit(&frame(src, VM2, 0xfffd, &[round; 20])).unwrap();
        }
    }
    let signed = a.take_sent();
    for frame in &signed {
        b.deliver(frame);
    }
    drain(&mut receiver);
    let once = receiver.stats().rx_verified;
    assert_eq!(once, 3, "only the admitted sender's three frames");
    for frame in signed.iter().chain(&signed) {
        b.deliver(frame);
    }
    drain(&mut receiver);
    assert_eq!(receiver.stats().rx_verified, once, "no second copy gets through");
}

#[test]
fn unkeyed_frames_never_reach_a_keyed_node_and_other_ethertypes_pass() {
    let a = Wire::new(VM1);
    let mut vm1 = keyed(&a, &KEY, 1);
    a.deliver(&frame(MALLORY, EthernetAddress::BROADCAST, 0xfffe, &request_body("VM1")));
    a.deliver(&frame(MALLORY, VM1, 0xfffd, b"unsigned data"));
    a.deliver(&frame(MALLORY, VM1, 0xfffd, &[0; 10]));
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![], "no answer, no data");
    assert!(a.take_sent().is_empty(), "a keyed node never answers an unauthenticated request");
    assert_eq!(vm1.device().stats().rx_auth_failures, 3);
    a.deliver(&frame(MALLORY, VM1, 0x0800, &[0x45; 40]));
    poll(&mut vm1, Instant::ZERO);
    assert_eq!(vm1.device().stats().rx_passed, 1);
    assert_eq!(vm1.stats().link.rx_foreign, 1);
}

#[test]
fn a_keyed_stream_arrives_whole_in_segments_that_leave_room_for_the_trailer() {
    use whohas_core::transfer::{MAX_SEGMENT, Transfer, TransferConfig};
    type Station = Node<'static, AuthDevice<common::HubPort, 8>, Transfer<2, 16>>;
    let hub = common::Hub::new();
    let config = TransferConfig { max_segment: MAX_SEGMENT - TRAILER_LEN, ..TransferConfig::default() };
    let station = |mac, me: &str, seed| -> Station {
        Node::with_services(
            AuthDevice::new(hub.attach(mac), &KEY, seed),
            name(me),
            Config::default(),
            common::resources(),
            Transfer::new(config, seed),
        )
    };
    let (mut a, mut b) = (station(VM1, "VM1", 1), station(VM2, "VM2", 2));
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let conn = a.services_mut().open(&name("VM2"), b"file", Instant::ZERO).unwrap();
    let (mut written, mut got, mut closed) = (0, Vec::new(), None);
    let mut now = Instant::ZERO;
    while closed.is_none() {
        if written < data.len() {
            written += a.services_mut().write(conn, &data[written..]).unwrap();
            if written == data.len() {
                a.services_mut().finish(conn).unwrap();
            }
        }
        let mut log = common::TransferLog { closed: &mut closed, received: &mut got };
        a.poll(now, &mut log).unwrap();
        b.poll(now, &mut log).unwrap();
        now += whohas_core::time::Duration::from_micros(100);
        assert!(now < Instant::from_secs(30), "the transfer finishes");
    }
    assert_eq!(closed, Some(0));
    assert_eq!(got, data);
    let (sa, sb) = (*a.device().stats(), *b.device().stats());
    assert_eq!((sa.rx_auth_failures, sb.rx_auth_failures, sa.rx_replays, sb.rx_replays), (0, 0, 0, 0));
    assert!(sb.rx_verified > 200_000 / MAX_SEGMENT as u64);
}

proptest::proptest! {
    /// What the fuzz target checks, in CI: no frame built without the key
    /// gets through, whatever its bytes; a signed frame with any bytes
    /// changed does not either; nothing panics.
    #[test]
    fn no_frame_without_the_key_gets_through(
        frames in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..200), 1..20),
        flips in proptest::collection::vec((0usize..92, 1u8..=255), 1..4),
    ) {
        let wire = Wire::new(VM2);
        let mut device: Keyed = AuthDevice::new(wire.clone(), &KEY, 1);
        let mut buffer = [0u8; 1514];
        for frame in &frames {
            let mut frame = frame.clone();
            if frame.len() >= 14 {
                // Half of them claim a whohas ethertype.
                if frame[0] % 2 == 0 {
                    frame[12..14].copy_from_slice(&[0xff, 0xfd]);
                }
            }
            wire.deliver(&frame);
        }
        while device.receive(&mut buffer).is_ok() {}
        proptest::prop_assert_eq!(device.stats().rx_verified, 0);

        let sender_wire = Wire::new(VM1);
        let mut sender: Keyed = AuthDevice::new(sender_wire.clone(), &KEY, 3);
        sender.transmit(&frame(VM1, VM2, 0xfffd, b"genuine")).unwrap();
        let genuine = sender_wire.take_sent().remove(0);
        let mut altered = genuine.clone();
        for (at, mask) in flips {
            let at = at % altered.len();
            if at != 12 && at != 13 {
                altered[at] ^= mask;
            }
        }
        proptest::prop_assume!(altered != genuine);
        wire.deliver(&altered);
        let before = device.stats().rx_verified;
        while device.receive(&mut buffer).is_ok() {}
        proptest::prop_assert_eq!(device.stats().rx_verified, before);
    }
}
