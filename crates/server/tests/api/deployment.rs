//! How GrowDesk is built and deployed. The workspace's plain build gives both binaries, small.
//! The container set-up is checked without Docker (these machines have no daemon): the binaries
//! run with exactly the environment, commands and volumes `Dockerfile` and `docker-compose.yml`
//! give them, and the Dockerfile keeps its invariants (an unprivileged user who owns the data
//! volume, a health check, a dependency cache).

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use growdesk_app::config::{ENV_PREFIX, KNOWN_KEYS};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, PoolSettings, Store};
use serde::Deserialize;

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

on_both_backends!(containers_serve_and_run_their_jobs);

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

/// One stage of the Dockerfile, with what it inherits from the stage it starts from.
#[derive(Debug, Clone, Default)]
struct Stage {
    environment: BTreeMap<String, String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    volumes: Vec<String>,
    workdir: String,
    user: String,
    /// `(KEYWORD, arguments)` in order, inherited ones first, continuation lines joined.
    instructions: Vec<(String, String)>,
}

/// The Dockerfile's stages by name.
fn dockerfile() -> BTreeMap<String, Stage> {
    let text = repository_file("Dockerfile");
    let mut stages: BTreeMap<String, Stage> = BTreeMap::new();
    let mut current: Option<(String, Stage)> = None;
    for line in logical_lines(&text) {
        let (keyword, arguments) = line.split_once(' ').unwrap_or((&line, ""));
        let (keyword, arguments) = (keyword.to_ascii_uppercase(), arguments.trim().to_owned());
        if keyword == "FROM" {
            let words: Vec<&str> = arguments.split_whitespace().collect();
            let [base, as_keyword, name] = words[..] else {
                panic!("every stage is named: FROM {arguments}");
            };
            assert!(as_keyword.eq_ignore_ascii_case("as"), "FROM {arguments}");
            if let Some((name, stage)) = current.take() {
                stages.insert(name, stage);
            }
            let inherited = stages.get(base).cloned().unwrap_or_default();
            current = Some((name.to_owned(), inherited));
            continue;
        }
        let (_, stage) = current.as_mut().expect("FROM comes first");
        match keyword.as_str() {
            "ENV" => {
                for pair in arguments.split_whitespace() {
                    let (name, value) = pair.split_once('=').expect("ENV NAME=value");
                    assert!(!value.contains('"'), "unquoted ENV values: {pair}");
                    stage.environment.insert(name.to_owned(), value.to_owned());
                }
            }
            "ENTRYPOINT" => {
                stage.entrypoint = exec_form(&arguments);
                // Docker too: a new entrypoint drops the command inherited with the old one.
                stage.cmd.clear();
            }
            "CMD" => stage.cmd = exec_form(&arguments),
            "HEALTHCHECK" => {
                let (_, command) = arguments
                    .split_once("CMD ")
                    .expect("HEALTHCHECK [options] CMD [..]");
                stage.healthcheck = exec_form(command);
            }
            "VOLUME" => stage
                .volumes
                .extend(arguments.split_whitespace().map(str::to_owned)),
            "WORKDIR" => stage.workdir = arguments.clone(),
            "USER" => stage.user = arguments.clone(),
            _ => {}
        }
        stage.instructions.push((keyword, arguments));
    }
    let (name, stage) = current.expect("the Dockerfile has stages");
    stages.insert(name, stage);
    stages
}

/// Instructions with their continuation lines joined and comments dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(start) => {
                pending.push_str(start);
                pending.push(' ');
            }
            None => {
                pending.push_str(trimmed);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

fn exec_form(arguments: &str) -> Vec<String> {
    serde_json::from_str(arguments)
        .unwrap_or_else(|error| panic!("exec form (a JSON array), not {arguments}: {error}"))
}

/// `install -d -o USER … DIR`, or `mkdir` and `chown USER … DIR`, in one step of a RUN.
fn creates_owned_directory(step: &str, directory: &str, user: &str) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    let names_directory = words.contains(&directory);
    let owned_by_user = |option: &str| {
        words
            .windows(2)
            .any(|pair| pair[0] == option && pair[1] == user)
    };
    names_directory
        && match words.first() {
            Some(&"install") => words.contains(&"-d") && owned_by_user("-o"),
            Some(&"chown") => words
                .iter()
                .any(|word| word.split(':').next() == Some(user)),
            _ => false,
        }
}

#[derive(Debug, Deserialize)]
struct ComposeFile {
    services: BTreeMap<String, ComposeService>,
}

