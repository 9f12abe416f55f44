//! Delivery addresses written before they were sealed: sealed at start-up, when the service has
//! its keys (a migration has none), and then gone from the database.

use std::sync::Arc;

use diesel::Connection as _;
use prepaid_application::ports::CardSecrets;
use prepaid_domain::{AddressDetail, CardApplyNo, DeliveryAddress, RoadAddress, ZipCode};

use super::{
    Database, DatabaseError, DieselError, ExpressionMethods, Pools, QueryDsl, RunQueryDsl,
    deliveries, unsealed_addresses, with_conn, write_transaction,
};

/// One plaintext address waiting: application number, address, detail, zip code.
type Unsealed = (String, String, String, String);

impl Database {
    /// Seals every delivery address still waiting in plaintext (written before addresses were
    /// sealed) under the current data key of `secrets`, bound to its application, and deletes
    /// the plaintext, in one transaction. Returns how many. On SQLite the file is then vacuumed,
    /// so that the freed pages holding the plaintext are gone too. An address that no longer
    /// reads as one is left as it is, with a warning naming its application only.
    ///
    /// # Errors
    /// [`DatabaseError`] when the rows cannot be read or written, or an address not sealed.
    pub async fn seal_unsealed_addresses(
        &self,
        secrets: Arc<dyn CardSecrets>,
    ) -> Result<usize, DatabaseError> {
        let waiting: Vec<Unsealed> = self
            .blocking(|pools| {
                with_conn!(pools, |conn| Ok(unsealed_addresses::table
                    .select((
                        unsealed_addresses::apply_no,
                        unsealed_addresses::address,
                        unsealed_addresses::address_detail,
                        unsealed_addresses::zip_code,
                    ))
                    .load(conn)?))
            })
            .await?;
        let mut sealed = Vec::new();
        for (apply_no, address, detail, zip_code) in waiting {
            let parsed = CardApplyNo::parse(&apply_no).ok().zip(
                RoadAddress::parse(&address)
                    .and_then(|address| {
                        Ok(DeliveryAddress {
                            address,
                            detail: AddressDetail::parse(&detail)?,
                            zip_code: ZipCode::parse(&zip_code)?,
                        })
                    })
                    .ok(),
            );
            let Some((number, address)) = parsed else {
                tracing::warn!(application = %apply_no, "a stored address does not read as one; left unsealed");
                continue;
            };
            let address = secrets
                .seal_address(&address, &number)
                .map_err(DatabaseError::Vault)?;
            sealed.push((apply_no, address));
        }
        let count = sealed.len();
        if count == 0 {
            return Ok(0);
        }
        self.blocking(move |pools| {
            write_transaction!(pools, |conn| {
                for (apply_no, address) in &sealed {
                    diesel::update(deliveries::table.find(apply_no))
                        .set((
                            deliveries::address_key_id.eq(&address.key_id),
                            deliveries::address_sealed.eq(&address.ciphertext),
                        ))
                        .execute(conn)?;
                    diesel::delete(unsealed_addresses::table.find(apply_no)).execute(conn)?;
                }
                Ok::<(), DieselError>(())
            })?;
            if let Pools::Sqlite(pool) = pools {
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                diesel::sql_query("VACUUM").execute(&mut *conn)?;
            }
            Ok(())
        })
        .await?;
        tracing::info!(count, "delivery addresses written before were sealed");
        Ok(count)
    }
}
