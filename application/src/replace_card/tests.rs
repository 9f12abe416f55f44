//! The reissue after loss and the renewal, through mocked ports: every refusal in its order,
//! what a recorded replacement writes, and what a retry, a conflict and a concurrent writer
//! make of it.

use std::sync::Mutex;

use prepaid_domain::{
    AddressDetail, ApplicationStatus, AspId, Bin, CardApplication, CardApplyNo, CardId, CardKind,
    CorrelationId, Expiry, IssuedCard, Member, MemberStatus, ProductName, ProductType, RoadAddress,
    Timestamp, Validity, ZipCode,
};

use super::*;
use crate::issue_card::IssuancePorts;
use crate::ports::{
    IdempotencyRecord, MockCardApplicationStore, MockCardNumberSerials, MockCardNumbering,
    MockCardSecrets, MockCardStore, MockCardVerification, MockClock, MockMemberDirectory,
    MockProductCatalogue, MockRandomSource, NewIssuance, PanFingerprint, ProtectedPan, RecordError,
    SealedAddress, StoredIssuance,
};
use crate::test_support::{fingerprint_of, scripted_records};

mod reissue;
mod renewal;

/// 2026-12-06T03:00:00Z: 12:00 in Korea on 6 December 2026.
const NOW: Timestamp = Timestamp::from_millis(1_796_526_000_000);
const MEMBER: u64 = 1001;
const OTHER_MEMBER: u64 = 1003;
const NORMAL: &str = "000170000002000";
const NORMAL_PRE_ISSUED: &str = "000170000004000";
const MOBILE: &str = "000170000003000";
const RETIRED: &str = "000170000009000";
const MOBILE_PAR: &str = "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
const PHYSICAL_PAR: &str = "P1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
const PHYSICAL_PAN: &str = "9435120001234576";
const APPLICATION: &str = "2611300300000000000001";

fn asp() -> AspId {
    AspId::parse("ASPSANDBOX00001").unwrap()
}

fn key() -> IdempotencyKey {
    IdempotencyKey {
        asp_id: asp(),
        correlation_id: CorrelationId::parse("261206120000-00000a1").unwrap(),
    }
}

fn member() -> MemberId {
    MemberId::new(MEMBER).unwrap()
}

fn mobile_id() -> CardId {
    CardId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

fn physical_id() -> CardId {
    CardId::parse("fedcba9876543210fedcba9876543210").unwrap()
}

fn product(id: &str, product_type: ProductType, pre_issuance: bool, active: bool) -> CardProduct {
    CardProduct {
        id: ServiceId::parse(id).unwrap(),
        name: ProductName::parse("Test prepaid").unwrap(),
        bin: Bin::parse("943512").unwrap(),
        product_type,
        pre_issuance,
        giftable: false,
        validity: Validity::DEFAULT,
        active,
    }
}

fn catalogue() -> Vec<CardProduct> {
    vec![
        product(NORMAL, ProductType::Normal, false, true),
        product(NORMAL_PRE_ISSUED, ProductType::Normal, true, true),
        product(MOBILE, ProductType::Mobile, false, true),
        product(RETIRED, ProductType::Normal, false, false),
    ]
}

fn pan_fingerprint(pan: &Pan) -> PanFingerprint {
    let mut digest = [0; 32];
    for (byte, from) in digest.iter_mut().zip(pan.expose().bytes()) {
        *byte = from;
    }
    PanFingerprint {
        key_id: "idx-1".to_owned(),
        digest,
    }
}

fn address() -> DeliveryAddress {
    DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: ZipCode::parse("06236").unwrap(),
    }
}

fn card(id: CardId, par: &str, kind: CardKind, status: CardStatus) -> CardRecord {
    CardRecord {
        card: IssuedCard {
            id,
            par: Par::parse(par).unwrap(),
            owner: member(),
            linked_to: None,
            expiry: Expiry::parse("2612").unwrap(),
            kind,
            status,
        },
        application: CardApplyNo::parse(APPLICATION).unwrap(),
        protected_pan: ProtectedPan {
            key_id: "pan-1".to_owned(),
            ciphertext: vec![1, 2, 3],
        },
        pan_bound_to_id: true,
        pan_fingerprint: pan_fingerprint(&Pan::parse(PHYSICAL_PAN).unwrap()),
        cvk_id: "cvk-1".to_owned(),
        wrong_attempts: 0,
        version: 3,
    }
}

