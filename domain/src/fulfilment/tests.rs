use proptest::prelude::*;

use super::*;

/// 2026-11-30 00:00:00 KST.
const MIDNIGHT_KST: Timestamp = Timestamp::from_millis(1_795_964_400_000);
const HOUR: i64 = 3_600_000;

fn cancel(applied_at: Timestamp, now: Timestamp) -> CancelFacts {
    CancelFacts {
        applied_at,
        status: ApplicationStatus::DigitalIssued,
        delivery: Some(DeliveryStatus::Ready),
        mobile_card: Some(MobileCardFacts {
            status: CardStatus::Active,
            has_transactions: false,
        }),
        now,
    }
}

#[test]
fn the_test_midnight_is_midnight_in_korea() {
    let civil = MIDNIGHT_KST.civil(TimeZone::Kst).unwrap();
    assert_eq!(
        (
            civil.year(),
            civil.month(),
            civil.day(),
            civil.to_digits14()
        ),
        (2026, 11, 30, "20261130000000".to_owned())
    );
}

#[test]
fn an_application_is_cancelled_on_its_day_in_korea_with_its_delivery_and_mobile_card() {
    let facts = cancel(MIDNIGHT_KST, MIDNIGHT_KST.plus_millis(24 * HOUR - 1));
    assert_eq!(
        decide_cancel(&facts),
        Ok(CancelPlan {
            cancel_delivery: true,
            terminate_mobile_card: true
        })
    );
    assert_eq!(CancelPlan::APPLICATION, ApplicationStatus::Cancelled);
}

#[test]
fn the_next_day_in_korea_is_too_late_even_when_it_is_the_same_day_in_utc() {
    // 23:59:59.999 KST and 00:00 KST the next day are both 2026-11-30 in UTC.
    let applied = MIDNIGHT_KST.plus_millis(24 * HOUR - 1);
    let facts = cancel(applied, MIDNIGHT_KST.plus_millis(24 * HOUR));
    assert_eq!(
        decide_cancel(&facts),
        Err(CancelRefusal::NotOnTheDayOfApplication)
    );
    assert_eq!(
        CancelRefusal::NotOnTheDayOfApplication.code().code(),
        "003_002"
    );
}

#[test]
fn the_day_is_checked_before_the_status() {
    let mut facts = cancel(MIDNIGHT_KST, MIDNIGHT_KST.plus_millis(30 * HOUR));
    facts.status = ApplicationStatus::Completed;
    assert_eq!(
        decide_cancel(&facts),
        Err(CancelRefusal::NotOnTheDayOfApplication)
    );
}

#[test]
fn only_the_early_statuses_of_an_application_and_its_delivery_allow_a_cancel() {
    let now = MIDNIGHT_KST.plus_millis(HOUR);
    for status in ApplicationStatus::ALL {
        for delivery in DeliveryStatus::ALL.iter().copied().map(Some).chain([None]) {
            let mut facts = cancel(MIDNIGHT_KST, now);
            facts.status = *status;
            facts.delivery = delivery;
            let allowed = matches!(
                status,
                ApplicationStatus::Ready
                    | ApplicationStatus::CostPaid
                    | ApplicationStatus::DigitalIssued
            ) && matches!(
                delivery,
                None | Some(DeliveryStatus::Ready | DeliveryStatus::Receipt)
            );
            let decided = decide_cancel(&facts);
            assert_eq!(decided.is_ok(), allowed, "{status:?} {delivery:?}");
            if let Ok(plan) = decided {
                assert_eq!(plan.cancel_delivery, delivery.is_some());
            } else {
                assert_eq!(decided, Err(CancelRefusal::TooFarAlong));
            }
        }
    }
    assert_eq!(CancelRefusal::TooFarAlong.code().code(), "003_003");
}

#[test]
fn a_used_mobile_card_forbids_the_cancel_and_a_terminated_one_is_left_as_it_is() {
    let now = MIDNIGHT_KST.plus_millis(HOUR);
    let mut used = cancel(MIDNIGHT_KST, now);
    used.mobile_card = Some(MobileCardFacts {
        status: CardStatus::Active,
        has_transactions: true,
    });
    assert_eq!(decide_cancel(&used), Err(CancelRefusal::TooFarAlong));

    let mut terminated = cancel(MIDNIGHT_KST, now);
    terminated.mobile_card = Some(MobileCardFacts {
        status: CardStatus::Terminated,
        has_transactions: false,
    });
    assert!(!decide_cancel(&terminated).unwrap().terminate_mobile_card);

    let mut without = cancel(MIDNIGHT_KST, now);
    without.mobile_card = None;
    without.delivery = None;
    without.status = ApplicationStatus::Ready;
    assert_eq!(
        decide_cancel(&without),
        Ok(CancelPlan {
            cancel_delivery: false,
            terminate_mobile_card: false
        })
    );
}

