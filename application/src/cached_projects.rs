//! A [`ProjectDirectory`] that remembers answers for a short time, so authenticating a request
//! does not read (and unseal) its project every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_domain::{AspId, Timestamp};

use crate::ports::{Clock, PortError, Project, ProjectDirectory};

/// The most projects, and separately the most unknown ASP ids, remembered. Unknown ids are
/// anyone's to send: when they fill their half it is cleared, and the projects are never touched
/// by them. Projects past their capacity (more projects than that) are read each time.
const CAPACITY: usize = 10_000;

/// Caches `inner`'s answers, unknown ASP ids included, for `ttl_millis`. A key made inactive
/// or discarded (by the admin command, in another process) is refused at the latest
/// `ttl_millis` later: that is the bound, stated in docs/API.md.
pub struct CachedProjectDirectory {
    inner: Arc<dyn ProjectDirectory>,
    clock: Arc<dyn Clock>,
    ttl_millis: i64,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    projects: HashMap<AspId, (Project, Timestamp)>,
    unknown: HashMap<AspId, Timestamp>,
}

/// What the cache holds for an ASP id.
enum Remembered {
    Project(Project),
    Unknown,
}

impl Entries {
    /// The remembered answer for `asp_id` at `now`, if there is a live one.
    fn get(&self, asp_id: &AspId, now: Timestamp) -> Option<Remembered> {
        if let Some((project, expires)) = self.projects.get(asp_id) {
            return (*expires > now).then(|| Remembered::Project(project.clone()));
        }
        self.unknown
            .get(asp_id)
            .filter(|expires| **expires > now)
            .map(|_| Remembered::Unknown)
    }

    fn remember(
        &mut self,
        asp_id: &AspId,
        project: Option<&Project>,
        expires: Timestamp,
        now: Timestamp,
    ) {
        if let Some(project) = project {
            self.unknown.remove(asp_id);
            if self.projects.len() >= CAPACITY && !self.projects.contains_key(asp_id) {
                self.projects.retain(|_, (_, until)| *until > now);
            }
            if self.projects.len() < CAPACITY || self.projects.contains_key(asp_id) {
                self.projects
                    .insert(asp_id.clone(), (project.clone(), expires));
            }
        } else {
            self.projects.remove(asp_id);
            if self.unknown.len() >= CAPACITY {
                self.unknown.clear();
            }
            self.unknown.insert(asp_id.clone(), expires);
        }
    }
}

impl CachedProjectDirectory {
    /// A cache over `inner` keeping answers `ttl_millis`.
    pub fn new(inner: Arc<dyn ProjectDirectory>, clock: Arc<dyn Clock>, ttl_millis: i64) -> Self {
        Self {
            inner,
            clock,
            ttl_millis,
            entries: Mutex::new(Entries::default()),
        }
    }
}

#[async_trait]
impl ProjectDirectory for CachedProjectDirectory {
    async fn find(&self, asp_id: &AspId) -> Result<Option<Project>, PortError> {
        let now = self.clock.now();
        let remembered = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(asp_id, now);
        match remembered {
            Some(Remembered::Project(project)) => return Ok(Some(project)),
            Some(Remembered::Unknown) => return Ok(None),
            None => {}
        }
        let project = self.inner.find(asp_id).await?;
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remember(
                asp_id,
                project.as_ref(),
                now.plus_millis(self.ttl_millis),
                now,
            );
        Ok(project)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::ports::{MockClock, MockProjectDirectory};

    #[tokio::test]
    async fn answers_are_reused_until_they_expire_then_read_again() {
        let mut inner = MockProjectDirectory::new();
        inner.expect_find().times(2).returning(|_| Ok(None));
        let now = Arc::new(AtomicI64::new(0));
        let mut clock = MockClock::new();
        let seen = now.clone();
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(seen.load(Ordering::SeqCst)));
        let cache = CachedProjectDirectory::new(Arc::new(inner), Arc::new(clock), 5_000);
        let asp = AspId::parse("ASP000000000001").unwrap();

        assert!(cache.find(&asp).await.unwrap().is_none());
        now.store(4_999, Ordering::SeqCst);
        assert!(cache.find(&asp).await.unwrap().is_none(), "from memory");
        now.store(5_000, Ordering::SeqCst);
        assert!(cache.find(&asp).await.unwrap().is_none(), "read again");
    }

    fn project(asp: &AspId) -> Project {
        Project {
            asp_id: asp.clone(),
            access_keys: Vec::new(),
            crypto_keys: Vec::new(),
            plaintext_allowed: false,
        }
    }

