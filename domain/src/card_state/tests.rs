use proptest::prelude::*;

use super::*;

fn card(kind: CardKind, status: CardStatus) -> CardFacts {
    CardFacts {
        kind,
        status,
        wrong_registrations: 0,
        linked: false,
    }
}

fn mobile(status: CardStatus) -> CardFacts {
    card(CardKind::Mobile, status)
}

fn locked_physical() -> CardFacts {
    CardFacts {
        wrong_registrations: MOST_WRONG_REGISTRATIONS,
        ..card(CardKind::Physical, CardStatus::Suspended)
    }
}

#[test]
fn the_card_table_lists_exactly_these_changes() {
    use CardStatus::{Active, Inactive, Suspended, Terminated};
    let allowed = [
        (Inactive, Active),
        (Inactive, Suspended),
        (Inactive, Terminated),
        (Active, Suspended),
        (Active, Terminated),
        (Suspended, Active),
        (Suspended, Inactive),
        (Suspended, Terminated),
    ];
    for from in CardStatus::ALL {
        for to in CardStatus::ALL {
            assert_eq!(
                from.can_become(*to),
                allowed.contains(&(*from, *to)),
                "{from:?} → {to:?}"
            );
        }
        assert_eq!(from.is_final(), *from == Terminated, "{from:?}");
    }
}

#[test]
fn only_a_physical_card_locked_by_wrong_attempts_is_unlocked_and_it_waits_for_registration_again() {
    assert_eq!(decide_unlock(&locked_physical()), Ok(CardStatus::Inactive));
    assert!(CardStatus::Suspended.can_become(CardStatus::Inactive));
    for (facts, why) in [
        (
            CardFacts {
                wrong_registrations: MOST_WRONG_REGISTRATIONS - 1,
                ..locked_physical()
            },
            "suspended by a loss report, not locked",
        ),
        (
            CardFacts {
                linked: true,
                ..locked_physical()
            },
            "registered",
        ),
        (
            CardFacts {
                kind: CardKind::Mobile,
                ..locked_physical()
            },
            "a mobile card",
        ),
        (
            CardFacts {
                status: CardStatus::Terminated,
                ..locked_physical()
            },
            "terminated",
        ),
        (
            CardFacts {
                status: CardStatus::Inactive,
                ..locked_physical()
            },
            "not suspended",
        ),
        (mobile(CardStatus::Active), "active"),
    ] {
        assert_eq!(
            decide_unlock(&facts),
            Err(UnlockRefusal::NotLocked),
            "{why}"
        );
    }
}

#[test]
fn the_requests_read_as_the_platform_writes_them() {
    assert_eq!(
        CardStateRequest::parse("SUSPEND"),
        Some(CardStateRequest::Suspend)
    );
    assert_eq!(
        CardStateRequest::parse("RESUME"),
        Some(CardStateRequest::Resume)
    );
    for text in ["suspend", "ACTIVE", "CLOSE", "RESUMED", ""] {
        assert_eq!(CardStateRequest::parse(text), None, "{text}");
    }
    for request in CardStateRequest::ALL {
        assert_eq!(CardStateRequest::parse(request.as_str()), Some(request));
    }
}

#[test]
fn a_loss_report_suspends_an_active_card_and_resuming_makes_it_active_again() {
    assert_eq!(
        decide_card_state(&mobile(CardStatus::Active), CardStateRequest::Suspend),
        Ok(Some(CardStatus::Suspended))
    );
    assert_eq!(
        decide_card_state(&mobile(CardStatus::Suspended), CardStateRequest::Resume),
        Ok(Some(CardStatus::Active))
    );
}

#[test]
fn asking_for_the_state_a_card_already_has_changes_nothing() {
    assert_eq!(
        decide_card_state(&mobile(CardStatus::Active), CardStateRequest::Resume),
        Ok(None)
    );
    assert_eq!(
        decide_card_state(&mobile(CardStatus::Suspended), CardStateRequest::Suspend),
        Ok(None)
    );
    assert_eq!(
        decide_card_state(&locked_physical(), CardStateRequest::Suspend),
        Ok(None),
        "a locked card is suspended already"
    );
}

#[test]
fn a_terminated_card_keeps_its_state_whatever_is_asked() {
    for request in CardStateRequest::ALL {
        let refused = decide_card_state(&mobile(CardStatus::Terminated), request);
        assert_eq!(refused, Err(CardStateRefusal::Terminated));
    }
    assert_eq!(CardStateRefusal::Terminated.code().code(), "003_022");
}

