//! Unsubscribe links: a page that changes nothing and runs nothing, and a one-click POST that
//! stops notices to the address.

use growdesk_domain::MailKind;
use growdesk_store::BackendKind;
use serde_json::json;

use super::{mail_side, mailbox, plain_mail};
use crate::helpers::{TestApp, spawn_app};

on_both_backends!(
    forged_unsubscribe_links_are_refused_and_never_echoed,
    one_click_unsubscribes_the_address_from_notices,
);

const CUSTOMER: &str = "cy@example.com";

/// `method` on `/api/unsubscribe`, with `token` in the query when given.
fn unsubscribe_request(
    app: &TestApp,
    method: reqwest::Method,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut url = url::Url::parse(&app.url("/api/unsubscribe")).unwrap();
    if let Some(token) = token {
        url.query_pairs_mut().append_pair("token", token);
    }
    app.client.request(method, url)
}

/// What a mail client posts for RFC 8058's `List-Unsubscribe-Post`.
fn one_click(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
}

async fn forged_unsubscribe_links_are_refused_and_never_echoed(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let hostile = "x\"><script>alert(1)</script><img src=x onerror=alert(2)>";
    // Its page is not even offered: a problem, with nothing of the token in it.
    let page = unsubscribe_request(&app, reqwest::Method::GET, Some(hostile))
        .send()
        .await
        .unwrap();
    let problem = TestApp::reply(page).await.problem(400);
    assert_eq!(problem["detail"], "the link is invalid or has expired");
    assert!(!problem.to_string().contains("<script"));

    // A token this server did not sign unsubscribes nobody.
    let refused = one_click(unsubscribe_request(
        &app,
        reqwest::Method::POST,
        Some(hostile),
    ))
    .send()
    .await
    .unwrap();
    let problem = TestApp::reply(refused).await.problem(400);
    assert_eq!(problem["detail"], "the link is invalid or has expired");
    assert!(!problem.to_string().contains("<script"));
    let missing = unsubscribe_request(&app, reqwest::Method::GET, None)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
}

async fn one_click_unsubscribes_the_address_from_notices(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let support = mailbox(&app, &admin, "support@example.test").await;
    let mail = mail_side(&app).await;
    mail.receive(
        &support["id"],
        plain_mail(CUSTOMER, "support@example.test", "First", "Hello"),
    )
    .await;
    let outbox = mail.outbox().await;
    let acknowledgement = outbox
        .iter()
        .find(|queued| queued.mail.kind == MailKind::Acknowledgement)
        .expect("the new ticket is acknowledged");
    let link = acknowledgement
        .mail
        .unsubscribe_url
        .clone()
        .expect("a notice carries its unsubscribe link");
    assert!(acknowledgement.mail.text_body.contains(&link));
    let path = &link[link.find("/api/unsubscribe").expect("the link is ours")..];

    // Opening the link (as a mail scanner does) changes nothing.
    let page = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    let policy = header("content-security-policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        !policy.contains("script-src"),
        "no script may run: {policy}"
    );
    assert_eq!(header("referrer-policy"), "no-referrer");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("<form method=\"post\""), "{html}");
    let store = mail.service.store().mail();
    assert!(!store.suppressed(CUSTOMER).await.unwrap());

    // RFC 8058: the mail client posts `List-Unsubscribe=One-Click` to the link.
    for _ in 0..2 {
        let done = one_click(app.client.post(app.url(path)))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200, "again changes nothing");
        assert!(done.text().await.unwrap().contains("Unsubscribed"));
    }
    assert!(store.suppressed(CUSTOMER).await.unwrap());

    // The next new ticket from that address is not acknowledged; the first one's mail stays.
    mail.receive(
        &support["id"],
        plain_mail(CUSTOMER, "support@example.test", "Second", "Hello again"),
    )
    .await;
    let acknowledgements = mail
        .outbox()
        .await
        .into_iter()
        .filter(|queued| queued.mail.kind == MailKind::Acknowledgement)
        .count();
    assert_eq!(acknowledgements, 1);
    let tickets = app
        .get("/api/tickets?limit=100", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(
        tickets["items"].as_array().unwrap().len(),
        2,
        "{}",
        json!(tickets)
    );
}
