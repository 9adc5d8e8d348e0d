//! Station names: what name-ARP resolves.

use core::borrow::Borrow;
use core::fmt;

/// Longest name, in bytes, that whohas sends, accepts or caches.
///
/// The original C program has no limit of its own beyond its frame buffer;
/// 64 bytes holds any host name label (63) and keeps a name-ARP frame well
/// under the 60-byte minimum plus one cache line.
pub const NAME_MAX: usize = 64;

/// A station name: 1 to [`NAME_MAX`] arbitrary bytes.
///
/// Names are compared byte for byte; they need not be UTF-8 (the C original
/// treats them as plain bytes), although they display as text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    bytes: heapless::Vec<u8, NAME_MAX, u8>,
}

/// Why some bytes are not a valid [`Name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameError {
    /// The name has no bytes.
    Empty,
    /// The name is longer than [`NAME_MAX`]; `len` is its length.
    TooLong {
        /// Length of the rejected name in bytes.
        len: usize,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("a name must have at least one byte"),
            NameError::TooLong { len } => {
                write!(f, "a name is {len} bytes long but names are limited to {NAME_MAX} bytes")
            }
        }
    }
}

impl core::error::Error for NameError {}

impl Name {
    /// The empty placeholder a free slot holds; never a station's name.
    pub(crate) const EMPTY: Name = Name { bytes: heapless::Vec::new() };

    /// Validates and copies `bytes` into a name.
    pub fn new(bytes: &[u8]) -> Result<Self, NameError> {
        if bytes.is_empty() {
            return Err(NameError::Empty);
        }
        heapless::Vec::from_slice(bytes)
            .map(|bytes| Name { bytes })
            .map_err(|_| NameError::TooLong { len: bytes.len() })
    }

    /// The bytes of the name.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes, `1..=NAME_MAX`.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: a name has at least one byte. Present for clippy's
    /// `len_without_is_empty` convention.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl TryFrom<&[u8]> for Name {
    type Error = NameError;
    fn try_from(bytes: &[u8]) -> Result<Self, NameError> {
        Name::new(bytes)
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;
    fn try_from(text: &str) -> Result<Self, NameError> {
        Name::new(text.as_bytes())
    }
}

impl core::str::FromStr for Name {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Self, NameError> {
        Name::new(text.as_bytes())
    }
}

impl Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for Name {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Shown by the one escaping rule of [`escape`](super::escape), so a hostile
/// name cannot corrupt a terminal.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&super::Escaped::new(&self.bytes), f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Name {
    fn format(&self, f: defmt::Formatter<'_>) {
        match core::str::from_utf8(&self.bytes) {
            Ok(text) => defmt::write!(f, "\"{=str}\"", text),
            Err(_) => defmt::write!(f, "{=[u8]:x}", &self.bytes[..]),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn accepts_one_to_name_max_bytes() {
        assert_eq!(Name::new(b"").unwrap_err(), NameError::Empty);
        assert_eq!(Name::new(b"x").unwrap().len(), 1);
        assert_eq!(Name::new(&[b'a'; NAME_MAX]).unwrap().len(), NAME_MAX);
        assert_eq!(Name::new(&[b'a'; NAME_MAX + 1]).unwrap_err(), NameError::TooLong { len: NAME_MAX + 1 });
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let err = Name::new(&[b'a'; 70]).unwrap_err();
        assert_eq!(format!("{err}"), "a name is 70 bytes long but names are limited to 64 bytes");
    }

    #[test]
    fn displays_non_text_bytes_escaped() {
        let name = Name::new(b"VM\x002\xff\n\\").unwrap();
        assert_eq!(format!("{name}"), "VM\\x002\\xff\\x0a\\\\");
        assert_eq!(format!("{:?}", Name::try_from("h\u{e9}").unwrap()), "\"h\u{e9}\"");
    }
}
