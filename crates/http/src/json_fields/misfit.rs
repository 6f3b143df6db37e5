//! `Misfit`: where and why a document does not fit a request type, as its deserialisation
//! reports it.

use std::fmt;

use serde::de::{self, Unexpected};

/// One step from a value to one inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// Why a document does not fit a request type, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misfit {
    /// From the document's root to the refused value, outermost first.
    path: Vec<Step>,
    /// The field the type itself reported missing, unknown or repeated.
    named: Option<String>,
    reason: String,
}

impl Misfit {
    /// The field to name in a validation error: the path to the refused value as
    /// `settings.color` or `tags[2]`, ending with the field the type reported missing, unknown
    /// or repeated (`imap.host`); `None` for the document as a whole, including an array given
    /// where the request is an object (its items are no fields).
    pub(crate) fn field(&self) -> Option<String> {
        if matches!(self.path.first(), Some(Step::Index(_))) {
            return self.named.clone();
        }
        let named = self.named.as_ref().map(|name| Step::Key(name.clone()));
        let mut field = String::new();
        for step in self.path.iter().chain(named.as_ref()) {
            match step {
                Step::Key(key) if field.is_empty() => field.push_str(key),
                Step::Key(key) => {
                    field.push('.');
                    field.push_str(key);
                }
                Step::Index(index) => field.push_str(&format!("[{index}]")),
            }
        }
        (!field.is_empty()).then_some(field)
    }

    /// Why, in serde's words, without the path.
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    pub(super) fn within(mut self, step: Step) -> Self {
        self.path.insert(0, step);
        self
    }

    /// A refusal the type names a field in, worded as serde words it.
    fn naming(field: &str, reason: de::value::Error) -> Self {
        Self {
            path: Vec::new(),
            named: Some(field.to_owned()),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for Misfit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.reason)
    }
}

impl std::error::Error for Misfit {}

impl de::Error for Misfit {
    fn custom<T: fmt::Display>(reason: T) -> Self {
        Self {
            path: Vec::new(),
            named: None,
            reason: reason.to_string(),
        }
    }

    // serde_json calls JSON's null "null" where serde says "unit value"; so do we.
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        match unexpected {
            Unexpected::Unit => {
                Self::custom(format_args!("invalid type: null, expected {expected}"))
            }
            other => Self::custom(format_args!("invalid type: {other}, expected {expected}")),
        }
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        match unexpected {
            Unexpected::Unit => {
                Self::custom(format_args!("invalid value: null, expected {expected}"))
            }
            other => Self::custom(format_args!("invalid value: {other}, expected {expected}")),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self::naming(field, de::value::Error::missing_field(field))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::naming(field, de::value::Error::unknown_field(field, expected))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::naming(field, de::value::Error::duplicate_field(field))
    }
}
