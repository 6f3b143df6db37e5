//! Where an importer writes: the store, or for `--dry-run` a preview of it that answers as the
//! store would and writes nothing. Importers take one path for both, so a dry run reports the
//! created / updated / unchanged / refused counts the real run then does.

use std::collections::HashMap;

use growdesk_domain::Role;
use growdesk_store::{
    ImportPreview, Imported, ImportedCategory, ImportedFaq, ImportedTicket, ImportedUser,
    ImportedVisitor, ImportedWebhook, ImportedWidget, NotificationRecord, RestoredEvent, Store,
    StoreError,
};

/// Asks the preview in a dry run, the store otherwise, the same question about one record.
macro_rules! either {
    ($target:expr, $preview:ident($($preview_args:expr),*), $write:ident($($write_args:expr),*)) => {
        match &mut $target.preview {
            Some(preview) => $target.store.$preview(preview, $($preview_args),*).await,
            None => $target.store.$write($($write_args),*).await,
        }
    };
}

pub(crate) struct Target<'a> {
    store: &'a Store,
    /// Present in a dry run.
    preview: Option<ImportPreview>,
    /// Roles of the users this import created (a dry run's are nowhere else).
    created_roles: HashMap<uuid::Uuid, Role>,
}

impl<'a> Target<'a> {
    pub(crate) fn new(store: &'a Store, dry_run: bool) -> Self {
        Self {
            store,
            preview: dry_run.then(ImportPreview::default),
            created_roles: HashMap::new(),
        }
    }

    /// The local id recorded for `(source, kind, external_id)`.
    pub(crate) async fn local_id(
        &self,
        source: &str,
        kind: &str,
        external_id: &str,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        match &self.preview {
            Some(preview) => {
                self.store
                    .preview_local_id(preview, source, kind, external_id)
                    .await
            }
            None => self.store.local_id(source, kind, external_id).await,
        }
    }

    pub(crate) async fn user(
        &mut self,
        source: &str,
        user: &ImportedUser,
    ) -> Result<Imported, StoreError> {
        let outcome = either!(self, preview_user(source, user), import_user(source, user))?;
        if let Imported::Created(id) = outcome {
            self.created_roles.insert(id, user.role);
        }
        Ok(outcome)
    }

    /// `user` when that user is staff, else `None`: a ticket is assigned to staff only (an
    /// agent record matched by email to an existing customer, say, leaves it unassigned).
    pub(crate) async fn staff(&self, user: uuid::Uuid) -> Result<Option<uuid::Uuid>, StoreError> {
        let role = match self.created_roles.get(&user) {
            Some(role) => Some(*role),
            None => self.store.user(user).await?.map(|found| found.role),
        };
        Ok(role.filter(|role| role.is_staff()).map(|_| user))
    }

    pub(crate) async fn category(
        &mut self,
        source: &str,
        category: &ImportedCategory,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_category(source, category),
            import_category(source, category)
        )
    }

    pub(crate) async fn ticket(
        &mut self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_ticket(source, ticket),
            import_ticket(source, ticket)
        )
    }

    /// As `ticket`, without logging the ticket's creation (a backup brings its own log).
    pub(crate) async fn restored_ticket(
        &mut self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_ticket(source, ticket),
            restore_ticket(source, ticket)
        )
    }

    pub(crate) async fn faq(
        &mut self,
        source: &str,
        faq: &ImportedFaq,
    ) -> Result<Imported, StoreError> {
        either!(self, preview_faq(source, faq), import_faq(source, faq))
    }

    pub(crate) async fn widget(
        &mut self,
        source: &str,
        widget: &ImportedWidget,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_widget(source, widget),
            import_widget(source, widget)
        )
    }

    pub(crate) async fn webhook(
        &mut self,
        source: &str,
        webhook: &ImportedWebhook,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_webhook(source, webhook),
            import_webhook(source, webhook)
        )
    }

    pub(crate) async fn visitor(
        &mut self,
        source: &str,
        visitor: &ImportedVisitor,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_visitor(source, visitor),
            import_visitor(source, visitor)
        )
    }

    pub(crate) async fn event(
        &mut self,
        source: &str,
        event: &RestoredEvent,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_event(source, event),
            restore_event(source, event)
        )
    }

    pub(crate) async fn notification(
        &mut self,
        notification: &NotificationRecord,
    ) -> Result<Imported, StoreError> {
        either!(
            self,
            preview_notification(notification),
            restore_notification(notification)
        )
    }

    /// The store when this run writes; `None` in a dry run, which skips the finishing touches
    /// (kept times, versions, stored files) that change no count.
    pub(crate) fn writing(&self) -> Option<&'a Store> {
        self.preview.is_none().then_some(self.store)
    }

    /// Records how far an incremental import has read; a dry run moves nothing.
    pub(crate) async fn set_cursor(&self, source: &str, cursor: &str) -> Result<(), StoreError> {
        match self.writing() {
            Some(store) => store.set_import_cursor(source, cursor).await,
            None => Ok(()),
        }
    }
}
