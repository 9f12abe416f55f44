use proptest::prelude::*;

use super::*;

const T0: Timestamp = Timestamp::from_millis(1_764_000_000_000);

fn walk(statuses: &[DeliveryStatus]) -> Result<DeliveryHistory, DeliveryChangeRefused> {
    let mut history = DeliveryHistory::start(T0);
    for (index, status) in statuses.iter().enumerate() {
        let at = T0.plus_millis(1_000 * (i64::try_from(index).unwrap_or(0) + 1));
        history = history.advance(*status, at)?;
    }
    Ok(history)
}

#[test]
fn a_delivery_goes_from_ready_to_arrival_one_step_at_a_time() {
    use DeliveryStatus::{Arrival, PreShipping, Receipt, Shipping};
    let history = walk(&[Receipt, PreShipping, Shipping, Arrival]).unwrap();
    assert_eq!(history.current(), Arrival);
    assert_eq!(history.steps().len(), 5);
    assert!(history.reached(Shipping));
    assert!(!history.reached(DeliveryStatus::Lost));
}

#[test]
fn the_way_along_is_the_tables_way_to_arrival_and_stops_at_a_final_status() {
    use DeliveryStatus::{Arrival, Etc, PreShipping, Ready, Receipt, Shipping};
    let mut way = vec![Ready];
    while let Some(next) = way.last().and_then(|status| status.next_along()) {
        way.push(next);
    }
    assert_eq!(way, [Ready, Receipt, PreShipping, Shipping, Arrival]);
    for status in DeliveryStatus::ALL {
        if let Some(next) = status.next_along() {
            assert!(status.is_step(next), "{status:?}");
        } else {
            assert!(status.is_final() || *status == Etc, "{status:?}");
        }
    }
}

#[test]
fn a_lost_or_returned_delivery_is_sent_again_as_a_new_leg_and_nothing_else_is() {
    use DeliveryStatus::{Arrival, Lost, PreShipping, Ready, Receipt, Return, Shipping};
    for end in [Lost, Return] {
        let ended = walk(&[Receipt, PreShipping, Shipping, end]).unwrap();
        let at = T0.plus_millis(10_000);
        let again = ended.redeliver(at).unwrap();
        assert_eq!(again.current(), Ready);
        assert_eq!(again.steps().len(), 6);
        assert!(again.reached(Shipping));
        assert!(!again.reached_on_this_leg(Shipping));
        assert!(again.reached_on_this_leg(Ready));
        let moved = again.advance(Receipt, at).unwrap();
        assert!(moved.reached_on_this_leg(Receipt));
        let further = moved.advance(PreShipping, at).unwrap();
        assert!(further.reached_on_this_leg(Receipt), "the whole leg counts");
        assert!(!further.reached_on_this_leg(Shipping));
        assert_eq!(
            DeliveryHistory::from_steps(moved.steps()),
            Ok(moved.clone())
        );
        assert_eq!(
            ended.redeliver(T0),
            Err(DeliveryChangeRefused::BeforeTheLastChange)
        );
        assert_eq!(
            ended.advance(Ready, at),
            Err(DeliveryChangeRefused::Final(end)),
            "READY is reached only by a redelivery"
        );
    }
    for status in [Ready, Receipt, PreShipping, Shipping, Arrival] {
        let mut statuses = vec![Receipt, PreShipping, Shipping, Arrival];
        statuses.truncate(
            statuses
                .iter()
                .position(|other| *other == status)
                .map_or(0, |index| index + 1),
        );
        let history = walk(&statuses).unwrap();
        assert_eq!(
            history.redeliver(T0.plus_millis(10_000)),
            Err(DeliveryChangeRefused::NotAllowed {
                from: status,
                to: Ready
            }),
            "{status:?}"
        );
    }
    // A READY after anything but a loss or a return is not a history.
    let steps = [
        DeliveryStep {
            status: Ready,
            at: T0,
        },
        DeliveryStep {
            status: Receipt,
            at: T0,
        },
        DeliveryStep {
            status: Ready,
            at: T0,
        },
    ];
    assert!(DeliveryHistory::from_steps(&steps).is_err());
}

