//! "Cancellation of Card Application" (`/api/v1/card/delivery/cancel`, D17): on the day of
//! application, the application is cancelled with its delivery, and its mobile card discarded.
//! A plaintext request; the answer carries the discarded card's number, so it is encrypted
//! (D13). It changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{CancelApplicationCommand, CancelApplications};
use prepaid_domain::{CardApplyNo, ErrorCode, Pan, Par};
use serde::Serialize;

use super::{CARD_APPLY_NO, Call, Endpoint, MEMBER_ID, member_id, payload, rule_of, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Prepare, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "cancelCardApplication",
    summary: "Cancellation of Card Application",
    description: "Cancels a member's card application on the day it was made (KST), while nothing has been prepared for delivery and its mobile card is unused: the delivery is cancelled and the mobile card discarded, whose number and PAR are answered.",
    path: crate::CANCEL_APPLICATION_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::NotCancellableToday,
            "The application was not made today (Korea Standard Time).",
        ),
        (
            ErrorCode::NotCancellableInThisStatus,
            "The application is past `DIGITAL_ISSUED` or already cancelled, its delivery is being prepared or on its way, or its mobile card was used.",
        ),
        (
            ErrorCode::CardIssueNotFound,
            "No application of the member with this number (another member's or another project's application is answered the same way).",
        ),
    ],
    encrypted_request: false,
    encrypted_response: true,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 2] = [
    Member {
        name: "cardApplyNo",
        path: "cardApplyNo",
        presence: Presence::Required,
        kind: CARD_APPLY_NO,
        description: "The application to cancel.",
        reference: None,
    },
    Member {
        name: "userId",
        path: "userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "Member id, 1 to 9999999999999999999 (beyond int64).",
        reference: None,
    },
];

static RESPONSE: [Member; 2] = [
    Member {
        name: "mobileCardNo",
        path: "mobileCardNo",
        presence: Presence::Optional,
        kind: Kind::Text(Text {
            min: Pan::LENGTH,
            max: Pan::LENGTH,
            pattern: Some("^[0-9]{16}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Pan::parse(text)),
        }),
        description: "The number of the discarded mobile card, when the application had one.",
        reference: None,
    },
    Member {
        name: "par",
        path: "par",
        presence: Presence::Optional,
        kind: Kind::Text(Text {
            min: Par::LENGTH,
            max: Par::LENGTH,
            pattern: Some("^[0-9A-Z]{27}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Par::parse(text)),
        }),
        description: "The PAR of the discarded mobile card, when the application had one.",
        reference: None,
    },
];

static SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "cancelMobileCard",
        summary: "200 - Test succeeded (the mobile card is discarded)",
        request: r#"{"cardApplyNo": "20261125063000456ZX90Q", "userId": 1001}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"mobileCardNo": "9435120001234568", "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
        ),
        prepare: Some(Prepare {
            operation: &super::issue_delivery::OPERATION,
            scenario: "mobileOnly",
            member: Some(("cardApplyNo", "cardApplyNo")),
        }),
    },
    Scenario {
        name: "cancelDelivery",
        summary: "200 - Test succeeded (the delivery is cancelled; no mobile card was issued)",
        request: r#"{"cardApplyNo": "20261125063000123AB12C", "userId": 1001}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some("{}"),
        prepare: Some(Prepare {
            operation: &super::issue_delivery::OPERATION,
            scenario: "delivery",
            member: Some(("cardApplyNo", "cardApplyNo")),
        }),
    },
    Scenario {
        name: "invalidUserId",
        summary: "400 - Invalid input parameter",
        request: r#"{"cardApplyNo": "20261124003000003PRNTD", "userId": 0}"#,
        code: ErrorCode::InvalidInput,
        path: Some("userId"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"cardApplyNo": "20261124003000003PRNTD", "userId": 1002}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "notToday",
        summary: "400 - Cancellation is only possible on the day of application",
        request: r#"{"cardApplyNo": "20261124003000003PRNTD", "userId": 1001}"#,
        code: ErrorCode::NotCancellableToday,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownApplication",
        summary: "400 - Indicated card issue not found",
        request: r#"{"cardApplyNo": "20261125003000000NONE1", "userId": 1001}"#,
        code: ErrorCode::CardIssueNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile_card_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    par: Option<String>,
}

/// Runs the operation through the cancel use case.
pub struct CancelApplication(pub Arc<dyn CancelApplications>);

#[async_trait]
impl Endpoint for CancelApplication {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = CancelApplicationCommand {
            key: call.idempotency_key(),
            application: CardApplyNo::parse(text(call.body, "cardApplyNo"))
                .map_err(|error| ApiError::at(error.code(), "cardApplyNo"))?,
            member: member_id(call.body, "userId", "userId")?,
        };
        let outcome = call.answered(&OPERATION, "cancel", self.0.cancel(&command).await)?;
        tracing::info!(
            replayed = outcome.replayed,
            mobile_card_discarded = outcome.discarded.is_some(),
            "card application cancelled"
        );
        let discarded = outcome.discarded.as_ref();
        Ok(payload(&Payload {
            mobile_card_no: discarded.map(|card| card.pan.expose().to_owned()),
            par: discarded.map(|card| card.par.as_str().to_owned()),
        }))
    }
}
