//! The SMTP and IMAP clients against real servers: a throwaway Dovecot (IMAP, LMTP) and the SMTP
//! sink in front of it, each test with its own, on 127.0.0.1. No protocol is mocked.

use std::time::Duration;

use async_imap::types::Flag;
use futures_util::TryStreamExt;
use growdesk_domain::mail::{ImapSettings, SmtpSettings, TransportSecurity};
use growdesk_mail::imap::{IdleOutcome, ImapSession};
use growdesk_mail::inbound::Address;
use growdesk_mail::outbound::{OutgoingAttachment, OutgoingMail, compose};
use growdesk_mail::smtp::SmtpClient;
use growdesk_mail::testkit::{Dovecot, SmtpSink, TestCa};
use growdesk_mail::{ImapError, SendError};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

const SUPPORT: &str = "support@example.test";
const CUSTOMER: &str = "customer@example.test";
/// Generous: a step that takes this long has hung, and a loaded CI machine is slow.
const TIMEOUT: Duration = Duration::from_secs(30);

async fn servers() -> (Dovecot, SmtpSink) {
    let dovecot = Dovecot::start(&[SUPPORT, CUSTOMER]).await.unwrap();
    let sink = SmtpSink::start(&dovecot).await.unwrap();
    (dovecot, sink)
}

fn client(sink: &SmtpSink, dovecot: &Dovecot) -> SmtpClient {
    SmtpClient::new(
        &sink.smtp_settings(SUPPORT),
        Some(dovecot.password(SUPPORT)),
        TIMEOUT,
    )
    .unwrap()
}

async fn session(dovecot: &Dovecot, user: &str) -> ImapSession {
    ImapSession::connect(
        &dovecot.imap_settings(user),
        dovecot.password(user),
        TIMEOUT,
    )
    .await
    .unwrap()
}

fn mail(number: usize) -> Vec<u8> {
    format!(
        "From: Ana <ana@example.test>\r\nTo: {SUPPORT}\r\nSubject: Question {number}\r\n\
         Message-ID: <q{number}@example.test>\r\n\r\nQuestion number {number}.\r\n"
    )
    .into_bytes()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn uids(mails: &[growdesk_mail::imap::FetchedMail]) -> Vec<u32> {
    mails.iter().map(|mail| mail.uid).collect()
}

#[tokio::test]
async fn a_reply_sent_by_smtp_arrives_in_the_customers_inbox_threaded_and_intact() {
    let (dovecot, sink) = servers().await;
    let attachment: Vec<u8> = (0..=255u8).rev().cycle().take(70_000).collect();
    let reply = OutgoingMail {
        from: Address {
            email: SUPPORT.to_owned(),
            name: Some("Acme Support".to_owned()),
        },
        to: Address {
            email: CUSTOMER.to_owned(),
            name: Some("Çustomer".to_owned()),
        },
        subject: "Re: [#7] Ça ne marche pas".to_owned(),
        text_body: "Hello,\n.a line that starts with a dot\n..and two\n.\nBye".to_owned(),
        html_body: Some("<p>Hello</p>".to_owned()),
        message_id: "<reply-1@example.test>".to_owned(),
        in_reply_to: Some("<cust-1@example.test>".to_owned()),
        references: vec![
            "<cust-0@example.test>".to_owned(),
            "<cust-1@example.test>".to_owned(),
        ],
        reply_to: Some("support+t7@example.test".to_owned()),
        unsubscribe_url: None,
        auto_submitted: false,
        attachments: vec![OutgoingAttachment {
            filename: "log.bin".to_owned(),
            content_type: "application/octet-stream".to_owned(),
            bytes: attachment.clone(),
        }],
    };
    let raw = compose(&reply).unwrap();
    client(&sink, &dovecot)
        .send(SUPPORT, CUSTOMER, &raw)
        .await
        .unwrap();

    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].from, SUPPORT);
    assert_eq!(received[0].to, [CUSTOMER]);
    assert_eq!(
        received[0].raw, raw,
        "the sink got other bytes than were sent"
    );

    let mut imap = session(&dovecot, CUSTOMER).await;
    let folder = imap.select().await.unwrap();
    assert_eq!(folder.exists, 1);
    let fetched = imap.fetch_after(0, 10).await.unwrap();
    assert_eq!(fetched.len(), 1);
    // Delivery adds its trace headers (Return-Path, Delivered-To, Received) above the mail.
    assert!(
        fetched[0].raw.ends_with(&raw),
        "the stored mail is not the sent one"
    );
    let stored = MessageParser::default().parse(&fetched[0].raw).unwrap();
    assert_eq!(stored.message_id(), Some("reply-1@example.test"));
    assert_eq!(ids(stored.in_reply_to()), ["cust-1@example.test"]);
    assert_eq!(
        ids(stored.references()),
        ["cust-0@example.test", "cust-1@example.test"]
    );
    assert_eq!(stored.subject(), Some("Re: [#7] Ça ne marche pas"));
    assert!(
        stored
            .body_text(0)
            .unwrap()
            .contains(".a line that starts with a dot\r\n..and two\r\n.\r\nBye")
    );
    let files: Vec<(&str, &[u8])> = stored
        .attachments()
        .map(|part| (part.attachment_name().unwrap_or_default(), part.contents()))
        .collect();
    assert_eq!(files, [("log.bin", attachment.as_slice())]);
    imap.logout().await.unwrap();
}

