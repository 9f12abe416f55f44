#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "statistics over counts and durations far below 2^52; exact integers are not needed"
)]

//! The three ceilings the service is measured against: a bare HTTP echo, the database
//! writes of an issuance without HTTP, and RSA-2048 OAEP decryptions on all cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use openssl::encrypt::{Decrypter, Encrypter};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::{Padding, Rsa};
use prepaid_application::ports::{
    CardApplicationStore, CardSecrets, Clock as _, IdempotencyClaim, IdempotencyKey,
    IdempotentOperation, NewIssuance, NewIssuedCard, PanBinding, RandomSource as _,
    RequestFingerprint,
};
use prepaid_crypto::{AesGcmCardSecrets, DataKey, IndexKey, OsRandom, SystemClock, random_hex};
use prepaid_domain::{
    ApplicationStatus, ApplicationType, AspId, CardApplication, CardApplyNo, CardId, CardKind,
    CardStatus, CorrelationId, Expiry, IssuedCard, Member, MemberId, MemberStatus, Pan, Par,
    TimeZone, Validity,
};
use prepaid_persistence::{Database, DatabaseConfig};

/// Runs a bare actix-web server whose every POST answers its own JSON body: the HTTP ceiling.
///
/// # Errors
/// The server's I/O error.
pub async fn echo_server(
    listener: std::net::TcpListener,
    workers: Option<usize>,
) -> std::io::Result<()> {
    let mut server = HttpServer::new(|| {
        App::new().default_service(web::post().to(|body: web::Bytes| async move {
            HttpResponse::Ok()
                .content_type("application/json")
                .body(body)
        }))
    });
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    server.listen(listener)?.run().await
}

/// Figures of a ceiling run.
#[derive(Clone, Copy, Debug)]
pub struct CeilingReport {
    /// Operations done.
    pub operations: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The 50th and 99th percentile of one operation's latency, in milliseconds (the database
    /// ceiling only: how long one durable commit takes with nothing else running).
    pub latency_ms: Option<(f64, f64)>,
}

