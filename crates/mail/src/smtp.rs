//! Sending composed mail to a mailbox's SMTP server: lettre's async transport over rustls, with
//! implicit TLS, required STARTTLS or (for a server on the same host or a closed network) plain
//! TCP, and AUTH when the mailbox has a user name.
//!
//! TLS trusts the system's certificates: lettre builds its rustls roots with rustls-native-certs,
//! which reads `SSL_CERT_FILE` and `SSL_CERT_DIR` first (how an operator trusts a mail server's
//! private CA). Only the tests add roots of their own (feature `testkit`).
//!
//! `send` sorts failures the way the outbox needs them: a 5xx answer is `Permanent` (never
//! retried), everything else — 4xx, a refused or dropped connection, TLS, a timeout — is
//! `Transient`. `check` answers "test connection" with one sentence an administrator can act on.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use growdesk_domain::mail::{SmtpSettings, TransportSecurity};
use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls::pki_types::CertificateDer;

use crate::error::{SendError, tls_failure};

/// A client of one SMTP server. Each mail has a connection of its own: lettre bounds only the
/// connecting with a timeout (not the server's answers), so every conversation here runs under a
/// deadline of its own, and a pooled connection left behind by an abandoned conversation could be
/// handed out in the middle of a transaction; reuse saves little at a help desk's volume.
///
/// `timeout` bounds a `check`; a `send` gets four times that, since its data may be large.
pub struct SmtpClient {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    port: u16,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpClient {
    // The transport holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpClient({}:{})", self.host, self.port)
    }
}

