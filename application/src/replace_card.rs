//! The replacement of a card (D22): "Reissuance of Prepaid Card" after a loss report
//! (`/api/v1/prepay-card/reissue/delivery`) and "Reissuance & Renewal of Prepaid Card to be
//! Expired" (`/api/v1/prepay-card/expired/reissue`). Each reads the member's card, decides by
//! the replacement rules, and records a new application (with its delivery and, for a
//! pre-issuance reissue, its mobile card) in one transaction with the changes to the old card
//! and the request's idempotency claim (D14).

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    ApplicationStatus, ApplicationType, CardId, CardProduct, CardStatus, DeliveryAddress,
    DeliveryChoice, ErrorCode, IssuancePlan, IssuanceRefusal, IssuanceRequest, Member, MemberId,
    NextProduct, Pan, Par, ReissueFacts, ReissueRefusal, RenewalFacts, RenewalRefusal, ServiceId,
    decide, decide_reissue, decide_renewal,
};

use crate::inbound::ReplaceCards;
use crate::issue_card::{CardIssuanceService, IssueCardOutcome, Order, Recorded};
use crate::ports::{
    CardApplicationStore, CardChange, CardRecord, CardSecrets, CardStore, Clock, IdempotencyKey,
    IdempotencyStore, IdempotentOperation, MemberDirectory, PortError, ProductCatalogue,
    Replacement, RequestFingerprint, StoredApplication, VersionedChange,
};
use crate::retry::RetryRefusal;

/// How many times a replacement reads and decides again when another writer changed the old
/// card in between.
const MOST_READS: usize = 8;

/// The ports the replacements read through; they record through the issuance service.
#[derive(Clone)]
pub struct ReplacementPorts {
    /// The project's members.
    pub members: Arc<dyn MemberDirectory>,
    /// Products: the old card's and the new card's.
    pub products: Arc<dyn ProductCatalogue>,
    /// The member's applications, to find earlier replacements.
    pub applications: Arc<dyn CardApplicationStore>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// PAN and request fingerprints.
    pub secrets: Arc<dyn CardSecrets>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// A reissue after loss asked for by a member (D22).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReissueCardCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// The member asking.
    pub member: MemberId,
    /// The lost card.
    pub par: Par,
    /// The new card's product; the lost card's when `None`.
    pub next_product: Option<ServiceId>,
    /// Whether, and where, the new physical card is delivered.
    pub delivery: DeliveryChoice,
}

impl ReissueCardCommand {
    /// What a retry must repeat: every field. Held only to be fingerprinted.
    fn canonical_form(&self) -> String {
        format!(
            "reissue\u{1f}{}\u{1f}{}\u{1f}{}{}",
            self.member.get(),
            self.par.as_str(),
            self.next_product.as_ref().map_or("-", ServiceId::as_str),
            self.delivery.canonical_form()
        )
    }
}

/// A renewal asked for by a member (D22).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenewCardCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// The member asking.
    pub member: MemberId,
    /// The number of the card that expires.
    pub pan: Pan,
    /// Where the new physical card is delivered.
    pub address: DeliveryAddress,
}

impl RenewCardCommand {
    /// What a retry must repeat: every field. Held only to be fingerprinted under the index key.
    fn canonical_form(&self) -> String {
        format!(
            "renew\u{1f}{}\u{1f}{}{}",
            self.member.get(),
            self.pan.expose(),
            DeliveryChoice::Deliver(self.address.clone()).canonical_form()
        )
    }
}

/// Why a card was not replaced. In every case nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceCardError {
    /// `001_006`: not a member, or a cancelled member.
    #[error("not a member")]
    NotAMember,
    /// `003_021`: no card of the member with this PAR.
    #[error("no such card")]
    UnknownPar,
    /// `003_008`: no card of the member with this number.
    #[error("no such card number")]
    UnknownCardNumber,
    /// A rule of the reissue refused it.
    #[error("reissue refused: {0:?}")]
    Reissue(ReissueRefusal),
    /// A rule of the renewal refused it.
    #[error("renewal refused: {0:?}")]
    Renewal(RenewalRefusal),
    /// `003_024`: a NORMAL product's new card without delivery.
    #[error("delivery required")]
    DeliveryRequired,
    /// The correlation id was used before with a different payload (D14).
    #[error("correlation id already used with a different payload")]
    CorrelationConflict,
    /// A port failed; the caller may retry with the same correlation id.
    #[error("replacement unavailable")]
    Unavailable(#[from] PortError),
}

