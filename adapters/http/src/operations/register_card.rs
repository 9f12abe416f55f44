//! "Physical Card Registration" (`/api/v1/prepay-card/physical/register`, D19): the member
//! proves a produced physical card by its printed number, expiry and CVC; it becomes `ACTIVE`,
//! linked to the application's mobile card (or one issued now), and the application
//! `COMPLETED`. Encrypted both ways (D13): the request carries a card number and CVC, the
//! answer a card number. It changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{RegisterPhysicalCardCommand, RegisterPhysicalCards};
use prepaid_domain::{CardApplyNo, Cvc, ErrorCode, Expiry, Pan, Par};
use serde::Serialize;

use super::{CARD_APPLY_NO, Call, Endpoint, MEMBER_ID, member_id, payload, rule_of, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "registerPhysicalCard",
    summary: "Physical Card Registration",
    description: "Registers a physical card the member received, proven by its printed number, expiry and CVC: it becomes `ACTIVE`, linked to the application's mobile card (a pre-issuance product's) or to a mobile card issued now, whose number and PAR are answered; the application becomes `COMPLETED` and its delivery `ARRIVAL`. Five wrong expiries or CVCs in a row on one card lock it (`SUSPENDED`); every later attempt answers `003_001`.",
    path: crate::REGISTER_PHYSICAL_CARD_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::CardIssueNotFound,
            "`cardApplyNo` is given and names no application of the member.",
        ),
        (
            ErrorCode::InvalidCardInfo,
            "The card number, expiry or CVC is wrong; or the card is not the member's, is not one produced for the application named, is registered already or is locked. The same answer for each, so that nothing is learnt about a card not proven.",
        ),
        (
            ErrorCode::CardIssueNotReady,
            "The card is proven but its delivery has not reached `SHIPPING` yet.",
        ),
        (
            ErrorCode::DigitalCardTerminated,
            "The card is proven but the mobile card it should be linked to is terminated.",
        ),
    ],
    encrypted_request: true,
    encrypted_response: true,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 5] = [
    Member {
        name: "userId",
        path: "userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "Member id, 1 to 9999999999999999999 (beyond int64).",
        reference: None,
    },
    Member {
        name: "cardApplyNo",
        path: "cardApplyNo",
        presence: Presence::Optional,
        kind: CARD_APPLY_NO,
        description: "The application the card was produced for (from the pre-issued card list); when given, the card must be that application's.",
        reference: None,
    },
    Member {
        name: "physicalCardNo",
        path: "physicalCardNo",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: Pan::LENGTH,
            max: Pan::LENGTH,
            pattern: Some("^[0-9]{16}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Pan::parse(text)),
        }),
        description: "The number printed on the physical card (Luhn-valid).",
        reference: None,
    },
    Member {
        name: "physicalCardExpDate",
        path: "physicalCardExpDate",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 4,
            max: 4,
            pattern: Some("^[0-9]{2}(0[1-9]|1[0-2])$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Expiry::parse(text)),
        }),
        description: "The expiry printed on the card, `YYMM`.",
        reference: None,
    },
    Member {
        name: "physicalCardCVC",
        path: "physicalCardCVC",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 3,
            max: 3,
            pattern: Some("^[0-9]{3}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Cvc::parse(text)),
        }),
        description: "The CVC printed on the card.",
        reference: None,
    },
];

static RESPONSE: [Member; 2] = [
    Member {
        name: "mobileCardNo",
        path: "mobileCardNo",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: Pan::LENGTH,
            max: Pan::LENGTH,
            pattern: Some("^[0-9]{16}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Pan::parse(text)),
        }),
        description: "The number of the mobile card the physical card is linked to.",
        reference: None,
    },
    Member {
        name: "par",
        path: "par",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: Par::LENGTH,
            max: Par::LENGTH,
            pattern: Some("^[0-9A-Z]{27}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Par::parse(text)),
        }),
        description: "The PAR of the mobile card the physical card is linked to.",
        reference: None,
    },
];

/// The success is the sandbox's second printed fixture card, whose CVC derives from a fixture
/// key of its own (registered once, it is registered); any other card the sandbox produces has
/// a CVC from its own generated keys: `docs/API.md` shows how to walk there through the
/// operator interface.
static SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "register",
        summary: "200 - Test succeeded (the sandbox's printed card is registered; a mobile card is issued with it)",
        request: r#"{"userId": 1001, "physicalCardNo": "9435129000000045", "physicalCardExpDate": "3111", "physicalCardCVC": "804"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"mobileCardNo": "9435120001234568", "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
        ),
        prepare: None,
    },
    Scenario {
        name: "invalidUserId",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 0, "physicalCardNo": "9435129999999991", "physicalCardExpDate": "3111", "physicalCardCVC": "123"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("userId"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "invalidExpiry",
        summary: "400 - Invalid input parameter (no 13th month)",
        request: r#"{"userId": 1001, "physicalCardNo": "9435129999999991", "physicalCardExpDate": "3113", "physicalCardCVC": "123"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("physicalCardExpDate"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userId": 1002, "physicalCardNo": "9435129999999991", "physicalCardExpDate": "3111", "physicalCardCVC": "123"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownApplication",
        summary: "400 - Indicated card issue not found",
        request: r#"{"userId": 1001, "cardApplyNo": "20261125003000000NONE0", "physicalCardNo": "9435129999999991", "physicalCardExpDate": "3111", "physicalCardCVC": "123"}"#,
        code: ErrorCode::CardIssueNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "invalidCard",
        summary: "400 - Invalid card info (no such card of the member)",
        request: r#"{"userId": 1001, "physicalCardNo": "9435129999999991", "physicalCardExpDate": "3111", "physicalCardCVC": "123"}"#,
        code: ErrorCode::InvalidCardInfo,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    mobile_card_no: &'a str,
    par: &'a str,
}

/// The request, read from a body the request table validated.
fn command(call: &Call<'_>) -> Result<RegisterPhysicalCardCommand, ApiError> {
    let at = |path: &'static str| {
        move |error: prepaid_domain::FieldError| ApiError::at(error.code(), path)
    };
    Ok(RegisterPhysicalCardCommand {
        key: call.idempotency_key(),
        member: member_id(call.body, "userId", "userId")?,
        application: call
            .body
            .get("cardApplyNo")
            .and_then(serde_json::Value::as_str)
            .map(CardApplyNo::parse)
            .transpose()
            .map_err(at("cardApplyNo"))?,
        pan: Pan::parse(text(call.body, "physicalCardNo")).map_err(at("physicalCardNo"))?,
        expiry: Expiry::parse(text(call.body, "physicalCardExpDate"))
            .map_err(at("physicalCardExpDate"))?,
        cvc: Cvc::parse(text(call.body, "physicalCardCVC")).map_err(at("physicalCardCVC"))?,
    })
}

/// Runs the operation through the registration use case.
pub struct RegisterPhysicalCard(pub Arc<dyn RegisterPhysicalCards>);

#[async_trait]
impl Endpoint for RegisterPhysicalCard {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = command(&call)?;
        let outcome = call.answered(&OPERATION, "registration", self.0.register(&command).await)?;
        tracing::info!(
            replayed = outcome.replayed,
            mobile_card = %outcome.mobile_card.masked(),
            "physical card registered"
        );
        Ok(payload(&Payload {
            mobile_card_no: outcome.mobile_card.expose(),
            par: outcome.par.as_str(),
        }))
    }
}
