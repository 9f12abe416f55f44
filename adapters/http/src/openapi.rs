//! The OpenAPI 3 document of the API, served at `/openapi.json`, and the operations' code tables
//! of `docs/API.md`: both rendered from the operations' declarations, the error-code catalogue
//! and the header names, so that they say what the pipeline does.

use std::fmt::Write as _;

use prepaid_domain::{
    AccessKey, AspId, CorrelationId, CryptoKeyId, ErrorClass, ErrorCode, TranTime, TranToken,
};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::headers::names;
use crate::operation::{Kind, Member, Operation, Presence, Scenario};
use crate::operations::OPERATIONS;

fn header(name: &str, required: bool, description: &str, schema: &Value) -> Value {
    json!({"name": name, "in": "header", "required": required, "description": description, "schema": schema})
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
            "yyMMddHHmmss-xxxxxxx (a real time, 7 hex digits). Idempotency key of the request, scoped to the ASP: an operation that changes state, sent again with the same payload, answers its first outcome.",
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
            "Crypto key id: required with an encrypted body, and names the key an encrypted answer is sent to.",
            &json!({"type": "string", "minLength": CryptoKeyId::LENGTH, "maxLength": CryptoKeyId::LENGTH, "pattern": "^[A-Za-z0-9]{32}$"})
        ),
        header(
            names::TRAN_TOKEN,
            true,
            "KMV1:{yyyyMMddHHmmssSSS}:{Base64 HMAC-SHA256 of the raw body, keyed with the secret key's text}, padded (67 characters) or not (66).",
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

/// The JSON schema of a member's kind.
fn schema_of(kind: &Kind) -> Value {
    match kind {
        Kind::Text(text) => {
            let mut schema =
                json!({"type": "string", "minLength": text.min, "maxLength": text.max});
            if let Some(pattern) = text.pattern {
                schema["pattern"] = json!(pattern);
            }
            if !text.values.is_empty() {
                schema["enum"] = json!(text.values);
            }
            schema
        }
        Kind::Integer { min, max, .. } => {
            json!({"type": "integer", "minimum": min, "maximum": max})
        }
        Kind::Boolean { default } => {
            let mut schema = json!({"type": "boolean"});
            if let Some(default) = default {
                schema["default"] = json!(default);
            }
            schema
        }
        Kind::Object(table) => object_schema(table),
        Kind::List { min, max, item } => {
            json!({"type": "array", "minItems": min, "maxItems": max, "items": schema_of(item)})
        }
    }
}

/// The schema of an object whose members are `table`, in its order.
fn object_schema(table: &[Member]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut conditions = Vec::new();
    for member in table {
        let mut schema = schema_of(&member.kind);
        let description = match member.presence {
            Presence::RequiredUnlessFalse(flag) => format!(
                "{} Required unless {flag} is false; ignored then.",
                member.description
            ),
            Presence::OneOf(other) => format!(
                "{} Exactly one of {} and {other} is given.",
                member.description, member.name
            ),
            Presence::Required | Presence::Optional => member.description.to_owned(),
        };
        schema["description"] = json!(description);
        match member.presence {
            Presence::Required => required.push(member.name),
            // Present, or the flag present and false: the shapes a generator may build.
            Presence::RequiredUnlessFalse(flag) => conditions.push(json!({"anyOf": [
                {"required": [member.name]},
                {"required": [flag], "properties": {flag: {"enum": [false]}}},
            ]})),
            Presence::OneOf(other) => conditions.push(json!({"oneOf": [
                {"required": [member.name]},
                {"required": [other]},
            ]})),
            Presence::Optional => {}
        }
        properties.insert(member.name.to_owned(), schema);
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    match conditions.len() {
        0 => {}
        1 => {
            if let Value::Object(condition) = conditions.swap_remove(0) {
                for (keyword, value) in condition {
                    schema[keyword.as_str()] = value;
                }
            }
        }
        _ => schema["allOf"] = json!(conditions),
    }
    schema
}

/// A schema name from an operation id: `issuePrepaidCardWithDelivery` → `IssuePrepaidCardWithDelivery`.
fn type_name(operation: &Operation) -> String {
    let mut name = operation.id.to_owned();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    name
}

/// The envelope of `code`, with `path` in its description.
fn envelope_example(code: ErrorCode, path: Option<&'static str>) -> Value {
    let error = path.map_or(ApiError::new(code), |path| ApiError::at(code, path));
    json!({"response": {"code": code.code(), "description": error.description()}})
}

/// What the encryption of an operation is, in a sentence.
fn encryption_text(operation: &Operation) -> &'static str {
    match (operation.encrypted_request, operation.encrypted_response) {
        (true, true) => {
            "Encrypted both ways: the body is {\"encData\": JWE} (a project allowed plaintext may send JSON); an encrypted request, or a plaintext one with X-KM-Crypto-Key-Id, gets an encrypted answer."
        }
        (false, true) => {
            "Plaintext request, encrypted answer: send X-KM-Crypto-Key-Id to name the key the answer is encrypted to (a project allowed plaintext may leave it out and get plaintext)."
        }
        (true, false) => {
            "Encrypted request: the body is {\"encData\": JWE} (a project allowed plaintext may send JSON); the answer is plaintext unless the request was encrypted."
        }
        (false, false) => {
            "Plaintext both ways; an encrypted request still gets an encrypted answer."
        }
    }
}

/// What an operation id gets under `base`, so that every copy's id is unique: `/open-api` →
/// `OpenApi`.
fn id_suffix(base: &str) -> String {
    base.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut part = part.to_owned();
            if let Some(first) = part.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            part
        })
        .collect()
}

