//! A test application: the real HTTP adapter and use cases over in-memory fakes of the ports.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::App;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use prepaid_application::ports::{
    AccessKeyState, CardApplicationStore, CardNumberSerials, CardNumbering, CardSecrets,
    CardVerification, Clock, CryptoKeyRef, DecryptError, DecryptedMessage, DeliveryStore,
    IdempotencyClaim, IdempotencyKey, IdempotencyRecord, IdempotencyStore, IdempotentOperation,
    JweProfile, MemberDirectory, MessageCipher, NewIssuance, NewIssuedCard, PanBinding,
    PanFingerprint, ProductCatalogue, Project, ProjectAccessKey, ProjectDelivery, ProjectDirectory,
    ProtectedPan, RandomSource, RecordError, ReplayGuard, RequestFingerprint, SealedAddress,
    SerialBlock, StoredApplication, StoredCard, StoredDelivery, StoredIssuance, TranTokenSigner,
};
use prepaid_application::{
    Authenticator, CancelApplicationService, CancelPorts, CardIssuanceService, CardLookupPorts,
    CardLookupService, CardManagementPorts, CardManagementService, DeliveryInquiryService,
    IssuancePorts, PortError, PreIssuedCardsPorts, PreIssuedCardsService, ProductInquiryService,
    Readiness, RegistrationPorts, RegistrationService,
};
use prepaid_domain::{
    AccessKey, AddressDetail, ApplicationStatus, ApplicationType, AspId, Bin, CardApplication,
    CardApplyNo, CardId, CardKind, CardProduct, CardStatus, CorrelationId, CryptoKeyId, Cvc,
    DateTime, DeliveryAddress, DeliveryHistory, DeliveryStatus, Expiry, IssuedCard, Member,
    MemberId, MemberStatus, Pan, Par, ProductName, ProductType, RequestWindow, RoadAddress,
    SecretKey, ServiceId, TimeZone, Timestamp, TranToken, Validity, ZipCode,
};
use prepaid_http::{HttpConfig, ISSUE_DELIVERY_PATH, InboundPorts};

pub const ASP: &str = "ASPSANDBOX00001";
pub const OTHER_ASP: &str = "ASPOTHER0000002";
pub const ACCESS_KEY: &str = "AK0000000000000000000000000000000000000A";
pub const INACTIVE_KEY: &str = "AK0000000000000000000000000000000000000I";
pub const DISCARDED_KEY: &str = "AK0000000000000000000000000000000000000D";
pub const OTHER_ASP_KEY: &str = "AK0000000000000000000000000000000000000O";
pub const SECRET: &str = "sandbox-secret-key-0123456789abcdef0123";
pub const CRYPTO_KEY: &str = "CK000000000000000000000000000001";
/// The other project's crypto key: known to the cipher, not the sandbox's.
pub const OTHER_CRYPTO_KEY: &str = "CK000000000000000000000000000002";
pub const NORMAL: &str = "000170000002000";
pub const MOBILE: &str = "000170000003000";
pub const PRE_ISSUED: &str = "000170000004000";
pub const GIFTABLE: &str = "000170000005000";
pub const INACTIVE_PRODUCT: &str = "000170000006000";
pub const ACTIVE_MEMBER: u64 = 1001;
pub const CANCELLED_MEMBER: u64 = 1002;
pub const LARGEST_MEMBER: u64 = 9_999_999_999_999_999_999;

/// 2026-11-25 15:30:00.250 KST = 06:30:00.250 UTC.
pub fn now_kst() -> DateTime {
    DateTime::with_millis(2026, 11, 25, 15, 30, 0, 250).unwrap()
}

pub fn now() -> Timestamp {
    now_kst().in_zone(TimeZone::Kst)
}

