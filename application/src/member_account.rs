//! A member's account besides sign-up (D24): their information and its change, the login id a
//! CI holds, and the password check with its durable lock, which only an operator lifts.

use prepaid_domain::{
    AspId, Ci, ErrorCode, JoinChannel, LoginId, LoginPassword, MOST_WRONG_PASSWORDS, MemberId,
    MemberProfile, MemberStatus, password_locked,
};

use crate::change_member::{
    ChangeMemberCommand, ChangeMemberError, MemberChangeService, MemberChanged,
};
use crate::inbound::ManageMembers;
use crate::ports::{LookupKey, PortError, StoredMember};
use crate::register_member::{
    MemberRegistered, MemberRegistrationPorts, MemberRegistrationService, RegisterMemberCommand,
    RegisterMemberFailure,
};

/// A member's information: "Search for Member Information".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// `userId`.
    pub id: MemberId,
    /// What the member told about themselves (never the password).
    pub profile: MemberProfile,
    /// `joinChannel`.
    pub join_channel: Option<JoinChannel>,
}

/// Why a member was not found.
#[derive(Debug, thiserror::Error)]
pub enum MemberLookupError {
    /// `001_006`: no active member of the project answers to it.
    #[error("no such member")]
    NotAMember,
    /// A port failed.
    #[error("member look-up unavailable")]
    Unavailable(#[from] PortError),
}

impl MemberLookupError {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// Why a password check did not let the member in.
#[derive(Debug, thiserror::Error)]
pub enum PasswordCheckError {
    /// `001_045`: a wrong password, or a login id no active member of the project holds (the
    /// two are answered alike so that login ids cannot be probed).
    #[error("password did not match")]
    Mismatch,
    /// `001_069`: the password is locked after five wrong attempts in a row.
    #[error("password locked")]
    Locked,
    /// A port failed.
    #[error("password check unavailable")]
    Unavailable(#[from] PortError),
}

impl PasswordCheckError {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Mismatch => ErrorCode::PasswordMismatch,
            Self::Locked => ErrorCode::PasswordLocked,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// The members' operations: the sign-up, and the account over the same ports.
#[derive(Clone)]
pub struct MemberService {
    registration: MemberRegistrationService,
    changes: MemberChangeService,
    ports: MemberRegistrationPorts,
}

impl MemberService {
    /// A service over `ports`.
    pub fn new(ports: MemberRegistrationPorts) -> Self {
        Self {
            registration: MemberRegistrationService::new(ports.clone()),
            changes: MemberChangeService::new(ports.clone()),
            ports,
        }
    }

