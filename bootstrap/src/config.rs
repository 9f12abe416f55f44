//! Typed configuration: built-in defaults, then a TOML file, then `PREPAID_*` environment
//! variables, layered by `figment` into typed fields; keys are `secrecy` secrets (redacted in
//! `Debug`, exposed only where a key is built). Every setting is documented in
//! `docs/CONFIGURATION.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format as _, Serialized, Toml};
use figment::value::{Dict, Value};
use prepaid_domain::{
    Bin, CardProduct, ProductName, ProductType, RequestWindow, ServiceId, Validity,
};
use prepaid_persistence::{DatabaseConfig, SqliteSynchronous};
use secrecy::SecretString;
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
/// Every key, retired ones included, is a secret: `Debug` shows none of them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySettings {
    /// Id of the current PAN data key.
    pub data_key_id: Option<String>,
    /// The current PAN data key, 64 hex digits (AES-256).
    pub data_key: Option<SecretString>,
    /// Retired data keys still used to decrypt, as `id:hex` pairs.
    pub retired_data_keys: Vec<SecretString>,
    /// HMAC key for PAN and request fingerprints (and card numbering), 64 hex digits.
    pub index_key: Option<SecretString>,
    /// Id of the current index key, recorded with each fingerprint (`idx-1` by default: the id
    /// of keys configured before key ids existed).
    pub index_key_id: Option<String>,
    /// Retired index keys, kept for the fingerprints and the BINs made with them, as `id:hex`.
    pub retired_index_keys: Vec<SecretString>,
    /// The key-encryption key of access keys' secret keys (not the PAN data key), 64 hex digits.
    pub secret_kek: Option<SecretString>,
    /// Its id (`kek-1` by default).
    pub secret_kek_id: Option<String>,
    /// Retired key-encryption keys, as `id:hex` (a start seals their secrets again).
    pub retired_secret_keks: Vec<SecretString>,
    /// The pepper that keys members' password hashes, 64 hex digits; never in the database.
    pub password_pepper: Option<SecretString>,
    /// Its id (`pep-1` by default), recorded with each password hash.
    pub password_pepper_id: Option<String>,
    /// Retired peppers still used to check the passwords hashed with them, as `id:hex`.
    pub retired_password_peppers: Vec<SecretString>,
    /// Card verification key pair `KeyA` `KeyB`, 32 hex digits.
    pub card_verification_key: Option<SecretString>,
    /// Id of the current card verification key, recorded with each card (`cvk-1` by default:
    /// the id of keys configured before key ids existed).
    pub card_verification_key_id: Option<String>,
    /// Retired card verification keys still used for the cards derived with them, as `id:hex`.
    pub retired_card_verification_keys: Vec<SecretString>,
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
    /// In the sandbox, the period in milliseconds at which the simulated fulfilment partner
    /// moves every delivery one step along (0: never; 100 to 3,600,000 otherwise). Ignored in
    /// production, where the partner reports through the operator interface.
    pub sandbox_partner_step_ms: u64,
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
            sandbox_partner_step_ms: 5_000,
            keys: KeySettings::default(),
            products: Vec::new(),
        }
    }
}

/// How an environment variable's text becomes a setting's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Read {
    /// As it is.
    Text,
    /// A whole number.
    Number,
    /// Comma-separated, each entry trimmed (an empty entry is kept: `""` is the root path).
    Paths,
    /// Comma-separated, each entry trimmed, empty ones left out.
    List,
}

