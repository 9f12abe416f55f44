use std::sync::atomic::{AtomicUsize, Ordering};

use prepaid_domain::{
    ApplicationType, CardApplication, CardId, DeliveryHistory, Expiry, IssuedCard, Member,
    ServiceId, Timestamp,
};

use super::*;
use crate::ports::{
    CardChange, IdempotencyRecord, MockCardApplicationStore, MockCardSecrets, MockCardStore,
    MockClock, MockDeliveryStore, MockMemberDirectory, PanFingerprint, ProtectedPan,
    StoredApplication, StoredDelivery,
};

/// 2026-11-30 12:00 KST.
const APPLIED: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const HOUR: i64 = 3_600_000;
const PAN: &str = "9435120001234568";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn number() -> CardApplyNo {
    CardApplyNo::parse("2611300300000000000001").unwrap()
}

fn command() -> CancelApplicationCommand {
    CancelApplicationCommand {
        key: IdempotencyKey {
            asp_id: asp(),
            correlation_id: prepaid_domain::CorrelationId::parse("261130120000-00000a1").unwrap(),
        },
        member: MemberId::new(1001).unwrap(),
        application: number(),
    }
}

use crate::test_support::fingerprint_of;

fn card_id() -> CardId {
    CardId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

fn par() -> Par {
    Par::parse("Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap()
}

/// What the stores hold and answer, and what the test then inspects.
struct World {
    member: Option<MemberStatus>,
    owner: Option<u64>,
    status: ApplicationStatus,
    delivery: Option<DeliveryHistory>,
    card: Option<CardStatus>,
    now: Timestamp,
    records: Vec<Option<IdempotencyRecord>>,
    applies: Vec<Result<(), ChangeError>>,
}

impl World {
    /// Member 1001's pre-issued application of today noon, its delivery `READY`, its mobile
    /// card active; one hour later; no record under the key; every change applied.
    fn today() -> Self {
        Self {
            member: Some(MemberStatus::Active),
            owner: Some(1001),
            status: ApplicationStatus::DigitalIssued,
            delivery: Some(DeliveryHistory::start(APPLIED)),
            card: Some(CardStatus::Active),
            now: APPLIED.plus_millis(HOUR),
            records: vec![None],
            applies: vec![Ok(())],
        }
    }
}

/// What a run did.
struct Run {
    result: Result<CancelOutcome, CancelApplicationError>,
    applied: Vec<LifecycleChange>,
    application_reads: usize,
}

#[expect(
    clippy::too_many_lines,
    reason = "one mock per port, each answering from the world"
)]
async fn cancel(world: World) -> Run {
    let mut members = MockMemberDirectory::new();
    let member = world.member;
    members
        .expect_find()
        .returning(move |_, id| Ok(member.map(|status| Member { id, status })));

    let reads = Arc::new(AtomicUsize::new(0));
    let mut applications = MockCardApplicationStore::new();
    let (owner, status, counted) = (world.owner, world.status, reads.clone());
    applications
        .expect_application()
        .returning(move |asp_id, asked| {
            counted.fetch_add(1, Ordering::SeqCst);
            assert_eq!((asp_id, asked), (&asp(), &number()));
            Ok(owner.map(|owner| StoredApplication {
                application: CardApplication {
                    number: number(),
                    member: MemberId::new(owner).unwrap(),
                    product: ServiceId::parse("000170000004000").unwrap(),
                    application_type: ApplicationType::Issue,
                    status,
                    purpose: None,
                    created_at: APPLIED,
                },
                replaces: None,
                version: 4,
            }))
        });

    let mut deliveries = MockDeliveryStore::new();
    let history = world.delivery.clone();
    deliveries.expect_delivery().returning(move |_, _| {
        Ok(history.clone().map(|history| StoredDelivery {
            application: number(),
            address: None,
            version: 7,
            history,
        }))
    });

    let mut cards = MockCardStore::new();
    let card = world.card;
    cards.expect_cards_of_application().returning(move |_, _| {
        Ok(card
            .map(|status| CardRecord {
                card: IssuedCard {
                    id: card_id(),
                    par: par(),
                    owner: MemberId::new(1001).unwrap(),
                    linked_to: None,
                    expiry: Expiry::parse("3111").unwrap(),
                    kind: CardKind::Mobile,
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
                version: 2,
            })
            .into_iter()
            .collect())
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
    secrets.expect_reveal().returning(|protected, binding| {
        assert_eq!(protected.ciphertext, [1, 2, 3]);
        assert!(matches!(binding, crate::ports::PanBinding::Card(id) if *id == card_id()));
        Ok(Pan::parse(PAN).unwrap())
    });

    let mut clock = MockClock::new();
    let now = world.now;
    clock.expect_now().returning(move || now);

    let service = CancelApplicationService::new(CancelPorts {
        members: Arc::new(members),
        applications: Arc::new(applications),
        deliveries: Arc::new(deliveries),
        cards: Arc::new(cards),
        changes: Arc::new(changes),
        idempotency: Arc::new(idempotency),
        secrets: Arc::new(secrets),
        clock: Arc::new(clock),
    });
    let result = service.cancel(&command()).await;
    let applied = applied.lock().unwrap().clone();
    Run {
        result,
        applied,
        application_reads: reads.load(Ordering::SeqCst),
    }
}

fn discarded() -> DiscardedCard {
    DiscardedCard {
        pan: Pan::parse(PAN).unwrap(),
        par: par(),
    }
}

fn record(operation: &str, canonical: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        operation: operation.to_owned(),
        request_fingerprint: fingerprint_of(canonical),
        outcome: number().as_str().to_owned(),
        created_at: APPLIED,
    }
}

#[tokio::test]
async fn a_cancel_on_the_day_cancels_the_application_and_its_delivery_and_discards_its_mobile_card()
{
    let run = cancel(World::today()).await;

    let outcome = run.result.unwrap();
    assert_eq!(outcome.discarded, Some(discarded()));
    assert!(!outcome.replayed);
    let [change] = run.applied.as_slice() else {
        panic!("one change: {:?}", run.applied);
    };
    assert_eq!(change.asp_id, asp());
    assert_eq!(change.at, APPLIED.plus_millis(HOUR));
    assert_eq!(
        change.applications,
        [VersionedChange {
            key: number(),
            from_version: 4,
            status: ApplicationStatus::Cancelled
        }]
    );
    assert_eq!(
        change.deliveries,
        [VersionedChange {
            key: number(),
            from_version: 7,
            status: DeliveryStatus::Cancel
        }]
    );
    assert_eq!(
        change.cards,
        [VersionedChange {
            key: card_id(),
            from_version: 2,
            status: CardChange {
                status: CardStatus::Terminated,
                wrong_attempts: 0,
                linked_to: None,
            }
        }]
    );
    let claim = change.claim.as_ref().unwrap();
    assert_eq!(claim.key, command().key);
    assert_eq!(claim.operation, IdempotentOperation::CancelApplication);
    assert_eq!(claim.outcome, number().as_str());
    assert_eq!(claim.created_at, change.at);
    assert_eq!(
        claim.request_fingerprint,
        fingerprint_of("1001|2611300300000000000001")
    );
}

#[tokio::test]
async fn an_application_without_a_mobile_card_or_a_delivery_changes_only_what_it_has() {
    let mut world = World::today();
    world.status = ApplicationStatus::Ready;
    world.card = None;
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap().discarded, None);
    assert!(run.applied[0].cards.is_empty());
    assert_eq!(run.applied[0].deliveries.len(), 1);

    let mut world = World::today();
    world.delivery = None;
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap().discarded, Some(discarded()));
    assert!(run.applied[0].deliveries.is_empty());
    assert_eq!(run.applied[0].cards.len(), 1);
}

