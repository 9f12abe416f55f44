//! Starting the real binary and talking to it, for the end-to-end and reliability tests.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of these helpers"
)]

pub mod caller;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::sandbox::ClientCredentials;
use prepaid_crypto::SystemClock;
use prepaid_tools::client;

/// The binary under test: `PREPAID_BINARY` (the release build, as `.ci/run` sets it) or the
/// debug build of this test run.
pub fn binary() -> PathBuf {
    std::env::var_os("PREPAID_BINARY").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_prepaid-card-service")),
        PathBuf::from,
    )
}

/// The tools binary (`client`, `loadgen`): `PREPAID_TOOLS_BINARY` (the release build, as
/// `.ci/run` sets it) or the build of this test run, which `cargo test --workspace` makes beside
/// the test executables (the tools package has integration tests of its own).
pub fn tools_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PREPAID_TOOLS_BINARY") {
        return PathBuf::from(path);
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|test| Some(test.parent()?.parent()?.join("prepaid-tools")));
    match beside {
        Some(path) if path.exists() => path,
        _ => panic!(
            "the tools binary is missing: run the workspace's tests (`cargo test --workspace`), \
             or `cargo build -p prepaid-tools` first, or set PREPAID_TOOLS_BINARY"
        ),
    }
}

pub struct Service {
    pub child: Child,
    pub base_url: String,
}

