//! The email channel's data: mailboxes keep their passwords to themselves, cursors only move
//! forward, the outbox and the record of imported mail are written in the transaction of what
//! they belong to (or not at all), mails move through their statuses once, and a password
//! reset works once and ends every session.

use growdesk_domain::mail::{
    AfterImport, DeliveryStatus, ImapSettings, MailKind, SmtpSettings, TransportSecurity,
};
use growdesk_domain::{
    Email, Event, MessageBody, MessageChannel, Priority, Role, Subject, Tags, TicketSource,
};
use growdesk_store::email_templates::StoredTemplate;
use growdesk_store::events::Span;
use growdesk_store::mail::{InboundKind, InboundRecord, NewOutboundMail};
use growdesk_store::mailboxes::{MailboxChanges, MailboxCursor, MailboxFields, NewMailbox};
use growdesk_store::messages::{NewAttachment, NewMessage};
use growdesk_store::sessions::NewSession;
use growdesk_store::tickets::{Changed, MessageRecord, NewTicket, TicketChange, TicketState};
use growdesk_store::{Stamp, Store, StoreError};
use uuid::Uuid;

use super::new_user;

on_both_backends!(
    mailboxes_keep_their_passwords_to_themselves,
    cursors_only_move_forward_within_one_uid_validity,
    a_ticket_opened_by_mail_is_written_whole,
    the_outbox_is_written_with_its_change_or_not_at_all,
    a_mail_imported_twice_leaves_nothing_half_written,
    mails_move_through_their_statuses_once,
    replies_thread_by_the_message_ids_of_the_ticket,
    recent_mails_are_counted_by_recipient_kind_and_time,
    suppressed_addresses_keep_their_first_reason,
    a_password_reset_works_once_and_ends_every_session,
    concurrent_resets_with_one_token_let_exactly_one_through,
    template_overrides_are_put_read_and_removed,
);

fn imap(user: &str) -> ImapSettings {
    ImapSettings {
        host: "imap.example.test".to_owned(),
        port: 993,
        security: TransportSecurity::Tls,
        username: user.to_owned(),
        folder: "INBOX".to_owned(),
        after_import: AfterImport::Move("Archive/Done".to_owned()),
    }
}

fn smtp(user: &str) -> SmtpSettings {
    SmtpSettings {
        host: "smtp.example.test".to_owned(),
        port: 587,
        security: TransportSecurity::StartTls,
        username: user.to_owned(),
    }
}

fn fields(address: &str) -> MailboxFields {
    MailboxFields {
        address: Email::parse(address).unwrap(),
        display_name: "Example Support".to_owned(),
        imap: Some(imap(address)),
        smtp: Some(smtp(address)),
        default_category_id: None,
        default_priority: Priority::High,
        acknowledge: true,
        active: true,
    }
}

async fn mailbox(store: &Store, address: &str) -> Uuid {
    store
        .mailboxes()
        .create(NewMailbox {
            id: Uuid::now_v7(),
            fields: fields(address),
            imap_password: Some("imap-secret".to_owned()),
            smtp_password: Some("smtp-secret".to_owned()),
        })
        .await
        .expect("create mailbox")
        .id
}

async fn customer(store: &Store, email: &str) -> Uuid {
    store
        .users()
        .create(new_user(email, Role::Customer))
        .await
        .expect("create customer")
        .id
}

fn new_ticket(requester: Uuid, mailbox_id: Option<Uuid>) -> NewTicket {
    NewTicket {
        id: Uuid::now_v7(),
        subject: Subject::parse("My order never came").unwrap(),
        priority: Priority::Medium,
        category_id: None,
        requester_id: requester,
        source: TicketSource::Email,
        tags: Tags::default(),
        actor_id: requester,
        description: MessageBody::parse("Where is it?").unwrap(),
        extra_events: Vec::new(),
        visitor_id: None,
        context: None,
        channel: MessageChannel::Email,
        mailbox_id,
        attachments: Vec::new(),
        notes: Vec::new(),
        mail: Vec::new(),
        inbound: None,
    }
}

fn outbound(ticket_id: Option<Uuid>, message_id: Option<Uuid>, kind: MailKind) -> NewOutboundMail {
    let id = Uuid::now_v7();
    NewOutboundMail {
        id,
        mailbox_id: None,
        ticket_id,
        message_id,
        kind,
        recipient: "ann@example.com".to_owned(),
        subject: "Re: My order never came".to_owned(),
        text_body: "It is on its way.".to_owned(),
        html_body: Some("<p>It is on its way.</p>".to_owned()),
        header_message_id: format!("<{id}@example.test>"),
        in_reply_to: Some("<first@customer.example>".to_owned()),
        references: vec!["<first@customer.example>".to_owned()],
        reply_to: Some("support+t1@example.test".to_owned()),
        unsubscribe_url: None,
        attachment_ids: vec![Uuid::now_v7()],
    }
}

fn inbound(mailbox_id: Uuid, message_id: &str) -> InboundRecord {
    InboundRecord {
        mailbox_id,
        message_id: message_id.to_owned(),
        kind: InboundKind::Message,
    }
}

