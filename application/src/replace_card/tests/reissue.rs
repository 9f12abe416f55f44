//! The reissue through mocked ports: what a reissue records, its refusals in order, what
//! counts as an earlier reissue, and a retry or a departure racing its write.

use super::*;

#[tokio::test]
async fn a_lost_card_is_reissued_with_its_product_and_ends_with_its_linked_card() {
    let run = reissue(
        World::cards_in(CardStatus::Suspended),
        reissue_command(MOBILE_PAR, None, delivered()),
    )
    .await;
    let outcome = run.result.unwrap();
    assert!(!outcome.replayed);
    assert!(outcome.mobile_card.is_none(), "not a pre-issuance product");
    let [recorded] = run.recorded.as_slice() else {
        panic!("one application recorded: {:?}", run.recorded);
    };
    assert_eq!(recorded.application.number, outcome.application_number);
    assert_eq!(
        recorded.application.application_type,
        ApplicationType::Reissue
    );
    assert_eq!(recorded.application.status, ApplicationStatus::Ready);
    assert_eq!(recorded.application.product.as_str(), NORMAL);
    assert_eq!(recorded.claim.operation, IdempotentOperation::ReissueCard);
    assert!(recorded.delivery.is_some());
    assert!(recorded.card.is_none());
    let replacing = recorded.replacing.as_ref().unwrap();
    assert_eq!(replacing.card, mobile_id());
    let ended: Vec<_> = replacing
        .cards
        .iter()
        .map(|change| {
            (
                change.key.clone(),
                change.from_version,
                change.status.status,
            )
        })
        .collect();
    assert_eq!(
        ended,
        [
            (mobile_id(), 3, CardStatus::Terminated),
            (physical_id(), 5, CardStatus::Terminated),
        ]
    );
    // The physical card keeps its link: it ends with its mobile card, linked as it was.
    assert_eq!(replacing.cards[1].status.linked_to, Some(mobile_id()));
}

#[tokio::test]
async fn a_lost_physical_card_takes_the_mobile_card_it_is_linked_to_with_it() {
    let run = reissue(
        World::cards_in(CardStatus::Suspended),
        reissue_command(PHYSICAL_PAR, None, delivered()),
    )
    .await;
    let recorded = &run.recorded[0];
    let replacing = recorded.replacing.as_ref().unwrap();
    assert_eq!(replacing.card, physical_id());
    assert_eq!(replacing.cards.len(), 2);
    assert!(
        replacing
            .cards
            .iter()
            .all(|change| change.status.status == CardStatus::Terminated)
    );
}

#[tokio::test]
async fn a_pre_issuance_product_issues_the_new_mobile_card_at_once() {
    let run = reissue(
        World::cards_in(CardStatus::Suspended),
        reissue_command(MOBILE_PAR, Some(NORMAL_PRE_ISSUED), delivered()),
    )
    .await;
    assert!(
        run.reserved_serials,
        "a card number is drawn for the mobile card"
    );
    assert!(matches!(run.result, Err(ReplaceCardError::Unavailable(_))));
    assert!(run.recorded.is_empty());
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one table: a world, a request and the refusal expected"
)]
async fn a_reissue_is_refused_in_the_order_of_its_rules_and_records_nothing() {
    let suspended = || World::cards_in(CardStatus::Suspended);
    let locked = {
        let mut world = suspended();
        world.cards[0].wrong_attempts = 5;
        world
    };
    let cancelled_member = World {
        member: Some(MemberStatus::Cancelled),
        ..suspended()
    };
    let others = {
        let mut world = suspended();
        for card in &mut world.cards {
            card.card.owner = MemberId::new(OTHER_MEMBER).unwrap();
        }
        world
    };
    for (world, command, expected, why) in [
        (
            World {
                member: None,
                ..suspended()
            },
            reissue_command(MOBILE_PAR, None, delivered()),
            "001_006",
            "not a member",
        ),
        (
            cancelled_member,
            reissue_command(MOBILE_PAR, None, delivered()),
            "001_006",
            "a cancelled member",
        ),
        (
            suspended(),
            reissue_command("Z1AB2CD3EF4GH5IJ6KL7MN8OP9Q", None, delivered()),
            "003_021",
            "an unknown PAR",
        ),
        (
            others,
            reissue_command(MOBILE_PAR, None, delivered()),
            "003_021",
            "another member's card",
        ),
        (
            suspended().replaced_by(
                ApplicationType::Reissue,
                ApplicationStatus::Completed,
                mobile_id(),
            ),
            reissue_command(MOBILE_PAR, None, delivered()),
            "003_018",
            "reissued already",
        ),
        (
            suspended().replaced_by(
                ApplicationType::Reissue,
                ApplicationStatus::PhysicalIssued,
                mobile_id(),
            ),
            reissue_command(MOBILE_PAR, None, delivered()),
            "003_020",
            "a reissue in progress",
        ),
        (
            World::cards_in(CardStatus::Active),
            reissue_command(MOBILE_PAR, None, delivered()),
            "003_090",
            "not reported lost",
        ),
        (
            locked,
            reissue_command(MOBILE_PAR, None, delivered()),
            "003_090",
            "locked by wrong registrations, not by a loss report",
        ),
        (
            World::cards_in(CardStatus::Terminated),
            reissue_command(MOBILE_PAR, None, delivered()),
            "003_090",
            "terminated",
        ),
        (
            suspended(),
            reissue_command(MOBILE_PAR, Some(MOBILE), delivered()),
            "003_048",
            "a product of another type",
        ),
        (
            suspended(),
            reissue_command(MOBILE_PAR, Some(RETIRED), delivered()),
            "003_048",
            "an inactive product",
        ),
        (
            suspended(),
            reissue_command(MOBILE_PAR, Some("000170000099000"), delivered()),
            "003_048",
            "an unknown product",
        ),
        (
            suspended(),
            reissue_command(MOBILE_PAR, None, DeliveryChoice::MobileOnly),
            "003_024",
            "a NORMAL card without delivery",
        ),
    ] {
        let run = reissue(world, command).await;
        assert_eq!(code(&run), expected, "{why}");
        assert!(run.recorded.is_empty(), "{why}");
    }
}

