//! # whohas
//!
//! Find stations on an Ethernet segment by name, speak RFC 826 ARP, replay
//! and inject captures. This facade re-exports the protocol core
//! ([`whohas_core`]) and, behind features, the host backends:
//!
//! - `linux` (default): [`linux`], `LinkDevice` over AF_PACKET raw sockets.
//! - `pcap` (default): [`pcap`], `LinkDevice` over libpcap, live and offline.
pub use whohas_core::*;

#[cfg(feature = "linux")]
pub use whohas_hal_linux as linux;

#[cfg(feature = "pcap")]
pub use whohas_hal_pcap as pcap;

pub mod host;
