//! The sandbox (D11) and project provisioning: generated credentials and keys written to the
//! data folder (owner-only), and the fixtures of the source page's Test Data.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use prepaid_application::ports::{
    AccessKeyState, CardApplicationStore, CardSecrets, CardVerification, CryptoKeyRef,
    NewIssuedCard, PanBinding, Project, ProjectAccessKey, RandomSource, SecretVault,
    StoredApplication,
};
use prepaid_crypto::{CryptoKeyPair, OsRandom, generate_rsa_pem, random_hex};
use prepaid_domain::{
    AccessKey, AddressDetail, ApplicationStatus, ApplicationType, AspId, Bin, CardApplication,
    CardApplyNo, CardId, CardKind, CardProduct, CardStatus, CryptoKeyId, DateTime, DeliveryAddress,
    DeliveryHistory, DeliveryStatus, Expiry, IssuedCard, Member, MemberId, MemberStatus, Pan, Par,
    ProductName, ProductType, RoadAddress, SecretKey, ServiceId, TimeZone, Timestamp, Validity,
    ZipCode,
};
use prepaid_persistence::Database;
use serde::{Deserialize, Serialize};

use crate::StartupError;

mod members;

pub use members::{
    ACTIVE_CI, ACTIVE_LOGIN_ID, ACTIVE_PASSWORD, CANCELLED_LOGIN_ID, CANCELLED_PASSWORD,
    save_fixture_profiles,
};

/// Sandbox member who may apply (Test Data "success" scenarios).
pub const ACTIVE_MEMBER: u64 = 1001;
/// Sandbox member who cancelled membership (Test Data `001_006`).
pub const CANCELLED_MEMBER: u64 = 1002;
/// Sandbox member without cards, whose membership the Test Data cancels.
pub const LEAVING_MEMBER: u64 = 1003;
/// A NORMAL product without pre-issuance.
pub const NORMAL_PRODUCT: &str = "000170000002000";
/// A MOBILE product (mobile card alone allowed).
pub const MOBILE_PRODUCT: &str = "000170000003000";
/// A NORMAL product with pre-issuance.
pub const PRE_ISSUANCE_PRODUCT: &str = "000170000004000";
/// A MOBILE, giftable product.
pub const GIFTABLE_PRODUCT: &str = "000170000005000";
/// The sandbox BIN.
pub const SANDBOX_BIN: &str = "943512";

/// What a client needs to call the service, as written to the credentials file.
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCredentials {
    /// `X-KM-User-AspId`.
    pub asp_id: String,
    /// `X-KM-Access-Key`.
    pub access_key: String,
    /// The HMAC key of the tran token.
    pub secret_key: String,
    /// `X-KM-Crypto-Key-Id`.
    pub crypto_key_id: String,
    /// The server public key: requests are encrypted to it.
    pub server_public_key_pem: String,
    /// The client private key: responses are decrypted with it.
    pub client_private_key_pem: String,
    /// Where the service listens.
    pub base_url: String,
    /// The bearer token of the operator interface (`/ops/v1`), for the sandbox's partner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_token: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("asp_id", &self.asp_id)
            .field("access_key", &self.access_key)
            .field("crypto_key_id", &self.crypto_key_id)
            .finish_non_exhaustive()
    }
}

/// The sandbox's products (D11): one per Test Data scenario.
pub fn fixture_products() -> Vec<CardProduct> {
    let product = |id: &str, name: &str, product_type, pre_issuance, giftable| CardProduct {
        id: ServiceId::parse(id).unwrap_or_else(|_| unreachable!("fixture ids are valid")),
        name: ProductName::parse(name).unwrap_or_else(|_| unreachable!("fixture names are valid")),
        bin: Bin::parse(SANDBOX_BIN).unwrap_or_else(|_| unreachable!("the fixture BIN is valid")),
        product_type,
        pre_issuance,
        giftable,
        validity: Validity::DEFAULT,
        active: true,
    };
    vec![
        product(
            NORMAL_PRODUCT,
            "Sandbox NORMAL prepaid card",
            ProductType::Normal,
            false,
            false,
        ),
        product(
            MOBILE_PRODUCT,
            "Sandbox MOBILE prepaid card",
            ProductType::Mobile,
            false,
            false,
        ),
        product(
            PRE_ISSUANCE_PRODUCT,
            "Sandbox pre-issued prepaid card",
            ProductType::Normal,
            true,
            false,
        ),
        product(
            GIFTABLE_PRODUCT,
            "Sandbox giftable mobile card",
            ProductType::Mobile,
            false,
            true,
        ),
    ]
}

