//! The member's own card operations: "Modification of the Card's State"
//! (`/api/v1/card/status`, D20) and "Discarding a Card" (`/api/v1/card/terminate`, D21). Each
//! reads the member's card, decides by the card table, and changes the card (with the cards
//! linked to it) in one transaction with the request's idempotency claim (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    ApplicationType, AspId, CardFacts, CardId, CardKind, CardStateRefusal, CardStateRequest,
    CardStatus, DiscardRefusal, ErrorCode, MemberId, Pan, Par, decide_card_state, decide_discard,
};

use crate::inbound::{ChangeCardStates, DiscardCards};
use crate::ports::{
    Balances, CardApplicationStore, CardChange, CardRecord, CardSecrets, CardStore, ChangeError,
    Clock, IdempotencyClaim, IdempotencyKey, IdempotencyStore, IdempotentOperation,
    LifecycleChange, LifecycleChanges, MemberDirectory, PortError, VersionedChange,
};
use crate::retry::{RetryRefusal, claimed_without_record, earlier_outcome};

/// How many times an operation reads and decides again when another writer changed the card
/// in between.
const MOST_READS: usize = 8;

/// The ports the member's card operations run through.
#[derive(Clone)]
pub struct CardManagementPorts {
    /// The project's members.
    pub members: Arc<dyn MemberDirectory>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// What each card holds.
    pub balances: Arc<dyn Balances>,
    /// The cards' applications (a basic card's says so).
    pub applications: Arc<dyn CardApplicationStore>,
    /// The one transaction of each operation.
    pub changes: Arc<dyn LifecycleChanges>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// PAN and request fingerprints.
    pub secrets: Arc<dyn CardSecrets>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// How a request names a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardRef {
    /// By its PAR.
    Par(Par),
    /// By its number.
    Number(Pan),
}

/// A state change asked for by a member (D20).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeCardStateCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// The member asking.
    pub member: MemberId,
    /// The card.
    pub card: CardRef,
    /// The state asked for.
    pub request: CardStateRequest,
}

/// A discard asked for by a member (D21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscardCardCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// The member asking.
    pub member: MemberId,
    /// The card to discard, mobile or physical.
    pub par: Par,
}

/// What a state change or a discard answers: nothing but whether it answers an earlier request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardManaged {
    /// Whether this answers an earlier request with the same key.
    pub replayed: bool,
}

/// Why a card was left as it was. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum CardManagementError {
    /// `001_006`: not a member of the project, or one whose membership is cancelled.
    #[error("not a member of the project")]
    NotAMember,
    /// The card is unknown, another member's or another project's (each operation answers its
    /// own code), or the card table refuses the change.
    #[error("refused: {}", .0.code())]
    Refused(ErrorCode),
    /// `000_094`: the correlation id was used with another request.
    #[error("correlation id already used with a different request")]
    CorrelationConflict,
    /// A store failed; retry with the same correlation id.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl From<RetryRefusal> for CardManagementError {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

impl CardManagementError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::Refused(code) => *code,
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// What is asked of the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    State(CardStateRequest),
    Discard,
}

/// One request, whichever operation it is.
struct Request<'a> {
    key: &'a IdempotencyKey,
    member: MemberId,
    card: &'a CardRef,
    asked: Asked,
    operation: IdempotentOperation,
    /// What a retry must repeat. Held only to be fingerprinted under the index key.
    canonical: String,
}

impl Request<'_> {
    /// The code of a card the member does not have: `003_021` for an unknown PAR and `003_001`
    /// for an unknown number (D20), `001_047` for a discard (D21).
    const fn unknown_card(&self) -> ErrorCode {
        match (self.asked, self.card) {
            (Asked::Discard, _) => ErrorCode::NoCardToDiscard,
            (Asked::State(_), CardRef::Par(_)) => ErrorCode::ParNotFound,
            (Asked::State(_), CardRef::Number(_)) => ErrorCode::InvalidCardInfo,
        }
    }
}

