//! CVC derivation as payment HSMs compute CVV (security reference, "CVC / CVV").

use std::sync::OnceLock;

use async_trait::async_trait;
use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use prepaid_application::PortError;
use prepaid_application::ports::CardVerification;
use prepaid_domain::{Cvc, Expiry, Pan};

use crate::keys::CardVerificationKey;

/// The service code of a CVC2 printed on a card.
const CVC2_SERVICE_CODE: &str = "000";

/// The id of the card verification key when none is configured (keys configured before key
/// ids existed, and the cards derived with them, carry it).
pub const DEFAULT_CVK_ID: &str = "cvk-1";

/// Derives CVCs with card verification key pairs through OpenSSL's DES: new cards with the
/// current key, every card with the key whose id it was recorded with (retired keys are kept
/// for that: a rotation changes no existing card's CVC).
#[derive(Debug)]
pub struct DesCardVerification {
    current_id: String,
    keys: std::collections::HashMap<String, CardVerificationKey>,
}

impl DesCardVerification {
    /// A deriver holding `key` alone, as key [`DEFAULT_CVK_ID`].
    pub fn new(key: CardVerificationKey) -> Self {
        Self::with_keys(DEFAULT_CVK_ID, key, Vec::new())
    }

    /// A deriver whose current key is `current` (id `current_id`), keeping `retired` (id, key)
    /// pairs for cards derived with them.
    pub fn with_keys(
        current_id: &str,
        current: CardVerificationKey,
        retired: Vec<(String, CardVerificationKey)>,
    ) -> Self {
        let mut keys: std::collections::HashMap<String, CardVerificationKey> =
            retired.into_iter().collect();
        keys.insert(current_id.to_owned(), current);
        Self {
            current_id: current_id.to_owned(),
            keys,
        }
    }

    /// The CVV of `pan`, `expiry_yymm` and `service_code` (3 digits) under the current key, and
    /// the 16-hex-digit result block it was taken from.
    pub fn compute(
        &self,
        pan: &str,
        expiry_yymm: &str,
        service_code: &str,
    ) -> Result<(String, String), PortError> {
        self.compute_with(&self.current_id, pan, expiry_yymm, service_code)
    }

    fn compute_with(
        &self,
        key_id: &str,
        pan: &str,
        expiry_yymm: &str,
        service_code: &str,
    ) -> Result<(String, String), PortError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| PortError::msg(format!("no card verification key {key_id}")))?;
        let mut digits = format!("{pan}{expiry_yymm}{service_code}");
        if digits.len() > 32 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(PortError::msg(
                "CVV input must be at most 32 decimal digits",
            ));
        }
        while digits.len() < 32 {
            digits.push('0');
        }
        let mut block1 = [0_u8; 8];
        let mut block2 = [0_u8; 8];
        let decode = |text: &str, out: &mut [u8; 8]| {
            hex::decode_to_slice(text, out).map_err(|error| PortError::new("CVV input", error))
        };
        decode(&digits[..16], &mut block1)?;
        decode(&digits[16..], &mut block2)?;

        let key_a = key.key_a;
        let key_b = key.key_b;
        // Single DES under KeyA is three-key 3DES with KeyA three times (E·D·E collapses to E).
        let mut result = des_ede3_encrypt(&[key_a, key_a, key_a], block1)?;
        for (byte, other) in result.iter_mut().zip(block2) {
            *byte ^= other;
        }
        // Encrypt with KeyA, decrypt with KeyB, encrypt with KeyA: two-key 3DES (A, B, A).
        let result = des_ede3_encrypt(&[key_a, key_b, key_a], result)?;

        let block = hex::encode_upper(result);
        let decimals = block.chars().filter(char::is_ascii_digit);
        let letters = block
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|letter| {
                // 'A'..'F' minus 10 gives 0..5.
                char::from(b'0' + (letter as u8 - b'A'))
            });
        let cvv: String = decimals.chain(letters).take(3).collect();
        Ok((cvv, block))
    }
}

/// DES-EDE3 in ECB mode, fetched from OpenSSL's provider once. Through the legacy
/// `Cipher::des_ede3()`, OpenSSL 3 fetches the algorithm again on every initialisation, under
/// a global lock, and that cost more than the DES itself (docs/PERFORMANCE.md).
fn des_ede3_ecb() -> Result<&'static CipherRef, PortError> {
    static FETCHED: OnceLock<Option<Cipher>> = OnceLock::new();
    FETCHED
        .get_or_init(|| Cipher::fetch(None, "DES-EDE3-ECB", None).ok())
        .as_deref()
        .ok_or_else(|| PortError::msg("OpenSSL offers no DES-EDE3-ECB"))
}

