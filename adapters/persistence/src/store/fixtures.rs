//! The sandbox's fixture applications, written with their past: a documented example of an
//! inquiry is then exactly what the sandbox answers.

use prepaid_application::ports::{NewIssuedCard, SealedAddress, StoredApplication};
use prepaid_domain::{CardId, CardStatus, DeliveryHistory, Expiry};

use diesel::Connection as _;

use super::issuance::new_card_row;
use super::{
    AspId, Database, DatabaseError, ExpressionMethods, NewApplicationRow, NewDeliveryRow, Purpose,
    QueryDsl, RunQueryDsl, card_applications, cards, deliveries, delivery_steps, write_transaction,
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

    /// Adds `stored` (an application of project `asp_id`) with its card `card`, and with its
    /// delivery to `address` with its whole `history` when it has one: each written once,
    /// never overwritten. The card is added beside its application in a second transaction,
    /// so that a start stopped between the two adds it at the next; a card whose number or
    /// PAR another card holds is left out. Answers whether the card was added.
    ///
    /// # Errors
    /// [`DatabaseError`] when a write fails; nothing of that write is written then.
    pub async fn save_fixture_card(
        &self,
        asp_id: &AspId,
        stored: &StoredApplication,
        card: &NewIssuedCard,
        delivery: Option<(&SealedAddress, &DeliveryHistory)>,
    ) -> Result<bool, DatabaseError> {
        if let Some((address, history)) = delivery {
            self.save_fixture_application(asp_id, stored, address, history)
                .await?;
        }
        let asp = asp_id.as_str().to_owned();
        let (stored, card) = (stored.clone(), card.clone());
        self.blocking(move |pools| {
            let application = &stored.application;
            let created_at = application.created_at.as_millis();
            let added = write_transaction!(pools, |conn| {
                diesel::insert_into(card_applications::table)
                    .values(&NewApplicationRow {
                        apply_no: application.number.as_str(),
                        asp_id: &asp,
                        member_id: application.member.get().to_string(),
                        service_id: application.product.as_str(),
                        application_type: application.application_type.as_str(),
                        status: application.status.as_str(),
                        purpose: application.purpose.map(Purpose::as_str),
                        created_at,
                        updated_at: created_at,
                        replaces_card_id: stored.replaces.as_ref().map(CardId::as_str),
                    })
                    .on_conflict_do_nothing()
                    .execute(conn)?;
                // Only beside an application of this project (another may hold the number).
                let owned: i64 = card_applications::table
                    .filter(card_applications::asp_id.eq(&asp))
                    .filter(card_applications::apply_no.eq(application.number.as_str()))
                    .count()
                    .get_result(conn)?;
                if owned != 1 {
                    return Ok::<_, diesel::result::Error>(false);
                }
                let inserted = diesel::insert_into(cards::table)
                    .values(&new_card_row(&asp, &application.number, &card, created_at))
                    .on_conflict_do_nothing()
                    .execute(conn)?;
                Ok(inserted == 1)
            })?;
            Ok(added)
        })
        .await
    }

    /// Moves the expiry of the card `card_id` of project `asp_id` to `expiry` while it is
    /// `ACTIVE` and no application replaces it: the sandbox's card near expiry stays near its
    /// expiry until it is renewed. Answers whether it moved.
    ///
    /// # Errors
    /// [`DatabaseError`] when the write fails.
    pub async fn keep_fixture_card_expiring(
        &self,
        asp_id: &AspId,
        card_id: &CardId,
        expiry: Expiry,
    ) -> Result<bool, DatabaseError> {
        let (asp, card_id) = (asp_id.as_str().to_owned(), card_id.as_str().to_owned());
        let expiry = expiry.to_yymm();
        self.blocking(move |pools| {
            let moved = write_transaction!(pools, |conn| {
                let replaced: i64 = card_applications::table
                    .filter(card_applications::replaces_card_id.eq(&card_id))
                    .count()
                    .get_result(conn)?;
                if replaced > 0 {
                    return Ok::<_, diesel::result::Error>(0);
                }
                diesel::update(
                    cards::table
                        .filter(cards::asp_id.eq(&asp))
                        .filter(cards::card_id.eq(&card_id))
                        .filter(cards::status.eq(CardStatus::Active.as_str()))
                        .filter(cards::expiry.ne(&expiry)),
                )
                .set((
                    cards::expiry.eq(&expiry),
                    cards::version.eq(cards::version + 1),
                ))
                .execute(conn)
            })?;
            Ok(moved == 1)
        })
        .await
    }
}
