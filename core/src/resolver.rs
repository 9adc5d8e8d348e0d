//! Resolutions in progress, for any kind of protocol address: when to send
//! the next request, when to give up, the hold-off after giving up, and a
//! short window after an answer in which a different answer is a conflict.
//!
//! One mechanism serves name-ARP (`Name` keys) and RFC 826 ARP (`Ipv4Addr`
//! keys). The resolver decides *when*; the node sends the frames.

use core::borrow::Borrow;

use heapless::vec::{OwnedVecStorage, VecInner, VecStorage, ViewVecStorage};

use crate::time::{Duration, Instant};
use crate::wire::EthernetAddress;

/// Timing of resolution and caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Wait for a reply before sending the request again. It is also how
    /// long after the first answer further answers are compared with it, so
    /// that a second station answering for the same name or address is
    /// reported as a conflict.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// `attempts` requests sent; the next decision is due at `next_at`.
    Resolving { attempts: u8, next_at: Instant },
    /// Answered by `hardware_addr`; other answers until `until` are compared.
    Answered { hardware_addr: EthernetAddress, until: Instant },
    /// Gave up; no new request before `until`.
    HeldOff { until: Instant },
}

#[derive(Debug, Clone)]
pub(crate) struct Resolution<K> {
    key: K,
    progress: Progress,
}

impl<K> Resolution<K> {
    fn deadline(&self) -> Instant {
        match self.progress {
            Progress::Resolving { next_at, .. } => next_at,
            Progress::Answered { until, .. } | Progress::HeldOff { until } => until,
        }
    }

    fn is_resolving(&self) -> bool {
        matches!(self.progress, Progress::Resolving { .. })
    }
}

/// Why a resolution cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The key failed recently and is held off until then.
    HeldOff(Instant),
    /// Every slot is busy resolving.
    Full,
}

/// What a timer asks of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// Send the request again.
    Retry,
    /// Give up: `attempts` requests went unanswered.
    Failed { attempts: u8 },
}

/// What a reply means to the resolutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer<K> {
    /// The first answer to a resolution in progress: cache it.
    First(K),
    /// The answer already taken, again.
    Repeat,
    /// Another MAC than the one that answered first.
    Conflict { cached: EthernetAddress },
    /// Nobody asked.
    Unsolicited,
}

/// Resolutions in progress, recently answered, or held off, in the storage
/// `S`: [`Resolver`] owns room for `N`, a [`ResolverView`] is borrowed (as
/// [`NeighborCacheInner`](crate::neighbor::NeighborCacheInner) is).
pub(crate) struct ResolverInner<K, S: VecStorage<Resolution<K>> + ?Sized> {
    pending: VecInner<Resolution<K>, usize, S>,
}

/// Room for `N` resolutions.
pub(crate) type Resolver<K, const N: usize> = ResolverInner<K, OwnedVecStorage<Resolution<K>, N>>;

/// Resolutions of any capacity, borrowed.
pub(crate) type ResolverView<K> = ResolverInner<K, ViewVecStorage<Resolution<K>>>;

impl<K, const N: usize> Resolver<K, N> {
    /// No resolution yet.
    pub(crate) const fn new() -> Self {
        ResolverInner { pending: heapless::Vec::new() }
    }
}

