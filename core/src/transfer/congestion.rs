//! Congestion control of a sender, by queueing delay: how many segments may
//! be in flight, so that a bottleneck's queue stays about
//! [`TransferConfig::queue_target`](crate::transfer::TransferConfig) long,
//! whatever the random loss.
//!
//! The signal is the round trip's growth over the shortest one seen lately
//! (the base delay, as LEDBAT, RFC 6817, measures it; here over round trips,
//! as TCP Vegas and Copa do, since the reverse path carries only
//! acknowledgements). Loss is not a signal (but while competing, below):
//! on a link that loses 20 % of its frames at random the queue is empty,
//! and halving the window for each loss, as TCP does, would starve the
//! transfer for nothing. A queue that overflows has grown first, which the
//! delay shows.
//!
//! - **Slow start:** the window grows by every segment delivered (doubling
//!   each round trip) until the queueing delay reaches half the target.
//! - **The aim:** the queueing delay at which [`OWN_QUEUE`] of the
//!   sender's own segments are queued, held within half the target and all
//!   of it. A sender has its rate times the queueing delay in the queue
//!   (as TCP Vegas counts them): the window times the queueing delay over
//!   the round trip. A FIFO queue shares a link as its senders share the
//!   queue, so a sender that keeps a fixed part of it gets as much as
//!   another that keeps as much, and the more of the link it has, the less
//!   delay it aims at. A fixed target would take most of the link beside a
//!   sender that keeps a shorter queue of its own, as TCP BBR does
//!   (`BENCHMARKS.md`).
//! - **Below the aim:** it grows by at most one segment per round trip,
//!   in proportion to how far below the aim the delay is (LEDBAT's
//!   controller).
//! - **Above the aim:** it shrinks by an eighth, at most once per round
//!   trip, and not while the round trips are falling fast (the queue is
//!   draining already). Additive increase with multiplicative decrease is
//!   what makes several senders sharing one queue converge to equal shares
//!   (LEDBAT's proportional decrease keeps whatever head start a sender
//!   had).
//!
//! - **Drains:** two round trips after slow start, every [`DRAIN_EVERY`]
//!   after that, and when the round trips show the queue draining (two in
//!   a row well below the base delay, or below the least of the last
//!   round), the window drops to its floor for two round trips and comes
//!   back (not for its own decrease, which the queue shows falling too, nor
//!   sooner than [`JOIN_WINDOW`] before its own next drain; in slow start,
//!   for any). A sender that started over a queue others had
//!   built takes that queue for its base delay, and keeps growing while
//!   they shrink to their floor (LEDBAT's latecomer advantage). Draining
//!   alone does not cure it (one flow's part of a shared queue is not all
//!   of it); a queue that falls fast means some other sender is draining,
//!   and joining it empties the queue, so every sender sees the real base
//!   delay, and they drain together from then on (as BBR flows' ProbeRTT
//!   phases fall into step).
//!
//! - **Competing:** a sender that yields to delay starves beside one that
//!   does not (TCP Cubic fills a queue until it overflows, and keeps it
//!   above any target short enough to be worth keeping). A window held at
//!   or near its floor (at most twice it) for [`COMPETE_AFTER`] over a
//!   queue of at least half the target, a queue others keep, competes by
//!   loss instead, as Copa's competitive mode does: whatever the delay, it
//!   starts as a loss-based sender does, doubling each round trip until a
//!   loss, then grows a segment a round trip; it loses about 3/10 (Cubic's
//!   decrease) on a loss, once a loss episode, and gets it back if that
//!   loss proves spurious: the first copy of the segment sent again arrived
//!   after all (TCP's undo, RFC 4015): on this machine's veth bottleneck,
//!   frames arrived out of order often enough that most decreases were
//!   such. Its drains go on; one that empties the queue (to a quarter of
//!   the target) shows no one else keeps it, and the window follows delay
//!   again, from its floor in slow start, as a new sender's: a window grown
//!   by loss means nothing to the delay. Random loss on a link with no
//!   queue never makes a sender compete.
//!
//! Base delay: the least of the round trips of the current and the previous
//! [`BASE_INTERVAL`], so a route that becomes longer is learnt within two
//! intervals; but not while competing, when a queue others keep hides the
//! base for good: two intervals without a round trip below that queue would
//! take it for the base (and a drain would then seem to empty it). Current
//! delay: the least of the last [`CURRENT_SAMPLES`] round trips, which
//! filters a delayed acknowledgement or a late wake-up.

use crate::time::{Duration, Instant};

/// How long one minimum of the base delay is kept (two are).
const BASE_INTERVAL: Duration = Duration::from_secs(10);

/// Round trips the current delay is the least of.
const CURRENT_SAMPLES: usize = 4;

/// The window never shrinks below this many segments.
const MIN_WINDOW: u32 = 4;

/// The window before the first round trip.
const INITIAL_WINDOW: u32 = 32;

