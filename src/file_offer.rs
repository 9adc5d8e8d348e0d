//! The file layer over the reliable transfer: what `whohas send --file`
//! puts in a stream's opening header, and the verdicts `whohas receive`
//! returns (see `docs/PROTOCOL.md`).
//!
//! ```text
//! offset  size  field
//!      0     1  kind: 1 (a file)
//!      1     8  size in bytes, big endian
//!      9    32  SHA-256 of the content
//!     41     1  name length n (1 to 255)
//!     42     n  the file's name: no directory, no `/`, no NUL, not `.` or `..`
//! ```

use std::fmt;

/// Kind byte of a file offer.
const KIND_FILE: u8 = 1;
/// Longest file name (Linux's NAME_MAX).
pub const FILE_NAME_MAX: usize = 255;
const FIXED_LEN: usize = 42;

/// The verdicts of a receiver (FIN-ACK and RESET status codes of the
/// application's own range).
pub mod verdict {
    pub use whohas_core::transfer::status::{ABORTED, BUSY, OK, REFUSED};
    /// The content's SHA-256 or size is not what the offer said.
    pub const HASH_MISMATCH: u16 = 16;
    /// The offered name has a path in it, or is not a name.
    pub const BAD_NAME: u16 = 17;
    /// The receiver could not write the file.
    pub const CANNOT_SAVE: u16 = 18;
    /// The offer could not be read.
    pub const BAD_OFFER: u16 = 19;

    /// What a verdict means, for the sender's message.
    pub fn describe(code: u16) -> String {
        match code {
            OK => "accepted".to_owned(),
            REFUSED => "refused by the receiver".to_owned(),
            BUSY => "the receiver is busy".to_owned(),
            ABORTED => "aborted by the receiver".to_owned(),
            HASH_MISMATCH => "the receiver's copy does not match the SHA-256 (it was not kept)".to_owned(),
            BAD_NAME => "the receiver refuses the file's name".to_owned(),
            CANNOT_SAVE => "the receiver could not save the file".to_owned(),
            BAD_OFFER => "the receiver could not read the offer".to_owned(),
            other => format!("the receiver answered status {other}"),
        }
    }

    /// Why a transfer failed, in the receiver's terms where it gave a
    /// verdict (said once: "refused by the receiver", not "the receiver
    /// refused the transfer: refused by the receiver").
    pub fn explain(failure: whohas_core::transfer::Failure) -> String {
        use whohas_core::transfer::Failure;
        match failure {
            Failure::Refused(code) | Failure::Reset(code) => describe(code),
            other => other.to_string(),
        }
    }
}

/// A file, as its sender offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its content.
    pub sha256: [u8; 32],
    /// Its name (a single path component).
    pub name: Vec<u8>,
}

/// Why an offer is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferError {
    /// The header is not a file offer.
    Malformed,
    /// The name is empty, `.`, `..`, too long, or holds `/` or NUL.
    BadName,
}

impl fmt::Display for OfferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OfferError::Malformed => "not a file offer",
            OfferError::BadName => "the file's name is empty, a path, or not a name",
        })
    }
}

impl std::error::Error for OfferError {}

/// Whether `name` is a single, plain path component: a received file never
/// escapes its directory.
pub fn is_plain_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= FILE_NAME_MAX
        && name != b"."
        && name != b".."
        && !name.iter().any(|&b| b == b'/' || b == 0)
}

impl FileOffer {
    /// Reads an offer from a stream's opening header.
    pub fn parse(header: &[u8]) -> Result<FileOffer, OfferError> {
        let offer = Self::parse_fields(header)?;
        if !is_plain_name(&offer.name) {
            return Err(OfferError::BadName);
        }
        Ok(offer)
    }

    /// Reads an offer's fields without judging its name: for showing what a
    /// sender offered (a decoder shows the path an attacker tried).
    pub fn parse_fields(header: &[u8]) -> Result<FileOffer, OfferError> {
        if header.len() < FIXED_LEN || header[0] != KIND_FILE {
            return Err(OfferError::Malformed);
        }
        let size = u64::from_be_bytes(header[1..9].try_into().map_err(|_| OfferError::Malformed)?);
        let sha256 = header[9..41].try_into().map_err(|_| OfferError::Malformed)?;
        let len = usize::from(header[41]);
        let name = header.get(FIXED_LEN..FIXED_LEN + len).ok_or(OfferError::Malformed)?;
        if header.len() != FIXED_LEN + len {
            return Err(OfferError::Malformed);
        }
        Ok(FileOffer { size, sha256, name: name.to_vec() })
    }

    /// The opening header for this offer.
    pub fn encode(&self) -> Result<Vec<u8>, OfferError> {
        if !is_plain_name(&self.name) {
            return Err(OfferError::BadName);
        }
        let mut header = Vec::with_capacity(FIXED_LEN + self.name.len());
        header.push(KIND_FILE);
        header.extend_from_slice(&self.size.to_be_bytes());
        header.extend_from_slice(&self.sha256);
        header.push(self.name.len() as u8);
        header.extend_from_slice(&self.name);
        Ok(header)
    }
}

/// Hex of a hash.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_round_trip_and_paths_are_refused() {
        let offer = FileOffer { size: 1 << 40, sha256: [7; 32], name: b"report.pdf".to_vec() };
        let header = offer.encode().unwrap();
        assert_eq!(header.len(), 42 + 10);
        assert_eq!(FileOffer::parse(&header), Ok(offer));
        for bad in [&b""[..], b".", b"..", b"../etc/passwd", b"/etc/passwd", b"a/b", b"nul\0byte", &[b'x'; 256]] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        let mut sneaky = FileOffer { size: 1, sha256: [0; 32], name: b"ok".to_vec() }.encode().unwrap();
        sneaky.truncate(42);
        sneaky.push(b'/');
        sneaky[41] = 1;
        assert_eq!(FileOffer::parse(&sneaky), Err(OfferError::BadName));
        assert_eq!(FileOffer::parse(b"\x02rest"), Err(OfferError::Malformed));
        assert!(is_plain_name(b".hidden") && is_plain_name("caf\u{e9}.txt".as_bytes()));
    }
}
