//! The whole service, in process, on a real socket with a temporary data folder: real
//! cryptography, real SQLite, the client command's code path.

use std::path::Path;

use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::Application;
use prepaid_bootstrap::config::Settings;
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_tools::client::{self, Answer, IssueRequest};
use serde_json::json;

fn settings(data_dir: &Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_owned(),
        workers: Some(2),
        ..Settings::default()
    }
}

struct Running {
    base_url: String,
    credentials: ClientCredentials,
    handle: actix_web::dev::ServerHandle,
}

async fn start(data_dir: &Path) -> Running {
    start_with(settings(data_dir)).await
}

fn request(member: &str, service: &str, delivery: bool, encrypt: bool) -> IssueRequest {
    IssueRequest {
        member: member.into(),
        service_id: service.into(),
        delivery,
        address: "서울특별시 강남구 테헤란로 1".into(),
        address_detail: "101동 1001호".into(),
        zip_code: "06236".into(),
        purpose: None,
        encrypt,
        correlation_id: None,
    }
}

async fn call(running: &Running, request: &IssueRequest) -> Answer {
    client::issue(
        &running.credentials,
        &running.base_url,
        request,
        SystemClock.now(),
    )
    .await
    .expect("an answer")
}

#[actix_web::test]
async fn the_six_test_data_scenarios_plain_and_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path()).await;
    for encrypt in [false, true] {
        let answer = call(
            &running,
            &request("1001", sandbox::NORMAL_PRODUCT, true, encrypt),
        )
        .await;
        assert_eq!((answer.status, answer.encrypted), (200, encrypt));
        assert_eq!(answer.body["response"]["code"], "000_000");
        assert_eq!(answer.body["cardApplyNo"].as_str().unwrap().len(), 22);
        assert!(answer.body.get("mobileCardNo").is_none());

        let answer = call(
            &running,
            &request("1001", sandbox::MOBILE_PRODUCT, false, encrypt),
        )
        .await;
        assert_eq!((answer.status, answer.encrypted), (200, encrypt));
        let pan = answer.body["mobileCardNo"].as_str().unwrap();
        assert!(
            prepaid_domain::Pan::parse(pan).is_ok(),
            "Luhn-valid 16 digits"
        );
        assert!(pan.starts_with(sandbox::SANDBOX_BIN));

        let answer = call(&running, &request("1001", "999999999999999", true, encrypt)).await;
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.body,
            json!({"response": {"code": "000_002", "description": "Invalid input parameter. serviceId"}})
        );

        for member in ["9999", "1002"] {
            let answer = call(
                &running,
                &request(member, sandbox::NORMAL_PRODUCT, true, encrypt),
            )
            .await;
            assert_eq!(
                answer.body,
                json!({"response": {"code": "001_006", "description": "Wallet user not found."}})
            );
        }

        let answer = call(
            &running,
            &request("1001", sandbox::NORMAL_PRODUCT, false, encrypt),
        )
        .await;
        assert_eq!(answer.body["response"]["code"], "003_024");
    }
    running.handle.stop(true).await;
}

#[actix_web::test]
async fn a_restart_keeps_the_data_and_a_retry_answers_the_same_card_and_cvc() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path()).await;
    let mut first_request = request("1001", sandbox::PRE_ISSUANCE_PRODUCT, true, true);
    first_request.correlation_id = Some(client::new_correlation_id(SystemClock.now()));
    let first = call(&running, &first_request).await;
    assert_eq!(first.status, 200);
    running.handle.stop(true).await;

    let running = start(dir.path()).await;
    let again = call(&running, &first_request).await;
    assert_eq!(
        again.body, first.body,
        "same cardApplyNo, card number, PAR and CVC after restart"
    );
    let mut changed = first_request.clone();
    changed.service_id = sandbox::NORMAL_PRODUCT.into();
    assert_eq!(
        call(&running, &changed).await.body["response"]["code"],
        "000_094"
    );
    running.handle.stop(true).await;
}

