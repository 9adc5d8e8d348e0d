//! The retransmission timeout from measured round trips (RFC 6298), with a
//! bounded back-off: ×1.5 per timeout (KCP's choice, not TCP's ×2, so a
//! lossy link recovers sooner), never above the configured maximum.

use crate::time::Duration;

/// Smoothed round-trip time and its variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// Consecutive timeouts since the last sample: each multiplies the
    /// timeout by 1.5.
    backoff: u8,
}

impl RttEstimator {
    pub(crate) const fn new() -> Self {
        RttEstimator { srtt: None, rttvar: Duration::ZERO, backoff: 0 }
    }

    /// Takes a round-trip sample (RFC 6298 section 2), which also ends any
    /// back-off.
    pub(crate) fn sample(&mut self, rtt: Duration) {
        let rtt_us = rtt.total_micros();
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = Duration::from_micros(rtt_us / 2);
            }
            Some(srtt) => {
                let srtt_us = srtt.total_micros();
                let deviation = srtt_us.abs_diff(rtt_us);
                self.rttvar = Duration::from_micros((3 * self.rttvar.total_micros() + deviation) / 4);
                self.srtt = Some(Duration::from_micros((7 * srtt_us + rtt_us) / 8));
            }
        }
        self.backoff = 0;
    }

    /// A retransmission timer expired: the next timeout is 1.5 times longer.
    pub(crate) fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// The smoothed round-trip time, once measured.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The timeout: SRTT + 4·RTTVAR (or `initial` before any sample), at
    /// least `min`, times 1.5 per back-off, at most `max`.
    pub(crate) fn rto(&self, initial: Duration, min: Duration, max: Duration) -> Duration {
        let base = match self.srtt {
            // The variation term is at least the round trip itself: a
            // queue that builds up (or a host that wakes up late) makes
            // round trips jump faster than RTTVAR follows, and a timeout
            // that fires before the acknowledgement can come sends again
            // what was not lost.
            Some(srtt) => srtt + self.rttvar.saturating_mul(4).max(srtt),
            None => initial,
        };
        let mut rto = base.max(min).total_micros();
        for _ in 0..self.backoff {
            rto = rto.saturating_mul(3) / 2;
            if rto >= max.total_micros() {
                break;
            }
        }
        Duration::from_micros(rto).min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(2);
    const INITIAL: Duration = Duration::from_millis(200);

    #[test]
    fn follows_rfc_6298_and_backs_off_by_half_up_to_the_maximum() {
        let mut rtt = RttEstimator::new();
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), INITIAL);
        rtt.sample(Duration::from_millis(8));
        // SRTT 8 ms, RTTVAR 4 ms: 8 + 16 = 24 ms.
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), Duration::from_millis(24));
        rtt.sample(Duration::from_millis(8));
        // RTTVAR = 3/4 * 4 + 1/4 * 0 = 3 ms: 8 + 12 = 20 ms.
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), Duration::from_millis(20));
        rtt.back_off();
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), Duration::from_millis(30));
        rtt.back_off();
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), Duration::from_millis(45));
        for _ in 0..255 {
            rtt.back_off();
        }
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), MAX, "bounded");
        rtt.sample(Duration::from_micros(100));
        assert!(rtt.rto(INITIAL, MIN, MAX) < Duration::from_millis(30), "a sample ends the back-off");
        assert_eq!(rtt.rto(INITIAL, MIN, MAX), MIN.max(rtt.rto(INITIAL, MIN, MAX)));
    }
}
