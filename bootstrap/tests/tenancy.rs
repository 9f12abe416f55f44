//! Two projects on one service, over HTTP against the real binary, on SQLite and PostgreSQL
//! (D15): a project never reaches another's members, nor another's outcomes by reusing its
//! correlation id; each may hold a member of the same id, and what it issues is its own, down
//! to where its deliveries are.
//! Every later operation's tenancy test follows this pattern.

mod support;

use std::path::Path;

use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_tools::client;
use serde_json::{Value, json};
use support::{Service, credentials, post_signed, terminate};

fn mobile_body(member: u64) -> Vec<u8> {
    json!({"userInfo": {"userId": member}, "serviceId": sandbox::MOBILE_PRODUCT, "isDeliveryRequired": false})
        .to_string()
        .into_bytes()
}

async fn apply(
    credentials: &ClientCredentials,
    base_url: &str,
    member: u64,
    correlation_id: &str,
) -> (u16, Value) {
    // The correlation id in the body keeps every request's signature its own (docs/API.md).
    let body = client::with_nonce(
        std::str::from_utf8(&mobile_body(member)).unwrap(),
        correlation_id,
    );
    post_signed(
        credentials,
        base_url,
        body.as_bytes(),
        correlation_id,
        0,
        &[],
    )
    .await
}

fn code(answer: &Value) -> &str {
    answer["response"]["code"].as_str().unwrap_or_default()
}

/// A delivery to the sandbox's member: its project sees where it is; the other project, asking
/// as its own member of the same id, is answered as if it did not exist.
async fn deliveries_stay_in_their_project(
    sandbox_credentials: &ClientCredentials,
    sandbox_url: &str,
    other: &ClientCredentials,
    other_url: &str,
) {
    let mut delivered = client::IssueRequest::mobile_only(
        sandbox::ACTIVE_MEMBER.to_string(),
        sandbox::NORMAL_PRODUCT,
    );
    delivered.delivery = true;
    "서울특별시 강남구 테헤란로 1".clone_into(&mut delivered.address);
    "101동 1001호".clone_into(&mut delivered.address_detail);
    "06236".clone_into(&mut delivered.zip_code);
    let delivered = client::issue(
        sandbox_credentials,
        sandbox_url,
        &delivered,
        SystemClock.now(),
    )
    .await
    .unwrap();
    assert_eq!(code(&delivered.body), "000_000", "{}", delivered.body);
    let inquiry = client::Outgoing {
        path: prepaid_http::DELIVERY_INQUIRY_PATH,
        payload: client::delivery_payload(
            &sandbox::ACTIVE_MEMBER.to_string(),
            delivered.body["cardApplyNo"].as_str().unwrap(),
        ),
        encrypt: false,
        correlation_id: None,
    };
    for (credentials, url, expected) in [
        (sandbox_credentials, sandbox_url, "000_000"),
        (other, other_url, "003_001"),
    ] {
        let answer = client::send(credentials, url, &inquiry, SystemClock.now())
            .await
            .unwrap();
        assert_eq!(code(&answer.body), expected, "{}", answer.body);
    }
}

/// The sandbox's card, named by its PAR and by its number by the other project (for its own
/// member of the same id): answered as a card that does not exist, and left as it is.
async fn cards_stay_in_their_project(
    (sandbox_credentials, sandbox_url): (&ClientCredentials, &str),
    (other, other_url): (&ClientCredentials, &str),
    card: &Value,
) {
    let member = sandbox::ACTIVE_MEMBER.to_string();
    let (par, number) = (
        card["mobileCardPar"].as_str().unwrap(),
        card["mobileCardNo"].as_str().unwrap(),
    );
    let send = async |credentials, url, path, payload: String, encrypt| {
        let id = client::new_correlation_id(SystemClock.now());
        let outgoing = client::Outgoing {
            path,
            payload: client::with_nonce(&payload, &id),
            encrypt,
            correlation_id: Some(id),
        };
        client::send(credentials, url, &outgoing, SystemClock.now())
            .await
            .unwrap()
            .body
    };
    // Reported lost in the sandbox: the other project still cannot reissue it.
    let answer = send(
        sandbox_credentials,
        sandbox_url,
        prepaid_http::CARD_STATE_PATH,
        client::card_state_payload(&member, par, "SUSPEND"),
        false,
    )
    .await;
    assert_eq!(code(&answer), "000_000", "{answer}");
    let address = client::AddressLines {
        address: "서울특별시 강남구 테헤란로 1",
        detail: "101동 1001호",
        zip_code: "06236",
    };
    for (path, payload, expected) in [
        (
            prepaid_http::CARD_STATE_PATH,
            client::card_state_payload(&member, par, "RESUME"),
            "003_021",
        ),
        (
            prepaid_http::REISSUE_DELIVERY_PATH,
            client::reissue_payload(&member, par, None, Some(&address)),
            "003_021",
        ),
        (
            prepaid_http::RENEW_CARD_PATH,
            client::renew_payload(&member, number, &address),
            "003_008",
        ),
        (
            prepaid_http::CARD_STATE_PATH,
            client::card_state_payload(&member, number, "SUSPEND"),
            "003_001",
        ),
        (
            prepaid_http::DISCARD_CARD_PATH,
            client::discard_payload(&member, par),
            "001_047",
        ),
    ] {
        let answer = send(other, other_url, path, payload, true).await;
        assert_eq!(code(&answer), expected, "{answer}");
    }
    // Still the sandbox's, as it was: its own discard finds it not terminated, nor replaced.
    let answer = send(
        sandbox_credentials,
        sandbox_url,
        prepaid_http::DISCARD_CARD_PATH,
        client::discard_payload(&member, par),
        false,
    )
    .await;
    assert_eq!(code(&answer), "000_000", "{answer}");
}

