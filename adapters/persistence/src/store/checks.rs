//! Operators' checks and tests' look-ups: counts, integrity, orphans, stored values.

use super::{
    Database, DatabaseError, ExpressionMethods, MemberId, Pools, QueryDsl, RunQueryDsl,
    access_keys, card_applications, card_products, cards, crypto_keys, deliveries,
    idempotency_records, members, projects, replay_bindings, unsealed_addresses, with_conn,
};

/// The stored name of the issuance operation, whose records' outcome is an application number.
const ISSUE_AND_DELIVER: &str =
    prepaid_application::ports::IdempotentOperation::IssueAndDeliver.as_str();

impl Database {
    /// Moves the expiry of the card with PAR `par` to `expiry` (`YYMM`), and its version on: a
    /// card that expires soon, for the tests of renewals (a product's cards are valid for
    /// years).
    ///
    /// # Errors
    /// [`DatabaseError`] when the row cannot be written.
    pub async fn age_card_for_tests(&self, par: &str, expiry: &str) -> Result<(), DatabaseError> {
        let (par, expiry) = (par.to_owned(), expiry.to_owned());
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                diesel::update(cards::table.filter(cards::par.eq(&par)))
                    .set((
                        cards::expiry.eq(&expiry),
                        cards::version.eq(cards::version + 1),
                    ))
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    /// Makes the delivery of application `apply_no` one written before addresses were sealed:
    /// its address in plaintext among the unsealed ones, none sealed.
    ///
    /// # Errors
    /// [`DatabaseError`] when the rows cannot be written.
    pub async fn unseal_for_tests(
        &self,
        apply_no: &str,
        address: &prepaid_domain::DeliveryAddress,
    ) -> Result<(), DatabaseError> {
        let apply_no = apply_no.to_owned();
        let lines = (
            address.address.as_str().to_owned(),
            address.detail.as_str().to_owned(),
            address.zip_code.as_str().to_owned(),
        );
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                diesel::update(deliveries::table.find(&apply_no))
                    .set((
                        deliveries::address_key_id.eq(None::<String>),
                        deliveries::address_sealed.eq(None::<Vec<u8>>),
                    ))
                    .execute(conn)?;
                diesel::insert_into(unsealed_addresses::table)
                    .values((
                        unsealed_addresses::apply_no.eq(&apply_no),
                        unsealed_addresses::address.eq(&lines.0),
                        unsealed_addresses::address_detail.eq(&lines.1),
                        unsealed_addresses::zip_code.eq(&lines.2),
                    ))
                    .execute(conn)?;
            });
            Ok(())
        })
        .await
    }

    /// Rows that break the issuance invariants: cards without their application, applications
    /// made by a request since `since` without its idempotency record (records are purged after
    /// their retention, and the sandbox's fixture applications are written without one),
    /// deliveries without their application. All zero in a healthy database.
    ///
    /// # Errors
    /// [`DatabaseError`] when a count fails.
    pub async fn orphan_counts(
        &self,
        since: prepaid_domain::Timestamp,
    ) -> Result<(i64, i64, i64), DatabaseError> {
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                let applications = card_applications::table.select(card_applications::apply_no);
                let claimed = idempotency_records::table
                    .filter(idempotency_records::operation.eq(ISSUE_AND_DELIVER))
                    .select(idempotency_records::outcome);
                let cards_alone = cards::table
                    .filter(diesel::dsl::not(cards::apply_no.eq_any(applications)))
                    .count()
                    .get_result(conn)?;
                let unclaimed = card_applications::table
                    .filter(card_applications::created_at.ge(since.as_millis()))
                    .filter(diesel::dsl::not(
                        card_applications::apply_no.eq_any(claimed),
                    ))
                    .count()
                    .get_result(conn)?;
                let deliveries_alone = deliveries::table
                    .filter(diesel::dsl::not(deliveries::apply_no.eq_any(applications)))
                    .count()
                    .get_result(conn)?;
                Ok((cards_alone, unclaimed, deliveries_alone))
            })
        })
        .await
    }

    /// SQLite's `PRAGMA integrity_check` (`"ok"` when sound); `"ok"` on PostgreSQL.
    ///
    /// # Errors
    /// [`DatabaseError`] when the check cannot run.
    pub async fn integrity_check(&self) -> Result<String, DatabaseError> {
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        self.blocking(move |pools| match pools {
            Pools::Sqlite(pool) => {
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                let lines: Vec<Line> =
                    diesel::sql_query("PRAGMA integrity_check").load(&mut *conn)?;
                Ok(lines
                    .into_iter()
                    .map(|line| line.integrity_check)
                    .collect::<Vec<_>>()
                    .join("; "))
            }
            Pools::Postgres(_) => Ok("ok".to_owned()),
        })
        .await
    }

    /// How many applications, cards and deliveries member `member` has (for operators' checks
    /// and tests).
    ///
    /// # Errors
    /// [`DatabaseError`] when a count fails.
    pub async fn count_issued_to(&self, member: MemberId) -> Result<IssuedCounts, DatabaseError> {
        let key = member.get().to_string();
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                let numbers = card_applications::table
                    .filter(card_applications::member_id.eq(&key))
                    .select(card_applications::apply_no);
                Ok(IssuedCounts {
                    applications: card_applications::table
                        .filter(card_applications::member_id.eq(&key))
                        .count()
                        .get_result(conn)?,
                    cards: cards::table
                        .filter(cards::apply_no.eq_any(numbers))
                        .count()
                        .get_result(conn)?,
                    deliveries: deliveries::table
                        .filter(deliveries::apply_no.eq_any(numbers))
                        .count()
                        .get_result(conn)?,
                    idempotency_records: idempotency_records::table
                        .filter(idempotency_records::operation.eq(ISSUE_AND_DELIVER))
                        .filter(idempotency_records::outcome.eq_any(numbers))
                        .count()
                        .get_result(conn)?,
                })
            })
        })
        .await
    }

    /// How many text cells of any table hold exactly `value`: an audit that card data never
    /// reached a column (a CVC would be a 3-digit cell, a PAN a 16-digit one).
    ///
    /// # Errors
    /// [`DatabaseError`] when a count fails.
    pub async fn count_text_cells_equal_to(&self, value: &str) -> Result<i64, DatabaseError> {
        let value = value.to_owned();
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                macro_rules! count_eq {
                    ($($table:ident . $column:ident),* $(,)?) => {{
                        let mut total = 0_i64;
                        $(
                            total += $table::table
                                .filter($table::$column.eq(&value))
                                .count()
                                .get_result::<i64>(conn)?;
                        )*
                        total
                    }};
                }
                let total = count_eq!(
                    projects.asp_id,
                    access_keys.access_key,
                    access_keys.asp_id,
                    access_keys.state,
                    crypto_keys.key_id,
                    crypto_keys.asp_id,
                    members.member_id,
                    members.status,
                    card_products.service_id,
                    card_products.name,
                    card_products.bin,
                    card_products.product_type,
                    card_applications.apply_no,
                    card_applications.member_id,
                    card_applications.service_id,
                    card_applications.application_type,
                    card_applications.status,
                    cards.card_id,
                    cards.par,
                    cards.apply_no,
                    cards.member_id,
                    cards.pan_bound_to,
                    cards.pan_key_id,
                    cards.expiry,
                    cards.kind,
                    cards.status,
                    deliveries.apply_no,
                    deliveries.status,
                    unsealed_addresses.address,
                    unsealed_addresses.address_detail,
                    unsealed_addresses.zip_code,
                    idempotency_records.asp_id,
                    idempotency_records.correlation_id,
                    idempotency_records.operation,
                    idempotency_records.outcome,
                    replay_bindings.asp_id,
                    replay_bindings.correlation_id,
                );
                let purposes: i64 = card_applications::table
                    .filter(card_applications::purpose.eq(&value))
                    .count()
                    .get_result(conn)?;
                Ok(total + purposes)
            })
        })
        .await
    }
}

/// What one member holds, row by row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedCounts {
    /// Card applications.
    pub applications: i64,
    /// Cards.
    pub cards: i64,
    /// Deliveries.
    pub deliveries: i64,
    /// Idempotency records of those applications.
    pub idempotency_records: i64,
}
