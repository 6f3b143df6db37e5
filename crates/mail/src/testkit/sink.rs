//! The SMTP sink: an SMTP server on 127.0.0.1 that delivers every mail it accepts into the
//! recipient's Dovecot INBOX (LMTP) before answering 250, and keeps a copy for assertions.
//! Requests are parsed by `smtp-proto`; AUTH PLAIN and LOGIN are checked against Dovecot's users
//! (a client that does not authenticate is served too, as a local relay would).
//!
//! Started with a certificate (`start_tls`), the same sink speaks implicit TLS (the handshake
//! before the greeting) or STARTTLS (offered in EHLO; HELO, AUTH and MAIL before it are answered
//! 530, as a server that requires encryption answers), so a mail it received went over TLS.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use growdesk_domain::mail::{SmtpSettings, TransportSecurity};
use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, Error as ParseError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::lmtp;
use super::{Dovecot, ServerCert};

/// A mail more than this is refused (552): the sink holds mail in memory.
const MAX_MESSAGE: usize = 64 << 20;

/// One mail the sink accepted: its envelope and its bytes as received (after the DATA
/// terminator and dot-stuffing are undone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    rejected: HashSet<String>,
    drop_during_data: bool,
}

/// A running SMTP sink in front of a [`Dovecot`]; stops accepting when dropped.
pub struct SmtpSink {
    pub port: u16,
    security: TransportSecurity,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpSink(127.0.0.1:{})", self.port)
    }
}

impl SmtpSink {
    /// Starts the sink, delivering into `dovecot` and authenticating its users.
    pub async fn start(dovecot: &Dovecot) -> io::Result<Self> {
        Self::launch(dovecot, Encryption::None).await
    }

    /// As `start`, presenting `cert` with `security`: implicit TLS or STARTTLS (`None` is the
    /// plain sink of `start`).
    pub async fn start_tls(
        dovecot: &Dovecot,
        security: TransportSecurity,
        cert: &ServerCert,
    ) -> io::Result<Self> {
        let encryption = match security {
            TransportSecurity::None => Encryption::None,
            TransportSecurity::Tls => Encryption::Implicit(cert.acceptor()?),
            TransportSecurity::StartTls => Encryption::StartTls(cert.acceptor()?),
        };
        Self::launch(dovecot, encryption).await
    }

