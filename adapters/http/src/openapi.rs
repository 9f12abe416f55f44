//! The OpenAPI 3 document of the API, built from the code's own constants: the error-code
//! catalogue, the value types' lengths and the header names. Served at `/openapi.json`.

use prepaid_domain::{
    AccessKey, AspId, CardApplyNo, CorrelationId, CryptoKeyId, ErrorClass, ErrorCode, MemberId,
    Par, ServiceId, TranTime, TranToken,
};
use serde_json::{Value, json};

use crate::headers::names;

fn header(name: &str, required: bool, description: &str, schema: &Value) -> Value {
    json!({"name": name, "in": "header", "required": required, "description": description, "schema": schema})
}

fn envelope_example(code: ErrorCode, path: Option<&str>) -> Value {
    let description = path.map_or_else(
        || code.message().to_owned(),
        |path| format!("{} {path}", code.message()),
    );
    json!({"response": {"code": code.code(), "description": description}})
}

fn codes_of(class: ErrorClass) -> Vec<ErrorCode> {
    ErrorCode::ALL
        .into_iter()
        .filter(|code| code.class() == class)
        .collect()
}

fn code_table(codes: &[ErrorCode]) -> String {
    codes
        .iter()
        .map(|code| format!("- `{}` {}", code.code(), code.message()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn error_response(class: ErrorClass, description: &str, examples: &Value) -> Value {
    let codes = codes_of(class);
    json!({
        "description": format!("{description}\n\n{}", code_table(&codes)),
        "headers": {names::CORRELATION_ID: {"$ref": "#/components/headers/CorrelationId"}},
        "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"},
            "examples": examples,
        }},
    })
}

fn parameters() -> Value {
    json!([
        header(
            names::ASP_ID,
            true,
            "ASP ID given to the service provider.",
            &json!({"type": "string", "minLength": AspId::LENGTH, "maxLength": AspId::LENGTH, "pattern": "^[A-Za-z0-9]{15}$"})
        ),
        header(
            names::CORRELATION_ID,
            true,
            "yyMMddHHmmss-xxxxxxx (a real time, 7 hex digits). Idempotency key of the request, scoped to the ASP: sent again with the same payload it answers the first outcome.",
            &json!({"type": "string", "minLength": CorrelationId::LENGTH, "maxLength": CorrelationId::LENGTH, "pattern": "^[0-9]{12}-[0-9A-Fa-f]{7}$"})
        ),
        header(
            names::ACCESS_KEY,
            true,
            "Access key of the project.",
            &json!({"type": "string", "minLength": AccessKey::LENGTH, "maxLength": AccessKey::LENGTH, "pattern": "^[A-Za-z0-9]{40}$"})
        ),
        header(
            names::CRYPTO_KEY_ID,
            false,
            "Crypto key id; required when the body is encrypted.",
            &json!({"type": "string", "minLength": CryptoKeyId::LENGTH, "maxLength": CryptoKeyId::LENGTH, "pattern": "^[A-Za-z0-9]{32}$"})
        ),
        header(
            names::TRAN_TOKEN,
            true,
            "KMV1:<yyyyMMddHHmmssSSS>:<Base64 HMAC-SHA256(secret key, raw body)>, padded (67) or not (66) (D4).",
            &json!({"type": "string", "minLength": TranToken::UNPADDED_LENGTH, "maxLength": TranToken::PADDED_LENGTH, "pattern": "^KMV1:[0-9]{17}:[A-Za-z0-9+/]{43}=?$"})
        ),
        header(
            names::TRAN_TIME,
            true,
            "Client request time yyyyMMddHHmmss, read in X-KM-Time-Zone; within 5 minutes of the server clock.",
            &json!({"type": "string", "minLength": TranTime::LENGTH, "maxLength": TranTime::LENGTH, "pattern": "^[0-9]{14}$"})
        ),
        header(
            names::TIME_ZONE,
            true,
            "Time zone of the request times.",
            &json!({"type": "string", "enum": ["UTC", "GMT", "KST", "JST"]})
        ),
    ])
}

