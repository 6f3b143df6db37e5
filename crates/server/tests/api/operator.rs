//! The operator's side of the real `growdesk-server` binary: what the first start prints and
//! where the generated admin password goes, the permissions of everything in the data
//! directory, `reset-password`, and the help of every command of both binaries.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use serde_json::{Value, json};

use crate::binary::{BINARY, Server, command};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

async fn sign_in(base: &str, email: &str, password: &str) -> (reqwest::StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_generated_admin_password_goes_to_a_private_file_when_stdout_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let file = dir.path().join("data/first-admin-password");
    let password = std::fs::read_to_string(&file)
        .expect("the password file is written")
        .trim()
        .to_owned();
    assert!(password.len() >= 32);
    assert_eq!(mode(&file), 0o600);
    let printed = server.stdout.join("\n");
    assert!(!printed.contains(&password), "{printed}");
    assert!(printed.contains("data/first-admin-password"), "{printed}");

    let (status, _) = sign_in(&server.base, "admin@growdesk.local", &password).await;
    assert_eq!(status, 200);
    assert_printed_sign_in_runs(dir.path(), &server.stdout);

    let (_, logs) = server.terminate();
    assert!(!logs.contains(&password), "the password reached the log");
    assert!(logs.contains("data/first-admin-password"), "{logs}");
    assert!(
        !logs.contains('\u{1b}') && !printed.contains('\u{1b}'),
        "colour codes outside a terminal: {logs}"
    );
}

