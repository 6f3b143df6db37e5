//! `import json`: GrowDesk's own export (see `format`). Ids and ticket numbers are kept where
//! they are free, so an export imported into an empty instance reproduces it — the documented
//! way to move from SQLite to PostgreSQL.

use std::path::Path;

use growdesk_domain::{Color, Email, MessageBody, PersonName, Subject, Tags};
use growdesk_store::{
    ImportedCategory, ImportedFaq, ImportedMessage, ImportedTicket, ImportedUser, Stamp, Store,
};

use crate::format::{self, ExportedTicket, Line};
use crate::importers::Report;
use crate::importers::records::{Lines, MAX_LINE_BYTES};

/// The source name imports from GrowDesk exports are remembered under.
pub(crate) const SOURCE: &str = "growdesk";

/// Imports the export at `path` (a `.jsonl` file or a directory holding one), line by line.
///
/// # Errors
/// The file cannot be read (any read error ends the import), or the database fails; bad lines,
/// overlong ones included, are reported, not errors.
pub(crate) async fn import(store: &Store, path: &Path, dry_run: bool) -> anyhow::Result<Report> {
    let file = crate::export::target(path);
    let unreadable =
        |error: std::io::Error| anyhow::anyhow!("cannot read {}: {error}", file.display());
    let mut lines = Lines::new(
        std::io::BufReader::new(std::fs::File::open(&file).map_err(unreadable)?),
        MAX_LINE_BYTES,
    );
    let mut report = Report::new(SOURCE, dry_run);
    let mut kept_numbers = false;
    while let Some((number, line)) = lines.next_line().map_err(unreadable)? {
        let position = format!("line {number}");
        let line = match line {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => line,
            Err(reason) => {
                report.refuse(position, reason);
                continue;
            }
        };
        let record = match serde_json::from_str::<Line>(line) {
            Ok(record) => record,
            Err(error) => {
                report.refuse(position, format!("not a record of this format: {error}"));
                continue;
            }
        };
        if let Line::Header(header) = &record {
            if header.format != format::FORMAT || header.version > format::VERSION {
                anyhow::bail!(
                    "{} is not a GrowDesk export this version can read",
                    file.display()
                );
            }
            continue;
        }
        if dry_run {
            match check(&record) {
                Ok(()) => report.check(),
                Err(reason) => report.refuse(position, reason),
            }
            continue;
        }
        kept_numbers |= matches!(record, Line::Ticket(_));
        match write(store, record).await {
            Ok(outcome) => report.record(outcome),
            Err(Refusal::Record(reason)) => report.refuse(position, reason),
            Err(Refusal::Database(error)) => return Err(error.into()),
        }
    }
    if kept_numbers {
        store.continue_ticket_numbers().await?;
    }
    Ok(report)
}

enum Refusal {
    Record(String),
    Database(growdesk_store::StoreError),
}

impl From<growdesk_store::StoreError> for Refusal {
    fn from(error: growdesk_store::StoreError) -> Self {
        match error {
            growdesk_store::StoreError::MissingReference | growdesk_store::StoreError::Conflict => {
                Self::Record("refers to a record that is missing or conflicts".to_owned())
            }
            other => Self::Database(other),
        }
    }
}

/// The domain checks every record passes before it is written.
fn check(record: &Line) -> Result<(), String> {
    let field = |name: &str, error: growdesk_domain::ValueError| format!("{name} {error}");
    match record {
        Line::Header(_) => {}
        Line::User(user) => {
            Email::parse(&user.email).map_err(|error| field("email", error))?;
            PersonName::parse(&user.name).map_err(|error| field("name", error))?;
        }
        Line::Category(category) => {
            PersonName::parse(&category.name).map_err(|error| field("name", error))?;
            Color::parse(&category.color).map_err(|error| field("color", error))?;
        }
        Line::Faq(faq) => {
            MessageBody::parse(&faq.question).map_err(|error| field("question", error))?;
            MessageBody::parse(&faq.answer).map_err(|error| field("answer", error))?;
        }
        Line::Ticket(ticket) => {
            Subject::parse(&ticket.subject).map_err(|error| field("subject", error))?;
            Tags::parse(&ticket.tags).map_err(|error| format!("tags {error}"))?;
            for message in &ticket.messages {
                MessageBody::parse(&message.body).map_err(|error| field("message body", error))?;
            }
        }
    }
    Ok(())
}

