//! Reading a mailbox's folder over IMAP (async-imap on tokio): implicit TLS, STARTTLS or plain
//! TCP (a server on the same host or in tests), LOGIN, then what the fetcher needs — the folder's
//! UIDVALIDITY and UIDNEXT, the mail after a UID in bounded batches, `\Seen` or a move once a mail
//! is imported, and IDLE.
//!
//! TLS trusts the system's certificates (rustls-native-certs, which reads `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` first: how an operator trusts a mail server's private CA). Only the tests add
//! roots of their own (feature `testkit`), since a process-wide variable cannot serve one test.
//!
//! Every network step has a timeout, so nothing hangs on a silent server. After an error other
//! than `ImapError::Protocol` (a timeout, a broken connection) the session is closed and every
//! further call fails at once: the caller connects again.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::imap_proto::{MailboxDatum, Response};
use async_imap::types::UnsolicitedResponse;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use growdesk_domain::mail::{ImapSettings, TransportSecurity};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::{ImapError, tls_failure};

/// A batch of `fetch_after` stops growing past this many bytes of mail.
const BATCH_BYTES: u64 = 64 << 20;
/// One body fetch asks for at most this many bytes of mail (or for one bigger mail).
const FETCH_BYTES: u64 = 8 << 20;
/// The slowest download a body fetch is given time for, beyond the step timeout.
const BYTES_PER_SECOND: u64 = 128 << 10;

/// Consecutive UIDs whose bodies are fetched together.
#[derive(Debug, PartialEq, Eq)]
struct Chunk {
    uids: Vec<u32>,
    bytes: u64,
}

/// `uids` (ascending) cut into runs of at most `FETCH_BYTES`, a bigger mail alone. A mail whose
/// size the server did not give counts as nothing: its body still comes, in a run.
fn chunks(uids: &[u32], sizes: &HashMap<u32, u64>) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    for &uid in uids {
        let size = sizes.get(&uid).copied().unwrap_or_default();
        match chunks.last_mut() {
            Some(chunk) if chunk.bytes + size <= FETCH_BYTES => {
                chunk.uids.push(uid);
                chunk.bytes += size;
            }
            _ => chunks.push(Chunk {
                uids: vec![uid],
                bytes: size,
            }),
        }
    }
    chunks
}

/// The selected folder's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderState {
    /// When it changes, every UID the fetcher kept is void.
    pub uid_validity: u32,
    /// The UID the next mail will get at least.
    pub uid_next: u32,
    /// How many mails the folder holds.
    pub exists: u32,
    /// Whether the server offers IDLE (else the fetcher polls).
    pub idle: bool,
}

/// One mail as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMail {
    pub uid: u32,
    pub raw: Vec<u8>,
}

/// How an IDLE ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleOutcome {
    /// The server announced new mail in the folder.
    NewMail,
    /// Nothing arrived in the time given.
    Timeout,
}

/// A logged-in IMAP session on one folder.
pub struct ImapSession {
    /// `None` once a network failure closed it.
    session: Option<Session<Transport>>,
    folder: String,
    capabilities: Capabilities,
    timeout: Duration,
}

