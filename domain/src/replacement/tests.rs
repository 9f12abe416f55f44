use proptest::prelude::*;

use super::*;
use crate::time::DateTime;

/// The instant of `year-month-day hour:minute` in Korea Standard Time.
fn kst(year: u16, month: u8, day: u8, hour: u8, minute: u8) -> Timestamp {
    DateTime::new(year, month, day, hour, minute, 0)
        .unwrap()
        .in_zone(TimeZone::Kst)
}

fn renewal(expiry: &str, now: Timestamp) -> RenewalFacts {
    RenewalFacts {
        status: CardStatus::Active,
        expiry: Expiry::parse(expiry).unwrap(),
        already_renewed: false,
        product_active: true,
        now,
    }
}

#[test]
fn a_card_is_renewed_from_thirty_days_before_its_last_day_to_that_day() {
    // 2027-03: valid to 31 March; 30 days before is 1 March.
    assert_eq!(
        decide_renewal(&renewal("2703", kst(2027, 3, 1, 0, 0))),
        Ok(())
    );
    assert_eq!(
        decide_renewal(&renewal("2703", kst(2027, 2, 28, 23, 59))),
        Err(RenewalRefusal::NotDue),
        "31 days before"
    );
    assert_eq!(
        decide_renewal(&renewal("2703", kst(2027, 3, 31, 23, 59))),
        Ok(())
    );
    assert_eq!(
        Expiry::parse("2704")
            .unwrap()
            .days_left(kst(2027, 4, 1, 0, 0)),
        29,
        "April has 30 days"
    );
    assert_eq!(
        decide_renewal(&renewal("2703", kst(2027, 4, 1, 0, 0))),
        Err(RenewalRefusal::NotDue),
        "expired: past its last day"
    );
    assert_eq!(RenewalRefusal::NotDue.code().code(), "003_006");
}

#[test]
fn february_ends_on_the_29th_in_a_leap_year_and_the_28th_otherwise() {
    // 2028 is a leap year: 29 Feb minus 30 days is 30 Jan.
    assert_eq!(
        Expiry::parse("2802")
            .unwrap()
            .days_left(kst(2028, 1, 30, 12, 0)),
        30
    );
    assert_eq!(
        decide_renewal(&renewal("2802", kst(2028, 1, 30, 0, 0))),
        Ok(())
    );
    assert_eq!(
        decide_renewal(&renewal("2802", kst(2028, 1, 29, 23, 59))),
        Err(RenewalRefusal::NotDue)
    );
    assert_eq!(
        Expiry::parse("2802")
            .unwrap()
            .days_left(kst(2028, 2, 29, 23, 59)),
        0
    );
    // 2027 is not: 28 Feb minus 30 days is 29 Jan.
    assert_eq!(
        decide_renewal(&renewal("2702", kst(2027, 1, 29, 0, 0))),
        Ok(())
    );
    assert_eq!(
        decide_renewal(&renewal("2702", kst(2027, 1, 28, 23, 59))),
        Err(RenewalRefusal::NotDue)
    );
    assert_eq!(
        decide_renewal(&renewal("2702", kst(2027, 3, 1, 0, 0))),
        Err(RenewalRefusal::NotDue)
    );
}

#[test]
fn the_window_opens_at_midnight_in_korea_not_in_utc() {
    // 29 Jan 2027 00:00 KST is 28 Jan 15:00 UTC.
    let opens = kst(2027, 1, 29, 0, 0);
    assert_eq!(decide_renewal(&renewal("2702", opens)), Ok(()));
    assert_eq!(
        decide_renewal(&renewal("2702", opens.plus_millis(-1))),
        Err(RenewalRefusal::NotDue)
    );
    // And closes at midnight after its last day, KST: 1 Mar 00:00 KST is 28 Feb 15:00 UTC.
    let closes = kst(2027, 3, 1, 0, 0);
    assert_eq!(
        decide_renewal(&renewal("2702", closes.plus_millis(-1))),
        Ok(())
    );
    assert_eq!(
        decide_renewal(&renewal("2702", closes)),
        Err(RenewalRefusal::NotDue)
    );
}

#[test]
fn a_renewal_is_refused_in_d22s_order() {
    let due = kst(2027, 3, 15, 9, 0);
    let terminated = RenewalFacts {
        status: CardStatus::Terminated,
        already_renewed: true,
        product_active: false,
        ..renewal("2703", due)
    };
    assert_eq!(
        decide_renewal(&terminated),
        Err(RenewalRefusal::NotActiveOrSuspended)
    );
    assert_eq!(
        decide_renewal(&RenewalFacts {
            now: kst(2027, 1, 1, 0, 0),
            ..terminated
        }),
        Err(RenewalRefusal::NotDue),
        "the window first"
    );
    let inactive = RenewalFacts {
        status: CardStatus::Inactive,
        ..renewal("2703", due)
    };
    assert_eq!(
        decide_renewal(&inactive),
        Err(RenewalRefusal::NotActiveOrSuspended)
    );
    let renewed = RenewalFacts {
        status: CardStatus::Suspended,
        already_renewed: true,
        product_active: false,
        ..renewal("2703", due)
    };
    assert_eq!(
        decide_renewal(&renewed),
        Err(RenewalRefusal::AlreadyRenewed)
    );
    let withdrawn = RenewalFacts {
        already_renewed: false,
        ..renewed
    };
    assert_eq!(
        decide_renewal(&withdrawn),
        Err(RenewalRefusal::ProductNotValid)
    );
    for (refusal, code) in [
        (RenewalRefusal::NotActiveOrSuspended, "003_005"),
        (RenewalRefusal::AlreadyRenewed, "003_004"),
        (RenewalRefusal::ProductNotValid, "003_009"),
    ] {
        assert_eq!(refusal.code().code(), code);
    }
}

