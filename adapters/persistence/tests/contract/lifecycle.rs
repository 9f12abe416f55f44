//! The reads the card lifecycle needs, per aggregate, and its versioned state changes, each
//! scoped to its project (D15).

use prepaid_application::ports::{
    CardApplicationStore, CardChange, CardStore, ChangeError, DeliveryStore, IdempotencyClaim,
    IdempotencyStore, IdempotentOperation, LifecycleChange, LifecycleChanges, MemberDirectory,
    MemberRecords, NewCardOf, NewIssuance, NewIssuedCard, RecordError, Replacement,
    RequestFingerprint, SealedAddress, StoredApplication, UniqueNumber, VersionedChange,
};
use prepaid_domain::{
    ApplicationStatus, ApplicationType, AspId, CardApplication, CardApplyNo, CardKind, CardStatus,
    DeliveryHistory, DeliveryStatus, DeliveryStep, MemberStatus, ServiceId, Timestamp,
};

use crate::support::{
    Backend, NOW, TestDb, issuance, key, member_and_product, open, save_member_in, unique,
};

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
    assert_eq!(
        delivery.address,
        new.delivery.map(|delivery| delivery.address)
    );
    assert_eq!(delivery.history.steps()[0].at, Timestamp::from_millis(NOW));
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

/// An issuance with a card and a delivery, recorded; and the change that cancels it (D17): the
/// application `CANCELLED`, the delivery `CANCEL`, the card `TERMINATED`, from version 0.
async fn issued_and_its_cancel(test: &TestDb) -> (NewIssuance, LifecycleChange) {
    let (asp_id, member) = member_and_product(&test.db).await;
    let new = issuance(member, key(&asp_id, unique()), unique(), true);
    test.db.record_issuance(&new).await.unwrap();
    let number = new.application.number.clone();
    let cancel = LifecycleChange {
        asp_id: AspId::parse(&asp_id).unwrap(),
        claim: Some(IdempotencyClaim {
            key: key(&asp_id, unique()),
            operation: IdempotentOperation::IssueAndDeliver,
            request_fingerprint: RequestFingerprint {
                key_id: "idx-1".into(),
                digest: [9; 32],
            },
            outcome: number.as_str().to_owned(),
            created_at: Timestamp::from_millis(NOW + 1_000),
        }),
        applications: vec![VersionedChange {
            key: number.clone(),
            from_version: 0,
            status: ApplicationStatus::Cancelled,
        }],
        deliveries: vec![VersionedChange {
            key: number,
            from_version: 0,
            status: DeliveryStatus::Cancel,
        }],
        cards: vec![VersionedChange {
            key: new.card.as_ref().unwrap().card.id.clone(),
            from_version: 0,
            status: CardChange {
                status: CardStatus::Terminated,
                wrong_attempts: 0,
                linked_to: None,
            },
        }],
        new_cards: vec![],
        at: Timestamp::from_millis(NOW + 1_000),
    };
    (new, cancel)
}

/// The application's, delivery's and card's (status, version) as stored.
async fn states(test: &TestDb, new: &NewIssuance) -> (String, u64, String, u64, String, u64) {
    let asp = &new.claim.key.asp_id;
    let number = &new.application.number;
    let application = test.db.application(asp, number).await.unwrap().unwrap();
    let delivery = test.db.delivery(asp, number).await.unwrap().unwrap();
    let card = test
        .db
        .card_by_par(asp, &new.card.as_ref().unwrap().card.par)
        .await
        .unwrap()
        .unwrap();
    (
        application.application.status.as_str().to_owned(),
        application.version,
        delivery.history.current().as_str().to_owned(),
        delivery.version,
        card.card.status.as_str().to_owned(),
        card.version,
    )
}

