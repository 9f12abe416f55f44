//! The prepaid-card service: reads configuration and wires every adapter into the application.
//! The only crate that knows every adapter.

mod cards;
pub mod config;
mod keys;
mod members;

pub use keys::master_keys;
pub use members::{member_operations, membership_cancellations};
pub mod sandbox;
pub mod telemetry;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use prepaid_application::ports::{
    CardSecrets, CardVerification, Clock, MemberSecrets, MessageCipher, Passwords,
    ProductCatalogue, ReplayGuard, SecretVault,
};
use prepaid_application::{
    AuthenticateOperators, AuthenticateRequests, Authenticator, CachedProductCatalogue,
    CachedProjectDirectory, CancelApplicationService, CancelPorts, CardIssuanceService, CardMint,
    DeliveryInquiryService, FulfilDeliveries as _, FulfilmentPorts, FulfilmentService,
    IssuancePorts, OperatorAccess, PreIssuedCardsPorts, PreIssuedCardsService, PrintedCards,
    ProductInquiryService, RegistrationPorts, RegistrationService,
};
use prepaid_crypto::{HmacTranTokenSigner, JoseMessageCipher, OsRandom, SystemClock};
use prepaid_domain::AspId;
use prepaid_http::{ApiMetrics, HttpConfig, InboundPorts, OpsPorts, TryIt};
use prepaid_persistence::Database;

use crate::cards::{card_look_ups, card_management, card_replacements};
use crate::config::{ConfigError, KeySettings, Mode, Settings};
use crate::keys::{card_numbering, card_secrets, card_verification, resolve_keys, secret_vault};
use crate::sandbox::ClientCredentials;

