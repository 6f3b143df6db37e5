//! A mailbox's fields checked: what an admin sent, applied to the mailbox as it is (or to the
//! defaults of a new one), becomes complete fields or one error naming every bad field (`imap.port`,
//! `display_name`, …). Text that goes to a mail server or into a header may hold no control
//! characters: a CR or LF there would end the command or header it is sent in.

use growdesk_domain::{
    AfterImport, Email, ImapSettings, Mailbox, PersonName, Priority, SmtpSettings,
    TransportSecurity, ValidationErrors,
};
use growdesk_store::mailboxes::MailboxFields;
use uuid::Uuid;

use super::{ImapInput, MailboxInput, SmtpInput};

/// Longest host name (RFC 1035).
const MAX_HOST_LEN: usize = 253;

/// Longest user name, folder name and password accepted.
const MAX_FIELD_LEN: usize = 1024;

/// A mailbox's complete, validated fields, with what becomes of its passwords.
#[derive(Debug)]
pub(super) struct Fields {
    address: Email,
    display_name: String,
    imap: Option<ImapSettings>,
    smtp: Option<SmtpSettings>,
    imap_password: PasswordChange,
    smtp_password: PasswordChange,
    default_category_id: Option<Uuid>,
    default_priority: Priority,
    acknowledge: bool,
    active: bool,
}

/// What becomes of a password: `None` keeps it, `Some(None)` clears it.
type PasswordChange = Option<Option<String>>;

impl Fields {
    /// The fields as the store takes them, and the two password changes (IMAP, SMTP).
    pub(super) fn into_stored(self) -> (MailboxFields, PasswordChange, PasswordChange) {
        let fields = MailboxFields {
            address: self.address,
            display_name: self.display_name,
            imap: self.imap,
            smtp: self.smtp,
            default_category_id: self.default_category_id,
            default_priority: self.default_priority,
            acknowledge: self.acknowledge,
            active: self.active,
        };
        (fields, self.imap_password, self.smtp_password)
    }
}

/// `value`, or the error "is required" under `field`.
fn required<T>(errors: &mut ValidationErrors, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.add(field, "is required");
    }
    value
}

/// A host name or address: not empty, no spaces or control characters.
fn host(errors: &mut ValidationErrors, field: &str, raw: Option<&str>) -> String {
    let host = required(errors, field, raw).unwrap_or_default().trim();
    if host.is_empty() {
        errors.add(field, "must not be empty");
    } else if host.len() > MAX_HOST_LEN {
        errors.add(field, format!("must be at most {MAX_HOST_LEN} characters"));
    } else if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.add(field, "must not contain spaces or control characters");
    }
    host.to_owned()
}

fn port(errors: &mut ValidationErrors, field: &str, raw: Option<u16>) -> u16 {
    let port = required(errors, field, raw);
    if port == Some(0) {
        errors.add(field, "must be between 1 and 65535");
    }
    port.unwrap_or_default()
}

/// A line of text sent to a mail server (a user name, a folder, a password): no control
/// characters, which could end the command it is sent in.
fn line(errors: &mut ValidationErrors, field: &str, value: &str, may_be_empty: bool) {
    if !may_be_empty && value.trim().is_empty() {
        errors.add(field, "must not be empty");
    } else if value.chars().count() > MAX_FIELD_LEN {
        errors.add(field, format!("must be at most {MAX_FIELD_LEN} characters"));
    } else if value.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
    }
}

/// What becomes of a side's password; cleared with the side.
fn password(
    errors: &mut ValidationErrors,
    field: &str,
    side_removed: bool,
    raw: Option<&Option<String>>,
) -> PasswordChange {
    if side_removed {
        return Some(None);
    }
    let change = raw.cloned()?;
    if let Some(password) = &change {
        line(errors, field, password, false);
    }
    Some(change)
}

/// Who a password is given to: host, port, security and user name.
#[derive(PartialEq, Eq)]
struct Server<'a>(&'a str, u16, TransportSecurity, &'a str);

impl<'a> From<&'a ImapSettings> for Server<'a> {
    fn from(imap: &'a ImapSettings) -> Self {
        Self(&imap.host, imap.port, imap.security, &imap.username)
    }
}

impl<'a> From<&'a SmtpSettings> for Server<'a> {
    fn from(smtp: &'a SmtpSettings) -> Self {
        Self(&smtp.host, smtp.port, smtp.security, &smtp.username)
    }
}

