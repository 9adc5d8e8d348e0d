//! The node: answers name-ARP for its own name and RFC 826 ARP for its own
//! IPv4 addresses, resolves peers' names and IPv4 addresses, and sends and
//! receives data frames, over any [`LinkDevice`].
//!
//! The node is a state machine driven by [`Node::poll`], which the caller
//! invokes with the current time whenever a frame may have arrived or the
//! deadline returned by the previous poll has passed. It holds everything in
//! fixed-size fields sized by const generics and allocates nothing.
//!
//! # Rules
//!
//! - A name-ARP *request* (its MAC field all zero) for the node's own name is
//!   answered with a unicast reply to the requester. Requests for other names
//!   are counted and ignored.
//! - A name-ARP *reply* is accepted only when it is addressed to this node
//!   and answers a resolution the node has in progress. Anything else is an
//!   unsolicited reply: counted, never cached, so nobody can poison the cache
//!   by announcing a name.
//! - A resolution sends up to [`Config::max_attempts`] broadcast requests,
//!   [`Config::retry_interval`] apart, and fails one interval after the last.
//!   After a failure the name is held off for [`Config::failure_holdoff`]:
//!   no new request for it goes out before then (a per-name rate limit).
//! - Data for a name whose MAC is cached goes out at once; otherwise it waits
//!   in a bounded queue while the name resolves, and is dropped, with an
//!   event saying how many frames, if resolution fails.
//! - ARP follows the same rules with IPv4 addresses for names: requests for
//!   the node's addresses ([`Node::add_ipv4_address`]) are answered, replies
//!   are accepted only for resolutions in progress, with the same retries,
//!   hold-off and bounded, expiring cache.
//! - Frames from the node's own MAC, other ethertypes and unicast frames for
//!   other stations are ignored; malformed frames are counted and dropped.

use core::fmt;
use core::net::Ipv4Addr;

use crate::device::{self, LinkDevice};
use crate::neighbor::NeighborCache;
use crate::queue::{FrameQueue, Keep};
use crate::resolver::{Due, Refusal, Resolver};
use crate::time::{self, Duration, Instant};
use crate::wire::ethernet::{MAX_FRAME_LEN, MAX_PAYLOAD_LEN};
use crate::wire::{
    self, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, Name,
    NameArpPacket, NameArpRepr,
};

/// IPv4 addresses a node answers ARP for.
pub const MAX_IPV4_ADDRESSES: usize = 4;

/// Frames handled per [`Node::poll`] before timers get their turn, so a flood
/// cannot starve retries.
const RX_BUDGET: usize = 64;

/// Timing of resolution and caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Wait for a reply before sending the request again.
    pub retry_interval: Duration,
    /// Requests sent per resolution before giving up (at least 1).
    pub max_attempts: u8,
    /// How long a resolved name stays cached.
    pub cache_ttl: Duration,
    /// After a failed resolution, how long before the name may be requested
    /// again.
    pub failure_holdoff: Duration,
}

impl Default for Config {
    /// 3 attempts 1 s apart, names cached for 5 minutes, 1 s hold-off.
    fn default() -> Self {
        Config {
            retry_interval: Duration::from_secs(1),
            max_attempts: 3,
            cache_ttl: Duration::from_secs(300),
            failure_holdoff: Duration::from_secs(1),
        }
    }
}

/// Counters of everything the node saw and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Frames received from the device.
    pub rx_frames: u64,
    /// Frames larger than the receive buffer, dropped.
    pub rx_truncated: u64,
    /// Frames that failed to parse, dropped.
    pub rx_malformed: u64,
    /// Frames of ethertypes the node does not speak.
    pub rx_foreign: u64,
    /// Frames carrying the node's own source MAC (loops, duplicates).
    pub rx_own: u64,
    /// Frames unicast to another station.
    pub rx_not_for_us: u64,
    /// name-ARP and ARP requests for names or addresses not the node's.
    pub rx_requests_for_others: u64,
    /// name-ARP and ARP replies nobody asked for (ignored, never cached).
    pub rx_unsolicited_replies: u64,
    /// Data frames delivered to the application.
    pub rx_data: u64,
    /// Frames handed to the device.
    pub tx_frames: u64,
    /// Frames the device was too busy to take, dropped.
    pub tx_busy_drops: u64,
    /// name-ARP requests sent.
    pub requests_sent: u64,
    /// name-ARP replies sent.
    pub replies_sent: u64,
    /// ARP requests sent.
    pub arp_requests_sent: u64,
    /// ARP replies sent.
    pub arp_replies_sent: u64,
    /// Data frames sent.
    pub data_sent: u64,
    /// Resolutions that ran out of attempts.
    pub resolution_failures: u64,
    /// Queued data frames dropped because their peer never resolved.
    pub queue_drops: u64,
}

