//! Receiving mail through the service on both backends: threading, the staff rule, duplicates,
//! automatic mail and the limits of a message; and the mailboxes it arrives in.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use growdesk_domain::{
    MailDeliveryStatus, MailKind, Message, MessageChannel, Role, TicketSource, TicketStatus,
    TransportSecurity, User,
};
use growdesk_mail::inbound::MailClass;
use growdesk_service::accounts::NewAccount;
use growdesk_service::addresses::AddressGrouping;
use growdesk_service::auth::tokens::TokenKeys;
use growdesk_service::email::{EmailRules, NoSockets, Received};
use growdesk_service::mailboxes::{Check, ImapInput, MailboxInput, SmtpInput};
use growdesk_service::rate_limit::{AttemptLimits, WidgetLimits};
use growdesk_service::system::SlaTargets;
use growdesk_service::tickets::TicketChanges;
use growdesk_service::{
    AccountRules, AttachmentRules, Principal, Service, ServiceError, ServiceParts, WebhookRules,
};
use growdesk_store::mail::NewOutboundMail;
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, FileStore, PoolSettings, Stamp, Store};
use uuid::Uuid;

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(growdesk_store::BackendKind::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(growdesk_store::BackendKind::Postgres).await;
            })*
        }
    };
}

on_both_backends!(
    a_mail_opens_a_ticket_once_and_its_replies_join_it,
    strangers_open_their_own_ticket,
    a_staff_address_posts_as_staff_only_answering_our_mail_to_it,
    racing_fetchers_take_a_mail_in_once,
    automatic_mail_is_noted_and_never_reopens,
    a_permanent_bounce_marks_the_mail_and_stops_mail_to_the_address,
    our_own_addresses_garbage_and_deactivated_senders_are_ignored,
    attachments_beyond_the_limit_are_named_not_kept,
    files_of_dropped_mail_are_removed,
    mailboxes_are_for_admins_checked_and_tested,
    only_a_persons_new_mail_is_acknowledged_and_a_staff_reply_is_mailed,
    a_reply_wakes_a_resolved_ticket_and_a_closed_one_opens_another,
    every_corpus_mail_is_taken_in_and_no_automatic_one_answered,
);

/// Most bytes of attachments on one message, small enough to cross in a test.
const MAX_BYTES: usize = 4_000;

struct Desk {
    _db: TestDatabase,
    files: tempfile::TempDir,
    store: Store,
    service: Service,
    mailbox: Uuid,
}

async fn desk(kind: BackendKind) -> Desk {
    let db = TestDatabase::create(kind).await;
    let store = Store::connect(db.url(), PoolSettings::default()).expect("connect");
    store.migrate().await.expect("migrate");
    let files = tempfile::tempdir().expect("temporary directory");
    let addresses = AddressGrouping::new(64);
    let service = Service::new(ServiceParts {
        store: store.clone(),
        keys: TokenKeys::new(&rand::random::<[u8; 32]>(), Duration::from_secs(900)).expect("keys"),
        attempt_limits: AttemptLimits::new(1_000, 1_000, addresses),
        account_rules: AccountRules {
            allow_registration: true,
            session_ttl: Duration::from_secs(3_600),
            refresh_reuse_grace: Duration::from_secs(10),
        },
        attachments: AttachmentRules {
            files: FileStore::new(files.path()),
            max_bytes: MAX_BYTES,
        },
        widget_limits: WidgetLimits::new(1_000, 1_000, addresses),
        webhook_rules: WebhookRules::default(),
        sla: SlaTargets::parse(
            "low=24,medium=8,high=4,urgent=1",
            "low=168,medium=72,high=24,urgent=4",
        )
        .expect("targets"),
        email: EmailRules {
            public_url: url::Url::parse("http://localhost:8080").expect("url"),
            presence: Arc::new(NoSockets),
        },
    });
    let admin = principal(&user(&service, "admin@example.com", Role::Admin).await);
    let mailbox = service
        .mailboxes()
        .create(
            &admin,
            MailboxInput {
                address: Some("support@example.com".to_owned()),
                display_name: Some("Example Support".to_owned()),
                acknowledge: Some(false),
                ..MailboxInput::default()
            },
        )
        .await
        .expect("mailbox");
    Desk {
        _db: db,
        files,
        store,
        service,
        mailbox: mailbox.id,
    }
}

async fn user(service: &Service, email: &str, role: Role) -> User {
    service
        .operator()
        .create_user(NewAccount {
            email: email.to_owned(),
            name: Some(format!("Name of {email}")),
            role,
            password: None,
        })
        .await
        .expect("user")
}

fn principal(user: &User) -> Principal {
    Principal {
        user: user.clone(),
        session_id: Uuid::now_v7(),
        access_expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    }
}

/// A plain text mail; `headers` are added as they are.
fn mail(from: &str, subject: &str, headers: &str, text: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Support <support@example.com>\r\nSubject: {subject}\r\n\
         Message-ID: <{}@client.example.org>\r\nDate: Wed, 2 Dec 2026 12:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{headers}\r\n{text}\r\n",
        Uuid::now_v7()
    )
    .into_bytes()
}

