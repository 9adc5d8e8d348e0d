//! The IPv6 scan: which stations answer on this link, at which addresses
//! and MACs?
//!
//! An IPv6 subnet cannot be swept (a /64 holds 2^64 addresses), so the
//! scanner asks those who are there:
//!
//! 1. Each round sends an echo request to the all-nodes group `ff02::1` from
//!    each of its source addresses. Hosts answer from their address of the
//!    same scope: a link-local source hears link-local addresses, a source
//!    in a global prefix hears the hosts' addresses in it. (A host first
//!    solicits the scanner's address to answer; the hosting node answers
//!    that when it has the source address, and the solicitation itself
//!    tells the scanner of the host.)
//! 2. The first round also sends an MLD general query: each host reports the
//!    groups it listens to, among them the solicited-node group of each of
//!    its addresses, which gives the last 24 bits of the address. A host
//!    answers an echo from one address per prefix; its other addresses in
//!    that prefix are found, after the first round, from a reported group
//!    that no address heard explains: the address heard with those 24 bits
//!    (and the SLAAC address of the MAC in each prefix the scan asks from).
//! 3. Every address heard or so derived is confirmed by a neighbour
//!    solicitation to its solicited-node group, as the kernel would resolve
//!    it; the advertisement gives its MAC and the round-trip time. Addresses
//!    that never advertise are not reported.
//!
//! The first round waits at least 1.1 s, whatever the adaptive wait: hosts
//! answer only after resolving the scanner's address, and a solicitation of
//! theirs lost in that burst is repeated only after 1 s.
//!
//! Answers to another identifier, to another station, or advertisements
//! nobody solicited are counted and ignored; a second MAC advertising an
//! address is a [`ScanEvent::Duplicate`].

use core::net::Ipv6Addr;

use heapless::{Deque, Vec};

use super::{BUDGET, Phase, ScanConfig, ScanEvent, ScanStats, ScanStatus, Sent};
use crate::device::LinkDevice;
use crate::service::Service;
use crate::station::Station;
use crate::time::{Duration, Instant};
use crate::wire::ipv6::{self, ALL_NODES, link_local, multicast_mac, solicited_node, with_interface_id};
use crate::wire::{EtherType, EthernetAddress, EthernetRepr, Icmpv6Packet, Icmpv6Repr};

/// Source addresses a scan asks from at most.
pub const MAX_SOURCES: usize = 4;
/// A neighbour solicitation's frame: Ethernet, IPv6, the message and the
/// source link-layer address option.
const SOLICITATION_FRAME_LEN: usize = 14 + 40 + 24 + 8;
/// The longest delay the MLD query allows a host before it reports: the
/// reports of many hosts spread over it instead of arriving at once.
const QUERY_RESPONSE_MS: u16 = 500;
/// Bytes of data in an echo request: the scan's name, for who reads a
/// capture.
const ECHO_DATA: &[u8] = b"whohas scan";
/// The shortest wait after the first round. Every host must resolve the
/// scanner's address before it answers, and all of them solicit it at once;
/// a solicitation lost in that burst is sent again after RFC 4861's
/// RetransTimer (1 s), and its host answers only then. Measured on a bridge
/// of 40 kernel hosts: 15 of them answered 1.0 s late. Later rounds find
/// the scanner known, and wait as the round trips say.
const FIRST_ROUND_WAIT: Duration = Duration::from_millis(1100);
/// Time between the echo requests of the first round (one per source):
/// each makes every host solicit the scanner at once, and two such bursts
/// together lose more (their repeats, 1 s later, collide again).
const ECHO_SPACING: Duration = Duration::from_millis(100);

/// An address heard, and what the scan has of it.
#[derive(Debug, Clone, Copy)]
struct Heard {
    address: Ipv6Addr,
    /// The station that told of it (its answer's or report's source).
    from: EthernetAddress,
    /// The advertised MAC once confirmed.
    mac: EthernetAddress,
    confirmed: bool,
    /// When the latest solicitation for it went out.
    asked_at: Instant,
    /// Solicitations sent for it.
    attempts: u8,
}

