use async_trait::async_trait;
use prepaid_domain::{AspId, Member, MemberId};

use super::PortError;

/// The wallet's members, each belonging to the project (ASP id) that holds it (D15).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MemberDirectory: Send + Sync {
    /// The member `id` of project `asp_id`, active or cancelled; `Ok(None)` when that project
    /// has none, whatever other projects hold under the same id.
    ///
    /// # Errors
    /// [`PortError`] only when the directory cannot be read; an unknown id is `Ok(None)`.
    async fn find(&self, asp_id: &AspId, id: MemberId) -> Result<Option<Member>, PortError>;
}

/// The fingerprints a member is unique by in the project (D24).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberFingerprints {
    /// Of the login id (lower case).
    pub login_id: super::PersonalFingerprint,
    /// Of the mobile number.
    pub mobile: super::PersonalFingerprint,
    /// Of the CI, when given.
    pub ci: Option<super::PersonalFingerprint>,
}

/// Everything a member's sign-up writes, committed together or not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMember {
    /// The project.
    pub asp_id: AspId,
    /// The new member's id (drawn; a taken one is [`RegisterMemberError::Taken`]).
    pub id: MemberId,
    /// The profile, sealed.
    pub profile: super::SealedProfile,
    /// What the member is unique by.
    pub fingerprints: MemberFingerprints,
    /// The password's hash.
    pub password: super::PasswordHash,
    /// `joinChannel`.
    pub join_channel: Option<prepaid_domain::JoinChannel>,
    /// The request's claim (D14).
    pub claim: super::IdempotencyClaim,
    /// When.
    pub at: prepaid_domain::Timestamp,
    /// The basic card issued with the sign-up, when the project names a basic product.
    pub basic_card: Option<BasicCard>,
}

/// The basic card of a sign-up (D24): its application and its mobile card, written with the
/// member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicCard {
    /// The application, of type `BASIC`.
    pub application: prepaid_domain::CardApplication,
    /// The mobile card.
    pub card: super::NewIssuedCard,
}

/// A member with their stored personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMember {
    /// Id and status.
    pub member: Member,
    /// The profile, sealed.
    pub profile: super::SealedProfile,
    /// The password's hash.
    pub password: super::PasswordHash,
    /// Wrong passwords in a row.
    pub wrong_passwords: u8,
    /// `joinChannel`.
    pub join_channel: Option<prepaid_domain::JoinChannel>,
    /// Moved by each change (optimistic concurrency).
    pub version: u64,
}

/// A value a project's members are unique by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberValue {
    /// The member id (a drawn id already held: draw again).
    Id,
    /// The login id.
    LoginId,
    /// The mobile number.
    MobileNumber,
    /// The CI.
    Ci,
}

/// Why a sign-up was not recorded. Whatever the reason, nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum RegisterMemberError {
    /// Another member of the project holds this value.
    #[error("{0:?} already held in the project")]
    Taken(MemberValue),
    /// The idempotency key is already claimed.
    #[error("idempotency key already claimed")]
    KeyTaken,
    /// A number of the basic card (application number, PAR, PAN) is taken: draw again.
    #[error("a basic card number already in use")]
    NumberTaken,
    /// The store could not be written.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// A member's details changed: the profile sealed again and the fingerprints of what they are
/// unique by, written with the request's claim, only over the profile as it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileUpdate {
    /// The project.
    pub asp_id: AspId,
    /// The member, active.
    pub id: MemberId,
    /// The profile as it was read: the update is made only over it.
    pub read: super::SealedProfile,
    /// The profile, changed and sealed.
    pub profile: super::SealedProfile,
    /// Of the mobile number, changed or not (under the current index key).
    pub mobile: super::PersonalFingerprint,
    /// Of the CI, when the member has one.
    pub ci: Option<super::PersonalFingerprint>,
    /// The request's claim (D14).
    pub claim: super::IdempotencyClaim,
    /// When.
    pub at: prepaid_domain::Timestamp,
}

