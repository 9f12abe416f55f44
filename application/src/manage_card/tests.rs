use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use prepaid_domain::{
    CardApplication, CardApplyNo, CorrelationId, Expiry, IssuedCard, MOST_WRONG_REGISTRATIONS,
    Member, MemberStatus, Timestamp,
};

use super::*;
use crate::ports::{
    IdempotencyRecord, MockBalances, MockCardApplicationStore, MockCardSecrets, MockCardStore,
    MockClock, MockMemberDirectory, PanFingerprint, ProtectedPan, StoredApplication,
};

const NOW: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const MOBILE_PAR: &str = "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
const PHYSICAL_PAR: &str = "P1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
const MOBILE_PAN: &str = "9435120001234568";
const MEMBER: u64 = 1001;

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn key() -> IdempotencyKey {
    IdempotencyKey {
        asp_id: asp(),
        correlation_id: CorrelationId::parse("261130120000-00000a1").unwrap(),
    }
}

fn mobile_id() -> CardId {
    CardId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

fn physical_id() -> CardId {
    CardId::parse("fedcba9876543210fedcba9876543210").unwrap()
}

use crate::test_support::fingerprint_of;

fn pan_fingerprint(pan: &Pan) -> PanFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest.iter_mut().zip(pan.expose().bytes()) {
        *byte = from;
    }
    PanFingerprint {
        key_id: "idx-1".to_owned(),
        digest,
    }
}

fn stored(id: CardId, par: &str, kind: CardKind, status: CardStatus) -> CardRecord {
    CardRecord {
        card: IssuedCard {
            id,
            par: Par::parse(par).unwrap(),
            owner: MemberId::new(MEMBER).unwrap(),
            linked_to: None,
            expiry: Expiry::parse("3111").unwrap(),
            kind,
            status,
        },
        application: CardApplyNo::parse("2611300300000000000001").unwrap(),
        protected_pan: ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: vec![1, 2, 3],
        },
        pan_bound_to_id: true,
        pan_fingerprint: pan_fingerprint(&Pan::parse(MOBILE_PAN).unwrap()),
        cvk_id: "cvk-1".to_owned(),
        wrong_attempts: 0,
        version: 3,
    }
}

/// What the stores hold and answer.
struct World {
    member: Option<MemberStatus>,
    cards: Vec<CardRecord>,
    balance: u64,
    records: Vec<Option<IdempotencyRecord>>,
    applies: Vec<Result<(), ChangeError>>,
    /// The type of every card's application.
    application_type: ApplicationType,
}

impl World {
    /// Member 1001 with an active mobile card and an active physical card linked to it, no
    /// balance, no record under the key, every change applied.
    fn member_with_both_cards() -> Self {
        let mut physical = stored(
            physical_id(),
            PHYSICAL_PAR,
            CardKind::Physical,
            CardStatus::Active,
        );
        physical.card.linked_to = Some(mobile_id());
        physical.version = 5;
        Self {
            member: Some(MemberStatus::Active),
            cards: vec![
                stored(
                    mobile_id(),
                    MOBILE_PAR,
                    CardKind::Mobile,
                    CardStatus::Active,
                ),
                physical,
            ],
            balance: 0,
            records: vec![None],
            applies: vec![Ok(())],
            application_type: ApplicationType::Issue,
        }
    }

    fn mobile(mut self, change: impl FnOnce(&mut CardRecord)) -> Self {
        change(&mut self.cards[0]);
        self
    }
}

/// What a run did.
struct Run {
    result: Result<CardManaged, CardManagementError>,
    applied: Vec<LifecycleChange>,
    card_reads: usize,
}

