//! The member's own card operations over HTTP against the real binary, on SQLite and on
//! PostgreSQL (two instances): a registered card reported lost and found again, by PAR and by
//! number; a linked physical card that goes only with its mobile card; a discard that takes
//! both; a locked card the member cannot resume; retries and storms changing state once; and
//! the look-ups: the member's cards with their physical card, a card number's owner, a produced
//! card described to whoever proves it, and wrong CVCs there locking it as at registration.

mod support;

use futures_util::future::join_all;
use prepaid_application::ports::{CardStore as _, Clock as _};
use prepaid_bootstrap::sandbox;
use prepaid_crypto::SystemClock;
use prepaid_domain::{AspId, CardKind, CardStatus, MOST_WRONG_REGISTRATIONS, Par};
use prepaid_persistence::Database;
use prepaid_tools::client;
use support::caller::{
    Caller, cards_of, code, on_postgresql, on_sqlite, registered, shipped, text,
};
use support::{Service, terminate};

/// The simulated partner's step in these tests.
const STEP: (&str, &str) = ("PREPAID_SANDBOX_PARTNER_STEP_MS", "150");

fn id() -> String {
    client::new_correlation_id(SystemClock.now())
}

/// The status and version of the card with `par`, as stored.
async fn stored(db: &Database, caller: &Caller, par: &str) -> (CardStatus, u64) {
    let card = db
        .card_by_par(
            &AspId::parse(&caller.credentials.asp_id).unwrap(),
            &Par::parse(par).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    (card.card.status, card.version)
}

/// A registered card reported lost by PAR and found by number; only the card named changes.
async fn a_lost_card_is_suspended_and_resumed(caller: &Caller, db: &Database) {
    let (applied, physical_no) = registered(caller).await;
    let mobile = text(&applied, "mobileCardPar");
    let number = text(&applied, "cardApplyNo");

    let suspended = caller.card_state(0, mobile, "SUSPEND", &id()).await;
    assert_eq!(code(&suspended), "000_000", "{suspended}");
    assert_eq!(stored(db, caller, mobile).await.0, CardStatus::Suspended);
    let cards = cards_of(db, caller, number).await;
    assert!(
        cards.contains(&(
            CardKind::Physical,
            CardStatus::Active,
            0,
            Some(mobile.to_owned())
        )),
        "the physical card linked to it stays as it is: {cards:?}"
    );
    let again = caller.card_state(1, mobile, "SUSPEND", &id()).await;
    assert_eq!(code(&again), "000_000", "the state it has: {again}");

    let listed = caller.cards(Some(mobile)).await;
    assert_eq!(code(&listed), "000_000", "{listed}");
    let [card] = listed["cardDataInfo"].as_array().unwrap().as_slice() else {
        panic!("one card: {listed}");
    };
    assert_eq!(card["mobileCardStatus"], "SUSPENDED");
    assert_eq!(card["physicalCardNo"], physical_no.as_str());
    assert_eq!(card["physicalCardStatus"], "ACTIVE");
    assert_eq!(card["serviceId"], sandbox::PRE_ISSUANCE_PRODUCT);
    assert_eq!(card["mobileCardNo"], applied["mobileCardNo"]);
    let owner = caller.owner(1, &physical_no).await;
    assert_eq!(code(&owner), "000_000", "{owner}");
    assert_eq!(owner["userId"], sandbox::ACTIVE_MEMBER);
    assert_eq!(owner["cardStatus"], "ACTIVE");

    let resumed = caller
        .card_state(0, text(&applied, "mobileCardNo"), "RESUME", &id())
        .await;
    assert_eq!(code(&resumed), "000_000", "{resumed}");
    assert_eq!(stored(db, caller, mobile).await.0, CardStatus::Active);

    // The physical card by its number: reported lost and found on its own.
    let physical = caller.card_state(1, &physical_no, "SUSPEND", &id()).await;
    assert_eq!(code(&physical), "000_000", "{physical}");
    let cards = cards_of(db, caller, number).await;
    assert!(cards.contains(&(
        CardKind::Physical,
        CardStatus::Suspended,
        0,
        Some(mobile.to_owned())
    )));
    let physical = caller.card_state(0, &physical_no, "RESUME", &id()).await;
    assert_eq!(code(&physical), "000_000", "{physical}");
}

/// A linked physical card goes only with its mobile card; the mobile card's discard takes both,
/// and then nothing changes either of them again.
async fn a_discarded_mobile_card_takes_its_physical_card(caller: &Caller, db: &Database) {
    let (applied, physical_no) = registered(caller).await;
    let mobile = text(&applied, "mobileCardPar");
    let number = text(&applied, "cardApplyNo");
    let physical_par = db
        .cards_of_application(
            &AspId::parse(&caller.credentials.asp_id).unwrap(),
            &prepaid_domain::CardApplyNo::parse(number).unwrap(),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|card| card.card.kind == CardKind::Physical)
        .unwrap()
        .card
        .par;

    let alone = caller.discard(0, physical_par.as_str(), &id()).await;
    assert_eq!(code(&alone), "001_061", "{alone}");

    let first = id();
    let discarded = caller.discard(0, mobile, &first).await;
    assert_eq!(code(&discarded), "000_000", "{discarded}");
    let retried = caller.discard(1, mobile, &first).await;
    assert_eq!(retried, discarded, "a retry through the other instance");
    let cards = cards_of(db, caller, number).await;
    assert!(
        cards.iter().all(|card| card.1 == CardStatus::Terminated),
        "{cards:?}"
    );

    for (answer, expected) in [
        (caller.discard(1, mobile, &id()).await, "001_047"),
        (
            caller.card_state(0, mobile, "RESUME", &id()).await,
            "003_022",
        ),
        (
            caller.card_state(1, &physical_no, "SUSPEND", &id()).await,
            "003_022",
        ),
    ] {
        assert_eq!(code(&answer), expected, "{answer}");
    }
}

/// A physical card not registered yet, and one locked by wrong CVCs: the member changes
/// neither; an operator unlocks the locked one, and its member registers it.
async fn a_card_not_registered_or_locked_stays_as_it_is(
    caller: &Caller,
    db: &Database,
    admin: &dyn Fn(&[&str]) -> String,
) {
    let (applied, printed) = shipped(caller, sandbox::NORMAL_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    let inactive = caller
        .card_state(0, &printed.card_no, "SUSPEND", &id())
        .await;
    assert_eq!(code(&inactive), "003_093", "{inactive}");

    let described = caller.unregistered(0, &printed, &printed.cvc).await;
    assert_eq!(code(&described), "000_000", "{described}");
    assert_eq!(described["cardStatus"], "INACTIVE");
    assert_eq!(described["expiryDate"], printed.expiry.as_str());
    assert_eq!(described["serviceId"], sandbox::NORMAL_PRODUCT);
    assert_eq!(described["balance"], 0);
    // Guesses here and at registration count alike: two here and three there lock the card.
    let wrong = format!("{:03}", (printed.cvc.parse::<u32>().unwrap() + 1) % 1000);
    for _ in 0..2 {
        let refused = caller.unregistered(1, &printed, &wrong).await;
        assert_eq!(code(&refused), "003_001", "{refused}");
    }
    for _ in 2..MOST_WRONG_REGISTRATIONS {
        let refused = caller
            .register(0, (Some(number), &printed), &wrong, &id(), false)
            .await;
        assert_eq!(code(&refused), "003_001");
    }
    let after = caller.unregistered(0, &printed, &printed.cvc).await;
    assert_eq!(code(&after), "003_001", "locked, even proven: {after}");
    let locked = caller
        .card_state(1, &printed.card_no, "RESUME", &id())
        .await;
    assert_eq!(code(&locked), "003_092", "{locked}");
    let cards = cards_of(db, caller, number).await;
    assert_eq!(
        cards,
        [(
            CardKind::Physical,
            CardStatus::Suspended,
            MOST_WRONG_REGISTRATIONS,
            None
        )]
    );

    let par = db
        .cards_of_application(
            &AspId::parse(&caller.credentials.asp_id).unwrap(),
            &prepaid_domain::CardApplyNo::parse(number).unwrap(),
        )
        .await
        .unwrap()[0]
        .card
        .par
        .as_str()
        .to_owned();
    let said = admin(&[
        "unlock-card",
        "--asp-id",
        &caller.credentials.asp_id,
        "--par",
        &par,
    ]);
    assert!(said.contains("unlocked"), "{said}");
    assert_eq!(
        cards_of(db, caller, number).await,
        [(CardKind::Physical, CardStatus::Inactive, 0, None)]
    );
    let registered = caller
        .register(1, (Some(number), &printed), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&registered), "000_000", "{registered}");
}

/// 64 requests with one correlation id at once change the card once and are answered alike;
/// 64 discards of one card with their own ids at once: one discards it, the others are told it
/// is gone.
async fn storms(caller: &Caller, db: &Database) {
    let applied = caller.apply(sandbox::MOBILE_PRODUCT, false).await;
    let par = text(&applied, "mobileCardPar");
    let (_, before) = stored(db, caller, par).await;
    let one = id();
    let answers =
        join_all((0..64).map(|index| caller.card_state(index, par, "SUSPEND", &one))).await;
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(code(&answers[0]), "000_000");
    assert_eq!(
        stored(db, caller, par).await,
        (CardStatus::Suspended, before + 1),
        "changed once"
    );

    let ids: Vec<String> = (0..64).map(|_| id()).collect();
    let answers = join_all(
        ids.iter()
            .enumerate()
            .map(|(index, one)| caller.discard(index, par, one)),
    )
    .await;
    let succeeded = answers
        .iter()
        .filter(|answer| code(answer) == "000_000")
        .count();
    assert_eq!(succeeded, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|answer| ["000_000", "001_047"].contains(&code(answer))),
        "{answers:?}"
    );
    assert_eq!(
        stored(db, caller, par).await,
        (CardStatus::Terminated, before + 2)
    );
    let listed = caller.cards(Some(par)).await;
    assert_eq!(
        listed["cardDataInfo"],
        serde_json::json!([]),
        "terminated cards are not listed"
    );
    let owner = caller.owner(0, text(&applied, "mobileCardNo")).await;
    assert_eq!(
        code(&owner),
        "003_001",
        "a terminated card is no one's: {owner}"
    );
}

