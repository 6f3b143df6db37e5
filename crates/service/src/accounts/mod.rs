//! Account use cases: registration, sign-in, token refresh and sign-out, the caller's own
//! profile, the admin's user management, and the operator's first admin and resets.

mod operator;
mod sessions;
mod users;

pub use operator::{AdminBootstrap, DEFAULT_ADMIN_EMAIL, generated_password};
pub use sessions::{Registration, SignedIn};
pub use users::{AccountChanges, NewAccount, ProfileChanges, UserQuery};
