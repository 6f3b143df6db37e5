//! Categories and FAQs.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

on_both_backends!(
    categories_are_kept_by_admins,
    deleting_a_used_category_needs_a_replacement,
    faqs_are_kept_by_staff
);

fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

async fn categories_are_kept_by_admins(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;

    let billing = app
        .post(
            "/api/categories",
            Some(&admin),
            json!({"name": " Billing ", "description": "Money", "color": "#FF0000", "position": 2}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(
        (
            billing["name"].as_str(),
            billing["color"].as_str(),
            billing["active"].as_bool()
        ),
        (Some("Billing"), Some("#ff0000"), Some(true))
    );
    let bugs = app
        .post(
            "/api/categories",
            Some(&admin),
            json!({"name": "Bugs", "position": 1}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(bugs["color"], "#6b7280");
    let taken = app
        .post("/api/categories", Some(&admin), json!({"name": "BILLING"}))
        .await
        .problem(422);
    assert_eq!(taken["errors"][0]["field"], "name");
    let bad = app
        .post("/api/categories", Some(&admin), json!({"color": "red"}))
        .await
        .problem(422);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "color"]);

    app.patch(
        &format!("/api/categories/{}", bugs["id"].as_str().unwrap()),
        &admin,
        json!({"active": false}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/categories/{}", bugs["id"].as_str().unwrap()),
        &admin,
        json!({"name": "billing"}),
    )
    .await
    .problem(422);
    assert_eq!(
        names(&app.get("/api/categories", &agent).await.expect(200).body),
        ["Bugs", "Billing"]
    );
    assert_eq!(
        names(&app.get("/api/categories", &customer).await.expect(200).body),
        ["Billing"],
        "customers see active ones"
    );
    app.post("/api/categories", Some(&agent), json!({"name": "Mine"}))
        .await
        .problem(403);
    app.patch(
        &format!("/api/categories/{}", uuid::Uuid::now_v7()),
        &admin,
        json!({"name": "Ghost"}),
    )
    .await
    .problem(404);
}

async fn deleting_a_used_category_needs_a_replacement(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let old = app
        .post("/api/categories", Some(&admin), json!({"name": "Old"}))
        .await
        .expect(201)
        .body;
    let new = app
        .post("/api/categories", Some(&admin), json!({"name": "New"}))
        .await
        .expect(201)
        .body;
    let unused = app
        .post("/api/categories", Some(&admin), json!({"name": "Unused"}))
        .await
        .expect(201)
        .body;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&admin),
            json!({"subject": "s", "description": "d", "category_id": old["id"]}),
        )
        .await
        .expect(201)
        .body;
    let old_path = format!("/api/categories/{}", old["id"].as_str().unwrap());

    let refused = app
        .call(Method::DELETE, &old_path, Some(&admin), None)
        .await
        .problem(409);
    assert!(refused["detail"].as_str().unwrap().contains("reassign_to"));
    app.call(
        Method::DELETE,
        &format!("{old_path}?reassign_to={}", uuid::Uuid::now_v7()),
        Some(&admin),
        None,
    )
    .await
    .problem(422);
    app.call(
        Method::DELETE,
        &format!("{old_path}?reassign_to={}", old["id"].as_str().unwrap()),
        Some(&admin),
        None,
    )
    .await
    .problem(422);
    app.call(
        Method::DELETE,
        &format!("{old_path}?reassign_to={}", new["id"].as_str().unwrap()),
        Some(&admin),
        None,
    )
    .await
    .expect(204);

    let moved = app
        .get(
            &format!("/api/tickets/{}", ticket["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(moved["category_id"], new["id"]);
    assert_eq!(moved["version"], 2);
    let events = app
        .get(
            &format!("/api/tickets/{}/events", ticket["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .expect(200)
        .body;
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "category_changed");
    assert_eq!(last["data"], json!({"from": old["id"], "to": new["id"]}));
    app.call(
        Method::DELETE,
        &format!("/api/categories/{}", unused["id"].as_str().unwrap()),
        Some(&admin),
        None,
    )
    .await
    .expect(204);
    app.call(Method::DELETE, &old_path, Some(&admin), None)
        .await
        .problem(404);
    assert_eq!(
        names(&app.get("/api/categories", &admin).await.expect(200).body),
        ["New"]
    );
}

async fn faqs_are_kept_by_staff(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let billing = app
        .post("/api/categories", Some(&admin), json!({"name": "Billing"}))
        .await
        .expect(201)
        .body;

    let invoice = app.post("/api/faqs", Some(&agent), json!({"question": "¿Dónde está mi factura?", "answer": "En Facturación, arriba a la derecha.", "category_id": billing["id"], "published": true, "position": 1})).await.expect(201).body;
    let draft = app.post("/api/faqs", Some(&agent), json!({"question": "How do I reset my password?", "answer": "Use the link on the sign-in page."})).await.expect(201).body;
    assert_eq!(
        (draft["published"].as_bool(), draft["position"].as_i64()),
        (Some(false), Some(0))
    );
    app.post("/api/faqs", Some(&agent), json!({"question": "q"}))
        .await
        .problem(422);
    app.post(
        "/api/faqs",
        Some(&agent),
        json!({"question": "q", "answer": "a", "category_id": uuid::Uuid::now_v7()}),
    )
    .await
    .problem(422);

    let questions = |list: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].clone())
            .collect::<Vec<_>>()
    };
    let all = app.get("/api/faqs", &agent).await.expect(200).body;
    assert_eq!(
        questions(&all),
        [draft["id"].clone(), invoice["id"].clone()],
        "by position"
    );
    assert_eq!(
        questions(
            &app.get("/api/faqs?published=true", &agent)
                .await
                .expect(200)
                .body
        ),
        [invoice["id"].clone()]
    );
    let by_category = format!("/api/faqs?category_id={}", billing["id"].as_str().unwrap());
    assert_eq!(
        questions(&app.get(&by_category, &agent).await.expect(200).body),
        [invoice["id"].clone()]
    );
    assert_eq!(
        questions(
            &app.get("/api/faqs?q=facturacion", &agent)
                .await
                .expect(200)
                .body
        ),
        [invoice["id"].clone()]
    );
    assert_eq!(
        questions(
            &app.get("/api/faqs?q=RESET%20password", &agent)
                .await
                .expect(200)
                .body
        ),
        [draft["id"].clone()]
    );
    let page = app.get("/api/faqs?limit=1", &agent).await.expect(200).body;
    let next = app
        .get(
            &format!(
                "/api/faqs?limit=1&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ),
            &agent,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(questions(&next), [invoice["id"].clone()]);
    assert!(next["next_cursor"].is_null());

    let path = format!("/api/faqs/{}", draft["id"].as_str().unwrap());
    let published = app
        .patch(
            &path,
            &admin,
            json!({"published": true, "category_id": billing["id"]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        (
            published["published"].as_bool(),
            published["question"].as_str()
        ),
        (Some(true), draft["question"].as_str())
    );
    let uncategorised = app
        .patch(&path, &admin, json!({"category_id": null}))
        .await
        .expect(200)
        .body;
    assert!(uncategorised["category_id"].is_null());
    app.get(&path, &customer).await.problem(403);
    app.get("/api/faqs", &customer).await.problem(403);
    app.call(Method::DELETE, &path, Some(&agent), None)
        .await
        .expect(204);
    app.get(&path, &agent).await.problem(404);
}
