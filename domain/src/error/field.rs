//! The errors of value constructors: which field of the contract, which rule (D2). A
//! [`FieldError`] never carries the refused value.

use std::fmt;

use super::ErrorCode;

/// A field of the contract (a header or a body member), named by its path as D2 spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// `X-KM-User-AspId`.
    AspId,
    /// `X-KM-Correlation-Id`.
    CorrelationId,
    /// `X-KM-Access-Key`.
    AccessKey,
    /// `X-KM-Crypto-Key-Id`.
    CryptoKeyId,
    /// `X-KM-Tran-Token`.
    TranToken,
    /// `X-KM-Tran-Time`.
    TranTime,
    /// `X-KM-Time-Zone`.
    TimeZone,
    /// `userInfo`.
    UserInfo,
    /// `userInfo.userId`.
    UserId,
    /// `addressInfo`.
    AddressInfo,
    /// `addressInfo.address`.
    Address,
    /// `addressInfo.addressDetail`.
    AddressDetail,
    /// `addressInfo.zipCode`.
    ZipCode,
    /// `serviceId`.
    ServiceId,
    /// `isDeliveryRequired`.
    IsDeliveryRequired,
    /// `purpose`.
    Purpose,
    /// `encData` (the encrypted envelope, D5).
    EncData,
    /// The `Content-Type` header (must be JSON).
    ContentType,
    /// `cardApplyNo`.
    CardApplyNo,
    /// `mobileCardNo` (or any card number).
    CardNumber,
    /// `mobileCardCVC`.
    Cvc,
    /// `mobileCardPar`.
    Par,
    /// A card's own id (never on the wire; for stored values).
    CardId,
    /// A card expiry `YYMM`.
    Expiry,
    /// A card product's BIN.
    Bin,
    /// A card product's validity in years.
    Validity,
    /// A card product's name.
    ProductName,
    /// `loginId`.
    LoginId,
    /// `loginPassword`.
    LoginPassword,
    /// `birthDate`.
    BirthDate,
    /// `nationality`.
    Nationality,
    /// `gender`.
    Gender,
    /// `userName`.
    UserName,
    /// `mobileNumber`.
    MobileNumber,
    /// `email`.
    Email,
    /// `ci`.
    Ci,
    /// `joinChannel`.
    JoinChannel,
}

impl Field {
    /// The path as it appears in messages: a header name or a dotted JSON path.
    pub const fn path(self) -> &'static str {
        match self {
            Self::AspId => "X-KM-User-AspId",
            Self::CorrelationId => "X-KM-Correlation-Id",
            Self::AccessKey => "X-KM-Access-Key",
            Self::CryptoKeyId => "X-KM-Crypto-Key-Id",
            Self::TranToken => "X-KM-Tran-Token",
            Self::TranTime => "X-KM-Tran-Time",
            Self::TimeZone => "X-KM-Time-Zone",
            Self::UserInfo => "userInfo",
            Self::UserId => "userInfo.userId",
            Self::AddressInfo => "addressInfo",
            Self::Address => "addressInfo.address",
            Self::AddressDetail => "addressInfo.addressDetail",
            Self::ZipCode => "addressInfo.zipCode",
            Self::ServiceId => "serviceId",
            Self::IsDeliveryRequired => "isDeliveryRequired",
            Self::Purpose => "purpose",
            Self::EncData => "encData",
            Self::ContentType => "Content-Type",
            Self::CardApplyNo => "cardApplyNo",
            Self::CardNumber => "mobileCardNo",
            Self::Cvc => "mobileCardCVC",
            Self::Par => "mobileCardPar",
            Self::CardId => "cardId",
            Self::Expiry => "expiryDate",
            Self::Bin => "bin",
            Self::Validity => "validityYears",
            Self::ProductName => "serviceName",
            Self::LoginId => "loginId",
            Self::LoginPassword => "loginPassword",
            Self::BirthDate => "birthDate",
            Self::Nationality => "nationality",
            Self::Gender => "gender",
            Self::UserName => "userName",
            Self::MobileNumber => "mobileNumber",
            Self::Email => "email",
            Self::Ci => "ci",
            Self::JoinChannel => "joinChannel",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// Which rule a value broke (D2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Absent or `null`: `000_003`.
    Missing,
    /// Length outside its documented length or range: `000_015`.
    Length,
    /// Anything else (type, range, format, unknown value): `000_002`.
    Invalid,
}

impl Rule {
    /// The catalogue code of this rule.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::Missing => ErrorCode::MissingValue,
            Self::Length => ErrorCode::LengthMismatch,
            Self::Invalid => ErrorCode::InvalidInput,
        }
    }
}

/// A value refused by its constructor: which field, which rule.
///
/// It never carries the refused value, so it is safe to log even when the value was a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldError {
    field: Field,
    rule: Rule,
}

impl FieldError {
    /// A refusal of `field` for breaking `rule`.
    pub const fn new(field: Field, rule: Rule) -> Self {
        Self { field, rule }
    }

    /// `field` was absent or `null`.
    pub const fn missing(field: Field) -> Self {
        Self::new(field, Rule::Missing)
    }

    /// `field` had a length outside its range.
    pub const fn length(field: Field) -> Self {
        Self::new(field, Rule::Length)
    }

    /// `field` was invalid in any other way.
    pub const fn invalid(field: Field) -> Self {
        Self::new(field, Rule::Invalid)
    }

    /// The field.
    pub const fn field(&self) -> Field {
        self.field
    }

    /// The rule it broke.
    pub const fn rule(&self) -> Rule {
        self.rule
    }

    /// The catalogue code (D2).
    pub const fn code(&self) -> ErrorCode {
        self.rule.code()
    }
}

impl fmt::Display for FieldError {
    /// `Invalid input parameter. serviceId`: the D2 message with its path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code().message(), self.field.path())
    }
}

impl std::error::Error for FieldError {}

/// Checks that `value` has between `min` and `max` characters (not bytes).
pub(crate) fn check_char_length(
    value: &str,
    min: usize,
    max: usize,
    field: Field,
) -> Result<(), FieldError> {
    // Counting stops one past `max`, so a huge value costs no more than a short one.
    let count = value.chars().take(max + 1).count();
    if count < min || count > max {
        return Err(FieldError::length(field));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_reads_as_the_d2_message_with_its_path() {
        let error = FieldError::invalid(Field::ServiceId);
        assert_eq!(error.to_string(), "Invalid input parameter. serviceId");
        assert_eq!(
            FieldError::missing(Field::UserId).to_string(),
            "Missing required values. userInfo.userId"
        );
        assert_eq!(
            FieldError::length(Field::ZipCode).to_string(),
            "The length of value does not match. addressInfo.zipCode"
        );
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let korean = "가".repeat(255);
        assert!(korean.len() > 255);
        assert!(check_char_length(&korean, 1, 255, Field::Address).is_ok());
        assert!(check_char_length(&"가".repeat(256), 1, 255, Field::Address).is_err());
        assert!(check_char_length("", 1, 255, Field::Address).is_err());
    }
}
