//! The replacement of cards over HTTP against the real binary, on SQLite and on PostgreSQL (two
//! instances): a registered card reported lost and reissued, the lost card terminated with its
//! physical card and refused by every operation, the new card delivered and registered; a card
//! renewed only when it expires within 30 days, staying usable until its successor is
//! registered; and storms of reissues and renewals of one card, each recorded once.

mod support;

use futures_util::future::join_all;
use prepaid_application::ports::{CardStore as _, Clock as _};
use prepaid_bootstrap::sandbox;
use prepaid_crypto::SystemClock;
use prepaid_domain::{AspId, CardApplyNo, CardKind, CardStatus, Par, TimeZone};
use prepaid_persistence::Database;
use prepaid_tools::client;
use serde_json::Value;
use support::caller::{Caller, cards_of, code, on_postgresql, on_sqlite, registered, text};
use support::{Service, terminate};

/// The simulated partner's step in these tests.
const STEP: (&str, &str) = ("PREPAID_SANDBOX_PARTNER_STEP_MS", "150");

fn id() -> String {
    client::new_correlation_id(SystemClock.now())
}

fn asp(caller: &Caller) -> AspId {
    AspId::parse(&caller.credentials.asp_id).unwrap()
}

/// This month in Korea, `YYMM`: the expiry of a card whose last valid day is at most 30 days
/// away.
fn this_month_in_korea() -> String {
    let today = SystemClock.now().civil(TimeZone::Kst).unwrap();
    format!("{:02}{:02}", today.year() % 100, today.month())
}

/// The PAR of application `number`'s physical card.
async fn physical_par(db: &Database, caller: &Caller, number: &str) -> String {
    db.cards_of_application(&asp(caller), &CardApplyNo::parse(number).unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|card| card.card.kind == CardKind::Physical)
        .unwrap()
        .card
        .par
        .as_str()
        .to_owned()
}

/// Waits for application `number`'s physical card to ship and registers it.
async fn register_when_shipped(caller: &Caller, number: &str) -> Value {
    caller.wait_for(number, "SHIPPING").await;
    let printed = caller.printed(number).await;
    let answer = caller
        .register(1, (Some(number), &printed), &printed.cvc, &id(), false)
        .await;
    assert_eq!(code(&answer), "000_000", "{answer}");
    answer
}

/// A registered card reported lost and reissued: the lost card ends with its physical card at
/// once, the new card comes with a mobile card now (pre-issuance) and its physical card later.
async fn a_lost_card_is_reissued(caller: &Caller, db: &Database) {
    let (applied, physical_no) = registered(caller).await;
    let lost = text(&applied, "mobileCardPar");
    let number = text(&applied, "cardApplyNo");

    let not_lost = caller.reissue(0, lost, &id()).await;
    assert_eq!(code(&not_lost), "003_090", "{not_lost}");
    let suspended = caller.card_state(0, lost, "SUSPEND", &id()).await;
    assert_eq!(code(&suspended), "000_000", "{suspended}");

    let first = id();
    let reissued = caller.reissue(0, lost, &first).await;
    assert_eq!(code(&reissued), "000_000", "{reissued}");
    let retried = caller.reissue(1, lost, &first).await;
    assert_eq!(retried, reissued, "a retry through the other instance");
    let new_number = text(&reissued, "cardApplyNo");
    let new_mobile = text(&reissued, "mobileCardPar");
    assert_ne!(new_number, number);
    assert_eq!(text(&reissued, "mobileCardNo").len(), 16);
    assert_ne!(reissued["mobileCardNo"], applied["mobileCardNo"]);
    assert_eq!(text(&reissued, "mobileCardCVC").len(), 3);

    let old = cards_of(db, caller, number).await;
    assert!(
        old.iter().all(|card| card.1 == CardStatus::Terminated),
        "the lost card and its physical card: {old:?}"
    );
    for (answer, expected) in [
        (caller.reissue(1, lost, &id()).await, "003_020"),
        (caller.card_state(0, lost, "RESUME", &id()).await, "003_022"),
        (
            caller.card_state(1, &physical_no, "SUSPEND", &id()).await,
            "003_022",
        ),
        (caller.discard(0, lost, &id()).await, "001_047"),
        (caller.owner(1, &physical_no).await, "003_001"),
        (
            caller.renew(0, text(&applied, "mobileCardNo"), &id()).await,
            "003_006",
        ),
    ] {
        assert_eq!(code(&answer), expected, "{answer}");
    }
    let listed = caller.cards(Some(lost)).await;
    assert_eq!(listed["cardDataInfo"], serde_json::json!([]));
    let listed = caller.cards(Some(new_mobile)).await;
    assert_eq!(
        listed["cardDataInfo"][0]["mobileCardStatus"], "ACTIVE",
        "{listed}"
    );

    let registration = register_when_shipped(caller, new_number).await;
    assert_eq!(
        text(&registration, "par"),
        new_mobile,
        "the new physical card is linked to the new mobile card"
    );
    let replaced = caller.reissue(0, lost, &id()).await;
    assert_eq!(code(&replaced), "003_018", "{replaced}");
}

