//! Who is around: presence on the segment, serverless, the way mDNS/DNS-SD
//! does it (RFC 6762: probe, announce, keep alive, say goodbye), hosted by a
//! node as a [`Service`] (ethertype 0x88B6, see
//! [`wire::presence`] and `docs/PROTOCOL.md`).
//!
//! - **Probe.** [`Presence::start`] first asks whether the node's name is
//!   taken: [`PresenceConfig::probes`] PROBE frames and one name-ARP
//!   request (so a station running the original C program defends its name
//!   too), [`PresenceConfig::probe_interval`] apart, while the node does not
//!   answer for the name itself. Any answer for the name from another
//!   station ends it: [`PresenceEvent::NameTaken`], and the station never
//!   announces. Two stations probing one name at once: the lower MAC
//!   address keeps it.
//! - **Announce.** Then it announces itself, asking every station that
//!   hears it to announce itself in return after a random delay of up to
//!   [`PresenceConfig::answer_jitter`] (so a hundred stations do not answer
//!   in the same microsecond, and one answer serves every newcomer of that
//!   moment): a newcomer knows the segment within about a second.
//! - **Keep alive, expire, leave.** It announces again every
//!   [`PresenceConfig::keepalive`] (±10 %, so stations started together
//!   drift apart). A station not heard from for 80, 85, 90 and 95 % of its
//!   announced expiry is asked, by a unicast announcement asking for an
//!   answer, to announce itself (mDNS's cache refresh: two keep-alives lost
//!   in a row do not make a station vanish); one still silent at its
//!   expiry is [`PresenceEvent::Disappeared`]. [`Presence::leave`] sends a
//!   GOODBYE ([`PresenceEvent::Left`] on the others).
//! - **Conflicts.** Two MAC addresses claiming one name are two entries of
//!   the table, flagged ([`PresenceEvent::Conflict`], like arp-scan's DUP),
//!   never merged. A station that hears its own name announced by another
//!   reports the conflict and defends the name by announcing at once (at
//!   most once per [`PresenceConfig::defend_interval`]).
//!
//! The table is separate from the node's resolution cache: nothing a
//! presence frame says enters the cache, so the rule that an unsolicited
//! name-ARP reply never poisons it still holds. Stations that do not
//! announce (the original C program) appear in the table once the node has
//! resolved them, marked [`Source::Resolved`].

mod table;

use table::Observed;
pub use table::{Peer, Source, Table};

use crate::device::LinkDevice;
use crate::device::went_out;
use crate::rng::Rng;
use crate::service::Service;
use crate::station::Event;
use crate::station::Station;
use crate::time::{self, Duration, Instant};
use crate::wire::presence::{PresenceKind, PresenceRepr};
use crate::wire::{self, EtherType, EthernetAddress, EthernetRepr, Name, NameArpPacket, NameArpRepr};

/// Timing of presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PresenceConfig {
    /// How often a station announces itself.
    pub keepalive: Duration,
    /// How long others keep a station they stop hearing from (sent in every
    /// announcement; each station keeps others for what they ask).
    pub expiry: Duration,
    /// PROBE frames sent before taking the name.
    pub probes: u8,
    /// Time between probes, and after the last one.
    pub probe_interval: Duration,
    /// Announcements asking for answers when joining.
    pub announcements: u8,
    /// Time between those announcements.
    pub announce_interval: Duration,
    /// Longest random delay before answering a newcomer.
    pub answer_jitter: Duration,
    /// Shortest time between two announcements defending the name.
    pub defend_interval: Duration,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            keepalive: Duration::from_secs(10),
            expiry: Duration::from_secs(45),
            probes: 3,
            probe_interval: Duration::from_millis(250),
            announcements: 2,
            announce_interval: Duration::from_secs(1),
            answer_jitter: Duration::from_millis(500),
            defend_interval: Duration::from_secs(1),
        }
    }
}

/// What presence tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PresenceEvent {
    /// Probing found the name free: the station announced itself.
    Claimed {
        /// The node's name.
        name: Name,
    },
    /// Another station holds the name: this one does not announce.
    NameTaken {
        /// The node's name.
        name: Name,
        /// The station that answered for it.
        by: EthernetAddress,
    },
    /// A station announced itself for the first time.
    Joined {
        /// Its name.
        name: Name,
        /// Its MAC address.
        mac: EthernetAddress,
    },
    /// A station said goodbye.
    Left {
        /// Its name.
        name: Name,
        /// Its MAC address.
        mac: EthernetAddress,
    },
    /// A station was not heard from for its expiry.
    Disappeared {
        /// Its name.
        name: Name,
        /// Its MAC address.
        mac: EthernetAddress,
    },
    /// Two stations claim one name (one of them may be this node).
    Conflict {
        /// The name.
        name: Name,
        /// The station known with it first.
        known: EthernetAddress,
        /// The other one.
        other: EthernetAddress,
    },
}

