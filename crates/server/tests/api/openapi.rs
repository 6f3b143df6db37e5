//! The OpenAPI document: served, documented offline, and committed without drift.

use std::path::{Path, PathBuf};
use std::process::Command;

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

const VALIDATOR_VAR: &str = "GROWDESK_OPENAPI_VALIDATOR";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `openapi-spec-validator` to run; the test fails rather than skips without one, so CI
/// cannot pass an unchecked document.
fn validator() -> PathBuf {
    let validator = std::env::var_os(VALIDATOR_VAR).unwrap_or_else(|| {
        panic!(
            "{VALIDATOR_VAR} is not set. Run the tests with `scripts/test.sh` (`make test`), which \
             installs the pinned openapi-spec-validator into target/py and sets it, or point \
             {VALIDATOR_VAR} at one of the version in crates/server/tests/openapi/requirements.txt."
        )
    });
    let validator = PathBuf::from(validator);
    assert!(
        validator.is_file(),
        "{VALIDATOR_VAR}={} is not a file",
        validator.display()
    );
    validator
}

/// Runs the OpenAPI validator, then the examples check with the Python of the validator's
/// virtualenv, on one document; every complaint of either, for the assertion message.
fn problems_with(document: &Path) -> Vec<String> {
    let validator = validator();
    let python = validator.with_file_name("python");
    let check_examples = workspace_root().join("crates/server/tests/openapi/check_examples.py");
    let runs = [
        Command::new(&validator).arg(document).output(),
        Command::new(&python)
            .arg(&check_examples)
            .arg(document)
            .output(),
    ];
    runs.into_iter()
        .map(|run| run.expect("run the OpenAPI checks"))
        .filter(|output| !output.status.success())
        .map(|output| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .collect()
}

#[tokio::test]
async fn served_and_committed_documents_pass_an_openapi_validator() {
    let committed = workspace_root().join("api/openapi.json");
    let app = spawn_app(BackendKind::Sqlite).await;
    let served = app
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let served_path = dir.path().join("served.json");
    std::fs::write(&served_path, served.to_string()).expect("write the served document");
    for document in [&committed, &served_path] {
        let problems = problems_with(document);
        assert!(
            problems.is_empty(),
            "{} is not a valid OpenAPI document:\n{}",
            document.display(),
            problems.join("\n")
        );
    }
}

#[test]
fn every_operation_is_described_and_the_main_ones_have_examples() {
    let document: Value =
        serde_json::from_str(&growdesk_http::openapi::openapi_json()).expect("the document");
    let mut undescribed = Vec::new();
    let mut without_example = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let name = format!("{} {path}", method.to_uppercase());
            let has_text = |field: &str| {
                operation[field]
                    .as_str()
                    .is_some_and(|text| !text.trim().is_empty())
            };
            if !has_text("summary") || !has_text("description") {
                undescribed.push(name.clone());
            }
            let main = ["/api/auth/", "/api/tickets", "/widget/tickets"]
                .iter()
                .any(|prefix| path.starts_with(prefix));
            let body_example =
                operation["requestBody"]["content"]
                    .as_object()
                    .is_some_and(|content| {
                        content.values().any(|media| media.get("example").is_some())
                    });
            if main && operation.get("requestBody").is_some() && !body_example {
                without_example.push(name);
            }
        }
    }
    assert!(
        undescribed.is_empty(),
        "no summary or description: {undescribed:?}"
    );
    assert!(
        without_example.is_empty(),
        "no request example: {without_example:?}"
    );
    assert!(
        document["servers"]
            .as_array()
            .is_some_and(|servers| !servers.is_empty()),
        "the document names its server"
    );
}

#[test]
fn credentials_are_security_schemes_not_parameters() {
    let document: Value =
        serde_json::from_str(&growdesk_http::openapi::openapi_json()).expect("the document");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["widget_key"]["type"], "apiKey");
    assert_eq!(schemes["widget_key"]["in"], "header");
    assert_eq!(schemes["widget_key"]["name"], "X-Widget-Key");
    assert_eq!(schemes["visitor"]["type"], "http");
    assert_eq!(schemes["visitor"]["scheme"], "bearer");
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let credential_parameters: Vec<&Value> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| {
                    parameter["in"] == "header"
                        && ["x-widget-key", "authorization"].contains(
                            &parameter["name"]
                                .as_str()
                                .unwrap_or_default()
                                .to_lowercase()
                                .as_str(),
                        )
                })
                .collect();
            assert!(
                credential_parameters.is_empty(),
                "{method} {path} takes a credential as a parameter: {credential_parameters:?}"
            );
            let keyed = path.starts_with("/widget/") && path != "/widget/ws";
            if keyed {
                let requirements = operation["security"].as_array().expect("widget security");
                assert!(
                    requirements
                        .iter()
                        .all(|requirement| requirement.get("widget_key").is_some()),
                    "{method} {path} needs the widget key in every requirement"
                );
            }
            if path.starts_with("/widget/tickets")
                && !(method == "post" && path == "/widget/tickets")
            {
                let requirements = operation["security"].as_array().expect("visitor security");
                assert!(
                    requirements
                        .iter()
                        .all(|requirement| requirement.get("visitor").is_some()),
                    "{method} {path} needs a visitor token"
                );
            }
        }
    }
}

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
