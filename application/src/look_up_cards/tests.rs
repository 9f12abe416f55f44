use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use prepaid_domain::{
    ApplicationStatus, ApplicationType, Bin, CardApplication, CardProduct, IssuedCard,
    MOST_WRONG_REGISTRATIONS, Member, MemberStatus, ProductType, Timestamp, Validity,
};

use super::*;
use crate::ports::{
    LifecycleChange, MockBalances, MockCardApplicationStore, MockCardSecrets, MockCardStore,
    MockCardVerification, MockClock, MockMemberDirectory, MockProductCatalogue, PanFingerprint,
    ProtectedPan, StoredApplication,
};

const NOW: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const MEMBER: u64 = 1001;
const PRODUCT: &str = "000170000004000";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

/// A Luhn-valid number under the sandbox BIN ending in `last`.
fn pan(serial: u64) -> Pan {
    Pan::compose(&Bin::parse("943512").unwrap(), serial)
}

fn fingerprint(pan: &Pan) -> PanFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest.iter_mut().zip(pan.expose().bytes()) {
        *byte = from;
    }
    PanFingerprint {
        key_id: "idx-1".to_owned(),
        digest,
    }
}

fn application(serial: u64) -> CardApplyNo {
    CardApplyNo::parse(&format!("26113003000000000000{serial:02}")).unwrap()
}

/// Card `serial`: its id, PAR, number and application all derive from it.
fn card(serial: u64, kind: CardKind, status: CardStatus) -> CardRecord {
    let number = pan(serial);
    CardRecord {
        card: IssuedCard {
            id: CardId::parse(&format!("{serial:032x}")).unwrap(),
            par: Par::parse(&format!("Q{serial:026}")).unwrap(),
            owner: MemberId::new(MEMBER).unwrap(),
            linked_to: None,
            expiry: Expiry::parse("3111").unwrap(),
            kind,
            status,
        },
        application: application(serial % 10),
        protected_pan: ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: number.expose().bytes().collect(),
        },
        pan_bound_to_id: true,
        pan_fingerprint: fingerprint(&number),
        cvk_id: "cvk-1".to_owned(),
        wrong_attempts: 0,
        version: 2,
    }
}

fn linked(mut physical: CardRecord, to: &CardRecord) -> CardRecord {
    physical.card.linked_to = Some(to.card.id.clone());
    physical
}

/// The CVC the fake verification derives: the number's last three digits.
fn cvc_of(pan: &Pan) -> Cvc {
    Cvc::parse(&pan.expose()[13..]).unwrap()
}

struct World {
    member: Option<MemberStatus>,
    cards: Vec<CardRecord>,
    applies: Vec<Result<(), ChangeError>>,
}

impl World {
    fn with(cards: Vec<CardRecord>) -> Self {
        Self {
            member: Some(MemberStatus::Active),
            cards,
            applies: vec![Ok(())],
        }
    }
}

struct Harness {
    service: CardLookupService,
    applied: Arc<Mutex<Vec<LifecycleChange>>>,
    card_reads: Arc<AtomicUsize>,
}

