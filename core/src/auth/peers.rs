//! Who may send to this station: the senders admitted by a handshake of
//! this run, each with a replay window (IPsec's and MACsec's: the highest
//! counter seen and a bitmap of the 64 before it), and the challenges this
//! station is waiting to see answered.
//!
//! A sender is admitted only by echoing a nonce drawn in this run, so a
//! frame recorded before this station started, or before it forgot the
//! sender, is never taken as new: it finds no admission, and is refused.
//! Both tables are bounded; what they forget costs a new handshake, never a
//! replay.

use crate::wire::EthernetAddress;
use crate::wire::auth::Stamp;

/// How far behind the highest counter a frame may still arrive (once).
pub const WINDOW: u32 = 64;
/// Frames refused from an unadmitted sender between two repeats of its
/// challenge, once the first few (1, 2, 4) have been repeated: a flood of
/// replays draws one challenge per this many frames.
const REPEAT_EVERY: u32 = 8;

/// What a receiver knows of a frame's stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Never seen from an admitted sender and epoch: accept it.
    New,
    /// Seen already, or older than the window, or sent before the
    /// sender's admission: a replay.
    Seen,
    /// From a sender or an epoch not admitted in this run.
    Unknown,
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    highest: u32,
    /// Bit `i`: counter `highest - i` was accepted (or precedes admission).
    seen: u64,
}

impl Window {
    /// The window of a sender admitted at `counter`: that frame and every
    /// one before it count as seen.
    fn from(counter: u32) -> Window {
        Window { highest: counter, seen: u64::MAX }
    }

    /// Accepts `counter` once; `false` for a repeat or one too old.
    fn accept(&mut self, counter: u32) -> bool {
        if counter > self.highest {
            let shift = counter - self.highest;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.highest = counter;
            return true;
        }
        let behind = self.highest - counter;
        if behind >= WINDOW {
            return false;
        }
        let bit = 1u64 << behind;
        let fresh = self.seen & bit == 0;
        self.seen |= bit;
        fresh
    }
}

/// An admitted sender; `used == 0` marks a free entry.
#[derive(Debug, Clone, Copy, Default)]
struct Admitted {
    mac: EthernetAddress,
    epoch: u32,
    window: Window,
    used: u64,
}

/// A challenge sent and not yet answered; `nonce == 0` marks a free entry.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    mac: EthernetAddress,
    nonce: u64,
    /// Frames refused from `mac` since the challenge was drawn.
    triggers: u32,
    used: u64,
}

/// The admitted senders and pending challenges of up to `PEERS` stations
/// each; the least recently used entry makes room for a new one.
#[derive(Debug)]
pub struct Peers<const PEERS: usize> {
    admitted: [Admitted; PEERS],
    pending: [Pending; PEERS],
    clock: u64,
}

impl<const PEERS: usize> Default for Peers<PEERS> {
    fn default() -> Self {
        Peers { admitted: [Admitted::default(); PEERS], pending: [Pending::default(); PEERS], clock: 0 }
    }
}

/// The index of the entry `is` picks, or else of the least recently used.
fn slot<T>(entries: &[T], is: impl Fn(&T) -> bool, used: impl Fn(&T) -> u64) -> Option<(usize, bool)> {
    if let Some(index) = entries.iter().position(is) {
        return Some((index, true));
    }
    let (index, _) = entries.iter().enumerate().min_by_key(|(_, entry)| used(entry))?;
    Some((index, false))
}

impl<const PEERS: usize> Peers<PEERS> {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Whether `mac` is admitted in `epoch`.
    pub fn is_admitted(&self, mac: EthernetAddress, epoch: u32) -> bool {
        self.admitted.iter().any(|a| a.used != 0 && a.mac == mac && a.epoch == epoch)
    }

    /// Judges a frame of `mac` stamped `stamp`; a new one is remembered.
    pub fn accept(&mut self, mac: EthernetAddress, stamp: Stamp) -> Freshness {
        let clock = self.tick();
        let Some(sender) = self.admitted.iter_mut().find(|a| a.used != 0 && a.mac == mac && a.epoch == stamp.epoch)
        else {
            return Freshness::Unknown;
        };
        sender.used = clock;
        if sender.window.accept(stamp.counter) { Freshness::New } else { Freshness::Seen }
    }

    /// Whether to challenge `mac` for a refused frame now, and with which
    /// nonce: a challenge already out is repeated for the 1st, 2nd and 4th
    /// frame refused and then every `REPEAT_EVERY`th, with the same nonce
    /// (so an answer to any copy counts, and a flood of replays costs the
    /// sender few challenges). `draw` gives a fresh nonce, never zero.
    pub fn challenge(&mut self, mac: EthernetAddress, draw: impl FnOnce() -> u64) -> Option<u64> {
        let pending = self.pending_for(mac, draw)?;
        pending.triggers = pending.triggers.saturating_add(1);
        let triggers = pending.triggers;
        let repeat = if triggers < REPEAT_EVERY { triggers.is_power_of_two() } else { triggers % REPEAT_EVERY == 0 };
        repeat.then_some(pending.nonce)
    }

    /// The nonce to ask `mac` with in an answer: its pending challenge's,
    /// or a new one.
    pub fn ask(&mut self, mac: EthernetAddress, draw: impl FnOnce() -> u64) -> Option<u64> {
        Some(self.pending_for(mac, draw)?.nonce)
    }