/// Where the station is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PresenceState {
    /// Not started.
    Idle,
    /// Asking whether the name is taken.
    Probing,
    /// The name is ours: announced and kept alive.
    Present,
    /// Another station holds the name.
    NameTaken,
    /// Said goodbye.
    Left,
}

/// Counters of presence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PresenceStats {
    /// Presence frames sent.
    pub frames_sent: u64,
    /// Presence frames received and understood.
    pub frames_received: u64,
    /// Presence frames that did not parse, dropped.
    pub rx_malformed: u64,
    /// Stations not recorded because the table was full.
    pub table_full: u64,
    /// Events dropped because the application did not take them in time.
    pub events_dropped: u64,
    /// Announcements sent to defend the node's name.
    pub defences: u64,
    /// Stations not heard from for a while asked to announce themselves.
    pub queries_sent: u64,
}

/// Longest queue of events between two polls of the application.
const EVENTS: usize = 32;
/// Shortest and longest expiry taken from an announcement.
const EXPIRY_MIN: Duration = Duration::from_secs(2);
const EXPIRY_MAX: Duration = Duration::from_secs(3600);

/// The presence service: up to `N` stations in its table.
pub struct Presence<const N: usize = 64> {
    config: PresenceConfig,
    rng: Rng,
    epoch: u32,
    state: PresenceState,
    /// Probes or join announcements sent so far.
    sent: u8,
    /// When the state's next frame is due (probe, announcement, keep-alive).
    next_send: Option<Instant>,
    /// When the answer to a newcomer is due.
    answer_at: Option<Instant>,
    last_defence: Option<Instant>,
    /// A goodbye to send at the next poll.
    goodbye: bool,
    /// No entry of the table needs a query or expires before this (a
    /// refreshed entry may leave it early, which costs one early scan).
    next_check: Option<Instant>,
    /// The application asked for something since the last poll.
    dirty: bool,
    table: Table<N>,
    events: heapless::Deque<PresenceEvent, EVENTS>,
    stats: PresenceStats,
}

impl<const N: usize> Presence<N> {
    /// A presence service with `config`, its epoch and jitter drawn from a
    /// generator seeded with `seed` (hosts: a random seed).
    pub fn new(config: PresenceConfig, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let epoch = rng.next_u32();
        Presence {
            config,
            rng,
            epoch,
            state: PresenceState::Idle,
            sent: 0,
            next_send: None,
            answer_at: None,
            last_defence: None,
            goodbye: false,
            next_check: None,
            dirty: false,
            table: Table::default(),
            events: heapless::Deque::new(),
            stats: PresenceStats::default(),
        }
    }

    /// Starts probing the node's name (then announcing it) at the next poll.
    pub fn start(&mut self) {
        if matches!(self.state, PresenceState::Idle | PresenceState::Left) {
            self.state = PresenceState::Probing;
            self.sent = 0;
            self.next_send = Some(Instant::ZERO);
            self.dirty = true;
        }
    }

    /// Says goodbye at the next poll; the station stops announcing.
    pub fn leave(&mut self) {
        if self.state == PresenceState::Present {
            self.goodbye = true;
            self.dirty = true;
        }
        self.state = PresenceState::Left;
        self.next_send = None;
        self.answer_at = None;
    }

    /// Where the station is.
    pub fn state(&self) -> PresenceState {
        self.state
    }

    /// Whether a goodbye is still to be sent.
    pub fn is_leaving(&self) -> bool {
        self.goodbye
    }

    /// The stations seen.
    pub fn table(&self) -> &Table<N> {
        &self.table
    }

    /// The counters.
    pub fn stats(&self) -> &PresenceStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &PresenceConfig {
        &self.config
    }

    fn push(&mut self, event: PresenceEvent) {
        if self.events.is_full() {
            self.stats.events_dropped += 1;
            self.events.pop_front();
        }
        let _ = self.events.push_back(event);
    }

