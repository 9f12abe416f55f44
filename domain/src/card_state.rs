//! The card status table (D20) and the decisions of the member's own card operations: a state
//! change asked for by the member (D20) and a discard (D21). Facts in, a plan or a refusal out;
//! the use cases read the facts and carry out the plan in one transaction.

use crate::application::{CardKind, CardStatus};
use crate::error::ErrorCode;
use crate::fulfilment::{MOST_WRONG_REGISTRATIONS, RegistrationRefusal};

impl CardStatus {
    /// Whether no change may follow: `TERMINATED` (D20).
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Terminated)
    }

    /// Whether a card in this status may change to `next` (D20):
    /// - `INACTIVE` → `ACTIVE` (registered), `SUSPENDED` (locked by wrong registration
    ///   attempts), `TERMINATED`;
    /// - `ACTIVE` → `SUSPENDED` (reported lost), `TERMINATED`;
    /// - `SUSPENDED` → `ACTIVE` (the loss report lifted), `INACTIVE` (a locked card unlocked by
    ///   an operator), `TERMINATED`.
    pub const fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (
                Self::Inactive,
                Self::Active | Self::Suspended | Self::Terminated
            ) | (Self::Active, Self::Suspended | Self::Terminated)
                | (
                    Self::Suspended,
                    Self::Active | Self::Inactive | Self::Terminated
                )
        )
    }
}

/// The state a member asks a card to take (`status` of D20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CardStateRequest {
    /// `SUSPEND`: report the card lost.
    Suspend,
    /// `RESUME`: lift the loss report.
    Resume,
}

impl CardStateRequest {
    /// Every value, as the request table lists them.
    pub const ALL: [Self; 2] = [Self::Suspend, Self::Resume];

    /// The name as the platform writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "SUSPEND",
            Self::Resume => "RESUME",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|request| request.as_str() == text)
    }
}

/// A card as a state change or a discard sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardFacts {
    /// Mobile or physical.
    pub kind: CardKind,
    /// Its state.
    pub status: CardStatus,
    /// Wrong registration attempts in a row (D19): at [`MOST_WRONG_REGISTRATIONS`] the card is
    /// locked, not reported lost.
    pub wrong_registrations: u8,
    /// For a physical card, whether it is linked to a mobile card.
    pub linked: bool,
}

impl CardFacts {
    /// Whether the card was locked by wrong registration attempts (D19).
    pub const fn locked(&self) -> bool {
        self.wrong_registrations >= MOST_WRONG_REGISTRATIONS
    }
}

/// Why a card's state may not change as the member asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardStateRefusal {
    /// `003_022`: the card is terminated.
    Terminated,
    /// `003_092`: locked by wrong registration attempts; only an operator resumes it.
    Locked,
    /// `003_093`: a physical card not registered yet; its state is the partner's and the
    /// registration's, not the member's.
    NotRegistered,
}

impl CardStateRefusal {
    /// The code answered.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::Terminated => ErrorCode::CardAlreadyTerminated,
            Self::Locked => ErrorCode::CardLocked,
            Self::NotRegistered => ErrorCode::CardNotRegistered,
        }
    }
}

/// Decides a member's state change (D20): `SUSPEND` suspends an `ACTIVE` card, `RESUME` makes a
/// card suspended by a loss report `ACTIVE` again, and asking for the state the card already
/// has changes nothing. The answer is the status to write, `None` when nothing changes.
///
/// # Errors
/// A terminated card (`003_022`), one not registered yet (`003_093`), and the resume of a card
/// locked by wrong registration attempts (`003_092`).
pub const fn decide_card_state(
    card: &CardFacts,
    request: CardStateRequest,
) -> Result<Option<CardStatus>, CardStateRefusal> {
    match (card.status, request) {
        (CardStatus::Terminated, _) => Err(CardStateRefusal::Terminated),
        (CardStatus::Inactive, _) => Err(CardStateRefusal::NotRegistered),
        (CardStatus::Active, CardStateRequest::Suspend) => Ok(Some(CardStatus::Suspended)),
        (CardStatus::Active, CardStateRequest::Resume)
        | (CardStatus::Suspended, CardStateRequest::Suspend) => Ok(None),
        (CardStatus::Suspended, CardStateRequest::Resume) => {
            if card.locked() {
                Err(CardStateRefusal::Locked)
            } else {
                Ok(Some(CardStatus::Active))
            }
        }
    }
}

/// Why an operator does not unlock a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockRefusal {
    /// The card is not locked by wrong registration attempts (a loss report is the member's to
    /// lift).
    NotLocked,
}

