//! `prepaid-tools`: try the API from a terminal (`client`), drive it with load (`loadgen`), and
//! measure the ceilings it is compared with (`bench`). Not part of the service.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::config::Settings;
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_tools::ceilings;
use prepaid_tools::client::{self, IssueRequest, Outgoing};
use prepaid_tools::loadgen::{self, LoadPlan};

#[derive(Parser)]
#[command(
    name = "prepaid-tools",
    version,
    about = "Try, load and measure the prepaid-card service"
)]
struct Cli {
    /// The service's TOML configuration file, for its data folder (default: ./prepaid.toml when
    /// it exists).
    #[arg(long, env = "PREPAID_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send real requests to a running service with the sandbox credentials.
    Client {
        #[command(subcommand)]
        action: ClientAction,
    },
    /// Act as the fulfilment partner through the operator interface (`/ops/v1`), with the
    /// sandbox's operator token or `--token`.
    Ops {
        #[command(subcommand)]
        action: OpsAction,
        /// The operator's bearer token (default: the credentials file's).
        #[arg(long, env = "PREPAID_OPERATOR_TOKEN", global = true)]
        token: Option<String>,
        /// Service URL (default: the one in the credentials file).
        #[arg(long, global = true)]
        url: Option<String>,
        /// Credentials file (default: <data_dir>/sandbox-credentials.json).
        #[arg(long, global = true)]
        credentials: Option<PathBuf>,
    },
    /// Drive a running service (or the echo ceiling) with signed requests and report
    /// throughput, latency percentiles, answers per status and the server's peak memory.
    Loadgen(LoadgenArgs),
    /// Ceiling measurements.
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
enum OpsAction {
    /// The deliveries in progress, the longest unchanged first, with their addresses.
    Deliveries {
        /// How many at most (1 to 500; default 100).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Report that a delivery reached a status: `ops report <cardApplyNo> SHIPPING`.
    Report {
        /// The application whose delivery moved.
        card_apply_no: String,
        /// `RECEIPT`, `PRE_SHIPPING`, `SHIPPING`, `ARRIVAL`, `LOST`, `RETURN` or `ETC`.
        status: String,
    },
    /// Send a lost or returned delivery again: `ops redeliver <cardApplyNo>`.
    Redeliver {
        /// The application whose delivery is sent again.
        card_apply_no: String,
    },
    /// The physical card produced for an application, as printed (sandbox only).
    PrintedCard {
        /// The application.
        card_apply_no: String,
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
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Cancel an application made today: `client cancel --member 1001 <cardApplyNo>`.
    Cancel {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The application's number (cardApplyNo).
        card_apply_no: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// List the member's mobile cards awaiting their physical card:
    /// `client pre-issued --member 1001`.
    PreIssued {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Ask where an application's card is on its way:
    /// `client delivery --member 1001 20261124003000000DLVRY`.
    Delivery {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The application's number (cardApplyNo).
        card_apply_no: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Register a physical card the member received:
    /// `client register --card-no 9435... --expiry 3111 --cvc 123 --encrypt`.
    Register {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The application it was produced for (cardApplyNo), if named.
        #[arg(long)]
        card_apply_no: Option<String>,
        /// The printed card number (physicalCardNo).
        #[arg(long)]
        card_no: String,
        /// The printed expiry, YYMM (physicalCardExpDate).
        #[arg(long)]
        expiry: String,
        /// The printed CVC (physicalCardCVC).
        #[arg(long)]
        cvc: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Report a card lost or lift the report, by PAR or card number:
    /// `client card-state --member 1001 <par|cardNo> SUSPEND`.
    CardState {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The card: its PAR (27 characters) or its number (16 digits).
        card: String,
        /// SUSPEND or RESUME.
        status: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Discard a card (a mobile card takes its physical cards):
    /// `client discard --member 1001 <par>`.
    Discard {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The card's PAR.
        par: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Apply for a new card in place of one reported lost:
    /// `client reissue --member 1001 <par> [--next-service <id>] [--no-delivery]`.
    Reissue {
        /// Member id (userInfo.userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The lost card's PAR (cardInfo.par).
        par: String,
        /// The new card's product (nextServiceId); the lost card's when absent.
        #[arg(long)]
        next_service: Option<String>,
        /// Ask for a mobile card only (isDeliveryRequired=false).
        #[arg(long)]
        no_delivery: bool,
        #[command(flatten)]
        address: AddressOptions,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Post any operation's JSON body, as it is:
    /// `client post /api/v1/user/info '{"userId": 1001}' --encrypt`.
    Post {
        /// The operation's path (one of `/openapi.json`'s).
        #[arg(value_parser = operation_path)]
        path: &'static str,
        /// The JSON body.
        body: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Apply for the renewal of a card that expires within 30 days:
    /// `client renew --member 1001 <cardNo>`.
    Renew {
        /// Member id (userInfo.userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// The expiring card's number (cardInfo.oldCardNo).
        card_no: String,
        #[command(flatten)]
        address: AddressOptions,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// List the member's cards: `client cards --member 1001 [--par <par>]`.
    Cards {
        /// Member id (userId).
        #[arg(long, default_value_t = sandbox::ACTIVE_MEMBER.to_string())]
        member: String,
        /// Only the card with this PAR.
        #[arg(long)]
        par: Option<String>,
        /// Only the card whose physical card has this number.
        #[arg(long)]
        physical_card_no: Option<String>,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Ask whose a card is: `client card-owner <cardNo> --encrypt`.
    CardOwner {
        /// The card's number.
        card_no: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Ask about a produced card no one registered yet:
    /// `client unregistered-card --card-no 9435... --expiry 3111 --cvc 123 --encrypt`.
    UnregisteredCard {
        /// The printed card number.
        #[arg(long)]
        card_no: String,
        /// The printed expiry, YYMM.
        #[arg(long)]
        expiry: String,
        /// The printed CVC.
        #[arg(long)]
        cvc: String,
        #[command(flatten)]
        common: ClientOptions,
    },
    /// Ask what products are: `client products 000170000002000 000170000003000`.
    Products {
        /// Product ids (serviceIdList).
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        common: ClientOptions,
    },
}

/// Where a new physical card is delivered (addressInfo).
#[derive(clap::Args)]
struct AddressOptions {
    /// Road-name address.
    #[arg(long, default_value = "서울특별시 강남구 테헤란로 1")]
    address: String,
    /// Address detail.
    #[arg(long, default_value = "101동 1001호")]
    detail: String,
    /// Zip code.
    #[arg(long, default_value = "06236")]
    zip: String,
}

impl AddressOptions {
    fn lines(&self) -> client::AddressLines<'_> {
        client::AddressLines {
            address: &self.address,
            detail: &self.detail,
            zip_code: &self.zip,
        }
    }
}

/// What every client action takes.
#[derive(clap::Args)]
struct ClientOptions {
    /// Encrypt the request (JWE); an encrypted answer is decrypted.
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
}

fn load_settings(config: Option<&Path>) -> anyhow::Result<Settings> {
    Settings::load(config, |name| std::env::var(name).ok()).context("configuration")
}

/// The path of the operation at `text`.
fn operation_path(text: &str) -> Result<&'static str, String> {
    prepaid_http::OPERATIONS
        .iter()
        .map(|operation| operation.path)
        .find(|path| *path == text)
        .ok_or_else(|| format!("no operation at {text}"))
}

/// The request `action` sends, and its options.
#[expect(
    clippy::too_many_lines,
    reason = "one short arm per client action, each mapping its arguments to its request"
)]
fn outgoing(action: &ClientAction) -> (Outgoing, &ClientOptions) {
    let call = |path, payload, common: &ClientOptions| Outgoing {
        path,
        payload,
        encrypt: common.encrypt,
        correlation_id: common.correlation_id.clone(),
    };
    match action {
        ClientAction::Issue {
            member,
            service,
            no_delivery,
            address,
            detail,
            zip,
            purpose,
            common,
        } => {
            let request = IssueRequest {
                member: member.clone(),
                service_id: service.clone(),
                delivery: !no_delivery,
                address: address.clone(),
                address_detail: detail.clone(),
                zip_code: zip.clone(),
                purpose: purpose.clone(),
                encrypt: common.encrypt,
                correlation_id: common.correlation_id.clone(),
            };
            let path = prepaid_http::ISSUE_DELIVERY_PATH;
            (call(path, client::payload(&request), common), common)
        }
        ClientAction::Cancel {
            member,
            card_apply_no,
            common,
        } => {
            let payload = client::cancel_payload(member, card_apply_no);
            let path = prepaid_http::CANCEL_APPLICATION_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::PreIssued { member, common } => {
            let payload = client::pre_issued_payload(member);
            let path = prepaid_http::PRE_ISSUED_CARDS_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::Delivery {
            member,
            card_apply_no,
            common,
        } => {
            let payload = client::delivery_payload(member, card_apply_no);
            let path = prepaid_http::DELIVERY_INQUIRY_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::Register {
            member,
            card_apply_no,
            card_no,
            expiry,
            cvc,
            common,
        } => {
            let payload =
                client::register_payload(member, card_apply_no.as_deref(), card_no, expiry, cvc);
            let path = prepaid_http::REGISTER_PHYSICAL_CARD_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::CardState {
            member,
            card,
            status,
            common,
        } => {
            let payload = client::card_state_payload(member, card, status);
            let path = prepaid_http::CARD_STATE_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::Discard {
            member,
            par,
            common,
        } => {
            let payload = client::discard_payload(member, par);
            let path = prepaid_http::DISCARD_CARD_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::Reissue {
            member,
            par,
            next_service,
            no_delivery,
            address,
            common,
        } => {
            let delivery = (!no_delivery).then(|| address.lines());
            let payload =
                client::reissue_payload(member, par, next_service.as_deref(), delivery.as_ref());
            let path = prepaid_http::REISSUE_DELIVERY_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::Post { path, body, common } => (call(path, body.clone(), common), common),
        ClientAction::Renew {
            member,
            card_no,
            address,
            common,
        } => {
            let payload = client::renew_payload(member, card_no, &address.lines());
            (call(prepaid_http::RENEW_CARD_PATH, payload, common), common)
        }
        ClientAction::Cards {
            member,
            par,
            physical_card_no,
            common,
        } => {
            let payload =
                client::card_list_payload(member, par.as_deref(), physical_card_no.as_deref());
            (call(prepaid_http::CARD_LIST_PATH, payload, common), common)
        }
        ClientAction::CardOwner { card_no, common } => {
            let payload = client::card_owner_payload(card_no);
            (call(prepaid_http::CARD_OWNER_PATH, payload, common), common)
        }
        ClientAction::UnregisteredCard {
            card_no,
            expiry,
            cvc,
            common,
        } => {
            let payload = client::unregistered_card_payload(card_no, expiry, cvc);
            let path = prepaid_http::UNREGISTERED_CARD_PATH;
            (call(path, payload, common), common)
        }
        ClientAction::Products { ids, common } => {
            let payload = client::products_payload(ids);
            (
                call(prepaid_http::PRODUCT_INQUIRY_PATH, payload, common),
                common,
            )
        }
    }
}

async fn run_client(config: Option<&Path>, action: &ClientAction) -> anyhow::Result<()> {
    let (call, common) = outgoing(action);
    let settings = load_settings(config)?;
    let credentials = read_credentials(&settings, common.credentials.clone())?;
    let base_url = common
        .url
        .clone()
        .unwrap_or_else(|| credentials.base_url.clone());
    let answer = client::send(&credentials, &base_url, &call, SystemClock.now())
        .await
        .with_context(|| format!("POST {base_url}{}", call.path))?;
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
    // A refusal is an answer, but not a success: scripts can tell by the exit status.
    match answer.body["response"]["code"].as_str() {
        Some("000_000") => Ok(()),
        code => anyhow::bail!(
            "POST {base_url}{} answered {}",
            call.path,
            code.unwrap_or("no code")
        ),
    }
}

/// Runs `action` against the operator interface.
async fn run_ops(
    config: Option<&Path>,
    action: OpsAction,
    (token, url, credentials): (Option<String>, Option<String>, Option<PathBuf>),
) -> anyhow::Result<()> {
    let settings = load_settings(config)?;
    let (token, base_url) = match (token, url) {
        (Some(token), Some(url)) => (token, url),
        (token, url) => {
            let stored = read_credentials(&settings, credentials)?;
            let token = token
                .or(stored.operator_token)
                .context("no operator token: pass --token (admin create-operator-token)")?;
            (token, url.unwrap_or(stored.base_url))
        }
    };
    let call = match action {
        OpsAction::Deliveries { limit } => client::OpsCall::Deliveries { limit },
        OpsAction::Report {
            card_apply_no,
            status,
        } => client::OpsCall::Report {
            card_apply_no,
            status,
        },
        OpsAction::Redeliver { card_apply_no } => client::OpsCall::Redeliver { card_apply_no },
        OpsAction::PrintedCard { card_apply_no } => client::OpsCall::PrintedCard { card_apply_no },
    };
    let answer = client::ops(&base_url, &token, &call)
        .await
        .with_context(|| format!("{base_url}{}", prepaid_http::OPS_PATH))?;
    println!("HTTP {}", answer.status);
    println!(
        "{}",
        serde_json::to_string_pretty(&answer.body).unwrap_or_default()
    );
    match answer.body["response"]["code"].as_str() {
        Some("000_000") => Ok(()),
        code => anyhow::bail!(
            "the operator interface answered {}",
            code.unwrap_or("no code")
        ),
    }
}

fn read_credentials(
    settings: &Settings,
    path: Option<PathBuf>,
) -> anyhow::Result<ClientCredentials> {
    let path = path.unwrap_or_else(|| settings.data_dir.join("sandbox-credentials.json"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} (start the sandbox first)", path.display()))?;
    serde_json::from_str(&text).with_context(|| path.display().to_string())
}

fn seconds(value: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(value.clamp(0.1, 86_400.0))
}

fn run_loadgen(config: Option<&Path>, arguments: LoadgenArgs) -> anyhow::Result<()> {
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
    let settings = load_settings(config)?;
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
            .with_context(|| format!("cannot write {}", path.display()))?;
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

async fn run_bench(config: Option<&Path>, action: BenchAction) -> anyhow::Result<()> {
    match action {
        BenchAction::EchoServer { listen, workers } => {
            let listener = std::net::TcpListener::bind(&listen).with_context(|| listen.clone())?;
            let port = listener.local_addr().map_err(anyhow::Error::msg)?.port();
            println!("echo server listening on http://127.0.0.1:{port}");
            ceilings::echo_server(listener, workers)
                .await
                .map_err(anyhow::Error::msg)
        }
        BenchAction::Database {
            database_url,
            duration,
            concurrency,
        } => {
            let settings = load_settings(config)?;
            let url = database_url.unwrap_or_else(|| {
                settings
                    .data_dir
                    .join(format!("bench-{}.sqlite3", std::process::id()))
                    .display()
                    .to_string()
            });
            let mut config = settings.database().map_err(anyhow::Error::msg)?;
            config.url.clone_from(&url);
            let report = ceilings::database(config.clone(), seconds(duration), concurrency)
                .await
                .map_err(anyhow::Error::msg)?;
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
            let report = ceilings::rsa(seconds(duration), threads).map_err(anyhow::Error::msg)?;
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
    let config = config.as_deref();
    let result = match command {
        Command::Client { action } => run_client(config, &action).await,
        Command::Ops {
            action,
            token,
            url,
            credentials,
        } => run_ops(config, action, (token, url, credentials)).await,
        Command::Loadgen(arguments) => run_loadgen(config, arguments),
        Command::Bench { action } => run_bench(config, action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("prepaid-tools: {error:#}");
            ExitCode::FAILURE
        }
    }
}
