//! The tran-token HMAC (D4): HMAC-SHA256 over the raw body, standard Base64 without padding,
//! compared in constant time.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use prepaid_application::ports::TranTokenSigner;
use prepaid_domain::SecretKey;

use crate::secrets::HmacKey;

/// HMAC-SHA256 tran tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct HmacTranTokenSigner;

#[async_trait]
impl TranTokenSigner for HmacTranTokenSigner {
    fn sign(&self, secret: &SecretKey, body: &[u8]) -> String {
        STANDARD_NO_PAD.encode(HmacKey::new(secret.expose()).mac(&[body]))
    }

    fn verify(&self, secret: &SecretKey, body: &[u8], signature_base64: &str) -> bool {
        let expected = self.sign(secret, body);
        let presented = signature_base64.trim_end_matches('=');
        expected.len() == presented.len()
            && openssl::memcmp::eq(expected.as_bytes(), presented.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretKey {
        SecretKey::parse("0123456789abcdef0123456789abcdef0123").unwrap()
    }

    #[test]
    fn a_signature_verifies_padded_and_unpadded_and_only_for_its_body() {
        let signer = HmacTranTokenSigner;
        let signature = signer.sign(&secret(), b"{\"a\":1}");
        assert_eq!(signature.len(), 43);
        assert!(signer.verify(&secret(), b"{\"a\":1}", &signature));
        assert!(signer.verify(&secret(), b"{\"a\":1}", &format!("{signature}=")));
        assert!(!signer.verify(&secret(), b"{\"a\":2}", &signature));
        let other = SecretKey::parse("fedcba9876543210fedcba9876543210fedc").unwrap();
        assert!(!signer.verify(&other, b"{\"a\":1}", &signature));
    }

    #[test]
    fn the_hmac_matches_one_computed_by_another_implementation() {
        // Computed with Python's standard library:
        // base64.b64encode(hmac.new(b"0123456789abcdef0123456789abcdef0123", b"{}", "sha256").digest())
        let signature = HmacTranTokenSigner.sign(&secret(), b"{}");
        assert_eq!(signature, "uqHS18/fhGfp59A50mhWitd7o14vy5PFfwGPAuvJof8");
    }
}