/// The sandbox's fixture member, seen from the other project (which holds a member of the same
/// id, without details): no information, no login, no login id by the CI; and the other project
/// signs up a member of its own with the same login id, mobile number and CI, leaving the
/// sandbox's member as it was.
async fn members_stay_in_their_project(
    (sandbox_credentials, sandbox_url): (&ClientCredentials, &str),
    (other, other_url): (&ClientCredentials, &str),
) {
    let send = async |credentials, url, path, payload: String| {
        let id = client::new_correlation_id(SystemClock.now());
        let outgoing = client::Outgoing {
            path,
            payload: client::with_nonce(&payload, &id),
            encrypt: true,
            correlation_id: Some(id),
        };
        client::send(credentials, url, &outgoing, SystemClock.now())
            .await
            .unwrap()
            .body
    };
    let member = sandbox::ACTIVE_MEMBER;
    let info = send(
        other,
        other_url,
        prepaid_http::USER_INFO_PATH,
        json!({"userId": member}).to_string(),
    )
    .await;
    assert_eq!(code(&info), "001_006", "{info}");
    let login =
        json!({"loginId": sandbox::ACTIVE_LOGIN_ID, "loginPassword": sandbox::ACTIVE_PASSWORD})
            .to_string();
    let answer = send(
        other,
        other_url,
        prepaid_http::PASSWORD_CHECK_PATH,
        login.clone(),
    )
    .await;
    assert_eq!(code(&answer), "001_045", "{answer}");
    let found = send(
        other,
        other_url,
        prepaid_http::LOGIN_ID_FIND_PATH,
        json!({"ci": sandbox::ACTIVE_CI}).to_string(),
    )
    .await;
    assert_eq!(code(&found), "001_006", "{found}");
    let sign_up = json!({
        "loginId": sandbox::ACTIVE_LOGIN_ID, "loginPassword": "246802", "birthDate": "19900101",
        "nationality": "Korean", "gender": "Female", "userName": "김하나",
        "mobileNumber": "01000001001", "email": "other@project.example", "ci": sandbox::ACTIVE_CI,
    });
    let theirs = send(
        other,
        other_url,
        prepaid_http::USER_REGISTRATION_PATH,
        sign_up.to_string(),
    )
    .await;
    assert_eq!(code(&theirs), "000_000", "{theirs}");
    assert_ne!(theirs["userId"], member);
    let answer = send(
        other,
        other_url,
        prepaid_http::PASSWORD_CHECK_PATH,
        login.clone(),
    )
    .await;
    assert_eq!(
        code(&answer),
        "001_045",
        "their member's password is their own: {answer}"
    );
    let mine = send(
        sandbox_credentials,
        sandbox_url,
        prepaid_http::PASSWORD_CHECK_PATH,
        login,
    )
    .await;
    assert_eq!(mine["userId"], member, "{mine}");
    let found = send(
        sandbox_credentials,
        sandbox_url,
        prepaid_http::LOGIN_ID_FIND_PATH,
        json!({"ci": sandbox::ACTIVE_CI}).to_string(),
    )
    .await;
    assert_eq!(found["loginId"], sandbox::ACTIVE_LOGIN_ID, "{found}");
}

