//! `import freshdesk`: Freshdesk API v2 data, from a directory of API responses or by pulling
//! the API (page by page, tickets by `updated_since` from the stored cursor).
//!
//! Mapping: contacts → customers and agents → agents, by email; statuses 2 open, 3 pending,
//! 4 resolved, 5 closed (others, custom ones, → open); priorities 1 low … 4 urgent; private
//! conversations → internal notes; the description opens the conversation (its HTML made plain
//! text when the text version is missing, as for conversations); the original id,
//! status, priority, source (1 email, 2 portal, 3 phone, 7 chat, 9 feedback widget, 10 outbound
//! email) and custom fields are kept in the ticket's `created` event.
//!
//! Directory layout: `contacts*.json`, `agents*.json`, `tickets*.json` (arrays, as the API
//! answers), and `conversations*.json` (arrays of conversations with their `ticket_id`).

use std::collections::HashMap;

use growdesk_domain::{
    Email, MessageBody, MessageChannel, PersonName, Priority, Role, Subject, Tags, TicketSource,
    TicketStatus,
};
use growdesk_service::imports::Import;
use growdesk_store::{
    Stamp, Store,
    imports::{ImportedMessage, ImportedTicket, ImportedUser, RecordKind},
};

use crate::importers::text::{html_to_text, subject_from};
use serde_json::Value;
use time::OffsetDateTime;

use crate::importers::Report;
use crate::importers::http::{ApiClient, saved_pages};

/// Records per API page.
const PER_PAGE: u32 = 100;

/// Where Freshdesk records come from.
pub(crate) enum Origin {
    Files(std::path::PathBuf),
    Api(ApiClient),
}

/// Every page of an array resource: `?page=1, 2, …` until a short page.
async fn pages(api: &ApiClient, path: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let separator = if path.contains('?') { '&' } else { '?' };
    for page in 1.. {
        let url = format!(
            "{}{path}{separator}page={page}&per_page={PER_PAGE}",
            api.base
        );
        let batch = api.get(&url).await?.as_array().cloned().unwrap_or_default();
        let done = batch.len() < PER_PAGE as usize;
        items.extend(batch);
        if done {
            break;
        }
    }
    Ok(items)
}

fn time_of(value: &Value) -> Option<Stamp> {
    let text = value.as_str()?;
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(Stamp::checked)
}

fn status_of(code: Option<i64>) -> TicketStatus {
    match code {
        Some(3) => TicketStatus::Pending,
        Some(4) => TicketStatus::Resolved,
        Some(5) => TicketStatus::Closed,
        _ => TicketStatus::Open,
    }
}

fn priority_of(code: Option<i64>) -> Priority {
    match code {
        Some(1) => Priority::Low,
        Some(3) => Priority::High,
        Some(4) => Priority::Urgent,
        _ => Priority::Medium,
    }
}

/// A record's text: its plain-text field, else its HTML field made plain text.
fn text_of(record: &Value, text: &str, html: &str) -> String {
    match record[text].as_str().filter(|text| !text.trim().is_empty()) {
        Some(text) => text.to_owned(),
        None => record[html].as_str().map(html_to_text).unwrap_or_default(),
    }
}

struct Importer {
    target: Import,
    source: String,
    report: Report,
    /// `contact:<id>` or `agent:<id>` (Freshdesk numbers the two apart) → local user.
    users: HashMap<String, uuid::Uuid>,
}

impl Importer {
    async fn person(
        &mut self,
        key: String,
        email: Option<&str>,
        name: Option<&str>,
        role: Role,
    ) -> anyhow::Result<()> {
        let position = key.replace(':', " ");
        let email = email.map_or_else(
            || format!("freshdesk-{}@import.invalid", key.replace(':', "-")),
            str::to_owned,
        );
        let Ok(email) = Email::parse(&email) else {
            self.report
                .refuse(position, format!("email {email:?} is not an address"));
            return Ok(());
        };
        let name = name
            .and_then(|name| PersonName::parse(name).ok())
            .unwrap_or_else(|| PersonName::from_email(&email));
        let user = ImportedUser {
            external_id: key.clone(),
            preferred_id: None,
            email: email.into_inner(),
            name: name.into_inner(),
            role,
            active: true,
            password_hash: None,
            created_at: Stamp::now(),
        };
        let outcome = self.target.user(&self.source, &user).await?;
        self.users.insert(key, outcome.id());
        self.report.record(outcome);
        Ok(())
    }

