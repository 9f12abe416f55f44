//! The decisions after an application (D17, D19): whether it may be cancelled, whether a
//! physical card may be registered and what that changes, and which applications await a
//! physical card. Facts in, a plan or a refusal out; the use cases read the facts and carry out
//! the plan in one transaction.

use crate::application::{ApplicationStatus, CardStatus, DeliveryStatus};
use crate::card::CardApplyNo;
use crate::error::ErrorCode;
use crate::lifecycle::{DeliveryChangeRefused, DeliveryHistory};
use crate::member::MemberId;
use crate::time::{TimeZone, Timestamp};

/// A mobile card as a cancel or a registration sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MobileCardFacts {
    /// Its state.
    pub status: CardStatus,
    /// Whether it was ever used for a transaction.
    pub has_transactions: bool,
}

/// What a cancel decides on (D17).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelFacts {
    /// When the application was made.
    pub applied_at: Timestamp,
    /// Its status.
    pub status: ApplicationStatus,
    /// Its delivery's status, if it has a delivery.
    pub delivery: Option<DeliveryStatus>,
    /// Its mobile card, if one was issued.
    pub mobile_card: Option<MobileCardFacts>,
    /// Now.
    pub now: Timestamp,
}

/// Why an application may not be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelRefusal {
    /// `003_002`: not on the day of application, in Korea Standard Time.
    NotOnTheDayOfApplication,
    /// `003_003`: the application, its delivery or its mobile card has gone too far.
    TooFarAlong,
}

impl CancelRefusal {
    /// The code answered.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::NotOnTheDayOfApplication => ErrorCode::NotCancellableToday,
            Self::TooFarAlong => ErrorCode::NotCancellableInThisStatus,
        }
    }
}

/// What a cancel changes, in one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelPlan {
    /// Whether the delivery goes to `CANCEL` (there is one).
    pub cancel_delivery: bool,
    /// Whether the mobile card goes to `TERMINATED` (there is one, not terminated yet).
    pub terminate_mobile_card: bool,
}

impl CancelPlan {
    /// The application's status after the cancel.
    pub const APPLICATION: ApplicationStatus = ApplicationStatus::Cancelled;
}

/// Decides a cancel: only on the day of application in KST (`003_002`), only while the
/// application is `READY`, `COST_PAID` or `DIGITAL_ISSUED`, its delivery (if any) `READY` or
/// `RECEIPT`, and its mobile card (if any) never used (`003_003`).
///
/// # Errors
/// The refusal, day first.
pub fn decide_cancel(facts: &CancelFacts) -> Result<CancelPlan, CancelRefusal> {
    if facts.applied_at.day_number(TimeZone::Kst) != facts.now.day_number(TimeZone::Kst) {
        return Err(CancelRefusal::NotOnTheDayOfApplication);
    }
    let application_allows = matches!(
        facts.status,
        ApplicationStatus::Ready | ApplicationStatus::CostPaid | ApplicationStatus::DigitalIssued
    );
    let delivery_allows = matches!(
        facts.delivery,
        None | Some(DeliveryStatus::Ready | DeliveryStatus::Receipt)
    );
    let card_allows = facts.mobile_card.is_none_or(|card| !card.has_transactions);
    if !(application_allows && delivery_allows && card_allows) {
        return Err(CancelRefusal::TooFarAlong);
    }
    Ok(CancelPlan {
        cancel_delivery: facts.delivery.is_some(),
        terminate_mobile_card: facts
            .mobile_card
            .is_some_and(|card| card.status != CardStatus::Terminated),
    })
}

/// Wrong registration attempts in a row that lock a physical card (D19).
pub const MOST_WRONG_REGISTRATIONS: u8 = 5;

/// The application a registration names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamedApplication {
    /// `cardApplyNo` was not given.
    NotNamed,
    /// It names this application of the member.
    Found(CardApplyNo),
    /// It names no application of the member.
    Unknown,
}

/// The physical card a registration names by its number, as found among the project's cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhysicalCardFacts {
    /// Whose it is.
    pub owner: MemberId,
    /// The application that produced it.
    pub application: CardApplyNo,
    /// Its state: `INACTIVE` until registered.
    pub status: CardStatus,
    /// Wrong attempts in a row so far.
    pub wrong_attempts: u8,
    /// Whether the expiry given is the card's.
    pub expiry_matches: bool,
    /// Whether the CVC given is the card's (compared in constant time).
    pub cvc_matches: bool,
    /// Whether its delivery ever reached `SHIPPING`.
    pub shipped: bool,
    /// Its delivery's status now.
    pub delivery: DeliveryStatus,
    /// The application's mobile card (a pre-issuance product's), if it has one.
    pub mobile_card: Option<CardStatus>,
}