/// The sandbox's members, in the sandbox project `asp_id`: one active, one cancelled, and one
/// active without cards for the membership cancellation's Test Data.
pub async fn save_fixture_members(
    db: &Database,
    asp_id: &str,
    now: Timestamp,
) -> Result<(), StartupError> {
    let asp_id = AspId::parse(asp_id).map_err(|_| StartupError::Fixture("sandbox ASP id"))?;
    for (id, status) in [
        (ACTIVE_MEMBER, MemberStatus::Active),
        (CANCELLED_MEMBER, MemberStatus::Cancelled),
        (LEAVING_MEMBER, MemberStatus::Active),
    ] {
        let id = MemberId::new(id).map_err(|_| StartupError::Fixture("member id"))?;
        db.save_member(&asp_id, Member { id, status }, now).await?;
    }
    Ok(())
}

/// The sandbox's application whose delivery was received and then cancelled with it, on
/// 2026-11-24 (KST): the delivery inquiry's documented example.
pub const DELIVERED_APPLICATION: &str = "20261124003000000DLVRY";

/// The sandbox's fixture applications of the active member, each written once with its whole
/// past, at fixed times, so that the documented examples are the sandbox's own answers.
pub async fn save_fixture_applications(
    db: &Database,
    secrets: &dyn CardSecrets,
    asp_id: &str,
) -> Result<(), StartupError> {
    let fixture = |what| StartupError::Fixture(what);
    let asp_id = AspId::parse(asp_id).map_err(|_| fixture("sandbox ASP id"))?;
    let kst = |hour, minute| {
        DateTime::new(2026, 11, 24, hour, minute, 0)
            .map(|civil| civil.in_zone(TimeZone::Kst))
            .ok_or(fixture("fixture time"))
    };
    let applied = kst(9, 30)?;
    let application = StoredApplication {
        application: CardApplication {
            number: CardApplyNo::parse(DELIVERED_APPLICATION)
                .map_err(|_| fixture("application number"))?,
            member: MemberId::new(ACTIVE_MEMBER).map_err(|_| fixture("member id"))?,
            product: ServiceId::parse(NORMAL_PRODUCT).map_err(|_| fixture("product"))?,
            application_type: ApplicationType::Issue,
            status: ApplicationStatus::Cancelled,
            purpose: None,
            created_at: applied,
        },
        // One change: READY to CANCELLED.
        replaces: None,
        version: 1,
    };
    let address = DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1")
            .map_err(|_| fixture("address"))?,
        detail: AddressDetail::parse("101동 1001호").map_err(|_| fixture("address"))?,
        zip_code: ZipCode::parse("06236").map_err(|_| fixture("address"))?,
    };
    let (received, cancelled) = (kst(10, 0)?, kst(11, 15)?);
    let history = DeliveryHistory::start(applied)
        .advance(DeliveryStatus::Receipt, received)
        .and_then(|history| history.advance(DeliveryStatus::Cancel, cancelled))
        .map_err(|_| fixture("delivery history"))?;
    let address = secrets
        .seal_address(&address, &application.application.number)
        .map_err(|_| fixture("sealing the fixture's address"))?;
    let added = db
        .save_fixture_application(&asp_id, &application, &address, &history)
        .await?;
    // Application numbers are unique across the service: a sandbox sharing its database with
    // an earlier sandbox project finds the number taken by that project, whose fixture it is.
    if !added
        && CardApplicationStore::application(db, &asp_id, &application.application.number)
            .await
            .map_err(|_| fixture("reading the fixture application"))?
            .is_none()
    {
        tracing::warn!(
            application = DELIVERED_APPLICATION,
            "another project holds the sandbox's fixture application: its documented delivery inquiry answers 003_001 here"
        );
    }
    Ok(())
}

