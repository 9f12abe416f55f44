use proptest::prelude::*;

use super::*;
use crate::address::{AddressDetail, RoadAddress, ZipCode};
use crate::personal::LoginId;

fn profile() -> MemberProfile {
    MemberProfile {
        login_id: LoginId::parse("member@example.com").unwrap(),
        birth_date: BirthDate::parse("19900101").unwrap(),
        nationality: Nationality::Korean,
        gender: Gender::Female,
        name: UserName::parse("김하나").unwrap(),
        mobile: MobileNumber::parse("01012345678").unwrap(),
        email: Email::parse("member@example.com").unwrap(),
        ci: None,
        address: None,
    }
}

fn address() -> DeliveryAddress {
    DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: ZipCode::parse("06236").unwrap(),
    }
}

fn ci(letter: char) -> Ci {
    Ci::parse(&letter.to_string().repeat(Ci::LENGTH)).unwrap()
}

#[test]
fn a_request_naming_nothing_is_no_change() {
    assert_eq!(
        ProfileChange::new(ChangedDetails::default()),
        Err(ProfileChangeRefusal::NothingToChange)
    );
    assert_eq!(ProfileChangeRefusal::NothingToChange.field_error(), None);
}

#[test]
fn a_ci_comes_only_with_a_birth_date_or_a_gender() {
    let alone = ChangedDetails {
        ci: Some(ci('A')),
        name: Some(UserName::parse("김하나").unwrap()),
        ..ChangedDetails::default()
    };
    assert_eq!(
        ProfileChange::new(alone.clone()),
        Err(ProfileChangeRefusal::CiWithoutIdentity)
    );
    assert_eq!(
        ProfileChangeRefusal::CiWithoutIdentity.field_error(),
        Some(FieldError::invalid(Field::Ci))
    );
    let with_birth_date = ChangedDetails {
        birth_date: Some(BirthDate::parse("19900102").unwrap()),
        ..alone.clone()
    };
    assert!(ProfileChange::new(with_birth_date).is_ok());
    let with_gender = ChangedDetails {
        gender: Some(Gender::Male),
        ..alone
    };
    assert!(ProfileChange::new(with_gender).is_ok());
}

#[test]
fn every_named_detail_replaces_the_current_one_and_the_login_id_stays() {
    let current = profile();
    let details = ChangedDetails {
        name: Some(UserName::parse("박두리").unwrap()),
        birth_date: Some(BirthDate::parse("19910203").unwrap()),
        gender: Some(Gender::Male),
        nationality: Some(Nationality::Foreigner),
        mobile: Some(MobileNumber::parse("0101234567").unwrap()),
        email: Some(Email::parse("new@example.com").unwrap()),
        ci: Some(ci('B')),
        address: Some(address()),
    };
    let changed = ProfileChange::new(details.clone()).unwrap().apply(&current);
    assert_eq!(
        changed,
        MemberProfile {
            login_id: current.login_id.clone(),
            birth_date: details.birth_date.unwrap(),
            nationality: Nationality::Foreigner,
            gender: Gender::Male,
            name: details.name.unwrap(),
            mobile: details.mobile.unwrap(),
            email: details.email.unwrap(),
            ci: details.ci,
            address: details.address,
        }
    );
}

/// Which of the eight details a change names, as bits.
fn named(mask: u8) -> ChangedDetails {
    let has = |bit: u8| mask & (1 << bit) != 0;
    ChangedDetails {
        name: has(0).then(|| UserName::parse("박두리").unwrap()),
        birth_date: has(1).then(|| BirthDate::parse("19910203").unwrap()),
        gender: has(2).then_some(Gender::Male),
        nationality: has(3).then_some(Nationality::Foreigner),
        mobile: has(4).then(|| MobileNumber::parse("0101234567").unwrap()),
        email: has(5).then(|| Email::parse("new@example.com").unwrap()),
        ci: has(6).then(|| ci('C')),
        address: has(7).then(address),
    }
}

proptest! {
    /// Of any choice of details: accepted exactly when it names one and its CI, if any, comes
    /// with a birth date or a gender; applied, each detail is the new one when named and the
    /// current one otherwise.
    #[test]
    fn a_change_keeps_what_it_does_not_name(mask in any::<u8>(), with_ci in any::<bool>()) {
        let details = named(mask);
        let current = MemberProfile { ci: with_ci.then(|| ci('D')), address: Some(address()), ..profile() };
        let has = |bit: u8| mask & (1 << bit) != 0;
        match ProfileChange::new(details.clone()) {
            Err(ProfileChangeRefusal::NothingToChange) => prop_assert_eq!(mask, 0),
            Err(ProfileChangeRefusal::CiWithoutIdentity) => {
                prop_assert!(has(6) && !has(1) && !has(2));
            }
            Ok(change) => {
                prop_assert!(mask != 0 && (!has(6) || has(1) || has(2)));
                prop_assert_eq!(change.details(), &details);
                let changed = change.apply(&current);
                prop_assert_eq!(&changed.login_id, &current.login_id);
                prop_assert_eq!(&changed.name, details.name.as_ref().unwrap_or(&current.name));
                prop_assert_eq!(changed.birth_date, details.birth_date.unwrap_or(current.birth_date));
                prop_assert_eq!(changed.gender, details.gender.unwrap_or(current.gender));
                prop_assert_eq!(changed.nationality, details.nationality.unwrap_or(current.nationality));
                prop_assert_eq!(&changed.mobile, details.mobile.as_ref().unwrap_or(&current.mobile));
                prop_assert_eq!(&changed.email, details.email.as_ref().unwrap_or(&current.email));
                prop_assert_eq!(&changed.ci, if has(6) { &details.ci } else { &current.ci });
                prop_assert_eq!(&changed.address, if has(7) { &details.address } else { &current.address });
            }
        }
    }
}
