//! The reads the card lifecycle needs, per aggregate: applications by number and by member,
//! deliveries by application, cards by PAR, by PAN fingerprint, by member and by application;
//! and its state changes, versioned and whole. Every read and change is scoped to the calling
//! project (D15).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use prepaid_application::ports::{
    CardRecord, CardStore, ChangeError, DeliveryStore, LifecycleChange, LifecycleChanges,
    PanFingerprint, ProjectDelivery, RecordError, SealedAddress, StoredApplication, StoredDelivery,
};
use prepaid_domain::{
    ApplicationStatus, ApplicationType, CardApplication, CardStatus, DeliveryHistory,
    DeliveryStatus, DeliveryStep, IssuedCard,
};

use super::issuance::{claim_row, classify_unique_violation, new_card_row};
use super::{
    AspId, CardApplyNo, CardId, CardKind, Database, DatabaseError, Expiry, ExpressionMethods,
    MemberId, OptionalExtension, Par, PortError, ProtectedPan, Purpose, QueryDsl, RunQueryDsl,
    SelectableHelper, ServiceId, Timestamp, async_trait, card_applications, cards, deliveries,
    delivery_steps, idempotency_records, on_conn,
};
use crate::rows::{
    ApplicationRow, CardRecordRow, DeliveryRecordRow, DeliveryStepRow, PAN_BOUND_TO_CARD_ID,
};

fn version(stored: i64) -> Result<u64, DatabaseError> {
    u64::try_from(stored).map_err(|_| DatabaseError::Corrupt("version"))
}

fn application_from_row(row: &ApplicationRow) -> Result<StoredApplication, DatabaseError> {
    let corrupt = DatabaseError::Corrupt;
    Ok(StoredApplication {
        application: CardApplication {
            number: CardApplyNo::parse(&row.apply_no).map_err(|_| corrupt("apply_no"))?,
            member: MemberId::parse(&row.member_id).map_err(|_| corrupt("member_id"))?,
            product: ServiceId::parse(&row.service_id).map_err(|_| corrupt("service_id"))?,
            application_type: ApplicationType::parse(&row.application_type)
                .ok_or(corrupt("application_type"))?,
            status: ApplicationStatus::parse(&row.status).ok_or(corrupt("application status"))?,
            purpose: row
                .purpose
                .as_deref()
                .map(Purpose::parse)
                .transpose()
                .map_err(|_| corrupt("purpose"))?,
            created_at: Timestamp::from_millis(row.created_at),
        },
        replaces: row
            .replaces_card_id
            .as_deref()
            .map(CardId::parse)
            .transpose()
            .map_err(|_| corrupt("replaces_card_id"))?,
        version: version(row.version)?,
    })
}

/// A delivery and its steps, oldest first: the history must be one the delivery table allows,
/// ending where the delivery is, at its version.
fn delivery_from_row(
    row: &DeliveryRecordRow,
    steps: &[DeliveryStepRow],
) -> Result<StoredDelivery, DatabaseError> {
    let corrupt = DatabaseError::Corrupt;
    let read = steps
        .iter()
        .map(|step| {
            Ok(DeliveryStep {
                status: DeliveryStatus::parse(&step.status).ok_or(corrupt("delivery step"))?,
                at: Timestamp::from_millis(step.reached_at),
            })
        })
        .collect::<Result<Vec<_>, DatabaseError>>()?;
    let history = DeliveryHistory::from_steps(&read).map_err(|_| corrupt("delivery history"))?;
    let status = DeliveryStatus::parse(&row.status).ok_or(corrupt("delivery status"))?;
    // Steps numbered 0, 1, 2... and the last one numbered by the delivery's version.
    let numbered = steps
        .iter()
        .zip(0_i64..)
        .all(|(step, index)| step.step == index);
    let at_version = steps.last().is_some_and(|last| last.step == row.version);
    if history.current() != status || !numbered || !at_version {
        return Err(corrupt("delivery history"));
    }
    Ok(StoredDelivery {
        history,
        application: CardApplyNo::parse(&row.apply_no).map_err(|_| corrupt("apply_no"))?,
        address: match (&row.address_key_id, &row.address_sealed) {
            (Some(key_id), Some(ciphertext)) => Some(SealedAddress {
                key_id: key_id.clone(),
                ciphertext: ciphertext.clone(),
            }),
            (None, None) => None,
            _ => return Err(corrupt("sealed address")),
        },
        version: version(row.version)?,
    })
}

