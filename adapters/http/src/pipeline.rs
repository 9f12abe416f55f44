//! The one pipeline every operation runs through (D12): headers, authentication and replay,
//! decryption, body validation in the order of the operation's request table, the operation's
//! use case, the envelope, and the encryption of the answer (D13).
//!
//! # Answers
//! - 200 `000_000` with the operation's payload;
//! - 400 for a header or body field (D2) and the operation's own refusals;
//! - 401 `000_090` to `000_093` (authentication, D3/D4);
//! - 413 `000_096` (body over the limit);
//! - 500 `000_099` (carried out or not: a retry with the same correlation id answers the
//!   outcome of an operation that changes state, or carries it out once).
//!
//! Answers before authentication, and those about the encryption itself (an unknown key id, a
//! JWE that does not open), are plain; every later answer is encrypted when a success would be.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use prepaid_application::Credentials;
use prepaid_application::ports::{DecryptError, JweProfile, MessageCipher};
use prepaid_application::{AuthError, AuthenticateRequests, InquireProducts};
use prepaid_domain::{CorrelationId, CryptoKeyId, ErrorCode, Field, FieldError, ServiceId};
use tracing::Instrument as _;

use crate::body;
use crate::dto::{EncryptedBody, ResponseStatus};
use crate::error::ApiError;
use crate::headers::{self, names};
use crate::metrics::ApiMetrics;
use crate::operation::{self, Reference, Refusal};
use crate::operations::{Call, Endpoint};

/// What the pipeline needs besides the endpoint.
pub struct ApiState {
    /// Request authentication.
    pub authenticator: Arc<dyn AuthenticateRequests>,
    /// The catalogue, to report an unknown product at its place in the order (D2).
    pub products: Arc<dyn InquireProducts>,
    /// Message encryption.
    pub cipher: Arc<dyn MessageCipher>,
    /// The largest body accepted, in bytes (D2: 64 KiB).
    pub max_body_bytes: usize,
    /// Metrics.
    pub metrics: ApiMetrics,
}

/// How an answer is sent: with which correlation id, encrypted or not.
struct Reply {
    correlation_id: Option<CorrelationId>,
    encryption: Option<(CryptoKeyId, JweProfile)>,
}

impl Reply {
    fn json(&self, status: StatusCode, body: Vec<u8>, cipher: &dyn MessageCipher) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        response.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        if let Some(id) = &self.correlation_id {
            response.insert_header((names::CORRELATION_ID, id.as_str().to_owned()));
        }
        let Some((key_id, profile)) = &self.encryption else {
            return response.body(body);
        };
        match cipher.encrypt(key_id, &body, *profile) {
            Ok(compact) => {
                response.insert_header((names::CRYPTO_KEY_ID, key_id.as_str().to_owned()));
                response.body(serialize(&EncryptedBody { enc_data: compact }))
            }
            Err(error) => {
                tracing::error!(error = %error_chain(&error), "response encryption failed");
                let plain = Self {
                    correlation_id: self.correlation_id.clone(),
                    encryption: None,
                };
                plain.error(ApiError::new(ErrorCode::SystemError), cipher)
            }
        }
    }

    fn error(&self, error: ApiError, cipher: &dyn MessageCipher) -> HttpResponse {
        self.json(
            error.status(),
            envelope(error.code(), error.description(), None),
            cipher,
        )
    }

    fn success(&self, payload: &[u8], cipher: &dyn MessageCipher) -> HttpResponse {
        let body = envelope(
            ErrorCode::Success,
            ErrorCode::Success.message().to_owned(),
            Some(payload),
        );
        self.json(StatusCode::OK, body, cipher)
    }
}

/// A whole body: `response` first, then the members of `payload` (a JSON object) beside it (D1).
pub(crate) fn envelope(code: ErrorCode, description: String, payload: Option<&[u8]>) -> Vec<u8> {
    let mut body = br#"{"response":"#.to_vec();
    body.extend_from_slice(&serialize(&ResponseStatus {
        code: code.code(),
        description,
    }));
    match payload {
        Some(members) if members.len() > 2 && members.first() == Some(&b'{') => {
            body.push(b',');
            body.extend_from_slice(&members[1..]);
        }
        _ => body.push(b'}'),
    }
    body
}