fn member() -> MemberId {
    MemberId::new(1001).unwrap()
}

fn other_member() -> MemberId {
    MemberId::new(1002).unwrap()
}

fn number(text: &str) -> CardApplyNo {
    CardApplyNo::parse(text).unwrap()
}

fn registration() -> RegistrationFacts {
    RegistrationFacts {
        member: member(),
        named: NamedApplication::NotNamed,
        card: Some(PhysicalCardFacts {
            owner: member(),
            application: number("2611301200000000000001"),
            status: CardStatus::Inactive,
            wrong_attempts: 0,
            expiry_matches: true,
            cvc_matches: true,
            shipped: true,
            delivery: DeliveryStatus::Shipping,
            mobile_card: Some(CardStatus::Active),
        }),
    }
}

fn with_card(change: impl FnOnce(&mut PhysicalCardFacts)) -> RegistrationFacts {
    let mut facts = registration();
    if let Some(card) = facts.card.as_mut() {
        change(card);
    }
    facts
}

#[test]
fn a_shipped_card_with_its_expiry_and_cvc_is_registered_and_linked_to_the_mobile_card() {
    assert_eq!(
        decide_registration(&registration()),
        Ok(RegistrationPlan {
            mobile_card: MobileCardPlan::LinkExisting,
            delivery_arrives: true
        })
    );
    let arrived = with_card(|card| {
        card.delivery = DeliveryStatus::Arrival;
        card.mobile_card = None;
    });
    assert_eq!(
        decide_registration(&arrived),
        Ok(RegistrationPlan {
            mobile_card: MobileCardPlan::IssueNew,
            delivery_arrives: false
        })
    );
}

#[test]
fn a_named_application_the_member_does_not_have_comes_before_anything_about_the_card() {
    let mut facts = with_card(|card| card.cvc_matches = false);
    facts.named = NamedApplication::Unknown;
    assert_eq!(
        decide_registration(&facts),
        Err(RegistrationRefusal {
            code: ErrorCode::CardIssueNotFound,
            wrong_attempts: None
        })
    );
}

#[test]
fn a_card_that_is_not_the_members_to_register_is_invalid_and_counts_nothing() {
    let not_to_register = [
        {
            let mut facts = registration();
            facts.card = None;
            facts
        },
        with_card(|card| card.owner = other_member()),
        with_card(|card| {
            card.owner = other_member();
            card.cvc_matches = false;
        }),
        with_card(|card| card.status = CardStatus::Active),
        with_card(|card| card.status = CardStatus::Terminated),
        with_card(|card| card.status = CardStatus::Suspended),
        with_card(|card| card.wrong_attempts = MOST_WRONG_REGISTRATIONS),
        {
            let mut facts = registration();
            facts.named = NamedApplication::Found(number("2611301200000000000002"));
            facts
        },
    ];
    for facts in not_to_register {
        let refusal = decide_registration(&facts).unwrap_err();
        assert_eq!(refusal.code.code(), "003_001", "{facts:?}");
        assert_eq!(refusal.wrong_attempts, None, "{facts:?}");
    }
    let mut named = registration();
    named.named = NamedApplication::Found(number("2611301200000000000001"));
    assert!(decide_registration(&named).is_ok());
}

#[test]
fn a_wrong_expiry_or_cvc_on_the_members_card_counts_and_the_fifth_locks_it() {
    for wrong in [
        with_card(|card| card.cvc_matches = false),
        with_card(|card| card.expiry_matches = false),
    ] {
        let refusal = decide_registration(&wrong).unwrap_err();
        assert_eq!(
            (refusal.code.code(), refusal.wrong_attempts, refusal.locks()),
            ("003_001", Some(1), false)
        );
    }
    let fifth = with_card(|card| {
        card.cvc_matches = false;
        card.wrong_attempts = MOST_WRONG_REGISTRATIONS - 1;
    });
    let refusal = decide_registration(&fifth).unwrap_err();
    assert_eq!(refusal.wrong_attempts, Some(5));
    assert!(refusal.locks());
    // A right CVC after four wrong ones still registers: a success resets the count.
    let after_four = with_card(|card| card.wrong_attempts = MOST_WRONG_REGISTRATIONS - 1);
    assert!(decide_registration(&after_four).is_ok());
}