impl ReplaceCardError {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::UnknownPar => ErrorCode::ParNotFound,
            Self::UnknownCardNumber => ErrorCode::CardNumberNotFound,
            Self::Reissue(refusal) => refusal.code(),
            Self::Renewal(refusal) => refusal.code(),
            Self::DeliveryRequired => ErrorCode::DeliveryRequiredForNormalType,
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

impl From<RetryRefusal> for ReplaceCardError {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

/// The cards that go together with `card`: itself, the mobile card it is linked to, and the
/// physical cards linked to either, among `cards` (the owner's).
pub(crate) fn linked_group<'a>(cards: &'a [CardRecord], card: &CardRecord) -> Vec<&'a CardRecord> {
    let ids: Vec<&CardId> = std::iter::once(&card.card.id)
        .chain(card.card.linked_to.as_ref())
        .collect();
    cards
        .iter()
        .filter(|other| {
            ids.contains(&&other.card.id)
                || other
                    .card
                    .linked_to
                    .as_ref()
                    .is_some_and(|linked| ids.contains(&linked))
        })
        .collect()
}

/// The changes that terminate every card of `group`, each from the version read; a card
/// terminated already is written as it is, so that the change still holds only if nothing
/// moved it since.
pub(crate) fn terminations(group: &[&CardRecord]) -> Vec<VersionedChange<CardId, CardChange>> {
    group
        .iter()
        .map(|card| VersionedChange {
            key: card.card.id.clone(),
            from_version: card.version,
            status: card.as_is().with_status(CardStatus::Terminated),
        })
        .collect()
}

/// The replacement service.
#[derive(Clone)]
pub struct CardReplacementService {
    ports: ReplacementPorts,
    issuance: CardIssuanceService,
}

/// How a request begins.
enum Begun {
    /// A retry: the first request's outcome.
    Replayed(IssueCardOutcome),
    /// A new request, with its fingerprint and its (active) member.
    New(RequestFingerprint, Member),
}

/// What a replacement reads of the old card.
struct OldCard {
    card: CardRecord,
    applications: Vec<StoredApplication>,
    product: Option<CardProduct>,
    cards: Vec<CardRecord>,
}

impl CardReplacementService {
    /// A service reading through `ports` and recording through `issuance`.
    pub fn new(ports: ReplacementPorts, issuance: CardIssuanceService) -> Self {
        Self { ports, issuance }
    }

    /// Begins a request: a retry of an earlier one answers its outcome; a new one is from an
    /// active member, and is fingerprinted.
    async fn begin(
        &self,
        operation: IdempotentOperation,
        key: &IdempotencyKey,
        member: MemberId,
        canonical: &str,
    ) -> Result<Begun, ReplaceCardError> {
        if self.ports.idempotency.find_record(key).await?.is_some() {
            return Ok(Begun::Replayed(
                self.replay(operation, key, canonical).await?,
            ));
        }
        let member = self.active_member(key, member).await?;
        Ok(Begun::New(
            self.ports.secrets.request_fingerprint(canonical),
            member,
        ))
    }

    /// `member`, if an active member of the request's project.
    async fn active_member(
        &self,
        key: &IdempotencyKey,
        member: MemberId,
    ) -> Result<Member, ReplaceCardError> {
        self.ports
            .members
            .find(&key.asp_id, member)
            .await?
            .filter(|found| found.may_apply() && found.id == member)
            .ok_or(ReplaceCardError::NotAMember)
    }

    /// What is known of `named` (the member's card): the member's cards, then their
    /// applications, and the product of the application it was issued with. The cards are read
    /// first: a replacement committed after them moved their versions, so that what is
    /// decided on them is recorded only if nothing replaced them meanwhile; one committed before
    /// them is among the applications read after.
    async fn read_old(
        &self,
        key: &IdempotencyKey,
        named: &CardRecord,
    ) -> Result<OldCard, PortError> {
        let ports = &self.ports;
        let cards = ports
            .cards
            .cards_of_member(&key.asp_id, named.card.owner)
            .await?;
        let card = cards
            .iter()
            .find(|card| card.card.id == named.card.id)
            .cloned()
            .ok_or_else(|| PortError::msg("a card not among its owner's"))?;
        let applications = ports
            .applications
            .applications_of_member(&key.asp_id, card.card.owner)
            .await?;
        let own = applications
            .iter()
            .find(|stored| stored.application.number == card.application)
            .ok_or_else(|| PortError::msg("a card without its application"))?;
        let product = ports.products.find(&own.application.product).await?;
        Ok(OldCard {
            card,
            applications,
            product,
            cards,
        })
    }

