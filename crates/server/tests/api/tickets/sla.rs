//! Service-level figures on the dashboard (`GET /api/tickets/stats`, `sla`): per priority, the
//! targets of `GROWDESK_SLA_*`, the open tickets past them now, and the tickets of the last 30
//! days that missed them. Tiny targets for some priorities and huge ones for others put tickets
//! on both sides of each target, whatever the machine's speed: the test waits past the tiny ones
//! and never comes near the huge ones.

use std::time::Duration;

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use super::{id_of, open};
use crate::helpers::spawn_app_with;

on_both_backends!(the_dashboard_counts_tickets_past_their_targets);

/// A hundredth of a second, in hours.
const TINY: &str = "0.0000028";

/// The `sla` entry of `priority`.
fn of<'a>(stats: &'a Value, priority: &str) -> &'a Value {
    stats["sla"]
        .as_array()
        .expect("an sla list")
        .iter()
        .find(|entry| entry["priority"] == priority)
        .unwrap_or_else(|| panic!("no {priority} in {stats}"))
}

/// (overdue first response, overdue resolution, opened, missed first response, missed resolution)
fn counts(stats: &Value, priority: &str) -> [i64; 5] {
    let entry = of(stats, priority);
    [
        "overdue_first_response",
        "overdue_resolution",
        "opened_30_days",
        "missed_first_response_30_days",
        "missed_resolution_30_days",
    ]
    .map(|field| entry[field].as_i64().unwrap_or(-1))
}

async fn the_dashboard_counts_tickets_past_their_targets(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.sla_first_response_hours =
            format!("low=1000,medium=1000,high={TINY},urgent={TINY}");
        settings.sla_resolution_hours = format!("low=1000,medium=1000,high=1000,urgent={TINY}");
    })
    .await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("cy@example.com", "customer").await;
    let ticket = |subject: &str, priority: &str| json!({"subject": subject, "description": "help", "priority": priority});

    let empty = app.get("/api/tickets/stats", &agent).await.expect(200).body;
    for priority in ["low", "medium", "high", "urgent"] {
        assert_eq!(counts(&empty, priority), [0; 5], "{priority}");
    }
    assert_eq!(
        of(&empty, "low")["first_response_target_seconds"],
        3_600_000.0
    );
    assert_eq!(of(&empty, "high")["resolution_target_seconds"], 3_600_000.0);
    let tiny = of(&empty, "urgent")["first_response_target_seconds"]
        .as_f64()
        .unwrap();
    assert!((tiny - 0.01).abs() < 0.001, "{tiny}");

    // Within every target: low and medium have a thousand hours; the medium one is answered
    // and resolved besides.
    open(&app, &customer, ticket("Low, waiting", "low")).await;
    let medium = id_of(&open(&app, &customer, ticket("Medium, done", "medium")).await);
    // Past the tiny first-response target of high, within its resolution target.
    open(&app, &customer, ticket("High, waiting", "high")).await;
    // Urgent: past both tiny targets; one waits, one is answered late, one resolved late.
    open(&app, &customer, ticket("Urgent, waiting", "urgent")).await;
    let answered = id_of(&open(&app, &customer, ticket("Urgent, answered", "urgent")).await);
    let resolved = id_of(&open(&app, &customer, ticket("Urgent, resolved", "urgent")).await);
    tokio::time::sleep(Duration::from_millis(50)).await;
    for id in [&medium, &answered] {
        app.post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent),
            json!({"body": "On it"}),
        )
        .await
        .expect(201);
    }
    for id in [&medium, &resolved] {
        app.patch(
            &format!("/api/tickets/{id}"),
            &agent,
            json!({"status": "resolved"}),
        )
        .await
        .expect(200);
    }

    let stats = app.get("/api/tickets/stats", &agent).await.expect(200).body;
    assert_eq!(counts(&stats, "low"), [0, 0, 1, 0, 0], "within its targets");
    assert_eq!(
        counts(&stats, "medium"),
        [0, 0, 1, 0, 0],
        "answered and resolved in time"
    );
    assert_eq!(
        counts(&stats, "high"),
        [1, 0, 1, 1, 0],
        "past its first-response target only"
    );
    assert_eq!(
        counts(&stats, "urgent"),
        [1, 2, 3, 3, 3],
        "one still waiting for a reply, two open past resolution, all three late"
    );

    app.get("/api/tickets/stats", &customer).await.problem(403);
}
