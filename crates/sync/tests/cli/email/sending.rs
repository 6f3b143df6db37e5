//! `send_mail` against a real SMTP server: a 5xx fails the mail without a retry, a dropped
//! connection is retried later and then sent, our own addresses are never mailed, and a bounce
//! delivered to support@ marks the mail it names.

use growdesk_domain::mail::{AfterImport, DeliveryStatus, MailKind};
use growdesk_store::BackendKind;
use growdesk_store::mail::{NewOutboundMail, OutboundMail};
use uuid::Uuid;

use super::{CUSTOMER, MailDesk, SUPPORT, header, on_both_backends, outcome};
use crate::support::succeeded;

on_both_backends!(
    a_permanent_refusal_fails_without_retry,
    a_transient_failure_is_retried_then_sent,
    our_own_address_is_never_mailed,
    a_bounce_marks_the_mail_it_names,
    mail_is_signed_with_the_dkim_key_as_its_mailbox_domain,
);

/// Queues a password-reset-like mail (one without a ticket) to `recipient`; its id.
async fn queue(desk: &MailDesk, recipient: &str) -> Uuid {
    let id = Uuid::now_v7();
    desk.store
        .mail()
        .enqueue(vec![NewOutboundMail {
            id,
            mailbox_id: Some(desk.mailbox.id),
            ticket_id: None,
            message_id: None,
            kind: MailKind::PasswordReset,
            recipient: recipient.to_owned(),
            subject: "Set a new password".to_owned(),
            text_body: "Follow the link to set a new password.".to_owned(),
            html_body: None,
            header_message_id: format!("<{id}@example.test>"),
            in_reply_to: None,
            references: Vec::new(),
            reply_to: None,
            unsubscribe_url: None,
            attachment_ids: Vec::new(),
        }])
        .await
        .unwrap();
    id
}

async fn outbound(desk: &MailDesk, id: Uuid) -> OutboundMail {
    desk.store.mail().get(id).await.unwrap().unwrap()
}

fn later(minutes: i64) -> Option<time::OffsetDateTime> {
    Some(time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
}

async fn a_permanent_refusal_fails_without_retry(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    desk.sink.reject_recipient(CUSTOMER);
    let id = queue(&desk, CUSTOMER).await;

    let out = succeeded(&desk.run_once(None));
    assert_eq!(
        outcome(&out, "send_mail"),
        serde_json::json!({"sent": 0, "retrying": 0, "failed": 1})
    );
    let failed = outbound(&desk, id).await;
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.attempts, 1);
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550"),
        "{failed:?}"
    );

    // A day on, nothing is tried again.
    succeeded(&desk.run_once(later(26 * 60)));
    assert_eq!(outbound(&desk, id).await.attempts, 1, "never retried");
    assert!(desk.sink.received().is_empty());
}

async fn a_transient_failure_is_retried_then_sent(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    desk.sink.drop_during_data(true);
    let id = queue(&desk, CUSTOMER).await;

    succeeded(&desk.run_once(None));
    let waiting = outbound(&desk, id).await;
    assert_eq!(waiting.status, DeliveryStatus::Queued, "{waiting:?}");
    assert_eq!(waiting.attempts, 1);
    assert!(waiting.last_error.is_some());
    assert!(
        waiting.next_attempt_at > waiting.created_at,
        "the retry waits: {waiting:?}"
    );

    // Not yet due: the next pass leaves it.
    succeeded(&desk.run_once(None));
    assert_eq!(
        outbound(&desk, id).await.attempts,
        1,
        "not retried before it is due"
    );

    desk.sink.drop_during_data(false);
    let out = succeeded(&desk.run_once(later(5)));
    assert_eq!(outcome(&out, "send_mail")["sent"], 1, "{out}");
    let sent = outbound(&desk, id).await;
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(sent.attempts, 2);
    assert!(sent.sent_at.is_some());

    let inbox = desk.folder(CUSTOMER, "INBOX").await;
    assert_eq!(inbox.len(), 1, "delivered once");
    assert_eq!(
        header(&inbox[0], "Message-ID").as_deref(),
        Some(format!("<{id}@example.test>").as_str())
    );
    assert_eq!(
        header(&inbox[0], "Auto-Submitted").as_deref(),
        Some("auto-replied"),
        "a reset link is an automatic mail"
    );
}

