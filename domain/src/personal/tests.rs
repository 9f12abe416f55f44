use proptest::prelude::*;

use super::*;
use crate::error::Rule;
use crate::member::MemberId;

const MOBILE: &str = "01039571862";

fn refused(result: Result<impl Sized, FieldError>) -> Option<(Field, Rule)> {
    result.err().map(|error| (error.field(), error.rule()))
}

#[test]
fn a_password_is_six_digits_without_runs_and_not_inside_the_mobile_number() {
    for accepted in [
        "121212", "135790", "890246", "112233", "904172", "395719", "099088",
    ] {
        assert!(LoginPassword::parse(accepted, MOBILE).is_ok(), "{accepted}");
    }
    for (password, why) in [
        ("111024", "a digit three times in a row"),
        ("240000", "a digit three times in a row, at the end"),
        ("123904", "ascending"),
        ("904567", "ascending, at the end"),
        ("987024", "descending"),
        ("902210", "descending, at the end"),
        ("890123", "ascending after a wrap that is not one"),
        ("395718", "inside the mobile number"),
        ("010395", "the mobile number's start"),
        ("571862", "the mobile number's end"),
        ("12a456", "not a digit"),
        ("1234５6", "a full-width digit"),
        ("-12345", "a sign"),
    ] {
        assert_eq!(
            refused(LoginPassword::parse(password, MOBILE)),
            Some((Field::LoginPassword, Rule::Invalid)),
            "{password}: {why}"
        );
    }
    for password in ["", "13579", "1357913"] {
        assert_eq!(
            refused(LoginPassword::parse(password, MOBILE)),
            Some((Field::LoginPassword, Rule::Length)),
            "{password}"
        );
    }
    // Checked against the mobile number as sent, whatever it is.
    assert!(LoginPassword::parse("395718", "").is_ok());
}

#[test]
fn a_password_attempt_is_six_digits_whatever_the_sign_up_rules_say() {
    for guess in ["111111", "123456", "000000", "987654"] {
        assert_eq!(LoginPassword::attempt(guess).unwrap().expose(), guess);
    }
    for guess in ["12a456", "1234５6", "-12345", "12345 "] {
        assert_eq!(
            refused(LoginPassword::attempt(guess)),
            Some((Field::LoginPassword, Rule::Invalid)),
            "{guess}"
        );
    }
    for guess in ["", "13579", "1357913"] {
        assert_eq!(
            refused(LoginPassword::attempt(guess)),
            Some((Field::LoginPassword, Rule::Length)),
            "{guess}"
        );
    }
}

#[test]
fn a_password_locks_at_the_fifth_wrong_attempt_in_a_row() {
    assert_eq!(MOST_WRONG_PASSWORDS, 5);
    for wrong in 0..5 {
        assert!(!password_locked(wrong), "{wrong}");
    }
    for wrong in [5, 6, u8::MAX] {
        assert!(password_locked(wrong), "{wrong}");
    }
}

#[test]
fn a_password_never_shows_in_debug() {
    let password = LoginPassword::parse("135790", MOBILE).unwrap();
    assert_eq!(format!("{password:?}"), "LoginPassword(<redacted>)");
    assert_eq!(password.expose(), "135790");
}

