//! Time as the core sees it: values handed in by the caller.
//!
//! The core never reads a clock. Hosts convert from `std::time::Instant`,
//! microcontrollers from a timer, replays from capture timestamps. Both types
//! count microseconds in a `u64` (enough for 584 000 years), and arithmetic
//! saturates instead of panicking so a clock that jumps cannot crash a node.
//!
//! Durations divide by 32-bit numbers only, by 32-bit divisions: a
//! Cortex-M divides 32-bit numbers in one instruction, but 64-bit ones only
//! in a kilobyte of the compiler's library code.

use core::fmt;
use core::ops::{Add, AddAssign, Div, Sub};

/// A point in time, in microseconds since an epoch the caller chooses.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant {
    micros: u64,
}

/// A span of time, in microseconds.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration {
    micros: u64,
}

impl Instant {
    /// The epoch.
    pub const ZERO: Instant = Instant { micros: 0 };

    /// An instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Self {
        Instant { micros }
    }

    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant::from_micros(millis.saturating_mul(1_000))
    }

    /// An instant `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Instant::from_micros(secs.saturating_mul(1_000_000))
    }

    /// Microseconds since the epoch.
    pub const fn total_micros(self) -> u64 {
        self.micros
    }

    /// Whole milliseconds since the epoch.
    pub const fn total_millis(self) -> u64 {
        div_u32(self.micros, 1_000)
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration { micros: 0 };

    /// A duration of `micros` microseconds.
    pub const fn from_micros(micros: u64) -> Self {
        Duration { micros }
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Duration::from_micros(millis.saturating_mul(1_000))
    }

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration::from_micros(secs.saturating_mul(1_000_000))
    }

    /// The duration in microseconds.
    pub const fn total_micros(self) -> u64 {
        self.micros
    }

    /// The duration in whole milliseconds.
    pub const fn total_millis(self) -> u64 {
        div_u32(self.micros, 1_000)
    }

    /// The duration in whole seconds.
    pub const fn total_secs(self) -> u64 {
        div_u32(div_u32(self.micros, 1_000), 1_000)
    }

    /// `self * factor`, saturating.
    pub const fn saturating_mul(self, factor: u64) -> Duration {
        Duration::from_micros(self.micros.saturating_mul(factor))
    }
}

/// `dividend / divisor` from 32-bit divisions: the high word divides
/// directly, and its remainder and the low word by long division in base
/// 2^16 (Knuth's algorithm D as Hacker's Delight's `divlu`, 9-3). Panics if
/// `divisor` is 0, as `/` does.
const fn div_u32(dividend: u64, divisor: u32) -> u64 {
    let (high, low) = ((dividend >> 32) as u32, dividend as u32);
    if high == 0 {
        return (low / divisor) as u64;
    }
    let quotient_low = div_u64_by_u32_below(high % divisor, low, divisor);
    ((high / divisor) as u64) << 32 | quotient_low as u64
}

/// `(high · 2^32 + low) / divisor` where `high < divisor`, so the quotient
/// fits 32 bits: two base-2^16 digits, each estimated from the divisor's
/// top digit once normalized (its top bit set) and corrected at most twice.
const fn div_u64_by_u32_below(high: u32, low: u32, divisor: u32) -> u32 {
    const BASE: u32 = 1 << 16;
    let shift = divisor.leading_zeros();
    let divisor = divisor << shift;
    let (divisor_1, divisor_0) = (divisor >> 16, divisor & 0xffff);
    let top = if shift == 0 { high } else { high << shift | low >> (32 - shift) };
    let low = low << shift;
    let (low_1, low_0) = (low >> 16, low & 0xffff);
    let quotient_1 = quotient_digit(top, low_1, divisor_1, divisor_0);
    // What is left of `top:low_1` after the first digit, in 32 bits: the
    // true value fits, the wrapping steps towards it need not.
    let rest = top.wrapping_mul(BASE).wrapping_add(low_1).wrapping_sub(quotient_1.wrapping_mul(divisor));
    let quotient_0 = quotient_digit(rest, low_0, divisor_1, divisor_0);
    quotient_1 * BASE + quotient_0
}

/// One base-2^16 digit of `(dividend · 2^16 + next) / (divisor_1 · 2^16 +
/// divisor_0)`, estimated from `dividend / divisor_1` and corrected down.
const fn quotient_digit(dividend: u32, next: u32, divisor_1: u32, divisor_0: u32) -> u32 {
    const BASE: u32 = 1 << 16;
    let mut digit = dividend / divisor_1;
    let mut remainder = dividend - digit * divisor_1;
    while digit >= BASE || digit * divisor_0 > BASE * remainder + next {
        digit -= 1;
        remainder += divisor_1;
        if remainder >= BASE {
            break;
        }
    }
    digit
}

