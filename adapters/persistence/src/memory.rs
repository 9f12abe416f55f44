//! A replay guard in the process's memory, for a single instance (the SQLite default): no
//! database write per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{Clock, ReplayGuard};
use prepaid_domain::{AspId, Timestamp};
use sha2::{Digest as _, Sha256};

/// What is remembered of one used token: the first 128 bits of SHA-256 over the ASP id and the
/// token. Two distinct tokens share it with a chance of about n² / 2¹²⁹ among n remembered ones
/// (below 10⁻²⁶ for the 2.4 million tokens of a 300 s window at 8,000 requests per second), and
/// finding such a pair on purpose takes about 2⁶⁴ hashes; its only effect would be refusing
/// the finder's own request.
type TokenDigest = [u8; 16];

/// Used tran tokens in memory, forgotten when they expire.
///
/// Each entry is a 16-byte digest and an 8-byte expiry (about 29 bytes with the table's own
/// overhead), not the ASP id and the 102-character replay key as owned strings (about 180
/// bytes and two allocations): the guard holds every token of the replay window, so its size is
/// the request rate times the window, and it is most of the service's memory under a sustained
/// load (docs/PERFORMANCE.md).
pub struct InMemoryReplayGuard {
    clock: Arc<dyn Clock>,
    used: Mutex<HashMap<TokenDigest, Timestamp>>,
}

impl InMemoryReplayGuard {
    /// An empty guard reading the time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no token is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn digest(asp_id: &AspId, token: &str) -> TokenDigest {
    let hash = Sha256::new()
        .chain_update(asp_id.as_str().as_bytes())
        // ASP ids are 15 alphanumerics; the separator keeps the two parts apart regardless.
        .chain_update([0])
        .chain_update(token.as_bytes())
        .finalize();
    let mut digest = TokenDigest::default();
    let length = digest.len();
    digest.copy_from_slice(&hash[..length]);
    digest
}

#[async_trait]
impl ReplayGuard for InMemoryReplayGuard {
    async fn first_use(
        &self,
        asp_id: &AspId,
        token: &str,
        expires_at: Timestamp,
    ) -> Result<bool, PortError> {
        let key = digest(asp_id, token);
        let now = self.clock.now();
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        // Sweep when the map doubles past a floor, so the cost is amortised per insert.
        if used.len() >= 4_096 && used.len().is_power_of_two() {
            used.retain(|_, expiry| *expiry >= now);
        }
        match used.get(&key) {
            Some(expiry) if *expiry >= now => Ok(false),
            _ => {
                used.insert(key, expires_at);
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    const NOW: i64 = 1_795_000_000_000;

    struct TestClock(AtomicI64);

    impl Clock for TestClock {
        fn now(&self) -> Timestamp {
            Timestamp::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    fn guard() -> (InMemoryReplayGuard, Arc<TestClock>) {
        let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
        (InMemoryReplayGuard::new(clock.clone()), clock)
    }

    fn asp(id: &str) -> AspId {
        AspId::parse(id).unwrap()
    }

    fn token(n: u64) -> String {
        format!("AK:20261125063000000:{n:043}")
    }

    fn until(millis: i64) -> Timestamp {
        Timestamp::from_millis(NOW + millis)
    }

    /// Whether `guard` takes token `n` of `asp` as a first use, remembered until `expires`.
    async fn first(guard: &InMemoryReplayGuard, asp: &AspId, n: u64, expires: Timestamp) -> bool {
        guard.first_use(asp, &token(n), expires).await.unwrap()
    }

    #[tokio::test]
    async fn a_token_is_accepted_once_and_refused_until_it_expires() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");

        assert!(first(&guard, &asp, 1, until(300_000)).await);
        assert!(!first(&guard, &asp, 1, until(300_000)).await);
        clock.0.store(NOW + 300_000, Ordering::SeqCst);
        assert!(
            !first(&guard, &asp, 1, until(600_000)).await,
            "still refused at the instant it expires"
        );
        clock.0.store(NOW + 300_001, Ordering::SeqCst);
        assert!(first(&guard, &asp, 1, until(600_001)).await);
    }

    #[tokio::test]
    async fn the_same_token_of_another_asp_or_another_token_is_a_first_use() {
        let (guard, _) = guard();

        let (one, two) = (asp("ASP000000000001"), asp("ASP000000000002"));

        assert!(first(&guard, &one, 1, until(300_000)).await);
        assert!(first(&guard, &two, 1, until(300_000)).await);
        assert!(first(&guard, &one, 2, until(300_000)).await);
        assert_eq!(guard.len(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_many_concurrent_uses_of_one_token_exactly_one_is_first() {
        let (guard, _) = guard();
        let guard = Arc::new(guard);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let guard = guard.clone();
                tokio::spawn(async move {
                    guard
                        .first_use(&asp("ASP000000000001"), &token(7), until(300_000))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut firsts = 0;
        for task in tasks {
            firsts += usize::from(task.await.unwrap());
        }
        assert_eq!(firsts, 1);
    }

    #[tokio::test]
    async fn expired_tokens_are_forgotten_as_the_guard_grows() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");
        for n in 0..8_191 {
            assert!(first(&guard, &asp, n, until(1_000)).await);
        }
        clock.0.store(NOW + 1_001, Ordering::SeqCst);
        for n in 8_191..8_193 {
            assert!(first(&guard, &asp, n, until(2_000)).await);
        }

        assert_eq!(guard.len(), 2, "the 8,191 expired tokens were swept");
    }
}
