//! # whohas-hal-pcap
//!
//! whohas over libpcap:
//!
//! - [`LiveDevice`]: a [`LinkDevice`](whohas_link::LinkDevice) capturing and
//!   injecting on an interface (non-blocking, immediate mode, BPF filter),
//!   with [`Wait`](whohas_link::Wait) for a host clock.
//! - [`PcapFileWriter`]: write a savefile; [`PcapTee`]: wrap any device and
//!   record every frame it sends and receives (like smoltcp's `PcapWriter`).
//! - [`CaptureReader`]: read a savefile's frames, checked to be Ethernet.
//!
//! This crate is a backend only: it knows frames, not the protocols above
//! them, and depends on `whohas-link`, not on the protocol core (running a
//! node over a capture, in capture time, is the `whohas` crate's `replay`). Errors are [`Error`]s with one-line messages that say what to do.

mod error;
mod live;
mod reader;
mod writer;

pub use error::Error;
pub use live::{LiveDevice, LiveOptions, ethertype_filter};
pub use reader::{CaptureReader, Frame};
pub use writer::{PcapFileWriter, PcapTee};

/// The time since the Unix epoch: the timestamps of captures.
pub fn unix_now() -> std::time::Duration {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
}
