//! The window of a connection: `W` segments (a power of two) indexed by
//! sequence number, the retransmission buffer of a sender and the reorder
//! buffer of a receiver.

use crate::time::{Duration, Instant};
use crate::wire::transfer::MAX_SEGMENT;

/// Where a segment of the window stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlotState {
    Empty,
    /// Sender: written, not sent yet.
    Queued,
    /// Sender: sent (the `order`-th transmission of the connection) at
    /// `sent_at`, waiting for its acknowledgement.
    InFlight {
        deadline: Instant,
        rto: Duration,
        order: u32,
        sent_at: Instant,
        /// Whether, and why, it was sent more than once: an acknowledgement
        /// may be an earlier copy's.
        resent: Resent,
    },
    /// Sender: acknowledged by a SACK block, ahead of the cumulative
    /// acknowledgement.
    Sacked,
    /// Receiver: received, not handed to the application yet.
    Received,
}

/// Why a segment in flight was sent again, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resent {
    /// Sent once.
    No,
    /// A segment sent after it arrived first (fast retransmit).
    Overtaken,
    /// Its timeout expired.
    TimedOut,
}

/// One segment of the window.
#[derive(Clone)]
pub(crate) struct Slot {
    pub(super) seq: u32,
    pub(super) len: u16,
    pub(super) state: SlotState,
    data: [u8; MAX_SEGMENT],
}

impl Slot {
    const EMPTY: Slot = Slot { seq: 0, len: 0, state: SlotState::Empty, data: [0; MAX_SEGMENT] };

    /// Its sequence number.
    pub(crate) fn seq(&self) -> u32 {
        self.seq
    }

    /// Its bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }

    /// Holds `data` (at most a segment) as segment `seq`, in `state`.
    pub(super) fn fill(&mut self, seq: u32, data: &[u8], state: SlotState) {
        self.seq = seq;
        self.len = data.len() as u16;
        self.data[..data.len()].copy_from_slice(data);
        self.state = state;
    }

    /// Appends the first bytes of `data` up to `max_segment` in all; says
    /// how many.
    pub(super) fn top_up(&mut self, data: &[u8], max_segment: usize) -> usize {
        let len = usize::from(self.len);
        let taken = data.len().min(max_segment.saturating_sub(len));
        self.data[len..len + taken].copy_from_slice(&data[..taken]);
        self.len += taken as u16;
        taken
    }
}

/// `W` slots, indexed by sequence number modulo `W`.
pub(super) struct Ring<const W: usize> {
    slots: [Slot; W],
}

impl<const W: usize> Ring<W> {
    const WINDOW_IS_A_POWER_OF_TWO: () = assert!(W.is_power_of_two() && W <= 1 << 15, "WINDOW must be a power of two");

    pub(super) const EMPTY: Self = {
        #[allow(clippy::let_unit_value)]
        let () = Self::WINDOW_IS_A_POWER_OF_TWO;
        Ring { slots: [Slot::EMPTY; W] }
    };

    /// The window's length in segments.
    pub(super) const LEN: u32 = W as u32;

    /// Every slot empty (their bytes are overwritten as they are used).
    pub(super) fn clear(&mut self) {
        for slot in &mut self.slots {
            slot.state = SlotState::Empty;
        }
    }

    /// The slot of sequence number `seq`.
    pub(super) fn at(&self, seq: u32) -> &Slot {
        &self.slots[seq as usize & (W - 1)]
    }

    /// The slot of sequence number `seq`, mutably.
    pub(super) fn at_mut(&mut self, seq: u32) -> &mut Slot {
        &mut self.slots[seq as usize & (W - 1)]
    }
}
