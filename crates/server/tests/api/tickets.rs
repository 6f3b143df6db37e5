//! Tickets: the workflow, listing and search, concurrency, attachments, idempotency, stats.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

on_both_backends!(
    a_ticket_lives_its_whole_life,
    staff_open_tickets_on_behalf_of_requesters,
    tickets_are_filtered_sorted_and_paged,
    search_ignores_accents_and_hides_internal_notes,
    stale_versions_are_refused_not_overwritten,
    the_workflow_is_enforced,
    twenty_agents_taking_one_ticket_leave_exactly_one_assignee,
    attachments_are_stored_and_served_only_to_those_who_may_see_them,
    idempotency_keys_make_retries_safe,
    stats_count_the_queue,
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

async fn tickets_are_filtered_sorted_and_paged(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("c1@example.com", "customer").await;
    let (other, other_user) = app.user_token("c2@example.com", "customer").await;
    let billing = app
        .post("/api/categories", Some(&admin), json!({"name": "Billing"}))
        .await
        .expect(201)
        .body;

    let mut all = Vec::new();
    for (i, priority) in ["low", "medium", "high", "urgent", "medium", "low", "high"]
        .iter()
        .enumerate()
    {
        let token = if i % 2 == 0 { &customer } else { &other };
        let mut body =
            json!({"subject": format!("Ticket {i}"), "description": "d", "priority": priority});
        if i < 3 {
            body["category_id"] = billing["id"].clone();
            body["tags"] = json!(["vip"]);
        }
        all.push(open(&app, token, body).await);
    }
    let id = |i: usize| id_of(&all[i]);
    app.post(
        &format!("/api/tickets/{}/assign", id(1)),
        Some(&agent),
        json!({"assignee_id": agent_user["id"]}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/tickets/{}", id(2)),
        &agent,
        json!({"status": "pending"}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/tickets/{}", id(3)),
        &agent,
        json!({"status": "resolved"}),
    )
    .await
    .expect(200);

    let newest_first: Vec<String> = (0..7).rev().map(id).collect();
    assert_eq!(ticket_ids(&app, &agent, "").await, newest_first);
    assert_eq!(
        ticket_ids(&app, &agent, "order=asc&sort=number").await,
        (0..7).map(id).collect::<Vec<_>>()
    );
    assert_eq!(
        ticket_ids(&app, &agent, "status=pending,resolved&order=asc").await,
        vec![id(2), id(3)]
    );
    assert_eq!(
        ticket_ids(&app, &agent, "priority=high&order=asc").await,
        vec![id(2), id(6)]
    );
    assert_eq!(
        ticket_ids(
            &app,
            &agent,
            &format!("category_id={}&order=asc", billing["id"].as_str().unwrap())
        )
        .await,
        vec![id(0), id(1), id(2)]
    );
    assert_eq!(
        ticket_ids(&app, &agent, "assignee_id=me").await,
        vec![id(1)]
    );
    assert_eq!(
        ticket_ids(
            &app,
            &agent,
            &format!("assignee_id={}", agent_user["id"].as_str().unwrap())
        )
        .await,
        vec![id(1)]
    );
    assert_eq!(ticket_ids(&app, &agent, "assignee_id=none").await.len(), 6);
    assert_eq!(
        ticket_ids(
            &app,
            &agent,
            &format!(
                "requester_id={}&order=asc",
                other_user["id"].as_str().unwrap()
            )
        )
        .await,
        vec![id(1), id(3), id(5)]
    );
    assert_eq!(
        ticket_ids(&app, &agent, "tag=VIP&order=asc").await,
        vec![id(0), id(1), id(2)]
    );
    let by_priority = ticket_ids(&app, &agent, "sort=priority").await;
    assert_eq!(by_priority[0], id(3), "urgent first");
    assert_eq!(
        &by_priority[5..],
        [id(5), id(0)],
        "low last, newest first among equals"
    );

    // Customers see only their own, whatever they ask for.
    assert_eq!(
        ticket_ids(&app, &customer, "order=asc").await,
        vec![id(0), id(2), id(4), id(6)]
    );
    assert_eq!(
        ticket_ids(
            &app,
            &customer,
            &format!("requester_id={}", other_user["id"].as_str().unwrap())
        )
        .await
        .len(),
        4
    );
    app.get(&format!("/api/tickets/{}", id(1)), &customer)
        .await
        .problem(404);

    // Pages of two over every sort cover everything once, in order.
    for query in [
        "sort=created_at",
        "sort=updated_at&order=asc",
        "sort=priority",
        "sort=number&order=asc",
    ] {
        let whole = ticket_ids(&app, &agent, query).await;
        let mut paged = Vec::new();
        let mut path = format!("/api/tickets?limit=2&{query}");
        loop {
            let page = app.get(&path, &agent).await.expect(200).body;
            paged.extend(page["items"].as_array().unwrap().iter().map(id_of));
            let Some(cursor) = page["next_cursor"].as_str() else {
                break;
            };
            path = format!("/api/tickets?limit=2&{query}&cursor={cursor}");
        }
        assert_eq!(paged, whole, "{query}");
    }
    let first = app
        .get("/api/tickets?limit=2&sort=number", &agent)
        .await
        .expect(200)
        .body;
    let cursor = first["next_cursor"].as_str().unwrap();
    app.get(
        &format!("/api/tickets?limit=2&sort=priority&cursor={cursor}"),
        &agent,
    )
    .await
    .problem(422);
    for bad in [
        "status=lost",
        "sort=subject",
        "order=up",
        "assignee_id=someone",
        "tag=no%20spaces",
        "limit=0",
    ] {
        app.get(&format!("/api/tickets?{bad}"), &agent)
            .await
            .problem(422);
    }
    app.get("/api/tickets?priority=critical", &agent)
        .await
        .problem(400);
}

async fn search_ignores_accents_and_hides_internal_notes(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cliente@example.com", "customer").await;
    let billing = open(
        &app,
        &customer,
        json!({"subject": "Facturación duplicada", "description": "Me cobraron dos veces."}),
    )
    .await;
    let refund = open(
        &app,
        &customer,
        json!({"subject": "Pregunta", "description": "¿Cuándo llega el REEMBOLSO?"}),
    )
    .await;
    let other = open(
        &app,
        &customer,
        json!({"subject": "Otra cosa", "description": "Nada que ver."}),
    )
    .await;
    app.post(
        &format!("/api/tickets/{}/messages", id_of(&other)),
        Some(&agent),
        json!({"body": "Sospecha de fraude: palabraclave", "internal": true}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/tickets/{}/messages", id_of(&refund)),
        Some(&agent),
        json!({"body": "El reembolso se procesa en 5 días"}),
    )
    .await
    .expect(201);

    for token in [&agent, &customer] {
        assert_eq!(
            ticket_ids(&app, token, "q=facturacion").await,
            vec![id_of(&billing)]
        );
        assert_eq!(
            ticket_ids(&app, token, "q=FACTURACIÓN%20duplicada").await,
            vec![id_of(&billing)]
        );
        assert_eq!(
            ticket_ids(&app, token, "q=cuando%20reembolso").await,
            vec![id_of(&refund)],
            "all words, in one message"
        );
        assert_eq!(
            ticket_ids(&app, token, "q=dias").await,
            vec![id_of(&refund)]
        );
        assert!(
            ticket_ids(&app, token, "q=facturacion%20reembolso")
                .await
                .is_empty()
        );
        assert!(
            ticket_ids(&app, token, "q=%22%20OR%20*%20--").await.len() <= 3,
            "search syntax is inert"
        );
    }
    assert_eq!(
        ticket_ids(&app, &agent, "q=palabraclave").await,
        vec![id_of(&other)],
        "staff search internal notes"
    );
    assert!(
        ticket_ids(&app, &customer, "q=palabraclave")
            .await
            .is_empty(),
        "customers never match internal notes"
    );
    assert!(ticket_ids(&app, &customer, "q=fraude").await.is_empty());
    assert_eq!(
        ticket_ids(&app, &agent, "q=reembolso&status=open").await,
        vec![id_of(&refund)]
    );
}

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

async fn stats_count_the_queue(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let empty = app.get("/api/tickets/stats", &agent).await.expect(200).body;
    assert_eq!(empty["by_status"]["open"], 0);
    assert!(empty["median_first_response_seconds"].is_null());
    let a = id_of(
        &open(
            &app,
            &customer,
            json!({"subject": "A", "description": "d", "priority": "urgent"}),
        )
        .await,
    );
    let b = id_of(&open(&app, &customer, json!({"subject": "B", "description": "d"})).await);
    open(&app, &customer, json!({"subject": "C", "description": "d"})).await;
    app.post(
        &format!("/api/tickets/{a}/assign"),
        Some(&agent),
        json!({"assignee_id": agent_user["id"]}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/tickets/{a}/messages"),
        Some(&agent),
        json!({"body": "hello"}),
    )
    .await
    .expect(201);
    app.patch(
        &format!("/api/tickets/{b}"),
        &agent,
        json!({"status": "resolved"}),
    )
    .await
    .expect(200);

    let stats = app.get("/api/tickets/stats", &agent).await.expect(200).body;
    assert_eq!(
        stats["by_status"],
        json!({"open": 2, "pending": 0, "in_progress": 0, "resolved": 1, "closed": 0})
    );
    assert_eq!(
        stats["by_priority"],
        json!({"low": 0, "medium": 2, "high": 0, "urgent": 1})
    );
    assert_eq!(
        (
            stats["unassigned"].as_i64(),
            stats["assigned_to_me"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let days = stats["created_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["count"], 3);
    assert_eq!(
        days[29]["date"],
        time::OffsetDateTime::now_utc().date().to_string()
    );
    assert!(stats["median_first_response_seconds"].as_f64().unwrap() >= 0.0);
    assert!(stats["median_resolution_seconds"].as_f64().unwrap() >= 0.0);
    app.get("/api/tickets/stats", &customer).await.problem(403);
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
