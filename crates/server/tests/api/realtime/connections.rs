//! The life of a connection: a slow consumer is closed while others keep up, a revoked session
//! loses its sockets, the handshake checks token and origin, a silent client is dropped and
//! shutdown says going away, and a second instance delivers the first one's changes.

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::{Client, WAIT};
use crate::helpers::{spawn_app, spawn_app_with};

on_both_backends!(
    a_slow_consumer_is_closed_while_others_keep_up,
    revoked_sessions_lose_their_sockets,
    the_handshake_checks_token_and_origin,
    a_second_instance_delivers_the_first_ones_changes,
    silent_clients_are_dropped_and_shutdown_says_going_away,
);

async fn a_slow_consumer_is_closed_while_others_keep_up(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.ws_send_queue = 32).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let ticket = app
        .post(
            "/api/tickets",
            Some(&agent),
            json!({"subject": "Firehose", "description": "d"}),
        )
        .await
        .expect(201)
        .body;
    let path = format!("/api/tickets/{}/messages", ticket["id"].as_str().unwrap());
    let mut slow = Client::connect(&app, &agent, None).await;
    slow.next_of("ready", WAIT).await.unwrap();
    let mut fast = Client::connect(&app, &agent, None).await;
    fast.next_of("ready", WAIT).await.unwrap();

    let body = "x".repeat(40_000);
    let mut latencies = Vec::new();
    for _ in 0..300 {
        let sent = Instant::now();
        app.post(&path, Some(&agent), json!({"body": body}))
            .await
            .expect(201);
        fast.next_of("event", WAIT)
            .await
            .expect("the fast client keeps receiving");
        latencies.push(sent.elapsed());
    }
    // A fan-out that waited on the stuck client would never reach the fast one (the slow client
    // reads nothing until the end), so the deliveries above are the property; the latency is a
    // figure for the log, not a bound a loaded machine could break.
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!("{kind:?}: p99 post-to-delivery beside a stuck client {p99:?}");

    let mut received = 0;
    let code = loop {
        match tokio::time::timeout(WAIT, slow.socket.next())
            .await
            .expect("the slow socket ends")
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            None | Some(Err(_)) => break None,
            Some(Ok(_)) => {}
        }
    };
    assert!(
        received < 300,
        "the slow client was cut off ({received} frames, close {code:?})"
    );
}

async fn revoked_sessions_lose_their_sockets(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let mut socket = Client::connect(&app, &agent, None).await;
    socket.next_of("ready", WAIT).await.unwrap();
    app.call(Method::POST, "/api/auth/logout", Some(&agent), None)
        .await
        .expect(204);
    assert_eq!(
        socket.closed(WAIT).await,
        Some(Some(1008)),
        "sign-out closes the socket"
    );

    let tokens = app.login("agent@example.com", "user-password-1").await;
    let mut socket = Client::connect(&app, &crate::helpers::access(&tokens), None).await;
    socket.next_of("ready", WAIT).await.unwrap();
    let admin = app.admin_token().await;
    app.delete(
        &format!("/api/users/{}", agent_user["id"].as_str().unwrap()),
        &admin,
    )
    .await
    .expect(200);
    assert_eq!(
        socket.closed(WAIT).await,
        Some(Some(1008)),
        "deactivation closes the socket"
    );
}

async fn the_handshake_checks_token_and_origin(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.cors_origins = vec!["https://desk.example.com".to_owned()]
    })
    .await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let ws = app.base.replace("http://", "ws://");
    let status = |result: Result<_, tokio_tungstenite::tungstenite::Error>| match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Ok(_) => 101,
        Err(other) => panic!("{other}"),
    };
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(format!("{ws}/api/ws"))
                .await
                .map(drop)
        ),
        401
    );
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(format!("{ws}/api/ws?access_token=forged"))
                .await
                .map(drop)
        ),
        401
    );
    let with_origin = |origin: &str| {
        let mut request = format!("{ws}/api/ws?access_token={agent}")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request
    };
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(with_origin("https://evil.example.com"))
                .await
                .map(drop)
        ),
        403
    );
    assert_eq!(
        status(
            tokio_tungstenite::connect_async(with_origin("https://desk.example.com"))
                .await
                .map(drop)
        ),
        101
    );

    let mut request = format!("{ws}/api/ws").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {agent}").parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the token may come as a subprotocol");
    assert_eq!(response.headers()["sec-websocket-protocol"], "bearer");
    let big = "x".repeat(70 * 1024);
    socket.send(Message::Text(big.into())).await.unwrap();
    let mut ended = false;
    while let Ok(Some(frame)) = tokio::time::timeout(WAIT, socket.next()).await {
        if matches!(frame, Ok(Message::Close(_)) | Err(_)) {
            ended = true;
            break;
        }
    }
    assert!(ended, "an oversized frame ends the socket");
}

async fn a_second_instance_delivers_the_first_ones_changes(kind: BackendKind) {
    let first = spawn_app(kind).await;
    let second = crate::helpers::spawn_second_instance(&first).await;
    let (agent, _) = first.user_token("agent@example.com", "agent").await;
    let mut socket = Client::connect(&second, &agent, None).await;
    socket.next_of("ready", WAIT).await.unwrap();
    first
        .post(
            "/api/tickets",
            Some(&agent),
            json!({"subject": "Across instances", "description": "d"}),
        )
        .await
        .expect(201);
    // Only the relay carries an event to another instance, so its arrival is the property; how
    // fast is the bench's to measure.
    let frame = socket
        .next_of("event", WAIT)
        .await
        .expect("the other instance delivers it");
    assert_eq!(frame["event"]["kind"], "created");
}

async fn silent_clients_are_dropped_and_shutdown_says_going_away(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.ws_ping_interval_secs = 1).await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let mut silent = Client::connect(&app, &agent, None).await;
    silent.next_of("ready", WAIT).await.unwrap();
    // Not reading means not answering the server's pings. The server gives up on a client
    // unheard for two intervals, timed by tokio's clock in this process: paused, eight intervals
    // pass at once and in order, however loaded the machine.
    tokio::time::pause();
    tokio::time::sleep(Duration::from_secs(8)).await;
    tokio::time::resume();
    assert_eq!(
        silent.closed(WAIT).await,
        Some(Some(1001)),
        "a client that answers no ping is dropped"
    );

    let mut listening = Client::connect(&app, &agent, None).await;
    listening.next_of("ready", WAIT).await.unwrap();
    let stopping = tokio::spawn(app.stop());
    assert_eq!(
        listening.closed(WAIT).await,
        Some(Some(1001)),
        "shutdown closes sockets with 1001"
    );
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops")
        .unwrap();
}
