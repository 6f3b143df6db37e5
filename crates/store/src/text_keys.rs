//! Caseless keys that only Rust computes (SQLite's `lower()` knows only ASCII): category name
//! keys made right at every start-up; stored tags and user name keys folded once after
//! migration 0013.

use std::collections::HashSet;

use growdesk_domain::fold_case;
use uuid::Uuid;

use crate::{Store, StoreError, on_backend};

/// The `pending_backfills` entry of the tags lower-cased before tags were folded.
const FOLD_TICKET_TAGS: &str = "fold_ticket_tags";
/// The `pending_backfills` entry of the user name keys migration 0013 took from `lower()`.
const FOLD_USER_NAMES: &str = "fold_user_names";
/// Users read and rewritten per transaction by the one-off name backfill.
const USERS_PER_BATCH: i64 = 5_000;

/// Marks a one-off backfill done, in the transaction that did it.
const BACKFILL_DONE: &str = "DELETE FROM pending_backfills WHERE name = $1";

/// A row's name and the key stored for it (a category's or a user's).
#[derive(sqlx::FromRow)]
struct KeyedName {
    id: Uuid,
    name: String,
    name_key: String,
}

/// A key no folded name can be: folding leaves no capital letter. It holds a row's place while
/// keys move, so that two rows trading keys never meet the unique index halfway.
fn placeholder_key(id: Uuid) -> String {
    format!("PENDING {id}")
}

/// `name`, or `name (2)`, `name (3)`… — the first whose key is not in `taken`.
fn free_name(name: &str, taken: &HashSet<String>) -> (String, String) {
    let key = fold_case(name);
    if !taken.contains(&key) {
        return (name.to_owned(), key);
    }
    (2..)
        .map(|n| format!("{name} ({n})"))
        .map(|candidate| {
            let key = fold_case(&candidate);
            (candidate, key)
        })
        .find(|(_, key)| !taken.contains(key))
        .unwrap_or_default()
}

impl Store {
    /// Brings the keys only Rust computes up to date: run after the migrations.
    ///
    /// # Errors
    /// The database failed.
    pub(crate) async fn refold_text_keys(&self) -> Result<(), StoreError> {
        self.refold_category_keys().await?;
        self.fold_stored_tags().await?;
        self.fold_user_names().await
    }

    /// Whether the one-off backfill `name` is still to do. Checked, not taken: the entry goes
    /// only once the work is committed, so a start-up cut short does it again.
    async fn backfill_pending(&self, name: &str) -> Result<bool, StoreError> {
        let pending: Option<String> = on_backend!(self, pool => sqlx::query_scalar(
                "SELECT name FROM pending_backfills WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await)?;
        Ok(pending.is_some())
    }

    /// Once, after migration 0013: every user's name key becomes the folded name, in batches
    /// so that a large table is not rewritten under one lock.
    async fn fold_user_names(&self) -> Result<(), StoreError> {
        if !self.backfill_pending(FOLD_USER_NAMES).await? {
            return Ok(());
        }
        let mut after: Option<Uuid> = None;
        loop {
            let last = on_backend!(self, pool => {
                let mut tx = self.begin_write(pool).await?;
                let users: Vec<KeyedName> = sqlx::query_as(
                    "SELECT id, name, name_key FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(USERS_PER_BATCH)
                .fetch_all(&mut *tx)
                .await?;
                for user in &users {
                    let key = fold_case(&user.name);
                    if key != user.name_key {
                        sqlx::query("UPDATE users SET name_key = $2 WHERE id = $1")
                            .bind(user.id)
                            .bind(&key)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                if users.is_empty() {
                    sqlx::query(BACKFILL_DONE)
                        .bind(FOLD_USER_NAMES)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(users.last().map(|user| user.id))
            })?;
            match last {
                Some(id) => after = Some(id),
                None => return Ok(()),
            }
        }
    }

    /// Sets each category's key to its folded name. Names that fold alike (`élan` and `ÉLAN`,
    /// which SQLite's ASCII-only index let in) keep the oldest as it is; the others get a
    /// numbered name, logged, rather than being merged or refused.
    async fn refold_category_keys(&self) -> Result<(), StoreError> {
        let renamed = on_backend!(self, pool => {
            let mut tx = self.begin_write(pool).await?;
            let rows: Vec<KeyedName> =
                sqlx::query_as("SELECT id, name, name_key FROM categories ORDER BY created_at, id")
                    .fetch_all(&mut *tx)
                    .await?;
            // Oldest first: of names that fold alike, the oldest keeps its own.
            let mut taken = HashSet::new();
            let mut changes = Vec::new();
            for row in rows {
                let (name, key) = free_name(&row.name, &taken);
                taken.insert(key.clone());
                if name != row.name || key != row.name_key {
                    changes.push((row.id, row.name, name, key));
                }
            }
            for (id, ..) in &changes {
                sqlx::query("UPDATE categories SET name_key = $2 WHERE id = $1")
                    .bind(id)
                    .bind(placeholder_key(*id))
                    .execute(&mut *tx)
                    .await?;
            }
            let mut renamed = Vec::new();
            for (id, old_name, name, key) in changes {
                sqlx::query("UPDATE categories SET name = $2, name_key = $3 WHERE id = $1")
                    .bind(id)
                    .bind(&name)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                if name != old_name {
                    renamed.push((id, old_name, name));
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(renamed)
        })?;
        for (id, from, to) in renamed {
            tracing::warn!(category_id = %id, %from, %to, "category renamed: its name folds like an older one's");
        }
        Ok(())
    }

    /// Once, after migration 0013: each stored tag becomes its folded form, merged with that
    /// form where a ticket has both.
    async fn fold_stored_tags(&self) -> Result<(), StoreError> {
        if !self.backfill_pending(FOLD_TICKET_TAGS).await? {
            return Ok(());
        }
        on_backend!(self, pool => {
            let mut tx = self.begin_write(pool).await?;
            let tags: Vec<String> = sqlx::query_scalar("SELECT DISTINCT tag FROM ticket_tags")
                .fetch_all(&mut *tx)
                .await?;
            for tag in tags {
                let folded = fold_case(&tag);
                if folded == tag {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO ticket_tags (ticket_id, tag) SELECT ticket_id, $2 FROM ticket_tags \
                     WHERE tag = $1 ON CONFLICT DO NOTHING",
                )
                .bind(&tag)
                .bind(&folded)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM ticket_tags WHERE tag = $1")
                    .bind(&tag)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(BACKFILL_DONE).bind(FOLD_TICKET_TAGS).execute(&mut *tx).await?;
            tx.commit().await
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_names_are_numbered_and_placeholders_never_fold_from_a_name() {
        let taken: HashSet<String> = ["élan", "élan (2)"].map(String::from).into();
        assert_eq!(
            free_name("ÉLAN", &taken),
            ("ÉLAN (3)".to_owned(), "élan (3)".to_owned())
        );
        assert_eq!(
            free_name("Billing", &taken),
            ("Billing".to_owned(), "billing".to_owned())
        );
        let id = Uuid::now_v7();
        assert_ne!(fold_case(&placeholder_key(id)), placeholder_key(id));
    }
}
