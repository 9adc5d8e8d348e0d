//! The node: answers name-ARP for its own name and RFC 826 ARP for its own
//! IPv4 addresses, resolves peers' names and IPv4 addresses, sends and
//! receives data frames, and hosts further protocols ([`Service`]s: the
//! reliable transfer, presence, an ARP scan) on the same device.
//!
//! The node is a state machine driven by [`Node::poll`], which the caller
//! invokes with the current time whenever a frame may have arrived or the
//! deadline returned by the previous poll has passed; [`Node::run`] is that
//! loop, on any [`Clock`]. Each event goes to the application's
//! [`Handler`] together with a [`Context`] through which the handler acts
//! at once: answer the sender of a message, resolve a name, send. Every
//! event gets its own reaction, however many arrive in one poll.
//!
//! The node holds everything in fixed-size fields sized by const generics
//! and allocates nothing.
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
//! - Frames from the node's own MAC, unicast frames for other stations and
//!   frames of ethertypes nobody hosts are ignored; malformed frames and
//!   frames cut short are counted and dropped.

mod arp;
mod context;
mod data;
mod event;
mod names;
mod stats;
mod transmit;

use core::net::Ipv4Addr;

pub use context::{Context, Link};
pub use event::{AddressesFull, Delivery, Event, ResolveError, SendError};
pub use stats::{DataStats, LinkStats, ResolutionStats, Stats};

use crate::device::LinkDevice;
use crate::neighbor::NeighborCache;
use crate::queue::FrameQueue;
pub use crate::resolver::Config;
use crate::resolver::Resolver;
use crate::runtime::{Clock, Flow, Handler};
use crate::service::Service;
use crate::time::{self, Instant};
use crate::wire::ethernet::{MAX_BUFFERED_FRAME_LEN, MAX_PAYLOAD_LEN};
use crate::wire::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Name};

/// IPv4 addresses a node answers ARP for.
pub const MAX_IPV4_ADDRESSES: usize = 4;

/// Frames handled per [`Node::poll`] before timers get their turn, so a flood
/// cannot starve retries.
const RX_BUDGET: usize = 64;

/// A station on an Ethernet segment known by its name (and, optionally, by
/// IPv4 addresses), hosting the services `S` (`()` for none; a tuple for
/// several).
///
/// - `CACHE`: names cached, and IPv4 addresses cached (default 8 each).
/// - `PENDING`: resolutions in progress, recently answered or held off at
///   once, per protocol (default 4).
/// - `QUEUE_BYTES`: room for data waiting for resolution or for the device
///   (default 2048, one full-MTU frame plus small messages).
///
/// Its size with the defaults is stated in the README and checked there by
/// the test `readme_states_the_measured_node_size`; a third of it is the
/// receive buffer. `poll` needs no large stack frame.
pub struct Node<
    D: LinkDevice,
    S = (),
    const CACHE: usize = 8,
    const PENDING: usize = 4,
    const QUEUE_BYTES: usize = 2048,
> {
    device: D,
    /// Where frames are received, and where services put the payloads of
    /// their events once the frame is handled: a field rather than a stack
    /// array, so a poll does not clear 1514 bytes (9216 with `jumbo`)
    /// each time.
    rx_buffer: [u8; MAX_BUFFERED_FRAME_LEN],
    state: State<CACHE, PENDING, QUEUE_BYTES>,
    services: S,
}

/// Everything of the name layer but the device, so a received frame
/// (borrowed from the buffer) can be processed while the device sends
/// answers, and a handler can act while an event borrows the buffer.
pub(crate) struct State<const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> {
    mac: EthernetAddress,
    name: Name,
    config: Config,
    ipv4: heapless::Vec<Ipv4Addr, MAX_IPV4_ADDRESSES>,
    cache: NeighborCache<Name, CACHE>,
    resolver: Resolver<Name, PENDING>,
    arp_cache: NeighborCache<Ipv4Addr, CACHE>,
    arp_resolver: Resolver<Ipv4Addr, PENDING>,
    queue: FrameQueue<QUEUE_BYTES>,
    stats: Stats,
    /// Answer requests for our name (presence turns this off while it
    /// probes whether the name is free).
    answering: bool,
    /// The device refused a frame during this poll: wait for room.
    tx_blocked: bool,
    /// The handler asked [`Node::run`] to return.
    stop: bool,
}

