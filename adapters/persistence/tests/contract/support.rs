//! Fresh databases and issuances for the contract cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{
    Clock, IdempotencyClaim, IdempotencyKey, IdempotentOperation, NewDelivery, NewIssuance,
    NewIssuedCard, PanFingerprint, ProtectedPan, RequestFingerprint, SealedAddress, SecretVault,
};
use prepaid_domain::{
    AddressDetail, ApplicationStatus, ApplicationType, AspId, Bin, CardApplication, CardApplyNo,
    CardId, CardKind, CardProduct, CardStatus, CorrelationId, DeliveryAddress, Expiry, IssuedCard,
    Member, MemberId, MemberStatus, Par, ProductName, ProductType, RoadAddress, SecretKey,
    ServiceId, Timestamp, Validity, ZipCode,
};
use prepaid_persistence::{Database, DatabaseConfig};

pub const NOW: i64 = 1_795_588_200_000;
pub const SERVICE_ID: &str = "000170000002000";

#[derive(Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// An open database and what keeps it alive (the temporary folder of an SQLite file).
pub struct TestDb {
    pub db: Database,
    pub config: DatabaseConfig,
    _dir: Option<tempfile::TempDir>,
}

pub fn open(backend: &Backend) -> TestDb {
    open_with(backend, |_| {})
}

/// Opens a database whose configuration `adjust` changed from the defaults.
pub fn open_with(backend: &Backend, adjust: impl FnOnce(&mut DatabaseConfig)) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let mut config =
                DatabaseConfig::new(dir.path().join("prepaid.sqlite3").display().to_string());
            adjust(&mut config);
            TestDb {
                db: Database::open(&config).expect("open SQLite"),
                config,
                _dir: Some(dir),
            }
        }
        Backend::Postgres(url) => {
            let mut config = DatabaseConfig::new(url.clone());
            adjust(&mut config);
            TestDb {
                db: Database::open(&config).expect("open PostgreSQL (is it reachable?)"),
                config,
                _dir: None,
            }
        }
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A value unique to this run and call, so that cases sharing one PostgreSQL database never
/// see each other's rows.
pub fn unique() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let nanos = u64::try_from(nanos % 1_000_000_000_000_000).unwrap();
    nanos + SEQUENCE.fetch_add(1, Ordering::SeqCst) * 1_000_003
}

pub fn alnum(seed: u64, length: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[usize::try_from(state % 36).unwrap()])
        })
        .collect()
}

pub fn address() -> DeliveryAddress {
    DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
        detail: AddressDetail::parse("101동 1001호").unwrap(),
        zip_code: ZipCode::parse("06236").unwrap(),
    }
}

pub fn product() -> CardProduct {
    CardProduct {
        id: ServiceId::parse(SERVICE_ID).unwrap(),
        name: ProductName::parse("Contract prepaid").unwrap(),
        bin: Bin::parse("943512").unwrap(),
        product_type: ProductType::Mobile,
        pre_issuance: true,
        giftable: false,
        validity: Validity::DEFAULT,
        active: true,
    }
}

/// A member (fresh id) of a fresh project (ASP id) and the product, saved.
pub async fn member_and_product(db: &Database) -> (String, MemberId) {
    let id = MemberId::new(unique() % MemberId::MAX + 1).unwrap();
    let asp_id = asp();
    db.save_product(product(), Timestamp::from_millis(NOW))
        .await
        .unwrap();
    save_member_in(db, &asp_id, id, MemberStatus::Active).await;
    (asp_id, id)
}

/// Saves member `id` of project `asp_id` with `status`.
pub async fn save_member_in(db: &Database, asp_id: &str, id: MemberId, status: MemberStatus) {
    db.save_member(
        &AspId::parse(asp_id).unwrap(),
        Member { id, status },
        Timestamp::from_millis(NOW),
    )
    .await
    .unwrap();
}

pub fn key(asp: &str, seed: u64) -> IdempotencyKey {
    IdempotencyKey {
        asp_id: AspId::parse(asp).unwrap(),
        correlation_id: CorrelationId::parse(&format!("261125153000-{:07x}", seed & 0x0fff_ffff))
            .unwrap(),
    }
}

