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

/// Deliveries one pass sends (the next pass takes the rest).
const BATCH: u32 = 100;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 8;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The first retry's delay; each further one doubles, up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_secs(30);
const MAX_DELAY: Duration = Duration::from_secs(6 * 60 * 60);
/// How long a delivery is retried before it is marked failed.
const GIVE_UP_AFTER: time::Duration = time::Duration::days(1);

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

/// The delay before retry number `attempt` (1 for the first retry), with ±25 % jitter so that
/// a receiver coming back is not hit by every delivery at once.
pub(crate) fn retry_delay(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let base = FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_DELAY);
    base.mul_f64(rand::random_range(0.75..1.25))
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
            let delay = time::Duration::try_from(retry_delay(delivery.attempts + 1))
                .unwrap_or(GIVE_UP_AFTER);
            let next = now.into_inner() + delay;
            let give_up = next > delivery.created_at.into_inner() + GIVE_UP_AFTER;
            DeliveryAttempt {
                status: if give_up {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Pending
                },
                next_attempt_at: if give_up { now } else { Stamp::from(next) },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_ceiling() {
        for attempt in 1..=12 {
            let base = FIRST_DELAY
                .saturating_mul(1 << (attempt - 1))
                .min(MAX_DELAY);
            let delay = retry_delay(attempt);
            assert!(
                delay >= base.mul_f64(0.75) && delay <= base.mul_f64(1.25),
                "{attempt}: {delay:?}"
            );
        }
        let spread: std::collections::HashSet<Duration> = (0..20).map(|_| retry_delay(3)).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
    }
}
