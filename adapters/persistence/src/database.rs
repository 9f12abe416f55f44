//! Opening the database (SQLite or PostgreSQL), its pragmas, migrations and the blocking pool.

use std::fmt;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::DatabaseError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// SQLite's `synchronous` setting: how durable a commit is when acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SqliteSynchronous {
    /// Every commit is on disk before it is acknowledged, crash or power loss (the default).
    #[default]
    Full,
    /// In WAL mode, a commit survives a process crash but may be lost on power loss.
    Normal,
}

impl SqliteSynchronous {
    /// Reads `FULL` or `NORMAL` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "FULL" => Some(Self::Full),
            "NORMAL" => Some(Self::Normal),
            _ => None,
        }
    }

    pub(crate) const fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// How to reach and use the database.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// `sqlite://<path>`, a plain file path, or `postgres://...` / `postgresql://...`.
    pub url: String,
    /// SQLite durability (ignored for PostgreSQL).
    pub sqlite_synchronous: SqliteSynchronous,
    /// How long a connection waits for a lock before failing.
    pub busy_timeout: Duration,
    /// The most connections held at once.
    pub max_connections: u32,
    /// How long idempotency records are kept (D6: at least 24 hours).
    pub idempotency_retention: Duration,
    /// SQLite: WAL frames (pages) past which the writer checkpoints the WAL itself between two
    /// batches, so that the next batch starts it again; this bounds the WAL file at about this
    /// many pages (ignored for PostgreSQL).
    pub sqlite_wal_frames_limit: i64,
}

impl DatabaseConfig {
    /// The defaults for `url`: `synchronous=FULL`, 5 s busy timeout, 8 connections, 24 h,
    /// a WAL of at most 65,536 frames (256 MiB of 4 KiB pages).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            sqlite_synchronous: SqliteSynchronous::Full,
            busy_timeout: Duration::from_secs(5),
            max_connections: 8,
            idempotency_retention: Duration::from_hours(24),
            sqlite_wal_frames_limit: crate::writer::WAL_FRAMES_LIMIT,
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PostgreSQL URL may hold a password: show the scheme and host part only.
        let shown = match self.url.split_once('@') {
            Some((_, host)) => format!("<credentials>@{host}"),
            None => self.url.clone(),
        };
        f.debug_struct("DatabaseConfig")
            .field("url", &shown)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("busy_timeout", &self.busy_timeout)
            .field("max_connections", &self.max_connections)
            .field("idempotency_retention", &self.idempotency_retention)
            .field("sqlite_wal_frames_limit", &self.sqlite_wal_frames_limit)
            .finish()
    }
}

/// Which backend a database runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The connection pools, one variant per backend.
#[derive(Clone)]
pub(crate) enum Pools {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

#[derive(Debug)]
struct SqlitePragmas {
    synchronous: SqliteSynchronous,
    busy_timeout: Duration,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&connection_pragmas(
            self.synchronous,
            self.busy_timeout.as_millis(),
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The settings of every SQLite connection that reads or writes: WAL, the durability asked for,
/// the lock wait, foreign keys, and no automatic checkpoint (the writer's checkpointer runs them).
pub(crate) fn connection_pragmas(synchronous: SqliteSynchronous, busy_timeout_ms: u128) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA busy_timeout = {busy_timeout_ms}; \
         PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
        synchronous.pragma()
    )
}

/// Reads the backend and the connection string out of a database URL.
pub(crate) fn parse_url(url: &str) -> Result<(Backend, String), DatabaseError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(DatabaseError::InvalidUrl);
    }
    Ok((Backend::Sqlite, path.to_owned()))
}

