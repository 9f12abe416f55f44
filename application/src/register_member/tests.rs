//! Member registration through mocked ports: what a sign-up records, a value already held, a
//! drawn id already held, retries and conflicts.

use std::collections::VecDeque;
use std::sync::Mutex;

use prepaid_domain::{
    AspId, BirthDate, Ci, CorrelationId, Email, Gender, LoginId, MobileNumber, Nationality,
    Timestamp, UserName,
};

use super::*;
use crate::ports::{
    IdempotencyRecord, MockCardSecrets, MockClock, MockMemberRecords, MockMemberSecrets,
    MockPasswords, MockRandomSource, PasswordHash, PersonalFingerprint, SealedProfile,
};
use crate::test_support::{fingerprint_of, scripted_records};

const NOW: Timestamp = Timestamp::from_millis(1_796_526_000_000);

fn key() -> IdempotencyKey {
    IdempotencyKey {
        asp_id: AspId::parse("ASPSANDBOX00001").unwrap(),
        correlation_id: CorrelationId::parse("261206120000-00000b1").unwrap(),
    }
}

fn command() -> RegisterMemberCommand {
    RegisterMemberCommand {
        key: key(),
        profile: MemberProfile {
            login_id: LoginId::parse("Minsu.Kim@Example.com").unwrap(),
            birth_date: BirthDate::parse("19900101").unwrap(),
            nationality: Nationality::Korean,
            gender: Gender::Male,
            name: UserName::parse("김민수").unwrap(),
            mobile: MobileNumber::parse("01039571862").unwrap(),
            email: Email::parse("minsu@example.com").unwrap(),
            ci: Some(Ci::parse(&"Ab9+".repeat(22)).unwrap()),
            address: None,
        },
        password: LoginPassword::parse("135790", "01039571862").unwrap(),
        join_channel: Some(JoinChannel::parse("APP").unwrap()),
    }
}

/// What the stores answer, and what was recorded.
struct World {
    records: Vec<Option<IdempotencyRecord>>,
    answers: Vec<Result<(), RegisterMemberError>>,
    draws: Vec<u64>,
}

struct Run {
    result: Result<MemberRegistered, RegisterMemberFailure>,
    recorded: Vec<NewMember>,
    attempted: usize,
}

async fn register(world: World, command: &RegisterMemberCommand) -> Run {
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let attempted = Arc::new(Mutex::new(0));
    let answers = Mutex::new(VecDeque::from(world.answers));
    let mut records = MockMemberRecords::new();
    let (kept, counted) = (recorded.clone(), attempted.clone());
    records.expect_register().returning(move |new| {
        *counted.lock().unwrap() += 1;
        let answer = answers.lock().unwrap().pop_front().unwrap_or(Ok(()));
        if answer.is_ok() {
            kept.lock().unwrap().push(new.clone());
        }
        answer
    });
    let mut passwords = MockPasswords::new();
    passwords.expect_hash().returning(|password| {
        Ok(PasswordHash {
            key_id: "pep-1".into(),
            phc: format!("hash-of-{}", password.expose().len()),
        })
    });
    let mut members = MockMemberSecrets::new();
    members
        .expect_personal_fingerprint()
        .returning(|asp, kind, value| {
            assert_eq!(asp, &key().asp_id);
            let mut digest = [0; 32];
            for (byte, from) in digest
                .iter_mut()
                .zip(format!("{}{value}", kind.as_str()).bytes())
            {
                *byte = from;
            }
            PersonalFingerprint {
                key_id: "idx-1".into(),
                digest,
            }
        });
    members.expect_seal_profile().returning(|_, asp, id| {
        Ok(SealedProfile {
            key_id: "data-1".into(),
            ciphertext: format!("{}/{}", asp.as_str(), id.get()).into_bytes(),
        })
    });
    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_request_fingerprint()
        .returning(fingerprint_of);
    secrets
        .expect_request_fingerprint_with()
        .returning(|_, canonical| Some(fingerprint_of(canonical)));
    let draws = Mutex::new(VecDeque::from(world.draws));
    let mut random = MockRandomSource::new();
    random
        .expect_next_u64()
        .returning(move || draws.lock().unwrap().pop_front().unwrap_or(7));
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);
    let service = MemberRegistrationService::new(MemberRegistrationPorts {
        records: Arc::new(records),
        idempotency: Arc::new(scripted_records(world.records)),
        passwords: Arc::new(passwords),
        members: Arc::new(members),
        secrets: Arc::new(secrets),
        random: Arc::new(random),
        clock: Arc::new(clock),
    });
    let result = service.register(command).await;
    let recorded = recorded.lock().unwrap().clone();
    let attempted = *attempted.lock().unwrap();
    Run {
        result,
        recorded,
        attempted,
    }
}

fn fresh() -> World {
    World {
        records: vec![None],
        answers: vec![],
        draws: vec![41],
    }
}

