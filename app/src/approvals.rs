//! Approvals (审批), once for every use: a new customer now; a solution
//! review, the contract chain, extensions, stage skips and order exceptions
//! later. A subject record keeps its approval as one workflow field; its
//! aggregate's commands (`submit`, `approve`, `reject`) call these pure
//! rules, so the phone and the server decide alike.
//!
//! The steps are fixed when the request is submitted, from the chain's
//! rules and the subject's amount: a step applies or not then, and every
//! step that applies is approved in order by its own approver. Approving a
//! later step first (a general manager "skipping" the legal review, as
//! ERPNext's amount tiers allowed, its issue 37128) is refused, as is
//! approving one's own request.

use crate::error::Refusal;
use crate::roles::{CurrentUser, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who approves a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "role")]
pub enum Approver {
    /// Anyone of this role.
    Role(Role),
    /// The supervisor of the requester's team (a supervisor's own request
    /// goes to a sales manager).
    RequesterSupervisor,
}

/// One step of a chain, and when it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRule {
    pub approver: Approver,
    /// The step applies only to subjects above this amount (fen); a
    /// configurable threshold such as the general manager's.
    pub above_fen: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Rejected,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Pending,
    Approved,
    Rejected,
}

/// A step of a submitted request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub approver: Approver,
    pub verdict: Option<Verdict>,
    pub by: Option<Uuid>,
    pub by_name: Option<String>,
    pub comment: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

/// A request for approval as the subject stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub requester: Uuid,
    pub requester_name: String,
    pub requester_role: Role,
    pub requester_team: Option<Uuid>,
    /// 1 for the first submission, one more for each resubmission.
    pub round: u32,
    pub state: ApprovalState,
    pub submitted_at: DateTime<Utc>,
    pub steps: Vec<Step>,
    /// Every earlier round's steps, so a rejection and its comment stay.
    #[serde(default)]
    pub earlier: Vec<Vec<Step>>,
}

/// The longest comment an approver may leave.
pub const COMMENT_MAX: usize = 500;

impl Approval {
    /// A new request: the chain's steps that apply to `amount_fen`. A
    /// resubmission (after a rejection) keeps the earlier rounds.
    pub fn submit(
        chain: &[StepRule],
        amount_fen: Option<i64>,
        requester: &CurrentUser,
        earlier: Option<&Approval>,
        now: DateTime<Utc>,
    ) -> Result<Self, Refusal> {
        let (round, mut history) = match earlier {
            None => (1, Vec::new()),
            Some(previous) if previous.state == ApprovalState::Rejected => {
                let mut history = previous.earlier.clone();
                history.push(previous.steps.clone());
                (previous.round + 1, history)
            }
            Some(_) => return Err(Refusal::Rule("approval_already_submitted")),
        };
        history.truncate(20);
        let steps: Vec<Step> = chain
            .iter()
            .filter(|rule| match (rule.above_fen, amount_fen) {
                (None, _) => true,
                (Some(threshold), Some(amount)) => amount > threshold,
                // No amount to compare: the step applies (never skipped by omission).
                (Some(_), None) => true,
            })
            .map(|rule| Step {
                approver: rule.approver,
                verdict: None,
                by: None,
                by_name: None,
                comment: None,
                at: None,
            })
            .collect();
        if steps.is_empty() {
            return Err(Refusal::Rule("approval_no_steps"));
        }
        Ok(Self {
            requester: requester.id,
            requester_name: requester.display_name.clone(),
            requester_role: requester.role,
            requester_team: requester.team_id,
            round,
            state: ApprovalState::Pending,
            submitted_at: now,
            steps,
            earlier: history,
        })
    }

    /// The step waiting for a verdict.
    pub fn current(&self) -> Option<&Step> {
        if self.state != ApprovalState::Pending {
            return None;
        }
        self.steps.iter().find(|step| step.verdict.is_none())
    }

    /// Whether `user` may give the verdict the request waits for now.
    pub fn waits_for(&self, user: &CurrentUser) -> bool {
        self.check_approver(user).is_ok()
    }

