//! The ARP scan: who is on this IPv4 subnet, and at which MAC address?
//!
//! The scanner walks a range of addresses in rounds. Round 0 asks every
//! address, paced at a packet or bit rate; each later round (up to
//! [`ScanConfig::attempts`]) asks again only the addresses that have not
//! answered, after a wait that grows by [`ScanConfig::backoff_percent`] per
//! round. Replies are matched to the addresses asked, timed (round-trip time
//! from the latest request to that address), checked for duplicates (one
//! address answered from two MACs) and flagged late when they arrive after
//! the wait of their round.
//!
//! Per-address state lives in a fixed array of `HOSTS` slots (16 bytes
//! each).

use core::fmt;
use core::net::Ipv4Addr;

use heapless::Deque;

use super::{BUDGET, Phase, ScanConfig, ScanEvent, ScanStats, ScanStatus, Sent};
use crate::device::LinkDevice;
use crate::service::Service;
use crate::station::Station;
use crate::time::{Duration, Instant};
use crate::wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetRepr};

/// An ARP request's frame: padded to Ethernet's minimum.
const REQUEST_FRAME_LEN: usize = crate::wire::ethernet::MIN_FRAME_LEN;

/// A contiguous range of IPv4 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ipv4Range {
    first: u32,
    last: u32,
}

/// Why text is not a CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseRangeError;

impl fmt::Display for ParseRangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected an IPv4 range like 198.18.0.0/24, or a single address")
    }
}

impl core::error::Error for ParseRangeError {}

impl Ipv4Range {
    /// The hosts of `network/prefix_len`: without the network and broadcast
    /// addresses for prefixes up to /30, every address for /31 and /32.
    pub fn cidr(network: Ipv4Addr, prefix_len: u8) -> Ipv4Range {
        let prefix_len = prefix_len.min(32);
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix_len)).unwrap_or(0);
        let base = u32::from(network) & mask;
        let top = base | !mask;
        if prefix_len <= 30 {
            Ipv4Range { first: base + 1, last: top - 1 }
        } else {
            Ipv4Range { first: base, last: top }
        }
    }

    /// The addresses from `first` to `last` inclusive (swapped if reversed).
    pub fn new(first: Ipv4Addr, last: Ipv4Addr) -> Ipv4Range {
        let (a, b) = (u32::from(first), u32::from(last));
        Ipv4Range { first: a.min(b), last: a.max(b) }
    }

    /// Number of addresses (up to 2^32, so a `u64` on every target).
    pub fn len(&self) -> u64 {
        u64::from(self.last - self.first) + 1
    }

    /// Always false: a range holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The first address.
    pub fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.first)
    }

    /// The last address.
    pub fn last(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.last)
    }

    /// The position of `address` in the range.
    pub fn index_of(&self, address: Ipv4Addr) -> Option<usize> {
        let value = u32::from(address);
        (self.first..=self.last).contains(&value).then(|| (value - self.first) as usize)
    }

    /// The address at `index`.
    pub fn get(&self, index: usize) -> Option<Ipv4Addr> {
        u32::try_from(index)
            .ok()
            .and_then(|i| self.first.checked_add(i))
            .filter(|&a| a <= self.last)
            .map(Ipv4Addr::from)
    }
}

impl core::str::FromStr for Ipv4Range {
    type Err = ParseRangeError;

    /// `198.18.0.0/24`, or `198.18.0.7` for one address.
    fn from_str(text: &str) -> Result<Self, ParseRangeError> {
        let (address, prefix_len) = match text.split_once('/') {
            Some((address, prefix)) => (address, prefix.parse::<u8>().map_err(|_| ParseRangeError)?),
            None => (text, 32),
        };
        if prefix_len > 32 {
            return Err(ParseRangeError);
        }
        Ok(Ipv4Range::cidr(address.parse().map_err(|_| ParseRangeError)?, prefix_len))
    }
}

impl fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first(), self.last())
    }
}

/// Per-address state.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// When the latest request to this address went out.
    asked_at: Instant,
    mac: [u8; 6],
    answered: bool,
    /// Requests sent to this address (0: never asked).
    attempts: u8,
}

