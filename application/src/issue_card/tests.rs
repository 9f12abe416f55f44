//! Every branch of the issue-and-deliver use case, through mocked ports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use prepaid_domain::{
    AddressDetail, ApplicationStatus, AspId, Bin, CardProduct, CorrelationId, DeliveryAddress,
    DeliveryChoice, Member, MemberId, MemberStatus, ProductName, ProductType, Purpose, RoadAddress,
    ServiceId, Validity, ZipCode,
};

use super::*;
use crate::ports::{
    MockCardApplicationStore, MockCardNumberSerials, MockCardNumbering, MockCardSecrets,
    MockCardVerification, MockClock, MockIdempotencyStore, MockMemberDirectory,
    MockProductCatalogue, MockRandomSource, PanBinding, PanFingerprint, ProtectedPan,
    SealedAddress, SerialBlock, StoredCard, StoredIssuance, UniqueNumber,
};

const NORMAL: &str = "000170000002000";
const MOBILE: &str = "000170000003000";
const PRE_ISSUED: &str = "000170000004000";
const GIFTABLE: &str = "000170000005000";
const ACTIVE_MEMBER: u64 = 1001;
const CANCELLED_MEMBER: u64 = 1002;
/// 2026-11-25T06:30:00Z.
const NOW: i64 = 1_795_588_200_000;

fn product(id: &str, product_type: ProductType, pre_issuance: bool, giftable: bool) -> CardProduct {
    CardProduct {
        id: ServiceId::parse(id).unwrap(),
        name: ProductName::parse("Test prepaid").unwrap(),
        bin: Bin::parse("943512").unwrap(),
        product_type,
        pre_issuance,
        giftable,
        validity: Validity::DEFAULT,
        active: true,
    }
}

fn catalogue() -> Vec<CardProduct> {
    vec![
        product(NORMAL, ProductType::Normal, false, false),
        product(MOBILE, ProductType::Mobile, false, false),
        product(PRE_ISSUED, ProductType::Normal, true, false),
        product(GIFTABLE, ProductType::Mobile, false, true),
    ]
}

fn address() -> DeliveryAddress {
    DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: ZipCode::parse("06236").unwrap(),
    }
}

const ASP: &str = "ASP000000000001";

fn command(
    member: u64,
    service_id: &str,
    deliver: bool,
    purpose: Option<Purpose>,
) -> IssueCardCommand {
    IssueCardCommand {
        key: IdempotencyKey {
            asp_id: AspId::parse(ASP).unwrap(),
            correlation_id: CorrelationId::parse("261125153000-00a1b2f").unwrap(),
        },
        request: IssuanceRequest {
            member: MemberId::new(member).unwrap(),
            delivery: if deliver {
                DeliveryChoice::Deliver(address())
            } else {
                DeliveryChoice::MobileOnly
            },
            service_id: ServiceId::parse(service_id).unwrap(),
            purpose,
        },
    }
}

/// The mocks, with working defaults: a store that keeps what it records, a counter for
/// randomness, a reversible "encryption" and a fixed clock.
struct Fixture {
    members: MockMemberDirectory,
    products: MockProductCatalogue,
    store: MockCardApplicationStore,
    idempotency: MockIdempotencyStore,
    secrets: MockCardSecrets,
    verification: MockCardVerification,
    random: MockRandomSource,
    clock: MockClock,
    numbering: MockCardNumbering,
    serials: MockCardNumberSerials,
    recorded: Arc<Mutex<Vec<NewIssuance>>>,
}

/// CVCs that show the key they were derived with: the key's number, then the last two digits
/// of the PAN; new cards get `current`.
fn verification(current: &'static str) -> MockCardVerification {
    let mut verification = MockCardVerification::new();
    verification
        .expect_current_key_id()
        .returning(move || current.to_owned());
    verification.expect_derive().returning(|key_id, pan, _| {
        let number = key_id.strip_prefix("cvk-").unwrap();
        Ok(Cvc::parse(&format!("{number}{}", &pan.expose()[14..])).unwrap())
    });
    verification
}

