//! Many writers at once through two instances, while a socket on each tails the log: every
//! socket gets every event once, in id order, each ticket's events in the order of its history,
//! and each writer's replies in the order the writer sent them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use super::{Client, WAIT, base64_cursor};
use crate::helpers::{TestApp, spawn_app, spawn_second_instance};

on_both_backends!(concurrent_writers_reach_every_socket_once_in_order);

const WRITERS: usize = 32;
const REPLIES: usize = 5;
const TICKETS: usize = 4;
/// The body of the message posted after every writer finished: a socket that has it has read
/// everything before it.
const LAST: &str = "the last message";

/// Reads event frames until the one carrying the last message, reconnecting with the last
/// id seen whenever the server closes the socket (as a client does).
async fn tail(app: Arc<TestApp>, token: String, mut client: Client, mut last: i64) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let Some(frame) = client.next(WAIT).await else {
            client = Client::connect(&app, &token, Some(last)).await;
            continue;
        };
        if frame["type"] != "event" {
            continue;
        }
        last = frame["event"]["id"].as_i64().unwrap();
        let done = frame["message"]["body"] == LAST;
        events.push(frame);
        if done {
            return events;
        }
    }
}

/// The ids of a ticket's history after event `after`, oldest first, through the REST API.
async fn history(app: &TestApp, token: &str, ticket: &str, after: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = base64_cursor(after);
    loop {
        let page = app
            .get(
                &format!("/api/tickets/{ticket}/events?limit=100&cursor={cursor}"),
                token,
            )
            .await
            .expect(200)
            .body;
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|event| event["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return ids,
        }
    }
}

async fn concurrent_writers_reach_every_socket_once_in_order(kind: BackendKind) {
    let first = Arc::new(spawn_app(kind).await);
    let second = Arc::new(spawn_second_instance(&first).await);
    let (agent, _) = first.user_token("agent@example.com", "agent").await;
    let mut tickets = Vec::new();
    for number in 0..TICKETS {
        let ticket = first
            .post(
                "/api/tickets",
                Some(&agent),
                json!({"subject": format!("Busy {number}"), "description": "d"}),
            )
            .await
            .expect(201)
            .body;
        tickets.push(ticket["id"].as_str().unwrap().to_owned());
    }
    let mut readers = Vec::new();
    for app in [&first, &second] {
        let mut client = Client::connect(app, &agent, None).await;
        let ready = client.next_of("ready", WAIT).await.unwrap();
        let last = ready["last_event_id"].as_i64().unwrap();
        let reader = tokio::spawn(tail(Arc::clone(app), agent.clone(), client, last));
        readers.push((last, reader));
    }

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let app = Arc::clone(if writer % 2 == 0 { &first } else { &second });
            let token = agent.clone();
            let tickets = tickets.clone();
            tokio::spawn(async move {
                for reply in 0..REPLIES {
                    let ticket = &tickets[(writer + reply) % TICKETS];
                    app.post(
                        &format!("/api/tickets/{ticket}/messages"),
                        Some(&token),
                        json!({"body": format!("{writer}/{reply}")}),
                    )
                    .await
                    .expect(201);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    first
        .post(
            &format!("/api/tickets/{}/messages", tickets[0]),
            Some(&agent),
            json!({"body": LAST}),
        )
        .await
        .expect(201);

    let mut histories = BTreeMap::new();
    for ticket in &tickets {
        histories.insert(ticket.clone(), history(&first, &agent, ticket, 0).await);
    }
    let mut logged: Vec<i64> = histories.values().flatten().copied().collect();
    logged.sort_unstable();
    assert!(
        logged.len() > WRITERS * REPLIES,
        "every reply is in the histories"
    );
    for (start, reader) in readers {
        let frames = tokio::time::timeout(Duration::from_secs(120), reader)
            .await
            .expect("every socket reads the last message")
            .unwrap();
        let logged: Vec<i64> = logged.iter().copied().filter(|id| *id > start).collect();
        let ids: Vec<i64> = frames
            .iter()
            .map(|frame| frame["event"]["id"].as_i64().unwrap())
            .collect();
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "in id order, none twice: {ids:?}"
        );
        let tickets_events: Vec<i64> = frames
            .iter()
            .filter(|frame| frame["event"]["recipient_id"].is_null())
            .map(|frame| frame["event"]["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            tickets_events, logged,
            "every event of the tickets, none missed"
        );
        for (ticket, history) in &histories {
            let history: Vec<i64> = history.iter().copied().filter(|id| *id > start).collect();
            let delivered: Vec<i64> = frames
                .iter()
                .filter(|frame| frame["event"]["ticket_id"] == ticket.as_str())
                .filter(|frame| frame["event"]["recipient_id"].is_null())
                .map(|frame| frame["event"]["id"].as_i64().unwrap())
                .collect();
            assert_eq!(
                delivered, history,
                "ticket {ticket} in the order of its history"
            );
        }
        let mut last_reply = HashMap::new();
        for frame in &frames {
            let Some((writer, reply)) = frame["message"]["body"]
                .as_str()
                .and_then(|body| body.split_once('/'))
            else {
                continue;
            };
            if let Some(before) = last_reply.insert(writer.to_owned(), reply.to_owned()) {
                let (before, reply): (usize, usize) =
                    (before.parse().unwrap(), reply.parse().unwrap());
                assert!(
                    before < reply,
                    "writer {writer}'s reply {reply} after {before}"
                );
            }
        }
    }
}
