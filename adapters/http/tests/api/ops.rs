//! The operator interface (`/ops/v1`): reachable with an operator token only, never with ASP
//! credentials, and no ASP operation with an operator token; each answer and refusal.

use std::sync::{Arc, Mutex};

use actix_web::App;
use actix_web::test::{self, TestRequest};
use prepaid_application::{
    DeliveryOrder, DeliveryReport, FulfilmentError, MockAuthenticateOperators,
    MockFulfilDeliveries, MockIssueCards, OperatorAuthError, OrderAddress, PortError, PrintedCard,
};
use prepaid_domain::{
    AddressDetail, AspId, CardApplyNo, CardStatus, Cvc, DeliveryAddress, DeliveryChangeRefusal,
    DeliveryChangeRefused, DeliveryHistory, DeliveryStatus, Expiry, OperatorName, OperatorToken,
    Pan, Par, RoadAddress, Timestamp, ZipCode,
};
use prepaid_http::{HttpConfig, OpsPorts};
use serde_json::json;

use crate::support::{ACTIVE_MEMBER, ASP, Call, NORMAL, Store, delivery_body, ports_with, send};

const NUMBER: &str = "2611300300000000000001";
/// 2026-11-30 09:30 KST.
const READY_AT: Timestamp = Timestamp::from_millis(1_795_998_600_000);

fn token() -> OperatorToken {
    OperatorToken::from_random(&[0x5a; 32])
}

fn operators() -> MockAuthenticateOperators {
    let mut operators = MockAuthenticateOperators::new();
    let known = token();
    operators.expect_authenticate().returning(move |bearer| {
        if bearer == known.expose() {
            Ok(OperatorName::parse("bureau").unwrap())
        } else {
            Err(OperatorAuthError::Refused)
        }
    });
    operators
}

macro_rules! app {
    ($fulfilment:expr) => {{
        let mut ports = ports_with(&Store::default(), Arc::default());
        ports.ops = OpsPorts {
            operators: Arc::new(operators()),
            fulfilment: Arc::new($fulfilment),
        };
        test::init_service(App::new().configure(move |config| {
            prepaid_http::configure(config, &ports, &HttpConfig::default());
        }))
        .await
    }};
}

fn get(path: &str) -> TestRequest {
    TestRequest::get()
        .uri(&format!("/ops/v1{path}"))
        .insert_header(("Authorization", format!("Bearer {}", token().expose())))
}

fn post(path: &str, body: &serde_json::Value) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/ops/v1{path}"))
        .insert_header(("Authorization", format!("Bearer {}", token().expose())))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

fn number() -> CardApplyNo {
    CardApplyNo::parse(NUMBER).unwrap()
}

fn received() -> DeliveryHistory {
    DeliveryHistory::start(READY_AT)
        .advance(DeliveryStatus::Receipt, READY_AT.plus_millis(1_800_000))
        .unwrap()
}

#[actix_web::test]
async fn asp_credentials_or_no_token_open_nothing_of_the_operator_interface() {
    let app = app!(MockFulfilDeliveries::new());
    // A whole signed ASP request, sent to the operator interface.
    let mut asp = Call::new(json!({"status": "RECEIPT"}).to_string());
    asp.path = format!("/ops/v1/deliveries/{NUMBER}/status");
    let answer = send(&app, asp.request()).await;
    assert_eq!((answer.status, answer.code()), (401, "000_090"));

    for authorization in [
        None,
        Some("Bearer ".to_owned()),
        Some(format!("Basic {}", token().expose())),
        Some(format!(
            "Bearer {}",
            OperatorToken::from_random(&[1; 32]).expose()
        )),
    ] {
        let mut request = TestRequest::get().uri("/ops/v1/deliveries");
        if let Some(value) = authorization.clone() {
            request = request.insert_header(("Authorization", value));
        }
        let answer = send(&app, request.to_request()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, "000_090"),
            "{authorization:?}"
        );
    }
}

#[actix_web::test]
async fn an_operator_token_opens_no_asp_operation() {
    let mut ports = ports_with(&Store::default(), Arc::default());
    ports.issuance = Arc::new(MockIssueCards::new());
    ports.ops = OpsPorts {
        operators: Arc::new(operators()),
        fulfilment: Arc::new(MockFulfilDeliveries::new()),
    };
    let app = test::init_service(App::new().configure(move |config| {
        prepaid_http::configure(config, &ports, &HttpConfig::default());
    }))
    .await;
    let request = TestRequest::post()
        .uri(prepaid_http::ISSUE_DELIVERY_PATH)
        .insert_header(("Authorization", format!("Bearer {}", token().expose())))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(delivery_body(ACTIVE_MEMBER, NORMAL))
        .to_request();
    let answer = send(&app, request).await;
    assert_ne!(answer.code(), "000_000");
    assert!(answer.status >= 400, "{}", answer.json);
}