#[tokio::test]
async fn plus_addressed_mail_reaches_the_mailbox_before_the_plus() {
    let (dovecot, sink) = servers().await;
    client(&sink, &dovecot)
        .send(CUSTOMER, "support+t42@example.test", &mail(1))
        .await
        .unwrap();
    let mut imap = session(&dovecot, SUPPORT).await;
    imap.select().await.unwrap();
    let fetched = imap.fetch_after(0, 10).await.unwrap();
    assert_eq!(fetched.len(), 1);
    assert!(fetched[0].raw.ends_with(&mail(1)));
}

#[tokio::test]
async fn the_folder_is_read_in_bounded_ascending_batches_across_gaps() {
    let dovecot = Dovecot::start(&[SUPPORT]).await.unwrap();
    // More than one MULTIAPPEND batch of the testkit, kept in order.
    let mails: Vec<Vec<u8>> = (1..=1_050).map(mail).collect();
    dovecot.append(SUPPORT, "INBOX", &mails).await.unwrap();

    let mut imap = session(&dovecot, SUPPORT).await;
    let folder = imap.select().await.unwrap();
    assert_eq!(folder.exists, 1_050);
    assert_eq!(folder.uid_next, 1_051);
    assert!(folder.uid_validity > 0);
    assert!(folder.idle);

    let mut seen = Vec::new();
    let mut last = 0;
    loop {
        let batch = imap.fetch_after(last, 100).await.unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 100);
        assert!(batch.windows(2).all(|pair| pair[0].uid < pair[1].uid));
        assert!(batch[0].uid > last);
        for fetched in &batch {
            let number = fetched.uid as usize;
            assert!(fetched.raw.ends_with(&mails[number - 1]), "uid {number}");
        }
        last = batch.last().unwrap().uid;
        seen.extend(uids(&batch));
    }
    assert_eq!(seen, (1..=1_050).collect::<Vec<u32>>());
    // Past the last UID, `n:*` must not bring the last mail back.
    assert!(imap.fetch_after(1_050, 10).await.unwrap().is_empty());
    assert!(imap.fetch_after(u32::MAX, 10).await.unwrap().is_empty());
    assert!(imap.fetch_after(0, 0).await.unwrap().is_empty());

    // Mails moved away leave gaps; a batch still brings `max` mails when there are that many.
    for uid in 3..=7 {
        imap.move_to(uid, "Archive").await.unwrap();
    }
    assert_eq!(uids(&imap.fetch_after(0, 3).await.unwrap()), [1, 2, 8]);
    assert_eq!(uids(&imap.fetch_after(2, 2).await.unwrap()), [8, 9]);
}