fn lost() -> ReissueFacts {
    ReissueFacts {
        status: CardStatus::Suspended,
        wrong_registrations: 0,
        reissue: None,
        next_product: NextProduct::Found {
            same_type: true,
            active: true,
            pre_issuance: true,
        },
    }
}

#[test]
fn a_card_reported_lost_is_reissued_with_a_mobile_card_now_for_a_pre_issuance_product() {
    assert_eq!(
        decide_reissue(&lost()),
        Ok(ReissuePlan {
            mobile_card_now: true
        })
    );
    let later = ReissueFacts {
        next_product: NextProduct::Found {
            same_type: true,
            active: true,
            pre_issuance: false,
        },
        ..lost()
    };
    assert_eq!(
        decide_reissue(&later),
        Ok(ReissuePlan {
            mobile_card_now: false
        })
    );
}

#[test]
fn a_reissue_is_refused_in_d22s_order() {
    let everything_wrong = ReissueFacts {
        status: CardStatus::Terminated,
        wrong_registrations: MOST_WRONG_REGISTRATIONS,
        reissue: Some(ApplicationStatus::Completed),
        next_product: NextProduct::Unknown,
    };
    assert_eq!(
        decide_reissue(&everything_wrong),
        Err(ReissueRefusal::AlreadyReissued)
    );
    for in_progress in [
        ApplicationStatus::Ready,
        ApplicationStatus::CostPaying,
        ApplicationStatus::CostPaid,
        ApplicationStatus::DigitalIssued,
        ApplicationStatus::PhysicalIssued,
    ] {
        let facts = ReissueFacts {
            reissue: Some(in_progress),
            ..everything_wrong
        };
        assert_eq!(
            decide_reissue(&facts),
            Err(ReissueRefusal::ReissueInProgress),
            "{in_progress:?}"
        );
    }
    for ended in [
        None,
        Some(ApplicationStatus::Cancelled),
        Some(ApplicationStatus::CostPayFailed),
    ] {
        let facts = ReissueFacts {
            reissue: ended,
            ..everything_wrong
        };
        assert_eq!(
            decide_reissue(&facts),
            Err(ReissueRefusal::NotReportedLost),
            "{ended:?}"
        );
    }
    for status in [CardStatus::Active, CardStatus::Inactive] {
        let facts = ReissueFacts { status, ..lost() };
        assert_eq!(decide_reissue(&facts), Err(ReissueRefusal::NotReportedLost));
    }
    let locked = ReissueFacts {
        wrong_registrations: MOST_WRONG_REGISTRATIONS,
        ..lost()
    };
    assert_eq!(
        decide_reissue(&locked),
        Err(ReissueRefusal::NotReportedLost),
        "locked by wrong attempts is not lost"
    );
    for next_product in [
        NextProduct::Unknown,
        NextProduct::Found {
            same_type: false,
            active: true,
            pre_issuance: true,
        },
        NextProduct::Found {
            same_type: true,
            active: false,
            pre_issuance: true,
        },
    ] {
        let facts = ReissueFacts {
            next_product,
            ..lost()
        };
        assert_eq!(
            decide_reissue(&facts),
            Err(ReissueRefusal::InvalidNextProduct)
        );
    }
    for (refusal, code) in [
        (ReissueRefusal::AlreadyReissued, "003_018"),
        (ReissueRefusal::ReissueInProgress, "003_020"),
        (ReissueRefusal::NotReportedLost, "003_090"),
        (ReissueRefusal::InvalidNextProduct, "003_048"),
    ] {
        assert_eq!(refusal.code().code(), code);
    }
}

fn any_expiry() -> impl Strategy<Value = Expiry> {
    (0_u16..100, 1_u8..=12)
        .prop_map(|(year, month)| Expiry::parse(&format!("{year:02}{month:02}")).unwrap())
}

proptest! {
    /// Whatever the card's expiry and the moment: a renewal is due exactly when the card's last
    /// valid day, in Korea, is today or within the next 30 days; the day count moves by one
    /// at each midnight in Korea.
    #[test]
    fn a_renewal_is_due_exactly_in_the_thirty_days_before_the_last_day(
        expiry in any_expiry(),
        before in -40_i64..40,
        minute_of_day in 0_i64..1_440,
    ) {
        let last = expiry.last_day_number();
        let midnight = Timestamp::from_millis(last * 86_400_000 - 9 * 3_600_000);
        let now = midnight.plus_millis(-before * 86_400_000 + minute_of_day * 60_000);
        prop_assert_eq!(expiry.days_left(now), before);
        let due = decide_renewal(&RenewalFacts {
            status: CardStatus::Active,
            expiry,
            already_renewed: false,
            product_active: true,
            now,
        });
        prop_assert_eq!(due.is_ok(), (0..=RENEWAL_WINDOW_DAYS).contains(&before));
        let civil = now.civil(TimeZone::Kst).unwrap();
        if before == 0 {
            prop_assert_eq!((civil.year(), civil.month()), (expiry.year(), expiry.month()));
            prop_assert_eq!(civil.day(), crate::time::days_in_month(expiry.year(), expiry.month()));
        }
    }
}
