//! The members' operations through the pipeline, over the member service and the fake members:
//! a sign-up read back, the password rules in their order, the password lock, and another
//! project that sees none of the sandbox's members.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::people::{ACTIVE_CI, ACTIVE_LOGIN_ID, ACTIVE_PASSWORD, People};
use crate::support::{
    CRYPTO_KEY, Call, FakeCipher, OTHER_ASP, OTHER_ASP_KEY, OTHER_CRYPTO_KEY, Store, app_over,
    fake_encrypt, ports_with, send,
};

/// A plaintext request that names the crypto key its answer is encrypted with.
fn call(path: &str, body: &Value, correlation: &str) -> Call {
    let mut call = Call::new(body.to_string())
        .correlation(correlation)
        .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY));
    path.clone_into(&mut call.path);
    call
}

fn sign_up() -> Value {
    json!({
        "loginId": "New.Member@Example.com",
        "loginPassword": "135790",
        "birthDate": "19950315",
        "nationality": "Foreigner",
        "gender": "Female",
        "userName": "박새롬",
        "mobileNumber": "01077770001",
        "email": "new.member@example.com",
        "ci": "Q".repeat(86) + "==",
        "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"},
        "joinChannel": "KONA",
    })
}

macro_rules! members_app {
    ($people:expr) => {{
        let store = Store::default();
        let mut ports = ports_with(&store, Arc::new(FakeCipher::default()));
        ports.members = $people.service();
        ports.cancellations = $people.cancellations(&store);
        app_over(ports).await
    }};
}

#[actix_web::test]
async fn a_signed_up_member_reads_back_what_they_registered_and_logs_in() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let answer = send(
        &app,
        call(
            prepaid_http::USER_REGISTRATION_PATH,
            &sign_up(),
            "261125153000-0000e01",
        )
        .request(),
    )
    .await;
    let answer = answer.decrypted();
    assert_eq!(answer["response"]["code"], "000_000", "{answer}");
    let id = answer["userId"].as_u64().unwrap();

    let info = send(
        &app,
        call(
            prepaid_http::USER_INFO_PATH,
            &json!({"userId": id}),
            "261125153000-0000e02",
        )
        .request(),
    )
    .await
    .decrypted();
    let mut expected = sign_up();
    let expected = expected.as_object_mut().unwrap();
    expected.remove("loginPassword");
    expected.insert("userId".into(), id.into());
    expected.insert("aspId".into(), "ASPSANDBOX00001".into());
    assert_eq!(info["userInfo"], Value::Object(expected.clone()));

    let login = send(
        &app,
        call(
            prepaid_http::PASSWORD_CHECK_PATH,
            &json!({"loginId": "new.member@EXAMPLE.com", "loginPassword": "135790"}),
            "261125153000-0000e03",
        )
        .request(),
    )
    .await;
    assert_eq!(login.json["userId"], id, "{}", login.json);
    let found = send(
        &app,
        call(
            prepaid_http::LOGIN_ID_FIND_PATH,
            &json!({"ci": "Q".repeat(86) + "=="}),
            "261125153000-0000e04",
        )
        .request(),
    )
    .await;
    assert_eq!(found.json["loginId"], "New.Member@Example.com");
}

#[actix_web::test]
async fn a_sign_up_retried_with_its_correlation_id_answers_the_same_member_once() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let first = call(
        prepaid_http::USER_REGISTRATION_PATH,
        &sign_up(),
        "261125153000-0000e11",
    );
    let answer = send(&app, first.clone().request()).await.decrypted();
    // A retry is a new request (a new token) with the same correlation id and payload.
    let mut retry = first.clone();
    retry.token_time = prepaid_domain::DateTime::with_millis(2026, 11, 25, 15, 30, 0, 999).unwrap();
    let again = send(&app, retry.request()).await.decrypted();
    assert_eq!(again["userId"], answer["userId"], "{again}");

    let mut other = sign_up();
    other["mobileNumber"] = "01077770009".into();
    let conflict = send(
        &app,
        call(
            prepaid_http::USER_REGISTRATION_PATH,
            &other,
            "261125153000-0000e11",
        )
        .request(),
    )
    .await
    .decrypted();
    assert_eq!(conflict["response"]["code"], "000_094");
}