    /// `mac`'s pending challenge, touched now; a new one with a nonce from
    /// `draw` if there is none (in a free entry, or the least recently
    /// used).
    fn pending_for(&mut self, mac: EthernetAddress, draw: impl FnOnce() -> u64) -> Option<&mut Pending> {
        let clock = self.tick();
        let (index, found) = slot(&self.pending, |p| p.nonce != 0 && p.mac == mac, |p| p.used)?;
        let pending = &mut self.pending[index];
        if !found {
            *pending = Pending { mac, nonce: draw(), triggers: 0, used: clock };
        }
        pending.used = clock;
        Some(pending)
    }

    /// Takes an answer of `mac` stamped `stamp` that echoes `echo`: if it is
    /// the nonce of `mac`'s pending challenge, the challenge is used up and
    /// `mac` admitted in `stamp`'s epoch, its frames new from the next
    /// counter on (a sender already admitted in that epoch keeps its
    /// window). `false` for an answer to no challenge of this run.
    pub fn answered(&mut self, mac: EthernetAddress, echo: u64, stamp: Stamp) -> bool {
        let Some(pending) = self.pending.iter_mut().find(|p| p.nonce != 0 && p.mac == mac && p.nonce == echo) else {
            return false;
        };
        *pending = Pending::default();
        let clock = self.tick();
        if let Some((index, found)) = slot(&self.admitted, |a| a.used != 0 && a.mac == mac, |a| a.used) {
            let sender = &mut self.admitted[index];
            if !(found && sender.epoch == stamp.epoch) {
                *sender = Admitted { mac, epoch: stamp.epoch, window: Window::from(stamp.counter), used: clock };
            }
            sender.used = clock;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn stamp(epoch: u32, counter: u32) -> Stamp {
        Stamp { epoch, counter }
    }

    fn admit<const N: usize>(peers: &mut Peers<N>, mac: EthernetAddress, at: Stamp) {
        let nonce = peers.challenge(mac, || 77).expect("a first challenge goes out");
        assert!(peers.answered(mac, nonce, at));
    }

    #[test]
    fn each_counter_after_admission_is_accepted_once_in_any_order_within_the_window() {
        let mut peers: Peers<4> = Peers::default();
        assert_eq!(peers.accept(A, stamp(9, 5)), Freshness::Unknown, "not admitted yet");
        admit(&mut peers, A, stamp(9, 2));
        for counter in [5, 3, 4, 70, 7] {
            assert_eq!(peers.accept(A, stamp(9, counter)), Freshness::New, "{counter}");
        }
        for counter in [5, 3, 70, 7, 2, 1] {
            assert_eq!(peers.accept(A, stamp(9, counter)), Freshness::Seen, "{counter}: again, or before admission");
        }
        assert_eq!(peers.accept(A, stamp(9, 6)), Freshness::Seen, "70 - 6 >= 64: too old");
        assert_eq!(peers.accept(A, stamp(9, 69)), Freshness::New);
        assert_eq!(peers.accept(A, stamp(10, 80)), Freshness::Unknown, "another epoch needs its own handshake");
    }

    #[test]
    fn only_the_pending_nonce_admits_and_only_once() {
        let mut peers: Peers<4> = Peers::default();
        assert!(!peers.answered(A, 77, stamp(1, 1)), "no challenge out");
        let nonce = peers.challenge(A, || 77).unwrap();
        assert!(!peers.answered(B, nonce, stamp(1, 1)), "B cannot answer A's challenge");
        assert!(!peers.answered(A, nonce + 1, stamp(1, 1)));
        assert!(peers.answered(A, nonce, stamp(1, 1)));
        assert!(!peers.answered(A, nonce, stamp(1, 9)), "a replayed answer");
        assert!(peers.is_admitted(A, 1));
    }

    #[test]
    fn a_challenge_is_repeated_ever_more_rarely_with_the_same_nonce() {
        let mut peers: Peers<4> = Peers::default();
        let mut draws = 0;
        let sent: heapless::Vec<u32, 40> = (1..=40)
            .filter(|_| {
                peers
                    .challenge(A, || {
                        draws += 1;
                        99
                    })
                    .is_some()
            })
            .collect();
        assert_eq!(sent[..], [1, 2, 4, 8, 16, 24, 32, 40]);
        assert_eq!(draws, 1);
    }

    #[test]
    fn an_answer_in_the_admitted_epoch_keeps_the_window_and_a_new_epoch_replaces_it() {
        let mut peers: Peers<4> = Peers::default();
        admit(&mut peers, A, stamp(1, 10));
        assert_eq!(peers.accept(A, stamp(1, 12)), Freshness::New);
        admit(&mut peers, A, stamp(1, 20));
        assert_eq!(peers.accept(A, stamp(1, 11)), Freshness::New, "the window of epoch 1 is unchanged");
        assert_eq!(peers.accept(A, stamp(1, 12)), Freshness::Seen);
        admit(&mut peers, A, stamp(2, 3));
        assert_eq!(peers.accept(A, stamp(1, 13)), Freshness::Unknown, "the restarted sender's old epoch");
        assert_eq!(peers.accept(A, stamp(2, 4)), Freshness::New);
    }

    #[test]
    fn a_forgotten_sender_is_refused_until_it_answers_again() {
        let mut peers: Peers<1> = Peers::default();
        admit(&mut peers, A, stamp(1, 1));
        admit(&mut peers, B, stamp(5, 1));
        assert_eq!(peers.accept(A, stamp(1, 2)), Freshness::Unknown, "A was forgotten for B: refused, not trusted");
        admit(&mut peers, A, stamp(1, 3));
        assert_eq!(peers.accept(A, stamp(1, 2)), Freshness::Seen, "before its new admission");
        assert_eq!(peers.accept(A, stamp(1, 4)), Freshness::New);
    }
}
