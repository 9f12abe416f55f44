//! The Test Data scenarios of the source page, retries, encryption and the envelope of every
//! kind of answer.

use std::sync::Arc;

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::{
    ACTIVE_MEMBER, CANCELLED_MEMBER, CRYPTO_KEY, Call, FakeCipher, MOBILE, NORMAL, OTHER_ASP,
    OTHER_ASP_KEY, OTHER_CRYPTO_KEY, PRE_ISSUED, Store, app, app_with, delivery_body, fake_encrypt,
    mobile_body, send,
};

#[actix_web::test]
async fn test_data_success_with_delivery_answers_the_application_number_only() {
    let store = Store::default();
    let app = app(store.clone()).await;

    let answer = send(
        &app,
        Call::new(delivery_body(ACTIVE_MEMBER, NORMAL)).request(),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json["response"],
        json!({"code": "000_000", "description": "Success."})
    );
    assert_eq!(answer.json["cardApplyNo"].as_str().unwrap().len(), 22);
    let mut members: Vec<&String> = answer.json.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(
        members,
        ["cardApplyNo", "response"],
        "no null mobile card fields (D1)"
    );
    assert_eq!(
        answer.correlation_id.as_deref(),
        Some("261125153000-00000a1")
    );
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert!(store.0.lock().unwrap()[0].delivery.is_some());
}

#[actix_web::test]
async fn test_data_success_issuing_only_a_mobile_card_answers_the_card() {
    let app = app(Store::default()).await;

    let answer = send(
        &app,
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).request(),
    )
    .await;

    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    let card_number = answer.json["mobileCardNo"].as_str().unwrap();
    assert_eq!(card_number.len(), 16);
    assert!(card_number.starts_with("943512"));
    assert_eq!(answer.json["mobileCardCVC"].as_str().unwrap().len(), 3);
    assert_eq!(answer.json["mobileCardPar"].as_str().unwrap().len(), 27);
}

#[actix_web::test]
async fn test_data_invalid_input_parameter() {
    let app = app(Store::default()).await;
    let answer = send(
        &app,
        Call::new(delivery_body(ACTIVE_MEMBER, "999999999999999")).request(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json,
        json!({"response": {"code": "000_002", "description": "Invalid input parameter. serviceId"}})
    );
}

#[actix_web::test]
async fn test_data_non_member_and_cancelled_member() {
    let app = app(Store::default()).await;
    for member in [424_242, CANCELLED_MEMBER] {
        let answer = send(
            &app,
            Call::new(delivery_body(member, NORMAL))
                .correlation(&format!("261125153000-{member:07x}"))
                .request(),
        )
        .await;
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.json,
            json!({"response": {"code": "001_006", "description": "Wallet user not found."}})
        );
    }
}

#[actix_web::test]
async fn test_data_normal_type_without_delivery() {
    let app = app(Store::default()).await;
    let answer = send(
        &app,
        Call::new(mobile_body(ACTIVE_MEMBER, NORMAL)).request(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json,
        json!({"response": {"code": "003_024", "description": "Card delivery should be required in case of normal type."}})
    );
}

#[actix_web::test]
async fn a_retry_answers_the_first_outcome_and_a_changed_payload_is_a_conflict() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let first = send(
        &app,
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).request(),
    )
    .await;

    // A retry signs again (a new token time), with the same correlation id and payload.
    let mut retry = Call::new(mobile_body(ACTIVE_MEMBER, MOBILE));
    retry.token_time = prepaid_domain::DateTime::with_millis(2026, 11, 25, 15, 30, 0, 999).unwrap();
    let again = send(&app, retry.request()).await;
    assert_eq!(
        again.json, first.json,
        "same cardApplyNo, card number, CVC and PAR"
    );

    let mut changed = Call::new(mobile_body(ACTIVE_MEMBER, PRE_ISSUED));
    changed.token_time =
        prepaid_domain::DateTime::with_millis(2026, 11, 25, 15, 30, 0, 777).unwrap();
    let conflict = send(&app, changed.request()).await;
    assert_eq!((conflict.status, conflict.code()), (400, "000_094"));
    assert_eq!(store.0.lock().unwrap().len(), 1);
}

