//! Typed configuration: built-in defaults, then a TOML file, then `PREPAID_*` environment
//! variables. Every setting is documented in `docs/CONFIGURATION.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use prepaid_domain::{
    Bin, CardProduct, ProductName, ProductType, RequestWindow, ServiceId, Validity,
};
use prepaid_persistence::{DatabaseConfig, SqliteSynchronous};
use serde::Deserialize;

/// Invalid configuration: which setting, what is wrong. Start-up stops on it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: `{setting}`: {problem}")]
pub struct ConfigError {
    /// The setting's name as written in the TOML file (the environment variable is documented
    /// beside it).
    pub setting: String,
    /// What is wrong.
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            problem: problem.into(),
        }
    }
}

/// Sandbox (generated credentials and keys, fixtures) or production (everything configured).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// D11: starts with no configuration at all.
    #[default]
    Sandbox,
    /// Refuses to start with missing or weak keys.
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Master keys (hex). In the sandbox they are generated into the data folder when absent.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySettings {
    /// Id of the current PAN data key.
    pub data_key_id: Option<String>,
    /// The current PAN data key, 64 hex digits (AES-256).
    pub data_key: Option<String>,
    /// Retired data keys still used to decrypt, as `id:hex` pairs.
    pub retired_data_keys: Vec<String>,
    /// HMAC key for PAN and request fingerprints (and card numbering), 64 hex digits.
    pub index_key: Option<String>,
    /// Id of the current index key, recorded with each fingerprint (`idx-1` by default: the id
    /// of keys configured before key ids existed).
    pub index_key_id: Option<String>,
    /// Retired index keys, kept for the fingerprints and the BINs made with them, as `id:hex`.
    pub retired_index_keys: Vec<String>,
    /// The key-encryption key of access keys' secret keys (not the PAN data key), 64 hex digits.
    pub secret_kek: Option<String>,
    /// Its id (`kek-1` by default).
    pub secret_kek_id: Option<String>,
    /// Retired key-encryption keys, as `id:hex` (a start seals their secrets again).
    pub retired_secret_keks: Vec<String>,
    /// Card verification key pair `KeyA` `KeyB`, 32 hex digits.
    pub card_verification_key: Option<String>,
    /// Id of the current card verification key, recorded with each card (`cvk-1` by default:
    /// the id of keys configured before key ids existed).
    pub card_verification_key_id: Option<String>,
    /// Retired card verification keys still used for the cards derived with them, as `id:hex`.
    pub retired_card_verification_keys: Vec<String>,
}

impl std::fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySettings")
            .field("data_key_id", &self.data_key_id)
            .field("data_key", &self.data_key.as_ref().map(|_| "<redacted>"))
            .field("index_key", &self.index_key.as_ref().map(|_| "<redacted>"))
            .field(
                "secret_kek",
                &self.secret_kek.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "card_verification_key",
                &self.card_verification_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// A card product as the operator configures it (D8).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductSettings {
    /// 15-character product id.
    pub service_id: String,
    /// Display name.
    pub name: String,
    /// 6 or 8 digits.
    pub bin: String,
    /// `NORMAL` or `MOBILE`.
    #[serde(rename = "type")]
    pub product_type: String,
    /// Whether a mobile card is issued at application time.
    #[serde(default)]
    pub pre_issuance: bool,
    /// Whether `purpose=GIFTABLE` is allowed.
    #[serde(default)]
    pub giftable: bool,
    /// Validity in years (default 5).
    #[serde(default = "default_validity")]
    pub validity_years: u8,
    /// Whether it can be applied for (default true).
    #[serde(default = "default_true")]
    pub active: bool,
}

const fn default_validity() -> u8 {
    5
}

const fn default_true() -> bool {
    true
}

