//! Retries (D6, D14): the first outcome again, conflicts, races for the key, records without
//! their issuance.

use super::*;

#[tokio::test]
async fn a_retry_with_the_same_payload_answers_the_first_outcome_and_issues_nothing_new() {
    let (service, recorded) = Fixture::new().service();
    let first = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    let again = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    assert!(again.replayed && !first.replayed);
    assert_eq!(again.application_number, first.application_number);
    assert_eq!(
        again.mobile_card, first.mobile_card,
        "same card number, PAR and CVC"
    );
    assert_eq!(recorded.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_retry_with_a_different_payload_is_a_conflict_and_issues_nothing() {
    let (service, recorded) = Fixture::new().service();
    service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, PRE_ISSUED, true, None))
        .await;

    assert_eq!(error_code(result), "000_094");
    assert_eq!(recorded.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn losing_the_race_for_the_key_answers_the_winners_outcome() {
    let mut fixture = Fixture::new();
    let winner = Arc::new(Mutex::new(None::<IdempotencyRecord>));
    fixture.store = MockCardApplicationStore::new();
    fixture.idempotency = MockIdempotencyStore::new();
    let seen = Arc::clone(&winner);
    fixture
        .idempotency
        .expect_find_record()
        .returning(move |_| Ok(seen.lock().unwrap().clone()));
    fixture.store.expect_find_issuance().returning(|_, number| {
        Ok(Some(StoredIssuance {
            application_number: number.clone(),
            card: None,
        }))
    });
    let seen = Arc::clone(&winner);
    fixture
        .store
        .expect_record_issuance()
        .times(1)
        .returning(move |issuance| {
            // Another instance committed this key (with this payload) a moment earlier.
            *seen.lock().unwrap() = Some(IdempotencyRecord {
                outcome: "2026112506295999912345".to_owned(),
                ..record_of(issuance)
            });
            Err(RecordError::KeyTaken)
        });
    let (service, _) = fixture.service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, NORMAL, true, None))
        .await
        .unwrap();

    assert!(outcome.replayed);
    assert_eq!(
        outcome.application_number.as_str(),
        "2026112506295999912345"
    );
}

#[tokio::test]
async fn a_correlation_id_used_for_another_operation_is_a_conflict_and_issues_nothing() {
    let mut fixture = Fixture::new();
    fixture.idempotency = MockIdempotencyStore::new();
    fixture.idempotency.expect_find_record().returning(|_| {
        Ok(Some(IdempotencyRecord {
            operation: "CANCEL_APPLICATION".to_owned(),
            request_fingerprint: request_fingerprint("idx-2", "anything"),
            outcome: "2026112506295999912345".to_owned(),
            created_at: Timestamp::from_millis(NOW),
        }))
    });
    fixture.store.expect_record_issuance().never();
    let (service, recorded) = fixture.service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await;

    assert_eq!(error_code(result), "000_094");
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_record_without_its_issuance_is_a_system_error_not_a_new_issuance() {
    let mut fixture = Fixture::new();
    let canonical = command(ACTIVE_MEMBER, MOBILE, false, None)
        .request
        .canonical_form();
    fixture.idempotency = MockIdempotencyStore::new();
    fixture
        .idempotency
        .expect_find_record()
        .returning(move |_| {
            Ok(Some(IdempotencyRecord {
                operation: "ISSUE_AND_DELIVER".to_owned(),
                request_fingerprint: request_fingerprint("idx-2", &canonical),
                outcome: "2026112506295999912345".to_owned(),
                created_at: Timestamp::from_millis(NOW),
            }))
        });
    fixture.store.expect_record_issuance().never();
    let (service, _) = fixture.service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await;

    assert_eq!(error_code(result), "000_099");
}

#[tokio::test]
async fn a_retry_that_changes_only_the_address_detail_or_only_the_zip_code_is_a_conflict() {
    for change in ["detail", "zip"] {
        let (service, recorded) = Fixture::new().service();
        service
            .issue_and_deliver(command(ACTIVE_MEMBER, NORMAL, true, None))
            .await
            .unwrap();
        let mut changed = command(ACTIVE_MEMBER, NORMAL, true, None);
        let DeliveryChoice::Deliver(address) = &mut changed.request.delivery else {
            unreachable!("a delivery was asked for")
        };
        match change {
            "detail" => address.detail = AddressDetail::parse("101동 1002호").unwrap(),
            _ => address.zip_code = ZipCode::parse("06237").unwrap(),
        }

        let result = service.issue_and_deliver(changed).await;

        assert_eq!(error_code(result), "000_094", "{change}");
        assert_eq!(recorded.lock().unwrap().len(), 1, "{change}");
    }
}
