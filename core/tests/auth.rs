//! Keyed mode: frames between stations that share a key get through; every
//! forged, altered, replayed or unsolicited one is counted and dropped
//! before the node sees it; other traffic passes untouched.

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use common::{Seen, VM1, VM2, frame, name, poll, reply_body, request_body};
use whohas_core::auth::{AuthDevice, Key};
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::node::Node;
use whohas_core::station::Config;
use whohas_core::time::Instant;
use whohas_core::wire::EthernetAddress;
use whohas_core::wire::auth::TRAILER_LEN;

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

#[test]
fn keyed_stations_talk_and_their_frames_end_with_a_trailer() {
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
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Answered(VM1)]);
    carry(&b, &[&a]);
    assert_eq!(poll(&mut vm1, Instant::ZERO), vec![Seen::Resolved(name("VM2"), VM2)]);
    let data = carry(&a, &[&b]);
    assert_eq!(data[0].len(), 60 + TRAILER_LEN);
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![Seen::Data(VM1, None, b"hi".to_vec())]);
    assert_eq!(vm2.device().stats().rx_verified, 2);
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
    poll(&mut vm2, Instant::ZERO);
    carry(&b, &[&a]);
    let seen = poll(&mut vm1, Instant::ZERO);
    assert_eq!(seen, vec![Seen::Resolved(name("VM2"), VM2)], "no conflict: forgeries never reach the node");
    assert_eq!(vm1.device().stats().rx_auth_failures, 1);
    let data = carry(&a, &[]);
    assert!(data.iter().all(|f| f[..6] == VM2.0), "the secret goes to VM2 only");
}

#[test]
fn replayed_altered_and_unsolicited_frames_are_counted_and_dropped() {
    let (a, b) = (Wire::new(VM1), Wire::new(VM2));
    let (mut vm1, mut vm2) = (keyed(&a, &KEY, 1), keyed(&b, &KEY, 2));
    vm1.at(Instant::ZERO).send(&name("VM2"), b"pay 10").unwrap();
    poll(&mut vm1, Instant::ZERO);
    let request = carry(&a, &[&b]);
    poll(&mut vm2, Instant::ZERO);
    let reply = carry(&b, &[&a]);
    poll(&mut vm1, Instant::ZERO);
    let data = carry(&a, &[&b]);
    assert_eq!(poll(&mut vm2, Instant::ZERO).len(), 1);

    // Replays: the data frame and the request again.
    b.deliver(&data[0]);
    b.deliver(&request[0]);
    assert_eq!(poll(&mut vm2, Instant::ZERO), vec![]);
    assert_eq!(vm2.device().stats().rx_replays, 2);

    // Every single-bit flip of the data frame.
    for bit in 0..data[0].len() * 8 {
        let mut altered = data[0].clone();
        altered[bit / 8] ^= 1 << (bit % 8);
        b.deliver(&altered);
        assert_eq!(poll(&mut vm2, Instant::ZERO), vec![], "bit {bit}");
    }
    // A flip in the ethertype makes a frame of another protocol, which the
    // node ignores; every other flip fails the tag.
    let stats = *vm2.device().stats();
    assert_eq!((stats.rx_passed, stats.rx_auth_failures), (16, data[0].len() as u64 * 8 - 16));

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
