//! Users and the value types their fields are made of.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
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
    #[error("is not a valid email address")]
    NotAnEmail,
    #[error("must be a colour as #rrggbb")]
    NotAColor,
}

/// An email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 254 characters.
    pub const MAX_LEN: usize = 254;

    /// # Errors
    /// Empty, longer than 254 characters, or not an address.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(ValueError::Empty);
        }
        if email.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong(Self::MAX_LEN));
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
