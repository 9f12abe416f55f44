//! Every body field: absent, null, wrong type, too short, too long, each boundary (D2).

use serde_json::{Value, json};

use prepaid_application::ports::CardSecrets as _;

use crate::support::{
    ACTIVE_MEMBER, Call, GIFTABLE, LARGEST_MEMBER, MOBILE, NORMAL, Secrets, Store, app, send,
};

fn valid() -> Value {
    json!({
        "userInfo": {"userId": ACTIVE_MEMBER},
        "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"},
        "serviceId": NORMAL,
        "isDeliveryRequired": true
    })
}

/// Sends `body` and returns (status, code, description).
async fn outcome(body: String) -> (u16, String, String) {
    let app = app(Store::default()).await;
    let answer = send(&app, Call::new(body).request()).await;
    (
        answer.status,
        answer.code().to_owned(),
        answer.description().to_owned(),
    )
}

fn with(pointer: &str, value: Option<Value>) -> String {
    let mut body = valid();
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    let object = target.as_object_mut().unwrap();
    match value {
        Some(value) => object.insert(name.to_owned(), value),
        None => object.remove(name),
    };
    body.to_string()
}

async fn expect(pointer: &str, value: Option<Value>, code: &str, path: &str) {
    let (status, actual_code, description) = outcome(with(pointer, value.clone())).await;
    assert_eq!(
        (status, actual_code.as_str()),
        (400, code),
        "{pointer} = {value:?}: {description}"
    );
    let message = match code {
        "000_003" => "Missing required values.",
        "000_015" => "The length of value does not match.",
        _ => "Invalid input parameter.",
    };
    assert_eq!(
        description,
        format!("{message} {path}"),
        "{pointer} = {value:?}"
    );
}

async fn accepted(pointer: &str, value: Value) {
    let (status, code, description) = outcome(with(pointer, Some(value.clone()))).await;
    assert_eq!(
        (status, code.as_str()),
        (200, "000_000"),
        "{pointer} = {value}: {description}"
    );
}

#[actix_web::test]
async fn absent_or_null_required_fields_are_missing_by_path() {
    for (pointer, path) in [
        ("/userInfo", "userInfo"),
        ("/userInfo/userId", "userInfo.userId"),
        ("/addressInfo", "addressInfo"),
        ("/addressInfo/address", "addressInfo.address"),
        ("/addressInfo/addressDetail", "addressInfo.addressDetail"),
        ("/addressInfo/zipCode", "addressInfo.zipCode"),
        ("/serviceId", "serviceId"),
    ] {
        expect(pointer, None, "000_003", path).await;
        expect(pointer, Some(Value::Null), "000_003", path).await;
    }
}

#[actix_web::test]
async fn fields_of_the_wrong_json_type_are_invalid() {
    for (pointer, value, path) in [
        ("/userInfo", json!("1001"), "userInfo"),
        ("/userInfo/userId", json!("1001"), "userInfo.userId"),
        ("/userInfo/userId", json!(true), "userInfo.userId"),
        ("/addressInfo", json!([]), "addressInfo"),
        ("/addressInfo/address", json!(12), "addressInfo.address"),
        (
            "/addressInfo/addressDetail",
            json!({}),
            "addressInfo.addressDetail",
        ),
        ("/addressInfo/zipCode", json!(6236), "addressInfo.zipCode"),
        ("/serviceId", json!(170_000_002_000_u64), "serviceId"),
        ("/isDeliveryRequired", json!("true"), "isDeliveryRequired"),
        ("/isDeliveryRequired", json!(1), "isDeliveryRequired"),
        ("/purpose", json!(["GIFTABLE"]), "purpose"),
    ] {
        expect(pointer, Some(value), "000_002", path).await;
    }
}

#[actix_web::test]
async fn user_id_boundaries_and_numbers_beyond_u64() {
    accepted("/userInfo/userId", json!(ACTIVE_MEMBER)).await;
    accepted("/userInfo/userId", json!(LARGEST_MEMBER)).await;
    let app = app(Store::default()).await;
    for text in [
        "0",
        "-1",
        "1.5",
        "1001.0",
        "1e3",
        "10000000000000000000",
        "18446744073709551616",
        "123456789012345678901234567890",
    ] {
        let body = with("/userInfo/userId", Some(json!(0)))
            .replace("\"userId\":0", &format!("\"userId\":{text}"));
        let answer = send(&app, Call::new(body).request()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "000_002"),
            "userId {text}"
        );
        assert_eq!(
            answer.description(),
            "Invalid input parameter. userInfo.userId",
            "userId {text}"
        );
    }
}

