//! How GrowDesk is built and deployed. The workspace's plain build gives both binaries, small.
//! The container set-up is checked without Docker (these machines have no daemon): the binaries
//! run with exactly the environment, commands and volumes `Dockerfile` and `docker-compose.yml`
//! give them, and the Dockerfile keeps its invariants (an unprivileged user who owns the data
//! volume, a health check, a dependency cache).

mod compose;
mod container;
mod dockerfile;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use growdesk_app::config::{ENV_PREFIX, KNOWN_KEYS};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, PoolSettings, Store};

use compose::{Compose, interpolate};
use container::{ContainerSpec, database_url_as_seen_by_the_test};
use dockerfile::{creates_owned_directory, dockerfile};

on_both_backends!(containers_serve_and_run_their_jobs);

const SERVER: &str = env!("CARGO_BIN_EXE_growdesk-server");

/// The longest a step that normally takes a fraction of it may take; only a failure waits this.
const PATIENCE: Duration = Duration::from_secs(90);

/// The jobs a running sync server must have run after its first pass.
const MAINTENANCE_JOBS: [&str; 5] = [
    "auto_close",
    "sla_breaches",
    "purge_expired",
    "clean_temp",
    "deliver_webhooks",
];

/// PostgreSQL: the compose file's stack, with the user's shell setting only the two variables
/// the README's command sets. SQLite: the images alone (`docker run`), sharing one volume.
async fn containers_serve_and_run_their_jobs(kind: BackendKind) {
    let stages = dockerfile();
    let database = TestDatabase::create(kind).await;
    let volume = tempfile::tempdir().unwrap();
    let (mut server, sync, admin) = match kind {
        BackendKind::Postgres => {
            let shell = BTreeMap::from([
                ("POSTGRES_PASSWORD", "compose-database-password"),
                (
                    "GROWDESK_JWT_SECRET",
                    "compose-signing-key-0123456789-abcdefgh",
                ),
            ]);
            let compose = Compose::read(&shell);
            let server = compose.container("server", &stages, &database, volume.path());
            assert_eq!(
                server.environment["GROWDESK_ADMIN_EMAIL"], "",
                "compose passes an unset admin email as an empty string"
            );
            let sync = compose.container("sync", &stages, &database, volume.path());
            (server, sync, None)
        }
        BackendKind::Sqlite => {
            let admin = ("owner@example.com", "image-admin-password-7");
            let mut server = ContainerSpec::image(&stages["server"], volume.path());
            server
                .environment
                .insert("GROWDESK_ADMIN_EMAIL".into(), admin.0.into());
            server
                .environment
                .insert("GROWDESK_ADMIN_PASSWORD".into(), admin.1.into());
            let sync = ContainerSpec::image(&stages["sync"], volume.path());
            (server, sync, Some(admin))
        }
    };
    // The container listens on its own port (published by compose); here, on a free one.
    let container_addr = server.environment["GROWDESK_ADDR"].clone();
    assert!(container_addr.ends_with(":8080"), "{container_addr}");
    server
        .environment
        .insert("GROWDESK_ADDR".into(), "127.0.0.1:0".into());
    let checks_url = database_url_as_seen_by_the_test(&server, &database, volume.path());

    let mut running = server.start();
    let base = running.wait_for_listening();
    let health = reqwest::get(format!("{base}/api/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let listening_at = base.trim_start_matches("http://").to_owned();
    server
        .environment
        .insert("GROWDESK_ADDR".into(), listening_at.clone());
    let healthcheck = server.healthcheck(&stages["server"]);
    assert!(healthcheck.status.success(), "{}", healthcheck.stderr);

    let store = Store::connect(
        &checks_url,
        PoolSettings {
            max_connections: 2,
            timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    // Unset, the first admin's generated password lands on the volume (no terminal), where the
    // README's `docker compose exec server cat data/first-admin-password` finds it.
    let (email, password) = match admin {
        Some((email, password)) => (email.to_owned(), password.to_owned()),
        None => {
            let file = volume.path().join("growdesk-data/first-admin-password");
            let password = std::fs::read_to_string(&file)
                .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            (
                "admin@growdesk.local".to_owned(),
                password.trim().to_owned(),
            )
        }
    };
    let login = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "the first admin signs in");

    let mut running_sync = sync.start();
    let deadline = Instant::now() + PATIENCE;
    for job in MAINTENANCE_JOBS {
        while store.jobs().runs(job).await.unwrap().is_empty() {
            if let Some(status) = running_sync.child.try_wait().unwrap() {
                panic!(
                    "the sync service exited ({status}) instead of running its jobs:\n{}",
                    running_sync.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{job} never ran:\n{}",
                running_sync.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(
        running_sync.child.try_wait().unwrap().is_none(),
        "the sync service keeps running after its first pass"
    );
    store.close().await;

    let (status, logs) = running_sync.terminate();
    assert!(status.success(), "sync: {status}\n{logs}");
    let (status, logs) = running.terminate();
    assert!(status.success(), "server: {status}\n{logs}");
    let stopped = server.healthcheck(&stages["server"]);
    assert!(
        !stopped.status.success(),
        "the health check fails once the server is gone"
    );
}

/// Compose passes `${VAR:-}` as an empty string: the server starts with every one of its
/// variables empty exactly as with none set.
#[tokio::test]
async fn every_variable_left_empty_counts_as_unset() {
    let home = tempfile::tempdir().unwrap();
    let mut environment: BTreeMap<String, String> = KNOWN_KEYS
        .iter()
        .chain(&["config"])
        .map(|key| {
            (
                format!("{ENV_PREFIX}{}", key.to_ascii_uppercase()),
                String::new(),
            )
        })
        .collect();
    environment.insert("DATABASE_URL".into(), String::new());
    let server = ContainerSpec {
        argv: [
            "growdesk-server",
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ]
        .map(str::to_owned)
        .to_vec(),
        environment,
        workdir: home.path().to_owned(),
    };
    let mut running = server.start();
    let base = running.wait_for_listening();
    let health = reqwest::get(format!("{base}/api/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        home.path().join("data/growdesk.db").exists(),
        "the default database"
    );
    let (status, logs) = running.terminate();
    assert!(status.success(), "{logs}");
}

/// `cargo build --release` builds both binaries, `cargo run` still starts the server, and the
/// release binaries carry no debug information.
#[test]
fn the_plain_build_gives_both_binaries_without_debug_information() {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        // From the root: inside a member's directory, that member is the only default one.
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let default_members = metadata["workspace_default_members"].as_array().unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let binaries_built: Vec<&str> = packages
        .iter()
        .filter(|package| default_members.contains(&package["id"]))
        .flat_map(|package| package["targets"].as_array().unwrap())
        .filter(|target| target["kind"] == serde_json::json!(["bin"]))
        .map(|target| target["name"].as_str().unwrap())
        .collect();
    for binary in ["growdesk-server", "growdesk-sync"] {
        assert!(
            binaries_built.contains(&binary),
            "{binary}: {binaries_built:?}"
        );
    }
    let runs: Vec<&str> = packages
        .iter()
        .filter(|package| default_members.contains(&package["id"]))
        .filter_map(|package| package["default_run"].as_str())
        .collect();
    assert_eq!(runs, ["growdesk-server"], "`cargo run` starts the server");

    let manifest: toml::Table = repository_file("Cargo.toml").parse().unwrap();
    let release = &manifest["profile"]["release"];
    let no_debug_information = release.get("debug").is_none_or(|debug| {
        *debug == toml::Value::Boolean(false) || debug.as_str() == Some("none")
    });
    let stripped = release.get("strip").is_some_and(|strip| {
        *strip == toml::Value::Boolean(true) || strip.as_str().is_some_and(|level| level != "none")
    });
    assert!(
        no_debug_information && stripped,
        "release binaries ship without debug information: {release:?}"
    );
}

/// The Dockerfile's promises that no run without Docker can show.
#[test]
fn dockerfile_keeps_its_invariants() {
    let stages = dockerfile();
    for image in ["server", "sync"] {
        let stage = &stages[image];
        assert_eq!(stage.user, "growdesk", "{image} runs unprivileged");
        let user_at = stage
            .instructions
            .iter()
            .position(|(keyword, _)| keyword == "USER")
            .unwrap();
        assert!(
            !stage.volumes.is_empty(),
            "{image} keeps its data on a volume"
        );
        for volume in &stage.volumes {
            let prepared = stage.instructions[..user_at]
                .iter()
                .filter(|(keyword, _)| keyword == "RUN")
                .flat_map(|(_, run)| run.split("&&"))
                .any(|step| creates_owned_directory(step, volume, &stage.user));
            assert!(
                prepared,
                "{image}: {volume} is created and owned by {} before USER",
                stage.user
            );
            assert!(
                stage.environment["GROWDESK_DATA_DIR"] == *volume,
                "{image}: the data directory is the volume"
            );
        }
    }
    assert_eq!(
        stages["server"].healthcheck,
        ["growdesk-server", "healthcheck"],
        "the server image checks its own health (it has no curl)"
    );
    let build = &stages["build"];
    let compile = build
        .instructions
        .iter()
        .find(|(keyword, run)| keyword == "RUN" && run.contains("cargo build"))
        .expect("the build stage compiles");
    for cache in [
        format!("--mount=type=cache,target={}/target", build.workdir),
        "--mount=type=cache,target=/usr/local/cargo/registry".to_owned(),
    ] {
        assert!(
            compile.1.contains(&cache),
            "a source change must not rebuild every dependency: {cache}"
        );
    }
    let ignored = repository_file(".dockerignore");
    for path in ["target", "data", ".git"] {
        assert!(
            ignored.lines().any(|line| line.trim() == path),
            "{path} stays out of the build context"
        );
    }
}

#[test]
fn compose_interpolation_follows_docker_compose() {
    let shell = BTreeMap::from([("SET", "value"), ("EMPTY", "")]);
    let cases = [
        ("${SET}", Ok("value")),
        ("$SET/x", Ok("value/x")),
        ("${UNSET:-fallback}", Ok("fallback")),
        ("${EMPTY:-fallback}", Ok("fallback")),
        ("${EMPTY-fallback}", Ok("")),
        ("${UNSET:-}", Ok("")),
        ("$$SET", Ok("$SET")),
        ("${UNSET:?set UNSET}", Err("set UNSET")),
        ("${EMPTY:?must be set}", Err("must be set")),
        ("${EMPTY?must be set}", Ok("")),
    ];
    for (text, expected) in cases {
        let expected = expected.map(str::to_owned).map_err(str::to_owned);
        assert_eq!(interpolate(text, &shell), expected, "{text}");
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn repository_file(name: &str) -> String {
    let path = workspace_root().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {name}: {error}"))
}

/// The sync binary, built beside the server's (`scripts/test.sh` builds the whole workspace).
pub(crate) fn sync_binary() -> PathBuf {
    let path = Path::new(SERVER).with_file_name("growdesk-sync");
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build -p growdesk-sync)",
        path.display()
    );
    path
}
