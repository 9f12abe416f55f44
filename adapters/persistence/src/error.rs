use prepaid_application::PortError;

/// The database could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL is neither an SQLite path nor a PostgreSQL URL.
    #[error("database URL must be an SQLite file path (optionally sqlite://) or postgres://...")]
    InvalidUrl,
    /// The SQLite file's folder could not be created.
    #[error("cannot create the database folder")]
    Io(#[source] std::io::Error),
    /// The SQLite write connection could not be opened.
    #[error("database connection failed: {0}")]
    Connect(String),
    /// No connection could be made or taken from the pool.
    #[error("database connection failed")]
    Pool(#[source] diesel::r2d2::PoolError),
    /// Migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    /// A stored row does not parse into domain values.
    #[error("stored data is invalid: {0}")]
    Corrupt(&'static str),
    /// The blocking task running the query failed.
    #[error("database task failed")]
    Task(#[source] tokio::task::JoinError),
    /// Another process serves this SQLite database.
    #[error(
        "the SQLite database {database} is in use by {}: one service process per SQLite file (stop it first; admin commands work beside it)",
        holder.map_or_else(|| "another process".to_owned(), |pid| format!("process {pid}"))
    )]
    InUse {
        /// The database path.
        database: String,
        /// The holder's process id, when it could be read.
        holder: Option<u32>,
    },
    /// The operation exists for SQLite only (on PostgreSQL, use its own tools).
    #[error("{0} is for the SQLite database; on PostgreSQL use its own tools (pg_dump)")]
    SqliteOnly(&'static str),
    /// A secret could not be sealed or unsealed.
    #[error("secret vault failed")]
    Vault(#[source] PortError),
}

impl From<DatabaseError> for PortError {
    fn from(error: DatabaseError) -> Self {
        PortError::new("database", error)
    }
}
