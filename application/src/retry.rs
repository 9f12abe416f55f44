//! Recognising retries (D14), the same way for every use case that changes state: the record
//! under a request's key (ASP id, correlation id) says whether the request is new, a retry of
//! the same operation with the same payload, or a conflict.

use crate::ports::{CardSecrets, IdempotencyRecord, IdempotentOperation, PortError};

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
}