    async fn launch(dovecot: &Dovecot, encryption: Encryption) -> io::Result<Self> {
        let security = match encryption {
            Encryption::None => TransportSecurity::None,
            Encryption::Implicit(_) => TransportSecurity::Tls,
            Encryption::StartTls(_) => TransportSecurity::StartTls,
        };
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State::default()));
        let backend = Arc::new(Backend {
            lmtp_port: dovecot.lmtp_port,
            passwords: dovecot.passwords().clone(),
            state: Arc::clone(&state),
            encryption,
        });
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let backend = Arc::clone(&backend);
                tokio::spawn(async move {
                    // A client that goes away mid-session (or refuses the certificate) is the
                    // client's business.
                    let _ = Session::open(stream, backend).await;
                });
            }
        });
        Ok(Self {
            port,
            security,
            state,
            server,
        })
    }

    /// SMTP settings for this sink (with its TLS or none), authenticating as `username` when it
    /// is not empty.
    pub fn smtp_settings(&self, username: &str) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port: self.port,
            security: self.security,
            username: username.to_owned(),
        }
    }

    /// Every mail accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// From now on, `RCPT TO` this address is answered `550` (a permanent failure).
    pub fn reject_recipient(&self, address: &str) {
        lock(&self.state)
            .rejected
            .insert(address.trim().to_lowercase());
    }

    /// While on, a connection is dropped as soon as mail data starts to arrive (a transient
    /// failure: nothing is delivered).
    pub fn drop_during_data(&self, on: bool) {
        lock(&self.state).drop_during_data = on;
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A test that panicked while holding the lock leaves the state as it was: still readable.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Backend {
    lmtp_port: u16,
    passwords: BTreeMap<String, String>,
    state: Arc<Mutex<State>>,
    encryption: Encryption,
}

/// How the sink encrypts its sessions.
enum Encryption {
    None,
    /// TLS from the first byte.
    Implicit(TlsAcceptor),
    /// Plain until the client's STARTTLS.
    StartTls(TlsAcceptor),
}

/// A client's connection, plain or TLS: STARTTLS swaps one for the other in the middle of a
/// session.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

struct Session {
    stream: Box<dyn Connection>,
    /// While the session is plain on a STARTTLS sink: what its upgrade presents.
    starttls: Option<TlsAcceptor>,
    backend: Arc<Backend>,
    /// Bytes read and not yet parsed.
    pending: Vec<u8>,
    from: Option<String>,
    to: Vec<String>,
}

impl Session {
    /// Serves one client: after the TLS handshake when the sink speaks implicit TLS.
    async fn open(stream: tokio::net::TcpStream, backend: Arc<Backend>) -> io::Result<()> {
        let (stream, starttls): (Box<dyn Connection>, _) = match &backend.encryption {
            Encryption::None => (Box::new(stream), None),
            Encryption::Implicit(acceptor) => (Box::new(acceptor.accept(stream).await?), None),
            Encryption::StartTls(acceptor) => (Box::new(stream), Some(acceptor.clone())),
        };
        Self {
            stream,
            starttls,
            backend,
            pending: Vec::new(),
            from: None,
            to: Vec::new(),
        }
        .serve()
        .await
    }

    async fn serve(mut self) -> io::Result<()> {
        self.reply("220 localhost GrowDesk test SMTP sink").await?;
        let mut receiver = RequestReceiver::default();
        loop {
            let request = {
                let mut bytes = self.pending.iter();
                let parsed = receiver
                    .ingest(&mut bytes)
                    .map(|request| request.into_owned());
                let consumed = self.pending.len() - bytes.as_slice().len();
                self.pending.drain(..consumed);
                parsed
            };
            match request {
                Ok(request) => {
                    if !self.handle(request).await? {
                        return Ok(());
                    }
                }
                Err(ParseError::NeedsMoreData { .. }) => {
                    if !self.read_more().await? {
                        return Ok(());
                    }
                }
                Err(ParseError::UnknownCommand) => self.reply("500 5.5.1 unknown command").await?,
                Err(error) => self.reply(&format!("501 5.5.4 {error:?}")).await?,
            }
        }
    }

    /// Answers one command; `false` ends the session.
    async fn handle(&mut self, request: Request<String>) -> io::Result<bool> {
        if matches!(request, Request::StartTls)
            && let Some(acceptor) = self.starttls.take()
        {
            self.reply("220 2.0.0 ready to start TLS").await?;
            self.upgrade(acceptor).await?;
            return Ok(true);
        }
        let starttls = self.starttls.is_some();
        match request {
            Request::Ehlo { .. } => {
                let offer = if starttls { "250-STARTTLS\r\n" } else { "" };
                self.reply(&format!(
                    "250-localhost\r\n{offer}250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 67108864"
                ))
                .await?
            }
            Request::Noop { .. } => self.reply("250 2.0.0 ok").await?,
            Request::Quit => {
                self.reply("221 2.0.0 bye").await?;
                return Ok(false);
            }
            Request::Helo { .. } | Request::Auth { .. } | Request::Mail { .. } if starttls => {
                self.reply("530 5.7.0 must issue a STARTTLS command first")
                    .await?
            }
            Request::Helo { .. } => self.reply("250 localhost").await?,
            Request::Auth {
                mechanism,
                initial_response,
            } => self.authenticate(mechanism, initial_response).await?,
            Request::Mail { from } => {
                self.from = Some(from.address);
                self.to.clear();
                self.reply("250 2.1.0 sender ok").await?
            }
            Request::Rcpt { .. } if self.from.is_none() => {
                self.reply("503 5.5.1 MAIL first").await?
            }
            Request::Rcpt { to } => {
                let address = to.address.to_lowercase();
                let rejected = lock(&self.backend.state).rejected.contains(&address);
                if rejected {
                    self.reply(&format!("550 5.1.1 <{address}>: recipient rejected"))
                        .await?
                } else {
                    self.to.push(address);
                    self.reply("250 2.1.5 recipient ok").await?
                }
            }
            Request::Data if self.to.is_empty() => self.reply("503 5.5.1 RCPT first").await?,
            Request::Data => return self.data().await,
            Request::Rset => {
                self.from = None;
                self.to.clear();
                self.reply("250 2.0.0 reset").await?
            }
            _ => self.reply("502 5.5.1 not implemented").await?,
        }
        Ok(true)
    }

    /// The TLS handshake after STARTTLS. What the client sent before it is dropped and the
    /// session starts over (RFC 3207 4.2): nothing said in the clear carries over.
    async fn upgrade(&mut self, acceptor: TlsAcceptor) -> io::Result<()> {
        let plain = std::mem::replace(&mut self.stream, Box::new(tokio::io::empty()));
        self.stream = Box::new(acceptor.accept(plain).await?);
        self.pending.clear();
        self.from = None;
        self.to.clear();
        Ok(())
    }

    async fn data(&mut self) -> io::Result<bool> {
        self.reply("354 end with <CRLF>.<CRLF>").await?;
        let mut receiver = DataReceiver::new();
        let mut raw = Vec::new();
        loop {
            let done = {
                let mut bytes = self.pending.iter();
                let done = receiver.ingest(&mut bytes, &mut raw);
                let consumed = self.pending.len() - bytes.as_slice().len();
                self.pending.drain(..consumed);
                done
            };
            if done {
                break;
            }
            if !raw.is_empty() && lock(&self.backend.state).drop_during_data {
                return Ok(false);
            }
            if raw.len() > MAX_MESSAGE {
                self.reply("552 5.3.4 message too big").await?;
                return Ok(false);
            }
            if !self.read_more().await? {
                return Ok(false);
            }
        }
        let from = self.from.take().unwrap_or_default();
        let to = std::mem::take(&mut self.to);
        for recipient in &to {
            match lmtp::deliver(self.backend.lmtp_port, &from, recipient, &raw).await {
                Ok(Ok(())) => {}
                Ok(Err(refused)) => {
                    let class = if refused.code >= 500 {
                        "554 5.0.0"
                    } else {
                        "451 4.0.0"
                    };
                    self.reply(&format!("{class} <{recipient}>: {}", refused.text))
                        .await?;
                    return Ok(true);
                }
                Err(error) => {
                    self.reply(&format!("451 4.3.0 delivery failed: {error}"))
                        .await?;
                    return Ok(true);
                }
            }
        }
        lock(&self.backend.state)
            .received
            .push(Received { from, to, raw });
        self.reply("250 2.0.0 delivered").await?;
        Ok(true)
    }

    async fn authenticate(&mut self, mechanism: u64, initial: String) -> io::Result<()> {
        let decode = |text: &str| STANDARD.decode(text.trim()).ok();
        let credentials = if mechanism == AUTH_PLAIN {
            let response = if initial.is_empty() {
                self.reply("334 ").await?;
                self.read_line().await?
            } else {
                initial
            };
            decode(&response).and_then(|plain| {
                let mut parts = plain.split(|&b| b == 0).skip(1);
                let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
                let password = String::from_utf8(parts.next()?.to_vec()).ok()?;
                Some((user, password))
            })
        } else if mechanism == AUTH_LOGIN {
            self.reply("334 VXNlcm5hbWU6").await?;
            let user = self.read_line().await?;
            self.reply("334 UGFzc3dvcmQ6").await?;
            let password = self.read_line().await?;
            decode(&user)
                .and_then(|user| String::from_utf8(user).ok())
                .zip(decode(&password).and_then(|password| String::from_utf8(password).ok()))
        } else {
            return self.reply("504 5.5.4 mechanism not supported").await;
        };
        let accepted = credentials
            .is_some_and(|(user, password)| self.backend.passwords.get(&user) == Some(&password));
        if accepted {
            self.reply("235 2.7.0 authenticated").await
        } else {
            self.reply("535 5.7.8 authentication credentials invalid")
                .await
        }
    }

    async fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line).trim_end().to_owned());
            }
            if !self.read_more().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads what the client sent next; `false` when it closed the connection.
    async fn read_more(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let read = self.stream.read(&mut chunk).await?;
        self.pending.extend_from_slice(&chunk[..read]);
        Ok(read > 0)
    }

    async fn reply(&mut self, text: &str) -> io::Result<()> {
        self.stream.write_all(text.as_bytes()).await?;
        self.stream.write_all(b"\r\n").await
    }
}