impl<D: LinkDevice, S: Default, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize>
    Node<D, S, CACHE, PENDING, QUEUE_BYTES>
{
    /// A node called `name` on `device`, with default services (none, for
    /// `S = ()`).
    pub fn new(device: D, name: Name, config: Config) -> Self {
        Self::with_services(device, name, config, S::default())
    }
}

impl<D: LinkDevice, S, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize>
    Node<D, S, CACHE, PENDING, QUEUE_BYTES>
{
    /// A node called `name` on `device`, hosting `services`.
    pub fn with_services(device: D, name: Name, config: Config, services: S) -> Self {
        let mac = device.mac_address();
        let state = State {
            mac,
            name,
            config,
            ipv4: heapless::Vec::new(),
            cache: NeighborCache::new(),
            resolver: Resolver::new(),
            arp_cache: NeighborCache::new(),
            arp_resolver: Resolver::new(),
            queue: FrameQueue::new(),
            stats: Stats::default(),
            answering: true,
            tx_blocked: false,
            stop: false,
        };
        Node { device, rx_buffer: [0; MAX_BUFFERED_FRAME_LEN], state, services }
    }

    /// The node's name.
    pub fn name(&self) -> &Name {
        &self.state.name
    }

    /// The node's MAC address.
    pub fn mac_address(&self) -> EthernetAddress {
        self.state.mac
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.state.stats
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.state.config
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

    /// Largest data payload this node's device carries.
    pub fn max_payload_len(&self) -> usize {
        self.device.capabilities().mtu.min(MAX_PAYLOAD_LEN)
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, mutably (for backend-specific calls).
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// The hosted services.
    pub fn services(&self) -> &S {
        &self.services
    }

    /// The hosted services, mutably.
    pub fn services_mut(&mut self) -> &mut S {
        &mut self.services
    }

    /// Gives the device back.
    pub fn into_device(self) -> D {
        self.device
    }

    /// Gives the device and the services back.
    pub fn into_parts(self) -> (D, S) {
        (self.device, self.services)
    }

    /// Whether the device refused a frame during the last poll: the frame
    /// waits, and the caller should wait until the device has room.
    pub fn is_tx_blocked(&self) -> bool {
        self.state.tx_blocked
    }

    /// The node at `now`: what a handler gets, for acting outside a handler
    /// (sending the first message, starting a resolution).
    pub fn at(&mut self, now: Instant) -> Context<'_, D, S, CACHE, PENDING, QUEUE_BYTES> {
        Context::new(Link::new(&mut self.device, &mut self.state, now), &mut self.services)
    }

    /// The cached MAC address of `name`, if any.
    pub fn lookup(&self, name: &Name, now: Instant) -> Option<EthernetAddress> {
        self.state.cache.lookup(name, now)
    }

    /// The cached MAC address of `address`, if any.
    pub fn lookup_ipv4(&self, address: Ipv4Addr, now: Instant) -> Option<EthernetAddress> {
        self.state.arp_cache.lookup(&address, now)
    }

    /// [`Link::resolve`] at `now`.
    pub fn resolve(&mut self, now: Instant, name: &Name) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        self.at(now).resolve(name)
    }

    /// [`Link::resolve_ipv4`] at `now`.
    pub fn resolve_ipv4(
        &mut self,
        now: Instant,
        address: Ipv4Addr,
    ) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        self.at(now).resolve_ipv4(address)
    }

    /// [`Link::send`] at `now`.
    pub fn send(&mut self, now: Instant, to: &Name, payload: &[u8]) -> Result<Delivery, SendError<D::Error>> {
        self.at(now).send(to, payload)
    }

    /// [`Link::send_to_address`] at `now`.
    pub fn send_to_address(
        &mut self,
        now: Instant,
        to: EthernetAddress,
        payload: &[u8],
    ) -> Result<Delivery, SendError<D::Error>> {
        self.at(now).send_to_address(to, payload)
    }

    /// [`Link::add_ipv4_address`].
    pub fn add_ipv4_address(&mut self, address: Ipv4Addr) -> Result<(), AddressesFull> {
        self.state.add_ipv4_address(address)
    }
}