fn message(ticket_id: Uuid, author_id: Uuid, body: &str, internal: bool) -> MessageRecord {
    MessageRecord {
        message: NewMessage {
            id: Uuid::now_v7(),
            ticket_id,
            author_id,
            body: body.to_owned(),
            internal,
            channel: MessageChannel::Email,
        },
        attachments: Vec::new(),
    }
}

async fn open(store: &Store, new: NewTicket) -> Uuid {
    let id = new.id;
    store
        .tickets()
        .create(new, None)
        .await
        .expect("open ticket");
    id
}

/// Adds `record` to ticket `id` with `mail` and `inbound`, changing nothing else.
async fn reply(
    store: &Store,
    id: Uuid,
    record: Option<MessageRecord>,
    mail: Vec<NewOutboundMail>,
    inbound: Option<InboundRecord>,
) -> Result<Changed<()>, StoreError> {
    store
        .tickets()
        .change(id, None, |ticket| {
            Ok(TicketChange {
                state: TicketState::of(ticket),
                events: Vec::new(),
                message: record,
                notes: Vec::new(),
                mail,
                inbound,
            })
        })
        .await
}

fn later(by: time::Duration) -> Stamp {
    Stamp::from(Stamp::now().into_inner() + by)
}

async fn mailboxes_keep_their_passwords_to_themselves(store: &Store) {
    let created = store
        .mailboxes()
        .create(NewMailbox {
            id: Uuid::now_v7(),
            fields: fields("Support@Example.com"),
            imap_password: Some("imap-secret".to_owned()),
            smtp_password: Some("smtp-secret".to_owned()),
        })
        .await
        .unwrap();
    assert_eq!(created.address.as_str(), "support@example.com");
    assert_eq!(created.imap, Some(imap("Support@Example.com")));
    assert_eq!(created.smtp, Some(smtp("Support@Example.com")));
    assert!(created.has_imap_password && created.has_smtp_password);
    assert_eq!(created.default_priority, Priority::High);
    let shown = format!("{created:?} {}", serde_json::to_string(&created).unwrap());
    assert!(!shown.contains("secret"), "{shown}");
    assert_eq!(
        store.mailboxes().get(created.id).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        store
            .mailboxes()
            .by_address(" SUPPORT@example.com")
            .await
            .unwrap(),
        Some(created.clone())
    );
    let secrets = store
        .mailboxes()
        .secrets(created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.imap_password.as_deref(), Some("imap-secret"));
    assert_eq!(secrets.smtp_password.as_deref(), Some("smtp-secret"));
    let new = NewMailbox {
        id: Uuid::now_v7(),
        fields: fields("other@example.com"),
        imap_password: Some("imap-secret".to_owned()),
        smtp_password: None,
    };
    let changes = MailboxChanges {
        fields: fields("other@example.com"),
        imap_password: Some(Some("imap-secret".to_owned())),
        smtp_password: Some(None),
    };
    for shown in [
        format!("{secrets:?}"),
        format!("{new:?}"),
        format!("{changes:?}"),
    ] {
        assert!(!shown.contains("secret"), "{shown}");
    }

    let duplicate = store
        .mailboxes()
        .create(NewMailbox {
            id: Uuid::now_v7(),
            fields: fields("support@example.com"),
            imap_password: None,
            smtp_password: None,
        })
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict)),
        "{duplicate:?}"
    );
    let other = mailbox(store, "sales@example.com").await;
    assert_eq!(
        store.mailboxes().addresses().await.unwrap(),
        ["sales@example.com", "support@example.com"]
    );

    // Keeping, setting and clearing passwords; a side removed loses its password.
    let mut renamed = fields("support@example.com");
    renamed.display_name = "Help".to_owned();
    let kept = store
        .mailboxes()
        .update(
            created.id,
            MailboxChanges {
                fields: renamed.clone(),
                imap_password: None,
                smtp_password: Some(Some("new-smtp".to_owned())),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.display_name, "Help");
    let secrets = store
        .mailboxes()
        .secrets(created.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secrets.imap_password.as_deref(), Some("imap-secret"));
    assert_eq!(secrets.smtp_password.as_deref(), Some("new-smtp"));
    renamed.imap = None;
    let cleared = store
        .mailboxes()
        .update(
            created.id,
            MailboxChanges {
                fields: renamed.clone(),
                imap_password: None,
                smtp_password: Some(None),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.imap, None);
    assert!(!cleared.has_imap_password && !cleared.has_smtp_password);
    assert_eq!(
        store
            .mailboxes()
            .secrets(created.id)
            .await
            .unwrap()
            .unwrap(),
        growdesk_store::mailboxes::MailboxSecrets {
            imap_password: None,
            smtp_password: None
        }
    );
    let taken = store
        .mailboxes()
        .update(
            other,
            MailboxChanges {
                fields: renamed,
                imap_password: None,
                smtp_password: None,
            },
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict)), "{taken:?}");
    let missing = store
        .mailboxes()
        .update(
            Uuid::now_v7(),
            MailboxChanges {
                fields: fields("nobody@example.com"),
                imap_password: None,
                smtp_password: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(missing, None);

    assert!(store.mailboxes().delete(created.id).await.unwrap());
    assert!(!store.mailboxes().delete(created.id).await.unwrap());
    assert_eq!(store.mailboxes().get(created.id).await.unwrap(), None);
    assert_eq!(store.mailboxes().secrets(created.id).await.unwrap(), None);
    let listed: Vec<Uuid> = store
        .mailboxes()
        .list()
        .await
        .unwrap()
        .iter()
        .map(|mailbox| mailbox.id)
        .collect();
    assert_eq!(listed, [other]);
}

async fn cursors_only_move_forward_within_one_uid_validity(store: &Store) {
    let id = mailbox(store, "support@example.com").await;
    let cursor = |uid_validity, last_uid| MailboxCursor {
        uid_validity,
        last_uid,
    };
    assert_eq!(store.mailboxes().cursor(id).await.unwrap(), None);
    assert!(
        store
            .mailboxes()
            .set_cursor(id, cursor(7, 10))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mailboxes()
            .set_cursor(id, cursor(7, 4))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mailboxes()
            .set_cursor(id, cursor(7, 10))
            .await
            .unwrap()
    );
    assert_eq!(
        store.mailboxes().cursor(id).await.unwrap(),
        Some(cursor(7, 10))
    );
    assert!(
        store
            .mailboxes()
            .set_cursor(id, cursor(7, 12))
            .await
            .unwrap()
    );
    // A new UIDVALIDITY starts the folder over, even at a lower UID.
    assert!(
        store
            .mailboxes()
            .set_cursor(id, cursor(8, 1))
            .await
            .unwrap()
    );
    assert_eq!(
        store.mailboxes().cursor(id).await.unwrap(),
        Some(cursor(8, 1))
    );
    // The largest values IMAP allows are kept whole.
    assert!(
        store
            .mailboxes()
            .set_cursor(id, cursor(u32::MAX, u32::MAX))
            .await
            .unwrap()
    );
    assert_eq!(
        store.mailboxes().cursor(id).await.unwrap(),
        Some(cursor(u32::MAX, u32::MAX))
    );
    let unknown = store
        .mailboxes()
        .set_cursor(Uuid::now_v7(), cursor(1, 1))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::MissingReference)),
        "{unknown:?}"
    );
    store.mailboxes().delete(id).await.unwrap();
    assert_eq!(store.mailboxes().cursor(id).await.unwrap(), None);
}

