#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "statistics over counts and durations far below 2^52; exact integers are not needed"
)]

//! The project's own load generator and ceiling measurements. Every request needs a
//! fresh correlation id and an HMAC over its body, which generic tools cannot make.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prepaid_application::ports::{Clock as _, JweProfile};
use prepaid_bootstrap::sandbox::ClientCredentials;
use prepaid_crypto::SystemClock;
use serde_json::json;

use crate::client;
use crate::jwe::SharedKeyEncrypter;

/// What to drive.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// Service base URL.
    pub base_url: String,
    /// The path to post to.
    pub path: String,
    /// Concurrent requests in flight.
    pub concurrency: usize,
    /// How long to drive before measuring: connections are opened and caches warmed; answers
    /// in this time count in [`LoadReport::statuses`] and [`LoadReport::errors`] only.
    pub warmup: Duration,
    /// How long to measure, after the warm-up.
    pub duration: Duration,
    /// Requests per second in total (`None`: as fast as answers come back).
    pub rate: Option<f64>,
    /// Encrypt every request (D5).
    pub encrypt: bool,
    /// Product to apply for (a mobile card only).
    pub service_id: String,
    /// Member to apply for.
    pub member: String,
    /// Client threads (each with its own event loop).
    pub threads: usize,
    /// The server process, whose CPU time over the measured window is reported.
    pub server_pid: Option<u32>,
}

/// What was measured.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Requests answered in the measured time.
    pub requests: u64,
    /// Requests that failed without an answer, warm-up included.
    pub errors: u64,
    /// Answers per HTTP status, warm-up included (a refusal is never hidden).
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// Measured wall time (the warm-up excluded).
    pub elapsed: Duration,
    /// Latencies in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Each answered request as (microseconds from the start of the run when it was sent,
    /// its latency in microseconds), in no particular order: where in time the slow ones are.
    pub timeline: Vec<(u32, u32)>,
    /// CPU seconds the server process used in the measured window (with a server pid).
    pub server_cpu_seconds: Option<f64>,
    /// CPU seconds this process used in the measured window.
    pub generator_cpu_seconds: Option<f64>,
}

impl LoadReport {
    /// Answers per second.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The `q` quantile of latency in milliseconds.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile_ms(&self.latencies_us, q)
    }

    /// The timeline as CSV (`sent_ms,latency_ms`), in the order requests were sent.
    pub fn timeline_csv(&self) -> String {
        let mut rows = self.timeline.clone();
        rows.sort_unstable();
        let mut csv = String::from("sent_ms,latency_ms\n");
        for (sent, latency) in rows {
            let _ = writeln!(
                csv,
                "{:.3},{:.3}",
                f64::from(sent) / 1000.0,
                f64::from(latency) / 1000.0
            );
        }
        csv
    }

    /// One JSON object with every figure.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "requests": self.requests,
            "errors": self.errors,
            "statuses": self.statuses.iter().map(|(status, count)| (status.to_string(), json!(count))).collect::<serde_json::Map<String, serde_json::Value>>(),
            "elapsedSeconds": self.elapsed.as_secs_f64(),
            "throughput": self.throughput(),
            "p50Ms": self.percentile_ms(0.50),
            "p90Ms": self.percentile_ms(0.90),
            "p99Ms": self.percentile_ms(0.99),
            "maxMs": self.percentile_ms(1.0),
        })
    }
}

/// The `q` quantile, in milliseconds, of latencies in microseconds sorted in ascending order
/// (0 when there are none).
pub fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    let Some(last) = sorted_us.len().checked_sub(1) else {
        return 0.0;
    };
    let index = ((last as f64) * q).round() as usize;
    f64::from(sorted_us[index.min(last)]) / 1000.0
}

/// A body that is unique per request: the unknown member `loadNonce` is ignored by the service
/// (D2) but makes every HMAC, and so every tran token, distinct even within one millisecond.
fn body(
    plan: &LoadPlan,
    encrypter: Option<&SharedKeyEncrypter>,
    nonce: u64,
) -> Result<String, String> {
    let plaintext = json!({
        "userInfo": {"userId": serde_json::from_str::<serde_json::Value>(&plan.member).map_err(|error| error.to_string())?},
        "serviceId": plan.service_id,
        "isDeliveryRequired": false,
        "loadNonce": nonce,
    })
    .to_string();
    match encrypter {
        Some(encrypter) => {
            let compact = encrypter
                .encrypt(plaintext.as_bytes())
                .map_err(|error| error.to_string())?;
            Ok(json!({"encData": compact}).to_string())
        }
        None => Ok(plaintext),
    }
}