/// The sign-in command the server printed last, pasted as it is into bash where the server
/// runs, answers 200 with an access token.
fn assert_printed_sign_in_runs(dir: &Path, printed: &[String]) {
    let curl = printed.last().expect("the server printed its sign-in help");
    assert!(curl.starts_with("  curl -fsS "), "{printed:?}");
    let run = Command::new("bash")
        .current_dir(dir)
        .args(["-c", &format!("{curl} -w '\\n%{{http_code}}'")])
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{curl}\n{answer}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (body, status) = answer.rsplit_once('\n').unwrap();
    assert_eq!(status, "200", "{curl}\n{answer}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert!(body["access_token"].is_string(), "{body}");
}

/// `script` gives the server a terminal for standard output (and error), as a person has.
#[test]
fn a_terminal_is_shown_the_generated_admin_password_and_no_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut script = Command::new("script")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .args([
            "-qefc",
            &format!("{BINARY} --addr 127.0.0.1:0"),
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("util-linux script runs the server on a terminal");
    let lines = BufReader::new(script.stdout.take().unwrap()).lines();
    // Up to the sign-in command, which ends what the server prints at start.
    let printed: Vec<String> = lines
        .map(Result::unwrap)
        .take_while(|line| !line.contains("  curl"))
        .collect();
    let password = printed
        .iter()
        .find_map(|line| line.trim_end().split("shown this once: ").nth(1))
        .unwrap_or_else(|| panic!("no password shown: {printed:?}"))
        .to_owned();
    script.kill().unwrap();
    script.wait().unwrap();
    assert!(password.len() >= 32, "{printed:?}");
    assert!(
        !dir.path().join("data/first-admin-password").exists(),
        "a terminal needs no password file"
    );
    assert!(
        printed.iter().any(|line| line.contains('\u{1b}')),
        "log lines on a terminal are coloured: {printed:?}"
    );
}

/// Every file the server writes in its data directory (the SQLite database with its WAL and
/// shared-memory files, the signing key, attachments) is its user's alone, and so is every
/// directory.
#[tokio::test]
async fn everything_in_the_data_directory_is_readable_by_the_service_user_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
            ("GROWDESK_ADMIN_PASSWORD", "root-password-1"),
        ],
    );
    let data = dir.path().join("data");
    let (_, login) = sign_in(&server.base, "root@example.com", "root-password-1").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let ticket: Value = client
        .post(format!("{}/api/tickets", server.base))
        .bearer_auth(&token)
        .json(&json!({"subject": "With a file", "description": "d"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let part = reqwest::multipart::Part::bytes(b"private bytes".to_vec())
        .file_name("f.txt")
        .mime_str("text/plain")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("body", "with a file")
        .part("files", part);
    let posted = client
        .post(format!(
            "{}/api/tickets/{}/messages",
            server.base,
            ticket["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);

    // While the server runs, so that the WAL and shared-memory files are there.
    let mut seen = Vec::new();
    let mut pending = vec![data.clone()];
    while let Some(path) = pending.pop() {
        let expected = if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            0o700
        } else {
            0o600
        };
        assert_eq!(mode(&path), expected, "{}", path.display());
        seen.push(path.strip_prefix(&data).unwrap().display().to_string());
    }
    for expected in [
        "growdesk.db",
        "growdesk.db-wal",
        "growdesk.db-shm",
        "jwt-secret",
        "attachments",
    ] {
        assert!(
            seen.iter().any(|path| path == expected),
            "{expected} in {seen:?}"
        );
    }
    assert!(
        seen.iter()
            .filter(|path| path.starts_with("attachments/"))
            .count()
            >= 3,
        "an attachment's file and its two directory levels: {seen:?}"
    );
    server.terminate();
}

/// A database an older version created 0644 is left as its owner set it, but every start says
/// that other users may read it, and how to fix it.
#[test]
fn a_database_others_can_read_is_warned_about_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
        ("GROWDESK_ADMIN_PASSWORD", "root-password-1"),
    ];
    // The warning comes while the database opens, before the server says it runs; how the
    // process then ends does not matter here.
    let (_, logs) = Server::start(dir.path(), &env).terminate();
    assert!(logs.contains("starting"), "{logs}");
    assert!(!logs.contains("other users may read it"), "{logs}");

    let database = dir.path().join("data/growdesk.db");
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, logs) = Server::start(dir.path(), &env).terminate();
    let warning = logs
        .lines()
        .find(|line| line.contains("other users may read it"))
        .unwrap_or_else(|| panic!("no warning: {logs}"));
    assert!(
        warning.contains("growdesk.db") && warning.contains("chmod 600"),
        "{warning}"
    );
    assert_eq!(mode(&database), 0o644, "the owner's choice is kept");
}

/// Runs `growdesk-server ARGS` in `dir` with `env`, `stdin` on its standard input.
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = command(dir, env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn reset_password_sets_the_password_and_ends_every_session(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let env = [
        ("GROWDESK_DATABASE_URL", database.url()),
        ("GROWDESK_DATA_DIR", data.as_str()),
        (
            "GROWDESK_JWT_SECRET",
            "a-secret-that-survives-restarts-0123456789",
        ),
        ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
        ("GROWDESK_ADMIN_PASSWORD", "root-password-1"),
    ];
    let server = Server::start(dir.path(), &env);
    let (status, before) = sign_in(&server.base, "root@example.com", "root-password-1").await;
    assert_eq!(status, 200);
    server.terminate();

    let new_password = "reset-password-from-the-cli-9";
    let refused = [
        (
            vec!["reset-password", "--email", "root@example.com"],
            "short\n",
            "password must be at least 8 characters",
        ),
        (
            vec!["reset-password", "--email", "nobody@example.com"],
            "long-enough-password\n",
            "not found",
        ),
        (
            vec![
                "reset-password",
                "--email",
                "root@example.com",
                "--generate",
            ],
            "",
            "terminal",
        ),
        (
            vec![
                "--addr",
                "127.0.0.1:0",
                "reset-password",
                "--email",
                "root@example.com",
            ],
            "",
            "--addr",
        ),
    ];
    for (args, stdin, reason) in refused {
        let output = run(dir.path(), &env, &args, stdin);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was refused");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
    let output = run(
        dir.path(),
        &env,
        &["reset-password", "--email", " ROOT@example.com"],
        &format!("{new_password}\n"),
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("reset the password of root@example.com"),
        "{stdout}"
    );
    assert!(!stdout.contains(new_password) && !stderr.contains(new_password));

    let server = Server::start(dir.path(), &env);
    let (status, _) = sign_in(&server.base, "root@example.com", "root-password-1").await;
    assert_eq!(status, 401, "the old password is gone");
    let (status, _) = sign_in(&server.base, "root@example.com", new_password).await;
    assert_eq!(status, 200);
    let client = reqwest::Client::new();
    let me = client
        .get(format!("{}/api/auth/me", server.base))
        .bearer_auth(before["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "the old access token is refused");
    let refreshed = client
        .post(format!("{}/api/auth/refresh", server.base))
        .json(&json!({"refresh_token": before["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 401, "the old session is ended");
    let (_, logs) = server.terminate();
    assert!(!logs.contains(new_password));
}

on_both_backends! {
    reset_password_sets_the_password_and_ends_every_session,
}

#[test]
fn make_help_describes_every_target_of_the_makefile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap();
    let targets: Vec<&str> = makefile
        .lines()
        .filter_map(|line| line.split_once(':').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase()))
        .collect();
    let output = Command::new("make")
        .current_dir(&root)
        .args(["-s", "help"])
        .output()
        .expect("make runs");
    assert!(output.status.success(), "{output:?}");
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(targets.len() >= 6, "{targets:?}");
    for target in targets {
        let line = listed
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(target))
            .unwrap_or_else(|| panic!("make help misses {target}: {listed}"));
        assert!(
            line.split_whitespace().count() > 3,
            "{target} has no description: {line}"
        );
    }
}