/// The sandbox's card reported lost: a mobile card of member 1001 (MOBILE product), `SUSPENDED`,
/// for the reissue's documented success. Reissued once, it stays terminated.
pub const LOST_CARD_PAR: &str = "SANDBOXLOSTCARD000000000001";
/// Its number.
pub const LOST_CARD_NO: &str = "9435129000000011";
/// Its application.
pub const LOST_CARD_APPLICATION: &str = "20261124003000001LOSTC";
/// Its id.
const LOST_CARD_ID: &str = "5a4db0c5105700000000000000000001";

/// The sandbox's card near expiry: a mobile card of member 1001 (MOBILE product), `ACTIVE`,
/// expiring at the end of the month of each start (KST) until it is renewed, for the renewal's
/// documented success.
pub const EXPIRING_CARD_PAR: &str = "SANDBOXEXPIRINGCARD00000001";
/// Its number.
pub const EXPIRING_CARD_NO: &str = "9435129000000029";
/// Its application.
pub const EXPIRING_CARD_APPLICATION: &str = "20261124003000002EXPRC";
/// Its id.
const EXPIRING_CARD_ID: &str = "5a4db0c5105700000000000000000002";

/// The applications of the sandbox's printed fixture cards.
pub const PRINTED_CARD_APPLICATIONS: [&str; 2] =
    ["20261124003000003PRNTD", "20261124003000004PRNTD"];

/// Every application the sandbox writes as a fixture, each once with its past.
pub const FIXTURE_APPLICATIONS: [&str; 5] = [
    DELIVERED_APPLICATION,
    LOST_CARD_APPLICATION,
    EXPIRING_CARD_APPLICATION,
    PRINTED_CARD_APPLICATIONS[0],
    PRINTED_CARD_APPLICATIONS[1],
];

/// The sandbox's produced physical card that no one registered yet, for the unregistered card
/// inquiry: a NORMAL card of member 1001, shipped, `INACTIVE`, expiry `3111`, CVC
/// [`PRINTED_CARD_CVC`].
pub const PRINTED_CARD_NO: &str = "9435129000000037";
/// Another one, for the registration's documented success (registered once, it is active).
pub const REGISTRABLE_CARD_NO: &str = "9435129000000045";
/// The printed expiry of both.
pub const PRINTED_CARD_EXPIRY: &str = "3111";
/// The CVC printed on [`PRINTED_CARD_NO`], derived with the fixture key.
pub const PRINTED_CARD_CVC: &str = "382";
/// The CVC printed on [`REGISTRABLE_CARD_NO`], derived with the fixture key.
pub const REGISTRABLE_CARD_CVC: &str = "804";
/// The id of the public card verification key the printed fixture cards' CVCs derive with.
pub const FIXTURE_CVK_ID: &str = "sandbox-fixture";
/// That key (the sandbox's only: every other card's CVC derives from its own generated key).
const FIXTURE_CVK: &str = "4C1B2A3F5E6D7C8B9A0F1E2D3C4B5A69";

/// The fixture key as `keys.retired_card_verification_keys` names a key: `id:hex`.
pub fn fixture_card_verification_key() -> String {
    format!("{FIXTURE_CVK_ID}:{FIXTURE_CVK}")
}

