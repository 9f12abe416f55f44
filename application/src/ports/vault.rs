use async_trait::async_trait;
use prepaid_domain::SecretKey;

use super::PortError;

/// Seals secrets (access keys' secret keys) for storage, so no secret is stored in plaintext.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SecretVault: Send + Sync {
    /// Encrypts `secret` bound to `context` (for example the access key it belongs to).
    ///
    /// # Errors
    /// [`PortError`] when the sealing key is unavailable.
    fn seal(&self, secret: &SecretKey, context: &str) -> Result<Vec<u8>, PortError>;

    /// Whether `sealed` was sealed with the key [`SecretVault::seal`] uses now (a start seals
    /// the others again).
    fn sealed_with_current_key(&self, sealed: &[u8]) -> bool;

    /// Decrypts what [`SecretVault::seal`] made for the same `context`.
    ///
    /// # Errors
    /// [`PortError`] when the key is unknown or the sealed bytes were altered or moved.
    fn unseal(&self, sealed: &[u8], context: &str) -> Result<SecretKey, PortError>;
}