/// The environment variables read, with the setting each overrides and how it is read.
const ENVIRONMENT: &[(&str, &str, Read)] = &[
    ("PREPAID_MODE", "mode", Read::Text),
    ("PREPAID_LISTEN", "listen", Read::Text),
    ("PREPAID_DATA_DIR", "data_dir", Read::Text),
    ("PREPAID_DATABASE_URL", "database_url", Read::Text),
    (
        "PREPAID_SQLITE_SYNCHRONOUS",
        "sqlite_synchronous",
        Read::Text,
    ),
    (
        "PREPAID_DATABASE_MAX_CONNECTIONS",
        "database_max_connections",
        Read::Number,
    ),
    (
        "PREPAID_REQUEST_WINDOW_SECONDS",
        "request_window_seconds",
        Read::Number,
    ),
    ("PREPAID_BASE_PATHS", "base_paths", Read::Paths),
    ("PREPAID_MAX_BODY_BYTES", "max_body_bytes", Read::Number),
    ("PREPAID_LOG_FORMAT", "log_format", Read::Text),
    ("PREPAID_WORKERS", "workers", Read::Number),
    (
        "PREPAID_IDEMPOTENCY_RETENTION_HOURS",
        "idempotency_retention_hours",
        Read::Number,
    ),
    (
        "PREPAID_SANDBOX_PARTNER_STEP_MS",
        "sandbox_partner_step_ms",
        Read::Number,
    ),
    ("PREPAID_DATA_KEY_ID", "keys.data_key_id", Read::Text),
    ("PREPAID_DATA_KEY", "keys.data_key", Read::Text),
    ("PREPAID_INDEX_KEY", "keys.index_key", Read::Text),
    ("PREPAID_INDEX_KEY_ID", "keys.index_key_id", Read::Text),
    ("PREPAID_SECRET_KEK", "keys.secret_kek", Read::Text),
    ("PREPAID_SECRET_KEK_ID", "keys.secret_kek_id", Read::Text),
    (
        "PREPAID_PASSWORD_PEPPER",
        "keys.password_pepper",
        Read::Text,
    ),
    (
        "PREPAID_PASSWORD_PEPPER_ID",
        "keys.password_pepper_id",
        Read::Text,
    ),
    (
        "PREPAID_RETIRED_PASSWORD_PEPPERS",
        "keys.retired_password_peppers",
        Read::List,
    ),
    (
        "PREPAID_RETIRED_SECRET_KEKS",
        "keys.retired_secret_keks",
        Read::List,
    ),
    (
        "PREPAID_RETIRED_INDEX_KEYS",
        "keys.retired_index_keys",
        Read::List,
    ),
    (
        "PREPAID_CARD_VERIFICATION_KEY",
        "keys.card_verification_key",
        Read::Text,
    ),
    (
        "PREPAID_CARD_VERIFICATION_KEY_ID",
        "keys.card_verification_key_id",
        Read::Text,
    ),
    (
        "PREPAID_RETIRED_CARD_VERIFICATION_KEYS",
        "keys.retired_card_verification_keys",
        Read::List,
    ),
];

/// The settings given by the environment `env`, as a nested object for the last layer.
/// Variables are read by name from the table above, never by prefix, so an unrelated
/// `PREPAID_*` variable is not an error; a number that is not one names its setting.
fn environment(env: &impl Fn(&str) -> Option<String>) -> Result<Dict, ConfigError> {
    let mut layer = Dict::new();
    for (variable, setting, read) in ENVIRONMENT {
        let Some(text) = env(variable) else { continue };
        let value = match read {
            Read::Text => Value::from(text),
            Read::Number => text.trim().parse::<u64>().map(Value::from).map_err(|_| {
                ConfigError::new(*setting, format!("`{text}` is not a valid number"))
            })?,
            Read::Paths => Value::from(
                text.split(',')
                    .map(|path| Value::from(path.trim()))
                    .collect::<Vec<_>>(),
            ),
            Read::List => Value::from(
                text.split(',')
                    .map(str::trim)
                    .filter(|entry| !entry.is_empty())
                    .map(Value::from)
                    .collect::<Vec<_>>(),
            ),
        };
        match setting.split_once('.') {
            Some((table, name)) => {
                let table = layer
                    .entry(table.to_owned())
                    .or_insert_with(|| Value::from(Dict::new()));
                if let Value::Dict(_, table) = table {
                    table.insert(name.to_owned(), value);
                }
            }
            None => {
                layer.insert((*setting).to_owned(), value);
            }
        }
    }
    Ok(layer)
}