#[tokio::test]
async fn a_mobile_card_already_terminated_is_answered_but_not_changed_again() {
    let mut world = World::today();
    world.card = Some(CardStatus::Terminated);
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap().discarded, Some(discarded()));
    assert!(run.applied[0].cards.is_empty());
}

#[tokio::test]
async fn a_non_member_or_a_cancelled_member_is_refused_before_any_application_is_read() {
    for member in [None, Some(MemberStatus::Cancelled)] {
        let mut world = World::today();
        world.member = member;
        let run = cancel(world).await;
        let refused = run.result.unwrap_err();
        assert!(
            matches!(refused, CancelApplicationError::NotAMember),
            "{member:?}"
        );
        assert_eq!(refused.code().code(), "001_006");
        assert_eq!(run.application_reads, 0);
        assert!(run.applied.is_empty());
    }
}

#[tokio::test]
async fn another_members_or_an_unknown_application_is_not_found_and_nothing_changes() {
    for owner in [Some(1002), None] {
        let mut world = World::today();
        world.owner = owner;
        let run = cancel(world).await;
        let refused = run.result.unwrap_err();
        assert!(
            matches!(refused, CancelApplicationError::NotFound),
            "{owner:?}"
        );
        assert_eq!(refused.code().code(), "003_013");
        assert!(run.applied.is_empty());
    }
}

