//! "Search for Card Delivery Status" through the pipeline: the member's own application's
//! delivery with its history; the member first, then the application; plaintext both ways.

use std::sync::Arc;

use actix_web::App;
use actix_web::test;
use prepaid_application::{DeliveryInquiryError, MockInquireDeliveries, PortError};
use prepaid_http::HttpConfig;
use serde_json::{Value, json};

use crate::support::{
    ACTIVE_MEMBER, CANCELLED_MEMBER, CRYPTO_KEY, Call, FakeCipher, LARGEST_MEMBER, MOBILE, NORMAL,
    Store, app, delivery_body, mobile_body, ports_with, send,
};

fn inquiry(body: &Value) -> Call {
    let mut call = Call::new(body.to_string()).correlation("261125153000-00000b1");
    prepaid_http::DELIVERY_INQUIRY_PATH.clone_into(&mut call.path);
    call
}

/// Applies as `member` with `body` and answers the application's number.
async fn applied<S, B>(app: &S, body: String) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let answer = send(app, Call::new(body).request()).await;
    assert_eq!(answer.code(), "000_000", "{}", answer.json);
    answer.json["cardApplyNo"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_member_sees_the_delivery_of_their_application_with_its_history_in_kst() {
    let app = app(Store::default()).await;
    let number = applied(&app, delivery_body(ACTIVE_MEMBER, NORMAL)).await;

    let answer = send(
        &app,
        inquiry(&json!({"userId": ACTIVE_MEMBER, "cardApplyNo": number})).request(),
    )
    .await;

    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.json["status"], "READY");
    // The application was made at 15:30:00.250 KST.
    assert_eq!(
        answer.json["statusHistory"],
        json!([{"status": "READY", "changedAt": "20261125153000"}])
    );
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
}

#[actix_web::test]
async fn an_inquiry_is_answered_in_plaintext_even_to_a_client_that_names_its_key() {
    let app = app(Store::default()).await;
    let number = applied(&app, delivery_body(ACTIVE_MEMBER, NORMAL)).await;

    let answer = send(
        &app,
        inquiry(&json!({"userId": ACTIVE_MEMBER, "cardApplyNo": number}))
            .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
            .request(),
    )
    .await;

    assert_eq!(answer.code(), "000_000");
    assert!(answer.json.get("encData").is_none(), "{}", answer.json);
}

#[actix_web::test]
async fn another_members_application_is_answered_as_one_that_does_not_exist() {
    let app = app(Store::default()).await;
    let theirs = applied(&app, delivery_body(LARGEST_MEMBER, NORMAL)).await;

    for number in [theirs.as_str(), "20261125063000000NONE0"] {
        let answer = send(
            &app,
            inquiry(&json!({"userId": ACTIVE_MEMBER, "cardApplyNo": number})).request(),
        )
        .await;
        assert_eq!((answer.status, answer.code()), (400, "003_001"), "{number}");
        assert_eq!(answer.description(), "Invalid card info.");
        assert!(answer.json.get("status").is_none());
    }
}

#[actix_web::test]
async fn an_application_without_a_delivery_has_no_delivery_to_show() {
    let app = app(Store::default()).await;
    let number = applied(&app, mobile_body(ACTIVE_MEMBER, MOBILE)).await;

    let answer = send(
        &app,
        inquiry(&json!({"userId": ACTIVE_MEMBER, "cardApplyNo": number})).request(),
    )
    .await;

    assert_eq!(answer.code(), "003_001");
}

#[actix_web::test]
async fn a_non_member_learns_nothing_about_any_application_even_their_former_own() {
    let app = app(Store::default()).await;
    let number = applied(&app, delivery_body(ACTIVE_MEMBER, NORMAL)).await;

    for member in [CANCELLED_MEMBER, 9999] {
        for asked in [number.as_str(), "20261125063000000NONE0"] {
            let answer = send(
                &app,
                inquiry(&json!({"userId": member, "cardApplyNo": asked})).request(),
            )
            .await;
            assert_eq!(
                (answer.status, answer.code()),
                (400, "001_006"),
                "{member} {asked}"
            );
        }
    }
}

#[actix_web::test]
async fn the_fields_are_checked_in_the_order_of_the_request_table() {
    let app = app(Store::default()).await;
    for (body, code, description) in [
        (
            json!({"userId": 0, "cardApplyNo": "short"}),
            "000_002",
            "Invalid input parameter. userId",
        ),
        (
            json!({"userId": "1001", "cardApplyNo": "20261125063000000NONE0"}),
            "000_002",
            "Invalid input parameter. userId",
        ),
        (
            json!({"cardApplyNo": "20261125063000000NONE0"}),
            "000_003",
            "Missing required values. userId",
        ),
        (
            json!({"userId": ACTIVE_MEMBER}),
            "000_003",
            "Missing required values. cardApplyNo",
        ),
        (
            json!({"userId": ACTIVE_MEMBER, "cardApplyNo": "2026112506300000NONE0"}),
            "000_015",
            "The length of value does not match. cardApplyNo",
        ),
        (
            json!({"userId": ACTIVE_MEMBER, "cardApplyNo": "20261125063000000none0"}),
            "000_002",
            "Invalid input parameter. cardApplyNo",
        ),
    ] {
        let answer = send(&app, inquiry(&body).request()).await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (400, code, description),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn an_inquiry_records_nothing_so_its_correlation_id_may_come_again() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let number = applied(&app, delivery_body(ACTIVE_MEMBER, NORMAL)).await;
    let call = inquiry(&json!({"userId": ACTIVE_MEMBER, "cardApplyNo": number}));

    for _ in 0..2 {
        let mut again = call.clone();
        // Another body (white space), the same correlation id: not a replay of the token.
        again.body.push(b' ');
        let answer = send(&app, again.request()).await;
        assert_eq!(answer.code(), "000_000");
    }
    assert_eq!(store.0.lock().unwrap().len(), 1);
}

#[actix_web::test]
async fn deliveries_that_cannot_be_read_are_a_system_error_that_tells_nothing() {
    let mut deliveries = MockInquireDeliveries::new();
    deliveries
        .expect_delivery()
        .returning(|_| Err(DeliveryInquiryError::Unavailable(PortError::msg("down"))));
    let mut ports = ports_with(&Store::default(), Arc::new(FakeCipher::default()));
    ports.deliveries = Arc::new(deliveries);
    let app = test::init_service(
        App::new()
            .configure(|config| prepaid_http::configure(config, &ports, &HttpConfig::default())),
    )
    .await;

    let answer = send(
        &app,
        inquiry(&json!({"userId": ACTIVE_MEMBER, "cardApplyNo": "20261125063000000NONE0"}))
            .request(),
    )
    .await;

    assert_eq!((answer.status, answer.code()), (500, "000_099"));
    assert!(!answer.description().contains("down"));
}
