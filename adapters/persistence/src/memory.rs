//! A replay guard in the process's memory, for a single instance (the SQLite default): no
//! database read per request. Each new binding is also handed to a journal (the SQLite
//! group-commit writer), which writes it with the next commit, so that a restart within the
//! window remembers it without a `fsync` of its own.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{Clock, ReplayGuard};
use prepaid_domain::{AspId, CorrelationId, Timestamp};
use sha2::{Digest as _, Sha256};

use crate::rows::ReplayBindingRow;

/// What is remembered of one signature: the first 64 bits of SHA-256 over the ASP id and the
/// token key (0, which marks an empty slot, is stored as 1). A new signature is taken for a
/// bound one by mistake only when its digest equals one of the n remembered: a chance of
/// n / 2⁶⁴ a request, about 2 × 10⁻¹³ with the 3.9 million signatures of a 300 s window at
/// 13,000 requests per second. Nobody can aim at it: a signature is checked here only after its
/// HMAC, so a digest can only be drawn, and what it would refuse is the drawer's own request.
type TokenDigest = u64;

/// What is remembered of the correlation id a signature is bound to: the first 64 bits of its
/// SHA-256. A replay with another correlation id passes for a retry only if the two digests
/// are equal, a chance of 2⁻⁶⁴ for each correlation id an attacker tries.
type CorrelationDigest = u64;

/// Bindings are kept in generations by expiry: generation g holds the bindings that expire in
/// the `GENERATION_SECONDS` seconds up to g × `GENERATION_SECONDS` (Unix seconds), and is
/// forgotten whole once that instant has passed. A binding is remembered until it expires and
/// at most this many seconds longer; no entry needs an expiry of its own, nor any sweep.
const GENERATION_SECONDS: i64 = 20;

/// Independent sets of generations, picked by the digest's low bits: each table grows (and
/// copies itself) alone, and requests of different signatures rarely wait for one another's
/// lock.
const SHARDS: usize = 16;

/// A table grows by half when it is this full (in percent); a new generation's table is sized to
/// be 80 % full with as many bindings as the generation before it.
const MAX_LOAD_PERCENT: usize = 85;
const PLANNED_LOAD_PERCENT: usize = 80;
const MIN_SLOTS: usize = 64;

/// The generation that holds bindings expiring at `expires_at`: the number of the first
/// generation boundary at or after it (so never before it).
fn generation_of(expires_at: Timestamp) -> i64 {
    let millis = expires_at.as_millis();
    let second = millis.div_euclid(1_000) + i64::from(millis.rem_euclid(1_000) != 0);
    second.div_euclid(GENERATION_SECONDS) + i64::from(second.rem_euclid(GENERATION_SECONDS) != 0)
}

/// Whether generation `number` still holds bindings that have not expired at `now`.
fn alive(number: i64, now: Timestamp) -> bool {
    number.saturating_mul(GENERATION_SECONDS * 1_000) >= now.as_millis()
}

/// One binding: 16 bytes.
#[derive(Clone, Copy, Default)]
struct Slot {
    token: TokenDigest,
    correlation: CorrelationDigest,
}

/// A map of digests in one flat array: open addressing with linear probing, 16 bytes a slot and
/// nothing else. Digests are uniform, so a digest's home slot is its value scaled to the table's
/// length, and any length will do. Nothing is ever removed: the generation is dropped whole.
struct DigestTable {
    slots: Box<[Slot]>,
    len: usize,
}

