//! An ARP scanner: who is on this IPv4 subnet, and at which MAC address?
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
//! The wait is *adaptive* by default: once replies arrive, a round waits
//! eight times the slowest round trip seen (at least 20 ms) instead of the
//! full [`ScanConfig::timeout`], which stays the upper bound. On a LAN, where
//! hosts answer within a millisecond, that ends a scan long before a fixed
//! half-second timeout would, with the same hosts found.
//!
//! Nothing is allocated: per-address state lives in a fixed array of `HOSTS`
//! slots (16 bytes each), and results leave as [`ScanEvent`]s of the node (in [`Event::Service`](crate::Event::Service))
//! hosting the scanner. Time arithmetic saturates: extreme retry counts,
//! back-offs and scan durations cannot overflow.

use core::fmt;
use core::net::Ipv4Addr;

use heapless::Deque;

use crate::device::LinkDevice;
use crate::device::TransmitError;
use crate::service::Service;
use crate::station::Station;
use crate::time::{Duration, Instant};
use crate::wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetRepr};

/// Requests sent per poll at most.
const BUDGET: usize = 64;
/// Bits one ARP request occupies on the wire: a 60-byte frame, FCS, preamble
/// and inter-frame gap (60 + 4 + 8 + 12 bytes).
const WIRE_BITS_PER_REQUEST: u64 = (60 + 4 + 8 + 12) * 8;
/// The shortest adaptive wait.
const MIN_ADAPTIVE_WAIT: Duration = Duration::from_millis(20);
/// The adaptive wait is this many times the slowest round trip seen.
const ADAPTIVE_FACTOR: u64 = 8;

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

/// How fast to send requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rate {
    /// Requests per second.
    PacketsPerSecond(u32),
    /// Bits per second on the wire (each request counts 672 bits: frame,
    /// FCS, preamble and inter-frame gap).
    BitsPerSecond(u64),
}

impl Rate {
    /// Time between two requests.
    pub fn interval(&self) -> Duration {
        match *self {
            Rate::PacketsPerSecond(pps) => Duration::from_micros(1_000_000 / u64::from(pps.max(1))),
            Rate::BitsPerSecond(bps) => Duration::from_micros(WIRE_BITS_PER_REQUEST * 1_000_000 / bps.max(1)),
        }
    }
}

/// How to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ScanConfig {
    /// Sender address of the requests (the interface's; 0.0.0.0 if none).
    pub source_ip: Ipv4Addr,
    /// Pacing.
    pub rate: Rate,
    /// Requests per address at most, the first included (arp-scan's
    /// `--retry`).
    pub attempts: u8,
    /// The longest wait after a round before the next one (or the end).
    pub timeout: Duration,
    /// Growth of the wait per round, in percent (150: ×1.5 per round).
    pub backoff_percent: u16,
    /// Shorten the wait to the round trips actually seen.
    pub adaptive: bool,
}

impl Default for ScanConfig {
    /// arp-scan's defaults: 2 attempts, 500 ms timeout growing ×1.5,
    /// 256 kbit/s; plus the adaptive wait.
    fn default() -> Self {
        ScanConfig {
            source_ip: Ipv4Addr::UNSPECIFIED,
            rate: Rate::BitsPerSecond(256_000),
            attempts: 2,
            timeout: Duration::from_millis(500),
            backoff_percent: 150,
            adaptive: true,
        }
    }
}

/// What a scan finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScanEvent {
    /// `address` answered for the first time.
    Host {
        /// The address.
        address: Ipv4Addr,
        /// The MAC address that answered.
        hardware_addr: EthernetAddress,
        /// From the latest request to that address to this reply.
        rtt: Duration,
        /// The reply came after the wait of its round had ended.
        late: bool,
    },
    /// `address` answered again from a different MAC: two stations claim it.
    Duplicate {
        /// The address.
        address: Ipv4Addr,
        /// The MAC of the first answer.
        first: EthernetAddress,
        /// The MAC of this answer.
        other: EthernetAddress,
    },
    /// Every round is over: the scan is complete.
    Done,
}

/// Where a scan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScanStatus {
    /// Poll again at `next_poll_at` at the latest (or when a frame arrives).
    Running {
        /// The next deadline.
        next_poll_at: Instant,
    },
    /// Every round is over.
    Done,
}

/// Counters of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ScanStats {
    /// Requests sent.
    pub requests_sent: u64,
    /// Addresses that answered.
    pub hosts: u64,
    /// Replies from an already-answered address with the same MAC.
    pub repeated_replies: u64,
    /// Replies from an already-answered address with another MAC.
    pub duplicates: u64,
    /// Replies after their round's wait.
    pub late_replies: u64,
    /// Frames that were not replies to this scan.
    pub ignored_frames: u64,
    /// Requests the device was too busy to take (sent again later).
    pub busy: u64,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sending round `round`; the next candidate is at `cursor`.
    Sending {
        cursor: usize,
    },
    /// Round over; the next one (or the end) at `until`.
    Waiting {
        until: Instant,
    },
    Done,
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
    /// A scan of `range` whose first request goes out at `now`.
    pub fn new(range: Ipv4Range, config: ScanConfig, now: Instant) -> Result<Self, RangeTooLarge> {
        let too_large = RangeTooLarge { len: range.len(), capacity: HOSTS };
        let len = usize::try_from(range.len()).ok().filter(|&len| len <= HOSTS).ok_or(too_large)?;
        Ok(Scanner {
            range,
            len,
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

    /// The wait after round `round`: the timeout grown by the back-off once
    /// per round (saturating), or the adaptive wait if shorter.
    fn wait(&self, round: u8) -> Duration {
        let mut limit = self.config.timeout;
        for _ in 0..round {
            let grown = limit.total_micros().saturating_mul(u64::from(self.config.backoff_percent)) / 100;
            limit = Duration::from_micros(grown);
        }
        match self.slowest_rtt {
            Some(rtt) if self.config.adaptive => rtt.saturating_mul(ADAPTIVE_FACTOR).max(MIN_ADAPTIVE_WAIT).min(limit),
            _ => limit,
        }
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
        let interval = self.config.rate.interval();
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
                source_protocol_addr: self.config.source_ip,
                target_hardware_addr: EthernetAddress::UNSPECIFIED,
                target_protocol_addr: self.range.get(index).unwrap_or(Ipv4Addr::UNSPECIFIED),
            };
            let sent = station.transmit(EthernetAddress::BROADCAST, EtherType::ARP, request.buffer_len(), |payload| {
                request.emit(&mut ArpPacket::new_unchecked(payload))
            });
            match sent {
                Ok(()) => {}
                // The node notes the full device; this address is asked later.
                Err(nb::Error::WouldBlock) => {
                    self.stats.busy += 1;
                    return Ok(());
                }
                Err(nb::Error::Other(TransmitError::Device(err))) => return Err(err),
                // A 28-byte request always fits.
                Err(nb::Error::Other(TransmitError::PayloadTooLong { .. })) => return Ok(()),
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

    #[test]
    fn rates_become_intervals() {
        assert_eq!(Rate::PacketsPerSecond(1000).interval(), Duration::from_millis(1));
        assert_eq!(Rate::BitsPerSecond(672_000).interval(), Duration::from_millis(1));
    }
}
