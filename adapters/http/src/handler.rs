//! `POST /api/v1/prepay-card/issue/delivery`.
//!
//! # Responses
//! - 200 `000_000` with `cardApplyNo` (and the mobile card fields when one was issued);
//! - 400 `000_002` / `000_003` / `000_015` for a header or body field (D2), `001_006`,
//!   `003_024`, `000_094` (correlation id reused with another payload), `000_095` (undecryptable);
//! - 401 `000_090` to `000_093` (authentication, D3/D4);
//! - 413 `000_096` (body over the limit);
//! - 500 `000_099` (carried out or not: the retry with the same correlation id answers the
//!   outcome, or carries it out once).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use prepaid_application::ports::{DecryptError, JweProfile, MessageCipher};
use prepaid_application::{
    AuthError, Authenticator, CardIssuanceService, Credentials, IssueCardCommand, IssueCardError,
    IssueCardOutcome, ports::IdempotencyKey,
};
use prepaid_domain::{CorrelationId, CryptoKeyId, ErrorCode, Field, FieldError};
use tracing::Instrument as _;

use crate::body;
use crate::dto::{EncryptedBody, Envelope, IssueDeliveryPayload, ResponseStatus};
use crate::error::ApiError;
use crate::headers::{self, names};

/// What the handlers need.
pub struct ApiState {
    /// The card-issuance use cases.
    pub issuance: CardIssuanceService,
    /// Request authentication.
    pub authenticator: Authenticator,
    /// Message encryption.
    pub cipher: Arc<dyn MessageCipher>,
    /// The largest body accepted, in bytes (D2: 64 KiB).
    pub max_body_bytes: usize,
    /// Metrics.
    pub metrics: crate::metrics::ApiMetrics,
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
        let envelope = Envelope::<IssueDeliveryPayload> {
            response: ResponseStatus {
                code: error.code().code(),
                description: error.description(),
            },
            payload: None,
        };
        self.json(error.status(), serialize(&envelope), cipher)
    }

    fn success(&self, outcome: IssueCardOutcome, cipher: &dyn MessageCipher) -> HttpResponse {
        let mobile = outcome.mobile_card;
        let envelope = Envelope {
            response: ResponseStatus {
                code: ErrorCode::Success.code(),
                description: ErrorCode::Success.message().to_owned(),
            },
            payload: Some(IssueDeliveryPayload {
                card_apply_no: outcome.application_number.as_str().to_owned(),
                mobile_card_no: mobile.as_ref().map(|card| card.pan.expose().to_owned()),
                mobile_card_cvc: mobile.as_ref().map(|card| card.cvc.expose().to_owned()),
                mobile_card_par: mobile.as_ref().map(|card| card.par.as_str().to_owned()),
            }),
        };
        self.json(StatusCode::OK, serialize(&envelope), cipher)
    }
}

/// Serialises a DTO; our DTOs have only strings and objects, so this cannot fail.
fn serialize<T: serde::Serialize>(value: &T) -> Vec<u8> {
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

/// The handler of `POST .../prepay-card/issue/delivery`.
pub async fn issue_delivery(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> HttpResponse {
    let correlation_id = headers::correlation_id(&request);
    let span = tracing::info_span!(
        "issue_delivery",
        correlation_id = correlation_id.as_ref().map_or("-", CorrelationId::as_str),
        asp_id = tracing::field::Empty,
    );
    let mut reply = Reply {
        correlation_id,
        encryption: None,
    };
    async move {
        let result = handle(&request, payload, &state, &mut reply).await;
        let cipher = state.cipher.as_ref();
        match result {
            Ok(outcome) => {
                state
                    .metrics
                    .issued(outcome.mobile_card.is_some(), outcome.replayed);
                tracing::info!(
                    replayed = outcome.replayed,
                    mobile_card = outcome.mobile_card.is_some(),
                    "card application accepted"
                );
                reply.success(outcome, cipher)
            }
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
    request: &HttpRequest,
    payload: web::Payload,
    state: &ApiState,
    reply: &mut Reply,
) -> Result<IssueCardOutcome, ApiError> {
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
            let compact = body::enc_data(&raw)?;
            let message = state
                .cipher
                .decrypt(key_id, &compact)
                .map_err(|error| match error {
                    DecryptError::UnknownKey => {
                        ApiError::from(FieldError::invalid(Field::CryptoKeyId))
                    }
                    DecryptError::Undecryptable => ApiError::new(ErrorCode::DecryptionFailed),
                })?;
            // From here on, every answer is encrypted the way the request was (D5).
            reply.encryption = Some((key_id.clone(), message.profile));
            message.plaintext
        }
        None if project.plaintext_allowed => raw.to_vec(),
        None => return Err(FieldError::invalid(Field::CryptoKeyId).into()),
    };

    let request = match body::issuance_request(&plaintext) {
        Ok(request) => request,
        Err(refusal) => {
            // An unknown product comes before the fields after it (D2 order).
            if let Some(service_id) = refusal.after_product
                && !state.issuance.offers(&service_id).await.map_err(|error| {
                    tracing::error!(error = %error, "product catalogue unavailable");
                    ApiError::new(error.code())
                })?
            {
                return Err(FieldError::invalid(Field::ServiceId).into());
            }
            return Err(refusal.error);
        }
    };
    let command = IssueCardCommand {
        key: IdempotencyKey {
            asp_id: headers.asp_id,
            correlation_id: headers.correlation_id,
        },
        request,
    };
    state
        .issuance
        .issue_and_deliver(command)
        .await
        .map_err(|error| {
            if let IssueCardError::Unavailable(cause) = &error {
                tracing::error!(error = %error_chain(cause), "issuance unavailable");
            }
            match error.field() {
                Some(field) => ApiError::with_field(error.code(), field),
                None => ApiError::new(error.code()),
            }
        })
}

/// Any other path: a `000_097` envelope, never the framework's default page.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    plain_error(&request, ApiError::new(ErrorCode::NotFound))
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
    let reply = Reply {
        correlation_id: headers::correlation_id(request),
        encryption: None,
    };
    let envelope = Envelope::<IssueDeliveryPayload> {
        response: ResponseStatus {
            code: error.code().code(),
            description: error.description(),
        },
        payload: None,
    };
    let mut response = HttpResponse::build(error.status());
    response.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
    if let Some(id) = &reply.correlation_id {
        response.insert_header((names::CORRELATION_ID, id.as_str().to_owned()));
    }
    response.body(serialize(&envelope))
}
