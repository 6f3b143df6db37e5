//! Mailboxes (admins only): the addresses customers write to, their IMAP server (mail in) and
//! SMTP server (mail out), and a test of both connections.
//!
//! Passwords are write-only: they go to the store and to the mail servers, never back out in a
//! `Mailbox`, an error or a log line.

use std::time::Duration;

use growdesk_domain::{AfterImport, Mailbox, Priority, TransportSecurity, ValidationErrors};
use growdesk_mail::imap::ImapSession;
use growdesk_mail::smtp::SmtpClient;
use growdesk_store::StoreError;
use growdesk_store::mailboxes::{MailboxChanges, NewMailbox};
use serde::Serialize;
use uuid::Uuid;

use crate::policy::{Action, authorize};
use crate::{Principal, Service, ServiceError};

mod fields;

use fields::{Fields, fields};

/// How long each side of a connection test may take: an administrator is waiting for it.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The mailboxes; from [`Service::mailboxes`].
#[derive(Clone, Copy)]
pub struct Mailboxes<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The mailboxes (admins only).
    pub fn mailboxes(&self) -> Mailboxes<'_> {
        Mailboxes { service: self }
    }
}

/// A mailbox's fields as sent; on change, omitted ones stay.
#[derive(Debug, Clone, Default)]
pub struct MailboxInput {
    pub address: Option<String>,
    pub display_name: Option<String>,
    /// `Some(None)` removes the IMAP side (and its password).
    pub imap: Option<Option<ImapInput>>,
    /// `Some(None)` removes the SMTP side (and its password).
    pub smtp: Option<Option<SmtpInput>>,
    /// `Some(None)` clears it.
    pub default_category_id: Option<Option<Uuid>>,
    pub default_priority: Option<Priority>,
    pub acknowledge: Option<bool>,
    pub active: Option<bool>,
}

/// The IMAP side as sent; omitted fields keep their value (or take their default on a new
/// side: folder `INBOX`, mark seen after import).
#[derive(Clone, Default)]
pub struct ImapInput {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<TransportSecurity>,
    pub username: Option<String>,
    /// `None` keeps it, `Some(None)` clears it, `Some(Some(_))` sets it.
    pub password: Option<Option<String>>,
    pub folder: Option<String>,
    pub after_import: Option<AfterImport>,
}

/// The SMTP side as sent; omitted fields keep their value (the user name defaults to none:
/// no AUTH).
#[derive(Clone, Default)]
pub struct SmtpInput {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<TransportSecurity>,
    pub username: Option<String>,
    /// `None` keeps it, `Some(None)` clears it, `Some(Some(_))` sets it.
    pub password: Option<Option<String>>,
}

/// A password as it may appear in a log line.
fn redacted(password: Option<&Option<String>>) -> &'static str {
    match password {
        None => "unchanged",
        Some(None) => "cleared",
        Some(Some(_)) => "set",
    }
}

impl std::fmt::Debug for ImapInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapInput")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &redacted(self.password.as_ref()))
            .field("folder", &self.folder)
            .field("after_import", &self.after_import)
            .finish()
    }
}

impl std::fmt::Debug for SmtpInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpInput")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &redacted(self.password.as_ref()))
            .finish()
    }
}

/// One side of a connection test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub ok: bool,
    /// Why it failed, in a sentence for the administrator (never a password).
    pub error: Option<String>,
}

impl Check {
    fn of(outcome: Result<(), String>) -> Self {
        match outcome {
            Ok(()) => Self {
                ok: true,
                error: None,
            },
            Err(error) => Self {
                ok: false,
                error: Some(error),
            },
        }
    }
}

/// Both sides of a connection test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionReport {
    pub imap: Check,
    pub smtp: Check,
}

/// A store refusal in the admin's terms: a taken address (a conflict with the other mailbox)
/// or a category deleted meanwhile.
fn refused(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict => {
            ServiceError::Conflict("another mailbox has this address".to_owned())
        }
        StoreError::MissingReference => {
            ValidationErrors::single("default_category_id", "is not a category").into()
        }
        other => other.into(),
    }
}

