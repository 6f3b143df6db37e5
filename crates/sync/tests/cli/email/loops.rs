//! Two autoresponders cannot loop: an autoresponder that answers every mail it gets (half of
//! its answers marked `Auto-Submitted`, half not marked at all) writes to support@, which
//! acknowledges new tickets; the exchange stops by itself — a round of `run --once` and the
//! autoresponder's pass comes where nothing is fetched, sent or answered — with at most the
//! acknowledgement cap sent, every mail we sent marked automatic, and no answer to an answer.

use std::time::Duration;

use growdesk_domain::mail::AfterImport;
use growdesk_mail::imap::ImapSession;
use growdesk_store::BackendKind;

use super::{MailDesk, ROBOT, SUPPORT, header, mail, on_both_backends, outcome};
use crate::support::succeeded;

on_both_backends!(an_autoresponder_loop_stops);

/// Acknowledgements one address gets in an hour (the outbound rules' cap).
const ACK_CAP: usize = 3;
/// Conversations the autoresponder opens.
const OPENED: usize = 5;
/// Rounds the exchange may take to stop: each one that is not the last has something fetched,
/// sent or answered, and the acknowledgement cap bounds those well below this.
const MAX_ROUNDS: usize = 12;

/// An autoresponder that answers every mail in the robot's INBOX: to its Reply-To (else its
/// From), with `In-Reply-To` and `References`, every other answer marked `Auto-Submitted`.
struct Autoresponder {
    session: ImapSession,
    /// The last UID answered.
    last: u32,
    answered: usize,
}

impl Autoresponder {
    async fn connect(desk: &MailDesk) -> Self {
        let settings = desk.dovecot.imap_settings(ROBOT);
        let session = ImapSession::connect(
            &settings,
            desk.dovecot.password(ROBOT),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        Self {
            session,
            last: 0,
            answered: 0,
        }
    }

    /// Answers the mails that came since the last pass; how many.
    async fn answer_new(&mut self, desk: &MailDesk) -> usize {
        self.session.select().await.unwrap();
        let got = self.session.fetch_after(self.last, 50).await.unwrap();
        for got in &got {
            self.last = got.uid;
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
            if self.answered.is_multiple_of(2) {
                headers.push("Auto-Submitted: auto-replied".to_owned());
            }
            self.answered += 1;
            let answer = mail(
                ROBOT,
                &to,
                &format!("answer-{}@robot.example.test", self.answered),
                &format!("Re: {subject}"),
                "Thank you for your mail. I am away and will answer it on my return.",
                &headers,
            );
            desk.dovecot.deliver(&to, &answer).await.unwrap();
        }
        got.len()
    }
}

async fn an_autoresponder_loop_stops(kind: BackendKind) {
    let desk = MailDesk::start(kind, true, AfterImport::MarkSeen).await;
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

    // Rounds of: the desk fetches and sends (`run --once`; the sink has delivered what it
    // accepted before it answers), then the robot answers what reached it. The exchange has
    // stopped at the first round in which nothing is fetched, sent or answered.
    let mut robot = Autoresponder::connect(&desk).await;
    let mut rounds = Vec::new();
    let stopped = loop {
        let out = succeeded(&desk.run_once(None));
        let imported = outcome(&out, "fetch_mail")["imported"].as_u64().unwrap();
        let sent = outcome(&out, "send_mail")["sent"].as_u64().unwrap();
        let answered = robot.answer_new(&desk).await;
        rounds.push((imported, sent, answered));
        if (imported, sent, answered) == (0, 0, 0) {
            break true;
        }
        if rounds.len() == MAX_ROUNDS {
            break false;
        }
    };
    assert!(
        stopped,
        "the exchange goes on (imported, sent, answered): {rounds:?}"
    );
    assert!(
        rounds.iter().any(|&(_, sent, _)| sent > 0),
        "the openings were acknowledged: {rounds:?}"
    );
    assert_eq!(
        desk.count("SELECT count(*) FROM inbound_mails").await,
        (OPENED + robot.answered) as i64,
        "every mail the robot wrote was taken in"
    );

    let sent = desk.sink.received();
    assert_eq!(
        robot.answered,
        sent.len(),
        "each of our mails answered once"
    );
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
