//! The store conformance suite: every scenario runs on SQLite and on PostgreSQL, so the two
//! backends cannot drift apart.

use std::time::Duration;

use growdesk_domain::event::Change;
use growdesk_domain::{
    Event, MessageBody, Priority, Role, Subject, Tags, TicketSource, TicketStatus,
};
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, PoolSettings, Stamp, Store, StoreError,
    events::NewEvent,
    faqs::FaqFields,
    messages::NewMessage,
    sessions::{NewSession, RotateOutcome},
    tickets::{
        Changed, MessageRecord, NewTicket, TicketChange, TicketCursor, TicketFilter, TicketSort,
        TicketState,
    },
    users::{NewUser, UserChanges, UserFilter},
};
use uuid::Uuid;

/// Generates `sqlite::name` and `postgres::name` tests for each scenario `name(&Store)`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                let (_db, store) = super::fresh(growdesk_store::BackendKind::Sqlite).await;
                super::$scenario(&store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                let (_db, store) = super::fresh(growdesk_store::BackendKind::Postgres).await;
                super::$scenario(&store).await;
                store.close().await;
            })*
        }
    };
}

on_both_backends!(
    users_are_unique_by_email_whatever_the_case,
    users_are_listed_in_pages_with_filters,
    user_changes_apply_only_what_is_given,
    an_active_admin_is_detected,
    refresh_tokens_rotate_once,
    concurrent_rotations_of_one_token_let_exactly_one_through,
    expired_and_revoked_sessions_reject_refresh,
    principal_reports_revoked_sessions,
    timestamps_round_trip_exactly,
    job_leases_exclude_until_they_end,
    search_plans_find_the_same_tickets,
    ticket_counts_follow_every_change,
    search_indexes_merge_to_one_segment,
    refused_faq_writes_leave_every_connection_usable,
);

async fn fresh(kind: BackendKind) -> (TestDatabase, Store) {
    let db = TestDatabase::create(kind).await;
    let store = Store::connect(db.url(), PoolSettings::default()).expect("connect");
    store.migrate().await.expect("migrate");
    assert_eq!(store.kind(), kind);
    (db, store)
}

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.to_owned(),
        name: format!("Name of {email}"),
        role,
        password_hash: Some("$argon2id$placeholder".to_owned()),
    }
}

async fn session_for(store: &Store, user_id: Uuid, token: &[u8], lifetime: time::Duration) -> Uuid {
    let id = Uuid::now_v7();
    let expires_at = Stamp::from(Stamp::now().into_inner() + lifetime);
    store
        .sessions()
        .create(NewSession {
            id,
            user_id,
            expires_at,
            token_hash: token.to_vec(),
            token_expires_at: expires_at,
        })
        .await
        .expect("create session");
    id
}

fn in_a_day() -> Stamp {
    Stamp::from(Stamp::now().into_inner() + time::Duration::days(1))
}

