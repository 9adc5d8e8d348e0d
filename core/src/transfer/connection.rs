//! One connection: its phase, its window of segments (the retransmission
//! buffer of an initiator, the reorder buffer of a receiver), its timers,
//! and what it has to tell the application.

use super::rtt::RttEstimator;
use super::seq::{before, distance};
use super::{ConnId, Failure, TransferConfig, TransferStats};
use crate::device::LinkDevice;
use crate::device::TransmitError;
use crate::station::Station;
use crate::time::{self, Duration, Instant};
use crate::wire::transfer::{
    Kind, MAX_PAYLOAD, MAX_SACK_BYTES, MAX_SEGMENT, SACK_WORD, SynAckPayload, SynPayload, TransferRepr,
};
use crate::wire::{EtherType, EthernetAddress, Name};

/// Longest opening header an application can give (a file's name, size
/// and hash fit with room to spare).
pub const HEADER_MAX: usize = 512;

/// Frames one connection sends per poll at most, so one busy connection
/// cannot starve the others and the node's other work.
const SEND_BUDGET: usize = 64;

/// A receiver acknowledges at least every this many DATA frames (a frame
/// is a segment, or a train of them on a jumbo link), besides once per
/// poll, so a lost acknowledgement costs little.
const ACK_EVERY: u8 = 8;

/// A segment is taken for lost, and sent again without waiting for its
/// timeout (fast retransmit), once a segment sent this many transmissions
/// after it has been acknowledged: like TCP's three duplicate
/// acknowledgements, but by transmission order (as RACK does), so a
/// segment just sent again is not sent a third time on the same evidence.
const REORDER_THRESHOLD: u32 = 3;

/// Which end of the connection this node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Opened it, and sends the data.
    Initiator,
    /// Accepted it, and receives the data.
    Acceptor,
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The slot is unused.
    Free,
    /// Initiator: waiting for the peer's MAC address from the name layer.
    Resolving,
    /// Initiator: SYN sent, waiting for SYN-ACK.
    Connecting,
    /// Acceptor: SYN received; the application may refuse it while it
    /// handles the `Incoming` event; accepted at the next poll otherwise.
    Offered,
    /// Data flows.
    Open,
    /// Initiator: everything acknowledged, FIN sent, waiting for the
    /// receiver's verdict.
    Finishing,
    /// Acceptor: everything received; the verdict (FIN-ACK) goes out at the
    /// next poll after the application has heard `Finished`.
    Verdict,
    /// Refused or aborted by the application: a RESET goes out at the next
    /// poll, then the slot is freed without further events.
    Resetting,
    /// Over: its last events are being handed out; an acceptor then keeps
    /// the slot until `until` to answer a late duplicate FIN.
    Ended { until: Instant },
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Closed(u16),
    Failed(Failure),
}

/// What the application has not heard yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Notify {
    pub(crate) offered: bool,
    pub(crate) connected: bool,
    pub(crate) writable: bool,
    pub(crate) finished: bool,
    pub(crate) end: Option<End>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    Empty,
    /// Initiator: written, not sent yet.
    Queued,
    /// Initiator: sent (the `order`-th transmission of the connection) at
    /// `sent_at`, waiting for its acknowledgement.
    InFlight {
        deadline: Instant,
        rto: Duration,
        order: u32,
        sent_at: Instant,
        /// Sent more than once: an acknowledgement may be the first copy's.
        resent: bool,
    },
    /// Initiator: acknowledged by a SACK block, ahead of the cumulative
    /// acknowledgement.
    Sacked,
    /// Acceptor: received, not handed to the application yet.
    Received,
}

/// One segment of the window.
#[derive(Clone)]
pub(crate) struct Slot {
    pub(crate) seq: u32,
    pub(crate) len: u16,
    pub(crate) state: SlotState,
    pub(crate) data: [u8; MAX_SEGMENT],
}

impl Slot {
    const EMPTY: Slot = Slot { seq: 0, len: 0, state: SlotState::Empty, data: [0; MAX_SEGMENT] };

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
}

/// A connection and its window of `W` segments (a power of two).
pub(crate) struct Connection<const W: usize> {
    pub(crate) phase: Phase,
    pub(crate) role: Role,
    pub(crate) messages: bool,
    pub(crate) handle: ConnId,
    pub(crate) conn_id: u32,
    pub(crate) peer: Name,
    pub(crate) peer_mac: Option<EthernetAddress>,
    /// Initiator: the opening header to send; acceptor: the one received.
    pub(crate) header: heapless::Vec<u8, HEADER_MAX>,
    pub(crate) notify: Notify,
    /// The verdict an acceptor sends in its FIN-ACK (or a RESET's status).
    pub(crate) status: u16,

