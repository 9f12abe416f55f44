//! The seven request headers of the source page, parsed in the order of D2.

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use prepaid_domain::{
    AccessKey, AspId, CorrelationId, CryptoKeyId, Field, FieldError, TimeZone, TranTime, TranToken,
};

use crate::error::ApiError;

/// The header names of the contract.
pub mod names {
    /// `X-KM-User-AspId`.
    pub const ASP_ID: &str = "X-KM-User-AspId";
    /// `X-KM-Correlation-Id`.
    pub const CORRELATION_ID: &str = "X-KM-Correlation-Id";
    /// `X-KM-Access-Key`.
    pub const ACCESS_KEY: &str = "X-KM-Access-Key";
    /// `X-KM-Crypto-Key-Id`.
    pub const CRYPTO_KEY_ID: &str = "X-KM-Crypto-Key-Id";
    /// `X-KM-Tran-Token`.
    pub const TRAN_TOKEN: &str = "X-KM-Tran-Token";
    /// `X-KM-Tran-Time`.
    pub const TRAN_TIME: &str = "X-KM-Tran-Time";
    /// `X-KM-Time-Zone`.
    pub const TIME_ZONE: &str = "X-KM-Time-Zone";
}

/// Every header, parsed.
#[derive(Debug)]
pub struct RequestHeaders {
    pub asp_id: AspId,
    pub correlation_id: CorrelationId,
    pub access_key: AccessKey,
    pub crypto_key_id: Option<CryptoKeyId>,
    pub tran_token: TranToken,
    pub tran_time: TranTime,
    pub time_zone: TimeZone,
}

/// The text of header `name`: `Ok(None)` when absent or empty, `000_002` when not visible ASCII.
fn text<'a>(
    request: &'a HttpRequest,
    name: &str,
    field: Field,
) -> Result<Option<&'a str>, FieldError> {
    match request.headers().get(name) {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| FieldError::invalid(field))?;
            Ok((!text.is_empty()).then_some(text))
        }
    }
}

fn required<'a>(request: &'a HttpRequest, name: &str, field: Field) -> Result<&'a str, FieldError> {
    text(request, name, field)?.ok_or(FieldError::missing(field))
}

/// The correlation id, if present and well formed: echoed on every answer (D6).
pub fn correlation_id(request: &HttpRequest) -> Option<CorrelationId> {
    text(request, names::CORRELATION_ID, Field::CorrelationId)
        .ok()
        .flatten()
        .and_then(|value| CorrelationId::parse(value).ok())
}

/// Parses the headers, reporting the first problem in the order the source page lists them.
pub fn parse(request: &HttpRequest) -> Result<RequestHeaders, FieldError> {
    let asp_id = AspId::parse(required(request, names::ASP_ID, Field::AspId)?)?;
    let correlation_id = CorrelationId::parse(required(
        request,
        names::CORRELATION_ID,
        Field::CorrelationId,
    )?)?;
    let access_key = AccessKey::parse(required(request, names::ACCESS_KEY, Field::AccessKey)?)?;
    let crypto_key_id = text(request, names::CRYPTO_KEY_ID, Field::CryptoKeyId)?
        .map(CryptoKeyId::parse)
        .transpose()?;
    let tran_token = TranToken::parse(required(request, names::TRAN_TOKEN, Field::TranToken)?)?;
    let tran_time = TranTime::parse(required(request, names::TRAN_TIME, Field::TranTime)?)?;
    let time_zone = TimeZone::parse(required(request, names::TIME_ZONE, Field::TimeZone)?)?;
    Ok(RequestHeaders {
        asp_id,
        correlation_id,
        access_key,
        crypto_key_id,
        tran_token,
        tran_time,
        time_zone,
    })
}

/// A body declared as anything but JSON (`application/json`, any parameters) is refused. An
/// absent `Content-Type` is served: the page does not require it, and clients omit it; the body
/// must still be JSON.
pub fn check_content_type(request: &HttpRequest) -> Result<(), ApiError> {
    let Some(declared) = request.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let is_json = declared
        .to_str()
        .ok()
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::from(FieldError::invalid(Field::ContentType)))
    }
}