fn encrypted(payload: &str) -> Call {
    let envelope = json!({"encData": fake_encrypt(CRYPTO_KEY, payload.as_bytes())}).to_string();
    Call::new(envelope).header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
}

#[actix_web::test]
async fn an_answer_that_cannot_be_encrypted_after_the_issuance_is_000_099_and_the_retry_answers_it()
{
    let store = Store::default();
    let cipher = Arc::new(FakeCipher {
        failing_encryptions: 1.into(),
    });
    let app = app_with(store.clone(), cipher).await;
    let call = encrypted(&mobile_body(ACTIVE_MEMBER, MOBILE));

    let failed = send(&app, call.request()).await;
    assert_eq!((failed.status, failed.code()), (500, "000_099"));
    assert_eq!(
        failed.description(),
        "Temporary system error. Retry with the same correlation id."
    );
    assert_eq!(store.0.lock().unwrap().len(), 1, "the card was issued");

    let retried = send(&app, call.request()).await;
    assert_eq!(retried.status, 200);
    let inner = retried.decrypted();
    assert_eq!(inner["response"]["code"], "000_000");
    assert_eq!(
        inner["cardApplyNo"].as_str().unwrap(),
        store.0.lock().unwrap()[0].application.number.as_str()
    );
    assert_eq!(store.0.lock().unwrap().len(), 1, "nothing more issued");
}

#[actix_web::test]
async fn an_encrypted_request_gets_an_encrypted_answer_with_the_key_id() {
    let app = app(Store::default()).await;

    let answer = send(
        &app,
        encrypted(&mobile_body(ACTIVE_MEMBER, MOBILE)).request(),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.crypto_key_id.as_deref(), Some(CRYPTO_KEY));
    assert_eq!(answer.json.as_object().unwrap().len(), 1, "only encData");
    let inner = answer.decrypted();
    assert_eq!(inner["response"]["code"], "000_000");
    assert_eq!(inner["mobileCardNo"].as_str().unwrap().len(), 16);
}

#[actix_web::test]
async fn business_errors_of_an_encrypted_request_are_encrypted_too() {
    let app = app(Store::default()).await;
    let answer = send(
        &app,
        encrypted(&mobile_body(ACTIVE_MEMBER, NORMAL)).request(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.decrypted()["response"]["code"], "003_024");
}

#[actix_web::test]
async fn broken_envelopes_and_foreign_keys_get_plain_envelopes() {
    let app = app(Store::default()).await;
    let plain =
        |body: &str| Call::new(body.to_owned()).header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY));
    let cases = [
        (
            plain("{\"encData\":7}"),
            400,
            "000_002",
            "Invalid input parameter. encData",
        ),
        (
            plain("{\"encData\":\"eyJ.broken.jwe\"}"),
            400,
            "000_095",
            "Encrypted data could not be decrypted.",
        ),
        (
            plain(
                &json!({"encData": fake_encrypt("CK000000000000000000000000000009", b"{}")})
                    .to_string(),
            ),
            400,
            "000_095",
            "Encrypted data could not be decrypted.",
        ),
        (
            encrypted("{}").header(
                "X-KM-Crypto-Key-Id",
                Some("CK000000000000000000000000000009"),
            ),
            400,
            "000_002",
            "Invalid input parameter. X-KM-Crypto-Key-Id",
        ),
    ];
    for (call, status, code, description) in cases {
        let answer = send(&app, call.request()).await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (status, code, description)
        );
        assert!(answer.crypto_key_id.is_none());
    }
}

#[actix_web::test]
async fn a_crypto_key_of_another_project_is_refused_even_for_a_body_encrypted_to_it() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let envelope = json!({
        "encData": fake_encrypt(OTHER_CRYPTO_KEY, mobile_body(ACTIVE_MEMBER, MOBILE).as_bytes())
    })
    .to_string();
    let call = Call::new(envelope).header("X-KM-Crypto-Key-Id", Some(OTHER_CRYPTO_KEY));

    let answer = send(&app, call.request()).await;

    assert_eq!(
        (answer.status, answer.code(), answer.description()),
        (
            400,
            "000_002",
            "Invalid input parameter. X-KM-Crypto-Key-Id"
        )
    );
    assert!(store.0.lock().unwrap().is_empty());
}

