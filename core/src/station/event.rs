//! What a node tells its application, and why a request of the application
//! can fail.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use core::convert::Infallible;

use crate::resolver::Refusal;
use crate::time::Instant;
use crate::wire::{EthernetAddress, Name};

/// Something the application should know about, handed to its
/// [`Handler`](crate::runtime::Handler) together with a
/// [`Context`](crate::runtime::Context) through which it can act at once.
///
/// The node's own protocols report the variants below; the services it
/// hosts report their own event type `E` (the service's
/// [`Service::Event`](crate::service::Service::Event)) in
/// [`Event::Service`]. `Event<'_>` alone is a node's own event.
///
/// Names are owned; a payload is borrowed and valid during the call only.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'a, E = Infallible> {
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
    /// This node answered a neighbour solicitation for one of its IPv6
    /// addresses.
    Ipv6Answered {
        /// Who asked.
        requester: EthernetAddress,
        /// The address asked for.
        address: Ipv6Addr,
    },
    /// An IPv6 address this node asked for was resolved and cached.
    Ipv6Resolved {
        /// The address.
        address: Ipv6Addr,
        /// Its MAC address.
        hardware_addr: EthernetAddress,
        /// The different MAC address it had before, if any.
        previous: Option<EthernetAddress>,
    },
    /// Nobody advertised an IPv6 address this node solicited.
    Ipv6ResolutionFailed {
        /// The address nobody answered for.
        address: Ipv6Addr,
    },
    /// A second station advertised an IPv6 address this node solicited.
    Ipv6Conflict {
        /// The address two stations claim.
        address: Ipv6Addr,
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
    /// A service hosted by the node has news: its own event.
    Service(E),
}

impl<'a, E> Event<'a, E> {
    /// The node's own event (`Ok`), or a hosted service's (`Err`).
    #[inline]
    pub fn node_event(self) -> Result<Event<'a>, E> {
        self.own_or(|service| service)
    }

    /// The node's own event with another service type, or what `service`
    /// makes of a service's event.
    #[inline]
    fn own_or<F, R>(self, service: impl FnOnce(E) -> R) -> Result<Event<'a, F>, R> {
        Ok(match self {
            Event::Data { from, from_name, payload } => Event::Data { from, from_name, payload },
            Event::Answered { requester } => Event::Answered { requester },
            Event::Resolved { name, hardware_addr, previous } => Event::Resolved { name, hardware_addr, previous },
            Event::ResolutionFailed { name, dropped_frames } => Event::ResolutionFailed { name, dropped_frames },
            Event::NameConflict { name, cached, other } => Event::NameConflict { name, cached, other },
            Event::ArpAnswered { requester, address } => Event::ArpAnswered { requester, address },
            Event::ArpResolved { address, hardware_addr, previous } => {
                Event::ArpResolved { address, hardware_addr, previous }
            }
            Event::ArpResolutionFailed { address } => Event::ArpResolutionFailed { address },
            Event::AddressConflict { address, cached, other } => Event::AddressConflict { address, cached, other },
            Event::AddressClaimed { address, by } => Event::AddressClaimed { address, by },
            Event::Ipv6Answered { requester, address } => Event::Ipv6Answered { requester, address },
            Event::Ipv6Resolved { address, hardware_addr, previous } => {
                Event::Ipv6Resolved { address, hardware_addr, previous }
            }
            Event::Ipv6ResolutionFailed { address } => Event::Ipv6ResolutionFailed { address },
            Event::Ipv6Conflict { address, cached, other } => Event::Ipv6Conflict { address, cached, other },
            Event::Service(event) => return Err(service(event)),
        })
    }
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

/// [`State::add_ipv4_address`](super::State::add_ipv4_address) found
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
