//! The event log as a reader of all of it sees it (the relay, an export): it settles, then reads
//! up to the settled ids, and so gets every event once, in id order — with many writers at once,
//! and on PostgreSQL with transactions that commit out of id order.

use std::collections::HashMap;
use std::time::Duration;

use growdesk_domain::event::Deleted;
use growdesk_domain::{Event, MessageChannel, Priority, Role};
use growdesk_store::events::{FeedEvent, NewEvent, Settling, Span};
use growdesk_store::messages::NewMessage;
use growdesk_store::testkit::OpenWrite;
use growdesk_store::tickets::{Changed, MessageRecord, TicketChange, TicketState};
use growdesk_store::{BackendKind, Store};
use uuid::Uuid;

use super::new_user;
use super::tickets::open_ticket;

on_both_backends!(many_writers_reach_a_tailing_reader_once_each_in_order);

/// Long enough that only a lost event, never a slow machine, runs out of it.
const PATIENCE: Duration = Duration::from_secs(120);

/// A reader of the whole log that starts at its end, as the relay does.
struct Tail {
    from: i64,
    read: Vec<FeedEvent>,
}

impl Tail {
    async fn start(store: &Store) -> Self {
        Self {
            from: store.events().settled().await.unwrap().events,
            read: Vec::new(),
        }
    }

    /// Settles, then reads everything up to the settled events.
    async fn poll(&mut self, store: &Store) -> Settling {
        let settling = store.events().settle().await.unwrap();
        if let Some(settled) = settling.settled {
            loop {
                let span = Span {
                    after: self.from,
                    upto: settled.events,
                };
                let page = store.events().after(span, 50).await.unwrap();
                let full = page.len() == 50;
                if let Some(last) = page.last() {
                    self.from = last.event.id;
                }
                self.read.extend(page);
                if !full {
                    break;
                }
            }
            self.from = self.from.max(settled.events);
        }
        settling
    }

    /// Polls until `count` events have been read in all.
    async fn read_until(&mut self, store: &Store, count: usize) {
        tokio::time::timeout(PATIENCE, async {
            while self.read.len() < count {
                self.poll(store).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("only {} of {count} events were read", self.read.len()));
    }

    fn ids(&self) -> Vec<i64> {
        self.read.iter().map(|item| item.event.id).collect()
    }
}

/// The ids the log holds after `after`, read at once.
async fn logged_after(store: &Store, after: i64) -> Vec<i64> {
    let span = Span {
        after,
        upto: i64::MAX,
    };
    let all = store.events().after(span, 100_000).await.unwrap();
    all.iter().map(|item| item.event.id).collect()
}

/// 32 writers reply to 4 tickets at once while a reader tails the log: the reader gets every
/// reply once, in id order, and each writer's replies in the order the writer sent them (each
/// waited for the one before), whichever tickets they went to.
async fn many_writers_reach_a_tailing_reader_once_each_in_order(store: &Store) {
    const WRITERS: usize = 32;
    const REPLIES: usize = 8;
    const TICKETS: usize = 4;
    let agent = store
        .users()
        .create(new_user("writer@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let mut tickets = Vec::new();
    for number in 0..TICKETS {
        let subject = format!("Busy ticket {number}");
        tickets.push(open_ticket(store, agent, &subject, "first", Priority::Medium).await);
    }
    let mut tail = Tail::start(store).await;
    let start = tail.from;

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            let tickets = tickets.clone();
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for reply in 0..REPLIES {
                    let ticket = tickets[(writer + reply) % TICKETS];
                    let message = NewMessage {
                        id: Uuid::now_v7(),
                        ticket_id: ticket,
                        author_id: agent,
                        body: format!("reply {reply} of writer {writer}"),
                        internal: false,
                        channel: MessageChannel::Web,
                    };
                    sent.push(message.id);
                    let outcome = store
                        .tickets()
                        .change(ticket, None, |ticket| {
                            Ok::<_, ()>(TicketChange {
                                state: TicketState::of(ticket),
                                events: Vec::new(),
                                message: Some(MessageRecord {
                                    message,
                                    attachments: Vec::new(),
                                }),
                                notes: Vec::new(),
                                mail: Vec::new(),
                                inbound: None,
                            })
                        })
                        .await
                        .unwrap();
                    assert!(matches!(outcome, Changed::Applied { .. }), "{outcome:?}");
                }
                sent
            })
        })
        .collect();
    tail.read_until(store, WRITERS * REPLIES).await;
    let mut sender = HashMap::new();
    for (writer, task) in writers.into_iter().enumerate() {
        for (reply, message) in task.await.unwrap().into_iter().enumerate() {
            sender.insert(message, (writer, reply));
        }
    }

