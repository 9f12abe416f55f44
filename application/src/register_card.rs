//! The use case "Physical Card Registration" (`/api/v1/prepay-card/physical/register`, D19):
//! the member proves a produced physical card by its number, expiry and CVC; it becomes
//! `ACTIVE`, linked to a mobile card, and its application `COMPLETED`.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    ApplicationStatus, ApplicationType, CardApplyNo, CardId, CardKind, CardStatus, Cvc,
    DeliveryStatus, ErrorCode, Expiry, MemberId, MobileCardPlan, NamedApplication, Pan, Par,
    PhysicalCardFacts, RegistrationFacts, RegistrationPlan, RegistrationRefusal,
    decide_registration,
};

use crate::inbound::RegisterPhysicalCards;
use crate::mint::{CardBlank, CardMint};
use crate::ports::{
    CardApplicationStore, CardChange, CardRecord, CardSecrets, CardStore, CardVerification,
    ChangeError, Clock, DeliveryStore, IdempotencyClaim, IdempotencyKey, IdempotencyStore,
    IdempotentOperation, LifecycleChange, LifecycleChanges, MemberDirectory, NewCardOf, PortError,
    ProductCatalogue, RequestFingerprint, StoredApplication, StoredDelivery, VersionedChange,
};
use crate::replace_card::{linked_group, terminations};
use crate::retry::{RetryRefusal, claimed_without_record, earlier_outcome};

/// How many times a registration reads and decides again when another writer moved its card,
/// application or delivery in between.
const MOST_READS: usize = 8;

/// The ports the use case runs through.
#[derive(Clone)]
pub struct RegistrationPorts {
    /// The project's members.
    pub members: Arc<dyn MemberDirectory>,
    /// Applications.
    pub applications: Arc<dyn CardApplicationStore>,
    /// Deliveries.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// The product of an application whose mobile card is issued now.
    pub products: Arc<dyn ProductCatalogue>,
    /// The one transaction of each attempt.
    pub changes: Arc<dyn LifecycleChanges>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// PAN fingerprints and the mobile card's number.
    pub secrets: Arc<dyn CardSecrets>,
    /// The CVC the card should have.
    pub verification: Arc<dyn CardVerification>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// A registration from an authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterPhysicalCardCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// The member registering.
    pub member: MemberId,
    /// `cardApplyNo`, when given.
    pub application: Option<CardApplyNo>,
    /// `physicalCardNo`.
    pub pan: Pan,
    /// `physicalCardExpDate`.
    pub expiry: Expiry,
    /// `physicalCardCVC`.
    pub cvc: Cvc,
}

impl RegisterPhysicalCardCommand {
    /// What a retry must repeat: every field. Held only to be fingerprinted under the index key.
    fn canonical_form(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.member.get(),
            self.application.as_ref().map_or("", CardApplyNo::as_str),
            self.pan.expose(),
            self.expiry.to_yymm(),
            self.cvc.expose()
        )
    }
}

/// What a registration answers: the mobile card the physical card is linked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationOutcome {
    /// `mobileCardNo`.
    pub mobile_card: Pan,
    /// `par`, the mobile card's.
    pub par: Par,
    /// Whether this answers an earlier request with the same key.
    pub replayed: bool,
}

/// Why a card was not registered. Nothing was changed but, for a wrong expiry or CVC on the
/// member's own card, its count of wrong attempts (and the lock at the fifth).
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// `001_006`: not a member of the project, or one whose membership is cancelled.
    #[error("not a member of the project")]
    NotAMember,
    /// `003_013`, `003_001`, `003_012` or `003_014` (D19).
    #[error("the card may not be registered: {0:?}")]
    Refused(RegistrationRefusal),
    /// `000_094`: the correlation id was used with another request.
    #[error("correlation id already used with a different request")]
    CorrelationConflict,
    /// A store failed; retry with the same correlation id.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl From<RetryRefusal> for RegistrationError {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

impl RegistrationError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::Refused(refusal) => refusal.code,
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// Registers physical cards.
#[derive(Clone)]
pub struct RegistrationService {
    ports: RegistrationPorts,
    mint: CardMint,
}

