//! The sending end of a connection: the window of segments written and in
//! flight, acknowledgements and SACK, retransmission (timeouts, and fast
//! retransmit by transmission order, as RACK does), trains on jumbo links,
//! FIN, keep-alives and window probes.

use super::ring::{Resent, Ring, SlotState};
use super::{End, Fields, PeerLink, Phase, Polled, Shared, Taken, stamp, stamp_before, status_of, syn_payload};
use crate::device::LinkDevice;
use crate::time::{self, Duration, Instant};
use crate::transfer::congestion::Congestion;
use crate::transfer::seq::{before, distance};
use crate::transfer::{TransferConfig, TransferStats};
use crate::wire::transfer::{Kind, MAX_PAYLOAD, MAX_SEGMENT, SynAckPayload, TransferRepr};

/// Frames one connection sends per poll at most, so one busy connection
/// cannot starve the others and the node's other work.
const SEND_BUDGET: usize = 64;

/// How far behind its pace a sender may fall and catch up in one burst: a
/// host's timers wake it up to about a millisecond late.
const PACING_SLACK: Duration = Duration::from_millis(1);

/// A segment is taken for lost, and sent again without waiting for its
/// timeout (fast retransmit), once a segment sent this many transmissions
/// after it has been acknowledged, at first: like TCP's three duplicate
/// acknowledgements, but by transmission order (as RACK does), so a
/// segment just sent again is not sent a third time on the same evidence.
const INITIAL_REORDERING: u8 = 3;

/// How far the sender's reordering threshold grows. Each fast retransmit
/// that proves spurious (the first copy arrived after all, only late)
/// doubles it, as Linux learns a path's reordering from DSACK and RACK
/// (RFC 8985, section 6.2) widens its reordering window; a deeper threshold
/// leaves more losses to timeouts when few segments are in flight.
const MAX_REORDERING: u8 = 48;

/// What the sending end keeps.
pub(super) struct Sender {
    /// Oldest sequence number not acknowledged.
    una: u32,
    /// Next sequence number to send for the first time.
    nxt: u32,
    /// Next sequence number to write.
    end: u32,
    /// The application has written everything: FIN once it is acknowledged.
    finish: bool,
    /// Segments the receiver takes beyond `una`.
    peer_window: u32,
    /// The longest DATA payload the receiver takes (its SYN-ACK's offer):
    /// above one segment, frames carry trains.
    peer_max_payload: u16,
    /// Messages below this were reported delivered (or undelivered).
    reported: u32,
    /// The application found the window full: tell it when there is room.
    wants_room: bool,
    /// Transmissions of data so far (the order of the next one).
    tx_order: u32,
    /// The latest transmission known to have arrived.
    delivered_order: Option<u32>,
    /// How many later transmissions must arrive before a segment is taken
    /// for lost: how far this path has been seen to reorder.
    reordering: u8,
    /// The transmission from which on segments were sent again under the
    /// current `reordering`: only those raise it (one episode of reordering
    /// proves several fast retransmits spurious, and raises it once).
    reordering_since: u32,
    /// How many segments the path takes in flight.
    congestion: Congestion,
    /// Segments sent and not known to have arrived: what the congestion
    /// window limits (segments acknowledged selectively above a hole do
    /// not count, so one loss does not stall the window).
    in_flight: u32,
    /// The echo the congestion window last took a round trip from: the
    /// acknowledgements of one burst echo the same frame, and count once.
    sampled_echo: u32,
    /// New segments go out no earlier than this (pacing).
    pace_at: Instant,
    /// When an acknowledgement last told of a segment that arrived. Not
    /// the connection's `last_heard`: a peer that answers keep-alives and
    /// window probes while a segment is lost is heard, and would hold that
    /// segment's timeout off for good.
    progress_at: Instant,
}

impl Sender {
    /// A sender whose first segment is `isn`.
    pub(super) const fn new(isn: u32) -> Sender {
        Sender {
            una: isn,
            nxt: isn,
            end: isn,
            finish: false,
            peer_window: 0,
            peer_max_payload: MAX_SEGMENT as u16,
            reported: isn,
            wants_room: false,
            tx_order: 0,
            delivered_order: None,
            reordering: INITIAL_REORDERING,
            reordering_since: 0,
            congestion: Congestion::new(),
            in_flight: 0,
            sampled_echo: 0,
            pace_at: Instant::ZERO,
            progress_at: Instant::ZERO,
        }
    }

