//! One CSV row's values checked and converted: the domain's checks on text, and the status,
//! priority and date spellings other help desks export.

use growdesk_domain::{Email, MessageBody, PersonName, Priority, Subject, Tags, TicketStatus};
use growdesk_store::Stamp;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::mapping::Row;
use crate::importers::text::subject_from;

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
pub(super) struct Parsed {
    pub(super) external_id: String,
    pub(super) ticket_id: Option<String>,
    pub(super) subject: Option<String>,
    pub(super) body: String,
    pub(super) email: String,
    pub(super) name: Option<String>,
    pub(super) status: Option<TicketStatus>,
    pub(super) priority: Option<Priority>,
    pub(super) category: Option<String>,
    pub(super) tags: Vec<String>,
    pub(super) created_at: Option<Stamp>,
    pub(super) author_email: Option<String>,
    pub(super) author_name: Option<String>,
    pub(super) internal: bool,
}

pub(super) fn parse(
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
