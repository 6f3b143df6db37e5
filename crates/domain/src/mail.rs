//! The email channel: mailboxes (where mail comes in and goes out), the channel a message came
//! by, and the record of each mail sent.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ticket::UnknownValue;
use crate::{Email, Priority, TicketSource};

/// Its literals as one string, separated by commas.
macro_rules! join_words {
    ($first:literal $(, $rest:literal)*) => {
        concat!($first $(, ", ", $rest)*)
    };
}

/// An enum stored and serialised as one lower-case word per variant: `ALL`, `as_str`,
/// `FromStr` (naming the accepted words when refusing) and `Display`, written once.
macro_rules! stored_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == s)
                    .ok_or(UnknownValue(join_words!($($text),+)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Whether `address` is one of ours: a mailbox's address (`ours`, as [`Email`] holds them) or a
/// tagged form of one (`support+t12@example.com`), which is delivered to that mailbox. It is
/// compared as an [`Email`] is stored (NFKC, lower case), so no look-alike in another case or in
/// fullwidth letters passes. Nothing is ever sent to one, and mail from one is never a
/// customer's: inbound and outbound ask this one rule.
pub fn is_own_address(address: &str, ours: &[String]) -> bool {
    let address = crate::user::normalise(address);
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    ours.iter().any(|own| {
        own.rsplit_once('@').is_some_and(|(own_local, own_domain)| {
            own_domain == domain
                && (local == own_local
                    || local
                        .strip_prefix(own_local)
                        .is_some_and(|tag| tag.starts_with('+')))
        })
    })
}

/// How a message reached the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageChannel {
    /// The console or the customer portal.
    Web,
    /// The chat widget.
    Widget,
    /// An email to one of the mailboxes.
    Email,
    /// The API, by a client other than the console.
    Api,
    /// Brought over from another system by an import.
    Import,
    /// Written by GrowDesk itself (auto-close, SLA notes).
    System,
}

stored_enum!(MessageChannel {
    Web => "web",
    Widget => "widget",
    Email => "email",
    Api => "api",
    Import => "import",
    System => "system",
});

impl From<TicketSource> for MessageChannel {
    /// The channel of a ticket's first message, by how the ticket reached us.
    fn from(source: TicketSource) -> Self {
        match source {
            TicketSource::Web => Self::Web,
            TicketSource::Widget => Self::Widget,
            TicketSource::Api => Self::Api,
            TicketSource::Import => Self::Import,
            TicketSource::Email => Self::Email,
        }
    }
}

/// How a connection to a mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransportSecurity {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// A plain connection upgraded by STARTTLS (IMAP 143, submission 587).
    StartTls,
    /// No encryption: for a server on the same host or in tests only.
    None,
}

stored_enum!(TransportSecurity {
    Tls => "tls",
    StartTls => "starttls",
    None => "none",
});

/// What becomes of a mail on the IMAP server once it is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "AfterImportJson", from = "AfterImportJson")]
pub enum AfterImport {
    /// Flag it `\Seen` where it is.
    MarkSeen,
    /// Move it to this folder.
    Move(String),
}

impl AfterImport {
    /// The stored form: `seen` or `move:<folder>`.
    pub fn to_stored(&self) -> String {
        match self {
            Self::MarkSeen => "seen".to_owned(),
            Self::Move(folder) => format!("move:{folder}"),
        }
    }

    /// The action of a stored form, `None` for text no version wrote.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text.split_once(':') {
            None if text == "seen" => Some(Self::MarkSeen),
            Some(("move", folder)) if !folder.is_empty() => Some(Self::Move(folder.to_owned())),
            _ => None,
        }
    }
}

/// `AfterImport` as JSON: `{"action": "seen"}` or `{"action": "move", "folder": "Archive"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "lowercase")]
#[schema(as = AfterImport)]
pub enum AfterImportJson {
    Seen,
    Move { folder: String },
}

impl From<AfterImport> for AfterImportJson {
    fn from(action: AfterImport) -> Self {
        match action {
            AfterImport::MarkSeen => Self::Seen,
            AfterImport::Move(folder) => Self::Move { folder },
        }
    }
}

impl From<AfterImportJson> for AfterImport {
    fn from(action: AfterImportJson) -> Self {
        match action {
            AfterImportJson::Seen => Self::MarkSeen,
            AfterImportJson::Move { folder } => Self::Move(folder),
        }
    }
}

/// Where a mailbox's incoming mail is fetched from (the password is kept apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: TransportSecurity,
    pub username: String,
    /// The folder watched, usually `INBOX`.
    pub folder: String,
    #[schema(value_type = AfterImportJson)]
    pub after_import: AfterImport,
}

/// Where a mailbox's outgoing mail is submitted (the password is kept apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: TransportSecurity,
    pub username: String,
}