#[actix_web::test]
async fn address_lengths_are_counted_in_characters() {
    accepted("/addressInfo/address", json!("가")).await;
    accepted("/addressInfo/address", json!("가".repeat(255))).await;
    accepted("/addressInfo/addressDetail", json!("호".repeat(255))).await;
    expect(
        "/addressInfo/address",
        Some(json!("")),
        "000_015",
        "addressInfo.address",
    )
    .await;
    expect(
        "/addressInfo/address",
        Some(json!("가".repeat(256))),
        "000_015",
        "addressInfo.address",
    )
    .await;
    expect(
        "/addressInfo/addressDetail",
        Some(json!("")),
        "000_015",
        "addressInfo.addressDetail",
    )
    .await;
    expect(
        "/addressInfo/addressDetail",
        Some(json!("x".repeat(256))),
        "000_015",
        "addressInfo.addressDetail",
    )
    .await;
    expect(
        "/addressInfo/address",
        Some(json!("   ")),
        "000_002",
        "addressInfo.address",
    )
    .await;
}

#[actix_web::test]
async fn zip_code_service_id_and_purpose_boundaries() {
    expect(
        "/addressInfo/zipCode",
        Some(json!("0623")),
        "000_015",
        "addressInfo.zipCode",
    )
    .await;
    expect(
        "/addressInfo/zipCode",
        Some(json!("062366")),
        "000_015",
        "addressInfo.zipCode",
    )
    .await;
    expect(
        "/addressInfo/zipCode",
        Some(json!("0623a")),
        "000_002",
        "addressInfo.zipCode",
    )
    .await;
    expect(
        "/serviceId",
        Some(json!("00017000000200")),
        "000_015",
        "serviceId",
    )
    .await;
    expect(
        "/serviceId",
        Some(json!("0001700000020000")),
        "000_015",
        "serviceId",
    )
    .await;
    expect(
        "/serviceId",
        Some(json!("00017000000200!")),
        "000_002",
        "serviceId",
    )
    .await;
    expect(
        "/serviceId",
        Some(json!("999999999999999")),
        "000_002",
        "serviceId",
    )
    .await;
    expect(
        "/serviceId",
        Some(json!("000170000006000")),
        "000_002",
        "serviceId",
    )
    .await;
    expect("/purpose", Some(json!("")), "000_015", "purpose").await;
    expect("/purpose", Some(json!("GIFTABLE123")), "000_015", "purpose").await;
    expect("/purpose", Some(json!("GIFT")), "000_002", "purpose").await;
    expect("/purpose", Some(json!("GIFTABLE")), "000_002", "purpose").await;
    accepted("/purpose", Value::Null).await;
}

#[actix_web::test]
async fn giftable_is_accepted_for_a_giftable_product() {
    let body = json!({"userInfo": {"userId": ACTIVE_MEMBER}, "serviceId": GIFTABLE, "isDeliveryRequired": false, "purpose": "GIFTABLE"});
    let (status, code, _) = outcome(body.to_string()).await;
    assert_eq!((status, code.as_str()), (200, "000_000"));
}

#[actix_web::test]
async fn delivery_defaults_to_true_so_the_address_is_then_required() {
    let body = json!({"userInfo": {"userId": ACTIVE_MEMBER}, "serviceId": MOBILE});
    let (_, code, description) = outcome(body.to_string()).await;
    assert_eq!(
        (code.as_str(), description.as_str()),
        ("000_003", "Missing required values. addressInfo")
    );
}

