//! Outgoing mail through the service's use cases, on SQLite and PostgreSQL: who is mailed
//! when an agent replies or resolves, acknowledgements, unsubscribe links, templates, and the
//! forgotten-password link.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use growdesk_domain::{
    Email, MailKind, Mailbox, Priority, Role, SmtpSettings, Ticket, TicketSource, TicketStatus,
};
use growdesk_service::accounts::NewAccount;
use growdesk_service::addresses::AddressGrouping;
use growdesk_service::auth::tokens::TokenKeys;
use growdesk_service::email::templates::Template;
use growdesk_service::email::{
    BOUNCED, EmailRules, Presence, UNSUBSCRIBED, outbound, parse_public_url,
};
use growdesk_service::messages::{MessageDraft, Upload};
use growdesk_service::rate_limit::{AttemptLimits, WidgetLimits};
use growdesk_service::system::SlaTargets;
use growdesk_service::tickets::{TicketChanges, TicketDraft};
use growdesk_service::{
    AccountRules, AttachmentRules, Principal, Service, ServiceError, ServiceParts, WebhookRules,
};
use growdesk_store::mail::{InboundKind, InboundRecord, NewOutboundMail};
use growdesk_store::mailboxes::{MailboxFields, NewMailbox};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, FileStore, PoolSettings, Stamp, Store};
use uuid::Uuid;

/// Generates `sqlite::name` and `postgres::name` tests for each scenario `name(Desk)`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                let (_db, desk) = crate::Desk::open(growdesk_store::BackendKind::Sqlite).await;
                super::$scenario(&desk).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                let (_db, desk) = crate::Desk::open(growdesk_store::BackendKind::Postgres).await;
                super::$scenario(&desk).await;
                desk.store.close().await;
            })*
        }
    };
}

on_both_backends!(
    an_agents_reply_to_a_mail_ticket_is_queued_threaded_with_its_files,
    notes_web_tickets_live_visitors_and_bounced_or_own_addresses_get_no_reply,
    an_away_visitor_and_an_unsubscribed_address_still_get_replies,
    resolving_notifies_with_a_signed_unsubscribe_link,
    acknowledgements_are_capped_per_hour,
    a_reset_link_works_once_and_ends_every_session,
    a_reset_request_answers_the_same_for_any_address,
    an_expired_reset_link_is_refused,
    templates_are_for_admins_checked_and_used,
    a_refused_message_leaves_none_of_its_files,
);

const PASSWORD: &str = "correct horse battery staple";

/// Who has a socket open, as the test says.
#[derive(Default)]
struct Sockets(Mutex<HashSet<Uuid>>);

impl Presence for Sockets {
    fn is_connected(&self, user_id: Uuid) -> bool {
        self.0.lock().unwrap().contains(&user_id)
    }
}

struct Desk {
    store: Store,
    service: Service,
    sockets: Arc<Sockets>,
    admin: Principal,
    agent: Principal,
    mailbox: Mailbox,
    files: tempfile::TempDir,
}

fn ip() -> IpAddr {
    [192, 0, 2, 1].into()
}

