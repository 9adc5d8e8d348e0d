//! Reading capture files, frame by frame, checked to be Ethernet.

use std::path::{Path, PathBuf};

use pcap::{Capture, Linktype, Offline};
use whohas_core::{Duration, Instant};

use crate::Error;

/// One frame of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// When it was captured, in microseconds since the Unix epoch.
    pub timestamp: Instant,
    /// The captured bytes (maybe fewer than `original_len` if the capture
    /// used a snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub original_len: usize,
}

/// A capture file opened for reading (pcap, or pcapng if libpcap reads it;
/// microsecond and nanosecond timestamps, reported in microseconds).
pub struct CaptureReader {
    capture: Capture<Offline>,
    path: PathBuf,
    frames_read: u64,
}

pub(crate) fn linktype_name(linktype: Linktype) -> String {
    linktype.get_name().unwrap_or_else(|_| format!("DLT {}", linktype.0))
}

impl CaptureReader {
    /// Opens `path`, checking that it is an Ethernet capture.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        match std::fs::metadata(&path) {
            Err(_) => return Err(Error::FileNotFound(path)),
            Ok(meta) if meta.is_dir() => return Err(Error::IsDirectory(path)),
            Ok(_) => {}
        }
        let capture = Capture::from_file(&path).map_err(|err| Error::UnreadableCapture {
            path: path.clone(),
            reason: match err {
                pcap::Error::PcapError(reason) => reason,
                other => other.to_string(),
            },
        })?;
        let linktype = capture.get_datalink();
        if linktype != Linktype::ETHERNET {
            return Err(Error::NotEthernet { source: path.display().to_string(), linktype: linktype_name(linktype) });
        }
        Ok(CaptureReader { capture, path, frames_read: 0 })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// The next frame, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        match self.capture.next_packet() {
            Ok(packet) => {
                self.frames_read += 1;
                let ts = packet.header.ts;
                let micros = u64::try_from(ts.tv_sec).unwrap_or(0).saturating_mul(1_000_000)
                    + u64::try_from(ts.tv_usec).unwrap_or(0);
                Ok(Some(Frame {
                    timestamp: Instant::ZERO + Duration::from_micros(micros),
                    data: packet.data,
                    original_len: packet.header.len as usize,
                }))
            }
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(pcap::Error::PcapError(reason)) if reason.contains("truncated") => {
                Err(Error::TruncatedCapture { path: self.path.clone(), frames_read: self.frames_read })
            }
            Err(source) => Err(Error::Pcap { context: "reading a capture", source }),
        }
    }
}
