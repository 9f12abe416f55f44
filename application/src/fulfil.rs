//! The fulfilment partner's side of deliveries (D18): the card bureau and courier read the
//! deliveries in progress with their addresses, report each status change, and get the
//! physical card produced at `PRE_SHIPPING`. Not an ASP operation: the operator interface
//! calls it, across projects.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    AspId, CardApplyNo, CardKind, CardStatus, Cvc, DeliveryAddress, DeliveryChangeFacts,
    DeliveryChangeRefusal, DeliveryHistory, DeliveryStatus, ErrorCode, Expiry, Pan, Par,
    decide_delivery_change, decide_redelivery,
};

use crate::inbound::FulfilDeliveries;
use crate::mint::{CardBlank, CardMint};
use crate::ports::{
    CardApplicationStore, CardRecord, CardSecrets, CardStore, CardVerification, ChangeError, Clock,
    DeliveryStore, LifecycleChange, LifecycleChanges, NewCardOf, PortError, ProductCatalogue,
    StoredApplication, StoredDelivery, VersionedChange,
};

/// How many times a report reads and decides again when another writer moved the delivery,
/// its application or its card in between.
const MOST_READS: usize = 8;

/// The most deliveries one listing holds.
pub const MOST_ORDERS: usize = 500;

/// The ports the partner's use cases run through.
#[derive(Clone)]
pub struct FulfilmentPorts {
    /// Applications.
    pub applications: Arc<dyn CardApplicationStore>,
    /// Deliveries, across projects.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// The product a physical card is produced under.
    pub products: Arc<dyn ProductCatalogue>,
    /// The one transaction of each report.
    pub changes: Arc<dyn LifecycleChanges>,
    /// Addresses, opened for the partner; a printed card's number.
    pub secrets: Arc<dyn CardSecrets>,
    /// A printed card's CVC.
    pub verification: Arc<dyn CardVerification>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// Whether the partner may read a produced card's printed number, expiry and CVC: only in the
/// sandbox, so that a person can try registration (D18).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintedCards {
    /// The sandbox: shown.
    Shown,
    /// Anywhere else: never leave the service.
    Hidden,
}

/// A delivery as the partner fulfils it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryOrder {
    /// The project it belongs to.
    pub asp_id: AspId,
    /// Its application.
    pub application: CardApplyNo,
    /// Every status it reached.
    pub history: DeliveryHistory,
    /// Where to.
    pub address: OrderAddress,
}

/// A delivery's address, as the partner gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderAddress {
    /// Opened.
    Open(DeliveryAddress),
    /// Written before addresses were sealed: the next start seals it.
    NotSealedYet,
    /// Sealed under a key this instance does not hold, or altered: an operator must look.
    Unreadable,
}

/// What a report changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The project the delivery belongs to.
    pub asp_id: AspId,
    /// Its application.
    pub application: CardApplyNo,
    /// Its history with the change.
    pub history: DeliveryHistory,
    /// The PAR of its physical card, when it has one that is not terminated.
    pub physical_card: Option<Par>,
    /// `false` when the delivery already had the status reported (a partner's retry):
    /// nothing changed.
    pub changed: bool,
}

/// A produced physical card as printed (sandbox only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedCard {
    /// Its PAR.
    pub par: Par,
    /// The number printed on it.
    pub pan: Pan,
    /// The expiry printed on it.
    pub expiry: Expiry,
    /// The CVC printed on it (derived, never stored).
    pub cvc: Cvc,
    /// Its state.
    pub status: CardStatus,
}

/// Why a partner's request changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum FulfilmentError {
    /// `003_001`: no application with this number has a delivery.
    #[error("no such delivery")]
    UnknownDelivery,
    /// `003_091`: the delivery table does not allow the change.
    #[error("{0}")]
    Refused(DeliveryChangeRefusal),
    /// `003_001`: no physical card is produced for the delivery, or printed cards are not shown
    /// here.
    #[error("no printed card to show")]
    NoPrintedCard,
    /// A store failed; report again.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl FulfilmentError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownDelivery | Self::NoPrintedCard => ErrorCode::InvalidCardInfo,
            Self::Refused(refusal) => refusal.code(),
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// The fulfilment partner's use cases.
#[derive(Clone)]
pub struct FulfilmentService {
    ports: FulfilmentPorts,
    mint: CardMint,
    printed: PrintedCards,
}

