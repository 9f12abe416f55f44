//! The declarations say what the pipeline does: every Test Data scenario of every operation is
//! answered with its code and path, and `docs/API.md` shows the tables the declarations render.

use crate::support::{Call, Store, app, send};

#[actix_web::test]
async fn every_test_data_scenario_of_every_operation_gets_its_declared_answer() {
    let app = app(Store::default()).await;
    let mut run = 0;
    for operation in prepaid_http::OPERATIONS {
        for (index, scenario) in operation.scenarios.iter().enumerate() {
            let mut call = Call::new(scenario.request)
                .correlation(&format!("261125153000-{:07x}", 0x100 + index));
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
