//! A replay guard in the process's memory, for a single instance (the SQLite default): no
//! database write per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{Clock, ReplayGuard};
use prepaid_domain::{AspId, Timestamp};
use sha2::{Digest as _, Sha256};

/// What is remembered of one used token: the first 64 bits of SHA-256 over the ASP id and the
/// token. A new token is taken for a replay by mistake only when its digest equals one of the n
/// remembered: a chance of n / 2⁶⁴ a request, below 2 × 10⁻¹³ with the 2.7 million tokens of a
/// 300 s window at 9,000 requests per second (once in about 25 years at that rate). Nobody can
/// aim at it: a token is checked here only after its HMAC, so a digest can only be drawn, 2⁶⁴ /
/// n requests for one chance, and what it would refuse is the drawer's own request.
type TokenDigest = [u8; 8];

/// The instant a token may be forgotten, in whole seconds since the Unix epoch, rounded up: a
/// token is remembered up to a second longer than asked, never shorter.
type ExpirySecond = u32;

/// Independent tables: each grows (and copies itself) alone, so growing never holds two copies
/// of the whole guard in memory at once, and requests of different tokens rarely wait for one
/// another's lock.
const SHARDS: usize = 64;

/// How often a table forgets its expired tokens (on its next use): the guard holds the tokens of
/// the window and at most this many seconds more.
const SWEEP_EVERY_SECONDS: i64 = 10;

fn expiry_second(expires_at: Timestamp) -> ExpirySecond {
    let millis = expires_at.as_millis();
    let seconds = millis.div_euclid(1_000) + i64::from(millis.rem_euclid(1_000) != 0);
    // Before 1970: already expired; after 2106: remembered until then.
    ExpirySecond::try_from(seconds.max(0)).unwrap_or(ExpirySecond::MAX)
}

fn remembered_at(expiry: ExpirySecond, now: Timestamp) -> bool {
    i64::from(expiry) * 1_000 >= now.as_millis()
}

#[derive(Default)]
struct Shard {
    used: HashMap<TokenDigest, ExpirySecond>,
    /// When this table last forgot its expired tokens (milliseconds since the epoch).
    swept_at: i64,
}

/// Used tran tokens in memory, forgotten when they expire.
///
/// Each entry is an 8-byte digest and a 4-byte expiry: 13 bytes a slot with the table's control
/// byte, 15 to 30 bytes a token as the tables fill and double (not the ASP id and the
/// 102-character replay key as two owned strings, about 310 bytes a token). The guard holds every
/// token of the replay window, so its size is the request rate times the window, and under a
/// sustained load it is most of the service's memory (docs/PERFORMANCE.md).
pub struct InMemoryReplayGuard {
    clock: Arc<dyn Clock>,
    shards: Box<[Mutex<Shard>]>,
}

impl InMemoryReplayGuard {
    /// An empty guard reading the time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// How many tokens are remembered (expired ones not yet forgotten included).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .used
                    .len()
            })
            .sum()
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
        // The digest's last byte picks the table; the table hashes all eight again.
        let shard = &self.shards[usize::from(key[7]) % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if now.as_millis() - shard.swept_at >= SWEEP_EVERY_SECONDS * 1_000 {
            shard.used.retain(|_, expiry| remembered_at(*expiry, now));
            shard.swept_at = now.as_millis();
        }
        match shard.used.get(&key) {
            Some(expiry) if remembered_at(*expiry, now) => Ok(false),
            _ => {
                shard.used.insert(key, expiry_second(expires_at));
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
    async fn an_expiry_within_a_second_is_kept_to_the_end_of_that_second() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");

        assert!(first(&guard, &asp, 1, until(300_001)).await);
        clock.0.store(NOW + 301_000, Ordering::SeqCst);
        assert!(
            !first(&guard, &asp, 1, until(600_000)).await,
            "remembered up to a second longer, never shorter"
        );
        clock.0.store(NOW + 301_001, Ordering::SeqCst);
        assert!(first(&guard, &asp, 1, until(600_000)).await);
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
    async fn expired_tokens_are_forgotten_within_the_sweep_interval() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");
        for n in 0..10_000 {
            assert!(first(&guard, &asp, n, until(1_000)).await);
        }
        assert_eq!(guard.len(), 10_000, "nothing has expired yet");

        // Every table sweeps at its next use once the interval has passed since its last sweep.
        clock
            .0
            .store(NOW + 1_001 + SWEEP_EVERY_SECONDS * 1_000, Ordering::SeqCst);
        for n in 10_000..20_000 {
            assert!(first(&guard, &asp, n, until(100_000)).await);
        }

        assert_eq!(
            guard.len(),
            10_000,
            "the 10,000 expired tokens were forgotten"
        );
    }
}
