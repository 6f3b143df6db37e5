//! Users: unique by email whatever the case, listed in pages with filters, changed only in
//! what is given, and an active admin detected.

use growdesk_domain::Role;
use growdesk_store::{
    Store, StoreError,
    users::{UserChanges, UserFilter},
};
use uuid::Uuid;

use super::new_user;

on_both_backends!(
    users_are_unique_by_email_whatever_the_case,
    users_are_listed_in_pages_with_filters,
    user_changes_apply_only_what_is_given,
    an_active_admin_is_detected,
);

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
