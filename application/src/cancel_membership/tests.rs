use std::collections::VecDeque;
use std::sync::Mutex;

use prepaid_domain::{
    AspId, CardApplyNo, CardId, CardKind, CorrelationId, Expiry, IssuedCard, Member, MemberStatus,
    Par, Timestamp,
};

use super::*;
use crate::ports::{
    CardRecord, IdempotencyRecord, MockCardSecrets, MockCardStore, MockClock, MockMemberDirectory,
    MockMemberRecords, PanFingerprint, ProtectedPan,
};
use crate::test_support::{fingerprint_of, scripted_records};

const NOW: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const MEMBER: u64 = 1001;
const CANONICAL: &str = "cancel-membership|1001";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn key() -> IdempotencyKey {
    IdempotencyKey {
        asp_id: asp(),
        correlation_id: CorrelationId::parse("261130120000-00000c1").unwrap(),
    }
}

fn member() -> MemberId {
    MemberId::new(MEMBER).unwrap()
}

fn card(seed: u8, status: CardStatus, version: u64) -> CardRecord {
    let hex = format!("{seed:02x}").repeat(16);
    CardRecord {
        card: IssuedCard {
            id: CardId::parse(&hex).unwrap(),
            par: Par::parse(&format!("Q{}", format!("{seed}").repeat(26))[..27]).unwrap(),
            owner: member(),
            linked_to: None,
            expiry: Expiry::parse("3111").unwrap(),
            kind: CardKind::Mobile,
            status,
        },
        application: CardApplyNo::parse("2611300300000000000001").unwrap(),
        protected_pan: ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: vec![seed],
        },
        pan_bound_to_id: true,
        pan_fingerprint: PanFingerprint {
            key_id: "idx-1".to_owned(),
            digest: [seed; 32],
        },
        cvk_id: "cvk-1".to_owned(),
        wrong_attempts: 0,
        version,
    }
}

/// What the stores hold and answer.
struct World {
    member: Option<MemberStatus>,
    /// The member's cards at each read, the last one from then on.
    reads: Vec<Vec<CardRecord>>,
    records: Vec<Option<IdempotencyRecord>>,
    /// What the cancellations answer in turn, then `Stale`.
    cancels: Vec<Result<(), ChangeError>>,
}

impl World {
    /// Active member 1001 with an active, an inactive and a terminated card; no record under
    /// the key; the cancellation written.
    fn member_with_cards() -> Self {
        Self {
            member: Some(MemberStatus::Active),
            reads: vec![vec![
                card(1, CardStatus::Active, 3),
                card(2, CardStatus::Inactive, 0),
                card(3, CardStatus::Terminated, 7),
            ]],
            records: vec![None],
            cancels: vec![Ok(())],
        }
    }
}

/// What a run did.
struct Run {
    result: Result<MembershipCancelled, CancelMembershipError>,
    written: Vec<(MemberId, LifecycleChange)>,
    card_reads: usize,
}

async fn cancel(world: World) -> Run {
    let mut members = MockMemberDirectory::new();
    let status = world.member;
    members.expect_find().returning(move |asp_id, id| {
        assert_eq!(asp_id, &asp());
        Ok(status.map(|status| Member { id, status }))
    });

    let reads = Arc::new(Mutex::new((VecDeque::from(world.reads), 0)));
    let mut cards = MockCardStore::new();
    let counted = reads.clone();
    cards
        .expect_cards_of_member()
        .returning(move |asp_id, owner| {
            assert_eq!((asp_id, owner), (&asp(), member()));
            let mut reads = counted.lock().unwrap();
            reads.1 += 1;
            Ok(if reads.0.len() > 1 {
                reads.0.pop_front().unwrap()
            } else {
                reads.0.front().cloned().unwrap_or_default()
            })
        });

    let written = Arc::new(Mutex::new(Vec::new()));
    let answers = Mutex::new(VecDeque::from(world.cancels));
    let mut records = MockMemberRecords::new();
    let kept = written.clone();
    records.expect_cancel().returning(move |id, change| {
        let answer = answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Err(ChangeError::Stale));
        if answer.is_ok() {
            kept.lock().unwrap().push((id, change.clone()));
        }
        answer
    });

    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_request_fingerprint()
        .returning(fingerprint_of);
    secrets
        .expect_request_fingerprint_with()
        .returning(|_, canonical| Some(fingerprint_of(canonical)));
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);

    let service = MembershipCancellationService::new(CancellationPorts {
        members: Arc::new(members),
        cards: Arc::new(cards),
        records: Arc::new(records),
        idempotency: Arc::new(scripted_records(world.records)),
        secrets: Arc::new(secrets),
        clock: Arc::new(clock),
    });
    let result = service
        .cancel(&CancelMembershipCommand {
            key: key(),
            member: member(),
        })
        .await;
    let written = written.lock().unwrap().clone();
    let card_reads = reads.lock().unwrap().1;
    Run {
        result,
        written,
        card_reads,
    }
}

