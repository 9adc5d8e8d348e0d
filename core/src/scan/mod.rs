//! Scans: who is on this segment, and at which MAC address?
//!
//! - [`Scanner`] asks every address of an IPv4 range with ARP, like
//!   arp-scan;
//! - [`Ipv6Scanner`] finds IPv6 hosts, whose addresses cannot be swept (a
//!   /64 holds 2^64): it asks the all-nodes group, then confirms each address
//!   heard with a neighbour solicitation, as `ip -6 neigh` would learn it.
//!
//! Both run in rounds paced at a packet or bit rate ([`ScanConfig`]), time
//! each answer, report an address answered from two MACs as a duplicate,
//! and flag answers that come after the wait of their round.
//!
//! The wait is *adaptive* by default: once replies arrive, a round waits
//! eight times the slowest round trip seen (at least 20 ms) instead of the
//! full [`ScanConfig::timeout`], which stays the upper bound. On a LAN, where
//! hosts answer within a millisecond, that ends a scan long before a fixed
//! half-second timeout would, with the same hosts found.
//!
//! Nothing is allocated: a scanner's state has a fixed size, and results
//! leave as [`ScanEvent`]s of the node (in
//! [`Event::Service`](crate::Event::Service)) hosting it. Time arithmetic
//! saturates: extreme retry counts, back-offs and scan durations cannot
//! overflow.

mod arp;
mod ipv6;

use core::net::Ipv4Addr;

pub use arp::{Ipv4Range, ParseRangeError, RangeTooLarge, Scanner};
pub use ipv6::{Ipv6Scanner, MAX_SOURCES};

use crate::device::TransmitError;
use crate::time::{Duration, Instant};
use crate::wire::EthernetAddress;

/// Requests sent per poll at most.
const BUDGET: usize = 64;
/// The shortest adaptive wait.
const MIN_ADAPTIVE_WAIT: Duration = Duration::from_millis(20);
/// The adaptive wait is this many times the slowest round trip seen.
const ADAPTIVE_FACTOR: u64 = 8;
/// What a frame costs on the wire beyond its bytes: FCS, preamble and
/// inter-frame gap.
const WIRE_OVERHEAD: usize = 4 + 8 + 12;

/// How fast to send requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rate {
    /// Requests per second.
    PacketsPerSecond(u32),
    /// Bits per second on the wire (a request counts its frame, FCS,
    /// preamble and inter-frame gap: 672 bits for ARP, 880 for a neighbour
    /// solicitation).
    BitsPerSecond(u64),
}

impl Rate {
    /// Time between two requests of `frame_len` bytes.
    pub fn interval(&self, frame_len: usize) -> Duration {
        match *self {
            Rate::PacketsPerSecond(pps) => Duration::from_micros(1_000_000 / u64::from(pps.max(1))),
            Rate::BitsPerSecond(bps) => {
                let bits = ((frame_len + WIRE_OVERHEAD) * 8) as u64;
                Duration::from_micros(bits * 1_000_000 / bps.max(1))
            }
        }
    }
}

/// How to scan: pace, rounds and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ScanConfig {
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
            rate: Rate::BitsPerSecond(256_000),
            attempts: 2,
            timeout: Duration::from_millis(500),
            backoff_percent: 150,
            adaptive: true,
        }
    }
}

impl ScanConfig {
    /// The wait after round `round`: the timeout grown by the back-off once
    /// per round (saturating), or the adaptive wait if shorter.
    fn wait(&self, round: u8, slowest_rtt: Option<Duration>) -> Duration {
        let mut limit = self.timeout;
        for _ in 0..round {
            let grown = limit.total_micros().saturating_mul(u64::from(self.backoff_percent)) / 100;
            limit = Duration::from_micros(grown);
        }
        match slowest_rtt {
            Some(rtt) if self.adaptive => rtt.saturating_mul(ADAPTIVE_FACTOR).max(MIN_ADAPTIVE_WAIT).min(limit),
            _ => limit,
        }
    }
}

/// What a scan finds, for addresses of type `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScanEvent<A = Ipv4Addr> {
    /// `address` answered for the first time.
    Host {
        /// The address.
        address: A,
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
        address: A,
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

/// Where a scanner is in its rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sending the current round; the next candidate is at `cursor`.
    Sending {
        cursor: usize,
    },
    /// Round over; the next one (or the end) at `until`.
    Waiting {
        until: Instant,
    },
    Done,
}

/// What became of a request handed to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// It left.
    Now,
    /// The device had no room (the node notes it; it is asked again later),
    /// or it could not be sent at all.
    Later,
}

impl Sent {
    /// Counts a busy device; a device failure is the caller's error.
    fn of<E>(sent: nb::Result<(), TransmitError<E>>, stats: &mut ScanStats) -> Result<Sent, E> {
        match sent {
            Ok(()) => Ok(Sent::Now),
            Err(nb::Error::WouldBlock) => {
                stats.busy += 1;
                Ok(Sent::Later)
            }
            Err(nb::Error::Other(TransmitError::Device(err))) => Err(err),
            // A request is a few dozen bytes: it always fits.
            Err(nb::Error::Other(TransmitError::PayloadTooLong { .. })) => Ok(Sent::Later),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_become_intervals() {
        assert_eq!(Rate::PacketsPerSecond(1000).interval(60), Duration::from_millis(1));
        assert_eq!(Rate::BitsPerSecond(672_000).interval(60), Duration::from_millis(1));
        assert_eq!(Rate::BitsPerSecond(880_000).interval(86), Duration::from_millis(1));
    }
}
