//! Helpers shared by the core's integration tests: frames built by hand,
//! owned copies of events, polling with a recording handler.
#![allow(dead_code)] // each test binary uses a different part

use std::net::{Ipv4Addr, Ipv6Addr};

use std::convert::Infallible;
use whohas_core::device::LinkDevice;

use whohas_core::node::Node;
use whohas_core::runtime::{Context, Handler, from_fn};
use whohas_core::scan::ScanEvent;
use whohas_core::service::Service;
use whohas_core::station::{Event, Resources};
use whohas_core::time::Instant;
use whohas_core::transfer::{Transfer, TransferEvent};
use whohas_core::wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, Name, NameArpPacket, NameArpRepr,
};

pub const VM1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
pub const VM2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
pub const PEER: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 9]);

pub fn name(text: &str) -> Name {
    Name::try_from(text).unwrap()
}

/// Owned copies of events, for assertions after the handler returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Data(EthernetAddress, Option<Name>, Vec<u8>),
    Answered(EthernetAddress),
    Resolved(Name, EthernetAddress),
    /// Resolved, replacing another MAC.
    Moved(Name, EthernetAddress, EthernetAddress),
    Failed(Name, usize),
    NameConflict(Name, EthernetAddress, EthernetAddress),
    ArpAnswered(EthernetAddress, Ipv4Addr),
    ArpResolved(Ipv4Addr, EthernetAddress),
    ArpFailed(Ipv4Addr),
    AddressConflict(Ipv4Addr, EthernetAddress, EthernetAddress),
    AddressClaimed(Ipv4Addr, EthernetAddress),
    Ipv6Answered(EthernetAddress, Ipv6Addr),
    Ipv6Resolved(Ipv6Addr, EthernetAddress),
    Ipv6Failed(Ipv6Addr),
    Ipv6Conflict(Ipv6Addr, EthernetAddress, EthernetAddress),
    Scan(ScanEvent),
}

/// Storage for a test's node, with the default capacities. Leaked: a test
/// builds a few nodes and ends.
pub fn resources() -> &'static mut Resources {
    Box::leak(Box::default())
}

impl From<Infallible> for Seen {
    fn from(never: Infallible) -> Seen {
        match never {}
    }
}

impl From<ScanEvent> for Seen {
    fn from(event: ScanEvent) -> Seen {
        Seen::Scan(event)
    }
}

impl<E: Into<Seen> + std::fmt::Debug> From<Event<'_, E>> for Seen {
    fn from(event: Event<'_, E>) -> Seen {
        match event {
            Event::Data { from, from_name, payload } => Seen::Data(from, from_name, payload.to_vec()),
            Event::Answered { requester } => Seen::Answered(requester),
            Event::Resolved { name, hardware_addr, previous: None } => Seen::Resolved(name, hardware_addr),
            Event::Resolved { name, hardware_addr, previous: Some(previous) } => {
                Seen::Moved(name, previous, hardware_addr)
            }
            Event::ResolutionFailed { name, dropped_frames } => Seen::Failed(name, dropped_frames),
            Event::NameConflict { name, cached, other } => Seen::NameConflict(name, cached, other),
            Event::ArpAnswered { requester, address } => Seen::ArpAnswered(requester, address),
            Event::ArpResolved { address, hardware_addr, .. } => Seen::ArpResolved(address, hardware_addr),
            Event::ArpResolutionFailed { address } => Seen::ArpFailed(address),
            Event::AddressConflict { address, cached, other } => Seen::AddressConflict(address, cached, other),
            Event::AddressClaimed { address, by } => Seen::AddressClaimed(address, by),
            Event::Ipv6Answered { requester, address } => Seen::Ipv6Answered(requester, address),
            Event::Ipv6Resolved { address, hardware_addr, .. } => Seen::Ipv6Resolved(address, hardware_addr),
            Event::Ipv6ResolutionFailed { address } => Seen::Ipv6Failed(address),
            Event::Ipv6Conflict { address, cached, other } => Seen::Ipv6Conflict(address, cached, other),
            Event::Service(event) => event.into(),
            other => panic!("an event the tests do not know: {other:?}"),
        }
    }
}

/// Polls `node` once at `now`; returns what it reported.
pub fn poll<D, S, E>(node: &mut Node<'_, D, S>, now: Instant) -> Vec<Seen>
where
    D: LinkDevice<Error: std::fmt::Debug>,
    S: for<'e> Service<Event<'e> = E>,
    E: Into<Seen> + std::fmt::Debug,
{
    let mut seen = Vec::new();
    node.poll(now, &mut from_fn(|_, event| seen.push(Seen::from(event)))).unwrap();
    seen
}

/// Every frame waiting at `port`.
pub fn drain(port: &mut impl LinkDevice) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buffer = [0u8; 1514];
    while let Ok(len) = port.receive(&mut buffer) {
        frames.push(buffer[..len].to_vec());
    }
    frames
}

pub fn ethertype(frame: &[u8]) -> EtherType {
    EthernetFrame::new_checked(frame).unwrap().ethertype()
}

pub fn name_arp(frame: &[u8]) -> NameArpRepr {
    let frame = EthernetFrame::new_checked(frame).unwrap();
    NameArpRepr::parse(&NameArpPacket::new_checked(frame.payload()).unwrap()).unwrap()
}

pub fn arp(frame: &[u8]) -> ArpRepr {
    let frame = EthernetFrame::new_checked(frame).unwrap();
    ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).unwrap()).unwrap()
}

pub fn frame(src: EthernetAddress, dst: EthernetAddress, ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.0);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(body);
    frame
}

