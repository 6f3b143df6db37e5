//! Account use cases: registration, sign-in, token refresh and sign-out, the caller's own
//! profile, the admin's user management, the operator's first admin and resets, and forgotten
//! passwords reset by a link sent by mail.

use crate::Service;

mod operator;
mod password_reset;
mod sessions;
mod users;

pub use operator::{AdminBootstrap, DEFAULT_ADMIN_EMAIL, generated_password};
pub use password_reset::RESET_LINK_TTL;
pub use sessions::{Registration, SignedIn};
pub use users::{AccountChanges, NewAccount, ProfileChanges, UserQuery};

/// Signing up, in and out, and the caller behind a token; from [`Service::sessions`].
#[derive(Clone, Copy)]
pub struct Sessions<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// Signing up, in and out, and the caller behind a token.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { service: self }
    }
}

/// The caller's own profile and the admin's user management; from [`Service::accounts`].
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The caller's own profile and the admin's user management.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { service: self }
    }
}

/// The operator's account commands (the command line, no token); from [`Service::operator`].
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The operator's account commands (the command line, no token).
    pub fn operator(&self) -> Operator<'_> {
        Operator { service: self }
    }
}