#[actix_web::test]
async fn a_login_id_mobile_number_or_ci_held_in_the_project_is_001_001() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    for (index, (field, value)) in [
        ("loginId", json!("MEMBER1001@sandbox.EXAMPLE")),
        ("mobileNumber", json!("01000001001")),
        ("ci", json!(ACTIVE_CI)),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = sign_up();
        body[field] = value;
        let answer = send(
            &app,
            call(
                prepaid_http::USER_REGISTRATION_PATH,
                &body,
                &format!("261125153000-0000e2{index}"),
            )
            .request(),
        )
        .await
        .decrypted();
        assert_eq!(answer["response"]["code"], "001_001", "{field}");
    }
}

#[actix_web::test]
async fn the_password_rules_come_in_the_order_of_the_fields() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    for (index, (changes, path)) in [
        // A run in the password comes before a later field's own refusal.
        (
            json!({"loginPassword": "111790", "birthDate": "19950231"}),
            "loginPassword",
        ),
        (
            json!({"loginPassword": "135790", "birthDate": "19950231"}),
            "birthDate",
        ),
        // Inside the mobile number: checked once every field's own rules passed.
        (
            json!({"loginPassword": "770770", "mobileNumber": "01077077001"}),
            "loginPassword",
        ),
        (
            json!({"loginPassword": "770770", "mobileNumber": "0107707700A"}),
            "mobileNumber",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = sign_up();
        for (name, value) in changes.as_object().unwrap() {
            body[name] = value.clone();
        }
        let answer = send(
            &app,
            call(
                prepaid_http::USER_REGISTRATION_PATH,
                &body,
                &format!("261125153000-0000e3{index}"),
            )
            .request(),
        )
        .await
        .decrypted();
        assert_eq!(
            answer["response"]["description"],
            format!("Invalid input parameter. {path}"),
            "{changes}"
        );
    }
}

#[actix_web::test]
async fn five_wrong_passwords_lock_the_member_until_an_unlock_even_for_the_right_one() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let attempt = |password: &str, index: u16| {
        call(
            prepaid_http::PASSWORD_CHECK_PATH,
            &json!({"loginId": ACTIVE_LOGIN_ID, "loginPassword": password}),
            &format!("261125153000-0000e{index:02}"),
        )
        .request()
    };
    // Each a body of its own: the same body again within the window is a replay (D4).
    for (index, password) in (40..45).zip(["111111", "222222", "333333", "444444", "555555"]) {
        let answer = send(&app, attempt(password, index)).await;
        assert_eq!(answer.code(), "001_045", "{index} {}", answer.json);
    }
    assert_eq!(people.wrong_passwords(1001), 5);
    for (index, password) in [(45, "666666"), (46, ACTIVE_PASSWORD)] {
        let answer = send(&app, attempt(password, index)).await;
        assert_eq!(
            (answer.code(), answer.description()),
            (
                "001_069",
                "Wallet login failed. User login attempt crossed please reset password."
            )
        );
    }
    assert_eq!(
        people.wrong_passwords(1001),
        5,
        "a locked attempt is not counted"
    );
}

#[actix_web::test]
async fn an_unknown_login_id_is_answered_as_a_wrong_password() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let answer = send(
        &app,
        call(
            prepaid_http::PASSWORD_CHECK_PATH,
            &json!({"loginId": "nobody@sandbox.example", "loginPassword": ACTIVE_PASSWORD}),
            "261125153000-0000e50",
        )
        .request(),
    )
    .await;
    assert_eq!(
        (answer.code(), answer.description()),
        ("001_045", "Wallet pin didn't match.")
    );
}

