//! The import spinner: drawn on a terminal, absent from pipes and logs.

use std::path::Path;
use std::process::Command;

use crate::support::{BINARY, fixture};

fn import_command(database: &Path) -> String {
    format!(
        "{BINARY} --database-url sqlite://{} import csv {} --mapping {}",
        database.display(),
        fixture("cfpb_complaints.csv").display(),
        fixture("cfpb.toml").display()
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
