//! The store conformance suite: every scenario runs on SQLite and on PostgreSQL, so the two
//! backends cannot drift apart.

use std::time::Duration;

use growdesk_domain::Role;
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{
    BackendKind, NewSession, NewUser, PoolSettings, RotateOutcome, Stamp, Store, StoreError,
    UserChanges, UserFilter,
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
        .create_session(NewSession {
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
        .create_user(new_user("ana@example.com", Role::Customer))
        .await
        .unwrap();
    let again = store
        .create_user(new_user("ANA@example.com", Role::Agent))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");

    let found = store
        .user_credentials_by_email("Ana@Example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user, ana);
    assert_eq!(found.token_version, 0);
    assert_eq!(
        found.password_hash.as_deref(),
        Some("$argon2id$placeholder")
    );
    assert_eq!(store.user(ana.id).await.unwrap(), Some(ana));
    assert_eq!(store.user(Uuid::now_v7()).await.unwrap(), None);
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
                .create_user(new_user(&format!("user{i}@example.com"), role))
                .await
                .unwrap(),
        );
    }
    let odd = store
        .create_user(new_user("50%_off@example.com", Role::Customer))
        .await
        .unwrap();

    let all = UserFilter::default();
    let first = store.list_users(&all, None, 3).await.unwrap();
    let second = store.list_users(&all, Some(first[2].id), 3).await.unwrap();
    let ids: Vec<Uuid> = first.iter().chain(&second).map(|u| u.id).collect();
    let expected: Vec<Uuid> = created.iter().take(6).map(|u| u.id).collect();
    assert_eq!(ids, expected, "pages follow creation order without gaps");

    let agents = UserFilter {
        role: Some(Role::Agent),
        ..UserFilter::default()
    };
    let listed = store.list_users(&agents, None, 100).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|u| u.role == Role::Agent));

    let literal = UserFilter {
        query: Some("0%_O".to_owned()),
        ..UserFilter::default()
    };
    assert_eq!(
        store.list_users(&literal, None, 100).await.unwrap(),
        vec![odd.clone()]
    );
    let wildcard = UserFilter {
        query: Some("%".to_owned()),
        ..UserFilter::default()
    };
    assert_eq!(
        store.list_users(&wildcard, None, 100).await.unwrap(),
        vec![odd]
    );

    store
        .update_user(
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
    let listed = store.list_users(&inactive, None, 100).await.unwrap();
    assert_eq!(
        listed.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![created[0].id]
    );
}

