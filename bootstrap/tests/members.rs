//! The members' operations over HTTP against the real binary, on SQLite and on PostgreSQL (two
//! instances): a sign-up read back and logged in with, retried with one correlation id, raced
//! for one login id, and a storm of 64 wrong passwords that locks the member once and never
//! lets a sixth guess be evaluated; a member who leaves with their card, refused while it is
//! suspended and cancelled once by 64 requests at once; a change of details retried 64 times at
//! once and made once; no personal value in a log line or in the database files.

mod support;

use std::path::Path;

use futures_util::future::join_all;
use prepaid_application::ports::{CardStore as _, Clock as _, MemberRecords as _};
use prepaid_bootstrap::sandbox;
use prepaid_crypto::SystemClock;
use prepaid_domain::{AspId, MemberId};
use prepaid_persistence::Database;
use prepaid_tools::client;
use serde_json::{Value, json};
use support::caller::{Caller, code, on_postgresql, on_sqlite, text};
use support::{Service, terminate};

fn id() -> String {
    client::new_correlation_id(SystemClock.now())
}

/// The personal values of the sign-up of `seed`; none of them may be logged or stored in
/// plaintext.
struct Person {
    login_id: String,
    name: String,
    mobile: String,
    email: String,
    ci: String,
}

impl Person {
    fn new(seed: u32) -> Self {
        Self {
            login_id: format!("person.{seed}@members.example"),
            name: format!("홍길동{seed}"),
            mobile: format!("0109{seed:07}"),
            email: format!("mail.{seed}@members.example"),
            ci: format!("{:0>86}==", format!("CIVALUE{seed}")),
        }
    }

    fn sign_up(&self, nonce: &str) -> String {
        json!({
            "loginId": self.login_id,
            "loginPassword": "135790",
            "birthDate": "19880412",
            "nationality": "Korean",
            "gender": "Male",
            "userName": self.name,
            "mobileNumber": self.mobile,
            "email": self.email,
            "ci": self.ci,
            "addressInfo": {"address": "서울특별시 중구 세종대로 110", "addressDetail": "3층 301호", "zipCode": "04524"},
            "joinChannel": "OPENAPI",
            "clientNonce": nonce,
        })
        .to_string()
    }
}

async fn sign_up(caller: &Caller, index: usize, person: &Person, id: &str, nonce: &str) -> Value {
    caller
        .send_with(
            index,
            prepaid_http::USER_REGISTRATION_PATH,
            person.sign_up(nonce),
            id,
            true,
        )
        .await
}

async fn check(caller: &Caller, index: usize, login_id: &str, password: &str) -> Value {
    let body = json!({"loginId": login_id, "loginPassword": password}).to_string();
    caller
        .send(index, prepaid_http::PASSWORD_CHECK_PATH, body, &id())
        .await
}

/// A sign-up answered once whatever the retries, read back, found by its CI and logged in with.
async fn a_member_signs_up_and_logs_in(caller: &Caller, person: &Person) -> u64 {
    let first = id();
    let answers = join_all((0..64).map(|index| {
        let nonce = format!("retry-{index}");
        let first = first.clone();
        async move { sign_up(caller, index, person, &first, &nonce).await }
    }))
    .await;
    let user_id = answers[0]["userId"]
        .as_u64()
        .unwrap_or_else(|| panic!("a member id: {}", answers[0]));
    for answer in &answers {
        assert_eq!(code(answer), "000_000", "{answer}");
        assert_eq!(
            answer["userId"], user_id,
            "one member for one correlation id"
        );
    }
    let info = caller
        .send_with(
            1,
            prepaid_http::USER_INFO_PATH,
            json!({"userId": user_id}).to_string(),
            &id(),
            true,
        )
        .await;
    assert_eq!(code(&info), "000_000", "{info}");
    assert_eq!(info["userInfo"]["loginId"], person.login_id.as_str());
    assert_eq!(info["userInfo"]["userName"], person.name.as_str());
    assert_eq!(info["userInfo"]["addressInfo"]["zipCode"], "04524");
    let found = caller
        .send_with(
            0,
            prepaid_http::LOGIN_ID_FIND_PATH,
            json!({"ci": person.ci}).to_string(),
            &id(),
            true,
        )
        .await;
    assert_eq!(text(&found, "loginId"), person.login_id, "{found}");
    let login = check(caller, 1, &person.login_id.to_uppercase(), "135790").await;
    assert_eq!(login["userId"], user_id, "{login}");
    user_id
}