/// The OpenAPI links of an operation's success, to the copies of their operations whose ids
/// end in `suffix` (those under the same base path).
fn links(operation: &Operation, suffix: &str) -> Value {
    let links: Map<String, Value> = operation
        .links
        .iter()
        .map(|link| {
            let body: Value = serde_json::from_str(link.request_body).unwrap_or_default();
            (
                link.name.to_owned(),
                json!({"operationId": format!("{}{suffix}", link.to.id), "description": link.description, "requestBody": body}),
            )
        })
        .collect();
    json!(links)
}

/// A scenario's request as a document example; one that needs another request first says which
/// (`x-prepare`, read by the API page's tests), under the same base path (`suffix`).
fn request_example(scenario: &Scenario, suffix: &str) -> Value {
    let request: Value = serde_json::from_str(scenario.request).unwrap_or_default();
    let mut example = json!({"summary": scenario.summary, "value": request});
    if let Some(prepare) = &scenario.prepare {
        example["description"] = json!(match prepare.member {
            Some((from, member)) => format!(
                "First send the example `{}` of `{}`; this request's `{member}` is then its answer's `{from}`.",
                prepare.scenario, prepare.operation.id
            ),
            None => format!(
                "First send the example `{}` of `{}`; this request is then answered with what it made.",
                prepare.scenario, prepare.operation.id
            ),
        });
        example["x-prepare"] = json!({
            "operationId": format!("{}{suffix}", prepare.operation.id),
            "example": prepare.scenario,
        });
        if let Some((from, member)) = prepare.member {
            example["x-prepare"]["member"] = json!(member);
            example["x-prepare"]["from"] = json!(from);
        }
    }
    example
}

fn operation_object(operation: &Operation, base: &str) -> Value {
    let name = type_name(operation);
    let suffix = id_suffix(base);
    let codes = operation.all_codes();
    let mut request_examples = Map::new();
    let mut answers: Vec<(ErrorClass, Map<String, Value>)> = Vec::new();
    for scenario in operation.scenarios {
        request_examples.insert(scenario.name.to_owned(), request_example(scenario, &suffix));
        let mut answer = envelope_example(scenario.code, scenario.path);
        if let Some(Ok(Value::Object(payload))) =
            scenario.payload.map(serde_json::from_str::<Value>)
        {
            for (key, value) in payload {
                answer[key] = value;
            }
        }
        let class = scenario.code.class();
        let example = json!({"summary": scenario.summary, "value": answer});
        match answers.iter_mut().find(|(known, _)| *known == class) {
            Some((_, examples)) => {
                examples.insert(scenario.name.to_owned(), example);
            }
            None => answers.push((class, Map::from_iter([(scenario.name.to_owned(), example)]))),
        }
    }
    let mut responses = Map::new();
    for (class, status, summary) in [
        (ErrorClass::Success, "200", "Success."),
        (
            ErrorClass::Rejected,
            "400",
            "A header or body field is invalid, or a rule refused the request.",
        ),
        (
            ErrorClass::Unauthenticated,
            "401",
            "Authentication failed; nothing was carried out.",
        ),
        (
            ErrorClass::TooLarge,
            "413",
            "The body is larger than 64 KiB.",
        ),
        (
            ErrorClass::Unavailable,
            "500",
            "The service failed. Retry with the same correlation id.",
        ),
    ] {
        let table: Vec<String> = codes
            .iter()
            .filter(|(code, _)| code.class() == class)
            .map(|(code, when)| format!("- `{}` {} {when}", code.code(), code.message()))
            .collect();
        let schema = if class == ErrorClass::Success {
            json!({"oneOf": [{"$ref": format!("#/components/schemas/{name}Response")}, {"$ref": "#/components/schemas/EncryptedBody"}]})
        } else {
            json!({"oneOf": [{"$ref": "#/components/schemas/ErrorEnvelope"}, {"$ref": "#/components/schemas/EncryptedBody"}]})
        };
        let mut content = json!({"schema": schema});
        if let Some((_, examples)) = answers.iter().find(|(known, _)| *known == class) {
            content["examples"] = json!(examples);
        }
        let mut response = json!({
            "description": format!("{summary}\n\n{}", table.join("\n")),
            "headers": {
                names::CORRELATION_ID: {"$ref": "#/components/headers/CorrelationId"},
                names::CRYPTO_KEY_ID: {"description": "Present when the answer is encrypted.", "schema": {"type": "string", "minLength": CryptoKeyId::LENGTH, "maxLength": CryptoKeyId::LENGTH}},
            },
            "content": {"application/json": content},
        });
        if class == ErrorClass::Success && !operation.links.is_empty() {
            response["links"] = links(operation, &suffix);
        }
        responses.insert(status.to_owned(), response);
    }
    json!({
        "operationId": format!("{}{suffix}", operation.id),
        "summary": operation.summary,
        "description": format!(
            "{}\n\n{}{}",
            operation.description,
            encryption_text(operation),
            if operation.changes_state { " Changes state: a retry with the same correlation id and payload answers the first outcome." } else { " Changes nothing." }
        ),
        "parameters": parameters(),
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"oneOf": [{"$ref": format!("#/components/schemas/{name}Request")}, {"$ref": "#/components/schemas/EncryptedBody"}]},
            "examples": request_examples,
        }}},
        "responses": responses,
    })
}

