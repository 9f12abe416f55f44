//! Reliability and security proof against the real binary over HTTP: retries and
//! concurrency, crashes with SIGKILL, an attack matrix, and card data at rest and in logs.
//! `.ci/run` points `PREPAID_BINARY` at the release build; the longer versions are in
//! `docs/RELIABILITY.md`.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use prepaid_application::ports::{Clock as _, JweProfile};
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::{SystemClock, generate_rsa_pem};
use prepaid_domain::MemberId;
use prepaid_tools::client;
use prepaid_tools::jwe::encrypt_to;
use serde_json::{Value, json};
use support::{credentials, database, pan_like_runs, post_signed, start, terminate};

/// How many crash rounds (`PREPAID_CRASH_ROUNDS` for the longer run).
fn crash_rounds() -> usize {
    std::env::var("PREPAID_CRASH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20)
}

async fn fresh_member(data_dir: &Path, id: u64) -> MemberId {
    support::active_member(&database(data_dir), &credentials(data_dir).asp_id, id).await
}

/// A mobile-card application; `nonce` is an unknown member (ignored by the service, D2) that
/// makes each body, and so each tran token, distinct without changing the payload.
fn mobile_body(member: MemberId, service: &str, nonce: usize) -> Vec<u8> {
    json!({"userInfo": {"userId": member.get()}, "serviceId": service, "isDeliveryRequired": false, "clientNonce": nonce})
        .to_string()
        .into_bytes()
}

#[actix_web::test]
async fn sixty_four_concurrent_retries_issue_one_card_and_a_changed_payload_issues_none() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "retries.log");
    let credentials = credentials(&data_dir);
    let member = fresh_member(&data_dir, 7_000_001).await;
    let correlation_id = client::new_correlation_id(SystemClock.now());

    let send_all = |service_id: &'static str| {
        let tasks: Vec<_> = (0..64)
            .map(|index| {
                let (credentials, base_url, correlation_id) = (
                    credentials.clone(),
                    service.base_url.clone(),
                    correlation_id.clone(),
                );
                actix_web::rt::spawn(async move {
                    post_signed(
                        &credentials,
                        &base_url,
                        &mobile_body(member, service_id, index),
                        &correlation_id,
                        0,
                        &[],
                    )
                    .await
                })
            })
            .collect::<Vec<_>>();
        async move {
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.unwrap());
            }
            answers
        }
    };

    let answers = send_all(sandbox::MOBILE_PRODUCT).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{:?}",
        answers.iter().find(|(status, _)| *status != 200)
    );
    let first = &answers[0].1;
    for (_, body) in &answers {
        for field in [
            "cardApplyNo",
            "mobileCardNo",
            "mobileCardPar",
            "mobileCardCVC",
        ] {
            assert_eq!(body[field], first[field], "{field}");
        }
    }
    let counts = database(&data_dir).count_issued_to(member).await.unwrap();
    assert_eq!(
        (
            counts.applications,
            counts.cards,
            counts.idempotency_records
        ),
        (1, 1, 1)
    );

    let changed = send_all(sandbox::GIFTABLE_PRODUCT).await;
    assert!(
        changed
            .iter()
            .all(|(status, body)| *status == 400 && body["response"]["code"] == "000_094")
    );
    assert_eq!(
        database(&data_dir).count_issued_to(member).await.unwrap(),
        counts,
        "nothing issued"
    );
    assert!(terminate(&mut service).success());
}

