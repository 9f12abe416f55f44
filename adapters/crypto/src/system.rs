//! The system's clock and randomness.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use prepaid_application::ports::{Clock, RandomSource};
use prepaid_domain::Timestamp;
use rand::RngCore;

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        Timestamp::from_millis(millis)
    }
}

/// Randomness from `rand`'s thread-local CSPRNG (`ChaCha`, seeded and reseeded from the OS).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

#[async_trait]
impl RandomSource for OsRandom {
    fn next_u64(&self) -> u64 {
        rand::rng().next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_never_repeat_and_use_every_bit() {
        let values: std::collections::HashSet<u64> =
            (0..10_000).map(|_| OsRandom.next_u64()).collect();
        assert_eq!(values.len(), 10_000);
        let (ones, zeros) = values.iter().fold((0_u64, 0_u64), |(ones, zeros), value| {
            (ones | value, zeros | !value)
        });
        assert_eq!(
            (ones, zeros),
            (u64::MAX, u64::MAX),
            "each bit is seen set and clear"
        );
    }

    #[test]
    fn the_clock_reads_the_present() {
        // 2026-01-01 and 2100-01-01: a clock stuck at 0 or the maximum is caught.
        let now = SystemClock.now().as_millis();
        assert!(
            (1_767_225_600_000..4_102_444_800_000).contains(&now),
            "{now}"
        );
    }
}
