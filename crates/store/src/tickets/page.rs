//! The ticket list: filters, sort orders and keyset pagination, as one query per page, and the
//! plan a search takes.

use growdesk_domain::{Priority, Ticket, TicketStatus};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

use crate::dialect::{Around, Dialect};
use crate::tickets::reads::{READ_MARK, UNREAD, UNREAD_END};
use crate::tickets::{TICKET_COLUMNS, TICKET_NAMES, TicketRow, Tickets};
use crate::{Stamp, StoreError, on_backend};

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
    /// The staff member whose read marks say which tickets are unread (`Ticket::unread`);
    /// not a filter.
    pub reader: Option<Uuid>,
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

/// How a search finds its tickets (see `Tickets::search_plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchPlan {
    /// Few matches: list them through the full-text indexes, then filter and sort them.
    Collect,
    /// Many matches: walk the sort order's index and test each ticket until the page is full.
    Walk,
}

/// One page of the ticket list as asked for.
struct TicketPage<'a> {
    filter: &'a TicketFilter,
    plan: SearchPlan,
    sort: TicketSort,
    descending: bool,
    after: Option<TicketCursor>,
    limit: u32,
}

impl TicketPage<'_> {
    /// The page's query after `prefix` (the page's SELECT, or an EXPLAIN of it), so that the
    /// benchmarks' query plans are those of the real query. The page is chosen from the
    /// tickets alone, then joined to names, tags and, for a reader, their read marks: a filter
    /// that passes over many tickets (a tag, a search walk) does not look up two users for each
    /// of them.
    fn query<DB>(&self, prefix: String) -> QueryBuilder<DB>
    where
        DB: Dialect,
        for<'q, 'a> &'a str: Encode<'q, DB> + Type<DB>,
        for<'q> String: Encode<'q, DB> + Type<DB>,
        for<'q> i16: Encode<'q, DB> + Type<DB>,
        for<'q> i64: Encode<'q, DB> + Type<DB>,
        for<'q> Uuid: Encode<'q, DB> + Type<DB>,
        for<'q> Stamp: Encode<'q, DB> + Type<DB>,
    {
        let filter = self.filter;
        let mut query = QueryBuilder::new(prefix);
        if let Some(reader) = filter.reader {
            query
                .push(", ")
                .push(UNREAD)
                .push_bind(reader)
                .push(UNREAD_END)
                .push(" AS unread");
        }
        query.push(format!(
            " FROM (SELECT {PAGE_COLUMNS} FROM tickets t WHERE TRUE"
        ));
        if !filter.statuses.is_empty() {
            query.push(" AND t.status IN (");
            let mut statuses = query.separated(", ");
            for status in &filter.statuses {
                statuses.push_bind(status.as_str());
            }
            query.push(")");
        }
        if let Some(priority) = filter.priority {
            query.push(" AND t.priority = ").push_bind(priority.rank());
        }
        if let Some(category) = filter.category_id {
            query.push(" AND t.category_id = ").push_bind(category);
        }
        match filter.assignee {
            Some(AssigneeFilter::Is(assignee)) => {
                query.push(" AND t.assignee_id = ").push_bind(assignee);
            }
            Some(AssigneeFilter::Unassigned) => {
                query.push(" AND t.assignee_id IS NULL");
            }
            None => {}
        }
        if let Some(requester) = filter.requester_id {
            query.push(" AND t.requester_id = ").push_bind(requester);
        }
        if let Some(scope) = filter.visitor {
            query
                .push(" AND (t.visitor_id = ")
                .push_bind(scope.visitor_id);
            if let Some(identity) = scope.identity_user_id {
                query.push(" OR t.requester_id = ").push_bind(identity);
            }
            query.push(")");
        }
        if let Some(tag) = &filter.tag {
            query
                .push(" AND EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = ")
                .push_bind(tag.as_str())
                .push(")");
        }
        if !filter.terms.is_empty() {
            self.push_search(&mut query);
        }
        let column = self.sort.column();
        let (before, order) = if self.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(cursor) = self.after {
            // A row-value comparison, not `a < x OR (a = x AND id < y)`: both databases seek
            // the (column, id) index to it, where the OR form made SQLite scan from the top.
            query.push(format!(" AND ({column}, t.id) {before} ("));
            match cursor.key {
                SortKey::Time(stamp) => query.push_bind(stamp),
                SortKey::Int(value) => query.push_bind(value),
            };
            query.push(", ").push_bind(cursor.id).push(")");
        }
        // The page size is written into the statement: bound, PostgreSQL's generic plan of a
        // cached statement cannot know the page is small, and chose plans that read every match.
        let limit = self.limit;
        query.push(format!(
            " ORDER BY {column} {order}, t.id {order} LIMIT {limit})"
        ));
        query.push(TICKET_NAMES);
        if let Some(reader) = filter.reader {
            query.push(READ_MARK).push_bind(reader);
        }
        query.push(format!(" ORDER BY {column} {order}, t.id {order}"));
        query
    }

    /// Limits the page to the tickets the search's terms match, as its plan says.
    fn push_search<DB>(&self, query: &mut QueryBuilder<DB>)
    where
        DB: Dialect,
        for<'q> String: Encode<'q, DB> + Type<DB>,
    {
        let filter = self.filter;
        let terms = DB::search_query(&filter.terms);
        let search = &DB::TICKET_SEARCH;
        let public_only = if filter.search_internal {
            ""
        } else {
            " AND m.internal = FALSE"
        };
        match self.plan {
            SearchPlan::Collect => {
                query.push(search.in_collected.before);
                push_around(query, &search.subject_hits, terms.clone());
                query.push(" UNION ");
                push_around(query, &search.body_hits, terms);
                query.push(public_only).push(search.in_collected.after);
            }
            SearchPlan::Walk => {
                query.push(" AND (");
                push_around(query, &search.subject_matches_row, terms.clone());
                query
                    .push(" OR EXISTS (")
                    .push(search.ticket_messages)
                    .push(public_only);
                push_around(query, &search.body_matches_row, terms);
                query.push(search.ticket_messages_end).push("))");
            }
        }
    }
}