    fn check_approver(&self, user: &CurrentUser) -> Result<usize, Refusal> {
        if self.state != ApprovalState::Pending {
            return Err(Refusal::Rule("approval_not_pending"));
        }
        if user.id == self.requester {
            return Err(Refusal::Rule("approval_own_request"));
        }
        let index = self
            .steps
            .iter()
            .position(|step| step.verdict.is_none())
            .ok_or(Refusal::Rule("approval_not_pending"))?;
        let allowed = match self.steps[index].approver {
            Approver::Role(role) => user.role == role,
            Approver::RequesterSupervisor if self.requester_role == Role::Supervisor => {
                user.role == Role::SalesManager
            }
            Approver::RequesterSupervisor => {
                user.role == Role::Supervisor && user.team_id.is_some() && user.team_id == self.requester_team
            }
        };
        if allowed {
            Ok(index)
        } else {
            Err(Refusal::Rule("approval_not_your_step"))
        }
    }

    /// The current step's verdict by `user`. A rejection needs a comment
    /// and ends the request (it may be resubmitted); the last approval
    /// approves it.
    pub fn decide(
        &self,
        user: &CurrentUser,
        verdict: Verdict,
        comment: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, Refusal> {
        let index = self.check_approver(user)?;
        let comment = comment.trim();
        let mut check = crate::validate::Checker::default();
        match verdict {
            Verdict::Rejected => {
                check.required("comment", comment, COMMENT_MAX);
            }
            Verdict::Approved => {
                check.optional("comment", comment, COMMENT_MAX);
            }
        }
        check.finish(()).map_err(Refusal::Invalid)?;
        let mut next = self.clone();
        next.steps[index] = Step {
            approver: self.steps[index].approver,
            verdict: Some(verdict),
            by: Some(user.id),
            by_name: Some(user.display_name.clone()),
            comment: (!comment.is_empty()).then(|| comment.to_owned()),
            at: Some(now),
        };
        next.state = match verdict {
            Verdict::Rejected => ApprovalState::Rejected,
            Verdict::Approved if index + 1 == next.steps.len() => ApprovalState::Approved,
            Verdict::Approved => ApprovalState::Pending,
        };
        Ok(next)
    }

    /// The comment of the rejection that ended the request, if it was one.
    pub fn rejection(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.verdict == Some(Verdict::Rejected))
    }
}