fn application(
    number: &str,
    application_type: ApplicationType,
    status: ApplicationStatus,
    replaces: Option<CardId>,
) -> StoredApplication {
    StoredApplication {
        application: CardApplication {
            number: CardApplyNo::parse(number).unwrap(),
            member: member(),
            product: ServiceId::parse(NORMAL).unwrap(),
            application_type,
            status,
            purpose: None,
            created_at: NOW,
        },
        replaces,
        version: 2,
    }
}

/// What the stores hold and answer.
struct World {
    member: Option<MemberStatus>,
    /// What the member directory answers after its first answer, in turn (then the last of
    /// them; `member` for ever when empty).
    member_later: Vec<Option<MemberStatus>>,
    cards: Vec<CardRecord>,
    applications: Vec<StoredApplication>,
    records: Vec<Option<IdempotencyRecord>>,
    /// What the store answers to each recording, in turn (then `Ok`).
    recordings: Vec<Result<(), RecordError>>,
}

impl World {
    /// Member 1001's NORMAL card, issued and registered: a mobile card and a physical card
    /// linked to it, both in `status`, expiring December 2026; no record under the key.
    fn cards_in(status: CardStatus) -> Self {
        let mut physical = card(physical_id(), PHYSICAL_PAR, CardKind::Physical, status);
        physical.card.linked_to = Some(mobile_id());
        physical.version = 5;
        Self {
            member: Some(MemberStatus::Active),
            member_later: vec![],
            cards: vec![
                card(mobile_id(), MOBILE_PAR, CardKind::Mobile, status),
                physical,
            ],
            applications: vec![application(
                APPLICATION,
                ApplicationType::Issue,
                ApplicationStatus::Completed,
                None,
            )],
            records: vec![None],
            recordings: vec![],
        }
    }

    /// The same with an earlier application replacing `replaced`.
    fn replaced_by(
        mut self,
        application_type: ApplicationType,
        status: ApplicationStatus,
        replaced: CardId,
    ) -> Self {
        self.applications.push(application(
            "2612010300000000000002",
            application_type,
            status,
            Some(replaced),
        ));
        self
    }
}

/// What a run did.
struct Run {
    result: Result<IssueCardOutcome, ReplaceCardError>,
    recorded: Vec<NewIssuance>,
    reserved_serials: bool,
}

/// The service over the world's stores, with what it recorded and whether it drew a card
/// number.
struct Harness {
    service: CardReplacementService,
    recorded: Arc<Mutex<Vec<NewIssuance>>>,
    reserved: Arc<Mutex<bool>>,
}

