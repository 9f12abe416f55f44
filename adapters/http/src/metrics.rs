//! Prometheus metrics at `/metrics`: requests by route and status, latency, issued cards,
//! idempotent replays, authentication failures.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The service's metrics.
#[derive(Clone)]
pub struct ApiMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    applications: IntCounter,
    mobile_cards: IntCounter,
    replays: IntCounter,
    auth_failures: IntCounterVec,
    use_case_answers: IntCounterVec,
    card_numbers_left: IntGaugeVec,
}

impl std::fmt::Debug for ApiMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiMetrics")
    }
}

impl ApiMetrics {
    /// Fresh metrics in their own registry.
    ///
    /// # Panics
    /// Never: the metric definitions are constant and valid.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "prepaid_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "prepaid_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        let applications = IntCounter::new(
            "prepaid_card_applications_total",
            "Card applications recorded",
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        let mobile_cards =
            IntCounter::new("prepaid_mobile_cards_issued_total", "Mobile cards issued")
                .unwrap_or_else(|_| unreachable!("valid metric"));
        let replays = IntCounter::new(
            "prepaid_idempotent_replays_total",
            "Retries answered with the first outcome",
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "prepaid_authentication_failures_total",
                "Authentication failures by code",
            ),
            &["code"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        let use_case_answers = IntCounterVec::new(
            Opts::new(
                "prepaid_use_case_answers_total",
                "Requests that passed authentication and validation and reached their use case, by operation and the code it answered",
            ),
            &["operation", "code"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        let card_numbers_left = IntGaugeVec::new(
            Opts::new(
                "prepaid_card_numbers_left",
                "Card numbers never issued under each BIN this instance issued from",
            ),
            &["bin"],
        )
        .unwrap_or_else(|_| unreachable!("valid metric"));
        for collector in [
            Box::new(card_numbers_left.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(applications.clone()),
            Box::new(mobile_cards.clone()),
            Box::new(replays.clone()),
            Box::new(auth_failures.clone()),
            Box::new(use_case_answers.clone()),
        ] {
            registry
                .register(collector)
                .unwrap_or_else(|_| unreachable!("unique metric names"));
        }
        Self {
            registry,
            requests,
            latency,
            applications,
            mobile_cards,
            replays,
            auth_failures,
            use_case_answers,
            card_numbers_left,
        }
    }

    /// Sets how many card numbers are left under each BIN.
    pub fn set_card_numbers_left(&self, left: &[(prepaid_domain::Bin, u64)]) {
        for (bin, count) in left {
            self.card_numbers_left
                .with_label_values(&[bin.as_str()])
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
    }

    /// Records one request to `route` answered with `status` after `elapsed`.
    pub fn observe_request(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn issued(&self, mobile_card: bool, replayed: bool) {
        if replayed {
            self.replays.inc();
        } else {
            self.applications.inc();
            if mobile_card {
                self.mobile_cards.inc();
            }
        }
    }

    /// Records that `operation`'s use case answered, refusing with `refusal` or not.
    pub(crate) fn use_case_answered(&self, operation: &str, refusal: Option<&crate::ApiError>) {
        let code = refusal.map_or(prepaid_domain::ErrorCode::Success, crate::ApiError::code);
        self.use_case_answers
            .with_label_values(&[operation, code.code()])
            .inc();
    }

    pub(crate) fn authentication_failed(&self, code: &str) {
        self.auth_failures.with_label_values(&[code]).inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut buffer = Vec::new();
        // Encoding well-formed metrics into a Vec cannot fail.
        drop(TextEncoder::new().encode(&self.registry.gather(), &mut buffer));
        buffer
    }
}

impl Default for ApiMetrics {
    fn default() -> Self {
        Self::new()
    }
}