/// The request a record keeps in its `approval` field, if it has one.
pub fn stored(fields: &crate::stored::Fields) -> Option<Approval> {
    fields
        .get("approval")
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAM: Uuid = Uuid::from_u128(0xA);
    const OTHER_TEAM: Uuid = Uuid::from_u128(0xB);

    fn user(id: u128, role: Role, team: Option<Uuid>) -> CurrentUser {
        CurrentUser {
            id: Uuid::from_u128(id),
            username: format!("u{id}"),
            display_name: format!("用户{id}"),
            role,
            team_id: team,
            time_zone: "Asia/Shanghai".into(),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-12-02T02:00:00Z".parse().unwrap()
    }

    /// The contract chain of seed 002: sales manager, legal, finance, and
    /// the general manager above 500,000 yuan.
    const CONTRACT: &[StepRule] = &[
        StepRule {
            approver: Approver::Role(Role::SalesManager),
            above_fen: None,
        },
        StepRule {
            approver: Approver::Role(Role::Legal),
            above_fen: None,
        },
        StepRule {
            approver: Approver::Role(Role::Finance),
            above_fen: None,
        },
        StepRule {
            approver: Approver::Role(Role::GeneralManager),
            above_fen: Some(50_000_000),
        },
    ];

    const NEW_CUSTOMER: &[StepRule] = &[StepRule {
        approver: Approver::RequesterSupervisor,
        above_fen: None,
    }];

    #[test]
    fn the_requesters_own_supervisor_approves_and_nobody_approves_their_own() {
        let rep = user(1, Role::Rep, Some(TEAM));
        let request = Approval::submit(NEW_CUSTOMER, None, &rep, None, now()).unwrap();
        let own_sup = user(2, Role::Supervisor, Some(TEAM));
        let other_sup = user(3, Role::Supervisor, Some(OTHER_TEAM));
        assert!(request.waits_for(&own_sup));
        assert_eq!(
            request.decide(&other_sup, Verdict::Approved, "", now()),
            Err(Refusal::Rule("approval_not_your_step"))
        );
        assert_eq!(
            request.decide(&rep, Verdict::Approved, "", now()),
            Err(Refusal::Rule("approval_own_request"))
        );
        let approved = request
            .decide(&own_sup, Verdict::Approved, "资料齐全", now())
            .unwrap();
        assert_eq!(approved.state, ApprovalState::Approved);
        assert_eq!(approved.steps[0].by_name.as_deref(), Some("用户2"));
        // A supervisor's own application goes to a sales manager, not to themself.
        let by_sup = Approval::submit(NEW_CUSTOMER, None, &own_sup, None, now()).unwrap();
        assert_eq!(
            by_sup.decide(&own_sup, Verdict::Approved, "", now()),
            Err(Refusal::Rule("approval_own_request"))
        );
        assert!(by_sup.waits_for(&user(4, Role::SalesManager, None)));
    }

    #[test]
    fn the_amount_adds_the_general_managers_step_and_no_tier_can_be_skipped() {
        let rep = user(1, Role::Rep, Some(TEAM));
        let small = Approval::submit(CONTRACT, Some(50_000_000), &rep, None, now()).unwrap();
        assert_eq!(small.steps.len(), 3, "exactly at the threshold: no GM step");
        let large = Approval::submit(CONTRACT, Some(50_000_001), &rep, None, now()).unwrap();
        assert_eq!(large.steps.len(), 4);
        let gm = user(9, Role::GeneralManager, None);
        // The GM is above everyone, yet may not approve before legal and finance.
        assert_eq!(
            large.decide(&gm, Verdict::Approved, "", now()),
            Err(Refusal::Rule("approval_not_your_step"))
        );
        let mut request = large;
        for role in [Role::SalesManager, Role::Legal, Role::Finance] {
            request = request
                .decide(&user(5, role, None), Verdict::Approved, "", now())
                .unwrap();
            assert_eq!(request.state, ApprovalState::Pending);
        }
        let done = request.decide(&gm, Verdict::Approved, "", now()).unwrap();
        assert_eq!(done.state, ApprovalState::Approved);
        assert_eq!(
            done.decide(&gm, Verdict::Approved, "", now()),
            Err(Refusal::Rule("approval_not_pending"))
        );
    }

    #[test]
    fn a_rejection_needs_a_comment_and_a_resubmission_starts_a_new_round() {
        let rep = user(1, Role::Rep, Some(TEAM));
        let sup = user(2, Role::Supervisor, Some(TEAM));
        let request = Approval::submit(NEW_CUSTOMER, None, &rep, None, now()).unwrap();
        let Err(Refusal::Invalid(problems)) = request.decide(&sup, Verdict::Rejected, " ", now()) else {
            panic!("a rejection without a comment must be refused");
        };
        assert_eq!(problems[0].field, "comment");
        let rejected = request
            .decide(&sup, Verdict::Rejected, "缺少信用调查", now())
            .unwrap();
        assert_eq!(rejected.state, ApprovalState::Rejected);
        assert_eq!(
            rejected.rejection().and_then(|s| s.comment.as_deref()),
            Some("缺少信用调查")
        );
        assert_eq!(
            Approval::submit(NEW_CUSTOMER, None, &rep, Some(&request), now()),
            Err(Refusal::Rule("approval_already_submitted"))
        );
        let again = Approval::submit(NEW_CUSTOMER, None, &rep, Some(&rejected), now()).unwrap();
        assert_eq!((again.round, again.state), (2, ApprovalState::Pending));
        assert_eq!(again.earlier.len(), 1);
        assert_eq!(again.earlier[0][0].comment.as_deref(), Some("缺少信用调查"));
    }
}