impl<D: LinkDevice, S: Service, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize>
    Node<D, S, CACHE, PENDING, QUEUE_BYTES>
{
    /// Processes received frames and timers, handing each event to
    /// `handler` with a [`Context`] to act through.
    ///
    /// Returns when the node next needs polling even if no frame arrives:
    /// `None` means only when a frame arrives, `Some(t)` with `t <= now`
    /// means poll again right away (frames are left, or work is waiting for
    /// the device: see [`is_tx_blocked`](Self::is_tx_blocked)).
    pub fn poll<H>(&mut self, now: Instant, handler: &mut H) -> Result<Option<Instant>, D::Error>
    where
        H: Handler<D, S, CACHE, PENDING, QUEUE_BYTES>,
    {
        let Node { device, rx_buffer, state, services } = self;
        state.tx_blocked = false;
        let mut frames_left = true;
        for _ in 0..RX_BUDGET {
            let len = match device.receive(rx_buffer) {
                Ok(len) => len,
                Err(nb::Error::WouldBlock) => {
                    frames_left = false;
                    break;
                }
                Err(nb::Error::Other(err)) => return Err(err),
            };
            let Some(header) = state.admit(rx_buffer, len) else { continue };
            let frame = &rx_buffer[..len];
            let own = matches!(header.ethertype, EtherType::NAME_ARP | EtherType::ARP | EtherType::DATA);
            let event = if own { state.process(device, now, &header, frame)? } else { None };
            if services.accepts(header.ethertype) {
                services.receive(&mut Link::new(device, state, now), &header, frame)?;
            } else if !own {
                state.stats.link.rx_foreign += 1;
            }
            if let Some(event) = event {
                services.on_node_event(&mut Link::new(device, state, now), &event)?;
                handler.on_event(&mut Context::new(Link::new(device, state, now), services), event);
            }
            Self::drain_services(device, rx_buffer, state, services, now, handler);
        }
        while let Some(event) = state.next_timer_event(device, now)? {
            services.on_node_event(&mut Link::new(device, state, now), &event)?;
            handler.on_event(&mut Context::new(Link::new(device, state, now), services), event);
        }
        let wanted = handler.on_poll(&mut Context::new(Link::new(device, state, now), services));
        // Services send what is due, including what the handler just gave
        // them; whatever a late event makes the handler give them shows in
        // `poll_at` as due now.
        services.poll(&mut Link::new(device, state, now))?;
        Self::drain_services(device, rx_buffer, state, services, now, handler);
        let queue_left = state.flush_queue(device, now)?;
        // Everything this poll sent leaves now (devices may batch).
        match device.flush() {
            Ok(()) => {}
            Err(nb::Error::WouldBlock) => {
                state.stats.link.tx_busy += 1;
                state.tx_blocked = true;
            }
            Err(nb::Error::Other(err)) => return Err(err),
        }
        let next = time::earliest(time::earliest(state.next_deadline(), services.poll_at()), wanted);
        Ok(if frames_left || queue_left { Some(now) } else { next })
    }

    /// Hands every event the services have ready to `handler`.
    fn drain_services<H: Handler<D, S, CACHE, PENDING, QUEUE_BYTES>>(
        device: &mut D,
        scratch: &mut [u8; MAX_BUFFERED_FRAME_LEN],
        state: &mut State<CACHE, PENDING, QUEUE_BYTES>,
        services: &mut S,
        now: Instant,
        handler: &mut H,
    ) {
        while let Some(event) = services.next_event(scratch) {
            handler.on_event(&mut Context::new(Link::new(device, state, now), services), event);
        }
    }

    /// Runs the node on `clock` until the handler calls
    /// [`Link::stop`] (through its context) or the clock's time ends (a replayed capture is
    /// exhausted and no timer is left).
    ///
    /// Between polls it sleeps through the clock: until a frame may have
    /// arrived or the next deadline, and, when the device refused a frame,
    /// until it has room again, so a full transmit queue costs no CPU.
    pub fn run<K, H>(&mut self, clock: &mut K, handler: &mut H) -> Result<(), D::Error>
    where
        K: Clock<D>,
        H: Handler<D, S, CACHE, PENDING, QUEUE_BYTES>,
    {
        self.state.stop = false;
        loop {
            let now = clock.now(&self.device);
            let next = self.poll(now, handler)?;
            if self.state.stop {
                return Ok(());
            }
            let blocked = self.state.tx_blocked;
            let due = next.filter(|&next| next > now || !blocked);
            if due.is_some_and(|due| due <= now) {
                continue;
            }
            if clock.wait(&mut self.device, due, blocked)? == Flow::End {
                return Ok(());
            }
        }
    }
}

