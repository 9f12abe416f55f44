//! The crash test of the lifecycle: the service is killed (SIGKILL) at random moments while its
//! simulated partner moves deliveries and produces physical cards, members register them (right
//! and wrong CVCs), cancel, report their mobile cards lost and found, reissue and discard them;
//! afterwards no state change is found half done, and every acknowledged registration is
//! answered again the same. `PREPAID_CRASH_ROUNDS` sets the rounds
//! (`docs/RELIABILITY.md`).

mod support;

use std::time::Duration;

use prepaid_application::ports::{
    CardApplicationStore as _, CardStore as _, Clock as _, DeliveryStore as _,
};
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_domain::{
    ApplicationStatus, ApplicationType, AspId, CardKind, CardStatus, DeliveryStatus,
    MOST_WRONG_REGISTRATIONS, MemberId,
};
use prepaid_tools::client::{self, IssueRequest, OpsCall, Outgoing};
use serde_json::Value;
use support::{credentials, database, terminate};

/// How many crash rounds (`PREPAID_CRASH_ROUNDS` for the longer run).
fn crash_rounds() -> usize {
    std::env::var("PREPAID_CRASH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .map_or(10, |rounds: usize| rounds.div_ceil(2))
}

/// Applications in flight at the start of each round.
const IN_FLIGHT: usize = 8;

/// A registration answered with success before the kill.
struct Acknowledged {
    correlation_id: String,
    payload: String,
    answer: Value,
}

fn code(answer: &Value) -> &str {
    answer["response"]["code"].as_str().unwrap_or_default()
}

/// A request that may meet a dying process: `None` when no answer came.
async fn try_send(
    credentials: &ClientCredentials,
    base_url: &str,
    (path, payload, correlation_id): (&'static str, String, &str),
) -> Option<Value> {
    let outgoing = Outgoing {
        path,
        payload,
        encrypt: false,
        correlation_id: Some(correlation_id.to_owned()),
    };
    client::send(credentials, base_url, &outgoing, SystemClock.now())
        .await
        .ok()
        .map(|answer| answer.body)
}

/// A delivered application of the pre-issuance product for member 1001: its number and its
/// mobile card's PAR.
async fn apply(credentials: &ClientCredentials, base_url: &str) -> Option<(String, String)> {
    let mut request = IssueRequest::mobile_only(
        sandbox::ACTIVE_MEMBER.to_string(),
        sandbox::PRE_ISSUANCE_PRODUCT,
    );
    request.delivery = true;
    "서울특별시 강남구 테헤란로 1".clone_into(&mut request.address);
    "101동 1001호".clone_into(&mut request.address_detail);
    "06236".clone_into(&mut request.zip_code);
    let answer = client::issue(credentials, base_url, &request, SystemClock.now())
        .await
        .ok()?;
    (code(&answer.body) == "000_000").then(|| {
        (
            answer.body["cardApplyNo"].as_str().unwrap().to_owned(),
            answer.body["mobileCardPar"].as_str().unwrap().to_owned(),
        )
    })
}

/// The request a worker sends on `turn` about application `number` and its mobile card `par`,
/// other than a registration: a cancel, a discard, a reissue, a loss report or its lifting.
fn other_request(turn: usize, number: &str, par: &str) -> Option<(&'static str, String)> {
    let member = sandbox::ACTIVE_MEMBER.to_string();
    if turn.is_multiple_of(13) {
        let address = client::AddressLines {
            address: "서울특별시 강남구 테헤란로 1",
            detail: "101동 1001호",
            zip_code: "06236",
        };
        Some((
            prepaid_http::REISSUE_DELIVERY_PATH,
            client::reissue_payload(&member, par, None, Some(&address)),
        ))
    } else if turn.is_multiple_of(7) {
        Some((
            prepaid_http::CANCEL_APPLICATION_PATH,
            client::cancel_payload(&member, number),
        ))
    } else if turn.is_multiple_of(11) {
        Some((
            prepaid_http::DISCARD_CARD_PATH,
            client::discard_payload(&member, par),
        ))
    } else if turn.is_multiple_of(5) {
        let status = if turn.is_multiple_of(2) {
            "SUSPEND"
        } else {
            "RESUME"
        };
        Some((
            prepaid_http::CARD_STATE_PATH,
            client::card_state_payload(&member, par, status),
        ))
    } else {
        None
    }
}

/// One worker's load until `stop`, over every application made so far: registrations of the
/// produced cards (one in three with the right CVC), cancels, discards and loss reports of the
/// mobile cards; the registrations acknowledged.
async fn work(
    credentials: ClientCredentials,
    base_url: String,
    numbers: Vec<(String, String)>,
    worker: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Acknowledged> {
    let token = credentials.operator_token.clone().unwrap();
    let mut acknowledged = Vec::new();
    let mut turn = worker;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        turn += 1;
        let (number, par) = &numbers[turn % numbers.len()];
        let correlation_id = client::new_correlation_id(SystemClock.now());
        if let Some((path, payload)) = other_request(turn, number, par) {
            let payload = client::with_nonce(&payload, &correlation_id);
            let _ = try_send(&credentials, &base_url, (path, payload, &correlation_id)).await;
            continue;
        }
        let printed = client::ops(
            &base_url,
            &token,
            &OpsCall::PrintedCard {
                card_apply_no: number.clone(),
            },
        )
        .await;
        let Ok(printed) = printed else { continue };
        if code(&printed.body) != "000_000" {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let cvc = printed.body["cardCvc"].as_str().unwrap();
        let cvc = if turn.is_multiple_of(3) {
            cvc.to_owned()
        } else {
            format!("{:03}", (cvc.parse::<u32>().unwrap() + 1) % 1000)
        };
        let payload = client::with_nonce(
            &client::register_payload(
                &sandbox::ACTIVE_MEMBER.to_string(),
                Some(number),
                printed.body["cardNo"].as_str().unwrap(),
                printed.body["expiryDate"].as_str().unwrap(),
                &cvc,
            ),
            &correlation_id,
        );
        let call = (
            prepaid_http::REGISTER_PHYSICAL_CARD_PATH,
            payload.clone(),
            correlation_id.as_str(),
        );
        if let Some(answer) = try_send(&credentials, &base_url, call).await
            && code(&answer) == "000_000"
        {
            acknowledged.push(Acknowledged {
                correlation_id,
                payload,
                answer,
            });
        }
    }
    acknowledged
}

/// Every reissue recorded whole: the card it replaces terminated, with the cards linked to it,
/// and replaced by one reissue at most (a cancelled one aside). Answers how many there are.
async fn reissues_are_whole(db: &prepaid_persistence::Database, asp: &AspId) -> usize {
    let member = MemberId::new(sandbox::ACTIVE_MEMBER).unwrap();
    let applications = db.applications_of_member(asp, member).await.unwrap();
    let cards = db.cards_of_member(asp, member).await.unwrap();
    let mut replaced = std::collections::HashSet::new();
    for stored in &applications {
        let Some(lost) = &stored.replaces else {
            continue;
        };
        assert_eq!(
            stored.application.application_type,
            ApplicationType::Reissue
        );
        let label = format!("{stored:?}");
        if stored.application.status != ApplicationStatus::Cancelled {
            assert!(replaced.insert(lost.clone()), "replaced twice: {label}");
        }
        for card in cards
            .iter()
            .filter(|card| card.card.id == *lost || card.card.linked_to.as_ref() == Some(lost))
        {
            assert_eq!(
                card.card.status,
                CardStatus::Terminated,
                "{label}: {card:?}"
            );
        }
    }
    replaced.len()
}

/// What must hold of every application of the member, whatever moment the kills came at; and
/// how many physical cards are registered and how many mobile cards were discarded.
async fn nothing_is_half_done(db: &prepaid_persistence::Database, asp: &AspId) -> (usize, usize) {
    let member = MemberId::new(sandbox::ACTIVE_MEMBER).unwrap();
    let applications = db.applications_of_member(asp, member).await.unwrap();
    let mut registered = 0;
    let mut discarded = 0;
    for stored in &applications {
        let number = &stored.application.number;
        if sandbox::FIXTURE_APPLICATIONS.contains(&number.as_str()) {
            // The sandbox's fixtures, written whole with their past.
            continue;
        }
        let status = stored.application.status;
        // A history that does not follow the table is refused as corrupt by this read.
        let Some(delivery) = db.delivery(asp, number).await.unwrap() else {
            continue;
        };
        let history = &delivery.history;
        let cards = db.cards_of_application(asp, number).await.unwrap();
        let physical: Vec<_> = cards
            .iter()
            .filter(|card| card.card.kind == CardKind::Physical)
            .collect();
        let mobile: Vec<_> = cards
            .iter()
            .filter(|card| card.card.kind == CardKind::Mobile)
            .collect();
        let label = format!("{number}: {status:?}, {history:?}, {cards:?}");
        assert_eq!(mobile.len(), 1, "{label}");
        if history.reached(DeliveryStatus::PreShipping) {
            assert_eq!(
                physical.len(),
                1,
                "one card produced, with its step: {label}"
            );
            assert!(
                matches!(
                    status,
                    ApplicationStatus::PhysicalIssued | ApplicationStatus::Completed
                ),
                "{label}"
            );
        } else {
            assert!(physical.is_empty(), "no card before its step: {label}");
            assert!(
                matches!(
                    status,
                    ApplicationStatus::DigitalIssued | ApplicationStatus::Cancelled
                ),
                "{label}"
            );
        }
        if status == ApplicationStatus::Cancelled {
            assert_eq!(history.current(), DeliveryStatus::Cancel, "{label}");
            assert_eq!(mobile[0].card.status, CardStatus::Terminated, "{label}");
        }
        assert_ne!(mobile[0].card.status, CardStatus::Inactive, "{label}");
        let mobile_terminated = mobile[0].card.status == CardStatus::Terminated;
        if mobile_terminated && status != ApplicationStatus::Cancelled {
            discarded += 1;
        }
        for card in physical {
            if card.card.linked_to.is_some() {
                // Registered: linked to its mobile card, and gone only with it.
                registered += 1;
                assert_eq!(card.card.linked_to.as_ref(), Some(&mobile[0].card.id));
                assert_eq!(status, ApplicationStatus::Completed, "{label}");
                assert_eq!(card.wrong_attempts, 0, "{label}");
                assert_eq!(history.current(), DeliveryStatus::Arrival, "{label}");
                let expected = if mobile_terminated {
                    CardStatus::Terminated
                } else {
                    CardStatus::Active
                };
                assert_eq!(card.card.status, expected, "{label}");
                continue;
            }
            assert_ne!(status, ApplicationStatus::Completed, "{label}");
            match card.card.status {
                CardStatus::Suspended => {
                    assert_eq!(card.wrong_attempts, MOST_WRONG_REGISTRATIONS, "{label}");
                }
                CardStatus::Inactive => {
                    assert!(card.wrong_attempts < MOST_WRONG_REGISTRATIONS, "{label}");
                }
                CardStatus::Active | CardStatus::Terminated => {
                    panic!("neither registered nor waiting: {label}")
                }
            }
        }
    }
    (registered, discarded)
}

#[actix_web::test]
async fn killed_while_deliveries_move_and_cards_are_registered_it_leaves_nothing_half_done() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let log = root.path().join("crash-lifecycle.log");
    let step = [("PREPAID_SANDBOX_PARTNER_STEP_MS", "100")];
    let mut acknowledged: Vec<Acknowledged> = Vec::new();
    let mut numbers: Vec<(String, String)> = Vec::new();
    let rounds = crash_rounds();
    for round in 0..rounds {
        let service = support::start_with(&data_dir, &log, &step);
        support::wait_ready(&service);
        let credentials = credentials(&data_dir);
        // New applications each round, so that some are early in their delivery at each kill.
        let mut fresh = Vec::new();
        while fresh.len() < IN_FLIGHT {
            if let Some(number) = apply(&credentials, &service.base_url).await {
                fresh.push(number);
            }
        }
        numbers.extend(fresh.iter().cloned());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                actix_web::rt::spawn(work(
                    credentials.clone(),
                    service.base_url.clone(),
                    numbers.clone(),
                    worker,
                    stop.clone(),
                ))
            })
            .collect();
        // Kill at a pseudo-random moment between 200 and 1,200 ms into the load.
        let delay =
            200 + (SystemClock.now().as_millis().unsigned_abs() + round as u64 * 97) % 1_000;
        actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
        support::signal(&service, "KILL");
        let mut service = service;
        let _ = service.child.wait();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for worker in workers {
            acknowledged.extend(worker.await.unwrap());
        }
    }

    let db = database(&data_dir);
    assert_eq!(db.integrity_check().await.unwrap(), "ok");
    let credentials = credentials(&data_dir);
    let asp = AspId::parse(&credentials.asp_id).unwrap();
    let (registered, discarded) = nothing_is_half_done(&db, &asp).await;
    let reissued = reissues_are_whole(&db, &asp).await;
    assert!(discarded > 0, "the load discarded mobile cards");
    assert!(
        registered >= acknowledged.len(),
        "every acknowledged registration is there: {registered} < {}",
        acknowledged.len()
    );
    eprintln!(
        "lifecycle crash test: {rounds} SIGKILLs, {} applications, {} registrations acknowledged, {registered} cards registered, {discarded} mobile cards discarded or reissued, {reissued} reissued",
        numbers.len(),
        acknowledged.len()
    );

    // A retry of each acknowledged registration answers the original outcome.
    let mut service = support::start(&data_dir, "crash-lifecycle-after.log");
    for ack in &acknowledged {
        let answer = try_send(
            &credentials,
            &service.base_url,
            (
                prepaid_http::REGISTER_PHYSICAL_CARD_PATH,
                ack.payload.clone(),
                ack.correlation_id.as_str(),
            ),
        )
        .await
        .unwrap();
        assert_eq!(answer, ack.answer, "the retry answers the first outcome");
    }
    assert!(terminate(&mut service).success());
}