#[expect(
    clippy::too_many_lines,
    reason = "one mock per port, each answering from the world"
)]
fn service(world: World) -> Harness {
    let mut members = MockMemberDirectory::new();
    let answers = Mutex::new(std::collections::VecDeque::from(
        std::iter::once(world.member)
            .chain(world.member_later)
            .collect::<Vec<_>>(),
    ));
    members.expect_find().returning(move |_, id| {
        let mut answers = answers.lock().unwrap();
        let status = if answers.len() > 1 {
            answers.pop_front().flatten()
        } else {
            answers.front().copied().flatten()
        };
        Ok(status.map(|status| Member { id, status }))
    });
    let members: Arc<dyn MemberDirectory> = Arc::new(members);

    let mut products = MockProductCatalogue::new();
    products
        .expect_find()
        .returning(|id| Ok(catalogue().into_iter().find(|product| product.id == *id)));
    let products: Arc<dyn ProductCatalogue> = Arc::new(products);

    let mut cards = MockCardStore::new();
    let held = world.cards.clone();
    cards.expect_card_by_par().returning(move |asp_id, par| {
        assert_eq!(asp_id, &asp());
        Ok(held.iter().find(|card| &card.card.par == par).cloned())
    });
    let held = world.cards.clone();
    cards
        .expect_card_by_fingerprint()
        .returning(move |asp_id, fingerprint| {
            assert_eq!(asp_id, &asp());
            Ok(held
                .iter()
                .find(|card| &card.pan_fingerprint == fingerprint)
                .cloned())
        });
    let held = world.cards.clone();
    cards.expect_cards_of_member().returning(move |_, owner| {
        Ok(held
            .iter()
            .filter(|card| card.card.owner == owner)
            .cloned()
            .collect())
    });

    let recorded = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockCardApplicationStore::new();
    let held = world.applications.clone();
    store
        .expect_applications_of_member()
        .returning(move |asp_id, owner| {
            assert_eq!(asp_id, &asp());
            Ok(held
                .iter()
                .filter(|stored| stored.application.member == owner)
                .cloned()
                .collect())
        });
    let answers = Mutex::new(std::collections::VecDeque::from(world.recordings));
    let kept = recorded.clone();
    store.expect_record_issuance().returning(move |issuance| {
        let answer = answers.lock().unwrap().pop_front().unwrap_or(Ok(()));
        if answer.is_ok() {
            kept.lock().unwrap().push(issuance.clone());
        }
        answer
    });
    store.expect_find_issuance().returning(|_, number| {
        Ok(Some(StoredIssuance {
            application_number: number.clone(),
            card: None,
        }))
    });
    let store: Arc<dyn CardApplicationStore> = Arc::new(store);

    let idempotency: Arc<dyn IdempotencyStore> = Arc::new(scripted_records(world.records));

    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_request_fingerprint()
        .returning(fingerprint_of);
    secrets
        .expect_request_fingerprint_with()
        .returning(|_, canonical| Some(fingerprint_of(canonical)));
    secrets.expect_fingerprint().returning(pan_fingerprint);
    secrets.expect_seal_address().returning(|_, _| {
        Ok(SealedAddress {
            key_id: "data-1".to_owned(),
            ciphertext: vec![7; 8],
        })
    });
    let secrets: Arc<dyn CardSecrets> = Arc::new(secrets);

    let mut clock = MockClock::new();
    clock.expect_now().returning(|| NOW);
    let clock: Arc<dyn Clock> = Arc::new(clock);

    // A new mobile card starts by reserving card numbers: noted, and refused, so that a test
    // sees whether one was made without a working mint.
    let reserved = Arc::new(Mutex::new(false));
    let mut serials = MockCardNumberSerials::new();
    let noted = reserved.clone();
    serials.expect_reserve().returning(move |_, _, _, _| {
        *noted.lock().unwrap() = true;
        Err(PortError::msg("no serials in this test"))
    });
    let mut numbering = MockCardNumbering::new();
    numbering
        .expect_current_key_id()
        .returning(|| "idx-1".to_owned());
    let mut random = MockRandomSource::new();
    let counter = Mutex::new(0_u64);
    random.expect_next_u64().returning(move || {
        let mut at = counter.lock().unwrap();
        *at += 1;
        *at
    });

    let issuance = CardIssuanceService::new(IssuancePorts {
        members: members.clone(),
        products: products.clone(),
        store: store.clone(),
        idempotency: idempotency.clone(),
        secrets: secrets.clone(),
        verification: Arc::new(MockCardVerification::new()),
        random: Arc::new(random),
        numbering: Arc::new(numbering),
        serials: Arc::new(serials),
        clock: clock.clone(),
    });
    let service = CardReplacementService::new(
        ReplacementPorts {
            members,
            products,
            applications: store,
            cards: Arc::new(cards),
            idempotency,
            secrets,
            clock,
        },
        issuance,
    );
    Harness {
        service,
        recorded,
        reserved,
    }
}

fn reissue_command(par: &str, next: Option<&str>, delivery: DeliveryChoice) -> ReissueCardCommand {
    ReissueCardCommand {
        key: key(),
        member: member(),
        par: Par::parse(par).unwrap(),
        next_product: next.map(|id| ServiceId::parse(id).unwrap()),
        delivery,
    }
}

fn renew_command(pan: &str) -> RenewCardCommand {
    RenewCardCommand {
        key: key(),
        member: member(),
        pan: Pan::parse(pan).unwrap(),
        address: address(),
    }
}

async fn reissue(world: World, command: ReissueCardCommand) -> Run {
    let Harness {
        service,
        recorded,
        reserved,
    } = service(world);
    let result = service.reissue(&command).await;
    let recorded = recorded.lock().unwrap().clone();
    let reserved_serials = *reserved.lock().unwrap();
    Run {
        result,
        recorded,
        reserved_serials,
    }
}

async fn renew(world: World, command: RenewCardCommand) -> Run {
    let Harness {
        service,
        recorded,
        reserved,
    } = service(world);
    let result = service.renew(&command).await;
    let recorded = recorded.lock().unwrap().clone();
    let reserved_serials = *reserved.lock().unwrap();
    Run {
        result,
        recorded,
        reserved_serials,
    }
}

fn code(run: &Run) -> &'static str {
    match &run.result {
        Ok(_) => "000_000",
        Err(error) => error.code().code(),
    }
}

fn delivered() -> DeliveryChoice {
    DeliveryChoice::Deliver(address())
}

