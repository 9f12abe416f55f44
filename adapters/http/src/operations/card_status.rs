//! "Modification of the Card's State" (`/api/v1/card/status`, D20): a member reports a card
//! lost (`SUSPEND`) or lifts the report (`RESUME`), naming the card by its PAR or its number.
//! Plaintext both ways (D13); no response fields. It changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{CardRef, ChangeCardStateCommand, ChangeCardStates};
use prepaid_domain::{CardStateRequest, ErrorCode, Pan, Par};

use super::{CARD_NO, Call, Endpoint, MEMBER_ID, PAR, enumeration, member_id, payload, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Prepare, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "changeCardState",
    summary: "Modification of the Card's State",
    description: "Reports a member's card lost (`SUSPEND`: an `ACTIVE` card becomes `SUSPENDED`) or lifts the report (`RESUME`: it becomes `ACTIVE` again). The card is named by its PAR or by its number, exactly one of them; only that card changes, not the cards linked to it. Asking for the state the card already has succeeds and changes nothing. A card locked after wrong registration attempts is resumed only by an operator.",
    path: crate::CARD_STATE_PATH,
    request: &REQUEST,
    response: &[],
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::ParNotFound,
            "No card of the member with this `par` (another member's or another project's card is answered the same way).",
        ),
        (
            ErrorCode::InvalidCardInfo,
            "No card of the member with this `cardNo` (another member's or another project's card is answered the same way).",
        ),
        (
            ErrorCode::CardAlreadyTerminated,
            "The card is terminated; its state cannot change.",
        ),
        (
            ErrorCode::CardLocked,
            "`RESUME` of a card locked after five wrong registration attempts: only an operator resumes it.",
        ),
        (
            ErrorCode::CardNotRegistered,
            "The card is a physical card not registered yet (`INACTIVE`).",
        ),
    ],
    encrypted_request: false,
    encrypted_response: false,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

/// The states a member may ask for.
const STATES: [&str; 2] = [
    CardStateRequest::Suspend.as_str(),
    CardStateRequest::Resume.as_str(),
];

static REQUEST: [Member; 4] = [
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
        presence: Presence::OneOf("cardNo"),
        kind: PAR,
        description: "The PAR of the card.",
        reference: None,
    },
    Member {
        name: "cardNo",
        path: "cardNo",
        presence: Presence::Optional,
        kind: CARD_NO,
        description: "The number of the card, when it is not named by `par`.",
        reference: None,
    },
    Member {
        name: "status",
        path: "status",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 6,
            max: 7,
            pattern: None,
            values: &STATES,
            normalized: false,
            check: |text| enumeration(text, 6, 7, &STATES),
        }),
        description: "`SUSPEND` (report lost) or `RESUME` (lift the report).",
        reference: None,
    },
];

static SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "suspend",
        summary: "200 - Test succeeded (the card is reported lost)",
        request: r#"{"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "status": "SUSPEND"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some("{}"),
        prepare: Some(Prepare {
            operation: &super::issue_delivery::OPERATION,
            scenario: "mobileOnly",
            member: Some(("mobileCardPar", "par")),
        }),
    },
    Scenario {
        name: "invalidStatus",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "status": "ACTIVE"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("status"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userId": 1002, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "status": "SUSPEND"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownCardNo",
        summary: "400 - Invalid card information",
        request: r#"{"userId": 1001, "cardNo": "9435129999999991", "status": "SUSPEND"}"#,
        code: ErrorCode::InvalidCardInfo,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownPar",
        summary: "400 - Cannot find par",
        request: r#"{"userId": 1001, "par": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "status": "SUSPEND"}"#,
        code: ErrorCode::ParNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// Runs the operation through the card management use case.
pub struct ChangeCardState(pub Arc<dyn ChangeCardStates>);

#[async_trait]
impl Endpoint for ChangeCardState {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let member = member_id(call.body, "userId", "userId")?;
        let card = if call.body.get("par").is_some_and(|par| !par.is_null()) {
            CardRef::Par(
                Par::parse(text(call.body, "par"))
                    .map_err(|error| ApiError::at(error.code(), "par"))?,
            )
        } else {
            CardRef::Number(
                Pan::parse(text(call.body, "cardNo"))
                    .map_err(|error| ApiError::at(error.code(), "cardNo"))?,
            )
        };
        let request = CardStateRequest::parse(text(call.body, "status"))
            .ok_or_else(|| ApiError::at(ErrorCode::InvalidInput, "status"))?;
        let command = ChangeCardStateCommand {
            key: call.idempotency_key(),
            member,
            card,
            request,
        };
        let outcome = call.answered(
            &OPERATION,
            "card state",
            self.0.change_state(&command).await,
        )?;
        tracing::info!(
            replayed = outcome.replayed,
            status = request.as_str(),
            "card state changed"
        );
        Ok(payload(&serde_json::Map::new()))
    }
}
