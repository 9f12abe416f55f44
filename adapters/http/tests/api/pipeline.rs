//! The pipeline against mocks of the inbound ports alone: what it hands each use case, what it
//! never calls, and how it answers each outcome. No outbound port is faked here.

use std::sync::{Arc, Mutex};

use actix_web::App;
use actix_web::test::{self, TestRequest};
use prepaid_application::ports::{CryptoKeyRef, PortError, Project};
use prepaid_application::{
    AuthError, IssueCardError, IssueCardOutcome, MockAuthenticateRequests, MockCancelApplications,
    MockInquireDeliveries, MockInquireProducts, MockIssueCards, MockListPreIssuedCards,
    MockReadiness, MockRegisterPhysicalCards,
};
use prepaid_domain::{
    AspId, CardApplyNo, CryptoKeyId, DeliveryChoice, IssuanceRefusal, MemberId, ServiceId,
};
use prepaid_http::{ApiMetrics, HttpConfig, InboundPorts};

use crate::support::{
    ACTIVE_MEMBER, ASP, CRYPTO_KEY, Call, FakeCipher, MOBILE, NORMAL, delivery_body, mobile_body,
    send,
};

fn project() -> Project {
    Project {
        asp_id: AspId::parse(ASP).unwrap(),
        access_keys: Vec::new(),
        crypto_keys: vec![CryptoKeyRef {
            id: CryptoKeyId::parse(CRYPTO_KEY).unwrap(),
        }],
        plaintext_allowed: true,
    }
}

fn accepting() -> MockAuthenticateRequests {
    let mut authenticator = MockAuthenticateRequests::new();
    authenticator
        .expect_authenticate()
        .returning(|_| Ok(project()));
    authenticator
}

fn offering_everything() -> MockInquireProducts {
    let mut products = MockInquireProducts::new();
    products.expect_offers().returning(|_| Ok(true));
    products
}

fn ports(
    authenticator: MockAuthenticateRequests,
    issuance: MockIssueCards,
    products: MockInquireProducts,
    readiness: MockReadiness,
) -> InboundPorts {
    InboundPorts {
        authenticator: Arc::new(authenticator),
        issuance: Arc::new(issuance),
        products: Arc::new(products),
        // No delivery is asked about through the pipeline's tests: a call fails them.
        deliveries: Arc::new(MockInquireDeliveries::new()),
        cancels: Arc::new(MockCancelApplications::new()),
        pre_issued: Arc::new(MockListPreIssuedCards::new()),
        ops: crate::support::no_operators(),
        card_states: Arc::new(prepaid_application::MockChangeCardStates::new()),
        discards: Arc::new(prepaid_application::MockDiscardCards::new()),
        replacements: Arc::new(prepaid_application::MockReplaceCards::new()),
        look_ups: Arc::new(prepaid_application::MockLookUpCards::new()),
        members: Arc::new(prepaid_application::MockManageMembers::new()),
        cancellations: Arc::new(prepaid_application::MockCancelMemberships::new()),
        registrations: Arc::new(MockRegisterPhysicalCards::new()),
        readiness: Arc::new(readiness),
        cipher: Arc::new(FakeCipher::default()),
        metrics: ApiMetrics::new(),
    }
}

macro_rules! app {
    ($ports:expr) => {{
        let ports = $ports;
        test::init_service(
            App::new().configure(|config| {
                prepaid_http::configure(config, &ports, &HttpConfig::default())
            }),
        )
        .await
    }};
}

#[actix_web::test]
async fn the_use_case_gets_the_callers_asp_id_correlation_id_and_the_parsed_request() {
    let seen = Arc::new(Mutex::new(None));
    let noted = Arc::clone(&seen);
    let mut issuance = MockIssueCards::new();
    issuance
        .expect_issue_and_deliver()
        .times(1)
        .returning(move |command| {
            *noted.lock().unwrap() = Some(command);
            Ok(IssueCardOutcome {
                application_number: CardApplyNo::parse("2026112506300012345ABC").unwrap(),
                mobile_card: None,
                replayed: false,
            })
        });
    let app = app!(ports(
        accepting(),
        issuance,
        offering_everything(),
        MockReadiness::new()
    ));

    let answer = send(
        &app,
        Call::new(delivery_body(ACTIVE_MEMBER, NORMAL))
            .correlation("261125153000-00000b7")
            .request(),
    )
    .await;

    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.json["cardApplyNo"], "2026112506300012345ABC");
    assert!(answer.json.get("mobileCardNo").is_none());
    let command = seen.lock().unwrap().take().unwrap();
    assert_eq!(command.key.asp_id.as_str(), ASP);
    assert_eq!(command.key.correlation_id.as_str(), "261125153000-00000b7");
    assert_eq!(
        command.request.member,
        MemberId::new(ACTIVE_MEMBER).unwrap()
    );
    assert_eq!(
        command.request.service_id,
        ServiceId::parse(NORMAL).unwrap()
    );
    assert!(matches!(
        command.request.delivery,
        DeliveryChoice::Deliver(_)
    ));
}