/// A keyed digest that stands in for HMAC-SHA256 (32 bytes, Base64 without padding).
pub fn fake_mac(secret: &[u8], body: &[u8]) -> String {
    let mut state = [0xcbf2_9ce4_8422_2325_u64; 4];
    for (index, byte) in secret.iter().chain(b"\0").chain(body).enumerate() {
        let lane = index % 4;
        state[lane] = (state[lane] ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let bytes: Vec<u8> = state.iter().flat_map(|lane| lane.to_le_bytes()).collect();
    STANDARD_NO_PAD.encode(bytes)
}

struct FakeSigner;

impl TranTokenSigner for FakeSigner {
    fn sign(&self, secret: &SecretKey, body: &[u8]) -> String {
        fake_mac(secret.expose(), body)
    }
    fn verify(&self, secret: &SecretKey, body: &[u8], signature: &str) -> bool {
        fake_mac(secret.expose(), body) == signature.trim_end_matches('=')
    }
}

/// "Encrypts" as `FAKE.<base64url plaintext>.<key id>`; enough to test the envelope handling.
/// A reversible stand-in for JWE; its first `failing_encryptions` encryptions fail.
#[derive(Default)]
pub struct FakeCipher {
    pub failing_encryptions: AtomicU64,
}

pub fn fake_encrypt(key_id: &str, plaintext: &[u8]) -> String {
    format!("FAKE.{}.{key_id}", URL_SAFE_NO_PAD.encode(plaintext))
}

pub fn fake_decrypt(compact: &str) -> Option<Vec<u8>> {
    let mut parts = compact.split('.');
    (parts.next()? == "FAKE").then_some(())?;
    URL_SAFE_NO_PAD.decode(parts.next()?).ok()
}

impl MessageCipher for FakeCipher {
    fn decrypt(
        &self,
        key_id: &CryptoKeyId,
        compact: &str,
    ) -> Result<DecryptedMessage, DecryptError> {
        if ![CRYPTO_KEY, OTHER_CRYPTO_KEY].contains(&key_id.as_str()) {
            return Err(DecryptError::UnknownKey);
        }
        let plaintext = fake_decrypt(compact).ok_or(DecryptError::Undecryptable)?;
        if !compact.ends_with(key_id.as_str()) {
            return Err(DecryptError::Undecryptable);
        }
        Ok(DecryptedMessage {
            plaintext,
            profile: JweProfile::DEFAULT,
        })
    }
    fn encrypt(
        &self,
        key_id: &CryptoKeyId,
        plaintext: &[u8],
        _: JweProfile,
    ) -> Result<String, PortError> {
        let failing =
            self.failing_encryptions
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                });
        if failing.is_ok() {
            return Err(PortError::msg("encryption failed"));
        }
        Ok(fake_encrypt(key_id.as_str(), plaintext))
    }
}

#[derive(Default)]
struct Directory;

#[async_trait]
impl ProjectDirectory for Directory {
    async fn find(&self, asp_id: &AspId) -> Result<Option<Project>, PortError> {
        let key = |access: &str, state| ProjectAccessKey {
            access_key: AccessKey::parse(access).unwrap(),
            secret_key: SecretKey::parse(SECRET).unwrap(),
            state,
        };
        Ok(match asp_id.as_str() {
            ASP => Some(Project {
                asp_id: asp_id.clone(),
                access_keys: vec![
                    key(ACCESS_KEY, AccessKeyState::Active),
                    key(INACTIVE_KEY, AccessKeyState::Inactive),
                    key(DISCARDED_KEY, AccessKeyState::Discarded),
                ],
                crypto_keys: vec![CryptoKeyRef {
                    id: CryptoKeyId::parse(CRYPTO_KEY).unwrap(),
                }],
                plaintext_allowed: true,
            }),
            OTHER_ASP => Some(Project {
                asp_id: asp_id.clone(),
                access_keys: vec![key(OTHER_ASP_KEY, AccessKeyState::Active)],
                crypto_keys: vec![CryptoKeyRef {
                    id: CryptoKeyId::parse(OTHER_CRYPTO_KEY).unwrap(),
                }],
                plaintext_allowed: false,
            }),
            _ => None,
        })
    }
}

#[derive(Default)]
pub struct Replays(Mutex<HashMap<String, String>>);

#[async_trait]
impl ReplayGuard for Replays {
    async fn bind(
        &self,
        asp: &AspId,
        token: &str,
        correlation_id: &CorrelationId,
        _expires_at: Timestamp,
    ) -> Result<bool, PortError> {
        let mut bindings = self.0.lock().unwrap();
        let bound = bindings
            .entry(format!("{asp}/{token}"))
            .or_insert_with(|| correlation_id.as_str().to_owned());
        Ok(bound == correlation_id.as_str())
    }
}

pub struct Catalogue;

fn product(
    id: &str,
    product_type: ProductType,
    pre_issuance: bool,
    giftable: bool,
    active: bool,
) -> CardProduct {
    CardProduct {
        id: ServiceId::parse(id).unwrap(),
        name: ProductName::parse("Test product").unwrap(),
        bin: Bin::parse("943512").unwrap(),
        product_type,
        pre_issuance,
        giftable,
        validity: Validity::DEFAULT,
        active,
    }
}

