//! Authentication (D3, D4) through HTTP.

use prepaid_domain::{DateTime, TimeZone};

use crate::support::{
    ACTIVE_MEMBER, Call, DISCARDED_KEY, INACTIVE_KEY, NORMAL, OTHER_ASP_KEY, Store, app,
    delivery_body, now, now_kst, send,
};

fn call() -> Call {
    Call::new(delivery_body(ACTIVE_MEMBER, NORMAL))
}

async fn code_of(call: Call) -> (u16, String, String, usize) {
    let store = Store::default();
    let app = app(store.clone()).await;
    let answer = send(&app, call.request()).await;
    let recorded = store.0.lock().unwrap().len();
    (
        answer.status,
        answer.code().to_owned(),
        answer.description().to_owned(),
        recorded,
    )
}

#[actix_web::test]
async fn both_token_forms_padded_and_unpadded_are_accepted() {
    for padded in [false, true] {
        let mut call = call();
        call.padded = padded;
        assert_eq!(call.token().len(), if padded { 67 } else { 66 });
        let (status, code, _, recorded) = code_of(call).await;
        assert_eq!(
            (status, code.as_str(), recorded),
            (200, "000_000", 1),
            "padded={padded}"
        );
    }
}

#[actix_web::test]
async fn unknown_inactive_discarded_and_foreign_keys_all_get_the_same_401() {
    let cases = [
        call().header("X-KM-User-AspId", Some("ASPUNKNOWN00009")),
        call().header("X-KM-Access-Key", Some(&"Z".repeat(40))),
        call().header("X-KM-Access-Key", Some(INACTIVE_KEY)),
        call().header("X-KM-Access-Key", Some(DISCARDED_KEY)),
        call().header("X-KM-Access-Key", Some(OTHER_ASP_KEY)),
    ];
    for case in cases {
        let (status, code, description, recorded) = code_of(case).await;
        assert_eq!((status, code.as_str(), recorded), (401, "000_090", 0));
        assert_eq!(description, "Authentication failed.");
    }
}

#[actix_web::test]
async fn a_wrong_secret_or_a_body_changed_after_signing_is_refused() {
    let mut wrong_secret = call();
    wrong_secret.secret = "another-secret-0123456789abcdef0123456".into();
    let (status, code, _, recorded) = code_of(wrong_secret).await;
    assert_eq!((status, code.as_str(), recorded), (401, "000_091", 0));

    let signed = call();
    let token = signed.token();
    let mut tampered = signed.header("X-KM-Tran-Token", Some(&token));
    tampered.body = delivery_body(ACTIVE_MEMBER, "000170000003000").into_bytes();
    let (status, code, _, recorded) = code_of(tampered).await;
    assert_eq!((status, code.as_str(), recorded), (401, "000_091", 0));
}

#[actix_web::test]
async fn a_replayed_token_is_refused_even_with_a_new_correlation_id() {
    let store = Store::default();
    let app = app(store.clone()).await;
    let first = call();
    let token = first.token();
    assert_eq!(send(&app, first.request()).await.code(), "000_000");

    let replay = call()
        .correlation("261125153000-00000b2")
        .header("X-KM-Tran-Token", Some(&token));
    let answer = send(&app, replay.request()).await;

    assert_eq!((answer.status, answer.code()), (401, "000_093"));
    assert_eq!(store.0.lock().unwrap().len(), 1);
}

fn at(call: Call, time: DateTime, zone: TimeZone) -> Call {
    let mut call = call
        .header("X-KM-Tran-Time", Some(&time.to_digits14()))
        .header("X-KM-Time-Zone", Some(zone.as_str()));
    call.sign = true;
    call.token_time = time;
    call
}

#[actix_web::test]
async fn stale_and_future_times_are_refused_in_utc_and_in_kst() {
    for zone in [TimeZone::Utc, TimeZone::Kst] {
        for offset_minutes in [-6_i64, 6] {
            let instant = now().plus_millis(offset_minutes * 60_000);
            let civil = instant.civil(zone).unwrap();
            let (status, code, _, recorded) = code_of(at(call(), civil, zone)).await;
            assert_eq!(
                (status, code.as_str(), recorded),
                (401, "000_092", 0),
                "{zone} {offset_minutes}"
            );
        }
        let within = now().plus_millis(-4 * 60_000).civil(zone).unwrap();
        let (status, _, _, _) = code_of(at(call(), within, zone)).await;
        assert_eq!(status, 200, "{zone}: four minutes old is accepted");
    }
}

#[actix_web::test]
async fn a_token_time_that_disagrees_with_tran_time_is_refused() {
    let mut call = call().header("X-KM-Tran-Time", Some("20261125153001"));
    call.sign = true;
    assert_eq!(now_kst().to_digits14(), "20261125153000");
    let (status, code, _, _) = code_of(call).await;
    assert_eq!((status, code.as_str()), (401, "000_092"));
}