/// A layering error as a configuration error naming the setting (its dotted path, or the
/// file when the problem is not one setting's) and where the value came from: the file (TOML
/// parse errors carry their line and column) or the `PREPAID_*` variable.
fn layering_error(error: &figment::Error) -> ConfigError {
    let setting = if error.path.is_empty() {
        "config file".to_owned()
    } else {
        error.path.join(".")
    };
    let file = error
        .metadata
        .as_ref()
        .and_then(|metadata| match &metadata.source {
            Some(figment::Source::File(path)) => Some(format!(" (in {})", path.display())),
            _ => None,
        });
    let variable = ENVIRONMENT
        .iter()
        .find(|(_, name, _)| *name == setting)
        .map(|(variable, _, _)| format!(" (from {variable})"));
    let origin = file.or(variable).unwrap_or_default();
    ConfigError::new(setting, format!("{}{origin}", error.kind))
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
        let mut layers = Figment::new();
        if let Some(path) = file {
            // A file named but missing is an error, not an empty layer.
            std::fs::metadata(path).map_err(|error| {
                ConfigError::new(
                    "config file",
                    format!("cannot read {}: {error}", path.display()),
                )
            })?;
            layers = layers.merge(Toml::file(path));
        }
        let settings: Self = layers
            .merge(Serialized::globals(environment(&env)?))
            .extract()
            .map_err(|error| layering_error(&error))?;
        settings.validate()?;
        Ok(settings)
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
        if self.sandbox_partner_step_ms != 0
            && !(100..=3_600_000).contains(&self.sandbox_partner_step_ms)
        {
            return Err(ConfigError::new(
                "sandbox_partner_step_ms",
                "must be 0 (off) or 100 to 3600000",
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

    /// The simulated partner's step, when it runs: in the sandbox, unless turned off.
    pub fn partner_step(&self) -> Option<std::time::Duration> {
        (self.mode == Mode::Sandbox && self.sandbox_partner_step_ms != 0)
            .then(|| std::time::Duration::from_millis(self.sandbox_partner_step_ms))
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
    use secrecy::ExposeSecret;

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

    #[test]
    fn keys_from_the_file_or_the_environment_are_secrets_that_debug_output_never_shows() {
        let digits = "1".repeat(64);
        let settings = load(
            Some(&format!(
                "[keys]\ndata_key_id = \"d1\"\ndata_key = \"{}\"\n",
                "a".repeat(64)
            )),
            &[
                ("PREPAID_INDEX_KEY", &digits),
                ("PREPAID_RETIRED_INDEX_KEYS", "idx-0:abc, ,idx-9:def"),
            ],
        )
        .unwrap();
        assert_eq!(
            settings
                .keys
                .index_key
                .as_ref()
                .map(ExposeSecret::expose_secret),
            Some(digits.as_str()),
            "a key of digits only stays text"
        );
        assert_eq!(
            settings.keys.retired_index_keys.len(),
            2,
            "empty entries left out"
        );
        let shown = format!("{settings:?}");
        for secret in [digits.as_str(), &"a".repeat(64), "abc", "def"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("d1"), "key ids are not secrets");
    }

    #[test]
    fn numbers_from_the_environment_are_numbers() {
        let settings = load(
            None,
            &[
                ("PREPAID_WORKERS", "3"),
                ("PREPAID_REQUEST_WINDOW_SECONDS", " 60 "),
                ("PREPAID_DATABASE_MAX_CONNECTIONS", "16"),
                ("PREPAID_MAX_BODY_BYTES", "2048"),
                ("PREPAID_IDEMPOTENCY_RETENTION_HOURS", "48"),
                ("PREPAID_MODE", "production"),
                ("PREPAID_LOG_FORMAT", "json"),
            ],
        )
        .unwrap();
        assert_eq!(settings.workers, Some(3));
        assert_eq!(settings.request_window_seconds, 60);
        assert_eq!(settings.database_max_connections, 16);
        assert_eq!(settings.max_body_bytes, 2048);
        assert_eq!(settings.idempotency_retention_hours, 48);
        assert_eq!(settings.mode, Mode::Production);
        assert_eq!(settings.log_format, LogFormat::Json);
    }

    #[test]
    fn the_simulated_partner_steps_every_five_seconds_in_the_sandbox_only_unless_turned_off() {
        let settings = load(None, &[]).unwrap();
        assert_eq!(
            settings.partner_step(),
            Some(std::time::Duration::from_secs(5))
        );
        let settings = load(None, &[("PREPAID_SANDBOX_PARTNER_STEP_MS", "250")]).unwrap();
        assert_eq!(
            settings.partner_step(),
            Some(std::time::Duration::from_millis(250))
        );
        let settings = load(None, &[("PREPAID_SANDBOX_PARTNER_STEP_MS", "0")]).unwrap();
        assert_eq!(settings.partner_step(), None);
        let production = Settings {
            mode: Mode::Production,
            ..Settings::default()
        };
        assert_eq!(production.partner_step(), None);
        for wrong in ["99", "3600001"] {
            let error = load(None, &[("PREPAID_SANDBOX_PARTNER_STEP_MS", wrong)]).unwrap_err();
            assert_eq!(error.setting, "sandbox_partner_step_ms", "{wrong}");
        }
        for right in ["100", "3600000"] {
            assert!(load(None, &[("PREPAID_SANDBOX_PARTNER_STEP_MS", right)]).is_ok());
        }
    }

    #[test]
    fn base_paths_from_the_environment_keep_the_root_as_an_empty_entry() {
        let settings = load(None, &[("PREPAID_BASE_PATHS", ", /open-api")]).unwrap();
        assert_eq!(settings.base_paths, ["", "/open-api"]);
        let error = load(None, &[("PREPAID_WORKERS", "-1")]).unwrap_err();
        assert_eq!(error.setting, "workers");
        let error = load(None, &[("PREPAID_MODE", "staging")]).unwrap_err();
        assert_eq!(error.setting, "mode");
    }

    #[test]
    fn an_error_says_where_the_value_came_from() {
        let error = load(Some("listen = \"x\"\nworkers = = 2\n"), &[]).unwrap_err();
        assert!(error.problem.contains("line 2, column 11"), "{error}");
        let error = load(Some("workers = \"two\"\n"), &[]).unwrap_err();
        assert_eq!(error.setting, "workers");
        assert!(error.problem.contains("prepaid.toml"), "{error}");
        let error = load(None, &[("PREPAID_MODE", "staging")]).unwrap_err();
        assert!(error.problem.ends_with("(from PREPAID_MODE)"), "{error}");
    }

    #[test]
    fn a_named_configuration_file_that_is_missing_is_an_error() {
        let error =
            Settings::load(Some(Path::new("/nonexistent/prepaid.toml")), |_| None).unwrap_err();
        assert_eq!(error.setting, "config file");
    }
}
