//! A [`ProjectDirectory`] that remembers answers for a short time, so authenticating a request
//! does not read (and unseal) its project every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_domain::{AspId, Timestamp};

use crate::ports::{Clock, PortError, Project, ProjectDirectory};

/// The most projects remembered; past it the memory is cleared (unknown ASP ids cannot grow it
/// without bound).
const CAPACITY: usize = 10_000;

/// Caches `inner`'s answers, unknown ASP ids included, for `ttl_millis`. A key made inactive
/// or discarded is refused at the latest `ttl_millis` later.
pub struct CachedProjectDirectory {
    inner: Arc<dyn ProjectDirectory>,
    clock: Arc<dyn Clock>,
    ttl_millis: i64,
    entries: Mutex<HashMap<AspId, (Option<Project>, Timestamp)>>,
}

impl CachedProjectDirectory {
    /// A cache over `inner` keeping answers `ttl_millis`.
    pub fn new(inner: Arc<dyn ProjectDirectory>, clock: Arc<dyn Clock>, ttl_millis: i64) -> Self {
        Self {
            inner,
            clock,
            ttl_millis,
            entries: Mutex::new(HashMap::new()),
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
            .get(asp_id)
            .filter(|(_, expires)| *expires > now)
            .map(|(project, _)| project.clone());
        if let Some(project) = remembered {
            return Ok(project);
        }
        let project = self.inner.find(asp_id).await?;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            asp_id.clone(),
            (project.clone(), now.plus_millis(self.ttl_millis)),
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
}
