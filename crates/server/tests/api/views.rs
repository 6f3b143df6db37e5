//! Saved views: an agent's own views and the shared ones, who may change which, and the
//! filter's checks.

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

on_both_backends!(
    agents_keep_their_own_views_and_see_the_shared_ones,
    a_filter_is_checked_like_the_ticket_list,
    views_list_page_by_page_in_name_order,
);

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|view| view["name"].as_str().unwrap())
        .collect()
}

async fn agents_keep_their_own_views_and_see_the_shared_ones(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (ana, ana_user) = app.user_token("ana@example.com", "agent").await;
    let (bo, _) = app.user_token("bo@example.com", "agent").await;

    let filter = json!({"status": ["open", "pending"], "priority": "urgent", "assignee_id": "me",
        "tag": "  Billing ", "q": "refund", "sort": "updated_at", "order": "asc"});
    let mine = app
        .post(
            "/api/views",
            Some(&ana),
            json!({"name": " Urgent billing ", "filter": filter}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(mine["name"], "Urgent billing");
    assert_eq!(mine["shared"], false);
    assert_eq!(mine["owner_id"], ana_user["id"]);
    assert_eq!(
        mine["filter"],
        json!({"status": ["open", "pending"], "priority": "urgent", "category_id": null,
            "assignee_id": "me", "requester_id": null, "tag": "billing", "q": "refund",
            "sort": "updated_at", "order": "asc"})
    );
    let id = mine["id"].as_str().unwrap();

    // Agents keep views for themselves only; admins share them.
    app.post(
        "/api/views",
        Some(&ana),
        json!({"name": "Everyone's", "shared": true}),
    )
    .await
    .problem(403);
    let shared = app
        .post(
            "/api/views",
            Some(&admin),
            json!({"name": "All urgent", "shared": true, "filter": {"priority": "urgent"}}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(shared["owner_id"], Value::Null);
    let shared_id = shared["id"].as_str().unwrap();

    let ana_list = app.get("/api/views", &ana).await.expect(200).body;
    assert_eq!(names(&ana_list), ["All urgent", "Urgent billing"]);
    assert_eq!(ana_list["next_cursor"], Value::Null);
    assert_eq!(
        names(&app.get("/api/views", &bo).await.expect(200).body),
        ["All urgent"]
    );
    // Another agent's view does not exist for anyone else, admins included.
    for other in [&bo, &admin] {
        app.get(&format!("/api/views/{id}"), other)
            .await
            .problem(404);
        app.patch(
            &format!("/api/views/{id}"),
            other,
            json!({"name": "Mine now"}),
        )
        .await
        .problem(404);
        app.delete(&format!("/api/views/{id}"), other)
            .await
            .problem(404);
    }
    // The shared one is read by every agent, changed by admins only.
    app.get(&format!("/api/views/{shared_id}"), &bo)
        .await
        .expect(200);
    app.patch(
        &format!("/api/views/{shared_id}"),
        &bo,
        json!({"name": "Bo's"}),
    )
    .await
    .problem(403);
    app.delete(&format!("/api/views/{shared_id}"), &bo)
        .await
        .problem(403);
    let renamed = app
        .patch(
            &format!("/api/views/{shared_id}"),
            &admin,
            json!({"name": "Every urgent ticket"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        renamed["filter"]["priority"], "urgent",
        "an omitted filter stays"
    );

    let changed = app
        .patch(
            &format!("/api/views/{id}"),
            &ana,
            json!({"filter": {"status": ["resolved"]}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["name"], "Urgent billing");
    assert_eq!(changed["filter"]["status"], json!(["resolved"]));
    assert_eq!(
        changed["filter"]["priority"],
        Value::Null,
        "the filter is replaced"
    );
    app.delete(&format!("/api/views/{id}"), &ana)
        .await
        .expect(204);
    app.get(&format!("/api/views/{id}"), &ana)
        .await
        .problem(404);
    assert_eq!(
        names(&app.get("/api/views", &ana).await.expect(200).body),
        ["Every urgent ticket"]
    );

    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    app.get("/api/views", &customer).await.problem(403);
    app.post("/api/views", Some(&customer), json!({"name": "Mine"}))
        .await
        .problem(403);
}

async fn a_filter_is_checked_like_the_ticket_list(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (ana, _) = app.user_token("ana@example.com", "agent").await;
    let refused = |body: Value| {
        let app = &app;
        let ana = &ana;
        async move { app.post("/api/views", Some(ana), body).await.problem(422) }
    };
    let field = |problem: &Value| problem["errors"][0]["field"].as_str().unwrap().to_owned();
    let unknown = refused(json!({"name": "V", "filter": {"colour": "red"}})).await;
    assert!(unknown.to_string().contains("colour"), "{unknown}");
    refused(json!({"name": "V", "filter": {"status": ["lost"]}})).await;
    refused(json!({"name": "V", "filter": {"sort": "subject"}})).await;
    let assignee = refused(json!({"name": "V", "filter": {"assignee_id": "someone"}})).await;
    assert_eq!(field(&assignee), "filter.assignee_id");
    let tag = refused(json!({"name": "V", "filter": {"tag": "two words"}})).await;
    assert_eq!(field(&tag), "filter.tag");
    let search = refused(json!({"name": "V", "filter": {"q": "x".repeat(501)}})).await;
    assert_eq!(field(&search), "filter.q");
    for name in [
        json!(null),
        json!("  "),
        json!("x".repeat(101)),
        json!("a\u{7}b"),
    ] {
        let problem = refused(json!({"name": name})).await;
        assert_eq!(field(&problem), "name");
    }
    refused(json!({"filter": {}})).await;
    app.post("/api/views", Some(&ana), json!({"name": "Everything"}))
        .await
        .expect(201);
}

async fn views_list_page_by_page_in_name_order(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (ana, _) = app.user_token("ana@example.com", "agent").await;
    for (name, shared) in [
        ("delta", false),
        ("Bravo", true),
        ("alpha", false),
        ("Échos", true),
    ] {
        let token = if shared { &admin } else { &ana };
        app.post(
            "/api/views",
            Some(token),
            json!({"name": name, "shared": shared}),
        )
        .await
        .expect(201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/views?limit=3".to_owned();
    loop {
        let page = app.get(&path, &ana).await.expect(200).body;
        seen.extend(names(&page).into_iter().map(str::to_owned));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/views?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["alpha", "Bravo", "delta", "Échos"]);
    app.get("/api/views?cursor=garbage", &ana)
        .await
        .problem(422);
}
