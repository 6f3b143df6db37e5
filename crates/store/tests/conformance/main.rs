//! The store conformance suite: every scenario runs on SQLite and on PostgreSQL, so the two
//! backends cannot drift apart. One module per subject; the shared fixtures are here.

/// Generates `sqlite::name` and `postgres::name` tests for each scenario `name(&Store)`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                let (_db, store) = crate::fresh(growdesk_store::BackendKind::Sqlite).await;
                super::$scenario(&store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                let (_db, store) = crate::fresh(growdesk_store::BackendKind::Postgres).await;
                super::$scenario(&store).await;
                store.close().await;
            })*
        }
    };
}

mod email;
mod faqs;
mod feed;
mod jobs;
mod reads;
mod sessions;
mod tickets;
mod users;
mod writes;

use growdesk_domain::Role;
use growdesk_store::testkit::TestDatabase;
use growdesk_store::{BackendKind, PoolSettings, Stamp, Store, users::NewUser};

on_both_backends!(timestamps_round_trip_exactly);

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
