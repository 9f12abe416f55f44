//! The declarations say what the pipeline does: every Test Data scenario of every operation is
//! answered with its code and path, and `docs/API.md` shows the tables the declarations render.

use crate::support::{Call, Store, app, send};

#[actix_web::test]
async fn every_test_data_scenario_of_every_operation_gets_its_declared_answer() {
    let app = app(Store::with_sandbox_cards()).await;
    let mut run = 0;
    for operation in prepaid_http::OPERATIONS {
        for scenario in operation.scenarios {
            let mut request = scenario.request.to_owned();
            if let Some(prepare) = &scenario.prepare {
                let first = prepare
                    .operation
                    .scenarios
                    .iter()
                    .find(|first| first.name == prepare.scenario)
                    .expect("the scenario to send first is declared");
                // The same body twice would be the same signature, refused as a replay: a member
                // the table does not know makes it another body.
                let mut first_request: serde_json::Value =
                    serde_json::from_str(first.request).unwrap();
                first_request["clientNonce"] = run.into();
                let mut call = Call::new(first_request.to_string())
                    .correlation(&format!("261125153000-{:07x}", 0x200 + run));
                prepare.operation.path.clone_into(&mut call.path);
                let answer = send(&app, call.request()).await;
                assert_eq!(answer.code(), "000_000", "{}", answer.json);
                if let Some((from, to)) = prepare.member {
                    let mut prepared: serde_json::Value = serde_json::from_str(&request).unwrap();
                    prepared[to] = answer.json[from].clone();
                    request = prepared.to_string();
                }
            }
            let mut call =
                Call::new(request).correlation(&format!("261125153000-{:07x}", 0x100 + run));
            operation.path.clone_into(&mut call.path);
            let answer = send(&app, call.request()).await;
            let expected = scenario.path.map_or_else(
                || scenario.code.message().to_owned(),
                |path| format!("{} {path}", scenario.code.message()),
            );
            assert_eq!(
                (answer.code(), answer.description()),
                (scenario.code.code(), expected.as_str()),
                "{} {}",
                operation.id,
                scenario.name
            );
            run += 1;
        }
    }
    assert!(run >= 9, "every operation has its scenarios");
}

/// `docs/API.md`'s operations section must be what the declarations render. Run the test with
/// `PREPAID_BLESS_API_MD=1` to write it there after changing a declaration.
#[test]
fn docs_api_md_shows_the_operations_as_declared() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md");
    let text = std::fs::read_to_string(file).unwrap();
    let begin = "<!-- operations: generated from the declarations; a test keeps it equal -->\n";
    let end = "<!-- end of operations -->";
    let expected = prepaid_http::api_error_tables();
    let (Some(start), Some(stop)) = (text.find(begin), text.find(end)) else {
        panic!("docs/API.md must have the markers\n{begin}and\n{end}");
    };
    let start = start + begin.len();
    let shown = &text[start..stop];
    if shown != expected && std::env::var_os("PREPAID_BLESS_API_MD").is_some() {
        std::fs::write(
            file,
            format!("{}{expected}{}", &text[..start], &text[stop..]),
        )
        .unwrap();
        return;
    }
    assert!(
        shown == expected,
        "docs/API.md must hold, between its markers, exactly:\n\n{expected}"
    );
}

/// A member required unless a flag beside it is false: the document says so in the schema
/// itself, so that generated bodies (and readers) get the condition, not only its prose.
#[test]
fn the_document_requires_the_address_unless_delivery_is_declined() {
    let document = prepaid_http::openapi_document(&[String::new()]);
    let request = &document["components"]["schemas"]["IssuePrepaidCardWithDeliveryRequest"];
    assert_eq!(
        request["anyOf"],
        serde_json::json!([
            {"required": ["addressInfo"]},
            {"required": ["isDeliveryRequired"], "properties": {"isDeliveryRequired": {"enum": [false]}}},
        ])
    );
    let required = request["required"].as_array().unwrap();
    assert!(!required.contains(&serde_json::json!("addressInfo")));
    let inquiry = &document["components"]["schemas"]["InquireCardProductsRequest"];
    assert!(inquiry.get("anyOf").is_none() && inquiry.get("allOf").is_none());
}