async fn flags(dovecot: &Dovecot, user: &str, folder: &str) -> Vec<(u32, bool)> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imap_port))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.unwrap();
    let mut session = client.login(user, dovecot.password(user)).await.unwrap();
    session.examine(folder).await.unwrap();
    let fetches: Vec<_> = session
        .uid_fetch("1:*", "(UID FLAGS)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let mut flags: Vec<(u32, bool)> = fetches
        .iter()
        .map(|fetch| {
            (
                fetch.uid.unwrap(),
                fetch.flags().any(|flag| flag == Flag::Seen),
            )
        })
        .collect();
    flags.sort_unstable();
    session.logout().await.unwrap();
    flags
}

#[tokio::test]
async fn imported_mail_is_marked_seen_or_moved_with_and_without_move_and_uidplus() {
    for basic in [false, true] {
        let dovecot = if basic {
            Dovecot::start_basic(&[SUPPORT]).await.unwrap()
        } else {
            Dovecot::start(&[SUPPORT]).await.unwrap()
        };
        for number in 1..=3 {
            dovecot.deliver(SUPPORT, &mail(number)).await.unwrap();
        }
        let mut imap = session(&dovecot, SUPPORT).await;
        let folder = imap.select().await.unwrap();
        assert_eq!(folder.idle, !basic);
        // Fetching reads with BODY.PEEK: nothing is marked seen until the import says so.
        assert_eq!(imap.fetch_after(0, 10).await.unwrap().len(), 3);
        assert_eq!(
            flags(&dovecot, SUPPORT, "INBOX").await,
            [(1, false), (2, false), (3, false)]
        );
        imap.mark_seen(1).await.unwrap();
        imap.move_to(2, "Archive").await.unwrap();
        assert_eq!(
            flags(&dovecot, SUPPORT, "INBOX").await,
            [(1, true), (3, false)],
            "basic server: {basic}"
        );
        assert_eq!(flags(&dovecot, SUPPORT, "Archive").await.len(), 1);
        let archive = ImapSettings {
            folder: "Archive".to_owned(),
            ..dovecot.imap_settings(SUPPORT)
        };
        let mut archived = ImapSession::connect(&archive, dovecot.password(SUPPORT), TIMEOUT)
            .await
            .unwrap();
        archived.select().await.unwrap();
        let moved = archived.fetch_after(0, 10).await.unwrap();
        assert_eq!(moved.len(), 1);
        assert!(moved[0].raw.ends_with(&mail(2)));
        // The session goes on after the move.
        assert_eq!(uids(&imap.fetch_after(0, 10).await.unwrap()), [1, 3]);
        if basic {
            assert!(matches!(
                imap.idle(Duration::from_millis(10)).await,
                Err(ImapError::Unsupported("IDLE"))
            ));
        }
    }
}