#[derive(Debug, Deserialize)]
struct ComposeService {
    build: Option<ComposeBuild>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    command: Option<Vec<String>>,
    #[serde(default)]
    volumes: Vec<String>,
    #[serde(default)]
    ports: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ComposeBuild {
    context: String,
    dockerfile: Option<String>,
    target: Option<String>,
}

/// `docker-compose.yml` with its variables substituted from a given shell.
struct Compose {
    file: ComposeFile,
    shell: BTreeMap<&'static str, &'static str>,
}

impl Compose {
    fn read(shell: &BTreeMap<&'static str, &'static str>) -> Self {
        let file = serde_norway::from_str(&repository_file("docker-compose.yml"))
            .expect("docker-compose.yml parses");
        Self {
            file,
            shell: shell.clone(),
        }
    }

    fn environment(&self, service: &str) -> BTreeMap<String, String> {
        self.file.services[service]
            .environment
            .iter()
            .map(|(name, value)| {
                let value = interpolate(value, &self.shell)
                    .unwrap_or_else(|error| panic!("{service}: {name}: {error}"));
                (name.clone(), value)
            })
            .collect()
    }

    /// A built service as it would run: its image's stage, its environment over the image's,
    /// its command, its volumes, and the `postgres` service standing for the test's database.
    fn container(
        &self,
        name: &str,
        stages: &BTreeMap<String, Stage>,
        database: &TestDatabase,
        volumes: &Path,
    ) -> ContainerSpec {
        let service = &self.file.services[name];
        let build = service.build.as_ref().expect("built from this repository");
        assert_eq!(build.context, ".");
        assert_eq!(
            build.dockerfile.as_deref().unwrap_or("Dockerfile"),
            "Dockerfile"
        );
        let stage = &stages[build.target.as_deref().expect("names its image's stage")];
        let postgres = self.environment("postgres");
        let compose_database = format!(
            "postgres://{}:{}@postgres:5432/{}",
            postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]
        );
        let mut environment = stage.environment.clone();
        for (variable, value) in self.environment(name) {
            if variable == "GROWDESK_DATABASE_URL" {
                assert_eq!(value, compose_database, "{name} uses the postgres service");
                environment.insert(variable, database.url().to_owned());
            } else {
                environment.insert(variable, value);
            }
        }
        let mounts = service
            .volumes
            .iter()
            .map(|mount| {
                let (volume, path) = mount.split_once(':').expect("VOLUME:PATH");
                (path.to_owned(), volumes.join(volume))
            })
            .collect();
        for port in &service.ports {
            let container_port = port.rsplit(':').next().unwrap();
            let listens = &environment["GROWDESK_ADDR"];
            assert!(
                listens.ends_with(&format!(":{container_port}")),
                "{name} publishes {port}, listens on {listens}"
            );
        }
        let command = service.command.clone().unwrap_or_else(|| stage.cmd.clone());
        ContainerSpec::new(stage, environment, command, mounts, volumes)
    }
}

