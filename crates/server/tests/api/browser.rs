//! The widget in a real browser: headless Chromium driven by playwright-core (`tests/e2e`).
//! `scripts/test.sh` installs both when they are missing; without them this test fails and
//! says how to install them, rather than being skipped.

use std::path::Path;
use std::process::Command;

use growdesk_store::BackendKind;
use serde_json::json;

use crate::helpers::spawn_app;

const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test]
async fn a_visitor_chats_with_an_agent_in_a_real_browser() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    assert!(
        Path::new(CHROMIUM).exists() && e2e.join("node_modules/playwright-core").exists(),
        "the browser test needs Debian's chromium and playwright-core: run scripts/test.sh, which installs \
         them (apt-get install chromium; npm ci --prefix crates/server/tests/e2e)"
    );
    let app = spawn_app(BackendKind::Sqlite).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let widget = app
        .post(
            "/api/widgets",
            Some(&admin),
            json!({"name": "Demo", "allowed_origins": [app.base.clone()]}),
        )
        .await
        .expect(201)
        .body;
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();

    let base = app.base.clone();
    let key = widget["key"].as_str().unwrap().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(e2e.join("widget.mjs"))
            .current_dir(&e2e)
            .env("BASE", base)
            .env("KEY", key)
            .env("AGENT_TOKEN", agent)
            .env("ARTIFACTS", &artifacts)
            .env("CHROMIUM", CHROMIUM)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}
