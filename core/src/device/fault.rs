//! A device wrapper that makes the link unreliable on purpose, with a seeded
//! random generator so every failure can be replayed.
//!
//! In both directions it can drop a frame, deliver it twice, flip one random
//! bit in it, or hold it back and deliver it after the next one (reorder).
//! Percentages are per frame; a frame suffers at most one fault.
//!
//! ```
//! use whohas_core::device::{FaultConfig, FaultInjector, LinkDevice, Segment};
//! use whohas_core::wire::EthernetAddress;
//!
//! let segment: Segment<2, 8> = Segment::new();
//! let port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
//! let lossy = FaultConfig { drop_percent: 30, ..FaultConfig::default() };
//! let mut device = FaultInjector::new(port, lossy, lossy, 42);
//! assert_eq!(device.stats().dropped, 0);
//! ```

use core::time::Duration;

use heapless::Vec;

use super::Wait;
use super::{Capabilities, LinkDevice};
use crate::rng::Rng;
use crate::wire::EthernetAddress;
use crate::wire::ethernet::MAX_FRAME_LEN;

/// How often each fault happens, in percent of frames (0 to 100).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FaultConfig {
    /// Frames lost.
    pub drop_percent: u8,
    /// Frames delivered twice.
    pub duplicate_percent: u8,
    /// Frames with one bit flipped.
    pub corrupt_percent: u8,
    /// Frames delivered after the next one.
    pub reorder_percent: u8,
}

/// What the injector did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FaultStats {
    /// Frames dropped.
    pub dropped: u64,
    /// Frames duplicated.
    pub duplicated: u64,
    /// Frames corrupted.
    pub corrupted: u64,
    /// Frames held back behind the next one.
    pub reordered: u64,
}

type Frame = Vec<u8, MAX_FRAME_LEN>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Drop,
    Duplicate,
    Corrupt,
    Reorder,
}

/// One direction's faults and the frames it holds back.
struct Direction {
    config: FaultConfig,
    /// A frame to deliver next (a duplicate, or a frame released after a
    /// reorder).
    pending: Option<Frame>,
    /// A frame held back until the next one has passed.
    held: Option<Frame>,
}

impl Direction {
    fn pick(&self, rng: &mut Rng) -> Fault {
        let c = self.config;
        let roll = rng.below(100) as u16;
        let mut edge = 0u16;
        for (percent, fault) in [
            (c.drop_percent, Fault::Drop),
            (c.duplicate_percent, Fault::Duplicate),
            (c.corrupt_percent, Fault::Corrupt),
            (c.reorder_percent, Fault::Reorder),
        ] {
            edge += u16::from(percent);
            if roll < edge {
                return fault;
            }
        }
        Fault::None
    }
}

/// Wraps a device and injects faults into what it receives (`rx`) and
/// transmits (`tx`).
pub struct FaultInjector<D> {
    inner: D,
    rng: Rng,
    rx: Direction,
    tx: Direction,
    stats: FaultStats,
}

fn flip_bit(frame: &mut [u8], rng: &mut Rng) {
    if !frame.is_empty() {
        let at = rng.below(frame.len() as u64) as usize;
        frame[at] ^= 1 << rng.below(8);
    }
}

fn copy(frame: &[u8]) -> Option<Frame> {
    Frame::from_slice(frame).ok()
}

impl<D: LinkDevice> FaultInjector<D> {
    /// Wraps `inner` with faults `rx` on receive and `tx` on transmit,
    /// drawn from a generator seeded with `seed`.
    pub fn new(inner: D, rx: FaultConfig, tx: FaultConfig, seed: u64) -> Self {
        FaultInjector {
            inner,
            rng: Rng::new(seed),
            rx: Direction { config: rx, pending: None, held: None },
            tx: Direction { config: tx, pending: None, held: None },
            stats: FaultStats::default(),
        }
    }

    /// What was injected so far.
    pub fn stats(&self) -> &FaultStats {
        &self.stats
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    fn deliver(buffer: &mut [u8], frame: &[u8]) -> usize {
        let stored = frame.len().min(buffer.len());
        buffer[..stored].copy_from_slice(&frame[..stored]);
        frame.len()
    }
}

impl<D: LinkDevice> LinkDevice for FaultInjector<D> {
    type Error = D::Error;

