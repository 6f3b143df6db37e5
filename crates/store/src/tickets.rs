//! Tickets: create, read, list with filters and keyset pagination, change, delete, and the
//! counts of the dashboard.

use std::collections::HashMap;

use growdesk_domain::{Assignee, Priority, Requester, Ticket, TicketSource, TicketStatus};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::dialect::pick;
use crate::events::{NewEvent, insert_events};
use crate::idempotency::{IdempotencyClaim, claim_or_return};
use crate::messages::NewMessage;
use crate::ticket_changes::{MessageRecord, insert_message, insert_tags};
use crate::widgets::Visitor;
use crate::{Created, Stamp, Store, StoreError, on_backend, postgres, sqlite, with_pool};

/// Binds a cursor's sort value with its own type.
macro_rules! push_sort_key {
    ($query:ident, $key:expr) => {
        match $key {
            SortKey::Time(stamp) => $query.push_bind(stamp),
            SortKey::Int(value) => $query.push_bind(value),
        }
    };
}

/// Pushes SQL around a bound value (a `dialect::Around`).
macro_rules! push_around {
    ($query:ident, $around:expr, $value:expr) => {
        $query
            .push($around.before)
            .push_bind($value)
            .push($around.after)
    };
}

/// One page of tickets as `list_tickets` asks for it, after `prefix` (the page's SELECT, or an
/// EXPLAIN of it), so that the benchmarks' query plans are those of the real query. The page is
/// chosen from the tickets alone, then joined to names and tags: a filter that passes over many
/// tickets (a tag, a search walk) does not look up two users for each of them.
macro_rules! page_query {
    ($pool:ident, $prefix:expr, $filter:expr, $plan:expr, $sort:expr, $descending:expr, $after:expr, $limit:expr) => {{
        let mut query = QueryBuilder::new($prefix);
        query.push(format!("(SELECT {PAGE_COLUMNS} FROM tickets t WHERE TRUE"));
        if !$filter.statuses.is_empty() {
            query.push(" AND t.status IN (");
            let mut statuses = query.separated(", ");
            for status in &$filter.statuses {
                statuses.push_bind(status.as_str());
            }
            query.push(")");
        }
        if let Some(priority) = $filter.priority {
            query.push(" AND t.priority = ").push_bind(priority.rank());
        }
        if let Some(category) = $filter.category_id {
            query.push(" AND t.category_id = ").push_bind(category);
        }
        match $filter.assignee {
            Some(AssigneeFilter::Is(assignee)) => {
                query.push(" AND t.assignee_id = ").push_bind(assignee);
            }
            Some(AssigneeFilter::Unassigned) => {
                query.push(" AND t.assignee_id IS NULL");
            }
            None => {}
        }
        if let Some(requester) = $filter.requester_id {
            query.push(" AND t.requester_id = ").push_bind(requester);
        }
        if let Some(scope) = $filter.visitor {
            query.push(" AND (t.visitor_id = ").push_bind(scope.visitor_id);
            if let Some(identity) = scope.identity_user_id {
                query.push(" OR t.requester_id = ").push_bind(identity);
            }
            query.push(")");
        }
        if let Some(tag) = &$filter.tag {
            query.push(" AND EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = ")
                .push_bind(tag.clone())
                .push(")");
        }
        if !$filter.terms.is_empty() {
            let terms = pick($pool, postgres::search_query(&$filter.terms), sqlite::search_query(&$filter.terms));
            let search = pick($pool, &postgres::TICKET_SEARCH, &sqlite::TICKET_SEARCH);
            let public_only = if $filter.search_internal { "" } else { " AND m.internal = FALSE" };
            match $plan {
                SearchPlan::Collect => {
                    query.push(search.in_collected.before);
                    push_around!(query, search.subject_hits, terms.clone());
                    query.push(" UNION ");
                    push_around!(query, search.body_hits, terms);
                    query.push(public_only).push(search.in_collected.after);
                }
                SearchPlan::Walk => {
                    query.push(" AND (");
                    push_around!(query, search.subject_matches_row, terms.clone());
                    query.push(" OR EXISTS (").push(search.ticket_messages).push(public_only);
                    push_around!(query, search.body_matches_row, terms);
                    query.push(search.ticket_messages_end).push("))");
                }
            }
        }
        let column = $sort.column();
        let (before, order) = if $descending { ("<", "DESC") } else { (">", "ASC") };
        if let Some(cursor) = $after {
            // A row-value comparison, not `a < x OR (a = x AND id < y)`: both databases seek
            // the (column, id) index to it, where the OR form made SQLite scan from the top.
            query.push(format!(" AND ({column}, t.id) {before} ("));
            push_sort_key!(query, cursor.key);
            query.push(", ").push_bind(cursor.id).push(")");
        }
        // The page size is written into the statement: bound, PostgreSQL's generic plan of a
        // cached statement cannot know the page is small, and chose plans that read every match.
        let limit: u32 = $limit;
        query.push(format!(" ORDER BY {column} {order}, t.id {order} LIMIT {limit})"));
        query.push(ticket_names!()).push(format!(" ORDER BY {column} {order}, t.id {order}"));
        query
    }};
}

