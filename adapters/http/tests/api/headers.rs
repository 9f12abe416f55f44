//! Every header rule (D2), in order.

use crate::support::{ACTIVE_MEMBER, Call, NORMAL, Store, app, delivery_body, send};

async fn answer_to(call: Call) -> (u16, String, String) {
    let app = app(Store::default()).await;
    let answer = send(&app, call.request()).await;
    (
        answer.status,
        answer.code().to_owned(),
        answer.description().to_owned(),
    )
}

fn call() -> Call {
    Call::new(delivery_body(ACTIVE_MEMBER, NORMAL))
}

#[actix_web::test]
async fn each_required_header_that_is_absent_is_missing_by_name() {
    for name in [
        "X-KM-User-AspId",
        "X-KM-Correlation-Id",
        "X-KM-Access-Key",
        "X-KM-Tran-Token",
        "X-KM-Tran-Time",
        "X-KM-Time-Zone",
    ] {
        let (status, code, description) = answer_to(call().header(name, None)).await;
        assert_eq!((status, code.as_str()), (400, "000_003"), "{name}");
        assert_eq!(description, format!("Missing required values. {name}"));
    }
}

#[actix_web::test]
async fn an_empty_header_counts_as_missing() {
    let (_, code, description) = answer_to(call().header("X-KM-Access-Key", Some(""))).await;
    assert_eq!(
        (code.as_str(), description.as_str()),
        ("000_003", "Missing required values. X-KM-Access-Key")
    );
}

#[actix_web::test]
async fn each_header_of_the_wrong_length_is_a_length_error() {
    let cases = [
        ("X-KM-User-AspId", "ASPSANDBOX0000"),
        ("X-KM-Correlation-Id", "261125153000-00000a"),
        (
            "X-KM-Access-Key",
            "AK000000000000000000000000000000000000000",
        ),
        ("X-KM-Crypto-Key-Id", "CK00000000000000000000000000000"),
        ("X-KM-Tran-Token", "KMV1:20261125153000250:abc"),
        ("X-KM-Tran-Time", "202611251530"),
        ("X-KM-Time-Zone", "Asia/Seoul"),
    ];
    for (name, value) in cases {
        let (status, code, description) = answer_to(call().header(name, Some(value))).await;
        assert_eq!((status, code.as_str()), (400, "000_015"), "{name}");
        assert_eq!(
            description,
            format!("The length of value does not match. {name}")
        );
    }
}

#[actix_web::test]
async fn each_header_of_the_right_length_but_wrong_format_is_invalid() {
    let cases = [
        ("X-KM-User-AspId", "ASP-SANDBOX-001"),
        ("X-KM-Correlation-Id", "261325153000-00000a1"),
        ("X-KM-Correlation-Id", "261125153000-00000g1"),
        (
            "X-KM-Access-Key",
            "AK00000000000000000000000000000000000-0A",
        ),
        ("X-KM-Crypto-Key-Id", "CK0000000000000000000000000000-1"),
        (
            "X-KM-Tran-Token",
            "KMV2:20261125153000250:uLD+mU8mz9K95neGiSJTSsF3zzAQJglCggZAOSs5Fkg",
        ),
        ("X-KM-Tran-Time", "20261125253000"),
        ("X-KM-Time-Zone", "PST"),
    ];
    for (name, value) in cases {
        let (status, code, description) = answer_to(call().header(name, Some(value))).await;
        assert_eq!((status, code.as_str()), (400, "000_002"), "{name}={value}");
        assert_eq!(description, format!("Invalid input parameter. {name}"));
    }
}

#[actix_web::test]
async fn a_header_that_is_not_ascii_is_invalid() {
    let mut request = call().request();
    request.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("x-km-user-aspid"),
        actix_web::http::header::HeaderValue::from_bytes("ASPSANDBOX0000한".as_bytes()).unwrap(),
    );
    let app = app(Store::default()).await;
    let answer = send(&app, request).await;
    assert_eq!((answer.status, answer.code()), (400, "000_002"));
}

#[actix_web::test]
async fn the_first_problem_in_source_page_order_is_reported() {
    let call = call()
        .header("X-KM-Time-Zone", None)
        .header("X-KM-Access-Key", Some("short"))
        .header("X-KM-User-AspId", None);
    let (_, _, description) = answer_to(call).await;
    assert_eq!(description, "Missing required values. X-KM-User-AspId");
}

#[actix_web::test]
async fn the_correlation_id_is_echoed_on_errors_when_it_was_well_formed() {
    let app = app(Store::default()).await;
    let answer = send(&app, call().header("X-KM-User-AspId", None).request()).await;
    assert_eq!(
        answer.correlation_id.as_deref(),
        Some("261125153000-00000a1")
    );
    let answer = send(&app, call().correlation("not-a-correlation-id").request()).await;
    assert_eq!(answer.correlation_id, None);
}

#[actix_web::test]
async fn a_body_declared_as_anything_but_json_is_refused_and_an_undeclared_one_served() {
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let mut call = call();
        call.content_type = Some(content_type.to_owned());
        let (status, code, description) = answer_to(call).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "000_002"),
            "{content_type:?}"
        );
        assert_eq!(description, "Invalid input parameter. Content-Type");
    }
    for content_type in [Some("application/json; charset=utf-8"), None] {
        let mut call = call();
        call.content_type = content_type.map(str::to_owned);
        assert_eq!(answer_to(call).await.1, "000_000", "{content_type:?}");
    }
}
