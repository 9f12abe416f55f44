use std::fmt;

use async_trait::async_trait;
use prepaid_domain::{CryptoKeyId, SecretKey};

use super::PortError;

/// The JWE algorithms a message used (D5), so the response can be encrypted the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JweProfile {
    /// Key management: `RSA-OAEP-256` or `RSA-OAEP`.
    pub key_wrapping: KeyWrapping,
    /// Content encryption: `A128GCM` or `A256GCM`.
    pub content: ContentEncryption,
}

/// JWE `alg` values accepted (D5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyWrapping {
    /// `RSA-OAEP-256` (SHA-256).
    RsaOaep256,
    /// `RSA-OAEP` (SHA-1).
    RsaOaep,
}

/// JWE `enc` values accepted (D5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentEncryption {
    /// AES-128-GCM.
    A128Gcm,
    /// AES-256-GCM.
    A256Gcm,
}

impl KeyWrapping {
    /// The `alg` header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::RsaOaep => "RSA-OAEP",
        }
    }
}

impl ContentEncryption {
    /// The `enc` header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::A128Gcm => "A128GCM",
            Self::A256Gcm => "A256GCM",
        }
    }
}

impl JweProfile {
    /// `RSA-OAEP-256` with `A256GCM`.
    pub const DEFAULT: Self = Self {
        key_wrapping: KeyWrapping::RsaOaep256,
        content: ContentEncryption::A256Gcm,
    };
}

/// A decrypted request body.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedMessage {
    /// The plaintext (the JSON payload).
    pub plaintext: Vec<u8>,
    /// How it was encrypted.
    pub profile: JweProfile,
}

impl fmt::Debug for DecryptedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedMessage")
            .field("plaintext_len", &self.plaintext.len())
            .field("profile", &self.profile)
            .finish()
    }
}

/// Why a message could not be decrypted. Every cryptographic failure is the same
/// [`DecryptError::Undecryptable`], so callers cannot learn which check failed.
#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    /// No key pair with this id is held.
    #[error("unknown crypto key id")]
    UnknownKey,
    /// Not a JWE this service accepts, or it does not decrypt under the key.
    #[error("message could not be decrypted")]
    Undecryptable,
}

/// Message encryption (D5): JWE compact serialization with RSA-OAEP key wrapping and AES-GCM.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MessageCipher: Send + Sync {
    /// Decrypts a compact JWE sent to the server key pair `key_id`. Only `RSA-OAEP-256` and
    /// `RSA-OAEP` with `A128GCM` or `A256GCM` are accepted; anything else (`none`, `dir`,
    /// compression, a tampered part) is [`DecryptError::Undecryptable`].
    ///
    /// # Errors
    /// [`DecryptError::UnknownKey`] when no key pair has this id.
    fn decrypt(
        &self,
        key_id: &CryptoKeyId,
        compact: &str,
    ) -> Result<DecryptedMessage, DecryptError>;

    /// Encrypts `plaintext` to the client public key of `key_id` with `profile`, as a compact JWE.
    ///
    /// # Errors
    /// [`PortError`] when the key is unknown or encryption fails.
    fn encrypt(
        &self,
        key_id: &CryptoKeyId,
        plaintext: &[u8],
        profile: JweProfile,
    ) -> Result<String, PortError>;
}

/// The HMAC of the tran token (D4).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TranTokenSigner: Send + Sync {
    /// Standard Base64 without padding of HMAC-SHA256(`secret`, `body`).
    fn sign(&self, secret: &SecretKey, body: &[u8]) -> String;

    /// Whether `signature_base64` (43 characters, unpadded) is the HMAC of `body` under
    /// `secret`. The comparison must take the same time whatever the signature.
    fn verify(&self, secret: &SecretKey, body: &[u8], signature_base64: &str) -> bool;
}
