//! Card numbers and what goes with them (D7): PAN with its Luhn check digit, CVC, PAR, expiry,
//! and the card application number.
//!
//! The PAN and the CVC are secrets: their `Debug` shows at most the masked PAN and never the
//! CVC, and neither has `Display`.

use std::fmt;

use crate::error::{Field, FieldError, check_char_length};
use crate::time::{DateTime, TimeZone, Timestamp};

/// Upper-case letters and digits, the alphabet of PARs and application numbers.
const BASE36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A character of [`BASE36`] drawn from a random 64-bit value (the modulo bias is below 2^-59).
fn base36_char(random: u64) -> char {
    // The remainder is below 36, so the index is in range.
    char::from(BASE36[usize::try_from(random % 36).unwrap_or(0)])
}

/// The Luhn (ISO/IEC 7812) check digit to append to `payload` (ASCII digits).
pub fn luhn_check_digit(payload: &str) -> u8 {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    // The result is a single digit.
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// Whether `number` (ASCII digits, check digit last) passes the Luhn check.
pub fn luhn_valid(number: &str) -> bool {
    match number.split_at_checked(number.len().saturating_sub(1)) {
        Some((payload, check)) if !check.is_empty() => {
            check.as_bytes()[0] - b'0' == luhn_check_digit(payload)
        }
        _ => false,
    }
}

/// A card product's BIN (issuer identification number): 6 or 8 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bin(String);

impl Bin {
    /// Parses a BIN.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        if !(text.len() == 6 || text.len() == 8) {
            return Err(FieldError::length(Field::Bin));
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(FieldError::invalid(Field::Bin));
        }
        Ok(Self(text.to_owned()))
    }

    /// The BIN's digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many account digits a 16-digit PAN with this BIN has (9 or 7).
    pub fn account_digits(&self) -> usize {
        Pan::LENGTH - 1 - self.0.len()
    }

    /// How many card numbers the BIN holds: 10 to the power of its account digits (10⁹ or
    /// 10⁷).
    pub fn account_capacity(&self) -> u64 {
        // 7 or 9 digits: the power fits in a u64.
        10_u64.pow(u32::try_from(self.account_digits()).unwrap_or(9))
    }
}

/// A card number (PAN): 16 digits, Luhn-valid. Secret: `Debug` shows it masked, there is no
/// `Display`, and [`Pan::expose`] must only be used to encrypt it or to answer its owner.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pan(String);

impl Pan {
    /// The length of every PAN this service issues.
    pub const LENGTH: usize = 16;

    /// Parses a card number: 16 characters (`000_015`), all digits, Luhn-valid (`000_002`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::CardNumber)?;
        if !text.bytes().all(|byte| byte.is_ascii_digit()) || !luhn_valid(text) {
            return Err(FieldError::invalid(Field::CardNumber));
        }
        Ok(Self(text.to_owned()))
    }

    /// The PAN made of `bin`, the account number `account` (reduced to the account digits the
    /// BIN leaves, zero-padded) and the Luhn check digit.
    pub fn compose(bin: &Bin, account: u64) -> Self {
        let width = bin.account_digits();
        // `width` is 7 or 9, so the power fits in a u64 and the cast is exact.
        let modulus = 10_u64.pow(u32::try_from(width).unwrap_or(9));
        let payload = format!("{}{:0width$}", bin.as_str(), account % modulus);
        let check = luhn_check_digit(&payload);
        Self(format!("{payload}{check}"))
    }

    /// A new PAN for `bin` with account digits drawn from `random`.
    pub fn generate(bin: &Bin, random: &mut impl FnMut() -> u64) -> Self {
        Self::compose(bin, random())
    }

    /// The digits. Only to encrypt the PAN or to answer the card's owner; never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first six digits (the BIN part shown by masks).
    pub fn first_six(&self) -> &str {
        &self.0[..6]
    }

    /// The last four digits.
    pub fn last_four(&self) -> &str {
        &self.0[12..]
    }

    /// The PAN as it may be displayed or logged (PCI DSS 3.4.1): the first 6 and the last 4
    /// digits, the rest as `*`.
    pub fn masked(&self) -> String {
        format!("{}******{}", self.first_six(), self.last_four())
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

/// A card verification code: 3 digits. Derived on demand, never stored (D7); `Debug` is
/// redacted and there is no `Display`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cvc(String);

impl Cvc {
    /// Parses a CVC: 3 characters (`000_015`), all digits (`000_002`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 3, 3, Field::Cvc)?;
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(FieldError::invalid(Field::Cvc));
        }
        Ok(Self(text.to_owned()))
    }

    /// The digits. Only to answer the card's owner; never to log or store.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