/// How often a sender drains its part of the queue to measure the base
/// delay: within every base interval.
const DRAIN_EVERY: Duration = Duration::from_secs(5);

/// A sender joins another's drain only this close to its own next one
/// (at least `DRAIN_EVERY - JOIN_WINDOW` after its last): a queue that
/// falls for other reasons costs a drain at most that often.
const JOIN_WINDOW: Duration = Duration::from_millis(2500);

/// A window held at its floor this long over a queue others keep (at least
/// half the target) means a sender that does not yield to delay shares the
/// queue: the window competes by loss from then on.
const COMPETE_AFTER: Duration = Duration::from_secs(1);

/// Segments of its own a sender aims to keep queued at a bottleneck. Beside
/// TCP BBR behind a 100 Mbit/s queue, 32 gave both flows 35-65 % of the
/// link in 14 windows of 22, 20 in 4 of 12 (BBR took more), a fixed
/// target in 2 of 16 (`BENCHMARKS.md`, shared bottleneck).
const OWN_QUEUE: u32 = 32;

/// No round trip measured.
const NONE: u32 = u32::MAX;

/// Fixed point: the window is kept in 1/65536 segments, so growth by a
/// fraction of a segment per acknowledgement adds up, even to a window of
/// thousands of segments (in 1/256, a segment a round trip was 256/segments
/// per acknowledgement: nothing at all beyond 256 segments).
const ONE: u64 = 1 << 16;

/// A sender's congestion window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Congestion {
    /// Segments allowed in flight, in 1/65536.
    window: u64,
    /// Still doubling each round trip.
    slow_start: bool,
    /// The least round trips of the current [`BASE_INTERVAL`] and of the
    /// one before: the base delay.
    base: Minima,
    /// The last round trips, oldest overwritten first, in microseconds.
    recent: [u32; CURRENT_SAMPLES],
    next_recent: u8,
    /// The least round trips of the round in progress (a smoothed round
    /// trip long) and of the one before: what a falling queue is measured
    /// against.
    rounds: Minima,
    /// The last round trip was well below the base or the last round.
    was_low: bool,
    /// The window last shrank then (once per round trip at most).
    last_decrease: Option<Instant>,
    /// The last decrease for a loss: when, and the window before it, given
    /// back if that loss proves spurious.
    undo: Option<(Instant, u64)>,
    /// When the next drain begins (set once slow start ends).
    next_drain: Option<Instant>,
    /// In a drain: when it ends, and the window it gives back.
    drain: Option<(Instant, u64)>,
    /// Since when the window has been at or near its floor over a queue
    /// others keep.
    floor_since: Option<Instant>,
    /// Competing by loss: growing a segment a round trip whatever the
    /// delay, shrinking by about 3/10 on loss.
    competing: bool,
    /// The least round trip of the drain in progress, in microseconds: a
    /// drain that leaves a queue behind keeps the window competing.
    drain_least: u32,
}

impl Congestion {
    pub(crate) const fn new() -> Self {
        Congestion {
            window: INITIAL_WINDOW as u64 * ONE,
            slow_start: true,
            base: Minima::new(),
            recent: [NONE; CURRENT_SAMPLES],
            next_recent: 0,
            rounds: Minima::new(),
            was_low: false,
            last_decrease: None,
            undo: None,
            next_drain: None,
            drain: None,
            floor_since: None,
            competing: false,
            drain_least: NONE,
        }
    }

    /// Segments allowed in flight.
    pub(crate) fn window(&self) -> u32 {
        // At least MIN_WINDOW, at most a u32's worth: `on_ack` keeps it so.
        u32::try_from(self.window / ONE).unwrap_or(u32::MAX)
    }

    /// How long sending `segments` takes at the pace of the window: the
    /// window spread over a round trip, a little faster (x 5/4; x 2 in slow
    /// start, so the window can double), so that a window's worth does not
    /// go out in one burst that would fill a slow link's queue at once.
    pub(crate) fn pacing_interval(&self, srtt: Duration, segments: u32) -> Duration {
        let (num, den) = if self.slow_start { (1, 2) } else { (4, 5) };
        srtt.saturating_mul(u64::from(segments) * num) / den / self.window()
    }

    /// How much longer than the base delay round trips are now: the queue.
    fn queueing_delay(&self) -> Option<Duration> {
        let base = Some(self.base.least()).filter(|&least| least != NONE)?;
        let current = self.current()?;
        Some(Duration::from_micros(u64::from(current.saturating_sub(base))))
    }

    /// The current round trip, in microseconds: the least of the last
    /// [`CURRENT_SAMPLES`].
    fn current(&self) -> Option<u32> {
        self.recent.iter().copied().min().filter(|&least| least != NONE)
    }