async fn worker(
    plan: Arc<LoadPlan>,
    credentials: Arc<ClientCredentials>,
    stop: Arc<AtomicBool>,
    nonce: Arc<AtomicU64>,
    pace: Option<Duration>,
    offset: Duration,
    epoch: Instant,
) -> LoadReport {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let url = format!("{}{}", plan.base_url, plan.path);
    let mut report = LoadReport::default();
    let encrypter = if plan.encrypt {
        let Ok(encrypter) =
            SharedKeyEncrypter::new(&credentials.server_public_key_pem, JweProfile::DEFAULT)
        else {
            report.errors += 1;
            return report;
        };
        Some(encrypter)
    } else {
        None
    };
    // Each worker wraps one content key to the server key and sends every request under it
    // (see `SharedKeyEncrypter`): the service still unwraps a key per request.
    // Workers are staggered over one pacing interval, so a set rate arrives evenly, not in bursts.
    let mut next = Instant::now() + offset;
    while !stop.load(Ordering::Relaxed) {
        if let Some(pace) = pace {
            let now = Instant::now();
            if next > now {
                actix_web::rt::time::sleep(next - now).await;
            }
            next += pace;
        }
        let serial = nonce.fetch_add(1, Ordering::Relaxed);
        let Ok(body) = body(&plan, encrypter.as_ref(), serial) else {
            report.errors += 1;
            continue;
        };
        let now = SystemClock.now();
        let correlation_id = client::new_correlation_id(now);
        let Ok(headers) = client::signed_headers(
            &credentials,
            body.as_bytes(),
            now,
            &correlation_id,
            plan.encrypt,
        ) else {
            report.errors += 1;
            continue;
        };
        let mut request = client.post(&url);
        for (name, value) in headers {
            request = request.insert_header((name, value));
        }
        let started = Instant::now();
        match request.send_body(body).await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let _ = response.body().limit(1024 * 1024).await;
                *report.statuses.entry(status).or_default() += 1;
                if started >= epoch {
                    let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                    let sent = u32::try_from(started.duration_since(epoch).as_micros())
                        .unwrap_or(u32::MAX);
                    report.latencies_us.push(micros);
                    report.timeline.push((sent, micros));
                    report.requests += 1;
                }
            }
            Err(_) => report.errors += 1,
        }
    }
    report
}

/// Drives the plan and returns the merged report.
pub fn run(plan: LoadPlan, credentials: ClientCredentials) -> LoadReport {
    let plan = Arc::new(plan);
    let credentials = Arc::new(credentials);
    let stop = Arc::new(AtomicBool::new(false));
    let nonce = Arc::new(AtomicU64::new(u64::from(std::process::id()) << 32));
    let threads = plan.threads.clamp(1, plan.concurrency.max(1));
    let pace = plan
        .rate
        .map(|rate| Duration::from_secs_f64(plan.concurrency as f64 / rate.max(0.001)));
    // The measured window starts after the warm-up.
    let started = Instant::now() + plan.warmup;
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let (plan, credentials, stop, nonce) = (
                plan.clone(),
                credentials.clone(),
                stop.clone(),
                nonce.clone(),
            );
            let share =
                plan.concurrency / threads + usize::from(thread < plan.concurrency % threads);
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let tasks: Vec<_> = (0..share)
                        .map(|index| {
                            let slot = index * threads + thread;
                            let offset = pace.map_or(Duration::ZERO, |pace| {
                                pace.mul_f64(slot as f64 / plan.concurrency as f64)
                            });
                            actix_web::rt::spawn(worker(
                                plan.clone(),
                                credentials.clone(),
                                stop.clone(),
                                nonce.clone(),
                                pace,
                                offset,
                                started,
                            ))
                        })
                        .collect();
                    let mut merged = LoadReport::default();
                    for task in tasks {
                        if let Ok(report) = task.await {
                            merge(&mut merged, report);
                        }
                    }
                    merged
                })
            })
        })
        .collect();
    let server_cpu = || {
        plan.server_pid
            .and_then(|pid| cpu_seconds(&pid.to_string()))
    };
    std::thread::sleep(plan.warmup);
    let (server_before, own_before) = (server_cpu(), cpu_seconds("self"));
    std::thread::sleep(plan.duration);
    let (server_after, own_after) = (server_cpu(), cpu_seconds("self"));
    stop.store(true, Ordering::Relaxed);
    let mut report = LoadReport::default();
    for handle in handles {
        if let Ok(part) = handle.join() {
            merge(&mut report, part);
        }
    }
    report.elapsed = started.elapsed();
    report.server_cpu_seconds = server_after
        .zip(server_before)
        .map(|(after, before)| after - before);
    report.generator_cpu_seconds = own_after
        .zip(own_before)
        .map(|(after, before)| after - before);
    report.latencies_us.sort_unstable();
    report
}

fn merge(into: &mut LoadReport, part: LoadReport) {
    into.requests += part.requests;
    into.errors += part.errors;
    for (status, count) in part.statuses {
        *into.statuses.entry(status).or_default() += count;
    }
    into.latencies_us.extend(part.latencies_us);
    into.timeline.extend(part.timeline);
}

/// CPU time (user + system) used so far by process `pid` (`"self"` for this one), in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every supported architecture.
    Some((user + system) / 100.0)
}

/// Peak resident memory (`VmHWM`) of process `pid`, in KiB.
pub fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}
