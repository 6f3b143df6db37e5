//! `import zendesk`: Zendesk Support API v2 data, from a directory of API responses or by
//! pulling a Zendesk-compatible API with its cursor-based incremental ticket export.
//!
//! Mapping: users by email (`end-user` → customer, `agent`/`admin` kept), statuses `new`/`open`
//! → open, `pending`/`hold` → pending, `solved` → resolved, `closed` → closed; priorities as
//! named (none → medium); public comments → replies, private ones → internal notes; the first
//! comment (or the description) opens the conversation; original ids, status, channel and
//! custom fields are kept in the ticket's `created` event.
//!
//! Directory layout: `users*.json` (`{"users": […]}`), `tickets*.json` (`{"tickets": […]}`, the
//! list or incremental format), and `comments/<ticket id>.json` (`{"comments": […]}`).

use std::collections::HashMap;

use growdesk_domain::{
    Email, MessageBody, MessageChannel, PersonName, Priority, Role, Subject, Tags, TicketSource,
    TicketStatus,
};
use growdesk_service::imports::Import;
use growdesk_store::redact::redact_url;
use growdesk_store::{
    Stamp, Store,
    imports::{ImportedMessage, ImportedTicket, ImportedUser, RecordKind},
};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::importers::Report;
use crate::importers::http::{ApiClient, saved_page, saved_pages};
use crate::importers::text::{html_to_text, subject_from};

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ZendeskUser {
    pub(crate) id: i64,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) role: String,
    #[serde(default = "yes")]
    pub(crate) active: bool,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) created_at: Option<OffsetDateTime>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ZendeskComment {
    /// A number from Zendesk; a string for the description standing in for missing comments.
    pub(crate) id: Value,
    pub(crate) author_id: i64,
    #[serde(default)]
    pub(crate) body: String,
    /// The comment as HTML, read when `body` is empty.
    #[serde(default)]
    pub(crate) html_body: String,
    #[serde(default = "yes")]
    pub(crate) public: bool,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) created_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ZendeskTicket {
    pub(crate) id: i64,
    pub(crate) subject: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) priority: Option<String>,
    pub(crate) requester_id: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub(crate) updated_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub(crate) via: Value,
    #[serde(default)]
    pub(crate) custom_fields: Value,
}

/// The incremental ticket export, without deleted tickets (which it lists by default, with the
/// status `deleted`).
const INCREMENTAL_TICKETS: &str = "/api/v2/incremental/tickets/cursor.json?exclude_deleted=true";

/// Where Zendesk records come from.
pub(crate) enum Origin {
    Files(std::path::PathBuf),
    Api(ApiClient),
}

impl Origin {
    /// Every page of a list resource, following `next_page` / `links.next`.
    async fn pages(api: &ApiClient, first: String, key: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let page = api.get(&url).await?;
            items.extend(page[key].as_array().cloned().unwrap_or_default());
            let has_more = page["meta"]["has_more"].as_bool().unwrap_or(true);
            next = page["links"]["next"]
                .as_str()
                .or(page["next_page"].as_str())
                .filter(|_| has_more)
                .map(str::to_owned);
            if next.as_deref() == Some(url.as_str()) {
                anyhow::bail!("{} names itself as the next page", redact_url(&url));
            }
        }
        Ok(items)
    }

    async fn users(&self) -> anyhow::Result<Vec<Value>> {
        match self {
            Origin::Files(dir) => saved_pages(dir, "users", Some("users")),
            Origin::Api(api) => {
                // Cursor pagination: offset pages stop at the 100th (10,000 users).
                Self::pages(
                    api,
                    format!("{}/api/v2/users.json?page[size]=100", api.base),
                    "users",
                )
                .await
            }
        }
    }

    async fn comments(&self, ticket: i64) -> anyhow::Result<Option<Vec<Value>>> {
        match self {
            Origin::Files(dir) => {
                let file = dir.join("comments").join(format!("{ticket}.json"));
                if !file.exists() {
                    return Ok(None);
                }
                let page = saved_page(&file)?;
                Ok(Some(
                    page["comments"].as_array().cloned().unwrap_or_default(),
                ))
            }
            Origin::Api(api) => Ok(Some(
                Self::pages(
                    api,
                    format!(
                        "{}/api/v2/tickets/{ticket}/comments.json?page[size]=100",
                        api.base
                    ),
                    "comments",
                )
                .await?,
            )),
        }
    }
}

fn status_of(status: Option<&str>) -> TicketStatus {
    match status.unwrap_or("open") {
        "pending" | "hold" => TicketStatus::Pending,
        "solved" => TicketStatus::Resolved,
        "closed" => TicketStatus::Closed,
        _ => TicketStatus::Open,
    }
}

