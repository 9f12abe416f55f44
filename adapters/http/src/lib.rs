#![doc = include_str!("../README.md")]

mod body;
mod docs;
mod dto;
mod error;
mod handler;
mod headers;
mod metrics;
mod openapi;

use actix_web::{HttpResponse, web};

pub use body::issuance_request as parse_issue_delivery_body;
pub use error::ApiError;
pub use handler::{ApiState, issue_delivery, method_not_allowed, not_found};
pub use headers::names as header_names;
pub use metrics::ApiMetrics;
pub use openapi::document as openapi_document;

/// The path of the issue-and-delivery API under a base path.
pub const ISSUE_DELIVERY_PATH: &str = "/api/v1/prepay-card/issue/delivery";

/// The HTTP adapter's settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The base paths the API answers under (`""` for the root; `"/open-api"` as the sandbox).
    pub base_paths: Vec<String>,
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            base_paths: vec![String::new(), "/open-api".to_owned()],
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Registers the API (under every base path), `/openapi.json`, `/docs` and `/metrics`. Add
/// `.default_service(web::to(prepaid_http::not_found))` to the `App` so unknown paths get an
/// envelope too.
pub fn configure(config: &mut web::ServiceConfig, state: web::Data<ApiState>, http: &HttpConfig) {
    let state_metrics = state.metrics.clone();
    let document = web::Data::new(
        serde_json::to_vec(&openapi::document(&http.base_paths)).unwrap_or_default(),
    );
    config.app_data(state).app_data(document);
    for base in &http.base_paths {
        config.service(
            web::resource(format!("{base}{ISSUE_DELIVERY_PATH}"))
                .route(web::post().to(issue_delivery))
                .default_service(web::to(method_not_allowed)),
        );
    }
    config.route("/openapi.json", web::get().to(serve_openapi));
    config.app_data(web::Data::new(state_metrics));
    config.route("/metrics", web::get().to(metrics::serve));
    docs::configure(config);
}

async fn serve_openapi(document: web::Data<Vec<u8>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.get_ref().clone())
}