/// Refuses keeping a stored password (`kept`) for a side whose server changes: the password
/// would be sent to the new server, so whoever may change the settings could collect it there.
fn password_follows(
    errors: &mut ValidationErrors,
    field: &str,
    kept: bool,
    before: Option<Server<'_>>,
    after: Option<Server<'_>>,
) {
    if kept && before.is_some() && after.is_some() && before != after {
        errors.add(field, "enter the password again for the new server");
    }
}

fn imap_settings(
    errors: &mut ValidationErrors,
    current: Option<&ImapSettings>,
    input: &ImapInput,
) -> ImapSettings {
    let host = host(
        errors,
        "imap.host",
        input
            .host
            .as_deref()
            .or(current.map(|imap| imap.host.as_str())),
    );
    let port = port(
        errors,
        "imap.port",
        input.port.or(current.map(|imap| imap.port)),
    );
    let security = required(
        errors,
        "imap.security",
        input.security.or(current.map(|imap| imap.security)),
    )
    .unwrap_or(TransportSecurity::Tls);
    let username = required(
        errors,
        "imap.username",
        input
            .username
            .clone()
            .or(current.map(|imap| imap.username.clone())),
    )
    .unwrap_or_default();
    line(errors, "imap.username", &username, false);
    let folder = input
        .folder
        .clone()
        .or(current.map(|imap| imap.folder.clone()))
        .unwrap_or_else(|| "INBOX".to_owned());
    line(errors, "imap.folder", &folder, false);
    let after_import = input
        .after_import
        .clone()
        .or(current.map(|imap| imap.after_import.clone()))
        .unwrap_or(AfterImport::MarkSeen);
    if let AfterImport::Move(target) = &after_import {
        line(errors, "imap.after_import.folder", target, false);
    }
    ImapSettings {
        host,
        port,
        security,
        username: username.trim().to_owned(),
        folder: folder.trim().to_owned(),
        after_import,
    }
}

fn smtp_settings(
    errors: &mut ValidationErrors,
    current: Option<&SmtpSettings>,
    input: &SmtpInput,
) -> SmtpSettings {
    let host = host(
        errors,
        "smtp.host",
        input
            .host
            .as_deref()
            .or(current.map(|smtp| smtp.host.as_str())),
    );
    let port = port(
        errors,
        "smtp.port",
        input.port.or(current.map(|smtp| smtp.port)),
    );
    let security = required(
        errors,
        "smtp.security",
        input.security.or(current.map(|smtp| smtp.security)),
    )
    .unwrap_or(TransportSecurity::Tls);
    let username = input
        .username
        .clone()
        .or(current.map(|smtp| smtp.username.clone()))
        .unwrap_or_default();
    line(errors, "smtp.username", &username, true);
    SmtpSettings {
        host,
        port,
        security,
        username: username.trim().to_owned(),
    }
}