    #[tokio::test]
    async fn unknown_asp_ids_however_many_never_evict_a_known_project() {
        let known = AspId::parse("ASPKNOWN0000001").unwrap();
        let mut inner = MockProjectDirectory::new();
        let reads_of_known = Arc::new(AtomicI64::new(0));
        let counted = reads_of_known.clone();
        inner.expect_find().returning(move |asp| {
            if asp.as_str() == "ASPKNOWN0000001" {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(Some(project(asp)))
            } else {
                Ok(None)
            }
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Timestamp::from_millis(0));
        let cache = CachedProjectDirectory::new(Arc::new(inner), Arc::new(clock), 5_000);

        assert!(cache.find(&known).await.unwrap().is_some());
        for n in 0..=(CAPACITY * 2) {
            let stranger = AspId::parse(&format!("ASPX{n:011}")).unwrap();
            assert!(cache.find(&stranger).await.unwrap().is_none());
        }
        assert!(cache.find(&known).await.unwrap().is_some());
        assert_eq!(
            reads_of_known.load(Ordering::SeqCst),
            1,
            "the known project stayed remembered"
        );
        let entries = cache.entries.lock().unwrap();
        assert!(
            entries.unknown.len() <= CAPACITY,
            "unknown ids stay bounded"
        );
    }

    #[tokio::test]
    async fn a_project_is_read_again_once_its_answer_expires_so_a_discarded_key_goes_within_the_ttl()
     {
        let asp = AspId::parse("ASP000000000001").unwrap();
        let mut inner = MockProjectDirectory::new();
        inner
            .expect_find()
            .times(2)
            .returning(|asp| Ok(Some(project(asp))));
        let now = Arc::new(AtomicI64::new(0));
        let mut clock = MockClock::new();
        let seen = now.clone();
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(seen.load(Ordering::SeqCst)));
        let cache = CachedProjectDirectory::new(Arc::new(inner), Arc::new(clock), 5_000);

        cache.find(&asp).await.unwrap();
        now.store(4_999, Ordering::SeqCst);
        cache.find(&asp).await.unwrap();
        now.store(5_000, Ordering::SeqCst);
        cache.find(&asp).await.unwrap();
    }

    #[tokio::test]
    async fn failures_are_not_remembered() {
        let mut inner = MockProjectDirectory::new();
        let mut calls = 0;
        inner.expect_find().times(2).returning(move |_| {
            calls += 1;
            if calls == 1 {
                Err(PortError::msg("down"))
            } else {
                Ok(None)
            }
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Timestamp::from_millis(0));
        let cache = CachedProjectDirectory::new(Arc::new(inner), Arc::new(clock), 5_000);
        let asp = AspId::parse("ASP000000000001").unwrap();
        assert!(cache.find(&asp).await.is_err());
        assert!(cache.find(&asp).await.is_ok());
    }

    /// A cache over a directory where every ASP id of `known` is a project, counting the reads
    /// of each id, with the clock at `now`.
    fn counting(
        known: impl Fn(&str) -> bool + Send + Sync + 'static,
        now: Arc<AtomicI64>,
    ) -> (CachedProjectDirectory, Arc<Mutex<HashMap<String, usize>>>) {
        let reads = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let counted = reads.clone();
        let mut inner = MockProjectDirectory::new();
        inner.expect_find().returning(move |asp| {
            *counted
                .lock()
                .unwrap()
                .entry(asp.as_str().to_owned())
                .or_default() += 1;
            Ok(known(asp.as_str()).then(|| project(asp)))
        });
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(now.load(Ordering::SeqCst)));
        (
            CachedProjectDirectory::new(Arc::new(inner), Arc::new(clock), 5_000),
            reads,
        )
    }

    fn asp_number(n: usize) -> AspId {
        AspId::parse(&format!("ASPP{n:011}")).unwrap()
    }

    #[tokio::test]
    async fn unknown_ids_are_remembered_until_their_half_is_full() {
        let (cache, reads) = counting(|_| false, Arc::new(AtomicI64::new(0)));
        for _ in 0..2 {
            for n in 0..10 {
                assert!(cache.find(&asp_number(n)).await.unwrap().is_none());
            }
        }
        assert!(
            reads.lock().unwrap().values().all(|count| *count == 1),
            "each unknown id read once"
        );
    }

    #[tokio::test]
    async fn a_cache_full_of_live_projects_reads_a_new_one_each_time_and_keeps_the_others() {
        let (cache, reads) = counting(|_| true, Arc::new(AtomicI64::new(0)));
        for n in 0..CAPACITY {
            assert!(cache.find(&asp_number(n)).await.unwrap().is_some());
        }
        let newcomer = asp_number(CAPACITY);
        cache.find(&newcomer).await.unwrap();
        cache.find(&newcomer).await.unwrap();
        cache.find(&asp_number(0)).await.unwrap();
        cache.find(&asp_number(CAPACITY - 1)).await.unwrap();
        let reads = reads.lock().unwrap();
        assert_eq!(reads[newcomer.as_str()], 2, "no room: read each time");
        assert_eq!(reads[asp_number(0).as_str()], 1, "the first stayed");
        assert_eq!(
            reads[asp_number(CAPACITY - 1).as_str()],
            1,
            "the last stayed"
        );
        assert_eq!(cache.entries.lock().unwrap().projects.len(), CAPACITY);
    }

    #[tokio::test]
    async fn a_full_cache_makes_room_by_forgetting_the_projects_that_expired() {
        let now = Arc::new(AtomicI64::new(0));
        let (cache, reads) = counting(|_| true, now.clone());
        // Half read at 0 ms (expiring at 5,000), half at 1,000 ms (expiring at 6,000).
        for n in 0..CAPACITY {
            if n == CAPACITY / 2 {
                now.store(1_000, Ordering::SeqCst);
            }
            cache.find(&asp_number(n)).await.unwrap();
        }
        now.store(5_000, Ordering::SeqCst);
        let newcomer = asp_number(CAPACITY);
        cache.find(&newcomer).await.unwrap();
        cache.find(&newcomer).await.unwrap();
        assert_eq!(reads.lock().unwrap()[newcomer.as_str()], 1, "remembered");
        assert_eq!(
            cache.entries.lock().unwrap().projects.len(),
            CAPACITY - CAPACITY / 2 + 1,
            "the expired half went, the live half stayed"
        );
    }
}
