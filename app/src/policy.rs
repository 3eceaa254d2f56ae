//! Who may do what: the one place access is decided. Server functions ask
//! here before touching data; the UI only mirrors the answers.
//!
//! Pure functions of the user and the record's ownership, so the whole table
//! is unit-tested here and again end to end through HTTP in the server tests.

use crate::roles::{CurrentUser, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kinds of synced records, as far as access is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 线索
    Lead,
    /// 拜访记录
    Visit,
    /// 售后工单
    Ticket,
    /// 客户 (and its recognition application)
    Customer,
    /// 售后跟进记录
    FollowUp,
    /// 通知: a user's own, made by the server.
    Notification,
    /// 系统设置: the company's one settings record.
    Settings,
}

/// Which records of a kind a user may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Only records the user owns.
    Own(Uuid),
    /// Records owned by members of this team (supervisors).
    Team(Uuid),
    /// Every record of the kind.
    All,
}

/// Who owns a record, as far as access is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    pub owner_id: Uuid,
    pub owner_team_id: Option<Uuid>,
}

impl Scope {
    pub fn contains(self, record: Ownership) -> bool {
        match self {
            Self::Own(user) => record.owner_id == user,
            Self::Team(team) => record.owner_team_id == Some(team),
            Self::All => true,
        }
    }
}

/// Whether `user` reads others' records of `kind` too (a supervisor's
/// team, a manager's company): their lists and pages say whose each is.
pub fn sees_others(user: &CurrentUser, kind: Kind) -> bool {
    matches!(scope(user, kind), Some(Scope::Team(_) | Scope::All))
}

/// The records of `kind` that `user` may read, or `None` when the role has
/// no business with them.
pub fn scope(user: &CurrentUser, kind: Kind) -> Option<Scope> {
    let own = Scope::Own(user.id);
    let team = user.team_id.map_or(own, Scope::Team);
    match (kind, user.role) {
        // Sales records: reps their own, supervisors their team, managers all.
        (Kind::Lead | Kind::Visit, Role::Rep) => Some(own),
        (Kind::Lead | Kind::Visit, Role::Supervisor) => Some(team),
        (Kind::Lead | Kind::Visit, Role::SalesManager | Role::GeneralManager) => Some(Scope::All),
        (Kind::Lead | Kind::Visit, _) => None,
        // Service tickets: the service desk sees all; a technician or a rep
        // the tickets they own; a sales supervisor the team's.
        (Kind::Ticket, Role::ServiceAgent | Role::ServiceSupervisor) => Some(Scope::All),
        (Kind::Ticket, Role::SalesManager | Role::GeneralManager) => Some(Scope::All),
        (Kind::Ticket, Role::Technician | Role::Rep) => Some(own),
        (Kind::Ticket, Role::Supervisor) => Some(team),
        (Kind::Ticket, Role::Finance | Role::Legal | Role::Admin) => None,
        // Customers: like leads for sales; the service desk and finance
        // read them all (contacts for tickets, terms for receivables).
        (Kind::Customer, Role::Rep) => Some(own),
        (Kind::Customer, Role::Supervisor) => Some(team),
        (
            Kind::Customer,
            Role::SalesManager
            | Role::GeneralManager
            | Role::ServiceAgent
            | Role::ServiceSupervisor
            | Role::Finance,
        ) => Some(Scope::All),
        (Kind::Customer, Role::Technician | Role::Legal | Role::Admin) => None,
        // After-sales follow-ups: the service desk and the managers read
        // them all; a rep or technician their own; a sales supervisor the
        // team's.
        (
            Kind::FollowUp,
            Role::ServiceAgent | Role::ServiceSupervisor | Role::SalesManager | Role::GeneralManager,
        ) => Some(Scope::All),
        (Kind::FollowUp, Role::Rep | Role::Technician) => Some(own),
        (Kind::FollowUp, Role::Supervisor) => Some(team),
        (Kind::FollowUp, Role::Finance | Role::Legal | Role::Admin) => None,
        // Everyone reads only the notifications addressed to them.
        (Kind::Notification, _) => Some(own),
        // Every rule on every device reads the company's settings.
        (Kind::Settings, _) => Some(Scope::All),
    }
}

