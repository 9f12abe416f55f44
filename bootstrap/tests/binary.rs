//! The real binary, started as an operator would: the sandbox on a free port with a temporary
//! data folder, driven through the client command and raw HTTP, restarted, stopped with
//! SIGTERM mid-load; its logs are captured and searched for card data and secrets.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_tools::client::{self, IssueRequest};

mod support;

use support::{Service, credentials, pan_like_runs, signal, start, terminate};

fn send_sigterm(service: &Service) {
    signal(service, "TERM");
}

/// Sends the head and half the body of a signed request on a raw connection, and returns the
/// connection and the rest of the body.
async fn half_sent(
    credentials: &ClientCredentials,
    base_url: &str,
    request: &IssueRequest,
) -> (tokio::net::TcpStream, Vec<u8>) {
    use tokio::io::AsyncWriteExt as _;
    let body = client::payload(request);
    let correlation_id = client::new_correlation_id(SystemClock.now());
    let headers = client::signed_headers(
        credentials,
        body.as_bytes(),
        SystemClock.now(),
        &correlation_id,
        false,
    )
    .unwrap();
    let address = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n",
        prepaid_http::ISSUE_DELIVERY_PATH,
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    (stream, rest.to_vec())
}

/// Runs `client` with `arguments` (the action first): its output, and whether it exited with success (only
/// for a `000_000` answer).
fn client_command(service: &Service, data_dir: &Path, arguments: &[&str]) -> (bool, String) {
    let output = Command::new(support::tools_binary())
        .args([
            "client",
            arguments[0],
            "--url",
            &service.base_url,
            "--credentials",
        ])
        .arg(data_dir.join("sandbox-credentials.json"))
        .args(&arguments[1..])
        .env("PREPAID_DATA_DIR", data_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() || stderr.contains("answered"),
        "{stderr}"
    );
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[actix_web::test]
async fn the_binary_runs_the_scenarios_keeps_its_data_stops_gracefully_and_logs_no_secret() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "first.log");
    let credentials = credentials(&data_dir);
    let mut answers = String::new();

    // The six Test Data scenarios through the client command.
    let cases: [(&[&str], &str); 6] = [
        (
            &["--member", "1001", "--service", sandbox::NORMAL_PRODUCT],
            "000_000",
        ),
        (
            &[
                "--member",
                "1001",
                "--service",
                sandbox::MOBILE_PRODUCT,
                "--no-delivery",
                "--encrypt",
            ],
            "000_000",
        ),
        (
            &["--member", "1001", "--service", "999999999999999"],
            "000_002",
        ),
        (
            &["--member", "9999", "--service", sandbox::NORMAL_PRODUCT],
            "001_006",
        ),
        (
            &["--member", "1002", "--service", sandbox::NORMAL_PRODUCT],
            "001_006",
        ),
        (
            &[
                "--member",
                "1001",
                "--service",
                sandbox::NORMAL_PRODUCT,
                "--no-delivery",
            ],
            "003_024",
        ),
    ];
    for (arguments, code) in cases {
        let arguments = [&["issue"], arguments].concat();
        let (succeeded, output) = client_command(&service, &data_dir, &arguments);
        assert!(
            output.contains(&format!("\"code\": \"{code}\"")),
            "{arguments:?}: {output}"
        );
        assert_eq!(succeeded, code == "000_000", "exit status of {arguments:?}");
        answers.push_str(&output);
    }

    // Raw HTTP, with a correlation id we retry after a restart.
    let mut retried = IssueRequest {
        member: "1001".into(),
        service_id: sandbox::PRE_ISSUANCE_PRODUCT.into(),
        delivery: true,
        address: "부산광역시 해운대구 센텀중앙로 97".into(),
        address_detail: "1201호".into(),
        zip_code: "48058".into(),
        purpose: None,
        encrypt: false,
        correlation_id: None,
    };
    retried.correlation_id = Some(client::new_correlation_id(SystemClock.now()));
    let first = client::issue(&credentials, &service.base_url, &retried, SystemClock.now())
        .await
        .unwrap();
    assert_eq!(first.status, 200);
    answers.push_str(&first.body.to_string());

    // SIGTERM while a request is in flight (half its body sent): it is answered in full, and
    // the process exits cleanly.
    let mut mobile = retried.clone();
    mobile.correlation_id = None;
    mobile.service_id = sandbox::MOBILE_PRODUCT.into();
    mobile.delivery = false;
    let (mut stream, rest) = half_sent(&credentials, &service.base_url, &mobile).await;
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    send_sigterm(&service);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        stream.write_all(&rest).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("\"mobileCardNo\""), "{response}");
        answers.push_str(&response);
    }
    let exit = service.child.wait().unwrap();
    assert!(exit.success(), "graceful exit: {exit:?}");

    // Restart: the data is kept and the retry answers the first outcome.
    let mut service = start(&data_dir, "second.log");
    let again = client::issue(&credentials, &service.base_url, &retried, SystemClock.now())
        .await
        .unwrap();
    assert_eq!(again.body, first.body);
    // Its delivery waits for the card bureau, from a terminal as over HTTP.
    let number = first.body["cardApplyNo"].as_str().unwrap();
    let (succeeded, output) = client_command(
        &service,
        &data_dir,
        &["delivery", "--member", "1001", number],
    );
    assert!(succeeded, "{output}");
    assert!(output.contains("\"status\": \"READY\""), "{output}");
    // It awaits its physical card, with its mobile card.
    let (succeeded, output) =
        client_command(&service, &data_dir, &["pre-issued", "--member", "1001"]);
    assert!(succeeded, "{output}");
    assert!(output.contains(number), "{output}");
    // And cancelled the same day, from a terminal.
    let (succeeded, output) =
        client_command(&service, &data_dir, &["cancel", "--member", "1001", number]);
    assert!(succeeded, "{output}");
    assert!(output.contains("\"mobileCardNo\""), "{output}");
    let health = awc::Client::default()
        .get(format!("{}/readyz", service.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(terminate(&mut service).success());

    // The logs of both runs hold no card number, CVC field, secret or address.
    let logs = std::fs::read_to_string(root.path().join("first.log")).unwrap()
        + &std::fs::read_to_string(root.path().join("second.log")).unwrap();
    assert!(
        logs.contains("card application accepted"),
        "the log was captured"
    );
    let pans = pan_like_runs(answers.as_bytes());
    assert!(!pans.is_empty(), "PANs were issued");
    assert_eq!(
        pan_like_runs(logs.as_bytes()),
        Vec::<String>::new(),
        "a PAN-like number in the logs"
    );
    for secret in [
        credentials.secret_key.as_str(),
        "mobileCardCVC",
        "mobileCardNo",
        "테헤란로",
        "센텀중앙로",
        "1201호",
        "48058",
        "PRIVATE KEY",
    ] {
        assert!(!logs.contains(secret), "`{secret}` appears in the logs");
    }
}

/// CI's smoke test of the load generator: a few seconds against the real binary, plaintext and
/// encrypted; it works and every answer is a 200. Never a timing test.
#[test]
fn the_load_generator_drives_the_service_and_every_answer_is_200() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "loadgen.log");
    for encrypt in [false, true] {
        let mut command = Command::new(support::tools_binary());
        command
            .args([
                "loadgen",
                "--json",
                "--duration",
                "2",
                "--concurrency",
                "8",
                "--url",
                &service.base_url,
            ])
            .args(["--server-pid", &service.child.id().to_string()])
            .env("PREPAID_DATA_DIR", &data_dir);
        if encrypt {
            command.arg("--encrypt");
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let requests = report["requests"].as_u64().unwrap();
        assert!(requests > 0, "{report}");
        // `statuses` counts the warm-up's answers too; `requests` only the measured window's.
        let statuses = report["statuses"].as_object().unwrap();
        assert_eq!(
            statuses.keys().collect::<Vec<_>>(),
            ["200"],
            "every answer is a 200: {report}"
        );
        assert!(statuses["200"].as_u64().unwrap() >= requests, "{report}");
        assert_eq!(report["errors"], 0, "{report}");
        assert!(report["serverPeakRssKib"].as_u64().unwrap() > 0);
    }
    assert!(terminate(&mut service).success());
}

/// OpenSSL and libpq are built into the binary: a machine with neither installed runs it.
#[test]
fn the_binary_needs_neither_libpq_nor_libssl_at_run_time() {
    let output = Command::new("ldd").arg(support::binary()).output().unwrap();
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{libraries}");
    for library in ["libpq", "libssl", "libcrypto"] {
        assert!(
            !libraries.contains(library),
            "{library} is needed:\n{libraries}"
        );
    }
}
