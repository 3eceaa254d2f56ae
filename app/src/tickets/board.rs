//! The service supervisor's board from the server: the same counts as
//! `service_board` and `service_rates` over the device's tickets, answered
//! from `ticket_rows` by aggregates (each ticket's due times are in its row,
//! written by the clocks' rule), so a desk with a hundred thousand tickets
//! neither holds nor walks them all. The integration test
//! `tickets::the_servers_board_counts_as_the_device_does` holds the two
//! equal on both databases.

use super::ServiceBoard;
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// The board and the two rates (met, decided), as of `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardAnswer {
    pub board: ServiceBoard,
    pub contact: (u32, u32),
    pub handling: (u32, u32),
}

impl BoardAnswer {
    /// The rates as the page shows them.
    pub fn rates(&self) -> Vec<crate::screen::Rate> {
        [
            ("deadline_contact", self.contact),
            ("deadline_handling", self.handling),
        ]
        .into_iter()
        .map(|(kind, (met, decided))| crate::screen::Rate { kind, met, decided })
        .collect()
    }
}

/// `POST /api/tickets/board`: the board over the tickets the user may read,
/// months counted in their zone.
#[leptos::server(endpoint = "tickets/board", input = leptos::server_fn::codec::Json)]
pub async fn board() -> Result<BoardAnswer, AppError> {
    let user = crate::ssr::require_user().await?;
    let state = crate::ssr::state()?;
    let scope = crate::policy::scope(&user, crate::policy::Kind::Ticket).ok_or(AppError::Forbidden)?;
    Ok(store::board(&state.db, scope, chrono::Utc::now(), user.tz()).await?)
}

#[cfg(feature = "ssr")]
pub mod store {
    use super::BoardAnswer;
    use crate::policy::Scope;
    use crate::ssr::{to_millis, Db, DbError};
    use crate::tickets::{by_load, RatingTrend, ServiceBoard, AGE_BANDS_HOURS};
    use chrono::{DateTime, Utc};

    const HOUR: i64 = 3_600_000;

    /// The rows in `scope`, as a condition on `ticket_rows` and the value
    /// of its `$2` (the scope's id; every query binds one, so the
    /// parameters number alike in every scope).
    fn in_scope(scope: Scope) -> (&'static str, String) {
        match scope {
            Scope::All => ("deleted = 0 AND $2 = $2", String::new()),
            Scope::Own(user) => ("deleted = 0 AND owner_id = $2", user.to_string()),
            Scope::Team(team) => (
                "deleted = 0 AND owner_id IN (SELECT id FROM users WHERE team_id = $2)",
                team.to_string(),
            ),
        }
    }

    /// The board: four reads, each on its own connection of the pool and
    /// run at once (SQLite in WAL mode reads on several connections side
    /// by side), so the board takes as long as its longest read, not their
    /// sum. Each is a consistent count; a ticket written between them may
    /// be counted by one and not yet by another, as on any live board.
    pub async fn board(
        db: &Db,
        scope: Scope,
        now: DateTime<Utc>,
        tz: chrono_tz::Tz,
    ) -> Result<BoardAnswer, DbError> {
        let mut trend = RatingTrend::new(now, tz);
        let starts = trend.month_starts();
        let (mut board, workload, months, (contact, handling)) = tokio::try_join!(
            open_tickets(db, scope, now),
            workload(db, scope),
            rated_months(db, scope, &starts),
            rates(db, scope, now),
        )?;
        board.workload = by_load(workload);
        for (month, n, sum) in months {
            trend.add_month(usize::try_from(month).unwrap_or(0), count(n), count(sum));
        }
        board.ratings = trend.months();
        Ok(BoardAnswer {
            board,
            contact,
            handling,
        })
    }

