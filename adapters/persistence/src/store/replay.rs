//! Replay bindings in the database (PostgreSQL, or any handle without a writer).

use super::*;

/// Replay bindings kept in the database, so that several instances refuse each other's
/// replays.
#[derive(Clone)]
pub struct DieselReplayGuard {
    pub(super) database: Database,
    pub(super) clock: Arc<dyn Clock>,
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
