//! Property-based fuzzing of the whole API with schemathesis, against the document the real
//! server binary serves, with every check on, as an admin, an agent and a customer.
//!
//! `scripts/test.sh` installs the pinned schemathesis (`crates/server/tests/fuzz/requirements.txt`)
//! and names its `st` in `GROWDESK_SCHEMATHESIS`; `GROWDESK_FUZZ_EXAMPLES` sets the examples per
//! operation (a small default keeps CI fast; raise it for a thorough run). Reports land in
//! `target/fuzz-reports/<backend>-<identity>/`.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_growdesk-server");
const SCHEMATHESIS_VAR: &str = "GROWDESK_SCHEMATHESIS";
const EXAMPLES_VAR: &str = "GROWDESK_FUZZ_EXAMPLES";
const DEFAULT_EXAMPLES: u32 = 15;
/// A fixed seed, so that a failure found in CI replays locally.
const SEED: &str = "1";
const ADMIN_EMAIL: &str = "root@example.com";
const ADMIN_PASSWORD: &str = "fuzz-admin-password-1";

#[tokio::test]
async fn schemathesis_finds_nothing_on_sqlite() {
    fuzz(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn schemathesis_finds_nothing_on_postgres() {
    fuzz(BackendKind::Postgres).await;
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `st` to run; the test fails rather than skips without one, so CI cannot pass unfuzzed.
fn schemathesis() -> PathBuf {
    let st = std::env::var_os(SCHEMATHESIS_VAR).unwrap_or_else(|| {
        panic!(
            "{SCHEMATHESIS_VAR} is not set. Run the tests with `scripts/test.sh` (`make test`), \
             which installs the pinned schemathesis into target/py and sets it, or point \
             {SCHEMATHESIS_VAR} at an `st` of the version in crates/server/tests/fuzz/requirements.txt."
        )
    });
    let st = PathBuf::from(st);
    assert!(
        st.is_file(),
        "{SCHEMATHESIS_VAR}={} is not a file",
        st.display()
    );
    st
}

fn examples() -> String {
    std::env::var(EXAMPLES_VAR).map_or(DEFAULT_EXAMPLES.to_string(), |value| {
        let count: u32 = value
            .parse()
            .unwrap_or_else(|_| panic!("{EXAMPLES_VAR}={value:?} is not a number"));
        count.to_string()
    })
}

/// The server process; killed when dropped, so a failed assertion leaves nothing running.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, database_url: &str) -> Self {
        let log = dir.join("server.log");
        let data = dir.join("data");
        let mut child = Command::new(BINARY)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs([
                ("GROWDESK_DATABASE_URL", database_url),
                ("GROWDESK_DATA_DIR", &data.display().to_string()),
                (
                    "GROWDESK_JWT_SECRET",
                    "fuzz-signing-key-0123456789-abcdefghij",
                ),
                ("GROWDESK_ADMIN_EMAIL", ADMIN_EMAIL),
                ("GROWDESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
                // The fuzzer signs nobody in again: its tokens must outlive the run, and its
                // request rate is not an attack.
                ("GROWDESK_ACCESS_TOKEN_TTL_SECS", "86400"),
                ("GROWDESK_AUTH_ATTEMPTS_PER_IP_PER_MINUTE", "1000000"),
                ("GROWDESK_LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE", "1000000"),
                ("GROWDESK_WIDGET_REQUESTS_PER_IP_PER_MINUTE", "1000000"),
                ("GROWDESK_WIDGET_REQUESTS_PER_WIDGET_PER_MINUTE", "1000000"),
                ("GROWDESK_LOG_LEVEL", "warn"),
            ])
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create the server log"))
            .spawn()
            .expect("start growdesk-server");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server prints where it runs")
                .expect("read the server's output");
            if let Some(rest) = line.strip_prefix("GrowDesk is running at ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base, log }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the fuzzer needs to reach every kind of resource with each identity.
struct Seeded {
    admin: String,
    agent: String,
    customer: String,
    widget_key: String,
}

async fn call(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    assert!(status.is_success(), "POST {url}: {status} {body}");
    body
}

async fn sign_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let body = json!({"email": email, "password": password});
    let tokens = call(client, format!("{base}/api/auth/login"), None, body).await;
    tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

async fn seed(base: &str) -> Seeded {
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{base}{path}");
    let admin = sign_in(&client, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for (email, role) in [
        ("agent@example.com", "agent"),
        ("customer@example.com", "customer"),
    ] {
        let body = json!({"email": email, "role": role, "password": "fuzz-user-password"});
        call(&client, url("/api/users"), Some(&admin), body).await;
    }
    let agent = sign_in(&client, base, "agent@example.com", "fuzz-user-password").await;
    let customer = sign_in(&client, base, "customer@example.com", "fuzz-user-password").await;
    let category = call(
        &client,
        url("/api/categories"),
        Some(&admin),
        json!({"name": "Billing"}),
    )
    .await;
    let ticket = json!({"subject": "Invoice missing", "description": "Where is it?",
        "category_id": category["id"]});
    call(&client, url("/api/tickets"), Some(&customer), ticket).await;
    let widget = call(
        &client,
        url("/api/widgets"),
        Some(&admin),
        json!({"name": "Shop"}),
    )
    .await;
    Seeded {
        admin,
        agent,
        customer,
        widget_key: widget["key"].as_str().expect("a widget key").to_owned(),
    }
}

/// One `st run`; `None` when it passed, else what to print.
fn run_schemathesis(
    server: &Server,
    report: &str,
    token: &str,
    widget_key: &str,
    paths: &[&str],
) -> Option<String> {
    let root = workspace_root();
    let report_dir = root.join("target/fuzz-reports").join(report);
    let config = root.join("crates/server/tests/fuzz/schemathesis.toml");
    let output = Command::new(schemathesis())
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/api/openapi.json", server.base))
        .args(["--url", &server.base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--header", &format!("X-Widget-Key: {widget_key}")])
        .args([
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            &examples(),
        ])
        // One worker and no saved examples: a run depends on the seed alone, not on what
        // earlier runs on this machine found.
        .args(["--workers", "1", "--generation-database", "none"])
        .args(["--no-color", "--report", "junit"])
        .arg("--report-dir")
        .arg(&report_dir)
        .args(paths)
        .output()
        .expect("run schemathesis");
    if output.status.success() {
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let tail = lines[lines.len().saturating_sub(150)..].join("\n");
    Some(format!(
        "schemathesis ({report}) exited with {}; report in {}\n{tail}\n{}",
        output.status,
        report_dir.display(),
        String::from_utf8_lossy(&output.stderr)
    ))
}

async fn fuzz(kind: BackendKind) {
    let st = schemathesis();
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(dir.path(), database.url());
    let seeded = seed(&server.base).await;
    let backend = match kind {
        BackendKind::Sqlite => "sqlite",
        BackendKind::Postgres => "postgres",
    };
    // Signing out revokes the session the fuzzer authenticates with, so the other operations
    // run with it excluded, and it runs last, alone, with a session of its own.
    let everything_else = ["--exclude-path", "/api/auth/logout"];
    let mut failures = Vec::new();
    for (identity, token) in [
        ("admin", &seeded.admin),
        ("agent", &seeded.agent),
        ("customer", &seeded.customer),
    ] {
        let report = format!("{backend}-{identity}");
        failures.extend(run_schemathesis(
            &server,
            &report,
            token,
            &seeded.widget_key,
            &everything_else,
        ));
    }
    let client = reqwest::Client::new();
    let session = sign_in(
        &client,
        &server.base,
        "customer@example.com",
        "fuzz-user-password",
    )
    .await;
    failures.extend(run_schemathesis(
        &server,
        &format!("{backend}-logout"),
        &session,
        &seeded.widget_key,
        &["--include-path", "/api/auth/logout"],
    ));
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    drop(server);
    assert!(
        failures.is_empty(),
        "{} found failures ({} at {}):\n{}\nserver log:\n{log}",
        st.display(),
        backend,
        dir.path().display(),
        failures.join("\n")
    );
}
