//! Group commit for SQLite: one writer thread owns the write connection, takes every issuance
//! waiting at that moment, writes each inside its own savepoint of one `BEGIN IMMEDIATE`
//! transaction, commits once (one `fsync` at `synchronous=FULL`) and only then answers each.
//!
//! Durability is unchanged: an issuance is acknowledged only after the commit that holds it.
//! Isolation is unchanged: a failing issuance (a unique violation) rolls back to its own
//! savepoint and leaves the others of the batch intact. Writers never meet `SQLITE_BUSY`
//! between themselves, so no request waits in SQLite's busy-handler back-off.

use std::sync::mpsc;
use std::thread;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sqlite::SqliteConnection;
use prepaid_application::PortError;
use prepaid_application::ports::{NewIssuance, RecordError};

use crate::database::SqliteSynchronous;
use crate::error::DatabaseError;
use crate::schema::{card_applications, cards, deliveries, idempotency_records};
use crate::store::{IssuanceRows, insert_issuance_rows, record_outcome};

/// The most issuances written in one transaction.
const MAX_BATCH: usize = 256;

/// Issuances written between two checkpoints of the WAL into the database file under load.
const CHECKPOINT_EVERY: usize = 1_000;

/// Issuances after which an idle moment (nothing waiting) is used for a checkpoint.
const CHECKPOINT_WHEN_IDLE: usize = 100;

struct Job {
    issuance: NewIssuance,
    reply: tokio::sync::oneshot::Sender<Result<(), RecordError>>,
}

/// The handle to the writer thread; the thread ends when the last handle is dropped.
pub(crate) struct GroupCommitWriter {
    sender: mpsc::Sender<Job>,
}

impl GroupCommitWriter {
    /// Opens the write connection on `path` and starts the writer thread.
    pub(crate) fn start(
        path: &str,
        synchronous: SqliteSynchronous,
        busy_timeout_ms: u128,
        retention_millis: i64,
    ) -> Result<Self, DatabaseError> {
        let mut connection = SqliteConnection::establish(path)
            .map_err(|error| DatabaseError::Connect(error.to_string()))?;
        // `temp_store = MEMORY` keeps the sub-journal of each issuance's savepoint (the original
        // content of every page it changes, for a rollback to the savepoint) in memory. On disk,
        // once it had spilled past 64 KiB, it cost two `pwrite`s per changed page, about 34 KiB
        // per issuance, none of which durability needs (docs/PERFORMANCE.md). It is truncated
        // at each release, so it holds one issuance's pages at most.
        connection.batch_execute(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA busy_timeout = {busy_timeout_ms}; \
             PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;",
            synchronous.pragma()
        ))?;
        let (sender, receiver) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("sqlite-group-commit".into())
            .spawn(move || run(&mut connection, &receiver, retention_millis))
            .map_err(DatabaseError::Io)?;
        Ok(Self { sender })
    }

    /// Writes `issuance` with the next group commit and answers once it is durable.
    pub(crate) async fn submit(&self, issuance: NewIssuance) -> Result<(), RecordError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.sender
            .send(Job { issuance, reply })
            .map_err(|_| RecordError::Unavailable(PortError::msg("SQLite writer stopped")))?;
        answer
            .await
            .map_err(|_| RecordError::Unavailable(PortError::msg("SQLite writer stopped")))?
    }
}

fn run(connection: &mut SqliteConnection, receiver: &mpsc::Receiver<Job>, retention_millis: i64) {
    let mut since_checkpoint = 0;
    // A job taken while looking whether the queue was idle, written with the next batch.
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut outcomes: Vec<Result<(), RecordError>> = Vec::with_capacity(batch.len());
        let committed = connection.immediate_transaction(|connection| {
            for job in &batch {
                let rows = IssuanceRows::of(&job.issuance, retention_millis);
                // A nested transaction is a savepoint: a failure undoes this issuance only.
                let result =
                    connection.transaction(|connection| insert_issuance_rows!(connection, &rows));
                outcomes.push(record_outcome(result));
            }
            Ok::<(), DieselError>(())
        });
        match committed {
            Ok(()) => {
                since_checkpoint += batch.len();
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    // The requester may have gone (client disconnected): nothing to undo.
                    let _ = job.reply.send(outcome);
                }
                // Automatic checkpoints would run inside the commit, before the answers; this
                // one runs after them, between batches, so no answer waits for it, and the WAL
                // is restarted by the next transaction.
                let next = receiver.try_recv();
                let idle = matches!(next, Err(mpsc::TryRecvError::Empty));
                carried = next.ok();
                if since_checkpoint >= CHECKPOINT_EVERY
                    || (idle && since_checkpoint >= CHECKPOINT_WHEN_IDLE)
                {
                    since_checkpoint = 0;
                    if let Err(error) = connection.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                    {
                        // Nothing is lost (the WAL keeps every commit); the next one retries.
                        tracing::warn!(error = %error, "WAL checkpoint failed");
                    }
                }
            }
            Err(error) => {
                let message = format!("group commit failed: {error}");
                for job in batch {
                    let _ = job.reply.send(Err(RecordError::Unavailable(PortError::msg(
                        message.clone(),
                    ))));
                }
            }
        }
    }
}
