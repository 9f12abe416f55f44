//! Card-number serials: reserved in blocks, in order, each once, across handles and instances.

use prepaid_persistence::Database;

use crate::support::{Backend, open, unique};

/// A BIN of this run only (the PostgreSQL database is shared by runs).
fn fresh_bin() -> prepaid_domain::Bin {
    prepaid_domain::Bin::parse(&format!("{:08}", unique() % 100_000_000)).unwrap()
}

pub async fn serials_are_reserved_in_order_each_once_up_to_the_last(backend: Backend) {
    use prepaid_application::ports::CardNumberSerials as _;
    let test = open(&backend);
    let bin = fresh_bin();
    let reserve = |count| {
        let (db, bin) = (test.db.clone(), bin.clone());
        async move { db.reserve(&bin, count, 25, "idx-1").await.unwrap().serials }
    };

    assert_eq!(reserve(10).await, 0..10);
    assert_eq!(reserve(10).await, 10..20);
    assert_eq!(reserve(10).await, 20..25, "cut at the last");
    assert!(reserve(10).await.is_empty(), "all taken");
    assert_eq!(
        test.db
            .reserve(&fresh_bin(), 3, 25, "idx-1")
            .await
            .unwrap()
            .serials,
        0..3,
        "each BIN its own serials"
    );
}

pub async fn a_bin_keeps_the_numbering_key_it_started_with(backend: Backend) {
    use prepaid_application::ports::CardNumberSerials as _;
    let test = open(&backend);
    let bin = fresh_bin();

    let first = test.db.reserve(&bin, 5, 100, "idx-1").await.unwrap();
    let after_rotation = test.db.reserve(&bin, 5, 100, "idx-2").await.unwrap();

    assert_eq!((first.serials, first.key_id.as_str()), (0..5, "idx-1"));
    assert_eq!(
        (after_rotation.serials, after_rotation.key_id.as_str()),
        (5..10, "idx-1")
    );
    let other = test
        .db
        .reserve(&fresh_bin(), 5, 100, "idx-2")
        .await
        .unwrap();
    assert_eq!(
        other.key_id, "idx-2",
        "a BIN that starts now takes the current key"
    );
}

pub async fn concurrent_reservations_from_two_handles_never_share_a_serial(backend: Backend) {
    use prepaid_application::ports::CardNumberSerials as _;
    let first = open(&backend);
    let second = match backend {
        Backend::Sqlite => Database::open_beside(&first.config).unwrap(),
        Backend::Postgres(_) => Database::open(&first.config).unwrap(),
    };
    let bin = fresh_bin();
    let tasks: Vec<_> = (0..64)
        .map(|index| {
            let db = if index % 2 == 0 {
                first.db.clone()
            } else {
                second.clone()
            };
            let bin = bin.clone();
            tokio::spawn(async move { db.reserve(&bin, 7, 400, "idx-1").await.unwrap().serials })
        })
        .collect();
    let mut serials = Vec::new();
    for task in tasks {
        serials.extend(task.await.unwrap());
    }
    serials.sort_unstable();
    assert_eq!(
        serials,
        (0..400).collect::<Vec<_>>(),
        "every serial once, none past the last"
    );
}
