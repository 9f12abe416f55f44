//! "Checking Log in ID" (`/api/v1/user/loginId/find`, D24): the login id of the member whose CI
//! this is. Encrypted request (it holds a CI), plaintext answer as the platform's page has it.
//! It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::ManageMembers;
use prepaid_domain::{Ci, ErrorCode};
use serde::Serialize;

use super::user_registration::{CI, LOGIN_ID};
use super::{Call, Endpoint, payload, text};
use crate::error::ApiError;
use crate::operation::{Member, Operation, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "findLoginId",
    summary: "Checking Log in ID",
    description: "The login id of the active member of the project whose CI this is.",
    path: crate::LOGIN_ID_FIND_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[(
        ErrorCode::WalletUserNotFound,
        "No active member of the project holds this CI (another project's member is answered the same way).",
    )],
    encrypted_request: true,
    encrypted_response: false,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 1] = [Member {
    name: "ci",
    path: "ci",
    presence: Presence::Required,
    kind: CI,
    description: "Connecting information, 88 characters of Base64.",
    reference: None,
}];

static RESPONSE: [Member; 1] = [Member {
    name: "loginId",
    path: "loginId",
    presence: Presence::Required,
    kind: LOGIN_ID,
    description: "The member's login id, as registered.",
    reference: None,
}];

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "found",
        summary: "200 - Test succeeded (the CI of the sandbox's member 1001)",
        request: r#"{"ci": "U0FOREJPWC1GSVhUVVJFLU1FTUJFUi0xMDAxLUFDVElWRS1DSS1WQUxVRS1GT1ItVEVTVC1EQVRBLU9OTFkwMA=="}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(r#"{"loginId": "member1001@sandbox.example"}"#),
        prepare: None,
    },
    Scenario {
        name: "unknownCi",
        summary: "400 - Wallet user not found",
        request: r#"{"ci": "VU5LTk9XTi1DSS1WQUxVRS1PRi1OTy1NRU1CRVItT0YtVEhFLVNBTkRCT1gtUFJPSkVDVC1BVC1BTEwtMDAwMA=="}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "ciLength",
        summary: "400 - The length of value does not match",
        request: r#"{"ci": "U0FOREJPWC1GSVhUVVJF"}"#,
        code: ErrorCode::LengthMismatch,
        path: Some("ci"),
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Found {
    login_id: String,
}

/// Runs the operation through the members' use cases.
pub struct FindLoginId(pub Arc<dyn ManageMembers>);

#[async_trait]
impl Endpoint for FindLoginId {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let ci = Ci::parse(text(call.body, "ci"))?;
        let login_id = call.answered(
            &OPERATION,
            "login id look-up",
            self.0.login_id(&call.headers.asp_id, &ci).await,
        )?;
        Ok(payload(&Found {
            login_id: login_id.expose().to_owned(),
        }))
    }
}