fn record(operation: &str, canonical: &str, outcome: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        operation: operation.to_owned(),
        request_fingerprint: fingerprint_of(canonical),
        outcome: outcome.to_owned(),
        created_at: NOW,
    }
}

fn terminated(written: &[(MemberId, LifecycleChange)]) -> Vec<(CardId, u64, CardStatus)> {
    let [(_, change)] = written else {
        panic!("one cancellation: {written:?}");
    };
    change
        .cards
        .iter()
        .map(|entry| (entry.key.clone(), entry.from_version, entry.status.status))
        .collect()
}

#[tokio::test]
async fn a_cancellation_terminates_every_card_not_yet_terminated_with_the_request_claimed() {
    let run = cancel(World::member_with_cards()).await;

    assert_eq!(
        run.result.unwrap(),
        MembershipCancelled {
            terminated: 2,
            replayed: false
        }
    );
    assert_eq!(
        terminated(&run.written),
        [
            (
                card(1, CardStatus::Active, 3).card.id,
                3,
                CardStatus::Terminated
            ),
            (
                card(2, CardStatus::Inactive, 0).card.id,
                0,
                CardStatus::Terminated
            ),
        ],
        "each card from the version read; the terminated one left alone"
    );
    let (id, change) = &run.written[0];
    assert_eq!(
        (*id, change.asp_id.clone(), change.at),
        (member(), asp(), NOW)
    );
    assert!(change.applications.is_empty() && change.deliveries.is_empty());
    assert!(change.new_cards.is_empty());
    let claim = change.claim.as_ref().unwrap();
    assert_eq!(claim.key, key());
    assert_eq!(claim.operation, IdempotentOperation::CancelMembership);
    assert_eq!(claim.outcome, "2");
    assert_eq!(claim.request_fingerprint, fingerprint_of(CANONICAL));
    assert_eq!(claim.created_at, NOW);
}

#[tokio::test]
async fn a_member_without_cards_is_cancelled_alone() {
    let run = cancel(World {
        reads: vec![Vec::new()],
        ..World::member_with_cards()
    })
    .await;

    assert_eq!(run.result.unwrap().terminated, 0);
    assert_eq!(terminated(&run.written), []);
}

#[tokio::test]
async fn a_member_with_a_suspended_card_is_refused_and_nothing_is_written() {
    let run = cancel(World {
        reads: vec![vec![
            card(1, CardStatus::Active, 3),
            card(2, CardStatus::Suspended, 1),
        ]],
        ..World::member_with_cards()
    })
    .await;

    let error = run.result.unwrap_err();
    assert!(matches!(
        error,
        CancelMembershipError::Refused(CancellationRefusal::SuspendedCard)
    ));
    assert_eq!(error.code(), ErrorCode::MemberHasSuspendedCard);
    assert!(run.written.is_empty());
}

#[tokio::test]
async fn a_non_member_and_a_cancelled_member_are_not_members_and_nothing_is_written() {
    for status in [None, Some(MemberStatus::Cancelled)] {
        let run = cancel(World {
            member: status,
            ..World::member_with_cards()
        })
        .await;

        let error = run.result.unwrap_err();
        assert!(
            matches!(error, CancelMembershipError::NotAMember),
            "{status:?}"
        );
        assert_eq!(error.code(), ErrorCode::WalletUserNotFound);
        assert_eq!((run.written.len(), run.card_reads), (0, 0), "{status:?}");
    }
}

#[tokio::test]
async fn a_card_that_moved_meanwhile_is_read_again_and_decided_on_as_it_is_now() {
    let run = cancel(World {
        reads: vec![
            vec![card(1, CardStatus::Active, 3)],
            vec![card(1, CardStatus::Active, 4)],
        ],
        cancels: vec![Err(ChangeError::Stale), Ok(())],
        ..World::member_with_cards()
    })
    .await;

    run.result.unwrap();
    assert_eq!(run.card_reads, 2);
    assert_eq!(
        terminated(&run.written),
        [(
            card(1, CardStatus::Active, 4).card.id,
            4,
            CardStatus::Terminated
        )]
    );
}

