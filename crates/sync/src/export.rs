//! `growdesk-sync export`: everything, in GrowDesk's export format, streamed page by page.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use growdesk_domain::Message;
use growdesk_service::private_file::PrivateFile;
use growdesk_store::{FaqFilter, Store, TicketFilter, TicketSort};

use crate::format::{
    self, ExportedCategory, ExportedFaq, ExportedMessage, ExportedTicket, ExportedUser, Header,
    Line,
};

/// Records read per query.
const PAGE: u32 = 500;

/// What an export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Exported {
    pub(crate) users: usize,
    pub(crate) categories: usize,
    pub(crate) faqs: usize,
    pub(crate) tickets: usize,
    pub(crate) messages: usize,
}

/// Where the export goes: a `.jsonl` file, or the standard file inside a directory.
pub(crate) fn target(path: &Path) -> PathBuf {
    if path
        .extension()
        .is_some_and(|extension| extension == "jsonl" || extension == "json")
    {
        path.to_owned()
    } else {
        path.join(format::FILE_NAME)
    }
}

/// Writes every user, category, FAQ and ticket (with its messages) of `store` to `path`. The
/// file holds password hashes: it is written as a `PrivateFile`, readable by its owner only,
/// and appears at `path` only once complete.
///
/// # Errors
/// The database or the file failed.
pub(crate) async fn export(store: &Store, path: &Path) -> anyhow::Result<Exported> {
    let file = target(path);
    let mut out = PrivateFile::create(&file)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", file.display()))?;
    let mut write = |line: &Line| -> anyhow::Result<()> {
        serde_json::to_writer(&mut out, line)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    let mut counts = Exported::default();
    write(&Line::Header(Header {
        format: format::FORMAT.to_owned(),
        version: format::VERSION,
        exported_at: time::OffsetDateTime::now_utc(),
    }))?;

    let mut after = None;
    loop {
        let page = store.export_users(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.user.id);
        for credentials in page {
            let user = credentials.user;
            write(&Line::User(ExportedUser {
                id: user.id,
                email: user.email,
                name: user.name,
                role: user.role,
                active: user.active,
                password_hash: credentials.password_hash,
                created_at: user.created_at,
            }))?;
            counts.users += 1;
        }
    }
    for category in store.list_categories(false).await? {
        write(&Line::Category(ExportedCategory {
            id: category.id,
            name: category.name,
            description: category.description,
            color: category.color,
            active: category.active,
            position: category.position,
        }))?;
        counts.categories += 1;
    }
    let mut after = None;
    loop {
        let page = store.list_faqs(&FaqFilter::default(), after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(growdesk_store::FaqCursor {
            position: last.position,
            id: last.id,
        });
        for faq in page {
            write(&Line::Faq(ExportedFaq {
                id: faq.id,
                question: faq.question,
                answer: faq.answer,
                category_id: faq.category_id,
                published: faq.published,
                position: faq.position,
            }))?;
            counts.faqs += 1;
        }
    }
    let filter = TicketFilter {
        search_internal: true,
        ..TicketFilter::default()
    };
    let mut after = None;
    loop {
        let page = store
            .list_tickets(&filter, TicketSort::Number, false, after, PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(growdesk_store::TicketCursor {
            key: TicketSort::Number.key_of(last),
            id: last.id,
        });
        let ids: Vec<uuid::Uuid> = page.iter().map(|ticket| ticket.id).collect();
        let mut messages: HashMap<uuid::Uuid, Vec<Message>> = HashMap::new();
        for message in store.messages_of_tickets(&ids).await? {
            messages.entry(message.ticket_id).or_default().push(message);
        }
        for ticket in page {
            let mine = messages.remove(&ticket.id).unwrap_or_default();
            counts.messages += mine.len();
            write(&Line::Ticket(Box::new(ExportedTicket {
                id: ticket.id,
                number: ticket.number,
                subject: ticket.subject,
                status: ticket.status,
                priority: ticket.priority,
                category_id: ticket.category_id,
                requester_id: ticket.requester.id,
                assignee_id: ticket.assignee_id,
                tags: ticket.tags,
                source: ticket.source,
                created_at: ticket.created_at,
                updated_at: ticket.updated_at,
                first_response_at: ticket.first_response_at,
                resolved_at: ticket.resolved_at,
                closed_at: ticket.closed_at,
                messages: mine
                    .into_iter()
                    .map(|message| ExportedMessage {
                        id: message.id,
                        author_id: message.author.id,
                        body: message.body,
                        internal: message.internal,
                        created_at: message.created_at,
                    })
                    .collect(),
            })))?;
            counts.tickets += 1;
        }
    }
    out.persist()
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", file.display()))?;
    Ok(counts)
}
