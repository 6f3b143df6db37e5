//! Attachments: stored, and served only to those who may see their ticket.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use super::{id_of, open, upload};
use crate::helpers::spawn_app_with;

on_both_backends!(attachments_are_stored_and_served_only_to_those_who_may_see_them);

async fn attachments_are_stored_and_served_only_to_those_who_may_see_them(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.attachment_max_bytes = 64 * 1024).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let (stranger, _) = app.user_token("other@example.com", "customer").await;
    let ticket = id_of(
        &open(
            &app,
            &customer,
            json!({"subject": "Screenshot", "description": "see attached"}),
        )
        .await,
    );

    let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let message = upload(
        &app,
        &customer,
        &ticket,
        "Here it is",
        false,
        &[
            ("../../evil.html", "text/html", html.clone()),
            ("notes.txt", "text/plain", b"plain".to_vec()),
        ],
    )
    .await
    .expect(201)
    .body;
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(
        (
            attachments[0]["filename"].as_str(),
            attachments[0]["size"].as_i64()
        ),
        (Some("evil.html"), Some(html.len() as i64))
    );
    let html_id = id_of(&attachments[0]);

    for token in [&customer, &agent] {
        let download = app
            .client
            .get(app.url(&format!("/api/attachments/{html_id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(download.status(), 200);
        let disposition = download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"evil.html\""),
            "{disposition}"
        );
        assert_eq!(download.headers()["x-content-type-options"], "nosniff");
        assert!(
            download.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        assert_eq!(download.bytes().await.unwrap().to_vec(), html);
    }
    app.get(&format!("/api/attachments/{html_id}"), &stranger)
        .await
        .problem(404);
    app.call(
        Method::GET,
        &format!("/api/attachments/{html_id}"),
        None,
        None,
    )
    .await
    .problem(401);

    let note = upload(
        &app,
        &agent,
        &ticket,
        "Internal log",
        true,
        &[("log.txt", "text/plain", b"secret log".to_vec())],
    )
    .await
    .expect(201)
    .body;
    let note_file = id_of(&note["attachments"][0]);
    app.get(&format!("/api/attachments/{note_file}"), &agent)
        .await
        .expect(200);
    app.get(&format!("/api/attachments/{note_file}"), &customer)
        .await
        .problem(404);

    let big = vec![7u8; 70 * 1024];
    upload(
        &app,
        &customer,
        &ticket,
        "too big",
        false,
        &[("big.bin", "application/octet-stream", big)],
    )
    .await
    .problem(413);
    let listed = app
        .get(&format!("/api/tickets/{ticket}/messages"), &customer)
        .await
        .expect(200)
        .body;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "the refused upload left no message"
    );
    upload(&app, &customer, &ticket, "", false, &[])
        .await
        .problem(422);
    upload(&app, &stranger, &ticket, "not mine", false, &[])
        .await
        .problem(404);
}