    let ids = tail.ids();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "in id order, none twice: {ids:?}"
    );
    assert_eq!(ids, logged_after(store, start).await, "none missed");
    let mut last_reply = HashMap::new();
    for item in &tail.read {
        let message = item.event.event.message_id().expect("only replies");
        let (writer, reply) = sender[&message];
        if let Some(before) = last_reply.insert(writer, reply) {
            assert!(
                before < reply,
                "writer {writer}'s reply {reply} came after its reply {before}"
            );
        }
    }
}

fn deleted(ticket: Uuid) -> NewEvent {
    NewEvent::public(ticket, None, Event::Deleted(Deleted {}))
}

/// Transactions that commit out of id order: the reader passes no id a transaction still open
/// holds, so it delivers nothing after that id until the transaction commits, then everything
/// in id order. Recording each event's transaction id and reading "below the oldest open
/// transaction" would fail the second case: the transaction that began first commits an id
/// above the open one's.
#[tokio::test]
async fn postgres_transactions_committing_out_of_id_order_are_read_in_id_order() {
    let (_db, store) = crate::fresh(BackendKind::Postgres).await;
    let mut tail = Tail::start(&store).await;
    let start = tail.from;

    // One transaction draws an id; a later one draws the next and commits first.
    let mut first = OpenWrite::begin(&store).await;
    first.append(&[deleted(Uuid::now_v7())]).await;
    let mut second = OpenWrite::begin(&store).await;
    second.append(&[deleted(Uuid::now_v7())]).await;
    second.commit().await;
    let settling = tail.poll(&store).await;
    assert!(
        tail.read.is_empty(),
        "nothing read past an open transaction"
    );
    assert!(settling.behind, "the reader knows it is held back");
    first.commit().await;
    tail.read_until(&store, 2).await;

    // A transaction takes its transaction id (its first append), another appends after it,
    // and the first appends again, above the other's id, and commits while the other is open.
    let mut early = OpenWrite::begin(&store).await;
    early.append(&[deleted(Uuid::now_v7())]).await;
    let mut late = OpenWrite::begin(&store).await;
    late.append(&[deleted(Uuid::now_v7())]).await;
    early.append(&[deleted(Uuid::now_v7())]).await;
    early.commit().await;
    let settling = tail.poll(&store).await;
    assert_eq!(tail.read.len(), 2, "nothing read past an open transaction");
    assert!(settling.behind, "the reader knows it is held back");
    late.commit().await;
    tail.read_until(&store, 5).await;

    let ids = tail.ids();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    assert_eq!(ids, logged_after(&store, start).await, "none missed");
}

/// A transaction left open in another database of the same PostgreSQL server holds nothing
/// back: it cannot write to this log, so a shared server's other applications cannot stall the
/// relay or the start of a socket here.
#[tokio::test]
async fn postgres_transactions_of_other_databases_hold_nothing_back() {
    let (_db, store) = crate::fresh(BackendKind::Postgres).await;
    let (_neighbour_db, neighbour) = crate::fresh(BackendKind::Postgres).await;
    let mut neighbours_write = OpenWrite::begin(&neighbour).await;
    neighbours_write.append(&[deleted(Uuid::now_v7())]).await;

    let mut tail = Tail::start(&store).await;
    let mut write = OpenWrite::begin(&store).await;
    write.append(&[deleted(Uuid::now_v7())]).await;
    write.commit().await;
    tail.read_until(&store, 1).await;
    let settled = store.events().settled().await.expect("settles").events;
    assert_eq!(tail.ids(), vec![settled], "the committed event is read");

    neighbours_write.commit().await;
    store.close().await;
    neighbour.close().await;
}