    /// Answers a refusal, unless a request with the same key committed meanwhile: then its
    /// outcome (it may have changed what the refusal was decided on).
    async fn refused(
        &self,
        operation: IdempotentOperation,
        key: &IdempotencyKey,
        canonical: &str,
        error: ReplaceCardError,
    ) -> Result<IssueCardOutcome, ReplaceCardError> {
        if matches!(error, ReplaceCardError::Unavailable(_)) {
            return Err(error);
        }
        if self.ports.idempotency.find_record(key).await?.is_some() {
            return self.replay(operation, key, canonical).await;
        }
        Err(error)
    }

    /// Records `order`'s application, or says to read again (`None`) when the old card moved.
    async fn record(
        &self,
        order: &Order<'_>,
        canonical: &str,
    ) -> Result<Option<IssueCardOutcome>, ReplaceCardError> {
        match self.issuance.record(order).await? {
            Recorded::Made(outcome) => Ok(Some(outcome)),
            Recorded::KeyTaken => {
                let record = self.ports.idempotency.find_record(order.key).await?;
                if record.is_none() {
                    return Err(PortError::msg("idempotency key claimed but not found").into());
                }
                Ok(Some(
                    self.replay(order.operation, order.key, canonical).await?,
                ))
            }
            Recorded::Stale => Ok(None),
        }
    }

    /// The first outcome of the request's key, or a conflict.
    async fn replay(
        &self,
        operation: IdempotentOperation,
        key: &IdempotencyKey,
        canonical: &str,
    ) -> Result<IssueCardOutcome, ReplaceCardError> {
        let record = self.ports.idempotency.find_record(key).await?;
        Ok(self
            .issuance
            .replay_as(operation, record, &key.asp_id, canonical)
            .await?)
    }

    /// One reading and decision of a reissue: the order to record, or why not.
    async fn decide_reissue(
        &self,
        command: &ReissueCardCommand,
        member: &Member,
    ) -> Result<(OldCard, CardProduct, IssuancePlan), ReplaceCardError> {
        let ports = &self.ports;
        let card = ports
            .cards
            .card_by_par(&command.key.asp_id, &command.par)
            .await?
            .filter(|card| card.card.owner == command.member)
            .ok_or(ReplaceCardError::UnknownPar)?;
        let old = self.read_old(&command.key, &card).await?;
        let lost_id = &old.card.card.id;
        let Some(lost_product) = &old.product else {
            return Err(PortError::msg("a card whose product is not in the catalogue").into());
        };
        let next_id = command
            .next_product
            .clone()
            .unwrap_or_else(|| lost_product.id.clone());
        let next = ports.products.find(&next_id).await?;
        let facts = ReissueFacts {
            status: old.card.card.status,
            wrong_registrations: old.card.wrong_attempts,
            reissue: old
                .applications
                .iter()
                .rfind(|stored| {
                    stored.application.application_type == ApplicationType::Reissue
                        && stored.replaces.as_ref() == Some(lost_id)
                })
                .map(|stored| stored.application.status),
            next_product: next
                .as_ref()
                .map_or(NextProduct::Unknown, |next| NextProduct::Found {
                    same_type: next.product_type == lost_product.product_type,
                    active: next.active,
                    pre_issuance: next.pre_issuance,
                }),
        };
        decide_reissue(&facts).map_err(ReplaceCardError::Reissue)?;
        let Some(next) = next else {
            return Err(ReplaceCardError::Reissue(
                ReissueRefusal::InvalidNextProduct,
            ));
        };
        let request = IssuanceRequest {
            member: command.member,
            delivery: command.delivery.clone(),
            service_id: next.id.clone(),
            purpose: None,
        };
        let plan =
            decide(&request, Some(member), Some(&next)).map_err(|refusal| match refusal {
                IssuanceRefusal::DeliveryRequired => ReplaceCardError::DeliveryRequired,
                IssuanceRefusal::NotAMember => ReplaceCardError::NotAMember,
                IssuanceRefusal::UnknownProduct | IssuanceRefusal::PurposeNotAllowed => {
                    ReplaceCardError::Reissue(ReissueRefusal::InvalidNextProduct)
                }
            })?;
        Ok((old, next, plan))
    }