/// The scan error: the range is larger than the scanner's `HOSTS` slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RangeTooLarge {
    /// Addresses in the range.
    pub len: u64,
    /// Slots of the scanner.
    pub capacity: usize,
}

impl fmt::Display for RangeTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the range has {} addresses but this scanner holds {}; scan a smaller range", self.len, self.capacity)
    }
}

impl core::error::Error for RangeTooLarge {}

/// An ARP scan of up to `HOSTS` addresses, hosted by a node as a
/// [`Service`]: the node's own ARP responder keeps answering while it runs.
/// Its findings arrive as [`ScanEvent`]s.
pub struct Scanner<const HOSTS: usize = 256> {
    range: Ipv4Range,
    /// `range.len()`, known to fit `HOSTS`.
    len: usize,
    source_ip: Ipv4Addr,
    config: ScanConfig,
    slots: [Slot; HOSTS],
    round: u8,
    phase: Phase,
    next_send_at: Instant,
    slowest_rtt: Option<Duration>,
    stats: ScanStats,
    /// Findings not yet handed to the application.
    events: Deque<ScanEvent, 2>,
}

impl<const HOSTS: usize> Scanner<HOSTS> {
    /// A scan of `range` whose first request goes out at `now`, asking
    /// from `source_ip` (the interface's address; 0.0.0.0 if it has none).
    pub fn new(range: Ipv4Range, source_ip: Ipv4Addr, config: ScanConfig, now: Instant) -> Result<Self, RangeTooLarge> {
        let too_large = RangeTooLarge { len: range.len(), capacity: HOSTS };
        let len = usize::try_from(range.len()).ok().filter(|&len| len <= HOSTS).ok_or(too_large)?;
        Ok(Scanner {
            range,
            len,
            source_ip,
            config,
            slots: [Slot::default(); HOSTS],
            round: 0,
            phase: Phase::Sending { cursor: 0 },
            next_send_at: now,
            slowest_rtt: None,
            stats: ScanStats::default(),
            events: Deque::new(),
        })
    }