impl SmtpClient {
    /// A client of `settings`' server, authenticating as its user name (when not empty) with
    /// `password`; `timeout` bounds the connection and each command.
    pub fn new(
        settings: &SmtpSettings,
        password: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, SendError> {
        Self::with_roots(settings, password, timeout, &[])
    }

    /// As `new`, trusting `roots` besides the system's certificates: for tests with a throwaway
    /// CA.
    #[cfg(feature = "testkit")]
    pub fn trusting(
        settings: &SmtpSettings,
        password: Option<&str>,
        timeout: Duration,
        roots: &[CertificateDer<'static>],
    ) -> Result<Self, SendError> {
        Self::with_roots(settings, password, timeout, roots)
    }

    fn with_roots(
        settings: &SmtpSettings,
        password: Option<&str>,
        timeout: Duration,
        roots: &[CertificateDer<'static>],
    ) -> Result<Self, SendError> {
        let host = settings.host.trim().to_owned();
        let setup = |error: lettre::transport::smtp::Error| {
            SendError::Permanent(format!("TLS setup failed: {error}"))
        };
        let tls = |host: &str| {
            roots
                .iter()
                .try_fold(TlsParameters::builder(host.to_owned()), |builder, root| {
                    Ok(builder.add_root_certificate(Certificate::from_der(root.to_vec())?))
                })
                .and_then(|builder| builder.build())
                .map_err(setup)
        };
        let tls = match settings.security {
            TransportSecurity::Tls => Tls::Wrapper(tls(&host)?),
            TransportSecurity::StartTls => Tls::Required(tls(&host)?),
            TransportSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(0));
        let username = settings.username.trim();
        if !username.is_empty() {
            builder = builder.credentials(Credentials::new(
                username.to_owned(),
                password.unwrap_or_default().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            host,
            port: settings.port,
            timeout,
        })
    }

    /// Sends `raw` (see `outbound::compose`) from the envelope sender `envelope_from` to `to`.
    pub async fn send(&self, envelope_from: &str, to: &str, raw: &[u8]) -> Result<(), SendError> {
        let address = |value: &str| {
            value.trim().parse::<lettre::Address>().map_err(|_| {
                SendError::Permanent(format!("{value:?} is not a valid email address"))
            })
        };
        let envelope = Envelope::new(Some(address(envelope_from)?), vec![address(to)?])
            .map_err(|error| SendError::Permanent(error.to_string()))?;
        // lettre ends DATA with CRLF.CRLF whatever the mail's last bytes; a mail's own final CRLF
        // is that terminator's first half, so it is left out here and the server stores exactly
        // `raw`, not `raw` and an empty line.
        let raw = raw.strip_suffix(b"\r\n").unwrap_or(raw);
        let deadline = self.timeout * 4;
        match tokio::time::timeout(deadline, self.transport.send_raw(&envelope, raw)).await {
            Err(_) => Err(SendError::Transient(format!(
                "the SMTP server {}:{} did not finish within {} s",
                self.host,
                self.port,
                deadline.as_secs()
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) if error.is_permanent() => Err(SendError::Permanent(describe(&error))),
            // A refused certificate reads as the connection test says it, with its way out.
            Ok(Err(error)) if tls_cause(&error).is_some() => {
                Err(SendError::Transient(self.explain(&error)))
            }
            Ok(Err(error)) => Err(SendError::Transient(describe(&error))),
        }
    }

    /// Connects, greets, upgrades to TLS and authenticates as `send` would, then quits: `Err`
    /// is a sentence for the administrator (never with the password).
    pub async fn check(&self) -> Result<(), String> {
        let target = format!("{}:{}", self.host, self.port);
        match tokio::time::timeout(self.timeout, tokio::net::lookup_host(&target)).await {
            Err(_) => return Err(format!("looking up {} timed out", self.host)),
            Ok(Err(_)) => return Err(format!("the SMTP host {} could not be found", self.host)),
            Ok(Ok(_)) => {}
        }
        match tokio::time::timeout(self.timeout, self.transport.test_connection()).await {
            Err(_) => Err(format!(
                "the SMTP server {target} did not answer within {} s",
                self.timeout.as_secs()
            )),
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(format!("the SMTP server {target} stopped answering")),
            Ok(Err(error)) => Err(self.explain(&error)),
        }
    }

    fn explain(&self, error: &lettre::transport::smtp::Error) -> String {
        let target = format!("{}:{}", self.host, self.port);
        if let Some(io) = io_cause(error) {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => {
                    return format!("the SMTP server {target} refused the connection");
                }
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                    return format!(
                        "the SMTP server {target} did not answer within {} s",
                        self.timeout.as_secs()
                    );
                }
                _ => {}
            }
        }
        if error.is_timeout() {
            return format!(
                "the SMTP server {target} did not answer within {} s",
                self.timeout.as_secs()
            );
        }
        if let Some(tls) = tls_cause(error) {
            return format!(
                "TLS with the SMTP server {target} failed: {}",
                tls_failure(tls)
            );
        }
        if error.is_tls() {
            return format!(
                "TLS with the SMTP server {target} failed: {}",
                describe(error)
            );
        }
        match error.status().map(|code| code.to_string()).as_deref() {
            Some("535" | "534" | "454") => format!(
                "the SMTP server {target} refused the user name or password ({})",
                describe(error)
            ),
            Some("530") => format!(
                "the SMTP server {target} requires a user name and password ({})",
                describe(error)
            ),
            _ => format!("the SMTP server {target} failed: {}", describe(error)),
        }
    }
}

/// lettre's error with its causes, which hold the server's words or the system's.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The TLS failure under `error`, if any: lettre reports a failed handshake as a connection
/// error around rustls' own.
fn tls_cause(error: &lettre::transport::smtp::Error) -> Option<&rustls::Error> {
    let mut source = error.source();
    while let Some(cause) = source {
        let tls = cause
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .or_else(|| cause.downcast_ref::<rustls::Error>());
        if tls.is_some() {
            return tls;
        }
        source = cause.source();
    }
    None
}

fn io_cause(error: &lettre::transport::smtp::Error) -> Option<&io::Error> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = cause.source();
    }
    None
}