/// What a report read.
struct Read {
    asp_id: AspId,
    application: StoredApplication,
    delivery: StoredDelivery,
    physical_card: Option<CardRecord>,
}

impl FulfilmentService {
    /// A service over `ports`, producing cards with `mint`, showing printed cards or not.
    pub fn new(ports: FulfilmentPorts, mint: CardMint, printed: PrintedCards) -> Self {
        Self {
            ports,
            mint,
            printed,
        }
    }

    /// The delivery of application `number`, with its application and live physical card.
    async fn read(&self, number: &CardApplyNo) -> Result<Read, FulfilmentError> {
        let ports = &self.ports;
        let asp_id = ports
            .deliveries
            .project_of(number)
            .await?
            .ok_or(FulfilmentError::UnknownDelivery)?;
        let delivery = ports
            .deliveries
            .delivery(&asp_id, number)
            .await?
            .ok_or(FulfilmentError::UnknownDelivery)?;
        let application = ports
            .applications
            .application(&asp_id, number)
            .await?
            .ok_or(FulfilmentError::UnknownDelivery)?;
        let physical_card = ports
            .cards
            .cards_of_application(&asp_id, number)
            .await?
            .into_iter()
            .rev()
            .find(|card| {
                card.card.kind == CardKind::Physical && card.card.status != CardStatus::Terminated
            });
        Ok(Read {
            asp_id,
            application,
            delivery,
            physical_card,
        })
    }

    /// The change that moves what was `read` to `next`, as the table decides.
    async fn change(
        &self,
        read: &Read,
        next: DeliveryStatus,
    ) -> Result<(LifecycleChange, DeliveryHistory, Option<Par>), FulfilmentError> {
        let ports = &self.ports;
        // A step is never dated before the one it follows, even across instances whose clocks
        // differ a little.
        let last = read.delivery.history.steps().last().map(|step| step.at);
        let now = ports.clock.now();
        let at = last.map_or(now, |last| now.max(last));
        let plan = decide_delivery_change(&DeliveryChangeFacts {
            history: &read.delivery.history,
            application: read.application.application.status,
            has_physical_card: read.physical_card.is_some(),
            next,
            at,
        })
        .map_err(FulfilmentError::Refused)?;
        let number = &read.delivery.application;
        let mut change = LifecycleChange {
            asp_id: read.asp_id.clone(),
            claim: None,
            applications: plan
                .application
                .map(|status| VersionedChange {
                    key: number.clone(),
                    from_version: read.application.version,
                    status,
                })
                .into_iter()
                .collect(),
            deliveries: vec![VersionedChange {
                key: number.clone(),
                from_version: read.delivery.version,
                status: next,
            }],
            cards: vec![],
            new_cards: vec![],
            at,
        };
        let mut physical_card = read
            .physical_card
            .as_ref()
            .map(|card| card.card.par.clone());
        if plan.produce_physical_card {
            let product = ports
                .products
                .find(&read.application.application.product)
                .await?
                .ok_or_else(|| PortError::msg("an application whose product is gone"))?;
            let minted = self
                .mint
                .mint(&CardBlank {
                    product: &product,
                    owner: read.application.application.member,
                    kind: CardKind::Physical,
                    status: CardStatus::Inactive,
                    now: at,
                })
                .await?;
            physical_card = Some(minted.record.card.par.clone());
            change.new_cards.push(NewCardOf {
                application: number.clone(),
                card: minted.record,
            });
        }
        if plan.terminate_physical_card
            && let Some(card) = &read.physical_card
        {
            change.cards.push(VersionedChange {
                key: card.card.id.clone(),
                from_version: card.version,
                status: card.as_is().with_status(CardStatus::Terminated),
            });
            physical_card = None;
        }
        Ok((change, plan.history, physical_card))
    }
}

#[async_trait]
impl FulfilDeliveries for FulfilmentService {
    async fn orders(
        &self,
        project: Option<AspId>,
        limit: usize,
    ) -> Result<Vec<DeliveryOrder>, FulfilmentError> {
        let ports = &self.ports;
        let in_progress = ports
            .deliveries
            .deliveries_in_progress(project, limit.min(MOST_ORDERS))
            .await?;
        in_progress
            .into_iter()
            .map(|item| {
                let number = item.delivery.application;
                // An address that does not open (sealed under a key this instance does not
                // hold) is said so, without holding up the others.
                let address = match item.delivery.address {
                    None => OrderAddress::NotSealedYet,
                    Some(sealed) => match ports.secrets.open_address(&sealed, &number) {
                        Ok(address) => OrderAddress::Open(address),
                        Err(_) => OrderAddress::Unreadable,
                    },
                };
                Ok(DeliveryOrder {
                    asp_id: item.asp_id,
                    application: number,
                    history: item.delivery.history,
                    address,
                })
            })
            .collect()
    }

