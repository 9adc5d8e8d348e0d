//! The ARP scanner against simulated hosts (nodes answering ARP) on the
//! in-memory segment, with and without an unreliable link.

use std::net::Ipv4Addr;

mod common;

use whohas_core::device::{FaultConfig, FaultInjector, LinkDevice, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::scan::{Ipv4Range, RangeTooLarge, Rate, ScanConfig, ScanEvent, ScanStatus, Scanner};
use whohas_core::station::{Config, Event};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::{ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, Name};

type Lan = Segment<12, 8>;
type Port<'a> = SegmentPort<'a, 12, 8>;

const SCANNER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const STEP: Duration = Duration::from_micros(100);

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, last)
}

fn mac(last: u8) -> EthernetAddress {
    EthernetAddress([2, 0, 0, 0, 1, last])
}

/// A host answering ARP for 198.18.0.`last`.
fn host<'a>(lan: &'a Lan, last: u8, mac_last: u8) -> Node<'a, Port<'a>> {
    let mut node: Node<Port<'a>> = Node::new(
        lan.attach(mac(mac_last)).unwrap(),
        Name::try_from(format!("h{last}").as_str()).unwrap(),
        Config::default(),
        common::resources(),
    );
    node.add_ipv4_address(ip(last)).unwrap();
    node
}

fn config() -> ScanConfig {
    ScanConfig { rate: Rate::PacketsPerSecond(10_000), ..ScanConfig::default() }
}

struct Outcome {
    events: Vec<(Instant, ScanEvent)>,
    finished_at: Instant,
    requests: Vec<(Instant, Ipv4Addr)>,
}

/// Runs the scan, hosted by a node on `device`, to the end in 100 µs
/// steps; hosts answer at every step (or, for `slow`, only from `slow.1`
/// on). A monitor port records the requests on the wire with their time.
fn run<D: LinkDevice<Error: std::fmt::Debug>>(
    scanner: &mut Scanner,
    device: D,
    hosts: &mut [Node<Port<'_>>],
    monitor: &mut Port<'_>,
    slow: Option<(usize, Instant)>,
) -> Outcome {
    let mut node: Node<_, _> = Node::with_services(
        device,
        Name::try_from("scanner").unwrap(),
        Config::default(),
        common::resources(),
        scanner,
    );
    let mut now = Instant::from_secs(100);
    let (mut events, mut requests) = (Vec::new(), Vec::new());
    let mut buffer = [0u8; 1514];
    loop {
        node.poll(
            now,
            &mut from_fn(|_, event| match event {
                Event::Service(ScanEvent::Done) => {}
                Event::Service(event) => events.push((now, event)),
                other => panic!("the scanning node reported {other:?}"),
            }),
        )
        .unwrap();
        while let Ok(len) = monitor.receive(&mut buffer) {
            let frame = EthernetFrame::new_checked(&buffer[..len]).unwrap();
            if frame.ethertype() == EtherType::ARP && frame.src_addr() == SCANNER_MAC {
                let arp = ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).unwrap()).unwrap();
                requests.push((now, arp.target_protocol_addr));
            }
        }
        if node.services().status() == ScanStatus::Done {
            return Outcome { events, finished_at: now, requests };
        }
        for (i, host) in hosts.iter_mut().enumerate() {
            if slow.is_none_or(|(index, from)| index != i || now >= from) {
                host.poll(now, &mut from_fn(|_, _| {})).unwrap();
            }
        }
        now += STEP;
        assert!(now < Instant::from_secs(200), "the scan never ended");
    }
}

fn found(outcome: &Outcome) -> Vec<(Ipv4Addr, EthernetAddress)> {
    let mut hosts: Vec<_> = outcome
        .events
        .iter()
        .filter_map(|(_, event)| match *event {
            ScanEvent::Host { address, hardware_addr, .. } => Some((address, hardware_addr)),
            _ => None,
        })
        .collect();
    hosts.sort();
    hosts
}