/// A numbering that shows its input: account number = serial × 7 + 3 (inside the space for
/// the serials the tests use).
fn numbering() -> MockCardNumbering {
    let mut numbering = MockCardNumbering::new();
    numbering
        .expect_current_key_id()
        .returning(|| "idx-2".to_owned());
    numbering
        .expect_account_number()
        .returning(|_, _, capacity, serial| (serial < capacity).then_some(serial * 7 + 3));
    numbering
}

/// Serials handed out in order from `next`, in blocks as asked, up to the capacity.
fn serials(next: u64) -> MockCardNumberSerials {
    let next = Arc::new(AtomicU64::new(next));
    let mut serials = MockCardNumberSerials::new();
    serials
        .expect_reserve()
        .returning(move |_, count, capacity, key_id| {
            let start = next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |at| {
                    Some((at + count).min(capacity))
                })
                .unwrap();
            Ok(SerialBlock {
                serials: start.min(capacity)..(start + count).min(capacity),
                key_id: key_id.to_owned(),
            })
        });
    serials
}

/// A request's fingerprint under the index key `key_id`: another key, another fingerprint.
fn request_fingerprint(key_id: &str, text: &str) -> RequestFingerprint {
    RequestFingerprint {
        key_id: key_id.to_owned(),
        digest: fingerprint_of(&format!("{key_id}\u{1f}{text}")),
    }
}

/// The idempotency record `issuance` leaves.
fn record_of(issuance: &NewIssuance) -> IdempotencyRecord {
    IdempotencyRecord {
        operation: issuance.claim.operation.as_str().to_owned(),
        request_fingerprint: issuance.claim.request_fingerprint.clone(),
        outcome: issuance.claim.outcome.clone(),
        created_at: issuance.claim.created_at,
    }
}

/// A store of idempotency records that answers the claims of `recorded`.
fn records_of(recorded: &Arc<Mutex<Vec<NewIssuance>>>) -> MockIdempotencyStore {
    let kept = Arc::clone(recorded);
    let mut idempotency = MockIdempotencyStore::new();
    idempotency.expect_find_record().returning(move |key| {
        Ok(kept
            .lock()
            .unwrap()
            .iter()
            .find(|issuance| issuance.claim.key == *key)
            .map(record_of))
    });
    idempotency
}

/// What a store answers for `issuance` when it is looked up again.
fn stored(issuance: &NewIssuance) -> StoredIssuance {
    StoredIssuance {
        application_number: issuance.application.number.clone(),
        card: issuance.card.as_ref().map(|card| StoredCard {
            id: card.card.id.clone(),
            par: card.card.par.clone(),
            pan_bound_to_id: true,
            expiry: card.card.expiry,
            protected_pan: card.protected_pan.clone(),
            cvk_id: card.cvk_id.clone(),
        }),
    }
}

fn fingerprint_of(text: &str) -> [u8; 32] {
    let mut out = [0_u8; 32];
    for (index, byte) in text.bytes().enumerate() {
        out[index % 32] = out[index % 32].wrapping_mul(31).wrapping_add(byte);
    }
    out
}

/// A PAN "encrypted" by reversing its digits.
fn reversed(pan: &Pan) -> ProtectedPan {
    ProtectedPan {
        key_id: "k1".into(),
        ciphertext: pan.expose().bytes().rev().collect(),
    }
}

/// The PAN of [`reversed`].
fn unreversed(protected: &ProtectedPan) -> Pan {
    let digits: String = protected
        .ciphertext
        .iter()
        .rev()
        .map(|byte| char::from(*byte))
        .collect();
    Pan::parse(&digits).unwrap()
}

/// Card secrets with working fingerprints (under the current index key idx-2, or any key
/// asked for by name), and no PAN protection yet: each test adds its own.
fn secrets_without_pan_protection() -> MockCardSecrets {
    let mut secrets = MockCardSecrets::new();
    secrets
        .expect_fingerprint()
        .returning(|pan| PanFingerprint {
            key_id: "idx-2".into(),
            digest: fingerprint_of(pan.expose()),
        });
    secrets
        .expect_request_fingerprint()
        .returning(|text| request_fingerprint("idx-2", text));
    secrets
        .expect_request_fingerprint_with()
        .returning(|key_id, text| Some(request_fingerprint(key_id, text)));
    secrets
        .expect_seal_address()
        .returning(|address, application| Ok(sealed(address, application)));
    secrets
}

