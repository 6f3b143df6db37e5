//! "Test connection" against a real IMAP server (Dovecot) and a real SMTP server started for
//! the test, plain or over TLS with a private CA, and mailbox passwords kept out of the server's
//! log.

use growdesk_domain::mail::TransportSecurity;
use growdesk_mail::testkit::{Dovecot, SmtpSink, TestCa};
use growdesk_store::BackendKind;
use serde_json::{Value, json};

use super::{IMAP_PASSWORD, SMTP_PASSWORD, holds_no_password, mailbox_body};
use crate::binary::{Server, root_token};
use crate::helpers::spawn_app;

on_both_backends!(
    the_connection_test_reports_each_side,
    mailbox_passwords_never_reach_the_log,
    a_private_ca_is_trusted_through_ssl_cert_file,
);

const SUPPORT: &str = "support@example.test";
const WRONG_PASSWORD: &str = "wrong-imap-password-9";

/// A port nothing listens on: one the system just handed out and took back.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn the_connection_test_reports_each_side(kind: BackendKind) {
    let dovecot = Dovecot::start(&[SUPPORT]).await.unwrap();
    let sink = SmtpSink::start(&dovecot).await.unwrap();
    let password = dovecot.password(SUPPORT).to_owned();
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let mut imap = serde_json::to_value(dovecot.imap_settings(SUPPORT)).unwrap();
    imap["password"] = json!(password);
    let mut smtp = serde_json::to_value(sink.smtp_settings(SUPPORT)).unwrap();
    smtp["password"] = json!(password);
    let created = app
        .post(
            "/api/mailboxes",
            Some(&admin),
            json!({"address": SUPPORT, "display_name": "Support", "imap": imap, "smtp": smtp}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/api/mailboxes/{}", created["id"].as_str().unwrap());
    let test = format!("{path}/test");

    let report = app
        .post(&test, Some(&admin), json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(
        report,
        json!({"imap": {"ok": true, "error": null}, "smtp": {"ok": true, "error": null}})
    );

    app.patch(&path, &admin, json!({"imap": {"password": WRONG_PASSWORD}}))
        .await
        .expect(200);
    let report = app
        .post(&test, Some(&admin), json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(report["imap"]["ok"], false, "{report}");
    let error = report["imap"]["error"].as_str().expect("a reason");
    assert!(!error.trim().is_empty());
    for secret in [WRONG_PASSWORD, password.as_str()] {
        assert!(!report.to_string().contains(secret), "{report}");
    }
    assert_eq!(report["smtp"], json!({"ok": true, "error": null}));

    // Nothing listens on a port just released: the report says the SMTP side is unreachable.
    let closed = closed_port();
    app.patch(
        &path,
        &admin,
        json!({"smtp": {"port": closed, "password": password}}),
    )
    .await
    .expect(200);
    let report = app
        .post(&test, Some(&admin), json!({}))
        .await
        .expect(200)
        .body;
    assert_eq!(report["smtp"]["ok"], false, "{report}");
    assert!(
        report["smtp"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );

    // Only admins test, and only mailboxes that exist.
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    app.post(&test, Some(&agent), json!({})).await.problem(403);
    app.post(
        &format!("/api/mailboxes/{}/test", uuid::Uuid::now_v7()),
        Some(&admin),
        json!({}),
    )
    .await
    .problem(404);
}

/// The real binary logging at debug level: creating, changing and testing a mailbox writes
/// none of its passwords to the log.
async fn mailbox_passwords_never_reach_the_log(kind: BackendKind) {
    let database = growdesk_store::testkit::TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let server = Server::start(
        dir.path(),
        &[
            ("GROWDESK_DATABASE_URL", database.url()),
            ("GROWDESK_DATA_DIR", &data),
            ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
            ("GROWDESK_ADMIN_PASSWORD", "root-password-1"),
            ("GROWDESK_LOG_LEVEL", "debug"),
        ],
    );
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let login: Value = client
        .post(url("/api/auth/login"))
        .json(&json!({"email": "root@example.com", "password": "root-password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let send = |method: reqwest::Method, path: String, body: Value| {
        client
            .request(method, url(&path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let mut body = mailbox_body(SUPPORT);
    body["imap"]["port"] = json!(closed_port());
    let created = send(reqwest::Method::POST, "/api/mailboxes".to_owned(), body)
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    holds_no_password(&created);
    let path = format!("/api/mailboxes/{}", created["id"].as_str().unwrap());
    // A refused change that carries a password: the refusal must not echo it.
    let refused = send(
        reqwest::Method::PATCH,
        path.clone(),
        json!({"imap": {"port": 0, "password": WRONG_PASSWORD}}),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(!refused.text().await.unwrap().contains(WRONG_PASSWORD));
    let tested = send(reqwest::Method::POST, format!("{path}/test"), json!({}))
        .await
        .unwrap();
    assert_eq!(tested.status(), 200);
    let report: Value = tested.json().await.unwrap();
    assert_eq!(report["imap"]["ok"], false, "no IMAP server listens there");
    holds_no_password(&report);

    let (status, logs) = server.terminate();
    assert!(status.success(), "{logs}");
    assert!(
        logs.contains("/api/mailboxes"),
        "requests are logged: {logs}"
    );
    for secret in [IMAP_PASSWORD, SMTP_PASSWORD, WRONG_PASSWORD] {
        assert!(!logs.contains(secret), "{secret} in the log:\n{logs}");
    }
}

/// The real binary, as the README says: servers whose certificates a private CA issued fail the
/// connection test with a reason that names the way out, until `SSL_CERT_FILE` holds the CA.
async fn a_private_ca_is_trusted_through_ssl_cert_file(kind: BackendKind) {
    let ca = TestCa::new().unwrap();
    let cert = ca.localhost().unwrap();
    let dovecot = Dovecot::start_tls(&[SUPPORT], &cert).await.unwrap();
    let sink = SmtpSink::start_tls(&dovecot, TransportSecurity::StartTls, &cert)
        .await
        .unwrap();
    let password = dovecot.password(SUPPORT);
    let mut imap =
        serde_json::to_value(dovecot.imap_settings_over(SUPPORT, TransportSecurity::Tls)).unwrap();
    imap["password"] = json!(password);
    let mut smtp = serde_json::to_value(sink.smtp_settings(SUPPORT)).unwrap();
    smtp["password"] = json!(password);

    let database = growdesk_store::testkit::TestDatabase::create(kind).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let bundle = dir.path().join("private-ca.pem");
    std::fs::write(&bundle, ca.pem()).unwrap();
    let bundle = bundle.display().to_string();
    let client = reqwest::Client::new();
    let mut test = None;
    for trusted in [false, true] {
        let mut env = vec![
            ("GROWDESK_DATABASE_URL", database.url()),
            ("GROWDESK_DATA_DIR", data.as_str()),
            ("GROWDESK_ADMIN_EMAIL", "root@example.com"),
            ("GROWDESK_ADMIN_PASSWORD", "root-password-1"),
        ];
        if trusted {
            env.push(("SSL_CERT_FILE", bundle.as_str()));
        }
        let server = Server::start(dir.path(), &env);
        let token = root_token(&client, &server.base).await;
        let path = match &test {
            Some(path) => path,
            None => {
                let created: Value = client
                    .post(format!("{}/api/mailboxes", server.base))
                    .bearer_auth(&token)
                    .json(&json!({"address": SUPPORT, "display_name": "Support", "imap": imap, "smtp": smtp}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let id = created["id"].as_str().expect("the mailbox is created");
                test.insert(format!("/api/mailboxes/{id}/test"))
            }
        };
        let report: Value = client
            .post(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if trusted {
            assert_eq!(
                report,
                json!({"imap": {"ok": true, "error": null}, "smtp": {"ok": true, "error": null}})
            );
        } else {
            for side in ["imap", "smtp"] {
                assert_eq!(report[side]["ok"], false, "{report}");
                let error = report[side]["error"].as_str().unwrap_or_default();
                assert!(
                    error.contains("UnknownIssuer") && error.contains("SSL_CERT_FILE"),
                    "{report}"
                );
            }
        }
        let (status, logs) = server.terminate();
        assert!(status.success(), "{logs}");
    }
}
