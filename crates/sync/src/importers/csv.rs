//! `import csv`: tickets from a spreadsheet export. Columns are mapped to fields by name —
//! with `--map field=Column` flags or a TOML file — and rows stream through with bounded
//! memory. Without a `ticket_id` column every row is a ticket; with one, every row is a
//! message and rows sharing a ticket id make one ticket.
//!
//! A field may list fallback columns, the first non-empty one giving its value. A row without
//! a body takes its subject as the body, and one without a subject takes its body's first line
//! (shortened), so a complaint without a narrative still becomes a ticket.

use std::collections::HashMap;
use std::path::Path;

use growdesk_domain::{
    Color, Email, MessageBody, PersonName, Priority, Role, Subject, Tags, TicketSource,
    TicketStatus,
};
use growdesk_store::{
    ImportedCategory, ImportedMessage, ImportedTicket, ImportedUser, Stamp, Store,
};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::importers::Report;
use crate::importers::records::CsvRecords;
use crate::importers::target::Target;
use crate::importers::text::subject_from;

/// Emails remembered between rows before the cache starts over (memory stays bounded).
const USER_CACHE: usize = 10_000;

/// The fields a column can map to.
const FIELDS: &[&str] = &[
    "external_id",
    "ticket_id",
    "subject",
    "body",
    "email",
    "name",
    "status",
    "priority",
    "category",
    "tags",
    "created_at",
    "author_email",
    "author_name",
    "internal",
];

/// The columns a field is read from, in order: the first non-empty one gives the value. A
/// mapping file writes one header as a string or fallbacks as an array of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "OneOrMany")]
pub(crate) struct Columns(Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for Columns {
    fn from(columns: OneOrMany) -> Self {
        match columns {
            OneOrMany::One(column) => Self(vec![column]),
            OneOrMany::Many(columns) => Self(columns),
        }
    }
}

/// How a CSV file maps onto tickets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mapping {
    /// The source name re-runs are matched under (default: `csv:<file name>`).
    pub(crate) source: Option<String>,
    /// field → column headers (fallbacks after the first).
    #[serde(default)]
    pub(crate) columns: HashMap<String, Columns>,
    /// The requester's email for rows without one.
    pub(crate) default_email: Option<String>,
}

impl Mapping {
    /// A mapping from a TOML file, then `field=Column` flags over it: a field's flags replace
    /// the file's columns for it, and repeating a field adds fallback columns.
    ///
    /// # Errors
    /// An unreadable file, or a flag or field that is not one of the known fields.
    pub(crate) fn load(
        file: Option<&Path>,
        flags: &[String],
        default_email: Option<String>,
        source: Option<String>,
    ) -> anyhow::Result<Self> {
        let mut mapping: Mapping = match file {
            Some(file) => toml::from_str(&std::fs::read_to_string(file)?)?,
            None => Mapping::default(),
        };
        let mut flagged = std::collections::HashSet::new();
        for flag in flags {
            let (field, column) = flag
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--map takes field=Column, not {flag:?}"))?;
            let field = field.trim().to_owned();
            let columns = mapping
                .columns
                .entry(field.clone())
                .or_insert_with(|| Columns(Vec::new()));
            if flagged.insert(field) {
                columns.0.clear();
            }
            columns.0.push(column.trim().to_owned());
        }
        if default_email.is_some() {
            mapping.default_email = default_email;
        }
        if source.is_some() {
            mapping.source = source;
        }
        if let Some(unknown) = mapping
            .columns
            .keys()
            .find(|field| !FIELDS.contains(&field.as_str()))
        {
            anyhow::bail!(
                "{unknown:?} is not a field; fields are {}",
                FIELDS.join(", ")
            );
        }
        if let Some((field, _)) = mapping
            .columns
            .iter()
            .find(|(_, columns)| columns.0.is_empty())
        {
            anyhow::bail!("{field:?} is mapped to no column");
        }
        Ok(mapping)
    }
}

/// One row's values by field.
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<&'a str, Vec<usize>>,
}

