//! `import csv`: tickets from a spreadsheet export. Columns are mapped to fields by name —
//! with `--map field=Column` flags or a TOML file — and rows stream through with bounded
//! memory. Without a `ticket_id` column every row is a ticket; with one, every row is a
//! message and rows sharing a ticket id make one ticket.
//!
//! A field may list fallback columns, the first non-empty one giving its value. A row without
//! a body takes its subject as the body, and one without a subject takes its body's first line
//! (shortened), so a complaint without a narrative still becomes a ticket.

mod mapping;
mod values;

use std::collections::HashMap;
use std::path::Path;

use growdesk_domain::{Color, Email, MessageChannel, PersonName, Role, TicketSource, TicketStatus};
use growdesk_service::ServiceError;
use growdesk_service::imports::Import;
use growdesk_store::{
    Stamp, Store,
    imports::{ImportedCategory, ImportedMessage, ImportedTicket, ImportedUser},
};

use crate::importers::Report;
use crate::importers::records::CsvRecords;
use crate::importers::text::subject_from;
pub(crate) use mapping::Mapping;
use mapping::Row;
use values::{Parsed, parse};

/// Emails remembered between rows before the cache starts over (memory stays bounded).
const USER_CACHE: usize = 10_000;

/// Users, categories and the ticket being assembled, between rows.
struct Importer {
    target: Import,
    source: String,
    users: HashMap<String, uuid::Uuid>,
    categories: HashMap<String, uuid::Uuid>,
}

impl Importer {
    async fn user(
        &mut self,
        email: &str,
        name: Option<&str>,
        role: Role,
    ) -> anyhow::Result<uuid::Uuid> {
        if let Some(id) = self.users.get(email) {
            return Ok(*id);
        }
        if self.users.len() >= USER_CACHE {
            self.users.clear();
        }
        let name = match name {
            Some(name) => name.to_owned(),
            None => PersonName::from_email(&Email::parse(email).map_err(anyhow::Error::msg)?)
                .into_inner(),
        };
        let user = ImportedUser {
            external_id: email.to_owned(),
            preferred_id: None,
            email: email.to_owned(),
            name,
            role,
            active: true,
            password_hash: None,
            created_at: Stamp::now(),
        };
        let id = self.target.user(&self.source, &user).await?.id();
        self.users.insert(email.to_owned(), id);
        Ok(id)
    }

    async fn category(&mut self, name: &str) -> anyhow::Result<uuid::Uuid> {
        if let Some(id) = self.categories.get(name) {
            return Ok(*id);
        }
        let category = ImportedCategory {
            external_id: name.to_lowercase(),
            preferred_id: None,
            name: name.to_owned(),
            description: String::new(),
            color: Color::DEFAULT.to_owned(),
            active: true,
            position: 0,
        };
        let id = self.target.category(&self.source, &category).await?.id();
        self.categories.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Writes the ticket made of `rows` (one, or a group sharing a ticket id).
    async fn ticket(
        &mut self,
        external_id: String,
        rows: Vec<Parsed>,
    ) -> anyhow::Result<growdesk_store::imports::Imported> {
        let Some(first) = rows.first() else {
            anyhow::bail!("an empty ticket")
        };
        let requester_id = self
            .user(&first.email, first.name.as_deref(), Role::Customer)
            .await?;
        let category_id = match &first.category {
            Some(name) => Some(self.category(name).await?),
            None => None,
        };
        let created_at = first.created_at.unwrap_or_else(Stamp::now);
        let subject = rows
            .iter()
            .find_map(|row| row.subject.clone())
            .or_else(|| subject_from(&first.body))
            .unwrap_or_else(|| format!("Imported conversation {external_id}"));
        let last = rows.last().unwrap_or(first);
        let status = last.status.or(first.status).unwrap_or(TicketStatus::Open);
        let done_at = last.created_at.unwrap_or(created_at);
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            let author_id = match &row.author_email {
                Some(email) if *email != first.email => {
                    self.user(email, row.author_name.as_deref(), Role::Agent)
                        .await?
                }
                _ => requester_id,
            };
            messages.push(ImportedMessage {
                external_id: row.external_id.clone(),
                preferred_id: None,
                author_id,
                body: row.body.clone(),
                internal: row.internal,
                created_at: row.created_at.unwrap_or(created_at),
                attachments: Vec::new(),
                channel: MessageChannel::Import,
            });
        }
        let ticket = ImportedTicket {
            external_id,
            preferred_id: None,
            preferred_number: None,
            subject,
            status,
            priority: first.priority.unwrap_or_default(),
            category_id,
            requester_id,
            assignee_id: None,
            tags: first.tags.clone(),
            source: TicketSource::Import,
            created_at,
            updated_at: done_at,
            first_response_at: None,
            resolved_at: status.is_done().then_some(done_at),
            closed_at: (status == TicketStatus::Closed).then_some(done_at),
            messages,
            original: serde_json::Value::Null,
        };
        Ok(self.target.ticket(&self.source, &ticket).await?)
    }
}

