//! The member account through mocked ports: information, the login id of a CI, the password
//! check with its count and lock, and the operator's unlock.

use std::sync::{Arc, Mutex};

use prepaid_domain::{BirthDate, Email, Gender, Member, MobileNumber, Nationality, UserName};

use super::*;
use crate::ports::{
    MockCardSecrets, MockClock, MockIdempotencyStore, MockMemberRecords, MockMemberSecrets,
    MockPasswords, MockRandomSource, PasswordHash, PersonalFingerprint, SealedProfile,
};

const MEMBER: u64 = 4_815_162_342;
const RIGHT: &str = "135790";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn member_id() -> MemberId {
    MemberId::new(MEMBER).unwrap()
}

fn profile() -> MemberProfile {
    MemberProfile {
        login_id: LoginId::parse("minsu@example.com").unwrap(),
        birth_date: BirthDate::parse("19900101").unwrap(),
        nationality: Nationality::Korean,
        gender: Gender::Male,
        name: UserName::parse("김민수").unwrap(),
        mobile: MobileNumber::parse("01039571862").unwrap(),
        email: Email::parse("minsu@example.com").unwrap(),
        ci: Some(Ci::parse(&"Ab9+".repeat(22)).unwrap()),
        address: None,
    }
}

fn stored(status: MemberStatus, wrong_passwords: u8) -> StoredMember {
    StoredMember {
        member: Member {
            id: member_id(),
            status,
        },
        profile: SealedProfile {
            key_id: "data-1".into(),
            ciphertext: b"sealed".to_vec(),
        },
        password: PasswordHash {
            key_id: "pep-1".into(),
            phc: "hash".into(),
        },
        wrong_passwords,
        join_channel: Some(JoinChannel::parse("APP").unwrap()),
        version: 3,
    }
}

/// The fingerprint the mocked secrets give `value` of `key`.
fn print(key: LookupKey, value: &str) -> PersonalFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest
        .iter_mut()
        .zip(format!("{}{value}", key.as_str()).bytes())
    {
        *byte = from;
    }
    PersonalFingerprint {
        key_id: "idx-1".into(),
        digest,
    }
}

/// What the password ports saw.
#[derive(Default)]
struct Seen {
    counted: usize,
    cleared: usize,
    verified: usize,
    hashed: usize,
    /// Hashes replaced: (from, to).
    replaced: Vec<(PasswordHash, PasswordHash)>,
}

/// A service over one member (`None`: the project has none), whose count of wrong passwords
/// the mocked store keeps and whose password is [`RIGHT`].
fn service(member: Option<StoredMember>, seen: &Arc<Mutex<Seen>>) -> MemberService {
    let wrong = Arc::new(Mutex::new(
        member.as_ref().map_or(0, |member| member.wrong_passwords),
    ));
    let mut records = MockMemberRecords::new();
    let found = member.clone();
    records.expect_member().returning(move |asp_id, id| {
        assert_eq!(asp_id, &asp());
        Ok(found.clone().filter(|member| member.member.id == id))
    });
    let found = member;
    records
        .expect_member_by()
        .returning(move |asp_id, key, print| {
            assert_eq!(asp_id, &asp());
            let expected = match key {
                LookupKey::LoginId => self::print(key, "minsu@example.com"),
                LookupKey::Ci => self::print(key, &"Ab9+".repeat(22)),
                LookupKey::MobileNumber => unreachable!("no look-up by mobile number"),
            };
            Ok(found.clone().filter(|_| *print == expected))
        });
    let (count, observed) = (wrong.clone(), seen.clone());
    records
        .expect_count_password_attempt()
        .returning(move |_, id, most| {
            assert_eq!((id, most), (member_id(), 5));
            observed.lock().unwrap().counted += 1;
            let mut wrong = count.lock().unwrap();
            let counted = *wrong < most;
            if counted {
                *wrong += 1;
            }
            Ok(counted)
        });
    let (count, observed) = (wrong, seen.clone());
    records
        .expect_clear_password_attempts()
        .returning(move |_, id| {
            observed.lock().unwrap().cleared += 1;
            *count.lock().unwrap() = 0;
            Ok(id == member_id())
        });
    let observed = seen.clone();
    records
        .expect_replace_password()
        .returning(move |asp_id, id, from, to| {
            assert_eq!((asp_id, id), (&asp(), member_id()));
            observed
                .lock()
                .unwrap()
                .replaced
                .push((from.clone(), to.clone()));
            Ok(true)
        });
    let mut passwords = MockPasswords::new();
    passwords
        .expect_is_current()
        .returning(|stored| stored.key_id == "pep-1");
    let observed = seen.clone();
    passwords
        .expect_verify()
        .returning(move |password, stored| {
            assert_eq!(stored.phc, "hash");
            observed.lock().unwrap().verified += 1;
            Ok(password.expose() == RIGHT)
        });
    let observed = seen.clone();
    passwords.expect_hash().returning(move |_| {
        observed.lock().unwrap().hashed += 1;
        Ok(PasswordHash {
            key_id: "pep-1".into(),
            phc: "other".into(),
        })
    });
    let mut members = MockMemberSecrets::new();
    members
        .expect_personal_fingerprint()
        .returning(|_, key, value| print(key, value));
    members
        .expect_open_profile()
        .returning(|sealed, asp_id, id| {
            assert_eq!(
                (sealed.ciphertext.as_slice(), asp_id, id),
                (b"sealed".as_slice(), &asp(), member_id())
            );
            Ok(profile())
        });
    MemberService::new(MemberRegistrationPorts {
        records: Arc::new(records),
        idempotency: Arc::new(MockIdempotencyStore::new()),
        passwords: Arc::new(passwords),
        members: Arc::new(members),
        secrets: Arc::new(MockCardSecrets::new()),
        random: Arc::new(MockRandomSource::new()),
        clock: Arc::new(MockClock::new()),
        basic_cards: None,
    })
}

