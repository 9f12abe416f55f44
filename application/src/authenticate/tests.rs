//! Every branch of authentication, through mocked ports.

use prepaid_domain::{DateTime, SecretKey, Timestamp};

use super::*;
use crate::ports::{
    AccessKeyState, MockClock, MockProjectDirectory, MockReplayGuard, MockTranTokenSigner,
    ProjectAccessKey,
};

const ASP: &str = "ASP000000000001";
const SIGNATURE: &str = "uLD+mU8mz9K95neGiSJTSsF3zzAQJglCggZAOSs5Fkg";

fn access_key(seed: char) -> AccessKey {
    AccessKey::parse(&seed.to_string().repeat(40)).unwrap()
}

fn project() -> Project {
    let key = |seed, state| ProjectAccessKey {
        access_key: access_key(seed),
        secret_key: SecretKey::parse(&format!("secret-{seed}-0123456789012345678901234567"))
            .unwrap(),
        state,
    };
    Project {
        asp_id: AspId::parse(ASP).unwrap(),
        access_keys: vec![
            key('a', AccessKeyState::Active),
            key('i', AccessKeyState::Inactive),
            key('d', AccessKeyState::Discarded),
        ],
        crypto_keys: vec![],
        plaintext_allowed: true,
    }
}

/// 2026-11-25 15:30:00.000 in Seoul.
fn sent_kst() -> DateTime {
    DateTime::with_millis(2026, 11, 25, 15, 30, 0, 123).unwrap()
}

struct Fixture {
    projects: MockProjectDirectory,
    replay: MockReplayGuard,
    signer: MockTranTokenSigner,
    now: Timestamp,
}

impl Fixture {
    fn new() -> Self {
        let mut projects = MockProjectDirectory::new();
        projects
            .expect_find()
            .returning(|asp| Ok((asp.as_str() == ASP).then(project)));
        let mut replay = MockReplayGuard::new();
        replay.expect_bind().returning(|_, _, _, _| Ok(true));
        let mut signer = MockTranTokenSigner::new();
        signer
            .expect_verify()
            .returning(|_, body, signature| signature == SIGNATURE && body == b"{}");
        Self {
            projects,
            replay,
            signer,
            now: sent_kst().in_zone(TimeZone::Kst),
        }
    }

    fn authenticator(self) -> Authenticator {
        let mut clock = MockClock::new();
        let now = self.now;
        clock.expect_now().returning(move || now);
        Authenticator::new(
            Arc::new(self.projects),
            Arc::new(self.replay),
            Arc::new(self.signer),
            Arc::new(clock),
            RequestWindow::DEFAULT,
        )
    }
}

const CORRELATION: &str = "261125153000-00a1b2f";

async fn attempt(
    authenticator: &Authenticator,
    asp: &str,
    key: char,
    token_time: DateTime,
    tran_time: &str,
    zone: TimeZone,
    body: &[u8],
) -> Result<Project, AuthError> {
    let asp = AspId::parse(asp).unwrap();
    let key = access_key(key);
    let token = TranToken::parse(&TranToken::compose(token_time, SIGNATURE)).unwrap();
    let correlation_id = CorrelationId::parse(CORRELATION).unwrap();
    authenticator
        .authenticate(Credentials {
            correlation_id: &correlation_id,
            asp_id: &asp,
            access_key: &key,
            token: &token,
            tran_time: TranTime::parse(tran_time).unwrap(),
            zone,
            body,
        })
        .await
}

#[tokio::test]
async fn a_well_signed_fresh_request_with_an_active_key_is_authenticated() {
    let authenticator = Fixture::new().authenticator();
    let project = attempt(
        &authenticator,
        ASP,
        'a',
        sent_kst(),
        "20261125153000",
        TimeZone::Kst,
        b"{}",
    )
    .await;
    assert_eq!(project.unwrap().asp_id.as_str(), ASP);
}

#[tokio::test]
async fn the_same_instant_written_in_utc_is_authenticated_too() {
    let authenticator = Fixture::new().authenticator();
    let utc = DateTime::with_millis(2026, 11, 25, 6, 30, 0, 123).unwrap();
    let result = attempt(
        &authenticator,
        ASP,
        'a',
        utc,
        "20261125063000",
        TimeZone::Utc,
        b"{}",
    )
    .await;
    assert!(result.is_ok());
}

#[tokio::test]
async fn an_unknown_asp_an_inactive_key_a_discarded_key_and_an_unknown_key_all_read_the_same() {
    let authenticator = Fixture::new().authenticator();
    for (asp, key) in [("ASP000000000009", 'a'), (ASP, 'i'), (ASP, 'd'), (ASP, 'z')] {
        let result = attempt(
            &authenticator,
            asp,
            key,
            sent_kst(),
            "20261125153000",
            TimeZone::Kst,
            b"{}",
        )
        .await;
        let error = result.unwrap_err();
        assert!(
            matches!(error, AuthError::UnknownCaller),
            "{asp} {key}: {error:?}"
        );
        assert_eq!(error.code().code(), "000_090");
    }
}

