//! Admins' overrides of the built-in email templates, one per kind and locale.

use growdesk_domain::mail::MailKind;

use crate::{Stamp, Store, StoreError, on_backend};

/// An admin's version of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate {
    pub kind: MailKind,
    pub locale: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub updated_at: Stamp,
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    kind: String,
    locale: String,
    subject: String,
    text_body: String,
    html_body: String,
    updated_at: Stamp,
}

impl TryFrom<TemplateRow> for StoredTemplate {
    type Error = StoreError;

    fn try_from(row: TemplateRow) -> Result<Self, Self::Error> {
        let kind = row
            .kind
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("email template of kind {:?}", row.kind)))?;
        Ok(Self {
            kind,
            locale: row.locale,
            subject: row.subject,
            text_body: row.text_body,
            html_body: row.html_body,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_TEMPLATES: &str =
    "SELECT kind, locale, subject, text_body, html_body, updated_at FROM email_templates";

/// Admins' overrides of the built-in email templates.
#[derive(Debug, Clone, Copy)]
pub struct EmailTemplates<'a> {
    pub(crate) store: &'a Store,
}

impl EmailTemplates<'_> {
    /// The override of `kind` in `locale`, if an admin made one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get(
        &self,
        kind: MailKind,
        locale: &str,
    ) -> Result<Option<StoredTemplate>, StoreError> {
        let sql = format!("{SELECT_TEMPLATES} WHERE kind = $1 AND locale = $2");
        let row: Option<TemplateRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(kind.as_str())
            .bind(locale)
            .fetch_optional(pool)
            .await)?;
        row.map(StoredTemplate::try_from).transpose()
    }

    /// Every override, by kind and locale.
    ///
    /// # Errors
    /// The database failed.
    pub async fn list(&self) -> Result<Vec<StoredTemplate>, StoreError> {
        let sql = format!("{SELECT_TEMPLATES} ORDER BY kind, locale");
        let rows: Vec<TemplateRow> = on_backend!(self.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(StoredTemplate::try_from).collect()
    }

    /// Stores `template` as the override of its kind and locale, replacing one made before.
    ///
    /// # Errors
    /// The database failed.
    pub async fn put(&self, template: StoredTemplate) -> Result<(), StoreError> {
        on_backend!(write self.store, pool => sqlx::query(
                "INSERT INTO email_templates (kind, locale, subject, text_body, html_body, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, locale) DO UPDATE SET \
                 subject = excluded.subject, text_body = excluded.text_body, html_body = excluded.html_body, \
                 updated_at = excluded.updated_at")
            .bind(template.kind.as_str())
            .bind(template.locale.as_str())
            .bind(template.subject.as_str())
            .bind(template.text_body.as_str())
            .bind(template.html_body.as_str())
            .bind(template.updated_at)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Removes the override of `kind` in `locale` (the built-in applies again); whether there
    /// was one.
    ///
    /// # Errors
    /// The database failed.
    pub async fn delete(&self, kind: MailKind, locale: &str) -> Result<bool, StoreError> {
        let deleted = on_backend!(write self.store, pool => sqlx::query(
                "DELETE FROM email_templates WHERE kind = $1 AND locale = $2")
            .bind(kind.as_str())
            .bind(locale)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(deleted > 0)
    }
}
