//! The use case "Search for Mobile Card Application Information Linkable to Physical Card"
//! (`POST /api/v1/issued-cards/pre-issue/waiting/physical`, D19): a member's applications whose
//! mobile card was issued before their physical card, which is not registered yet, each with
//! the mobile card a registration will link it to. It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{
    ApplicationStatus, ApplicationType, AspId, AwaitingFacts, CardApplyNo, CardKind, Cvc,
    ErrorCode, MemberId, MemberStatus, Pan, Par, ProductName, ServiceId, awaits_physical_card,
};

use crate::inbound::ListPreIssuedCards;
use crate::ports::{
    CardApplicationStore, CardRecord, CardSecrets, CardStore, CardVerification, DeliveryStore,
    MemberDirectory, PortError, ProductCatalogue, StoredApplication,
};

/// The most applications one answer lists: the member's latest.
pub const MOST_LISTED: usize = 100;

/// The ports the list reads through.
#[derive(Clone)]
pub struct PreIssuedCardsPorts {
    /// The project's members.
    pub members: Arc<dyn MemberDirectory>,
    /// Applications.
    pub applications: Arc<dyn CardApplicationStore>,
    /// Deliveries.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Cards.
    pub cards: Arc<dyn CardStore>,
    /// The products' names.
    pub products: Arc<dyn ProductCatalogue>,
    /// The mobile cards' numbers.
    pub secrets: Arc<dyn CardSecrets>,
    /// The mobile cards' CVCs.
    pub verification: Arc<dyn CardVerification>,
}

/// A member's mobile card awaiting its physical card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwaitingCard {
    /// The application (what a registration names).
    pub application: CardApplyNo,
    /// `ISSUE`, or `REISSUE` after a loss.
    pub application_type: ApplicationType,
    /// The application's status.
    pub status: ApplicationStatus,
    /// The mobile card's number.
    pub pan: Pan,
    /// The mobile card's PAR.
    pub par: Par,
    /// The mobile card's CVC.
    pub cvc: Cvc,
    /// The product.
    pub product: ServiceId,
    /// The product's name.
    pub product_name: ProductName,
}

/// Why there is no list.
#[derive(Debug, thiserror::Error)]
pub enum PreIssuedCardsError {
    /// `001_006`: not a member of the project, or one whose membership is cancelled.
    #[error("not a member of the project")]
    NotAMember,
    /// A store could not be read, or a card not opened.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl PreIssuedCardsError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// Lists pre-issued cards awaiting their physical card.
#[derive(Clone)]
pub struct PreIssuedCardsService {
    ports: PreIssuedCardsPorts,
}

impl PreIssuedCardsService {
    /// A service over `ports`.
    pub fn new(ports: PreIssuedCardsPorts) -> Self {
        Self { ports }
    }

    /// The application's mobile card when the application awaits its physical card.
    async fn awaiting_card(
        &self,
        asp_id: &AspId,
        stored: &StoredApplication,
    ) -> Result<Option<CardRecord>, PortError> {
        let ports = &self.ports;
        let number = &stored.application.number;
        // The status alone rules most applications out before any other read.
        let status = stored.application.status;
        let facts = |has_mobile_card, has_delivery| AwaitingFacts {
            status,
            has_mobile_card,
            has_delivery,
            // A registered physical card completes its application (D16).
            physical_card_registered: status == ApplicationStatus::Completed,
        };
        if !awaits_physical_card(&facts(true, true)) {
            return Ok(None);
        }
        let mobile = ports
            .cards
            .cards_of_application(asp_id, number)
            .await?
            .into_iter()
            .find(|card| card.card.kind == CardKind::Mobile);
        let has_delivery = ports.deliveries.delivery(asp_id, number).await?.is_some();
        let listed = awaits_physical_card(&facts(mobile.is_some(), has_delivery));
        Ok(mobile.filter(|_| listed))
    }

    /// What the list shows of `card`, the mobile card of `stored`.
    async fn shown(
        &self,
        stored: &StoredApplication,
        card: &CardRecord,
    ) -> Result<AwaitingCard, PortError> {
        let ports = &self.ports;
        let application = &stored.application;
        let product = ports
            .products
            .find(&application.product)
            .await?
            .ok_or_else(|| PortError::msg("an application's product is not in the catalogue"))?;
        let pan = ports
            .secrets
            .reveal(&card.protected_pan, card.pan_binding())?;
        let cvc = ports
            .verification
            .derive(&card.cvk_id, &pan, card.card.expiry)?;
        Ok(AwaitingCard {
            application: application.number.clone(),
            application_type: application.application_type,
            status: application.status,
            pan,
            par: card.card.par.clone(),
            cvc,
            product: product.id,
            product_name: product.name,
        })
    }
}

#[async_trait]
impl ListPreIssuedCards for PreIssuedCardsService {
    async fn awaiting(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<AwaitingCard>, PreIssuedCardsError> {
        let ports = &self.ports;
        let found = ports.members.find(asp_id, member).await?;
        if !found.is_some_and(|found| found.status == MemberStatus::Active) {
            return Err(PreIssuedCardsError::NotAMember);
        }
        let mut listed = Vec::new();
        // Newest first, so that the answer's bound keeps the latest; then oldest first again.
        for stored in ports
            .applications
            .applications_of_member(asp_id, member)
            .await?
            .iter()
            .rev()
        {
            if listed.len() == MOST_LISTED {
                break;
            }
            if let Some(card) = self.awaiting_card(asp_id, stored).await? {
                listed.push(self.shown(stored, &card).await?);
            }
        }
        listed.reverse();
        Ok(listed)
    }
}

#[cfg(test)]
mod tests;
