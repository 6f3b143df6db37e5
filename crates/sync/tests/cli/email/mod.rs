//! The email channel against real mail servers (a throwaway Dovecot for IMAP and LMTP, an SMTP
//! sink that delivers into it, `growdesk_mail::testkit`) with `growdesk-sync run` as a child
//! process: mail becomes tickets once whatever kills the fetcher, replies thread both ways,
//! sending fails and retries as it should, two autoresponders cannot loop, and all of it works
//! over TLS and STARTTLS with a private CA the process trusts through `SSL_CERT_FILE`.

mod conversation;
mod crashes;
mod loops;
mod sending;
mod tls;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use growdesk_domain::mail::{AfterImport, Mailbox, TransportSecurity};
use growdesk_domain::{Email, Priority};
use growdesk_mail::imap::ImapSession;
use growdesk_mail::testkit::{Dovecot, SmtpSink, TestCa};
use growdesk_store::mailboxes::{MailboxFields, NewMailbox};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, Store};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::support::{growdesk_sync, store_of};

/// Generates `sqlite::name` and `postgres::name` tests for each scenario `name(BackendKind)`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(growdesk_store::BackendKind::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(growdesk_store::BackendKind::Postgres).await;
            })*
        }
    };
}
pub(crate) use on_both_backends;

pub(crate) const SUPPORT: &str = "support@example.test";
pub(crate) const CUSTOMER: &str = "customer@example.test";
/// The autoresponder of the loop test.
pub(crate) const ROBOT: &str = "robot@example.test";

/// How long a test waits for what must happen: long, so that a loaded machine is never
/// mistaken for a failure (the properties asserted never depend on it).
pub(crate) const PATIENCE: Duration = Duration::from_secs(120);

/// A desk with one mailbox, `support@`, read from a throwaway Dovecot and sending through an
/// SMTP sink that delivers into the same Dovecot — in the clear, or encrypted (`start_encrypted`).
pub(crate) struct MailDesk {
    pub(crate) kind: BackendKind,
    pub(crate) database: TestDatabase,
    pub(crate) data: tempfile::TempDir,
    pub(crate) store: Store,
    pub(crate) dovecot: Dovecot,
    pub(crate) sink: SmtpSink,
    pub(crate) mailbox: Mailbox,
    /// The PEM of the servers' throwaway CA when they speak TLS: `growdesk-sync`'s
    /// `SSL_CERT_FILE`, as an operator trusts a private CA.
    ca_bundle: Option<tempfile::NamedTempFile>,
}

/// How the desk's mailbox reaches its servers: IMAP's security and SMTP's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Encryption {
    pub(crate) imap: TransportSecurity,
    pub(crate) smtp: TransportSecurity,
}

impl MailDesk {
    /// The desk, its mailbox acknowledging new tickets or not, and doing `after_import`.
    pub(crate) async fn start(
        kind: BackendKind,
        acknowledge: bool,
        after_import: AfterImport,
    ) -> Self {
        Self::launch(kind, acknowledge, after_import, None).await
    }

    /// A desk whose servers present a certificate of a throwaway CA for 127.0.0.1, reached with
    /// `encryption`; `growdesk-sync` trusts the CA through `SSL_CERT_FILE`.
    pub(crate) async fn start_encrypted(kind: BackendKind, encryption: Encryption) -> Self {
        Self::launch(kind, false, AfterImport::MarkSeen, Some(encryption)).await
    }

    async fn launch(
        kind: BackendKind,
        acknowledge: bool,
        after_import: AfterImport,
        encryption: Option<Encryption>,
    ) -> Self {
        let database = TestDatabase::create(kind).await;
        let data = tempfile::tempdir().unwrap();
        let store = store_of(&database).await;
        let users = [SUPPORT, CUSTOMER, ROBOT];
        let (dovecot, sink, ca_bundle) = match encryption {
            None => {
                let dovecot = Dovecot::start(&users).await.unwrap();
                let sink = SmtpSink::start(&dovecot).await.unwrap();
                (dovecot, sink, None)
            }
            Some(encryption) => {
                let ca = TestCa::new().unwrap();
                let cert = ca.localhost().unwrap();
                let dovecot = Dovecot::start_tls(&users, &cert).await.unwrap();
                let sink = SmtpSink::start_tls(&dovecot, encryption.smtp, &cert)
                    .await
                    .unwrap();
                let bundle = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(bundle.path(), ca.pem()).unwrap();
                (dovecot, sink, Some(bundle))
            }
        };
        let security = encryption.map_or(TransportSecurity::None, |encryption| encryption.imap);
        let mut imap = dovecot.imap_settings_over(SUPPORT, security);
        imap.after_import = after_import;
        let mailbox = store
            .mailboxes()
            .create(NewMailbox {
                id: Uuid::now_v7(),
                fields: MailboxFields {
                    address: Email::parse(SUPPORT).unwrap(),
                    display_name: "Example Support".to_owned(),
                    imap: Some(imap),
                    smtp: Some(sink.smtp_settings(SUPPORT)),
                    default_category_id: None,
                    default_priority: Priority::Medium,
                    acknowledge,
                    active: true,
                },
                imap_password: Some(dovecot.password(SUPPORT).to_owned()),
                smtp_password: Some(dovecot.password(SUPPORT).to_owned()),
            })
            .await
            .unwrap();
        Self {
            kind,
            database,
            data,
            store,
            dovecot,
            sink,
            mailbox,
            ca_bundle,
        }
    }

