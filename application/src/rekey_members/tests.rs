//! Rekeying through mocked ports: what is sealed and fingerprinted again, and what is left.

use std::collections::VecDeque;
use std::sync::Mutex;

use prepaid_domain::{
    AspId, BirthDate, Ci, Email, Gender, LoginId, MemberId, MemberProfile, MobileNumber,
    Nationality, UserName,
};

use super::*;
use crate::ports::{
    MemberKeyIds, MemberUnderOldKeys, MockMemberRecords, MockMemberSecrets, PersonalFingerprint,
    SealedProfile,
};

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn profile(ci: bool) -> MemberProfile {
    MemberProfile {
        login_id: LoginId::parse("Minsu.Kim@Example.com").unwrap(),
        birth_date: BirthDate::parse("19900101").unwrap(),
        nationality: Nationality::Korean,
        gender: Gender::Male,
        name: UserName::parse("김민수").unwrap(),
        mobile: MobileNumber::parse("01039571862").unwrap(),
        email: Email::parse("minsu@example.com").unwrap(),
        ci: ci.then(|| Ci::parse(&"Ab9+".repeat(22)).unwrap()),
        address: None,
    }
}

fn old(id: u64) -> MemberUnderOldKeys {
    MemberUnderOldKeys {
        asp_id: asp(),
        id: MemberId::new(id).unwrap(),
        profile: SealedProfile {
            key_id: "data-1".into(),
            ciphertext: id.to_le_bytes().to_vec(),
        },
    }
}

fn print(kind: LookupKey, value: &str) -> PersonalFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest
        .iter_mut()
        .zip(format!("{}{value}", kind.as_str()).bytes())
    {
        *byte = from;
    }
    PersonalFingerprint {
        key_id: "idx-2".into(),
        digest,
    }
}

/// Members 1 to 4 under old keys: 1 with a CI, 2 without, 3 that no key opens, 4 whose write
/// answers `answers[3]`; each write answers in turn.
async fn run(answers: Vec<Result<bool, PortError>>) -> (RekeyReport, Vec<RekeyedMember>) {
    let mut records = MockMemberRecords::new();
    records
        .expect_members_under_other_keys()
        .withf(|current| {
            *current
                == MemberKeyIds {
                    data: "data-2".into(),
                    index: "idx-2".into(),
                }
        })
        .returning(|_| Ok((1..=4).map(old).collect()));
    let written = Arc::new(Mutex::new(Vec::new()));
    let kept = written.clone();
    let answers = Mutex::new(VecDeque::from(answers));
    records.expect_rekey().returning(move |rekeyed| {
        kept.lock().unwrap().push(rekeyed.clone());
        answers.lock().unwrap().pop_front().unwrap_or(Ok(true))
    });
    let mut secrets = MockMemberSecrets::new();
    secrets.expect_current_key_ids().returning(|| MemberKeyIds {
        data: "data-2".into(),
        index: "idx-2".into(),
    });
    secrets
        .expect_open_profile()
        .returning(|sealed, asp_id, id| {
            assert_eq!(asp_id, &asp());
            assert_eq!(sealed, &old(id.get()).profile, "the member's own profile");
            match id.get() {
                3 => Err(PortError::msg("no key opens it")),
                2 => Ok(profile(false)),
                _ => Ok(profile(true)),
            }
        });
    secrets
        .expect_personal_fingerprint()
        .returning(|_, kind, value| print(kind, value));
    secrets.expect_seal_profile().returning(|profile, _, id| {
        Ok(SealedProfile {
            key_id: "data-2".into(),
            ciphertext: format!("{}:{}", id.get(), profile.name.expose()).into_bytes(),
        })
    });
    let report = MemberRekeying::new(Arc::new(records), Arc::new(secrets))
        .run()
        .await
        .unwrap();
    let written = written.lock().unwrap().clone();
    (report, written)
}

#[tokio::test]
async fn every_member_under_older_keys_is_sealed_and_fingerprinted_again_over_what_was_read() {
    let (report, written) = run(vec![]).await;
    assert_eq!(
        report,
        RekeyReport {
            rekeyed: 3,
            changed_meanwhile: 0,
            left: 1,
        }
    );
    let ids: Vec<u64> = written.iter().map(|member| member.id.get()).collect();
    assert_eq!(ids, [1, 2, 4], "member 3 opens with no key: left");
    let first = &written[0];
    assert_eq!(first.asp_id, asp());
    assert_eq!(first.read, old(1).profile);
    assert_eq!(first.profile.ciphertext, "1:김민수".as_bytes());
    assert_eq!(
        first.fingerprints,
        MemberFingerprints {
            login_id: print(LookupKey::LoginId, "minsu.kim@example.com"),
            mobile: print(LookupKey::MobileNumber, "01039571862"),
            ci: Some(print(LookupKey::Ci, &"Ab9+".repeat(22))),
        }
    );
    assert_eq!(written[1].fingerprints.ci, None, "no CI, no fingerprint");
}

#[tokio::test]
async fn a_member_changed_meanwhile_or_refused_by_the_store_is_counted_not_fatal() {
    let (report, written) = run(vec![
        Ok(false),
        Err(PortError::msg("another member holds it")),
    ])
    .await;
    assert_eq!(
        report,
        RekeyReport {
            rekeyed: 1,
            changed_meanwhile: 1,
            left: 2,
        }
    );
    assert_eq!(written.len(), 3);
}
