//! What a node tells its application, and why a request of the application
//! can fail.

use core::fmt;
use core::net::Ipv4Addr;

use crate::presence::PresenceEvent;
use crate::resolver::Refusal;
use crate::scan::ScanEvent;
use crate::time::Instant;
use crate::transfer::TransferEvent;
use crate::wire::{EthernetAddress, Name};

/// Something the application should know about, handed to its
/// [`Handler`](crate::runtime::Handler) together with a
/// [`Context`](super::Context) through which it can act at once.
///
/// Names are owned; a payload is borrowed and valid during the call only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'a> {
    /// A data frame arrived for this node.
    Data {
        /// The sender's MAC address.
        from: EthernetAddress,
        /// The sender's name, if this node has it cached.
        from_name: Option<Name>,
        /// The payload. A frame padded to Ethernet's 60-byte minimum has its
        /// trailing zero bytes removed (see `docs/PROTOCOL.md`).
        payload: &'a [u8],
    },
    /// The node answered a request for its own name.
    Answered {
        /// Who asked.
        requester: EthernetAddress,
    },
    /// A name this node asked for was resolved and cached.
    Resolved {
        /// The name.
        name: Name,
        /// Its MAC address.
        hardware_addr: EthernetAddress,
        /// The different MAC address the cache held for the name before
        /// (fresh or expired), if any: the station moved or was replaced.
        previous: Option<EthernetAddress>,
    },
    /// A resolution ran out of attempts without a reply.
    ResolutionFailed {
        /// The name nobody answered for.
        name: Name,
        /// Queued data frames for it that were dropped.
        dropped_frames: usize,
    },
    /// A second station answered a resolution with another MAC address
    /// (arp-scan's "DUP"). The first answer stays cached.
    NameConflict {
        /// The name two stations claim.
        name: Name,
        /// The MAC address that answered first, now cached.
        cached: EthernetAddress,
        /// The other MAC address.
        other: EthernetAddress,
    },
    /// The node answered an ARP request for one of its IPv4 addresses.
    ArpAnswered {
        /// Who asked.
        requester: EthernetAddress,
        /// The address asked for.
        address: Ipv4Addr,
    },
    /// An IPv4 address this node asked for was resolved and cached.
    ArpResolved {
        /// The address.
        address: Ipv4Addr,
        /// Its MAC address.
        hardware_addr: EthernetAddress,
        /// The different MAC address the cache held for it before, if any.
        previous: Option<EthernetAddress>,
    },
    /// An ARP resolution ran out of attempts without a reply.
    ArpResolutionFailed {
        /// The address nobody answered for.
        address: Ipv4Addr,
    },
    /// A second station answered an ARP resolution with another MAC.
    AddressConflict {
        /// The address two stations claim.
        address: Ipv4Addr,
        /// The MAC address that answered first, now cached.
        cached: EthernetAddress,
        /// The other MAC address.
        other: EthernetAddress,
    },
    /// Another station uses one of this node's IPv4 addresses as its own
    /// (a gratuitous ARP, or any ARP packet with it as the sender address).
    AddressClaimed {
        /// The node's address.
        address: Ipv4Addr,
        /// The station claiming it.
        by: EthernetAddress,
    },
    /// An ARP scan hosted by the node found something.
    Scan(ScanEvent),
    /// The reliable transfer hosted by the node has news.
    Transfer(TransferEvent<'a>),
    /// Presence hosted by the node has news: who joined, left, disappeared.
    Presence(PresenceEvent),
}

/// What a send did with a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Delivery {
    /// The frame went to the device.
    Sent,
    /// The frame waits for the name to resolve or the device to have room;
    /// polling sends it.
    Queued,
}

/// Why a name cannot be resolved now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResolveError<E> {
    /// The name failed to resolve recently and is held off until `until`.
    HeldOff {
        /// When a new request may go out.
        until: Instant,
    },
    /// Every resolution slot is busy; raise the `PENDING` const parameter or
    /// wait for one to finish.
    TooManyResolutions,
    /// The device failed.
    Device(E),
}

/// Why a send refused a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError<E> {
    /// The payload exceeds the device MTU.
    PayloadTooLong {
        /// Payload length.
        len: usize,
        /// Largest payload the device carries.
        max: usize,
    },
    /// The queue of frames waiting to be sent is full.
    QueueFull,
    /// The name could not be resolved.
    Resolve(ResolveError<E>),
    /// The device failed.
    Device(E),
}

/// [`Link::add_ipv4_address`](super::Link::add_ipv4_address) found
/// every slot in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddressesFull;

impl<E> From<Refusal> for ResolveError<E> {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::HeldOff(until) => ResolveError::HeldOff { until },
            Refusal::Full => ResolveError::TooManyResolutions,
        }
    }
}

impl<E> From<ResolveError<E>> for SendError<E> {
    fn from(err: ResolveError<E>) -> Self {
        match err {
            ResolveError::Device(err) => SendError::Device(err),
            other => SendError::Resolve(other),
        }
    }
}

impl<E: fmt::Debug> fmt::Display for ResolveError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::HeldOff { until } => {
                write!(f, "the name did not resolve recently; retry after {until}")
            }
            ResolveError::TooManyResolutions => f.write_str("too many resolutions in progress"),
            ResolveError::Device(err) => write!(f, "device error: {err:?}"),
        }
    }
}

impl<E: fmt::Debug> fmt::Display for SendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::PayloadTooLong { len, max } => {
                write!(f, "a {len}-byte payload does not fit the link; the limit is {max} bytes")
            }
            SendError::QueueFull => f.write_str("the send queue is full; poll the node until it drains"),
            SendError::Resolve(err) => fmt::Display::fmt(err, f),
            SendError::Device(err) => write!(f, "device error: {err:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for ResolveError<E> {}
impl<E: fmt::Debug> core::error::Error for SendError<E> {}

impl fmt::Display for AddressesFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a node answers for at most {} IPv4 addresses", super::MAX_IPV4_ADDRESSES)
    }
}

impl core::error::Error for AddressesFull {}