/// Of 64 sign-ups with one login id at once, one is a member; the others are `001_001`.
async fn one_login_id_one_member(caller: &Caller) {
    let answers = join_all((0..64u32).map(|index| async move {
        let mut person = Person::new(500 + index);
        person.login_id = "raced@members.example".into();
        sign_up(caller, index as usize, &person, &id(), "race").await
    }))
    .await;
    let made = answers
        .iter()
        .filter(|answer| code(answer) == "000_000")
        .count();
    assert_eq!(made, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|answer| ["000_000", "001_001"].contains(&code(answer)))
    );
}

/// 64 wrong passwords at once: five are evaluated (`001_045`), the others are `001_069`, and so
/// is the right password after them.
async fn a_storm_of_wrong_passwords_locks_once(
    caller: &Caller,
    db: &Database,
    person: &Person,
    user_id: u64,
) {
    let answers = join_all((0..64u32).map(|index| {
        let password = format!("{:06}", 200_000 + index * 7);
        async move { check(caller, index as usize, &person.login_id, &password).await }
    }))
    .await;
    let wrong = answers
        .iter()
        .filter(|answer| code(answer) == "001_045")
        .count();
    let locked = answers
        .iter()
        .filter(|answer| code(answer) == "001_069")
        .count();
    assert_eq!((wrong, locked), (5, 59), "{answers:?}");
    let stored = db
        .member(
            &AspId::parse(&caller.credentials.asp_id).unwrap(),
            MemberId::new(user_id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.wrong_passwords, 5);
    let right = check(caller, 0, &person.login_id, "135790").await;
    assert_eq!(code(&right), "001_069", "{right}");
}

/// The details a change gives member `user_id`; none may be logged or stored in plaintext.
const CHANGED_NAME: &str = "홍길순변경";
const CHANGED_MOBILE: &str = "01080000001";
const CHANGED_EMAIL: &str = "changed.1@members.example";

/// A member changes their details: 64 retries of one change at once change them once, the
/// information answers the new details and the old login id, and a mobile number another
/// member holds is `001_001`.
async fn a_member_changes_their_details(caller: &Caller, db: &Database, user_id: u64) {
    let asp = AspId::parse(caller.credentials.asp_id.as_str()).unwrap();
    let owner = MemberId::new(user_id).unwrap();
    let version = || async { db.member(&asp, owner).await.unwrap().unwrap().version };
    let before = version().await;
    let first = id();
    let answers = join_all((0..64).map(|index| {
        let body = json!({
            "userId": user_id,
            "userName": CHANGED_NAME,
            "mobileNumber": CHANGED_MOBILE,
            "email": CHANGED_EMAIL,
            "clientNonce": format!("change-{index}"),
        })
        .to_string();
        let first = first.clone();
        async move {
            caller
                .send_with(
                    index,
                    prepaid_http::USER_INFO_CHANGE_PATH,
                    body,
                    &first,
                    true,
                )
                .await
        }
    }))
    .await;
    for answer in &answers {
        assert_eq!(code(answer), "000_000", "{answer}");
    }
    assert_eq!(
        version().await,
        before + 1,
        "one change for one correlation id"
    );
    let info = caller
        .send_with(
            0,
            prepaid_http::USER_INFO_PATH,
            json!({"userId": user_id, "clientNonce": "changed"}).to_string(),
            &id(),
            true,
        )
        .await;
    assert_eq!(info["userInfo"]["userName"], CHANGED_NAME, "{info}");
    assert_eq!(info["userInfo"]["mobileNumber"], CHANGED_MOBILE);
    assert_eq!(info["userInfo"]["email"], CHANGED_EMAIL);
    assert_eq!(info["userInfo"]["loginId"], "person.1@members.example");
    let taken = caller
        .send_with(
            1,
            prepaid_http::USER_INFO_CHANGE_PATH,
            json!({"userId": user_id, "mobileNumber": "01000001001"}).to_string(),
            &id(),
            true,
        )
        .await;
    assert_eq!(code(&taken), "001_001", "{taken}");
    assert_eq!(version().await, before + 1, "a refusal changes nothing");
}

/// A project that names a basic product: 64 retries of one sign-up at once make one member with
/// one basic card, each answered alike; a project that names none again gives no card.
async fn a_basic_card_comes_with_the_sign_up(caller: &Caller, db: &Database, admin: Admin<'_>) {
    let (data_dir, environment) = admin;
    let asp_id = caller.credentials.asp_id.as_str();
    let named = support::admin(
        data_dir,
        environment,
        &[
            "set-basic-product",
            "--asp-id",
            asp_id,
            "--service-id",
            sandbox::MOBILE_PRODUCT,
        ],
    );
    assert!(named.contains(sandbox::MOBILE_PRODUCT), "{named}");
    let refused = support::admin_refused(
        data_dir,
        environment,
        &[
            "set-basic-product",
            "--asp-id",
            asp_id,
            "--service-id",
            sandbox::NORMAL_PRODUCT,
        ],
    );
    assert!(
        refused.contains("not an active MOBILE product"),
        "{refused}"
    );
    let person = Person::new(3);
    let first = id();
    let answers = join_all((0..64).map(|index| {
        let (first, person) = (first.clone(), &person);
        async move { sign_up(caller, index, person, &first, &format!("basic-{index}")).await }
    }))
    .await;
    let card = answers[0]["basicCardInfo"].clone();
    assert_eq!(card["serviceId"], sandbox::MOBILE_PRODUCT, "{}", answers[0]);
    let expiry = text(&answers[0]["basicCardInfo"], "expiryDate");
    assert_eq!(expiry.len(), 6, "YYMMDD");
    for answer in &answers {
        assert_eq!(code(answer), "000_000", "{answer}");
        assert_eq!(answer["userId"], answers[0]["userId"]);
        assert_eq!(answer["basicCardInfo"], card, "one card, answered alike");
    }
    let asp = AspId::parse(asp_id).unwrap();
    let owner = MemberId::new(answers[0]["userId"].as_u64().unwrap()).unwrap();
    let cards = db.cards_of_member(&asp, owner).await.unwrap();
    assert_eq!(cards.len(), 1, "one basic card");
    assert_eq!(cards[0].card.par.as_str(), card["par"].as_str().unwrap());
    let listed = caller
        .send_with(
            1,
            prepaid_http::CARD_LIST_PATH,
            json!({"userId": owner.get(), "clientNonce": "basic"}).to_string(),
            &id(),
            true,
        )
        .await;
    assert_eq!(listed["cardDataInfo"][0]["par"], card["par"], "{listed}");
    let discard = caller
        .send(
            0,
            prepaid_http::DISCARD_CARD_PATH,
            json!({"userId": owner.get(), "par": card["par"]}).to_string(),
            &id(),
        )
        .await;
    assert_eq!(code(&discard), "001_059", "the basic card stays: {discard}");

    let cleared = support::admin(
        data_dir,
        environment,
        &["set-basic-product", "--asp-id", asp_id, "--clear"],
    );
    assert!(cleared.contains("no basic product"), "{cleared}");
    let without = sign_up(caller, 0, &Person::new(4), &id(), "no-basic").await;
    assert_eq!(code(&without), "000_000", "{without}");
    assert!(without.get("basicCardInfo").is_none(), "{without}");
}

/// A member leaves with their card: refused while it is suspended (through the API and the
/// admin command alike), then 64 cancellations at once cancel once and terminate the card with
/// the member; the fixture member 1003 is cancelled by the operator.
async fn a_member_leaves_with_their_cards(caller: &Caller, db: &Database, admin: Admin<'_>) {
    let person = Person::new(2);
    let signed_up = sign_up(caller, 0, &person, &id(), "leaving").await;
    let user_id = signed_up["userId"].as_u64().expect("a member id");
    let member = user_id.to_string();
    let request = client::IssueRequest::mobile_only(member.clone(), sandbox::MOBILE_PRODUCT);
    let issued = client::issue(
        &caller.credentials,
        caller.url(0),
        &request,
        SystemClock.now(),
    )
    .await
    .unwrap()
    .body;
    let par = text(&issued, "mobileCardPar").to_owned();
    let state = |status: &str, index: usize| {
        let correlation = id();
        let payload = client::with_nonce(
            &client::card_state_payload(&member, &par, status),
            &correlation,
        );
        async move {
            caller
                .send(index, prepaid_http::CARD_STATE_PATH, payload, &correlation)
                .await
        }
    };
    assert_eq!(code(&state("SUSPEND", 0).await), "000_000");
    let unregister = |index: usize, correlation: String| {
        let payload = client::with_nonce(&json!({"userId": user_id}).to_string(), &correlation);
        async move {
            caller
                .send(index, prepaid_http::UNREGISTER_PATH, payload, &correlation)
                .await
        }
    };
    let refused = unregister(1, id()).await;
    assert_eq!(code(&refused), "001_090", "{refused}");
    let (data_dir, environment) = admin;
    let asp_id = caller.credentials.asp_id.as_str();
    let said = support::admin_refused(
        data_dir,
        environment,
        &["cancel-member", "--asp-id", asp_id, "--id", &member],
    );
    assert!(said.contains("001_090"), "{said}");
    assert_eq!(code(&state("RESUME", 1).await), "000_000");

    let ids: Vec<String> = (0..64).map(|_| id()).collect();
    let answers = join_all(
        ids.iter()
            .enumerate()
            .map(|(index, correlation)| unregister(index, correlation.clone())),
    )
    .await;
    let cancelled: Vec<usize> = (0..64)
        .filter(|&index| code(&answers[index]) == "000_000")
        .collect();
    assert_eq!(cancelled.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|answer| ["000_000", "001_006"].contains(&code(answer)))
    );
    let retried = unregister(0, ids[cancelled[0]].clone()).await;
    assert_eq!(code(&retried), "000_000", "a retry: the first outcome");
    the_member_is_gone_with_their_card(caller, db, user_id, &person).await;

    let leaving = sandbox::LEAVING_MEMBER.to_string();
    let said = support::admin(
        data_dir,
        environment,
        &["cancel-member", "--asp-id", asp_id, "--id", &leaving],
    );
    assert!(said.contains("CANCELLED (0 cards terminated)"), "{said}");
    let said = support::admin_refused(
        data_dir,
        environment,
        &["cancel-member", "--asp-id", asp_id, "--id", &leaving],
    );
    assert!(said.contains("001_006"), "{said}");
}