#[actix_web::test]
async fn another_project_sees_none_of_the_sandbox_s_members() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let theirs = |path: &str, body: Value, correlation: &str| {
        let envelope =
            json!({"encData": fake_encrypt(OTHER_CRYPTO_KEY, body.to_string().as_bytes())});
        call(path, &envelope, correlation)
            .header("X-KM-User-AspId", Some(OTHER_ASP))
            .header("X-KM-Access-Key", Some(OTHER_ASP_KEY))
            .header("X-KM-Crypto-Key-Id", Some(OTHER_CRYPTO_KEY))
            .request()
    };
    let info = send(
        &app,
        theirs(
            prepaid_http::USER_INFO_PATH,
            json!({"userId": 1001}),
            "261125153000-0000e60",
        ),
    )
    .await;
    assert_eq!(info.decrypted()["response"]["code"], "001_006");
    let found = send(
        &app,
        theirs(
            prepaid_http::LOGIN_ID_FIND_PATH,
            json!({"ci": ACTIVE_CI}),
            "261125153000-0000e61",
        ),
    )
    .await;
    assert_eq!(found.decrypted()["response"]["code"], "001_006");
    let login = send(
        &app,
        theirs(
            prepaid_http::PASSWORD_CHECK_PATH,
            json!({"loginId": ACTIVE_LOGIN_ID, "loginPassword": ACTIVE_PASSWORD}),
            "261125153000-0000e62",
        ),
    )
    .await;
    assert_eq!(login.decrypted()["response"]["code"], "001_045");
    assert_eq!(
        people.wrong_passwords(1001),
        0,
        "the sandbox's member is untouched"
    );
    // The same login id signs up in another project.
    let mut body = sign_up();
    body["loginId"] = ACTIVE_LOGIN_ID.into();
    let registered = send(
        &app,
        theirs(
            prepaid_http::USER_REGISTRATION_PATH,
            body,
            "261125153000-0000e63",
        ),
    )
    .await;
    assert_eq!(registered.decrypted()["response"]["code"], "000_000");
}

#[actix_web::test]
async fn a_cancelled_member_answers_001_006_everywhere_and_a_retry_the_first_outcome() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let unregister = |body: Value, correlation: &str| {
        call(prepaid_http::UNREGISTER_PATH, &body, correlation).request()
    };

    let answer = send(
        &app,
        unregister(json!({"userId": 1003}), "261125153000-0000e70"),
    )
    .await;
    assert_eq!(
        (answer.code(), answer.json["response"]["code"].clone()),
        ("000_000", json!("000_000"))
    );
    assert_eq!(people.status(1003), prepaid_domain::MemberStatus::Cancelled);

    let retried = send(
        &app,
        unregister(json!({"userId": 1003}), "261125153000-0000e70"),
    )
    .await;
    assert_eq!(
        retried.code(),
        "000_000",
        "the same request again: its first outcome"
    );
    let again = send(
        &app,
        unregister(json!({"userId": 1003, "n": 1}), "261125153000-0000e71"),
    )
    .await;
    assert_eq!(
        (again.code(), again.description()),
        ("001_006", "Wallet user not found.")
    );
    let other = send(
        &app,
        unregister(json!({"userId": 1001}), "261125153000-0000e70"),
    )
    .await;
    assert_eq!(other.code(), "000_094", "{}", other.json);
    assert_eq!(people.status(1001), prepaid_domain::MemberStatus::Active);

    let info = send(
        &app,
        call(
            prepaid_http::USER_INFO_PATH,
            &json!({"userId": 1003, "n": 2}),
            "261125153000-0000e72",
        )
        .request(),
    )
    .await;
    assert_eq!(info.decrypted()["response"]["code"], "001_006");
    let login = send(
        &app,
        call(
            prepaid_http::PASSWORD_CHECK_PATH,
            &json!({"loginId": "member1003@sandbox.example", "loginPassword": "975319"}),
            "261125153000-0000e73",
        )
        .request(),
    )
    .await;
    assert_eq!(login.code(), "001_045");
}

#[actix_web::test]
async fn another_project_cannot_cancel_the_sandbox_s_member() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let answer = send(
        &app,
        call(
            prepaid_http::UNREGISTER_PATH,
            &json!({"userId": 1003}),
            "261125153000-0000e80",
        )
        .header("X-KM-User-AspId", Some(OTHER_ASP))
        .header("X-KM-Access-Key", Some(OTHER_ASP_KEY))
        .header("X-KM-Crypto-Key-Id", Some(OTHER_CRYPTO_KEY))
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "001_006", "{}", answer.json);
    assert_eq!(people.status(1003), prepaid_domain::MemberStatus::Active);
}

/// Member 1001's information as the sandbox's fixture has it, read through the API.
async fn info_of_1001<S, B>(app: &S, correlation: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    send(
        app,
        call(
            prepaid_http::USER_INFO_PATH,
            &json!({"userId": 1001, "clientNonce": correlation}),
            correlation,
        )
        .request(),
    )
    .await
    .decrypted()["userInfo"]
        .clone()
}

