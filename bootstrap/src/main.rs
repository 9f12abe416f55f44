//! `prepaid-card-service`: serve (the default), or run an operator command on the database
//! (`admin`). Trying the API from a terminal is `prepaid-tools client`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::config::{Mode, Settings};
use prepaid_bootstrap::sandbox;
use prepaid_bootstrap::{Application, telemetry};
use prepaid_crypto::SystemClock;
use prepaid_domain::MemberId;
use prepaid_persistence::Database;

#[derive(Parser)]
#[command(
    name = "prepaid-card-service",
    version,
    about = "Prepaid-card issuing service (Konaplate-style card API)"
)]
struct Cli {
    /// TOML configuration file (default: ./prepaid.toml when it exists).
    #[arg(long, env = "PREPAID_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default). With no configuration: a sandbox in ./data.
    Serve,
    /// Operator commands on the database.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Sign a member up in a project, as the API's member registration does: every field
    /// checked by its rules, unique login id, mobile number and CI, a member id drawn at random,
    /// the project's basic card when it names one. Prints the member id.
    AddMember {
        /// The project (ASP id, 15 characters) the member belongs to; other projects never see
        /// it.
        #[arg(long)]
        asp_id: String,
        /// A file holding the registration's JSON body as the API takes it (`loginId`,
        /// `loginPassword`, `birthDate`, `nationality`, `gender`, `userName`, `mobileNumber`,
        /// `email`, optional `ci`, `addressInfo`, `joinChannel`); `-` reads it from standard
        /// input, so that the password is in no command line.
        #[arg(long)]
        details: PathBuf,
    },
    /// Cancel a member's membership in a project, as the API's membership cancellation does:
    /// the member's cards are terminated with it; refused while a card is suspended.
    CancelMember {
        /// The project (ASP id) the member belongs to.
        #[arg(long)]
        asp_id: String,
        /// Member id.
        #[arg(long)]
        id: String,
    },
    /// Create a project (ASP) with a fresh access key, secret key and crypto key pair; its
    /// client credentials are written to `--output` (owner-only) and nowhere else.
    CreateProject {
        /// Where to write the client credentials (JSON).
        #[arg(long)]
        output: PathBuf,
        /// Allow plaintext bodies (otherwise requests must be encrypted, D5).
        #[arg(long)]
        allow_plaintext: bool,
    },
    /// Copy the SQLite database, consistent, while the service runs (restore: stop the service
    /// and put the copy in place of its database file, beside the same keys).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Create a bearer token for an operator of the fulfilment partner (`/ops/v1`). It is shown
    /// here once; the database keeps only its SHA-256 digest.
    CreateOperatorToken {
        /// Who the token is for: 1 to 64 letters, digits, `.`, `_` or `-`.
        #[arg(long)]
        name: String,
    },
    /// Unlock a physical card locked by five wrong registration attempts, once the holder is
    /// known to be its member: it waits for its registration again, with no wrong attempt.
    UnlockCard {
        /// The project (ASP id) the card belongs to.
        #[arg(long)]
        asp_id: String,
        /// The card's PAR (27 characters).
        #[arg(long)]
        par: String,
    },
    /// Unlock a member's password locked after five wrong attempts: their count starts again.
    UnlockPassword {
        /// The project (ASP id) the member belongs to.
        #[arg(long)]
        asp_id: String,
        /// The member id.
        #[arg(long)]
        id: String,
    },
    /// Name a project's basic product: every member who signs up with it gets a mobile card of
    /// it (`basicCardInfo`). It must be an active MOBILE product; `--clear` names none.
    SetBasicProduct {
        /// The project (ASP id).
        #[arg(long)]
        asp_id: String,
        /// The product's service id (15 characters).
        #[arg(long, required_unless_present = "clear", conflicts_with = "clear")]
        service_id: Option<String>,
        /// Name no basic product: sign-ups get no card.
        #[arg(long)]
        clear: bool,
    },
    /// Set an access key's state: ACTIVE, INACTIVE or DISCARDED.
    SetKeyState {
        /// The access key.
        #[arg(long)]
        access_key: String,
        /// The new state.
        #[arg(long)]
        state: String,
    },
}

fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    Settings::load(cli.config.as_deref(), |name| std::env::var(name).ok()).context("configuration")
}

fn print_banner(application: &Application, settings: &Settings) {
    let url = format!("http://127.0.0.1:{}", application.port());
    println!(
        "prepaid-card-service listening on {} ({:?} mode)",
        settings.listen, settings.mode
    );
    println!(
        "  API:      POST {url}{}",
        prepaid_http::ISSUE_DELIVERY_PATH
    );
    println!(
        "  Docs:     {url}/docs   OpenAPI: {url}/openapi.json   Metrics: {url}/metrics   Health: {url}/healthz   Ready: {url}/readyz"
    );
    if let Some(credentials) = &application.new_credentials {
        println!(
            "\nSandbox credentials, shown this once (also in {}, owner-only):",
            application
                .credentials_file
                .as_ref()
                .map_or_else(String::new, |path| path.display().to_string())
        );
        println!("  X-KM-User-AspId:    {}", credentials.asp_id);
        println!("  X-KM-Access-Key:    {}", credentials.access_key);
        println!("  Secret key:         {}", credentials.secret_key);
        println!("  X-KM-Crypto-Key-Id: {}", credentials.crypto_key_id);
    } else if let Some(path) = &application.credentials_file {
        println!("\nSandbox credentials: {}", path.display());
    }
    if let Some(token) = &application.new_operator_token {
        println!(
            "\nSandbox operator token (the fulfilment partner's {url}{}), shown this once (also in the credentials file):",
            prepaid_http::OPS_PATH
        );
        println!("  Authorization: Bearer {token}");
    }
    if settings.mode == Mode::Sandbox {
        println!("\nTry it:");
        println!(
            "  cargo run --release -p prepaid-tools -- client issue --member 1001 --service {} --no-delivery",
            sandbox::MOBILE_PRODUCT
        );
        println!(
            "  cargo run --release -p prepaid-tools -- client issue --member 1001 --service {} --encrypt",
            sandbox::NORMAL_PRODUCT
        );
    }
}

async fn serve(cli: &Cli) -> anyhow::Result<()> {
    let settings = load_settings(cli)?;
    telemetry::init(settings.log_format);
    let application = Application::build(settings.clone()).await?;
    print_banner(&application, &settings);
    tracing::info!(port = application.port(), "ready");
    application
        .run_until_stopped()
        .await
        .context("the server stopped")
}

/// The database for an admin command: opened beside the service, which may be running (its
/// SQLite file is locked to the one process that serves it; short writes go beside it).
async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let config = settings.database()?;
    Ok(
        tokio::task::spawn_blocking(move || Database::open_beside(&config))
            .await
            .context("the database task")??,
    )
}