#[test]
fn the_canonical_forms_differ_by_every_field() {
    let base = reissue_command(MOBILE_PAR, None, delivered());
    let variants = [
        reissue_command(PHYSICAL_PAR, None, delivered()),
        reissue_command(MOBILE_PAR, Some(NORMAL), delivered()),
        reissue_command(MOBILE_PAR, None, DeliveryChoice::MobileOnly),
        ReissueCardCommand {
            member: MemberId::new(OTHER_MEMBER).unwrap(),
            ..base.clone()
        },
    ];
    for variant in variants {
        assert_ne!(variant.canonical_form(), base.canonical_form());
    }
    let renewal = renew_command(PHYSICAL_PAN);
    let mut moved = renew_command(PHYSICAL_PAN);
    moved.address.zip_code = ZipCode::parse("06237").unwrap();
    assert_ne!(renewal.canonical_form(), moved.canonical_form());
    assert_ne!(
        renewal.canonical_form(),
        renew_command("9435120001234584").canonical_form()
    );
    assert_ne!(
        renewal.canonical_form(),
        RenewCardCommand {
            member: MemberId::new(OTHER_MEMBER).unwrap(),
            ..renewal.clone()
        }
        .canonical_form()
    );
}

#[test]
fn a_card_goes_with_the_card_it_is_linked_to_and_the_cards_linked_to_it() {
    let world = World::cards_in(CardStatus::Active);
    let mut alone = card(
        CardId::parse("00000000000000000000000000000001").unwrap(),
        "A1AB2CD3EF4GH5IJ6KL7MN8OP9Q",
        CardKind::Mobile,
        CardStatus::Active,
    );
    alone.version = 1;
    let mut all = world.cards.clone();
    all.push(alone.clone());
    let ids = |group: Vec<&CardRecord>| -> Vec<CardId> {
        group.into_iter().map(|card| card.card.id.clone()).collect()
    };
    assert_eq!(
        ids(linked_group(&all, &all[0])),
        [mobile_id(), physical_id()]
    );
    assert_eq!(
        ids(linked_group(&all, &all[1])),
        [mobile_id(), physical_id()]
    );
    assert_eq!(ids(linked_group(&all, &alone)), [alone.card.id.clone()]);
    let mut terminated = all.clone();
    terminated[1].card.status = CardStatus::Terminated;
    let group = linked_group(&terminated, &terminated[0]);
    let ended: Vec<_> = terminations(&group)
        .into_iter()
        .map(|change| (change.key, change.from_version, change.status))
        .collect();
    assert_eq!(
        ended,
        [
            (
                mobile_id(),
                3,
                terminated[0].as_is().with_status(CardStatus::Terminated)
            ),
            // Terminated already: written as it is, from the version read.
            (physical_id(), 5, terminated[1].as_is()),
        ]
    );
}

#[tokio::test]
async fn the_cards_are_read_before_the_applications_and_decided_on_as_read_then() {
    // The card the PAR names reads suspended, but the owner's cards, read next, show it
    // terminated by a reissue that committed in between: decided on those.
    let mut world = World::cards_in(CardStatus::Suspended);
    let (service, order) = {
        let order = Arc::new(Mutex::new(Vec::<&'static str>::new()));
        let mut cards = MockCardStore::new();
        let named = world.cards[0].clone();
        let noted = order.clone();
        cards.expect_card_by_par().returning(move |_, _| {
            noted.lock().unwrap().push("card");
            Ok(Some(named.clone()))
        });
        for card in &mut world.cards {
            card.card.status = CardStatus::Terminated;
            card.version += 1;
        }
        let owners = world.cards.clone();
        let noted = order.clone();
        cards.expect_cards_of_member().returning(move |_, _| {
            noted.lock().unwrap().push("cards");
            Ok(owners.clone())
        });
        world = world.replaced_by(
            ApplicationType::Reissue,
            ApplicationStatus::DigitalIssued,
            mobile_id(),
        );
        let harness = service(world);
        let mut ports = harness.service.ports.clone();
        ports.cards = Arc::new(cards);
        let mut applications = MockCardApplicationStore::new();
        let noted = order.clone();
        let held = vec![
            application(
                APPLICATION,
                ApplicationType::Issue,
                ApplicationStatus::Completed,
                None,
            ),
            application(
                "2612010300000000000002",
                ApplicationType::Reissue,
                ApplicationStatus::DigitalIssued,
                Some(mobile_id()),
            ),
        ];
        applications
            .expect_applications_of_member()
            .returning(move |_, _| {
                noted.lock().unwrap().push("applications");
                Ok(held.clone())
            });
        ports.applications = Arc::new(applications);
        (
            CardReplacementService::new(ports, harness.service.issuance.clone()),
            order,
        )
    };
    let result = service
        .reissue(&reissue_command(MOBILE_PAR, None, delivered()))
        .await;
    assert_eq!(result.unwrap_err().code().code(), "003_020");
    assert_eq!(
        *order.lock().unwrap(),
        ["card", "cards", "applications"],
        "the versions are read before the replacements"
    );
}
