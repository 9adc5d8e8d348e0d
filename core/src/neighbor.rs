//! A bounded, expiring cache from protocol addresses to MAC addresses.
//!
//! One mechanism serves both name-ARP (`Name` keys) and RFC 826 ARP
//! (`Ipv4Addr` keys). Like smoltcp's `iface/neighbor.rs` it lives in a fixed
//! array: when full, an expired entry is replaced first, otherwise the entry
//! refreshed longest ago. Expiry is lazy: lookups ignore stale entries, so no
//! timer has to sweep the table.

use core::borrow::Borrow;

use heapless::vec::{OwnedVecStorage, VecInner, VecStorage, ViewVecStorage};

use crate::time::{Duration, Instant};
use crate::wire::EthernetAddress;

/// A cached mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Neighbor<K> {
    /// The protocol address (a name or an IPv4 address).
    pub key: K,
    /// Its MAC address.
    pub hardware_addr: EthernetAddress,
    /// When the mapping was last confirmed.
    pub refreshed_at: Instant,
    /// When the mapping stops being used.
    pub expires_at: Instant,
}

/// Neighbours keyed by `K`, in the storage `S`: [`NeighborCache`] owns up
/// to `N` of them, and a [`NeighborCacheView`] is a borrowed cache of any
/// capacity (what a node holds, so its type carries no capacity). Like
/// heapless' `Vec` and `VecView`.
pub struct NeighborCacheInner<K, S: VecStorage<Neighbor<K>> + ?Sized> {
    entries: VecInner<Neighbor<K>, usize, S>,
}

/// A cache that owns room for `N` neighbours.
pub type NeighborCache<K, const N: usize> = NeighborCacheInner<K, OwnedVecStorage<Neighbor<K>, N>>;

/// A cache of any capacity, borrowed: `&mut NeighborCache<K, N>` coerces to
/// `&mut NeighborCacheView<K>`.
pub type NeighborCacheView<K> = NeighborCacheInner<K, ViewVecStorage<Neighbor<K>>>;

impl<K, const N: usize> Default for NeighborCache<K, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, const N: usize> NeighborCache<K, N> {
    /// An empty cache.
    pub const fn new() -> Self {
        NeighborCacheInner { entries: heapless::Vec::new() }
    }
}

impl<K: core::fmt::Debug, S: VecStorage<Neighbor<K>> + ?Sized> core::fmt::Debug for NeighborCacheInner<K, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.entries.iter()).finish()
    }
}

impl<K, S: VecStorage<Neighbor<K>> + ?Sized> NeighborCacheInner<K, S> {
    /// How many neighbours it holds at most.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Number of entries, stale ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every entry.
    pub fn flush(&mut self) {
        self.entries.clear();
    }

    /// The entries still valid at `now`.
    pub fn iter(&self, now: Instant) -> impl Iterator<Item = &Neighbor<K>> {
        self.entries.iter().filter(move |entry| entry.expires_at > now)
    }
}

impl<K: Eq, S: VecStorage<Neighbor<K>> + ?Sized> NeighborCacheInner<K, S> {
    /// The MAC address of `key`, if cached and not expired at `now`.
    pub fn lookup<Q>(&self, key: &Q, now: Instant) -> Option<EthernetAddress>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.iter(now).find(|entry| entry.key.borrow() == key).map(|entry| entry.hardware_addr)
    }

    /// The MAC address last cached for `key`, even if the entry has
    /// expired: what a new answer replaces.
    pub fn last_known<Q>(&self, key: &Q) -> Option<EthernetAddress>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries.iter().find(|entry| entry.key.borrow() == key).map(|entry| entry.hardware_addr)
    }

    /// The key of a valid entry for `hardware_addr`, if any.
    #[inline]
    pub fn reverse_lookup(&self, hardware_addr: EthernetAddress, now: Instant) -> Option<&K> {
        self.iter(now).find(|entry| entry.hardware_addr == hardware_addr).map(|entry| &entry.key)
    }

    /// Inserts or refreshes `key`, valid for `ttl` from `now`.
    ///
    /// Returns the entry pushed out to make room, if a valid one was.
    pub fn fill(&mut self, key: K, hardware_addr: EthernetAddress, now: Instant, ttl: Duration) -> Option<Neighbor<K>> {
        let fresh = Neighbor { key, hardware_addr, refreshed_at: now, expires_at: now + ttl };
        if let Some(entry) = self.entries.iter_mut().find(|entry| entry.key == fresh.key) {
            *entry = fresh;
            return None;
        }
        match self.entries.push(fresh) {
            Ok(()) => None,
            Err(fresh) => {
                // With N == 0 there is nothing to evict and nothing is cached.
                let victim =
                    self.entries.iter_mut().min_by_key(|entry| (entry.expires_at > now, entry.refreshed_at))?;
                let evicted = core::mem::replace(victim, fresh);
                (evicted.expires_at > now).then_some(evicted)
            }
        }
    }

    /// Removes `key`, returning its MAC address if it was cached.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<EthernetAddress>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.entries.iter().position(|entry| entry.key.borrow() == key)?;
        Some(self.entries.swap_remove(index).hardware_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(10);

    fn mac(last: u8) -> EthernetAddress {
        EthernetAddress([2, 0, 0, 0, 0, last])
    }

    #[test]
    fn entries_expire_after_their_ttl() {
        let mut cache: NeighborCache<u32, 2> = NeighborCache::new();
        cache.fill(1, mac(1), Instant::from_secs(0), TTL);
        assert_eq!(cache.lookup(&1, Instant::from_secs(9)), Some(mac(1)));
        assert_eq!(cache.lookup(&1, Instant::from_secs(10)), None);
        assert_eq!(cache.last_known(&1), Some(mac(1)), "an expired entry is still known");
        assert_eq!(cache.reverse_lookup(mac(1), Instant::from_secs(5)), Some(&1));
    }

    #[test]
    fn refill_replaces_in_place() {
        let mut cache: NeighborCache<u32, 2> = NeighborCache::new();
        cache.fill(1, mac(1), Instant::from_secs(0), TTL);
        cache.fill(1, mac(9), Instant::from_secs(5), TTL);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.lookup(&1, Instant::from_secs(14)), Some(mac(9)));
    }

    #[test]
    fn full_cache_evicts_expired_first_then_oldest() {
        let mut cache: NeighborCache<u32, 2> = NeighborCache::new();
        cache.fill(1, mac(1), Instant::from_secs(0), Duration::from_secs(1));
        cache.fill(2, mac(2), Instant::from_secs(0), TTL);
        // Entry 1 has expired at t=2, so it goes silently even though 2 is as old.
        assert_eq!(cache.fill(3, mac(3), Instant::from_secs(2), TTL), None);
        assert_eq!(cache.lookup(&2, Instant::from_secs(2)), Some(mac(2)));
        // Now both are valid: the oldest (2, refreshed at 0) is evicted.
        let evicted = cache.fill(4, mac(4), Instant::from_secs(3), TTL).unwrap();
        assert_eq!(evicted.key, 2);
        assert_eq!(cache.lookup(&3, Instant::from_secs(3)), Some(mac(3)));
        assert_eq!(cache.lookup(&4, Instant::from_secs(3)), Some(mac(4)));
        assert_eq!(cache.remove(&3), Some(mac(3)));
        assert_eq!(cache.len(), 1);
    }
}