/// Imports `path` with `mapping`.
///
/// # Errors
/// The file cannot be read (any read error ends the import) or lacks a mapped column, or the
/// database fails; bad rows, overlong ones included, are reported, not errors.
pub(crate) async fn import(
    store: &Store,
    path: &Path,
    mapping: &Mapping,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let source = mapping.source.clone().unwrap_or_else(|| {
        format!(
            "csv:{}",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        )
    });
    let unreadable =
        |error: std::io::Error| anyhow::anyhow!("cannot read {}: {error}", path.display());
    let mut records = CsvRecords::new(std::io::BufReader::new(
        std::fs::File::open(path).map_err(unreadable)?,
    ));
    let headers = match records.next_record().map_err(unreadable)? {
        Some((_, Ok(headers))) => headers,
        Some((_, Err(reason))) => anyhow::bail!("{}: the header row is {reason}", path.display()),
        None => csv::StringRecord::new(),
    };
    let columns = mapping::column_positions(mapping, &headers, path)?;
    let grouped = columns.contains_key("ticket_id");
    let mut report = Report::new(&source, dry_run);
    let mut importer = Importer {
        target: Import::new(store.clone(), dry_run),
        source: source.clone(),
        users: HashMap::new(),
        categories: HashMap::new(),
    };
    let mut group: Option<(String, Vec<Parsed>, String)> = None;
    while let Some((line, record)) = records.next_record().map_err(unreadable)? {
        let position = format!("line {line}");
        let record = match record {
            Ok(record) => record,
            Err(reason) => {
                report.refuse(position, reason);
                continue;
            }
        };
        let row = Row {
            record: &record,
            columns: &columns,
        };
        let parsed = match parse(&row, line, mapping.default_email.as_deref(), grouped) {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.refuse(position, reason);
                continue;
            }
        };
        if !grouped {
            let external_id = parsed.external_id.clone();
            write(
                &mut importer,
                &mut report,
                external_id,
                vec![parsed],
                position,
            )
            .await?;
            continue;
        }
        let ticket_id = parsed.ticket_id.clone().unwrap_or_default();
        match &mut group {
            Some((current, rows, _)) if *current == ticket_id => rows.push(parsed),
            _ => {
                if let Some((done, rows, at)) = group.take() {
                    write(&mut importer, &mut report, done, rows, at).await?;
                }
                group = Some((ticket_id, vec![parsed], position));
            }
        }
    }
    if let Some((done, rows, at)) = group.take() {
        write(&mut importer, &mut report, done, rows, at).await?;
    }
    Ok(report)
}

async fn write(
    importer: &mut Importer,
    report: &mut Report,
    external_id: String,
    rows: Vec<Parsed>,
    position: String,
) -> anyhow::Result<()> {
    match importer.ticket(external_id, rows).await {
        Ok(outcome) => report.record(outcome),
        Err(error) => match error.downcast::<ServiceError>() {
            Ok(stored) => report.settle(position, Err(stored))?,
            Err(other) => report.refuse(position, other.to_string()),
        },
    }
    Ok(())
}
