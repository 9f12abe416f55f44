use std::collections::HashMap;

use mockall::predicate::eq;
use prepaid_domain::{
    Bin, CardApplication, CardId, CardProduct, CardStatus, DeliveryHistory, Expiry, IssuedCard,
    Member, ProductType, Timestamp, Validity,
};

use super::*;
use crate::ports::{
    MockCardApplicationStore, MockCardSecrets, MockCardStore, MockCardVerification,
    MockDeliveryStore, MockMemberDirectory, MockProductCatalogue, PanFingerprint, ProtectedPan,
    StoredDelivery,
};

const AT: Timestamp = Timestamp::from_millis(1_796_007_600_000);
const PRODUCT: &str = "000170000004000";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn member() -> MemberId {
    MemberId::new(1001).unwrap()
}

fn number(serial: u8) -> CardApplyNo {
    CardApplyNo::parse(&format!("26113003000000000000{serial:02}")).unwrap()
}

/// A PAN per application, told apart by its serial (Luhn-valid).
fn pan(serial: u8) -> Pan {
    let body = format!("94351200000{serial:02}00");
    let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, digit)| {
            if index % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                *digit
            }
        })
        .sum();
    Pan::parse(&format!("{body}{}", (10 - sum % 10) % 10)).unwrap()
}

fn par(serial: u8) -> Par {
    Par::parse(&format!("Q1AB2CD3EF4GH5IJ6KL7MN8OP{serial:02}")).unwrap()
}

/// One application of the member: its status, whether it has a mobile card and a delivery.
struct Held {
    serial: u8,
    status: ApplicationStatus,
    mobile: bool,
    delivery: bool,
}

fn held(serial: u8, status: ApplicationStatus, mobile: bool, delivery: bool) -> Held {
    Held {
        serial,
        status,
        mobile,
        delivery,
    }
}

fn stored(held: &Held) -> StoredApplication {
    StoredApplication {
        application: CardApplication {
            number: number(held.serial),
            member: member(),
            product: ServiceId::parse(PRODUCT).unwrap(),
            application_type: ApplicationType::Issue,
            status: held.status,
            purpose: None,
            created_at: AT,
        },
        replaces: None,
        version: 1,
    }
}

fn mobile_card(serial: u8) -> CardRecord {
    CardRecord {
        card: IssuedCard {
            id: CardId::parse(&format!("0123456789abcdef0123456789abcd{serial:02}")).unwrap(),
            par: par(serial),
            owner: member(),
            linked_to: None,
            expiry: Expiry::parse("3111").unwrap(),
            kind: CardKind::Mobile,
            status: CardStatus::Active,
        },
        application: number(serial),
        protected_pan: ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: vec![serial],
        },
        pan_bound_to_id: true,
        pan_fingerprint: PanFingerprint {
            key_id: "idx-1".to_owned(),
            digest: [serial; 32],
        },
        cvk_id: "cvk-1".to_owned(),
        wrong_attempts: 0,
        version: 0,
    }
}

fn delivery(serial: u8) -> StoredDelivery {
    StoredDelivery {
        application: number(serial),
        address: None,
        history: DeliveryHistory::start(AT),
        version: 0,
    }
}

fn product() -> CardProduct {
    CardProduct {
        id: ServiceId::parse(PRODUCT).unwrap(),
        name: ProductName::parse("Sandbox pre-issued prepaid card").unwrap(),
        bin: Bin::parse("943512").unwrap(),
        product_type: ProductType::Normal,
        pre_issuance: true,
        giftable: false,
        validity: Validity::DEFAULT,
        active: true,
    }
}

/// The service over the member's `applications`, with `member` as the directory answers.
fn service(member_status: Option<MemberStatus>, applications: &[Held]) -> PreIssuedCardsService {
    let mut members = MockMemberDirectory::new();
    members
        .expect_find()
        .with(eq(asp()), eq(member()))
        .returning(move |_, id| Ok(member_status.map(|status| Member { id, status })));

    let listed: Vec<StoredApplication> = applications.iter().map(stored).collect();
    let mut store = MockCardApplicationStore::new();
    store
        .expect_applications_of_member()
        .with(eq(asp()), eq(member()))
        .returning(move |_, _| Ok(listed.clone()));

    let cards_of: HashMap<CardApplyNo, Vec<CardRecord>> = applications
        .iter()
        .map(|held| {
            let cards = if held.mobile {
                vec![mobile_card(held.serial)]
            } else {
                vec![]
            };
            (number(held.serial), cards)
        })
        .collect();
    let finished: Vec<CardApplyNo> = applications
        .iter()
        .filter(|held| {
            matches!(
                held.status,
                ApplicationStatus::Cancelled | ApplicationStatus::Completed
            )
        })
        .map(|held| number(held.serial))
        .collect();
    let mut cards = MockCardStore::new();
    cards
        .expect_cards_of_application()
        .returning(move |asp_id, number| {
            assert_eq!(asp_id, &asp());
            assert!(
                !finished.contains(number),
                "a cancelled or completed application's cards are never read"
            );
            Ok(cards_of[number].clone())
        });

    let with_delivery: Vec<CardApplyNo> = applications
        .iter()
        .filter(|held| held.delivery)
        .map(|held| number(held.serial))
        .collect();
    let mut deliveries = MockDeliveryStore::new();
    deliveries.expect_delivery().returning(move |_, number| {
        Ok(with_delivery
            .contains(number)
            .then(|| delivery(number.as_str()[20..].parse().unwrap())))
    });

    let mut products = MockProductCatalogue::new();
    products
        .expect_find()
        .returning(|id| Ok((id.as_str() == PRODUCT).then(product)));

    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_reveal()
        .returning(|protected, _| Ok(pan(protected.ciphertext[0])));
    let mut verification = MockCardVerification::new();
    verification.expect_derive().returning(|key_id, pan, _| {
        assert_eq!(key_id, "cvk-1");
        Ok(Cvc::parse(&pan.expose()[13..]).unwrap())
    });

    PreIssuedCardsService::new(PreIssuedCardsPorts {
        members: Arc::new(members),
        applications: Arc::new(store),
        deliveries: Arc::new(deliveries),
        cards: Arc::new(cards),
        products: Arc::new(products),
        secrets: Arc::new(secrets),
        verification: Arc::new(verification),
    })
}

