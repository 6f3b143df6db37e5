//! Where an importer writes: the store, or for `--dry-run` a preview of it that answers as the
//! store would and writes nothing. Importers take one path for both, so a dry run reports the
//! created / updated / unchanged / refused counts the real run then does.

use std::collections::HashMap;

use growdesk_domain::Role;
use growdesk_store::{
    ImportPreview, Imported, ImportedCategory, ImportedTicket, ImportedUser, Store, StoreError,
};

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
        let outcome = match &mut self.preview {
            Some(preview) => self.store.preview_user(preview, source, user).await,
            None => self.store.import_user(source, user).await,
        }?;
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
        match &mut self.preview {
            Some(preview) => self.store.preview_category(preview, source, category).await,
            None => self.store.import_category(source, category).await,
        }
    }

    pub(crate) async fn ticket(
        &mut self,
        source: &str,
        ticket: &ImportedTicket,
    ) -> Result<Imported, StoreError> {
        match &mut self.preview {
            Some(preview) => self.store.preview_ticket(preview, source, ticket).await,
            None => self.store.import_ticket(source, ticket).await,
        }
    }

    /// Records how far an incremental import has read; a dry run moves nothing.
    pub(crate) async fn set_cursor(&self, source: &str, cursor: &str) -> Result<(), StoreError> {
        match self.preview {
            Some(_) => Ok(()),
            None => self.store.set_import_cursor(source, cursor).await,
        }
    }
}