#[async_trait]
impl ProductCatalogue for Catalogue {
    async fn find(&self, id: &ServiceId) -> Result<Option<CardProduct>, PortError> {
        Ok(self
            .all()
            .await?
            .into_iter()
            .find(|product| product.id == *id))
    }

    async fn all(&self) -> Result<Vec<CardProduct>, PortError> {
        Ok(vec![
            product(NORMAL, ProductType::Normal, false, false, true),
            product(MOBILE, ProductType::Mobile, false, false, true),
            product(PRE_ISSUED, ProductType::Normal, true, false, true),
            product(GIFTABLE, ProductType::Mobile, false, true, true),
            product(INACTIVE_PRODUCT, ProductType::Mobile, false, false, false),
        ])
    }
}

pub struct Members;

#[async_trait]
impl MemberDirectory for Members {
    /// The members belong to the sandbox project `ASP`; other projects hold none.
    async fn find(&self, asp: &AspId, id: MemberId) -> Result<Option<Member>, PortError> {
        if asp.as_str() != ASP {
            return Ok(None);
        }
        Ok(match id.get() {
            ACTIVE_MEMBER | LARGEST_MEMBER => Some(Member {
                id,
                status: MemberStatus::Active,
            }),
            CANCELLED_MEMBER => Some(Member {
                id,
                status: MemberStatus::Cancelled,
            }),
            _ => None,
        })
    }
}

/// The recorded issuances, shared with the test.
#[derive(Clone, Default)]
pub struct Store(
    pub Arc<Mutex<Vec<NewIssuance>>>,
    /// The claims of the other state changes (a cancel's).
    pub Arc<Mutex<Vec<IdempotencyClaim>>>,
    /// Where deliveries went after `READY`, by application.
    pub Arc<Mutex<HashMap<CardApplyNo, DeliveryStatus>>>,
);

impl Store {
    /// A store holding the sandbox's fixture cards of member 1001, as the sandbox writes them:
    /// a lost card (suspended) and a card near expiry (this month, the fixed clock's).
    pub fn with_sandbox_cards() -> Self {
        let store = Self::default();
        for (seed, par, number, status, expiry) in [
            (
                1,
                "SANDBOXLOSTCARD000000000001",
                "9435129000000011",
                CardStatus::Suspended,
                "3111",
            ),
            (
                2,
                "SANDBOXEXPIRINGCARD00000001",
                "9435129000000029",
                CardStatus::Active,
                "2611",
            ),
        ] {
            store.add_fixture_card(seed, par, number, status, expiry);
        }
        for (seed, par, number) in [
            (3, "SANDBOXPRINTEDCARD000000001", "9435129000000037"),
            (4, "SANDBOXPRINTEDCARD000000002", "9435129000000045"),
        ] {
            store.add_fixture_card(seed, par, number, CardStatus::Inactive, "3111");
        }
        store
    }

    /// Adds a fixture card of member 1001 with its application: a mobile card of the MOBILE
    /// product, or (`Inactive`) a printed NORMAL card whose application and delivery are the
    /// sandbox's printed fixtures.
    fn add_fixture_card(
        &self,
        seed: u8,
        par: &str,
        number: &str,
        status: CardStatus,
        expiry: &str,
    ) {
        {
            let printed = status == CardStatus::Inactive;
            let pan = Pan::parse(number).unwrap();
            let id = CardId::parse(&format!("5a4db0c51057{seed:020}")).unwrap();
            let application = if printed {
                printed_fixture(
                    &CardApplyNo::parse(PRINTED_APPLICATIONS[usize::from(seed) - 3]).unwrap(),
                )
                .0
                .application
            } else {
                CardApplication {
                    number: CardApplyNo::parse(&format!("2026112400300000{seed}FIXTR")).unwrap(),
                    member: MemberId::new(ACTIVE_MEMBER).unwrap(),
                    product: ServiceId::parse(MOBILE).unwrap(),
                    application_type: ApplicationType::Issue,
                    status: ApplicationStatus::DigitalIssued,
                    purpose: None,
                    created_at: now(),
                }
            };
            self.0.lock().unwrap().push(NewIssuance {
                claim: IdempotencyClaim {
                    key: IdempotencyKey {
                        asp_id: AspId::parse(ASP).unwrap(),
                        correlation_id: CorrelationId::parse(&format!("261124120000-000000{seed}"))
                            .unwrap(),
                    },
                    operation: IdempotentOperation::IssueAndDeliver,
                    request_fingerprint: RequestFingerprint {
                        key_id: "idx-1".into(),
                        digest: [seed; 32],
                    },
                    outcome: application.number.as_str().to_owned(),
                    created_at: now(),
                },
                application,
                card: Some(NewIssuedCard {
                    protected_pan: Secrets.protect(&pan, PanBinding::Card(&id)).unwrap(),
                    pan_fingerprint: Secrets.fingerprint(&pan),
                    cvk_id: if printed { "sandbox-fixture" } else { "cvk-1" }.into(),
                    card: IssuedCard {
                        id,
                        par: Par::parse(par).unwrap(),
                        owner: MemberId::new(ACTIVE_MEMBER).unwrap(),
                        linked_to: None,
                        expiry: Expiry::parse(expiry).unwrap(),
                        kind: if printed {
                            CardKind::Physical
                        } else {
                            CardKind::Mobile
                        },
                        status,
                    },
                }),
                // A printed card's delivery is the printed fixture's (`fixture`).
                delivery: None,
                replacing: None,
            });
        }
    }
}

