//! Authentication building blocks: password hashing, tokens and the signing key.

pub mod passwords;
pub mod signing_key;
pub mod tokens;
