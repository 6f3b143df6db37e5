//! Users and the value types their fields are made of.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization as _;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a user may do: staff (`admin`, `agent`) work the queue; customers see only their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything an agent does, plus users, categories, widgets, webhooks and imports.
    Admin,
    /// Works the ticket queue.
    Agent,
    /// Opens tickets and sees only their own.
    Customer,
}

impl Role {
    /// The stored and serialised spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
            Self::Customer => "customer",
        }
    }

    /// Admins and agents are staff.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::Agent)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("must be one of admin, agent, customer")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "agent" => Ok(Self::Agent),
            "customer" => Ok(Self::Customer),
            _ => Err(UnknownRole),
        }
    }
}

/// A user as every layer above the store sees it: never with a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    /// UUIDv7.
    pub id: Uuid,
    /// Lower-cased, so that uniqueness ignores case.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// A deactivated user can no longer sign in and their tokens stop working.
    pub active: bool,
    /// Staff: notified of every new ticket.
    pub notify_new_tickets: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Why a text value was refused; the message is shown to the client next to the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must be at least {0} characters")]
    TooShort(usize),
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must not contain spaces, control or invisible characters")]
    Invisible,
    #[error("is not a valid email address")]
    NotAnEmail,
    #[error("must be a colour as #rrggbb")]
    NotAColor,
    #[error("must hold only letters, digits, - and _")]
    NotAShortcut,
}

/// Unicode's default-ignorable code points (DerivedCoreProperties.txt, Unicode 16): characters
/// that render as nothing, such as zero-width spaces and joiners, bidirectional marks, the soft
/// hyphen, variation selectors and Hangul fillers.
const INVISIBLE: [(char, char); 17] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Whether `c` is a control character, a space, or a character that renders as nothing.
fn invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || INVISIBLE
            .iter()
            .any(|&(first, last)| (first..=last).contains(&c))
}

/// An email address: trimmed, NFKC-normalised and lower-cased, so that look-alikes (`ＡＮＡ`
/// in fullwidth letters, `ana` in another case) are one address, and free of control and
/// invisible characters, so that none hides in an address that looks like another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 254 characters.
    pub const MAX_LEN: usize = 254;

    /// # Errors
    /// Empty, longer than 254 characters, containing control or invisible characters, or not
    /// an address.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let email = normalise(raw);
        if email.is_empty() {
            return Err(ValueError::Empty);
        }
        if email.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong(Self::MAX_LEN));
        }
        if email.chars().any(invisible) {
            return Err(ValueError::Invisible);
        }
        // The crate accepts quoted local parts and IP-literal domains; a help desk only ever
        // mails ordinary addresses, so a domain with a dot is required as well.
        let valid = email_address::EmailAddress::is_valid(&email)
            && email
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domain.contains('.') && !domain.starts_with('['));
        if valid {
            Ok(Self(email))
        } else {
            Err(ValueError::NotAnEmail)
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the normalised address.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// `raw` trimmed, NFKC-normalised and lower-cased, as an [`Email`] holds it (checked for nothing).
pub(crate) fn normalise(raw: &str) -> String {
    // Lower-casing can leave text that NFKC would change again (and NFKC can produce capitals),
    // so both run on each other's output.
    raw.trim()
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_LEN: usize = 200;

    /// # Errors
    /// Empty after trimming, too long, or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValueError::Empty);
        }
        if name.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong(Self::MAX_LEN));
        }
        if name.chars().any(char::is_control) {
            return Err(ValueError::ControlCharacters);
        }
        Ok(Self(name.to_owned()))
    }

    /// A name for someone who gave none: the part of their email before the `@`.
    pub fn from_email(email: &Email) -> Self {
        let local = email.as_str().split('@').next().unwrap_or_default();
        Self(local.chars().take(Self::MAX_LEN).collect())
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A plain-text password on its way to the hasher. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// OWASP ASVS 6.2.1.
    pub const MIN_LEN: usize = 8;
    /// Long enough for passphrases (ASVS 6.2.9), short enough that hashing stays cheap to refuse.
    pub const MAX_LEN: usize = 1024;

    /// Passwords are not trimmed: every character the user typed counts.
    ///
    /// # Errors
    /// Shorter than 8 or longer than 1024 characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let length = raw.chars().count();
        if length < Self::MIN_LEN {
            return Err(ValueError::TooShort(Self::MIN_LEN));
        }
        if length > Self::MAX_LEN {
            return Err(ValueError::TooLong(Self::MAX_LEN));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The characters, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ana.Silva@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ana.silva@example.com");
    }

    #[test]
    fn email_rejects_non_addresses() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@[127.0.0.1]",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(ValueError::TooLong(254)));
    }

    #[test]
    fn look_alike_emails_are_one_address() {
        for look_alike in [
            "\u{ff43}\u{ff59}@example.com",
            "CY@EXAMPLE.COM",
            "\u{ff23}\u{ff39}@\u{ff45}xample.com",
            "cy@example\u{ff0e}com",
        ] {
            assert_eq!(
                Email::parse(look_alike).unwrap().as_str(),
                "cy@example.com",
                "{look_alike:?}"
            );
        }
        assert_eq!(
            Email::parse("jos\u{e9}@example.com").unwrap(),
            Email::parse("jose\u{301}@example.com").unwrap(),
            "composed and decomposed accents"
        );
    }

    #[test]
    fn emails_with_hidden_characters_are_refused() {
        for hidden in [
            "cy\u{200b}@example.com",
            "\u{200b}cy@example.com",
            "cy@example.com\u{feff}",
            "c\u{00ad}y@example.com",
            "c\u{2060}y@example.com",
            "cy\u{202e}@example.com",
            "c\u{0007}y@example.com",
            "cy@exa\u{00a0}mple.com",
            "cy\u{fe0f}@example.com",
            "cy\u{e0041}@example.com",
            "c\u{3164}y@example.com",
        ] {
            assert_eq!(
                Email::parse(hidden),
                Err(ValueError::Invisible),
                "{hidden:?}"
            );
        }
    }

    #[test]
    fn password_length_bounds_count_characters() {
        assert_eq!(Password::parse("1234567"), Err(ValueError::TooShort(8)));
        assert!(Password::parse("ñññññññ ").is_ok());
        assert!(Password::parse(&"x".repeat(1024)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(1025)),
            Err(ValueError::TooLong(1024))
        );
    }

    #[test]
    fn password_debug_is_redacted() {
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(PersonName::parse("  Ana  ").unwrap().into_inner(), "Ana");
        assert_eq!(PersonName::parse(" "), Err(ValueError::Empty));
        assert_eq!(
            PersonName::parse("a\u{0}b"),
            Err(ValueError::ControlCharacters)
        );
        let email = Email::parse("ana@example.com").unwrap();
        assert_eq!(PersonName::from_email(&email).into_inner(), "ana");
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in [Role::Admin, Role::Agent, Role::Customer] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Agent.is_staff() && !Role::Customer.is_staff());
    }
}
