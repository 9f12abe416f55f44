//! Group commit for SQLite: one writer thread owns the write connection, takes every command (a
//! state change of any operation) waiting at that moment, runs each inside its own savepoint of
//! one `BEGIN IMMEDIATE` transaction, commits once (one `fsync` at `synchronous=FULL`) and only
//! then answers each. The writer knows nothing of what a command writes: the store hands it
//! closures over a connection, the same ones it runs as transactions on PostgreSQL.
//!
//! A second thread, the checkpointer, copies the WAL into the database file on its own
//! connection (a `PASSIVE` checkpoint takes no lock the writer needs), so no issuance waits for
//! a checkpoint: one takes milliseconds (a `fsync` of the database file with every page changed
//! since the last one), and run by the writer it was most of the latency tail.
//!
//! Durability: a command is answered only after the commit that holds it. Isolation: a failing
//! command (a unique violation, a lost optimistic update) rolls back to its own savepoint and
//! leaves the others of the batch intact. Writers never meet `SQLITE_BUSY`
//! between themselves, so no request waits in SQLite's busy-handler back-off.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sqlite::SqliteConnection;

use crate::database::{Conn, SqliteSynchronous, connection_pragmas};
use crate::error::DatabaseError;
use crate::memory::BindingJournal;
use crate::rows::ReplayBindingRow;
use crate::schema::replay_bindings;

/// The most commands written in one transaction.
const MAX_BATCH: usize = 256;

/// Issuances committed between two requests to the checkpointer. Small checkpoints keep each
/// `fsync` of the database file short, and a long one delays the writer's `fsync` of the WAL
/// that runs beside it: at 4,000 issuances a second, 25 instead of 100 raised the share of
/// answers within 5 ms from 92-95 % to 97-99 %, for about 5 % more CPU at full load
/// (docs/PERFORMANCE.md).
const CHECKPOINT_EVERY: usize = 25;

/// The default number of WAL frames (256 MiB of 4 KiB pages) past which the writer checkpoints
/// itself between two batches (`DatabaseConfig::sqlite_wal_frames_limit`). SQLite starts the WAL
/// again from its beginning only in a write transaction that begins with every frame copied into
/// the database file; beside a busy writer the checkpointer almost never finishes between two
/// commits, so without this the WAL would grow without bound.
/// The writer's own checkpoint copies only what the checkpointer has not yet copied, but its
/// `fsync` holds up every answer behind it: at 4,000 issuances a second (about 8 frames each in
/// batches of two), 65,536 frames make it about once every 2 s instead of twice a second. A long
/// WAL costs readers little: they look up only the frames not yet copied, and the checkpointer
/// keeps those few.
pub(crate) const WAL_FRAMES_LIMIT: i64 = 65_536;

/// What a command's caller gets: `Err` when the batch could not be committed (nothing of it
/// was written), else the command's own outcome (on `Err`, it was rolled back to its savepoint).
pub(crate) type Answer<T> = Result<Result<T, DieselError>, DatabaseError>;

/// A state change queued for the writer.
trait Command: Send {
    /// Runs the change on the writer's connection, inside the batch's transaction.
    fn run(&mut self, connection: &mut SqliteConnection);
    /// Answers the caller once the batch is committed (`Ok`) or has failed (`Err`).
    fn answer(self: Box<Self>, committed: Result<(), &str>);
}

/// A command made of a closure and the channel its outcome goes back on.
struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, DieselError>>,
    reply: tokio::sync::oneshot::Sender<Answer<T>>,
}

impl<T, F> Command for Pending<T, F>
where
    T: Send,
    F: FnOnce(Conn<'_>) -> Result<T, DieselError> + Send,
{
    fn run(&mut self, connection: &mut SqliteConnection) {
        if let Some(work) = self.work.take() {
            // A nested transaction is a savepoint: a failure undoes this command only.
            self.outcome =
                Some(connection.transaction(|connection| work(Conn::Sqlite(connection))));
        }
    }

    fn answer(self: Box<Self>, committed: Result<(), &str>) {
        let answer = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => Ok(outcome),
            (Ok(()), None) => Err(DatabaseError::Corrupt("a command the writer never ran")),
            (Err(message), _) => Err(DatabaseError::Connect(message.to_owned())),
        };
        // The requester may have gone (client disconnected): nothing to undo.
        let _ = self.reply.send(answer);
    }
}

enum Job {
    /// A state change, answered once it is durable. Boxed: the channel's slots are as large as
    /// its largest job.
    Command(Box<dyn Command>),
    /// A replay binding, written with the next commit and answered to nobody. It is queued
    /// before anything its request records afterwards, so it is never less durable than that.
    Binding { row: ReplayBindingRow, now: i64 },
}

/// For each binding a batch writes, it deletes up to this many that have expired (and a few
/// more): the table keeps pace with the request rate in small steps, where one delete of every
/// expired binding at once held the write lock for seconds under load.
const PURGED_PER_BINDING: usize = 2;

