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

/// The payload of a successful issue-and-delivery answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueDeliveryPayload {
    /// `cardApplyNo`.
    pub card_apply_no: String,
    /// `mobileCardNo`, when a mobile card was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_card_no: Option<String>,
    /// `mobileCardCVC`, when a mobile card was issued.
    #[serde(rename = "mobileCardCVC", skip_serializing_if = "Option::is_none")]
    pub mobile_card_cvc: Option<String>,
    /// `mobileCardPar`, when a mobile card was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_card_par: Option<String>,
}

/// A whole response body: the `response` member and the payload fields beside it (D1).
#[derive(Debug, Serialize)]
pub struct Envelope<P: Serialize> {
    /// Code and description.
    pub response: ResponseStatus,
    /// The payload, flattened beside `response`; absent on errors.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub payload: Option<P>,
}

/// An encrypted body (D5).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedBody {
    /// The compact JWE.
    pub enc_data: String,
}