    /// The local user for a Freshdesk contact or agent (the first of `keys` known), or an
    /// inactive stand-in for one the data mentions but does not list (or listed and refused):
    /// staff for an `agent:` key, so that an assignee is never a customer.
    async fn user_for(&mut self, keys: &[String]) -> anyhow::Result<uuid::Uuid> {
        for key in keys {
            if let Some(local) = self.users.get(key) {
                return Ok(*local);
            }
            if let Some(local) = self
                .target
                .local_id(&self.source, RecordKind::User, key)
                .await?
            {
                self.users.insert(key.clone(), local);
                return Ok(local);
            }
        }
        let key = keys.first().cloned().unwrap_or_default();
        let user = ImportedUser {
            external_id: key.clone(),
            preferred_id: None,
            email: format!("freshdesk-{}@import.invalid", key.replace(':', "-")),
            name: format!("Freshdesk {}", key.replace(':', " ")),
            role: if key.starts_with("agent:") {
                Role::Agent
            } else {
                Role::Customer
            },
            active: false,
            password_hash: None,
            created_at: Stamp::now(),
        };
        let outcome = self.target.user(&self.source, &user).await?;
        self.report.record(outcome);
        self.users.insert(key, outcome.id());
        Ok(outcome.id())
    }

    async fn ticket(&mut self, ticket: &Value, conversations: &[Value]) -> anyhow::Result<()> {
        let Some(id) = ticket["id"].as_i64() else {
            self.report.refuse("ticket ?".to_owned(), "no numeric id");
            return Ok(());
        };
        let position = format!("ticket {id}");
        let description = text_of(ticket, "description_text", "description");
        let subject = ticket["subject"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| subject_from(&description))
            .unwrap_or_else(|| format!("Freshdesk ticket {id}"));
        let subject: String = subject
            .replace(['\n', '\r'], " ")
            .chars()
            .take(Subject::MAX_LEN)
            .collect();
        let Ok(subject) = Subject::parse(&subject) else {
            self.report.refuse(position, "subject is empty");
            return Ok(());
        };
        let Some(requester) = ticket["requester_id"].as_i64() else {
            self.report.refuse(position, "no requester");
            return Ok(());
        };
        let requester_id = self.user_for(&[format!("contact:{requester}")]).await?;
        let assignee_id = match ticket["responder_id"].as_i64() {
            Some(agent) => {
                let agent = self.user_for(&[format!("agent:{agent}")]).await?;
                self.target.assignee(agent).await?
            }
            None => None,
        };
        let created_at = time_of(&ticket["created_at"]).unwrap_or_else(Stamp::now);
        let updated_at = time_of(&ticket["updated_at"]).unwrap_or(created_at);
        let mut messages = Vec::new();
        if let Ok(body) = MessageBody::parse(&description) {
            messages.push(ImportedMessage {
                external_id: format!("{id}-description"),
                preferred_id: None,
                author_id: requester_id,
                body: body.into_inner(),
                internal: false,
                created_at,
                attachments: Vec::new(),
                channel: MessageChannel::Import,
            });
        }
        for conversation in conversations {
            let Some(conversation_id) = conversation["id"].as_i64() else {
                self.report
                    .refuse(format!("{position} conversation ?"), "no numeric id");
                continue;
            };
            let body = match MessageBody::parse(&text_of(conversation, "body_text", "body")) {
                Ok(body) => body,
                Err(error) => {
                    self.report.refuse(
                        format!("{position} conversation {conversation_id}"),
                        format!("body {error}"),
                    );
                    continue;
                }
            };
            let author = conversation["user_id"].as_i64().unwrap_or(requester);
            // Freshdesk numbers agents and contacts apart: the conversation's direction says
            // which to try first (and what a stand-in is).
            let (agent, contact) = (format!("agent:{author}"), format!("contact:{author}"));
            let keys = if conversation["incoming"].as_bool().unwrap_or(false) {
                [contact, agent]
            } else {
                [agent, contact]
            };
            let author_id = self.user_for(&keys).await?;
            messages.push(ImportedMessage {
                external_id: conversation_id.to_string(),
                preferred_id: None,
                author_id,
                body: body.into_inner(),
                internal: conversation["private"].as_bool().unwrap_or(false),
                created_at: time_of(&conversation["created_at"]).unwrap_or(updated_at),
                attachments: Vec::new(),
                channel: MessageChannel::Import,
            });
        }
        let status = status_of(ticket["status"].as_i64());
        let tags: Vec<String> = ticket["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .map(|t| t.replace(' ', "-"))
                    .collect()
            })
            .unwrap_or_default();
        let imported = ImportedTicket {
            external_id: id.to_string(),
            preferred_id: None,
            preferred_number: None,
            subject: subject.into_inner(),
            status,
            priority: priority_of(ticket["priority"].as_i64()),
            category_id: None,
            requester_id,
            assignee_id,
            tags: Tags::parse(&tags).map(Tags::into_inner).unwrap_or_default(),
            source: TicketSource::Import,
            created_at,
            updated_at,
            first_response_at: None,
            resolved_at: status.is_done().then_some(updated_at),
            closed_at: (status == TicketStatus::Closed).then_some(updated_at),
            messages,
            original: serde_json::json!({
                "id": id,
                "status": ticket["status"],
                "priority": ticket["priority"],
                "source": ticket["source"],
                "type": ticket["type"],
                "custom_fields": ticket["custom_fields"],
            }),
        };
        let stored = self.target.ticket(&self.source, &imported).await;
        Ok(self.report.settle(position, stored)?)
    }
}