/// What a registration decides on (D19).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationFacts {
    /// The member registering.
    pub member: MemberId,
    /// The application named, if any.
    pub named: NamedApplication,
    /// The physical card with the number given, if the project has one.
    pub card: Option<PhysicalCardFacts>,
}

/// Why a registration is refused, and what the refusal records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrationRefusal {
    /// The code answered.
    pub code: ErrorCode,
    /// The card's wrong attempts after this one, when this attempt counts (the member's own
    /// card, not locked yet, with a wrong expiry or CVC); `None` when nothing is recorded.
    pub wrong_attempts: Option<u8>,
}

impl RegistrationRefusal {
    const fn nothing_recorded(code: ErrorCode) -> Self {
        Self {
            code,
            wrong_attempts: None,
        }
    }

    /// Whether this refusal locks the card (`SUSPENDED`).
    pub const fn locks(&self) -> bool {
        matches!(self.wrong_attempts, Some(count) if count >= MOST_WRONG_REGISTRATIONS)
    }
}

/// How a registered physical card gets its mobile card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MobileCardPlan {
    /// Linked to the application's mobile card (pre-issuance).
    LinkExisting,
    /// A mobile card is issued now and linked.
    IssueNew,
}

/// What a registration changes, in one transaction: the physical card becomes `ACTIVE` with
/// no wrong attempts, the application `COMPLETED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrationPlan {
    /// The mobile card it is linked to.
    pub mobile_card: MobileCardPlan,
    /// Whether the delivery goes to `ARRIVAL` (it is `SHIPPING`: the member has the card
    /// before the courier said so).
    pub delivery_arrives: bool,
}

/// Decides a registration, in D19's order: a named application the member does not have
/// (`003_013`); then the card itself: unknown, another member's, of another application than
/// the one named, not waiting for registration, locked, or with a wrong expiry or CVC
/// (`003_001`, the same answer for all, so nothing about an unproven card is revealed; only a
/// wrong expiry or CVC on the member's own card counts as a wrong attempt); then not shipped
/// (`003_012`); then a mobile card to link that is terminated (`003_014`).
///
/// # Errors
/// The refusal, with the wrong attempt it records.
pub fn decide_registration(
    facts: &RegistrationFacts,
) -> Result<RegistrationPlan, RegistrationRefusal> {
    let invalid = RegistrationRefusal::nothing_recorded(ErrorCode::InvalidCardInfo);
    if facts.named == NamedApplication::Unknown {
        return Err(RegistrationRefusal::nothing_recorded(
            ErrorCode::CardIssueNotFound,
        ));
    }
    let Some(card) = &facts.card else {
        return Err(invalid);
    };
    let other_application =
        matches!(&facts.named, NamedApplication::Found(number) if *number != card.application);
    if card.owner != facts.member
        || other_application
        || card.status != CardStatus::Inactive
        || card.wrong_attempts >= MOST_WRONG_REGISTRATIONS
    {
        return Err(invalid);
    }
    if !(card.expiry_matches && card.cvc_matches) {
        return Err(RegistrationRefusal {
            code: ErrorCode::InvalidCardInfo,
            wrong_attempts: Some(card.wrong_attempts + 1),
        });
    }
    if !card.shipped {
        return Err(RegistrationRefusal::nothing_recorded(
            ErrorCode::CardIssueNotReady,
        ));
    }
    let mobile_card = match card.mobile_card {
        Some(CardStatus::Terminated) => {
            return Err(RegistrationRefusal::nothing_recorded(
                ErrorCode::DigitalCardTerminated,
            ));
        }
        Some(_) => MobileCardPlan::LinkExisting,
        None => MobileCardPlan::IssueNew,
    };
    Ok(RegistrationPlan {
        mobile_card,
        delivery_arrives: card.delivery == DeliveryStatus::Shipping,
    })
}

/// What the pre-issue list decides on, per application of the member (D19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AwaitingFacts {
    /// The application's status.
    pub status: ApplicationStatus,
    /// Whether it has a mobile card.
    pub has_mobile_card: bool,
    /// Whether it has a delivery.
    pub has_delivery: bool,
    /// Whether a physical card of it is registered.
    pub physical_card_registered: bool,
}

