//! Card numbers: the serials, the permutation and what is left.

use super::*;

#[tokio::test]
async fn card_numbers_follow_the_serials_through_the_numbering_and_run_out_at_the_last() {
    let mut fixture = Fixture::new();
    // Three serials left of the 10⁹ under the 6-digit BIN.
    fixture.serials = serials(999_999_997);
    fixture.numbering = MockCardNumbering::new();
    fixture
        .numbering
        .expect_current_key_id()
        .returning(|| "idx-2".to_owned());
    fixture
        .numbering
        .expect_account_number()
        .returning(|_, _, capacity, serial| {
            assert_eq!(capacity, 1_000_000_000, "the BIN's whole account space");
            (serial < capacity).then_some(capacity - 1 - serial)
        });
    let (service, recorded) = fixture.service();

    let mut numbers = Vec::new();
    for n in 0..3_u32 {
        let mut next = command(ACTIVE_MEMBER, MOBILE, false, None);
        next.key.correlation_id = CorrelationId::parse(&format!("261125153000-{n:07x}")).unwrap();
        let outcome = service.issue_and_deliver(next).await.unwrap();
        numbers.push(outcome.mobile_card.unwrap().pan.expose()[6..15].to_owned());
    }
    assert_eq!(numbers, ["000000002", "000000001", "000000000"]);
    assert_eq!(
        service.card_numbers_left(),
        [(Bin::parse("943512").unwrap(), 0)]
    );

    let mut last = command(ACTIVE_MEMBER, MOBILE, false, None);
    last.key.correlation_id = CorrelationId::parse("261125153000-00000ff").unwrap();
    assert_eq!(
        error_code(service.issue_and_deliver(last).await),
        "000_099",
        "every number is taken: a system error, nothing recorded"
    );
    assert_eq!(recorded.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_card_number_met_from_before_is_passed_over_to_the_next_serial() {
    let mut fixture = Fixture::new();
    fixture.store = MockCardApplicationStore::new();
    let tries = Arc::new(Mutex::new(Vec::new()));
    let seen = tries.clone();
    fixture
        .store
        .expect_record_issuance()
        .returning(move |issuance| {
            let pan = issuance
                .card
                .as_ref()
                .unwrap()
                .protected_pan
                .ciphertext
                .clone();
            let mut seen = seen.lock().unwrap();
            seen.push(pan);
            if seen.len() < 3 {
                Err(RecordError::NumberTaken(UniqueNumber::Pan))
            } else {
                Ok(())
            }
        });
    let (service, _) = fixture.service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    let tries = tries.lock().unwrap();
    assert_eq!(tries.len(), 3);
    assert!(
        tries[0] != tries[1] && tries[1] != tries[2],
        "a new number each try"
    );
    // Serials 0, 1, 2: account numbers 3, 10, 17.
    assert!(
        outcome
            .mobile_card
            .unwrap()
            .pan
            .expose()
            .starts_with("943512000000017")
    );
}

#[tokio::test]
async fn a_bin_is_numbered_with_the_key_it_started_with_not_the_current_one() {
    let mut fixture = Fixture::new();
    fixture.serials = MockCardNumberSerials::new();
    fixture
        .serials
        .expect_reserve()
        .withf(|_, _, _, current| current == "idx-2")
        .returning(|_, count, _, _| {
            Ok(SerialBlock {
                serials: 0..count,
                key_id: "idx-1".to_owned(),
            })
        });
    fixture.numbering = MockCardNumbering::new();
    fixture
        .numbering
        .expect_current_key_id()
        .returning(|| "idx-2".to_owned());
    fixture
        .numbering
        .expect_account_number()
        .withf(|key_id, _, _, _| key_id == "idx-1")
        .returning(|_, _, _, serial| Some(serial));
    let (service, _) = fixture.service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    assert!(outcome.mobile_card.is_some());
}

#[tokio::test]
async fn the_numbers_left_count_those_never_reserved_and_those_of_this_instance_s_block() {
    let (service, _) = Fixture::new().service();
    assert!(service.card_numbers_left().is_empty(), "nothing issued yet");

    service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    // 10⁹ - 1,000 never reserved, and 999 of this instance's block of 1,000 not used yet.
    assert_eq!(
        service.card_numbers_left(),
        [(Bin::parse("943512").unwrap(), 999_999_999)]
    );
    // The same through the inbound port the HTTP adapter reads it by.
    let port: &dyn crate::IssueCards = &service;
    assert_eq!(port.card_numbers_left(), service.card_numbers_left());
}
