//! Tickets: their whole life, staff opening them for requesters, the workflow's rules and
//! deletion; listing and search, concurrency and idempotency, attachments and read marks in the
//! modules below.

mod attachments;
mod concurrency;
mod listing;
mod reads;
mod sla;

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

on_both_backends!(
    a_ticket_lives_its_whole_life,
    staff_open_tickets_on_behalf_of_requesters,
    the_workflow_is_enforced,
    admins_delete_tickets,
);

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

async fn open(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/api/tickets", Some(token), body)
        .await
        .expect(201)
        .body
}

async fn ticket_ids(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("/api/tickets?limit=100&{query}"), token)
        .await
        .expect(200)
        .body;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect()
}

async fn a_ticket_lives_its_whole_life(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (customer, customer_user) = app.user_token("cy@example.com", "customer").await;
    let (agent, agent_user) = app.user_token("ana@example.com", "agent").await;

    let opened = app.post("/api/tickets", Some(&customer), json!({"subject": "Printer on fire", "description": "It smokes.", "tags": ["Hardware"]})).await.expect(201);
    assert_eq!(opened.headers["etag"], "\"1\"");
    let ticket = opened.body;
    let path = format!("/api/tickets/{}", id_of(&ticket));
    assert_eq!(
        (
            ticket["number"].as_i64(),
            ticket["status"].as_str(),
            ticket["priority"].as_str()
        ),
        (Some(1), Some("open"), Some("medium"))
    );
    assert_eq!(ticket["requester"]["id"], customer_user["id"]);
    assert_eq!(ticket["tags"], json!(["hardware"]));
    assert_eq!(ticket["source"], "web");
    assert!(ticket["first_response_at"].is_null() && ticket["assignee"].is_null());

    let assigned = app
        .post(
            &format!("{path}/assign"),
            Some(&agent),
            json!({"assignee_id": agent_user["id"]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(assigned["assignee"]["name"], agent_user["name"]);

    let reply = app
        .post(
            &format!("{path}/messages"),
            Some(&agent),
            json!({"body": "On my way."}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(
        (
            reply["author"]["role"].as_str(),
            reply["internal"].as_bool()
        ),
        (Some("agent"), Some(false))
    );
    app.post(
        &format!("{path}/messages"),
        Some(&agent),
        json!({"body": "Customer sounds upset.", "internal": true}),
    )
    .await
    .expect(201);
    let after_reply = app.get(&path, &agent).await.expect(200).body;
    assert!(
        after_reply["first_response_at"].is_string(),
        "the first public staff reply is the first response"
    );
    app.patch(&path, &agent, json!({"status": "pending"}))
        .await
        .expect(200);

    let seen_by_customer = app
        .get(&format!("{path}/messages"), &customer)
        .await
        .expect(200)
        .body;
    let bodies: Vec<&str> = seen_by_customer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["It smokes.", "On my way."],
        "customers never see internal notes"
    );
    let seen_by_agent = app
        .get(&format!("{path}/messages"), &agent)
        .await
        .expect(200)
        .body;
    assert_eq!(seen_by_agent["items"].as_array().unwrap().len(), 3);

    app.post(
        &format!("{path}/messages"),
        Some(&customer),
        json!({"body": "Still smoking!"}),
    )
    .await
    .expect(201);
    assert_eq!(
        app.get(&path, &customer).await.expect(200).body["status"],
        "open",
        "a customer reply wakes a pending ticket"
    );

    let resolved = app
        .patch(&path, &agent, json!({"status": "resolved"}))
        .await
        .expect(200)
        .body;
    assert!(resolved["resolved_at"].is_string() && resolved["closed_at"].is_null());
    let closed = app
        .patch(&path, &customer, json!({"status": "closed"}))
        .await
        .expect(200)
        .body;
    assert!(closed["closed_at"].is_string() && closed["resolved_at"].is_string());
    app.post(
        &format!("{path}/messages"),
        Some(&customer),
        json!({"body": "One more thing"}),
    )
    .await
    .problem(409);
    app.patch(&path, &customer, json!({"status": "open"}))
        .await
        .problem(409);
    let reopened = app
        .patch(&path, &agent, json!({"status": "open"}))
        .await
        .expect(200)
        .body;
    assert!(reopened["closed_at"].is_null() && reopened["resolved_at"].is_null());

    let staff_events = app
        .get(&format!("{path}/events"), &agent)
        .await
        .expect(200)
        .body;
    let kinds: Vec<&str> = staff_events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "message_created",
            "assignee_changed",
            "message_created",
            "message_created",
            "status_changed",
            "status_changed",
            "message_created",
            "status_changed",
            "status_changed",
            "status_changed",
        ]
    );
    let ids: Vec<i64> = staff_events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "event ids increase"
    );
    let customer_events = app
        .get(&format!("{path}/events"), &customer)
        .await
        .expect(200)
        .body;
    assert_eq!(
        customer_events["items"].as_array().unwrap().len(),
        kinds.len() - 1,
        "the internal note's event is hidden"
    );
    assert!(
        customer_events["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["internal"] == false)
    );
}

async fn staff_open_tickets_on_behalf_of_requesters(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (customer, customer_user) = app.user_token("known@example.com", "customer").await;
    let by_email = open(&app, &admin, json!({"subject": "Phone call", "description": "Called about billing.", "requester_email": "New.Person@Example.com", "requester_name": "New Person", "priority": "high"})).await;
    assert_eq!(by_email["requester"]["email"], "new.person@example.com");
    assert_eq!(by_email["requester"]["name"], "New Person");
    assert_eq!(by_email["source"], "api");
    let again = open(&app, &admin, json!({"subject": "Second call", "description": "Again.", "requester_email": "new.person@example.com"})).await;
    assert_eq!(
        again["requester"]["id"], by_email["requester"]["id"],
        "an existing email is reused"
    );
    let by_id = open(&app, &admin, json!({"subject": "For a known user", "description": "x", "requester_id": customer_user["id"]})).await;
    assert_eq!(by_id["requester"]["id"], customer_user["id"]);
    assert_eq!(ticket_ids(&app, &customer, "").await, vec![id_of(&by_id)]);

    let both = json!({"subject": "x", "description": "y", "requester_id": customer_user["id"], "requester_email": "a@example.com"});
    app.post("/api/tickets", Some(&admin), both)
        .await
        .problem(422);
    let unknown = json!({"subject": "x", "description": "y", "requester_id": uuid::Uuid::now_v7()});
    assert_eq!(
        app.post("/api/tickets", Some(&admin), unknown)
            .await
            .problem(422)["errors"][0]["field"],
        "requester_id"
    );
    for field in ["requester_id", "requester_email"] {
        let sneaky = json!({"subject": "x", "description": "y", field: customer_user["id"]});
        app.post("/api/tickets", Some(&customer), sneaky)
            .await
            .problem(403);
    }
    let bad = app.post("/api/tickets", Some(&customer), json!({"subject": "", "description": " ", "tags": ["no spaces allowed"], "category_id": uuid::Uuid::now_v7()})).await.problem(422);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["subject", "description", "tags", "category_id"]);
    app.post(
        "/api/tickets",
        Some(&customer),
        json!({"subject": "x", "description": "y", "source": "import"}),
    )
    .await
    .problem(422);
    app.post(
        "/api/tickets",
        Some(&customer),
        json!({"subject": "x", "description": "y", "author_id": customer_user["id"]}),
    )
    .await
    .problem(422);

    let category = app
        .post(
            "/api/categories",
            Some(&admin),
            json!({"name": "Retired", "active": false}),
        )
        .await
        .expect(201)
        .body;
    let inactive = json!({"subject": "x", "description": "y", "category_id": category["id"]});
    app.post("/api/tickets", Some(&customer), inactive)
        .await
        .problem(422);
}

async fn the_workflow_is_enforced(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let ticket = open(
        &app,
        &customer,
        json!({"subject": "Workflow", "description": "d"}),
    )
    .await;
    let path = format!("/api/tickets/{}", id_of(&ticket));
    for status in ["pending", "in_progress", "resolved"] {
        let problem = app
            .patch(&path, &customer, json!({"status": status}))
            .await
            .problem(409);
        assert_eq!(problem["detail"], "customers can only close their ticket");
    }
    for field in [
        json!({"priority": "urgent"}),
        json!({"subject": "Mine now"}),
        json!({"tags": ["x"]}),
        json!({"category_id": null}),
    ] {
        app.patch(&path, &customer, field).await.problem(403);
    }
    app.post(
        &format!("{path}/assign"),
        Some(&customer),
        json!({"assignee_id": null}),
    )
    .await
    .problem(403);
    app.post(
        &format!("{path}/messages"),
        Some(&customer),
        json!({"body": "psst", "internal": true}),
    )
    .await
    .problem(403);
    for status in ["in_progress", "pending", "resolved", "open"] {
        app.patch(&path, &agent, json!({"status": status}))
            .await
            .expect(200);
    }
    app.patch(&path, &customer, json!({"status": "closed"}))
        .await
        .expect(200);
    for status in ["pending", "in_progress", "resolved"] {
        app.patch(&path, &agent, json!({"status": status}))
            .await
            .problem(409);
    }
    app.post(
        &format!("{path}/messages"),
        Some(&agent),
        json!({"body": "a reply"}),
    )
    .await
    .problem(409);
    app.post(
        &format!("{path}/messages"),
        Some(&agent),
        json!({"body": "a note", "internal": true}),
    )
    .await
    .expect(201);
    app.patch(&path, &agent, json!({"status": "open"}))
        .await
        .expect(200);
    app.patch(&path, &agent, json!({"status": "bogus"}))
        .await
        .problem(422);
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    ticket: &str,
    body: &str,
    internal: bool,
    files: &[(&str, &str, Vec<u8>)],
) -> crate::helpers::Reply {
    let mut form = reqwest::multipart::Form::new()
        .text("body", body.to_owned())
        .text("internal", internal.to_string());
    for (name, content_type, bytes) in files {
        let part = reqwest::multipart::Part::bytes(bytes.clone())
            .file_name((*name).to_owned())
            .mime_str(content_type)
            .unwrap();
        form = form.part("files", part);
    }
    let response = app
        .client
        .post(app.url(&format!("/api/tickets/{ticket}/messages")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

async fn admins_delete_tickets(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let ticket = id_of(
        &open(
            &app,
            &agent,
            json!({"subject": "Spam", "description": "buy now"}),
        )
        .await,
    );
    app.delete(&format!("/api/tickets/{ticket}"), &agent)
        .await
        .problem(403);
    app.call(
        Method::DELETE,
        &format!("/api/tickets/{ticket}"),
        Some(&admin),
        None,
    )
    .await
    .expect(204);
    app.get(&format!("/api/tickets/{ticket}"), &admin)
        .await
        .problem(404);
    app.call(
        Method::DELETE,
        &format!("/api/tickets/{ticket}"),
        Some(&admin),
        None,
    )
    .await
    .problem(404);
    assert!(ticket_ids(&app, &admin, "").await.is_empty());
}
