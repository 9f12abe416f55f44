//! The renewal through mocked ports: what a renewal records, its refusals in order, and a
//! retry racing its first request.

use super::*;

#[tokio::test]
async fn a_card_expiring_within_30_days_is_renewed_and_stays_as_it_is() {
    let run = renew(
        World::cards_in(CardStatus::Active),
        renew_command(PHYSICAL_PAN),
    )
    .await;
    let outcome = run.result.unwrap();
    assert!(outcome.mobile_card.is_none());
    assert!(
        !run.reserved_serials,
        "the new mobile card comes at registration"
    );
    let [recorded] = run.recorded.as_slice() else {
        panic!("one application recorded: {:?}", run.recorded);
    };
    assert_eq!(
        recorded.application.application_type,
        ApplicationType::Renewal
    );
    assert_eq!(recorded.application.status, ApplicationStatus::Ready);
    assert_eq!(recorded.application.product.as_str(), NORMAL);
    assert_eq!(recorded.claim.operation, IdempotentOperation::RenewCard);
    assert!(recorded.delivery.is_some());
    let replacing = recorded.replacing.as_ref().unwrap();
    assert_eq!(replacing.card, mobile_id(), "the card the number names");
    // Both cards written as they are, from the versions read.
    let written: Vec<_> = replacing
        .cards
        .iter()
        .map(|change| {
            (
                change.key.clone(),
                change.from_version,
                change.status.clone(),
            )
        })
        .collect();
    let world = World::cards_in(CardStatus::Active);
    assert_eq!(
        written,
        [
            (mobile_id(), 3, world.cards[0].as_is()),
            (physical_id(), 5, world.cards[1].as_is()),
        ]
    );
}

#[tokio::test]
async fn a_renewal_is_refused_in_the_order_of_its_rules_and_records_nothing() {
    let active = || World::cards_in(CardStatus::Active);
    let expiring = |yymm: &str| {
        let mut world = active();
        for card in &mut world.cards {
            card.card.expiry = Expiry::parse(yymm).unwrap();
        }
        world
    };
    let retired = {
        let mut world = active();
        world.applications[0].application.product = ServiceId::parse(RETIRED).unwrap();
        world
    };
    let others = {
        let mut world = active();
        for card in &mut world.cards {
            card.card.owner = MemberId::new(OTHER_MEMBER).unwrap();
        }
        world
    };
    for (world, pan, expected, why) in [
        (
            World {
                member: None,
                ..active()
            },
            PHYSICAL_PAN,
            "001_006",
            "not a member",
        ),
        (
            World {
                member: Some(MemberStatus::Cancelled),
                ..active()
            },
            PHYSICAL_PAN,
            "001_006",
            "a cancelled member",
        ),
        (active(), "9435120001234584", "003_008", "an unknown number"),
        (others, PHYSICAL_PAN, "003_008", "another member's card"),
        (
            expiring("2701"),
            PHYSICAL_PAN,
            "003_006",
            "more than 30 days away",
        ),
        (expiring("2611"), PHYSICAL_PAN, "003_006", "expired"),
        (
            World::cards_in(CardStatus::Terminated),
            PHYSICAL_PAN,
            "003_005",
            "terminated",
        ),
        (
            World::cards_in(CardStatus::Inactive),
            PHYSICAL_PAN,
            "003_005",
            "not active",
        ),
        (
            active().replaced_by(
                ApplicationType::Renewal,
                ApplicationStatus::Ready,
                physical_id(),
            ),
            PHYSICAL_PAN,
            "003_004",
            "renewed already, through its linked card",
        ),
        (
            retired,
            PHYSICAL_PAN,
            "003_009",
            "a product no longer offered",
        ),
    ] {
        let run = renew(world, renew_command(pan)).await;
        assert_eq!(code(&run), expected, "{why}");
        assert!(run.recorded.is_empty(), "{why}");
    }
}

#[tokio::test]
async fn a_suspended_card_is_renewed_and_a_cancelled_renewal_a_reissue_or_another_cards_renewal_does_not_count()
 {
    for world in [
        World::cards_in(CardStatus::Suspended),
        World::cards_in(CardStatus::Active).replaced_by(
            ApplicationType::Renewal,
            ApplicationStatus::Cancelled,
            mobile_id(),
        ),
        World::cards_in(CardStatus::Active).replaced_by(
            ApplicationType::Reissue,
            ApplicationStatus::Cancelled,
            mobile_id(),
        ),
        // A renewal of another card of the member.
        World::cards_in(CardStatus::Active).replaced_by(
            ApplicationType::Renewal,
            ApplicationStatus::Ready,
            CardId::parse("00000000000000000000000000000009").unwrap(),
        ),
    ] {
        let run = renew(world, renew_command(PHYSICAL_PAN)).await;
        assert_eq!(code(&run), "000_000");
        assert_eq!(run.recorded.len(), 1);
    }
}

#[tokio::test]
async fn of_two_renewals_read_at_one_version_the_second_reads_again_and_is_refused() {
    let world = World {
        recordings: vec![Err(RecordError::Stale)],
        ..World::cards_in(CardStatus::Active)
    };
    // The store answers the same cards on the second read; what matters is that the stale
    // recording is read again rather than answered as an error.
    let run = renew(world, renew_command(PHYSICAL_PAN)).await;
    assert_eq!(code(&run), "000_000");
    assert_eq!(run.recorded.len(), 1);
}

#[tokio::test]
async fn a_member_who_left_while_their_card_was_renewed_is_answered_as_no_member() {
    let world = World {
        recordings: vec![Err(RecordError::Stale)],
        member_later: vec![Some(MemberStatus::Cancelled)],
        ..World::cards_in(CardStatus::Active)
    };
    let run = renew(world, renew_command(PHYSICAL_PAN)).await;
    assert_eq!(code(&run), "001_006");
    assert!(run.recorded.is_empty());
}

#[tokio::test]
async fn a_refusal_after_the_same_key_committed_meanwhile_answers_that_outcome() {
    let command = renew_command(PHYSICAL_PAN);
    let first = IdempotencyRecord {
        operation: IdempotentOperation::RenewCard.as_str().to_owned(),
        request_fingerprint: fingerprint_of(&command.canonical_form()),
        outcome: "2612060300000000000009".to_owned(),
        created_at: NOW,
    };
    // Read before the first request committed; refused as renewed by then.
    let world = World {
        records: vec![None, Some(first)],
        ..World::cards_in(CardStatus::Active).replaced_by(
            ApplicationType::Renewal,
            ApplicationStatus::Ready,
            mobile_id(),
        )
    };
    let run = renew(world, command).await;
    let outcome = run.result.unwrap();
    assert!(outcome.replayed);
    assert_eq!(
        outcome.application_number.as_str(),
        "2612060300000000000009"
    );
    assert!(run.recorded.is_empty());

    // No record under the key: the refusal stands.
    let world = World::cards_in(CardStatus::Active).replaced_by(
        ApplicationType::Renewal,
        ApplicationStatus::Ready,
        mobile_id(),
    );
    let run = renew(world, renew_command(PHYSICAL_PAN)).await;
    assert_eq!(code(&run), "003_004");
}
