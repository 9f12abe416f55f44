//! "Application for Issuance and Delivery of Prepaid Card" (`/api/v1/prepay-card/issue/delivery`):
//! the seed operation. Encrypted both ways; it changes state.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::{IssueCardCommand, IssueCards};
use prepaid_domain::{
    AddressDetail, Cvc, DeliveryAddress, DeliveryChoice, ErrorCode, IssuanceRequest, Pan, Par,
    Purpose, RoadAddress, ServiceId, ZipCode,
};
use serde::Serialize;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;

use super::{
    CARD_APPLY_NO, Call, Endpoint, MEMBER_ID, SERVICE_ID, member_id, object, payload, rule_of, text,
};
use crate::error::ApiError;
use crate::operation::{Kind, Member, Operation, Presence, Reference, Scenario, Text, present};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "issuePrepaidCardWithDelivery",
    summary: "Application for Issuance and Delivery of Prepaid Card",
    description: "A member selects a prepaid card product; the card is issued and a physical card delivered to the address. A pre-issuance or MOBILE product issues a mobile card at once, answered with its number, CVC and PAR.",
    path: crate::ISSUE_DELIVERY_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[
        (
            ErrorCode::InvalidInput,
            "A header or body value has the wrong type, format or value; the body is not a JSON object; the product is unknown or inactive (`serviceId`); `GIFTABLE` for a product that is not giftable (`purpose`).",
        ),
        (
            ErrorCode::WalletUserNotFound,
            "Not a member of this project, or a member who cancelled membership.",
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

/// An address line: no control character, and not only white space (what `RoadAddress` and
/// `AddressDetail` accept), as a pattern for the document.
pub const ADDRESS_LINE_PATTERN: &str =
    r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

pub(super) const ADDRESS_LINE: Text = Text {
    min: 1,
    max: 255,
    pattern: Some(ADDRESS_LINE_PATTERN),
    values: &[],
    normalized: true,
    check: |text| rule_of(RoadAddress::parse(text)),
};

pub(super) static USER_INFO: [Member; 1] = [Member {
    name: "userId",
    path: "userInfo.userId",
    presence: Presence::Required,
    kind: MEMBER_ID,
    description: "Member id, 1 to 9999999999999999999 (beyond int64).",
    reference: None,
}];

pub(super) static ADDRESS_INFO: [Member; 3] = [
    Member {
        name: "address",
        path: "addressInfo.address",
        presence: Presence::Required,
        kind: Kind::Text(ADDRESS_LINE),
        description: "Road-name address.",
        reference: None,
    },
    Member {
        name: "addressDetail",
        path: "addressInfo.addressDetail",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            check: |text| rule_of(AddressDetail::parse(text)),
            ..ADDRESS_LINE
        }),
        description: "Detailed address.",
        reference: None,
    },
    Member {
        name: "zipCode",
        path: "addressInfo.zipCode",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 5,
            max: 5,
            pattern: Some("^[0-9]{5}$"),
            values: &[],
            normalized: true,
            check: |text| rule_of(ZipCode::parse(text)),
        }),
        description: "Postal code.",
        reference: None,
    },
];

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
        name: "addressInfo",
        path: "addressInfo",
        presence: Presence::RequiredUnlessFalse("isDeliveryRequired"),
        kind: Kind::Object(&ADDRESS_INFO),
        description: "Where the physical card is delivered.",
        reference: None,
    },
    Member {
        name: "serviceId",
        path: "serviceId",
        presence: Presence::Required,
        kind: SERVICE_ID,
        description: "The card product.",
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
        name: "purpose",
        path: "purpose",
        presence: Presence::Optional,
        kind: Kind::Text(Text {
            min: 1,
            max: 10,
            pattern: None,
            values: &["GIFTABLE"],
            normalized: false,
            check: |text| rule_of(Purpose::parse(text)),
        }),
        description: "GIFTABLE: a card bought as a gift (giftable products only).",
        reference: None,
    },
];

