//! Replay windows: for each sender, the frames already accepted in each of
//! its recent epochs (IPsec's and MACsec's sliding window: the highest
//! counter seen and a bitmap of the 64 before it).

use crate::wire::EthernetAddress;
use crate::wire::auth::Stamp;

/// How far behind the highest counter a frame may still arrive (once).
pub const WINDOW: u32 = 64;
/// Epochs remembered per sender: a restarted sender starts a new one while
/// frames of its old one may still be in flight.
const EPOCHS: usize = 2;

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    epoch: u32,
    highest: u32,
    /// Bit `i`: counter `highest - i` was accepted.
    seen: u64,
    /// When it was last used, for eviction.
    used: u64,
}

impl Window {
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

#[derive(Debug, Clone, Copy, Default)]
struct Sender {
    mac: EthernetAddress,
    windows: [Window; EPOCHS],
    used: u64,
}

/// The replay windows of up to `PEERS` senders; the least recently heard
/// is forgotten when a new one needs room.
#[derive(Debug)]
pub struct Replay<const PEERS: usize> {
    senders: [Sender; PEERS],
    clock: u64,
}

impl<const PEERS: usize> Default for Replay<PEERS> {
    fn default() -> Self {
        Replay { senders: [Sender::default(); PEERS], clock: 0 }
    }
}

impl<const PEERS: usize> Replay<PEERS> {
    /// Whether `stamp` from `mac` is new (it is then remembered).
    pub fn accept(&mut self, mac: EthernetAddress, stamp: Stamp) -> bool {
        self.clock += 1;
        let clock = self.clock;
        let index = match self.senders.iter().position(|s| s.used != 0 && s.mac == mac) {
            Some(index) => index,
            None => {
                let (index, _) =
                    self.senders.iter().enumerate().min_by_key(|(_, s)| s.used).unwrap_or((0, &Sender::default()));
                self.senders[index] = Sender { mac, ..Sender::default() };
                index
            }
        };
        let sender = &mut self.senders[index];
        sender.used = clock;
        let window = match sender.windows.iter().position(|w| w.used != 0 && w.epoch == stamp.epoch) {
            Some(i) => &mut sender.windows[i],
            None => {
                let i = sender.windows.iter().enumerate().min_by_key(|(_, w)| w.used).map_or(0, |(i, _)| i);
                sender.windows[i] = Window { epoch: stamp.epoch, ..Window::default() };
                &mut sender.windows[i]
            }
        };
        window.used = clock;
        window.accept(stamp.counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    fn stamp(epoch: u32, counter: u32) -> Stamp {
        Stamp { epoch, counter }
    }

    #[test]
    fn each_counter_is_accepted_once_in_any_order_within_the_window() {
        let mut replay: Replay<4> = Replay::default();
        for counter in [5, 3, 4, 1, 70, 7] {
            assert!(replay.accept(A, stamp(9, counter)), "{counter}");
        }
        for counter in [5, 3, 70, 7] {
            assert!(!replay.accept(A, stamp(9, counter)), "{counter} again");
        }
        assert!(!replay.accept(A, stamp(9, 6)), "70 - 6 >= 64: too old");
        assert!(replay.accept(A, stamp(9, 69)));
    }

    #[test]
    fn epochs_and_senders_have_windows_of_their_own() {
        let mut replay: Replay<2> = Replay::default();
        assert!(replay.accept(A, stamp(1, 10)));
        assert!(replay.accept(A, stamp(2, 10)), "a restarted sender");
        assert!(!replay.accept(A, stamp(1, 10)), "the old epoch is still remembered");
        let b = EthernetAddress([2, 0, 0, 0, 0, 2]);
        assert!(replay.accept(b, stamp(1, 10)));
        assert!(!replay.accept(b, stamp(1, 10)));
    }
}
