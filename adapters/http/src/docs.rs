//! `/docs`: Swagger UI over `/openapi.json`, its assets vendored in the binary (no CDN).
//!
//! In the sandbox, the page opened on the machine the service runs on gets the sandbox
//! project's credentials from `/docs/sandbox-credentials.json` and signs (optionally encrypts)
//! each request in the browser, so that "Try it out" works. Anywhere else that route answers
//! `000_097` and the page is read-only.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header::HOST;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::pipeline;

const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const STYLESHEET: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
const TRY_IT: &[u8] = include_bytes!("../assets/try-it/try-it.js");
const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Prepaid card API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<style>#try-it { font-family: sans-serif; margin: 1em 2em; padding: 0.6em 1em; background: #f4f4f4; border-radius: 4px; }</style>
</head>
<body>
<div id="try-it">Loading.</div>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/try-it.js"></script>
</body>
</html>
"#;

/// The sandbox project's credentials, as JSON, for the API page to sign with. Its `Debug`
/// never shows them.
#[derive(Clone)]
pub struct TryIt {
    credentials: Arc<[u8]>,
}

impl TryIt {
    /// The page signs with `credentials_json`: `aspId`, `accessKey`, `secretKey`,
    /// `cryptoKeyId`, `serverPublicKeyPem` and `clientPrivateKeyPem`.
    pub fn new(credentials_json: Vec<u8>) -> Self {
        Self {
            credentials: credentials_json.into(),
        }
    }
}

impl std::fmt::Debug for TryIt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TryIt { credentials: <redacted> }")
    }
}

/// Registers `/docs` and its assets, with the credentials route when `try_it` is given.
pub fn configure(config: &mut web::ServiceConfig, try_it: Option<&TryIt>) {
    config
        .route(
            "/docs",
            web::get().to(|| async { page(INDEX.as_bytes(), "text/html; charset=utf-8") }),
        )
        .route(
            "/docs/",
            web::get().to(|| async { page(INDEX.as_bytes(), "text/html; charset=utf-8") }),
        )
        .route(
            "/docs/try-it.js",
            web::get().to(|| async { page(TRY_IT, "text/javascript") }),
        )
        .route(
            "/docs/swagger-ui-bundle.js",
            web::get().to(|| async { page(BUNDLE, "text/javascript") }),
        )
        .route(
            "/docs/swagger-ui.css",
            web::get().to(|| async { page(STYLESHEET, "text/css") }),
        );
    if let Some(try_it) = try_it {
        let credentials = try_it.credentials.clone();
        config.route(
            "/docs/sandbox-credentials.json",
            web::get().to(move |request: HttpRequest| {
                let credentials = credentials.clone();
                async move { sandbox_credentials(&request, &credentials) }
            }),
        );
    }
}

fn page(body: &'static [u8], content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}

/// The credentials, to a caller on this machine that named this machine: the TCP peer is a
/// loopback address and so is the `Host` the browser asked for (a page of another site whose
/// name was made to resolve to 127.0.0.1 names its own host, and is refused).
fn sandbox_credentials(request: &HttpRequest, credentials: &Arc<[u8]>) -> HttpResponse {
    let peer = request.peer_addr().map(|peer| peer.ip());
    let from_loopback = peer.is_some_and(|ip| ip.is_loopback());
    let host_is_loopback = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .is_some_and(names_loopback);
    if !(from_loopback && host_is_loopback) {
        tracing::warn!(
            target: "audit",
            peer = peer.map(|ip| ip.to_string()).unwrap_or_default(),
            "sandbox credentials refused to a page not opened on this machine"
        );
        return pipeline::not_found_response(request);
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(web::Bytes::copy_from_slice(credentials))
}

/// Whether a `Host` header names this machine: `localhost`, or a loopback address, with or
/// without a port.
fn names_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest
            .split_once(']')
            .map(|(name, _)| name)
            .unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::names_loopback;

    #[test]
    fn a_host_names_this_machine_only_as_localhost_or_a_loopback_address() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:1",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(names_loopback(host), "{host}");
        }
        for host in [
            "",
            "example.com",
            "localhost.example.com",
            "127.0.0.1.example.com:80",
            "10.0.0.1:8080",
            "[::2]:8080",
            "[::1",
            "::1",
        ] {
            assert!(!names_loopback(host), "{host}");
        }
    }
}
