//! Recording issuances: the rows one issuance writes, in one transaction or the writer's savepoint.

use prepaid_application::ports::{IdempotencyClaim, NewIssuedCard, StoredApplication};
use prepaid_domain::{DeliveryStatus, MemberId};

use crate::rows::{DeliveryStepRow, PAN_BOUND_TO_CARD_ID};

use super::lifecycle::{change_cards, stored_version};

use super::{
    AspId, CardApplicationStore, CardApplyNo, CardId, CardKind, CardRow, Database, DatabaseError,
    DatabaseErrorKind, DieselError, Expiry, ExpressionMethods, IdempotencyKey, IdempotencyRecord,
    IdempotencyRow, IdempotencyStore, NewApplicationRow, NewCardRow, NewDeliveryRow,
    NewIdempotencyRow, NewIssuance, OptionalExtension, Par, PortError, ProtectedPan, Purpose,
    QueryDsl, RecordError, RequestFingerprint, RunQueryDsl, SelectableHelper, StoredCard,
    StoredIssuance, Timestamp, UniqueNumber, async_trait, card_applications, cards, deliveries,
    delivery_steps, idempotency_records, on_conn,
};

/// Whether a member is active, read inside a write so that a card is made only for an active
/// member: on PostgreSQL the member's row is held shared until the write commits, so that a
/// membership cancellation (which updates the row) waits for it and then finds the card, or
/// cancels first and this finds the member cancelled; SQLite's writes are serialised already.
pub(super) trait ActiveMember {
    /// `true` when member `member` of `asp_id` is active (and, on PostgreSQL, now held).
    fn holds_active_member(&mut self, asp_id: &str, member: &str) -> Result<bool, DieselError>;
}

impl ActiveMember for diesel::SqliteConnection {
    fn holds_active_member(&mut self, asp_id: &str, member: &str) -> Result<bool, DieselError> {
        use diesel::dsl::{exists, select};
        select(exists(
            super::members::table
                .filter(super::members::asp_id.eq(asp_id))
                .filter(super::members::member_id.eq(member))
                .filter(super::members::status.eq(prepaid_domain::MemberStatus::Active.as_str())),
        ))
        .get_result(self)
    }
}

impl ActiveMember for diesel::PgConnection {
    fn holds_active_member(&mut self, asp_id: &str, member: &str) -> Result<bool, DieselError> {
        Ok(super::members::table
            .filter(super::members::asp_id.eq(asp_id))
            .filter(super::members::member_id.eq(member))
            .filter(super::members::status.eq(prepaid_domain::MemberStatus::Active.as_str()))
            .select(super::members::member_id)
            .for_share()
            .first::<String>(self)
            .optional()?
            .is_some())
    }
}

/// Which unique number (or the idempotency key) a unique violation is about.
pub(super) fn classify_unique_violation(
    info: &dyn diesel::result::DatabaseErrorInformation,
) -> RecordError {
    // PostgreSQL names the constraint; SQLite names `table.column` in the message.
    let text = format!(
        "{} {}",
        info.constraint_name().unwrap_or(""),
        info.message()
    );
    if text.contains("idempotency_records") {
        RecordError::KeyTaken
    } else if text.contains("pan_fingerprint") {
        RecordError::NumberTaken(UniqueNumber::Pan)
    } else if text.contains("cards") {
        RecordError::NumberTaken(UniqueNumber::Par)
    } else {
        RecordError::NumberTaken(UniqueNumber::ApplicationNumber)
    }
}

/// The rows one issuance writes.
pub(super) struct IssuanceRows<'a> {
    pub(crate) application: NewApplicationRow<'a>,
    pub(crate) card: Option<NewCardRow<'a>>,
    pub(crate) delivery: Option<NewDeliveryRow<'a>>,
    pub(crate) first_step: Option<DeliveryStepRow>,
    pub(crate) claim: NewIdempotencyRow<'a>,
}