fn des_ede3_encrypt(keys: &[[u8; 8]; 3], block: [u8; 8]) -> Result<[u8; 8], PortError> {
    let key: Vec<u8> = keys.iter().flatten().copied().collect();
    let failed = |error| PortError::new("DES operation failed", error);
    let mut context = CipherCtx::new().map_err(failed)?;
    context
        .encrypt_init(Some(des_ede3_ecb()?), Some(&key), None)
        .map_err(failed)?;
    context.set_padding(false);
    let mut out = [0_u8; 16];
    let written = context
        .cipher_update(&block, Some(&mut out))
        .map_err(failed)?;
    let finished = context.cipher_final(&mut out[written..]).map_err(failed)?;
    if written + finished != 8 {
        return Err(PortError::msg("DES produced an unexpected block size"));
    }
    let mut result = [0_u8; 8];
    result.copy_from_slice(&out[..8]);
    Ok(result)
}

#[async_trait]
impl CardVerification for DesCardVerification {
    fn current_key_id(&self) -> String {
        self.current_id.clone()
    }

    fn derive(&self, key_id: &str, pan: &Pan, expiry: Expiry) -> Result<Cvc, PortError> {
        let (cvc, _) =
            self.compute_with(key_id, pan.expose(), &expiry.to_yymm(), CVC2_SERVICE_CODE)?;
        Cvc::parse(&cvc).map_err(|error| PortError::new("derived CVC malformed", error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_key() -> DesCardVerification {
        DesCardVerification::new(
            CardVerificationKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap(),
        )
    }

    #[test]
    fn the_security_reference_test_vector_gives_856() {
        let (cvv, block) = reference_key()
            .compute("4123456789012345", "8701", "111")
            .unwrap();
        assert_eq!(block, "8D5625FA78011A0C");
        assert_eq!(cvv, "856");
    }

    #[test]
    fn the_cvc_depends_on_the_expiry_and_is_stable() {
        let deriver = reference_key();
        let pan = Pan::parse("4111111111111111").unwrap();
        let first = deriver
            .derive(DEFAULT_CVK_ID, &pan, Expiry::parse("3111").unwrap())
            .unwrap();
        let again = deriver
            .derive(DEFAULT_CVK_ID, &pan, Expiry::parse("3111").unwrap())
            .unwrap();
        assert_eq!(first, again);
        let codes: std::collections::HashSet<String> = (1..=12)
            .map(|month| {
                let expiry = Expiry::parse(&format!("31{month:02}")).unwrap();
                deriver
                    .derive(DEFAULT_CVK_ID, &pan, expiry)
                    .unwrap()
                    .expose()
                    .to_owned()
            })
            .collect();
        assert!(
            codes.len() > 6,
            "CVCs should vary with the expiry: {}",
            codes.len()
        );
    }

    /// Blocks with fewer than three decimal digits (about one card in 18,000) take the rest of
    /// the CVC from the letters A-F (A = 0). These vectors were computed independently by
    /// `scripts/cvv_vectors.py` (Python's `cryptography`, `TripleDES` in ECB, the same steps),
    /// which searched the first 12,051 card numbers of BIN 943512 for such blocks.
    #[test]
    fn blocks_short_of_decimal_digits_finish_the_cvc_with_their_letters() {
        for (pan, cvv, block) in [
            ("9435120000029068", "712", "CF71ADAFCCBFBCAA"),
            ("9435120000050684", "762", "C7CECBABAD6BAEDC"),
            ("9435120000120503", "812", "BCE8CDCABDFAFFDD"),
        ] {
            assert_eq!(
                reference_key().compute(pan, "3111", "000").unwrap(),
                (cvv.to_owned(), block.to_owned()),
                "{pan}"
            );
        }
    }

    #[test]
    fn a_rotation_keeps_each_card_on_the_key_it_was_issued_with() {
        let old = CardVerificationKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let new = CardVerificationKey::from_hex("1123456789ABCDEFFEDCBA9876543211").unwrap();
        let before = DesCardVerification::with_keys("cvk-1", old.clone(), Vec::new());
        let after = DesCardVerification::with_keys("cvk-2", new, vec![("cvk-1".into(), old)]);
        let pan = Pan::parse("4111111111111111").unwrap();
        let expiry = Expiry::parse("3111").unwrap();

        assert_eq!(before.current_key_id(), "cvk-1");
        assert_eq!(after.current_key_id(), "cvk-2");
        let issued = before.derive("cvk-1", &pan, expiry).unwrap();
        assert_eq!(after.derive("cvk-1", &pan, expiry).unwrap(), issued);
        assert_ne!(
            after.derive("cvk-2", &pan, expiry).unwrap().expose(),
            issued.expose(),
            "the new key gives new cards other codes (for this card number)"
        );
        assert!(
            before.derive("cvk-2", &pan, expiry).is_err(),
            "an unknown key id"
        );
    }

    #[test]
    fn an_input_of_more_than_32_digits_or_with_anything_but_digits_is_refused() {
        let deriver = reference_key();
        assert!(deriver.compute("4123456789012345", "8701", "111").is_ok());
        assert!(
            deriver
                .compute("4123456789012345678901234", "8701", "1111")
                .is_err(),
            "33 digits"
        );
        assert!(deriver.compute("4123456789012345", "87A1", "111").is_err());
        assert!(
            deriver
                .compute("412345678901234567890123", "8701", "1111")
                .is_ok(),
            "32 digits exactly"
        );
    }
}
