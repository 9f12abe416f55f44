//! The decisions of a card's replacement (D22): a reissue after a loss report, and the renewal
//! of a card that expires soon. Facts in, a plan or a refusal out; the use cases read the facts
//! and carry out the plan in one transaction.

use crate::application::{ApplicationStatus, CardStatus};
use crate::card::Expiry;
use crate::error::ErrorCode;
use crate::fulfilment::MOST_WRONG_REGISTRATIONS;
use crate::time::{TimeZone, Timestamp, days_from_civil, days_in_month};

/// How many days before its expiry a card may be renewed (D22): from 30 days before its last
/// valid day, to that day itself.
pub const RENEWAL_WINDOW_DAYS: i64 = 30;

impl Expiry {
    /// The last day the card is valid, counted in days from 1970-01-01 (the count of
    /// [`Timestamp::day_number`]).
    pub fn last_day_number(self) -> i64 {
        days_from_civil(
            i64::from(self.year()),
            self.month(),
            days_in_month(self.year(), self.month()),
        )
    }

    /// Whole days from `now`'s date to the card's last valid day, both in Korea Standard Time:
    /// 0 on that day, negative once it is past.
    pub fn days_left(self, now: Timestamp) -> i64 {
        self.last_day_number() - now.day_number(TimeZone::Kst)
    }
}

/// A product a reissue names as the new card's (`nextServiceId`, or the lost card's own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextProduct {
    /// No product with that id.
    Unknown,
    /// A product of the catalogue.
    Found {
        /// Whether it is of the lost card's product's type (NORMAL or MOBILE).
        same_type: bool,
        /// Whether it can be applied for.
        active: bool,
        /// Whether its mobile card is issued before the physical card.
        pre_issuance: bool,
    },
}

/// What a reissue after loss decides on (D22), for a card the member has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReissueFacts {
    /// The lost card's state.
    pub status: CardStatus,
    /// Its wrong registration attempts: a card locked by them was not reported lost.
    pub wrong_registrations: u8,
    /// The status of the reissue application made for this card, if one was made.
    pub reissue: Option<ApplicationStatus>,
    /// The product the new card is to have.
    pub next_product: NextProduct,
}

/// Why a card is not reissued. Nothing changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReissueRefusal {
    /// `003_018`: the card was replaced by a reissue already.
    AlreadyReissued,
    /// `003_020`: a reissue of the card is in progress.
    ReissueInProgress,
    /// `003_090` (own): the card is not suspended by a loss report.
    NotReportedLost,
    /// `003_048`: the new card's product is unknown, inactive, or of another type.
    InvalidNextProduct,
}

impl ReissueRefusal {
    /// The code answered.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::AlreadyReissued => ErrorCode::CardAlreadyReissued,
            Self::ReissueInProgress => ErrorCode::ReissueInProgress,
            Self::NotReportedLost => ErrorCode::CardNotReportedLost,
            Self::InvalidNextProduct => ErrorCode::InvalidNextServiceId,
        }
    }
}

/// What a reissue makes, in one transaction with a new `REISSUE` application and its delivery:
/// the lost card and the cards linked to it are terminated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReissuePlan {
    /// Whether the new mobile card is issued now (a pre-issuance product), before the physical
    /// card.
    pub mobile_card_now: bool,
}

/// Decides a reissue after loss (D22), in its order: replaced by a reissue already (`003_018`),
/// a reissue of it in progress (`003_020`), not suspended by a loss report (`003_090`), the new
/// card's product unknown, inactive or of another type (`003_048`). A reissue that ended
/// without a card (cancelled, its fee failed) replaced nothing.
///
/// # Errors
/// The first refusal that applies.
pub const fn decide_reissue(facts: &ReissueFacts) -> Result<ReissuePlan, ReissueRefusal> {
    match facts.reissue {
        Some(ApplicationStatus::Completed) => return Err(ReissueRefusal::AlreadyReissued),
        Some(ApplicationStatus::Cancelled | ApplicationStatus::CostPayFailed) | None => {}
        Some(_) => return Err(ReissueRefusal::ReissueInProgress),
    }
    if !matches!(facts.status, CardStatus::Suspended)
        || facts.wrong_registrations >= MOST_WRONG_REGISTRATIONS
    {
        return Err(ReissueRefusal::NotReportedLost);
    }
    match facts.next_product {
        NextProduct::Found {
            same_type: true,
            active: true,
            pre_issuance,
        } => Ok(ReissuePlan {
            mobile_card_now: pre_issuance,
        }),
        NextProduct::Unknown | NextProduct::Found { .. } => Err(ReissueRefusal::InvalidNextProduct),
    }
}

/// What a renewal decides on (D22), for a card the member has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenewalFacts {
    /// The card's state.
    pub status: CardStatus,
    /// Its expiry.
    pub expiry: Expiry,
    /// Whether a renewal of it was applied for already (and not cancelled).
    pub already_renewed: bool,
    /// Whether its product can still be applied for.
    pub product_active: bool,
    /// Now.
    pub now: Timestamp,
}

/// Why a card is not renewed. Nothing changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenewalRefusal {
    /// `003_006`: the card's last valid day is more than 30 days away in KST, or past.
    NotDue,
    /// `003_005`: the card is neither `ACTIVE` nor `SUSPENDED`.
    NotActiveOrSuspended,
    /// `003_004`: a renewal of the card was applied for already.
    AlreadyRenewed,
    /// `003_009`: the card's product can no longer be applied for.
    ProductNotValid,
}

impl RenewalRefusal {
    /// The code answered.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::NotDue => ErrorCode::NotDueForRenewal,
            Self::NotActiveOrSuspended => ErrorCode::CardNotActiveOrSuspended,
            Self::AlreadyRenewed => ErrorCode::CardAlreadyRenewed,
            Self::ProductNotValid => ErrorCode::ProductNotValidForReissue,
        }
    }
}

/// Decides a renewal (D22), in its order: the window (`003_006`: from 30 days before the
/// card's last valid day to that day, KST dates), the card's state (`003_005`), a renewal
/// already applied for (`003_004`), the product (`003_009`). The old card stays as it is until
/// the new one is registered.
///
/// # Errors
/// The first refusal that applies.
pub fn decide_renewal(facts: &RenewalFacts) -> Result<(), RenewalRefusal> {
    let days_left = facts.expiry.days_left(facts.now);
    if !(0..=RENEWAL_WINDOW_DAYS).contains(&days_left) {
        return Err(RenewalRefusal::NotDue);
    }
    if !matches!(facts.status, CardStatus::Active | CardStatus::Suspended) {
        return Err(RenewalRefusal::NotActiveOrSuspended);
    }
    if facts.already_renewed {
        return Err(RenewalRefusal::AlreadyRenewed);
    }
    if !facts.product_active {
        return Err(RenewalRefusal::ProductNotValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