/// Start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or prepared.
    #[error("database: {0}")]
    Database(#[from] prepaid_persistence::DatabaseError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Key generation failed.
    #[error("key generation failed")]
    Crypto(#[source] openssl::error::ErrorStack),
    /// A crypto key pair is unusable.
    #[error(transparent)]
    KeyPair(#[from] prepaid_crypto::KeyPairError),
    /// A generated or stored fixture is unusable.
    #[error("sandbox fixture invalid: {0}")]
    Fixture(&'static str),
    /// A store refused what start-up writes through a use case.
    #[error(transparent)]
    Store(#[from] prepaid_application::PortError),
}

impl StartupError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// A built service, bound to its port, not yet running.
pub struct Application {
    server: Server,
    port: u16,
    /// The sandbox project's credentials, when they were created by this start.
    pub new_credentials: Option<ClientCredentials>,
    /// The sandbox's operator token, when this start made it.
    pub new_operator_token: Option<String>,
    /// Where the sandbox credentials file is (sandbox mode).
    pub credentials_file: Option<PathBuf>,
    /// The database (for the admin commands and tests).
    pub database: Database,
}

impl Application {
    /// Builds the service from `settings`: opens and migrates the database, loads or (in the
    /// sandbox) generates keys and credentials, synchronises the product catalogue and binds
    /// the listening socket.
    ///
    /// # Errors
    /// [`StartupError`] naming what is wrong.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let now = clock.now();
        prepare_data_dir(&settings.data_dir)?;
        let database_config = settings.database()?;
        let database = tokio::task::spawn_blocking(move || Database::open(&database_config))
            .await
            .map_err(|_| StartupError::Fixture("database start-up task"))??;

        let keys = resolve_keys(&settings)?;
        let (secrets, members, vault) = secrets_at_rest(&database, &keys).await?;
        let passwords: Arc<dyn Passwords> = Arc::new(members::passwords(&keys)?);
        let verification = Arc::new(card_verification(&keys)?);

        let products = settings.card_products()?;
        for product in products {
            database.save_product(product, now).await?;
        }

        let listener = std::net::TcpListener::bind(settings.listen_address()?)
            .map_err(|error| StartupError::io(&settings.listen, error))?;
        let port = listener
            .local_addr()
            .map_err(|error| StartupError::io(&settings.listen, error))?
            .port();
        let base_url = format!("http://127.0.0.1:{port}");

        let operators = OperatorAccess::new(
            Arc::new(database.clone()),
            Arc::new(OsRandom),
            clock.clone(),
        );
        let sandbox = if settings.mode == Mode::Sandbox {
            Some(
                provision_sandbox(
                    &database,
                    (&vault, &secrets, verification.as_ref(), &operators),
                    (members.as_ref(), passwords.as_ref()),
                    &settings.data_dir,
                    &base_url,
                    now,
                )
                .await?,
            )
        } else {
            None
        };
        let try_it = sandbox.as_ref().map(Sandbox::try_it).transpose()?;
        let sandbox_project = sandbox
            .as_ref()
            .and_then(|sandbox| AspId::parse(&sandbox.credentials.asp_id).ok());
        let new_operator_token = sandbox
            .as_ref()
            .and_then(|sandbox| sandbox.new_operator_token.clone());
        let (new_credentials, credentials_file) = sandbox.map_or((None, None), Sandbox::into_parts);

        let cipher = Arc::new(JoseMessageCipher::new(sandbox::load_key_pairs(
            &settings.data_dir,
        )?)?);
        // SQLite (one instance): in memory, journaled with the group commit; PostgreSQL:
        // shared by every instance.
        let replay: Arc<dyn ReplayGuard> = database.replay_guard(clock.clone())?;
        // The catalogue is the database's, shared by every instance; this one's configuration
        // updated it above. Read at most once every 5 s, never per request.
        let catalogue: Arc<dyn ProductCatalogue> = Arc::new(CachedProductCatalogue::new(
            Arc::new(database.clone()),
            clock.clone(),
            5_000,
        ));
        let core = Core {
            database: database.clone(),
            clock: clock.clone(),
            catalogue,
            secrets,
            verification,
            members,
            passwords,
        };
        let authenticator =
            authenticator(&database, vault, replay, clock.clone(), settings.window()?);
        let (ports, fulfilment) = inbound_ports(
            &core,
            &keys,
            (Arc::new(authenticator), cipher, Arc::new(operators)),
            settings.mode,
        )?;
        let http = HttpConfig {
            base_paths: settings.base_paths.clone(),
            max_body_bytes: settings.max_body_bytes,
            workers: settings.workers,
            try_it,
        };
        let server = prepaid_http::serve(ports, http, listener)
            .map_err(|error| StartupError::io(&settings.listen, error))?;
        // The purge does not hold the service lock: dropping the application releases the file.
        spawn_purge(database.without_service_lock(), clock);
        if let (Some(step), Some(project)) = (settings.partner_step(), sandbox_project) {
            spawn_simulated_partner(&fulfilment, project, step);
        }
        Ok(Self {
            server,
            port,
            new_credentials,
            new_operator_token,
            credentials_file,
            database,
        })
    }

    /// A handle to stop the server gracefully.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The port the service listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGTERM or Ctrl-C; in-flight requests finish first (up to 30 s).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Creates the data folder, owner only (it holds keys and credentials), without the
/// temporaries a killed start left.
fn prepare_data_dir(dir: &std::path::Path) -> Result<(), StartupError> {
    std::fs::create_dir_all(dir).map_err(|error| StartupError::io(dir, error))?;
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(|error| StartupError::io(dir, error))?;
    sandbox::remove_stale_temporaries(dir)
}

/// The sandbox's project, as this start found or made it.
struct Sandbox {
    /// Its credentials.
    credentials: ClientCredentials,
    /// Whether this start created the project.
    created: bool,
    /// The operator token, when this start made it.
    new_operator_token: Option<String>,
    /// The credentials file.
    path: PathBuf,
}

impl Sandbox {
    /// The credentials the API page signs "Try it out" requests with (given to a page opened on
    /// this machine only; without a sandbox the page is read-only).
    fn try_it(&self) -> Result<TryIt, StartupError> {
        // The page signs ASP requests: it never gets the operator token.
        let credentials = ClientCredentials {
            operator_token: None,
            ..self.credentials.clone()
        };
        serde_json::to_vec(&credentials)
            .map(TryIt::new)
            .map_err(|_| StartupError::Fixture("credentials"))
    }

    /// The credentials when this start created them, and the file.
    fn into_parts(self) -> (Option<ClientCredentials>, Option<PathBuf>) {
        (self.created.then_some(self.credentials), Some(self.path))
    }
}

/// The card secrets and the vault of `keys`, with what the database holds brought under them:
/// addresses written before they were sealed are sealed, members' profiles and fingerprints
/// under older keys are sealed and made again, access keys' secrets sealed with an older key are
/// sealed again.
async fn secrets_at_rest(
    database: &Database,
    keys: &KeySettings,
) -> Result<
    (
        Arc<dyn CardSecrets>,
        Arc<dyn MemberSecrets>,
        Arc<dyn SecretVault>,
    ),
    StartupError,
> {
    let both = Arc::new(card_secrets(keys)?);
    let (secrets, members): (Arc<dyn CardSecrets>, Arc<dyn MemberSecrets>) = (both.clone(), both);
    database.seal_unsealed_addresses(secrets.clone()).await?;
    members::rekey(database, members.clone()).await?;
    let vault: Arc<dyn SecretVault> = Arc::new(secret_vault(keys)?);
    let resealed = database.reseal_secrets(vault.clone()).await?;
    if resealed > 0 {
        tracing::info!(
            resealed,
            "access key secrets sealed again with the current key"
        );
    }
    Ok((secrets, members, vault))
}

/// Authentication over the database's projects, read once per 5 s at most: a key made inactive
/// or discarded is refused within 5 s, and no request reads and unseals its project.
fn authenticator(
    database: &Database,
    vault: Arc<dyn SecretVault>,
    replay: Arc<dyn ReplayGuard>,
    clock: Arc<dyn Clock>,
    window: prepaid_domain::RequestWindow,
) -> Authenticator {
    let projects =
        CachedProjectDirectory::new(Arc::new(database.projects(vault)), clock.clone(), 5_000);
    Authenticator::new(
        Arc::new(projects),
        replay,
        Arc::new(HmacTranTokenSigner),
        clock,
        window,
    )
}

/// The delivery inquiry's use case over the database.
fn delivery_inquiry(database: &Database) -> DeliveryInquiryService {
    DeliveryInquiryService::new(
        Arc::new(database.clone()),
        Arc::new(database.clone()),
        Arc::new(database.clone()),
    )
}

/// The list of pre-issued cards over the database.
fn pre_issued_cards(
    database: &Database,
    products: Arc<dyn ProductCatalogue>,
    secrets: Arc<dyn CardSecrets>,
    verification: Arc<dyn CardVerification>,
) -> PreIssuedCardsService {
    PreIssuedCardsService::new(PreIssuedCardsPorts {
        members: Arc::new(database.clone()),
        applications: Arc::new(database.clone()),
        deliveries: Arc::new(database.clone()),
        cards: Arc::new(database.clone()),
        products,
        secrets,
        verification,
    })
}

/// What every use case is built over.
struct Core {
    database: Database,
    clock: Arc<dyn Clock>,
    catalogue: Arc<dyn ProductCatalogue>,
    secrets: Arc<dyn CardSecrets>,
    verification: Arc<dyn CardVerification>,
    members: Arc<dyn MemberSecrets>,
    passwords: Arc<dyn Passwords>,
}

/// The inbound ports of the HTTP adapter over `core`, and the fulfilment partner's use cases
/// (which the sandbox's simulated partner also drives). Printed cards leave through the
/// operator interface in the sandbox only.
fn inbound_ports(
    core: &Core,
    keys: &KeySettings,
    (authenticator, cipher, operators): (
        Arc<dyn AuthenticateRequests>,
        Arc<dyn MessageCipher>,
        Arc<dyn AuthenticateOperators>,
    ),
    mode: Mode,
) -> Result<(InboundPorts, Arc<FulfilmentService>), StartupError> {
    let database = &core.database;
    let shared = (
        core.catalogue.clone(),
        core.secrets.clone(),
        core.verification.clone(),
    );
    let issuance = issuance_service(database, shared.clone(), core.clock.clone(), keys)?;
    let registrations = registration_service(database, shared, core.clock.clone(), issuance.mint());
    let fulfilment = Arc::new(FulfilmentService::new(
        FulfilmentPorts {
            applications: Arc::new(database.clone()),
            deliveries: Arc::new(database.clone()),
            cards: Arc::new(database.clone()),
            products: core.catalogue.clone(),
            changes: Arc::new(database.clone()),
            secrets: core.secrets.clone(),
            verification: core.verification.clone(),
            clock: core.clock.clone(),
        },
        issuance.mint(),
        if mode == Mode::Sandbox {
            PrintedCards::Shown
        } else {
            PrintedCards::Hidden
        },
    ));
    let cards = card_management(database, core);
    let replacements = card_replacements(database, core, issuance.clone());
    let mint = issuance.mint();
    let ports = InboundPorts {
        authenticator,
        issuance: Arc::new(issuance),
        products: Arc::new(ProductInquiryService::new(core.catalogue.clone())),
        deliveries: Arc::new(delivery_inquiry(database)),
        cancels: Arc::new(cancel_service(
            database,
            core.secrets.clone(),
            core.clock.clone(),
        )),
        pre_issued: Arc::new(pre_issued_cards(
            database,
            core.catalogue.clone(),
            core.secrets.clone(),
            core.verification.clone(),
        )),
        registrations: Arc::new(registrations),
        card_states: cards.clone(),
        discards: cards,
        replacements,
        look_ups: card_look_ups(database, core),
        members: members::member_service(database, core, mint),
        cancellations: members::membership_cancellation(database, core),
        ops: OpsPorts {
            operators,
            fulfilment: fulfilment.clone(),
        },
        readiness: Arc::new(database.clone()),
        cipher,
        metrics: ApiMetrics::new(),
    };
    Ok((ports, fulfilment))
}

/// The sandbox's simulated fulfilment partner: every `step`, each delivery in progress of the
/// sandbox's `project` moves one step along its way (`READY` to `ARRIVAL`), the physical card
/// produced on the way. Another project's deliveries (on a database shared with other
/// services) are left to their own partner. A delivery that cannot move (changed meanwhile,
/// or cancelled) is left for the next round.
fn spawn_simulated_partner(fulfilment: &Arc<FulfilmentService>, project: AspId, step: Duration) {
    // Held weakly: when the server stops and lets its use cases go, the partner stops too (and
    // with them the database and its service lock).
    let fulfilment = Arc::downgrade(fulfilment);
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(step);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(fulfilment) = fulfilment.upgrade() else {
                return;
            };
            simulate_one_round(&fulfilment, &project).await;
        }
    });
}

/// Moves each delivery in progress of `project` one step along.
async fn simulate_one_round(fulfilment: &FulfilmentService, project: &AspId) {
    let orders = match fulfilment
        .orders(Some(project.clone()), prepaid_application::MOST_ORDERS)
        .await
    {
        Ok(orders) => orders,
        Err(error) => {
            tracing::warn!(error = %error, "simulated partner: deliveries unreadable");
            return;
        }
    };
    for order in orders {
        let Some(next) = order.history.current().next_along() else {
            continue;
        };
        if let Err(error) = fulfilment.report(&order.application, next).await {
            tracing::debug!(
                card_apply_no = order.application.as_str(),
                error = %error,
                "simulated partner: delivery not moved"
            );
        }
    }
}

/// The issuance's use case over the database.
fn issuance_service(
    database: &Database,
    (products, secrets, verification): (
        Arc<dyn ProductCatalogue>,
        Arc<dyn CardSecrets>,
        Arc<dyn CardVerification>,
    ),
    clock: Arc<dyn Clock>,
    keys: &KeySettings,
) -> Result<CardIssuanceService, StartupError> {
    Ok(CardIssuanceService::new(IssuancePorts {
        members: Arc::new(database.clone()),
        products,
        store: Arc::new(database.clone()),
        idempotency: Arc::new(database.clone()),
        secrets,
        verification,
        random: Arc::new(OsRandom),
        clock,
        numbering: Arc::new(card_numbering(keys)?),
        serials: Arc::new(database.clone()),
    }))
}

/// The registration of physical cards over the database, making mobile cards with `mint`.
fn registration_service(
    database: &Database,
    (products, secrets, verification): (
        Arc<dyn ProductCatalogue>,
        Arc<dyn CardSecrets>,
        Arc<dyn CardVerification>,
    ),
    clock: Arc<dyn Clock>,
    mint: CardMint,
) -> RegistrationService {
    RegistrationService::new(
        RegistrationPorts {
            members: Arc::new(database.clone()),
            applications: Arc::new(database.clone()),
            deliveries: Arc::new(database.clone()),
            cards: Arc::new(database.clone()),
            products,
            changes: Arc::new(database.clone()),
            idempotency: Arc::new(database.clone()),
            secrets,
            verification,
            clock,
        },
        mint,
    )
}

/// The cancel's use case over the database.
fn cancel_service(
    database: &Database,
    secrets: Arc<dyn CardSecrets>,
    clock: Arc<dyn Clock>,
) -> CancelApplicationService {
    CancelApplicationService::new(CancelPorts {
        members: Arc::new(database.clone()),
        applications: Arc::new(database.clone()),
        deliveries: Arc::new(database.clone()),
        cards: Arc::new(database.clone()),
        changes: Arc::new(database.clone()),
        idempotency: Arc::new(database.clone()),
        secrets,
        clock,
    })
}

/// The sandbox's fixtures, and its project and credentials file on first start; an operator
/// token for the simulated partner's interface, when the credentials have none yet.
async fn provision_sandbox(
    database: &Database,
    (vault, secrets, verification, operators): (
        &Arc<dyn SecretVault>,
        &Arc<dyn CardSecrets>,
        &dyn CardVerification,
        &OperatorAccess,
    ),
    personal: (&dyn MemberSecrets, &dyn Passwords),
    data_dir: &std::path::Path,
    base_url: &str,
    now: prepaid_domain::Timestamp,
) -> Result<Sandbox, StartupError> {
    let path = data_dir.join("sandbox-credentials.json");
    let (mut credentials, created) = if path.exists() {
        let text =
            std::fs::read_to_string(&path).map_err(|error| StartupError::io(&path, error))?;
        let credentials: ClientCredentials =
            serde_json::from_str(&text).map_err(|_| StartupError::Fixture("credentials"))?;
        (credentials, false)
    } else {
        let credentials =
            sandbox::create_project(database, vault.clone(), data_dir, true, base_url, now).await?;
        (credentials, true)
    };
    sandbox::save_fixture_members(database, &credentials.asp_id, now).await?;
    let project =
        AspId::parse(&credentials.asp_id).map_err(|_| StartupError::Fixture("sandbox ASP id"))?;
    sandbox::save_fixture_profiles(database, personal, &project, now).await?;
    sandbox::save_fixture_applications(database, secrets.as_ref(), &credentials.asp_id).await?;
    sandbox::save_fixture_cards(
        database,
        (secrets.as_ref(), verification),
        &credentials.asp_id,
        now,
    )
    .await?;
    let mut changed = created;
    let mut new_operator_token = None;
    if credentials.operator_token.is_none() {
        let name = prepaid_domain::OperatorName::parse("sandbox")
            .ok_or(StartupError::Fixture("operator name"))?;
        let token = operators.issue(&name).await?;
        credentials.operator_token = Some(token.expose().to_owned());
        new_operator_token = credentials.operator_token.clone();
        changed = true;
    }
    // The port may differ from the last start's: the file names where the service is now.
    if credentials.base_url != base_url {
        base_url.clone_into(&mut credentials.base_url);
        changed = true;
    }
    if changed {
        let text = serde_json::to_string_pretty(&credentials)
            .map_err(|_| StartupError::Fixture("credentials"))?;
        sandbox::write_private(&path, &text)?;
    }
    Ok(Sandbox {
        credentials,
        created,
        new_operator_token,
        path,
    })
}

/// Purges expired idempotency records and replay bindings every ten minutes, off the request path.
fn spawn_purge(database: Database, clock: Arc<dyn Clock>) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(Duration::from_mins(10));
        loop {
            interval.tick().await;
            match database.purge_expired(clock.now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired idempotency records purged"),
                Err(error) => tracing::warn!(error = %error, "purge failed; will retry"),
            }
        }
    });
}