impl Desk {
    async fn receive(&self, raw: Vec<u8>) -> Received {
        self.service
            .email()
            .receive(self.mailbox, raw)
            .await
            .expect("receive")
    }

    async fn messages(&self, ticket_id: Uuid) -> Vec<Message> {
        self.store
            .messages()
            .list(ticket_id, true, None, 100)
            .await
            .expect("messages")
    }

    /// A mail we sent about `ticket_id` to `recipient`: its Message-ID.
    async fn sent(&self, ticket_id: Uuid, recipient: &str) -> String {
        let id = Uuid::now_v7();
        let header = format!("<{id}@example.com>");
        self.store
            .mail()
            .enqueue(vec![NewOutboundMail {
                id,
                mailbox_id: Some(self.mailbox),
                ticket_id: Some(ticket_id),
                message_id: None,
                kind: MailKind::Reply,
                recipient: recipient.to_owned(),
                subject: "Re: Printer on fire".to_owned(),
                text_body: "We are on it.".to_owned(),
                html_body: None,
                header_message_id: header.clone(),
                in_reply_to: None,
                references: Vec::new(),
                reply_to: None,
                unsubscribe_url: None,
                attachment_ids: Vec::new(),
            }])
            .await
            .expect("enqueue");
        self.store
            .mail()
            .mark_sent(id, Stamp::now())
            .await
            .expect("sent");
        header
    }

    /// The kind and recipient of every mail queued about a ticket, by kind.
    async fn mails(&self, ticket_id: Uuid) -> Vec<(MailKind, String)> {
        let mut mails: Vec<(MailKind, String)> = self
            .store
            .mail()
            .of_ticket(ticket_id)
            .await
            .expect("mails")
            .into_iter()
            .map(|delivery| (delivery.kind, delivery.recipient))
            .collect();
        mails.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
        mails
    }

    async fn opened(&self, raw: Vec<u8>) -> Uuid {
        match self.receive(raw).await {
            Received::Opened { ticket_id } => ticket_id,
            other => panic!("expected a new ticket, got {other:?}"),
        }
    }
}

async fn a_mail_opens_a_ticket_once_and_its_replies_join_it(kind: BackendKind) {
    let desk = desk(kind).await;
    let first = mail(
        "Ana Pérez <Ana@Example.org>",
        "Printer on fire",
        "Content-Language: es-ES\r\n",
        "It smokes.",
    );
    let ticket_id = desk.opened(first.clone()).await;
    assert_eq!(desk.receive(first.clone()).await, Received::Duplicate);

    let ticket = desk.store.tickets().get(ticket_id).await.unwrap().unwrap();
    assert_eq!(ticket.source, TicketSource::Email);
    assert_eq!(ticket.subject, "Printer on fire");
    assert_eq!(ticket.requester.email, "ana@example.org");
    assert_eq!(ticket.requester.name, "Ana Pérez");
    let locale = desk
        .store
        .users()
        .locale(ticket.requester.id)
        .await
        .unwrap();
    assert_eq!(
        locale.as_deref(),
        Some("es"),
        "mail to them is in their language"
    );
    let messages = desk.messages(ticket_id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "It smokes.");
    assert_eq!(messages[0].channel, MessageChannel::Email);
    assert!(!messages[0].internal);
    let files: Vec<&str> = messages[0]
        .attachments
        .iter()
        .map(|file| file.filename.as_str())
        .collect();
    assert_eq!(files, ["original.eml"]);

    // By the subject's reference, from the requester, while the ticket waits on them.
    let reply = mail(
        "ana@example.org",
        &format!("Re: Printer on fire [#{}]", ticket.number),
        "",
        "Still smoking.",
    );
    let Received::Joined {
        ticket_id: joined,
        message_id,
    } = desk.receive(reply).await
    else {
        panic!("the reply should join its ticket");
    };
    assert_eq!(joined, ticket_id);
    let messages = desk.messages(ticket_id).await;
    let reply = messages.iter().find(|m| m.id == message_id).unwrap();
    assert_eq!(reply.body, "Still smoking.");
    assert_eq!(reply.author.id, ticket.requester.id);

    // By our Message-ID in In-Reply-To, with no reference in the subject.
    let ours = desk.sent(ticket_id, "ana@example.org").await;
    let answer = mail(
        "ana@example.org",
        "Re: your answer",
        &format!("In-Reply-To: {ours}\r\nReferences: {ours}\r\n"),
        "Thanks!",
    );
    assert!(matches!(
        desk.receive(answer).await,
        Received::Joined { ticket_id: id, .. } if id == ticket_id
    ));

    // By the plus address our replies carry.
    let plus = format!(
        "From: ana@example.org\r\nTo: support+t{}@example.com\r\nSubject: more\r\n\
         Message-ID: <plus-{}@client.example.org>\r\n\r\nOne more thing.\r\n",
        ticket.number,
        Uuid::now_v7()
    );
    assert!(matches!(
        desk.receive(plus.into_bytes()).await,
        Received::Joined { ticket_id: id, .. } if id == ticket_id
    ));
    // A follow-up to their own first mail (copied to a colleague, say) joins it too.
    let follow_up = mail(
        "ana@example.org",
        "Printer on fire",
        &format!("In-Reply-To: {}\r\n", message_id_of(&first)),
        "Forgot to say: it is the one on floor 2.",
    );
    assert!(matches!(
        desk.receive(follow_up).await,
        Received::Joined { ticket_id: id, .. } if id == ticket_id
    ));
    assert_eq!(desk.messages(ticket_id).await.len(), 5);
}