/// Checks `input` applied to `current` (none for a new mailbox) into complete fields, every
/// bad field named in one error. The default category is checked by the caller.
pub(super) fn fields(
    current: Option<&Mailbox>,
    input: &MailboxInput,
) -> Result<Fields, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let address = match (&input.address, current) {
        (Some(raw), _) => errors.check("address", Email::parse(raw)),
        (None, Some(current)) => Some(current.address.clone()),
        (None, None) => required(&mut errors, "address", None),
    };
    let display_name = match (&input.display_name, current) {
        // A person's name rules (not empty, at most 200 characters, no control characters)
        // also keep CR and LF out of the `From` header the name goes into.
        (Some(raw), _) => errors
            .check("display_name", PersonName::parse(raw))
            .map(PersonName::into_inner),
        (None, Some(current)) => Some(current.display_name.clone()),
        (None, None) => required(&mut errors, "display_name", None),
    };
    let (imap, imap_removed) = match &input.imap {
        Some(Some(side)) => (
            Some(imap_settings(
                &mut errors,
                current.and_then(|mailbox| mailbox.imap.as_ref()),
                side,
            )),
            false,
        ),
        Some(None) => (None, true),
        None => (current.and_then(|mailbox| mailbox.imap.clone()), false),
    };
    let (smtp, smtp_removed) = match &input.smtp {
        Some(Some(side)) => (
            Some(smtp_settings(
                &mut errors,
                current.and_then(|mailbox| mailbox.smtp.as_ref()),
                side,
            )),
            false,
        ),
        Some(None) => (None, true),
        None => (current.and_then(|mailbox| mailbox.smtp.clone()), false),
    };
    let imap_password = password(
        &mut errors,
        "imap.password",
        imap_removed,
        input
            .imap
            .as_ref()
            .and_then(|side| side.as_ref()?.password.as_ref()),
    );
    let smtp_password = password(
        &mut errors,
        "smtp.password",
        smtp_removed,
        input
            .smtp
            .as_ref()
            .and_then(|side| side.as_ref()?.password.as_ref()),
    );
    if let Some(current) = current {
        password_follows(
            &mut errors,
            "imap.password",
            current.has_imap_password && imap_password.is_none(),
            current.imap.as_ref().map(Server::from),
            imap.as_ref().map(Server::from),
        );
        password_follows(
            &mut errors,
            "smtp.password",
            current.has_smtp_password && smtp_password.is_none(),
            current.smtp.as_ref().map(Server::from),
            smtp.as_ref().map(Server::from),
        );
    }
    let (address, display_name) = errors.into_result(|| (address, display_name))?;
    let (Some(address), Some(display_name)) = (address, display_name) else {
        return Err(ValidationErrors::single("address", "is required"));
    };
    Ok(Fields {
        address,
        display_name,
        imap,
        smtp,
        imap_password,
        smtp_password,
        default_category_id: input
            .default_category_id
            .unwrap_or(current.and_then(|mailbox| mailbox.default_category_id)),
        default_priority: input
            .default_priority
            .or(current.map(|mailbox| mailbox.default_priority))
            .unwrap_or_default(),
        acknowledge: input
            .acknowledge
            .or(current.map(|mailbox| mailbox.acknowledge))
            .unwrap_or(true),
        active: input
            .active
            .or(current.map(|mailbox| mailbox.active))
            .unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imap_input() -> ImapInput {
        ImapInput {
            host: Some("imap.example.com".to_owned()),
            port: Some(993),
            security: Some(TransportSecurity::Tls),
            username: Some("support@example.com".to_owned()),
            password: Some(Some("app password".to_owned())),
            folder: None,
            after_import: None,
        }
    }

    fn smtp_input() -> SmtpInput {
        SmtpInput {
            host: Some("smtp.example.com".to_owned()),
            port: Some(587),
            security: Some(TransportSecurity::StartTls),
            username: None,
            password: None,
        }
    }

    fn complete() -> MailboxInput {
        MailboxInput {
            address: Some("  Support@Example.com ".to_owned()),
            display_name: Some("Example Support".to_owned()),
            imap: Some(Some(imap_input())),
            smtp: Some(Some(smtp_input())),
            ..MailboxInput::default()
        }
    }

    fn fields_named(errors: &ValidationErrors) -> Vec<&str> {
        errors
            .fields()
            .iter()
            .map(|error| error.field.as_str())
            .collect()
    }

    fn mailbox_of(fields: Fields) -> Mailbox {
        Mailbox {
            id: Uuid::now_v7(),
            address: fields.address,
            display_name: fields.display_name,
            imap: fields.imap,
            smtp: fields.smtp,
            has_imap_password: fields.imap_password.flatten().is_some(),
            has_smtp_password: fields.smtp_password.flatten().is_some(),
            default_category_id: fields.default_category_id,
            default_priority: fields.default_priority,
            acknowledge: fields.acknowledge,
            active: fields.active,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_new_mailbox_takes_defaults_and_a_lower_cased_address() {
        let new = fields(None, &complete()).unwrap();
        assert_eq!(new.address.as_str(), "support@example.com");
        let imap = new.imap.as_ref().unwrap();
        assert_eq!(imap.folder, "INBOX");
        assert_eq!(imap.after_import, AfterImport::MarkSeen);
        assert_eq!(new.imap_password, Some(Some("app password".to_owned())));
        assert_eq!(new.smtp.as_ref().unwrap().username, "");
        assert_eq!(new.smtp_password, None);
        assert!(new.acknowledge && new.active);
        assert_eq!(new.default_priority, Priority::Medium);

        let bare = MailboxInput {
            address: Some("help@example.com".to_owned()),
            display_name: Some("Help".to_owned()),
            ..MailboxInput::default()
        };
        let bare = fields(None, &bare).unwrap();
        assert!(bare.imap.is_none() && bare.smtp.is_none());
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let input = MailboxInput {
            address: Some("not an address".to_owned()),
            display_name: Some("Support\r\nBcc: victim@example.com".to_owned()),
            imap: Some(Some(ImapInput {
                host: Some("imap example.com".to_owned()),
                port: Some(0),
                security: None,
                username: Some("user\r\nA1 DELETE INBOX".to_owned()),
                password: Some(Some("pass\nword".to_owned())),
                folder: Some(String::new()),
                after_import: Some(AfterImport::Move(" ".to_owned())),
            })),
            smtp: Some(Some(SmtpInput {
                host: Some(String::new()),
                port: None,
                ..SmtpInput::default()
            })),
            ..MailboxInput::default()
        };
        let errors = fields(None, &input).unwrap_err();
        let mut named = fields_named(&errors);
        named.sort_unstable();
        assert_eq!(
            named,
            [
                "address",
                "display_name",
                "imap.after_import.folder",
                "imap.folder",
                "imap.host",
                "imap.password",
                "imap.port",
                "imap.security",
                "imap.username",
                "smtp.host",
                "smtp.port",
                "smtp.security",
            ]
        );
        let display = format!("{errors:?}");
        assert!(!display.contains("pass\nword") && !display.contains("pass\\nword"));
    }

    #[test]
    fn a_new_mailbox_needs_an_address_and_a_name() {
        let errors = fields(None, &MailboxInput::default()).unwrap_err();
        assert_eq!(fields_named(&errors), ["address", "display_name"]);
        let long = MailboxInput {
            display_name: Some("x".repeat(201)),
            ..complete()
        };
        assert_eq!(
            fields_named(&fields(None, &long).unwrap_err()),
            ["display_name"]
        );
    }

    #[test]
    fn a_change_keeps_what_it_omits_and_merges_a_side() {
        let current = mailbox_of(fields(None, &complete()).unwrap());
        let change = MailboxInput {
            imap: Some(Some(ImapInput {
                folder: Some("Support".to_owned()),
                ..ImapInput::default()
            })),
            acknowledge: Some(false),
            ..MailboxInput::default()
        };
        let changed = fields(Some(&current), &change).unwrap();
        assert_eq!(changed.address, current.address);
        let imap = changed.imap.unwrap();
        assert_eq!(imap.folder, "Support");
        assert_eq!(imap.host, "imap.example.com");
        assert_eq!(changed.imap_password, None, "the password is kept");
        assert_eq!(changed.smtp, current.smtp);
        assert!(!changed.acknowledge);
    }

    #[test]
    fn a_stored_password_never_follows_a_changed_server() {
        let current = mailbox_of(fields(None, &complete()).unwrap());
        let moved = |imap: ImapInput| MailboxInput {
            imap: Some(Some(imap)),
            ..MailboxInput::default()
        };
        for change in [
            ImapInput {
                host: Some("attacker.example.net".to_owned()),
                ..ImapInput::default()
            },
            ImapInput {
                security: Some(TransportSecurity::None),
                ..ImapInput::default()
            },
            ImapInput {
                port: Some(143),
                ..ImapInput::default()
            },
            ImapInput {
                username: Some("someone@example.com".to_owned()),
                ..ImapInput::default()
            },
        ] {
            let errors = fields(Some(&current), &moved(change)).unwrap_err();
            assert_eq!(fields_named(&errors), ["imap.password"]);
        }
        let with_password = ImapInput {
            host: Some("imap2.example.com".to_owned()),
            password: Some(Some("new password".to_owned())),
            ..ImapInput::default()
        };
        assert!(fields(Some(&current), &moved(with_password)).is_ok());
        let same_server = ImapInput {
            folder: Some("Support".to_owned()),
            ..ImapInput::default()
        };
        assert!(fields(Some(&current), &moved(same_server)).is_ok());
    }

    #[test]
    fn removing_a_side_clears_its_password() {
        let current = mailbox_of(fields(None, &complete()).unwrap());
        let change = MailboxInput {
            imap: Some(None),
            ..MailboxInput::default()
        };
        let changed = fields(Some(&current), &change).unwrap();
        assert!(changed.imap.is_none());
        assert_eq!(changed.imap_password, Some(None));
        assert_eq!(changed.smtp_password, None);
        let cleared = MailboxInput {
            smtp: Some(Some(SmtpInput {
                password: Some(None),
                ..SmtpInput::default()
            })),
            ..MailboxInput::default()
        };
        let changed = fields(Some(&current), &cleared).unwrap();
        assert_eq!(changed.smtp_password, Some(None));
        assert!(changed.smtp.is_some());
    }
}
