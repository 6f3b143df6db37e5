//! Webhook delivery: due deliveries from the outbox are POSTed, signed the Standard Webhooks
//! way, to addresses checked again at send time; failures are retried with exponential backoff
//! and jitter for a day, then marked failed.

use std::time::Duration;

use futures_util::StreamExt as _;
use growdesk_domain::DeliveryStatus;
use growdesk_service::webhooks::{resolve_target, sign};
use growdesk_store::{
    Stamp, Store,
    webhooks::{DeliveryAttempt, DueDelivery},
};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use url::Url;

use crate::backoff::next_attempt;

/// Deliveries one pass sends (the next pass takes the rest).
const BATCH: u32 = 100;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 8;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The request body: `{"type", "timestamp", "data"}`, the event's own fields in `data`.
fn payload(delivery: &DueDelivery) -> Value {
    let mut data = json!({
        "event_id": delivery.event_id,
        "ticket_id": delivery.ticket_id,
        "actor_id": delivery.actor_id,
        "internal": delivery.internal,
    });
    if let (Some(fields), Ok(Value::Object(event))) = (
        data.as_object_mut(),
        serde_json::to_value(delivery.event.data()),
    ) {
        for (key, value) in event {
            fields.entry(key).or_insert(value);
        }
    }
    json!({
        "type": delivery.event.kind().as_str(),
        "timestamp": delivery.event_at.into_inner().format(&Rfc3339).unwrap_or_default(),
        "data": data,
    })
}

/// Sends one delivery; the receiver's status, or why there was none.
async fn send(
    delivery: &DueDelivery,
    allow_private: bool,
    now: Stamp,
) -> Result<u16, (Option<u16>, String)> {
    let url = Url::parse(&delivery.url).map_err(|error| (None, format!("bad URL: {error}")))?;
    let addresses = resolve_target(&url, allow_private)
        .await
        .map_err(|reason| (None, format!("target refused: the URL {reason}")))?;
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("GrowDesk-Webhooks/", env!("CARGO_PKG_VERSION")));
    if let Some(host) = url.domain() {
        // Connect to the addresses just checked, not to whatever the name resolves to next.
        client = client.resolve_to_addrs(host, &addresses);
    }
    let client = client.build().map_err(|error| (None, error.to_string()))?;
    let body = serde_json::to_vec(&payload(delivery)).map_err(|error| (None, error.to_string()))?;
    let message_id = format!("msg_{}", delivery.id);
    let timestamp = now.into_inner().unix_timestamp();
    let signature =
        sign(&delivery.secret, &message_id, timestamp, &body).map_err(|error| (None, error))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        // Without the URL, which the delivery log already names and which may carry a token.
        .map_err(|error| (None, error.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err((
            Some(status.as_u16()),
            format!("the receiver answered {status}"),
        ))
    }
}

/// What to record after an attempt at `delivery` made at `now`.
fn outcome(
    delivery: &DueDelivery,
    sent: Result<u16, (Option<u16>, String)>,
    now: Stamp,
) -> DeliveryAttempt {
    match sent {
        Ok(status) => DeliveryAttempt {
            status: DeliveryStatus::Delivered,
            next_attempt_at: now,
            http_status: Some(i32::from(status)),
            error: None,
        },
        Err((status, error)) => {
            let next = next_attempt(delivery.created_at, delivery.attempts + 1, now);
            DeliveryAttempt {
                status: if next.is_some() {
                    DeliveryStatus::Pending
                } else {
                    DeliveryStatus::Failed
                },
                next_attempt_at: next.unwrap_or(now),
                http_status: status.map(i32::from),
                error: Some(error),
            }
        }
    }
}

/// Sends the deliveries due at `now`; how many were delivered, will be retried, or failed.
///
/// # Errors
/// The database failed.
pub(crate) async fn deliver_due(
    store: &Store,
    allow_private: bool,
    now: Stamp,
) -> anyhow::Result<Value> {
    let due = store.webhooks().due_deliveries(now, BATCH).await?;
    let attempts: Vec<(i64, DeliveryAttempt)> = futures_util::stream::iter(due)
        .map(|delivery| async move {
            let sent = send(&delivery, allow_private, now).await;
            (delivery.id, outcome(&delivery, sent, now))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut counts = [0_u64; 3];
    for (id, attempt) in &attempts {
        store
            .webhooks()
            .record_delivery_attempt(*id, attempt, now)
            .await?;
        counts[match attempt.status {
            DeliveryStatus::Delivered => 0,
            DeliveryStatus::Pending => 1,
            DeliveryStatus::Failed => 2,
        }] += 1;
    }
    Ok(json!({"delivered": counts[0], "retrying": counts[1], "failed": counts[2]}))
}
