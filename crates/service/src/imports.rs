//! Importing: records from another help desk, a spreadsheet or a GrowDesk backup, written under
//! rules the API does not allow. The importers in `growdesk-sync` read and check their sources;
//! this use case is where they write, and the one place the rules are relaxed:
//!
//! - **Kept ids.** A record keeps its id where no record has it yet, so a restored backup
//!   reproduces the instance and links to its tickets keep working; a taken id gets a new one.
//! - **Kept ticket numbers.** A backup's ticket keeps its number where free, and new tickets
//!   then continue after the highest (`finish_restore`), so the numbers people quote still
//!   find their tickets.
//! - **Kept times.** A record's creation, change, first-response, resolution and closing times
//!   are the source's, not now, so the queue's order, the statistics and the service-level
//!   targets measure the real history.
//! - **Imported authors.** A message is written in the name of its author at the source,
//!   customer or staff, active or not, without their session: they wrote it there.
//! - **Statuses as found.** A ticket starts in the status the source gives, resolved or closed
//!   included, without the workflow's moves: its history happened elsewhere.
//! - **Assignees who left.** A ticket stays with the staff account that held it at the source,
//!   even an inactive one; never with a customer (`assignee`), as the policy has it.
//! - **Secrets kept.** Password hashes, widget keys and identity secrets, webhook secrets and
//!   mailboxes' IMAP and SMTP passwords come over as they are, so people sign in and
//!   integrations and mail go on as before.
//! - **The log.** A new ticket's creation is logged, as any ticket's is, so it shows in its
//!   history and reaches sockets and webhooks; imported messages notify no one. A backup brings
//!   its own log, notifications, saved views and canned replies, restored under their ids, and
//!   staff's read marks, with no webhook delivery queued for events that happened before it.
//! - **Mail as it stood.** A backup's mailboxes keep how far their folders were read and the
//!   record of every mail taken in, so nothing is fetched or imported twice; its outbox keeps
//!   each mail's status, so a sent mail is never sent again and one still queued is sent once,
//!   by the restored desk.
//!
//! A dry run asks every question of a preview that answers as the store would and writes
//! nothing, so it reports the created, updated, unchanged and refused counts the run then does.

use std::collections::HashMap;

use growdesk_domain::Role;
use growdesk_domain::event::{self, Created, Event};
use growdesk_store::{
    FileStore, Stamp, Store, StoreError,
    backup::{
        ImportedVisitor, ImportedWebhook, ImportedWidget, MailRecord, NotificationRecord,
        RestoredEvent, TimedTable,
    },
    canned_replies::RestoredReply,
    import_preview::ImportPreview,
    imports::{Imported, ImportedCategory, ImportedFaq, ImportedTicket, ImportedUser, RecordKind},
    mailboxes::MailboxBackup,
    tickets::ReadMark,
    views::RestoredView,
};
use uuid::Uuid;

use crate::{ServiceError, policy};

/// Why a record that names a missing or conflicting record is refused.
const REFUSED_REFERENCE: &str = "refers to a record that is missing or conflicts";

/// One import run: where its records go, the store or a dry run's preview of it.
pub struct Import {
    store: Store,
    /// Present in a dry run.
    preview: Option<ImportPreview>,
    /// Roles of the users this import created (a dry run's are nowhere else).
    created_roles: HashMap<Uuid, Role>,
}

/// A record's outcome: a record that names a missing or conflicting one is refused (a
/// `Conflict` the importer reports by record); other failures are the database's.
fn settled(stored: Result<Imported, StoreError>) -> Result<Imported, ServiceError> {
    match stored {
        Ok(outcome) => Ok(outcome),
        Err(StoreError::MissingReference | StoreError::Conflict) => {
            Err(ServiceError::Conflict(REFUSED_REFERENCE.to_owned()))
        }
        Err(other) => Err(other.into()),
    }
}

impl Import {
    pub fn new(store: Store, dry_run: bool) -> Self {
        Self {
            store,
            preview: dry_run.then(ImportPreview::default),
            created_roles: HashMap::new(),
        }
    }

    /// Whether the database holds records that no import from `source` wrote (a restore goes
    /// into an empty database).
    ///
    /// # Errors
    /// The database failed.
    pub async fn holds_records_not_imported_from(
        &self,
        source: &str,
    ) -> Result<bool, ServiceError> {
        Ok(self
            .store
            .backup()
            .holds_records_not_imported_from(source)
            .await?)
    }

