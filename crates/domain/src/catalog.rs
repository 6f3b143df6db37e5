//! Categories that sort tickets, and the FAQ articles customers can read.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::user::ValueError;

/// A ticket category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Category {
    pub id: Uuid,
    /// Unique regardless of case.
    pub name: String,
    pub description: String,
    /// `#rrggbb`.
    pub color: String,
    /// Inactive categories stay on old tickets but are not offered for new ones.
    pub active: bool,
    /// Display order, ascending.
    pub position: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A frequently asked question with its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Faq {
    pub id: Uuid,
    pub question: String,
    pub answer: String,
    pub category_id: Option<Uuid>,
    /// Only published FAQs are shown to customers and on the widget.
    pub published: bool,
    pub position: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A colour as `#rrggbb`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    /// The colour of a category created without one.
    pub const DEFAULT: &'static str = "#6b7280";

    /// # Errors
    /// Anything but `#` and six hexadecimal digits.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let color = raw.trim().to_ascii_lowercase();
        let valid = color.len() == 7
            && color.starts_with('#')
            && color[1..].chars().all(|c| c.is_ascii_hexdigit());
        if valid {
            Ok(Self(color))
        } else {
            Err(ValueError::NotAColor)
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_are_hex_triplets() {
        assert_eq!(Color::parse(" #A1B2C3 ").unwrap().into_inner(), "#a1b2c3");
        for bad in ["red", "#123", "#12345g", "123456", ""] {
            assert!(Color::parse(bad).is_err(), "{bad:?}");
        }
    }
}
