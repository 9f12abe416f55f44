//! The whole path from application to a card in the member's hand, over HTTP against the real
//! binary, on SQLite and on PostgreSQL (two instances, each with its simulated partner): apply
//! with delivery, watch the delivery move, read the printed card from the sandbox's operator
//! interface, register it; the application `COMPLETED`, the physical card `ACTIVE` and linked,
//! the mobile card answered; a card locked by five wrong CVCs; retries and storms changing
//! state once.

mod support;

use futures_util::future::join_all;
use prepaid_application::ports::{CardApplicationStore as _, Clock as _};
use prepaid_bootstrap::sandbox;
use prepaid_crypto::SystemClock;
use prepaid_domain::{
    ApplicationStatus, AspId, CardApplyNo, CardKind, CardStatus, MOST_WRONG_REGISTRATIONS,
};
use prepaid_persistence::Database;
use prepaid_tools::client::{self, OpsCall};
use serde_json::Value;
use support::caller::{Caller, Printed, cards_of, code, on_postgresql, on_sqlite, shipped, text};
use support::{Service, terminate};

/// The simulated partner's step in these tests.
const STEP: (&str, &str) = ("PREPAID_SANDBOX_PARTNER_STEP_MS", "150");

fn id() -> String {
    client::new_correlation_id(SystemClock.now())
}

/// A CVC that is not `cvc`.
fn wrong(cvc: &str) -> String {
    let value: u32 = cvc.parse().unwrap();
    format!("{:03}", (value + 1) % 1000)
}