pub async fn a_lifecycle_change_moves_every_status_and_version_and_records_its_claim(
    backend: Backend,
) {
    let test = open(&backend);
    let (new, cancel) = issued_and_its_cancel(&test).await;

    test.db.apply(&cancel).await.unwrap();

    assert_eq!(
        states(&test, &new).await,
        (
            "CANCELLED".into(),
            1,
            "CANCEL".into(),
            1,
            "TERMINATED".into(),
            1
        )
    );
    let claim = cancel.claim.as_ref().unwrap();
    let record = test.db.find_record(&claim.key).await.unwrap().unwrap();
    assert_eq!(record.outcome, claim.outcome);
}

pub async fn a_stale_version_anywhere_in_a_change_makes_nothing_of_it(backend: Backend) {
    let test = open(&backend);
    let (new, mut cancel) = issued_and_its_cancel(&test).await;
    // The card was read at a version it is no longer at; the application and delivery come first.
    cancel.cards[0].from_version = 7;

    let refused = test.db.apply(&cancel).await;

    assert!(matches!(refused, Err(ChangeError::Stale)), "{refused:?}");
    assert_eq!(
        statuses(&history(&test, &new).await),
        [DeliveryStatus::Ready],
        "no step of a change not made"
    );
    assert_eq!(
        states(&test, &new).await,
        (
            "DIGITAL_ISSUED".into(),
            0,
            "READY".into(),
            0,
            "ACTIVE".into(),
            0
        )
    );
    let claim = cancel.claim.as_ref().unwrap();
    assert!(test.db.find_record(&claim.key).await.unwrap().is_none());
}

pub async fn another_projects_objects_are_never_changed(backend: Backend) {
    let test = open(&backend);
    let (new, mut cancel) = issued_and_its_cancel(&test).await;
    cancel.asp_id = AspId::parse(&crate::support::asp()).unwrap();

    assert!(matches!(
        test.db.apply(&cancel).await,
        Err(ChangeError::Stale)
    ));
    assert_eq!(
        states(&test, &new).await,
        (
            "DIGITAL_ISSUED".into(),
            0,
            "READY".into(),
            0,
            "ACTIVE".into(),
            0
        )
    );
}

pub async fn a_claimed_key_makes_nothing_of_the_change(backend: Backend) {
    let test = open(&backend);
    let (new, mut cancel) = issued_and_its_cancel(&test).await;
    // The issuance's own key, already claimed.
    cancel.claim.as_mut().unwrap().key = new.claim.key.clone();

    assert!(matches!(
        test.db.apply(&cancel).await,
        Err(ChangeError::KeyTaken)
    ));
    assert_eq!(
        states(&test, &new).await,
        (
            "DIGITAL_ISSUED".into(),
            0,
            "READY".into(),
            0,
            "ACTIVE".into(),
            0
        )
    );
}

pub async fn of_many_writers_from_one_version_exactly_one_changes_it(backend: Backend) {
    let test = open(&backend);
    let (new, cancel) = issued_and_its_cancel(&test).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let db = test.db.clone();
            let mut change = cancel.clone();
            change.claim = None;
            tokio::spawn(async move { db.apply(&change).await })
        })
        .collect();
    let mut made = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => made += 1,
            Err(ChangeError::Stale) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(made, 1);
    assert_eq!(
        statuses(&history(&test, &new).await),
        [DeliveryStatus::Ready, DeliveryStatus::Cancel],
        "one writer, one step"
    );
    assert_eq!(
        states(&test, &new).await,
        (
            "CANCELLED".into(),
            1,
            "CANCEL".into(),
            1,
            "TERMINATED".into(),
            1
        )
    );
}