/// After the cancellation: the member cancelled and their card terminated in the database, their
/// cards' list `001_006`, their login `001_045`.
async fn the_member_is_gone_with_their_card(
    caller: &Caller,
    db: &Database,
    user_id: u64,
    person: &Person,
) {
    let asp = AspId::parse(caller.credentials.asp_id.as_str()).unwrap();
    let owner = MemberId::new(user_id).unwrap();
    let stored = db.member(&asp, owner).await.unwrap().unwrap();
    assert_eq!(
        stored.member.status,
        prepaid_domain::MemberStatus::Cancelled
    );
    let cards = db.cards_of_member(&asp, owner).await.unwrap();
    assert_eq!(
        cards
            .iter()
            .map(|card| card.card.status)
            .collect::<Vec<_>>(),
        [prepaid_domain::CardStatus::Terminated],
        "the card left with the member"
    );
    let listed = caller
        .send(
            0,
            prepaid_http::CARD_LIST_PATH,
            json!({"userId": user_id, "clientNonce": "after"}).to_string(),
            &id(),
        )
        .await;
    assert_eq!(code(&listed), "001_006", "{listed}");
    let login = check(caller, 1, &person.login_id, "135790").await;
    assert_eq!(code(&login), "001_045", "{login}");
}

/// Where the service keeps its data, and the environment its admin command needs.
type Admin<'a> = (&'a Path, &'a [(&'a str, &'a str)]);