async fn our_own_address_is_never_mailed(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    let (local, domain) = SUPPORT.split_once('@').unwrap();
    // Every form that reaches our mailbox: another case, a plus tag, fullwidth look-alikes.
    let fullwidth: String = local
        .chars()
        .map(|c| char::from_u32(u32::from(c) - u32::from('a') + 0xFF41).unwrap())
        .collect();
    let mut ids = Vec::new();
    for recipient in [
        SUPPORT.to_uppercase(),
        format!("{}+x@{}", local.to_uppercase(), domain),
        format!("{fullwidth}@{domain}"),
        format!("{local}\u{FF0B}t7@{domain}"),
    ] {
        ids.push(queue(&desk, &recipient).await);
    }
    succeeded(&desk.run_once(None));
    for id in ids {
        let refused = outbound(&desk, id).await;
        assert_eq!(refused.status, DeliveryStatus::Failed, "{refused:?}");
    }
    assert!(
        desk.sink.received().is_empty(),
        "nothing reached the server"
    );
}

async fn a_bounce_marks_the_mail_it_names(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    let id = queue(&desk, CUSTOMER).await;
    succeeded(&desk.run_once(None));
    assert_eq!(outbound(&desk, id).await.status, DeliveryStatus::Sent);

    // The recipient's server accepted it, then found the mailbox closed: its DSN comes to
    // support@.
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@customer.example.test>\r\n\
         To: {SUPPORT}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <dsn-{id}@customer.example.test>\r\n\
         Date: Wed, 02 Dec 2026 12:00:00 +0000\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\
         \r\n\
         --b\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         Your message could not be delivered: the mailbox does not exist.\r\n\
         --b\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; mx.customer.example.test\r\n\
         \r\n\
         Final-Recipient: rfc822; {CUSTOMER}\r\n\
         Action: failed\r\n\
         Status: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\
         --b\r\n\
         Content-Type: text/rfc822-headers\r\n\
         \r\n\
         From: Example Support <{SUPPORT}>\r\n\
         To: {CUSTOMER}\r\n\
         Message-ID: <{id}@example.test>\r\n\
         Subject: Set a new password\r\n\
         --b--\r\n"
    );
    desk.dovecot.deliver(SUPPORT, dsn.as_bytes()).await.unwrap();
    succeeded(&desk.run_once(None));

    let bounced = outbound(&desk, id).await;
    assert_eq!(bounced.status, DeliveryStatus::Bounced, "{bounced:?}");
    assert_eq!(
        desk.count("SELECT count(*) FROM tickets").await,
        0,
        "a bounce opens nothing"
    );
    assert_eq!(
        desk.sink.received().len(),
        1,
        "the bounce is never answered"
    );
}

/// An Ed25519 private key in PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes.
fn ed25519_pem(seed: [u8; 32]) -> String {
    use base64::Engine as _;
    // The DER prefix of a PKCS#8 Ed25519 key (RFC 8410); the 32-byte seed follows.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

async fn mail_is_signed_with_the_dkim_key_as_its_mailbox_domain(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    let key = desk.data_dir().join("dkim.pem");
    std::fs::write(&key, ed25519_pem([7; 32])).unwrap();
    let broken = desk.data_dir().join("broken.pem");
    std::fs::write(&broken, "-----BEGIN PRIVATE KEY-----\nnot a key\n").unwrap();
    queue(&desk, CUSTOMER).await;

    let refused = desk.run_once_with(
        None,
        &[
            "--dkim-key",
            broken.to_str().unwrap(),
            "--dkim-selector",
            "mail2026",
        ],
    );
    assert!(!refused.status.success(), "an unusable key stops the start");
    assert!(desk.sink.received().is_empty());

    let out = desk.run_once_with(
        None,
        &[
            "--dkim-key",
            key.to_str().unwrap(),
            "--dkim-selector",
            "mail2026",
        ],
    );
    assert_eq!(outcome(&succeeded(&out), "send_mail")["sent"], 1);
    let inbox = desk.folder(CUSTOMER, "INBOX").await;
    let signature: String = header(&inbox[0], "DKIM-Signature")
        .expect("a DKIM signature")
        .split_whitespace()
        .collect();
    for tag in ["a=ed25519-sha256;", "d=example.test;", "s=mail2026;"] {
        assert!(signature.contains(tag), "{tag} missing in {signature}");
    }
}