    /// An acknowledgement at `now` measured `rtt` and told of `delivered`
    /// segments that arrived; `srtt` is the smoothed round trip, `target`
    /// the queueing delay to keep, `most` the largest useful window.
    pub(crate) fn on_ack(
        &mut self,
        now: Instant,
        rtt: Option<Duration>,
        delivered: u32,
        srtt: Duration,
        target: Duration,
        most: u32,
    ) {
        let mut draining = false;
        if let Some(rtt) = rtt {
            draining = self.sample(now, rtt, srtt);
            if self.drain.is_some() {
                self.drain_least = self.drain_least.min(u32::try_from(rtt.total_micros()).unwrap_or(NONE - 1));
            }
        }
        match self.drain {
            // At the floor meanwhile.
            Some((end, _)) if now < end => return,
            Some((_, window)) => {
                self.window = window;
                self.drain = None;
                self.next_drain = Some(now + DRAIN_EVERY);
                // The queue emptied (to a quarter of the target): no one
                // else keeps it, and delay is a signal again.
                let left = u64::from(self.drain_least.saturating_sub(self.base.least()));
                if self.competing && self.drain_least != NONE && left * 4 < target.total_micros() {
                    debug!("congestion: by delay again at {:?}, {} us of queue left in a drain", now, left);
                    self.competing = false;
                    // A window grown by loss means nothing to the delay:
                    // start over, as a new sender (all of a shared drain
                    // then start equal; given back their windows, senders
                    // that all competed kept unequal shares for seconds).
                    self.window = u64::from(MIN_WINDOW) * ONE;
                    self.slow_start = true;
                    self.undo = None;
                }
                self.drain_least = NONE;
            }
            // A sender still in slow start joins any drain it sees: it
            // started over others' queue, took it for its base delay, and
            // would otherwise go on doubling over it, and drain out of step
            // once it learnt the real base.
            None if (self.slow_start && draining)
                || self.next_drain.is_some_and(|at| now >= at || (draining && now + JOIN_WINDOW >= at))
                    // Not its own decrease, which the queue shows falling too.
                    && self.last_decrease.is_none_or(|at| now >= at + srtt.saturating_mul(2)) =>
            {
                let why = if self.next_drain.is_some_and(|at| now >= at) { "due" } else { "joining" };
                debug!("congestion: draining at {:?} ({}), window {}", now, why, self.window());
                self.slow_start = false;
                self.floor_since = None;
                self.drain = Some((now + srtt.saturating_mul(2), self.window));
                self.window = u64::from(MIN_WINDOW) * ONE;
                return;
            }
            None => {}
        }
        let Some(queueing) = self.queueing_delay() else { return };
        if delivered == 0 {
            return;
        }
        let delivered = u64::from(delivered);
        let target_us = target.total_micros().max(1);
        let queueing_us = queueing.total_micros();
        let at_floor = self.window <= 2 * u64::from(MIN_WINDOW) * ONE && queueing_us * 2 >= target_us;
        if !at_floor {
            self.floor_since = None;
        } else if !self.competing && now >= *self.floor_since.get_or_insert(now) + COMPETE_AFTER {
            debug!("congestion: competing by loss at {:?}, {:?} of queue kept by others", now, queueing);
            self.competing = true;
            self.slow_start = true;
        }
        // The window in whole segments: growth by one segment a round trip
        // is 1/segments of one per segment delivered.
        let segments = (self.window / ONE).max(1);
        if self.competing && self.slow_start {
            // As a loss-based sender starts: by every segment delivered,
            // until a loss (at the floor, a segment a round trip takes
            // seconds to reach a fair share).
            self.window += delivered * ONE;
        } else if self.competing {
            // A segment a round trip, as Reno.
            self.window += delivered * ONE / segments;
        } else if self.slow_start && queueing_us * 2 < target_us {
            self.window += delivered * ONE;
        } else {
            self.end_slow_start(now, srtt);
            let aim_us = self.aim(target_us);
            if queueing_us < aim_us {
                // One segment per window's worth delivered, scaled by how
                // far below the aim the queue is.
                self.window += delivered * ONE * (aim_us - queueing_us) / aim_us / segments;
            } else if !self.was_low && self.last_decrease.is_none_or(|at| now >= at + srtt) {
                // Not while the round trips fall: the queue is shrinking
                // already (and a decrease now would keep it from joining).
                self.window -= self.window / 8;
                self.last_decrease = Some(now);
            }
        }
        // Not beyond what can be used (a window the ring or the receiver
        // caps would grow without meaning), nor below the floor.
        self.window = self.window.clamp(u64::from(MIN_WINDOW) * ONE, u64::from(most.max(MIN_WINDOW)) * ONE);
    }

    /// The queueing delay to keep, in microseconds, of a target of
    /// `target_us`: the delay at which [`OWN_QUEUE`] of this sender's
    /// segments are queued (the window over the current round trip is its
    /// rate), but at least half the target and at most all of it (all of
    /// it before a round trip is measured).
    fn aim(&self, target_us: u64) -> u64 {
        let aim = self
            .current()
            .map_or(target_us, |current| u64::from(current) * u64::from(OWN_QUEUE) * ONE / self.window.max(1));
        aim.clamp(target_us.div_ceil(2), target_us)
    }

