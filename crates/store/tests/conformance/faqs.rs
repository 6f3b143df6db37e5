//! FAQs: a refused write leaves every connection of the pool usable.

use growdesk_store::{Store, StoreError, faqs::FaqFields};
use uuid::Uuid;

on_both_backends!(refused_faq_writes_leave_every_connection_usable);

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