#[async_trait]
impl IdempotencyStore for Store {
    async fn find_record(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|issuance| issuance.claim.clone())
            .chain(self.1.lock().unwrap().iter().cloned())
            .find(|claim| claim.key == *key)
            .map(|claim| IdempotencyRecord {
                operation: claim.operation.as_str().to_owned(),
                request_fingerprint: claim.request_fingerprint,
                outcome: claim.outcome,
                created_at: claim.created_at,
            }))
    }
}

#[async_trait]
impl CardApplicationStore for Store {
    async fn application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredApplication>, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|issuance| {
                issuance.claim.key.asp_id == *asp_id && issuance.application.number == *number
            })
            .map(|issuance| StoredApplication {
                application: issuance.application.clone(),
                replaces: issuance
                    .replacing
                    .as_ref()
                    .map(|replacing| replacing.card.clone()),
                version: 0,
            })
            .or_else(|| fixture(asp_id, number).map(|(application, _)| application)))
    }

    async fn applications_of_member(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<StoredApplication>, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|issuance| {
                issuance.claim.key.asp_id == *asp_id && issuance.application.member == member
            })
            .map(|issuance| StoredApplication {
                application: issuance.application.clone(),
                replaces: issuance
                    .replacing
                    .as_ref()
                    .map(|replacing| replacing.card.clone()),
                version: 0,
            })
            .collect())
    }

    async fn find_issuance(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredIssuance>, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|issuance| {
                issuance.claim.key.asp_id == *asp_id && issuance.application.number == *number
            })
            .map(|issuance| StoredIssuance {
                application_number: issuance.application.number.clone(),
                card: issuance.card.as_ref().map(|card| StoredCard {
                    id: card.card.id.clone(),
                    par: card.card.par.clone(),
                    pan_bound_to_id: true,
                    expiry: card.card.expiry,
                    protected_pan: card.protected_pan.clone(),
                    cvk_id: card.cvk_id.clone(),
                }),
            }))
    }

    async fn record_issuance(&self, issuance: &NewIssuance) -> Result<(), RecordError> {
        let mut all = self.0.lock().unwrap();
        if all
            .iter()
            .map(|other| &other.claim)
            .chain(self.1.lock().unwrap().iter())
            .any(|claim| claim.key == issuance.claim.key)
        {
            return Err(RecordError::KeyTaken);
        }
        // The cards it replaces change with it, in its project only.
        if let Some(replacing) = &issuance.replacing {
            for other in all
                .iter_mut()
                .filter(|other| other.claim.key.asp_id == issuance.claim.key.asp_id)
            {
                if let Some(card) = &mut other.card
                    && let Some(moved) = replacing
                        .cards
                        .iter()
                        .find(|moved| moved.key == card.card.id)
                {
                    card.card.status = moved.status.status;
                }
            }
        }
        all.push(issuance.clone());
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for Store {
    async fn delivery(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Option<StoredDelivery>, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .find_map(|issuance| {
                let delivery = issuance.delivery.as_ref()?;
                let start = DeliveryHistory::start(delivery.created_at);
                (issuance.claim.key.asp_id == *asp_id && issuance.application.number == *number)
                    .then(|| StoredDelivery {
                        application: number.clone(),
                        address: None,
                        // The fake keeps the status only: a cancelled delivery went there at once.
                        history: match self.2.lock().unwrap().get(number) {
                            None => start,
                            Some(status) => start.advance(*status, delivery.created_at).unwrap(),
                        },
                        version: 0,
                    })
            })
            .or_else(|| fixture(asp_id, number).map(|(_, delivery)| delivery)))
    }

    async fn deliveries_in_progress(
        &self,
        _project: Option<AspId>,
        _limit: usize,
    ) -> Result<Vec<ProjectDelivery>, PortError> {
        Err(PortError::msg(
            "the ASP API never lists the partner's queue",
        ))
    }

    async fn project_of(&self, _number: &CardApplyNo) -> Result<Option<AspId>, PortError> {
        Err(PortError::msg(
            "the ASP API never looks an application up across projects",
        ))
    }
}

