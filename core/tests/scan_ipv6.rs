//! The IPv6 scanner against simulated hosts on the in-memory segment: each
//! answers echo requests to all nodes from its address and solicitations
//! for it, as a kernel does; plus a liar and a duplicate.

use std::net::Ipv6Addr;

mod common;

use whohas_core::device::{LinkDevice, Segment, SegmentPort};
use whohas_core::node::Node;
use whohas_core::runtime::from_fn;
use whohas_core::scan::{Ipv6Scanner, Rate, ScanConfig, ScanEvent};
use whohas_core::station::{Config, Event};
use whohas_core::time::{Duration, Instant};
use whohas_core::wire::ipv6::{self, link_local};
use whohas_core::wire::{
    AdvertFlags, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Icmpv6Packet, Icmpv6Repr, Name,
};

type Lan = Segment<8, 64>;
type Port<'a> = SegmentPort<'a, 8, 64>;

const SCANNER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

/// A simulated host: a port, its MAC and the address it answers from.
struct Host<'a> {
    port: Port<'a>,
    address: Ipv6Addr,
    /// Advertise this MAC instead of its own (a liar), if set.
    claims: Option<EthernetAddress>,
}

fn send(port: &mut Port<'_>, to: EthernetAddress, packet: Icmpv6Packet<'_>) {
    let mut frame = vec![0u8; 14 + packet.buffer_len()];
    let header = EthernetRepr { src_addr: port.mac_address(), dst_addr: to, ethertype: EtherType::IPV6 };
    header.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    packet.emit(&mut frame[14..]);
    port.transmit(&frame).unwrap();
}

impl Host<'_> {
    /// Answers what it received: echoes to all nodes, and solicitations for
    /// its address.
    fn answer(&mut self) {
        let mut buffer = [0u8; 1514];
        while let Ok(len) = self.port.receive(&mut buffer) {
            let frame = buffer[..len].to_vec();
            let src = EthernetAddress::from_bytes(&frame[6..12]).unwrap();
            let Ok((_, packet)) = Icmpv6Packet::parse(&frame[14..]) else { continue };
            let message = match packet.message {
                Icmpv6Repr::EchoRequest { ident, seq_no, data } if packet.dst_addr == ipv6::ALL_NODES => {
                    Icmpv6Repr::EchoReply { ident, seq_no, data }
                }
                Icmpv6Repr::NeighborSolicit { target, .. } if target == self.address => Icmpv6Repr::NeighborAdvert {
                    flags: AdvertFlags { router: false, solicited: true, override_: true },
                    target,
                    target_lladdr: Some(self.claims.unwrap_or(self.port.mac_address())),
                },
                _ => continue,
            };
            send(&mut self.port, src, Icmpv6Packet { src_addr: self.address, dst_addr: packet.src_addr, message });
        }
    }
}

fn mac(last: u8) -> EthernetAddress {
    EthernetAddress([2, 0, 0, 0, 1, last])
}

fn global(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
}

/// Runs a scan from `sources` to its end in 1 ms steps; returns its events
/// and when it ended.
fn scan(lan: &Lan, hosts: &mut [Host<'_>], sources: &[Ipv6Addr]) -> (Vec<ScanEvent<Ipv6Addr>>, Instant) {
    let config = ScanConfig { rate: Rate::PacketsPerSecond(10_000), ..ScanConfig::default() };
    let scanner: Ipv6Scanner<16> = Ipv6Scanner::new(sources, 0x5ca7, config, Instant::ZERO);
    let mut node: Node<_, _> = Node::with_services(
        lan.attach(SCANNER).unwrap(),
        Name::try_from("scanner").unwrap(),
        Config::default(),
        common::resources(),
        scanner,
    );
    for &source in sources {
        node.add_ipv6_address(source).unwrap();
    }
    let mut events = Vec::new();
    let mut now = Instant::ZERO;
    loop {
        let mut done = false;
        node.poll(
            now,
            &mut from_fn(|_, event| {
                if let Event::Service(event) = event {
                    done |= event == ScanEvent::Done;
                    events.push(event);
                }
            }),
        )
        .unwrap();
        if done {
            return (events, now);
        }
        for host in hosts.iter_mut() {
            host.answer();
        }
        assert!(now < Instant::from_secs(10), "the scan never ended: {events:?}");
        now += Duration::from_millis(1);
    }
}

#[test]
fn finds_each_host_at_its_advertised_mac_and_ends() {
    let lan = Lan::new();
    let mut hosts: Vec<Host<'_>> = (2..=5)
        .map(|i| Host { port: lan.attach(mac(i)).unwrap(), address: link_local(mac(i)), claims: None })
        .collect();
    let (events, ended) = scan(&lan, &mut hosts, &[link_local(SCANNER)]);
    let mut found: Vec<(Ipv6Addr, EthernetAddress)> = events
        .iter()
        .filter_map(|event| match *event {
            ScanEvent::Host { address, hardware_addr, late: false, .. } => Some((address, hardware_addr)),
            _ => None,
        })
        .collect();
    found.sort();
    let expected: Vec<_> = (2..=5).map(|i| (link_local(mac(i)), mac(i))).collect();
    assert_eq!(found, expected);
    assert_eq!(events.last(), Some(&ScanEvent::Done));
    // The first round waits 1.1 s for hosts whose solicitation was lost;
    // the second, with everyone known, only as long as the round trips say.
    assert!(ended >= Instant::from_millis(1100) && ended < Instant::from_millis(1400), "{ended:?}");
}

#[test]
fn an_address_advertised_by_another_mac_than_its_sender_is_not_a_host_and_two_owners_are_a_duplicate() {
    let lan = Lan::new();
    let mut hosts = vec![
        // Says its address is at someone else's MAC: not taken.
        Host { port: lan.attach(mac(2)).unwrap(), address: global(2), claims: Some(mac(9)) },
        // Two stations with one address.
        Host { port: lan.attach(mac(3)).unwrap(), address: global(3), claims: None },
        Host { port: lan.attach(mac(4)).unwrap(), address: global(3), claims: None },
    ];
    let (events, _) = scan(&lan, &mut hosts, &[link_local(SCANNER), global(1)]);
    let hosts_found: Vec<Ipv6Addr> = events
        .iter()
        .filter_map(|event| match event {
            ScanEvent::Host { address, .. } => Some(*address),
            _ => None,
        })
        .collect();
    assert_eq!(hosts_found, [global(3)]);
    assert!(
        events.iter().any(|event| matches!(event, ScanEvent::Duplicate { address, .. } if *address == global(3))),
        "{events:?}"
    );
}
