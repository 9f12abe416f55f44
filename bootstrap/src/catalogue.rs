//! The product catalogue served from memory: products come from configuration and change only
//! at start-up (when they are also written to the database, for its foreign keys), so a
//! request never needs a database round trip to read one.

use std::collections::HashMap;

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::ProductCatalogue;
use prepaid_domain::{CardProduct, ServiceId};

/// The configured products, by id.
#[derive(Clone, Debug)]
pub struct ConfiguredProducts(HashMap<ServiceId, CardProduct>);

impl ConfiguredProducts {
    /// A catalogue of `products`.
    pub fn new(products: impl IntoIterator<Item = CardProduct>) -> Self {
        Self(
            products
                .into_iter()
                .map(|product| (product.id.clone(), product))
                .collect(),
        )
    }
}

#[async_trait]
impl ProductCatalogue for ConfiguredProducts {
    async fn find(&self, id: &ServiceId) -> Result<Option<CardProduct>, PortError> {
        Ok(self.0.get(id).cloned())
    }
}
