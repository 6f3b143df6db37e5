//! Mailboxes: the addresses customers write to, their IMAP and SMTP servers, and how far each
//! mailbox's folder has been read.
//!
//! Passwords are stored as webhook secrets are (the fetcher and the sender need them in
//! clear) but are never read into a `Mailbox`: only `secrets` returns them.

use growdesk_domain::mail::{AfterImport, ImapSettings, Mailbox, SmtpSettings, TransportSecurity};
use growdesk_domain::{Email, Priority};
use uuid::Uuid;

use crate::imports::{Imported, RecordKind};
use crate::write_tx::WriteTx as _;
use crate::{Stamp, Store, StoreError, on_backend};

/// A mailbox's fields, complete (passwords apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxFields {
    pub address: Email,
    pub display_name: String,
    pub imap: Option<ImapSettings>,
    pub smtp: Option<SmtpSettings>,
    pub default_category_id: Option<Uuid>,
    pub default_priority: Priority,
    pub acknowledge: bool,
    pub active: bool,
}

/// A mailbox to create, with its passwords (ignored for a side that has no settings).
#[derive(Clone)]
pub struct NewMailbox {
    pub id: Uuid,
    pub fields: MailboxFields,
    pub imap_password: Option<String>,
    pub smtp_password: Option<String>,
}

/// A mailbox's new fields. Passwords: `None` keeps the stored one, `Some(None)` clears it,
/// `Some(Some(p))` sets it; a side whose settings are removed loses its password.
#[derive(Clone)]
pub struct MailboxChanges {
    pub fields: MailboxFields,
    pub imap_password: Option<Option<String>>,
    pub smtp_password: Option<Option<String>>,
}

/// How a password shows in `Debug`: whether there is one, never what it is.
fn redacted(password: Option<&String>) -> Option<&'static str> {
    password.map(|_| "…")
}

impl std::fmt::Debug for NewMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMailbox")
            .field("id", &self.id)
            .field("fields", &self.fields)
            .field("imap_password", &redacted(self.imap_password.as_ref()))
            .field("smtp_password", &redacted(self.smtp_password.as_ref()))
            .finish()
    }
}

impl std::fmt::Debug for MailboxChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let change =
            |password: &Option<Option<String>>| password.as_ref().map(|set| redacted(set.as_ref()));
        f.debug_struct("MailboxChanges")
            .field("fields", &self.fields)
            .field("imap_password", &change(&self.imap_password))
            .field("smtp_password", &change(&self.smtp_password))
            .finish()
    }
}

/// A mailbox's passwords, for the fetcher and the sender.
#[derive(Clone, PartialEq, Eq)]
pub struct MailboxSecrets {
    pub imap_password: Option<String>,
    pub smtp_password: Option<String>,
}

/// Never prints the passwords, only whether each is set.
impl std::fmt::Debug for MailboxSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxSecrets")
            .field("imap_password", &redacted(self.imap_password.as_ref()))
            .field("smtp_password", &redacted(self.smtp_password.as_ref()))
            .finish()
    }
}

/// How far a mailbox's folder has been read: UIDs are only comparable within one
/// `UIDVALIDITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxCursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// A mailbox as a backup carries it (`growdesk-sync export`, restored by `import json`): with
/// its passwords, as webhooks' secrets are carried, and how far its folder was read, so a
/// restored desk neither needs them typed again nor fetches the whole folder again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxBackup {
    pub id: Uuid,
    pub fields: MailboxFields,
    pub secrets: MailboxSecrets,
    pub cursor: Option<MailboxCursor>,
    pub created_at: Stamp,
    pub updated_at: Stamp,
}

impl From<Mailbox> for MailboxFields {
    fn from(mailbox: Mailbox) -> Self {
        Self {
            address: mailbox.address,
            display_name: mailbox.display_name,
            imap: mailbox.imap,
            smtp: mailbox.smtp,
            default_category_id: mailbox.default_category_id,
            default_priority: mailbox.default_priority,
            acknowledge: mailbox.acknowledge,
            active: mailbox.active,
        }
    }
}

