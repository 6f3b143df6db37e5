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

    /// The colour for text drawn on this one: black or white, whichever contrasts more. One of
    /// the two always reaches WCAG AA's 4.5:1 (the worst case, a mid grey, still gives 4.58:1),
    /// so any brand colour an admin picks keeps the widget's header and buttons readable.
    pub fn text_color(&self) -> &'static str {
        let background = self.luminance();
        if contrast(background, 1.0) >= contrast(background, 0.0) {
            "#ffffff"
        } else {
            "#000000"
        }
    }

    /// WCAG 2's relative luminance, from 0 (black) to 1 (white).
    fn luminance(&self) -> f64 {
        let channel = |at: usize| {
            let value = f64::from(u8::from_str_radix(&self.0[at..at + 2], 16).unwrap_or(0)) / 255.0;
            if value <= 0.040_45 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }
}

/// WCAG 2's contrast ratio of two relative luminances, from 1 to 21.
fn contrast(one: f64, other: f64) -> f64 {
    (one.max(other) + 0.05) / (one.min(other) + 0.05)
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

    #[test]
    fn text_on_any_colour_reaches_aa_contrast() {
        // Every colour whose channels are multiples of 15 (4,913 of them, the greys, the
        // primaries and the mid tones where black and white are closest among them), and the
        // widget's default blue.
        let steps: Vec<u8> = (0..=255).step_by(15).collect();
        let mut colours = vec!["#2563eb".to_owned()];
        for &red in &steps {
            for &green in &steps {
                for &blue in &steps {
                    colours.push(format!("#{red:02x}{green:02x}{blue:02x}"));
                }
            }
        }
        for raw in colours {
            let color = Color::parse(&raw).unwrap();
            let text = Color::parse(color.text_color()).unwrap();
            let ratio = contrast(color.luminance(), text.luminance());
            assert!(
                ratio >= 4.5,
                "{raw}: {} at {ratio:.2}:1",
                color.text_color()
            );
        }
    }

    #[test]
    fn text_colour_follows_the_background() {
        for (background, text) in [
            ("#000000", "#ffffff"),
            ("#ffffff", "#000000"),
            ("#2563eb", "#ffffff"),
            ("#ffff00", "#000000"),
            ("#00ff00", "#000000"),
            ("#0b57d0", "#ffffff"),
            ("#595959", "#ffffff"),
            ("#808080", "#000000"),
        ] {
            assert_eq!(
                Color::parse(background).unwrap().text_color(),
                text,
                "{background}"
            );
        }
    }

    #[test]
    fn contrast_matches_wcag_examples() {
        let white = Color::parse("#ffffff").unwrap().luminance();
        let black = Color::parse("#000000").unwrap().luminance();
        assert!((contrast(white, black) - 21.0).abs() < 1e-9);
        let grey = Color::parse("#767676").unwrap().luminance();
        assert!((contrast(white, grey) - 4.54).abs() < 0.01);
    }
}
