//! The bounded table of stations seen on the segment.

use crate::time::Instant;
use crate::wire::{EthernetAddress, Name};

/// How a station came to be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Source {
    /// It announced itself (a whohas station with presence).
    Announced,
    /// It answered a name resolution but never announced (a station running
    /// the original C program, or whohas without presence).
    Resolved,
}

/// One station seen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Peer {
    /// Its name.
    pub name: Name,
    /// Its MAC address.
    pub mac: EthernetAddress,
    /// When it was first seen.
    pub first_seen: Instant,
    /// When it was last heard from.
    pub last_seen: Instant,
    /// When it is forgotten unless heard from again.
    pub expires: Instant,
    /// How it is known.
    pub source: Source,
    /// The epoch of its latest announcement (0 for resolved stations).
    pub epoch: u32,
    /// Queries sent to it since it was last heard from.
    pub queries: u8,
}

/// A station not heard from for this share of its expiry is asked to
/// announce itself, as mDNS refreshes its cache (RFC 6762, 5.2): at 80, 85,
/// 90 and 95 %. With the default keep-alive (10 s) and expiry (45 s) that
/// happens only after three keep-alives in a row were lost.
const QUERY_AT: [(u64, u32); 4] = [(80, 100), (85, 100), (90, 100), (95, 100)];

impl Peer {
    /// When this station must be asked next, or forgotten.
    pub fn next_check(&self) -> Instant {
        match QUERY_AT.get(usize::from(self.queries)) {
            Some(&(num, den)) if self.source == Source::Announced => {
                let lifetime = self.expires.saturating_duration_since(self.last_seen);
                self.last_seen + (lifetime / den).saturating_mul(num)
            }
            _ => self.expires,
        }
    }
}

/// Up to `N` stations, each known by name and MAC address: two stations
/// claiming one name are two entries, never merged.
pub struct Table<const N: usize> {
    peers: heapless::Vec<Peer, N>,
}

/// What [`Table::observe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Observed {
    /// A station not known before, under a name nobody else holds.
    New,
    /// A station not known before, under a name the station at `other`
    /// already holds.
    Conflict { other: EthernetAddress },
    /// A known station heard from again.
    Refreshed,
    /// The table is full: not recorded.
    Full,
}

impl<const N: usize> Default for Table<N> {
    fn default() -> Self {
        Table { peers: heapless::Vec::new() }
    }
}

impl<const N: usize> Table<N> {
    /// Records that `name` at `mac` was heard from at `now`, to be kept
    /// until `expires`. An announcement upgrades a resolved entry.
    pub(super) fn observe(
        &mut self,
        name: &Name,
        mac: EthernetAddress,
        now: Instant,
        expires: Instant,
        source: Source,
        epoch: u32,
    ) -> Observed {
        if let Some(peer) = self.peers.iter_mut().find(|p| p.mac == mac && p.name == *name) {
            peer.last_seen = now;
            peer.expires = peer.expires.max(expires);
            peer.queries = 0;
            if source == Source::Announced {
                peer.source = Source::Announced;
                peer.epoch = epoch;
            }
            return Observed::Refreshed;
        }
        let other = self.peers.iter().find(|p| p.name == *name).map(|p| p.mac);
        let peer =
            Peer { name: name.clone(), mac, first_seen: now, last_seen: now, expires, source, epoch, queries: 0 };
        if self.peers.push(peer).is_err() {
            return Observed::Full;
        }
        match other {
            Some(other) => Observed::Conflict { other },
            None => Observed::New,
        }
    }

    /// Forgets `name` at `mac`; the entry, if there was one.
    pub(super) fn remove(&mut self, name: &Name, mac: EthernetAddress) -> Option<Peer> {
        let index = self.peers.iter().position(|p| p.mac == mac && p.name == *name)?;
        Some(self.peers.swap_remove(index))
    }

    /// Removes one entry expired at `now`.
    pub(super) fn remove_expired(&mut self, now: Instant) -> Option<Peer> {
        let index = self.peers.iter().position(|p| p.expires <= now)?;
        Some(self.peers.swap_remove(index))
    }

    /// When the next entry must be asked or forgotten.
    pub(super) fn next_check(&self) -> Option<Instant> {
        self.peers.iter().map(Peer::next_check).min()
    }

    /// An entry whose query is due at `now` (counted as sent): its MAC.
    pub(super) fn query_due(&mut self, now: Instant) -> Option<EthernetAddress> {
        let peer = self.peers.iter_mut().find(|p| p.expires > now && p.next_check() <= now)?;
        peer.queries += 1;
        Some(peer.mac)
    }

    /// Every station known, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Peer> {
        self.peers.iter()
    }

    /// How many stations are known.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no station is known.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Whether another station also claims `peer`'s name.
    pub fn is_contested(&self, peer: &Peer) -> bool {
        self.peers.iter().any(|p| p.name == peer.name && p.mac != peer.mac)
    }

    /// The station called `name` (the first seen, if two claim it).
    pub fn get(&self, name: &Name) -> Option<&Peer> {
        self.peers.iter().filter(|p| p.name == *name).min_by_key(|p| p.first_seen)
    }
}
