//! "User Register" (`/api/v1/user/registration`, D24): a partner app signs a member up. Encrypted
//! both ways (D13): the request holds personal data and the password. It changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::ports::IdempotencyKey;
use prepaid_application::{ManageMembers, RegisterMemberCommand};
use prepaid_domain::{
    BirthDate, Ci, Email, ErrorCode, Gender, JoinChannel, LoginId, LoginPassword, MemberProfile,
    MobileNumber, Nationality, UserName,
};
use serde::Serialize;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;

use super::issue_delivery::{ADDRESS_INFO, address};
use super::{
    CARD_NO, Call, Endpoint, MEMBER_ID, PAR, SERVICE_ID, enumeration, payload, rule_of, text,
};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "registerUser",
    summary: "User Register",
    description: "Signs a member up in the calling project: a new `userId` (drawn at random from 1 to 9999999999999999999), and the mobile card of the project's basic product when it names one, issued in the same write (`basicCardInfo`). Fields are checked in the order of the table; the password is checked against the request's own `mobileNumber` after every field's own rules. Login id (compared in lower case), mobile number and CI are each unique in the project. The password is kept only as a keyed Argon2id hash, every other personal value sealed (AES-256-GCM); none is ever logged.",
    path: crate::USER_REGISTRATION_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[(
        ErrorCode::UserAlreadyExists,
        "A member of the project holds the `loginId` (in any case), the `mobileNumber` or the `ci`, cancelled members included.",
    )],
    encrypted_request: true,
    encrypted_response: true,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

/// A login id: an e-mail address of 1 to 80 characters.
pub(super) const LOGIN_ID: Kind = Kind::Text(Text {
    min: 1,
    max: 80,
    pattern: None,
    values: &[],
    normalized: false,
    check: |text| rule_of(LoginId::parse(text)),
});

/// A password as sent: six digits, the runs refused here too (the mobile number later). No
/// pattern: a document's pattern must accept exactly what the check does, and no regular
/// expression of the document's dialect says "no run".
const PASSWORD: Kind = Kind::Text(Text {
    min: 6,
    max: 6,
    pattern: None,
    values: &[],
    normalized: false,
    check: |text| rule_of(LoginPassword::parse(text, "")),
});

