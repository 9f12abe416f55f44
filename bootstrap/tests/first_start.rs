//! A first start killed at any moment never keeps the next start from working: every file that
//! start-up writes appears whole or not at all, and what an interrupted start left is finished
//! or repaired.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::sandbox;
use prepaid_crypto::SystemClock;
use prepaid_tools::client::{self, IssueRequest};

/// How many kill moments (`PREPAID_FIRST_START_ROUNDS` for more).
fn rounds() -> u64 {
    std::env::var("PREPAID_FIRST_START_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(24)
}

#[actix_web::test]
async fn a_first_start_killed_at_any_moment_is_followed_by_a_start_that_serves() {
    let rounds = rounds();
    let mut killed_before_ready = 0;
    for round in 0..rounds {
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("data");
        // Moments spread over the first start (keys, master keys, database, project, files).
        let moment = Duration::from_millis(round * 600 / rounds);
        let mut child = Command::new(support::binary())
            .env("PREPAID_DATA_DIR", &data_dir)
            .env("PREPAID_LISTEN", "127.0.0.1:0")
            .env("PREPAID_WORKERS", "1")
            .env_remove("PREPAID_CONFIG")
            .current_dir(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(moment);
        if child.try_wait().unwrap().is_none() {
            killed_before_ready += u32::from(!data_dir.join("sandbox-credentials.json").exists());
        }
        child.kill().unwrap();
        child.wait().unwrap();

        let mut service = support::start(&data_dir, "second.log");
        let credentials = support::credentials(&data_dir);
        let answer = client::issue(
            &credentials,
            &service.base_url,
            &IssueRequest {
                encrypt: true,
                ..IssueRequest::mobile_only(
                    sandbox::ACTIVE_MEMBER.to_string(),
                    sandbox::MOBILE_PRODUCT,
                )
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
        assert_eq!(
            (answer.status, answer.body["response"]["code"].as_str()),
            (200, Some("000_000")),
            "killed after {moment:?}: {}",
            answer.body
        );
        assert!(support::terminate(&mut service).success());
        let leftovers: Vec<_> = [data_dir.clone(), data_dir.join("keys")]
            .iter()
            .flat_map(|folder| std::fs::read_dir(folder).unwrap())
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
    println!(
        "{rounds} first starts killed, {killed_before_ready} before their credentials existed"
    );
    assert!(
        killed_before_ready > 0,
        "no kill landed inside a first start: the moments are too late for this machine"
    );
}

#[actix_web::test]
async fn a_second_service_on_the_same_sqlite_file_refuses_to_start_and_admin_commands_work_beside()
{
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = support::start(&data_dir, "first.log");
    let credentials = support::credentials(&data_dir);

    let second = Command::new(support::binary())
        .env("PREPAID_DATA_DIR", &data_dir)
        .env("PREPAID_LISTEN", "127.0.0.1:0")
        .env_remove("PREPAID_CONFIG")
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains(&format!("in use by process {}", service.child.id())),
        "{said}"
    );

    // Beside the running service: a member the admin command signs up, through the API's
    // use case, is served at once. Its details are refused by the same rules.
    let details = root.path().join("member.json");
    let write = |body: &str| std::fs::write(&details, body).unwrap();
    let add = ["add-member", "--asp-id", &credentials.asp_id, "--details"];
    let add = [add.as_slice(), &[details.to_str().unwrap()]].concat();
    write(
        r#"{"loginId": "operator.added@sandbox.example", "loginPassword": "258147",
            "birthDate": "19850230", "nationality": "Korean", "gender": "Male",
            "userName": "Kim", "mobileNumber": "01073000001", "email": "op@sandbox.example"}"#,
    );
    let refused = support::admin_refused(&data_dir, &[], &add);
    assert!(
        refused.contains("000_002 Invalid input parameter. birthDate"),
        "{refused}"
    );
    write(
        r#"{"loginId": "operator.added@sandbox.example", "loginPassword": "258147",
            "birthDate": "19850228", "nationality": "Korean", "gender": "Male",
            "userName": "Kim", "mobileNumber": "01073000001", "email": "op@sandbox.example"}"#,
    );
    let said = support::admin(&data_dir, &[], &add);
    let (member, _) = said
        .strip_prefix("member ")
        .and_then(|rest| rest.split_once(' '))
        .unwrap_or_else(|| panic!("a member id: {said}"));
    assert!(
        !said.contains("258147"),
        "the password is never printed: {said}"
    );
    let again = support::admin_refused(&data_dir, &[], &add);
    assert!(again.contains("001_001"), "{again}");
    let answer = client::issue(
        &credentials,
        &service.base_url,
        &IssueRequest::mobile_only(member, sandbox::MOBILE_PRODUCT),
        SystemClock.now(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(support::terminate(&mut service).success());

    // Once it has stopped, the file is free again.
    let mut again = support::start(&data_dir, "first.log");
    assert!(support::terminate(&mut again).success());

    let log = std::fs::read(root.path().join("first.log")).unwrap();
    assert!(log.len() > 100, "the log was written");
    assert!(
        !log.contains(&0x1b),
        "colour escape codes in a log that is not a terminal"
    );
}