/// A cursor as stored, checked: UIDs are 32-bit.
fn stored_cursor(id: Uuid, uid_validity: i64, last_uid: i64) -> Result<MailboxCursor, StoreError> {
    let corrupt =
        || StoreError::Corrupt(format!("mailbox {id} has cursor {uid_validity}:{last_uid}"));
    Ok(MailboxCursor {
        uid_validity: u32::try_from(uid_validity).map_err(|_| corrupt())?,
        last_uid: u32::try_from(last_uid).map_err(|_| corrupt())?,
    })
}

#[derive(sqlx::FromRow)]
struct BackupRow {
    #[sqlx(flatten)]
    mailbox: MailboxRow,
    imap_password: Option<String>,
    smtp_password: Option<String>,
    uid_validity: Option<i64>,
    last_uid: Option<i64>,
}

impl TryFrom<BackupRow> for MailboxBackup {
    type Error = StoreError;

    fn try_from(row: BackupRow) -> Result<Self, Self::Error> {
        let (created_at, updated_at) = (row.mailbox.created_at, row.mailbox.updated_at);
        let mailbox = Mailbox::try_from(row.mailbox)?;
        let cursor = match (row.uid_validity, row.last_uid) {
            (Some(uid_validity), Some(last_uid)) => {
                Some(stored_cursor(mailbox.id, uid_validity, last_uid)?)
            }
            _ => None,
        };
        Ok(Self {
            id: mailbox.id,
            fields: mailbox.into(),
            secrets: MailboxSecrets {
                imap_password: row.imap_password,
                smtp_password: row.smtp_password,
            },
            cursor,
            created_at,
            updated_at,
        })
    }
}

const COLUMNS: &str = "id, address, display_name, imap_host, imap_port, imap_security, imap_username, imap_folder, \
     imap_after_import, imap_password IS NOT NULL AS has_imap_password, smtp_host, smtp_port, smtp_security, \
     smtp_username, smtp_password IS NOT NULL AS has_smtp_password, default_category_id, default_priority, \
     acknowledge, active, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct MailboxRow {
    id: Uuid,
    address: String,
    display_name: String,
    imap_host: Option<String>,
    imap_port: Option<i32>,
    imap_security: Option<String>,
    imap_username: Option<String>,
    imap_folder: Option<String>,
    imap_after_import: Option<String>,
    has_imap_password: bool,
    smtp_host: Option<String>,
    smtp_port: Option<i32>,
    smtp_security: Option<String>,
    smtp_username: Option<String>,
    has_smtp_password: bool,
    default_category_id: Option<Uuid>,
    default_priority: i16,
    acknowledge: bool,
    active: bool,
    created_at: Stamp,
    updated_at: Stamp,
}

impl TryFrom<MailboxRow> for Mailbox {
    type Error = StoreError;

    fn try_from(row: MailboxRow) -> Result<Self, Self::Error> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("mailbox {} has an invalid {what}", row.id));
        let port = |port: i32| u16::try_from(port).map_err(|_| corrupt("port"));
        let security = |text: &str| {
            text.parse::<TransportSecurity>()
                .map_err(|_| corrupt("security"))
        };
        let imap = match (
            row.imap_host,
            row.imap_port,
            row.imap_security,
            row.imap_username,
            row.imap_folder,
            row.imap_after_import,
        ) {
            (None, None, None, None, None, None) => None,
            (
                Some(host),
                Some(port_number),
                Some(secured),
                Some(username),
                Some(folder),
                Some(after),
            ) => Some(ImapSettings {
                host,
                port: port(port_number)?,
                security: security(&secured)?,
                username,
                folder,
                after_import: AfterImport::from_stored(&after)
                    .ok_or_else(|| corrupt("after-import action"))?,
            }),
            _ => return Err(corrupt("IMAP setting")),
        };
        let smtp = match (
            row.smtp_host,
            row.smtp_port,
            row.smtp_security,
            row.smtp_username,
        ) {
            (None, None, None, None) => None,
            (Some(host), Some(port_number), Some(secured), Some(username)) => Some(SmtpSettings {
                host,
                port: port(port_number)?,
                security: security(&secured)?,
                username,
            }),
            _ => return Err(corrupt("SMTP setting")),
        };
        Ok(Self {
            id: row.id,
            address: Email::parse(&row.address).map_err(|_| corrupt("address"))?,
            display_name: row.display_name,
            imap,
            smtp,
            has_imap_password: row.has_imap_password,
            has_smtp_password: row.has_smtp_password,
            default_category_id: row.default_category_id,
            default_priority: Priority::from_rank(row.default_priority)
                .ok_or_else(|| corrupt("priority"))?,
            acknowledge: row.acknowledge,
            active: row.active,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        })
    }
}