/// How a search finds its tickets (see `Store::search_plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchPlan {
    /// Few matches: list them through the full-text indexes, then filter and sort them.
    Collect,
    /// Many matches: walk the sort order's index and test each ticket until the page is full.
    Walk,
}

/// Selects tickets with their requester's and assignee's names and their tags (a JSON array,
/// aggregated per dialect by `$tags`), from the tickets (or the page of them) that follows it,
/// which must then be joined by `ticket_names!`.
macro_rules! select_tickets_from {
    ($($tags:tt)*) => {
        concat!(
            "SELECT t.id, t.number, t.subject, t.status, t.priority, t.category_id, \
             t.requester_id, r.name AS requester_name, r.email AS requester_email, \
             t.assignee_id, a.name AS assignee_name, t.source, t.version, t.created_at, t.updated_at, \
             t.first_response_at, t.resolved_at, t.closed_at, t.visitor_id, ",
            $($tags)*,
            " AS tags FROM "
        )
    };
}

/// Joins the tickets `t` to their requester's and assignee's names. Left joins keep the
/// tickets the outer loop: with inner joins SQLite 3.51 chose to scan users and sort.
macro_rules! ticket_names {
    () => {
        " t LEFT JOIN users r ON r.id = t.requester_id LEFT JOIN users a ON a.id = t.assignee_id"
    };
}

/// The tags of ticket `t` as a JSON array, in PostgreSQL's dialect.
macro_rules! tags_postgres {
    () => {
        "(SELECT COALESCE(json_agg(tag ORDER BY tag), '[]')::text FROM ticket_tags WHERE ticket_id = t.id)"
    };
}

/// The tags of ticket `t` as a JSON array, in SQLite's dialect.
macro_rules! tags_sqlite {
    () => {
        "(SELECT json_group_array(tag) FROM (SELECT tag FROM ticket_tags WHERE ticket_id = t.id ORDER BY tag))"
    };
}

/// The ticket query, for tickets chosen by a `WHERE` that follows, in PostgreSQL's dialect.
pub(crate) const SELECT_TICKETS_POSTGRES: &str = concat!(
    select_tickets_from!(tags_postgres!()),
    "tickets",
    ticket_names!()
);
/// The ticket query, for tickets chosen by a `WHERE` that follows, in SQLite's dialect.
pub(crate) const SELECT_TICKETS_SQLITE: &str = concat!(
    select_tickets_from!(tags_sqlite!()),
    "tickets",
    ticket_names!()
);
/// The ticket query, for the page of tickets (a subquery) that follows, in PostgreSQL's dialect.
const SELECT_PAGE_POSTGRES: &str = select_tickets_from!(tags_postgres!());
/// The ticket query, for the page of tickets (a subquery) that follows, in SQLite's dialect.
const SELECT_PAGE_SQLITE: &str = select_tickets_from!(tags_sqlite!());
/// What a page's subquery keeps of each ticket: what `select_tickets_from!` reads of `t`.
const PAGE_COLUMNS: &str = "t.id, t.number, t.subject, t.status, t.priority, t.category_id, \
    t.requester_id, t.assignee_id, t.source, t.version, t.created_at, t.updated_at, \
    t.first_response_at, t.resolved_at, t.closed_at, t.visitor_id";

#[derive(sqlx::FromRow)]
pub(crate) struct TicketRow {
    id: Uuid,
    number: i64,
    subject: String,
    status: String,
    priority: i16,
    category_id: Option<Uuid>,
    requester_id: Uuid,
    requester_name: String,
    requester_email: String,
    assignee_id: Option<Uuid>,
    assignee_name: Option<String>,
    source: String,
    version: i64,
    created_at: Stamp,
    updated_at: Stamp,
    first_response_at: Option<Stamp>,
    resolved_at: Option<Stamp>,
    closed_at: Option<Stamp>,
    visitor_id: Option<Uuid>,
    /// A JSON array of tag names, sorted.
    tags: String,
}