/// The sandbox's fixture application of the active member, as the declared scenarios name it:
/// applied 2026-11-24 09:30 KST, its delivery received at 10:00 and cancelled at 11:15.
fn fixture(asp_id: &AspId, number: &CardApplyNo) -> Option<(StoredApplication, StoredDelivery)> {
    if asp_id.as_str() != ASP {
        return None;
    }
    if PRINTED_APPLICATIONS.contains(&number.as_str()) {
        return Some(printed_fixture(number));
    }
    if number.as_str() != "20261124003000000DLVRY" {
        return None;
    }
    let kst = |hour, minute| {
        DateTime::new(2026, 11, 24, hour, minute, 0)
            .unwrap()
            .in_zone(TimeZone::Kst)
    };
    let history = DeliveryHistory::start(kst(9, 30))
        .advance(DeliveryStatus::Receipt, kst(10, 0))
        .and_then(|history| history.advance(DeliveryStatus::Cancel, kst(11, 15)))
        .unwrap();
    let application = CardApplication {
        number: number.clone(),
        member: MemberId::new(ACTIVE_MEMBER).unwrap(),
        product: ServiceId::parse(NORMAL).unwrap(),
        application_type: ApplicationType::Issue,
        status: ApplicationStatus::Cancelled,
        purpose: None,
        created_at: kst(9, 30),
    };
    let delivery = StoredDelivery {
        application: number.clone(),
        address: None,
        history,
        version: 2,
    };
    Some((
        StoredApplication {
            application,
            replaces: None,
            version: 1,
        },
        delivery,
    ))
}

/// The applications of the sandbox's printed fixture cards.
const PRINTED_APPLICATIONS: [&str; 2] = ["20261124003000003PRNTD", "20261124003000004PRNTD"];

/// A printed fixture card's application, `PHYSICAL_ISSUED`, its delivery shipped on 2026-11-24.
fn printed_fixture(number: &CardApplyNo) -> (StoredApplication, StoredDelivery) {
    let kst = |minute| {
        DateTime::new(2026, 11, 24, 13, minute, 0)
            .unwrap()
            .in_zone(TimeZone::Kst)
    };
    let history = DeliveryHistory::start(kst(0))
        .advance(DeliveryStatus::Receipt, kst(10))
        .and_then(|history| history.advance(DeliveryStatus::PreShipping, kst(20)))
        .and_then(|history| history.advance(DeliveryStatus::Shipping, kst(30)))
        .unwrap();
    (
        StoredApplication {
            application: CardApplication {
                number: number.clone(),
                member: MemberId::new(ACTIVE_MEMBER).unwrap(),
                product: ServiceId::parse(NORMAL).unwrap(),
                application_type: ApplicationType::Issue,
                status: ApplicationStatus::PhysicalIssued,
                purpose: None,
                created_at: kst(0),
            },
            replaces: None,
            version: 1,
        },
        StoredDelivery {
            application: number.clone(),
            address: None,
            history,
            version: 3,
        },
    )
}

pub struct Secrets;