#[tokio::test]
async fn idle_times_out_when_nothing_comes_and_wakes_on_a_delivery() {
    let dovecot = Dovecot::start(&[SUPPORT]).await.unwrap();
    let mut imap = session(&dovecot, SUPPORT).await;
    assert!(imap.select().await.unwrap().idle);

    assert_eq!(
        imap.idle(Duration::from_millis(300)).await.unwrap(),
        IdleOutcome::Timeout
    );
    let first = mail(1);
    let (outcome, delivered) = tokio::join!(
        imap.idle(Duration::from_secs(120)),
        dovecot.deliver(SUPPORT, &first)
    );
    delivered.unwrap();
    assert_eq!(outcome.unwrap(), IdleOutcome::NewMail);
    // The session is usable after IDLE: the new mail is fetched.
    let fetched = imap.fetch_after(0, 10).await.unwrap();
    assert_eq!(uids(&fetched), [1]);
    assert_eq!(imap.select().await.unwrap().exists, 1);
    imap.logout().await.unwrap();
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_and_a_dropped_connection_transient() {
    let (dovecot, sink) = servers().await;
    let smtp = client(&sink, &dovecot);

    sink.reject_recipient("gone@example.test");
    let refused = smtp.send(SUPPORT, "gone@example.test", &mail(1)).await;
    assert!(
        matches!(refused, Err(SendError::Permanent(ref text)) if text.contains("550")),
        "{refused:?}"
    );
    // A user the mail server does not know: refused at delivery, also for good.
    let unknown = smtp.send(SUPPORT, "nobody@example.test", &mail(2)).await;
    assert!(
        matches!(unknown, Err(SendError::Permanent(_))),
        "{unknown:?}"
    );

    sink.drop_during_data(true);
    let dropped = smtp.send(SUPPORT, CUSTOMER, &mail(3)).await;
    assert!(
        matches!(dropped, Err(SendError::Transient(_))),
        "{dropped:?}"
    );
    assert!(sink.received().is_empty());

    sink.drop_during_data(false);
    smtp.send(SUPPORT, CUSTOMER, &mail(4)).await.unwrap();
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].raw, mail(4));
    let mut imap = session(&dovecot, CUSTOMER).await;
    assert_eq!(imap.select().await.unwrap().exists, 1);
}

#[tokio::test]
async fn test_connection_explains_failures_without_the_password() {
    let (dovecot, sink) = servers().await;
    assert_eq!(client(&sink, &dovecot).check().await, Ok(()));
    assert_eq!(
        ImapSession::check(
            &dovecot.imap_settings(SUPPORT),
            dovecot.password(SUPPORT),
            TIMEOUT
        )
        .await,
        Ok(())
    );

    let wrong = "Wr0ng-Pa55word-7731";
    let smtp = SmtpClient::new(&sink.smtp_settings(SUPPORT), Some(wrong), TIMEOUT).unwrap();
    let error = smtp.check().await.unwrap_err();
    assert!(
        error.contains("refused the user name or password"),
        "{error}"
    );
    assert!(!error.contains(wrong), "{error}");
    let error = ImapSession::check(&dovecot.imap_settings(SUPPORT), wrong, TIMEOUT)
        .await
        .unwrap_err();
    assert!(error.contains("refused the login"), "{error}");
    assert!(!error.contains(wrong), "{error}");
    let error = ImapSession::connect(&dovecot.imap_settings(SUPPORT), wrong, TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(error, ImapError::Login { .. }), "{error:?}");
    assert!(!format!("{error:?}").contains(wrong));

    let closed = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = SmtpSettings {
        port,
        ..sink.smtp_settings(SUPPORT)
    };
    let error = SmtpClient::new(&nowhere, Some(wrong), TIMEOUT)
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(error.contains("refused the connection"), "{error}");
    let error = ImapSession::check(
        &ImapSettings {
            port,
            ..dovecot.imap_settings(SUPPORT)
        },
        wrong,
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert!(error.contains("could not connect"), "{error}");
    assert!(!error.contains(wrong), "{error}");
}

/// A server that accepts connections and never says a word.
async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (port, server)
}

