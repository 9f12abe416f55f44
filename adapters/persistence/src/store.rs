//! Every storage port on one diesel database.

use std::sync::Arc;

use async_trait::async_trait;
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use prepaid_application::PortError;
use prepaid_application::ports::{
    AccessKeyState, CardApplicationStore, CardNumberSerials, Clock, CryptoKeyRef, IdempotencyKey,
    MemberDirectory, NewIssuance, ProductCatalogue, Project, ProjectAccessKey, ProjectDirectory,
    ProtectedPan, RecordError, ReplayGuard, RequestFingerprint, SecretVault, SerialBlock,
    StoredCard, StoredIssuance, UniqueNumber,
};
use prepaid_domain::{
    AccessKey, AddressDetail, AspId, Bin, CardApplyNo, CardKind, CardProduct, CorrelationId,
    CryptoKeyId, Delivery, DeliveryAddress, DeliveryStatus, Expiry, Member, MemberId, MemberStatus,
    Par, ProductName, ProductType, Purpose, RoadAddress, ServiceId, Timestamp, Validity, ZipCode,
};

use crate::database::{
    Backend, Conn, DatabaseConfig, Pools, on_conn, with_conn, write_transaction,
};
use crate::error::DatabaseError;
use crate::lock::ServiceLock;
use crate::memory::{BindingJournal, InMemoryReplayGuard, token_digest};
use crate::rows::{
    AccessKeyRow, CardRow, CryptoKeyRow, DeliveryRow, IdempotencyRow, MemberRow, NewApplicationRow,
    NewCardRow, NewDeliveryRow, NewIdempotencyRow, NewMemberRow, NewProjectRow, ProductRow,
    ProjectRow, ReplayBindingRow,
};
use crate::schema::{
    access_keys, card_applications, card_number_serials, card_products, cards, crypto_keys,
    deliveries, idempotency_records, members, projects, replay_bindings,
};
use crate::writer::{GroupCommitWriter, WalStatus};

/// The database: implements [`CardApplicationStore`], [`MemberDirectory`] and
/// [`ProductCatalogue`]; [`Database::projects`] and [`Database::replay_guard`] give the
/// [`ProjectDirectory`] and a shared [`ReplayGuard`].
///
/// Writes and PostgreSQL reads run on tokio's blocking pool (or, for SQLite issuances, the
/// group-commit writer thread); the hot SQLite reads run in place (see [`Database::read`]).
#[derive(Clone)]
pub struct Database {
    pools: Pools,
    retention_millis: i64,
    /// SQLite only: the group-commit writer every issuance goes through.
    writer: Option<Arc<GroupCommitWriter>>,
    /// SQLite only, when serving: this process's exclusive claim on the file.
    service_lock: Option<Arc<ServiceLock>>,
}

impl Database {
    /// Opens the database of `config` to serve from it, creating an SQLite file (and its
    /// folder) if needed, and applies the embedded migrations. On SQLite it first takes the
    /// file's exclusive service lock (one serving process per file: the replay guard and the
    /// group-commit writer live in the process) and starts the group-commit writer. Blocks:
    /// call it at start-up.
    ///
    /// # Errors
    /// [`DatabaseError::InUse`] when another process serves the SQLite file; otherwise when
    /// the URL is invalid, the database is unreachable or a migration fails.
    pub fn open(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let lock = match crate::database::parse_url(&config.url)? {
            (Backend::Sqlite, path) => Some(Arc::new(ServiceLock::take(&path)?)),
            (Backend::Postgres, _) => None,
        };
        let mut database = Self::open_beside(config)?;
        if let (Some(lock), Pools::Sqlite(_)) = (lock, &database.pools) {
            let (_, path) = crate::database::parse_url(&config.url)?;
            database.writer = Some(Arc::new(GroupCommitWriter::start(
                &path,
                config.sqlite_synchronous,
                config.busy_timeout.as_millis(),
                database.retention_millis,
                config.sqlite_wal_frames_limit,
            )?));
            database.service_lock = Some(lock);
        }
        Ok(database)
    }

    /// Opens the database of `config` beside a process that may be serving it: for the admin
    /// commands and operators' tools, which make a few short writes and reads. No service lock
    /// and no group-commit writer: each write is its own SQLite transaction, which SQLite's own
    /// file locks order with the service's. Never serve from it (the replay guard it gives
    /// reads and writes the database on every call).
    ///
    /// # Errors
    /// [`DatabaseError`] when the URL is invalid, the database is unreachable or a migration
    /// fails.
    pub fn open_beside(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let pools = Pools::open(config)?;
        let retention_millis = i64::try_from(config.idempotency_retention.as_millis())
            .unwrap_or(i64::MAX)
            .max(24 * 3_600_000);
        Ok(Self {
            pools,
            retention_millis,
            writer: None,
            service_lock: None,
        })
    }

