//! Dry runs of imports: what `Imports::{user, category, faq, ticket}` and a backup's
//! `Backup::{import_widget, import_webhook, import_visitor, restore_event, restore_notification,
//! restore_mail}` (and, beside them, `Views::restore`, `CannedReplies::restore`,
//! `Tickets::restore_read_mark` and `Mailboxes::import`) would answer, worked out
//! by reading alone, with the run's own would-be writes kept in memory, so that a dry run reports the very created / updated / unchanged / refused counts
//! the real run then does.

use std::collections::{HashMap, HashSet};

use growdesk_domain::fold_case;
use uuid::Uuid;

use crate::backup::{
    ImportedVisitor, ImportedWebhook, ImportedWidget, NotificationRecord, RestoredEvent,
};
use crate::imports::{
    Imported, ImportedCategory, ImportedFaq, ImportedTicket, ImportedUser, RecordKind,
};
use crate::mailboxes::MailboxBackup;
use crate::{Store, StoreError, on_backend};

/// What a dry run would have written so far, in place of the database's writes.
#[derive(Debug, Default)]
pub struct ImportPreview {
    /// `(source, kind, external id)` → the local id the run would have recorded.
    refs: HashMap<(String, RecordKind, String), Uuid>,
    /// Ticket fingerprints the run would have stored, by local id.
    digests: HashMap<Uuid, String>,
    /// User names as the run would have left them, by local id.
    names: HashMap<Uuid, String>,
    /// Emails (lower-cased) and category name keys of the records the run would have created.
    emails: HashMap<String, Uuid>,
    category_keys: HashMap<String, Uuid>,
    /// Keys of the widgets and addresses of the mailboxes the run would have created, by
    /// table.
    unique_keys: HashSet<(&'static str, String)>,
    /// Notifications, saved views and canned replies the run would have restored under their
    /// ids.
    restored: HashSet<Uuid>,
    /// Read marks the run would have restored, by reader and ticket.
    pub(crate) read_marks: HashSet<(Uuid, Uuid)>,
    /// The email channel's records the run would have restored, by table and key.
    pub(crate) mail_keys: HashSet<(&'static str, String)>,
    /// Records the run would have created, of every table.
    created: HashSet<Uuid>,
}

impl ImportPreview {
    fn key(source: &str, kind: RecordKind, external_id: &str) -> (String, RecordKind, String) {
        (source.to_owned(), kind, external_id.to_owned())
    }

    fn remember(&mut self, source: &str, kind: RecordKind, external_id: &str, local: Uuid) {
        self.refs
            .insert(Self::key(source, kind, external_id), local);
    }
}

/// The tables whose rows an imported record may refer to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Referenced {
    User,
    Category,
    Widget,
    Ticket,
    Message,
    Mailbox,
}

/// What an import would do with each record, without writing it.
#[derive(Debug, Clone, Copy)]
pub struct Previews<'a> {
    pub(crate) store: &'a Store,
}

