//! The API's routes, one module per resource, each with its own router, and the shapes they
//! share.

pub(crate) mod auth;
pub(crate) mod catalog;
pub(crate) mod notifications;
pub(crate) mod ops;
pub(crate) mod tickets;
pub(crate) mod users;
pub(crate) mod webhooks;
pub(crate) mod widget;
pub(crate) mod widgets;
pub(crate) mod ws;

use growdesk_service::pagination::Page;
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