/// The `Message-ID` header of a mail made by `mail`, with its `<>`.
fn message_id_of(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let start = text.find("Message-ID: ").expect("a Message-ID") + "Message-ID: ".len();
    let end = start + text[start..].find('>').expect("a closing >") + 1;
    text[start..end].to_owned()
}

async fn strangers_open_their_own_ticket(kind: BackendKind) {
    let desk = desk(kind).await;
    let ticket_id = desk
        .opened(mail("ana@example.org", "Printer on fire", "", "It smokes."))
        .await;
    let number = desk
        .store
        .tickets()
        .get(ticket_id)
        .await
        .unwrap()
        .unwrap()
        .number;
    for (from, raw) in [
        (
            "eve@example.net",
            mail(
                "eve@example.net",
                &format!("Re: [#{number}]"),
                "",
                "Injected.",
            ),
        ),
        (
            "eve@example.net",
            format!(
                "From: eve@example.net\r\nTo: support+t{number}@example.com\r\nSubject: x\r\n\
                 Message-ID: <eve-{}@example.net>\r\n\r\nInjected.\r\n",
                Uuid::now_v7()
            )
            .into_bytes(),
        ),
    ] {
        let other = desk.opened(raw).await;
        assert_ne!(other, ticket_id);
        let ticket = desk.store.tickets().get(other).await.unwrap().unwrap();
        assert_eq!(ticket.requester.email, from);
    }
    assert_eq!(desk.messages(ticket_id).await.len(), 1);
}

async fn a_staff_address_posts_as_staff_only_answering_our_mail_to_it(kind: BackendKind) {
    let desk = desk(kind).await;
    let agent = user(&desk.service, "agent@example.com", Role::Agent).await;
    let ticket_id = desk
        .opened(mail("ana@example.org", "Printer on fire", "", "It smokes."))
        .await;
    let number = desk
        .store
        .tickets()
        .get(ticket_id)
        .await
        .unwrap()
        .unwrap()
        .number;

    // The customer forges the agent's From on a reply to our mail to the customer.
    let to_customer = desk.sent(ticket_id, "ana@example.org").await;
    let forged = mail(
        "agent@example.com",
        "Re: Printer on fire",
        &format!("In-Reply-To: {to_customer}\r\n"),
        "Refund approved.",
    );
    let Received::Joined { message_id, .. } = desk.receive(forged).await else {
        panic!("a forged staff mail on a thread is noted on its ticket");
    };
    let messages = desk.messages(ticket_id).await;
    let note = messages.iter().find(|m| m.id == message_id).unwrap();
    assert!(note.internal);
    assert_ne!(note.author.id, agent.id);
    assert!(note.body.contains("could not be verified"), "{}", note.body);
    assert!(note.body.contains("Refund approved."));

    // A reference in the subject never verifies anyone: a ticket of its own, nothing public
    // in the agent's name.
    let guessed = mail(
        "agent@example.com",
        &format!("Re: [#{number}]"),
        "",
        "Refund approved.",
    );
    let other = desk.opened(guessed).await;
    let opened = desk.messages(other).await;
    assert!(
        opened
            .iter()
            .filter(|m| !m.internal)
            .all(|m| !m.body.contains("Refund approved.")),
        "{opened:?}"
    );
    assert!(
        opened
            .iter()
            .any(|m| m.internal && m.body.contains("Refund approved."))
    );
    assert_eq!(
        desk.store
            .tickets()
            .get(ticket_id)
            .await
            .unwrap()
            .unwrap()
            .first_response_at,
        None
    );

    // Answering our mail to the agent's own address about this ticket: the agent's reply.
    let to_agent = desk.sent(ticket_id, "agent@example.com").await;
    let verified = mail(
        "Agent <agent@example.com>",
        "Re: Printer on fire",
        &format!("In-Reply-To: {to_agent}\r\n"),
        "We replaced the printer.",
    );
    let Received::Joined { message_id, .. } = desk.receive(verified).await else {
        panic!("a verified staff reply joins its ticket");
    };
    let messages = desk.messages(ticket_id).await;
    let reply = messages.iter().find(|m| m.id == message_id).unwrap();
    assert!(!reply.internal);
    assert_eq!(reply.author.id, agent.id);
    assert_eq!(reply.body, "We replaced the printer.");
    // The agent's raw mail (their thread, signature, servers) stays with staff.
    assert!(reply.attachments.is_empty(), "{:?}", reply.attachments);
    let audit = messages.last().unwrap();
    assert!(audit.internal);
    assert_eq!(audit.attachments.len(), 1);
    assert_eq!(audit.attachments[0].filename, "original.eml");
    let ticket = desk.store.tickets().get(ticket_id).await.unwrap().unwrap();
    assert!(ticket.first_response_at.is_some());
}