async fn the_members_path(
    services: Vec<Service>,
    caller: Caller,
    db: &Database,
    (data_dir, environment): Admin<'_>,
) -> Person {
    let person = Person::new(1);
    let user_id = a_member_signs_up_and_logs_in(&caller, &person).await;
    one_login_id_one_member(&caller).await;
    a_storm_of_wrong_passwords_locks_once(&caller, db, &person, user_id).await;
    // The operator unlocks the password (the service keeps running): five attempts again.
    let said = support::admin(
        data_dir,
        environment,
        &[
            "unlock-password",
            "--asp-id",
            &caller.credentials.asp_id,
            "--id",
            &user_id.to_string(),
        ],
    );
    assert!(said.contains("unlocked"), "{said}");
    let unlocked = check(&caller, 1, &person.login_id, "135790").await;
    assert_eq!(unlocked["userId"], user_id, "{unlocked}");
    a_member_changes_their_details(&caller, db, user_id).await;
    a_basic_card_comes_with_the_sign_up(&caller, db, (data_dir, environment)).await;
    a_member_leaves_with_their_cards(&caller, db, (data_dir, environment)).await;
    // The fixture member logs in with the documented password.
    let fixture = check(
        &caller,
        0,
        sandbox::ACTIVE_LOGIN_ID,
        sandbox::ACTIVE_PASSWORD,
    )
    .await;
    assert_eq!(fixture["userId"], sandbox::ACTIVE_MEMBER, "{fixture}");
    for mut service in services {
        assert!(terminate(&mut service).success());
    }
    person
}

