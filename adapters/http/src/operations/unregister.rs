//! "Membership Cancellation" (`/api/v1/user/unregister`, D24): the member's cards terminated
//! and the member cancelled, in one transaction. Plaintext both ways (D13); no response fields.
//! It changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{CancelMembershipCommand, CancelMemberships};
use prepaid_domain::ErrorCode;

use super::{Call, Endpoint, MEMBER_ID, member_id, payload};
use crate::error::ApiError;
use crate::operation::{Member, Operation, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "unregisterUser",
    summary: "Membership Cancellation",
    description: "Cancels a membership: every card of the member that is not terminated yet becomes `TERMINATED` for good, in the same transaction as the member, who then answers `001_006` to every operation. Refused while a card is suspended (a reported loss waits for its reissue or its resumption). Cards holding a balance will refuse it too, with the ledger, which this service does not keep yet (every card reads 0). A retry with the same correlation id is answered as the first request was.",
    path: crate::UNREGISTER_PATH,
    request: &REQUEST,
    response: &[],
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership already.",
        ),
        (
            ErrorCode::MemberHasSuspendedCard,
            "A card of the member is suspended: resume it or have it reissued first.",
        ),
    ],
    encrypted_request: false,
    encrypted_response: false,
    changes_state: true,
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

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "unregister",
        summary: "200 - Test succeeded (the sandbox's member 1003; a second run finds them cancelled)",
        request: r#"{"userId": 1003}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some("{}"),
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership (the sandbox's member 1002 cancelled)",
        request: r#"{ "userId": 1002 }"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "invalidUserId",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": "1003"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("userId"),
        payload: None,
        prepare: None,
    },
];

/// Runs the operation through the membership cancellation use case.
pub struct Unregister(pub Arc<dyn CancelMemberships>);

#[async_trait]
impl Endpoint for Unregister {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = CancelMembershipCommand {
            key: call.idempotency_key(),
            member: member_id(call.body, "userId", "userId")?,
        };
        let outcome = call.answered(
            &OPERATION,
            "membership cancellation",
            self.0.cancel(&command).await,
        )?;
        tracing::info!(
            terminated = outcome.terminated,
            replayed = outcome.replayed,
            "membership cancelled"
        );
        Ok(payload(&serde_json::Map::new()))
    }
}
