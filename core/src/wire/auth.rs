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

use super::{Error, Result};

mod field {
    use core::ops::Range;
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
