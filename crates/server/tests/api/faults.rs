//! Database faults under load: PostgreSQL stopped or frozen mid-traffic here, and a pool held
//! empty in the module below.
//!
//! The outage tests run their own PostgreSQL cluster, since stopping the shared one would fail
//! every other test running at the same time.

mod pool;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use growdesk_store::testkit::TestDatabase;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, start};

/// The server's default database deadline, which the outage tests keep.
const DEADLINE: Duration = Duration::from_secs(3);

/// The longest any request may take while the database is away: the deadline with a wide
/// margin for a loaded machine, and still well short of the fault, which a request that
/// ignored the deadline would wait out.
const ANSWER_WITHIN: Duration = Duration::from_secs(8);

/// The longest service may take to come back once the database is back.
const RECOVER_WITHIN: Duration = Duration::from_secs(30);

/// How long each fault is held: longer than the deadline, so requests caught mid-query time out,
/// and longer than `ANSWER_WITHIN`, so waiting for the database is told from the deadline.
const FAULT_HELD: Duration = Duration::from_secs(12);

/// A PostgreSQL cluster of the test's own, which the test may stop, start, freeze and thaw.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// initdb and postgres refuse to run as root, so under root they run as `postgres`.
    as_postgres: bool,
}

impl Cluster {
    fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("a directory for the cluster");
        let as_postgres = running_as_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = cluster.data_dir();
        run(cluster.tool("initdb").args([
            "-D",
            &data,
            "-U",
            "growdesk",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]));
        cluster.resume();
        cluster
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://growdesk@127.0.0.1:{}/postgres", self.port)
    }

    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    fn resume(&self) {
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        run(self.tool("pg_ctl").args([
            "-D",
            &self.data_dir(),
            "-l",
            &log,
            "-w",
            "-t",
            "30",
            "start",
            "-o",
            &options,
        ]));
    }

    /// Stops the server the hard way, as a crash or a killed container would.
    fn stop(&self) {
        run(self
            .tool("pg_ctl")
            .args(["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"]));
    }

    /// Freezes every process of the cluster: connections stay open and nothing answers.
    fn freeze(&self) {
        self.signal_all("STOP");
    }

    fn thaw(&self) {
        self.signal_all("CONT");
    }

    fn signal_all(&self, signal: &str) {
        let pid_file = self.dir.path().join("data/postmaster.pid");
        let Ok(contents) = std::fs::read_to_string(pid_file) else {
            return;
        };
        let postmaster = contents
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        // The postmaster first on STOP, so it forks nothing new; its children first on CONT.
        let postmaster_signal =
            || run(Command::new("kill").args([&format!("-{signal}"), &postmaster]));
        if signal == "STOP" {
            postmaster_signal();
        }
        Command::new("pkill")
            .args([&format!("-{signal}"), "-P", &postmaster])
            .status()
            .expect("pkill runs");
        if signal != "STOP" {
            postmaster_signal();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.thaw();
        let _ = self
            .tool("pg_ctl")
            .args(["-D", &self.data_dir(), "-m", "immediate", "stop"])
            .output();
    }
}

fn postgres_bin() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .filter(|dir| dir.join("initdb").exists())
        .expect("PostgreSQL's initdb (Debian: apt-get install postgresql)")
}

fn running_as_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

#[track_caller]
fn run(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One request of the load and how it went.
struct Outcome {
    sent: Instant,
    took: Duration,
    /// 0 when no answer came (a transport error or the client's own timeout).
    status: u16,
    problem_json: bool,
}

/// Clients that list and create tickets without pause until told to stop.
fn start_load(
    app: &TestApp,
    token: &str,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Outcome>>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    (0..clients)
        .map(|index| {
            let (client, stop) = (client.clone(), Arc::clone(stop));
            let (base, token) = (app.base.clone(), token.to_owned());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let mut round = 0_usize;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    let request = if (index + round).is_multiple_of(2) {
                        client.get(format!("{base}/api/tickets?limit=5"))
                    } else {
                        client.post(format!("{base}/api/tickets")).json(&json!({
                            "subject": format!("load {index}-{round}"),
                            "description": "written while the database misbehaves",
                        }))
                    };
                    let sent = Instant::now();
                    let answer = request.bearer_auth(&token).send().await;
                    let (status, problem_json) = match answer {
                        Ok(response) => (
                            response.status().as_u16(),
                            response
                                .headers()
                                .get("content-type")
                                .is_some_and(|value| value == "application/problem+json"),
                        ),
                        Err(_) => (0, false),
                    };
                    outcomes.push(Outcome {
                        sent,
                        took: sent.elapsed(),
                        status,
                        problem_json,
                    });
                    if status != 200 && status != 201 {
                        // Failing requests come back fast; pace them like a client backing off.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                outcomes
            })
        })
        .collect()
}

