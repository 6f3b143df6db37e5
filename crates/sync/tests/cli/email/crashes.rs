//! Exactly once: mail is imported once whether the fetcher runs to the end, is killed with
//! SIGKILL at random points over 500 messages, or finds the folder recreated (a new
//! UIDVALIDITY, every UID new); a mailbox read for the first time starts at its first unseen
//! mail.

use std::time::Duration;

use growdesk_domain::mail::AfterImport;
use growdesk_store::BackendKind;
use rand::{Rng as _, SeedableRng as _};

use super::{CUSTOMER, MailDesk, SUPPORT, eventually, mail, on_both_backends};
use crate::support::succeeded;

on_both_backends!(
    mail_becomes_tickets_once_and_is_moved,
    sigkill_at_random_points_loses_and_duplicates_nothing,
    a_recreated_folder_imports_nothing_twice,
    a_move_to_a_missing_folder_does_not_stop_the_mailbox,
    a_first_read_leaves_mail_already_read_alone,
);

/// `count` mails from the customer, each a new conversation with its own Message-ID.
fn seeded(count: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..count)
        .map(|n| {
            mail(
                CUSTOMER,
                SUPPORT,
                &format!("{tag}-{n}@customer.example.test"),
                &format!("Question {tag} {n}"),
                &format!("Hello, this is question {n} of {tag}."),
                &[],
            )
        })
        .collect()
}

const IMPORTED: &str = "SELECT count(*) FROM inbound_mails";
const DISTINCT: &str = "SELECT count(DISTINCT message_id) FROM inbound_mails";
const TICKETS: &str = "SELECT count(*) FROM tickets";
const EMAIL_MESSAGES: &str = "SELECT count(*) FROM messages WHERE channel = 'email'";

async fn mail_becomes_tickets_once_and_is_moved(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::Move("Archive".to_owned())).await;
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(3, "moved"))
        .await
        .unwrap();

    let out = succeeded(&desk.run_once(None));
    assert!(out.contains("fetch_mail: {"), "{out}");
    assert_eq!(desk.count(TICKETS).await, 3, "{out}");
    assert_eq!(desk.count(EMAIL_MESSAGES).await, 3);
    assert!(
        desk.folder(SUPPORT, "INBOX").await.is_empty(),
        "imported mail leaves the inbox"
    );
    assert_eq!(desk.folder(SUPPORT, "Archive").await.len(), 3);

    // Put back into the inbox (as a user who drags them back would): known, not imported again.
    let archived = desk.folder(SUPPORT, "Archive").await;
    desk.dovecot
        .append(SUPPORT, "INBOX", &archived)
        .await
        .unwrap();
    succeeded(&desk.run_once(None));
    assert_eq!(desk.count(TICKETS).await, 3);
    assert_eq!(desk.count(IMPORTED).await, 3);
}

async fn sigkill_at_random_points_loses_and_duplicates_nothing(kind: BackendKind) {
    const MAILS: i64 = 500;
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(500, "bulk"))
        .await
        .unwrap();

    // Each round kills the process once it has imported a seeded random number of mails more
    // (so in the middle of a batch of 50 as often as not), whatever the machine's speed.
    let mut rng = rand::rngs::StdRng::seed_from_u64(18);
    let mut kills = 0;
    loop {
        let before = desk.count(IMPORTED).await;
        let threshold = before + rng.random_range(1..=80);
        if threshold >= MAILS {
            break;
        }
        let run = desk.run();
        eventually("the restarted fetcher to reach its kill point", || async {
            (desk.count(IMPORTED).await >= threshold).then_some(())
        })
        .await;
        run.kill();
        kills += 1;
    }
    assert!(kills >= 5, "killed {kills} times while importing");

    let run = desk.run();
    // The cursor moves past a mail once it is imported and marked.
    eventually("every mail to be imported and marked", || async {
        let cursor = desk
            .store
            .mailboxes()
            .cursor(desk.mailbox.id)
            .await
            .unwrap();
        cursor.filter(|cursor| cursor.last_uid == 500).map(drop)
    })
    .await;
    drop(run);
    assert_eq!(
        desk.count(DISTINCT).await,
        MAILS,
        "one record per Message-ID"
    );
    assert_eq!(desk.count(TICKETS).await, MAILS, "one ticket per mail");
    assert_eq!(
        desk.count(EMAIL_MESSAGES).await,
        MAILS,
        "one message per mail"
    );
    assert_eq!(
        desk.count("SELECT count(DISTINCT subject) FROM tickets")
            .await,
        MAILS,
        "none lost, none twice"
    );
    // And each was marked seen, the step a kill could have cut off (Maildir keeps a mail's
    // flags in its file name: `…:2,S`).
    let cur = desk.dovecot.maildir(SUPPORT).join("cur");
    let seen = std::fs::read_dir(cur)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy()
                .rsplit_once(":2,")
                .is_some_and(|(_, flags)| flags.contains('S'))
        })
        .count();
    assert_eq!(seen, 500, "every mail is marked seen");
}

