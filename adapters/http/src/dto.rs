//! The wire shapes (D1): this adapter's own serde types.

use serde::Serialize;

/// The `response` member of every body.
#[derive(Debug, Serialize)]
pub struct ResponseStatus {
    /// `NNN_NNN`.
    pub code: &'static str,
    /// The message, with the field path for field errors.
    pub description: String,
}

/// An encrypted body (D5).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedBody {
    /// The compact JWE.
    pub enc_data: String,
}
