//! The error-code catalogue, and (in `field`) the errors of value constructors.
//!
//! Every code this service can answer with is one [`ErrorCode`] variant, with its code string,
//! its message and its HTTP status class in one table ([`ErrorCode::ALL`]).

use std::fmt;

mod field;

pub(crate) use field::check_char_length;
pub use field::{Field, FieldError, Rule};

/// One entry of the error-code catalogue: the documented codes of the platform that this
/// service returns, and this project's own codes for what the platform leaves undefined
/// (authentication D3, the tran token D4, encryption D5 and idempotency D6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `000_000`: the request succeeded.
    Success,
    /// `000_002`: a value is invalid (wrong type, out of range, bad format, unknown product).
    InvalidInput,
    /// `000_003`: a required value is absent or `null`.
    MissingValue,
    /// `000_015`: a string's length is outside its documented length or range.
    LengthMismatch,
    /// `001_006`: not a member, or a member who cancelled membership.
    WalletUserNotFound,
    /// `001_001`: a member of the project already holds the login id, the mobile number or the
    /// CI (D24).
    UserAlreadyExists,
    /// `001_045`: a wrong password, or a login id that no active member holds (D24).
    PasswordMismatch,
    /// `001_069`: the password is locked after five wrong attempts in a row (D24).
    PasswordLocked,
    /// `001_090` (own, D24): a member holding a suspended card cannot cancel membership.
    MemberHasSuspendedCard,
    /// `003_024`: a NORMAL product was asked for without delivery.
    DeliveryRequiredForNormalType,
    /// `003_001`: the card named is not one the caller may register: unknown, another member's,
    /// a wrong expiry or CVC, or locked (D19).
    InvalidCardInfo,
    /// `003_002`: an application is cancelled only on its day, in KST (D17).
    NotCancellableToday,
    /// `003_003`: the application, its delivery or its mobile card has gone too far to cancel
    /// (D17).
    NotCancellableInThisStatus,
    /// `003_012`: the application's card is not shipped yet (D19).
    CardIssueNotReady,
    /// `003_013`: no such application of the member (D17, D19).
    CardIssueNotFound,
    /// `003_014`: the mobile card to link is terminated (D19).
    DigitalCardTerminated,
    /// `003_091` (own, D18): the fulfilment partner reported a delivery status change that the
    /// delivery table does not allow.
    DeliveryChangeNotAllowed,
    /// `003_021`: no card of the member with this PAR (D20).
    ParNotFound,
    /// `003_022`: the card is terminated; its state cannot change (D20).
    CardAlreadyTerminated,
    /// `003_092` (own, D20): the card was locked after wrong registration attempts; only an
    /// operator may resume it.
    CardLocked,
    /// `003_093` (own, D20): a physical card not registered yet has no state a member may change.
    CardNotRegistered,
    /// `003_018`: the card was replaced by a reissue already (D22).
    CardAlreadyReissued,
    /// `003_020`: a reissue of the card is in progress (D22).
    ReissueInProgress,
    /// `003_090` (own, D22): the card to reissue is not suspended by a loss report.
    CardNotReportedLost,
    /// `003_048`: the new card's product is unknown, inactive or of another type (D22).
    InvalidNextServiceId,
    /// `003_004`: a renewal of the card was applied for already (D22).
    CardAlreadyRenewed,
    /// `003_008`: no card of the member with this card number, to renew (D22).
    CardNumberNotFound,
    /// `003_005`: the card to renew is neither `ACTIVE` nor `SUSPENDED` (D22).
    CardNotActiveOrSuspended,
    /// `003_006`: the card does not expire within 30 days (D22).
    NotDueForRenewal,
    /// `003_009`: the card's product can no longer be applied for (D22).
    ProductNotValidForReissue,
    /// `001_047`: no card of the member to discard with this PAR, or one already terminated
    /// (D21).
    NoCardToDiscard,
    /// `001_052`: the card still holds a balance (D21).
    CardHasBalance,
    /// `001_059`: the member's basic card (D24) is not discarded on its own.
    BasicCardNotDiscardable,
    /// `001_061`: a physical card linked to a mobile card goes only with it (D21).
    LinkedCardNotAlone,
    /// `000_090` (own, D3): unknown ASP id, or an access key that is unknown, inactive,
    /// discarded or of another ASP. The message never says which.
    AuthenticationFailed,
    /// `000_091` (own, D4): the tran token is malformed or its HMAC does not match the body.
    InvalidTranToken,
    /// `000_092` (own, D4): the request time is outside the accepted window of the server clock,
    /// or the token time does not match `X-KM-Tran-Time`.
    RequestTimeOutOfWindow,
    /// `000_093` (own, D4): the tran token was already accepted once.
    ReplayedTranToken,
    /// `000_094` (own, D6): the correlation id was already used with a different payload.
    CorrelationIdConflict,
    /// `000_095` (own, D5): the encrypted body could not be decrypted.
    DecryptionFailed,
    /// `000_096` (own): the request body is larger than the service accepts.
    PayloadTooLarge,
    /// `000_097` (own): no resource at this path.
    NotFound,
    /// `000_098` (own): the method is not allowed on this resource.
    MethodNotAllowed,
    /// `000_099` (own): the service could not complete the request or could not answer it; it
    /// may or may not have been carried out, and a retry with the same correlation id answers
    /// its outcome (or carries it out once).
    SystemError,
}

