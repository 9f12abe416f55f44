use std::sync::atomic::{AtomicUsize, Ordering};

use prepaid_domain::{
    ApplicationType, AspId, Bin, CardApplication, CardId, CardProduct, CorrelationId,
    DeliveryHistory, IssuedCard, Member, MemberStatus, ProductName, ProductType, ServiceId,
    Timestamp, Validity,
};

use super::*;
use crate::ports::{
    IdempotencyRecord, MockCardApplicationStore, MockCardSecrets, MockCardStore,
    MockCardVerification, MockClock, MockDeliveryStore, MockMemberDirectory, MockProductCatalogue,
    PanBinding, PanFingerprint, ProtectedPan,
};

/// 2026-11-30 12:00 KST.
const NOW: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const PHYSICAL_PAN: &str = "9435120001234568";
const MOBILE_PAN: &str = "9435120009876543";
const CVC: &str = "123";
const SERVICE: &str = "000170000004000";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn member() -> MemberId {
    MemberId::new(1001).unwrap()
}

fn number() -> CardApplyNo {
    CardApplyNo::parse("2611300300000000000001").unwrap()
}

fn physical_id() -> CardId {
    CardId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

fn mobile_id() -> CardId {
    CardId::parse("fedcba9876543210fedcba9876543210").unwrap()
}

fn mobile_par() -> Par {
    Par::parse("Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap()
}

fn command() -> RegisterPhysicalCardCommand {
    RegisterPhysicalCardCommand {
        key: IdempotencyKey {
            asp_id: asp(),
            correlation_id: CorrelationId::parse("261130120000-00000a1").unwrap(),
        },
        member: member(),
        application: None,
        pan: Pan::parse(PHYSICAL_PAN).unwrap(),
        expiry: Expiry::parse("3111").unwrap(),
        cvc: Cvc::parse(CVC).unwrap(),
    }
}

fn fingerprint_of(canonical: &str) -> RequestFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest.iter_mut().zip(canonical.bytes().rev()) {
        *byte = from;
    }
    RequestFingerprint {
        key_id: "idx-1".to_owned(),
        digest,
    }
}

fn record(operation: &str, canonical: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        operation: operation.to_owned(),
        request_fingerprint: fingerprint_of(canonical),
        outcome: mobile_par().as_str().to_owned(),
        created_at: NOW,
    }
}

fn card_record(
    id: CardId,
    par: Par,
    kind: CardKind,
    status: CardStatus,
    owner: MemberId,
) -> CardRecord {
    CardRecord {
        card: IssuedCard {
            id,
            par,
            owner,
            linked_to: None,
            expiry: Expiry::parse("3111").unwrap(),
            kind,
            status,
        },
        application: number(),
        protected_pan: ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: vec![1, 2, 3],
        },
        pan_bound_to_id: true,
        pan_fingerprint: PanFingerprint {
            key_id: "idx-1".to_owned(),
            digest: [9; 32],
        },
        cvk_id: "cvk-1".to_owned(),
        wrong_attempts: 0,
        version: 3,
    }
}

/// The member's physical card as stored: owner, status, wrong attempts.
#[derive(Clone, Copy)]
struct Physical {
    owner: u64,
    status: CardStatus,
    wrong_attempts: u8,
}

/// What the stores hold and answer.
struct World {
    member: Option<MemberStatus>,
    application_owner: u64,
    application: ApplicationStatus,
    physical: Option<Physical>,
    delivery: DeliveryHistory,
    mobile: Option<CardStatus>,
    records: Vec<Option<IdempotencyRecord>>,
    applies: Vec<Result<(), ChangeError>>,
    /// For a renewal's card, the member's cards, the first one the card renewed.
    renewed: Vec<CardRecord>,
    /// What the application replacing the first of `renewed` is (a renewal unless told).
    replacement: ApplicationType,
}

fn shipped() -> DeliveryHistory {
    let mut history = DeliveryHistory::start(NOW.plus_millis(-4_000));
    for (status, at) in [
        (DeliveryStatus::Receipt, -3_000),
        (DeliveryStatus::PreShipping, -2_000),
        (DeliveryStatus::Shipping, -1_000),
    ] {
        history = history.advance(status, NOW.plus_millis(at)).unwrap();
    }
    history
}

