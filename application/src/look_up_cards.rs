//! The card look-ups (D23): "Search for Card" (a member's mobile cards with their linked
//! physical card), "Card-User Mapped Inquiry" (whose a card number is) and "Unregistered card
//! inquiry" (a produced physical card, proven by its expiry and CVC, before anyone registers
//! it). They change nothing, but for the wrong attempts of the last one, counted and locked as
//! a registration's (D19).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    AspId, CardApplyNo, CardId, CardKind, CardStatus, Cvc, ErrorCode, Expiry, MemberId, Pan, Par,
    PrintedCardFacts, ProductName, ServiceId, decide_unregistered_inquiry,
};

use crate::inbound::LookUpCards;
use crate::ports::{
    Balances, CardApplicationStore, CardRecord, CardSecrets, CardStore, CardVerification,
    ChangeError, Clock, LifecycleChanges, MemberDirectory, PortError, ProductCatalogue,
};
use crate::register_card::{same_cvc, wrong_attempt};

/// How many times the unregistered card inquiry reads again when a concurrent attempt counted
/// first.
const MOST_READS: usize = 8;

/// The ports the look-ups read (and count wrong attempts) through.
#[derive(Clone)]
pub struct CardLookupPorts {
    /// The project's members.
    pub members: Arc<dyn MemberDirectory>,
    /// Applications: a card's product is its application's.
    pub applications: Arc<dyn CardApplicationStore>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// The products' names.
    pub products: Arc<dyn ProductCatalogue>,
    /// What each card holds.
    pub balances: Arc<dyn Balances>,
    /// The wrong attempts of the unregistered card inquiry.
    pub changes: Arc<dyn LifecycleChanges>,
    /// Card numbers: fingerprints and the numbers answered.
    pub secrets: Arc<dyn CardSecrets>,
    /// The CVC a card should have.
    pub verification: Arc<dyn CardVerification>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// What "Search for Card" asks: a member's cards, or the one named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardSearch {
    /// The caller's project.
    pub asp_id: AspId,
    /// The member.
    pub member: MemberId,
    /// Only the card with this PAR (its mobile card's or its linked physical card's).
    pub par: Option<Par>,
    /// Only the card whose linked physical card has this number.
    pub physical_card: Option<Pan>,
}

/// A card's product, as answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardProductName {
    /// Its id.
    pub id: ServiceId,
    /// Its name.
    pub name: ProductName,
}

/// A physical card linked to a mobile card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedCard {
    /// Its number.
    pub pan: Pan,
    /// Its state.
    pub status: CardStatus,
}

/// One mobile card of a member, as "Search for Card" answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberCard {
    /// Its PAR.
    pub par: Par,
    /// The application that issued it.
    pub application: CardApplyNo,
    /// Its product.
    pub product: CardProductName,
    /// Its number.
    pub pan: Pan,
    /// Its state.
    pub status: CardStatus,
    /// Its expiry.
    pub expiry: Expiry,
    /// The physical card linked to it, the latest not terminated.
    pub physical: Option<LinkedCard>,
    /// What it holds.
    pub balance: u64,
}

/// Whose a card is, as "Card-User Mapped Inquiry" answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardOwner {
    /// The member.
    pub member: MemberId,
    /// The card's PAR.
    pub par: Par,
    /// Its product.
    pub product: CardProductName,
    /// Its state.
    pub status: CardStatus,
    /// What it holds.
    pub balance: u64,
}

/// A produced physical card not registered yet, as "Unregistered card inquiry" answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnregisteredCard {
    /// Its product.
    pub product: CardProductName,
    /// Its state (`INACTIVE`).
    pub status: CardStatus,
    /// Its expiry.
    pub expiry: Expiry,
    /// What it holds.
    pub balance: u64,
}

/// A card named by its printed number, expiry and CVC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedCardQuery {
    /// The caller's project.
    pub asp_id: AspId,
    /// `cardNo`.
    pub pan: Pan,
    /// `expiryDate`.
    pub expiry: Expiry,
    /// `cardCVC`.
    pub cvc: Cvc,
}

/// Why a look-up answers no card.
#[derive(Debug, thiserror::Error)]
pub enum CardLookupError {
    /// `001_006`: not a member of the project, or one whose membership is cancelled.
    #[error("not a member of the project")]
    NotAMember,
    /// `003_001`: no such card to describe (unknown, another project's, terminated, or not
    /// proven).
    #[error("no such card")]
    InvalidCard,
    /// A store failed.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl CardLookupError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::InvalidCard => ErrorCode::InvalidCardInfo,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// Looks cards up.
#[derive(Clone)]
pub struct CardLookupService {
    ports: CardLookupPorts,
}

impl CardLookupService {
    /// A service over `ports`.
    pub fn new(ports: CardLookupPorts) -> Self {
        Self { ports }
    }

    /// The product of the card issued with application `number`, read once per application.
    async fn product_of(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
        known: &mut HashMap<CardApplyNo, CardProductName>,
    ) -> Result<CardProductName, PortError> {
        if let Some(product) = known.get(number) {
            return Ok(product.clone());
        }
        let ports = &self.ports;
        let application = ports
            .applications
            .application(asp_id, number)
            .await?
            .ok_or_else(|| PortError::msg("a card whose application is gone"))?;
        let id = application.application.product;
        let product = ports
            .products
            .find(&id)
            .await?
            .ok_or_else(|| PortError::msg("a card whose product is gone"))?;
        let named = CardProductName {
            id,
            name: product.name,
        };
        known.insert(number.clone(), named.clone());
        Ok(named)
    }