async fn a_ticket_opened_by_mail_is_written_whole(store: &Store) {
    let box_id = mailbox(store, "support@example.com").await;
    let ann = customer(store, "ann@example.com").await;
    let mut new = new_ticket(ann, Some(box_id));
    new.attachments = vec![NewAttachment {
        id: Uuid::now_v7(),
        filename: "original.eml".to_owned(),
        content_type: "message/rfc822".to_owned(),
        size: 120,
        sha256: "ab".repeat(32),
    }];
    let note = message(
        new.id,
        ann,
        "2 attachments over the limit were not kept",
        true,
    );
    new.notes = vec![note.clone()];
    new.inbound = Some(inbound(box_id, "first@customer.example"));
    let acknowledgement = outbound(Some(new.id), None, MailKind::Acknowledgement);
    new.mail = vec![acknowledgement.clone()];
    let id = open(store, new).await;

    let ticket = store.tickets().get(id).await.unwrap().unwrap();
    assert_eq!(ticket.source, TicketSource::Email);
    assert_eq!(ticket.mailbox_id, Some(box_id));
    let messages = store.messages().list(id, true, None, 10).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert!(
        messages
            .iter()
            .all(|message| message.channel == MessageChannel::Email && message.delivery.is_none())
    );
    assert_eq!(messages[0].attachments.len(), 1);
    assert_eq!(messages[0].attachments[0].filename, "original.eml");
    assert_eq!(messages[1].body, note.message.body);
    assert!(messages[1].internal);
    let public = store.messages().list(id, false, None, 10).await.unwrap();
    assert_eq!(public.len(), 1);

    let events = store.events().of_ticket(id, true, None, 20).await.unwrap();
    let created: Vec<Uuid> = events
        .iter()
        .filter_map(|event| match &event.event {
            Event::MessageCreated(added) => Some(added.message_id),
            _ => None,
        })
        .collect();
    assert_eq!(created, [messages[0].id, messages[1].id]);
    assert!(
        events
            .iter()
            .any(|event| matches!(&event.event, Event::AttachmentAdded(added) if added.filename == "original.eml"))
    );
    assert!(
        store
            .mail()
            .inbound_seen(box_id, "first@customer.example")
            .await
            .unwrap()
    );
    let due = store.mail().due(Stamp::now(), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].mail, acknowledgement);
    assert_eq!(due[0].status, DeliveryStatus::Queued);

    // A ticket keeps its mail when its mailbox goes; the mailbox's record of mail goes with it.
    store.mailboxes().delete(box_id).await.unwrap();
    let ticket = store.tickets().get(id).await.unwrap().unwrap();
    assert_eq!(ticket.mailbox_id, None);
    assert!(
        !store
            .mail()
            .inbound_seen(box_id, "first@customer.example")
            .await
            .unwrap()
    );
}