    /// A segment sent at `sent_at` is found lost at `now`. While competing,
    /// the window shrinks by 77/256, about 3/10 as Cubic's does (a shift: a
    /// microcontroller divides 64-bit numbers in software, 864 bytes of
    /// it), once a loss episode: not again for a segment sent before the
    /// last decrease, which the same overflow took (as TCP's recovery,
    /// RFC 6675); the first one ends its slow start. Otherwise loss is no
    /// signal.
    pub(crate) fn on_loss(&mut self, now: Instant, sent_at: Instant) {
        if self.competing && self.drain.is_none() && self.last_decrease.is_none_or(|at| sent_at > at) {
            self.undo = Some((now, self.window));
            self.window -= self.window * 77 / 256;
            self.window = self.window.max(u64::from(MIN_WINDOW) * ONE);
            self.last_decrease = Some(now);
            self.slow_start = false;
        }
    }

    /// A segment sent again at `resent_at` was not lost: its first copy
    /// arrived. If sending it again was a loss that shrank the window, the
    /// window is given back.
    pub(crate) fn on_spurious(&mut self, resent_at: Instant) {
        if let Some((_, before)) = self.undo.filter(|&(at, _)| at == resent_at) {
            self.window = self.window.max(before);
            self.undo = None;
        }
    }

    /// Slow start is over (if it was not): the first drain comes two round
    /// trips later, once the overshoot has gone.
    fn end_slow_start(&mut self, now: Instant, srtt: Duration) {
        if core::mem::take(&mut self.slow_start) {
            self.next_drain = Some(now + srtt.saturating_mul(2));
        }
    }

    /// Takes a round trip; says whether the queue is draining: this round
    /// trip and the one before are both well below the base delay (by a
    /// quarter), or below the least of the last round by an eighth (and by
    /// a millisecond either way: less is jitter, and a base that far off
    /// matters little against the target). One low round trip alone is no
    /// drain: a queue a few senders keep at the target dips now and then,
    /// and joining every dip spreads the drains out of step.
    fn sample(&mut self, now: Instant, rtt: Duration, srtt: Duration) -> bool {
        let rtt = u32::try_from(rtt.total_micros()).unwrap_or(NONE - 1);
        let well_below = |level: u32, part: u32| level != NONE && rtt.saturating_add((level / part).max(1000)) < level;
        let low = well_below(self.base.least(), 4) || well_below(self.rounds.previous(), 8);
        let draining = low && self.was_low;
        self.was_low = low;
        self.rounds.take(now, srtt, rtt);
        if self.competing {
            self.base.lower(rtt);
        } else {
            self.base.take(now, BASE_INTERVAL, rtt);
        }
        self.recent[usize::from(self.next_recent)] = rtt;
        self.next_recent = (self.next_recent + 1) % CURRENT_SAMPLES as u8;
        draining
    }
}

/// The least of the samples of the current interval and of the one before,
/// in microseconds ([`NONE`]: no sample). (Microseconds in a `u32`: a
/// connection of a microcontroller keeps this too.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Minima {
    /// The current interval's least, then the previous one's.
    least: [u32; 2],
    /// When the current interval began.
    start: Option<Instant>,
}

impl Minima {
    const fn new() -> Self {
        Minima { least: [NONE; 2], start: None }
    }

    /// Takes `sample` at `now`, in a new interval if `interval` has passed
    /// since the current one began.
    fn take(&mut self, now: Instant, interval: Duration, sample: u32) {
        let start = *self.start.get_or_insert(now);
        if now >= start + interval {
            self.least = [NONE, self.least[0]];
            self.start = Some(now);
        }
        self.lower(sample);
    }

    /// Takes `sample` into the current interval, however long it has been.
    fn lower(&mut self, sample: u32) {
        self.least[0] = self.least[0].min(sample);
    }

    /// The least of both intervals.
    fn least(&self) -> u32 {
        self.least[0].min(self.least[1])
    }