#[tokio::test]
async fn tls_that_cannot_happen_and_silent_servers_fail_with_a_reason_instead_of_hanging() {
    let (dovecot, sink) = servers().await;
    let password = dovecot.password(SUPPORT);
    let imap = |security| ImapSettings {
        security,
        ..dovecot.imap_settings(SUPPORT)
    };
    let smtp = |security| SmtpSettings {
        security,
        ..sink.smtp_settings(SUPPORT)
    };

    // Both servers speak plain text only.
    let error = ImapSession::check(&imap(TransportSecurity::Tls), password, TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        error.contains("TLS with the IMAP server 127.0.0.1 failed"),
        "{error}"
    );
    let error = ImapSession::check(&imap(TransportSecurity::StartTls), password, TIMEOUT)
        .await
        .unwrap_err();
    assert!(error.contains("does not support STARTTLS"), "{error}");
    let error = SmtpClient::new(&smtp(TransportSecurity::Tls), Some(password), TIMEOUT)
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(error.contains("TLS with the SMTP server"), "{error}");
    let starttls =
        SmtpClient::new(&smtp(TransportSecurity::StartTls), Some(password), TIMEOUT).unwrap();
    let error = starttls.check().await.unwrap_err();
    assert!(!error.contains(password), "{error}");
    // Never sent in the clear when the server cannot encrypt.
    let refused = starttls.send(SUPPORT, CUSTOMER, &mail(1)).await;
    assert!(
        matches!(refused, Err(SendError::Transient(_))),
        "{refused:?}"
    );
    assert!(sink.received().is_empty());

    let (port, server) = silent_server().await;
    let short = Duration::from_secs(1);
    let silent_imap = ImapSettings {
        port,
        ..dovecot.imap_settings(SUPPORT)
    };
    let error = ImapSession::connect(&silent_imap, password, short)
        .await
        .unwrap_err();
    assert!(matches!(error, ImapError::Timeout { .. }), "{error:?}");
    let silent_smtp = SmtpSettings {
        port,
        ..sink.smtp_settings(SUPPORT)
    };
    let client = SmtpClient::new(&silent_smtp, Some(password), short).unwrap();
    let error = client.check().await.unwrap_err();
    assert!(error.contains("did not answer within"), "{error}");
    let sent = client.send(SUPPORT, CUSTOMER, &mail(2)).await;
    assert!(matches!(sent, Err(SendError::Transient(_))), "{sent:?}");
    server.abort();
}

#[tokio::test]
async fn big_mails_come_in_batches_of_bounded_size() {
    let dovecot = Dovecot::start(&[SUPPORT]).await.unwrap();
    // Nine mails of 9 MiB: more than a batch's 64 MiB, each more than one fetch's 8 MiB.
    let line = format!("{}\r\n", "x".repeat(998));
    let body = line.repeat(9 * 1024 * 1024 / line.len());
    let mails: Vec<Vec<u8>> = (1..=9)
        .map(|number| [mail(number), body.clone().into_bytes()].concat())
        .collect();
    dovecot.append(SUPPORT, "INBOX", &mails).await.unwrap();

    let mut imap = session(&dovecot, SUPPORT).await;
    imap.select().await.unwrap();
    let mut last = 0;
    let mut batches = Vec::new();
    loop {
        let batch = imap.fetch_after(last, 100).await.unwrap();
        let Some(newest) = batch.last() else {
            break;
        };
        last = newest.uid;
        for fetched in &batch {
            assert!(fetched.raw.ends_with(&mails[fetched.uid as usize - 1]));
        }
        batches.push(uids(&batch));
    }
    assert!(batches.len() > 1, "{batches:?}");
    assert_eq!(batches.concat(), (1..=9).collect::<Vec<u32>>());
    assert!(batches.iter().all(|batch| batch.len() <= 8), "{batches:?}");
}

/// The servers over TLS with a certificate of `ca` for `names`, the sink with `smtp` security.
async fn tls_servers(ca: &TestCa, names: &[&str], smtp: TransportSecurity) -> (Dovecot, SmtpSink) {
    let cert = ca.issue(names).unwrap();
    let dovecot = Dovecot::start_tls(&[SUPPORT, CUSTOMER], &cert)
        .await
        .unwrap();
    let sink = SmtpSink::start_tls(&dovecot, smtp, &cert).await.unwrap();
    (dovecot, sink)
}

const ENCRYPTED: [TransportSecurity; 2] = [TransportSecurity::Tls, TransportSecurity::StartTls];