impl TicketRow {
    pub(crate) fn into_ticket(self) -> Result<Ticket, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Corrupt(format!("ticket {} has {what} {value:?}", self.id))
        };
        let tags: Vec<String> =
            serde_json::from_str(&self.tags).map_err(|_| corrupt("tags", &self.tags))?;
        let status: TicketStatus = self
            .status
            .parse()
            .map_err(|_| corrupt("status", &self.status))?;
        let source: TicketSource = self
            .source
            .parse()
            .map_err(|_| corrupt("source", &self.source))?;
        let priority = Priority::from_rank(self.priority)
            .ok_or_else(|| corrupt("priority", &self.priority.to_string()))?;
        let assignee = match (self.assignee_id, self.assignee_name) {
            (Some(id), Some(name)) => Some(Assignee { id, name }),
            _ => None,
        };
        Ok(Ticket {
            id: self.id,
            number: self.number,
            subject: self.subject,
            status,
            priority,
            category_id: self.category_id,
            requester: Requester {
                id: self.requester_id,
                name: self.requester_name,
                email: self.requester_email,
            },
            assignee_id: self.assignee_id,
            assignee,
            tags,
            source,
            version: self.version,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
            first_response_at: self.first_response_at.map(Into::into),
            resolved_at: self.resolved_at.map(Into::into),
            closed_at: self.closed_at.map(Into::into),
            visitor_id: self.visitor_id,
        })
    }
}

/// A ticket to open, with its first message (the description).
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// A fresh UUIDv7, chosen by the caller so notifications can name the ticket.
    pub id: Uuid,
    pub subject: String,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub source: TicketSource,
    pub tags: Vec<String>,
    /// Who opened it (the requester, or staff on their behalf).
    pub actor_id: Uuid,
    /// The description, authored by the requester.
    pub description: String,
    /// Written with the ticket's own events (notifications about it).
    pub extra_events: Vec<NewEvent>,
    /// The widget visitor who opened it, if it came through the widget.
    pub visitor_id: Option<Uuid>,
    /// Where it came from (page URL, browser), kept in the `created` event.
    pub context: serde_json::Value,
}

/// The changeable state of a ticket, complete: the service reads a ticket, applies the rules,
/// and writes the result back with the version it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    /// `Some` replaces the tag set.
    pub tags: Option<Vec<String>>,
    pub first_response_at: Option<Stamp>,
    pub resolved_at: Option<Stamp>,
    pub closed_at: Option<Stamp>,
}

impl TicketState {
    /// The state of `ticket` as it is, tags unchanged.
    pub fn of(ticket: &Ticket) -> Self {
        Self {
            subject: ticket.subject.clone(),
            status: ticket.status,
            priority: ticket.priority,
            category_id: ticket.category_id,
            assignee_id: ticket.assignee_id,
            tags: None,
            first_response_at: ticket.first_response_at.map(Stamp::from),
            resolved_at: ticket.resolved_at.map(Stamp::from),
            closed_at: ticket.closed_at.map(Stamp::from),
        }
    }
}

/// Which tickets by assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Is(Uuid),
    Unassigned,
}

/// Filters for the ticket list; every one is served by an index.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    /// Any of these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    pub priority: Option<Priority>,
    pub category_id: Option<Uuid>,
    pub assignee: Option<AssigneeFilter>,
    /// Customers are always limited to their own tickets here.
    pub requester_id: Option<Uuid>,
    pub tag: Option<String>,
    /// Search terms; every one must match the subject or one message.
    pub terms: Vec<String>,
    /// Whether internal notes are searched (staff only).
    pub search_internal: bool,
    /// A widget visitor's view: tickets they opened, or of the identity they proved.
    pub visitor: Option<VisitorScope>,
}

/// The tickets a widget visitor may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorScope {
    pub visitor_id: Uuid,
    /// The customer whose identity the visitor proved with an identity hash.
    pub identity_user_id: Option<Uuid>,
}

/// Sort orders of the ticket list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketSort {
    #[default]
    CreatedAt,
    UpdatedAt,
    Priority,
    Number,
}

impl TicketSort {
    fn column(self) -> &'static str {
        match self {
            Self::CreatedAt => "t.created_at",
            Self::UpdatedAt => "t.updated_at",
            Self::Priority => "t.priority",
            Self::Number => "t.number",
        }
    }

    /// The sort value of `ticket`, for the next page's cursor.
    pub fn key_of(self, ticket: &Ticket) -> SortKey {
        match self {
            Self::CreatedAt => SortKey::Time(ticket.created_at.into()),
            Self::UpdatedAt => SortKey::Time(ticket.updated_at.into()),
            Self::Priority => SortKey::Int(i64::from(ticket.priority.rank())),
            Self::Number => SortKey::Int(ticket.number),
        }
    }
}