    /// The local id recorded for `(source, kind, external_id)`.
    ///
    /// # Errors
    /// The database failed.
    pub async fn local_id(
        &self,
        source: &str,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<Uuid>, ServiceError> {
        Ok(match &self.preview {
            Some(preview) => {
                self.store
                    .previews()
                    .local_id(preview, source, kind, external_id)
                    .await?
            }
            None => {
                self.store
                    .imports()
                    .local_id(source, kind, external_id)
                    .await?
            }
        })
    }

    /// An account: the one imported before from this source, else the one with its email
    /// (accounts are never duplicated), else a new one, with its password hash.
    ///
    /// # Errors
    /// The database failed.
    pub async fn user(
        &mut self,
        source: &str,
        user: &ImportedUser,
    ) -> Result<Imported, ServiceError> {
        let outcome = settled(match &mut self.preview {
            Some(preview) => self.store.previews().user(preview, source, user).await,
            None => self.store.imports().user(source, user).await,
        })?;
        if let Imported::Created(id) = outcome {
            self.created_roles.insert(id, user.role);
        }
        Ok(outcome)
    }

    /// `user` when that user may hold tickets, else `None`: an agent record matched by email
    /// to an existing customer, say, leaves its tickets unassigned. Unlike the API's, an
    /// inactive account may hold an imported ticket.
    ///
    /// # Errors
    /// The database failed.
    pub async fn assignee(&self, user: Uuid) -> Result<Option<Uuid>, ServiceError> {
        let role = match self.created_roles.get(&user) {
            Some(role) => Some(*role),
            None => self.store.users().get(user).await?.map(|found| found.role),
        };
        Ok(role
            .filter(|role| policy::may_hold_tickets(*role))
            .map(|_| user))
    }

    /// A category: the one imported before from this source, else the one with its name
    /// (case aside), else a new one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn category(
        &mut self,
        source: &str,
        category: &ImportedCategory,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => {
                self.store
                    .previews()
                    .category(preview, source, category)
                    .await
            }
            None => self.store.imports().category(source, category).await,
        })
    }

    /// A ticket and its conversation, its creation logged when it is new: a `created` event
    /// naming the source and keeping the source's own values.
    ///
    /// # Errors
    /// `Conflict` for unknown local users or categories; the database failed.
    pub async fn ticket(
        &mut self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().ticket(preview, source, ticket).await,
            None => {
                let creation = Event::Created(Created::Imported(event::Imported {
                    imported_from: source.to_owned(),
                    original: ticket.original.clone(),
                }));
                self.store
                    .imports()
                    .ticket(source, ticket, Some(&creation))
                    .await
            }
        })
    }

    /// As `ticket`, without logging the ticket's creation: a backup brings its own log.
    ///
    /// # Errors
    /// As `ticket`.
    pub async fn restored_ticket(
        &mut self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().ticket(preview, source, ticket).await,
            None => self.store.imports().ticket(source, ticket, None).await,
        })
    }

    /// A FAQ: the one imported before from this source is left as it is, else a new one.
    ///
    /// # Errors
    /// `Conflict` for an unknown category; the database failed.
    pub async fn faq(&mut self, source: &str, faq: &ImportedFaq) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().faq(preview, source, faq).await,
            None => self.store.imports().faq(source, faq).await,
        })
    }

    /// A chat widget with its key and identity secret.
    ///
    /// # Errors
    /// `Conflict` for a key another widget has; the database failed.
    pub async fn widget(
        &mut self,
        source: &str,
        widget: &ImportedWidget,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().widget(preview, source, widget).await,
            None => self.store.backup().import_widget(source, widget).await,
        })
    }

    /// A webhook with its secret.
    ///
    /// # Errors
    /// The database failed.
    pub async fn webhook(
        &mut self,
        source: &str,
        webhook: &ImportedWebhook,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => {
                self.store
                    .previews()
                    .webhook(preview, source, webhook)
                    .await
            }
            None => self.store.backup().import_webhook(source, webhook).await,
        })
    }

    /// A mailbox with its passwords and cursor.
    ///
    /// # Errors
    /// `Conflict` for an address another mailbox has or an unknown category; the database
    /// failed.
    pub async fn mailbox(
        &mut self,
        source: &str,
        external_id: &str,
        mailbox: &MailboxBackup,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => {
                self.store
                    .previews()
                    .mailbox(preview, source, external_id, mailbox)
                    .await
            }
            None => {
                self.store
                    .mailboxes()
                    .import(source, external_id, mailbox)
                    .await
            }
        })
    }

    /// A backup's record of the email channel: a mail taken in or sent, a template, a
    /// suppressed address.
    ///
    /// # Errors
    /// `Conflict` for an unknown mailbox, ticket or message; the database failed.
    pub async fn mail(&mut self, record: &MailRecord) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().mail(preview, record).await,
            None => self.store.backup().restore_mail(record).await,
        })
    }

    /// A widget's visitor.
    ///
    /// # Errors
    /// `Conflict` for an unknown widget or user; the database failed.
    pub async fn visitor(
        &mut self,
        source: &str,
        visitor: &ImportedVisitor,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => {
                self.store
                    .previews()
                    .visitor(preview, source, visitor)
                    .await
            }
            None => self.store.backup().import_visitor(source, visitor).await,
        })
    }

    /// An entry of a backup's event log, under its id where free; no webhook delivery is
    /// queued for it.
    ///
    /// # Errors
    /// The database failed.
    pub async fn event(
        &mut self,
        source: &str,
        event: &RestoredEvent,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().event(preview, source, event).await,
            None => self.store.backup().restore_event(source, event).await,
        })
    }

    /// A backup's notification, read or unread as it was.
    ///
    /// # Errors
    /// `Conflict` for an unknown user; the database failed.
    pub async fn notification(
        &mut self,
        notification: &NotificationRecord,
    ) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => {
                self.store
                    .previews()
                    .notification(preview, notification)
                    .await
            }
            None => self.store.backup().restore_notification(notification).await,
        })
    }

    /// A backup's saved view, under its id, owner and times.
    ///
    /// # Errors
    /// `Conflict` for an unknown owner; the database failed.
    pub async fn view(&mut self, view: &RestoredView) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().view(preview, view).await,
            None => self.store.views().restore(view).await,
        })
    }

    /// A backup's canned reply, under its id, owner and times.
    ///
    /// # Errors
    /// `Conflict` for an unknown owner; the database failed.
    pub async fn canned_reply(&mut self, reply: &RestoredReply) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().canned_reply(preview, reply).await,
            None => self.store.canned_replies().restore(reply).await,
        })
    }

    /// A backup's read mark: how far a staff member had read a ticket.
    ///
    /// # Errors
    /// `Conflict` for an unknown reader or ticket; the database failed.
    pub async fn read_mark(&mut self, mark: &ReadMark) -> Result<Imported, ServiceError> {
        settled(match &mut self.preview {
            Some(preview) => self.store.previews().read_mark(preview, mark).await,
            None => self.store.tickets().restore_read_mark(mark).await,
        })
    }

    /// Gives a record this run created in `table` the times it was exported with. The
    /// finishing touches (this, versions, visitors, files) change no count, so a dry run
    /// skips them.
    ///
    /// # Errors
    /// The database failed.
    pub async fn keep_times(
        &self,
        table: TimedTable,
        outcome: Imported,
        created_at: Stamp,
        updated_at: Stamp,
    ) -> Result<(), ServiceError> {
        if let (Imported::Created(id), None) = (outcome, &self.preview) {
            self.store
                .backup()
                .keep_exported_times(table, id, created_at, updated_at)
                .await?;
        }
        Ok(())
    }

    /// Keeps a restored account's choices: being told of every new ticket, the locale of its
    /// mail.
    ///
    /// # Errors
    /// The database failed.
    pub async fn keep_preferences(
        &self,
        outcome: Imported,
        notify_new_tickets: bool,
        locale: Option<&str>,
    ) -> Result<(), ServiceError> {
        if let (Imported::Created(id), None) = (outcome, &self.preview) {
            self.store
                .backup()
                .keep_preferences(id, notify_new_tickets, locale)
                .await?;
        }
        Ok(())
    }

    /// Gives a ticket this run created the version it was exported at, so a client's
    /// `If-Match` from before the move still holds.
    ///
    /// # Errors
    /// The database failed.
    pub async fn keep_ticket_version(
        &self,
        outcome: Imported,
        version: i64,
    ) -> Result<(), ServiceError> {
        if let (Imported::Created(id), None) = (outcome, &self.preview) {
            self.store.backup().keep_ticket_version(id, version).await?;
        }
        Ok(())
    }

    /// Links a ticket to the widget visitor who opened it and the mailbox its mail goes out
    /// from, each when given.
    ///
    /// # Errors
    /// The database failed.
    pub async fn link_ticket_origin(
        &self,
        ticket_id: Uuid,
        visitor_id: Option<Uuid>,
        mailbox_id: Option<Uuid>,
    ) -> Result<(), ServiceError> {
        if self.preview.is_none() && (visitor_id.is_some() || mailbox_id.is_some()) {
            self.store
                .backup()
                .link_ticket_origin(ticket_id, visitor_id, mailbox_id)
                .await?;
        }
        Ok(())
    }

    /// Stores an attachment's bytes in `files`.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn store_file(&self, files: &FileStore, bytes: &[u8]) -> std::io::Result<()> {
        if self.preview.is_none() {
            files.put(bytes)?;
        }
        Ok(())
    }

    /// After a restore: new tickets' numbers continue after the highest kept one, and new
    /// events' ids after the highest restored one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn finish_restore(
        &self,
        kept_numbers: bool,
        restored_log: bool,
    ) -> Result<(), ServiceError> {
        if self.preview.is_some() {
            return Ok(());
        }
        if kept_numbers {
            self.store.imports().continue_ticket_numbers().await?;
        }
        if restored_log {
            self.store.backup().continue_event_ids().await?;
        }
        Ok(())
    }

    /// How far an incremental import of `source` has read.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, ServiceError> {
        Ok(self.store.imports().cursor(source).await?)
    }

    /// Records how far an incremental import has read; a dry run moves nothing.
    ///
    /// # Errors
    /// The database failed.
    pub async fn set_cursor(&self, source: &str, cursor: &str) -> Result<(), ServiceError> {
        if self.preview.is_none() {
            self.store.imports().set_cursor(source, cursor).await?;
        }
        Ok(())
    }
}