/// The delivery's history as stored.
async fn history(test: &TestDb, new: &NewIssuance) -> Vec<DeliveryStep> {
    let asp = &new.claim.key.asp_id;
    let stored = test
        .db
        .delivery(asp, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    stored.history.steps().to_vec()
}

fn statuses(steps: &[DeliveryStep]) -> Vec<DeliveryStatus> {
    steps.iter().map(|step| step.status).collect()
}

pub async fn a_deliverys_history_starts_when_it_is_asked_for_and_keeps_every_change_with_its_time(
    backend: Backend,
) {
    let test = open(&backend);
    let (new, _) = issued_and_its_cancel(&test).await;
    let created = new.delivery.as_ref().unwrap().created_at;
    assert_eq!(
        history(&test, &new).await,
        [DeliveryStep {
            status: DeliveryStatus::Ready,
            at: created
        }]
    );
    let number = new.application.number.clone();
    for (version, status, at) in [
        (0, DeliveryStatus::Receipt, NOW + 1_000),
        (1, DeliveryStatus::PreShipping, NOW + 2_000),
        (2, DeliveryStatus::Shipping, NOW + 3_000),
    ] {
        let step = LifecycleChange {
            asp_id: new.claim.key.asp_id.clone(),
            claim: None,
            applications: vec![],
            deliveries: vec![VersionedChange {
                key: number.clone(),
                from_version: version,
                status,
            }],
            cards: vec![],
            new_cards: vec![],
            at: Timestamp::from_millis(at),
        };
        test.db.apply(&step).await.unwrap();
    }
    let stored = test
        .db
        .delivery(&new.claim.key.asp_id, &number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(stored.history.current(), DeliveryStatus::Shipping);
    assert_eq!(
        stored.history.steps(),
        [
            DeliveryStep {
                status: DeliveryStatus::Ready,
                at: created
            },
            DeliveryStep {
                status: DeliveryStatus::Receipt,
                at: Timestamp::from_millis(NOW + 1_000)
            },
            DeliveryStep {
                status: DeliveryStatus::PreShipping,
                at: Timestamp::from_millis(NOW + 2_000)
            },
            DeliveryStep {
                status: DeliveryStatus::Shipping,
                at: Timestamp::from_millis(NOW + 3_000)
            },
        ]
    );
}

/// A fixture's address, as sealed.
fn sealed() -> SealedAddress {
    SealedAddress {
        key_id: "k3".into(),
        ciphertext: b"sealed fixture address".to_vec(),
    }
}

pub async fn a_fixture_application_is_written_once_with_its_whole_history_in_its_project(
    backend: Backend,
) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let asp = AspId::parse(&asp_id).unwrap();
    let seed = unique();
    let number = CardApplyNo::parse(&crate::support::alnum(seed, 22)).unwrap();
    let at = |offset: i64| Timestamp::from_millis(NOW + offset);
    let stored = StoredApplication {
        application: CardApplication {
            number: number.clone(),
            member,
            product: ServiceId::parse(crate::support::SERVICE_ID).unwrap(),
            application_type: ApplicationType::Issue,
            status: ApplicationStatus::Cancelled,
            purpose: None,
            created_at: at(0),
        },
        replaces: None,
        version: 1,
    };
    let history = DeliveryHistory::start(at(0))
        .advance(DeliveryStatus::Receipt, at(1_000))
        .and_then(|history| history.advance(DeliveryStatus::Cancel, at(2_000)))
        .unwrap();

    let added = test
        .db
        .save_fixture_application(&asp, &stored, &sealed(), &history)
        .await
        .unwrap();

    assert!(added);
    assert_eq!(
        test.db.application(&asp, &number).await.unwrap(),
        Some(stored.clone())
    );
    let delivery = test.db.delivery(&asp, &number).await.unwrap().unwrap();
    assert_eq!(delivery.history, history);
    assert_eq!(delivery.version, 2, "one version per change");
    assert_eq!(delivery.address, Some(sealed()));

    // Written again (the next start), even differently, it stays as it was first written.
    let mut changed = stored.clone();
    changed.application.status = ApplicationStatus::Ready;
    let again = test
        .db
        .save_fixture_application(
            &asp,
            &changed,
            &sealed(),
            &DeliveryHistory::start(at(5_000)),
        )
        .await
        .unwrap();
    assert!(!again);
    assert_eq!(
        test.db.application(&asp, &number).await.unwrap(),
        Some(stored)
    );
    assert_eq!(
        test.db
            .delivery(&asp, &number)
            .await
            .unwrap()
            .unwrap()
            .history,
        history
    );

    let other = AspId::parse(&crate::support::asp()).unwrap();
    assert!(
        test.db
            .application(&other, &number)
            .await
            .unwrap()
            .is_none()
    );
    assert!(test.db.delivery(&other, &number).await.unwrap().is_none());
}

/// A physical card for `new`'s application, with numbers drawn from `seed`.
fn physical_card(new: &NewIssuance, seed: u64) -> NewCardOf {
    let mut card =
        crate::support::issuance(new.application.member, new.claim.key.clone(), seed, true)
            .card
            .unwrap();
    card.card.kind = CardKind::Physical;
    card.card.status = CardStatus::Inactive;
    NewCardOf {
        application: new.application.number.clone(),
        card,
    }
}

/// The change a partner's `PRE_SHIPPING` makes: the delivery moved, the application
/// `PHYSICAL_ISSUED`, `card` produced.
fn produced(new: &NewIssuance, delivery_version: u64, card: NewCardOf) -> LifecycleChange {
    LifecycleChange {
        asp_id: new.claim.key.asp_id.clone(),
        claim: None,
        applications: vec![VersionedChange {
            key: new.application.number.clone(),
            from_version: 0,
            status: ApplicationStatus::PhysicalIssued,
        }],
        deliveries: vec![VersionedChange {
            key: new.application.number.clone(),
            from_version: delivery_version,
            status: DeliveryStatus::PreShipping,
        }],
        cards: vec![],
        new_cards: vec![card],
        at: Timestamp::from_millis(NOW + 5_000),
    }
}

/// Moves `new`'s delivery to `RECEIPT`.
async fn received(test: &TestDb, new: &NewIssuance) {
    test.db
        .apply(&LifecycleChange {
            asp_id: new.claim.key.asp_id.clone(),
            claim: None,
            applications: vec![],
            deliveries: vec![VersionedChange {
                key: new.application.number.clone(),
                from_version: 0,
                status: DeliveryStatus::Receipt,
            }],
            cards: vec![],
            new_cards: vec![],
            at: Timestamp::from_millis(NOW + 1_000),
        })
        .await
        .unwrap();
}

pub async fn a_change_makes_a_card_with_its_delivery_step_and_then_links_and_counts_on_it(
    backend: Backend,
) {
    let test = open(&backend);
    let (new, _) = issued_and_its_cancel(&test).await;
    received(&test, &new).await;
    let physical = physical_card(&new, unique());
    test.db
        .apply(&produced(&new, 1, physical.clone()))
        .await
        .unwrap();

    let asp = &new.claim.key.asp_id;
    let stored = test
        .db
        .card_by_par(asp, &physical.card.card.par)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.card, physical.card.card);
    assert_eq!(stored.application, new.application.number);
    assert_eq!(stored.wrong_attempts, 0);
    assert_eq!(stored.version, 0);
    let cards = test
        .db
        .cards_of_application(asp, &new.application.number)
        .await
        .unwrap();
    assert_eq!(cards.len(), 2, "the mobile card and the physical one");
    let application = test
        .db
        .application(asp, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        application.application.status,
        ApplicationStatus::PhysicalIssued
    );
    // The retry of the issuance still answers only the mobile card made with it.
    let issued = test
        .db
        .find_issuance(asp, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        issued.card.map(|card| card.par),
        new.card.as_ref().map(|card| card.card.par.clone())
    );

    // A wrong attempt counted, then the link made with the card's activation.
    let attempt = CardChange {
        wrong_attempts: 3,
        ..stored.as_is()
    };
    let mobile = new.card.as_ref().unwrap().card.id.clone();
    for (from_version, change) in [
        (0, attempt),
        (
            1,
            CardChange {
                status: CardStatus::Active,
                wrong_attempts: 0,
                linked_to: Some(mobile.clone()),
            },
        ),
    ] {
        test.db
            .apply(&LifecycleChange {
                asp_id: asp.clone(),
                claim: None,
                applications: vec![],
                deliveries: vec![],
                cards: vec![VersionedChange {
                    key: stored.card.id.clone(),
                    from_version,
                    status: change.clone(),
                }],
                new_cards: vec![],
                at: Timestamp::from_millis(NOW + 6_000),
            })
            .await
            .unwrap();
        let now = test
            .db
            .card_by_par(asp, &stored.card.par)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.as_is(), change);
        assert_eq!(now.version, from_version + 1);
    }
}