impl std::fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSession")
            .field("folder", &self.folder)
            .field("open", &self.session.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Capabilities {
    idle: bool,
    moves: bool,
    uidplus: bool,
}

impl ImapSession {
    /// Connects to `settings`' server and logs in as its user name with `password`; `timeout`
    /// bounds each step (the connection, the TLS handshake, every command).
    pub async fn connect(
        settings: &ImapSettings,
        password: &str,
        timeout: Duration,
    ) -> Result<Self, ImapError> {
        Self::connect_with(settings, password, timeout, &[]).await
    }

    /// As `connect`, trusting `roots` besides the system's certificates: for tests with a
    /// throwaway CA.
    #[cfg(feature = "testkit")]
    pub async fn connect_trusting(
        settings: &ImapSettings,
        password: &str,
        timeout: Duration,
        roots: &[CertificateDer<'static>],
    ) -> Result<Self, ImapError> {
        Self::connect_with(settings, password, timeout, roots).await
    }

    async fn connect_with(
        settings: &ImapSettings,
        password: &str,
        timeout: Duration,
        roots: &[CertificateDer<'static>],
    ) -> Result<Self, ImapError> {
        let host = settings.host.trim();
        let tcp = open(host, settings.port, timeout).await?;
        let client = match settings.security {
            TransportSecurity::Tls => {
                let mut client = Client::new(tls(host, tcp, timeout, roots).await?);
                greeting(&mut client, timeout).await?;
                client
            }
            TransportSecurity::StartTls => {
                let mut client = Client::new(tcp);
                greeting(&mut client, timeout).await?;
                limit(
                    "STARTTLS",
                    timeout,
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await
                .map_err(|error| match error {
                    ImapError::Protocol { .. } => ImapError::Unsupported("STARTTLS"),
                    other => other,
                })?;
                Client::new(tls(host, client.into_inner(), timeout, roots).await?)
            }
            TransportSecurity::None => {
                let mut client = Client::new(Transport::Plain(tcp));
                greeting(&mut client, timeout).await?;
                client
            }
        };
        let username = settings.username.trim();
        let mut session =
            match tokio::time::timeout(timeout, client.login(username, password)).await {
                Err(_) => return Err(timeout_error("LOGIN", timeout)),
                Ok(Ok(session)) => session,
                Ok(Err((error, _))) => {
                    return Err(ImapError::Login {
                        username: username.to_owned(),
                        reason: match error {
                            async_imap::error::Error::No(text)
                            | async_imap::error::Error::Bad(text) => text,
                            async_imap::error::Error::Io(io) => io.to_string(),
                            // Other errors may quote the input, which holds the password.
                            _ => "the login was refused".to_owned(),
                        },
                    });
                }
            };
        let offered = limit("CAPABILITY", timeout, session.capabilities()).await?;
        let capabilities = Capabilities {
            idle: offered.has_str("IDLE"),
            moves: offered.has_str("MOVE"),
            uidplus: offered.has_str("UIDPLUS"),
        };
        Ok(Self {
            session: Some(session),
            folder: settings.folder.trim().to_owned(),
            capabilities,
            timeout,
        })
    }

    /// Connects, logs in, selects the folder and logs out: `Err` is a sentence for the
    /// administrator's "test connection" (never with the password).
    pub async fn check(
        settings: &ImapSettings,
        password: &str,
        timeout: Duration,
    ) -> Result<(), String> {
        Self::check_with(settings, password, timeout, &[]).await
    }

    /// As `check`, trusting `roots` besides the system's certificates: for tests with a
    /// throwaway CA.
    #[cfg(feature = "testkit")]
    pub async fn check_trusting(
        settings: &ImapSettings,
        password: &str,
        timeout: Duration,
        roots: &[CertificateDer<'static>],
    ) -> Result<(), String> {
        Self::check_with(settings, password, timeout, roots).await
    }

    async fn check_with(
        settings: &ImapSettings,
        password: &str,
        timeout: Duration,
        roots: &[CertificateDer<'static>],
    ) -> Result<(), String> {
        let attempt = async {
            let mut session = Self::connect_with(settings, password, timeout, roots).await?;
            session.select().await?;
            session.logout().await
        };
        attempt.await.map_err(|error: ImapError| error.to_string())
    }

    /// Selects the settings' folder.
    pub async fn select(&mut self) -> Result<FolderState, ImapError> {
        let timeout = self.timeout;
        let folder = self.folder.clone();
        let session = self.open()?;
        let result = limit("SELECT", timeout, session.select(&folder)).await;
        let mailbox = self.keep(result)?;
        let missing = |what: &str| ImapError::Protocol {
            step: "SELECT",
            reason: format!("the server did not report {what}"),
        };
        Ok(FolderState {
            uid_validity: mailbox.uid_validity.ok_or_else(|| missing("UIDVALIDITY"))?,
            uid_next: mailbox.uid_next.ok_or_else(|| missing("UIDNEXT"))?,
            exists: mailbox.exists,
            idle: self.capabilities.idle,
        })
    }

    /// The lowest UID of the folder's unseen mail, if any: where a mailbox read for the first
    /// time starts, so that mail already read before GrowDesk was given the mailbox stays there.
    pub async fn first_unseen(&mut self) -> Result<Option<u32>, ImapError> {
        let timeout = self.timeout;
        let session = self.open()?;
        let result = limit("UID SEARCH", timeout, session.uid_search("UNSEEN")).await;
        Ok(self.keep(result)?.into_iter().min())
    }

    /// The mails after `last_uid`, ascending, at most `max` of them and, past the first, at most
    /// `BATCH_BYTES` of them: a mailbox of 10,000 mails (or of a few huge ones) is read batch by
    /// batch with bounded memory. The UIDs come first (UID SEARCH), so that gaps left by deleted
    /// mail never end a batch early, then the sizes (RFC822.SIZE), then the bodies in fetches of
    /// at most `FETCH_BYTES` (one mail when it is bigger), each with a time limit that grows with
    /// its size, so that a big mail on a slow link is not cut off at the same point for ever.
    pub async fn fetch_after(
        &mut self,
        last_uid: u32,
        max: usize,
    ) -> Result<Vec<FetchedMail>, ImapError> {
        let Some(first) = last_uid.checked_add(1).filter(|_| max > 0) else {
            return Ok(Vec::new());
        };
        let timeout = self.timeout;
        let session = self.open()?;
        let result = limit(
            "UID SEARCH",
            timeout,
            session.uid_search(format!("UID {first}:*")),
        )
        .await;
        // `first:*` names the last mail even when its UID is below `first` (RFC 3501 6.4.8).
        let mut uids: Vec<u32> = self
            .keep(result)?
            .into_iter()
            .filter(|&uid| uid > last_uid)
            .collect();
        uids.sort_unstable();
        uids.truncate(max);
        let (Some(&low), Some(&high)) = (uids.first(), uids.last()) else {
            return Ok(Vec::new());
        };
        let session = self.open()?;
        let result = limit("UID FETCH", timeout, async {
            session
                .uid_fetch(format!("{low}:{high}"), "(UID RFC822.SIZE)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        let sizes: HashMap<u32, u64> = self
            .keep(result)?
            .iter()
            .filter_map(|fetch| Some((fetch.uid?, u64::from(fetch.size?))))
            .collect();
        let mut mails = Vec::new();
        let mut batch_bytes = 0u64;
        for chunk in chunks(&uids, &sizes) {
            if !mails.is_empty() && batch_bytes >= BATCH_BYTES {
                break;
            }
            batch_bytes += chunk.bytes;
            let allowed = timeout + Duration::from_secs(chunk.bytes / BYTES_PER_SECOND);
            let wanted: HashSet<u32> = chunk.uids.iter().copied().collect();
            let (Some(low), Some(high)) = (chunk.uids.first(), chunk.uids.last()) else {
                continue;
            };
            let session = self.open()?;
            let result = limit("UID FETCH", allowed, async {
                session
                    .uid_fetch(format!("{low}:{high}"), "(UID BODY.PEEK[])")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await;
            mails.extend(self.keep(result)?.iter().filter_map(|fetch| {
                let uid = fetch.uid.filter(|uid| wanted.contains(uid))?;
                Some(FetchedMail {
                    uid,
                    raw: fetch.body()?.to_vec(),
                })
            }));
        }
        mails.sort_unstable_by_key(|mail| mail.uid);
        mails.dedup_by_key(|mail| mail.uid);
        Ok(mails)
    }

    /// Flags the mail `\Seen`.
    pub async fn mark_seen(&mut self, uid: u32) -> Result<(), ImapError> {
        self.store_flag(uid, "\\Seen").await
    }

    /// Moves the mail to `folder`: UID MOVE where the server has it, else COPY, `\Deleted` and
    /// an expunge — UID EXPUNGE of that mail with UIDPLUS, a plain EXPUNGE (of every `\Deleted`
    /// mail in the folder) without.
    pub async fn move_to(&mut self, uid: u32, folder: &str) -> Result<(), ImapError> {
        let timeout = self.timeout;
        let capabilities = self.capabilities;
        let session = self.open()?;
        if capabilities.moves {
            let result = limit("UID MOVE", timeout, session.uid_mv(uid.to_string(), folder)).await;
            return self.keep(result);
        }
        let result = limit(
            "UID COPY",
            timeout,
            session.uid_copy(uid.to_string(), folder),
        )
        .await;
        self.keep(result)?;
        self.store_flag(uid, "\\Deleted").await?;
        let session = self.open()?;
        let result = if capabilities.uidplus {
            limit("UID EXPUNGE", timeout, async {
                session
                    .uid_expunge(uid.to_string())
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await
        } else {
            limit("EXPUNGE", timeout, async {
                session.expunge().await?.try_collect::<Vec<_>>().await
            })
            .await
        };
        self.keep(result).map(drop)
    }

    /// Waits up to `wait` for new mail in the selected folder with IDLE, then ends the IDLE: the
    /// session stays usable. New mail the server announced during earlier commands counts too,
    /// without waiting (else a mail arriving between a fetch and the IDLE would wait a whole
    /// timeout).
    pub async fn idle(&mut self, wait: Duration) -> Result<IdleOutcome, ImapError> {
        if !self.capabilities.idle {
            return Err(ImapError::Unsupported("IDLE"));
        }
        let timeout = self.timeout;
        let session = self.session.take().ok_or_else(closed)?;
        let mut announced = false;
        while let Ok(response) = session.unsolicited_responses.try_recv() {
            announced |= matches!(
                response,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            );
        }
        if announced {
            self.session = Some(session);
            return Ok(IdleOutcome::NewMail);
        }
        let mut handle = session.idle();
        limit("IDLE", timeout, handle.init()).await?;
        let deadline = Instant::now() + wait;
        let outcome = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break IdleOutcome::Timeout;
            }
            // The stop source must live while the wait runs: dropping it interrupts the wait.
            let (waiting, stop) = handle.wait_with_timeout(remaining);
            let response = waiting.await;
            drop(stop);
            match response.map_err(|error| broken("IDLE", error))? {
                async_imap::extensions::idle::IdleResponse::NewData(data) => {
                    if matches!(
                        data.parsed(),
                        Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_))
                    ) {
                        break IdleOutcome::NewMail;
                    }
                }
                async_imap::extensions::idle::IdleResponse::Timeout
                | async_imap::extensions::idle::IdleResponse::ManualInterrupt => {
                    break IdleOutcome::Timeout;
                }
            }
        };
        self.session = Some(limit("DONE", timeout, handle.done()).await?);
        Ok(outcome)
    }

    /// Logs out and closes the connection.
    pub async fn logout(mut self) -> Result<(), ImapError> {
        let timeout = self.timeout;
        let session = self.open()?;
        limit("LOGOUT", timeout, session.logout()).await
    }

    async fn store_flag(&mut self, uid: u32, flag: &str) -> Result<(), ImapError> {
        let timeout = self.timeout;
        let session = self.open()?;
        let result = limit("UID STORE", timeout, async {
            session
                .uid_store(uid.to_string(), format!("+FLAGS.SILENT ({flag})"))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await;
        self.keep(result).map(drop)
    }

    fn open(&mut self) -> Result<&mut Session<Transport>, ImapError> {
        self.session.as_mut().ok_or_else(closed)
    }

    /// Passes `result` on, closing the session when it failed for a reason other than the
    /// server's refusal of one command.
    fn keep<T>(&mut self, result: Result<T, ImapError>) -> Result<T, ImapError> {
        if let Err(error) = &result
            && !matches!(error, ImapError::Protocol { .. })
        {
            self.session = None;
        }
        result
    }
}

fn closed() -> ImapError {
    ImapError::Connection {
        step: "a command",
        reason: "the session was closed by an earlier failure".to_owned(),
    }
}

fn timeout_error(step: &'static str, timeout: Duration) -> ImapError {
    ImapError::Timeout {
        step,
        seconds: timeout.as_secs(),
    }
}

fn broken(step: &'static str, error: async_imap::error::Error) -> ImapError {
    use async_imap::error::Error;
    match error {
        Error::No(reason) | Error::Bad(reason) => ImapError::Protocol { step, reason },
        Error::Parse(error) => ImapError::Protocol {
            step,
            reason: error.to_string(),
        },
        Error::Validate(error) => ImapError::Protocol {
            step,
            reason: error.to_string(),
        },
        other => ImapError::Connection {
            step,
            reason: other.to_string(),
        },
    }
}

/// Runs one step under `timeout`.
async fn limit<T>(
    step: &'static str,
    timeout: Duration,
    future: impl Future<Output = Result<T, async_imap::error::Error>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(timeout, future).await {
        Err(_) => Err(timeout_error(step, timeout)),
        Ok(result) => result.map_err(|error| broken(step, error)),
    }
}

async fn greeting<T>(client: &mut Client<T>, timeout: Duration) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match tokio::time::timeout(timeout, client.read_response()).await {
        Err(_) => Err(timeout_error("the greeting", timeout)),
        Ok(Err(error)) => Err(ImapError::Connection {
            step: "the greeting",
            reason: error.to_string(),
        }),
        Ok(Ok(None)) => Err(ImapError::Connection {
            step: "the greeting",
            reason: "the server closed the connection".to_owned(),
        }),
        Ok(Ok(Some(response))) => match response.parsed() {
            Response::Data {
                status: async_imap::imap_proto::Status::Bye,
                information,
                ..
            } => Err(ImapError::Connection {
                step: "the greeting",
                reason: information.as_deref().unwrap_or("BYE").to_owned(),
            }),
            _ => Ok(()),
        },
    }
}

async fn open(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ImapError> {
    let addresses = match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await
    {
        Err(_) => return Err(timeout_error("the host lookup", timeout)),
        Ok(Err(source)) => {
            return Err(ImapError::Resolve {
                host: host.to_owned(),
                source,
            });
        }
        Ok(Ok(addresses)) => addresses.collect::<Vec<_>>(),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for address in addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Err(_) => return Err(timeout_error("the connection", timeout)),
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(error)) => last = error,
        }
    }
    Err(ImapError::Connect {
        host: host.to_owned(),
        port,
        source: last,
    })
}

async fn tls(
    host: &str,
    tcp: TcpStream,
    timeout: Duration,
    roots: &[CertificateDer<'static>],
) -> Result<Transport, ImapError> {
    let failure = |reason: String| ImapError::Tls {
        host: host.to_owned(),
        reason,
    };
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| failure("the host is not a valid TLS server name".to_owned()))?;
    let config = if roots.is_empty() {
        system_tls_config()
    } else {
        tls_config(roots)
    };
    let connector = TlsConnector::from(config.map_err(failure)?);
    match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Err(_) => Err(timeout_error("the TLS handshake", timeout)),
        Ok(Err(error)) => Err(failure(
            match error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(tls) => tls_failure(tls),
                None => error.to_string(),
            },
        )),
        Ok(Ok(stream)) => Ok(Transport::Tls(Box::new(stream))),
    }
}

/// `tls_config` with the system's certificates alone, read once per process.
fn system_tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| tls_config(&[])).clone()
}

/// rustls with aws-lc-rs (the workspace's one provider) trusting the system's certificates, as
/// lettre does for SMTP, and `extra` roots.
fn tls_config(extra: &[CertificateDer<'static>]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots.add_parsable_certificates(extra.iter().cloned());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The connection under the IMAP session: TLS or not, one type for async-imap.
#[derive(Debug)]
enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Chunk, FETCH_BYTES, chunks};

    #[test]
    fn bodies_are_fetched_in_runs_of_bounded_size_and_a_big_mail_alone() {
        let sizes = HashMap::from([
            (1, 1_000),
            (2, FETCH_BYTES - 1_000),
            (3, 10),
            (5, FETCH_BYTES * 3),
            (6, 20),
        ]);
        assert_eq!(
            chunks(&[1, 2, 3, 5, 6, 7], &sizes),
            [
                Chunk {
                    uids: vec![1, 2],
                    bytes: FETCH_BYTES
                },
                Chunk {
                    uids: vec![3],
                    bytes: 10
                },
                Chunk {
                    uids: vec![5],
                    bytes: FETCH_BYTES * 3
                },
                Chunk {
                    uids: vec![6, 7],
                    bytes: 20
                },
            ]
        );
        assert!(chunks(&[], &sizes).is_empty());
    }
}
