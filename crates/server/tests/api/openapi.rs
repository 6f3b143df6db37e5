//! The OpenAPI document: served, documented offline, and committed without drift.

use growdesk_store::BackendKind;
use reqwest::Method;

use crate::helpers::spawn_app;

#[test]
fn committed_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = growdesk_http::openapi::openapi_json();
    assert!(
        committed == generated,
        "api/openapi.json is stale; regenerate it with `cargo run -q --bin growdesk-server -- openapi > api/openapi.json`"
    );
}

#[tokio::test]
async fn document_and_docs_page_are_served_without_internet() {
    let app = spawn_app(BackendKind::Sqlite).await;
    let document = app
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/auth/login",
        "/api/auth/me",
        "/api/users",
        "/api/users/{id}",
        "/api/health",
        "/api/ready",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let page = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for external in ["http://", "https://", "//cdn", "//unpkg"] {
        let loads_external = html
            .match_indices("src=\"")
            .any(|(at, _)| html[at + 5..].starts_with(external))
            || html
                .match_indices("href=\"")
                .any(|(at, _)| html[at + 6..].starts_with(external));
        assert!(!loads_external, "the docs page loads {external}: {html}");
    }
    let script = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200, "the UI's script is served locally");
}
