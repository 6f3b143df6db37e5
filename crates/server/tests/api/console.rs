//! The agent console: served at `/` with a strict Content-Security-Policy, its hashed assets
//! cached for long and its page never; and in a real browser (headless Chromium with
//! playwright-core and axe-core) on both backends: an agent's day (`tests/e2e/console.mjs`), the
//! composer's canned replies, files and mentions and the saved views
//! (`tests/e2e/console-composer.mjs`), an admin's screens (`tests/e2e/console-admin.mjs`), both
//! from the keyboard alone (`tests/e2e/console-keyboard.mjs`), two agents on one ticket: unread
//! markers, presence, a conflict, the assignee picker, the history
//! (`tests/e2e/console-ticket.mjs`), a session that outlives its access token and its socket
//! (`tests/e2e/console-resilience.mjs`), and the email channel against a throwaway Dovecot and
//! SMTP sink (`tests/e2e/email.mjs`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use growdesk_domain::MailKind;
use growdesk_mail::testkit::{Dovecot, SmtpSink};
use growdesk_service::Service;
use growdesk_store::mail::OutboundMail;
use growdesk_store::{BackendKind, Stamp};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_with, test_settings,
};

const CHROMIUM: &str = "/usr/bin/chromium";

fn header<'a>(reply: &'a crate::helpers::Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

