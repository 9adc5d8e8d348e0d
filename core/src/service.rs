//! Protocols a node hosts beside its own (name-ARP, ARP, data): each sees
//! the frames of its ethertypes, sends through the node, runs its own
//! timers, and reports events that reach the application's handler like the
//! node's own.
//!
//! A service never calls the application: it queues what happened and the
//! node pops it with [`Service::next_event`] when nothing is borrowed, so the
//! handler can act on the node and on the services while it handles the
//! event. Payloads are copied into a scratch buffer the node lends for the
//! call. Several services are hosted as a tuple `(A, B)`; `()` hosts none.

use crate::device::{LinkDevice, TransmitError};
use crate::node::{Event, Link, ResolveError};
use crate::time::{self, Instant};
use crate::wire::{EtherType, EthernetAddress, EthernetRepr, Name};

/// What a service sees of the node that hosts it, at one instant.
pub trait Station {
    /// The device's error.
    type Error: core::fmt::Debug;

    /// The time of the poll.
    fn now(&self) -> Instant;
    /// The node's name.
    fn name(&self) -> &Name;
    /// The node's MAC address.
    fn mac_address(&self) -> EthernetAddress;
    /// Largest payload a frame carries.
    fn max_payload_len(&self) -> usize;
    /// The cached MAC address of `name`.
    fn lookup(&self, name: &Name) -> Option<EthernetAddress>;
    /// The cached name of the station at `hardware_addr`.
    fn reverse_lookup(&self, hardware_addr: EthernetAddress) -> Option<&Name>;
    /// Starts resolving `name` through the node's resolver (the answer comes
    /// to [`Service::on_node_event`] as `Resolved` or `ResolutionFailed`).
    fn resolve(&mut self, name: &Name) -> Result<Option<EthernetAddress>, ResolveError<Self::Error>>;
    /// Sends a frame of `ethertype` whose payload `fill` writes.
    fn transmit(
        &mut self,
        to: EthernetAddress,
        ethertype: EtherType,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> nb::Result<(), TransmitError<Self::Error>>;
    /// Whether the node answers name-ARP requests for its own name.
    fn set_answering(&mut self, answering: bool);
}

impl<D: LinkDevice, const C: usize, const P: usize, const Q: usize> Station for Link<'_, D, C, P, Q> {
    type Error = D::Error;

    fn now(&self) -> Instant {
        Link::now(self)
    }

    fn name(&self) -> &Name {
        Link::name(self)
    }

    fn mac_address(&self) -> EthernetAddress {
        Link::mac_address(self)
    }

    fn max_payload_len(&self) -> usize {
        Link::max_payload_len(self)
    }

    fn lookup(&self, name: &Name) -> Option<EthernetAddress> {
        Link::lookup(self, name)
    }

    fn reverse_lookup(&self, hardware_addr: EthernetAddress) -> Option<&Name> {
        Link::reverse_lookup(self, hardware_addr)
    }

    fn resolve(&mut self, name: &Name) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        Link::resolve(self, name)
    }

    fn transmit(
        &mut self,
        to: EthernetAddress,
        ethertype: EtherType,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> nb::Result<(), TransmitError<D::Error>> {
        Link::transmit(self, to, ethertype, payload_len, fill)
    }

    fn set_answering(&mut self, answering: bool) {
        Link::set_answering(self, answering)
    }
}

/// A protocol hosted by a node.
pub trait Service {
    /// Whether the service wants frames of `ethertype` (for the node's own
    /// ethertypes it sees them after the node).
    fn accepts(&self, ethertype: EtherType) -> bool;

    /// A frame of an accepted ethertype, unicast to the node or broadcast,
    /// not from the node itself.
    fn receive<L: Station>(&mut self, station: &mut L, header: &EthernetRepr, frame: &[u8]) -> Result<(), L::Error>;

    /// An event of the node itself (a name resolved, say), before the
    /// application hears of it.
    fn on_node_event<L: Station>(&mut self, station: &mut L, event: &Event<'_>) -> Result<(), L::Error> {
        let _ = (station, event);
        Ok(())
    }

    /// Sends what is due and runs the timers due at `station.now()`.
    fn poll<L: Station>(&mut self, station: &mut L) -> Result<(), L::Error>;

    /// When [`poll`](Self::poll) must run next; `None`: only when a frame
    /// arrives. A time not after the poll's means "now".
    fn poll_at(&self) -> Option<Instant>;

    /// Whether [`next_event`](Self::next_event) has something.
    fn has_event(&self) -> bool;

    /// The next event the service has for the application, its payload (if
    /// any) copied into `scratch`.
    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<Event<'s>>;
}

impl Service for () {
    fn accepts(&self, _: EtherType) -> bool {
        false
    }

    fn receive<L: Station>(&mut self, _: &mut L, _: &EthernetRepr, _: &[u8]) -> Result<(), L::Error> {
        Ok(())
    }

    fn poll<L: Station>(&mut self, _: &mut L) -> Result<(), L::Error> {
        Ok(())
    }

    fn poll_at(&self) -> Option<Instant> {
        None
    }

    fn has_event(&self) -> bool {
        false
    }

    fn next_event<'s>(&mut self, _: &'s mut [u8]) -> Option<Event<'s>> {
        None
    }
}

/// A service borrowed by the node: the application keeps it (a large scan
/// table in a `Box`, say) and lends it.
impl<T: Service + ?Sized> Service for &mut T {
    fn accepts(&self, ethertype: EtherType) -> bool {
        (**self).accepts(ethertype)
    }

    fn receive<L: Station>(&mut self, station: &mut L, header: &EthernetRepr, frame: &[u8]) -> Result<(), L::Error> {
        (**self).receive(station, header, frame)
    }

    fn on_node_event<L: Station>(&mut self, station: &mut L, event: &Event<'_>) -> Result<(), L::Error> {
        (**self).on_node_event(station, event)
    }

    fn poll<L: Station>(&mut self, station: &mut L) -> Result<(), L::Error> {
        (**self).poll(station)
    }

    fn poll_at(&self) -> Option<Instant> {
        (**self).poll_at()
    }

    fn has_event(&self) -> bool {
        (**self).has_event()
    }

    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<Event<'s>> {
        (**self).next_event(scratch)
    }
}

impl<A: Service, B: Service> Service for (A, B) {
    fn accepts(&self, ethertype: EtherType) -> bool {
        self.0.accepts(ethertype) || self.1.accepts(ethertype)
    }

    fn receive<L: Station>(&mut self, station: &mut L, header: &EthernetRepr, frame: &[u8]) -> Result<(), L::Error> {
        if self.0.accepts(header.ethertype) {
            self.0.receive(station, header, frame)?;
        }
        if self.1.accepts(header.ethertype) {
            self.1.receive(station, header, frame)?;
        }
        Ok(())
    }

    fn on_node_event<L: Station>(&mut self, station: &mut L, event: &Event<'_>) -> Result<(), L::Error> {
        self.0.on_node_event(station, event)?;
        self.1.on_node_event(station, event)
    }

    fn poll<L: Station>(&mut self, station: &mut L) -> Result<(), L::Error> {
        self.0.poll(station)?;
        self.1.poll(station)
    }

    fn poll_at(&self) -> Option<Instant> {
        time::earliest(self.0.poll_at(), self.1.poll_at())
    }

    fn has_event(&self) -> bool {
        self.0.has_event() || self.1.has_event()
    }

    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<Event<'s>> {
        if self.0.has_event() { self.0.next_event(scratch) } else { self.1.next_event(scratch) }
    }
}
