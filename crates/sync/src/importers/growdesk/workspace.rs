//! Restoring an export's saved views and canned replies under their ids, owners and times, and
//! staff's read marks.

use growdesk_domain::MessageBody;
use growdesk_domain::workspace::{Shortcut, Title};
use growdesk_service::imports::Import;
use growdesk_store::{
    Stamp, canned_replies::ReplyFields, canned_replies::RestoredReply, imports::Imported,
    imports::RecordKind, tickets::ReadMark, views::RestoredView,
};

use super::{Refusal, local, local_opt};
use crate::format::{ExportedCannedReply, ExportedReadMark, ExportedView};

fn invalid(name: &str) -> impl FnOnce(growdesk_domain::ValueError) -> Refusal + '_ {
    move |error| Refusal::Record(format!("{name} {error}"))
}

/// Restores a view; a personal one's owner must have come with the export.
pub(super) async fn restore_view(
    target: &mut Import,
    view: ExportedView,
) -> Result<Imported, Refusal> {
    let restored = RestoredView {
        id: view.id,
        owner_id: local_opt(target, RecordKind::User, view.owner_id).await?,
        name: Title::parse(&view.name).map_err(invalid("name"))?,
        filter: view.filter,
        created_at: Stamp::from(view.created_at),
        updated_at: Stamp::from(view.updated_at),
    };
    Ok(target.view(&restored).await?)
}

/// Restores a canned reply; a personal one's owner must have come with the export.
pub(super) async fn restore_canned_reply(
    target: &mut Import,
    reply: ExportedCannedReply,
) -> Result<Imported, Refusal> {
    let restored = RestoredReply {
        id: reply.id,
        owner_id: local_opt(target, RecordKind::User, reply.owner_id).await?,
        fields: ReplyFields {
            title: Title::parse(&reply.title).map_err(invalid("title"))?,
            body: MessageBody::parse(&reply.body).map_err(invalid("body"))?,
            shortcut: reply
                .shortcut
                .as_deref()
                .map(Shortcut::parse)
                .transpose()
                .map_err(invalid("shortcut"))?,
        },
        created_at: Stamp::from(reply.created_at),
        updated_at: Stamp::from(reply.updated_at),
    };
    Ok(target.canned_reply(&restored).await?)
}

/// Restores a read mark; its reader and ticket must have come with the export.
pub(super) async fn restore_read_mark(
    target: &mut Import,
    mark: ExportedReadMark,
) -> Result<Imported, Refusal> {
    let restored = ReadMark {
        user_id: local(target, RecordKind::User, mark.user_id).await?,
        ticket_id: local(target, RecordKind::Ticket, mark.ticket_id).await?,
        last_event_id: mark.last_event_id,
    };
    Ok(target.read_mark(&restored).await?)
}