    // The initiator's side.
    isn: u32,
    /// Oldest sequence number not acknowledged.
    pub(crate) una: u32,
    /// Next sequence number to send for the first time.
    nxt: u32,
    /// Next sequence number to write.
    pub(crate) end: u32,
    /// The application has written everything: FIN once it is acknowledged.
    pub(crate) finish: bool,
    /// Segments the receiver takes beyond `una`.
    peer_window: u32,
    /// Initiator: the longest DATA payload the receiver takes (its SYN-ACK's
    /// offer): above one segment, frames carry trains.
    peer_max_payload: u16,
    /// Messages below this were reported delivered (or undelivered).
    pub(crate) reported: u32,
    /// The application found the window full: tell it when there is room.
    pub(crate) wants_room: bool,
    /// Transmissions of data so far (the order of the next one).
    tx_order: u32,
    /// The latest transmission known to have arrived.
    delivered_order: Option<u32>,

    // The acceptor's side.
    /// Everything below it received (the cumulative acknowledgement).
    rcv_nxt: u32,
    /// Everything below it handed to the application.
    pub(crate) rcv_delivered: u32,
    /// One past the highest sequence number received.
    rcv_max: u32,
    /// The FIN's sequence number, once received.
    fin_seq: Option<u32>,
    /// The window last advertised.
    advertised: u32,
    /// The most this receiver may advertise: its share of the receive budget.
    pub(crate) window_cap: u32,

