//! The README's shell examples run as written, as doc tests do for code: every ```` ```sh ````
//! block, in order, in one bash with `set -euo pipefail`, against the real server binary started
//! the way the README starts it, on SQLite and on PostgreSQL; any error answer fails. A block
//! that cannot run against a test server says why in its info string (```` ```sh no-run: why ````).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;

on_both_backends!(the_readme_shell_blocks_run_as_written);

const BINARY: &str = env!("CARGO_BIN_EXE_growdesk-server");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
/// The addresses the README's examples talk to: the server's default.
const README_ADDRESSES: [&str; 2] = ["127.0.0.1:8080", "localhost:8080"];
/// The README's webhook target and a public address standing in for it. A webhook's host must
/// resolve to a public address when it is saved, and these machines have no DNS; nothing is
/// delivered in this test, so the address is never contacted.
const WEBHOOK_TARGET: (&str, &str) = ("https://example.com/", "https://93.184.215.14/");
/// The most the blocks may take before the run counts as hung (they take seconds).
const HANG_SECS: &str = "600";
const NO_RUN: &str = "no-run";

/// A fenced block of the README.
struct Block {
    /// The line of its opening fence, counted from 1.
    line: usize,
    info: String,
    text: String,
}

impl Block {
    fn is_shell(&self) -> bool {
        matches!(
            self.info.split_whitespace().next(),
            Some("sh" | "bash" | "shell")
        )
    }

    /// Why the block is not run, when it says it is not.
    fn no_run_reason(&self) -> Option<&str> {
        let rest = self.info.split_once(char::is_whitespace)?.1.trim_start();
        let reason = rest.strip_prefix(NO_RUN)?;
        Some(reason.trim_start_matches(':').trim())
    }

    fn runs(&self) -> bool {
        self.is_shell() && self.no_run_reason().is_none()
    }
}

fn readme() -> String {
    std::fs::read_to_string(README).expect("the README is readable")
}

/// The fenced blocks of `markdown`, with the indentation of their fence (a list item's) removed.
fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let mut text = String::new();
        for (_, inner) in lines.by_ref() {
            if inner.trim() == "```" {
                break;
            }
            let cut = inner.len() - inner.trim_start().len();
            text.push_str(&inner[cut.min(indent)..]);
            text.push('\n');
        }
        blocks.push(Block {
            line: index + 1,
            info: info.trim().to_owned(),
            text,
        });
    }
    blocks
}