    /// Segments written and not yet acknowledged.
    pub(super) fn unacknowledged(&self) -> u32 {
        distance(self.una, self.end)
    }

    /// The sequence number of the next segment written.
    pub(super) fn written(&self) -> u32 {
        self.end
    }

    /// Whether the application has finished writing.
    pub(super) fn finishing(&self) -> bool {
        self.finish
    }

    /// The application has written everything.
    pub(super) fn finish(&mut self) {
        self.finish = true;
    }

    /// Whether a message was acknowledged that the application has not
    /// heard of.
    pub(super) fn has_delivered(&self) -> bool {
        before(self.reported, self.una)
    }

    /// Whether messages were written that the application has not heard
    /// the fate of.
    pub(super) fn has_unreported(&self) -> bool {
        before(self.reported, self.end)
    }

    /// The sequence number of the next message to report; it is reported.
    pub(super) fn take_report(&mut self) -> u32 {
        let reported = self.reported;
        self.reported = reported.wrapping_add(1);
        reported
    }

    /// Queues a segment holding `data` (at most one segment long), or says
    /// the window is full.
    pub(super) fn push_segment<const W: usize>(&mut self, ring: &mut Ring<W>, data: &[u8]) -> bool {
        if self.unacknowledged() == Ring::<W>::LEN {
            self.wants_room = true;
            return false;
        }
        ring.at_mut(self.end).fill(self.end, data, SlotState::Queued);
        self.end = self.end.wrapping_add(1);
        true
    }

    /// Queues the next bytes of a stream in segments of at most
    /// `max_segment` bytes, topping up the last unsent segment first;
    /// returns how many fit.
    pub(super) fn write_stream<const W: usize>(
        &mut self,
        ring: &mut Ring<W>,
        data: &[u8],
        max_segment: usize,
    ) -> usize {
        let mut taken = 0;
        if self.end != self.nxt {
            let last = ring.at_mut(self.end.wrapping_sub(1));
            if last.state == SlotState::Queued {
                taken = last.top_up(data, max_segment);
            }
        }
        while taken < data.len() {
            let len = (data.len() - taken).min(max_segment);
            if !self.push_segment(ring, &data[taken..taken + len]) {
                break;
            }
            taken += len;
        }
        taken
    }

