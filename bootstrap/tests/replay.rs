//! A captured request sent again, over HTTP against the real binary: the tran token signs the
//! body only, so an attacker can write any token time beside a captured signature. Sent again
//! with its own correlation id it is a retry (the first outcome, nothing new); with any other
//! correlation id it is a replay (`000_093`), whatever its time, before and after a restart,
//! and across two instances sharing PostgreSQL.

mod support;

use prepaid_application::ports::{Clock as _, JweProfile};
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_domain::{DateTime, MemberId, TimeZone, Timestamp, TranToken};
use prepaid_tools::client;
use prepaid_tools::jwe::{decrypt_with, encrypt_to};
use serde_json::{Value, json};
use support::{credentials, database, start, terminate};

/// A request as it went over the wire.
#[derive(Clone)]
struct Captured {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Captured {
    /// A request signed now, plaintext or encrypted to the server key.
    fn signed(credentials: &ClientCredentials, member: MemberId, encrypted: bool) -> Self {
        let plaintext = json!({
            "userInfo": {"userId": member.get()},
            "serviceId": sandbox::MOBILE_PRODUCT,
            "isDeliveryRequired": false,
        })
        .to_string();
        let body = if encrypted {
            let compact = encrypt_to(
                &credentials.server_public_key_pem,
                plaintext.as_bytes(),
                JweProfile::DEFAULT,
            )
            .unwrap();
            json!({ "encData": compact }).to_string()
        } else {
            plaintext
        };
        let now = SystemClock.now();
        let headers = client::signed_headers(
            credentials,
            body.as_bytes(),
            now,
            &client::new_correlation_id(now),
            encrypted,
        )
        .unwrap()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        Self {
            headers,
            body: body.into_bytes(),
        }
    }

    fn header(&self, name: &str) -> &str {
        &self.headers.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// The same request with its token time (and `X-KM-Tran-Time`) moved to `at`, and the
    /// correlation id replaced when one is given: the attacker's edit. The signature is the
    /// captured one.
    fn resent(&self, at: Timestamp, correlation_id: Option<&str>) -> Self {
        let token = self.header("X-KM-Tran-Token");
        let signature = token.rsplit(':').next().unwrap();
        let civil = at.civil(TimeZone::Kst).unwrap();
        let mut copy = self.clone();
        for (name, value) in &mut copy.headers {
            match name.as_str() {
                "X-KM-Tran-Token" => *value = TranToken::compose(civil, signature),
                "X-KM-Tran-Time" => *value = civil.to_digits14(),
                "X-KM-Correlation-Id" => {
                    if let Some(id) = correlation_id {
                        id.clone_into(value);
                    }
                }
                _ => {}
            }
        }
        copy
    }

    /// The captured token time.
    fn sent_at(&self) -> Timestamp {
        let token = self.header("X-KM-Tran-Token");
        DateTime::parse_digits(&token[5..22])
            .unwrap()
            .in_zone(TimeZone::Kst)
    }

    /// Sends it; the status and the answer (decrypted when it was encrypted).
    async fn send(&self, base_url: &str, credentials: &ClientCredentials) -> (u16, Value) {
        let mut request =
            awc::Client::default().post(format!("{base_url}{}", prepaid_http::ISSUE_DELIVERY_PATH));
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        let mut response = request.send_body(self.body.clone()).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.body().limit(1 << 20).await.unwrap();
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let answer = match json["encData"].as_str() {
            Some(compact) => serde_json::from_slice(
                &decrypt_with(&credentials.client_private_key_pem, compact).unwrap(),
            )
            .unwrap(),
            None => json,
        };
        (status, answer)
    }
}

fn code(answer: &Value) -> &str {
    answer["response"]["code"].as_str().unwrap_or_default()
}

/// Sends `captured` again with its time moved by 1 ms, by 1 s and to the far edge of the window
/// (as far ahead of now as the window admits): with its own correlation id each is answered
/// with `first` again; with a new one each is refused as a replay.
async fn resend_every_way(
    base_url: &str,
    credentials: &ClientCredentials,
    captured: &Captured,
    first: &Value,
) {
    let edge = SystemClock.now().plus_millis(299_000);
    for (label, at) in [
        ("1 ms later", captured.sent_at().plus_millis(1)),
        ("1 s later", captured.sent_at().plus_millis(1_000)),
        ("at the edge of the window", edge),
    ] {
        let (status, answer) = captured.resent(at, None).send(base_url, credentials).await;
        assert_eq!(
            (status, code(&answer)),
            (200, "000_000"),
            "{label}, own correlation id: {answer}"
        );
        assert_eq!(answer["cardApplyNo"], first["cardApplyNo"], "{label}");
        assert_eq!(answer["mobileCardNo"], first["mobileCardNo"], "{label}");

        let other = client::new_correlation_id(SystemClock.now());
        let (status, answer) = captured
            .resent(at, Some(&other))
            .send(base_url, credentials)
            .await;
        assert_eq!(
            (status, code(&answer)),
            (401, "000_093"),
            "{label}, new correlation id: {answer}"
        );
        assert!(answer.get("cardApplyNo").is_none());
    }
}

#[actix_web::test]
async fn a_captured_request_sent_again_is_its_own_retry_or_a_replay_before_and_after_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "replay.log");
    let credentials = credentials(&data_dir);
    let member = support::active_member(&database(&data_dir), &credentials.asp_id, 7_100_001).await;

    let mut captured = Vec::new();
    for encrypted in [false, true] {
        let request = Captured::signed(&credentials, member, encrypted);
        let (status, first) = request.send(&service.base_url, &credentials).await;
        assert_eq!((status, code(&first)), (200, "000_000"), "{first}");
        resend_every_way(&service.base_url, &credentials, &request, &first).await;
        captured.push((request, first));
    }
    let before = database(&data_dir).count_issued_to(member).await.unwrap();
    assert_eq!((before.applications, before.cards), (2, 2));

    // A restart: the bindings were written with the group commit and are read back.
    assert!(terminate(&mut service).success());
    let mut service = start(&data_dir, "replay.log");
    for (request, first) in &captured {
        resend_every_way(&service.base_url, &credentials, request, first).await;
    }
    let after = database(&data_dir).count_issued_to(member).await.unwrap();
    assert_eq!(after, before, "nothing new was issued");
    assert!(terminate(&mut service).success());
}

#[actix_web::test]
async fn a_request_captured_at_one_instance_is_a_replay_at_the_other_on_postgresql() {
    let Some(support::TwoOnPostgres {
        mut first,
        mut second,
        credentials,
        db,
        member,
        root: _root,
    }) = support::two_on_postgres("replay", 8_100_000).await
    else {
        return;
    };

    for encrypted in [false, true] {
        let request = Captured::signed(&credentials, member, encrypted);
        let (status, answer) = request.send(&first.base_url, &credentials).await;
        assert_eq!((status, code(&answer)), (200, "000_000"), "{answer}");
        resend_every_way(&second.base_url, &credentials, &request, &answer).await;
        resend_every_way(&first.base_url, &credentials, &request, &answer).await;
    }
    let counts = db.count_issued_to(member).await.unwrap();
    assert_eq!((counts.applications, counts.cards), (2, 2));
    assert!(terminate(&mut first).success());
    assert!(terminate(&mut second).success());
}
