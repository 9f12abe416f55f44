//! "Search for Mobile Card Application Information Linkable to Physical Card"
//! (`/api/v1/issued-cards/pre-issue/waiting/physical`, D19): a member's mobile cards issued
//! before their physical card, which is not registered yet. A plaintext request; the answer
//! carries card numbers and CVCs, so it is encrypted (D13). It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{ListPreIssuedCards, MOST_LISTED};
use prepaid_domain::{ApplicationType, Cvc, ErrorCode, Pan, Par, ProductName};
use serde::Serialize;

use super::{CARD_APPLY_NO, Call, Endpoint, MEMBER_ID, SERVICE_ID, member_id, payload, rule_of};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Prepare, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "listPreIssuedCardsAwaitingPhysicalCard",
    summary: "Search for Mobile Card Application Information Linkable to Physical Card",
    description: "The member's applications whose mobile card was issued before their physical card, which is not registered yet, each with its mobile card: the `cardApplyNo` a physical card registration names. Cancelled applications are not listed; at most the latest 100, oldest first.",
    path: crate::PRE_ISSUED_CARDS_PATH,
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

static REQUEST: [Member; 1] = [Member {
    name: "userId",
    path: "userId",
    presence: Presence::Required,
    kind: MEMBER_ID,
    description: "Member id, 1 to 9999999999999999999 (beyond int64).",
    reference: None,
}];

static DIGITAL: [Member; 5] = [
    Member {
        name: "cardNo",
        path: "issuedCardList.digital.cardNo",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: Pan::LENGTH,
            max: Pan::LENGTH,
            pattern: Some("^[0-9]{16}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Pan::parse(text)),
        }),
        description: "The mobile card's number.",
        reference: None,
    },
    Member {
        name: "par",
        path: "issuedCardList.digital.par",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: Par::LENGTH,
            max: Par::LENGTH,
            pattern: Some("^[0-9A-Z]{27}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Par::parse(text)),
        }),
        description: "The mobile card's PAR.",
        reference: None,
    },
    Member {
        name: "serviceId",
        path: "issuedCardList.digital.serviceId",
        presence: Presence::Required,
        kind: SERVICE_ID,
        description: "The card product.",
        reference: None,
    },
    Member {
        name: "serviceName",
        path: "issuedCardList.digital.serviceName",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 1,
            max: 255,
            pattern: None,
            values: &[],
            normalized: false,
            check: |text| rule_of(ProductName::parse(text)),
        }),
        description: "The product's name.",
        reference: None,
    },
    Member {
        name: "mobileCardCVC",
        path: "issuedCardList.digital.mobileCardCVC",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 3,
            max: 3,
            pattern: Some("^[0-9]{3}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Cvc::parse(text)),
        }),
        description: "The mobile card's CVC.",
        reference: None,
    },
];

/// The application statuses (D16): the shortest `READY`, the longest `COST_PAY_FAILED`.
const APPLICATION_STATUSES: &[&str] = &[
    "READY",
    "COST_PAYING",
    "COST_PAID",
    "COST_PAY_FAILED",
    "DIGITAL_ISSUED",
    "PHYSICAL_ISSUED",
    "COMPLETED",
    "CANCELLED",
];

static ISSUED_CARD: [Member; 4] = [
    Member {
        name: "cardApplyNo",
        path: "issuedCardList.cardApplyNo",
        presence: Presence::Required,
        kind: CARD_APPLY_NO,
        description: "The application: what a physical card registration names.",
        reference: None,
    },
    Member {
        name: "issueType",
        path: "issuedCardList.issueType",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 5,
            max: 7,
            pattern: None,
            values: &["ISSUE", "REISSUE"],
            normalized: false,
            check: |text| super::enumeration(text, 5, 7, &["ISSUE", "REISSUE"]),
        }),
        description: "ISSUE: a new card; REISSUE: a card replacing one reported lost.",
        reference: None,
    },
    Member {
        name: "digital",
        path: "issuedCardList.digital",
        presence: Presence::Required,
        kind: Kind::Object(&DIGITAL),
        description: "The mobile card the physical card will be linked to.",
        reference: None,
    },
    Member {
        name: "status",
        path: "issuedCardList.status",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 5,
            max: 15,
            pattern: None,
            values: APPLICATION_STATUSES,
            normalized: false,
            check: |text| super::enumeration(text, 5, 15, APPLICATION_STATUSES),
        }),
        description: "The application's status: DIGITAL_ISSUED (the mobile card is issued) or PHYSICAL_ISSUED (the physical card is produced) while it awaits registration.",
        reference: None,
    },
];

const ISSUED_CARD_KIND: Kind = Kind::Object(&ISSUED_CARD);

static RESPONSE: [Member; 1] = [Member {
    name: "issuedCardList",
    path: "issuedCardList",
    presence: Presence::Required,
    kind: Kind::List {
        min: 0,
        max: MOST_LISTED,
        item: &ISSUED_CARD_KIND,
    },
    description: "One item per application awaiting its physical card, oldest first.",
    reference: None,
}];

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "awaiting",
        summary: "200 - Test succeeded",
        request: r#"{"userId": 1001}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"issuedCardList": [{"cardApplyNo": "20261125063000789PQ12R", "issueType": "ISSUE", "digital": {"cardNo": "9435120001234568", "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "serviceId": "000170000004000", "serviceName": "Sandbox pre-issued prepaid card", "mobileCardCVC": "123"}, "status": "DIGITAL_ISSUED"}]}"#,
        ),
        prepare: Some(Prepare {
            operation: &super::issue_delivery::OPERATION,
            scenario: "preIssued",
            member: None,
        }),
    },
    Scenario {
        name: "invalidUserId",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 0}"#,
        code: ErrorCode::InvalidInput,
        path: Some("userId"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userId": 1008}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// The mobile card of an item.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Digital {
    card_no: String,
    par: String,
    service_id: String,
    service_name: String,
    #[serde(rename = "mobileCardCVC")]
    mobile_card_cvc: String,
}

/// One application awaiting its physical card.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuedCard {
    card_apply_no: String,
    issue_type: &'static str,
    digital: Digital,
    status: &'static str,
}

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    issued_card_list: Vec<IssuedCard>,
}

/// Runs the operation through the pre-issued cards use case.
pub struct PreIssuedCards(pub Arc<dyn ListPreIssuedCards>);

#[async_trait]
impl Endpoint for PreIssuedCards {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let member = member_id(call.body, "userId", "userId")?;
        let listed = call.answered(
            &OPERATION,
            "pre-issued cards",
            self.0.awaiting(&call.headers.asp_id, member).await,
        )?;
        Ok(payload(&Payload {
            issued_card_list: listed
                .into_iter()
                .map(|card| IssuedCard {
                    card_apply_no: card.application.as_str().to_owned(),
                    // The platform names a renewal a reissue ("Reissuance & Renewal").
                    issue_type: match card.application_type {
                        // A basic card is a mobile product's: never awaiting a physical card.
                        ApplicationType::Issue | ApplicationType::Basic => "ISSUE",
                        ApplicationType::Reissue | ApplicationType::Renewal => "REISSUE",
                    },
                    digital: Digital {
                        card_no: card.pan.expose().to_owned(),
                        par: card.par.as_str().to_owned(),
                        service_id: card.product.as_str().to_owned(),
                        service_name: card.product_name.as_str().to_owned(),
                        mobile_card_cvc: card.cvc.expose().to_owned(),
                    },
                    status: card.status.as_str(),
                })
                .collect(),
        }))
    }
}