/// Who enters records of `kind`. The general manager reads but does not enter.
pub fn can_create(user: &CurrentUser, kind: Kind) -> bool {
    match kind {
        Kind::Lead | Kind::Visit | Kind::Customer => {
            matches!(user.role, Role::Rep | Role::Supervisor | Role::SalesManager)
        }
        Kind::Ticket | Kind::FollowUp => matches!(
            user.role,
            Role::ServiceAgent | Role::ServiceSupervisor | Role::Technician | Role::Rep | Role::Supervisor
        ),
        // Only the server makes notifications (when a clock runs out).
        Kind::Notification => false,
        // The admin keeps the company's settings.
        Kind::Settings => user.role == Role::Admin,
    }
}

/// Changing or deleting a record: an author of its kind, with it in scope.
/// A notification is changed (marked read) by its recipient alone.
pub fn can_write(user: &CurrentUser, kind: Kind, record: Ownership) -> bool {
    let author = can_create(user, kind) || kind == Kind::Notification;
    author && scope(user, kind).is_some_and(|s| s.contains(record))
}

pub fn can_read(user: &CurrentUser, kind: Kind, record: Ownership) -> bool {
    scope(user, kind).is_some_and(|s| s.contains(record)) || reads_in_pool(user, kind, record)
}

/// The name a pool's pseudo-user carries (what a list shows as the owner).
pub const POOL_NAME: &str = "公海";

/// The owner of a team's public pool (公海): a pseudo-user (role `pool`,
/// never signed in) whose id is the team's own, so a pool needs no lookup.
/// A team works one 片区, so its pool is its region's: a customer nobody
/// follows up returns there, and the team's reps claim from it.
pub fn pool_owner(team: Uuid) -> Uuid {
    team
}

/// Whether a record lies in a team's public pool.
pub fn in_pool(record: Ownership) -> bool {
    record.owner_team_id == Some(record.owner_id)
}

/// The kinds that have a public pool.
fn pooled(kind: Kind) -> bool {
    kind == Kind::Customer
}

/// The pool whose records `user` reads beyond their scope: a rep, their
/// team's (a supervisor's team scope holds it already, a manager's all).
pub fn pool_of(user: &CurrentUser, kind: Kind) -> Option<Uuid> {
    let team = user.team_id?;
    (pooled(kind) && user.role == Role::Rep).then(|| pool_owner(team))
}

/// `user` reads `record` only because it lies in their team's pool: they
/// see it masked (no contact phone) and may claim it, not edit it.
pub fn reads_in_pool(user: &CurrentUser, kind: Kind, record: Ownership) -> bool {
    pool_of(user, kind).is_some_and(|pool| record.owner_id == pool)
}

/// Claiming a pooled record: a rep of the pool's team (a supervisor of it
/// too, for their own book). Whether today's quota or a cooldown allows it
/// is the aggregate's rule.
pub fn can_claim(user: &CurrentUser, kind: Kind, record: Ownership) -> bool {
    pooled(kind)
        && in_pool(record)
        && matches!(user.role, Role::Rep | Role::Supervisor)
        && user.team_id == record.owner_team_id
}