    // Both sides.
    rtt: RttEstimator,
    opened_at: Instant,
    last_heard: Instant,
    last_sent: Instant,
    /// When a SYN or FIN is sent again, or a keep-alive goes out.
    control_at: Instant,
    /// The latest timestamp received, echoed back.
    echo: u32,
    /// An acknowledgement should go out at the next poll.
    ack_due: bool,
    /// DATA frames received since the last acknowledgement.
    unacked_frames: u8,
    pub(crate) stats: ConnectionStats,
    pub(crate) ring: [Slot; W],
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnectionStats {
    /// Payload bytes acknowledged (initiator) or received in order (acceptor).
    pub bytes: u64,
    /// Segments sent for the first time.
    pub segments: u64,
    /// Segments sent again (after a timeout or fast retransmit).
    pub retransmits: u64,
    /// Segments received twice or more (acceptor).
    pub duplicates: u64,
}

/// The microsecond clock stamped on frames: the low 32 bits of `now`.
fn stamp(now: Instant) -> u32 {
    now.total_micros() as u32
}

/// Whether timestamp `a` is before `b` (both wrap every 71 minutes).
fn stamp_before(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

impl<const W: usize> Connection<W> {
    const WINDOW_IS_A_POWER_OF_TWO: () = assert!(W.is_power_of_two() && W <= 1 << 15, "WINDOW must be a power of two");

    pub(crate) const FREE: Self = {
        #[allow(clippy::let_unit_value)]
        let () = Self::WINDOW_IS_A_POWER_OF_TWO;
        Connection {
            phase: Phase::Free,
            role: Role::Initiator,
            messages: false,
            handle: ConnId(0),
            conn_id: 0,
            peer: Name::EMPTY,
            peer_mac: None,
            header: heapless::Vec::new(),
            notify: Notify { offered: false, connected: false, writable: false, finished: false, end: None },
            status: 0,
            isn: 0,
            una: 0,
            nxt: 0,
            end: 0,
            finish: false,
            peer_window: 0,
            peer_max_payload: MAX_SEGMENT as u16,
            reported: 0,
            wants_room: false,
            tx_order: 0,
            delivered_order: None,
            rcv_nxt: 0,
            rcv_delivered: 0,
            rcv_max: 0,
            fin_seq: None,
            advertised: 0,
            window_cap: u32::MAX,
            rtt: RttEstimator::new(),
            opened_at: Instant::ZERO,
            last_heard: Instant::ZERO,
            last_sent: Instant::ZERO,
            control_at: Instant::ZERO,
            echo: 0,
            ack_due: false,
            unacked_frames: 0,
            stats: ConnectionStats { bytes: 0, segments: 0, retransmits: 0, duplicates: 0 },
            ring: [Slot::EMPTY; W],
        }
    };

    fn index(seq: u32) -> usize {
        seq as usize & (W - 1)
    }

    /// Resets the slot for a new connection.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &mut self,
        role: Role,
        messages: bool,
        handle: ConnId,
        conn_id: u32,
        isn: u32,
        peer: Name,
        peer_mac: Option<EthernetAddress>,
        now: Instant,
    ) {
        // Only the fields that matter are reset: the ring's data is
        // overwritten as it is used.
        self.phase = if role == Role::Initiator { Phase::Resolving } else { Phase::Offered };
        self.role = role;
        self.messages = messages;
        self.handle = handle;
        self.conn_id = conn_id;
        self.peer = peer;
        self.peer_mac = peer_mac;
        self.header.clear();
        self.notify = Notify { offered: role == Role::Acceptor, ..Notify::default() };
        self.status = 0;
        (self.isn, self.una, self.nxt, self.end, self.reported) = (isn, isn, isn, isn, isn);
        (self.rcv_nxt, self.rcv_delivered, self.rcv_max) = (isn, isn, isn);
        self.finish = false;
        self.peer_window = 0;
        self.peer_max_payload = MAX_SEGMENT as u16;
        self.wants_room = false;
        (self.tx_order, self.delivered_order) = (0, None);
        self.fin_seq = None;
        self.advertised = W as u32;
        self.rtt = RttEstimator::new();
        (self.opened_at, self.last_heard, self.last_sent, self.control_at) = (now, now, now, now);
        self.echo = 0;
        self.ack_due = false;
        self.unacked_frames = 0;
        self.stats = ConnectionStats::default();
        for slot in &mut self.ring {
            slot.state = SlotState::Empty;
        }
    }

    /// Whether the connection is in use and matches a frame's addresses.
    pub(crate) fn matches(&self, mac: EthernetAddress, conn_id: u32, role: Role) -> bool {
        self.phase != Phase::Free && self.role == role && self.peer_mac == Some(mac) && self.conn_id == conn_id
    }

    /// Whether the connection has ended (events may remain).
    pub(crate) fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Ended { .. } | Phase::Resetting | Phase::Free)
    }

    /// Segments written and not yet acknowledged.
    pub(crate) fn unacknowledged(&self) -> u32 {
        distance(self.una, self.end)
    }

    /// Room for new segments in the window.
    pub(crate) fn room(&self) -> u32 {
        W as u32 - self.unacknowledged()
    }

    /// Ends the connection; the application hears `end`.
    pub(crate) fn end_with(&mut self, end: End, now: Instant, config: &TransferConfig) {
        if self.is_over() {
            return;
        }
        let until = if self.role == Role::Acceptor { now + config.linger } else { now };
        self.phase = Phase::Ended { until };
        self.notify.end = Some(end);
    }

    /// Queues a segment holding `data` (at most one segment long), or says
    /// the window is full.
    fn push_segment(&mut self, data: &[u8]) -> bool {
        if self.room() == 0 {
            self.wants_room = true;
            return false;
        }
        let seq = self.end;
        let slot = &mut self.ring[Self::index(seq)];
        slot.seq = seq;
        slot.len = data.len() as u16;
        slot.data[..data.len()].copy_from_slice(data);
        slot.state = SlotState::Queued;
        self.end = seq.wrapping_add(1);
        true
    }

    /// Queues one message (at most one segment long): all or nothing.
    pub(crate) fn write_message(&mut self, data: &[u8]) -> bool {
        self.push_segment(data)
    }

    /// Queues the next bytes of a stream in segments of at most
    /// `max_segment` bytes, topping up the last unsent segment first;
    /// returns how many fit.
    pub(crate) fn write_stream(&mut self, data: &[u8], max_segment: usize) -> usize {
        let mut taken = 0;
        if self.end != self.nxt {
            let last = &mut self.ring[Self::index(self.end.wrapping_sub(1))];
            if last.state == SlotState::Queued {
                let len = usize::from(last.len);
                taken = data.len().min(max_segment.saturating_sub(len));
                last.data[len..len + taken].copy_from_slice(&data[..taken]);
                last.len += taken as u16;
            }
        }
        while taken < data.len() {
            let len = (data.len() - taken).min(max_segment);
            if !self.push_segment(&data[taken..taken + len]) {
                break;
            }
            taken += len;
        }
        taken
    }

    /// A frame for this connection arrived.
    pub(crate) fn receive(
        &mut self,
        repr: &TransferRepr<'_>,
        now: Instant,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) {
        if matches!(self.phase, Phase::Ended { .. } | Phase::Resetting) {
            // A late FIN to a finished acceptor is answered again (its
            // FIN-ACK was lost); anything else is over.
            self.ack_due |= self.role == Role::Acceptor && repr.kind == Kind::Fin;
            return;
        }
        self.last_heard = now;
        self.echo = repr.timestamp;
        match (self.role, repr.kind) {
            (_, Kind::Reset) => {
                let status = status_of(repr.payload);
                let failure =
                    if self.phase == Phase::Connecting { Failure::Refused(status) } else { Failure::Reset(status) };
                self.end_with(End::Failed(failure), now, config);
            }
            (Role::Acceptor, Kind::Syn) => self.ack_due = true,
            (Role::Acceptor, Kind::Data) => self.take_data(repr, stats),
            (Role::Acceptor, Kind::Fin) => {
                self.fin_seq = Some(repr.seq);
                self.ack_due = true;
                self.check_finished();
            }
            (Role::Acceptor, Kind::Ping) => self.ack_due = true,
            (Role::Initiator, Kind::SynAck) if self.phase == Phase::Connecting => {
                self.take_rtt(repr.echo, now);
                self.peer_window = u32::from(repr.window);
                self.peer_max_payload = SynAckPayload::parse(repr.payload).max_payload;
                self.phase = Phase::Open;
                self.notify.connected = true;
            }
            (Role::Initiator, Kind::Ack) => self.take_ack(repr, now),
            (Role::Initiator, Kind::FinAck) if self.phase == Phase::Finishing => {
                self.take_rtt(repr.echo, now);
                self.end_with(End::Closed(status_of(repr.payload)), now, config);
            }
            _ => stats.rx_out_of_place += 1,
        }
    }

    fn take_rtt(&mut self, echo: u32, now: Instant) {
        if echo != 0 {
            let elapsed = stamp(now).wrapping_sub(echo);
            // An echo from the future or older than a minute is not ours.
            if elapsed < 60_000_000 {
                self.rtt.sample(Duration::from_micros(u64::from(elapsed)));
            }
        }
    }

    /// Acceptor: a DATA frame: one segment, or a train of consecutive
    /// segments ([`train_len`](crate::wire::transfer::train_len)).
    fn take_data(&mut self, repr: &TransferRepr<'_>, stats: &mut TransferStats) {
        self.ack_due = true;
        self.unacked_frames = self.unacked_frames.saturating_add(1);
        let mut seq = repr.seq;
        for segment in repr.payload.chunks(MAX_SEGMENT) {
            self.take_segment(seq, segment, stats);
            seq = seq.wrapping_add(1);
        }
        if repr.payload.is_empty() {
            self.take_segment(seq, &[], stats);
        }
        self.check_finished();
    }

    /// Acceptor: segment `seq`.
    fn take_segment(&mut self, seq: u32, payload: &[u8], stats: &mut TransferStats) {
        if before(seq, self.rcv_nxt)
            || distance(self.rcv_delivered, seq) >= W as u32
            || self.fin_seq.is_some_and(|fin| !before(seq, fin))
        {
            self.stats.duplicates += u64::from(before(seq, self.rcv_nxt));
            stats.rx_outside_window += u64::from(!before(seq, self.rcv_nxt));
            return;
        }
        let slot = &mut self.ring[Self::index(seq)];
        if slot.state == SlotState::Received {
            self.stats.duplicates += 1;
            return;
        }
        let len = payload.len().min(MAX_SEGMENT);
        slot.seq = seq;
        slot.len = len as u16;
        slot.data[..len].copy_from_slice(&payload[..len]);
        slot.state = SlotState::Received;
        if !before(seq, self.rcv_max) {
            self.rcv_max = seq.wrapping_add(1);
        }
        while distance(self.rcv_delivered, self.rcv_nxt) < W as u32 {
            let next = &self.ring[Self::index(self.rcv_nxt)];
            if next.state != SlotState::Received || next.seq != self.rcv_nxt {
                break;
            }
            self.stats.bytes += u64::from(next.len);
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
        }
    }

    /// Acceptor: everything up to the FIN is in.
    fn check_finished(&mut self) {
        if self.phase == Phase::Open && self.fin_seq == Some(self.rcv_nxt) {
            self.phase = Phase::Verdict;
            self.notify.finished = true;
        }
    }

    /// Initiator: an acknowledgement.
    fn take_ack(&mut self, repr: &TransferRepr<'_>, now: Instant) {
        self.take_rtt(repr.echo, now);
        let ack = repr.ack;
        // An acknowledgement of what was never sent is not believed.
        if before(self.nxt, ack) {
            return;
        }
        let mut freed = false;
        while before(self.una, ack) {
            let slot = &mut self.ring[Self::index(self.una)];
            self.stats.bytes += u64::from(slot.len);
            let state = core::mem::replace(&mut slot.state, SlotState::Empty);
            self.arrived(state, repr.echo);
            self.una = self.una.wrapping_add(1);
            freed = true;
        }
        self.peer_window = u32::from(repr.window);
        // Every segment the bitmap says arrived above the acknowledgement.
        for (byte, &bits) in repr.sack.iter().enumerate() {
            for bit in (0..8).filter(|bit| bits & (1 << bit) != 0) {
                let seq = ack.wrapping_add(1 + (byte * 8 + bit) as u32);
                if !before(seq, self.nxt) {
                    break;
                }
                let slot = &mut self.ring[Self::index(seq)];
                if let state @ SlotState::InFlight { .. } = slot.state {
                    slot.state = SlotState::Sacked;
                    self.arrived(state, repr.echo);
                }
            }
        }
        if freed && self.wants_room {
            self.wants_room = false;
            self.notify.writable = true;
        }
    }

    /// A segment in `state` is known to have arrived, by an acknowledgement
    /// echoing `echo` (the timestamp of the latest frame the receiver had):
    /// its transmission order may be the latest delivered.
    ///
    /// Not so for a segment sent again after the frame the echo names: what
    /// arrived was its first copy, sent long before (the Eifel detection of
    /// RFC 3522, by timestamps; RFC 8985 section 6.2 step 2 says the same by
    /// round trips). Taking the second copy's order would mark every segment
    /// sent between the two as lost: one spurious timeout would resend the
    /// whole window.
    fn arrived(&mut self, state: SlotState, echo: u32) {
        let SlotState::InFlight { order, sent_at, resent, .. } = state else { return };
        if resent && (echo == 0 || stamp_before(echo, stamp(sent_at))) {
            return;
        }
        if self.delivered_order.is_none_or(|latest| before(latest, order)) {
            self.delivered_order = Some(order);
        }
    }

    /// Whether the segment sent as transmission `order` is lost: a later
    /// one, far enough ahead, has arrived.
    fn overtaken(&self, order: u32) -> bool {
        self.delivered_order.is_some_and(|latest| distance(order, latest) >= REORDER_THRESHOLD && before(order, latest))
    }

    /// Sends what is due; returns when it next needs a poll (a time not
    /// after now: at once, because frames are left to send).
    pub(crate) fn poll<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<Option<Instant>, D::Error> {
        let now = station.now();
        let Some(mac) = self.peer_mac else { return Ok(None) };
        let live = !matches!(self.phase, Phase::Free | Phase::Resolving | Phase::Ended { .. } | Phase::Resetting);
        if live && now - self.last_heard >= config.dead_after {
            self.end_with(End::Failed(Failure::DeadPeer), now, config);
        }
        let dead_at = Some(self.last_heard + config.dead_after);
        let next = match self.phase {
            Phase::Free | Phase::Resolving => return Ok(None),
            Phase::Connecting => self.poll_control(station, mac, Kind::Syn, config, stats)?,
            Phase::Finishing => self.poll_control(station, mac, Kind::Fin, config, stats)?,
            Phase::Offered => {
                // Not refused while the application heard of it: accepted.
                self.phase = Phase::Open;
                self.ack_due = true;
                self.poll_acceptor(station, mac, config, stats)?
            }
            Phase::Verdict if !self.notify.finished => {
                // The application has heard `Finished`: its verdict goes out.
                if !self.send(station, mac, Kind::FinAck, &status_bytes(self.status), stats)? {
                    return Ok(Some(now));
                }
                self.end_with(End::Closed(self.status), now, config);
                return Ok(Some(now));
            }
            Phase::Open | Phase::Verdict if self.role == Role::Acceptor => {
                self.poll_acceptor(station, mac, config, stats)?
            }
            Phase::Verdict => None,
            Phase::Open => self.poll_initiator(station, mac, config, stats)?,
            Phase::Resetting => {
                // Best effort: a RESET the device has no room for is covered
                // by the peer's dead-peer timeout.
                self.send(station, mac, Kind::Reset, &status_bytes(self.status), stats)?;
                self.phase = Phase::Free;
                return Ok(None);
            }
            Phase::Ended { until } => {
                if self.ack_due {
                    // A late FIN: the verdict again.
                    self.ack_due = !self.send(station, mac, Kind::FinAck, &status_bytes(self.status), stats)?;
                }
                if now >= until && self.notify == Notify::default() && self.role == Role::Acceptor {
                    self.phase = Phase::Free;
                    return Ok(None);
                }
                return Ok(Some(until));
            }
        };
        Ok(time::earliest(next, dead_at))
    }

    /// Initiator: SYN or FIN, sent again each timeout until answered.
    fn poll_control<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        kind: Kind,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<Option<Instant>, D::Error> {
        let now = station.now();
        if now < self.control_at {
            return Ok(Some(self.control_at));
        }
        let sent = match kind {
            Kind::Syn => {
                let mut payload = [0u8; MAX_SEGMENT];
                let syn = SynPayload { name: station.name().as_bytes(), header: &self.header };
                let len = syn.buffer_len();
                syn.emit(&mut payload[..len]);
                self.send(station, mac, Kind::Syn, &payload[..len], stats)?
            }
            _ => self.send(station, mac, kind, &[], stats)?,
        };
        if !sent {
            return Ok(Some(now));
        }
        self.control_at = now + self.rtt.rto(config.initial_rto, config.min_rto, config.max_rto);
        self.rtt.back_off();
        Ok(Some(self.control_at))
    }

    /// Acceptor: acknowledges what arrived.
    fn poll_acceptor<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<Option<Instant>, D::Error> {
        if self.ack_due {
            // The SYN-ACK offers trains on a jumbo link.
            let offer = SynAckPayload::offer(config.max_payload);
            let (kind, payload) = if self.rcv_nxt == self.isn && self.rcv_max == self.isn {
                (Kind::SynAck, offer.as_ref().map_or(&[][..], |offer| &offer[..]))
            } else {
                (Kind::Ack, &[][..])
            };
            self.ack_due = !self.send(station, mac, kind, payload, stats)?;
            if !self.ack_due {
                self.unacked_frames = 0;
            }
        }
        Ok(self.ack_due.then_some(station.now()))
    }

    /// Acceptor: acknowledges at once when a burst has gone on long enough
    /// (the node's frame loop calls this after each frame).
    pub(crate) fn acknowledge_burst<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<(), D::Error> {
        match self.peer_mac {
            Some(mac) if self.phase == Phase::Open && self.unacked_frames >= ACK_EVERY => {
                self.poll_acceptor(station, mac, config, stats).map(drop)
            }
            _ => Ok(()),
        }
    }

    /// Initiator: retransmissions, new segments, FIN, keep-alive.
    fn poll_initiator<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Result<Option<Instant>, D::Error> {
        let now = station.now();
        let mut budget = SEND_BUDGET;
        let mut next = None;
        let rto = self.rtt.rto(config.initial_rto, config.min_rto, config.max_rto);
        // Retransmissions first, oldest first: every segment known lost,
        // and of those whose timeout expired only the oldest, as a probe:
        // its acknowledgement tells which of the others really were lost.
        let mut probed = false;
        let mut seq = self.una;
        while before(seq, self.nxt) {
            let index = Self::index(seq);
            if let SlotState::InFlight { deadline, rto: seg_rto, order, sent_at, resent } = self.ring[index].state {
                let resend = self.overtaken(order);
                if !resend && now >= deadline && probed {
                    // Another timeout: wait for the probe's answer.
                    self.ring[index].state =
                        SlotState::InFlight { deadline: now + seg_rto, rto: seg_rto, order, sent_at, resent };
                } else if resend || now >= deadline {
                    probed |= !resend;
                    if budget == 0 || !self.send_train(station, mac, seq, 1, stats)? {
                        return Ok(Some(now));
                    }
                    budget -= 1;
                    self.stats.retransmits += 1;
                    stats.retransmits += 1;
                    // A timeout backs this segment off by half; a fast
                    // retransmit keeps its timeout.
                    let grown = match resend {
                        true => seg_rto,
                        false => {
                            Duration::from_micros(seg_rto.total_micros().saturating_mul(3) / 2).min(config.max_rto)
                        }
                    };
                    let order = self.next_order();
                    self.ring[index].state =
                        SlotState::InFlight { deadline: now + grown, rto: grown, order, sent_at: now, resent: true };
                }
                if let SlotState::InFlight { deadline, .. } = self.ring[index].state {
                    next = time::earliest(next, Some(deadline));
                }
            }
            seq = seq.wrapping_add(1);
        }
        // New segments, within the receiver's window: one a frame, or
        // trains of full segments to a receiver that offered to take them.
        let limit = self.una.wrapping_add(self.peer_window.min(W as u32));
        let room = if self.messages { MAX_SEGMENT } else { config.max_payload.min(usize::from(self.peer_max_payload)) };
        while before(self.nxt, self.end) && before(self.nxt, limit) {
            let first = self.nxt;
            let count = self.train_at(first, limit, room);
            if budget == 0 || !self.send_train(station, mac, first, count, stats)? {
                return Ok(Some(now));
            }
            budget -= 1;
            for seq in (0..count).map(|i| first.wrapping_add(i)) {
                self.stats.segments += 1;
                let order = self.next_order();
                self.ring[Self::index(seq)].state =
                    SlotState::InFlight { deadline: now + rto, rto, order, sent_at: now, resent: false };
            }
            next = time::earliest(next, Some(now + rto));
            self.nxt = first.wrapping_add(count);
        }
        let idle = self.una == self.end;
        if idle && self.finish {
            self.phase = Phase::Finishing;
            self.control_at = now;
            return self.poll_control(station, mac, Kind::Fin, config, stats);
        }
        if idle
            && self.messages
            && now - self.last_sent >= config.idle_close
            && now - self.last_heard >= config.idle_close
        {
            self.finish = true;
            return Ok(Some(now));
        }
        // A keep-alive when the peer has been quiet, or a window probe when
        // data waits for room the receiver has not offered.
        let stalled = before(self.nxt, self.end);
        if idle || stalled {
            if now >= self.control_at {
                if stalled || now - self.last_heard >= config.keepalive {
                    if !self.send(station, mac, Kind::Ping, &[], stats)? {
                        return Ok(Some(now));
                    }
                    self.control_at = now + if stalled { rto } else { config.keepalive };
                } else {
                    self.control_at = self.last_heard + config.keepalive;
                }
            }
            next = time::earliest(next, Some(self.control_at));
            if idle && self.messages {
                next = time::earliest(next, Some(self.last_sent.max(self.last_heard) + config.idle_close));
            }
        }
        Ok(next)
    }

    fn next_order(&mut self) -> u32 {
        let order = self.tx_order;
        self.tx_order = self.tx_order.wrapping_add(1);
        order
    }

    /// How many segments from `first` one frame carries: consecutive
    /// segments below `limit` and the end, in at most `room` bytes, every
    /// one full ([`MAX_SEGMENT`]) but the last.
    fn train_at(&self, first: u32, limit: u32, room: usize) -> u32 {
        let mut count = 1;
        let mut bytes = usize::from(self.ring[Self::index(first)].len);
        loop {
            let last = &self.ring[Self::index(first.wrapping_add(count - 1))];
            let seq = first.wrapping_add(count);
            if usize::from(last.len) != MAX_SEGMENT || !before(seq, self.end) || !before(seq, limit) {
                return count;
            }
            let len = usize::from(self.ring[Self::index(seq)].len);
            if bytes + len > room.min(MAX_PAYLOAD) {
                return count;
            }
            bytes += len;
            count += 1;
        }
    }

    /// Sends `count` segments from `first`: one segment, or a train.
    fn send_train<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        first: u32,
        count: u32,
        stats: &mut TransferStats,
    ) -> Result<bool, D::Error> {
        let sent = if count == 1 {
            self.send_data(station, mac, first, self.ring[Self::index(first)].bytes(), stats)?
        } else {
            self.send_joined(station, mac, first, count, stats)?
        };
        if sent {
            self.last_sent = station.now();
        }
        Ok(sent)
    }

    /// Sends a train: its segments copied into one payload (a frame's worth
    /// of stack, used only on jumbo links).
    #[inline(never)]
    fn send_joined<D: LinkDevice>(
        &self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        first: u32,
        count: u32,
        stats: &mut TransferStats,
    ) -> Result<bool, D::Error> {
        let mut payload = [0u8; MAX_PAYLOAD];
        let mut len = 0;
        for seq in (0..count).map(|i| first.wrapping_add(i)) {
            let bytes = self.ring[Self::index(seq)].bytes();
            payload[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        }
        self.send_data(station, mac, first, &payload[..len], stats)
    }

    /// Sends a DATA frame: `payload` from segment `seq` on.
    fn send_data<D: LinkDevice>(
        &self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        seq: u32,
        payload: &[u8],
        stats: &mut TransferStats,
    ) -> Result<bool, D::Error> {
        let repr = TransferRepr {
            kind: Kind::Data,
            from_initiator: true,
            messages: self.messages,
            conn_id: self.conn_id,
            seq,
            ack: 0,
            window: 0,
            timestamp: stamp(station.now()),
            echo: self.echo,
            sack: &[],
            payload,
        };
        transmit(station, mac, &repr, stats)
    }

    /// Sends a frame without data: control, acknowledgement, status.
    fn send<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        mac: EthernetAddress,
        kind: Kind,
        payload: &[u8],
        stats: &mut TransferStats,
    ) -> Result<bool, D::Error> {
        let acceptor = self.role == Role::Acceptor;
        let room = (W as u32 - distance(self.rcv_delivered, self.rcv_max)).min(self.window_cap);
        let window = if acceptor { room } else { 0 };
        let mut bitmap = [0u8; MAX_SACK_BYTES];
        let sack_len = if acceptor { self.sack_bitmap(&mut bitmap) } else { 0 };
        let repr = TransferRepr {
            kind,
            from_initiator: !acceptor,
            messages: self.messages,
            conn_id: self.conn_id,
            seq: match kind {
                Kind::Syn => self.isn,
                _ if acceptor => 0,
                _ => self.end,
            },
            ack: if acceptor { self.rcv_nxt } else { 0 },
            window: window as u16,
            timestamp: stamp(station.now()),
            echo: self.echo,
            sack: &bitmap[..sack_len],
            payload,
        };
        if acceptor {
            self.advertised = window;
        }
        let sent = transmit(station, mac, &repr, stats)?;
        if sent {
            self.last_sent = station.now();
        }
        Ok(sent)
    }

    /// Writes the SACK bitmap of what arrived above the cumulative
    /// acknowledgement into `bitmap`; returns its length in bytes (whole
    /// words, none if nothing arrived out of order).
    fn sack_bitmap(&self, bitmap: &mut [u8; MAX_SACK_BYTES]) -> usize {
        let span = distance(self.rcv_nxt, self.rcv_max) as usize;
        if span <= 1 {
            return 0;
        }
        let bits = (span - 1).min(MAX_SACK_BYTES * 8);
        let len = bits.div_ceil(8).next_multiple_of(SACK_WORD);
        bitmap[..len].fill(0);
        for i in 0..bits {
            let seq = self.rcv_nxt.wrapping_add(1 + i as u32);
            let slot = &self.ring[Self::index(seq)];
            if slot.state == SlotState::Received && slot.seq == seq {
                bitmap[i / 8] |= 1 << (i % 8);
            }
        }
        len
    }

    /// Acceptor: the next in-order segment not yet handed to the
    /// application, which takes it (its slot is freed).
    pub(crate) fn take_delivery(&mut self) -> Option<&Slot> {
        if !before(self.rcv_delivered, self.rcv_nxt) {
            return None;
        }
        let index = Self::index(self.rcv_delivered);
        self.rcv_delivered = self.rcv_delivered.wrapping_add(1);
        self.ring[index].state = SlotState::Empty;
        if self.advertised == 0 {
            // The window reopens: say so.
            self.ack_due = true;
        }
        Some(&self.ring[index])
    }

    /// Whether in-order data waits for the application.
    pub(crate) fn has_delivery(&self) -> bool {
        before(self.rcv_delivered, self.rcv_nxt)
    }

    /// The first sequence number, to number messages from 0.
    pub(crate) fn isn(&self) -> u32 {
        self.isn
    }

    /// The measured round-trip time.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.rtt.srtt()
    }

    /// The initiator heard its peer's address: the SYN goes out at once.
    pub(crate) fn resolved(&mut self, mac: EthernetAddress, now: Instant) {
        self.peer_mac = Some(mac);
        self.phase = Phase::Connecting;
        (self.last_heard, self.control_at) = (now, now);
    }
}

/// Sends one transfer frame to `mac`; says whether the device took it.
pub(crate) fn transmit<D: LinkDevice>(
    station: &mut Station<'_, D>,
    mac: EthernetAddress,
    repr: &TransferRepr<'_>,
    stats: &mut TransferStats,
) -> Result<bool, D::Error> {
    let me = station.mac_address();
    match station.transmit(mac, EtherType::TRANSFER, repr.buffer_len(), |body| repr.emit(mac, me, body)) {
        Ok(()) => {
            stats.frames_sent += 1;
            Ok(true)
        }
        Err(nb::Error::WouldBlock) => Ok(false),
        Err(nb::Error::Other(TransmitError::Device(err))) => Err(err),
        // Segments and trains are sized to the device: a frame always fits.
        Err(nb::Error::Other(TransmitError::PayloadTooLong { .. })) => Ok(true),
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
