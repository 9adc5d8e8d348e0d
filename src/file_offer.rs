//! The file layer over the reliable transfer: what `whohas send --file`
//! puts in a stream's opening header, and the verdicts `whohas receive`
//! returns (see `docs/PROTOCOL.md`).
//!
//! A sender offers a file in one of two kinds. whohas sends kind 2: the
//! SHA-256 follows the content, as the stream's last 32 bytes, so the file
//! is read once, hashed while it is sent, and the first byte goes out at
//! once however large the file. Receivers also take kind 1, whose offer
//! carries the SHA-256 up front (what whohas sent before).
//!
//! ```text
//! kind 2                                  kind 1
//! offset  size  field                     offset  size  field
//!      0     1  kind: 2                        0     1  kind: 1
//!      1     8  size in bytes, big endian      1     8  size in bytes, big endian
//!      9     1  name length n (1 to 255)       9    32  SHA-256 of the content
//!     10     n  the file's name                41     1  name length n (1 to 255)
//!                                             42     n  the file's name
//! ```
//!
//! A name has no directory, no `/`, no NUL, and is not `.` or `..`.

use std::fmt;

/// Kind byte of an offer whose SHA-256 follows the content.
const KIND_DIGEST_AFTER: u8 = 2;
/// Kind byte of an offer that carries the SHA-256 itself.
const KIND_DIGEST_AHEAD: u8 = 1;
/// Longest file name (Linux's NAME_MAX).
pub const FILE_NAME_MAX: usize = 255;
/// Bytes of a SHA-256.
pub const DIGEST_LEN: usize = 32;

/// The verdicts of a receiver (FIN-ACK and RESET status codes of the
/// application's own range).
pub mod verdict {
    pub use whohas_core::transfer::status::{ABORTED, BUSY, OK, REFUSED};
    /// The content's SHA-256 or size is not what the sender said.
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
    /// The SHA-256 of its content, if the offer carries it (kind 1);
    /// `None`: it follows the content (kind 2).
    pub sha256: Option<[u8; DIGEST_LEN]>,
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
        let (&kind, rest) = header.split_first().ok_or(OfferError::Malformed)?;
        let size = rest.get(..8).ok_or(OfferError::Malformed)?;
        let size = u64::from_be_bytes(size.try_into().map_err(|_| OfferError::Malformed)?);
        let (sha256, rest) = match kind {
            KIND_DIGEST_AFTER => (None, &rest[8..]),
            KIND_DIGEST_AHEAD => {
                let digest = rest.get(8..8 + DIGEST_LEN).ok_or(OfferError::Malformed)?;
                (Some(digest.try_into().map_err(|_| OfferError::Malformed)?), &rest[8 + DIGEST_LEN..])
            }
            _ => return Err(OfferError::Malformed),
        };
        match rest.split_first() {
            Some((&len, name)) if name.len() == usize::from(len) => Ok(FileOffer { size, sha256, name: name.to_vec() }),
            _ => Err(OfferError::Malformed),
        }
    }

    /// The opening header for this offer.
    pub fn encode(&self) -> Result<Vec<u8>, OfferError> {
        if !is_plain_name(&self.name) {
            return Err(OfferError::BadName);
        }
        let mut header = Vec::with_capacity(1 + 8 + DIGEST_LEN + 1 + self.name.len());
        header.push(if self.sha256.is_some() { KIND_DIGEST_AHEAD } else { KIND_DIGEST_AFTER });
        header.extend_from_slice(&self.size.to_be_bytes());
        if let Some(digest) = &self.sha256 {
            header.extend_from_slice(digest);
        }
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
        let offer = FileOffer { size: 1 << 40, sha256: None, name: b"report.pdf".to_vec() };
        let header = offer.encode().unwrap();
        assert_eq!(header, b"\x02\x00\x00\x01\x00\x00\x00\x00\x00\x0areport.pdf");
        assert_eq!(FileOffer::parse(&header), Ok(offer));
        let ahead = FileOffer { size: 6, sha256: Some([7; 32]), name: b"a".to_vec() };
        let header = ahead.encode().unwrap();
        assert_eq!((header.len(), header[0], &header[9..41]), (43, 1, &[7; 32][..]));
        assert_eq!(FileOffer::parse(&header), Ok(ahead));
        for bad in [&b""[..], b".", b"..", b"../etc/passwd", b"/etc/passwd", b"a/b", b"nul\0byte", &[b'x'; 256]] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        let mut sneaky = FileOffer { size: 1, sha256: None, name: b"ok".to_vec() }.encode().unwrap();
        sneaky.truncate(10);
        sneaky.push(b'/');
        sneaky[9] = 1;
        assert_eq!(FileOffer::parse(&sneaky), Err(OfferError::BadName));
        assert!(is_plain_name(b".hidden") && is_plain_name("caf\u{e9}.txt".as_bytes()));
    }

    #[test]
    fn offers_that_do_not_add_up_are_malformed() {
        let header = FileOffer { size: 1, sha256: None, name: b"ok".to_vec() }.encode().unwrap();
        for cut in 0..header.len() {
            assert_eq!(FileOffer::parse(&header[..cut]), Err(OfferError::Malformed), "{cut} bytes");
        }
        let mut longer = header.clone();
        longer.push(b'x');
        assert_eq!(FileOffer::parse(&longer), Err(OfferError::Malformed));
        for kind in [0, 3, 0xff] {
            let mut other = header.clone();
            other[0] = kind;
            assert_eq!(FileOffer::parse(&other), Err(OfferError::Malformed), "kind {kind}");
        }
        let ahead = FileOffer { size: 1, sha256: Some([0; 32]), name: b"ok".to_vec() }.encode().unwrap();
        assert_eq!(FileOffer::parse(&ahead[..42]), Err(OfferError::Malformed));
    }
}