    /// A random duration up to `max`.
    fn jitter(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.rng.below(max.total_micros()))
    }

    fn send<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        to: EthernetAddress,
        kind: PresenceKind,
        answer: bool,
    ) -> Result<(), D::Error> {
        let repr = PresenceRepr {
            kind,
            answer,
            epoch: self.epoch,
            expiry_secs: if kind == PresenceKind::Announce {
                self.config.expiry.total_secs().clamp(1, u64::from(u16::MAX)) as u16
            } else {
                0
            },
            name: station.name().clone(),
        };
        // A full transmit queue loses this one; the next keep-alive makes up
        // for it. Names are at most 64 bytes: the frame always fits.
        if went_out(station.transmit(to, EtherType::PRESENCE, repr.buffer_len(), |payload| repr.emit(payload)))? {
            self.stats.frames_sent += 1;
        }
        Ok(())
    }

    /// Broadcasts "who has NAME?" for the node's own name, so a station
    /// running the original program defends it too.
    fn request_own_name<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        let request = NameArpRepr::Request { name: station.name().clone() };
        went_out(station.transmit(EthernetAddress::BROADCAST, EtherType::NAME_ARP, request.buffer_len(), |payload| {
            request.emit(&mut NameArpPacket::new_unchecked(payload))
        }))
        .map(drop)
    }

    /// Another station at `by` answers for the node's own name.
    fn own_name_claimed<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        by: EthernetAddress,
    ) -> Result<(), D::Error> {
        let now = station.now();
        match self.state {
            PresenceState::Probing => {
                self.state = PresenceState::NameTaken;
                self.next_send = None;
                self.push(PresenceEvent::NameTaken { name: station.name().clone(), by });
            }
            PresenceState::Present => {
                let name = station.name().clone();
                self.push(PresenceEvent::Conflict { name, known: station.mac_address(), other: by });
                self.defend(station, now)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Announces at once to keep the name, at most once per interval.
    fn defend<D: LinkDevice>(&mut self, station: &mut Station<'_, D>, now: Instant) -> Result<(), D::Error> {
        if self.last_defence.is_some_and(|at| now - at < self.config.defend_interval) {
            return Ok(());
        }
        self.last_defence = Some(now);
        self.stats.defences += 1;
        self.send(station, EthernetAddress::BROADCAST, PresenceKind::Announce, false)
    }

    fn observe(
        &mut self,
        name: &Name,
        mac: EthernetAddress,
        now: Instant,
        expiry: Duration,
        source: Source,
        epoch: u32,
    ) {
        // The first query is due at 80 % of the expiry: no earlier check.
        let first_query = (expiry / 100).saturating_mul(80);
        self.next_check = time::earliest(self.next_check, Some(now + first_query));
        match self.table.observe(name, mac, now, now + expiry, source, epoch) {
            Observed::New if source == Source::Announced => {
                self.push(PresenceEvent::Joined { name: name.clone(), mac })
            }
            Observed::Conflict { other } => {
                if source == Source::Announced {
                    self.push(PresenceEvent::Joined { name: name.clone(), mac });
                }
                self.push(PresenceEvent::Conflict { name: name.clone(), known: other, other: mac });
            }
            Observed::Full => self.stats.table_full += 1,
            Observed::New | Observed::Refreshed => {}
        }
    }

    fn receive_presence<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        from: EthernetAddress,
        payload: &[u8],
    ) -> Result<(), D::Error> {
        let repr = match PresenceRepr::parse(payload) {
            Ok(repr) => repr,
            Err(_) => {
                self.stats.rx_malformed += 1;
                return Ok(());
            }
        };
        self.stats.frames_received += 1;
        let now = station.now();
        let ours = repr.name == *station.name();
        match repr.kind {
            PresenceKind::Probe if ours => match self.state {
                PresenceState::Present => self.defend(station, now)?,
                // Both probing at once: the lower MAC address keeps it.
                PresenceState::Probing if from < station.mac_address() => self.own_name_claimed(station, from)?,
                _ => {}
            },
            PresenceKind::Probe => {}
            PresenceKind::Announce if ours => self.own_name_claimed(station, from)?,
            PresenceKind::Announce => {
                let expiry = Duration::from_secs(u64::from(repr.expiry_secs));
                let expiry = if expiry.total_micros() == 0 { self.config.expiry } else { expiry };
                let expiry = expiry.max(EXPIRY_MIN).min(EXPIRY_MAX);
                self.observe(&repr.name, from, now, expiry, Source::Announced, repr.epoch);
                if repr.answer && self.state == PresenceState::Present && self.answer_at.is_none() {
                    self.answer_at = Some(now + self.jitter(self.config.answer_jitter));
                }
            }
            PresenceKind::Goodbye => {
                if let Some(peer) = self.table.remove(&repr.name, from) {
                    self.push(PresenceEvent::Left { name: peer.name, mac: peer.mac });
                }
            }
        }
        Ok(())
    }
}

impl<const N: usize> Service for Presence<N> {
    type Event<'s> = PresenceEvent;

    fn accepts(&self, ethertype: EtherType) -> bool {
        ethertype == EtherType::PRESENCE || ethertype == EtherType::NAME_ARP
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        let payload = &frame[wire::ethernet::HEADER_LEN..];
        if header.ethertype == EtherType::PRESENCE {
            return self.receive_presence(station, header.src_addr, payload);
        }
        // A name-ARP reply for the node's own name from another station:
        // the node drops it (it did not ask); presence learns the name is
        // held by a station that does not announce.
        if let Ok(NameArpRepr::Reply { name, hardware_addr }) =
            NameArpRepr::parse(&NameArpPacket::new_unchecked(payload))
        {
            if name == *station.name() && hardware_addr != station.mac_address() {
                self.own_name_claimed(station, hardware_addr)?;
            }
        }
        Ok(())
    }

    fn on_node_event<D: LinkDevice, E>(
        &mut self,
        station: &mut Station<'_, D>,
        event: &Event<'_, E>,
    ) -> Result<(), D::Error> {
        if let Event::Resolved { name, hardware_addr, .. } = event {
            let expiry = self.config.expiry;
            self.observe(name, *hardware_addr, station.now(), expiry, Source::Resolved, 0);
        }
        Ok(())
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        let now = station.now();
        self.dirty = false;
        if self.goodbye {
            self.goodbye = false;
            self.send(station, EthernetAddress::BROADCAST, PresenceKind::Goodbye, false)?;
        }
        if self.next_check.is_some_and(|at| at <= now) {
            while let Some(peer) = self.table.remove_expired(now) {
                if peer.source == Source::Announced {
                    self.push(PresenceEvent::Disappeared { name: peer.name, mac: peer.mac });
                }
            }
            // Only a station that is present asks (its question announces it).
            while self.state == PresenceState::Present {
                let Some(mac) = self.table.query_due(now) else { break };
                self.stats.queries_sent += 1;
                self.send(station, mac, PresenceKind::Announce, true)?;
            }
            self.next_check = self.table.next_check();
        }
        if self.next_send.is_some_and(|at| at <= now) {
            match self.state {
                PresenceState::Probing if self.sent < self.config.probes => {
                    // The node must not answer for a name it may not own.
                    station.set_answering(false);
                    if self.sent == 0 {
                        self.request_own_name(station)?;
                    }
                    self.send(station, EthernetAddress::BROADCAST, PresenceKind::Probe, false)?;
                    self.sent += 1;
                    self.next_send = Some(now + self.config.probe_interval);
                }
                PresenceState::Probing => {
                    station.set_answering(true);
                    self.state = PresenceState::Present;
                    self.sent = 0;
                    self.push(PresenceEvent::Claimed { name: station.name().clone() });
                    self.next_send = Some(now);
                    return self.poll(station);
                }
                PresenceState::Present if self.sent < self.config.announcements => {
                    self.send(station, EthernetAddress::BROADCAST, PresenceKind::Announce, true)?;
                    self.sent += 1;
                    self.answer_at = None;
                    self.next_send = Some(if self.sent < self.config.announcements {
                        now + self.config.announce_interval
                    } else {
                        self.next_keepalive(now)
                    });
                }
                PresenceState::Present => {
                    self.send(station, EthernetAddress::BROADCAST, PresenceKind::Announce, false)?;
                    self.answer_at = None;
                    self.next_send = Some(self.next_keepalive(now));
                }
                _ => self.next_send = None,
            }
        }
        if self.answer_at.is_some_and(|at| at <= now) {
            self.answer_at = None;
            self.send(station, EthernetAddress::BROADCAST, PresenceKind::Announce, false)?;
        }
        Ok(())
    }

    fn poll_at(&self) -> Option<Instant> {
        if self.dirty || self.goodbye {
            return Some(Instant::ZERO);
        }
        time::earliest(time::earliest(self.next_send, self.answer_at), self.next_check)
    }

    fn has_event(&self) -> bool {
        !self.events.is_empty()
    }

    fn next_event(&mut self, _: &mut [u8]) -> Option<PresenceEvent> {
        self.events.pop_front()
    }
}

impl<const N: usize> Presence<N> {
    /// The next keep-alive: the interval ±10 %.
    fn next_keepalive(&mut self, now: Instant) -> Instant {
        let interval = self.config.keepalive;
        let tenth = interval / 10;
        now + Duration::from_micros(interval.total_micros() - tenth.total_micros())
            + self.jitter(tenth.saturating_mul(2))
    }
}
