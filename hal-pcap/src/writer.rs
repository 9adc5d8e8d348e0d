//! Writing capture files, and a device wrapper that records its traffic.

use std::path::{Path, PathBuf};

use pcap::{Capture, Dead, Linktype, Packet, PacketHeader, Savefile};
use whohas_core::device::{Capabilities, LinkDevice};
use whohas_core::{EthernetAddress, Instant};

use crate::Error;

/// A pcap savefile being written (Ethernet, microsecond timestamps), through
/// libpcap's own dumper so tcpdump, tshark and Wireshark read it.
pub struct PcapFileWriter {
    savefile: Savefile,
    // The dumper was opened from this handle; keep it as long as the dumper.
    _handle: Capture<Dead>,
    path: PathBuf,
    frames: u64,
}

impl PcapFileWriter {
    /// Creates (or truncates) `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let write_error = |err: pcap::Error| Error::Write { path: path.clone(), reason: err.to_string() };
        let handle = Capture::dead(Linktype::ETHERNET).map_err(write_error)?;
        let savefile = handle.savefile(&path).map_err(write_error)?;
        Ok(PcapFileWriter { savefile, _handle: handle, path, frames: 0 })
    }

    /// Appends a frame captured at `timestamp` (microseconds since the Unix
    /// epoch). Write errors surface at [`flush`](Self::flush).
    pub fn write(&mut self, timestamp: Instant, frame: &[u8]) {
        let micros = timestamp.total_micros();
        let header = PacketHeader {
            ts: libc::timeval {
                tv_sec: (micros / 1_000_000) as libc::time_t,
                tv_usec: (micros % 1_000_000) as libc::suseconds_t,
            },
            caplen: frame.len() as u32,
            len: frame.len() as u32,
        };
        self.savefile.write(&Packet::new(&header, frame));
        self.frames += 1;
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pushes buffered frames to the file, reporting any write error.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.savefile.flush().map_err(|err| Error::Write { path: self.path.clone(), reason: err.to_string() })
    }
}

/// Wraps any [`LinkDevice`] and records every frame it receives or
/// transmits to a capture file, stamped with the wall clock.
pub struct PcapTee<D> {
    inner: D,
    writer: PcapFileWriter,
    clock: fn() -> Instant,
}

impl<D: LinkDevice> PcapTee<D> {
    /// Records `inner`'s traffic to `writer`, stamped with the system clock.
    pub fn new(inner: D, writer: PcapFileWriter) -> Self {
        Self::with_clock(inner, writer, crate::unix_now)
    }

    /// Records with timestamps from `clock` (microseconds since the epoch).
    pub fn with_clock(inner: D, writer: PcapFileWriter, clock: fn() -> Instant) -> Self {
        PcapTee { inner, writer, clock }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// The writer.
    pub fn writer_mut(&mut self) -> &mut PcapFileWriter {
        &mut self.writer
    }

    /// Flushes the file and gives back the parts.
    pub fn into_parts(mut self) -> Result<(D, PcapFileWriter), Error> {
        self.writer.flush()?;
        Ok((self.inner, self.writer))
    }
}

impl<D: LinkDevice> LinkDevice for PcapTee<D> {
    type Error = D::Error;

    fn mac_address(&self) -> EthernetAddress {
        self.inner.mac_address()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, D::Error> {
        let len = self.inner.receive(buffer)?;
        self.writer.write((self.clock)(), &buffer[..len.min(buffer.len())]);
        Ok(len)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
        self.inner.transmit(frame)?;
        self.writer.write((self.clock)(), frame);
        Ok(())
    }
}