/// What the fake data key makes of `address` sealed for `application`: both, readable.
fn sealed(address: &DeliveryAddress, application: &CardApplyNo) -> SealedAddress {
    SealedAddress {
        key_id: "data-1".into(),
        ciphertext: format!(
            "{}|{}|{}|{}",
            application.as_str(),
            address.address.as_str(),
            address.detail.as_str(),
            address.zip_code.as_str()
        )
        .into_bytes(),
    }
}

impl Fixture {
    fn new() -> Self {
        let mut members = MockMemberDirectory::new();
        // The members belong to the project of `command`; another project holds none.
        members.expect_find().returning(|asp, id| {
            if asp.as_str() != ASP {
                return Ok(None);
            }
            Ok(match id.get() {
                ACTIVE_MEMBER => Some(Member {
                    id,
                    status: MemberStatus::Active,
                }),
                CANCELLED_MEMBER => Some(Member {
                    id,
                    status: MemberStatus::Cancelled,
                }),
                _ => None,
            })
        });
        let mut products = MockProductCatalogue::new();
        products
            .expect_find()
            .returning(|id| Ok(catalogue().into_iter().find(|product| product.id == *id)));

        let recorded = Arc::new(Mutex::new(Vec::<NewIssuance>::new()));
        let mut store = MockCardApplicationStore::new();
        let kept = Arc::clone(&recorded);
        store.expect_find_issuance().returning(move |asp, number| {
            Ok(kept
                .lock()
                .unwrap()
                .iter()
                .find(|issuance| {
                    issuance.claim.key.asp_id == *asp && issuance.application.number == *number
                })
                .map(stored))
        });
        let kept = Arc::clone(&recorded);
        store.expect_record_issuance().returning(move |issuance| {
            let mut all = kept.lock().unwrap();
            if all
                .iter()
                .any(|other| other.claim.key == issuance.claim.key)
            {
                return Err(RecordError::KeyTaken);
            }
            all.push(issuance.clone());
            Ok(())
        });

        let mut secrets = secrets_without_pan_protection();
        secrets
            .expect_protect()
            .returning(|pan, _| Ok(reversed(pan)));
        secrets
            .expect_reveal()
            .returning(|protected, _| Ok(unreversed(protected)));

        let verification = verification("cvk-2");

        let counter = Arc::new(AtomicU64::new(7));
        let mut random = MockRandomSource::new();
        random.expect_next_u64().returning(move || {
            counter
                .fetch_add(1, Ordering::SeqCst)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Timestamp::from_millis(NOW));

        Self {
            members,
            products,
            store,
            idempotency: records_of(&recorded),
            secrets,
            verification,
            random,
            clock,
            numbering: numbering(),
            serials: serials(0),
            recorded,
        }
    }

    fn service(self) -> (CardIssuanceService, Arc<Mutex<Vec<NewIssuance>>>) {
        let service = CardIssuanceService::new(IssuancePorts {
            members: Arc::new(self.members),
            products: Arc::new(self.products),
            store: Arc::new(self.store),
            idempotency: Arc::new(self.idempotency),
            secrets: Arc::new(self.secrets),
            verification: Arc::new(self.verification),
            random: Arc::new(self.random),
            clock: Arc::new(self.clock),
            numbering: Arc::new(self.numbering),
            serials: Arc::new(self.serials),
        });
        (service, self.recorded)
    }
}

fn error_code(result: Result<IssueCardOutcome, IssueCardError>) -> &'static str {
    result.unwrap_err().code().code()
}

// The six Test Data scenarios of the source page.

#[tokio::test]
async fn success_with_delivery_answers_the_application_number_and_creates_a_ready_delivery() {
    let (service, recorded) = Fixture::new().service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, NORMAL, true, None))
        .await
        .unwrap();

    assert_eq!(outcome.application_number.as_str().len(), 22);
    assert_eq!(
        outcome.mobile_card, None,
        "no pre-issuance: the mobile card comes later"
    );
    let recorded = recorded.lock().unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].application.status, ApplicationStatus::Ready);
    let delivery = recorded[0].delivery.as_ref().unwrap();
    assert_eq!(
        delivery.address,
        sealed(&address(), &recorded[0].application.number),
        "the address is sealed for its application"
    );
    assert_eq!(delivery.created_at, recorded[0].application.created_at);
    assert!(recorded[0].card.is_none());
}

