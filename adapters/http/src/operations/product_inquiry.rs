//! "Card product inquiry" (`/api/v1/service/info/list`, D23): what the catalogue says of the
//! products asked for. Plaintext both ways; it changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_application::InquireProducts;
use prepaid_domain::{ErrorCode, ProductName, ServiceId};
use serde::Serialize;
use serde_json::Value;

use super::{Call, Endpoint, SERVICE_ID, payload, rule_of};
use crate::error::ApiError;
use crate::operation::{Kind, Link, Member, Operation, Presence, Scenario, Text};

/// The declaration.
pub static OPERATION: Operation = Operation {
    id: "inquireCardProducts",
    summary: "Card Product ID Inquiry",
    description: "The name, type and terms of the card products asked for, active or suspended. Unknown ids are left out; an id asked twice is answered once.",
    path: crate::PRODUCT_INQUIRY_PATH,
    request: &REQUEST,
    response: &RESPONSE,
    codes: &[],
    encrypted_request: false,
    encrypted_response: false,
    changes_state: false,
    scenarios: &SCENARIOS,
    links: &[Link {
        name: "ApplyForTheFirstProduct",
        description: "A product listed can be applied for: the sandbox's active member applies for the first one, delivered to an address.",
        to: &super::issue_delivery::OPERATION,
        request_body: r#"{"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "$response.body#/serviceInfos/0/serviceId", "isDeliveryRequired": true}"#,
    }],
};

/// The most ids one inquiry may ask for.
const MOST_IDS: usize = 100;

static REQUEST: [Member; 1] = [Member {
    name: "serviceIdList",
    path: "serviceIdList",
    presence: Presence::Required,
    kind: Kind::List {
        min: 1,
        max: MOST_IDS,
        item: &SERVICE_ID,
    },
    description: "The product ids asked for, 1 to 100.",
    reference: None,
}];

static SERVICE_INFO: [Member; 7] = [
    Member {
        name: "serviceId",
        path: "serviceInfos.serviceId",
        presence: Presence::Required,
        kind: SERVICE_ID,
        description: "The product id.",
        reference: None,
    },
    Member {
        name: "serviceName",
        path: "serviceInfos.serviceName",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 1,
            max: 255,
            pattern: None,
            values: &[],
            normalized: false,
            check: |text| rule_of(ProductName::parse(text)),
        }),
        description: "The product's name.",
        reference: None,
    },
    Member {
        name: "cardType",
        path: "serviceInfos.cardType",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 6,
            max: 6,
            pattern: None,
            values: &["NORMAL", "MOBILE"],
            normalized: false,
            check: |text| super::enumeration(text, 6, 6, &["NORMAL", "MOBILE"]),
        }),
        description: "NORMAL: a physical card is delivered; MOBILE: a mobile card only.",
        reference: None,
    },
    Member {
        name: "preIssuance",
        path: "serviceInfos.preIssuance",
        presence: Presence::Required,
        kind: Kind::Boolean { default: None },
        description: "Whether a mobile card is issued at application, before the physical card.",
        reference: None,
    },
    Member {
        name: "giftable",
        path: "serviceInfos.giftable",
        presence: Presence::Required,
        kind: Kind::Boolean { default: None },
        description: "Whether the card may be bought as a gift (purpose GIFTABLE).",
        reference: None,
    },
    Member {
        name: "validityMonths",
        path: "serviceInfos.validityMonths",
        presence: Presence::Required,
        kind: Kind::Integer {
            min: 12,
            max: 120,
            check: |text| match text.parse::<u64>() {
                Ok(12..=120) => Ok(()),
                _ => Err(prepaid_domain::Rule::Invalid),
            },
        },
        description: "How long a card of the product is valid, in months.",
        reference: None,
    },
    Member {
        name: "status",
        path: "serviceInfos.status",
        presence: Presence::Required,
        kind: Kind::Text(Text {
            min: 6,
            max: 9,
            pattern: None,
            values: &["ACTIVE", "SUSPENDED"],
            normalized: false,
            check: |text| super::enumeration(text, 6, 9, &["ACTIVE", "SUSPENDED"]),
        }),
        description: "ACTIVE: offered; SUSPENDED: no longer offered to new applications.",
        reference: None,
    },
];

const SERVICE_INFO_KIND: Kind = Kind::Object(&SERVICE_INFO);

static RESPONSE: [Member; 1] = [Member {
    name: "serviceInfos",
    path: "serviceInfos",
    presence: Presence::Required,
    kind: Kind::List {
        min: 0,
        max: MOST_IDS,
        item: &SERVICE_INFO_KIND,
    },
    description: "One item per known product asked for, in the order asked.",
    reference: None,
}];

static SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "products",
        summary: "200 - Test succeeded (an unknown id is left out)",
        request: r#"{"serviceIdList": ["000170000002000", "000170000003000", "999999999999999"]}"#,
        code: ErrorCode::Success,
        path: None,
        payload: Some(
            r#"{"serviceInfos": [{"serviceId": "000170000002000", "serviceName": "Sandbox NORMAL prepaid card", "cardType": "NORMAL", "preIssuance": false, "giftable": false, "validityMonths": 60, "status": "ACTIVE"}, {"serviceId": "000170000003000", "serviceName": "Sandbox MOBILE prepaid card", "cardType": "MOBILE", "preIssuance": false, "giftable": false, "validityMonths": 60, "status": "ACTIVE"}]}"#,
        ),
        prepare: None,
    },
    Scenario {
        name: "emptyList",
        summary: "400 - No id asked for",
        request: r#"{"serviceIdList": []}"#,
        code: ErrorCode::InvalidInput,
        path: Some("serviceIdList"),
        payload: None,
        prepare: None,
    },
    Scenario {
        name: "idLength",
        summary: "400 - An id of another length",
        request: r#"{"serviceIdList": ["00017000000200"]}"#,
        code: ErrorCode::LengthMismatch,
        path: Some("serviceIdList"),
        payload: None,
        prepare: None,
    },
];

/// One product in the answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceInfo {
    service_id: String,
    service_name: String,
    card_type: &'static str,
    pre_issuance: bool,
    giftable: bool,
    validity_months: u16,
    status: &'static str,
}

/// The success payload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    service_infos: Vec<ServiceInfo>,
}

/// Runs the operation through the product inquiry use case.
pub struct ProductInquiry(pub Arc<dyn InquireProducts>);

#[async_trait]
impl Endpoint for ProductInquiry {
    fn operation(&self) -> &'static Operation {
        &OPERATION
    }

    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError> {
        let ids = call
            .body
            .get("serviceIdList")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|id| {
                ServiceId::parse(id.as_str().unwrap_or_default())
                    .map_err(|error| ApiError::at(error.code(), "serviceIdList"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let products =
            call.answered(&OPERATION, "product catalogue", self.0.products(&ids).await)?;
        Ok(payload(&Payload {
            service_infos: products
                .into_iter()
                .map(|product| ServiceInfo {
                    service_id: product.id.as_str().to_owned(),
                    service_name: product.name.as_str().to_owned(),
                    card_type: product.product_type.as_str(),
                    pre_issuance: product.pre_issuance,
                    giftable: product.giftable,
                    validity_months: u16::from(product.validity.years()) * 12,
                    status: if product.active {
                        "ACTIVE"
                    } else {
                        "SUSPENDED"
                    },
                })
                .collect(),
        }))
    }
}