/// Imports contacts and agents, then tickets with their conversations. From the API, tickets
/// updated since the stored cursor are read, and the cursor moves on as they go in.
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
    let (contacts, agents) = match origin {
        Origin::Files(dir) => (
            saved_pages(dir, "contacts", None)?,
            saved_pages(dir, "agents", None)?,
        ),
        Origin::Api(api) => (
            pages(api, "/api/v2/contacts").await?,
            pages(api, "/api/v2/agents").await?,
        ),
    };
    for contact in contacts {
        let key = format!("contact:{}", contact["id"]);
        importer
            .person(
                key,
                contact["email"].as_str(),
                contact["name"].as_str(),
                Role::Customer,
            )
            .await?;
    }
    for agent in agents {
        let key = format!("agent:{}", agent["id"]);
        let contact = &agent["contact"];
        importer
            .person(
                key,
                contact["email"].as_str(),
                contact["name"].as_str(),
                Role::Agent,
            )
            .await?;
    }
    match origin {
        Origin::Files(dir) => {
            let conversations = saved_pages(dir, "conversations", None)?;
            for ticket in saved_pages(dir, "tickets", None)? {
                let own: Vec<Value> = conversations
                    .iter()
                    .filter(|c| c["ticket_id"] == ticket["id"])
                    .cloned()
                    .collect();
                importer.ticket(&ticket, &own).await?;
            }
        }
        Origin::Api(api) => {
            let since = importer
                .target
                .cursor(source)
                .await?
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
            // The list leaves out each ticket's description unless asked to include it.
            let tickets = pages(
                api,
                &format!(
                    "/api/v2/tickets?updated_since={since}&order_by=updated_at&order_type=asc&include=description"
                ),
            )
            .await?;
            for ticket in tickets {
                let id = ticket["id"].as_i64().unwrap_or_default();
                let conversations =
                    pages(api, &format!("/api/v2/tickets/{id}/conversations")).await?;
                importer.ticket(&ticket, &conversations).await?;
                if let Some(updated) = ticket["updated_at"].as_str() {
                    importer.target.set_cursor(source, updated).await?;
                }
            }
        }
    }
    Ok(importer.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_onto_our_values() {
        assert_eq!(status_of(Some(2)), TicketStatus::Open);
        assert_eq!(status_of(Some(4)), TicketStatus::Resolved);
        assert_eq!(
            status_of(Some(17)),
            TicketStatus::Open,
            "custom statuses are open work"
        );
        assert_eq!(priority_of(Some(4)), Priority::Urgent);
        assert_eq!(priority_of(None), Priority::Medium);
    }
}
