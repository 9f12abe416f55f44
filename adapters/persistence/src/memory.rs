//! A replay guard in the process's memory, for a single instance (the SQLite default): no
//! database write per request.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{Clock, ReplayGuard};
use prepaid_domain::{AspId, Timestamp};
use sha2::{Digest as _, Sha256};

/// What is remembered of one used token: the first 64 bits of SHA-256 over the ASP id and the
/// token (0, which marks an empty slot, is stored as 1). A new token is taken for a replay by
/// mistake only when its digest equals one of the n remembered: a chance of n / 2⁶⁴ a request,
/// about 2 × 10⁻¹³ with the 3.9 million tokens of a 300 s window at 13,000 requests per second
/// (once in about 12 years at that rate). Nobody can aim at it: a token is checked here only
/// after its HMAC, so a digest can only be drawn, 2⁶⁴ / n requests for one chance, and what it
/// would refuse is the drawer's own request.
type TokenDigest = u64;

/// Tokens are kept in generations by expiry: generation g holds the tokens that expire in the
/// `GENERATION_SECONDS` seconds up to g × `GENERATION_SECONDS` (Unix seconds), and is forgotten
/// whole once that instant has passed. A token is remembered until it expires and at most this
/// many seconds longer; no entry needs an expiry of its own, nor any sweep.
const GENERATION_SECONDS: i64 = 20;

/// Independent sets of generations, picked by the digest's low bits: each table grows (and
/// copies itself) alone, and requests of different tokens rarely wait for one another's lock.
const SHARDS: usize = 16;

/// A table grows by half when it is this full (in percent); a new generation's table is sized to
/// be 80 % full with as many tokens as the generation before it.
const MAX_LOAD_PERCENT: usize = 85;
const PLANNED_LOAD_PERCENT: usize = 80;
const MIN_SLOTS: usize = 64;

/// The generation that holds tokens expiring at `expires_at`: the number of the first
/// generation boundary at or after it (so never before it).
fn generation_of(expires_at: Timestamp) -> i64 {
    let millis = expires_at.as_millis();
    let second = millis.div_euclid(1_000) + i64::from(millis.rem_euclid(1_000) != 0);
    second.div_euclid(GENERATION_SECONDS) + i64::from(second.rem_euclid(GENERATION_SECONDS) != 0)
}

/// Whether generation `number` still holds tokens that have not expired at `now`.
fn alive(number: i64, now: Timestamp) -> bool {
    number.saturating_mul(GENERATION_SECONDS * 1_000) >= now.as_millis()
}

/// A set of digests in one flat array: open addressing with linear probing, 8 bytes a slot and
/// nothing else (a general hash map of 8-byte keys with 4-byte expiries takes 13 bytes a slot and
/// runs between 44 % and 88 % full as it doubles). Digests are uniform, so a digest's home slot
/// is its value scaled to the table's length, and any length will do. Nothing is ever removed:
/// the generation is dropped whole.
struct DigestTable {
    slots: Box<[TokenDigest]>,
    len: usize,
}

impl DigestTable {
    /// An empty table for about `tokens` tokens at the planned load.
    fn planned_for(tokens: usize) -> Self {
        let slots = (tokens.saturating_mul(100) / PLANNED_LOAD_PERCENT).max(MIN_SLOTS);
        Self {
            slots: vec![0; slots].into_boxed_slice(),
            len: 0,
        }
    }

    fn home(&self, digest: TokenDigest) -> usize {
        let length = self.slots.len();
        let scaled = (u128::from(digest) * length as u128) >> 64;
        usize::try_from(scaled).unwrap_or(length - 1)
    }

    /// The slot holding `digest`, or the empty slot where it would go.
    fn probe(&self, digest: TokenDigest) -> (usize, bool) {
        let mut slot = self.home(digest);
        loop {
            match self.slots[slot] {
                0 => return (slot, false),
                held if held == digest => return (slot, true),
                _ => {
                    slot = if slot + 1 == self.slots.len() {
                        0
                    } else {
                        slot + 1
                    }
                }
            }
        }
    }

    fn contains(&self, digest: TokenDigest) -> bool {
        self.probe(digest).1
    }

    /// Adds `digest`; `false` when it was there already.
    fn insert(&mut self, digest: TokenDigest) -> bool {
        if (self.len + 1) * 100 > self.slots.len() * MAX_LOAD_PERCENT {
            let mut grown = Self::planned_for((self.len + 1) * 3 / 2 * PLANNED_LOAD_PERCENT / 100);
            for &held in self.slots.iter().filter(|&&held| held != 0) {
                grown.insert(held);
            }
            *self = grown;
        }
        let (slot, present) = self.probe(digest);
        if !present {
            self.slots[slot] = digest;
            self.len += 1;
        }
        !present
    }
}

struct Generation {
    number: i64,
    tokens: DigestTable,
}

#[derive(Default)]
struct Shard {
    /// The live generations, in no particular order (a few dozen at most).
    generations: Vec<Generation>,
}

impl Shard {
    fn forget_expired(&mut self, now: Timestamp) {
        self.generations
            .retain(|generation| alive(generation.number, now));
    }

    fn remembers(&self, digest: TokenDigest) -> bool {
        self.generations
            .iter()
            .any(|generation| generation.tokens.contains(digest))
    }

    /// The table of generation `number`, made when missing: sized for as many tokens as the
    /// generation before it holds, else as the fullest live one.
    fn generation(&mut self, number: i64) -> &mut DigestTable {
        let index = self
            .generations
            .iter()
            .position(|g| g.number == number)
            .unwrap_or_else(|| {
                let expected = self
                    .generations
                    .iter()
                    .find(|g| g.number == number - 1)
                    .or_else(|| self.generations.iter().max_by_key(|g| g.tokens.len))
                    .map_or(0, |g| g.tokens.len);
                self.generations.push(Generation {
                    number,
                    tokens: DigestTable::planned_for(expected),
                });
                self.generations.len() - 1
            });
        &mut self.generations[index].tokens
    }
}