#[test]
fn personal_data_never_shows_in_debug() {
    let shown = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?}",
        LoginId::parse("Kim.Minsu@example.co.kr").unwrap(),
        Email::parse("minsu@example.com").unwrap(),
        MobileNumber::parse(MOBILE).unwrap(),
        BirthDate::parse("19900101").unwrap(),
        UserName::parse("김민수").unwrap(),
        Ci::parse(&"A".repeat(88)).unwrap(),
    );
    for secret in ["Kim", "minsu", "0103", "1990", "김민수", "AAAA"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn each_value_is_kept_as_given() {
    assert_eq!(LoginId::parse("Kim@b.co").unwrap().expose(), "Kim@b.co");
    assert_eq!(Email::parse("kim@b.co").unwrap().expose(), "kim@b.co");
    assert_eq!(MobileNumber::parse(MOBILE).unwrap().expose(), MOBILE);
    assert_eq!(UserName::parse("김민수").unwrap().expose(), "김민수");
    let ci = "Ab9+".repeat(22);
    assert_eq!(Ci::parse(&ci).unwrap().expose(), ci);
}

#[test]
fn login_ids_and_emails_are_addresses_of_the_usual_form() {
    for accepted in [
        "a@b.co",
        "Kim.Minsu+card@example.co.kr",
        "x_y-z@sub-domain.example",
        "o'neil@example.com",
    ] {
        assert!(LoginId::parse(accepted).is_ok(), "{accepted}");
        assert!(Email::parse(accepted).is_ok(), "{accepted}");
    }
    for refused_id in [
        "plain",
        "@example.com",
        "a@",
        "a@example",
        "a@@example.com",
        "a@b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a..b@example.com",
        "a b@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@example..com",
        "김@example.com",
        "a@example.com\n",
    ] {
        assert_eq!(
            refused(LoginId::parse(refused_id)),
            Some((Field::LoginId, Rule::Invalid)),
            "{refused_id:?}"
        );
    }
    let longest = format!("{}@example.com", "a".repeat(80 - 12));
    assert!(LoginId::parse(&longest).is_err(), "a local part over 64");
    let long = format!("{}@{}.com", "a".repeat(60), "b".repeat(15));
    assert_eq!(long.chars().count(), 80);
    assert!(LoginId::parse(&long).is_ok());
    assert_eq!(
        refused(LoginId::parse(&format!("a{long}"))),
        Some((Field::LoginId, Rule::Length))
    );
    assert_eq!(
        refused(LoginId::parse("")),
        Some((Field::LoginId, Rule::Length))
    );
    let email = format!("{}@example.com", "a".repeat(38));
    assert_eq!(email.chars().count(), 50);
    assert!(Email::parse(&email).is_ok());
    assert_eq!(
        refused(Email::parse(&format!("a{email}"))),
        Some((Field::Email, Rule::Length))
    );
    assert_eq!(
        LoginId::parse("Kim@Example.COM").unwrap().normalized(),
        "kim@example.com"
    );
}

#[test]
fn a_birth_date_is_a_real_day_from_1900_to_2099() {
    for accepted in ["19000101", "20240229", "20991231", "19991231"] {
        assert_eq!(BirthDate::parse(accepted).unwrap().to_digits(), accepted);
    }
    for invalid in [
        "18991231", "21000101", "20230229", "19901301", "19900100", "19900431", "1990010a",
        "1990-1-1",
    ] {
        assert_eq!(
            refused(BirthDate::parse(invalid)),
            Some((Field::BirthDate, Rule::Invalid)),
            "{invalid}"
        );
    }
    for wrong_length in ["1990011", "199001011", ""] {
        assert_eq!(
            refused(BirthDate::parse(wrong_length)),
            Some((Field::BirthDate, Rule::Length)),
            "{wrong_length}"
        );
    }
}

#[test]
fn mobile_numbers_names_cis_and_channels_at_their_edges() {
    assert!(MobileNumber::parse("0101234567").is_ok());
    assert!(MobileNumber::parse("01012345678").is_ok());
    assert_eq!(
        refused(MobileNumber::parse("010123456")),
        Some((Field::MobileNumber, Rule::Length))
    );
    assert_eq!(
        refused(MobileNumber::parse("010123456789")),
        Some((Field::MobileNumber, Rule::Length))
    );
    assert_eq!(
        refused(MobileNumber::parse("010-234-567")),
        Some((Field::MobileNumber, Rule::Invalid))
    );

    assert!(UserName::parse(&"가".repeat(100)).is_ok());
    assert_eq!(
        refused(UserName::parse(&"가".repeat(101))),
        Some((Field::UserName, Rule::Length))
    );
    for invalid in ["   ", "Kim\u{0}", "Kim\nLee"] {
        assert_eq!(
            refused(UserName::parse(invalid)),
            Some((Field::UserName, Rule::Invalid)),
            "{invalid:?}"
        );
    }

    let ci = format!(
        "{}==",
        "Ab9+/".repeat(18).chars().take(86).collect::<String>()
    );
    assert!(Ci::parse(&ci).is_ok());
    assert!(Ci::parse(&"z".repeat(88)).is_ok());
    assert_eq!(
        refused(Ci::parse(&"z".repeat(87))),
        Some((Field::Ci, Rule::Length))
    );
    for invalid in [
        format!("{}===", "z".repeat(85)),
        format!("{}-", "z".repeat(87)),
        format!("{}=z", "z".repeat(86)),
    ] {
        assert_eq!(
            refused(Ci::parse(&invalid)),
            Some((Field::Ci, Rule::Invalid)),
            "{invalid}"
        );
    }

    assert_eq!(JoinChannel::parse("APP").unwrap().as_str(), "APP");
    assert!(JoinChannel::parse(&"c".repeat(20)).is_ok());
    assert_eq!(
        refused(JoinChannel::parse(&"c".repeat(21))),
        Some((Field::JoinChannel, Rule::Length))
    );
    assert_eq!(
        refused(JoinChannel::parse(" ")),
        Some((Field::JoinChannel, Rule::Invalid))
    );
}

#[test]
fn nationality_and_gender_read_as_the_platform_writes_them() {
    for nationality in [Nationality::Korean, Nationality::Foreigner] {
        assert_eq!(Nationality::parse(nationality.as_str()), Ok(nationality));
    }
    for gender in [Gender::Male, Gender::Female] {
        assert_eq!(Gender::parse(gender.as_str()), Ok(gender));
    }
    assert_eq!(
        refused(Nationality::parse("korean")),
        Some((Field::Nationality, Rule::Invalid))
    );
    assert_eq!(
        refused(Gender::parse("M")),
        Some((Field::Gender, Rule::Invalid))
    );
}

#[test]
fn a_drawn_member_id_skips_draws_past_the_range() {
    let mut draws = [u64::MAX, MemberId::MAX, MemberId::MAX - 1].into_iter();
    let id = MemberId::draw(&mut || draws.next().unwrap());
    assert_eq!(
        id.get(),
        MemberId::MAX,
        "the last value in range, after two redraws"
    );
    let mut zero = || 0;
    assert_eq!(MemberId::draw(&mut zero).get(), 1);
}

/// The rules, written the other way: by listing the runs a password may not contain.
fn model_accepts(password: &str, mobile: &str) -> bool {
    let forbidden = (0..10).flat_map(|digit: u8| {
        let d = char::from(b'0' + digit);
        let mut runs = vec![format!("{d}{d}{d}")];
        if digit <= 7 {
            runs.push(format!(
                "{d}{}{}",
                char::from(b'1' + digit),
                char::from(b'2' + digit)
            ));
        }
        if digit >= 2 {
            runs.push(format!(
                "{d}{}{}",
                char::from(b'0' + digit - 1),
                char::from(b'0' + digit - 2)
            ));
        }
        runs
    });
    password.len() == 6
        && password.bytes().all(|byte| byte.is_ascii_digit())
        && !forbidden.into_iter().any(|run| password.contains(&run))
        && !mobile.contains(password)
}

proptest! {
    #[test]
    fn the_password_rules_are_the_listed_runs_and_the_mobile_number(
        password in "[0-9]{6}",
        mobile in "010[0-9]{8}",
    ) {
        prop_assert_eq!(
            LoginPassword::parse(&password, &mobile).is_ok(),
            model_accepts(&password, &mobile),
            "{} against {}", password, mobile
        );
    }

    #[test]
    fn a_password_taken_from_the_mobile_number_is_always_refused(
        mobile in "010[0-9]{8}",
        start in 0_usize..6,
    ) {
        let password = &mobile[start..start + 6];
        prop_assert!(LoginPassword::parse(password, &mobile).is_err());
    }

    #[test]
    fn every_drawn_member_id_is_in_range_and_the_draw_is_the_id_less_one(value in any::<u64>()) {
        let mut once = Some(value);
        let mut fallback = 0;
        let id = MemberId::draw(&mut || once.take().unwrap_or_else(|| { fallback += 1; fallback }));
        prop_assert!((MemberId::MIN..=MemberId::MAX).contains(&id.get()));
        if value < MemberId::MAX {
            prop_assert_eq!(id.get(), value + 1);
        }
    }
}