/// Something the application should know about, passed to the `poll`
/// callback. Borrowed data is only valid during the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event<'a> {
    /// A data frame arrived for this node.
    Data {
        /// The sender's MAC address.
        from: EthernetAddress,
        /// The sender's name, if this node has it cached.
        from_name: Option<&'a Name>,
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
        name: &'a Name,
        /// Its MAC address.
        hardware_addr: EthernetAddress,
    },
    /// A resolution ran out of attempts without a reply.
    ResolutionFailed {
        /// The name nobody answered for.
        name: &'a Name,
        /// Queued data frames for it that were dropped.
        dropped_frames: usize,
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
    },
    /// An ARP resolution ran out of attempts without a reply.
    ArpResolutionFailed {
        /// The address nobody answered for.
        address: Ipv4Addr,
    },
}

/// What [`Node::send`] did with a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Delivery {
    /// The frame went to the device.
    Sent,
    /// The frame waits for the name to resolve (or the device to be ready);
    /// `poll` sends it.
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

/// Why [`Node::send`] refused a payload.
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
    /// The queue of frames waiting for resolution is full.
    QueueFull,
    /// The name could not be resolved.
    Resolve(ResolveError<E>),
    /// The device failed.
    Device(E),
}

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

/// A station on an Ethernet segment known by its name (and, optionally, by
/// IPv4 addresses).
///
/// - `CACHE`: names cached, and IPv4 addresses cached (default 8 each).
/// - `PENDING`: resolutions in progress or held off at once, per protocol
///   (default 4).
/// - `QUEUE_BYTES`: room for data waiting for resolution (default 2048,
///   one full-MTU frame plus small messages).
///
/// With the defaults and a zero-sized device the node is 5288 bytes, a
/// third of it the receive buffer; a test (`node_size_with_defaults`) keeps
/// it under 8 KiB. `poll` needs no large stack frame.
pub struct Node<D: LinkDevice, const CACHE: usize = 8, const PENDING: usize = 4, const QUEUE_BYTES: usize = 2048> {
    device: D,
    /// Where frames are received: a field rather than a stack array, so a
    /// poll does not clear 1514 bytes each time.
    rx_buffer: [u8; MAX_FRAME_LEN],
    state: State<CACHE, PENDING, QUEUE_BYTES>,
}

/// Everything but the device and its buffer, so a received frame (borrowed
/// from the buffer) can be processed while the device sends answers.
struct State<const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> {
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
}

/// [`Node::add_ipv4_address`] found every slot in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddressesFull;