async fn run_admin(cli: &Cli, action: AdminAction) -> anyhow::Result<()> {
    let settings = load_settings(cli)?;
    let database = open_database(&settings).await?;
    let now = SystemClock.now();
    match action {
        AdminAction::AddMember { asp_id, details } => {
            add_member(&settings, &database, &asp_id, &details).await?;
        }
        AdminAction::CancelMember { asp_id, id } => {
            cancel_member(&settings, &database, &asp_id, &id).await?;
        }
        AdminAction::CreateProject {
            output,
            allow_plaintext,
        } => {
            let keys = prepaid_bootstrap::master_keys(&settings)?;
            let base_url = format!("http://{}", settings.listen);
            let credentials = sandbox::create_project(
                &database,
                keys,
                &settings.data_dir,
                allow_plaintext,
                &base_url,
                now,
            )
            .await?;
            let text = serde_json::to_string_pretty(&credentials)?;
            sandbox::write_private(&output, &text)?;
            println!(
                "project {} created; credentials in {} (restart the service to load its crypto key)",
                credentials.asp_id,
                output.display()
            );
        }
        AdminAction::Backup { to } => {
            database
                .backup_to(&to)
                .await
                .with_context(|| format!("backup to {}", to.display()))?;
            println!("database copied to {}", to.display());
        }
        AdminAction::CreateOperatorToken { name } => {
            let name = prepaid_domain::OperatorName::parse(&name)
                .context("name: 1 to 64 letters, digits, `.`, `_` or `-`")?;
            let access = prepaid_application::OperatorAccess::new(
                std::sync::Arc::new(database.clone()),
                std::sync::Arc::new(prepaid_crypto::OsRandom),
                std::sync::Arc::new(SystemClock),
            );
            let token = access.issue(&name).await?;
            println!("operator token for {}, shown this once:", name.as_str());
            println!("  Authorization: Bearer {}", token.expose());
        }
        AdminAction::UnlockCard { asp_id, par } => {
            let asp = prepaid_domain::AspId::parse(&asp_id).context("ASP id")?;
            let card = prepaid_domain::Par::parse(&par).context("PAR: 27 letters or digits")?;
            let unlocks = prepaid_application::CardUnlockService::new(
                std::sync::Arc::new(database.clone()),
                std::sync::Arc::new(database.clone()),
                std::sync::Arc::new(SystemClock),
            );
            unlocks
                .unlock(&asp, &card)
                .await
                .with_context(|| format!("card {par}"))?;
            println!("card {par} unlocked: it waits for its registration again");
        }
        AdminAction::UnlockPassword { asp_id, id } => {
            let asp = prepaid_domain::AspId::parse(&asp_id).context("ASP id")?;
            let member = MemberId::parse(&id).context("member id")?;
            prepaid_bootstrap::member_operations(&settings, &database)?
                .unlock_password(&asp, member)
                .await
                .with_context(|| format!("member {id}"))?;
            println!("member {id}'s password unlocked: five attempts again");
        }
        AdminAction::SetBasicProduct {
            asp_id, service_id, ..
        } => {
            set_basic_product(&database, &asp_id, service_id.as_deref()).await?;
        }
        AdminAction::SetKeyState { access_key, state } => {
            let key = prepaid_domain::AccessKey::parse(&access_key).context("access key")?;
            let state = prepaid_application::ports::AccessKeyState::parse(&state)
                .context("state must be ACTIVE, INACTIVE or DISCARDED")?;
            if !database.set_access_key_state(&key, state).await? {
                anyhow::bail!("no access key {access_key}");
            }
            println!("access key {access_key}: {}", state.as_str());
        }
    }
    Ok(())
}

/// Names `service_id` (an active mobile product), or none, the basic product of `asp_id`.
async fn set_basic_product(
    database: &Database,
    asp_id: &str,
    service_id: Option<&str>,
) -> anyhow::Result<()> {
    use prepaid_application::ports::ProductCatalogue as _;
    let asp = prepaid_domain::AspId::parse(asp_id).context("ASP id")?;
    let product = match service_id {
        Some(id) => {
            let id = prepaid_domain::ServiceId::parse(id).context("service id: 15 characters")?;
            match database.find(&id).await? {
                Some(product)
                    if product.active
                        && product.product_type == prepaid_domain::ProductType::Mobile =>
                {
                    Some(id)
                }
                Some(_) => anyhow::bail!("{} is not an active MOBILE product", id.as_str()),
                None => anyhow::bail!("no product {}", id.as_str()),
            }
        }
        None => None,
    };
    if !database.set_basic_product(&asp, product.as_ref()).await? {
        anyhow::bail!("no project {asp_id}");
    }
    match product {
        Some(id) => println!("{asp_id}: basic product {}", id.as_str()),
        None => println!("{asp_id}: no basic product"),
    }
    Ok(())
}