fn login() -> LoginId {
    LoginId::parse("Minsu@Example.COM").unwrap()
}

fn password(text: &str) -> LoginPassword {
    LoginPassword::attempt(text).unwrap()
}

#[tokio::test]
async fn the_right_password_answers_the_member_and_clears_the_count() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 3)), &seen);
    let id = service
        .check_password(&asp(), &login(), &password(RIGHT))
        .await
        .unwrap();
    assert_eq!(id, member_id());
    let seen = seen.lock().unwrap();
    assert_eq!((seen.counted, seen.verified, seen.cleared), (1, 1, 1));
}

#[tokio::test]
async fn a_right_password_hashed_with_a_retired_pepper_is_hashed_again_over_the_old_hash() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut old = stored(MemberStatus::Active, 0);
    old.password.key_id = "pep-0".into();
    let service = service(Some(old.clone()), &seen);
    let id = service
        .check_password(&asp(), &login(), &password(RIGHT))
        .await
        .unwrap();
    assert_eq!(id, member_id());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.hashed, 1);
    assert_eq!(
        seen.replaced,
        [(
            old.password,
            PasswordHash {
                key_id: "pep-1".into(),
                phc: "other".into(),
            }
        )]
    );
}

#[tokio::test]
async fn a_current_hash_or_a_wrong_password_is_never_hashed_again() {
    for (hash_pepper, guess) in [("pep-1", RIGHT), ("pep-0", "111111")] {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut member = stored(MemberStatus::Active, 0);
        member.password.key_id = hash_pepper.into();
        let service = service(Some(member), &seen);
        let _ = service
            .check_password(&asp(), &login(), &password(guess))
            .await;
        let seen = seen.lock().unwrap();
        assert_eq!(
            (seen.hashed, seen.replaced.len()),
            (0, 0),
            "{hash_pepper} {guess}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_is_counted_before_it_is_evaluated_and_answered_001_045() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 0)), &seen);
    let error = service
        .check_password(&asp(), &login(), &password("111111"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::PasswordMismatch);
    let seen = seen.lock().unwrap();
    assert_eq!((seen.counted, seen.verified, seen.cleared), (1, 1, 0));
}

#[tokio::test]
async fn an_unknown_or_cancelled_login_id_is_answered_as_a_wrong_password_after_as_long() {
    for member in [None, Some(stored(MemberStatus::Cancelled, 0))] {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let service = service(member, &seen);
        let error = service
            .check_password(&asp(), &login(), &password(RIGHT))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::PasswordMismatch);
        let seen = seen.lock().unwrap();
        assert_eq!((seen.counted, seen.verified, seen.hashed), (0, 0, 1));
    }
}

#[tokio::test]
async fn the_fifth_wrong_password_is_still_001_045_and_every_later_attempt_001_069() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 0)), &seen);
    for _ in 0..5 {
        let error = service
            .check_password(&asp(), &login(), &password("111111"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::PasswordMismatch);
    }
    for guess in ["222222", RIGHT] {
        let error = service
            .check_password(&asp(), &login(), &password(guess))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::PasswordLocked, "{guess}");
    }
    assert_eq!(seen.lock().unwrap().verified, 5, "no sixth guess evaluated");
}

