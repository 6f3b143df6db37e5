//! Who may do what. Handlers never check roles themselves; they ask here, so one table of
//! rules serves every route.

use growdesk_domain::Role;

use crate::{Principal, ServiceError};

/// Something a signed-in user may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List, create, change and deactivate accounts.
    ManageUsers,
}

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::ManageUsers => role == Role::Admin,
    }
}

/// Refuses `action` unless the caller's current role allows it.
///
/// # Errors
/// `Forbidden` when the role does not allow the action.
pub fn authorize(actor: &Principal, action: Action) -> Result<(), ServiceError> {
    if allows(actor.user.role, action) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "your role does not allow this action",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_users() {
        assert!(allows(Role::Admin, Action::ManageUsers));
        assert!(!allows(Role::Agent, Action::ManageUsers));
        assert!(!allows(Role::Customer, Action::ManageUsers));
    }
}