/// What the last checkpoint found, for [`GroupCommitWriter::wal_status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalStatus {
    /// Frames in the WAL.
    pub frames: i64,
    /// Of those, frames copied into the database file.
    pub checkpointed: i64,
    /// How many times the writer checkpointed the WAL itself, past its frame limit.
    pub writer_checkpoints: u64,
}

/// The checkpointer's last figures (`-1` before the first) and how many times it reported.
#[derive(Debug)]
struct WalFigures {
    frames: AtomicI64,
    checkpointed: AtomicI64,
    reports: AtomicU64,
    writer_checkpoints: AtomicU64,
}

/// The handle to the writer thread; the thread ends when the last handle is dropped, and the
/// checkpointer thread with it.
pub(crate) struct GroupCommitWriter {
    /// `None` only while being dropped.
    sender: Option<mpsc::Sender<Job>>,
    wal: Arc<WalFigures>,
    /// The writer thread, joined on drop so that its last checkpoint finishes before the
    /// process goes on (to its exit, say).
    thread: Option<thread::JoinHandle<()>>,
}

/// The most bytes the WAL file keeps on disk once SQLite starts it again
/// (`journal_size_limit`): without it the file keeps the size of the most frames it ever held
/// (about 270 MB at the default frame limit) for good.
const WAL_SIZE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