fn harness_over(world: World) -> Harness {
    let mut members = MockMemberDirectory::new();
    let member = world.member;
    members
        .expect_find()
        .returning(move |_, id| Ok(member.map(|status| Member { id, status })));

    let mut applications = MockCardApplicationStore::new();
    applications
        .expect_application()
        .returning(|asp_id, number| {
            assert_eq!(asp_id, &asp());
            Ok(Some(StoredApplication {
                application: CardApplication {
                    number: number.clone(),
                    member: MemberId::new(MEMBER).unwrap(),
                    product: ServiceId::parse(PRODUCT).unwrap(),
                    application_type: ApplicationType::Issue,
                    status: ApplicationStatus::Completed,
                    purpose: None,
                    created_at: NOW,
                },
                replaces: None,
                version: 1,
            }))
        });

    let reads = Arc::new(AtomicUsize::new(0));
    let mut cards = MockCardStore::new();
    let (held, counted) = (world.cards.clone(), reads.clone());
    cards
        .expect_cards_of_member()
        .returning(move |asp_id, member| {
            assert_eq!(asp_id, &asp());
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(held
                .iter()
                .filter(|card| card.card.owner == member)
                .cloned()
                .collect())
        });
    let (held, counted) = (world.cards.clone(), reads.clone());
    cards
        .expect_card_by_fingerprint()
        .returning(move |asp_id, fingerprint| {
            assert_eq!(asp_id, &asp());
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(held
                .iter()
                .find(|card| card.pan_fingerprint == *fingerprint)
                .cloned())
        });

    let mut products = MockProductCatalogue::new();
    products.expect_find().returning(|id| {
        Ok(Some(CardProduct {
            id: id.clone(),
            name: ProductName::parse("Sandbox pre-issued prepaid card").unwrap(),
            bin: Bin::parse("943512").unwrap(),
            product_type: ProductType::Normal,
            pre_issuance: true,
            giftable: false,
            validity: Validity::DEFAULT,
            active: true,
        }))
    });

    let mut balances = MockBalances::new();
    balances.expect_balance().returning(|_, _| Ok(0));

    let (changes, applied) = crate::test_support::scripted_changes(world.applies);

    let mut secrets = MockCardSecrets::new();
    secrets.expect_fingerprint().returning(fingerprint);
    secrets.expect_reveal().returning(|protected, _| {
        Ok(Pan::parse(std::str::from_utf8(&protected.ciphertext).unwrap()).unwrap())
    });

    let mut verification = MockCardVerification::new();
    verification
        .expect_derive()
        .returning(|_, pan, _| Ok(cvc_of(pan)));

    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);

    Harness {
        service: CardLookupService::new(CardLookupPorts {
            members: Arc::new(members),
            applications: Arc::new(applications),
            cards: Arc::new(cards),
            products: Arc::new(products),
            balances: Arc::new(balances),
            changes: Arc::new(changes),
            secrets: Arc::new(secrets),
            verification: Arc::new(verification),
            clock: Arc::new(clock),
        }),
        applied,
        card_reads: reads,
    }
}

fn search(par: Option<Par>, physical_card: Option<Pan>) -> CardSearch {
    CardSearch {
        asp_id: asp(),
        member: MemberId::new(MEMBER).unwrap(),
        par,
        physical_card,
    }
}

/// Two mobile cards of the member (one with a physical card linked, over an older terminated
/// one), a terminated mobile card, and a physical card not linked.
fn wallet() -> Vec<CardRecord> {
    let first = card(1, CardKind::Mobile, CardStatus::Active);
    let second = card(2, CardKind::Mobile, CardStatus::Suspended);
    vec![
        first.clone(),
        second,
        linked(card(3, CardKind::Physical, CardStatus::Terminated), &first),
        linked(card(4, CardKind::Physical, CardStatus::Active), &first),
        card(5, CardKind::Mobile, CardStatus::Terminated),
        card(6, CardKind::Physical, CardStatus::Inactive),
    ]
}

#[tokio::test]
async fn a_search_lists_the_members_mobile_cards_with_their_live_physical_card() {
    let harness = harness_over(World::with(wallet()));
    let found = harness.service.search(&search(None, None)).await.unwrap();

    let product = CardProductName {
        id: ServiceId::parse(PRODUCT).unwrap(),
        name: ProductName::parse("Sandbox pre-issued prepaid card").unwrap(),
    };
    assert_eq!(
        found,
        [
            MemberCard {
                par: card(1, CardKind::Mobile, CardStatus::Active).card.par,
                application: application(1),
                product: product.clone(),
                pan: pan(1),
                status: CardStatus::Active,
                expiry: Expiry::parse("3111").unwrap(),
                physical: Some(LinkedCard {
                    pan: pan(4),
                    status: CardStatus::Active
                }),
                balance: 0,
            },
            MemberCard {
                par: card(2, CardKind::Mobile, CardStatus::Active).card.par,
                application: application(2),
                product,
                pan: pan(2),
                status: CardStatus::Suspended,
                expiry: Expiry::parse("3111").unwrap(),
                physical: None,
                balance: 0,
            }
        ]
    );
}

