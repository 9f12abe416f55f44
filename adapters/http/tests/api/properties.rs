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

/// Every text member that declares a pattern, in every request table, nested ones included.
fn patterned_texts() -> Vec<(&'static str, &'static prepaid_http::Text)> {
    fn walk(
        table: &'static [prepaid_http::Member],
        found: &mut Vec<(&'static str, &'static prepaid_http::Text)>,
    ) {
        for member in table {
            match &member.kind {
                prepaid_http::Kind::Text(text) if text.pattern.is_some() => {
                    found.push((member.path, text));
                }
                prepaid_http::Kind::Object(inner) => walk(inner, found),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    for operation in prepaid_http::OPERATIONS {
        walk(operation.request, &mut found);
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A text the document's pattern and lengths allow is a text the check accepts, and the
    /// other way round: generated requests that follow the document get past the table.
    #[test]
    fn each_declared_pattern_with_its_lengths_accepts_what_its_check_accepts(
        text in "([0-9A-Za-z \\t\\n\\u{0}\\u{1f}\\u{7f}\\u{85}\\u{a0}\\u{3000}가-힣]{0,6}|[0-9]{5}|[0-9]{15}|\\PC{0,8})"
    ) {
        for (path, declared) in patterned_texts() {
            let pattern = regex::Regex::new(declared.pattern.unwrap_or_default()).unwrap();
            let length = text.chars().count();
            let documented = pattern.is_match(&text) && (declared.min..=declared.max).contains(&length);
            prop_assert_eq!(documented, (declared.check)(&text).is_ok(), "{} {:?}", path, text);
        }
    }
}

#[test]
fn the_address_lines_declare_a_pattern() {
    let paths: Vec<&str> = patterned_texts().iter().map(|(path, _)| *path).collect();
    for path in [
        "addressInfo.address",
        "addressInfo.addressDetail",
        "addressInfo.zipCode",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
}

#[test]
fn the_patterns_agree_with_their_checks_on_the_members_edge_values() {
    let ci = |tail: &str| format!("{}{tail}", "A".repeat(88 - tail.len()));
    let texts = [
        "111111".to_owned(),
        "123456".to_owned(),
        "135790".to_owned(),
        "20260231".to_owned(),
        "19900101".to_owned(),
        "0101234567".to_owned(),
        ci(""),
        ci("=="),
        ci("A="),
        ci("=A"),
        ci("==="),
        ci("+/"),
    ];
    for (path, declared) in patterned_texts() {
        let pattern = regex::Regex::new(declared.pattern.unwrap_or_default()).unwrap();
        for text in &texts {
            let length = text.chars().count();
            let documented =
                pattern.is_match(text) && (declared.min..=declared.max).contains(&length);
            assert_eq!(
                documented,
                (declared.check)(text).is_ok(),
                "{path} {text:?}"
            );
        }
    }
}