/// `text` with `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
/// `$VAR` and `$$` replaced as `docker compose` replaces them; the error of a missing required
/// variable otherwise.
fn interpolate(text: &str, shell: &BTreeMap<&str, &str>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(braced) = rest.strip_prefix('{') {
            let end = braced.find('}').ok_or("unclosed ${")?;
            out.push_str(&substitute(&braced[..end], shell)?);
            rest = &braced[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(shell.get(&rest[..end]).copied().unwrap_or_default());
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn substitute(expression: &str, shell: &BTreeMap<&str, &str>) -> Result<String, String> {
    let name_end = expression
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expression.len());
    let (name, operator) = expression.split_at(name_end);
    let value = shell.get(name).copied();
    let set_and_not_empty = value.filter(|value| !value.is_empty());
    let chosen = if let Some(default) = operator.strip_prefix(":-") {
        set_and_not_empty.unwrap_or(default)
    } else if let Some(default) = operator.strip_prefix('-') {
        value.unwrap_or(default)
    } else if let Some(error) = operator.strip_prefix(":?") {
        set_and_not_empty.ok_or(error)?
    } else if let Some(error) = operator.strip_prefix('?') {
        value.ok_or(error)?
    } else {
        assert!(operator.is_empty(), "unknown operator in ${{{expression}}}");
        value.unwrap_or_default()
    };
    Ok(chosen.to_owned())
}

/// How one container would run: its process's arguments and environment, paths in the
/// environment mapped from the container's volumes to host directories.
#[derive(Debug, Clone)]
struct ContainerSpec {
    argv: Vec<String>,
    environment: BTreeMap<String, String>,
    workdir: PathBuf,
}

impl ContainerSpec {
    /// `docker run -v growdesk-data:<every VOLUME> IMAGE`, every volume in `volumes`.
    fn image(stage: &Stage, volumes: &Path) -> Self {
        let mounts = stage
            .volumes
            .iter()
            .map(|path| (path.clone(), volumes.join("growdesk-data")))
            .collect();
        Self::new(
            stage,
            stage.environment.clone(),
            stage.cmd.clone(),
            mounts,
            volumes,
        )
    }

    /// `mounts` maps container paths to host directories; the image's working directory
    /// becomes a fresh directory under `scratch`.
    fn new(
        stage: &Stage,
        environment: BTreeMap<String, String>,
        command: Vec<String>,
        mounts: Vec<(String, PathBuf)>,
        scratch: &Path,
    ) -> Self {
        let map = |value: &str| {
            mounts.iter().fold(value.to_owned(), |value, (path, host)| {
                value.replace(path.as_str(), &host.display().to_string())
            })
        };
        for (_, host) in &mounts {
            std::fs::create_dir_all(host).unwrap();
        }
        let workdir = tempfile::tempdir_in(scratch).unwrap().keep();
        let environment = environment
            .into_iter()
            .map(|(name, value)| {
                let value = map(&value);
                (name, value)
            })
            .collect();
        let argv = stage.entrypoint.iter().chain(&command).cloned().collect();
        Self {
            argv,
            environment,
            workdir,
        }
    }

    fn command(&self, argv: &[String]) -> Command {
        let program = match argv[0].as_str() {
            "growdesk-server" => PathBuf::from(SERVER),
            "growdesk-sync" => sync_binary(),
            other => panic!("no binary for {other}"),
        };
        let mut command = Command::new(program);
        command
            .args(&argv[1..])
            .current_dir(&self.workdir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.environment)
            .stdin(Stdio::null());
        command
    }

    fn start(&self) -> Running {
        let mut child = self
            .command(&self.argv)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the container's process");
        let (lines, received) = mpsc::channel();
        for output in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        Running {
            child,
            received,
            seen: Vec::new(),
        }
    }

    /// The image's `HEALTHCHECK` command, run as Docker runs it: in the container's environment.
    fn healthcheck(&self, stage: &Stage) -> Finished {
        assert!(!stage.healthcheck.is_empty(), "the image has a HEALTHCHECK");
        let output = self.command(&stage.healthcheck).output().unwrap();
        Finished {
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Where the test itself reaches the database the containers use.
fn database_url_as_seen_by_the_test(
    server: &ContainerSpec,
    database: &TestDatabase,
    volumes: &Path,
) -> String {
    let url = server.environment["GROWDESK_DATABASE_URL"].clone();
    if url.starts_with("postgres") {
        assert_eq!(url, database.url());
    } else {
        assert!(
            url.contains(&volumes.display().to_string()),
            "the SQLite file lives on the volume: {url}"
        );
    }
    url
}

struct Finished {
    status: ExitStatus,
    stderr: String,
}

/// A started container process, its output lines collected as they come.
struct Running {
    child: Child,
    received: mpsc::Receiver<String>,
    seen: Vec<String>,
}

/// A test that fails part-way leaves no process behind.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Running {
    /// The base URL from the server's `listening` log line (JSON, as the image configures).
    fn wait_for_listening(&mut self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.received.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let base = serde_json::from_str::<serde_json::Value>(&line)
                        .ok()
                        .filter(|entry| entry["message"] == "listening")
                        .and_then(|entry| entry["base"].as_str().map(str::to_owned));
                    self.seen.push(line);
                    if let Some(base) = base {
                        return base;
                    }
                }
                Err(_) => {
                    if let Some(status) = self.child.try_wait().unwrap() {
                        panic!("the server exited ({status}):\n{}", self.logs());
                    }
                    assert!(
                        Instant::now() < deadline,
                        "the server never listened:\n{}",
                        self.logs()
                    );
                }
            }
        }
    }

    fn logs(&mut self) -> String {
        // The readers may still be passing on an exited process's last lines.
        while let Ok(line) = self.received.recv_timeout(Duration::from_millis(100)) {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }

    fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        (status, self.logs())
    }
}
