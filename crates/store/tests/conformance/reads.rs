//! Read marks: a ticket is unread for a reader until they mark it read, the list and one
//! ticket agree, and a mark never moves back (a late request or a restored backup).

use growdesk_domain::{Priority, Role};
use growdesk_store::{
    Store,
    imports::Imported,
    tickets::{ReadMark, TicketFilter, TicketSort},
};
use uuid::Uuid;

use super::new_user;
use super::tickets::open_ticket;

on_both_backends!(read_marks_say_what_is_unread_and_never_move_back);

/// Whether the ticket is unread for `reader`, read alone and in a page of the list, which
/// must agree.
async fn unread(store: &Store, ticket: Uuid, reader: Uuid) -> bool {
    let one = store
        .tickets()
        .get_read_by(ticket, reader)
        .await
        .unwrap()
        .unwrap()
        .unread;
    let filter = TicketFilter {
        reader: Some(reader),
        ..TicketFilter::default()
    };
    let page = store
        .tickets()
        .list(&filter, TicketSort::CreatedAt, true, None, 10)
        .await
        .unwrap();
    let listed = page
        .iter()
        .find(|listed| listed.id == ticket)
        .unwrap()
        .unread;
    assert_eq!(one, listed, "one ticket and the list agree");
    one.expect("a reader's query says whether it is unread")
}

async fn read_marks_say_what_is_unread_and_never_move_back(store: &Store) {
    let customer = store
        .users()
        .create(new_user("reader-customer@example.com", Role::Customer))
        .await
        .unwrap()
        .id;
    let agent = store
        .users()
        .create(new_user("reader-agent@example.com", Role::Agent))
        .await
        .unwrap()
        .id;
    let ticket = open_ticket(store, customer, "Late", "Where is it?", Priority::Low).await;
    assert_eq!(
        store.tickets().get(ticket).await.unwrap().unwrap().unread,
        None,
        "no reader, no flag"
    );
    assert!(
        unread(store, ticket, agent).await,
        "the customer's description"
    );

    store.tickets().mark_read(ticket, agent).await.unwrap();
    assert!(!unread(store, ticket, agent).await);
    let marks = store.tickets().export_read_marks(None, 10).await.unwrap();
    let newest = store
        .events()
        .of_ticket(ticket, true, None, 100)
        .await
        .unwrap()
        .last()
        .unwrap()
        .id;
    assert_eq!(
        marks,
        [ReadMark {
            user_id: agent,
            ticket_id: ticket,
            last_event_id: newest
        }],
        "up to the latest event"
    );

    // A mark from a backup that is behind the one stored leaves it; one for another reader is
    // restored once.
    let behind = ReadMark {
        last_event_id: 0,
        ..marks[0]
    };
    assert_eq!(
        store.tickets().restore_read_mark(&behind).await.unwrap(),
        Imported::Unchanged(ticket)
    );
    assert!(!unread(store, ticket, agent).await);
    let other = ReadMark {
        user_id: customer,
        ..marks[0]
    };
    assert_eq!(
        store.tickets().restore_read_mark(&other).await.unwrap(),
        Imported::Created(ticket)
    );
    assert_eq!(
        store.tickets().restore_read_mark(&other).await.unwrap(),
        Imported::Unchanged(ticket)
    );
    assert_eq!(
        store
            .tickets()
            .export_read_marks(Some((agent.min(customer), ticket)), 10)
            .await
            .unwrap()
            .len(),
        1,
        "pages after a reader and ticket"
    );
}
