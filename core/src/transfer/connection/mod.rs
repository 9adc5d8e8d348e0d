//! One connection, split by concern: what both ends share (here: phase,
//! peer, timers, control frames), its window of segments ([`ring`]), its
//! role as a type ([`sender`] or [`receiver`], never a flag checked at run
//! time), and what it has to tell the application ([`events`]).

mod events;
mod receiver;
mod ring;
mod sender;

use receiver::Receiver;
use ring::Ring;
use sender::Sender;

use super::rtt::RttEstimator;
use super::{ConnId, ConnectionInfo, ConnectionStats, Failure, TransferConfig, TransferStats};
use crate::device::{LinkDevice, TransmitError};
use crate::station::Station;
use crate::time::{self, Duration, Instant};
use crate::wire::transfer::{Kind, MAX_SEGMENT, SynPayload, TransferRepr};
use crate::wire::{EtherType, EthernetAddress, Name};

/// Longest opening header an application can give (a file's name, size
/// and hash fit with room to spare).
pub const HEADER_MAX: usize = 512;

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The slot is unused.
    Free,
    /// Sender: waiting for the peer's MAC address from the name layer.
    Resolving,
    /// Sender: SYN sent, waiting for SYN-ACK.
    Connecting,
    /// Receiver: SYN received; the application may refuse it while it
    /// handles the `Incoming` event; accepted at the next poll otherwise.
    Offered,
    /// Data flows.
    Open,
    /// Sender: everything acknowledged, FIN sent, waiting for the
    /// receiver's verdict.
    Finishing,
    /// Receiver: everything received; the verdict (FIN-ACK) goes out at the
    /// next poll after the application has heard `Finished`.
    Verdict,
    /// Refused or aborted by the application: a RESET goes out at the next
    /// poll, then the slot is freed without further events.
    Resetting,
    /// Over: its last events are being handed out; a receiver then keeps
    /// the slot until `until` to answer a late duplicate FIN.
    Ended { until: Instant },
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Closed(u16),
    Failed(Failure),
}

/// What the application has not heard yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Notify {
    offered: bool,
    connected: bool,
    writable: bool,
    finished: bool,
    end: Option<End>,
}

/// Which end of the connection this node is, with that end's state.
// The sender keeps far more than the receiver (its congestion control), but
// a connection is either, in a slot sized for the larger: without a heap,
// there is nowhere to box it, and nothing to save.
#[allow(clippy::large_enum_variant)]
enum Side {
    /// Opened it, and sends the data.
    Sender(Sender),
    /// Accepted it, and receives the data.
    Receiver(Receiver),
}

/// What both ends of a connection keep.
struct Shared {
    phase: Phase,
    messages: bool,
    handle: ConnId,
    conn_id: u32,
    peer: Name,
    peer_mac: Option<EthernetAddress>,
    /// Sender: the opening header to send; receiver: the one received.
    header: heapless::Vec<u8, HEADER_MAX>,
    notify: Notify,
    /// The verdict a receiver sends in its FIN-ACK (or a RESET's status).
    status: u16,
    /// The first sequence number.
    isn: u32,
    rtt: RttEstimator,
    last_heard: Instant,
    last_sent: Instant,
    /// When a SYN or FIN is sent again, or a keep-alive goes out.
    control_at: Instant,
    /// The latest timestamp received, echoed back.
    echo: u32,
    /// An acknowledgement (or a repeated verdict) should go out at the next
    /// poll.
    ack_due: bool,
    stats: ConnectionStats,
}

/// What an end made of a frame.
enum Taken {
    /// It moved the connection on.
    Used,
    /// It makes no sense in the connection's phase.
    OutOfPlace,
    /// It ended the connection.
    Ended(End),
}

/// What a poll of an end came to.
enum Polled {
    /// Poll again by then (`None`: when a frame arrives).
    Next(Option<Instant>),
    /// The connection ended; poll again at once.
    Ended(End),
}

/// The fields of a frame without data that depend on the end sending it.
struct Fields<'a> {
    seq: u32,
    ack: u32,
    window: u16,
    sack: &'a [u8],
}

/// A connection and its window of `W` segments (a power of two).
pub(super) struct Connection<const W: usize> {
    shared: Shared,
    side: Side,
    ring: Ring<W>,
}

/// The microsecond clock stamped on frames: the low 32 bits of `now`.
fn stamp(now: Instant) -> u32 {
    now.total_micros() as u32
}