/// An address customers write to, and its servers. Never carries a password: those are
/// write-only, read by the fetcher and the sender alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Mailbox {
    pub id: Uuid,
    /// Lower-cased.
    #[serde(serialize_with = "email_as_str")]
    #[schema(value_type = String, format = "email")]
    pub address: Email,
    /// The name mail from this address is sent under.
    pub display_name: String,
    pub imap: Option<ImapSettings>,
    pub smtp: Option<SmtpSettings>,
    pub has_imap_password: bool,
    pub has_smtp_password: bool,
    /// Given to tickets this mailbox opens.
    pub default_category_id: Option<Uuid>,
    pub default_priority: Priority,
    /// Whether a new ticket's requester is told it was received.
    pub acknowledge: bool,
    /// An inactive mailbox is neither fetched nor sent from.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn email_as_str<S: Serializer>(email: &Email, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(email.as_str())
}

/// Why a mail was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// An agent's public reply.
    Reply,
    /// "We received your request" on a new ticket.
    Acknowledgement,
    /// "Your ticket was resolved".
    Resolved,
    /// A link to set a new password.
    PasswordReset,
}

stored_enum!(MailKind {
    Reply => "reply",
    Acknowledgement => "acknowledgement",
    Resolved => "resolved",
    PasswordReset => "password_reset",
});

/// Where an outgoing mail stands (not to be confused with a webhook delivery's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = MailDeliveryStatus)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Queued,
    /// Accepted by the SMTP server.
    Sent,
    /// Refused for good (a 5xx) or given up after retrying.
    Failed,
    /// Accepted, then returned by a bounce.
    Bounced,
}

stored_enum!(DeliveryStatus {
    Queued => "queued",
    Sent => "sent",
    Failed => "failed",
    Bounced => "bounced",
});

/// One outgoing mail, as staff see it on the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Delivery {
    pub mail_id: Uuid,
    pub kind: MailKind,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// Why the last attempt failed, or the bounce's diagnostic.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_addresses_include_their_tagged_forms_and_look_alikes() {
        let ours = [
            "support@example.com".to_owned(),
            "help+desk@example.org".to_owned(),
        ];
        for address in [
            "support@example.com",
            " Support@EXAMPLE.com",
            "support+t42@example.com",
            "support+anything@example.com",
            "help+desk@example.org",
            "help+desk+t3@example.org",
            "Support+X@Example.COM",
            "\u{FF53}\u{FF55}\u{FF50}\u{FF50}\u{FF4F}\u{FF52}\u{FF54}@example.com",
            "support\u{FF0B}t42@\u{FF25}xample.com",
        ] {
            assert!(is_own_address(address, &ours), "{address}");
        }
        for address in [
            "supporter@example.com",
            "support@example.org",
            "help@example.org",
            "support",
            "",
        ] {
            assert!(!is_own_address(address, &ours), "{address}");
        }
    }

    #[test]
    fn stored_words_read_back() {
        for channel in MessageChannel::ALL {
            assert_eq!(channel.as_str().parse::<MessageChannel>(), Ok(*channel));
        }
        for kind in MailKind::ALL {
            assert_eq!(kind.as_str().parse::<MailKind>(), Ok(*kind));
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(*status));
        }
        for security in TransportSecurity::ALL {
            assert_eq!(
                security.as_str().parse::<TransportSecurity>(),
                Ok(*security)
            );
        }
        assert!("mail".parse::<MessageChannel>().is_err());
    }

    #[test]
    fn serde_matches_the_stored_words() {
        for kind in MailKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
        assert_eq!(
            serde_json::to_value(MessageChannel::Email).unwrap(),
            serde_json::Value::from("email")
        );
        assert_eq!(
            serde_json::to_value(TransportSecurity::StartTls).unwrap(),
            serde_json::Value::from("starttls")
        );
    }

    #[test]
    fn after_import_round_trips_stored_and_json() {
        for action in [
            AfterImport::MarkSeen,
            AfterImport::Move("Archive/2026".into()),
        ] {
            assert_eq!(
                AfterImport::from_stored(&action.to_stored()),
                Some(action.clone())
            );
            let json = serde_json::to_value(&action).unwrap();
            assert_eq!(serde_json::from_value::<AfterImport>(json).unwrap(), action);
        }
        assert_eq!(
            serde_json::to_value(AfterImport::Move("Archive".into())).unwrap(),
            serde_json::json!({"action": "move", "folder": "Archive"})
        );
        assert_eq!(
            serde_json::to_value(AfterImport::MarkSeen).unwrap(),
            serde_json::json!({"action": "seen"})
        );
        assert_eq!(AfterImport::from_stored("move:"), None);
        assert_eq!(AfterImport::from_stored("delete"), None);
    }
}