impl World {
    /// Member 1001's pre-issued application, physically issued and shipped, its physical card
    /// waiting with no wrong attempt, its mobile card active; nothing under the key; every
    /// change applied.
    fn shipped() -> Self {
        Self {
            member: Some(MemberStatus::Active),
            application_owner: 1001,
            application: ApplicationStatus::PhysicalIssued,
            physical: Some(Physical {
                owner: 1001,
                status: CardStatus::Inactive,
                wrong_attempts: 0,
            }),
            delivery: shipped(),
            mobile: Some(CardStatus::Active),
            records: vec![None],
            applies: vec![Ok(())],
            renewed: vec![],
            replacement: ApplicationType::Renewal,
        }
    }
}

/// What a run did.
struct Run {
    result: Result<RegistrationOutcome, RegistrationError>,
    applied: Vec<LifecycleChange>,
    card_reads: usize,
}

fn mint() -> CardMint {
    crate::mint::test_mint()
}

#[expect(
    clippy::too_many_lines,
    reason = "one mock per port, each answering from the world"
)]
async fn register(world: World, command: RegisterPhysicalCardCommand) -> Run {
    let mut members = MockMemberDirectory::new();
    let member_status = world.member;
    members
        .expect_find()
        .returning(move |_, id| Ok(member_status.map(|status| Member { id, status })));

    let mut applications = MockCardApplicationStore::new();
    let (owner, status) = (world.application_owner, world.application);
    let replaces = world.renewed.first().map(|old| old.card.id.clone());
    let replacement = world.replacement;
    applications
        .expect_application()
        .returning(move |asp_id, asked| {
            assert_eq!(asp_id, &asp());
            Ok((*asked == number()).then(|| StoredApplication {
                application: CardApplication {
                    number: number(),
                    member: MemberId::new(owner).unwrap(),
                    product: ServiceId::parse(SERVICE).unwrap(),
                    application_type: if replaces.is_some() {
                        replacement
                    } else {
                        ApplicationType::Issue
                    },
                    status,
                    purpose: None,
                    created_at: NOW.plus_millis(-10_000),
                },
                replaces: replaces.clone(),
                version: 4,
            }))
        });

    let mut deliveries = MockDeliveryStore::new();
    let history = world.delivery.clone();
    deliveries.expect_delivery().returning(move |_, _| {
        Ok(Some(StoredDelivery {
            application: number(),
            address: None,
            version: 7,
            history: history.clone(),
        }))
    });

    let reads = Arc::new(AtomicUsize::new(0));
    let mut cards = MockCardStore::new();
    let (physical, counted) = (world.physical, reads.clone());
    cards
        .expect_card_by_fingerprint()
        .returning(move |asp_id, fingerprint| {
            counted.fetch_add(1, Ordering::SeqCst);
            assert_eq!(asp_id, &asp());
            assert_eq!(fingerprint.digest, [4; 32]);
            Ok(physical.map(|physical| CardRecord {
                wrong_attempts: physical.wrong_attempts,
                ..card_record(
                    physical_id(),
                    Par::parse("P1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap(),
                    CardKind::Physical,
                    physical.status,
                    MemberId::new(physical.owner).unwrap(),
                )
            }))
        });
    let renewed = world.renewed.clone();
    cards
        .expect_cards_of_member()
        .returning(move |_, _| Ok(renewed.clone()));
    let mobile = world.mobile;
    let physical = world.physical;
    cards.expect_cards_of_application().returning(move |_, _| {
        let mut found: Vec<CardRecord> = mobile
            .map(|status| {
                card_record(
                    mobile_id(),
                    mobile_par(),
                    CardKind::Mobile,
                    status,
                    member(),
                )
            })
            .into_iter()
            .collect();
        found.extend(physical.map(|physical| {
            card_record(
                physical_id(),
                Par::parse("P1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap(),
                CardKind::Physical,
                physical.status,
                member(),
            )
        }));
        Ok(found)
    });
    cards.expect_card_by_par().returning(move |_, par| {
        assert_eq!(par, &mobile_par());
        Ok(Some(card_record(
            mobile_id(),
            mobile_par(),
            CardKind::Mobile,
            CardStatus::Active,
            member(),
        )))
    });

    let mut products = MockProductCatalogue::new();
    products.expect_find().returning(|id| {
        Ok(Some(CardProduct {
            id: id.clone(),
            name: ProductName::parse("Normal card").unwrap(),
            bin: Bin::parse("943512").unwrap(),
            product_type: ProductType::Normal,
            pre_issuance: false,
            giftable: false,
            validity: Validity::DEFAULT,
            active: true,
        }))
    });

    let (changes, applied) = crate::test_support::scripted_changes(world.applies);

    let idempotency = crate::test_support::scripted_records(world.records);

    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_request_fingerprint()
        .returning(fingerprint_of);
    secrets
        .expect_request_fingerprint_with()
        .returning(|_, canonical| Some(fingerprint_of(canonical)));
    secrets.expect_fingerprint().returning(|pan| {
        assert_eq!(pan.expose(), PHYSICAL_PAN);
        PanFingerprint {
            key_id: "idx-1".to_owned(),
            digest: [4; 32],
        }
    });
    secrets.expect_reveal().returning(|_, binding| {
        assert!(matches!(binding, PanBinding::Card(id) if *id == mobile_id()));
        Ok(Pan::parse(MOBILE_PAN).unwrap())
    });

    let mut verification = MockCardVerification::new();
    verification
        .expect_derive()
        .returning(|key_id, pan, expiry| {
            assert_eq!(
                (key_id, pan.expose(), expiry.to_yymm().as_str()),
                ("cvk-1", PHYSICAL_PAN, "3111")
            );
            Ok(Cvc::parse(CVC).unwrap())
        });

    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);

    let service = RegistrationService::new(
        RegistrationPorts {
            members: Arc::new(members),
            applications: Arc::new(applications),
            deliveries: Arc::new(deliveries),
            cards: Arc::new(cards),
            products: Arc::new(products),
            changes: Arc::new(changes),
            idempotency: Arc::new(idempotency),
            secrets: Arc::new(secrets),
            verification: Arc::new(verification),
            clock: Arc::new(clock),
        },
        mint(),
    );
    let result = service.register(&command).await;
    let applied = applied.lock().unwrap().clone();
    Run {
        result,
        applied,
        card_reads: reads.load(Ordering::SeqCst),
    }
}

fn code(run: &Run) -> &'static str {
    run.result.as_ref().unwrap_err().code().code()
}

