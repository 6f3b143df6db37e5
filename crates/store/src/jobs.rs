//! What scheduled maintenance needs from storage: job leases, run records, the tickets each
//! job works on, and breach bookkeeping.

use std::time::Duration;

use growdesk_domain::{Priority, SlaTarget};
use sqlx::types::Json;
use uuid::Uuid;

use crate::events::NewEvent;
use crate::write_tx::WriteTx as _;
use crate::{Backend, Stamp, Store, StoreError, on_backend};

/// A ticket past a service-level target.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Overdue {
    pub id: Uuid,
    pub number: i64,
    pub subject: String,
    pub assignee_id: Option<Uuid>,
}

/// Pages of full-text index one merge step writes: a few milliseconds of write lock.
const SEARCH_MERGE_PAGES: u32 = 256;

/// Scheduled maintenance: job leases, run records, and the tickets the jobs work on.
#[derive(Debug, Clone, Copy)]
pub struct Jobs<'a> {
    pub(crate) store: &'a Store,
}

impl Jobs<'_> {
    /// Takes job `name` for `holder` until `now + lease`, if no one holds it and it last
    /// finished at least `every` ago (or never ran). Atomic: of several contenders, one wins.
    ///
    /// # Errors
    /// The database failed.
    pub async fn acquire(
        &self,
        name: &str,
        holder: &str,
        now: Stamp,
        lease: Duration,
        every: Duration,
    ) -> Result<bool, StoreError> {
        let won: Option<String> = on_backend!(write self.store, pool => sqlx::query_scalar(
                "INSERT INTO job_leases (name, holder, locked_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, locked_until = excluded.locked_until \
                 WHERE job_leases.locked_until <= $4 \
                 AND (job_leases.last_finished_at IS NULL OR job_leases.last_finished_at <= $5) \
                 RETURNING holder")
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(lease))
            .bind(now)
            .bind(now.saturating_sub(every))
            .fetch_optional(pool)
            .await)?;
        Ok(won.is_some())
    }

    /// Extends `holder`'s lease on job `name` to `until` (a long run keeps its job); `false`
    /// when the lease is no longer this holder's.
    ///
    /// # Errors
    /// The database failed.
    pub async fn renew(&self, name: &str, holder: &str, until: Stamp) -> Result<bool, StoreError> {
        let renewed = on_backend!(write self.store, pool => sqlx::query(
                "UPDATE job_leases SET locked_until = $3 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .bind(until)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(renewed > 0)
    }

    /// Releases job `name` and records the run.
    ///
    /// # Errors
    /// The database failed.
    pub async fn finish(
        &self,
        name: &str,
        holder: &str,
        started: Stamp,
        finished: Stamp,
        outcome: &serde_json::Value,
    ) -> Result<(), StoreError> {
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            sqlx::query("UPDATE job_leases SET locked_until = $3, last_finished_at = $3 WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .bind(finished)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO job_runs (name, holder, started_at, finished_at, outcome) VALUES ($1, $2, $3, $4, $5)")
                .bind(name)
                .bind(holder)
                .bind(started)
                .bind(finished)
                .bind(Json(outcome))
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// The recorded runs of job `name`: `(holder, outcome)`, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn runs(&self, name: &str) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let rows: Vec<(String, Json<serde_json::Value>)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT holder, outcome FROM job_runs WHERE name = $1 ORDER BY id")
            .bind(name)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(holder, outcome)| (holder, outcome.0))
            .collect())
    }

    /// Resolved tickets resolved before `cutoff`, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn resolved_before(
        &self,
        cutoff: Stamp,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<Uuid> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT id FROM tickets WHERE status = 'resolved' AND resolved_at < $1 ORDER BY resolved_at LIMIT $2")
            .bind(cutoff)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }

    /// Open work of `priority` created before `cutoff` that was not told about yet for
    /// `target`: its first response (no public staff reply yet) or its resolution (not
    /// resolved or closed).
    ///
    /// # Errors
    /// The database failed.
    pub async fn overdue(
        &self,
        target: SlaTarget,
        priority: Priority,
        cutoff: Stamp,
        limit: u32,
    ) -> Result<Vec<Overdue>, StoreError> {
        let waiting = match target {
            SlaTarget::FirstResponse => "AND t.first_response_at IS NULL",
            SlaTarget::Resolution => "",
        };
        let sql = format!(
            "SELECT t.id, t.number, t.subject, t.assignee_id FROM tickets t \
             WHERE t.priority = $1 AND t.status NOT IN ('resolved', 'closed') {waiting} AND t.created_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM sla_breaches b WHERE b.ticket_id = t.id AND b.kind = $3) \
             ORDER BY t.created_at LIMIT $4"
        );
        let rows: Vec<Overdue> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(priority.rank())
            .bind(cutoff)
            .bind(target.as_str())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Records that `ticket` missed `target`, with the notifications that tell it, once:
    /// `false` when it was recorded before (by another run).
    ///
    /// # Errors
    /// The database failed.
    pub async fn record_breach(
        &self,
        ticket: Uuid,
        target: SlaTarget,
        notifications: &[NewEvent],
        now: Stamp,
    ) -> Result<bool, StoreError> {
        let recorded = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let inserted = sqlx::query(
                "INSERT INTO sla_breaches (ticket_id, kind, notified_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(ticket)
            .bind(target.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            tx.append_events(notifications, now).await?;
            tx.commit().await?;
            Ok::<bool, StoreError>(true)
        })?;
        if recorded {
            self.store.announce_change();
        }
        Ok(recorded)
    }

    /// Removes expired refresh tokens, sessions over for a day, and idempotency keys older than a
    /// day; how many of each.
    ///
    /// # Errors
    /// The database failed.
    pub async fn purge_expired(&self, now: Stamp) -> Result<(u64, u64, u64), StoreError> {
        let day_ago = now.saturating_sub(Duration::from_secs(24 * 60 * 60));
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let tokens = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1 OR used_at < $2")
                .bind(now)
                .bind(day_ago)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
                .bind(day_ago)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let keys = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(day_ago)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok((tokens, sessions, keys))
        })
    }

    /// Merges the segments of SQLite's full-text indexes, a bounded step per transaction,
    /// until each index is one segment or `max_steps` steps ran; how many steps did work.
    /// Searches probe every segment, so a fragmented index made them many times slower
    /// (growdesk-bench: 1.2 s before, 95 ms after, for one walk at a million tickets).
    /// PostgreSQL's GIN indexes are kept by autovacuum, so there it does nothing.
    ///
    /// # Errors
    /// The database failed.
    pub async fn merge_search_indexes(&self, max_steps: u64) -> Result<u64, StoreError> {
        let Backend::Sqlite(pool) = &self.store.backend else {
            return Ok(0);
        };
        let writer = self.store.sqlite_writer(pool);
        let mut steps = 0;
        for table in ["tickets_fts", "messages_fts", "faqs_fts"] {
            while steps < max_steps {
                // A step that finds nothing to merge changes only its own command row; no other
                // write runs on the writer's connection during the turn.
                let merged = self.store.within_deadline(async {
                    let mut turn = writer.begin().await?;
                    let before: i64 = sqlx::query_scalar("SELECT total_changes()").fetch_one(&mut *turn).await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO {table} ({table}, rank) VALUES ('merge', -{SEARCH_MERGE_PAGES})")))
                        .execute(&mut *turn)
                        .await?;
                    let after: i64 = sqlx::query_scalar("SELECT total_changes()").fetch_one(&mut *turn).await?;
                    turn.commit().await?;
                    Ok::<_, sqlx::Error>(after - before > 1)
                }).await?;
                if !merged {
                    break;
                }
                steps += 1;
            }
        }
        Ok(steps)
    }
}
