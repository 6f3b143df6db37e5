//! A database URL's credentials, in whatever form they are given, never reach the output.

use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;

use crate::support::growdesk_sync;

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
    let output = growdesk_sync()
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
