//! How much a host's nodes and services hold: every capacity of the
//! `whohas` program, in one place. The command line names these types and
//! never a number.

use crate::presence::Presence;
use crate::scan::Scanner;
use crate::transfer::Transfer;

/// A host node's storage: 64 names and 64 IPv4 addresses cached, 8
/// resolutions of each at once (a chat resolves everyone who speaks), 2 KiB
/// of queued data.
pub type HostResources = crate::Resources<64, 8, 64, 8, 2048>;

/// The window of a host's connections: 1024 segments (1.5 MiB) in flight,
/// so a lossy link keeps flowing while holes are repaired.
const HOST_WINDOW: usize = 1024;

/// The transfer of a station that receives: 8 connections at once.
pub type ReceiverTransfer = Transfer<8, HOST_WINDOW>;

/// The transfer of a station that sends one file or message.
pub type SenderTransfer = Transfer<1, HOST_WINDOW>;

/// The presence table of a chat: up to 256 stations.
pub type ChatPresence = Presence<256>;

/// The transfer of a chat: 32 connections at once (one per peer and
/// direction, closed after 30 s idle: a room of six where everyone talks
/// to everyone holds ten), 64 segments in flight each: about 3 MB.
pub type ChatTransfer = Transfer<32, 64>;

/// The table of a scan: the largest range scanned at once, a /16.
pub type ScanTable = Scanner<65_536>;

/// The table of an IPv6 scan: addresses heard on one link.
pub type Ipv6ScanTable = crate::scan::Ipv6Scanner<4096>;
