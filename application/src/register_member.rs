//! The use case "Member registration" (`/api/v1/user/registration`, D24): a new member of the
//! project with a drawn id, their profile sealed, the keyed fingerprints they must be unique
//! by, and their password's keyed Argon2id hash, recorded whole with the request's claim
//! (D14).

use std::sync::Arc;

use prepaid_domain::{
    DeliveryChoice, ErrorCode, JoinChannel, LoginPassword, MemberId, MemberProfile,
};

use crate::ports::{
    CardSecrets, Clock, IdempotencyClaim, IdempotencyKey, IdempotencyStore, IdempotentOperation,
    LookupKey, MemberFingerprints, MemberRecords, MemberSecrets, MemberValue, NewMember, Passwords,
    PortError, RandomSource, RegisterMemberError,
};
use crate::retry::{Retry, RetryRefusal, recognise};

/// How many member ids are drawn before giving up: an id already held is drawn again (a
/// chance of one in 10¹⁹ divided by the members held).
const MOST_DRAWS: usize = 8;

/// The ports the use case runs through.
#[derive(Clone)]
pub struct MemberRegistrationPorts {
    /// Where members are recorded.
    pub records: Arc<dyn MemberRecords>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Password hashing.
    pub passwords: Arc<dyn Passwords>,
    /// Sealing profiles and fingerprinting what members are unique by.
    pub members: Arc<dyn MemberSecrets>,
    /// The request's fingerprint.
    pub secrets: Arc<dyn CardSecrets>,
    /// Member ids.
    pub random: Arc<dyn RandomSource>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// A sign-up from an authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterMemberCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// What the member tells about themselves.
    pub profile: MemberProfile,
    /// `loginPassword`.
    pub password: LoginPassword,
    /// `joinChannel`.
    pub join_channel: Option<JoinChannel>,
}

impl RegisterMemberCommand {
    /// What a retry must repeat: every field. Held only to be fingerprinted under the index
    /// key, never stored as it is.
    fn canonical_form(&self) -> String {
        let profile = &self.profile;
        let mut text = [
            "register-member",
            profile.login_id.expose(),
            self.password.expose(),
            &profile.birth_date.to_digits(),
            profile.nationality.as_str(),
            profile.gender.as_str(),
            profile.name.expose(),
            profile.mobile.expose(),
            profile.email.expose(),
            profile.ci.as_ref().map_or("-", |ci| ci.expose()),
            self.join_channel.as_ref().map_or("-", JoinChannel::as_str),
        ]
        .iter()
        // Length-prefixed, so no choice of values can make two requests collide.
        .map(|part| format!("{}:{part}", part.len()))
        .collect::<Vec<_>>()
        .join("\u{1f}");
        text.push_str(&match &profile.address {
            Some(address) => DeliveryChoice::Deliver(address.clone()).canonical_form(),
            None => "\u{1f}-".to_owned(),
        });
        text
    }
}

/// What a sign-up answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberRegistered {
    /// `userId`.
    pub id: MemberId,
    /// `true` when this is the outcome of an earlier request with the same correlation id.
    pub replayed: bool,
}

/// Why no member was registered. In every case nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum RegisterMemberFailure {
    /// `001_001`: a member of the project holds the login id, the mobile number or the CI.
    #[error("a member already holds {0:?}")]
    AlreadyExists(MemberValue),
    /// The correlation id was used before with a different payload (D14).
    #[error("correlation id already used with a different payload")]
    CorrelationConflict,
    /// A port failed; the caller may retry with the same correlation id.
    #[error("registration unavailable")]
    Unavailable(#[from] PortError),
}

impl RegisterMemberFailure {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::AlreadyExists(_) => ErrorCode::UserAlreadyExists,
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// The member registration service.
#[derive(Clone)]
pub struct MemberRegistrationService {
    ports: MemberRegistrationPorts,
}

impl MemberRegistrationService {
    /// A service over `ports`.
    pub fn new(ports: MemberRegistrationPorts) -> Self {
        Self { ports }
    }