#[actix_web::test]
async fn a_plaintext_body_beside_a_key_id_is_served_where_plaintext_is_allowed_and_answered_encrypted()
 {
    let app = app(Store::default()).await;
    let call = Call::new(mobile_body(ACTIVE_MEMBER, MOBILE))
        .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY));
    let answer = send(&app, call.request()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.crypto_key_id.as_deref(), Some(CRYPTO_KEY));
    assert_eq!(answer.decrypted()["response"]["code"], "000_000");

    let refused = send(
        &app,
        Call::new("{}")
            .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
            .request(),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.crypto_key_id.as_deref(), Some(CRYPTO_KEY));
    assert_eq!(
        refused.decrypted()["response"]["description"],
        "Missing required values. userInfo"
    );
}

#[actix_web::test]
async fn a_project_that_must_encrypt_cannot_send_plaintext_even_with_its_key_id() {
    let app = app(Store::default()).await;
    let call = Call::new(mobile_body(ACTIVE_MEMBER, MOBILE))
        .header("X-KM-User-AspId", Some(OTHER_ASP))
        .header("X-KM-Access-Key", Some(OTHER_ASP_KEY))
        .header("X-KM-Crypto-Key-Id", Some(OTHER_CRYPTO_KEY));
    let answer = send(&app, call.request()).await;
    assert_eq!(
        (answer.status, answer.code(), answer.description()),
        (400, "000_003", "Missing required values. encData")
    );
    assert!(answer.crypto_key_id.is_none());
}

#[actix_web::test]
async fn a_project_that_must_encrypt_cannot_send_plaintext() {
    let app = app(Store::default()).await;
    let call = Call::new(mobile_body(ACTIVE_MEMBER, MOBILE))
        .header("X-KM-User-AspId", Some(OTHER_ASP))
        .header("X-KM-Access-Key", Some(OTHER_ASP_KEY));
    let answer = send(&app, call.request()).await;
    assert_eq!(
        (answer.status, answer.code(), answer.description()),
        (
            400,
            "000_002",
            "Invalid input parameter. X-KM-Crypto-Key-Id"
        )
    );
}

#[actix_web::test]
async fn the_api_also_answers_under_open_api() {
    let app = app(Store::default()).await;
    let mut call = Call::new(mobile_body(ACTIVE_MEMBER, MOBILE));
    call.path = format!("/open-api{}", call.path);
    assert_eq!(send(&app, call.request()).await.code(), "000_000");
}

#[actix_web::test]
async fn unknown_paths_and_other_methods_get_envelopes_not_framework_pages() {
    let app = app(Store::default()).await;
    let answer = send(&app, TestRequest::get().uri("/nowhere").to_request()).await;
    assert_eq!((answer.status, answer.code()), (404, "000_097"));
    let answer = send(
        &app,
        TestRequest::get()
            .uri(prepaid_http::ISSUE_DELIVERY_PATH)
            .to_request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (405, "000_098"));
}

#[actix_web::test]
async fn the_openapi_document_lists_the_path_headers_and_every_code() {
    let app = app(Store::default()).await;
    let response =
        actix_web::test::call_service(&app, TestRequest::get().uri("/openapi.json").to_request())
            .await;
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = actix_web::test::read_body_json(response).await;
    assert_eq!(document["openapi"], "3.0.3");
    let operation = &document["paths"]["/api/v1/prepay-card/issue/delivery"]["post"];
    assert_eq!(operation["parameters"].as_array().unwrap().len(), 7);
    assert!(document["paths"]["/open-api/api/v1/prepay-card/issue/delivery"].is_object());
    let text = document.to_string();
    for code in prepaid_domain::ErrorCode::ALL {
        assert!(text.contains(code.code()), "{code}");
    }
}