    /// SQLite: the write-ahead log as the last checkpoint found it (`None` on PostgreSQL and
    /// before the first checkpoint). Frames not yet checkpointed are read from the WAL, and the
    /// WAL starts again from its beginning only once every frame is copied.
    pub fn wal_status(&self) -> Option<WalStatus> {
        self.writer.as_ref().and_then(|writer| writer.wal_status())
    }

    /// This handle without its share of the service lock and of the group-commit writer, as if
    /// opened with [`Database::open_beside`]: for a background task that must not keep the file
    /// claimed (nor the writer thread running) once the service that started it is gone.
    #[must_use]
    pub fn without_service_lock(&self) -> Self {
        Self {
            service_lock: None,
            writer: None,
            ..self.clone()
        }
    }

    /// Whether this handle holds the SQLite file's service lock (opened with [`Database::open`]
    /// on SQLite).
    pub fn holds_service_lock(&self) -> bool {
        self.service_lock.is_some()
    }

    /// The backend this database runs on.
    pub fn backend(&self) -> Backend {
        self.pools.backend()
    }

    /// Runs `work` on the blocking pool.
    async fn blocking<T, F>(&self, work: F) -> Result<T, DatabaseError>
    where
        T: Send + 'static,
        F: FnOnce(&Pools) -> Result<T, DatabaseError> + Send + 'static,
    {
        let pools = self.pools.clone();
        tokio::task::spawn_blocking(move || work(&pools))
            .await
            .map_err(DatabaseError::Task)?
    }