#[test]
fn a_card_locked_by_wrong_registrations_is_not_resumed_by_the_member() {
    assert_eq!(
        decide_card_state(&locked_physical(), CardStateRequest::Resume),
        Err(CardStateRefusal::Locked)
    );
    let one_short = CardFacts {
        wrong_registrations: MOST_WRONG_REGISTRATIONS - 1,
        ..locked_physical()
    };
    assert_eq!(
        decide_card_state(&one_short, CardStateRequest::Resume),
        Ok(Some(CardStatus::Active)),
        "four wrong attempts lock nothing: the suspension is a loss report"
    );
    assert_eq!(CardStateRefusal::Locked.code().code(), "003_092");
}

#[test]
fn a_physical_card_not_registered_yet_has_no_state_for_the_member_to_change() {
    for request in CardStateRequest::ALL {
        assert_eq!(
            decide_card_state(&card(CardKind::Physical, CardStatus::Inactive), request),
            Err(CardStateRefusal::NotRegistered)
        );
    }
    assert_eq!(CardStateRefusal::NotRegistered.code().code(), "003_093");
}

#[test]
fn discarding_a_mobile_card_takes_its_physical_cards_with_it() {
    for status in [
        CardStatus::Active,
        CardStatus::Suspended,
        CardStatus::Inactive,
    ] {
        assert_eq!(
            decide_discard(&mobile(status), 0, false),
            Ok(DiscardPlan {
                with_linked_cards: true
            }),
            "{status:?}"
        );
    }
}

#[test]
fn a_physical_card_is_discarded_alone_only_when_no_mobile_card_holds_it() {
    let alone = card(CardKind::Physical, CardStatus::Active);
    assert_eq!(
        decide_discard(&alone, 0, false),
        Ok(DiscardPlan {
            with_linked_cards: false
        })
    );
    let linked = CardFacts {
        linked: true,
        ..alone
    };
    assert_eq!(
        decide_discard(&linked, 0, false),
        Err(DiscardRefusal::LinkedToMobileCard)
    );
    assert_eq!(DiscardRefusal::LinkedToMobileCard.code().code(), "001_061");
}

#[test]
fn a_terminated_card_cannot_be_discarded_again_and_that_comes_first() {
    let terminated = CardFacts {
        linked: true,
        ..card(CardKind::Physical, CardStatus::Terminated)
    };
    assert_eq!(
        decide_discard(&terminated, 1, false),
        Err(DiscardRefusal::NoSuchCard)
    );
    assert_eq!(DiscardRefusal::NoSuchCard.code().code(), "001_047");
}

#[test]
fn a_card_holding_a_balance_is_not_discarded_and_the_link_is_told_first() {
    assert_eq!(
        decide_discard(&mobile(CardStatus::Active), 1, false),
        Err(DiscardRefusal::HasBalance)
    );
    let linked = CardFacts {
        linked: true,
        ..card(CardKind::Physical, CardStatus::Active)
    };
    assert_eq!(
        decide_discard(&linked, 1, false),
        Err(DiscardRefusal::LinkedToMobileCard)
    );
    assert_eq!(DiscardRefusal::HasBalance.code().code(), "001_052");
}

fn printed(status: CardStatus, wrong_attempts: u8) -> PrintedCardFacts {
    PrintedCardFacts {
        kind: CardKind::Physical,
        status,
        wrong_attempts,
        expiry_matches: true,
        cvc_matches: true,
    }
}

#[test]
fn a_produced_card_waiting_for_registration_is_described_to_whoever_proves_it() {
    assert_eq!(
        decide_unregistered_inquiry(Some(&printed(CardStatus::Inactive, 4))),
        Ok(())
    );
}

#[test]
fn a_wrong_expiry_or_cvc_counts_and_the_fifth_locks() {
    for card in [
        PrintedCardFacts {
            cvc_matches: false,
            ..printed(CardStatus::Inactive, 0)
        },
        PrintedCardFacts {
            expiry_matches: false,
            ..printed(CardStatus::Inactive, 0)
        },
    ] {
        let refused = decide_unregistered_inquiry(Some(&card)).unwrap_err();
        assert_eq!(
            (refused.code.code(), refused.wrong_attempts, refused.locks()),
            ("003_001", Some(1), false)
        );
    }
    let fifth = PrintedCardFacts {
        cvc_matches: false,
        ..printed(CardStatus::Inactive, MOST_WRONG_REGISTRATIONS - 1)
    };
    let refused = decide_unregistered_inquiry(Some(&fifth)).unwrap_err();
    assert_eq!(refused.wrong_attempts, Some(MOST_WRONG_REGISTRATIONS));
    assert!(refused.locks());
}