#[tokio::test]
async fn a_request_older_or_newer_than_five_minutes_is_refused() {
    for minutes in [-6_i64, 6] {
        let mut fixture = Fixture::new();
        fixture.now = fixture.now.plus_millis(-minutes * 60_000);
        let authenticator = fixture.authenticator();
        let result = attempt(
            &authenticator,
            ASP,
            'a',
            sent_kst(),
            "20261125153000",
            TimeZone::Kst,
            b"{}",
        )
        .await;
        assert!(
            matches!(result, Err(AuthError::OutOfWindow)),
            "{minutes} minutes"
        );
    }
}

#[tokio::test]
async fn kst_digits_sent_as_utc_are_nine_hours_off_and_refused() {
    let authenticator = Fixture::new().authenticator();
    let result = attempt(
        &authenticator,
        ASP,
        'a',
        sent_kst(),
        "20261125153000",
        TimeZone::Utc,
        b"{}",
    )
    .await;
    assert!(matches!(result, Err(AuthError::OutOfWindow)));
}

#[tokio::test]
async fn a_token_time_that_disagrees_with_tran_time_is_refused() {
    let authenticator = Fixture::new().authenticator();
    let result = attempt(
        &authenticator,
        ASP,
        'a',
        sent_kst(),
        "20261125153001",
        TimeZone::Kst,
        b"{}",
    )
    .await;
    assert!(matches!(result, Err(AuthError::OutOfWindow)));
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused_before_the_token_is_recorded() {
    let mut fixture = Fixture::new();
    fixture.replay = MockReplayGuard::new();
    fixture.replay.expect_bind().never();
    let authenticator = fixture.authenticator();
    let result = attempt(
        &authenticator,
        ASP,
        'a',
        sent_kst(),
        "20261125153000",
        TimeZone::Kst,
        b"{ }",
    )
    .await;
    let error = result.unwrap_err();
    assert!(matches!(error, AuthError::BadSignature));
    assert_eq!(error.code().code(), "000_091");
}

#[tokio::test]
async fn a_replayed_token_is_refused() {
    let mut fixture = Fixture::new();
    fixture.replay = MockReplayGuard::new();
    fixture
        .replay
        .expect_bind()
        .returning(|_, _, _, _| Ok(false));
    let authenticator = fixture.authenticator();
    let result = attempt(
        &authenticator,
        ASP,
        'a',
        sent_kst(),
        "20261125153000",
        TimeZone::Kst,
        b"{}",
    )
    .await;
    assert_eq!(result.unwrap_err().code().code(), "000_093");
}

#[tokio::test]
async fn a_failing_directory_is_a_system_error_not_an_authentication_failure() {
    let mut fixture = Fixture::new();
    fixture.projects = MockProjectDirectory::new();
    fixture
        .projects
        .expect_find()
        .returning(|_| Err(PortError::msg("down")));
    let authenticator = fixture.authenticator();
    let result = attempt(
        &authenticator,
        ASP,
        'a',
        sent_kst(),
        "20261125153000",
        TimeZone::Kst,
        b"{}",
    )
    .await;
    assert_eq!(result.unwrap_err().code().code(), "000_099");
}

#[tokio::test]
async fn the_signature_is_bound_to_the_correlation_id_whatever_the_token_time() {
    // Two token times a millisecond and a minute apart: one binding key, no time in it, and the
    // binding lasts the window (plus a second) past the later of the request time and now.
    for (offset, now_offset) in [(0_i64, 0_i64), (1, 0), (60_000, 0), (0, 90_000)] {
        let mut fixture = Fixture::new();
        fixture.now = fixture.now.plus_millis(now_offset);
        let sent = sent_kst().in_zone(TimeZone::Kst).plus_millis(offset);
        let expected_expiry = sent.max(fixture.now).plus_millis(301_000);
        fixture.replay = MockReplayGuard::new();
        fixture
            .replay
            .expect_bind()
            .withf(move |asp, token, correlation, expires| {
                asp.as_str() == ASP
                    && token == format!("{}:{SIGNATURE}", "a".repeat(40))
                    && correlation.as_str() == CORRELATION
                    && *expires == expected_expiry
            })
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let authenticator = fixture.authenticator();
        let token_time = sent.civil(TimeZone::Kst).unwrap();
        let result = attempt(
            &authenticator,
            ASP,
            'a',
            token_time,
            &token_time.to_digits17()[..14],
            TimeZone::Kst,
            b"{}",
        )
        .await;
        assert!(result.is_ok(), "offset {offset} ms, now +{now_offset} ms");
    }
}
