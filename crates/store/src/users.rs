//! Users: create, look up, list and change accounts.

use growdesk_domain::{Email, Role, User, fold_case};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

/// The address of the account automatic messages are written by.
pub const SYSTEM_EMAIL: &str = "system@growdesk.local";

/// The columns `UserRow` reads, in one place so every query selects the same set.
const USER_COLUMNS: &str = "id, email, name, role, active, created_at, updated_at, password_hash, token_version, notify_new_tickets";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    active: bool,
    created_at: Stamp,
    updated_at: Stamp,
    password_hash: Option<String>,
    token_version: i64,
    notify_new_tickets: bool,
}

impl TryFrom<UserRow> for UserCredentials {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role: Role = row
            .role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("user {} has role {:?}", row.id, row.role)))?;
        Ok(Self {
            user: User {
                id: row.id,
                email: row.email,
                name: row.name,
                role,
                active: row.active,
                notify_new_tickets: row.notify_new_tickets,
                created_at: row.created_at.into(),
                updated_at: row.updated_at.into(),
            },
            password_hash: row.password_hash,
            token_version: row.token_version,
        })
    }
}

/// A user together with what sign-in needs; never leaves the service layer.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    /// PHC string; `None` for accounts that cannot sign in with a password.
    pub password_hash: Option<String>,
    /// Access tokens carrying an older version are refused.
    pub token_version: i64,
}

/// A user to create. The email must already be normalised (`growdesk_domain::Email`).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    /// Invalidate every access token issued so far.
    pub bump_token_version: bool,
    /// Staff: be notified of every new ticket.
    pub notify_new_tickets: Option<bool>,
}

/// Filters for the admin's user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Case-insensitive substring of the email or the name.
    pub query: Option<String>,
}

fn into_user(row: UserRow) -> Result<User, StoreError> {
    UserCredentials::try_from(row).map(|credentials| credentials.user)
}

/// `%text%` for LIKE, with LIKE's own wildcards escaped so they match literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// User accounts: create, look up, list, change, export.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    pub(crate) store: &'a Store,
}

impl Users<'_> {
    /// Inserts a user with a fresh UUIDv7.
    ///
    /// # Errors
    /// `Conflict` when the email is taken (whatever its case).
    pub async fn create(&self, new: NewUser) -> Result<User, StoreError> {
        let now = Stamp::now();
        let row: UserRow = on_backend!(write self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at, name_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING {USER_COLUMNS}")))
            .bind(Uuid::now_v7())
            .bind(&new.email)
            .bind(&new.name)
            .bind(new.role.as_str())
            .bind(&new.password_hash)
            .bind(now)
            .bind(fold_case(&new.name))
            .fetch_one(pool)
            .await)?;
        into_user(row)
    }

    /// The user with this id.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.credentials(id)
            .await
            .map(|found| found.map(|credentials| credentials.user))
    }

    /// The user with this id, with their password hash and token version.
    ///
    /// # Errors
    /// The database failed.
    pub async fn credentials(&self, id: Uuid) -> Result<Option<UserCredentials>, StoreError> {
        let row: Option<UserRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(UserCredentials::try_from).transpose()
    }

    /// The user with this (normalised) email, with their password hash.
    ///
    /// # Errors
    /// The database failed.
    pub async fn credentials_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UserCredentials>, StoreError> {
        let row: Option<UserRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)")))
            .bind(email)
            .fetch_optional(pool)
            .await)?;
        row.map(UserCredentials::try_from).transpose()
    }

    /// Rewrites the addresses stored before emails were NFKC-normalised into the form `Email`
    /// gives them now, so that their owners sign in by typing them; only a non-ASCII address
    /// can differ. One whose normal form is another account's, or that is no longer accepted
    /// (it holds an invisible character), stays as it is and is logged by user id, for an
    /// admin to settle: neither account is merged or locked out by a start-up.
    ///
    /// # Errors
    /// The database failed.
    pub async fn normalise_stored_emails(&self) -> Result<(), StoreError> {
        let stored: Vec<(Uuid, String)> = on_backend!(self.store, pool, Db => sqlx::query_as(Db::NON_ASCII_EMAILS)
            .fetch_all(pool)
            .await)?;
        for (id, email) in stored {
            let normal = match Email::parse(&email) {
                Ok(normal) if normal.as_str() == email => continue,
                Ok(normal) => normal.into_inner(),
                Err(_) => {
                    tracing::warn!(user_id = %id, "a stored email is no longer a valid address; the account cannot sign in until an admin changes it");
                    continue;
                }
            };
            let renamed = on_backend!(write self.store, pool => sqlx::query("UPDATE users SET email = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(&normal)
                .bind(Stamp::now())
                .execute(pool)
                .await
                .map(drop));
            match renamed.map_err(StoreError::from) {
                Ok(_) => tracing::info!(user_id = %id, "stored email normalised"),
                Err(StoreError::Conflict) => {
                    tracing::warn!(user_id = %id, "a stored email normalises to another account's; both are kept for an admin to settle");
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// One page of users in id (creation) order, after `after`. Asks for one row more than
    /// `limit` is not done here: the caller decides how to page.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(
        &self,
        filter: &UserFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        // Emails are stored lower-cased; names are matched by their folded key, which SQLite's
        // ASCII-only lower() could not give.
        let email_pattern = filter
            .query
            .as_deref()
            .map(|query| like_pattern(&query.to_lowercase()));
        let name_pattern = filter
            .query
            .as_deref()
            .map(|query| like_pattern(&fold_case(query)));
        let rows: Vec<UserRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users \
                 WHERE ($1 IS NULL OR role = $1) AND ($2 IS NULL OR active = $2) \
                 AND ($3 IS NULL OR lower(email) LIKE $3 ESCAPE '\\' OR name_key LIKE $6 ESCAPE '\\') \
                 AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5")))
            .bind(filter.role.map(Role::as_str))
            .bind(filter.active)
            .bind(&email_pattern)
            .bind(after)
            .bind(i64::from(limit))
            .bind(&name_pattern)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(into_user).collect()
    }

    /// Applies `changes`; returns the updated user, or `None` when there is no such user.
    ///
    /// # Errors
    /// The database failed.
    pub async fn update(&self, id: Uuid, changes: UserChanges) -> Result<Option<User>, StoreError> {
        let now = Stamp::now();
        let row: Option<UserRow> = on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE users SET name = COALESCE($2, name), name_key = COALESCE($9, name_key), \
                     role = COALESCE($3, role), \
                     active = COALESCE($4, active), password_hash = COALESCE($5, password_hash), \
                     notify_new_tickets = COALESCE($8, notify_new_tickets), \
                     token_version = token_version + $6, updated_at = $7 \
                     WHERE id = $1 RETURNING {USER_COLUMNS}")))
                .bind(id)
                .bind(&changes.name)
                .bind(changes.role.map(Role::as_str))
                .bind(changes.active)
                .bind(&changes.password_hash)
                .bind(i64::from(changes.bump_token_version))
                .bind(now)
                .bind(changes.notify_new_tickets)
                .bind(changes.name.as_deref().map(fold_case))
                .fetch_optional(&mut *tx)
                .await?;
            if row.is_some() && changes.bump_token_version {
                // Every token of the user is now invalid: their sockets must close too.
                tx.before_append().await?;
                sqlx::query("INSERT INTO session_revocations (user_id, session_id, created_at) VALUES ($1, NULL, $2)")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(row)
        })?;
        // Whatever changed, this process reads the user again; other processes learn of the
        // changes that matter to access through the revocation the token bump records.
        self.store.principals.forget(id, None);
        if changes.bump_token_version {
            self.store.announce_change();
        }
        row.map(into_user).transpose()
    }

    /// Whether any active admin exists: the bootstrap creates one when none does.
    ///
    /// # Errors
    /// The database failed.
    pub async fn has_active_admin(&self) -> Result<bool, StoreError> {
        let found: Option<i32> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT 1 FROM users WHERE role = 'admin' AND active = TRUE LIMIT 1")
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }
}

impl Users<'_> {
    /// Active staff who asked to be notified of every new ticket.
    ///
    /// # Errors
    /// The database failed.
    pub async fn staff_notified_of_new_tickets(&self) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<Uuid> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT id FROM users WHERE notify_new_tickets = TRUE AND active = TRUE AND role IN ('admin', 'agent')")
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }
}

