//! Field-level validation errors, collected so that one response can name every bad field.

use serde::Serialize;
use utoipa::ToSchema;

/// One rejected input field and why it was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The request field, as the client spelled it (`email`, `password`, …).
    pub field: String,
    /// A human-readable reason.
    pub message: String,
}

/// Every field error found in one request; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// An error naming a single field.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Records a rejected field.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Parses `value` with `parse`, recording the error under `field` instead of returning it,
    /// so a request can be checked field by field and answered once.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        value: Result<T, E>,
    ) -> Option<T> {
        value
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }

    /// `Ok(value)` when nothing was recorded, otherwise the collected errors.
    ///
    /// # Errors
    /// Returns `self` when at least one field was rejected.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// The recorded field errors.
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        write!(f, "invalid fields: {}", names.join(", "))
    }
}

impl std::error::Error for ValidationErrors {}