/// A sort value, as kept in a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Time(Stamp),
    Int(i64),
}

/// Where a ticket page starts: after this sort value and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketCursor {
    pub key: SortKey,
    pub id: Uuid,
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

impl Store {
    /// Opens a ticket with its description as the first message, its tags, and `created` and
    /// `message_created` events, in one transaction.
    ///
    /// # Errors
    /// `MissingReference` for an unknown category or requester.
    pub async fn create_ticket(
        &self,
        new: NewTicket,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        self.create_ticket_with_visitor(new, None, claim).await
    }

    /// As `create_ticket`, recording `new_visitor` (whose id `new.visitor_id` names) in the same
    /// transaction after the claim, so that a retried first widget message finds the first
    /// ticket and leaves no second visitor.
    ///
    /// # Errors
    /// As `create_ticket`.
    pub async fn create_ticket_with_visitor(
        &self,
        new: NewTicket,
        new_visitor: Option<&Visitor>,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Created, StoreError> {
        let id = new.id;
        let message = NewMessage {
            id: Uuid::now_v7(),
            ticket_id: id,
            author_id: new.requester_id,
            body: new.description.clone(),
            internal: false,
        };
        let now = Stamp::now();
        on_backend!(self, pool => {
            let mut tx = pool.begin_with(pick(pool, "BEGIN", "BEGIN IMMEDIATE")).await?;
            claim_or_return!(pool, tx, claim, id, now, Created::Replayed, Created::KeyReused);
            if let Some(visitor) = new_visitor {
                sqlx::query("INSERT INTO visitors (id, widget_id, user_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(visitor.id)
                    .bind(visitor.widget_id)
                    .bind(visitor.user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            let sql = format!(
                "INSERT INTO tickets (id, number, subject, status, priority, category_id, requester_id, source, \
                 created_at, updated_at, visitor_id) VALUES ($1, {}, $2, 'open', $3, $4, $5, $6, $7, $7, $8) RETURNING number",
                pick(pool, postgres::NEXT_TICKET_NUMBER, sqlite::NEXT_TICKET_NUMBER)
            );
            let number: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(&new.subject)
                .bind(new.priority.rank())
                .bind(new.category_id)
                .bind(new.requester_id)
                .bind(new.source.as_str())
                .bind(now)
                .bind(new.visitor_id)
                .fetch_one(&mut *tx)
                .await?;
            insert_tags!(tx, id, &new.tags);
            insert_message!(tx, id, &MessageRecord { message: message.clone(), attachments: Vec::new() }, now);
            let mut events = vec![
                NewEvent::public(id, growdesk_domain::EventKind::Created, Some(new.actor_id), serde_json::json!({
                    "number": number,
                    "subject": new.subject,
                    "priority": new.priority,
                    "category_id": new.category_id,
                    "requester_id": new.requester_id,
                    "source": new.source,
                    "tags": new.tags,
                    "context": new.context,
                })),
                NewEvent::public(id, growdesk_domain::EventKind::MessageCreated, Some(new.requester_id), serde_json::json!({
                    "message_id": message.id,
                })),
            ];
            events.extend(new.extra_events.iter().cloned());
            insert_events!(pool, tx, &events, now);
            tx.commit().await?;
            self.announce_change();
            Ok(Created::New(id))
        })
    }

    /// One ticket with its names and tags.
    ///
    /// # Errors
    /// The database failed.
    pub async fn ticket(&self, id: Uuid) -> Result<Option<Ticket>, StoreError> {
        let row: Option<TicketRow> = on_backend!(self, pool => {
            let sql = format!("{} WHERE t.id = $1", pick(pool, SELECT_TICKETS_POSTGRES, SELECT_TICKETS_SQLITE));
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await
        })?;
        row.map(TicketRow::into_ticket).transpose()
    }

    /// One page of tickets in one query, whatever its size.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list_tickets(
        &self,
        filter: &TicketFilter,
        sort: TicketSort,
        descending: bool,
        after: Option<TicketCursor>,
        limit: u32,
    ) -> Result<Vec<Ticket>, StoreError> {
        let plan = self.search_plan(filter).await?;
        let rows: Vec<TicketRow> = on_backend!(self, pool => {
            let select = pick(pool, SELECT_PAGE_POSTGRES, SELECT_PAGE_SQLITE);
            let mut query = page_query!(pool, select, filter, plan, sort, descending, after, limit);
            // A search is planned with its words (an unnamed statement): how many tickets match
            // decides the plan, and a cached generic plan cannot know it.
            query.build_query_as().persistent(filter.terms.is_empty()).fetch_all(pool).await
        })?;
        rows.into_iter().map(TicketRow::into_ticket).collect()
    }

    /// The database's plan for `list_tickets` with the same arguments, one line per step:
    /// which index serves each filter (`growdesk-bench plans` prints them).
    ///
    /// # Errors
    /// The database failed.
    pub async fn explain_list_tickets(
        &self,
        filter: &TicketFilter,
        sort: TicketSort,
        descending: bool,
        after: Option<TicketCursor>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let plan = self.search_plan(filter).await?;
        let lines: Vec<String> = on_backend!(self, pool => {
            let prefix = pick(pool, format!("EXPLAIN {SELECT_PAGE_POSTGRES}"), format!("EXPLAIN QUERY PLAN {SELECT_PAGE_SQLITE}"));
            let mut query = page_query!(pool, prefix, filter, plan, sort, descending, after, limit);
            // PostgreSQL answers one text column; SQLite (id, parent, notused, detail).
            let detail = pick(pool, 0, 3);
            query
                .build()
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, detail)).collect())
        })?;
        Ok(lines)
    }

