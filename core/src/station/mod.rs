//! The node's own protocols (name-ARP, RFC 826 ARP, data frames), seen at
//! one instant: [`Station`], through which handlers and services act, its
//! [`State`], and the [`Event`]s the node reports. This module depends on
//! no service and on no run loop: services and the node are built on it.
//!
//! # Rules
//!
//! - A name-ARP *request* (its MAC field all zero) for the node's own name is
//!   answered with a unicast reply to the requester. Requests for other names
//!   are counted and ignored.
//! - A name-ARP *reply* is accepted only when it is addressed to this node,
//!   names the frame's own source MAC, and answers a resolution the node has
//!   in progress. Anything else is counted and never cached, so nobody can
//!   poison the cache by announcing a name.
//! - For one [`Config::retry_interval`] after the first answer, a further
//!   answer from another MAC is reported as [`Event::NameConflict`]; the
//!   first answer stays cached.
//! - A resolution sends up to [`Config::max_attempts`] broadcast requests,
//!   [`Config::retry_interval`] apart, and fails one interval after the last.
//!   After a failure the name is held off for [`Config::failure_holdoff`]:
//!   no new request for it goes out before then (a per-name rate limit).
//! - Traffic from a cached station does not refresh its name: only an answer
//!   to the node's own request does. When a new answer replaces a different
//!   MAC, [`Event::Resolved`] says which.
//! - Data for a name whose MAC is cached goes out at once; otherwise it waits
//!   in a bounded queue while the name resolves (or the device has no room),
//!   and is dropped, with an event saying how many frames, if resolution
//!   fails.
//! - ARP follows the same rules with IPv4 addresses for names. In addition,
//!   an ARP request whose sender matches a cached address and MAC refreshes
//!   that entry (RFC 826's merge step, restricted: a *different* MAC is not
//!   merged, only counted), and any ARP packet from another station that
//!   uses one of the node's addresses as its own is reported as
//!   [`Event::AddressClaimed`].
//! - IPv6 neighbour discovery follows the ARP rules with IPv6 addresses:
//!   solicitations for the node's IPv6 addresses are answered, only
//!   solicited advertisements unicast to the node are cached, and a
//!   station advertising or probing for one of the node's addresses is
//!   counted as a claim. Other IPv6 traffic is foreign.
//! - Frames from the node's own MAC, unicast frames for other stations and
//!   frames of ethertypes nobody hosts are ignored; malformed frames and
//!   frames cut short are counted and dropped.

#[cfg(feature = "ipv4")]
mod arp;
mod data;
mod event;
mod names;
#[cfg(feature = "ipv6")]
mod ndp;
mod resolution;
mod resources;
mod stats;
mod transmit;

use core::net::{Ipv4Addr, Ipv6Addr};

pub use event::{AddressesFull, Delivery, Event, ResolveError, SendError};
pub use resources::Resources;
pub use stats::{DataStats, LinkStats, ResolutionStats, Stats};

use crate::device::{LinkDevice, TransmitError};
use crate::neighbor::NeighborCacheView;
use crate::queue::FrameQueueView;
pub use crate::resolver::Config;
use crate::resolver::ResolverView;
use crate::time::{self, Instant};
use crate::wire::ethernet::MAX_PAYLOAD_LEN;
use crate::wire::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Name, ipv6};

/// IPv4 addresses a node answers ARP for.
pub const MAX_IPV4_ADDRESSES: usize = 4;

/// IPv6 addresses a node answers neighbour solicitations for.
pub const MAX_IPV6_ADDRESSES: usize = 4;

/// What a node is and counts: everything of its state that has no capacity.
pub(crate) struct Identity {
    mac: EthernetAddress,
    name: Name,
    config: Config,
    ipv4: heapless::Vec<Ipv4Addr, MAX_IPV4_ADDRESSES>,
    ipv6: heapless::Vec<Ipv6Addr, MAX_IPV6_ADDRESSES>,
    stats: Stats,
    /// Answer requests for our name (presence turns this off while it
    /// probes whether the name is free).
    answering: bool,
    /// The device refused a frame during this poll: wait for room.
    tx_blocked: bool,
    /// The handler asked [`Node::run`](crate::Node::run) to return.
    stop: bool,
}

impl Identity {
    pub(crate) fn new(mac: EthernetAddress, name: Name, config: Config) -> Self {
        Identity {
            mac,
            name,
            config,
            ipv4: heapless::Vec::new(),
            ipv6: heapless::Vec::new(),
            stats: Stats::default(),
            answering: true,
            tx_blocked: false,
            stop: false,
        }
    }
}

/// The state of a node's own protocols: its identity, counters, caches,
/// resolutions and queue, borrowed from its [`Resources`]. A
/// [`Node`](crate::Node) and a [`Station`] both dereference to it, so its
/// accessors are the one place to read a node from.
pub struct State<'a> {
    id: &'a mut Identity,
    cache: &'a mut NeighborCacheView<Name>,
    resolver: &'a mut ResolverView<Name>,
    arp_cache: &'a mut NeighborCacheView<Ipv4Addr>,
    arp_resolver: &'a mut ResolverView<Ipv4Addr>,
    ndp_cache: &'a mut NeighborCacheView<Ipv6Addr>,
    ndp_resolver: &'a mut ResolverView<Ipv6Addr>,
    queue: &'a mut FrameQueueView,
}