/// What one attempt read: the member's card and, for a mobile card, the cards linked to it.
struct Read {
    card: CardRecord,
    linked: Vec<CardRecord>,
    balance: u64,
    /// Whether the card is the member's basic card (read for a discard only).
    basic: bool,
}

impl Read {
    fn facts(&self) -> CardFacts {
        CardFacts {
            kind: self.card.card.kind,
            status: self.card.card.status,
            wrong_registrations: self.card.wrong_attempts,
            linked: self.card.card.linked_to.is_some(),
        }
    }

    /// The card changes that carry out `asked`, or the code of its refusal.
    fn plan(&self, asked: Asked) -> Result<Vec<VersionedChange<CardId, CardChange>>, ErrorCode> {
        let to = |card: &CardRecord, status: CardStatus| VersionedChange {
            key: card.card.id.clone(),
            from_version: card.version,
            status: card.as_is().with_status(status),
        };
        match asked {
            // The card is written even when its state stays: the claim then holds only if the
            // card is still as it was read.
            Asked::State(request) => decide_card_state(&self.facts(), request)
                .map(|next| vec![to(&self.card, next.unwrap_or(self.card.card.status))])
                .map_err(CardStateRefusal::code),
            Asked::Discard => decide_discard(&self.facts(), self.balance, self.basic)
                .map(|plan| {
                    let linked = self.linked.iter().filter(|_| plan.with_linked_cards);
                    std::iter::once(&self.card)
                        .chain(linked)
                        .map(|card| to(card, CardStatus::Terminated))
                        .collect()
                })
                .map_err(DiscardRefusal::code),
        }
    }
}

/// Changes and discards members' cards.
#[derive(Clone)]
pub struct CardManagementService {
    ports: CardManagementPorts,
}

impl CardManagementService {
    /// A service over `ports`.
    pub fn new(ports: CardManagementPorts) -> Self {
        Self { ports }
    }

