//! # whohas-core
//!
//! The protocol core of whohas: find stations on an Ethernet segment by
//! *name*. A node broadcasts "who has VM2?" (name-ARP, ethertype `0xFFFE`),
//! the station called VM2 answers with its MAC address, and the two exchange
//! data frames (ethertype `0xFFFD`), byte-compatible with the original C
//! program (see `docs/PROTOCOL.md`).
//!
//! `#![no_std]`, no `alloc`, no `unsafe`: every buffer is a fixed-size field
//! or a stack array, sized by const generics. The core never reads a clock;
//! callers pass [`time::Instant`]s in.
//!
//! - [`wire`]: zero-copy packet views and parsed representations.
//! - [`device`]: the [`LinkDevice`] trait, an in-memory [`Segment`] and a
//!   fault injector.
//! - [`node`]: the [`Node`] state machine (name-ARP, ARP, data) and the
//!   [`Context`](node::Context) a handler acts through.
//! - [`runtime`]: the [`Handler`](runtime::Handler) trait and the clocks the
//!   node's one loop, [`Node::run`], runs on.
//! - [`service`]: protocols a node hosts beside its own: [`scan`], and
//!   [`transfer`], reliable messages and streams to a named station.
//! - [`neighbor`]: the bounded, expiring address cache.
//! - [`blocking`]: resolve a name with an `embedded-hal` delay, no clock needed.
//!
//! VM2 answers every message it receives, from inside its handler:
//!
//! ```
//! use whohas_core::device::Segment;
//! use whohas_core::node::{Config, Event, Node};
//! use whohas_core::runtime::from_fn;
//! use whohas_core::time::Instant;
//! use whohas_core::wire::{EthernetAddress, Name};
//!
//! let segment: Segment<2, 8> = Segment::new();
//! let vm1_port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
//! let vm2_port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 2])).unwrap();
//! let mut vm1: Node<_> = Node::new(vm1_port, Name::try_from("VM1").unwrap(), Config::default());
//! let mut vm2: Node<_> = Node::new(vm2_port, Name::try_from("VM2").unwrap(), Config::default());
//!
//! let now = Instant::ZERO;
//! vm1.send(now, &Name::try_from("VM2").unwrap(), b"hello").unwrap(); // queued, request broadcast
//! let mut vm2_handler = from_fn(|ctx, event| {
//!     if let Event::Data { from, .. } = event {
//!         ctx.send_to_address(from, b"Nice to meet you!\n").unwrap();
//!     }
//! });
//! vm2.poll(now, &mut vm2_handler).unwrap(); // VM2 answers the request
//! vm1.poll(now, &mut from_fn(|_, _| {})).unwrap(); // VM1 caches VM2's MAC and sends the data
//! vm2.poll(now, &mut vm2_handler).unwrap(); // VM2 answers the message
//! let mut got = None;
//! vm1.poll(now, &mut from_fn(|_, event| {
//!     if let Event::Data { payload, .. } = event {
//!         got = Some(payload.to_vec());
//!     }
//! }))
//! .unwrap();
//! assert_eq!(got.as_deref(), Some(&b"Nice to meet you!\n"[..]));
//! ```
#![no_std]
#![deny(unsafe_code)]

#[macro_use]
mod fmt;

#[cfg(feature = "auth")]
pub mod auth;
pub mod blocking;
pub mod device;
pub mod neighbor;
pub mod node;
pub mod presence;
pub mod queue;
mod resolver;
pub mod rng;
pub mod runtime;
pub mod scan;
pub mod service;
pub mod time;
pub mod transfer;
pub mod wire;

/// The `nb` crate, whose `Result` the [`LinkDevice`] methods return.
pub use nb;

pub use device::{Capabilities, LinkDevice, Segment};
pub use node::{Config, Event, Node};
pub use time::{Duration, Instant};
pub use wire::{EthernetAddress, Name};
