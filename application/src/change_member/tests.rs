//! Member information change through mocked ports: what a change writes, who may change,
//! values another member holds, a profile changed meanwhile, retries and conflicts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use prepaid_domain::{
    AspId, BirthDate, ChangedDetails, Ci, CorrelationId, Email, Gender, LoginId, Member,
    MemberProfile, MobileNumber, Nationality, Timestamp, UserName,
};

use super::*;
use crate::ports::{
    IdempotencyRecord, MockCardSecrets, MockClock, MockMemberRecords, MockMemberSecrets,
    MockPasswords, MockRandomSource, PasswordHash, PersonalFingerprint, SealedProfile,
    StoredMember,
};
use crate::test_support::{fingerprint_of, scripted_records};

const NOW: Timestamp = Timestamp::from_millis(1_796_526_000_000);
const MEMBER: u64 = 1001;

fn key() -> IdempotencyKey {
    IdempotencyKey {
        asp_id: AspId::parse("ASPSANDBOX00001").unwrap(),
        correlation_id: CorrelationId::parse("261206120000-00000d1").unwrap(),
    }
}

fn current() -> MemberProfile {
    MemberProfile {
        login_id: LoginId::parse("minsu.kim@example.com").unwrap(),
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

fn details() -> ChangedDetails {
    ChangedDetails {
        name: Some(UserName::parse("김민준").unwrap()),
        mobile: Some(MobileNumber::parse("01055501234").unwrap()),
        ..ChangedDetails::default()
    }
}

fn command_of(details: ChangedDetails) -> ChangeMemberCommand {
    ChangeMemberCommand {
        key: key(),
        member: MemberId::new(MEMBER).unwrap(),
        change: ProfileChange::new(details).unwrap(),
    }
}

fn command() -> ChangeMemberCommand {
    command_of(details())
}

/// The sealed profile of the `n`th read.
fn sealed(n: usize) -> SealedProfile {
    SealedProfile {
        key_id: "data-1".into(),
        ciphertext: format!("read-{n}").into_bytes(),
    }
}

fn stored(status: MemberStatus, n: usize) -> StoredMember {
    StoredMember {
        member: Member {
            id: MemberId::new(MEMBER).unwrap(),
            status,
        },
        profile: sealed(n),
        password: PasswordHash {
            key_id: "pep-1".into(),
            phc: "hash".into(),
        },
        wrong_passwords: 0,
        join_channel: None,
        version: 3,
    }
}

/// What the stores hold and answer.
struct World {
    member: Option<MemberStatus>,
    profile: MemberProfile,
    records: Vec<Option<IdempotencyRecord>>,
    /// What the updates answer in turn, then `Ok`.
    answers: Vec<Result<(), ProfileUpdateError>>,
}

fn active() -> World {
    World {
        member: Some(MemberStatus::Active),
        profile: current(),
        records: vec![None],
        answers: vec![],
    }
}

struct Run {
    result: Result<MemberChanged, ChangeMemberError>,
    /// Every update tried, written or not.
    tried: Vec<ProfileUpdate>,
    /// Every profile sealed.
    sealed: Vec<MemberProfile>,
}

fn fingerprint(kind: LookupKey, value: &str) -> PersonalFingerprint {
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
}

async fn change(world: World, command: &ChangeMemberCommand) -> Run {
    let tried = Arc::new(Mutex::new(Vec::new()));
    let reads = Arc::new(Mutex::new(0));
    let answers = Mutex::new(VecDeque::from(world.answers));
    let mut records = MockMemberRecords::new();
    let status = world.member;
    let counted = reads.clone();
    records.expect_member().returning(move |asp, id| {
        assert_eq!((asp, id.get()), (&key().asp_id, MEMBER));
        let mut reads = counted.lock().unwrap();
        *reads += 1;
        Ok(status.map(|status| stored(status, *reads)))
    });
    let kept = tried.clone();
    records.expect_change_profile().returning(move |update| {
        kept.lock().unwrap().push(update.clone());
        answers.lock().unwrap().pop_front().unwrap_or(Ok(()))
    });
    let seals = Arc::new(Mutex::new(Vec::new()));
    let mut members = MockMemberSecrets::new();
    let profile = world.profile;
    let opened = reads.clone();
    members
        .expect_open_profile()
        .returning(move |given, asp, id| {
            assert_eq!((asp, id.get()), (&key().asp_id, MEMBER));
            // Only the profile of the latest read is opened.
            assert_eq!(given, &sealed(*opened.lock().unwrap()));
            Ok(profile.clone())
        });
    members
        .expect_personal_fingerprint()
        .returning(|asp, kind, value| {
            assert_eq!(asp, &key().asp_id);
            fingerprint(kind, value)
        });
    let sealing = seals.clone();
    members
        .expect_seal_profile()
        .returning(move |profile, asp, id| {
            assert_eq!((asp, id.get()), (&key().asp_id, MEMBER));
            sealing.lock().unwrap().push(profile.clone());
            Ok(SealedProfile {
                key_id: "data-2".into(),
                ciphertext: b"changed".to_vec(),
            })
        });
    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_request_fingerprint()
        .returning(fingerprint_of);
    secrets
        .expect_request_fingerprint_with()
        .returning(|_, canonical| Some(fingerprint_of(canonical)));
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);
    let service = MemberChangeService::new(MemberRegistrationPorts {
        records: Arc::new(records),
        idempotency: Arc::new(scripted_records(world.records)),
        passwords: Arc::new(MockPasswords::new()),
        members: Arc::new(members),
        secrets: Arc::new(secrets),
        random: Arc::new(MockRandomSource::new()),
        clock: Arc::new(clock),
        basic_cards: None,
    });
    let result = service.change(command).await;
    let tried = tried.lock().unwrap().clone();
    let sealed = seals.lock().unwrap().clone();
    Run {
        result,
        tried,
        sealed,
    }
}

fn first_record(command: &ChangeMemberCommand) -> IdempotencyRecord {
    IdempotencyRecord {
        operation: IdempotentOperation::ChangeMemberInfo.as_str().to_owned(),
        request_fingerprint: fingerprint_of(&command.canonical_form()),
        outcome: MEMBER.to_string(),
        created_at: NOW,
    }
}

#[tokio::test]
async fn a_change_seals_the_new_details_over_the_profile_as_read_with_its_claim() {
    let run = change(active(), &command()).await;
    assert_eq!(run.result.unwrap(), MemberChanged { replayed: false });
    let expected = MemberProfile {
        name: UserName::parse("김민준").unwrap(),
        mobile: MobileNumber::parse("01055501234").unwrap(),
        ..current()
    };
    assert_eq!(run.sealed, [expected]);
    let [update] = run.tried.as_slice() else {
        panic!("one update: {:?}", run.tried);
    };
    assert_eq!(update.asp_id, key().asp_id);
    assert_eq!(update.id.get(), MEMBER);
    assert_eq!(update.read, sealed(1), "over the profile as read");
    assert_eq!(update.profile.ciphertext, b"changed");
    assert_eq!(
        update.mobile,
        fingerprint(LookupKey::MobileNumber, "01055501234"),
        "the new mobile number's fingerprint"
    );
    assert_eq!(
        update.ci,
        Some(fingerprint(LookupKey::Ci, &"Ab9+".repeat(22))),
        "the kept CI's fingerprint, under the current index key"
    );
    assert_eq!(update.claim.key, key());
    assert_eq!(
        update.claim.operation,
        IdempotentOperation::ChangeMemberInfo
    );
    assert_eq!(
        update.claim.request_fingerprint,
        fingerprint_of(&command().canonical_form())
    );
    assert_eq!(update.claim.outcome, "1001");
    assert_eq!((update.claim.created_at, update.at), (NOW, NOW));
}

#[tokio::test]
async fn a_member_without_ci_keeps_none_and_a_new_ci_is_fingerprinted() {
    let without = World {
        profile: MemberProfile {
            ci: None,
            ..current()
        },
        ..active()
    };
    let run = change(without, &command()).await;
    assert!(run.result.is_ok());
    assert_eq!(run.tried[0].ci, None);

    let new_ci = "Zz0/".repeat(22);
    let with_new = command_of(ChangedDetails {
        gender: Some(Gender::Female),
        ci: Some(Ci::parse(&new_ci).unwrap()),
        ..ChangedDetails::default()
    });
    let run = change(active(), &with_new).await;
    assert!(run.result.is_ok());
    assert_eq!(run.tried[0].ci, Some(fingerprint(LookupKey::Ci, &new_ci)));
    assert_eq!(
        run.tried[0].mobile,
        fingerprint(LookupKey::MobileNumber, "01039571862"),
        "the kept mobile number's fingerprint"
    );
    assert_eq!(run.sealed[0].gender, Gender::Female);
}

#[tokio::test]
async fn only_an_active_member_of_the_project_changes_anything() {
    for member in [None, Some(MemberStatus::Cancelled)] {
        let run = change(World { member, ..active() }, &command()).await;
        assert_eq!(run.result.unwrap_err().code().code(), "001_006");
        assert!(run.tried.is_empty() && run.sealed.is_empty());
    }
}

#[tokio::test]
async fn a_value_another_member_holds_is_001_001_unless_this_request_committed() {
    for value in [MemberValue::MobileNumber, MemberValue::Ci] {
        let run = change(
            World {
                answers: vec![Err(ProfileUpdateError::Taken(value))],
                ..active()
            },
            &command(),
        )
        .await;
        let error = run.result.unwrap_err();
        assert!(
            matches!(error, ChangeMemberError::AlreadyExists(held) if held == value),
            "{error:?}"
        );
        assert_eq!(error.code().code(), "001_001");
        assert_eq!(run.tried.len(), 1, "not tried again");

        // A concurrent retry of this very request committed the value first.
        let run = change(
            World {
                records: vec![None, Some(first_record(&command()))],
                answers: vec![Err(ProfileUpdateError::Taken(value))],
                ..active()
            },
            &command(),
        )
        .await;
        assert!(run.result.unwrap().replayed);
    }
}

#[tokio::test]
async fn a_profile_changed_meanwhile_is_read_and_changed_again_four_times_at_most() {
    let run = change(
        World {
            answers: vec![Err(ProfileUpdateError::Stale)],
            ..active()
        },
        &command(),
    )
    .await;
    assert!(!run.result.unwrap().replayed);
    let reads: Vec<_> = run.tried.iter().map(|update| update.read.clone()).collect();
    assert_eq!(
        reads,
        [sealed(1), sealed(2)],
        "the second over the second read"
    );

    let run = change(
        World {
            answers: (0..MOST_READS)
                .map(|_| Err(ProfileUpdateError::Stale))
                .collect(),
            ..active()
        },
        &command(),
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "000_099");
    assert_eq!(run.tried.len(), MOST_READS);

    // Stale because a retry of this request committed: its outcome.
    let run = change(
        World {
            records: vec![None, Some(first_record(&command()))],
            answers: vec![Err(ProfileUpdateError::Stale)],
            ..active()
        },
        &command(),
    )
    .await;
    assert!(run.result.unwrap().replayed);
    assert_eq!(run.tried.len(), 1);
}

#[tokio::test]
async fn a_retry_answers_the_first_outcome_and_another_payload_is_a_conflict() {
    let first = first_record(&command());
    let run = change(
        World {
            records: vec![Some(first.clone())],
            ..active()
        },
        &command(),
    )
    .await;
    assert_eq!(run.result.unwrap(), MemberChanged { replayed: true });
    assert!(run.tried.is_empty() && run.sealed.is_empty());

    let other = command_of(ChangedDetails {
        name: Some(UserName::parse("김서준").unwrap()),
        ..details()
    });
    let run = change(
        World {
            records: vec![Some(first.clone())],
            ..active()
        },
        &other,
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "000_094");

    let run = change(
        World {
            records: vec![None, Some(first.clone())],
            answers: vec![Err(ProfileUpdateError::KeyTaken)],
            ..active()
        },
        &command(),
    )
    .await;
    assert!(run.result.unwrap().replayed);

    // A record of this request naming another member is not this request's outcome.
    let corrupt = IdempotencyRecord {
        outcome: "1002".to_owned(),
        ..first
    };
    let run = change(
        World {
            records: vec![Some(corrupt)],
            ..active()
        },
        &command(),
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "000_099");
}

#[tokio::test]
async fn a_store_that_fails_changes_nothing_and_answers_000_099() {
    let run = change(
        World {
            answers: vec![Err(ProfileUpdateError::Unavailable(PortError::msg("down")))],
            ..active()
        },
        &command(),
    )
    .await;
    assert_eq!(run.result.unwrap_err().code().code(), "000_099");
    assert_eq!(run.tried.len(), 1);
}

#[test]
fn a_retry_must_repeat_every_detail_and_the_member() {
    let base = command();
    let address = prepaid_domain::DeliveryAddress {
        address: prepaid_domain::RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: prepaid_domain::AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: prepaid_domain::ZipCode::parse("06236").unwrap(),
    };
    let variants = [
        ChangedDetails {
            name: None,
            ..details()
        },
        ChangedDetails {
            name: Some(UserName::parse("!").unwrap()),
            ..details()
        },
        ChangedDetails {
            birth_date: Some(BirthDate::parse("19900102").unwrap()),
            ..details()
        },
        ChangedDetails {
            gender: Some(Gender::Male),
            ..details()
        },
        ChangedDetails {
            nationality: Some(Nationality::Korean),
            ..details()
        },
        ChangedDetails {
            mobile: Some(MobileNumber::parse("0105550123").unwrap()),
            ..details()
        },
        ChangedDetails {
            email: Some(Email::parse("a@example.com").unwrap()),
            ..details()
        },
        ChangedDetails {
            birth_date: Some(BirthDate::parse("19900102").unwrap()),
            ci: Some(Ci::parse(&"Ab9+".repeat(22)).unwrap()),
            ..details()
        },
        ChangedDetails {
            address: Some(address),
            ..details()
        },
    ];
    let mut seen = vec![base.canonical_form()];
    for details in variants {
        let form = command_of(details).canonical_form();
        assert!(!seen.contains(&form), "{form}");
        seen.push(form);
    }
    let mut another = base.clone();
    another.member = MemberId::new(1002).unwrap();
    assert_ne!(another.canonical_form(), base.canonical_form());
}