/// Whether timestamp `a` is before `b` (both wrap every 71 minutes).
fn stamp_before(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

impl Shared {
    /// Whether the connection has ended (events may remain).
    fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Ended { .. } | Phase::Resetting | Phase::Free)
    }

    /// Ends the connection; the application hears `end`. A receiver keeps
    /// the slot a while (`linger`) to answer a late FIN.
    fn end_with(&mut self, end: End, now: Instant, linger: Option<Duration>) {
        if self.is_over() {
            return;
        }
        self.phase = Phase::Ended { until: now + linger.unwrap_or(Duration::ZERO) };
        self.notify.end = Some(end);
    }

    /// Takes a round-trip sample from an echoed timestamp; the sample, if
    /// it is one.
    fn take_rtt(&mut self, echo: u32, now: Instant) -> Option<Duration> {
        let elapsed = stamp(now).wrapping_sub(echo);
        // An echo from the future or older than a minute is not ours.
        let sample = (echo != 0 && elapsed < 60_000_000).then(|| Duration::from_micros(u64::from(elapsed)));
        if let Some(sample) = sample {
            self.rtt.sample(sample);
        }
        sample
    }

    /// The smoothed round trip, or the initial timeout before the first.
    fn round_trip(&self, config: &TransferConfig) -> Duration {
        self.rtt.srtt().unwrap_or(config.initial_rto)
    }

    /// Sends a frame without data (control, acknowledgement, status) with
    /// the end-specific `fields`; says whether the device took it.
    fn send<D: LinkDevice>(
        &mut self,
        link: &mut PeerLink<'_, '_, D>,
        kind: Kind,
        from_initiator: bool,
        fields: Fields<'_>,
        payload: &[u8],
    ) -> Result<bool, D::Error> {
        let repr = TransferRepr {
            kind,
            from_initiator,
            messages: self.messages,
            conn_id: self.conn_id,
            seq: fields.seq,
            ack: fields.ack,
            window: fields.window,
            timestamp: stamp(link.now()),
            echo: self.echo,
            sack: fields.sack,
            payload,
        };
        let sent = link.transmit(&repr)?;
        if sent {
            self.last_sent = link.now();
        }
        Ok(sent)
    }
}

impl<const W: usize> Connection<W> {
    pub(super) const FREE: Self = Connection {
        shared: Shared {
            phase: Phase::Free,
            messages: false,
            handle: ConnId::new(0, 0),
            conn_id: 0,
            peer: Name::EMPTY,
            peer_mac: None,
            header: heapless::Vec::new(),
            notify: Notify { offered: false, connected: false, writable: false, finished: false, end: None },
            status: 0,
            isn: 0,
            rtt: RttEstimator::new(),
            last_heard: Instant::ZERO,
            last_sent: Instant::ZERO,
            control_at: Instant::ZERO,
            echo: 0,
            ack_due: false,
            stats: ConnectionStats { bytes: 0, segments: 0, retransmits: 0, timeouts: 0, spurious: 0, duplicates: 0 },
        },
        side: Side::Sender(Sender::new(0)),
        ring: Ring::EMPTY,
    };

    /// Resets the slot for a connection this node opens to `peer`, whose
    /// address it does not know yet.
    pub(super) fn open(&mut self, messages: bool, handle: ConnId, conn_id: u32, isn: u32, peer: Name, now: Instant) {
        self.start(Phase::Resolving, messages, handle, conn_id, isn, peer, None, now);
        self.side = Side::Sender(Sender::new(isn));
    }

