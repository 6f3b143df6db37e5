//! The relay: tails the event log and the revocations and feeds the hub (and the store's
//! cache of sessions, which must forget what other processes revoke).
//!
//! It wakes when this process commits (the store's notifier), when another process commits on
//! PostgreSQL (`LISTEN growdesk_changes`), and at least every poll interval (which is how an
//! SQLite relay hears of other processes). Each time, it settles the log (`Events::settle`)
//! and publishes what lies between what it published and the settled ids, in id order; while
//! transactions still open hold ids back, it settles again soon, sooner than the poll. It
//! starts at the log's end: history before the server started reaches clients through their
//! resume, not through the relay.
//!
//! A socket's session reads the settled ids after it subscribes to the hub and replays the log
//! up to them; the relay settles before it publishes. So an event is either at or below what
//! the session replays, or published after the session subscribed: none falls between.

use std::collections::HashMap;
use std::time::Duration;

use growdesk_domain::{Event, Message, Notification, TicketEvent};
use growdesk_store::events::{FeedEvent, Settled, Span};
use growdesk_store::{Store, StoreError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::hub::{EventSignal, Hub, Signal};

/// Events read per query.
const BATCH: u32 = 500;

/// The first wait before settling again while open transactions hold ids back; it doubles up
/// to the poll interval while they stay open.
const HELD_BACK: Duration = Duration::from_millis(2);

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
    let mut published = None;
    let mut held_back = HELD_BACK;
    loop {
        if listener.is_none() {
            listener = store.change_listener().await.unwrap_or_else(|error| {
                tracing::warn!(%error, "relay cannot listen for other instances yet; polling");
                None
            });
        }
        let wait = match catch_up(&store, &hub, &mut published).await {
            Ok(true) => {
                let wait = held_back.min(poll);
                held_back = (held_back * 2).min(poll);
                wait
            }
            Ok(false) => {
                held_back = HELD_BACK;
                poll
            }
            Err(error) => {
                tracing::warn!(%error, "relay could not read the log; retrying");
                poll
            }
        };
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
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Settles the log and publishes what it gained since `published` (`None` before the first
/// settled ids, which are where the relay starts). Whether open transactions still hold ids
/// back.
async fn catch_up(
    store: &Store,
    hub: &Hub,
    published: &mut Option<Settled>,
) -> Result<bool, StoreError> {
    let settling = store.events().settle().await?;
    let Some(settled) = settling.settled else {
        return Ok(settling.behind);
    };
    let from = published.get_or_insert(settled);
    while from.revocations < settled.revocations {
        let span = Span {
            after: from.revocations,
            upto: settled.revocations,
        };
        let batch = store.events().revocations_after(span, BATCH).await?;
        store.sessions().forget_revoked(&batch);
        for revocation in &batch {
            hub.revoke(revocation.user_id, revocation.session_id);
        }
        match batch.last() {
            Some(last) if batch.len() == BATCH as usize => from.revocations = last.id,
            _ => break,
        }
    }
    from.revocations = settled.revocations;
    while from.events < settled.events {
        let span = Span {
            after: from.events,
            upto: settled.events,
        };
        let feed = store.events().after(span, BATCH).await?;
        let next = match feed.last() {
            Some(last) if feed.len() == BATCH as usize => Some(last.event.id),
            _ => None,
        };
        for signal in signals_for(store, feed).await? {
            hub.publish(signal);
        }
        match next {
            Some(id) => from.events = id,
            None => break,
        }
    }
    from.events = settled.events;
    Ok(settling.behind)
}
