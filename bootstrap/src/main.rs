//! `prepaid-card-service`: serve (the default), try the API with the client command, or manage
//! members with the admin command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::client::{self, IssueRequest};
use prepaid_bootstrap::config::{Mode, Settings};
use prepaid_bootstrap::loadgen::{self, LoadPlan};
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_bootstrap::{Application, ceilings, telemetry};
use prepaid_crypto::SystemClock;
use prepaid_domain::{Member, MemberId, MemberStatus};
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
    /// Send real requests to a running service with the sandbox credentials.
    Client {
        #[command(subcommand)]
        action: ClientAction,
    },
    /// Operator commands on the database.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Drive a running service (or the echo ceiling) with signed requests and report
    /// throughput, latency percentiles, answers per status and the server's peak memory.
    Loadgen(LoadgenArgs),
    /// Ceiling measurements (issue 6).
    Bench {
        #[command(subcommand)]
        action: BenchAction,
    },
}

/// The load generator's options.
#[derive(clap::Args)]
struct LoadgenArgs {
    /// Service base URL (default: the credentials file's).
    #[arg(long)]
    url: Option<String>,
    /// Credentials file (default: <data_dir>/sandbox-credentials.json).
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds to measure.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds to drive before measuring (connections opened, caches warm).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Total requests per second (default: as fast as possible).
    #[arg(long)]
    rate: Option<f64>,
    /// Encrypt every request (JWE).
    #[arg(long)]
    encrypt: bool,
    /// Product (a mobile card only is asked for).
    #[arg(long, default_value = sandbox::MOBILE_PRODUCT)]
    service: String,
    /// Member.
    #[arg(long, default_value = "1001")]
    member: String,
    /// Path to post to.
    #[arg(long, default_value = prepaid_http::ISSUE_DELIVERY_PATH)]
    path: String,
    /// Client threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Read this process's peak resident memory at the end.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write every answered request's send time and latency to this CSV file.
    #[arg(long)]
    timeline: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BenchAction {
    /// A bare actix-web server echoing each POST body: the HTTP ceiling.
    EchoServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Worker threads.
        #[arg(long)]
        workers: Option<usize>,
    },
    /// The rows of one issuance per transaction, without HTTP: the database ceiling.
    Database {
        /// Database URL (default: a fresh SQLite file in the data folder).
        #[arg(long)]
        database_url: Option<String>,
        /// Seconds to run.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// Concurrent writers.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// RSA-2048 OAEP decryptions on every core: the crypto ceiling.
    Rsa {
        /// Seconds to run.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// Threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Subcommand)]
enum ClientAction {
    /// Apply for a card: `client issue --member 1001 --service 000170000003000 --no-delivery`.
    Issue {
        /// Member id (userInfo.userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// Product id (serviceId).
        #[arg(long, default_value = sandbox::NORMAL_PRODUCT)]
        service: String,
        /// Ask for a mobile card only (isDeliveryRequired=false).
        #[arg(long)]
        no_delivery: bool,
        /// Road-name address.
        #[arg(long, default_value = "서울특별시 강남구 테헤란로 1")]
        address: String,
        /// Address detail.
        #[arg(long, default_value = "101동 1001호")]
        detail: String,
        /// Zip code.
        #[arg(long, default_value = "06236")]
        zip: String,
        /// Purpose (GIFTABLE).
        #[arg(long)]
        purpose: Option<String>,
        /// Encrypt the request (JWE, D5); the answer is decrypted.
        #[arg(long)]
        encrypt: bool,
        /// Reuse a correlation id (to try a retry).
        #[arg(long)]
        correlation_id: Option<String>,
        /// Service URL (default: the one in the credentials file).
        #[arg(long)]
        url: Option<String>,
        /// Credentials file (default: <data_dir>/sandbox-credentials.json).
        #[arg(long)]
        credentials: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Add a member to a project, or reactivate one.
    AddMember {
        /// The project (ASP id, 15 characters) the member belongs to; other projects never see
        /// it.
        #[arg(long)]
        asp_id: String,
        /// Member id, 1 to 9999999999999999999.
        #[arg(long)]
        id: String,
    },
    /// Cancel a member's membership in a project.
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

fn load_settings(cli: &Cli) -> Result<Settings, String> {
    Settings::load(cli.config.as_deref(), |name| std::env::var(name).ok())
        .map_err(|error| error.to_string())
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
    println!("  Docs:     {url}/openapi.json   Health: {url}/healthz   Ready: {url}/readyz");
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
    if settings.mode == Mode::Sandbox {
        println!("\nTry it:");
        println!(
            "  cargo run --release -- client issue --member 1001 --service {} --no-delivery",
            sandbox::MOBILE_PRODUCT
        );
        println!(
            "  cargo run --release -- client issue --member 1001 --service {} --encrypt",
            sandbox::NORMAL_PRODUCT
        );
    }
}

async fn serve(cli: &Cli) -> Result<(), String> {
    let settings = load_settings(cli)?;
    telemetry::init(settings.log_format);
    let application = Application::build(settings.clone())
        .await
        .map_err(|error| error.to_string())?;
    print_banner(&application, &settings);
    tracing::info!(port = application.port(), "ready");
    application
        .run_until_stopped()
        .await
        .map_err(|error| error.to_string())
}

async fn run_client(cli: &Cli, action: ClientAction) -> Result<(), String> {
    let ClientAction::Issue {
        member,
        service,
        no_delivery,
        address,
        detail,
        zip,
        purpose,
        encrypt,
        correlation_id,
        url,
        credentials,
    } = action;
    let settings = load_settings(cli)?;
    let path = credentials.unwrap_or_else(|| settings.data_dir.join("sandbox-credentials.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("{}: {error} (start the sandbox first)", path.display()))?;
    let credentials: ClientCredentials =
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    let base_url = url.unwrap_or_else(|| credentials.base_url.clone());
    let request = IssueRequest {
        member,
        service_id: service,
        delivery: !no_delivery,
        address,
        address_detail: detail,
        zip_code: zip,
        purpose,
        encrypt,
        correlation_id,
    };
    let answer = client::issue(&credentials, &base_url, &request, SystemClock.now())
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "HTTP {}  X-KM-Correlation-Id: {}{}",
        answer.status,
        answer.correlation_id.as_deref().unwrap_or("-"),
        if answer.encrypted {
            "  (response decrypted)"
        } else {
            ""
        }
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&answer.body).unwrap_or_default()
    );
    Ok(())
}

/// The database for an admin command: opened beside the service, which may be running (its
/// SQLite file is locked to the one process that serves it; short writes go beside it).
async fn open_database(settings: &Settings) -> Result<Database, String> {
    let config = settings.database().map_err(|error| error.to_string())?;
    tokio::task::spawn_blocking(move || Database::open_beside(&config))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())
}

async fn run_admin(cli: &Cli, action: AdminAction) -> Result<(), String> {
    let settings = load_settings(cli)?;
    let database = open_database(&settings).await?;
    let now = SystemClock.now();
    match action {
        AdminAction::AddMember { asp_id, id } => {
            set_member(&database, &asp_id, &id, MemberStatus::Active).await?;
        }
        AdminAction::CancelMember { asp_id, id } => {
            set_member(&database, &asp_id, &id, MemberStatus::Cancelled).await?;
        }
        AdminAction::CreateProject {
            output,
            allow_plaintext,
        } => {
            let keys =
                prepaid_bootstrap::master_keys(&settings).map_err(|error| error.to_string())?;
            let base_url = format!("http://{}", settings.listen);
            let credentials = sandbox::create_project(
                &database,
                keys,
                &settings.data_dir,
                allow_plaintext,
                &base_url,
                now,
            )
            .await
            .map_err(|error| error.to_string())?;
            let text =
                serde_json::to_string_pretty(&credentials).map_err(|error| error.to_string())?;
            sandbox::write_private(&output, &text).map_err(|error| error.to_string())?;
            println!(
                "project {} created; credentials in {} (restart the service to load its crypto key)",
                credentials.asp_id,
                output.display()
            );
        }
        AdminAction::SetKeyState { access_key, state } => {
            let key = prepaid_domain::AccessKey::parse(&access_key)
                .map_err(|error| format!("access key: {error}"))?;
            let state = prepaid_application::ports::AccessKeyState::parse(&state)
                .ok_or("state must be ACTIVE, INACTIVE or DISCARDED")?;
            if !database
                .set_access_key_state(&key, state)
                .await
                .map_err(|error| error.to_string())?
            {
                return Err(format!("no access key {access_key}"));
            }
            println!("access key {access_key}: {}", state.as_str());
        }
    }
    Ok(())
}

async fn set_member(
    database: &Database,
    asp_id: &str,
    id: &str,
    status: MemberStatus,
) -> Result<(), String> {
    let asp_id =
        prepaid_domain::AspId::parse(asp_id).map_err(|error| format!("ASP id: {error}"))?;
    let id = MemberId::parse(id).map_err(|error| format!("member id: {error}"))?;
    if !database
        .project_exists(&asp_id)
        .await
        .map_err(|error| error.to_string())?
    {
        return Err(format!("no project {asp_id}"));
    }
    database
        .save_member(&asp_id, Member { id, status }, SystemClock.now())
        .await
        .map_err(|error| error.to_string())?;
    println!("member {id} of {asp_id}: {}", status.as_str());
    Ok(())
}

fn read_credentials(
    settings: &Settings,
    path: Option<PathBuf>,
) -> Result<ClientCredentials, String> {
    let path = path.unwrap_or_else(|| settings.data_dir.join("sandbox-credentials.json"));
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("{}: {error} (start the sandbox first)", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
}

fn seconds(value: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(value.clamp(0.1, 86_400.0))
}

fn run_loadgen(cli: &Cli, arguments: LoadgenArgs) -> Result<(), String> {
    let LoadgenArgs {
        url,
        credentials,
        concurrency,
        duration,
        warmup,
        rate,
        encrypt,
        service,
        member,
        path,
        threads,
        server_pid,
        json,
        timeline,
    } = arguments;
    let settings = load_settings(cli)?;
    let credentials = read_credentials(&settings, credentials)?;
    let base_url = url.unwrap_or_else(|| credentials.base_url.clone());
    let plan = LoadPlan {
        base_url,
        path,
        concurrency,
        warmup: seconds(warmup),
        duration: seconds(duration),
        rate,
        encrypt,
        service_id: service,
        member,
        threads,
        server_pid,
    };
    let report = loadgen::run(plan.clone(), credentials);
    let peak = server_pid.and_then(loadgen::peak_memory_kib);
    if let Some(path) = timeline {
        std::fs::write(&path, report.timeline_csv())
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    let mut figures = report.to_json();
    figures["concurrency"] = serde_json::json!(plan.concurrency);
    figures["encrypted"] = serde_json::json!(plan.encrypt);
    figures["serverPeakRssKib"] = serde_json::json!(peak);
    figures["serverCpuSeconds"] = serde_json::json!(report.server_cpu_seconds);
    figures["generatorCpuSeconds"] = serde_json::json!(report.generator_cpu_seconds);
    if json {
        println!("{figures}");
    } else {
        println!(
            "{} requests in {:.2} s at concurrency {} ({}): {:.0} req/s",
            report.requests,
            report.elapsed.as_secs_f64(),
            plan.concurrency,
            if plan.encrypt {
                "encrypted"
            } else {
                "plaintext"
            },
            report.throughput()
        );
        println!(
            "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            report.percentile_ms(0.5),
            report.percentile_ms(0.9),
            report.percentile_ms(0.99),
            report.percentile_ms(1.0)
        );
        println!(
            "answers: {:?}  errors without answer: {}",
            report.statuses, report.errors
        );
        if let Some(peak) = peak {
            println!("server peak RSS: {peak} KiB ({} MiB)", peak / 1024);
        }
    }
    Ok(())
}

async fn run_bench(cli: &Cli, action: BenchAction) -> Result<(), String> {
    match action {
        BenchAction::EchoServer { listen, workers } => {
            let listener = std::net::TcpListener::bind(&listen)
                .map_err(|error| format!("{listen}: {error}"))?;
            let port = listener
                .local_addr()
                .map_err(|error| error.to_string())?
                .port();
            println!("echo server listening on http://127.0.0.1:{port}");
            ceilings::echo_server(listener, workers)
                .await
                .map_err(|error| error.to_string())
        }
        BenchAction::Database {
            database_url,
            duration,
            concurrency,
        } => {
            let settings = load_settings(cli)?;
            let url = database_url.unwrap_or_else(|| {
                settings
                    .data_dir
                    .join(format!("bench-{}.sqlite3", std::process::id()))
                    .display()
                    .to_string()
            });
            let mut config = settings.database().map_err(|error| error.to_string())?;
            config.url.clone_from(&url);
            let report = ceilings::database(config.clone(), seconds(duration), concurrency).await?;
            if !url.starts_with("postgres") {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{url}{suffix}"));
                }
            }
            println!(
                "{}",
                serde_json::json!({"ceiling": "database", "backend": if url.starts_with("postgres") { "postgres" } else { "sqlite" }, "synchronous": format!("{:?}", config.sqlite_synchronous), "concurrency": concurrency, "operations": report.operations, "seconds": report.elapsed.as_secs_f64(), "perSecond": report.per_second(), "p50Ms": report.latency_ms.map(|(p50, _)| p50), "p99Ms": report.latency_ms.map(|(_, p99)| p99)})
            );
            Ok(())
        }
        BenchAction::Rsa { duration, threads } => {
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            let report =
                ceilings::rsa(seconds(duration), threads).map_err(|error| error.to_string())?;
            println!(
                "{}",
                serde_json::json!({"ceiling": "rsa-2048-oaep-decrypt", "threads": threads, "operations": report.operations, "seconds": report.elapsed.as_secs_f64(), "perSecond": report.per_second()})
            );
            Ok(())
        }
    }
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
        Some(Command::Client { action }) => run_client(&cli, action).await,
        Some(Command::Admin { action }) => run_admin(&cli, action).await,
        Some(Command::Loadgen(arguments)) => run_loadgen(&cli, arguments),
        Some(Command::Bench { action }) => run_bench(&cli, action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("prepaid-card-service: {error}");
            ExitCode::FAILURE
        }
    }
}