fn card_from_row(row: &CardRecordRow) -> Result<CardRecord, DatabaseError> {
    let corrupt = DatabaseError::Corrupt;
    let digest: [u8; 32] = row
        .pan_fingerprint
        .clone()
        .try_into()
        .map_err(|_| corrupt("pan_fingerprint"))?;
    Ok(CardRecord {
        card: IssuedCard {
            id: CardId::parse(&row.card_id).map_err(|_| corrupt("card_id"))?,
            par: Par::parse(&row.par).map_err(|_| corrupt("par"))?,
            owner: MemberId::parse(&row.member_id).map_err(|_| corrupt("member_id"))?,
            linked_to: row
                .linked_card_id
                .as_deref()
                .map(CardId::parse)
                .transpose()
                .map_err(|_| corrupt("linked_card_id"))?,
            expiry: Expiry::parse(&row.expiry).map_err(|_| corrupt("expiry"))?,
            kind: CardKind::parse(&row.kind).ok_or(corrupt("card kind"))?,
            status: CardStatus::parse(&row.status).ok_or(corrupt("card status"))?,
        },
        application: CardApplyNo::parse(&row.apply_no).map_err(|_| corrupt("apply_no"))?,
        protected_pan: ProtectedPan {
            key_id: row.pan_key_id.clone(),
            ciphertext: row.pan_ciphertext.clone(),
        },
        pan_bound_to_id: row.pan_bound_to == PAN_BOUND_TO_CARD_ID,
        pan_fingerprint: PanFingerprint {
            key_id: row.pan_fingerprint_key_id.clone(),
            digest,
        },
        cvk_id: row.cvk_id.clone(),
        wrong_attempts: u8::try_from(row.wrong_attempts).map_err(|_| corrupt("wrong_attempts"))?,
        version: version(row.version)?,
    })
}

/// Which cards of a project to read.
enum CardsBy {
    Par(String),
    Fingerprint(Vec<u8>, String),
    Member(String),
    Application(String),
}

impl Database {
    /// The cards of `asp_id` that `by` selects, oldest first.
    async fn cards_where(&self, asp_id: &AspId, by: CardsBy) -> Result<Vec<CardRecord>, PortError> {
        let asp = asp_id.as_str().to_owned();
        let rows = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let mine = cards::table.filter(cards::asp_id.eq(&asp)).into_boxed();
                    let selected = match &by {
                        CardsBy::Par(par) => mine.filter(cards::par.eq(par)),
                        CardsBy::Fingerprint(digest, key_id) => mine
                            .filter(cards::pan_fingerprint.eq(digest))
                            .filter(cards::pan_fingerprint_key_id.eq(key_id)),
                        CardsBy::Member(member) => mine.filter(cards::member_id.eq(member)),
                        CardsBy::Application(number) => mine.filter(cards::apply_no.eq(number)),
                    };
                    Ok(selected
                        .order((cards::created_at, cards::card_id))
                        .select(CardRecordRow::as_select())
                        .load(conn)?)
                })
            })
            .await?;
        Ok(rows
            .iter()
            .map(card_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }
}

#[async_trait]
impl CardStore for Database {
    async fn card_by_par(
        &self,
        asp_id: &AspId,
        par: &Par,
    ) -> Result<Option<CardRecord>, PortError> {
        let found = self
            .cards_where(asp_id, CardsBy::Par(par.as_str().to_owned()))
            .await?;
        Ok(found.into_iter().next())
    }

    async fn card_by_fingerprint(
        &self,
        asp_id: &AspId,
        fingerprint: &PanFingerprint,
    ) -> Result<Option<CardRecord>, PortError> {
        let by = CardsBy::Fingerprint(fingerprint.digest.to_vec(), fingerprint.key_id.clone());
        Ok(self.cards_where(asp_id, by).await?.into_iter().next())
    }