    /// How to find the tickets a search matches: by collecting every match when there are
    /// few, by walking the sort order when there are so many that a page is near. One bounded
    /// count through the full-text indexes decides.
    async fn search_plan(&self, filter: &TicketFilter) -> Result<SearchPlan, StoreError> {
        if filter.terms.is_empty() {
            return Ok(SearchPlan::Collect);
        }
        let collect_limit = self.search_collect_limit.unwrap_or(with_pool!(self, pool =>
            pick(pool, &postgres::TICKET_SEARCH, &sqlite::TICKET_SEARCH).collect_limit));
        let hits: i64 = on_backend!(self, pool => {
            let terms = pick(pool, postgres::search_query(&filter.terms), sqlite::search_query(&filter.terms));
            let search = pick(pool, &postgres::TICKET_SEARCH, &sqlite::TICKET_SEARCH);
            let mut query = QueryBuilder::new("SELECT COUNT(*) FROM (");
            push_around!(query, search.subject_hit_rows, terms.clone());
            query.push(" UNION ALL ");
            push_around!(query, search.body_hit_rows, terms);
            query.push(" LIMIT ").push_bind(collect_limit + 1).push(") hits");
            query.build_query_scalar().persistent(false).fetch_one(pool).await
        })?;
        Ok(if hits > collect_limit {
            SearchPlan::Walk
        } else {
            SearchPlan::Collect
        })
    }

    /// Deletes a ticket with its messages, attachments and tags, leaving a `deleted` event.
    /// Whether it existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete_ticket(&self, id: Uuid, actor: Uuid) -> Result<bool, StoreError> {
        let now = Stamp::now();
        on_backend!(self, pool => {
            let mut tx = pool.begin_with(pick(pool, "BEGIN", "BEGIN IMMEDIATE")).await?;
            let deleted = sqlx::query("DELETE FROM tickets WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
            if deleted == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            let events = [NewEvent::public(id, growdesk_domain::EventKind::Deleted, Some(actor), serde_json::json!({}))];
            insert_events!(pool, tx, &events, now);
            tx.commit().await?;
            self.announce_change();
            Ok(true)
        })
    }

    /// The dashboard's counts, for staff member `viewer`, with days and medians counted from
    /// `since` (a UTC midnight). The counts come from the counter tables the ticket triggers
    /// keep (migration 0010), so they cost the same at any number of tickets.
    ///
    /// # Errors
    /// The database failed.
    pub async fn ticket_stats(
        &self,
        viewer: Uuid,
        since: Stamp,
    ) -> Result<TicketStats, StoreError> {
        let counts: Vec<(String, i16, Uuid, i64)> = on_backend!(self, pool => sqlx::query_as(
                "SELECT status, priority, assignee_key, tickets FROM ticket_counts WHERE tickets <> 0")
            .fetch_all(pool)
            .await)?;
        let first_day = since.into_inner().date().to_string();
        let created_per_day: Vec<(String, i64)> = on_backend!(self, pool => sqlx::query_as(
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
        on_backend!(self, pool => {
            let count_sql = format!("SELECT COUNT(*) FROM tickets WHERE created_at >= $1 AND {column} IS NOT NULL");
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)).bind(since).fetch_one(pool).await?;
            if count == 0 {
                return Ok(None);
            }
            let seconds = pick(pool, postgres::seconds_between("created_at", column), sqlite::seconds_between("created_at", column));
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