/// Whether a refused claim may name who holds the record now: one who
/// could claim it from the pool learns which teammate was quicker (as the
/// duplicate check would tell them anyway), nobody else anything.
pub fn may_name_holder(user: &CurrentUser, kind: Kind, record: Ownership) -> bool {
    pooled(kind)
        && matches!(user.role, Role::Rep | Role::Supervisor)
        && user.team_id.is_some()
        && user.team_id == record.owner_team_id
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
            assert_eq!(
                can_read(&who, Kind::Lead, lead_of_rep1),
                allowed,
                "{:?}",
                who.role
            );
        }
    }

    #[test]
    fn ticket_access_by_role() {
        let ticket_of_tech = Ownership {
            owner_id: Uuid::from_u128(9),
            owner_team_id: None,
        };
        let readers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| can_read(&user(1, *role, Some(TEAM_A)), Kind::Ticket, ticket_of_tech))
            .collect();
        assert_eq!(
            readers,
            [
                Role::SalesManager,
                Role::ServiceAgent,
                Role::ServiceSupervisor,
                Role::GeneralManager
            ]
        );
        assert!(can_read(
            &user(9, Role::Technician, None),
            Kind::Ticket,
            ticket_of_tech
        ));
        assert!(can_write(
            &user(9, Role::Technician, None),
            Kind::Ticket,
            ticket_of_tech
        ));
        assert!(!can_write(
            &user(6, Role::GeneralManager, None),
            Kind::Ticket,
            ticket_of_tech
        ));
        assert!(!can_create(&user(10, Role::Finance, None), Kind::Ticket));
    }

    #[test]
    fn a_notification_is_its_recipients_alone() {
        let to_agent = Ownership {
            owner_id: Uuid::from_u128(7),
            owner_team_id: None,
        };
        for role in Role::ALL {
            let recipient = user(7, role, Some(TEAM_A));
            let other = user(8, role, Some(TEAM_A));
            assert!(can_read(&recipient, Kind::Notification, to_agent), "{role:?}");
            assert!(can_write(&recipient, Kind::Notification, to_agent), "{role:?}");
            assert!(!can_read(&other, Kind::Notification, to_agent), "{role:?}");
            assert!(!can_write(&other, Kind::Notification, to_agent), "{role:?}");
            assert!(!can_create(&recipient, Kind::Notification), "{role:?}");
        }
    }

    #[test]
    fn a_teams_pool_is_read_masked_by_its_reps_and_claimed_by_them_alone() {
        let pool_a = Ownership {
            owner_id: pool_owner(TEAM_A),
            owner_team_id: Some(TEAM_A),
        };
        let rep_a = user(1, Role::Rep, Some(TEAM_A));
        let rep_b = user(2, Role::Rep, Some(TEAM_B));
        let sup_a = user(3, Role::Supervisor, Some(TEAM_A));
        let manager = user(4, Role::SalesManager, None);
        assert!(in_pool(pool_a));
        assert!(can_read(&rep_a, Kind::Customer, pool_a));
        assert!(reads_in_pool(&rep_a, Kind::Customer, pool_a));
        assert!(!can_write(&rep_a, Kind::Customer, pool_a));
        assert!(can_claim(&rep_a, Kind::Customer, pool_a));
        // Another team's pool is another region's.
        assert!(!can_read(&rep_b, Kind::Customer, pool_a));
        assert!(!can_claim(&rep_b, Kind::Customer, pool_a));
        // The supervisor and the manager read it whole, as their scope.
        assert!(can_read(&sup_a, Kind::Customer, pool_a));
        assert!(!reads_in_pool(&sup_a, Kind::Customer, pool_a));
        assert!(can_claim(&sup_a, Kind::Customer, pool_a));
        assert!(can_read(&manager, Kind::Customer, pool_a));
        assert!(!can_claim(&manager, Kind::Customer, pool_a));
        // Leads have no pool: a rep reads no lead of the pool's owner.
        assert!(!can_read(&rep_a, Kind::Lead, pool_a));
        // A customer a teammate claimed: out of scope, but its holder may
        // be named to a rep of the team, not to one of another team.
        let claimed = Ownership {
            owner_id: Uuid::from_u128(5),
            owner_team_id: Some(TEAM_A),
        };
        assert!(!in_pool(claimed));
        assert!(!can_read(&rep_a, Kind::Customer, claimed));
        assert!(may_name_holder(&rep_a, Kind::Customer, claimed));
        assert!(!may_name_holder(&rep_b, Kind::Customer, claimed));
        assert!(!may_name_holder(&rep_a, Kind::Lead, claimed));
    }

    #[test]
    fn only_sales_staff_create_leads() {
        let creators: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| can_create(&user(1, *role, None), Kind::Lead))
            .collect();
        assert_eq!(creators, [Role::Rep, Role::Supervisor, Role::SalesManager]);
    }
}