/// The physical card's change in the one change applied.
fn card_change(run: &Run) -> &VersionedChange<CardId, CardChange> {
    let [change] = run.applied.as_slice() else {
        panic!("one change: {:?}", run.applied);
    };
    let Some(card) = change.cards.iter().find(|card| card.key == physical_id()) else {
        panic!("no physical card change: {change:?}");
    };
    card
}

#[tokio::test]
async fn a_proven_shipped_card_is_activated_linked_to_its_mobile_card_and_completes_its_application()
 {
    let run = register(World::shipped(), command()).await;

    let outcome = run.result.unwrap();
    assert_eq!(outcome.mobile_card.expose(), MOBILE_PAN);
    assert_eq!(outcome.par, mobile_par());
    assert!(!outcome.replayed);
    let [change] = run.applied.as_slice() else {
        panic!("one change");
    };
    assert_eq!(
        change.cards,
        [
            VersionedChange {
                key: physical_id(),
                from_version: 3,
                status: CardChange {
                    status: CardStatus::Active,
                    wrong_attempts: 0,
                    linked_to: Some(mobile_id()),
                },
            },
            VersionedChange {
                key: mobile_id(),
                from_version: 3,
                status: CardChange {
                    status: CardStatus::Active,
                    wrong_attempts: 0,
                    linked_to: None,
                },
            }
        ],
        "the mobile card as it is, so that a discard meanwhile makes the change stale"
    );
    assert_eq!(
        change.applications,
        [VersionedChange {
            key: number(),
            from_version: 4,
            status: ApplicationStatus::Completed,
        }]
    );
    assert_eq!(
        change.deliveries,
        [VersionedChange {
            key: number(),
            from_version: 7,
            status: DeliveryStatus::Arrival,
        }]
    );
    assert!(change.new_cards.is_empty());
    let claim = change.claim.as_ref().unwrap();
    assert_eq!(claim.key, command().key);
    assert_eq!(claim.operation, IdempotentOperation::RegisterPhysicalCard);
    assert_eq!(claim.outcome, mobile_par().as_str());
    assert_eq!(change.at, NOW);
}