async fn user_changes_apply_only_what_is_given(store: &Store) {
    let user = store
        .create_user(new_user("bo@example.com", Role::Customer))
        .await
        .unwrap();
    let renamed = store
        .update_user(
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
        .update_user(
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
    let credentials = store.user_credentials(user.id).await.unwrap().unwrap();
    assert_eq!(credentials.user.role, Role::Agent);
    assert_eq!(credentials.user.name, "Bo");
    assert_eq!(credentials.password_hash.as_deref(), Some("new-hash"));
    assert_eq!(credentials.token_version, 1);

    let missing = store
        .update_user(Uuid::now_v7(), UserChanges::default())
        .await
        .unwrap();
    assert_eq!(missing, None);
}

async fn an_active_admin_is_detected(store: &Store) {
    assert!(!store.has_active_admin().await.unwrap());
    let admin = store
        .create_user(new_user("root@example.com", Role::Admin))
        .await
        .unwrap();
    assert!(store.has_active_admin().await.unwrap());
    store
        .update_user(
            admin.id,
            UserChanges {
                active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    assert!(!store.has_active_admin().await.unwrap());
}

async fn refresh_tokens_rotate_once(store: &Store) {
    let user = store
        .create_user(new_user("cy@example.com", Role::Customer))
        .await
        .unwrap();
    let session = session_for(store, user.id, b"token-1", time::Duration::days(30)).await;

    let outcome = store
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
        .rotate_refresh_token(b"token-1", b"token-3", in_a_day())
        .await
        .unwrap();
    assert_eq!(
        replay,
        RotateOutcome::Reused {
            session_id: session,
            user_id: user.id
        }
    );

    let unknown = store
        .rotate_refresh_token(b"nope", b"token-4", in_a_day())
        .await
        .unwrap();
    assert_eq!(unknown, RotateOutcome::Rejected);

    let next = store
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
        .create_user(new_user("dee@example.com", Role::Customer))
        .await
        .unwrap();
    let session = session_for(store, user.id, b"shared", time::Duration::days(30)).await;
    let attempts = (0..8u8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
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
        .create_user(new_user("eve@example.com", Role::Customer))
        .await
        .unwrap();

    let short = session_for(store, user.id, b"short", time::Duration::milliseconds(200)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let expired = store
        .rotate_refresh_token(b"short", b"x1", in_a_day())
        .await
        .unwrap();
    assert_eq!(expired, RotateOutcome::Rejected);
    let principal = store
        .session_principal(user.id, short)
        .await
        .unwrap()
        .unwrap();
    assert!(
        principal.session_revoked,
        "an expired session counts as over"
    );

    let revoked = session_for(store, user.id, b"revoked", time::Duration::days(1)).await;
    assert!(store.revoke_session(user.id, revoked).await.unwrap());
    assert!(
        !store.revoke_session(user.id, revoked).await.unwrap(),
        "already revoked"
    );
    let outcome = store
        .rotate_refresh_token(b"revoked", b"x2", in_a_day())
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Rejected);

    let deactivated = session_for(store, user.id, b"inactive", time::Duration::days(1)).await;
    store
        .update_user(
            user.id,
            UserChanges {
                active: Some(false),
                ..UserChanges::default()
            },
        )
        .await
        .unwrap();
    let outcome = store
        .rotate_refresh_token(b"inactive", b"x3", in_a_day())
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Rejected);
    assert!(
        store
            .session_principal(user.id, deactivated)
            .await
            .unwrap()
            .is_some()
    );
}

async fn principal_reports_revoked_sessions(store: &Store) {
    let user = store
        .create_user(new_user("fay@example.com", Role::Agent))
        .await
        .unwrap();
    let other = store
        .create_user(new_user("gus@example.com", Role::Agent))
        .await
        .unwrap();
    let a = session_for(store, user.id, b"a", time::Duration::days(1)).await;
    let b = session_for(store, user.id, b"b", time::Duration::days(1)).await;
    let c = session_for(store, user.id, b"c", time::Duration::days(1)).await;

    let principal = store.session_principal(user.id, a).await.unwrap().unwrap();
    assert!(!principal.session_revoked);
    assert_eq!(principal.credentials.user.id, user.id);
    assert!(
        store
            .session_principal(other.id, a)
            .await
            .unwrap()
            .is_none(),
        "session of another user"
    );
    assert!(
        !store.revoke_session(other.id, a).await.unwrap(),
        "cannot revoke another's session"
    );

    assert_eq!(
        store.revoke_user_sessions(user.id, Some(a)).await.unwrap(),
        2
    );
    assert!(
        !store
            .session_principal(user.id, a)
            .await
            .unwrap()
            .unwrap()
            .session_revoked
    );
    for revoked in [b, c] {
        assert!(
            store
                .session_principal(user.id, revoked)
                .await
                .unwrap()
                .unwrap()
                .session_revoked
        );
    }
    assert_eq!(store.revoke_user_sessions(user.id, None).await.unwrap(), 1);
}

async fn timestamps_round_trip_exactly(store: &Store) {
    let before = Stamp::now();
    let user = store
        .create_user(new_user("hal@example.com", Role::Customer))
        .await
        .unwrap();
    let read = store.user(user.id).await.unwrap().unwrap();
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
            .acquire_job("nightly", "a", at(0), lease, every)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acquire_job("nightly", "b", at(1), lease, every)
            .await
            .unwrap(),
        "held by a"
    );
    // A long run renews its lease: b still cannot take the job after the first lease would end.
    assert!(store.renew_job("nightly", "a", at(1200)).await.unwrap());
    assert!(
        !store
            .acquire_job("nightly", "b", at(900), lease, every)
            .await
            .unwrap()
    );
    assert!(
        !store.renew_job("nightly", "b", at(2000)).await.unwrap(),
        "only the holder renews"
    );
    // A holder that died: its lease ends, and someone else takes the job.
    assert!(
        store
            .acquire_job("nightly", "b", at(1201), lease, every)
            .await
            .unwrap()
    );
    store
        .finish_job(
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
            .acquire_job("nightly", "a", at(1300), lease, every)
            .await
            .unwrap(),
        "not due yet"
    );
    assert!(
        store
            .acquire_job("nightly", "a", at(1510), lease, every)
            .await
            .unwrap(),
        "due again"
    );
    assert_eq!(
        store.job_runs("nightly").await.unwrap(),
        vec![("b".to_owned(), serde_json::json!({"ok": true}))]
    );
}