#[actix_web::test]
async fn the_members_path_on_sqlite_logs_and_stores_no_personal_value() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let log = root.path().join("members.log");
    let running = on_sqlite(&data_dir, &log, &[]);
    let person = the_members_path(
        running.services,
        running.caller,
        &running.db,
        (&data_dir, &[]),
    )
    .await;
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("member registered"), "{log}");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("prepaid.sqlite3")
        {
            files.extend(std::fs::read(path).unwrap());
        }
    }
    let stored = String::from_utf8_lossy(&files);
    for personal in [
        person.login_id.as_str(),
        "PERSON.1@MEMBERS.EXAMPLE",
        person.name.as_str(),
        person.mobile.as_str(),
        person.email.as_str(),
        person.ci.as_str(),
        "19880412",
        "세종대로",
        "raced@members.example",
        "person.2@members.example",
        "person.3@members.example",
        "person.4@members.example",
        CHANGED_NAME,
        CHANGED_MOBILE,
        CHANGED_EMAIL,
        sandbox::ACTIVE_LOGIN_ID,
        sandbox::ACTIVE_CI,
    ] {
        assert!(!log.contains(personal), "{personal} in the log");
        assert!(
            !stored.contains(personal),
            "{personal} in the database files"
        );
    }
}

#[actix_web::test]
async fn the_members_path_on_postgresql_with_two_instances() {
    let Some(url) = support::postgres_url("members") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let running = on_postgresql(&url, &data_dir, &root.path().join("postgres.log"), &[]);
    the_members_path(
        running.services,
        running.caller,
        &running.db,
        (&data_dir, &[("PREPAID_DATABASE_URL", &url)]),
    )
    .await;
}
