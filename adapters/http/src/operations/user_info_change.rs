//! "Member Information Change" (`/api/v1/user/info/change`, D24): a partner app changes a
//! member's details. The request is encrypted (D13): it holds personal data; the answer holds
//! none. It changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{ChangeMemberCommand, ManageMembers};
use prepaid_domain::{
    BirthDate, ChangedDetails, Ci, Email, ErrorCode, Gender, MobileNumber, Nationality,
    ProfileChange, UserName,
};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization as _;

use super::issue_delivery::{ADDRESS_INFO, address};
use super::user_registration::{
    BIRTH_DATE, CI, EMAIL, GENDER, MOBILE_NUMBER, NATIONALITY, USER_NAME, optional,
};
use super::{Call, Endpoint, MEMBER_ID, member_id, payload};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "changeUserInfo",
    summary: "Member Information Change",
    description: "Changes the details of an active member of the project that the request names; the others stay. At least one detail (`000_003` when none). A new `ci` comes only with a corrected `birthDate` or `gender` (`000_002` at `ci` otherwise): the CI follows the identity it was verified for. The login id and the password are not changed here; the password's rule about the mobile number is a sign-up rule, not checked again. Each detail has its sign-up rule; mobile number and CI stay unique in the project. The answer holds no personal data.",
    path: crate::USER_INFO_CHANGE_PATH,
    request: &REQUEST,
    response: &[],
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::UserAlreadyExists,
            "Another member of the project holds the new `mobileNumber` or `ci`, cancelled members included.",
        ),
    ],
    encrypted_request: true,
    encrypted_response: false,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

static REQUEST: [Member; 9] = [
    Member {
        name: "userId",
        path: "userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "Member id.",
        reference: None,
    },
    Member {
        name: "userName",
        path: "userName",
        presence: Presence::Optional,
        kind: USER_NAME,
        description: "The member's name, 1 to 100 characters (kept in Unicode NFC).",
        reference: None,
    },
    Member {
        name: "birthDate",
        path: "birthDate",
        presence: Presence::Optional,
        kind: BIRTH_DATE,
        description: "Birth date, `yyyyMMdd`, a real day from 1900 to 2099.",
        reference: None,
    },
    Member {
        name: "gender",
        path: "gender",
        presence: Presence::Optional,
        kind: GENDER,
        description: "`Male` or `Female`.",
        reference: None,
    },
    Member {
        name: "nationality",
        path: "nationality",
        presence: Presence::Optional,
        kind: NATIONALITY,
        description: "`Korean` or `Foreigner`.",
        reference: None,
    },
    Member {
        name: "mobileNumber",
        path: "mobileNumber",
        presence: Presence::Optional,
        kind: MOBILE_NUMBER,
        description: "Mobile number, 10 or 11 digits; unique in the project.",
        reference: None,
    },
    Member {
        name: "email",
        path: "email",
        presence: Presence::Optional,
        kind: EMAIL,
        description: "E-mail address, 1 to 50 characters.",
        reference: None,
    },
    Member {
        name: "ci",
        path: "ci",
        presence: Presence::Optional,
        kind: CI,
        description: "Connecting information, 88 characters of Base64; unique in the project; only with `birthDate` or `gender`.",
        reference: None,
    },
    Member {
        name: "addressInfo",
        path: "addressInfo",
        presence: Presence::Optional,
        kind: Kind::Object(&ADDRESS_INFO),
        description: "The member's address, whole.",
        reference: None,
    },
];

static SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "changeInfo",
        summary: "200 - Test succeeded (the sandbox's member 1001 gets a new e-mail and address)",
        request: r#"{"userId": 1001, "email": "member1001.new@sandbox.example", "addressInfo": {"address": "서울특별시 중구 세종대로 110", "addressDetail": "2층", "zipCode": "04524"}}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some("{}"),
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership (the sandbox's member 1002 cancelled)",
        request: r#"{"userId": 1002, "email": "member1002.new@sandbox.example"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "mobileNumberTaken",
        summary: "400 - User already exists (the sandbox's member 1003 holds the mobile number)",
        request: r#"{"userId": 1001, "mobileNumber": "01000001003"}"#,
        code: ErrorCode::UserAlreadyExists,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "ciAlone",
        summary: "400 - Invalid input parameter (a new CI without a corrected birth date or gender)",
        request: r#"{"userId": 1001, "ci": "Q0ktQ0hBTkdFLVNBTkRCT1gtTUVNQkVSLTEwMDEtTkVXLUNJLVZBTFVFLUZPUi1URVNULURBVEEtT05MWS0wMA=="}"#,
        code: ErrorCode::InvalidInput,
        path: Some("ci"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nothingToChange",
        summary: "400 - Missing required values (no detail named)",
        request: r#"{"userId": 1001, "clientNonce": "nothing"}"#,
        code: ErrorCode::MissingValue,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// The change a validated body asks for.
fn command(call: &Call<'_>) -> Result<ChangeMemberCommand, ApiError> {
    let body = call.body;
    let nfc = |text: &str| text.nfc().collect::<String>();
    let details = ChangedDetails {
        name: optional(body, "userName")
            .map(|name| UserName::parse(&nfc(name)))
            .transpose()?,
        birth_date: optional(body, "birthDate")
            .map(BirthDate::parse)
            .transpose()?,
        gender: optional(body, "gender").map(Gender::parse).transpose()?,
        nationality: optional(body, "nationality")
            .map(Nationality::parse)
            .transpose()?,
        mobile: optional(body, "mobileNumber")
            .map(MobileNumber::parse)
            .transpose()?,
        email: optional(body, "email").map(Email::parse).transpose()?,
        ci: optional(body, "ci").map(Ci::parse).transpose()?,
        address: match body.get("addressInfo") {
            Some(Value::Object(_)) => Some(address(body)?),
            _ => None,
        },
    };
    let change = ProfileChange::new(details).map_err(|refusal| {
        refusal
            .field_error()
            .map_or(ApiError::new(ErrorCode::MissingValue), ApiError::from)
    })?;
    Ok(ChangeMemberCommand {
        key: call.idempotency_key(),
        member: member_id(call.body, "userId", "userId")?,
        change,
    })
}

/// Runs the operation through the members' use cases.
pub struct ChangeUserInfo(pub Arc<dyn ManageMembers>);

#[async_trait]
impl Endpoint for ChangeUserInfo {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = command(&call)?;
        let outcome = call.answered(
            &OPERATION,
            "member information change",
            self.0.change(&command).await,
        )?;
        tracing::info!(replayed = outcome.replayed, "member information changed");
        Ok(payload(&serde_json::Map::new()))
    }
}