    async fn cards_of_member(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<CardRecord>, PortError> {
        self.cards_where(asp_id, CardsBy::Member(member.get().to_string()))
            .await
    }

    async fn cards_of_application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Vec<CardRecord>, PortError> {
        self.cards_where(asp_id, CardsBy::Application(number.as_str().to_owned()))
            .await
    }
}

impl Database {
    /// The application `number` of `asp_id`.
    pub(crate) async fn read_application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredApplication>, PortError> {
        let key = (asp_id.as_str().to_owned(), number.as_str().to_owned());
        let row = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(card_applications::table
                    .filter(card_applications::asp_id.eq(&key.0))
                    .filter(card_applications::apply_no.eq(&key.1))
                    .select(ApplicationRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        Ok(row.as_ref().map(application_from_row).transpose()?)
    }

    /// Every application of `member` in `asp_id`, oldest first.
    pub(crate) async fn read_applications_of(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<StoredApplication>, PortError> {
        let key = (asp_id.as_str().to_owned(), member.get().to_string());
        let rows = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(card_applications::table
                    .filter(card_applications::asp_id.eq(&key.0))
                    .filter(card_applications::member_id.eq(&key.1))
                    .order((card_applications::created_at, card_applications::apply_no))
                    .select(ApplicationRow::as_select())
                    .load(conn)?))
            })
            .await?;
        Ok(rows
            .iter()
            .map(application_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// The delivery of application `number` of `asp_id`.
    async fn read_delivery(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredDelivery>, PortError> {
        let key = (asp_id.as_str().to_owned(), number.as_str().to_owned());
        let found = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let Some(row) = deliveries::table
                        .filter(deliveries::asp_id.eq(&key.0))
                        .filter(deliveries::apply_no.eq(&key.1))
                        .select(DeliveryRecordRow::as_select())
                        .get_result(conn)
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    // The steps as of the row read: a change committed between the two reads
                    // adds a step past the row's version, left for the next read.
                    let steps = delivery_steps::table
                        .filter(delivery_steps::apply_no.eq(&key.1))
                        .filter(delivery_steps::step.le(row.version))
                        .order(delivery_steps::step)
                        .select(DeliveryStepRow::as_select())
                        .load(conn)?;
                    Ok(Some((row, steps)))
                })
            })
            .await?;
        Ok(found
            .map(|(row, steps)| delivery_from_row(&row, &steps))
            .transpose()?)
    }
}

#[async_trait]
impl DeliveryStore for Database {
    async fn delivery(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredDelivery>, PortError> {
        self.read_delivery(asp_id, number).await
    }

    async fn deliveries_in_progress(
        &self,
        project: Option<AspId>,
        limit: usize,
    ) -> Result<Vec<ProjectDelivery>, PortError> {
        let project = project.map(|asp| asp.as_str().to_owned());
        let finals: Vec<&'static str> = DeliveryStatus::ALL
            .iter()
            .filter(|status| status.is_final())
            .map(|status| status.as_str())
            .collect();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let mut query = deliveries::table
                        .filter(deliveries::status.ne_all(&finals))
                        .into_boxed();
                    if let Some(asp) = &project {
                        query = query.filter(deliveries::asp_id.eq(asp));
                    }
                    let rows = query
                        .order((deliveries::updated_at, deliveries::apply_no))
                        .limit(limit)
                        .select((deliveries::asp_id, DeliveryRecordRow::as_select()))
                        .load::<(String, DeliveryRecordRow)>(conn)?;
                    let numbers: Vec<&str> =
                        rows.iter().map(|(_, row)| row.apply_no.as_str()).collect();
                    let steps = delivery_steps::table
                        .filter(delivery_steps::apply_no.eq_any(&numbers))
                        .order((delivery_steps::apply_no, delivery_steps::step))
                        .select(DeliveryStepRow::as_select())
                        .load(conn)?;
                    Ok((rows, steps))
                })
            })
            .await?;
        let (rows, steps) = found;
        let mut steps_of: std::collections::HashMap<String, Vec<DeliveryStepRow>> =
            std::collections::HashMap::new();
        for step in steps {
            steps_of
                .entry(step.apply_no.clone())
                .or_default()
                .push(step);
        }
        let mut in_progress = Vec::with_capacity(rows.len());
        for (asp, row) in rows {
            // The steps as of the row read (a change may have committed in between).
            let mut own = steps_of.remove(&row.apply_no).unwrap_or_default();
            own.retain(|step| step.step <= row.version);
            in_progress.push(ProjectDelivery {
                asp_id: AspId::parse(&asp).map_err(|_| DatabaseError::Corrupt("asp_id"))?,
                delivery: delivery_from_row(&row, &own)?,
            });
        }
        Ok(in_progress)
    }

    async fn project_of(&self, number: &CardApplyNo) -> Result<Option<AspId>, PortError> {
        let apply_no = number.as_str().to_owned();
        let asp = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(card_applications::table
                    .filter(card_applications::apply_no.eq(&apply_no))
                    .select(card_applications::asp_id)
                    .get_result::<String>(conn)
                    .optional()?))
            })
            .await?;
        Ok(asp
            .map(|asp| AspId::parse(&asp))
            .transpose()
            .map_err(|_| DatabaseError::Corrupt("asp_id"))?)
    }
}

