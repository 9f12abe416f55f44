//! The reads the card lifecycle needs, per aggregate, each scoped to its project (D15).

use prepaid_application::ports::{CardApplicationStore, CardStore};
use prepaid_domain::{
    ApplicationStatus, ApplicationType, AspId, CardKind, CardStatus, MemberStatus,
};

use crate::support::{Backend, issuance, key, member_and_product, open, save_member_in, unique};

pub async fn an_application_and_its_delivery_are_read_by_number_in_their_project_only(
    backend: Backend,
) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let new = issuance(member, key(&asp_id, unique()), unique(), true);
    test.db.record_issuance(&new).await.unwrap();
    let asp = AspId::parse(&asp_id).unwrap();
    let number = &new.application.number;

    let stored = test.db.application(&asp, number).await.unwrap().unwrap();
    assert_eq!(stored.application, new.application);
    assert_eq!(stored.application.application_type, ApplicationType::Issue);
    assert_eq!(stored.application.status, ApplicationStatus::DigitalIssued);
    assert_eq!(stored.version, 0, "a new application starts at version 0");

    let delivery = test.db.delivery(&asp, number).await.unwrap().unwrap();
    assert_eq!(&delivery.application, number);
    assert_eq!(Some(delivery.delivery), new.delivery);
    assert_eq!(delivery.version, 0);

    let other = AspId::parse(&crate::support::asp()).unwrap();
    assert!(test.db.application(&other, number).await.unwrap().is_none());
    assert!(test.db.delivery(&other, number).await.unwrap().is_none());
}

pub async fn an_application_without_delivery_has_none(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let mut new = issuance(member, key(&asp_id, unique()), unique(), true);
    new.delivery = None;
    test.db.record_issuance(&new).await.unwrap();
    let asp = AspId::parse(&asp_id).unwrap();
    assert!(
        test.db
            .delivery(&asp, &new.application.number)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_members_applications_and_cards_are_listed_oldest_first_in_their_project_only(
    backend: Backend,
) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let asp = AspId::parse(&asp_id).unwrap();
    let mut recorded = Vec::new();
    for (offset, with_card) in [(0, true), (1, false), (2, true)] {
        let mut new = issuance(member, key(&asp_id, unique()), unique(), with_card);
        new.application.created_at = new.application.created_at.plus_millis(offset);
        test.db.record_issuance(&new).await.unwrap();
        recorded.push(new);
    }
    // The same member id in another project, with a card of its own.
    let other_asp = crate::support::asp();
    save_member_in(&test.db, &other_asp, member, MemberStatus::Active).await;
    test.db
        .record_issuance(&issuance(member, key(&other_asp, unique()), unique(), true))
        .await
        .unwrap();

    let applications = test.db.applications_of_member(&asp, member).await.unwrap();
    let numbers: Vec<_> = applications
        .iter()
        .map(|stored| stored.application.number.clone())
        .collect();
    let expected: Vec<_> = recorded
        .iter()
        .map(|new| new.application.number.clone())
        .collect();
    assert_eq!(numbers, expected);

    let cards = test.db.cards_of_member(&asp, member).await.unwrap();
    let ids: Vec<_> = cards.iter().map(|record| record.card.id.clone()).collect();
    let expected: Vec<_> = recorded
        .iter()
        .filter_map(|new| new.card.as_ref().map(|card| card.card.id.clone()))
        .collect();
    assert_eq!(ids, expected);
}

pub async fn a_card_is_read_by_par_fingerprint_and_application_with_everything_but_its_pan(
    backend: Backend,
) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let new = issuance(member, key(&asp_id, unique()), unique(), true);
    test.db.record_issuance(&new).await.unwrap();
    let asp = AspId::parse(&asp_id).unwrap();
    let issued = new.card.as_ref().unwrap();

    let by_par = test
        .db
        .card_by_par(&asp, &issued.card.par)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_par.card, issued.card);
    assert_eq!(by_par.card.owner, member);
    assert_eq!(by_par.card.kind, CardKind::Mobile);
    assert_eq!(by_par.card.status, CardStatus::Active);
    assert_eq!(by_par.application, new.application.number);
    assert_eq!(by_par.protected_pan, issued.protected_pan);
    assert_eq!(by_par.pan_fingerprint, issued.pan_fingerprint);
    assert!(by_par.pan_bound_to_id);
    assert_eq!(by_par.cvk_id, issued.cvk_id);
    assert_eq!(by_par.version, 0);

    let by_fingerprint = test
        .db
        .card_by_fingerprint(&asp, &issued.pan_fingerprint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_fingerprint, by_par);
    let mut under_another_key = issued.pan_fingerprint.clone();
    under_another_key.key_id = "idx-other".into();
    assert!(
        test.db
            .card_by_fingerprint(&asp, &under_another_key)
            .await
            .unwrap()
            .is_none(),
        "a fingerprint is compared with the index key it was made under"
    );

    let of_application = test
        .db
        .cards_of_application(&asp, &new.application.number)
        .await
        .unwrap();
    assert_eq!(of_application, std::slice::from_ref(&by_par));

    let other = AspId::parse(&crate::support::asp()).unwrap();
    assert!(
        test.db
            .card_by_par(&other, &issued.card.par)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        test.db
            .card_by_fingerprint(&other, &issued.pan_fingerprint)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        test.db
            .cards_of_application(&other, &new.application.number)
            .await
            .unwrap()
            .is_empty()
    );
}