    fn count(n: i64) -> u32 {
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Open tickets: by age, clock state and escalation. A deadline is
    /// running up to its very second, overdue after (`Deadline::state`).
    async fn open_tickets(db: &Db, scope: Scope, now: DateTime<Utc>) -> Result<ServiceBoard, DbError> {
        let (scoped, id) = in_scope(scope);
        let [young, day, days] = AGE_BANDS_HOURS.map(|h| h * HOUR);
        let open_sql = format!(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN opened_at IS NOT NULL AND $1 - opened_at < {young} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN $1 - opened_at >= {young} AND $1 - opened_at < {day} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN $1 - opened_at >= {day} AND $1 - opened_at < {days} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN $1 - opened_at >= {days} THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN contacted_at IS NULL AND $1 <= contact_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN contacted_at IS NULL AND $1 > contact_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN resolved_at IS NULL AND $1 <= handling_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN resolved_at IS NULL AND $1 > handling_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN escalated = 1 THEN 1 ELSE 0 END), 0) \
             FROM ticket_rows WHERE {scoped} AND status IN ('open', 'contacted', 'in_progress')"
        );
        type Open = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let (open, a0, a1, a2, a3, c_run, c_over, h_run, h_over, escalated) =
            sqlx::query_as::<_, Open>(&open_sql)
                .bind(to_millis(now))
                .bind(&id)
                .fetch_one(&db.pool)
                .await?;
        Ok(ServiceBoard {
            open: count(open),
            by_age: [count(a0), count(a1), count(a2), count(a3)],
            contact_running: count(c_run),
            contact_overdue: count(c_over),
            handling_running: count(h_run),
            handling_overdue: count(h_over),
            escalated: count(escalated),
            ..ServiceBoard::default()
        })
    }

    /// Each technician's open tickets (`None`: not yet dispatched).
    async fn workload(
        db: &Db,
        scope: Scope,
    ) -> Result<std::collections::BTreeMap<Option<String>, u32>, DbError> {
        let (scoped, id) = in_scope(scope);
        let workload_sql = format!(
            "SELECT technician_name, COUNT(*) FROM ticket_rows \
             WHERE {scoped} AND status IN ('open', 'contacted', 'in_progress') AND $1 = $1 GROUP BY technician_name"
        );
        let rows = sqlx::query_as::<_, (Option<String>, i64)>(&workload_sql)
            .bind(0_i64)
            .bind(&id)
            .fetch_all(&db.pool)
            .await?;
        let mut workload = std::collections::BTreeMap::new();
        for (technician, n) in rows {
            *workload
                .entry(technician.filter(|name| !name.is_empty()))
                .or_insert(0) += count(n);
        }
        Ok(workload)
    }

    /// The closed tickets' ratings, counted per month (month i begins at
    /// `starts[i]`, in the user's zone): (month, count, sum).
    async fn rated_months(
        db: &Db,
        scope: Scope,
        starts: &[DateTime<Utc>],
    ) -> Result<Vec<(i64, i64, i64)>, DbError> {
        let (scoped, id) = in_scope(scope);
        // Month i (from 1) begins at `$(i + 2)`; month 0 at `$1`.
        let month_of: String = (1..starts.len())
            .rev()
            .map(|i| format!("WHEN closed_at >= ${} THEN {i} ", i + 2))
            .collect();
        let ratings_sql = format!(
            "SELECT CAST(CASE {month_of}ELSE 0 END AS BIGINT), COUNT(*), CAST(COALESCE(SUM(rating), 0) AS BIGINT) \
             FROM ticket_rows \
             WHERE {scoped} AND status = 'closed' AND closed_at >= $1 AND rating BETWEEN 1 AND 5 \
             GROUP BY 1"
        );
        let mut query = sqlx::query_as::<_, (i64, i64, i64)>(&ratings_sql)
            .bind(to_millis(starts[0]))
            .bind(&id);
        for start in &starts[1..] {
            query = query.bind(to_millis(*start));
        }
        Ok(query.fetch_all(&db.pool).await?)
    }

    /// The rates over every ticket: met in time, of met or missed by now.
    async fn rates(db: &Db, scope: Scope, now: DateTime<Utc>) -> Result<((u32, u32), (u32, u32)), DbError> {
        let (scoped, id) = in_scope(scope);
        let rates_sql = format!(
            "SELECT \
             COALESCE(SUM(CASE WHEN contacted_at <= contact_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN contacted_at IS NOT NULL OR $1 > contact_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN resolved_at <= handling_due_at THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN resolved_at IS NOT NULL OR $1 > handling_due_at THEN 1 ELSE 0 END), 0) \
             FROM ticket_rows WHERE {scoped} AND contact_due_at IS NOT NULL"
        );
        let (c_met, c_decided, h_met, h_decided) = sqlx::query_as::<_, (i64, i64, i64, i64)>(&rates_sql)
            .bind(to_millis(now))
            .bind(&id)
            .fetch_one(&db.pool)
            .await?;
        Ok(((count(c_met), count(c_decided)), (count(h_met), count(h_decided))))
    }
}
