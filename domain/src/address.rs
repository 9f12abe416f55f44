//! The delivery address of a physical card (D10). Address fields are personal data: their
//! `Debug` is redacted so they never reach a log by accident.

use std::fmt;

use crate::error::{Field, FieldError, check_char_length};

/// Checks a free-text address line: 1 to 255 characters, not blank, no control characters.
fn parse_address_line(text: &str, field: Field) -> Result<String, FieldError> {
    check_char_length(text, 1, 255, field)?;
    if text.trim().is_empty() || text.chars().any(char::is_control) {
        return Err(FieldError::invalid(field));
    }
    Ok(text.to_owned())
}

/// `addressInfo.address`: the road-name address, 1 to 255 characters, stored as given.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RoadAddress(String);

impl RoadAddress {
    /// Parses the road-name address.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        parse_address_line(text, Field::Address).map(Self)
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `addressInfo.addressDetail`: the detailed address, 1 to 255 characters, stored as given.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AddressDetail(String);

impl AddressDetail {
    /// Parses the address detail.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        parse_address_line(text, Field::AddressDetail).map(Self)
    }

    /// The detail as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `addressInfo.zipCode`: a 5-digit Korean postal code.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ZipCode(String);

impl ZipCode {
    /// Parses a zip code: exactly 5 characters (`000_015` otherwise), all digits (`000_002`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 5, 5, Field::ZipCode)?;
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(FieldError::invalid(Field::ZipCode));
        }
        Ok(Self(text.to_owned()))
    }

    /// The zip code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a physical card is delivered.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeliveryAddress {
    /// The road-name address.
    pub address: RoadAddress,
    /// The detailed address.
    pub detail: AddressDetail,
    /// The postal code.
    pub zip_code: ZipCode,
}

macro_rules! redacted_debug {
    ($($name:ty),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<personal data>)"))
            }
        }
    )*};
}

redacted_debug!(RoadAddress, AddressDetail, ZipCode, DeliveryAddress);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_255_character_korean_address_is_kept_exactly() {
        let text = "서울특별시 강남구 테헤란로".repeat(20);
        let text: String = text.chars().take(255).collect();
        assert_eq!(RoadAddress::parse(&text).unwrap().as_str(), text);
    }

    #[test]
    fn empty_and_overlong_addresses_are_length_errors() {
        assert_eq!(
            RoadAddress::parse(""),
            Err(FieldError::length(Field::Address))
        );
        assert_eq!(
            AddressDetail::parse(&"x".repeat(256)),
            Err(FieldError::length(Field::AddressDetail))
        );
    }

    #[test]
    fn blank_addresses_and_control_characters_are_invalid() {
        assert_eq!(
            RoadAddress::parse("   "),
            Err(FieldError::invalid(Field::Address))
        );
        assert_eq!(
            AddressDetail::parse("101\u{0}호"),
            Err(FieldError::invalid(Field::AddressDetail))
        );
    }

    #[test]
    fn a_zip_code_is_five_digits() {
        assert!(ZipCode::parse("06236").is_ok());
        assert_eq!(
            ZipCode::parse("0623"),
            Err(FieldError::length(Field::ZipCode))
        );
        assert_eq!(
            ZipCode::parse("0623a"),
            Err(FieldError::invalid(Field::ZipCode))
        );
    }

    #[test]
    fn an_address_never_shows_in_debug_output() {
        let address = DeliveryAddress {
            address: RoadAddress::parse("테헤란로 1").unwrap(),
            detail: AddressDetail::parse("101호").unwrap(),
            zip_code: ZipCode::parse("06236").unwrap(),
        };
        let shown = format!("{address:?} {:?}", address.address);
        assert!(!shown.contains("테헤란로") && !shown.contains("06236"));
    }

    proptest! {
        #[test]
        fn any_printable_line_of_1_to_255_characters_round_trips(text in "[^\\p{Cc}\\s][^\\p{Cc}]{0,254}") {
            let parsed = RoadAddress::parse(&text).unwrap();
            prop_assert_eq!(parsed.as_str(), text.as_str());
        }

        #[test]
        fn any_line_longer_than_255_characters_is_a_length_error(text in "[^\\p{Cc}]{256,300}") {
            prop_assert_eq!(RoadAddress::parse(&text), Err(FieldError::length(Field::Address)));
        }

        #[test]
        fn five_digits_are_a_zip_code_and_nothing_else_is(text in "\\PC{0,7}") {
            let valid = text.len() == 5 && text.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(ZipCode::parse(&text).is_ok(), valid);
        }
    }
}
