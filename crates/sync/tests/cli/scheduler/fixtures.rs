//! The records the scheduler's scenarios start from (users, tickets in a given state), and what
//! they read back (the breaches told, a ticket's priority).

use growdesk_domain::event::StatusChange;
use growdesk_domain::{Event, NotificationKind, Priority, Role, TicketStatus};
use growdesk_store::{
    BackendKind, Stamp, Store,
    events::NewEvent,
    tickets::{Changed, TicketChange, TicketState},
    users::NewUser,
};
use uuid::Uuid;

use crate::support::open_ticket;

pub(super) async fn user(store: &Store, email: &str, role: Role) -> Uuid {
    let new = NewUser {
        email: email.into(),
        name: email.into(),
        role,
        password_hash: None,
    };
    store.users().create(new).await.unwrap().id
}

pub(super) async fn ticket(
    store: &Store,
    requester: Uuid,
    priority: Priority,
    assignee: Option<Uuid>,
    status: TicketStatus,
) -> Uuid {
    let id = open_ticket(
        store,
        requester,
        &format!("{priority:?} {status:?}"),
        priority,
    )
    .await;
    if assignee.is_none() && status == TicketStatus::Open {
        return id;
    }
    let outcome: Changed<()> = store
        .tickets()
        .change(id, None, |current| {
            let mut state = TicketState::of(current);
            state.assignee_id = assignee;
            state.status = status;
            if status == TicketStatus::Resolved {
                state.resolved_at = Some(Stamp::now());
            }
            let event = NewEvent::public(
                id,
                None,
                Event::StatusChanged(StatusChange {
                    from: current.status,
                    to: status,
                    automatic: false,
                }),
            );
            Ok(TicketChange {
                state,
                events: vec![event],
                message: None,
                notes: Vec::new(),
                mail: Vec::new(),
                inbound: None,
            })
        })
        .await
        .unwrap();
    assert!(matches!(outcome, Changed::Applied { .. }));
    id
}

pub(super) async fn breach_kinds(store: &Store, user: Uuid) -> Vec<(Uuid, String)> {
    let mut told: Vec<(Uuid, String)> = store
        .notifications()
        .list(user, false, None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|notification| notification.kind == NotificationKind::SlaBreach)
        .map(|notification| {
            (
                notification.ticket_id,
                notification.data["breach"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    told.sort();
    told
}

/// Ticket 1's priority rank, set to `new` first when given (as an agent's change would).
pub(super) async fn first_ticket_priority(kind: BackendKind, url: &str, new: Option<i16>) -> i16 {
    let update = "UPDATE tickets SET priority = $1 WHERE number = 1";
    let select = "SELECT priority FROM tickets WHERE number = 1";
    match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            if let Some(rank) = new {
                sqlx::query(update).bind(rank).execute(&pool).await.unwrap();
            }
            let rank = sqlx::query_scalar(select).fetch_one(&pool).await.unwrap();
            pool.close().await;
            rank
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            if let Some(rank) = new {
                sqlx::query(update).bind(rank).execute(&pool).await.unwrap();
            }
            let rank = sqlx::query_scalar(select).fetch_one(&pool).await.unwrap();
            pool.close().await;
            rank
        }
    }
}
