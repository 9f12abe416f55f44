//! A client's side of message encryption (D5): encrypting requests to the server public key and
//! decrypting answers with the client private key, through `josekit` on OpenSSL. Not part of
//! the service: the client command, the load generator and the tests use it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::alg::rsaes::RsaesJweEncrypter;
use josekit::jwe::{self, JweDecrypter, JweHeader, RSA_OAEP, RSA_OAEP_256};
use openssl::pkey::PKey;
use prepaid_application::PortError;
use prepaid_application::ports::{ContentEncryption, JweProfile, KeyWrapping};

/// Encrypts `plaintext` to `public_pem` as a compact JWE: what a client does with the server
/// public key.
///
/// # Errors
/// [`PortError`] when the key is not an RSA public key or encryption fails.
pub fn encrypt_to(
    public_pem: &str,
    plaintext: &[u8],
    profile: JweProfile,
) -> Result<String, PortError> {
    RequestEncrypter::new(public_pem, profile)?.encrypt(plaintext)
}

/// A client's encrypter for one server public key, parsed once: a fresh content key, wrapped
/// to the server key, for every message.
pub struct RequestEncrypter {
    encrypter: RsaesJweEncrypter,
    header: JweHeader,
}

impl RequestEncrypter {
    /// Parses `public_pem` for `profile`.
    ///
    /// # Errors
    /// [`PortError`] when the key is not an RSA public key.
    pub fn new(public_pem: &str, profile: JweProfile) -> Result<Self, PortError> {
        let mut header = JweHeader::new();
        header.set_content_encryption(profile.content.as_str());
        let encrypter = match profile.key_wrapping {
            KeyWrapping::RsaOaep256 => RSA_OAEP_256.encrypter_from_pem(public_pem.as_bytes()),
            KeyWrapping::RsaOaep => RSA_OAEP.encrypter_from_pem(public_pem.as_bytes()),
        }
        .map_err(|error| PortError::new("not an RSA public key", error))?;
        Ok(Self { encrypter, header })
    }

    /// `plaintext` as a compact JWE (a fresh content key and IV each time).
    ///
    /// # Errors
    /// [`PortError`] when encryption fails.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, PortError> {
        jwe::serialize_compact(plaintext, &self.header, &self.encrypter)
            .map_err(|error| PortError::new("JWE encryption failed", error))
    }
}

/// A load generator's encrypter: one content key, wrapped once to the server key, then many
/// messages under it, each with a fresh random 96-bit IV.
///
/// Every message is a complete compact JWE and the service unwraps its key (one RSA private-key
/// operation) for each, as for any request; only the sender skips its own RSA operation per
/// message, so that the generator's CPU does not crowd the service it measures on a shared
/// machine (docs/PERFORMANCE.md). Not for real clients: every message under one content key is
/// exposed together if that key ever leaks.
pub struct SharedKeyEncrypter {
    protected: String,
    encrypted_key: String,
    content_key: Vec<u8>,
    cipher: openssl::symm::Cipher,
}

impl SharedKeyEncrypter {
    /// Draws a content key for `profile` and wraps it to `public_pem`.
    ///
    /// # Errors
    /// [`PortError`] when the key is not an RSA public key or wrapping fails.
    pub fn new(public_pem: &str, profile: JweProfile) -> Result<Self, PortError> {
        let public = PKey::public_key_from_pem(public_pem.as_bytes())
            .map_err(|error| PortError::new("not an RSA public key", error))?;
        let (cipher, key_len) = match profile.content {
            ContentEncryption::A128Gcm => (openssl::symm::Cipher::aes_128_gcm(), 16),
            ContentEncryption::A256Gcm => (openssl::symm::Cipher::aes_256_gcm(), 32),
        };
        let mut content_key = vec![0_u8; key_len];
        openssl::rand::rand_bytes(&mut content_key)
            .map_err(|error| PortError::new("no randomness", error))?;
        let wrap = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
            let mut encrypter = openssl::encrypt::Encrypter::new(&public)?;
            encrypter.set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP)?;
            let digest = match profile.key_wrapping {
                KeyWrapping::RsaOaep256 => openssl::hash::MessageDigest::sha256(),
                KeyWrapping::RsaOaep => openssl::hash::MessageDigest::sha1(),
            };
            encrypter.set_rsa_oaep_md(digest)?;
            encrypter.set_rsa_mgf1_md(digest)?;
            let mut wrapped = vec![0_u8; encrypter.encrypt_len(&content_key)?];
            let length = encrypter.encrypt(&content_key, &mut wrapped)?;
            wrapped.truncate(length);
            Ok(wrapped)
        };
        let wrapped = wrap().map_err(|error| PortError::new("key wrapping failed", error))?;
        let header = format!(
            "{{\"alg\":\"{}\",\"enc\":\"{}\"}}",
            profile.key_wrapping.as_str(),
            profile.content.as_str()
        );
        Ok(Self {
            protected: URL_SAFE_NO_PAD.encode(header),
            encrypted_key: URL_SAFE_NO_PAD.encode(wrapped),
            content_key,
            cipher,
        })
    }

    /// `plaintext` as a compact JWE under the shared content key and a fresh IV.
    ///
    /// # Errors
    /// [`PortError`] when encryption fails.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, PortError> {
        let mut iv = [0_u8; 12];
        openssl::rand::rand_bytes(&mut iv)
            .map_err(|error| PortError::new("no randomness", error))?;
        let mut tag = [0_u8; 16];
        let ciphertext = openssl::symm::encrypt_aead(
            self.cipher,
            &self.content_key,
            Some(&iv),
            self.protected.as_bytes(),
            plaintext,
            &mut tag,
        )
        .map_err(|error| PortError::new("JWE encryption failed", error))?;
        Ok(format!(
            "{}.{}.{}.{}.{}",
            self.protected,
            self.encrypted_key,
            URL_SAFE_NO_PAD.encode(iv),
            URL_SAFE_NO_PAD.encode(ciphertext),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }
}

impl fmt::Debug for SharedKeyEncrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKeyEncrypter")
            .field("content_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Decrypts a compact JWE with `private_pem`: what a client does with its client private key.
///
/// # Errors
/// [`PortError`] when the key is not an RSA private key or the JWE does not decrypt.
pub fn decrypt_with(private_pem: &str, compact: &str) -> Result<Vec<u8>, PortError> {
    let oaep = RSA_OAEP
        .decrypter_from_pem(private_pem.as_bytes())
        .map_err(|error| PortError::new("not an RSA private key", error))?;
    let oaep256 = RSA_OAEP_256
        .decrypter_from_pem(private_pem.as_bytes())
        .map_err(|error| PortError::new("not an RSA private key", error))?;
    let (plaintext, _) = jwe::deserialize_compact_with_selector(compact, |header| {
        Ok(match header.algorithm() {
            Some("RSA-OAEP-256") => Some(&oaep256 as &dyn JweDecrypter),
            Some("RSA-OAEP") => Some(&oaep as &dyn JweDecrypter),
            _ => None,
        })
    })
    .map_err(|error| PortError::new("JWE does not decrypt", error))?;
    Ok(plaintext)
}