#[tokio::test]
async fn a_card_delivered_already_completes_without_moving_its_delivery() {
    let delivered = shipped()
        .advance(DeliveryStatus::Arrival, NOW.plus_millis(-500))
        .unwrap();
    let run = register(
        World {
            delivery: delivered,
            ..World::shipped()
        },
        command(),
    )
    .await;
    assert!(run.result.is_ok());
    assert!(run.applied[0].deliveries.is_empty());
}

#[tokio::test]
async fn registering_a_renewals_card_terminates_the_renewed_card_and_its_linked_card() {
    let old = |id: &str, par: &str, kind, status| CardRecord {
        version: 9,
        ..card_record(
            CardId::parse(id).unwrap(),
            Par::parse(par).unwrap(),
            kind,
            status,
            member(),
        )
    };
    let old_mobile = old(
        "11111111111111111111111111111111",
        "R1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
        CardKind::Mobile,
        CardStatus::Active,
    );
    let mut old_physical = old(
        "22222222222222222222222222222222",
        "S1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
        CardKind::Physical,
        CardStatus::Suspended,
    );
    old_physical.card.linked_to = Some(old_mobile.card.id.clone());
    let mut unrelated = old(
        "33333333333333333333333333333333",
        "T1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
        CardKind::Mobile,
        CardStatus::Active,
    );
    unrelated.version = 1;
    let run = register(
        World {
            mobile: None,
            renewed: vec![old_mobile.clone(), unrelated, old_physical.clone()],
            ..World::shipped()
        },
        command(),
    )
    .await;

    run.result.unwrap();
    let [change] = run.applied.as_slice() else {
        panic!("one change");
    };
    let ended: Vec<_> = change
        .cards
        .iter()
        .skip(1)
        .map(|card| (card.key.clone(), card.from_version, card.status.clone()))
        .collect();
    assert_eq!(
        ended,
        [
            (
                old_mobile.card.id.clone(),
                9,
                old_mobile.as_is().with_status(CardStatus::Terminated)
            ),
            (
                old_physical.card.id.clone(),
                9,
                old_physical.as_is().with_status(CardStatus::Terminated)
            ),
        ]
    );
}