fn priority_of(priority: Option<&str>) -> Priority {
    match priority.unwrap_or("normal") {
        "low" => Priority::Low,
        "high" => Priority::High,
        "urgent" => Priority::Urgent,
        _ => Priority::Medium,
    }
}

fn role_of(role: &str) -> Role {
    match role {
        "admin" => Role::Admin,
        "agent" => Role::Agent,
        _ => Role::Customer,
    }
}

struct Importer {
    target: Import,
    source: String,
    report: Report,
    /// Zendesk user id → local user id.
    users: HashMap<i64, uuid::Uuid>,
}

impl Importer {
    async fn user(&mut self, value: Value, index: usize) -> anyhow::Result<()> {
        let user: ZendeskUser = match serde_json::from_value(value) {
            Ok(user) => user,
            Err(error) => {
                self.report
                    .refuse(format!("user {}", index + 1), error.to_string());
                return Ok(());
            }
        };
        let position = format!("user {}", user.id);
        let email = user
            .email
            .clone()
            .unwrap_or_else(|| format!("zendesk-{}@import.invalid", user.id));
        let Ok(email) = Email::parse(&email) else {
            self.report
                .refuse(position, format!("email {email:?} is not an address"));
            return Ok(());
        };
        let name = user
            .name
            .as_deref()
            .and_then(|name| PersonName::parse(name).ok())
            .unwrap_or_else(|| PersonName::from_email(&email));
        let imported = ImportedUser {
            external_id: user.id.to_string(),
            preferred_id: None,
            email: email.into_inner(),
            name: name.into_inner(),
            role: role_of(&user.role),
            active: user.active,
            password_hash: None,
            created_at: user.created_at.map_or_else(Stamp::now, Stamp::from),
        };
        let outcome = self.target.user(&self.source, &imported).await?;
        self.users.insert(user.id, outcome.id());
        self.report.record(outcome);
        Ok(())
    }

    /// A local user for a Zendesk id this import has not seen (a deleted user, say): an
    /// inactive one, in `role`.
    async fn stand_in(&mut self, id: i64, role: Role) -> anyhow::Result<uuid::Uuid> {
        if let Some(local) = self.users.get(&id) {
            return Ok(*local);
        }
        if let Some(local) = self
            .target
            .local_id(&self.source, RecordKind::User, &id.to_string())
            .await?
        {
            self.users.insert(id, local);
            return Ok(local);
        }
        let email = format!("zendesk-{id}@import.invalid");
        let user = ImportedUser {
            external_id: id.to_string(),
            preferred_id: None,
            email: email.clone(),
            name: format!("Zendesk user {id}"),
            role,
            active: false,
            password_hash: None,
            created_at: Stamp::now(),
        };
        let outcome = self.target.user(&self.source, &user).await?;
        self.report.record(outcome);
        self.users.insert(id, outcome.id());
        Ok(outcome.id())
    }

