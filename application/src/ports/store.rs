use async_trait::async_trait;
use prepaid_domain::{
    ApplicationStatus, AspId, CardApplication, CardApplyNo, CardId, CardStatus, CorrelationId,
    DeliveryHistory, DeliveryStatus, Expiry, IssuedCard, MemberId, Par, Timestamp,
};

use super::{PanFingerprint, PortError, ProtectedPan, RequestFingerprint, SealedAddress};

/// The idempotency key of a request (D6): its correlation id, scoped to the ASP that sent it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// The ASP that sent the request.
    pub asp_id: AspId,
    /// The request's correlation id.
    pub correlation_id: CorrelationId,
}

/// The operations that change state, each recognising its own retries (D14). Stored by name in
/// idempotency records: a name is never reused for another operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdempotentOperation {
    /// "Application for Issuance and Delivery of Prepaid Card".
    IssueAndDeliver,
    /// "Cancellation of Card Application".
    CancelApplication,
    /// "Physical Card Registration".
    RegisterPhysicalCard,
    /// "Modification of the Card's State".
    ChangeCardState,
    /// "Discarding a Card".
    DiscardCard,
    /// "Reissuance of Prepaid Card" after a loss report.
    ReissueCard,
    /// "Reissuance & Renewal of Prepaid Card to be Expired".
    RenewCard,
    /// "Member registration".
    RegisterMember,
    /// "Membership Cancellation".
    CancelMembership,
    /// "Member Information Change".
    ChangeMemberInfo,
}

impl IdempotentOperation {
    /// The name stored in idempotency records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IssueAndDeliver => "ISSUE_AND_DELIVER",
            Self::CancelApplication => "CANCEL_APPLICATION",
            Self::RegisterPhysicalCard => "REGISTER_PHYSICAL_CARD",
            Self::ChangeCardState => "CHANGE_CARD_STATE",
            Self::DiscardCard => "DISCARD_CARD",
            Self::ReissueCard => "REISSUE_CARD",
            Self::RenewCard => "RENEW_CARD",
            Self::RegisterMember => "REGISTER_MEMBER",
            Self::CancelMembership => "CANCEL_MEMBERSHIP",
            Self::ChangeMemberInfo => "CHANGE_MEMBER_INFO",
        }
    }
}

/// What a state change claims with its correlation id, in the same transaction (D14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The ASP id and correlation id.
    pub key: IdempotencyKey,
    /// The operation the correlation id is used for.
    pub operation: IdempotentOperation,
    /// The keyed fingerprint of the request's canonical form, to tell retries from conflicts.
    pub request_fingerprint: RequestFingerprint,
    /// The reference of the outcome a retry answers (for an issuance, its application number).
    pub outcome: String,
    /// When it was claimed.
    pub created_at: Timestamp,
}

/// An idempotency record as stored: what the first request with a key did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The operation's stored name (see [`IdempotentOperation::as_str`]); a name this version
    /// does not know is another operation.
    pub operation: String,
    /// The fingerprint of the first request.
    pub request_fingerprint: RequestFingerprint,
    /// The reference of its outcome.
    pub outcome: String,
    /// When it was claimed.
    pub created_at: Timestamp,
}

/// The idempotency records of every operation that changes state (D14). Records are written by
/// the state changes themselves, with [`IdempotencyClaim`], in their own transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The record under `key`, if any (and not yet purged; records are kept at least 24 hours).
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn find_record(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError>;
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
    pub claim: IdempotencyClaim,
    /// The application.
    pub application: CardApplication,
    /// The mobile card issued now, if any.
    pub card: Option<NewIssuedCard>,
    /// The delivery asked for, if any.
    pub delivery: Option<NewDelivery>,
    /// The card the application replaces (a reissue or a renewal), with the changes made to
    /// the cards in the same transaction.
    pub replacing: Option<Replacement>,
}

/// What an application that replaces a card records of it (D22).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The card replaced, recorded with the application.
    pub card: CardId,
    /// Card changes made with the application, each only from the version read (a reissue
    /// terminates the lost card and its links; a renewal writes the cards as they are, so that
    /// of two concurrent renewals of one card one is made).
    pub cards: Vec<VersionedChange<CardId, CardChange>>,
}

