//! "Card product inquiry" through the pipeline: the products asked for, in order; the list's
//! rules; plaintext both ways, for every project.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::support::{
    CRYPTO_KEY, Call, INACTIVE_PRODUCT, MOBILE, NORMAL, OTHER_ASP, OTHER_ASP_KEY, PRE_ISSUED,
    Store, app, fake_encrypt, send,
};

fn inquiry(ids: &Value) -> Call {
    let mut call = Call::new(json!({ "serviceIdList": ids }).to_string());
    prepaid_http::PRODUCT_INQUIRY_PATH.clone_into(&mut call.path);
    call
}

#[actix_web::test]
async fn known_products_are_answered_in_the_order_asked_and_unknown_ones_left_out() {
    let app = app(Store::default()).await;
    let answer = send(
        &app,
        inquiry(&json!([
            PRE_ISSUED,
            "999999999999999",
            MOBILE,
            INACTIVE_PRODUCT,
            MOBILE
        ]))
        .request(),
    )
    .await;

    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.description(), "Success.");
    let infos = answer.json["serviceInfos"].as_array().unwrap();
    let ids: Vec<&str> = infos
        .iter()
        .map(|info| info["serviceId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [PRE_ISSUED, MOBILE, INACTIVE_PRODUCT]);
    assert_eq!(
        infos[0],
        json!({
            "serviceId": PRE_ISSUED,
            "serviceName": "Test product",
            "cardType": "NORMAL",
            "preIssuance": true,
            "giftable": false,
            "validityMonths": 60,
            "status": "ACTIVE",
        })
    );
    assert_eq!(infos[1]["cardType"], "MOBILE");
    assert_eq!(infos[2]["status"], "SUSPENDED");
}

#[actix_web::test]
async fn nothing_known_is_an_empty_list_not_an_error() {
    let app = app(Store::default()).await;
    let answer = send(&app, inquiry(&json!(["999999999999999"])).request()).await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.json["serviceInfos"], json!([]));
}

#[actix_web::test]
async fn the_list_and_its_ids_are_checked_with_the_list_s_path() {
    let app = app(Store::default()).await;
    let hundred_and_one: Vec<&str> = std::iter::repeat_n(NORMAL, 101).collect();
    let hundred: Vec<&str> = std::iter::repeat_n(NORMAL, 100).collect();
    let cases = [
        (
            json!(null),
            "000_003",
            "Missing required values. serviceIdList",
        ),
        (
            json!([]),
            "000_002",
            "Invalid input parameter. serviceIdList",
        ),
        (
            json!(hundred_and_one),
            "000_002",
            "Invalid input parameter. serviceIdList",
        ),
        (
            json!(NORMAL),
            "000_002",
            "Invalid input parameter. serviceIdList",
        ),
        (
            json!([NORMAL, 15]),
            "000_002",
            "Invalid input parameter. serviceIdList",
        ),
        (
            json!(["00017000000200"]),
            "000_015",
            "The length of value does not match. serviceIdList",
        ),
        (
            json!(["0001700000020001"]),
            "000_015",
            "The length of value does not match. serviceIdList",
        ),
        (
            json!(["00017000000200-"]),
            "000_002",
            "Invalid input parameter. serviceIdList",
        ),
    ];
    for (ids, code, description) in cases {
        let answer = send(&app, inquiry(&ids).request()).await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (400, code, description),
            "{ids}"
        );
    }
    let answer = send(&app, inquiry(&json!(hundred)).request()).await;
    assert_eq!(answer.code(), "000_000", "a hundred ids are allowed");
}

#[actix_web::test]
async fn a_project_that_must_encrypt_may_ask_in_plaintext_and_is_answered_in_plaintext() {
    let app = app(Store::default()).await;
    let call = inquiry(&json!([NORMAL]))
        .header("X-KM-User-AspId", Some(OTHER_ASP))
        .header("X-KM-Access-Key", Some(OTHER_ASP_KEY));
    let answer = send(&app, call.request()).await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert!(answer.crypto_key_id.is_none());
    assert_eq!(answer.json["serviceInfos"][0]["serviceId"], NORMAL);
}

#[actix_web::test]
async fn an_encrypted_inquiry_gets_an_encrypted_answer() {
    let app = app(Store::default()).await;
    let envelope = json!({
        "encData": fake_encrypt(CRYPTO_KEY, json!({"serviceIdList": [MOBILE]}).to_string().as_bytes())
    });
    let mut call = Call::new(envelope.to_string()).header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY));
    prepaid_http::PRODUCT_INQUIRY_PATH.clone_into(&mut call.path);
    let answer = send(&app, call.request()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.crypto_key_id.as_deref(), Some(CRYPTO_KEY));
    assert_eq!(answer.decrypted()["serviceInfos"][0]["serviceId"], MOBILE);
}

#[actix_web::test]
async fn a_plaintext_inquiry_with_a_key_id_is_answered_in_plaintext() {
    let app = app(Store::default()).await;
    let call = inquiry(&json!([MOBILE])).header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY));
    let answer = send(&app, call.request()).await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert!(answer.crypto_key_id.is_none());
}

#[actix_web::test]
async fn an_inquiry_records_nothing_and_may_be_sent_again_with_its_correlation_id() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let first = send(&app, inquiry(&json!([NORMAL])).request()).await;
    let again = send(&app, inquiry(&json!([NORMAL, MOBILE])).request()).await;
    assert_eq!(first.code(), "000_000");
    assert_eq!(again.code(), "000_000", "not a correlation id conflict");
    assert_eq!(again.json["serviceInfos"].as_array().unwrap().len(), 2);
    assert!(store.0.lock().unwrap().is_empty());
}

#[actix_web::test]
async fn the_inquiry_answers_under_open_api_and_refuses_other_methods() {
    let app = app(Store::default()).await;
    let mut call = inquiry(&json!([NORMAL]));
    call.path = format!("/open-api{}", call.path);
    assert_eq!(send(&app, call.request()).await.code(), "000_000");
    let answer = send(
        &app,
        TestRequest::get()
            .uri(prepaid_http::PRODUCT_INQUIRY_PATH)
            .to_request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (405, "000_098"));
}
