use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use prepaid_domain::{
    AddressDetail, ApplicationStatus, ApplicationType, Bin, CardApplication, CardId, CardProduct,
    IssuedCard, MemberId, ProductName, ProductType, RoadAddress, ServiceId, Timestamp, Validity,
    ZipCode,
};

use super::*;
use crate::ports::{
    MockCardApplicationStore, MockCardSecrets, MockCardStore, MockCardVerification, MockClock,
    MockDeliveryStore, MockLifecycleChanges, MockProductCatalogue, PanFingerprint, ProjectDelivery,
    ProtectedPan, SealedAddress,
};

/// 2026-11-30 12:00 KST.
const NOW: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const PAN: &str = "9435120001234568";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn number() -> CardApplyNo {
    CardApplyNo::parse("2611300300000000000001").unwrap()
}

fn physical_par() -> Par {
    Par::parse("P1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap()
}

fn physical_id() -> CardId {
    CardId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

fn address() -> DeliveryAddress {
    DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: ZipCode::parse("06236").unwrap(),
    }
}

/// A delivery that went through `statuses` after `READY`, a minute apart, up to a minute ago.
fn walked(statuses: &[DeliveryStatus]) -> DeliveryHistory {
    let count = i64::try_from(statuses.len()).unwrap();
    let start = NOW.plus_millis(-60_000 * (count + 1));
    let mut history = DeliveryHistory::start(start);
    for (status, minute) in statuses.iter().zip(1_i64..) {
        history = history
            .advance(*status, start.plus_millis(60_000 * minute))
            .unwrap();
    }
    history
}

struct World {
    known: bool,
    application: ApplicationStatus,
    delivery: DeliveryHistory,
    physical: Option<CardStatus>,
    /// Whether the application has a mobile card too (pre-issuance).
    mobile: bool,
    applies: Vec<Result<(), ChangeError>>,
    printed: PrintedCards,
}

impl World {
    fn at(statuses: &[DeliveryStatus]) -> Self {
        Self {
            known: true,
            application: ApplicationStatus::DigitalIssued,
            delivery: walked(statuses),
            physical: None,
            mobile: false,
            applies: vec![Ok(())],
            printed: PrintedCards::Shown,
        }
    }
}

struct Partner {
    service: FulfilmentService,
    applied: Arc<Mutex<Vec<LifecycleChange>>>,
    reads: Arc<AtomicUsize>,
}

fn mint() -> CardMint {
    crate::mint::test_mint()
}

#[expect(
    clippy::too_many_lines,
    reason = "one mock per port, each answering from the world"
)]
fn service(world: World) -> Partner {
    let reads = Arc::new(AtomicUsize::new(0));
    let mut deliveries = MockDeliveryStore::new();
    let (known, counted) = (world.known, reads.clone());
    deliveries.expect_project_of().returning(move |asked| {
        counted.fetch_add(1, Ordering::SeqCst);
        assert_eq!(asked, &number());
        Ok(known.then(asp))
    });
    let history = world.delivery.clone();
    deliveries.expect_delivery().returning(move |asp_id, _| {
        assert_eq!(asp_id, &asp());
        Ok(Some(StoredDelivery {
            application: number(),
            address: None,
            history: history.clone(),
            version: 5,
        }))
    });
    let history = world.delivery.clone();
    deliveries
        .expect_deliveries_in_progress()
        .returning(move |project, limit| {
            assert_eq!(project, Some(asp()));
            Ok([Some(7_u8), Some(8), None]
                .into_iter()
                .take(limit)
                .map(|sealed| ProjectDelivery {
                    asp_id: asp(),
                    delivery: StoredDelivery {
                        application: number(),
                        address: sealed.map(|byte| SealedAddress {
                            key_id: "k1".to_owned(),
                            ciphertext: vec![byte],
                        }),
                        history: history.clone(),
                        version: 5,
                    },
                })
                .collect())
        });

    let mut applications = MockCardApplicationStore::new();
    let status = world.application;
    applications.expect_application().returning(move |_, _| {
        Ok(Some(StoredApplication {
            application: CardApplication {
                number: number(),
                member: MemberId::new(1001).unwrap(),
                product: ServiceId::parse("000170000002000").unwrap(),
                application_type: ApplicationType::Issue,
                status,
                purpose: None,
                created_at: NOW.plus_millis(-3_600_000),
            },
            replaces: None,
            version: 2,
        }))
    });

    let mut cards = MockCardStore::new();
    let (physical, mobile) = (world.physical, world.mobile);
    cards.expect_cards_of_application().returning(move |_, _| {
        let mobile_card = mobile.then(|| CardRecord {
            card: IssuedCard {
                id: CardId::parse("fedcba9876543210fedcba9876543210").unwrap(),
                par: Par::parse("M1AB2CD3EF4GH5IJ6KL7MN8OP9Q").unwrap(),
                owner: MemberId::new(1001).unwrap(),
                linked_to: None,
                expiry: Expiry::parse("3111").unwrap(),
                kind: CardKind::Mobile,
                status: CardStatus::Active,
            },
            application: number(),
            protected_pan: ProtectedPan {
                key_id: "pan-1".to_owned(),
                ciphertext: vec![2],
            },
            pan_bound_to_id: true,
            pan_fingerprint: PanFingerprint {
                key_id: "idx-1".to_owned(),
                digest: [2; 32],
            },
            cvk_id: "cvk-1".to_owned(),
            wrong_attempts: 0,
            version: 0,
        });
        Ok(mobile_card
            .into_iter()
            .chain(physical.map(|status| CardRecord {
                card: IssuedCard {
                    id: physical_id(),
                    par: physical_par(),
                    owner: MemberId::new(1001).unwrap(),
                    linked_to: None,
                    expiry: Expiry::parse("3111").unwrap(),
                    kind: CardKind::Physical,
                    status,
                },
                application: number(),
                protected_pan: ProtectedPan {
                    key_id: "pan-1".to_owned(),
                    ciphertext: vec![1],
                },
                pan_bound_to_id: true,
                pan_fingerprint: PanFingerprint {
                    key_id: "idx-1".to_owned(),
                    digest: [1; 32],
                },
                cvk_id: "cvk-1".to_owned(),
                wrong_attempts: 0,
                version: 1,
            }))
            .collect())
    });

    let mut products = MockProductCatalogue::new();
    products.expect_find().returning(|id| {
        Ok(Some(CardProduct {
            id: id.clone(),
            name: ProductName::parse("Normal card").unwrap(),
            bin: Bin::parse("943512").unwrap(),
            product_type: ProductType::Normal,
            pre_issuance: true,
            giftable: false,
            validity: Validity::DEFAULT,
            active: true,
        }))
    });

    let applied = Arc::new(Mutex::new(Vec::new()));
    let answers = Mutex::new(VecDeque::from(world.applies));
    let mut changes = MockLifecycleChanges::new();
    let kept = applied.clone();
    changes.expect_apply().returning(move |change| {
        let answer = answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Err(ChangeError::Stale));
        if answer.is_ok() {
            kept.lock().unwrap().push(change.clone());
        }
        answer
    });

    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_open_address()
        .returning(|sealed, for_number| {
            assert_eq!(for_number, &number());
            if sealed.ciphertext == [7] {
                Ok(address())
            } else {
                Err(PortError::msg(
                    "address encrypted under an unknown data key",
                ))
            }
        });
    secrets.expect_reveal().returning(|protected, _| {
        assert_eq!(protected.ciphertext, [1]);
        Ok(Pan::parse(PAN).unwrap())
    });
    let mut verification = MockCardVerification::new();
    verification.expect_derive().returning(|key_id, pan, _| {
        assert_eq!((key_id, pan.expose()), ("cvk-1", PAN));
        Ok(Cvc::parse("321").unwrap())
    });
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);

    Partner {
        service: FulfilmentService::new(
            FulfilmentPorts {
                applications: Arc::new(applications),
                deliveries: Arc::new(deliveries),
                cards: Arc::new(cards),
                products: Arc::new(products),
                changes: Arc::new(changes),
                secrets: Arc::new(secrets),
                verification: Arc::new(verification),
                clock: Arc::new(clock),
            },
            mint(),
            world.printed,
        ),
        applied,
        reads,
    }
}