#[actix_web::test]
async fn a_refused_caller_or_a_broken_body_never_reaches_the_use_case() {
    let mut refusing = MockAuthenticateRequests::new();
    refusing
        .expect_authenticate()
        .returning(|_| Err(AuthError::UnknownCaller));
    let mut issuance = MockIssueCards::new();
    issuance.expect_issue_and_deliver().never();
    let app = app!(ports(
        refusing,
        issuance,
        MockInquireProducts::new(),
        MockReadiness::new()
    ));
    let answer = send(
        &app,
        Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (401, "000_090"));

    let mut issuance = MockIssueCards::new();
    issuance.expect_issue_and_deliver().never();
    let mut products = MockInquireProducts::new();
    products.expect_offers().never();
    let app = app!(ports(accepting(), issuance, products, MockReadiness::new()));
    let answer = send(&app, Call::new(r#"{"userInfo":{}}"#).request()).await;
    assert_eq!(
        answer.description(),
        "Missing required values. userInfo.userId"
    );
}

#[actix_web::test]
async fn the_product_is_looked_up_only_when_a_field_after_it_is_refused() {
    let mut products = MockInquireProducts::new();
    products
        .expect_offers()
        .times(1)
        .returning(|id| Ok(id.as_str() != "999999999999999"));
    let mut issuance = MockIssueCards::new();
    issuance.expect_issue_and_deliver().never();
    let app = app!(ports(accepting(), issuance, products, MockReadiness::new()));

    let body =
        r#"{"userInfo":{"userId":1001},"serviceId":"999999999999999","isDeliveryRequired":"no"}"#;
    let answer = send(&app, Call::new(body).request()).await;

    assert_eq!(answer.description(), "Invalid input parameter. serviceId");
}

#[actix_web::test]
async fn a_catalogue_that_cannot_be_read_while_ordering_refusals_is_a_system_error() {
    let mut products = MockInquireProducts::new();
    products
        .expect_offers()
        .returning(|_| Err(PortError::msg("catalogue down")));
    let app = app!(ports(
        accepting(),
        MockIssueCards::new(),
        products,
        MockReadiness::new()
    ));
    let body = r#"{"userInfo":{"userId":1001},"serviceId":"000170000003000","isDeliveryRequired":false,"purpose":7}"#;
    let answer = send(
        &app,
        Call::new(body)
            .correlation("261125153000-00000c1")
            .request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (500, "000_099"));
    assert_eq!(
        answer.correlation_id.as_deref(),
        Some("261125153000-00000c1")
    );
}

#[actix_web::test]
async fn each_use_case_outcome_has_its_status_code_and_path() {
    let cases: [(IssueCardError, u16, &str, &str); 4] = [
        (
            IssuanceRefusal::NotAMember.into(),
            400,
            "001_006",
            "Wallet user not found.",
        ),
        (
            IssuanceRefusal::PurposeNotAllowed.into(),
            400,
            "000_002",
            "Invalid input parameter. purpose",
        ),
        (
            IssueCardError::CorrelationConflict,
            400,
            "000_094",
            "Correlation id was already used with a different request.",
        ),
        (
            IssueCardError::Unavailable(PortError::msg("store down")),
            500,
            "000_099",
            "Temporary system error. Retry with the same correlation id.",
        ),
    ];
    for (error, status, code, description) in cases {
        let error = Arc::new(Mutex::new(Some(error)));
        let mut issuance = MockIssueCards::new();
        issuance
            .expect_issue_and_deliver()
            .returning(move |_| Err(error.lock().unwrap().take().unwrap()));
        let app = app!(ports(
            accepting(),
            issuance,
            offering_everything(),
            MockReadiness::new()
        ));
        let answer = send(
            &app,
            Call::new(mobile_body(ACTIVE_MEMBER, MOBILE)).request(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (status, code, description)
        );
    }
}

#[actix_web::test]
async fn readiness_follows_its_port_and_health_needs_none() {
    let mut readiness = MockReadiness::new();
    readiness
        .expect_check_ready()
        .times(1)
        .returning(|| Err(PortError::msg("database down")));
    let app = app!(ports(
        accepting(),
        MockIssueCards::new(),
        MockInquireProducts::new(),
        readiness
    ));
    let ready = test::call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(ready.status(), 503);
    let health = test::call_service(&app, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(health.status(), 200);

    let mut readiness = MockReadiness::new();
    readiness.expect_check_ready().returning(|| Ok(()));
    let app = app!(ports(
        accepting(),
        MockIssueCards::new(),
        MockInquireProducts::new(),
        readiness
    ));
    let ready = test::call_service(&app, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(ready.status(), 200);
}

#[actix_web::test]
async fn metrics_show_the_card_numbers_left_that_the_use_case_reports() {
    let mut issuance = MockIssueCards::new();
    issuance
        .expect_card_numbers_left()
        .returning(|| vec![(prepaid_domain::Bin::parse("94351200").unwrap(), 9_999_000)]);
    let app = app!(ports(
        accepting(),
        issuance,
        MockInquireProducts::new(),
        MockReadiness::new()
    ));
    let response = test::call_service(&app, TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    assert!(
        text.contains("prepaid_card_numbers_left{bin=\"94351200\"} 9999000"),
        "{text}"
    );
}
