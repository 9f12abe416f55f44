//! "Member password verify" (`/api/v1/user/password/check`, D24): the member whose login id and
//! password these are. Plaintext both ways, as the platform's page has it; an attempt is an
//! authentication, not a retryable change (D14): every attempt counts, retried or not.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::ManageMembers;
use prepaid_domain::{ErrorCode, LoginId, LoginPassword};
use serde::Serialize;

use super::user_registration::LOGIN_ID;
use super::{Call, Endpoint, MEMBER_ID, payload, rule_of, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "checkUserPassword",
    summary: "Member password verify",
    description: "The id of the active member of the project whose login id (in any case) and password these are. Every attempt is counted before it is evaluated: the fifth wrong one in a row is still answered `001_045` and locks the password, and from then on every attempt, right or wrong, is `001_069` until an operator unlocks it (`admin unlock-password`); a right one before the fifth clears the count. Of concurrent attempts, no more than five wrong ones are ever evaluated. A retry with the same correlation id is another attempt.",
    path: crate::PASSWORD_CHECK_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::PasswordMismatch,
            "A wrong password, or a login id no active member of the project holds (answered alike, after as long, so that login ids cannot be probed).",
        ),
        (
            ErrorCode::PasswordLocked,
            "The password is locked after five wrong attempts in a row; only an operator unlocks it.",
        ),
    ],
    encrypted_request: false,
    encrypted_response: false,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[],
};

/// A password as tried: six digits.
const PASSWORD: Kind = Kind::Text(Text {
    min: 6,
    max: 6,
    pattern: Some("^[0-9]{6}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(LoginPassword::attempt(text)),
});

static REQUEST: [Member; 2] = [
    Member {
        name: "loginId",
        path: "loginId",
        presence: Presence::Required,
        kind: LOGIN_ID,
        description: "Login id.",
        reference: None,
    },
    Member {
        name: "loginPassword",
        path: "loginPassword",
        presence: Presence::Required,
        kind: PASSWORD,
        description: "Password, six digits.",
        reference: None,
    },
];

static RESPONSE: [Member; 1] = [Member {
    name: "userId",
    path: "userId",
    presence: Presence::Required,
    kind: MEMBER_ID,
    description: "The member's id.",
    reference: None,
}];

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "rightPassword",
        summary: "200 - Test succeeded (the sandbox's member 1001)",
        request: r#"{"loginId": "member1001@sandbox.example", "loginPassword": "135790"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(r#"{"userId": 1001}"#),
        prepare: None,
    },
    Scenario {
        name: "cancelledMember",
        summary: "400 - Wallet pin didn't match (the sandbox's member 1002 cancelled membership)",
        request: r#"{"loginId": "member1002@sandbox.example", "loginPassword": "246802"}"#,
        code: ErrorCode::PasswordMismatch,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "passwordLength",
        summary: "400 - The length of value does not match",
        request: r#"{"loginId": "member1001@sandbox.example", "loginPassword": "13579"}"#,
        code: ErrorCode::LengthMismatch,
        path: Some("loginPassword"),
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Matched {
    user_id: u64,
}

/// Runs the operation through the members' use cases.
pub struct CheckPassword(pub Arc<dyn ManageMembers>);

#[async_trait]
impl Endpoint for CheckPassword {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let login_id = LoginId::parse(text(call.body, "loginId"))?;
        let password = LoginPassword::attempt(text(call.body, "loginPassword"))?;
        let id = call.answered(
            &OPERATION,
            "password check",
            self.0
                .check_password(&call.headers.asp_id, &login_id, &password)
                .await,
        )?;
        Ok(payload(&Matched { user_id: id.get() }))
    }
}