/// All settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `sandbox` or `production`.
    pub mode: Mode,
    /// Address to listen on.
    pub listen: String,
    /// Folder for the SQLite file, generated keys and credentials.
    pub data_dir: PathBuf,
    /// `sqlite://path`, a path, or `postgres://...`; default: `<data_dir>/prepaid.sqlite3`.
    pub database_url: Option<String>,
    /// SQLite durability: `FULL` (default) or `NORMAL`.
    pub sqlite_synchronous: String,
    /// Most database connections.
    pub database_max_connections: u32,
    /// Accepted distance of the request time from the server clock, in seconds (D4).
    pub request_window_seconds: u64,
    /// Base paths the API answers under.
    pub base_paths: Vec<String>,
    /// Largest accepted body in bytes.
    pub max_body_bytes: usize,
    /// `human` or `json`.
    pub log_format: LogFormat,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Idempotency record retention in hours (at least 24).
    pub idempotency_retention_hours: u64,
    /// Master keys.
    pub keys: KeySettings,
    /// Card products; the sandbox fixtures when empty in sandbox mode.
    pub products: Vec<ProductSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Sandbox,
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            sqlite_synchronous: "FULL".to_owned(),
            database_max_connections: 8,
            request_window_seconds: 300,
            base_paths: vec![String::new(), "/open-api".to_owned()],
            max_body_bytes: 64 * 1024,
            log_format: LogFormat::Human,
            workers: None,
            idempotency_retention_hours: 24,
            keys: KeySettings::default(),
            products: Vec::new(),
        }
    }
}

/// The environment variables read, with the setting each overrides.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("PREPAID_MODE", "mode"),
    ("PREPAID_LISTEN", "listen"),
    ("PREPAID_DATA_DIR", "data_dir"),
    ("PREPAID_DATABASE_URL", "database_url"),
    ("PREPAID_SQLITE_SYNCHRONOUS", "sqlite_synchronous"),
    (
        "PREPAID_DATABASE_MAX_CONNECTIONS",
        "database_max_connections",
    ),
    ("PREPAID_REQUEST_WINDOW_SECONDS", "request_window_seconds"),
    ("PREPAID_BASE_PATHS", "base_paths"),
    ("PREPAID_MAX_BODY_BYTES", "max_body_bytes"),
    ("PREPAID_LOG_FORMAT", "log_format"),
    ("PREPAID_WORKERS", "workers"),
    (
        "PREPAID_IDEMPOTENCY_RETENTION_HOURS",
        "idempotency_retention_hours",
    ),
    ("PREPAID_DATA_KEY_ID", "keys.data_key_id"),
    ("PREPAID_DATA_KEY", "keys.data_key"),
    ("PREPAID_INDEX_KEY", "keys.index_key"),
    ("PREPAID_INDEX_KEY_ID", "keys.index_key_id"),
    ("PREPAID_SECRET_KEK", "keys.secret_kek"),
    ("PREPAID_SECRET_KEK_ID", "keys.secret_kek_id"),
    ("PREPAID_RETIRED_SECRET_KEKS", "keys.retired_secret_keks"),
    ("PREPAID_RETIRED_INDEX_KEYS", "keys.retired_index_keys"),
    (
        "PREPAID_CARD_VERIFICATION_KEY",
        "keys.card_verification_key",
    ),
    (
        "PREPAID_CARD_VERIFICATION_KEY_ID",
        "keys.card_verification_key_id",
    ),
    (
        "PREPAID_RETIRED_CARD_VERIFICATION_KEYS",
        "keys.retired_card_verification_keys",
    ),
];

/// The entries of a comma-separated list, trimmed, empty ones left out.
fn comma_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_number<T: std::str::FromStr>(setting: &str, text: &str) -> Result<T, ConfigError> {
    text.trim()
        .parse()
        .map_err(|_| ConfigError::new(setting, format!("`{text}` is not a valid number")))
}