#[tokio::test]
async fn a_locked_password_is_refused_without_counting_or_evaluating_even_when_right() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 5)), &seen);
    let error = service
        .check_password(&asp(), &login(), &password(RIGHT))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::PasswordLocked);
    let seen = seen.lock().unwrap();
    assert_eq!((seen.counted, seen.verified, seen.cleared), (0, 0, 0));
}

#[tokio::test]
async fn an_attempt_the_store_no_longer_counts_is_locked_without_being_evaluated() {
    // Read with four wrong ones; concurrent attempts made the fifth before this one counted.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 4)), &seen);
    service
        .check_password(&asp(), &login(), &password("111111"))
        .await
        .unwrap_err();
    let error = service
        .check_password(&asp(), &login(), &password(RIGHT))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::PasswordLocked);
    let seen = seen.lock().unwrap();
    assert_eq!((seen.counted, seen.verified), (2, 1));
}

#[tokio::test]
async fn an_unlock_lets_the_member_in_again() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 4)), &seen);
    service
        .check_password(&asp(), &login(), &password("111111"))
        .await
        .unwrap_err();
    let locked = service
        .check_password(&asp(), &login(), &password(RIGHT))
        .await
        .unwrap_err();
    assert_eq!(locked.code(), ErrorCode::PasswordLocked);
    service.unlock_password(&asp(), member_id()).await.unwrap();
    let id = service
        .check_password(&asp(), &login(), &password(RIGHT))
        .await
        .unwrap();
    assert_eq!(id, member_id());
}

#[tokio::test]
async fn unlocking_a_member_the_project_does_not_have_is_001_006() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(None, &seen);
    let error = service
        .unlock_password(&asp(), MemberId::new(7).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::WalletUserNotFound);
}

#[tokio::test]
async fn an_active_member_s_information_is_their_opened_profile_and_channel() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let service = service(Some(stored(MemberStatus::Active, 0)), &seen);
    let info = service.info(&asp(), member_id()).await.unwrap();
    assert_eq!(
        info,
        MemberInfo {
            id: member_id(),
            profile: profile(),
            join_channel: Some(JoinChannel::parse("APP").unwrap()),
        }
    );
}

#[tokio::test]
async fn a_cancelled_unknown_or_other_member_has_no_information_001_006() {
    for (member, id) in [
        (Some(stored(MemberStatus::Cancelled, 0)), member_id()),
        (None, member_id()),
        (
            Some(stored(MemberStatus::Active, 0)),
            MemberId::new(MEMBER + 1).unwrap(),
        ),
    ] {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let error = service(member, &seen).info(&asp(), id).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::WalletUserNotFound);
    }
}

#[tokio::test]
async fn a_ci_finds_the_login_id_of_its_active_member_only() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let ci = Ci::parse(&"Ab9+".repeat(22)).unwrap();
    let found = service(Some(stored(MemberStatus::Active, 0)), &seen)
        .login_id(&asp(), &ci)
        .await
        .unwrap();
    assert_eq!(found, profile().login_id);
    let other = Ci::parse(&"Zz9/".repeat(22)).unwrap();
    for (member, ci) in [
        (Some(stored(MemberStatus::Cancelled, 0)), ci.clone()),
        (Some(stored(MemberStatus::Active, 0)), other),
        (None, ci),
    ] {
        let error = service(member, &seen)
            .login_id(&asp(), &ci)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::WalletUserNotFound);
    }
}

#[test]
fn a_store_failure_is_000_099_and_every_refusal_its_code() {
    assert_eq!(
        MemberLookupError::Unavailable(PortError::msg("down")).code(),
        ErrorCode::SystemError
    );
    assert_eq!(
        PasswordCheckError::Unavailable(PortError::msg("down")).code(),
        ErrorCode::SystemError
    );
    assert_eq!(PasswordCheckError::Locked.code(), ErrorCode::PasswordLocked);
}
