//! What the use cases' tests share: stores that answer from a script, and a stand-in for the
//! keyed request fingerprint.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::ports::{
    ChangeError, IdempotencyRecord, LifecycleChange, MockIdempotencyStore, MockLifecycleChanges,
    RequestFingerprint,
};

/// A transaction port answering `answers` in turn (then `Stale`), and the changes it applied.
pub(crate) fn scripted_changes(
    answers: Vec<Result<(), ChangeError>>,
) -> (MockLifecycleChanges, Arc<Mutex<Vec<LifecycleChange>>>) {
    let applied = Arc::new(Mutex::new(Vec::new()));
    let answers = Mutex::new(VecDeque::from(answers));
    let kept = applied.clone();
    let mut changes = MockLifecycleChanges::new();
    changes.expect_apply().returning(move |change| {
        let answer = answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Err(ChangeError::Stale));
        if answer.is_ok() {
            kept.lock().unwrap().push(change.clone());
        }
        answer
    });
    (changes, applied)
}

/// An idempotency store answering `records` in turn, the last one from then on.
pub(crate) fn scripted_records(records: Vec<Option<IdempotencyRecord>>) -> MockIdempotencyStore {
    let records = Mutex::new(VecDeque::from(records));
    let mut idempotency = MockIdempotencyStore::new();
    idempotency.expect_find_record().returning(move |_| {
        let mut records = records.lock().unwrap();
        Ok(if records.len() > 1 {
            records.pop_front().flatten()
        } else {
            records.front().cloned().flatten()
        })
    });
    idempotency
}

/// A request fingerprint that differs whenever the canonical forms' first 32 bytes do.
pub(crate) fn fingerprint_of(canonical: &str) -> RequestFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest.iter_mut().zip(canonical.bytes()) {
        *byte = from;
    }
    RequestFingerprint {
        key_id: "idx-1".to_owned(),
        digest,
    }
}
