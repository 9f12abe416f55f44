//! Card products (`serviceId`, D8) and the issue purpose.

use std::fmt;

use crate::card::{Bin, Validity};
use crate::error::{Field, FieldError, check_char_length};

/// `serviceId`: a card product's 15-character id (ASCII letters and digits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(String);

impl ServiceId {
    /// The exact length.
    pub const LENGTH: usize = 15;

    /// Parses a product id.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::ServiceId)?;
        if !text.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(FieldError::invalid(Field::ServiceId));
        }
        Ok(Self(text.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A card product's display name: 1 to 255 characters, not blank.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProductName(String);

impl ProductName {
    /// Parses a product name.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 1, 255, Field::ProductName)?;
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            return Err(FieldError::invalid(Field::ProductName));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product's type (D8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProductType {
    /// A physical card must be delivered; a mobile-only request is refused with `003_024`.
    Normal,
    /// May be issued as a mobile card alone.
    Mobile,
}

impl ProductType {
    /// The type name, as configured and stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Mobile => "MOBILE",
        }
    }

    /// Reads a type name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "NORMAL" => Some(Self::Normal),
            "MOBILE" => Some(Self::Mobile),
            _ => None,
        }
    }
}

/// A prepaid-card product (D8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardProduct {
    /// The product id.
    pub id: ServiceId,
    /// The display name.
    pub name: ProductName,
    /// The BIN every card of this product starts with.
    pub bin: Bin,
    /// NORMAL or MOBILE.
    pub product_type: ProductType,
    /// Whether a mobile card is issued at application time, before the physical card.
    pub pre_issuance: bool,
    /// Whether `purpose=GIFTABLE` is allowed.
    pub giftable: bool,
    /// How long cards of this product are valid.
    pub validity: Validity,
    /// Whether the product can be applied for; an inactive product is `000_002 serviceId`.
    pub active: bool,
}

/// `purpose`: why a card is issued. 1 to 10 characters; the one known value is `GIFTABLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// A card created to be given as a gift.
    Giftable,
}

impl Purpose {
    /// Parses a purpose: 1 to 10 characters (`000_015`), `GIFTABLE` (`000_002` otherwise).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 1, 10, Field::Purpose)?;
        match text {
            "GIFTABLE" => Ok(Self::Giftable),
            _ => Err(FieldError::invalid(Field::Purpose)),
        }
    }

    /// The value as sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Giftable => "GIFTABLE",
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_service_id_is_fifteen_letters_or_digits() {
        assert!(ServiceId::parse("000170000002000").is_ok());
        assert_eq!(
            ServiceId::parse("00017000000200"),
            Err(FieldError::length(Field::ServiceId))
        );
        assert_eq!(
            ServiceId::parse("00017000000200!"),
            Err(FieldError::invalid(Field::ServiceId))
        );
    }

    #[test]
    fn the_only_purpose_is_giftable() {
        assert_eq!(Purpose::parse("GIFTABLE"), Ok(Purpose::Giftable));
        assert_eq!(
            Purpose::parse("giftable"),
            Err(FieldError::invalid(Field::Purpose))
        );
        assert_eq!(
            Purpose::parse("GIFT"),
            Err(FieldError::invalid(Field::Purpose))
        );
        assert_eq!(Purpose::parse(""), Err(FieldError::length(Field::Purpose)));
        assert_eq!(
            Purpose::parse("GIFTABLE123"),
            Err(FieldError::length(Field::Purpose))
        );
    }

    #[test]
    fn type_names_round_trip() {
        for kind in [ProductType::Normal, ProductType::Mobile] {
            assert_eq!(ProductType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ProductType::parse("normal"), None);
    }

    proptest! {
        #[test]
        fn purposes_other_than_giftable_are_refused_by_rule(text in "\\PC{0,14}") {
            let chars = text.chars().count();
            let expected = if !(1..=10).contains(&chars) {
                Err(FieldError::length(Field::Purpose))
            } else if text == "GIFTABLE" {
                Ok(Purpose::Giftable)
            } else {
                Err(FieldError::invalid(Field::Purpose))
            };
            prop_assert_eq!(Purpose::parse(&text), expected);
        }

        #[test]
        fn service_ids_round_trip(text in "[A-Za-z0-9]{15}") {
            let parsed = ServiceId::parse(&text).unwrap();
            prop_assert_eq!(parsed.as_str(), text.as_str());
        }
    }
}