/// A stored version of a version read: versions start at 0 and move by one, far below `i64::MAX`.
pub(super) fn stored_version(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// Changes every card of `$changes` (of project `$asp`) on `$conn`, each only from the version
/// it was read at; a card not at its version (or not of the project) ends the change with
/// `RollbackTransaction`, so that nothing of it is written.
macro_rules! change_cards {
    ($conn:expr, $asp:expr, $changes:expr, $at:expr) => {{
        let conn = &mut *$conn;
        let changes: &[prepaid_application::ports::VersionedChange<
            prepaid_domain::CardId,
            prepaid_application::ports::CardChange,
        >] = $changes;
        for entry in changes {
            let moved = diesel::update(
                cards::table
                    .filter(cards::asp_id.eq($asp))
                    .filter(cards::card_id.eq(entry.key.as_str()))
                    .filter(cards::version.eq(stored_version(entry.from_version))),
            )
            .set((
                cards::status.eq(entry.status.status.as_str()),
                cards::wrong_attempts.eq(i16::from(entry.status.wrong_attempts)),
                cards::linked_card_id.eq(entry.status.linked_to.as_ref().map(CardId::as_str)),
                cards::version.eq(cards::version + 1),
                cards::updated_at.eq($at),
            ))
            .execute(conn)?;
            if moved != 1 {
                return Err(DieselError::RollbackTransaction);
            }
        }
    }};
}
pub(super) use change_cards;

/// Makes `$change` on `$conn` (any backend), inside the caller's transaction: every status
/// moved only from the version read, then the claim. An object not at its version (or not of
/// the project) ends the change with `RollbackTransaction`, so that nothing of it is written.
macro_rules! apply_lifecycle_change {
    ($conn:expr, $change:expr, $retention:expr) => {{
        let conn = $conn;
        let change: &LifecycleChange = $change;
        let asp = change.asp_id.as_str();
        let at = change.at.as_millis();
        for entry in &change.applications {
            let moved = diesel::update(
                card_applications::table
                    .filter(card_applications::asp_id.eq(asp))
                    .filter(card_applications::apply_no.eq(entry.key.as_str()))
                    .filter(card_applications::version.eq(stored_version(entry.from_version))),
            )
            .set((
                card_applications::status.eq(entry.status.as_str()),
                card_applications::version.eq(card_applications::version + 1),
                card_applications::updated_at.eq(at),
            ))
            .execute(conn)?;
            if moved != 1 {
                return Err(DieselError::RollbackTransaction);
            }
        }
        for entry in &change.deliveries {
            let moved = diesel::update(
                deliveries::table
                    .filter(deliveries::asp_id.eq(asp))
                    .filter(deliveries::apply_no.eq(entry.key.as_str()))
                    .filter(deliveries::version.eq(stored_version(entry.from_version))),
            )
            .set((
                deliveries::status.eq(entry.status.as_str()),
                deliveries::version.eq(deliveries::version + 1),
                deliveries::updated_at.eq(at),
            ))
            .execute(conn)?;
            if moved != 1 {
                return Err(DieselError::RollbackTransaction);
            }
            // The history keeps every status: the step numbered by the new version.
            diesel::insert_into(delivery_steps::table)
                .values(&DeliveryStepRow {
                    apply_no: entry.key.as_str().to_owned(),
                    step: stored_version(entry.from_version + 1),
                    status: entry.status.as_str().to_owned(),
                    reached_at: at,
                })
                .execute(conn)?;
        }
        for new in &change.new_cards {
            // Only for an application of the change's project; made before the card changes,
            // which may link a card to it.
            let owned: i64 = card_applications::table
                .filter(card_applications::asp_id.eq(asp))
                .filter(card_applications::apply_no.eq(new.application.as_str()))
                .count()
                .get_result(conn)?;
            if owned != 1 {
                return Err(DieselError::RollbackTransaction);
            }
            diesel::insert_into(cards::table)
                .values(&new_card_row(asp, &new.application, &new.card, at))
                .execute(conn)?;
        }
        change_cards!(conn, asp, &change.cards, at);
        if let Some(claim) = &change.claim {
            diesel::insert_into(idempotency_records::table)
                .values(&claim_row(claim, $retention))
                .execute(conn)?;
        }
        Ok::<(), DieselError>(())
    }};
}

impl Database {
    /// Member `id` of `change.asp_id` cancelled, if active, with `change`, in one transaction
    /// (the contract of `MemberRecords::cancel`).
    pub(crate) async fn cancel_member(
        &self,
        id: prepaid_domain::MemberId,
        change: &LifecycleChange,
    ) -> Result<(), ChangeError> {
        let change = change.clone();
        let retention = self.retention_millis;
        let made = self
            .execute(move |source| {
                let member = id.get().to_string();
                on_conn!(source, |conn| {
                    let cancelled = diesel::update(
                        super::members::table
                            .filter(super::members::asp_id.eq(change.asp_id.as_str()))
                            .filter(super::members::member_id.eq(&member))
                            .filter(
                                super::members::status
                                    .eq(prepaid_domain::MemberStatus::Active.as_str()),
                            ),
                    )
                    .set((
                        super::members::status.eq(prepaid_domain::MemberStatus::Cancelled.as_str()),
                        super::members::updated_at.eq(change.at.as_millis()),
                    ))
                    .execute(conn)?;
                    if cancelled != 1 {
                        return Err(DieselError::RollbackTransaction);
                    }
                    apply_lifecycle_change!(&mut *conn, &change, retention)?;
                    // A card made since the cards were read (an issuance that held the member
                    // before this cancelled them) is not among those terminated: decide again.
                    let left: i64 = super::cards::table
                        .filter(super::cards::asp_id.eq(change.asp_id.as_str()))
                        .filter(super::cards::member_id.eq(&member))
                        .filter(
                            super::cards::status
                                .ne(prepaid_domain::CardStatus::Terminated.as_str()),
                        )
                        .count()
                        .get_result(conn)?;
                    if left != 0 {
                        return Err(DieselError::RollbackTransaction);
                    }
                    Ok(())
                })
            })
            .await
            .map_err(|error| ChangeError::Unavailable(error.into()))?;
        match made {
            Ok(()) => Ok(()),
            Err(DieselError::RollbackTransaction) => Err(ChangeError::Stale),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Err(ChangeError::KeyTaken)
            }
            Err(error) => Err(ChangeError::Unavailable(DatabaseError::from(error).into())),
        }
    }
}