impl Desk {
    async fn open(kind: BackendKind) -> (TestDatabase, Self) {
        let db = TestDatabase::create(kind).await;
        let store = Store::connect(db.url(), PoolSettings::default()).expect("connect");
        store.migrate().await.expect("migrate");
        let files = tempfile::tempdir().unwrap();
        let sockets = Arc::new(Sockets::default());
        let grouping = AddressGrouping::new(64);
        let service = Service::new(ServiceParts {
            store: store.clone(),
            keys: TokenKeys::new(
                b"test-key-0123456789-abcdefghijklmnop",
                Duration::from_secs(900),
            )
            .unwrap(),
            attempt_limits: AttemptLimits::new(1000, 1000, grouping),
            account_rules: AccountRules {
                allow_registration: true,
                session_ttl: Duration::from_secs(3600),
                refresh_reuse_grace: Duration::from_secs(10),
            },
            attachments: AttachmentRules {
                files: FileStore::new(files.path()),
                max_bytes: 1 << 20,
            },
            widget_limits: WidgetLimits::new(1000, 1000, grouping),
            webhook_rules: WebhookRules::default(),
            sla: SlaTargets::parse(
                "low=24,medium=8,high=4,urgent=1",
                "low=168,medium=72,high=24,urgent=4",
            )
            .unwrap(),
            email: EmailRules {
                public_url: parse_public_url("https://help.example.com/desk").unwrap(),
                presence: sockets.clone(),
            },
        });
        let admin = signed_in(&service, "admin@example.com", "Admin Person", Role::Admin).await;
        let agent = signed_in(&service, "agent@example.com", "Agent Person", Role::Agent).await;
        let mailbox = store
            .mailboxes()
            .create(NewMailbox {
                id: Uuid::now_v7(),
                fields: MailboxFields {
                    address: Email::parse("support@example.com").unwrap(),
                    display_name: "Example Support".to_owned(),
                    imap: None,
                    smtp: Some(SmtpSettings {
                        host: "smtp.example.com".to_owned(),
                        port: 465,
                        security: growdesk_domain::TransportSecurity::Tls,
                        username: "support@example.com".to_owned(),
                    }),
                    default_category_id: None,
                    default_priority: Priority::Medium,
                    acknowledge: true,
                    active: true,
                },
                imap_password: None,
                smtp_password: Some("smtp-secret".to_owned()),
            })
            .await
            .unwrap();
        let desk = Self {
            store,
            service,
            sockets,
            admin,
            agent,
            mailbox,
            files,
        };
        (db, desk)
    }

    /// A ticket the agent opens for `requester` as if it came by `source`.
    async fn ticket(&self, requester: &str, source: TicketSource) -> Ticket {
        self.service
            .tickets()
            .create(
                &self.agent,
                TicketDraft {
                    subject: "Printer on fire".to_owned(),
                    description: "It smokes.".to_owned(),
                    source: Some(source),
                    requester_email: Some(requester.to_owned()),
                    requester_name: Some("Ana Customer".to_owned()),
                    ..TicketDraft::default()
                },
                None,
            )
            .await
            .unwrap()
    }

    async fn reply(&self, ticket: &Ticket, body: &str, internal: bool) {
        self.service
            .messages()
            .post(
                &self.agent,
                ticket.id,
                MessageDraft {
                    body: body.to_owned(),
                    internal,
                    files: Vec::new(),
                },
                None,
            )
            .await
            .unwrap();
    }

    /// Every queued mail, oldest first.
    async fn queued(&self) -> Vec<NewOutboundMail> {
        let due = Stamp::now().saturating_add(Duration::from_secs(1));
        let mails = self.store.mail().due(due, 100).await.unwrap();
        mails.into_iter().map(|mail| mail.mail).collect()
    }

    async fn queued_of(&self, kind: MailKind) -> Vec<NewOutboundMail> {
        let mut mails = self.queued().await;
        mails.retain(|mail| mail.kind == kind);
        mails
    }
}

async fn signed_in(service: &Service, email: &str, name: &str, role: Role) -> Principal {
    service
        .operator()
        .create_user(NewAccount {
            email: email.to_owned(),
            name: Some(name.to_owned()),
            role,
            password: Some(PASSWORD.to_owned()),
        })
        .await
        .unwrap();
    sign_in(service, email).await.unwrap()
}

async fn sign_in(service: &Service, email: &str) -> Result<Principal, ServiceError> {
    let signed = service.sessions().login(email, PASSWORD, ip()).await?;
    service.sessions().authenticate(&signed.access_token).await
}