/// The block's commands, each on one line (continuation lines joined).
fn commands(text: &str) -> Vec<String> {
    text.replace("\\\n", " ")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Whether a `curl` invocation (its arguments up to the end of its command) fails on an error
/// answer: `-f` alone or among other short flags, `--fail` or `--fail-with-body`.
fn fails_on_error_answers(arguments: &str) -> bool {
    arguments
        .split(['|', ')', ';'])
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .any(|word| {
            matches!(word, "--fail" | "--fail-with-body")
                || word.strip_prefix('-').is_some_and(|flags| {
                    !flags.starts_with('-')
                        && flags.chars().all(|c| c.is_ascii_alphabetic())
                        && flags.contains('f')
                })
        })
}

/// The `curl` invocations of a block: the text after each `curl` word.
fn curl_invocations(text: &str) -> Vec<String> {
    commands(text)
        .iter()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| {
            line.match_indices("curl ")
                .filter(|(at, _)| {
                    line[..*at]
                        .chars()
                        .next_back()
                        .is_none_or(|before| before == ' ' || before == '(')
                })
                .map(|(at, _)| line[at + "curl ".len()..].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_block_left_out_says_why() {
    let blocks = fenced_blocks(&readme());
    for block in blocks.iter().filter(|block| block.is_shell()) {
        if let Some(reason) = block.no_run_reason() {
            assert!(
                !reason.is_empty(),
                "README.md line {}: a shell block left out of the test says why (```sh no-run: why)",
                block.line
            );
        }
    }
    assert!(
        blocks.iter().filter(|block| block.runs()).count() >= 4,
        "the first session, a ticket's life, the widget and webhooks run"
    );
}

#[test]
fn every_curl_fails_on_an_error_answer() {
    for block in fenced_blocks(&readme()).iter().filter(|block| block.runs()) {
        for invocation in curl_invocations(&block.text) {
            assert!(
                fails_on_error_answers(&invocation),
                "README.md block at line {}: `curl {invocation}` would hide an error answer \
                 (use -f, -fsS or --fail-with-body)",
                block.line
            );
        }
    }
}

#[test]
fn the_curl_check_tells_hiding_from_failing() {
    for failing in [
        "-fsS x",
        "-sf x",
        "-sS --fail-with-body x",
        "--fail x | json id",
    ] {
        assert!(fails_on_error_answers(failing), "{failing}");
    }
    for hiding in ["-s x", "-sS x -F files=@a", "-s x | grep -f y", "-si x"] {
        assert!(!fails_on_error_answers(hiding), "{hiding}");
    }
    assert_eq!(
        curl_invocations("A=$(curl -s a | json id)\n# curl in a comment\necho curl\nb; curl -f c"),
        ["-s a | json id)", "-f c"]
    );
}

/// The environment the README starts the server with: the `NAME=value` words before `cargo` in
/// the first left-out block that sets the first admin.
fn readme_server_environment(blocks: &[Block]) -> Vec<(String, String)> {
    let start = blocks
        .iter()
        .find(|block| {
            block.no_run_reason().is_some() && block.text.contains("GROWDESK_ADMIN_PASSWORD=")
        })
        .expect("the README starts the server with a first admin of its own");
    start
        .text
        .split_whitespace()
        .take_while(|word| *word != "cargo")
        .filter_map(|word| word.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.trim_matches(['\'', '"']).to_owned()))
        .collect()
}

/// The server binary, started in `dir` with a clean environment.
struct Server {
    child: Child,
    base: String,
    /// Standard output and error, read as they come so the server never blocks on a full pipe.
    output: Option<(JoinHandle<String>, JoinHandle<String>)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_all(mut stream: impl std::io::Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

impl Server {
    fn start(dir: &Path, environment: &[(String, String)]) -> Self {
        let mut child = Command::new(BINARY)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start growdesk-server");
        let stderr = read_all(child.stderr.take().unwrap());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let base = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!(
                    "the server stopped before saying where it runs:\n{seen}{}",
                    stderr.join().unwrap()
                );
            }
            seen.push_str(&line);
            if let Some(at) = line.find("http://") {
                break line[at..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches(['.', ',', ')'])
                    .to_owned();
            }
        };
        Self {
            child,
            base,
            output: Some((read_all(stdout), stderr)),
        }
    }

    /// Stops the server with SIGTERM and returns what it wrote.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let _ = self.child.wait();
        let (stdout, stderr) = self.output.take().expect("stopped once");
        format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap())
    }
}

/// One bash script of the blocks that run, in order, each announced by its line, talking to
/// `address` where the README says the server's default.
fn script_of(blocks: &[Block], address: &str) -> String {
    let mut script = String::from("set -euo pipefail\nexec 2>&1\n");
    for block in blocks.iter().filter(|block| block.runs()) {
        let mut text = block.text.replace(WEBHOOK_TARGET.0, WEBHOOK_TARGET.1);
        for readme_address in README_ADDRESSES {
            text = text.replace(readme_address, address);
        }
        script.push_str(&format!(
            "printf '\\n>>> README.md line {}\\n'\n{text}",
            block.line
        ));
    }
    script.push_str("printf '\\n>>> done\\n'\n");
    script
}

/// `(status, count)` of every `growdesk_http_requests_total` series of a metrics page.
fn answers_by_status(metrics: &str) -> Vec<(u16, u64)> {
    metrics
        .lines()
        .filter(|line| line.starts_with("growdesk_http_requests_total{"))
        .map(|line| {
            let status = line
                .split("status=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|status| status.parse().ok())
                .unwrap_or_else(|| panic!("a status label: {line}"));
            let count = line
                .rsplit(' ')
                .next()
                .and_then(|count| count.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("a count: {line}"));
            // Counters are whole numbers, written as floats.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            (status, count as u64)
        })
        .collect()
}

async fn the_readme_shell_blocks_run_as_written(kind: BackendKind) {
    let blocks = fenced_blocks(&readme());
    let mut environment = readme_server_environment(&blocks);
    // SQLite is what the README's start gives (./data in the directory it runs in).
    let database = match kind {
        BackendKind::Sqlite => None,
        BackendKind::Postgres => Some(TestDatabase::create(kind).await),
    };
    if let Some(database) = &database {
        environment.push((
            "GROWDESK_DATABASE_URL".to_owned(),
            database.url().to_owned(),
        ));
    }
    let server_dir = tempfile::tempdir().unwrap();
    let shell_dir = tempfile::tempdir().unwrap();
    let server = Server::start(server_dir.path(), &environment);
    let address = server.base.trim_start_matches("http://").to_owned();

    let script = script_of(&blocks, &address);
    let script_path = shell_dir.path().join("readme.sh");
    std::fs::write(&script_path, &script).unwrap();
    let run = Command::new("timeout")
        .args([HANG_SECS, "bash"])
        .arg(&script_path)
        .current_dir(shell_dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", shell_dir.path())
        .output()
        .expect("run bash");
    let output = String::from_utf8_lossy(&run.stdout).into_owned();
    if !run.status.success() {
        let failed_block = output
            .rsplit(">>> ")
            .next()
            .and_then(|rest| rest.lines().next())
            .unwrap_or("the first block");
        panic!(
            "{failed_block} failed ({}):\n{output}\n--- the server's output:\n{}",
            run.status,
            server.stop()
        );
    }

    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let answers = answers_by_status(&metrics);
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _)| !(200..300).contains(status))
        .collect();
    assert!(
        refused.is_empty(),
        "the README's requests were all answered 2xx; refused: {refused:?}\n{output}"
    );
    let requests: u64 = answers.iter().map(|(_, count)| count).sum();
    let curls = blocks
        .iter()
        .filter(|block| block.runs())
        .map(|block| curl_invocations(&block.text).len())
        .sum::<usize>();
    assert!(
        requests >= curls as u64,
        "every curl of the README reached the server: {requests} requests for {curls} curls"
    );
    assert!(output.contains(">>> done"), "{output}");
    server.stop();
}
