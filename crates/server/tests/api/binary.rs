//! The real `growdesk-server` binary: zero-configuration start, operator commands, refused
//! secrets, graceful shutdown, and logs that never carry a password or token; two processes on
//! one database, and the binary killed or stopped under load, in the modules below.

mod realtime;
mod under_load;

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_growdesk-server");

/// A server process started with a clean environment in `dir`.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    pub(crate) stdout: Vec<String>,
    /// Standard error, read as it comes so a busy server never blocks on a full pipe.
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// A test that fails part-way leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub(crate) fn command(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

impl Server {
    pub(crate) fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = command(dir, env)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start growdesk-server");
        // Standard error is drained from the start: a server logging at debug level writes more
        // than a pipe holds before it prints where it runs, and would block on the write.
        let mut errors = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut errors, &mut text).unwrap();
            String::from_utf8_lossy(&text).into_owned()
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdout = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("the server prints where it runs")
                .unwrap();
            stdout.push(line.clone());
            if let Some(rest) = line.strip_prefix("GrowDesk is running at ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // The sign-in help follows the first line at once; its curl command ends it.
        for line in lines.by_ref() {
            let line = line.unwrap();
            let last = line.starts_with("  curl");
            stdout.push(line);
            if last {
                break;
            }
        }
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            base,
            stdout,
            stderr: Some(stderr),
        }
    }

    /// Sends SIGTERM and returns the exit status and everything written to standard error.
    pub(crate) fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, stderr)
    }
}

#[tokio::test]
async fn starts_with_no_configuration_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let health = reqwest::get(format!("{}/api/health", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        dir.path().join("data/growdesk.db").exists(),
        "the SQLite file is created"
    );
    let key = dir.path().join("data/jwt-secret");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let printed = server.stdout.join("\n");
    assert!(
        printed.contains("First admin created: admin@growdesk.local"),
        "{printed}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
}

/// The path of `scripts/sigterm-when-ready.sh`, which signals a process the moment it prints a
/// line and reports its exit status.
fn sigterm_when_ready_script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sigterm-when-ready.sh")
}

/// SIGTERM the moment the banner is printed is a clean stop: the handlers are in place before
/// the server says it runs. Several fresh starts, as a late handler loses the race only at times.
#[test]
fn sigterm_as_soon_as_the_banner_is_printed_stops_cleanly() {
    for start in 1..=5 {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new("bash")
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg(sigterm_when_ready_script())
            .args(["GrowDesk is running at ", BINARY, "--addr", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "start {start}: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test]
async fn logs_carry_request_ids_and_never_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let admin_password = "admin-secret-password-42";
    let jwt_secret = "jwt-secret-that-is-long-enough-for-hs256";
    let server = Server::start(
        dir.path(),
        &[
            ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
            ("GROWDESK_ADMIN_PASSWORD", admin_password),
            ("GROWDESK_JWT_SECRET", jwt_secret),
            ("GROWDESK_LOG_LEVEL", "debug"),
            ("GROWDESK_LOG_FORMAT", "json"),
            ("GROWDESK_TYPO_SETTING", "1"),
        ],
    );
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let login: serde_json::Value = client
        .post(url("/api/auth/login"))
        .json(&json!({"email": "root@example.com", "password": admin_password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["access_token"].as_str().unwrap().to_owned();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let customer_password = "customer-password-77";
    let registered: serde_json::Value = client
        .post(url("/api/auth/register"))
        .json(&json!({"email": "cu@example.com", "password": customer_password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refreshed: serde_json::Value = client
        .post(url("/api/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_password = "changed-password-88";
    let changed = client
        .patch(url("/api/auth/me"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .json(&json!({"password": new_password, "current_password": admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let wrong = client
        .post(url("/api/auth/login"))
        .json(&json!({"email": "root@example.com", "password": "wrong-guess-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let request_id = wrong.headers()["x-request-id"].to_str().unwrap().to_owned();
    let webhook: serde_json::Value = client
        .post(url("/api/webhooks"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .json(&json!({"url": "https://93.184.215.14/hook", "event_types": ["*"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let webhook_secret = webhook["secret"].as_str().expect("the webhook was created");

    let (status, logs) = server.terminate();
    assert!(status.success(), "{logs}");
    let secrets = [
        admin_password,
        jwt_secret,
        customer_password,
        new_password,
        "wrong-guess-password",
        &access,
        &refresh,
        registered["access_token"].as_str().unwrap(),
        registered["refresh_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        webhook_secret,
    ];
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
    assert!(logs.contains("sign-in failed"), "{logs}");
    assert!(
        logs.contains(&request_id),
        "the failed request's log line carries its id"
    );
    assert!(
        logs.contains("GROWDESK_TYPO_SETTING"),
        "unknown variables are warned about"
    );
    for line in logs.lines().filter(|line| !line.trim().is_empty()) {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
}

#[test]
fn a_short_signing_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path(), &[("GROWDESK_JWT_SECRET", "too-short")])
        .args(["--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the refused secret is not echoed"
    );
}

#[test]
fn service_level_targets_that_do_not_parse_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(
        dir.path(),
        &[("GROWDESK_SLA_RESOLUTION_HOURS", "low=168,medium=soon")],
    )
    .args(["--addr", "127.0.0.1:0"])
    .output()
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("sla_resolution_hours: \"soon\" is not a number of hours"),
        "{stderr}"
    );
}

#[test]
fn a_public_url_that_is_not_an_absolute_http_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path(), &[("GROWDESK_PUBLIC_URL", "help.example.com")])
        .args(["--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid public_url: \"help.example.com\" is not an absolute URL"),
        "{stderr}"
    );
}

#[tokio::test]
async fn create_user_reads_the_password_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut create = command(dir.path(), &[])
        .args([
            "create-user",
            "--email",
            "Agent@Example.com",
            "--name",
            "Agent",
            "--role",
            "agent",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"agent-password-1\n")
        .unwrap();
    let output = create.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created agent agent@example.com"));

    let mut short = command(dir.path(), &[])
        .args(["create-user", "--email", "b@example.com"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    short.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let output = short.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("password must be at least 8 characters")
    );

    let server = Server::start(dir.path(), &[]);
    let login = reqwest::Client::new()
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({"email": "agent@example.com", "password": "agent-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let (status, _) = server.terminate();
    assert!(status.success());
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as JSON, within thirty seconds: long, so that a loaded machine is never
/// mistaken for a lost frame.
async fn next_text(socket: &mut Socket) -> serde_json::Value {
    use futures_util::StreamExt as _;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(30), socket.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text)))) => {
                return serde_json::from_str(&text).unwrap();
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no frame: {other:?}"),
        }
    }
}

/// Signs in as the admin the multi-process tests configure (`root@example.com`).
pub(crate) async fn root_token(client: &reqwest::Client, base: &str) -> String {
    let login: serde_json::Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "root@example.com", "password": "root-password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}