    /// Runs the read `work` on one connection.
    ///
    /// Reads by key use `get_result`, never `first`: `first` adds `LIMIT ?`, and SQLite (3.45
    /// and later, with the bundled build's `SQLITE_ENABLE_STAT4`) marks a bound `LIMIT` as
    /// plan-relevant, so every execution re-binds it and recompiles the cached statement.
    ///
    /// On SQLite, when a pooled connection is idle, the read runs right here on the caller's
    /// thread: a WAL read of a few rows by primary key takes microseconds and never waits for
    /// the writer (WAL readers take no lock a writer holds), whereas a hop to the blocking pool
    /// and back costs two thread wake-ups, more than the read itself (docs/PERFORMANCE.md).
    /// `try_get` never waits: with no idle connection, and always on PostgreSQL (a network
    /// round trip), the read goes to the blocking pool.
    async fn read<T, F>(&self, work: F) -> Result<T, DatabaseError>
    where
        T: Send + 'static,
        F: FnOnce(Conn<'_>) -> Result<T, DatabaseError> + Send + 'static,
    {
        if let Pools::Sqlite(pool) = &self.pools
            && let Some(mut pooled) = pool.try_get()
        {
            return work(Conn::Sqlite(&mut pooled));
        }
        self.blocking(move |pools| match pools {
            Pools::Sqlite(pool) => {
                let mut pooled = pool.get().map_err(DatabaseError::Pool)?;
                work(Conn::Sqlite(&mut pooled))
            }
            Pools::Postgres(pool) => {
                let mut pooled = pool.get().map_err(DatabaseError::Pool)?;
                work(Conn::Postgres(&mut pooled))
            }
        })
        .await
    }

    /// Whether the database answers and every migration is applied.
    ///
    /// # Errors
    /// [`DatabaseError`] saying what is wrong.
    pub async fn check_ready(&self) -> Result<(), DatabaseError> {
        self.blocking(Pools::check_ready).await
    }

    /// Whether project `asp_id` exists.
    ///
    /// # Errors
    /// [`DatabaseError`] when the read fails.
    pub async fn project_exists(&self, asp_id: &AspId) -> Result<bool, DatabaseError> {
        let asp = asp_id.as_str().to_owned();
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                let count: i64 = projects::table
                    .filter(projects::asp_id.eq(&asp))
                    .count()
                    .get_result(conn)?;
                Ok(count > 0)
            })
        })
        .await
    }

    /// Adds or updates member `member` of project `asp_id` (until the member APIs exist, the
    /// admin command uses this).
    ///
    /// # Errors
    /// [`DatabaseError`] when the write fails.
    pub async fn save_member(
        &self,
        asp_id: &AspId,
        member: Member,
        now: Timestamp,
    ) -> Result<(), DatabaseError> {
        let asp = asp_id.as_str().to_owned();
        self.blocking(move |pools| {
            let id = member.id.get().to_string();
            let row = NewMemberRow {
                asp_id: &asp,
                member_id: &id,
                status: member.status.as_str(),
                created_at: now.as_millis(),
                updated_at: now.as_millis(),
            };
            with_conn!(pools, |conn| {
                diesel::insert_into(members::table)
                    .values(&row)
                    .on_conflict((members::asp_id, members::member_id))
                    .do_update()
                    .set((
                        members::status.eq(row.status),
                        members::updated_at.eq(row.updated_at),
                    ))
                    .execute(conn)?;
            });
            Ok(())
        })
        .await
    }

    /// Adds or updates a card product (the operator's catalogue is synchronised at start-up).
    ///
    /// # Errors
    /// [`DatabaseError`] when the write fails.
    pub async fn save_product(
        &self,
        product: CardProduct,
        now: Timestamp,
    ) -> Result<(), DatabaseError> {
        self.blocking(move |pools| {
            let row = ProductRow {
                service_id: product.id.as_str().to_owned(),
                name: product.name.as_str().to_owned(),
                bin: product.bin.as_str().to_owned(),
                product_type: product.product_type.as_str().to_owned(),
                pre_issuance: product.pre_issuance,
                giftable: product.giftable,
                validity_years: i16::from(product.validity.years()),
                active: product.active,
                updated_at: now.as_millis(),
            };
            with_conn!(pools, |conn| {
                diesel::insert_into(card_products::table)
                    .values(&row)
                    .on_conflict(card_products::service_id)
                    .do_update()
                    .set(&row)
                    .execute(conn)?;
            });
            Ok(())
        })
        .await
    }

    /// Deletes idempotency records and used tran tokens that expired before `now`, in small
    /// batches so that no request waits long behind it. Returns how many rows went.
    ///
    /// # Errors
    /// [`DatabaseError`] when a delete fails.
    pub async fn purge_expired(&self, now: Timestamp) -> Result<usize, DatabaseError> {
        self.blocking(move |pools| {
            let cutoff = now.as_millis();
            let mut purged = 0;
            loop {
                let batch: usize = with_conn!(pools, |conn| {
                    let keys: Vec<(String, String)> = idempotency_records::table
                        .filter(idempotency_records::expires_at.lt(cutoff))
                        .select((
                            idempotency_records::asp_id,
                            idempotency_records::correlation_id,
                        ))
                        .limit(500)
                        .load(conn)?;
                    let mut deleted = 0;
                    conn.transaction::<_, DieselError, _>(|conn| {
                        for (asp, correlation) in &keys {
                            deleted += diesel::delete(
                                idempotency_records::table
                                    .find((asp.as_str(), correlation.as_str())),
                            )
                            .execute(conn)?;
                        }
                        Ok(())
                    })?;
                    deleted
                });
                purged += batch;
                if batch == 0 {
                    break;
                }
            }
            let tokens = with_conn!(pools, |conn| {
                diesel::delete(
                    replay_bindings::table.filter(replay_bindings::expires_at.lt(cutoff)),
                )
                .execute(conn)?
            });
            Ok(purged + tokens)
        })
        .await
    }

    /// Seals again, with the key `vault` seals with now, every access key's secret that was
    /// sealed with another (a rotated key-encryption key, or the PAN data key secrets were
    /// sealed with before they had a key of their own). Returns how many. Each secret is
    /// written only if it is still what was read, so concurrent starts do not undo each other.
    /// A secret no key of `vault` opens is left as it is, with a warning: its access key cannot
    /// authenticate anyway, and one such row must not keep the service from starting.
    ///
    /// # Errors
    /// [`DatabaseError`] when the secrets cannot be read or written.
    pub async fn reseal_secrets(
        &self,
        vault: Arc<dyn SecretVault>,
    ) -> Result<usize, DatabaseError> {
        let rows: Vec<(String, Vec<u8>)> = self
            .blocking(|pools| {
                with_conn!(pools, |conn| Ok(access_keys::table
                    .select((access_keys::access_key, access_keys::sealed_secret))
                    .load(conn)?))
            })
            .await?;
        let mut resealed = Vec::new();
        for (access_key, sealed) in rows {
            if vault.sealed_with_current_key(&sealed) {
                continue;
            }
            let secret = match vault.unseal(&sealed, &access_key) {
                Ok(secret) => secret,
                Err(error) => {
                    tracing::warn!(
                        error = %error,
                        "an access key's secret opens with no configured key; left as it is"
                    );
                    continue;
                }
            };
            let again = vault
                .seal(&secret, &access_key)
                .map_err(DatabaseError::Vault)?;
            resealed.push((access_key, sealed, again));
        }
        let count = resealed.len();
        if count > 0 {
            self.blocking(move |pools| {
                write_transaction!(pools, |conn| {
                    for (access_key, before, after) in &resealed {
                        diesel::update(
                            access_keys::table
                                .find(access_key)
                                .filter(access_keys::sealed_secret.eq(before)),
                        )
                        .set(access_keys::sealed_secret.eq(after))
                        .execute(conn)?;
                    }
                    Ok::<(), DieselError>(())
                })
                .map_err(DatabaseError::from)
            })
            .await?;
        }
        Ok(count)
    }

    /// Stores a project with its access keys (secret keys sealed by `vault`) and crypto key ids.
    ///
    /// # Errors
    /// [`DatabaseError`] when sealing or the write fails.
    pub async fn save_project(
        &self,
        project: Project,
        vault: Arc<dyn SecretVault>,
        now: Timestamp,
    ) -> Result<(), DatabaseError> {
        let mut key_rows = Vec::new();
        for key in &project.access_keys {
            let sealed = vault
                .seal(&key.secret_key, key.access_key.as_str())
                .map_err(DatabaseError::Vault)?;
            key_rows.push(AccessKeyRow {
                access_key: key.access_key.as_str().to_owned(),
                asp_id: project.asp_id.as_str().to_owned(),
                sealed_secret: sealed,
                state: key.state.as_str().to_owned(),
                created_at: now.as_millis(),
            });
        }
        let crypto_rows: Vec<CryptoKeyRow> = project
            .crypto_keys
            .iter()
            .zip(0_i16..)
            .map(|(key, position)| CryptoKeyRow {
                key_id: key.id.as_str().to_owned(),
                asp_id: project.asp_id.as_str().to_owned(),
                position,
                created_at: now.as_millis(),
            })
            .collect();
        self.blocking(move |pools| {
            let asp = project.asp_id.as_str().to_owned();
            let row = NewProjectRow {
                asp_id: &asp,
                plaintext_allowed: project.plaintext_allowed,
                created_at: now.as_millis(),
            };
            write_transaction!(pools, |conn| {
                diesel::insert_into(projects::table)
                    .values(&row)
                    .on_conflict(projects::asp_id)
                    .do_update()
                    .set(projects::plaintext_allowed.eq(row.plaintext_allowed))
                    .execute(conn)?;
                for key in &key_rows {
                    diesel::insert_into(access_keys::table)
                        .values(key)
                        .on_conflict(access_keys::access_key)
                        .do_update()
                        .set((
                            access_keys::sealed_secret.eq(&key.sealed_secret),
                            access_keys::state.eq(&key.state),
                        ))
                        .execute(conn)?;
                }
                diesel::delete(crypto_keys::table.filter(crypto_keys::asp_id.eq(&asp)))
                    .execute(conn)?;
                diesel::insert_into(crypto_keys::table)
                    .values(&crypto_rows)
                    .execute(conn)?;
                Ok::<_, DieselError>(())
            })?;
            Ok(())
        })
        .await
    }

    /// Sets the state of access key `access_key`; `false` when there is no such key.
    ///
    /// # Errors
    /// [`DatabaseError`] when the write fails.
    pub async fn set_access_key_state(
        &self,
        access_key: &AccessKey,
        state: AccessKeyState,
    ) -> Result<bool, DatabaseError> {
        let key = access_key.as_str().to_owned();
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                let updated = diesel::update(access_keys::table.find(&key))
                    .set(access_keys::state.eq(state.as_str()))
                    .execute(conn)?;
                Ok(updated == 1)
            })
        })
        .await
    }

    /// Rows that break the issuance invariants: cards without their application, applications
    /// without an idempotency record, deliveries without their application. All zero in a
    /// healthy database.
    ///
    /// # Errors
    /// [`DatabaseError`] when a count fails.
    pub async fn orphan_counts(&self) -> Result<(i64, i64, i64), DatabaseError> {
        self.blocking(move |pools| {
            with_conn!(pools, |conn| {
                let applications = card_applications::table.select(card_applications::apply_no);
                let claimed = idempotency_records::table.select(idempotency_records::apply_no);
                let cards_alone = cards::table
                    .filter(diesel::dsl::not(cards::apply_no.eq_any(applications)))
                    .count()
                    .get_result(conn)?;
                let unclaimed = card_applications::table
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

    /// The [`ProjectDirectory`] of this database, unsealing secret keys with `vault`.
    pub fn projects(&self, vault: Arc<dyn SecretVault>) -> DieselProjectDirectory {
        DieselProjectDirectory {
            database: self.clone(),
            vault,
        }
    }

    /// The [`ReplayGuard`] of this database. On SQLite (one instance): held in memory, started
    /// from the bindings still live in the database and writing each new one with the next
    /// group commit, so that a restart remembers them without a `fsync` of their own. On
    /// PostgreSQL: kept in the database, shared by every instance using it. Blocks: call it at
    /// start-up.
    ///
    /// # Errors
    /// [`DatabaseError`] when the live bindings cannot be read.
    pub fn replay_guard(
        &self,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn ReplayGuard>, DatabaseError> {
        match (&self.pools, &self.writer) {
            (Pools::Sqlite(pool), Some(writer)) => {
                let now = clock.now().as_millis();
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                let live = replay_bindings::table
                    .filter(replay_bindings::expires_at.ge(now))
                    .select(ReplayBindingRow::as_select())
                    .load(&mut *conn)?;
                let journal: Arc<dyn BindingJournal> = writer.clone();
                Ok(Arc::new(InMemoryReplayGuard::journaled(
                    clock, journal, live,
                )))
            }
            _ => Ok(Arc::new(DieselReplayGuard {
                database: self.clone(),
                clock,
            })),
        }
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
                        .filter(idempotency_records::apply_no.eq_any(numbers))
                        .count()
                        .get_result(conn)?,
                })
            })
        })
        .await
    }

    /// The delivery of application `number`, if one was asked for.
    ///
    /// # Errors
    /// [`DatabaseError`] when the read fails or the row does not parse.
    pub async fn find_delivery(
        &self,
        number: &CardApplyNo,
    ) -> Result<Option<Delivery>, DatabaseError> {
        let key = number.as_str().to_owned();
        let row = self
            .blocking(move |pools| {
                with_conn!(pools, |conn| Ok(deliveries::table
                    .find(&key)
                    .select(DeliveryRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let corrupt = |what| move |_| DatabaseError::Corrupt(what);
        Ok(Some(Delivery {
            address: DeliveryAddress {
                address: RoadAddress::parse(&row.address).map_err(corrupt("address"))?,
                detail: AddressDetail::parse(&row.address_detail)
                    .map_err(corrupt("address_detail"))?,
                zip_code: ZipCode::parse(&row.zip_code).map_err(corrupt("zip_code"))?,
            },
            status: DeliveryStatus::parse(&row.status)
                .ok_or(DatabaseError::Corrupt("delivery status"))?,
            created_at: Timestamp::from_millis(row.created_at),
        }))
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
                    cards.par,
                    cards.apply_no,
                    cards.pan_key_id,
                    cards.expiry,
                    cards.kind,
                    cards.status,
                    deliveries.apply_no,
                    deliveries.address,
                    deliveries.address_detail,
                    deliveries.zip_code,
                    deliveries.status,
                    idempotency_records.asp_id,
                    idempotency_records.correlation_id,
                    idempotency_records.apply_no,
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

/// Which unique number (or the idempotency key) a unique violation is about.
fn classify_unique_violation(info: &dyn diesel::result::DatabaseErrorInformation) -> RecordError {
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
pub(crate) struct IssuanceRows<'a> {
    pub(crate) application: NewApplicationRow<'a>,
    pub(crate) card: Option<NewCardRow<'a>>,
    pub(crate) delivery: Option<NewDeliveryRow<'a>>,
    pub(crate) claim: NewIdempotencyRow<'a>,
}

impl<'a> IssuanceRows<'a> {
    pub(crate) fn of(issuance: &'a NewIssuance, retention_millis: i64) -> Self {
        let application = &issuance.application;
        let apply_no = application.number.as_str();
        let asp_id = issuance.key.asp_id.as_str();
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
            },
            card: issuance.card.as_ref().map(|card| NewCardRow {
                par: card.card.par.as_str(),
                asp_id,
                apply_no,
                pan_ciphertext: &card.protected_pan.ciphertext,
                pan_key_id: &card.protected_pan.key_id,
                pan_fingerprint: &card.pan_fingerprint.digest,
                pan_fingerprint_key_id: &card.pan_fingerprint.key_id,
                cvk_id: &card.cvk_id,
                expiry: card.card.expiry.to_yymm(),
                kind: card.card.kind.as_str(),
                status: card.card.status.as_str(),
                created_at,
            }),
            delivery: issuance.delivery.as_ref().map(|delivery| NewDeliveryRow {
                apply_no,
                asp_id,
                address: delivery.address.address.as_str(),
                address_detail: delivery.address.detail.as_str(),
                zip_code: delivery.address.zip_code.as_str(),
                status: delivery.status.as_str(),
                created_at: delivery.created_at.as_millis(),
                updated_at: delivery.created_at.as_millis(),
            }),
            claim: NewIdempotencyRow {
                asp_id: issuance.key.asp_id.as_str(),
                correlation_id: issuance.key.correlation_id.as_str(),
                request_fingerprint: &issuance.request_fingerprint.digest,
                request_fingerprint_key_id: &issuance.request_fingerprint.key_id,
                apply_no,
                created_at,
                expires_at: created_at.saturating_add(retention_millis),
            },
        }
    }
}

/// Inserts the rows of one issuance on `$conn` (any backend), inside the caller's transaction.
macro_rules! insert_issuance_rows {
    ($conn:expr, $rows:expr) => {{
        let conn = $conn;
        let rows: &$crate::store::IssuanceRows<'_> = $rows;
        diesel::insert_into(card_applications::table)
            .values(&rows.application)
            .execute(conn)?;
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
        // The claim goes last: on PostgreSQL a concurrent holder of the key makes this insert
        // wait for its commit, then fail as a unique violation.
        diesel::insert_into(idempotency_records::table)
            .values(&rows.claim)
            .execute(conn)?;
        Ok::<(), DieselError>(())
    }};
}

pub(crate) use insert_issuance_rows;

/// The outcome of one issuance's inserts, as the port reports it.
pub(crate) fn record_outcome(result: Result<(), DieselError>) -> Result<(), RecordError> {
    match result {
        Ok(()) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
            Err(classify_unique_violation(info.as_ref()))
        }
        Err(error) => Err(RecordError::Unavailable(DatabaseError::from(error).into())),
    }
}

/// One issuance, one transaction (PostgreSQL; SQLite goes through the group-commit writer).
fn record(pools: &Pools, issuance: &NewIssuance, retention_millis: i64) -> Result<(), RecordError> {
    let rows = IssuanceRows::of(issuance, retention_millis);
    let transaction = || -> Result<Result<(), DieselError>, DatabaseError> {
        Ok(write_transaction!(pools, |conn| insert_issuance_rows!(
            conn, &rows
        )))
    };
    match transaction() {
        Ok(result) => record_outcome(result),
        Err(error) => Err(RecordError::Unavailable(error.into())),
    }
}

#[async_trait]
impl CardApplicationStore for Database {
    async fn find_issuance(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<StoredIssuance>, PortError> {
        let asp = key.asp_id.as_str().to_owned();
        let correlation = key.correlation_id.as_str().to_owned();
        let found = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let Some(record) = idempotency_records::table
                        .find((&asp, &correlation))
                        .select(IdempotencyRow::as_select())
                        .get_result(conn)
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    let card = cards::table
                        .filter(cards::apply_no.eq(&record.apply_no))
                        .filter(cards::kind.eq(CardKind::Mobile.as_str()))
                        .select(CardRow::as_select())
                        .get_result(conn)
                        .optional()?;
                    Ok(Some((record, card)))
                })
            })
            .await?;
        let Some((record, card)) = found else {
            return Ok(None);
        };
        let fingerprint: [u8; 32] = record
            .request_fingerprint
            .try_into()
            .map_err(|_| DatabaseError::Corrupt("request fingerprint"))?;
        let card = card
            .map(|card| {
                Ok::<_, DatabaseError>(StoredCard {
                    par: Par::parse(&card.par).map_err(|_| DatabaseError::Corrupt("par"))?,
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
            request_fingerprint: RequestFingerprint {
                key_id: record.request_fingerprint_key_id,
                digest: fingerprint,
            },
            application_number: CardApplyNo::parse(&record.apply_no)
                .map_err(|_| DatabaseError::Corrupt("apply_no"))?,
            card,
        }))
    }

    async fn record_issuance(&self, issuance: &NewIssuance) -> Result<(), RecordError> {
        if let Some(writer) = &self.writer {
            return writer.submit(issuance.clone()).await;
        }
        let issuance = issuance.clone();
        let retention = self.retention_millis;
        let pools = self.pools.clone();
        tokio::task::spawn_blocking(move || record(&pools, &issuance, retention))
            .await
            .map_err(|error| RecordError::Unavailable(DatabaseError::Task(error).into()))?
    }
}

/// Reserves up to `$count` serials of `$bin` below `$capacity` on `$conn` (any backend), inside
/// the caller's transaction: `Some((start, end, numbering key id))`, or `None` when a
/// concurrent reservation moved the BIN on between the read and the update (PostgreSQL, read
/// committed): the caller tries again. The BIN's row is made at its first reservation, with
/// `$key_id` as its numbering key.
macro_rules! reserve_serial_block {
    ($conn:expr, $bin:expr, $count:expr, $capacity:expr, $key_id:expr, $now:expr) => {{
        let conn = $conn;
        let (bin, count, capacity, key_id, now): (&str, i64, i64, &str, i64) =
            ($bin, $count, $capacity, $key_id, $now);
        diesel::insert_into(card_number_serials::table)
            .values((
                card_number_serials::bin.eq(bin),
                card_number_serials::next.eq(0_i64),
                card_number_serials::updated_at.eq(now),
                card_number_serials::numbering_key_id.eq(key_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        let (start, numbering_key): (i64, String) = card_number_serials::table
            .find(bin)
            .select((
                card_number_serials::next,
                card_number_serials::numbering_key_id,
            ))
            .get_result(conn)?;
        let end = start.saturating_add(count).min(capacity).max(start);
        let moved = diesel::update(
            card_number_serials::table
                .find(bin)
                .filter(card_number_serials::next.eq(start)),
        )
        .set((
            card_number_serials::next.eq(end),
            card_number_serials::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok::<_, DieselError>((moved == 1).then_some((start, end, numbering_key)))
    }};
}
pub(crate) use reserve_serial_block;

#[async_trait]
impl CardNumberSerials for Database {
    async fn reserve(
        &self,
        bin: &Bin,
        count: u64,
        capacity: u64,
        key_id: &str,
    ) -> Result<SerialBlock, PortError> {
        let bin = bin.as_str().to_owned();
        let key_id = key_id.to_owned();
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let capacity = i64::try_from(capacity).unwrap_or(i64::MAX);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        let (start, end, numbering_key) = if let Some(writer) = &self.writer {
            // SQLite: through the group-commit writer, which holds the file's write lock; a
            // transaction of its own beside it would wait for that lock (seconds under load).
            writer
                .reserve(bin, count, capacity, key_id, now)
                .await
                .map_err(PortError::from)?
        } else {
            self.blocking(move |pools| {
                loop {
                    let reserved: Option<(i64, i64, String)> = write_transaction!(pools, |conn| {
                        reserve_serial_block!(conn, &bin, count, capacity, &key_id, now)
                    })?;
                    if let Some(reserved) = reserved {
                        return Ok::<_, DatabaseError>(reserved);
                    }
                }
            })
            .await?
        };
        let start = u64::try_from(start).map_err(|_| DatabaseError::Corrupt("serial"))?;
        let end = u64::try_from(end).map_err(|_| DatabaseError::Corrupt("serial"))?;
        Ok(SerialBlock {
            serials: start..end,
            key_id: numbering_key,
        })
    }
}

#[async_trait]
impl MemberDirectory for Database {
    async fn find(&self, asp_id: &AspId, id: MemberId) -> Result<Option<Member>, PortError> {
        let key = (asp_id.as_str().to_owned(), id.get().to_string());
        let row = self
            .read(move |source| {
                on_conn!(source, |conn| Ok(members::table
                    .find((&key.0, &key.1))
                    .select(MemberRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id =
            MemberId::parse(&row.member_id).map_err(|_| DatabaseError::Corrupt("member_id"))?;
        let status =
            MemberStatus::parse(&row.status).ok_or(DatabaseError::Corrupt("member status"))?;
        Ok(Some(Member { id, status }))
    }
}

fn product_from_row(row: &ProductRow) -> Result<CardProduct, DatabaseError> {
    let corrupt = |what| move |_| DatabaseError::Corrupt(what);
    Ok(CardProduct {
        id: ServiceId::parse(&row.service_id).map_err(corrupt("service_id"))?,
        name: ProductName::parse(&row.name).map_err(corrupt("product name"))?,
        bin: Bin::parse(&row.bin).map_err(corrupt("bin"))?,
        product_type: ProductType::parse(&row.product_type)
            .ok_or(DatabaseError::Corrupt("product_type"))?,
        pre_issuance: row.pre_issuance,
        giftable: row.giftable,
        validity: u8::try_from(row.validity_years)
            .ok()
            .and_then(|years| Validity::from_years(years).ok())
            .ok_or(DatabaseError::Corrupt("validity_years"))?,
        active: row.active,
    })
}

#[async_trait]
impl ProductCatalogue for Database {
    async fn find(&self, id: &ServiceId) -> Result<Option<CardProduct>, PortError> {
        let key = id.as_str().to_owned();
        let row = self
            .blocking(move |pools| {
                with_conn!(pools, |conn| Ok(card_products::table
                    .find(&key)
                    .select(ProductRow::as_select())
                    .get_result(conn)
                    .optional()?))
            })
            .await?;
        Ok(row.as_ref().map(product_from_row).transpose()?)
    }
}

/// Projects kept in the database, secret keys sealed.
#[derive(Clone)]
pub struct DieselProjectDirectory {
    database: Database,
    vault: Arc<dyn SecretVault>,
}

#[async_trait]
impl ProjectDirectory for DieselProjectDirectory {
    async fn find(&self, asp_id: &AspId) -> Result<Option<Project>, PortError> {
        let asp = asp_id.as_str().to_owned();
        let found = self
            .database
            .blocking(move |pools| {
                with_conn!(pools, |conn| {
                    let Some(project) = projects::table
                        .find(&asp)
                        .select(ProjectRow::as_select())
                        .get_result(conn)
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    let keys: Vec<AccessKeyRow> = access_keys::table
                        .filter(access_keys::asp_id.eq(&asp))
                        .select(AccessKeyRow::as_select())
                        .load(conn)?;
                    let crypto: Vec<CryptoKeyRow> = crypto_keys::table
                        .filter(crypto_keys::asp_id.eq(&asp))
                        .order(crypto_keys::position)
                        .select(CryptoKeyRow::as_select())
                        .load(conn)?;
                    Ok(Some((project, keys, crypto)))
                })
            })
            .await?;
        let Some((project, keys, crypto)) = found else {
            return Ok(None);
        };
        let mut access_keys = Vec::with_capacity(keys.len());
        for key in keys {
            access_keys.push(ProjectAccessKey {
                secret_key: self.vault.unseal(&key.sealed_secret, &key.access_key)?,
                access_key: AccessKey::parse(&key.access_key)
                    .map_err(|_| DatabaseError::Corrupt("access_key"))?,
                state: AccessKeyState::parse(&key.state)
                    .ok_or(DatabaseError::Corrupt("access key state"))?,
            });
        }
        let crypto_keys = crypto
            .into_iter()
            .map(|key| {
                CryptoKeyId::parse(&key.key_id)
                    .map(|id| CryptoKeyRef { id })
                    .map_err(|_| DatabaseError::Corrupt("crypto key id"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Project {
            asp_id: AspId::parse(&project.asp_id).map_err(|_| DatabaseError::Corrupt("asp_id"))?,
            access_keys,
            crypto_keys,
            plaintext_allowed: project.plaintext_allowed,
        }))
    }
}

/// Replay bindings kept in the database, so that several instances refuse each other's
/// replays.
#[derive(Clone)]
pub struct DieselReplayGuard {
    database: Database,
    clock: Arc<dyn Clock>,
}

/// Binds a signature, or extends its binding to the same correlation id, in one statement: the
/// row is inserted, or updated only when it has expired or belongs to this correlation id.
/// Concurrent statements on one key are serialised by the primary key, so one correlation id
/// wins. One row changed means admitted.
const BIND_POSTGRES: &str = "INSERT INTO replay_bindings (asp_id, token_digest, correlation_id, expires_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (asp_id, token_digest) DO UPDATE \
     SET correlation_id = excluded.correlation_id, \
         expires_at = GREATEST(replay_bindings.expires_at, excluded.expires_at) \
     WHERE replay_bindings.expires_at < $5 OR replay_bindings.correlation_id = excluded.correlation_id";
const BIND_SQLITE: &str = "INSERT INTO replay_bindings (asp_id, token_digest, correlation_id, expires_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (asp_id, token_digest) DO UPDATE \
     SET correlation_id = excluded.correlation_id, \
         expires_at = max(replay_bindings.expires_at, excluded.expires_at) \
     WHERE replay_bindings.expires_at < $5 OR replay_bindings.correlation_id = excluded.correlation_id";

#[async_trait]
impl ReplayGuard for DieselReplayGuard {
    async fn bind(
        &self,
        asp_id: &AspId,
        token: &str,
        correlation_id: &CorrelationId,
        expires_at: Timestamp,
    ) -> Result<bool, PortError> {
        use diesel::sql_types::{BigInt, Binary, Text};

        let asp = asp_id.as_str().to_owned();
        let digest = token_digest(asp_id, token).to_vec();
        let correlation = correlation_id.as_str().to_owned();
        let expires = expires_at.as_millis();
        let now = self.clock.now().as_millis();
        let changed = self
            .database
            .blocking(move |pools| {
                let postgres = matches!(pools, Pools::Postgres(_));
                write_transaction!(pools, |conn| {
                    if postgres {
                        // A binding lost in a crash of the database server reopens a replay
                        // within the window for requests the server has not yet made durable
                        // either; it need not wait for its own flush.
                        conn.batch_execute("SET LOCAL synchronous_commit TO OFF")?;
                    }
                    diesel::sql_query(if postgres { BIND_POSTGRES } else { BIND_SQLITE })
                        .bind::<Text, _>(&asp)
                        .bind::<Binary, _>(&digest)
                        .bind::<Text, _>(&correlation)
                        .bind::<BigInt, _>(expires)
                        .bind::<BigInt, _>(now)
                        .execute(conn)
                })
                .map_err(DatabaseError::from)
            })
            .await?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_with_no_idle_connection_waits_for_one_and_then_answers() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = DatabaseConfig::new(dir.path().join("db.sqlite3").display().to_string());
        config.max_connections = 1;
        let db = Database::open(&config).unwrap();
        let member = MemberId::parse("1001").unwrap();
        let asp = AspId::parse("ASPSANDBOX00001").unwrap();
        assert_eq!(
            MemberDirectory::find(&db, &asp, member).await.unwrap(),
            None
        );

        let Pools::Sqlite(pool) = &db.pools else {
            unreachable!("an SQLite URL opens SQLite pools")
        };
        let held = pool.get().unwrap();
        assert!(pool.try_get().is_none(), "the only connection is held");
        let reader = tokio::spawn({
            let (db, asp) = (db.clone(), asp.clone());
            async move { MemberDirectory::find(&db, &asp, member).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!reader.is_finished(), "the read waits for a connection");
        drop(held);
        assert_eq!(reader.await.unwrap().unwrap(), None);
    }
}