async fn the_outbox_is_written_with_its_change_or_not_at_all(store: &Store) {
    let ann = customer(store, "ann@example.com").await;
    let agent = store
        .users()
        .create(new_user("agent@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let id = open(store, new_ticket(ann, None)).await;

    let answer = message(id, agent, "It is on its way.", false);
    let mail = outbound(Some(id), Some(answer.message.id), MailKind::Reply);
    let outcome = reply(store, id, Some(answer.clone()), vec![mail.clone()], None)
        .await
        .unwrap();
    assert!(matches!(outcome, Changed::Applied { .. }), "{outcome:?}");

    // Refused: neither the message nor its mail.
    let refused_message = message(id, agent, "Never sent", false);
    let refused_mail = outbound(Some(id), Some(refused_message.message.id), MailKind::Reply);
    let refused: Changed<&str> = store
        .tickets()
        .change(id, None, |_| Err("refused"))
        .await
        .unwrap();
    assert!(matches!(refused, Changed::Refused("refused")));
    // A mail that fails its insert (a Message-ID queued before) undoes the message with it.
    let mut clash = refused_mail.clone();
    clash.header_message_id.clone_from(&mail.header_message_id);
    let failed = reply(store, id, Some(refused_message.clone()), vec![clash], None).await;
    assert!(matches!(failed, Err(StoreError::Conflict)), "{failed:?}");
    assert_eq!(
        store
            .messages()
            .get(refused_message.message.id)
            .await
            .unwrap(),
        None
    );

    let due = store.mail().due(Stamp::now(), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].mail, mail);
    assert_eq!(due[0].attempts, 0);
    assert_eq!(due[0].last_error, None);

    let deliveries = store
        .mail()
        .deliveries(&[answer.message.id, refused_message.message.id])
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[&answer.message.id];
    assert_eq!(delivery.mail_id, mail.id);
    assert_eq!(delivery.kind, MailKind::Reply);
    assert_eq!(delivery.status, DeliveryStatus::Queued);
    assert_eq!(delivery.recipient, "ann@example.com");
    assert_eq!(
        store.mail().of_ticket(id).await.unwrap(),
        vec![delivery.clone()]
    );

    // A mail alone (a notice) is a change too; the latest mail of a message is its delivery.
    let notice = outbound(Some(id), None, MailKind::Resolved);
    let again = outbound(Some(id), Some(answer.message.id), MailKind::Reply);
    reply(store, id, None, vec![notice.clone(), again.clone()], None)
        .await
        .unwrap();
    let deliveries = store.mail().deliveries(&[answer.message.id]).await.unwrap();
    assert_eq!(deliveries[&answer.message.id].mail_id, again.id);
    let of_ticket = store.mail().of_ticket(id).await.unwrap();
    assert_eq!(of_ticket.len(), 3);
    assert_eq!(of_ticket[2].mail_id, mail.id);
    // Paged two at a time, the pages make the list: mails queued by one change (at one moment)
    // are told apart by their ids.
    let first = store.mail().page_of_ticket(id, None, 2).await.unwrap();
    assert_eq!(first, of_ticket[..2]);
    let last = &first[1];
    let rest = store
        .mail()
        .page_of_ticket(id, Some((Stamp::from(last.created_at), last.mail_id)), 2)
        .await
        .unwrap();
    assert_eq!(rest, of_ticket[2..]);
    assert!(store.mail().deliveries(&[]).await.unwrap().is_empty());
    assert_eq!(
        store
            .messages()
            .get(answer.message.id)
            .await
            .unwrap()
            .unwrap()
            .delivery,
        None,
        "the store's reads leave delivery to the service"
    );
}

async fn a_mail_imported_twice_leaves_nothing_half_written(store: &Store) {
    let box_id = mailbox(store, "support@example.com").await;
    let ann = customer(store, "ann@example.com").await;
    let mut first = new_ticket(ann, Some(box_id));
    first.inbound = Some(inbound(box_id, "once@customer.example"));
    let id = open(store, first).await;

    let mut twice = new_ticket(ann, Some(box_id));
    twice.inbound = Some(inbound(box_id, "once@customer.example"));
    twice.mail = vec![outbound(Some(twice.id), None, MailKind::Acknowledgement)];
    let second = twice.id;
    let duplicate = store.tickets().create(twice, None).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict)),
        "{duplicate:?}"
    );
    assert_eq!(store.tickets().get(second).await.unwrap(), None);
    assert!(store.mail().due(Stamp::now(), 10).await.unwrap().is_empty());

    let answer = message(id, ann, "Any news?", false);
    let again = reply(
        store,
        id,
        Some(answer.clone()),
        Vec::new(),
        Some(inbound(box_id, "once@customer.example")),
    )
    .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert_eq!(store.messages().get(answer.message.id).await.unwrap(), None);
    let version = store.tickets().get(id).await.unwrap().unwrap().version;
    assert_eq!(version, 1, "the refused change left the ticket as it was");

    // The same Message-ID in another mailbox is another mail.
    let other_box = mailbox(store, "sales@example.com").await;
    reply(
        store,
        id,
        Some(answer.clone()),
        Vec::new(),
        Some(inbound(other_box, "once@customer.example")),
    )
    .await
    .unwrap();
    assert!(
        store
            .messages()
            .get(answer.message.id)
            .await
            .unwrap()
            .is_some()
    );

    // Recorded alone (dropped or unthreaded mail): once.
    let ignored = InboundRecord {
        kind: InboundKind::Ignored,
        ..inbound(box_id, "loop@example.com")
    };
    assert!(store.mail().record_inbound(&ignored, None).await.unwrap());
    assert!(!store.mail().record_inbound(&ignored, None).await.unwrap());
    assert!(
        !store
            .mail()
            .record_inbound(&inbound(box_id, "once@customer.example"), Some(id))
            .await
            .unwrap()
    );
    assert!(
        store
            .mail()
            .inbound_seen(box_id, "loop@example.com")
            .await
            .unwrap()
    );
    assert!(
        !store
            .mail()
            .inbound_seen(other_box, "loop@example.com")
            .await
            .unwrap()
    );
}

