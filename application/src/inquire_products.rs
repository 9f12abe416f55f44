//! The use case "Card product inquiry" (`POST /api/v1/service/info/list`, D23): what the
//! operator's catalogue says of the products asked for. It changes nothing.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{CardProduct, ServiceId};

use crate::inbound::InquireProducts;
use crate::ports::{PortError, ProductCatalogue};

/// Answers product inquiries from the catalogue.
#[derive(Clone)]
pub struct ProductInquiryService {
    products: Arc<dyn ProductCatalogue>,
}

impl ProductInquiryService {
    /// A service reading `products`.
    pub fn new(products: Arc<dyn ProductCatalogue>) -> Self {
        Self { products }
    }
}

#[async_trait]
impl InquireProducts for ProductInquiryService {
    async fn offers(&self, id: &ServiceId) -> Result<bool, PortError> {
        Ok(self
            .products
            .find(id)
            .await?
            .is_some_and(|product| product.active && product.id == *id))
    }

    async fn products(&self, ids: &[ServiceId]) -> Result<Vec<CardProduct>, PortError> {
        let mut seen = HashSet::with_capacity(ids.len());
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            if let Some(product) = self.products.find(id).await?
                && product.id == *id
            {
                found.push(product);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use prepaid_domain::{Bin, ProductName, ProductType, Validity};

    use super::*;
    use crate::ports::MockProductCatalogue;

    fn id(text: &str) -> ServiceId {
        ServiceId::parse(text).unwrap()
    }

    fn product(text: &str, active: bool) -> CardProduct {
        CardProduct {
            id: id(text),
            name: ProductName::parse("Prepaid").unwrap(),
            bin: Bin::parse("943512").unwrap(),
            product_type: ProductType::Normal,
            pre_issuance: false,
            giftable: false,
            validity: Validity::DEFAULT,
            active,
        }
    }

    fn catalogue_of(products: Vec<CardProduct>) -> MockProductCatalogue {
        let mut catalogue = MockProductCatalogue::new();
        catalogue.expect_find().returning(move |asked| {
            Ok(products
                .iter()
                .find(|product| product.id == *asked)
                .cloned())
        });
        catalogue
    }

    #[tokio::test]
    async fn known_products_are_answered_in_the_order_asked_and_unknown_ones_left_out() {
        let service = ProductInquiryService::new(Arc::new(catalogue_of(vec![
            product("000170000002000", true),
            product("000170000006000", false),
        ])));
        let asked = [
            id("000170000006000"),
            id("999999999999999"),
            id("000170000002000"),
        ];
        let found = service.products(&asked).await.unwrap();
        assert_eq!(
            found,
            vec![
                product("000170000006000", false),
                product("000170000002000", true)
            ]
        );
    }

    #[tokio::test]
    async fn an_id_asked_twice_is_read_and_answered_once() {
        let mut catalogue = MockProductCatalogue::new();
        catalogue
            .expect_find()
            .with(eq(id("000170000002000")))
            .times(1)
            .returning(|_| Ok(Some(product("000170000002000", true))));
        let service = ProductInquiryService::new(Arc::new(catalogue));
        let asked = [id("000170000002000"), id("000170000002000")];
        assert_eq!(service.products(&asked).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_catalogue_answering_another_product_than_asked_is_not_believed() {
        let mut catalogue = MockProductCatalogue::new();
        catalogue
            .expect_find()
            .returning(|_| Ok(Some(product("000170000002000", true))));
        let service = ProductInquiryService::new(Arc::new(catalogue));
        assert!(
            service
                .products(&[id("000170000003000")])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(!service.offers(&id("000170000003000")).await.unwrap());
    }

    #[tokio::test]
    async fn only_an_active_product_is_offered() {
        let service = ProductInquiryService::new(Arc::new(catalogue_of(vec![
            product("000170000002000", true),
            product("000170000006000", false),
        ])));
        assert!(service.offers(&id("000170000002000")).await.unwrap());
        assert!(!service.offers(&id("000170000006000")).await.unwrap());
        assert!(!service.offers(&id("999999999999999")).await.unwrap());
    }

    #[tokio::test]
    async fn a_catalogue_failure_is_answered_as_unavailable() {
        let mut catalogue = MockProductCatalogue::new();
        catalogue
            .expect_find()
            .returning(|_| Err(PortError::msg("catalogue down")));
        let service = ProductInquiryService::new(Arc::new(catalogue));
        assert!(service.products(&[id("000170000002000")]).await.is_err());
        assert!(service.offers(&id("000170000002000")).await.is_err());
    }
}