/// The sandbox's fixture cards of the active member (a lost card, a card near expiry), each
/// written once with its application, its number protected and fingerprinted with the
/// sandbox's keys; the card near expiry is kept expiring this month (KST) until it is renewed.
/// Their numbers lie outside the allocated serials' reach only by chance: a number taken is
/// passed over by the mint.
pub async fn save_fixture_cards(
    db: &Database,
    (secrets, verification): (&dyn CardSecrets, &dyn CardVerification),
    asp_id: &str,
    now: Timestamp,
) -> Result<(), StartupError> {
    let fixture = |what| StartupError::Fixture(what);
    let asp_id = AspId::parse(asp_id).map_err(|_| fixture("sandbox ASP id"))?;
    let member = MemberId::new(ACTIVE_MEMBER).map_err(|_| fixture("member id"))?;
    let issued = DateTime::new(2026, 11, 24, 12, 0, 0)
        .map(|civil| civil.in_zone(TimeZone::Kst))
        .ok_or(fixture("fixture time"))?;
    let today = now.civil(TimeZone::Kst).ok_or(fixture("fixture time"))?;
    let this_month = Expiry::parse(&format!("{:02}{:02}", today.year() % 100, today.month()))
        .map_err(|_| fixture("fixture expiry"))?;
    let in_five_years =
        Expiry::from_issue_instant(issued, Validity::DEFAULT).ok_or(fixture("fixture expiry"))?;
    for (par, number, application, status, expiry, id) in [
        (
            LOST_CARD_PAR,
            LOST_CARD_NO,
            LOST_CARD_APPLICATION,
            CardStatus::Suspended,
            in_five_years,
            LOST_CARD_ID,
        ),
        (
            EXPIRING_CARD_PAR,
            EXPIRING_CARD_NO,
            EXPIRING_CARD_APPLICATION,
            CardStatus::Active,
            this_month,
            EXPIRING_CARD_ID,
        ),
    ] {
        let id = CardId::parse(id).map_err(|_| fixture("card id"))?;
        let pan = Pan::parse(number).map_err(|_| fixture("card number"))?;
        let card = NewIssuedCard {
            protected_pan: secrets
                .protect(&pan, PanBinding::Card(&id))
                .map_err(|_| fixture("protecting a fixture card's number"))?,
            pan_fingerprint: secrets.fingerprint(&pan),
            cvk_id: verification.current_key_id(),
            card: IssuedCard {
                id: id.clone(),
                par: Par::parse(par).map_err(|_| fixture("card PAR"))?,
                owner: member,
                linked_to: None,
                expiry,
                kind: CardKind::Mobile,
                status,
            },
        };
        let application = StoredApplication {
            application: CardApplication {
                number: CardApplyNo::parse(application)
                    .map_err(|_| fixture("application number"))?,
                member,
                product: ServiceId::parse(MOBILE_PRODUCT).map_err(|_| fixture("product"))?,
                application_type: ApplicationType::Issue,
                status: ApplicationStatus::DigitalIssued,
                purpose: None,
                created_at: issued,
            },
            replaces: None,
            version: 0,
        };
        db.save_fixture_card(&asp_id, &application, &card, None)
            .await?;
    }
    save_printed_fixture_cards(db, secrets, &asp_id, member).await?;
    let expiring = CardId::parse(EXPIRING_CARD_ID).map_err(|_| fixture("card id"))?;
    db.keep_fixture_card_expiring(&asp_id, &expiring, this_month)
        .await?;
    Ok(())
}

/// The sandbox's printed fixture cards: NORMAL applications of `member` whose physical card was
/// produced and shipped on 2026-11-24 (KST), not registered, its CVC derived with the fixture
/// key.
async fn save_printed_fixture_cards(
    db: &Database,
    secrets: &dyn CardSecrets,
    asp_id: &AspId,
    member: MemberId,
) -> Result<(), StartupError> {
    let fixture = |what| StartupError::Fixture(what);
    let kst = |hour, minute| {
        DateTime::new(2026, 11, 24, hour, minute, 0)
            .map(|civil| civil.in_zone(TimeZone::Kst))
            .ok_or(fixture("fixture time"))
    };
    let address = DeliveryAddress {
        address: RoadAddress::parse("서울특별시 강남구 테헤란로 1")
            .map_err(|_| fixture("address"))?,
        detail: AddressDetail::parse("101동 1001호").map_err(|_| fixture("address"))?,
        zip_code: ZipCode::parse("06236").map_err(|_| fixture("address"))?,
    };
    let (received, produced, shipped) = (kst(13, 10)?, kst(13, 20)?, kst(13, 30)?);
    let history = DeliveryHistory::start(kst(13, 0)?)
        .advance(DeliveryStatus::Receipt, received)
        .and_then(|history| history.advance(DeliveryStatus::PreShipping, produced))
        .and_then(|history| history.advance(DeliveryStatus::Shipping, shipped))
        .map_err(|_| fixture("delivery history"))?;
    let expiry = Expiry::parse(PRINTED_CARD_EXPIRY).map_err(|_| fixture("fixture expiry"))?;
    for (number, par, application, id) in [
        (
            PRINTED_CARD_NO,
            "SANDBOXPRINTEDCARD000000001",
            PRINTED_CARD_APPLICATIONS[0],
            "5a4db0c5105700000000000000000003",
        ),
        (
            REGISTRABLE_CARD_NO,
            "SANDBOXPRINTEDCARD000000002",
            PRINTED_CARD_APPLICATIONS[1],
            "5a4db0c5105700000000000000000004",
        ),
    ] {
        let id = CardId::parse(id).map_err(|_| fixture("card id"))?;
        let pan = Pan::parse(number).map_err(|_| fixture("card number"))?;
        let stored = StoredApplication {
            application: CardApplication {
                number: CardApplyNo::parse(application)
                    .map_err(|_| fixture("application number"))?,
                member,
                product: ServiceId::parse(NORMAL_PRODUCT).map_err(|_| fixture("product"))?,
                application_type: ApplicationType::Issue,
                status: ApplicationStatus::PhysicalIssued,
                purpose: None,
                created_at: kst(13, 0)?,
            },
            replaces: None,
            // One change: READY to PHYSICAL_ISSUED.
            version: 1,
        };
        let card = NewIssuedCard {
            protected_pan: secrets
                .protect(&pan, PanBinding::Card(&id))
                .map_err(|_| fixture("protecting a fixture card's number"))?,
            pan_fingerprint: secrets.fingerprint(&pan),
            cvk_id: FIXTURE_CVK_ID.to_owned(),
            card: IssuedCard {
                id,
                par: Par::parse(par).map_err(|_| fixture("card PAR"))?,
                owner: member,
                linked_to: None,
                expiry,
                kind: CardKind::Physical,
                status: CardStatus::Inactive,
            },
        };
        let sealed = secrets
            .seal_address(&address, &stored.application.number)
            .map_err(|_| fixture("sealing the fixture's address"))?;
        db.save_fixture_card(asp_id, &stored, &card, Some((&sealed, &history)))
            .await?;
    }
    Ok(())
}

