//! The email channel through the API: mailboxes and their connection test against real mail
//! servers, templates, "forgot password", unsubscribe links, and each message's channel and
//! delivery.

mod connection;
mod mailboxes;
mod messages;
mod password_reset;
mod templates;
mod unsubscribe;

use std::path::Path;

use growdesk_service::Service;
use growdesk_store::Stamp;
use growdesk_store::mail::OutboundMail;
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_settings};

/// Passwords of mailboxes in these tests: none may appear in an answer or a log.
pub(crate) const IMAP_PASSWORD: &str = "mailbox-imap-password-1";
pub(crate) const SMTP_PASSWORD: &str = "mailbox-smtp-password-1";

/// A mailbox's fields, with both sides and their passwords; the servers need not exist.
pub(crate) fn mailbox_body(address: &str) -> Value {
    json!({
        "address": address,
        "display_name": "Example Support",
        "imap": {"host": "127.0.0.1", "port": 1143, "security": "none", "username": address, "password": IMAP_PASSWORD},
        "smtp": {"host": "127.0.0.1", "port": 1587, "security": "none", "username": address, "password": SMTP_PASSWORD},
        "acknowledge": true,
    })
}

/// Creates a mailbox as `admin` and returns it.
pub(crate) async fn mailbox(app: &TestApp, admin: &str, address: &str) -> Value {
    app.post("/api/mailboxes", Some(admin), mailbox_body(address))
        .await
        .expect(201)
        .body
}

/// The service over `app`'s database, as `growdesk-sync run` builds it, for what arrives by
/// mail rather than through the API; its data directory lives as long as it is kept.
pub(crate) struct MailSide {
    pub(crate) service: Service,
    _data: Option<tempfile::TempDir>,
}

pub(crate) async fn mail_side(app: &TestApp) -> MailSide {
    let data = tempfile::tempdir().unwrap();
    let mut side = mail_side_in(app, data.path()).await;
    side._data = Some(data);
    side
}

/// As `mail_side`, keeping what arrives (each mail's original, its attachments) in
/// `data_dir`: the server's own, for a test that needs those files where the server has them.
pub(crate) async fn mail_side_in(app: &TestApp, data_dir: &Path) -> MailSide {
    let settings = test_settings(app.database_url(), data_dir.to_owned());
    let (service, _) = growdesk_app::build_service(&settings).await.unwrap();
    MailSide {
        service,
        _data: None,
    }
}

impl MailSide {
    /// Receives `raw` into the mailbox `mailbox_id`, as the fetcher would.
    pub(crate) async fn receive(&self, mailbox_id: &Value, raw: String) {
        let id = mailbox_id.as_str().unwrap().parse().unwrap();
        self.service
            .email()
            .receive(id, raw.into_bytes())
            .await
            .unwrap();
    }

    /// The mail waiting in the outbox, oldest first.
    pub(crate) async fn outbox(&self) -> Vec<OutboundMail> {
        self.service
            .store()
            .mail()
            .due(Stamp::now(), 1000)
            .await
            .unwrap()
    }
}

/// A plain mail from `from` to `to`.
pub(crate) fn plain_mail(from: &str, to: &str, subject: &str, body: &str) -> String {
    let id = uuid::Uuid::now_v7().simple();
    format!(
        "From: Cy Customer <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@client.example>\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

/// Asserts that no text of `answer` holds any of the mailbox passwords.
#[track_caller]
pub(crate) fn holds_no_password(answer: &Value) {
    let text = answer.to_string();
    for password in [IMAP_PASSWORD, SMTP_PASSWORD] {
        assert!(!text.contains(password), "a password is answered: {text}");
    }
}