impl Previews<'_> {
    /// The local id recorded for `(source, kind, external_id)`, by the database or by this dry
    /// run.
    ///
    /// # Errors
    /// The database failed.
    pub async fn local_id(
        &self,
        preview: &ImportPreview,
        source: &str,
        kind: RecordKind,
        external_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        match preview
            .refs
            .get(&ImportPreview::key(source, kind, external_id))
        {
            Some(local) => Ok(Some(*local)),
            None => {
                self.store
                    .imports()
                    .local_id(source, kind, external_id)
                    .await
            }
        }
    }

    /// Whether the row `id` exists, in the database or among this dry run's creations.
    pub(crate) async fn preview_exists(
        &self,
        preview: &ImportPreview,
        table: Referenced,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        if preview.created.contains(&id) {
            return Ok(true);
        }
        let sql = match table {
            Referenced::User => "SELECT 1 FROM users WHERE id = $1",
            Referenced::Category => "SELECT 1 FROM categories WHERE id = $1",
            Referenced::Widget => "SELECT 1 FROM widgets WHERE id = $1",
            Referenced::Ticket => "SELECT 1 FROM tickets WHERE id = $1",
            Referenced::Message => "SELECT 1 FROM messages WHERE id = $1",
            Referenced::Mailbox => "SELECT 1 FROM mailboxes WHERE id = $1",
        };
        let found: Option<i32> = on_backend!(self.store, pool => sqlx::query_scalar(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// What `Imports::user` would answer.
    ///
    /// # Errors
    /// The database failed.
    pub async fn user(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        user: &ImportedUser,
    ) -> Result<Imported, StoreError> {
        if let Some(id) = self
            .local_id(preview, source, RecordKind::User, &user.external_id)
            .await?
        {
            let name = match preview.names.get(&id) {
                Some(name) => Some(name.clone()),
                None => on_backend!(self.store, pool => sqlx::query_scalar::<_, String>(
                        "SELECT name FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await)?,
            };
            return Ok(match name {
                Some(name) if name != user.name => {
                    preview.names.insert(id, user.name.clone());
                    Imported::Updated(id)
                }
                _ => Imported::Unchanged(id),
            });
        }
        let email = user.email.to_lowercase();
        let existing = match preview.emails.get(&email) {
            Some(id) => Some(*id),
            None => on_backend!(self.store, pool => sqlx::query_scalar::<_, Uuid>(
                    "SELECT id FROM users WHERE lower(email) = lower($1)")
                .bind(&user.email)
                .fetch_optional(pool)
                .await)?,
        };
        let outcome = match existing {
            Some(id) => Imported::Unchanged(id),
            None => {
                let id = Uuid::now_v7();
                preview.emails.insert(email, id);
                preview.names.insert(id, user.name.clone());
                preview.created.insert(id);
                Imported::Created(id)
            }
        };
        preview.remember(source, RecordKind::User, &user.external_id, outcome.id());
        Ok(outcome)
    }

    /// What `Imports::category` would answer.
    ///
    /// # Errors
    /// The database failed.
    pub async fn category(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        category: &ImportedCategory,
    ) -> Result<Imported, StoreError> {
        if let Some(id) = self
            .local_id(preview, source, RecordKind::Category, &category.external_id)
            .await?
        {
            return Ok(Imported::Unchanged(id));
        }
        let key = fold_case(&category.name);
        let existing = match preview.category_keys.get(&key) {
            Some(id) => Some(*id),
            None => on_backend!(self.store, pool => sqlx::query_scalar::<_, Uuid>(
                    "SELECT id FROM categories WHERE name_key = $1")
                .bind(&key)
                .fetch_optional(pool)
                .await)?,
        };
        let outcome = match existing {
            Some(id) => Imported::Unchanged(id),
            None => {
                let id = Uuid::now_v7();
                preview.category_keys.insert(key, id);
                preview.created.insert(id);
                Imported::Created(id)
            }
        };
        preview.remember(
            source,
            RecordKind::Category,
            &category.external_id,
            outcome.id(),
        );
        Ok(outcome)
    }

    /// What an import that leaves a record imported before as it is would answer: unchanged
    /// when `(source, kind, external_id)` is known, `MissingReference` when a row it refers
    /// to is unknown, created otherwise.
    async fn preview_once(
        &self,
        preview: &mut ImportPreview,
        (source, kind, external_id): (&str, RecordKind, &str),
        references: &[(Referenced, Uuid)],
    ) -> Result<Imported, StoreError> {
        if let Some(id) = self.local_id(preview, source, kind, external_id).await? {
            return Ok(Imported::Unchanged(id));
        }
        for (table, id) in references {
            if !self.preview_exists(preview, *table, *id).await? {
                return Err(StoreError::MissingReference);
            }
        }
        let id = Uuid::now_v7();
        preview.remember(source, kind, external_id, id);
        preview.created.insert(id);
        Ok(Imported::Created(id))
    }

    /// What `Imports::faq` would answer.
    ///
    /// # Errors
    /// `MissingReference` for an unknown category.
    pub async fn faq(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        faq: &ImportedFaq,
    ) -> Result<Imported, StoreError> {
        let category = faq.category_id.map(|id| (Referenced::Category, id));
        self.preview_once(
            preview,
            (source, RecordKind::Faq, &faq.external_id),
            category.as_slice(),
        )
        .await
    }

    /// What `Backup::import_widget` would answer.
    ///
    /// # Errors
    /// `Conflict` when another widget has the key; `MissingReference` for an unknown category.
    pub async fn widget(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        widget: &ImportedWidget,
    ) -> Result<Imported, StoreError> {
        self.preview_unique(
            preview,
            (source, RecordKind::Widget, &widget.external_id),
            (
                "widgets",
                "SELECT 1 FROM widgets WHERE key = $1",
                &widget.key,
            ),
            widget.fields.default_category_id,
        )
        .await
    }

    /// What `Mailboxes::import` would answer.
    ///
    /// # Errors
    /// `Conflict` when another mailbox has the address; `MissingReference` for an unknown
    /// category.
    pub async fn mailbox(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        external_id: &str,
        mailbox: &MailboxBackup,
    ) -> Result<Imported, StoreError> {
        self.preview_unique(
            preview,
            (source, RecordKind::Mailbox, external_id),
            (
                "mailboxes",
                "SELECT 1 FROM mailboxes WHERE address = $1",
                mailbox.fields.address.as_str(),
            ),
            mailbox.fields.default_category_id,
        )
        .await
    }

    /// What an import of a record with a unique key (`table`'s row found by `sql`, a constant)
    /// and a default category would answer: as `preview_once`, and `Conflict` when a record
    /// new to this source has a key another record has.
    async fn preview_unique(
        &self,
        preview: &mut ImportPreview,
        (source, kind, external_id): (&str, RecordKind, &str),
        (table, sql, key): (&'static str, &'static str, &str),
        category_id: Option<Uuid>,
    ) -> Result<Imported, StoreError> {
        let known = self
            .local_id(preview, source, kind, external_id)
            .await?
            .is_some();
        let unique = (table, key.to_owned());
        if !known {
            let key_taken = preview.unique_keys.contains(&unique)
                || on_backend!(self.store, pool => sqlx::query_scalar::<_, i32>(sql)
                    .bind(key)
                    .fetch_optional(pool)
                    .await)?
                .is_some();
            if key_taken {
                return Err(StoreError::Conflict);
            }
        }
        let category = category_id.map(|id| (Referenced::Category, id));
        let outcome = self
            .preview_once(preview, (source, kind, external_id), category.as_slice())
            .await?;
        if let Imported::Created(_) = outcome {
            preview.unique_keys.insert(unique);
        }
        Ok(outcome)
    }

    /// What `Backup::import_webhook` would answer.
    ///
    /// # Errors
    /// The database failed.
    pub async fn webhook(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        webhook: &ImportedWebhook,
    ) -> Result<Imported, StoreError> {
        self.preview_once(
            preview,
            (source, RecordKind::Webhook, &webhook.external_id),
            &[],
        )
        .await
    }

    /// What `Backup::import_visitor` would answer.
    ///
    /// # Errors
    /// `MissingReference` for an unknown widget or user.
    pub async fn visitor(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        visitor: &ImportedVisitor,
    ) -> Result<Imported, StoreError> {
        self.preview_once(
            preview,
            (source, RecordKind::Visitor, &visitor.external_id),
            &[
                (Referenced::Widget, visitor.widget_id),
                (Referenced::User, visitor.user_id),
            ],
        )
        .await
    }

    /// What `restore_event` would answer (its outcome's id is the entry's ticket).
    ///
    /// # Errors
    /// The database failed.
    pub async fn event(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        event: &RestoredEvent,
    ) -> Result<Imported, StoreError> {
        let outcome = self
            .preview_once(
                preview,
                (source, RecordKind::Event, &event.id.to_string()),
                &[],
            )
            .await?;
        Ok(match outcome {
            Imported::Created(_) => Imported::Created(event.ticket_id),
            _ => Imported::Unchanged(event.ticket_id),
        })
    }

    /// What `restore_notification` would answer.
    ///
    /// # Errors
    /// `MissingReference` for an unknown user.
    pub async fn notification(
        &self,
        preview: &mut ImportPreview,
        notification: &NotificationRecord,
    ) -> Result<Imported, StoreError> {
        self.restore_by_id(
            preview,
            "notifications",
            notification.id,
            Some(notification.user_id),
        )
        .await
    }

    /// What restoring row `id` of `table` (a constant) under its own id would answer: unchanged
    /// when there already, else created if the user it belongs to exists.
    pub(crate) async fn restore_by_id(
        &self,
        preview: &mut ImportPreview,
        table: &'static str,
        id: Uuid,
        user_id: Option<Uuid>,
    ) -> Result<Imported, StoreError> {
        let sql = format!("SELECT 1 FROM {table} WHERE id = $1");
        let stored = preview.restored.contains(&id)
            || on_backend!(self.store, pool => sqlx::query_scalar::<_, i32>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(pool)
                .await)?
            .is_some();
        if stored {
            return Ok(Imported::Unchanged(id));
        }
        if let Some(user_id) = user_id
            && !self
                .preview_exists(preview, Referenced::User, user_id)
                .await?
        {
            return Err(StoreError::MissingReference);
        }
        preview.restored.insert(id);
        Ok(Imported::Created(id))
    }

    /// What `Imports::ticket` would answer: created when new to this source, updated when its
    /// fingerprint changed or it brings messages not seen before, `MissingReference` when a
    /// user or category it would write is unknown (the real run's transaction then writes
    /// nothing, and neither does the preview).
    ///
    /// # Errors
    /// `MissingReference` for unknown users or categories; the database failed.
    pub async fn ticket(
        &self,
        preview: &mut ImportPreview,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, StoreError> {
        let digest = ticket.digest();
        let known = match self
            .local_id(preview, source, RecordKind::Ticket, &ticket.external_id)
            .await?
        {
            Some(id) => {
                let seen = match preview.digests.get(&id) {
                    Some(seen) => Some(seen.clone()),
                    None => on_backend!(self.store, pool => sqlx::query_scalar::<_, Option<String>>(
                            "SELECT digest FROM external_refs WHERE source = $1 AND kind = 'ticket' AND external_id = $2")
                        .bind(source)
                        .bind(&ticket.external_id)
                        .fetch_optional(pool)
                        .await)?
                    .flatten(),
                };
                Some((id, seen))
            }
            None => None,
        };
        let mut written: Vec<(Referenced, Uuid)> = Vec::new();
        let fields = [
            (Referenced::User, ticket.assignee_id),
            (Referenced::Category, ticket.category_id),
        ];
        let mut outcome = match known {
            Some((id, seen)) if seen.as_deref() == Some(digest.as_str()) => Imported::Unchanged(id),
            Some((id, _)) => {
                written.extend(
                    fields
                        .iter()
                        .filter_map(|(table, id)| id.map(|id| (*table, id))),
                );
                Imported::Updated(id)
            }
            None => {
                written.push((Referenced::User, ticket.requester_id));
                written.extend(
                    fields
                        .iter()
                        .filter_map(|(table, id)| id.map(|id| (*table, id))),
                );
                Imported::Created(Uuid::now_v7())
            }
        };
        let mut new_messages = Vec::new();
        for message in &ticket.messages {
            if self
                .local_id(preview, source, RecordKind::Message, &message.external_id)
                .await?
                .is_none()
            {
                written.push((Referenced::User, message.author_id));
                new_messages.push(message.external_id.as_str());
            }
        }
        for (table, id) in written {
            if !self.preview_exists(preview, table, id).await? {
                return Err(StoreError::MissingReference);
            }
        }
        let id = outcome.id();
        if !new_messages.is_empty() && outcome == Imported::Unchanged(id) {
            outcome = Imported::Updated(id);
        }
        preview.remember(source, RecordKind::Ticket, &ticket.external_id, id);
        preview.digests.insert(id, digest);
        if matches!(outcome, Imported::Created(_)) {
            preview.created.insert(id);
        }
        for message in new_messages {
            let local = Uuid::now_v7();
            preview.remember(source, RecordKind::Message, message, local);
            preview.created.insert(local);
        }
        Ok(outcome)
    }
}
