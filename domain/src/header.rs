//! The values of the request headers: who calls (ASP id, access key), which request this is
//! (correlation id), when it was sent (tran time and zone), its integrity token and the crypto
//! key it was encrypted for.

use std::fmt;

use crate::error::{Field, FieldError, check_char_length};
use crate::time::{DateTime, TimeZone, Timestamp};

/// Checks an exact-length ASCII-alphanumeric identifier.
fn parse_alphanumeric(text: &str, length: usize, field: Field) -> Result<(), FieldError> {
    check_char_length(text, length, length, field)?;
    if !text.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return Err(FieldError::invalid(field));
    }
    Ok(())
}

macro_rules! alphanumeric_id {
    ($(#[$doc:meta])* $name:ident, $length:expr, $field:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The exact length, in characters.
            pub const LENGTH: usize = $length;

            /// Parses the value: exactly [`Self::LENGTH`] ASCII letters or digits.
            pub fn parse(text: &str) -> Result<Self, FieldError> {
                parse_alphanumeric(text, Self::LENGTH, $field)?;
                Ok(Self(text.to_owned()))
            }

            /// The value as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

alphanumeric_id!(
    /// `X-KM-User-AspId`: the 15-character id of the service provider (ASP).
    AspId,
    15,
    Field::AspId
);

alphanumeric_id!(
    /// `X-KM-Access-Key`: a project's 40-character access key. It names a secret key but is not
    /// one: it travels in every request.
    AccessKey,
    40,
    Field::AccessKey
);

alphanumeric_id!(
    /// `X-KM-Crypto-Key-Id`: the 32-character id of a project's crypto key pair.
    CryptoKeyId,
    32,
    Field::CryptoKeyId
);

/// `X-KM-Correlation-Id`: `yyMMddHHmmss-xxxxxxx`, a real date and time (years 2000 to 2099),
/// a hyphen and 7 hexadecimal digits. It is the idempotency key of a request (D6).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CorrelationId {
    text: String,
    time: DateTime,
}

impl CorrelationId {
    /// The exact length, in characters.
    pub const LENGTH: usize = 20;

    /// Parses a correlation id.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let field = Field::CorrelationId;
        check_char_length(text, Self::LENGTH, Self::LENGTH, field)?;
        let bytes = text.as_bytes();
        let well_formed = bytes.len() == Self::LENGTH
            && bytes[..12].iter().all(u8::is_ascii_digit)
            && bytes[12] == b'-'
            && bytes[13..].iter().all(u8::is_ascii_hexdigit);
        if !well_formed {
            return Err(FieldError::invalid(field));
        }
        let time = DateTime::parse_digits(&format!("20{}", &text[..12]))
            .ok_or(FieldError::invalid(field))?;
        Ok(Self {
            text: text.to_owned(),
            time,
        })
    }

    /// Builds the correlation id of a request sent at `at` (civil time) with a 28-bit `serial`.
    pub fn compose(at: DateTime, serial: u32) -> Option<Self> {
        let digits = at.to_digits14();
        Self::parse(&format!("{}-{:07x}", &digits[2..], serial & 0x0fff_ffff)).ok()
    }

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The date-time written in its first 12 digits (years 2000 to 2099).
    pub const fn time(&self) -> DateTime {
        self.time
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `X-KM-Tran-Time`: the client's request time `yyyyMMddHHmmss`, a real date and time, read
/// in the zone of `X-KM-Time-Zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TranTime(DateTime);

impl TranTime {
    /// The exact length, in characters.
    pub const LENGTH: usize = 14;

    /// Parses a tran time.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::TranTime)?;
        DateTime::parse_digits(text)
            .map(Self)
            .ok_or(FieldError::invalid(Field::TranTime))
    }

    /// The civil date-time.
    pub const fn civil(&self) -> DateTime {
        self.0
    }

    /// The instant it names in `zone`.
    pub fn instant(&self, zone: TimeZone) -> Timestamp {
        self.0.in_zone(zone)
    }
}

/// `X-KM-Tran-Token` (D4): `KMV1:` + `yyyyMMddHHmmssSSS` + `:` + standard Base64 of an
/// HMAC-SHA256, padded (67 characters) or not (66).
///
/// This type checks the shape only; the HMAC is checked by whoever holds the secret key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TranToken {
    time: DateTime,
    signature: String,
}

impl TranToken {
    /// The documented length, without Base64 padding.
    pub const UNPADDED_LENGTH: usize = 66;
    /// The length with Base64 padding, as the documented sample has it.
    pub const PADDED_LENGTH: usize = 67;
    /// The version prefix.
    pub const PREFIX: &'static str = "KMV1:";

    /// Parses a token: length 66 or 67, then the prefix, a real 17-digit time and Base64.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let field = Field::TranToken;
        check_char_length(text, Self::UNPADDED_LENGTH, Self::PADDED_LENGTH, field)?;
        let invalid = FieldError::invalid(field);
        let rest = text.strip_prefix(Self::PREFIX).ok_or(invalid)?;
        let (time, signature) = rest.split_once(':').ok_or(invalid)?;
        if time.len() != 17 {
            return Err(invalid);
        }
        let time = DateTime::parse_digits(time).ok_or(invalid)?;
        let body = signature.strip_suffix('=').unwrap_or(signature);
        let base64_alphabet =
            |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'+' || *byte == b'/';
        // 32 bytes of HMAC are 43 Base64 characters and one `=`; the last character carries
        // only 4 bits, so it must be one of the 16 characters whose low 2 bits are zero.
        if body.len() != 43 || !body.bytes().all(|byte| base64_alphabet(&byte)) {
            return Err(invalid);
        }
        if !body.ends_with(|last: char| "AEIMQUYcgkosw048".contains(last)) {
            return Err(invalid);
        }
        Ok(Self {
            time,
            signature: body.to_owned(),
        })
    }

    /// Builds the token text for `time` and the Base64 (unpadded or padded) `signature`.
    pub fn compose(time: DateTime, signature_base64: &str) -> String {
        format!(
            "{}{}:{}",
            Self::PREFIX,
            time.to_digits17(),
            signature_base64
        )
    }

    /// The time written in the token (with milliseconds).
    pub const fn time(&self) -> DateTime {
        self.time
    }

    /// The HMAC in standard Base64 without padding (43 characters).
    pub fn signature_base64(&self) -> &str {
        &self.signature
    }

    /// D4: the first 14 digits of the token time equal `X-KM-Tran-Time`.
    pub fn agrees_with(&self, tran_time: &TranTime) -> bool {
        self.time.to_digits14() == tran_time.civil().to_digits14()
    }
}