/// A card named by exactly one of two members: the document says so in the schema itself.
#[test]
fn the_document_names_a_card_by_exactly_one_of_par_and_card_number() {
    let document = prepaid_http::openapi_document(&[String::new()]);
    let request = &document["components"]["schemas"]["ChangeCardStateRequest"];
    assert_eq!(
        request["oneOf"],
        serde_json::json!([{"required": ["par"]}, {"required": ["cardNo"]}])
    );
    assert_eq!(request["required"], serde_json::json!(["userId", "status"]));
    assert!(
        request["properties"]["par"]["description"]
            .as_str()
            .unwrap()
            .ends_with("Exactly one of par and cardNo is given.")
    );
}

/// `$response.body#/a/0/b` in a link's body, read from `answer`.
fn resolve(template: &serde_json::Value, answer: &serde_json::Value) -> serde_json::Value {
    match template {
        serde_json::Value::String(text) => text.strip_prefix("$response.body#").map_or_else(
            || template.clone(),
            |pointer| answer.pointer(pointer).cloned().unwrap(),
        ),
        serde_json::Value::Object(members) => members
            .iter()
            .map(|(name, value)| (name.clone(), resolve(value, answer)))
            .collect(),
        other => other.clone(),
    }
}

/// Every link, followed from its operation's documented success, is a request its target
/// operation carries out: the chains a stateful test walks start from real answers.
#[actix_web::test]
async fn every_link_followed_from_a_documented_success_is_carried_out() {
    let app = app(Store::default()).await;
    let mut followed = 0;
    for operation in prepaid_http::OPERATIONS {
        let Some(success) = operation
            .scenarios
            .iter()
            .find(|scenario| scenario.code == prepaid_domain::ErrorCode::Success)
        else {
            continue;
        };
        let mut call = Call::new(success.request).correlation("261125153000-0000b00");
        operation.path.clone_into(&mut call.path);
        let answer = send(&app, call.request()).await;
        for (index, link) in operation.links.iter().enumerate() {
            let template: serde_json::Value = serde_json::from_str(link.request_body).unwrap();
            let body = resolve(&template, &answer.json);
            let mut next = Call::new(body.to_string())
                .correlation(&format!("261125153000-{:07x}", 0xb01 + index));
            link.to.path.clone_into(&mut next.path);
            let result = send(&app, next.request()).await;
            assert_eq!(
                result.code(),
                "000_000",
                "{} → {}: {body}",
                operation.id,
                link.name
            );
            followed += 1;
        }
    }
    assert!(followed >= 1, "the product inquiry leads to an application");
}

/// The document's links: on the inquiry's success only, to the application's copy under the
/// same base path, with the declared body.
#[test]
fn the_document_links_the_inquiry_to_an_application_under_each_base_path() {
    let document = prepaid_http::openapi_document(&[String::new(), "/open-api".to_owned()]);
    for (base, suffix) in [("", ""), ("/open-api", "OpenApi")] {
        let responses = &document["paths"][format!("{base}{}", prepaid_http::PRODUCT_INQUIRY_PATH)]
            ["post"]["responses"];
        let link = &responses["200"]["links"]["ApplyForTheFirstProduct"];
        assert_eq!(
            link["operationId"],
            format!("issuePrepaidCardWithDelivery{suffix}")
        );
        assert_eq!(
            link["requestBody"]["serviceId"],
            "$response.body#/serviceInfos/0/serviceId"
        );
        assert!(responses["400"].get("links").is_none());
        let application = &document["paths"]
            [format!("{base}{}", prepaid_http::ISSUE_DELIVERY_PATH)]["post"]["responses"];
        assert!(application["200"].get("links").is_none());
    }
}

/// The status an answer of `code` is documented under.
fn status_of(code: prepaid_domain::ErrorCode) -> String {
    prepaid_http::ApiError::new(code)
        .status()
        .as_u16()
        .to_string()
}