async fn racing_fetchers_take_a_mail_in_once(kind: BackendKind) {
    let desk = desk(kind).await;
    let raw = mail("ana@example.org", "Printer on fire", "", "It smokes.");
    let receiving = || desk.service.email().receive(desk.mailbox, raw.clone());
    let (first, second) = tokio::join!(receiving(), receiving());
    // One takes the mail in. The other finds it taken, or (on SQLite, when both create the new
    // sender at once) fails without writing anything, as the fetcher retries it: then it finds
    // the mail taken.
    let mut outcomes = Vec::new();
    for outcome in [first, second] {
        outcomes.push(match outcome {
            Ok(received) => received,
            Err(ServiceError::Conflict(_)) => receiving().await.expect("receive again"),
            Err(other) => panic!("{other:?}"),
        });
    }
    outcomes.sort_by_key(|outcome| matches!(outcome, Received::Duplicate));
    assert!(
        matches!(outcomes[0], Received::Opened { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], Received::Duplicate);
    let customer = desk
        .store
        .users()
        .credentials_by_email("ana@example.org")
        .await
        .unwrap()
        .unwrap()
        .user;
    let mine = desk
        .store
        .tickets()
        .list(
            &growdesk_store::tickets::TicketFilter {
                requester_id: Some(customer.id),
                ..Default::default()
            },
            growdesk_store::tickets::TicketSort::CreatedAt,
            true,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
}

async fn automatic_mail_is_noted_and_never_reopens(kind: BackendKind) {
    let desk = desk(kind).await;
    let ticket_id = desk
        .opened(mail("ana@example.org", "Printer on fire", "", "It smokes."))
        .await;
    let ticket = desk.store.tickets().get(ticket_id).await.unwrap().unwrap();
    let ours = desk.sent(ticket_id, "ana@example.org").await;
    let vacation = mail(
        "ana@example.org",
        "Out of office",
        &format!("Auto-Submitted: auto-replied\r\nIn-Reply-To: {ours}\r\n"),
        "I am away until Monday.",
    );
    assert_eq!(
        desk.receive(vacation).await,
        Received::AutoReply {
            ticket_id: Some(ticket_id)
        }
    );
    let after = desk.store.tickets().get(ticket_id).await.unwrap().unwrap();
    assert_eq!(after.status, ticket.status);
    let messages = desk.messages(ticket_id).await;
    let note = messages.last().unwrap();
    assert!(note.internal);
    assert!(note.body.contains("I am away until Monday."));

    let unthreaded = mail(
        "bot@example.net",
        "Auto: thanks",
        "Auto-Submitted: auto-replied\r\n",
        "Thanks for your mail.",
    );
    assert_eq!(
        desk.receive(unthreaded).await,
        Received::AutoReply { ticket_id: None }
    );
    let deliveries = desk.store.mail().of_ticket(ticket_id).await.unwrap();
    assert_eq!(
        deliveries.len(),
        1,
        "nothing but our own mail: {deliveries:?}"
    );
    assert_eq!(after.status, TicketStatus::Open);
}

async fn a_permanent_bounce_marks_the_mail_and_stops_mail_to_the_address(kind: BackendKind) {
    let desk = desk(kind).await;
    let ticket_id = desk
        .opened(mail("ana@example.org", "Printer on fire", "", "It smokes."))
        .await;
    let ours = desk.sent(ticket_id, "ana@example.org").await;
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n\
         To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce-{id}@mx.example.org>\r\nAuto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.example.org\r\n\r\n\
         Final-Recipient: rfc822; ana@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 No such user\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         From: support@example.com\r\nTo: ana@example.org\r\nMessage-ID: {ours}\r\n\
         Subject: Re: Printer on fire\r\n\r\n--b--\r\n",
        id = Uuid::now_v7()
    );
    let Received::Bounce { mail_id: Some(_) } = desk.receive(bounce.into_bytes()).await else {
        panic!("the bounce names our mail");
    };
    let deliveries = desk.store.mail().of_ticket(ticket_id).await.unwrap();
    assert_eq!(deliveries[0].status, MailDeliveryStatus::Bounced);
    assert!(
        desk.store
            .mail()
            .suppressed("ana@example.org")
            .await
            .unwrap()
    );
    let note = desk.messages(ticket_id).await.pop().unwrap();
    assert!(note.internal && note.body.contains("could not be delivered"));

    // Writing in again proves the address works: mail to it may resume.
    desk.receive(mail("ana@example.org", "New address works", "", "Hi."))
        .await;
    assert!(
        !desk
            .store
            .mail()
            .suppressed("ana@example.org")
            .await
            .unwrap()
    );
}

async fn our_own_addresses_garbage_and_deactivated_senders_are_ignored(kind: BackendKind) {
    let desk = desk(kind).await;
    let tagged = mail("support+t1@example.com", "Loop", "", "Echo.");
    assert!(matches!(desk.receive(tagged).await, Received::Ignored(_)));
    let own = mail("support@example.com", "Loop", "", "Echo.");
    assert!(matches!(
        desk.receive(own.clone()).await,
        Received::Ignored(_)
    ));
    assert_eq!(desk.receive(own).await, Received::Duplicate);
    deactivated_customer(&desk, "gone@example.org").await;
    for garbage in [Vec::new(), b"\x00\xff\r\n\r\nnot a mail".to_vec()] {
        assert!(matches!(desk.receive(garbage).await, Received::Ignored(_)));
    }
    let from_gone = mail("gone@example.org", "Hello", "", "Hi.");
    assert!(matches!(
        desk.receive(from_gone).await,
        Received::Ignored(_)
    ));
}

async fn attachments_beyond_the_limit_are_named_not_kept(kind: BackendKind) {
    let desk = desk(kind).await;
    let part = |name: &str, size: usize| {
        format!(
            "--b\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: 7bit\r\n\r\n{}\r\n",
            "x".repeat(size)
        )
    };
    let raw = format!(
        "From: ana@example.org\r\nTo: support@example.com\r\nSubject: Files\r\n\
         Message-ID: <files-{}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n{}{}--b--\r\n",
        Uuid::now_v7(),
        part("small.txt", 100),
        part("huge.bin", MAX_BYTES + 1),
    );
    let ticket_id = desk.opened(raw.into_bytes()).await;
    let messages = desk.messages(ticket_id).await;
    let description = &messages[0];
    let mut files: Vec<&str> = description
        .attachments
        .iter()
        .map(|file| file.filename.as_str())
        .collect();
    files.sort_unstable();
    assert_eq!(files, ["original.eml", "small.txt"]);
    let note = messages.iter().find(|m| m.internal).expect("a note");
    assert!(note.body.contains("huge.bin"), "{}", note.body);
}

/// A mail from `from` with `headers`, a line of text and the file `name` holding `content`.
fn mail_with_file(from: &str, headers: &str, name: &str, content: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: A file\r\n\
         Message-ID: <file-{}@example.org>\r\nMIME-Version: 1.0\r\n{headers}\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{content}\r\n--b--\r\n",
        Uuid::now_v7()
    )
    .into_bytes()
}

