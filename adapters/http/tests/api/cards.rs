//! "Modification of the Card's State" and "Discarding a Card" through the pipeline, over the
//! card management use case and the fake store: the card named by PAR or number, the member's
//! own only, retries answered as first, plaintext both ways.

use serde_json::{Value, json};

use crate::support::{
    ACTIVE_MEMBER, CANCELLED_MEMBER, CRYPTO_KEY, Call, LARGEST_MEMBER, MOBILE, OTHER_ASP,
    OTHER_ASP_KEY, OTHER_CRYPTO_KEY, Store, app, fake_encrypt, mobile_body, send,
};

fn call(path: &str, body: &Value, correlation: &str) -> Call {
    let mut call = Call::new(body.to_string()).correlation(correlation);
    path.clone_into(&mut call.path);
    call
}

fn state(body: &Value, correlation: &str) -> Call {
    call(prepaid_http::CARD_STATE_PATH, body, correlation)
}

fn discard(body: &Value, correlation: &str) -> Call {
    call(prepaid_http::DISCARD_CARD_PATH, body, correlation)
}

/// Issues a mobile card to `member` and answers its number and PAR.
async fn mobile_card<S, B>(app: &S, member: u64) -> (String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let answer = send(
        app,
        Call::new(mobile_body(member, MOBILE))
            .correlation(&format!("261125153000-{:07x}", member % 0x1000_0000))
            .request(),
    )
    .await;
    assert_eq!(answer.code(), "000_000", "{}", answer.json);
    (
        answer.json["mobileCardNo"].as_str().unwrap().to_owned(),
        answer.json["mobileCardPar"].as_str().unwrap().to_owned(),
    )
}

fn status_of(store: &Store, par: &str) -> &'static str {
    store
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|issuance| issuance.card.as_ref())
        .find(|card| card.card.par.as_str() == par)
        .map(|card| card.card.status.as_str())
        .unwrap()
}

