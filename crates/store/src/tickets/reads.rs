//! Read marks: how far each staff member has read each ticket, and whether a ticket is unread
//! for them, which the ticket queries compute with one join (never a query per ticket).
//!
//! A mark is the id of the ticket's latest event when the reader last opened it. The ticket is
//! unread while its latest public message came after that id and is someone else's: a
//! customer's message or another agent's reply. The reader's own reply answers what came before
//! it, so it reads the ticket too; internal notes and changes of fields (status, assignee,
//! tags…) leave it as it was. Only the latest public message is looked at — one probe of a
//! partial index per ticket, however many messages the ticket holds.

use growdesk_domain::Ticket;
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::import_preview::{ImportPreview, Previews, Referenced};
use crate::imports::Imported;
use crate::tickets::{TICKET_COLUMNS, TICKET_NAMES, TicketRow, Tickets};
use crate::{StoreError, on_backend};

/// A staff member's read mark on a ticket, as a backup carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ReadMark {
    pub user_id: Uuid,
    pub ticket_id: Uuid,
    /// The ticket's latest event when they last read it.
    pub last_event_id: i64,
}

/// Whether the ticket `t` is unread for the reader whose mark `rd` is joined by `READ_MARK`:
/// the reader's id follows, then `UNREAD_END`. The ticket's latest public message is found
/// through `ticket_events_public_messages_idx`, whose condition this one repeats.
pub(crate) const UNREAD: &str = "COALESCE((SELECT e.id > COALESCE(rd.last_event_id, 0) \
     AND e.actor_id <> ";

/// The rest of `UNREAD`, after the reader's id.
pub(crate) const UNREAD_END: &str = " FROM ticket_events e WHERE e.ticket_id = t.id \
     AND e.kind = 'message_created' AND e.internal = FALSE ORDER BY e.id DESC LIMIT 1), FALSE)";

/// Joins the ticket `t` to the reader's mark `rd` (by its primary key): the reader's id follows.
pub(crate) const READ_MARK: &str =
    " LEFT JOIN ticket_reads rd ON rd.ticket_id = t.id AND rd.user_id = ";

impl Tickets<'_> {
    /// One ticket with its names, tags and whether it is unread for `reader`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get_read_by(&self, id: Uuid, reader: Uuid) -> Result<Option<Ticket>, StoreError> {
        let row: Option<TicketRow> = on_backend!(self.store, pool, Db => {
            let sql = [
                TICKET_COLUMNS,
                Db::TICKET_TAGS,
                " AS tags, ",
                UNREAD,
                "$2",
                UNREAD_END,
                " AS unread FROM tickets",
                TICKET_NAMES,
                READ_MARK,
                "$2 WHERE t.id = $1",
            ]
            .concat();
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(reader).fetch_optional(pool).await
        })?;
        row.map(TicketRow::into_ticket).transpose()
    }

    /// Marks ticket `id` read by `reader` up to its latest event. A mark never moves back, so
    /// a repeated or late request changes nothing; a ticket deleted meanwhile gets none.
    ///
    /// # Errors
    /// `MissingReference` for an unknown reader.
    pub async fn mark_read(&self, id: Uuid, reader: Uuid) -> Result<(), StoreError> {
        // The WHERE after the SELECT is also what SQLite needs to read ON CONFLICT as the
        // upsert's and not as a join's.
        on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO ticket_reads (user_id, ticket_id, last_event_id) \
                 SELECT $1, t.id, COALESCE((SELECT MAX(e.id) FROM ticket_events e WHERE e.ticket_id = t.id), 0) \
                 FROM tickets t WHERE t.id = $2 \
                 ON CONFLICT (user_id, ticket_id) DO UPDATE SET last_event_id = excluded.last_event_id \
                 WHERE excluded.last_event_id > ticket_reads.last_event_id")
            .bind(reader)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A page of every read mark, by reader and ticket after `after`: for a backup.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export_read_marks(
        &self,
        after: Option<(Uuid, Uuid)>,
        limit: u32,
    ) -> Result<Vec<ReadMark>, StoreError> {
        let (user, ticket) = after.unzip();
        Ok(on_backend!(self.store, pool => sqlx::query_as(
                "SELECT user_id, ticket_id, last_event_id FROM ticket_reads \
                 WHERE $1 IS NULL OR (user_id, ticket_id) > ($1, $2) ORDER BY user_id, ticket_id LIMIT $3")
            .bind(user)
            .bind(ticket)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?)
    }

    /// Restores a read mark from a backup; a mark already there is left as it is.
    ///
    /// # Errors
    /// `MissingReference` for an unknown reader or ticket.
    pub async fn restore_read_mark(&self, mark: &ReadMark) -> Result<Imported, StoreError> {
        let written = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO ticket_reads (user_id, ticket_id, last_event_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, ticket_id) DO NOTHING")
            .bind(mark.user_id)
            .bind(mark.ticket_id)
            .bind(mark.last_event_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(Imported::restored(written, mark.ticket_id))
    }
}

impl Previews<'_> {
    /// What `Tickets::restore_read_mark` would answer, for a dry run.
    ///
    /// # Errors
    /// `MissingReference` for an unknown reader or ticket.
    pub async fn read_mark(
        &self,
        preview: &mut ImportPreview,
        mark: &ReadMark,
    ) -> Result<Imported, StoreError> {
        let key = (mark.user_id, mark.ticket_id);
        let stored = preview.read_marks.contains(&key)
            || on_backend!(self.store, pool => sqlx::query_scalar::<_, i32>(
                    "SELECT 1 FROM ticket_reads WHERE user_id = $1 AND ticket_id = $2")
                .bind(mark.user_id)
                .bind(mark.ticket_id)
                .fetch_optional(pool)
                .await)?
            .is_some();
        if stored {
            return Ok(Imported::Unchanged(mark.ticket_id));
        }
        for (table, id) in [
            (Referenced::User, mark.user_id),
            (Referenced::Ticket, mark.ticket_id),
        ] {
            if !self.preview_exists(preview, table, id).await? {
                return Err(StoreError::MissingReference);
            }
        }
        preview.read_marks.insert(key);
        Ok(Imported::Created(mark.ticket_id))
    }
}