#[actix_web::test]
async fn unknown_members_are_ignored() {
    let mut body = valid();
    body["somethingElse"] = json!({"deep": [1, 2, 3]});
    let (status, _, _) = outcome(body.to_string()).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn bodies_that_are_not_json_objects_get_000_002_without_a_path() {
    for body in [
        "",
        "not json",
        "[1,2]",
        "\"string\"",
        "{\"userInfo\":",
        "null",
        "\u{feff}{}",
    ] {
        let (status, code, description) = outcome(body.to_owned()).await;
        assert_eq!(
            (status, code.as_str(), description.as_str()),
            (400, "000_002", "Invalid input parameter."),
            "{body:?}"
        );
    }
}

#[actix_web::test]
async fn deeply_nested_json_is_refused_cleanly() {
    let nested = format!("{{\"a\":{}{}}}", "[".repeat(5_000), "]".repeat(5_000));
    let (status, code, _) = outcome(nested).await;
    assert_eq!((status, code.as_str()), (400, "000_002"));
}

#[actix_web::test]
async fn a_body_over_64_kib_is_refused_before_parsing() {
    let mut body = valid();
    body["padding"] = json!("x".repeat(64 * 1024));
    let (status, code, description) = outcome(body.to_string()).await;
    assert_eq!(
        (status, code.as_str(), description.as_str()),
        (413, "000_096", "Request body is too large.")
    );
}

/// `body` padded with spaces (which JSON ignores) to exactly `length` bytes.
fn padded_to(body: &serde_json::Value, length: usize) -> String {
    let text = body.to_string();
    format!("{text}{}", " ".repeat(length - text.len()))
}

#[actix_web::test]
async fn a_body_of_exactly_64_kib_is_read_and_one_byte_more_is_refused() {
    let app = app(Store::default()).await;
    let limit = 64 * 1024;
    let at_limit = send(&app, Call::new(padded_to(&valid(), limit)).request()).await;
    assert_eq!(at_limit.code(), "000_000", "{}", at_limit.description());
    let over = send(&app, Call::new(padded_to(&valid(), limit + 1)).request()).await;
    assert_eq!((over.status, over.code()), (413, "000_096"));
}

#[actix_web::test]
async fn a_body_without_a_declared_length_is_measured_as_it_arrives() {
    let app = app(Store::default()).await;
    let limit = 64 * 1024;
    for (length, expected) in [(limit, "000_000"), (limit + 1, "000_096")] {
        let call = Call::new(padded_to(&valid(), length))
            .correlation(&format!("261125153000-{length:07x}"));
        let mut request = call.request();
        request
            .headers_mut()
            .remove(actix_web::http::header::CONTENT_LENGTH);
        let answer = send(&app, request).await;
        assert_eq!(answer.code(), expected, "{length} bytes");
    }
}

#[actix_web::test]
async fn a_member_named_twice_at_any_depth_is_refused_and_one_name_in_two_objects_is_not() {
    let service = format!(r#""serviceId":"{NORMAL}""#);
    let member = format!(r#""userInfo":{{"userId":{ACTIVE_MEMBER}}}"#);
    let address = r#""addressInfo":{"address":"서울특별시 강남구 테헤란로 1","addressDetail":"101동 1001호","zipCode":"06236"}"#;
    for body in [
        // The last `serviceId` is valid: a parser keeping the first or the last would disagree.
        format!(
            r#"{{{member},{address},"serviceId":"999999999999999",{service},"isDeliveryRequired":true}}"#
        ),
        format!(
            r#"{{"userInfo":{{"userId":1002,"userId":{ACTIVE_MEMBER}}},{address},{service},"isDeliveryRequired":true}}"#
        ),
        // The same name written with an escape.
        format!(
            r#"{{{member},{address},{service},"service\u0049d":"{NORMAL}","isDeliveryRequired":true}}"#
        ),
        format!(
            r#"{{{member},{address},{service},"isDeliveryRequired":true,"extra":[{{"a":1,"a":2}}]}}"#
        ),
    ] {
        let (status, code, description) = outcome(body.clone()).await;
        assert_eq!(
            (status, code.as_str(), description.as_str()),
            (400, "000_002", "Invalid input parameter."),
            "{body}"
        );
    }
    let (_, code, _) = outcome(format!(
        r#"{{{member},{address},{service},"isDeliveryRequired":true,"extra":{{"userId":1,"serviceId":2}}}}"#
    ))
    .await;
    assert_eq!(code, "000_000");
}

#[actix_web::test]
async fn an_address_sent_decomposed_is_taken_in_nfc_counted_and_stored_as_the_precomposed_one() {
    use unicode_normalization::UnicodeNormalization as _;
    // 255 Hangul syllables: 255 characters in NFC, 620 jamo in NFD.
    let nfc: String = "강남구테헤란로".chars().cycle().take(255).collect();
    let nfd: String = nfc.nfd().collect();
    assert_eq!(nfd.chars().count(), 620);
    let store = Store::default();
    let app = app(store.clone()).await;
    let mut body = valid();
    body["addressInfo"]["address"] = json!(nfd);
    body["addressInfo"]["addressDetail"] = json!("101동 1001호".nfd().collect::<String>());

    let answer = send(&app, Call::new(body.to_string()).request()).await;

    assert_eq!(answer.code(), "000_000", "{}", answer.description());
    let recorded = store.0.lock().unwrap()[0].clone();
    let address = Secrets
        .open_address(
            &recorded.delivery.unwrap().address,
            &recorded.application.number,
        )
        .unwrap();
    assert_eq!(address.address.as_str(), nfc);
    assert_eq!(address.detail.as_str(), "101동 1001호");
    // 256 syllables is one too many, in whichever form it is sent.
    let too_long: String = nfc
        .chars()
        .chain(['가'])
        .collect::<String>()
        .nfd()
        .collect();
    assert_eq!(
        outcome(with("/addressInfo/address", Some(json!(too_long))))
            .await
            .1,
        "000_015"
    );
}

#[actix_web::test]
async fn an_unknown_product_is_reported_before_the_fields_after_it_and_a_known_one_is_not() {
    for (later, value, path) in [
        ("isDeliveryRequired", json!("yes"), "isDeliveryRequired"),
        ("purpose", json!(""), "purpose"),
        ("purpose", json!("GIFT"), "purpose"),
    ] {
        for (service, expected) in [("999999999999999", "serviceId"), (MOBILE, path)] {
            let mut body = valid();
            body["serviceId"] = json!(service);
            body["isDeliveryRequired"] = json!(false);
            body.as_object_mut().unwrap().remove("addressInfo");
            body[later] = value.clone();
            let (status, _, description) = outcome(body.to_string()).await;
            assert_eq!(status, 400);
            assert!(
                description.ends_with(&format!(" {expected}")),
                "{later} = {value} with product {service}: {description}"
            );
        }
    }
}