/// Decides an operator's unlock of a card locked by wrong registration attempts (D19, D20): a
/// physical card, not registered (not linked), `SUSPENDED` at the most wrong attempts, becomes
/// `INACTIVE` again with its count at zero, to be registered with its right CVC. The answer is
/// the status to write, with the count reset.
///
/// # Errors
/// [`UnlockRefusal::NotLocked`] for any other card.
pub const fn decide_unlock(card: &CardFacts) -> Result<CardStatus, UnlockRefusal> {
    if matches!(card.kind, CardKind::Physical)
        && matches!(card.status, CardStatus::Suspended)
        && card.locked()
        && !card.linked
    {
        Ok(CardStatus::Inactive)
    } else {
        Err(UnlockRefusal::NotLocked)
    }
}

/// Why a card may not be discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscardRefusal {
    /// `001_047`: already terminated (an unknown card is answered the same way).
    NoSuchCard,
    /// `001_059`: the member's basic card (D24) goes only with the membership.
    BasicCard,
    /// `001_061`: a physical card linked to a mobile card goes only with it.
    LinkedToMobileCard,
    /// `001_052`: a balance remains on the card.
    HasBalance,
}

impl DiscardRefusal {
    /// The code answered.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::NoSuchCard => ErrorCode::NoCardToDiscard,
            Self::BasicCard => ErrorCode::BasicCardNotDiscardable,
            Self::LinkedToMobileCard => ErrorCode::LinkedCardNotAlone,
            Self::HasBalance => ErrorCode::CardHasBalance,
        }
    }
}

/// What a discard changes, in one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscardPlan {
    /// Whether the physical cards linked to the card (a mobile card) are terminated with it.
    pub with_linked_cards: bool,
}

/// Decides a discard (D21): the card is terminated, and a mobile card takes its linked physical
/// cards with it.
///
/// # Errors
/// In this order: a card already terminated (`001_047`), the member's basic card (`001_059`:
/// it goes only with the membership), a physical card linked to a mobile card (`001_061`), a
/// remaining balance (`001_052`).
pub const fn decide_discard(
    card: &CardFacts,
    balance: u64,
    basic: bool,
) -> Result<DiscardPlan, DiscardRefusal> {
    if card.status.is_final() {
        return Err(DiscardRefusal::NoSuchCard);
    }
    if basic {
        return Err(DiscardRefusal::BasicCard);
    }
    if matches!(card.kind, CardKind::Physical) && card.linked {
        return Err(DiscardRefusal::LinkedToMobileCard);
    }
    if balance > 0 {
        return Err(DiscardRefusal::HasBalance);
    }
    Ok(DiscardPlan {
        with_linked_cards: matches!(card.kind, CardKind::Mobile),
    })
}

/// A card someone names by its printed number, expiry and CVC, to learn about it before it is
/// registered (D23's unregistered card inquiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrintedCardFacts {
    /// Mobile or physical.
    pub kind: CardKind,
    /// Its state.
    pub status: CardStatus,
    /// Wrong attempts in a row so far (shared with the registration, D19).
    pub wrong_attempts: u8,
    /// Whether the expiry given is the card's.
    pub expiry_matches: bool,
    /// Whether the CVC given is the card's (compared in constant time).
    pub cvc_matches: bool,
}

/// Decides the unregistered card inquiry (D23): only a produced physical card not registered
/// yet (`INACTIVE`, not locked), proven by its expiry and CVC, is described. Anything else is
/// `003_001`, one answer for all; a wrong expiry or CVC on a card waiting for registration
/// counts as a wrong attempt of D19, and the fifth locks it.
///
/// # Errors
/// The refusal, with the wrong attempt it records.
pub const fn decide_unregistered_inquiry(
    card: Option<&PrintedCardFacts>,
) -> Result<(), RegistrationRefusal> {
    let invalid = RegistrationRefusal {
        code: ErrorCode::InvalidCardInfo,
        wrong_attempts: None,
    };
    let Some(card) = card else {
        return Err(invalid);
    };
    if !matches!(card.kind, CardKind::Physical)
        || !matches!(card.status, CardStatus::Inactive)
        || card.wrong_attempts >= MOST_WRONG_REGISTRATIONS
    {
        return Err(invalid);
    }
    if card.expiry_matches && card.cvc_matches {
        Ok(())
    } else {
        Err(RegistrationRefusal {
            code: ErrorCode::InvalidCardInfo,
            wrong_attempts: Some(card.wrong_attempts + 1),
        })
    }
}

#[cfg(test)]
mod tests;