impl<'a> IssuanceRows<'a> {
    pub(super) fn of(issuance: &'a NewIssuance, retention_millis: i64) -> Self {
        let application = &issuance.application;
        let apply_no = application.number.as_str();
        let asp_id = issuance.claim.key.asp_id.as_str();
        let created_at = application.created_at.as_millis();
        Self {
            application: NewApplicationRow {
                apply_no,
                asp_id,
                member_id: application.member.get().to_string(),
                service_id: application.product.as_str(),
                application_type: application.application_type.as_str(),
                status: application.status.as_str(),
                purpose: application.purpose.map(Purpose::as_str),
                created_at,
                updated_at: created_at,
                replaces_card_id: issuance
                    .replacing
                    .as_ref()
                    .map(|replacing| replacing.card.as_str()),
            },
            card: issuance
                .card
                .as_ref()
                .map(|card| new_card_row(asp_id, &application.number, card, created_at)),
            delivery: issuance.delivery.as_ref().map(|delivery| NewDeliveryRow {
                apply_no,
                asp_id,
                address_key_id: &delivery.address.key_id,
                address_sealed: &delivery.address.ciphertext,
                status: DeliveryStatus::Ready.as_str(),
                created_at: delivery.created_at.as_millis(),
                updated_at: delivery.created_at.as_millis(),
            }),
            first_step: issuance.delivery.as_ref().map(|delivery| DeliveryStepRow {
                apply_no: apply_no.to_owned(),
                step: 0,
                status: DeliveryStatus::Ready.as_str().to_owned(),
                reached_at: delivery.created_at.as_millis(),
            }),
            claim: claim_row(&issuance.claim, retention_millis),
        }
    }
}

/// The row of `card`, made at `created_at` for application `number` of `asp_id`.
pub(super) fn new_card_row<'a>(
    asp_id: &'a str,
    number: &'a CardApplyNo,
    card: &'a NewIssuedCard,
    created_at: i64,
) -> NewCardRow<'a> {
    NewCardRow {
        card_id: card.card.id.as_str(),
        par: card.card.par.as_str(),
        asp_id,
        apply_no: number.as_str(),
        member_id: card.card.owner.get().to_string(),
        kind: card.card.kind.as_str(),
        status: card.card.status.as_str(),
        expiry: card.card.expiry.to_yymm(),
        linked_card_id: card.card.linked_to.as_ref().map(CardId::as_str),
        pan_ciphertext: &card.protected_pan.ciphertext,
        pan_key_id: &card.protected_pan.key_id,
        // A new card's PAN is always bound to its id (`CardSecrets::protect` with
        // `PanBinding::Card`).
        pan_bound_to: PAN_BOUND_TO_CARD_ID,
        pan_fingerprint: &card.pan_fingerprint.digest,
        pan_fingerprint_key_id: &card.pan_fingerprint.key_id,
        cvk_id: &card.cvk_id,
        version: 0,
        created_at,
        updated_at: created_at,
    }
}

/// The row of an idempotency claim, kept `retention_millis` after it was made.
pub(super) fn claim_row(claim: &IdempotencyClaim, retention_millis: i64) -> NewIdempotencyRow<'_> {
    NewIdempotencyRow {
        asp_id: claim.key.asp_id.as_str(),
        correlation_id: claim.key.correlation_id.as_str(),
        operation: claim.operation.as_str(),
        request_fingerprint: &claim.request_fingerprint.digest,
        request_fingerprint_key_id: &claim.request_fingerprint.key_id,
        outcome: &claim.outcome,
        created_at: claim.created_at.as_millis(),
        expires_at: claim
            .created_at
            .as_millis()
            .saturating_add(retention_millis),
    }
}

/// Inserts the rows of one issuance on `$conn` (any backend), inside the caller's transaction,
/// with the changes to the cards it replaces.
macro_rules! insert_issuance_rows {
    ($conn:expr, $rows:expr, $issuance:expr) => {{
        let conn = $conn;
        let rows: &IssuanceRows<'_> = $rows;
        let issuance: &NewIssuance = $issuance;
        // Only for an active member: one cancelled since it was read makes nothing of this.
        if !ActiveMember::holds_active_member(
            &mut *conn,
            rows.application.asp_id,
            &rows.application.member_id,
        )? {
            return Err(DieselError::RollbackTransaction);
        }
        diesel::insert_into(card_applications::table)
            .values(&rows.application)
            .execute(conn)?;
        if let Some(replacing) = &issuance.replacing {
            change_cards!(
                &mut *conn,
                rows.application.asp_id,
                &replacing.cards,
                rows.application.created_at
            );
        }
        if let Some(row) = &rows.card {
            diesel::insert_into(cards::table)
                .values(row)
                .execute(conn)?;
        }
        if let Some(row) = &rows.delivery {
            diesel::insert_into(deliveries::table)
                .values(row)
                .execute(conn)?;
        }
        if let Some(row) = &rows.first_step {
            diesel::insert_into(delivery_steps::table)
                .values(row)
                .execute(conn)?;
        }
        // The claim goes last: on PostgreSQL a concurrent holder of the key makes this insert
        // wait for its commit, then fail as a unique violation.
        diesel::insert_into(idempotency_records::table)
            .values(&rows.claim)
            .execute(conn)?;
        Ok::<(), DieselError>(())
    }};
}

