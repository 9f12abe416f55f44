//! Member registration through mocked ports: what a sign-up records, a value already held, a
//! drawn id already held, retries and conflicts.

use std::collections::VecDeque;
use std::sync::Mutex;

use prepaid_domain::{
    BirthDate, Ci, CorrelationId, Email, Gender, LoginId, MobileNumber, Nationality, UserName,
};

use super::*;
use crate::ports::{
    IdempotencyRecord, MockBasicProducts, MockCardApplicationStore, MockCardSecrets, MockClock,
    MockMemberRecords, MockMemberSecrets, MockPasswords, MockProductCatalogue, MockRandomSource,
    PasswordHash, PersonalFingerprint, SealedProfile, StoredApplication, StoredCard,
    StoredIssuance,
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
    /// The product the project names as basic, and the catalogue; `None`: no basic cards at all.
    basic: Option<(Option<&'static str>, Vec<CardProduct>)>,
    /// The basic card a retry finds recorded.
    issued: Option<BasicCard>,
}

const BASIC: &str = "000170000003000";

fn product(id: &str, product_type: ProductType, active: bool) -> CardProduct {
    CardProduct {
        id: ServiceId::parse(id).unwrap(),
        name: prepaid_domain::ProductName::parse("Basic prepaid").unwrap(),
        bin: prepaid_domain::Bin::parse("943512").unwrap(),
        product_type,
        pre_issuance: false,
        giftable: false,
        validity: prepaid_domain::Validity::DEFAULT,
        active,
    }
}

/// Basic cards of the mobile product [`BASIC`], named by the project.
fn with_basic(world: World) -> World {
    World {
        basic: Some((Some(BASIC), vec![product(BASIC, ProductType::Mobile, true)])),
        ..world
    }
}

fn basic_ports(
    basic: Option<(Option<&'static str>, Vec<CardProduct>)>,
    issued: Option<BasicCard>,
) -> Option<BasicCardPorts> {
    let (named, catalogue) = basic?;
    let mut projects = MockBasicProducts::new();
    projects.expect_basic_product().returning(move |asp| {
        assert_eq!(asp, &key().asp_id);
        Ok(named.map(|id| ServiceId::parse(id).unwrap()))
    });
    let mut products = MockProductCatalogue::new();
    products
        .expect_find()
        .returning(move |id| Ok(catalogue.iter().find(|product| product.id == *id).cloned()));
    let mut applications = MockCardApplicationStore::new();
    let found = issued.clone();
    applications
        .expect_find_issuance()
        .returning(move |asp, number| {
            assert_eq!(asp, &key().asp_id);
            Ok(found
                .iter()
                .find(|basic| basic.application.number == *number)
                .map(|basic| StoredIssuance {
                    application_number: basic.application.number.clone(),
                    card: Some(StoredCard {
                        id: basic.card.card.id.clone(),
                        par: basic.card.card.par.clone(),
                        pan_bound_to_id: true,
                        expiry: basic.card.card.expiry,
                        protected_pan: basic.card.protected_pan.clone(),
                        cvk_id: basic.card.cvk_id.clone(),
                    }),
                }))
        });
    applications
        .expect_application()
        .returning(move |_, number| {
            Ok(issued
                .iter()
                .find(|basic| basic.application.number == *number)
                .map(|basic| StoredApplication {
                    application: basic.application.clone(),
                    replaces: None,
                    version: 0,
                }))
        });
    Some(BasicCardPorts {
        projects: Arc::new(projects),
        products: Arc::new(products),
        mint: crate::mint::test_mint(),
        applications: Arc::new(applications),
    })
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
    // The test mint "protects" a PAN as its digits.
    secrets.expect_reveal().returning(|protected, _| {
        Ok(Pan::parse(std::str::from_utf8(&protected.ciphertext).unwrap()).unwrap())
    });
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
        basic_cards: basic_ports(world.basic, world.issued),
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
        basic: None,
        issued: None,
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

#[tokio::test]
async fn a_project_naming_a_basic_product_gets_its_card_with_the_member_in_one_write() {
    let run = register(with_basic(fresh()), &command()).await;
    let registered = run.result.unwrap();
    let [new] = run.recorded.as_slice() else {
        panic!("one sign-up: {:?}", run.recorded);
    };
    let basic = new.basic_card.as_ref().expect("a basic card");
    assert_eq!(basic.application.member, registered.id);
    assert_eq!(basic.application.application_type, ApplicationType::Basic);
    assert_eq!(basic.application.status, ApplicationStatus::DigitalIssued);
    assert_eq!(basic.application.product.as_str(), BASIC);
    assert_eq!(basic.application.created_at, NOW);
    assert_eq!(basic.card.card.owner, registered.id);
    assert_eq!(basic.card.card.kind, CardKind::Mobile);
    assert_eq!(basic.card.card.status, CardStatus::Active);
    assert_eq!(
        new.claim.outcome,
        format!(
            "{}:{}",
            registered.id.get(),
            basic.application.number.as_str()
        ),
        "a retry finds the card by its application"
    );
    let answered = registered.basic_card.expect("answered");
    assert_eq!(answered.par, basic.card.card.par);
    assert_eq!(answered.expiry, basic.card.card.expiry);
    assert_eq!(answered.product.as_str(), BASIC);
    assert_eq!(
        answered.pan.expose().as_bytes(),
        basic.card.protected_pan.ciphertext.as_slice()
    );
}

#[tokio::test]
async fn a_basic_card_number_already_held_draws_the_member_and_the_card_again() {
    let run = register(
        with_basic(World {
            answers: vec![Err(RegisterMemberError::NumberTaken)],
            draws: vec![41, 1, 2, 99],
            ..fresh()
        }),
        &command(),
    )
    .await;
    let registered = run.result.unwrap();
    assert_eq!(run.attempted, 2);
    let basic = run.recorded[0].basic_card.as_ref().unwrap();
    assert_eq!(registered.basic_card.unwrap().par, basic.card.card.par);
}

#[tokio::test]
async fn a_retry_answers_the_same_basic_card_without_making_another() {
    let first = register(with_basic(fresh()), &command()).await;
    let registered = first.result.unwrap();
    let new = first.recorded[0].clone();
    let record = IdempotencyRecord {
        operation: IdempotentOperation::RegisterMember.as_str().to_owned(),
        request_fingerprint: fingerprint_of(&command().canonical_form()),
        outcome: new.claim.outcome.clone(),
        created_at: NOW,
    };
    let retry = register(
        with_basic(World {
            records: vec![Some(record)],
            issued: new.basic_card.clone(),
            ..fresh()
        }),
        &command(),
    )
    .await;
    let again = retry.result.unwrap();
    assert!(again.replayed);
    assert_eq!(again.id, registered.id);
    assert_eq!(again.basic_card, registered.basic_card);
    assert_eq!(retry.attempted, 0, "nothing made again");
}

#[tokio::test]
async fn a_basic_product_that_is_unknown_inactive_or_not_mobile_makes_no_member() {
    for catalogue in [
        vec![],
        vec![product(BASIC, ProductType::Mobile, false)],
        vec![product(BASIC, ProductType::Normal, true)],
    ] {
        let run = register(
            World {
                basic: Some((Some(BASIC), catalogue.clone())),
                ..fresh()
            },
            &command(),
        )
        .await;
        assert_eq!(
            run.result.unwrap_err().code().code(),
            "000_099",
            "{catalogue:?}"
        );
        assert_eq!(run.attempted, 0);
    }
    // A project that names none: a member without a card.
    let run = register(
        World {
            basic: Some((None, vec![product(BASIC, ProductType::Mobile, true)])),
            ..fresh()
        },
        &command(),
    )
    .await;
    let registered = run.result.unwrap();
    assert_eq!(registered.basic_card, None);
    assert_eq!(run.recorded[0].basic_card, None);
    assert_eq!(run.recorded[0].claim.outcome, "42");
}