#[actix_web::test]
async fn thousands_of_distinct_issuances_are_unique_and_every_200_is_a_row() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "distinct.log");
    let credentials = credentials(&data_dir);
    let member = fresh_member(&data_dir, 7_000_002).await;
    let total = 2_000;
    let in_flight = 64;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (credentials, base_url, next) =
                (credentials.clone(), service.base_url.clone(), next.clone());
            actix_web::rt::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= total {
                        return answers;
                    }
                    let correlation_id = client::new_correlation_id(SystemClock.now());
                    answers.push(
                        post_signed(
                            &credentials,
                            &base_url,
                            &mobile_body(member, sandbox::MOBILE_PRODUCT, index),
                            &correlation_id,
                            0,
                            &[],
                        )
                        .await,
                    );
                }
            })
        })
        .collect();
    let mut numbers = HashSet::new();
    let mut pans = HashSet::new();
    let mut pars = HashSet::new();
    let mut successes = 0;
    for worker in workers {
        for (status, body) in worker.await.unwrap() {
            assert_eq!(status, 200, "{body}");
            successes += 1;
            assert!(numbers.insert(body["cardApplyNo"].as_str().unwrap().to_owned()));
            assert!(pans.insert(body["mobileCardNo"].as_str().unwrap().to_owned()));
            assert!(pars.insert(body["mobileCardPar"].as_str().unwrap().to_owned()));
        }
    }
    let counts = database(&data_dir).count_issued_to(member).await.unwrap();
    assert_eq!(successes, total);
    assert_eq!(
        (counts.applications, counts.cards),
        (i64::try_from(total).unwrap(), i64::try_from(total).unwrap())
    );
    assert!(terminate(&mut service).success());
}

/// One acknowledged issuance: what was sent and what was answered.
struct Acknowledged {
    correlation_id: String,
    body: Vec<u8>,
    answer: Value,
}

#[actix_web::test]
async fn killed_at_random_moments_it_loses_nothing_acknowledged_and_writes_nothing_half() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let log = root.path().join("crash.log");
    let mut acknowledged: Vec<Acknowledged> = Vec::new();
    let mut member = None;
    let rounds = crash_rounds();
    let started = SystemClock.now();
    for round in 0..rounds {
        let mut service = support::start_with(&data_dir, &log, &[]);
        let credentials = credentials(&data_dir);
        let member = match member {
            Some(member) => member,
            None => *member.insert(fresh_member(&data_dir, 7_000_003).await),
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers: Vec<_> = (0..16)
            .map(|worker| {
                let (credentials, base_url, stop) =
                    (credentials.clone(), service.base_url.clone(), stop.clone());
                actix_web::rt::spawn(async move {
                    let mut done = Vec::new();
                    let mut index = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        index += 1;
                        let correlation_id = client::new_correlation_id(SystemClock.now());
                        let body = mobile_body(
                            member,
                            sandbox::MOBILE_PRODUCT,
                            round * 1_000_000 + worker * 10_000 + index,
                        );
                        match try_post(&credentials, &base_url, &body, &correlation_id).await {
                            Some((200, answer)) => done.push(Acknowledged {
                                correlation_id,
                                body,
                                answer,
                            }),
                            Some((status, answer)) => panic!("{status} {answer}"),
                            // The process died mid-request: not acknowledged, may or may not exist.
                            None => {}
                        }
                    }
                    done
                })
            })
            .collect();
        // Kill at a pseudo-random moment between 50 and 400 ms into the load.
        let delay = 50 + (SystemClock.now().as_millis().unsigned_abs() % 350);
        actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
        support::signal(&service, "KILL");
        let _ = service.child.wait();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for worker in workers {
            acknowledged.extend(worker.await.unwrap());
        }
    }
    assert!(
        acknowledged.len() > rounds,
        "load ran between the crashes: {}",
        acknowledged.len()
    );

    // Afterwards: sound, nothing half-written, every acknowledged issuance there exactly once.
    let db = database(&data_dir);
    assert_eq!(db.integrity_check().await.unwrap(), "ok");
    assert_eq!(
        db.orphan_counts(started).await.unwrap(),
        (0, 0, 0),
        "card without application, application without claim, delivery without application"
    );
    let member = member.unwrap();
    let counts = db.count_issued_to(member).await.unwrap();
    assert!(counts.applications >= i64::try_from(acknowledged.len()).unwrap());
    assert_eq!(counts.applications, counts.cards);
    assert_eq!(counts.applications, counts.idempotency_records);
    eprintln!(
        "crash test: {rounds} SIGKILLs, {} acknowledged issuances, {} applications in the database",
        acknowledged.len(),
        counts.applications
    );

    // A retry of each acknowledged request answers the original outcome.
    let mut service = support::start_with(&data_dir, &log, &[]);
    let credentials = credentials(&data_dir);
    let numbers: HashSet<&str> = acknowledged
        .iter()
        .map(|ack| ack.answer["cardApplyNo"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), acknowledged.len(), "each acknowledged once");
    for (index, ack) in acknowledged.iter().enumerate() {
        let (status, again) = post_signed(
            &credentials,
            &service.base_url,
            &ack.body,
            &ack.correlation_id,
            i64::try_from(index % 1000).unwrap() + 1,
            &[],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(again, ack.answer, "the retry answers the first outcome");
    }
    assert!(terminate(&mut service).success());
}