pub async fn a_made_card_whose_number_is_taken_makes_nothing_of_the_change(backend: Backend) {
    let test = open(&backend);
    let (new, _) = issued_and_its_cancel(&test).await;
    received(&test, &new).await;
    let mut physical = physical_card(&new, unique());
    // The mobile card's fingerprint: the PAN is taken.
    physical.card.pan_fingerprint = new.card.as_ref().unwrap().pan_fingerprint.clone();
    let refused = test.db.apply(&produced(&new, 1, physical.clone())).await;
    assert!(
        matches!(refused, Err(ChangeError::NumberTaken(UniqueNumber::Pan))),
        "{refused:?}"
    );
    let mut physical = physical_card(&new, unique());
    physical.card.card.par = new.card.as_ref().unwrap().card.par.clone();
    let refused = test.db.apply(&produced(&new, 1, physical)).await;
    assert!(
        matches!(refused, Err(ChangeError::NumberTaken(UniqueNumber::Par))),
        "{refused:?}"
    );
    let asp = &new.claim.key.asp_id;
    let delivery = test
        .db
        .delivery(asp, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.history.current(), DeliveryStatus::Receipt);
    assert_eq!(
        test.db
            .cards_of_application(asp, &new.application.number)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn a_card_is_never_made_for_another_projects_application(backend: Backend) {
    let test = open(&backend);
    let (new, _) = issued_and_its_cancel(&test).await;
    let (other, _) = issued_and_its_cancel(&test).await;
    // A change of `other`'s project that makes a card for `new`'s application.
    let change = LifecycleChange {
        asp_id: other.claim.key.asp_id.clone(),
        claim: None,
        applications: vec![],
        deliveries: vec![],
        cards: vec![],
        new_cards: vec![physical_card(&new, unique())],
        at: Timestamp::from_millis(NOW + 5_000),
    };
    assert!(matches!(
        test.db.apply(&change).await,
        Err(ChangeError::Stale)
    ));
    assert_eq!(
        test.db
            .cards_of_application(&new.claim.key.asp_id, &new.application.number)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn deliveries_in_progress_are_listed_across_projects_longest_unchanged_first(
    backend: Backend,
) {
    let test = open(&backend);
    let (first, _) = issued_and_its_cancel(&test).await;
    let (second, _) = issued_and_its_cancel(&test).await;
    let (cancelled, cancel) = issued_and_its_cancel(&test).await;
    test.db.apply(&cancel).await.unwrap();
    // `first` moves on after `second` was asked for: `second` has waited longer.
    received(&test, &first).await;

    let listed = test.db.deliveries_in_progress(None, 10_000).await.unwrap();
    let position = |new: &NewIssuance| {
        listed
            .iter()
            .position(|item| item.delivery.application == new.application.number)
    };
    let (Some(second_at), Some(first_at)) = (position(&second), position(&first)) else {
        panic!("both deliveries in progress are listed");
    };
    assert!(second_at < first_at);
    assert_eq!(position(&cancelled), None, "a final delivery is not listed");
    let item = &listed[first_at];
    assert_eq!(item.asp_id, first.claim.key.asp_id);
    assert_eq!(item.delivery.history.current(), DeliveryStatus::Receipt);
    assert_eq!(item.delivery.history.steps().len(), 2);
    assert_eq!(
        test.db.deliveries_in_progress(None, 1).await.unwrap().len(),
        1
    );
    // One project's queue holds its own deliveries only.
    let own = test
        .db
        .deliveries_in_progress(Some(first.claim.key.asp_id.clone()), 10_000)
        .await
        .unwrap();
    assert_eq!(
        own.iter()
            .map(|item| item.delivery.application.as_str())
            .collect::<Vec<_>>(),
        [first.application.number.as_str()]
    );

    assert_eq!(
        test.db.project_of(&first.application.number).await.unwrap(),
        Some(first.claim.key.asp_id.clone())
    );
    let unknown = CardApplyNo::parse("2026112506ZZZZZZZZZZZZ").unwrap();
    assert_eq!(test.db.project_of(&unknown).await.unwrap(), None);
}

pub async fn a_change_links_a_card_to_one_it_makes(backend: Backend) {
    let test = open(&backend);
    let (new, _) = issued_and_its_cancel(&test).await;
    received(&test, &new).await;
    let physical = physical_card(&new, unique());
    test.db
        .apply(&produced(&new, 1, physical.clone()))
        .await
        .unwrap();
    // A mobile card made by the change, and the physical card linked to it in the same one.
    let mut mobile = physical_card(&new, unique());
    mobile.card.card.kind = CardKind::Mobile;
    mobile.card.card.status = CardStatus::Active;
    let asp = &new.claim.key.asp_id;
    test.db
        .apply(&LifecycleChange {
            asp_id: asp.clone(),
            claim: None,
            applications: vec![],
            deliveries: vec![],
            cards: vec![VersionedChange {
                key: physical.card.card.id.clone(),
                from_version: 0,
                status: CardChange {
                    status: CardStatus::Active,
                    wrong_attempts: 0,
                    linked_to: Some(mobile.card.card.id.clone()),
                },
            }],
            new_cards: vec![mobile.clone()],
            at: Timestamp::from_millis(NOW + 7_000),
        })
        .await
        .unwrap();
    let linked = test
        .db
        .card_by_par(asp, &physical.card.card.par)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.card.linked_to, Some(mobile.card.card.id.clone()));
    assert_eq!(linked.card.status, CardStatus::Active);
    assert!(
        test.db
            .card_by_par(asp, &mobile.card.card.par)
            .await
            .unwrap()
            .is_some()
    );
}

/// What a reissue of `card` records: it replaces the card and terminates it from version 0.
fn terminating(card: &NewIssuedCard) -> Replacement {
    Replacement {
        card: card.card.id.clone(),
        cards: vec![VersionedChange {
            key: card.card.id.clone(),
            from_version: 0,
            status: CardChange {
                status: CardStatus::Terminated,
                wrong_attempts: 0,
                linked_to: None,
            },
        }],
    }
}

/// A recorded issuance with a card, and a reissue of that card: a new application (without
/// card) that replaces it and terminates it from version 0.
async fn issued_and_its_replacement(test: &TestDb) -> (NewIssuance, NewIssuance) {
    let (asp_id, member) = member_and_product(&test.db).await;
    let lost = issuance(member, key(&asp_id, unique()), unique(), true);
    test.db.record_issuance(&lost).await.unwrap();
    let card = lost.card.as_ref().unwrap();
    let mut reissue = issuance(member, key(&asp_id, unique()), unique(), false);
    reissue.application.application_type = ApplicationType::Reissue;
    reissue.replacing = Some(terminating(card));
    (lost, reissue)
}

pub async fn an_application_that_replaces_a_card_changes_it_in_its_transaction(backend: Backend) {
    let test = open(&backend);
    let (lost, reissue) = issued_and_its_replacement(&test).await;

    test.db.record_issuance(&reissue).await.unwrap();

    let asp = &lost.claim.key.asp_id;
    let card = lost.card.as_ref().unwrap();
    let stored = test
        .db
        .card_by_par(asp, &card.card.par)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.card.status, stored.version),
        (CardStatus::Terminated, 1)
    );
    let application = test
        .db
        .application(asp, &reissue.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(application.replaces.as_ref(), Some(&card.card.id));
    assert_eq!(
        application.application.application_type,
        ApplicationType::Reissue
    );
    let first = test
        .db
        .application(asp, &lost.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.replaces, None);
    let listed = test
        .db
        .applications_of_member(asp, lost.application.member)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let replacing = listed
        .iter()
        .find(|stored| stored.application.number == reissue.application.number)
        .unwrap();
    assert_eq!(replacing.replaces.as_ref(), Some(&card.card.id));
}

pub async fn an_application_whose_replaced_card_moved_is_not_recorded(backend: Backend) {
    let test = open(&backend);
    let (lost, mut reissue) = issued_and_its_replacement(&test).await;
    // Read at a version the card is no longer at.
    reissue.replacing.as_mut().unwrap().cards[0].from_version = 3;

    let refused = test.db.record_issuance(&reissue).await;

    assert!(matches!(refused, Err(RecordError::Stale)), "{refused:?}");
    let asp = &lost.claim.key.asp_id;
    assert!(
        test.db
            .application(asp, &reissue.application.number)
            .await
            .unwrap()
            .is_none(),
        "no application"
    );
    assert!(
        test.db
            .delivery(asp, &reissue.application.number)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        test.db
            .find_record(&reissue.claim.key)
            .await
            .unwrap()
            .is_none()
    );
    let card = test
        .db
        .card_by_par(asp, &lost.card.as_ref().unwrap().card.par)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((card.card.status, card.version), (CardStatus::Active, 0));
}

pub async fn an_application_never_changes_another_projects_card(backend: Backend) {
    let test = open(&backend);
    let (lost, _) = issued_and_its_replacement(&test).await;
    // Another project's member replaces the first project's card.
    let (other_asp, other_member) = member_and_product(&test.db).await;
    let mut reissue = issuance(other_member, key(&other_asp, unique()), unique(), false);
    let card = lost.card.as_ref().unwrap();
    reissue.replacing = Some(terminating(card));

    let refused = test.db.record_issuance(&reissue).await;

    assert!(matches!(refused, Err(RecordError::Stale)), "{refused:?}");
    let stored = test
        .db
        .card_by_par(&lost.claim.key.asp_id, &card.card.par)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.card.status, stored.version),
        (CardStatus::Active, 0)
    );
}

