//! Writes under concurrency, as SQLite's single writer commits them in batches and PostgreSQL
//! one by one: in a burst, a write that fails half-way leaves nothing of itself and takes
//! nothing from the others; a write is answered only once another connection can read it; and
//! two stores on one database (two processes, say the server and `growdesk-sync run`) both
//! write.

use std::time::Duration;

use growdesk_domain::{MessageBody, MessageChannel, Priority, Role, Subject, Tags, TicketSource};
use growdesk_store::idempotency::{Created, IdempotencyClaim};
use growdesk_store::tickets::NewTicket;
use growdesk_store::{BackendKind, PoolSettings, Store, StoreError};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::new_user;

on_both_backends!(a_failing_write_leaves_the_burst_around_it_whole);

/// Writes sent at once: enough to queue up for SQLite's writer and share its batches.
const BURST: usize = 32;

/// The write of the burst that fails half-way: its idempotency key is claimed, then its ticket
/// names a category that does not exist.
const FAILING: usize = 7;

/// Two writes of the burst that send one idempotency key with one request...
const SAME_REQUEST: [usize; 2] = [11, 19];

/// ...and one that sends that key with another request.
const OTHER_REQUEST: usize = 23;

fn ticket(requester: Uuid, category_id: Option<Uuid>, n: usize) -> NewTicket {
    NewTicket {
        id: Uuid::now_v7(),
        subject: Subject::parse(&format!("Burst {n}")).unwrap(),
        priority: Priority::Medium,
        category_id,
        requester_id: requester,
        source: TicketSource::Web,
        tags: Tags::default(),
        actor_id: requester,
        description: MessageBody::parse("Sent with the others").unwrap(),
        extra_events: Vec::new(),
        visitor_id: None,
        context: None,
        channel: MessageChannel::Web,
        mailbox_id: None,
        attachments: Vec::new(),
        notes: Vec::new(),
        mail: Vec::new(),
        inbound: None,
    }
}

fn claim(user_id: Uuid, key: &str, request: u8) -> IdempotencyClaim {
    IdempotencyClaim {
        user_id,
        key: key.to_owned(),
        fingerprint: vec![request],
    }
}