impl fmt::Debug for TranToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature is not a secret, but it is a bearer of integrity: keep it out of logs.
        f.debug_struct("TranToken")
            .field("time", &self.time.to_digits17())
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// A project's secret key, the HMAC key of the tran token. Its `Debug` is redacted and it has
/// no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// The fewest characters a secret key may have outside the sandbox.
    pub const MIN_LENGTH: usize = 32;

    /// A secret key of at least [`Self::MIN_LENGTH`] printable ASCII characters.
    pub fn parse(text: &str) -> Result<Self, WeakSecretKey> {
        if text.len() < Self::MIN_LENGTH || !text.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(WeakSecretKey);
        }
        Ok(Self(text.to_owned()))
    }

    /// The key's bytes, for computing the HMAC. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A secret key was too short or held characters other than printable ASCII.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeakSecretKey;

impl fmt::Display for WeakSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "secret key must have at least {} printable ASCII characters",
            SecretKey::MIN_LENGTH
        )
    }
}

impl std::error::Error for WeakSecretKey {}

/// How far a request time may be from the server clock, either way (D4, default 5 minutes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestWindow {
    millis: u64,
}

impl RequestWindow {
    /// The default window: 300 seconds.
    pub const DEFAULT: Self = Self { millis: 300_000 };