#[actix_web::test]
async fn the_partner_lists_deliveries_in_progress_with_their_addresses() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let noted = asked.clone();
    let mut fulfilment = MockFulfilDeliveries::new();
    fulfilment.expect_orders().returning(move |project, limit| {
        noted.lock().unwrap().push((project, limit));
        Ok(vec![DeliveryOrder {
            asp_id: AspId::parse(ASP).unwrap(),
            application: number(),
            history: received(),
            address: OrderAddress::Open(DeliveryAddress {
                address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
                detail: AddressDetail::parse("101동 1001호").unwrap(),
                zip_code: ZipCode::parse("06236").unwrap(),
            }),
        }])
    });
    let app = app!(fulfilment);

    let answer = send(&app, get("/deliveries").to_request()).await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(
        answer.json["deliveries"],
        json!([{
            "aspId": ASP,
            "cardApplyNo": NUMBER,
            "status": "RECEIPT",
            "statusHistory": [
                {"status": "READY", "changedAt": "20261130093000"},
                {"status": "RECEIPT", "changedAt": "20261130100000"},
            ],
            "addressInfo": {
                "address": "서울특별시 강남구 테헤란로 1",
                "addressDetail": "101동 1001호",
                "zipCode": "06236",
            },
        }])
    );
    let answer = send(
        &app,
        get(&format!("/deliveries?limit=500&aspId={ASP}")).to_request(),
    )
    .await;
    assert_eq!(answer.code(), "000_000");
    assert_eq!(
        *asked.lock().unwrap(),
        [(None, 100), (Some(AspId::parse(ASP).unwrap()), 500)]
    );
    let answer = send(&app, get("/deliveries?aspId=SHORT").to_request()).await;
    assert_eq!(
        (answer.status, answer.code(), answer.description()),
        (400, "000_015", "The length of value does not match. aspId")
    );

    for limit in ["0", "501", "x", "-1"] {
        let answer = send(
            &app,
            get(&format!("/deliveries?limit={limit}")).to_request(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (400, "000_002", "Invalid input parameter. limit"),
            "{limit}"
        );
    }
}