/// The document, with `paths` under each of `base_paths` (`""` for the root).
pub fn document(base_paths: &[String]) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for operation in OPERATIONS {
        let name = type_name(operation);
        schemas.insert(format!("{name}Request"), object_schema(operation.request));
        let mut response = object_schema(operation.response);
        response["properties"]
            .as_object_mut()
            .map(|properties| {
                let mut with_status = Map::new();
                with_status.insert(
                    "response".to_owned(),
                    json!({"$ref": "#/components/schemas/ResponseStatus"}),
                );
                with_status.append(properties);
                *properties = with_status;
            })
            .unwrap_or_default();
        let mut required = vec![json!("response")];
        if let Some(Value::Array(names)) = response.get("required") {
            required.extend(names.iter().cloned());
        }
        response["required"] = json!(required);
        schemas.insert(format!("{name}Response"), response);
        for base in base_paths {
            paths.insert(
                format!("{base}{}", operation.path),
                json!({"post": operation_object(operation, base)}),
            );
        }
    }
    schemas.insert("EncryptedBody".to_owned(), json!({"type": "object", "required": ["encData"], "properties": {"encData": {"type": "string", "description": "JWE compact serialization: RSA-OAEP-256 or RSA-OAEP, A128GCM or A256GCM."}}}));
    schemas.insert("ResponseStatus".to_owned(), json!({"type": "object", "required": ["code", "description"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{3}_[0-9]{3}$", "enum": ErrorCode::ALL.iter().map(|code| code.code()).collect::<Vec<_>>()}, "description": {"type": "string"}}}));
    schemas.insert("ErrorEnvelope".to_owned(), json!({"type": "object", "required": ["response"], "properties": {"response": {"$ref": "#/components/schemas/ResponseStatus"}}}));
    let codes: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|code| json!({"code": code.code(), "message": code.message(), "documentedByPlatform": code.is_documented_by_platform()}))
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Prepaid card issuing service",
            "version": "1.0.0",
            "description": "Server side of the Konaplate-style prepaid-card API. The repository's docs/API.md explains the envelope, the error codes, authentication (X-KM-Tran-Token) and message encryption.",
        },
        "x-error-codes": codes,
        "paths": paths,
        "components": {
            "headers": {"CorrelationId": {"description": "The request's correlation id, echoed when it was well formed.", "schema": {"type": "string", "minLength": CorrelationId::LENGTH, "maxLength": CorrelationId::LENGTH}}},
            "schemas": schemas,
        },
    })
}

/// The operations section of `docs/API.md`: per operation, its encryption, whether it changes
/// state, and every code it answers with its HTTP status and when.
pub fn api_error_tables() -> String {
    let mut text = String::new();
    for operation in OPERATIONS {
        let yes_no = |flag: bool| if flag { "yes" } else { "no" };
        let _ = write!(
            text,
            "### {} (`POST {}`)\n\nOperation id `{}`. Encrypted request: {}. Encrypted response: {}. Changes state: {}.\n\n| Code | HTTP | Message | When |\n|---|---|---|---|\n",
            operation.summary,
            operation.path,
            operation.id,
            yes_no(operation.encrypted_request),
            yes_no(operation.encrypted_response),
            yes_no(operation.changes_state),
        );
        for (code, when) in operation.all_codes() {
            let _ = writeln!(
                text,
                "| `{}` | {} | {} | {when} |",
                code.code(),
                ApiError::new(code).status().as_u16(),
                code.message(),
            );
        }
        text.push('\n');
    }
    text
}