async fn mails_move_through_their_statuses_once(store: &Store) {
    let ann = customer(store, "ann@example.com").await;
    let id = open(store, new_ticket(ann, None)).await;
    let [first, second, third] = [(); 3].map(|()| outbound(Some(id), None, MailKind::Reply));
    store
        .mail()
        .enqueue(vec![first.clone(), second.clone(), third.clone()])
        .await
        .unwrap();
    let due: Vec<Uuid> = store
        .mail()
        .due(Stamp::now(), 10)
        .await
        .unwrap()
        .iter()
        .map(|mail| mail.mail.id)
        .collect();
    assert_eq!(due, [first.id, second.id, third.id]);
    assert_eq!(store.mail().due(Stamp::now(), 2).await.unwrap().len(), 2);

    // A transient failure: due again later, not now.
    let retry_at = later(time::Duration::minutes(5));
    assert!(
        store
            .mail()
            .retry_later(first.id, "451 try later", retry_at)
            .await
            .unwrap()
    );
    let due_now: Vec<Uuid> = store
        .mail()
        .due(Stamp::now(), 10)
        .await
        .unwrap()
        .iter()
        .map(|mail| mail.mail.id)
        .collect();
    assert_eq!(due_now, [second.id, third.id]);
    let retried = store.mail().get(first.id).await.unwrap().unwrap();
    assert_eq!(retried.status, DeliveryStatus::Queued);
    assert_eq!(retried.attempts, 1);
    assert_eq!(retried.last_error.as_deref(), Some("451 try later"));
    assert_eq!(retried.next_attempt_at, retry_at);
    let due_then = store.mail().due(retry_at, 10).await.unwrap();
    assert_eq!(due_then.len(), 3);

    let sent_at = Stamp::now();
    assert!(store.mail().mark_sent(first.id, sent_at).await.unwrap());
    assert!(!store.mail().mark_sent(first.id, sent_at).await.unwrap());
    assert!(!store.mail().mark_failed(first.id, "late").await.unwrap());
    assert!(
        !store
            .mail()
            .retry_later(first.id, "late", sent_at)
            .await
            .unwrap()
    );
    let sent = store.mail().get(first.id).await.unwrap().unwrap();
    assert_eq!(sent.mail, first, "a reply keeps what it said");
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(sent.sent_at, Some(sent_at));
    assert_eq!(sent.attempts, 2);

    assert!(
        store
            .mail()
            .mark_failed(second.id, "550 no such user")
            .await
            .unwrap()
    );
    let failed = store.mail().get(second.id).await.unwrap().unwrap();
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.sent_at, None);
    let due: Vec<Uuid> = store
        .mail()
        .due(later(time::Duration::days(1)), 10)
        .await
        .unwrap()
        .iter()
        .map(|mail| mail.mail.id)
        .collect();
    assert_eq!(due, [third.id]);

    // A bounce names a sent mail, with or without the angle brackets.
    let bare = first.header_message_id.trim_matches(['<', '>']).to_owned();
    let bounced = store
        .mail()
        .mark_bounced(&bare, "5.1.1 user unknown")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bounced.mail.id, first.id);
    assert_eq!(bounced.status, DeliveryStatus::Bounced);
    assert_eq!(bounced.last_error.as_deref(), Some("5.1.1 user unknown"));
    assert_eq!(bounced.sent_at, Some(sent_at));
    // Never one that was not sent, nor one we never sent.
    assert_eq!(
        store
            .mail()
            .mark_bounced(&third.header_message_id, "forged")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .mail()
            .mark_bounced("<unknown@example.test>", "forged")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.mail().get(third.id).await.unwrap().unwrap().status,
        DeliveryStatus::Queued
    );
    let duplicate = store.mail().enqueue(vec![first.clone()]).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict)),
        "{duplicate:?}"
    );
}