    /// The member's card named by `request`, with what the decision needs, as of now.
    async fn read(&self, request: &Request<'_>) -> Result<Option<Read>, PortError> {
        let ports = &self.ports;
        let asp_id: &AspId = &request.key.asp_id;
        let card = match request.card {
            CardRef::Par(par) => ports.cards.card_by_par(asp_id, par).await?,
            CardRef::Number(pan) => {
                let fingerprint = ports.secrets.fingerprint(pan);
                ports
                    .cards
                    .card_by_fingerprint(asp_id, &fingerprint)
                    .await?
            }
        };
        let Some(card) = card.filter(|card| card.card.owner == request.member) else {
            return Ok(None);
        };
        let (linked, balance) = match request.asked {
            Asked::State(_) => (Vec::new(), 0),
            Asked::Discard => {
                let linked = if card.card.kind == CardKind::Mobile {
                    ports
                        .cards
                        .cards_of_member(asp_id, request.member)
                        .await?
                        .into_iter()
                        .filter(|other| {
                            other.card.linked_to.as_ref() == Some(&card.card.id)
                                && !other.card.status.is_final()
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let balance = ports.balances.balance(asp_id, &card.card.id).await?;
                (linked, balance)
            }
        };
        // A basic card is a mobile card issued with the sign-up (D24): its application says so.
        let basic = match request.asked {
            Asked::State(_) => false,
            Asked::Discard => ports
                .applications
                .application(asp_id, &card.application)
                .await?
                .is_some_and(|stored| {
                    stored.application.application_type == ApplicationType::Basic
                }),
        };
        Ok(Some(Read {
            card,
            linked,
            balance,
            basic,
        }))
    }

    /// The answer a request with the same key gave, `None` while none committed.
    async fn earlier(
        &self,
        request: &Request<'_>,
    ) -> Result<Option<CardManaged>, CardManagementError> {
        let ports = &self.ports;
        let outcome = earlier_outcome(
            ports.idempotency.as_ref(),
            ports.secrets.as_ref(),
            request.key,
            request.operation,
            &request.canonical,
        )
        .await?;
        Ok(outcome.map(|_| CardManaged { replayed: true }))
    }

    /// Answers `code`, unless a concurrent request with the same key changed the card meanwhile.
    async fn refuse(
        &self,
        request: &Request<'_>,
        code: ErrorCode,
    ) -> Result<CardManaged, CardManagementError> {
        let earlier = self.earlier(request).await?;
        earlier.ok_or(CardManagementError::Refused(code))
    }

    /// Carries out `request`: the member first, then the card and the table.
    async fn run(&self, request: &Request<'_>) -> Result<CardManaged, CardManagementError> {
        let ports = &self.ports;
        if let Some(answer) = self.earlier(request).await? {
            return Ok(answer);
        }
        let fingerprint = ports.secrets.request_fingerprint(&request.canonical);
        // The member first: a non-member learns nothing about any card (D12).
        let member = ports
            .members
            .find(&request.key.asp_id, request.member)
            .await?;
        if !member.is_some_and(|member| member.may_apply()) {
            return Err(CardManagementError::NotAMember);
        }
        for _ in 0..MOST_READS {
            let Some(read) = self.read(request).await? else {
                return self.refuse(request, request.unknown_card()).await;
            };
            let cards = match read.plan(request.asked) {
                Ok(cards) => cards,
                Err(code) => return self.refuse(request, code).await,
            };
            let at = ports.clock.now();
            let change = LifecycleChange {
                asp_id: request.key.asp_id.clone(),
                claim: Some(IdempotencyClaim {
                    key: request.key.clone(),
                    operation: request.operation,
                    request_fingerprint: fingerprint.clone(),
                    outcome: read.card.card.par.as_str().to_owned(),
                    created_at: at,
                }),
                applications: Vec::new(),
                deliveries: Vec::new(),
                cards,
                new_cards: Vec::new(),
                at,
            };
            match ports.changes.apply(&change).await {
                Ok(()) => return Ok(CardManaged { replayed: false }),
                // Another writer moved the card or a linked one: if it was a request with this
                // key, answer as it did; otherwise decide again on what is there now.
                Err(ChangeError::Stale) => {
                    if let Some(answer) = self.earlier(request).await? {
                        return Ok(answer);
                    }
                }
                Err(ChangeError::KeyTaken) => {
                    let earlier = self.earlier(request).await?;
                    return earlier.ok_or_else(|| claimed_without_record().into());
                }
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
                Err(ChangeError::NumberTaken(_)) => {
                    return Err(PortError::msg("a card operation made a card").into());
                }
            }
        }
        Err(PortError::msg("the card kept changing while it was changed").into())
    }
}

/// What a retry of a state change must repeat: the member, the card and the state.
fn state_canonical_form(command: &ChangeCardStateCommand) -> String {
    let card = match &command.card {
        CardRef::Par(par) => format!("par:{}", par.as_str()),
        CardRef::Number(pan) => format!("no:{}", pan.expose()),
    };
    format!(
        "{}|{card}|{}",
        command.member.get(),
        command.request.as_str()
    )
}

#[async_trait]
impl ChangeCardStates for CardManagementService {
    async fn change_state(
        &self,
        command: &ChangeCardStateCommand,
    ) -> Result<CardManaged, CardManagementError> {
        self.run(&Request {
            key: &command.key,
            member: command.member,
            card: &command.card,
            asked: Asked::State(command.request),
            operation: IdempotentOperation::ChangeCardState,
            canonical: state_canonical_form(command),
        })
        .await
    }
}

#[async_trait]
impl DiscardCards for CardManagementService {
    async fn discard(
        &self,
        command: &DiscardCardCommand,
    ) -> Result<CardManaged, CardManagementError> {
        self.run(&Request {
            key: &command.key,
            member: command.member,
            card: &CardRef::Par(command.par.clone()),
            asked: Asked::Discard,
            operation: IdempotentOperation::DiscardCard,
            canonical: format!("{}|{}", command.member.get(), command.par.as_str()),
        })
        .await
    }
}

#[cfg(test)]
mod tests;
