//! Tickets: every search plan finds the same tickets, counts follow every change, and the
//! search indexes merge to one segment.

use growdesk_domain::event::Change;
use growdesk_domain::{
    Event, MessageBody, MessageChannel, Priority, Role, Subject, Tags, TicketSource, TicketStatus,
};
use growdesk_store::{
    BackendKind, Stamp, Store,
    events::NewEvent,
    messages::NewMessage,
    tickets::{
        Changed, MessageRecord, NewTicket, TicketChange, TicketCursor, TicketFilter, TicketSort,
        TicketState,
    },
};
use uuid::Uuid;

use super::new_user;

on_both_backends!(
    search_plans_find_the_same_tickets,
    ticket_counts_follow_every_change,
    ticket_counts_hold_under_concurrent_writers,
    search_indexes_merge_to_one_segment,
);

pub(super) async fn open_ticket(
    store: &Store,
    requester: Uuid,
    subject: &str,
    description: &str,
    priority: Priority,
) -> Uuid {
    let id = Uuid::now_v7();
    store
        .tickets()
        .create(
            NewTicket {
                id,
                subject: Subject::parse(subject).unwrap(),
                priority,
                category_id: None,
                requester_id: requester,
                source: TicketSource::Web,
                tags: Tags::default(),
                actor_id: requester,
                description: MessageBody::parse(description).unwrap(),
                extra_events: Vec::new(),
                visitor_id: None,
                context: None,
                channel: MessageChannel::Web,
                mailbox_id: None,
                attachments: Vec::new(),
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            },
            None,
        )
        .await
        .expect("create ticket");
    id
}

/// Applies `change` to ticket `id`'s state, with `message` if any.
async fn change(
    store: &Store,
    id: Uuid,
    message: Option<NewMessage>,
    edit: impl FnOnce(&mut TicketState),
) {
    let outcome = store
        .tickets()
        .change(id, None, |ticket| {
            let mut state = TicketState::of(ticket);
            edit(&mut state);
            let subject = Change {
                from: ticket.subject.clone(),
                to: state.subject.clone(),
            };
            Ok::<_, ()>(TicketChange {
                state,
                events: vec![NewEvent::public(
                    ticket.id,
                    None,
                    Event::SubjectChanged(subject),
                )],
                message: message.map(|message| MessageRecord {
                    message,
                    attachments: Vec::new(),
                }),
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            })
        })
        .await
        .expect("change ticket");
    assert!(matches!(outcome, Changed::Applied { .. }), "{outcome:?}");
}

async fn search(store: &Store, terms: &[&str], search_internal: bool, limit: u32) -> Vec<Uuid> {
    let filter = TicketFilter {
        terms: terms.iter().map(|term| (*term).to_owned()).collect(),
        search_internal,
        ..TicketFilter::default()
    };
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .tickets()
            .list(&filter, TicketSort::CreatedAt, true, after, limit)
            .await
            .expect("search");
        found.extend(page.iter().map(|ticket| ticket.id));
        match page.last() {
            Some(last) if page.len() == limit as usize => {
                after = Some(TicketCursor {
                    key: TicketSort::CreatedAt.key_of(last),
                    id: last.id,
                });
            }
            _ => return found,
        }
    }
}