/// Used tran tokens in memory, forgotten within `GENERATION_SECONDS` after they expire.
///
/// Each token takes one 8-byte slot of a table 80 to 85 % full, about 10 bytes (not the ASP id
/// and the 102-character replay key as two owned strings, about 310 bytes a token). The guard
/// holds every token of the replay window, so its size is the request rate times the window,
/// and under a sustained load it is most of the service's memory (docs/PERFORMANCE.md).
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
                let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
                shard
                    .generations
                    .iter()
                    .map(|g| g.tokens.len)
                    .sum::<usize>()
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
    let mut first = [0; 8];
    first.copy_from_slice(&hash[..8]);
    TokenDigest::from_le_bytes(first).max(1)
}

#[async_trait]
impl ReplayGuard for InMemoryReplayGuard {
    /// Refuses a token while any live generation holds it: until it expires, and possibly up to
    /// `GENERATION_SECONDS` longer (a token past its expiry is out of the request window anyway:
    /// it expires a second after the window closes on it).
    async fn first_use(
        &self,
        asp_id: &AspId,
        token: &str,
        expires_at: Timestamp,
    ) -> Result<bool, PortError> {
        let digest = digest(asp_id, token);
        let now = self.clock.now();
        // The digest's low bits pick the shard; a table places it by its high bits.
        let shard = &self.shards[usize::try_from(digest % SHARDS as u64).unwrap_or(0)];
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        shard.forget_expired(now);
        if shard.remembers(digest) {
            return Ok(false);
        }
        shard.generation(generation_of(expires_at)).insert(digest);
        Ok(true)
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
    async fn a_token_is_remembered_to_the_end_of_its_generation_never_shorter() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");

        // Expiring 300.001 s from now, in the generation that ends 320 s from now.
        assert!(first(&guard, &asp, 1, until(300_001)).await);
        clock.0.store(NOW + 300_001, Ordering::SeqCst);
        assert!(
            !first(&guard, &asp, 1, until(600_000)).await,
            "not forgotten before it expires"
        );
        clock.0.store(NOW + 320_000, Ordering::SeqCst);
        assert!(!first(&guard, &asp, 1, until(600_000)).await);
        clock.0.store(NOW + 320_001, Ordering::SeqCst);
        assert!(
            first(&guard, &asp, 1, until(600_000)).await,
            "forgotten with its generation"
        );
    }

    #[tokio::test]
    async fn a_token_is_refused_whatever_expiry_a_replay_claims() {
        let (guard, _) = guard();
        let asp = asp("ASP000000000001");

        assert!(first(&guard, &asp, 1, until(300_000)).await);
        assert!(!first(&guard, &asp, 1, until(900_000)).await);
        assert!(!first(&guard, &asp, 1, until(1_000)).await);
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
    async fn expired_generations_are_forgotten_whole() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");
        for n in 0..10_000 {
            assert!(first(&guard, &asp, n, until(1_000)).await);
        }
        assert_eq!(guard.len(), 10_000, "nothing has expired yet");

        // Their generation ends 20 s from now; each shard forgets it at its next use.
        clock.0.store(NOW + 20_001, Ordering::SeqCst);
        for n in 10_000..20_000 {
            assert!(first(&guard, &asp, n, until(100_000)).await);
        }

        assert_eq!(
            guard.len(),
            10_000,
            "the 10,000 expired tokens were forgotten"
        );
    }

    #[tokio::test]
    async fn a_generation_that_outgrows_its_table_keeps_every_token() {
        let (guard, _) = guard();
        let asp = asp("ASP000000000001");
        for n in 0..100_000 {
            assert!(first(&guard, &asp, n, until(300_000)).await);
        }
        for n in (0..100_000).step_by(7) {
            assert!(
                !first(&guard, &asp, n, until(300_000)).await,
                "token {n} forgotten"
            );
        }
        assert_eq!(guard.len(), 100_000);
    }

    #[test]
    fn a_table_planned_for_n_tokens_holds_them_in_about_ten_bytes_each_without_growing() {
        let mut table = DigestTable::planned_for(50_000);
        let slots = table.slots.len();
        for n in 1..=50_000_u64 {
            assert!(table.insert(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        assert_eq!(table.slots.len(), slots, "it did not grow");
        assert_eq!(
            std::mem::size_of_val(&*table.slots),
            500_000,
            "8 bytes a slot at 80 % full"
        );
    }

    proptest::proptest! {
        #[test]
        fn a_table_holds_exactly_the_digests_put_in_it(
            // Some crowded at the top, whose probes wrap around to the first slot.
            digests in proptest::collection::vec(proptest::prop_oneof![1..u64::MAX, u64::MAX - 4_096..=u64::MAX], 0..2_000),
            others in proptest::collection::vec(proptest::prop_oneof![1..u64::MAX, u64::MAX - 4_096..=u64::MAX], 0..200),
        ) {
            let mut table = DigestTable::planned_for(0);
            let mut model = std::collections::HashSet::new();
            for &digest in &digests {
                proptest::prop_assert_eq!(table.insert(digest), model.insert(digest));
            }
            proptest::prop_assert_eq!(table.len, model.len());
            for digest in digests.iter().chain(&others) {
                proptest::prop_assert_eq!(table.contains(*digest), model.contains(digest));
            }
        }
    }
}
