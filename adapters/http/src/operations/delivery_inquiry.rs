//! "Search for Card Delivery Status" (`/api/v1/card/delivery/inquiry`, D18): where the physical
//! card of a member's application is, with every status it went through. Plaintext both ways;
//! it changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{DeliveryInquiry, InquireDeliveries};
use prepaid_domain::{CardApplyNo, DateTime, DeliveryHistory, DeliveryStatus, ErrorCode, TimeZone};
use serde::Serialize;

use super::{CARD_APPLY_NO, Call, Endpoint, MEMBER_ID, member_id, payload, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "inquireCardDeliveryStatus",
    summary: "Search for Card Delivery Status",
    description: "Where the physical card of a member's application is: its delivery's status now, and every status it went through with when (KST).",
    path: crate::DELIVERY_INQUIRY_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::InvalidCardInfo,
            "No application of the member with this number, or one without a delivery (another member's or another project's application is answered the same way).",
        ),
    ],
    encrypted_request: false,
    encrypted_response: false,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 2] = [
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
        presence: Presence::Required,
        kind: CARD_APPLY_NO,
        description: "The application whose delivery is asked about.",
        reference: None,
    },
];

/// The delivery statuses (D10), the shortest `ETC`, the longest `PRE_SHIPPING`.
const STATUS: Kind = Kind::Text(Text {
    min: 3,
    max: 12,
    pattern: None,
    values: &[
        "READY",
        "RECEIPT",
        "PRE_SHIPPING",
        "SHIPPING",
        "ARRIVAL",
        "LOST",
        "RETURN",
        "CANCEL",
        "ETC",
    ],
    normalized: false,
    check: |text| match DeliveryStatus::parse(text) {
        Some(_) => Ok(()),
        None if (3..=12).contains(&text.chars().count()) => Err(prepaid_domain::Rule::Invalid),
        None => Err(prepaid_domain::Rule::Length),
    },
});

static STEP: [Member; 2] = [
    Member {
        name: "status",
        path: "statusHistory.status",
        presence: Presence::Required,
        kind: STATUS,
        description: "A status the delivery reached.",
        reference: None,
    },
    Member {
        name: "changedAt",
        path: "statusHistory.changedAt",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 14,
            max: 14,
            pattern: Some("^[0-9]{14}$"),
            values: &[],
            normalized: false,
            check: |text| match (text.chars().count(), DateTime::parse_digits(text)) {
                (14, Some(_)) => Ok(()),
                (14, None) => Err(prepaid_domain::Rule::Invalid),
                _ => Err(prepaid_domain::Rule::Length),
            },
        }),
        description: "When it reached it, yyyyMMddHHmmss in Korea Standard Time.",
        reference: None,
    },
];

const STEP_KIND: Kind = Kind::Object(&STEP);

static RESPONSE: [Member; 2] = [
    Member {
        name: "status",
        path: "status",
        presence: Presence::Required,
        kind: STATUS,
        description: "READY: waiting for reception; RECEIPT: received; PRE_SHIPPING: preparing shipment; SHIPPING: in transit; ARRIVAL: delivered; LOST: lost; RETURN: returned; CANCEL: delivery cancelled; ETC: other (system failure).",
        reference: None,
    },
    Member {
        name: "statusHistory",
        path: "statusHistory",
        presence: Presence::Required,
        kind: Kind::List {
            min: 1,
            max: DeliveryHistory::MOST_STEPS,
            item: &STEP_KIND,
        },
        description: "Every status the delivery went through, oldest first, the last being `status` (this service's extension).",
        reference: None,
    },
];

/// The sandbox's delivered-then-cancelled application of its active member (a fixture).
const FIXTURE: &str = r#"{"userId": 1001, "cardApplyNo": "20261124003000000DLVRY"}"#;

static SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "delivery",
        summary: "200 - Test succeeded",
        request: FIXTURE,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"status": "CANCEL", "statusHistory": [{"status": "READY", "changedAt": "20261124093000"}, {"status": "RECEIPT", "changedAt": "20261124100000"}, {"status": "CANCEL", "changedAt": "20261124111500"}]}"#,
        ),
        prepare: None,
    },
    Scenario {
        name: "invalidUserId",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 0, "cardApplyNo": "20261124003000000DLVRY"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("userId"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userId": 1002, "cardApplyNo": "20261124003000000DLVRY"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownApplication",
        summary: "400 - Invalid card information entered",
        request: r#"{"userId": 1001, "cardApplyNo": "20261125003000000NONE0"}"#,
        code: ErrorCode::InvalidCardInfo,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// One status reached.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    status: &'static str,
    changed_at: String,
}

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    status: &'static str,
    status_history: Vec<Step>,
}

/// A moment as the answer writes it: `yyyyMMddHHmmss` in KST.
fn kst_digits(at: prepaid_domain::Timestamp) -> Result<String, ApiError> {
    at.civil(TimeZone::Kst)
        .map(|civil| civil.to_digits14())
        .ok_or_else(|| {
            tracing::error!("a delivery step is dated outside years 1 to 9999");
            ApiError::new(ErrorCode::SystemError)
        })
}

/// Runs the operation through the delivery inquiry use case.
pub struct DeliveryInquiryEndpoint(pub Arc<dyn InquireDeliveries>);

#[async_trait]
impl Endpoint for DeliveryInquiryEndpoint {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let inquiry = DeliveryInquiry {
            asp_id: call.headers.asp_id.clone(),
            member: member_id(call.body, "userId", "userId")?,
            application: CardApplyNo::parse(text(call.body, "cardApplyNo"))
                .map_err(|error| ApiError::at(error.code(), "cardApplyNo"))?,
        };
        let history = call.answered(&OPERATION, "deliveries", self.0.delivery(&inquiry).await)?;
        Ok(payload(&Payload {
            status: history.current().as_str(),
            status_history: history
                .steps()
                .iter()
                .map(|step| {
                    Ok(Step {
                        status: step.status.as_str(),
                        changed_at: kst_digits(step.at)?,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
        }))
    }
}