    /// A frame from the receiving end.
    pub(super) fn receive<const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        repr: &TransferRepr<'_>,
        now: Instant,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) -> Taken {
        match repr.kind {
            Kind::SynAck if shared.phase == Phase::Connecting => {
                shared.take_rtt(repr.echo, now);
                self.peer_window = u32::from(repr.window);
                self.peer_max_payload = SynAckPayload::parse(repr.payload).max_payload;
                shared.phase = Phase::Open;
                shared.notify.connected = true;
                Taken::Used
            }
            Kind::Ack => {
                self.take_ack(shared, ring, repr, now, config, stats);
                Taken::Used
            }
            Kind::FinAck if shared.phase == Phase::Finishing => {
                shared.take_rtt(repr.echo, now);
                Taken::Ended(End::Closed(status_of(repr.payload)))
            }
            _ => Taken::OutOfPlace,
        }
    }

    /// An acknowledgement.
    fn take_ack<const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        repr: &TransferRepr<'_>,
        now: Instant,
        config: &TransferConfig,
        stats: &mut TransferStats,
    ) {
        let rtt = shared.take_rtt(repr.echo, now);
        let ack = repr.ack;
        // An acknowledgement of what was never sent is not believed.
        if before(self.nxt, ack) {
            return;
        }
        let mut freed = false;
        let (mut delivered, mut spurious) = (0, 0);
        while before(self.una, ack) {
            let slot = ring.at_mut(self.una);
            shared.stats.bytes += u64::from(slot.len);
            let state = core::mem::replace(&mut slot.state, SlotState::Empty);
            delivered += u32::from(self.arrived(state, repr.echo, &mut spurious));
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
                let slot = ring.at_mut(seq);
                if let state @ SlotState::InFlight { .. } = slot.state {
                    slot.state = SlotState::Sacked;
                    delivered += u32::from(self.arrived(state, repr.echo, &mut spurious));
                }
            }
        }
        self.in_flight = self.in_flight.saturating_sub(delivered);
        if delivered > 0 {
            self.progress_at = now;
        }
        shared.stats.spurious += u64::from(spurious);
        stats.spurious += u64::from(spurious);
        // One sample per echoed frame, however many acknowledgements echo it.
        let rtt = match rtt {
            Some(rtt) if repr.echo != self.sampled_echo => {
                self.sampled_echo = repr.echo;
                Some(rtt)
            }
            _ => None,
        };
        let srtt = shared.round_trip(config);
        self.congestion.on_ack(now, rtt, delivered, srtt, config.queue_target, self.usable_window::<W>());
        if freed && self.wants_room {
            self.wants_room = false;
            shared.notify.writable = true;
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
    ///
    /// Says whether the segment was in flight (not known to have arrived
    /// before); counts it in `spurious` if it was sent again for nothing.
    fn arrived(&mut self, state: SlotState, echo: u32, spurious: &mut u32) -> bool {
        let SlotState::InFlight { order, sent_at, resent, .. } = state else { return false };
        if resent != Resent::No && (echo == 0 || stamp_before(echo, stamp(sent_at))) {
            // An echo from before the second copy proves the first arrived:
            // the segment was not lost (an echo of 0 proves nothing).
            if echo != 0 {
                *spurious += 1;
                self.congestion.on_spurious(sent_at);
                if resent == Resent::Overtaken && !before(order, self.reordering_since) {
                    // Taken for lost once as many later transmissions had
                    // arrived as the threshold says, it arrived after
                    // them: the path reorders deeper than that.
                    self.reordering = self.reordering.saturating_mul(2).min(MAX_REORDERING);
                    self.reordering_since = self.tx_order;
                }
            }
            return true;
        }
        if self.delivered_order.is_none_or(|latest| before(latest, order)) {
            self.delivered_order = Some(order);
        }
        true
    }

    /// Segments the window may reach beyond `una`: the receiver's window,
    /// within the ring.
    fn usable_window<const W: usize>(&self) -> u32 {
        self.peer_window.min(Ring::<W>::LEN)
    }

    /// Whether the segment sent as transmission `order` is lost: a later
    /// one, far enough ahead, has arrived.
    fn overtaken(&self, order: u32) -> bool {
        self.delivered_order
            .is_some_and(|latest| distance(order, latest) >= u32::from(self.reordering) && before(order, latest))
    }

    /// When the timeout of the segment sent as transmission `order`, due at
    /// `deadline`, expires, if acknowledgements stop telling of arrivals at
    /// `stalled_at`.
    ///
    /// At its deadline if a segment sent after it has arrived: it may be
    /// lost. Otherwise it may only be waiting in a queue that grew since it
    /// was sent, and while acknowledgements tell of arrivals the path
    /// delivers: its timeout waits until they have stopped for a timeout
    /// too (as TCP restarts its timer on each acknowledgement of new data,
    /// RFC 6298 section 5.3). In slow start behind a slow link, round trips
    /// grow faster than the timeout follows: behind a 100 Mbit/s bottleneck
    /// each segment's own timeout alone expired 152 times in a transfer's
    /// first 30 ms, 134 of them proved needless.
    fn expiry(&self, order: u32, deadline: Instant, stalled_at: Instant) -> Instant {
        match self.delivered_order.is_some_and(|latest| before(order, latest)) {
            true => deadline,
            false => deadline.max(stalled_at),
        }
    }

    /// Sends what is due in the connection's phase.
    pub(super) fn poll<D: LinkDevice, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        config: &TransferConfig,
    ) -> Result<Polled, D::Error> {
        let next = match shared.phase {
            Phase::Connecting => self.poll_control(shared, link, Kind::Syn, config)?,
            Phase::Finishing => self.poll_control(shared, link, Kind::Fin, config)?,
            Phase::Open => self.poll_open(shared, ring, link, config)?,
            _ => None,
        };
        Ok(Polled::Next(next))
    }

    /// SYN or FIN, sent again each timeout until answered.
    fn poll_control<D: LinkDevice>(
        &mut self,
        shared: &mut Shared,
        link: &mut PeerLink<'_, '_, D>,
        kind: Kind,
        config: &TransferConfig,
    ) -> Result<Option<Instant>, D::Error> {
        let now = link.now();
        if now < shared.control_at {
            return Ok(Some(shared.control_at));
        }
        let sent = match kind {
            Kind::Syn => {
                let mut buffer = [0u8; MAX_SEGMENT];
                let payload = syn_payload(link.name(), &shared.header, &mut buffer);
                self.send(shared, link, Kind::Syn, payload)?
            }
            _ => self.send(shared, link, kind, &[])?,
        };
        if !sent {
            return Ok(Some(now));
        }
        shared.control_at = now + shared.rtt.rto(config.initial_rto, config.min_rto, config.max_rto);
        shared.rtt.back_off();
        Ok(Some(shared.control_at))
    }

    /// Retransmissions, new segments, FIN, keep-alive.
    fn poll_open<D: LinkDevice, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        config: &TransferConfig,
    ) -> Result<Option<Instant>, D::Error> {
        let now = link.now();
        let mut budget = SEND_BUDGET;
        let mut next = None;
        let rto = shared.rtt.rto(config.initial_rto, config.min_rto, config.max_rto);
        // Acknowledgements have stopped telling of arrivals then, unless
        // more come (`expiry`).
        let stalled_at = self.progress_at + rto;
        // Retransmissions first, oldest first: every segment known lost,
        // and of those whose timeout expired only the oldest, as a probe:
        // its acknowledgement tells which of the others really were lost.
        let mut probed = false;
        let mut seq = self.una;
        while before(seq, self.nxt) {
            if let SlotState::InFlight { deadline, rto: seg_rto, order, sent_at, resent } = ring.at(seq).state {
                let resend = self.overtaken(order);
                let expired = now >= self.expiry(order, deadline, stalled_at);
                if !resend && expired && probed {
                    // Another timeout: wait for the probe's answer.
                    ring.at_mut(seq).state =
                        SlotState::InFlight { deadline: now + seg_rto, rto: seg_rto, order, sent_at, resent };
                } else if resend || expired {
                    probed |= !resend;
                    if budget == 0 || !self.send_train(shared, ring, link, seq, 1)? {
                        return Ok(Some(now));
                    }
                    budget -= 1;
                    self.congestion.on_loss(now, sent_at);
                    shared.stats.retransmits += 1;
                    link.stats().retransmits += 1;
                    if !resend {
                        shared.stats.timeouts += 1;
                        link.stats().timeouts += 1;
                    }
                    // A timeout backs this segment off by half; a fast
                    // retransmit keeps its timeout.
                    let grown = match resend {
                        true => seg_rto,
                        false => {
                            Duration::from_micros(seg_rto.total_micros().saturating_mul(3) / 2).min(config.max_rto)
                        }
                    };
                    let order = self.next_order();
                    let resent = if resend { Resent::Overtaken } else { Resent::TimedOut };
                    ring.at_mut(seq).state =
                        SlotState::InFlight { deadline: now + grown, rto: grown, order, sent_at: now, resent };
                }
                if let SlotState::InFlight { deadline, order, .. } = ring.at(seq).state {
                    next = time::earliest(next, Some(self.expiry(order, deadline, stalled_at)));
                }
            }
            seq = seq.wrapping_add(1);
        }
        // New segments, within the receiver's window: one a frame, or
        // trains of full segments to a receiver that offered to take them.
        let limit = self.una.wrapping_add(self.usable_window::<W>());
        let room =
            if shared.messages { MAX_SEGMENT } else { config.max_payload.min(usize::from(self.peer_max_payload)) };
        let srtt = shared.round_trip(config);
        while before(self.nxt, self.end) && before(self.nxt, limit) && self.in_flight < self.congestion.window() {
            if now < self.pace_at {
                next = time::earliest(next, Some(self.pace_at));
                break;
            }
            let first = self.nxt;
            let count = self.train_at(ring, first, limit, room);
            if budget == 0 || !self.send_train(shared, ring, link, first, count)? {
                return Ok(Some(now));
            }
            budget -= 1;
            for seq in (0..count).map(|i| first.wrapping_add(i)) {
                shared.stats.segments += 1;
                let order = self.next_order();
                ring.at_mut(seq).state =
                    SlotState::InFlight { deadline: now + rto, rto, order, sent_at: now, resent: Resent::No };
            }
            next = time::earliest(next, Some(now + rto));
            self.nxt = first.wrapping_add(count);
            self.in_flight += count;
            // A node woken late by a coarse timer catches up, but by no
            // more than PACING_SLACK's worth at once.
            let earliest = Instant::from_micros(now.total_micros().saturating_sub(PACING_SLACK.total_micros()));
            self.pace_at = self.pace_at.max(earliest) + self.congestion.pacing_interval(srtt, count);
        }
        let idle = self.una == self.end;
        if idle && self.finish {
            shared.phase = Phase::Finishing;
            shared.control_at = now;
            return self.poll_control(shared, link, Kind::Fin, config);
        }
        if idle
            && shared.messages
            && now - shared.last_sent >= config.idle_close
            && now - shared.last_heard >= config.idle_close
        {
            self.finish = true;
            return Ok(Some(now));
        }
        // A keep-alive when the peer has been quiet, or a window probe when
        // data waits for room the receiver has not offered.
        let stalled = before(self.nxt, self.end);
        if idle || stalled {
            if now >= shared.control_at {
                if stalled || now - shared.last_heard >= config.keepalive {
                    if !self.send(shared, link, Kind::Ping, &[])? {
                        return Ok(Some(now));
                    }
                    shared.control_at = now + if stalled { rto } else { config.keepalive };
                } else {
                    shared.control_at = shared.last_heard + config.keepalive;
                }
            }
            next = time::earliest(next, Some(shared.control_at));
            if idle && shared.messages {
                next = time::earliest(next, Some(shared.last_sent.max(shared.last_heard) + config.idle_close));
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
    fn train_at<const W: usize>(&self, ring: &Ring<W>, first: u32, limit: u32, room: usize) -> u32 {
        let mut count = 1;
        let mut bytes = usize::from(ring.at(first).len);
        loop {
            let last = ring.at(first.wrapping_add(count - 1));
            let seq = first.wrapping_add(count);
            if usize::from(last.len) != MAX_SEGMENT || !before(seq, self.end) || !before(seq, limit) {
                return count;
            }
            let len = usize::from(ring.at(seq).len);
            if bytes + len > room.min(MAX_PAYLOAD) {
                return count;
            }
            bytes += len;
            count += 1;
        }
    }

    /// Sends `count` segments from `first`: one segment, or a train.
    fn send_train<D: LinkDevice, const W: usize>(
        &self,
        shared: &mut Shared,
        ring: &Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        first: u32,
        count: u32,
    ) -> Result<bool, D::Error> {
        let sent = if count == 1 {
            send_data(shared, link, first, ring.at(first).bytes())?
        } else {
            send_joined(shared, ring, link, first, count)?
        };
        if sent {
            shared.last_sent = link.now();
        }
        Ok(sent)
    }

    /// Sends a frame without data: SYN, FIN, keep-alive, RESET.
    pub(super) fn send<D: LinkDevice>(
        &self,
        shared: &mut Shared,
        link: &mut PeerLink<'_, '_, D>,
        kind: Kind,
        payload: &[u8],
    ) -> Result<bool, D::Error> {
        let seq = if kind == Kind::Syn { shared.isn } else { self.end };
        shared.send(link, kind, true, Fields { seq, ack: 0, window: 0, sack: &[] }, payload)
    }
}

/// Sends a train: its segments copied into one payload (a frame's worth of
/// stack, used only on jumbo links).
#[inline(never)]
fn send_joined<D: LinkDevice, const W: usize>(
    shared: &Shared,
    ring: &Ring<W>,
    link: &mut PeerLink<'_, '_, D>,
    first: u32,
    count: u32,
) -> Result<bool, D::Error> {
    let mut payload = [0u8; MAX_PAYLOAD];
    let mut len = 0;
    for seq in (0..count).map(|i| first.wrapping_add(i)) {
        let bytes = ring.at(seq).bytes();
        payload[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    }
    send_data(shared, link, first, &payload[..len])
}

/// Sends a DATA frame: `payload` from segment `seq` on.
fn send_data<D: LinkDevice>(
    shared: &Shared,
    link: &mut PeerLink<'_, '_, D>,
    seq: u32,
    payload: &[u8],
) -> Result<bool, D::Error> {
    let repr = TransferRepr {
        kind: Kind::Data,
        from_initiator: true,
        messages: shared.messages,
        conn_id: shared.conn_id,
        seq,
        ack: 0,
        window: 0,
        timestamp: stamp(link.now()),
        echo: shared.echo,
        sack: &[],
        payload,
    };
    link.transmit(&repr)
}
