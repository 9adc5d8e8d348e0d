//! The receiving end of a connection: reassembly of segments (and trains)
//! in the window, the cumulative acknowledgement with a SACK bitmap of what
//! arrived above it, the advertised window, in-order delivery to the
//! application, and the verdict in the FIN-ACK.

use super::ring::{Ring, Slot, SlotState};
use super::{End, Fields, PeerLink, Phase, Polled, Shared, Taken, status_bytes};
use crate::device::LinkDevice;
use crate::transfer::seq::{before, distance};
use crate::transfer::{TransferConfig, TransferStats};
use crate::wire::transfer::{Kind, MAX_SACK_BYTES, MAX_SEGMENT, SACK_WORD, SynAckPayload, TransferRepr};

/// A receiver acknowledges at least every this many DATA frames (a frame
/// is a segment, or a train of them on a jumbo link), besides once per
/// poll, so a lost acknowledgement costs little.
const ACK_EVERY: u8 = 8;

/// What the receiving end keeps.
pub(super) struct Receiver {
    /// The first sequence number: nothing has arrived while `rcv_max` is it.
    isn: u32,
    /// Everything below it received (the cumulative acknowledgement).
    rcv_nxt: u32,
    /// Everything below it handed to the application.
    rcv_delivered: u32,
    /// One past the highest sequence number received.
    rcv_max: u32,
    /// The FIN's sequence number, once received.
    fin_seq: Option<u32>,
    /// The window last advertised.
    advertised: u32,
    /// The most this receiver may advertise: its share of the receive budget.
    pub(super) window_cap: u32,
    /// DATA frames received since the last acknowledgement.
    unacked_frames: u8,
}

impl Receiver {
    /// A receiver whose first segment is `isn`, with a window of `window`.
    pub(super) fn new(isn: u32, window: u32) -> Receiver {
        Receiver {
            isn,
            rcv_nxt: isn,
            rcv_delivered: isn,
            rcv_max: isn,
            fin_seq: None,
            advertised: window,
            window_cap: u32::MAX,
            unacked_frames: 0,
        }
    }