#[actix_web::test]
async fn the_details_a_change_names_replace_the_member_s_and_the_rest_stay() {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let before = info_of_1001(&app, "261125153000-0000e90").await;
    let change = json!({
        "userId": 1001,
        "userName": "김하나",
        "mobileNumber": "0109998877",
        "email": null,
        "addressInfo": {"address": "서울특별시 중구 세종대로 110", "addressDetail": "2층", "zipCode": "04524"},
    });
    let first = call(
        prepaid_http::USER_INFO_CHANGE_PATH,
        &change,
        "261125153000-0000e91",
    );
    let answer = send(&app, first.clone().request()).await;
    assert_eq!(answer.code(), "000_000", "{}", answer.json);
    assert!(
        answer.json.get("encData").is_none(),
        "the answer is plaintext"
    );
    assert!(answer.json.get("userName").is_none(), "and holds no detail");

    let after = info_of_1001(&app, "261125153000-0000e92").await;
    let mut expected = before.clone();
    expected["userName"] = "김하나".into();
    expected["mobileNumber"] = "0109998877".into();
    expected["addressInfo"] = change["addressInfo"].clone();
    assert_eq!(after, expected, "a null e-mail is no change");

    // A retry answers the first outcome; the same correlation id with another change is a
    // conflict; neither changes anything more.
    let mut retry = first;
    retry.token_time = prepaid_domain::DateTime::with_millis(2026, 11, 25, 15, 30, 0, 999).unwrap();
    assert_eq!(send(&app, retry.request()).await.code(), "000_000");
    let mut other = change.clone();
    other["userName"] = "김두리".into();
    let conflict = send(
        &app,
        call(
            prepaid_http::USER_INFO_CHANGE_PATH,
            &other,
            "261125153000-0000e91",
        )
        .request(),
    )
    .await;
    assert_eq!(conflict.code(), "000_094");
    assert_eq!(info_of_1001(&app, "261125153000-0000e93").await, expected);

    // The old mobile number is free again: a sign-up may take it.
    let mut sign_up = sign_up();
    sign_up["mobileNumber"] = before["mobileNumber"].clone();
    let taken = send(
        &app,
        call(
            prepaid_http::USER_REGISTRATION_PATH,
            &sign_up,
            "261125153000-0000e94",
        )
        .request(),
    )
    .await
    .decrypted();
    assert_eq!(taken["response"]["code"], "000_000", "{taken}");
}