impl Users<'_> {
    /// A page of users with their credentials, in id order after `after`: for exports.
    ///
    /// # Errors
    /// The database failed.
    pub async fn export(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<UserCredentials>, StoreError> {
        let rows: Vec<UserRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(UserCredentials::try_from).collect()
    }

    /// Every active agent and admin (few): for resolving mentions.
    ///
    /// # Errors
    /// The database failed.
    pub async fn active_staff(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE active = TRUE AND role IN ('admin', 'agent') ORDER BY id")))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(into_user).collect()
    }

    /// The account automatic messages are written by, created on first use: an admin that
    /// cannot sign in (no password, inactive).
    ///
    /// # Errors
    /// The database failed.
    pub async fn system_user(&self) -> Result<Uuid, StoreError> {
        if let Some(found) = self.credentials_by_email(SYSTEM_EMAIL).await? {
            return Ok(found.user.id);
        }
        let created = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO users (id, email, name, role, password_hash, active, created_at, updated_at, name_key) \
                 VALUES ($1, $2, 'GrowDesk', 'admin', NULL, FALSE, $3, $3, 'growdesk') ON CONFLICT DO NOTHING")
            .bind(Uuid::now_v7())
            .bind(SYSTEM_EMAIL)
            .bind(Stamp::now())
            .execute(pool)
            .await
            .map(drop));
        created?;
        let found = self.credentials_by_email(SYSTEM_EMAIL).await?;
        found
            .map(|credentials| credentials.user.id)
            .ok_or(StoreError::Corrupt("the system user vanished".to_owned()))
    }

    /// The language a user is written to in (a BCP 47 tag, as given), if known.
    ///
    /// # Errors
    /// The database failed.
    pub async fn locale(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        let locale: Option<Option<String>> = on_backend!(self.store, pool => sqlx::query_scalar(
                "SELECT locale FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(locale.flatten())
    }

    /// Sets the language a user is written to in (`None`: unknown); whether the user exists.
    ///
    /// # Errors
    /// The database failed.
    pub async fn set_locale(&self, id: Uuid, locale: Option<&str>) -> Result<bool, StoreError> {
        let updated = on_backend!(write self.store, pool => sqlx::query(
                "UPDATE users SET locale = $2 WHERE id = $1")
            .bind(id)
            .bind(locale)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(updated > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_match_literally() {
        assert_eq!(like_pattern("50%_Off\\"), "%50\\%\\_Off\\\\%");
    }
}
