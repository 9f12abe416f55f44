//! "Physical Card Registration" through the pipeline: what the use case is handed, the
//! encrypted answer, each refusal's envelope; over the fakes, the declared refusals.

use std::sync::{Arc, Mutex};

use actix_web::App;
use actix_web::test;
use prepaid_application::ports::{CryptoKeyRef, Project};
use prepaid_application::{
    MockAuthenticateRequests, MockCancelApplications, MockInquireDeliveries, MockInquireProducts,
    MockIssueCards, MockListPreIssuedCards, MockReadiness, MockRegisterPhysicalCards,
    RegistrationError, RegistrationOutcome,
};
use prepaid_domain::{AspId, CryptoKeyId, ErrorCode, Pan, Par, RegistrationRefusal};
use prepaid_http::{ApiMetrics, HttpConfig, InboundPorts};
use serde_json::{Value, json};

use crate::support::{ASP, CRYPTO_KEY, Call, FakeCipher, send};

const MOBILE_PAN: &str = "9435120001234568";
const PAR: &str = "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q";

fn accepting() -> MockAuthenticateRequests {
    let mut authenticator = MockAuthenticateRequests::new();
    authenticator.expect_authenticate().returning(|_| {
        Ok(Project {
            asp_id: AspId::parse(ASP).unwrap(),
            access_keys: Vec::new(),
            crypto_keys: vec![CryptoKeyRef {
                id: CryptoKeyId::parse(CRYPTO_KEY).unwrap(),
            }],
            plaintext_allowed: true,
        })
    });
    authenticator
}

fn ports(registrations: MockRegisterPhysicalCards) -> InboundPorts {
    InboundPorts {
        authenticator: Arc::new(accepting()),
        issuance: Arc::new(MockIssueCards::new()),
        products: Arc::new(MockInquireProducts::new()),
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
        registrations: Arc::new(registrations),
        readiness: Arc::new(MockReadiness::new()),
        cipher: Arc::new(FakeCipher::default()),
        metrics: ApiMetrics::new(),
    }
}

macro_rules! app {
    ($ports:expr) => {{
        let ports = $ports;
        test::init_service(App::new().configure(|config| {
            prepaid_http::configure(config, &ports, &HttpConfig::default());
        }))
        .await
    }};
}

fn registration(body: &Value) -> Call {
    let mut call = Call::new(body.to_string()).correlation("261125153000-00000e1");
    prepaid_http::REGISTER_PHYSICAL_CARD_PATH.clone_into(&mut call.path);
    call
}

fn body() -> Value {
    json!({
        "userId": 1001,
        "cardApplyNo": "2611300300000000000001",
        "physicalCardNo": "9435129999999991",
        "physicalCardExpDate": "3111",
        "physicalCardCVC": "123",
    })
}

#[actix_web::test]
async fn the_use_case_gets_the_parsed_card_and_its_answer_is_encrypted_to_the_clients_key() {
    let seen = Arc::new(Mutex::new(None));
    let noted = Arc::clone(&seen);
    let mut registrations = MockRegisterPhysicalCards::new();
    registrations
        .expect_register()
        .times(2)
        .returning(move |command| {
            *noted.lock().unwrap() = Some(command.clone());
            Ok(RegistrationOutcome {
                mobile_card: Pan::parse(MOBILE_PAN).unwrap(),
                par: Par::parse(PAR).unwrap(),
                replayed: false,
            })
        });
    let app = app!(ports(registrations));

    let answer = send(&app, registration(&body()).request()).await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.json["mobileCardNo"], MOBILE_PAN);
    assert_eq!(answer.json["par"], PAR);
    let command = seen.lock().unwrap().take().unwrap();
    assert_eq!(command.key.asp_id.as_str(), ASP);
    assert_eq!(command.key.correlation_id.as_str(), "261125153000-00000e1");
    assert_eq!(command.member.get(), 1001);
    assert_eq!(
        command.application.map(|number| number.as_str().to_owned()),
        Some("2611300300000000000001".to_owned())
    );
    assert_eq!(command.pan.expose(), "9435129999999991");
    assert_eq!(command.expiry.to_yymm(), "3111");
    assert_eq!(command.cvc.expose(), "123");

    let mut unnamed = body();
    unnamed.as_object_mut().unwrap().remove("cardApplyNo");
    let answer = send(
        &app,
        registration(&unnamed)
            .correlation("261125153000-00000e2")
            .header("X-KM-Crypto-Key-Id", Some(CRYPTO_KEY))
            .request(),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(answer.json.get("mobileCardNo").is_none(), "{}", answer.json);
    let plain: Value = answer.decrypted();
    assert_eq!(plain["mobileCardNo"], MOBILE_PAN);
    assert!(seen.lock().unwrap().take().unwrap().application.is_none());
}

#[actix_web::test]
async fn each_refusal_of_the_use_case_is_its_code_in_the_envelope() {
    for (error, code) in [
        (RegistrationError::NotAMember, "001_006"),
        (
            RegistrationError::Refused(RegistrationRefusal {
                code: ErrorCode::InvalidCardInfo,
                wrong_attempts: Some(5),
            }),
            "003_001",
        ),
        (
            RegistrationError::Refused(RegistrationRefusal {
                code: ErrorCode::CardIssueNotReady,
                wrong_attempts: None,
            }),
            "003_012",
        ),
        (
            RegistrationError::Refused(RegistrationRefusal {
                code: ErrorCode::DigitalCardTerminated,
                wrong_attempts: None,
            }),
            "003_014",
        ),
        (RegistrationError::CorrelationConflict, "000_094"),
    ] {
        let answer_with = Mutex::new(Some(error));
        let mut registrations = MockRegisterPhysicalCards::new();
        registrations
            .expect_register()
            .returning(move |_| Err(answer_with.lock().unwrap().take().unwrap()));
        let app = app!(ports(registrations));
        let answer = send(&app, registration(&body()).request()).await;
        assert_eq!(answer.code(), code, "{}", answer.json);
        assert!(answer.json.get("mobileCardNo").is_none());
    }
}

#[actix_web::test]
async fn a_malformed_card_never_reaches_the_use_case() {
    for (member, value, code) in [
        ("physicalCardNo", json!("9435129999999990"), "000_002"),
        ("physicalCardNo", json!("943512999999999"), "000_015"),
        ("physicalCardExpDate", json!("3100"), "000_002"),
        ("physicalCardCVC", json!("12a"), "000_002"),
        ("physicalCardCVC", json!("1234"), "000_015"),
        ("cardApplyNo", json!("2611300300000000000001X"), "000_015"),
    ] {
        let app = app!(ports(MockRegisterPhysicalCards::new()));
        let mut sent = body();
        sent[member] = value;
        let answer = send(&app, registration(&sent).request()).await;
        assert_eq!(answer.code(), code, "{member}: {}", answer.json);
        assert!(
            answer.description().ends_with(member),
            "{}",
            answer.description()
        );
    }
    for missing in [
        "userId",
        "physicalCardNo",
        "physicalCardExpDate",
        "physicalCardCVC",
    ] {
        let app = app!(ports(MockRegisterPhysicalCards::new()));
        let mut sent = body();
        sent.as_object_mut().unwrap().remove(missing);
        let answer = send(&app, registration(&sent).request()).await;
        assert_eq!(answer.code(), "000_003", "{missing}");
    }
}