    fn reveal(&self, card: &CardRecord) -> Result<Pan, PortError> {
        self.ports
            .secrets
            .reveal(&card.protected_pan, card.pan_binding())
    }

    /// The card of project `asp_id` with number `pan`, if any.
    async fn by_number(&self, asp_id: &AspId, pan: &Pan) -> Result<Option<CardRecord>, PortError> {
        let fingerprint = self.ports.secrets.fingerprint(pan);
        self.ports
            .cards
            .card_by_fingerprint(asp_id, &fingerprint)
            .await
    }
}

/// The latest physical card linked to mobile card `mobile` among `cards`, not terminated.
fn linked_to<'a>(cards: &'a [CardRecord], mobile: &CardId) -> Option<&'a CardRecord> {
    cards
        .iter()
        .rev()
        .find(|card| card.card.linked_to.as_ref() == Some(mobile) && !card.card.status.is_final())
}

#[async_trait]
impl LookUpCards for CardLookupService {
    async fn search(&self, query: &CardSearch) -> Result<Vec<MemberCard>, CardLookupError> {
        let ports = &self.ports;
        let member = ports.members.find(&query.asp_id, query.member).await?;
        if !member.is_some_and(|member| member.may_apply()) {
            return Err(CardLookupError::NotAMember);
        }
        let cards = ports
            .cards
            .cards_of_member(&query.asp_id, query.member)
            .await?;
        let physical_fingerprint = query
            .physical_card
            .as_ref()
            .map(|pan| ports.secrets.fingerprint(pan));
        let mut products = HashMap::new();
        let mut found = Vec::new();
        for mobile in cards
            .iter()
            .filter(|card| card.card.kind == CardKind::Mobile && !card.card.status.is_final())
        {
            let physical = linked_to(&cards, &mobile.card.id);
            let named = query.par.as_ref().is_none_or(|par| {
                mobile.card.par == *par || physical.is_some_and(|card| card.card.par == *par)
            });
            let with_physical = physical_fingerprint.as_ref().is_none_or(|fingerprint| {
                physical.is_some_and(|card| card.pan_fingerprint == *fingerprint)
            });
            if !(named && with_physical) {
                continue;
            }
            found.push(MemberCard {
                par: mobile.card.par.clone(),
                application: mobile.application.clone(),
                product: self
                    .product_of(&query.asp_id, &mobile.application, &mut products)
                    .await?,
                pan: self.reveal(mobile)?,
                status: mobile.card.status,
                expiry: mobile.card.expiry,
                physical: physical
                    .map(|card| {
                        Ok::<_, PortError>(LinkedCard {
                            pan: self.reveal(card)?,
                            status: card.card.status,
                        })
                    })
                    .transpose()?,
                balance: ports
                    .balances
                    .balance(&query.asp_id, &mobile.card.id)
                    .await?,
            });
        }
        Ok(found)
    }

    async fn owner(&self, asp_id: &AspId, pan: &Pan) -> Result<CardOwner, CardLookupError> {
        let card = self
            .by_number(asp_id, pan)
            .await?
            .filter(|card| !card.card.status.is_final())
            .ok_or(CardLookupError::InvalidCard)?;
        Ok(CardOwner {
            member: card.card.owner,
            par: card.card.par.clone(),
            product: self
                .product_of(asp_id, &card.application, &mut HashMap::new())
                .await?,
            status: card.card.status,
            balance: self.ports.balances.balance(asp_id, &card.card.id).await?,
        })
    }

    async fn unregistered(
        &self,
        query: &PrintedCardQuery,
    ) -> Result<UnregisteredCard, CardLookupError> {
        let ports = &self.ports;
        for _ in 0..MOST_READS {
            let card = self.by_number(&query.asp_id, &query.pan).await?;
            let facts = match &card {
                Some(card) => {
                    let expected =
                        ports
                            .verification
                            .derive(&card.cvk_id, &query.pan, card.card.expiry)?;
                    Some(PrintedCardFacts {
                        kind: card.card.kind,
                        status: card.card.status,
                        wrong_attempts: card.wrong_attempts,
                        expiry_matches: card.card.expiry == query.expiry,
                        cvc_matches: same_cvc(&query.cvc, &expected),
                    })
                }
                None => None,
            };
            let refusal = match (decide_unregistered_inquiry(facts.as_ref()), &card) {
                (Ok(()), Some(card)) => {
                    return Ok(UnregisteredCard {
                        product: self
                            .product_of(&query.asp_id, &card.application, &mut HashMap::new())
                            .await?,
                        status: card.card.status,
                        expiry: card.card.expiry,
                        balance: ports.balances.balance(&query.asp_id, &card.card.id).await?,
                    });
                }
                (Ok(()), None) => return Err(PortError::msg("a card proven without a card").into()),
                (Err(refusal), _) => refusal,
            };
            let (Some(count), Some(card)) = (refusal.wrong_attempts, &card) else {
                return Err(CardLookupError::InvalidCard);
            };
            // The refusal is answered only once its attempt is counted: of concurrent wrong
            // attempts, each is counted, or read again and decided again.
            let change = wrong_attempt(&query.asp_id, card, refusal, count, ports.clock.now());
            match ports.changes.apply(&change).await {
                Ok(()) => return Err(CardLookupError::InvalidCard),
                Err(ChangeError::Stale) => {}
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
                Err(ChangeError::KeyTaken | ChangeError::NumberTaken(_)) => {
                    return Err(
                        PortError::msg("a wrong attempt claimed a key or made a card").into(),
                    );
                }
            }
        }
        Err(PortError::msg("the card kept changing while it was looked up").into())
    }
}

#[cfg(test)]
mod tests;
