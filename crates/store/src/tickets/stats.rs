//! The dashboard's counts: tickets by status, priority and assignee, created per day, the
//! median times to a first response and to a resolution, and the tickets past their
//! service-level targets.

use std::collections::HashMap;

use growdesk_domain::{Priority, TicketStatus};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::tickets::Tickets;
use crate::{Stamp, StoreError, on_backend};

/// One priority's tickets against its service-level targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaCounts {
    /// Open, never answered by staff, and older than the first-response target.
    pub overdue_first_response: i64,
    /// Open and older than the resolution target.
    pub overdue_resolution: i64,
    /// Opened since the window's start.
    pub opened: i64,
    /// Of those, answered after the first-response target, or still waiting past it.
    pub missed_first_response: i64,
    /// Of those, resolved or closed after the resolution target, or still open past it.
    pub missed_resolution: i64,
}

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
    /// Each priority's tickets (low to urgent) against its targets (`first_response[i]` and
    /// `resolution[i]` for the priority of rank `i + 1`) at `now`, with the misses counted over
    /// the tickets opened since `since`.
    ///
    /// No count reads every ticket: open work past its resolution target is the open work the
    /// counters of migration 0010 hold less the tickets opened within the target, found through
    /// the (priority, created_at) index; open work still waiting for its first reply through
    /// the partial index of migration 0018; the misses through the window's (created_at) index,
    /// as the medians are.
    ///
    /// # Errors
    /// The database failed.
    pub async fn sla(
        &self,
        first_response: [std::time::Duration; 4],
        resolution: [std::time::Duration; 4],
        since: Stamp,
        now: Stamp,
    ) -> Result<Vec<(Priority, SlaCounts)>, StoreError> {
        let open: Vec<(i16, i64)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT priority, CAST(SUM(tickets) AS BIGINT) FROM ticket_counts \
                 WHERE status NOT IN ('resolved', 'closed') GROUP BY priority")
            .fetch_all(pool)
            .await)?;
        let mut counts: Vec<(Priority, SlaCounts)> = Priority::ALL
            .iter()
            .map(|priority| (*priority, SlaCounts::default()))
            .collect();
        for (index, (priority, figures)) in counts.iter_mut().enumerate() {
            let open_now = open
                .iter()
                .find(|(rank, _)| *rank == priority.rank())
                .map_or(0, |(_, tickets)| *tickets);
            let within_resolution: i64 = on_backend!(self.store, pool => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tickets WHERE priority = $1 AND created_at >= $2 \
                     AND status NOT IN ('resolved', 'closed')")
                .bind(priority.rank())
                .bind(now.saturating_sub(resolution[index]))
                .fetch_one(pool)
                .await)?;
            figures.overdue_resolution = (open_now - within_resolution).max(0);
            figures.overdue_first_response = on_backend!(self.store, pool => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tickets WHERE priority = $1 AND created_at < $2 \
                     AND first_response_at IS NULL AND status NOT IN ('resolved', 'closed')")
                .bind(priority.rank())
                .bind(now.saturating_sub(first_response[index]))
                .fetch_one(pool)
                .await)?;
        }
        let missed: Vec<(i16, i64, i64, i64)> = on_backend!(self.store, pool, Db => {
            let answered = Db::seconds_between("created_at", "COALESCE(first_response_at, $1)");
            let finished = Db::seconds_between("created_at", "COALESCE(resolved_at, closed_at, $1)");
            // Grouped by `+priority`, an expression, so that SQLite reads the window's range of
            // the created_at index rather than the whole (priority, …) index in group order.
            let sql = format!(
                "SELECT +priority, COUNT(*), \
                 CAST(SUM(CASE WHEN {answered} > (CASE priority WHEN 1 THEN $2 WHEN 2 THEN $3 WHEN 3 THEN $4 ELSE $5 END) THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN {finished} > (CASE priority WHEN 1 THEN $6 WHEN 2 THEN $7 WHEN 3 THEN $8 ELSE $9 END) THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM tickets WHERE created_at >= $10 GROUP BY +priority"
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now);
            for target in first_response.iter().chain(resolution.iter()) {
                query = query.bind(target.as_secs_f64());
            }
            query.bind(since).fetch_all(pool).await
        })?;
        for (rank, opened, late_reply, late_resolution) in missed {
            if let Some((_, figures)) = counts
                .iter_mut()
                .find(|(priority, _)| priority.rank() == rank)
            {
                figures.opened = opened;
                figures.missed_first_response = late_reply;
                figures.missed_resolution = late_resolution;
            }
        }
        Ok(counts)
    }

    /// The dashboard's counts, for staff member `viewer`, with days and medians counted from
    /// `since` (a UTC midnight). The counts come from the counter tables the ticket triggers
    /// keep (migration 0010), so they cost the same at any number of tickets; on PostgreSQL a
    /// counter is split over slots (migration 0021), summed here.
    ///
    /// # Errors
    /// The database failed.
    pub async fn stats(&self, viewer: Uuid, since: Stamp) -> Result<TicketStats, StoreError> {
        let counts: Vec<(String, i16, Uuid, i64)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT status, priority, assignee_key, CAST(SUM(tickets) AS BIGINT) FROM ticket_counts \
                 GROUP BY status, priority, assignee_key HAVING SUM(tickets) <> 0")
            .fetch_all(pool)
            .await)?;
        let first_day = since.into_inner().date().to_string();
        let created_per_day: Vec<(String, i64)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT day, CAST(SUM(tickets) AS BIGINT) FROM ticket_days WHERE day >= $1 \
                 GROUP BY day HAVING SUM(tickets) <> 0 ORDER BY day")
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