    /// The active member `id` of `asp_id`, with their personal data.
    async fn active(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<StoredMember, MemberLookupError> {
        match self.ports.records.member(asp_id, id).await? {
            Some(stored) if stored.member.status == MemberStatus::Active => Ok(stored),
            _ => Err(MemberLookupError::NotAMember),
        }
    }

    /// Member `id`'s information.
    ///
    /// # Errors
    /// [`MemberLookupError::NotAMember`] for another project's, a cancelled or an unknown member.
    pub async fn info(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<MemberInfo, MemberLookupError> {
        let stored = self.active(asp_id, id).await?;
        let profile = self
            .ports
            .members
            .open_profile(&stored.profile, asp_id, id)?;
        Ok(MemberInfo {
            id,
            profile,
            join_channel: stored.join_channel,
        })
    }

    /// The login id of the active member of `asp_id` whose CI is `ci`: "Checking Log in ID".
    ///
    /// # Errors
    /// [`MemberLookupError::NotAMember`] when no active member of the project holds the CI.
    pub async fn login_id(&self, asp_id: &AspId, ci: &Ci) -> Result<LoginId, MemberLookupError> {
        let ports = &self.ports;
        let fingerprint = ports
            .members
            .personal_fingerprint(asp_id, LookupKey::Ci, ci.expose());
        let stored = match ports
            .records
            .member_by(asp_id, LookupKey::Ci, &fingerprint)
            .await?
        {
            Some(stored) if stored.member.status == MemberStatus::Active => stored,
            _ => return Err(MemberLookupError::NotAMember),
        };
        let profile = ports
            .members
            .open_profile(&stored.profile, asp_id, stored.member.id)?;
        Ok(profile.login_id)
    }

    /// Checks `password` against the password of the member of `asp_id` whose login id is
    /// `login_id`: the member's id when it matches. Every attempt is counted before it is
    /// evaluated, so that concurrent attempts never get more than five wrong ones evaluated; a
    /// right one clears the count, and is hashed again when its hash is not current.
    ///
    /// # Errors
    /// See [`PasswordCheckError`].
    pub async fn check_password(
        &self,
        asp_id: &AspId,
        login_id: &LoginId,
        password: &LoginPassword,
    ) -> Result<MemberId, PasswordCheckError> {
        let ports = &self.ports;
        let fingerprint =
            ports
                .members
                .personal_fingerprint(asp_id, LookupKey::LoginId, &login_id.normalized());
        let stored = match ports
            .records
            .member_by(asp_id, LookupKey::LoginId, &fingerprint)
            .await?
        {
            Some(stored) if stored.member.status == MemberStatus::Active => stored,
            _ => {
                // As long as a real check takes, so that the answer's time tells nothing of
                // whether the login id is held.
                ports.passwords.hash(password).await?;
                return Err(PasswordCheckError::Mismatch);
            }
        };
        let id = stored.member.id;
        if password_locked(stored.wrong_passwords)
            || !ports
                .records
                .count_password_attempt(asp_id, id, MOST_WRONG_PASSWORDS)
                .await?
        {
            return Err(PasswordCheckError::Locked);
        }
        if !ports.passwords.verify(password, &stored.password).await? {
            return Err(PasswordCheckError::Mismatch);
        }
        ports.records.clear_password_attempts(asp_id, id).await?;
        // A hash made with a retired pepper (or an older cost) is made again now that the
        // password is known to be right, so that the old pepper can be withdrawn in time.
        if !ports.passwords.is_current(&stored.password) {
            let again = ports.passwords.hash(password).await?;
            ports
                .records
                .replace_password(asp_id, id, &stored.password, &again)
                .await?;
        }
        Ok(id)
    }

    /// Lifts the lock of member `id`'s password (an operator's command): their count of wrong
    /// passwords starts again from nothing.
    ///
    /// # Errors
    /// [`MemberLookupError::NotAMember`] when the project has no such member with a password.
    pub async fn unlock_password(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<(), MemberLookupError> {
        if self
            .ports
            .records
            .clear_password_attempts(asp_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(MemberLookupError::NotAMember)
        }
    }
}

#[async_trait::async_trait]
impl ManageMembers for MemberService {
    async fn register(
        &self,
        command: &RegisterMemberCommand,
    ) -> Result<MemberRegistered, RegisterMemberFailure> {
        self.registration.register(command).await
    }

    async fn info(&self, asp_id: &AspId, id: MemberId) -> Result<MemberInfo, MemberLookupError> {
        Self::info(self, asp_id, id).await
    }

    async fn login_id(&self, asp_id: &AspId, ci: &Ci) -> Result<LoginId, MemberLookupError> {
        Self::login_id(self, asp_id, ci).await
    }

    async fn check_password(
        &self,
        asp_id: &AspId,
        login_id: &LoginId,
        password: &LoginPassword,
    ) -> Result<MemberId, PasswordCheckError> {
        Self::check_password(self, asp_id, login_id, password).await
    }

    async fn change(
        &self,
        command: &ChangeMemberCommand,
    ) -> Result<MemberChanged, ChangeMemberError> {
        self.changes.change(command).await
    }
}

#[cfg(test)]
mod tests;
