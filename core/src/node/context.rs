//! What a handler and a service act through: the node at one instant.

use core::net::Ipv4Addr;
use core::ops::{Deref, DerefMut};

use super::{AddressesFull, Config, Delivery, ResolveError, SendError, State, Stats};
use crate::device::{LinkDevice, TransmitError};
use crate::neighbor::NeighborCache;
use crate::time::Instant;
use crate::wire::ethernet::MAX_PAYLOAD_LEN;
use crate::wire::{EtherType, EthernetAddress, Name};

/// The node's name layer at one instant: its identity, caches and
/// resolvers, and the device, with every action a handler or a service can
/// take. It is what a [`Context`] dereferences to, and what services see
/// (through the [`Station`](crate::service::Station) trait).
pub struct Link<'a, D: LinkDevice, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> {
    device: &'a mut D,
    state: &'a mut State<CACHE, PENDING, QUEUE_BYTES>,
    now: Instant,
}

impl<'a, D: LinkDevice, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize>
    Link<'a, D, CACHE, PENDING, QUEUE_BYTES>
{
    pub(crate) fn new(device: &'a mut D, state: &'a mut State<CACHE, PENDING, QUEUE_BYTES>, now: Instant) -> Self {
        Link { device, state, now }
    }

    /// The time of the poll (or of [`Node::at`](super::Node::at)).
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The node's name.
    pub fn name(&self) -> &Name {
        &self.state.name
    }

    /// The node's MAC address.
    pub fn mac_address(&self) -> EthernetAddress {
        self.state.mac
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.state.stats
    }

    /// The name cache.
    pub fn cache(&self) -> &NeighborCache<Name, CACHE> {
        &self.state.cache
    }

    /// The IPv4 (ARP) cache.
    pub fn arp_cache(&self) -> &NeighborCache<Ipv4Addr, CACHE> {
        &self.state.arp_cache
    }

    /// The IPv4 addresses the node answers ARP for.
    pub fn ipv4_addresses(&self) -> &[Ipv4Addr] {
        &self.state.ipv4
    }

    /// The device.
    pub fn device(&self) -> &D {
        self.device
    }

    /// Largest data payload the device carries.
    pub fn max_payload_len(&self) -> usize {
        self.device.capabilities().mtu.min(MAX_PAYLOAD_LEN)
    }

    /// The cached MAC address of `name`, if any.
    pub fn lookup(&self, name: &Name) -> Option<EthernetAddress> {
        self.state.cache.lookup(name, self.now)
    }

    /// The cached MAC address of `address`, if any.
    pub fn lookup_ipv4(&self, address: Ipv4Addr) -> Option<EthernetAddress> {
        self.state.arp_cache.lookup(&address, self.now)
    }

    /// The cached name of the station at `hardware_addr`, if any.
    pub fn reverse_lookup(&self, hardware_addr: EthernetAddress) -> Option<&Name> {
        self.state.cache.reverse_lookup(hardware_addr, self.now)
    }

    /// Starts resolving `name` unless it is cached or already in progress.
    ///
    /// Returns its MAC address if cached; `Ok(None)` means a resolution is
    /// running and a poll will report [`Event::Resolved`](super::Event::Resolved)
    /// or [`Event::ResolutionFailed`](super::Event::ResolutionFailed).
    pub fn resolve(&mut self, name: &Name) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.lookup(name) {
            return Ok(Some(mac));
        }
        self.state.start_resolution(self.device, self.now, name)?;
        Ok(None)
    }

    /// Starts an ARP resolution of `address` unless it is cached or already
    /// in progress; like [`resolve`](Self::resolve), with
    /// [`Event::ArpResolved`](super::Event::ArpResolved) or
    /// [`Event::ArpResolutionFailed`](super::Event::ArpResolutionFailed) to
    /// follow.
    pub fn resolve_ipv4(&mut self, address: Ipv4Addr) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.lookup_ipv4(address) {
            return Ok(Some(mac));
        }
        self.state.start_arp_resolution(self.device, self.now, address)?;
        Ok(None)
    }

    /// Sends `payload` in a data frame to the station called `to`,
    /// resolving the name first when it is not cached. Frames for one
    /// station leave in the order they were given.
    pub fn send(&mut self, to: &Name, payload: &[u8]) -> Result<Delivery, SendError<D::Error>> {
        self.state.send(self.device, self.now, to, payload)
    }

    /// Sends `payload` in a data frame straight to a MAC address (for
    /// example to answer the sender of a data frame). If the device has no
    /// room the frame is queued and sent by a later poll.
    pub fn send_to_address(&mut self, to: EthernetAddress, payload: &[u8]) -> Result<Delivery, SendError<D::Error>> {
        self.state.send_to_address(self.device, to, payload)
    }

    /// Answers ARP for `address` from now on (up to
    /// [`MAX_IPV4_ADDRESSES`](super::MAX_IPV4_ADDRESSES)). The first address
    /// is also the sender address of the node's own ARP requests.
    pub fn add_ipv4_address(&mut self, address: Ipv4Addr) -> Result<(), AddressesFull> {
        self.state.add_ipv4_address(address)
    }

    /// Sends a frame of `ethertype` to `to` whose `payload_len` payload
    /// bytes `fill` writes (for services: the node counts it, pads it and
    /// notes a full device).
    pub fn transmit(
        &mut self,
        to: EthernetAddress,
        ethertype: EtherType,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> nb::Result<(), TransmitError<D::Error>> {
        self.state.transmit(self.device, to, ethertype, payload_len, fill)
    }

    /// Whether the node answers name-ARP requests for its own name
    /// (presence turns this off while it probes whether the name is free).
    pub fn set_answering(&mut self, answering: bool) {
        self.state.answering = answering;
    }

    /// Asks [`Node::run`](super::Node::run) to return after this poll.
    pub fn stop(&mut self) {
        self.state.stop = true;
    }
}

/// What a [`Handler`](crate::runtime::Handler) acts through while it
/// handles an event: the node's [`Link`] (to send, answer, resolve; it
/// dereferences to it) and the services the node hosts.
pub struct Context<'a, D: LinkDevice, S, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> {
    link: Link<'a, D, CACHE, PENDING, QUEUE_BYTES>,
    services: &'a mut S,
}

impl<'a, D: LinkDevice, S, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize>
    Context<'a, D, S, CACHE, PENDING, QUEUE_BYTES>
{
    pub(crate) fn new(link: Link<'a, D, CACHE, PENDING, QUEUE_BYTES>, services: &'a mut S) -> Self {
        Context { link, services }
    }

    /// The services the node hosts (to send a reliable message, say: it
    /// goes out in this poll).
    pub fn services(&mut self) -> &mut S {
        self.services
    }

    /// The link and the services at once.
    pub fn split(&mut self) -> (&mut Link<'a, D, CACHE, PENDING, QUEUE_BYTES>, &mut S) {
        (&mut self.link, self.services)
    }
}

impl<'a, D: LinkDevice, S, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> Deref
    for Context<'a, D, S, CACHE, PENDING, QUEUE_BYTES>
{
    type Target = Link<'a, D, CACHE, PENDING, QUEUE_BYTES>;

    fn deref(&self) -> &Self::Target {
        &self.link
    }
}

impl<D: LinkDevice, S, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> DerefMut
    for Context<'_, D, S, CACHE, PENDING, QUEUE_BYTES>
{
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.link
    }
}