/// Signs a member up through the API's use case, with the details read from `details` (`-`:
/// standard input), under a correlation id of its own.
async fn add_member(
    settings: &Settings,
    database: &Database,
    asp_id: &str,
    details: &std::path::Path,
) -> anyhow::Result<()> {
    use prepaid_application::ManageMembers as _;
    let asp_id = prepaid_domain::AspId::parse(asp_id).context("ASP id")?;
    if !database.project_exists(&asp_id).await? {
        anyhow::bail!("no project {asp_id}");
    }
    let body = if details.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut body).context("standard input")?;
        body
    } else {
        std::fs::read(details).with_context(|| details.display().to_string())?
    };
    let refused = |code: prepaid_domain::ErrorCode, description: String| {
        anyhow::anyhow!("not signed up: {} {description}", code.code())
    };
    let command = prepaid_http::parse_registration_body(&body, operator_key(&asp_id)?)
        .map_err(|error| refused(error.code(), error.description()))?;
    let registered = prepaid_bootstrap::member_operations(settings, database)?
        .register(&command)
        .await
        .map_err(|error| {
            let code = error.code();
            // The cause stays in the chain (a store's failure); it names no personal value.
            anyhow::Error::new(error).context(refused(code, code.message().to_owned()))
        })?;
    println!("member {} of {asp_id}: ACTIVE", registered.id);
    if let Some(card) = registered.basic_card {
        println!(
            "basic card {} of product {}, expiring {}",
            card.par.as_str(),
            card.product.as_str(),
            card.expiry.to_yymmdd()
        );
    }
    Ok(())
}

/// The key of an operator's request: the project and a correlation id of its own (the request
/// is claimed like a partner's).
fn operator_key(
    asp_id: &prepaid_domain::AspId,
) -> anyhow::Result<prepaid_application::ports::IdempotencyKey> {
    use prepaid_application::ports::RandomSource as _;
    let serial = u32::try_from(prepaid_crypto::OsRandom.next_u64() >> 36).unwrap_or(0);
    let correlation_id = SystemClock
        .now()
        .civil(prepaid_domain::TimeZone::Kst)
        .and_then(|civil| prepaid_domain::CorrelationId::compose(civil, serial))
        .context("a correlation id for now")?;
    Ok(prepaid_application::ports::IdempotencyKey {
        asp_id: asp_id.clone(),
        correlation_id,
    })
}

/// Cancels member `id`'s membership through the API's use case, under a correlation id of its
/// own (the operator's request is claimed like a partner's).
async fn cancel_member(
    settings: &Settings,
    database: &Database,
    asp_id: &str,
    id: &str,
) -> anyhow::Result<()> {
    let asp_id = prepaid_domain::AspId::parse(asp_id).context("ASP id")?;
    let member = MemberId::parse(id).context("member id")?;
    let command = prepaid_application::CancelMembershipCommand {
        key: operator_key(&asp_id)?,
        member,
    };
    let cancelled = prepaid_bootstrap::membership_cancellations(settings, database)?
        .cancel(&command)
        .await
        .map_err(|error| {
            let code = error.code();
            anyhow::Error::new(error).context(format!(
                "member {member} of {asp_id}: {} {}",
                code.code(),
                code.message()
            ))
        })?;
    println!(
        "member {member} of {asp_id}: CANCELLED ({} cards terminated)",
        cancelled.terminated
    );
    Ok(())
}

#[actix_web::main]
async fn main() -> ExitCode {
    let Cli { config, command } = Cli::parse();
    let cli = Cli {
        config,
        command: None,
    };
    let result = match command {
        None | Some(Command::Serve) => serve(&cli).await,
        Some(Command::Admin { action }) => run_admin(&cli, action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("prepaid-card-service: {error:#}");
            ExitCode::FAILURE
        }
    }
}