/// Serialises a DTO; our DTOs have only strings, numbers, booleans and objects, so this cannot
/// fail.
pub(crate) fn serialize<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The whole `source()` chain of an error, for the logs.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads the body, refusing it as soon as it passes `limit` bytes.
async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let too_large = ApiError::new(ErrorCode::PayloadTooLarge);
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::malformed_body())?;
        if body.len() + chunk.len() > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Runs `endpoint`'s operation for one request.
pub async fn run(
    endpoint: Arc<dyn Endpoint>,
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> HttpResponse {
    let correlation_id = headers::correlation_id(&request);
    let span = tracing::info_span!(
        "request",
        operation = endpoint.operation().id,
        correlation_id = correlation_id.as_ref().map_or("-", CorrelationId::as_str),
        asp_id = tracing::field::Empty,
    );
    let mut reply = Reply {
        correlation_id,
        encryption: None,
    };
    async move {
        let result = handle(endpoint.as_ref(), &request, payload, &state, &mut reply).await;
        let cipher = state.cipher.as_ref();
        match result {
            Ok(payload) => reply.success(&payload, cipher),
            Err(error) => {
                tracing::info!(code = error.code().code(), "request refused");
                reply.error(error, cipher)
            }
        }
    }
    .instrument(span)
    .await
}

async fn handle(
    endpoint: &dyn Endpoint,
    request: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    reply: &mut Reply,
) -> Result<Vec<u8>, ApiError> {
    let operation = endpoint.operation();
    let headers = headers::parse(request)?;
    tracing::Span::current().record("asp_id", headers.asp_id.as_str());
    headers::check_content_type(request)?;
    let raw = read_body(request, payload, state.max_body_bytes).await?;

    let project = state
        .authenticator
        .authenticate(Credentials {
            asp_id: &headers.asp_id,
            access_key: &headers.access_key,
            token: &headers.tran_token,
            tran_time: headers.tran_time,
            zone: headers.time_zone,
            correlation_id: &headers.correlation_id,
            body: &raw,
        })
        .await
        .map_err(|error| {
            if let AuthError::Unavailable(cause) = &error {
                tracing::error!(error = %error_chain(cause), "authentication unavailable");
            } else {
                state.metrics.authentication_failed(error.code().code());
                tracing::warn!(
                    target: "audit",
                    correlation_id = headers.correlation_id.as_str(),
                    asp_id = headers.asp_id.as_str(),
                    reason = error.audit_reason(),
                    "authentication failed"
                );
            }
            ApiError::new(error.code())
        })?;

    let plaintext = match &headers.crypto_key_id {
        Some(sent) => {
            let key_id = &project
                .crypto_key(sent)
                .ok_or_else(|| ApiError::from(FieldError::invalid(Field::CryptoKeyId)))?
                .id;
            match body::enc_data(&raw)? {
                Some(compact) => {
                    let message =
                        state
                            .cipher
                            .decrypt(key_id, &compact)
                            .map_err(|error| match error {
                                DecryptError::UnknownKey => {
                                    ApiError::from(FieldError::invalid(Field::CryptoKeyId))
                                }
                                DecryptError::Undecryptable => {
                                    ApiError::new(ErrorCode::DecryptionFailed)
                                }
                            })?;
                    // From here on, every answer is encrypted the way the request was (D5).
                    reply.encryption = Some((key_id.clone(), message.profile));
                    message.plaintext
                }
                None if operation.encrypted_request && !project.plaintext_allowed => {
                    return Err(FieldError::missing(Field::EncData).into());
                }
                // A plaintext body beside a key id, where plaintext is allowed: the key id names
                // where an encrypted answer goes (D13).
                None => {
                    if operation.encrypted_response {
                        reply.encryption = Some((key_id.clone(), JweProfile::DEFAULT));
                    }
                    raw.to_vec()
                }
            }
        }
        None if project.plaintext_allowed => raw.to_vec(),
        None if operation.encrypted_request => {
            return Err(FieldError::invalid(Field::CryptoKeyId).into());
        }
        None if operation.encrypted_response => {
            return Err(FieldError::missing(Field::CryptoKeyId).into());
        }
        None => raw.to_vec(),
    };

    let body = body::json_object(&plaintext)?;
    if let Err(refusal) = operation::validate(operation.request, &body) {
        return Err(first_refusal(refusal, state.products.as_ref()).await?);
    }
    endpoint
        .run(Call {
            headers: &headers,
            body: &body,
            metrics: &state.metrics,
        })
        .await
}

/// The refusal to report for a body its table refused: a reference before the problem that
/// names nothing (an unknown product) comes first, at its own place in the order (D2).
async fn first_refusal(
    refusal: Refusal,
    products: &dyn InquireProducts,
) -> Result<ApiError, ApiError> {
    for (reference, path, text) in &refusal.references {
        match reference {
            Reference::Product => {
                let Ok(id) = ServiceId::parse(text) else {
                    continue;
                };
                let offered = products.offers(&id).await.map_err(|error| {
                    tracing::error!(error = %error_chain(&error), "product catalogue unavailable");
                    ApiError::new(ErrorCode::SystemError)
                })?;
                if !offered {
                    return Ok(ApiError::at(ErrorCode::InvalidInput, path));
                }
            }
        }
    }
    Ok(refusal.error)
}

/// Any other path: a `000_097` envelope, never the framework's default page.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    not_found_response(&request)
}