async fn an_agents_reply_to_a_mail_ticket_is_queued_threaded_with_its_files(desk: &Desk) {
    let ticket = desk
        .ticket("ana@customer.example", TicketSource::Email)
        .await;
    // More mails than `References` holds (20): it names the last of them, oldest first.
    let received: Vec<String> = (0..25)
        .map(|n| format!("m{n:02}@customer.example"))
        .collect();
    for id in &received {
        desk.store
            .mail()
            .record_inbound(
                &InboundRecord {
                    mailbox_id: desk.mailbox.id,
                    message_id: id.clone(),
                    kind: InboundKind::Message,
                },
                Some(ticket.id),
            )
            .await
            .unwrap();
    }
    let message = desk
        .service
        .messages()
        .post(
            &desk.agent,
            ticket.id,
            MessageDraft {
                body: "Unplug it <now>.\n\nThen call us.".to_owned(),
                internal: false,
                files: vec![Upload {
                    filename: "steps.txt".to_owned(),
                    content_type: "text/plain".to_owned(),
                    bytes: b"1. unplug".to_vec(),
                }],
            },
            None,
        )
        .await
        .unwrap();

    let mails = desk.queued().await;
    assert_eq!(mails.len(), 1, "one mail: the reply");
    let mail = &mails[0];
    assert_eq!(mail.kind, MailKind::Reply);
    assert_eq!(mail.recipient, "ana@customer.example");
    assert_eq!(mail.mailbox_id, Some(desk.mailbox.id));
    assert_eq!(
        (mail.ticket_id, mail.message_id),
        (Some(ticket.id), Some(message.id))
    );
    assert_eq!(mail.header_message_id, format!("<{}@example.com>", mail.id));
    assert_eq!(mail.in_reply_to.as_deref(), Some("<m24@customer.example>"));
    let named: Vec<String> = received[5..].iter().map(|id| format!("<{id}>")).collect();
    assert_eq!(mail.references, named);
    assert_eq!(
        mail.reply_to,
        Some(format!("support+t{}@example.com", ticket.number))
    );
    assert_eq!(
        mail.subject,
        format!("Re: Printer on fire [#{}]", ticket.number)
    );
    assert!(mail.text_body.contains("Unplug it <now>."));
    let html = mail.html_body.as_deref().unwrap();
    assert!(html.contains("<p>Unplug it &lt;now&gt;.</p>"), "{html}");
    assert_eq!(mail.unsubscribe_url, None, "a reply is no newsletter");
    let files: Vec<Uuid> = message.attachments.iter().map(|file| file.id).collect();
    assert_eq!(mail.attachment_ids, files);
    assert_eq!(files.len(), 1);
}

async fn notes_web_tickets_live_visitors_and_bounced_or_own_addresses_get_no_reply(desk: &Desk) {
    let mailed = desk
        .ticket("ana@customer.example", TicketSource::Email)
        .await;
    desk.reply(&mailed, "Looking into it (internal).", true)
        .await;

    let web = desk.ticket("web@customer.example", TicketSource::Web).await;
    desk.reply(&web, "Answered in the portal.", false).await;

    let live = desk
        .ticket("live@customer.example", TicketSource::Widget)
        .await;
    desk.sockets.0.lock().unwrap().insert(live.requester.id);
    desk.reply(&live, "You are reading this live.", false).await;

    let bounced = desk
        .ticket("gone@customer.example", TicketSource::Email)
        .await;
    desk.store
        .mail()
        .suppress("gone@customer.example", BOUNCED)
        .await
        .unwrap();
    desk.reply(&bounced, "Nobody receives this.", false).await;

    for own in ["support@example.com", "support+t7@example.com"] {
        let ticket = desk.ticket(own, TicketSource::Email).await;
        desk.reply(&ticket, "Never to ourselves.", false).await;
    }

    assert_eq!(desk.queued().await, Vec::new());
}