#[test]
fn a_proven_card_not_shipped_yet_is_not_ready_and_a_terminated_mobile_card_cannot_be_linked() {
    let unshipped = with_card(|card| {
        card.shipped = false;
        card.delivery = DeliveryStatus::PreShipping;
    });
    assert_eq!(
        decide_registration(&unshipped).unwrap_err(),
        RegistrationRefusal {
            code: ErrorCode::CardIssueNotReady,
            wrong_attempts: None
        }
    );
    let wrong_and_unshipped = with_card(|card| {
        card.shipped = false;
        card.cvc_matches = false;
    });
    assert_eq!(
        decide_registration(&wrong_and_unshipped).unwrap_err().code,
        ErrorCode::InvalidCardInfo
    );
    let terminated = with_card(|card| card.mobile_card = Some(CardStatus::Terminated));
    assert_eq!(
        decide_registration(&terminated).unwrap_err().code.code(),
        "003_014"
    );
    let terminated_and_unshipped = with_card(|card| {
        card.mobile_card = Some(CardStatus::Terminated);
        card.shipped = false;
    });
    assert_eq!(
        decide_registration(&terminated_and_unshipped)
            .unwrap_err()
            .code
            .code(),
        "003_012"
    );
}

#[test]
fn the_pre_issue_list_holds_uncancelled_applications_with_a_mobile_card_awaiting_their_plastic() {
    let waiting = AwaitingFacts {
        status: ApplicationStatus::DigitalIssued,
        has_mobile_card: true,
        has_delivery: true,
        physical_card_registered: false,
    };
    assert!(awaits_physical_card(&waiting));
    assert!(awaits_physical_card(&AwaitingFacts {
        status: ApplicationStatus::PhysicalIssued,
        ..waiting
    }));
    for not_waiting in [
        AwaitingFacts {
            status: ApplicationStatus::Cancelled,
            ..waiting
        },
        AwaitingFacts {
            has_mobile_card: false,
            ..waiting
        },
        AwaitingFacts {
            has_delivery: false,
            ..waiting
        },
        AwaitingFacts {
            physical_card_registered: true,
            ..waiting
        },
    ] {
        assert!(!awaits_physical_card(&not_waiting), "{not_waiting:?}");
    }
}

fn any_card_status() -> impl Strategy<Value = CardStatus> {
    proptest::sample::select(CardStatus::ALL)
}

fn any_facts() -> impl Strategy<Value = RegistrationFacts> {
    let card = (
        any::<bool>(),
        any_card_status(),
        0..=7_u8,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(any_card_status()),
        any::<bool>(),
    )
        .prop_map(
            |(own, status, wrong_attempts, expiry, cvc, shipped, mobile, same_application)| {
                PhysicalCardFacts {
                    owner: if own { member() } else { other_member() },
                    application: number(if same_application {
                        "2611301200000000000001"
                    } else {
                        "2611301200000000000003"
                    }),
                    status,
                    wrong_attempts,
                    expiry_matches: expiry,
                    cvc_matches: cvc,
                    shipped,
                    delivery: if shipped {
                        DeliveryStatus::Shipping
                    } else {
                        DeliveryStatus::Receipt
                    },
                    mobile_card: mobile,
                }
            },
        );
    let named = prop_oneof![
        Just(NamedApplication::NotNamed),
        Just(NamedApplication::Unknown),
        Just(NamedApplication::Found(number("2611301200000000000001"))),
    ];
    (named, proptest::option::of(card)).prop_map(|(named, card)| RegistrationFacts {
        member: member(),
        named,
        card,
    })
}

proptest! {
    /// Whatever the facts: a registration succeeds only for the member's own unregistered,
    /// unlocked, shipped card with its expiry and CVC; a wrong attempt is recorded only for
    /// the member's own card that is not locked, never past the lock; and nothing but
    /// `003_001` is answered about a card whose expiry and CVC were not proven.
    #[test]
    fn a_registration_never_reveals_or_registers_an_unproven_card(facts in any_facts()) {
        let decided = decide_registration(&facts);
        let proven = facts.card.as_ref().is_some_and(|card| {
            card.owner == member()
                && card.status == CardStatus::Inactive
                && card.wrong_attempts < MOST_WRONG_REGISTRATIONS
                && card.expiry_matches
                && card.cvc_matches
                && match &facts.named {
                    NamedApplication::Found(named) => *named == card.application,
                    NamedApplication::NotNamed => true,
                    NamedApplication::Unknown => false,
                }
        });
        match &decided {
            Ok(_) => prop_assert!(proven),
            Err(refusal) => {
                if facts.named != NamedApplication::Unknown && !proven {
                    prop_assert_eq!(refusal.code, ErrorCode::InvalidCardInfo);
                }
                if let Some(count) = refusal.wrong_attempts {
                    let card = facts.card.as_ref().unwrap();
                    prop_assert_eq!(card.owner, member());
                    prop_assert!(card.wrong_attempts < MOST_WRONG_REGISTRATIONS);
                    prop_assert_eq!(count, card.wrong_attempts + 1);
                    prop_assert!(count <= MOST_WRONG_REGISTRATIONS);
                }
            }
        }
    }

    /// A cancel is allowed exactly on the day of application in KST, for any hour of it.
    #[test]
    fn a_cancel_is_allowed_exactly_on_the_korean_day_of_application(
        applied in 0..(24 * HOUR),
        later in 0..(72 * HOUR),
    ) {
        let applied_at = MIDNIGHT_KST.plus_millis(applied);
        let now = applied_at.plus_millis(later);
        let decided = decide_cancel(&cancel(applied_at, now));
        prop_assert_eq!(decided.is_ok(), applied + later < 24 * HOUR);
    }
}