#[tokio::test]
async fn the_next_day_in_kst_or_a_delivery_being_prepared_is_refused_and_nothing_changes() {
    let mut world = World::today();
    // 12:00 KST plus 12 hours is midnight, the next day.
    world.now = APPLIED.plus_millis(12 * HOUR);
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap_err().code().code(), "003_002");
    assert!(run.applied.is_empty());

    let mut world = World::today();
    world.delivery = DeliveryHistory::start(APPLIED)
        .advance(DeliveryStatus::Receipt, APPLIED)
        .and_then(|history| history.advance(DeliveryStatus::PreShipping, APPLIED))
        .ok();
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap_err().code().code(), "003_003");
    assert!(run.applied.is_empty());

    let mut world = World::today();
    world.status = ApplicationStatus::Cancelled;
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap_err().code().code(), "003_003");
}

#[tokio::test]
async fn a_change_dated_by_a_slower_clock_than_the_last_delivery_steps_is_dated_at_that_step() {
    let mut world = World::today();
    let received = APPLIED.plus_millis(2 * HOUR);
    world.delivery = DeliveryHistory::start(APPLIED)
        .advance(DeliveryStatus::Receipt, received)
        .ok();
    let run = cancel(world).await;
    run.result.unwrap();
    assert_eq!(run.applied[0].at, received);
}

#[tokio::test]
async fn when_another_writer_moved_the_application_the_cancel_reads_and_decides_again() {
    let mut world = World::today();
    world.applies = vec![Err(ChangeError::Stale), Ok(())];
    let run = cancel(world).await;
    assert_eq!(run.result.unwrap().discarded, Some(discarded()));
    assert_eq!(run.application_reads, 2);
    assert_eq!(run.applied.len(), 1);
}

#[tokio::test]
async fn an_application_that_keeps_changing_is_a_system_error_after_a_few_reads() {
    let mut world = World::today();
    world.applies = vec![];
    let run = cancel(world).await;
    assert!(matches!(
        run.result,
        Err(CancelApplicationError::Unavailable(_))
    ));
    assert_eq!(run.application_reads, MOST_READS);
}

#[tokio::test]
async fn a_retry_answers_the_first_outcome_and_changes_nothing() {
    let mut world = World::today();
    world.card = Some(CardStatus::Terminated);
    world.records = vec![Some(record(
        "CANCEL_APPLICATION",
        "1001|2611300300000000000001",
    ))];
    let run = cancel(world).await;
    let outcome = run.result.unwrap();
    assert_eq!(outcome.discarded, Some(discarded()));
    assert!(outcome.replayed);
    assert!(run.applied.is_empty());
    assert_eq!(run.application_reads, 0);
}

#[tokio::test]
async fn a_key_used_with_another_request_or_operation_is_a_conflict() {
    for record in [
        Some(record("CANCEL_APPLICATION", "1002|2611300300000000000001")),
        Some(record("ISSUE_AND_DELIVER", "1001|2611300300000000000001")),
    ] {
        let mut world = World::today();
        world.records = vec![record];
        let run = cancel(world).await;
        let refused = run.result.unwrap_err();
        assert!(matches!(
            refused,
            CancelApplicationError::CorrelationConflict
        ));
        assert_eq!(refused.code().code(), "000_094");
        assert!(run.applied.is_empty());
    }
}

#[tokio::test]
async fn when_a_concurrent_request_with_the_key_commits_first_its_outcome_is_answered() {
    let mut world = World::today();
    world.applies = vec![Err(ChangeError::KeyTaken)];
    world.records = vec![
        None,
        Some(record("CANCEL_APPLICATION", "1001|2611300300000000000001")),
    ];
    let run = cancel(world).await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert_eq!(outcome.discarded, Some(discarded()));
}

#[tokio::test]
async fn when_a_request_with_the_key_moved_the_application_first_its_outcome_is_answered() {
    let mut world = World::today();
    world.applies = vec![Err(ChangeError::Stale)];
    world.records = vec![
        None,
        Some(record("CANCEL_APPLICATION", "1001|2611300300000000000001")),
    ];
    let run = cancel(world).await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert_eq!(run.application_reads, 1);
}

#[tokio::test]
async fn when_a_request_with_the_key_cancelled_it_before_it_was_read_its_outcome_is_answered() {
    let mut world = World::today();
    world.status = ApplicationStatus::Cancelled;
    world.records = vec![
        None,
        Some(record("CANCEL_APPLICATION", "1001|2611300300000000000001")),
    ];
    let run = cancel(world).await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert!(run.applied.is_empty());
}

#[tokio::test]
async fn a_store_that_fails_is_a_system_error_and_changes_nothing() {
    let mut world = World::today();
    world.applies = vec![Err(ChangeError::Unavailable(PortError::msg("down")))];
    let run = cancel(world).await;
    let refused = run.result.unwrap_err();
    assert!(matches!(refused, CancelApplicationError::Unavailable(_)));
    assert_eq!(refused.code().code(), "000_099");
    assert!(run.applied.is_empty());
}