/// How a caller should read a code: the HTTP adapter maps each class to one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The request succeeded (HTTP 200).
    Success,
    /// The request is wrong or a business rule refused it (HTTP 400).
    Rejected,
    /// The caller could not be authenticated (HTTP 401).
    Unauthenticated,
    /// The body is too large (HTTP 413).
    TooLarge,
    /// No such resource (HTTP 404).
    NotFound,
    /// No such method on the resource (HTTP 405).
    MethodNotAllowed,
    /// The service failed (HTTP 500); the caller may retry with the same correlation id.
    Unavailable,
}

impl ErrorCode {
    /// Every code, in catalogue order.
    pub const ALL: [Self; 44] = [
        Self::Success,
        Self::InvalidInput,
        Self::MissingValue,
        Self::LengthMismatch,
        Self::WalletUserNotFound,
        Self::UserAlreadyExists,
        Self::PasswordMismatch,
        Self::PasswordLocked,
        Self::MemberHasSuspendedCard,
        Self::DeliveryRequiredForNormalType,
        Self::InvalidCardInfo,
        Self::NotCancellableToday,
        Self::NotCancellableInThisStatus,
        Self::CardIssueNotReady,
        Self::CardIssueNotFound,
        Self::DigitalCardTerminated,
        Self::DeliveryChangeNotAllowed,
        Self::ParNotFound,
        Self::CardAlreadyTerminated,
        Self::CardLocked,
        Self::CardNotRegistered,
        Self::NoCardToDiscard,
        Self::CardHasBalance,
        Self::BasicCardNotDiscardable,
        Self::LinkedCardNotAlone,
        Self::CardAlreadyReissued,
        Self::ReissueInProgress,
        Self::CardNotReportedLost,
        Self::InvalidNextServiceId,
        Self::CardAlreadyRenewed,
        Self::CardNumberNotFound,
        Self::CardNotActiveOrSuspended,
        Self::NotDueForRenewal,
        Self::ProductNotValidForReissue,
        Self::AuthenticationFailed,
        Self::InvalidTranToken,
        Self::RequestTimeOutOfWindow,
        Self::ReplayedTranToken,
        Self::CorrelationIdConflict,
        Self::DecryptionFailed,
        Self::PayloadTooLarge,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::SystemError,
    ];

