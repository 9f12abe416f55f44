//! A replay guard in the process's memory, for a single instance (the SQLite default): no
//! database write per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{Clock, ReplayGuard};
use prepaid_domain::{AspId, Timestamp};

/// Used tran tokens in memory, forgotten when they expire.
pub struct InMemoryReplayGuard {
    clock: Arc<dyn Clock>,
    used: Mutex<HashMap<(String, String), Timestamp>>,
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

#[async_trait]
impl ReplayGuard for InMemoryReplayGuard {
    async fn first_use(
        &self,
        asp_id: &AspId,
        token: &str,
        expires_at: Timestamp,
    ) -> Result<bool, PortError> {
        let now = self.clock.now();
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        // Sweep when the map doubles past a floor, so the cost is amortised per insert.
        if used.len() >= 4_096 && used.len().is_power_of_two() {
            used.retain(|_, expiry| *expiry >= now);
        }
        let key = (asp_id.as_str().to_owned(), token.to_owned());
        match used.get(&key) {
            Some(expiry) if *expiry >= now => Ok(false),
            _ => {
                used.insert(key, expires_at);
                Ok(true)
            }
        }
    }
}