#[tokio::test]
async fn imap_over_implicit_tls_and_starttls_fetches_a_delivered_mail() {
    let ca = TestCa::new().unwrap();
    let dovecot = Dovecot::start_tls(&[SUPPORT], &ca.localhost().unwrap())
        .await
        .unwrap();
    dovecot.deliver(SUPPORT, &mail(1)).await.unwrap();
    for security in ENCRYPTED {
        let settings = dovecot.imap_settings_over(SUPPORT, security);
        let password = dovecot.password(SUPPORT);
        assert_eq!(
            ImapSession::check_trusting(&settings, password, TIMEOUT, &[ca.der()]).await,
            Ok(()),
            "{security:?}"
        );
        let mut imap = ImapSession::connect_trusting(&settings, password, TIMEOUT, &[ca.der()])
            .await
            .unwrap();
        assert_eq!(imap.select().await.unwrap().exists, 1, "{security:?}");
        let fetched = imap.fetch_after(0, 10).await.unwrap();
        assert_eq!(fetched.len(), 1, "{security:?}");
        assert!(fetched[0].raw.ends_with(&mail(1)), "{security:?}");
        imap.logout().await.unwrap();
    }
}

#[tokio::test]
async fn smtp_over_implicit_tls_and_starttls_delivers_into_dovecot() {
    let ca = TestCa::new().unwrap();
    for (number, security) in ENCRYPTED.into_iter().enumerate() {
        let (dovecot, sink) = tls_servers(&ca, &["127.0.0.1", "localhost"], security).await;
        let smtp = SmtpClient::trusting(
            &sink.smtp_settings(SUPPORT),
            Some(dovecot.password(SUPPORT)),
            TIMEOUT,
            &[ca.der()],
        )
        .unwrap();
        assert_eq!(smtp.check().await, Ok(()), "{security:?}");
        smtp.send(SUPPORT, CUSTOMER, &mail(number)).await.unwrap();
        assert_eq!(sink.received().len(), 1, "{security:?}");

        // It is in the customer's inbox, read over TLS too.
        let mut imap = ImapSession::connect_trusting(
            &dovecot.imap_settings_over(CUSTOMER, security),
            dovecot.password(CUSTOMER),
            TIMEOUT,
            &[ca.der()],
        )
        .await
        .unwrap();
        imap.select().await.unwrap();
        let inbox = imap.fetch_after(0, 10).await.unwrap();
        assert_eq!(inbox.len(), 1, "{security:?}");
        assert!(inbox[0].raw.ends_with(&mail(number)), "{security:?}");
    }
}

