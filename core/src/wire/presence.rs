//! Presence (ethertype 0x88B6, IEEE 802's "Local Experimental Ethertype
//! 2"): who is on the segment, serverless, the way mDNS does it: probe a
//! name, announce it, keep it alive, say goodbye. See `docs/PROTOCOL.md`.
//!
//! ```text
//! offset  size  field
//!      0     1  version: 1
//!      1     1  kind: 1 PROBE, 2 ANNOUNCE, 3 GOODBYE
//!      2     1  flags: bit 0 ANSWER (a newcomer's announcement: stations
//!               announce themselves in return)
//!      3     1  name length n (1 to 64)
//!      4     4  epoch: drawn at random when the station starts
//!      8     2  expiry: seconds to keep the sender without hearing from it
//!               (ANNOUNCE; 0 otherwise)
//!     10     n  the name (PROBE: the name asked about; else the sender's)
//! ```
//!
//! All fields big endian; bytes after the name (Ethernet padding) are
//! ignored.

use core::fmt;

use super::{Error, NAME_MAX, Name, Result};

/// Protocol version.
pub const VERSION: u8 = 1;
/// Length of the fixed header, before the name.
pub const HEADER_LEN: usize = 10;

mod field {
    use core::ops::Range;
    pub const VERSION: usize = 0;
    pub const KIND: usize = 1;
    pub const FLAGS: usize = 2;
    pub const NAME_LEN: usize = 3;
    pub const EPOCH: Range<usize> = 4..8;
    pub const EXPIRY: Range<usize> = 8..10;
}

const FLAG_ANSWER: u8 = 1 << 0;

/// What a presence frame says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PresenceKind {
    /// "Does anyone have this name?": a station about to take it.
    Probe,
    /// "I am here": on joining, as a keep-alive, and to defend a name.
    Announce,
    /// "I am leaving."
    Goodbye,
}

impl PresenceKind {
    fn code(self) -> u8 {
        match self {
            PresenceKind::Probe => 1,
            PresenceKind::Announce => 2,
            PresenceKind::Goodbye => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => PresenceKind::Probe,
            2 => PresenceKind::Announce,
            3 => PresenceKind::Goodbye,
            _ => return None,
        })
    }
}

impl fmt::Display for PresenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PresenceKind::Probe => "PROBE",
            PresenceKind::Announce => "ANNOUNCE",
            PresenceKind::Goodbye => "GOODBYE",
        })
    }
}

/// The meaning of a presence frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PresenceRepr {
    /// What the frame says.
    pub kind: PresenceKind,
    /// A newcomer's announcement: stations that hear it announce themselves.
    pub answer: bool,
    /// The sender's epoch, drawn when it started.
    pub epoch: u32,
    /// Seconds to keep the sender without hearing from it.
    pub expiry_secs: u16,
    /// The name probed, announced or leaving.
    pub name: Name,
}

impl PresenceRepr {
    /// Parses the payload of a presence frame.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        if payload.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if payload[field::VERSION] != VERSION {
            return Err(Error::Unsupported);
        }
        let kind = PresenceKind::from_code(payload[field::KIND]).ok_or(Error::Unsupported)?;
        let len = usize::from(payload[field::NAME_LEN]);
        if len == 0 {
            return Err(Error::EmptyName);
        }
        if len > NAME_MAX {
            return Err(Error::NameTooLong);
        }
        let name = payload.get(HEADER_LEN..HEADER_LEN + len).ok_or(Error::LengthBeyondBuffer)?;
        let epoch = &payload[field::EPOCH];
        let expiry = &payload[field::EXPIRY];
        Ok(PresenceRepr {
            kind,
            answer: payload[field::FLAGS] & FLAG_ANSWER != 0,
            epoch: u32::from_be_bytes([epoch[0], epoch[1], epoch[2], epoch[3]]),
            expiry_secs: u16::from_be_bytes([expiry[0], expiry[1]]),
            // Length checked above: a valid name.
            name: Name::new(name).map_err(|_| Error::NameTooLong)?,
        })
    }

    /// Length of the payload `emit` writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.name.len()
    }

    /// Writes the payload into `payload` ([`buffer_len`](Self::buffer_len)
    /// bytes).
    pub fn emit(&self, payload: &mut [u8]) {
        payload[field::VERSION] = VERSION;
        payload[field::KIND] = self.kind.code();
        payload[field::FLAGS] = if self.answer { FLAG_ANSWER } else { 0 };
        payload[field::NAME_LEN] = self.name.len() as u8;
        payload[field::EPOCH].copy_from_slice(&self.epoch.to_be_bytes());
        payload[field::EXPIRY].copy_from_slice(&self.expiry_secs.to_be_bytes());
        payload[HEADER_LEN..HEADER_LEN + self.name.len()].copy_from_slice(self.name.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announce() -> PresenceRepr {
        PresenceRepr {
            kind: PresenceKind::Announce,
            answer: true,
            epoch: 0x5eed_0001,
            expiry_secs: 30,
            name: Name::try_from("VM1").unwrap(),
        }
    }

    /// The ANNOUNCE of docs/PROTOCOL.md, byte for byte.
    #[test]
    fn the_documented_announcement_is_exact() {
        let bytes = [0x01, 0x02, 0x01, 0x03, 0x5e, 0xed, 0x00, 0x01, 0x00, 0x1e, b'V', b'M', b'1'];
        let mut out = [0u8; 13];
        announce().emit(&mut out);
        assert_eq!(out, bytes);
        let mut padded = [0u8; 46];
        padded[..13].copy_from_slice(&bytes);
        assert_eq!(PresenceRepr::parse(&padded), Ok(announce()));
    }

    #[test]
    fn round_trips_every_kind() {
        for kind in [PresenceKind::Probe, PresenceKind::Announce, PresenceKind::Goodbye] {
            let repr = PresenceRepr { kind, answer: false, ..announce() };
            let mut out = [0u8; 80];
            repr.emit(&mut out[..repr.buffer_len()]);
            assert_eq!(PresenceRepr::parse(&out[..repr.buffer_len()]), Ok(repr));
        }
    }

    #[test]
    fn rejects_what_is_not_presence() {
        let mut out = [0u8; 13];
        announce().emit(&mut out);
        assert_eq!(PresenceRepr::parse(&out[..9]), Err(Error::Truncated));
        assert_eq!(PresenceRepr::parse(&out[..12]), Err(Error::LengthBeyondBuffer));
        for (at, value, err) in [
            (0, 2, Error::Unsupported),
            (1, 0, Error::Unsupported),
            (1, 4, Error::Unsupported),
            (3, 0, Error::EmptyName),
            (3, 65, Error::NameTooLong),
        ] {
            let mut bad = out;
            bad[at] = value;
            assert_eq!(PresenceRepr::parse(&bad), Err(err), "byte {at} = {value}");
        }
    }
}
