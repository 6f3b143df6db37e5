//! Canned replies: an agent's own and the shared ones, who may change which, the composer's
//! prefix search, and the fields' checks.

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

on_both_backends!(
    agents_keep_their_own_replies_and_see_the_shared_ones,
    the_composer_finds_replies_by_title_or_shortcut_prefix,
);

fn titles(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reply| reply["title"].as_str().unwrap())
        .collect()
}

async fn agents_keep_their_own_replies_and_see_the_shared_ones(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (ana, ana_user) = app.user_token("ana@example.com", "agent").await;
    let (bo, _) = app.user_token("bo@example.com", "agent").await;

    let body = "Hello {{requester.name}},\nticket #{{ticket.number}} is fixed.\n{{agent.name}}";
    let mine = app
        .post(
            "/api/canned-replies",
            Some(&ana),
            json!({"title": " Fixed ", "body": body, "shortcut": " FIXED "}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(mine["title"], "Fixed");
    assert_eq!(mine["body"], body, "placeholders are kept as written");
    assert_eq!(mine["shortcut"], "fixed");
    assert_eq!(mine["shared"], false);
    assert_eq!(mine["owner_id"], ana_user["id"]);
    let id = mine["id"].as_str().unwrap();

    app.post(
        "/api/canned-replies",
        Some(&ana),
        json!({"title": "Ours", "body": "b", "shared": true}),
    )
    .await
    .problem(403);
    let shared = app
        .post(
            "/api/canned-replies",
            Some(&admin),
            json!({"title": "Welcome", "body": "Welcome!", "shared": true}),
        )
        .await
        .expect(201)
        .body;
    let shared_id = shared["id"].as_str().unwrap();
    assert_eq!(
        titles(&app.get("/api/canned-replies", &ana).await.expect(200).body),
        ["Fixed", "Welcome"]
    );
    assert_eq!(
        titles(&app.get("/api/canned-replies", &bo).await.expect(200).body),
        ["Welcome"]
    );
    for other in [&bo, &admin] {
        app.get(&format!("/api/canned-replies/{id}"), other)
            .await
            .problem(404);
        app.delete(&format!("/api/canned-replies/{id}"), other)
            .await
            .problem(404);
    }
    app.patch(
        &format!("/api/canned-replies/{shared_id}"),
        &bo,
        json!({"body": "Mine now"}),
    )
    .await
    .problem(403);
    app.patch(
        &format!("/api/canned-replies/{shared_id}"),
        &admin,
        json!({"shortcut": "hi"}),
    )
    .await
    .expect(200);

    let changed = app
        .patch(
            &format!("/api/canned-replies/{id}"),
            &ana,
            json!({"shortcut": null, "title": "Fixed for good"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["shortcut"], Value::Null);
    assert_eq!(changed["body"], body, "an omitted body stays");
    for (request, field) in [
        (json!({"title": "T"}), "body"),
        (json!({"body": "B"}), "title"),
        (json!({"title": "T", "body": " "}), "body"),
        (
            json!({"title": "T", "body": "B", "shortcut": "two words"}),
            "shortcut",
        ),
        (
            json!({"title": "T", "body": "B", "shortcut": "x".repeat(33)}),
            "shortcut",
        ),
    ] {
        let problem = app
            .post("/api/canned-replies", Some(&ana), request)
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], field);
    }
    app.delete(&format!("/api/canned-replies/{id}"), &ana)
        .await
        .expect(204);
    app.get(&format!("/api/canned-replies/{id}"), &ana)
        .await
        .problem(404);
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    app.get("/api/canned-replies", &customer).await.problem(403);
}

async fn the_composer_finds_replies_by_title_or_shortcut_prefix(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (ana, _) = app.user_token("ana@example.com", "agent").await;
    for (title, shortcut) in [
        ("Refund issued", Some("money")),
        ("Réouverture", None),
        ("Password reset", Some("pw")),
        ("Thanks", Some("ty")),
    ] {
        app.post(
            "/api/canned-replies",
            Some(&ana),
            json!({"title": title, "body": "text", "shortcut": shortcut}),
        )
        .await
        .expect(201);
    }
    let found = |prefix: &'static str| {
        let app = &app;
        let ana = &ana;
        async move {
            let page = app
                .get(&format!("/api/canned-replies?prefix={prefix}"), ana)
                .await
                .expect(200)
                .body;
            titles(&page)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("re").await, ["Refund issued"], "accents count");
    assert_eq!(found("RÉ").await, ["Réouverture"]);
    assert_eq!(found("pw").await, ["Password reset"]);
    assert_eq!(found("mon").await, ["Refund issued"]);
    assert!(found("zz").await.is_empty());
    let too_long = app
        .get(
            &format!("/api/canned-replies?prefix={}", "é".repeat(101)),
            &ana,
        )
        .await
        .problem(422);
    assert_eq!(too_long["errors"][0]["field"], "prefix");
    app.get(
        &format!("/api/canned-replies?prefix={}", "é".repeat(100)),
        &ana,
    )
    .await
    .expect(200);

    let mut seen = Vec::new();
    let mut path = "/api/canned-replies?limit=3".to_owned();
    loop {
        let page = app.get(&path, &ana).await.expect(200).body;
        seen.extend(titles(&page).into_iter().map(str::to_owned));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/canned-replies?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["Password reset", "Refund issued", "Réouverture", "Thanks"]
    );
}
