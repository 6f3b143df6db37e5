//! The `growdesk-sync` binary: its help and its `migrate` command on both backends, then each
//! command's scenarios (one test binary for the crate, so the suite links once).

use std::process::Command;

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;

#[path = "cli/backup.rs"]
mod backup;

const BINARY: &str = env!("CARGO_BIN_EXE_growdesk-sync");

/// Serves `app` on a free loopback port for the rest of the test; its base URL.
async fn serve_on_loopback(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[test]
fn help_lists_the_commands() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("migrate"), "{help}");
    assert!(help.contains("--database-url"), "{help}");
}

async fn migrate_creates_the_schema(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(BINARY)
            .current_dir(dir.path())
            .env_clear()
            .env("GROWDESK_DATABASE_URL", database.url())
            .arg("migrate")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = run();
    assert!(again.status.success(), "migrating twice is harmless");

    let count: i64 = match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
            let count = sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            count
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(database.url()).await.unwrap();
            sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count, 0, "the schema exists and migrate creates no users");
}

#[tokio::test]
async fn migrate_on_sqlite() {
    migrate_creates_the_schema(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn migrate_on_postgres() {
    migrate_creates_the_schema(BackendKind::Postgres).await;
}

#[test]
fn an_unknown_scheme_is_a_clear_error() {
    let output = Command::new(BINARY)
        .env_clear()
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unsupported database URL scheme"),
        "{stderr}"
    );
}

mod transfer {
    //! Export and import: an installation moves between backends intact, re-imports change
    //! nothing, and bad lines are reported while good ones go in.

    use std::os::unix::fs::PermissionsExt as _;
    use std::process::{Command, Output};

    use growdesk_domain::{Priority, Role, TicketSource, TicketStatus};
    use growdesk_store::testkit::TestDatabase;
    use growdesk_store::{
        BackendKind, CategoryFields, Changed, FaqFields, FaqFilter, MessageRecord, NewMessage,
        NewTicket, NewUser, PoolSettings, Store, TicketChange, TicketFilter, TicketSort,
        TicketState,
    };
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::BINARY;

    fn sync(database: &TestDatabase, args: &[&str]) -> Output {
        Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .args(args)
            .output()
            .unwrap()
    }

    async fn store_of(database: &TestDatabase) -> Store {
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        store.migrate().await.unwrap();
        store
    }

    async fn seed(store: &Store) {
        let user = |email: &str, role| NewUser {
            email: email.into(),
            name: format!("Name {email}"),
            role,
            password_hash: Some(format!("$argon2id$hash-of-{email}")),
        };
        let agent = store
            .create_user(user("agent@example.com", Role::Agent))
            .await
            .unwrap();
        let customer = store
            .create_user(user("cy@example.com", Role::Customer))
            .await
            .unwrap();
        let category = store
            .create_category(CategoryFields {
                name: "Billing".into(),
                description: "Money".into(),
                color: "#ff0000".into(),
                active: true,
                position: 1,
            })
            .await
            .unwrap();
        store
            .create_faq(FaqFields {
                question: "Refunds?".into(),
                answer: "Within 30 days.".into(),
                category_id: Some(category.id),
                published: true,
                position: 0,
            })
            .await
            .unwrap();
        for (i, subject) in ["Charged twice", "Login broken", "Facturación"]
            .iter()
            .enumerate()
        {
            let id = Uuid::now_v7();
            store
                .create_ticket(
                    NewTicket {
                        id,
                        subject: (*subject).into(),
                        priority: Priority::High,
                        category_id: (i == 0).then_some(category.id),
                        requester_id: customer.id,
                        source: TicketSource::Web,
                        tags: vec!["vip".into()],
                        actor_id: customer.id,
                        description: format!("description {i}"),
                        extra_events: Vec::new(),
                        visitor_id: None,
                        context: Value::Null,
                    },
                    None,
                )
                .await
                .unwrap();
            for (body, internal) in [("a note", true), ("a reply", false)] {
                let outcome: Changed<()> = store
                    .change_ticket(id, None, |ticket| {
                        let mut state = TicketState::of(ticket);
                        state.assignee_id = Some(agent.id);
                        if i == 1 {
                            state.status = TicketStatus::Closed;
                        }
                        Ok(TicketChange {
                            state,
                            events: Vec::new(),
                            message: Some(MessageRecord {
                                message: NewMessage {
                                    id: Uuid::now_v7(),
                                    ticket_id: id,
                                    author_id: agent.id,
                                    body: body.into(),
                                    internal,
                                },
                                attachments: Vec::new(),
                            }),
                        })
                    })
                    .await
                    .unwrap();
                assert!(matches!(outcome, Changed::Applied { .. }));
            }
        }
    }

    /// Everything an export holds, in a comparable form.
    async fn content(store: &Store) -> Value {
        let users: Vec<Value> = store
            .export_users(None, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                json!([
                    c.user.id,
                    c.user.email,
                    c.user.name,
                    c.user.role,
                    c.user.active,
                    c.password_hash
                ])
            })
            .collect();
        let categories: Vec<Value> = store
            .list_categories(false)
            .await
            .unwrap()
            .into_iter()
            .map(|c| json!([c.id, c.name, c.color]))
            .collect();
        let faqs: Vec<Value> = store
            .list_faqs(&FaqFilter::default(), None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|f| json!([f.id, f.question, f.category_id]))
            .collect();
        let filter = TicketFilter {
            search_internal: true,
            ..TicketFilter::default()
        };
        let tickets = store
            .list_tickets(&filter, TicketSort::Number, false, None, 100)
            .await
            .unwrap();
        let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
        let messages: Vec<Value> = store
            .messages_of_tickets(&ids)
            .await
            .unwrap()
            .into_iter()
            .map(|m| {
                json!([
                    m.id,
                    m.ticket_id,
                    m.author.id,
                    m.body,
                    m.internal,
                    m.created_at.unix_timestamp_nanos() / 1000
                ])
            })
            .collect();
        let tickets: Vec<Value> = tickets
            .into_iter()
            .map(|t| {
                json!([
                    t.id,
                    t.number,
                    t.subject,
                    t.status,
                    t.priority,
                    t.category_id,
                    t.requester.id,
                    t.assignee_id,
                    t.tags,
                    t.created_at.unix_timestamp()
                ])
            })
            .collect();
        json!({"users": users, "categories": categories, "faqs": faqs, "tickets": tickets, "messages": messages})
    }

    async fn move_between(from: BackendKind, to: BackendKind) {
        let source = TestDatabase::create(from).await;
        let source_store = store_of(&source).await;
        seed(&source_store).await;
        let dir = tempfile::tempdir().unwrap();
        let out = sync(&source, &["export", dir.path().to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = dir.path().join("growdesk-export.jsonl");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600,
            "exports hold password hashes"
        );

        let target = TestDatabase::create(to).await;
        let report = dir.path().join("report.json");
        let first = sync(
            &target,
            &[
                "import",
                "json",
                dir.path().to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(
            first.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        // Two users, a category, a FAQ and three tickets, then the event log's entries.
        let records = 2 + 1 + 1 + 3 + source_store.events_after(0, 1000).await.unwrap().len();
        assert_eq!(
            (
                report["created"].as_u64(),
                report["refused"].as_array().map(Vec::len)
            ),
            (u64::try_from(records).ok(), Some(0))
        );
        let target_store = store_of(&target).await;
        assert_eq!(
            content(&target_store).await,
            content(&source_store).await,
            "the same data on the other backend"
        );

        let again = sync(&target, &["import", "json", file.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(0));
        let summary = String::from_utf8_lossy(&again.stdout);
        assert!(
            summary.contains(&format!(
                "0 created, 0 updated, {records} unchanged, 0 refused"
            )),
            "{summary}"
        );
        assert_eq!(content(&target_store).await, content(&source_store).await);

        // New tickets continue after the imported numbers.
        let next = Uuid::now_v7();
        let customer = target_store
            .export_users(None, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.user.role == Role::Customer)
            .unwrap();
        target_store
            .create_ticket(
                NewTicket {
                    id: next,
                    subject: "After the move".into(),
                    priority: Priority::Low,
                    category_id: None,
                    requester_id: customer.user.id,
                    source: TicketSource::Web,
                    tags: Vec::new(),
                    actor_id: customer.user.id,
                    description: "d".into(),
                    extra_events: Vec::new(),
                    visitor_id: None,
                    context: Value::Null,
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(target_store.ticket(next).await.unwrap().unwrap().number, 4);
        source_store.close().await;
        target_store.close().await;
    }

    #[tokio::test]
    async fn an_installation_moves_from_sqlite_to_postgres() {
        move_between(BackendKind::Sqlite, BackendKind::Postgres).await;
    }

    #[tokio::test]
    async fn an_installation_moves_from_postgres_to_sqlite() {
        move_between(BackendKind::Postgres, BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn bad_lines_are_reported_and_good_ones_go_in() {
        let target = TestDatabase::create(BackendKind::Sqlite).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hostile.jsonl");
        let user = json!({"kind": "user", "id": Uuid::now_v7(), "email": "ok@example.com", "name": "<script>alert(1)</script>", "role": "customer", "active": true, "password_hash": null, "created_at": "2024-01-02T03:04:05Z"});
        let ticket = |requester: Uuid, subject: &str| json!({"kind": "ticket", "id": Uuid::now_v7(), "number": 9, "subject": subject, "status": "open", "priority": "low", "category_id": null, "requester_id": requester, "assignee_id": null, "tags": [], "source": "import", "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-02T03:04:05Z", "first_response_at": null, "resolved_at": null, "closed_at": null, "messages": []});
        let user_id: Uuid = serde_json::from_value(user["id"].clone()).unwrap();
        let lines = [
            json!({"kind": "header", "format": "growdesk-export", "version": 1, "exported_at": "2024-01-02T03:04:05Z"}).to_string(),
            user.to_string(),
            "{\"kind\": \"user\", \"id\": ".to_owned(),
            json!({"kind": "ticket", "id": 5}).to_string(),
            ticket(Uuid::now_v7(), "Orphan").to_string(),
            ticket(user_id, "x".repeat(50_000).as_str()).to_string(),
            ticket(user_id, "Fine").to_string(),
        ];
        std::fs::write(&file, lines.join("\n")).unwrap();
        let report = dir.path().join("report.json");

        let dry = sync(
            &target,
            &["import", "json", file.to_str().unwrap(), "--dry-run"],
        );
        assert_eq!(dry.status.code(), Some(1));
        let store = store_of(&target).await;
        assert!(
            store.export_users(None, 10).await.unwrap().is_empty(),
            "a dry run writes nothing"
        );

        let run = sync(
            &target,
            &[
                "import",
                "json",
                file.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        );
        assert_eq!(
            run.status.code(),
            Some(1),
            "some records refused: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let positions: Vec<&str> = report["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["position"].as_str().unwrap())
            .collect();
        assert_eq!(positions, ["line 3", "line 4", "line 5", "line 6"]);
        assert_eq!(report["created"], 2, "the good user and ticket went in");
        let users = store.export_users(None, 10).await.unwrap();
        assert_eq!(
            users[0].user.name, "<script>alert(1)</script>",
            "stored verbatim, as text"
        );

        let missing = sync(&target, &["import", "json", "/nonexistent/export.jsonl"]);
        assert_eq!(missing.status.code(), Some(2), "a failure is exit code 2");
        store.close().await;
    }
}

mod csv_import {
    //! `import csv` with real data (CFPB complaints) and a conversation export.

    use std::path::PathBuf;
    use std::process::{Command, Output};

    use growdesk_store::testkit::TestDatabase;
    use growdesk_store::{BackendKind, PoolSettings, Store, TicketFilter, TicketSort};
    use serde_json::Value;

    use super::BINARY;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn sync(database: &TestDatabase, args: &[&str]) -> Output {
        Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .args(args)
            .output()
            .unwrap()
    }

    fn report_of(output: &Output, file: &std::path::Path) -> Value {
        assert!(
            output.status.code().is_some_and(|code| code <= 1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
    }

    async fn tickets(database: &TestDatabase) -> Vec<Value> {
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        let filter = TicketFilter {
            search_internal: true,
            ..TicketFilter::default()
        };
        let tickets = store
            .list_tickets(&filter, TicketSort::CreatedAt, false, None, 100)
            .await
            .unwrap();
        let ids: Vec<uuid::Uuid> = tickets.iter().map(|t| t.id).collect();
        let messages = store.messages_of_tickets(&ids).await.unwrap();
        let summary = tickets
            .iter()
            .map(|t| {
                let bodies: Vec<Value> = messages
                    .iter()
                    .filter(|m| m.ticket_id == t.id)
                    .map(|m| {
                        serde_json::json!([
                            m.body,
                            m.internal,
                            m.author.role,
                            m.created_at.unix_timestamp()
                        ])
                    })
                    .collect();
                serde_json::json!([
                    t.subject,
                    t.status,
                    t.priority,
                    t.tags,
                    t.requester.email,
                    t.created_at.unix_timestamp(),
                    bodies
                ])
            })
            .collect();
        store.close().await;
        summary
    }

    /// The mapping the README gives for the CFPB export, as written there.
    fn readme_cfpb_mapping() -> String {
        let readme = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
        )
        .unwrap();
        let block = readme
            .split("```toml\n")
            .skip(1)
            .map(|block| &block[..block.find("```").unwrap()])
            .find(|block| block.contains("source = \"cfpb\""))
            .expect("the README's CFPB mapping");
        block
            .lines()
            .map(|line| format!("{}\n", line.trim()))
            .collect()
    }

    /// `(created, updated, unchanged, refused)` of a report.
    fn counts_of(report: &Value) -> [u64; 4] {
        [
            report["created"].as_u64().unwrap(),
            report["updated"].as_u64().unwrap(),
            report["unchanged"].as_u64().unwrap(),
            report["refused"].as_array().unwrap().len() as u64,
        ]
    }

    async fn complaints(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        let mapping = dir.path().join("cfpb.toml");
        std::fs::write(&mapping, readme_cfpb_mapping()).unwrap();
        let complaints = dir.path().join("complaints.csv");
        std::fs::copy(fixture("cfpb_complaints.csv"), &complaints).unwrap();
        let run = |dry_run: bool| {
            let mut args = vec![
                "import".to_owned(),
                "csv".to_owned(),
                complaints.display().to_string(),
                "--mapping".to_owned(),
                mapping.display().to_string(),
                "--report".to_owned(),
                report.display().to_string(),
            ];
            if dry_run {
                args.push("--dry-run".to_owned());
            }
            let output = sync(
                &database,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            let counts = counts_of(&report_of(&output, &report));
            (output, counts)
        };

        // A dry run predicts what the run then reports, before and after a first import and
        // after the source changed.
        let (predicted, predicted_counts) = run(true);
        assert_eq!(
            predicted_counts,
            [40, 0, 0, 0],
            "every complaint becomes a ticket"
        );
        assert!(
            tickets(&database).await.is_empty(),
            "a dry run writes nothing"
        );
        let (first, first_counts) = run(false);
        assert_eq!(first.status.code(), Some(0), "nothing is refused");
        assert_eq!(first_counts, predicted_counts);
        assert!(
            String::from_utf8_lossy(&predicted.stdout)
                .contains("40 created, 0 updated, 0 unchanged, 0 refused"),
            "{}",
            String::from_utf8_lossy(&predicted.stdout)
        );
        let imported = tickets(&database).await;
        assert_eq!(imported.len(), 40);
        assert_eq!(imported[0][4], "complaints@cfpb.invalid");
        for ticket in &imported {
            let opening = ticket[6][0][0].as_str().unwrap();
            assert!(!opening.trim().is_empty(), "{ticket}");
        }
        let without_narrative = imported
            .iter()
            .filter(|ticket| ticket[6][0][0] == ticket[0])
            .count();
        assert_eq!(
            without_narrative, 16,
            "a complaint without a narrative opens with its issue"
        );

        assert_eq!(run(true).1, [0, 0, 40, 0]);
        assert_eq!(run(false).1, [0, 0, 40, 0], "a re-run creates nothing");
        assert_eq!(tickets(&database).await, imported);

        let changed = std::fs::read_to_string(&complaints).unwrap().replacen(
            "Closed with explanation",
            "In progress",
            1,
        );
        std::fs::write(&complaints, changed).unwrap();
        let (_, predicted_change) = run(true);
        assert_eq!(predicted_change, [0, 1, 39, 0]);
        assert_eq!(run(false).1, predicted_change);
    }

    #[tokio::test]
    async fn complaints_import_on_sqlite() {
        complaints(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn complaints_import_on_postgres() {
        complaints(BackendKind::Postgres).await;
    }

    /// Rows lacking a subject or a body, fallback columns, refusals past the first 20, and
    /// line numbers in a file with `\r\n` line ends.
    async fn rows_lacking_a_subject_or_body(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mixed.csv");
        let mut rows = vec![
            "external_id,subject,details,summary,email,created_at".to_owned(),
            "1,,\"  My card was charged   twice\nand nobody answers\",,a@example.com,2024-01-01"
                .to_owned(),
            "2,Refund missing,,,b@example.com,2024-01-02".to_owned(),
            "3,,,Short summary,c@example.com,2024-01-03".to_owned(),
            "4,,,,d@example.com,2024-01-04".to_owned(),
        ];
        for row in 5..=29 {
            rows.push(format!("{row},Bad date,text,,e@example.com,never"));
        }
        std::fs::write(&file, rows.join("\r\n") + "\r\n").unwrap();
        let report = dir.path().join("report.json");
        let out = sync(
            &database,
            &[
                "import",
                "csv",
                file.to_str().unwrap(),
                "--map",
                "body=details",
                "--map",
                "body=summary",
                "--report",
                report.to_str().unwrap(),
            ],
        );
        let report_json = report_of(&out, &report);
        assert_eq!(counts_of(&report_json), [3, 0, 0, 26]);
        let refused = report_json["refused"].as_array().unwrap();
        assert_eq!(
            refused[0]["position"], "line 6",
            "the row after a two-line field"
        );
        assert_eq!(refused[0]["reason"], "subject and body are both empty");
        assert_eq!(refused[25]["position"], "line 31");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches("  refused line ").count(), 20, "{stderr}");
        assert!(
            stderr.contains(&format!("…and 6 more (see {})", report.display())),
            "{stderr}"
        );
        let imported = tickets(&database).await;
        let opening = |ticket: &Value| ticket[6][0][0].as_str().unwrap().to_owned();
        assert_eq!(imported[0][0], "My card was charged twice");
        assert_eq!(
            opening(&imported[0]),
            "My card was charged   twice\nand nobody answers"
        );
        assert_eq!(imported[1][0], "Refund missing");
        assert_eq!(opening(&imported[1]), "Refund missing");
        assert_eq!(imported[2][0], "Short summary", "the fallback column");
        assert_eq!(opening(&imported[2]), "Short summary");
    }

    #[tokio::test]
    async fn rows_lacking_a_subject_or_body_on_sqlite() {
        rows_lacking_a_subject_or_body(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn rows_lacking_a_subject_or_body_on_postgres() {
        rows_lacking_a_subject_or_body(BackendKind::Postgres).await;
    }

    fn conversation_args(path: &std::path::Path) -> Vec<String> {
        [
            "import",
            "csv",
            &path.display().to_string(),
            "--map",
            "external_id=message_id",
            "--source",
            "helpdesk-x",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    #[tokio::test]
    async fn conversations_group_into_tickets_and_a_cut_run_resumes() {
        let clean = TestDatabase::create(BackendKind::Sqlite).await;
        let args = conversation_args(&fixture("conversations.csv"));
        let out = sync(&clean, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = tickets(&clean).await;
        assert_eq!(expected.len(), 3);
        let login = &expected[0];
        assert_eq!(login[0], "Cannot log in");
        assert_eq!(login[1], "resolved");
        assert_eq!(login[3], serde_json::json!(["login", "vip"]));
        let messages = login[6].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1][2], "agent", "agents are matched by email");
        assert_eq!(messages[2][1], true, "internal notes stay internal");

        // A run cut off after four rows, then a full run, ends like one clean run.
        let resumed = TestDatabase::create(BackendKind::Postgres).await;
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("conversations.csv");
        let full = std::fs::read_to_string(fixture("conversations.csv")).unwrap();
        std::fs::write(&cut, full.lines().take(5).collect::<Vec<_>>().join("\n")).unwrap();
        let partial = sync(
            &resumed,
            &conversation_args(&cut)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert_eq!(partial.status.code(), Some(0));
        std::fs::write(&cut, &full).unwrap();
        let rest = sync(
            &resumed,
            &conversation_args(&cut)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            rest.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&rest.stderr)
        );
        assert_eq!(tickets(&resumed).await, expected);
    }

    /// Tickets, messages, and distinct subjects in a SQLite database.
    async fn counts(database: &TestDatabase) -> [i64; 3] {
        let pool = sqlx::SqlitePool::connect(database.url()).await.unwrap();
        let mut counts = [0; 3];
        for (count, sql) in counts.iter_mut().zip([
            "SELECT count(*) FROM tickets",
            "SELECT count(*) FROM messages",
            "SELECT count(DISTINCT subject) FROM tickets",
        ]) {
            *count = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        }
        pool.close().await;
        counts
    }

    #[tokio::test]
    async fn an_import_killed_mid_run_then_rerun_equals_a_clean_run() {
        const ROWS: usize = 1500;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tickets.csv");
        let mut content = String::from("external_id,subject,body,email,priority,tags,created_at\n");
        for row in 1..=ROWS {
            content.push_str(&format!(
                "{row},Order {row} is late,Where is order {row}?,customer{}@example.com,high,\"late,shipping\",2024-03-{:02}\n",
                row % 97,
                1 + row % 28
            ));
        }
        std::fs::write(&file, content).unwrap();
        let args = ["import", "csv", file.to_str().unwrap()];

        let clean = TestDatabase::create(BackendKind::Sqlite).await;
        assert_eq!(sync(&clean, &args).status.code(), Some(0));
        let expected = counts(&clean).await;
        assert_eq!(expected, [ROWS as i64; 3]);

        let killed = TestDatabase::create(BackendKind::Sqlite).await;
        assert!(sync(&killed, &["migrate"]).status.success());
        let mut child = Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(killed.url())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut waited = 0;
        while counts(&killed).await[0] < 50 {
            assert!(waited < 600, "the import never got going");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let cut_at = counts(&killed).await[0];
        assert!(
            cut_at < ROWS as i64,
            "killed before the end ({cut_at} of {ROWS})"
        );

        let rerun = sync(&killed, &args);
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        assert_eq!(
            counts(&killed).await,
            expected,
            "no duplicates, nothing missing"
        );
        assert_eq!(tickets(&killed).await, tickets(&clean).await);
    }

    #[tokio::test]
    async fn hostile_rows_are_refused_without_stopping_the_import() {
        let database = TestDatabase::create(BackendKind::Sqlite).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hostile.csv");
        let huge = "x".repeat(50 * 1024 * 1024);
        let content = format!(
            "subject,body,email,created_at,priority\n\
             Fine,<img src=x onerror=alert(1)>,a@example.com,2024-01-01,low\n\
             Bad date,body,b@example.com,yesterday,low\n\
             Bad email,body,not-an-email,2024-01-01,low\n\
             Huge,{huge},c@example.com,2024-01-01,low\n\
             \"Unclosed,body,d@example.com\n"
        );
        std::fs::write(&file, content).unwrap();
        let report = dir.path().join("report.json");
        let out = sync(
            &database,
            &[
                "import",
                "csv",
                file.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        );
        let report = report_of(&out, &report);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(report["created"], 1);
        let reasons: Vec<&str> = report["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect();
        assert!(reasons.len() >= 3, "{reasons:?}");
        let stored = tickets(&database).await;
        assert_eq!(
            stored[0][6][0][0], "<img src=x onerror=alert(1)>",
            "stored verbatim, as text"
        );

        let unknown = sync(
            &database,
            &[
                "import",
                "csv",
                file.to_str().unwrap(),
                "--map",
                "colour=subject",
            ],
        );
        assert_eq!(
            unknown.status.code(),
            Some(2),
            "an unknown field is a failure"
        );
    }
}

mod zendesk {
    //! `import zendesk` from API responses on disk and from a live (test) API with pagination,
    //! a 429, and a stored cursor.

    use std::path::PathBuf;
    use std::process::{Command, Output};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::{Path, Query};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use growdesk_store::testkit::TestDatabase;
    use growdesk_store::{BackendKind, PoolSettings, Store, TicketFilter, TicketSort};
    use serde_json::{Value, json};

    use super::BINARY;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zendesk")
    }

    fn sync(database: &TestDatabase, args: &[&str]) -> Output {
        Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .args(args)
            .output()
            .unwrap()
    }

    async fn imported(database: &TestDatabase) -> Vec<Value> {
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        let filter = TicketFilter {
            search_internal: true,
            ..TicketFilter::default()
        };
        let tickets = store
            .list_tickets(&filter, TicketSort::CreatedAt, false, None, 100)
            .await
            .unwrap();
        let ids: Vec<uuid::Uuid> = tickets.iter().map(|t| t.id).collect();
        let messages = store.messages_of_tickets(&ids).await.unwrap();
        let rows = tickets
            .iter()
            .map(|t| {
                let bodies: Vec<&str> = messages
                    .iter()
                    .filter(|m| m.ticket_id == t.id)
                    .map(|m| m.body.as_str())
                    .collect();
                json!([
                    t.subject,
                    t.status,
                    t.priority,
                    t.source,
                    t.created_at.unix_timestamp(),
                    bodies
                ])
            })
            .collect();
        store.close().await;
        rows
    }

    async fn from_files(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let out = sync(
            &database,
            &["import", "zendesk", fixtures().to_str().unwrap()],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = String::from_utf8_lossy(&out.stdout);
        assert!(
            summary.contains("zendesk: 5 created"),
            "2 users, 1 stand-in for the unknown requester, 2 tickets: {summary}"
        );
        let tickets = imported(&database).await;
        assert_eq!(tickets.len(), 2);
        assert_eq!(tickets[0][0], "Mail to create fixture ticket for testing");
        assert_eq!(tickets[0][1], "resolved", "solved maps to resolved");
        assert_eq!(tickets[0][3], "import");
        assert_eq!(
            tickets[0][5].as_array().unwrap().len(),
            2,
            "ticket 2's comments"
        );
        assert_eq!(
            tickets[1][5].as_array().unwrap().len(),
            1,
            "ticket 3 has only its description"
        );
        let again = sync(
            &database,
            &["import", "zendesk", fixtures().to_str().unwrap()],
        );
        assert!(
            String::from_utf8_lossy(&again.stdout).contains("0 created, 0 updated"),
            "{}",
            String::from_utf8_lossy(&again.stdout)
        );
        assert_eq!(imported(&database).await, tickets);
    }

    /// Zendesk data as its API gives it by default: a deleted ticket in the export, a comment
    /// whose text is only in `html_body`, one with no text at all, an assignee the users list
    /// does not hold, and one that is a customer.
    async fn what_the_api_leaves_out(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("comments")).unwrap();
        let load = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
        };
        let save = |name: &str, value: &Value| {
            std::fs::write(dir.path().join(name), value.to_string()).unwrap();
        };
        save("users.json", &load("users.json"));
        let mut tickets = load("tickets.json");
        tickets["tickets"][1]["assignee_id"] = json!(999);
        let mut deleted = tickets["tickets"][1].clone();
        deleted["id"] = json!(4);
        deleted["status"] = json!("deleted");
        tickets["tickets"].as_array_mut().unwrap().push(deleted);
        save("tickets.json", &tickets);
        let mut comments = load("comments/2.json");
        comments["comments"][1]["body"] = json!("");
        comments["comments"][1]["html_body"] =
            json!("<div class=\"zd-comment\"><p>Seen &amp; answered</p></div>");
        let mut empty = comments["comments"][1].clone();
        empty["id"] = json!(99);
        empty["html_body"] = json!("<p> </p>");
        comments["comments"].as_array_mut().unwrap().push(empty);
        save("comments/2.json", &comments);

        let report = dir.path().join("report.json");
        let run = |dry_run: bool| {
            let mut args = vec!["import", "zendesk", dir.path().to_str().unwrap()];
            args.extend(["--report", report.to_str().unwrap()]);
            if dry_run {
                args.push("--dry-run");
            }
            let output = sync(&database, &args);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            json!([
                report["created"],
                report["updated"],
                report["unchanged"],
                report["refused"]
            ])
        };
        let predicted = run(true);
        let done = run(false);
        assert_eq!(predicted, done, "the dry run predicts the run");
        let refused: Vec<(&str, &str)> = done[3]
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
        assert_eq!(
            refused,
            [
                ("ticket 2 comment 99", "body must not be empty"),
                ("ticket 4", "deleted in Zendesk")
            ]
        );
        let stored = imported(&database).await;
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0][5][1], "Seen & answered");

        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        let listed = store
            .list_tickets(
                &TicketFilter::default(),
                TicketSort::CreatedAt,
                false,
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(
            listed[0].assignee_id, None,
            "assigned to a customer in the data: unassigned here"
        );
        let stand_in = store
            .user(
                listed[1]
                    .assignee_id
                    .expect("the unknown assignee's stand-in"),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(stand_in.role.is_staff() && !stand_in.active, "{stand_in:?}");
        store.close().await;
    }

    #[tokio::test]
    async fn what_the_zendesk_api_leaves_out_on_sqlite() {
        what_the_api_leaves_out(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn what_the_zendesk_api_leaves_out_on_postgres() {
        what_the_api_leaves_out(BackendKind::Postgres).await;
    }

    #[tokio::test]
    async fn zendesk_files_import_on_sqlite() {
        from_files(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn zendesk_files_import_on_postgres() {
        from_files(BackendKind::Postgres).await;
    }

    /// A Zendesk-compatible API serving the fixtures: users in two pages, tickets through the
    /// incremental cursor export (the second page answers 429 once), comments per ticket.
    async fn fake_zendesk() -> (String, Arc<AtomicUsize>) {
        let throttled = Arc::new(AtomicUsize::new(0));
        let users: Value =
            serde_json::from_slice(&std::fs::read(fixtures().join("users.json")).unwrap()).unwrap();
        let tickets: Value =
            serde_json::from_slice(&std::fs::read(fixtures().join("tickets.json")).unwrap())
                .unwrap();
        let comments: Value =
            serde_json::from_slice(&std::fs::read(fixtures().join("comments/2.json")).unwrap())
                .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let authorized = |headers: &HeaderMap| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Basic "))
        };
        let page_base = base.clone();
        let users_route =
            move |headers: HeaderMap,
                  Query(query): Query<std::collections::HashMap<String, String>>| {
                let users = users.clone();
                let page_base = page_base.clone();
                async move {
                    if !authorized(&headers) {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    let all = users["users"].as_array().unwrap().clone();
                    if query.get("page").map(String::as_str) == Some("2") {
                        axum::Json(json!({"users": [all[1]], "next_page": null})).into_response()
                    } else {
                        axum::Json(json!({"users": [all[0]], "next_page": format!("{page_base}/api/v2/users.json?page=2")})).into_response()
                    }
                }
            };
        let count = throttled.clone();
        let tickets_route =
            move |Query(query): Query<std::collections::HashMap<String, String>>| {
                let tickets = tickets.clone();
                let count = count.clone();
                async move {
                    let all = tickets["tickets"].as_array().unwrap().clone();
                    match query.get("cursor").map(String::as_str) {
                    None => axum::Json(
                        json!({"tickets": [all[0]], "after_cursor": "c1", "end_of_stream": false}),
                    )
                    .into_response(),
                    Some("c1") if count.fetch_add(1, Ordering::SeqCst) == 0 => {
                        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
                    }
                    Some("c1") => axum::Json(
                        json!({"tickets": [all[1]], "after_cursor": "c2", "end_of_stream": true}),
                    )
                    .into_response(),
                    Some(_) => axum::Json(
                        json!({"tickets": [], "after_cursor": "c2", "end_of_stream": true}),
                    )
                    .into_response(),
                }
                }
            };
        let comments_route = move |Path(id): Path<String>| {
            let comments = comments.clone();
            async move {
                if id == "2" {
                    axum::Json(json!({"comments": comments["comments"]})).into_response()
                } else {
                    axum::Json(json!({"comments": []})).into_response()
                }
            }
        };
        let app = axum::Router::new()
            .route("/api/v2/users.json", axum::routing::get(users_route))
            .route(
                "/api/v2/incremental/tickets/cursor.json",
                axum::routing::get(tickets_route),
            )
            .route(
                "/api/v2/tickets/{id}/comments.json",
                axum::routing::get(comments_route),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, throttled)
    }

    #[tokio::test]
    async fn zendesk_api_is_pulled_page_by_page_through_a_429() {
        let (base, throttled) = fake_zendesk().await;
        let database = TestDatabase::create(BackendKind::Postgres).await;
        let args: Vec<String> = [
            "import",
            "zendesk",
            "--url",
            &base,
            "--email",
            "admin@example.com",
            "--token",
            "t0ken",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let url = database.url().to_owned();
        let run = move || {
            Command::new(BINARY)
                .env_clear()
                .arg("--database-url")
                .arg(&url)
                .args(&args)
                .output()
                .unwrap()
        };
        let first = tokio::task::spawn_blocking(run.clone()).await.unwrap();
        assert_eq!(
            first.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert_eq!(
            throttled.load(Ordering::SeqCst),
            2,
            "the 429 was waited out and retried: {}",
            String::from_utf8_lossy(&first.stdout)
        );
        let tickets = imported(&database).await;
        assert_eq!(tickets.len(), 2);
        assert_eq!(tickets[0][5].as_array().unwrap().len(), 2);

        let second = tokio::task::spawn_blocking(run).await.unwrap();
        assert_eq!(second.status.code(), Some(0));
        let summary = String::from_utf8_lossy(&second.stdout);
        assert!(
            summary.contains("0 created, 0 updated"),
            "the stored cursor resumes past what was read: {summary}"
        );
    }
}

mod freshdesk {
    //! `import freshdesk` from API responses on disk and from a live (test) API.

    use std::path::PathBuf;
    use std::process::{Command, Output};

    use axum::extract::{Path, Query};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use growdesk_store::testkit::TestDatabase;
    use growdesk_store::{BackendKind, PoolSettings, Store, TicketFilter, TicketSort};
    use serde_json::{Value, json};

    use super::BINARY;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/freshdesk")
    }

    fn sync(database: &TestDatabase, args: &[&str]) -> Output {
        Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .args(args)
            .output()
            .unwrap()
    }

    async fn imported(database: &TestDatabase) -> Vec<Value> {
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        let filter = TicketFilter {
            search_internal: true,
            ..TicketFilter::default()
        };
        let tickets = store
            .list_tickets(&filter, TicketSort::CreatedAt, false, None, 100)
            .await
            .unwrap();
        let ids: Vec<uuid::Uuid> = tickets.iter().map(|t| t.id).collect();
        let messages = store.messages_of_tickets(&ids).await.unwrap();
        let rows = tickets
            .iter()
            .map(|t| {
                let conversation: Vec<Value> = messages
                    .iter()
                    .filter(|m| m.ticket_id == t.id)
                    .map(|m| json!([m.body, m.internal]))
                    .collect();
                json!([
                    t.subject,
                    t.status,
                    t.priority,
                    t.tags,
                    t.requester.email,
                    t.assignee_id.is_some(),
                    conversation
                ])
            })
            .collect();
        store.close().await;
        rows
    }

    async fn from_files(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let out = sync(
            &database,
            &["import", "freshdesk", fixtures().to_str().unwrap()],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tickets = imported(&database).await;
        assert_eq!(tickets.len(), 1);
        let ticket = &tickets[0];
        assert_eq!(
            (ticket[0].as_str(), ticket[1].as_str(), ticket[2].as_str()),
            (Some("This is a sample ticket"), Some("open"), Some("low"))
        );
        assert_eq!(ticket[3], json!(["mytag"]));
        let conversation = ticket[6].as_array().unwrap();
        assert_eq!(
            conversation.len(),
            3,
            "the description and two conversations"
        );
        assert_eq!(
            conversation[1][1], true,
            "a private conversation is an internal note"
        );
        let again = sync(
            &database,
            &["import", "freshdesk", fixtures().to_str().unwrap()],
        );
        assert!(
            String::from_utf8_lossy(&again.stdout).contains("0 created, 0 updated"),
            "{}",
            String::from_utf8_lossy(&again.stdout)
        );
        assert_eq!(imported(&database).await, tickets);
    }

    #[tokio::test]
    async fn freshdesk_files_import_on_sqlite() {
        from_files(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn freshdesk_files_import_on_postgres() {
        from_files(BackendKind::Postgres).await;
    }

    #[tokio::test]
    async fn freshdesk_api_is_pulled_from_the_stored_cursor() {
        let load = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
        };
        let (contacts, agents, tickets, conversations) = (
            load("contacts.json"),
            load("agents.json"),
            load("tickets.json"),
            load("conversations.json"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let guard = |headers: &HeaderMap| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Basic "))
        };
        let page = |all: Value| {
            move |headers: HeaderMap,
                  Query(query): Query<std::collections::HashMap<String, String>>| {
                let all = all.clone();
                async move {
                    if !guard(&headers) {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    let first = query.get("page").map(String::as_str) == Some("1");
                    let since = query
                        .get("updated_since")
                        .map(String::as_str)
                        .unwrap_or("1970");
                    let fresh = since.starts_with("1970");
                    axum::Json(
                        if first && (fresh || !query.contains_key("updated_since")) {
                            all
                        } else {
                            json!([])
                        },
                    )
                    .into_response()
                }
            }
        };
        let conversations_route = move |Path(_id): Path<String>| {
            let conversations = conversations.clone();
            async move { axum::Json(conversations) }
        };
        let app = axum::Router::new()
            .route("/api/v2/contacts", axum::routing::get(page(contacts)))
            .route("/api/v2/agents", axum::routing::get(page(agents)))
            .route("/api/v2/tickets", axum::routing::get(page(tickets)))
            .route(
                "/api/v2/tickets/{id}/conversations",
                axum::routing::get(conversations_route),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let database = TestDatabase::create(BackendKind::Sqlite).await;
        let url = database.url().to_owned();
        let run = move || {
            Command::new(BINARY)
                .env_clear()
                .arg("--database-url")
                .arg(&url)
                .args(["import", "freshdesk", "--url", &base, "--api-key", "k3y"])
                .output()
                .unwrap()
        };
        let first = tokio::task::spawn_blocking(run.clone()).await.unwrap();
        assert_eq!(
            first.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert_eq!(imported(&database).await.len(), 1);
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        assert_eq!(
            store.import_cursor("freshdesk").await.unwrap().as_deref(),
            Some("2015-01-01T10:58:39+10:00")
        );
        store.close().await;
        let second = tokio::task::spawn_blocking(run).await.unwrap();
        assert!(
            String::from_utf8_lossy(&second.stdout).contains("0 created, 0 updated"),
            "{}",
            String::from_utf8_lossy(&second.stdout)
        );
    }

    /// A Freshdesk API that answers as the real one: a ticket list without descriptions unless
    /// asked with `include=description`, an agent record the import refuses (a bad email)
    /// assigned to the ticket, and conversations whose text version is empty.
    async fn recorded_freshdesk() -> String {
        let load = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
        };
        let ticket = load("ticket_1.json");
        let mut agents = load("agents.json");
        agents[0]["id"] = ticket["responder_id"].clone();
        agents[0]["contact"]["email"] = json!("not an address");
        let mut conversations = load("conversations.json");
        for conversation in conversations.as_array_mut().unwrap() {
            conversation["ticket_id"] = ticket["id"].clone();
        }
        let html_only = json!({"id": 3, "body": "<div>Thanks &amp; <b>bye</b><script>x()</script></div>",
            "body_text": "", "incoming": true, "private": false, "user_id": ticket["requester_id"],
            "ticket_id": ticket["id"], "created_at": "2016-05-19T06:00:00Z", "attachments": []});
        let empty = json!({"id": 4, "body": "<div> </div>", "body_text": "", "incoming": true,
            "private": false, "user_id": ticket["requester_id"], "ticket_id": ticket["id"],
            "created_at": "2016-05-19T06:01:00Z", "attachments": [{"id": 1, "name": "a.png"}]});
        conversations
            .as_array_mut()
            .unwrap()
            .extend([html_only, empty]);
        let first_page = |all: Value| {
            move |Query(query): Query<std::collections::HashMap<String, String>>| {
                let all = all.clone();
                async move {
                    axum::Json(if query.get("page").map(String::as_str) == Some("1") {
                        all
                    } else {
                        json!([])
                    })
                }
            }
        };
        let tickets = move |Query(query): Query<std::collections::HashMap<String, String>>| {
            let mut listed = ticket.clone();
            if !query
                .get("include")
                .is_some_and(|include| include.split(',').any(|part| part == "description"))
            {
                let fields = listed.as_object_mut().unwrap();
                fields.remove("description");
                fields.remove("description_text");
            }
            async move {
                axum::Json(if query.get("page").map(String::as_str) == Some("1") {
                    json!([listed])
                } else {
                    json!([])
                })
            }
        };
        let app = axum::Router::new()
            .route(
                "/api/v2/contacts",
                axum::routing::get(first_page(load("contacts.json"))),
            )
            .route("/api/v2/agents", axum::routing::get(first_page(agents)))
            .route("/api/v2/tickets", axum::routing::get(tickets))
            .route(
                "/api/v2/tickets/{id}/conversations",
                axum::routing::get(first_page(conversations)),
            );
        super::serve_on_loopback(app).await
    }

    async fn a_live_import_keeps_every_message(kind: BackendKind) {
        let base = recorded_freshdesk().await;
        let database = TestDatabase::create(kind).await;
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        let url = database.url().to_owned();
        let run = move |dry_run: bool| {
            let mut command = Command::new(BINARY);
            command
                .env_clear()
                .arg("--database-url")
                .arg(&url)
                .args([
                    "import",
                    "freshdesk",
                    "--url",
                    &base,
                    "--api-key",
                    "k3y",
                    "--report",
                ])
                .arg(&report);
            if dry_run {
                command.arg("--dry-run");
            }
            let output = command.output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(1),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            let refused: Vec<(String, String)> = report["refused"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["position"].as_str().unwrap().to_owned(),
                        r["reason"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (
                [&report["created"], &report["updated"], &report["unchanged"]]
                    .map(|n| n.as_u64().unwrap()),
                refused,
            )
        };
        let predicted = tokio::task::spawn_blocking({
            let run = run.clone();
            move || run(true)
        })
        .await
        .unwrap();
        let done = tokio::task::spawn_blocking(move || run(false))
            .await
            .unwrap();
        assert_eq!(predicted, done, "the dry run predicts the run");
        let refused_positions: Vec<&str> = done
            .1
            .iter()
            .map(|(position, _)| position.as_str())
            .collect();
        assert_eq!(
            refused_positions,
            ["agent 6010396333", "ticket 1 conversation 4"],
            "{:?}",
            done.1
        );

        let tickets = imported(&database).await;
        assert_eq!(tickets.len(), 1);
        let conversation: Vec<&str> = tickets[0][6]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message[0].as_str().unwrap())
            .collect();
        assert_eq!(
            conversation,
            [
                "This is a sample ticket, feel free to delete it.",
                "This is a private note",
                "This is a reply",
                "Thanks & bye",
            ]
        );
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        let listed = store
            .list_tickets(
                &TicketFilter::default(),
                TicketSort::CreatedAt,
                false,
                None,
                10,
            )
            .await
            .unwrap();
        let assignee = store
            .user(
                listed[0]
                    .assignee_id
                    .expect("assigned to the agent's stand-in"),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(
            assignee.role.is_staff() && !assignee.active,
            "an inactive staff stand-in: {assignee:?}"
        );
        store.close().await;
    }

    #[tokio::test]
    async fn a_live_freshdesk_import_keeps_every_message_on_sqlite() {
        a_live_import_keeps_every_message(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn a_live_freshdesk_import_keeps_every_message_on_postgres() {
        a_live_import_keeps_every_message(BackendKind::Postgres).await;
    }
}

mod scheduler {
    //! `growdesk-sync run`: resolved tickets close on time, SLA breaches are told once, expired
    //! sessions and stale temporary files go, and two processes never run one job twice.

    use std::process::{Command, Output, Stdio};
    use std::time::Duration;

    use growdesk_domain::{EventKind, Priority, Role, TicketSource, TicketStatus};
    use growdesk_store::testkit::TestDatabase;
    use growdesk_store::{
        BackendKind, Changed, NewEvent, NewSession, NewTicket, NewUser, PoolSettings, Stamp, Store,
        TicketChange, TicketState,
    };
    use serde_json::Value;
    use time::format_description::well_known::Rfc3339;
    use uuid::Uuid;

    use super::BINARY;

    fn run_once(
        database: &TestDatabase,
        data_dir: &std::path::Path,
        now: time::OffsetDateTime,
        holder: &str,
    ) -> Output {
        Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["run", "--once", "--holder", holder, "--now"])
            .arg(now.format(&Rfc3339).unwrap())
            .output()
            .unwrap()
    }

    fn succeeded(output: &Output) -> String {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    async fn user(store: &Store, email: &str, role: Role) -> Uuid {
        let new = NewUser {
            email: email.into(),
            name: email.into(),
            role,
            password_hash: None,
        };
        store.create_user(new).await.unwrap().id
    }

    async fn ticket(
        store: &Store,
        requester: Uuid,
        priority: Priority,
        assignee: Option<Uuid>,
        status: TicketStatus,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let new = NewTicket {
            id,
            subject: format!("{priority:?} {status:?}"),
            priority,
            category_id: None,
            requester_id: requester,
            source: TicketSource::Web,
            tags: Vec::new(),
            actor_id: requester,
            description: "help".into(),
            extra_events: Vec::new(),
            visitor_id: None,
            context: Value::Null,
        };
        store.create_ticket(new, None).await.unwrap();
        if assignee.is_none() && status == TicketStatus::Open {
            return id;
        }
        let outcome: Changed<()> = store
            .change_ticket(id, None, |current| {
                let mut state = TicketState::of(current);
                state.assignee_id = assignee;
                state.status = status;
                if status == TicketStatus::Resolved {
                    state.resolved_at = Some(Stamp::now());
                }
                let event = NewEvent::public(
                    id,
                    EventKind::StatusChanged,
                    None,
                    serde_json::json!({"to": status}),
                );
                Ok(TicketChange {
                    state,
                    events: vec![event],
                    message: None,
                })
            })
            .await
            .unwrap();
        assert!(matches!(outcome, Changed::Applied { .. }));
        id
    }

    async fn breach_kinds(store: &Store, user: Uuid) -> Vec<(Uuid, String)> {
        let mut told: Vec<(Uuid, String)> = store
            .list_notifications(user, false, None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|notification| notification.kind == "sla_breach")
            .map(|notification| {
                (
                    notification.ticket_id,
                    notification.data["breach"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        told.sort();
        told
    }

    async fn maintenance(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let data_dir = tempfile::tempdir().unwrap();
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        store.migrate().await.unwrap();
        let admin = user(&store, "admin@example.com", Role::Admin).await;
        let agent = user(&store, "agent@example.com", Role::Agent).await;
        let customer = user(&store, "cy@example.com", Role::Customer).await;
        let resolved = ticket(
            &store,
            customer,
            Priority::Medium,
            Some(agent),
            TicketStatus::Resolved,
        )
        .await;
        let urgent = ticket(
            &store,
            customer,
            Priority::Urgent,
            Some(agent),
            TicketStatus::Open,
        )
        .await;
        let unassigned = ticket(&store, customer, Priority::Low, None, TicketStatus::Open).await;
        let second_unassigned =
            ticket(&store, customer, Priority::Low, None, TicketStatus::Open).await;
        let start = time::OffsetDateTime::now_utc();
        store
            .create_session(NewSession {
                id: Uuid::now_v7(),
                user_id: customer,
                expires_at: Stamp::from(start + time::Duration::days(30)),
                token_hash: vec![7; 32],
                token_expires_at: Stamp::from(start + time::Duration::days(30)),
            })
            .await
            .unwrap();
        let temp = data_dir.path().join("tmp");
        std::fs::create_dir_all(&temp).unwrap();
        std::fs::write(temp.join("upload.part"), b"half an upload").unwrap();

        // An hour and a half on: only the urgent ticket is late, for its first response (1 h).
        let early = succeeded(&run_once(
            &database,
            data_dir.path(),
            start + time::Duration::minutes(90),
            "a",
        ));
        assert!(early.contains("sla_breaches: {\"breaches\":1}"), "{early}");
        assert!(early.contains("auto_close: {\"closed\":0}"), "{early}");
        assert_eq!(
            breach_kinds(&store, agent).await,
            vec![(urgent, "first_response".to_owned())]
        );
        assert!(
            breach_kinds(&store, admin).await.is_empty(),
            "the assignee is told, not the admins"
        );
        assert!(
            std::fs::exists(temp.join("upload.part")).unwrap(),
            "a fresh temporary file stays"
        );

        // Eight days on.
        let later = start + time::Duration::days(8);
        let out = succeeded(&run_once(&database, data_dir.path(), later, "a"));
        assert!(out.contains("auto_close: {\"closed\":1}"), "{out}");
        assert!(out.contains("purge_expired:"), "{out}");
        assert!(out.contains("clean_temp: {\"files\":1}"), "{out}");
        let closed = store.ticket(resolved).await.unwrap().unwrap();
        assert_eq!(closed.status, TicketStatus::Closed);
        let messages = store
            .list_messages(resolved, false, None, 10)
            .await
            .unwrap();
        let last = messages.last().unwrap();
        assert!(last.body.contains("closed automatically"), "{}", last.body);
        assert_eq!(
            store.ticket(urgent).await.unwrap().unwrap().status,
            TicketStatus::Open,
            "open work is not closed"
        );
        assert_eq!(
            breach_kinds(&store, agent).await,
            {
                let mut expected = vec![
                    (urgent, "first_response".to_owned()),
                    (urgent, "resolution".to_owned()),
                ];
                expected.sort();
                expected
            },
            "each breach is told once"
        );
        let mut for_admins = vec![
            (unassigned, "first_response".to_owned()),
            (unassigned, "resolution".to_owned()),
            (second_unassigned, "first_response".to_owned()),
            (second_unassigned, "resolution".to_owned()),
        ];
        for_admins.sort();
        assert_eq!(
            breach_kinds(&store, admin).await,
            for_admins,
            "unassigned work is told to the admins"
        );
        assert!(
            !std::fs::exists(temp.join("upload.part")).unwrap(),
            "a day-old temporary file goes"
        );

        // Run again at once: nothing but webhook delivery (due on every pass) runs.
        let again = succeeded(&run_once(&database, data_dir.path(), later, "a"));
        let ran: Vec<&str> = again
            .lines()
            .filter_map(|line| line.split(':').next())
            .collect();
        assert_eq!(ran, ["deliver_webhooks"], "no other job is due yet");
        // Later still, by two processes at once: each job runs exactly once, and re-runs tell nothing new.
        let forty_days = start + time::Duration::days(40);
        let spawn = |holder: &str| {
            Command::new(BINARY)
                .env_clear()
                .arg("--database-url")
                .arg(database.url())
                .arg("--data-dir")
                .arg(data_dir.path())
                .args(["run", "--once", "--holder", holder, "--now"])
                .arg(forty_days.format(&Rfc3339).unwrap())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (first, second) = (spawn("b"), spawn("c"));
        let outputs = [
            first.wait_with_output().unwrap(),
            second.wait_with_output().unwrap(),
        ];
        let printed: String = outputs.iter().map(succeeded).collect();
        for job in [
            "auto_close",
            "sla_breaches",
            "purge_expired",
            "clean_temp",
            "merge_search_indexes",
        ] {
            let runs = store.job_runs(job).await.unwrap();
            assert_eq!(runs.len(), 3, "{job} ran once per due pass: {runs:?}");
            assert_eq!(printed.matches(&format!("{job}:")).count(), 1, "{printed}");
        }
        assert!(
            printed.contains("sla_breaches: {\"breaches\":0}"),
            "{printed}"
        );
        assert!(
            printed.contains("\"sessions\":1"),
            "the session that ended ten days ago goes: {printed}"
        );
        assert_eq!(breach_kinds(&store, agent).await.len(), 2);
        store.close().await;
    }

    #[tokio::test]
    async fn maintenance_on_sqlite() {
        maintenance(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn maintenance_on_postgres() {
        maintenance(BackendKind::Postgres).await;
    }

    /// Ticket 1's priority rank, set to `new` first when given (as an agent's change would).
    async fn first_ticket_priority(kind: BackendKind, url: &str, new: Option<i16>) -> i16 {
        let update = "UPDATE tickets SET priority = $1 WHERE number = 1";
        let select = "SELECT priority FROM tickets WHERE number = 1";
        match kind {
            BackendKind::Postgres => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                if let Some(rank) = new {
                    sqlx::query(update).bind(rank).execute(&pool).await.unwrap();
                }
                let rank = sqlx::query_scalar(select).fetch_one(&pool).await.unwrap();
                pool.close().await;
                rank
            }
            BackendKind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                if let Some(rank) = new {
                    sqlx::query(update).bind(rank).execute(&pool).await.unwrap();
                }
                let rank = sqlx::query_scalar(select).fetch_one(&pool).await.unwrap();
                pool.close().await;
                rank
            }
        }
    }

    async fn scheduled_imports(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let dir = tempfile::tempdir().unwrap();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let config = dir.path().join("growdesk.toml");
        std::fs::write(
            &config,
            format!(
                "[[scheduled_imports]]\nname = \"complaints\"\nevery_minutes = 60\nargs = [\"csv\", {:?}, \"--mapping\", {:?}]\n",
                fixtures.join("cfpb_complaints.csv").display().to_string(),
                fixtures.join("cfpb.toml").display().to_string()
            ),
        )
        .unwrap();
        let start = time::OffsetDateTime::now_utc();
        let run_at = |offset: time::Duration| {
            let output = Command::new(BINARY)
                .env_clear()
                .arg("--config")
                .arg(&config)
                .arg("--database-url")
                .arg(database.url())
                .arg("--data-dir")
                .arg(dir.path())
                .args(["run", "--once", "--now"])
                .arg((start + offset).format(&Rfc3339).unwrap())
                .output()
                .unwrap();
            succeeded(&output)
        };
        let first = run_at(time::Duration::ZERO);
        assert!(
            first.contains(
                "import:complaints: {\"created\":40,\"refused\":0,\"unchanged\":0,\"updated\":0}"
            ),
            "{first}"
        );
        assert!(
            !run_at(time::Duration::minutes(10)).contains("import:"),
            "not due for an hour"
        );
        // Work done here since the import survives the next one (the source did not change).
        first_ticket_priority(kind, database.url(), Some(4)).await;
        let again = run_at(time::Duration::minutes(61));
        assert!(
            again.contains("\"created\":0") && again.contains("\"unchanged\":40"),
            "{again}"
        );
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        assert_eq!(store.job_runs("import:complaints").await.unwrap().len(), 2);
        assert_eq!(
            first_ticket_priority(kind, database.url(), None).await,
            4,
            "the re-import kept the local change"
        );
        store.close().await;

        std::fs::write(
            &config,
            "[[scheduled_imports]]\nname = \"broken\"\nevery_minutes = 5\nargs = [\"ftp\"]\n",
        )
        .unwrap();
        let refused = Command::new(BINARY)
            .env_clear()
            .arg("--config")
            .arg(&config)
            .arg("--database-url")
            .arg(database.url())
            .args(["run", "--once"])
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("scheduled import \"broken\""), "{stderr}");
    }

    #[tokio::test]
    async fn scheduled_imports_on_sqlite() {
        scheduled_imports(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn scheduled_imports_on_postgres() {
        scheduled_imports(BackendKind::Postgres).await;
    }

    #[tokio::test]
    async fn run_stops_cleanly_on_sigterm() {
        let database = TestDatabase::create(BackendKind::Sqlite).await;
        let data_dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["run", "--tick-secs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        let mut waited = Duration::ZERO;
        while store
            .job_runs("clean_temp")
            .await
            .map_or(true, |runs| runs.is_empty())
        {
            assert!(
                waited < Duration::from_secs(30),
                "the first pass never finished"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += Duration::from_millis(100);
        }
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let mut stopped = None;
        for _ in 0..100 {
            if let Some(status) = child.try_wait().unwrap() {
                stopped = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let status = stopped.unwrap_or_else(|| {
            child.kill().unwrap();
            panic!("run did not stop within 10 s of SIGTERM");
        });
        assert!(status.success(), "{status:?}");
        store.close().await;
    }

    /// SIGTERM the moment `run` logs that it runs is a clean stop: the handlers are in place
    /// before that line. Several fresh starts, as a late handler loses the race only at times.
    #[tokio::test]
    async fn sigterm_as_soon_as_run_says_it_runs_stops_cleanly() {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts/sigterm-when-ready.sh");
        for start in 1..=5 {
            let database = TestDatabase::create(BackendKind::Sqlite).await;
            let data_dir = tempfile::tempdir().unwrap();
            let output = Command::new("bash")
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .arg(&script)
                .args(["--stderr", "running the maintenance jobs", BINARY])
                .arg("--database-url")
                .arg(database.url())
                .arg("--data-dir")
                .arg(data_dir.path())
                .arg("run")
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "start {start}: {:?} {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    #[test]
    fn bad_targets_are_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(BINARY)
            .env_clear()
            .env("GROWDESK_SLA_FIRST_RESPONSE_HOURS", "low=24,medium=soon")
            .arg("--database-url")
            .arg(format!(
                "sqlite://{}",
                dir.path().join("db.sqlite").display()
            ))
            .args(["run", "--once"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("sla_first_response_hours"), "{stderr}");
    }
}

mod webhook_delivery {
    //! `growdesk-sync run` delivers the outbox: Standard Webhooks signatures that verify, retries
    //! that back off and give up after a day, and internal targets refused at send time.

    use std::process::{Command, Output};
    use std::sync::atomic::{AtomicU16, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, StatusCode};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use growdesk_domain::{DeliveryStatus, Role, TicketSource, WebhookDelivery};
    use growdesk_store::testkit::TestDatabase;
    use growdesk_store::{BackendKind, NewTicket, NewUser, PoolSettings, Store, WebhookFields};
    use hmac::{Hmac, Mac};
    use serde_json::Value;
    use sha2::Sha256;
    use time::format_description::well_known::Rfc3339;
    use uuid::Uuid;

    use super::BINARY;

    const KEY: [u8; 24] = *b"a test key of 24 bytes!!";

    /// What the receiver got: headers and body of each request.
    type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

    async fn receiver(answer: Arc<AtomicU16>) -> (String, Received) {
        let received: Received = Arc::default();
        let log = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let log = log.clone();
                let answer = answer.clone();
                async move {
                    log.lock().unwrap().push((headers, body.to_vec()));
                    StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let url = format!("{}/hook", super::serve_on_loopback(app).await);
        (url, received)
    }

    fn run_at(database: &TestDatabase, now: time::OffsetDateTime, allow_private: bool) -> Output {
        let output = Command::new(BINARY)
            .env_clear()
            .env(
                "GROWDESK_WEBHOOK_ALLOW_PRIVATE_TARGETS",
                allow_private.to_string(),
            )
            .env("GROWDESK_LOG_LEVEL", "debug")
            .arg("--database-url")
            .arg(database.url())
            .args(["run", "--once", "--now"])
            .arg(now.format(&Rfc3339).unwrap())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let secret = BASE64.encode(KEY);
        for printed in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(printed).contains(&secret),
                "the signing secret reached the logs"
            );
        }
        output
    }

    async fn open_ticket(store: &Store, requester: Uuid, subject: &str) -> Uuid {
        let id = Uuid::now_v7();
        store
            .create_ticket(
                NewTicket {
                    id,
                    subject: subject.into(),
                    priority: growdesk_domain::Priority::Medium,
                    category_id: None,
                    requester_id: requester,
                    source: TicketSource::Web,
                    tags: Vec::new(),
                    actor_id: requester,
                    description: "help".into(),
                    extra_events: Vec::new(),
                    visitor_id: None,
                    context: Value::Null,
                },
                None,
            )
            .await
            .unwrap();
        id
    }

    async fn deliveries(store: &Store, webhook: Uuid) -> Vec<WebhookDelivery> {
        store.webhook_deliveries(webhook, None, 100).await.unwrap()
    }

    fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
        headers.get(name).unwrap().to_str().unwrap()
    }

    async fn delivery(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        store.migrate().await.unwrap();
        let answer = Arc::new(AtomicU16::new(500));
        let (url, received) = receiver(answer.clone()).await;
        let secret = format!("whsec_{}", BASE64.encode(KEY));
        let fields = WebhookFields {
            url,
            event_types: vec!["created".into()],
            active: true,
        };
        let webhook = store.create_webhook(&secret, &fields).await.unwrap();
        let customer = store
            .create_user(NewUser {
                email: "cy@example.com".into(),
                name: "Cy".into(),
                role: Role::Customer,
                password_hash: None,
            })
            .await
            .unwrap();
        let ticket = open_ticket(&store, customer.id, "Refund").await;
        let outbox = deliveries(&store, webhook.id).await;
        assert_eq!(outbox.len(), 1, "one `created` event: {outbox:?}");
        let start = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap()
            + time::Duration::seconds(5);

        // First attempt: the receiver fails; the delivery waits 30 s ± 25 %.
        run_at(&database, start, true);
        let first = received.lock().unwrap().clone();
        assert_eq!(first.len(), 1);
        let (headers, body) = &first[0];
        let id = header(headers, "webhook-id");
        let timestamp = header(headers, "webhook-timestamp");
        assert_eq!(id, format!("msg_{}", outbox[0].id));
        assert_eq!(timestamp, start.unix_timestamp().to_string());
        let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
        assert_eq!(
            header(headers, "webhook-signature"),
            expected,
            "the signature verifies"
        );
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(payload["type"], "created");
        assert_eq!(payload["data"]["ticket_id"], ticket.to_string());
        let after_first = &deliveries(&store, webhook.id).await[0];
        assert_eq!(after_first.status, DeliveryStatus::Pending);
        assert_eq!(after_first.attempts, 1);
        assert_eq!(after_first.last_status, Some(500));
        let wait = after_first.next_attempt_at - start;
        assert!(
            wait >= time::Duration::milliseconds(22_500)
                && wait <= time::Duration::milliseconds(37_500),
            "{wait}"
        );

        // Not due yet: nothing is sent.
        run_at(&database, start + time::Duration::seconds(10), true);
        assert_eq!(
            received.lock().unwrap().len(),
            1,
            "no retry before its time"
        );

        // Due, and the receiver is back: delivered, under the same message id.
        answer.store(204, Ordering::SeqCst);
        run_at(&database, start + time::Duration::seconds(60), true);
        let all = received.lock().unwrap().clone();
        assert_eq!(all.len(), 2);
        assert_eq!(
            header(&all[1].0, "webhook-id"),
            id,
            "retries keep the message id"
        );
        let delivered = &deliveries(&store, webhook.id).await[0];
        assert_eq!(delivered.status, DeliveryStatus::Delivered);
        assert_eq!((delivered.attempts, delivered.last_status), (2, Some(204)));
        run_at(&database, start + time::Duration::seconds(120), true);
        assert_eq!(
            received.lock().unwrap().len(),
            2,
            "a delivered event is not sent again"
        );

        // Without permission for internal targets, the loopback receiver is refused at send.
        open_ticket(&store, customer.id, "Third").await;
        let before = received.lock().unwrap().len();
        run_at(&database, start + time::Duration::seconds(180), false);
        assert_eq!(
            received.lock().unwrap().len(),
            before,
            "nothing reached the internal address"
        );
        let refused = &deliveries(&store, webhook.id).await[0];
        assert_eq!(
            refused.status,
            DeliveryStatus::Pending,
            "refused now, retried later"
        );
        assert!(
            refused
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("target refused"),
            "{refused:?}"
        );
        // A receiver down for over a day: the delivery is marked failed.
        answer.store(503, Ordering::SeqCst);
        open_ticket(&store, customer.id, "Another").await;
        run_at(&database, start + time::Duration::hours(25), true);
        let newest = &deliveries(&store, webhook.id).await[0];
        assert_eq!(newest.status, DeliveryStatus::Failed, "{newest:?}");
        assert_eq!(newest.last_status, Some(503));

        store.close().await;
    }

    /// A receiver that fails, then stalls past the send timeout, then recovers: every event is
    /// acknowledged exactly once by its `webhook-id`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_then_stalling_receiver_gets_every_event_once() {
        let database = TestDatabase::create(BackendKind::Sqlite).await;
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        store.migrate().await.unwrap();
        // 500: fail; 0: stall 12 s (past the 10 s timeout), then answer 200; 200: fine.
        let mode = Arc::new(AtomicU16::new(500));
        let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
        let app = {
            let mode = mode.clone();
            let acknowledged = acknowledged.clone();
            axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap| {
                    let mode = mode.clone();
                    let acknowledged = acknowledged.clone();
                    async move {
                        let id = header(&headers, "webhook-id").to_owned();
                        match mode.load(Ordering::SeqCst) {
                            500 => StatusCode::INTERNAL_SERVER_ERROR,
                            0 => {
                                tokio::time::sleep(std::time::Duration::from_secs(12)).await;
                                StatusCode::OK
                            }
                            _ => {
                                acknowledged.lock().unwrap().push(id);
                                StatusCode::OK
                            }
                        }
                    }
                }),
            )
        };
        let url = format!("{}/hook", super::serve_on_loopback(app).await);
        let secret = format!("whsec_{}", BASE64.encode(KEY));
        let fields = WebhookFields {
            url,
            event_types: vec!["*".into()],
            active: true,
        };
        let webhook = store.create_webhook(&secret, &fields).await.unwrap();
        let customer = store
            .create_user(NewUser {
                email: "cy@example.com".into(),
                name: "Cy".into(),
                role: Role::Customer,
                password_hash: None,
            })
            .await
            .unwrap();
        for subject in ["One", "Two", "Three"] {
            open_ticket(&store, customer.id, subject).await;
        }
        let events = deliveries(&store, webhook.id).await.len();
        assert!(events >= 3);
        let start = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);

        run_at(&database, start, true);
        mode.store(0, Ordering::SeqCst);
        run_at(&database, start + time::Duration::minutes(2), true);
        let stalled = deliveries(&store, webhook.id).await;
        assert!(
            stalled
                .iter()
                .all(|d| d.status == DeliveryStatus::Pending && d.attempts == 2),
            "timed out, to be retried: {stalled:?}"
        );
        mode.store(200, Ordering::SeqCst);
        run_at(&database, start + time::Duration::minutes(10), true);
        run_at(&database, start + time::Duration::minutes(20), true);

        let mut ids = acknowledged.lock().unwrap().clone();
        ids.sort();
        let mut expected: Vec<String> = deliveries(&store, webhook.id)
            .await
            .iter()
            .map(|d| format!("msg_{}", d.id))
            .collect();
        expected.sort();
        assert_eq!(ids, expected, "every event acknowledged exactly once");
        assert!(
            deliveries(&store, webhook.id)
                .await
                .iter()
                .all(|d| d.status == DeliveryStatus::Delivered)
        );
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delivery_on_sqlite() {
        delivery(BackendKind::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delivery_on_postgres() {
        delivery(BackendKind::Postgres).await;
    }

    /// Webhooks saved before the guard knew these blocks (or by a name that resolved elsewhere
    /// then) are checked again when sent: IPv4 loopback carried in NAT64, SIIT and 6to4.
    async fn carried_internal_addresses_are_refused_at_send(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let store = Store::connect(database.url(), PoolSettings::default()).unwrap();
        store.migrate().await.unwrap();
        let secret = format!("whsec_{}", BASE64.encode(KEY));
        let mut webhooks = Vec::new();
        for url in [
            "http://[64:ff9b::7f00:1]:9/hook",
            "http://[::ffff:0:7f00:1]:9/hook",
            "http://[2002:7f00:1::1]:9/hook",
        ] {
            let fields = WebhookFields {
                url: url.to_owned(),
                event_types: vec!["*".into()],
                active: true,
            };
            webhooks.push(store.create_webhook(&secret, &fields).await.unwrap());
        }
        let customer = store
            .create_user(NewUser {
                email: "cy@example.com".into(),
                name: "Cy".into(),
                role: Role::Customer,
                password_hash: None,
            })
            .await
            .unwrap();
        open_ticket(&store, customer.id, "Refund").await;
        run_at(
            &database,
            time::OffsetDateTime::now_utc() + time::Duration::seconds(5),
            false,
        );
        for webhook in &webhooks {
            let attempt = &deliveries(&store, webhook.id).await[0];
            assert_eq!(attempt.attempts, 1, "{}: {attempt:?}", webhook.url);
            assert!(
                attempt
                    .last_error
                    .as_deref()
                    .is_some_and(|error| error.contains("target refused")),
                "{}: {attempt:?}",
                webhook.url
            );
        }
        store.close().await;
    }

    #[tokio::test]
    async fn carried_internal_addresses_are_refused_at_send_on_sqlite() {
        carried_internal_addresses_are_refused_at_send(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn carried_internal_addresses_are_refused_at_send_on_postgres() {
        carried_internal_addresses_are_refused_at_send(BackendKind::Postgres).await;
    }
}

mod progress {
    //! The import spinner: drawn on a terminal, absent from pipes and logs.

    use std::path::Path;
    use std::process::Command;

    use super::BINARY;

    fn import_command(database: &Path) -> String {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        format!(
            "{BINARY} --database-url sqlite://{} import csv {} --mapping {}",
            database.display(),
            fixtures.join("cfpb_complaints.csv").display(),
            fixtures.join("cfpb.toml").display()
        )
    }

    #[test]
    fn a_terminal_sees_progress_and_a_pipe_does_not() {
        let dir = tempfile::tempdir().unwrap();
        // `script` runs the import on a pseudo-terminal, as a person at a shell would.
        let on_terminal = Command::new("script")
            .args([
                "-qec",
                &import_command(&dir.path().join("tty.db")),
                "/dev/null",
            ])
            .env_clear()
            .env("TERM", "xterm")
            .output()
            .unwrap();
        // Every complaint becomes a ticket, those without a narrative too.
        assert_eq!(on_terminal.status.code(), Some(0));
        let shown = String::from_utf8_lossy(&on_terminal.stdout);
        assert!(shown.contains(" records ("), "{shown}");
        assert!(shown.contains("40 created"), "{shown}");

        let piped = Command::new("sh")
            .args(["-c", &import_command(&dir.path().join("pipe.db"))])
            .env_clear()
            .env("TERM", "xterm")
            .output()
            .unwrap();
        assert_eq!(piped.status.code(), Some(0));
        let stderr = String::from_utf8_lossy(&piped.stderr);
        let stdout = String::from_utf8_lossy(&piped.stdout);
        assert!(stdout.contains("40 created"), "{stdout}");
        assert!(
            !stderr.contains(" records (") && !stdout.contains(" records ("),
            "{stderr}"
        );
    }
}

mod hostile_files {
    //! Files an import or export meets that are not what they seem: a directory named like a
    //! file, a link planted where the export goes, lines and fields of any length, and a source
    //! that never stops answering 429.

    use std::fs::File;
    use std::os::unix::fs::{PermissionsExt as _, symlink};
    use std::path::Path;
    use std::process::{Command, Output, Stdio};
    use std::time::{Duration, Instant};

    use axum::http::{StatusCode, header};
    use growdesk_store::BackendKind;
    use growdesk_store::testkit::TestDatabase;
    use serde_json::{Value, json};

    use super::BINARY;

    /// A Zendesk import from the source at `base`.
    fn import_zendesk_from(database: &TestDatabase, dir: &Path, base: &str) -> Output {
        let args = [
            "import",
            "zendesk",
            "--url",
            base,
            "--email",
            "a@example.com",
            "--token",
            "t",
        ];
        sync(database, dir, &args)
    }

    /// Far longer than any of these runs takes; a run still going then is stuck in a loop.
    const PATIENCE: Duration = Duration::from_secs(30);

    /// Runs the binary with its output in files under `dir` (a pipe left unread could stall
    /// it); a run that outlasts `PATIENCE` is killed and fails the test.
    fn sync(database: &TestDatabase, dir: &Path, args: &[&str]) -> Output {
        let stdout = dir.join("stdout");
        let stderr = dir.join("stderr");
        let mut child = Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(database.url())
            .args(args)
            .stdout(Stdio::from(File::create(&stdout).unwrap()))
            .stderr(Stdio::from(File::create(&stderr).unwrap()))
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > PATIENCE {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{args:?} still running after {PATIENCE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: std::fs::read(stdout).unwrap(),
            stderr: std::fs::read(stderr).unwrap(),
        }
    }

    async fn migrated(kind: BackendKind, dir: &Path) -> TestDatabase {
        let database = TestDatabase::create(kind).await;
        let migrate = sync(&database, dir, &["migrate"]);
        assert!(migrate.status.success());
        database
    }

    fn path(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    async fn directories_named_like_files_end_the_import(kind: BackendKind) {
        let dir = tempfile::tempdir().unwrap();
        let database = migrated(kind, dir.path()).await;
        let export = dir.path().join("export.jsonl");
        let spreadsheet = dir.path().join("tickets.csv");
        let zendesk = dir.path().join("zendesk");
        let freshdesk = dir.path().join("freshdesk");
        for directory in [
            export.clone(),
            spreadsheet.clone(),
            zendesk.join("users1.json"),
            freshdesk.join("contacts1.json"),
        ] {
            std::fs::create_dir_all(directory).unwrap();
        }
        for args in [
            vec!["import", "json", path(&export)],
            vec![
                "import",
                "csv",
                path(&spreadsheet),
                "--default-email",
                "a@example.com",
            ],
            vec!["import", "zendesk", path(&zendesk)],
            vec!["import", "freshdesk", path(&freshdesk)],
        ] {
            let run = sync(&database, dir.path(), &args);
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains("Is a directory"), "{args:?}: {stderr}");
        }
    }

    #[tokio::test]
    async fn directories_named_like_files_end_the_import_on_sqlite() {
        directories_named_like_files_end_the_import(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn directories_named_like_files_end_the_import_on_postgres() {
        directories_named_like_files_end_the_import(BackendKind::Postgres).await;
    }

    async fn written_files_replace_links_and_are_owner_only(kind: BackendKind) {
        let dir = tempfile::tempdir().unwrap();
        let database = migrated(kind, dir.path()).await;
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let linked = dir.path().join("linked.jsonl");
        symlink(&victim, &linked).unwrap();
        let export = sync(&database, dir.path(), &["export", path(&linked)]);
        assert!(
            export.status.success(),
            "{}",
            String::from_utf8_lossy(&export.stderr)
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&linked).unwrap().is_symlink());
        assert_eq!(mode(&linked), 0o600);
        assert!(
            std::fs::read_to_string(&linked)
                .unwrap()
                .contains("growdesk-export")
        );

        let open = dir.path().join("open.jsonl");
        std::fs::write(&open, "old").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let export = sync(&database, dir.path(), &["export", path(&open)]);
        assert!(export.status.success());
        assert_eq!(mode(&open), 0o600, "a world-readable file is not reused");

        let report = dir.path().join("report.json");
        symlink(&victim, &report).unwrap();
        let import = sync(
            &database,
            dir.path(),
            &["import", "json", path(&open), "--report", path(&report)],
        );
        assert!(
            import.status.success(),
            "{}",
            String::from_utf8_lossy(&import.stderr)
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(mode(&report), 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test]
    async fn written_files_replace_links_and_are_owner_only_on_sqlite() {
        written_files_replace_links_and_are_owner_only(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn written_files_replace_links_and_are_owner_only_on_postgres() {
        written_files_replace_links_and_are_owner_only(BackendKind::Postgres).await;
    }

    #[test]
    fn a_new_sqlite_database_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data").join("growdesk.db");
        let migrate = Command::new(BINARY)
            .env_clear()
            .arg("--database-url")
            .arg(format!("sqlite://{}", file.display()))
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            migrate.status.success(),
            "{}",
            String::from_utf8_lossy(&migrate.stderr)
        );
        for entry in std::fs::read_dir(file.parent().unwrap()).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(
                mode(&path),
                0o600,
                "{} holds password hashes",
                path.display()
            );
        }
    }

    /// The refusals in the report at `file`, as `(position, reason)`.
    fn refusals(file: &Path) -> Vec<(String, String)> {
        let report: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        report["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|refused| {
                (
                    refused["position"].as_str().unwrap().to_owned(),
                    refused["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    async fn overlong_records_are_refused_by_position(kind: BackendKind) {
        let dir = tempfile::tempdir().unwrap();
        let database = migrated(kind, dir.path()).await;
        // Past both limits: 32 MiB for a line of GrowDesk's export, 8 MiB for a CSV row.
        let huge = "x".repeat(33 * 1024 * 1024);
        let header = json!({"kind": "header", "format": "growdesk-export", "version": 1, "exported_at": "2024-01-02T03:04:05Z"});
        let user = |email: &str, name: &str| json!({"kind": "user", "id": uuid::Uuid::now_v7(), "email": email, "name": name, "role": "customer", "active": true, "password_hash": null, "created_at": "2024-01-02T03:04:05Z"});
        let export = dir.path().join("huge.jsonl");
        std::fs::write(
            &export,
            [
                header.to_string(),
                user("long@example.com", &huge).to_string(),
                user("fine@example.com", "Fine").to_string(),
            ]
            .join("\n"),
        )
        .unwrap();
        let spreadsheet = dir.path().join("huge.csv");
        std::fs::write(
            &spreadsheet,
            format!(
                "subject,body,email\nLong,\"{huge}\",a@example.com\nFine,Hello,b@example.com\n"
            ),
        )
        .unwrap();
        let report = dir.path().join("report.json");
        for args in [
            vec!["import", "json", path(&export)],
            vec!["import", "csv", path(&spreadsheet)],
        ] {
            let mut args = args;
            args.extend(["--report", path(&report)]);
            let run = sync(&database, dir.path(), &args);
            assert_eq!(
                run.status.code(),
                Some(1),
                "{args:?}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            let refused = refusals(&report);
            assert_eq!(refused.len(), 1, "{args:?}: {refused:?}");
            assert_eq!(refused[0].0, "line 2", "{args:?}");
            assert!(refused[0].1.contains("MiB"), "{args:?}: {refused:?}");
            let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            assert!(
                report["created"].as_u64().unwrap() >= 1,
                "the next record goes in"
            );
        }
    }

    #[tokio::test]
    async fn overlong_records_are_refused_by_position_on_sqlite() {
        overlong_records_are_refused_by_position(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn overlong_records_are_refused_by_position_on_postgres() {
        overlong_records_are_refused_by_position(BackendKind::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_source_that_always_answers_429_ends_the_import() {
        let always_busy =
            || async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "0")]) };
        let base = super::serve_on_loopback(axum::Router::new().fallback(always_busy)).await;
        let dir = tempfile::tempdir().unwrap();
        let database = migrated(BackendKind::Sqlite, dir.path()).await;
        let run = import_zendesk_from(&database, dir.path(), &base);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("429"), "{stderr}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_next_page_on_another_host_gets_no_request_and_no_credentials() {
        let reached = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = reached.clone();
        let count = move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { axum::Json(json!({"users": []})) }
        };
        let elsewhere_url = super::serve_on_loopback(axum::Router::new().fallback(count)).await;
        let next = format!("{elsewhere_url}/latest/meta-data");
        let first_page = move || {
            let next = next.clone();
            async move { axum::Json(json!({"users": [], "next_page": next})) }
        };
        let base = super::serve_on_loopback(axum::Router::new().fallback(first_page)).await;
        let dir = tempfile::tempdir().unwrap();
        let database = migrated(BackendKind::Sqlite, dir.path()).await;
        let run = import_zendesk_from(&database, dir.path(), &base);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is not on"), "{stderr}");
        assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}

mod credentials {
    //! A database URL's credentials, in whatever form they are given, never reach the output.

    use std::process::Command;

    use growdesk_store::BackendKind;
    use growdesk_store::testkit::TestDatabase;

    use super::BINARY;

    /// `url` with its password (or a stand-in, for a server that asks none) moved into a
    /// `password` parameter, beside other secret-bearing parameters; and the secrets given.
    fn with_secret_parameters(url: &str) -> (String, Vec<String>) {
        let mut parsed = url::Url::parse(url).unwrap();
        let password = parsed
            .password()
            .map_or_else(|| "unused-password-4711".to_owned(), str::to_owned);
        parsed.set_password(None).unwrap();
        parsed
            .query_pairs_mut()
            .append_pair("sslmode", "disable")
            .append_pair("password", &password)
            .append_pair("sslpassword", "hunter2-key-passphrase")
            .append_pair("passfile", "/run/secrets/pgpass-4711");
        let secrets = vec![
            password,
            "hunter2-key-passphrase".to_owned(),
            "/run/secrets/pgpass-4711".to_owned(),
        ];
        (parsed.into(), secrets)
    }

    async fn credentials_stay_out_of_the_output(kind: BackendKind) {
        let database = TestDatabase::create(kind).await;
        let (url, secrets) = match kind {
            BackendKind::Postgres => with_secret_parameters(database.url()),
            // SQLite refuses parameters it does not know: the refusal must not echo them.
            BackendKind::Sqlite => (
                format!("{}?password=hunter2-sqlite", database.url()),
                vec!["hunter2-sqlite".to_owned()],
            ),
        };
        let output = Command::new(BINARY)
            .env_clear()
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for secret in &secrets {
            assert!(!shown.contains(secret.as_str()), "{secret} shown: {shown}");
        }
        if kind == BackendKind::Postgres {
            assert!(output.status.success(), "{shown}");
            assert!(
                shown.contains("password=***"),
                "the URL is logged, redacted: {shown}"
            );
        }
    }

    #[tokio::test]
    async fn credentials_stay_out_of_the_output_on_sqlite() {
        credentials_stay_out_of_the_output(BackendKind::Sqlite).await;
    }

    #[tokio::test]
    async fn credentials_stay_out_of_the_output_on_postgres() {
        credentials_stay_out_of_the_output(BackendKind::Postgres).await;
    }
}
