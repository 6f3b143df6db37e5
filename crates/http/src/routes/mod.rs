//! The API's routes, one module per resource, each with its own router.

pub(crate) mod auth;
pub(crate) mod ops;
pub(crate) mod users;
