//! Members of the wallet: who may apply for a card (D9).

use std::fmt;

use crate::application::CardStatus;
use crate::error::{ErrorCode, Field, FieldError};

/// `userInfo.userId`: a member id from 1 to 9 999 999 999 999 999 999 (19 nines), wider than
/// `i64` and held exactly in a `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(u64);

impl MemberId {
    /// The smallest member id.
    pub const MIN: u64 = 1;
    /// The largest member id, 19 nines.
    pub const MAX: u64 = 9_999_999_999_999_999_999;

    /// A member id, if `value` is in range; otherwise `000_002 userInfo.userId`.
    pub fn new(value: u64) -> Result<Self, FieldError> {
        if (Self::MIN..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(FieldError::invalid(Field::UserId))
        }
    }

    /// Reads the text of a JSON number as a member id: plain decimal digits with no sign,
    /// fraction or exponent (D9: a fraction or a negative number is invalid), in range.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let invalid = FieldError::invalid(Field::UserId);
        // Digits only (Rust's parse would take a `+`), and no leading zero (`0` alone is out of
        // range anyway); the empty text and a value past 64 bits fail to parse.
        if !text.bytes().all(|byte| byte.is_ascii_digit()) || text.starts_with('0') {
            return Err(invalid);
        }
        text.parse::<u64>().map_err(|_| invalid).and_then(Self::new)
    }

    /// The id.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// A new member id drawn uniformly from the whole range (D24: unpredictable), from 64-bit
    /// random values: a draw at or past the range's size is drawn again (about 46 in 100), so
    /// that no id is likelier than another. Uniqueness is the store's (a taken id is drawn
    /// again there).
    pub fn draw(random: &mut impl FnMut() -> u64) -> Self {
        loop {
            let value = random();
            if value < Self::MAX {
                return Self(value + 1);
            }
        }
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whether a membership is in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    /// A member who may apply for cards.
    Active,
    /// A member who cancelled membership: treated exactly as a non-member (`001_006`).
    Cancelled,
}

impl MemberStatus {
    /// The status name, as stored and configured.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Reads a status name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(Self::Active),
            "CANCELLED" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// A member of the wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// The member's id.
    pub id: MemberId,
    /// Whether the membership is in force.
    pub status: MemberStatus,
}

impl Member {
    /// Whether this member may apply for a card.
    pub const fn may_apply(&self) -> bool {
        matches!(self.status, MemberStatus::Active)
    }
}

/// Why a membership is not cancelled (D24).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancellationRefusal {
    /// `001_090`: a card is suspended (a reported loss waits for its reissue or its resumption).
    SuspendedCard,
}

impl CancellationRefusal {
    /// The catalogue code of this refusal.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::SuspendedCard => ErrorCode::MemberHasSuspendedCard,
        }
    }
}

/// Whether a member whose cards are in `statuses` may cancel membership: not while one of them
/// is suspended. Cancelling terminates every card that is not terminated yet.
///
/// # Errors
/// [`CancellationRefusal::SuspendedCard`] when a card is `SUSPENDED`.
pub fn decide_cancellation(
    statuses: impl IntoIterator<Item = CardStatus>,
) -> Result<(), CancellationRefusal> {
    if statuses
        .into_iter()
        .any(|status| status == CardStatus::Suspended)
    {
        Err(CancellationRefusal::SuspendedCard)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_membership_is_cancelled_unless_a_card_is_suspended() {
        use super::{CancellationRefusal, CardStatus, decide_cancellation};
        assert_eq!(decide_cancellation([]), Ok(()));
        assert_eq!(
            decide_cancellation([
                CardStatus::Inactive,
                CardStatus::Active,
                CardStatus::Terminated
            ]),
            Ok(())
        );
        assert_eq!(
            decide_cancellation([CardStatus::Active, CardStatus::Suspended]),
            Err(CancellationRefusal::SuspendedCard)
        );
        assert_eq!(CancellationRefusal::SuspendedCard.code().code(), "001_090");
    }

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_bounds_are_one_and_nineteen_nines() {
        assert_eq!(MemberId::parse("1").map(MemberId::get), Ok(1));
        assert_eq!(
            MemberId::parse("9999999999999999999").map(MemberId::get),
            Ok(9_999_999_999_999_999_999)
        );
        let invalid = Err(FieldError::invalid(Field::UserId));
        assert_eq!(MemberId::parse("0"), invalid);
        assert_eq!(MemberId::parse("10000000000000000000"), invalid);
        assert_eq!(MemberId::parse("18446744073709551616"), invalid);
        assert_eq!(MemberId::parse("123456789012345678901234"), invalid);
    }

    #[test]
    fn fractions_signs_exponents_and_leading_zeros_are_invalid() {
        for text in ["1.0", "1.5", "-1", "+1", "1e3", "01", "", " 1"] {
            assert_eq!(
                MemberId::parse(text),
                Err(FieldError::invalid(Field::UserId)),
                "{text}"
            );
        }
    }

    #[test]
    fn only_active_members_may_apply() {
        let id = MemberId::new(7).unwrap();
        assert!(
            Member {
                id,
                status: MemberStatus::Active
            }
            .may_apply()
        );
        assert!(
            !Member {
                id,
                status: MemberStatus::Cancelled
            }
            .may_apply()
        );
    }

    proptest! {
        #[test]
        fn every_id_in_range_round_trips_through_text(value in MemberId::MIN..=MemberId::MAX) {
            let id = MemberId::parse(&value.to_string()).unwrap();
            prop_assert_eq!(id.get(), value);
        }

        #[test]
        fn every_id_above_range_is_refused(value in (MemberId::MAX + 1)..=u64::MAX) {
            prop_assert_eq!(MemberId::new(value), Err(FieldError::invalid(Field::UserId)));
            prop_assert_eq!(MemberId::parse(&value.to_string()), Err(FieldError::invalid(Field::UserId)));
        }
    }

    #[test]
    fn each_status_reads_back_from_its_name_and_nothing_else_reads() {
        for status in [MemberStatus::Active, MemberStatus::Cancelled] {
            assert_eq!(MemberStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(MemberStatus::Active.as_str(), "ACTIVE");
        assert_eq!(MemberStatus::Cancelled.as_str(), "CANCELLED");
        assert_eq!(MemberStatus::parse("active"), None);
        assert_eq!(MemberStatus::parse(""), None);
    }
}