    /// The code, `NNN_NNN`.
    pub const fn code(self) -> &'static str {
        self.entry().0
    }

    /// The message, without any field path.
    pub const fn message(self) -> &'static str {
        self.entry().1
    }

    /// How the code is to be read (and which HTTP status carries it).
    pub const fn class(self) -> ErrorClass {
        self.entry().2
    }

    /// Whether the platform documents this code (`false` for this project's own codes).
    pub const fn is_documented_by_platform(self) -> bool {
        matches!(
            self,
            Self::Success
                | Self::InvalidInput
                | Self::MissingValue
                | Self::LengthMismatch
                | Self::WalletUserNotFound
                | Self::UserAlreadyExists
                | Self::PasswordMismatch
                | Self::PasswordLocked
                | Self::DeliveryRequiredForNormalType
                | Self::InvalidCardInfo
                | Self::NotCancellableToday
                | Self::NotCancellableInThisStatus
                | Self::CardIssueNotReady
                | Self::CardIssueNotFound
                | Self::DigitalCardTerminated
                | Self::ParNotFound
                | Self::CardAlreadyTerminated
                | Self::NoCardToDiscard
                | Self::CardHasBalance
                | Self::BasicCardNotDiscardable
                | Self::LinkedCardNotAlone
                | Self::CardAlreadyReissued
                | Self::ReissueInProgress
                | Self::InvalidNextServiceId
                | Self::CardAlreadyRenewed
                | Self::CardNumberNotFound
                | Self::CardNotActiveOrSuspended
                | Self::NotDueForRenewal
                | Self::ProductNotValidForReissue
        )
    }

    /// The one table: code, message, class.
    #[expect(
        clippy::too_many_lines,
        reason = "the catalogue is one table, one short arm per code"
    )]
    const fn entry(self) -> (&'static str, &'static str, ErrorClass) {
        use ErrorClass::{
            MethodNotAllowed, NotFound, Rejected, Success, TooLarge, Unauthenticated, Unavailable,
        };
        match self {
            Self::Success => ("000_000", "Success.", Success),
            Self::InvalidInput => ("000_002", "Invalid input parameter.", Rejected),
            Self::MissingValue => ("000_003", "Missing required values.", Rejected),
            Self::LengthMismatch => ("000_015", "The length of value does not match.", Rejected),
            Self::WalletUserNotFound => ("001_006", "Wallet user not found.", Rejected),
            Self::UserAlreadyExists => ("001_001", "User already exists.", Rejected),
            Self::PasswordMismatch => ("001_045", "Wallet pin didn't match.", Rejected),
            Self::PasswordLocked => (
                "001_069",
                "Wallet login failed. User login attempt crossed please reset password.",
                Rejected,
            ),
            Self::MemberHasSuspendedCard => (
                "001_090",
                "Membership cannot be cancelled while a card is suspended.",
                Rejected,
            ),
            Self::DeliveryRequiredForNormalType => (
                "003_024",
                "Card delivery should be required in case of normal type.",
                Rejected,
            ),
            Self::InvalidCardInfo => ("003_001", "Invalid card info.", Rejected),
            Self::NotCancellableToday => (
                "003_002",
                "Card issue is not cancelable due to day.",
                Rejected,
            ),
            Self::NotCancellableInThisStatus => (
                "003_003",
                "Card issue is not cancelable due to status.",
                Rejected,
            ),
            Self::CardIssueNotReady => (
                "003_012",
                "Indicated card issue is not ready to active.",
                Rejected,
            ),
            Self::CardIssueNotFound => {
                ("003_013", "Indicated card issue not found error.", Rejected)
            }
            Self::DigitalCardTerminated => (
                "003_014",
                "Digital card is already terminated error.",
                Rejected,
            ),
            Self::DeliveryChangeNotAllowed => {
                ("003_091", "Delivery status cannot change so.", Rejected)
            }
            Self::ParNotFound => ("003_021", "Cannot find par.", Rejected),
            Self::CardNumberNotFound => ("003_008", "Par not found from cardNo.", Rejected),
            Self::CardAlreadyTerminated => ("003_022", "Card already terminated.", Rejected),
            Self::CardLocked => (
                "003_092",
                "Card is locked; only an operator can resume it.",
                Rejected,
            ),
            Self::CardNotRegistered => ("003_093", "Card is not registered yet.", Rejected),
            Self::CardAlreadyReissued => ("003_018", "Card is already reissued error.", Rejected),
            Self::ReissueInProgress => (
                "003_020",
                "There is in progress reissue type card apply no.",
                Rejected,
            ),
            Self::CardNotReportedLost => ("003_090", "Card is not reported lost.", Rejected),
            Self::InvalidNextServiceId => ("003_048", "Invalid next service id.", Rejected),
            Self::CardAlreadyRenewed => (
                "003_004",
                "Card issue status is not allowed to reissue.",
                Rejected,
            ),
            Self::CardNotActiveOrSuspended => (
                "003_005",
                "Card status is not active or suspended.",
                Rejected,
            ),
            Self::NotDueForRenewal => (
                "003_006",
                "Card expiry date is not proper to reissue.",
                Rejected,
            ),
            Self::ProductNotValidForReissue => (
                "003_009",
                "Not valid product for card issue type.",
                Rejected,
            ),
            Self::NoCardToDiscard => ("001_047", "Invalid card info.", Rejected),
            Self::CardHasBalance => ("001_052", "Active card has balance.", Rejected),
            Self::BasicCardNotDiscardable => ("001_059", "Can not delete basic card", Rejected),
            Self::LinkedCardNotAlone => (
                "001_061",
                "Cannot delete Sub card directly, Sub Card will be automatically deleted when Main card deleted.",
                Rejected,
            ),
            Self::AuthenticationFailed => ("000_090", "Authentication failed.", Unauthenticated),
            Self::InvalidTranToken => ("000_091", "Invalid transaction token.", Unauthenticated),
            Self::RequestTimeOutOfWindow => (
                "000_092",
                "Request time is outside the allowed window.",
                Unauthenticated,
            ),
            Self::ReplayedTranToken => (
                "000_093",
                "Transaction token has already been used.",
                Unauthenticated,
            ),
            Self::CorrelationIdConflict => (
                "000_094",
                "Correlation id was already used with a different request.",
                Rejected,
            ),
            Self::DecryptionFailed => (
                "000_095",
                "Encrypted data could not be decrypted.",
                Rejected,
            ),
            Self::PayloadTooLarge => ("000_096", "Request body is too large.", TooLarge),
            Self::NotFound => ("000_097", "Resource not found.", NotFound),
            Self::MethodNotAllowed => ("000_098", "Method not allowed.", MethodNotAllowed),
            Self::SystemError => (
                "000_099",
                "Temporary system error. Retry with the same correlation id.",
                Unavailable,
            ),
        }
    }

    /// The code whose string is `code`, if it is in the catalogue.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.code() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_and_shaped_nnn_underscore_nnn() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.code();
            assert!(seen.insert(text), "duplicate code {text}");
            let bytes = text.as_bytes();
            assert_eq!(bytes.len(), 7, "{text}");
            assert_eq!(bytes[3], b'_', "{text}");
            assert!(
                bytes[..3].iter().chain(&bytes[4..]).all(u8::is_ascii_digit),
                "{text}"
            );
            assert_eq!(ErrorCode::from_code(text), Some(code));
        }
    }

    #[test]
    fn own_codes_are_the_08x_and_09x_of_their_group_and_do_not_reuse_documented_ones() {
        let documented: Vec<&str> = ErrorCode::ALL
            .iter()
            .filter(|code| code.is_documented_by_platform())
            .map(|code| code.code())
            .collect();
        for code in ErrorCode::ALL {
            if !code.is_documented_by_platform() {
                let text = code.code();
                assert!(
                    ["000_", "001_", "003_"]
                        .iter()
                        .any(|group| text.starts_with(group)),
                    "{code}"
                );
                assert!(
                    text[4..].starts_with("08") || text[4..].starts_with("09"),
                    "{code}"
                );
                assert!(!documented.contains(&text), "{code}");
            }
        }
        assert_eq!(ErrorCode::DeliveryChangeNotAllowed.code(), "003_091");
        assert_eq!(ErrorCode::CardLocked.code(), "003_092");
        assert_eq!(ErrorCode::CardNotRegistered.code(), "003_093");
        assert_eq!(ErrorCode::CardNotReportedLost.code(), "003_090");
        assert_eq!(ErrorCode::MemberHasSuspendedCard.code(), "001_090");
    }

    #[test]
    fn the_documented_messages_are_the_platform_ones() {
        assert_eq!(ErrorCode::Success.message(), "Success.");
        assert_eq!(
            ErrorCode::WalletUserNotFound.message(),
            "Wallet user not found."
        );
        assert_eq!(
            ErrorCode::DeliveryRequiredForNormalType.message(),
            "Card delivery should be required in case of normal type."
        );
        for (code, text, message) in [
            (ErrorCode::InvalidCardInfo, "003_001", "Invalid card info."),
            (
                ErrorCode::NotCancellableToday,
                "003_002",
                "Card issue is not cancelable due to day.",
            ),
            (
                ErrorCode::NotCancellableInThisStatus,
                "003_003",
                "Card issue is not cancelable due to status.",
            ),
            (
                ErrorCode::CardIssueNotReady,
                "003_012",
                "Indicated card issue is not ready to active.",
            ),
            (
                ErrorCode::CardIssueNotFound,
                "003_013",
                "Indicated card issue not found error.",
            ),
            (
                ErrorCode::DigitalCardTerminated,
                "003_014",
                "Digital card is already terminated error.",
            ),
            (ErrorCode::ParNotFound, "003_021", "Cannot find par."),
            (
                ErrorCode::UserAlreadyExists,
                "001_001",
                "User already exists.",
            ),
            (
                ErrorCode::CardNumberNotFound,
                "003_008",
                "Par not found from cardNo.",
            ),
            (
                ErrorCode::CardAlreadyTerminated,
                "003_022",
                "Card already terminated.",
            ),
            (ErrorCode::NoCardToDiscard, "001_047", "Invalid card info."),
            (
                ErrorCode::PasswordMismatch,
                "001_045",
                "Wallet pin didn't match.",
            ),
            (
                ErrorCode::PasswordLocked,
                "001_069",
                "Wallet login failed. User login attempt crossed please reset password.",
            ),
            (
                ErrorCode::CardAlreadyReissued,
                "003_018",
                "Card is already reissued error.",
            ),
            (
                ErrorCode::InvalidNextServiceId,
                "003_048",
                "Invalid next service id.",
            ),
            (
                ErrorCode::NotDueForRenewal,
                "003_006",
                "Card expiry date is not proper to reissue.",
            ),
            (
                ErrorCode::CardHasBalance,
                "001_052",
                "Active card has balance.",
            ),
            (
                ErrorCode::BasicCardNotDiscardable,
                "001_059",
                "Can not delete basic card",
            ),
            (
                ErrorCode::LinkedCardNotAlone,
                "001_061",
                "Cannot delete Sub card directly, Sub Card will be automatically deleted when Main card deleted.",
            ),
        ] {
            assert_eq!((code.code(), code.message()), (text, message));
            assert_eq!(code.class(), ErrorClass::Rejected);
            assert!(code.is_documented_by_platform());
        }
    }
}
