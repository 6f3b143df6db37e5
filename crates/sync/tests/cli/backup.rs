//! `export` is a backup: an installation with widgets, visitors, webhooks, attachments and
//! the email channel (mailboxes with their passwords and cursors, mail taken in and sent,
//! templates, suppressed addresses) goes SQLite → PostgreSQL → SQLite through `export` and
//! `import json` and comes back the same, files included, a mail queued at the backup still
//! queued and a password reset not carried; the export's secrets are owner-only; a restore refuses a database that
//! holds records of its own unless told to merge, and refuses an attachment whose file was
//! altered.

mod installation;

use std::path::PathBuf;
use std::process::Output;

use growdesk_domain::mail::MailKind;
use growdesk_domain::{
    Email, MessageBody, MessageChannel, Priority, Role, Subject, Tags, TicketSource, WidgetSettings,
};
use growdesk_store::{
    BackendKind, Stamp,
    categories::CategoryFields,
    mailboxes::{MailboxFields, NewMailbox},
    tickets::NewTicket,
    users::NewUser,
    widgets::WidgetFields,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{mode, succeeded, text};
use installation::{
    ATTACHMENT, Installation, assert_same, carry, content, outcome_counts, seeded_sqlite,
};

#[tokio::test]
async fn a_backup_goes_sqlite_to_postgres_to_sqlite_intact() {
    let original = seeded_sqlite().await;
    let expected = content(&original).await;
    assert_eq!(expected["widgets"].as_array().unwrap().len(), 1);
    let exports = tempfile::tempdir().unwrap();
    let first: PathBuf = exports.path().join("first");
    let second: PathBuf = exports.path().join("second");

    let postgres = Installation::new(BackendKind::Postgres).await;
    carry(&original, &postgres, &first);
    assert_same(
        &content(&postgres).await,
        &expected,
        "restored on PostgreSQL",
    );
    let back = Installation::new(BackendKind::Sqlite).await;
    carry(&postgres, &back, &second);
    assert_same(&content(&back).await, &expected, "and back on SQLite");

    let export_file = first.join("growdesk-export.jsonl");
    assert_eq!(mode(&export_file), 0o600, "the export holds secrets");
    let copied = first.join("attachments");
    assert_eq!(mode(&copied), 0o700);
    let stored: Vec<PathBuf> = std::fs::read_dir(&copied)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(std::fs::read(&stored[0]).unwrap(), ATTACHMENT);
    assert_eq!(mode(&stored[0]), 0o600);

    let queued = |store: growdesk_store::Store| async move {
        let due = store.mail().due(Stamp::now(), 10).await.unwrap();
        store.close().await;
        due.into_iter()
            .map(|mail| mail.mail.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        queued(original.store().await).await,
        [MailKind::Resolved, MailKind::PasswordReset]
    );
    assert_eq!(
        queued(back.store().await).await,
        [MailKind::Resolved],
        "the restored desk sends the queued mail, and no password reset, whose token is not carried"
    );

    let restored = postgres.store().await;
    let webhook = restored.webhooks().list().await.unwrap()[0].id;
    assert!(
        restored
            .webhooks()
            .deliveries(webhook, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "restoring old events sends nothing"
    );
    let last_restored = expected["events"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let requester = restored.users().export(None, 10).await.unwrap()[0].user.id;
    let next = Uuid::now_v7();
    restored
        .tickets()
        .create(
            NewTicket {
                id: next,
                subject: Subject::parse("After the restore").unwrap(),
                priority: Priority::Low,
                category_id: None,
                requester_id: requester,
                source: TicketSource::Web,
                tags: Tags::default(),
                actor_id: requester,
                description: MessageBody::parse("d").unwrap(),
                extra_events: Vec::new(),
                visitor_id: None,
                context: None,
                channel: MessageChannel::Web,
                mailbox_id: None,
                attachments: Vec::new(),
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            },
            None,
        )
        .await
        .unwrap();
    let logged = restored
        .events()
        .of_ticket(next, true, None, 10)
        .await
        .unwrap();
    assert!(
        logged[0].id > last_restored,
        "the log continues after the restored ids"
    );
    assert_eq!(
        restored.tickets().get(next).await.unwrap().unwrap().number,
        4,
        "numbers continue after the three restored tickets'"
    );
    restored.close().await;

    let again = back.sync(&["import", "json", text(&second)]);
    assert!(
        succeeded(&again).contains("0 created, 0 updated"),
        "re-running a restore changes nothing"
    );
    assert_same(&content(&back).await, &expected, "after a second run");
}

#[tokio::test]
async fn a_restore_refuses_a_database_with_records_of_its_own_unless_merging() {
    let original = seeded_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    succeeded(&original.sync(&["export", text(dir.path())]));

    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let target = Installation::new(kind).await;
        let store = target.store().await;
        store
            .users()
            .create(NewUser {
                email: "own@example.com".into(),
                name: "Own".into(),
                role: Role::Admin,
                password_hash: None,
            })
            .await
            .unwrap();
        for dry_run in [true, false] {
            let mut args = vec!["import", "json", text(dir.path())];
            if dry_run {
                args.push("--dry-run");
            }
            let refused = target.sync(&args);
            assert_eq!(refused.status.code(), Some(2), "{kind:?}");
            let stderr = String::from_utf8_lossy(&refused.stderr);
            assert!(stderr.contains("--merge"), "{stderr}");
        }
        assert_eq!(
            store.widgets().list().await.unwrap().len(),
            0,
            "nothing written"
        );
        succeeded(&target.sync(&["import", "json", text(dir.path()), "--merge"]));
        assert_eq!(store.widgets().list().await.unwrap().len(), 1);
        store.close().await;
    }
}

#[tokio::test]
async fn an_altered_attachment_refuses_its_ticket_in_a_dry_run_and_a_run() {
    let original = seeded_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    succeeded(&original.sync(&["export", text(dir.path())]));
    let copied = std::fs::read_dir(dir.path().join("attachments"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&copied, b"%PDF-1.4 a forged receipt\n").unwrap();

    let target = Installation::new(BackendKind::Sqlite).await;
    let report = |name: &str, output: &Output| -> Value {
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    let dry = target.sync(&[
        "import",
        "json",
        text(dir.path()),
        "--dry-run",
        "--report",
        text(&dir.path().join("dry.json")),
    ]);
    let dry = report("dry.json", &dry);
    let run = target.sync(&[
        "import",
        "json",
        text(dir.path()),
        "--report",
        text(&dir.path().join("run.json")),
    ]);
    let run = report("run.json", &run);
    assert_eq!(
        dry["refused"], run["refused"],
        "the dry run predicts the run"
    );
    let refused = run["refused"].as_array().unwrap();
    let reasons: Vec<&str> = refused
        .iter()
        .map(|refusal| refusal["reason"].as_str().unwrap())
        .collect();
    // The ticket is refused, and with it the agent's read mark on it, which names it.
    assert_eq!(reasons.len(), 2, "{refused:?}");
    assert!(
        reasons[0].contains("does not match its size and SHA-256"),
        "{refused:?}"
    );
    assert!(
        reasons[1].contains("refers to ticket") && reasons[1].contains("did not hold before it"),
        "{refused:?}"
    );
    assert!(
        target
            .files()
            .locate(&copied.file_name().unwrap().to_string_lossy())
            .is_none(),
        "the altered file was not stored"
    );
}

#[tokio::test]
async fn a_dry_run_of_a_restore_predicts_the_restore_and_its_rerun() {
    let original = seeded_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    succeeded(&original.sync(&["export", text(dir.path())]));
    let records = std::fs::read_to_string(dir.path().join("growdesk-export.jsonl"))
        .unwrap()
        .lines()
        .count()
        - 1;
    let attachment = std::fs::read_dir(dir.path().join("attachments"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();

    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let target = Installation::new(kind).await;
        let predicted = outcome_counts(&target, dir.path(), "dry.json", &["--dry-run"]);
        let store = target.store().await;
        assert!(
            store.widgets().list().await.unwrap().is_empty(),
            "{kind:?}: a dry run writes nothing"
        );
        store.close().await;
        assert!(
            target.files().locate(&attachment).is_none(),
            "{kind:?}: a dry run stores no file"
        );
        let first = outcome_counts(&target, dir.path(), "first.json", &[]);
        assert_eq!(
            predicted, first,
            "{kind:?}: the dry run predicts the restore"
        );
        assert_eq!(
            first["created"],
            json!(records),
            "{kind:?}: every record of the backup is created"
        );

        let predicted = outcome_counts(&target, dir.path(), "dry-again.json", &["--dry-run"]);
        let again = outcome_counts(&target, dir.path(), "again.json", &[]);
        assert_eq!(
            predicted, again,
            "{kind:?}: the dry run predicts the re-run"
        );
        assert_eq!(
            again,
            json!({"created": 0, "updated": 0, "unchanged": records, "refused": []}),
            "{kind:?}: a re-run leaves every record as it is"
        );
        assert!(
            target.files().locate(&attachment).is_some(),
            "{kind:?}: the restore stored the attachment's file"
        );
    }
}

#[tokio::test]
async fn a_dry_run_of_a_merge_predicts_its_matches_and_refusals() {
    let original = seeded_sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    succeeded(&original.sync(&["export", text(dir.path())]));

    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let target = Installation::new(kind).await;
        let store = target.store().await;
        store
            .users()
            .create(NewUser {
                email: "CY@example.com".into(),
                name: "Cy of this instance".into(),
                role: Role::Customer,
                password_hash: None,
            })
            .await
            .unwrap();
        store
            .categories()
            .create(CategoryFields {
                name: "billing".into(),
                description: String::new(),
                color: "#00ff00".into(),
                active: true,
                position: 0,
            })
            .await
            .unwrap();
        store
            .widgets()
            .create(
                "wk_backup_key",
                &WidgetFields {
                    name: "Another shop".into(),
                    allowed_origins: Vec::new(),
                    settings: WidgetSettings::default(),
                    identity_secret: None,
                    enforce_identity: false,
                    active: true,
                    default_category_id: None,
                    default_priority: Priority::Low,
                },
            )
            .await
            .unwrap();
        store
            .mailboxes()
            .create(NewMailbox {
                id: Uuid::now_v7(),
                fields: MailboxFields {
                    address: Email::parse("Support@example.com").unwrap(),
                    display_name: "Our own support".into(),
                    imap: None,
                    smtp: None,
                    default_category_id: None,
                    default_priority: Priority::Low,
                    acknowledge: false,
                    active: true,
                },
                imap_password: None,
                smtp_password: None,
            })
            .await
            .unwrap();
        store.close().await;

        let merge = ["--merge"];
        let dry_merge = ["--merge", "--dry-run"];
        let predicted = outcome_counts(&target, dir.path(), "dry.json", &dry_merge);
        let merged = outcome_counts(&target, dir.path(), "merged.json", &merge);
        assert_eq!(
            predicted, merged,
            "{kind:?}: the dry run predicts the merge"
        );
        assert_eq!(
            merged["unchanged"],
            json!(2),
            "{kind:?}: the customer and the category matched by email and name"
        );
        let refused = merged["refused"].as_array().unwrap();
        assert!(
            refused.len() == 9,
            "{kind:?}: the widget whose key is taken, its visitor and that visitor's ticket; the \
             mailbox whose address is taken, the ticket that came to it and that mailbox's two \
             mails taken in and two sent: {refused:?}"
        );

        let predicted = outcome_counts(&target, dir.path(), "dry-again.json", &dry_merge);
        let again = outcome_counts(&target, dir.path(), "again.json", &merge);
        assert_eq!(
            predicted, again,
            "{kind:?}: the dry run predicts the re-run"
        );
        assert_eq!(again["created"], json!(0), "{kind:?}: {again:#}");
        assert_eq!(again["refused"], merged["refused"], "{kind:?}");
    }
}

#[tokio::test]
async fn hostile_backup_records_are_refused_by_line_and_nothing_else_is_written() {
    let target = Installation::new(BackendKind::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.jsonl");
    let stamp = "2024-01-02T03:04:05Z";
    let webhook = |url: &str, event_types: Value| json!({"kind": "webhook", "id": Uuid::now_v7(), "url": url, "secret": "whsec_x", "event_types": event_types, "active": true, "created_at": stamp, "updated_at": stamp});
    let lines = [
        json!({"kind": "header", "format": "growdesk-export", "version": 2, "exported_at": stamp}),
        webhook("file:///etc/passwd", json!(["*"])),
        webhook("https://hooks.example.com/x", json!(["not_an_event"])),
        webhook("https://hooks.example.com/x", json!([])),
        json!({"kind": "visitor", "id": Uuid::now_v7(), "widget_id": Uuid::now_v7(), "user_id": Uuid::now_v7(), "created_at": stamp}),
        json!({"kind": "widget", "id": Uuid::now_v7(), "key": " ", "name": "Shop", "allowed_origins": [], "settings": {}, "identity_secret": null, "enforce_identity": false, "active": true, "default_category_id": null, "default_priority": "low", "created_at": stamp, "updated_at": stamp}),
        json!({"kind": "ticket", "id": Uuid::now_v7(), "number": 1, "subject": "Forged file", "status": "open", "priority": "low", "category_id": null, "requester_id": Uuid::now_v7(), "assignee_id": null, "tags": [], "source": "web", "created_at": stamp, "updated_at": stamp, "first_response_at": null, "resolved_at": null, "closed_at": null,
            "messages": [{"id": Uuid::now_v7(), "author_id": Uuid::now_v7(), "body": "b", "internal": false, "created_at": stamp,
                "attachments": [{"id": Uuid::now_v7(), "filename": "x", "content_type": "text/plain", "size": 1, "sha256": "../../etc/passwd"}]}]}),
        // Kinds this release could not read back (odd data of a known kind is kept as it is).
        json!({"kind": "event", "id": 1, "ticket_id": Uuid::now_v7(), "event": "ticket_exploded", "actor_id": null, "internal": false, "recipient_id": null, "data": {}, "created_at": stamp}),
        json!({"kind": "notification", "id": Uuid::now_v7(), "user_id": Uuid::now_v7(), "notification": "escalated", "ticket_id": Uuid::now_v7(), "data": {}, "read_at": null, "created_at": stamp}),
        // A personal view of no user the export held; a reply with a blank title.
        json!({"kind": "view", "id": Uuid::now_v7(), "owner_id": Uuid::now_v7(), "name": "Mine", "filter": {}, "created_at": stamp, "updated_at": stamp}),
        json!({"kind": "canned_reply", "id": Uuid::now_v7(), "owner_id": null, "title": " ", "body": "b", "shortcut": null, "created_at": stamp, "updated_at": stamp}),
        // A mailbox the database would refuse; a password reset (its token is not carried); the
        // record of a mail taken in of a kind this release does not know.
        json!({"kind": "mailbox", "id": Uuid::now_v7(), "address": "support@example.com", "display_name": "Support",
            "imap": {"host": "imap.example.com", "port": 0, "security": "tls", "username": "s", "folder": "INBOX", "after_import": {"action": "seen"}},
            "imap_password": "p", "smtp": null, "smtp_password": null, "default_category_id": null, "default_priority": "low",
            "acknowledge": true, "active": true, "cursor": null, "created_at": stamp, "updated_at": stamp}),
        json!({"kind": "outbound_mail", "id": Uuid::now_v7(), "mailbox_id": null, "ticket_id": null, "message_id": null, "mail_kind": "password_reset",
            "recipient": "cy@example.com", "subject": "Reset", "text_body": "a link", "html_body": null, "header_message_id": "<r@example.com>",
            "in_reply_to": null, "references": [], "reply_to": null, "unsubscribe_url": null, "attachment_ids": [], "status": "queued",
            "attempts": 0, "next_attempt_at": stamp, "last_error": null, "created_at": stamp, "sent_at": null}),
        json!({"kind": "inbound_mail", "mailbox_id": Uuid::now_v7(), "message_id": "m@client.example", "ticket_id": null,
            "chat_message_id": null, "mail_kind": "spam", "received_at": stamp}),
    ];
    let text_lines: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text_lines.join("\n")).unwrap();
    let report = dir.path().join("report.json");
    let run = target.sync(&["import", "json", text(&file), "--report", text(&report)]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let refused: Vec<(&str, &str)> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["position"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    let positions: Vec<&str> = refused.iter().map(|(position, _)| *position).collect();
    assert_eq!(
        positions,
        [
            "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9",
            "line 10", "line 11", "line 12", "line 13", "line 14"
        ],
        "{refused:?}"
    );
    assert!(refused[0].1.contains("http or https"), "{refused:?}");
    assert!(refused[5].1.contains("SHA-256"), "{refused:?}");
    assert!(refused[6].1.contains("unknown event kind"), "{refused:?}");
    assert!(
        refused[7].1.contains("unknown notification kind"),
        "{refused:?}"
    );
    assert!(
        refused[8].1.contains("which the export did not hold"),
        "{refused:?}"
    );
    assert!(refused[9].1.starts_with("title"), "{refused:?}");
    assert!(refused[10].1.contains("port"), "{refused:?}");
    assert!(refused[11].1.contains("password reset"), "{refused:?}");
    assert!(
        refused[12].1.contains("unknown inbound mail kind"),
        "{refused:?}"
    );
    let store = target.store().await;
    assert!(store.webhooks().list().await.unwrap().is_empty());
    assert!(store.widgets().list().await.unwrap().is_empty());
    assert!(store.mailboxes().list().await.unwrap().is_empty());
    store.close().await;
}
