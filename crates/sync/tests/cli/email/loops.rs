//! Two autoresponders cannot loop: an autoresponder that answers every mail it gets (half of
//! its answers marked `Auto-Submitted`, half not marked at all) writes to support@, which
//! acknowledges new tickets; the exchange stops by itself, with at most the acknowledgement cap
//! sent, every mail we sent marked automatic, and no answer to an answer.

use std::time::Duration;

use growdesk_domain::mail::AfterImport;
use growdesk_mail::imap::ImapSession;
use growdesk_store::BackendKind;

use super::{MailDesk, ROBOT, SUPPORT, eventually, header, mail, on_both_backends};

on_both_backends!(an_autoresponder_loop_stops);

/// Acknowledgements one address gets in an hour (the outbound rules' cap).
const ACK_CAP: usize = 3;
/// Conversations the autoresponder opens.
const OPENED: usize = 5;

/// Answers every mail in the robot's INBOX, for ever: to its Reply-To (else its From), with
/// `In-Reply-To` and `References`, every other answer marked `Auto-Submitted`.
async fn autoresponder(desk: &MailDesk) {
    let settings = desk.dovecot.imap_settings(ROBOT);
    let mut session = ImapSession::connect(
        &settings,
        desk.dovecot.password(ROBOT),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let mut last = 0;
    let mut answered = 0_usize;
    loop {
        session.select().await.unwrap();
        for got in session.fetch_after(last, 50).await.unwrap() {
            last = got.uid;
            let to = header(&got.raw, "Reply-To")
                .or_else(|| header(&got.raw, "From"))
                .unwrap();
            let to = to
                .rsplit_once('<')
                .map_or(to.as_str(), |(_, address)| address.trim_end_matches('>'))
                .to_owned();
            let id = header(&got.raw, "Message-ID").unwrap();
            let subject = header(&got.raw, "Subject").unwrap_or_default();
            let mut headers = vec![format!("In-Reply-To: {id}"), format!("References: {id}")];
            if answered.is_multiple_of(2) {
                headers.push("Auto-Submitted: auto-replied".to_owned());
            }
            answered += 1;
            let answer = mail(
                ROBOT,
                &to,
                &format!("answer-{answered}@robot.example.test"),
                &format!("Re: {subject}"),
                "Thank you for your mail. I am away and will answer it on my return.",
                &headers,
            );
            desk.dovecot.deliver(&to, &answer).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn an_autoresponder_loop_stops(kind: BackendKind) {
    let desk = MailDesk::start(kind, true, AfterImport::MarkSeen).await;
    let run = desk.run();
    for n in 0..OPENED {
        let opening = mail(
            ROBOT,
            SUPPORT,
            &format!("open-{n}@robot.example.test"),
            &format!("Order {n}"),
            "Please confirm my order.",
            &[],
        );
        desk.dovecot.deliver(SUPPORT, &opening).await.unwrap();
    }

    let watch = async {
        // Every opening is a ticket, and the acknowledgements that went out were answered.
        eventually(
            "the openings to be tickets and the acknowledgements answered",
            || async {
                let tickets = desk.count("SELECT count(*) FROM tickets").await;
                let sent = desk.sink.received().len();
                let imported = desk.count("SELECT count(*) FROM inbound_mails").await;
                (tickets == OPENED as i64 && sent > 0 && imported == (OPENED + sent) as i64)
                    .then_some(())
            },
        )
        .await;
        // Then a quiet spell with everything still running: nothing more is exchanged.
        let before = (
            desk.sink.received().len(),
            desk.count("SELECT count(*) FROM inbound_mails").await,
        );
        tokio::time::sleep(Duration::from_secs(8)).await;
        let after = (
            desk.sink.received().len(),
            desk.count("SELECT count(*) FROM inbound_mails").await,
        );
        assert_eq!(before, after, "the exchange stopped");
    };
    tokio::select! {
        () = autoresponder(&desk) => unreachable!("the autoresponder answers for ever"),
        () = watch => {}
    }
    drop(run);

    let sent = desk.sink.received();
    assert!(
        sent.len() <= ACK_CAP,
        "at most the acknowledgement cap: {}",
        sent.len()
    );
    for mail in &sent {
        assert_eq!(mail.to, vec![ROBOT.to_owned()]);
        assert_eq!(
            header(&mail.raw, "Auto-Submitted").as_deref(),
            Some("auto-replied"),
            "acknowledgements are marked automatic, so that autoresponders keep quiet"
        );
    }
    assert_eq!(
        desk.count("SELECT count(*) FROM tickets").await,
        OPENED as i64,
        "answers join their tickets and open none"
    );
    assert_eq!(
        desk.count("SELECT count(*) FROM outbound_mails").await,
        sent.len() as i64,
        "nothing else is queued: no answer to an answer"
    );
}