#[actix_web::test]
async fn a_change_naming_nothing_a_ci_alone_a_held_value_or_another_project_s_member_changes_nothing()
 {
    let people = People::with_fixtures();
    let app = members_app!(people);
    let before = info_of_1001(&app, "261125153000-0000ea0").await;
    let new_ci = "R".repeat(86) + "==";
    let ours = |body: Value, correlation: &str| {
        call(prepaid_http::USER_INFO_CHANGE_PATH, &body, correlation).request()
    };
    for (index, (body, code, path)) in [
        (json!({"userId": 1001}), "000_003", None),
        (
            json!({"userId": 1001, "userName": null, "ci": null}),
            "000_003",
            None,
        ),
        (
            json!({"userId": 1001, "ci": new_ci, "nationality": "Korean"}),
            "000_002",
            Some("ci"),
        ),
        (
            json!({"userId": 1001, "mobileNumber": "01000001003"}),
            "001_001",
            None,
        ),
        (
            json!({"userId": 1001, "birthDate": "19900101", "ci": "U".repeat(86) + "=="}),
            "000_000",
            None,
        ),
        (
            json!({"userId": 1001, "gender": "Male", "ci": ACTIVE_CI}),
            "000_000",
            None,
        ),
        (
            json!({"userId": 1002, "email": "a@example.com"}),
            "001_006",
            None,
        ),
        (
            json!({"userId": 1001, "birthDate": "19000229"}),
            "000_002",
            Some("birthDate"),
        ),
        (
            json!({"userId": 1001, "mobileNumber": "010123456"}),
            "000_015",
            Some("mobileNumber"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = send(
            &app,
            ours(body.clone(), &format!("261125153000-0000eb{index}")),
        )
        .await;
        assert_eq!(answer.code(), code, "{body}: {}", answer.json);
        let description = answer.json["response"]["description"]
            .as_str()
            .unwrap_or("");
        match (code, path) {
            (_, Some(path)) => {
                assert!(description.ends_with(&format!(". {path}")), "{description}");
            }
            ("000_003", None) => assert_eq!(description, "Missing required values."),
            _ => {}
        }
    }
    // Of those, only the two with a corrected identity changed anything.
    let mut expected = before;
    expected["birthDate"] = "19900101".into();
    expected["gender"] = "Male".into();
    expected["ci"] = ACTIVE_CI.into();
    assert_eq!(info_of_1001(&app, "261125153000-0000ea1").await, expected);

    let theirs = send(
        &app,
        call(
            prepaid_http::USER_INFO_CHANGE_PATH,
            &json!({"encData": fake_encrypt(
                OTHER_CRYPTO_KEY,
                json!({"userId": 1001, "email": "a@example.com"}).to_string().as_bytes(),
            )}),
            "261125153000-0000ea2",
        )
        .header("X-KM-User-AspId", Some(OTHER_ASP))
        .header("X-KM-Access-Key", Some(OTHER_ASP_KEY))
        .header("X-KM-Crypto-Key-Id", Some(OTHER_CRYPTO_KEY))
        .request(),
    )
    .await;
    let theirs = theirs.decrypted();
    assert_eq!(theirs["response"]["code"], "001_006", "{theirs}");
    assert_eq!(info_of_1001(&app, "261125153000-0000ea3").await, expected);
}

#[actix_web::test]
async fn a_sign_up_with_a_basic_card_answers_it_with_its_last_valid_day() {
    let mut members = prepaid_application::MockManageMembers::new();
    members.expect_register().returning(|command| {
        assert_eq!(command.profile.email.expose(), "new.member@example.com");
        Ok(prepaid_application::MemberRegistered {
            id: prepaid_domain::MemberId::new(7_310_459_285_014_467_201).unwrap(),
            basic_card: Some(prepaid_application::BasicCardInfo {
                par: prepaid_domain::Par::parse("Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap(),
                pan: prepaid_domain::Pan::parse("9435120001234568").unwrap(),
                expiry: prepaid_domain::Expiry::parse("3102").unwrap(),
                product: prepaid_domain::ServiceId::parse("000170000003000").unwrap(),
            }),
            replayed: false,
        })
    });
    let store = Store::default();
    let mut ports = ports_with(&store, Arc::new(FakeCipher::default()));
    ports.members = Arc::new(members);
    let app = app_over(ports).await;
    let answer = send(
        &app,
        call(
            prepaid_http::USER_REGISTRATION_PATH,
            &sign_up(),
            "261125153000-0000ec1",
        )
        .request(),
    )
    .await
    .decrypted();
    assert_eq!(answer["response"]["code"], "000_000", "{answer}");
    assert_eq!(
        answer["basicCardInfo"],
        json!({
            "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
            "cardNo": "9435120001234568",
            "expiryDate": "310228",
            "serviceId": "000170000003000",
        })
    );
}

/// The operators' `admin add-member` parses its body here: the operation's own table and rules,
/// the command under the key it is given.
#[test]
fn a_registration_body_parses_for_operators_as_the_api_checks_it() {
    let key = prepaid_application::ports::IdempotencyKey {
        asp_id: prepaid_domain::AspId::parse("ASPSANDBOX00001").unwrap(),
        correlation_id: prepaid_domain::CorrelationId::parse("261130120000-00000a1").unwrap(),
    };
    let body = |birth_date: &str| {
        json!({
            "loginId": "Operator.Added@Sandbox.example", "loginPassword": "258147",
            "birthDate": birth_date, "nationality": "Korean", "gender": "Male",
            "userName": "Kim", "mobileNumber": "01073000001", "email": "op@sandbox.example",
        })
        .to_string()
    };
    let command =
        prepaid_http::parse_registration_body(body("19850228").as_bytes(), key.clone()).unwrap();
    assert_eq!(command.key, key);
    assert_eq!(
        command.profile.login_id.normalized(),
        "operator.added@sandbox.example"
    );
    assert_eq!(command.profile.mobile.expose(), "01073000001");
    assert!(command.profile.ci.is_none());

    let refused = |bytes: &[u8]| {
        let error = prepaid_http::parse_registration_body(bytes, key.clone()).unwrap_err();
        (error.code().code(), error.description())
    };
    assert_eq!(
        refused(body("19850230").as_bytes()),
        ("000_002", "Invalid input parameter. birthDate".to_owned())
    );
    assert_eq!(
        refused(br#"{"loginId": "a@b.example"}"#),
        (
            "000_003",
            "Missing required values. loginPassword".to_owned()
        )
    );
    assert_eq!(refused(b"not json").0, "000_002");
}
