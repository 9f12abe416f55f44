//! `/docs`: Swagger UI over `/openapi.json`, its assets vendored in the binary (no CDN).

use actix_web::{HttpResponse, web};

const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const STYLESHEET: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Prepaid card API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"#;
const INIT: &str = r##"window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
"##;

/// Registers `/docs` and its assets.
pub fn configure(config: &mut web::ServiceConfig) {
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
            "/docs/init.js",
            web::get().to(|| async { page(INIT.as_bytes(), "text/javascript") }),
        )
        .route(
            "/docs/swagger-ui-bundle.js",
            web::get().to(|| async { page(BUNDLE, "text/javascript") }),
        )
        .route(
            "/docs/swagger-ui.css",
            web::get().to(|| async { page(STYLESHEET, "text/css") }),
        );
}

fn page(body: &'static [u8], content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}
