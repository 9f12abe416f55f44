//! The one API error type: every refusal of the HTTP layer, with its status and envelope
//! decided in one place.

use actix_web::http::StatusCode;
use prepaid_domain::{ErrorClass, ErrorCode, Field, FieldError};

/// An error answered to the caller: a catalogue code and, for field errors, the field's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    path: Option<&'static str>,
}

impl ApiError {
    /// An error with `code` and no field.
    pub const fn new(code: ErrorCode) -> Self {
        Self { code, path: None }
    }

    /// An error with `code` naming `field`.
    pub const fn with_field(code: ErrorCode, field: Field) -> Self {
        Self::at(code, field.path())
    }

    /// An error with `code` naming the member at `path` (a header name or a dotted JSON path).
    pub const fn at(code: ErrorCode, path: &'static str) -> Self {
        Self {
            code,
            path: Some(path),
        }
    }

    /// A body that is not JSON at all, or JSON of the wrong shape: `000_002` with no path (D2).
    pub const fn malformed_body() -> Self {
        Self::new(ErrorCode::InvalidInput)
    }

    /// The catalogue code.
    pub const fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status of the code: the only place codes become statuses.
    pub fn status(&self) -> StatusCode {
        match self.code.class() {
            ErrorClass::Success => StatusCode::OK,
            ErrorClass::Rejected => StatusCode::BAD_REQUEST,
            ErrorClass::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorClass::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorClass::NotFound => StatusCode::NOT_FOUND,
            ErrorClass::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorClass::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The envelope's `description`: the message, then the field path when there is one (D2).
    pub fn description(&self) -> String {
        match self.path {
            Some(path) => format!("{} {path}", self.code.message()),
            None => self.code.message().to_owned(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::with_field(error.code(), error.field())
    }
}
