//! The authentication trailer of keyed mode: the last 32 bytes of every
//! whohas frame a keyed station sends (see `docs/SECURITY.md`).
//!
//! ```text
//! offset from the trailer's start
//!      0     4  epoch: the sender's random number for this run, big endian
//!      4     4  counter: the sender's frame counter in this epoch, big endian
//!      8     4  echo epoch: a name-ARP reply's copy of its request's epoch
//!     12     4  echo counter: ... and counter (both zero in other frames)
//!     16    16  tag: HMAC-SHA-256 of the whole frame up to here (Ethernet
//!               header, body, the 16 bytes above), truncated to 16 bytes
//! ```
//!
//! The trailer is the end of the frame: a sender that pads a short frame
//! to Ethernet's 60 bytes pads before the trailer. The fields an original
//! C station reads come first and are unchanged.
//!
//! A receiver accepts a sender's frames only after a handshake of this run
//! (ethertype [`KEYED`](super::EtherType::KEYED), itself signed): it
//! challenges the sender with a fresh nonce, and the answer that echoes it
//! marks from which counter of which epoch that sender's frames are new.
//!
//! ```text
//! handshake body, before its trailer
//!      0     1  kind: 1 challenge, 2 answer
//!      1     3  reserved: sent zero, ignored
//!      4     8  nonce: the sender's challenge (0 in an answer that asks
//!               nothing back)
//!     12     8  echo: the challenge an answer answers (0 in a challenge)
//!     20     4  cause epoch: a challenge's copy of the stamp of the frame
//!     24     4  cause counter: that made it (0 in an answer)
//! ```

use super::{Error, Result};

mod field {
    use core::ops::Range;
    pub const KIND: usize = 0;
    pub const NONCE: Range<usize> = 4..12;
    pub const ECHO: Range<usize> = 12..20;
    pub const CAUSE_EPOCH: Range<usize> = 20..24;
    pub const CAUSE_COUNTER: Range<usize> = 24..28;

    pub const EPOCH: Range<usize> = 0..4;
    pub const COUNTER: Range<usize> = 4..8;
    pub const ECHO_EPOCH: Range<usize> = 8..12;
    pub const ECHO_COUNTER: Range<usize> = 12..16;
    pub const TAG: Range<usize> = 16..32;
}

/// Length of the trailer.
pub const TRAILER_LEN: usize = field::TAG.end;
/// Length of the tag.
pub const TAG_LEN: usize = 16;
/// What the tag covers after the body: the trailer's fields before it.
pub const COVERED_LEN: usize = field::TAG.start;

/// Where a frame's sender was in its numbering: the freshness of a frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stamp {
    /// The sender's epoch (random per run, never zero).
    pub epoch: u32,
    /// The frame's number in that epoch (from 1).
    pub counter: u32,
}

/// The fields of a trailer, without the tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthRepr {
    /// The sender's stamp for this frame.
    pub stamp: Stamp,
    /// A reply's copy of its request's stamp; zero in other frames.
    pub echo: Stamp,
}

impl AuthRepr {
    /// Splits `frame` into what the tag covers, the trailer's fields and
    /// the tag. The frame must hold a trailer after an Ethernet header.
    pub fn parse(frame: &[u8]) -> Result<(&[u8], AuthRepr, &[u8])> {
        if frame.len() < super::ethernet::HEADER_LEN + TRAILER_LEN {
            return Err(Error::Truncated);
        }
        let trailer = &frame[frame.len() - TRAILER_LEN..];
        let word = |range: core::ops::Range<usize>| {
            u32::from_be_bytes([
                trailer[range.start],
                trailer[range.start + 1],
                trailer[range.start + 2],
                trailer[range.start + 3],
            ])
        };
        let repr = AuthRepr {
            stamp: Stamp { epoch: word(field::EPOCH), counter: word(field::COUNTER) },
            echo: Stamp { epoch: word(field::ECHO_EPOCH), counter: word(field::ECHO_COUNTER) },
        };
        let covered = &frame[..frame.len() - TRAILER_LEN + COVERED_LEN];
        Ok((covered, repr, &trailer[field::TAG]))
    }

    /// Writes the fields before the tag into `trailer`, which is
    /// [`TRAILER_LEN`] bytes; the caller writes the tag.
    pub fn emit(&self, trailer: &mut [u8]) {
        trailer[field::EPOCH].copy_from_slice(&self.stamp.epoch.to_be_bytes());
        trailer[field::COUNTER].copy_from_slice(&self.stamp.counter.to_be_bytes());
        trailer[field::ECHO_EPOCH].copy_from_slice(&self.echo.epoch.to_be_bytes());
        trailer[field::ECHO_COUNTER].copy_from_slice(&self.echo.counter.to_be_bytes());
    }

    /// Where the tag goes in a trailer.
    pub const TAG: core::ops::Range<usize> = field::TAG;
}

