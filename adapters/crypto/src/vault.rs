//! The vault of access keys' secret keys: AES-256-GCM under a key-encryption key of its own
//! (not the PAN data key), so that either can be rotated or withdrawn without the other.

use std::collections::HashMap;

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::SecretVault;
use prepaid_domain::SecretKey;

use crate::keys::DataKey;
use crate::secrets::{NONCE_LEN, TAG_LEN, decrypt_aead, encrypt_aead};

/// Seals with the current key-encryption key; unseals with it, a retired one, or one of the
/// keys secrets were sealed with before they had their own (the PAN data keys), so that a start
/// can seal those again under the current one.
#[derive(Debug)]
pub struct AesGcmSecretVault {
    current: DataKey,
    others: HashMap<String, DataKey>,
}

impl AesGcmSecretVault {
    /// A vault sealing with `current`, unsealing with it or any of `others`. An id of `others`
    /// equal to the current one's is ignored.
    pub fn new(current: DataKey, others: Vec<DataKey>) -> Self {
        let others = others
            .into_iter()
            .filter(|key| key.id != current.id)
            .map(|key| (key.id.clone(), key))
            .collect();
        Self { current, others }
    }

    fn key(&self, id: &str) -> Option<&DataKey> {
        if self.current.id == id {
            Some(&self.current)
        } else {
            self.others.get(id)
        }
    }
}

/// The id of the key `sealed` was sealed with, if it is well formed.
fn sealed_key_id(sealed: &[u8]) -> Option<&str> {
    let (&id_len, rest) = sealed.split_first()?;
    let (id, _) = rest.split_at_checked(usize::from(id_len))?;
    std::str::from_utf8(id).ok()
}

/// Sealed secrets are `key id length (1 byte) | key id | nonce | ciphertext | tag`.
#[async_trait]
impl SecretVault for AesGcmSecretVault {
    fn seal(&self, secret: &SecretKey, context: &str) -> Result<Vec<u8>, PortError> {
        let mut nonce = [0_u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce).map_err(|error| PortError::new("nonce", error))?;
        let mut tag = [0_u8; TAG_LEN];
        let aad = vault_associated_data(context);
        let ciphertext = encrypt_aead(
            &self.current.key,
            Some(&nonce),
            &aad,
            secret.expose(),
            &mut tag,
        )
        .map_err(|error| PortError::new("secret sealing failed", error))?;
        let id = self.current.id.as_bytes();
        let mut sealed = Vec::with_capacity(1 + id.len() + NONCE_LEN + ciphertext.len() + TAG_LEN);
        sealed.push(u8::try_from(id.len()).map_err(|_| PortError::msg("key id too long"))?);
        sealed.extend_from_slice(id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    fn sealed_with_current_key(&self, sealed: &[u8]) -> bool {
        sealed_key_id(sealed) == Some(self.current.id.as_str())
    }

    fn unseal(&self, sealed: &[u8], context: &str) -> Result<SecretKey, PortError> {
        let broken = || PortError::msg("sealed secret is malformed");
        let (&id_len, rest) = sealed.split_first().ok_or_else(broken)?;
        let (id, rest) = rest
            .split_at_checked(usize::from(id_len))
            .ok_or_else(broken)?;
        let id = std::str::from_utf8(id).map_err(|_| broken())?;
        let key = self
            .key(id)
            .ok_or_else(|| PortError::msg("secret sealed under an unknown key"))?;
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(broken());
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let plaintext = decrypt_aead(
            &key.key,
            Some(nonce),
            &vault_associated_data(context),
            ciphertext,
            tag,
        )
        .map_err(|_| PortError::msg("sealed secret failed authentication"))?;
        let text = String::from_utf8(plaintext).map_err(|_| broken())?;
        SecretKey::parse(&text).map_err(|error| PortError::new("unsealed secret", error))
    }
}

fn vault_associated_data(context: &str) -> Vec<u8> {
    let mut aad = b"prepaid-card/secret/v1/".to_vec();
    aad.extend_from_slice(context.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, fill: &str) -> DataKey {
        DataKey::from_hex(id, &fill.repeat(4)).unwrap()
    }

    fn vault() -> AesGcmSecretVault {
        AesGcmSecretVault::new(key("kek-1", "0123456789abcdef"), vec![])
    }

    #[test]
    fn a_sealed_secret_unseals_only_in_its_context_and_hides_the_secret() {
        let secrets = vault();
        let secret = SecretKey::parse("the-secret-key-0123456789-abcdefghij").unwrap();
        let sealed = secrets.seal(&secret, "access-key-1").unwrap();
        assert!(!sealed.windows(10).any(|w| w == &secret.expose()[..10]));
        assert_eq!(secrets.unseal(&sealed, "access-key-1").unwrap(), secret);
        assert!(secrets.unseal(&sealed, "access-key-2").is_err());
        assert!(secrets.unseal(&sealed[..5], "access-key-1").is_err());
    }

    #[test]
    fn a_secret_sealed_under_an_old_key_unseals_and_is_told_apart_for_sealing_again() {
        let data_key = key("data-1", "fedcba9876543210");
        let secret = SecretKey::parse("the-secret-key-0123456789-abcdefghij").unwrap();
        let before = AesGcmSecretVault::new(data_key.clone(), vec![]);
        let sealed_before = before.seal(&secret, "ak").unwrap();

        let after = AesGcmSecretVault::new(key("kek-1", "0123456789abcdef"), vec![data_key]);
        assert!(!after.sealed_with_current_key(&sealed_before));
        assert_eq!(after.unseal(&sealed_before, "ak").unwrap(), secret);
        let sealed_again = after.seal(&secret, "ak").unwrap();
        assert!(after.sealed_with_current_key(&sealed_again));
        assert_eq!(sealed_key_id(&sealed_again), Some("kek-1"));

        // The PAN data key alone no longer opens what the key-encryption key sealed.
        assert!(before.unseal(&sealed_again, "ak").is_err());
        assert!(!after.sealed_with_current_key(b""));
    }

    #[test]
    fn a_sealed_secret_cut_after_its_key_id_is_refused_without_a_panic() {
        let vault = vault();
        let secret = SecretKey::parse("the-secret-key-0123456789-abcdefghij").unwrap();
        let sealed = vault.seal(&secret, "ak").unwrap();
        let id_end = 1 + usize::from(sealed[0]);
        for length in [
            id_end,
            id_end + 1,
            id_end + NONCE_LEN,
            id_end + NONCE_LEN + TAG_LEN - 1,
        ] {
            assert!(
                vault.unseal(&sealed[..length], "ak").is_err(),
                "{length} bytes"
            );
        }
        assert_eq!(vault.unseal(&sealed, "ak").unwrap(), secret);
    }
}