/// A mailbox's fields as the columns hold them.
struct Columns<'a> {
    address: &'a str,
    display_name: &'a str,
    imap_host: Option<&'a str>,
    imap_port: Option<i32>,
    imap_security: Option<&'static str>,
    imap_username: Option<&'a str>,
    imap_folder: Option<&'a str>,
    imap_after_import: Option<String>,
    smtp_host: Option<&'a str>,
    smtp_port: Option<i32>,
    smtp_security: Option<&'static str>,
    smtp_username: Option<&'a str>,
    default_category_id: Option<Uuid>,
    default_priority: i16,
    acknowledge: bool,
    active: bool,
}

impl<'a> Columns<'a> {
    fn of(fields: &'a MailboxFields) -> Self {
        let imap = fields.imap.as_ref();
        let smtp = fields.smtp.as_ref();
        Self {
            address: fields.address.as_str(),
            display_name: &fields.display_name,
            imap_host: imap.map(|imap| imap.host.as_str()),
            imap_port: imap.map(|imap| i32::from(imap.port)),
            imap_security: imap.map(|imap| imap.security.as_str()),
            imap_username: imap.map(|imap| imap.username.as_str()),
            imap_folder: imap.map(|imap| imap.folder.as_str()),
            imap_after_import: imap.map(|imap| imap.after_import.to_stored()),
            smtp_host: smtp.map(|smtp| smtp.host.as_str()),
            smtp_port: smtp.map(|smtp| i32::from(smtp.port)),
            smtp_security: smtp.map(|smtp| smtp.security.as_str()),
            smtp_username: smtp.map(|smtp| smtp.username.as_str()),
            default_category_id: fields.default_category_id,
            default_priority: fields.default_priority.rank(),
            acknowledge: fields.acknowledge,
            active: fields.active,
        }
    }
}

/// A new mailbox's row: the id, the columns `bind_columns!` binds, the passwords, the times.
const INSERT: &str = "INSERT INTO mailboxes (id, address, display_name, imap_host, imap_port, imap_security, \
     imap_username, imap_folder, imap_after_import, smtp_host, smtp_port, smtp_security, smtp_username, \
     default_category_id, default_priority, acknowledge, active, imap_password, smtp_password, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
     $20, $21)";

/// Binds `$columns` to `$query`'s parameters `$2` to `$17` (`$1` is the id), in the order
/// the insert and the update name them.
macro_rules! bind_columns {
    ($query:expr, $columns:expr) => {{
        let columns = $columns;
        $query
            .bind(columns.address)
            .bind(columns.display_name)
            .bind(columns.imap_host)
            .bind(columns.imap_port)
            .bind(columns.imap_security)
            .bind(columns.imap_username)
            .bind(columns.imap_folder)
            .bind(columns.imap_after_import.clone())
            .bind(columns.smtp_host)
            .bind(columns.smtp_port)
            .bind(columns.smtp_security)
            .bind(columns.smtp_username)
            .bind(columns.default_category_id)
            .bind(columns.default_priority)
            .bind(columns.acknowledge)
            .bind(columns.active)
    }};
}

/// What a password column becomes: whether it is written, and with what.
fn password_write(has_side: bool, change: Option<&Option<String>>) -> (bool, Option<&str>) {
    match change {
        _ if !has_side => (true, None),
        None => (false, None),
        Some(password) => (true, password.as_deref()),
    }
}

/// Mailboxes and their read cursors.
#[derive(Debug, Clone, Copy)]
pub struct Mailboxes<'a> {
    pub(crate) store: &'a Store,
}

