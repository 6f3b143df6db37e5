//! Webhooks through the API: admin-only configuration, targets on internal networks refused,
//! and every subscribed event written to the delivery outbox with the change itself.

use growdesk_store::BackendKind;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

on_both_backends!(
    admins_configure_webhooks,
    internal_targets_are_refused_unless_allowed,
    special_purpose_targets_are_refused,
    events_land_in_the_outbox,
);

const PUBLIC_TARGET: &str = "https://93.184.215.14/hooks/growdesk";

async fn admins_configure_webhooks(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let created = app
        .post(
            "/api/webhooks",
            Some(&admin),
            json!({"url": PUBLIC_TARGET, "event_types": ["status_changed", "created", "created"]}),
        )
        .await
        .expect(201)
        .body;
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["event_types"], json!(["created", "status_changed"]));
    assert_eq!(created["active"], true);
    let id = created["id"].as_str().unwrap();

    let changed = app
        .patch(
            &format!("/api/webhooks/{id}"),
            &admin,
            json!({"event_types": ["*"], "active": false}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["event_types"], json!(["*"]));
    assert_eq!(changed["url"], PUBLIC_TARGET, "omitted fields stay");
    assert_eq!(changed["secret"], created["secret"], "the secret stays");

    for (body, field) in [
        (json!({"event_types": ["*"]}), "url"),
        (
            json!({"url": "ftp://93.184.215.14/x", "event_types": ["*"]}),
            "url",
        ),
        (json!({"url": "not a url", "event_types": ["*"]}), "url"),
        (
            json!({"url": PUBLIC_TARGET, "event_types": []}),
            "event_types",
        ),
        (
            json!({"url": PUBLIC_TARGET, "event_types": ["ticket_exploded"]}),
            "event_types",
        ),
        (
            json!({"url": PUBLIC_TARGET, "event_types": ["notification_created"]}),
            "event_types",
        ),
    ] {
        let problem = app
            .post("/api/webhooks", Some(&admin), body.clone())
            .await
            .problem(422);
        assert!(
            problem["errors"].to_string().contains(field),
            "{body}: {problem}"
        );
    }
    let listed = app.get("/api/webhooks", &admin).await.expect(200).body;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "refused webhooks are not saved"
    );

    app.delete(&format!("/api/webhooks/{id}"), &admin)
        .await
        .expect(204);
    app.get(&format!("/api/webhooks/{id}"), &admin)
        .await
        .problem(404);
    app.get(&format!("/api/webhooks/{id}/deliveries"), &admin)
        .await
        .problem(404);
    app.stop().await;
}

async fn internal_targets_are_refused_unless_allowed(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    for target in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://192.168.1.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ] {
        let problem = app
            .post(
                "/api/webhooks",
                Some(&admin),
                json!({"url": target, "event_types": ["*"]}),
            )
            .await
            .problem(422);
        assert!(
            problem["errors"].to_string().contains("url"),
            "{target}: {problem}"
        );
    }
    let created = app
        .post(
            "/api/webhooks",
            Some(&admin),
            json!({"url": PUBLIC_TARGET, "event_types": ["*"]}),
        )
        .await
        .expect(201)
        .body;
    let id = created["id"].as_str().unwrap();
    app.patch(
        &format!("/api/webhooks/{id}"),
        &admin,
        json!({"url": "http://127.0.0.1/x"}),
    )
    .await
    .problem(422);
    let kept = app
        .get(&format!("/api/webhooks/{id}"), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(
        kept["url"], PUBLIC_TARGET,
        "a refused change changes nothing"
    );
    app.stop().await;

    let allowing = spawn_app_with(kind, |settings| {
        settings.webhook_allow_private_targets = true
    })
    .await;
    let admin = allowing.admin_token().await;
    allowing
        .post(
            "/api/webhooks",
            Some(&admin),
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}),
        )
        .await
        .expect(201);
    allowing.stop().await;
}