impl<const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> State<CACHE, PENDING, QUEUE_BYTES> {
    /// Counts a received frame and decides whether the node looks at it:
    /// complete, well formed, not its own, and unicast to it or broadcast.
    fn admit(&mut self, buffer: &[u8], len: usize) -> Option<EthernetRepr> {
        self.stats.link.rx_frames += 1;
        let Some(frame) = buffer.get(..len) else {
            self.stats.link.rx_truncated += 1;
            return None;
        };
        let Ok(header) = EthernetFrame::new_checked(frame).and_then(|eth| EthernetRepr::parse(&eth)) else {
            self.stats.link.rx_malformed += 1;
            return None;
        };
        if header.src_addr == self.mac {
            self.stats.link.rx_own += 1;
            return None;
        }
        if !(header.dst_addr == self.mac || header.dst_addr.is_broadcast()) {
            self.stats.link.rx_not_for_us += 1;
            return None;
        }
        Some(header)
    }

    /// Processes a name-ARP, ARP or data frame; returns what the application
    /// should hear of it.
    fn process<'f, D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        frame: &'f [u8],
    ) -> Result<Option<Event<'f>>, D::Error> {
        let body = &frame[crate::wire::ethernet::HEADER_LEN..];
        match header.ethertype {
            EtherType::NAME_ARP => self.process_name_arp(device, now, header, body),
            EtherType::ARP => self.process_arp(device, now, header, body),
            _ => Ok(self.process_data(now, header, frame.len(), body)),
        }
    }

    /// The next event of a timer due at `now` (a failed resolution, a
    /// queued frame that cannot be resolved), sending the retries that are
    /// due on the way. Call until it returns `None`.
    fn next_timer_event<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
    ) -> Result<Option<Event<'static>>, D::Error> {
        if let Some(event) = self.next_name_timer(device, now)? {
            return Ok(Some(event));
        }
        if let Some(event) = self.next_arp_timer(device, now)? {
            return Ok(Some(event));
        }
        self.restart_orphan(device, now)
    }

    /// The earliest timer of the name layer.
    fn next_deadline(&self) -> Option<Instant> {
        time::earliest(self.resolver.next_deadline(), self.arp_resolver.next_deadline())
    }

    fn add_ipv4_address(&mut self, address: Ipv4Addr) -> Result<(), AddressesFull> {
        if !self.ipv4.contains(&address) {
            self.ipv4.push(address).map_err(|_| AddressesFull)?;
        }
        Ok(())
    }
}