async fn an_away_visitor_and_an_unsubscribed_address_still_get_replies(desk: &Desk) {
    let away = desk
        .ticket("away@customer.example", TicketSource::Widget)
        .await;
    desk.reply(&away, "Here is your answer.", false).await;

    let unsubscribed = desk
        .ticket("quiet@customer.example", TicketSource::Email)
        .await;
    desk.store
        .mail()
        .suppress("quiet@customer.example", UNSUBSCRIBED)
        .await
        .unwrap();
    desk.reply(&unsubscribed, "An answer still arrives.", false)
        .await;

    let recipients: Vec<String> = desk
        .queued_of(MailKind::Reply)
        .await
        .into_iter()
        .map(|mail| mail.recipient)
        .collect();
    assert_eq!(
        recipients,
        ["away@customer.example", "quiet@customer.example"]
    );
}

async fn set_status(desk: &Desk, ticket: &Ticket, status: TicketStatus) {
    desk.service
        .tickets()
        .update(
            &desk.agent,
            ticket.id,
            TicketChanges {
                status: Some(status),
                ..TicketChanges::default()
            },
            None,
        )
        .await
        .unwrap();
}

async fn resolving_notifies_with_a_signed_unsubscribe_link(desk: &Desk) {
    let ticket = desk
        .ticket("ana@customer.example", TicketSource::Email)
        .await;
    set_status(desk, &ticket, TicketStatus::Resolved).await;
    set_status(desk, &ticket, TicketStatus::Resolved).await;
    let notices = desk.queued_of(MailKind::Resolved).await;
    assert_eq!(
        notices.len(),
        1,
        "resolving a resolved ticket again sends nothing"
    );
    let notice = &notices[0];
    assert!(
        notice.text_body.contains("Agent Person"),
        "{}",
        notice.text_body
    );
    let link = notice
        .unsubscribe_url
        .clone()
        .expect("a notice can be unsubscribed from");
    let prefix = "https://help.example.com/desk/api/unsubscribe?token=";
    assert!(link.starts_with(prefix), "{link}");
    assert!(notice.text_body.contains(&link));

    let token = &link[prefix.len()..];
    let mut forged = token.to_owned();
    forged.insert(0, 'x');
    assert!(matches!(
        desk.service.email().unsubscribe(&forged).await,
        Err(ServiceError::InvalidLink)
    ));
    assert!(
        !desk
            .store
            .mail()
            .suppressed("ana@customer.example")
            .await
            .unwrap()
    );
    let done = desk.service.email().unsubscribe(token).await.unwrap();
    assert_eq!(done.email, "ana@customer.example");
    assert!(
        desk.store
            .mail()
            .suppressed("ana@customer.example")
            .await
            .unwrap()
    );

    let reopened = desk
        .ticket("ana@customer.example", TicketSource::Email)
        .await;
    set_status(desk, &reopened, TicketStatus::Resolved).await;
    assert_eq!(
        desk.queued_of(MailKind::Resolved).await.len(),
        1,
        "no more notices after unsubscribing"
    );
    desk.reply(&reopened, "But answers still come.", false)
        .await;
    assert_eq!(desk.queued_of(MailKind::Reply).await.len(), 1);
}

async fn acknowledgements_are_capped_per_hour(desk: &Desk) {
    let mut acknowledged = Vec::new();
    for _ in 0..5 {
        let ticket = desk
            .ticket("loop@autoresponder.example", TicketSource::Email)
            .await;
        acknowledged.push(
            outbound::acknowledge(&desk.service, &desk.mailbox, &ticket)
                .await
                .unwrap(),
        );
    }
    assert_eq!(acknowledged, [true, true, true, false, false]);
    let acks = desk.queued_of(MailKind::Acknowledgement).await;
    assert_eq!(acks.len(), 3);
    assert!(acks[0].unsubscribe_url.is_some());
    assert!(acks[0].subject.contains("[#"), "{}", acks[0].subject);

    let web = desk.ticket("web@customer.example", TicketSource::Web).await;
    assert!(
        !outbound::acknowledge(&desk.service, &desk.mailbox, &web)
            .await
            .unwrap()
    );
}