    /// The counters.
    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }

    /// The range being scanned.
    pub fn range(&self) -> Ipv4Range {
        self.range
    }

    /// Requests sent so far, and the most the scan will have sent in all.
    pub fn progress(&self) -> (u64, u64) {
        let most = match self.phase {
            Phase::Done => self.stats.requests_sent,
            _ => self.range.len().saturating_mul(u64::from(self.config.attempts.max(1))),
        };
        (self.stats.requests_sent, most)
    }

    /// Where the scan stands.
    pub fn status(&self) -> ScanStatus {
        match self.phase {
            Phase::Done => ScanStatus::Done,
            Phase::Waiting { until } => ScanStatus::Running { next_poll_at: until },
            Phase::Sending { .. } => ScanStatus::Running { next_poll_at: self.next_send_at },
        }
    }

    fn wait(&self, round: u8) -> Duration {
        self.config.wait(round, self.slowest_rtt)
    }

    fn finish(&mut self) {
        if self.phase != Phase::Done {
            self.phase = Phase::Done;
            self.push_event(ScanEvent::Done);
        }
    }

    fn push_event(&mut self, event: ScanEvent) {
        // At most one finding per frame and one `Done`, drained after each
        // frame and poll: the queue never holds more than two.
        let _ = self.events.push_back(event);
    }

    fn send_due<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        let (now, mac) = (station.now(), station.mac_address());
        let interval = self.config.rate.interval(REQUEST_FRAME_LEN);
        for _ in 0..BUDGET {
            let Phase::Sending { cursor } = self.phase else { return Ok(()) };
            if now < self.next_send_at {
                return Ok(());
            }
            let Some(index) = (cursor..self.len).find(|&i| !self.slots[i].answered) else {
                // The round is over once its last request has had its wait.
                let last = self.next_send_at.max(now);
                self.phase = Phase::Waiting { until: last + self.wait(self.round) };
                return Ok(());
            };
            let request = ArpRepr {
                operation: ArpOperation::Request,
                source_hardware_addr: mac,
                source_protocol_addr: self.source_ip,
                target_hardware_addr: EthernetAddress::UNSPECIFIED,
                target_protocol_addr: self.range.get(index).unwrap_or(Ipv4Addr::UNSPECIFIED),
            };
            let sent = station.transmit(EthernetAddress::BROADCAST, EtherType::ARP, request.buffer_len(), |payload| {
                request.emit(&mut ArpPacket::new_unchecked(payload))
            });
            if Sent::of(sent, &mut self.stats)? == Sent::Later {
                return Ok(());
            }
            let slot = &mut self.slots[index];
            slot.asked_at = now;
            slot.attempts = slot.attempts.saturating_add(1);
            self.stats.requests_sent += 1;
            self.phase = Phase::Sending { cursor: index + 1 };
            // Keep the pace even when polled late, without bursting to catch up.
            self.next_send_at = (self.next_send_at + interval).max(now);
        }
        Ok(())
    }

    fn process(&mut self, mac: EthernetAddress, now: Instant, header: &EthernetRepr, frame: &[u8]) {
        let reply = ArpPacket::new_checked(&frame[crate::wire::ethernet::HEADER_LEN..])
            .and_then(|packet| ArpRepr::parse(&packet))
            .ok()
            .filter(|arp| arp.operation == ArpOperation::Reply && header.dst_addr == mac);
        let found = reply.and_then(|arp| Some((arp, self.range.index_of(arp.source_protocol_addr)?)));
        let Some((arp, index)) = found.filter(|&(_, index)| self.slots[index].attempts != 0) else {
            self.stats.ignored_frames += 1;
            return;
        };
        let address = arp.source_protocol_addr;
        let hardware_addr = arp.source_hardware_addr;
        let slot = self.slots[index];
        if slot.answered {
            if slot.mac == hardware_addr.0 {
                self.stats.repeated_replies += 1;
            } else {
                self.stats.duplicates += 1;
                self.push_event(ScanEvent::Duplicate {
                    address,
                    first: EthernetAddress(slot.mac),
                    other: hardware_addr,
                });
            }
            return;
        }
        let rtt = now - slot.asked_at;
        let late = rtt > self.wait(slot.attempts.saturating_sub(1));
        self.slots[index] = Slot { answered: true, mac: hardware_addr.0, ..slot };
        self.slowest_rtt = Some(self.slowest_rtt.map_or(rtt, |slowest| slowest.max(rtt)));
        self.stats.hosts += 1;
        self.stats.late_replies += u64::from(late);
        self.push_event(ScanEvent::Host { address, hardware_addr, rtt, late });
    }
}

impl<const HOSTS: usize> Service for Scanner<HOSTS> {
    type Event<'s> = ScanEvent;

    fn accepts(&self, ethertype: EtherType) -> bool {
        ethertype == EtherType::ARP
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        self.process(station.mac_address(), station.now(), header, frame);
        if self.stats.hosts == self.range.len() {
            // Everybody answered: nothing left to ask or wait for.
            self.finish();
        }
        Ok(())
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        let now = station.now();
        self.send_due(station)?;
        if let Phase::Waiting { until } = self.phase {
            if now >= until {
                let unanswered = self.slots[..self.len].iter().any(|slot| !slot.answered);
                if unanswered && self.round.saturating_add(1) < self.config.attempts {
                    self.round += 1;
                    self.phase = Phase::Sending { cursor: 0 };
                    self.send_due(station)?;
                } else {
                    self.finish();
                }
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

    fn next_event(&mut self, _: &mut [u8]) -> Option<ScanEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_from_cidr() {
        let range: Ipv4Range = "198.18.0.77/24".parse().unwrap();
        assert_eq!(
            (range.first(), range.last(), range.len()),
            (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 254), 254)
        );
        assert_eq!(range.index_of(Ipv4Addr::new(198, 18, 0, 2)), Some(1));
        assert_eq!(range.index_of(Ipv4Addr::new(198, 18, 1, 2)), None);
        assert_eq!(range.get(253), Some(Ipv4Addr::new(198, 18, 0, 254)));
        assert_eq!(range.get(254), None);
        let one: Ipv4Range = "198.18.0.9".parse().unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!("198.18.0.0/31".parse::<Ipv4Range>().unwrap().len(), 2);
        assert_eq!("198.18.0.0/33".parse::<Ipv4Range>(), Err(ParseRangeError));
        assert_eq!("nonsense/24".parse::<Ipv4Range>(), Err(ParseRangeError));
    }
}