#[actix_web::test]
async fn a_member_reports_a_card_lost_by_par_and_lifts_the_report_by_its_number() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (number, par) = mobile_card(&app, ACTIVE_MEMBER).await;

    let answer = send(
        &app,
        state(
            &json!({"userId": ACTIVE_MEMBER, "par": par, "status": "SUSPEND"}),
            "261125153000-00000c1",
        )
        .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
        .request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(
        answer.json,
        json!({"response": {"code": "000_000", "description": "Success."}}),
        "no fields, in plaintext even to a client that names its key"
    );
    assert_eq!(status_of(&store, &par), "SUSPENDED");

    let answer = send(
        &app,
        state(
            &json!({"userId": ACTIVE_MEMBER, "cardNo": number, "status": "RESUME"}),
            "261125153000-00000c2",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "000_000");
    assert_eq!(status_of(&store, &par), "ACTIVE");
}

#[actix_web::test]
async fn a_card_is_named_by_exactly_one_of_par_and_number_told_at_par() {
    let app = app(Store::default()).await;
    let (number, par) = mobile_card(&app, ACTIVE_MEMBER).await;
    for (body, code, description) in [
        (
            json!({"userId": ACTIVE_MEMBER, "par": par, "cardNo": number, "status": "SUSPEND"}),
            "000_002",
            "Invalid input parameter. par",
        ),
        (
            json!({"userId": ACTIVE_MEMBER, "status": "SUSPEND"}),
            "000_003",
            "Missing required values. par",
        ),
        (
            json!({"userId": ACTIVE_MEMBER, "cardNo": "9435120000000001", "status": "SUSPEND"}),
            "000_002",
            "Invalid input parameter. cardNo",
        ),
        (
            json!({"userId": ACTIVE_MEMBER, "par": par, "status": "SUSPENDED"}),
            "000_015",
            "The length of value does not match. status",
        ),
        (
            json!({"userId": ACTIVE_MEMBER, "par": par, "status": "ACTIVE"}),
            "000_002",
            "Invalid input parameter. status",
        ),
    ] {
        let answer = send(&app, state(&body, "261125153000-00000c3").request()).await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (400, code, description),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn another_members_or_another_projects_card_is_answered_as_unknown_and_left_as_it_is() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (number, par) = mobile_card(&app, LARGEST_MEMBER).await;
    let answer = send(
        &app,
        state(
            &json!({"userId": ACTIVE_MEMBER, "par": par, "status": "SUSPEND"}),
            "261125153000-00000d1",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "003_021");
    let answer = send(
        &app,
        state(
            &json!({"userId": ACTIVE_MEMBER, "cardNo": number, "status": "SUSPEND"}),
            "261125153000-00000d2",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "003_001");
    let answer = send(
        &app,
        discard(
            &json!({"userId": ACTIVE_MEMBER, "par": par}),
            "261125153000-00000d3",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "001_047");
    assert_eq!(status_of(&store, &par), "ACTIVE");

    // Another project, naming the card by its PAR: that project has no such member, so it
    // learns nothing of the card.
    let theirs = |body: &Value, correlation: &str| {
        let envelope =
            json!({"encData": fake_encrypt(OTHER_CRYPTO_KEY, body.to_string().as_bytes())});
        state(&envelope, correlation)
            .header("X-KM-User-AspId", Some(OTHER_ASP))
            .header("X-KM-Access-Key", Some(OTHER_ASP_KEY))
            .header("X-KM-Crypto-Key-Id", Some(OTHER_CRYPTO_KEY))
    };
    let answer = send(
        &app,
        theirs(
            &json!({"userId": LARGEST_MEMBER, "par": par, "status": "SUSPEND"}),
            "261125153000-00000d4",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.decrypted()["response"]["code"], "001_006");
    assert_eq!(status_of(&store, &par), "ACTIVE");
}

#[actix_web::test]
async fn a_non_member_is_refused_before_the_card() {
    let app = app(Store::default()).await;
    let (_, par) = mobile_card(&app, ACTIVE_MEMBER).await;
    let answer = send(
        &app,
        discard(
            &json!({"userId": CANCELLED_MEMBER, "par": par}),
            "261125153000-00000e1",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "001_006");
}

#[actix_web::test]
async fn a_discarded_card_is_terminated_and_its_state_then_never_changes() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (_, par) = mobile_card(&app, ACTIVE_MEMBER).await;
    let body = json!({"userId": ACTIVE_MEMBER, "par": par});

    let answer = send(&app, discard(&body, "261125153000-00000f1").request()).await;
    assert_eq!(
        answer.json,
        json!({"response": {"code": "000_000", "description": "Success."}})
    );
    assert_eq!(status_of(&store, &par), "TERMINATED");

    // Another body than the first (the same body twice would be the same signature).
    let again = json!({"userId": ACTIVE_MEMBER, "par": par, "clientNonce": 2});
    let again = send(&app, discard(&again, "261125153000-00000f2").request()).await;
    assert_eq!(again.code(), "001_047");
    let resumed = send(
        &app,
        state(
            &json!({"userId": ACTIVE_MEMBER, "par": par, "status": "RESUME"}),
            "261125153000-00000f3",
        )
        .request(),
    )
    .await;
    assert_eq!(
        (resumed.code(), resumed.description()),
        ("003_022", "Card already terminated.")
    );
}

#[actix_web::test]
async fn a_retry_is_answered_as_first_and_the_key_with_another_request_is_a_conflict() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (_, par) = mobile_card(&app, ACTIVE_MEMBER).await;
    let (_, other) = mobile_card(&app, LARGEST_MEMBER).await;
    let body = json!({"userId": ACTIVE_MEMBER, "par": par});

    let first = send(&app, discard(&body, "261125153000-0000101").request()).await;
    // A retry signs again (a new token time), with the same correlation id and payload.
    let mut retry = discard(&body, "261125153000-0000101");
    retry.token_time = prepaid_domain::DateTime::with_millis(2026, 11, 25, 15, 30, 0, 999).unwrap();
    let retry = send(&app, retry.request()).await;
    assert_eq!((first.code(), retry.code()), ("000_000", "000_000"));
    assert_eq!(first.json, retry.json);

    let changed = send(
        &app,
        discard(
            &json!({"userId": LARGEST_MEMBER, "par": other}),
            "261125153000-0000101",
        )
        .request(),
    )
    .await;
    assert_eq!(changed.code(), "000_094");
    assert_eq!(status_of(&store, &other), "ACTIVE");
    let elsewhere = send(
        &app,
        state(
            &json!({"userId": ACTIVE_MEMBER, "par": par, "status": "SUSPEND"}),
            "261125153000-0000101",
        )
        .request(),
    )
    .await;
    assert_eq!(elsewhere.code(), "000_094", "the key on another operation");
}