/// The `000_097` envelope of a path that is not served.
pub(crate) fn not_found_response(request: &HttpRequest) -> HttpResponse {
    plain_error(request, ApiError::new(ErrorCode::NotFound))
}

/// A known path with another method: a `000_098` envelope.
pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let mut response = plain_error(&request, ApiError::new(ErrorCode::MethodNotAllowed));
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        HeaderValue::from_static("POST"),
    );
    response
}

fn plain_error(request: &HttpRequest, error: ApiError) -> HttpResponse {
    let mut response = HttpResponse::build(error.status());
    response.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
    if let Some(id) = headers::correlation_id(request) {
        response.insert_header((names::CORRELATION_ID, id.as_str().to_owned()));
    }
    response.body(envelope(error.code(), error.description(), None))
}

#[cfg(test)]
mod tests {
    use actix_web::test::{self, TestRequest};
    use actix_web::{App, web};
    use async_trait::async_trait;
    use prepaid_application::ports::{
        CryptoKeyRef, DecryptedMessage, MockMessageCipher, PortError, Project,
    };
    use prepaid_application::{MockAuthenticateRequests, MockInquireProducts};
    use prepaid_domain::AspId;

    use super::*;
    use crate::operation::Operation;

    /// An operation with a plaintext request and an encrypted response (D13), taking an empty
    /// object and answering an empty payload.
    static PLAIN_IN_ENCRYPTED_OUT: Operation = Operation {
        id: "testPlainInEncryptedOut",
        summary: "",
        description: "",
        path: "/test",
        request: &[],
        response: &[],
        codes: &[],
        encrypted_request: false,
        encrypted_response: true,
        changes_state: false,
        scenarios: &[],
        links: &[],
    };

    struct Answering;

    #[async_trait]
    impl Endpoint for Answering {
        fn operation(&self) -> &'static Operation {
            &PLAIN_IN_ENCRYPTED_OUT
        }

