//! The card look-ups through the pipeline, over the look-up use case and the fake store: a
//! member's cards, a card number's owner, and a card that is not a produced physical card
//! refused as unregistered.

use serde_json::{Value, json};

use crate::support::{
    ACTIVE_MEMBER, CRYPTO_KEY, Call, LARGEST_MEMBER, MOBILE, Store, app, mobile_body, send,
};

fn call(path: &str, body: &Value, correlation: &str) -> Call {
    let mut call = Call::new(body.to_string()).correlation(correlation);
    path.clone_into(&mut call.path);
    call
}

async fn issued<S, B>(app: &S, member: u64) -> Value
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
    answer.json
}

#[actix_web::test]
async fn a_member_finds_their_mobile_cards_and_only_theirs() {
    let app = app(Store::default()).await;
    let mine = issued(&app, ACTIVE_MEMBER).await;
    let theirs = issued(&app, LARGEST_MEMBER).await;

    let answer = send(
        &app,
        call(
            prepaid_http::CARD_LIST_PATH,
            &json!({"userId": ACTIVE_MEMBER}),
            "261125153000-0000201",
        )
        .request(),
    )
    .await;
    assert_eq!(answer.code(), "000_000", "{}", answer.json);
    assert_eq!(
        answer.json["cardDataInfo"],
        json!([{
            "par": mine["mobileCardPar"],
            "cardApplyNo": mine["cardApplyNo"],
            "serviceId": MOBILE,
            "serviceName": "Test product",
            "mobileCardNo": mine["mobileCardNo"],
            "mobileCardStatus": "ACTIVE",
            "expiryDate": "3111",
            "balance": 0,
            "pendingAmount": 0,
            "isNamed": false,
        }])
    );

    let answer = send(
        &app,
        call(
            prepaid_http::CARD_LIST_PATH,
            &json!({"userId": ACTIVE_MEMBER, "par": theirs["mobileCardPar"]}),
            "261125153000-0000202",
        )
        .request(),
    )
    .await;
    assert_eq!(
        answer.json["cardDataInfo"],
        json!([]),
        "not another member's"
    );
}

#[actix_web::test]
async fn the_card_list_is_encrypted_to_a_client_that_names_its_key() {
    let app = app(Store::default()).await;
    issued(&app, ACTIVE_MEMBER).await;
    let answer = send(
        &app,
        call(
            prepaid_http::CARD_LIST_PATH,
            &json!({"userId": ACTIVE_MEMBER}),
            "261125153000-0000203",
        )
        .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
        .request(),
    )
    .await;
    assert!(answer.json.get("cardDataInfo").is_none(), "{}", answer.json);
    assert_eq!(
        answer.decrypted()["cardDataInfo"][0]["mobileCardStatus"],
        "ACTIVE"
    );
}

#[actix_web::test]
async fn a_card_number_answers_whose_card_it_is() {
    let app = app(Store::default()).await;
    let card = issued(&app, LARGEST_MEMBER).await;
    let answer = send(
        &app,
        call(
            prepaid_http::CARD_OWNER_PATH,
            &json!({"cardNo": card["mobileCardNo"]}),
            "261125153000-0000204",
        )
        .request(),
    )
    .await;
    assert_eq!(
        answer.json,
        json!({
            "response": {"code": "000_000", "description": "Success."},
            "userId": LARGEST_MEMBER,
            "par": card["mobileCardPar"],
            "serviceId": MOBILE,
            "serviceName": "Test product",
            "cardStatus": "ACTIVE",
            "balance": 0,
        })
    );
    let unknown = send(
        &app,
        call(
            prepaid_http::CARD_OWNER_PATH,
            &json!({"cardNo": "9435129999999991"}),
            "261125153000-0000205",
        )
        .request(),
    )
    .await;
    assert_eq!((unknown.status, unknown.code()), (400, "003_001"));
}

#[actix_web::test]
async fn a_mobile_card_proven_by_its_expiry_and_cvc_is_no_unregistered_card() {
    let app = app(Store::default()).await;
    let card = issued(&app, ACTIVE_MEMBER).await;
    let answer = send(
        &app,
        call(
            prepaid_http::UNREGISTERED_CARD_PATH,
            &json!({
                "cardNo": card["mobileCardNo"],
                "expiryDate": "3111",
                "cardCVC": card["mobileCardCVC"],
            }),
            "261125153000-0000206",
        )
        .request(),
    )
    .await;
    assert_eq!(
        (answer.code(), answer.description()),
        ("003_001", "Invalid card info.")
    );
}