    /// A window of `seconds` (1 second to 1 day).
    pub fn from_seconds(seconds: u64) -> Option<Self> {
        (1..=86_400).contains(&seconds).then_some(Self {
            millis: seconds * 1_000,
        })
    }

    /// The window's width either way, in milliseconds.
    pub const fn millis(self) -> u64 {
        self.millis
    }

    /// Whether a request sent at `sent` is acceptable at server time `now`.
    ///
    /// `X-KM-Tran-Time` has whole seconds, so the window is widened by the second it truncates.
    pub fn admits(self, sent: Timestamp, now: Timestamp) -> bool {
        sent.distance_millis(now) <= self.millis + 999
    }
}

impl Default for RequestWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SAMPLE_TOKEN: &str =
        "KMV1:20221108120814608:uLD+mU8mz9K95neGiSJTSsF3zzAQJglCggZAOSs5Fkg=";

    #[test]
    fn the_documented_sample_token_is_accepted_padded_and_unpadded() {
        assert_eq!(SAMPLE_TOKEN.len(), 67);
        let padded = TranToken::parse(SAMPLE_TOKEN).unwrap();
        let unpadded = TranToken::parse(SAMPLE_TOKEN.trim_end_matches('=')).unwrap();
        assert_eq!(padded, unpadded);
        assert_eq!(padded.time().to_digits17(), "20221108120814608");
        assert!(padded.agrees_with(&TranTime::parse("20221108120814").unwrap()));
        assert!(!padded.agrees_with(&TranTime::parse("20221108120815").unwrap()));
    }

    #[test]
    fn a_token_of_the_wrong_length_is_a_length_error() {
        assert_eq!(
            TranToken::parse("KMV1:"),
            Err(FieldError::length(Field::TranToken))
        );
        assert_eq!(
            TranToken::parse(&format!("{SAMPLE_TOKEN}=")),
            Err(FieldError::length(Field::TranToken))
        );
    }

    #[test]
    fn a_token_of_the_right_length_but_wrong_shape_is_invalid() {
        let invalid = Err(FieldError::invalid(Field::TranToken));
        assert_eq!(
            TranToken::parse(&SAMPLE_TOKEN.replace("KMV1", "KMV2")),
            invalid
        );
        assert_eq!(
            TranToken::parse(&SAMPLE_TOKEN.replace("20221108", "20221308")),
            invalid
        );
        assert_eq!(TranToken::parse(&SAMPLE_TOKEN.replace('+', "-")), invalid);
        assert_eq!(
            TranToken::parse(&SAMPLE_TOKEN.replace("kg=", "kh=")),
            invalid
        );
    }

    #[test]
    fn the_token_debug_hides_the_signature() {
        let token = TranToken::parse(SAMPLE_TOKEN).unwrap();
        assert!(!format!("{token:?}").contains("uLD+"));
    }

    #[test]
    fn a_correlation_id_needs_a_real_time_and_seven_hex_digits() {
        assert!(CorrelationId::parse("261125153000-00a1B2f").is_ok());
        let invalid = Err(FieldError::invalid(Field::CorrelationId));
        assert_eq!(CorrelationId::parse("261325153000-00a1b2f"), invalid);
        assert_eq!(CorrelationId::parse("261125246000-00a1b2f"), invalid);
        assert_eq!(CorrelationId::parse("261125153000_00a1b2f"), invalid);
        assert_eq!(CorrelationId::parse("261125153000-00a1b2g"), invalid);
        assert_eq!(
            CorrelationId::parse("261125153000-00a1b2"),
            Err(FieldError::length(Field::CorrelationId))
        );
    }

    #[test]
    fn identifiers_have_their_exact_length_and_are_alphanumeric() {
        assert!(AspId::parse("ASP000000000001").is_ok());
        assert_eq!(
            AspId::parse("ASP00000000001"),
            Err(FieldError::length(Field::AspId))
        );
        assert_eq!(
            AspId::parse("ASP-00000000001"),
            Err(FieldError::invalid(Field::AspId))
        );
        assert!(AccessKey::parse(&"a".repeat(40)).is_ok());
        assert_eq!(
            AccessKey::parse(&"a".repeat(41)),
            Err(FieldError::length(Field::AccessKey))
        );
        assert!(CryptoKeyId::parse(&"0".repeat(32)).is_ok());
        assert_eq!(
            CryptoKeyId::parse(&"가".repeat(32)),
            Err(FieldError::invalid(Field::CryptoKeyId))
        );
    }

    #[test]
    fn a_secret_key_is_long_enough_and_never_shown() {
        assert_eq!(SecretKey::parse("short"), Err(WeakSecretKey));
        let key = SecretKey::parse(&"s".repeat(40)).unwrap();
        assert!(!format!("{key:?}").contains("ssss"));
    }

    #[test]
    fn the_window_admits_five_minutes_either_way() {
        let now = Timestamp::from_millis(1_000_000_000);
        let window = RequestWindow::DEFAULT;
        assert!(window.admits(now.plus_millis(-300_000), now));
        assert!(window.admits(now.plus_millis(300_000), now));
        assert!(!window.admits(now.plus_millis(-301_000), now));
        assert!(!window.admits(now.plus_millis(301_000), now));
    }

    proptest! {
        #[test]
        fn composed_correlation_ids_parse_back(millis in 946_684_800_000_i64..4_102_444_799_000, serial: u32) {
            let at = Timestamp::from_millis(millis).civil(TimeZone::Utc).unwrap();
            let id = CorrelationId::compose(at, serial).unwrap();
            prop_assert_eq!(CorrelationId::parse(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(id.time().to_digits14(), at.to_digits14());
        }

        #[test]
        fn any_string_of_the_wrong_length_is_a_length_error(text in "\\PC{0,60}") {
            let chars = text.chars().count();
            if chars != 15 {
                prop_assert_eq!(AspId::parse(&text), Err(FieldError::length(Field::AspId)));
            }
            if chars != 20 {
                prop_assert_eq!(CorrelationId::parse(&text), Err(FieldError::length(Field::CorrelationId)));
            }
            if chars != 14 {
                prop_assert_eq!(TranTime::parse(&text), Err(FieldError::length(Field::TranTime)));
            }
        }

        #[test]
        fn valid_identifiers_round_trip(text in "[A-Za-z0-9]{15}") {
            let parsed = AspId::parse(&text).unwrap();
            prop_assert_eq!(parsed.as_str(), text.as_str());
        }

        #[test]
        fn composed_tokens_parse_back(millis in 0_i64..4_102_444_799_000, signature in "[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]", padded: bool) {
            let time = Timestamp::from_millis(millis).civil(TimeZone::Utc).unwrap();
            let base64 = if padded { format!("{signature}=") } else { signature.clone() };
            let token = TranToken::parse(&TranToken::compose(time, &base64)).unwrap();
            prop_assert_eq!(token.time(), time);
            prop_assert_eq!(token.signature_base64(), signature.as_str());
        }
    }

    #[test]
    fn a_secret_key_has_32_printable_characters_at_least() {
        assert!(SecretKey::parse(&"k".repeat(31)).is_err());
        assert!(SecretKey::parse(&"k".repeat(32)).is_ok());
        assert!(
            SecretKey::parse(&format!("{} ", "k".repeat(32))).is_err(),
            "a space"
        );
        assert!(
            SecretKey::parse(&format!("{}\u{e9}", "k".repeat(32))).is_err(),
            "not ASCII"
        );
        assert_eq!(
            SecretKey::parse(&"k".repeat(40)).unwrap().expose(),
            "k".repeat(40).as_bytes()
        );
    }
}