    fn mac_address(&self) -> EthernetAddress {
        self.inner.mac_address()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, D::Error> {
        if let Some(frame) = self.rx.pending.take() {
            return Ok(Self::deliver(buffer, &frame));
        }
        loop {
            let len = match self.inner.receive(buffer) {
                Ok(len) => len,
                // Nothing else is coming for now: release a held frame.
                Err(nb::Error::WouldBlock) => match self.rx.held.take() {
                    Some(frame) => return Ok(Self::deliver(buffer, &frame)),
                    None => return Err(nb::Error::WouldBlock),
                },
                Err(err) => return Err(err),
            };
            // A frame cut short passes untouched: a copy of its prefix would
            // come out looking complete.
            let Some(frame) = buffer.get_mut(..len) else { return Ok(len) };
            match self.rx.pick(&mut self.rng) {
                Fault::Drop => {
                    self.stats.dropped += 1;
                    continue;
                }
                Fault::Duplicate => {
                    self.stats.duplicated += 1;
                    self.rx.pending = copy(frame);
                }
                Fault::Corrupt => {
                    self.stats.corrupted += 1;
                    flip_bit(frame, &mut self.rng);
                }
                Fault::Reorder if self.rx.held.is_none() => {
                    self.stats.reordered += 1;
                    self.rx.held = copy(frame);
                    continue;
                }
                Fault::Reorder | Fault::None => {}
            }
            // A held frame goes right after the one that overtook it (after
            // that one's duplicate, if it has one).
            if self.rx.pending.is_none() {
                self.rx.pending = self.rx.held.take();
            }
            return Ok(len);
        }
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
        match self.tx.pick(&mut self.rng) {
            Fault::Drop => {
                self.stats.dropped += 1;
                return Ok(());
            }
            Fault::Duplicate => {
                self.stats.duplicated += 1;
                self.inner.transmit(frame)?;
                // The copy is best effort: a busy device just loses it.
                let _ = self.inner.transmit(frame);
            }
            Fault::Corrupt => {
                self.stats.corrupted += 1;
                let Some(mut bad) = copy(frame) else { return self.inner.transmit(frame) };
                flip_bit(&mut bad, &mut self.rng);
                self.inner.transmit(&bad)?;
            }
            Fault::Reorder if self.tx.held.is_none() => {
                self.stats.reordered += 1;
                self.tx.held = copy(frame);
                return Ok(());
            }
            Fault::Reorder | Fault::None => self.inner.transmit(frame)?,
        }
        if let Some(held) = self.tx.held.take() {
            let _ = self.inner.transmit(&held);
        }
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), D::Error> {
        self.inner.flush()
    }
}

impl<D: Wait> Wait for FaultInjector<D> {
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), D::Error> {
        if self.rx.pending.is_some() || self.rx.held.is_some() {
            // A frame is ready to be received already.
            return Ok(());
        }
        self.inner.wait(timeout, writable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Segment;

    const A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn frame(tag: u8) -> [u8; 60] {
        let mut frame = [0u8; 60];
        frame[59] = tag;
        frame
    }

    fn received<D: LinkDevice>(device: &mut D) -> heapless::Vec<u8, 64> {
        let mut tags = heapless::Vec::new();
        let mut buffer = [0u8; 64];
        while let Ok(len) = device.receive(&mut buffer) {
            let _ = tags.push(buffer[len - 1]);
        }
        tags
    }

    #[test]
    fn every_fault_does_what_it_says() {
        let each = |config: FaultConfig| {
            let segment: Segment<2, 64> = Segment::new();
            let mut a = segment.attach(A).unwrap();
            let b = segment.attach(B).unwrap();
            for tag in 1..=20 {
                a.transmit(&frame(tag)).unwrap();
            }
            let mut faulty = FaultInjector::new(b, config, FaultConfig::default(), 3);
            (received(&mut faulty), *faulty.stats())
        };
        let (tags, stats) = each(FaultConfig { drop_percent: 100, ..Default::default() });
        assert!(tags.is_empty() && stats.dropped == 20);
        let (tags, stats) = each(FaultConfig { duplicate_percent: 100, ..Default::default() });
        assert_eq!((tags.len(), stats.duplicated), (40, 20));
        assert_eq!(&tags[..4], &[1, 1, 2, 2]);
        let (tags, _) = each(FaultConfig { corrupt_percent: 100, ..Default::default() });
        assert_eq!(tags.len(), 20);
        let (tags, stats) = each(FaultConfig { reorder_percent: 100, ..Default::default() });
        assert_eq!(tags.len(), 20, "reordering loses nothing");
        assert_eq!(&tags[..4], &[2, 1, 4, 3]);
        assert_eq!(stats.reordered, 10);
    }

    #[test]
    fn transmit_faults_reach_the_wire() {
        let segment: Segment<2, 64> = Segment::new();
        let a = segment.attach(A).unwrap();
        let mut b = segment.attach(B).unwrap();
        let config = FaultConfig { drop_percent: 25, duplicate_percent: 25, reorder_percent: 25, ..Default::default() };
        let mut faulty = FaultInjector::new(a, FaultConfig::default(), config, 11);
        for tag in 1..=40 {
            faulty.transmit(&frame(tag)).unwrap();
        }
        let stats = *faulty.stats();
        let tags = received(&mut b);
        assert_eq!(tags.len() as u64, 40 - stats.dropped + stats.duplicated - u64::from(faulty.tx.held.is_some()));
    }
}