/// A CI: 88 characters of Base64.
pub(super) const CI: Kind = Kind::Text(Text {
    min: Ci::LENGTH,
    max: Ci::LENGTH,
    pattern: Some("^[A-Za-z0-9+/]{86}([A-Za-z0-9+/]{2}|[A-Za-z0-9+/]=|==)$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(Ci::parse(text)),
});

const NATIONALITIES: [&str; 2] = [
    Nationality::Korean.as_str(),
    Nationality::Foreigner.as_str(),
];
const GENDERS: [&str; 2] = [Gender::Male.as_str(), Gender::Female.as_str()];

/// A birth date: `yyyyMMdd`, a real day.
pub(super) const BIRTH_DATE: Kind = Kind::Text(Text {
    min: 8,
    max: 8,
    // No pattern: eight digits are not all real days.
    pattern: None,
    values: &[],
    normalized: false,
    check: |text| rule_of(BirthDate::parse(text)),
});

pub(super) const NATIONALITY: Kind = Kind::Text(Text {
    min: 6,
    max: 9,
    pattern: None,
    values: &NATIONALITIES,
    normalized: false,
    check: |text| enumeration(text, 6, 9, &NATIONALITIES),
});

pub(super) const GENDER: Kind = Kind::Text(Text {
    min: 4,
    max: 6,
    pattern: None,
    values: &GENDERS,
    normalized: false,
    check: |text| enumeration(text, 4, 6, &GENDERS),
});

pub(super) const USER_NAME: Kind = Kind::Text(Text {
    min: 1,
    max: 100,
    pattern: None,
    values: &[],
    normalized: true,
    check: |text| rule_of(UserName::parse(text)),
});

pub(super) const MOBILE_NUMBER: Kind = Kind::Text(Text {
    min: 10,
    max: 11,
    pattern: Some("^[0-9]{10,11}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(MobileNumber::parse(text)),
});

pub(super) const EMAIL: Kind = Kind::Text(Text {
    min: 1,
    max: 50,
    pattern: None,
    values: &[],
    normalized: false,
    check: |text| rule_of(Email::parse(text)),
});

pub(super) const JOIN_CHANNEL: Kind = Kind::Text(Text {
    min: 1,
    max: 20,
    pattern: None,
    values: &[],
    normalized: false,
    check: |text| rule_of(JoinChannel::parse(text)),
});

static REQUEST: [Member; 11] = [
    Member {
        name: "loginId",
        path: "loginId",
        presence: Presence::Required,
        kind: LOGIN_ID,
        description: "Login id: an e-mail address, unique in the project whatever its case.",
        reference: None,
    },
    Member {
        name: "loginPassword",
        path: "loginPassword",
        presence: Presence::Required,
        kind: PASSWORD,
        description: "Exactly six digits; no digit three times in a row, no three ascending or descending in a row (`123`, `987`), not found inside `mobileNumber`.",
        reference: None,
    },
    Member {
        name: "birthDate",
        path: "birthDate",
        presence: Presence::Required,
        kind: BIRTH_DATE,
        description: "Birth date, `yyyyMMdd`, a real day from 1900 to 2099.",
        reference: None,
    },
    Member {
        name: "nationality",
        path: "nationality",
        presence: Presence::Required,
        kind: NATIONALITY,
        description: "`Korean` or `Foreigner`.",
        reference: None,
    },
    Member {
        name: "gender",
        path: "gender",
        presence: Presence::Required,
        kind: GENDER,
        description: "`Male` or `Female`.",
        reference: None,
    },
    Member {
        name: "userName",
        path: "userName",
        presence: Presence::Required,
        kind: USER_NAME,
        description: "The member's name, 1 to 100 characters (kept in Unicode NFC).",
        reference: None,
    },
    Member {
        name: "mobileNumber",
        path: "mobileNumber",
        presence: Presence::Required,
        kind: MOBILE_NUMBER,
        description: "Mobile number, 10 or 11 digits; unique in the project.",
        reference: None,
    },
    Member {
        name: "email",
        path: "email",
        presence: Presence::Required,
        kind: EMAIL,
        description: "E-mail address, 1 to 50 characters.",
        reference: None,
    },
    Member {
        name: "ci",
        path: "ci",
        presence: Presence::Optional,
        kind: CI,
        description: "Connecting information from identity verification, 88 characters of Base64; unique in the project.",
        reference: None,
    },
    Member {
        name: "addressInfo",
        path: "addressInfo",
        presence: Presence::Optional,
        kind: Kind::Object(&ADDRESS_INFO),
        description: "The member's address.",
        reference: None,
    },
    Member {
        name: "joinChannel",
        path: "joinChannel",
        presence: Presence::Optional,
        kind: JOIN_CHANNEL,
        description: "Where the member signed up (for example `OPENAPI`, `KONA`).",
        reference: None,
    },
];

/// The last valid day of a card, `YYMMDD`.
const EXPIRY_DAY: Kind = Kind::Text(Text {
    min: 6,
    max: 6,
    pattern: Some("^[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$"),
    values: &[],
    normalized: false,
    check: |text| {
        if text.chars().count() != 6 {
            return Err(prepaid_domain::Rule::Length);
        }
        match (text.get(..4), text.get(4..)) {
            // A day as the pattern has it: 01 to 31.
            (Some(month), Some(day))
                if day.bytes().all(|byte| byte.is_ascii_digit())
                    && (1..=31).contains(&day.parse::<u8>().unwrap_or(0)) =>
            {
                rule_of(prepaid_domain::Expiry::parse(month))
            }
            _ => Err(prepaid_domain::Rule::Invalid),
        }
    },
});

static BASIC_CARD: [Member; 4] = [
    Member {
        name: "par",
        path: "basicCardInfo.par",
        presence: Presence::Required,
        kind: PAR,
        description: "The basic card's PAR.",
        reference: None,
    },
    Member {
        name: "cardNo",
        path: "basicCardInfo.cardNo",
        presence: Presence::Required,
        kind: CARD_NO,
        description: "The basic card's number.",
        reference: None,
    },
    Member {
        name: "expiryDate",
        path: "basicCardInfo.expiryDate",
        presence: Presence::Required,
        kind: EXPIRY_DAY,
        description: "Its last valid day, `YYMMDD` (the last day of its expiry month).",
        reference: None,
    },
    Member {
        name: "serviceId",
        path: "basicCardInfo.serviceId",
        presence: Presence::Required,
        kind: SERVICE_ID,
        description: "The project's basic product.",
        reference: None,
    },
];

static RESPONSE: [Member; 2] = [
    Member {
        name: "userId",
        path: "userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "The new member's id.",
        reference: None,
    },
    Member {
        name: "basicCardInfo",
        path: "basicCardInfo",
        presence: Presence::Optional,
        kind: Kind::Object(&BASIC_CARD),
        description: "The mobile card of the project's basic product, issued with the sign-up when the project names one (an operator's `admin set-basic-product`); absent otherwise.",
        reference: None,
    },
];

static SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "register",
        summary: "200 - Test succeeded (a new member; a second run finds the login id taken)",
        request: r#"{"loginId": "new.member@sandbox.example", "loginPassword": "135790", "birthDate": "19950315", "nationality": "Korean", "gender": "Female", "userName": "박새롬", "mobileNumber": "01077770001", "email": "new.member@sandbox.example", "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "joinChannel": "OPENAPI"}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(r#"{"userId": 7310459285014467201}"#),
        prepare: None,
    },
    Scenario {
        name: "loginIdTaken",
        summary: "400 - User already exists (the sandbox's member 1001 holds the login id)",
        request: r#"{"loginId": "Member1001@Sandbox.example", "loginPassword": "135790", "birthDate": "19950315", "nationality": "Korean", "gender": "Female", "userName": "박새롬", "mobileNumber": "01077770002", "email": "other@sandbox.example"}"#,
        code: ErrorCode::UserAlreadyExists,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "passwordInMobileNumber",
        summary: "400 - Invalid input parameter (the password is inside the mobile number)",
        request: r#"{"loginId": "another@sandbox.example", "loginPassword": "770770", "birthDate": "19950315", "nationality": "Korean", "gender": "Female", "userName": "박새롬", "mobileNumber": "01077077003", "email": "another@sandbox.example"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("loginPassword"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "passwordRun",
        summary: "400 - Invalid input parameter (three ascending digits)",
        request: r#"{"loginId": "another@sandbox.example", "loginPassword": "123790", "birthDate": "19950315", "nationality": "Korean", "gender": "Female", "userName": "박새롬", "mobileNumber": "01077770003", "email": "another@sandbox.example"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("loginPassword"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "birthDateLength",
        summary: "400 - The length of value does not match",
        request: r#"{"loginId": "another@sandbox.example", "loginPassword": "135790", "birthDate": "1995031", "nationality": "Korean", "gender": "Female", "userName": "박새롬", "mobileNumber": "01077770003", "email": "another@sandbox.example"}"#,
        code: ErrorCode::LengthMismatch,
        path: Some("birthDate"),
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    user_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    basic_card_info: Option<BasicCardInfo>,
}

/// `basicCardInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BasicCardInfo {
    par: String,
    card_no: String,
    expiry_date: String,
    service_id: String,
}

