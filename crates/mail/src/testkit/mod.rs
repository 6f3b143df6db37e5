//! Real mail servers for tests (feature `testkit`): each test starts its own on 127.0.0.1, in a
//! temporary directory, and they stop when dropped — like the throwaway PostgreSQL.
//!
//! - [`Dovecot`]: a throwaway Dovecot 2.3 (Debian's `dovecot-imapd` and `dovecot-lmtpd`) with
//!   IMAP and LMTP listeners and one mailbox per user; mail goes in by LMTP (`deliver`, as a mail
//!   server would) or by IMAP APPEND (`append`, for seeding thousands of messages).
//! - [`SmtpSink`]: a real SMTP server that takes what GrowDesk sends, hands it to Dovecot by LMTP
//!   (so it lands in the recipient's INBOX) and keeps a copy of each envelope and its bytes. It can
//!   refuse a chosen recipient with a 5xx and drop connections in the middle of DATA, for the
//!   sender's failure paths.
//! - [`TestCa`]: a throwaway certificate authority; with a [`ServerCert`] it issued, Dovecot offers
//!   IMAP over implicit TLS and STARTTLS (`Dovecot::start_tls`) and the sink SMTP over implicit
//!   TLS or STARTTLS (`SmtpSink::start_tls`).
//!
//! Protocol parsing for the sink is `smtp-proto` (Stalwart's SMTP/LMTP parser, maintained, no
//! dependencies but `memchr`): the sink only needs to be a correct SMTP server with two switches
//! for failures, which a parser and a small loop give us, where a full server library would hide
//! those switches and Postfix would need root for its master and a system-wide setup.

mod dovecot;
mod lmtp;
mod sink;
mod tls;

pub use dovecot::Dovecot;
pub use sink::{Received, SmtpSink};
pub use tls::{ServerCert, TestCa};
