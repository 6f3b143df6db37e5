//! What the widget tells visitors promises only what GrowDesk is configured to do: with no
//! outgoing mail, the offline message never says a reply comes by email.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use crate::caseless::run_sql;
use crate::helpers::spawn_app;
use crate::widgets::{SITE, public, widget};

on_both_backends!(the_offline_message_promises_no_email,);

/// The default offline message of older versions, as they stored it with each widget.
const RETIRED_DEFAULT: &str =
    "We're away right now. Leave a message and we'll reply here and by email.";

async fn the_offline_message_promises_no_email(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let offline_message = |key: String| {
        let app = &app;
        async move {
            public(app, Method::GET, "/widget/config", &key, None, None)
                .await
                .expect(200)
                .body["settings"]["offline_message"]
                .as_str()
                .expect("an offline message")
                .to_owned()
        }
    };

    let plain = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let message = offline_message(plain["key"].as_str().unwrap().to_owned()).await;
    assert!(
        !message.to_lowercase().contains("mail"),
        "no mailbox is configured, yet the widget says: {message}"
    );
    assert!(message.contains("reply here"), "{message}");

    // A widget an older version saved with its default keeps no stale promise either.
    let old = widget(
        &app,
        &admin,
        json!({"name": "Old", "allowed_origins": [SITE]}),
    )
    .await;
    let key = old["key"].as_str().unwrap();
    let stored_default = serde_json::to_string(RETIRED_DEFAULT)
        .unwrap()
        .replace('\'', "''");
    let statement = match kind {
        BackendKind::Postgres => format!(
            "UPDATE widgets SET settings = jsonb_set(settings, '{{offline_message}}', '{stored_default}') WHERE key = '{key}'"
        ),
        BackendKind::Sqlite => format!(
            "UPDATE widgets SET settings = json_set(settings, '$.offline_message', json('{stored_default}')) WHERE key = '{key}'"
        ),
    };
    run_sql(kind, &app, &[&statement]).await;
    let listed = app.get("/api/widgets", &admin).await.expect(200).body;
    let stored = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["key"] == key)
        .expect("the old widget is listed");
    assert_eq!(stored["settings"]["offline_message"], message);
    assert_eq!(offline_message(key.to_owned()).await, message);
}