pub(super) use insert_issuance_rows;

/// The outcome of one issuance's inserts, as the port reports it.
fn record_outcome(result: Result<(), DieselError>) -> Result<(), RecordError> {
    match result {
        Ok(()) => Ok(()),
        Err(DieselError::RollbackTransaction) => Err(RecordError::Stale),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
            Err(classify_unique_violation(info.as_ref()))
        }
        Err(error) => Err(RecordError::Unavailable(DatabaseError::from(error).into())),
    }
}

#[async_trait]
impl IdempotencyStore for Database {
    async fn find_record(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError> {
        let asp = key.asp_id.as_str().to_owned();
        let correlation = key.correlation_id.as_str().to_owned();
        let row = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(idempotency_records::table
                    .find((&asp, &correlation))
                    .select(IdempotencyRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let digest: [u8; 32] = row
            .request_fingerprint
            .try_into()
            .map_err(|_| DatabaseError::Corrupt("request fingerprint"))?;
        Ok(Some(IdempotencyRecord {
            operation: row.operation,
            request_fingerprint: RequestFingerprint {
                key_id: row.request_fingerprint_key_id,
                digest,
            },
            outcome: row.outcome,
            created_at: Timestamp::from_millis(row.created_at),
        }))
    }
}

#[async_trait]
impl CardApplicationStore for Database {
    async fn application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredApplication>, PortError> {
        self.read_application(asp_id, number).await
    }

    async fn applications_of_member(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<StoredApplication>, PortError> {
        self.read_applications_of(asp_id, member).await
    }

    async fn find_issuance(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredIssuance>, PortError> {
        let asp = asp_id.as_str().to_owned();
        let apply_no = number.as_str().to_owned();
        let found = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let application: Option<(String, i64)> = card_applications::table
                        .filter(card_applications::asp_id.eq(&asp))
                        .filter(card_applications::apply_no.eq(&apply_no))
                        .select((card_applications::apply_no, card_applications::created_at))
                        .get_result(conn)
                        .optional()?;
                    let Some((application, applied_at)) = application else {
                        return Ok(None);
                    };
                    // The mobile card issued with the application, made with it: not one
                    // issued later, at a registration.
                    let card = cards::table
                        .filter(cards::apply_no.eq(&application))
                        .filter(cards::kind.eq(CardKind::Mobile.as_str()))
                        .filter(cards::created_at.eq(applied_at))
                        .select(CardRow::as_select())
                        .get_result(conn)
                        .optional()?;
                    Ok(Some((application, card)))
                })
            })
            .await?;
        let Some((application, card)) = found else {
            return Ok(None);
        };
        let card = card
            .map(|card| {
                Ok::<_, DatabaseError>(StoredCard {
                    id: CardId::parse(&card.card_id)
                        .map_err(|_| DatabaseError::Corrupt("card_id"))?,
                    par: Par::parse(&card.par).map_err(|_| DatabaseError::Corrupt("par"))?,
                    pan_bound_to_id: card.pan_bound_to == PAN_BOUND_TO_CARD_ID,
                    expiry: Expiry::parse(&card.expiry)
                        .map_err(|_| DatabaseError::Corrupt("expiry"))?,
                    protected_pan: ProtectedPan {
                        key_id: card.pan_key_id,
                        ciphertext: card.pan_ciphertext,
                    },
                    cvk_id: card.cvk_id,
                })
            })
            .transpose()?;
        Ok(Some(StoredIssuance {
            application_number: CardApplyNo::parse(&application)
                .map_err(|_| DatabaseError::Corrupt("apply_no"))?,
            card,
        }))
    }

    async fn record_issuance(&self, issuance: &NewIssuance) -> Result<(), RecordError> {
        let issuance = issuance.clone();
        let retention = self.retention_millis;
        let written = self
            .execute(move |source| {
                let rows = IssuanceRows::of(&issuance, retention);
                on_conn!(source, |conn| insert_issuance_rows!(conn, &rows, &issuance))
            })
            .await
            .map_err(|error| RecordError::Unavailable(error.into()))?;
        record_outcome(written)
    }
}