/// An IPv6 scan of the link that records up to `HOSTS` addresses, hosted
/// by a node as a [`Service`] (the node answers solicitations for the
/// scan's source addresses meanwhile, when they are its own). Its findings
/// arrive as [`ScanEvent`]s of IPv6 addresses.
pub struct Ipv6Scanner<const HOSTS: usize = 256> {
    sources: Vec<Ipv6Addr, MAX_SOURCES>,
    ident: u16,
    config: ScanConfig,
    heard: Vec<Heard, HOSTS>,
    round: u8,
    /// Echo requests of this round already sent (one per source).
    echoes_sent: usize,
    /// The MLD query of the first round went out.
    queried: bool,
    /// The last 24 bits of addresses stations reported (their
    /// solicited-node groups), with the station.
    reported: Vec<(EthernetAddress, [u8; 3]), HOSTS>,
    phase: Phase,
    next_send_at: Instant,
    slowest_rtt: Option<Duration>,
    stats: ScanStats,
    /// Addresses heard but not recorded: the table was full.
    overflow: u64,
    events: Deque<ScanEvent<Ipv6Addr>, 2>,
}

impl<const HOSTS: usize> Ipv6Scanner<HOSTS> {
    /// A scan asking from `sources` (a link-local address first; up to
    /// [`MAX_SOURCES`], the rest are ignored), its echo requests carrying
    /// the identifier `ident`; the first request goes out at `now`.
    pub fn new(sources: &[Ipv6Addr], ident: u16, config: ScanConfig, now: Instant) -> Self {
        Ipv6Scanner {
            sources: sources.iter().copied().take(MAX_SOURCES).collect(),
            ident,
            config,
            heard: Vec::new(),
            round: 0,
            echoes_sent: 0,
            queried: false,
            reported: Vec::new(),
            phase: Phase::Sending { cursor: 0 },
            next_send_at: now,
            slowest_rtt: None,
            stats: ScanStats::default(),
            overflow: 0,
            events: Deque::new(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }

    /// Addresses heard that did not fit the table.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// The addresses the scan asks from.
    pub fn sources(&self) -> &[Ipv6Addr] {
        &self.sources
    }

    /// Requests sent so far, and the most the scan will have sent for what
    /// it has heard so far.
    pub fn progress(&self) -> (u64, u64) {
        let attempts = u64::from(self.config.attempts.max(1));
        let most = (self.sources.len() + self.heard.len()) as u64 * attempts + 1;
        (self.stats.requests_sent, most.max(self.stats.requests_sent))
    }

    /// Where the scan stands.
    pub fn status(&self) -> ScanStatus {
        match self.phase {
            Phase::Done => ScanStatus::Done,
            Phase::Waiting { until } => ScanStatus::Running { next_poll_at: until },
            Phase::Sending { .. } => ScanStatus::Running { next_poll_at: self.next_send_at },
        }
    }

    fn push_event(&mut self, event: ScanEvent<Ipv6Addr>) {
        // At most one finding per frame and one `Done`, drained after each
        // frame and poll: the queue never holds more than two.
        let _ = self.events.push_back(event);
    }

    /// The source to ask `target` from: one of the same scope, if any.
    fn source_for(&self, target: Ipv6Addr) -> Ipv6Addr {
        let scope = ipv6::is_link_local(target);
        let same_scope = self.sources.iter().find(|&&source| ipv6::is_link_local(source) == scope);
        same_scope.or(self.sources.first()).copied().unwrap_or(Ipv6Addr::UNSPECIFIED)
    }

    /// The next request of this round: the MLD query (first round, first:
    /// the reports spread over the wait), an echo from the next source, or a
    /// solicitation for the next address heard that is unconfirmed and has
    /// attempts left.
    fn next_request(&self, cursor: usize, mac: EthernetAddress) -> Option<(Icmpv6Packet<'static>, Request)> {
        if !self.queried {
            // MLD speaks from a link-local address only (RFC 3810 5).
            let source = self.sources.iter().copied().find(|&a| ipv6::is_link_local(a)).unwrap_or(link_local(mac));
            let message = Icmpv6Repr::MldQuery { max_response_ms: QUERY_RESPONSE_MS };
            return Some((Icmpv6Packet { src_addr: source, dst_addr: ALL_NODES, message }, Request::Query));
        }
        if self.round < self.config.attempts {
            if let Some(&source) = self.sources.get(self.echoes_sent) {
                let message =
                    Icmpv6Repr::EchoRequest { ident: self.ident, seq_no: u16::from(self.round), data: ECHO_DATA };
                return Some((Icmpv6Packet { src_addr: source, dst_addr: ALL_NODES, message }, Request::Echo));
            }
        }
        let index = (cursor..self.heard.len())
            .find(|&i| !self.heard[i].confirmed && self.heard[i].attempts < self.config.attempts)?;
        let target = self.heard[index].address;
        let solicitation = Icmpv6Packet {
            src_addr: self.source_for(target),
            dst_addr: solicited_node(target),
            message: Icmpv6Repr::NeighborSolicit { target, source_lladdr: Some(mac) },
        };
        Some((solicitation, Request::Solicit(index)))
    }

    fn send_due<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        let (now, mac) = (station.now(), station.mac_address());
        let interval = self.config.rate.interval(SOLICITATION_FRAME_LEN);
        for _ in 0..BUDGET {
            let Phase::Sending { cursor } = self.phase else { return Ok(()) };
            if now < self.next_send_at {
                return Ok(());
            }
            let Some((packet, request)) = self.next_request(cursor, mac) else {
                // The round is over once its last request has had its wait.
                let last = self.next_send_at.max(now);
                let mut wait = self.config.wait(self.round, self.slowest_rtt);
                if self.round == 0 {
                    wait = wait.max(FIRST_ROUND_WAIT);
                }
                self.phase = Phase::Waiting { until: last + wait };
                return Ok(());
            };
            let to = multicast_mac(packet.dst_addr);
            let sent = station.transmit(to, EtherType::IPV6, packet.buffer_len(), |payload| packet.emit(payload));
            if Sent::of(sent, &mut self.stats)? == Sent::Later {
                return Ok(());
            }
            self.stats.requests_sent += 1;
            // Keep the pace even when polled late, without bursting to catch up.
            self.next_send_at = (self.next_send_at + interval).max(now);
            match request {
                Request::Echo => {
                    self.echoes_sent += 1;
                    if self.round == 0 && self.echoes_sent < self.sources.len() {
                        self.next_send_at = self.next_send_at.max(now + ECHO_SPACING);
                    }
                }
                Request::Query => self.queried = true,
                Request::Solicit(index) => {
                    let heard = &mut self.heard[index];
                    heard.asked_at = now;
                    heard.attempts = heard.attempts.saturating_add(1);
                    self.phase = Phase::Sending { cursor: index + 1 };
                }
            }
        }
        Ok(())
    }

    /// Notes an address `from` answers at (its solicitation is sent in
    /// this round or the next).
    fn hear(&mut self, address: Ipv6Addr, from: EthernetAddress) {
        if address.is_unspecified() || self.sources.contains(&address) {
            self.stats.ignored_frames += 1;
            return;
        }
        if self.heard.iter().any(|heard| heard.address == address) {
            self.stats.repeated_replies += 1;
            return;
        }
        self.record(address, from);
    }

    /// An MLD report from `from` naming `group`: if it is a solicited-node
    /// group, the last 24 bits of one of its addresses, kept until the
    /// first round is over.
    fn reported_group(&mut self, group: Ipv6Addr, from: EthernetAddress) {
        let octets = group.octets();
        if octets[..13] != solicited_node(Ipv6Addr::UNSPECIFIED).octets()[..13] {
            return;
        }
        let low = [octets[13], octets[14], octets[15]];
        if !self.reported.contains(&(from, low)) && self.reported.push((from, low)).is_err() {
            self.overflow += 1;
        }
    }

    /// After the first round: a reported group stands for an address of its
    /// station with those last 24 bits. In each /64 the station was heard
    /// in, that address is the one heard with its last 24 bits replaced (the
    /// same address if it was heard); in each prefix the scan asks from
    /// where no address heard explains the group, it may be the station's
    /// SLAAC address.
    fn derive_from_reports(&mut self) {
        for r in 0..self.reported.len() {
            let (from, low) = self.reported[r];
            for i in 0..self.heard.len() {
                if self.heard[i].from == from {
                    self.record(with_low_bits(self.heard[i].address, low), from);
                }
            }
            for i in 0..self.sources.len() {
                let slaac = with_interface_id(self.sources[i], from);
                let explained = self.heard.iter().any(|heard| {
                    heard.from == from
                        && heard.address.octets()[..8] == slaac.octets()[..8]
                        && heard.address.octets()[13..] == low
                });
                if !ipv6::is_link_local(slaac) && slaac.octets()[13..] == low && !explained {
                    self.record(slaac, from);
                }
            }
        }
    }

    /// Adds `address` to the table unless it is there.
    fn record(&mut self, address: Ipv6Addr, from: EthernetAddress) {
        if self.heard.iter().any(|heard| heard.address == address) {
            return;
        }
        let heard = Heard {
            address,
            from,
            mac: EthernetAddress::UNSPECIFIED,
            confirmed: false,
            asked_at: Instant::ZERO,
            attempts: 0,
        };
        if self.heard.push(heard).is_err() {
            self.overflow += 1;
        }
    }

    /// An advertisement of `target` at `mac`: the answer to a solicitation.
    fn confirm(&mut self, now: Instant, target: Ipv6Addr, mac: EthernetAddress) {
        let Some(index) = self.heard.iter().position(|heard| heard.address == target && heard.attempts > 0) else {
            self.stats.ignored_frames += 1;
            return;
        };
        let heard = self.heard[index];
        if heard.confirmed {
            if heard.mac == mac {
                self.stats.repeated_replies += 1;
            } else {
                self.stats.duplicates += 1;
                self.push_event(ScanEvent::Duplicate { address: target, first: heard.mac, other: mac });
            }
            return;
        }
        let rtt = now - heard.asked_at;
        let late = rtt > self.config.wait(heard.attempts.saturating_sub(1), self.slowest_rtt);
        self.heard[index] = Heard { confirmed: true, mac, ..heard };
        self.slowest_rtt = Some(self.slowest_rtt.map_or(rtt, |slowest| slowest.max(rtt)));
        self.stats.hosts += 1;
        self.stats.late_replies += u64::from(late);
        self.push_event(ScanEvent::Host { address: target, hardware_addr: mac, rtt, late });
    }

    fn process(&mut self, mac: EthernetAddress, now: Instant, header: &EthernetRepr, body: &[u8]) {
        let Ok((_, packet)) = Icmpv6Packet::parse(body) else {
            self.stats.ignored_frames += 1;
            return;
        };
        match packet.message {
            Icmpv6Repr::EchoReply { ident, .. }
                if ident == self.ident && header.dst_addr == mac && self.sources.contains(&packet.dst_addr) =>
            {
                self.hear(packet.src_addr, header.src_addr)
            }
            // A host resolving a source address to answer the echo.
            Icmpv6Repr::NeighborSolicit { target, .. } if self.sources.contains(&target) => {
                self.hear(packet.src_addr, header.src_addr)
            }
            Icmpv6Repr::MldReport(records) => {
                for group in records.groups() {
                    self.reported_group(group, header.src_addr);
                }
            }
            Icmpv6Repr::NeighborAdvert { flags, target, target_lladdr }
                if flags.solicited && header.dst_addr == mac =>
            {
                match target_lladdr {
                    Some(advertised) if advertised != header.src_addr => self.stats.ignored_frames += 1,
                    _ => self.confirm(now, target, header.src_addr),
                }
            }
            _ => self.stats.ignored_frames += 1,
        }
    }

    fn end_of_wait<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        if self.round == 0 {
            self.derive_from_reports();
        }
        let attempts = self.config.attempts;
        let unconfirmed = self.heard.iter().any(|heard| !heard.confirmed && heard.attempts < attempts);
        if self.round.saturating_add(1) < attempts || unconfirmed {
            self.round = self.round.saturating_add(1);
            self.echoes_sent = 0;
            self.phase = Phase::Sending { cursor: 0 };
            self.send_due(station)
        } else {
            self.phase = Phase::Done;
            self.push_event(ScanEvent::Done);
            Ok(())
        }
    }
}