pub async fn of_many_replacements_of_one_card_read_at_one_version_one_is_recorded(
    backend: Backend,
) {
    let test = open(&backend);
    let (lost, reissue) = issued_and_its_replacement(&test).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let db = test.db.clone();
            let mut one = issuance(
                reissue.application.member,
                key(reissue.claim.key.asp_id.as_str(), unique()),
                unique(),
                false,
            );
            one.replacing.clone_from(&reissue.replacing);
            tokio::spawn(async move { db.record_issuance(&one).await })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => recorded += 1,
            Err(RecordError::Stale) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(recorded, 1);
    let card = test
        .db
        .card_by_par(
            &lost.claim.key.asp_id,
            &lost.card.as_ref().unwrap().card.par,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (card.card.status, card.version),
        (CardStatus::Terminated, 1)
    );
}

/// The member's (status) and card's (status, version) as stored.
async fn member_and_card(test: &TestDb, new: &NewIssuance) -> (MemberStatus, String, u64) {
    let asp = &new.claim.key.asp_id;
    let member = MemberDirectory::find(&test.db, asp, new.application.member)
        .await
        .unwrap()
        .unwrap();
    let card = test
        .db
        .card_by_par(asp, &new.card.as_ref().unwrap().card.par)
        .await
        .unwrap()
        .unwrap();
    (
        member.status,
        card.card.status.as_str().to_owned(),
        card.version,
    )
}

