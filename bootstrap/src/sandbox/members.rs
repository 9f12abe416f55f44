//! The sandbox's fixture members with their full details (D24): 1001 active, 1002 cancelled,
//! 1003 active without cards (the membership cancellation's Test Data cancels them).
//! Their values are public (the Test Data's examples name them), and so are their passwords.

use prepaid_application::ports::{
    LookupKey, MemberFingerprints, MemberRecords as _, MemberSecrets, Passwords,
};
use prepaid_domain::{
    AspId, BirthDate, Ci, Email, Gender, JoinChannel, LoginId, LoginPassword, MemberId,
    MemberProfile, MobileNumber, Nationality, Timestamp, UserName,
};
use prepaid_persistence::{Database, FixtureProfile};

use super::{ACTIVE_MEMBER, CANCELLED_MEMBER, LEAVING_MEMBER};
use crate::StartupError;

/// The active fixture member's login id.
pub const ACTIVE_LOGIN_ID: &str = "member1001@sandbox.example";
/// The active fixture member's password.
pub const ACTIVE_PASSWORD: &str = "135790";
/// The active fixture member's CI.
pub const ACTIVE_CI: &str =
    "U0FOREJPWC1GSVhUVVJFLU1FTUJFUi0xMDAxLUFDVElWRS1DSS1WQUxVRS1GT1ItVEVTVC1EQVRBLU9OTFkwMA==";
/// The cancelled fixture member's login id.
pub const CANCELLED_LOGIN_ID: &str = "member1002@sandbox.example";
/// The cancelled fixture member's password.
pub const CANCELLED_PASSWORD: &str = "246802";

/// A fixture member's details and password, as sent at a sign-up.
struct Fixture {
    id: u64,
    login_id: &'static str,
    password: &'static str,
    birth_date: &'static str,
    gender: Gender,
    name: &'static str,
    mobile: &'static str,
    ci: Option<&'static str>,
}

const FIXTURES: [Fixture; 3] = [
    Fixture {
        id: ACTIVE_MEMBER,
        login_id: ACTIVE_LOGIN_ID,
        password: ACTIVE_PASSWORD,
        birth_date: "19900101",
        gender: Gender::Female,
        name: "김하나",
        mobile: "01000001001",
        ci: Some(ACTIVE_CI),
    },
    Fixture {
        id: CANCELLED_MEMBER,
        login_id: CANCELLED_LOGIN_ID,
        password: CANCELLED_PASSWORD,
        birth_date: "19851231",
        gender: Gender::Male,
        name: "이두리",
        mobile: "01000001002",
        ci: None,
    },
    Fixture {
        id: LEAVING_MEMBER,
        login_id: "member1003@sandbox.example",
        password: "975319",
        birth_date: "19920202",
        gender: Gender::Female,
        name: "박세나",
        mobile: "01000001003",
        ci: None,
    },
];

impl Fixture {
    fn profile(&self) -> Result<MemberProfile, StartupError> {
        let invalid = |_| StartupError::Fixture("fixture member");
        Ok(MemberProfile {
            login_id: LoginId::parse(self.login_id).map_err(invalid)?,
            birth_date: BirthDate::parse(self.birth_date).map_err(invalid)?,
            nationality: Nationality::Korean,
            gender: self.gender,
            name: UserName::parse(self.name).map_err(invalid)?,
            mobile: MobileNumber::parse(self.mobile).map_err(invalid)?,
            email: Email::parse(self.login_id).map_err(invalid)?,
            ci: self.ci.map(Ci::parse).transpose().map_err(invalid)?,
            address: None,
        })
    }
}

/// Gives the fixture members (saved already) their details, once: a start that finds them with
/// details leaves them (and hashes no password).
pub async fn save_fixture_profiles(
    database: &Database,
    (members, passwords): (&dyn MemberSecrets, &dyn Passwords),
    asp_id: &AspId,
    now: Timestamp,
) -> Result<(), StartupError> {
    for fixture in &FIXTURES {
        let id = MemberId::new(fixture.id).map_err(|_| StartupError::Fixture("member id"))?;
        if database.member(asp_id, id).await?.is_some() {
            continue;
        }
        let profile = fixture.profile()?;
        let password = LoginPassword::parse(fixture.password, fixture.mobile)
            .map_err(|_| StartupError::Fixture("fixture password"))?;
        let print = |key, value: &str| members.personal_fingerprint(asp_id, key, value);
        let fingerprints = MemberFingerprints {
            login_id: print(LookupKey::LoginId, &profile.login_id.normalized()),
            mobile: print(LookupKey::MobileNumber, profile.mobile.expose()),
            ci: profile
                .ci
                .as_ref()
                .map(|ci| print(LookupKey::Ci, ci.expose())),
        };
        let channel =
            JoinChannel::parse("OPENAPI").map_err(|_| StartupError::Fixture("channel"))?;
        database
            .save_fixture_profile(&FixtureProfile {
                asp_id,
                id,
                profile: &members.seal_profile(&profile, asp_id, id)?,
                fingerprints: &fingerprints,
                password: &passwords.hash(&password).await?,
                join_channel: Some(&channel),
                at: now,
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_member_is_a_valid_sign_up() {
        for fixture in &FIXTURES {
            let profile = fixture.profile().unwrap();
            assert_eq!(profile.login_id.expose(), fixture.login_id);
            assert!(LoginPassword::parse(fixture.password, fixture.mobile).is_ok());
        }
    }
}