    /// The least of the interval before the current one.
    fn previous(&self) -> u32 {
        self.least[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Duration = Duration::from_millis(4);
    const MOST: u32 = 1024;

    /// Acknowledges a window's worth at `rtt`, one segment an ack.
    fn round(congestion: &mut Congestion, now: &mut Instant, rtt: Duration) {
        let window = congestion.window();
        for _ in 0..window {
            congestion.on_ack(*now, Some(rtt), 1, rtt, TARGET, MOST);
        }
        *now += rtt;
    }

    #[test]
    fn doubles_while_the_queue_is_empty_up_to_what_can_be_used() {
        let mut congestion = Congestion::new();
        let mut now = Instant::from_secs(1);
        let rtt = Duration::from_micros(200);
        assert_eq!(congestion.window(), INITIAL_WINDOW);
        round(&mut congestion, &mut now, rtt);
        assert_eq!(congestion.window(), 2 * INITIAL_WINDOW);
        for _ in 0..10 {
            round(&mut congestion, &mut now, rtt);
        }
        assert_eq!(congestion.window(), MOST);
    }

    /// A sender after one round trip of `BASE` on an empty queue.
    fn after_one_round() -> (Congestion, Instant) {
        let mut congestion = Congestion::new();
        let mut now = Instant::from_secs(1);
        round(&mut congestion, &mut now, BASE);
        (congestion, now)
    }

    const BASE: Duration = Duration::from_millis(1);

    #[test]
    fn a_growing_queue_shrinks_the_window_once_a_round_trip_and_never_below_the_floor() {
        let (mut congestion, mut now) = after_one_round();
        let base = BASE;
        // 10 ms of queue, far above the target, in every recent round trip.
        let queued = base + Duration::from_millis(10);
        for _ in 0..CURRENT_SAMPLES {
            congestion.sample(now, queued, queued);
        }
        let before = congestion.window();
        for _ in 0..3 {
            congestion.on_ack(now, Some(queued), 1, base, TARGET, MOST);
        }
        assert_eq!(congestion.window(), before - before / 8, "once in the round trip");
        // (Within COMPETE_AFTER: at its floor longer, it would compete.)
        for _ in 0..40 {
            round(&mut congestion, &mut now, base + Duration::from_millis(10));
        }
        assert_eq!(congestion.window(), MIN_WINDOW);
    }

    #[test]
    fn below_the_target_it_grows_at_most_a_segment_a_round_trip() {
        let (mut congestion, mut now) = after_one_round();
        let base = BASE;
        // Past half the target: slow start ends. (Drains are not this
        // test's subject.)
        round(&mut congestion, &mut now, base + Duration::from_millis(3));
        congestion.next_drain = None;
        let before = congestion.window;
        round(&mut congestion, &mut now, base);
        let after = congestion.window;
        assert!(after > before && after <= before + ONE, "{before} -> {after} (1/65536 segments)");
    }

    #[test]
    fn it_aims_at_a_queue_holding_a_fixed_number_of_its_own_segments() {
        let (mut congestion, mut now) = after_one_round();
        // 3 ms of queue over a base of 1 ms ends slow start.
        let rtt = BASE + Duration::from_millis(3);
        round(&mut congestion, &mut now, rtt);
        congestion.next_drain = None;
        let target_us = TARGET.total_micros();
        // 100 segments in a 4 ms round trip keep 75 of their own in 3 ms
        // of queue; 32 would be 1.28 ms, under half the target.
        for (window, aim) in [(100, target_us / 2), (40, 3200), (20, target_us)] {
            congestion.window = window * ONE;
            assert_eq!(congestion.aim(target_us), aim, "a window of {window}");
        }
        // So over the same queue a large window shrinks by an eighth, where
        // a small one grows.
        congestion.window = 100 * ONE;
        congestion.last_decrease = None;
        congestion.on_ack(now, Some(rtt), 1, rtt, TARGET, MOST);
        assert_eq!(congestion.window(), 87);
        congestion.window = 20 * ONE;
        congestion.on_ack(now, Some(rtt), 1, rtt, TARGET, MOST);
        assert!(congestion.window > 20 * ONE);
    }

    #[test]
    fn a_window_of_hundreds_of_segments_still_grows_a_segment_a_round_trip() {
        let (mut congestion, mut now) = after_one_round();
        round(&mut congestion, &mut now, BASE + Duration::from_millis(3));
        congestion.next_drain = None;
        congestion.window = 600 * ONE;
        // An empty queue: a whole segment over a round trip of single
        // acknowledgements (but for rounding).
        round(&mut congestion, &mut now, BASE);
        let grown = congestion.window - 600 * ONE;
        assert!(grown > ONE * 99 / 100 && grown <= ONE, "{grown} (1/65536 segments)");
    }

    #[test]
    fn drains_follow_slow_start_and_come_back_every_few_seconds() {
        let (mut congestion, mut now) = after_one_round();
        let two = BASE.saturating_mul(2);
        // Past half the target: slow start ends; the first drain is due two
        // round trips later.
        for _ in 0..CURRENT_SAMPLES {
            congestion.on_ack(now, Some(BASE + Duration::from_millis(3)), 1, BASE, TARGET, MOST);
        }
        assert_eq!(congestion.next_drain, Some(now + two));
        for _ in 0..2 {
            let window = congestion.window();
            now += two;
            congestion.on_ack(now, Some(BASE), 1, BASE, TARGET, MOST);
            assert_eq!(congestion.window(), MIN_WINDOW, "at the floor for two round trips");
            congestion.on_ack(now + BASE, Some(BASE), 1, BASE, TARGET, MOST);
            assert_eq!(congestion.window(), MIN_WINDOW);
            now += two;
            congestion.on_ack(now, None, 0, BASE, TARGET, MOST);
            assert_eq!(congestion.window(), window, "then the window comes back");
            assert_eq!(congestion.next_drain, Some(now + DRAIN_EVERY));
            now += DRAIN_EVERY - two;
        }
    }

    #[test]
    fn a_latecomer_joins_a_drain_and_learns_the_real_base_delay() {
        // Its first round trips went through 20 ms of queue others built:
        // it takes them for the base, and the queue for empty.
        let mut congestion = Congestion::new();
        let mut now = Instant::from_secs(1);
        let standing = BASE + Duration::from_millis(20);
        round(&mut congestion, &mut now, standing);
        assert_eq!(congestion.queueing_delay(), Some(Duration::ZERO));
        // Its own queue ends slow start.
        round(&mut congestion, &mut now, standing + Duration::from_millis(3));
        assert!(congestion.next_drain.is_some_and(|at| at > now), "no drain due yet");
        // Another sender drains: round trips far below this one's base
        // make it drain too, at once (the second of them: one alone could
        // be jitter).
        congestion.on_ack(now, Some(standing - Duration::from_millis(8)), 1, standing, TARGET, MOST);
        assert!(congestion.drain.is_none(), "one low round trip");
        let window = congestion.window;
        congestion.on_ack(now, Some(standing - Duration::from_millis(9)), 1, standing, TARGET, MOST);
        assert_eq!(congestion.window(), MIN_WINDOW, "joins the drain");
        // With both drained, the queue is gone.
        for _ in 0..CURRENT_SAMPLES {
            congestion.on_ack(now, Some(BASE), 1, standing, TARGET, MOST);
        }
        now += standing.saturating_mul(2);
        congestion.on_ack(now, None, 0, standing, TARGET, MOST);
        assert_eq!(congestion.window, window, "then the window comes back");
        // Back over the others' queue, it sees it for what it is, and
        // shrinks instead of growing.
        for _ in 0..CURRENT_SAMPLES {
            congestion.on_ack(now, Some(standing), 0, standing, TARGET, MOST);
        }
        assert_eq!(congestion.queueing_delay(), Some(standing - BASE));
        congestion.on_ack(now, Some(standing), 1, standing, TARGET, MOST);
        assert_eq!(congestion.window, window - window / 8);
    }

    #[test]
    fn a_queue_falling_fast_is_joined_but_not_right_after_a_drain() {
        let (mut congestion, mut now) = after_one_round();
        let queued = BASE + Duration::from_millis(8);
        let falling = BASE + Duration::from_millis(4);
        let ack = |congestion: &mut Congestion, now: Instant, rtt: Option<Duration>| {
            congestion.on_ack(now, rtt, 1, queued, TARGET, MOST);
        };
        // Slow start ends; its own first drain, and back.
        for _ in 0..CURRENT_SAMPLES {
            ack(&mut congestion, now, Some(queued));
        }
        now += queued.saturating_mul(2);
        ack(&mut congestion, now, Some(queued));
        assert!(congestion.drain.is_some());
        now += queued.saturating_mul(2);
        ack(&mut congestion, now, None);
        assert!(congestion.drain.is_none());
        // Another sender drains a second later: too soon after its own.
        for (after, joins) in [(Duration::from_secs(1), false), (Duration::from_secs(2), true)] {
            now += after;
            for _ in 0..CURRENT_SAMPLES {
                ack(&mut congestion, now, Some(queued));
            }
            // Not its own decrease (the queue is above the target) falling,
            // a round later.
            now += queued.saturating_mul(3);
            ack(&mut congestion, now, Some(queued));
            now += queued.saturating_mul(2);
            ack(&mut congestion, now, Some(falling));
            ack(&mut congestion, now, Some(falling));
            assert_eq!(congestion.drain.is_some(), joins, "{after:?} later");
        }
    }

    #[test]
    fn its_own_decrease_is_no_drain() {
        let (mut congestion, mut now) = after_one_round();
        let queued = BASE + Duration::from_millis(8);
        // Slow start ends, and the queue is above the target: it shrinks.
        congestion.next_drain = Some(now + DRAIN_EVERY);
        for _ in 0..CURRENT_SAMPLES {
            congestion.on_ack(now, Some(queued), 1, queued, TARGET, MOST);
        }
        congestion.next_drain = Some(now + JOIN_WINDOW);
        assert_eq!(congestion.last_decrease, Some(now));
        // The round trips after it fall by what it took away.
        now += queued;
        for _ in 0..2 {
            congestion.on_ack(now, Some(BASE + Duration::from_millis(4)), 1, queued, TARGET, MOST);
        }
        assert!(congestion.drain.is_none());
    }

    #[test]
    fn a_dip_in_a_standing_queue_is_no_drain() {
        let (mut congestion, mut now) = after_one_round();
        let queued = BASE + Duration::from_millis(11);
        congestion.next_drain = Some(now + JOIN_WINDOW);
        // Rounds at the queue several senders keep, then one round trip
        // 4 ms lower (an eighth and a millisecond below the last round's
        // least), and the queue again: no drain to join.
        for _ in 0..2 {
            for _ in 0..CURRENT_SAMPLES {
                congestion.on_ack(now, Some(queued), 0, queued, TARGET, MOST);
            }
            now += queued;
        }
        for rtt in [queued, queued - Duration::from_millis(4), queued, queued] {
            congestion.on_ack(now, Some(rtt), 0, queued, TARGET, MOST);
        }
        assert!(congestion.drain.is_none());
    }

    #[test]
    fn in_slow_start_a_drain_is_joined_but_not_its_own_first_round_trips() {
        let mut congestion = Congestion::new();
        let now = Instant::from_secs(1);
        let ack = |congestion: &mut Congestion, rtt: u64| {
            congestion.on_ack(now, Some(Duration::from_micros(rtt)), 1, BASE, TARGET, MOST);
        };
        // The first round trips are long (its initial window went out at
        // once, and the host was waking up), the next ones short: no drain.
        for rtt in [4300, 3300, 170, 150] {
            ack(&mut congestion, rtt);
        }
        assert!(congestion.drain.is_none() && congestion.slow_start);
        // Over a queue that others built, it doubles...
        let mut congestion = Congestion::new();
        for _ in 0..CURRENT_SAMPLES {
            ack(&mut congestion, 20_000);
        }
        assert!(congestion.slow_start && congestion.next_drain.is_none());
        // ...until it sees another sender drain: it drains too, and its
        // slow start is over.
        ack(&mut congestion, 9_000);
        ack(&mut congestion, 6_000);
        assert_eq!(congestion.window(), MIN_WINDOW);
        assert!(!congestion.slow_start);
    }

    #[test]
    fn jitter_below_the_base_is_no_drain() {
        let (mut congestion, now) = after_one_round();
        congestion.next_drain = Some(now + DRAIN_EVERY);
        let window = congestion.window;
        // A quarter below a 1 ms base, but not a millisecond.
        congestion.on_ack(now, Some(Duration::from_micros(500)), 1, BASE, TARGET, MOST);
        assert!(congestion.drain.is_none());
        assert!(congestion.window >= window);
    }

    #[test]
    fn random_loss_alone_leaves_the_window_alone() {
        // Nothing but delay moves the window: acknowledgements that deliver
        // fewer segments (the rest lost) at an unchanged round trip still
        // grow it.
        let mut congestion = Congestion::new();
        let mut now = Instant::from_secs(1);
        let rtt = Duration::from_micros(300);
        for _ in 0..20 {
            let window = congestion.window();
            for i in 0..window {
                let delivered = u32::from(i % 5 != 0);
                congestion.on_ack(now, Some(rtt), delivered, rtt, TARGET, MOST);
            }
            now += rtt;
        }
        assert_eq!(congestion.window(), MOST);
    }

    /// A sender pushed to its floor by a queue of `standing` over `BASE`
    /// that another keeps, and held there for `held`, a round trip of
    /// acknowledgements at a time; its drains not due meanwhile.
    fn squeezed(standing: Duration, held: Duration) -> (Congestion, Instant) {
        let (mut congestion, mut now) = after_one_round();
        let mut end = None;
        while end.is_none_or(|end| now < end) {
            congestion.next_drain = Some(now + DRAIN_EVERY);
            round(&mut congestion, &mut now, BASE + standing);
            if congestion.window() == MIN_WINDOW {
                end.get_or_insert(now + held);
            }
        }
        (congestion, now)
    }

    #[test]
    fn at_the_floor_over_others_queue_it_competes_by_loss() {
        // Another sender keeps the queue above the target: for less than
        // COMPETE_AFTER, the window stays at its floor.
        let standing = TARGET.saturating_mul(2);
        let (congestion, _) = squeezed(standing, COMPETE_AFTER / 2);
        assert_eq!((congestion.window(), congestion.competing), (MIN_WINDOW, false));
        // For longer, it competes, and starts as a loss-based sender does:
        // doubling each round trip, over the queue, until a loss.
        let (mut congestion, mut now) = squeezed(standing, COMPETE_AFTER);
        assert!(congestion.competing && congestion.slow_start);
        let rtt = BASE + standing;
        let before = congestion.window();
        congestion.next_drain = Some(now + DRAIN_EVERY);
        round(&mut congestion, &mut now, rtt);
        assert_eq!(congestion.window(), 2 * before);
        // A loss takes 77/256 off, once a loss episode (the segments sent
        // before the decrease were lost to the same overflow), and ends
        // the doubling.
        let window = congestion.window;
        let sent = now;
        now += rtt;
        congestion.on_loss(now, sent);
        congestion.on_loss(now + rtt / 2, sent + rtt / 2);
        assert_eq!(congestion.window, window - window * 77 / 256);
        assert!(!congestion.slow_start);
        congestion.on_loss(now + rtt + rtt / 2, now + rtt / 2);
        assert!(congestion.window < window / 2);
        // From then on, a segment a round trip (but for rounding).
        let before = congestion.window();
        for _ in 0..8 {
            congestion.next_drain = Some(now + DRAIN_EVERY);
            round(&mut congestion, &mut now, rtt);
        }
        assert!((before + 7..=before + 8).contains(&congestion.window()), "{before} -> {}", congestion.window());
    }

    #[test]
    fn while_competing_the_base_delay_is_not_lost_under_the_queue_others_keep() {
        let standing = TARGET.saturating_mul(2);
        let (mut congestion, mut now) = squeezed(standing, COMPETE_AFTER);
        assert!(congestion.competing);
        // Three base intervals without a round trip below that queue.
        let end = now + BASE_INTERVAL.saturating_mul(3);
        while now < end {
            congestion.sample(now, BASE + standing, BASE + standing);
            now += BASE_INTERVAL / 10;
        }
        assert_eq!(congestion.queueing_delay(), Some(standing));
    }

    #[test]
    fn a_loss_that_proves_spurious_gives_its_decrease_back() {
        let (mut congestion, mut now) = squeezed(TARGET.saturating_mul(2), COMPETE_AFTER);
        assert!(congestion.competing);
        congestion.window = 100 * ONE;
        let sent = now;
        now += BASE.saturating_mul(3);
        congestion.on_loss(now, sent);
        let shrunk = 100 * ONE - 100 * ONE * 77 / 256;
        assert_eq!(congestion.window, shrunk);
        // Another segment's first copy arriving is no news about this one.
        congestion.on_spurious(now + BASE);
        assert_eq!(congestion.window, shrunk);
        // The segment sent again when the window shrank.
        congestion.on_spurious(now);
        assert_eq!(congestion.window(), 100);
        congestion.on_spurious(now);
        assert_eq!(congestion.window(), 100);
    }

    #[test]
    fn a_drain_that_empties_the_queue_ends_the_competition_and_one_that_does_not_keeps_it() {
        for (left, competing) in [(TARGET / 2, true), (Duration::ZERO, false)] {
            let (mut congestion, mut now) = squeezed(TARGET.saturating_mul(2), COMPETE_AFTER);
            assert!(congestion.competing);
            congestion.window = 20 * ONE;
            // A loss shrinks the window, which an answer could yet prove
            // spurious.
            congestion.last_decrease = None;
            let lost_at = now;
            congestion.on_loss(lost_at, lost_at);
            let shrunk = congestion.window();
            // (A drain waits two round trips after a decrease.)
            now += BASE.saturating_mul(2);
            // Its drain: the queue falls to `left`.
            congestion.next_drain = Some(now);
            congestion.on_ack(now, Some(BASE + TARGET), 1, BASE, TARGET, MOST);
            assert_eq!(congestion.window(), MIN_WINDOW);
            congestion.on_ack(now + BASE, Some(BASE + left), 1, BASE, TARGET, MOST);
            now += BASE.saturating_mul(2);
            congestion.on_ack(now, None, 0, BASE, TARGET, MOST);
            assert!(congestion.drain.is_none());
            assert_eq!(congestion.competing, competing, "{left:?} left");
            // Back to the delay, it starts over from its floor, in slow
            // start; competing still, it has its window back.
            assert_eq!(congestion.slow_start, !competing);
            assert_eq!(congestion.window(), if competing { shrunk } else { MIN_WINDOW });
            // Nor does a late proof of that loss's spuriousness give the
            // loss-grown window back to a sender that follows delay again.
            congestion.on_spurious(lost_at);
            assert_eq!(congestion.window(), if competing { 20 } else { MIN_WINDOW });
        }
    }

    #[test]
    fn loss_is_no_signal_unless_competing() {
        let (mut congestion, now) = after_one_round();
        let window = congestion.window;
        congestion.on_loss(now, now);
        assert_eq!(congestion.window, window);
    }

    #[test]
    fn the_base_delay_follows_a_longer_route_within_two_intervals() {
        let mut congestion = Congestion::new();
        let short = Duration::from_micros(100);
        let long = Duration::from_millis(20);
        congestion.sample(Instant::from_secs(0), short, short);
        for _ in 0..CURRENT_SAMPLES {
            congestion.sample(Instant::from_secs(10), long, long);
        }
        assert_eq!(congestion.queueing_delay(), Some(long - short));
        for _ in 0..CURRENT_SAMPLES {
            congestion.sample(Instant::from_secs(20), long, long);
        }
        assert_eq!(congestion.queueing_delay(), Some(Duration::ZERO));
    }
}