pub async fn a_membership_cancellation_takes_the_cards_with_the_member_or_makes_nothing(
    backend: Backend,
) {
    let test = open(&backend);
    let (new, mut leave) = issued_and_its_cancel(&test).await;
    // Only the card: the member's applications stay as they are.
    leave.applications.clear();
    leave.deliveries.clear();
    leave.claim.as_mut().unwrap().operation = IdempotentOperation::CancelMembership;
    let member = new.application.member;
    let untouched = (MemberStatus::Active, "ACTIVE".to_owned(), 0);

    let mut stale = leave.clone();
    stale.cards[0].from_version = 7;
    let mut theirs = leave.clone();
    theirs.asp_id = AspId::parse(&crate::support::asp()).unwrap();
    let mut claimed = leave.clone();
    claimed.claim.as_mut().unwrap().key = new.claim.key.clone();
    for (refused, expected) in [(stale, "stale"), (theirs, "stale"), (claimed, "key taken")] {
        let answer = test.db.cancel(member, &refused).await;
        assert!(
            matches!(
                (&answer, expected),
                (Err(ChangeError::Stale), "stale") | (Err(ChangeError::KeyTaken), "key taken")
            ),
            "{expected}: {answer:?}"
        );
        assert_eq!(member_and_card(&test, &new).await, untouched, "{expected}");
    }
    let claim = leave.claim.as_ref().unwrap();
    assert!(test.db.find_record(&claim.key).await.unwrap().is_none());

    test.db.cancel(member, &leave).await.unwrap();

    assert_eq!(
        member_and_card(&test, &new).await,
        (MemberStatus::Cancelled, "TERMINATED".to_owned(), 1)
    );
    let record = test.db.find_record(&claim.key).await.unwrap().unwrap();
    assert_eq!(
        (record.operation.as_str(), record.outcome.as_str()),
        ("CANCEL_MEMBERSHIP", claim.outcome.as_str())
    );
    let application = test
        .db
        .application(&new.claim.key.asp_id, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        application.application.status,
        ApplicationStatus::DigitalIssued
    );

    // A member no longer active is not cancelled again, even with nothing else to change.
    let mut again = leave.clone();
    again.cards.clear();
    again.claim.as_mut().unwrap().key = key(claim.key.asp_id.as_str(), unique());
    assert!(matches!(
        test.db.cancel(member, &again).await,
        Err(ChangeError::Stale)
    ));
    let again_key = &again.claim.as_ref().unwrap().key;
    assert!(test.db.find_record(again_key).await.unwrap().is_none());
}