async fn application_status(db: &Database, caller: &Caller, number: &str) -> ApplicationStatus {
    db.application(
        &AspId::parse(&caller.credentials.asp_id).unwrap(),
        &CardApplyNo::parse(number).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .application
    .status
}

/// A pre-issued application: its physical card linked to the mobile card issued with it.
async fn a_pre_issued_card_is_registered(caller: &Caller, db: &Database) {
    let (applied, printed) = shipped(caller, sandbox::PRE_ISSUANCE_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    assert!(printed.card_no.starts_with(sandbox::SANDBOX_BIN));
    assert_ne!(printed.card_no, text(&applied, "mobileCardNo"));
    // Shipped: too late to cancel.
    let refused = caller.cancel(0, number, &id()).await;
    assert_eq!(code(&refused), "003_003", "{refused}");

    let first = id();
    let registered = caller
        .register(0, (Some(number), &printed), &printed.cvc, &first, true)
        .await;
    assert_eq!(code(&registered), "000_000", "{registered}");
    assert_eq!(registered["mobileCardNo"], applied["mobileCardNo"]);
    assert_eq!(registered["par"], applied["mobileCardPar"]);
    // Sent again with its correlation id, through the other instance: the same answer.
    let again = caller
        .register(1, (Some(number), &printed), &printed.cvc, &first, true)
        .await;
    assert_eq!(again, registered);

    assert_eq!(
        application_status(db, caller, number).await,
        ApplicationStatus::Completed
    );
    let mobile_par = text(&applied, "mobileCardPar").to_owned();
    let cards = cards_of(db, caller, number).await;
    assert_eq!(cards.len(), 2, "{cards:?}");
    assert!(cards.contains(&(CardKind::Mobile, CardStatus::Active, 0, None)));
    assert!(cards.contains(&(CardKind::Physical, CardStatus::Active, 0, Some(mobile_par))));
    let delivery = caller.delivery(number).await;
    assert_eq!(delivery["status"], "ARRIVAL", "{delivery}");
    let listed = caller.pre_issued().await;
    assert!(
        listed["issuedCardList"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["cardApplyNo"] != applied["cardApplyNo"]),
        "a registered card awaits nothing: {listed}"
    );
    // Registered: a new request is about a card no longer waiting.
    let after = caller
        .register(0, (None, &printed), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&after), "003_001", "{after}");
}

/// A NORMAL product without pre-issuance: a mobile card is issued at registration.
async fn a_card_without_mobile_card_gets_one_at_registration(caller: &Caller, db: &Database) {
    let (applied, printed) = shipped(caller, sandbox::NORMAL_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    assert!(applied.get("mobileCardNo").is_none());
    assert_eq!(
        application_status(db, caller, number).await,
        ApplicationStatus::PhysicalIssued
    );
    let registered = caller
        .register(0, (None, &printed), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&registered), "000_000", "{registered}");
    let mobile = text(&registered, "mobileCardNo");
    assert!(mobile.starts_with(sandbox::SANDBOX_BIN) && mobile != printed.card_no);
    let cards = cards_of(db, caller, number).await;
    assert!(cards.contains(&(CardKind::Mobile, CardStatus::Active, 0, None)));
    assert!(cards.contains(&(
        CardKind::Physical,
        CardStatus::Active,
        0,
        Some(text(&registered, "par").to_owned())
    )));
    assert_eq!(
        application_status(db, caller, number).await,
        ApplicationStatus::Completed
    );
}

/// Five wrong CVCs in a row lock the card; then even the right one is refused.
async fn five_wrong_cvcs_lock_the_card(caller: &Caller, db: &Database) {
    let (applied, printed) = shipped(caller, sandbox::PRE_ISSUANCE_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    for attempt in 1..=MOST_WRONG_REGISTRATIONS {
        let refused = caller
            .register(
                0,
                (Some(number), &printed),
                &wrong(&printed.cvc),
                &id(),
                false,
            )
            .await;
        assert_eq!(code(&refused), "003_001", "attempt {attempt}: {refused}");
        assert!(refused.get("mobileCardNo").is_none());
    }
    let refused = caller
        .register(0, (Some(number), &printed), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&refused), "003_001", "locked: {refused}");
    let physical = cards_of(db, caller, number)
        .await
        .into_iter()
        .find(|card| card.0 == CardKind::Physical)
        .unwrap();
    assert_eq!(
        physical,
        (
            CardKind::Physical,
            CardStatus::Suspended,
            MOST_WRONG_REGISTRATIONS,
            None
        )
    );
    // A wrong expiry counts too, on another card; the right one after it resets the count.
    let (applied, printed) = shipped(caller, sandbox::PRE_ISSUANCE_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    let expiry = if printed.expiry == "3912" {
        "3911"
    } else {
        "3912"
    };
    let misdated = Printed {
        expiry: expiry.to_owned(),
        card_no: printed.card_no.clone(),
        cvc: printed.cvc.clone(),
    };
    let refused = caller
        .register(0, (Some(number), &misdated), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&refused), "003_001", "{refused}");
    assert_eq!(
        cards_of(db, caller, number)
            .await
            .iter()
            .map(|card| card.2)
            .max(),
        Some(1)
    );
    let registered = caller
        .register(0, (Some(number), &printed), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&registered), "000_000", "{registered}");
    assert!(
        cards_of(db, caller, number)
            .await
            .iter()
            .all(|card| card.2 == 0)
    );
}