/// One attack: label, headers, body, expected status and code.
type AttackCase = (
    &'static str,
    Vec<(String, String)>,
    Vec<u8>,
    u16,
    &'static str,
);

/// A POST that may meet a dying process: `None` when no answer came.
async fn try_post(
    credentials: &ClientCredentials,
    base_url: &str,
    body: &[u8],
    correlation_id: &str,
) -> Option<(u16, Value)> {
    let headers =
        client::signed_headers(credentials, body, SystemClock.now(), correlation_id, false)
            .unwrap();
    let mut request = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish()
        .post(format!("{base_url}{}", prepaid_http::ISSUE_DELIVERY_PATH));
    for (name, value) in headers {
        request = request.insert_header((name, value));
    }
    let mut response = request.send_body(body.to_vec()).await.ok()?;
    let status = response.status().as_u16();
    let bytes = response.body().limit(1 << 20).await.ok()?;
    Some((status, serde_json::from_slice(&bytes).ok()?))
}

/// Sends `body` with the given header changes and a token from `sign` (or a computed one).
async fn raw(base_url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
    let mut request =
        awc::Client::default().post(format!("{base_url}{}", prepaid_http::ISSUE_DELIVERY_PATH));
    for (name, value) in headers {
        request = request.insert_header((name.as_str(), value.as_str()));
    }
    let mut response = request.send_body(body).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.body().limit(1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn headers_for(credentials: &ClientCredentials, body: &[u8], millis: i64) -> Vec<(String, String)> {
    let now = SystemClock.now().plus_millis(millis);
    client::signed_headers(
        credentials,
        body,
        now,
        &client::new_correlation_id(now),
        false,
    )
    .unwrap()
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

fn replace(headers: &mut [(String, String)], name: &str, value: &str) {
    for header in headers.iter_mut() {
        if header.0 == name {
            value.clone_into(&mut header.1);
        }
    }
}

#[actix_web::test]
async fn the_attack_matrix_is_refused_and_issues_nothing_and_no_card_data_leaks() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    // Provision the sandbox, a second project, and keys in every state, then start.
    let mut service = start(&data_dir, "attacks.log");
    assert!(terminate(&mut service).success());
    let other = support::create_project(&data_dir, &[], root.path(), "other", None);
    let inactive =
        support::create_project(&data_dir, &[], root.path(), "inactive", Some("INACTIVE"));
    let discarded =
        support::create_project(&data_dir, &[], root.path(), "discarded", Some("DISCARDED"));
    let mut service = start(&data_dir, "attacks.log");
    let sandbox_credentials = credentials(&data_dir);
    let base = service.base_url.clone();
    let member = fresh_member(&data_dir, 7_000_004).await;
    let body = mobile_body(member, sandbox::MOBILE_PRODUCT, 0);
    let before = database(&data_dir).count_issued_to(member).await.unwrap();

    let mut cases: Vec<AttackCase> = Vec::new();
    let mut wrong_secret = sandbox_credentials.clone();
    wrong_secret.secret_key = "0000000000111111111122222222223333333333".into();
    cases.push((
        "wrong secret",
        headers_for(&wrong_secret, &body, 0),
        body.clone(),
        401,
        "000_091",
    ));
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    cases.push((
        "body tampered after signing",
        headers_for(&sandbox_credentials, &body, 1),
        tampered,
        401,
        "000_091",
    ));
    cases.push((
        "time 10 minutes in the past",
        headers_for(&sandbox_credentials, &body, -600_000),
        body.clone(),
        401,
        "000_092",
    ));
    cases.push((
        "time 10 minutes in the future",
        headers_for(&sandbox_credentials, &body, 600_000),
        body.clone(),
        401,
        "000_092",
    ));
    let mut foreign = headers_for(&sandbox_credentials, &body, 2);
    replace(&mut foreign, "X-KM-Access-Key", &other.access_key);
    cases.push((
        "access key of another ASP",
        foreign,
        body.clone(),
        401,
        "000_090",
    ));
    cases.push((
        "inactive key",
        headers_for(&inactive, &body, 3),
        body.clone(),
        401,
        "000_090",
    ));
    cases.push((
        "discarded key",
        headers_for(&discarded, &body, 4),
        body.clone(),
        401,
        "000_090",
    ));

    // Encrypted bodies.
    let plaintext = String::from_utf8(body.clone()).unwrap();
    let good_jwe = encrypt_to(
        &sandbox_credentials.server_public_key_pem,
        plaintext.as_bytes(),
        JweProfile::DEFAULT,
    )
    .unwrap();
    let encrypted = |compact: &str, key_id: &str, millis: i64| {
        let envelope = json!({"encData": compact}).to_string().into_bytes();
        let mut headers = headers_for(&sandbox_credentials, &envelope, millis);
        headers.push(("X-KM-Crypto-Key-Id".into(), key_id.into()));
        (headers, envelope)
    };
    let (headers, envelope) = encrypted(&good_jwe, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", 5);
    cases.push(("unknown crypto key id", headers, envelope, 400, "000_002"));
    // Another project's crypto key, loaded by the service, with a body encrypted to it.
    let to_other = encrypt_to(
        &other.server_public_key_pem,
        plaintext.as_bytes(),
        JweProfile::DEFAULT,
    )
    .unwrap();
    let (headers, envelope) = encrypted(&to_other, &other.crypto_key_id, 15);
    cases.push((
        "crypto key id of another project",
        headers,
        envelope,
        400,
        "000_002",
    ));
    let (_, stranger_public) = generate_rsa_pem(2048).unwrap();
    let foreign_jwe =
        encrypt_to(&stranger_public, plaintext.as_bytes(), JweProfile::DEFAULT).unwrap();
    let (headers, envelope) = encrypted(&foreign_jwe, &sandbox_credentials.crypto_key_id, 6);
    cases.push((
        "JWE encrypted to another key",
        headers,
        envelope,
        400,
        "000_095",
    ));
    let parts: Vec<&str> = good_jwe.split('.').collect();
    let flip = |part: &str| {
        let mut chars: Vec<char> = part.chars().collect();
        chars[2] = if chars[2] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let tampered_ciphertext = format!(
        "{}.{}.{}.{}.{}",
        parts[0],
        parts[1],
        parts[2],
        flip(parts[3]),
        parts[4]
    );
    let (headers, envelope) =
        encrypted(&tampered_ciphertext, &sandbox_credentials.crypto_key_id, 7);
    cases.push(("tampered JWE ciphertext", headers, envelope, 400, "000_095"));
    let tampered_tag = format!(
        "{}.{}.{}.{}.{}",
        parts[0],
        parts[1],
        parts[2],
        parts[3],
        flip(parts[4])
    );
    let (headers, envelope) = encrypted(&tampered_tag, &sandbox_credentials.crypto_key_id, 8);
    cases.push(("tampered JWE tag", headers, envelope, 400, "000_095"));
    // The genuine tag cut to its first byte: AES-GCM alone would check just that byte.
    let short_tag = {
        use base64::Engine as _;
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[4])
            .unwrap();
        let first = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..1]);
        format!(
            "{}.{}.{}.{}.{first}",
            parts[0], parts[1], parts[2], parts[3]
        )
    };
    let (headers, envelope) = encrypted(&short_tag, &sandbox_credentials.crypto_key_id, 14);
    cases.push(("JWE tag cut to one byte", headers, envelope, 400, "000_095"));
    for (label, header) in [
        ("alg none", r#"{"alg":"none","enc":"A256GCM"}"#),
        ("alg dir", r#"{"alg":"dir","enc":"A256GCM"}"#),
    ] {
        use base64::Engine as _;
        let forged = format!(
            "{}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header),
            parts[1..].join(".")
        );
        let (headers, envelope) = encrypted(&forged, &sandbox_credentials.crypto_key_id, 9);
        cases.push((label, headers, envelope, 400, "000_095"));
    }

    // Hostile bodies.
    let oversized = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024)).into_bytes();
    cases.push((
        "oversized body",
        headers_for(&sandbox_credentials, &oversized, 10),
        oversized,
        413,
        "000_096",
    ));
    let nested = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000)).into_bytes();
    cases.push((
        "deeply nested JSON",
        headers_for(&sandbox_credentials, &nested, 11),
        nested,
        400,
        "000_002",
    ));
    let huge = format!(
        "{{\"userInfo\":{{\"userId\":{}}},\"serviceId\":\"{}\",\"isDeliveryRequired\":false}}",
        "9".repeat(40),
        sandbox::MOBILE_PRODUCT
    )
    .into_bytes();
    cases.push((
        "number beyond u64",
        headers_for(&sandbox_credentials, &huge, 12),
        huge,
        400,
        "000_002",
    ));
    let mut invalid_utf8 = body.clone();
    invalid_utf8.splice(2..2, [0xff, 0xfe]);
    cases.push((
        "invalid UTF-8",
        headers_for(&sandbox_credentials, &invalid_utf8, 13),
        invalid_utf8,
        400,
        "000_002",
    ));

    for (label, headers, body, status, code) in cases {
        let (actual, answer) = raw(&base, &headers, body).await;
        assert_eq!(
            (
                actual,
                answer["response"]["code"].as_str().unwrap_or_default()
            ),
            (status, code),
            "{label}: {answer}"
        );
    }

    // A captured request: sent again as it was, it is its own retry (the first outcome); with
    // another correlation id it is a replay (bootstrap/tests/replay.rs moves its time too).
    let headers = headers_for(&sandbox_credentials, &body, 20);
    let (status, genuine) = raw(&base, &headers, body.clone()).await;
    assert_eq!(status, 200);
    let (status, answer) = raw(&base, &headers, body.clone()).await;
    assert_eq!(
        (status, &answer["cardApplyNo"]),
        (200, &genuine["cardApplyNo"])
    );
    let mut replayed = headers.clone();
    replace(
        &mut replayed,
        "X-KM-Correlation-Id",
        &client::new_correlation_id(SystemClock.now()),
    );
    let (status, answer) = raw(&base, &replayed, body.clone()).await;
    assert_eq!(
        (status, answer["response"]["code"].as_str().unwrap()),
        (401, "000_093")
    );

    let after = database(&data_dir).count_issued_to(member).await.unwrap();
    assert_eq!(
        after.applications,
        before.applications + 1,
        "only the one genuine request issued a card"
    );
    assert!(terminate(&mut service).success());

    // Card data at rest and in logs: no PAN-like number, no issued CVC value, no secret key.
    let db = database(&data_dir);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("prepaid.sqlite3")
        {
            files.extend(std::fs::read(path).unwrap());
        }
    }
    assert_eq!(
        pan_like_runs(&files),
        Vec::<String>::new(),
        "PAN-like numbers in the database files"
    );
    let logs = std::fs::read(root.path().join("attacks.log")).unwrap();
    assert_eq!(
        pan_like_runs(&logs),
        Vec::<String>::new(),
        "PAN-like numbers in the logs"
    );
    let logs = String::from_utf8_lossy(&logs);
    for secret in [
        &sandbox_credentials.secret_key,
        &other.secret_key,
        &wrong_secret.secret_key,
    ] {
        assert!(!logs.contains(secret.as_str()), "a secret key in the logs");
        assert!(
            !files
                .windows(secret.len())
                .any(|window| window == secret.as_bytes()),
            "a secret key stored in clear"
        );
    }
    assert!(
        logs.contains("authentication failed"),
        "the audit lines were captured"
    );
    let cvc = genuine["mobileCardCVC"].as_str().unwrap();
    let pan = genuine["mobileCardNo"].as_str().unwrap();
    assert_eq!(
        db.count_text_cells_equal_to(cvc).await.unwrap(),
        0,
        "the CVC stored as a value"
    );
    assert_eq!(
        db.count_text_cells_equal_to(pan).await.unwrap(),
        0,
        "the PAN stored as a value"
    );
    assert!(
        !logs.contains(&format!("\"{cvc}\"")),
        "the CVC quoted in the logs"
    );
}

