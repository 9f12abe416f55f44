//! The whole HTTP server: every operation under every base path, the documentation routes,
//! metrics, health and readiness, the fallback for unknown paths and methods, and the
//! middleware that measures each request.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, Service as _};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use prepaid_application::{IssueCards, Readiness};

use crate::metrics::ApiMetrics;
use crate::operations;
use crate::pipeline::{self, ApiState};
use crate::{HttpConfig, InboundPorts, docs, openapi};

/// Registers everything the service answers on `config`; [`serve`] adds the request metrics
/// around it. Tests build an `App` with this alone.
pub fn configure(config: &mut web::ServiceConfig, ports: &InboundPorts, http: &HttpConfig) {
    let state = web::Data::new(ApiState {
        authenticator: ports.authenticator.clone(),
        products: ports.products.clone(),
        cipher: ports.cipher.clone(),
        max_body_bytes: http.max_body_bytes,
        metrics: ports.metrics.clone(),
    });
    let document = web::Data::new(
        serde_json::to_vec(&openapi::document(&http.base_paths)).unwrap_or_default(),
    );
    config
        .app_data(state)
        .app_data(document)
        .app_data(web::Data::new(ports.metrics.clone()))
        .app_data(web::Data::new(ports.issuance.clone()))
        .app_data(web::Data::new(ports.readiness.clone()));
    for endpoint in operations::endpoints(ports) {
        for base in &http.base_paths {
            let endpoint = endpoint.clone();
            config.service(
                web::resource(format!("{base}{}", endpoint.operation().path))
                    .route(web::post().to(
                        move |request: HttpRequest,
                              payload: web::Payload,
                              state: web::Data<ApiState>| {
                            pipeline::run(endpoint.clone(), request, payload, state)
                        },
                    ))
                    .default_service(web::to(pipeline::method_not_allowed)),
            );
        }
    }
    config
        .route("/openapi.json", web::get().to(serve_openapi))
        .route("/metrics", web::get().to(serve_metrics))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
    crate::ops::configure(config, &ports.ops);
    docs::configure(config, http.try_it.as_ref());
    config.default_service(web::to(pipeline::not_found));
}

/// The server on `listener`, not yet running: [`configure`] with each request's route, status
/// and latency measured. In-flight requests get up to 30 s to finish at a stop.
///
/// # Errors
/// The listener's I/O error.
pub fn serve(
    ports: InboundPorts,
    http: HttpConfig,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let workers = http.workers;
    let mut server = HttpServer::new(move || {
        let metrics = ports.metrics.clone();
        App::new()
            .wrap_fn(move |request, service| {
                let started = std::time::Instant::now();
                let route = request
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                let metrics = metrics.clone();
                let response = service.call(request);
                async move {
                    let response = response.await?;
                    metrics.observe_request(&route, response.status().as_u16(), started.elapsed());
                    Ok(response)
                }
            })
            .configure(|config| configure(config, &ports, &http))
    })
    .shutdown_timeout(30);
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}

async fn serve_openapi(document: web::Data<Vec<u8>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.get_ref().clone())
}

async fn serve_metrics(
    metrics: web::Data<ApiMetrics>,
    issuance: web::Data<Arc<dyn IssueCards>>,
) -> HttpResponse {
    metrics.set_card_numbers_left(&issuance.card_numbers_left());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"up"}"#)
}

async fn readyz(readiness: web::Data<Arc<dyn Readiness>>) -> HttpResponse {
    match readiness.check_ready().await {
        Ok(()) => HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"ready"}"#),
        Err(error) => {
            tracing::warn!(error = %pipeline::error_chain(&error), "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("application/json")
                .body(r#"{"status":"not ready"}"#)
        }
    }
}
