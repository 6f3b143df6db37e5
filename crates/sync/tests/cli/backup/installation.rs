//! An installation for the backup scenarios: a database and a data directory, seeded with
//! every kind of record a backup carries, and its content in a comparable form.

use std::path::Path;
use std::process::Output;

use growdesk_domain::event::Unrecognised;
use growdesk_domain::mail::{AfterImport, ImapSettings, MailKind, SmtpSettings, TransportSecurity};
use growdesk_domain::workspace::{Shortcut, Title, ViewFilter};
use growdesk_domain::{
    Email, Event, EventKind, MessageBody, MessageChannel, NotificationData, NotificationKind,
    Priority, Role, Subject, Tags, TicketSource, TicketStatus, WidgetSettings,
};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, FileStore, Stamp, Store,
    canned_replies::ReplyFields,
    categories::CategoryFields,
    email_templates::StoredTemplate,
    events::{NewEvent, Span},
    faqs::{FaqFields, FaqFilter},
    mail::{InboundKind, InboundRecord, NewOutboundMail},
    mailboxes::{MailboxCursor, MailboxFields, NewMailbox},
    messages::{NewAttachment, NewMessage},
    tickets::{
        Changed, MessageRecord, NewTicket, TicketChange, TicketFilter, TicketSort, TicketState,
    },
    users::{NewUser, UserChanges},
    webhooks::WebhookFields,
    widgets::{Visitor, WidgetFields},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{growdesk_sync, store_of, succeeded, text};

/// An installation: its database and its data directory (where attachments' files live).
pub(super) struct Installation {
    database: TestDatabase,
    data_dir: tempfile::TempDir,
}