    /// One reading and decision of a renewal: the old card and its product, or why not.
    async fn decide_renewal(
        &self,
        command: &RenewCardCommand,
    ) -> Result<(OldCard, CardProduct), ReplaceCardError> {
        let ports = &self.ports;
        let fingerprint = ports.secrets.fingerprint(&command.pan);
        let card = ports
            .cards
            .card_by_fingerprint(&command.key.asp_id, &fingerprint)
            .await?
            .filter(|card| card.card.owner == command.member)
            .ok_or(ReplaceCardError::UnknownCardNumber)?;
        let old = self.read_old(&command.key, &card).await?;
        let group = linked_group(&old.cards, &old.card);
        let already_renewed = old.applications.iter().any(|stored| {
            stored.application.application_type == ApplicationType::Renewal
                && !matches!(
                    stored.application.status,
                    ApplicationStatus::Cancelled | ApplicationStatus::CostPayFailed
                )
                && group
                    .iter()
                    .any(|card| stored.replaces.as_ref() == Some(&card.card.id))
        });
        let facts = RenewalFacts {
            status: old.card.card.status,
            expiry: old.card.card.expiry,
            already_renewed,
            product_active: old.product.as_ref().is_some_and(|product| product.active),
            now: ports.clock.now(),
        };
        decide_renewal(&facts).map_err(ReplaceCardError::Renewal)?;
        let Some(product) = old.product.clone() else {
            return Err(ReplaceCardError::Renewal(RenewalRefusal::ProductNotValid));
        };
        Ok((old, product))
    }
}

#[async_trait]
impl ReplaceCards for CardReplacementService {
    async fn reissue(
        &self,
        command: &ReissueCardCommand,
    ) -> Result<IssueCardOutcome, ReplaceCardError> {
        let operation = IdempotentOperation::ReissueCard;
        let canonical = command.canonical_form();
        let (fingerprint, member) = match self
            .begin(operation, &command.key, command.member, &canonical)
            .await?
        {
            Begun::Replayed(outcome) => return Ok(outcome),
            Begun::New(fingerprint, member) => (fingerprint, member),
        };
        let mut member = member;
        for _ in 0..MOST_READS {
            let (old, next, plan) = match self.decide_reissue(command, &member).await {
                Ok(decided) => decided,
                Err(error) => {
                    return self
                        .refused(operation, &command.key, &canonical, error)
                        .await;
                }
            };
            // The lost card and every card linked with it end with the reissue.
            let group = linked_group(&old.cards, &old.card);
            let order = Order {
                key: &command.key,
                operation,
                fingerprint: fingerprint.clone(),
                member: command.member,
                product: &next,
                plan: &plan,
                application_type: ApplicationType::Reissue,
                purpose: None,
                replacing: Some(Replacement {
                    card: old.card.card.id.clone(),
                    cards: terminations(&group),
                }),
            };
            if let Some(outcome) = self.record(&order, &canonical).await? {
                return Ok(outcome);
            }
            // The write found something moved: the member may have left meanwhile, their cards
            // terminated with them, which is answered as such, not by the card.
            member = match self.active_member(&command.key, command.member).await {
                Ok(member) => member,
                Err(error) => {
                    return self
                        .refused(operation, &command.key, &canonical, error)
                        .await;
                }
            };
        }
        Err(PortError::msg("the lost card kept changing").into())
    }

    async fn renew(
        &self,
        command: &RenewCardCommand,
    ) -> Result<IssueCardOutcome, ReplaceCardError> {
        let operation = IdempotentOperation::RenewCard;
        let canonical = command.canonical_form();
        let fingerprint = match self
            .begin(operation, &command.key, command.member, &canonical)
            .await?
        {
            Begun::Replayed(outcome) => return Ok(outcome),
            Begun::New(fingerprint, _) => fingerprint,
        };
        // The new card comes with the delivery; its mobile card at registration, when the old
        // card terminates.
        let plan = IssuancePlan {
            issues_mobile_card: false,
            delivery: Some(command.address.clone()),
            status: ApplicationStatus::Ready,
        };
        for _ in 0..MOST_READS {
            let (old, product) = match self.decide_renewal(command).await {
                Ok(decided) => decided,
                Err(error) => {
                    return self
                        .refused(operation, &command.key, &canonical, error)
                        .await;
                }
            };
            // The old cards are written as they are: of two renewals of one card read at one
            // version, one is recorded.
            let group = linked_group(&old.cards, &old.card);
            let order = Order {
                key: &command.key,
                operation,
                fingerprint: fingerprint.clone(),
                member: command.member,
                product: &product,
                plan: &plan,
                application_type: ApplicationType::Renewal,
                purpose: None,
                replacing: Some(Replacement {
                    card: old.card.card.id.clone(),
                    cards: group
                        .iter()
                        .map(|card| VersionedChange {
                            key: card.card.id.clone(),
                            from_version: card.version,
                            status: card.as_is(),
                        })
                        .collect(),
                }),
            };
            if let Some(outcome) = self.record(&order, &canonical).await? {
                return Ok(outcome);
            }
            // As for a reissue: a member who left meanwhile is answered as such.
            if let Err(error) = self.active_member(&command.key, command.member).await {
                return self
                    .refused(operation, &command.key, &canonical, error)
                    .await;
            }
        }
        Err(PortError::msg("the expiring card kept changing").into())
    }
}

#[cfg(test)]
mod tests;
