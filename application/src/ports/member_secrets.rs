use prepaid_domain::{AspId, MemberId, MemberProfile};

use super::PortError;

/// A member's profile as stored: encrypted under the data key named, bound to its project and
/// member id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedProfile {
    /// The data key it is sealed with.
    pub key_id: String,
    /// Nonce, ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

/// What a member is looked up by, or must be unique by, within a project (D24).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LookupKey {
    /// `loginId`, compared in lower case.
    LoginId,
    /// `ci`.
    Ci,
    /// `mobileNumber`.
    MobileNumber,
}

impl LookupKey {
    /// The name the fingerprint is separated by.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginId => "login-id",
            Self::Ci => "ci",
            Self::MobileNumber => "mobile",
        }
    }
}

/// The keyed fingerprint of a member's login id, CI or mobile number in one project: equal
/// values give equal fingerprints under one index key, and nothing else can be learnt from it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PersonalFingerprint {
    /// The index key it was made with.
    pub key_id: String,
    /// HMAC-SHA-256.
    pub digest: [u8; 32],
}

/// The keys members' personal data is under now: the data key profiles are sealed with and the
/// index key fingerprints are made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberKeyIds {
    /// The current data key's id.
    pub data: String,
    /// The current index key's id.
    pub index: String,
}

/// Members' personal data at rest (D24): sealed under the data key, with keyed fingerprints for
/// what must be unique or looked up.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait MemberSecrets: Send + Sync {
    /// `profile` sealed for member `member` of project `asp_id` under the current data key.
    ///
    /// # Errors
    /// [`PortError`] when it cannot be sealed.
    fn seal_profile(
        &self,
        profile: &MemberProfile,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<SealedProfile, PortError>;

    /// The profile `sealed` holds, if it was sealed for that member of that project.
    ///
    /// # Errors
    /// [`PortError`] for a key no longer configured, a ciphertext sealed for another member or
    /// project, or one tampered with.
    fn open_profile(
        &self,
        sealed: &SealedProfile,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<MemberProfile, PortError>;

    /// The fingerprint of `value` (already in its compared form) as `key` of project `asp_id`,
    /// under the current index key.
    fn personal_fingerprint(
        &self,
        asp_id: &AspId,
        key: LookupKey,
        value: &str,
    ) -> PersonalFingerprint;

    /// The ids of the keys [`MemberSecrets::seal_profile`] and
    /// [`MemberSecrets::personal_fingerprint`] use now.
    fn current_key_ids(&self) -> MemberKeyIds;
}