#[tokio::test]
async fn success_with_a_mobile_card_only_answers_the_card_and_creates_no_delivery() {
    let (service, recorded) = Fixture::new().service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    let card = outcome.mobile_card.unwrap();
    assert!(card.pan.expose().starts_with("943512"));
    assert_eq!(card.expiry.to_yymm(), "3111");
    assert_eq!(
        card.cvc.expose(),
        format!("2{}", &card.pan.expose()[14..]),
        "derived from this card number with the current key"
    );
    let recorded = recorded.lock().unwrap();
    assert!(recorded[0].delivery.is_none());
    assert_eq!(
        recorded[0].application.status,
        ApplicationStatus::DigitalIssued
    );
    let stored = recorded[0].card.as_ref().unwrap();
    assert_eq!(stored.card.par, card.par);
    assert_ne!(
        stored.protected_pan.ciphertext,
        card.pan.expose().as_bytes()
    );
}

#[tokio::test]
async fn an_unknown_service_id_is_refused_with_000_002_and_nothing_is_recorded() {
    let (service, recorded) = Fixture::new().service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, "999999999999999", true, None))
        .await;

    let error = result.unwrap_err();
    assert_eq!(error.code().code(), "000_002");
    assert_eq!(error.field(), Some(Field::ServiceId));
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_non_member_is_refused_with_001_006() {
    let (service, recorded) = Fixture::new().service();

    let result = service
        .issue_and_deliver(command(424_242, NORMAL, true, None))
        .await;

    assert_eq!(error_code(result), "001_006");
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_member_of_another_project_is_refused_with_001_006_and_nothing_is_recorded() {
    let (service, recorded) = Fixture::new().service();
    let mut foreign = command(ACTIVE_MEMBER, MOBILE, false, None);
    foreign.key.asp_id = AspId::parse("ASP000000000002").unwrap();

    let result = service.issue_and_deliver(foreign).await;

    assert_eq!(error_code(result), "001_006");
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_cancelled_member_is_refused_with_001_006() {
    let (service, recorded) = Fixture::new().service();

    let result = service
        .issue_and_deliver(command(CANCELLED_MEMBER, NORMAL, true, None))
        .await;

    assert_eq!(error_code(result), "001_006");
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_normal_product_without_delivery_is_refused_with_003_024() {
    let (service, recorded) = Fixture::new().service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, NORMAL, false, None))
        .await;

    assert_eq!(error_code(result), "003_024");
    assert!(recorded.lock().unwrap().is_empty());
}

// Beyond the Test Data.

#[tokio::test]
async fn pre_issuance_with_delivery_issues_the_mobile_card_and_the_delivery() {
    let (service, recorded) = Fixture::new().service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, PRE_ISSUED, true, None))
        .await
        .unwrap();

    assert!(outcome.mobile_card.is_some());
    let recorded = recorded.lock().unwrap();
    assert!(recorded[0].delivery.is_some());
    assert!(recorded[0].card.is_some());
}

#[tokio::test]
async fn giftable_purpose_is_accepted_for_a_giftable_product_and_recorded() {
    let (service, recorded) = Fixture::new().service();

    let result = service
        .issue_and_deliver(command(
            ACTIVE_MEMBER,
            GIFTABLE,
            false,
            Some(Purpose::Giftable),
        ))
        .await;

    assert!(result.is_ok());
    assert_eq!(
        recorded.lock().unwrap()[0].application.purpose,
        Some(Purpose::Giftable)
    );
}