impl Mailboxes<'_> {
    /// Creates a mailbox.
    ///
    /// # Errors
    /// `Conflict` when another mailbox has the address; `MissingReference` for an unknown
    /// category.
    pub async fn create(&self, new: NewMailbox) -> Result<Mailbox, StoreError> {
        let now = Stamp::now();
        let columns = Columns::of(&new.fields);
        let imap_password = new.fields.imap.as_ref().and(new.imap_password.as_deref());
        let smtp_password = new.fields.smtp.as_ref().and(new.smtp_password.as_deref());
        let sql = format!("{INSERT} RETURNING {COLUMNS}");
        let row: MailboxRow = on_backend!(write self.store, pool => {
            let query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(new.id);
            bind_columns!(query, &columns)
                .bind(imap_password)
                .bind(smtp_password)
                .bind(now)
                .bind(now)
                .fetch_one(pool)
                .await
        })?;
        Mailbox::try_from(row)
    }

    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: Uuid) -> Result<Option<Mailbox>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM mailboxes WHERE id = $1");
        let row: Option<MailboxRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(Mailbox::try_from).transpose()
    }

    /// The mailbox of an address (compared lower-cased).
    ///
    /// # Errors
    /// The database failed.
    pub async fn by_address(&self, address: &str) -> Result<Option<Mailbox>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM mailboxes WHERE address = $1");
        let address = address.trim().to_lowercase();
        let row: Option<MailboxRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(address.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(Mailbox::try_from).transpose()
    }

    /// Every mailbox, oldest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self) -> Result<Vec<Mailbox>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM mailboxes ORDER BY created_at, id");
        let rows: Vec<MailboxRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Mailbox::try_from).collect()
    }

    /// Replaces a mailbox's fields (and its passwords as `changes` says); `None` when there
    /// is no such mailbox.
    ///
    /// # Errors
    /// `Conflict` when another mailbox has the address; `MissingReference` for an unknown
    /// category.
    pub async fn update(
        &self,
        id: Uuid,
        changes: MailboxChanges,
    ) -> Result<Option<Mailbox>, StoreError> {
        let now = Stamp::now();
        let columns = Columns::of(&changes.fields);
        let (write_imap, imap_password) = password_write(
            changes.fields.imap.is_some(),
            changes.imap_password.as_ref(),
        );
        let (write_smtp, smtp_password) = password_write(
            changes.fields.smtp.is_some(),
            changes.smtp_password.as_ref(),
        );
        let sql = format!(
            "UPDATE mailboxes SET address = $2, display_name = $3, imap_host = $4, imap_port = $5, imap_security = $6, \
             imap_username = $7, imap_folder = $8, imap_after_import = $9, smtp_host = $10, smtp_port = $11, \
             smtp_security = $12, smtp_username = $13, default_category_id = $14, default_priority = $15, \
             acknowledge = $16, active = $17, \
             imap_password = CASE WHEN $18 THEN $19 ELSE imap_password END, \
             smtp_password = CASE WHEN $20 THEN $21 ELSE smtp_password END, updated_at = $22 \
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row: Option<MailboxRow> = on_backend!(write self.store, pool => {
            let query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id);
            bind_columns!(query, &columns)
                .bind(write_imap)
                .bind(imap_password)
                .bind(write_smtp)
                .bind(smtp_password)
                .bind(now)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Mailbox::try_from).transpose()
    }

    /// Deletes a mailbox with its cursor and its record of imported mail; its tickets and
    /// queued mail lose their mailbox. Whether it existed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted = on_backend!(write self.store, pool => sqlx::query("DELETE FROM mailboxes WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }

    /// A mailbox's passwords; `None` when there is no such mailbox.
    ///
    /// # Errors
    /// The database failed.
    pub async fn secrets(&self, id: Uuid) -> Result<Option<MailboxSecrets>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT imap_password, smtp_password FROM mailboxes WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(imap_password, smtp_password)| MailboxSecrets {
            imap_password,
            smtp_password,
        }))
    }

    /// How far a mailbox's folder has been read; `None` before its first fetch.
    ///
    /// # Errors
    /// The database failed.
    pub async fn cursor(&self, id: Uuid) -> Result<Option<MailboxCursor>, StoreError> {
        let row: Option<(i64, i64)> = on_backend!(self.store, pool => sqlx::query_as(
                "SELECT uid_validity, last_uid FROM mailbox_cursors WHERE mailbox_id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(|(uid_validity, last_uid)| stored_cursor(id, uid_validity, last_uid))
            .transpose()
    }

    /// Moves a mailbox's cursor to `cursor`, in one statement: within one `UIDVALIDITY` only
    /// forward (a fetcher that lost its lease and finishes late never takes it back); a new
    /// `UIDVALIDITY` replaces it. Whether it moved.
    ///
    /// # Errors
    /// `MissingReference` for an unknown mailbox.
    pub async fn set_cursor(&self, id: Uuid, cursor: MailboxCursor) -> Result<bool, StoreError> {
        let moved = on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO mailbox_cursors (mailbox_id, uid_validity, last_uid) VALUES ($1, $2, $3) \
                 ON CONFLICT (mailbox_id) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid \
                 WHERE mailbox_cursors.uid_validity <> excluded.uid_validity OR mailbox_cursors.last_uid < excluded.last_uid")
            .bind(id)
            .bind(i64::from(cursor.uid_validity))
            .bind(i64::from(cursor.last_uid))
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(moved > 0)
    }

    /// Every mailbox with its passwords and cursor, oldest first, for a backup (mailboxes are
    /// few).
    ///
    /// # Errors
    /// The database failed.
    pub async fn export(&self) -> Result<Vec<MailboxBackup>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, imap_password, smtp_password, uid_validity, last_uid FROM mailboxes \
             LEFT JOIN mailbox_cursors ON mailbox_id = id ORDER BY created_at, id"
        );
        let rows: Vec<BackupRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(MailboxBackup::try_from).collect()
    }

    /// Restores a backup's mailbox with its passwords, cursor and times, under its id where
    /// free: the one imported before from `source` as `external_id` is left as it is.
    ///
    /// # Errors
    /// `Conflict` when another mailbox has the address; `MissingReference` for an unknown
    /// category.
    pub async fn import(
        &self,
        source: &str,
        external_id: &str,
        mailbox: &MailboxBackup,
    ) -> Result<Imported, StoreError> {
        let now = Stamp::now();
        let columns = Columns::of(&mailbox.fields);
        let imap_password = mailbox
            .fields
            .imap
            .as_ref()
            .and(mailbox.secrets.imap_password.as_deref());
        let smtp_password = mailbox
            .fields
            .smtp
            .as_ref()
            .and(mailbox.secrets.smtp_password.as_deref());
        on_backend!(self.store, pool => {
            let mut tx = self.store.begin_write(pool).await?;
            if let Some(id) = tx.local_ref(source, RecordKind::Mailbox, external_id).await? {
                tx.commit().await?;
                return Ok(Imported::Unchanged(id));
            }
            let id = tx.free_id("mailboxes", Some(mailbox.id)).await?;
            let query = sqlx::query(INSERT).bind(id);
            bind_columns!(query, &columns)
                .bind(imap_password)
                .bind(smtp_password)
                .bind(mailbox.created_at)
                .bind(mailbox.updated_at)
                .execute(&mut *tx)
                .await?;
            if let Some(cursor) = mailbox.cursor {
                sqlx::query("INSERT INTO mailbox_cursors (mailbox_id, uid_validity, last_uid) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(i64::from(cursor.uid_validity))
                    .bind(i64::from(cursor.last_uid))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.remember_ref(source, RecordKind::Mailbox, external_id, id, now).await?;
            tx.commit().await?;
            Ok(Imported::Created(id))
        })
    }

    /// Every mailbox's address, lower-cased: our own addresses, never mailed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn addresses(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            on_backend!(self.store, pool => sqlx::query_scalar("SELECT address FROM mailboxes ORDER BY address")
            .fetch_all(pool)
            .await)?,
        )
    }
}
