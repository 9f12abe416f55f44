//! "Reissuance of Prepaid Card" (`/api/v1/prepay-card/reissue/delivery`, D22): a member whose
//! card was reported lost applies for a new one. Encrypted both ways (D13); it changes state
//! (D14). The answer is the seed operation's: the new application, and its mobile card when
//! the product issues one at once.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{ReissueCardCommand, ReplaceCards};
use prepaid_domain::{ErrorCode, Par, ServiceId};

use super::issue_delivery::{ADDRESS_INFO, Payload, RESPONSE, USER_INFO, delivery_choice};
use super::{Call, Endpoint, PAR, SERVICE_ID, member_id, object, payload, text};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Reference, Scenario, present};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "reissueLostCard",
    summary: "Reissuance of Prepaid Card",
    description: "A member whose card is reported lost (`SUSPENDED` by the member) applies for a new card, of the lost card's product or of another product of its type (`nextServiceId`). The new card gets a new number and PAR; a pre-issuance product issues its mobile card at once, answered as by the issuance. The lost card and the cards linked to it are terminated with the application, in one transaction. A card locked by wrong registration attempts was not reported lost. Balances move to the new card with the ledger, which this service does not keep yet: every card reads 0.",
    path: crate::REISSUE_DELIVERY_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
        ),
        (
            ErrorCode::ParNotFound,
            "No card of the member with this `cardInfo.par` (another member's or another project's card is answered the same way).",
        ),
        (
            ErrorCode::CardAlreadyReissued,
            "The card was replaced by a reissue already.",
        ),
        (
            ErrorCode::ReissueInProgress,
            "A reissue of the card is in progress (applied for, not yet registered or cancelled).",
        ),
        (
            ErrorCode::CardNotReportedLost,
            "The card is not `SUSPENDED` by a loss report: active, terminated, not yet registered, or locked by wrong registration attempts.",
        ),
        (
            ErrorCode::InvalidNextServiceId,
            "`nextServiceId` (or the lost card's own product) is unknown, no longer offered, or of another type (NORMAL or MOBILE) than the lost card's.",
        ),
        (
            ErrorCode::DeliveryRequiredForNormalType,
            "A NORMAL product without delivery (`isDeliveryRequired` false).",
        ),
    ],
    encrypted_request: true,
    encrypted_response: true,
    changes_state: true,
    scenarios: &SCENARIOS,
    links: &[],
};

static CARD_INFO: [Member; 1] = [Member {
    name: "par",
    path: "cardInfo.par",
    presence: Presence::Required,
    kind: PAR,
    description: "The PAR of the lost card, mobile or physical.",
    reference: None,
}];

static REQUEST: [Member; 5] = [
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
        description: "The lost card.",
        reference: None,
    },
    Member {
        name: "nextServiceId",
        path: "nextServiceId",
        presence: Presence::Optional,
        kind: SERVICE_ID,
        description: "The new card's product, of the lost card's type; the lost card's product when absent.",
        reference: Some(Reference::Product),
    },
    Member {
        name: "isDeliveryRequired",
        path: "isDeliveryRequired",
        presence: Presence::Optional,
        kind: Kind::Boolean {
            default: Some(true),
        },
        description: "Whether a physical card is delivered; false asks for a mobile card only (MOBILE products).",
        reference: None,
    },
    Member {
        name: "addressInfo",
        path: "addressInfo",
        presence: Presence::RequiredUnlessFalse("isDeliveryRequired"),
        kind: Kind::Object(&ADDRESS_INFO),
        description: "Where the new physical card is delivered.",
        reference: None,
    },
];

static SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "reissue",
        summary: "200 - Test succeeded (the sandbox's lost card is reissued; it terminates)",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"par": "SANDBOXLOSTCARD000000000001"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(r#"{"cardApplyNo": "20261206120000123AB12C"}"#),
        prepare: None,
    },
    Scenario {
        name: "reissueInProgress",
        summary: "400 - There is in progress reissue type card apply no",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"par": "SANDBOXLOSTCARD000000000001"}, "isDeliveryRequired": true, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::ReissueInProgress,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "notReportedLost",
        summary: "400 - Card is not reported lost (the sandbox's card near expiry is active)",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"par": "SANDBOXEXPIRINGCARD00000001"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::CardNotReportedLost,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "invalidPar",
        summary: "400 - Invalid input parameter",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"par": "q1ab2cd3ef4gh5ij6kl7mn8op9q"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::InvalidInput,
        path: Some("cardInfo.par"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userInfo": {"userId": 1002}, "cardInfo": {"par": "SANDBOXLOSTCARD000000000001"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "unknownPar",
        summary: "400 - Cannot find par",
        request: r#"{"userInfo": {"userId": 1001}, "cardInfo": {"par": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZ"}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}}"#,
        code: ErrorCode::ParNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
];

/// Runs the operation through the replacement use case.
pub struct ReissueDelivery(pub Arc<dyn ReplaceCards>);

#[async_trait]
impl Endpoint for ReissueDelivery {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let user = object(call.body, "userInfo").cloned().unwrap_or_default();
        let card = object(call.body, "cardInfo").cloned().unwrap_or_default();
        let command = ReissueCardCommand {
            key: call.idempotency_key(),
            member: member_id(&user, "userId", "userInfo.userId")?,
            par: Par::parse(text(&card, "par"))
                .map_err(|error| ApiError::at(error.code(), "cardInfo.par"))?,
            next_product: present(call.body, "nextServiceId")
                .map(|_| ServiceId::parse(text(call.body, "nextServiceId")))
                .transpose()?,
            delivery: delivery_choice(call.body)?,
        };
        let outcome = call.answered(&OPERATION, "reissue", self.0.reissue(&command).await)?;
        tracing::info!(
            replayed = outcome.replayed,
            mobile_card = outcome.mobile_card.is_some(),
            "lost card reissued"
        );
        Ok(payload(&Payload::of(&outcome)))
    }
}