#[test]
fn finds_every_live_host_once_and_asks_only_the_silent_again() {
    let lan = Lan::new();
    let mut port = lan.attach(SCANNER_MAC).unwrap();
    let mut monitor = lan.attach(EthernetAddress([2, 0, 0, 0, 0, 0xee])).unwrap();
    let live = [2u8, 3, 50, 100, 254];
    let mut hosts: Vec<_> = live.iter().map(|&last| host(&lan, last, last)).collect();
    let range: Ipv4Range = "198.18.0.0/24".parse().unwrap();
    let mut scanner = Scanner::new(range, ip(1), config(), Instant::from_secs(100)).unwrap();
    let outcome = run(&mut scanner, &mut port, &mut hosts, &mut monitor, None);

    assert_eq!(found(&outcome), live.iter().map(|&last| (ip(last), mac(last))).collect::<Vec<_>>());
    for (_, event) in &outcome.events {
        if let ScanEvent::Host { rtt, late, .. } = event {
            assert!(*rtt <= Duration::from_micros(200) && !late, "{event:?}");
        }
    }
    // 254 requests in round 0, then only the 249 silent addresses again.
    assert_eq!(outcome.requests.len(), 254 + 249);
    for &last in &live {
        assert_eq!(outcome.requests.iter().filter(|(_, target)| *target == ip(last)).count(), 1, "{last}");
    }
    assert_eq!(outcome.requests.iter().filter(|(_, target)| *target == ip(7)).count(), 2);
    assert_eq!(scanner.stats().hosts, 5);
    assert_eq!(scanner.progress(), (503, 503));
}

#[test]
fn paces_requests_at_the_configured_rate() {
    let lan = Lan::new();
    let mut port = lan.attach(SCANNER_MAC).unwrap();
    let mut monitor = lan.attach(EthernetAddress([2, 0, 0, 0, 0, 0xee])).unwrap();
    let range: Ipv4Range = "198.18.0.0/27".parse().unwrap();
    let config = ScanConfig { rate: Rate::PacketsPerSecond(1000), attempts: 1, ..config() };
    let mut scanner = Scanner::new(range, ip(1), config, Instant::from_secs(100)).unwrap();
    let outcome = run(&mut scanner, &mut port, &mut [], &mut monitor, None);
    assert_eq!(outcome.requests.len(), 30);
    for pair in outcome.requests.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, Duration::from_millis(1), "one request per millisecond");
    }
    // Nobody answered: the wait is the full timeout after the last request.
    assert_eq!(outcome.finished_at - outcome.requests[29].0, Duration::from_millis(500) + Duration::from_millis(1));
}

#[test]
fn adaptive_wait_ends_the_scan_sooner_with_the_same_hosts() {
    let scan = |adaptive: bool| {
        let lan = Lan::new();
        let mut port = lan.attach(SCANNER_MAC).unwrap();
        let mut monitor = lan.attach(EthernetAddress([2, 0, 0, 0, 0, 0xee])).unwrap();
        let mut hosts: Vec<_> = [2u8, 9].iter().map(|&last| host(&lan, last, last)).collect();
        let range: Ipv4Range = "198.18.0.0/28".parse().unwrap();
        let mut scanner =
            Scanner::new(range, ip(1), ScanConfig { adaptive, ..config() }, Instant::from_secs(100)).unwrap();
        let outcome = run(&mut scanner, &mut port, &mut hosts, &mut monitor, None);
        (found(&outcome), outcome.finished_at - Instant::from_secs(100))
    };
    let (fixed_hosts, fixed_time) = scan(false);
    let (adaptive_hosts, adaptive_time) = scan(true);
    assert_eq!(fixed_hosts, adaptive_hosts);
    assert!(fixed_time > Duration::from_millis(1250), "{fixed_time}");
    assert!(adaptive_time < Duration::from_millis(50), "{adaptive_time}");
}

#[test]
fn flags_duplicate_addresses_and_late_replies() {
    let lan = Lan::new();
    let mut port = lan.attach(SCANNER_MAC).unwrap();
    let mut monitor = lan.attach(EthernetAddress([2, 0, 0, 0, 0, 0xee])).unwrap();
    // Two stations claim .5; the station at .6 answers only after 600 ms,
    // when round 0 (254 requests at 1000/s) has ended and its 500 ms wait
    // for .6 has passed.
    let mut hosts = vec![host(&lan, 5, 5), host(&lan, 5, 55), host(&lan, 6, 6)];
    let range: Ipv4Range = "198.18.0.0/24".parse().unwrap();
    let config = ScanConfig { adaptive: false, rate: Rate::PacketsPerSecond(1000), ..config() };
    let mut scanner = Scanner::new(range, ip(1), config, Instant::from_secs(100)).unwrap();
    let slow_from = Instant::from_secs(100) + Duration::from_millis(600);
    let outcome = run(&mut scanner, &mut port, &mut hosts, &mut monitor, Some((2, slow_from)));
    let duplicates: Vec<_> = outcome.events.iter().filter(|(_, e)| matches!(e, ScanEvent::Duplicate { .. })).collect();
    assert_eq!(duplicates.len(), 1);
    assert!(
        matches!(duplicates[0].1, ScanEvent::Duplicate { address, first, other } if address == ip(5) && first == mac(5) && other == mac(55))
    );
    let late = outcome.events.iter().find_map(|(_, e)| match *e {
        ScanEvent::Host { address, late, rtt, .. } if address == ip(6) => Some((late, rtt)),
        _ => None,
    });
    let (late, rtt) = late.expect(".6 was found");
    assert!(late && rtt > Duration::from_millis(500), "{rtt}");
    assert_eq!(scanner.stats().late_replies, 1);
}