/// Writes `contents` to `path`, readable and writable by the owner only.
///
/// The file appears whole or not at all: the contents go to a temporary file beside it
/// (`<name>.tmp`), which is flushed to disk and then renamed over `path`, and the folder is
/// flushed so that the rename survives a crash. A start killed half-way leaves at most a
/// temporary file, which the next start removes ([`remove_stale_temporaries`]).
pub fn write_private(path: &Path, contents: &str) -> Result<(), StartupError> {
    let io = |error| StartupError::io(path, error);
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io)?;
    let mut temporary_name = path.file_name().unwrap_or_default().to_owned();
    temporary_name.push(TEMPORARY_SUFFIX);
    let temporary = parent.join(temporary_name);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(io)?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    drop(file);
    fs::rename(&temporary, path).map_err(io)?;
    fs::File::open(parent)
        .and_then(|folder| folder.sync_all())
        .map_err(io)
}

/// What [`write_private`] appends to a file's name while it is being written.
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Removes what an interrupted [`write_private`] left in the data folder and its keys folder:
/// temporary files, never read, that may hold a key.
///
/// # Errors
/// [`StartupError`] when a folder cannot be read or a file removed.
pub fn remove_stale_temporaries(data_dir: &Path) -> Result<(), StartupError> {
    for folder in [data_dir.to_owned(), keys_dir(data_dir)] {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .map_err(|error| StartupError::io(&folder, error))?
                .path();
            if path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(TEMPORARY_SUFFIX))
            {
                fs::remove_file(&path).map_err(|error| StartupError::io(&path, error))?;
            }
        }
    }
    Ok(())
}

/// `length` random upper-case letters and digits.
pub fn random_alphanumeric(length: usize) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let random = OsRandom;
    (0..length)
        .map(|_| char::from(ALPHABET[usize::try_from(random.next_u64() % 36).unwrap_or(0)]))
        .collect()
}

/// The folder of crypto key files.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

fn server_key_path(keys_dir: &Path, id: &str) -> PathBuf {
    keys_dir.join(format!("{id}.server.key.pem"))
}

fn client_key_path(keys_dir: &Path, id: &str) -> PathBuf {
    keys_dir.join(format!("{id}.client.pub.pem"))
}