pub async fn a_cancellation_that_did_not_know_a_card_and_an_issuance_after_it_make_nothing(
    backend: Backend,
) {
    let test = open(&backend);
    let (new, mut leave) = issued_and_its_cancel(&test).await;
    leave.applications.clear();
    leave.deliveries.clear();
    leave.claim.as_mut().unwrap().operation = IdempotentOperation::CancelMembership;
    let member = new.application.member;
    let asp_id = new.claim.key.asp_id.as_str().to_owned();
    // A second card issued after the cancellation read the member's cards.
    let later = issuance(member, key(&asp_id, unique()), unique(), true);
    test.db.record_issuance(&later).await.unwrap();
    assert!(matches!(
        test.db.cancel(member, &leave).await,
        Err(ChangeError::Stale)
    ));
    assert_eq!(
        member_and_card(&test, &new).await,
        (MemberStatus::Active, "ACTIVE".to_owned(), 0),
        "nothing of the cancellation"
    );
    // Knowing both cards, it is made.
    let mut both = leave.clone();
    both.cards.push(VersionedChange {
        key: later.card.as_ref().unwrap().card.id.clone(),
        ..leave.cards[0].clone()
    });
    test.db.cancel(member, &both).await.unwrap();
    assert_eq!(
        member_and_card(&test, &later).await,
        (MemberStatus::Cancelled, "TERMINATED".to_owned(), 1)
    );
    // Now cancelled, the member gets no card: the issuance is stale and writes nothing.
    let refused = issuance(member, key(&asp_id, unique()), unique(), true);
    assert!(matches!(
        test.db.record_issuance(&refused).await,
        Err(RecordError::Stale)
    ));
    assert!(
        test.db
            .application(&refused.claim.key.asp_id, &refused.application.number)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        test.db
            .find_record(&refused.claim.key)
            .await
            .unwrap()
            .is_none()
    );
}