/// 64 registrations at once with one correlation id: one registration, 64 equal answers. 64 at
/// once with 64 ids: one registration, 63 refusals. 64 wrong CVCs at once: five counted, the
/// card locked.
async fn storms(caller: &Caller, db: &Database) {
    let (applied, printed) = shipped(caller, sandbox::NORMAL_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    let one = id();
    let answers =
        join_all((0..64).map(|index| {
            caller.register(index, (Some(number), &printed), &printed.cvc, &one, false)
        }))
        .await;
    assert_eq!(code(&answers[0]), "000_000", "{}", answers[0]);
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    let mobiles = cards_of(db, caller, number)
        .await
        .into_iter()
        .filter(|card| card.0 == CardKind::Mobile)
        .count();
    assert_eq!(mobiles, 1, "one mobile card issued");

    let (applied, printed) = shipped(caller, sandbox::PRE_ISSUANCE_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    let answers = join_all((0..64).map(|index| {
        let id = id();
        let printed = &printed;
        async move {
            caller
                .register(index, (Some(number), printed), &printed.cvc, &id, false)
                .await
        }
    }))
    .await;
    let mut codes: Vec<&str> = answers.iter().map(code).collect();
    codes.sort_unstable();
    assert_eq!(codes[0], "000_000", "{codes:?}");
    assert!(
        codes[1..].iter().all(|code| *code == "003_001"),
        "{codes:?}"
    );

    let (applied, printed) = shipped(caller, sandbox::PRE_ISSUANCE_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    let guess = wrong(&printed.cvc);
    let answers = join_all((0..64).map(|index| {
        let id = id();
        let (printed, guess) = (&printed, &guess);
        async move {
            caller
                .register(index, (Some(number), printed), guess, &id, false)
                .await
        }
    }))
    .await;
    assert!(
        answers.iter().all(|answer| code(answer) == "003_001"),
        "{answers:?}"
    );
    let physical = cards_of(db, caller, number)
        .await
        .into_iter()
        .find(|card| card.0 == CardKind::Physical)
        .unwrap();
    assert_eq!(
        (physical.1, physical.2),
        (CardStatus::Suspended, MOST_WRONG_REGISTRATIONS)
    );
}

/// The operator interface answers only its own token.
async fn the_operator_interface_wants_an_operator(caller: &Caller) {
    let listed = caller.ops(&OpsCall::Deliveries { limit: Some(5) }).await;
    assert_eq!(code(&listed), "000_000", "{listed}");
    let stranger = prepaid_domain::OperatorToken::from_random(&[3; 32]);
    for token in [stranger.expose(), caller.credentials.secret_key.as_str()] {
        let answer = client::ops(caller.url(0), token, &OpsCall::Deliveries { limit: None })
            .await
            .unwrap();
        assert_eq!((answer.status, code(&answer.body)), (401, "000_090"));
    }
}

async fn the_registration_path(services: Vec<Service>, caller: Caller, db: &Database) {
    the_operator_interface_wants_an_operator(&caller).await;
    a_pre_issued_card_is_registered(&caller, db).await;
    a_card_without_mobile_card_gets_one_at_registration(&caller, db).await;
    five_wrong_cvcs_lock_the_card(&caller, db).await;
    storms(&caller, db).await;
    for mut service in services {
        assert!(terminate(&mut service).success());
    }
}

#[actix_web::test]
async fn the_registration_path_on_sqlite() {
    let root = tempfile::tempdir().unwrap();
    let log = root.path().join("registration.log");
    let running = on_sqlite(&root.path().join("data"), &log, &[STEP]);
    let token = running.caller.credentials.operator_token.clone().unwrap();
    the_registration_path(running.services, running.caller, &running.db).await;
    // Every printed and mobile card number, CVC and the operator token went through requests
    // and answers; none of them is in the log.
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains("physical card registered"),
        "the log was written"
    );
    assert_eq!(support::pan_like_runs(log.as_bytes()), Vec::<String>::new());
    assert!(!log.contains(&token));
    assert!(!log.contains(token.trim_start_matches("ops_")));
}

#[actix_web::test]
async fn the_registration_path_on_postgresql_with_two_instances() {
    let Some(url) = support::postgres_url("registration") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let running = on_postgresql(
        &url,
        &root.path().join("data"),
        &root.path().join("postgres.log"),
        &[STEP],
    );
    the_registration_path(running.services, running.caller, &running.db).await;
}

/// Reports `status` for application `number` through the operator interface.
async fn report(caller: &Caller, number: &str, status: &str) -> Value {
    caller
        .ops(&OpsCall::Report {
            card_apply_no: number.to_owned(),
            status: status.to_owned(),
        })
        .await
}

/// With the simulated partner off, a person (this test) is the partner: illegal changes are
/// refused and change nothing; a lost card is terminated and the delivery sent again with a new
/// card, which is then registered.
#[actix_web::test]
async fn the_partner_reports_through_the_operator_interface_and_redelivers_a_lost_card() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let mut service = support::start(&data_dir, "partner.log");
    let caller = Caller {
        credentials: support::credentials(&data_dir),
        urls: vec![service.base_url.clone()],
    };
    let db = support::database(&data_dir);
    let applied = caller.apply(sandbox::PRE_ISSUANCE_PRODUCT, true).await;
    let number = text(&applied, "cardApplyNo");

    let listed = caller.ops(&OpsCall::Deliveries { limit: Some(500) }).await;
    let order = listed["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|order| order["cardApplyNo"] == applied["cardApplyNo"])
        .unwrap_or_else(|| panic!("{listed}"))
        .clone();
    assert_eq!(order["status"], "READY");
    assert_eq!(order["addressInfo"]["zipCode"], "06236", "{order}");

    for (status, expected) in [
        ("SHIPPING", "003_091"),
        ("CANCEL", "003_091"),
        ("GONE", "000_002"),
    ] {
        let refused = report(&caller, number, status).await;
        assert_eq!(code(&refused), expected, "{status}: {refused}");
    }
    assert_eq!(caller.delivery(number).await["status"], "READY");
    for status in ["RECEIPT", "PRE_SHIPPING", "PRE_SHIPPING", "SHIPPING"] {
        let moved = report(&caller, number, status).await;
        assert_eq!(code(&moved), "000_000", "{status}: {moved}");
        assert_eq!(moved["status"], status);
    }
    let first = caller.printed(number).await;
    let lost = report(&caller, number, "LOST").await;
    assert_eq!(code(&lost), "000_000", "{lost}");
    assert!(lost.get("physicalCardPar").is_none(), "{lost}");
    let none = caller
        .ops(&OpsCall::PrintedCard {
            card_apply_no: number.to_owned(),
        })
        .await;
    assert_eq!(
        code(&none),
        "003_001",
        "the lost card is terminated: {none}"
    );
    // The lost card cannot be registered.
    let refused = caller
        .register(0, (Some(number), &first), &first.cvc, &id(), false)
        .await;
    assert_eq!(code(&refused), "003_001", "{refused}");

    let again = caller
        .ops(&OpsCall::Redeliver {
            card_apply_no: number.to_owned(),
        })
        .await;
    assert_eq!(code(&again), "000_000", "{again}");
    assert_eq!(again["status"], "READY");
    let refused = caller
        .ops(&OpsCall::Redeliver {
            card_apply_no: number.to_owned(),
        })
        .await;
    assert_eq!(
        code(&refused),
        "003_091",
        "only a lost or returned delivery: {refused}"
    );
    for status in ["RECEIPT", "PRE_SHIPPING"] {
        assert_eq!(code(&report(&caller, number, status).await), "000_000");
    }
    let second = caller.printed(number).await;
    assert_ne!(second.card_no, first.card_no, "a new card");
    // Produced, not shipped on this leg yet.
    let early = caller
        .register(0, (Some(number), &second), &second.cvc, &id(), false)
        .await;
    assert_eq!(code(&early), "003_012", "{early}");
    assert_eq!(code(&report(&caller, number, "SHIPPING").await), "000_000");
    let registered = caller
        .register(0, (Some(number), &second), &second.cvc, &id(), false)
        .await;
    assert_eq!(code(&registered), "000_000", "{registered}");
    assert_eq!(registered["mobileCardNo"], applied["mobileCardNo"]);

    let history: Vec<String> = caller.delivery(number).await["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        history,
        [
            "READY",
            "RECEIPT",
            "PRE_SHIPPING",
            "SHIPPING",
            "LOST",
            "READY",
            "RECEIPT",
            "PRE_SHIPPING",
            "SHIPPING",
            "ARRIVAL"
        ]
    );
    let cards = cards_of(&db, &caller, number).await;
    let physical: Vec<_> = cards
        .iter()
        .filter(|card| card.0 == CardKind::Physical)
        .collect();
    assert_eq!(physical.len(), 2);
    assert!(physical.iter().any(|card| card.1 == CardStatus::Terminated));
    assert!(physical.iter().any(|card| card.1 == CardStatus::Active));
    assert!(terminate(&mut service).success());
}
