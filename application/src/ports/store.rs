use async_trait::async_trait;
use prepaid_domain::{
    AspId, CardApplication, CardApplyNo, CorrelationId, Delivery, Expiry, IssuedCard, Par,
};

use super::{PanFingerprint, PortError, ProtectedPan, RequestFingerprint};

/// The idempotency key of a request (D6): its correlation id, scoped to the ASP that sent it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// The ASP that sent the request.
    pub asp_id: AspId,
    /// The request's correlation id.
    pub correlation_id: CorrelationId,
}

/// A card issued with an application: its public facts, its protected PAN and fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIssuedCard {
    /// PAR, expiry, kind, status.
    pub card: IssuedCard,
    /// The PAN, encrypted.
    pub protected_pan: ProtectedPan,
    /// The PAN's keyed fingerprint (unique across the service).
    pub pan_fingerprint: PanFingerprint,
    /// The id of the card verification key its CVC is derived with.
    pub cvk_id: String,
}

/// Everything one accepted issuance writes, committed together or not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIssuance {
    /// The idempotency claim.
    pub key: IdempotencyKey,
    /// The fingerprint of the request payload, to tell retries from conflicts.
    pub request_fingerprint: RequestFingerprint,
    /// The application.
    pub application: CardApplication,
    /// The mobile card issued now, if any.
    pub card: Option<NewIssuedCard>,
    /// The delivery asked for, if any.
    pub delivery: Option<Delivery>,
}

/// A number that must be unique across the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UniqueNumber {
    /// `cardApplyNo`.
    ApplicationNumber,
    /// The PAN (by fingerprint).
    Pan,
    /// The PAR.
    Par,
}

/// Why an issuance was not recorded. Whatever the reason, nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Another issuance holds the idempotency key (it may have committed a moment ago).
    #[error("idempotency key already claimed")]
    KeyTaken,
    /// A freshly drawn number collides with an existing one; draw again.
    #[error("{0:?} already in use")]
    NumberTaken(UniqueNumber),
    /// The store could not be written.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// What a recorded issuance answers to a retry (D6). It never holds a CVC (D7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIssuance {
    /// The fingerprint of the first request's payload.
    pub request_fingerprint: RequestFingerprint,
    /// The application number answered the first time.
    pub application_number: CardApplyNo,
    /// The mobile card answered the first time, if any.
    pub card: Option<StoredCard>,
}

/// The stored facts of a mobile card, enough to answer a retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCard {
    /// Its PAR.
    pub par: Par,
    /// Its expiry (to derive the CVC again).
    pub expiry: Expiry,
    /// Its PAN, encrypted.
    pub protected_pan: ProtectedPan,
    /// The id of the card verification key its CVC is derived with.
    pub cvk_id: String,
}

/// Card applications, cards, deliveries and idempotency records.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardApplicationStore: Send + Sync {
    /// The issuance recorded under `key`, if any (and not yet purged; records are kept at least
    /// 24 hours).
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn find_issuance(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<StoredIssuance>, PortError>;

    /// Records `issuance` atomically: the idempotency claim, the application, the card and the
    /// delivery commit together, durably, or nothing is written.
    ///
    /// The claim must be made atomically (a unique constraint, never check-then-insert), so that
    /// of concurrent calls with one key, on one instance or several, exactly one succeeds.
    ///
    /// # Errors
    /// - [`RecordError::KeyTaken`] when the key is already claimed;
    /// - [`RecordError::NumberTaken`] when the application number, PAN fingerprint or PAR is
    ///   already in use;
    /// - [`RecordError::Unavailable`] for any other failure, after rolling back.
    async fn record_issuance(&self, issuance: &NewIssuance) -> Result<(), RecordError>;
}