/// The scenario, with the services `start` gives and the admin command on `env`:
/// - the sandbox issues a card to its member 1001;
/// - the other project asks for member 1001 (the sandbox's), with a new correlation id and with
///   the sandbox request's own correlation id: `001_006` both times, no card data, nothing new;
/// - the other project gets its own member 1001 (written as a fixture: sign-ups draw their
///   ids) and is issued its own card; the sandbox's member and card are unchanged (its retry
///   still answers its own card).
async fn two_projects(
    root: &Path,
    env: &[(&str, &str)],
    start: impl Fn() -> Vec<Service>,
    (count, add_member): (impl AsyncFn(u64) -> i64, impl AsyncFn(&str, u64)),
) {
    let data_dir = root.join("data");
    let services = start();
    let sandbox_credentials = credentials(&data_dir);
    for mut service in services {
        assert!(terminate(&mut service).success());
    }
    let other = support::create_project(&data_dir, env, root, "other", None);
    let services = start();
    let urls: Vec<String> = services.iter().map(|s| s.base_url.clone()).collect();
    let last = urls.last().unwrap();

    let sandbox_correlation = client::new_correlation_id(SystemClock.now());
    let (status, genuine) = apply(
        &sandbox_credentials,
        &urls[0],
        sandbox::ACTIVE_MEMBER,
        &sandbox_correlation,
    )
    .await;
    assert_eq!((status, code(&genuine)), (200, "000_000"), "{genuine}");
    let issued = count(sandbox::ACTIVE_MEMBER).await;

    for correlation_id in [
        client::new_correlation_id(SystemClock.now()),
        sandbox_correlation.clone(),
    ] {
        let (status, answer) = apply(&other, last, sandbox::ACTIVE_MEMBER, &correlation_id).await;
        assert_eq!(
            (status, code(&answer)),
            (400, "001_006"),
            "another project's member: {answer}"
        );
        assert!(answer.get("cardApplyNo").is_none());
        assert!(answer.get("mobileCardNo").is_none());
    }
    assert_eq!(
        count(sandbox::ACTIVE_MEMBER).await,
        issued,
        "nothing issued"
    );

    let mut services = services;
    for service in &mut services {
        assert!(terminate(service).success());
    }
    add_member(&other.asp_id, sandbox::ACTIVE_MEMBER).await;
    let services = start();
    let urls: Vec<String> = services.iter().map(|s| s.base_url.clone()).collect();
    let (status, own) = apply(
        &other,
        urls.last().unwrap(),
        sandbox::ACTIVE_MEMBER,
        &client::new_correlation_id(SystemClock.now()),
    )
    .await;
    assert_eq!((status, code(&own)), (200, "000_000"), "{own}");
    assert_ne!(own["mobileCardNo"], genuine["mobileCardNo"]);
    assert_eq!(count(sandbox::ACTIVE_MEMBER).await, issued + 1);

    deliveries_stay_in_their_project(&sandbox_credentials, &urls[0], &other, urls.last().unwrap())
        .await;

    // The sandbox's retry still answers its own card, not the other project's.
    let (status, again) = apply(
        &sandbox_credentials,
        &urls[0],
        sandbox::ACTIVE_MEMBER,
        &sandbox_correlation,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["cardApplyNo"], genuine["cardApplyNo"]);
    assert_eq!(again["mobileCardNo"], genuine["mobileCardNo"]);
    cards_stay_in_their_project(
        (&sandbox_credentials, &urls[0]),
        (&other, urls.last().unwrap()),
        &genuine,
    )
    .await;
    members_stay_in_their_project(
        (&sandbox_credentials, &urls[0]),
        (&other, urls.last().unwrap()),
    )
    .await;
    for mut service in services {
        assert!(terminate(&mut service).success());
    }
}

#[actix_web::test]
async fn two_projects_on_sqlite_never_reach_each_others_members() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    two_projects(
        root.path(),
        &[],
        || vec![support::start(&data_dir, "tenancy.log")],
        (
            async |member| {
                support::database(&data_dir)
                    .count_issued_to(prepaid_domain::MemberId::new(member).unwrap())
                    .await
                    .unwrap()
                    .applications
            },
            async |asp_id, member| add_member(&support::database(&data_dir), asp_id, member).await,
        ),
    )
    .await;
}

#[actix_web::test]
async fn two_projects_on_postgresql_never_reach_each_others_members() {
    let Some(url) = support::postgres_url("tenancy") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    // Member 1001 is every run's sandbox fixture: counts are taken before and after, and the
    // test binaries run one at a time.
    let env = [("PREPAID_DATABASE_URL", url.as_str())];
    let db = support::postgres(&url);
    two_projects(
        root.path(),
        &env,
        || {
            let (first, second) = support::start_two_on_postgres(root.path(), &url);
            vec![first, second]
        },
        (
            async |member| {
                db.count_issued_to(prepaid_domain::MemberId::new(member).unwrap())
                    .await
                    .unwrap()
                    .applications
            },
            async |asp_id, member| add_member(&db, asp_id, member).await,
        ),
    )
    .await;
}

/// Writes member `id` of project `asp_id`, active, as the sandbox writes its fixture members.
async fn add_member(db: &prepaid_persistence::Database, asp_id: &str, id: u64) {
    db.save_member(
        &prepaid_domain::AspId::parse(asp_id).unwrap(),
        prepaid_domain::Member {
            id: prepaid_domain::MemberId::new(id).unwrap(),
            status: prepaid_domain::MemberStatus::Active,
        },
        SystemClock.now(),
    )
    .await
    .unwrap();
}
