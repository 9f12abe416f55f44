//! "Reissuance of Prepaid Card" and "Reissuance & Renewal of Prepaid Card to be Expired"
//! through the pipeline, over the replacement use case and the fake store: a lost card
//! reissued with the issuance's answer encrypted, the lost card terminated; refusals in order;
//! a renewal refused for a card valid for years, its answer plaintext; retries and conflicts.

use serde_json::{Value, json};

use crate::support::{
    ACTIVE_MEMBER, CANCELLED_MEMBER, CRYPTO_KEY, Call, MOBILE, NORMAL, Store, app, mobile_body,
    send,
};

fn call(path: &str, body: &Value, correlation: &str) -> Call {
    let mut call = Call::new(body.to_string()).correlation(correlation);
    path.clone_into(&mut call.path);
    call
}

fn address() -> Value {
    json!({"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"})
}

fn reissue(member: u64, par: &str) -> Value {
    json!({"userInfo": {"userId": member}, "cardInfo": {"par": par}, "addressInfo": address()})
}

fn renewal(member: u64, card_no: &str) -> Value {
    json!({"userInfo": {"userId": member}, "cardInfo": {"oldCardNo": card_no}, "addressInfo": address()})
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

/// Issues a MOBILE card to member 1001 and reports it lost: its number and PAR.
async fn lost_card<S, B>(app: &S) -> (String, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let issued = send(
        app,
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE))
            .correlation("261125153000-00003a1")
            .request(),
    )
    .await;
    let par = issued.json["mobileCardPar"].as_str().unwrap().to_owned();
    let suspended = send(
        app,
        call(
            prepaid_http::CARD_STATE_PATH,
            &json!({"userId": ACTIVE_MEMBER, "par": par, "status": "SUSPEND"}),
            "261125153000-00003a2",
        )
        .request(),
    )
    .await;
    assert_eq!(suspended.code(), "000_000", "{}", suspended.json);
    (
        issued.json["mobileCardNo"].as_str().unwrap().to_owned(),
        par,
    )
}

#[actix_web::test]
async fn a_lost_card_is_reissued_encrypted_and_ends_with_the_reissue() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (_, par) = lost_card(&app).await;

    let mut body = reissue(ACTIVE_MEMBER, &par);
    body["isDeliveryRequired"] = json!(false);
    let request = || {
        call(
            prepaid_http::REISSUE_DELIVERY_PATH,
            &body,
            "261125153000-00003a3",
        )
        .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
        .request()
    };
    let answer = send(&app, request()).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.json.get("cardApplyNo").is_none(),
        "encrypted: {}",
        answer.json
    );
    let plain = answer.decrypted();
    assert_eq!(plain["response"]["code"], "000_000", "{plain}");
    assert_eq!(plain["cardApplyNo"].as_str().unwrap().len(), 22);
    // A MOBILE product without delivery: its mobile card at once.
    assert_eq!(plain["mobileCardNo"].as_str().unwrap().len(), 16);
    assert_eq!(plain["mobileCardCVC"].as_str().unwrap().len(), 3);
    assert_ne!(plain["mobileCardPar"], json!(par));
    assert_eq!(status_of(&store, &par), "TERMINATED");

    let again = send(&app, request()).await;
    assert_eq!(
        again.decrypted(),
        plain,
        "a retry answers the first outcome"
    );

    // Another request (its own body: a signature belongs to one correlation id).
    body["clientNonce"] = json!("another");
    let another = send(
        &app,
        call(
            prepaid_http::REISSUE_DELIVERY_PATH,
            &body,
            "261125153000-00003a4",
        )
        .request(),
    )
    .await;
    assert_eq!(
        (another.code(), another.description()),
        (
            "003_020",
            "There is in progress reissue type card apply no."
        ),
        "{}",
        another.json
    );
}

#[actix_web::test]
async fn a_reissue_is_refused_by_member_card_product_and_delivery_in_that_order() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (_, par) = lost_card(&app).await;
    let mut normal = reissue(ACTIVE_MEMBER, &par);
    normal["nextServiceId"] = json!(NORMAL);
    let mut unknown = reissue(ACTIVE_MEMBER, &par);
    unknown["nextServiceId"] = json!("000170000099000");
    for (index, (body, code, path)) in [
        (reissue(CANCELLED_MEMBER, &par), "001_006", None),
        (
            reissue(ACTIVE_MEMBER, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZ"),
            "003_021",
            None,
        ),
        (normal, "003_048", None),
        (unknown, "003_048", None),
        (
            reissue(ACTIVE_MEMBER, "q1ab2cd3ef4gh5ij6kl7mn8op9q"),
            "000_002",
            Some("cardInfo.par"),
        ),
        (
            json!({"userInfo": {"userId": ACTIVE_MEMBER}, "addressInfo": address()}),
            "000_003",
            Some("cardInfo"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = send(
            &app,
            call(
                prepaid_http::REISSUE_DELIVERY_PATH,
                &body,
                &format!("261125153000-00004{index:02x}"),
            )
            .request(),
        )
        .await;
        assert_eq!(answer.code(), code, "{body}: {}", answer.json);
        if let Some(path) = path {
            assert!(answer.description().ends_with(path), "{}", answer.json);
        }
        assert_eq!(status_of(&store, &par), "SUSPENDED", "{body}");
    }
}

#[actix_web::test]
async fn a_card_valid_for_years_is_not_renewed_and_the_answer_is_plaintext() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (number, par) = lost_card(&app).await;
    let answer = send(
        &app,
        call(
            prepaid_http::RENEW_CARD_PATH,
            &renewal(ACTIVE_MEMBER, &number),
            "261125153000-00005a1",
        )
        .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
        .request(),
    )
    .await;
    assert_eq!(
        answer.json,
        json!({"response": {"code": "003_006", "description": "Card expiry date is not proper to reissue."}})
    );
    assert_eq!(status_of(&store, &par), "SUSPENDED");

    for (index, (body, code)) in [
        (renewal(ACTIVE_MEMBER, "9435129999999991"), "003_008"),
        (renewal(CANCELLED_MEMBER, &number), "001_006"),
        (
            json!({"userInfo": {"userId": ACTIVE_MEMBER}, "cardInfo": {"oldCardNo": number}}),
            "000_003",
        ),
        (renewal(ACTIVE_MEMBER, "9435129999999990"), "000_002"),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = send(
            &app,
            call(
                prepaid_http::RENEW_CARD_PATH,
                &body,
                &format!("261125153000-00005{index:02x}"),
            )
            .request(),
        )
        .await;
        assert_eq!(answer.code(), code, "{body}: {}", answer.json);
    }
}

#[actix_web::test]
async fn a_correlation_id_used_for_a_reissue_is_a_conflict_for_another_request() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let (number, par) = lost_card(&app).await;
    let first = send(
        &app,
        call(
            prepaid_http::REISSUE_DELIVERY_PATH,
            &reissue(ACTIVE_MEMBER, &par),
            "261125153000-00006a1",
        )
        .request(),
    )
    .await;
    assert_eq!(first.code(), "000_000", "{}", first.json);
    let renewal = send(
        &app,
        call(
            prepaid_http::RENEW_CARD_PATH,
            &renewal(ACTIVE_MEMBER, &number),
            "261125153000-00006a1",
        )
        .request(),
    )
    .await;
    assert_eq!(renewal.code(), "000_094", "{}", renewal.json);
}