/// Every client of `dovecot` and `sink` over TLS and STARTTLS, trusting `roots`, is refused with
/// a TLS error that says each of `reasons`, and no mail reaches the sink.
async fn refused_by_every_client(
    dovecot: &Dovecot,
    sink: &SmtpSink,
    roots: &[rustls::pki_types::CertificateDer<'static>],
    reasons: &[&str],
) {
    let explained = |error: &str| reasons.iter().all(|reason| error.contains(reason));
    let password = dovecot.password(SUPPORT);
    for security in ENCRYPTED {
        let settings = dovecot.imap_settings_over(SUPPORT, security);
        let error = ImapSession::check_trusting(&settings, password, TIMEOUT, roots)
            .await
            .unwrap_err();
        assert!(
            error.contains("TLS with the IMAP server 127.0.0.1 failed") && explained(&error),
            "{security:?}: {error}"
        );
        assert!(!error.contains(password), "{error}");
        let error = ImapSession::connect_trusting(&settings, password, TIMEOUT, roots)
            .await
            .unwrap_err();
        assert!(matches!(error, ImapError::Tls { .. }), "{error:?}");
    }
    let smtp =
        SmtpClient::trusting(&sink.smtp_settings(SUPPORT), Some(password), TIMEOUT, roots).unwrap();
    let error = smtp.check().await.unwrap_err();
    assert!(
        error.contains("TLS with the SMTP server") && explained(&error),
        "{error}"
    );
    assert!(!error.contains(password), "{error}");
    match smtp.send(SUPPORT, CUSTOMER, &mail(1)).await {
        Err(SendError::Transient(error)) => assert!(explained(&error), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(sink.received().is_empty(), "nothing is sent");
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused_and_nothing_is_sent() {
    let ca = TestCa::new().unwrap();
    let other = TestCa::new().unwrap();
    for security in ENCRYPTED {
        let (dovecot, sink) = tls_servers(&ca, &["127.0.0.1", "localhost"], security).await;
        // Neither the system's roots alone nor another CA vouch for the server.
        // The administrator is told where trust comes from.
        let reasons = ["UnknownIssuer", "SSL_CERT_FILE"];
        refused_by_every_client(&dovecot, &sink, &[], &reasons).await;
        refused_by_every_client(&dovecot, &sink, &[other.der()], &reasons).await;
    }
}

#[tokio::test]
async fn a_certificate_for_another_host_name_is_refused() {
    let ca = TestCa::new().unwrap();
    for security in ENCRYPTED {
        let (dovecot, sink) = tls_servers(&ca, &["mail.other.test"], security).await;
        refused_by_every_client(&dovecot, &sink, &[ca.der()], &["not valid for name"]).await;
    }
}

/// A server that greets with `greeting`, answers the lines it reads with `replies` in turn
/// (`{tag}` standing for the line's first word, as IMAP answers), then never says a word more:
/// the STARTTLS it accepted never gets its handshake.
async fn stalling_server(
    greeting: &'static str,
    replies: &'static [&'static str],
) -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            let mut stream = BufReader::new(stream);
            let mut answered = stream.write_all(greeting.as_bytes()).await;
            for reply in replies {
                let mut line = String::new();
                answered = answered.and(stream.read_line(&mut line).await.map(drop));
                let tag = line.split_whitespace().next().unwrap_or_default();
                let reply = reply.replace("{tag}", tag);
                answered = answered.and(stream.write_all(reply.as_bytes()).await);
            }
            if answered.is_ok() {
                held.push(stream);
            }
        }
    });
    (port, server)
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_ends_in_a_timeout() {
    let ca = TestCa::new().unwrap();
    let short = Duration::from_secs(1);
    let (silent, silent_server) = silent_server().await;
    let (imap_stalling, imap_server) =
        stalling_server("* OK ready\r\n", &["{tag} OK begin TLS now\r\n"]).await;
    let (smtp_stalling, smtp_server) = stalling_server(
        "220 localhost ESMTP\r\n",
        &[
            "250-localhost\r\n250 STARTTLS\r\n",
            "220 2.0.0 go ahead\r\n",
        ],
    )
    .await;
    let cases = [
        (TransportSecurity::Tls, silent, silent),
        (TransportSecurity::StartTls, imap_stalling, smtp_stalling),
    ];
    for (security, imap_port, smtp_port) in cases {
        let imap = ImapSettings {
            host: "127.0.0.1".to_owned(),
            port: imap_port,
            security,
            username: SUPPORT.to_owned(),
            folder: "INBOX".to_owned(),
            after_import: growdesk_domain::mail::AfterImport::MarkSeen,
        };
        let error = ImapSession::connect_trusting(&imap, "secret", short, &[ca.der()])
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                ImapError::Timeout {
                    step: "the TLS handshake",
                    ..
                }
            ),
            "{security:?}: {error:?}"
        );
        let smtp = SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port: smtp_port,
            security,
            username: SUPPORT.to_owned(),
        };
        let client = SmtpClient::trusting(&smtp, Some("secret"), short, &[ca.der()]).unwrap();
        let error = client.check().await.unwrap_err();
        assert!(
            error.contains("did not answer within"),
            "{security:?}: {error}"
        );
        let sent = client.send(SUPPORT, CUSTOMER, &mail(1)).await;
        assert!(
            matches!(sent, Err(SendError::Transient(_))),
            "{security:?}: {sent:?}"
        );
    }
    for server in [silent_server, imap_server, smtp_server] {
        server.abort();
    }
}
