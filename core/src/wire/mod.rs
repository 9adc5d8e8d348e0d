//! Wire formats: zero-copy views over byte buffers plus parsed representations.
//!
//! Each protocol follows smoltcp's pattern. A *packet* type (`EthernetFrame`,
//! `NameArpPacket`, `ArpPacket`) wraps any `AsRef<[u8]>` buffer and reads or
//! writes fields in place; `new_checked` guarantees that every accessor is
//! in bounds. A *repr* type (`EthernetRepr`, `NameArpRepr`, `ArpRepr`) is the
//! validated meaning of a packet: `parse` turns a view into a repr, or an
//! [`Error`] saying what was wrong, and `emit` writes a repr into a view.
//! Parsing never panics, whatever the bytes.

pub mod arp;
#[cfg(feature = "auth")]
pub mod auth;
mod crc;
pub mod data;
mod error;
pub mod escape;
pub mod ethernet;
pub mod icmpv6;
pub mod ipv6;
pub mod name;
pub mod name_arp;
pub mod presence;
pub mod pretty;
pub mod transfer;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use error::Error;
pub use escape::Escaped;
pub use ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
pub use icmpv6::{AdvertFlags, Icmpv6Packet, Icmpv6Repr};
pub use name::{NAME_MAX, Name, NameError};
pub use name_arp::{NameArpPacket, NameArpRepr};
pub use pretty::PrettyFrame;

/// Result of parsing wire data.
pub type Result<T> = core::result::Result<T, Error>;
