//! The keys of the configuration made into the crypto adapter's key types: the current and
//! retired keys of each kind, refused when missing (outside the sandbox) or weak
//! (PCI DSS 3.6/3.7), and the sandbox's generated keys when none are configured.

use std::sync::Arc;

use prepaid_application::ports::SecretVault;
use prepaid_crypto::{
    AesGcmCardSecrets, AesGcmSecretVault, CardVerificationKey, DataKey, DesCardVerification,
    HmacCardNumbering, IndexKey,
};
use secrecy::{ExposeSecret, SecretString};

use crate::StartupError;
use crate::config::{ConfigError, KeySettings, Mode, Settings};
use crate::sandbox;

/// The key `value` of `setting`, which every mode but the sandbox must configure.
pub(crate) fn required<'a>(
    value: Option<&'a SecretString>,
    setting: &str,
) -> Result<&'a str, ConfigError> {
    value
        .map(ExposeSecret::expose_secret)
        .ok_or_else(|| ConfigError::new(setting, "is required outside the sandbox"))
}

/// The retired keys of `setting`, each `id:hex`, as (id, hex).
pub(crate) fn retired<'a>(
    entries: &'a [SecretString],
    setting: &str,
) -> Result<Vec<(&'a str, &'a str)>, ConfigError> {
    entries
        .iter()
        .map(|entry| {
            entry
                .expose_secret()
                .split_once(':')
                .ok_or_else(|| ConfigError::new(setting, "entries are `id:hex`"))
        })
        .collect()
}

/// The keys of `settings`, refusing missing or weak ones (PCI DSS 3.6/3.7).
pub(crate) fn card_secrets(keys: &KeySettings) -> Result<AesGcmCardSecrets, StartupError> {
    let key_error = |setting: &'static str| {
        move |error: prepaid_crypto::KeyError| ConfigError::new(setting, error.to_string())
    };
    let data_key_id = keys
        .data_key_id
        .as_deref()
        .ok_or_else(|| ConfigError::new("keys.data_key_id", "is required outside the sandbox"))?;
    let current = DataKey::from_hex(
        data_key_id,
        required(keys.data_key.as_ref(), "keys.data_key")?,
    )
    .map_err(key_error("keys.data_key"))?;
    let mut old = Vec::new();
    for (id, hex) in retired(&keys.retired_data_keys, "keys.retired_data_keys")? {
        old.push(DataKey::from_hex(id, hex).map_err(key_error("keys.retired_data_keys"))?);
    }
    let (id, index, retired_index) = index_keys(keys)?;
    Ok(AesGcmCardSecrets::with_index_keys(
        current,
        old,
        &id,
        &index,
        &retired_index,
    ))
}

/// The configured index keys: the current one's id, the current key, the retired (id, key)s.
type IndexKeys = (String, IndexKey, Vec<(String, IndexKey)>);

/// The current index key with its id, and the retired ones.
fn index_keys(keys: &KeySettings) -> Result<IndexKeys, StartupError> {
    let current = IndexKey::from_hex(required(keys.index_key.as_ref(), "keys.index_key")?)
        .map_err(|error| ConfigError::new("keys.index_key", error.to_string()))?;
    let mut old = Vec::new();
    for (id, hex) in retired(&keys.retired_index_keys, "keys.retired_index_keys")? {
        let key = IndexKey::from_hex(hex)
            .map_err(|error| ConfigError::new("keys.retired_index_keys", error.to_string()))?;
        old.push((id.to_owned(), key));
    }
    let id = keys
        .index_key_id
        .clone()
        .unwrap_or_else(|| prepaid_crypto::DEFAULT_INDEX_KEY_ID.to_owned());
    Ok((id, current, old))
}

pub(crate) fn card_numbering(keys: &KeySettings) -> Result<HmacCardNumbering, StartupError> {
    let (id, current, retired) = index_keys(keys)?;
    Ok(HmacCardNumbering::with_keys(&id, &current, &retired))
}

pub(crate) fn card_verification(keys: &KeySettings) -> Result<DesCardVerification, StartupError> {
    let setting = "keys.card_verification_key";
    let key =
        CardVerificationKey::from_hex(required(keys.card_verification_key.as_ref(), setting)?)
            .map_err(|error| ConfigError::new(setting, error.to_string()))?;
    let setting = "keys.retired_card_verification_keys";
    let mut old = Vec::new();
    for (id, hex) in retired(&keys.retired_card_verification_keys, setting)? {
        let key = CardVerificationKey::from_hex(hex)
            .map_err(|error| ConfigError::new(setting, error.to_string()))?;
        old.push((id.to_owned(), key));
    }
    let id = keys
        .card_verification_key_id
        .as_deref()
        .unwrap_or(prepaid_crypto::DEFAULT_CVK_ID);
    Ok(DesCardVerification::with_keys(id, key, old))
}

/// The secret vault of `settings` (sandbox master keys when none are configured), for the admin
/// commands that seal secrets.
///
/// # Errors
/// [`StartupError`] when keys are missing or weak.
pub fn master_keys(settings: &Settings) -> Result<Arc<dyn SecretVault>, StartupError> {
    Ok(Arc::new(secret_vault(&resolve_keys(settings)?)?))
}

/// The vault of access keys' secrets: sealing with the key-encryption key, unsealing with it,
/// the retired ones, or the PAN data keys (what secrets were sealed with before they had a key
/// of their own; a start seals those again).
pub(crate) fn secret_vault(keys: &KeySettings) -> Result<AesGcmSecretVault, StartupError> {
    let setting = "keys.secret_kek";
    let id = keys.secret_kek_id.as_deref().unwrap_or(DEFAULT_KEK_ID);
    let current = DataKey::from_hex(id, required(keys.secret_kek.as_ref(), setting)?)
        .map_err(|error| ConfigError::new(setting, error.to_string()))?;
    let setting = "keys.retired_secret_keks";
    let mut others = Vec::new();
    for (id, hex) in retired(&keys.retired_secret_keks, setting)? {
        others.push(
            DataKey::from_hex(id, hex)
                .map_err(|error| ConfigError::new(setting, error.to_string()))?,
        );
    }
    let current_data_key = keys
        .data_key_id
        .as_deref()
        .zip(keys.data_key.as_ref().map(ExposeSecret::expose_secret));
    let retired_data_keys = keys
        .retired_data_keys
        .iter()
        .filter_map(|entry| entry.expose_secret().split_once(':'));
    for (id, hex) in current_data_key.into_iter().chain(retired_data_keys) {
        if let Ok(key) = DataKey::from_hex(id, hex) {
            others.push(key);
        }
    }
    Ok(AesGcmSecretVault::new(current, others))
}

/// The id of the key-encryption key when none is configured.
const DEFAULT_KEK_ID: &str = "kek-1";

/// The configured keys, or in the sandbox without configured keys the generated ones.
pub(crate) fn resolve_keys(settings: &Settings) -> Result<KeySettings, StartupError> {
    match settings.mode {
        Mode::Sandbox => {
            let mut keys = if settings.keys.data_key.is_none() {
                sandbox::sandbox_master_keys(&settings.data_dir)?
            } else {
                settings.keys.clone()
            };
            // The sandbox's printed fixture cards derive their documented CVCs with a public
            // key of their own; every other card's CVC derives from the sandbox's own key.
            keys.retired_card_verification_keys
                .push(sandbox::fixture_card_verification_key().into());
            Ok(keys)
        }
        Mode::Production => Ok(settings.keys.clone()),
    }
}