/// What one attempt read: the facts and the records they came from.
struct Read {
    facts: RegistrationFacts,
    card: Option<CardRecord>,
    application: Option<StoredApplication>,
    delivery: Option<StoredDelivery>,
    mobile_card: Option<CardRecord>,
    /// For a renewal, the old card and the cards linked with it, terminated by the registration
    /// (D22).
    renewed: Vec<CardRecord>,
}

/// The change that records a wrong attempt on `card` of project `asp_id`, `count` in a row
/// now (and locks it at the fifth, `refusal.locks()`). It claims no correlation id: a wrong
/// attempt sent again counts again.
pub(crate) fn wrong_attempt(
    asp_id: &prepaid_domain::AspId,
    card: &CardRecord,
    refusal: RegistrationRefusal,
    count: u8,
    at: prepaid_domain::Timestamp,
) -> LifecycleChange {
    let change = CardChange {
        wrong_attempts: count,
        ..card.as_is()
    };
    LifecycleChange {
        asp_id: asp_id.clone(),
        claim: None,
        applications: vec![],
        deliveries: vec![],
        cards: vec![VersionedChange {
            key: card.card.id.clone(),
            from_version: card.version,
            status: if refusal.locks() {
                change.with_status(CardStatus::Suspended)
            } else {
                change
            },
        }],
        new_cards: vec![],
        at,
    }
}