    fn command(&self) -> Command {
        let mut command = growdesk_sync();
        command
            .env_clear()
            .arg("--database-url")
            .arg(self.database.url())
            .arg("--data-dir")
            .arg(self.data.path());
        if let Some(bundle) = &self.ca_bundle {
            command.env("SSL_CERT_FILE", bundle.path());
        }
        command
    }

    /// One pass of the jobs (`--now` when given), to its end; its output.
    pub(crate) fn run_once(&self, now: Option<time::OffsetDateTime>) -> Output {
        self.run_once_with(now, &[])
    }

    /// As `run_once`, with more arguments of `run`.
    pub(crate) fn run_once_with(&self, now: Option<time::OffsetDateTime>, more: &[&str]) -> Output {
        let mut command = self.command();
        command.args(["run", "--once"]).args(more);
        if let Some(now) = now {
            command.arg("--now").arg(now.format(&Rfc3339).unwrap());
        }
        command.output().unwrap()
    }

    /// `growdesk-sync run` in the background, looking often and holding mailboxes on short
    /// leases so that a killed one's mailbox is taken over soon; killed when dropped.
    pub(crate) fn run(&self) -> Running {
        let child = self
            .command()
            .args([
                "run",
                "--tick-secs",
                "1",
                "--mail-poll-secs",
                "1",
                "--mail-lease-secs",
                "3",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Running { child }
    }

    /// One number the database answers `sql` with.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        match self.kind {
            BackendKind::Postgres => {
                let pool = sqlx::PgPool::connect(self.database.url()).await.unwrap();
                let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                count
            }
            BackendKind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(self.database.url())
                    .await
                    .unwrap();
                let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                count
            }
        }
    }

    /// Every mail in `user`'s `folder`, oldest first.
    pub(crate) async fn folder(&self, user: &str, folder: &str) -> Vec<Vec<u8>> {
        let mut settings = self.dovecot.imap_settings(user);
        settings.folder = folder.to_owned();
        let mut session = ImapSession::connect(
            &settings,
            self.dovecot.password(user),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        session.select().await.unwrap();
        let mut mails = Vec::new();
        let mut last = 0;
        loop {
            let batch = session.fetch_after(last, 200).await.unwrap();
            let Some(newest) = batch.last() else { break };
            last = newest.uid;
            mails.extend(batch.into_iter().map(|mail| mail.raw));
        }
        session.logout().await.unwrap();
        mails
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.data.path()
    }
}

/// A `run` process, killed (SIGKILL) when dropped.
pub(crate) struct Running {
    child: Child,
}

impl Running {
    /// SIGKILL, as a crash or the OOM killer would: no clean-up, no lease released.
    pub(crate) fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _already_gone = self.child.kill();
        self.child.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value `check` gives once it gives one, looking every 100 ms; fails the test after
/// `PATIENCE`, naming `what`.
pub(crate) async fn eventually<T, F>(what: &str, mut check: impl FnMut() -> F) -> T
where
    F: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A plain mail from `from` to `to`, with `headers` (each a whole line) added.
pub(crate) fn mail(
    from: &str,
    to: &str,
    message_id: &str,
    subject: &str,
    body: &str,
    headers: &[String],
) -> Vec<u8> {
    let mut raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Wed, 02 Dec 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n"
    );
    for header in headers {
        raw.push_str(header);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    raw.push_str("\r\n");
    raw.into_bytes()
}

/// The value of the first header `name` of `raw` (unfolded), if any.
pub(crate) fn header(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// What `job` reported in the output of `run --once`.
pub(crate) fn outcome(out: &str, job: &str) -> serde_json::Value {
    let prefix = format!("{job}: ");
    let line = out
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{job} did not run: {out}"));
    serde_json::from_str(line).unwrap()
}