/// Pushes `value`, bound, with the SQL `around` it.
fn push_around<DB, T>(query: &mut QueryBuilder<DB>, around: &Around, value: T)
where
    DB: Database,
    for<'q> T: Encode<'q, DB> + Type<DB>,
{
    query
        .push(around.before)
        .push_bind(value)
        .push(around.after);
}

/// What a page's subquery keeps of each ticket: what the ticket query reads of `t`.
const PAGE_COLUMNS: &str = "t.id, t.number, t.subject, t.status, t.priority, t.category_id, \
    t.requester_id, t.assignee_id, t.source, t.version, t.created_at, t.updated_at, \
    t.first_response_at, t.resolved_at, t.closed_at, t.visitor_id, t.mailbox_id";

/// The ticket query's columns up to its tags, for the page of tickets (a subquery) that
/// follows.
fn select_page<DB: Dialect>(explain: &str) -> String {
    [explain, TICKET_COLUMNS, DB::TICKET_TAGS, " AS tags"].concat()
}

impl Tickets<'_> {
    /// One page of tickets in one query, whatever its size.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        filter: &TicketFilter,
        sort: TicketSort,
        descending: bool,
        after: Option<TicketCursor>,
        limit: u32,
    ) -> Result<Vec<Ticket>, StoreError> {
        let page = TicketPage {
            filter,
            plan: self.search_plan(filter).await?,
            sort,
            descending,
            after,
            limit,
        };
        let rows: Vec<TicketRow> = on_backend!(self.store, pool, Db => {
            let mut query = page.query::<Db>(select_page::<Db>(""));
            // A search is planned with its words (an unnamed statement): how many tickets match
            // decides the plan, and a cached generic plan cannot know it.
            query.build_query_as().persistent(filter.terms.is_empty()).fetch_all(pool).await
        })?;
        rows.into_iter().map(TicketRow::into_ticket).collect()
    }

    /// The database's plan for `list` with the same arguments, one line per step:
    /// which index serves each filter (`growdesk-bench plans` prints them).
    ///
    /// # Errors
    /// The database failed.
    pub async fn explain_list(
        &self,
        filter: &TicketFilter,
        sort: TicketSort,
        descending: bool,
        after: Option<TicketCursor>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let page = TicketPage {
            filter,
            plan: self.search_plan(filter).await?,
            sort,
            descending,
            after,
            limit,
        };
        let lines: Vec<String> = on_backend!(self.store, pool, Db => {
            let mut query = page.query::<Db>(select_page::<Db>(Db::EXPLAIN));
            query
                .build()
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(|row| sqlx::Row::try_get::<String, _>(row, Db::EXPLAIN_DETAIL)).collect())
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
        let hits_past_limit: bool = on_backend!(self.store, pool, Db => {
            let collect_limit = self.store.search_collect_limit.unwrap_or(Db::TICKET_SEARCH.collect_limit);
            let terms = Db::search_query(&filter.terms);
            let search = &Db::TICKET_SEARCH;
            let mut query = QueryBuilder::new("SELECT COUNT(*) FROM (");
            push_around(&mut query, &search.subject_hit_rows, terms.clone());
            query.push(" UNION ALL ");
            push_around(&mut query, &search.body_hit_rows, terms);
            query.push(" LIMIT ").push_bind(collect_limit + 1).push(") hits");
            query
                .build_query_scalar()
                .persistent(false)
                .fetch_one(pool)
                .await
                .map(|hits: i64| hits > collect_limit)
        })?;
        Ok(if hits_past_limit {
            SearchPlan::Walk
        } else {
            SearchPlan::Collect
        })
    }
}