#[test]
fn a_redelivery_needs_room_for_a_whole_leg() {
    use DeliveryStatus::{Lost, PreShipping, Receipt, Shipping};
    let mut history = DeliveryHistory::start(T0);
    let mut legs = 0;
    loop {
        for status in [Receipt, PreShipping, Shipping, Lost] {
            history = history.advance(status, T0).unwrap();
        }
        match history.redeliver(T0) {
            Ok(again) => {
                history = again;
                legs += 1;
            }
            Err(refused) => {
                assert_eq!(refused, DeliveryChangeRefused::TooManyFailures);
                break;
            }
        }
    }
    assert_eq!(history.steps().len(), 60, "12 whole legs of five steps");
    assert_eq!(legs, 11);
    assert!(history.steps().len() + 5 > DeliveryHistory::MOST_STEPS);
}

#[test]
fn a_redelivery_that_just_fits_is_made() {
    use DeliveryStatus::{Etc, Lost, PreShipping, Ready, Receipt, Shipping};
    // Nine steps with two failures, then ten more legs: 59 steps, ending lost.
    let mut history = walk(&[
        Etc,
        Ready,
        Receipt,
        Etc,
        Receipt,
        PreShipping,
        Shipping,
        Lost,
    ])
    .unwrap();
    for _ in 0..10 {
        history = history.redeliver(T0.plus_millis(60_000)).unwrap();
        for status in [Receipt, PreShipping, Shipping, Lost] {
            history = history.advance(status, T0.plus_millis(60_000)).unwrap();
        }
    }
    assert_eq!(history.steps().len(), 59);
    let last = history.redeliver(T0.plus_millis(60_000)).unwrap();
    assert_eq!(last.steps().len(), 60, "a whole leg still fits");
    let mut history = last;
    for status in [Receipt, PreShipping, Shipping, Lost] {
        history = history.advance(status, T0.plus_millis(60_000)).unwrap();
    }
    assert_eq!(history.steps().len(), DeliveryHistory::MOST_STEPS);
    assert_eq!(
        history.redeliver(T0.plus_millis(60_000)),
        Err(DeliveryChangeRefused::TooManyFailures)
    );
}

#[test]
fn a_delivery_cannot_skip_a_step_or_go_back() {
    use DeliveryStatus::{PreShipping, Ready, Receipt, Shipping};
    assert_eq!(
        walk(&[Shipping]),
        Err(DeliveryChangeRefused::NotAllowed {
            from: Ready,
            to: Shipping
        })
    );
    assert_eq!(
        walk(&[Receipt, PreShipping, Receipt]),
        Err(DeliveryChangeRefused::NotAllowed {
            from: PreShipping,
            to: Receipt
        })
    );
}

#[test]
fn only_a_delivery_not_yet_prepared_is_cancelled() {
    use DeliveryStatus::{Cancel, PreShipping, Receipt};
    assert!(walk(&[Cancel]).is_ok());
    assert!(walk(&[Receipt, Cancel]).is_ok());
    assert!(walk(&[Receipt, PreShipping, Cancel]).is_err());
}

#[test]
fn only_a_shipped_delivery_is_lost_or_returned() {
    use DeliveryStatus::{Lost, PreShipping, Receipt, Return, Shipping};
    assert!(walk(&[Receipt, PreShipping, Shipping, Lost]).is_ok());
    assert!(walk(&[Receipt, PreShipping, Shipping, Return]).is_ok());
    assert!(walk(&[Receipt, PreShipping, Lost]).is_err());
    assert!(walk(&[Receipt, Return]).is_err());
}

#[test]
fn a_system_failure_returns_to_the_status_it_left_and_nowhere_else() {
    use DeliveryStatus::{Etc, PreShipping, Receipt, Shipping};
    let history = walk(&[Receipt, Etc, Receipt, PreShipping, Etc]).unwrap();
    assert_eq!(history.current(), Etc);
    assert!(history.advance(PreShipping, T0.plus_millis(9_000)).is_ok());
    assert_eq!(
        history.advance(Shipping, T0.plus_millis(9_000)),
        Err(DeliveryChangeRefused::NotAllowed {
            from: Etc,
            to: Shipping
        })
    );
    assert!(walk(&[Etc, DeliveryStatus::Ready]).is_ok());
}

#[test]
fn a_change_dated_before_the_last_one_is_refused_and_the_same_instant_is_not() {
    let history = DeliveryHistory::start(T0);
    assert_eq!(
        history.advance(DeliveryStatus::Receipt, T0.plus_millis(-1)),
        Err(DeliveryChangeRefused::BeforeTheLastChange)
    );
    assert!(history.advance(DeliveryStatus::Receipt, T0).is_ok());
}

