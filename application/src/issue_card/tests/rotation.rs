//! Key rotations between an issuance and its retry.

use super::*;

#[tokio::test]
async fn a_card_keeps_the_cvc_of_the_key_it_was_issued_with_after_a_rotation() {
    let (service, recorded) = Fixture::new().service();
    let first = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();
    let card = first.mobile_card.unwrap();
    assert!(
        card.cvc.expose().starts_with('2'),
        "derived with the current key cvk-2"
    );
    assert_eq!(
        recorded.lock().unwrap()[0].card.as_ref().unwrap().cvk_id,
        "cvk-2",
        "the key id is recorded with the card"
    );

    // The same records, served after a rotation: the current key is now cvk-3.
    let mut rotated = Fixture::new();
    rotated.verification = verification("cvk-3");
    rotated.recorded = recorded.clone();
    rotated.idempotency = records_of(&recorded);
    let kept = recorded.clone();
    rotated.store = MockCardApplicationStore::new();
    rotated
        .store
        .expect_find_issuance()
        .returning(move |_, _| Ok(Some(stored(&kept.lock().unwrap()[0]))));
    let (service, _) = rotated.service();

    let again = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    assert!(again.replayed);
    assert_eq!(again.mobile_card.unwrap().cvc, card.cvc);
}

#[tokio::test]
async fn a_retry_recorded_before_an_index_key_rotation_is_compared_under_its_own_key() {
    let (service, recorded) = Fixture::new().service();
    service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();
    // As if recorded under the retired key idx-1.
    {
        let mut all = recorded.lock().unwrap();
        let canonical = command(ACTIVE_MEMBER, MOBILE, false, None)
            .request
            .canonical_form();
        all[0].claim.request_fingerprint = request_fingerprint("idx-1", &canonical);
    }

    let again = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();
    assert!(
        again.replayed,
        "the same payload under the old key is a retry"
    );
    let changed = service
        .issue_and_deliver(command(ACTIVE_MEMBER, GIFTABLE, false, None))
        .await;
    assert_eq!(error_code(changed), "000_094");
    assert_eq!(recorded.lock().unwrap().len(), 1);
}