#[tokio::test]
async fn a_sign_up_records_the_member_sealed_fingerprinted_and_hashed_with_its_claim() {
    let run = register(fresh(), &command()).await;
    let registered = run.result.unwrap();
    assert_eq!(registered.id.get(), 42, "the draw plus one");
    assert!(!registered.replayed);
    let [new] = run.recorded.as_slice() else {
        panic!("one sign-up: {:?}", run.recorded);
    };
    assert_eq!(new.id, registered.id);
    assert_eq!(new.asp_id, key().asp_id);
    assert_eq!(new.profile.ciphertext, b"ASPSANDBOX00001/42");
    assert_eq!(new.password.phc, "hash-of-6");
    // The login id is fingerprinted in lower case.
    assert!(
        new.fingerprints
            .login_id
            .digest
            .starts_with(b"login-idminsu.kim@")
    );
    assert!(new.fingerprints.mobile.digest.starts_with(b"mobile0103957"));
    assert!(
        new.fingerprints
            .ci
            .as_ref()
            .unwrap()
            .digest
            .starts_with(b"ciAb9+")
    );
    assert_eq!(new.claim.operation, IdempotentOperation::RegisterMember);
    assert_eq!(new.claim.outcome, "42");
    assert_eq!(
        new.join_channel.as_ref().map(JoinChannel::as_str),
        Some("APP")
    );
    assert_eq!(new.at, NOW);
}

#[tokio::test]
async fn a_member_without_ci_has_no_ci_fingerprint() {
    let mut command = command();
    command.profile.ci = None;
    let run = register(fresh(), &command).await;
    run.result.unwrap();
    assert_eq!(run.recorded[0].fingerprints.ci, None);
}

#[tokio::test]
async fn a_value_another_member_holds_is_001_001_and_nothing_is_recorded() {
    for value in [
        MemberValue::LoginId,
        MemberValue::MobileNumber,
        MemberValue::Ci,
    ] {
        let run = register(
            World {
                answers: vec![Err(RegisterMemberError::Taken(value))],
                ..fresh()
            },
            &command(),
        )
        .await;
        let error = run.result.unwrap_err();
        assert_eq!(error.code().code(), "001_001", "{value:?}");
        assert!(run.recorded.is_empty());
        assert_eq!(run.attempted, 1, "not tried again");
    }
}

#[tokio::test]
async fn a_drawn_id_already_held_is_drawn_again_and_one_that_never_frees_gives_up() {
    let run = register(
        World {
            answers: vec![Err(RegisterMemberError::Taken(MemberValue::Id))],
            draws: vec![41, 99],
            ..fresh()
        },
        &command(),
    )
    .await;
    assert_eq!(run.result.unwrap().id.get(), 100);
    let run = register(
        World {
            answers: (0..MOST_DRAWS)
                .map(|_| Err(RegisterMemberError::Taken(MemberValue::Id)))
                .collect(),
            ..fresh()
        },
        &command(),
    )
    .await;
    assert!(matches!(
        run.result,
        Err(RegisterMemberFailure::Unavailable(_))
    ));
    assert_eq!(run.attempted, MOST_DRAWS);
}

#[tokio::test]
async fn a_retry_answers_the_first_member_and_another_payload_is_a_conflict() {
    let first = IdempotencyRecord {
        operation: IdempotentOperation::RegisterMember.as_str().to_owned(),
        request_fingerprint: fingerprint_of(&command().canonical_form()),
        outcome: "9999999999999999999".to_owned(),
        created_at: NOW,
    };
    let run = register(
        World {
            records: vec![Some(first.clone())],
            ..fresh()
        },
        &command(),
    )
    .await;
    let registered = run.result.unwrap();
    assert!(registered.replayed);
    assert_eq!(registered.id.get(), 9_999_999_999_999_999_999);
    assert_eq!(run.attempted, 0);

    // (The stand-in fingerprint reads the canonical form's first 32 bytes: the login id's.)
    let mut other = command();
    other.profile.login_id = LoginId::parse("jisu.lee@example.com").unwrap();
    let run = register(
        World {
            records: vec![Some(first.clone())],
            ..fresh()
        },
        &other,
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "000_094");

    // A concurrent request with the key committed first: its outcome.
    let run = register(
        World {
            records: vec![None, Some(first.clone())],
            answers: vec![Err(RegisterMemberError::KeyTaken)],
            ..fresh()
        },
        &command(),
    )
    .await;
    assert!(run.result.unwrap().replayed);

    // A concurrent retry of this request committed first, and its login id was met before its
    // claim: still its outcome, not `001_001`.
    for value in [
        MemberValue::LoginId,
        MemberValue::MobileNumber,
        MemberValue::Ci,
    ] {
        let run = register(
            World {
                records: vec![None, Some(first.clone())],
                answers: vec![Err(RegisterMemberError::Taken(value))],
                ..fresh()
            },
            &command(),
        )
        .await;
        let registered = run.result.unwrap();
        assert!(registered.replayed, "{value:?}");
        assert_eq!(registered.id.get(), 9_999_999_999_999_999_999);
    }
}

#[test]
fn a_retry_must_repeat_every_field() {
    let base = command();
    let mut variants = Vec::new();
    let mut changed = base.clone();
    changed.profile.login_id = LoginId::parse("other@example.com").unwrap();
    variants.push(changed);
    let mut changed = base.clone();
    changed.password = LoginPassword::parse("246801", "").unwrap();
    variants.push(changed);
    let mut changed = base.clone();
    changed.profile.ci = None;
    variants.push(changed);
    let mut changed = base.clone();
    changed.join_channel = None;
    variants.push(changed);
    let mut changed = base.clone();
    changed.profile.gender = Gender::Female;
    variants.push(changed);
    let mut changed = base.clone();
    changed.profile.address = Some(prepaid_domain::DeliveryAddress {
        address: prepaid_domain::RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: prepaid_domain::AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: prepaid_domain::ZipCode::parse("06236").unwrap(),
    });
    variants.push(changed);
    for variant in variants {
        assert_ne!(variant.canonical_form(), base.canonical_form());
    }
}
