//! GrowDesk's domain: the models, enums and validated value types every other layer speaks in.
//!
//! Nothing here does I/O. Values are parsed once at the edge ("parse, don't validate"), so a
//! `Email` or `Password` that exists is known to be well-formed.

pub mod user;
pub mod validation;

pub use user::{Email, Password, PersonName, Role, User};
pub use validation::{FieldError, ValidationErrors};
