//! The API's routes, one module per resource, each with its own router, and the shapes they
//! share.

pub(crate) mod auth;
pub(crate) mod canned_replies;
pub(crate) mod catalog;
pub(crate) mod console;
pub(crate) mod email_templates;
pub(crate) mod mailboxes;
pub(crate) mod notifications;
pub(crate) mod ops;
pub(crate) mod tickets;
pub(crate) mod unsubscribe;
pub(crate) mod users;
pub(crate) mod views;
pub(crate) mod webhooks;
pub(crate) mod widget;
pub(crate) mod widgets;
pub(crate) mod ws;

use growdesk_service::pagination::Page;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct List<T: ToSchema> {
    items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

impl<T: ToSchema> From<Page<T>> for List<T> {
    fn from(page: Page<T>) -> Self {
        Self {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

impl<T: ToSchema> List<T> {
    /// A complete list on one page.
    pub(crate) fn whole(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// For fields where `null` means "clear it" and absence means "leave it": `Some(None)` is null.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An optional `i32` that may be written with a zero fraction (`3.0`): JSON Schema, which the
/// document is written in, counts `3.0` as an integer, so an `integer` field must take it.
pub(crate) fn whole_i32<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i32>, D::Error> {
    let Some(number) = Option::<f64>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let range = f64::from(i32::MIN)..=f64::from(i32::MAX);
    if number.fract() == 0.0 && range.contains(&number) {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a whole number within the range of i32"
        )]
        Ok(Some(number as i32))
    } else {
        Err(D::Error::custom(format!(
            "expected a whole number from {} to {}",
            i32::MIN,
            i32::MAX
        )))
    }
}
