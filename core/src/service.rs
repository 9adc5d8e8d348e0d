//! Protocols a node hosts beside its own (name-ARP, ARP, data): each sees
//! the frames of its ethertypes, sends through the node's [`Station`], runs
//! its own timers, and reports events of its own type, which reach the
//! application's handler as [`Event::Service`].
//!
//! A service never calls the application: it queues what happened and the
//! node pops it with [`Service::next_event`] when nothing is borrowed, so the
//! handler can act on the node and on the services while it handles the
//! event. Payloads are copied into a scratch buffer the node lends for the
//! call. Several services are hosted as a tuple `(A, B)`, whose events are
//! an [`Either`]; `()` hosts none.

use core::convert::Infallible;

use crate::device::LinkDevice;
use crate::station::{Event, Station};
use crate::time::{self, Instant};
use crate::wire::{EtherType, EthernetRepr};

/// A protocol hosted by a node.
pub trait Service {
    /// What the service tells the application; it may borrow the scratch
    /// buffer [`next_event`](Self::next_event) fills.
    type Event<'s>;

    /// Whether the service wants frames of `ethertype` (for the node's own
    /// ethertypes it sees them after the node).
    fn accepts(&self, ethertype: EtherType) -> bool;

    /// A frame of an accepted ethertype, unicast to the node or broadcast,
    /// not from the node itself.
    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error>;

    /// An event of the node itself (a name resolved, say), before the
    /// application hears of it.
    fn on_node_event<D: LinkDevice, E>(
        &mut self,
        station: &mut Station<'_, D>,
        event: &Event<'_, E>,
    ) -> Result<(), D::Error> {
        let _ = (station, event);
        Ok(())
    }

    /// Sends what is due and runs the timers due at `station.now()`.
    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error>;

    /// When [`poll`](Self::poll) must run next; `None`: only when a frame
    /// arrives. A time not after the poll's means "now".
    fn poll_at(&self) -> Option<Instant>;

    /// Whether [`next_event`](Self::next_event) has something.
    fn has_event(&self) -> bool;

    /// The next event the service has for the application, its payload (if
    /// any) copied into `scratch`.
    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<Self::Event<'s>>;
}

/// The event of one of two services hosted as a tuple `(A, B)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Either<A, B> {
    /// The first service's.
    Left(A),
    /// The second service's.
    Right(B),
}

impl Service for () {
    type Event<'s> = Infallible;

    fn accepts(&self, _: EtherType) -> bool {
        false
    }

    fn receive<D: LinkDevice>(&mut self, _: &mut Station<'_, D>, _: &EthernetRepr, _: &[u8]) -> Result<(), D::Error> {
        Ok(())
    }

    fn poll<D: LinkDevice>(&mut self, _: &mut Station<'_, D>) -> Result<(), D::Error> {
        Ok(())
    }

    fn poll_at(&self) -> Option<Instant> {
        None
    }

    fn has_event(&self) -> bool {
        false
    }

    fn next_event(&mut self, _: &mut [u8]) -> Option<Infallible> {
        None
    }
}

/// A service borrowed by the node: the application keeps it (a large scan
/// table in a `Box`, say) and lends it.
impl<T: Service + ?Sized> Service for &mut T {
    type Event<'s> = T::Event<'s>;

    fn accepts(&self, ethertype: EtherType) -> bool {
        (**self).accepts(ethertype)
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        (**self).receive(station, header, frame)
    }

    fn on_node_event<D: LinkDevice, E>(
        &mut self,
        station: &mut Station<'_, D>,
        event: &Event<'_, E>,
    ) -> Result<(), D::Error> {
        (**self).on_node_event(station, event)
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        (**self).poll(station)
    }

    fn poll_at(&self) -> Option<Instant> {
        (**self).poll_at()
    }

    fn has_event(&self) -> bool {
        (**self).has_event()
    }

    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<T::Event<'s>> {
        (**self).next_event(scratch)
    }
}

impl<A: Service, B: Service> Service for (A, B) {
    type Event<'s> = Either<A::Event<'s>, B::Event<'s>>;

    fn accepts(&self, ethertype: EtherType) -> bool {
        self.0.accepts(ethertype) || self.1.accepts(ethertype)
    }

    fn receive<D: LinkDevice>(
        &mut self,
        station: &mut Station<'_, D>,
        header: &EthernetRepr,
        frame: &[u8],
    ) -> Result<(), D::Error> {
        if self.0.accepts(header.ethertype) {
            self.0.receive(station, header, frame)?;
        }
        if self.1.accepts(header.ethertype) {
            self.1.receive(station, header, frame)?;
        }
        Ok(())
    }

    fn on_node_event<D: LinkDevice, E>(
        &mut self,
        station: &mut Station<'_, D>,
        event: &Event<'_, E>,
    ) -> Result<(), D::Error> {
        self.0.on_node_event(station, event)?;
        self.1.on_node_event(station, event)
    }

    fn poll<D: LinkDevice>(&mut self, station: &mut Station<'_, D>) -> Result<(), D::Error> {
        self.0.poll(station)?;
        self.1.poll(station)
    }

    fn poll_at(&self) -> Option<Instant> {
        time::earliest(self.0.poll_at(), self.1.poll_at())
    }

    fn has_event(&self) -> bool {
        self.0.has_event() || self.1.has_event()
    }

    fn next_event<'s>(&mut self, scratch: &'s mut [u8]) -> Option<Self::Event<'s>> {
        if self.0.has_event() {
            self.0.next_event(scratch).map(Either::Left)
        } else {
            self.1.next_event(scratch).map(Either::Right)
        }
    }
}