impl<K, const N: usize> Default for Resolver<K, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Clone, S: VecStorage<Resolution<K>> + ?Sized> ResolverInner<K, S> {
    fn position<Q: Eq + ?Sized>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        self.pending.iter().position(|resolution| resolution.key.borrow() == key)
    }

    /// Starts resolving `key`. `Ok(true)`: the caller sends the first request
    /// now; `Ok(false)`: it is already being resolved.
    pub(crate) fn start(&mut self, now: Instant, key: &K, config: &Config) -> Result<bool, Refusal> {
        if let Some(index) = self.position(key) {
            match self.pending[index].progress {
                Progress::Resolving { .. } => return Ok(false),
                Progress::HeldOff { until } if until > now => return Err(Refusal::HeldOff(until)),
                // An answered key asked again (its cache entry is gone), or
                // a hold-off that has run out: start afresh.
                Progress::HeldOff { .. } | Progress::Answered { .. } => {
                    self.pending.swap_remove(index);
                }
            }
        }
        if self.pending.is_full() {
            // Hold-offs and answered keys give way to live work.
            let idle = self.pending.iter().position(|r| !r.is_resolving());
            self.pending.swap_remove(idle.ok_or(Refusal::Full)?);
        }
        let progress = Progress::Resolving { attempts: 1, next_at: now + config.retry_interval };
        // Room was made above.
        let _ = self.pending.push(Resolution { key: key.clone(), progress });
        Ok(true)
    }

    /// Whether `key` is being resolved or held off (so a queued frame for it
    /// is not an orphan).
    pub(crate) fn is_waiting<Q: Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_some_and(|i| !matches!(self.pending[i].progress, Progress::Answered { .. }))
    }

    /// A reply for `key` from `hardware_addr` arrived at `now`.
    pub(crate) fn answer<Q: Eq + ?Sized>(
        &mut self,
        key: &Q,
        hardware_addr: EthernetAddress,
        now: Instant,
        config: &Config,
    ) -> Answer<K>
    where
        K: Borrow<Q>,
    {
        let Some(index) = self.position(key) else { return Answer::Unsolicited };
        let resolution = &mut self.pending[index];
        match resolution.progress {
            Progress::Resolving { .. } => {
                resolution.progress = Progress::Answered { hardware_addr, until: now + config.retry_interval };
                Answer::First(resolution.key.clone())
            }
            Progress::Answered { hardware_addr: cached, .. } if cached == hardware_addr => Answer::Repeat,
            Progress::Answered { hardware_addr: cached, .. } => Answer::Conflict { cached },
            Progress::HeldOff { .. } => Answer::Unsolicited,
        }
    }

    /// The next timer due at `now`, if any: a retry to send, or a failure
    /// (which becomes a hold-off). Expired hold-offs and answer windows are
    /// forgotten on the way. Call until it returns `None`.
    pub(crate) fn next_due(&mut self, now: Instant, config: &Config) -> Option<(K, Due)> {
        loop {
            let index = self.pending.iter().position(|r| r.deadline() <= now)?;
            let resolution = &mut self.pending[index];
            let due = match resolution.progress {
                Progress::Answered { .. } | Progress::HeldOff { .. } => {
                    self.pending.swap_remove(index);
                    continue;
                }
                Progress::Resolving { attempts, .. } if attempts >= config.max_attempts => {
                    resolution.progress = Progress::HeldOff { until: now + config.failure_holdoff };
                    Due::Failed { attempts }
                }
                Progress::Resolving { attempts, .. } => {
                    resolution.progress =
                        Progress::Resolving { attempts: attempts + 1, next_at: now + config.retry_interval };
                    Due::Retry
                }
            };
            return Some((resolution.key.clone(), due));
        }
    }

    /// The earliest timer.
    #[inline]
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().map(Resolution::deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    fn config() -> Config {
        Config {
            retry_interval: Duration::from_secs(1),
            max_attempts: 2,
            failure_holdoff: Duration::from_secs(5),
            ..Config::default()
        }
    }

    fn dues(resolver: &mut Resolver<u32, 2>, now: Instant) -> heapless::Vec<(u32, Due), 4> {
        core::iter::from_fn(|| resolver.next_due(now, &config())).collect()
    }

    #[test]
    fn retries_then_fails_then_holds_off() {
        let mut resolver: Resolver<u32, 2> = Resolver::new();
        let t0 = Instant::from_secs(10);
        assert_eq!(resolver.start(t0, &7, &config()), Ok(true));
        assert_eq!(resolver.start(t0, &7, &config()), Ok(false));
        assert!(dues(&mut resolver, t0 + Duration::from_millis(999)).is_empty());
        assert_eq!(dues(&mut resolver, t0 + Duration::from_secs(1)).as_slice(), &[(7, Due::Retry)]);
        assert_eq!(dues(&mut resolver, t0 + Duration::from_secs(2)).as_slice(), &[(7, Due::Failed { attempts: 2 })]);
        let held_until = t0 + Duration::from_secs(7);
        assert_eq!(resolver.start(t0 + Duration::from_secs(3), &7, &config()), Err(Refusal::HeldOff(held_until)));
        assert!(resolver.is_waiting(&7));
        assert_eq!(resolver.answer(&7, A, t0, &config()), Answer::Unsolicited, "a held-off key takes no reply");
        assert_eq!(resolver.start(held_until, &7, &config()), Ok(true));
    }

    #[test]
    fn a_second_answer_from_another_mac_is_a_conflict() {
        let mut resolver: Resolver<u32, 1> = Resolver::new();
        assert_eq!(resolver.answer(&1, A, Instant::ZERO, &config()), Answer::Unsolicited);
        resolver.start(Instant::ZERO, &1, &config()).unwrap();
        assert_eq!(resolver.answer(&1, A, Instant::ZERO, &config()), Answer::First(1));
        assert!(!resolver.is_waiting(&1));
        assert_eq!(resolver.answer(&1, A, Instant::ZERO, &config()), Answer::Repeat);
        assert_eq!(resolver.answer(&1, B, Instant::from_millis(900), &config()), Answer::Conflict { cached: A });
        // The window closes one retry interval after the first answer.
        assert_eq!(resolver.next_due(Instant::from_secs(1), &config()), None);
        assert_eq!(resolver.next_deadline(), None);
        assert_eq!(resolver.answer(&1, B, Instant::from_secs(1), &config()), Answer::Unsolicited);
    }

    #[test]
    fn idle_entries_give_way_to_live_work() {
        let mut resolver: Resolver<u32, 1> = Resolver::new();
        resolver.start(Instant::ZERO, &1, &config()).unwrap();
        assert_eq!(resolver.start(Instant::ZERO, &2, &config()), Err(Refusal::Full));
        resolver.answer(&1, A, Instant::ZERO, &config());
        assert_eq!(resolver.start(Instant::ZERO, &2, &config()), Ok(true));
    }
}
