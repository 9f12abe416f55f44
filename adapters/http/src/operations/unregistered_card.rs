//! "Unregistered card inquiry" (`/api/v1/unregister/card/info`, D23): a produced physical card
//! not registered yet, proven by its printed number, expiry and CVC. Encrypted both ways (D13).
//! It changes nothing but the count of wrong attempts, shared with the registration (D19).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{LookUpCards, PrintedCardQuery};
use prepaid_domain::{Cvc, ErrorCode, Expiry, Pan};
use serde::Serialize;

use super::{
    AMOUNT, CARD_NO, CARD_STATUS, CVC, Call, EXPIRY, Endpoint, SERVICE_ID, SERVICE_NAME, payload,
    text,
};
use crate::error::ApiError;
use crate::operation::{Member, Operation, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "inquireUnregisteredCard",
    summary: "Unregistered card inquiry",
    description: "Describes a produced physical card that no member registered yet, to whoever holds it: proven by its printed number, expiry and CVC. Anything else is `003_001`. A wrong expiry or CVC counts as a wrong registration attempt of the card: the fifth in a row locks it, and every later attempt, here or at registration, answers `003_001`.",
    path: crate::UNREGISTERED_CARD_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[(
        ErrorCode::InvalidCardInfo,
        "No card waiting for registration with this number (unknown, another project's, mobile, registered, terminated or locked), or a wrong expiry or CVC; one answer for all.",
    )],
    encrypted_request: true,
    encrypted_response: true,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 3] = [
    Member {
        name: "cardNo",
        path: "cardNo",
        presence: Presence::Required,
        kind: CARD_NO,
        description: "The number printed on the card.",
        reference: None,
    },
    Member {
        name: "expiryDate",
        path: "expiryDate",
        presence: Presence::Required,
        kind: EXPIRY,
        description: "The expiry printed on the card, `YYMM`.",
        reference: None,
    },
    Member {
        name: "cardCVC",
        path: "cardCVC",
        presence: Presence::Required,
        kind: CVC,
        description: "The CVC printed on the card.",
        reference: None,
    },
];

static RESPONSE: [Member; 5] = [
    Member {
        name: "serviceId",
        path: "serviceId",
        presence: Presence::Required,
        kind: SERVICE_ID,
        description: "The card product.",
        reference: None,
    },
    Member {
        name: "serviceName",
        path: "serviceName",
        presence: Presence::Required,
        kind: SERVICE_NAME,
        description: "The product's name.",
        reference: None,
    },
    Member {
        name: "cardStatus",
        path: "cardStatus",
        presence: Presence::Required,
        kind: CARD_STATUS,
        description: "The card's state: INACTIVE (waiting for registration).",
        reference: None,
    },
    Member {
        name: "expiryDate",
        path: "expiryDate",
        presence: Presence::Required,
        kind: EXPIRY,
        description: "The card's expiry, `YYMM`.",
        reference: None,
    },
    Member {
        name: "balance",
        path: "balance",
        presence: Presence::Required,
        kind: AMOUNT,
        description: "What the card holds (0 until the ledger is kept).",
        reference: None,
    },
];

/// The success is the sandbox's printed fixture card, whose CVC derives from a fixture key of
/// its own; any other card the sandbox produces has a CVC from its own generated keys
/// (`docs/API.md` shows the walk).
static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "described",
        summary: "200 - Test succeeded (the sandbox's printed card, not registered yet)",
        request: r#"{"cardNo": "9435129000000037", "expiryDate": "3111", "cardCVC": "382"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"serviceId": "000170000002000", "serviceName": "Sandbox NORMAL prepaid card", "cardStatus": "INACTIVE", "expiryDate": "3111", "balance": 0}"#,
        ),
        prepare: None,
    },
    Scenario {
        name: "invalidExpiry",
        summary: "400 - Invalid input parameter",
        request: r#"{"cardNo": "9435129999999991", "expiryDate": "3113", "cardCVC": "123"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("expiryDate"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownCard",
        summary: "400 - Invalid card info",
        request: r#"{"cardNo": "9435129999999991", "expiryDate": "3111", "cardCVC": "123"}"#,
        code: ErrorCode::InvalidCardInfo,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    service_id: String,
    service_name: String,
    card_status: &'static str,
    expiry_date: String,
    balance: u64,
}

/// Runs the operation through the card look-ups.
pub struct UnregisteredCardInquiry(pub Arc<dyn LookUpCards>);

#[async_trait]
impl Endpoint for UnregisteredCardInquiry {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let query = PrintedCardQuery {
            asp_id: call.headers.asp_id.clone(),
            pan: Pan::parse(text(call.body, "cardNo"))
                .map_err(|error| ApiError::at(error.code(), "cardNo"))?,
            expiry: Expiry::parse(text(call.body, "expiryDate"))
                .map_err(|error| ApiError::at(error.code(), "expiryDate"))?,
            cvc: Cvc::parse(text(call.body, "cardCVC"))
                .map_err(|error| ApiError::at(error.code(), "cardCVC"))?,
        };
        let card = call.answered(
            &OPERATION,
            "unregistered card",
            self.0.unregistered(&query).await,
        )?;
        Ok(payload(&Payload {
            service_id: card.product.id.as_str().to_owned(),
            service_name: card.product.name.as_str().to_owned(),
            card_status: card.status.as_str(),
            expiry_date: card.expiry.to_yymm(),
            balance: card.balance,
        }))
    }
}