/// A customer whose account was deactivated: mail from them is ignored.
async fn deactivated_customer(desk: &Desk, email: &str) {
    let customer = user(&desk.service, email, Role::Customer).await;
    desk.store
        .users()
        .update(
            customer.id,
            growdesk_store::users::UserChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn files_of_dropped_mail_are_removed(kind: BackendKind) {
    let desk = desk(kind).await;
    let taken = mail_with_file("ana@example.org", "", "kept.txt", "kept");
    let ticket_id = desk.opened(taken.clone()).await;
    assert_eq!(desk.receive(taken).await, Received::Duplicate);
    deactivated_customer(&desk, "gone@example.org").await;
    let from_gone = mail_with_file("gone@example.org", "", "gone.txt", "dropped");
    assert!(matches!(
        desk.receive(from_gone).await,
        Received::Ignored(_)
    ));
    let unthreaded = mail_with_file(
        "robot@example.org",
        "Auto-Submitted: auto-replied\r\n",
        "away.txt",
        "away",
    );
    assert_eq!(
        desk.receive(unthreaded).await,
        Received::AutoReply { ticket_id: None }
    );

    let referenced: BTreeSet<String> = desk
        .messages(ticket_id)
        .await
        .into_iter()
        .flat_map(|message| message.attachments)
        .map(|file| file.sha256)
        .collect();
    assert_eq!(referenced.len(), 2, "the file and the raw mail");
    assert_eq!(
        FileStore::new(desk.files.path()).stored().unwrap(),
        referenced
    );

    // Two mails under one Message-ID, with other files, taken in at once: one is written, and
    // the other's files go whether it found the mail taken or lost the race in its transaction.
    let one = mail_with_file("bo@example.org", "", "one.txt", "first of two");
    let other = mail_with_file("bo@example.org", "", "other.txt", "second of two");
    let other = String::from_utf8(other.clone())
        .unwrap()
        .replace(&message_id_of(&other), &message_id_of(&one))
        .into_bytes();
    let receive = |raw: Vec<u8>| desk.service.email().receive(desk.mailbox, raw);
    let (first, second) = tokio::join!(receive(one), receive(other));
    let mut taken = Vec::new();
    for outcome in [first, second] {
        match outcome {
            Ok(Received::Opened { ticket_id }) => taken.push(ticket_id),
            // Lost the race for the new sender's account (SQLite): nothing written.
            Ok(Received::Duplicate) | Err(ServiceError::Conflict(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(taken.len(), 1, "one of the two is taken in");
    let mut referenced = referenced;
    for message in desk.messages(taken[0]).await {
        referenced.extend(message.attachments.into_iter().map(|file| file.sha256));
    }
    assert_eq!(
        FileStore::new(desk.files.path()).stored().unwrap(),
        referenced
    );

    // The same mail taken in twice at once (sent to two of our addresses, read by two
    // fetchers): a file is stored once per content, so the one that is not written must
    // leave the files of the one that is, whichever of the two wrote them to disk.
    let twice = mail_with_file("cy@example.org", "", "shared.txt", "one content for both");
    let (first, second) = tokio::join!(receive(twice.clone()), receive(twice));
    let mut taken = Vec::new();
    for outcome in [first, second] {
        match outcome {
            Ok(Received::Opened { ticket_id }) => taken.push(ticket_id),
            Ok(Received::Duplicate) | Err(ServiceError::Conflict(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(taken.len(), 1, "the mail is taken in once");
    for message in desk.messages(taken[0]).await {
        referenced.extend(message.attachments.into_iter().map(|file| file.sha256));
    }
    assert_eq!(
        FileStore::new(desk.files.path()).stored().unwrap(),
        referenced,
        "every file a stored attachment names is on disk, and no other"
    );
}

async fn mailboxes_are_for_admins_checked_and_tested(kind: BackendKind) {
    let desk = desk(kind).await;
    let admin = principal(
        &desk
            .store
            .users()
            .credentials_by_email("admin@example.com")
            .await
            .unwrap()
            .unwrap()
            .user,
    );
    let agent = principal(&user(&desk.service, "agent@example.com", Role::Agent).await);
    let mailboxes = desk.service.mailboxes();
    assert!(matches!(
        mailboxes.list(&agent).await,
        Err(ServiceError::Forbidden(_))
    ));

    let taken = MailboxInput {
        address: Some("SUPPORT@example.com".to_owned()),
        display_name: Some("Again".to_owned()),
        default_category_id: Some(Some(Uuid::now_v7())),
        ..MailboxInput::default()
    };
    let Err(ServiceError::Validation(errors)) = mailboxes.create(&admin, taken).await else {
        panic!("an unknown category is refused");
    };
    let named: Vec<&str> = errors.fields().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(named, ["default_category_id"]);
    let taken = MailboxInput {
        address: Some("SUPPORT@example.com".to_owned()),
        display_name: Some("Again".to_owned()),
        ..MailboxInput::default()
    };
    assert!(matches!(
        mailboxes.create(&admin, taken).await,
        Err(ServiceError::Conflict(_))
    ));

    // A port nothing listens on: the IMAP side fails with a sentence, SMTP is not configured.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let imap = ImapInput {
        host: Some("127.0.0.1".to_owned()),
        port: Some(closed),
        security: Some(TransportSecurity::None),
        username: Some("support".to_owned()),
        password: Some(Some("secret password".to_owned())),
        ..ImapInput::default()
    };
    let changed = mailboxes
        .update(
            &admin,
            desk.mailbox,
            MailboxInput {
                imap: Some(Some(imap)),
                ..MailboxInput::default()
            },
        )
        .await
        .unwrap();
    assert!(changed.has_imap_password && !changed.has_smtp_password);
    assert_eq!(changed.imap.as_ref().unwrap().folder, "INBOX");
    assert_eq!(changed.display_name, "Example Support");
    let report = mailboxes.test(&admin, desk.mailbox).await.unwrap();
    let Check {
        ok: false,
        error: Some(imap_error),
    } = report.imap
    else {
        panic!("nothing listens there: {report:?}");
    };
    assert!(!imap_error.contains("secret password"), "{imap_error}");
    assert_eq!(
        report.smtp,
        Check {
            ok: false,
            error: Some("outgoing mail (SMTP) is not configured".to_owned())
        }
    );

    mailboxes.delete(&admin, desk.mailbox).await.unwrap();
    assert!(matches!(
        mailboxes.get(&admin, desk.mailbox).await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        desk.service.email().receive(desk.mailbox, Vec::new()).await,
        Err(ServiceError::NotFound(_))
    ));
}

async fn only_a_persons_new_mail_is_acknowledged_and_a_staff_reply_is_mailed(kind: BackendKind) {
    let desk = desk(kind).await;
    let admin = desk
        .store
        .users()
        .credentials_by_email("admin@example.com")
        .await
        .unwrap()
        .unwrap()
        .user;
    let sending = MailboxInput {
        smtp: Some(Some(SmtpInput {
            host: Some("127.0.0.1".to_owned()),
            port: Some(2525),
            security: Some(TransportSecurity::None),
            ..SmtpInput::default()
        })),
        acknowledge: Some(true),
        ..MailboxInput::default()
    };
    desk.service
        .mailboxes()
        .update(&principal(&admin), desk.mailbox, sending)
        .await
        .unwrap();
    let ticket_id = desk
        .opened(mail("ana@example.org", "Printer on fire", "", "It smokes."))
        .await;
    assert_eq!(
        desk.mails(ticket_id).await,
        [(MailKind::Acknowledgement, "ana@example.org".to_owned())]
    );

    // List mail opens a ticket nobody is told about; automatic mail is never answered.
    let list = desk
        .opened(mail(
            "bob@example.org",
            "Newsletter",
            "List-Id: <news.example.org>\r\nPrecedence: list\r\n",
            "News.",
        ))
        .await;
    assert!(desk.mails(list).await.is_empty());
    let number = desk
        .store
        .tickets()
        .get(ticket_id)
        .await
        .unwrap()
        .unwrap()
        .number;
    let vacation = mail(
        "ana@example.org",
        &format!("Auto: Re: Printer on fire [#{number}]"),
        "Auto-Submitted: auto-replied\r\n",
        "Away.",
    );
    assert_eq!(
        desk.receive(vacation).await,
        Received::AutoReply {
            ticket_id: Some(ticket_id)
        }
    );
    assert_eq!(desk.mails(ticket_id).await.len(), 1);

    // The agent answers our mail to them: the customer gets the reply by mail.
    user(&desk.service, "agent@example.com", Role::Agent).await;
    let to_agent = desk.sent(ticket_id, "agent@example.com").await;
    let verified = mail(
        "agent@example.com",
        "Re: Printer on fire",
        &format!("In-Reply-To: {to_agent}\r\n"),
        "We replaced the printer.",
    );
    assert!(matches!(
        desk.receive(verified).await,
        Received::Joined { .. }
    ));
    assert_eq!(
        desk.mails(ticket_id).await,
        [
            (MailKind::Acknowledgement, "ana@example.org".to_owned()),
            (MailKind::Reply, "agent@example.com".to_owned()),
            (MailKind::Reply, "ana@example.org".to_owned()),
        ]
    );
}

async fn a_reply_wakes_a_resolved_ticket_and_a_closed_one_opens_another(kind: BackendKind) {
    let desk = desk(kind).await;
    let agent = principal(&user(&desk.service, "agent@example.com", Role::Agent).await);
    let ticket_id = desk
        .opened(mail("ana@example.org", "Printer on fire", "", "It smokes."))
        .await;
    let set = |status| TicketChanges {
        status: Some(status),
        ..TicketChanges::default()
    };
    let resolved = desk
        .service
        .tickets()
        .update(&agent, ticket_id, set(TicketStatus::Resolved), None)
        .await
        .unwrap();
    let reply = |text: &str| {
        mail(
            "ana@example.org",
            &format!("Re: Printer on fire [#{}]", resolved.number),
            "",
            text,
        )
    };
    assert!(matches!(
        desk.receive(reply("It is back.")).await,
        Received::Joined { ticket_id: id, .. } if id == ticket_id
    ));
    let woken = desk.store.tickets().get(ticket_id).await.unwrap().unwrap();
    assert_eq!(woken.status, TicketStatus::Open);

    desk.service
        .tickets()
        .update(&agent, ticket_id, set(TicketStatus::Closed), None)
        .await
        .unwrap();
    let other = desk.opened(reply("And again, weeks later.")).await;
    assert_ne!(other, ticket_id);
    let closed = desk.store.tickets().get(ticket_id).await.unwrap().unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    assert_eq!(desk.messages(ticket_id).await.len(), 2);
}

async fn every_corpus_mail_is_taken_in_and_no_automatic_one_answered(kind: BackendKind) {
    let desk = desk(kind).await;
    let admin = desk
        .store
        .users()
        .credentials_by_email("admin@example.com")
        .await
        .unwrap()
        .unwrap()
        .user;
    let acknowledging = MailboxInput {
        smtp: Some(Some(SmtpInput {
            host: Some("127.0.0.1".to_owned()),
            port: Some(2525),
            security: Some(TransportSecurity::None),
            ..SmtpInput::default()
        })),
        acknowledge: Some(true),
        ..MailboxInput::default()
    };
    desk.service
        .mailboxes()
        .update(&principal(&admin), desk.mailbox, acknowledging)
        .await
        .unwrap();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .expect("the corpus of crates/mail")
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    files.sort();
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).expect("the manifest");
    let listed = manifest
        .lines()
        .filter(|line| {
            line.split('\t')
                .next()
                .is_some_and(|file| file.ends_with(".eml"))
        })
        .count();
    assert_eq!(files.len(), listed, "every mail of the manifest");
    let names: Vec<String> = files
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: Vec<String> = CORPUS_OUTCOMES
        .iter()
        .map(|(file, _)| (*file).to_owned())
        .collect();
    assert_eq!(names, expected, "an outcome for every mail of the corpus");
    for (path, (file, expected)) in files.iter().zip(CORPUS_OUTCOMES) {
        let raw = std::fs::read(path).expect("a corpus mail");
        let parsed = growdesk_mail::inbound::parse(&raw);
        let received = desk
            .service
            .email()
            .receive(desk.mailbox, raw)
            .await
            .unwrap_or_else(|error| panic!("{file}: {error:?}"));
        let as_expected = match (expected, &received) {
            (Outcome::Opens, Received::Opened { .. })
            | (Outcome::Bounce, Received::Bounce { .. })
            | (Outcome::AutoReplyDropped, Received::AutoReply { ticket_id: None }) => true,
            (Outcome::Ignored(reason), Received::Ignored(actual)) => reason == actual,
            _ => false,
        };
        assert!(as_expected, "{file}: {expected:?} expected, {received:?}");
        let automatic = !matches!(parsed.kind, MailClass::Regular) || parsed.bulk;
        if let Received::Opened { ticket_id } = received
            && automatic
        {
            assert!(
                desk.mails(ticket_id).await.is_empty(),
                "{file}: automatic mail answered"
            );
        }
    }
}

/// What a mail of the corpus becomes.
#[derive(Debug)]
enum Outcome {
    /// A ticket of its own (nothing it answers is ours).
    Opens,
    /// A delivery report; it names no mail of ours.
    Bounce,
    /// An automatic mail threading to no ticket of ours: recorded, dropped.
    AutoReplyDropped,
    /// Dropped, for this reason.
    Ignored(&'static str),
}

/// Every mail of `crates/mail/tests/corpus`, by name (in the order they are read), and what it
/// becomes: a mail a person wrote is never dropped, and nothing automatic opens a ticket.
const CORPUS_OUTCOMES: &[(&str, Outcome)] = {
    use Outcome::{AutoReplyDropped, Bounce, Ignored, Opens};
    &[
        ("enmime-low-quality-bad-header-wrap.eml", Opens),
        ("enmime-mail-html-only-inline.eml", Opens),
        ("flanker-8bitmime.eml", Opens),
        ("flanker-apache-message-news-mime.eml", Opens),
        (
            "flanker-attached-pdf.eml",
            Ignored("the mail has no sender"),
        ),
        ("flanker-bilingual-simple.eml", Opens),
        ("flanker-bounce-broken-mime.eml", Bounce),
        ("flanker-bounce-delayed.eml", Bounce),
        ("flanker-bounce-gmail-invalid-address.eml", Bounce),
        ("flanker-bounce-mailbox-full.eml", Bounce),
        ("flanker-bounce-office365.eml", Bounce),
        ("flanker-bounce-zed.eml", Bounce),
        ("flanker-complaints-yahoo.eml", AutoReplyDropped),
        ("flanker-disposition-notification.eml", AutoReplyDropped),
        ("flanker-encoded-header.eml", Opens),
        ("flanker-false-multipart.eml", Opens),
        ("flanker-long-links.eml", Opens),
        ("flanker-mailformed-headers.eml", Opens),
        ("flanker-mailgun-pic.eml", Opens),
        ("flanker-missing-boundaries.eml", Opens),
        ("flanker-missing-final-boundary.eml", Opens),
        ("flanker-multipart.eml", Opens),
        ("flanker-no-ctype.eml", Opens),
        ("flanker-quoted-printable.eml", Opens),
        ("flanker-relative.eml", Opens),
        ("flanker-signed.eml", Opens),
        ("flanker-spam-broken-ctype.eml", Opens),
        ("nodemailer-delivery-status.eml", Bounce),
        ("nodemailer-nested.eml", Opens),
        ("phpmimemailparser-issue84.eml", Opens),
        ("phpmimemailparser-m0001.eml", Opens),
        ("phpmimemailparser-m0021.eml", Opens),
        ("phpmimemailparser-m0023.eml", Opens),
        ("phpmimemailparser-m0028.eml", Opens),
        ("rubymail-attachment_message_rfc822.eml", Opens),
        ("rubymail-attachment_pdf.eml", Opens),
        ("rubymail-attachment_with_encoded_name.eml", Opens),
        ("rubymail-bad_subject.eml", Opens),
        ("rubymail-japanese_iso_2022.eml", Opens),
        ("rubymail-ks_c_5601-1987.eml", Opens),
        ("rubymail-raw_email_reply.eml", Opens),
        ("rubymail-raw_email_with_illegal_boundary.eml", Opens),
        ("rubymail-report_422.eml", Bounce),
        ("sisimai-dos-lhost-sendmail-01.eml", Bounce),
        ("sisimai-lhost-exim-01.eml", Bounce),
        ("sisimai-lhost-googlegroups-07.eml", Bounce),
        ("sisimai-lhost-qmail-01.eml", Bounce),
        ("sisimai-rfc3834-01.eml", AutoReplyDropped),
        ("sisimai-rfc3834-02.eml", AutoReplyDropped),
        ("sisimai-rfc3834-04.eml", AutoReplyDropped),
        ("sisimai-rfc3834-06.eml", AutoReplyDropped),
        ("spamscope-mail_test_12.eml", Opens),
        ("spamscope-mail_test_13.eml", Opens),
        (
            "stalwart-thirdparty-005.eml",
            Ignored("the mail has no sender"),
        ),
        ("stalwart-thirdparty-014.eml", Opens),
        ("stalwart-thirdparty-016.eml", Opens),
        ("stalwart-thirdparty-018.eml", Opens),
        ("stalwart-thirdparty-019.eml", Opens),
        ("talon-aol.eml", Opens),
        ("talon-apple_mail.eml", Opens),
        ("talon-gmail.eml", Opens),
        ("talon-hotmail.eml", Opens),
        ("talon-iphone.eml", Opens),
        ("talon-outlook.eml", Opens),
        ("talon-reply-quotations-share-block.eml", Opens),
        ("talon-thunderbird.eml", Opens),
        ("talon-yahoo.eml", Opens),
        ("thunderbird-sample04.eml", Opens),
    ]
};