impl Mailboxes<'_> {
    /// Every mailbox.
    ///
    /// # Errors
    /// `Forbidden` unless admin.
    pub async fn list(self, actor: &Principal) -> Result<Vec<Mailbox>, ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        Ok(self.service.store.mailboxes().list().await?)
    }

    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn get(self, actor: &Principal, id: Uuid) -> Result<Mailbox, ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        self.service
            .store
            .mailboxes()
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("mailbox"))
    }

    /// # Errors
    /// `Forbidden` unless admin; `Validation` naming every bad field, an unknown default
    /// category included; `Conflict` for an address another mailbox has.
    pub async fn create(
        self,
        actor: &Principal,
        input: MailboxInput,
    ) -> Result<Mailbox, ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        let fields = self.checked(None, &input).await?;
        let (fields, imap_password, smtp_password) = fields.into_stored();
        let new = NewMailbox {
            id: Uuid::now_v7(),
            fields,
            imap_password: imap_password.flatten(),
            smtp_password: smtp_password.flatten(),
        };
        let mailbox = self
            .service
            .store
            .mailboxes()
            .create(new)
            .await
            .map_err(refused)?;
        tracing::info!(mailbox_id = %mailbox.id, by = %actor.user.id, "mailbox created");
        Ok(mailbox)
    }

    /// Changes the fields given; omitted ones stay.
    ///
    /// # Errors
    /// As `create`; `NotFound`.
    pub async fn update(
        self,
        actor: &Principal,
        id: Uuid,
        input: MailboxInput,
    ) -> Result<Mailbox, ServiceError> {
        let current = self.get(actor, id).await?;
        let fields = self.checked(Some(&current), &input).await?;
        let (fields, imap_password, smtp_password) = fields.into_stored();
        let changes = MailboxChanges {
            fields,
            imap_password,
            smtp_password,
        };
        let mailbox = self
            .service
            .store
            .mailboxes()
            .update(id, changes)
            .await
            .map_err(refused)?
            .ok_or(ServiceError::NotFound("mailbox"))?;
        tracing::info!(mailbox_id = %id, by = %actor.user.id, "mailbox changed");
        Ok(mailbox)
    }

    /// Deletes a mailbox; its tickets stay (their mail then goes out from another mailbox).
    ///
    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn delete(self, actor: &Principal, id: Uuid) -> Result<(), ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        if !self.service.store.mailboxes().delete(id).await? {
            return Err(ServiceError::NotFound("mailbox"));
        }
        tracing::info!(mailbox_id = %id, by = %actor.user.id, "mailbox deleted");
        Ok(())
    }

    /// Connects to both servers as the fetcher and the sender would — at the same time, each
    /// within a short timeout — and reports each side.
    ///
    /// # Errors
    /// `Forbidden` unless admin; `NotFound`.
    pub async fn test(self, actor: &Principal, id: Uuid) -> Result<ConnectionReport, ServiceError> {
        let mailbox = self.get(actor, id).await?;
        let secrets = self
            .service
            .store
            .mailboxes()
            .secrets(id)
            .await?
            .ok_or(ServiceError::NotFound("mailbox"))?;
        let imap = async {
            let Some(settings) = &mailbox.imap else {
                return Err("incoming mail (IMAP) is not configured".to_owned());
            };
            let Some(password) = secrets.imap_password.as_deref() else {
                return Err("no IMAP password is set".to_owned());
            };
            within(ImapSession::check(settings, password, TEST_TIMEOUT), "IMAP").await
        };
        let smtp = async {
            let Some(settings) = &mailbox.smtp else {
                return Err("outgoing mail (SMTP) is not configured".to_owned());
            };
            let client = SmtpClient::new(settings, secrets.smtp_password.as_deref(), TEST_TIMEOUT)
                .map_err(|error| error.to_string())?;
            within(client.check(), "SMTP").await
        };
        let (imap, smtp) = tokio::join!(imap, smtp);
        Ok(ConnectionReport {
            imap: Check::of(imap),
            smtp: Check::of(smtp),
        })
    }

    /// `input` on `current` checked into complete fields, the default category included.
    async fn checked(
        self,
        current: Option<&Mailbox>,
        input: &MailboxInput,
    ) -> Result<Fields, ServiceError> {
        let checked = fields(current, input);
        let mut errors = match &checked {
            Ok(_) => ValidationErrors::default(),
            Err(errors) => errors.clone(),
        };
        if let Some(Some(category)) = input.default_category_id {
            match self.service.store.categories().get(category).await? {
                Some(found) if found.active => {}
                Some(_) => errors.add("default_category_id", "is an inactive category"),
                None => errors.add("default_category_id", "is not a category"),
            }
        }
        let fields = errors.into_result(|| checked)?;
        Ok(fields?)
    }
}

/// `check`, given up after the test timeout (and a moment) whatever the client does.
async fn within(check: impl Future<Output = Result<(), String>>, side: &str) -> Result<(), String> {
    tokio::time::timeout(TEST_TIMEOUT + Duration::from_secs(1), check)
        .await
        .unwrap_or_else(|_| Err(format!("the {side} server did not answer in time")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let input = MailboxInput {
            imap: Some(Some(ImapInput {
                password: Some(Some("app password".to_owned())),
                ..ImapInput::default()
            })),
            smtp: Some(Some(SmtpInput {
                password: Some(None),
                ..SmtpInput::default()
            })),
            ..MailboxInput::default()
        };
        let shown = format!("{input:?}");
        assert!(!shown.contains("app password"), "{shown}");
        assert!(shown.contains(r#"password: "set""#), "{shown}");
        assert!(shown.contains(r#"password: "cleared""#), "{shown}");
    }
}