impl Row<'_> {
    /// The field's value from the first of its columns that is not blank.
    fn get(&self, field: &str) -> Option<&str> {
        self.columns.get(field)?.iter().find_map(|&index| {
            self.record
                .get(index)
                .map(str::trim)
                .filter(|value| !value.is_empty())
        })
    }
}

/// Status names other help desks use, mapped onto ours.
fn status_of(text: &str) -> Result<TicketStatus, String> {
    let text = text.to_lowercase().replace([' ', '-'], "_");
    Ok(match text.as_str() {
        "new" | "open" | "reopened" | "untimely_response" => TicketStatus::Open,
        "pending" | "hold" | "on_hold" | "waiting" | "waiting_on_customer" => TicketStatus::Pending,
        "in_progress" | "assigned" | "working" => TicketStatus::InProgress,
        "solved"
        | "resolved"
        | "closed_with_explanation"
        | "closed_with_relief"
        | "closed_with_monetary_relief"
        | "closed_with_non_monetary_relief" => TicketStatus::Resolved,
        "closed" | "archived" => TicketStatus::Closed,
        _ => return Err(format!("status {text:?} is not known")),
    })
}

fn priority_of(text: &str) -> Result<Priority, String> {
    Ok(match text.to_lowercase().as_str() {
        "low" | "1" => Priority::Low,
        "normal" | "medium" | "2" => Priority::Medium,
        "high" | "3" => Priority::High,
        "urgent" | "critical" | "4" => Priority::Urgent,
        other => return Err(format!("priority {other:?} is not known")),
    })
}

/// RFC 3339, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD` or `YYYY/M/D` (CFPB), read as UTC, in the
/// years 1 to 9999 that both backends store.
fn time_of(text: &str) -> Result<Stamp, String> {
    let time = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .or_else(|_| {
            PrimitiveDateTime::parse(
                text,
                format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            )
            .map(PrimitiveDateTime::assume_utc)
        })
        .or_else(|_| {
            Date::parse(text, format_description!("[year]-[month]-[day]"))
                .or_else(|_| {
                    Date::parse(
                        text,
                        format_description!("[year]/[month padding:none]/[day padding:none]"),
                    )
                })
                .map(|date| date.midnight().assume_utc())
        })
        .map_err(|_| format!("date {text:?} is not RFC 3339, YYYY-MM-DD[ HH:MM:SS] or YYYY/M/D"))?;
    Stamp::checked(time).ok_or_else(|| format!("date {text:?} is not in the years 1 to 9999"))
}

/// The values of one row, checked.
struct Parsed {
    external_id: String,
    ticket_id: Option<String>,
    subject: Option<String>,
    body: String,
    email: String,
    name: Option<String>,
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    category: Option<String>,
    tags: Vec<String>,
    created_at: Option<Stamp>,
    author_email: Option<String>,
    author_name: Option<String>,
    internal: bool,
}