impl<D: LinkDevice, const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize>
    Node<D, CACHE, PENDING, QUEUE_BYTES>
{
    /// A node called `name` on `device`.
    pub fn new(device: D, name: Name, config: Config) -> Self {
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
        };
        Node { device, rx_buffer: [0; MAX_FRAME_LEN], state }
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

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, mutably (for backend-specific calls such as waiting).
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// Gives the device back.
    pub fn into_device(self) -> D {
        self.device
    }

    /// The cached MAC address of `name`, if any.
    pub fn lookup(&self, name: &[u8], now: Instant) -> Option<EthernetAddress> {
        self.state.cache.lookup(name, now)
    }

    /// Answers ARP for `address` from now on (up to
    /// [`MAX_IPV4_ADDRESSES`]). The first address is also the sender address
    /// of the node's own ARP requests.
    pub fn add_ipv4_address(&mut self, address: Ipv4Addr) -> Result<(), AddressesFull> {
        if !self.state.ipv4.contains(&address) {
            self.state.ipv4.push(address).map_err(|_| AddressesFull)?;
        }
        Ok(())
    }

    /// The IPv4 addresses the node answers ARP for.
    pub fn ipv4_addresses(&self) -> &[Ipv4Addr] {
        &self.state.ipv4
    }

    /// The IPv4 (ARP) cache.
    pub fn arp_cache(&self) -> &NeighborCache<Ipv4Addr, CACHE> {
        &self.state.arp_cache
    }

    /// The cached MAC address of `address`, if any.
    pub fn lookup_ipv4(&self, address: Ipv4Addr, now: Instant) -> Option<EthernetAddress> {
        self.state.arp_cache.lookup(&address, now)
    }

    /// Starts an ARP resolution of `address` unless it is cached or already
    /// in progress; like [`resolve`](Self::resolve), with
    /// [`Event::ArpResolved`] or [`Event::ArpResolutionFailed`] to follow.
    pub fn resolve_ipv4(
        &mut self,
        now: Instant,
        address: Ipv4Addr,
    ) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.state.arp_cache.lookup(&address, now) {
            return Ok(Some(mac));
        }
        if self.state.arp_resolver.start(now, &address, &self.state.config)? {
            self.state.send_arp_request(&mut self.device, address).map_err(ResolveError::Device)?;
        }
        Ok(None)
    }

    /// Largest data payload this node's device carries.
    pub fn max_payload_len(&self) -> usize {
        self.device.capabilities().mtu.min(MAX_PAYLOAD_LEN)
    }

    /// Processes received frames and timers. Calls `on_event` for each event.
    ///
    /// Returns when the node next needs polling even if no frame arrives:
    /// `None` means only when a frame arrives, `Some(t)` with `t <= now`
    /// means poll again right away (work is left over).
    pub fn poll(&mut self, now: Instant, mut on_event: impl FnMut(Event<'_>)) -> Result<Option<Instant>, D::Error> {
        let mut busy = true;
        for _ in 0..RX_BUDGET {
            match self.device.receive(&mut self.rx_buffer) {
                Ok(len) => self.state.process(&mut self.device, now, &self.rx_buffer, len, &mut on_event)?,
                Err(nb::Error::WouldBlock) => {
                    busy = false;
                    break;
                }
                Err(nb::Error::Other(err)) => return Err(err),
            }
        }
        self.state.run_timers(&mut self.device, now, &mut on_event)?;
        let queue_blocked = self.state.flush_queue(&mut self.device, now, &mut on_event)?;
        let next = time::earliest(self.state.resolver.next_deadline(), self.state.arp_resolver.next_deadline());
        Ok(if busy || queue_blocked { Some(now) } else { next })
    }

    /// Starts resolving `name` unless it is cached or already in progress.
    ///
    /// Returns its MAC address if cached; `Ok(None)` means a resolution is
    /// running and `poll` will report [`Event::Resolved`] or
    /// [`Event::ResolutionFailed`].
    pub fn resolve(&mut self, now: Instant, name: &Name) -> Result<Option<EthernetAddress>, ResolveError<D::Error>> {
        if let Some(mac) = self.state.cache.lookup(name, now) {
            return Ok(Some(mac));
        }
        self.state.start_resolution(&mut self.device, now, name)?;
        Ok(None)
    }

    /// Sends `payload` in a data frame to the station called `to`,
    /// resolving the name first when it is not cached.
    pub fn send(&mut self, now: Instant, to: &Name, payload: &[u8]) -> Result<Delivery, SendError<D::Error>> {
        let max = self.max_payload_len();
        if payload.len() > max {
            return Err(SendError::PayloadTooLong { len: payload.len(), max });
        }
        // Frames already waiting for `to` go first, so order is preserved.
        if let Some(mac) = self.state.cache.lookup(to, now).filter(|_| !self.state.queue.contains(to.as_bytes())) {
            match transmit_data(&mut self.device, &mut self.state.stats, self.state.mac, mac, payload) {
                Ok(()) => return Ok(Delivery::Sent),
                Err(nb::Error::Other(err)) => return Err(SendError::Device(err)),
                Err(nb::Error::WouldBlock) => {}
            }
        } else {
            self.state.start_resolution(&mut self.device, now, to)?;
        }
        self.state.queue.push(to, payload).map_err(|_| SendError::QueueFull)?;
        Ok(Delivery::Queued)
    }

    /// Sends `payload` in a data frame straight to a MAC address (for
    /// example to answer the sender of a data frame).
    pub fn send_to_address(&mut self, to: EthernetAddress, payload: &[u8]) -> nb::Result<(), SendError<D::Error>> {
        let max = self.max_payload_len();
        if payload.len() > max {
            return Err(nb::Error::Other(SendError::PayloadTooLong { len: payload.len(), max }));
        }
        transmit_data(&mut self.device, &mut self.state.stats, self.state.mac, to, payload)
            .map_err(|err| err.map(SendError::Device))
    }
}

