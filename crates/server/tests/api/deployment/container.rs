//! A container without Docker: a binary run with the environment, command and volumes an image
//! or the compose file gives it, and watched until it is ready or ends.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use growdesk_store::testkit::TestDatabase;

use super::dockerfile::Stage;
use super::{PATIENCE, SERVER, sync_binary};

/// How one container would run: its process's arguments and environment, paths in the
/// environment mapped from the container's volumes to host directories.
#[derive(Debug, Clone)]
pub(super) struct ContainerSpec {
    pub(super) argv: Vec<String>,
    pub(super) environment: BTreeMap<String, String>,
    pub(super) workdir: PathBuf,
}

impl ContainerSpec {
    /// `docker run -v growdesk-data:<every VOLUME> IMAGE`, every volume in `volumes`.
    pub(super) fn image(stage: &Stage, volumes: &Path) -> Self {
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
    pub(super) fn new(
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

    pub(super) fn command(&self, argv: &[String]) -> Command {
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

    pub(super) fn start(&self) -> Running {
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
    pub(super) fn healthcheck(&self, stage: &Stage) -> Finished {
        assert!(!stage.healthcheck.is_empty(), "the image has a HEALTHCHECK");
        let output = self.command(&stage.healthcheck).output().unwrap();
        Finished {
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Where the test itself reaches the database the containers use.
pub(super) fn database_url_as_seen_by_the_test(
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

pub(super) struct Finished {
    pub(super) status: ExitStatus,
    pub(super) stderr: String,
}

/// A started container process, its output lines collected as they come.
pub(super) struct Running {
    pub(super) child: Child,
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
    pub(super) fn wait_for_listening(&mut self) -> String {
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

    pub(super) fn logs(&mut self) -> String {
        // The readers may still be passing on an exited process's last lines.
        while let Ok(line) = self.received.recv_timeout(Duration::from_millis(100)) {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }

    pub(super) fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        (status, self.logs())
    }
}
