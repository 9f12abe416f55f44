//! The cases: what every implementation of the storage ports must do.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prepaid_application::PortError;
use prepaid_application::ports::{
    AccessKeyState, CardApplicationStore, CardSecrets, CryptoKeyRef, DeliveryStore,
    IdempotencyStore, MemberDirectory, PanBinding, PanFingerprint, ProductCatalogue, Project,
    ProjectAccessKey, ProjectDirectory, ProtectedPan, RecordError, RequestFingerprint,
    SealedAddress, UniqueNumber,
};
use prepaid_domain::{
    AccessKey, AspId, CardApplyNo, CorrelationId, CryptoKeyId, DeliveryAddress, MemberId,
    MemberStatus, Pan, SecretKey, ServiceId, Timestamp,
};
use prepaid_persistence::{Database, IssuedCounts};

use crate::support::{
    Backend, NOW, SERVICE_ID, XorVault, address, alnum, asp, clock, issuance, key,
    member_and_product, open, product, save_member_in, unique,
};

pub(crate) fn counts(applications: i64, cards: i64, deliveries: i64) -> IssuedCounts {
    IssuedCounts {
        applications,
        cards,
        deliveries,
        idempotency_records: applications,
    }
}

pub async fn an_issuance_with_card_and_delivery_is_found_again_by_its_key(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let key = key(&asp_id, unique());
    let new = issuance(member, key.clone(), unique(), true);

    test.db.record_issuance(&new).await.unwrap();

    let record = test.db.find_record(&key).await.unwrap().unwrap();
    assert_eq!(record.operation, "ISSUE_AND_DELIVER");
    assert_eq!(record.request_fingerprint, new.claim.request_fingerprint);
    assert_eq!(record.outcome, new.application.number.as_str());
    assert_eq!(record.created_at, new.claim.created_at);
    let found = test
        .db
        .find_issuance(&new.claim.key.asp_id, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.application_number, new.application.number);
    let card = found.card.unwrap();
    let expected = new.card.unwrap();
    assert_eq!(card.id, expected.card.id);
    assert!(card.pan_bound_to_id, "a new card's PAN is bound to its id");
    assert_eq!(card.par, expected.card.par);
    assert_eq!(card.expiry, expected.card.expiry);
    assert_eq!(card.protected_pan, expected.protected_pan);
    assert_eq!(
        card.cvk_id, expected.cvk_id,
        "the card keeps its verification key id"
    );
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(1, 1, 1)
    );
}

pub async fn an_issuance_without_card_is_found_again_without_card(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let key = key(&asp_id, unique());

    let new = issuance(member, key.clone(), unique(), false);
    test.db.record_issuance(&new).await.unwrap();

    assert!(
        test.db
            .find_issuance(&key.asp_id, &new.application.number)
            .await
            .unwrap()
            .unwrap()
            .card
            .is_none()
    );
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(1, 0, 1)
    );
}

pub async fn a_second_claim_of_a_key_is_refused_and_writes_nothing(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let key = key(&asp_id, unique());
    test.db
        .record_issuance(&issuance(member, key.clone(), unique(), true))
        .await
        .unwrap();

    let second = test
        .db
        .record_issuance(&issuance(member, key, unique(), true))
        .await;

    assert!(matches!(second, Err(RecordError::KeyTaken)), "{second:?}");
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(1, 1, 1)
    );
}

pub async fn the_same_correlation_id_under_another_asp_is_another_key(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let other_asp = asp();
    save_member_in(&test.db, &other_asp, member, MemberStatus::Active).await;
    let seed = unique();

    test.db
        .record_issuance(&issuance(member, key(&asp_id, seed), unique(), true))
        .await
        .unwrap();
    test.db
        .record_issuance(&issuance(member, key(&other_asp, seed), unique(), true))
        .await
        .unwrap();

    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(2, 2, 2)
    );
}

pub async fn a_member_belongs_to_its_project_and_another_may_hold_the_same_id(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let (mine, theirs) = (
        AspId::parse(&asp_id).unwrap(),
        AspId::parse(&asp()).unwrap(),
    );

    assert_eq!(
        MemberDirectory::find(&test.db, &theirs, member)
            .await
            .unwrap(),
        None,
        "another project does not see the member"
    );
    save_member_in(&test.db, theirs.as_str(), member, MemberStatus::Cancelled).await;
    assert_eq!(
        MemberDirectory::find(&test.db, &mine, member)
            .await
            .unwrap()
            .map(|found| found.status),
        Some(MemberStatus::Active),
        "the other project's member of the same id is its own row"
    );
    assert_eq!(
        MemberDirectory::find(&test.db, &theirs, member)
            .await
            .unwrap()
            .map(|found| found.status),
        Some(MemberStatus::Cancelled)
    );
}

