//! Recognising retries (D14), the same way for every use case that changes state: the record
//! under a request's key (ASP id, correlation id) says whether the request is new, a retry of
//! the same operation with the same payload, or a conflict.

use crate::ports::{
    CardSecrets, IdempotencyKey, IdempotencyRecord, IdempotencyStore, IdempotentOperation,
    PortError,
};

/// What a request is, given the record under its key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// No record: the first request with this key.
    First,
    /// The same operation with the same payload: answer the first outcome, by its reference.
    Same(String),
}

/// Why a request may not use its key.
#[derive(Debug)]
pub(crate) enum RetryRefusal {
    /// The key was used with another payload, or for another operation (`000_094`).
    Conflict,
    /// The record names an index key no longer configured: the payloads cannot be compared.
    Unavailable(PortError),
}

impl From<PortError> for RetryRefusal {
    fn from(error: PortError) -> Self {
        Self::Unavailable(error)
    }
}

/// Compares a request for `operation` whose canonical form is `canonical` with `record`. The
/// payloads are compared by their keyed fingerprints, under the index key the record was made
/// with.
pub(crate) fn recognise(
    record: Option<IdempotencyRecord>,
    operation: IdempotentOperation,
    canonical: &str,
    secrets: &dyn CardSecrets,
) -> Result<Retry, RetryRefusal> {
    let Some(record) = record else {
        return Ok(Retry::First);
    };
    if record.operation != operation.as_str() {
        return Err(RetryRefusal::Conflict);
    }
    let fingerprint = secrets
        .request_fingerprint_with(&record.request_fingerprint.key_id, canonical)
        .ok_or_else(|| {
            RetryRefusal::Unavailable(PortError::msg(
                "a request fingerprinted under an index key no longer configured",
            ))
        })?;
    if record.request_fingerprint == fingerprint {
        Ok(Retry::Same(record.outcome))
    } else {
        Err(RetryRefusal::Conflict)
    }
}

/// The outcome first given under `key` to a request for `operation` whose canonical form is
/// `canonical`; `None` while no request with the key has committed. One read of the record:
/// what a use case asks before it acts, before it refuses (a concurrent request with the key
/// may have changed what the refusal was decided on) and when its write found the key taken.
pub(crate) async fn earlier_outcome(
    idempotency: &dyn IdempotencyStore,
    secrets: &dyn CardSecrets,
    key: &IdempotencyKey,
    operation: IdempotentOperation,
    canonical: &str,
) -> Result<Option<String>, RetryRefusal> {
    let record = idempotency.find_record(key).await?;
    Ok(match recognise(record, operation, canonical, secrets)? {
        Retry::First => None,
        Retry::Same(outcome) => Some(outcome),
    })
}