impl Installation {
    pub(super) async fn new(kind: BackendKind) -> Self {
        Self {
            database: TestDatabase::create(kind).await,
            data_dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(super) fn sync(&self, args: &[&str]) -> Output {
        growdesk_sync()
            .env_clear()
            .arg("--database-url")
            .arg(self.database.url())
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    pub(super) async fn store(&self) -> Store {
        store_of(&self.database).await
    }

    pub(super) fn files(&self) -> FileStore {
        FileStore::new(self.data_dir.path().join("attachments"))
    }
}

pub(super) const ATTACHMENT: &[u8] = b"%PDF-1.4 a receipt\n";

/// A mailbox's passwords, which a backup carries as it carries webhooks' secrets.
pub(super) const MAILBOX_PASSWORDS: [&str; 2] = ["imap-password-backup", "smtp-password-backup"];

/// The mail a desk sends to `recipient` about `ticket_id` from `mailbox_id`.
fn outbound(
    kind: MailKind,
    recipient: &str,
    ticket_id: Option<Uuid>,
    mailbox_id: Uuid,
) -> NewOutboundMail {
    let id = Uuid::now_v7();
    NewOutboundMail {
        id,
        mailbox_id: Some(mailbox_id),
        ticket_id,
        message_id: None,
        kind,
        recipient: recipient.to_owned(),
        subject: format!("{} about your request", kind.as_str()),
        text_body: "Hello".to_owned(),
        html_body: Some("<p>Hello</p>".to_owned()),
        header_message_id: format!("<{id}@example.com>"),
        in_reply_to: Some("<first@client.example>".to_owned()),
        references: vec!["<first@client.example>".to_owned()],
        reply_to: None,
        unsubscribe_url: None,
        attachment_ids: Vec::new(),
    }
}

/// The email channel: a mailbox read up to a cursor, a ticket that came by mail with its
/// inbound record, an acknowledgement sent and a mail still queued, an automatic reply
/// recorded, a password reset queued (not carried), a template, a suppressed address and a
/// customer's locale.
async fn seed_mail(store: &Store, category_id: Uuid, customer_id: Uuid, new_ticket: NewTicket) {
    let mailbox = store
        .mailboxes()
        .create(NewMailbox {
            id: Uuid::now_v7(),
            fields: MailboxFields {
                address: Email::parse("support@example.com").unwrap(),
                display_name: "Example Support".into(),
                imap: Some(ImapSettings {
                    host: "imap.example.com".into(),
                    port: 993,
                    security: TransportSecurity::Tls,
                    username: "support".into(),
                    folder: "INBOX".into(),
                    after_import: AfterImport::MarkSeen,
                }),
                smtp: Some(SmtpSettings {
                    host: "smtp.example.com".into(),
                    port: 465,
                    security: TransportSecurity::Tls,
                    username: "support".into(),
                }),
                default_category_id: Some(category_id),
                default_priority: Priority::High,
                acknowledge: true,
                active: true,
            },
            imap_password: Some(MAILBOX_PASSWORDS[0].into()),
            smtp_password: Some(MAILBOX_PASSWORDS[1].into()),
        })
        .await
        .unwrap();
    let cursor = MailboxCursor {
        uid_validity: 7,
        last_uid: 42,
    };
    assert!(
        store
            .mailboxes()
            .set_cursor(mailbox.id, cursor)
            .await
            .unwrap()
    );
    let acknowledgement = outbound(
        MailKind::Acknowledgement,
        "cy@example.com",
        Some(new_ticket.id),
        mailbox.id,
    );
    let by_mail = NewTicket {
        source: TicketSource::Email,
        channel: MessageChannel::Email,
        mailbox_id: Some(mailbox.id),
        mail: vec![acknowledgement.clone()],
        inbound: Some(InboundRecord {
            mailbox_id: mailbox.id,
            message_id: "first@client.example".into(),
            kind: InboundKind::Message,
        }),
        ..new_ticket
    };
    let ticket_id = by_mail.id;
    store.tickets().create(by_mail, None).await.unwrap();
    assert!(
        store
            .mail()
            .mark_sent(acknowledgement.id, Stamp::now())
            .await
            .unwrap()
    );
    store
        .mail()
        .enqueue(vec![
            outbound(
                MailKind::Resolved,
                "cy@example.com",
                Some(ticket_id),
                mailbox.id,
            ),
            outbound(MailKind::PasswordReset, "cy@example.com", None, mailbox.id),
        ])
        .await
        .unwrap();
    let auto_reply = InboundRecord {
        mailbox_id: mailbox.id,
        message_id: "away@client.example".into(),
        kind: InboundKind::AutoReply,
    };
    assert!(
        store
            .mail()
            .record_inbound(&auto_reply, Some(ticket_id))
            .await
            .unwrap()
    );
    store
        .email_templates()
        .put(StoredTemplate {
            kind: MailKind::Reply,
            locale: "fr".into(),
            subject: "Re: {{ticket.subject}}".into(),
            text_body: "Bonjour {{requester.name}}".into(),
            html_body: "<p>Bonjour {{requester.name}}</p>".into(),
            updated_at: Stamp::now(),
        })
        .await
        .unwrap();
    store
        .mail()
        .suppress("gone@example.com", "bounced")
        .await
        .unwrap();
    assert!(
        store
            .users()
            .set_locale(customer_id, Some("fr"))
            .await
            .unwrap()
    );
}

/// An installation using every kind of record a backup must carry.
/// A notification's details naming only the ticket's subject.
fn about(subject: &str) -> NotificationData {
    NotificationData {
        number: None,
        subject: subject.to_owned(),
        by: None,
        message_id: None,
        breach: None,
        priority: None,
    }
}

async fn seed(installation: &Installation) {
    let store = installation.store().await;
    let user = |email: &str, role| NewUser {
        email: email.into(),
        name: format!("Name {email}"),
        role,
        password_hash: Some(format!("$argon2id$hash-of-{email}")),
    };
    let agent = store
        .users()
        .create(user("agent@example.com", Role::Agent))
        .await
        .unwrap();
    let customer = store
        .users()
        .create(user("cy@example.com", Role::Customer))
        .await
        .unwrap();
    store
        .users()
        .update(
            agent.id,
            UserChanges {
                name: Some("Agent Renamed".into()),
                notify_new_tickets: Some(true),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    let visitor_account = store
        .users()
        .create(user("visitor@example.com", Role::Customer))
        .await
        .unwrap();
    let category = store
        .categories()
        .create(CategoryFields {
            name: "Billing".into(),
            description: "Money".into(),
            color: "#ff0000".into(),
            active: true,
            position: 1,
        })
        .await
        .unwrap();
    store
        .faqs()
        .create(FaqFields {
            question: "Refunds?".into(),
            answer: "Within 30 days.".into(),
            category_id: Some(category.id),
            published: true,
            position: 0,
        })
        .await
        .unwrap();
    let widget = store
        .widgets()
        .create(
            "wk_backup_key",
            &WidgetFields {
                name: "Shop".into(),
                allowed_origins: vec!["https://shop.example.com".into()],
                settings: WidgetSettings::default(),
                identity_secret: Some("identity-secret".into()),
                enforce_identity: true,
                active: true,
                default_category_id: Some(category.id),
                default_priority: Priority::High,
            },
        )
        .await
        .unwrap();
    store
        .webhooks()
        .create(
            "whsec_backup",
            &WebhookFields {
                url: "https://hooks.example.com/growdesk".into(),
                event_types: vec!["created".into(), "status_changed".into()],
                active: true,
            },
        )
        .await
        .unwrap();
    let visitor = Visitor {
        id: Uuid::now_v7(),
        widget_id: widget.id,
        user_id: visitor_account.id,
    };
    let ticket = |subject: &str, requester: Uuid, visitor_id: Option<Uuid>| NewTicket {
        id: Uuid::now_v7(),
        subject: Subject::parse(subject).unwrap(),
        priority: Priority::Low,
        category_id: Some(category.id),
        requester_id: requester,
        source: TicketSource::Widget,
        tags: Tags::parse(&["vip".to_owned()]).unwrap(),
        actor_id: requester,
        description: MessageBody::parse(&format!("about {subject}")).unwrap(),
        extra_events: Vec::new(),
        visitor_id,
        context: None,
        channel: MessageChannel::Widget,
        mailbox_id: None,
        attachments: Vec::new(),
        notes: Vec::new(),
        mail: Vec::new(),
        inbound: None,
    };
    let through_widget = ticket("From the shop", visitor_account.id, Some(visitor.id));
    store
        .tickets()
        .create_with_visitor(through_widget, Some(&visitor), None)
        .await
        .unwrap();
    seed_mail(
        &store,
        category.id,
        customer.id,
        ticket("Mailed in", customer.id, None),
    )
    .await;
    let with_file = ticket("Charged twice", customer.id, None);
    let ticket_id = with_file.id;
    store.tickets().create(with_file, None).await.unwrap();
    let sha256 = installation.files().put(ATTACHMENT).unwrap();
    let changed: Changed<()> = store
        .tickets()
        .change(ticket_id, None, |ticket| {
            let mut state = TicketState::of(ticket);
            state.status = TicketStatus::Pending;
            Ok(TicketChange {
                state,
                events: vec![
                    // Data no variant describes (as an older release's): restored as it was.
                    NewEvent::public(
                        ticket_id,
                        Some(agent.id),
                        Event::Unrecognised(Unrecognised {
                            kind: EventKind::StatusChanged,
                            data: json!({"to": "pending"}),
                        }),
                    ),
                    NewEvent::notification(
                        customer.id,
                        ticket_id,
                        Some(agent.id),
                        NotificationKind::CustomerReplied,
                        about("Charged twice"),
                    ),
                    NewEvent::notification(
                        agent.id,
                        ticket_id,
                        None,
                        NotificationKind::Assigned,
                        about("Charged twice"),
                    ),
                ],
                message: Some(MessageRecord {
                    message: NewMessage {
                        id: Uuid::now_v7(),
                        ticket_id,
                        author_id: agent.id,
                        body: "Your receipt, and an internal note".into(),
                        internal: true,
                        channel: MessageChannel::Web,
                    },
                    attachments: vec![NewAttachment {
                        id: Uuid::now_v7(),
                        filename: "receipt.pdf".into(),
                        content_type: "application/pdf".into(),
                        size: i64::try_from(ATTACHMENT.len()).unwrap(),
                        sha256,
                    }],
                }),
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            })
        })
        .await
        .unwrap();
    assert!(matches!(changed, Changed::Applied { .. }));
    let read = store
        .notifications()
        .list(agent.id, false, None, 10)
        .await
        .unwrap();
    assert!(
        store
            .notifications()
            .mark_read(agent.id, read[0].id)
            .await
            .unwrap()
    );
    for owner in [Some(agent.id), None] {
        let filter = ViewFilter {
            status: vec![TicketStatus::Open],
            priority: Some(Priority::High),
            ..ViewFilter::default()
        };
        let name = Title::parse(if owner.is_some() { "Mine" } else { "High" }).unwrap();
        store.views().create(owner, &name, &filter).await.unwrap();
        let fields = ReplyFields {
            title: name,
            body: MessageBody::parse("Hello {{requester.name}}").unwrap(),
            shortcut: owner.map(|_| Shortcut::parse("hi").unwrap()),
        };
        store.canned_replies().create(owner, &fields).await.unwrap();
    }
    store
        .tickets()
        .mark_read(ticket_id, agent.id)
        .await
        .unwrap();
    store.close().await;
}

/// Everything a backup restores, as the store reads it back, attachments' bytes included.
pub(super) async fn content(installation: &Installation) -> Value {
    let store = installation.store().await;
    let users: Vec<Value> = store
        .users()
        .export(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| json!([c.user, c.password_hash]))
        .collect();
    let faqs = store
        .faqs()
        .list(&FaqFilter::default(), None, 100)
        .await
        .unwrap();
    let filter = TicketFilter {
        search_internal: true,
        ..TicketFilter::default()
    };
    let tickets = store
        .tickets()
        .list(&filter, TicketSort::Number, false, None, 100)
        .await
        .unwrap();
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let user_ids: Vec<Uuid> = store
        .users()
        .export(None, 1000)
        .await
        .unwrap()
        .iter()
        .map(|c| c.user.id)
        .collect();
    let mut locales: Vec<(Uuid, String)> = store
        .backup()
        .user_locales(&user_ids)
        .await
        .unwrap()
        .into_iter()
        .collect();
    locales.sort();
    let backup = store.backup();
    let debug = |records: Vec<String>| json!(records);
    let mail = json!({
        "mailboxes": debug(store.mailboxes().export().await.unwrap().into_iter()
            .map(|m| format!("{:?} {:?} {:?}", (m.id, &m.fields, m.cursor, m.created_at, m.updated_at),
                m.secrets.imap_password, m.secrets.smtp_password)).collect()),
        "inbound": debug(backup.export_inbound_mails(None, 100).await.unwrap().iter().map(|m| format!("{m:?}")).collect()),
        "outbound": debug(backup.export_outbound_mails(None, 100).await.unwrap().iter().map(|m| format!("{m:?}")).collect()),
        "templates": debug(store.email_templates().list().await.unwrap().iter().map(|t| format!("{t:?}")).collect()),
        "suppressions": debug(backup.export_suppressions(None, 100).await.unwrap().iter().map(|s| format!("{s:?}")).collect()),
        "locales": locales,
    });
    let files = installation.files();
    let messages: Vec<Value> = store
        .messages()
        .of_tickets(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let stored: Vec<Value> = m
                .attachments
                .iter()
                .map(|a| {
                    let bytes = files.locate(&a.sha256).map(|p| std::fs::read(p).unwrap());
                    json!([a.sha256, a.message_id, bytes])
                })
                .collect();
            json!([m, stored])
        })
        .collect();
    let tickets: Vec<Value> = tickets
        .into_iter()
        .map(|t| json!([t, t.visitor_id, t.mailbox_id]))
        .collect();
    let value = json!({
        "users": users,
        "categories": store.categories().list(false).await.unwrap(),
        "faqs": faqs,
        "widgets": store.widgets().list().await.unwrap(),
        "visitors": store.backup().export_visitors(None, 100).await.unwrap().into_iter()
            .map(|v| json!([v.id, v.widget_id, v.user_id, v.created_at.into_inner()])).collect::<Vec<_>>(),
        "webhooks": store.webhooks().list().await.unwrap(),
        "events": store.events().after(Span { after: 0, upto: i64::MAX }, 1000).await.unwrap().into_iter().map(|e| e.event).collect::<Vec<_>>(),
        "notifications": store.backup().export_notifications(None, 1000).await.unwrap().into_iter()
            .map(|n| json!([n.id, n.user_id, n.kind, n.ticket_id, n.data, n.read_at.map(|at| at.into_inner()), n.created_at.into_inner()]))
            .collect::<Vec<_>>(),
        "tickets": tickets,
        "messages": messages,
        "views": store.views().export(None, 100).await.unwrap(),
        "canned_replies": store.canned_replies().export(None, 100).await.unwrap(),
        "read_marks": store.tickets().export_read_marks(None, 100).await.unwrap().into_iter()
            .map(|m| json!([m.user_id, m.ticket_id, m.last_event_id])).collect::<Vec<_>>(),
        "mail": mail,
    });
    store.close().await;
    value
}

/// The paths at which two JSON values differ, for a readable failure.
fn differences(left: &Value, right: &Value, path: &str, found: &mut Vec<String>) {
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for key in l.keys().chain(r.keys().filter(|key| !l.contains_key(*key))) {
                let (a, b) = (
                    l.get(key).unwrap_or(&Value::Null),
                    r.get(key).unwrap_or(&Value::Null),
                );
                differences(a, b, &format!("{path}.{key}"), found);
            }
        }
        (Value::Array(l), Value::Array(r)) if l.len() == r.len() => {
            for (index, (a, b)) in l.iter().zip(r).enumerate() {
                differences(a, b, &format!("{path}[{index}]"), found);
            }
        }
        _ if left != right => found.push(format!("{path}: {left} ≠ {right}")),
        _ => {}
    }
}

pub(super) fn assert_same(restored: &Value, original: &Value, context: &str) {
    let mut found = Vec::new();
    differences(restored, original, "", &mut found);
    assert!(found.is_empty(), "{context}:\n{}", found.join("\n"));
}

/// Exports `from` into `dir` and imports that into `to`.
pub(super) fn carry(from: &Installation, to: &Installation, dir: &Path) {
    succeeded(&from.sync(&["export", text(dir)]));
    succeeded(&to.sync(&["import", "json", text(dir)]));
}

pub(super) async fn seeded_sqlite() -> Installation {
    let original = Installation::new(BackendKind::Sqlite).await;
    seed(&original).await;
    original
}

/// What an import of `dir` with `flags` reports it did (or, dry, would do) with the records,
/// by outcome.
pub(super) fn outcome_counts(
    installation: &Installation,
    dir: &Path,
    name: &str,
    flags: &[&str],
) -> Value {
    let report = dir.join(name);
    let mut args = vec!["import", "json", text(dir), "--report", text(&report)];
    args.extend_from_slice(flags);
    let output = installation.sync(&args);
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    json!({
        "created": report["created"],
        "updated": report["updated"],
        "unchanged": report["unchanged"],
        "refused": report["refused"],
    })
}
