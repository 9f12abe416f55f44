//! "Search for Card" (`/api/v1/user/card/list`, D23): a member's mobile cards, each with the
//! physical card linked to it. A plaintext request; the answer carries card numbers, so it is
//! encrypted (D13). It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{CardSearch, LookUpCards};
use prepaid_domain::{ErrorCode, Pan, Par};
use serde::Serialize;

use super::{
    AMOUNT, CARD_APPLY_NO, CARD_NO, CARD_STATUS, Call, EXPIRY, Endpoint, MEMBER_ID, PAR,
    SERVICE_ID, SERVICE_NAME, member_id, payload, text,
};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Prepare, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "searchCards",
    summary: "Search for Card",
    description: "The member's mobile cards that are not terminated, oldest first, each with its product, number, state and expiry, and the physical card linked to it (the latest not terminated). `par` restricts the answer to the card with that PAR (the mobile card's or its physical card's); `physicalCardNo` to the card whose physical card has that number; a restriction that names no card of the member answers an empty list. Balances are kept with the ledger, which this service does not keep yet: `balance` and `pendingAmount` read 0.",
    path: crate::CARD_LIST_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[(
        ErrorCode::WalletUserNotFound,
        "Not a member of this project, or a member who cancelled membership.",
    )],
    encrypted_request: false,
    encrypted_response: true,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 3] = [
    Member {
        name: "userId",
        path: "userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "Member id, 1 to 9999999999999999999 (beyond int64).",
        reference: None,
    },
    Member {
        name: "par",
        path: "par",
        presence: Presence::Optional,
        kind: PAR,
        description: "Only the card with this PAR (its mobile card's or its physical card's).",
        reference: None,
    },
    Member {
        name: "physicalCardNo",
        path: "physicalCardNo",
        presence: Presence::Optional,
        kind: CARD_NO,
        description: "Only the card whose linked physical card has this number.",
        reference: None,
    },
];

static CARD: [Member; 12] = [
    Member {
        name: "par",
        path: "cardDataInfo.par",
        presence: Presence::Required,
        kind: PAR,
        description: "The mobile card's PAR.",
        reference: None,
    },
    Member {
        name: "cardApplyNo",
        path: "cardDataInfo.cardApplyNo",
        presence: Presence::Required,
        kind: CARD_APPLY_NO,
        description: "The application that issued it.",
        reference: None,
    },
    Member {
        name: "serviceId",
        path: "cardDataInfo.serviceId",
        presence: Presence::Required,
        kind: SERVICE_ID,
        description: "The card product.",
        reference: None,
    },
    Member {
        name: "serviceName",
        path: "cardDataInfo.serviceName",
        presence: Presence::Required,
        kind: SERVICE_NAME,
        description: "The product's name.",
        reference: None,
    },
    Member {
        name: "mobileCardNo",
        path: "cardDataInfo.mobileCardNo",
        presence: Presence::Required,
        kind: CARD_NO,
        description: "The mobile card's number.",
        reference: None,
    },
    Member {
        name: "mobileCardStatus",
        path: "cardDataInfo.mobileCardStatus",
        presence: Presence::Required,
        kind: CARD_STATUS,
        description: "The mobile card's state: ACTIVE or SUSPENDED.",
        reference: None,
    },
    Member {
        name: "expiryDate",
        path: "cardDataInfo.expiryDate",
        presence: Presence::Required,
        kind: EXPIRY,
        description: "The mobile card's expiry, `YYMM`.",
        reference: None,
    },
    Member {
        name: "physicalCardNo",
        path: "cardDataInfo.physicalCardNo",
        presence: Presence::Optional,
        kind: CARD_NO,
        description: "The linked physical card's number, when one is linked.",
        reference: None,
    },
    Member {
        name: "physicalCardStatus",
        path: "cardDataInfo.physicalCardStatus",
        presence: Presence::Optional,
        kind: CARD_STATUS,
        description: "The linked physical card's state, when one is linked.",
        reference: None,
    },
    Member {
        name: "balance",
        path: "cardDataInfo.balance",
        presence: Presence::Required,
        kind: AMOUNT,
        description: "What the card holds (0 until the ledger is kept).",
        reference: None,
    },
    Member {
        name: "pendingAmount",
        path: "cardDataInfo.pendingAmount",
        presence: Presence::Required,
        kind: AMOUNT,
        description: "Charges waiting because they exceeded the card's limit (0 until the ledger is kept).",
        reference: None,
    },
    Member {
        name: "isNamed",
        path: "cardDataInfo.isNamed",
        presence: Presence::Required,
        kind: Kind::Boolean { default: None },
        description: "Whether the card is registered under a verified real name: false, as this service verifies no names yet.",
        reference: None,
    },
];