    /// Resets the slot for a connection `peer` at `mac` opened to this
    /// node, offered to the application.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn accept(
        &mut self,
        messages: bool,
        handle: ConnId,
        conn_id: u32,
        isn: u32,
        peer: Name,
        mac: EthernetAddress,
        now: Instant,
    ) {
        self.start(Phase::Offered, messages, handle, conn_id, isn, peer, Some(mac), now);
        self.shared.notify.offered = true;
        self.side = Side::Receiver(Receiver::new(isn, Ring::<W>::LEN));
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        phase: Phase,
        messages: bool,
        handle: ConnId,
        conn_id: u32,
        isn: u32,
        peer: Name,
        peer_mac: Option<EthernetAddress>,
        now: Instant,
    ) {
        let shared = &mut self.shared;
        shared.phase = phase;
        shared.messages = messages;
        shared.handle = handle;
        shared.conn_id = conn_id;
        shared.peer = peer;
        shared.peer_mac = peer_mac;
        shared.header.clear();
        shared.notify = Notify::default();
        shared.status = 0;
        shared.isn = isn;
        shared.rtt = RttEstimator::new();
        (shared.last_heard, shared.last_sent, shared.control_at) = (now, now, now);
        shared.echo = 0;
        shared.ack_due = false;
        shared.stats = ConnectionStats::default();
        self.ring.clear();
    }

    /// Its handle, as the application knows it.
    pub(super) fn handle(&self) -> ConnId {
        self.shared.handle
    }

    /// Whether the slot holds a connection (over or not) named `handle`.
    pub(super) fn is(&self, handle: ConnId) -> bool {
        self.shared.handle == handle && self.shared.phase != Phase::Free
    }

    /// Whether the slot can take a new connection.
    pub(super) fn is_free(&self) -> bool {
        self.shared.phase == Phase::Free && self.shared.notify.end.is_none()
    }

    /// Its peer's name.
    pub(super) fn peer(&self) -> &Name {
        &self.shared.peer
    }

    /// Keeps `header` as the opening header (at most [`HEADER_MAX`] bytes:
    /// the caller checked).
    pub(super) fn set_header(&mut self, header: &[u8]) {
        self.shared.header.clear();
        let _ = self.shared.header.extend_from_slice(header);
    }

    /// What the application can know of it.
    pub(super) fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            peer_mac: self.shared.peer_mac,
            initiator: matches!(self.side, Side::Sender(_)),
            messages: self.shared.messages,
            unacknowledged: self.sender().map_or(0, Sender::unacknowledged),
            srtt: self.shared.rtt.srtt(),
            stats: self.shared.stats,
        }
    }

    /// Its sending side, if this node sends.
    fn sender(&self) -> Option<&Sender> {
        match &self.side {
            Side::Sender(sender) => Some(sender),
            Side::Receiver(_) => None,
        }
    }

    /// Its receiving side, if this node receives.
    fn receiver_mut(&mut self) -> Option<&mut Receiver> {
        match &mut self.side {
            Side::Receiver(receiver) => Some(receiver),
            Side::Sender(_) => None,
        }
    }

    /// Whether this node receives on it, and it is open.
    pub(super) fn is_receiving(&self) -> bool {
        matches!(self.side, Side::Receiver(_)) && self.shared.phase == Phase::Open
    }

    /// Whether the connection is in use and matches a frame's addresses:
    /// from the peer's sending end (`from_initiator`) to this node's
    /// receiving end, or the other way.
    pub(super) fn matches(&self, mac: EthernetAddress, conn_id: u32, from_initiator: bool) -> bool {
        let role_fits = matches!(self.side, Side::Receiver(_)) == from_initiator;
        self.shared.phase != Phase::Free
            && role_fits
            && self.shared.peer_mac == Some(mac)
            && self.shared.conn_id == conn_id
    }

    /// Whether it waits for `name` to resolve.
    pub(super) fn resolving(&self, name: &Name) -> bool {
        self.shared.phase == Phase::Resolving && self.shared.peer == *name
    }

    /// Whether it waits for its peer's name to resolve.
    pub(super) fn is_resolving(&self) -> bool {
        self.shared.phase == Phase::Resolving
    }

    /// Whether it is a message connection to `peer` that takes more
    /// messages.
    pub(super) fn takes_messages_to(&self, peer: &Name) -> bool {
        self.sender().is_some_and(|sender| !sender.finishing())
            && self.shared.messages
            && matches!(self.shared.phase, Phase::Resolving | Phase::Connecting | Phase::Open)
            && self.shared.peer == *peer
    }

    /// Ends the connection; the application hears `end`.
    fn end_with(&mut self, end: End, now: Instant, config: &TransferConfig) {
        let linger = matches!(self.side, Side::Receiver(_)).then_some(config.linger);
        self.shared.end_with(end, now, linger);
    }

    /// Its name did not resolve: it fails.
    pub(super) fn unresolved(&mut self, now: Instant, config: &TransferConfig) {
        self.end_with(End::Failed(Failure::Unresolved), now, config);
    }

    /// The sender heard its peer's address: the SYN goes out at once.
    pub(super) fn resolved(&mut self, mac: EthernetAddress, now: Instant) {
        let shared = &mut self.shared;
        shared.peer_mac = Some(mac);
        shared.phase = Phase::Connecting;
        (shared.last_heard, shared.control_at) = (now, now);
    }

    /// Queues one message (at most one segment): its number, or `None` if
    /// the window is full (or this end does not send).
    pub(super) fn write_message(&mut self, data: &[u8]) -> Option<u32> {
        let Side::Sender(sender) = &mut self.side else { return None };
        let number = sender.written().wrapping_sub(self.shared.isn);
        sender.push_segment(&mut self.ring, data).then_some(number)
    }

    /// Queues the next bytes of a stream; returns how many fit, or `None`
    /// if this end cannot write (it receives, carries messages, or
    /// finished).
    pub(super) fn write_stream(&mut self, data: &[u8], max_segment: usize) -> Option<usize> {
        let writable = !self.shared.messages && !self.shared.is_over();
        match &mut self.side {
            Side::Sender(sender) if writable && !sender.finishing() => {
                Some(sender.write_stream(&mut self.ring, data, max_segment))
            }
            _ => None,
        }
    }

    /// Room for new segments in the window (none on a receiving end).
    pub(super) fn room(&self) -> u32 {
        self.sender().map_or(0, |sender| Ring::<W>::LEN - sender.unacknowledged())
    }

    /// Ends a stream this node sends: a FIN once everything is
    /// acknowledged. `false` if it cannot (a receiving end, or over).
    pub(super) fn finish(&mut self) -> bool {
        let over = self.shared.is_over();
        match &mut self.side {
            Side::Sender(sender) if !over => {
                sender.finish();
                true
            }
            _ => false,
        }
    }

    /// The application's verdict, or its refusal: a receiver that has
    /// heard `Finished` sends it in its FIN-ACK; anything else ends with a
    /// RESET carrying `status`, and no more events.
    pub(super) fn close(&mut self, status: u16) {
        let shared = &mut self.shared;
        shared.status = status;
        if !matches!(shared.phase, Phase::Verdict | Phase::Ended { .. }) {
            shared.phase = Phase::Resetting;
            shared.notify = Notify::default();
        }
    }

    /// This receiver's share of the receive budget.
    pub(super) fn set_window_cap(&mut self, cap: u32) {
        if let Some(receiver) = self.receiver_mut() {
            receiver.window_cap = cap;
        }
    }

    /// A frame for this connection arrived.
    pub(super) fn receive(
        &mut self,
        repr: &TransferRepr<'_>,
        now: Instant,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) {
        let Connection { shared, side, ring } = self;
        if matches!(shared.phase, Phase::Ended { .. } | Phase::Resetting) {
            // A late FIN to a finished receiver is answered again (its
            // FIN-ACK was lost); anything else is over.
            shared.ack_due |= matches!(side, Side::Receiver(_)) && repr.kind == Kind::Fin;
            return;
        }
        shared.last_heard = now;
        shared.echo = repr.timestamp;
        if repr.kind == Kind::Reset {
            let status = status_of(repr.payload);
            let failure =
                if shared.phase == Phase::Connecting { Failure::Refused(status) } else { Failure::Reset(status) };
            self.end_with(End::Failed(failure), now, config);
            return;
        }
        let taken = match side {
            Side::Receiver(receiver) => receiver.receive(shared, ring, repr, stats),
            Side::Sender(sender) => sender.receive(shared, ring, repr, now, config, stats),
        };
        match taken {
            Taken::Used => {}
            Taken::OutOfPlace => stats.rx_out_of_place += 1,
            Taken::Ended(end) => self.end_with(end, now, config),
        }
    }

    /// A receiver acknowledges at once when a burst has gone on long enough
    /// (the service calls this after each frame).
    pub(super) fn acknowledge_burst<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<(), D::Error> {
        let Connection { shared, side: Side::Receiver(receiver), ring } = self else { return Ok(()) };
        match shared.peer_mac {
            Some(mac) if shared.phase == Phase::Open => {
                receiver.acknowledge_burst(shared, ring, &mut PeerLink::new(station, mac, stats), config)
            }
            _ => Ok(()),
        }
    }

    /// Sends what is due; returns when it next needs a poll (a time not
    /// after now: at once, because frames are left to send).
    pub(super) fn poll<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<Option<Instant>, D::Error> {
        let now = station.now();
        let Some(mac) = self.shared.peer_mac else { return Ok(None) };
        let link = &mut PeerLink::new(station, mac, stats);
        let live =
            !matches!(self.shared.phase, Phase::Free | Phase::Resolving | Phase::Ended { .. } | Phase::Resetting);
        if live && now - self.shared.last_heard >= config.dead_after {
            self.end_with(End::Failed(Failure::DeadPeer), now, config);
        }
        let dead_at = Some(self.shared.last_heard + config.dead_after);
        let Connection { shared, side, ring } = self;
        let next = match (shared.phase, side) {
            (Phase::Free | Phase::Resolving, _) => return Ok(None),
            (Phase::Resetting, side) => {
                // Best effort: a RESET the device has no room for is covered
                // by the peer's dead-peer timeout.
                let status = status_bytes(shared.status);
                send_plain(shared, side, ring, link, Kind::Reset, &status)?;
                shared.phase = Phase::Free;
                return Ok(None);
            }
            (Phase::Ended { until }, side) => {
                if shared.ack_due {
                    // A late FIN: the verdict again.
                    let status = status_bytes(shared.status);
                    shared.ack_due = !send_plain(shared, side, ring, link, Kind::FinAck, &status)?;
                }
                if now >= until && shared.notify == Notify::default() && matches!(side, Side::Receiver(_)) {
                    shared.phase = Phase::Free;
                    return Ok(None);
                }
                return Ok(Some(until));
            }
            (_, Side::Sender(sender)) => sender.poll(shared, ring, link, config)?,
            (_, Side::Receiver(receiver)) => receiver.poll(shared, ring, link, config)?,
        };
        let next = match next {
            Polled::Next(next) => next,
            Polled::Ended(end) => {
                self.end_with(end, now, config);
                return Ok(Some(now));
            }
        };
        Ok(time::earliest(next, dead_at))
    }
}

