//! `growdesk-bench mail`: the email channel's two figures (BENCHMARKS.md), against a throwaway
//! Dovecot this command starts.
//!
//! 1. Import: a mailbox of `--mails` messages (seeded by IMAP APPEND) is read by
//!    `growdesk-sync run --once`; messages imported per second, and the process's peak resident
//!    memory (the fetcher reads in bounded batches, so it does not grow with the mailbox).
//! 2. Delay: with a `growdesk-server` and a resident `growdesk-sync run` (IMAP IDLE), each of
//!    `--latency-mails` mails is delivered by LMTP, one at a time, and timed until its new
//!    ticket's `created` event reaches a staff WebSocket; p50 and p99.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use growdesk_domain::mail::{AfterImport, Mailbox};
use growdesk_domain::{Email, Priority};
use growdesk_mail::testkit::Dovecot;
use growdesk_store::mailboxes::{MailboxFields, NewMailbox};
use growdesk_store::{PoolSettings, Store};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::database::{Database, on_pool};
use crate::load::setup::sign_in;
use crate::measure::Latencies;

const SUPPORT: &str = "support@bench.growdesk.test";
const ADMIN: &str = "admin@bench.growdesk.test";
const PASSWORD: &str = "bench-password-1";
/// Mails one IMAP APPEND session seeds.
const SEED_CHUNK: usize = 1_000;
/// The longest a timed mail may take to reach the socket before the run fails.
const DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// An empty database (`sqlite://…` or `postgres://…`).
    #[arg(long)]
    database_url: String,
    /// A directory for the data directory both processes share.
    #[arg(long)]
    work: PathBuf,
    /// The `growdesk-sync` binary (a release build).
    #[arg(long)]
    sync: PathBuf,
    /// The `growdesk-server` binary (a release build).
    #[arg(long)]
    server: PathBuf,
    /// Messages in the mailbox the import reads.
    #[arg(long, default_value_t = 10_000)]
    mails: usize,
    /// Mails timed from delivery to the socket.
    #[arg(long, default_value_t = 200)]
    latency_mails: usize,
}

/// A mail from a customer: `n` makes its Message-ID and subject its own.
fn customer_mail(tag: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Customer {n} <customer{n}@bench.growdesk.test>\r\nTo: {SUPPORT}\r\n\
         Subject: Order {tag}-{n} has not arrived\r\nMessage-ID: <{tag}-{n}@bench.growdesk.test>\r\n\
         Date: Wed, 02 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello,\r\n\r\nI ordered on the 3rd and paid by card; the parcel has not arrived and the \
         tracking page has not changed for a week. Could you look into order {n}?\r\n\r\n\
         Thanks,\r\nCustomer {n}\r\n"
    )
    .into_bytes()
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _gone = self.0.kill();
        let _reaped = self.0.wait();
    }
}

