//! Every storage port on one diesel database.

use std::sync::Arc;

use async_trait::async_trait;
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use prepaid_application::PortError;
use prepaid_application::ports::{
    AccessKeyState, CardApplicationStore, CardNumberSerials, Clock, CryptoKeyRef, IdempotencyKey,
    IdempotencyRecord, IdempotencyStore, MemberDirectory, NewIssuance, ProductCatalogue, Project,
    ProjectAccessKey, ProjectDirectory, ProtectedPan, RecordError, ReplayGuard, RequestFingerprint,
    SecretVault, SerialBlock, StoredCard, StoredIssuance, UniqueNumber,
};
use prepaid_domain::{
    AccessKey, AspId, Bin, CardApplyNo, CardId, CardKind, CardProduct, CorrelationId, CryptoKeyId,
    Expiry, Member, MemberId, MemberStatus, Par, ProductName, ProductType, Purpose, ServiceId,
    Timestamp, Validity,
};

use crate::database::{
    Backend, Conn, DatabaseConfig, Pools, on_conn, with_conn, write_transaction,
};
use crate::error::DatabaseError;
use crate::lock::ServiceLock;
use crate::memory::{BindingJournal, InMemoryReplayGuard, token_digest};
use crate::rows::{
    AccessKeyRow, CardRow, CryptoKeyRow, IdempotencyRow, MemberRow, NewApplicationRow, NewCardRow,
    NewDeliveryRow, NewIdempotencyRow, NewMemberRow, NewProjectRow, ProductRow, ProjectRow,
    ReplayBindingRow,
};
use crate::schema::{
    access_keys, card_applications, card_number_serials, card_products, cards, crypto_keys,
    deliveries, delivery_steps, idempotency_records, member_profiles, members, projects,
    replay_bindings, unsealed_addresses,
};
use crate::writer::{Answer, GroupCommitWriter, WalStatus};

mod addresses;
mod catalogue;
#[cfg(any(test, feature = "test-support"))]
mod checks;
mod directory;
mod fixtures;
mod issuance;
mod lifecycle;
mod member_records;
mod operators;
mod replay;
mod serials;

#[cfg(any(test, feature = "test-support"))]
pub use checks::IssuedCounts;
pub use directory::DieselProjectDirectory;
pub use member_records::FixtureProfile;
pub use replay::DieselReplayGuard;

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

    /// Runs the state change `work` in a write transaction of its own: on a serving SQLite
    /// database through the group-commit writer (a savepoint in its next batch, answered once
    /// that is committed), otherwise as one transaction on a pooled connection (`BEGIN
    /// IMMEDIATE` on SQLite). Every write of every operation goes through here.
    ///
    /// The outer error: the change could not be attempted or committed, and nothing of it was
    /// written. The inner result is `work`'s own; on `Err` nothing of it was written either.
    pub(crate) async fn execute<T, F>(&self, work: F) -> Answer<T>
    where
        T: Send + 'static,
        F: FnOnce(Conn<'_>) -> Result<T, DieselError> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.execute(work).await;
        }
        self.blocking(move |pools| {
            Ok(match pools {
                Pools::Sqlite(pool) => {
                    let mut pooled = pool.get().map_err(DatabaseError::Pool)?;
                    pooled.immediate_transaction(|conn| work(Conn::Sqlite(conn)))
                }
                Pools::Postgres(pool) => {
                    let mut pooled = pool.get().map_err(DatabaseError::Pool)?;
                    pooled.transaction(|conn| work(Conn::Postgres(conn)))
                }
            })
        })
        .await
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

    /// Writes a consistent copy of the whole SQLite database to `target` (which must not exist),
    /// while the service goes on serving: `VACUUM INTO` reads one snapshot, as any reader does in
    /// WAL mode, and takes no lock the writer needs. Everything committed before the copy began
    /// is in it. Restore by putting the copy in place of the database file of a stopped
    /// service, beside the same keys.
    ///
    /// # Errors
    /// [`DatabaseError::SqliteOnly`] on PostgreSQL; otherwise when `target` exists or cannot be
    /// written.
    pub async fn backup_to(&self, target: &std::path::Path) -> Result<(), DatabaseError> {
        let target = target.display().to_string();
        self.blocking(move |pools| match pools {
            Pools::Sqlite(pool) => {
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                diesel::sql_query("VACUUM INTO ?")
                    .bind::<diesel::sql_types::Text, _>(&target)
                    .execute(&mut conn)?;
                Ok(())
            }
            Pools::Postgres(_) => Err(DatabaseError::SqliteOnly("backup")),
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
}

#[async_trait]
impl prepaid_application::Readiness for Database {
    async fn check_ready(&self) -> Result<(), PortError> {
        Ok(Database::check_ready(self).await?)
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