/// Creates a project with a fresh access key, secret key and crypto key pair; stores it and
/// its key files, and returns what its client needs.
pub async fn create_project(
    db: &Database,
    vault: Arc<dyn SecretVault>,
    data_dir: &Path,
    plaintext_allowed: bool,
    base_url: &str,
    now: Timestamp,
) -> Result<ClientCredentials, StartupError> {
    let bad = |_| StartupError::Fixture("generated credentials");
    let asp_id = AspId::parse(&random_alphanumeric(AspId::LENGTH)).map_err(bad)?;
    let access_key = AccessKey::parse(&random_alphanumeric(AccessKey::LENGTH)).map_err(bad)?;
    let secret_text = random_hex(20).map_err(StartupError::Crypto)?;
    let secret_key =
        SecretKey::parse(&secret_text).map_err(|_| StartupError::Fixture("secret key"))?;
    let crypto_key_id =
        CryptoKeyId::parse(&random_alphanumeric(CryptoKeyId::LENGTH)).map_err(bad)?;
    let (server_private, server_public) = generate_rsa_pem(2048).map_err(StartupError::Crypto)?;
    let (client_private, client_public) = generate_rsa_pem(2048).map_err(StartupError::Crypto)?;

    // The client key first: a pair is found by its server key file, so a start killed between
    // the two leaves a lone client key, which nothing reads, never a server key without its
    // client key. The project is stored after both, and its credentials file after that: a
    // start killed before the file is written leaves a project nobody holds credentials for,
    // and the next start makes a new one.
    let keys = keys_dir(data_dir);
    write_private(
        &client_key_path(&keys, crypto_key_id.as_str()),
        &client_public,
    )?;
    write_private(
        &server_key_path(&keys, crypto_key_id.as_str()),
        &server_private,
    )?;
    let project = Project {
        asp_id: asp_id.clone(),
        access_keys: vec![ProjectAccessKey {
            access_key: access_key.clone(),
            secret_key,
            state: AccessKeyState::Active,
        }],
        crypto_keys: vec![CryptoKeyRef {
            id: crypto_key_id.clone(),
        }],
        plaintext_allowed,
    };
    db.save_project(project, vault, now).await?;
    Ok(ClientCredentials {
        asp_id: asp_id.as_str().to_owned(),
        access_key: access_key.as_str().to_owned(),
        secret_key: secret_text,
        crypto_key_id: crypto_key_id.as_str().to_owned(),
        server_public_key_pem: server_public,
        client_private_key_pem: client_private,
        base_url: base_url.to_owned(),
        operator_token: None,
    })
}

/// Every crypto key pair found in the keys folder.
pub fn load_key_pairs(data_dir: &Path) -> Result<Vec<CryptoKeyPair>, StartupError> {
    let keys = keys_dir(data_dir);
    let Ok(entries) = fs::read_dir(&keys) else {
        return Ok(Vec::new());
    };
    let mut pairs = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|error| StartupError::io(&keys, error))?
            .path();
        let Some(id) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".server.key.pem"))
        else {
            continue;
        };
        let read = |path: PathBuf| {
            fs::read_to_string(&path).map_err(|error| StartupError::io(path, error))
        };
        // A server key alone is what a start killed between the two files left (before the
        // client key was written first): its project was never stored, so nothing uses it.
        if !client_key_path(&keys, id).exists() {
            tracing::warn!(
                crypto_key_id = id,
                "server key without its client key skipped (an interrupted start left it)"
            );
            continue;
        }
        pairs.push(CryptoKeyPair {
            id: CryptoKeyId::parse(id)
                .map_err(|_| StartupError::Fixture("crypto key file name"))?,
            server_private_pem: read(server_key_path(&keys, id))?,
            client_public_pem: read(client_key_path(&keys, id))?,
        });
    }
    Ok(pairs)
}

