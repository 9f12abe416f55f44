//! The use case "Member Information Change" (`/api/v1/user/info/change`, D24): the details a
//! request names replace the member's, their profile sealed again and the fingerprints of what
//! they are unique by written anew, with the request's claim (D14), only over the profile as it
//! was read.

use prepaid_domain::{
    BirthDate, Ci, DeliveryChoice, Email, ErrorCode, Gender, MemberId, MemberStatus, MobileNumber,
    Nationality, ProfileChange, UserName,
};

use crate::ports::{
    IdempotencyClaim, IdempotencyKey, IdempotentOperation, LookupKey, MemberValue, PortError,
    ProfileUpdate, ProfileUpdateError,
};
use crate::register_member::MemberRegistrationPorts;
use crate::retry::{RetryRefusal, claimed_without_record, earlier_outcome};

/// How many times the member is read again when their profile changed meanwhile.
const MOST_READS: usize = 4;

/// A change from an authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeMemberCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// `userId`.
    pub member: MemberId,
    /// What changes.
    pub change: ProfileChange,
}

/// A part of a canonical form that no value can be: absent parts are told from every value.
const ABSENT: &str = "!";

impl ChangeMemberCommand {
    /// What a retry must repeat: the member and every named detail. Held only to be
    /// fingerprinted under the index key, never stored as it is.
    fn canonical_form(&self) -> String {
        let details = self.change.details();
        // Present values are length-prefixed, so no choice of values makes two requests
        // collide, nor a value an absent detail.
        let part = |value: Option<&str>| {
            value.map_or_else(
                || ABSENT.to_owned(),
                |text| format!("{}:{text}", text.len()),
            )
        };
        let birth_date = details.birth_date.map(BirthDate::to_digits);
        let address = details
            .address
            .as_ref()
            .map(|address| DeliveryChoice::Deliver(address.clone()).canonical_form());
        [
            "change-member".to_owned(),
            self.member.get().to_string(),
            part(details.name.as_ref().map(UserName::expose)),
            part(birth_date.as_deref()),
            part(details.gender.map(Gender::as_str)),
            part(details.nationality.map(Nationality::as_str)),
            part(details.mobile.as_ref().map(MobileNumber::expose)),
            part(details.email.as_ref().map(Email::expose)),
            part(details.ci.as_ref().map(Ci::expose)),
            part(address.as_deref()),
        ]
        .join("\u{1f}")
    }
}

/// What a change answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberChanged {
    /// `true` when this is the outcome of an earlier request with the same correlation id.
    pub replayed: bool,
}

/// Why nothing changed. In every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ChangeMemberError {
    /// `001_006`: no active member of the project with details.
    #[error("not a member")]
    NotAMember,
    /// `001_001`: another member of the project holds the new mobile number or CI.
    #[error("a member already holds {0:?}")]
    AlreadyExists(MemberValue),
    /// The correlation id was used before with a different payload (D14).
    #[error("correlation id already used with a different payload")]
    CorrelationConflict,
    /// A port failed; the caller may retry with the same correlation id.
    #[error("member information change unavailable")]
    Unavailable(#[from] PortError),
}

impl From<RetryRefusal> for ChangeMemberError {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

impl ChangeMemberError {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::AlreadyExists(_) => ErrorCode::UserAlreadyExists,
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// The member information change service.
#[derive(Clone)]
pub struct MemberChangeService {
    ports: MemberRegistrationPorts,
}

impl MemberChangeService {
    /// A service over `ports`.
    pub fn new(ports: MemberRegistrationPorts) -> Self {
        Self { ports }
    }

    /// Changes the details `command` names, or answers the first outcome of its correlation id.
    ///
    /// # Errors
    /// See [`ChangeMemberError`]; nothing is written when an error is returned.
    pub async fn change(
        &self,
        command: &ChangeMemberCommand,
    ) -> Result<MemberChanged, ChangeMemberError> {
        let ports = &self.ports;
        let canonical = command.canonical_form();
        if let Some(answer) = self.earlier(command, &canonical).await? {
            return Ok(answer);
        }
        let asp_id = &command.key.asp_id;
        let id = command.member;
        let request_fingerprint = ports.secrets.request_fingerprint(&canonical);
        for _ in 0..MOST_READS {
            let stored = match ports.records.member(asp_id, id).await? {
                Some(stored) if stored.member.status == MemberStatus::Active => stored,
                _ => {
                    let earlier = self.earlier(command, &canonical).await?;
                    return earlier.ok_or(ChangeMemberError::NotAMember);
                }
            };
            let current = ports.members.open_profile(&stored.profile, asp_id, id)?;
            let changed = command.change.apply(&current);
            let fingerprint =
                |key, value: &str| ports.members.personal_fingerprint(asp_id, key, value);
            let now = ports.clock.now();
            let update = ProfileUpdate {
                asp_id: asp_id.clone(),
                id,
                mobile: fingerprint(LookupKey::MobileNumber, changed.mobile.expose()),
                ci: changed
                    .ci
                    .as_ref()
                    .map(|ci| fingerprint(LookupKey::Ci, ci.expose())),
                profile: ports.members.seal_profile(&changed, asp_id, id)?,
                read: stored.profile,
                claim: IdempotencyClaim {
                    key: command.key.clone(),
                    operation: IdempotentOperation::ChangeMemberInfo,
                    request_fingerprint: request_fingerprint.clone(),
                    outcome: id.get().to_string(),
                    created_at: now,
                },
                at: now,
            };
            match ports.records.change_profile(&update).await {
                Ok(()) => return Ok(MemberChanged { replayed: false }),
                // Cancelled, or changed meanwhile (by a retry of this very request, maybe):
                // answer as a request with this key did, or decide again on what is there.
                Err(ProfileUpdateError::Stale) => {
                    if let Some(answer) = self.earlier(command, &canonical).await? {
                        return Ok(answer);
                    }
                }
                Err(ProfileUpdateError::Taken(value)) => {
                    let earlier = self.earlier(command, &canonical).await?;
                    return earlier.ok_or(ChangeMemberError::AlreadyExists(value));
                }
                Err(ProfileUpdateError::KeyTaken) => {
                    let earlier = self.earlier(command, &canonical).await?;
                    return earlier.ok_or_else(|| claimed_without_record().into());
                }
                Err(ProfileUpdateError::Unavailable(error)) => return Err(error.into()),
            }
        }
        Err(PortError::msg("the member's profile kept changing while it was changed").into())
    }

    /// The answer a request with the command's key gave, `None` while none committed.
    async fn earlier(
        &self,
        command: &ChangeMemberCommand,
        canonical: &str,
    ) -> Result<Option<MemberChanged>, ChangeMemberError> {
        let ports = &self.ports;
        let outcome = earlier_outcome(
            ports.idempotency.as_ref(),
            ports.secrets.as_ref(),
            &command.key,
            IdempotentOperation::ChangeMemberInfo,
            canonical,
        )
        .await?;
        match outcome {
            None => Ok(None),
            Some(outcome) if outcome == command.member.get().to_string() => {
                Ok(Some(MemberChanged { replayed: true }))
            }
            Some(_) => {
                Err(PortError::msg("a change record whose outcome is another member").into())
            }
        }
    }
}

#[cfg(test)]
mod tests;