/// The peak resident memory of process `pid` so far (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = args.work.join("data");
    std::fs::create_dir_all(&data_dir)?;
    let store = Store::connect(&args.database_url, PoolSettings::default())?;
    store.migrate().await?;
    let dovecot = Dovecot::start(&[SUPPORT]).await?;
    let mailbox = mailbox(&store, &dovecot).await?;
    println!(
        "mailbox {} on 127.0.0.1:{}",
        mailbox.address.as_str(),
        dovecot.imap_port
    );

    let seeding = Instant::now();
    for start in (0..args.mails).step_by(SEED_CHUNK) {
        let chunk: Vec<Vec<u8>> = (start..(start + SEED_CHUNK).min(args.mails))
            .map(|n| customer_mail("bulk", n))
            .collect();
        dovecot.append(SUPPORT, "INBOX", &chunk).await?;
    }
    println!(
        "seeded {} mails in {:.1} s",
        args.mails,
        seeding.elapsed().as_secs_f64()
    );

    let sync = |command: &str| {
        let mut process = Command::new(&args.sync);
        process
            .arg("--database-url")
            .arg(&args.database_url)
            .arg("--data-dir")
            .arg(&data_dir)
            .arg(command)
            .env("GROWDESK_LOG_LEVEL", "warn")
            .stdout(Stdio::null());
        process
    };

    // 1. The import.
    let started = Instant::now();
    let mut import = Process(sync("run").arg("--once").spawn()?);
    let pid = import.0.id();
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_kib(pid).unwrap_or(0));
        if let Some(status) = import.0.try_wait()? {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed();
    anyhow::ensure!(
        status.success(),
        "growdesk-sync run --once failed: {status}"
    );
    let database = Database::connect(&args.database_url, 1).await?;
    let imported: i64 = on_pool!(&database, pool => {
        sqlx::query_scalar("SELECT count(*) FROM inbound_mails").fetch_one(pool).await?
    });
    println!(
        "import: {imported} of {} mails in {:.1} s: {:.0} mails/s; peak RSS {:.1} MB",
        args.mails,
        elapsed.as_secs_f64(),
        imported as f64 / elapsed.as_secs_f64(),
        peak as f64 / 1024.0
    );

    // 2. Delivery to the agent's socket.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let target = format!("http://127.0.0.1:{port}");
    let _server = Process(
        Command::new(&args.server)
            .env("GROWDESK_DATABASE_URL", &args.database_url)
            .env("GROWDESK_ADDR", format!("127.0.0.1:{port}"))
            .env("GROWDESK_DATA_DIR", &data_dir)
            .env("GROWDESK_ADMIN_EMAIL", ADMIN)
            .env("GROWDESK_ADMIN_PASSWORD", PASSWORD)
            .env("GROWDESK_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let client = reqwest::Client::new();
    wait_until_ready(&client, &target).await?;
    let token = sign_in(&client, &target, ADMIN, PASSWORD).await?;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!(
        "{}/api/ws?access_token={token}",
        target.replace("http://", "ws://")
    ))
    .await?;
    next_frame(&mut socket, |frame| frame["type"] == "ready").await?;
    let _fetcher = Process(sync("run").spawn()?);
    // The resident fetcher takes the mailbox and IDLEs: one mail through first.
    dovecot.deliver(SUPPORT, &customer_mail("warm", 0)).await?;
    next_frame(&mut socket, is_created).await?;

    let mut delays = Latencies::new();
    let mut pause = 0.0_f64;
    for n in 0..args.latency_mails {
        // Mails sent back to back would arrive in step with the periodic timers on the way
        // (Dovecot's change check, the relay's poll on SQLite) and measure one phase of them: a
        // pause spread evenly over a second (steps of the golden ratio) samples every phase.
        pause = (pause + 0.618_034).fract();
        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
        let sent = Instant::now();
        dovecot.deliver(SUPPORT, &customer_mail("timed", n)).await?;
        next_frame(&mut socket, is_created).await?;
        delays.record(sent.elapsed());
    }
    let figures = delays.figures(Duration::from_secs(1), 0);
    println!(
        "delivery (LMTP) to the staff socket, {} mails one at a time: p50 {:.0} ms, p99 {:.0} ms",
        delays.count(),
        figures.p50_ms,
        figures.p99_ms
    );
    store.close().await;
    Ok(())
}

fn is_created(frame: &Value) -> bool {
    frame["type"] == "event" && frame["event"]["kind"] == "created"
}

/// The mailbox read: `support@` on `dovecot`, mail marked seen, no SMTP (nothing is sent).
async fn mailbox(store: &Store, dovecot: &Dovecot) -> anyhow::Result<Mailbox> {
    let mut imap = dovecot.imap_settings(SUPPORT);
    imap.after_import = AfterImport::MarkSeen;
    Ok(store
        .mailboxes()
        .create(NewMailbox {
            id: Uuid::now_v7(),
            fields: MailboxFields {
                address: Email::parse(SUPPORT).map_err(|error| anyhow::anyhow!("{error}"))?,
                display_name: "Bench Support".to_owned(),
                imap: Some(imap),
                smtp: None,
                default_category_id: None,
                default_priority: Priority::Medium,
                acknowledge: false,
                active: true,
            },
            imap_password: Some(dovecot.password(SUPPORT).to_owned()),
            smtp_password: None,
        })
        .await?)
}

async fn wait_until_ready(client: &reqwest::Client, target: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let ready = client.get(format!("{target}/api/ready")).send().await;
        if ready.is_ok_and(|answer| answer.status().is_success()) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next frame `wanted` accepts.
async fn next_frame<S>(socket: &mut S, wanted: impl Fn(&Value) -> bool) -> anyhow::Result<Value>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(DEADLINE, async {
        loop {
            match socket.next().await.context("the socket closed")?? {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text)?;
                    if wanted(&frame) {
                        return Ok(frame);
                    }
                }
                Message::Close(_) => anyhow::bail!("the socket closed"),
                _ => {}
            }
        }
    })
    .await
    .context("no frame within a minute")?
}