/// A search collects its matches when they are few and walks the sort order when they are
/// many; both ways find the same tickets in the same order, page after page.
async fn search_plans_find_the_same_tickets(store: &Store) {
    let customer = store
        .users()
        .create(new_user("searcher@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let agent = store
        .users()
        .create(new_user("finder@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let mut opened = Vec::new();
    for (subject, description) in [
        ("Refund for order", "The parcel arrived broken"),
        ("Broken parcel", "Please send a refund for the parcel"),
        ("Login trouble", "My password reset mail never came"),
        ("Refund request", "Charged twice for one parcel"),
        ("Invoice copy", "I need the invoice for March"),
    ] {
        opened.push(open_ticket(store, customer, subject, description, Priority::Medium).await);
    }
    let note = NewMessage {
        id: Uuid::now_v7(),
        ticket_id: opened[4],
        author_id: agent,
        body: "Internal: likely fraud, check the parcel".to_owned(),
        internal: true,
        channel: MessageChannel::Web,
    };
    change(store, opened[4], Some(note), |_| {}).await;

    let walking = store.clone().with_search_collect_limit(0);
    for (terms, internal, expected) in [
        (
            &["refund"][..],
            false,
            vec![opened[3], opened[1], opened[0]],
        ),
        (&["parcel", "refund"][..], false, vec![opened[1]]),
        (
            &["parcel"][..],
            false,
            vec![opened[3], opened[1], opened[0]],
        ),
        (
            &["parcel"][..],
            true,
            vec![opened[4], opened[3], opened[1], opened[0]],
        ),
        (&["fraud"][..], false, vec![]),
        (&["nothing"][..], true, vec![]),
    ] {
        for limit in [1, 2, 25] {
            assert_eq!(
                search(store, terms, internal, limit).await,
                expected,
                "collect {terms:?} {internal} {limit}"
            );
            assert_eq!(
                search(&walking, terms, internal, limit).await,
                expected,
                "walk {terms:?} {internal} {limit}"
            );
        }
    }
}

/// The dashboard's counts come from counters the triggers keep; they follow tickets opened,
/// moved between statuses, priorities and assignees, and deleted.
async fn ticket_counts_follow_every_change(store: &Store) {
    let customer = store
        .users()
        .create(new_user("counted@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let agent = store
        .users()
        .create(new_user("counter@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let other = store
        .users()
        .create(new_user("other@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let low = open_ticket(store, customer, "One", "first", Priority::Low).await;
    let urgent = open_ticket(store, customer, "Two", "second", Priority::Urgent).await;
    let medium = open_ticket(store, customer, "Three", "third", Priority::Medium).await;
    let gone = open_ticket(store, customer, "Four", "fourth", Priority::Medium).await;
    change(store, low, None, |state| state.assignee_id = Some(agent)).await;
    change(store, urgent, None, |state| {
        state.assignee_id = Some(other);
        state.priority = Priority::High;
        state.status = TicketStatus::Pending;
    })
    .await;
    change(store, medium, None, |state| {
        state.assignee_id = Some(agent);
        state.status = TicketStatus::Resolved;
        state.resolved_at = Some(Stamp::now());
    })
    .await;
    // A change that touches no counted column leaves the counts alone.
    change(store, low, None, |state| {
        state.subject = "One, renamed".to_owned()
    })
    .await;
    assert!(store.tickets().delete(gone, agent).await.unwrap());

    let today = Stamp::now().into_inner().replace_time(time::Time::MIDNIGHT);
    let stats = store
        .tickets()
        .stats(agent, Stamp::from(today))
        .await
        .unwrap();
    let mut by_status = stats.by_status.clone();
    by_status.sort_by_key(|(status, _)| status.as_str());
    assert_eq!(
        by_status,
        vec![
            (TicketStatus::Open, 1),
            (TicketStatus::Pending, 1),
            (TicketStatus::Resolved, 1)
        ]
    );
    let mut by_priority = stats.by_priority.clone();
    by_priority.sort_by_key(|(priority, _)| priority.rank());
    assert_eq!(
        by_priority,
        vec![
            (Priority::Low, 1),
            (Priority::Medium, 1),
            (Priority::High, 1)
        ]
    );
    assert_eq!(stats.unassigned, 0);
    assert_eq!(
        stats.assigned_to_viewer, 1,
        "the resolved ticket is no longer open work"
    );
    let store_for_other = store
        .tickets()
        .stats(other, Stamp::from(today))
        .await
        .unwrap();
    assert_eq!(store_for_other.assigned_to_viewer, 1);
    assert_eq!(stats.created_per_day, vec![(today.date().to_string(), 3)]);
    assert!(
        stats
            .median_resolution_seconds
            .is_some_and(|seconds| seconds >= 0.0)
    );
    let tomorrow = Stamp::from(today + time::Duration::days(1));
    let later = store.tickets().stats(agent, tomorrow).await.unwrap();
    assert!(later.created_per_day.is_empty());
    assert_eq!(
        later.median_resolution_seconds, None,
        "medians cover tickets opened since the day given"
    );
}

/// Writers at once, on as many connections as the pool opens (on PostgreSQL each connection
/// counts in its own slot): every ticket opened, moved or deleted is counted once, and no
/// writer deadlocks on the counters.
async fn ticket_counts_hold_under_concurrent_writers(store: &Store) {
    const WRITERS: usize = 30;
    let customer = store
        .users()
        .create(new_user("crowd@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let agent = store
        .users()
        .create(new_user("busy@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        writers.spawn(async move {
            let id = open_ticket(&store, customer, "Crowd", "at once", Priority::Low).await;
            match writer % 3 {
                0 => {
                    change(&store, id, None, |state| {
                        state.status = TicketStatus::Pending;
                    })
                    .await;
                }
                1 => {
                    change(&store, id, None, |state| {
                        state.assignee_id = Some(agent);
                        state.priority = Priority::Urgent;
                    })
                    .await;
                }
                _ => assert!(store.tickets().delete(id, agent).await.unwrap()),
            }
        });
    }
    while let Some(finished) = writers.join_next().await {
        finished.unwrap();
    }

    let today = Stamp::now().into_inner().replace_time(time::Time::MIDNIGHT);
    let stats = store
        .tickets()
        .stats(agent, Stamp::from(today))
        .await
        .unwrap();
    let third = i64::try_from(WRITERS / 3).unwrap();
    let mut by_status = stats.by_status.clone();
    by_status.sort_by_key(|(status, _)| status.as_str());
    assert_eq!(
        by_status,
        vec![(TicketStatus::Open, third), (TicketStatus::Pending, third)]
    );
    let mut by_priority = stats.by_priority.clone();
    by_priority.sort_by_key(|(priority, _)| priority.rank());
    assert_eq!(
        by_priority,
        vec![(Priority::Low, third), (Priority::Urgent, third)]
    );
    assert_eq!(stats.unassigned, third);
    assert_eq!(stats.assigned_to_viewer, third);
    assert_eq!(
        stats.created_per_day,
        vec![(today.date().to_string(), 2 * third)]
    );
}

/// SQLite's full-text indexes merge to one segment, step by step, and search the same after;
/// PostgreSQL has nothing to merge.
async fn search_indexes_merge_to_one_segment(store: &Store) {
    let customer = store
        .users()
        .create(new_user("merged@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    for index in 0..12 {
        open_ticket(
            store,
            customer,
            &format!("Question {index}"),
            "about segments",
            Priority::Low,
        )
        .await;
    }
    let steps = store.jobs().merge_search_indexes(1_000).await.unwrap();
    match store.kind() {
        BackendKind::Sqlite => assert!(steps > 0, "twelve transactions left twelve segments"),
        BackendKind::Postgres => assert_eq!(steps, 0),
    }
    assert_eq!(
        store.jobs().merge_search_indexes(1_000).await.unwrap(),
        0,
        "nothing left to merge"
    );
    assert_eq!(search(store, &["segments"], false, 25).await.len(), 12);
}
