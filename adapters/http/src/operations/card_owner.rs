//! "Card-User Mapped Inquiry" (`/api/v1/user/card/info`, D23): whose a card number is, with the
//! card's product, state and balance. Encrypted both ways (D13): the request carries a card
//! number. It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::LookUpCards;
use prepaid_domain::{ErrorCode, Pan};
use serde::Serialize;

use super::{
    AMOUNT, CARD_NO, CARD_STATUS, Call, Endpoint, MEMBER_ID, PAR, SERVICE_ID, SERVICE_NAME,
    payload, text,
};
use crate::error::ApiError;
use crate::operation::{Member, Operation, Prepare, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "inquireCardUser",
    summary: "Card-User Mapped Inquiry",
    description: "Whose a card of the project is, by its number (a mobile or a physical card): the member, the card's PAR, product and state, and its balance (0 until the ledger is kept). A terminated card is no one's.",
    path: crate::CARD_OWNER_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[(
        ErrorCode::InvalidCardInfo,
        "No card of the project with this number, or a terminated one (another project's card is answered the same way).",
    )],
    encrypted_request: true,
    encrypted_response: true,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 1] = [Member {
    name: "cardNo",
    path: "cardNo",
    presence: Presence::Required,
    kind: CARD_NO,
    description: "The card's number, mobile or physical.",
    reference: None,
}];

static RESPONSE: [Member; 6] = [
    Member {
        name: "userId",
        path: "userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "The member the card belongs to.",
        reference: None,
    },
    Member {
        name: "par",
        path: "par",
        presence: Presence::Required,
        kind: PAR,
        description: "The card's PAR.",
        reference: None,
    },
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
        description: "The card's state: INACTIVE, ACTIVE or SUSPENDED.",
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

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "owner",
        summary: "200 - Test succeeded",
        request: r#"{"cardNo": "9435120001234568"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "serviceId": "000170000003000", "serviceName": "Sandbox MOBILE prepaid card", "cardStatus": "ACTIVE", "balance": 0}"#,
        ),
        prepare: Some(Prepare {
            operation: &super::issue_delivery::OPERATION,
            scenario: "mobileOnly",
            member: Some(("mobileCardNo", "cardNo")),
        }),
    },
    Scenario {
        name: "invalidCardNo",
        summary: "400 - Invalid input parameter",
        request: r#"{"cardNo": "9435120001234567"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("cardNo"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownCard",
        summary: "400 - Invalid card info",
        request: r#"{"cardNo": "9435129999999991"}"#,
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
    user_id: u64,
    par: String,
    service_id: String,
    service_name: String,
    card_status: &'static str,
    balance: u64,
}

/// Runs the operation through the card look-ups.
pub struct CardOwnerInquiry(pub Arc<dyn LookUpCards>);

#[async_trait]
impl Endpoint for CardOwnerInquiry {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let pan = Pan::parse(text(call.body, "cardNo"))
            .map_err(|error| ApiError::at(error.code(), "cardNo"))?;
        let owner = call.answered(
            &OPERATION,
            "card owner",
            self.0.owner(&call.headers.asp_id, &pan).await,
        )?;
        Ok(payload(&Payload {
            user_id: owner.member.get(),
            par: owner.par.as_str().to_owned(),
            service_id: owner.product.id.as_str().to_owned(),
            service_name: owner.product.name.as_str().to_owned(),
            card_status: owner.status.as_str(),
            balance: owner.balance,
        }))
    }
}