impl<const CACHE: usize, const PENDING: usize, const QUEUE_BYTES: usize> State<CACHE, PENDING, QUEUE_BYTES> {
    fn process<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        buffer: &[u8],
        len: usize,
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<(), D::Error> {
        self.stats.rx_frames += 1;
        let Some(frame) = buffer.get(..len) else {
            self.stats.rx_truncated += 1;
            return Ok(());
        };
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            self.stats.rx_malformed += 1;
            return Ok(());
        };
        let Ok(header) = EthernetRepr::parse(&eth) else {
            self.stats.rx_malformed += 1;
            return Ok(());
        };
        if header.src_addr == self.mac {
            self.stats.rx_own += 1;
            return Ok(());
        }
        match header.ethertype {
            EtherType::NAME_ARP => self.process_name_arp(device, now, &header, eth.payload(), on_event),
            EtherType::ARP => self.process_arp(device, now, &header, eth.payload(), on_event),
            EtherType::DATA => {
                self.process_data(now, &header, frame.len(), eth.payload(), on_event);
                Ok(())
            }
            _ => {
                self.stats.rx_foreign += 1;
                Ok(())
            }
        }
    }

    /// The parsed body, or `None` after counting it as malformed.
    fn well_formed<T>(&mut self, header: &EthernetRepr, parsed: wire::Result<T>) -> Option<T> {
        match parsed {
            Ok(repr) => Some(repr),
            Err(err) => {
                debug!("dropping malformed {:?} from {:?}: {:?}", header.ethertype, header.src_addr, err);
                self.stats.rx_malformed += 1;
                None
            }
        }
    }

    fn process_name_arp<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        body: &[u8],
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<(), D::Error> {
        let Some(repr) = self.well_formed(header, NameArpRepr::parse(&NameArpPacket::new_unchecked(body))) else {
            return Ok(());
        };
        match repr {
            NameArpRepr::Request { name } => {
                if !(header.dst_addr.is_broadcast() || header.dst_addr == self.mac) {
                    self.stats.rx_not_for_us += 1;
                } else if name != self.name {
                    self.stats.rx_requests_for_others += 1;
                } else {
                    let reply = NameArpRepr::Reply { name, hardware_addr: self.mac };
                    let sent = transmit_body(device, &mut self.stats, self.mac, header.src_addr, &reply);
                    if count_sent(sent, &mut self.stats.replies_sent, &mut self.stats.tx_busy_drops)? {
                        debug!("answered {:?} for our name", header.src_addr);
                        on_event(Event::Answered { requester: header.src_addr });
                    }
                }
            }
            NameArpRepr::Reply { name, hardware_addr } => {
                let answer = (header.dst_addr == self.mac).then(|| self.resolver.finish(&name)).flatten();
                if let Some(name) = answer {
                    debug!("{:?} is at {:?}", name, hardware_addr);
                    self.cache.fill(name.clone(), hardware_addr, now, self.config.cache_ttl);
                    on_event(Event::Resolved { name: &name, hardware_addr });
                } else if header.dst_addr == self.mac || header.dst_addr.is_broadcast() {
                    debug!("ignoring unsolicited reply {:?} is at {:?}", name, hardware_addr);
                    self.stats.rx_unsolicited_replies += 1;
                } else {
                    self.stats.rx_not_for_us += 1;
                }
            }
        }
        Ok(())
    }

    fn process_arp<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        header: &EthernetRepr,
        body: &[u8],
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<(), D::Error> {
        let parsed = ArpPacket::new_checked(body).and_then(|packet| ArpRepr::parse(&packet));
        let Some(arp) = self.well_formed(header, parsed) else {
            return Ok(());
        };
        if !(header.dst_addr.is_broadcast() || header.dst_addr == self.mac) {
            self.stats.rx_not_for_us += 1;
            return Ok(());
        }
        match arp.operation {
            ArpOperation::Request if self.ipv4.contains(&arp.target_protocol_addr) && !arp.is_gratuitous() => {
                let reply = ArpRepr {
                    operation: ArpOperation::Reply,
                    source_hardware_addr: self.mac,
                    source_protocol_addr: arp.target_protocol_addr,
                    target_hardware_addr: arp.source_hardware_addr,
                    target_protocol_addr: arp.source_protocol_addr,
                };
                let sent = transmit_body(device, &mut self.stats, self.mac, arp.source_hardware_addr, &reply);
                if count_sent(sent, &mut self.stats.arp_replies_sent, &mut self.stats.tx_busy_drops)? {
                    on_event(Event::ArpAnswered {
                        requester: arp.source_hardware_addr,
                        address: arp.target_protocol_addr,
                    });
                }
            }
            ArpOperation::Request => self.stats.rx_requests_for_others += 1,
            ArpOperation::Reply => {
                let address = arp.source_protocol_addr;
                if header.dst_addr == self.mac && self.arp_resolver.finish(&address).is_some() {
                    self.arp_cache.fill(address, arp.source_hardware_addr, now, self.config.cache_ttl);
                    on_event(Event::ArpResolved { address, hardware_addr: arp.source_hardware_addr });
                } else {
                    self.stats.rx_unsolicited_replies += 1;
                }
            }
        }
        Ok(())
    }

    fn process_data(
        &mut self,
        now: Instant,
        header: &EthernetRepr,
        frame_len: usize,
        payload: &[u8],
        on_event: &mut impl FnMut(Event<'_>),
    ) {
        if !(header.dst_addr == self.mac || header.dst_addr.is_broadcast()) {
            self.stats.rx_not_for_us += 1;
            return;
        }
        let payload = wire::data::message(frame_len, payload);
        self.stats.rx_data += 1;
        let from_name = self.cache.reverse_lookup(header.src_addr, now);
        on_event(Event::Data { from: header.src_addr, from_name, payload });
    }

    fn start_resolution<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        name: &Name,
    ) -> Result<(), ResolveError<D::Error>> {
        if self.resolver.start(now, name, &self.config)? {
            debug!("resolving {:?}", name);
            request_name(device, &mut self.stats, self.mac, name).map_err(ResolveError::Device)?;
        }
        Ok(())
    }

    fn send_arp_request<D: LinkDevice>(&mut self, device: &mut D, address: Ipv4Addr) -> Result<(), D::Error> {
        let source = self.source_ipv4();
        request_ipv4(device, &mut self.stats, self.mac, source, address)
    }

    /// The sender address of the node's ARP requests: its first address, or
    /// 0.0.0.0 (like an RFC 5227 probe) if it has none.
    fn source_ipv4(&self) -> Ipv4Addr {
        self.ipv4.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    fn run_timers<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<(), D::Error> {
        let (device, stats, queue, mac) = (device, &mut self.stats, &mut self.queue, self.mac);
        self.resolver.run_timers(now, &self.config, |name, due| match due {
            Due::Retry => request_name(device, stats, mac, name),
            Due::Failed { attempts } => {
                let dropped_frames = queue.remove_all(name.as_bytes());
                stats.resolution_failures += 1;
                stats.queue_drops += dropped_frames as u64;
                warn!("no answer for {:?} after {} requests", name, attempts);
                on_event(Event::ResolutionFailed { name, dropped_frames });
                Ok(())
            }
        })?;
        let source = self.source_ipv4();
        let (device, stats) = (device, &mut self.stats);
        self.arp_resolver.run_timers(now, &self.config, |&address, due| match due {
            Due::Retry => request_ipv4(device, stats, mac, source, address),
            Due::Failed { .. } => {
                stats.resolution_failures += 1;
                on_event(Event::ArpResolutionFailed { address });
                Ok(())
            }
        })
    }

    /// Sends queued frames whose peer is now cached. Returns whether the
    /// device refused some, so the caller should poll again soon.
    fn flush_queue<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<bool, D::Error> {
        if self.queue.is_empty() {
            return Ok(false);
        }
        let (cache, device, stats, mac) = (&self.cache, device, &mut self.stats, self.mac);
        let mut blocked = false;
        let mut failure = None;
        self.queue.retain(|name, payload| {
            let Some(peer) = cache.lookup(name, now).filter(|_| !blocked) else {
                return Keep::Yes;
            };
            match transmit_data(device, stats, mac, peer, payload) {
                Ok(()) => Keep::No,
                Err(err) => {
                    blocked = true;
                    if let nb::Error::Other(err) = err {
                        failure = Some(err);
                    }
                    Keep::Yes
                }
            }
        });
        if let Some(err) = failure {
            return Err(err);
        }
        self.restart_orphans(device, now, on_event)?;
        Ok(blocked)
    }

    /// Frames whose peer is neither cached nor being resolved (its entry was
    /// evicted or expired while they waited) get a fresh resolution, or are
    /// dropped with an event if none can start.
    fn restart_orphans<D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        on_event: &mut impl FnMut(Event<'_>),
    ) -> Result<(), D::Error> {
        loop {
            let orphan = self
                .queue
                .iter()
                .map(|(name, _)| name)
                .find(|name| self.cache.lookup(*name, now).is_none() && !self.resolver.is_tracked(*name));
            let Some(name) = orphan.and_then(|name| Name::new(name).ok()) else {
                return Ok(());
            };
            match self.start_resolution(device, now, &name) {
                Ok(()) => {}
                Err(ResolveError::Device(err)) => return Err(err),
                Err(_) => {
                    let dropped_frames = self.queue.remove_all(name.as_bytes());
                    self.stats.queue_drops += dropped_frames as u64;
                    on_event(Event::ResolutionFailed { name: &name, dropped_frames });
                }
            }
        }
    }
}

