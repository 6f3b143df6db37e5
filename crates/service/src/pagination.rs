//! Keyset pagination: opaque cursors and page sizes, the same for every list.
//!
//! A cursor is the position of the last item of a page (whatever identifies it in the list's
//! order), as base64url JSON. Clients treat it as opaque.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use growdesk_domain::ValidationErrors;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Items per page when the client does not say.
pub const DEFAULT_LIMIT: u32 = 25;
/// Most items per page.
pub const MAX_LIMIT: u32 = 100;

/// A validated page request: after which position, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<P> {
    pub after: Option<P>,
    pub limit: u32,
}

impl<P: DeserializeOwned> PageRequest<P> {
    /// Checks `limit` (1 to 100, default 25) and decodes `cursor`.
    ///
    /// # Errors
    /// The field errors for a bad limit or a cursor this list did not issue.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(limit) => match u32::try_from(limit) {
                Ok(limit @ 1..=MAX_LIMIT) => limit,
                _ => {
                    errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
                    DEFAULT_LIMIT
                }
            },
        };
        let after = cursor.and_then(|cursor| {
            let decoded = decode_cursor(cursor);
            if decoded.is_none() {
                errors.add("cursor", "is not a cursor this list issued");
            }
            decoded
        });
        errors.into_result(|| Self { after, limit })
    }
}

/// One page of a list and the cursor of the next, if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says a next page exists.
    pub fn from_rows<P: Serialize>(
        mut rows: Vec<T>,
        limit: u32,
        position: impl Fn(&T) -> P,
    ) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&position(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

fn encode_cursor<P: Serialize>(position: &P) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

fn decode_cursor<P: DeserializeOwned>(cursor: &str) -> Option<P> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::<Uuid>::parse(None, None).unwrap().limit, 25);
        assert_eq!(
            PageRequest::<Uuid>::parse(Some(100), None).unwrap().limit,
            100
        );
        for bad in [0, -1, 101, 1_000_000, i64::MAX] {
            let errors = PageRequest::<Uuid>::parse(Some(bad), None).unwrap_err();
            assert_eq!(errors.fields()[0].field, "limit");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let page = Page::from_rows(vec![Uuid::now_v7(), id, Uuid::now_v7()], 2, |u| *u);
        assert_eq!(page.items.len(), 2);
        let cursor = page.next_cursor.unwrap();
        assert_eq!(
            PageRequest::<Uuid>::parse(None, Some(&cursor))
                .unwrap()
                .after,
            Some(id)
        );
        assert!(Page::from_rows(vec![id], 2, |u| *u).next_cursor.is_none());
        for garbage in ["", "!!", "AAAA", "not-a-cursor"] {
            assert!(
                PageRequest::<Uuid>::parse(None, Some(garbage)).is_err(),
                "{garbage:?}"
            );
        }
    }
}