#[tokio::test]
async fn a_search_names_one_card_by_its_par_its_physical_cards_par_or_its_physical_number() {
    let first = card(1, CardKind::Mobile, CardStatus::Active).card.par;
    for (par, physical) in [
        (Some(first.clone()), None),
        (
            Some(card(4, CardKind::Physical, CardStatus::Active).card.par),
            None,
        ),
        (None, Some(pan(4))),
        (Some(first.clone()), Some(pan(4))),
    ] {
        let harness = harness_over(World::with(wallet()));
        let found = harness
            .service
            .search(&search(par.clone(), physical.clone()))
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{par:?} {physical:?}");
        assert_eq!(found[0].par, first);
    }
    for (par, physical) in [
        (
            Some(card(5, CardKind::Mobile, CardStatus::Active).card.par),
            None,
        ),
        (
            Some(card(3, CardKind::Mobile, CardStatus::Active).card.par),
            None,
        ),
        (None, Some(pan(3))),
        (None, Some(pan(6))),
        (
            Some(card(2, CardKind::Mobile, CardStatus::Active).card.par),
            Some(pan(4)),
        ),
    ] {
        let harness = harness_over(World::with(wallet()));
        let found = harness
            .service
            .search(&search(par.clone(), physical.clone()))
            .await
            .unwrap();
        assert!(found.is_empty(), "{par:?} {physical:?}: {found:?}");
    }
}

#[tokio::test]
async fn a_non_member_searches_nothing() {
    for member in [None, Some(MemberStatus::Cancelled)] {
        let mut world = World::with(wallet());
        world.member = member;
        let harness = harness_over(world);
        let refused = harness
            .service
            .search(&search(None, None))
            .await
            .unwrap_err();
        assert_eq!(refused.code().code(), "001_006");
        assert_eq!(harness.card_reads.load(Ordering::SeqCst), 0);
    }
}

#[tokio::test]
async fn a_card_number_answers_its_owner_unless_it_is_unknown_or_terminated() {
    let harness = harness_over(World::with(wallet()));
    let owner = harness.service.owner(&asp(), &pan(4)).await.unwrap();
    assert_eq!(owner.member.get(), MEMBER);
    assert_eq!(
        owner.par,
        card(4, CardKind::Physical, CardStatus::Active).card.par
    );
    assert_eq!(owner.status, CardStatus::Active);
    assert_eq!(owner.product.id.as_str(), PRODUCT);
    assert_eq!(owner.balance, 0);
    for unknown in [pan(3), pan(5), pan(9)] {
        let refused = harness.service.owner(&asp(), &unknown).await.unwrap_err();
        assert_eq!(refused.code().code(), "003_001");
    }
}

fn printed(pan: Pan, expiry: &str, cvc: Cvc) -> PrintedCardQuery {
    PrintedCardQuery {
        asp_id: asp(),
        pan,
        expiry: Expiry::parse(expiry).unwrap(),
        cvc,
    }
}

fn wrong(cvc: &Cvc) -> Cvc {
    let value: u32 = cvc.expose().parse().unwrap();
    Cvc::parse(&format!("{:03}", (value + 1) % 1000)).unwrap()
}