    async fn ticket(&mut self, origin: &Origin, value: Value) -> anyhow::Result<()> {
        let raw = value.clone();
        let ticket: ZendeskTicket = match serde_json::from_value(value) {
            Ok(ticket) => ticket,
            Err(error) => {
                let id = raw["id"]
                    .as_i64()
                    .map_or_else(|| "?".to_owned(), |id| id.to_string());
                self.report
                    .refuse(format!("ticket {id}"), error.to_string());
                return Ok(());
            }
        };
        let position = format!("ticket {}", ticket.id);
        if ticket.status.as_deref() == Some("deleted") {
            self.report.refuse(position, "deleted in Zendesk");
            return Ok(());
        }
        let subject = ticket
            .subject
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| ticket.description.as_deref().and_then(subject_from))
            .unwrap_or_else(|| format!("Zendesk ticket {}", ticket.id));
        let subject: String = subject.chars().take(Subject::MAX_LEN).collect();
        let subject = match Subject::parse(&subject.replace(['\n', '\r'], " ")) {
            Ok(subject) => subject.into_inner(),
            Err(error) => {
                self.report.refuse(position, format!("subject {error}"));
                return Ok(());
            }
        };
        let tags = Tags::parse(
            &ticket
                .tags
                .iter()
                .map(|tag| tag.replace(' ', "-"))
                .collect::<Vec<_>>(),
        )
        .map(Tags::into_inner)
        .unwrap_or_default();
        let comments = match origin.comments(ticket.id).await? {
            Some(comments) if !comments.is_empty() => comments,
            _ => vec![serde_json::json!({
                "id": format!("{}-description", ticket.id),
                "author_id": ticket.requester_id,
                "body": ticket.description,
                "public": true,
                "created_at": raw["created_at"],
            })],
        };
        let Some(requester) = ticket.requester_id else {
            self.report.refuse(position, "no requester");
            return Ok(());
        };
        let requester_id = self.stand_in(requester, Role::Customer).await?;
        let assignee_id = match ticket.assignee_id {
            Some(assignee) => {
                let assignee = self.stand_in(assignee, Role::Agent).await?;
                self.target.assignee(assignee).await?
            }
            None => None,
        };
        let created_at = ticket.created_at.map_or_else(Stamp::now, Stamp::from);
        let mut messages = Vec::new();
        for comment in comments {
            let external_id = comment["id"].to_string();
            let comment: ZendeskComment = match serde_json::from_value(comment) {
                Ok(comment) => comment,
                Err(error) => {
                    self.report.refuse(
                        format!("{position} comment {external_id}"),
                        error.to_string(),
                    );
                    continue;
                }
            };
            let text = if comment.body.trim().is_empty() {
                html_to_text(&comment.html_body)
            } else {
                comment.body
            };
            let body = match MessageBody::parse(&text) {
                Ok(body) => body,
                Err(error) => {
                    self.report.refuse(
                        format!("{position} comment {external_id}"),
                        format!("body {error}"),
                    );
                    continue;
                }
            };
            let external_id = comment
                .id
                .as_str()
                .map_or_else(|| comment.id.to_string(), str::to_owned);
            // Private comments are staff notes; a public one's unknown author is taken for
            // the customer.
            let stand_in_role = if comment.public {
                Role::Customer
            } else {
                Role::Agent
            };
            messages.push(ImportedMessage {
                external_id,
                preferred_id: None,
                author_id: self.stand_in(comment.author_id, stand_in_role).await?,
                body: body.into_inner(),
                internal: !comment.public,
                created_at: comment.created_at.map_or(created_at, Stamp::from),
                attachments: Vec::new(),
                channel: MessageChannel::Import,
            });
        }
        let status = status_of(ticket.status.as_deref());
        let updated_at = ticket.updated_at.map_or(created_at, Stamp::from);
        let imported = ImportedTicket {
            external_id: ticket.id.to_string(),
            preferred_id: None,
            preferred_number: None,
            subject,
            status,
            priority: priority_of(ticket.priority.as_deref()),
            category_id: None,
            requester_id,
            assignee_id,
            tags,
            source: TicketSource::Import,
            created_at,
            updated_at,
            first_response_at: None,
            resolved_at: status.is_done().then_some(updated_at),
            closed_at: (status == TicketStatus::Closed).then_some(updated_at),
            messages,
            original: serde_json::json!({"id": ticket.id, "status": ticket.status, "priority": ticket.priority, "via": ticket.via, "custom_fields": ticket.custom_fields}),
        };
        let stored = self.target.ticket(&self.source, &imported).await;
        Ok(self.report.settle(position, stored)?)
    }
}

/// Imports users, then tickets with their comments, from `origin`. From an API, tickets come
/// from the incremental export, resumed from the cursor the last run stored.
///
/// # Errors
/// The source cannot be read or the database fails; bad records are reported.
pub(crate) async fn import(
    store: &Store,
    origin: &Origin,
    source: &str,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let mut importer = Importer {
        target: Import::new(store.clone(), dry_run),
        source: source.to_owned(),
        report: Report::new(source, dry_run),
        users: HashMap::new(),
    };
    for (index, user) in origin.users().await?.into_iter().enumerate() {
        importer.user(user, index).await?;
    }
    match origin {
        Origin::Files(dir) => {
            for ticket in saved_pages(dir, "tickets", Some("tickets"))? {
                importer.ticket(origin, ticket).await?;
            }
        }
        Origin::Api(api) => {
            let base = &api.base;
            let cursor = importer.target.cursor(source).await?;
            let mut url = match cursor {
                Some(cursor) => format!("{base}{INCREMENTAL_TICKETS}&cursor={cursor}"),
                None => format!("{base}{INCREMENTAL_TICKETS}&start_time=0"),
            };
            loop {
                let page = api.get(&url).await?;
                for ticket in page["tickets"].as_array().cloned().unwrap_or_default() {
                    importer.ticket(origin, ticket).await?;
                }
                let Some(next) = page["after_cursor"].as_str() else {
                    break;
                };
                // Everything up to here is in: a crash after this resumes from the next page.
                importer.target.set_cursor(source, next).await?;
                if page["end_of_stream"].as_bool().unwrap_or(true) {
                    break;
                }
                let next_url = format!("{base}{INCREMENTAL_TICKETS}&cursor={next}");
                if next_url == url {
                    anyhow::bail!("{} names itself as the next page", redact_url(&url));
                }
                url = next_url;
            }
        }
    }
    Ok(importer.report)
}
