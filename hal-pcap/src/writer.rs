//! Writing capture files, and a device wrapper that records its traffic.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use std::time::Duration;

use whohas_link::{Capabilities, EthernetAddress, LinkDevice, Wait};

use crate::Error;

/// The classic pcap file header, exactly as libpcap's `pcap_dump_open`
/// writes it on a little-endian host: magic, version 2.4, zone 0, sigfigs
/// 0, snap length 65535, link type 1 (Ethernet).
const FILE_HEADER: [u8; 24] =
    [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
/// Frames longer than the snap length are cut, as libpcap would.
const SNAP_LEN: usize = 65_535;
/// Output buffer: large writes, few system calls.
const BUFFER: usize = 256 * 1024;

/// A pcap savefile being written: Ethernet, microsecond timestamps, the
/// classic format every tool reads (tcpdump, tshark, Wireshark, libpcap).
///
/// The format is written here rather than through libpcap's dumper, whose
/// small stdio buffer and two `fwrite` calls per frame made it the slowest
/// part of a replay; the bytes are the same.
pub struct PcapFileWriter {
    out: BufWriter<File>,
    path: PathBuf,
    frames: u64,
    /// The first write error, reported by [`flush`](Self::flush).
    failure: Option<io::Error>,
}

impl PcapFileWriter {
    /// Creates (or truncates) `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let write_error = |err: io::Error| Error::Write { path: path.clone(), reason: err.to_string() };
        let mut out = BufWriter::with_capacity(BUFFER, File::create(&path).map_err(write_error)?);
        out.write_all(&FILE_HEADER).map_err(write_error)?;
        Ok(PcapFileWriter { out, path, frames: 0, failure: None })
    }

    /// Appends a frame captured at `timestamp` (microseconds since the Unix
    /// epoch). Write errors surface at [`flush`](Self::flush).
    pub fn write(&mut self, timestamp: Duration, frame: &[u8]) {
        self.write_captured(timestamp, frame, frame.len());
    }

    /// Appends the captured part `data` of a frame `wire_len` bytes long on
    /// the wire.
    pub fn write_captured(&mut self, timestamp: Duration, data: &[u8], wire_len: usize) {
        if self.failure.is_some() {
            return;
        }
        let micros = timestamp.as_micros() as u64;
        let captured = &data[..data.len().min(SNAP_LEN)];
        let mut record = [0u8; 16];
        // The classic format has 32-bit seconds: timestamps wrap in 2106.
        record[0..4].copy_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        record[4..8].copy_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        record[8..12].copy_from_slice(&(captured.len() as u32).to_le_bytes());
        record[12..16].copy_from_slice(&(wire_len.max(captured.len()) as u32).to_le_bytes());
        match self.out.write_all(&record).and_then(|()| self.out.write_all(captured)) {
            Ok(()) => self.frames += 1,
            Err(err) => self.failure = Some(err),
        }
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
        let failure = self.failure.take().map_or_else(|| self.out.flush(), Err);
        failure.map_err(|err| Error::Write { path: self.path.clone(), reason: err.to_string() })
    }
}

/// Wraps any [`LinkDevice`] and records every frame it receives or
/// transmits to a capture file, stamped with the wall clock.
pub struct PcapTee<D> {
    inner: D,
    writer: PcapFileWriter,
    clock: fn() -> Duration,
}

impl<D: LinkDevice> PcapTee<D> {
    /// Records `inner`'s traffic to `writer`, stamped with the system clock.
    pub fn new(inner: D, writer: PcapFileWriter) -> Self {
        Self::with_clock(inner, writer, crate::unix_now)
    }

    /// Records with timestamps from `clock` (microseconds since the epoch).
    pub fn with_clock(inner: D, writer: PcapFileWriter, clock: fn() -> Duration) -> Self {
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
        // A frame that did not fit is recorded as what it is: its stored
        // prefix, with its length on the wire.
        self.writer.write_captured((self.clock)(), &buffer[..len.min(buffer.len())], len);
        Ok(len)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
        self.inner.transmit(frame)?;
        self.writer.write((self.clock)(), frame);
        Ok(())
    }

    fn flush(&mut self) -> nb::Result<(), D::Error> {
        self.inner.flush()
    }
}

impl<D: Wait> Wait for PcapTee<D> {
    fn wait(&mut self, timeout: Option<Duration>, writable: bool) -> Result<(), D::Error> {
        self.inner.wait(timeout, writable)
    }
}
