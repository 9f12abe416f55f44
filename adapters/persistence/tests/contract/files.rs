//! The database as files and processes: the WAL beside the writer, readiness, one serving
//! process per SQLite file, what a closed database leaves.

use prepaid_application::ports::CardApplicationStore;

use prepaid_persistence::Database;

use crate::cases::{counts, record_concurrently};
use crate::support::{Backend, issuance, key, member_and_product, open, open_with, unique};

pub async fn the_wal_is_copied_into_the_database_file_beside_the_writer(backend: Backend) {
    let test = open(&backend);
    let (asp_id, member) = member_and_product(&test.db).await;
    // The writer asks the checkpointer for a checkpoint every 25 issuances.
    record_concurrently(&test.db, &asp_id, member, 300, false).await;

    let Backend::Sqlite = backend else {
        assert_eq!(test.db.wal_status(), None, "PostgreSQL has no WAL of ours");
        return;
    };
    // Once writes pause, a checkpoint finds every frame copied (the last request may still be
    // running; the writer does not wait for it, so neither does the test, up to a bound).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = test.db.wal_status();
        if let Some(status) = status
            && status.frames > 0
            && status.checkpointed == status.frames
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the checkpointer never caught up: {status:?}"
        );
        // Each later issuance is another request to the checkpointer.
        test.db
            .record_issuance(&issuance(member, key(&asp_id, unique()), unique(), false))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

pub async fn past_its_frame_limit_the_wal_starts_again_from_its_beginning(backend: Backend) {
    const LIMIT: i64 = 64;
    let test = open_with(&backend, |config| config.sqlite_wal_frames_limit = LIMIT);
    let (asp_id, member) = member_and_product(&test.db).await;
    for _ in 0..6 {
        record_concurrently(&test.db, &asp_id, member, 100, true).await;
    }
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(600, 600, 600)
    );

    let Backend::Sqlite = backend else {
        assert_eq!(test.db.wal_status(), None, "PostgreSQL has no WAL of ours");
        return;
    };
    let status = test.db.wal_status().expect("the checkpointer has reported");
    assert!(
        status.writer_checkpoints > 0,
        "the writer never checkpointed the WAL itself: {status:?}"
    );
    // SQLite writes a restarted WAL over its old frames, so the file's size is the most frames
    // the WAL ever held (4 KiB pages, 24-byte frame headers); 600 issuances in one WAL would
    // take more than 2,000.
    let wal = std::fs::metadata(format!("{}-wal", test.config.url))
        .expect("the WAL file")
        .len();
    assert!(wal / 4_120 < 1_000, "the WAL grew to {wal} bytes");
}

pub async fn the_database_reports_ready_after_migrations(backend: Backend) {
    let test = open(&backend);
    test.db.check_ready().await.unwrap();
}

pub async fn one_process_serves_an_sqlite_file_and_admin_tools_open_it_beside(backend: Backend) {
    let test = open(&backend);
    let Backend::Sqlite = backend else {
        assert!(
            !test.db.holds_service_lock(),
            "PostgreSQL has no service lock"
        );
        assert!(
            Database::open(&test.config).is_ok(),
            "instances share PostgreSQL"
        );
        return;
    };
    assert!(test.db.holds_service_lock());
    match Database::open(&test.config) {
        Err(prepaid_persistence::DatabaseError::InUse { holder, .. }) => {
            assert_eq!(holder, Some(std::process::id()));
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a second serving handle opened the file"),
    }
    let beside = Database::open_beside(&test.config).unwrap();
    assert!(!beside.holds_service_lock());
    let (_, member) = member_and_product(&beside).await;
    assert_eq!(
        test.db.count_issued_to(member).await.unwrap(),
        counts(0, 0, 0),
        "the server reads what was written beside it"
    );
}

pub async fn a_closed_database_leaves_no_wal_behind(backend: Backend) {
    let test = open(&backend);
    let Backend::Sqlite = backend else {
        return;
    };
    let (asp_id, member) = member_and_product(&test.db).await;
    record_concurrently(&test.db, &asp_id, member, 200, true).await;
    let wal = format!("{}-wal", test.config.url);
    assert!(
        std::fs::metadata(&wal).map_or(0, |file| file.len()) > 0,
        "the WAL holds the issuances while the database is open"
    );

    let config = test.config.clone();
    drop(test.db);

    assert_eq!(
        std::fs::metadata(&wal).map_or(0, |file| file.len()),
        0,
        "every frame was copied into the database file and the WAL emptied"
    );
    let reopened = Database::open(&config).unwrap();
    assert_eq!(
        reopened.count_issued_to(member).await.unwrap(),
        counts(200, 200, 200)
    );
}
