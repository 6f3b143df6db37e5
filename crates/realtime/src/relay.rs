//! The relay: tails the event log and the revocations and feeds the hub (and the store's
//! cache of sessions, which must forget what other processes revoke).
//!
//! It wakes when this process commits (the store's notifier), when another process commits on
//! PostgreSQL (`LISTEN growdesk_changes`), and at least every poll interval (which is how an
//! SQLite relay hears of other processes). It starts at the log's end: history before the
//! server started reaches clients through their resume, not through the relay.

use std::collections::HashMap;
use std::time::Duration;

use growdesk_domain::{Event, Message, Notification, TicketEvent};
use growdesk_store::{Store, StoreError, events::FeedEvent};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::hub::{EventSignal, Hub, Signal};

/// Events read per query.
const BATCH: u32 = 500;

/// The notification a `notification_created` event carries.
pub fn notification_of(event: &TicketEvent) -> Option<Notification> {
    let Event::NotificationCreated(notification) = &event.event else {
        return None;
    };
    Some(Notification {
        id: notification.id,
        kind: notification.kind,
        ticket_id: event.ticket_id,
        data: serde_json::to_value(&notification.data).ok()?,
        read_at: None,
        created_at: event.created_at,
    })
}

/// Turns feed events into hub signals, loading the messages of `message_created` events in
/// one query.
///
/// # Errors
/// The database failed.
pub async fn signals_for(store: &Store, feed: Vec<FeedEvent>) -> Result<Vec<Signal>, StoreError> {
    let message_ids: Vec<Uuid> = feed
        .iter()
        .filter_map(|item| item.event.event.message_id())
        .collect();
    let mut messages: HashMap<Uuid, Message> = store
        .messages()
        .by_ids(&message_ids)
        .await?
        .into_iter()
        .map(|message| (message.id, message))
        .collect();
    Ok(feed
        .into_iter()
        .map(|item| {
            let message = item
                .event
                .event
                .message_id()
                .and_then(|id| messages.remove(&id));
            let notification = notification_of(&item.event);
            Signal::Event(Box::new(EventSignal {
                feed: item,
                message,
                notification,
            }))
        })
        .collect())
}

/// Runs until `shutdown`: reads what the log and the revocations gained and publishes it.
pub async fn run(store: Store, hub: Hub, poll: Duration, shutdown: CancellationToken) {
    let changes = store.changes();
    let mut listener = None;
    let mut positions = None;
    loop {
        if positions.is_none() {
            positions = match (
                store.events().latest_id().await,
                store.events().latest_revocation_id().await,
            ) {
                (Ok(events), Ok(revocations)) => Some((events, revocations)),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::warn!(%error, "relay cannot read the log yet; retrying");
                    None
                }
            };
        }
        if listener.is_none() {
            listener = store.change_listener().await.unwrap_or_else(|error| {
                tracing::warn!(%error, "relay cannot listen for other instances yet; polling");
                None
            });
        }
        if let Some((events, revocations)) = positions.as_mut()
            && let Err(error) = catch_up(&store, &hub, events, revocations).await
        {
            tracing::warn!(%error, "relay could not read the log; retrying");
        }
        let notified = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.map(drop),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = changes.notified() => {}
            result = notified => {
                if let Err(error) = result {
                    tracing::warn!(%error, "lost the PostgreSQL listener; reconnecting");
                    listener = None;
                }
            }
            () = tokio::time::sleep(poll) => {}
        }
    }
}

async fn catch_up(
    store: &Store,
    hub: &Hub,
    events: &mut i64,
    revocations: &mut i64,
) -> Result<(), StoreError> {
    loop {
        let batch = store
            .events()
            .revocations_after(*revocations, BATCH)
            .await?;
        let Some(last) = batch.last() else { break };
        *revocations = last.id;
        store.sessions().forget_revoked(&batch);
        for revocation in &batch {
            hub.revoke(revocation.user_id, revocation.session_id);
        }
    }
    loop {
        let feed = store.events().after(*events, BATCH).await?;
        let Some(last) = feed.last() else { break };
        *events = last.event.id;
        for signal in signals_for(store, feed).await? {
            hub.publish(signal);
        }
    }
    Ok(())
}