impl Pools {
    pub(crate) fn open(config: &DatabaseConfig) -> Result<Self, DatabaseError> {
        let (backend, target) = parse_url(&config.url)?;
        match backend {
            Backend::Sqlite => {
                if let Some(parent) = std::path::Path::new(&target).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(DatabaseError::Io)?;
                }
                let pool = Pool::builder()
                    .max_size(config.max_connections.max(1))
                    .min_idle(Some(1))
                    .connection_timeout(config.busy_timeout.max(Duration::from_secs(1)) * 2)
                    .connection_customizer(Box::new(SqlitePragmas {
                        synchronous: config.sqlite_synchronous,
                        busy_timeout: config.busy_timeout,
                    }))
                    .build(ConnectionManager::<SqliteConnection>::new(target))
                    .map_err(DatabaseError::Pool)?;
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(|error| DatabaseError::Migration(error.to_string()))?;
                Ok(Self::Sqlite(pool))
            }
            Backend::Postgres => {
                let pool = Pool::builder()
                    .max_size(config.max_connections.max(1))
                    .connection_timeout(config.busy_timeout.max(Duration::from_secs(1)) * 2)
                    .build(ConnectionManager::<PgConnection>::new(target))
                    .map_err(DatabaseError::Pool)?;
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                // Several instances may start at once: one migrates, the others wait for it.
                conn.batch_execute("SELECT pg_advisory_lock(727274001)")?;
                let migrated = conn
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|_| ())
                    .map_err(|error| DatabaseError::Migration(error.to_string()));
                conn.batch_execute("SELECT pg_advisory_unlock(727274001)")?;
                migrated?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether the database answers and has no pending migration.
    pub(crate) fn check_ready(&self) -> Result<(), DatabaseError> {
        let pending = match self {
            Self::Sqlite(pool) => {
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                conn.batch_execute("SELECT 1")?;
                conn.has_pending_migration(SQLITE_MIGRATIONS)
            }
            Self::Postgres(pool) => {
                let mut conn = pool.get().map_err(DatabaseError::Pool)?;
                conn.batch_execute("SELECT 1")?;
                conn.has_pending_migration(POSTGRES_MIGRATIONS)
            }
        };
        match pending {
            Ok(false) => Ok(()),
            Ok(true) => Err(DatabaseError::Migration("pending migrations".into())),
            Err(error) => Err(DatabaseError::Migration(error.to_string())),
        }
    }
}

/// One connection of either backend, lent to a read (see `Database::read`).
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// Runs `$body` with `$conn` bound to the connection inside a [`Conn`]; compiled once per
/// backend, like [`with_conn`].
macro_rules! on_conn {
    ($source:expr, |$conn:ident| $body:expr) => {
        match $source {
            $crate::database::Conn::Sqlite($conn) => $body,
            $crate::database::Conn::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to a pooled connection of either backend. The body is
/// compiled once per backend, so one piece of diesel code serves both.
macro_rules! with_conn {
    ($pools:expr, |$conn:ident| $body:expr) => {
        match $pools {
            $crate::database::Pools::Sqlite(pool) => {
                let mut pooled = pool.get().map_err($crate::error::DatabaseError::Pool)?;
                let $conn = &mut *pooled;
                $body
            }
            $crate::database::Pools::Postgres(pool) => {
                let mut pooled = pool.get().map_err($crate::error::DatabaseError::Pool)?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}

/// Runs `$body` in a write transaction: `BEGIN IMMEDIATE` on SQLite (takes the write lock up
/// front, so two writers never deadlock upgrading a read lock), a plain transaction on
/// PostgreSQL.
macro_rules! write_transaction {
    ($pools:expr, |$conn:ident| $body:expr) => {
        match $pools {
            $crate::database::Pools::Sqlite(pool) => {
                let mut pooled = pool.get().map_err($crate::error::DatabaseError::Pool)?;
                pooled.immediate_transaction(|$conn| $body)
            }
            $crate::database::Pools::Postgres(pool) => {
                let mut pooled = pool.get().map_err($crate::error::DatabaseError::Pool)?;
                pooled.transaction(|$conn| $body)
            }
        }
    };
}

pub(crate) use {on_conn, with_conn, write_transaction};

#[cfg(test)]
mod tests {
    use diesel::sqlite::SqliteConnection;
    use diesel::{Connection as _, RunQueryDsl as _};

    use super::*;

    #[derive(diesel::QueryableByName, Debug, PartialEq, Eq)]
    struct Owned {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        asp_id: String,
    }

    fn owners(conn: &mut SqliteConnection, query: &str) -> Vec<(String, String)> {
        diesel::sql_query(query)
            .load::<Owned>(conn)
            .unwrap()
            .into_iter()
            .map(|row| (row.key, row.asp_id))
            .collect()
    }

    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
    }

    #[derive(diesel::QueryableByName)]
    struct Violation {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table: String,
    }

    const OLDEST: &str = "ASPSANDBOX00001";
    const OTHER: &str = "ASPOTHER0000002";

    /// The database as the first two migrations left it: two projects (the sandbox first), a
    /// member with one application whose idempotency record names the other project and one
    /// whose record was purged, and a member without applications.
    fn before_tenancy(path: &str) {
        let mut conn = SqliteConnection::establish(path).unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        conn.run_next_migration(SQLITE_MIGRATIONS).unwrap();
        conn.run_next_migration(SQLITE_MIGRATIONS).unwrap();
        conn.batch_execute(&format!(
            "INSERT INTO projects VALUES ('{OLDEST}', 1, 1), ('{OTHER}', 0, 2);
             INSERT INTO members VALUES ('1001', 'ACTIVE', 1, 1), ('1002', 'CANCELLED', 1, 1);
             INSERT INTO card_products VALUES
                 ('000170000003000', 'Mobile', '94351200', 'MOBILE', 0, 0, 5, 1, 1);
             INSERT INTO card_applications VALUES
                 ('2026112500000000000001', '1001', '000170000003000', 'ISSUE', 'READY', NULL, 5),
                 ('2026112500000000000002', '1001', '000170000003000', 'ISSUE', 'READY', NULL, 6);
             INSERT INTO cards VALUES ('{par}', '2026112500000000000001', x'00', 'k1', x'01',
                 '3111', 'MOBILE', 'ACTIVE', 5);
             INSERT INTO deliveries VALUES ('2026112500000000000001', 'road', 'detail', '06236',
                 'READY', 5, 5);
             INSERT INTO idempotency_records VALUES ('{OTHER}', '261125153000-0000001', x'02',
                 '2026112500000000000001', 5, 9);",
            par = "P".repeat(27)
        ))
        .unwrap();
    }

    #[test]
    fn tenancy_moves_every_existing_row_to_its_project_and_breaks_no_foreign_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3").display().to_string();
        before_tenancy(&path);

        Pools::open(&DatabaseConfig::new(path.clone())).unwrap();

        let mut conn = SqliteConnection::establish(&path).unwrap();
        assert_eq!(
            owners(
                &mut conn,
                "SELECT member_id AS key, asp_id FROM members ORDER BY member_id, asp_id"
            ),
            [
                ("1001".into(), OTHER.into()),
                ("1001".into(), OLDEST.into()),
                ("1002".into(), OLDEST.into()),
            ],
            "a member goes to each project that has its applications; one with none to the oldest"
        );
        assert_eq!(
            owners(
                &mut conn,
                "SELECT apply_no AS key, asp_id FROM card_applications ORDER BY apply_no"
            ),
            [
                ("2026112500000000000001".into(), OTHER.into()),
                ("2026112500000000000002".into(), OLDEST.into()),
            ],
            "an application goes to its idempotency record's project, else to the oldest"
        );
        assert_eq!(
            owners(&mut conn, "SELECT par AS key, asp_id FROM cards"),
            [("P".repeat(27), OTHER.into())]
        );
        assert_eq!(
            owners(
                &mut conn,
                "SELECT member_id || ' ' || pan_bound_to || ' ' || length(card_id) AS key, \
                 lower(card_id) = card_id AS asp_id FROM cards"
            ),
            [("1001 PAR 32".into(), "1".into())],
            "an existing card gets an id, its member, and keeps its PAN bound to its PAR"
        );
        assert_eq!(
            owners(&mut conn, "SELECT apply_no AS key, asp_id FROM deliveries"),
            [("2026112500000000000001".into(), OTHER.into())]
        );
        assert_eq!(
            owners(
                &mut conn,
                "SELECT outcome AS key, asp_id FROM idempotency_records"
            ),
            [("2026112500000000000001".into(), OTHER.into())]
        );
        assert_eq!(
            owners(
                &mut conn,
                "SELECT operation AS key, correlation_id AS asp_id FROM idempotency_records"
            ),
            [("ISSUE_AND_DELIVER".into(), "261125153000-0000001".into())],
            "an existing record is an issuance's, its outcome the application number"
        );

        let schema: String =
            diesel::sql_query("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
                .load::<Text>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| row.sql)
                .collect::<Vec<_>>()
                .join("\n");
        assert!(
            !schema.contains("_new"),
            "a reference to a rebuilt table: {schema}"
        );
        let violations = diesel::sql_query("PRAGMA foreign_key_check")
            .load::<Violation>(&mut conn)
            .unwrap();
        assert!(
            violations.is_empty(),
            "{:?}",
            violations.iter().map(|v| &v.table).collect::<Vec<_>>()
        );
    }
}
