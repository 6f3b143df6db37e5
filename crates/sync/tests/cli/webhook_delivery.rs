//! `growdesk-sync run` delivers the outbox: Standard Webhooks signatures that verify, retries
//! that back off and give up after a day, and internal targets refused at send time.

use std::process::Output;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use growdesk_domain::{DeliveryStatus, Priority, Role, WebhookDelivery};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, Store, users::NewUser, webhooks::WebhookFields};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::support::{growdesk_sync, open_ticket, serve_on_loopback, store_of};

const KEY: [u8; 24] = *b"a test key of 24 bytes!!";

/// What the receiver got: headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

async fn receiver(answer: Arc<AtomicU16>) -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            let answer = answer.clone();
            async move {
                log.lock().unwrap().push((headers, body.to_vec()));
                StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let url = format!("{}/hook", serve_on_loopback(app).await);
    (url, received)
}

fn run_at(database: &TestDatabase, now: time::OffsetDateTime, allow_private: bool) -> Output {
    let output = growdesk_sync()
        .env_clear()
        .env(
            "GROWDESK_WEBHOOK_ALLOW_PRIVATE_TARGETS",
            allow_private.to_string(),
        )
        .env("GROWDESK_LOG_LEVEL", "debug")
        .arg("--database-url")
        .arg(database.url())
        .args(["run", "--once", "--now"])
        .arg(now.format(&Rfc3339).unwrap())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secret = BASE64.encode(KEY);
    for printed in [&output.stdout, &output.stderr] {
        assert!(
            !String::from_utf8_lossy(printed).contains(&secret),
            "the signing secret reached the logs"
        );
    }
    output
}

/// Cy, the customer whose tickets raise the events.
async fn customer(store: &Store) -> Uuid {
    let new = NewUser {
        email: "cy@example.com".into(),
        name: "Cy".into(),
        role: Role::Customer,
        password_hash: None,
    };
    store.users().create(new).await.unwrap().id
}

async fn deliveries(store: &Store, webhook: Uuid) -> Vec<WebhookDelivery> {
    store
        .webhooks()
        .deliveries(webhook, None, 100)
        .await
        .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap().to_str().unwrap()
}

async fn delivery(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let store = store_of(&database).await;
    let answer = Arc::new(AtomicU16::new(500));
    let (url, received) = receiver(answer.clone()).await;
    let secret = format!("whsec_{}", BASE64.encode(KEY));
    let fields = WebhookFields {
        url,
        event_types: vec!["created".into()],
        active: true,
    };
    let webhook = store.webhooks().create(&secret, &fields).await.unwrap();
    let customer = customer(&store).await;
    let ticket = open_ticket(&store, customer, "Refund", Priority::Medium).await;
    let outbox = deliveries(&store, webhook.id).await;
    assert_eq!(outbox.len(), 1, "one `created` event: {outbox:?}");
    let start = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        + time::Duration::seconds(5);

    // First attempt: the receiver fails; the delivery waits 30 s ± 25 %.
    run_at(&database, start, true);
    let first = received.lock().unwrap().clone();
    assert_eq!(first.len(), 1);
    let (headers, body) = &first[0];
    let id = header(headers, "webhook-id");
    let timestamp = header(headers, "webhook-timestamp");
    assert_eq!(id, format!("msg_{}", outbox[0].id));
    assert_eq!(timestamp, start.unix_timestamp().to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    assert_eq!(
        header(headers, "webhook-signature"),
        expected,
        "the signature verifies"
    );
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["type"], "created");
    assert_eq!(payload["data"]["ticket_id"], ticket.to_string());
    let after_first = &deliveries(&store, webhook.id).await[0];
    assert_eq!(after_first.status, DeliveryStatus::Pending);
    assert_eq!(after_first.attempts, 1);
    assert_eq!(after_first.last_status, Some(500));
    let wait = after_first.next_attempt_at - start;
    assert!(
        wait >= time::Duration::milliseconds(22_500)
            && wait <= time::Duration::milliseconds(37_500),
        "{wait}"
    );

    // Not due yet: nothing is sent.
    run_at(&database, start + time::Duration::seconds(10), true);
    assert_eq!(
        received.lock().unwrap().len(),
        1,
        "no retry before its time"
    );

    // Due, and the receiver is back: delivered, under the same message id.
    answer.store(204, Ordering::SeqCst);
    run_at(&database, start + time::Duration::seconds(60), true);
    let all = received.lock().unwrap().clone();
    assert_eq!(all.len(), 2);
    assert_eq!(
        header(&all[1].0, "webhook-id"),
        id,
        "retries keep the message id"
    );
    let delivered = &deliveries(&store, webhook.id).await[0];
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert_eq!((delivered.attempts, delivered.last_status), (2, Some(204)));
    run_at(&database, start + time::Duration::seconds(120), true);
    assert_eq!(
        received.lock().unwrap().len(),
        2,
        "a delivered event is not sent again"
    );

    // Without permission for internal targets, the loopback receiver is refused at send.
    open_ticket(&store, customer, "Third", Priority::Medium).await;
    let before = received.lock().unwrap().len();
    run_at(&database, start + time::Duration::seconds(180), false);
    assert_eq!(
        received.lock().unwrap().len(),
        before,
        "nothing reached the internal address"
    );
    let refused = &deliveries(&store, webhook.id).await[0];
    assert_eq!(
        refused.status,
        DeliveryStatus::Pending,
        "refused now, retried later"
    );
    assert!(
        refused
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("target refused"),
        "{refused:?}"
    );
    // A receiver down for over a day: the delivery is marked failed.
    answer.store(503, Ordering::SeqCst);
    open_ticket(&store, customer, "Another", Priority::Medium).await;
    run_at(&database, start + time::Duration::hours(25), true);
    let newest = &deliveries(&store, webhook.id).await[0];
    assert_eq!(newest.status, DeliveryStatus::Failed, "{newest:?}");
    assert_eq!(newest.last_status, Some(503));

    store.close().await;
}

