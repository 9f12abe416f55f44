//! One service process per SQLite database: the in-memory state of a process (the replay guard,
//! the group-commit writer) is right only if no other process serves the same file.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use crate::error::DatabaseError;

/// An exclusive lock on `<database>.lock`, held for as long as this value lives (the operating
/// system releases it when the process ends, however it ends). The file holds the holder's
/// process id, for the message a second process gives.
#[derive(Debug)]
pub(crate) struct ServiceLock {
    _file: File,
}

impl ServiceLock {
    /// Takes the lock of the SQLite database at `database`.
    ///
    /// # Errors
    /// [`DatabaseError::InUse`] naming the process that holds it, or [`DatabaseError::Io`].
    pub(crate) fn take(database: &str) -> Result<Self, DatabaseError> {
        let path = lock_path(database);
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(DatabaseError::Io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(DatabaseError::Io)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)
                    .and_then(|()| file.seek(SeekFrom::Start(0)))
                    .and_then(|_| writeln!(file, "{}", std::process::id()))
                    .map_err(DatabaseError::Io)?;
                Ok(Self { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // Best effort: the holder may be writing it this very moment.
                let _ = file.read_to_string(&mut holder);
                Err(DatabaseError::InUse {
                    database: database.to_owned(),
                    holder: holder.trim().parse().ok(),
                })
            }
            Err(TryLockError::Error(error)) => Err(DatabaseError::Io(error)),
        }
    }
}

fn lock_path(database: &str) -> PathBuf {
    let mut path = Path::new(database).as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_database_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("db.sqlite3").display().to_string();

        let first = ServiceLock::take(&database).unwrap();
        match ServiceLock::take(&database) {
            Err(DatabaseError::InUse { holder, .. }) => {
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("a second lock was not refused: {other:?}"),
        }
        let other = dir.path().join("other.sqlite3").display().to_string();
        assert!(
            ServiceLock::take(&other).is_ok(),
            "another database is free"
        );
        drop(first);
        assert!(ServiceLock::take(&database).is_ok());
    }
}
