//! The dashboard's counts: tickets by status, priority and assignee, created per day, and the
//! median times to a first response and to a resolution.

use std::collections::HashMap;

use growdesk_domain::{Priority, TicketStatus};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::tickets::Tickets;
use crate::{Stamp, StoreError, on_backend};

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketStats {
    pub by_status: Vec<(TicketStatus, i64)>,
    pub by_priority: Vec<(Priority, i64)>,
    /// Not resolved or closed, and assigned to no one.
    pub unassigned: i64,
    /// Not resolved or closed, and assigned to the viewer.
    pub assigned_to_viewer: i64,
    /// `(YYYY-MM-DD, count)` for days with tickets, oldest first.
    pub created_per_day: Vec<(String, i64)>,
    pub median_first_response_seconds: Option<f64>,
    pub median_resolution_seconds: Option<f64>,
}

impl Tickets<'_> {
    /// The dashboard's counts, for staff member `viewer`, with days and medians counted from
    /// `since` (a UTC midnight). The counts come from the counter tables the ticket triggers
    /// keep (migration 0010), so they cost the same at any number of tickets.
    ///
    /// # Errors
    /// The database failed.
    pub async fn stats(&self, viewer: Uuid, since: Stamp) -> Result<TicketStats, StoreError> {
        let counts: Vec<(String, i16, Uuid, i64)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT status, priority, assignee_key, tickets FROM ticket_counts WHERE tickets <> 0")
            .fetch_all(pool)
            .await)?;
        let first_day = since.into_inner().date().to_string();
        let created_per_day: Vec<(String, i64)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT day, tickets FROM ticket_days WHERE day >= $1 AND tickets <> 0 ORDER BY day")
            .bind(&first_day)
            .fetch_all(pool)
            .await)?;
        let mut by_status: HashMap<TicketStatus, i64> = HashMap::new();
        let mut by_priority: HashMap<Priority, i64> = HashMap::new();
        let mut stats = TicketStats {
            created_per_day,
            median_first_response_seconds: self.median_seconds("first_response_at", since).await?,
            median_resolution_seconds: self.median_seconds("resolved_at", since).await?,
            ..TicketStats::default()
        };
        for (status, rank, assignee, tickets) in counts {
            let status: TicketStatus = status
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("ticket status {status:?}")))?;
            let priority = Priority::from_rank(rank)
                .ok_or_else(|| StoreError::Corrupt(format!("priority {rank}")))?;
            *by_status.entry(status).or_default() += tickets;
            *by_priority.entry(priority).or_default() += tickets;
            if !matches!(status, TicketStatus::Resolved | TicketStatus::Closed) {
                if assignee.is_nil() {
                    stats.unassigned += tickets;
                } else if assignee == viewer {
                    stats.assigned_to_viewer += tickets;
                }
            }
        }
        stats.by_status = by_status.into_iter().collect();
        stats.by_priority = by_priority.into_iter().collect();
        Ok(stats)
    }

    /// The median of `column - created_at` over tickets opened since `since` where `column`
    /// is set: the middle row, or the mean of the two middle rows, found by offset in the
    /// sorted durations. The window keeps it to a month of tickets, read through the
    /// (created_at, first_response_at, resolved_at) index.
    async fn median_seconds(
        &self,
        column: &'static str,
        since: Stamp,
    ) -> Result<Option<f64>, StoreError> {
        on_backend!(self.store, pool, Db => {
            let count_sql = format!("SELECT COUNT(*) FROM tickets WHERE created_at >= $1 AND {column} IS NOT NULL");
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)).bind(since).fetch_one(pool).await?;
            if count == 0 {
                return Ok(None);
            }
            let seconds = Db::seconds_between("created_at", column);
            let sql = format!(
                "SELECT {seconds} AS seconds FROM tickets WHERE created_at >= $1 AND {column} IS NOT NULL \
                 ORDER BY seconds LIMIT $2 OFFSET $3"
            );
            let middle: Vec<f64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(since)
                .bind(2 - count % 2)
                .bind((count - 1) / 2)
                .fetch_all(pool)
                .await?;
            Ok(Some(middle.iter().sum::<f64>() / middle.len().max(1) as f64))
        })
    }
}
