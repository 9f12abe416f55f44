//! The sandbox's fixture applications, written with their past: a documented example of an
//! inquiry is then exactly what the sandbox answers.

use prepaid_application::ports::{SealedAddress, StoredApplication};
use prepaid_domain::{CardId, DeliveryHistory};

use diesel::Connection as _;

use super::{
    AspId, Database, DatabaseError, ExpressionMethods, NewApplicationRow, NewDeliveryRow, Purpose,
    QueryDsl, RunQueryDsl, card_applications, deliveries, delivery_steps, write_transaction,
};
use crate::rows::DeliveryStepRow;

impl Database {
    /// Adds `stored` (an application of project `asp_id` at its version) with its delivery to
    /// `address` (sealed for it) and the delivery's whole `history`, in one transaction, unless an application
    /// with its number exists: a fixture is written once and never overwritten. Answers whether
    /// it was added.
    ///
    /// # Errors
    /// [`DatabaseError`] when the write fails; nothing of it is written then.
    pub async fn save_fixture_application(
        &self,
        asp_id: &AspId,
        stored: &StoredApplication,
        address: &SealedAddress,
        history: &DeliveryHistory,
    ) -> Result<bool, DatabaseError> {
        let asp = asp_id.as_str().to_owned();
        let (stored, address, history) = (stored.clone(), address.clone(), history.clone());
        self.blocking(move |pools| {
            let application = &stored.application;
            let apply_no = application.number.as_str();
            let created_at = application.created_at.as_millis();
            let last = history
                .steps()
                .last()
                .map_or(created_at, |step| step.at.as_millis());
            let version =
                |value: usize| i64::try_from(value).map_err(|_| DatabaseError::Corrupt("version"));
            let application_version =
                i64::try_from(stored.version).map_err(|_| DatabaseError::Corrupt("version"))?;
            // A step's number is the delivery's version when it was reached.
            let delivery_version = version(history.steps().len().saturating_sub(1))?;
            let steps = history
                .steps()
                .iter()
                .enumerate()
                .map(|(step, reached)| {
                    Ok(DeliveryStepRow {
                        apply_no: apply_no.to_owned(),
                        step: version(step)?,
                        status: reached.status.as_str().to_owned(),
                        reached_at: reached.at.as_millis(),
                    })
                })
                .collect::<Result<Vec<_>, DatabaseError>>()?;
            let added = write_transaction!(pools, |conn| {
                let inserted = diesel::insert_into(card_applications::table)
                    .values(&NewApplicationRow {
                        apply_no,
                        asp_id: &asp,
                        member_id: application.member.get().to_string(),
                        service_id: application.product.as_str(),
                        application_type: application.application_type.as_str(),
                        status: application.status.as_str(),
                        purpose: application.purpose.map(Purpose::as_str),
                        created_at,
                        updated_at: last,
                        replaces_card_id: stored.replaces.as_ref().map(CardId::as_str),
                    })
                    .on_conflict_do_nothing()
                    .execute(conn)?;
                if inserted == 0 {
                    return Ok::<_, diesel::result::Error>(false);
                }
                diesel::update(
                    card_applications::table.filter(card_applications::apply_no.eq(apply_no)),
                )
                .set(card_applications::version.eq(application_version))
                .execute(conn)?;
                diesel::insert_into(deliveries::table)
                    .values(&NewDeliveryRow {
                        apply_no,
                        asp_id: &asp,
                        address_key_id: &address.key_id,
                        address_sealed: &address.ciphertext,
                        status: history.current().as_str(),
                        created_at,
                        updated_at: last,
                    })
                    .execute(conn)?;
                diesel::update(deliveries::table.filter(deliveries::apply_no.eq(apply_no)))
                    .set(deliveries::version.eq(delivery_version))
                    .execute(conn)?;
                diesel::insert_into(delivery_steps::table)
                    .values(&steps)
                    .execute(conn)?;
                Ok(true)
            })?;
            Ok(added)
        })
        .await
    }
}