async fn a_failing_write_leaves_the_burst_around_it_whole(store: &Store) {
    let requester = store
        .users()
        .create(new_user("burst@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let mut burst = JoinSet::new();
    for n in 0..BURST {
        let store = store.clone();
        let category = (n == FAILING).then(Uuid::now_v7);
        let key = match n {
            FAILING => Some(claim(requester, "failing", 1)),
            OTHER_REQUEST => Some(claim(requester, "shared", 2)),
            n if SAME_REQUEST.contains(&n) => Some(claim(requester, "shared", 1)),
            _ => None,
        };
        let new = ticket(requester, category, n);
        burst.spawn(async move {
            let id = new.id;
            (n, id, store.tickets().create(new, key.as_ref()).await)
        });
    }
    let mut created = Vec::new();
    let mut shared = Vec::new();
    let mut failed = None;
    while let Some(joined) = burst.join_next().await {
        let (n, id, outcome) = joined.unwrap();
        if n == FAILING {
            assert!(
                matches!(outcome, Err(StoreError::MissingReference)),
                "{outcome:?}"
            );
            failed = Some(id);
        } else if n == OTHER_REQUEST || SAME_REQUEST.contains(&n) {
            shared.push((n, id, outcome.unwrap()));
        } else {
            assert_eq!(outcome.unwrap(), Created::New(id), "write {n}");
            created.push(id);
        }
    }

    // Of the three writes with one key, whichever came first created its ticket; one with the
    // same request was told of that ticket, one with another request was refused.
    let winners: Vec<_> = shared
        .iter()
        .filter(|(_, id, outcome)| *outcome == Created::New(*id))
        .collect();
    assert_eq!(winners.len(), 1, "{shared:?}");
    let &(winner, winning_id, _) = winners[0];
    for &(n, _, outcome) in &shared {
        let expected = if n == winner {
            Created::New(winning_id)
        } else if SAME_REQUEST.contains(&n) && SAME_REQUEST.contains(&winner) {
            Created::Replayed(winning_id)
        } else {
            Created::KeyReused
        };
        assert_eq!(outcome, expected, "write {n} of {shared:?}");
    }
    created.push(winning_id);

    for id in &created {
        let read = store.tickets().get(*id).await.unwrap();
        assert!(read.is_some(), "ticket {id} was answered as created");
        let events = store.events().of_ticket(*id, true, None, 10).await.unwrap();
        assert_eq!(events.len(), 2, "created and message_created of {id}");
    }
    let mut numbers: Vec<i64> = Vec::new();
    for id in &created {
        numbers.push(store.tickets().get(*id).await.unwrap().unwrap().number);
    }
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        created.len(),
        "each ticket has its own number"
    );

    // The failed write left nothing: no ticket, no event, and its key is free again.
    let failed = failed.unwrap();
    assert!(store.tickets().get(failed).await.unwrap().is_none());
    let events = store
        .events()
        .of_ticket(failed, true, None, 10)
        .await
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
    let retried = ticket(requester, None, FAILING);
    let retried_id = retried.id;
    let outcome = store
        .tickets()
        .create(retried, Some(&claim(requester, "failing", 1)))
        .await
        .unwrap();
    assert_eq!(outcome, Created::New(retried_id));
}

#[tokio::test]
async fn sqlite_a_write_is_answered_once_another_connection_reads_it() {
    a_write_is_answered_once_another_connection_reads_it(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_write_is_answered_once_another_connection_reads_it() {
    a_write_is_answered_once_another_connection_reads_it(BackendKind::Postgres).await;
}

/// Nothing is acknowledged before it is committed: as soon as each write of a burst returns,
/// a store of its own (another process, as far as the database can tell) finds the ticket.
async fn a_write_is_answered_once_another_connection_reads_it(kind: BackendKind) {
    let (db, store) = crate::fresh(kind).await;
    let elsewhere = Store::connect(db.url(), PoolSettings::default()).unwrap();
    let requester = store
        .users()
        .create(new_user("durable@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let mut burst = JoinSet::new();
    for n in 0..BURST {
        let (store, elsewhere) = (store.clone(), elsewhere.clone());
        burst.spawn(async move {
            let new = ticket(requester, None, n);
            let id = new.id;
            assert_eq!(
                store.tickets().create(new, None).await.unwrap(),
                Created::New(id)
            );
            elsewhere.tickets().get(id).await.unwrap().is_some()
        });
    }
    while let Some(read) = burst.join_next().await {
        assert!(
            read.unwrap(),
            "a ticket was answered before another connection could read it"
        );
    }
    elsewhere.close().await;
    store.close().await;
}

#[tokio::test]
async fn sqlite_two_stores_on_one_database_both_write() {
    two_stores_on_one_database_both_write(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn postgres_two_stores_on_one_database_both_write() {
    two_stores_on_one_database_both_write(BackendKind::Postgres).await;
}

/// Two stores with a writer each, as the server and `growdesk-sync run` have, write bursts into
/// one database at once: on SQLite one waits for the other's batch in the busy handler, and
/// every write of both goes in. The deadline is long: what is checked is that none fails, not
/// how long the waits take on a busy machine.
async fn two_stores_on_one_database_both_write(kind: BackendKind) {
    let (db, _) = crate::fresh(kind).await;
    let patient = PoolSettings {
        timeout: Duration::from_secs(60),
        ..PoolSettings::default()
    };
    let stores = [
        Store::connect(db.url(), patient).unwrap(),
        Store::connect(db.url(), patient).unwrap(),
    ];
    let requester = stores[0]
        .users()
        .create(new_user("two@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let mut burst = JoinSet::new();
    for n in 0..BURST {
        let store = stores[n % 2].clone();
        burst.spawn(async move {
            let new = ticket(requester, None, n);
            let id = new.id;
            assert_eq!(
                store.tickets().create(new, None).await.unwrap(),
                Created::New(id)
            );
            id
        });
    }
    let mut written = Vec::new();
    while let Some(id) = burst.join_next().await {
        written.push(id.unwrap());
    }
    for store in &stores {
        for id in &written {
            assert!(store.tickets().get(*id).await.unwrap().is_some());
        }
        store.close().await;
    }
}