/// The error of a write that found its key claimed and no record under it.
pub(crate) fn claimed_without_record() -> PortError {
    PortError::msg("idempotency key claimed but not found")
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use prepaid_domain::Timestamp;

    use super::*;
    use crate::ports::{MockCardSecrets, RequestFingerprint};

    fn fingerprint(key_id: &str, digest: u8) -> RequestFingerprint {
        RequestFingerprint {
            key_id: key_id.to_owned(),
            digest: [digest; 32],
        }
    }

    fn record(operation: &str, stored: RequestFingerprint) -> IdempotencyRecord {
        IdempotencyRecord {
            operation: operation.to_owned(),
            request_fingerprint: stored,
            outcome: "20261130123000000ABCDE".to_owned(),
            created_at: Timestamp::from_millis(0),
        }
    }

    fn secrets_answering(key_id: &'static str, digest: u8) -> MockCardSecrets {
        let mut secrets = MockCardSecrets::new();
        secrets
            .expect_request_fingerprint_with()
            .with(eq(key_id), eq("canonical"))
            .returning(move |key_id, _| Some(fingerprint(key_id, digest)));
        secrets
    }

    #[test]
    fn no_record_is_a_first_request() {
        let secrets = MockCardSecrets::new();
        let retry = recognise(
            None,
            IdempotentOperation::IssueAndDeliver,
            "canonical",
            &secrets,
        );
        assert_eq!(retry.unwrap(), Retry::First);
    }

    #[test]
    fn the_same_operation_and_payload_is_a_retry_answered_by_the_first_outcome() {
        let secrets = secrets_answering("idx-2", 7);
        let retry = recognise(
            Some(record("ISSUE_AND_DELIVER", fingerprint("idx-2", 7))),
            IdempotentOperation::IssueAndDeliver,
            "canonical",
            &secrets,
        );
        assert_eq!(
            retry.unwrap(),
            Retry::Same("20261130123000000ABCDE".to_owned())
        );
    }

    #[test]
    fn another_payload_is_a_conflict() {
        let secrets = secrets_answering("idx-1", 8);
        let retry = recognise(
            Some(record("ISSUE_AND_DELIVER", fingerprint("idx-1", 7))),
            IdempotentOperation::IssueAndDeliver,
            "canonical",
            &secrets,
        );
        assert!(matches!(retry, Err(RetryRefusal::Conflict)));
    }

    #[test]
    fn another_operation_is_a_conflict_even_with_the_same_fingerprint() {
        let secrets = MockCardSecrets::new();
        for other in ["CANCEL_APPLICATION", "", "issue_and_deliver"] {
            let retry = recognise(
                Some(record(other, fingerprint("idx-1", 7))),
                IdempotentOperation::IssueAndDeliver,
                "canonical",
                &secrets,
            );
            assert!(matches!(retry, Err(RetryRefusal::Conflict)), "{other}");
        }
    }

    #[test]
    fn a_record_under_an_index_key_no_longer_configured_cannot_be_compared() {
        let mut secrets = MockCardSecrets::new();
        secrets
            .expect_request_fingerprint_with()
            .returning(|_, _| None);
        let retry = recognise(
            Some(record("ISSUE_AND_DELIVER", fingerprint("idx-0", 7))),
            IdempotentOperation::IssueAndDeliver,
            "canonical",
            &secrets,
        );
        assert!(matches!(retry, Err(RetryRefusal::Unavailable(_))));
    }

    fn key() -> IdempotencyKey {
        IdempotencyKey {
            asp_id: prepaid_domain::AspId::parse("ASPSANDBOX00001").unwrap(),
            correlation_id: prepaid_domain::CorrelationId::parse("261130120000-00000a1").unwrap(),
        }
    }

    fn store_holding(record: Option<IdempotencyRecord>) -> crate::ports::MockIdempotencyStore {
        let mut idempotency = crate::ports::MockIdempotencyStore::new();
        idempotency
            .expect_find_record()
            .with(eq(key()))
            .times(1)
            .returning(move |_| Ok(record.clone()));
        idempotency
    }

    /// The earlier outcome of the issuance under `key()` when the store holds `record` and the
    /// request fingerprints as `secrets` says.
    async fn earlier_of(
        record: Option<IdempotencyRecord>,
        secrets: &MockCardSecrets,
    ) -> Result<Option<String>, RetryRefusal> {
        earlier_outcome(
            &store_holding(record),
            secrets,
            &key(),
            IdempotentOperation::IssueAndDeliver,
            "canonical",
        )
        .await
    }

    #[tokio::test]
    async fn the_earlier_outcome_of_a_key_is_its_record_s_after_one_read_and_none_without_one() {
        let stored = record("ISSUE_AND_DELIVER", fingerprint("idx-2", 7));
        let found = earlier_of(Some(stored), &secrets_answering("idx-2", 7)).await;
        assert_eq!(found.unwrap().as_deref(), Some("20261130123000000ABCDE"));
        let none = earlier_of(None, &MockCardSecrets::new()).await;
        assert_eq!(none.unwrap(), None);
    }

    #[tokio::test]
    async fn the_earlier_outcome_of_a_key_used_with_another_payload_is_a_conflict() {
        let stored = record("ISSUE_AND_DELIVER", fingerprint("idx-2", 7));
        let found = earlier_of(Some(stored), &secrets_answering("idx-2", 8)).await;
        assert!(matches!(found, Err(RetryRefusal::Conflict)));
    }
}