impl CardSecrets for Secrets {
    fn protect(&self, pan: &Pan, _: PanBinding<'_>) -> Result<ProtectedPan, PortError> {
        Ok(ProtectedPan {
            key_id: "k".into(),
            ciphertext: pan.expose().bytes().rev().collect(),
        })
    }
    fn reveal(&self, protected: &ProtectedPan, _: PanBinding<'_>) -> Result<Pan, PortError> {
        let text: String = protected
            .ciphertext
            .iter()
            .rev()
            .map(|byte| char::from(*byte))
            .collect();
        Ok(Pan::parse(&text).unwrap())
    }
    /// The address's lines after its application's number, reversed: not the plaintext, and
    /// bound to the application.
    fn seal_address(
        &self,
        address: &DeliveryAddress,
        application: &CardApplyNo,
    ) -> Result<SealedAddress, PortError> {
        let text = format!(
            "{}\n{}\n{}\n{}",
            application.as_str(),
            address.address.as_str(),
            address.detail.as_str(),
            address.zip_code.as_str()
        );
        Ok(SealedAddress {
            key_id: "k".into(),
            ciphertext: text.bytes().rev().collect(),
        })
    }
    fn open_address(
        &self,
        sealed: &SealedAddress,
        application: &CardApplyNo,
    ) -> Result<DeliveryAddress, PortError> {
        let bytes: Vec<u8> = sealed.ciphertext.iter().rev().copied().collect();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(
            lines[0],
            application.as_str(),
            "sealed for another application"
        );
        Ok(DeliveryAddress {
            address: RoadAddress::parse(lines[1]).unwrap(),
            detail: AddressDetail::parse(lines[2]).unwrap(),
            zip_code: ZipCode::parse(lines[3]).unwrap(),
        })
    }
    fn fingerprint(&self, pan: &Pan) -> PanFingerprint {
        let mac = fake_mac(b"pan", pan.expose().as_bytes());
        let mut out = [0; 32];
        out.copy_from_slice(&STANDARD_NO_PAD.decode(mac).unwrap());
        PanFingerprint {
            key_id: "idx-1".into(),
            digest: out,
        }
    }
    fn request_fingerprint(&self, canonical: &str) -> RequestFingerprint {
        self.request_fingerprint_with("idx-1", canonical).unwrap()
    }
    fn request_fingerprint_with(
        &self,
        key_id: &str,
        canonical: &str,
    ) -> Option<RequestFingerprint> {
        let mac = fake_mac(key_id.as_bytes(), canonical.as_bytes());
        let mut out = [0; 32];
        out.copy_from_slice(&STANDARD_NO_PAD.decode(mac).unwrap());
        Some(RequestFingerprint {
            key_id: key_id.to_owned(),
            digest: out,
        })
    }
}

pub struct LastThree;

impl CardVerification for LastThree {
    fn current_key_id(&self) -> String {
        "cvk-1".to_owned()
    }

    fn derive(&self, key_id: &str, pan: &Pan, _: Expiry) -> Result<Cvc, PortError> {
        // The sandbox's printed fixture cards have their documented CVCs.
        let documented = match (key_id, pan.expose()) {
            ("sandbox-fixture", "9435129000000037") => "382",
            ("sandbox-fixture", "9435129000000045") => "804",
            _ => &pan.expose()[13..],
        };
        Ok(Cvc::parse(documented).unwrap())
    }
}

/// Account number = serial (a permutation all the same).
struct Identity;

impl CardNumbering for Identity {
    fn current_key_id(&self) -> String {
        "idx-1".to_owned()
    }

    fn account_number(&self, _: &str, _: &Bin, capacity: u64, serial: u64) -> Option<u64> {
        (serial < capacity).then_some(serial)
    }
}

/// Serials in order from 0.
#[derive(Default)]
struct Serials(AtomicU64);

#[async_trait]
impl CardNumberSerials for Serials {
    async fn reserve(
        &self,
        _: &Bin,
        count: u64,
        capacity: u64,
        key_id: &str,
    ) -> Result<SerialBlock, PortError> {
        let start = self.0.fetch_add(count, Ordering::SeqCst).min(capacity);
        Ok(SerialBlock {
            serials: start..(start + count).min(capacity),
            key_id: key_id.to_owned(),
        })
    }
}

struct Counter(AtomicU64);

