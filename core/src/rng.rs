//! A small seedable random generator for the core's protocol choices
//! (connection ids, jitter, nonces when no better source is given) and for
//! the fault injector. Callers seed it: hosts from the operating system,
//! firmware from whatever entropy the board has.

/// xorshift64*: small, fast, seedable. Not cryptographic: keyed mode's
/// epochs and challenge nonces need to be unique, not secret (every frame
/// that uses them is signed), which a 64-bit seed from a random source
/// gives.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is replaced).
    pub const fn new(seed: u64) -> Self {
        Rng(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u8) -> bool {
        self.below(100) < u64::from(percent)
    }

    /// A value in `0..bound` (`0` when `bound` is 0): the high half of the
    /// next 64 bits times `bound` (Lemire's multiply-shift). That takes the
    /// generator's best bits, its high ones, and needs no division, which
    /// a Cortex-M does in 64 bits only in library code.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_close_to_the_configuration() {
        let mut rng = Rng::new(7);
        let hits = (0..10_000).filter(|_| rng.chance(30)).count();
        assert!((2_800..3_200).contains(&hits), "{hits}");
        assert!(!Rng::new(1).chance(0));
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
