//! The use case "Cancellation of Card Application" (`POST /api/v1/card/delivery/cancel`, D17):
//! on the day of application (KST), an application that has not gone too far is cancelled, its
//! delivery cancelled and its mobile card discarded, in one transaction with the request's
//! idempotency claim (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    ApplicationStatus, AspId, CancelFacts, CancelPlan, CancelRefusal, CardApplyNo, CardKind,
    CardStatus, DeliveryStatus, ErrorCode, MemberId, MemberStatus, MobileCardFacts, Pan, Par,
    decide_cancel,
};

use crate::inbound::CancelApplications;
use crate::ports::{
    CardApplicationStore, CardRecord, CardSecrets, CardStore, ChangeError, Clock, DeliveryStore,
    IdempotencyClaim, IdempotencyKey, IdempotencyStore, IdempotentOperation, LifecycleChange,
    LifecycleChanges, MemberDirectory, PortError, RequestFingerprint, VersionedChange,
};
use crate::retry::{RetryRefusal, claimed_without_record, earlier_outcome};

/// How many times a cancel reads and decides again when another writer changed what it read.
const MOST_READS: usize = 8;

/// The ports the cancel reads and writes through.
#[derive(Clone)]
pub struct CancelPorts {
    /// The project's members.
    pub members: Arc<dyn MemberDirectory>,
    /// Applications.
    pub applications: Arc<dyn CardApplicationStore>,
    /// Deliveries.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// The one transaction of the cancel.
    pub changes: Arc<dyn LifecycleChanges>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Request fingerprints, and the PAN of the discarded card.
    pub secrets: Arc<dyn CardSecrets>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// A cancel: who asks, under which key, for which application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelApplicationCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// The member asking.
    pub member: MemberId,
    /// The application to cancel.
    pub application: CardApplyNo,
}

impl CancelApplicationCommand {
    /// What a retry must repeat: the member and the application.
    fn canonical_form(&self) -> String {
        format!("{}|{}", self.member.get(), self.application.as_str())
    }
}

/// The mobile card a cancel discarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscardedCard {
    /// Its number.
    pub pan: Pan,
    /// Its PAR.
    pub par: Par,
}

/// What a cancel answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelOutcome {
    /// The application's mobile card, now terminated, when it had one.
    pub discarded: Option<DiscardedCard>,
    /// Whether this answers an earlier request with the same key.
    pub replayed: bool,
}

/// Why an application was not cancelled. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum CancelApplicationError {
    /// `001_006`: not a member of the project, or one whose membership is cancelled.
    #[error("not a member of the project")]
    NotAMember,
    /// `003_013`: no application of the member with this number (another member's or another
    /// project's is answered the same way).
    #[error("no such application of the member")]
    NotFound,
    /// `003_002` or `003_003`.
    #[error("the application may not be cancelled: {0:?}")]
    Refused(CancelRefusal),
    /// `000_094`: the correlation id was used with another request.
    #[error("correlation id already used with a different request")]
    CorrelationConflict,
    /// A store failed; retry with the same correlation id.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl From<RetryRefusal> for CancelApplicationError {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

impl CancelApplicationError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::NotFound => ErrorCode::CardIssueNotFound,
            Self::Refused(refusal) => refusal.code(),
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// Cancels applications.
#[derive(Clone)]
pub struct CancelApplicationService {
    ports: CancelPorts,
}

/// What a cancel read, to decide on and to change.
struct Read {
    application_version: u64,
    facts: CancelFacts,
    delivery_version: Option<u64>,
    mobile_card: Option<CardRecord>,
}

impl CancelApplicationService {
    /// A service over `ports`.
    pub fn new(ports: CancelPorts) -> Self {
        Self { ports }
    }

    /// Reads the member's application with its delivery and mobile card, as of now.
    async fn read(
        &self,
        command: &CancelApplicationCommand,
    ) -> Result<Read, CancelApplicationError> {
        let ports = &self.ports;
        let asp_id = &command.key.asp_id;
        let stored = ports
            .applications
            .application(asp_id, &command.application)
            .await?
            .filter(|stored| stored.application.member == command.member)
            .ok_or(CancelApplicationError::NotFound)?;
        let delivery = ports
            .deliveries
            .delivery(asp_id, &command.application)
            .await?;
        let mobile_card =
            mobile_card_of(ports.cards.as_ref(), asp_id, &command.application).await?;
        let now = ports.clock.now();
        // A delivery step is never dated before the one it follows, even across instances whose
        // clocks differ a little.
        let last_step = delivery
            .as_ref()
            .and_then(|delivery| delivery.history.steps().last().map(|step| step.at));
        Ok(Read {
            application_version: stored.version,
            facts: CancelFacts {
                applied_at: stored.application.created_at,
                status: stored.application.status,
                delivery: delivery.as_ref().map(|delivery| delivery.history.current()),
                mobile_card: mobile_card.as_ref().map(|card| MobileCardFacts {
                    status: card.card.status,
                    // Until the ledger exists, no card has a transaction.
                    has_transactions: false,
                }),
                now: last_step.map_or(now, |last| now.max(last)),
            },
            delivery_version: delivery.map(|delivery| delivery.version),
            mobile_card,
        })
    }