impl RandomSource for Counter {
    fn next_u64(&self) -> u64 {
        self.0
            .fetch_add(1, Ordering::SeqCst)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Always ready.
struct Ready;

#[async_trait]
impl Readiness for Ready {
    async fn check_ready(&self) -> Result<(), PortError> {
        Ok(())
    }
}

/// An operator interface that knows no operator: every token is refused, and no partner
/// operation is ever reached.
pub fn no_operators() -> prepaid_http::OpsPorts {
    let mut operators = prepaid_application::MockAuthenticateOperators::new();
    operators
        .expect_authenticate()
        .returning(|_| Err(prepaid_application::OperatorAuthError::Refused));
    prepaid_http::OpsPorts {
        operators: Arc::new(operators),
        fulfilment: Arc::new(prepaid_application::MockFulfilDeliveries::new()),
    }
}

/// Every card holds nothing, as while no ledger is kept.
pub struct NoBalance;

#[async_trait::async_trait]
impl prepaid_application::ports::Balances for NoBalance {
    async fn balance(
        &self,
        _: &prepaid_domain::AspId,
        _: &prepaid_domain::CardId,
    ) -> Result<u64, prepaid_application::PortError> {
        Ok(0)
    }
}

/// The use cases over fakes, with the store shared for inspection, and `cipher`.
/// The reissues and renewals over `store`, recording through `issuance`.
fn replacements(
    store: &Store,
    issuance: &CardIssuanceService,
) -> Arc<prepaid_application::CardReplacementService> {
    Arc::new(prepaid_application::CardReplacementService::new(
        prepaid_application::ReplacementPorts {
            members: Arc::new(Members),
            products: Arc::new(Catalogue),
            applications: Arc::new(store.clone()),
            cards: Arc::new(store.clone()),
            idempotency: Arc::new(store.clone()),
            secrets: Arc::new(Secrets),
            clock: Arc::new(FixedClock(now())),
        },
        issuance.clone(),
    ))
}

pub fn ports_with(store: &Store, cipher: Arc<FakeCipher>) -> InboundPorts {
    let clock = Arc::new(FixedClock(now()));
    let issuance = CardIssuanceService::new(IssuancePorts {
        members: Arc::new(Members),
        products: Arc::new(Catalogue),
        store: Arc::new(store.clone()),
        idempotency: Arc::new(store.clone()),
        secrets: Arc::new(Secrets),
        verification: Arc::new(LastThree),
        random: Arc::new(Counter(AtomicU64::new(1))),
        clock: clock.clone(),
        numbering: Arc::new(Identity),
        serials: Arc::new(Serials::default()),
    });
    let authenticator = Authenticator::new(
        Arc::new(Directory),
        Arc::new(Replays::default()),
        Arc::new(FakeSigner),
        clock,
        RequestWindow::DEFAULT,
    );
    let look_ups = Arc::new(CardLookupService::new(CardLookupPorts {
        members: Arc::new(Members),
        applications: Arc::new(store.clone()),
        cards: Arc::new(store.clone()),
        products: Arc::new(Catalogue),
        balances: Arc::new(NoBalance),
        changes: Arc::new(store.clone()),
        secrets: Arc::new(Secrets),
        verification: Arc::new(LastThree),
        clock: Arc::new(FixedClock(now())),
    }));
    let cards = Arc::new(CardManagementService::new(CardManagementPorts {
        members: Arc::new(Members),
        cards: Arc::new(store.clone()),
        balances: Arc::new(NoBalance),
        applications: Arc::new(store.clone()),
        changes: Arc::new(store.clone()),
        idempotency: Arc::new(store.clone()),
        secrets: Arc::new(Secrets),
        clock: Arc::new(FixedClock(now())),
    }));
    let replacements = replacements(store, &issuance);
    let people = crate::people::People::with_fixtures();
    InboundPorts {
        authenticator: Arc::new(authenticator),
        issuance: Arc::new(issuance.clone()),
        products: Arc::new(ProductInquiryService::new(Arc::new(Catalogue))),
        deliveries: Arc::new(DeliveryInquiryService::new(
            Arc::new(Members),
            Arc::new(store.clone()),
            Arc::new(store.clone()),
        )),
        cancels: Arc::new(CancelApplicationService::new(CancelPorts {
            members: Arc::new(Members),
            applications: Arc::new(store.clone()),
            deliveries: Arc::new(store.clone()),
            cards: Arc::new(store.clone()),
            changes: Arc::new(store.clone()),
            idempotency: Arc::new(store.clone()),
            secrets: Arc::new(Secrets),
            clock: Arc::new(FixedClock(now())),
        })),
        pre_issued: Arc::new(PreIssuedCardsService::new(PreIssuedCardsPorts {
            members: Arc::new(Members),
            applications: Arc::new(store.clone()),
            deliveries: Arc::new(store.clone()),
            cards: Arc::new(store.clone()),
            products: Arc::new(Catalogue),
            secrets: Arc::new(Secrets),
            verification: Arc::new(LastThree),
        })),
        registrations: Arc::new(RegistrationService::new(
            RegistrationPorts {
                members: Arc::new(Members),
                applications: Arc::new(store.clone()),
                deliveries: Arc::new(store.clone()),
                cards: Arc::new(store.clone()),
                products: Arc::new(Catalogue),
                changes: Arc::new(store.clone()),
                idempotency: Arc::new(store.clone()),
                secrets: Arc::new(Secrets),
                verification: Arc::new(LastThree),
                clock: Arc::new(FixedClock(now())),
            },
            issuance.mint(),
        )),
        card_states: cards.clone(),
        discards: cards,
        replacements,
        look_ups,
        members: people.service(),
        cancellations: people.cancellations(store),
        ops: no_operators(),
        readiness: Arc::new(Ready),
        cipher,
        metrics: prepaid_http::ApiMetrics::new(),
    }
}

pub async fn app(
    store: Store,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    app_with(store, Arc::new(FakeCipher::default())).await
}

/// The application over `store` with `cipher`.
pub async fn app_with(
    store: Store,
    cipher: Arc<FakeCipher>,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    app_over(ports_with(&store, cipher)).await
}

/// The application over `ports`.
pub async fn app_over(
    ports: InboundPorts,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .configure(|config| prepaid_http::configure(config, &ports, &HttpConfig::default())),
    )
    .await
}

/// A signed request, built field by field so tests can change any part.
#[derive(Clone)]
pub struct Call {
    pub path: String,
    pub headers: Vec<(String, Option<String>)>,
    pub body: Vec<u8>,
    pub token_time: DateTime,
    pub secret: String,
    pub sign: bool,
    pub padded: bool,
    pub content_type: Option<String>,
}

impl Call {
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Self {
            path: ISSUE_DELIVERY_PATH.to_owned(),
            headers: vec![
                ("X-KM-User-AspId".into(), Some(ASP.into())),
                (
                    "X-KM-Correlation-Id".into(),
                    Some("261125153000-00000a1".into()),
                ),
                ("X-KM-Access-Key".into(), Some(ACCESS_KEY.into())),
                ("X-KM-Tran-Token".into(), None),
                ("X-KM-Tran-Time".into(), Some(now_kst().to_digits14())),
                ("X-KM-Time-Zone".into(), Some("KST".into())),
            ],
            body: body.into(),
            token_time: now_kst(),
            secret: SECRET.into(),
            sign: true,
            padded: false,
            content_type: Some("application/json".into()),
        }
    }