#[tokio::test]
async fn only_applications_with_a_mobile_card_and_a_delivery_not_yet_registered_are_listed() {
    use ApplicationStatus::{Cancelled, Completed, DigitalIssued, PhysicalIssued, Ready};
    let service = service(
        Some(MemberStatus::Active),
        &[
            held(1, DigitalIssued, true, true),
            held(2, DigitalIssued, true, false),
            held(3, Ready, false, true),
            held(4, Cancelled, true, true),
            held(5, Completed, true, true),
            held(6, PhysicalIssued, true, true),
        ],
    );

    let listed = service.awaiting(&asp(), member()).await.unwrap();

    let numbers: Vec<&CardApplyNo> = listed.iter().map(|card| &card.application).collect();
    assert_eq!(numbers, [&number(1), &number(6)]);
    let first = &listed[0];
    assert_eq!(first.pan, pan(1));
    assert_eq!(first.par, par(1));
    assert_eq!(first.cvc.expose(), &pan(1).expose()[13..]);
    assert_eq!(first.product.as_str(), PRODUCT);
    assert_eq!(
        first.product_name.as_str(),
        "Sandbox pre-issued prepaid card"
    );
    assert_eq!(first.application_type, ApplicationType::Issue);
    assert_eq!(first.status, DigitalIssued);
    assert_eq!(listed[1].status, PhysicalIssued);
}

#[tokio::test]
async fn of_more_than_a_hundred_awaiting_the_latest_hundred_are_listed_oldest_first() {
    let many: Vec<Held> = (1..=99)
        .chain([0])
        .chain(1..=3)
        .map(|serial| held(serial, ApplicationStatus::DigitalIssued, true, true))
        .collect();
    let listed = service(Some(MemberStatus::Active), &many)
        .awaiting(&asp(), member())
        .await
        .unwrap();
    assert_eq!(listed.len(), MOST_LISTED);
    assert_eq!(
        listed[0].application,
        number(4),
        "the three oldest are left out"
    );
    assert_eq!(listed[99].application, number(3));
}

#[tokio::test]
async fn a_member_with_nothing_awaiting_gets_an_empty_list() {
    let service = service(Some(MemberStatus::Active), &[]);
    assert!(service.awaiting(&asp(), member()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_non_member_or_a_cancelled_member_gets_no_list() {
    for status in [None, Some(MemberStatus::Cancelled)] {
        let mut members = MockMemberDirectory::new();
        members
            .expect_find()
            .returning(move |_, id| Ok(status.map(|status| Member { id, status })));
        let mut store = MockCardApplicationStore::new();
        store.expect_applications_of_member().never();
        let service = PreIssuedCardsService::new(PreIssuedCardsPorts {
            members: Arc::new(members),
            applications: Arc::new(store),
            deliveries: Arc::new(MockDeliveryStore::new()),
            cards: Arc::new(MockCardStore::new()),
            products: Arc::new(MockProductCatalogue::new()),
            secrets: Arc::new(MockCardSecrets::new()),
            verification: Arc::new(MockCardVerification::new()),
        });
        let refused = service.awaiting(&asp(), member()).await.unwrap_err();
        assert!(
            matches!(refused, PreIssuedCardsError::NotAMember),
            "{status:?}"
        );
        assert_eq!(refused.code().code(), "001_006");
    }
}

#[tokio::test]
async fn an_application_whose_product_is_gone_from_the_catalogue_is_a_system_error() {
    let mut gone = stored(&held(1, ApplicationStatus::DigitalIssued, true, true));
    gone.application.product = ServiceId::parse("000170000009000").unwrap();
    let mut members = MockMemberDirectory::new();
    members.expect_find().returning(|_, id| {
        Ok(Some(Member {
            id,
            status: MemberStatus::Active,
        }))
    });
    let mut store = MockCardApplicationStore::new();
    store
        .expect_applications_of_member()
        .returning(move |_, _| Ok(vec![gone.clone()]));
    let mut cards = MockCardStore::new();
    cards
        .expect_cards_of_application()
        .returning(|_, _| Ok(vec![mobile_card(1)]));
    let mut deliveries = MockDeliveryStore::new();
    deliveries
        .expect_delivery()
        .returning(|_, _| Ok(Some(delivery(1))));
    let mut products = MockProductCatalogue::new();
    products.expect_find().returning(|_| Ok(None));
    let service = PreIssuedCardsService::new(PreIssuedCardsPorts {
        members: Arc::new(members),
        applications: Arc::new(store),
        deliveries: Arc::new(deliveries),
        cards: Arc::new(cards),
        products: Arc::new(products),
        secrets: Arc::new(MockCardSecrets::new()),
        verification: Arc::new(MockCardVerification::new()),
    });
    let refused = service.awaiting(&asp(), member()).await.unwrap_err();
    assert!(matches!(refused, PreIssuedCardsError::Unavailable(_)));
    assert_eq!(refused.code().code(), "000_099");
}