impl<'a> State<'a> {
    /// The node's name.
    pub fn name(&self) -> &Name {
        &self.id.name
    }

    /// The node's MAC address.
    pub fn mac_address(&self) -> EthernetAddress {
        self.id.mac
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.id.config
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.id.stats
    }

    /// The name cache.
    pub fn cache(&self) -> &NeighborCacheView<Name> {
        self.cache
    }

    /// The IPv4 (ARP) cache.
    pub fn arp_cache(&self) -> &NeighborCacheView<Ipv4Addr> {
        self.arp_cache
    }

    /// The IPv4 addresses the node answers ARP for.
    pub fn ipv4_addresses(&self) -> &[Ipv4Addr] {
        &self.id.ipv4
    }

    /// The IPv6 neighbour cache.
    pub fn ndp_cache(&self) -> &NeighborCacheView<Ipv6Addr> {
        self.ndp_cache
    }

    /// The IPv6 addresses the node answers neighbour solicitations for.
    pub fn ipv6_addresses(&self) -> &[Ipv6Addr] {
        &self.id.ipv6
    }

    /// Whether the device refused a frame during the last poll: the frame
    /// waits, and the caller should wait until the device has room.
    #[inline]
    pub fn is_tx_blocked(&self) -> bool {
        self.id.tx_blocked
    }

    #[cfg(feature = "ipv4")]
    /// Answers ARP for `address` from now on (up to [`MAX_IPV4_ADDRESSES`]).
    /// The first address is also the sender address of the node's own ARP
    /// requests.
    pub fn add_ipv4_address(&mut self, address: Ipv4Addr) -> Result<(), AddressesFull> {
        if !self.id.ipv4.contains(&address) {
            self.id.ipv4.push(address).map_err(|_| AddressesFull)?;
        }
        Ok(())
    }

    #[cfg(feature = "ipv6")]
    /// Answers neighbour solicitations for `address` from now on (up to
    /// [`MAX_IPV6_ADDRESSES`]). Solicitations the node sends come from its
    /// first address of the target's scope, or from its link-local address
    /// derived from its MAC.
    pub fn add_ipv6_address(&mut self, address: Ipv6Addr) -> Result<(), AddressesFull> {
        if !self.id.ipv6.contains(&address) {
            self.id.ipv6.push(address).map_err(|_| AddressesFull)?;
        }
        Ok(())
    }

    /// The same state, borrowed for a shorter time (for one [`Station`]).
    #[inline]
    pub(crate) fn reborrow(&mut self) -> State<'_> {
        State {
            id: self.id,
            cache: self.cache,
            resolver: self.resolver,
            arp_cache: self.arp_cache,
            arp_resolver: self.arp_resolver,
            ndp_cache: self.ndp_cache,
            ndp_resolver: self.ndp_resolver,
            queue: self.queue,
        }
    }

    /// Starts a poll: nothing refused yet.
    #[inline]
    pub(crate) fn begin_poll(&mut self) {
        self.id.tx_blocked = false;
    }

    /// Notes that the device had no room for the frames a poll flushed.
    #[inline]
    pub(crate) fn flush_refused(&mut self) {
        self.id.stats.link.tx_busy += 1;
        self.id.tx_blocked = true;
    }

    /// Whether a handler asked the run loop to return; clears the request.
    #[inline]
    pub(crate) fn take_stop(&mut self) -> bool {
        core::mem::take(&mut self.id.stop)
    }

    /// Counts a received frame and decides whether the node looks at it:
    /// complete, well formed, not its own, and unicast to it or broadcast.
    #[inline]
    pub(crate) fn admit(&mut self, buffer: &[u8], len: usize) -> Option<EthernetRepr> {
        let stats = &mut self.id.stats.link;
        stats.rx_frames += 1;
        let Some(frame) = buffer.get(..len) else {
            stats.rx_truncated += 1;
            return None;
        };
        let Ok(header) = EthernetFrame::new_checked(frame).and_then(|eth| EthernetRepr::parse(&eth)) else {
            stats.rx_malformed += 1;
            return None;
        };
        if header.src_addr == self.id.mac {
            stats.rx_own += 1;
            return None;
        }
        if !(header.dst_addr == self.id.mac
            || header.dst_addr.is_broadcast()
            || ipv6::is_multicast_mac(header.dst_addr))
        {
            stats.rx_not_for_us += 1;
            return None;
        }
        Some(header)
    }

    /// Counts a frame of an ethertype neither the node nor a service takes.
    #[inline]
    pub(crate) fn count_foreign(&mut self) {
        self.id.stats.link.rx_foreign += 1;
    }

    /// Processes a name-ARP, ARP or data frame; returns what the application
    /// should hear of it. `None` for other ethertypes.
    #[inline]
    pub(crate) fn process<'f, D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        frame: &'f [u8],
    ) -> Result<Option<Event<'f, E>>, D::Error> {
        let body = &frame[crate::wire::ethernet::HEADER_LEN..];
        match header.ethertype {
            EtherType::NAME_ARP => self.process_name_arp(device, now, header, body),
            #[cfg(feature = "ipv4")]
            EtherType::ARP => self.process_arp(device, now, header, body),
            EtherType::DATA => Ok(self.process_data(now, header, frame.len(), body)),
            #[cfg(feature = "ipv6")]
            EtherType::IPV6 => self.process_ipv6(device, now, header, body),
            _ => Ok(None),
        }
    }

    /// The next event of a timer due at `now` (a failed resolution, a
    /// queued frame that cannot be resolved), sending the retries that are
    /// due on the way. Call until it returns `None`.
    pub(crate) fn next_timer_event<D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        if let Some(event) = self.next_resolution_timer::<names::NameArp, D, E>(device, now)? {
            return Ok(Some(event));
        }
        #[cfg(feature = "ipv4")]
        if let Some(event) = self.next_resolution_timer::<arp::Arp, D, E>(device, now)? {
            return Ok(Some(event));
        }
        #[cfg(feature = "ipv6")]
        if let Some(event) = self.next_resolution_timer::<ndp::Ndp, D, E>(device, now)? {
            return Ok(Some(event));
        }
        self.restart_orphan(device, now)
    }

    /// The earliest timer of the node's own protocols.
    #[inline]
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let arp = time::earliest(self.resolver.next_deadline(), self.arp_resolver.next_deadline());
        time::earliest(arp, self.ndp_resolver.next_deadline())
    }
}

