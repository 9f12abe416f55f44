use async_trait::async_trait;
use prepaid_domain::{CardProduct, ServiceId};

use super::PortError;

/// The operator's card products (D8).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProductCatalogue: Send + Sync {
    /// The product with this id, active or not; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// [`PortError`] only when the catalogue cannot be read.
    async fn find(&self, id: &ServiceId) -> Result<Option<CardProduct>, PortError>;

    /// Every product, active or not (an operator's catalogue: tens of products, not millions).
    ///
    /// # Errors
    /// [`PortError`] only when the catalogue cannot be read.
    async fn all(&self) -> Result<Vec<CardProduct>, PortError>;
}