    /// A frame from the sending end.
    pub(super) fn receive<const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        repr: &TransferRepr<'_>,
        stats: &mut TransferStats,
    ) -> Taken {
        match repr.kind {
            Kind::Syn | Kind::Ping => shared.ack_due = true,
            Kind::Data => self.take_data(shared, ring, repr, stats),
            Kind::Fin => {
                self.fin_seq = Some(repr.seq);
                shared.ack_due = true;
                self.check_finished(shared);
            }
            _ => return Taken::OutOfPlace,
        }
        Taken::Used
    }

    /// A DATA frame: one segment, or a train of consecutive segments
    /// ([`train_len`](crate::wire::transfer::train_len)).
    fn take_data<const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        repr: &TransferRepr<'_>,
        stats: &mut TransferStats,
    ) {
        shared.ack_due = true;
        self.unacked_frames = self.unacked_frames.saturating_add(1);
        let mut seq = repr.seq;
        for segment in repr.payload.chunks(MAX_SEGMENT) {
            self.take_segment(shared, ring, seq, segment, stats);
            seq = seq.wrapping_add(1);
        }
        if repr.payload.is_empty() {
            self.take_segment(shared, ring, seq, &[], stats);
        }
        self.check_finished(shared);
    }

    /// Segment `seq`.
    fn take_segment<const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &mut Ring<W>,
        seq: u32,
        payload: &[u8],
        stats: &mut TransferStats,
    ) {
        if before(seq, self.rcv_nxt)
            || distance(self.rcv_delivered, seq) >= Ring::<W>::LEN
            || self.fin_seq.is_some_and(|fin| !before(seq, fin))
        {
            shared.stats.duplicates += u64::from(before(seq, self.rcv_nxt));
            stats.rx_outside_window += u64::from(!before(seq, self.rcv_nxt));
            return;
        }
        let slot = ring.at_mut(seq);
        if slot.state == SlotState::Received {
            shared.stats.duplicates += 1;
            return;
        }
        slot.fill(seq, &payload[..payload.len().min(MAX_SEGMENT)], SlotState::Received);
        if !before(seq, self.rcv_max) {
            self.rcv_max = seq.wrapping_add(1);
        }
        while distance(self.rcv_delivered, self.rcv_nxt) < Ring::<W>::LEN {
            let next = ring.at(self.rcv_nxt);
            if next.state != SlotState::Received || next.seq != self.rcv_nxt {
                break;
            }
            shared.stats.bytes += u64::from(next.len);
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
        }
    }

    /// Everything up to the FIN is in: the application hears `Finished`.
    fn check_finished(&mut self, shared: &mut Shared) {
        if shared.phase == Phase::Open && self.fin_seq == Some(self.rcv_nxt) {
            shared.phase = Phase::Verdict;
            shared.notify.finished = true;
        }
    }

    /// Sends what is due in the connection's phase.
    pub(super) fn poll<D: LinkDevice, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        config: &TransferConfig,
    ) -> Result<Polled, D::Error> {
        let now = link.now();
        Ok(match shared.phase {
            Phase::Offered => {
                // Not refused while the application heard of it: accepted.
                shared.phase = Phase::Open;
                shared.ack_due = true;
                Polled::Next(self.poll_acks(shared, ring, link, config)?)
            }
            Phase::Verdict if !shared.notify.finished => {
                // The application has heard `Finished`: its verdict goes out.
                let status = status_bytes(shared.status);
                if !self.send(shared, ring, link, Kind::FinAck, &status)? {
                    return Ok(Polled::Next(Some(now)));
                }
                Polled::Ended(End::Closed(shared.status))
            }
            Phase::Open | Phase::Verdict => Polled::Next(self.poll_acks(shared, ring, link, config)?),
            _ => Polled::Next(None),
        })
    }

    /// Acknowledges what arrived.
    fn poll_acks<D: LinkDevice, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        config: &TransferConfig,
    ) -> Result<Option<crate::time::Instant>, D::Error> {
        if shared.ack_due {
            // The SYN-ACK offers trains on a jumbo link.
            let offer = SynAckPayload::offer(config.max_payload);
            let (kind, payload) = if self.rcv_nxt == self.isn && self.rcv_max == self.isn {
                (Kind::SynAck, offer.as_ref().map_or(&[][..], |offer| &offer[..]))
            } else {
                (Kind::Ack, &[][..])
            };
            shared.ack_due = !self.send(shared, ring, link, kind, payload)?;
            if !shared.ack_due {
                self.unacked_frames = 0;
            }
        }
        Ok(shared.ack_due.then_some(link.now()))
    }

    /// Acknowledges at once when a burst has gone on long enough.
    pub(super) fn acknowledge_burst<D: LinkDevice, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        config: &TransferConfig,
    ) -> Result<(), D::Error> {
        if self.unacked_frames >= ACK_EVERY {
            self.poll_acks(shared, ring, link, config)?;
        }
        Ok(())
    }

    /// Sends a frame without data: SYN-ACK, ACK, FIN-ACK, RESET, with the
    /// cumulative acknowledgement, the window and the SACK bitmap.
    pub(super) fn send<D: LinkDevice, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &Ring<W>,
        link: &mut PeerLink<'_, '_, D>,
        kind: Kind,
        payload: &[u8],
    ) -> Result<bool, D::Error> {
        let window = (Ring::<W>::LEN - distance(self.rcv_delivered, self.rcv_max)).min(self.window_cap);
        let mut bitmap = [0u8; MAX_SACK_BYTES];
        let sack_len = self.sack_bitmap(ring, &mut bitmap);
        self.advertised = window;
        let fields = Fields { seq: 0, ack: self.rcv_nxt, window: window as u16, sack: &bitmap[..sack_len] };
        shared.send(link, kind, false, fields, payload)
    }

    /// Writes the SACK bitmap of what arrived above the cumulative
    /// acknowledgement into `bitmap`; returns its length in bytes (whole
    /// words, none if nothing arrived out of order).
    fn sack_bitmap<const W: usize>(&self, ring: &Ring<W>, bitmap: &mut [u8; MAX_SACK_BYTES]) -> usize {
        let span = distance(self.rcv_nxt, self.rcv_max) as usize;
        if span <= 1 {
            return 0;
        }
        let bits = (span - 1).min(MAX_SACK_BYTES * 8);
        let len = bits.div_ceil(8).next_multiple_of(SACK_WORD);
        bitmap[..len].fill(0);
        for i in 0..bits {
            let seq = self.rcv_nxt.wrapping_add(1 + i as u32);
            let slot = ring.at(seq);
            if slot.state == SlotState::Received && slot.seq == seq {
                bitmap[i / 8] |= 1 << (i % 8);
            }
        }
        len
    }

    /// Whether in-order data waits for the application.
    pub(super) fn has_delivery(&self) -> bool {
        before(self.rcv_delivered, self.rcv_nxt)
    }

    /// The next in-order segment not yet handed to the application, which
    /// takes it (its slot is freed). A closed window reopens: an
    /// acknowledgement says so.
    pub(super) fn take_delivery<'r, const W: usize>(
        &mut self,
        shared: &mut Shared,
        ring: &'r mut Ring<W>,
    ) -> Option<&'r Slot> {
        if !self.has_delivery() {
            return None;
        }
        let seq = self.rcv_delivered;
        self.rcv_delivered = seq.wrapping_add(1);
        ring.at_mut(seq).state = SlotState::Empty;
        if self.advertised == 0 {
            shared.ack_due = true;
        }
        Some(ring.at(seq))
    }
}
