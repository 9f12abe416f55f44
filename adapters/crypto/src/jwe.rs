//! Message encryption (D5): JWE compact serialization through `josekit` (on OpenSSL), with
//! RSA-OAEP-256 or RSA-OAEP key wrapping and A128GCM or A256GCM content encryption.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::alg::rsaes::RsaesJweEncrypter;
use josekit::jwe::{self, JweHeader, RSA_OAEP, RSA_OAEP_256};
use openssl::encrypt::Decrypter;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::symm::{Cipher, decrypt_aead};
use prepaid_application::PortError;
use prepaid_application::ports::{
    ContentEncryption, DecryptError, DecryptedMessage, JweProfile, KeyWrapping, MessageCipher,
};
use prepaid_domain::CryptoKeyId;

use crate::keys::KeyError;

/// The smallest RSA modulus accepted (D5).
pub const MIN_RSA_BITS: u32 = 2048;

/// A project's crypto key pair as configured: the server's private key (decrypts requests)
/// and the client's public key (encrypts responses), both PEM.
#[derive(Clone)]
pub struct CryptoKeyPair {
    /// The id sent in `X-KM-Crypto-Key-Id`.
    pub id: CryptoKeyId,
    /// The server private key, PEM (PKCS#1 or PKCS#8). Secret.
    pub server_private_pem: String,
    /// The client public key, PEM.
    pub client_public_pem: String,
}