/// Sends a frame through [`device::transmit_frame`], counting it.
fn transmit_counted<D: LinkDevice>(
    device: &mut D,
    stats: &mut Stats,
    header: EthernetRepr,
    payload_len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> nb::Result<(), D::Error> {
    device::transmit_frame(device, header, payload_len, fill)?;
    stats.tx_frames += 1;
    Ok(())
}

/// A protocol body the node sends in an Ethernet frame of its own ethertype.
trait Body {
    const ETHERTYPE: EtherType;
    fn len(&self) -> usize;
    fn write(&self, payload: &mut [u8]);
}

impl Body for NameArpRepr {
    const ETHERTYPE: EtherType = EtherType::NAME_ARP;
    fn len(&self) -> usize {
        self.buffer_len()
    }
    fn write(&self, payload: &mut [u8]) {
        self.emit(&mut NameArpPacket::new_unchecked(payload))
    }
}

impl Body for ArpRepr {
    const ETHERTYPE: EtherType = EtherType::ARP;
    fn len(&self) -> usize {
        self.buffer_len()
    }
    fn write(&self, payload: &mut [u8]) {
        self.emit(&mut ArpPacket::new_unchecked(payload))
    }
}

/// Sends `body` from `from` to `to`, counting the frame.
fn transmit_body<D: LinkDevice, B: Body>(
    device: &mut D,
    stats: &mut Stats,
    from: EthernetAddress,
    to: EthernetAddress,
    body: &B,
) -> nb::Result<(), D::Error> {
    let header = EthernetRepr { src_addr: from, dst_addr: to, ethertype: B::ETHERTYPE };
    transmit_counted(device, stats, header, body.len(), |payload| body.write(payload))
}

/// Broadcasts "who has `name`?".
fn request_name<D: LinkDevice>(
    device: &mut D,
    stats: &mut Stats,
    mac: EthernetAddress,
    name: &Name,
) -> Result<(), D::Error> {
    let request = NameArpRepr::Request { name: name.clone() };
    let sent = transmit_body(device, stats, mac, EthernetAddress::BROADCAST, &request);
    count_sent(sent, &mut stats.requests_sent, &mut stats.tx_busy_drops).map(drop)
}

/// Broadcasts "who has `target`? tell `source`".
fn request_ipv4<D: LinkDevice>(
    device: &mut D,
    stats: &mut Stats,
    mac: EthernetAddress,
    source: Ipv4Addr,
    target: Ipv4Addr,
) -> Result<(), D::Error> {
    let request = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: source,
        target_hardware_addr: EthernetAddress::UNSPECIFIED,
        target_protocol_addr: target,
    };
    let sent = transmit_body(device, stats, mac, EthernetAddress::BROADCAST, &request);
    count_sent(sent, &mut stats.arp_requests_sent, &mut stats.tx_busy_drops).map(drop)
}

/// Counts a frame that went out in `counter`, or one the busy device
/// dropped in `busy_drops` (for a request, the retry timer covers it as if
/// it were lost on the wire). Returns whether it went out.
fn count_sent<E>(sent: nb::Result<(), E>, counter: &mut u64, busy_drops: &mut u64) -> Result<bool, E> {
    match sent {
        Ok(()) => *counter += 1,
        Err(nb::Error::WouldBlock) => *busy_drops += 1,
        Err(nb::Error::Other(err)) => return Err(err),
    }
    Ok(sent.is_ok())
}

fn transmit_data<D: LinkDevice>(
    device: &mut D,
    stats: &mut Stats,
    from: EthernetAddress,
    to: EthernetAddress,
    payload: &[u8],
) -> nb::Result<(), D::Error> {
    let header = EthernetRepr { src_addr: from, dst_addr: to, ethertype: EtherType::DATA };
    transmit_counted(device, stats, header, payload.len(), |buffer| buffer.copy_from_slice(payload))?;
    stats.data_sent += 1;
    Ok(())
}