#[actix_web::test]
async fn no_issued_pan_nor_address_is_in_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path()).await;
    let mut pans = Vec::new();
    for _ in 0..10 {
        let answer = call(
            &running,
            &request("1001", sandbox::MOBILE_PRODUCT, false, false),
        )
        .await;
        pans.push(answer.body["mobileCardNo"].as_str().unwrap().to_owned());
    }
    // Deliveries, pre-issued: a card number and an address each.
    for _ in 0..3 {
        let answer = call(
            &running,
            &request("1001", sandbox::PRE_ISSUANCE_PRODUCT, true, false),
        )
        .await;
        pans.push(answer.body["mobileCardNo"].as_str().unwrap().to_owned());
    }
    running.handle.stop(true).await;

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("prepaid.sqlite3")
        {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    assert!(!bytes.is_empty());
    // Nor anywhere in the files' bytes (pages, WAL, free space).
    for pan in &pans {
        assert!(
            !bytes.windows(16).any(|window| window == pan.as_bytes()),
            "a PAN is stored in clear"
        );
        // Nor its masked or truncated forms beyond the BIN.
        assert!(
            !bytes
                .windows(10)
                .any(|window| window == &pan.as_bytes()[6..]),
            "PAN digits stored in clear"
        );
    }
    // No address either, the sandbox fixture's included: not one of its lines (the zip code's
    // five digits could occur by chance in an application number).
    for line in ["테헤란로", "101동 1001호"] {
        assert!(
            !bytes
                .windows(line.len())
                .any(|window| window == line.as_bytes()),
            "an address line stored in clear: {line}"
        );
    }
}

#[actix_web::test]
async fn a_second_start_reuses_the_sandbox_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let first = Application::build(settings(dir.path())).await.unwrap();
    assert!(first.new_credentials.is_some());
    drop(first);
    let second = Application::build(settings(dir.path())).await.unwrap();
    assert!(
        second.new_credentials.is_none(),
        "credentials are printed once"
    );
    let stored: ClientCredentials = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("sandbox-credentials.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        stored.base_url,
        format!("http://127.0.0.1:{}", second.port()),
        "the file names where this start listens"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("sandbox-credentials.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[actix_web::test]
async fn production_mode_refuses_to_start_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut production = settings(dir.path());
    production.mode = prepaid_bootstrap::config::Mode::Production;
    production.products = Vec::new();
    let error = Application::build(production.clone())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("keys.data_key"), "{error}");

    production.keys.data_key_id = Some("k1".into());
    production.keys.data_key = Some("00".repeat(32).into());
    production.keys.index_key = Some("11".repeat(32).into());
    production.keys.card_verification_key = Some("0123456789ABCDEFFEDCBA9876543210".into());
    let error = Application::build(production).await.err().expect("refused");
    assert!(error.to_string().contains("weak"), "{error}");
}