/// Starts the service on a free port with `data_dir`, its log (stderr) in `log_path`.
pub fn start_with(data_dir: &Path, log_path: &Path, env: &[(&str, &str)]) -> Service {
    let mut command = Command::new(binary());
    command
        .env("PREPAID_DATA_DIR", data_dir)
        .env("PREPAID_LISTEN", "127.0.0.1:0")
        .env("PREPAID_WORKERS", "2")
        // Deliveries stay where a test puts them, unless it asks for the simulated partner.
        .env("PREPAID_SANDBOX_PARTNER_STEP_MS", "0")
        .env(
            "RUST_LOG",
            "debug,actix_server=info,actix_http=info,h2=info,mio=info",
        )
        .env_remove("PREPAID_CONFIG")
        .current_dir(data_dir.parent().unwrap())
        .stdout(Stdio::piped())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path)
                .unwrap(),
        );
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base_url = loop {
        let line = lines.next().expect("the banner").unwrap();
        if let Some(rest) = line.trim().strip_prefix("API:") {
            let url = rest.trim().trim_start_matches("POST ").trim();
            break url
                .trim_end_matches(prepaid_http::ISSUE_DELIVERY_PATH)
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Service { child, base_url }
}

pub fn start(data_dir: &Path, log_name: &str) -> Service {
    start_with(data_dir, &data_dir.parent().unwrap().join(log_name), &[])
}

pub fn signal(service: &Service, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &service.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until the service answers `/healthz` (its signal handlers are installed by then).
pub fn wait_ready(service: &Service) {
    let address = service.base_url.trim_start_matches("http://").to_owned();
    for _ in 0..200 {
        if let Ok(mut stream) = std::net::TcpStream::connect(&address) {
            use std::io::{Read as _, Write as _};
            let _ =
                stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the service never became ready");
}

pub fn terminate(service: &mut Service) -> std::process::ExitStatus {
    wait_ready(service);
    signal(service, "TERM");
    service.child.wait().unwrap()
}

pub fn credentials(data_dir: &Path) -> ClientCredentials {
    serde_json::from_str(
        &std::fs::read_to_string(data_dir.join("sandbox-credentials.json")).unwrap(),
    )
    .unwrap()
}

/// Every run of 16 digits that passes the Luhn check (a PAN-like number).
pub fn pan_like_runs(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for start in 0..bytes.len().saturating_sub(15) {
        let window = &bytes[start..start + 16];
        if window.iter().all(u8::is_ascii_digit)
            && (start == 0 || !bytes[start - 1].is_ascii_digit())
            && bytes
                .get(start + 16)
                .is_none_or(|byte| !byte.is_ascii_digit())
        {
            let text = std::str::from_utf8(window).unwrap();
            if prepaid_domain::luhn_valid(text) {
                found.push(text.to_owned());
            }
        }
    }
    found
}

/// A raw signed POST: `body` exactly as given, signed at `now` (+ `millis`), with `correlation_id`.
pub async fn post_signed(
    credentials: &ClientCredentials,
    base_url: &str,
    body: &[u8],
    correlation_id: &str,
    millis: i64,
    extra_headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let now = SystemClock.now().plus_millis(millis);
    let headers = client::signed_headers(credentials, body, now, correlation_id, false).unwrap();
    let mut request = awc::Client::builder()
        .timeout(std::time::Duration::from_mins(1))
        .finish()
        .post(format!("{base_url}{}", prepaid_http::ISSUE_DELIVERY_PATH));
    for (name, value) in headers {
        request = request.insert_header((name, value));
    }
    for (name, value) in extra_headers {
        request = request.insert_header((*name, *value));
    }
    let mut response = request.send_body(body.to_vec()).await.expect("an answer");
    let status = response.status().as_u16();
    let bytes = response.body().limit(1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// The database of a sandbox data folder (opened beside the running service; SQLite WAL).
pub fn database(data_dir: &Path) -> prepaid_persistence::Database {
    let settings = prepaid_bootstrap::config::Settings {
        data_dir: data_dir.to_owned(),
        ..Default::default()
    };
    prepaid_persistence::Database::open_beside(&settings.database().unwrap()).unwrap()
}

/// `PREPAID_TEST_DATABASE_URL`, or `None` after saying that the PostgreSQL test `what` was
/// skipped (with `CI=true` an unset URL fails the test instead).
pub fn postgres_url(what: &str) -> Option<String> {
    let url = std::env::var("PREPAID_TEST_DATABASE_URL").ok();
    if url.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs PREPAID_TEST_DATABASE_URL"
        );
        // Straight to the terminal, past the test harness's capture: a person reading the run
        // sees that this test did not run.
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!(
                "\n  SKIPPED PostgreSQL {what} test: PREPAID_TEST_DATABASE_URL is not set\n\n"
            ),
        );
    }
    url
}

/// Two release binaries on the PostgreSQL database `url`, sharing one data folder (the sandbox
/// keys) under `root`, with their logs in `postgres.log`.
pub fn start_two_on_postgres(root: &Path, url: &str) -> (Service, Service) {
    let data_dir = root.join("data");
    let log = root.join("postgres.log");
    let environment = [("PREPAID_DATABASE_URL", url)];
    let first = start_with(&data_dir, &log, &environment);
    wait_ready(&first);
    let second = start_with(&data_dir, &log, &environment);
    (first, second)
}

/// Two binaries on PostgreSQL with the sandbox's credentials, the database, and a fresh
/// active member of the sandbox project (id `member_base` plus this process's id).
pub struct TwoOnPostgres {
    pub first: Service,
    pub second: Service,
    pub credentials: ClientCredentials,
    pub db: prepaid_persistence::Database,
    pub member: prepaid_domain::MemberId,
    /// The temporary folder of both (the data folder is in it): kept alive with the binaries.
    pub root: tempfile::TempDir,
}

/// [`TwoOnPostgres`] for the PostgreSQL test `what`, or `None` when it is skipped.
pub async fn two_on_postgres(what: &str, member_base: u64) -> Option<TwoOnPostgres> {
    let url = postgres_url(what)?;
    let root = tempfile::tempdir().unwrap();
    let (first, second) = start_two_on_postgres(root.path(), &url);
    let credentials = credentials(&root.path().join("data"));
    let db = postgres(&url);
    let member = active_member(
        &db,
        &credentials.asp_id,
        member_base + u64::from(std::process::id()),
    )
    .await;
    Some(TwoOnPostgres {
        first,
        second,
        credentials,
        db,
        member,
        root,
    })
}

/// The PostgreSQL database at `url`.
pub fn postgres(url: &str) -> prepaid_persistence::Database {
    let settings = prepaid_bootstrap::config::Settings {
        database_url: Some(url.to_owned()),
        ..Default::default()
    };
    prepaid_persistence::Database::open_beside(&settings.database().unwrap()).unwrap()
}

/// Saves member `id` of project `asp_id` as active in `db`.
pub async fn active_member(
    db: &prepaid_persistence::Database,
    asp_id: &str,
    id: u64,
) -> prepaid_domain::MemberId {
    let member = prepaid_domain::MemberId::new(id).unwrap();
    db.save_member(
        &prepaid_domain::AspId::parse(asp_id).unwrap(),
        prepaid_domain::Member {
            id: member,
            status: prepaid_domain::MemberStatus::Active,
        },
        SystemClock.now(),
    )
    .await
    .unwrap();
    member
}

/// The admin command run on `data_dir` with `env` (the database URL, say).
fn run_admin(data_dir: &Path, env: &[(&str, &str)], arguments: &[&str]) -> std::process::Output {
    std::process::Command::new(binary())
        .arg("admin")
        .args(arguments)
        .env("PREPAID_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Runs the admin command on `data_dir` with `env` (the database URL, say); its output.
pub fn admin(data_dir: &Path, env: &[(&str, &str)], arguments: &[&str]) -> String {
    let output = run_admin(data_dir, env, arguments);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// What the admin command said when it refused (it must refuse).
pub fn admin_refused(data_dir: &Path, env: &[(&str, &str)], arguments: &[&str]) -> String {
    let output = run_admin(data_dir, env, arguments);
    assert!(
        !output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr).unwrap()
}

/// A new project made with the admin command, its access key then set to `state` if given.
pub fn create_project(
    data_dir: &Path,
    env: &[(&str, &str)],
    root: &Path,
    name: &str,
    state: Option<&str>,
) -> ClientCredentials {
    let path = root.join(format!("{name}.json"));
    admin(
        data_dir,
        env,
        &[
            "create-project",
            "--output",
            path.to_str().unwrap(),
            "--allow-plaintext",
        ],
    );
    let credentials: ClientCredentials =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    if let Some(state) = state {
        admin(
            data_dir,
            env,
            &[
                "set-key-state",
                "--access-key",
                &credentials.access_key,
                "--state",
                state,
            ],
        );
    }
    credentials
}