#[test]
fn failures_are_recorded_only_while_the_way_back_and_on_still_fits() {
    use DeliveryStatus::{Arrival, Etc, PreShipping, Receipt, Shipping};
    let mut history = walk(&[Receipt]).unwrap();
    let at = T0.plus_millis(60_000);
    while let Ok(failed) = history.advance(Etc, at) {
        history = failed.advance(Receipt, at).unwrap();
    }
    assert_eq!(history.steps().len(), DeliveryHistory::MOST_STEPS - 4);
    assert_eq!(
        history.advance(Etc, at),
        Err(DeliveryChangeRefused::TooManyFailures)
    );
    for next in [PreShipping, Shipping, Arrival] {
        history = history.advance(next, at).unwrap();
    }
    assert_eq!(history.steps().len(), DeliveryHistory::MOST_STEPS - 1);
}

#[test]
fn a_stored_history_is_read_back_only_when_the_table_allows_it() {
    let steps = walk(&[DeliveryStatus::Receipt, DeliveryStatus::PreShipping])
        .unwrap()
        .steps()
        .to_vec();
    assert_eq!(
        DeliveryHistory::from_steps(&steps).unwrap().steps(),
        &steps[..]
    );
    assert!(DeliveryHistory::from_steps(&[]).is_err());
    assert!(DeliveryHistory::from_steps(&steps[1..]).is_err());
    let mut swapped = steps.clone();
    swapped.swap(1, 2);
    assert!(DeliveryHistory::from_steps(&swapped).is_err());
}

#[test]
fn a_final_delivery_changes_no_more_not_even_to_a_system_failure() {
    use DeliveryStatus::{Arrival, Cancel, Etc, Lost, PreShipping, Receipt, Return, Shipping};
    for (path, last) in [
        (vec![Receipt, PreShipping, Shipping, Arrival], Arrival),
        (vec![Receipt, PreShipping, Shipping, Lost], Lost),
        (vec![Receipt, PreShipping, Shipping, Return], Return),
        (vec![Cancel], Cancel),
    ] {
        let history = walk(&path).unwrap();
        assert_eq!(
            history.advance(Etc, T0.plus_millis(60_000)),
            Err(DeliveryChangeRefused::Final(last))
        );
    }
    let finals: Vec<_> = DeliveryStatus::ALL
        .iter()
        .filter(|status| status.is_final())
        .collect();
    assert_eq!(finals, [&Arrival, &Lost, &Return, &Cancel]);
}

#[test]
fn a_refused_delivery_change_says_why() {
    use DeliveryStatus::{Arrival, Ready, Shipping};
    assert_eq!(
        DeliveryChangeRefused::Final(Arrival).to_string(),
        "the delivery is ARRIVAL (final)"
    );
    assert_eq!(
        DeliveryChangeRefused::NotAllowed {
            from: Ready,
            to: Shipping
        }
        .to_string(),
        "a delivery cannot go from READY to SHIPPING"
    );
    assert_eq!(
        DeliveryChangeRefused::BeforeTheLastChange.to_string(),
        "the change is dated before the last one"
    );
}

#[test]
fn completed_cancelled_and_a_failed_fee_are_the_final_application_statuses() {
    let finals: Vec<_> = ApplicationStatus::ALL
        .iter()
        .copied()
        .filter(|status| status.is_final())
        .collect();
    assert_eq!(
        finals,
        [
            ApplicationStatus::CostPayFailed,
            ApplicationStatus::Completed,
            ApplicationStatus::Cancelled
        ]
    );
    for last in finals {
        assert!(
            !ApplicationStatus::ALL
                .iter()
                .any(|next| last.can_become(*next))
        );
    }
}

#[test]
fn the_application_table_lists_exactly_its_changes() {
    use ApplicationStatus::{
        Cancelled, Completed, CostPaid, CostPayFailed, CostPaying, DigitalIssued, PhysicalIssued,
        Ready,
    };
    let allowed = [
        (Ready, CostPaying),
        (Ready, DigitalIssued),
        (Ready, PhysicalIssued),
        (Ready, Completed),
        (Ready, Cancelled),
        (CostPaying, CostPaid),
        (CostPaying, CostPayFailed),
        (CostPaid, DigitalIssued),
        (CostPaid, PhysicalIssued),
        (CostPaid, Completed),
        (CostPaid, Cancelled),
        (DigitalIssued, PhysicalIssued),
        (DigitalIssued, Completed),
        (DigitalIssued, Cancelled),
        (PhysicalIssued, Completed),
    ];
    for from in ApplicationStatus::ALL {
        for to in ApplicationStatus::ALL {
            assert_eq!(
                from.can_become(*to),
                allowed.contains(&(*from, *to)),
                "{from:?} → {to:?}"
            );
        }
    }
}

