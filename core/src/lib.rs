//! # whohas-core
//!
//! The protocol core of whohas: find stations on an Ethernet segment by
//! *name*. A node broadcasts "who has VM2?" (name-ARP, ethertype `0xFFFE`),
//! the station called VM2 answers with its MAC address, and the two exchange
//! data frames (ethertype `0xFFFD`), byte-compatible with the original C
//! program (see `docs/PROTOCOL.md`).
//!
//! `#![no_std]`, no `alloc`, no `unsafe`: every buffer is a fixed-size field
//! or a stack array, sized by const generics where a node is built
//! ([`Resources`]). The core never reads a clock;
//! callers pass [`time::Instant`]s in.
//!
//! - [`wire`]: zero-copy packet views and parsed representations.
//! - [`device`]: the [`LinkDevice`] trait (from `whohas-link`, the crate
//!   drivers implement), an in-memory [`Segment`] and wrapper devices.
//! - [`station`]: the node's own protocols (name-ARP, ARP, data) seen at one
//!   instant: the [`Station`] handlers and services act through, its
//!   state, the node's [`Event`]s, and the [`Resources`] a node stores in.
//! - [`service`]: the [`Service`](service::Service) trait for protocols a
//!   node hosts beside its own, each with its own event type: [`scan`],
//!   [`presence`], and [`transfer`], reliable messages and streams.
//! - [`runtime`]: the [`Handler`](runtime::Handler) trait, the
//!   [`Context`](runtime::Context) a handler acts through, and the clocks.
//! - [`node`]: the [`Node`] that puts a device, its station and its
//!   services together and runs them in one loop, [`Node::run`].
//! - [`neighbor`]: the bounded, expiring address cache.
//! - [`blocking`]: resolve a name with an `embedded-hal` delay, no clock needed.
//!
//! Modules depend on each other in that order (wire, device, station,
//! service, runtime, node), never back: a test checks the import graph.
//!
//! VM2 answers every message it receives, from inside its handler:
//!
//! ```
//! use whohas_core::device::Segment;
//! use whohas_core::runtime::from_fn;
//! use whohas_core::time::Instant;
//! use whohas_core::wire::{EthernetAddress, Name};
//! use whohas_core::{Config, Event, Node, Resources};
//!
//! let segment: Segment<2, 8> = Segment::new();
//! let vm1_port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
//! let vm2_port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 2])).unwrap();
//! let (mut vm1_storage, mut vm2_storage) = (Resources::<8>::new(), Resources::<8>::new());
//! let mut vm1: Node<_> = Node::new(vm1_port, Name::try_from("VM1").unwrap(), Config::default(), &mut vm1_storage);
//! let mut vm2: Node<_> = Node::new(vm2_port, Name::try_from("VM2").unwrap(), Config::default(), &mut vm2_storage);
//!
//! let now = Instant::ZERO;
//! vm1.at(now).send(&Name::try_from("VM2").unwrap(), b"hello").unwrap(); // queued, request broadcast
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
pub mod station;
pub mod time;
pub mod transfer;
pub mod wire;

/// The `nb` crate, whose `Result` the [`LinkDevice`] methods return.
pub use nb;

pub use device::{Capabilities, LinkDevice, Segment};
pub use node::Node;
pub use station::{Config, Event, Resources, Station};
pub use time::{Duration, Instant};
pub use wire::{EthernetAddress, Name};