/// Addresses from the IANA special-purpose registries, and IPv4 addresses carried inside IPv6
/// ones, that an address check of loopback, private and link-local ranges alone lets through.
async fn special_purpose_targets_are_refused(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    for target in [
        "http://[64:ff9b::a00:1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://[64:ff9b:1::a00:1]/hook",
        "http://[::10.0.0.1]/hook",
        "http://[::ffff:0:10.0.0.1]/hook",
        "http://[2002:a00:1::1]/hook",
        "http://[2002:c0a8:101::1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
        "http://[fec0::1]/hook",
        "http://[2001:db8::1]/hook",
        "http://[3fff::1]/hook",
        "http://[100::1]/hook",
        "http://[2001:2::1]/hook",
        "http://[2001:20::1]/hook",
        "http://[ff02::1]/hook",
        "http://[5f00::1]/hook",
        "http://240.0.0.1/hook",
        "http://255.255.255.255/hook",
        "http://192.0.0.8/hook",
        "http://192.0.0.170/hook",
        "http://192.88.99.1/hook",
        "http://198.18.0.1/hook",
        "http://100.100.100.100/hook",
        "http://192.0.2.1/hook",
        "http://203.0.113.1/hook",
        "http://224.0.0.251/hook",
    ] {
        let problem = app
            .post(
                "/api/webhooks",
                Some(&admin),
                json!({"url": target, "event_types": ["*"]}),
            )
            .await
            .problem(422);
        assert!(
            problem["errors"]
                .to_string()
                .contains("not a public address"),
            "{target}: {problem}"
        );
    }
    let listed = app.get("/api/webhooks", &admin).await.expect(200).body;
    assert_eq!(listed["items"], json!([]), "nothing refused was saved");
    app.stop().await;
}

async fn events_land_in_the_outbox(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let hook = |event_types: serde_json::Value, active: bool| json!({"url": PUBLIC_TARGET, "event_types": event_types, "active": active});
    let created_only = app
        .post(
            "/api/webhooks",
            Some(&admin),
            hook(json!(["created"]), true),
        )
        .await
        .expect(201)
        .body;
    let everything = app
        .post("/api/webhooks", Some(&admin), hook(json!(["*"]), true))
        .await
        .expect(201)
        .body;
    let paused = app
        .post("/api/webhooks", Some(&admin), hook(json!(["*"]), false))
        .await
        .expect(201)
        .body;

    let ticket = app
        .post(
            "/api/tickets",
            Some(&customer),
            json!({"subject": "Refund", "description": "Please."}),
        )
        .await
        .expect(201)
        .body;
    app.post(
        &format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap()),
        Some(&admin),
        json!({"body": "On its way.", "internal": false}),
    )
    .await
    .expect(201);

    let deliveries = |webhook: &serde_json::Value| {
        let path = format!(
            "/api/webhooks/{}/deliveries?limit=100",
            webhook["id"].as_str().unwrap()
        );
        let app = &app;
        let admin = &admin;
        async move {
            app.get(&path, admin).await.expect(200).body["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let for_created = deliveries(&created_only).await;
    assert_eq!(for_created.len(), 1, "{for_created:?}");
    assert_eq!(for_created[0]["event_type"], "created");
    assert_eq!(for_created[0]["status"], "pending");
    assert_eq!(for_created[0]["attempts"], 0);
    let kinds: Vec<String> = deliveries(&everything)
        .await
        .iter()
        .map(|delivery| delivery["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"created".to_owned()) && kinds.contains(&"message_created".to_owned()),
        "{kinds:?}"
    );
    assert!(
        !kinds.contains(&"notification_created".to_owned()),
        "personal notifications stay private"
    );
    assert!(
        deliveries(&paused).await.is_empty(),
        "an inactive webhook gets nothing"
    );

    let page = app
        .get(
            &format!(
                "/api/webhooks/{}/deliveries?limit=1",
                everything["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await
        .expect(200)
        .body;
    let next = page["next_cursor"]
        .as_str()
        .expect("more than one delivery");
    let rest = app
        .get(
            &format!(
                "/api/webhooks/{}/deliveries?limit=100&cursor={next}",
                everything["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        kinds.len() - 1,
        "pages do not overlap"
    );
    app.stop().await;
}