fn schemas() -> Value {
    json!({
        "IssueDeliveryRequest": {
            "type": "object",
            "required": ["userInfo", "serviceId"],
            "properties": {
                "userInfo": {"type": "object", "required": ["userId"], "properties": {"userId": {"type": "integer", "minimum": MemberId::MIN, "maximum": MemberId::MAX, "description": "Member id, 1 to 9999999999999999999 (beyond int64)."}}},
                "addressInfo": {"type": "object", "description": "Required when isDeliveryRequired is true (the default).", "required": ["address", "addressDetail", "zipCode"], "properties": {
                    "address": {"type": "string", "minLength": 1, "maxLength": 255},
                    "addressDetail": {"type": "string", "minLength": 1, "maxLength": 255},
                    "zipCode": {"type": "string", "minLength": 5, "maxLength": 5, "pattern": "^[0-9]{5}$"},
                }},
                "serviceId": {"type": "string", "minLength": ServiceId::LENGTH, "maxLength": ServiceId::LENGTH, "pattern": "^[A-Za-z0-9]{15}$"},
                "isDeliveryRequired": {"type": "boolean", "default": true},
                "purpose": {"type": "string", "minLength": 1, "maxLength": 10, "enum": ["GIFTABLE"]},
            },
        },
        "EncryptedBody": {"type": "object", "required": ["encData"], "properties": {"encData": {"type": "string", "description": "JWE compact serialization: RSA-OAEP-256 or RSA-OAEP, A128GCM or A256GCM."}}},
        "ResponseStatus": {"type": "object", "required": ["code", "description"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{3}_[0-9]{3}$", "enum": ErrorCode::ALL.iter().map(|code| code.code()).collect::<Vec<_>>()}, "description": {"type": "string"}}},
        "ErrorEnvelope": {"type": "object", "required": ["response"], "properties": {"response": {"$ref": "#/components/schemas/ResponseStatus"}}},
        "IssueDeliveryResponse": {"type": "object", "required": ["response", "cardApplyNo"], "properties": {
            "response": {"$ref": "#/components/schemas/ResponseStatus"},
            "cardApplyNo": {"type": "string", "minLength": CardApplyNo::LENGTH, "maxLength": CardApplyNo::LENGTH},
            "mobileCardNo": {"type": "string", "minLength": 16, "maxLength": 16, "pattern": "^[0-9]{16}$"},
            "mobileCardCVC": {"type": "string", "minLength": 3, "maxLength": 3, "pattern": "^[0-9]{3}$"},
            "mobileCardPar": {"type": "string", "minLength": Par::LENGTH, "maxLength": Par::LENGTH, "pattern": "^[0-9A-Z]{27}$"},
        }},
    })
}

/// The document, with `paths` under each of `base_paths` (`""` for the root).
pub fn document(base_paths: &[String]) -> Value {
    let string_of =
        |length: usize| json!({"type": "string", "minLength": length, "maxLength": length});
    let success_examples = json!({
        "delivery": {"summary": "200 - Test succeeded (delivery, card comes at physical registration)", "value": {"response": {"code": "000_000", "description": "Success."}, "cardApplyNo": "20261125063000123AB12C"}},
        "mobileOnly": {"summary": "200 - Test succeeded _Issuing only a mobile card", "value": {"response": {"code": "000_000", "description": "Success."}, "cardApplyNo": "20261125063000456ZX90Q", "mobileCardNo": "9435120001234561", "mobileCardCVC": "123", "mobileCardPar": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"}},
    });
    let operation = json!({
        "operationId": "issuePrepaidCardWithDelivery",
        "summary": "Application for Issuance and Delivery of Prepaid Card",
        "description": "A member selects a prepaid card product; the card is issued and a physical card delivered to the address. The body may be plaintext JSON (sandbox project) or {\"encData\": JWE} (D5); an encrypted request gets an encrypted response.",
        "parameters": parameters(),
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"oneOf": [{"$ref": "#/components/schemas/IssueDeliveryRequest"}, {"$ref": "#/components/schemas/EncryptedBody"}]},
            "examples": {
                "delivery": {"summary": "Issue with delivery", "value": {"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "000170000002000", "isDeliveryRequired": true}},
                "mobileOnly": {"summary": "Mobile card only (MOBILE product)", "value": {"userInfo": {"userId": 1001}, "serviceId": "000170000003000", "isDeliveryRequired": false}},
                "invalidServiceId": {"summary": "Unknown product", "value": {"userInfo": {"userId": 1001}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "999999999999999"}},
                "nonMember": {"summary": "Non-member", "value": {"userInfo": {"userId": 9999}, "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"}, "serviceId": "000170000002000"}},
                "normalWithoutDelivery": {"summary": "NORMAL product without delivery", "value": {"userInfo": {"userId": 1001}, "serviceId": "000170000002000", "isDeliveryRequired": false}},
            },
        }}},
        "responses": {
            "200": {"description": "Success: `000_000`.", "headers": {names::CORRELATION_ID: {"$ref": "#/components/headers/CorrelationId"}, names::CRYPTO_KEY_ID: {"description": "Present when the response is encrypted.", "schema": string_of(CryptoKeyId::LENGTH)}},
                "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/IssueDeliveryResponse"}, {"$ref": "#/components/schemas/EncryptedBody"}]}, "examples": success_examples}}},
            "400": error_response(ErrorClass::Rejected, "A header or body field is invalid (D2), a business rule refused the application, the correlation id was reused with another payload, or the encrypted body could not be decrypted.", &json!({
                "invalidServiceId": {"summary": "400 - Invalid input parameter", "value": envelope_example(ErrorCode::InvalidInput, Some("serviceId"))},
                "nonMember": {"summary": "400 - Non-member or a member who has canceled membership", "value": envelope_example(ErrorCode::WalletUserNotFound, None)},
                "normalWithoutDelivery": {"summary": "400 - For normal type cards, delivery is required", "value": envelope_example(ErrorCode::DeliveryRequiredForNormalType, None)},
                "missingUserId": {"summary": "A required value is missing", "value": envelope_example(ErrorCode::MissingValue, Some("userInfo.userId"))},
                "zipCodeLength": {"summary": "A length is wrong", "value": envelope_example(ErrorCode::LengthMismatch, Some("addressInfo.zipCode"))},
            })),
            "401": error_response(ErrorClass::Unauthenticated, "Authentication failed (D3, D4). No business rule ran.", &json!({
                "authentication": {"summary": "Unknown ASP or access key", "value": envelope_example(ErrorCode::AuthenticationFailed, None)},
            })),
            "413": error_response(ErrorClass::TooLarge, "The body is larger than 64 KiB.", &json!({
                "tooLarge": {"summary": "Body over 64 KiB", "value": envelope_example(ErrorCode::PayloadTooLarge, None)},
            })),
            "500": error_response(ErrorClass::Unavailable, "The service failed before or after carrying out the request. Retry with the same correlation id: it answers the outcome, or carries the request out once.", &json!({
                "system": {"summary": "Temporary failure", "value": envelope_example(ErrorCode::SystemError, None)},
            })),
        },
    });
    let mut paths = serde_json::Map::new();
    for base in base_paths {
        paths.insert(
            format!("{base}/api/v1/prepay-card/issue/delivery"),
            json!({"post": operation}),
        );
    }
    let codes: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|code| json!({"code": code.code(), "message": code.message(), "documentedByPlatform": code.is_documented_by_platform()}))
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Prepaid card issuing service",
            "version": "1.0.0",
            "description": "Server side of the Konaplate-style prepaid-card API. See docs/API.md for the envelope, the error codes, authentication (X-KM-Tran-Token) and message encryption.",
        },
        "x-error-codes": codes,
        "paths": paths,
        "components": {
            "headers": {"CorrelationId": {"description": "The request's correlation id, echoed when it was well formed.", "schema": string_of(CorrelationId::LENGTH)}},
            "schemas": schemas(),
        },
    })
}
