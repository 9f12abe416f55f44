use async_trait::async_trait;
use prepaid_domain::{Cvc, Expiry, Pan};

use super::PortError;

/// Card verification codes (D7): derived on demand from the PAN and the expiry with a card
/// verification key, the way payment HSMs compute CVV; never stored.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardVerification: Send + Sync {
    /// The CVC of the card `pan` expiring at `expiry`. The same inputs must always give the same
    /// CVC for as long as the verification key is in service.
    ///
    /// # Errors
    /// [`PortError`] when the key is unavailable.
    fn derive(&self, pan: &Pan, expiry: Expiry) -> Result<Cvc, PortError>;
}
