//! A backup taken with `admin backup` while the service is under load holds every issuance
//! acknowledged before it began, and a service restored from it answers their retries with
//! their first outcome.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use prepaid_tools::client::{self, IssueRequest};

use crate::support::{admin, credentials, start, terminate};

fn mobile_request(correlation_id: String) -> IssueRequest {
    IssueRequest {
        correlation_id: Some(correlation_id),
        ..IssueRequest::mobile_only("1001", prepaid_bootstrap::sandbox::MOBILE_PRODUCT)
    }
}

#[actix_web::test]
async fn a_backup_under_load_restores_every_acknowledged_issuance() {
    use prepaid_application::ports::Clock as _;
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "backup.log");
    let credentials = credentials(&data_dir);
    let now = || prepaid_crypto::SystemClock.now();

    // Acknowledged before the backup begins.
    let mut acknowledged = Vec::new();
    for _ in 0..30 {
        let request = mobile_request(client::new_correlation_id(now()));
        let answer = client::issue(&credentials, &service.base_url, &request, now())
            .await
            .unwrap();
        assert_eq!(answer.body["response"]["code"], "000_000");
        acknowledged.push((request, answer.body["cardApplyNo"].clone()));
    }

    // Load beside the backup.
    let running = Arc::new(AtomicBool::new(true));
    let load = {
        let (running, credentials, base_url) = (
            running.clone(),
            credentials.clone(),
            service.base_url.clone(),
        );
        actix_web::rt::spawn(async move {
            let mut answered = 0;
            while running.load(Ordering::Relaxed) {
                let request = mobile_request(client::new_correlation_id(now()));
                if client::issue(&credentials, &base_url, &request, now())
                    .await
                    .is_ok()
                {
                    answered += 1;
                }
            }
            answered
        })
    };
    actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    let copy = root.path().join("copy.sqlite3");
    let data = data_dir.clone();
    let target = copy.clone();
    let said = actix_web::rt::task::spawn_blocking(move || {
        admin(&data, &[], &["backup", "--to", target.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(said.contains("copied"), "{said}");
    running.store(false, Ordering::Relaxed);
    assert!(load.await.unwrap() > 0, "the backup ran under load");
    assert!(terminate(&mut service).success());

    // Restore: the copy in place of the database file, beside the same keys.
    let database = data_dir.join("prepaid.sqlite3");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    std::fs::copy(&copy, &database).unwrap();
    let mut restored = start(&data_dir, "restored.log");
    for (request, number) in &acknowledged {
        let answer = client::issue(&credentials, &restored.base_url, request, now())
            .await
            .unwrap();
        assert_eq!(answer.body["response"]["code"], "000_000");
        assert_eq!(
            &answer.body["cardApplyNo"], number,
            "the first outcome, from the backup"
        );
    }
    assert!(terminate(&mut restored).success());
}

#[test]
fn a_backup_refuses_to_overwrite_a_file() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = start(&data_dir, "refuse.log");
    let existing = root.path().join("existing.sqlite3");
    std::fs::write(&existing, b"not a backup").unwrap();
    let output = std::process::Command::new(support::binary())
        .args(["admin", "backup", "--to", existing.to_str().unwrap()])
        .env("PREPAID_DATA_DIR", &data_dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(std::fs::read(&existing).unwrap(), b"not a backup");
    assert!(terminate(&mut service).success());
}