/// A delivery as an issuance writes it: `READY`, to an address sealed for its application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// Where to, encrypted.
    pub address: SealedAddress,
    /// When it was asked for: its first step, `READY`.
    pub created_at: Timestamp,
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
    /// A card the issuance changes is no longer at the version it was read at: read again and
    /// decide again.
    #[error("a replaced card changed since it was read")]
    Stale,
    /// The store could not be written.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl StoredCard {
    /// What its protected PAN is bound to.
    pub fn pan_binding(&self) -> super::PanBinding<'_> {
        if self.pan_bound_to_id {
            super::PanBinding::Card(&self.id)
        } else {
            super::PanBinding::Par(&self.par)
        }
    }
}

/// What a recorded issuance answers to a retry (D6). It never holds a CVC (D7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIssuance {
    /// The application number answered the first time.
    pub application_number: CardApplyNo,
    /// The mobile card answered the first time, if any.
    pub card: Option<StoredCard>,
}

/// The stored facts of a mobile card, enough to answer a retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCard {
    /// Its own id.
    pub id: CardId,
    /// Its PAR.
    pub par: Par,
    /// Whether its PAN is bound to its id (`false`: to its PAR, as cards issued before cards had
    /// ids).
    pub pan_bound_to_id: bool,
    /// Its expiry (to derive the CVC again).
    pub expiry: Expiry,
    /// Its PAN, encrypted.
    pub protected_pan: ProtectedPan,
    /// The id of the card verification key its CVC is derived with.
    pub cvk_id: String,
}

/// A card application as stored, with the version its next state change must name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredApplication {
    /// The application.
    pub application: CardApplication,
    /// The card it replaces, for a reissue or a renewal.
    pub replaces: Option<CardId>,
    /// Moved by each state change (optimistic concurrency).
    pub version: u64,
}

/// A delivery as stored, with its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDelivery {
    /// The application it belongs to.
    pub application: CardApplyNo,
    /// Where to, sealed for the application; `None` while an address written before addresses
    /// were sealed waits for the next start to seal it.
    pub address: Option<SealedAddress>,
    /// Every status it reached, with when (D18).
    pub history: DeliveryHistory,
    /// Moved by each state change (optimistic concurrency).
    pub version: u64,
}

/// A card as stored: its facts, its protected PAN and fingerprint, the keys it depends on and
/// its version. Never a plaintext PAN, never a CVC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardRecord {
    /// Id, PAR, owner, link, expiry, kind, status.
    pub card: IssuedCard,
    /// The application it was issued with.
    pub application: CardApplyNo,
    /// Its PAN, encrypted.
    pub protected_pan: ProtectedPan,
    /// Whether its PAN is bound to its id (`false`: to its PAR).
    pub pan_bound_to_id: bool,
    /// Its PAN's keyed fingerprint.
    pub pan_fingerprint: PanFingerprint,
    /// The id of the card verification key its CVC is derived with.
    pub cvk_id: String,
    /// Wrong registration attempts in a row (a physical card's, D19).
    pub wrong_attempts: u8,
    /// Moved by each state change (optimistic concurrency).
    pub version: u64,
}

impl CardRecord {
    /// The card as it is, to change from: its status, attempts and link kept.
    pub fn as_is(&self) -> CardChange {
        CardChange {
            status: self.card.status,
            wrong_attempts: self.wrong_attempts,
            linked_to: self.card.linked_to.clone(),
        }
    }

    /// What its protected PAN is bound to.
    pub fn pan_binding(&self) -> super::PanBinding<'_> {
        if self.pan_bound_to_id {
            super::PanBinding::Card(&self.card.id)
        } else {
            super::PanBinding::Par(&self.card.par)
        }
    }
}

/// Cards, read by what the lifecycle looks them up by. Every read is scoped to the project
/// (D15): another project's card is not found.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardStore: Send + Sync {
    /// The card with PAR `par`.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn card_by_par(&self, asp_id: &AspId, par: &Par)
    -> Result<Option<CardRecord>, PortError>;

    /// The card whose PAN has `fingerprint` (under the index key the fingerprint names).
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn card_by_fingerprint(
        &self,
        asp_id: &AspId,
        fingerprint: &PanFingerprint,
    ) -> Result<Option<CardRecord>, PortError>;

    /// Every card issued to `member`, oldest first.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn cards_of_member(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<CardRecord>, PortError>;

    /// Every card issued with application `number`, oldest first.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn cards_of_application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Vec<CardRecord>, PortError>;
}