/// Liveness probes every 100 ms until told to stop: (status, latency) of each.
fn probe_liveness(
    app: &TestApp,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<(u16, Duration)>> {
    let (url, stop) = (app.url("/api/health"), Arc::clone(stop));
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut probes = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            let status = client
                .get(&url)
                .send()
                .await
                .map_or(0, |response| response.status().as_u16());
            probes.push((status, sent.elapsed()));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        probes
    })
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Stopped,
    Frozen,
}

/// Under load from eight clients, the database goes away for `FAULT_HELD` and comes back:
/// every request is answered (2xx or a 503 problem) within `ANSWER_WITHIN`, liveness stays 200,
/// and service is back within `RECOVER_WITHIN` of the database, without restarting the server.
async fn survives_the_database_going_away(fault: Fault) {
    // Declared first so it is dropped last: the app's database lives on it.
    let cluster = Arc::new(Cluster::start());
    let database = TestDatabase::create_on_postgres(cluster.url()).await;
    let app = start(database, |settings| {
        settings.db_timeout_secs = DEADLINE.as_secs();
        settings.db_max_connections = 10;
    })
    .await;
    let token = app.admin_token().await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&app, &token, 8, &stop);
    let liveness = probe_liveness(&app, &stop);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let act = |action: fn(&Cluster)| {
        let cluster = Arc::clone(&cluster);
        tokio::task::spawn_blocking(move || action(&cluster))
    };
    let faulted_at = Instant::now();
    match fault {
        Fault::Stopped => act(Cluster::stop),
        Fault::Frozen => act(Cluster::freeze),
    }
    .await
    .unwrap();
    tokio::time::sleep(FAULT_HELD).await;
    match fault {
        Fault::Stopped => act(Cluster::resume),
        Fault::Frozen => act(Cluster::thaw),
    }
    .await
    .unwrap();
    let healed_at = Instant::now();

    let recovered = loop {
        let reply = app
            .call(Method::GET, "/api/tickets?limit=1", Some(&token), None)
            .await;
        if reply.status == 200 {
            break healed_at.elapsed();
        }
        assert!(
            healed_at.elapsed() < RECOVER_WITHIN,
            "{fault:?}: still {} {} after the database came back",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let recovered_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);

    let mut outcomes = Vec::new();
    for client in load {
        outcomes.extend(client.await.unwrap());
    }
    let probes = liveness.await.unwrap();

    for outcome in &outcomes {
        assert!(
            matches!(outcome.status, 200 | 201 | 503),
            "{fault:?}: a request got {} (0: no answer) after {:?}",
            outcome.status,
            outcome.took
        );
        assert!(
            outcome.took < ANSWER_WITHIN,
            "{fault:?}: a request took {:?} (status {})",
            outcome.took,
            outcome.status
        );
        assert!(
            outcome.status != 503 || outcome.problem_json,
            "{fault:?}: a 503 that is not problem+json"
        );
    }
    let refused = outcomes
        .iter()
        .filter(|outcome| outcome.status == 503)
        .count();
    assert!(refused > 0, "{fault:?}: the fault was never seen");
    let late_failures = outcomes
        .iter()
        .filter(|outcome| outcome.sent > recovered_at && outcome.status == 503)
        .count();
    assert_eq!(late_failures, 0, "{fault:?}: 503s after service was back");
    let served_during = outcomes
        .iter()
        .filter(|outcome| outcome.sent > recovered_at)
        .count();
    assert!(served_during > 0, "{fault:?}: no load after recovery");
    assert!(
        probes.iter().all(|(status, _)| *status == 200),
        "{fault:?}: liveness failed: {:?}",
        probes
            .iter()
            .filter(|(status, _)| *status != 200)
            .collect::<Vec<_>>()
    );
    let slowest = outcomes.iter().map(|outcome| outcome.took).max().unwrap();
    let slowest_probe = probes.iter().map(|(_, took)| *took).max().unwrap();
    eprintln!(
        "{fault:?} for {FAULT_HELD:?} under 8 clients: {} requests, {refused} answered 503 problem+json, \
         slowest answer {slowest:?}; {} liveness probes all 200 (slowest {slowest_probe:?}); \
         service back {recovered:?} after PostgreSQL (fault began {:?} before)",
        outcomes.len(),
        probes.len(),
        healed_at - faulted_at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_gives_503_then_recovers() {
    survives_the_database_going_away(Fault::Stopped).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_frozen_under_load_gives_503_then_recovers() {
    survives_the_database_going_away(Fault::Frozen).await;
}