const CARD_KIND: Kind = Kind::Object(&CARD);

/// The most mobile cards one member holds in one answer.
const MOST_CARDS: usize = 1_000;

static RESPONSE: [Member; 1] = [Member {
    name: "cardDataInfo",
    path: "cardDataInfo",
    presence: Presence::Required,
    kind: Kind::List {
        min: 0,
        max: MOST_CARDS,
        item: &CARD_KIND,
    },
    description: "One item per mobile card of the member that is not terminated, oldest first.",
    reference: None,
}];

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "cards",
        summary: "200 - Test succeeded",
        request: r#"{"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"cardDataInfo": [{"par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "cardApplyNo": "20261125063000456ZX90Q", "serviceId": "000170000003000", "serviceName": "Sandbox MOBILE prepaid card", "mobileCardNo": "9435120001234568", "mobileCardStatus": "ACTIVE", "expiryDate": "3111", "balance": 0, "pendingAmount": 0, "isNamed": false}]}"#,
        ),
        prepare: Some(Prepare {
            operation: &super::issue_delivery::OPERATION,
            scenario: "mobileOnly",
            member: Some(("mobileCardPar", "par")),
        }),
    },
    Scenario {
        name: "invalidPar",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9"}"#,
        code: ErrorCode::LengthMismatch,
        path: Some("par"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userId": 1002, "physicalCardNo": "9435129999999991"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// One card of the answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CardItem {
    par: String,
    card_apply_no: String,
    service_id: String,
    service_name: String,
    mobile_card_no: String,
    mobile_card_status: &'static str,
    expiry_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_card_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_card_status: Option<&'static str>,
    balance: u64,
    pending_amount: u64,
    is_named: bool,
}

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    card_data_info: Vec<CardItem>,
}

/// Runs the operation through the card look-ups.
pub struct CardList(pub Arc<dyn LookUpCards>);

#[async_trait]
impl Endpoint for CardList {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let given = |name| call.body.get(name).is_some_and(|value| !value.is_null());
        let query = CardSearch {
            asp_id: call.headers.asp_id.clone(),
            member: member_id(call.body, "userId", "userId")?,
            par: given("par")
                .then(|| Par::parse(text(call.body, "par")))
                .transpose()
                .map_err(|error| ApiError::at(error.code(), "par"))?,
            physical_card: given("physicalCardNo")
                .then(|| Pan::parse(text(call.body, "physicalCardNo")))
                .transpose()
                .map_err(|error| ApiError::at(error.code(), "physicalCardNo"))?,
        };
        let found = call.answered(&OPERATION, "card search", self.0.search(&query).await)?;
        Ok(payload(&Payload {
            card_data_info: found
                .into_iter()
                .map(|card| CardItem {
                    par: card.par.as_str().to_owned(),
                    card_apply_no: card.application.as_str().to_owned(),
                    service_id: card.product.id.as_str().to_owned(),
                    service_name: card.product.name.as_str().to_owned(),
                    mobile_card_no: card.pan.expose().to_owned(),
                    mobile_card_status: card.status.as_str(),
                    expiry_date: card.expiry.to_yymm(),
                    physical_card_no: card
                        .physical
                        .as_ref()
                        .map(|physical| physical.pan.expose().to_owned()),
                    physical_card_status: card
                        .physical
                        .as_ref()
                        .map(|physical| physical.status.as_str()),
                    balance: card.balance,
                    // Charges waiting over the card's limit come with the ledger.
                    pending_amount: 0,
                    // No real-name verification exists yet.
                    is_named: false,
                })
                .collect(),
        }))
    }
}
