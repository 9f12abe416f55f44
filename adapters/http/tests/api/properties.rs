//! Whatever the body, the answer is a well-formed envelope: never a 500, never a panic.

use proptest::prelude::*;
use serde_json::Value;

use crate::support::{Call, Store, app, send};

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
        Just(Value::from(9_999_999_999_999_999_999_u64)),
        "(000170000002000|000170000003000|999999999999999|GIFTABLE|06236)".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                "(userInfo|userId|addressInfo|address|addressDetail|zipCode|serviceId|isDeliveryRequired|purpose|encData|x)",
                inner,
                0..6,
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn check(status: u16, json: &Value) -> Result<(), TestCaseError> {
    prop_assert!(
        status != 500 && [200, 400, 401, 413].contains(&status),
        "status {status}"
    );
    let code = json["response"]["code"].as_str().unwrap_or_default();
    prop_assert!(
        prepaid_domain::ErrorCode::from_code(code).is_some(),
        "code {code}"
    );
    prop_assert!(json["response"]["description"].is_string());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_signed_bytes_get_an_envelope(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let runtime = actix_web::rt::System::new();
        let (status, json) = runtime.block_on(async {
            let app = app(Store::default()).await;
            let answer = send(&app, Call::new(bytes).request()).await;
            (answer.status, answer.json)
        });
        check(status, &json)?;
    }

    #[test]
    fn arbitrary_signed_json_gets_an_envelope(value in arbitrary_json()) {
        let runtime = actix_web::rt::System::new();
        let (status, json) = runtime.block_on(async {
            let app = app(Store::default()).await;
            let answer = send(&app, Call::new(value.to_string()).request()).await;
            (answer.status, answer.json)
        });
        check(status, &json)?;
    }
}