/// A card's own id in this service: 32 lower-case hex digits, the millisecond it was made (48
/// bits) then 80 random bits, so that ids made later sort later (new cards land at the end of
/// the index that keys them, not at a random place). Unlike the PAR it never changes and is
/// never shown to a caller; the card's encrypted PAN is bound to it, and a physical card links
/// to its mobile card by it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardId(String);

impl CardId {
    /// The exact length.
    pub const LENGTH: usize = 32;

    /// Parses a card id: 32 characters (`000_015`), lower-case hex digits (`000_002`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::CardId)?;
        if !text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        {
            return Err(FieldError::invalid(Field::CardId));
        }
        Ok(Self(text.to_owned()))
    }

    /// A new id made at `now`, with 80 bits drawn from `random` (two draws).
    pub fn generate(now: Timestamp, random: &mut impl FnMut() -> u64) -> Self {
        let millis = u64::try_from(now.as_millis()).unwrap_or(0) & 0xffff_ffff_ffff;
        let (high, low) = (random() & 0xffff, random());
        Self(format!("{millis:012x}{high:04x}{low:016x}"))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Payment Account Reference: 27 upper-case letters and digits, random, not derived from the
/// PAN (D7). Not a secret: it cannot be used to pay and is safe to log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Par(String);

impl Par {
    /// The length of a PAR on this platform (`EMVCo`'s is 29; see `docs/API.md`).
    pub const LENGTH: usize = 27;

    /// Parses a PAR.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::Par)?;
        if !text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase())
        {
            return Err(FieldError::invalid(Field::Par));
        }
        Ok(Self(text.to_owned()))
    }

    /// A new PAR, one character per value drawn from `random`.
    pub fn generate(random: &mut impl FnMut() -> u64) -> Self {
        Self((0..Self::LENGTH).map(|_| base36_char(random())).collect())
    }

    /// The PAR.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Par {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A card product's validity in whole years (1 to 10; D7 default 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Validity(u8);

impl Validity {
    /// The default validity: 5 years.
    pub const DEFAULT: Self = Self(5);

    /// A validity of `years`, 1 to 10.
    pub fn from_years(years: u8) -> Result<Self, FieldError> {
        if (1..=10).contains(&years) {
            Ok(Self(years))
        } else {
            Err(FieldError::invalid(Field::Validity))
        }
    }

    /// The validity in years.
    pub const fn years(self) -> u8 {
        self.0
    }
}

impl Default for Validity {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A card's expiry: the last day of a month, written `YYMM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Expiry {
    year: u16,
    month: u8,
}

impl Expiry {
    /// Parses `YYMM` (years 2000 to 2099, months 01 to 12).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 4, 4, Field::Expiry)?;
        let invalid = FieldError::invalid(Field::Expiry);
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid);
        }
        let year = 2000 + text[..2].parse::<u16>().map_err(|_| invalid)?;
        let month = text[2..].parse::<u8>().map_err(|_| invalid)?;
        if !(1..=12).contains(&month) {
            return Err(invalid);
        }
        Ok(Self { year, month })
    }

    /// D7: the month-end of the issue month plus the product's validity.
    pub fn from_issue(issued: DateTime, validity: Validity) -> Self {
        Self {
            year: issued.year() + u16::from(validity.years()),
            month: issued.month(),
        }
    }

    /// D7, for an issue at instant `issued` read in Korea Standard Time (the platform's zone).
    pub fn from_issue_instant(issued: Timestamp, validity: Validity) -> Option<Self> {
        issued
            .civil(TimeZone::Kst)
            .map(|civil| Self::from_issue(civil, validity))
    }

    /// The full year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// `YYMM`.
    pub fn to_yymm(self) -> String {
        format!("{:02}{:02}", self.year % 100, self.month)
    }

    /// `YYMMDD`, the card's last valid day: the last day of its month (the registration's basic
    /// card answers its expiry so, D24).
    pub fn to_yymmdd(self) -> String {
        format!(
            "{}{:02}",
            self.to_yymm(),
            crate::time::days_in_month(self.year, self.month)
        )
    }
}

/// `cardApplyNo`: 22 upper-case letters and digits, unique, sortable by creation time (D7).
///
/// This service makes them as the creation time `yyyyMMddHHmmssSSS` (UTC) followed by 5 random
/// base-36 characters; any 22 upper-case letters and digits are accepted when parsing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardApplyNo(String);