#[tokio::test]
async fn a_card_suspended_meanwhile_refuses_the_cancellation_on_the_second_read() {
    let run = cancel(World {
        reads: vec![
            vec![card(1, CardStatus::Active, 3)],
            vec![card(1, CardStatus::Suspended, 4)],
        ],
        cancels: vec![Err(ChangeError::Stale)],
        ..World::member_with_cards()
    })
    .await;

    assert!(matches!(
        run.result,
        Err(CancelMembershipError::Refused(
            CancellationRefusal::SuspendedCard
        ))
    ));
    assert!(run.written.is_empty());
}

#[tokio::test]
async fn cards_that_never_stop_moving_make_the_cancellation_unavailable_after_four_reads() {
    let run = cancel(World {
        cancels: Vec::new(),
        ..World::member_with_cards()
    })
    .await;

    assert!(matches!(
        run.result,
        Err(CancelMembershipError::Unavailable(_))
    ));
    assert_eq!(run.card_reads, MOST_READS);
    assert!(run.written.is_empty());
}

#[tokio::test]
async fn a_retry_answers_the_first_outcome_without_reading_or_writing() {
    let run = cancel(World {
        records: vec![Some(record("CANCEL_MEMBERSHIP", CANONICAL, "2"))],
        ..World::member_with_cards()
    })
    .await;

    assert_eq!(
        run.result.unwrap(),
        MembershipCancelled {
            terminated: 2,
            replayed: true
        }
    );
    assert_eq!((run.written.len(), run.card_reads), (0, 0));
}

#[tokio::test]
async fn a_retry_after_the_member_is_gone_still_answers_the_first_outcome() {
    let run = cancel(World {
        member: Some(MemberStatus::Cancelled),
        records: vec![None, Some(record("CANCEL_MEMBERSHIP", CANONICAL, "1"))],
        ..World::member_with_cards()
    })
    .await;

    assert_eq!(
        run.result.unwrap(),
        MembershipCancelled {
            terminated: 1,
            replayed: true
        },
        "the request with this key that cancelled meanwhile"
    );
}

#[tokio::test]
async fn a_key_taken_by_a_concurrent_request_answers_its_outcome() {
    for answer in [ChangeError::KeyTaken, ChangeError::Stale] {
        let run = cancel(World {
            records: vec![None, Some(record("CANCEL_MEMBERSHIP", CANONICAL, "2"))],
            cancels: vec![Err(answer)],
            ..World::member_with_cards()
        })
        .await;

        assert_eq!(
            run.result.unwrap(),
            MembershipCancelled {
                terminated: 2,
                replayed: true
            }
        );
        assert_eq!(run.card_reads, 1);
    }
}

#[tokio::test]
async fn a_key_used_for_another_request_is_a_conflict_and_nothing_is_written() {
    for other in [
        record("CANCEL_MEMBERSHIP", "cancel-membership|1002", "0"),
        record("DISCARD_CARD", CANONICAL, "0"),
    ] {
        let run = cancel(World {
            records: vec![Some(other)],
            ..World::member_with_cards()
        })
        .await;

        let error = run.result.unwrap_err();
        assert!(matches!(error, CancelMembershipError::CorrelationConflict));
        assert_eq!(error.code(), ErrorCode::CorrelationIdConflict);
        assert!(run.written.is_empty());
    }
}

#[tokio::test]
async fn a_record_whose_outcome_is_not_a_count_is_a_failure_not_an_answer() {
    let run = cancel(World {
        records: vec![Some(record("CANCEL_MEMBERSHIP", CANONICAL, "two"))],
        ..World::member_with_cards()
    })
    .await;

    let error = run.result.unwrap_err();
    assert!(matches!(error, CancelMembershipError::Unavailable(_)));
    assert_eq!(error.code(), ErrorCode::SystemError);
}

#[tokio::test]
async fn a_store_that_cannot_be_written_makes_the_cancellation_unavailable() {
    let run = cancel(World {
        cancels: vec![Err(ChangeError::Unavailable(PortError::msg("down")))],
        ..World::member_with_cards()
    })
    .await;

    assert!(matches!(
        run.result,
        Err(CancelMembershipError::Unavailable(_))
    ));
    assert_eq!(run.card_reads, 1);
}
