//! Who may do what: the one place access is decided. Server functions ask
//! here before touching data; the UI only mirrors the answers.
//!
//! Pure functions of the user and the record's ownership, so the whole table
//! is unit-tested here and again end to end through HTTP in the server tests.

use crate::roles::{CurrentUser, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which leads a user may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeadScope {
    /// Only leads the user owns (reps).
    Own(Uuid),
    /// Leads owned by members of this team (supervisors).
    Team(Uuid),
    /// Every lead (sales manager, general manager).
    All,
}

/// Who owns a record, as far as access is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    pub owner_id: Uuid,
    pub owner_team_id: Option<Uuid>,
}

impl LeadScope {
    pub fn contains(self, record: Ownership) -> bool {
        match self {
            Self::Own(user) => record.owner_id == user,
            Self::Team(team) => record.owner_team_id == Some(team),
            Self::All => true,
        }
    }
}

/// The leads `user` may read, or `None` when the role has no business with
/// leads (service, finance, legal, admin).
pub fn lead_scope(user: &CurrentUser) -> Option<LeadScope> {
    match user.role {
        Role::Rep => Some(LeadScope::Own(user.id)),
        Role::Supervisor => Some(match user.team_id {
            Some(team) => LeadScope::Team(team),
            None => LeadScope::Own(user.id),
        }),
        Role::SalesManager | Role::GeneralManager => Some(LeadScope::All),
        Role::ServiceAgent
        | Role::ServiceSupervisor
        | Role::Technician
        | Role::Finance
        | Role::Legal
        | Role::Admin => None,
    }
}

pub fn can_read_lead(user: &CurrentUser, lead: Ownership) -> bool {
    lead_scope(user).is_some_and(|scope| scope.contains(lead))
}

/// Sales staff enter leads; the general manager reads but does not enter.
pub fn can_create_lead(user: &CurrentUser) -> bool {
    matches!(user.role, Role::Rep | Role::Supervisor | Role::SalesManager)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAM_A: Uuid = Uuid::from_u128(0xA);
    const TEAM_B: Uuid = Uuid::from_u128(0xB);

    fn user(id: u128, role: Role, team: Option<Uuid>) -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(id),
            username: format!("u{id}"),
            display_name: format!("U{id}"),
            role,
            team_id: team,
            time_zone: "Asia/Shanghai".into(),
        }
    }

    #[test]
    fn lead_read_access_by_role_and_ownership() {
        let lead_of_rep1 = Ownership {
            owner_id: Uuid::from_u128(1),
            owner_team_id: Some(TEAM_A),
        };
        let cases = [
            (user(1, Role::Rep, Some(TEAM_A)), true),
            (user(2, Role::Rep, Some(TEAM_A)), false),
            (user(3, Role::Supervisor, Some(TEAM_A)), true),
            (user(4, Role::Supervisor, Some(TEAM_B)), false),
            (user(5, Role::SalesManager, None), true),
            (user(6, Role::GeneralManager, None), true),
            (user(7, Role::ServiceAgent, None), false),
            (user(8, Role::ServiceSupervisor, None), false),
            (user(9, Role::Technician, None), false),
            (user(10, Role::Finance, None), false),
            (user(11, Role::Legal, None), false),
            (user(12, Role::Admin, None), false),
        ];
        for (who, allowed) in cases {
            assert_eq!(can_read_lead(&who, lead_of_rep1), allowed, "{:?}", who.role);
        }
    }

    #[test]
    fn only_sales_staff_create_leads() {
        let creators: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| can_create_lead(&user(1, *role, None)))
            .collect();
        assert_eq!(creators, [Role::Rep, Role::Supervisor, Role::SalesManager]);
    }
}