#[test]
fn finds_everybody_through_a_lossy_link_with_more_attempts() {
    let lan = Lan::new();
    let port = lan.attach(SCANNER_MAC).unwrap();
    let lossy = FaultConfig { drop_percent: 30, ..FaultConfig::default() };
    let mut device = FaultInjector::new(port, lossy, lossy, 2024);
    let mut monitor = lan.attach(EthernetAddress([2, 0, 0, 0, 0, 0xee])).unwrap();
    let live = [2u8, 3, 4, 5, 6, 7, 8, 9];
    let mut hosts: Vec<_> = live.iter().map(|&last| host(&lan, last, last)).collect();
    let range: Ipv4Range = "198.18.0.0/28".parse().unwrap();
    let mut scanner =
        Scanner::new(range, ip(1), ScanConfig { attempts: 6, ..config() }, Instant::from_secs(100)).unwrap();
    let outcome = run(&mut scanner, &mut device, &mut hosts, &mut monitor, None);
    assert_eq!(found(&outcome).len(), live.len(), "30 % loss each way, 6 attempts");
    assert!(device.stats().dropped > 0);
}

#[test]
fn refuses_a_range_larger_than_its_slots() {
    let range: Ipv4Range = "198.18.0.0/23".parse().unwrap();
    let refused = Scanner::<256>::new(range, ip(1), config(), Instant::ZERO).err();
    assert_eq!(refused, Some(RangeTooLarge { len: 510, capacity: 256 }));
    assert!(Scanner::<512>::new(range, ip(1), config(), Instant::ZERO).is_ok());
    let everything = Ipv4Range::new(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST);
    assert_eq!(everything.len(), 1 << 32, "counted in 64 bits on every target");
    assert_eq!(Scanner::<256>::new(everything, ip(1), config(), Instant::ZERO).err().map(|e| e.len), Some(1 << 32));
}

#[test]
fn the_scanning_node_answers_arp_while_it_scans() {
    let lan = Lan::new();
    let mut port = lan.attach(SCANNER_MAC).unwrap();
    let mut monitor = lan.attach(EthernetAddress([2, 0, 0, 0, 0, 0xee])).unwrap();
    let mut asker = lan.attach(mac(9)).unwrap();
    let range: Ipv4Range = "198.18.0.0/28".parse().unwrap();
    let mut scanner: Scanner = Scanner::new(range, ip(1), config(), Instant::from_secs(100)).unwrap();
    let mut node: Node<_, _> = Node::with_services(
        &mut port,
        Name::try_from("scanner").unwrap(),
        Config::default(),
        common::resources(),
        &mut scanner,
    );
    node.add_ipv4_address(ip(1)).unwrap();
    let ask = common::arp_body(
        whohas_core::wire::ArpOperation::Request,
        (mac(9), ip(9)),
        (EthernetAddress::UNSPECIFIED, ip(1)),
    );
    asker.transmit(&common::frame(mac(9), EthernetAddress::BROADCAST, 0x0806, &ask)).unwrap();
    let mut answered = false;
    node.poll(Instant::from_secs(100), &mut from_fn(|_, event| answered |= matches!(event, Event::ArpAnswered { .. })))
        .unwrap();
    assert!(answered, "the node answered ARP for its address during the scan");
    assert!(common::drain(&mut asker).iter().any(|f| f[..6] == mac(9).0), "its reply reached the asker");
    assert!(node.services().progress().0 > 0, "and the scan sent its first requests");
    common::drain(&mut monitor);
}
