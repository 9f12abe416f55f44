//! "Reissuance & Renewal of Prepaid Card to be Expired" (`/api/v1/prepay-card/expired/reissue`,
//! D22): a member applies for the renewal of a card that expires within 30 days. Encrypted
//! request, plaintext response (D13); it changes state (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{RenewCardCommand, ReplaceCards};
use prepaid_domain::{ErrorCode, Pan};
use serde::Serialize;

use super::issue_delivery::{ADDRESS_INFO, USER_INFO, address};
use super::{CARD_APPLY_NO, CARD_NO, Call, Endpoint, member_id, object, payload, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Scenario};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "renewExpiringCard",
    summary: "Reissuance & Renewal of Prepaid Card to be Expired",
    description: "A member applies for the renewal of a card whose last valid day is at most 30 days away (dates in Korea Standard Time: from 30 days before the last day of the expiry month to that day). The new card is delivered to `addressInfo` and gets a new number and PAR; its mobile card is issued when the physical card is registered. The old card stays usable until then, and terminates with the cards linked to it when the new card is registered. Balances move with the ledger, which this service does not keep yet: every card reads 0.",
    path: crate::RENEW_CARD_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::CardNumberNotFound,
            "No card of the member with this `cardInfo.oldCardNo` (another member's or another project's card is answered the same way).",
        ),
        (
            ErrorCode::NotDueForRenewal,
            "The card's last valid day is more than 30 days away, or past.",
        ),
        (
            ErrorCode::CardNotActiveOrSuspended,
            "The card is neither `ACTIVE` nor `SUSPENDED`.",
        ),
        (
            ErrorCode::CardAlreadyRenewed,
            "A renewal of the card (or of a card linked to it) was applied for already and not cancelled.",
        ),
        (
            ErrorCode::ProductNotValidForReissue,
            "The card's product is no longer offered.",
        ),
    ],
    encrypted_request: true,
    encrypted_response: false,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

static CARD_INFO: [Member; 1] = [Member {
    name: "oldCardNo",
    path: "cardInfo.oldCardNo",
    presence: Presence::Required,
    kind: CARD_NO,
    description: "The number of the card that expires, mobile or physical.",
    reference: None,
}];

static REQUEST: [Member; 3] = [
    Member {
        name: "userInfo",
        path: "userInfo",
        presence: Presence::Required,
        kind: Kind::Object(&USER_INFO),
        description: "The member.",
        reference: None,
    },
    Member {
        name: "cardInfo",
        path: "cardInfo",
        presence: Presence::Required,
        kind: Kind::Object(&CARD_INFO),
        description: "The card that expires.",
        reference: None,
    },
    Member {
        name: "addressInfo",
        path: "addressInfo",
        presence: Presence::Required,
        kind: Kind::Object(&ADDRESS_INFO),
        description: "Where the new physical card is delivered.",
        reference: None,
    },
];

static RESPONSE: [Member; 1] = [Member {
    name: "cardApplyNo",
    path: "cardApplyNo",
    presence: Presence::Required,
    kind: CARD_APPLY_NO,
    description: "The renewal's application number.",
    reference: None,
}];

static SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "renew",
        summary: "200 - Test succeeded (the sandbox's card near expiry is renewed)",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"oldCardNo": "9435129000000029"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(r#"{"cardApplyNo": "20261206120000456ZX90Q"}"#),
        prepare: None,
    },
    Scenario {
        name: "alreadyRenewed",
        summary: "400 - Card issue status is not allowed to reissue",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"oldCardNo": "9435129000000029"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1002호", "zipCode": "06236"}}"#,
        code: ErrorCode::CardAlreadyRenewed,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "notDue",
        summary: "400 - Card expiry date is not proper to reissue (the sandbox's lost card expires in years)",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"oldCardNo": "9435129000000011"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::NotDueForRenewal,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "invalidCardNo",
        summary: "400 - Invalid input parameter",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"oldCardNo": "943512000123456A"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::InvalidInput,
        path: Some("cardInfo.oldCardNo"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userInfo": {"userId": 1002}, "cardInfo": {"oldCardNo": "9435129000000029"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownCardNo",
        summary: "400 - Par not found from cardNo",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"oldCardNo": "9435129999999991"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::CardNumberNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Renewed {
    card_apply_no: String,
}

/// Runs the operation through the replacement use case.
pub struct RenewCard(pub Arc<dyn ReplaceCards>);

#[async_trait]
impl Endpoint for RenewCard {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let user = object(call.body, "userInfo").cloned().unwrap_or_default();
        let card = object(call.body, "cardInfo").cloned().unwrap_or_default();
        let command = RenewCardCommand {
            key: call.idempotency_key(),
            member: member_id(&user, "userId", "userInfo.userId")?,
            pan: Pan::parse(text(&card, "oldCardNo"))
                .map_err(|error| ApiError::at(error.code(), "cardInfo.oldCardNo"))?,
            address: address(call.body)?,
        };
        let outcome = call.answered(&OPERATION, "renewal", self.0.renew(&command).await)?;
        tracing::info!(replayed = outcome.replayed, "card renewal applied for");
        Ok(payload(&Renewed {
            card_apply_no: outcome.application_number.as_str().to_owned(),
        }))
    }
}