pub fn asp() -> String {
    alnum(unique(), 15)
}

/// An issuance for `member` under `key`, with fresh numbers drawn from `seed`.
pub fn issuance(member: MemberId, key: IdempotencyKey, seed: u64, with_card: bool) -> NewIssuance {
    let number = CardApplyNo::parse(&format!("2026112506{}", alnum(seed, 12))).unwrap();
    let mut fingerprint = [0_u8; 32];
    fingerprint[..8].copy_from_slice(&seed.to_le_bytes());
    NewIssuance {
        claim: IdempotencyClaim {
            key,
            operation: IdempotentOperation::IssueAndDeliver,
            request_fingerprint: RequestFingerprint {
                key_id: format!("idx-{}", seed % 5),
                digest: [7; 32],
            },
            outcome: number.as_str().to_owned(),
            created_at: Timestamp::from_millis(NOW),
        },
        application: CardApplication {
            number,
            member,
            product: ServiceId::parse(SERVICE_ID).unwrap(),
            application_type: ApplicationType::Issue,
            status: if with_card {
                ApplicationStatus::DigitalIssued
            } else {
                ApplicationStatus::Ready
            },
            purpose: None,
            created_at: Timestamp::from_millis(NOW),
        },
        card: with_card.then(|| NewIssuedCard {
            card: IssuedCard {
                id: CardId::generate(Timestamp::from_millis(NOW), &mut {
                    let mut draws = [seed, seed.rotate_left(7)].into_iter();
                    move || draws.next().unwrap_or_default()
                }),
                par: Par::parse(&alnum(seed.rotate_left(19), 27)).unwrap(),
                owner: member,
                linked_to: None,
                expiry: Expiry::parse("3111").unwrap(),
                kind: CardKind::Mobile,
                status: CardStatus::Active,
            },
            protected_pan: ProtectedPan {
                key_id: "k1".into(),
                ciphertext: vec![1, 2, 3, 4],
            },
            pan_fingerprint: PanFingerprint {
                key_id: format!("idx-{}", seed % 3),
                digest: fingerprint,
            },
            cvk_id: format!("cvk-{}", seed % 7),
        }),
        replacing: None,
        delivery: Some(NewDelivery {
            address: SealedAddress {
                key_id: "k1".into(),
                ciphertext: format!("sealed address {seed}").into_bytes(),
            },
            created_at: Timestamp::from_millis(NOW),
        }),
    }
}

/// A vault for tests: "seals" by XOR with a context-derived byte after a byte naming its key
/// (the field), enough to show the secret is not stored as given, that the context is bound,
/// and which key sealed it.
pub struct XorVault(pub u8);

impl XorVault {
    fn mask(&self, context: &str) -> u8 {
        context
            .bytes()
            .fold(0x5A_u8 ^ self.0, |acc, byte| acc.rotate_left(3) ^ byte)
            | 1
    }
}

#[async_trait]
impl SecretVault for XorVault {
    fn seal(&self, secret: &SecretKey, context: &str) -> Result<Vec<u8>, PortError> {
        let mask = self.mask(context);
        Ok(std::iter::once(self.0)
            .chain(secret.expose().iter().map(|byte| byte ^ mask))
            .collect())
    }

    fn sealed_with_current_key(&self, sealed: &[u8]) -> bool {
        sealed.first() == Some(&self.0)
    }

    /// Unseals what any generation sealed (as a vault holding its old keys does).
    fn unseal(&self, sealed: &[u8], context: &str) -> Result<SecretKey, PortError> {
        let (&generation, rest) = sealed
            .split_first()
            .ok_or_else(|| PortError::msg("empty"))?;
        let mask = XorVault(generation).mask(context);
        let text: String = rest.iter().map(|byte| char::from(byte ^ mask)).collect();
        SecretKey::parse(&text).map_err(|error| PortError::new("unseal", error))
    }
}

/// A clock the case sets.
pub struct FixedClock(pub AtomicU64);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(i64::try_from(self.0.load(Ordering::SeqCst)).unwrap())
    }
}

pub fn clock(at: i64) -> Arc<FixedClock> {
    Arc::new(FixedClock(AtomicU64::new(u64::try_from(at).unwrap())))
}