impl GroupCommitWriter {
    /// Opens the write connection on `path` and starts the writer thread.
    pub(crate) fn start(
        path: &str,
        synchronous: SqliteSynchronous,
        busy_timeout_ms: u128,
        wal_frames_limit: i64,
    ) -> Result<Self, DatabaseError> {
        let connect = || {
            SqliteConnection::establish(path)
                .map_err(|error| DatabaseError::Connect(error.to_string()))
        };
        let mut connection = connect()?;
        // `temp_store = MEMORY` keeps the sub-journal of each issuance's savepoint (the original
        // content of every page it changes, for a rollback to the savepoint) in memory. On disk,
        // once it had spilled past 64 KiB, it cost two `pwrite`s per changed page, about 34 KiB
        // per issuance, none of which durability needs (docs/PERFORMANCE.md). It is truncated
        // at each release, so it holds one issuance's pages at most.
        connection.batch_execute(&format!(
            "{} PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES};",
            connection_pragmas(synchronous, busy_timeout_ms)
        ))?;
        let mut checkpoint_connection = connect()?;
        // The checkpoint's own `fsync`s follow the connection's `synchronous` setting.
        checkpoint_connection.batch_execute(&format!(
            "PRAGMA synchronous = {}; PRAGMA busy_timeout = {busy_timeout_ms}; PRAGMA wal_autocheckpoint = 0;",
            synchronous.pragma()
        ))?;
        let wal = Arc::new(WalFigures {
            frames: AtomicI64::new(-1),
            checkpointed: AtomicI64::new(-1),
            reports: AtomicU64::new(0),
            writer_checkpoints: AtomicU64::new(0),
        });
        // One pending request is enough: a checkpoint copies every frame committed before it.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let figures = wal.clone();
        let checkpointer = thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    if let Some((frames, checkpointed)) = checkpoint(&mut checkpoint_connection) {
                        figures.frames.store(frames, Ordering::Release);
                        figures.checkpointed.store(checkpointed, Ordering::Release);
                        figures.reports.fetch_add(1, Ordering::AcqRel);
                    }
                }
            })
            .map_err(DatabaseError::Io)?;
        let (sender, receiver) = mpsc::channel::<Job>();
        let figures = wal.clone();
        let writer = thread::Builder::new()
            .name("sqlite-group-commit".into())
            .spawn(move || {
                run(
                    &mut connection,
                    &receiver,
                    &wake,
                    &figures,
                    wal_frames_limit,
                );
                // The last handle is gone: stop the checkpointer, then copy every frame into
                // the database file and empty the WAL, so that a stopped service leaves a
                // database file that holds everything and a WAL of zero bytes.
                drop(wake);
                let _ = checkpointer.join();
                if let Err(error) = connection.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);") {
                    tracing::warn!(error = %error, "final WAL checkpoint failed");
                }
            })
            .map_err(DatabaseError::Io)?;
        Ok(Self {
            sender: Some(sender),
            wal,
            thread: Some(writer),
        })
    }

    /// The WAL as the last checkpoint found it (`None` before the first).
    pub(crate) fn wal_status(&self) -> Option<WalStatus> {
        let frames = self.wal.frames.load(Ordering::Acquire);
        let checkpointed = self.wal.checkpointed.load(Ordering::Acquire);
        (frames >= 0 && checkpointed >= 0).then_some(WalStatus {
            frames,
            checkpointed,
            writer_checkpoints: self.wal.writer_checkpoints.load(Ordering::Acquire),
        })
    }

    /// Runs `work` with the next group commit, in its own savepoint, and answers once the
    /// batch is durable.
    pub(crate) async fn execute<T, F>(&self, work: F) -> Answer<T>
    where
        T: Send + 'static,
        F: FnOnce(Conn<'_>) -> Result<T, DieselError> + Send + 'static,
    {
        let stopped = || DatabaseError::Connect("SQLite writer stopped".into());
        let (reply, answer) = tokio::sync::oneshot::channel();
        let command = Pending {
            work: Some(work),
            outcome: None,
            reply,
        };
        self.sender
            .as_ref()
            .ok_or_else(stopped)?
            .send(Job::Command(Box::new(command)))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for GroupCommitWriter {
    /// Closes the queue and waits for the writer: it writes what was queued, checkpoints and
    /// empties the WAL, and ends.
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl BindingJournal for GroupCommitWriter {
    fn write(&self, binding: ReplayBindingRow, now: prepaid_domain::Timestamp) {
        // A stopped writer has already failed every issuance: nothing is recorded that this
        // binding would have had to precede.
        let Some(sender) = &self.sender else {
            return;
        };
        let _ = sender.send(Job::Binding {
            row: binding,
            now: now.as_millis(),
        });
    }
}

#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

/// Copies the WAL into the database file without waiting for the writer or any reader.
/// Returns the frames in the WAL and how many of them are now copied (`None` when another
/// connection was checkpointing, or on an error, which loses nothing: the WAL keeps every commit
/// and the next checkpoint retries).
fn checkpoint(connection: &mut SqliteConnection) -> Option<(i64, i64)> {
    match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
        .get_result::<CheckpointRow>(connection)
    {
        Ok(row) if row.busy == 0 => Some((row.log.into(), row.checkpointed.into())),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(error = %error, "WAL checkpoint failed");
            None
        }
    }
}

fn run(
    connection: &mut SqliteConnection,
    receiver: &mpsc::Receiver<Job>,
    checkpointer: &mpsc::SyncSender<()>,
    figures: &WalFigures,
    wal_frames_limit: i64,
) {
    let mut since_request = 0;
    let mut seen_reports = 0;
    loop {
        let Ok(first) = receiver.recv() else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut bindings = 0;
        let mut latest = i64::MIN;
        let committed = connection.immediate_transaction(|connection| {
            for job in &mut batch {
                match job {
                    Job::Command(command) => command.run(connection),
                    Job::Binding { row, now } => {
                        write_binding(connection, row);
                        bindings += 1;
                        latest = latest.max(*now);
                    }
                }
            }
            if bindings > 0 {
                purge_bindings(connection, latest, bindings * PURGED_PER_BINDING + 16);
            }
            Ok::<(), DieselError>(())
        });
        match committed {
            Ok(()) => {
                since_request += batch.len();
                answer(batch, Ok(()));
                if since_request >= CHECKPOINT_EVERY {
                    since_request = 0;
                    // Full: a request is already pending, and it will copy these frames too.
                    let _ = checkpointer.try_send(());
                }
                // Once per report of the checkpointer, so that the WAL's restart (or a reader
                // that prevented it) shows in its next figures before the writer acts again.
                let reports = figures.reports.load(Ordering::Acquire);
                if reports != seen_reports
                    && figures.frames.load(Ordering::Acquire) >= wal_frames_limit
                {
                    seen_reports = reports;
                    // Between two batches every frame is committed, so this copies them all
                    // (unless a reader still reads an older snapshot) and the next batch
                    // starts the WAL again.
                    if checkpoint(connection).is_some() {
                        figures.writer_checkpoints.fetch_add(1, Ordering::AcqRel);
                    }
                }
            }
            Err(error) => {
                answer(batch, Err(&format!("group commit failed: {error}")));
            }
        }
    }
}

/// Answers each command of a batch: its outcome once the batch is committed, or the batch's
/// failure (nothing of it was written).
fn answer(batch: Vec<Job>, committed: Result<(), &str>) {
    for job in batch {
        if let Job::Command(command) = job {
            command.answer(committed);
        }
    }
}

/// Writes a replay binding in its own savepoint (a later binding of the same signature replaces
/// it). A failure loses only this binding, which the process still holds in memory; it never
/// fails the batch's issuances.
fn write_binding(connection: &mut SqliteConnection, row: &ReplayBindingRow) {
    let written = connection.transaction(|connection| {
        diesel::replace_into(replay_bindings::table)
            .values(row)
            .execute(connection)
    });
    if let Err(error) = written {
        tracing::warn!(error = %error, "replay binding not written");
    }
}

/// Deletes up to `limit` of the replay bindings that expired before `now`, the oldest first
/// (through the expiry index).
fn purge_bindings(connection: &mut SqliteConnection, now: i64, limit: usize) {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let purged = connection.transaction(|connection| {
        diesel::sql_query(
            "DELETE FROM replay_bindings WHERE rowid IN \
             (SELECT rowid FROM replay_bindings WHERE expires_at < ? ORDER BY expires_at LIMIT ?)",
        )
        .bind::<diesel::sql_types::BigInt, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .execute(connection)
    });
    if let Err(error) = purged {
        tracing::warn!(error = %error, "expired replay bindings not purged");
    }
}
