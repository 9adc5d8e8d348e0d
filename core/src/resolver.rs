//! Resolutions in progress, for any kind of protocol address: when to send
//! the next request, when to give up, and the hold-off after giving up.
//!
//! One mechanism serves name-ARP (`Name` keys) and RFC 826 ARP (`Ipv4Addr`
//! keys). The resolver decides *when*; the node sends the frames.

use core::borrow::Borrow;

use crate::node::Config;
use crate::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// `attempts` requests sent; the next decision is due at `next_at`.
    Resolving { attempts: u8, next_at: Instant },
    /// Gave up; no new request before `until`.
    HeldOff { until: Instant },
}

#[derive(Debug, Clone)]
struct Resolution<K> {
    key: K,
    progress: Progress,
}

impl<K> Resolution<K> {
    fn deadline(&self) -> Instant {
        match self.progress {
            Progress::Resolving { next_at, .. } => next_at,
            Progress::HeldOff { until } => until,
        }
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

/// Up to `N` resolutions in progress or held off.
#[derive(Debug, Clone)]
pub(crate) struct Resolver<K, const N: usize> {
    pending: heapless::Vec<Resolution<K>, N>,
}

impl<K: Eq + Clone, const N: usize> Resolver<K, N> {
    pub(crate) const fn new() -> Self {
        Resolver { pending: heapless::Vec::new() }
    }

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
                Progress::HeldOff { .. } => {
                    self.pending.swap_remove(index);
                }
            }
        }
        if self.pending.is_full() {
            // A hold-off gives way to live work.
            let held = self.pending.iter().position(|r| matches!(r.progress, Progress::HeldOff { .. }));
            self.pending.swap_remove(held.ok_or(Refusal::Full)?);
        }
        let progress = Progress::Resolving { attempts: 1, next_at: now + config.retry_interval };
        // Room was made above.
        let _ = self.pending.push(Resolution { key: key.clone(), progress });
        Ok(true)
    }

    /// Whether `key` is being resolved or held off.
    pub(crate) fn is_tracked<Q: Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.position(key).is_some()
    }

    /// A reply for `key` arrived: ends its resolution and returns the key,
    /// or `None` if nobody asked (an unsolicited reply).
    pub(crate) fn finish<Q: Eq + ?Sized>(&mut self, key: &Q) -> Option<K>
    where
        K: Borrow<Q>,
    {
        let index = self.position(key).filter(|&i| matches!(self.pending[i].progress, Progress::Resolving { .. }))?;
        Some(self.pending.swap_remove(index).key)
    }

    /// Fires the timers due at `now`: calls `on_due` for each retry or
    /// failure (a failure becomes a hold-off), and forgets expired
    /// hold-offs. Stops at the first error of `on_due`.
    pub(crate) fn run_timers<E>(
        &mut self,
        now: Instant,
        config: &Config,
        mut on_due: impl FnMut(&K, Due) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.next_deadline().is_none_or(|deadline| deadline > now) {
            return Ok(());
        }
        let mut index = 0;
        while let Some(resolution) = self.pending.get_mut(index) {
            if resolution.deadline() > now {
                index += 1;
                continue;
            }
            match resolution.progress {
                Progress::HeldOff { .. } => {
                    self.pending.swap_remove(index);
                    continue;
                }
                Progress::Resolving { attempts, .. } if attempts >= config.max_attempts => {
                    resolution.progress = Progress::HeldOff { until: now + config.failure_holdoff };
                    on_due(&resolution.key, Due::Failed { attempts })?;
                }
                Progress::Resolving { attempts, .. } => {
                    resolution.progress =
                        Progress::Resolving { attempts: attempts + 1, next_at: now + config.retry_interval };
                    on_due(&resolution.key, Due::Retry)?;
                }
            }
            index += 1;
        }
        Ok(())
    }

    /// The earliest timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().map(Resolution::deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    fn config() -> Config {
        Config {
            retry_interval: Duration::from_secs(1),
            max_attempts: 2,
            failure_holdoff: Duration::from_secs(5),
            ..Config::default()
        }
    }

    #[test]
    fn retries_then_fails_then_holds_off() {
        let mut resolver: Resolver<u32, 2> = Resolver::new();
        let t0 = Instant::from_secs(10);
        assert_eq!(resolver.start(t0, &7, &config()), Ok(true));
        assert_eq!(resolver.start(t0, &7, &config()), Ok(false));
        let mut dues = heapless::Vec::<(u32, Due), 4>::new();
        let mut record = |key: &u32, due| {
            let _ = dues.push((*key, due));
            Ok::<(), ()>(())
        };
        resolver.run_timers(t0 + Duration::from_millis(999), &config(), &mut record).unwrap();
        resolver.run_timers(t0 + Duration::from_secs(1), &config(), &mut record).unwrap();
        resolver.run_timers(t0 + Duration::from_secs(2), &config(), &mut record).unwrap();
        assert_eq!(dues.as_slice(), &[(7, Due::Retry), (7, Due::Failed { attempts: 2 })]);
        let held_until = t0 + Duration::from_secs(7);
        assert_eq!(resolver.start(t0 + Duration::from_secs(3), &7, &config()), Err(Refusal::HeldOff(held_until)));
        assert!(resolver.is_tracked(&7));
        assert_eq!(resolver.finish(&7), None, "a held-off key takes no reply");
        assert_eq!(resolver.start(held_until, &7, &config()), Ok(true));
    }

    #[test]
    fn finish_only_answers_live_resolutions() {
        let mut resolver: Resolver<u32, 1> = Resolver::new();
        assert_eq!(resolver.finish(&1), None);
        resolver.start(Instant::ZERO, &1, &config()).unwrap();
        assert_eq!(resolver.start(Instant::ZERO, &2, &config()), Err(Refusal::Full));
        assert_eq!(resolver.finish(&1), Some(1));
        assert_eq!(resolver.next_deadline(), None);
    }
}