async fn replies_thread_by_the_message_ids_of_the_ticket(store: &Store) {
    let box_id = mailbox(store, "support@example.com").await;
    let ann = customer(store, "ann@example.com").await;
    let mut new = new_ticket(ann, Some(box_id));
    new.inbound = Some(inbound(box_id, "first@customer.example"));
    let id = open(store, new).await;
    let other = open(store, new_ticket(ann, None)).await;
    let ours = outbound(Some(id), None, MailKind::Reply);
    let elsewhere = outbound(Some(other), None, MailKind::Reply);
    store
        .mail()
        .enqueue(vec![ours.clone(), elsewhere.clone()])
        .await
        .unwrap();
    reply(
        store,
        id,
        Some(message(id, ann, "And another thing", false)),
        Vec::new(),
        Some(inbound(box_id, "second@customer.example")),
    )
    .await
    .unwrap();

    let bare = ours.header_message_id.trim_matches(['<', '>']).to_owned();
    for ids in [
        vec![bare.clone()],
        vec![ours.header_message_id.clone()],
        vec!["unknown@example.test".to_owned(), bare.clone()],
    ] {
        assert_eq!(
            store.mail().ticket_by_header_ids(&ids).await.unwrap(),
            Some(id)
        );
    }
    assert_eq!(
        store
            .mail()
            .ticket_by_header_ids(&["unknown@example.test".to_owned()])
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.mail().ticket_by_header_ids(&[]).await.unwrap(), None);
    let found = store
        .mail()
        .by_header_ids(&[bare, elsewhere.header_message_id.clone()])
        .await
        .unwrap();
    let mut found: Vec<Uuid> = found.iter().map(|mail| mail.mail.id).collect();
    found.sort();
    let mut expected = vec![ours.id, elsewhere.id];
    expected.sort();
    assert_eq!(found, expected);

    assert_eq!(
        store
            .mail()
            .ticket_by_received_ids(&["<second@customer.example>".to_owned()])
            .await
            .unwrap(),
        Some(id)
    );
    assert_eq!(
        store
            .mail()
            .ticket_by_received_ids(&["nobody@customer.example".to_owned()])
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .mail()
            .latest_received_ids(other, 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.mail().latest_received_ids(id, 1).await.unwrap(),
        ["second@customer.example"]
    );
    assert_eq!(
        store.mail().latest_received_ids(id, 5).await.unwrap(),
        ["first@customer.example", "second@customer.example"]
    );
}

async fn recent_mails_are_counted_by_recipient_kind_and_time(store: &Store) {
    let before = Stamp::now();
    let mut mails = Vec::new();
    for (recipient, kind) in [
        ("ann@example.com", MailKind::Acknowledgement),
        ("ANN@example.com", MailKind::Acknowledgement),
        ("ann@example.com", MailKind::Reply),
        ("bob@example.com", MailKind::Acknowledgement),
    ] {
        let mut mail = outbound(None, None, kind);
        mail.recipient = recipient.to_owned();
        mails.push(mail);
    }
    store.mail().enqueue(mails).await.unwrap();
    let count = |recipient: &'static str, kind, since| async move {
        store
            .mail()
            .sent_recently(recipient, kind, since)
            .await
            .unwrap()
    };
    assert_eq!(
        count("ann@example.com", MailKind::Acknowledgement, before).await,
        2
    );
    assert_eq!(
        count(" Ann@Example.com", MailKind::Acknowledgement, before).await,
        2
    );
    assert_eq!(count("ann@example.com", MailKind::Reply, before).await, 1);
    assert_eq!(
        count("bob@example.com", MailKind::Acknowledgement, before).await,
        1
    );
    assert_eq!(
        count("cy@example.com", MailKind::Acknowledgement, before).await,
        0
    );
    let after = later(time::Duration::seconds(1));
    assert_eq!(
        count("ann@example.com", MailKind::Acknowledgement, after).await,
        0
    );
}

async fn suppressed_addresses_keep_their_first_reason(store: &Store) {
    assert!(!store.mail().suppressed("ann@example.com").await.unwrap());
    store
        .mail()
        .suppress("Ann@Example.com", "bounced")
        .await
        .unwrap();
    store
        .mail()
        .suppress("ann@example.com", "unsubscribed")
        .await
        .unwrap();
    store
        .mail()
        .suppress("bob@example.com", "unsubscribed")
        .await
        .unwrap();
    assert!(store.mail().suppressed(" ANN@example.com").await.unwrap());
    let found = store
        .mail()
        .suppressions(&[
            "ANN@example.com".to_owned(),
            "bob@example.com".to_owned(),
            "cy@example.com".to_owned(),
        ])
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found["ann@example.com"], "bounced");
    assert_eq!(found["bob@example.com"], "unsubscribed");
    assert!(store.mail().suppressions(&[]).await.unwrap().is_empty());

    // A reason may replace another; a suppression is lifted only for the reason it has.
    store
        .mail()
        .replace_suppression("BOB@example.com", "bounced")
        .await
        .unwrap();
    store
        .mail()
        .replace_suppression("cy@example.com", "bounced")
        .await
        .unwrap();
    let found = store
        .mail()
        .suppressions(&["bob@example.com".to_owned(), "cy@example.com".to_owned()])
        .await
        .unwrap();
    assert_eq!(found["bob@example.com"], "bounced");
    assert_eq!(found["cy@example.com"], "bounced");
    assert!(
        !store
            .mail()
            .lift_suppression("ann@example.com", "unsubscribed")
            .await
            .unwrap()
    );
    assert!(store.mail().suppressed("ann@example.com").await.unwrap());
    assert!(
        store
            .mail()
            .lift_suppression("Ann@example.com", "bounced")
            .await
            .unwrap()
    );
    assert!(!store.mail().suppressed("ann@example.com").await.unwrap());
}

async fn session(store: &Store, user_id: Uuid, token: &[u8]) -> Uuid {
    let id = Uuid::now_v7();
    let expires_at = later(time::Duration::days(30));
    store
        .sessions()
        .create(NewSession {
            id,
            user_id,
            expires_at,
            token_hash: token.to_vec(),
            token_expires_at: expires_at,
        })
        .await
        .expect("create session");
    id
}

