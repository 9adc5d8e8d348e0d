//! # whohas-hal-pcap
//!
//! whohas over libpcap:
//!
//! - [`LiveDevice`]: a [`LinkDevice`](whohas_core::LinkDevice) capturing and
//!   injecting on an interface (non-blocking, immediate mode, BPF filter),
//!   with [`Wait`](whohas_core::runtime::Wait) for a host clock.
//! - [`ReplayDevice`] and [`CaptureClock`]: run a node over a capture file,
//!   frames in from the file in capture time, the node's answers out to
//!   another, deterministically.
//! - [`PcapFileWriter`]: write a savefile; [`PcapTee`]: wrap any device and
//!   record every frame it sends and receives (like smoltcp's `PcapWriter`).
//! - [`CaptureReader`]: read a savefile's frames, checked to be Ethernet.
//!
//! This crate is a backend only: it knows frames, not the protocols above
//! them. Errors are [`Error`]s with one-line messages that say what to do.

mod error;
mod live;
mod reader;
mod replay;
mod writer;

pub use error::Error;
pub use live::{LiveDevice, LiveOptions, ethertype_filter};
pub use reader::{CaptureReader, Frame};
pub use replay::{CaptureClock, ReplayDevice, ReplaySummary};
pub use writer::{PcapFileWriter, PcapTee};

/// Microseconds since the Unix epoch as a core [`Instant`](whohas_core::Instant).
pub fn unix_now() -> whohas_core::Instant {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    whohas_core::Instant::ZERO + whohas_core::Duration::from(since_epoch)
}