/// The master keys of the sandbox, generated into `<data_dir>/master-keys.toml` on first start.
pub fn sandbox_master_keys(data_dir: &Path) -> Result<crate::config::KeySettings, StartupError> {
    #[derive(Deserialize, Serialize)]
    struct Stored {
        data_key_id: String,
        data_key: String,
        index_key: String,
        card_verification_key: String,
        /// Added later: a sandbox made before has none until its next start writes one.
        #[serde(default)]
        secret_kek: Option<String>,
        /// Added later, as the key-encryption key was.
        #[serde(default)]
        password_pepper: Option<String>,
    }
    let path = data_dir.join("master-keys.toml");
    let (mut stored, mut changed) = if path.exists() {
        let text = fs::read_to_string(&path).map_err(|error| StartupError::io(&path, error))?;
        let stored = toml::from_str::<Stored>(&text)
            .map_err(|_| StartupError::Fixture("master-keys.toml"))?;
        (stored, false)
    } else {
        let stored = Stored {
            data_key_id: format!("sandbox-{}", random_alphanumeric(8).to_ascii_lowercase()),
            data_key: random_hex(32).map_err(StartupError::Crypto)?,
            index_key: random_hex(32).map_err(StartupError::Crypto)?,
            card_verification_key: random_hex(16).map_err(StartupError::Crypto)?,
            secret_kek: None,
            password_pepper: None,
        };
        (stored, true)
    };
    if stored.secret_kek.is_none() {
        stored.secret_kek = Some(random_hex(32).map_err(StartupError::Crypto)?);
        changed = true;
    }
    if stored.password_pepper.is_none() {
        stored.password_pepper = Some(random_hex(32).map_err(StartupError::Crypto)?);
        changed = true;
    }
    if changed {
        let text = toml::to_string(&stored).map_err(|_| StartupError::Fixture("master keys"))?;
        write_private(
            &path,
            &format!(
                "# Sandbox master keys, generated at first start. Never use them in production.\n{text}"
            ),
        )?;
    }
    Ok(crate::config::KeySettings {
        data_key_id: Some(stored.data_key_id),
        data_key: Some(stored.data_key.into()),
        retired_data_keys: Vec::new(),
        index_key: Some(stored.index_key.into()),
        card_verification_key: Some(stored.card_verification_key.into()),
        card_verification_key_id: None,
        retired_card_verification_keys: Vec::new(),
        index_key_id: None,
        retired_index_keys: Vec::new(),
        secret_kek: stored.secret_kek.map(Into::into),
        secret_kek_id: None,
        retired_secret_keks: Vec::new(),
        password_pepper: stored.password_pepper.map(Into::into),
        password_pepper_id: None,
        retired_password_peppers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_file_is_replaced_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("secret.pem");
        write_private(&path, "first, and longer than the second").unwrap();
        write_private(&path, "second").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret.pem"]);
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn temporaries_an_interrupted_start_left_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let keys = keys_dir(dir.path());
        fs::create_dir_all(&keys).unwrap();
        for path in [
            dir.path().join("master-keys.toml.tmp"),
            keys.join("A.server.key.pem.tmp"),
            dir.path().join("master-keys.toml"),
            keys.join("B.client.pub.pem"),
        ] {
            fs::write(path, "x").unwrap();
        }
        remove_stale_temporaries(dir.path()).unwrap();
        let mut left: Vec<_> = [dir.path().to_owned(), keys]
            .iter()
            .flat_map(|folder| fs::read_dir(folder).unwrap())
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["B.client.pub.pem", "keys", "master-keys.toml"]);
    }

    #[test]
    fn a_server_key_without_its_client_key_is_skipped_and_a_whole_pair_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let keys = keys_dir(dir.path());
        let lone = "L".repeat(CryptoKeyId::LENGTH);
        let whole = "W".repeat(CryptoKeyId::LENGTH);
        write_private(&server_key_path(&keys, &lone), "server").unwrap();
        write_private(&server_key_path(&keys, &whole), "server").unwrap();
        write_private(&client_key_path(&keys, &whole), "client").unwrap();

        let pairs = load_key_pairs(dir.path()).unwrap();

        assert_eq!(
            pairs
                .iter()
                .map(|pair| pair.id.as_str())
                .collect::<Vec<_>>(),
            [whole.as_str()]
        );
    }
}

#[cfg(test)]
mod fixture_tests {
    use prepaid_application::ports::CardVerification as _;
    use prepaid_crypto::{CardVerificationKey, DesCardVerification};

    use super::*;

    #[test]
    fn the_printed_fixture_cards_cvcs_are_those_their_key_derives() {
        let key = CardVerificationKey::from_hex(FIXTURE_CVK).unwrap();
        let verification = DesCardVerification::with_keys(FIXTURE_CVK_ID, key, Vec::new());
        let expiry = Expiry::parse(PRINTED_CARD_EXPIRY).unwrap();
        for (number, cvc) in [
            (PRINTED_CARD_NO, PRINTED_CARD_CVC),
            (REGISTRABLE_CARD_NO, REGISTRABLE_CARD_CVC),
        ] {
            let derived = verification
                .derive(FIXTURE_CVK_ID, &Pan::parse(number).unwrap(), expiry)
                .unwrap();
            assert_eq!(derived.expose(), cvc, "{number}");
        }
    }
}
