//! The one pseudo-random generator every workload and its Python twin share: SplitMix64.
//!
//! A twin must make exactly the choices the Rust workload makes, so both sides implement the
//! same small generator and the same ways of drawing from it (`workloads/python/common.py` is
//! the Python side; `tests/twins.rs` checks that the two agree on a fixed sequence):
//!
//! ```text
//!   state += 0x9e3779b97f4a7c15
//!   z = state
//!   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
//!   z = (z ^ (z >> 27)) * 0x94d049bb133111eb
//!   next_u64 = z ^ (z >> 31)                          (all arithmetic modulo 2^64)
//!
//!   below(n)  = (next_u64 * n) >> 64                  uniform in 0..n (Lemire, no rejection:
//!                                                     bias below n / 2^64, far under noise)
//!   unit()    = (next_u64 >> 11) * 2^-53              uniform in [0, 1); also what `rand`
//!                                                     feeds `rand_distr` distributions
//!   chance(p) = unit() < p
//! ```
//!
//! `SplitMix64` implements `rand`'s `TryRng`, so `rand_distr` distributions can draw from it;
//! a twin then reproduces that distribution's sampling algorithm on top of `unit()`.

use std::convert::Infallible;

use rand::TryRng;

/// Sebastiano Vigna's SplitMix64: 64 bits of state, passes BigCrush, trivially portable.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value to return");
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform index into a collection of `len` elements.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

impl TryRng for SplitMix64 {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn matches_the_reference_sequence() {
        // Vigna's splitmix64.c seeded with 1234567 prints these first values.
        let mut rng = SplitMix64::new(1_234_567);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(first, [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423]);
    }

    #[test]
    fn unit_is_what_rand_draws_for_f64() {
        let (mut ours, mut theirs) = (SplitMix64::new(9), SplitMix64::new(9));
        for _ in 0..100 {
            assert_eq!(ours.unit(), theirs.random::<f64>());
        }
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SplitMix64::new(3);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[rng.index(7)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