/// Every Test Data scenario is in the document as a request example and as the answer example
/// of its status, each status lists its own codes only, and the schemas say each member's rules.
#[test]
fn the_document_shows_each_scenario_each_status_s_codes_and_each_member_s_rules() {
    let document = prepaid_http::openapi_document(&[String::new()]);
    for operation in prepaid_http::OPERATIONS {
        let documented = &document["paths"][operation.path]["post"];
        let names: Vec<&str> = documented["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|parameter| parameter["name"].as_str().unwrap())
            .collect();
        assert_eq!(names[0], "X-KM-User-AspId");
        assert_eq!(names.len(), 7);
        for scenario in operation.scenarios {
            let request = &documented["requestBody"]["content"]["application/json"]["examples"]
                [scenario.name];
            let sent: serde_json::Value = serde_json::from_str(scenario.request).unwrap();
            assert_eq!(request["value"], sent, "{}", scenario.name);
            let answer = &documented["responses"][status_of(scenario.code)]["content"]["application/json"]
                ["examples"][scenario.name]["value"]["response"];
            assert_eq!(answer["code"], scenario.code.code(), "{}", scenario.name);
            let description = scenario.path.map_or_else(
                || scenario.code.message().to_owned(),
                |path| format!("{} {path}", scenario.code.message()),
            );
            assert_eq!(answer["description"], description, "{}", scenario.name);
        }
        for (code, _) in operation.all_codes() {
            for (status, response) in documented["responses"].as_object().unwrap() {
                let listed = response["description"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{}`", code.code()));
                assert_eq!(
                    listed,
                    *status == status_of(code),
                    "{} {status}",
                    code.code()
                );
            }
        }
        let success = &documented["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(
            success["oneOf"][0]["$ref"]
                .as_str()
                .unwrap()
                .ends_with("Response")
        );
        let refused = &documented["responses"]["400"]["content"]["application/json"]["schema"];
        assert_eq!(
            refused["oneOf"][0]["$ref"],
            "#/components/schemas/ErrorEnvelope"
        );
    }
    let issue = &document["paths"][prepaid_http::ISSUE_DELIVERY_PATH]["post"]["description"];
    assert!(issue.as_str().unwrap().contains("Encrypted both ways"));
    let inquiry = &document["paths"][prepaid_http::PRODUCT_INQUIRY_PATH]["post"]["description"];
    assert!(inquiry.as_str().unwrap().contains("Plaintext both ways"));

    let request = &document["components"]["schemas"]["IssuePrepaidCardWithDeliveryRequest"];
    let service = &request["properties"]["serviceId"];
    assert_eq!(
        (
            &service["type"],
            &service["minLength"],
            &service["maxLength"]
        ),
        (
            &serde_json::json!("string"),
            &serde_json::json!(15),
            &serde_json::json!(15)
        )
    );
    assert!(service.get("enum").is_none());
    assert_eq!(
        request["properties"]["purpose"]["enum"],
        serde_json::json!(["GIFTABLE"])
    );
    let member = &request["properties"]["userInfo"]["properties"]["userId"];
    assert_eq!(
        (&member["type"], &member["minimum"]),
        (&serde_json::json!("integer"), &serde_json::json!(1))
    );
}

/// Two scenarios whose bodies are the same JSON are one signature once the Try-it page has
/// rewritten them (it sends the JSON it shows, not the declared text): the second one sent
/// within the window would be refused as a replay (`000_093`). Every Test Data body a person
/// sends as shown differs from every other one as JSON, but for the one pair that must name
/// the same member and nothing else (its information, and its cards awaiting a physical card);
/// a body whose member the scenario sent first replaces is another body when sent.
#[test]
fn no_two_test_data_bodies_sent_as_shown_are_the_same_json() {
    const SAME_BY_NATURE: [&str; 2] = [
        "listPreIssuedCardsAwaitingPhysicalCard awaiting",
        "inquireUserInfo memberInfo",
    ];
    let mut seen: Vec<(serde_json::Value, String)> = Vec::new();
    let mut repeated = Vec::new();
    for operation in prepaid_http::OPERATIONS {
        for scenario in operation.scenarios {
            if scenario
                .prepare
                .as_ref()
                .is_some_and(|first| first.member.is_some())
            {
                continue;
            }
            let body: serde_json::Value = serde_json::from_str(scenario.request).unwrap();
            let name = format!("{} {}", operation.id, scenario.name);
            let same_by_nature = |first: &str| {
                SAME_BY_NATURE.contains(&first) && SAME_BY_NATURE.contains(&name.as_str())
            };
            if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == body)
                && !same_by_nature(first)
            {
                repeated.push(format!("{name} sends the body of {first}: {body}"));
            }
            seen.push((body, name));
        }
    }
    assert!(repeated.is_empty(), "{repeated:#?}");
}