/// Sends a frame without data from whichever end `side` is.
fn send_plain<D: LinkDevice, const W: usize>(
    shared: &mut Shared,
    side: &mut Side,
    ring: &Ring<W>,
    link: &mut PeerLink<'_, '_, D>,
    kind: Kind,
    payload: &[u8],
) -> Result<bool, D::Error> {
    match side {
        Side::Sender(sender) => sender.send(shared, link, kind, payload),
        Side::Receiver(receiver) => receiver.send(shared, ring, link, kind, payload),
    }
}

/// The SYN's payload: this node's name and the opening header.
fn syn_payload<'b>(name: &Name, header: &[u8], buffer: &'b mut [u8; MAX_SEGMENT]) -> &'b [u8] {
    let syn = SynPayload { name: name.as_bytes(), header };
    let len = syn.buffer_len();
    syn.emit(&mut buffer[..len]);
    &buffer[..len]
}

/// Where a connection's frames go: out through the station, to the peer's
/// MAC address, counted in the service's statistics. One value, so that
/// every function that sends takes one parameter for all three.
pub(super) struct PeerLink<'a, 's, D: LinkDevice> {
    station: &'a mut Station<'s, D>,
    peer: EthernetAddress,
    stats: &'a mut TransferStats,
}

impl<'a, 's, D: LinkDevice> PeerLink<'a, 's, D> {
    /// Frames to `peer` through `station`, counted in `stats`.
    pub(super) fn new(station: &'a mut Station<'s, D>, peer: EthernetAddress, stats: &'a mut TransferStats) -> Self {
        PeerLink { station, peer, stats }
    }

    /// The station's time.
    pub(super) fn now(&self) -> Instant {
        self.station.now()
    }

    /// The station's name.
    fn name(&self) -> &Name {
        self.station.name()
    }

    /// The service's counters.
    fn stats(&mut self) -> &mut TransferStats {
        self.stats
    }

    /// Sends one transfer frame; says whether the device took it.
    pub(super) fn transmit(&mut self, repr: &TransferRepr<'_>) -> Result<bool, D::Error> {
        let (to, me) = (self.peer, self.station.mac_address());
        match self.station.transmit(to, EtherType::TRANSFER, repr.buffer_len(), |body| repr.emit(to, me, body)) {
            Ok(()) => {
                self.stats.frames_sent += 1;
                Ok(true)
            }
            Err(nb::Error::WouldBlock) => Ok(false),
            Err(nb::Error::Other(TransmitError::Device(err))) => Err(err),
            // Segments and trains are sized to the device: a frame always fits.
            Err(nb::Error::Other(TransmitError::PayloadTooLong { .. })) => Ok(true),
        }
    }
}

fn status_bytes(status: u16) -> [u8; 2] {
    status.to_be_bytes()
}

fn status_of(payload: &[u8]) -> u16 {
    match payload {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0,
    }
}
