//! "Search for Member Information" (`/api/v1/user/info`, D24): what a member registered, never
//! the password. Encrypted both ways (D13): the answer is personal data. It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::ManageMembers;
use prepaid_domain::{AspId, ErrorCode};
use serde::Serialize;

use super::issue_delivery::ADDRESS_LINE;
use super::user_registration::{
    BIRTH_DATE, CI, EMAIL, GENDER, JOIN_CHANNEL, LOGIN_ID, MOBILE_NUMBER, NATIONALITY, USER_NAME,
};
use super::{Call, Endpoint, MEMBER_ID, member_id, payload, rule_of};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Prepare, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "inquireUserInfo",
    summary: "Search for Member Information",
    description: "What an active member of the project registered, as they registered it (the password never). The answer is encrypted whatever the request.",
    path: crate::USER_INFO_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[(
        ErrorCode::WalletUserNotFound,
        "Not a member of this project, or a member who cancelled membership.",
    )],
    encrypted_request: true,
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
    description: "Member id.",
    reference: None,
}];

static ADDRESS: [Member; 3] = [
    Member {
        name: "address",
        path: "userInfo.addressInfo.address",
        presence: Presence::Required,
        kind: Kind::Text(ADDRESS_LINE),
        description: "Road-name address.",
        reference: None,
    },
    Member {
        name: "addressDetail",
        path: "userInfo.addressInfo.addressDetail",
        presence: Presence::Required,
        kind: Kind::Text(ADDRESS_LINE),
        description: "Detailed address.",
        reference: None,
    },
    Member {
        name: "zipCode",
        path: "userInfo.addressInfo.zipCode",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 5,
            max: 5,
            pattern: Some("^[0-9]{5}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(prepaid_domain::ZipCode::parse(text)),
        }),
        description: "Postal code, 5 digits.",
        reference: None,
    },
];

static USER_INFO: [Member; 12] = [
    Member {
        name: "aspId",
        path: "userInfo.aspId",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: AspId::LENGTH,
            max: AspId::LENGTH,
            pattern: Some("^[A-Za-z0-9]{15}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(AspId::parse(text)),
        }),
        description: "The project the member belongs to.",
        reference: None,
    },
    Member {
        name: "userId",
        path: "userInfo.userId",
        presence: Presence::Required,
        kind: MEMBER_ID,
        description: "Member id.",
        reference: None,
    },
    Member {
        name: "loginId",
        path: "userInfo.loginId",
        presence: Presence::Required,
        kind: LOGIN_ID,
        description: "Login id, as registered.",
        reference: None,
    },
    Member {
        name: "birthDate",
        path: "userInfo.birthDate",
        presence: Presence::Required,
        kind: BIRTH_DATE,
        description: "Birth date, `yyyyMMdd`.",
        reference: None,
    },
    Member {
        name: "nationality",
        path: "userInfo.nationality",
        presence: Presence::Required,
        kind: NATIONALITY,
        description: "`Korean` or `Foreigner`.",
        reference: None,
    },
    Member {
        name: "gender",
        path: "userInfo.gender",
        presence: Presence::Required,
        kind: GENDER,
        description: "`Male` or `Female`.",
        reference: None,
    },
    Member {
        name: "userName",
        path: "userInfo.userName",
        presence: Presence::Required,
        kind: USER_NAME,
        description: "Name.",
        reference: None,
    },
    Member {
        name: "mobileNumber",
        path: "userInfo.mobileNumber",
        presence: Presence::Required,
        kind: MOBILE_NUMBER,
        description: "Mobile number.",
        reference: None,
    },
    Member {
        name: "email",
        path: "userInfo.email",
        presence: Presence::Required,
        kind: EMAIL,
        description: "E-mail address.",
        reference: None,
    },
    Member {
        name: "ci",
        path: "userInfo.ci",
        presence: Presence::Optional,
        kind: CI,
        description: "CI, when one was registered.",
        reference: None,
    },
    Member {
        name: "addressInfo",
        path: "userInfo.addressInfo",
        presence: Presence::Optional,
        kind: Kind::Object(&ADDRESS),
        description: "Address, when one was registered.",
        reference: None,
    },
    Member {
        name: "joinChannel",
        path: "userInfo.joinChannel",
        presence: Presence::Optional,
        kind: JOIN_CHANNEL,
        description: "Where the member signed up, when it was told.",
        reference: None,
    },
];

static RESPONSE: [Member; 1] = [Member {
    name: "userInfo",
    path: "userInfo",
    presence: Presence::Required,
    kind: Kind::Object(&USER_INFO),
    description: "The member.",
    reference: None,
}];

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "memberInfo",
        summary: "200 - Test succeeded (the sandbox's member 1001, after their password check)",
        request: r#"{"userId": 1001}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"userInfo": {"aspId": "ASPSANDBOX00001", "userId": 1001, "loginId": "member1001@sandbox.example", "birthDate": "19900101", "nationality": "Korean", "gender": "Female", "userName": "김하나", "mobileNumber": "01000001001", "email": "member1001@sandbox.example", "ci": "U0FOREJPWC1GSVhUVVJFLU1FTUJFUi0xMDAxLUFDVElWRS1DSS1WQUxVRS1GT1ItVEVTVC1EQVRBLU9OTFkwMA==", "joinChannel": "OPENAPI"}}"#,
        ),
        prepare: Some(Prepare {
            operation: &super::password_check::OPERATION,
            scenario: "rightPassword",
            member: Some(("userId", "userId")),
        }),
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership (the sandbox has no member 1009)",
        request: r#"{"userId": 1009}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "invalidUserId",
        summary: "400 - Invalid input parameter",
        request: r#"{"userId": 10000000000000000000}"#,
        code: ErrorCode::InvalidInput,
        path: Some("userId"),
        payload: None,
        prepare: None,
    },
];

/// An address, as answered.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressDto {
    address: String,
    address_detail: String,
    zip_code: String,
}

/// The member, as answered.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserInfoDto {
    asp_id: String,
    user_id: u64,
    login_id: String,
    birth_date: String,
    nationality: &'static str,
    gender: &'static str,
    user_name: String,
    mobile_number: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_info: Option<AddressDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    join_channel: Option<String>,
}

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Found {
    user_info: UserInfoDto,
}

/// Runs the operation through the members' use cases.
pub struct UserInfo(pub Arc<dyn ManageMembers>);

#[async_trait]
impl Endpoint for UserInfo {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let asp_id = &call.headers.asp_id;
        let id = member_id(call.body, "userId", "userId")?;
        let info = call.answered(
            &OPERATION,
            "member information",
            self.0.info(asp_id, id).await,
        )?;
        let profile = info.profile;
        Ok(payload(&Found {
            user_info: UserInfoDto {
                asp_id: asp_id.as_str().to_owned(),
                user_id: info.id.get(),
                login_id: profile.login_id.expose().to_owned(),
                birth_date: profile.birth_date.to_digits(),
                nationality: profile.nationality.as_str(),
                gender: profile.gender.as_str(),
                user_name: profile.name.expose().to_owned(),
                mobile_number: profile.mobile.expose().to_owned(),
                email: profile.email.expose().to_owned(),
                ci: profile.ci.map(|ci| ci.expose().to_owned()),
                address_info: profile.address.map(|address| AddressDto {
                    address: address.address.as_str().to_owned(),
                    address_detail: address.detail.as_str().to_owned(),
                    zip_code: address.zip_code.as_str().to_owned(),
                }),
                join_channel: info.join_channel.map(|channel| channel.as_str().to_owned()),
            },
        }))
    }
}