/// The earlier of two optional deadlines; `None` stands for "no deadline".
#[inline]
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_micros(self.micros.saturating_add(rhs.micros))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

/// `self / divisor`, rounded down (panics if `divisor` is 0, as `/` does).
impl Div<u32> for Duration {
    type Output = Duration;
    fn div(self, divisor: u32) -> Duration {
        Duration::from_micros(div_u32(self.micros, divisor))
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, rhs: Duration) -> Duration {
        Duration::from_micros(self.micros.saturating_add(rhs.micros))
    }
}

impl Sub for Duration {
    type Output = Duration;
    /// The difference, or zero if `rhs` is longer.
    fn sub(self, rhs: Duration) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(rhs.micros))
    }
}

impl From<core::time::Duration> for Duration {
    fn from(d: core::time::Duration) -> Self {
        Duration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}

impl From<Duration> for core::time::Duration {
    fn from(d: Duration) -> Self {
        core::time::Duration::from_micros(d.micros)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.micros / 1_000_000, self.micros % 1_000_000)
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.micros >= 1_000_000 {
            write!(f, "{}.{:03}s", self.micros / 1_000_000, (self.micros % 1_000_000) / 1_000)
        } else if self.micros >= 1_000 {
            write!(f, "{}.{:03}ms", self.micros / 1_000, self.micros % 1_000)
        } else {
            write!(f, "{}us", self.micros)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn dividing_in_32_bits_agrees_with_64_bit_division(dividend: u64, divisor in 1u32..) {
            prop_assert_eq!(div_u32(dividend, divisor), dividend / u64::from(divisor));
        }

        #[test]
        fn small_divisors_and_dividends_near_the_top_agree_too(dividend in (u64::MAX - (1 << 40))..=u64::MAX, divisor in 1u32..70_000) {
            prop_assert_eq!(div_u32(dividend, divisor), dividend / u64::from(divisor));
        }
    }

    #[test]
    fn dividing_in_32_bits_at_the_edges() {
        let dividends =
            [0, 1, 999, 1_000, u64::from(u32::MAX), 1 << 32, (1 << 32) + 1, 1 << 48, u64::MAX - 1, u64::MAX];
        let divisors = [1, 2, 3, 10, 1_000, 0xffff, 0x1_0000, 0x1_0001, 1 << 31, u32::MAX - 1, u32::MAX];
        for dividend in dividends {
            for divisor in divisors {
                assert_eq!(div_u32(dividend, divisor), dividend / u64::from(divisor), "{dividend} / {divisor}");
            }
        }
        assert_eq!(Duration::from_secs(45).total_secs(), 45);
        assert_eq!(Duration::from_micros(1_999_999).total_secs(), 1);
        assert_eq!(Duration::from_millis(10) / 4, Duration::from_micros(2_500));
    }

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let late = Instant::from_secs(10);
        let early = Instant::from_secs(3);
        assert_eq!(late - early, Duration::from_secs(7));
        assert_eq!(early - late, Duration::ZERO);
        assert_eq!(Instant::from_micros(u64::MAX) + Duration::from_secs(1), Instant::from_micros(u64::MAX));
    }

    #[test]
    fn earliest_ignores_missing_deadlines() {
        let (a, b) = (Instant::from_secs(1), Instant::from_secs(2));
        assert_eq!(earliest(Some(b), Some(a)), Some(a));
        assert_eq!(earliest(None, Some(b)), Some(b));
        assert_eq!(earliest(Some(a), None), Some(a));
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn converts_to_and_from_core_duration() {
        let d = Duration::from_millis(1_500);
        assert_eq!(core::time::Duration::from(d), core::time::Duration::from_millis(1_500));
        assert_eq!(Duration::from(core::time::Duration::from_nanos(2_999)), Duration::from_micros(2));
        assert_eq!(Duration::from(core::time::Duration::MAX), Duration::from_micros(u64::MAX));
    }

    #[test]
    fn displays_human_units() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{}", Instant::from_micros(1_500_042)), "1.500042s");
        assert_eq!(format!("{}", Duration::from_micros(1_500)), "1.500ms");
        assert_eq!(format!("{}", Duration::from_secs(2)), "2.000s");
        assert_eq!(format!("{}", Duration::from_micros(7)), "7us");
    }
}
