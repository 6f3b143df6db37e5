//! Mailboxes through the API: a round trip of every field, passwords that are written and never
//! read, and refusals that name their field.

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use super::{holds_no_password, mailbox, mailbox_body};
use crate::helpers::spawn_app;

on_both_backends!(
    mailboxes_round_trip_and_passwords_are_write_only,
    mailbox_fields_are_checked_and_named,
    a_mailbox_address_is_taken_once,
);

async fn mailboxes_round_trip_and_passwords_are_write_only(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let category = app
        .post("/api/categories", Some(&admin), json!({"name": "Mail"}))
        .await
        .expect(201)
        .body;
    let mut body = mailbox_body("Support@Example.test");
    body["default_category_id"] = category["id"].clone();
    body["default_priority"] = json!("high");
    body["imap"]["after_import"] = json!({"action": "move", "folder": "Archive"});
    let created = app
        .post("/api/mailboxes", Some(&admin), body)
        .await
        .expect(201)
        .body;
    holds_no_password(&created);
    assert_eq!(created["address"], "support@example.test");
    assert_eq!(created["display_name"], "Example Support");
    assert_eq!(created["imap"]["port"], 1143);
    assert_eq!(created["imap"]["folder"], "INBOX", "the default folder");
    assert_eq!(
        created["imap"]["after_import"],
        json!({"action": "move", "folder": "Archive"})
    );
    assert_eq!(created["smtp"]["security"], "none");
    assert_eq!(created["has_imap_password"], true);
    assert_eq!(created["has_smtp_password"], true);
    assert_eq!(created["default_category_id"], category["id"]);
    assert_eq!(created["default_priority"], "high");
    assert_eq!(created["acknowledge"], true);
    assert_eq!(created["active"], true);
    for object in [&created, &created["imap"], &created["smtp"]] {
        assert!(
            object.get("password").is_none(),
            "no password field: {object}"
        );
    }
    let path = format!("/api/mailboxes/{}", created["id"].as_str().unwrap());

    let listed = app.get("/api/mailboxes", &admin).await.expect(200).body;
    holds_no_password(&listed);
    assert_eq!(listed["items"], json!([created.clone()]));
    assert_eq!(app.get(&path, &admin).await.expect(200).body, created);

    // A change inside `imap` keeps the rest of it, its password included.
    let changed = app
        .patch(
            &path,
            &admin,
            json!({"display_name": "Help", "imap": {"folder": "Support"}, "smtp": {"password": null}}),
        )
        .await
        .expect(200)
        .body;
    holds_no_password(&changed);
    assert_eq!(changed["display_name"], "Help");
    assert_eq!(changed["imap"]["folder"], "Support");
    assert_eq!(changed["imap"]["port"], created["imap"]["port"]);
    assert_eq!(changed["imap"]["host"], created["imap"]["host"]);
    assert_eq!(
        changed["imap"]["after_import"],
        created["imap"]["after_import"]
    );
    assert_eq!(changed["has_imap_password"], true);
    assert_eq!(changed["has_smtp_password"], false, "null cleared it");
    assert_eq!(changed["smtp"], created["smtp"]);
    let changed = app
        .patch(
            &path,
            &admin,
            json!({"smtp": {"password": "another-smtp-password-2"}, "imap": null, "default_category_id": null, "active": false}),
        )
        .await
        .expect(200)
        .body;
    assert!(!changed.to_string().contains("another-smtp-password-2"));
    assert_eq!(changed["has_smtp_password"], true);
    assert_eq!(changed["imap"], Value::Null, "null removed the IMAP side");
    assert_eq!(changed["has_imap_password"], false);
    assert_eq!(changed["default_category_id"], Value::Null);
    assert_eq!(changed["active"], false);
    assert_eq!(app.get(&path, &admin).await.expect(200).body, changed);

    app.delete(&path, &admin).await.expect(204);
    app.get(&path, &admin).await.problem(404);
    app.delete(&path, &admin).await.problem(404);
    assert_eq!(
        app.get("/api/mailboxes", &admin).await.expect(200).body["items"],
        json!([])
    );
}

/// Sends `body` and asserts a 422 naming `field`, and that nothing was created.
async fn refused(app: &crate::helpers::TestApp, admin: &str, body: Value, field: &str) {
    let problem = app
        .post("/api/mailboxes", Some(admin), body.clone())
        .await
        .problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&field), "{field} in {problem} for {body}");
    holds_no_password(&problem);
}

async fn mailbox_fields_are_checked_and_named(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let with = |change: fn(&mut Value)| {
        let mut body = mailbox_body("support@example.test");
        change(&mut body);
        body
    };
    for (body, field) in [
        (with(|b| b["imap"]["port"] = json!(0)), "imap.port"),
        (with(|b| b["imap"]["port"] = json!(70_000)), "imap.port"),
        (with(|b| b["smtp"]["port"] = json!("25")), "smtp.port"),
        (
            with(|b| b["display_name"] = json!("Support\r\nBcc: all@example.com")),
            "display_name",
        ),
        (with(|b| b["display_name"] = json!("  ")), "display_name"),
        (with(|b| b["address"] = json!("not-an-address")), "address"),
        (
            with(|b| b["address"] = json!("support@example.test\r\nBcc: x@example.com")),
            "address",
        ),
        (
            with(|b| b["imap"]["security"] = json!("ssl")),
            "imap.security",
        ),
        (with(|b| b["smtp"]["host"] = json!("")), "smtp.host"),
        (
            with(|b| b["default_category_id"] = json!(uuid::Uuid::now_v7())),
            "default_category_id",
        ),
        (with(|b| b["imap"]["unknown"] = json!(1)), "imap.unknown"),
    ] {
        refused(&app, &admin, body, field).await;
    }
    let missing = json!({"display_name": "No address"});
    refused(&app, &admin, missing, "address").await;
    assert_eq!(
        app.get("/api/mailboxes", &admin).await.expect(200).body["items"],
        json!([]),
        "nothing refused was written"
    );

    // A change is checked as a creation is, and a refused one changes nothing.
    let created = mailbox(&app, &admin, "support@example.test").await;
    let path = format!("/api/mailboxes/{}", created["id"].as_str().unwrap());
    let problem = app
        .patch(
            &path,
            &admin,
            json!({"display_name": "A\nB", "imap": {"port": 0}}),
        )
        .await
        .problem(422);
    assert!(problem.to_string().contains("imap.port"), "{problem}");
    assert_eq!(app.get(&path, &admin).await.expect(200).body, created);
}

async fn a_mailbox_address_is_taken_once(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let first = mailbox(&app, &admin, "support@example.test").await;
    let problem = app
        .post(
            "/api/mailboxes",
            Some(&admin),
            mailbox_body("SUPPORT@example.test"),
        )
        .await
        .problem(409);
    holds_no_password(&problem);
    let second = mailbox(&app, &admin, "sales@example.test").await;
    app.patch(
        &format!("/api/mailboxes/{}", second["id"].as_str().unwrap()),
        &admin,
        json!({"address": "support@example.test"}),
    )
    .await
    .problem(409);
    let listed = app.get("/api/mailboxes", &admin).await.expect(200).body;
    let addresses: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|mailbox| &mailbox["address"])
        .collect();
    assert_eq!(addresses.len(), 2);
    assert!(addresses.contains(&&first["address"]));
}
