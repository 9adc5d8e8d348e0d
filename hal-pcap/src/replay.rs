//! Running a node over a capture file.
//!
//! Frames come from the input capture; their timestamps are the node's
//! clock. Every frame the node transmits is written to the output capture,
//! stamped with the time of the poll that sent it: the timestamp of the
//! frame that triggered it, or of the timer that fired. Nothing depends on
//! the wall clock, so the same input always gives byte-identical output.

use std::path::Path;

use whohas_core::EthernetAddress;
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::node::{Event, Node};
use whohas_core::time::{self, Instant};
use whohas_core::wire::ethernet::MAX_FRAME_LEN;

use crate::{CaptureReader, Error, PcapFileWriter};

/// A [`LinkDevice`] whose receive side is a capture file and whose transmit
/// side is another.
pub struct ReplayDevice {
    input: CaptureReader,
    output: PcapFileWriter,
    mac: EthernetAddress,
    now: Instant,
    /// The next input frame, read ahead into `buffer` so its timestamp is
    /// known before it is received.
    next: Option<Pending>,
    /// One buffer reused for every frame: no allocation per frame.
    buffer: Vec<u8>,
    exhausted: bool,
}

#[derive(Clone, Copy)]
struct Pending {
    timestamp: Instant,
    original_len: usize,
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplaySummary {
    /// Frames read from the input.
    pub frames_in: u64,
    /// Frames the node transmitted (written to the output).
    pub frames_out: u64,
}

impl ReplayDevice {
    /// Replays `input` to a station with address `mac`, writing what it
    /// sends to `output`.
    pub fn open(input: impl AsRef<Path>, output: impl AsRef<Path>, mac: EthernetAddress) -> Result<Self, Error> {
        let input = CaptureReader::open(input)?;
        let output = PcapFileWriter::create(output)?;
        Ok(ReplayDevice { input, output, mac, now: Instant::ZERO, next: None, buffer: Vec::new(), exhausted: false })
    }

    /// The timestamp of the next input frame, `None` once the input is done.
    pub fn next_timestamp(&mut self) -> Result<Option<Instant>, Error> {
        if self.next.is_none() && !self.exhausted {
            match self.input.next_frame()? {
                Some(frame) => {
                    self.buffer.clear();
                    self.buffer.extend_from_slice(frame.data);
                    self.next = Some(Pending { timestamp: frame.timestamp, original_len: frame.original_len });
                }
                None => self.exhausted = true,
            }
        }
        Ok(self.next.as_ref().map(|pending| pending.timestamp))
    }

    /// Sets the replay clock; frames stamped up to `now` become receivable.
    pub fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    /// The replay clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Flushes the output and reports the counts.
    pub fn finish(mut self) -> Result<ReplaySummary, Error> {
        self.output.flush()?;
        Ok(ReplaySummary { frames_in: self.input.frames_read(), frames_out: self.output.frames() })
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
        let Some(pending) = self.next.take() else { return Err(nb::Error::WouldBlock) };
        let stored = self.buffer.len().min(buffer.len());
        buffer[..stored].copy_from_slice(&self.buffer[..stored]);
        Ok(pending.original_len.max(self.buffer.len()))
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), Error> {
        if frame.len() > MAX_FRAME_LEN {
            return Err(nb::Error::Other(Error::FrameTooLong { len: frame.len(), max: MAX_FRAME_LEN }));
        }
        self.output.write(self.now, frame);
        Ok(())
    }
}

/// Drives a node over its [`ReplayDevice`], one poll at a time, in capture
/// time: each step polls at the earlier of the next input frame and the
/// node's next deadline. Between steps the application may act on the node
/// (answer a message, send one); what it sends is stamped with the step's
/// time.
pub struct Replayer<const C: usize, const P: usize, const Q: usize> {
    node: Node<ReplayDevice, C, P, Q>,
    deadline: Option<Instant>,
}

impl<const C: usize, const P: usize, const Q: usize> Replayer<C, P, Q> {
    /// Starts a replay.
    pub fn new(node: Node<ReplayDevice, C, P, Q>) -> Self {
        Replayer { node, deadline: None }
    }

    /// Polls the node once at the next moment something happens, passing
    /// events to `on_event`. Returns that moment, or `None` when the input
    /// is exhausted and no timer is left (for example the retries of a
    /// resolution started during the capture).
    pub fn step(&mut self, on_event: impl FnMut(Event<'_>)) -> Result<Option<Instant>, Error> {
        let next_frame = self.node.device_mut().next_timestamp()?;
        let Some(now) = time::earliest(next_frame, self.deadline) else { return Ok(None) };
        // Captures can be out of order; the node's clock never goes back.
        let now = now.max(self.node.device().now());
        self.node.device_mut().set_now(now);
        self.deadline = self.node.poll(now, on_event)?;
        Ok(Some(now))
    }

    /// The node, to act on between steps.
    pub fn node_mut(&mut self) -> &mut Node<ReplayDevice, C, P, Q> {
        &mut self.node
    }

    /// Flushes the output capture and reports the counts.
    pub fn finish(self) -> Result<ReplaySummary, Error> {
        self.node.into_device().finish()
    }
}
