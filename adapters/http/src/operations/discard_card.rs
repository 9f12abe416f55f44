//! "Discarding a Card" (`/api/v1/card/terminate`, D21): a member discards a card; a mobile card
//! takes the physical cards linked to it. Plaintext both ways (D13); no response fields. It
//! changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{DiscardCardCommand, DiscardCards};
use prepaid_domain::{ErrorCode, Par};

use super::{Call, Endpoint, MEMBER_ID, PAR, member_id, payload, text};
use crate::error::ApiError;
use crate::operation::{Member, Operation, Prepare, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "discardCard",
    summary: "Discarding a Card",
    description: "Discards a member's card: it becomes `TERMINATED` for good, and a mobile card takes the physical cards linked to it. A physical card linked to a mobile card goes only with it. A card holding a balance is not discarded (balances are kept with the ledger, which this service does not keep yet: every card reads 0).",
    path: crate::DISCARD_CARD_PATH,
    request: &REQUEST,
    response: &[],
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::NoCardToDiscard,
            "No card of the member with this `par`, or one already terminated (another member's or another project's card is answered the same way).",
        ),
        (
            ErrorCode::BasicCardNotDiscardable,
            "The card is the member's basic card, issued with the sign-up: it goes only with the membership.",
        ),
        (
            ErrorCode::LinkedCardNotAlone,
            "The card is a physical card linked to a mobile card: discard the mobile card.",
        ),
        (ErrorCode::CardHasBalance, "The card holds a balance."),
    ],
    encrypted_request: false,
    encrypted_response: false,
    changes_state: true,
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
        name: "par",
        path: "par",
        presence: Presence::Required,
        kind: PAR,
        description: "The PAR of the card to discard, mobile or physical.",
        reference: None,
    },
];

static SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "discard",
        summary: "200 - Test succeeded (the card is discarded)",
        request: r#"{"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
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
        name: "invalidPar",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 1001, "par": "q1ab2cd3ef4gh5ij6kl7mn8op9q"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("par"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userId": 1002, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownCard",
        summary: "400 - Invalid card info",
        request: r#"{"userId": 1001, "par": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZ"}"#,
        code: ErrorCode::NoCardToDiscard,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// Runs the operation through the card management use case.
pub struct DiscardCard(pub Arc<dyn DiscardCards>);

#[async_trait]
impl Endpoint for DiscardCard {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = DiscardCardCommand {
            key: call.idempotency_key(),
            member: member_id(call.body, "userId", "userId")?,
            par: Par::parse(text(call.body, "par"))
                .map_err(|error| ApiError::at(error.code(), "par"))?,
        };
        let outcome = call.answered(&OPERATION, "discard", self.0.discard(&command).await)?;
        tracing::info!(replayed = outcome.replayed, "card discarded");
        Ok(payload(&serde_json::Map::new()))
    }
}