#[tokio::test]
async fn a_reissue_of_another_card_does_not_count_for_this_one() {
    let other = CardId::parse("00000000000000000000000000000009").unwrap();
    let run = reissue(
        World::cards_in(CardStatus::Suspended).replaced_by(
            ApplicationType::Reissue,
            ApplicationStatus::Completed,
            other,
        ),
        reissue_command(MOBILE_PAR, None, delivered()),
    )
    .await;
    assert_eq!(code(&run), "000_000");
}

#[tokio::test]
async fn only_a_renewal_counts_as_one_for_a_renewal() {
    // A reissue not cancelled replacing an active card cannot be (it terminates the card); if
    // it were, it would still not be a renewal.
    let run = renew(
        World::cards_in(CardStatus::Active).replaced_by(
            ApplicationType::Reissue,
            ApplicationStatus::Ready,
            mobile_id(),
        ),
        renew_command(PHYSICAL_PAN),
    )
    .await;
    assert_eq!(code(&run), "000_000");
}

#[tokio::test]
async fn a_cancelled_reissue_does_not_count_as_one() {
    let run = reissue(
        World::cards_in(CardStatus::Suspended).replaced_by(
            ApplicationType::Reissue,
            ApplicationStatus::Cancelled,
            mobile_id(),
        ),
        reissue_command(MOBILE_PAR, None, delivered()),
    )
    .await;
    assert_eq!(code(&run), "000_000");
    assert_eq!(run.recorded.len(), 1);
}

#[tokio::test]
async fn a_reissue_whose_card_moved_meanwhile_reads_and_decides_again() {
    let world = World {
        recordings: vec![Err(RecordError::Stale)],
        ..World::cards_in(CardStatus::Suspended)
    };
    let run = reissue(world, reissue_command(MOBILE_PAR, None, delivered())).await;
    assert_eq!(code(&run), "000_000");
    assert_eq!(run.recorded.len(), 1);

    let world = World {
        recordings: (0..MOST_READS).map(|_| Err(RecordError::Stale)).collect(),
        ..World::cards_in(CardStatus::Suspended)
    };
    let run = reissue(world, reissue_command(MOBILE_PAR, None, delivered())).await;
    assert!(matches!(run.result, Err(ReplaceCardError::Unavailable(_))));
    assert!(run.recorded.is_empty());
}

#[tokio::test]
async fn a_member_who_left_while_their_card_was_reissued_is_answered_as_no_member() {
    // The write found the member cancelled (their cards terminated with them): read again,
    // the member is gone, and that is the answer, not the card's new state.
    for later in [Some(MemberStatus::Cancelled), None] {
        let world = World {
            recordings: vec![Err(RecordError::Stale)],
            member_later: vec![later],
            ..World::cards_in(CardStatus::Suspended)
        };
        let run = reissue(world, reissue_command(MOBILE_PAR, None, delivered())).await;
        assert_eq!(code(&run), "001_006");
        assert!(run.recorded.is_empty());
    }
}

#[tokio::test]
async fn a_retry_answers_the_first_application_and_another_payload_is_a_conflict() {
    let command = reissue_command(MOBILE_PAR, None, delivered());
    let first = IdempotencyRecord {
        operation: IdempotentOperation::ReissueCard.as_str().to_owned(),
        request_fingerprint: fingerprint_of(&command.canonical_form()),
        outcome: "2612060300000000000009".to_owned(),
        created_at: NOW,
    };
    let world = World {
        records: vec![Some(first.clone())],
        ..World::cards_in(CardStatus::Terminated)
    };
    let run = reissue(world, command.clone()).await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert_eq!(
        outcome.application_number.as_str(),
        "2612060300000000000009"
    );
    assert!(run.recorded.is_empty());

    let world = World {
        records: vec![Some(first.clone())],
        ..World::cards_in(CardStatus::Suspended)
    };
    let other = reissue_command(PHYSICAL_PAR, None, delivered());
    let run = reissue(world, other).await;
    assert_eq!(code(&run), "000_094");
    assert!(run.recorded.is_empty());

    // The same key used by a renewal first is a conflict too.
    let world = World {
        records: vec![Some(IdempotencyRecord {
            operation: IdempotentOperation::RenewCard.as_str().to_owned(),
            ..first
        })],
        ..World::cards_in(CardStatus::Suspended)
    };
    let run = reissue(world, command).await;
    assert_eq!(code(&run), "000_094");
}

#[tokio::test]
async fn a_concurrent_request_with_the_key_committing_first_is_answered_its_outcome() {
    let command = reissue_command(MOBILE_PAR, None, delivered());
    let first = IdempotencyRecord {
        operation: IdempotentOperation::ReissueCard.as_str().to_owned(),
        request_fingerprint: fingerprint_of(&command.canonical_form()),
        outcome: "2612060300000000000009".to_owned(),
        created_at: NOW,
    };
    let world = World {
        records: vec![None, Some(first)],
        recordings: vec![Err(RecordError::KeyTaken)],
        ..World::cards_in(CardStatus::Suspended)
    };
    let run = reissue(world, command).await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert_eq!(
        outcome.application_number.as_str(),
        "2612060300000000000009"
    );
}