async fn a_password_reset_works_once_and_ends_every_session(store: &Store) {
    let ann = customer(store, "ann@example.com").await;
    let bob = customer(store, "bob@example.com").await;
    let sessions = [
        session(store, ann, b"ann-1").await,
        session(store, ann, b"ann-2").await,
    ];
    let bobs = session(store, bob, b"bob-1").await;
    let before = store.users().credentials(ann).await.unwrap().unwrap();
    let since = Stamp::now();
    let expires = later(time::Duration::minutes(30));

    let link_mail = outbound(None, None, MailKind::PasswordReset);
    store
        .password_resets()
        .create(b"old-token", ann, expires, link_mail.clone())
        .await
        .unwrap();
    let newer_mail = outbound(None, None, MailKind::PasswordReset);
    store
        .password_resets()
        .create(b"new-token", ann, expires, newer_mail.clone())
        .await
        .unwrap();
    assert_eq!(
        store
            .password_resets()
            .recent_for(ann, since)
            .await
            .unwrap(),
        1
    );
    let due = store.mail().due(Stamp::now(), 10).await.unwrap();
    assert_eq!(due.len(), 2, "each link's mail is queued with it");
    // Once sent or given up, a link's mail keeps no copy of the link; a retry keeps it to send.
    let retry_at = Stamp::now();
    assert!(
        store
            .mail()
            .retry_later(newer_mail.id, "451", retry_at)
            .await
            .unwrap()
    );
    let waiting = store.mail().get(newer_mail.id).await.unwrap().unwrap();
    assert_eq!(waiting.mail.text_body, newer_mail.text_body);
    store
        .mail()
        .mark_sent(newer_mail.id, Stamp::now())
        .await
        .unwrap();
    store.mail().mark_failed(link_mail.id, "550").await.unwrap();
    for id in [newer_mail.id, link_mail.id] {
        let done = store.mail().get(id).await.unwrap().unwrap();
        assert_eq!(done.mail.text_body, "");
        assert_eq!(done.mail.html_body, None);
        assert_eq!(done.mail.recipient, newer_mail.recipient);
    }

    let now = Stamp::now();
    let resets = store.password_resets();
    // Only the latest link works, before it expires, once, and for no one else.
    assert_eq!(
        resets.redeem(b"old-token", "$new", now).await.unwrap(),
        None
    );
    assert_eq!(resets.redeem(b"unknown", "$new", now).await.unwrap(), None);
    let after_expiry = later(time::Duration::minutes(31));
    assert_eq!(
        resets
            .redeem(b"new-token", "$new", after_expiry)
            .await
            .unwrap(),
        None
    );
    let unchanged = store.users().credentials(ann).await.unwrap().unwrap();
    assert_eq!(unchanged.password_hash, before.password_hash);
    assert_eq!(unchanged.token_version, before.token_version);
    for id in sessions {
        assert!(
            !store
                .sessions()
                .principal(ann, id)
                .await
                .unwrap()
                .unwrap()
                .session_revoked
        );
    }

    assert_eq!(
        resets.redeem(b"new-token", "$new-hash", now).await.unwrap(),
        Some(ann)
    );
    assert_eq!(
        resets.redeem(b"new-token", "$other", now).await.unwrap(),
        None
    );
    let after = store.users().credentials(ann).await.unwrap().unwrap();
    assert_eq!(after.password_hash.as_deref(), Some("$new-hash"));
    assert_eq!(after.token_version, before.token_version + 1);
    for id in sessions {
        assert!(
            store
                .sessions()
                .principal(ann, id)
                .await
                .unwrap()
                .unwrap()
                .session_revoked
        );
    }
    assert!(
        !store
            .sessions()
            .principal(bob, bobs)
            .await
            .unwrap()
            .unwrap()
            .session_revoked
    );
    let everything = Span {
        after: 0,
        upto: i64::MAX,
    };
    let revocations = store
        .events()
        .revocations_after(everything, 100)
        .await
        .unwrap();
    assert!(
        revocations
            .iter()
            .any(|revocation| revocation.user_id == ann && revocation.session_id.is_none()),
        "every token of the user is revoked at once: {revocations:?}"
    );
}

async fn concurrent_resets_with_one_token_let_exactly_one_through(store: &Store) {
    let ann = customer(store, "ann@example.com").await;
    store
        .password_resets()
        .create(
            b"shared",
            ann,
            later(time::Duration::minutes(30)),
            outbound(None, None, MailKind::PasswordReset),
        )
        .await
        .unwrap();
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .password_resets()
                    .redeem(b"shared", &format!("$hash-{i}"), Stamp::now())
                    .await
            })
        })
        .collect();
    let mut redeemed = Vec::new();
    for (i, attempt) in attempts.into_iter().enumerate() {
        if let Some(user) = attempt.await.unwrap().unwrap() {
            assert_eq!(user, ann);
            redeemed.push(i);
        }
    }
    assert_eq!(redeemed.len(), 1, "{redeemed:?}");
    let hash = store
        .users()
        .credentials(ann)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert_eq!(hash, Some(format!("$hash-{}", redeemed[0])));
}