    async fn report(
        &self,
        number: &CardApplyNo,
        next: DeliveryStatus,
    ) -> Result<DeliveryReport, FulfilmentError> {
        for _ in 0..MOST_READS {
            let read = self.read(number).await?;
            let current = read.delivery.history.current();
            if current == next && next != DeliveryStatus::Etc {
                // The partner reporting again what it reported: nothing to change.
                return Ok(DeliveryReport {
                    asp_id: read.asp_id,
                    application: number.clone(),
                    history: read.delivery.history,
                    physical_card: read.physical_card.map(|card| card.card.par),
                    changed: false,
                });
            }
            let (change, history, physical_card) = self.change(&read, next).await?;
            match self.ports.changes.apply(&change).await {
                Ok(()) => {
                    return Ok(DeliveryReport {
                        asp_id: read.asp_id,
                        application: number.clone(),
                        history,
                        physical_card,
                        changed: true,
                    });
                }
                // Another writer moved it, or a new card's number met one from before: read
                // again and decide again.
                Err(ChangeError::Stale | ChangeError::NumberTaken(_)) => {}
                Err(ChangeError::KeyTaken) => {
                    return Err(PortError::msg("a report claimed a key").into());
                }
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
            }
        }
        Err(PortError::msg("the delivery kept changing while it was reported").into())
    }

    async fn redeliver(&self, number: &CardApplyNo) -> Result<DeliveryReport, FulfilmentError> {
        for _ in 0..MOST_READS {
            let read = self.read(number).await?;
            let last = read.delivery.history.steps().last().map(|step| step.at);
            let now = self.ports.clock.now();
            let at = last.map_or(now, |last| now.max(last));
            let plan = decide_redelivery(&read.delivery.history, read.physical_card.is_some(), at)
                .map_err(FulfilmentError::Refused)?;
            let change = LifecycleChange {
                asp_id: read.asp_id.clone(),
                claim: None,
                applications: vec![],
                deliveries: vec![VersionedChange {
                    key: number.clone(),
                    from_version: read.delivery.version,
                    status: DeliveryStatus::Ready,
                }],
                cards: read
                    .physical_card
                    .iter()
                    .filter(|_| plan.terminate_physical_card)
                    .map(|card| VersionedChange {
                        key: card.card.id.clone(),
                        from_version: card.version,
                        status: card.as_is().with_status(CardStatus::Terminated),
                    })
                    .collect(),
                new_cards: vec![],
                at,
            };
            match self.ports.changes.apply(&change).await {
                Ok(()) => {
                    return Ok(DeliveryReport {
                        asp_id: read.asp_id,
                        application: number.clone(),
                        history: plan.history,
                        physical_card: None,
                        changed: true,
                    });
                }
                Err(ChangeError::Stale | ChangeError::NumberTaken(_)) => {}
                Err(ChangeError::KeyTaken) => {
                    return Err(PortError::msg("a redelivery claimed a key").into());
                }
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
            }
        }
        Err(PortError::msg("the delivery kept changing while it was sent again").into())
    }

    async fn printed_card(&self, number: &CardApplyNo) -> Result<PrintedCard, FulfilmentError> {
        if self.printed == PrintedCards::Hidden {
            return Err(FulfilmentError::NoPrintedCard);
        }
        let ports = &self.ports;
        let read = self.read(number).await?;
        let card = read.physical_card.ok_or(FulfilmentError::NoPrintedCard)?;
        let pan = ports
            .secrets
            .reveal(&card.protected_pan, card.pan_binding())?;
        let cvc = ports
            .verification
            .derive(&card.cvk_id, &pan, card.card.expiry)?;
        Ok(PrintedCard {
            par: card.card.par,
            pan,
            expiry: card.card.expiry,
            cvc,
            status: card.card.status,
        })
    }
}

#[cfg(test)]
mod tests;
