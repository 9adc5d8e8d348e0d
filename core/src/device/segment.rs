//! An in-memory broadcast segment: a hub with per-port frame queues.
//!
//! Every frame a port transmits is copied into the receive queue of every
//! other port, as on a shared Ethernet segment or a hub; stations filter by
//! destination themselves. It needs no privileges and no allocation, so
//! protocol tests and demos run anywhere, including `no_std` targets.
//!
//! ```
//! use whohas_core::device::{LinkDevice, Segment};
//! use whohas_core::wire::EthernetAddress;
//!
//! let segment: Segment<2, 4> = Segment::new();
//! let mut a = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
//! let mut b = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 2])).unwrap();
//! a.transmit(&[0xff; 60]).unwrap();
//! let mut buf = [0; 1514];
//! assert_eq!(b.receive(&mut buf), Ok(60));
//! assert_eq!(a.receive(&mut buf), Err(nb::Error::WouldBlock));
//! ```

use core::cell::RefCell;
use core::fmt;

use heapless::{Deque, Vec};

use super::{Capabilities, LinkDevice};
use crate::wire::EthernetAddress;
use crate::wire::ethernet::{HEADER_LEN, MAX_FRAME_LEN};

type Frame = Vec<u8, MAX_FRAME_LEN>;

/// A simulated Ethernet segment with up to `PORTS` stations, each with a
/// receive queue of `DEPTH` frames.
pub struct Segment<const PORTS: usize = 4, const DEPTH: usize = 16> {
    state: RefCell<State<PORTS, DEPTH>>,
}

struct State<const PORTS: usize, const DEPTH: usize> {
    queues: [Deque<Frame, DEPTH>; PORTS],
    attached: usize,
    overflows: u64,
}

/// What a segment refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SegmentError {
    /// Every port is already attached.
    NoFreePort,
    /// The frame is shorter than an Ethernet header or longer than 1514 bytes.
    BadFrameLength(usize),
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentError::NoFreePort => f.write_str("every port of the segment is in use; declare more PORTS"),
            SegmentError::BadFrameLength(len) => {
                write!(f, "a {len}-byte frame cannot cross Ethernet (14 to 1514 bytes)")
            }
        }
    }
}

impl core::error::Error for SegmentError {}

impl<const PORTS: usize, const DEPTH: usize> Default for Segment<PORTS, DEPTH> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const PORTS: usize, const DEPTH: usize> Segment<PORTS, DEPTH> {
    /// An empty segment.
    pub const fn new() -> Self {
        Segment { state: RefCell::new(State { queues: [const { Deque::new() }; PORTS], attached: 0, overflows: 0 }) }
    }

    /// Attaches a station with address `mac`.
    pub fn attach(&self, mac: EthernetAddress) -> Result<SegmentPort<'_, PORTS, DEPTH>, SegmentError> {
        let mut state = self.state.borrow_mut();
        if state.attached == PORTS {
            return Err(SegmentError::NoFreePort);
        }
        let index = state.attached;
        state.attached += 1;
        Ok(SegmentPort { segment: self, index, mac })
    }

    /// Frames lost because a receiver's queue was full (like a real link,
    /// the segment applies no back-pressure).
    pub fn overflows(&self) -> u64 {
        self.state.borrow().overflows
    }
}

/// One station's attachment to a [`Segment`]: a [`LinkDevice`].
pub struct SegmentPort<'a, const PORTS: usize = 4, const DEPTH: usize = 16> {
    segment: &'a Segment<PORTS, DEPTH>,
    index: usize,
    mac: EthernetAddress,
}

impl<const PORTS: usize, const DEPTH: usize> SegmentPort<'_, PORTS, DEPTH> {
    /// Frames waiting in this port's receive queue.
    pub fn pending(&self) -> usize {
        self.segment.state.borrow().queues[self.index].len()
    }
}

impl<const PORTS: usize, const DEPTH: usize> LinkDevice for SegmentPort<'_, PORTS, DEPTH> {
    type Error = SegmentError;

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, SegmentError> {
        let frame = self.segment.state.borrow_mut().queues[self.index].pop_front().ok_or(nb::Error::WouldBlock)?;
        let stored = frame.len().min(buffer.len());
        buffer[..stored].copy_from_slice(&frame[..stored]);
        Ok(frame.len())
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), SegmentError> {
        let copy = match Frame::from_slice(frame) {
            Ok(copy) if frame.len() >= HEADER_LEN => copy,
            _ => return Err(nb::Error::Other(SegmentError::BadFrameLength(frame.len()))),
        };
        let mut state = self.segment.state.borrow_mut();
        let attached = state.attached;
        let mut overflows = 0;
        for (index, queue) in state.queues[..attached].iter_mut().enumerate() {
            if index != self.index && queue.push_back(copy.clone()).is_err() {
                overflows += 1;
            }
        }
        state.overflows += overflows;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    #[test]
    fn delivers_to_every_other_port_in_order() {
        let segment: Segment<3, 4> = Segment::new();
        let mut a = segment.attach(A).unwrap();
        let mut b = segment.attach(B).unwrap();
        let mut c = segment.attach(B).unwrap();
        a.transmit(&[1; 20]).unwrap();
        a.transmit(&[2; 30]).unwrap();
        let mut buf = [0; 64];
        for port in [&mut b, &mut c] {
            assert_eq!(port.receive(&mut buf), Ok(20));
            assert_eq!(buf[0], 1);
            assert_eq!(port.receive(&mut buf), Ok(30));
            assert_eq!(port.receive(&mut buf), Err(nb::Error::WouldBlock));
        }
        assert_eq!(a.pending(), 0);
    }

    #[test]
    fn counts_overflows_and_reports_truncation() {
        let segment: Segment<2, 1> = Segment::new();
        let mut a = segment.attach(A).unwrap();
        let mut b = segment.attach(B).unwrap();
        a.transmit(&[7; 100]).unwrap();
        a.transmit(&[7; 100]).unwrap();
        assert_eq!(segment.overflows(), 1);
        let mut small = [0; 16];
        assert_eq!(b.receive(&mut small), Ok(100));
    }

    #[test]
    fn refuses_bad_frames_and_extra_ports() {
        let segment: Segment<1, 1> = Segment::new();
        let mut a = segment.attach(A).unwrap();
        assert_eq!(segment.attach(B).err(), Some(SegmentError::NoFreePort));
        assert_eq!(a.transmit(&[0; 13]), Err(nb::Error::Other(SegmentError::BadFrameLength(13))));
        assert_eq!(a.transmit(&[0; 1515]), Err(nb::Error::Other(SegmentError::BadFrameLength(1515))));
    }
}