    /// Registers the member `command` describes, or answers the first outcome of its
    /// correlation id.
    ///
    /// # Errors
    /// See [`RegisterMemberFailure`]; nothing is recorded when an error is returned.
    pub async fn register(
        &self,
        command: &RegisterMemberCommand,
    ) -> Result<MemberRegistered, RegisterMemberFailure> {
        let ports = &self.ports;
        let canonical = command.canonical_form();
        if ports.idempotency.find_record(&command.key).await?.is_some() {
            return self.replay(command, &canonical).await;
        }
        let asp_id = &command.key.asp_id;
        let profile = &command.profile;
        let fingerprint = |key, value: &str| ports.members.personal_fingerprint(asp_id, key, value);
        let fingerprints = MemberFingerprints {
            login_id: fingerprint(LookupKey::LoginId, &profile.login_id.normalized()),
            mobile: fingerprint(LookupKey::MobileNumber, profile.mobile.expose()),
            ci: profile
                .ci
                .as_ref()
                .map(|ci| fingerprint(LookupKey::Ci, ci.expose())),
        };
        let password = ports.passwords.hash(&command.password).await?;
        let request_fingerprint = ports.secrets.request_fingerprint(&canonical);
        for _ in 0..MOST_DRAWS {
            let id = MemberId::draw(&mut || ports.random.next_u64());
            let now = ports.clock.now();
            let new = NewMember {
                asp_id: asp_id.clone(),
                id,
                profile: ports.members.seal_profile(profile, asp_id, id)?,
                fingerprints: fingerprints.clone(),
                password: password.clone(),
                join_channel: command.join_channel.clone(),
                claim: IdempotencyClaim {
                    key: command.key.clone(),
                    operation: IdempotentOperation::RegisterMember,
                    request_fingerprint: request_fingerprint.clone(),
                    outcome: id.get().to_string(),
                    created_at: now,
                },
                at: now,
            };
            match ports.records.register(&new).await {
                Ok(()) => {
                    return Ok(MemberRegistered {
                        id,
                        replayed: false,
                    });
                }
                Err(RegisterMemberError::Taken(MemberValue::Id)) => {}
                Err(RegisterMemberError::Taken(value)) => {
                    // A concurrent retry of this very request holds the value: its claim
                    // commits with it, so a claim under our key makes this a replay.
                    if ports.idempotency.find_record(&command.key).await?.is_some() {
                        return self.replay(command, &canonical).await;
                    }
                    return Err(RegisterMemberFailure::AlreadyExists(value));
                }
                Err(RegisterMemberError::KeyTaken) => {
                    return self.replay(command, &canonical).await;
                }
                Err(RegisterMemberError::Unavailable(error)) => return Err(error.into()),
            }
        }
        Err(PortError::msg("no free member id after repeated draws").into())
    }

    /// The first outcome under the command's key, or a conflict.
    async fn replay(
        &self,
        command: &RegisterMemberCommand,
        canonical: &str,
    ) -> Result<MemberRegistered, RegisterMemberFailure> {
        let ports = &self.ports;
        let record = ports.idempotency.find_record(&command.key).await?;
        let outcome = match recognise(
            record,
            IdempotentOperation::RegisterMember,
            canonical,
            ports.secrets.as_ref(),
        ) {
            Ok(Retry::Same(outcome)) => outcome,
            Ok(Retry::First) => return Err(PortError::msg("a replay without a record").into()),
            Err(RetryRefusal::Conflict) => return Err(RegisterMemberFailure::CorrelationConflict),
            Err(RetryRefusal::Unavailable(error)) => return Err(error.into()),
        };
        let id = MemberId::parse(&outcome)
            .map_err(|_| PortError::msg("a sign-up record whose outcome is not a member id"))?;
        Ok(MemberRegistered { id, replayed: true })
    }
}

#[cfg(test)]
mod tests;
