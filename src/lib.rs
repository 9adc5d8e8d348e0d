//! # whohas
//!
//! Find stations on an Ethernet segment by name, send them messages, scan
//! with RFC 826 ARP, replay, inject and decode captures. This crate is the
//! `whohas` program and the library behind it:
//!
//! - the protocol core, re-exported ([`whohas_core`]): the node, its
//!   runtime, wire formats, devices;
//! - behind features, the host backends: `linux` (default): [`linux`],
//!   `LinkDevice` over AF_PACKET raw sockets; `pcap` (default): [`pcap`],
//!   `LinkDevice` over libpcap, live and offline;
//! - [`host`]: the host clock the node's run loop sleeps on;
//! - [`replay`]: a node run over a capture file, in capture time;
//! - [`decode`]: a tshark-style decoder of captures;
//! - [`file_offer`]: the file layer over the reliable transfer;
//! - [`cli`]: every subcommand of the `whohas` program, reusable: a program
//!   that depends on this crate can run them or borrow their handlers.
pub use whohas_core::*;

#[cfg(feature = "linux")]
pub use whohas_hal_linux as linux;

#[cfg(feature = "pcap")]
pub use whohas_hal_pcap as pcap;

#[cfg(all(feature = "linux", feature = "pcap"))]
pub mod cli;
#[cfg(feature = "pcap")]
pub mod decode;
pub mod file_offer;
pub mod host;
#[cfg(feature = "pcap")]
pub mod replay;
pub mod storage;