fn any_delivery_status() -> impl Strategy<Value = DeliveryStatus> {
    proptest::sample::select(DeliveryStatus::ALL)
}

fn any_application_status() -> impl Strategy<Value = ApplicationStatus> {
    proptest::sample::select(ApplicationStatus::ALL)
}

proptest! {
    /// Whatever is asked, in whatever order and at whatever times: every change kept is one
    /// the table lists, the history only grows and stays in time order, a refusal changes
    /// nothing, and nothing follows a final status.
    #[test]
    fn no_sequence_of_changes_leaves_the_delivery_table(
        asked in prop::collection::vec((any_delivery_status(), -5_000_i64..60_000), 0..40)
    ) {
        let mut history = DeliveryHistory::start(T0);
        let mut at = T0;
        for (next, delta) in asked {
            at = at.plus_millis(delta);
            let before = history.clone();
            match history.advance(next, at) {
                Ok(after) => {
                    prop_assert!(!before.current().is_final());
                    prop_assert_eq!(&after.steps()[..before.steps().len()], before.steps());
                    prop_assert_eq!(after.steps().len(), before.steps().len() + 1);
                    prop_assert_eq!(after.current(), next);
                    history = after;
                }
                Err(DeliveryChangeRefused::Final(status)) => {
                    prop_assert!(status.is_final());
                }
                Err(_) => {}
            }
            prop_assert_eq!(before.steps(), &history.steps()[..before.steps().len()]);
        }
        let steps = history.steps();
        prop_assert_eq!(steps[0].status, DeliveryStatus::Ready);
        for pair in steps.windows(2) {
            prop_assert!(pair[0].at <= pair[1].at);
            let (from, to) = (pair[0].status, pair[1].status);
            prop_assert!(
                from.is_step(to) || to == DeliveryStatus::Etc || from == DeliveryStatus::Etc,
                "{:?} → {:?}", from, to
            );
        }
        for (index, step) in steps.iter().enumerate() {
            if step.status == DeliveryStatus::Etc && index + 1 < steps.len() {
                prop_assert_eq!(steps[index + 1].status, steps[index - 1].status);
            }
        }
        prop_assert_eq!(DeliveryHistory::from_steps(steps), Ok(history.clone()));
    }

    /// However often a delivery fails and recovers, its history never outgrows
    /// `MOST_STEPS`, and a step on along the table is never refused for its length.
    #[test]
    fn a_failing_delivery_never_outgrows_its_history(fails in prop::collection::vec(any::<bool>(), 0..300)) {
        let mut history = DeliveryHistory::start(T0);
        for fail in fails {
            let current = history.current();
            if current.is_final() {
                break;
            }
            let on = match current {
                DeliveryStatus::Etc => history.left_for_etc().unwrap(),
                DeliveryStatus::Ready => DeliveryStatus::Receipt,
                DeliveryStatus::Receipt => DeliveryStatus::PreShipping,
                DeliveryStatus::PreShipping => DeliveryStatus::Shipping,
                _ => DeliveryStatus::Arrival,
            };
            if fail && current != DeliveryStatus::Etc {
                match history.advance(DeliveryStatus::Etc, T0) {
                    Ok(failed) => history = failed,
                    Err(refused) => prop_assert_eq!(refused, DeliveryChangeRefused::TooManyFailures),
                }
            } else {
                history = history.advance(on, T0).unwrap();
            }
            prop_assert!(history.steps().len() <= DeliveryHistory::MOST_STEPS);
        }
    }

    /// Following the application table from `READY`, a final status is never left and
    /// every status reached is one the table leads to.
    #[test]
    fn no_sequence_of_changes_leaves_the_application_table(
        asked in prop::collection::vec(any_application_status(), 0..30)
    ) {
        let mut status = ApplicationStatus::Ready;
        for next in asked {
            if status.can_become(next) {
                prop_assert!(!status.is_final());
                status = next;
            }
        }
        for next in ApplicationStatus::ALL {
            prop_assert!(!(status.is_final() && status.can_become(*next)));
        }
    }
}