fn parse(
    row: &Row<'_>,
    line: u64,
    default_email: Option<&str>,
    grouped: bool,
) -> Result<Parsed, String> {
    let email = row
        .get("email")
        .or(default_email)
        .ok_or("no requester email (map `email` or pass --default-email)")?;
    let email = Email::parse(email)
        .map_err(|error| format!("email {error}"))?
        .into_inner();
    let (subject, body) = match (row.get("subject"), row.get("body")) {
        (None, None) => return Err("subject and body are both empty".to_owned()),
        (Some(subject), body) => (Some(subject.to_owned()), body.unwrap_or(subject)),
        // In a conversation the ticket's subject may come from another row.
        (None, Some(body)) if grouped => (None, body),
        (None, Some(body)) => (subject_from(body), body),
    };
    let subject = subject
        .map(|subject| {
            Subject::parse(&subject)
                .map(Subject::into_inner)
                .map_err(|error| format!("subject {error}"))
        })
        .transpose()?;
    let body = MessageBody::parse(body)
        .map_err(|error| format!("body {error}"))?
        .into_inner();
    let tags = row.get("tags").map(|tags| {
        let list: Vec<String> = tags
            .split([',', ';'])
            .map(|tag| tag.trim().replace(' ', "-"))
            .filter(|tag| !tag.is_empty())
            .collect();
        Tags::parse(&list).map(Tags::into_inner)
    });
    Ok(Parsed {
        external_id: row
            .get("external_id")
            .map_or_else(|| format!("line-{line}"), str::to_owned),
        ticket_id: row.get("ticket_id").map(str::to_owned),
        subject,
        body,
        email,
        name: row
            .get("name")
            .map(|name| {
                PersonName::parse(name)
                    .map(PersonName::into_inner)
                    .map_err(|error| format!("name {error}"))
            })
            .transpose()?,
        status: row.get("status").map(status_of).transpose()?,
        priority: row.get("priority").map(priority_of).transpose()?,
        category: row
            .get("category")
            .map(|name| {
                PersonName::parse(name)
                    .map(PersonName::into_inner)
                    .map_err(|error| format!("category {error}"))
            })
            .transpose()?,
        tags: tags.transpose()?.unwrap_or_default(),
        created_at: row.get("created_at").map(time_of).transpose()?,
        author_email: row
            .get("author_email")
            .map(|email| {
                Email::parse(email)
                    .map(Email::into_inner)
                    .map_err(|error| format!("author_email {error}"))
            })
            .transpose()?,
        author_name: row.get("author_name").map(str::to_owned),
        internal: row.get("internal").is_some_and(|value| {
            matches!(
                value.to_lowercase().as_str(),
                "true" | "yes" | "1" | "internal"
            )
        }),
    })
}

/// Users, categories and the ticket being assembled, between rows.
struct Importer<'a> {
    target: Target<'a>,
    source: String,
    users: HashMap<String, uuid::Uuid>,
    categories: HashMap<String, uuid::Uuid>,
}

impl Importer<'_> {
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
    ) -> anyhow::Result<growdesk_store::Imported> {
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
    let mut columns: HashMap<&str, Vec<usize>> = HashMap::new();
    for field in FIELDS {
        let position = |column: &str| headers.iter().position(|header| header.trim() == column);
        match mapping.columns.get(*field) {
            Some(Columns(named)) => {
                let mut indexes = Vec::with_capacity(named.len());
                for column in named {
                    let index = position(column).ok_or_else(|| {
                        anyhow::anyhow!("{} has no column {column:?}", path.display())
                    })?;
                    indexes.push(index);
                }
                columns.insert(field, indexes);
            }
            None => {
                if let Some(index) = position(field) {
                    columns.insert(field, vec![index]);
                }
            }
        }
    }
    let grouped = columns.contains_key("ticket_id");
    let mut report = Report::new(&source, dry_run);
    let mut importer = Importer {
        target: Target::new(store, dry_run),
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
    importer: &mut Importer<'_>,
    report: &mut Report,
    external_id: String,
    rows: Vec<Parsed>,
    position: String,
) -> anyhow::Result<()> {
    match importer.ticket(external_id, rows).await {
        Ok(outcome) => report.record(outcome),
        Err(error) => match error.downcast::<growdesk_store::StoreError>() {
            Ok(stored) => report.settle(position, Err(stored))?,
            Err(other) => report.refuse(position, other.to_string()),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_from_other_desks_are_mapped() {
        assert_eq!(
            status_of("Closed with explanation").unwrap(),
            TicketStatus::Resolved
        );
        assert_eq!(status_of("on-hold").unwrap(), TicketStatus::Pending);
        assert!(status_of("limbo").is_err());
        assert_eq!(priority_of("Normal").unwrap(), Priority::Medium);
        assert_eq!(
            time_of("2019/9/24")
                .unwrap()
                .into_inner()
                .date()
                .to_string(),
            "2019-09-24"
        );
        assert_eq!(
            time_of("2024-01-02 03:04:05").unwrap().into_inner().hour(),
            3
        );
        assert!(time_of("24/09/2019").is_err());
        for out_of_range in [
            "-9999-01-01",
            "-0500-01-01 00:00:00",
            "0000-12-31T23:59:59Z",
        ] {
            assert!(time_of(out_of_range).is_err(), "{out_of_range}");
        }
    }
}