async fn the_console_is_served_with_a_strict_policy(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let mut script = None;
    for path in [
        "/",
        "/sign-in",
        "/views/mine",
        "/views/open/tickets/0193",
        "/views/saved/0193/tickets/0194",
        "/dashboard",
        "/profile",
        "/canned-replies",
        "/admin/widgets",
        "/admin/faqs",
        "/admin/mailboxes",
        "/admin/email-templates",
        "/forgot-password",
        "/reset-password?token=abc",
    ] {
        let page = app.call(Method::GET, path, None, None).await.expect(200);
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&page, "cache-control"), "no-cache");
        let policy = header(&page, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "style-src 'self';",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(header(&page, "x-frame-options"), "DENY");
        let html = page.body.as_str().expect("an HTML page");
        assert!(!html.contains("<script>"), "no inline script");
        script = html
            .split("src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned);
    }
    let script = script.expect("the page loads its script");
    assert!(script.starts_with("/assets/"), "{script}");
    let asset = app.call(Method::GET, &script, None, None).await.expect(200);
    assert_eq!(
        header(&asset, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&asset, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    // The email templates' preview frame: a policy of its own that lets a mail's inline styles
    // apply, runs no inline script, loads nothing and may be framed by the console only.
    for (path, content_type) in [
        ("/email-preview", "text/html; charset=utf-8"),
        ("/email-preview.js", "text/javascript; charset=utf-8"),
    ] {
        let frame = app.call(Method::GET, path, None, None).await.expect(200);
        assert_eq!(header(&frame, "content-type"), content_type);
        let policy = header(&frame, "content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self';",
            "style-src 'unsafe-inline';",
            "img-src data:;",
            "frame-ancestors 'self'",
            "form-action 'none'",
            "sandbox allow-scripts",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert_eq!(header(&frame, "x-frame-options"), "SAMEORIGIN");
    }
    app.call(Method::GET, "/assets/missing.js", None, None)
        .await
        .problem(404);
    app.call(Method::GET, "/no-such-page", None, None)
        .await
        .problem(404);
    app.call(Method::POST, "/", None, None).await.problem(405);
}

/// Runs `script` from tests/e2e in node with `env` (and the base URL, the backend, the artifacts
/// directory and the browser), and fails with its output unless it succeeds.
async fn browse(
    kind: BackendKind,
    base: &str,
    script: &'static str,
    env: Vec<(&'static str, String)>,
) {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    assert!(
        Path::new(CHROMIUM).exists() && e2e.join("node_modules/axe-core").exists(),
        "the browser test needs Debian's chromium, playwright-core and axe-core: run scripts/test.sh, \
         which installs them (apt-get install chromium; npm ci --prefix crates/server/tests/e2e)"
    );
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let backend = match kind {
        BackendKind::Sqlite => "sqlite",
        BackendKind::Postgres => "postgres",
    };
    let base = base.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(e2e.join(script))
            .current_dir(&e2e)
            .envs(env)
            .env("BASE", base)
            .env("BACKEND", backend)
            .env("ARTIFACTS", &artifacts)
            .env("CHROMIUM", CHROMIUM)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the console's browser test {script} failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}

async fn an_agent_works_a_ticket_in_the_console(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let agent_id = agent_user["id"].as_str().unwrap().to_owned();
    let (customer, _) = app.user_token("carla@example.com", "customer").await;
    let env = vec![
        ("AGENT_EMAIL", "agent@example.com".to_owned()),
        ("AGENT_PASSWORD", "user-password-1".to_owned()),
        ("AGENT_TOKEN", agent),
        ("AGENT_ID", agent_id),
        ("ADMIN_TOKEN", admin),
        ("CUSTOMER_TOKEN", customer),
    ];
    browse(kind, &app.base, "console.mjs", env).await;
}

async fn an_agent_uses_canned_replies_files_mentions_and_saved_views(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, _) = app.user_token("ana@example.com", "agent").await;
    app.user_token("bruno@example.com", "agent").await;
    let (customer, _) = app.user_token("carla@example.com", "customer").await;
    let env = vec![
        ("AGENT_EMAIL", "ana@example.com".to_owned()),
        ("SECOND_EMAIL", "bruno@example.com".to_owned()),
        ("PASSWORD", "user-password-1".to_owned()),
        ("AGENT_TOKEN", agent),
        ("CUSTOMER_TOKEN", customer),
    ];
    browse(kind, &app.base, "console-composer.mjs", env).await;
}

async fn an_admin_runs_the_desk_in_the_console(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (customer, _) = app.user_token("carla@example.com", "customer").await;
    let env = vec![
        ("ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("ADMIN_TOKEN", admin),
        ("CUSTOMER_TOKEN", customer),
    ];
    browse(kind, &app.base, "console-admin.mjs", env).await;
}

/// Runs `scenario` of console-resilience.mjs with an agent, a customer and the admin.
async fn ride_out(kind: BackendKind, app: &TestApp, scenario: &'static str) {
    let (_, agent_user) = app.user_token("agent@example.com", "agent").await;
    app.user_token("carla@example.com", "customer").await;
    let env = vec![
        ("SCENARIO", scenario.to_owned()),
        ("AGENT_EMAIL", "agent@example.com".to_owned()),
        ("AGENT_PASSWORD", "user-password-1".to_owned()),
        ("AGENT_ID", agent_user["id"].as_str().unwrap().to_owned()),
        ("CUSTOMER_EMAIL", "carla@example.com".to_owned()),
        ("CUSTOMER_PASSWORD", "user-password-1".to_owned()),
        ("ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
    ];
    browse(kind, &app.base, "console-resilience.mjs", env).await;
}

async fn the_console_refreshes_an_expired_access_token_silently(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.access_token_ttl_secs = 3;
        // The script signs its API users in again each time their tokens expire.
        settings.auth_attempts_per_ip_per_minute = 10_000;
        settings.login_attempts_per_account_per_minute = 10_000;
    })
    .await;
    ride_out(kind, &app, "token").await;
}

async fn the_console_resumes_a_dropped_socket_without_missing_an_event(kind: BackendKind) {
    let app = spawn_app(kind).await;
    ride_out(kind, &app, "socket").await;
}

async fn the_console_works_from_the_keyboard_alone(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("carla@example.com", "customer").await;
    let widget = app
        .post(
            "/api/widgets",
            Some(&admin),
            json!({"name": "Shop", "allowed_origins": [app.base.clone()]}),
        )
        .await
        .expect(201)
        .body;
    let env = vec![
        ("AGENT_EMAIL", "agent@example.com".to_owned()),
        ("AGENT_PASSWORD", "user-password-1".to_owned()),
        ("AGENT_TOKEN", agent),
        ("ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("CUSTOMER_TOKEN", customer),
        ("WIDGET_KEY", widget["key"].as_str().unwrap().to_owned()),
        ("WIDGET_ORIGIN", app.base.clone()),
    ];
    browse(kind, &app.base, "console-keyboard.mjs", env).await;
}

async fn two_agents_share_a_ticket_in_the_console(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let mut created = Vec::new();
    for (email, name, role) in [
        ("ana@example.com", "Ana", "agent"),
        ("leo@example.com", "Leo", "agent"),
        ("carla@example.com", "Carla", "customer"),
    ] {
        let user = app
            .post(
                "/api/users",
                Some(&admin),
                json!({"email": email, "name": name, "role": role, "password": "user-password-1"}),
            )
            .await
            .expect(201)
            .body;
        let tokens = app.login(email, "user-password-1").await;
        created.push((
            user["id"].as_str().unwrap().to_owned(),
            tokens["access_token"].as_str().unwrap().to_owned(),
        ));
    }
    let env = vec![
        ("AGENT_EMAIL", "ana@example.com".to_owned()),
        ("SECOND_EMAIL", "leo@example.com".to_owned()),
        ("PASSWORD", "user-password-1".to_owned()),
        ("AGENT_TOKEN", created[0].1.clone()),
        ("SECOND_ID", created[1].0.clone()),
        ("CUSTOMER_TOKEN", created[2].1.clone()),
    ];
    browse(kind, &app.base, "console-ticket.mjs", env).await;
}

/// The service over `app`'s database as growdesk-sync builds it, for the mail that arrives by IMAP
/// rather than through the API; its data directory lives as long as it is kept.
async fn mail_service(app: &TestApp) -> (Service, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let settings = test_settings(app.database_url(), data.path().to_owned());
    let (service, _) = growdesk_app::build_service(&settings).await.unwrap();
    (service, data)
}

/// The mail waiting in the outbox.
async fn outbox(service: &Service) -> Vec<OutboundMail> {
    service
        .store()
        .mail()
        .due(Stamp::now(), 1000)
        .await
        .unwrap()
}

/// The email channel in the console (`email.mjs`): a mailbox on a throwaway Dovecot and SMTP sink
/// and a ticket a customer's mail opened through it are put in place here; the browser adds a
/// second mailbox on the same servers, replies by mail and asks for a password reset, and what
/// it asked for is checked in the outbox afterwards. No sender runs (it is growdesk-sync's): once
/// the browser has seen the reply queued, the reply is marked sent here as the sender marks it
/// when the SMTP server took it, and the browser must see that without a reload.
async fn the_console_runs_the_email_channel(kind: BackendKind) {
    const SUPPORT: &str = "support@example.test";
    const SALES: &str = "sales@example.test";
    const CUSTOMER: &str = "customer@example.test";
    let dovecot = Dovecot::start(&[SUPPORT, SALES, CUSTOMER])
        .await
        .expect("Dovecot starts");
    let sink = SmtpSink::start(&dovecot)
        .await
        .expect("the SMTP sink starts");
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let mut imap = serde_json::to_value(dovecot.imap_settings(SUPPORT)).unwrap();
    imap["password"] = json!(dovecot.password(SUPPORT));
    let mut smtp = serde_json::to_value(sink.smtp_settings(SUPPORT)).unwrap();
    smtp["password"] = json!(dovecot.password(SUPPORT));
    let mailbox = app
        .post(
            "/api/mailboxes",
            Some(&admin),
            json!({"address": SUPPORT, "display_name": "Example Support", "imap": imap, "smtp": smtp, "acknowledge": true}),
        )
        .await
        .expect(201)
        .body;
    let (mail, _mail_data) = mail_service(&app).await;
    mail.email()
        .receive(
        mailbox["id"].as_str().unwrap().parse().unwrap(),
        format!(
            "From: Carla Customer <{CUSTOMER}>\r\nTo: {SUPPORT}\r\nSubject: Where is my parcel?\r\n\
             Message-ID: <parcel-1@example.test>\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHello, my parcel has not arrived.\r\n"
        )
        .into_bytes(),
    )
    .await
    .unwrap();
    let signals = tempfile::tempdir().unwrap();
    let queued_seen = signals.path().join("queued-seen");
    let sender = {
        let (sender, sender_data) = mail_service(&app).await;
        let queued_seen = queued_seen.clone();
        tokio::spawn(async move {
            let _data = sender_data;
            loop {
                if queued_seen.exists()
                    && let Some(reply) = outbox(&sender)
                        .await
                        .into_iter()
                        .find(|queued| queued.mail.kind == MailKind::Reply)
                {
                    let store = sender.store();
                    assert!(
                        store
                            .mail()
                            .mark_sent(reply.mail.id, Stamp::now())
                            .await
                            .unwrap()
                    );
                    return reply;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let tickets = app.get("/api/tickets", &admin).await.expect(200).body;
    let ticket = tickets["items"][0]["id"].as_str().unwrap().to_owned();
    let env = vec![
        ("ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("ADMIN_TOKEN", admin),
        ("AGENT_EMAIL", "agent@example.com".to_owned()),
        ("AGENT_PASSWORD", "user-password-1".to_owned()),
        ("AGENT_TOKEN", agent),
        ("TICKET_ID", ticket.clone()),
        ("CUSTOMER_EMAIL", CUSTOMER.to_owned()),
        ("NEW_MAILBOX", SALES.to_owned()),
        ("NEW_MAILBOX_PASSWORD", dovecot.password(SALES).to_owned()),
        ("IMAP_PORT", dovecot.imap_port.to_string()),
        ("SMTP_PORT", sink.port.to_string()),
        ("QUEUED_SEEN", queued_seen.display().to_string()),
    ];
    browse(kind, &app.base, "email.mjs", env).await;
    let reply = sender.await.unwrap();
    assert!(
        reply.mail.recipient == CUSTOMER
            && reply.mail.text_body.contains("Your parcel left today.")
            && reply.mail.ticket_id.map(|id| id.to_string()) == Some(ticket),
        "{reply:#?}"
    );

    // The rest of what the browser asked for waits in the outbox: the acknowledgement to the
    // customer, the reset link to the agent, nothing to a mailbox of ours.
    let outbox = outbox(&mail).await;
    let sent = |kind: MailKind, recipient: &str| {
        outbox
            .iter()
            .filter(|queued| queued.mail.kind == kind && queued.mail.recipient == recipient)
            .collect::<Vec<_>>()
    };
    let acknowledgements = sent(MailKind::Acknowledgement, CUSTOMER);
    assert_eq!(acknowledgements.len(), 1, "{outbox:#?}");
    assert!(sent(MailKind::Reply, CUSTOMER).is_empty(), "{outbox:#?}");
    assert_eq!(
        sent(MailKind::PasswordReset, "agent@example.com").len(),
        1,
        "{outbox:#?}"
    );
    assert!(
        outbox
            .iter()
            .all(|queued| queued.mail.recipient != SUPPORT && queued.mail.recipient != SALES),
        "{outbox:#?}"
    );
}

on_both_backends!(
    the_console_is_served_with_a_strict_policy,
    an_agent_works_a_ticket_in_the_console,
    an_agent_uses_canned_replies_files_mentions_and_saved_views,
    an_admin_runs_the_desk_in_the_console,
    the_console_refreshes_an_expired_access_token_silently,
    the_console_resumes_a_dropped_socket_without_missing_an_event,
    the_console_works_from_the_keyboard_alone,
    two_agents_share_a_ticket_in_the_console,
    the_console_runs_the_email_channel,
);