fn service(
    world: World,
) -> (
    CardManagementService,
    Arc<Mutex<Vec<LifecycleChange>>>,
    Arc<AtomicUsize>,
) {
    let mut members = MockMemberDirectory::new();
    let member = world.member;
    members
        .expect_find()
        .returning(move |_, id| Ok(member.map(|status| Member { id, status })));

    let reads = Arc::new(AtomicUsize::new(0));
    let mut cards = MockCardStore::new();
    let (held, counted) = (world.cards.clone(), reads.clone());
    cards.expect_card_by_par().returning(move |asp_id, par| {
        assert_eq!(asp_id, &asp());
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(held.iter().find(|card| &card.card.par == par).cloned())
    });
    let (held, counted) = (world.cards.clone(), reads.clone());
    cards
        .expect_card_by_fingerprint()
        .returning(move |asp_id, fingerprint| {
            assert_eq!(asp_id, &asp());
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(held
                .iter()
                .find(|card| &card.pan_fingerprint == fingerprint)
                .cloned())
        });
    let held = world.cards.clone();
    cards
        .expect_cards_of_member()
        .returning(move |asp_id, member| {
            assert_eq!(asp_id, &asp());
            Ok(held
                .iter()
                .filter(|card| card.card.owner == member)
                .cloned()
                .collect())
        });

    let mut balances = MockBalances::new();
    let balance = world.balance;
    let held = world.cards.clone();
    balances.expect_balance().returning(move |asp_id, card| {
        assert_eq!(asp_id, &asp());
        assert!(held.iter().any(|stored| &stored.card.id == card));
        Ok(balance)
    });

    let mut applications = MockCardApplicationStore::new();
    let application_type = world.application_type;
    applications
        .expect_application()
        .returning(move |asp_id, number| {
            assert_eq!(asp_id, &asp());
            Ok(Some(StoredApplication {
                application: CardApplication {
                    number: number.clone(),
                    member: MemberId::new(MEMBER).unwrap(),
                    product: prepaid_domain::ServiceId::parse("000170000003000").unwrap(),
                    application_type,
                    status: prepaid_domain::ApplicationStatus::DigitalIssued,
                    purpose: None,
                    created_at: NOW,
                },
                replaces: None,
                version: 0,
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
    secrets.expect_fingerprint().returning(pan_fingerprint);

    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);

    let service = CardManagementService::new(CardManagementPorts {
        members: Arc::new(members),
        cards: Arc::new(cards),
        balances: Arc::new(balances),
        applications: Arc::new(applications),
        changes: Arc::new(changes),
        idempotency: Arc::new(idempotency),
        secrets: Arc::new(secrets),
        clock: Arc::new(clock),
    });
    (service, applied, reads)
}

fn state_command(card: CardRef, request: CardStateRequest) -> ChangeCardStateCommand {
    ChangeCardStateCommand {
        key: key(),
        member: MemberId::new(MEMBER).unwrap(),
        card,
        request,
    }
}

fn by_par(par: &str) -> CardRef {
    CardRef::Par(Par::parse(par).unwrap())
}

async fn change_state(world: World, command: ChangeCardStateCommand) -> Run {
    let (service, applied, reads) = service(world);
    let result = service.change_state(&command).await;
    let applied = applied.lock().unwrap().clone();
    Run {
        result,
        applied,
        card_reads: reads.load(Ordering::SeqCst),
    }
}

async fn discard(world: World, par: &str) -> Run {
    let (service, applied, reads) = service(world);
    let command = DiscardCardCommand {
        key: key(),
        member: MemberId::new(MEMBER).unwrap(),
        par: Par::parse(par).unwrap(),
    };
    let result = service.discard(&command).await;
    let applied = applied.lock().unwrap().clone();
    Run {
        result,
        applied,
        card_reads: reads.load(Ordering::SeqCst),
    }
}

fn record(operation: &str, canonical: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        operation: operation.to_owned(),
        request_fingerprint: fingerprint_of(canonical),
        outcome: MOBILE_PAR.to_owned(),
        created_at: NOW,
    }
}

fn card_change(applied: &[LifecycleChange]) -> Vec<(CardId, u64, CardStatus)> {
    let [change] = applied else {
        panic!("one change: {applied:?}");
    };
    change
        .cards
        .iter()
        .map(|entry| (entry.key.clone(), entry.from_version, entry.status.status))
        .collect()
}

#[tokio::test]
async fn a_loss_report_suspends_the_card_named_by_par_with_the_request_claimed() {
    let run = change_state(
        World::member_with_both_cards(),
        state_command(by_par(MOBILE_PAR), CardStateRequest::Suspend),
    )
    .await;

    assert_eq!(run.result.unwrap(), CardManaged { replayed: false });
    assert_eq!(
        card_change(&run.applied),
        [(mobile_id(), 3, CardStatus::Suspended)],
        "the card named, not the physical card linked to it"
    );
    let change = &run.applied[0];
    assert_eq!((change.asp_id.clone(), change.at), (asp(), NOW));
    assert!(change.applications.is_empty() && change.deliveries.is_empty());
    assert!(change.new_cards.is_empty());
    let claim = change.claim.as_ref().unwrap();
    assert_eq!(claim.key, key());
    assert_eq!(claim.operation, IdempotentOperation::ChangeCardState);
    assert_eq!(claim.outcome, MOBILE_PAR);
    assert_eq!(claim.created_at, NOW);
    assert_eq!(
        claim.request_fingerprint,
        fingerprint_of(&format!("1001|par:{MOBILE_PAR}|SUSPEND"))
    );
}

#[tokio::test]
async fn a_card_named_by_number_is_found_by_its_fingerprint() {
    let world = World::member_with_both_cards().mobile(|card| {
        card.card.status = CardStatus::Suspended;
        card.wrong_attempts = 2;
    });
    let command = state_command(
        CardRef::Number(Pan::parse(MOBILE_PAN).unwrap()),
        CardStateRequest::Resume,
    );
    let run = change_state(world, command).await;

    run.result.unwrap();
    assert_eq!(
        card_change(&run.applied),
        [(mobile_id(), 3, CardStatus::Active)]
    );
    let entry = &run.applied[0].cards[0];
    assert_eq!(
        entry.status.wrong_attempts, 2,
        "the rest of the card as it is"
    );
    assert_eq!(
        run.applied[0].claim.as_ref().unwrap().request_fingerprint,
        fingerprint_of(&format!("1001|no:{MOBILE_PAN}|RESUME"))
    );
}

#[tokio::test]
async fn the_state_a_card_already_has_is_claimed_on_the_card_as_read() {
    let run = change_state(
        World::member_with_both_cards(),
        state_command(by_par(MOBILE_PAR), CardStateRequest::Resume),
    )
    .await;
    run.result.unwrap();
    assert_eq!(
        card_change(&run.applied),
        [(mobile_id(), 3, CardStatus::Active)],
        "written as it is, so that the claim holds only on the card as read"
    );
}

#[tokio::test]
async fn the_refusals_of_the_card_table_change_nothing() {
    for (status, wrong_attempts, request, code) in [
        (
            CardStatus::Terminated,
            0,
            CardStateRequest::Resume,
            "003_022",
        ),
        (
            CardStatus::Suspended,
            MOST_WRONG_REGISTRATIONS,
            CardStateRequest::Resume,
            "003_092",
        ),
        (
            CardStatus::Inactive,
            0,
            CardStateRequest::Suspend,
            "003_093",
        ),
    ] {
        let world = World::member_with_both_cards().mobile(|card| {
            card.card.status = status;
            card.wrong_attempts = wrong_attempts;
        });
        let run = change_state(world, state_command(by_par(MOBILE_PAR), request)).await;
        let refused = run.result.unwrap_err();
        assert_eq!(refused.code().code(), code, "{status:?}");
        assert!(run.applied.is_empty());
    }
}

#[tokio::test]
async fn another_members_card_and_an_unknown_one_answer_as_not_found_by_how_they_were_named() {
    let world = || {
        World::member_with_both_cards().mobile(|card| {
            card.card.owner = MemberId::new(1002).unwrap();
        })
    };
    let run = change_state(
        world(),
        state_command(by_par(MOBILE_PAR), CardStateRequest::Suspend),
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "003_021");
    let run = change_state(
        world(),
        state_command(
            CardRef::Number(Pan::parse(MOBILE_PAN).unwrap()),
            CardStateRequest::Suspend,
        ),
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "003_001");
    let run = change_state(
        World::member_with_both_cards(),
        state_command(
            by_par("ZZZZZZZZZZZZZZZZZZZZZZZZZZZ"),
            CardStateRequest::Suspend,
        ),
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "003_021");
    let run = discard(world(), MOBILE_PAR).await;
    assert_eq!(run.result.unwrap_err().code().code(), "001_047");
    assert!(run.applied.is_empty());
}

#[tokio::test]
async fn a_non_member_is_refused_before_any_card_is_read() {
    for member in [None, Some(MemberStatus::Cancelled)] {
        let mut world = World::member_with_both_cards();
        world.member = member;
        let run = change_state(
            world,
            state_command(by_par(MOBILE_PAR), CardStateRequest::Suspend),
        )
        .await;
        let refused = run.result.unwrap_err();
        assert!(matches!(refused, CardManagementError::NotAMember));
        assert_eq!(refused.code().code(), "001_006");
        assert_eq!(run.card_reads, 0);
    }
}

#[tokio::test]
async fn discarding_a_mobile_card_terminates_it_with_the_physical_cards_linked_to_it() {
    let mut world = World::member_with_both_cards();
    let mut gone = stored(
        CardId::parse("00000000000000000000000000000009").unwrap(),
        "G1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
        CardKind::Physical,
        CardStatus::Terminated,
    );
    gone.card.linked_to = Some(mobile_id());
    let other = stored(
        CardId::parse("00000000000000000000000000000008").unwrap(),
        "H1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
        CardKind::Physical,
        CardStatus::Active,
    );
    world.cards.extend([gone, other]);
    let run = discard(world, MOBILE_PAR).await;

    assert_eq!(run.result.unwrap(), CardManaged { replayed: false });
    assert_eq!(
        card_change(&run.applied),
        [
            (mobile_id(), 3, CardStatus::Terminated),
            (physical_id(), 5, CardStatus::Terminated)
        ],
        "not a card terminated already, nor one linked to no card"
    );
    let claim = run.applied[0].claim.as_ref().unwrap();
    assert_eq!(claim.operation, IdempotentOperation::DiscardCard);
    assert_eq!(
        claim.request_fingerprint,
        fingerprint_of(&format!("1001|{MOBILE_PAR}"))
    );
}

#[tokio::test]
async fn a_linked_physical_card_goes_only_with_its_mobile_card() {
    let run = discard(World::member_with_both_cards(), PHYSICAL_PAR).await;
    assert_eq!(run.result.unwrap_err().code().code(), "001_061");
    assert!(run.applied.is_empty());
}

#[tokio::test]
async fn a_basic_card_is_not_discarded_and_its_state_still_changes() {
    let world = World {
        application_type: ApplicationType::Basic,
        ..World::member_with_both_cards()
    };
    let run = discard(world, MOBILE_PAR).await;
    assert_eq!(run.result.unwrap_err().code().code(), "001_059");
    assert!(run.applied.is_empty());
    let world = World {
        application_type: ApplicationType::Basic,
        ..World::member_with_both_cards()
    };
    let run = change_state(
        world,
        state_command(by_par(MOBILE_PAR), CardStateRequest::Suspend),
    )
    .await;
    assert!(run.result.is_ok(), "a basic card may be reported lost");
}

#[tokio::test]
async fn a_card_with_a_balance_or_already_terminated_is_not_discarded() {
    let mut world = World::member_with_both_cards();
    world.balance = 1;
    let run = discard(world, MOBILE_PAR).await;
    assert_eq!(run.result.unwrap_err().code().code(), "001_052");
    assert!(run.applied.is_empty());

    let world =
        World::member_with_both_cards().mobile(|card| card.card.status = CardStatus::Terminated);
    let run = discard(world, MOBILE_PAR).await;
    assert_eq!(run.result.unwrap_err().code().code(), "001_047");
}

#[tokio::test]
async fn a_retry_answers_the_first_outcome_without_reading_or_changing_a_card() {
    let mut world = World::member_with_both_cards();
    world.records = vec![Some(record("DISCARD_CARD", &format!("1001|{MOBILE_PAR}")))];
    let run = discard(world, MOBILE_PAR).await;
    assert_eq!(run.result.unwrap(), CardManaged { replayed: true });
    assert!(run.applied.is_empty());
    assert_eq!(run.card_reads, 0);
}

#[tokio::test]
async fn a_key_used_with_another_request_or_operation_is_a_conflict() {
    for record in [
        record("DISCARD_CARD", &format!("1001|{PHYSICAL_PAR}")),
        record("CHANGE_CARD_STATE", &format!("1001|{MOBILE_PAR}")),
    ] {
        let mut world = World::member_with_both_cards();
        world.records = vec![Some(record)];
        let run = discard(world, MOBILE_PAR).await;
        let refused = run.result.unwrap_err();
        assert!(matches!(refused, CardManagementError::CorrelationConflict));
        assert_eq!(refused.code().code(), "000_094");
    }
}

#[tokio::test]
async fn a_concurrent_request_with_the_key_that_committed_first_is_answered_as_it_was() {
    for applies in [
        vec![Err(ChangeError::KeyTaken)],
        vec![Err(ChangeError::Stale)],
    ] {
        let mut world = World::member_with_both_cards();
        world.applies = applies;
        world.records = vec![
            None,
            Some(record(
                "CHANGE_CARD_STATE",
                &format!("1001|par:{MOBILE_PAR}|SUSPEND"),
            )),
        ];
        let run = change_state(
            world,
            state_command(by_par(MOBILE_PAR), CardStateRequest::Suspend),
        )
        .await;
        assert_eq!(run.result.unwrap(), CardManaged { replayed: true });
        assert_eq!(run.card_reads, 1);
    }
}

#[tokio::test]
async fn a_refusal_after_a_concurrent_request_with_the_key_changed_the_card_is_its_outcome() {
    let mut world =
        World::member_with_both_cards().mobile(|card| card.card.status = CardStatus::Terminated);
    world.records = vec![
        None,
        Some(record("DISCARD_CARD", &format!("1001|{MOBILE_PAR}"))),
    ];
    let run = discard(world, MOBILE_PAR).await;
    assert_eq!(run.result.unwrap(), CardManaged { replayed: true });
}

#[tokio::test]
async fn a_card_moved_by_another_writer_is_read_again_and_one_that_keeps_moving_fails() {
    let mut world = World::member_with_both_cards();
    world.applies = vec![Err(ChangeError::Stale), Ok(())];
    let run = discard(world, MOBILE_PAR).await;
    run.result.unwrap();
    assert_eq!(run.card_reads, 2);

    let mut world = World::member_with_both_cards();
    world.applies = vec![];
    let run = discard(world, MOBILE_PAR).await;
    assert_eq!(run.result.unwrap_err().code().code(), "000_099");
    assert_eq!(run.card_reads, MOST_READS);
}

#[tokio::test]
async fn a_store_that_fails_is_a_system_error() {
    let mut world = World::member_with_both_cards();
    world.applies = vec![Err(ChangeError::Unavailable(PortError::msg("down")))];
    let run = change_state(
        world,
        state_command(by_par(MOBILE_PAR), CardStateRequest::Suspend),
    )
    .await;
    assert!(matches!(
        run.result,
        Err(CardManagementError::Unavailable(_))
    ));
}