async fn template_overrides_are_put_read_and_removed(store: &Store) {
    let template = |kind, locale: &str, subject: &str| StoredTemplate {
        kind,
        locale: locale.to_owned(),
        subject: subject.to_owned(),
        text_body: "Hello {{requester.name}}".to_owned(),
        html_body: "<p>Hello {{requester.name}}</p>".to_owned(),
        updated_at: Stamp::now(),
    };
    let templates = store.email_templates();
    assert_eq!(templates.get(MailKind::Reply, "en").await.unwrap(), None);
    let reply_es = template(MailKind::Reply, "es", "Respuesta");
    templates.put(reply_es.clone()).await.unwrap();
    let ack_en = template(MailKind::Acknowledgement, "en", "We got it");
    templates.put(ack_en.clone()).await.unwrap();
    let ack_en = template(MailKind::Acknowledgement, "en", "We received your request");
    templates.put(ack_en.clone()).await.unwrap();
    assert_eq!(
        templates
            .get(MailKind::Acknowledgement, "en")
            .await
            .unwrap(),
        Some(ack_en.clone())
    );
    assert_eq!(
        templates
            .get(MailKind::Acknowledgement, "es")
            .await
            .unwrap(),
        None
    );
    assert_eq!(templates.list().await.unwrap(), [ack_en, reply_es]);
    assert!(
        templates
            .delete(MailKind::Acknowledgement, "en")
            .await
            .unwrap()
    );
    assert!(
        !templates
            .delete(MailKind::Acknowledgement, "en")
            .await
            .unwrap()
    );
    assert_eq!(templates.list().await.unwrap().len(), 1);
}

/// Applies the migrations before 0020 to `pool`, writes messages of each kind there, and
/// runs `Store::migrate` over them.
macro_rules! messages_before_0020 {
    ($pool:expr, $url:expr, $dir:literal) => {{
        let pool = $pool;
        let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/",
            $dir
        )))
        .await
        .expect("read the migrations");
        migrator.migrations = migrator
            .migrations
            .iter()
            .filter(|migration| migration.version < 20)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        migrator.run(&pool).await.expect("migrate to 0019");
        let now = Stamp::now();
        let [system, customer, agent] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        for (id, email, role) in [
            (system, "system@growdesk.local", "admin"),
            (customer, "ann@example.com", "customer"),
            (agent, "agent@example.com", "agent"),
        ] {
            sqlx::query(
                "INSERT INTO users (id, email, name, name_key, role, created_at, updated_at) \
                 VALUES ($1, $2, $2, $2, $3, $4, $4)",
            )
            .bind(id)
            .bind(email)
            .bind(role)
            .bind(now)
            .execute(&pool)
            .await
            .expect("insert a user");
        }
        let mut expected = Vec::new();
        for (number, source, authors) in [
            (1_i64, "widget", [(customer, "widget"), (agent, "web")]),
            (2, "import", [(customer, "import"), (agent, "import")]),
            (3, "web", [(customer, "web"), (system, "system")]),
        ] {
            let ticket = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO tickets (id, number, subject, status, priority, requester_id, source, created_at, updated_at) \
                 VALUES ($1, $2, 'Before email', 'open', 2, $3, $4, $5, $5)",
            )
            .bind(ticket)
            .bind(number)
            .bind(customer)
            .bind(source)
            .bind(now)
            .execute(&pool)
            .await
            .expect("insert a ticket");
            for (author, channel) in authors {
                let message = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO messages (id, ticket_id, author_id, body, internal, created_at) \
                     VALUES ($1, $2, $3, 'Hello', FALSE, $4)",
                )
                .bind(message)
                .bind(ticket)
                .bind(author)
                .bind(now)
                .execute(&pool)
                .await
                .expect("insert a message");
                expected.push((message, channel.parse::<MessageChannel>().unwrap()));
            }
        }
        pool.close().await;
        let store = Store::connect($url, growdesk_store::PoolSettings::default()).expect("connect");
        store.migrate().await.expect("migrate to 0020");
        (store, expected)
    }};
}

/// The messages written before the email channel get the channel they came by: those of
/// imported tickets by import, a widget visitor's own by the widget, GrowDesk's by the system,
/// the rest by the web.
async fn messages_before_the_email_channel_get_the_channel_they_came_by(
    kind: growdesk_store::BackendKind,
) {
    use std::str::FromStr as _;

    let db = growdesk_store::testkit::TestDatabase::create(kind).await;
    let (store, expected) = match kind {
        growdesk_store::BackendKind::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(db.url())
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            messages_before_0020!(pool, db.url(), "sqlite")
        }
        growdesk_store::BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            messages_before_0020!(pool, db.url(), "postgres")
        }
    };
    let ids: Vec<Uuid> = expected.iter().map(|(id, _)| *id).collect();
    let read = store.messages().by_ids(&ids).await.unwrap();
    for (id, channel) in expected {
        let message = read.iter().find(|message| message.id == id).unwrap();
        assert_eq!(message.channel, channel, "{}", message.body);
    }
    store.close().await;
}

mod migrated {
    #[tokio::test]
    async fn sqlite() {
        super::messages_before_the_email_channel_get_the_channel_they_came_by(
            growdesk_store::BackendKind::Sqlite,
        )
        .await;
    }

    #[tokio::test]
    async fn postgres() {
        super::messages_before_the_email_channel_get_the_channel_they_came_by(
            growdesk_store::BackendKind::Postgres,
        )
        .await;
    }
}