/// What a request of the scan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    Echo,
    Query,
    /// A solicitation for the address at this index.
    Solicit(usize),
}

/// `address` with its last 24 bits replaced by `low`.
fn with_low_bits(address: Ipv6Addr, low: [u8; 3]) -> Ipv6Addr {
    let mut octets = address.octets();
    octets[13..].copy_from_slice(&low);
    Ipv6Addr::from(octets)
}

impl<const HOSTS: usize> Service for Ipv6Scanner<HOSTS> {
    type Event<'s> = ScanEvent<Ipv6Addr>;

    fn accepts(&self, ethertype: EtherType) -> bool {
        ethertype == EtherType::IPV6
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        self.process(station.mac_address(), station.now(), header, &frame[crate::wire::ethernet::HEADER_LEN..]);
        Ok(())
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        self.send_due(station)?;
        if let Phase::Waiting { until } = self.phase {
            if station.now() >= until {
                self.end_of_wait(station)?;
            }
        }
        Ok(())
    }

    fn poll_at(&self) -> Option<Instant> {
        match self.status() {
            ScanStatus::Done => None,
            ScanStatus::Running { next_poll_at } => Some(next_poll_at),
        }
    }

    fn has_event(&self) -> bool {
        !self.events.is_empty()
    }

    fn next_event(&mut self, _: &mut [u8]) -> Option<ScanEvent<Ipv6Addr>> {
        self.events.pop_front()
    }
}
