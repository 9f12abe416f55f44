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