impl Settings {
    /// Defaults, then the TOML file at `file` (when given, or `prepaid.toml` when it exists),
    /// then the environment `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let default_file = Path::new("prepaid.toml");
        let file = file.or_else(|| default_file.exists().then_some(default_file));
        let mut settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    ConfigError::new(
                        "config file",
                        format!("cannot read {}: {error}", path.display()),
                    )
                })?;
                toml::from_str(&text).map_err(|error| {
                    ConfigError::new(
                        "config file",
                        format!("{}: {}", path.display(), error.message()),
                    )
                })?
            }
            None => Self::default(),
        };
        for (variable, setting) in ENVIRONMENT {
            let Some(value) = env(variable) else { continue };
            settings.apply(setting, &value)?;
        }
        settings.validate()?;
        Ok(settings)
    }

    fn apply(&mut self, setting: &str, value: &str) -> Result<(), ConfigError> {
        match setting {
            "mode" => {
                self.mode = match value {
                    "sandbox" => Mode::Sandbox,
                    "production" => Mode::Production,
                    _ => {
                        return Err(ConfigError::new(
                            setting,
                            "must be `sandbox` or `production`",
                        ));
                    }
                }
            }
            "listen" => value.clone_into(&mut self.listen),
            "data_dir" => self.data_dir = PathBuf::from(value),
            "database_url" => self.database_url = Some(value.to_owned()),
            "sqlite_synchronous" => value.clone_into(&mut self.sqlite_synchronous),
            "database_max_connections" => {
                self.database_max_connections = parse_number(setting, value)?;
            }
            "request_window_seconds" => self.request_window_seconds = parse_number(setting, value)?,
            "base_paths" => {
                self.base_paths = value
                    .split(',')
                    .map(|path| path.trim().to_owned())
                    .collect();
            }
            "max_body_bytes" => self.max_body_bytes = parse_number(setting, value)?,
            "log_format" => {
                self.log_format = match value {
                    "human" => LogFormat::Human,
                    "json" => LogFormat::Json,
                    _ => return Err(ConfigError::new(setting, "must be `human` or `json`")),
                }
            }
            "workers" => self.workers = Some(parse_number(setting, value)?),
            "idempotency_retention_hours" => {
                self.idempotency_retention_hours = parse_number(setting, value)?;
            }
            "keys.data_key_id" => self.keys.data_key_id = Some(value.to_owned()),
            "keys.data_key" => self.keys.data_key = Some(value.to_owned()),
            "keys.index_key" => self.keys.index_key = Some(value.to_owned()),
            "keys.index_key_id" => self.keys.index_key_id = Some(value.to_owned()),
            "keys.secret_kek" => self.keys.secret_kek = Some(value.to_owned()),
            "keys.secret_kek_id" => self.keys.secret_kek_id = Some(value.to_owned()),
            "keys.retired_secret_keks" => self.keys.retired_secret_keks = comma_list(value),
            "keys.retired_index_keys" => self.keys.retired_index_keys = comma_list(value),
            "keys.card_verification_key" => {
                self.keys.card_verification_key = Some(value.to_owned());
            }
            "keys.card_verification_key_id" => {
                self.keys.card_verification_key_id = Some(value.to_owned());
            }
            "keys.retired_card_verification_keys" => {
                self.keys.retired_card_verification_keys = comma_list(value);
            }
            _ => return Err(ConfigError::new(setting, "unknown setting")),
        }
        Ok(())
    }

    /// Checks every setting that can be checked without I/O.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_address()?;
        self.synchronous()?;
        self.window()?;
        if self.database_max_connections == 0 || self.database_max_connections > 256 {
            return Err(ConfigError::new(
                "database_max_connections",
                "must be 1 to 256",
            ));
        }
        if !(1024..=1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError::new(
                "max_body_bytes",
                "must be 1024 to 1048576",
            ));
        }
        if self.idempotency_retention_hours < 24 {
            return Err(ConfigError::new(
                "idempotency_retention_hours",
                "must be at least 24: a retry is recognised for a day at least",
            ));
        }
        if self.workers == Some(0) {
            return Err(ConfigError::new("workers", "must be at least 1"));
        }
        for base in &self.base_paths {
            if !(base.is_empty() || (base.starts_with('/') && !base.ends_with('/'))) {
                return Err(ConfigError::new(
                    "base_paths",
                    format!("`{base}` must be empty or start with `/` and not end with `/`"),
                ));
            }
        }
        if self.base_paths.is_empty() {
            return Err(ConfigError::new(
                "base_paths",
                "needs at least one base path",
            ));
        }
        self.card_products()?;
        Ok(())
    }

    /// The address to listen on.
    pub fn listen_address(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:8080", self.listen),
            )
        })
    }

    fn synchronous(&self) -> Result<SqliteSynchronous, ConfigError> {
        SqliteSynchronous::parse(&self.sqlite_synchronous)
            .ok_or_else(|| ConfigError::new("sqlite_synchronous", "must be FULL or NORMAL"))
    }

    /// The request window (D4).
    pub fn window(&self) -> Result<RequestWindow, ConfigError> {
        RequestWindow::from_seconds(self.request_window_seconds)
            .ok_or_else(|| ConfigError::new("request_window_seconds", "must be 1 to 86400"))
    }

    /// The database settings.
    pub fn database(&self) -> Result<DatabaseConfig, ConfigError> {
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("prepaid.sqlite3").display().to_string());
        let mut config = DatabaseConfig::new(url);
        config.sqlite_synchronous = self.synchronous()?;
        config.max_connections = self.database_max_connections;
        config.idempotency_retention =
            std::time::Duration::from_secs(self.idempotency_retention_hours * 3600);
        Ok(config)
    }

    /// The configured products, or the sandbox fixtures when none are configured in sandbox mode.
    pub fn card_products(&self) -> Result<Vec<CardProduct>, ConfigError> {
        if self.products.is_empty() && self.mode == Mode::Sandbox {
            return Ok(crate::sandbox::fixture_products());
        }
        self.products
            .iter()
            .enumerate()
            .map(|(index, product)| {
                let setting = |name: &str| format!("products[{index}].{name}");
                let problem = |name: &str, error: &dyn std::fmt::Display| {
                    ConfigError::new(setting(name), error.to_string())
                };
                Ok(CardProduct {
                    id: ServiceId::parse(&product.service_id)
                        .map_err(|error| problem("service_id", &error))?,
                    name: ProductName::parse(&product.name)
                        .map_err(|error| problem("name", &error))?,
                    bin: Bin::parse(&product.bin).map_err(|error| problem("bin", &error))?,
                    product_type: ProductType::parse(&product.product_type).ok_or_else(|| {
                        ConfigError::new(setting("type"), "must be NORMAL or MOBILE")
                    })?,
                    pre_issuance: product.pre_issuance,
                    giftable: product.giftable,
                    validity: Validity::from_years(product.validity_years).map_err(|_| {
                        ConfigError::new(setting("validity_years"), "must be 1 to 10")
                    })?,
                    active: product.active,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml_text: Option<&str>, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prepaid.toml");
        if let Some(text) = toml_text {
            std::fs::write(&path, text).unwrap();
        }
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(toml_text.map(|_| path.as_path()), |name| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn no_configuration_at_all_is_a_sandbox_on_localhost() {
        let settings = load(None, &[]).unwrap();
        assert_eq!(settings.mode, Mode::Sandbox);
        assert_eq!(settings.listen, "127.0.0.1:8080");
        assert_eq!(settings.card_products().unwrap().len(), 4);
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_the_defaults() {
        let settings = load(
            Some("listen = \"0.0.0.0:9000\"\nrequest_window_seconds = 60\n"),
            &[("PREPAID_LISTEN", "127.0.0.1:9100")],
        )
        .unwrap();
        assert_eq!(settings.listen, "127.0.0.1:9100");
        assert_eq!(settings.request_window_seconds, 60);
    }

    #[test]
    fn invalid_settings_name_the_setting_and_the_problem() {
        let error = load(None, &[("PREPAID_LISTEN", "nowhere")]).unwrap_err();
        assert_eq!(error.setting, "listen");
        let error = load(None, &[("PREPAID_SQLITE_SYNCHRONOUS", "OFF")]).unwrap_err();
        assert_eq!(error.setting, "sqlite_synchronous");
        let error = load(Some("unknown_thing = 1\n"), &[]).unwrap_err();
        assert!(error.problem.contains("unknown_thing"), "{error}");
        let error = load(None, &[("PREPAID_REQUEST_WINDOW_SECONDS", "ten")]).unwrap_err();
        assert_eq!(error.setting, "request_window_seconds");
        let error = load(Some("[[products]]\nservice_id = \"short\"\nname = \"x\"\nbin = \"123456\"\ntype = \"NORMAL\"\n"), &[]).unwrap_err();
        assert_eq!(error.setting, "products[0].service_id");
        assert!(error.to_string().contains("serviceId"), "{error}");
    }
}