pub fn reply_body(who: &str, mac: EthernetAddress) -> Vec<u8> {
    let mut body = (who.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(&mac.0);
    body.extend_from_slice(who.as_bytes());
    body.extend_from_slice(&[0, 0]);
    body
}

pub fn request_body(who: &str) -> Vec<u8> {
    reply_body(who, EthernetAddress::UNSPECIFIED)
}

pub fn arp_body(
    operation: ArpOperation,
    sender: (EthernetAddress, Ipv4Addr),
    target: (EthernetAddress, Ipv4Addr),
) -> Vec<u8> {
    let repr = ArpRepr {
        operation,
        source_hardware_addr: sender.0,
        source_protocol_addr: sender.1,
        target_hardware_addr: target.0,
        target_protocol_addr: target.1,
    };
    let mut body = vec![0; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut body[..]));
    body
}

/// What a test's device does differently from the device it wraps: by
/// default, nothing.
pub trait Rewrite<D: LinkDevice> {
    /// Receives a frame from `inner` into `buffer`, or not.
    fn receive(&mut self, inner: &mut D, buffer: &mut [u8]) -> nb::Result<usize, D::Error> {
        inner.receive(buffer)
    }

    /// Transmits `frame` through `inner`, or not.
    fn transmit(&mut self, inner: &mut D, frame: &[u8]) -> nb::Result<(), D::Error> {
        inner.transmit(frame)
    }
}

/// The device `inner`, with what `rewrite` does differently.
pub struct Rewritten<D, R> {
    pub inner: D,
    pub rewrite: R,
}

impl<D: LinkDevice, R: Rewrite<D>> LinkDevice for Rewritten<D, R> {
    type Error = D::Error;

    fn mac_address(&self) -> EthernetAddress {
        self.inner.mac_address()
    }

    fn capabilities(&self) -> whohas_core::device::Capabilities {
        self.inner.capabilities()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, D::Error> {
        self.rewrite.receive(&mut self.inner, buffer)
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), D::Error> {
        self.rewrite.transmit(&mut self.inner, frame)
    }

    fn flush(&mut self) -> nb::Result<(), D::Error> {
        self.inner.flush()
    }
}

/// A transmit side that can be closed: while set, it refuses every frame
/// with `WouldBlock`, like a full transmit queue.
pub struct Busy(pub std::rc::Rc<std::cell::Cell<bool>>);

impl<D: LinkDevice> Rewrite<D> for Busy {
    fn transmit(&mut self, inner: &mut D, frame: &[u8]) -> nb::Result<(), D::Error> {
        if self.0.get() {
            return Err(nb::Error::WouldBlock);
        }
        inner.transmit(frame)
    }
}

/// A device whose transmit side can be closed ([`Busy`]).
pub type Gate<D> = Rewritten<D, Busy>;

impl<D> Rewritten<D, Busy> {
    /// `inner`, and the switch that closes its transmit side.
    pub fn new(inner: D) -> (Self, std::rc::Rc<std::cell::Cell<bool>>) {
        let busy = std::rc::Rc::new(std::cell::Cell::new(false));
        (Rewritten { inner, rewrite: Busy(busy.clone()) }, busy)
    }
}

/// A broadcast segment for simulations with many stations: like the core's
/// `Segment`, but its queues live on the heap and have no limit.
#[derive(Default)]
pub struct Hub {
    queues: std::cell::RefCell<Vec<std::collections::VecDeque<Vec<u8>>>>,
}

impl Hub {
    pub fn new() -> std::rc::Rc<Hub> {
        std::rc::Rc::new(Hub::default())
    }

    pub fn attach(self: &std::rc::Rc<Self>, mac: EthernetAddress) -> HubPort {
        let mut queues = self.queues.borrow_mut();
        queues.push(Default::default());
        HubPort { hub: self.clone(), index: queues.len() - 1, mac }
    }

    /// Frames waiting anywhere.
    pub fn in_flight(&self) -> usize {
        self.queues.borrow().iter().map(|queue| queue.len()).sum()
    }
}

/// One station's port on a [`Hub`].
pub struct HubPort {
    hub: std::rc::Rc<Hub>,
    index: usize,
    mac: EthernetAddress,
}

impl HubPort {
    /// Frames waiting at this port.
    pub fn pending(&self) -> usize {
        self.hub.queues.borrow()[self.index].len()
    }
}

impl LinkDevice for HubPort {
    type Error = ();

    fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    fn capabilities(&self) -> whohas_core::device::Capabilities {
        whohas_core::device::Capabilities::default()
    }

    fn receive(&mut self, buffer: &mut [u8]) -> nb::Result<usize, ()> {
        let frame = self.hub.queues.borrow_mut()[self.index].pop_front().ok_or(nb::Error::WouldBlock)?;
        let stored = frame.len().min(buffer.len());
        buffer[..stored].copy_from_slice(&frame[..stored]);
        Ok(frame.len())
    }

    fn transmit(&mut self, frame: &[u8]) -> nb::Result<(), ()> {
        for (index, queue) in self.hub.queues.borrow_mut().iter_mut().enumerate() {
            if index != self.index {
                queue.push_back(frame.to_vec());
            }
        }
        Ok(())
    }
}

/// A handler for transfer tests: the status a connection closed with, and
/// the data received, in order.
pub struct TransferLog<'a> {
    pub closed: &'a mut Option<u16>,
    pub received: &'a mut Vec<u8>,
}

impl<D: LinkDevice, const C: usize, const W: usize> Handler<D, Transfer<C, W>> for TransferLog<'_> {
    fn on_event(&mut self, _: &mut Context<'_, D, Transfer<C, W>>, event: Event<'_, TransferEvent<'_>>) {
        match event {
            Event::Service(TransferEvent::Closed { status, .. }) => *self.closed = Some(status),
            Event::Service(TransferEvent::Received { data, .. }) => self.received.extend_from_slice(data),
            _ => {}
        }
    }
}
