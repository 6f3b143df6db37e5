//! Job leases: a held lease excludes others until it ends or is renewed.

use std::time::Duration;

use growdesk_store::{Stamp, Store};

on_both_backends!(job_leases_exclude_until_they_end);

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