/// Whether an application is listed among the pre-issued cards awaiting a physical card: it
/// has a mobile card and a delivery, no physical card of it is registered, and it is not
/// cancelled.
pub const fn awaits_physical_card(facts: &AwaitingFacts) -> bool {
    facts.has_mobile_card
        && facts.has_delivery
        && !facts.physical_card_registered
        && !matches!(facts.status, ApplicationStatus::Cancelled)
}

/// What a status change reported by the fulfilment partner decides on (D18).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryChangeFacts<'a> {
    /// The delivery's history so far.
    pub history: &'a DeliveryHistory,
    /// Its application's status.
    pub application: ApplicationStatus,
    /// Whether the application has a physical card that is not terminated.
    pub has_physical_card: bool,
    /// The status reported.
    pub next: DeliveryStatus,
    /// When it was reached.
    pub at: Timestamp,
}

/// Why a reported delivery change is refused; nothing changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryChangeRefusal {
    /// The delivery table does not allow it (D18).
    Table(DeliveryChangeRefused),
    /// `CANCEL` is reached only with the application's cancel (D17), never reported.
    CancelledOnlyWithItsApplication,
}

impl DeliveryChangeRefusal {
    /// The code answered: this project's own `003_091`.
    pub const fn code(self) -> ErrorCode {
        ErrorCode::DeliveryChangeNotAllowed
    }
}

impl std::fmt::Display for DeliveryChangeRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Table(refused) => refused.fmt(f),
            Self::CancelledOnlyWithItsApplication => {
                f.write_str("a delivery is cancelled only with its application")
            }
        }
    }
}

/// What a reported delivery change does, in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryChangePlan {
    /// The history with the change.
    pub history: DeliveryHistory,
    /// Whether a physical card is produced now (`PRE_SHIPPING` reached by a delivery that has
    /// none): card number under the product's BIN, expiry, PAR, `INACTIVE`.
    pub produce_physical_card: bool,
    /// The application's new status, when it changes (`PHYSICAL_ISSUED` with the card).
    pub application: Option<ApplicationStatus>,
    /// Whether the application's physical card is terminated (the delivery was `LOST`).
    pub terminate_physical_card: bool,
}

/// Decides a delivery change reported by the fulfilment partner: the delivery table (D18),
/// never `CANCEL`; at `PRE_SHIPPING` the physical card is produced (once: coming back from
/// `ETC` does not produce another) and the application becomes `PHYSICAL_ISSUED` when its
/// table allows; at `LOST` the physical card is terminated.
///
/// # Errors
/// The refusal; nothing changes.
pub fn decide_delivery_change(
    facts: &DeliveryChangeFacts<'_>,
) -> Result<DeliveryChangePlan, DeliveryChangeRefusal> {
    if facts.next == DeliveryStatus::Cancel {
        return Err(DeliveryChangeRefusal::CancelledOnlyWithItsApplication);
    }
    let history = facts
        .history
        .advance(facts.next, facts.at)
        .map_err(DeliveryChangeRefusal::Table)?;
    let produce_physical_card =
        facts.next == DeliveryStatus::PreShipping && !facts.has_physical_card;
    let application = (produce_physical_card
        && facts
            .application
            .can_become(ApplicationStatus::PhysicalIssued))
    .then_some(ApplicationStatus::PhysicalIssued);
    Ok(DeliveryChangePlan {
        history,
        produce_physical_card,
        application,
        terminate_physical_card: facts.next == DeliveryStatus::Lost && facts.has_physical_card,
    })
}

/// What a redelivery does, in one transaction (D18): the delivery starts a new leg at
/// `READY`, and the physical card of the leg that ended (a returned card; a lost one is
/// terminated already) is terminated, so that the new leg produces a new card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedeliveryPlan {
    /// The history with its new leg.
    pub history: DeliveryHistory,
    /// Whether the application's physical card is terminated now.
    pub terminate_physical_card: bool,
}

/// Decides a redelivery of a delivery that was `LOST` or `RETURN`ed.
///
/// # Errors
/// The refusal of [`DeliveryHistory::redeliver`]; nothing changes.
pub fn decide_redelivery(
    history: &DeliveryHistory,
    has_physical_card: bool,
    at: Timestamp,
) -> Result<RedeliveryPlan, DeliveryChangeRefusal> {
    Ok(RedeliveryPlan {
        history: history
            .redeliver(at)
            .map_err(DeliveryChangeRefusal::Table)?,
        terminate_physical_card: has_physical_card,
    })
}

#[cfg(test)]
mod tests;
