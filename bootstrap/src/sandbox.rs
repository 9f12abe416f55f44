//! The sandbox (D11) and project provisioning: generated credentials and keys written to the
//! data folder (owner-only), and the fixtures of the source page's Test Data.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use prepaid_application::ports::{
    AccessKeyState, CryptoKeyRef, Project, ProjectAccessKey, RandomSource, SecretVault,
};
use prepaid_crypto::{CryptoKeyPair, OsRandom, generate_rsa_pem, random_hex};
use prepaid_domain::{
    AccessKey, AspId, Bin, CardProduct, CryptoKeyId, Member, MemberId, MemberStatus, ProductName,
    ProductType, SecretKey, ServiceId, Timestamp, Validity,
};
use prepaid_persistence::Database;
use serde::{Deserialize, Serialize};

use crate::StartupError;

/// Sandbox member who may apply (Test Data "success" scenarios).
pub const ACTIVE_MEMBER: u64 = 1001;
/// Sandbox member who cancelled membership (Test Data `001_006`).
pub const CANCELLED_MEMBER: u64 = 1002;
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

/// The sandbox's members, in the sandbox project `asp_id`: one active, one cancelled.
pub async fn save_fixture_members(
    db: &Database,
    asp_id: &str,
    now: Timestamp,
) -> Result<(), StartupError> {
    let asp_id = AspId::parse(asp_id).map_err(|_| StartupError::Fixture("sandbox ASP id"))?;
    for (id, status) in [
        (ACTIVE_MEMBER, MemberStatus::Active),
        (CANCELLED_MEMBER, MemberStatus::Cancelled),
    ] {
        let id = MemberId::new(id).map_err(|_| StartupError::Fixture("member id"))?;
        db.save_member(&asp_id, Member { id, status }, now).await?;
    }
    Ok(())
}

/// Writes `contents` to `path`, readable and writable by the owner only.
pub fn write_private(path: &Path, contents: &str) -> Result<(), StartupError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|error| StartupError::io(path, error))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| StartupError::io(path, error))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| StartupError::io(path, error))
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

    let keys = keys_dir(data_dir);
    write_private(
        &server_key_path(&keys, crypto_key_id.as_str()),
        &server_private,
    )?;
    write_private(
        &client_key_path(&keys, crypto_key_id.as_str()),
        &client_public,
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
    }
    let path = data_dir.join("master-keys.toml");
    let stored = if path.exists() {
        let text = fs::read_to_string(&path).map_err(|error| StartupError::io(&path, error))?;
        toml::from_str::<Stored>(&text).map_err(|_| StartupError::Fixture("master-keys.toml"))?
    } else {
        let stored = Stored {
            data_key_id: format!("sandbox-{}", random_alphanumeric(8).to_ascii_lowercase()),
            data_key: random_hex(32).map_err(StartupError::Crypto)?,
            index_key: random_hex(32).map_err(StartupError::Crypto)?,
            card_verification_key: random_hex(16).map_err(StartupError::Crypto)?,
        };
        let text = toml::to_string(&stored).map_err(|_| StartupError::Fixture("master keys"))?;
        write_private(
            &path,
            &format!(
                "# Sandbox master keys, generated at first start. Never use them in production.\n{text}"
            ),
        )?;
        stored
    };
    Ok(crate::config::KeySettings {
        data_key_id: Some(stored.data_key_id),
        data_key: Some(stored.data_key),
        retired_data_keys: Vec::new(),
        index_key: Some(stored.index_key),
        card_verification_key: Some(stored.card_verification_key),
    })
}