        async fn run(&self, _: Call<'_>) -> Result<Vec<u8>, ApiError> {
            Ok(b"{}".to_vec())
        }
    }

    const KEY_ID: &str = "CK000000000000000000000000000001";

    fn state(plaintext_allowed: bool) -> web::Data<ApiState> {
        let mut authenticator = MockAuthenticateRequests::new();
        authenticator.expect_authenticate().returning(move |_| {
            Ok(Project {
                asp_id: AspId::parse("ASPSANDBOX00001").unwrap(),
                access_keys: Vec::new(),
                crypto_keys: vec![CryptoKeyRef {
                    id: CryptoKeyId::parse(KEY_ID).unwrap(),
                }],
                plaintext_allowed,
            })
        });
        let mut cipher = MockMessageCipher::new();
        cipher.expect_encrypt().returning(|key_id, plaintext, _| {
            Ok(format!(
                "{}:{}",
                key_id.as_str(),
                String::from_utf8_lossy(plaintext)
            ))
        });
        cipher.expect_decrypt().returning(|_, _| {
            Ok(DecryptedMessage {
                plaintext: b"{}".to_vec(),
                profile: JweProfile::DEFAULT,
            })
        });
        web::Data::new(ApiState {
            authenticator: Arc::new(authenticator),
            products: Arc::new(MockInquireProducts::new()),
            cipher: Arc::new(cipher),
            max_body_bytes: 1024,
            metrics: ApiMetrics::new(),
        })
    }

    /// The answer's status, its `X-KM-Crypto-Key-Id` and its body, for a request with `key_id`.
    async fn answer(
        plaintext_allowed: bool,
        key_id: Option<&str>,
    ) -> (u16, Option<String>, String) {
        let app = test::init_service(App::new().app_data(state(plaintext_allowed)).route(
            "/test",
            web::post().to(
                |request: HttpRequest, payload: web::Payload, state: web::Data<ApiState>| {
                    run(Arc::new(Answering), request, payload, state)
                },
            ),
        ))
        .await;
        let mut request = TestRequest::post()
            .uri("/test")
            .insert_header((names::ASP_ID, "ASPSANDBOX00001"))
            .insert_header((names::CORRELATION_ID, "261125153000-00000a1"))
            .insert_header((
                names::ACCESS_KEY,
                "AK0000000000000000000000000000000000000A",
            ))
            .insert_header((
                names::TRAN_TOKEN,
                format!("KMV1:20261125153000250:{}", "A".repeat(43)),
            ))
            .insert_header((names::TRAN_TIME, "20261125153000"))
            .insert_header((names::TIME_ZONE, "KST"))
            .set_payload("{}");
        if let Some(key_id) = key_id {
            request = request.insert_header((names::CRYPTO_KEY_ID, key_id));
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let key = response
            .headers()
            .get(names::CRYPTO_KEY_ID)
            .map(|value| value.to_str().unwrap().to_owned());
        let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
        (status, key, body)
    }

    #[actix_web::test]
    async fn a_plaintext_request_with_a_key_id_gets_its_answer_encrypted_to_that_key() {
        let (status, key, body) = answer(false, Some(KEY_ID)).await;
        assert_eq!((status, key.as_deref()), (200, Some(KEY_ID)));
        assert!(body.contains(&format!("{KEY_ID}:")), "{body}");
    }

    #[actix_web::test]
    async fn without_a_key_id_a_project_allowed_plaintext_gets_plaintext_and_others_000_003() {
        let (status, key, body) = answer(true, None).await;
        assert_eq!((status, key), (200, None));
        assert!(body.contains("000_000"), "{body}");

        let (status, key, body) = answer(false, None).await;
        assert_eq!((status, key), (400, None));
        assert!(
            body.contains("Missing required values. X-KM-Crypto-Key-Id"),
            "{body}"
        );
    }

    #[test]
    fn an_error_chain_names_every_cause_in_order() {
        let inner = std::io::Error::other("disk full");
        let outer = PortError::new("store", inner);
        assert_eq!(error_chain(&outer), "store: disk full");
    }

    fn parsed(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(body).expect("valid JSON")
    }

    #[test]
    fn the_envelope_puts_response_first_and_the_payload_members_beside_it() {
        let body = envelope(
            ErrorCode::Success,
            "Success.".to_owned(),
            Some(br#"{"a":1,"b":"x"}"#),
        );
        assert!(body.starts_with(br#"{"response":{"code":"000_000""#));
        let json = parsed(&body);
        assert_eq!(json["a"], 1);
        assert_eq!(json["b"], "x");
    }

    #[test]
    fn an_empty_payload_or_none_leaves_the_response_alone() {
        for payload in [Some(&b"{}"[..]), None] {
            let json = parsed(&envelope(
                ErrorCode::Success,
                "Success.".to_owned(),
                payload,
            ));
            assert_eq!(json.as_object().unwrap().len(), 1, "{payload:?}");
            assert_eq!(json["response"]["description"], "Success.");
        }
    }
}