/// Deliveries of physical cards, one per application that asked for one. Every read is scoped to
/// the project (D15).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// The delivery of application `number`, if one was asked for.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn delivery(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredDelivery>, PortError>;

    /// The deliveries that are not in a final status, of `project` or of every project when
    /// `None`, the one unchanged the longest first, at most `limit`: the fulfilment partner's
    /// queue.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn deliveries_in_progress(
        &self,
        project: Option<AspId>,
        limit: usize,
    ) -> Result<Vec<ProjectDelivery>, PortError>;

    /// The project that application `number` belongs to (application numbers are unique across
    /// the service), if it exists.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn project_of(&self, number: &CardApplyNo) -> Result<Option<AspId>, PortError>;
}

/// A delivery and the project it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectDelivery {
    /// The project.
    pub asp_id: AspId,
    /// The delivery.
    pub delivery: StoredDelivery,
}

/// One status change of one object, made only if the object is still at the version it was read
/// at (optimistic concurrency: of two writers that read one version, one changes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionedChange<K, S> {
    /// Which object.
    pub key: K,
    /// The version it was read at.
    pub from_version: u64,
    /// Its new status.
    pub status: S,
}

/// What a card becomes: every field written, so a change starts from [`CardRecord::as_is`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardChange {
    /// Its state.
    pub status: CardStatus,
    /// Its wrong registration attempts in a row.
    pub wrong_attempts: u8,
    /// The mobile card a physical card is linked to.
    pub linked_to: Option<CardId>,
}

impl CardChange {
    /// The same change with `status`.
    #[must_use]
    pub fn with_status(self, status: CardStatus) -> Self {
        Self { status, ..self }
    }
}

/// A card made by a lifecycle change (a physical card produced for a delivery, a mobile card
/// issued at registration), for an application of the change's project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCardOf {
    /// The application it is made for.
    pub application: CardApplyNo,
    /// The card.
    pub card: NewIssuedCard,
}

/// A state change of the lifecycle, across aggregates, made whole or not at all: the statuses
/// of applications, deliveries and cards of one project, and the idempotency claim of the
/// request that made it (D14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleChange {
    /// The project every object belongs to.
    pub asp_id: AspId,
    /// The claim of the request, for operations that record one.
    pub claim: Option<IdempotencyClaim>,
    /// Application status changes.
    pub applications: Vec<VersionedChange<CardApplyNo, ApplicationStatus>>,
    /// Delivery status changes (by application).
    pub deliveries: Vec<VersionedChange<CardApplyNo, DeliveryStatus>>,
    /// Card changes.
    pub cards: Vec<VersionedChange<CardId, CardChange>>,
    /// Cards made, inserted before the card changes (which may link a card to one of them).
    pub new_cards: Vec<NewCardOf>,
    /// When it is made.
    pub at: Timestamp,
}

/// Why a lifecycle change was not made. Whatever the reason, nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// An object is no longer at the version it was read at (another writer changed it), or is
    /// not in the project: read again and decide again.
    #[error("changed by another writer since it was read")]
    Stale,
    /// The idempotency key is already claimed (a concurrent request with it committed first).
    #[error("idempotency key already claimed")]
    KeyTaken,
    /// A new card's number or PAR is already in use; draw again.
    #[error("{0:?} already in use")]
    NumberTaken(UniqueNumber),
    /// The store could not be written.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// Makes lifecycle changes.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LifecycleChanges: Send + Sync {
    /// Makes `change` whole, in one transaction, with every version checked and moved on by one,
    /// or makes nothing of it.
    ///
    /// # Errors
    /// See [`ChangeError`].
    async fn apply(&self, change: &LifecycleChange) -> Result<(), ChangeError>;
}

/// Card applications with their cards and deliveries. Every read is scoped to the project
/// (D15): another project's application is not found.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardApplicationStore: Send + Sync {
    /// Application `number`.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredApplication>, PortError>;

    /// Every application of `member`, oldest first.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn applications_of_member(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<StoredApplication>, PortError>;

    /// The issuance of application `number` of project `asp_id`, as a retry answers it.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn find_issuance(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredIssuance>, PortError>;

    /// Records `issuance` atomically: the application, the card, the delivery and the
    /// idempotency claim commit together, durably, or nothing is written.
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