/// The token of the latest reset link mailed to `email`.
async fn reset_token(desk: &Desk, email: &str) -> String {
    let mails = desk.queued_of(MailKind::PasswordReset).await;
    let mail = mails
        .iter()
        .rev()
        .find(|mail| mail.recipient == email)
        .expect("a reset mail");
    let prefix = "https://help.example.com/desk/reset-password?token=";
    let start = mail.text_body.find(prefix).expect("the link") + prefix.len();
    mail.text_body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

async fn a_reset_link_works_once_and_ends_every_session(desk: &Desk) {
    signed_in(&desk.service, "ana@customer.example", "Ana", Role::Customer).await;
    let session = desk
        .service
        .sessions()
        .login("ana@customer.example", PASSWORD, ip())
        .await
        .unwrap();
    let accounts = desk.service.accounts();
    accounts
        .request_password_reset("Ana@Customer.example", ip())
        .await
        .unwrap();
    let first = reset_token(desk, "ana@customer.example").await;
    accounts
        .request_password_reset("ana@customer.example", ip())
        .await
        .unwrap();
    let second = reset_token(desk, "ana@customer.example").await;
    assert_ne!(first, second);

    assert!(
        matches!(
            accounts
                .reset_password(&first, "a brand new passphrase", ip())
                .await,
            Err(ServiceError::InvalidLink)
        ),
        "a newer link replaces the older one"
    );
    assert!(matches!(
        accounts.reset_password(&second, "short", ip()).await,
        Err(ServiceError::Validation(_))
    ));
    accounts
        .reset_password(&second, "a brand new passphrase", ip())
        .await
        .unwrap();
    assert!(
        matches!(
            accounts
                .reset_password(&second, "another new passphrase", ip())
                .await,
            Err(ServiceError::InvalidLink)
        ),
        "a link works once"
    );

    let sessions = desk.service.sessions();
    assert!(
        sessions.authenticate(&session.access_token).await.is_err(),
        "every access token stopped working"
    );
    assert!(
        sessions
            .refresh(&session.refresh_token, ip())
            .await
            .is_err(),
        "every session ended"
    );
    let signed = desk
        .service
        .sessions()
        .login("ana@customer.example", "a brand new passphrase", ip())
        .await;
    assert!(signed.is_ok());
}

async fn a_reset_request_answers_the_same_for_any_address(desk: &Desk) {
    let accounts = desk.service.accounts();
    accounts
        .request_password_reset("nobody@customer.example", ip())
        .await
        .unwrap();
    assert!(desk.queued().await.is_empty());
    assert!(matches!(
        accounts
            .request_password_reset("not an address", ip())
            .await,
        Err(ServiceError::Validation(_))
    ));
    assert!(matches!(
        accounts
            .reset_password("garbage", "a brand new passphrase", ip())
            .await,
        Err(ServiceError::InvalidLink)
    ));
}

async fn an_expired_reset_link_is_refused(desk: &Desk) {
    signed_in(
        &desk.service,
        "late@customer.example",
        "Late",
        Role::Customer,
    )
    .await;
    let token = growdesk_service::auth::tokens::new_refresh_token();
    let hash = growdesk_service::auth::tokens::refresh_token_hash(&token).unwrap();
    let user = desk
        .store
        .users()
        .credentials_by_email("late@customer.example")
        .await
        .unwrap()
        .unwrap()
        .user;
    let expired = Stamp::now().saturating_sub(Duration::from_secs(1));
    let mail = NewOutboundMail {
        id: Uuid::now_v7(),
        mailbox_id: Some(desk.mailbox.id),
        ticket_id: None,
        message_id: None,
        kind: MailKind::PasswordReset,
        recipient: user.email.clone(),
        subject: "Reset".to_owned(),
        text_body: "link".to_owned(),
        html_body: None,
        header_message_id: format!("<{}@example.com>", Uuid::now_v7()),
        in_reply_to: None,
        references: Vec::new(),
        reply_to: None,
        unsubscribe_url: None,
        attachment_ids: Vec::new(),
    };
    desk.store
        .password_resets()
        .create(&hash, user.id, expired, mail)
        .await
        .unwrap();
    assert!(matches!(
        desk.service
            .accounts()
            .reset_password(&token, "a brand new passphrase", ip())
            .await,
        Err(ServiceError::InvalidLink)
    ));
    assert!(
        sign_in(&desk.service, "late@customer.example")
            .await
            .is_ok()
    );
}

async fn templates_are_for_admins_checked_and_used(desk: &Desk) {
    let templates = desk.service.email_templates();
    assert!(matches!(
        templates.list(&desk.agent).await,
        Err(ServiceError::Forbidden(_))
    ));
    let all = templates.list(&desk.admin).await.unwrap();
    assert_eq!(all.len(), 8, "four kinds in two languages");
    assert!(all.iter().all(|entry| !entry.customised));

    let custom = Template {
        subject: "Answer on #{{ticket.number}}".to_owned(),
        text_body: "{{agent.name}} says: {{message.body}}".to_owned(),
        html_body: "<p>{{agent.name}}</p>{{message.body}}".to_owned(),
    };
    let Err(ServiceError::Validation(errors)) = templates
        .put(
            &desk.admin,
            MailKind::Reply,
            "en",
            Template {
                text_body: "{{reset_url}}".to_owned(),
                ..custom.clone()
            },
        )
        .await
    else {
        panic!("an unknown placeholder is refused");
    };
    assert_eq!(errors.fields()[0].field, "text_body");
    assert!(matches!(
        templates
            .put(&desk.admin, MailKind::Reply, "fr", custom.clone())
            .await,
        Err(ServiceError::NotFound(_))
    ));
    let saved = templates
        .put(&desk.admin, MailKind::Reply, "en", custom.clone())
        .await
        .unwrap();
    assert!(saved.customised && saved.updated_at.is_some());

    let ticket = desk
        .ticket("ana@customer.example", TicketSource::Email)
        .await;
    desk.reply(&ticket, "Done.", false).await;
    let mail = desk.queued_of(MailKind::Reply).await.remove(0);
    assert_eq!(mail.subject, format!("Answer on #{}", ticket.number));
    assert_eq!(mail.text_body, "Agent Person says: Done.");

    let restored = templates
        .delete(&desk.admin, MailKind::Reply, "en")
        .await
        .unwrap();
    assert!(!restored.customised);
    assert_eq!(restored.template, Template::built_in(MailKind::Reply, "en"));
}

async fn a_refused_message_leaves_none_of_its_files(desk: &Desk) {
    let ticket = desk
        .ticket("ana@customer.example", TicketSource::Email)
        .await;
    set_status(desk, &ticket, TicketStatus::Closed).await;
    let draft = |internal| MessageDraft {
        body: "The file you asked for.".to_owned(),
        internal,
        files: vec![Upload {
            filename: "asked.txt".to_owned(),
            content_type: "text/plain".to_owned(),
            bytes: b"kept only with a message".to_vec(),
        }],
    };
    let stored = || FileStore::new(desk.files.path()).stored().unwrap();
    let before = stored();

    // A closed ticket takes no reply: its file, written before the refusal, goes with it.
    let refused = desk
        .service
        .messages()
        .post(&desk.agent, ticket.id, draft(false), None)
        .await;
    assert!(
        matches!(refused, Err(ServiceError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(stored(), before, "no file of a refused message");

    // A note is taken: its file stays.
    let note = desk
        .service
        .messages()
        .post(&desk.agent, ticket.id, draft(true), None)
        .await
        .unwrap();
    let mut expected = before;
    expected.insert(note.attachments[0].sha256.clone());
    assert_eq!(stored(), expected);
}