#[actix_web::test]
async fn metrics_count_applications_replays_and_authentication_failures() {
    let app = app(Store::default()).await;
    send(
        &app,
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).request(),
    )
    .await;
    let mut retry = Call::new(mobile_body(ACTIVE_MEMBER, MOBILE));
    retry.token_time = prepaid_domain::DateTime::with_millis(2026, 11, 25, 15, 30, 1, 0).unwrap();
    send(
        &app,
        retry
            .header("X-KM-Tran-Time", Some("20261125153001"))
            .request(),
    )
    .await;
    let mut forged =
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).correlation("261125153000-00000c3");
    forged.secret = "not-the-secret-0123456789abcdef0123456".into();
    send(&app, forged.request()).await;

    let response =
        actix_web::test::call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(actix_web::test::read_body(response).await.to_vec()).unwrap();

    assert!(text.contains("prepaid_card_applications_total 1"), "{text}");
    assert!(
        text.contains("prepaid_mobile_cards_issued_total 1"),
        "{text}"
    );
    assert!(
        text.contains("prepaid_idempotent_replays_total 1"),
        "{text}"
    );
    assert!(
        text.contains("prepaid_authentication_failures_total{code=\"000_091\"} 1"),
        "{text}"
    );
    // One card of the 10⁹ numbers under the 6-digit BIN.
    assert!(
        text.contains("prepaid_card_numbers_left{bin=\"943512\"} 999999999"),
        "{text}"
    );
}

#[actix_web::test]
async fn metrics_count_the_requests_that_reached_a_use_case_by_its_answer_and_no_others() {
    let app = app(Store::default()).await;
    let sent = [
        // Reaches the use case: issued.
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).correlation("261125153000-00000a1"),
        // Reaches the use case: the member cannot apply.
        Call::new(mobile_body(CANCELLED_MEMBER, MOBILE)).correlation("261125153000-00000a2"),
        // Refused by the table before any use case: serviceId missing.
        Call::new(r#"{"userInfo":{"userId":1001},"isDeliveryRequired":false}"#)
            .correlation("261125153000-00000a3"),
    ];
    for call in sent {
        send(&app, call.request()).await;
    }
    let mut inquiry = Call::new(format!(r#"{{"serviceIdList":["{MOBILE}"]}}"#))
        .correlation("261125153000-00000a4");
    prepaid_http::PRODUCT_INQUIRY_PATH.clone_into(&mut inquiry.path);
    send(&app, inquiry.request()).await;

    let response =
        actix_web::test::call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(actix_web::test::read_body(response).await.to_vec()).unwrap();
    let reached: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("prepaid_use_case_answers_total{"))
        .collect();
    assert_eq!(
        reached,
        [
            "prepaid_use_case_answers_total{code=\"000_000\",operation=\"inquireCardProducts\"} 1",
            "prepaid_use_case_answers_total{code=\"000_000\",operation=\"issuePrepaidCardWithDelivery\"} 1",
            "prepaid_use_case_answers_total{code=\"001_006\",operation=\"issuePrepaidCardWithDelivery\"} 1",
        ],
        "{text}"
    );
}

#[actix_web::test]
async fn the_docs_page_and_its_vendored_assets_are_served() {
    let app = app(Store::default()).await;
    for (path, content_type, needle) in [
        (
            "/docs",
            "text/html; charset=utf-8",
            "/docs/swagger-ui-bundle.js",
        ),
        (
            "/docs/try-it.js",
            "text/javascript",
            "/docs/sandbox-credentials.json",
        ),
        (
            "/docs/swagger-ui-bundle.js",
            "text/javascript",
            "SwaggerUIBundle",
        ),
        ("/docs/swagger-ui.css", "text/css", "swagger-ui"),
    ] {
        let response =
            actix_web::test::call_service(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers().get("Content-Type").unwrap(),
            content_type,
            "{path}"
        );
        let body = actix_web::test::read_body(response).await;
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains(needle), "{path}");
        assert!(
            !text.contains("https://unpkg.com") && !text.contains("cdn.jsdelivr"),
            "{path} uses a CDN"
        );
    }
}
