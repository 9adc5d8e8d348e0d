//! Storage for a node, sized in one place, in the way embassy-net's
//! `StackResources` is: the capacities appear where a node is built and
//! nowhere else.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::{Config, Identity, State};
use crate::neighbor::NeighborCache;
use crate::queue::FrameQueue;
use crate::resolver::Resolver;
use crate::wire::ethernet::MAX_BUFFERED_FRAME_LEN;
use crate::wire::{EthernetAddress, Name};

/// Everything a [`Node`](crate::Node) stores, which the node borrows:
///
/// - `NAMES`: names cached (default 8);
/// - `NAME_RESOLUTIONS`: name resolutions in progress, recently answered or
///   held off at once (default 4);
/// - `ADDRESSES`: IPv4 addresses cached, and as many IPv6 addresses
///   (default 8);
/// - `ADDRESS_RESOLUTIONS`: the same for ARP, and for IPv6 neighbour
///   discovery (default 4);
/// - `QUEUE_BYTES`: room for data waiting for resolution or for the device
///   (default 2048, one full-MTU frame plus small messages);
/// - and the receive buffer, one frame long.
///
/// Its size with the defaults is stated in the README and checked there by
/// the test `readme_states_the_measured_node_size`. On a microcontroller it
/// can be a `static` (it has a `const` constructor).
///
/// ```
/// use whohas_core::device::Segment;
/// use whohas_core::{Config, EthernetAddress, Name, Node, Resources};
///
/// let segment: Segment<1, 4> = Segment::new();
/// let port = segment.attach(EthernetAddress([2, 0, 0, 0, 0, 1])).unwrap();
/// // 32 names, 2 of them resolving at once, 4 IPv4 addresses, 1 ARP
/// // resolution, 4 KiB of queue.
/// let mut resources: Resources<32, 2, 4, 1, 4096> = Resources::new();
/// let node: Node<_> = Node::new(port, Name::try_from("VM1").unwrap(), Config::default(), &mut resources);
/// assert_eq!(node.cache().capacity(), 32);
/// ```
pub struct Resources<
    const NAMES: usize = 8,
    const NAME_RESOLUTIONS: usize = 4,
    const ADDRESSES: usize = 8,
    const ADDRESS_RESOLUTIONS: usize = 4,
    const QUEUE_BYTES: usize = 2048,
> {
    identity: Option<Identity>,
    names: NeighborCache<Name, NAMES>,
    name_resolver: Resolver<Name, NAME_RESOLUTIONS>,
    addresses: NeighborCache<Ipv4Addr, ADDRESSES>,
    address_resolver: Resolver<Ipv4Addr, ADDRESS_RESOLUTIONS>,
    neighbors: NeighborCache<Ipv6Addr, ADDRESSES>,
    neighbor_resolver: Resolver<Ipv6Addr, ADDRESS_RESOLUTIONS>,
    queue: FrameQueue<QUEUE_BYTES>,
    /// Where frames are received, and where services put the payloads of
    /// their events once the frame is handled: storage rather than a stack
    /// array, so a poll does not clear 1514 bytes (9216 with `jumbo`) each
    /// time.
    rx_buffer: FrameBuffer,
}

/// A frame's bytes, on a cache line of its own: a frame copied in is read
/// back at once (its header), and a copy split across cache lines stalls
/// that read (the store cannot be forwarded); measured, it halved the
/// node's dispatch rate of data frames.
#[repr(C, align(64))]
struct FrameBuffer([u8; MAX_BUFFERED_FRAME_LEN]);

impl<const N: usize, const NR: usize, const A: usize, const AR: usize, const Q: usize> Default
    for Resources<N, NR, A, AR, Q>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const NR: usize, const A: usize, const AR: usize, const Q: usize> Resources<N, NR, A, AR, Q> {
    /// Empty storage.
    pub const fn new() -> Self {
        Resources {
            identity: None,
            names: NeighborCache::new(),
            name_resolver: Resolver::new(),
            addresses: NeighborCache::new(),
            address_resolver: Resolver::new(),
            neighbors: NeighborCache::new(),
            neighbor_resolver: Resolver::new(),
            queue: FrameQueue::new(),
            rx_buffer: FrameBuffer([0; MAX_BUFFERED_FRAME_LEN]),
        }
    }

    /// Empties the storage for a new node and lends it out: the node's
    /// state and its receive buffer.
    pub(crate) fn take(
        &mut self,
        mac: EthernetAddress,
        name: Name,
        config: Config,
    ) -> (State<'_>, &mut [u8; MAX_BUFFERED_FRAME_LEN]) {
        // A node built on storage another node used starts empty all the same.
        self.names.flush();
        self.addresses.flush();
        self.neighbors.flush();
        self.neighbor_resolver = Resolver::new();
        self.name_resolver = Resolver::new();
        self.address_resolver = Resolver::new();
        self.queue = FrameQueue::new();
        let state = State {
            id: self.identity.insert(Identity::new(mac, name, config)),
            cache: &mut self.names,
            resolver: &mut self.name_resolver,
            arp_cache: &mut self.addresses,
            arp_resolver: &mut self.address_resolver,
            ndp_cache: &mut self.neighbors,
            ndp_resolver: &mut self.neighbor_resolver,
            queue: &mut self.queue,
        };
        (state, &mut self.rx_buffer.0)
    }
}