/// Length of a handshake body.
pub const HANDSHAKE_LEN: usize = field::CAUSE_COUNTER.end;

/// A keyed-mode handshake message: the body of a frame of ethertype
/// [`KEYED`](super::EtherType::KEYED), before its trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Handshake {
    /// "Show me you are live": refuses the frame stamped `cause` until the
    /// sender answers `nonce`.
    Challenge {
        /// A fresh random number, never zero.
        nonce: u64,
        /// The stamp of the refused frame that made the challenge.
        cause: Stamp,
    },
    /// Echoes a challenge's nonce; the answer's own stamp is where the
    /// answerer's new frames start. `ask` challenges the challenger back,
    /// when the answerer does not know its current epoch.
    Answer {
        /// The nonce of the challenge answered, never zero.
        echo: u64,
        /// The answerer's challenge back, if any.
        ask: Option<u64>,
    },
}

impl Handshake {
    /// Parses a handshake body (trailer removed); bytes after it are
    /// padding and ignored, as are the reserved bytes.
    pub fn parse(body: &[u8]) -> Result<Handshake> {
        if body.len() < HANDSHAKE_LEN {
            return Err(Error::Truncated);
        }
        let u64_at = |range: core::ops::Range<usize>| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&body[range]);
            u64::from_be_bytes(bytes)
        };
        let u32_at = |range: core::ops::Range<usize>| {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&body[range]);
            u32::from_be_bytes(bytes)
        };
        let (nonce, echo) = (u64_at(field::NONCE), u64_at(field::ECHO));
        match body[field::KIND] {
            1 if nonce != 0 => Ok(Handshake::Challenge {
                nonce,
                cause: Stamp { epoch: u32_at(field::CAUSE_EPOCH), counter: u32_at(field::CAUSE_COUNTER) },
            }),
            2 if echo != 0 => Ok(Handshake::Answer { echo, ask: (nonce != 0).then_some(nonce) }),
            _ => Err(Error::Unsupported),
        }
    }

    /// Writes the body into the first [`HANDSHAKE_LEN`] bytes of `body`.
    pub fn emit(&self, body: &mut [u8]) {
        let body = &mut body[..HANDSHAKE_LEN];
        body.fill(0);
        match *self {
            Handshake::Challenge { nonce, cause } => {
                body[field::KIND] = 1;
                body[field::NONCE].copy_from_slice(&nonce.to_be_bytes());
                body[field::CAUSE_EPOCH].copy_from_slice(&cause.epoch.to_be_bytes());
                body[field::CAUSE_COUNTER].copy_from_slice(&cause.counter.to_be_bytes());
            }
            Handshake::Answer { echo, ask } => {
                body[field::KIND] = 2;
                body[field::NONCE].copy_from_slice(&ask.unwrap_or(0).to_be_bytes());
                body[field::ECHO].copy_from_slice(&echo.to_be_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The challenge and answer of docs/PROTOCOL.md, byte for byte.
    #[test]
    fn handshakes_are_pinned_to_bytes_and_round_trip() {
        let challenge =
            Handshake::Challenge { nonce: 0x0123_4567_89ab_cdef, cause: Stamp { epoch: 0x896c_dd1d, counter: 1 } };
        let mut body = [0xa5u8; HANDSHAKE_LEN + 4];
        challenge.emit(&mut body);
        assert_eq!(
            body[..HANDSHAKE_LEN],
            [
                1, 0, 0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 0, 0, 0, 0, 0, 0, 0, 0x89, 0x6c, 0xdd,
                0x1d, 0, 0, 0, 1
            ]
        );
        assert_eq!(Handshake::parse(&body), Ok(challenge), "the padding after it is ignored");
        let answer = Handshake::Answer { echo: 0x0123_4567_89ab_cdef, ask: Some(0xfeed) };
        answer.emit(&mut body);
        assert_eq!(body[..4], [2, 0, 0, 0]);
        assert_eq!(body[4..12], 0xfeedu64.to_be_bytes());
        assert_eq!(Handshake::parse(&body), Ok(answer));
        body[1] = 0xff;
        assert_eq!(Handshake::parse(&body), Ok(answer), "reserved bytes are ignored");
    }

    #[test]
    fn impossible_handshakes_are_refused() {
        let mut body = [0u8; HANDSHAKE_LEN];
        assert_eq!(Handshake::parse(&body[..HANDSHAKE_LEN - 1]), Err(Error::Truncated));
        body[0] = 1;
        assert_eq!(Handshake::parse(&body), Err(Error::Unsupported), "a challenge without a nonce");
        body[0] = 2;
        assert_eq!(Handshake::parse(&body), Err(Error::Unsupported), "an answer that echoes nothing");
        body[0] = 3;
        body[12] = 1;
        assert_eq!(Handshake::parse(&body), Err(Error::Unsupported), "an unknown kind");
    }
}
