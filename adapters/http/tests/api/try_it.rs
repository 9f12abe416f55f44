//! The API page's sandbox credentials: given to a page opened on this machine, in the sandbox
//! only, never to another peer or to a page that named another host.

use std::sync::Arc;

use actix_web::App;
use actix_web::test::{self, TestRequest};
use prepaid_http::{HttpConfig, TryIt};

use crate::support::{FakeCipher, Store, ports_with};

const CREDENTIALS: &str = r#"{"aspId":"SANDBOXASP00001","secretKey":"the secret"}"#;

async fn ask(try_it: Option<TryIt>, peer: Option<&str>, host: &str) -> (u16, String, String) {
    let ports = ports_with(&Store::default(), Arc::new(FakeCipher::default()));
    let config = HttpConfig {
        try_it,
        ..HttpConfig::default()
    };
    let app = test::init_service(
        App::new().configure(|service| prepaid_http::configure(service, &ports, &config)),
    )
    .await;
    let mut request = TestRequest::get()
        .uri("/docs/sandbox-credentials.json")
        .insert_header(("Host", host));
    if let Some(peer) = peer {
        request = request.peer_addr(peer.parse().unwrap());
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("Cache-Control")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    (status, cache, body)
}

fn sandbox() -> TryIt {
    TryIt::new(CREDENTIALS.as_bytes().to_vec())
}

#[actix_web::test]
async fn a_page_opened_on_this_machine_gets_the_sandbox_credentials_never_cached() {
    for (peer, host) in [
        ("127.0.0.1:50000", "127.0.0.1:8080"),
        ("127.0.0.1:50000", "localhost:8080"),
        ("[::1]:50000", "[::1]:8080"),
    ] {
        let (status, cache, body) = ask(Some(sandbox()), Some(peer), host).await;
        assert_eq!((status, cache.as_str()), (200, "no-store"), "{peer} {host}");
        assert_eq!(body, CREDENTIALS);
    }
}

#[actix_web::test]
async fn another_machine_or_a_page_naming_another_host_gets_not_found_and_no_credentials() {
    for (peer, host) in [
        (Some("10.0.0.7:50000"), "127.0.0.1:8080"),
        (Some("192.168.1.20:50000"), "localhost"),
        // A site whose name was made to resolve to 127.0.0.1: the browser sends its name.
        (Some("127.0.0.1:50000"), "attacker.example:8080"),
        (Some("127.0.0.1:50000"), "localhost.attacker.example"),
        (None, "127.0.0.1:8080"),
    ] {
        let (status, _, body) = ask(Some(sandbox()), peer, host).await;
        assert_eq!(status, 404, "{peer:?} {host}");
        assert!(body.contains("000_097"), "{body}");
        assert!(!body.contains("secret"), "{body}");
    }
}

#[actix_web::test]
async fn outside_the_sandbox_there_are_no_credentials_to_ask_for() {
    let (status, _, body) = ask(None, Some("127.0.0.1:50000"), "127.0.0.1:8080").await;
    assert_eq!(status, 404);
    assert!(body.contains("000_097"), "{body}");
}

#[test]
fn the_credentials_never_show_in_debug_output() {
    let shown = format!("{:?}", sandbox());
    assert!(
        !shown.contains("secret") && !shown.contains("SANDBOX"),
        "{shown}"
    );
    assert!(shown.contains("<redacted>"), "{shown}");
}
