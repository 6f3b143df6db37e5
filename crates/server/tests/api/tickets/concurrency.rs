//! Tickets changed at once: stale versions are refused, twenty agents taking one ticket leave
//! one assignee, and idempotency keys make retries safe.

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use super::{id_of, open, ticket_ids};
use crate::helpers::{TestApp, spawn_app};

on_both_backends!(
    stale_versions_are_refused_not_overwritten,
    twenty_agents_taking_one_ticket_leave_exactly_one_assignee,
    idempotency_keys_make_retries_safe,
);

async fn stale_versions_are_refused_not_overwritten(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let ticket = open(
        &app,
        &agent,
        json!({"subject": "Versioned", "description": "d"}),
    )
    .await;
    let path = format!("/api/tickets/{}", id_of(&ticket));
    let read = app
        .client
        .get(app.url(&path))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();

    let first = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&agent)
        .header("if-match", &etag)
        .json(&json!({"priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_ne!(first.headers()["etag"].to_str().unwrap(), etag);
    let second = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&agent)
        .header("if-match", &etag)
        .json(&json!({"priority": "low"}))
        .send()
        .await
        .unwrap();
    TestApp::reply(second).await.problem(412);
    assert_eq!(
        app.get(&path, &agent).await.expect(200).body["priority"],
        "high",
        "the stale write changed nothing"
    );
    let assign = app
        .client
        .post(app.url(&format!("{path}/assign")))
        .bearer_auth(&agent)
        .header("if-match", &etag)
        .json(&json!({"assignee_id": null}))
        .send()
        .await
        .unwrap();
    TestApp::reply(assign).await.problem(412);
    let garbage = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&agent)
        .header("if-match", "not-an-etag")
        .json(&json!({"priority": "low"}))
        .send()
        .await
        .unwrap();
    TestApp::reply(garbage).await.problem(400);
    let unchanged = app
        .patch(&path, &agent, json!({"priority": "high"}))
        .await
        .expect(200);
    assert_eq!(
        unchanged.body["version"], 2,
        "a change to the same value is no change"
    );
}

async fn twenty_agents_taking_one_ticket_leave_exactly_one_assignee(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let mut agents = Vec::new();
    for i in 0..20 {
        app.post("/api/users", Some(&admin), json!({"email": format!("agent{i}@example.com"), "role": "agent", "password": "agent-password"})).await.expect(201);
    }
    for i in 0..20 {
        let tokens = app
            .login(&format!("agent{i}@example.com"), "agent-password")
            .await;
        agents.push((
            crate::helpers::access(&tokens),
            tokens["user"]["id"].clone(),
        ));
    }
    let ticket = open(
        &app,
        &admin,
        json!({"subject": "Hot potato", "description": "d"}),
    )
    .await;
    let path = format!("/api/tickets/{}/assign", id_of(&ticket));
    let takes = agents
        .iter()
        .map(|(token, id)| app.post(&path, Some(token), json!({"assignee_id": id})));
    let replies = futures_util::future::join_all(takes).await;
    let winners: Vec<&Value> = replies
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| &r.body["assignee_id"])
        .collect();
    assert_eq!(winners.len(), 1, "exactly one agent takes the ticket");
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?} {:?}",
        replies
            .iter()
            .map(|r| r.body.to_string())
            .collect::<Vec<_>>()
    );
    let final_ticket = app
        .get(&format!("/api/tickets/{}", id_of(&ticket)), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(&final_ticket["assignee_id"], winners[0]);

    let customer = app
        .post(
            "/api/users",
            Some(&admin),
            json!({"email": "cu@example.com", "role": "customer"}),
        )
        .await
        .expect(201)
        .body;
    app.post(&path, Some(&admin), json!({"assignee_id": customer["id"]}))
        .await
        .problem(422);
    app.delete(
        &format!("/api/users/{}", agents[0].1.as_str().unwrap()),
        &admin,
    )
    .await
    .expect(200);
    app.post(&path, Some(&admin), json!({"assignee_id": agents[0].1}))
        .await
        .problem(422);
    app.post(
        &path,
        Some(&admin),
        json!({"assignee_id": uuid::Uuid::now_v7()}),
    )
    .await
    .problem(422);
    app.post(&path, Some(&admin), json!({})).await.problem(422);
    let reassigned = app
        .post(&path, Some(&admin), json!({"assignee_id": agents[1].1}))
        .await
        .expect(200)
        .body;
    assert_eq!(
        reassigned["assignee_id"], agents[1].1,
        "assigning to someone else reassigns"
    );
    let unassigned = app
        .post(&path, Some(&admin), json!({"assignee_id": null}))
        .await
        .expect(200)
        .body;
    assert!(unassigned["assignee_id"].is_null() && unassigned["assignee"].is_null());
}

async fn idempotency_keys_make_retries_safe(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let create = |key: &'static str, subject: &'static str| {
        app.client
            .post(app.url("/api/tickets"))
            .bearer_auth(&customer)
            .header("idempotency-key", key)
            .json(&json!({"subject": subject, "description": "retry me"}))
            .send()
    };
    let first = TestApp::reply(create("key-1", "Once").await.unwrap())
        .await
        .expect(201)
        .body;
    let retry = TestApp::reply(create("key-1", "Once").await.unwrap())
        .await
        .expect(201)
        .body;
    assert_eq!(first["id"], retry["id"]);
    let concurrent =
        futures_util::future::join_all((0..5).map(|_| create("key-2", "Concurrent"))).await;
    let mut ids = Vec::new();
    for response in concurrent {
        ids.push(TestApp::reply(response.unwrap()).await.expect(201).body["id"].clone());
    }
    assert!(
        ids.windows(2).all(|pair| pair[0] == pair[1]),
        "concurrent retries create one ticket"
    );
    assert_eq!(ticket_ids(&app, &customer, "").await.len(), 2);
    TestApp::reply(create("key-1", "Different").await.unwrap())
        .await
        .problem(422);

    let path = app.url(&format!("/api/tickets/{}/messages", id_of(&first)));
    let post = |key: &'static str| {
        app.client
            .post(&path)
            .bearer_auth(&customer)
            .header("idempotency-key", key)
            .json(&json!({"body": "only once"}))
            .send()
    };
    let one = TestApp::reply(post("m-1").await.unwrap())
        .await
        .expect(201)
        .body;
    let two = TestApp::reply(post("m-1").await.unwrap())
        .await
        .expect(201)
        .body;
    assert_eq!(one["id"], two["id"]);
    let messages = app
        .get(
            &format!("/api/tickets/{}/messages", id_of(&first)),
            &customer,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(messages["items"].as_array().unwrap().len(), 2);
    let too_long = "k".repeat(256);
    let refused = app
        .client
        .post(app.url("/api/tickets"))
        .bearer_auth(&customer)
        .header("idempotency-key", too_long)
        .json(&json!({"subject": "s", "description": "d"}))
        .send()
        .await
        .unwrap();
    TestApp::reply(refused).await.problem(422);
}