impl fmt::Debug for CryptoKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoKeyPair")
            .field("id", &self.id)
            .field("server_private_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

struct LoadedPair {
    server_private: PKey<Private>,
    encrypt_oaep: RsaesJweEncrypter,
    encrypt_oaep256: RsaesJweEncrypter,
}

/// A key pair could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyPairError {
    /// The PEM does not hold an RSA key.
    #[error("crypto key {id}: {what} is not an RSA key in PEM")]
    NotRsa {
        /// Which key pair.
        id: String,
        /// Which half.
        what: &'static str,
    },
    /// The RSA key is smaller than 2048 bits.
    #[error("crypto key {id}: {what} has {bits} bits, at least {MIN_RSA_BITS} are required")]
    TooSmall {
        /// Which key pair.
        id: String,
        /// Which half.
        what: &'static str,
        /// Its size.
        bits: u32,
    },
    /// Another key error.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The JWE cipher holding every project's key pairs.
pub struct JoseMessageCipher {
    pairs: HashMap<CryptoKeyId, LoadedPair>,
}

impl fmt::Debug for JoseMessageCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoseMessageCipher")
            .field("key_ids", &self.pairs.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn check_private(pem: &str, id: &str) -> Result<(), KeyPairError> {
    let not_rsa = || KeyPairError::NotRsa {
        id: id.to_owned(),
        what: "server private key",
    };
    let key = PKey::private_key_from_pem(pem.as_bytes()).map_err(|_| not_rsa())?;
    let rsa = key.rsa().map_err(|_| not_rsa())?;
    let bits = rsa.size() * 8;
    if bits < MIN_RSA_BITS {
        return Err(KeyPairError::TooSmall {
            id: id.to_owned(),
            what: "server private key",
            bits,
        });
    }
    rsa.check_key().map_err(|_| not_rsa())?;
    Ok(())
}

fn check_public(pem: &str, id: &str) -> Result<(), KeyPairError> {
    let not_rsa = || KeyPairError::NotRsa {
        id: id.to_owned(),
        what: "client public key",
    };
    let key = PKey::public_key_from_pem(pem.as_bytes()).map_err(|_| not_rsa())?;
    let bits = key.rsa().map_err(|_| not_rsa())?.size() * 8;
    if bits < MIN_RSA_BITS {
        return Err(KeyPairError::TooSmall {
            id: id.to_owned(),
            what: "client public key",
            bits,
        });
    }
    Ok(())
}

impl JoseMessageCipher {
    /// Loads every key pair, refusing malformed keys and keys under 2048 bits.
    ///
    /// # Errors
    /// [`KeyPairError`] naming the key pair and the problem.
    pub fn new(pairs: Vec<CryptoKeyPair>) -> Result<Self, KeyPairError> {
        let mut loaded = HashMap::new();
        for pair in pairs {
            let id = pair.id.as_str().to_owned();
            check_private(&pair.server_private_pem, &id)?;
            check_public(&pair.client_public_pem, &id)?;
            let private = pair.server_private_pem.as_bytes();
            let public = pair.client_public_pem.as_bytes();
            let not_rsa = |what| KeyPairError::NotRsa {
                id: id.clone(),
                what,
            };
            loaded.insert(
                pair.id,
                LoadedPair {
                    server_private: PKey::private_key_from_pem(private)
                        .map_err(|_| not_rsa("server private key"))?,
                    encrypt_oaep: RSA_OAEP
                        .encrypter_from_pem(public)
                        .map_err(|_| not_rsa("client public key"))?,
                    encrypt_oaep256: RSA_OAEP_256
                        .encrypter_from_pem(public)
                        .map_err(|_| not_rsa("client public key"))?,
                },
            );
        }
        Ok(Self { pairs: loaded })
    }

    /// Whether a key pair with this id is held.
    pub fn holds(&self, id: &CryptoKeyId) -> bool {
        self.pairs.contains_key(id)
    }
}

/// Reads the accepted `alg`/`enc` of a JWE header, or `None` for anything else.
fn profile_of(header: &JweHeader) -> Option<JweProfile> {
    // Compression would let a small JWE expand without bound: never accepted.
    if header.claim("zip").is_some() {
        return None;
    }
    let key_wrapping = match header.algorithm()? {
        "RSA-OAEP-256" => KeyWrapping::RsaOaep256,
        "RSA-OAEP" => KeyWrapping::RsaOaep,
        _ => return None,
    };
    let content = match header.content_encryption()? {
        "A128GCM" => ContentEncryption::A128Gcm,
        "A256GCM" => ContentEncryption::A256Gcm,
        _ => return None,
    };
    Some(JweProfile {
        key_wrapping,
        content,
    })
}

/// The length of a GCM initialisation vector and authentication tag in a JWE (RFC 7518, 5.3):
/// anything else is refused before any decryption, so a tag cut short cannot weaken the check.
const GCM_IV_BYTES: usize = 12;
const GCM_TAG_BYTES: usize = 16;

/// Opens a JWE compact serialization with `private`: the header's profile (only ours), the
/// content key unwrapped with RSA-OAEP or RSA-OAEP-256, and AES-GCM over the ciphertext with the
/// header as it was sent as additional data (RFC 7516, 5.2).
///
/// Form errors (five parts, Base64url, header, IV and tag lengths) are refused at once: they
/// depend on nothing secret. A content key that does not unwrap, or unwraps to the wrong length,
/// is replaced by a random one and the decryption goes on (RFC 7516, 11.5): the answer is then
/// the same failed tag check as a tampered ciphertext's, and takes the same steps, so neither
/// says whether the RSA step failed (a padding oracle needs exactly that).
fn open_compact(private: &PKey<Private>, compact: &str) -> Option<(Vec<u8>, JweProfile)> {
    let mut parts = compact.split('.');
    let (Some(header_b64), Some(key_b64), Some(iv_b64), Some(ciphertext_b64), Some(tag_b64), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let header = JweHeader::from_bytes(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
    let profile = profile_of(&header)?;
    let encrypted_key = URL_SAFE_NO_PAD.decode(key_b64).ok()?;
    let iv = URL_SAFE_NO_PAD.decode(iv_b64).ok()?;
    let ciphertext = URL_SAFE_NO_PAD.decode(ciphertext_b64).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag_b64).ok()?;
    if iv.len() != GCM_IV_BYTES || tag.len() != GCM_TAG_BYTES {
        return None;
    }
    let (cipher, key_bytes) = match profile.content {
        ContentEncryption::A128Gcm => (Cipher::aes_128_gcm(), 16),
        ContentEncryption::A256Gcm => (Cipher::aes_256_gcm(), 32),
    };
    let unwrapped = unwrap_key(private, profile.key_wrapping, &encrypted_key);
    let mut key = match unwrapped {
        Some(key) if key.len() == key_bytes => key,
        _ => random_key(key_bytes)?,
    };
    let plaintext = decrypt_aead(
        cipher,
        &key,
        Some(&iv),
        header_b64.as_bytes(),
        &ciphertext,
        &tag,
    )
    .ok();
    key.fill(0);
    plaintext.map(|plaintext| (plaintext, profile))
}

/// The content key wrapped in `encrypted_key`, or `None` when it does not unwrap.
fn unwrap_key(
    private: &PKey<Private>,
    wrapping: KeyWrapping,
    encrypted_key: &[u8],
) -> Option<Vec<u8>> {
    let digest = match wrapping {
        KeyWrapping::RsaOaep256 => MessageDigest::sha256(),
        KeyWrapping::RsaOaep => MessageDigest::sha1(),
    };
    let mut decrypter = Decrypter::new(private).ok()?;
    decrypter.set_rsa_padding(Padding::PKCS1_OAEP).ok()?;
    decrypter.set_rsa_oaep_md(digest).ok()?;
    decrypter.set_rsa_mgf1_md(digest).ok()?;
    let mut key = vec![0; decrypter.decrypt_len(encrypted_key).ok()?];
    let length = decrypter.decrypt(encrypted_key, &mut key).ok()?;
    key.truncate(length);
    Some(key)
}

/// A random content key of `bytes` bytes (`None` only if OpenSSL's generator fails).
fn random_key(bytes: usize) -> Option<Vec<u8>> {
    let mut key = vec![0; bytes];
    openssl::rand::rand_bytes(&mut key).ok()?;
    Some(key)
}

#[async_trait]
impl MessageCipher for JoseMessageCipher {
    fn decrypt(
        &self,
        key_id: &CryptoKeyId,
        compact: &str,
    ) -> Result<DecryptedMessage, DecryptError> {
        let pair = self.pairs.get(key_id).ok_or(DecryptError::UnknownKey)?;
        // Every failure is the same error: the caller cannot tell which check failed.
        let (plaintext, profile) =
            open_compact(&pair.server_private, compact).ok_or(DecryptError::Undecryptable)?;
        Ok(DecryptedMessage { plaintext, profile })
    }

    fn encrypt(
        &self,
        key_id: &CryptoKeyId,
        plaintext: &[u8],
        profile: JweProfile,
    ) -> Result<String, PortError> {
        let pair = self
            .pairs
            .get(key_id)
            .ok_or_else(|| PortError::msg("unknown crypto key id"))?;
        let mut header = JweHeader::new();
        header.set_content_encryption(profile.content.as_str());
        let encrypter = match profile.key_wrapping {
            KeyWrapping::RsaOaep256 => &pair.encrypt_oaep256,
            KeyWrapping::RsaOaep => &pair.encrypt_oaep,
        };
        jwe::serialize_compact(plaintext, &header, encrypter)
            .map_err(|error| PortError::new("JWE encryption failed", error))
    }
}

/// A fresh RSA key pair as (private PEM in PKCS#8, public PEM in SPKI), for the sandbox and tests.
///
/// # Errors
/// OpenSSL's error when generation fails.
pub fn generate_rsa_pem(bits: u32) -> Result<(String, String), openssl::error::ErrorStack> {
    let rsa = Rsa::generate(bits)?;
    let key = PKey::from_rsa(rsa)?;
    let private = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    let public = String::from_utf8_lossy(&key.public_key_to_pem()?).into_owned();
    Ok((private, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_content_key_has_the_length_asked_and_is_never_the_same_twice() {
        for bytes in [16, 32] {
            let first = random_key(bytes).unwrap();
            let second = random_key(bytes).unwrap();
            assert_eq!((first.len(), second.len()), (bytes, bytes));
            assert_ne!(first, second);
            assert!(first.iter().any(|byte| *byte > 1), "not a constant fill");
        }
    }
}