#[tokio::test]
async fn giftable_purpose_is_refused_for_a_product_that_is_not_giftable() {
    let (service, recorded) = Fixture::new().service();

    let result = service
        .issue_and_deliver(command(
            ACTIVE_MEMBER,
            MOBILE,
            false,
            Some(Purpose::Giftable),
        ))
        .await;

    let error = result.unwrap_err();
    assert_eq!(error.code().code(), "000_002");
    assert_eq!(error.field(), Some(Field::Purpose));
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_colliding_number_is_drawn_again() {
    let mut fixture = Fixture::new();
    let attempts = Arc::new(Mutex::new(Vec::<NewIssuance>::new()));
    fixture.store = MockCardApplicationStore::new();
    let seen = Arc::clone(&attempts);
    fixture
        .store
        .expect_record_issuance()
        .times(2)
        .returning(move |issuance| {
            let mut seen = seen.lock().unwrap();
            seen.push(issuance.clone());
            if seen.len() == 1 {
                Err(RecordError::NumberTaken(UniqueNumber::Pan))
            } else {
                Ok(())
            }
        });
    let (service, _) = fixture.service();

    let outcome = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await
        .unwrap();

    let attempts = attempts.lock().unwrap();
    let first = attempts[0].card.as_ref().unwrap();
    let second = attempts[1].card.as_ref().unwrap();
    assert_ne!(first.pan_fingerprint, second.pan_fingerprint);
    assert_eq!(outcome.mobile_card.unwrap().par, second.card.par);
}

#[tokio::test]
async fn a_failing_store_answers_a_system_error_and_records_nothing() {
    let mut fixture = Fixture::new();
    fixture.store = MockCardApplicationStore::new();
    fixture
        .store
        .expect_record_issuance()
        .returning(|_| Err(RecordError::Unavailable(PortError::msg("disk full"))));
    let (service, _) = fixture.service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await;

    assert!(matches!(result, Err(IssueCardError::Unavailable(_))));
    assert_eq!(
        error_code(
            service
                .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
                .await
        ),
        "000_099"
    );
}

#[tokio::test]
async fn a_failing_member_directory_answers_a_system_error_before_anything_is_drawn() {
    let mut fixture = Fixture::new();
    fixture.members = MockMemberDirectory::new();
    fixture
        .members
        .expect_find()
        .returning(|_, _| Err(PortError::msg("directory down")));
    fixture.store.expect_record_issuance().never();
    let (service, recorded) = fixture.service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, NORMAL, true, None))
        .await;

    assert_eq!(error_code(result), "000_099");
    assert!(recorded.lock().unwrap().is_empty());
}

#[tokio::test]
async fn numbers_that_never_stop_colliding_end_in_a_system_error() {
    let mut fixture = Fixture::new();
    fixture.store = MockCardApplicationStore::new();
    fixture
        .store
        .expect_record_issuance()
        .times(MAX_DRAWS)
        .returning(|_| Err(RecordError::NumberTaken(UniqueNumber::Par)));
    let (service, _) = fixture.service();

    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await;

    assert_eq!(error_code(result), "000_099");
}

mod cards;
mod numbers;
mod retries;
mod rotation;

/// The store refuses the issuance as stale (its member no longer active when it was written);
/// the directory answers the member active first, then as `later`.
fn member_leaving_during_the_issuance(later: Option<MemberStatus>) -> Fixture {
    let mut fixture = Fixture::new();
    let reads = Arc::new(AtomicU64::new(0));
    fixture.members = MockMemberDirectory::new();
    fixture.members.expect_find().returning(move |_, id| {
        let first = reads.fetch_add(1, Ordering::SeqCst) == 0;
        let status = if first {
            Some(MemberStatus::Active)
        } else {
            later
        };
        Ok(status.map(|status| Member { id, status }))
    });
    fixture.store = MockCardApplicationStore::new();
    fixture
        .store
        .expect_record_issuance()
        .times(1)
        .returning(|_| Err(RecordError::Stale));
    fixture
}

#[tokio::test]
async fn a_member_cancelled_while_their_card_is_made_is_refused_with_001_006() {
    for later in [Some(MemberStatus::Cancelled), None] {
        let (service, recorded) = member_leaving_during_the_issuance(later).service();
        let result = service
            .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
            .await;
        assert_eq!(error_code(result), "001_006", "{later:?}");
        assert!(recorded.lock().unwrap().is_empty());
    }
    // A stale write whose member is still active is the store's failure, not a refusal.
    let (service, _) = member_leaving_during_the_issuance(Some(MemberStatus::Active)).service();
    let result = service
        .issue_and_deliver(command(ACTIVE_MEMBER, MOBILE, false, None))
        .await;
    assert_eq!(error_code(result), "000_099");
}
