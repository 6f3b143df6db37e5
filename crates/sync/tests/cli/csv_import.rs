//! `import csv` with real data (CFPB complaints) and a conversation export.

use std::path::PathBuf;
use std::process::Output;

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use serde_json::Value;

use crate::support::{fixture, growdesk_sync, sync, tickets_and_messages};

fn report_of(output: &Output, file: &std::path::Path) -> Value {
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

async fn tickets(database: &TestDatabase) -> Vec<Value> {
    let (tickets, messages) = tickets_and_messages(database).await;
    tickets
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
        .collect()
}

/// The mapping the README gives for the CFPB export, as written there.
fn readme_cfpb_mapping() -> String {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
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
    let mut child = growdesk_sync()
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