/// The sign-up a validated body asks for, under `key`.
pub fn command(
    body: &Map<String, Value>,
    key: IdempotencyKey,
) -> Result<RegisterMemberCommand, ApiError> {
    let nfc = |name| text(body, name).nfc().collect::<String>();
    let mobile_text = text(body, "mobileNumber");
    let profile = MemberProfile {
        login_id: LoginId::parse(text(body, "loginId"))?,
        birth_date: BirthDate::parse(text(body, "birthDate"))?,
        nationality: Nationality::parse(text(body, "nationality"))?,
        gender: Gender::parse(text(body, "gender"))?,
        name: UserName::parse(&nfc("userName"))?,
        mobile: MobileNumber::parse(mobile_text)?,
        email: Email::parse(text(body, "email"))?,
        ci: optional(body, "ci").map(Ci::parse).transpose()?,
        address: match body.get("addressInfo") {
            Some(Value::Object(_)) => Some(address(body)?),
            _ => None,
        },
    };
    Ok(RegisterMemberCommand {
        key,
        password: LoginPassword::parse(text(body, "loginPassword"), mobile_text)?,
        join_channel: optional(body, "joinChannel")
            .map(JoinChannel::parse)
            .transpose()?,
        profile,
    })
}

/// The string member `name`, when it is there.
pub(super) fn optional<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// Runs the operation through the members' use cases.
pub struct RegisterUser(pub Arc<dyn ManageMembers>);

#[async_trait]
impl Endpoint for RegisterUser {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = command(call.body, call.idempotency_key())?;
        let outcome = call.answered(
            &OPERATION,
            "member registration",
            self.0.register(&command).await,
        )?;
        tracing::info!(replayed = outcome.replayed, "member registered");
        Ok(payload(&Registered {
            user_id: outcome.id.get(),
            basic_card_info: outcome.basic_card.map(|card| BasicCardInfo {
                par: card.par.as_str().to_owned(),
                card_no: card.pan.expose().to_owned(),
                expiry_date: card.expiry.to_yymmdd(),
                service_id: card.product.as_str().to_owned(),
            }),
        }))
    }
}
