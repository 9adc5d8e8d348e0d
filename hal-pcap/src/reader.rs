//! Reading capture files, frame by frame, checked to be Ethernet.
//!
//! Some captures keep each frame's 4-byte FCS, and say so in their header:
//! a pcap file in the FCS bits of its link type, a pcapng file in its
//! interface's `if_fcslen` option. The reader removes the FCS from every
//! frame of such a capture, so what it returns is the frame a
//! [`LinkDevice`](whohas_link::LinkDevice) hands over: no FCS.

use std::io::Read;
use std::path::{Path, PathBuf};

use pcap::{Capture, Linktype, Offline};
use std::time::Duration;

use crate::Error;

/// Bytes read from the start of a capture to find its FCS length: a pcap
/// header, or a pcapng section header and first interface block.
const HEAD_LEN: u64 = 64 * 1024;

/// One frame of a capture, without its FCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// When it was captured: the time since the Unix epoch, to the microsecond.
    pub timestamp: Duration,
    /// The captured bytes (maybe fewer than `original_len` if the capture
    /// used a snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire, without FCS.
    pub original_len: usize,
}

/// A capture file opened for reading (pcap, or pcapng if libpcap reads it;
/// microsecond and nanosecond timestamps, reported in microseconds).
pub struct CaptureReader {
    capture: Capture<Offline>,
    path: PathBuf,
    frames_read: u64,
    fcs_len: usize,
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
        // The headers that declare an FCS come first in the file.
        let mut head = Vec::new();
        let _ = std::fs::File::open(&path).and_then(|file| file.take(HEAD_LEN).read_to_end(&mut head));
        let fcs_len = fcs_len(&head);
        Ok(CaptureReader { capture, path, frames_read: 0, fcs_len })
    }

    /// Bytes of FCS the capture keeps at the end of each frame (0 or 4),
    /// which [`next_frame`](Self::next_frame) removes.
    pub fn fcs_len(&self) -> usize {
        self.fcs_len
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
                let original_len = (packet.header.len as usize).saturating_sub(self.fcs_len);
                // A snap length may have cut into the FCS, or before it.
                let data = &packet.data[..packet.data.len().min(original_len)];
                Ok(Some(Frame { timestamp: Duration::from_micros(micros), data, original_len }))
            }
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(pcap::Error::PcapError(reason)) if reason.contains("truncated") => {
                Err(Error::TruncatedCapture { path: self.path.clone(), frames_read: self.frames_read })
            }
            Err(source) => Err(Error::Pcap { context: "reading a capture", source }),
        }
    }
}

/// The FCS length a capture file's header declares, in bytes: the pcap
/// link type's FCS bits (present bit 26, length in 16-bit words in bits
/// 28..32), or the `if_fcslen` option (code 13, in bytes) of a pcapng
/// file's first interface. Anything unreadable declares none.
fn fcs_len(file: &[u8]) -> usize {
    let Some(magic) = file.get(..4) else { return 0 };
    let little = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        [0x0a, 0x0d, 0x0d, 0x0a] => return pcapng_fcs_len(file),
        _ => return 0,
    };
    let word = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = file.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) })
    };
    let Some(linktype) = word(20) else { return 0 };
    if linktype & 0x0400_0000 == 0 {
        return 0;
    }
    ((linktype >> 28) as usize) * 2
}

/// The `if_fcslen` of a pcapng file's first interface description.
fn pcapng_fcs_len(file: &[u8]) -> usize {
    const PCAPNG_SECTION: u32 = 0x0a0d_0d0a;
    const PCAPNG_INTERFACE: u32 = 1;
    const IF_FCSLEN: u16 = 13;
    // The section header's byte-order magic says how to read the rest.
    let little = match file.get(8..12) {
        Some([0x4d, 0x3c, 0x2b, 0x1a]) => true,
        Some([0x1a, 0x2b, 0x3c, 0x4d]) => false,
        _ => return 0,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let bytes: [u8; 2] = file.get(at..at + 2)?.try_into().ok()?;
        Some(if little { u16::from_le_bytes(bytes) } else { u16::from_be_bytes(bytes) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = file.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) })
    };
    let mut at = 0usize;
    // Blocks up to the first interface description.
    while let (Some(kind), Some(len)) = (u32_at(at), u32_at(at + 4)) {
        let len = len as usize;
        if len < 12 || at.checked_add(len).is_none_or(|end| end > file.len()) {
            return 0;
        }
        if kind == PCAPNG_INTERFACE {
            // Link type, reserved, snap length, then options to the
            // block's trailing length.
            let (mut option, end) = (at + 16, at + len - 4);
            while option + 4 <= end {
                let (Some(code), Some(size)) = (u16_at(option), u16_at(option + 2)) else { return 0 };
                if code == 0 {
                    break;
                }
                if code == IF_FCSLEN && size == 1 {
                    return file.get(option + 4).map_or(0, |&n| usize::from(n));
                }
                option += 4 + usize::from(size).div_ceil(4) * 4;
            }
            return 0;
        }
        if kind != PCAPNG_SECTION && at == 0 {
            return 0;
        }
        at += len;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::fcs_len;

    fn pcap_header(linktype: u32) -> Vec<u8> {
        let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&65535u32.to_le_bytes());
        header.extend_from_slice(&linktype.to_le_bytes());
        header
    }

    #[test]
    fn reads_the_fcs_length_of_a_pcap_link_type() {
        assert_eq!(fcs_len(&pcap_header(1)), 0);
        // Present, two 16-bit words: 4 bytes.
        assert_eq!(fcs_len(&pcap_header(1 | 0x0400_0000 | (2 << 28))), 4);
        // A length without the present bit means nothing.
        assert_eq!(fcs_len(&pcap_header(1 | (2 << 28))), 0);
        assert_eq!(fcs_len(&[0xd4, 0xc3]), 0);
    }

    #[test]
    fn reads_the_if_fcslen_of_a_pcapng_interface() {
        let mut file = Vec::new();
        // Section header block: type, length 28, byte order, version, section length, length.
        file.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
        file.extend_from_slice(&28u32.to_le_bytes());
        file.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        file.extend_from_slice(&[1, 0, 0, 0]);
        file.extend_from_slice(&[0xff; 8]);
        file.extend_from_slice(&28u32.to_le_bytes());
        // Interface description: Ethernet, snap length, if_fcslen = 4, end of options.
        let mut idb = Vec::new();
        idb.extend_from_slice(&1u32.to_le_bytes());
        idb.extend_from_slice(&32u32.to_le_bytes());
        idb.extend_from_slice(&[1, 0, 0, 0]);
        idb.extend_from_slice(&65535u32.to_le_bytes());
        idb.extend_from_slice(&[13, 0, 1, 0, 4, 0, 0, 0]);
        idb.extend_from_slice(&[0, 0, 0, 0]);
        idb.extend_from_slice(&32u32.to_le_bytes());
        file.extend_from_slice(&idb);
        assert_eq!(fcs_len(&file), 4);
        file[28 + 16] = 12; // another option code
        assert_eq!(fcs_len(&file), 0);
        assert_eq!(fcs_len(&file[..30]), 0);
    }
}