fn walked(statuses: &[DeliveryStatus]) -> DeliveryHistory {
    let mut history = DeliveryHistory::start(MIDNIGHT_KST);
    for (status, minutes) in statuses.iter().zip(1_i64..) {
        history = history
            .advance(*status, MIDNIGHT_KST.plus_millis(minutes * 60_000))
            .unwrap();
    }
    history
}

fn reported(
    history: &DeliveryHistory,
    application: ApplicationStatus,
    has_physical_card: bool,
    next: DeliveryStatus,
) -> DeliveryChangeFacts<'_> {
    DeliveryChangeFacts {
        history,
        application,
        has_physical_card,
        next,
        at: MIDNIGHT_KST.plus_millis(HOUR),
    }
}

#[test]
fn reaching_pre_shipping_produces_the_physical_card_and_issues_the_application_physically() {
    use DeliveryStatus::{PreShipping, Receipt};
    let history = walked(&[Receipt]);
    for application in [ApplicationStatus::Ready, ApplicationStatus::DigitalIssued] {
        let plan =
            decide_delivery_change(&reported(&history, application, false, PreShipping)).unwrap();
        assert!(plan.produce_physical_card);
        assert_eq!(plan.application, Some(ApplicationStatus::PhysicalIssued));
        assert!(!plan.terminate_physical_card);
        assert_eq!(plan.history.current(), PreShipping);
        assert_eq!(plan.history.steps().len(), 3);
    }
}

#[test]
fn coming_back_to_pre_shipping_from_a_failure_produces_no_second_card() {
    use DeliveryStatus::{Etc, PreShipping, Receipt};
    let history = walked(&[Receipt, PreShipping, Etc]);
    let plan = decide_delivery_change(&reported(
        &history,
        ApplicationStatus::PhysicalIssued,
        true,
        PreShipping,
    ))
    .unwrap();
    assert!(!plan.produce_physical_card);
    assert_eq!(plan.application, None);
}

#[test]
fn the_other_steps_change_only_the_delivery() {
    use DeliveryStatus::{Arrival, Etc, PreShipping, Receipt, Return, Shipping};
    for (walk, next) in [
        (&[][..], Receipt),
        (&[Receipt, PreShipping][..], Shipping),
        (&[Receipt, PreShipping, Shipping][..], Arrival),
        (&[Receipt, PreShipping, Shipping][..], Return),
        (&[Receipt][..], Etc),
    ] {
        let history = walked(walk);
        let plan = decide_delivery_change(&reported(
            &history,
            ApplicationStatus::PhysicalIssued,
            true,
            next,
        ))
        .unwrap();
        assert_eq!(plan.history.current(), next);
        assert!(!plan.produce_physical_card, "{next:?}");
        assert!(!plan.terminate_physical_card, "{next:?}");
        assert_eq!(plan.application, None, "{next:?}");
    }
}

#[test]
fn a_lost_delivery_terminates_its_physical_card() {
    use DeliveryStatus::{Lost, PreShipping, Receipt, Shipping};
    let history = walked(&[Receipt, PreShipping, Shipping]);
    let plan = decide_delivery_change(&reported(
        &history,
        ApplicationStatus::PhysicalIssued,
        true,
        Lost,
    ))
    .unwrap();
    assert!(plan.terminate_physical_card);
    assert_eq!(plan.history.current(), Lost);
}