/// A card is renewed only when it expires within 30 days; it stays usable until its successor
/// is registered, then ends with its physical card.
async fn an_expiring_card_is_renewed(caller: &Caller, db: &Database) {
    let (applied, physical_no) = registered(caller).await;
    let mobile = text(&applied, "mobileCardPar");
    let number = text(&applied, "cardApplyNo");

    let early = caller.renew(0, &physical_no, &id()).await;
    assert_eq!(code(&early), "003_006", "valid for years: {early}");

    let month = this_month_in_korea();
    db.age_card_for_tests(mobile, &month).await.unwrap();
    db.age_card_for_tests(&physical_par(db, caller, number).await, &month)
        .await
        .unwrap();

    let first = id();
    let renewed = caller.renew(0, &physical_no, &first).await;
    assert_eq!(code(&renewed), "000_000", "{renewed}");
    let retried = caller.renew(1, &physical_no, &first).await;
    assert_eq!(retried, renewed, "a retry through the other instance");
    assert!(renewed.get("mobileCardNo").is_none(), "{renewed}");
    let new_number = text(&renewed, "cardApplyNo");
    let again = caller.renew(1, text(&applied, "mobileCardNo"), &id()).await;
    assert_eq!(
        code(&again),
        "003_004",
        "renewed through its linked card: {again}"
    );

    // Usable meanwhile: reported lost and found again.
    for status in ["SUSPEND", "RESUME"] {
        let changed = caller.card_state(0, mobile, status, &id()).await;
        assert_eq!(code(&changed), "000_000", "{changed}");
    }
    assert!(
        cards_of(db, caller, number)
            .await
            .iter()
            .all(|card| card.1 == CardStatus::Active)
    );

    let registration = register_when_shipped(caller, new_number).await;
    assert_ne!(text(&registration, "par"), mobile, "a new mobile card");
    let old = cards_of(db, caller, number).await;
    assert!(
        old.iter().all(|card| card.1 == CardStatus::Terminated),
        "the renewed card ends with its successor's registration: {old:?}"
    );
    let new = cards_of(db, caller, new_number).await;
    assert!(
        new.iter().all(|card| card.1 == CardStatus::Active) && new.len() == 2,
        "{new:?}"
    );
}

/// 64 reissues of one lost card, and 64 renewals of one expiring card, each with its own
/// correlation id at once: one recorded, the others refused; 64 with one id answered alike.
async fn storms(caller: &Caller, db: &Database) {
    let applied = caller.apply(sandbox::MOBILE_PRODUCT, false).await;
    let lost = text(&applied, "mobileCardPar");
    let suspended = caller.card_state(0, lost, "SUSPEND", &id()).await;
    assert_eq!(code(&suspended), "000_000", "{suspended}");
    let ids: Vec<String> = (0..64).map(|_| id()).collect();
    let answers = join_all(
        ids.iter()
            .enumerate()
            .map(|(index, one)| caller.reissue(index, lost, one)),
    )
    .await;
    let made: Vec<&Value> = answers
        .iter()
        .filter(|answer| code(answer) == "000_000")
        .collect();
    assert_eq!(made.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|answer| ["000_000", "003_020"].contains(&code(answer))),
        "{answers:?}"
    );
    let card = db
        .card_by_par(&asp(caller), &Par::parse(lost).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(card.card.status, CardStatus::Terminated);

    let applied = caller.apply(sandbox::MOBILE_PRODUCT, false).await;
    let expiring = text(&applied, "mobileCardPar");
    db.age_card_for_tests(expiring, &this_month_in_korea())
        .await
        .unwrap();
    let card_no = text(&applied, "mobileCardNo");
    let one = id();
    let answers = join_all((0..64).map(|index| caller.renew(index, card_no, &one))).await;
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(code(&answers[0]), "000_000");
    let ids: Vec<String> = (0..64).map(|_| id()).collect();
    let answers = join_all(
        ids.iter()
            .enumerate()
            .map(|(index, one)| caller.renew(index, card_no, one)),
    )
    .await;
    assert!(
        answers.iter().all(|answer| code(answer) == "003_004"),
        "renewed once already: {answers:?}"
    );
}

async fn the_replacement_path(services: Vec<Service>, caller: Caller, db: &Database) {
    a_lost_card_is_reissued(&caller, db).await;
    an_expiring_card_is_renewed(&caller, db).await;
    storms(&caller, db).await;
    for mut service in services {
        assert!(terminate(&mut service).success());
    }
}

#[actix_web::test]
async fn the_replacement_path_on_sqlite() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let log = root.path().join("replace.log");
    let running = on_sqlite(&data_dir, &log, &[STEP]);
    the_replacement_path(running.services, running.caller, &running.db).await;
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("lost card reissued") && log.contains("card renewal applied for"));
    assert_eq!(support::pan_like_runs(log.as_bytes()), Vec::<String>::new());
    // At rest: no card number (the fixture cards' included) and no address in plaintext.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("prepaid.sqlite3")
        {
            files.extend(std::fs::read(path).unwrap());
        }
    }
    assert_eq!(support::pan_like_runs(&files), Vec::<String>::new());
    let text = String::from_utf8_lossy(&files);
    for plain in [
        sandbox::LOST_CARD_NO,
        sandbox::EXPIRING_CARD_NO,
        "테헤란로",
        "101동 1001호",
    ] {
        assert!(!text.contains(plain), "{plain} in the database files");
    }
}

#[actix_web::test]
async fn the_replacement_path_on_postgresql_with_two_instances() {
    let Some(url) = support::postgres_url("replacements") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let running = on_postgresql(
        &url,
        &root.path().join("data"),
        &root.path().join("postgres.log"),
        &[STEP],
    );
    the_replacement_path(running.services, running.caller, &running.db).await;
}
