use async_trait::async_trait;
use prepaid_domain::{Cvc, Expiry, Pan};

use super::PortError;

/// Card verification codes (D7): derived on demand from the PAN and the expiry with a card
/// verification key, the way payment HSMs compute CVV; never stored.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardVerification: Send + Sync {
    /// The id of the key new cards are derived with; recorded with each card, so that a
    /// rotation leaves every existing card's CVC as it was.
    fn current_key_id(&self) -> String;

    /// The CVC of the card `pan` expiring at `expiry`, with the key `key_id` (current or
    /// retired). The same inputs always give the same CVC.
    ///
    /// # Errors
    /// [`PortError`] when no key has that id (a retired key was dropped from the
    /// configuration).
    fn derive(&self, key_id: &str, pan: &Pan, expiry: Expiry) -> Result<Cvc, PortError>;
}