impl DigestTable {
    /// An empty table for about `tokens` bindings at the planned load.
    fn planned_for(tokens: usize) -> Self {
        let slots = (tokens.saturating_mul(100) / PLANNED_LOAD_PERCENT).max(MIN_SLOTS);
        Self {
            slots: vec![Slot::default(); slots].into_boxed_slice(),
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
            match self.slots[slot].token {
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

    /// The correlation digest `digest` is bound to here.
    fn get(&self, digest: TokenDigest) -> Option<CorrelationDigest> {
        let (slot, present) = self.probe(digest);
        present.then(|| self.slots[slot].correlation)
    }

    /// Binds `digest` to `correlation`; `false` (and nothing changed) when it was bound here
    /// already.
    fn insert(&mut self, digest: TokenDigest, correlation: CorrelationDigest) -> bool {
        if (self.len + 1) * 100 > self.slots.len() * MAX_LOAD_PERCENT {
            let mut grown = Self::planned_for((self.len + 1) * 3 / 2 * PLANNED_LOAD_PERCENT / 100);
            for held in self.slots.iter().filter(|held| held.token != 0) {
                grown.insert(held.token, held.correlation);
            }
            *self = grown;
        }
        let (slot, present) = self.probe(digest);
        if !present {
            self.slots[slot] = Slot {
                token: digest,
                correlation,
            };
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

    /// The correlation digest `digest` is bound to, and the latest generation holding it.
    fn binding(&self, digest: TokenDigest) -> Option<(CorrelationDigest, i64)> {
        self.generations
            .iter()
            .filter_map(|generation| {
                generation
                    .tokens
                    .get(digest)
                    .map(|correlation| (correlation, generation.number))
            })
            .max_by_key(|&(_, number)| number)
    }

    /// The table of generation `number`, made when missing: sized for as many bindings as the
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

/// Where a guard writes each binding it makes or extends, so that a restart finds it again.
pub(crate) trait BindingJournal: Send + Sync {
    /// Writes `binding` with the next commit (a later binding of the same digest replaces it);
    /// `now` lets the journal forget bindings that have expired.
    fn write(&self, binding: ReplayBindingRow, now: Timestamp);
}

/// Replay bindings in memory, forgotten within `GENERATION_SECONDS` after they expire.
///
/// Each binding takes one 16-byte slot of a table 80 to 85 % full, about 20 bytes. The guard
/// holds every signature of the replay window, so its size is the request rate times the
/// window, and under a sustained load it is most of the service's memory
/// (docs/PERFORMANCE.md).
pub struct InMemoryReplayGuard {
    clock: Arc<dyn Clock>,
    shards: Box<[Mutex<Shard>]>,
    journal: Option<Arc<dyn BindingJournal>>,
}

impl InMemoryReplayGuard {
    /// An empty guard reading the time from `clock`, remembering nothing beyond the process.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            journal: None,
        }
    }

    /// A guard that starts with `bindings` (read back from the journal) and writes every new
    /// one to `journal`.
    pub(crate) fn journaled(
        clock: Arc<dyn Clock>,
        journal: Arc<dyn BindingJournal>,
        bindings: impl IntoIterator<Item = ReplayBindingRow>,
    ) -> Self {
        let mut guard = Self::new(clock);
        let now = guard.clock.now();
        for row in bindings {
            let Ok(full) = <[u8; 32]>::try_from(row.token_digest.as_slice()) else {
                continue;
            };
            let Ok(correlation) = CorrelationId::parse(&row.correlation_id) else {
                continue;
            };
            let expires_at = Timestamp::from_millis(row.expires_at);
            if expires_at < now {
                continue;
            }
            let digest = short_digest(&full);
            let mut shard = guard.shard(digest);
            shard.forget_expired(now);
            shard
                .generation(generation_of(expires_at))
                .insert(digest, correlation_digest(&correlation));
        }
        guard.journal = Some(journal);
        guard
    }

    fn shard(&self, digest: TokenDigest) -> std::sync::MutexGuard<'_, Shard> {
        // The digest's low bits pick the shard; a table places it by its high bits.
        self.shards[usize::try_from(digest % SHARDS as u64).unwrap_or(0)]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many bindings are remembered (expired ones not yet forgotten included).
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

    /// Whether no binding is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// SHA-256 over the ASP id and the token key: what the journal stores.
pub(crate) fn token_digest(asp_id: &AspId, token: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(asp_id.as_str().as_bytes())
        // ASP ids are 15 alphanumerics; the separator keeps the two parts apart regardless.
        .chain_update([0])
        .chain_update(token.as_bytes())
        .finalize()
        .into()
}

/// The first 64 bits of a full digest, never 0 (the empty slot).
fn short_digest(full: &[u8; 32]) -> TokenDigest {
    let mut first = [0; 8];
    first.copy_from_slice(&full[..8]);
    TokenDigest::from_le_bytes(first).max(1)
}

fn correlation_digest(correlation_id: &CorrelationId) -> CorrelationDigest {
    let hash = Sha256::digest(correlation_id.as_str().as_bytes());
    let mut first = [0; 8];
    first.copy_from_slice(&hash[..8]);
    CorrelationDigest::from_le_bytes(first)
}

#[async_trait]
impl ReplayGuard for InMemoryReplayGuard {
    /// Admits a signature that no live generation holds, or holds bound to this correlation id
    /// (a retry, whose binding is then extended to the later expiry); refuses it while a live
    /// generation holds it bound to another: until it expires, and possibly up to
    /// `GENERATION_SECONDS` longer (past its expiry it is out of the request window anyway).
    async fn bind(
        &self,
        asp_id: &AspId,
        token: &str,
        correlation_id: &CorrelationId,
        expires_at: Timestamp,
    ) -> Result<bool, PortError> {
        let full = token_digest(asp_id, token);
        let digest = short_digest(&full);
        let correlation = correlation_digest(correlation_id);
        let now = self.clock.now();
        let generation = generation_of(expires_at);
        {
            let mut shard = self.shard(digest);
            shard.forget_expired(now);
            match shard.binding(digest) {
                Some((bound, _)) if bound != correlation => return Ok(false),
                Some((_, latest)) if latest >= generation => return Ok(true),
                _ => {
                    shard.generation(generation).insert(digest, correlation);
                }
            }
        }
        if let Some(journal) = &self.journal {
            journal.write(
                ReplayBindingRow {
                    asp_id: asp_id.as_str().to_owned(),
                    token_digest: full.to_vec(),
                    correlation_id: correlation_id.as_str().to_owned(),
                    expires_at: expires_at.as_millis(),
                },
                now,
            );
        }
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

    /// A journal that keeps what it was given.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<ReplayBindingRow>>);

    impl BindingJournal for Recorded {
        fn write(&self, binding: ReplayBindingRow, _now: Timestamp) {
            self.0.lock().unwrap().push(binding);
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
        format!("AK:{n:043}")
    }

    fn correlation(n: u32) -> CorrelationId {
        CorrelationId::parse(&format!("261125153000-{n:07x}")).unwrap()
    }

    fn until(millis: i64) -> Timestamp {
        Timestamp::from_millis(NOW + millis)
    }

    /// Whether `guard` admits token `n` of `asp` for correlation id `c`, bound until `expires`.
    async fn admits(
        guard: &InMemoryReplayGuard,
        asp: &AspId,
        n: u64,
        c: u32,
        expires: Timestamp,
    ) -> bool {
        guard
            .bind(asp, &token(n), &correlation(c), expires)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_signature_belongs_to_its_first_correlation_id_until_it_expires() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");

        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        assert!(!admits(&guard, &asp, 1, 2, until(300_000)).await);
        clock.0.store(NOW + 300_000, Ordering::SeqCst);
        assert!(
            !admits(&guard, &asp, 1, 2, until(600_000)).await,
            "still refused at the instant it expires"
        );
        clock.0.store(NOW + 320_001, Ordering::SeqCst);
        assert!(admits(&guard, &asp, 1, 2, until(620_001)).await);
        assert!(
            !admits(&guard, &asp, 1, 1, until(620_001)).await,
            "now bound to the second"
        );
    }

    #[tokio::test]
    async fn the_same_correlation_id_is_admitted_again_as_a_retry() {
        let (guard, _) = guard();
        let asp = asp("ASP000000000001");

        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        assert!(admits(&guard, &asp, 1, 1, until(1_000)).await);
        assert_eq!(guard.len(), 1, "a retry adds nothing");
    }

    #[tokio::test]
    async fn a_later_retry_keeps_the_signature_bound_until_its_own_expiry() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");

        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        clock.0.store(NOW + 200_000, Ordering::SeqCst);
        assert!(admits(&guard, &asp, 1, 1, until(500_000)).await);
        clock.0.store(NOW + 400_000, Ordering::SeqCst);
        assert!(
            !admits(&guard, &asp, 1, 2, until(700_000)).await,
            "refused past the first expiry: the retry extended it"
        );
    }

    #[tokio::test]
    async fn a_binding_is_remembered_to_the_end_of_its_generation_never_shorter() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");

        // Expiring 300.001 s from now, in the generation that ends 320 s from now.
        assert!(admits(&guard, &asp, 1, 1, until(300_001)).await);
        clock.0.store(NOW + 300_001, Ordering::SeqCst);
        assert!(
            !admits(&guard, &asp, 1, 2, until(600_000)).await,
            "not forgotten before it expires"
        );
        clock.0.store(NOW + 320_000, Ordering::SeqCst);
        assert!(!admits(&guard, &asp, 1, 2, until(600_000)).await);
        clock.0.store(NOW + 320_001, Ordering::SeqCst);
        assert!(
            admits(&guard, &asp, 1, 2, until(600_000)).await,
            "forgotten with its generation"
        );
    }

    #[tokio::test]
    async fn a_replay_is_refused_whatever_expiry_it_claims() {
        let (guard, _) = guard();
        let asp = asp("ASP000000000001");

        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        assert!(!admits(&guard, &asp, 1, 2, until(900_000)).await);
        assert!(!admits(&guard, &asp, 1, 2, until(1_000)).await);
    }

    #[tokio::test]
    async fn the_same_signature_of_another_asp_or_another_signature_is_new() {
        let (guard, _) = guard();

        let (one, two) = (asp("ASP000000000001"), asp("ASP000000000002"));

        assert!(admits(&guard, &one, 1, 1, until(300_000)).await);
        assert!(admits(&guard, &two, 1, 2, until(300_000)).await);
        assert!(admits(&guard, &one, 2, 3, until(300_000)).await);
        assert_eq!(guard.len(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_many_concurrent_correlation_ids_for_one_signature_exactly_one_is_admitted() {
        let (guard, _) = guard();
        let guard = Arc::new(guard);
        let tasks: Vec<_> = (0..64)
            .map(|n| {
                let guard = guard.clone();
                tokio::spawn(async move {
                    let admitted = guard
                        .bind(
                            &asp("ASP000000000001"),
                            &token(7),
                            &correlation(n),
                            until(300_000),
                        )
                        .await
                        .unwrap();
                    admitted.then_some(n)
                })
            })
            .collect();
        let mut admitted = Vec::new();
        for task in tasks {
            admitted.extend(task.await.unwrap());
        }
        assert_eq!(admitted.len(), 1);
        assert!(
            admits(
                &guard,
                &asp("ASP000000000001"),
                7,
                admitted[0],
                until(300_000)
            )
            .await,
            "the winner's retries go on being admitted"
        );
    }

    #[tokio::test]
    async fn expired_generations_are_forgotten_whole() {
        let (guard, clock) = guard();
        let asp = asp("ASP000000000001");
        for n in 0..10_000 {
            assert!(admits(&guard, &asp, n, 1, until(1_000)).await);
        }
        assert_eq!(guard.len(), 10_000, "nothing has expired yet");

        // Their generation ends 20 s from now; each shard forgets it at its next use.
        clock.0.store(NOW + 20_001, Ordering::SeqCst);
        for n in 10_000..20_000 {
            assert!(admits(&guard, &asp, n, 1, until(100_000)).await);
        }

        assert_eq!(
            guard.len(),
            10_000,
            "the 10,000 expired bindings were forgotten"
        );
    }

    #[tokio::test]
    async fn a_generation_that_outgrows_its_table_keeps_every_binding() {
        let (guard, _) = guard();
        let asp = asp("ASP000000000001");
        for n in 0..100_000 {
            assert!(admits(&guard, &asp, n, 1, until(300_000)).await);
        }
        for n in (0..100_000).step_by(7) {
            assert!(
                !admits(&guard, &asp, n, 2, until(300_000)).await,
                "binding {n} forgotten"
            );
            assert!(
                admits(&guard, &asp, n, 1, until(300_000)).await,
                "binding {n} lost its correlation id"
            );
        }
        assert_eq!(guard.len(), 100_000);
    }

    #[tokio::test]
    async fn new_and_extended_bindings_go_to_the_journal_and_come_back_from_it() {
        let clock = Arc::new(TestClock(AtomicI64::new(NOW)));
        let journal = Arc::new(Recorded::default());
        let guard = InMemoryReplayGuard::journaled(clock.clone(), journal.clone(), Vec::new());
        let asp = asp("ASP000000000001");

        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        assert!(admits(&guard, &asp, 1, 1, until(300_000)).await);
        assert!(!admits(&guard, &asp, 1, 2, until(300_000)).await);
        assert!(admits(&guard, &asp, 1, 1, until(400_000)).await);
        let written = journal.0.lock().unwrap().clone();
        assert_eq!(
            written
                .iter()
                .map(|row| (row.correlation_id.as_str(), row.expires_at))
                .collect::<Vec<_>>(),
            [
                (correlation(1).as_str(), NOW + 300_000),
                (correlation(1).as_str(), NOW + 400_000)
            ],
            "the binding and its extension; not the retry within it, not the refusal"
        );
        assert_eq!(written[0].token_digest, token_digest(&asp, &token(1)));

        let restarted =
            InMemoryReplayGuard::journaled(clock.clone(), journal.clone(), written.clone());
        assert!(!admits(&restarted, &asp, 1, 2, until(300_000)).await);
        assert!(admits(&restarted, &asp, 1, 1, until(300_000)).await);
        clock.0.store(NOW + 420_001, Ordering::SeqCst);
        let later = InMemoryReplayGuard::journaled(clock, journal, written);
        assert!(later.is_empty(), "expired bindings are not restored");
    }

    #[test]
    fn a_table_planned_for_n_bindings_holds_them_in_twenty_bytes_each_without_growing() {
        let mut table = DigestTable::planned_for(50_000);
        let slots = table.slots.len();
        for n in 1..=50_000_u64 {
            assert!(table.insert(n.wrapping_mul(0x9E37_79B9_7F4A_7C15), n));
        }
        assert_eq!(table.slots.len(), slots, "it did not grow");
        assert_eq!(
            std::mem::size_of_val(&*table.slots),
            1_000_000,
            "16 bytes a slot at 80 % full"
        );
    }

    proptest::proptest! {
        #[test]
        fn a_table_holds_exactly_the_bindings_put_in_it(
            // Some crowded at the top, whose probes wrap around to the first slot.
            digests in proptest::collection::vec((proptest::prop_oneof![1..u64::MAX, u64::MAX - 4_096..=u64::MAX], proptest::num::u64::ANY), 0..2_000),
            others in proptest::collection::vec(proptest::prop_oneof![1..u64::MAX, u64::MAX - 4_096..=u64::MAX], 0..200),
        ) {
            let mut table = DigestTable::planned_for(0);
            let mut model = std::collections::HashMap::new();
            for &(digest, correlation) in &digests {
                let new = !model.contains_key(&digest);
                if new {
                    model.insert(digest, correlation);
                }
                proptest::prop_assert_eq!(table.insert(digest, correlation), new);
            }
            proptest::prop_assert_eq!(table.len, model.len());
            for digest in digests.iter().map(|(digest, _)| digest).chain(&others) {
                proptest::prop_assert_eq!(table.get(*digest), model.get(digest).copied());
            }
        }
    }
}