pub async fn an_issuance_for_a_member_of_another_project_is_not_recorded(backend: Backend) {
    let test = open(&backend);
    let (_, member) = member_and_product(&test.db).await;

    let refused = test
        .db
        .record_issuance(&issuance(member, key(&asp(), unique()), unique(), true))
        .await;

    // No active member of that project: nothing is made for them.
    assert!(matches!(refused, Err(RecordError::Stale)), "{refused:?}");
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(0, 0, 0)
    );
}

async fn collision_case(
    backend: Backend,
    change: impl Fn(
        &mut prepaid_application::ports::NewIssuance,
        &prepaid_application::ports::NewIssuance,
    ),
    expected: UniqueNumber,
) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let first = issuance(member, key(&asp_id, unique()), unique(), true);
    test.db.record_issuance(&first).await.unwrap();
    let mut second = issuance(member, key(&asp_id, unique()), unique(), true);
    change(&mut second, &first);

    let result = test.db.record_issuance(&second).await;

    assert!(
        matches!(result, Err(RecordError::NumberTaken(number)) if number == expected),
        "{result:?}"
    );
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(1, 1, 1)
    );
    assert!(
        test.db
            .find_record(&second.claim.key)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_colliding_par_is_reported_and_writes_nothing(backend: Backend) {
    collision_case(
        backend,
        |second, first| {
            second.card.as_mut().unwrap().card.par = first.card.as_ref().unwrap().card.par.clone();
        },
        UniqueNumber::Par,
    )
    .await;
}

pub async fn a_colliding_pan_fingerprint_is_reported_and_writes_nothing(backend: Backend) {
    collision_case(
        backend,
        |second, first| {
            second.card.as_mut().unwrap().pan_fingerprint =
                first.card.as_ref().unwrap().pan_fingerprint.clone();
        },
        UniqueNumber::Pan,
    )
    .await;
}

pub async fn a_colliding_application_number_is_reported_and_writes_nothing(backend: Backend) {
    collision_case(
        backend,
        |second, first| second.application.number = first.application.number.clone(),
        UniqueNumber::ApplicationNumber,
    )
    .await;
}

pub async fn the_largest_member_id_round_trips_exactly(backend: Backend) {
    let test = open(&backend);
    let id = MemberId::new(MemberId::MAX).unwrap();
    let asp_id = asp();
    test.db
        .save_product(product(), Timestamp::from_millis(NOW))
        .await
        .unwrap();
    save_member_in(&test.db, &asp_id, id, MemberStatus::Active).await;

    let found = MemberDirectory::find(&test.db, &AspId::parse(&asp_id).unwrap(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.get(), 9_999_999_999_999_999_999);

    let key = key(&asp_id, unique());
    test.db
        .record_issuance(&issuance(id, key.clone(), unique(), false))
        .await
        .unwrap();
    assert!(test.db.find_record(&key).await.unwrap().is_some());
}

pub async fn a_sealed_address_round_trips_exactly(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let mut new = issuance(member, key(&asp_id, unique()), unique(), false);
    // As long as a 255-character Korean address and detail make it, every byte value.
    let sealed = SealedAddress {
        key_id: "k7".into(),
        ciphertext: (0..=255_u8).cycle().take(1_600).collect(),
    };
    new.delivery.as_mut().unwrap().address = sealed.clone();

    test.db.record_issuance(&new).await.unwrap();

    let delivery = test
        .db
        .delivery(&new.claim.key.asp_id, &new.application.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.address, Some(sealed));
}

/// Card secrets that seal an address as its lines after its application's number, reversed.
struct ReversingSecrets;

impl CardSecrets for ReversingSecrets {
    fn protect(&self, _: &Pan, _: PanBinding<'_>) -> Result<ProtectedPan, PortError> {
        Err(PortError::msg("the contract suite protects no PAN"))
    }
    fn reveal(&self, _: &ProtectedPan, _: PanBinding<'_>) -> Result<Pan, PortError> {
        Err(PortError::msg("the contract suite reveals no PAN"))
    }
    fn seal_address(
        &self,
        address: &DeliveryAddress,
        application: &CardApplyNo,
    ) -> Result<SealedAddress, PortError> {
        let text = format!(
            "{}\n{}\n{}\n{}",
            application.as_str(),
            address.address.as_str(),
            address.detail.as_str(),
            address.zip_code.as_str()
        );
        Ok(SealedAddress {
            key_id: "k2".into(),
            ciphertext: text.bytes().rev().collect(),
        })
    }
    fn open_address(
        &self,
        _: &SealedAddress,
        _: &CardApplyNo,
    ) -> Result<DeliveryAddress, PortError> {
        Err(PortError::msg("the contract suite opens no address"))
    }
    fn fingerprint(&self, _: &Pan) -> PanFingerprint {
        PanFingerprint {
            key_id: "idx-1".into(),
            digest: [0; 32],
        }
    }
    fn request_fingerprint(&self, _: &str) -> RequestFingerprint {
        RequestFingerprint {
            key_id: "idx-1".into(),
            digest: [0; 32],
        }
    }
    fn request_fingerprint_with(&self, _: &str, _: &str) -> Option<RequestFingerprint> {
        None
    }
}

pub async fn addresses_written_before_sealing_are_sealed_once_and_their_plaintext_deleted(
    backend: Backend,
) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let new = issuance(member, key(&asp_id, unique()), unique(), false);
    test.db.record_issuance(&new).await.unwrap();
    let number = &new.application.number;
    test.db
        .unseal_for_tests(number.as_str(), &address())
        .await
        .unwrap();
    let read = || test.db.delivery(&new.claim.key.asp_id, number);
    assert_eq!(read().await.unwrap().unwrap().address, None);
    assert!(test.db.count_text_cells_equal_to("06236").await.unwrap() > 0);

    let sealed = test
        .db
        .seal_unsealed_addresses(Arc::new(ReversingSecrets))
        .await
        .unwrap();

    assert!(sealed >= 1);
    let expected = ReversingSecrets.seal_address(&address(), number).unwrap();
    assert_eq!(read().await.unwrap().unwrap().address, Some(expected));
    assert_eq!(test.db.count_text_cells_equal_to("06236").await.unwrap(), 0);
    // Nothing is left to seal: a second start seals nothing.
    assert_eq!(
        test.db
            .seal_unsealed_addresses(Arc::new(ReversingSecrets))
            .await
            .unwrap(),
        0
    );
}

pub async fn products_round_trip_and_update_in_place(backend: Backend) {
    let test = open(&backend);
    let mut product = product();
    test.db
        .save_product(product.clone(), Timestamp::from_millis(NOW))
        .await
        .unwrap();
    product.active = false;
    product.giftable = true;
    test.db
        .save_product(product.clone(), Timestamp::from_millis(NOW))
        .await
        .unwrap();

    let found = ProductCatalogue::find(&test.db, &ServiceId::parse(SERVICE_ID).unwrap())
        .await
        .unwrap();
    assert_eq!(found, Some(product));
    let missing = ServiceId::parse(&alnum(unique(), 15)).unwrap();
    assert_eq!(
        ProductCatalogue::find(&test.db, &missing).await.unwrap(),
        None
    );
    // Put the shared product back for cases running after this one on the same database.
    test.db
        .save_product(super::support::product(), Timestamp::from_millis(NOW))
        .await
        .unwrap();
}

pub async fn members_can_be_cancelled(backend: Backend) {
    let test = open(&backend);
    let (asp_id, id) = member_and_product(&test.db).await;

    save_member_in(&test.db, &asp_id, id, MemberStatus::Cancelled).await;

    let found = MemberDirectory::find(&test.db, &AspId::parse(&asp_id).unwrap(), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, MemberStatus::Cancelled);
}

pub async fn projects_round_trip_with_sealed_secrets(backend: Backend) {
    let test = open(&backend);
    let vault = Arc::new(XorVault(1));
    let asp_id = AspId::parse(&asp()).unwrap();
    let secret = SecretKey::parse(&alnum(unique(), 40)).unwrap();
    let project = Project {
        asp_id: asp_id.clone(),
        access_keys: vec![
            ProjectAccessKey {
                access_key: AccessKey::parse(&alnum(unique(), 40)).unwrap(),
                secret_key: secret.clone(),
                state: AccessKeyState::Active,
            },
            ProjectAccessKey {
                access_key: AccessKey::parse(&alnum(unique(), 40)).unwrap(),
                secret_key: SecretKey::parse(&alnum(unique(), 40)).unwrap(),
                state: AccessKeyState::Discarded,
            },
        ],
        crypto_keys: vec![
            CryptoKeyRef {
                id: CryptoKeyId::parse(&alnum(unique(), 32)).unwrap(),
            },
            CryptoKeyRef {
                id: CryptoKeyId::parse(&alnum(unique(), 32)).unwrap(),
            },
        ],
        plaintext_allowed: false,
    };

    test.db
        .save_project(project.clone(), vault.clone(), Timestamp::from_millis(NOW))
        .await
        .unwrap();

    let directory = test.db.projects(vault);
    let mut found = directory.find(&asp_id).await.unwrap().unwrap();
    found
        .access_keys
        .sort_by(|a, b| a.state.as_str().cmp(b.state.as_str()));
    let mut expected = project;
    expected
        .access_keys
        .sort_by(|a, b| a.state.as_str().cmp(b.state.as_str()));
    assert_eq!(found, expected);
    let other = AspId::parse(&asp()).unwrap();
    assert!(directory.find(&other).await.unwrap().is_none());
}

pub async fn a_signature_belongs_to_one_correlation_id_until_it_expires(backend: Backend) {
    let test = open(&backend);
    let clock = clock(NOW);
    let guard = test.db.replay_guard(clock.clone()).unwrap();
    let asp_id = AspId::parse(&asp()).unwrap();
    let token = format!("{}:{}", alnum(unique(), 40), alnum(unique(), 43));
    let first =
        CorrelationId::parse(&format!("261125153000-{:07x}", unique() % 0xfff_ffff)).unwrap();
    let second =
        CorrelationId::parse(&format!("261125153001-{:07x}", unique() % 0xfff_ffff)).unwrap();
    let expires = Timestamp::from_millis(NOW + 300_000);

    assert!(guard.bind(&asp_id, &token, &first, expires).await.unwrap());
    assert!(
        guard.bind(&asp_id, &token, &first, expires).await.unwrap(),
        "the same request again is a retry"
    );
    assert!(
        !guard.bind(&asp_id, &token, &second, expires).await.unwrap(),
        "another correlation id is a replay"
    );
    let other_asp = AspId::parse(&asp()).unwrap();
    assert!(
        guard
            .bind(&other_asp, &token, &second, expires)
            .await
            .unwrap()
    );

    // Bound durably, no later than what the request records next (on SQLite the binding rides
    // on the group commit ahead of the issuance): another guard on the database (a restart, or
    // a second instance) knows it.
    let (member_asp, member) = member_and_product(&test.db).await;
    test.db
        .record_issuance(&issuance(
            member,
            key(&member_asp, unique()),
            unique(),
            true,
        ))
        .await
        .unwrap();
    let reopened = Database::open_beside(&test.config).unwrap();
    let again = reopened.replay_guard(clock.clone()).unwrap();
    assert!(!again.bind(&asp_id, &token, &second, expires).await.unwrap());
    assert!(again.bind(&asp_id, &token, &first, expires).await.unwrap());

    clock
        .0
        .store(u64::try_from(NOW + 320_001).unwrap(), Ordering::SeqCst);
    assert!(
        guard
            .bind(
                &asp_id,
                &token,
                &second,
                Timestamp::from_millis(NOW + 620_001)
            )
            .await
            .unwrap(),
        "an expired binding is taken by the next request"
    );
}

pub async fn of_64_concurrent_correlation_ids_one_binds_a_signature(backend: Backend) {
    let test = open(&backend);
    let guard = test.db.replay_guard(clock(NOW)).unwrap();
    let asp_id = AspId::parse(&asp()).unwrap();
    let token = format!("{}:{}", alnum(unique(), 40), alnum(unique(), 43));
    let base = unique() % 0xfff_0000;
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let (guard, asp_id, token) = (guard.clone(), asp_id.clone(), token.clone());
            tokio::spawn(async move {
                let correlation =
                    CorrelationId::parse(&format!("261125153000-{:07x}", base + n)).unwrap();
                guard
                    .bind(
                        &asp_id,
                        &token,
                        &correlation,
                        Timestamp::from_millis(NOW + 300_000),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        admitted += usize::from(task.await.unwrap());
    }
    assert_eq!(admitted, 1);
}

pub async fn purging_removes_only_expired_idempotency_records(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let key = key(&asp_id, unique());
    test.db
        .record_issuance(&issuance(member, key.clone(), unique(), true))
        .await
        .unwrap();

    test.db
        .purge_expired(Timestamp::from_millis(NOW + 3_600_000))
        .await
        .unwrap();
    assert!(
        test.db.find_record(&key).await.unwrap().is_some(),
        "kept for at least 24 hours"
    );

    test.db
        .purge_expired(Timestamp::from_millis(NOW + 24 * 3_600_000 + 1))
        .await
        .unwrap();
    assert!(test.db.find_record(&key).await.unwrap().is_none());
    let after = test.db.count_issued_to(member).await.unwrap();
    assert_eq!(
        (after.applications, after.cards, after.idempotency_records),
        (1, 1, 0),
        "the issuance itself stays"
    );
}

pub async fn many_tasks_with_one_key_record_exactly_one_issuance(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    let key = key(&asp_id, unique());

    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let db = test.db.clone();
            let new = issuance(member, key.clone(), unique(), true);
            tokio::spawn(async move { db.record_issuance(&new).await })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => recorded += 1,
            Err(RecordError::KeyTaken) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    assert_eq!(recorded, 1);
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(1, 1, 1)
    );
}

/// Records `count` issuances of `member` under distinct keys of one ASP, all at once.
pub(crate) async fn record_concurrently(
    db: &Database,
    asp: &str,
    member: MemberId,
    count: usize,
    with_card: bool,
) {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let db = db.clone();
            let new = issuance(member, key(asp, unique()), unique(), with_card);
            tokio::spawn(async move { db.record_issuance(&new).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

pub async fn many_tasks_with_distinct_keys_record_every_issuance(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;

    record_concurrently(&test.db, &asp_id, member, 200, true).await;

    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(200, 200, 200)
    );
}

pub async fn two_instances_sharing_one_database_record_one_issuance_per_key(backend: Backend) {
    let first = open(&backend);
    // On SQLite only one process serves a file: the second writes beside it, as an admin
    // command does, each write its own transaction.
    let second = match backend {
        Backend::Sqlite => Database::open_beside(&first.config).unwrap(),
        Backend::Postgres(_) => Database::open(&first.config).unwrap(),
    };
    let (asp_id, member) = member_and_product(&first.db).await;
    let key = key(&asp_id, unique());

    let tasks: Vec<_> = (0..16)
        .map(|index| {
            let db = if index % 2 == 0 {
                first.db.clone()
            } else {
                second.clone()
            };
            let new = issuance(member, key.clone(), unique(), true);
            tokio::spawn(async move { db.record_issuance(&new).await.is_ok() })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        recorded += usize::from(task.await.unwrap());
    }

    assert_eq!(recorded, 1);
    assert_eq!(
        first.db.count_issued_to(member).await.unwrap(),
        counts(1, 1, 1)
    );
}

pub async fn secrets_sealed_with_an_old_key_are_sealed_again_with_the_current_one(
    backend: Backend,
) {
    // Resealing reads every access key of the database: the PostgreSQL one is shared with
    // other runs and test binaries, whose secrets this test vault cannot open.
    let Backend::Sqlite = backend else {
        return;
    };
    let test = open(&backend);
    let asp_id = AspId::parse(&asp()).unwrap();
    let access_key = AccessKey::parse(&alnum(unique(), 40)).unwrap();
    let secret = SecretKey::parse(&alnum(unique(), 40)).unwrap();
    let project = Project {
        asp_id: asp_id.clone(),
        access_keys: vec![ProjectAccessKey {
            access_key,
            secret_key: secret.clone(),
            state: AccessKeyState::Active,
        }],
        crypto_keys: vec![],
        plaintext_allowed: false,
    };
    test.db
        .save_project(project, Arc::new(XorVault(1)), Timestamp::from_millis(NOW))
        .await
        .unwrap();

    let resealed = test.db.reseal_secrets(Arc::new(XorVault(2))).await.unwrap();
    assert!(resealed >= 1, "its secret was sealed under generation 1");
    assert_eq!(
        test.db.reseal_secrets(Arc::new(XorVault(2))).await.unwrap(),
        0,
        "nothing left to seal again"
    );
    let found = test
        .db
        .projects(Arc::new(XorVault(2)))
        .find(&asp_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.access_keys[0].secret_key, secret);
}
