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

/// Derives CVCs with a card verification key pair through OpenSSL's DES.
#[derive(Debug)]
pub struct DesCardVerification {
    key: CardVerificationKey,
}

impl DesCardVerification {
    /// A deriver holding `key`.
    pub fn new(key: CardVerificationKey) -> Self {
        Self { key }
    }

    /// The CVV of `pan`, `expiry_yymm` and `service_code` (3 digits), and the 16-hex-digit result
    /// block it was taken from.
    pub fn compute(
        &self,
        pan: &str,
        expiry_yymm: &str,
        service_code: &str,
    ) -> Result<(String, String), PortError> {
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

        let key_a = self.key.key_a;
        let key_b = self.key.key_b;
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
    fn derive(&self, pan: &Pan, expiry: Expiry) -> Result<Cvc, PortError> {
        let (cvc, _) = self.compute(pan.expose(), &expiry.to_yymm(), CVC2_SERVICE_CODE)?;
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
            .derive(&pan, Expiry::parse("3111").unwrap())
            .unwrap();
        let again = deriver
            .derive(&pan, Expiry::parse("3111").unwrap())
            .unwrap();
        assert_eq!(first, again);
        let codes: std::collections::HashSet<String> = (1..=12)
            .map(|month| {
                let expiry = Expiry::parse(&format!("31{month:02}")).unwrap();
                deriver.derive(&pan, expiry).unwrap().expose().to_owned()
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
    /// `scripts/cvv_vectors.py` (Python's `cryptography`, TripleDES in ECB, the same steps),
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
}