#[actix_web::test]
async fn a_reported_change_is_answered_with_the_history_and_the_card_it_produced() {
    let seen = Arc::new(Mutex::new(None));
    let noted = seen.clone();
    let mut fulfilment = MockFulfilDeliveries::new();
    fulfilment.expect_report().returning(move |asked, next| {
        *noted.lock().unwrap() = Some((asked.clone(), next));
        Ok(DeliveryReport {
            asp_id: AspId::parse(ASP).unwrap(),
            application: number(),
            history: received()
                .advance(DeliveryStatus::PreShipping, READY_AT.plus_millis(3_600_000))
                .unwrap(),
            physical_card: Some(Par::parse("P1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap()),
            changed: true,
        })
    });
    let app = app!(fulfilment);
    let answer = send(
        &app,
        post(
            &format!("/deliveries/{NUMBER}/status"),
            &json!({"status": "PRE_SHIPPING"}),
        )
        .to_request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.json["status"], "PRE_SHIPPING");
    assert_eq!(answer.json["statusHistory"].as_array().unwrap().len(), 3);
    assert_eq!(
        answer.json["physicalCardPar"],
        "P1AB2CD3EF4GH5IJ6KL7MN8OP9Q"
    );
    assert_eq!(answer.json["changed"], true);
    assert_eq!(
        *seen.lock().unwrap(),
        Some((number(), DeliveryStatus::PreShipping))
    );
}

#[actix_web::test]
async fn a_malformed_report_never_reaches_the_partner_use_case() {
    let app = app!(MockFulfilDeliveries::new());
    for (path, body, code, description) in [
        (
            format!("/deliveries/{NUMBER}/status"),
            json!({}),
            "000_003",
            "Missing required values. status",
        ),
        (
            format!("/deliveries/{NUMBER}/status"),
            json!({"status": "SHIPPED"}),
            "000_002",
            "Invalid input parameter. status",
        ),
        (
            format!("/deliveries/{NUMBER}/status"),
            json!({"status": 3}),
            "000_002",
            "Invalid input parameter. status",
        ),
        (
            "/deliveries/SHORT/status".to_owned(),
            json!({"status": "RECEIPT"}),
            "000_015",
            "The length of value does not match. cardApplyNo",
        ),
    ] {
        let answer = send(&app, post(&path, &body).to_request()).await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (400, code, description),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn each_refusal_of_the_partner_use_case_is_its_code_in_the_envelope() {
    for (error, status, code, description) in [
        (
            FulfilmentError::Refused(DeliveryChangeRefusal::Table(
                DeliveryChangeRefused::NotAllowed {
                    from: DeliveryStatus::Ready,
                    to: DeliveryStatus::Shipping,
                },
            )),
            400,
            "003_091",
            "Delivery status cannot change so. status",
        ),
        (
            FulfilmentError::UnknownDelivery,
            400,
            "003_001",
            "Invalid card info. cardApplyNo",
        ),
        (
            FulfilmentError::Unavailable(PortError::msg("down")),
            500,
            "000_099",
            "Temporary system error. Retry with the same correlation id.",
        ),
    ] {
        let once = Mutex::new(Some(error));
        let mut fulfilment = MockFulfilDeliveries::new();
        fulfilment
            .expect_report()
            .returning(move |_, _| Err(once.lock().unwrap().take().unwrap()));
        let app = app!(fulfilment);
        let answer = send(
            &app,
            post(
                &format!("/deliveries/{NUMBER}/status"),
                &json!({"status": "SHIPPING"}),
            )
            .to_request(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.code(), answer.description()),
            (status, code, description)
        );
    }
}

#[actix_web::test]
async fn a_printed_card_is_shown_as_printed_and_never_cached() {
    let mut fulfilment = MockFulfilDeliveries::new();
    fulfilment.expect_printed_card().returning(|asked| {
        assert_eq!(asked, &number());
        Ok(PrintedCard {
            par: Par::parse("P1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap(),
            pan: Pan::parse("9435120001234568").unwrap(),
            expiry: Expiry::parse("3111").unwrap(),
            cvc: Cvc::parse("321").unwrap(),
            status: CardStatus::Inactive,
        })
    });
    let app = app!(fulfilment);
    let response = test::call_service(
        &app,
        get(&format!("/deliveries/{NUMBER}/printed-card")).to_request(),
    )
    .await;
    assert_eq!(response.headers().get("Cache-Control").unwrap(), "no-store");
    let json: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(
        json,
        json!({
            "response": {"code": "000_000", "description": "Success."},
            "par": "P1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
            "cardNo": "9435120001234568",
            "expiryDate": "3111",
            "cardCvc": "321",
            "cardStatus": "INACTIVE",
        })
    );

    let mut hidden = MockFulfilDeliveries::new();
    hidden
        .expect_printed_card()
        .returning(|_| Err(FulfilmentError::NoPrintedCard));
    let app = app!(hidden);
    let answer = send(
        &app,
        get(&format!("/deliveries/{NUMBER}/printed-card")).to_request(),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (400, "003_001"));
    assert!(answer.json.get("cardNo").is_none());
}

#[actix_web::test]
async fn a_lost_delivery_is_sent_again_and_another_is_refused() {
    let mut fulfilment = MockFulfilDeliveries::new();
    let mut answers = vec![
        Err(FulfilmentError::Refused(DeliveryChangeRefusal::Table(
            DeliveryChangeRefused::NotAllowed {
                from: DeliveryStatus::Receipt,
                to: DeliveryStatus::Ready,
            },
        ))),
        Ok(DeliveryReport {
            asp_id: AspId::parse(ASP).unwrap(),
            application: number(),
            history: received(),
            physical_card: None,
            changed: true,
        }),
    ];
    fulfilment
        .expect_redeliver()
        .times(2)
        .returning(move |asked| {
            assert_eq!(asked, &number());
            answers.pop().unwrap()
        });
    let app = app!(fulfilment);
    let path = format!("/deliveries/{NUMBER}/redelivery");
    let answer = send(&app, post(&path, &json!({})).to_request()).await;
    assert_eq!((answer.status, answer.code()), (200, "000_000"));
    assert_eq!(answer.json["changed"], true);
    let answer = send(&app, post(&path, &json!({})).to_request()).await;
    assert_eq!(
        (answer.status, answer.code(), answer.description()),
        (400, "003_091", "Delivery status cannot change so.")
    );
}