impl CeilingReport {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

fn sample_issuance(
    secrets: &AesGcmCardSecrets,
    member: MemberId,
    asp: &AspId,
    serial: u64,
) -> Result<NewIssuance, String> {
    let random = OsRandom;
    let mut draw = || random.next_u64();
    let now = SystemClock.now();
    let bin = prepaid_domain::Bin::parse(prepaid_bootstrap::sandbox::SANDBOX_BIN)
        .map_err(|error| error.to_string())?;
    let pan = Pan::generate(&bin, &mut draw);
    let id = CardId::generate(now, &mut draw);
    let par = Par::generate(&mut draw);
    let number = CardApplyNo::generate(now, &mut draw).ok_or("clock")?;
    let civil = now.civil(TimeZone::Kst).ok_or("clock")?;
    let correlation =
        CorrelationId::compose(civil, u32::try_from(serial & 0x0fff_ffff).unwrap_or(0))
            .ok_or("correlation id")?;
    Ok(NewIssuance {
        claim: IdempotencyClaim {
            key: IdempotencyKey {
                asp_id: asp.clone(),
                correlation_id: correlation,
            },
            operation: IdempotentOperation::IssueAndDeliver,
            request_fingerprint: RequestFingerprint {
                key_id: prepaid_crypto::DEFAULT_INDEX_KEY_ID.to_owned(),
                digest: [7; 32],
            },
            outcome: number.as_str().to_owned(),
            created_at: now,
        },
        application: CardApplication {
            number,
            member,
            product: prepaid_domain::ServiceId::parse(prepaid_bootstrap::sandbox::MOBILE_PRODUCT)
                .map_err(|error| error.to_string())?,
            application_type: ApplicationType::Issue,
            status: ApplicationStatus::DigitalIssued,
            purpose: None,
            created_at: now,
        },
        card: Some(NewIssuedCard {
            card: IssuedCard {
                id: id.clone(),
                par: par.clone(),
                owner: member,
                linked_to: None,
                expiry: Expiry::from_issue_instant(now, Validity::DEFAULT).ok_or("clock")?,
                kind: CardKind::Mobile,
                status: CardStatus::Active,
            },
            protected_pan: secrets
                .protect(&pan, PanBinding::Card(&id))
                .map_err(|error| error.to_string())?,
            pan_fingerprint: secrets.fingerprint(&pan),
            cvk_id: prepaid_crypto::DEFAULT_CVK_ID.to_owned(),
        }),
        replacing: None,
        delivery: None,
    })
}

/// Writes the rows of one issuance per transaction, as fast as `concurrency` tasks can, for
/// `duration`: the database ceiling at the configured durability.
///
/// # Errors
/// A description of what failed.
pub async fn database(
    config: DatabaseConfig,
    duration: Duration,
    concurrency: usize,
) -> Result<CeilingReport, String> {
    let database = tokio::task::spawn_blocking(move || Database::open(&config))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())?;
    let now = SystemClock.now();
    for product in prepaid_bootstrap::sandbox::fixture_products() {
        database
            .save_product(product, now)
            .await
            .map_err(|error| error.to_string())?;
    }
    let asp = AspId::parse(&prepaid_bootstrap::sandbox::random_alphanumeric(15))
        .map_err(|error| error.to_string())?;
    let member = MemberId::new(1001).map_err(|error| error.to_string())?;
    database
        .save_member(
            &asp,
            Member {
                id: member,
                status: MemberStatus::Active,
            },
            now,
        )
        .await
        .map_err(|error| error.to_string())?;
    let secrets = Arc::new(AesGcmCardSecrets::new(
        DataKey::from_hex("bench", &random_hex(32).map_err(|error| error.to_string())?)
            .map_err(|error| error.to_string())?,
        Vec::new(),
        &IndexKey::from_hex(&random_hex(32).map_err(|error| error.to_string())?)
            .map_err(|error| error.to_string())?,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let serial = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (database, secrets, asp, stop, serial) = (
                database.clone(),
                secrets.clone(),
                asp.clone(),
                stop.clone(),
                serial.clone(),
            );
            tokio::spawn(async move {
                let mut latencies_us = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let issuance = sample_issuance(
                        &secrets,
                        member,
                        &asp,
                        serial.fetch_add(1, Ordering::Relaxed),
                    )?;
                    let begun = Instant::now();
                    match database.record_issuance(&issuance).await {
                        Ok(()) => latencies_us
                            .push(u32::try_from(begun.elapsed().as_micros()).unwrap_or(u32::MAX)),
                        // A random collision (same correlation id): draw again.
                        Err(
                            prepaid_application::ports::RecordError::KeyTaken
                            | prepaid_application::ports::RecordError::NumberTaken(_),
                        ) => {}
                        Err(error) => return Err(error.to_string()),
                    }
                }
                Ok::<Vec<u32>, String>(latencies_us)
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.map_err(|error| error.to_string())??);
    }
    latencies_us.sort_unstable();
    Ok(CeilingReport {
        operations: latencies_us.len() as u64,
        elapsed: started.elapsed(),
        latency_ms: Some((
            crate::loadgen::percentile_ms(&latencies_us, 0.5),
            crate::loadgen::percentile_ms(&latencies_us, 0.99),
        )),
    })
}

/// RSA-2048 OAEP (SHA-256) decryptions on `threads` threads for `duration`, with OpenSSL: the
/// crypto ceiling.
///
/// # Errors
/// OpenSSL's error.
pub fn rsa(
    duration: Duration,
    threads: usize,
) -> Result<CeilingReport, openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let sealed = {
        let mut encrypter = Encrypter::new(&key)?;
        encrypter.set_rsa_padding(Padding::PKCS1_OAEP)?;
        encrypter.set_rsa_oaep_md(MessageDigest::sha256())?;
        encrypter.set_rsa_mgf1_md(MessageDigest::sha256())?;
        let content_key = [42_u8; 32];
        let mut sealed = vec![0; encrypter.encrypt_len(&content_key)?];
        let length = encrypter.encrypt(&content_key, &mut sealed)?;
        sealed.truncate(length);
        sealed
    };
    let key = Arc::new(key);
    let sealed = Arc::new(sealed);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let (key, sealed, stop) = (key.clone(), sealed.clone(), stop.clone());
            std::thread::spawn(move || -> Result<u64, openssl::error::ErrorStack> {
                let mut count = 0;
                let mut out = vec![0; 512];
                while !stop.load(Ordering::Relaxed) {
                    let mut decrypter = Decrypter::new(&key)?;
                    decrypter.set_rsa_padding(Padding::PKCS1_OAEP)?;
                    decrypter.set_rsa_oaep_md(MessageDigest::sha256())?;
                    decrypter.set_rsa_mgf1_md(MessageDigest::sha256())?;
                    decrypter.decrypt(&sealed, &mut out)?;
                    count += 1;
                }
                Ok(count)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut operations = 0;
    for handle in handles {
        operations += handle.join().unwrap_or(Ok(0))?;
    }
    Ok(CeilingReport {
        operations,
        elapsed: started.elapsed(),
        latency_ms: None,
    })
}
