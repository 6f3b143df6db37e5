//! Sessions: refresh tokens rotate once, even when rotated concurrently; expired and revoked
//! sessions refuse a refresh; a principal reports its session revoked.

use std::time::Duration;

use growdesk_domain::Role;
use growdesk_store::{
    Stamp, Store,
    sessions::{NewSession, RotateOutcome},
    users::UserChanges,
};
use uuid::Uuid;

use super::new_user;

on_both_backends!(
    refresh_tokens_rotate_once,
    concurrent_rotations_of_one_token_let_exactly_one_through,
    expired_and_revoked_sessions_reject_refresh,
    principal_reports_revoked_sessions,
);

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