/// 64 wrong guesses at a produced card's CVC at once: each answered `003_001`, no more than
/// five evaluated, the card locked, and the right CVC then refused too.
async fn guesses_at_once(caller: &Caller, db: &Database) {
    let (applied, printed) = shipped(caller, sandbox::NORMAL_PRODUCT).await;
    let wrong = format!("{:03}", (printed.cvc.parse::<u32>().unwrap() + 7) % 1000);
    let answers = join_all((0..64).map(|index| caller.unregistered(index, &printed, &wrong))).await;
    assert!(
        answers.iter().all(|answer| code(answer) == "003_001"),
        "{answers:?}"
    );
    let cards = cards_of(db, caller, text(&applied, "cardApplyNo")).await;
    assert_eq!(
        cards,
        [(
            CardKind::Physical,
            CardStatus::Suspended,
            MOST_WRONG_REGISTRATIONS,
            None
        )]
    );
    let proven = caller.unregistered(0, &printed, &printed.cvc).await;
    assert_eq!(code(&proven), "003_001", "{proven}");
}

async fn the_card_management_path(
    services: Vec<Service>,
    caller: Caller,
    db: &Database,
    admin: &dyn Fn(&[&str]) -> String,
) {
    a_lost_card_is_suspended_and_resumed(&caller, db).await;
    a_discarded_mobile_card_takes_its_physical_card(&caller, db).await;
    a_card_not_registered_or_locked_stays_as_it_is(&caller, db, admin).await;
    storms(&caller, db).await;
    guesses_at_once(&caller, db).await;
    for mut service in services {
        assert!(terminate(&mut service).success());
    }
}

#[actix_web::test]
async fn the_card_management_path_on_sqlite() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let log = root.path().join("cards.log");
    let running = on_sqlite(&data_dir, &log, &[STEP]);
    let admin = |arguments: &[&str]| support::admin(&data_dir, &[], arguments);
    the_card_management_path(running.services, running.caller, &running.db, &admin).await;
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("card state changed") && log.contains("card discarded"));
    assert_eq!(support::pan_like_runs(log.as_bytes()), Vec::<String>::new());
}

#[actix_web::test]
async fn the_card_management_path_on_postgresql_with_two_instances() {
    let Some(url) = support::postgres_url("card_management") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let running = on_postgresql(&url, &data_dir, &root.path().join("postgres.log"), &[STEP]);
    let admin = |arguments: &[&str]| {
        support::admin(
            &data_dir,
            &[("PREPAID_DATABASE_URL", url.as_str())],
            arguments,
        )
    };
    the_card_management_path(running.services, running.caller, &running.db, &admin).await;
}