/// Whether two CVCs are equal, in time that does not depend on where they differ.
pub(crate) fn same_cvc(given: &Cvc, expected: &Cvc) -> bool {
    let (given, expected) = (given.expose().as_bytes(), expected.expose().as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0_u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

impl RegistrationService {
    /// A service over `ports`, making mobile cards with `mint`.
    pub fn new(ports: RegistrationPorts, mint: CardMint) -> Self {
        Self { ports, mint }
    }

    /// Reads what the registration decides on, as of now.
    async fn read(&self, command: &RegisterPhysicalCardCommand) -> Result<Read, PortError> {
        let ports = &self.ports;
        let asp_id = &command.key.asp_id;
        let named = match &command.application {
            None => NamedApplication::NotNamed,
            Some(number) => match ports.applications.application(asp_id, number).await? {
                Some(stored) if stored.application.member == command.member => {
                    NamedApplication::Found(number.clone())
                }
                _ => NamedApplication::Unknown,
            },
        };
        let fingerprint = ports.secrets.fingerprint(&command.pan);
        let card = ports
            .cards
            .card_by_fingerprint(asp_id, &fingerprint)
            .await?
            .filter(|card| card.card.kind == CardKind::Physical);
        let Some(card) = card else {
            return Ok(Read {
                facts: RegistrationFacts {
                    member: command.member,
                    named,
                    card: None,
                },
                card: None,
                application: None,
                delivery: None,
                mobile_card: None,
                renewed: vec![],
            });
        };
        let application = ports
            .applications
            .application(asp_id, &card.application)
            .await?;
        let delivery = ports.deliveries.delivery(asp_id, &card.application).await?;
        // The application's mobile card: the one issued with it (pre-issuance).
        let mobile_card = ports
            .cards
            .cards_of_application(asp_id, &card.application)
            .await?
            .into_iter()
            .find(|other| other.card.kind == CardKind::Mobile);
        let expected = ports
            .verification
            .derive(&card.cvk_id, &command.pan, card.card.expiry)?;
        let facts = PhysicalCardFacts {
            owner: card.card.owner,
            application: card.application.clone(),
            status: card.card.status,
            wrong_attempts: card.wrong_attempts,
            expiry_matches: card.card.expiry == command.expiry,
            cvc_matches: same_cvc(&command.cvc, &expected),
            shipped: delivery.as_ref().is_some_and(|delivery| {
                // Shipped on the delivery's latest leg: a redelivered card ships anew.
                delivery
                    .history
                    .reached_on_this_leg(DeliveryStatus::Shipping)
            }),
            delivery: delivery
                .as_ref()
                .map_or(DeliveryStatus::Ready, |delivery| delivery.history.current()),
            mobile_card: mobile_card.as_ref().map(|mobile| mobile.card.status),
        };
        let renewed = match &application {
            Some(StoredApplication {
                application: renewal,
                replaces: Some(old),
                ..
            }) if renewal.application_type == ApplicationType::Renewal => {
                let cards = ports.cards.cards_of_member(asp_id, card.card.owner).await?;
                match cards.iter().find(|other| &other.card.id == old) {
                    Some(old) => linked_group(&cards, old).into_iter().cloned().collect(),
                    None => vec![],
                }
            }
            _ => vec![],
        };
        Ok(Read {
            facts: RegistrationFacts {
                member: command.member,
                named,
                card: Some(facts),
            },
            card: Some(card),
            application,
            delivery,
            mobile_card,
            renewed,
        })
    }

    /// The physical card registered, linked to `mobile_id`; and the mobile card it links to,
    /// written as it is: a discard or a cancel that terminates it meanwhile makes the change
    /// stale, so a card is never linked to a terminated one.
    fn card_changes(
        card: &CardRecord,
        mobile_id: CardId,
        plan: RegistrationPlan,
        mobile: Option<&CardRecord>,
    ) -> Vec<VersionedChange<CardId, CardChange>> {
        let registered = VersionedChange {
            key: card.card.id.clone(),
            from_version: card.version,
            status: CardChange {
                status: CardStatus::Active,
                wrong_attempts: 0,
                linked_to: Some(mobile_id),
            },
        };
        let linked = mobile
            .filter(|_| plan.mobile_card == MobileCardPlan::LinkExisting)
            .map(|mobile| VersionedChange {
                key: mobile.card.id.clone(),
                from_version: mobile.version,
                status: mobile.as_is(),
            });
        std::iter::once(registered).chain(linked).collect()
    }

    /// The change that registers the card read as `plan` says, with the request's claim, and
    /// the mobile card it is linked to.
    async fn registration(
        &self,
        command: &RegisterPhysicalCardCommand,
        read: &Read,
        plan: RegistrationPlan,
        fingerprint: RequestFingerprint,
    ) -> Result<(LifecycleChange, Pan, Par), PortError> {
        let ports = &self.ports;
        let (Some(card), Some(application)) = (&read.card, &read.application) else {
            return Err(PortError::msg("a registration decided without its card"));
        };
        let now = ports.clock.now();
        let (mobile_id, mobile_number, mobile_par, new_cards) =
            match (plan.mobile_card, &read.mobile_card) {
                (MobileCardPlan::LinkExisting, Some(mobile)) => (
                    mobile.card.id.clone(),
                    ports
                        .secrets
                        .reveal(&mobile.protected_pan, mobile.pan_binding())?,
                    mobile.card.par.clone(),
                    vec![],
                ),
                (MobileCardPlan::LinkExisting, None) => {
                    return Err(PortError::msg("a link decided without a mobile card"));
                }
                (MobileCardPlan::IssueNew, _) => {
                    let product = ports
                        .products
                        .find(&application.application.product)
                        .await?
                        .ok_or_else(|| PortError::msg("an application whose product is gone"))?;
                    let minted = self
                        .mint
                        .mint(&CardBlank {
                            product: &product,
                            owner: command.member,
                            kind: CardKind::Mobile,
                            status: CardStatus::Active,
                            now,
                        })
                        .await?;
                    (
                        minted.record.card.id.clone(),
                        minted.pan,
                        minted.record.card.par.clone(),
                        vec![NewCardOf {
                            application: card.application.clone(),
                            card: minted.record,
                        }],
                    )
                }
            };
        let mut cards = Self::card_changes(card, mobile_id, plan, read.mobile_card.as_ref());
        // A renewed card ends when its successor is registered.
        cards.extend(terminations(&read.renewed.iter().collect::<Vec<_>>()));
        let mut applications = Vec::new();
        if application
            .application
            .status
            .can_become(ApplicationStatus::Completed)
        {
            applications.push(VersionedChange {
                key: card.application.clone(),
                from_version: application.version,
                status: ApplicationStatus::Completed,
            });
        }
        let deliveries = match (&read.delivery, plan.delivery_arrives) {
            (Some(delivery), true) => vec![VersionedChange {
                key: card.application.clone(),
                from_version: delivery.version,
                status: DeliveryStatus::Arrival,
            }],
            _ => vec![],
        };
        // A delivery step is never dated before the one it follows.
        let at = read
            .delivery
            .as_ref()
            .and_then(|delivery| delivery.history.steps().last().map(|step| step.at))
            .map_or(now, |last| now.max(last));
        let change = LifecycleChange {
            asp_id: command.key.asp_id.clone(),
            claim: Some(IdempotencyClaim {
                key: command.key.clone(),
                operation: IdempotentOperation::RegisterPhysicalCard,
                request_fingerprint: fingerprint,
                outcome: mobile_par.as_str().to_owned(),
                created_at: at,
            }),
            applications,
            deliveries,
            cards,
            new_cards,
            at,
        };
        Ok((change, mobile_number, mobile_par))
    }

    /// The answer a request with the command's key gave, `None` while none committed.
    async fn earlier(
        &self,
        command: &RegisterPhysicalCardCommand,
    ) -> Result<Option<RegistrationOutcome>, RegistrationError> {
        let ports = &self.ports;
        let outcome = earlier_outcome(
            ports.idempotency.as_ref(),
            ports.secrets.as_ref(),
            &command.key,
            IdempotentOperation::RegisterPhysicalCard,
            &command.canonical_form(),
        )
        .await?;
        let Some(outcome) = outcome else {
            return Ok(None);
        };
        let par = Par::parse(&outcome)
            .map_err(|_| PortError::msg("a registration record names no PAR"))?;
        let mobile = ports
            .cards
            .card_by_par(&command.key.asp_id, &par)
            .await?
            .ok_or_else(|| PortError::msg("a registration record without its mobile card"))?;
        Ok(Some(RegistrationOutcome {
            mobile_card: ports
                .secrets
                .reveal(&mobile.protected_pan, mobile.pan_binding())?,
            par,
            replayed: true,
        }))
    }

    /// Answers `refusal`, unless a concurrent request with this key registered meanwhile.
    async fn refuse(
        &self,
        command: &RegisterPhysicalCardCommand,
        refusal: RegistrationRefusal,
    ) -> Result<RegistrationOutcome, RegistrationError> {
        let earlier = self.earlier(command).await?;
        earlier.ok_or(RegistrationError::Refused(refusal))
    }
}

#[async_trait]
impl RegisterPhysicalCards for RegistrationService {
    async fn register(
        &self,
        command: &RegisterPhysicalCardCommand,
    ) -> Result<RegistrationOutcome, RegistrationError> {
        let ports = &self.ports;
        if let Some(answer) = self.earlier(command).await? {
            return Ok(answer);
        }
        let fingerprint = ports.secrets.request_fingerprint(&command.canonical_form());
        // The member first: a non-member learns nothing about any card (D12).
        let member = ports
            .members
            .find(&command.key.asp_id, command.member)
            .await?;
        if !member.is_some_and(|member| member.may_apply()) {
            return Err(RegistrationError::NotAMember);
        }
        for _ in 0..MOST_READS {
            let read = self.read(command).await?;
            let change = match decide_registration(&read.facts) {
                Ok(plan) => {
                    let (change, mobile_card, par) = self
                        .registration(command, &read, plan, fingerprint.clone())
                        .await?;
                    match ports.changes.apply(&change).await {
                        Ok(()) => {
                            return Ok(RegistrationOutcome {
                                mobile_card,
                                par,
                                replayed: false,
                            });
                        }
                        Err(error) => error,
                    }
                }
                Err(refusal) => {
                    let (Some(count), Some(card)) = (refusal.wrong_attempts, &read.card) else {
                        return self.refuse(command, refusal).await;
                    };
                    let change =
                        wrong_attempt(&command.key.asp_id, card, refusal, count, ports.clock.now());
                    // The refusal is answered only once its attempt is counted: of concurrent
                    // wrong attempts, each is counted, or read again and decided again.
                    match ports.changes.apply(&change).await {
                        Ok(()) => return Err(RegistrationError::Refused(refusal)),
                        Err(error) => error,
                    }
                }
            };
            match change {
                // Another writer moved the card, its application or delivery: if it was a
                // request with this key, answer as it did; otherwise decide again.
                ChangeError::Stale => {
                    if let Some(answer) = self.earlier(command).await? {
                        return Ok(answer);
                    }
                }
                ChangeError::KeyTaken => {
                    let earlier = self.earlier(command).await?;
                    return earlier.ok_or_else(|| claimed_without_record().into());
                }
                // A new mobile card's number met one from before: the next read draws again.
                ChangeError::NumberTaken(_) => {}
                ChangeError::Unavailable(error) => return Err(error.into()),
            }
        }
        Err(PortError::msg("the card kept changing while it was registered").into())
    }
}

#[cfg(test)]
mod tests;