impl Partner {
    fn applied(&self) -> Vec<LifecycleChange> {
        self.applied.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_reported_step_moves_the_delivery_alone_from_its_version() {
    let run = service(World::at(&[]));
    let report = run
        .service
        .report(&number(), DeliveryStatus::Receipt)
        .await
        .unwrap();
    assert!(report.changed);
    assert_eq!(report.history.current(), DeliveryStatus::Receipt);
    assert_eq!(report.asp_id, asp());
    assert_eq!(report.physical_card, None);
    let [change] = run.applied().try_into().unwrap();
    assert_eq!(change.asp_id, asp());
    assert_eq!(
        change.deliveries,
        [VersionedChange {
            key: number(),
            from_version: 5,
            status: DeliveryStatus::Receipt,
        }]
    );
    assert!(change.applications.is_empty() && change.cards.is_empty());
    assert!(change.new_cards.is_empty() && change.claim.is_none());
    assert_eq!(change.at, NOW);
}

#[tokio::test]
async fn pre_shipping_produces_an_inactive_physical_card_and_issues_the_application_physically() {
    let run = service(World::at(&[DeliveryStatus::Receipt]));
    let report = run
        .service
        .report(&number(), DeliveryStatus::PreShipping)
        .await
        .unwrap();
    let [change] = run.applied().try_into().unwrap();
    let [new] = change.new_cards.as_slice() else {
        panic!("one card made: {change:?}");
    };
    assert_eq!(new.application, number());
    assert_eq!(new.card.card.kind, CardKind::Physical);
    assert_eq!(new.card.card.status, CardStatus::Inactive);
    assert_eq!(new.card.card.owner, MemberId::new(1001).unwrap());
    assert_eq!(new.card.card.linked_to, None);
    assert_eq!(report.physical_card, Some(new.card.card.par.clone()));
    assert_eq!(
        change.applications,
        [VersionedChange {
            key: number(),
            from_version: 2,
            status: ApplicationStatus::PhysicalIssued,
        }]
    );
}

#[tokio::test]
async fn a_lost_delivery_terminates_its_physical_card() {
    use DeliveryStatus::{PreShipping, Receipt, Shipping};
    let run = service(World {
        physical: Some(CardStatus::Inactive),
        application: ApplicationStatus::PhysicalIssued,
        ..World::at(&[Receipt, PreShipping, Shipping])
    });
    let report = run
        .service
        .report(&number(), DeliveryStatus::Lost)
        .await
        .unwrap();
    assert_eq!(report.physical_card, None);
    let [change] = run.applied().try_into().unwrap();
    assert_eq!(change.cards.len(), 1);
    assert_eq!(change.cards[0].key, physical_id());
    assert_eq!(change.cards[0].from_version, 1);
    assert_eq!(change.cards[0].status.status, CardStatus::Terminated);
}

#[tokio::test]
async fn a_status_reported_again_changes_nothing_and_answers_where_the_delivery_is() {
    use DeliveryStatus::{PreShipping, Receipt};
    let run = service(World {
        physical: Some(CardStatus::Inactive),
        ..World::at(&[Receipt, PreShipping])
    });
    let report = run.service.report(&number(), PreShipping).await.unwrap();
    assert!(!report.changed);
    assert_eq!(report.physical_card, Some(physical_par()));
    assert!(run.applied().is_empty());
}

#[tokio::test]
async fn a_change_the_table_refuses_or_a_cancel_is_refused_and_changes_nothing() {
    for (next, reason) in [
        (
            DeliveryStatus::Shipping,
            "a delivery cannot go from READY to SHIPPING",
        ),
        (
            DeliveryStatus::Cancel,
            "a delivery is cancelled only with its application",
        ),
    ] {
        let run = service(World::at(&[]));
        let refused = run.service.report(&number(), next).await.unwrap_err();
        assert_eq!(refused.code().code(), "003_091");
        assert_eq!(refused.to_string(), reason);
        assert!(run.applied().is_empty());
    }
}

#[tokio::test]
async fn an_unknown_application_has_no_delivery_to_report_or_print() {
    let run = service(World {
        known: false,
        ..World::at(&[])
    });
    let refused = run
        .service
        .report(&number(), DeliveryStatus::Receipt)
        .await
        .unwrap_err();
    assert!(matches!(refused, FulfilmentError::UnknownDelivery));
    assert_eq!(refused.code().code(), "003_001");
    assert!(matches!(
        run.service.printed_card(&number()).await,
        Err(FulfilmentError::UnknownDelivery)
    ));
}

#[tokio::test]
async fn a_report_that_meets_another_writer_reads_and_decides_again() {
    let run = service(World {
        applies: vec![Err(ChangeError::Stale), Ok(())],
        ..World::at(&[])
    });
    let report = run.service.report(&number(), DeliveryStatus::Receipt).await;
    assert!(report.unwrap().changed);
    assert_eq!(run.reads.load(Ordering::SeqCst), 2);

    let run = service(World {
        applies: (0..8).map(|_| Err(ChangeError::Stale)).collect(),
        ..World::at(&[])
    });
    let report = run.service.report(&number(), DeliveryStatus::Receipt).await;
    assert!(matches!(report, Err(FulfilmentError::Unavailable(_))));
    assert_eq!(run.reads.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn orders_list_deliveries_in_progress_with_their_addresses_opened() {
    let run = service(World::at(&[DeliveryStatus::Receipt]));
    let orders = run.service.orders(Some(asp()), 10).await.unwrap();
    assert_eq!(orders.len(), 3);
    assert_eq!(
        orders[1].address,
        OrderAddress::Unreadable,
        "the others still listed"
    );
    assert_eq!(orders[2].address, OrderAddress::NotSealedYet);
    assert_eq!(orders[0].asp_id, asp());
    assert_eq!(orders[0].application, number());
    assert_eq!(orders[0].address, OrderAddress::Open(address()));
    assert_eq!(orders[0].history.current(), DeliveryStatus::Receipt);
    assert_eq!(run.service.orders(Some(asp()), 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_sandbox_shows_a_produced_cards_printed_data_and_nowhere_else_does() {
    let shown = service(World {
        physical: Some(CardStatus::Inactive),
        ..World::at(&[DeliveryStatus::Receipt, DeliveryStatus::PreShipping])
    });
    let printed = shown.service.printed_card(&number()).await.unwrap();
    assert_eq!(printed.pan.expose(), PAN);
    assert_eq!(printed.cvc.expose(), "321");
    assert_eq!(printed.expiry.to_yymm(), "3111");
    assert_eq!(printed.par, physical_par());
    assert_eq!(printed.status, CardStatus::Inactive);

    let none_yet = service(World::at(&[DeliveryStatus::Receipt]));
    assert!(matches!(
        none_yet.service.printed_card(&number()).await,
        Err(FulfilmentError::NoPrintedCard)
    ));

    let hidden = service(World {
        physical: Some(CardStatus::Inactive),
        printed: PrintedCards::Hidden,
        ..World::at(&[DeliveryStatus::Receipt, DeliveryStatus::PreShipping])
    });
    let refused = hidden.service.printed_card(&number()).await.unwrap_err();
    assert!(matches!(refused, FulfilmentError::NoPrintedCard));
    assert_eq!(
        hidden.reads.load(Ordering::SeqCst),
        0,
        "nothing read at all"
    );
}

#[tokio::test]
async fn a_returned_delivery_is_sent_again_with_its_card_terminated() {
    use DeliveryStatus::{PreShipping, Receipt, Return, Shipping};
    let run = service(World {
        physical: Some(CardStatus::Inactive),
        application: ApplicationStatus::PhysicalIssued,
        ..World::at(&[Receipt, PreShipping, Shipping, Return])
    });
    let report = run.service.redeliver(&number()).await.unwrap();
    assert_eq!(report.history.current(), DeliveryStatus::Ready);
    assert_eq!(report.physical_card, None);
    let [change] = run.applied().try_into().unwrap();
    assert_eq!(
        change.deliveries,
        [VersionedChange {
            key: number(),
            from_version: 5,
            status: DeliveryStatus::Ready,
        }]
    );
    assert_eq!(change.cards.len(), 1);
    assert_eq!(change.cards[0].status.status, CardStatus::Terminated);
    assert!(change.applications.is_empty() && change.new_cards.is_empty());
}

#[tokio::test]
async fn only_a_lost_or_returned_delivery_is_sent_again() {
    let run = service(World::at(&[DeliveryStatus::Receipt]));
    let refused = run.service.redeliver(&number()).await.unwrap_err();
    assert_eq!(refused.code().code(), "003_091");
    assert!(run.applied().is_empty());

    let run = service(World {
        known: false,
        ..World::at(&[])
    });
    assert!(matches!(
        run.service.redeliver(&number()).await,
        Err(FulfilmentError::UnknownDelivery)
    ));
}

#[tokio::test]
async fn a_mobile_card_or_a_terminated_physical_card_is_no_physical_card_to_keep() {
    for physical in [None, Some(CardStatus::Terminated)] {
        let run = service(World {
            mobile: true,
            physical,
            ..World::at(&[DeliveryStatus::Receipt])
        });
        let report = run
            .service
            .report(&number(), DeliveryStatus::PreShipping)
            .await
            .unwrap();
        let [change] = run.applied().try_into().unwrap();
        assert_eq!(
            change.new_cards.len(),
            1,
            "{physical:?}: a card is produced"
        );
        assert_ne!(report.physical_card, Some(physical_par()));
    }
}
