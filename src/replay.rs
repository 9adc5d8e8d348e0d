//! Running a node over a capture file.
//!
//! Frames come from the input capture; their timestamps are the node's
//! clock ([`CaptureClock`]). Every frame the node transmits is written to the
//! output capture, stamped with the time of the poll that sent it: the
//! timestamp of the frame that triggered it, or of the timer that fired.
//! Nothing depends on the wall clock, so the same input always gives
//! byte-identical output. A frame the capture holds only in part (cut by its
//! snap length) is counted and skipped, never handed to the node.

use std::path::Path;

use whohas_core::EthernetAddress;
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::runtime::{Clock, Flow};
use whohas_core::time::{self, Duration, Instant};
use whohas_core::wire::ethernet::MAX_FRAME_LEN;

use crate::pcap::{CaptureReader, Error, PcapFileWriter};

/// A [`LinkDevice`] whose receive side is a capture file and whose transmit
/// side is another. Run a node on it with a [`CaptureClock`].
pub struct ReplayDevice {
    input: CaptureReader,
    output: PcapFileWriter,
    mac: EthernetAddress,
    now: Instant,
    /// The timestamp of the next complete input frame, read ahead into
    /// `buffer` so its time is known before it is received.
    next: Option<Instant>,
    /// One buffer reused for every frame: no allocation per frame.
    buffer: Vec<u8>,
    exhausted: bool,
    truncated: u64,
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplaySummary {
    /// Frames read from the input.
    pub frames_in: u64,
    /// Input frames the capture held only in part, skipped.
    pub frames_truncated: u64,
    /// Frames the node transmitted (written to the output).
    pub frames_out: u64,
}

impl ReplayDevice {
    /// Replays `input` to a station with address `mac`, writing what it
    /// sends to `output`.
    pub fn open(input: impl AsRef<Path>, output: impl AsRef<Path>, mac: EthernetAddress) -> Result<Self, Error> {
        let input = CaptureReader::open(input)?;
        let output = PcapFileWriter::create(output)?;
        Ok(ReplayDevice {
            input,
            output,
            mac,
            now: Instant::ZERO,
            next: None,
            buffer: Vec::new(),
            exhausted: false,
            truncated: 0,
        })
    }

    /// The timestamp of the next complete input frame, `None` once the input
    /// is done.
    pub fn next_timestamp(&mut self) -> Result<Option<Instant>, Error> {
        while self.next.is_none() && !self.exhausted {
            match self.input.next_frame()? {
                Some(frame) if frame.data.len() < frame.original_len => self.truncated += 1,
                Some(frame) => {
                    self.buffer.clear();
                    self.buffer.extend_from_slice(frame.data);
                    self.next = Some(Instant::ZERO + Duration::from(frame.timestamp));
                }
                None => self.exhausted = true,
            }
        }
        Ok(self.next)
    }

    /// The replay clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Flushes the output and reports the counts.
    pub fn finish(mut self) -> Result<ReplaySummary, Error> {
        self.output.flush()?;
        Ok(ReplaySummary {
            frames_in: self.input.frames_read(),
            frames_truncated: self.truncated,
            frames_out: self.output.frames(),
        })
    }
}

impl LinkDevice for ReplayDevice {
    type Error = Error;

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, Error> {
        match self.next_timestamp()? {
            Some(timestamp) if timestamp <= self.now => {}
            _ => return Err(nb::Error::WouldBlock),
        }
        self.next = None;
        let stored = self.buffer.len().min(buffer.len());
        buffer[..stored].copy_from_slice(&self.buffer[..stored]);
        Ok(self.buffer.len())
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > MAX_FRAME_LEN {
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len(), max: MAX_FRAME_LEN }));
        }
        self.output.write((self.now - Instant::ZERO).into(), frame);
        Ok(())
    }
}

/// Capture time: the loop's clock reads the replay's time, and waiting jumps
/// to the next input frame or the node's next deadline, whichever comes
/// first; time ends when the input is exhausted and no deadline is left
/// (the retries of a resolution started during the capture run out first).
/// Captures can be out of order; the clock never goes back.
///
/// With [`until`](Self::until), time also ends once a check says so (a
/// signal, say).
#[derive(Debug, Default, Clone, Copy)]
pub struct CaptureClock {
    stop: Option<fn() -> bool>,
}

impl CaptureClock {
    /// The same clock, whose time ends once `stop` returns true.
    pub fn until(self, stop: fn() -> bool) -> Self {
        CaptureClock { stop: Some(stop) }
    }
}

impl Clock<ReplayDevice> for CaptureClock {
    fn now(&mut self, device: &ReplayDevice) -> Instant {
        device.now
    }

    fn wait(&mut self, device: &mut ReplayDevice, deadline: Option<Instant>, _: bool) -> Result<Flow, Error> {
        if self.stop.is_some_and(|stop| stop()) {
            return Ok(Flow::End);
        }
        let next_frame = device.next_timestamp()?;
        match time::earliest(next_frame, deadline) {
            Some(next) => {
                device.now = device.now.max(next);
                Ok(Flow::Continue)
            }
            None => Ok(Flow::End),
        }
    }
}
