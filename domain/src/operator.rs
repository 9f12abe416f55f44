//! The fulfilment partner's operators (D18): who may use the operator interface, by a bearer
//! token that only the admin command creates. Not an ASP credential, and never one.

use std::fmt;

/// An operator's bearer token: `ops_` and 64 lower-case hexadecimal digits (256 random bits).
/// A secret: its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorToken(String);

impl OperatorToken {
    /// What every token starts with, so that one is recognised in a leak scan.
    pub const PREFIX: &'static str = "ops_";

    /// The random bytes a token is made of.
    pub const BYTES: usize = 32;

    /// Parses a token as an operator sends it.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix(Self::PREFIX)?;
        (digits.len() == 2 * Self::BYTES
            && digits
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)))
        .then(|| Self(text.to_owned()))
    }

    /// The token made of `random`, fresh random bytes.
    pub fn from_random(random: &[u8; Self::BYTES]) -> Self {
        let mut text = String::with_capacity(Self::PREFIX.len() + 2 * Self::BYTES);
        text.push_str(Self::PREFIX);
        for byte in random {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self(text)
    }

    /// The token. Only to show it once to the operator it is made for, and to hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OperatorToken(<redacted>)")
    }
}

/// Who an operator token was made for: 1 to 64 letters, digits, `.`, `_` or `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorName(String);

impl OperatorName {
    /// The longest name.
    pub const MAX: usize = 64;

    /// Parses a name.
    pub fn parse(text: &str) -> Option<Self> {
        (!text.is_empty()
            && text.len() <= Self::MAX
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte)))
        .then(|| Self(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_token_is_the_prefix_and_64_lower_case_hex_digits() {
        let token = OperatorToken::from_random(&[0xab; 32]);
        assert_eq!(token.expose(), format!("ops_{}", "ab".repeat(32)));
        assert_eq!(OperatorToken::parse(token.expose()), Some(token.clone()));
        for wrong in [
            String::new(),
            "ab".repeat(32),
            format!("ops_{}", "ab".repeat(31)),
            format!("ops_{}a", "ab".repeat(32)),
            format!("ops_{}", "AB".repeat(32)),
            format!("ops_{}g", "ab".repeat(31) + "a"),
            format!("OPS_{}", "ab".repeat(32)),
        ] {
            assert_eq!(OperatorToken::parse(&wrong), None, "{wrong}");
        }
        assert_eq!(format!("{token:?}"), "OperatorToken(<redacted>)");
    }

    #[test]
    fn a_name_is_short_and_plain() {
        for good in ["sandbox", "bureau-1", "courier_2.night", &"a".repeat(64)] {
            assert_eq!(
                OperatorName::parse(good).map(|name| name.as_str().to_owned()),
                Some(good.to_owned())
            );
        }
        for bad in ["", "with space", "é", &"a".repeat(65), "semi;colon"] {
            assert_eq!(OperatorName::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        /// Every token made of random bytes parses back to itself, and differs from the token
        /// of any other bytes.
        #[test]
        fn tokens_round_trip_and_are_one_to_one(
            first in proptest::array::uniform32(any::<u8>()),
            second in proptest::array::uniform32(any::<u8>()),
        ) {
            let token = OperatorToken::from_random(&first);
            prop_assert_eq!(OperatorToken::parse(token.expose()), Some(token.clone()));
            prop_assert_eq!(first == second, token == OperatorToken::from_random(&second));
        }
    }
}