    pub fn header(mut self, name: &str, value: Option<&str>) -> Self {
        self.headers
            .retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        self.headers
            .push((name.to_owned(), value.map(str::to_owned)));
        if name.eq_ignore_ascii_case("X-KM-Tran-Token") {
            self.sign = false;
        }
        self
    }

    pub fn correlation(self, id: &str) -> Self {
        self.header("X-KM-Correlation-Id", Some(id))
    }

    pub fn token(&self) -> String {
        let mac = fake_mac(self.secret.as_bytes(), &self.body);
        let mac = if self.padded { format!("{mac}=") } else { mac };
        TranToken::compose(self.token_time, &mac)
    }

    pub fn request(&self) -> actix_http::Request {
        let mut request = TestRequest::post().uri(&self.path);
        for (name, value) in &self.headers {
            if name == "X-KM-Tran-Token" && self.sign {
                request = request.insert_header((name.as_str(), self.token()));
            } else if let Some(value) = value {
                request = request.insert_header((name.as_str(), value.as_str()));
            }
        }
        if let Some(content_type) = &self.content_type {
            request = request.insert_header(("Content-Type", content_type.as_str()));
        }
        request.set_payload(self.body.clone()).to_request()
    }
}

/// What came back.
pub struct Answer {
    pub status: u16,
    pub correlation_id: Option<String>,
    pub crypto_key_id: Option<String>,
    pub content_type: Option<String>,
    pub json: serde_json::Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["response"]["code"]
            .as_str()
            .unwrap_or("<no code>")
    }
    pub fn description(&self) -> &str {
        self.json["response"]["description"]
            .as_str()
            .unwrap_or("<no description>")
    }
    /// The plaintext envelope of an encrypted answer.
    pub fn decrypted(&self) -> serde_json::Value {
        let compact = self.json["encData"].as_str().expect("an encrypted answer");
        serde_json::from_slice(&fake_decrypt(compact).unwrap()).unwrap()
    }
}

pub async fn send<S, B>(app: &S, request: actix_http::Request) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let status = response.status().as_u16();
    let correlation_id = header("X-KM-Correlation-Id");
    let crypto_key_id = header("X-KM-Crypto-Key-Id");
    let content_type = header("Content-Type");
    let bytes = test::read_body(response).await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
    Answer {
        status,
        correlation_id,
        crypto_key_id,
        content_type,
        json,
    }
}

pub fn delivery_body(member: u64, service_id: &str) -> String {
    format!(
        r#"{{"userInfo":{{"userId":{member}}},"addressInfo":{{"address":"서울특별시 강남구 테헤란로 1","addressDetail":"101동 1001호","zipCode":"06236"}},"serviceId":"{service_id}","isDeliveryRequired":true}}"#
    )
}

pub fn mobile_body(member: u64, service_id: &str) -> String {
    format!(
        r#"{{"userInfo":{{"userId":{member}}},"serviceId":"{service_id}","isDeliveryRequired":false}}"#
    )
}
