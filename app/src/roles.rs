//! The roles of DOMAIN.md and the signed-in user as every layer sees them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rep,
    Supervisor,
    SalesManager,
    ServiceAgent,
    ServiceSupervisor,
    Technician,
    Finance,
    Legal,
    GeneralManager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Rep,
        Role::Supervisor,
        Role::SalesManager,
        Role::ServiceAgent,
        Role::ServiceSupervisor,
        Role::Technician,
        Role::Finance,
        Role::Legal,
        Role::GeneralManager,
        Role::Admin,
    ];

    /// The name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Supervisor => "supervisor",
            Role::SalesManager => "sales_manager",
            Role::ServiceAgent => "service_agent",
            Role::ServiceSupervisor => "service_supervisor",
            Role::Technician => "technician",
            Role::Finance => "finance",
            Role::Legal => "legal",
            Role::GeneralManager => "general_manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

/// The signed-in user, as the server resolved it from the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
    /// IANA zone the user's times are shown in, e.g. `Asia/Shanghai`.
    pub time_zone: String,
}

impl CurrentUser {
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("boss"), None);
    }
}
