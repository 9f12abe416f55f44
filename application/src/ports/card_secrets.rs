use std::fmt;

use async_trait::async_trait;
use prepaid_domain::{CardApplyNo, CardId, DeliveryAddress, Pan, Par};

use super::PortError;

/// A PAN encrypted with authenticated encryption under a data key (D7), bound to its card.
#[derive(Clone, PartialEq, Eq)]
pub struct ProtectedPan {
    /// Which data key encrypted it, so keys can rotate.
    pub key_id: String,
    /// The nonce, ciphertext and tag, as the implementation lays them out.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for ProtectedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedPan")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// A delivery address encrypted with authenticated encryption under a data key, bound to its
/// application: personal data, never stored in plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedAddress {
    /// Which data key encrypted it, so keys can rotate.
    pub key_id: String,
    /// The nonce, ciphertext and tag, as the implementation lays them out.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedAddress")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// What a protected PAN is bound to (the associated data of its encryption): moved to another
/// card, it does not decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanBinding<'a> {
    /// The card's own id: every card issued since cards have one.
    Card(&'a CardId),
    /// The card's PAR: cards issued before (their PAN is kept as it was encrypted).
    Par(&'a Par),
}

/// A keyed fingerprint (HMAC) of a PAN: equal PANs have equal fingerprints under one key;
/// without the key it reveals nothing of the PAN (PCI DSS 3.5.1.1). It carries the id of the
/// index key it was made with, so that the key can rotate.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PanFingerprint {
    /// The index key's id.
    pub key_id: String,
    /// The HMAC.
    pub digest: [u8; 32],
}

/// A keyed fingerprint of a request payload, to recognise retries (D6) without storing it,
/// with the id of the index key it was made with: a retry is compared under that key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestFingerprint {
    /// The index key's id.
    pub key_id: String,
    /// The HMAC.
    pub digest: [u8; 32],
}

impl fmt::Debug for PanFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanFingerprint(..)")
    }
}

impl fmt::Debug for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestFingerprint(..)")
    }
}

/// Protection of card secrets at rest.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardSecrets: Send + Sync {
    /// Encrypts `pan` for storage, binding it to the card `par` (as associated data), with a fresh
    /// nonce each time.
    ///
    /// # Errors
    /// [`PortError`] when the data key is unavailable.
    #[allow(
        clippy::elidable_lifetime_names,
        reason = "the generated mock needs the lifetime named"
    )]
    fn protect<'a>(&self, pan: &Pan, binding: PanBinding<'a>) -> Result<ProtectedPan, PortError>;

    /// Decrypts a PAN protected by [`CardSecrets::protect`] with the same `binding`.
    ///
    /// # Errors
    /// [`PortError`] when the key is unknown or the ciphertext was altered or moved to another
    /// card.
    #[allow(
        clippy::elidable_lifetime_names,
        reason = "the generated mock needs the lifetime named"
    )]
    fn reveal<'a>(
        &self,
        protected: &ProtectedPan,
        binding: PanBinding<'a>,
    ) -> Result<Pan, PortError>;

    /// Encrypts `address` for storage under the current data key, bound to application
    /// `application`, with a fresh nonce each time.
    ///
    /// # Errors
    /// [`PortError`] when the data key is unavailable.
    fn seal_address(
        &self,
        address: &DeliveryAddress,
        application: &CardApplyNo,
    ) -> Result<SealedAddress, PortError>;

    /// Decrypts an address sealed by [`CardSecrets::seal_address`] for `application`.
    ///
    /// # Errors
    /// [`PortError`] when the key is unknown or the ciphertext was altered or moved to another
    /// application.
    fn open_address(
        &self,
        sealed: &SealedAddress,
        application: &CardApplyNo,
    ) -> Result<DeliveryAddress, PortError>;

    /// The keyed fingerprint of `pan` under the current index key, for uniqueness and
    /// look-ups.
    fn fingerprint(&self, pan: &Pan) -> PanFingerprint;

    /// The keyed fingerprint of a request's canonical form under the current index key.
    fn request_fingerprint(&self, canonical_form: &str) -> RequestFingerprint;

    /// The same under the index key `key_id` (current or retired), to compare a retry with a
    /// fingerprint recorded before a rotation; `None` when no key has that id.
    fn request_fingerprint_with(
        &self,
        key_id: &str,
        canonical_form: &str,
    ) -> Option<RequestFingerprint>;
}