/// The retries and distinct-issuance tests with two release binaries sharing one PostgreSQL
/// database (and one data folder for the sandbox keys).
#[actix_web::test]
async fn two_binaries_on_postgresql_issue_one_card_per_correlation_id_and_unique_numbers() {
    let Some(support::TwoOnPostgres {
        mut first,
        mut second,
        credentials,
        db,
        member,
        root: _root,
    }) = support::two_on_postgres("reliability", 8_000_000).await
    else {
        return;
    };
    let urls = [first.base_url.clone(), second.base_url.clone()];

    let correlation_id = client::new_correlation_id(SystemClock.now());
    let tasks: Vec<_> = (0..64)
        .map(|index| {
            let (credentials, url, correlation_id) = (
                credentials.clone(),
                urls[index % 2].clone(),
                correlation_id.clone(),
            );
            actix_web::rt::spawn(async move {
                post_signed(
                    &credentials,
                    &url,
                    &mobile_body(member, sandbox::MOBILE_PRODUCT, index),
                    &correlation_id,
                    0,
                    &[],
                )
                .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    assert!(answers.iter().all(|(status, body)| *status == 200
        && body["cardApplyNo"] == answers[0].1["cardApplyNo"]
        && body["mobileCardCVC"] == answers[0].1["mobileCardCVC"]));
    let counts = db.count_issued_to(member).await.unwrap();
    assert_eq!((counts.applications, counts.cards), (1, 1));

    let tasks: Vec<_> = (0..1_000)
        .map(|index| {
            let (credentials, url) = (credentials.clone(), urls[index % 2].clone());
            actix_web::rt::spawn(async move {
                let correlation_id = client::new_correlation_id(SystemClock.now());
                post_signed(
                    &credentials,
                    &url,
                    &mobile_body(member, sandbox::MOBILE_PRODUCT, 1_000 + index),
                    &correlation_id,
                    0,
                    &[],
                )
                .await
            })
        })
        .collect();
    let mut numbers = HashSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(numbers.insert(body["cardApplyNo"].as_str().unwrap().to_owned()));
    }
    assert_eq!(
        db.count_issued_to(member).await.unwrap().applications,
        1_001
    );
    assert!(terminate(&mut first).success());
    assert!(terminate(&mut second).success());
}

/// The one answer that is not a D1 envelope (docs/API.md, "Answers without an envelope"): a
/// header with a NUL or another control byte is refused by the HTTP parser before any code of
/// ours runs, with a bare 400. This pins it, so that a framework change that lets us answer it
/// (or lets it through) is seen.
#[actix_web::test]
async fn a_control_byte_in_a_header_is_refused_by_the_http_parser_with_a_bare_400() {
    use std::io::{Read as _, Write as _};
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "control.log");
    let address = service.base_url.trim_start_matches("http://").to_owned();
    for byte in [0x00_u8, 0x01, 0x1b, 0x7f] {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: x\r\nX-KM-User-AspId: ASP",
            prepaid_http::ISSUE_DELIVERY_PATH
        )
        .into_bytes();
        request.push(byte);
        request.extend_from_slice(b"X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        stream.write_all(&request).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{byte:#04x}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("content-length: 0"),
            "{byte:#04x}: {answer}"
        );
    }
    assert!(terminate(&mut service).success());
}