#[test]
fn any_other_card_is_invalid_card_info_and_records_nothing_even_proven() {
    let mobile = PrintedCardFacts {
        kind: CardKind::Mobile,
        ..printed(CardStatus::Inactive, 0)
    };
    for card in [
        None,
        Some(mobile),
        Some(printed(CardStatus::Active, 0)),
        Some(printed(CardStatus::Suspended, 0)),
        Some(printed(CardStatus::Terminated, 0)),
        Some(printed(CardStatus::Inactive, MOST_WRONG_REGISTRATIONS)),
        Some(PrintedCardFacts {
            cvc_matches: false,
            ..printed(CardStatus::Active, 0)
        }),
    ] {
        let refused = decide_unregistered_inquiry(card.as_ref()).unwrap_err();
        assert_eq!(
            (refused.code.code(), refused.wrong_attempts),
            ("003_001", None),
            "{card:?}"
        );
    }
}

fn any_status() -> impl Strategy<Value = CardStatus> {
    proptest::sample::select(CardStatus::ALL)
}

fn any_request() -> impl Strategy<Value = CardStateRequest> {
    proptest::sample::select(&CardStateRequest::ALL[..])
}

proptest! {
    /// Whatever a member asks, in whatever order, from whatever state: every change made is one
    /// the table lists, a terminated card stays terminated, a card not registered yet and a
    /// locked card stay as they are, and asking twice changes nothing the second time.
    #[test]
    fn no_sequence_of_member_requests_leaves_the_card_table(
        start in any_status(),
        kind in proptest::sample::select(CardKind::ALL),
        wrong_registrations in 0..=MOST_WRONG_REGISTRATIONS,
        requests in prop::collection::vec(any_request(), 0..20),
    ) {
        let mut facts = CardFacts { kind, status: start, wrong_registrations, linked: false };
        for request in requests {
            let before = facts.status;
            if let Ok(Some(next)) = decide_card_state(&facts, request) {
                prop_assert!(before.can_become(next), "{:?} → {:?}", before, next);
                facts.status = next;
                prop_assert_eq!(decide_card_state(&facts, request), Ok(None));
            }
            prop_assert!(!(before.is_final() && facts.status != before));
            prop_assert!(!(before == CardStatus::Inactive && facts.status != before));
            prop_assert!(!(facts.locked() && before == CardStatus::Suspended && facts.status != before));
            prop_assert!(!(facts.status == CardStatus::Inactive && before != CardStatus::Inactive));
        }
    }

    /// A discard never leaves a card as it was unless it is refused, and a mobile card always
    /// takes its linked cards.
    #[test]
    fn a_discard_is_refused_or_terminates_a_card_the_table_lets_go(
        status in any_status(),
        kind in proptest::sample::select(CardKind::ALL),
        linked in any::<bool>(),
        balance in prop_oneof![Just(0_u64), 1..u64::MAX],
        basic in any::<bool>(),
    ) {
        let facts = CardFacts { kind, status, wrong_registrations: 0, linked };
        match decide_discard(&facts, balance, basic) {
            Ok(plan) => {
                prop_assert!(status.can_become(CardStatus::Terminated));
                prop_assert!(!basic);
                prop_assert_eq!(balance, 0);
                prop_assert_eq!(plan.with_linked_cards, kind == CardKind::Mobile);
                prop_assert!(!(kind == CardKind::Physical && linked));
            }
            Err(refusal) => prop_assert!(
                status.is_final()
                    || basic
                    || (kind == CardKind::Physical && linked)
                    || balance > 0,
                "{:?}", refusal
            ),
        }
    }
}

#[test]
fn a_basic_card_is_never_discarded_but_a_terminated_one_is_no_card() {
    assert_eq!(
        decide_discard(&mobile(CardStatus::Active), 0, true),
        Err(DiscardRefusal::BasicCard)
    );
    assert_eq!(
        decide_discard(&mobile(CardStatus::Active), 1, true),
        Err(DiscardRefusal::BasicCard),
        "before the balance"
    );
    assert_eq!(
        decide_discard(&mobile(CardStatus::Terminated), 0, true),
        Err(DiscardRefusal::NoSuchCard)
    );
    assert_eq!(DiscardRefusal::BasicCard.code().code(), "001_059");
}