/// Two instances sharing one PostgreSQL database (and one data folder for the sandbox keys):
/// concurrent retries of one correlation id split across both issue exactly one card.
#[actix_web::test]
async fn two_instances_on_postgresql_issue_one_card_per_correlation_id() {
    let Ok(url) = std::env::var("PREPAID_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs PREPAID_TEST_DATABASE_URL"
        );
        // Straight to the terminal, past the test harness's capture: a person reading the run
        // sees that this test did not run.
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!(
                "\n  SKIPPED PostgreSQL two-instance end-to-end test: PREPAID_TEST_DATABASE_URL is not set\n\n"
            ),
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let with_postgres = |dir: &Path| Settings {
        database_url: Some(url.clone()),
        ..settings(dir)
    };
    let first = Application::build(with_postgres(dir.path())).await.unwrap();
    let second = Application::build(with_postgres(dir.path())).await.unwrap();
    let database = first.database.clone();
    let urls = [
        format!("http://127.0.0.1:{}", first.port()),
        format!("http://127.0.0.1:{}", second.port()),
    ];
    let handles = [first.server_handle(), second.server_handle()];
    actix_web::rt::spawn(first.run_until_stopped());
    actix_web::rt::spawn(second.run_until_stopped());
    let credentials: ClientCredentials = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("sandbox-credentials.json")).unwrap(),
    )
    .unwrap();

    // A member of this test only, so counts are not shared with other runs.
    let member_number = 5_000_000 + u64::from(std::process::id());
    let member = prepaid_domain::MemberId::new(member_number).unwrap();
    database
        .save_member(
            &prepaid_domain::AspId::parse(&credentials.asp_id).unwrap(),
            prepaid_domain::Member {
                id: member,
                status: prepaid_domain::MemberStatus::Active,
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
    let mut retried = request(
        &member_number.to_string(),
        sandbox::MOBILE_PRODUCT,
        false,
        false,
    );
    retried.correlation_id = Some(client::new_correlation_id(SystemClock.now()));

    let tasks: Vec<_> = (0..16)
        .map(|index| {
            let credentials = credentials.clone();
            let url = urls[index % 2].clone();
            let request = retried.clone();
            actix_web::rt::spawn(async move {
                // Each retry is signed again, at its own millisecond, as a client retrying would.
                let signed_at = SystemClock.now().plus_millis(i64::try_from(index).unwrap());
                client::issue(&credentials, &url, &request, signed_at)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        bodies.push(answer.body);
    }
    assert!(
        bodies.iter().all(|body| *body == bodies[0]),
        "every answer carries the same card"
    );
    let counts = database.count_issued_to(member).await.unwrap();
    assert_eq!(
        (
            counts.applications,
            counts.cards,
            counts.idempotency_records
        ),
        (1, 1, 1)
    );

    // Distinct correlation ids across both instances: every number unique.
    let tasks: Vec<_> = (0..40)
        .map(|index| {
            let credentials = credentials.clone();
            let url = urls[index % 2].clone();
            let request = request(
                &member_number.to_string(),
                sandbox::MOBILE_PRODUCT,
                false,
                false,
            );
            // The client puts each request's correlation id in its body (`clientNonce`), so no
            // two of these share a signature (D4 signs the body only).
            let signed_at = SystemClock.now().plus_millis(i64::try_from(index).unwrap());
            actix_web::rt::spawn(async move {
                client::issue(&credentials, &url, &request, signed_at)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut numbers = std::collections::HashSet::new();
    let mut pars = std::collections::HashSet::new();
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200);
        assert!(numbers.insert(answer.body["cardApplyNo"].as_str().unwrap().to_owned()));
        assert!(pars.insert(answer.body["mobileCardPar"].as_str().unwrap().to_owned()));
    }
    assert_eq!(
        database.count_issued_to(member).await.unwrap().applications,
        41
    );
    for handle in handles {
        handle.stop(true).await;
    }
}

const INDEX_1: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f91";
const INDEX_2: &str = "b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f91a2";

/// The configured keys of the rotation test: one data key throughout; the card verification
/// key `cvk` and the index key `index`, each as (id, hex), with the `retired` ones of each kept.
fn with_keys(
    data_dir: &Path,
    cvk: (&str, &str),
    index: (&str, &str),
    retired_cvks: &[&str],
    retired_index: &[&str],
) -> Settings {
    let mut settings = settings(data_dir);
    let owned = |entries: &[&str]| entries.iter().map(|entry| (*entry).into()).collect();
    settings.keys = prepaid_bootstrap::config::KeySettings {
        data_key_id: Some("data-1".into()),
        data_key: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        secret_kek: Some("1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f".into()),
        password_pepper: Some(
            "2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e".into(),
        ),
        index_key_id: Some(index.0.into()),
        index_key: Some(index.1.into()),
        retired_index_keys: owned(retired_index),
        card_verification_key_id: Some(cvk.0.into()),
        card_verification_key: Some(cvk.1.into()),
        retired_card_verification_keys: owned(retired_cvks),
        ..Default::default()
    };
    settings
}

async fn start_with(settings: Settings) -> Running {
    let data_dir = settings.data_dir.clone();
    // A restart in the same process: the stopped server's last handles on the database (and
    // so its SQLite service lock) go a moment after `stop` returns.
    let mut tries = 0;
    let application = loop {
        match Application::build(settings.clone()).await {
            Err(prepaid_bootstrap::StartupError::Database(
                prepaid_persistence::DatabaseError::InUse { .. },
            )) if tries < 100 => {
                tries += 1;
                actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            built => break built.expect("the service starts"),
        }
    };
    let base_url = format!("http://127.0.0.1:{}", application.port());
    let text = std::fs::read_to_string(data_dir.join("sandbox-credentials.json")).unwrap();
    let credentials = serde_json::from_str(&text).unwrap();
    let server = application.server_handle();
    actix_web::rt::spawn(application.run_until_stopped());
    Running {
        base_url,
        credentials,
        handle: server,
    }
}

#[actix_web::test]
async fn rotating_the_verification_and_index_keys_keeps_every_card_s_cvc_and_retries_working() {
    const OLD: &str = "0123456789ABCDEFFEDCBA9876543210";
    const NEW: &str = "13579BDF02468ACE2468ACE013579BDF";
    let dir = tempfile::tempdir().unwrap();
    let running = start_with(with_keys(
        dir.path(),
        ("cvk-1", OLD),
        ("idx-1", INDEX_1),
        &[],
        &[],
    ))
    .await;
    let mut issued = Vec::new();
    for _ in 0..40 {
        let mut request = request("1001", sandbox::MOBILE_PRODUCT, false, false);
        request.correlation_id = Some(client::new_correlation_id(SystemClock.now()));
        let answer = call(&running, &request).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        issued.push((request, answer.body));
    }
    running.handle.stop(true).await;

    // Both rotated: the 40 retries (fingerprinted under idx-1) answer their cards with their
    // cvk-1 codes, and 40 new cards (the BIN still numbered under idx-1) are all distinct.
    let rotated = |retired_cvks: &[&str], retired_index: &[&str]| {
        with_keys(
            dir.path(),
            ("cvk-2", NEW),
            ("idx-2", INDEX_2),
            retired_cvks,
            retired_index,
        )
    };
    let old_cvk = format!("cvk-1:{OLD}");
    let old_index = format!("idx-1:{INDEX_1}");
    let running = start_with(rotated(&[&old_cvk], &[&old_index])).await;
    for (request, first) in &issued {
        let again = call(&running, request).await;
        assert_eq!(
            again.body, *first,
            "the retry answers the same card and CVC"
        );
    }
    let mut numbers: std::collections::HashSet<String> = issued
        .iter()
        .map(|(_, body)| body["mobileCardNo"].as_str().unwrap().to_owned())
        .collect();
    for _ in 0..40 {
        let mut fresh = request("1001", sandbox::MOBILE_PRODUCT, false, false);
        fresh.correlation_id = Some(client::new_correlation_id(SystemClock.now()));
        let answer = call(&running, &fresh).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(numbers.insert(answer.body["mobileCardNo"].as_str().unwrap().to_owned()));
    }
    running.handle.stop(true).await;

    // Without a retired key the old cards cannot be answered: a system error, never another
    // card's code, nor a conflict.
    let cases: [(&[&str], &[&str]); 2] = [(&[], &[&old_index]), (&[&old_cvk], &[])];
    for (retired_cvks, retired_index) in cases {
        let running = start_with(rotated(retired_cvks, retired_index)).await;
        let answer = call(&running, &issued[0].0).await;
        assert_eq!(
            (answer.status, answer.body["response"]["code"].as_str()),
            (500, Some("000_099"))
        );
        running.handle.stop(true).await;
    }
}

/// The `key = "value"` of a TOML file.
fn toml_value(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key} = \"")))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn secrets_sealed_with_the_data_key_by_an_older_sandbox_are_moved_to_their_own_key() {
    use prepaid_crypto::{AesGcmSecretVault, DataKey};
    let dir = tempfile::tempdir().unwrap();
    let running = start(dir.path()).await;
    running.handle.stop(true).await;

    // The sandbox as an older version left it: no key-encryption key in its master keys, and
    // the project's secret sealed with the PAN data key.
    let keys_file = dir.path().join("master-keys.toml");
    let text = std::fs::read_to_string(&keys_file).unwrap();
    let data_key = DataKey::from_hex(
        &toml_value(&text, "data_key_id"),
        &toml_value(&text, "data_key"),
    )
    .unwrap();
    let first_kek = DataKey::from_hex("kek-1", &toml_value(&text, "secret_kek")).unwrap();
    let older = text
        .lines()
        .filter(|line| !line.starts_with("secret_kek"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&keys_file, older).unwrap();
    let database =
        prepaid_persistence::Database::open_beside(&settings(dir.path()).database().unwrap())
            .unwrap();
    let to_data_key =
        std::sync::Arc::new(AesGcmSecretVault::new(data_key.clone(), vec![first_kek]));
    assert!(database.reseal_secrets(to_data_key).await.unwrap() >= 1);

    let running = start(dir.path()).await;
    let answer = call(
        &running,
        &request("1001", sandbox::MOBILE_PRODUCT, false, false),
    )
    .await;
    assert_eq!(
        answer.status, 200,
        "the project still authenticates: {}",
        answer.body
    );
    running.handle.stop(true).await;

    let text = std::fs::read_to_string(&keys_file).unwrap();
    let new_kek = DataKey::from_hex("kek-1", &toml_value(&text, "secret_kek")).unwrap();
    let only_the_kek = std::sync::Arc::new(AesGcmSecretVault::new(new_kek, vec![]));
    assert_eq!(
        database.reseal_secrets(only_the_kek).await.unwrap(),
        0,
        "every secret is sealed with the key-encryption key now, none with the data key"
    );
}

#[actix_web::test]
async fn every_declared_test_data_scenario_is_reproduced_by_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(&dir.path().join("data")).await;
    let mut checked = 0;
    for operation in prepaid_http::OPERATIONS {
        for scenario in operation.scenarios {
            let mut payload = scenario.request.to_owned();
            if let Some(prepare) = &scenario.prepare {
                let first = prepare
                    .operation
                    .scenarios
                    .iter()
                    .find(|first| first.name == prepare.scenario)
                    .unwrap();
                let correlation_id = client::new_correlation_id(SystemClock.now());
                let first = client::Outgoing {
                    path: prepare.operation.path,
                    // Its own body, not the one its own scenario sent (a replay).
                    payload: client::with_nonce(first.request, &correlation_id),
                    encrypt: false,
                    correlation_id: Some(correlation_id),
                };
                let answer = client::send(
                    &running.credentials,
                    &running.base_url,
                    &first,
                    SystemClock.now(),
                )
                .await
                .unwrap();
                assert_eq!(
                    answer.body["response"]["code"], "000_000",
                    "{}",
                    answer.body
                );
                if let Some((from, to)) = prepare.member {
                    let mut prepared: serde_json::Value = serde_json::from_str(&payload).unwrap();
                    prepared[to] = answer.body[from].clone();
                    payload = prepared.to_string();
                }
            }
            let outgoing = client::Outgoing {
                path: operation.path,
                payload,
                encrypt: false,
                correlation_id: None,
            };
            let answer = client::send(
                &running.credentials,
                &running.base_url,
                &outgoing,
                SystemClock.now(),
            )
            .await
            .expect("an answer");
            let expected = scenario.path.map_or_else(
                || scenario.code.message().to_owned(),
                |path| format!("{} {path}", scenario.code.message()),
            );
            assert_eq!(
                (
                    answer.body["response"]["code"].as_str(),
                    answer.body["response"]["description"].as_str()
                ),
                (Some(scenario.code.code()), Some(expected.as_str())),
                "{} {}",
                operation.id,
                scenario.name
            );
            // What an inquiry answers is the sandbox's own data: the documented example is it,
            // unless it is about what a request made just before.
            if let (false, None, Some(payload)) =
                (operation.changes_state, &scenario.prepare, scenario.payload)
            {
                let documented: serde_json::Value = serde_json::from_str(payload).unwrap();
                for (member, value) in documented.as_object().unwrap() {
                    assert_eq!(&answer.body[member], value, "{} {member}", operation.id);
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 9);
    // The server's middleware counted every one of them by route and status.
    let mut metrics = awc::Client::default()
        .get(format!("{}/metrics", running.base_url))
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(metrics.body().await.unwrap().to_vec()).unwrap();
    for (route, status) in [
        (prepaid_http::ISSUE_DELIVERY_PATH, 200),
        (prepaid_http::ISSUE_DELIVERY_PATH, 400),
        (prepaid_http::PRODUCT_INQUIRY_PATH, 200),
    ] {
        let counted =
            format!("prepaid_http_requests_total{{route=\"{route}\",status=\"{status}\"}}");
        assert!(text.contains(&counted), "{counted} in\n{text}");
    }
    running.handle.stop(true).await;
}

/// A member operation's answer: `body` posted to `path` (encrypted when `encrypt`), with a new
/// correlation id.
async fn member_call(
    running: &Running,
    path: &'static str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let correlation_id = client::new_correlation_id(SystemClock.now());
    let outgoing = client::Outgoing {
        path,
        payload: client::with_nonce(&body.to_string(), &correlation_id),
        encrypt: true,
        correlation_id: Some(correlation_id),
    };
    client::send(
        &running.credentials,
        &running.base_url,
        &outgoing,
        SystemClock.now(),
    )
    .await
    .expect("an answer")
    .body
}

#[actix_web::test]
async fn members_are_found_unique_and_logged_in_after_the_data_index_and_pepper_keys_rotate() {
    const OLD_CVK: &str = "0123456789ABCDEFFEDCBA9876543210";
    const PEPPER_1: &str = "2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e";
    const PEPPER_2: &str = "6978879a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6";
    const DATA_1: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const DATA_2: &str = "5a69788796a5b4c3d2e1f00f1e2d3c4b0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let dir = tempfile::tempdir().unwrap();
    let keyed =
        |data: (&str, &str), index: (&str, &str), retired_data: &[&str], retired_index: &[&str]| {
            let mut settings = with_keys(dir.path(), ("cvk-1", OLD_CVK), index, &[], retired_index);
            settings.keys.data_key_id = Some(data.0.into());
            settings.keys.data_key = Some(data.1.into());
            settings.keys.retired_data_keys =
                retired_data.iter().map(|entry| (*entry).into()).collect();
            settings
        };
    let sign_up = json!({
        "loginId": "Rotating.Member@Example.com", "loginPassword": "135790",
        "birthDate": "19880412", "nationality": "Korean", "gender": "Male",
        "userName": "회전회원", "mobileNumber": "01066660001", "email": "rotating@example.com",
        "ci": format!("{:0>86}==", "ROTATINGCI"),
    });
    let running = start_with(keyed(("data-1", DATA_1), ("idx-1", INDEX_1), &[], &[])).await;
    let signed_up = member_call(&running, prepaid_http::USER_REGISTRATION_PATH, &sign_up).await;
    let user_id = signed_up["userId"]
        .as_u64()
        .unwrap_or_else(|| panic!("{signed_up}"));
    running.handle.stop(true).await;

    // The three keys rotated, the old ones retired: the start seals and fingerprints the member
    // again, and their right password is hashed again with the new pepper.
    let new_pepper = |mut settings: Settings, retired: &[String]| {
        settings.keys.password_pepper_id = Some("pep-2".into());
        settings.keys.password_pepper = Some(PEPPER_2.into());
        settings.keys.retired_password_peppers =
            retired.iter().map(|entry| entry.clone().into()).collect();
        settings
    };
    let retired_data = format!("data-1:{DATA_1}");
    let retired_index = format!("idx-1:{INDEX_1}");
    // The pepper `with_keys` configures, as `pep-1`.
    let retired_pepper = format!("pep-1:{PEPPER_1}");
    let running = start_with(new_pepper(
        keyed(
            ("data-2", DATA_2),
            ("idx-2", INDEX_2),
            &[&retired_data],
            &[&retired_index],
        ),
        &[retired_pepper],
    ))
    .await;
    found_by_everything(&running, user_id, &sign_up).await;
    running.handle.stop(true).await;

    // The old keys withdrawn: nothing needs them any more.
    let running = start_with(new_pepper(
        keyed(("data-2", DATA_2), ("idx-2", INDEX_2), &[], &[]),
        &[],
    ))
    .await;
    found_by_everything(&running, user_id, &sign_up).await;
    running.handle.stop(true).await;
}

/// The member `user_id` signed up with `sign_up` logs in, is found by CI and read, and their
/// mobile number is still theirs only.
async fn found_by_everything(running: &Running, user_id: u64, sign_up: &serde_json::Value) {
    let login = member_call(
        running,
        prepaid_http::PASSWORD_CHECK_PATH,
        &json!({"loginId": "rotating.member@example.com", "loginPassword": "135790"}),
    )
    .await;
    assert_eq!(login["userId"], user_id, "by login id: {login}");
    let found = member_call(
        running,
        prepaid_http::LOGIN_ID_FIND_PATH,
        &json!({"ci": sign_up["ci"]}),
    )
    .await;
    assert_eq!(
        found["loginId"], "Rotating.Member@Example.com",
        "by CI: {found}"
    );
    let info = member_call(
        running,
        prepaid_http::USER_INFO_PATH,
        &json!({"userId": user_id}),
    )
    .await;
    assert_eq!(info["userInfo"]["userName"], "회전회원", "opened: {info}");
    let mut again = sign_up.clone();
    again["loginId"] = "another.rotating@example.com".into();
    again["ci"] = serde_json::Value::Null;
    let refused = member_call(running, prepaid_http::USER_REGISTRATION_PATH, &again).await;
    assert_eq!(refused["response"]["code"], "001_001", "{refused}");
}
