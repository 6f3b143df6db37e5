//! Listing tickets: filters, sorts and pages, accent-blind search that keeps internal notes
//! from customers, and the queue's counts.

use growdesk_store::BackendKind;
use serde_json::json;

use super::{id_of, open, ticket_ids};
use crate::helpers::spawn_app;

on_both_backends!(
    tickets_are_filtered_sorted_and_paged,
    search_ignores_accents_and_hides_internal_notes,
    stats_count_the_queue,
);

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