impl CardApplyNo {
    /// The exact length.
    pub const LENGTH: usize = 22;

    /// Parses an application number.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::CardApplyNo)?;
        if !text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase())
        {
            return Err(FieldError::invalid(Field::CardApplyNo));
        }
        Ok(Self(text.to_owned()))
    }

    /// A new number for an application created at `now`, with 5 characters drawn from `random`.
    /// `None` when `now` is outside years 1 to 9999.
    pub fn generate(now: Timestamp, random: &mut impl FnMut() -> u64) -> Option<Self> {
        let civil = now.civil(TimeZone::Utc)?;
        let mut text = civil.to_digits17();
        text.extend((0..5).map(|_| base36_char(random())));
        Some(Self(text))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardApplyNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_card_id_is_32_lower_case_hex_digits() {
        assert!(CardId::parse(&"0a".repeat(16)).is_ok());
        assert_eq!(
            CardId::parse(&"0".repeat(31)).unwrap_err().code().code(),
            "000_015"
        );
        assert_eq!(
            CardId::parse(&"0".repeat(33)).unwrap_err().code().code(),
            "000_015"
        );
        for wrong in [
            "A".repeat(32),
            "g".repeat(32),
            format!("{}-", "0".repeat(31)),
        ] {
            assert_eq!(CardId::parse(&wrong).unwrap_err().code().code(), "000_002");
        }
    }

    proptest! {
        #[test]
        fn a_generated_card_id_parses_and_holds_its_time_and_draws(
            millis in 0_i64..(1 << 48),
            high in any::<u64>(),
            low in any::<u64>(),
        ) {
            let mut draws = [high, low].into_iter();
            let id = CardId::generate(Timestamp::from_millis(millis), &mut || draws.next().unwrap());
            prop_assert_eq!(CardId::parse(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(i64::from_str_radix(&id.as_str()[..12], 16), Ok(millis));
            prop_assert_eq!(u64::from_str_radix(&id.as_str()[12..16], 16), Ok(high & 0xffff));
            prop_assert_eq!(u64::from_str_radix(&id.as_str()[16..], 16), Ok(low));
        }

        #[test]
        fn a_card_id_made_later_sorts_later(
            earlier in 0_i64..(1 << 47),
            later_by in 1_i64..(1 << 46),
            draws in any::<[u64; 4]>(),
        ) {
            let mut first = draws[..2].iter().copied();
            let mut second = draws[2..].iter().copied();
            let a = CardId::generate(Timestamp::from_millis(earlier), &mut || first.next().unwrap());
            let b = CardId::generate(
                Timestamp::from_millis(earlier + later_by),
                &mut || second.next().unwrap(),
            );
            prop_assert!(a < b);
        }
    }

    #[test]
    fn the_luhn_check_digit_of_a_known_number_is_right() {
        // 4111 1111 1111 1111 is the well-known Luhn-valid test number.
        assert_eq!(luhn_check_digit("411111111111111"), 1);
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn a_pan_is_sixteen_luhn_valid_digits() {
        assert!(Pan::parse("4111111111111111").is_ok());
        assert_eq!(
            Pan::parse("4111111111111112"),
            Err(FieldError::invalid(Field::CardNumber))
        );
        assert_eq!(
            Pan::parse("411111111111111"),
            Err(FieldError::length(Field::CardNumber))
        );
        assert_eq!(
            Pan::parse("411111111111111a"),
            Err(FieldError::invalid(Field::CardNumber))
        );
    }

    #[test]
    fn a_pan_is_masked_in_debug_output() {
        let pan = Pan::parse("4111111111111111").unwrap();
        assert_eq!(pan.masked(), "411111******1111");
        assert_eq!(format!("{pan:?}"), "Pan(411111******1111)");
    }

    #[test]
    fn a_cvc_never_shows_in_debug_output() {
        let cvc = Cvc::parse("856").unwrap();
        assert!(!format!("{cvc:?}").contains("856"));
        assert_eq!(Cvc::parse("85"), Err(FieldError::length(Field::Cvc)));
        assert_eq!(Cvc::parse("8a6"), Err(FieldError::invalid(Field::Cvc)));
    }

    #[test]
    fn expiry_is_the_issue_month_plus_the_validity() {
        let issued = DateTime::new(2026, 11, 25, 10, 0, 0).unwrap();
        let expiry = Expiry::from_issue(issued, Validity::DEFAULT);
        assert_eq!(expiry.to_yymm(), "3111");
        assert_eq!(expiry.to_yymmdd(), "311130");
        assert_eq!(Expiry::parse("3111"), Ok(expiry));
        assert_eq!(
            Expiry::parse("3113"),
            Err(FieldError::invalid(Field::Expiry))
        );
    }

    #[test]
    fn expiry_follows_the_korean_calendar_at_month_boundaries() {
        // 2026-11-30T16:00Z is already December 1st in Seoul.
        let instant = DateTime::new(2026, 11, 30, 16, 0, 0)
            .unwrap()
            .in_zone(TimeZone::Utc);
        let expiry = Expiry::from_issue_instant(instant, Validity::DEFAULT).unwrap();
        assert_eq!(expiry.to_yymm(), "3112");
        assert_eq!(expiry.to_yymmdd(), "311231");
        assert_eq!(
            Expiry::parse("2802").unwrap().to_yymmdd(),
            "280229",
            "a leap year"
        );
        assert_eq!(Expiry::parse("2702").unwrap().to_yymmdd(), "270228");
    }

    #[test]
    fn validity_is_one_to_ten_years() {
        assert!(Validity::from_years(0).is_err());
        assert!(Validity::from_years(11).is_err());
        assert_eq!(Validity::from_years(3).map(Validity::years), Ok(3));
    }

    #[test]
    fn application_numbers_sort_by_creation_time() {
        let mut zero = || 0;
        let mut max = || 35;
        let earlier =
            CardApplyNo::generate(Timestamp::from_millis(1_764_000_000_000), &mut max).unwrap();
        let later =
            CardApplyNo::generate(Timestamp::from_millis(1_764_000_000_001), &mut zero).unwrap();
        assert!(earlier < later);
        assert_eq!(earlier.as_str().len(), 22);
    }

    fn bins() -> impl Strategy<Value = Bin> {
        prop_oneof!["[0-9]{6}", "[0-9]{8}"].prop_map(|text| Bin::parse(&text).unwrap())
    }

    proptest! {
        #[test]
        fn generated_pans_are_luhn_valid_and_carry_the_bin(bin in bins(), account: u64) {
            let pan = Pan::compose(&bin, account);
            prop_assert_eq!(pan.expose().len(), 16);
            prop_assert!(pan.expose().starts_with(bin.as_str()));
            prop_assert_eq!(Pan::parse(pan.expose()), Ok(pan.clone()));
        }

        #[test]
        fn masking_never_shows_more_than_ten_digits(bin in bins(), account: u64) {
            let pan = Pan::compose(&bin, account);
            let masked = pan.masked();
            prop_assert!(masked.bytes().filter(u8::is_ascii_digit).count() <= 10);
            let shown = format!("{pan:?}");
            prop_assert!(!shown.contains(pan.expose()));
        }

        #[test]
        fn changing_one_digit_breaks_the_luhn_check(bin in bins(), account: u64, position in 0_usize..16, delta in 1_u8..10) {
            let pan = Pan::compose(&bin, account);
            let mut bytes = pan.expose().as_bytes().to_vec();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(Pan::parse(&altered), Err(FieldError::invalid(Field::CardNumber)));
        }

        #[test]
        fn generated_pars_are_27_upper_case_letters_and_digits(seed: u64) {
            let mut state = seed;
            let mut random = || { state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1); state >> 11 };
            let par = Par::generate(&mut random);
            prop_assert_eq!(Par::parse(par.as_str()), Ok(par.clone()));
        }

        #[test]
        fn generated_application_numbers_parse_back(millis in 0_i64..253_402_300_799_000, seed: u64) {
            let mut random = || seed;
            let number = CardApplyNo::generate(Timestamp::from_millis(millis), &mut random).unwrap();
            prop_assert_eq!(CardApplyNo::parse(number.as_str()), Ok(number.clone()));
        }

        #[test]
        fn strings_of_other_lengths_are_length_errors(text in "\\PC{0,40}") {
            let chars = text.chars().count();
            if chars != 27 { prop_assert_eq!(Par::parse(&text), Err(FieldError::length(Field::Par))); }
            if chars != 22 { prop_assert_eq!(CardApplyNo::parse(&text), Err(FieldError::length(Field::CardApplyNo))); }
            if chars != 16 { prop_assert_eq!(Pan::parse(&text), Err(FieldError::length(Field::CardNumber))); }
        }
    }
}