    /// The change that carries out `plan` on what was `read`, with the request's claim.
    fn change(
        command: &CancelApplicationCommand,
        read: &Read,
        plan: CancelPlan,
        fingerprint: RequestFingerprint,
    ) -> LifecycleChange {
        let number = &command.application;
        let at = read.facts.now;
        LifecycleChange {
            asp_id: command.key.asp_id.clone(),
            claim: Some(IdempotencyClaim {
                key: command.key.clone(),
                operation: IdempotentOperation::CancelApplication,
                request_fingerprint: fingerprint,
                outcome: number.as_str().to_owned(),
                created_at: at,
            }),
            applications: vec![VersionedChange {
                key: number.clone(),
                from_version: read.application_version,
                status: ApplicationStatus::Cancelled,
            }],
            deliveries: read
                .delivery_version
                .filter(|_| plan.cancel_delivery)
                .map(|from_version| VersionedChange {
                    key: number.clone(),
                    from_version,
                    status: DeliveryStatus::Cancel,
                })
                .into_iter()
                .collect(),
            cards: read
                .mobile_card
                .as_ref()
                .filter(|_| plan.terminate_mobile_card)
                .map(|card| VersionedChange {
                    key: card.card.id.clone(),
                    from_version: card.version,
                    status: card.as_is().with_status(CardStatus::Terminated),
                })
                .into_iter()
                .collect(),
            new_cards: Vec::new(),
            at,
        }
    }

    /// The answer a request with the command's key gave, `None` while none committed.
    async fn earlier(
        &self,
        command: &CancelApplicationCommand,
    ) -> Result<Option<CancelOutcome>, CancelApplicationError> {
        let ports = &self.ports;
        let outcome = earlier_outcome(
            ports.idempotency.as_ref(),
            ports.secrets.as_ref(),
            &command.key,
            IdempotentOperation::CancelApplication,
            &command.canonical_form(),
        )
        .await?;
        let Some(outcome) = outcome else {
            return Ok(None);
        };
        // The record names the application; the same payload named it too.
        let number = CardApplyNo::parse(&outcome)
            .map_err(|_| PortError::msg("an idempotency record names no application"))?;
        let card = mobile_card_of(ports.cards.as_ref(), &command.key.asp_id, &number).await?;
        Ok(Some(CancelOutcome {
            discarded: self.discarded(card.as_ref())?,
            replayed: true,
        }))
    }

    /// The number and PAR of the discarded card.
    fn discarded(&self, card: Option<&CardRecord>) -> Result<Option<DiscardedCard>, PortError> {
        card.map(|card| {
            Ok(DiscardedCard {
                pan: self
                    .ports
                    .secrets
                    .reveal(&card.protected_pan, card.pan_binding())?,
                par: card.card.par.clone(),
            })
        })
        .transpose()
    }
}

/// The mobile card issued with application `number`, if any.
async fn mobile_card_of(
    cards: &dyn CardStore,
    asp_id: &AspId,
    number: &CardApplyNo,
) -> Result<Option<CardRecord>, PortError> {
    Ok(cards
        .cards_of_application(asp_id, number)
        .await?
        .into_iter()
        .find(|card| card.card.kind == CardKind::Mobile))
}

#[async_trait]
impl CancelApplications for CancelApplicationService {
    async fn cancel(
        &self,
        command: &CancelApplicationCommand,
    ) -> Result<CancelOutcome, CancelApplicationError> {
        let ports = &self.ports;
        if let Some(answer) = self.earlier(command).await? {
            return Ok(answer);
        }
        let fingerprint = ports.secrets.request_fingerprint(&command.canonical_form());
        // The member first: a non-member learns nothing about any application (D12).
        let member = ports
            .members
            .find(&command.key.asp_id, command.member)
            .await?;
        if !member.is_some_and(|member| member.status == MemberStatus::Active) {
            return Err(CancelApplicationError::NotAMember);
        }
        for _ in 0..MOST_READS {
            let read = self.read(command).await?;
            let plan = match decide_cancel(&read.facts) {
                Ok(plan) => plan,
                Err(refusal) => {
                    // A concurrent request with this key may have cancelled it since the key
                    // was looked up: then its outcome is the answer, not a refusal.
                    let earlier = self.earlier(command).await?;
                    return earlier.ok_or(CancelApplicationError::Refused(refusal));
                }
            };
            let change = Self::change(command, &read, plan, fingerprint.clone());
            match ports.changes.apply(&change).await {
                Ok(()) => {
                    return Ok(CancelOutcome {
                        discarded: self.discarded(read.mobile_card.as_ref())?,
                        replayed: false,
                    });
                }
                // Another writer moved the application, its delivery or its card. If it was a
                // request with this key, answer as it did; otherwise decide again on what is
                // there now.
                Err(ChangeError::Stale) => {
                    if let Some(answer) = self.earlier(command).await? {
                        return Ok(answer);
                    }
                }
                // A concurrent request with the same key committed first: answer as it did.
                Err(ChangeError::KeyTaken) => {
                    let earlier = self.earlier(command).await?;
                    return earlier.ok_or_else(|| claimed_without_record().into());
                }
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
                // A cancel makes no card, so no number of it can be taken.
                Err(ChangeError::NumberTaken(_)) => {
                    return Err(PortError::msg("a cancel made a card").into());
                }
            }
        }
        Err(PortError::msg("the application kept changing while it was cancelled").into())
    }
}

#[cfg(test)]
mod tests;