#[tokio::test]
async fn a_produced_card_proven_by_its_expiry_and_cvc_is_described_and_nothing_changes() {
    let harness = harness_over(World::with(wallet()));
    let described = harness
        .service
        .unregistered(&printed(pan(6), "3111", cvc_of(&pan(6))))
        .await
        .unwrap();
    assert_eq!(described.status, CardStatus::Inactive);
    assert_eq!(described.expiry, Expiry::parse("3111").unwrap());
    assert_eq!(described.product.id.as_str(), PRODUCT);
    assert!(harness.applied.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_expiry_or_cvc_is_counted_before_it_is_answered_and_the_fifth_locks() {
    for query in [
        printed(pan(6), "3111", wrong(&cvc_of(&pan(6)))),
        printed(pan(6), "3110", cvc_of(&pan(6))),
    ] {
        let harness = harness_over(World::with(wallet()));
        let refused = harness.service.unregistered(&query).await.unwrap_err();
        assert_eq!(refused.code().code(), "003_001");
        let applied = harness.applied.lock().unwrap();
        let [change] = applied.as_slice() else {
            panic!("one change: {applied:?}");
        };
        assert!(change.claim.is_none(), "an inquiry claims no key");
        assert_eq!(change.cards[0].from_version, 2);
        assert_eq!(change.cards[0].status.wrong_attempts, 1);
        assert_eq!(change.cards[0].status.status, CardStatus::Inactive);
    }

    let mut almost = wallet();
    almost[5].wrong_attempts = MOST_WRONG_REGISTRATIONS - 1;
    let harness = harness_over(World::with(almost));
    harness
        .service
        .unregistered(&printed(pan(6), "3111", wrong(&cvc_of(&pan(6)))))
        .await
        .unwrap_err();
    let applied = harness.applied.lock().unwrap();
    assert_eq!(
        (
            applied[0].cards[0].status.status,
            applied[0].cards[0].status.wrong_attempts
        ),
        (CardStatus::Suspended, MOST_WRONG_REGISTRATIONS)
    );
}

#[tokio::test]
async fn a_concurrent_attempt_counted_first_makes_this_one_read_and_count_again() {
    let mut world = World::with(wallet());
    world.applies = vec![Err(ChangeError::Stale), Ok(())];
    let harness = harness_over(world);
    let refused = harness
        .service
        .unregistered(&printed(pan(6), "3111", wrong(&cvc_of(&pan(6)))))
        .await
        .unwrap_err();
    assert_eq!(refused.code().code(), "003_001");
    assert_eq!(harness.card_reads.load(Ordering::SeqCst), 2);
    assert_eq!(harness.applied.lock().unwrap().len(), 1);

    let mut world = World::with(wallet());
    world.applies = vec![];
    let harness = harness_over(world);
    let failed = harness
        .service
        .unregistered(&printed(pan(6), "3111", wrong(&cvc_of(&pan(6)))))
        .await
        .unwrap_err();
    assert_eq!(failed.code().code(), "000_099");
    assert_eq!(harness.card_reads.load(Ordering::SeqCst), MOST_READS);
}

#[tokio::test]
async fn any_other_card_is_invalid_and_records_nothing_even_with_a_wrong_cvc() {
    for number in [pan(1), pan(4), pan(9)] {
        for cvc in [cvc_of(&number), wrong(&cvc_of(&number))] {
            let harness = harness_over(World::with(wallet()));
            let refused = harness
                .service
                .unregistered(&printed(number.clone(), "3111", cvc))
                .await
                .unwrap_err();
            assert!(matches!(refused, CardLookupError::InvalidCard));
            assert!(harness.applied.lock().unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn a_store_that_fails_while_counting_is_a_system_error() {
    let mut world = World::with(wallet());
    world.applies = vec![Err(ChangeError::Unavailable(PortError::msg("down")))];
    let harness = harness_over(world);
    let failed = harness
        .service
        .unregistered(&printed(pan(6), "3111", wrong(&cvc_of(&pan(6)))))
        .await
        .unwrap_err();
    assert!(matches!(failed, CardLookupError::Unavailable(_)));
}
