//! What name-ARP, ARP and IPv6 neighbour discovery share: starting a
//! resolution, taking an answer to it, and its retries and failure. Each
//! protocol says only where its tables are, how it asks, and what its events
//! are; the rules (see [the module](super)) are written once, here.

use super::{Event, ResolutionStats, ResolveError, State};
use crate::device::LinkDevice;
use crate::neighbor::NeighborCacheView;
use crate::resolver::{Answer, Config, Due, ResolverView};
use crate::time::Instant;
use crate::wire::{EthernetAddress, EthernetRepr};

/// One protocol's share of the node's state.
pub(super) struct Tables<'s, K> {
    pub(super) config: &'s Config,
    pub(super) stats: &'s mut ResolutionStats,
    pub(super) cache: &'s mut NeighborCacheView<K>,
    pub(super) resolver: &'s mut ResolverView<K>,
}

/// A protocol through which the node finds the MAC address behind a key (a
/// name, an IPv4 or an IPv6 address).
pub(super) trait Protocol {
    /// What is resolved.
    type Key: Eq + Clone;
    /// Where the protocol's cache, resolutions and counters are.
    fn tables<'s>(state: &'s mut State<'_>) -> Tables<'s, Self::Key>;
    /// Sends one request for `key`; says whether the device took it.
    fn request<D: LinkDevice>(state: &mut State<'_>, device: &mut D, key: &Self::Key) -> Result<bool, D::Error>;
    /// `key` was resolved (`previous`: the different MAC it had before).
    fn resolved<E>(
        key: Self::Key,
        hardware_addr: EthernetAddress,
        previous: Option<EthernetAddress>,
    ) -> Event<'static, E>;
    /// A second station answered for `key`.
    fn conflict<E>(key: Self::Key, cached: EthernetAddress, other: EthernetAddress) -> Event<'static, E>;
    /// Nobody answered for `key` (the protocol may clean up after it).
    fn failed<E>(state: &mut State<'_>, key: Self::Key) -> Event<'static, E>;
}

impl State<'_> {
    /// Starts resolving `key` unless a resolution is in progress or held off.
    pub(super) fn start_resolving<P: Protocol, D: LinkDevice>(
        &mut self,
        device: &mut D,
        now: Instant,
        key: &P::Key,
    ) -> Result<(), ResolveError<D::Error>> {
        let tables = P::tables(self);
        if tables.resolver.start(now, key, tables.config)? {
            self.send_request::<P, D>(device, key).map_err(ResolveError::Device)?;
        }
        Ok(())
    }

    fn send_request<P: Protocol, D: LinkDevice>(&mut self, device: &mut D, key: &P::Key) -> Result<(), D::Error> {
        if P::request(self, device, key)? {
            P::tables(self).stats.requests_sent += 1;
        }
        Ok(())
    }

    /// A reply saying `key` is at `hardware_addr`: cached if it answers a
    /// resolution in progress, a conflict if it contradicts a fresh answer;
    /// otherwise (not addressed to this node, naming another MAC than its
    /// sender, or unasked for) counted and ignored.
    pub(super) fn take_reply<P: Protocol, E>(
        &mut self,
        now: Instant,
        header: &EthernetRepr,
        key: P::Key,
        hardware_addr: EthernetAddress,
    ) -> Option<Event<'static, E>> {
        let mac = self.id.mac;
        let Tables { config, stats, cache, resolver } = P::tables(self);
        if header.dst_addr != mac {
            stats.rx_unsolicited_replies += 1;
            return None;
        }
        if hardware_addr != header.src_addr {
            stats.rx_mismatched_replies += 1;
            return None;
        }
        match resolver.answer(&key, hardware_addr, now, config) {
            Answer::First(key) => {
                stats.rx_answers += 1;
                let previous = cache.last_known(&key).filter(|&previous| previous != hardware_addr);
                cache.fill(key.clone(), hardware_addr, now, config.cache_ttl);
                Some(P::resolved(key, hardware_addr, previous))
            }
            Answer::Repeat => {
                stats.rx_repeated_replies += 1;
                None
            }
            Answer::Conflict { cached } => {
                stats.rx_answers += 1;
                stats.conflicts += 1;
                Some(P::conflict(key, cached, hardware_addr))
            }
            Answer::Unsolicited => {
                stats.rx_unsolicited_replies += 1;
                None
            }
        }
    }

    /// Sends the protocol's retries due at `now`; returns the first failure.
    pub(super) fn next_resolution_timer<P: Protocol, D: LinkDevice, E>(
        &mut self,
        device: &mut D,
        now: Instant,
    ) -> Result<Option<Event<'static, E>>, D::Error> {
        loop {
            let tables = P::tables(self);
            let Some((key, due)) = tables.resolver.next_due(now, tables.config) else { return Ok(None) };
            match due {
                Due::Retry => self.send_request::<P, D>(device, &key)?,
                Due::Failed { .. } => {
                    P::tables(self).stats.failures += 1;
                    return Ok(Some(P::failed(self, key)));
                }
            }
        }
    }
}
