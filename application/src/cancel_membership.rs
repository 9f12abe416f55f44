//! The use case "Membership Cancellation" (`/api/v1/user/unregister`, D24): the member's cards
//! terminated and the member cancelled, in one transaction with the request's claim (D14);
//! refused while a card is suspended. The member then answers `001_006` everywhere.

use std::sync::Arc;

use prepaid_domain::{CancellationRefusal, CardStatus, ErrorCode, MemberId, decide_cancellation};

use crate::ports::{
    CardSecrets, CardStore, ChangeError, Clock, IdempotencyClaim, IdempotencyKey, IdempotencyStore,
    IdempotentOperation, LifecycleChange, MemberDirectory, MemberRecords, PortError,
    VersionedChange,
};
use crate::retry::{RetryRefusal, claimed_without_record, earlier_outcome};

/// How many times the cards are read again when one moved while the member was cancelled.
const MOST_READS: usize = 4;

/// The ports the use case runs through.
#[derive(Clone)]
pub struct CancellationPorts {
    /// Who is a member.
    pub members: Arc<dyn MemberDirectory>,
    /// The member's cards.
    pub cards: Arc<dyn CardStore>,
    /// Where the cancellation is written.
    pub records: Arc<dyn MemberRecords>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The request's fingerprint.
    pub secrets: Arc<dyn CardSecrets>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// A cancellation from an authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelMembershipCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// `userId`.
    pub member: MemberId,
}

/// What a cancellation answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MembershipCancelled {
    /// How many cards it terminated.
    pub terminated: usize,
    /// `true` when this is the outcome of an earlier request with the same correlation id.
    pub replayed: bool,
}

/// Why a membership was not cancelled. In every case nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CancelMembershipError {
    /// `001_006`: not an active member of the project.
    #[error("not a member")]
    NotAMember,
    /// The rules refuse it.
    #[error("refused: {0:?}")]
    Refused(CancellationRefusal),
    /// The correlation id was used before with a different payload (D14).
    #[error("correlation id already used with a different payload")]
    CorrelationConflict,
    /// A port failed; the caller may retry with the same correlation id.
    #[error("membership cancellation unavailable")]
    Unavailable(#[from] PortError),
}

impl From<RetryRefusal> for CancelMembershipError {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

impl CancelMembershipError {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::Refused(refusal) => refusal.code(),
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// The membership cancellation service.
#[derive(Clone)]
pub struct MembershipCancellationService {
    ports: CancellationPorts,
}

impl MembershipCancellationService {
    /// A service over `ports`.
    pub fn new(ports: CancellationPorts) -> Self {
        Self { ports }
    }

    /// Cancels the membership `command` names, or answers the first outcome of its correlation
    /// id.
    ///
    /// # Errors
    /// See [`CancelMembershipError`]; nothing is written when an error is returned.
    pub async fn cancel(
        &self,
        command: &CancelMembershipCommand,
    ) -> Result<MembershipCancelled, CancelMembershipError> {
        let ports = &self.ports;
        let canonical = format!("cancel-membership|{}", command.member.get());
        if let Some(answer) = self.earlier(command, &canonical).await? {
            return Ok(answer);
        }
        let asp_id = &command.key.asp_id;
        let fingerprint = ports.secrets.request_fingerprint(&canonical);
        for _ in 0..MOST_READS {
            let member = ports.members.find(asp_id, command.member).await?;
            if !member.is_some_and(|member| member.may_apply()) {
                let earlier = self.earlier(command, &canonical).await?;
                return earlier.ok_or(CancelMembershipError::NotAMember);
            }
            let cards = ports.cards.cards_of_member(asp_id, command.member).await?;
            if let Err(refusal) = decide_cancellation(cards.iter().map(|card| card.card.status)) {
                let earlier = self.earlier(command, &canonical).await?;
                return earlier.ok_or(CancelMembershipError::Refused(refusal));
            }
            let terminated: Vec<_> = cards
                .iter()
                .filter(|card| card.card.status != CardStatus::Terminated)
                .map(|card| VersionedChange {
                    key: card.card.id.clone(),
                    from_version: card.version,
                    status: card.as_is().with_status(CardStatus::Terminated),
                })
                .collect();
            let at = ports.clock.now();
            let count = terminated.len();
            let change = LifecycleChange {
                asp_id: asp_id.clone(),
                claim: Some(IdempotencyClaim {
                    key: command.key.clone(),
                    operation: IdempotentOperation::CancelMembership,
                    request_fingerprint: fingerprint.clone(),
                    outcome: count.to_string(),
                    created_at: at,
                }),
                applications: Vec::new(),
                deliveries: Vec::new(),
                cards: terminated,
                new_cards: Vec::new(),
                at,
            };
            match ports.records.cancel(command.member, &change).await {
                Ok(()) => {
                    return Ok(MembershipCancelled {
                        terminated: count,
                        replayed: false,
                    });
                }
                // The member or a card moved: answer as a request with this key did, or decide
                // again on what is there now.
                Err(ChangeError::Stale) => {
                    if let Some(answer) = self.earlier(command, &canonical).await? {
                        return Ok(answer);
                    }
                }
                Err(ChangeError::KeyTaken) => {
                    let earlier = self.earlier(command, &canonical).await?;
                    return earlier.ok_or_else(|| claimed_without_record().into());
                }
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
                Err(ChangeError::NumberTaken(_)) => {
                    return Err(PortError::msg("a cancellation made a card").into());
                }
            }
        }
        Err(PortError::msg("the member's cards kept changing while they were terminated").into())
    }

    /// The answer a request with the command's key gave, `None` while none committed.
    async fn earlier(
        &self,
        command: &CancelMembershipCommand,
        canonical: &str,
    ) -> Result<Option<MembershipCancelled>, CancelMembershipError> {
        let ports = &self.ports;
        let outcome = earlier_outcome(
            ports.idempotency.as_ref(),
            ports.secrets.as_ref(),
            &command.key,
            IdempotentOperation::CancelMembership,
            canonical,
        )
        .await?;
        let Some(outcome) = outcome else {
            return Ok(None);
        };
        let terminated = outcome
            .parse()
            .map_err(|_| PortError::msg("a cancellation record whose outcome is not a count"))?;
        Ok(Some(MembershipCancelled {
            terminated,
            replayed: true,
        }))
    }
}

#[cfg(test)]
mod tests;