/// A receiver that fails, then stalls past the send timeout, then recovers: every event is
/// acknowledged exactly once by its `webhook-id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_then_stalling_receiver_gets_every_event_once() {
    let database = TestDatabase::create(BackendKind::Sqlite).await;
    let store = store_of(&database).await;
    // 500: fail; 0: stall 12 s (past the 10 s timeout), then answer 200; 200: fine.
    let mode = Arc::new(AtomicU16::new(500));
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = {
        let mode = mode.clone();
        let acknowledged = acknowledged.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap| {
                let mode = mode.clone();
                let acknowledged = acknowledged.clone();
                async move {
                    let id = header(&headers, "webhook-id").to_owned();
                    match mode.load(Ordering::SeqCst) {
                        500 => StatusCode::INTERNAL_SERVER_ERROR,
                        0 => {
                            tokio::time::sleep(std::time::Duration::from_secs(12)).await;
                            StatusCode::OK
                        }
                        _ => {
                            acknowledged.lock().unwrap().push(id);
                            StatusCode::OK
                        }
                    }
                }
            }),
        )
    };
    let url = format!("{}/hook", serve_on_loopback(app).await);
    let secret = format!("whsec_{}", BASE64.encode(KEY));
    let fields = WebhookFields {
        url,
        event_types: vec!["*".into()],
        active: true,
    };
    let webhook = store.webhooks().create(&secret, &fields).await.unwrap();
    let customer = customer(&store).await;
    for subject in ["One", "Two", "Three"] {
        open_ticket(&store, customer, subject, Priority::Medium).await;
    }
    let events = deliveries(&store, webhook.id).await.len();
    assert!(events >= 3);
    let start = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);

    run_at(&database, start, true);
    mode.store(0, Ordering::SeqCst);
    run_at(&database, start + time::Duration::minutes(2), true);
    let stalled = deliveries(&store, webhook.id).await;
    assert!(
        stalled
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending && d.attempts == 2),
        "timed out, to be retried: {stalled:?}"
    );
    mode.store(200, Ordering::SeqCst);
    run_at(&database, start + time::Duration::minutes(10), true);
    run_at(&database, start + time::Duration::minutes(20), true);

    let mut ids = acknowledged.lock().unwrap().clone();
    ids.sort();
    let mut expected: Vec<String> = deliveries(&store, webhook.id)
        .await
        .iter()
        .map(|d| format!("msg_{}", d.id))
        .collect();
    expected.sort();
    assert_eq!(ids, expected, "every event acknowledged exactly once");
    assert!(
        deliveries(&store, webhook.id)
            .await
            .iter()
            .all(|d| d.status == DeliveryStatus::Delivered)
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_on_sqlite() {
    delivery(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_on_postgres() {
    delivery(BackendKind::Postgres).await;
}

/// Webhooks saved before the guard knew these blocks (or by a name that resolved elsewhere
/// then) are checked again when sent: IPv4 loopback carried in NAT64, SIIT and 6to4.
async fn carried_internal_addresses_are_refused_at_send(kind: BackendKind) {
    let database = TestDatabase::create(kind).await;
    let store = store_of(&database).await;
    let secret = format!("whsec_{}", BASE64.encode(KEY));
    let mut webhooks = Vec::new();
    for url in [
        "http://[64:ff9b::7f00:1]:9/hook",
        "http://[::ffff:0:7f00:1]:9/hook",
        "http://[2002:7f00:1::1]:9/hook",
    ] {
        let fields = WebhookFields {
            url: url.to_owned(),
            event_types: vec!["*".into()],
            active: true,
        };
        webhooks.push(store.webhooks().create(&secret, &fields).await.unwrap());
    }
    let customer = customer(&store).await;
    open_ticket(&store, customer, "Refund", Priority::Medium).await;
    run_at(
        &database,
        time::OffsetDateTime::now_utc() + time::Duration::seconds(5),
        false,
    );
    for webhook in &webhooks {
        let attempt = &deliveries(&store, webhook.id).await[0];
        assert_eq!(attempt.attempts, 1, "{}: {attempt:?}", webhook.url);
        assert!(
            attempt
                .last_error
                .as_deref()
                .is_some_and(|error| error.contains("target refused")),
            "{}: {attempt:?}",
            webhook.url
        );
    }
    store.close().await;
}

#[tokio::test]
async fn carried_internal_addresses_are_refused_at_send_on_sqlite() {
    carried_internal_addresses_are_refused_at_send(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn carried_internal_addresses_are_refused_at_send_on_postgres() {
    carried_internal_addresses_are_refused_at_send(BackendKind::Postgres).await;
}
