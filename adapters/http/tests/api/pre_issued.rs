//! "Search for Mobile Card Application Information Linkable to Physical Card" and "Cancellation
//! of Card Application" through the pipeline: what a member's pre-issued cards are, what a cancel
//! discards, and their encrypted answers.

use serde_json::{Value, json};

use crate::support::{
    ACTIVE_MEMBER, CANCELLED_MEMBER, CRYPTO_KEY, Call, MOBILE, NORMAL, PRE_ISSUED, Store, app,
    delivery_body, mobile_body, send,
};

fn list(member: u64) -> Call {
    let mut call =
        Call::new(json!({ "userId": member }).to_string()).correlation("261125153000-00000c1");
    prepaid_http::PRE_ISSUED_CARDS_PATH.clone_into(&mut call.path);
    call
}

fn cancel(number: &str) -> Call {
    let mut call = Call::new(json!({"cardApplyNo": number, "userId": ACTIVE_MEMBER}).to_string())
        .correlation("261125153000-00000c2");
    prepaid_http::CANCEL_APPLICATION_PATH.clone_into(&mut call.path);
    call
}

macro_rules! applied {
    ($app:expr, $body:expr) => {{
        let answer = send(
            $app,
            Call::new($body)
                .correlation(&format!("261125153000-{:07x}", rand_id()))
                .request(),
        )
        .await;
        assert_eq!(answer.code(), "000_000", "{}", answer.json);
        answer.json
    }};
}

fn rand_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0xd00);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[actix_web::test]
async fn a_pre_issued_card_awaiting_its_physical_card_is_listed_with_its_number_and_cvc() {
    let app = app(Store::default()).await;
    let pre_issued = applied!(&app, delivery_body(ACTIVE_MEMBER, PRE_ISSUED));
    applied!(&app, delivery_body(ACTIVE_MEMBER, NORMAL));
    applied!(&app, mobile_body(ACTIVE_MEMBER, MOBILE));

    let answer = send(&app, list(ACTIVE_MEMBER).request()).await;

    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(
        answer.json["issuedCardList"],
        json!([{
            "cardApplyNo": pre_issued["cardApplyNo"],
            "issueType": "ISSUE",
            "digital": {
                "cardNo": pre_issued["mobileCardNo"],
                "par": pre_issued["mobileCardPar"],
                "serviceId": PRE_ISSUED,
                "serviceName": "Test product",
                "mobileCardCVC": pre_issued["mobileCardCVC"],
            },
            "status": "DIGITAL_ISSUED",
        }])
    );
}

#[actix_web::test]
async fn the_list_is_encrypted_to_the_key_the_client_names() {
    let app = app(Store::default()).await;
    applied!(&app, delivery_body(ACTIVE_MEMBER, PRE_ISSUED));

    let answer = send(
        &app,
        list(ACTIVE_MEMBER)
            .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
            .request(),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert!(
        answer.json.get("issuedCardList").is_none(),
        "{}",
        answer.json
    );
    let plain: Value = answer.decrypted();
    assert_eq!(plain["response"]["code"], "000_000");
    assert_eq!(plain["issuedCardList"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_cancelled_application_leaves_the_list_and_its_card_is_answered_by_the_cancel() {
    let app = app(Store::default()).await;
    let pre_issued = applied!(&app, delivery_body(ACTIVE_MEMBER, PRE_ISSUED));

    let cancelled = send(
        &app,
        cancel(pre_issued["cardApplyNo"].as_str().unwrap()).request(),
    )
    .await;
    assert_eq!(cancelled.code(), "000_000", "{}", cancelled.json);
    assert_eq!(cancelled.json["mobileCardNo"], pre_issued["mobileCardNo"]);
    assert_eq!(cancelled.json["par"], pre_issued["mobileCardPar"]);

    let answer = send(&app, list(ACTIVE_MEMBER).request()).await;
    assert_eq!(answer.json["issuedCardList"], json!([]));
}

#[actix_web::test]
async fn a_cancel_answer_is_encrypted_to_the_key_the_client_names() {
    let app = app(Store::default()).await;
    let mobile = applied!(&app, mobile_body(ACTIVE_MEMBER, MOBILE));

    let answer = send(
        &app,
        cancel(mobile["cardApplyNo"].as_str().unwrap())
            .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
            .request(),
    )
    .await;

    assert!(answer.json.get("mobileCardNo").is_none(), "{}", answer.json);
    assert_eq!(answer.decrypted()["mobileCardNo"], mobile["mobileCardNo"]);
}

#[actix_web::test]
async fn a_non_member_gets_no_list() {
    let app = app(Store::default()).await;
    for member in [CANCELLED_MEMBER, 9999] {
        let answer = send(&app, list(member).request()).await;
        assert_eq!((answer.status, answer.code()), (400, "001_006"));
        assert!(answer.json.get("issuedCardList").is_none());
    }
}