/// Why a change of details was not written. Whatever the reason, nothing of it was.
#[derive(Debug, thiserror::Error)]
pub enum ProfileUpdateError {
    /// The member is no longer active, or their profile changed since it was read.
    #[error("the member changed since they were read")]
    Stale,
    /// Another member of the project holds this value.
    #[error("{0:?} already held in the project")]
    Taken(MemberValue),
    /// The idempotency key is already claimed.
    #[error("idempotency key already claimed")]
    KeyTaken,
    /// The store could not be written.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// Members with their personal data. Every read is scoped to the project (D15).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MemberRecords: Send + Sync {
    /// Records `new` whole (the member, active; its profile; the claim), or nothing.
    ///
    /// # Errors
    /// See [`RegisterMemberError`].
    async fn register(&self, new: &NewMember) -> Result<(), RegisterMemberError>;

    /// Member `id` of `asp_id` with their personal data, if they have any.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn member(&self, asp_id: &AspId, id: MemberId)
    -> Result<Option<StoredMember>, PortError>;

    /// The member of `asp_id` whose `key` has `fingerprint`.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn member_by(
        &self,
        asp_id: &AspId,
        key: super::LookupKey,
        fingerprint: &super::PersonalFingerprint,
    ) -> Result<Option<StoredMember>, PortError>;

    /// Counts one password attempt of member `id` before it is evaluated, when fewer than
    /// `most` wrong ones in a row are counted: `Ok(true)` when it was counted (the attempt may be
    /// evaluated), `Ok(false)` when `most` are counted already (the password is locked). Atomic:
    /// of concurrent attempts, no more than `most` are ever counted.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written; nothing was counted.
    async fn count_password_attempt(
        &self,
        asp_id: &AspId,
        id: MemberId,
        most: u8,
    ) -> Result<bool, PortError>;

    /// Clears member `id`'s count of wrong passwords: after a right one, or an operator's unlock.
    /// `Ok(false)` when the project has no such member.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written.
    async fn clear_password_attempts(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<bool, PortError>;

    /// Replaces member `id`'s password hash `from` with `to` (the same password hashed again
    /// with the current pepper): `Ok(false)` when the stored hash is no longer `from`.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written.
    async fn replace_password(
        &self,
        asp_id: &AspId,
        id: MemberId,
        from: &super::PasswordHash,
        to: &super::PasswordHash,
    ) -> Result<bool, PortError>;

    /// Cancels the membership of member `id` of `change.asp_id`, active until now, with
    /// `change` (the member's cards terminated, the request's claim), in one transaction, or
    /// makes nothing of it.
    ///
    /// # Errors
    /// [`super::ChangeError::Stale`] when the member is no longer active or a card moved since
    /// it was read; [`super::ChangeError::KeyTaken`] when the key is claimed;
    /// [`super::ChangeError::Unavailable`] when the store cannot be written.
    async fn cancel(
        &self,
        id: MemberId,
        change: &super::LifecycleChange,
    ) -> Result<(), super::ChangeError>;

    /// Writes `update` whole (the profile, the fingerprints, the claim), or nothing: only while
    /// the member is active and their stored profile is `update.read`.
    ///
    /// # Errors
    /// See [`ProfileUpdateError`].
    async fn change_profile(&self, update: &ProfileUpdate) -> Result<(), ProfileUpdateError>;

    /// The members of every project whose profile is sealed, or one of whose fingerprints is
    /// made, under a key other than `current`'s.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn members_under_other_keys(
        &self,
        current: &super::MemberKeyIds,
    ) -> Result<Vec<MemberUnderOldKeys>, PortError>;

    /// Replaces the sealed profile and the fingerprints of `rekeyed.id`, only while the stored
    /// profile is `rekeyed.read`: `Ok(false)` when it changed since (nothing written).
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written, or another member holds one of the
    /// fingerprints (a value two members held under different keys).
    async fn rekey(&self, rekeyed: &RekeyedMember) -> Result<bool, PortError>;
}

/// A member whose personal data is under keys older than the current ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberUnderOldKeys {
    /// The project.
    pub asp_id: AspId,
    /// The member.
    pub id: MemberId,
    /// The profile, sealed.
    pub profile: super::SealedProfile,
}

/// A member's personal data brought under the current keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RekeyedMember {
    /// The project.
    pub asp_id: AspId,
    /// The member.
    pub id: MemberId,
    /// The profile as it was read: written only over it.
    pub read: super::SealedProfile,
    /// The same profile sealed under the current data key.
    pub profile: super::SealedProfile,
    /// The fingerprints under the current index key.
    pub fingerprints: MemberFingerprints,
}
