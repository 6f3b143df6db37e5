//! The errors of composing, sending and fetching mail. None of them ever carries a password: a
//! server's answer is quoted, the credentials given to it never are.

use std::io;

/// Why a mail could not be composed: its own fields are wrong, so trying again cannot help.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address (From, To, Reply-To, an envelope address) is not a valid mailbox.
    #[error("{field} is not a valid email address: {value:?}")]
    InvalidAddress { field: &'static str, value: String },
    /// A message id (Message-ID, In-Reply-To, References) is not `<left@right>`.
    #[error("{field} is not a valid message id: {value:?}")]
    InvalidMessageId { field: &'static str, value: String },
    /// The unsubscribe link is not an absolute http(s) URL that fits in a header.
    #[error("the unsubscribe link is not a valid URL: {0:?}")]
    InvalidUnsubscribeUrl(String),
    /// The DKIM key could not be read.
    #[error("the DKIM key cannot be used: {0}")]
    InvalidDkimKey(String),
    /// lettre refused the message (a part it could not build).
    #[error("the mail could not be built: {0}")]
    Build(String),
}

/// Why an SMTP server did not take a mail. The sender retries `Transient` with a backoff and gives
/// up at once on `Permanent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server answered 5xx: the mail will never be accepted as it is.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// A 4xx answer, a refused or dropped connection, a TLS failure, a timeout: may pass later.
    #[error("transient failure: {0}")]
    Transient(String),
}

/// What a failed TLS handshake means to an administrator: rustls' words and, for a certificate
/// from an authority this machine does not trust, where that trust comes from.
pub(crate) fn tls_failure(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => format!(
            "{error} (no authority this machine trusts issued the server's certificate; for a \
             private CA, point SSL_CERT_FILE at a bundle that includes it)"
        ),
        _ => error.to_string(),
    }
}

/// Why an IMAP conversation failed. Every variant but `Protocol` means the session is gone and
/// must be opened again.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The host name did not resolve.
    #[error("could not resolve the IMAP host {host}: {source}")]
    Resolve { host: String, source: io::Error },
    /// No TCP connection could be made (refused, unreachable).
    #[error("could not connect to the IMAP server {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: io::Error,
    },
    /// The TLS handshake (implicit or after STARTTLS) failed.
    #[error("TLS with the IMAP server {host} failed: {reason}")]
    Tls { host: String, reason: String },
    /// The server refused the user name or password.
    #[error("the IMAP server refused the login for {username}: {reason}")]
    Login { username: String, reason: String },
    /// A step did not finish in time.
    #[error("the IMAP server did not answer {step} within {seconds} s")]
    Timeout { step: &'static str, seconds: u64 },
    /// The server does not offer what was asked of it (IDLE, STARTTLS).
    #[error("the IMAP server does not support {0}")]
    Unsupported(&'static str),
    /// The server answered a command with NO or BAD, or with something we cannot read.
    #[error("the IMAP server refused {step}: {reason}")]
    Protocol { step: &'static str, reason: String },
    /// The connection broke.
    #[error("the IMAP connection broke during {step}: {reason}")]
    Connection { step: &'static str, reason: String },
}