#[test]
fn the_partner_cannot_cancel_nor_make_a_change_the_table_forbids() {
    use DeliveryStatus::{Arrival, Cancel, PreShipping, Receipt, Shipping};
    let history = walked(&[Receipt]);
    let refused = decide_delivery_change(&reported(
        &history,
        ApplicationStatus::DigitalIssued,
        false,
        Cancel,
    ))
    .unwrap_err();
    assert_eq!(
        refused,
        DeliveryChangeRefusal::CancelledOnlyWithItsApplication
    );
    assert_eq!(refused.code(), ErrorCode::DeliveryChangeNotAllowed);
    assert_eq!(refused.code().code(), "003_091");
    let refused = decide_delivery_change(&reported(
        &history,
        ApplicationStatus::DigitalIssued,
        false,
        Shipping,
    ))
    .unwrap_err();
    assert_eq!(
        refused,
        DeliveryChangeRefusal::Table(DeliveryChangeRefused::NotAllowed {
            from: Receipt,
            to: Shipping
        })
    );
    assert_eq!(
        refused.to_string(),
        "a delivery cannot go from RECEIPT to SHIPPING"
    );
    let arrived = walked(&[Receipt, PreShipping, Shipping, Arrival]);
    assert!(matches!(
        decide_delivery_change(&reported(
            &arrived,
            ApplicationStatus::Completed,
            true,
            Receipt
        )),
        Err(DeliveryChangeRefusal::Table(DeliveryChangeRefused::Final(
            Arrival
        )))
    ));
}

#[test]
fn a_redelivery_starts_a_new_leg_and_terminates_a_returned_card() {
    use DeliveryStatus::{Lost, PreShipping, Ready, Receipt, Return, Shipping};
    let returned = walked(&[Receipt, PreShipping, Shipping, Return]);
    let at = MIDNIGHT_KST.plus_millis(HOUR);
    let plan = decide_redelivery(&returned, true, at).unwrap();
    assert_eq!(plan.history.current(), Ready);
    assert!(plan.terminate_physical_card);
    // The new leg produces a new card when it reaches PRE_SHIPPING again.
    let history = plan.history.advance(Receipt, at).unwrap();
    let produced = decide_delivery_change(&reported(
        &history,
        ApplicationStatus::PhysicalIssued,
        false,
        PreShipping,
    ))
    .unwrap();
    assert!(produced.produce_physical_card);
    assert_eq!(produced.application, None, "already physically issued");

    let lost = walked(&[Receipt, PreShipping, Shipping, Lost]);
    assert!(
        !decide_redelivery(&lost, false, at)
            .unwrap()
            .terminate_physical_card
    );
    let shipping = walked(&[Receipt, PreShipping, Shipping]);
    assert_eq!(
        decide_redelivery(&shipping, true, at),
        Err(DeliveryChangeRefusal::Table(
            DeliveryChangeRefused::NotAllowed {
                from: Shipping,
                to: Ready
            }
        ))
    );
}

fn any_delivery_status() -> impl Strategy<Value = DeliveryStatus> {
    proptest::sample::select(DeliveryStatus::ALL)
}

fn any_application_status() -> impl Strategy<Value = ApplicationStatus> {
    proptest::sample::select(ApplicationStatus::ALL)
}

proptest! {
    /// Whatever the partner reports, in whatever order: the delivery follows its table and
    /// never reaches `CANCEL`; a physical card is produced at most once, only on reaching
    /// `PRE_SHIPPING`; the application only ever becomes `PHYSICAL_ISSUED` where its own table
    /// allows; a card is terminated only when the delivery is lost.
    #[test]
    fn the_partner_moves_a_delivery_only_along_its_table(
        reports in proptest::collection::vec(any_delivery_status(), 0..24),
        application in any_application_status(),
    ) {
        let mut history = DeliveryHistory::start(MIDNIGHT_KST);
        let mut has_card = false;
        let mut produced = 0;
        for (next, minute) in reports.into_iter().zip(1_i64..) {
            let facts = DeliveryChangeFacts {
                history: &history,
                application,
                has_physical_card: has_card,
                next,
                at: MIDNIGHT_KST.plus_millis(minute * 60_000),
            };
            if let Ok(plan) = decide_delivery_change(&facts) {
                prop_assert_ne!(next, DeliveryStatus::Cancel);
                prop_assert_eq!(plan.history.current(), next);
                if plan.produce_physical_card {
                    prop_assert_eq!(next, DeliveryStatus::PreShipping);
                    produced += 1;
                    has_card = true;
                }
                if let Some(status) = plan.application {
                    prop_assert!(application.can_become(status));
                }
                if plan.terminate_physical_card {
                    prop_assert_eq!(next, DeliveryStatus::Lost);
                    has_card = false;
                }
                history = plan.history;
            }
        }
        prop_assert!(produced <= 1);
        prop_assert!(!history.reached(DeliveryStatus::Cancel));
    }
}