async fn users_are_unique_by_email_whatever_the_case(store: &Store) {
    let ana = store
        .users()
        .create(new_user("ana@example.com", Role::Customer))
        .await
        .unwrap();
    let again = store
        .users()
        .create(new_user("ANA@example.com", Role::Agent))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");

    let found = store
        .users()
        .credentials_by_email("Ana@Example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user, ana);
    assert_eq!(found.token_version, 0);
    assert_eq!(
        found.password_hash.as_deref(),
        Some("$argon2id$placeholder")
    );
    assert_eq!(store.users().get(ana.id).await.unwrap(), Some(ana));
    assert_eq!(store.users().get(Uuid::now_v7()).await.unwrap(), None);
}

async fn users_are_listed_in_pages_with_filters(store: &Store) {
    let mut created = Vec::new();
    for i in 0..7 {
        let role = if i % 2 == 0 {
            Role::Customer
        } else {
            Role::Agent
        };
        created.push(
            store
                .users()
                .create(new_user(&format!("user{i}@example.com"), role))
                .await
                .unwrap(),
        );
    }
    let odd = store
        .users()
        .create(new_user("50%_off@example.com", Role::Customer))
        .await
        .unwrap();

    let all = UserFilter::default();
    let first = store.users().list(&all, None, 3).await.unwrap();
    let second = store
        .users()
        .list(&all, Some(first[2].id), 3)
        .await
        .unwrap();
    let ids: Vec<Uuid> = first.iter().chain(&second).map(|u| u.id).collect();
    let expected: Vec<Uuid> = created.iter().take(6).map(|u| u.id).collect();
    assert_eq!(ids, expected, "pages follow creation order without gaps");

    let agents = UserFilter {
        role: Some(Role::Agent),
        ..UserFilter::default()
    };
    let listed = store.users().list(&agents, None, 100).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|u| u.role == Role::Agent));

    let literal = UserFilter {
        query: Some("0%_O".to_owned()),
        ..UserFilter::default()
    };
    assert_eq!(
        store.users().list(&literal, None, 100).await.unwrap(),
        vec![odd.clone()]
    );
    let wildcard = UserFilter {
        query: Some("%".to_owned()),
        ..UserFilter::default()
    };
    assert_eq!(
        store.users().list(&wildcard, None, 100).await.unwrap(),
        vec![odd]
    );

    store
        .users()
        .update(
            created[0].id,
            UserChanges {
                active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    let inactive = UserFilter {
        active: Some(false),
        ..UserFilter::default()
    };
    let listed = store.users().list(&inactive, None, 100).await.unwrap();
    assert_eq!(
        listed.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![created[0].id]
    );
}

async fn user_changes_apply_only_what_is_given(store: &Store) {
    let user = store
        .users()
        .create(new_user("bo@example.com", Role::Customer))
        .await
        .unwrap();
    let renamed = store
        .users()
        .update(
            user.id,
            UserChanges {
                name: Some("Bo".to_owned()),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.role, renamed.active),
        ("Bo", Role::Customer, true)
    );
    assert!(renamed.updated_at >= user.updated_at);

    store
        .users()
        .update(
            user.id,
            UserChanges {
                role: Some(Role::Agent),
                password_hash: Some("new-hash".to_owned()),
                bump_token_version: true,
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    let credentials = store.users().credentials(user.id).await.unwrap().unwrap();
    assert_eq!(credentials.user.role, Role::Agent);
    assert_eq!(credentials.user.name, "Bo");
    assert_eq!(credentials.password_hash.as_deref(), Some("new-hash"));
    assert_eq!(credentials.token_version, 1);

    let missing = store
        .users()
        .update(Uuid::now_v7(), UserChanges::default())
        .await
        .unwrap();
    assert_eq!(missing, None);
}

async fn an_active_admin_is_detected(store: &Store) {
    assert!(!store.users().has_active_admin().await.unwrap());
    let admin = store
        .users()
        .create(new_user("root@example.com", Role::Admin))
        .await
        .unwrap();
    assert!(store.users().has_active_admin().await.unwrap());
    store
        .users()
        .update(
            admin.id,
            UserChanges {
                active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    assert!(!store.users().has_active_admin().await.unwrap());
}

async fn refresh_tokens_rotate_once(store: &Store) {
    let user = store
        .users()
        .create(new_user("cy@example.com", Role::Customer))
        .await
        .unwrap();
    let session = session_for(store, user.id, b"token-1", time::Duration::days(30)).await;

    let outcome = store
        .sessions()
        .rotate_refresh_token(b"token-1", b"token-2", in_a_day())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        RotateOutcome::Rotated {
            session_id: session,
            user_id: user.id
        }
    );

    let replay = store
        .sessions()
        .rotate_refresh_token(b"token-1", b"token-3", in_a_day())
        .await
        .unwrap();
    assert!(
        matches!(replay, RotateOutcome::Reused { session_id, user_id, spent_at }
            if session_id == session && user_id == user.id && spent_at <= Stamp::now()),
        "{replay:?}"
    );

    let unknown = store
        .sessions()
        .rotate_refresh_token(b"nope", b"token-4", in_a_day())
        .await
        .unwrap();
    assert_eq!(unknown, RotateOutcome::Rejected);

    let next = store
        .sessions()
        .rotate_refresh_token(b"token-2", b"token-5", in_a_day())
        .await
        .unwrap();
    assert_eq!(
        next,
        RotateOutcome::Rotated {
            session_id: session,
            user_id: user.id
        }
    );
}

async fn concurrent_rotations_of_one_token_let_exactly_one_through(store: &Store) {
    let user = store
        .users()
        .create(new_user("dee@example.com", Role::Customer))
        .await
        .unwrap();
    let session = session_for(store, user.id, b"shared", time::Duration::days(30)).await;
    let attempts = (0..8u8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .sessions()
                .rotate_refresh_token(b"shared", &[b'n', i], in_a_day())
                .await
        })
    });
    let mut rotated = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(RotateOutcome::Rotated { session_id, .. }) => {
                assert_eq!(session_id, session);
                rotated += 1;
            }
            Ok(RotateOutcome::Reused { session_id, .. }) => assert_eq!(session_id, session),
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(rotated, 1);
}

async fn expired_and_revoked_sessions_reject_refresh(store: &Store) {
    let user = store
        .users()
        .create(new_user("eve@example.com", Role::Customer))
        .await
        .unwrap();

    let short = session_for(store, user.id, b"short", time::Duration::milliseconds(200)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let expired = store
        .sessions()
        .rotate_refresh_token(b"short", b"x1", in_a_day())
        .await
        .unwrap();
    assert_eq!(expired, RotateOutcome::Rejected);
    let principal = store
        .sessions()
        .principal(user.id, short)
        .await
        .unwrap()
        .unwrap();
    assert!(
        principal.session_revoked,
        "an expired session counts as over"
    );

    let revoked = session_for(store, user.id, b"revoked", time::Duration::days(1)).await;
    assert!(store.sessions().revoke(user.id, revoked).await.unwrap());
    assert!(
        !store.sessions().revoke(user.id, revoked).await.unwrap(),
        "already revoked"
    );
    let outcome = store
        .sessions()
        .rotate_refresh_token(b"revoked", b"x2", in_a_day())
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Rejected);

    let deactivated = session_for(store, user.id, b"inactive", time::Duration::days(1)).await;
    store
        .users()
        .update(
            user.id,
            UserChanges {
                active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    let outcome = store
        .sessions()
        .rotate_refresh_token(b"inactive", b"x3", in_a_day())
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Rejected);
    assert!(
        store
            .sessions()
            .principal(user.id, deactivated)
            .await
            .unwrap()
            .is_some()
    );
}

/// Whether the existing session `session` of `user` counts as revoked.
async fn session_revoked(store: &Store, user: Uuid, session: Uuid) -> bool {
    store
        .sessions()
        .principal(user, session)
        .await
        .unwrap()
        .expect("the session exists")
        .session_revoked
}

async fn principal_reports_revoked_sessions(store: &Store) {
    let user = store
        .users()
        .create(new_user("fay@example.com", Role::Agent))
        .await
        .unwrap();
    let other = store
        .users()
        .create(new_user("gus@example.com", Role::Agent))
        .await
        .unwrap();
    let a = session_for(store, user.id, b"a", time::Duration::days(1)).await;
    let b = session_for(store, user.id, b"b", time::Duration::days(1)).await;
    let c = session_for(store, user.id, b"c", time::Duration::days(1)).await;

    let principal = store
        .sessions()
        .principal(user.id, a)
        .await
        .unwrap()
        .unwrap();
    assert!(!principal.session_revoked);
    assert_eq!(principal.credentials.user.id, user.id);
    assert!(
        store
            .sessions()
            .principal(other.id, a)
            .await
            .unwrap()
            .is_none(),
        "session of another user"
    );
    assert!(
        !store.sessions().revoke(other.id, a).await.unwrap(),
        "cannot revoke another's session"
    );
    // Checked once, so remembered: the revocation below must still reach it.
    assert!(!session_revoked(store, user.id, b).await);

    assert_eq!(
        store.sessions().revoke_all(user.id, Some(a)).await.unwrap(),
        2
    );
    assert!(!session_revoked(store, user.id, a).await);
    for revoked in [b, c] {
        assert!(session_revoked(store, user.id, revoked).await);
    }
    store
        .users()
        .update(
            user.id,
            UserChanges {
                role: Some(Role::Customer),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    let demoted = store
        .sessions()
        .principal(user.id, a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        demoted.credentials.user.role,
        Role::Customer,
        "a changed user is read again"
    );
    assert_eq!(store.sessions().revoke_all(user.id, None).await.unwrap(), 1);
}

async fn timestamps_round_trip_exactly(store: &Store) {
    let before = Stamp::now();
    let user = store
        .users()
        .create(new_user("hal@example.com", Role::Customer))
        .await
        .unwrap();
    let read = store.users().get(user.id).await.unwrap().unwrap();
    assert_eq!(read.created_at, user.created_at);
    assert!(Stamp::from(read.created_at) >= before);
    assert_eq!(read.created_at.offset(), time::UtcOffset::UTC);
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let postgres = names("postgres");
    assert!(!postgres.is_empty());
    assert_eq!(postgres, names("sqlite"));
}

async fn job_leases_exclude_until_they_end(store: &Store) {
    let lease = Duration::from_secs(600);
    let every = Duration::from_secs(300);
    let start = Stamp::now();
    let at = |seconds: i64| Stamp::from(start.into_inner() + time::Duration::seconds(seconds));
    assert!(
        store
            .jobs()
            .acquire("nightly", "a", at(0), lease, every)
            .await
            .unwrap()
    );
    assert!(
        !store
            .jobs()
            .acquire("nightly", "b", at(1), lease, every)
            .await
            .unwrap(),
        "held by a"
    );
    // A long run renews its lease: b still cannot take the job after the first lease would end.
    assert!(store.jobs().renew("nightly", "a", at(1200)).await.unwrap());
    assert!(
        !store
            .jobs()
            .acquire("nightly", "b", at(900), lease, every)
            .await
            .unwrap()
    );
    assert!(
        !store.jobs().renew("nightly", "b", at(2000)).await.unwrap(),
        "only the holder renews"
    );
    // A holder that died: its lease ends, and someone else takes the job.
    assert!(
        store
            .jobs()
            .acquire("nightly", "b", at(1201), lease, every)
            .await
            .unwrap()
    );
    store
        .jobs()
        .finish(
            "nightly",
            "b",
            at(1201),
            at(1210),
            &serde_json::json!({"ok": true}),
        )
        .await
        .unwrap();
    assert!(
        !store
            .jobs()
            .acquire("nightly", "a", at(1300), lease, every)
            .await
            .unwrap(),
        "not due yet"
    );
    assert!(
        store
            .jobs()
            .acquire("nightly", "a", at(1510), lease, every)
            .await
            .unwrap(),
        "due again"
    );
    assert_eq!(
        store.jobs().runs("nightly").await.unwrap(),
        vec![("b".to_owned(), serde_json::json!({"ok": true}))]
    );
}

async fn open_ticket(
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

/// On SQLite, an FTS5-indexed write that failed its foreign key outside a transaction left its
/// connection unable to write once another connection had written ("database is locked", on
/// every connection the failure had visited: the fuzzer met four in a row). FAQ writes run in
/// a transaction, which leaves nothing behind.
async fn refused_faq_writes_leave_every_connection_usable(store: &Store) {
    let faq = |category_id| FaqFields {
        question: "Where is my parcel?".to_owned(),
        answer: "Follow the link in your confirmation email.".to_owned(),
        category_id,
        published: true,
        position: 0,
    };
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let store = store.clone();
        writers.spawn(async move {
            for _ in 0..10 {
                let refused = store.faqs().create(faq(Some(Uuid::now_v7()))).await;
                assert!(
                    matches!(refused, Err(StoreError::MissingReference)),
                    "{refused:?}"
                );
                let written = store
                    .faqs()
                    .create(faq(None))
                    .await
                    .expect("a valid FAQ is written");
                store
                    .faqs()
                    .update(written.id, faq(Some(Uuid::now_v7())))
                    .await
                    .expect_err("an unknown category is refused");
                assert!(store.faqs().delete(written.id).await.expect("deleted"));
            }
        });
    }
    while let Some(writer) = writers.join_next().await {
        writer.expect("every writer succeeds");
    }
}