pub(super) static RESPONSE: [Member; 4] = [
    Member {
        name: "cardApplyNo",
        path: "cardApplyNo",
        presence: Presence::Required,
        kind: CARD_APPLY_NO,
        description: "The application's number.",
        reference: None,
    },
    Member {
        name: "mobileCardNo",
        path: "mobileCardNo",
        presence: Presence::Optional,
        kind: Kind::Text(Text {
            min: Pan::LENGTH,
            max: Pan::LENGTH,
            pattern: Some("^[0-9]{16}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Pan::parse(text)),
        }),
        description: "The mobile card's number, when one was issued now.",
        reference: None,
    },
    Member {
        name: "mobileCardCVC",
        path: "mobileCardCVC",
        presence: Presence::Optional,
        kind: Kind::Text(Text {
            min: 3,
            max: 3,
            pattern: Some("^[0-9]{3}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Cvc::parse(text)),
        }),
        description: "The mobile card's CVC, when one was issued now.",
        reference: None,
    },
    Member {
        name: "mobileCardPar",
        path: "mobileCardPar",
        presence: Presence::Optional,
        kind: Kind::Text(Text {
            min: Par::LENGTH,
            max: Par::LENGTH,
            pattern: Some("^[0-9A-Z]{27}$"),
            values: &[],
            normalized: false,
            check: |text| rule_of(Par::parse(text)),
        }),
        description: "The mobile card's PAR, when one was issued now.",
        reference: None,
    },
];

const DELIVERY: &str = r#"{"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "000170000002000", "isDeliveryRequired": true}"#;

static SCENARIOS: [Scenario; 7] = [
    Scenario {
        name: "delivery",
        summary: "200 - Test succeeded (delivery, card comes at physical registration)",
        request: DELIVERY,
        code: ErrorCode::Success,
        path: None,
        payload: Some(r#"{"cardApplyNo": "20261125063000123AB12C"}"#),
        prepare: None,
    },
    Scenario {
        name: "mobileOnly",
        summary: "200 - Test succeeded _Issuing only a mobile card",
        request: r#"{"userInfo": {"userId": 1001}, "serviceId": "000170000003000", "isDeliveryRequired": false}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"cardApplyNo": "20261125063000456ZX90Q", "mobileCardNo": "9435120001234568", "mobileCardCVC": "123", "mobileCardPar": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
        ),
        prepare: None,
    },
    Scenario {
        name: "preIssued",
        summary: "200 - Test succeeded _Pre-issuance: a mobile card now, the physical card delivered",
        request: r#"{"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "000170000004000", "isDeliveryRequired": true}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"cardApplyNo": "20261125063000789PQ12R", "mobileCardNo": "9435120001234568", "mobileCardCVC": "123", "mobileCardPar": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}"#,
        ),
        prepare: None,
    },
    Scenario {
        name: "invalidServiceId",
        summary: "400 - Invalid input parameter",
        request: r#"{"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "999999999999999"}"#,
        code: ErrorCode::InvalidInput,
        path: Some("serviceId"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "nonMember",
        summary: "400 - Non-member or a member who has canceled membership",
        request: r#"{"userInfo": {"userId": 9999}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "000170000002000"}"#,
        code: ErrorCode::WalletUserNotFound,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "normalWithoutDelivery",
        summary: "400 - For normal type cards, delivery is required",
        request: r#"{"userInfo": {"userId": 1001}, "serviceId": "000170000002000", "isDeliveryRequired": false}"#,
        code: ErrorCode::DeliveryRequiredForNormalType,
        path: None,
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "zipCodeLength",
        summary: "400 - A length is wrong",
        request: r#"{"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "0623"}, "serviceId": "000170000002000"}"#,
        code: ErrorCode::LengthMismatch,
        path: Some("addressInfo.zipCode"),
        payload: None,
        prepare: None,
    },
];

/// The success payload, of every operation that answers an application and its mobile card.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Payload {
    card_apply_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile_card_no: Option<String>,
    #[serde(rename = "mobileCardCVC", skip_serializing_if = "Option::is_none")]
    mobile_card_cvc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile_card_par: Option<String>,
}

/// `addressInfo` of a body valid against a table with [`ADDRESS_INFO`], its text composed
/// (NFC) as the table checked it.
pub(super) fn address(body: &Map<String, Value>) -> Result<DeliveryAddress, ApiError> {
    let info = object(body, "addressInfo").cloned().unwrap_or_default();
    let nfc = |name| text(&info, name).nfc().collect::<String>();
    Ok(DeliveryAddress {
        address: RoadAddress::parse(&nfc("address"))?,
        detail: AddressDetail::parse(&nfc("addressDetail"))?,
        zip_code: ZipCode::parse(&nfc("zipCode"))?,
    })
}

/// `isDeliveryRequired` and `addressInfo`: a mobile card only when it is `false`.
pub(super) fn delivery_choice(body: &Map<String, Value>) -> Result<DeliveryChoice, ApiError> {
    Ok(
        if let Some(Value::Bool(false)) = present(body, "isDeliveryRequired") {
            DeliveryChoice::MobileOnly
        } else {
            DeliveryChoice::Deliver(address(body)?)
        },
    )
}

impl Payload {
    /// What `outcome` answers.
    pub(super) fn of(outcome: &prepaid_application::IssueCardOutcome) -> Self {
        let mobile = outcome.mobile_card.as_ref();
        Self {
            card_apply_no: outcome.application_number.as_str().to_owned(),
            mobile_card_no: mobile.map(|card| card.pan.expose().to_owned()),
            mobile_card_cvc: mobile.map(|card| card.cvc.expose().to_owned()),
            mobile_card_par: mobile.map(|card| card.par.as_str().to_owned()),
        }
    }
}

/// Reads a body valid against [`REQUEST`] into the domain's request.
pub fn request(body: &Map<String, Value>) -> Result<IssuanceRequest, ApiError> {
    let user = object(body, "userInfo").cloned().unwrap_or_default();
    let member = member_id(&user, "userId", "userInfo.userId")?;
    let delivery = delivery_choice(body)?;
    let purpose = present(body, "purpose")
        .map(|_| Purpose::parse(text(body, "purpose")))
        .transpose()?;
    Ok(IssuanceRequest {
        member,
        delivery,
        service_id: ServiceId::parse(text(body, "serviceId"))?,
        purpose,
    })
}

/// Runs the operation through the issuance use case.
pub struct IssueDelivery(pub Arc<dyn IssueCards>);

#[async_trait]
impl Endpoint for IssueDelivery {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let command = IssueCardCommand {
            key: call.idempotency_key(),
            request: request(call.body)?,
        };
        let outcome = call.answered(
            &OPERATION,
            "issuance",
            self.0.issue_and_deliver(command).await,
        )?;
        let mobile = outcome.mobile_card.as_ref();
        call.metrics.issued(mobile.is_some(), outcome.replayed);
        tracing::info!(
            replayed = outcome.replayed,
            mobile_card = mobile.is_some(),
            "card application accepted"
        );
        Ok(payload(&Payload::of(&outcome)))
    }
}