async fn local(store: &Store, kind: &str, id: uuid::Uuid) -> Result<uuid::Uuid, Refusal> {
    store
        .local_id(SOURCE, kind, &id.to_string())
        .await?
        .ok_or_else(|| {
            Refusal::Record(format!(
                "refers to {kind} {id}, which the export did not hold before it"
            ))
        })
}

async fn local_opt(
    store: &Store,
    kind: &str,
    id: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, Refusal> {
    match id {
        Some(id) => local(store, kind, id).await.map(Some),
        None => Ok(None),
    }
}

async fn write(store: &Store, record: Line) -> Result<growdesk_store::Imported, Refusal> {
    check(&record).map_err(Refusal::Record)?;
    Ok(match record {
        Line::Header(_) => return Err(Refusal::Record("a second header".to_owned())),
        Line::User(user) => {
            let email =
                Email::parse(&user.email).map_err(|error| Refusal::Record(error.to_string()))?;
            store
                .import_user(
                    SOURCE,
                    &ImportedUser {
                        external_id: user.id.to_string(),
                        preferred_id: Some(user.id),
                        email: email.into_inner(),
                        name: user.name,
                        role: user.role,
                        active: user.active,
                        password_hash: user.password_hash,
                        created_at: Stamp::from(user.created_at),
                    },
                )
                .await?
        }
        Line::Category(category) => {
            store
                .import_category(
                    SOURCE,
                    &ImportedCategory {
                        external_id: category.id.to_string(),
                        preferred_id: Some(category.id),
                        name: category.name,
                        description: category.description,
                        color: category.color,
                        active: category.active,
                        position: category.position,
                    },
                )
                .await?
        }
        Line::Faq(faq) => {
            let category_id = local_opt(store, "category", faq.category_id).await?;
            store
                .import_faq(
                    SOURCE,
                    &ImportedFaq {
                        external_id: faq.id.to_string(),
                        preferred_id: Some(faq.id),
                        question: faq.question,
                        answer: faq.answer,
                        category_id,
                        published: faq.published,
                        position: faq.position,
                    },
                )
                .await?
        }
        Line::Ticket(ticket) => import_ticket(store, *ticket).await?,
    })
}

async fn import_ticket(
    store: &Store,
    ticket: ExportedTicket,
) -> Result<growdesk_store::Imported, Refusal> {
    let mut messages = Vec::with_capacity(ticket.messages.len());
    for message in ticket.messages {
        messages.push(ImportedMessage {
            external_id: message.id.to_string(),
            preferred_id: Some(message.id),
            author_id: local(store, "user", message.author_id).await?,
            body: message.body,
            internal: message.internal,
            created_at: Stamp::from(message.created_at),
            attachments: Vec::new(),
        });
    }
    let imported = ImportedTicket {
        external_id: ticket.id.to_string(),
        preferred_id: Some(ticket.id),
        preferred_number: Some(ticket.number),
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        category_id: local_opt(store, "category", ticket.category_id).await?,
        requester_id: local(store, "user", ticket.requester_id).await?,
        assignee_id: local_opt(store, "user", ticket.assignee_id).await?,
        tags: Tags::parse(&ticket.tags)
            .map_err(Refusal::Record)?
            .into_inner(),
        source: ticket.source,
        created_at: Stamp::from(ticket.created_at),
        updated_at: Stamp::from(ticket.updated_at),
        first_response_at: ticket.first_response_at.map(Stamp::from),
        resolved_at: ticket.resolved_at.map(Stamp::from),
        closed_at: ticket.closed_at.map(Stamp::from),
        messages,
        original: serde_json::Value::Null,
    };
    Ok(store.import_ticket(SOURCE, &imported).await?)
}