#[async_trait]
impl LifecycleChanges for Database {
    async fn apply(&self, change: &LifecycleChange) -> Result<(), ChangeError> {
        let change = change.clone();
        let retention = self.retention_millis;
        let made = self
            .execute(move |source| {
                on_conn!(source, |conn| apply_lifecycle_change!(
                    conn, &change, retention
                ))
            })
            .await
            .map_err(|error| ChangeError::Unavailable(error.into()))?;
        match made {
            Ok(()) => Ok(()),
            Err(DieselError::RollbackTransaction) => Err(ChangeError::Stale),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                Err(match classify_unique_violation(info.as_ref()) {
                    RecordError::NumberTaken(number) => ChangeError::NumberTaken(number),
                    _ => ChangeError::KeyTaken,
                })
            }
            Err(error) => Err(ChangeError::Unavailable(DatabaseError::from(error).into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, version: i64) -> DeliveryRecordRow {
        DeliveryRecordRow {
            apply_no: "2611301200000000000001".into(),
            address_key_id: None,
            address_sealed: None,
            status: status.into(),
            version,
        }
    }

    fn steps(statuses: &[(i64, &str)]) -> Vec<DeliveryStepRow> {
        statuses
            .iter()
            .map(|(step, status)| DeliveryStepRow {
                apply_no: "2611301200000000000001".into(),
                step: *step,
                status: (*status).into(),
                reached_at: 1_000 + step,
            })
            .collect()
    }

    #[test]
    fn a_delivery_is_read_with_a_history_that_ends_where_it_is_at_its_version() {
        let stored =
            delivery_from_row(&row("RECEIPT", 1), &steps(&[(0, "READY"), (1, "RECEIPT")])).unwrap();
        assert_eq!(stored.history.current(), DeliveryStatus::Receipt);
        assert_eq!(stored.version, 1);
    }

    #[test]
    fn a_history_that_does_not_match_its_delivery_is_a_corrupt_record() {
        for (delivery, history) in [
            // Another status than the last step's.
            (
                row("PRE_SHIPPING", 1),
                steps(&[(0, "READY"), (1, "RECEIPT")]),
            ),
            // Steps not numbered from 0 one by one.
            (row("RECEIPT", 1), steps(&[(0, "READY"), (2, "RECEIPT")])),
            // More steps than the version says.
            (row("RECEIPT", 2), steps(&[(0, "READY"), (1, "RECEIPT")])),
            (row("RECEIPT", 0), steps(&[(0, "READY"), (1, "RECEIPT")])),
            // A change the table does not allow.
            (row("SHIPPING", 1), steps(&[(0, "READY"), (1, "SHIPPING")])),
            // No history at all.
            (row("READY", 0), vec![]),
        ] {
            assert!(
                matches!(
                    delivery_from_row(&delivery, &history),
                    Err(DatabaseError::Corrupt(_))
                ),
                "{} at {}",
                delivery.status,
                delivery.version
            );
        }
    }
}