async fn a_recreated_folder_imports_nothing_twice(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(4, "before"))
        .await
        .unwrap();
    succeeded(&desk.run_once(None));
    assert_eq!(desk.count(TICKETS).await, 4);
    let first = desk
        .store
        .mailboxes()
        .cursor(desk.mailbox.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.last_uid, 4);

    // Dovecot gives the folder a new UIDVALIDITY, and each mail a new UID, when its UID list
    // is gone: as after the folder was recreated or restored from a backup.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let maildir = desk.dovecot.maildir(SUPPORT);
    for entry in std::fs::read_dir(&maildir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("dovecot") {
            std::fs::remove_file(&path).unwrap();
        }
    }
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(2, "after"))
        .await
        .unwrap();
    succeeded(&desk.run_once(None));

    let second = desk
        .store
        .mailboxes()
        .cursor(desk.mailbox.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.uid_validity, first.uid_validity, "the folder is new");
    assert_eq!(second.last_uid, 6, "every mail was read again");
    assert_eq!(
        desk.count(TICKETS).await,
        6,
        "only the two new mails are new tickets"
    );
    assert_eq!(desk.count(IMPORTED).await, 6);
}

async fn a_move_to_a_missing_folder_does_not_stop_the_mailbox(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::Move("Nowhere".to_owned())).await;
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(3, "stuck"))
        .await
        .unwrap();
    let out = succeeded(&desk.run_once(None));
    assert_eq!(desk.count(TICKETS).await, 3, "{out}");
    let skipped = super::outcome(&out, "fetch_mail")["skipped"].clone();
    assert_eq!(skipped.as_array().map(Vec::len), Some(3), "{out}");
    let cursor = desk
        .store
        .mailboxes()
        .cursor(desk.mailbox.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cursor.last_uid, 3, "the mailbox went on past them");
}

async fn a_first_read_leaves_mail_already_read_alone(kind: BackendKind) {
    let desk = MailDesk::start(kind, true, AfterImport::MarkSeen).await;
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(3, "read-before"))
        .await
        .unwrap();
    // Someone read those three in their mail client before the mailbox was given to GrowDesk.
    let mut session = growdesk_mail::imap::ImapSession::connect(
        &desk.dovecot.imap_settings(SUPPORT),
        desk.dovecot.password(SUPPORT),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    session.select().await.unwrap();
    for read in session.fetch_after(0, 10).await.unwrap() {
        session.mark_seen(read.uid).await.unwrap();
    }
    session.logout().await.unwrap();
    desk.dovecot
        .append(SUPPORT, "INBOX", &seeded(2, "unread"))
        .await
        .unwrap();

    succeeded(&desk.run_once(None));
    assert_eq!(
        desk.count(TICKETS).await,
        2,
        "only the unread mail opens tickets"
    );
    assert_eq!(desk.count(IMPORTED).await, 2);
    assert_eq!(
        desk.count("SELECT count(*) FROM outbound_mails WHERE kind = 'acknowledgement'")
            .await,
        2,
        "nobody who wrote before is acknowledged now"
    );
    let cursor = desk
        .store
        .mailboxes()
        .cursor(desk.mailbox.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cursor.last_uid, 5);
}
