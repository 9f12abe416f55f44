//! Key material as types: parsed from configuration (hex), redacted in `Debug`, no `Display`.

use std::fmt;

/// Key material could not be read from configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The text is not hexadecimal of the expected length.
    #[error("{what} must be {hex_digits} hexadecimal digits")]
    Format {
        /// Which key.
        what: &'static str,
        /// How many hex digits it needs.
        hex_digits: usize,
    },
    /// The key is all one byte value or otherwise trivially weak.
    #[error("{0} is too weak (repeated or all-zero bytes)")]
    Weak(&'static str),
}

pub(crate) fn parse_hex<const N: usize>(
    text: &str,
    what: &'static str,
) -> Result<[u8; N], KeyError> {
    let mut bytes = [0_u8; N];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| KeyError::Format {
        what,
        hex_digits: N * 2,
    })?;
    if bytes.iter().all(|byte| *byte == bytes[0]) {
        return Err(KeyError::Weak(what));
    }
    Ok(bytes)
}

/// The card verification key pair KeyA/KeyB (two single-DES keys, a double-length 3DES key),
/// as payment HSMs hold it for CVV computation.
#[derive(Clone, PartialEq, Eq)]
pub struct CardVerificationKey {
    pub(crate) key_a: [u8; 8],
    pub(crate) key_b: [u8; 8],
}

impl CardVerificationKey {
    /// Reads 32 hex digits: `KeyA` then `KeyB`.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes: [u8; 16] = parse_hex(text, "card verification key")?;
        let (key_a, key_b) = bytes.split_at(8);
        let mut pair = Self {
            key_a: [0; 8],
            key_b: [0; 8],
        };
        pair.key_a.copy_from_slice(key_a);
        pair.key_b.copy_from_slice(key_b);
        if pair.key_a == pair.key_b {
            return Err(KeyError::Weak("card verification key (KeyA equals KeyB)"));
        }
        Ok(pair)
    }
}

/// A 256-bit AES data key with its id (stored beside each ciphertext, so keys can rotate).
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey {
    pub(crate) id: String,
    pub(crate) key: [u8; 32],
}

impl DataKey {
    /// Reads a key id (1 to 32 ASCII letters, digits, `-` or `_`) and 64 hex digits.
    pub fn from_hex(id: &str, text: &str) -> Result<Self, KeyError> {
        let valid_id = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !valid_id {
            return Err(KeyError::Format {
                what: "data key id (1-32 letters, digits, '-', '_'); key",
                hex_digits: 64,
            });
        }
        Ok(Self {
            id: id.to_owned(),
            key: parse_hex(text, "data key")?,
        })
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A 256-bit HMAC key for keyed fingerprints (PAN index, request fingerprints).
#[derive(Clone, PartialEq, Eq)]
pub struct IndexKey(pub(crate) [u8; 32]);

impl IndexKey {
    /// Reads 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        parse_hex(text, "index key").map(Self)
    }
}

macro_rules! redacted {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    )*};
}

redacted!(CardVerificationKey, IndexKey);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({}, <redacted>)", self.id)
    }
}

/// Fresh random bytes from OpenSSL's CSPRNG, as lowercase hex (for generating keys).
pub fn random_hex(bytes: usize) -> Result<String, openssl::error::ErrorStack> {
    let mut buffer = vec![0_u8; bytes];
    openssl::rand::rand_bytes(&mut buffer)?;
    Ok(hex::encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_gives_as_many_fresh_bytes_as_asked_and_never_the_same_twice() {
        let draws: std::collections::HashSet<String> =
            (0..1_000).map(|_| random_hex(16).unwrap()).collect();
        assert_eq!(draws.len(), 1_000);
        assert!(
            draws
                .iter()
                .all(|draw| draw.len() == 32 && draw.bytes().all(|byte| byte.is_ascii_hexdigit()))
        );
        // Every bit position takes both values across the draws.
        let ones = draws
            .iter()
            .map(|draw| u128::from_str_radix(draw, 16).unwrap())
            .fold(0_u128, |seen, value| seen | value);
        assert_eq!(ones, u128::MAX);
        assert_eq!(random_hex(0).unwrap(), "");
    }

    #[test]
    fn keys_are_never_shown_in_debug_output() {
        let key = DataKey::from_hex(
            "k1",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        )
        .unwrap();
        assert!(!format!("{key:?}").contains("0011"));
        let cvk = CardVerificationKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        assert!(!format!("{cvk:?}").contains("0123"));
    }

    #[test]
    fn short_repeated_or_equal_halves_are_refused() {
        assert!(IndexKey::from_hex("00").is_err());
        assert_eq!(
            IndexKey::from_hex(&"00".repeat(32)),
            Err(KeyError::Weak("index key"))
        );
        assert!(CardVerificationKey::from_hex("0123456789ABCDEF0123456789ABCDEF").is_err());
        assert!(DataKey::from_hex("bad id!", &"0123".repeat(16)).is_err());
    }

    #[test]
    fn a_data_key_has_64_hex_digits_keeps_its_id_and_shows_only_the_id() {
        let key = DataKey::from_hex("k1", &"0123456789abcdef".repeat(4)).unwrap();
        assert_eq!(key.id(), "k1");
        assert_eq!(format!("{key:?}"), "DataKey(k1, <redacted>)");
        for wrong in [
            "0123456789abcdef".repeat(4)[1..].to_owned(),
            "0123456789abcdef".repeat(5),
        ] {
            match DataKey::from_hex("k1", &wrong) {
                Err(KeyError::Format { hex_digits, .. }) => assert_eq!(hex_digits, 64),
                other => panic!("{} hex digits: {other:?}", wrong.len()),
            }
        }
    }
}
