//! A [`ProductCatalogue`] read from the shared catalogue (the database) at most once per period
//! and answered from memory in between: every instance serves the same products, and a request
//! never waits for a database round trip to read one. Unknown product ids cost nothing: the
//! whole catalogue is in memory, so no id, however many are sent, makes the cache read again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use prepaid_domain::{CardProduct, ServiceId, Timestamp};

use crate::ports::{Clock, PortError, ProductCatalogue};

/// The catalogue of `inner`, read again once `ttl_millis` have passed since the last read. A
/// product changed in the shared catalogue (an instance started with a new catalogue file) is
/// served by every instance at the latest `ttl_millis` later.
pub struct CachedProductCatalogue {
    inner: Arc<dyn ProductCatalogue>,
    clock: Arc<dyn Clock>,
    ttl_millis: i64,
    snapshot: Mutex<Option<Snapshot>>,
}

/// The products as last read, and until when they are served.
struct Snapshot {
    products: Arc<HashMap<ServiceId, CardProduct>>,
    expires: Timestamp,
}

impl CachedProductCatalogue {
    /// A cache over `inner` keeping what it read `ttl_millis`.
    pub fn new(inner: Arc<dyn ProductCatalogue>, clock: Arc<dyn Clock>, ttl_millis: i64) -> Self {
        Self {
            inner,
            clock,
            ttl_millis,
            snapshot: Mutex::new(None),
        }
    }

    /// The live snapshot, reading the catalogue again when there is none.
    async fn products(&self) -> Result<Arc<HashMap<ServiceId, CardProduct>>, PortError> {
        let now = self.clock.now();
        if let Some(snapshot) = self
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|snapshot| snapshot.expires > now)
        {
            return Ok(snapshot.products.clone());
        }
        let products: Arc<HashMap<ServiceId, CardProduct>> = Arc::new(
            self.inner
                .all()
                .await?
                .into_iter()
                .map(|product| (product.id.clone(), product))
                .collect(),
        );
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
            products: products.clone(),
            expires: now.plus_millis(self.ttl_millis),
        });
        Ok(products)
    }
}

#[async_trait]
impl ProductCatalogue for CachedProductCatalogue {
    async fn find(&self, id: &ServiceId) -> Result<Option<CardProduct>, PortError> {
        Ok(self.products().await?.get(id).cloned())
    }

    async fn all(&self) -> Result<Vec<CardProduct>, PortError> {
        let mut all: Vec<CardProduct> = self.products().await?.values().cloned().collect();
        all.sort_by(|left, right| left.id.as_str().cmp(right.id.as_str()));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use prepaid_domain::{Bin, ProductName, ProductType, Validity};

    use super::*;
    use crate::ports::{MockClock, MockProductCatalogue};

    fn product(id: &str, active: bool) -> CardProduct {
        CardProduct {
            id: ServiceId::parse(id).unwrap(),
            name: ProductName::parse("Prepaid").unwrap(),
            bin: Bin::parse("943512").unwrap(),
            product_type: ProductType::Mobile,
            pre_issuance: false,
            giftable: false,
            validity: Validity::DEFAULT,
            active,
        }
    }

    fn clock_at(now: &Arc<AtomicI64>) -> MockClock {
        let seen = now.clone();
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(seen.load(Ordering::SeqCst)));
        clock
    }

    #[tokio::test]
    async fn the_catalogue_is_read_once_per_period_whatever_is_asked_in_between() {
        let reads = Arc::new(AtomicI64::new(0));
        let counted = reads.clone();
        let mut inner = MockProductCatalogue::new();
        inner.expect_find().never();
        inner.expect_all().returning(move || {
            let read = counted.fetch_add(1, Ordering::SeqCst);
            // The second read finds the product suspended.
            Ok(vec![product("000170000002000", read == 0)])
        });
        let now = Arc::new(AtomicI64::new(0));
        let cache = CachedProductCatalogue::new(Arc::new(inner), Arc::new(clock_at(&now)), 5_000);
        let known = ServiceId::parse("000170000002000").unwrap();
        let unknown = ServiceId::parse("999999999999999").unwrap();

        assert!(cache.find(&known).await.unwrap().unwrap().active);
        for _ in 0..100 {
            assert!(cache.find(&unknown).await.unwrap().is_none());
        }
        now.store(4_999, Ordering::SeqCst);
        assert!(
            cache.find(&known).await.unwrap().unwrap().active,
            "from memory"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);

        now.store(5_000, Ordering::SeqCst);
        assert!(
            !cache.find(&known).await.unwrap().unwrap().active,
            "read again"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(cache.all().await.unwrap().len(), 1);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_read_is_an_error_and_the_next_request_reads_again() {
        let reads = Arc::new(AtomicI64::new(0));
        let counted = reads.clone();
        let mut inner = MockProductCatalogue::new();
        inner.expect_all().returning(move || {
            if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(PortError::msg("database down"))
            } else {
                Ok(vec![product("000170000002000", true)])
            }
        });
        let now = Arc::new(AtomicI64::new(0));
        let cache = CachedProductCatalogue::new(Arc::new(inner), Arc::new(clock_at(&now)), 5_000);
        let known = ServiceId::parse("000170000002000").unwrap();

        assert!(cache.find(&known).await.is_err());
        assert!(cache.find(&known).await.unwrap().is_some());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn every_product_is_listed_in_id_order() {
        let mut inner = MockProductCatalogue::new();
        inner.expect_all().returning(|| {
            Ok(vec![
                product("000170000004000", true),
                product("000170000002000", false),
                product("000170000003000", true),
            ])
        });
        let now = Arc::new(AtomicI64::new(0));
        let cache = CachedProductCatalogue::new(Arc::new(inner), Arc::new(clock_at(&now)), 5_000);
        let ids: Vec<String> = cache
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|product| product.id.as_str().to_owned())
            .collect();
        assert_eq!(
            ids,
            ["000170000002000", "000170000003000", "000170000004000"]
        );
    }
}