#[tokio::test]
async fn registering_a_reissues_card_leaves_the_replaced_cards_as_the_reissue_left_them() {
    let replaced = CardRecord {
        version: 9,
        ..card_record(
            CardId::parse("11111111111111111111111111111111").unwrap(),
            Par::parse("R1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap(),
            CardKind::Mobile,
            CardStatus::Terminated,
            member(),
        )
    };
    let run = register(
        World {
            mobile: None,
            renewed: vec![replaced],
            replacement: ApplicationType::Reissue,
            ..World::shipped()
        },
        command(),
    )
    .await;
    run.result.unwrap();
    let [change] = run.applied.as_slice() else {
        panic!("one change");
    };
    assert_eq!(
        change.cards.len(),
        1,
        "the registered card only: {change:?}"
    );
}

#[tokio::test]
async fn a_card_of_an_application_without_mobile_card_gets_a_new_one_linked() {
    let run = register(
        World {
            mobile: None,
            ..World::shipped()
        },
        command(),
    )
    .await;

    let outcome = run.result.unwrap();
    let [change] = run.applied.as_slice() else {
        panic!("one change");
    };
    let [new] = change.new_cards.as_slice() else {
        panic!("one new card: {change:?}");
    };
    assert_eq!(new.application, number());
    assert_eq!(new.card.card.kind, CardKind::Mobile);
    assert_eq!(new.card.card.status, CardStatus::Active);
    assert_eq!(new.card.card.owner, member());
    assert_eq!(outcome.par, new.card.card.par);
    assert!(outcome.mobile_card.expose().starts_with("943512"));
    assert_eq!(
        change.cards[0].status.linked_to.as_ref(),
        Some(&new.card.card.id)
    );
}

#[tokio::test]
async fn a_wrong_cvc_or_expiry_on_the_members_card_is_counted_before_it_is_answered() {
    for wrong in [
        RegisterPhysicalCardCommand {
            cvc: Cvc::parse("124").unwrap(),
            ..command()
        },
        RegisterPhysicalCardCommand {
            expiry: Expiry::parse("3112").unwrap(),
            ..command()
        },
    ] {
        let run = register(World::shipped(), wrong).await;
        assert_eq!(code(&run), "003_001");
        let change = card_change(&run);
        assert_eq!(change.from_version, 3);
        assert_eq!(change.status.wrong_attempts, 1);
        assert_eq!(change.status.status, CardStatus::Inactive);
        assert!(run.applied[0].claim.is_none(), "a refusal claims no key");
        assert!(run.applied[0].applications.is_empty());
    }
}

#[tokio::test]
async fn the_fifth_wrong_attempt_locks_the_card_and_a_locked_card_is_never_evaluated_again() {
    let wrong = RegisterPhysicalCardCommand {
        cvc: Cvc::parse("000").unwrap(),
        ..command()
    };
    let run = register(
        World {
            physical: Some(Physical {
                owner: 1001,
                status: CardStatus::Inactive,
                wrong_attempts: 4,
            }),
            ..World::shipped()
        },
        wrong,
    )
    .await;
    assert_eq!(code(&run), "003_001");
    assert_eq!(
        card_change(&run).status,
        CardChange {
            status: CardStatus::Suspended,
            wrong_attempts: 5,
            linked_to: None,
        }
    );

    // Locked: even the right CVC is refused, and nothing is counted.
    let run = register(
        World {
            physical: Some(Physical {
                owner: 1001,
                status: CardStatus::Suspended,
                wrong_attempts: 5,
            }),
            ..World::shipped()
        },
        command(),
    )
    .await;
    assert_eq!(code(&run), "003_001");
    assert!(run.applied.is_empty());
}

#[tokio::test]
async fn concurrent_wrong_attempts_are_each_counted_from_what_is_there_when_they_commit() {
    let wrong = RegisterPhysicalCardCommand {
        cvc: Cvc::parse("000").unwrap(),
        ..command()
    };
    let run = register(
        World {
            applies: vec![Err(ChangeError::Stale), Ok(())],
            ..World::shipped()
        },
        wrong,
    )
    .await;
    assert_eq!(code(&run), "003_001");
    assert_eq!(
        run.card_reads, 2,
        "read again after another writer moved it"
    );
    assert_eq!(run.applied.len(), 1);
}

#[tokio::test]
async fn another_members_card_or_an_unknown_number_is_invalid_and_counts_nothing() {
    for physical in [
        None,
        Some(Physical {
            owner: 1002,
            status: CardStatus::Inactive,
            wrong_attempts: 0,
        }),
    ] {
        let wrong = RegisterPhysicalCardCommand {
            cvc: Cvc::parse("000").unwrap(),
            ..command()
        };
        let run = register(
            World {
                physical,
                ..World::shipped()
            },
            wrong,
        )
        .await;
        assert_eq!(code(&run), "003_001");
        assert!(run.applied.is_empty());
    }
}

#[tokio::test]
async fn the_member_is_checked_before_anything_about_the_card() {
    for member in [None, Some(MemberStatus::Cancelled)] {
        let run = register(
            World {
                member,
                ..World::shipped()
            },
            command(),
        )
        .await;
        assert_eq!(code(&run), "001_006");
        assert_eq!(run.card_reads, 0);
        assert!(run.applied.is_empty());
    }
}

#[tokio::test]
async fn a_named_application_the_member_does_not_have_is_not_found() {
    for (named, owner) in [
        (CardApplyNo::parse("2611300300000000000009").unwrap(), 1001),
        (number(), 1002),
    ] {
        let run = register(
            World {
                application_owner: owner,
                ..World::shipped()
            },
            RegisterPhysicalCardCommand {
                application: Some(named),
                ..command()
            },
        )
        .await;
        assert_eq!(code(&run), "003_013");
        assert!(run.applied.is_empty());
    }
    let run = register(
        World::shipped(),
        RegisterPhysicalCardCommand {
            application: Some(number()),
            ..command()
        },
    )
    .await;
    assert!(run.result.is_ok(), "its own application named");
}

#[tokio::test]
async fn a_proven_card_not_shipped_or_with_a_terminated_mobile_card_is_refused_unchanged() {
    let received = DeliveryHistory::start(NOW.plus_millis(-4_000))
        .advance(DeliveryStatus::Receipt, NOW.plus_millis(-3_000))
        .unwrap()
        .advance(DeliveryStatus::PreShipping, NOW.plus_millis(-2_000))
        .unwrap();
    let run = register(
        World {
            delivery: received,
            ..World::shipped()
        },
        command(),
    )
    .await;
    assert_eq!(code(&run), "003_012");
    assert!(run.applied.is_empty());

    let run = register(
        World {
            mobile: Some(CardStatus::Terminated),
            ..World::shipped()
        },
        command(),
    )
    .await;
    assert_eq!(code(&run), "003_014");
    assert!(run.applied.is_empty());
}

#[tokio::test]
async fn a_retry_answers_the_first_outcome_and_another_payload_under_the_key_is_a_conflict() {
    let canonical = command().canonical_form();
    let run = register(
        World {
            records: vec![Some(record("REGISTER_PHYSICAL_CARD", &canonical))],
            ..World::shipped()
        },
        command(),
    )
    .await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert_eq!(outcome.mobile_card.expose(), MOBILE_PAN);
    assert_eq!(outcome.par, mobile_par());
    assert!(run.applied.is_empty());
    assert_eq!(run.card_reads, 0);

    let guessed = RegisterPhysicalCardCommand {
        cvc: Cvc::parse("124").unwrap(),
        ..command()
    };
    for other in [
        record("REGISTER_PHYSICAL_CARD", &guessed.canonical_form()),
        record("CANCEL_APPLICATION", &canonical),
    ] {
        let run = register(
            World {
                records: vec![Some(other)],
                ..World::shipped()
            },
            command(),
        )
        .await;
        assert_eq!(code(&run), "000_094");
    }
}

#[tokio::test]
async fn a_concurrent_request_with_the_same_key_that_commits_first_is_answered_as_it_was() {
    let canonical = command().canonical_form();
    let first = Some(record("REGISTER_PHYSICAL_CARD", &canonical));
    let run = register(
        World {
            records: vec![None, first],
            applies: vec![Err(ChangeError::KeyTaken)],
            ..World::shipped()
        },
        command(),
    )
    .await;
    assert!(run.result.unwrap().replayed);
}

#[tokio::test]
async fn a_card_registered_meanwhile_by_the_same_key_answers_its_outcome_not_a_refusal() {
    let canonical = command().canonical_form();
    let first = Some(record("REGISTER_PHYSICAL_CARD", &canonical));
    let run = register(
        World {
            physical: Some(Physical {
                owner: 1001,
                status: CardStatus::Active,
                wrong_attempts: 0,
            }),
            records: vec![None, first],
            ..World::shipped()
        },
        command(),
    )
    .await;
    assert!(run.result.unwrap().replayed);
}

#[test]
fn a_retry_must_repeat_every_field() {
    assert_eq!(
        command().canonical_form(),
        "1001||9435120001234568|3111|123"
    );
    let named = RegisterPhysicalCardCommand {
        application: Some(number()),
        ..command()
    };
    assert_eq!(
        named.canonical_form(),
        "1001|2611300300000000000001|9435120001234568|3111|123"
    );
}

#[test]
fn cvcs_are_the_same_only_when_every_digit_is() {
    let cvc = |text| Cvc::parse(text).unwrap();
    assert!(same_cvc(&cvc("123"), &cvc("123")));
    for other in ["023", "103", "120", "321"] {
        assert!(!same_cvc(&cvc("123"), &cvc(other)), "{other}");
    }
}