/// A node at one instant: its [`State`] (it dereferences to it), its
/// device, and every action a handler or a service can take. Handlers get
/// it through a [`Context`](crate::runtime::Context); services get it
/// directly.
pub struct Station<'a, D: LinkDevice> {
    device: &'a mut D,
    state: State<'a>,
    now: Instant,
}

impl<'a, D: LinkDevice> Station<'a, D> {
    pub(crate) fn new(device: &'a mut D, state: State<'a>, now: Instant) -> Self {
        Station { device, state, now }
    }

    /// The time of the poll (or of [`Node::at`](crate::Node::at)).
    pub fn now(&self) -> Instant {
        self.now
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

    /// The cached MAC address of the IPv6 `address`, if any.
    pub fn lookup_ipv6(&self, address: Ipv6Addr) -> Option<EthernetAddress> {
        self.state.ndp_cache.lookup(&address, self.now)
    }

    /// The cached name of the station at `hardware_addr`, if any.
    pub fn reverse_lookup(&self, hardware_addr: EthernetAddress) -> Option<&Name> {
        self.state.cache.reverse_lookup(hardware_addr, self.now)
    }

    /// Starts resolving `name` unless it is cached or already in progress.
    ///
    /// Returns its MAC address if cached; `Ok(None)` means a resolution is
    /// running and a poll will report [`Event::Resolved`] or
    /// [`Event::ResolutionFailed`].
    pub fn resolve(&mut self, name: &Name) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.lookup(name) {
            return Ok(Some(mac));
        }
        self.state.start_resolution(self.device, self.now, name)?;
        Ok(None)
    }

    #[cfg(feature = "ipv4")]
    /// Starts an ARP resolution of `address` unless it is cached or already
    /// in progress; like [`resolve`](Self::resolve), with
    /// [`Event::ArpResolved`] or [`Event::ArpResolutionFailed`] to follow.
    pub fn resolve_ipv4(&mut self, address: Ipv4Addr) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.lookup_ipv4(address) {
            return Ok(Some(mac));
        }
        self.state.start_arp_resolution(self.device, self.now, address)?;
        Ok(None)
    }

    #[cfg(feature = "ipv6")]
    /// Starts resolving the IPv6 `address` by neighbour solicitation unless
    /// it is cached or already in progress; like [`resolve`](Self::resolve),
    /// with [`Event::Ipv6Resolved`] or [`Event::Ipv6ResolutionFailed`] to
    /// follow.
    pub fn resolve_ipv6(&mut self, address: Ipv6Addr) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.lookup_ipv6(address) {
            return Ok(Some(mac));
        }
        self.state.start_ipv6_resolution(self.device, self.now, address)?;
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
        self.state.id.transmit(self.device, to, ethertype, payload_len, fill)
    }

    /// Whether the node answers name-ARP requests for its own name
    /// (presence turns this off while it probes whether the name is free).
    pub fn set_answering(&mut self, answering: bool) {
        self.state.id.answering = answering;
    }

    /// Asks [`Node::run`](crate::Node::run) to return after this poll.
    pub fn stop(&mut self) {
        self.state.id.stop = true;
    }
}

impl<'a, D: LinkDevice> core::ops::Deref for Station<'a, D> {
    type Target = State<'a>;

    fn deref(&self) -> &State<'a> {
        &self.state
    }
}

impl<'a, D: LinkDevice> core::ops::DerefMut for Station<'a, D> {
    fn deref_mut(&mut self) -> &mut State<'a> {
        &mut self.state
    }
}
