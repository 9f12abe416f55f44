//! The text every value shows: what it stores, displays and logs. Adapters write these forms
//! to the wire, the database and the logs, so each is pinned here, in the crate that owns it,
//! and a secret's redaction is pinned as a rule, not left to chance.

use prepaid_domain::numbering::account_number;
use prepaid_domain::{
    AddressDetail, ApplicationType, Bin, CardApplyNo, CorrelationId, Cvc, DateTime, ErrorCode,
    Expiry, Field, MemberId, Par, ProductName, Purpose, RequestWindow, SecretKey, ServiceId,
    TimeZone, Timestamp, TranToken, ZipCode,
};

#[test]
fn stored_values_read_back_as_they_were_given() {
    assert_eq!(
        AddressDetail::parse("101동 1001호").unwrap().as_str(),
        "101동 1001호"
    );
    assert_eq!(ZipCode::parse("06236").unwrap().as_str(), "06236");
    assert_eq!(ProductName::parse("Mobile").unwrap().as_str(), "Mobile");
    assert_eq!(ApplicationType::Issue.as_str(), "ISSUE");
    assert_eq!(ApplicationType::Reissue.as_str(), "REISSUE");
    assert_eq!(ApplicationType::Renewal.as_str(), "RENEWAL");
    assert_eq!(Purpose::Giftable.as_str(), "GIFTABLE");
    assert_eq!(Cvc::parse("042").unwrap().expose(), "042");
}

#[test]
fn displayed_values_show_their_text() {
    assert_eq!(
        ServiceId::parse("000170000003000").unwrap().to_string(),
        "000170000003000"
    );
    assert_eq!(MemberId::new(1001).unwrap().to_string(), "1001");
    let correlation = CorrelationId::parse("261125153000-00a1b2f").unwrap();
    assert_eq!(correlation.to_string(), "261125153000-00a1b2f");
    let par = "A".repeat(27);
    assert_eq!(Par::parse(&par).unwrap().to_string(), par);
    let number = "2026112515300012345ABC";
    assert_eq!(CardApplyNo::parse(number).unwrap().to_string(), number);
    assert_eq!(
        ErrorCode::WalletUserNotFound.to_string(),
        "001_006 Wallet user not found."
    );
    assert_eq!(Field::UserId.to_string(), "userInfo.userId");
}

#[test]
fn secrets_show_nothing_of_themselves_in_debug_output() {
    assert_eq!(format!("{:?}", Cvc::parse("042").unwrap()), "Cvc(***)");
    let secret = SecretKey::parse(&"k".repeat(40)).unwrap();
    assert_eq!(format!("{secret:?}"), "SecretKey(<redacted>)");
    let civil = DateTime::with_millis(2026, 11, 25, 15, 30, 0, 123).unwrap();
    let token = TranToken::parse(&TranToken::compose(
        civil,
        "uLD+mU8mz9K95neGiSJTSsF3zzAQJglCggZAOSs5Fkg",
    ))
    .unwrap();
    let shown = format!("{token:?}");
    assert!(
        shown.contains("20261125153000123") && shown.contains("<redacted>"),
        "{shown}"
    );
    assert!(!shown.contains("uLD+mU8"), "{shown}");
    let refused = SecretKey::parse("short").unwrap_err().to_string();
    assert_eq!(
        refused,
        "secret key must have at least 32 printable ASCII characters"
    );
}

#[test]
fn only_the_platform_s_own_codes_are_documented_by_it() {
    for code in [
        ErrorCode::Success,
        ErrorCode::InvalidInput,
        ErrorCode::MissingValue,
        ErrorCode::LengthMismatch,
        ErrorCode::WalletUserNotFound,
        ErrorCode::DeliveryRequiredForNormalType,
    ] {
        assert!(code.is_documented_by_platform(), "{code}");
    }
    for code in [
        ErrorCode::AuthenticationFailed,
        ErrorCode::ReplayedTranToken,
        ErrorCode::SystemError,
    ] {
        assert!(!code.is_documented_by_platform(), "{code}");
    }
}

#[test]
fn a_request_window_is_1_second_to_1_day_counted_in_milliseconds() {
    assert_eq!(RequestWindow::from_seconds(0), None);
    assert_eq!(RequestWindow::from_seconds(1).unwrap().millis(), 1_000);
    assert_eq!(RequestWindow::from_seconds(300).unwrap().millis(), 300_000);
    assert_eq!(
        RequestWindow::from_seconds(86_400).unwrap().millis(),
        86_400_000
    );
    assert_eq!(RequestWindow::from_seconds(86_401), None);
    assert_eq!(RequestWindow::DEFAULT.millis(), 300_000);
}

#[test]
fn a_product_name_is_neither_blank_nor_carries_control_characters() {
    assert!(ProductName::parse("   ").is_err());
    assert!(ProductName::parse("Mobile\u{1}").is_err());
    assert!(ProductName::parse("Mobile plus").is_ok());
}

#[test]
fn a_bin_holds_ten_to_the_power_of_its_account_digits() {
    assert_eq!(
        Bin::parse("943512").unwrap().account_capacity(),
        1_000_000_000
    );
    assert_eq!(
        Bin::parse("94351200").unwrap().account_capacity(),
        10_000_000
    );
}

#[test]
fn dates_and_instants_read_back_their_parts() {
    let expiry = Expiry::parse("3111").unwrap();
    assert_eq!((expiry.year(), expiry.month()), (2031, 11));
    let civil = DateTime::with_millis(2026, 11, 25, 15, 30, 7, 123).unwrap();
    assert_eq!((civil.year(), civil.month(), civil.day()), (2026, 11, 25));
    assert_eq!(civil.millisecond(), 123);
    let instant = civil.in_zone(TimeZone::Utc);
    assert_eq!(instant.as_millis(), 1_795_620_607_123);
    assert_eq!(Timestamp::from_millis(-5).as_millis(), -5);
}

#[test]
fn the_last_day_of_a_400_year_era_is_read_as_such() {
    // 2000-02-29 is day 146,096 of its era, the one day the era's last correction changes.
    let leap = Timestamp::from_millis(11_016 * 86_400_000)
        .civil(TimeZone::Utc)
        .unwrap();
    assert_eq!((leap.year(), leap.month(), leap.day()), (2000, 2, 29));
    let next = Timestamp::from_millis(11_017 * 86_400_000)
        .civil(TimeZone::Utc)
        .unwrap();
    assert_eq!((next.year(), next.month(), next.day()), (2000, 3, 1));
}

#[test]
fn the_permutation_of_a_space_of_16_is_pinned() {
    // The space's bit width is part of the permutation: 16 numbers take 4 bits, not 5.
    let mut round = |round: u8, half: u64| (half * 7 + u64::from(round) * 3) ^ 0b1011;
    let numbers: Vec<u64> = (0..16)
        .map(|serial| account_number(16, serial, &mut round).unwrap())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..16).collect::<Vec<_>>());
    assert_eq!(numbers, PINNED_16);
}

/// The permutation above, as computed when this test was written.
const PINNED_16: [u64; 16] = [14, 3, 4, 9, 7, 10, 13, 0, 12, 1, 6, 11, 5, 8, 15, 2];
