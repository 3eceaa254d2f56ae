//! Service tickets (售后工单): opened from the hotline, a call, an email,
//! the web or a visit, and moved along by commands (contacted, in progress,
//! resolved, closed, reopened); the status is a workflow field no edit sets.

pub mod board;
pub mod survey;

use crate::calendar::{Calendar, ClockMode, WorkingHours};
use crate::error::FieldProblem;
use crate::i18n::Words;
use crate::policy::Kind;
use crate::roles::Role;
use crate::schema::{field, Field, Input, Lines, Link, LONG_TEXT, SHORT_TEXT};
use crate::screen::{CommandArgs, Deadline, DeadlineState, Offer, Rate, RecordScreen};
use crate::stored::{instant_value as instant, stored_instant, Reader};
use crate::sync::entity::{
    Clock, ClockCall, Clocks, CommandCall, Decided, DueCall, EntitySpec, Projected, Projection, Raised,
    Recipient, Refusal,
};
use crate::sync::Fields;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const TICKET: EntitySpec = EntitySpec {
    name: "ticket",
    kind: Kind::Ticket,
    plural: Words {
        zh: "售后工单",
        en: "Service tickets",
    },
    fields: &[
        field(
            "customer_id",
            Input::Reference(&TICKET_CUSTOMER),
            "客户档案",
            "Customer record",
        ),
        field("customer_name", Input::Text, "客户名称", "Customer")
            .required()
            .searched(),
        field("contact_name", Input::Text, "联系人", "Contact").searched(),
        field("contact_phone", Input::Phone, "联系电话", "Contact phone").searched(),
        field("channel", Input::Choice(TICKET_CHANNELS), "来源渠道", "Channel").required(),
        field("ticket_type", Input::Choice(TICKET_TYPES), "工单类型", "Type").required(),
        field("priority", Input::Choice(TICKET_PRIORITIES), "优先级", "Priority"),
        field("product", Input::Text, "产品", "Product").searched(),
        field("order_ref", Input::Text, "订单号", "Order").searched(),
        field("description", Input::Long, "问题描述", "Description")
            .required()
            .searched(),
        field("opened_at", Input::DateTime, "受理时间", "Opened at")
            .required()
            .past(),
        field("contacted_at", Input::DateTime, "接触时间", "Contacted at").fact(),
        CONTACT_METHOD.fact(),
        field("contacted_by", Input::Text, "联系人员", "Contacted by").fact(),
        CONTACT_NOTE.fact(),
        BEFORE_APPEARANCE.fact(),
        BEFORE_FUNCTION.fact(),
        BEFORE_PERFORMANCE.fact(),
        CONDITION_BEFORE.fact(),
        BEFORE_CONFIRMED_BY.fact(),
        field(
            "before_confirmed_at",
            Input::DateTime,
            "维修前确认时间",
            "Condition confirmed at",
        )
        .fact(),
        field("resolved_at", Input::DateTime, "解决时间", "Resolved at").fact(),
        REPAIR_WORK.fact(),
        PARTS_USED.fact(),
        CONDITION_AFTER.fact(),
        RETURNED_ITEM.fact(),
        REPLACEMENT_ITEM.fact(),
        SIGNED_BY.fact(),
        SIGNATURE.fact(),
        field("technician_name", Input::Text, "维修技师", "Technician").fact(),
        field("dispatched_at", Input::DateTime, "派工时间", "Dispatched at").fact(),
        field(
            "contact_escalated_at",
            Input::DateTime,
            "未按时联系，上报时间",
            "Escalated for no contact at",
        )
        .fact(),
        field(
            "handling_escalated_at",
            Input::DateTime,
            "未按时处理，上报时间",
            "Escalated for no resolution at",
        )
        .fact(),
        RATING.fact(),
        RATING_COMMENT.fact(),
        field("closed_at", Input::DateTime, "关闭时间", "Closed at").fact(),
        field(survey::SENT_AT, Input::DateTime, "调查发出时间", "Survey sent at").fact(),
        survey::QUESTIONS[0].fact(),
        survey::QUESTIONS[1].fact(),
        survey::QUESTIONS[2].fact(),
        survey::REMARKS.fact(),
        // `customer` through the link (in words), else the agent's name.
        field(
            survey::ANSWERED_BY,
            Input::TextOr(&[survey::BY_CUSTOMER]),
            "调查回答人",
            "Answered by",
        )
        .fact(),
        field(
            survey::ANSWERED_AT,
            Input::DateTime,
            "调查回答时间",
            "Answered at",
        )
        .fact(),
        field("status", Input::Choice(TICKET_STATUSES), "状态", "Status")
            .kept()
            .workflow(),
        field(survey::TOKEN, Input::Text, "调查链接", "Survey link")
            .kept()
            .workflow(),
        field(
            CLOCK_MODE_FIELD,
            Input::Choice(ClockMode::ALL),
            "计时方式",
            "Clock mode",
        )
        .kept()
        .workflow(),
        field(CONTACT_DUE, Input::DateTime, "联系客户时限", "Contact due")
            .kept()
            .workflow(),
        field(HANDLING_DUE, Input::DateTime, "处理完成时限", "Handling due")
            .kept()
            .workflow(),
    ],
    commands: &[
        CONTACT,
        DISPATCH,
        START,
        RECORD_BEFORE,
        RESOLVE,
        CLOSE,
        REOPEN,
        survey::SEND_SURVEY,
        survey::ANSWER_SURVEY,
    ],
    title: "customer_name",
    rules: crate::sync::entity::no_more_rules,
    decide: decide_ticket,
    projection: Some(&TICKET_ROWS),
    clocks: Some(&TICKET_CLOCKS),
    person_args: &["technician"],
    arg_references: &[],
    locked: ticket_locked,
    claim: None,
    hidden: survey::hidden_from,
    touches: &[],
    single: None,
    stamp: Some(stamp_ticket),
    merged_into: None,
};

/// `ticket_rows`: what the service board, a customer's tickets and the
/// reports read, typed (instants in milliseconds, the rating a number).
pub const TICKET_ROWS: Projection = Projection {
    table: "ticket_rows",
    columns: &[
        "customer_id",
        "status",
        "ticket_type",
        "channel",
        "priority",
        "opened_at",
        "contacted_at",
        "resolved_at",
        "closed_at",
        "technician_name",
        "rating",
        "escalated",
        "survey_token",
        "contact_due_at",
        "handling_due_at",
    ],
    row: ticket_row,
};

/// The zone a ticket's deadlines are kept in where the rule needs one
/// (working hours): the service desk's.
pub const SERVICE_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn ticket_row(fields: &Fields) -> Vec<Projected> {
    let text = |name: &str| Projected::Text(crate::stored::stored_text(fields, name));
    let millis = |name: &str| Projected::Int(stored_instant(fields, name).map(|at| at.timestamp_millis()));
    let escalated = ["contact_escalated_at", "handling_escalated_at"]
        .iter()
        .any(|mark| stored_instant(fields, mark).is_some());
    let deadlines = ticket_deadlines(fields, SERVICE_ZONE);
    let due = |kind: &str| {
        deadlines
            .iter()
            .find(|d| d.kind == kind)
            .map(|d| d.due_at.timestamp_millis())
    };
    vec![
        text("customer_id"),
        Projected::Text(Some(status_of(fields).to_owned())),
        text("ticket_type"),
        text("channel"),
        text("priority"),
        millis("opened_at"),
        millis("contacted_at"),
        millis("resolved_at"),
        millis("closed_at"),
        text("technician_name"),
        Projected::Int(
            fields
                .get("rating")
                .and_then(Value::as_str)
                .and_then(|r| r.parse().ok()),
        ),
        Projected::Int(Some(i64::from(escalated))),
        // The survey link's secret, found when the customer opens it.
        text(survey::TOKEN),
        // The deadlines, by the rule the clocks and the cards use.
        Projected::Int(due(CONTACT_CLOCK)),
        Projected::Int(due(HANDLING_CLOCK)),
    ]
}

/// A closed ticket is the customer's signed-off record: it is reopened
/// (within the window) before anything in it changes.
pub fn ticket_locked(fields: &Fields) -> Option<&'static str> {
    (status_of(fields) == "closed").then_some("ticket_closed")
}

/// A ticket's customer, looked up by name, code or phone among the
/// customers on the desk's device; a caller who is not yet a customer is
/// recorded by name and linked later by editing the ticket.
pub const TICKET_CUSTOMER: Link = Link {
    entity: crate::customers::CUSTOMER.name,
    copy: &[
        ("company", "customer_name"),
        ("contact_name", "contact_name"),
        ("phone", "contact_phone"),
    ],
};

/// The service promise (seed 004, 6.6): contact the customer within 2
/// hours of the request, handle it within 24; a clock that runs out
/// escalates (上报) the ticket to the service supervisors, once.
pub const TICKET_CLOCKS: Clocks = Clocks {
    running: ticket_clocks,
    raise: raise_ticket_clock,
};

/// The 2-hour clock to the first contact.
pub const CONTACT_CLOCK: &str = "contact";
/// The 24-hour clock to resolution.
pub const HANDLING_CLOCK: &str = "handling";

pub const CONTACT_WITHIN_MINUTES: i64 = 2 * 60;
pub const HANDLE_WITHIN_MINUTES: i64 = 24 * 60;

/// A ticket's two deadlines, from when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub contact: DateTime<Utc>,
    pub handling: DateTime<Utc>,
}

/// The moment `minutes` after `opened` in `mode`, working hours counted on
/// `calendar`.
pub fn deadline(
    opened: DateTime<Utc>,
    minutes: i64,
    mode: ClockMode,
    tz: chrono_tz::Tz,
    calendar: &Calendar,
) -> DateTime<Utc> {
    match mode {
        ClockMode::CalendarHours => opened + chrono::Duration::minutes(minutes),
        ClockMode::WorkingHours => calendar.working_minutes_after(opened, minutes, WorkingHours::OFFICE, tz),
    }
}

/// The deadlines of a ticket opened at `opened`.
pub fn due_times(
    opened: DateTime<Utc>,
    mode: ClockMode,
    tz: chrono_tz::Tz,
    calendar: &Calendar,
) -> Deadlines {
    Deadlines {
        contact: deadline(opened, CONTACT_WITHIN_MINUTES, mode, tz, calendar),
        handling: deadline(opened, HANDLE_WITHIN_MINUTES, mode, tz, calendar),
    }
}

/// The clock mode, and the deadlines, the server keeps on a ticket
/// (`EntitySpec::stamp`): the mode is the company's setting on the day
/// the ticket was opened and stays; the deadlines follow its opening
/// time and the company's calendar in the service desk's zone.
pub const CLOCK_MODE_FIELD: &str = "clock_mode";
pub const CONTACT_DUE: &str = "contact_due_at";
pub const HANDLING_DUE: &str = "handling_due_at";

fn stamp_ticket(fields: &Fields, new: bool, singles: &crate::sync::entity::Singles) -> Fields {
    let Some(opened) = stored_instant(fields, "opened_at") else {
        return Fields::new();
    };
    let settings = crate::settings::ProcessSettings::of(singles);
    // A ticket opened before modes were kept ran in calendar hours.
    let mode = stored_mode(fields).unwrap_or(if new {
        settings.ticket_clock_mode
    } else {
        ClockMode::CalendarHours
    });
    let due = due_times(opened, mode, SERVICE_ZONE, &settings.calendar());
    [
        (CLOCK_MODE_FIELD, Value::String(mode.as_str().to_owned())),
        (CONTACT_DUE, instant(due.contact)),
        (HANDLING_DUE, instant(due.handling)),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

fn stored_mode(fields: &Fields) -> Option<ClockMode> {
    fields
        .get(CLOCK_MODE_FIELD)
        .and_then(Value::as_str)
        .and_then(ClockMode::parse)
}

/// The ticket's deadlines, if it has an opening time: those the server
/// stamped on it, or (a ticket not yet back from the server, or opened
/// before they were stamped) by its opening time in calendar hours, the
/// seed's promise.
pub fn deadlines(fields: &Fields, tz: chrono_tz::Tz) -> Option<Deadlines> {
    if let (Some(contact), Some(handling)) = (
        stored_instant(fields, CONTACT_DUE),
        stored_instant(fields, HANDLING_DUE),
    ) {
        return Some(Deadlines { contact, handling });
    }
    let opened = stored_instant(fields, "opened_at")?;
    let mode = stored_mode(fields).unwrap_or_default();
    Some(due_times(opened, mode, tz, &Calendar::china()))
}

/// Whether the first contact came in time: `None` while there is none.
/// A contact at the deadline's very second is in time; one second later
/// is not.
pub fn contact_met(fields: &Fields, tz: chrono_tz::Tz) -> Option<bool> {
    let contacted = stored_instant(fields, "contacted_at")?;
    Some(contacted <= deadlines(fields, tz)?.contact)
}

/// Whether the ticket was resolved in time: `None` while it is not.
pub fn handling_met(fields: &Fields, tz: chrono_tz::Tz) -> Option<bool> {
    let resolved = stored_instant(fields, "resolved_at")?;
    Some(resolved <= deadlines(fields, tz)?.handling)
}

/// The service supervisor's two rates over `tickets` at `now`: first
/// contacts within 2 hours, and resolutions within 24, of the tickets
/// whose clock has been met or has run out (DOMAIN.md: 2 小时响应率,
/// 24 小时解决率). From stored times only, so every device and the server
/// count alike.
pub fn service_rates(tickets: &[&Fields], now: DateTime<Utc>, tz: chrono_tz::Tz) -> Vec<Rate> {
    let mut contact = Rate {
        kind: "deadline_contact",
        ..Rate::default()
    };
    let mut handling = Rate {
        kind: "deadline_handling",
        ..Rate::default()
    };
    // The same deadlines the cards count down (a ticket done before
    // resolutions were timed has no handling deadline to judge).
    for deadline in tickets.iter().flat_map(|ticket| ticket_deadlines(ticket, tz)) {
        let rate = if deadline.kind == CONTACT_CLOCK {
            &mut contact
        } else {
            &mut handling
        };
        match deadline.state(now) {
            DeadlineState::MetInTime => {
                rate.met += 1;
                rate.decided += 1;
            }
            DeadlineState::MetLate | DeadlineState::Overdue(_) => rate.decided += 1,
            DeadlineState::Running(_) => {}
        }
    }
    vec![contact, handling]
}

fn is_done(status: &str) -> bool {
    matches!(status, "resolved" | "closed")
}

/// The age bands the service supervisor's board counts open tickets in,
/// by the hours since they were opened: under 2, 2 to 24, 1 to 3 days,
/// and more (the seed's two clocks, then the long tail).
pub const AGE_BANDS_HOURS: [i64; 3] = [2, 24, 72];

/// How many months back the satisfaction trend goes, this month included.
pub const TREND_MONTHS: usize = 6;

/// The service supervisor's board (seed 004, 6.6-6.7): open tickets by age
/// and clock state, the escalated ones, each technician's open load, and
/// the customers' ratings month by month.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ServiceBoard {
    /// Open tickets (not resolved or closed).
    pub open: u32,
    /// Open tickets per age band (`AGE_BANDS_HOURS`, then older).
    pub by_age: [u32; 4],
    /// Open tickets whose 2-hour clock still runs, and has run out unmet.
    pub contact_running: u32,
    pub contact_overdue: u32,
    /// Open tickets whose 24-hour clock still runs, and has run out.
    pub handling_running: u32,
    pub handling_overdue: u32,
    /// Open tickets escalated (上报) by either clock.
    pub escalated: u32,
    /// Open tickets per technician they were dispatched to, most first;
    /// `None` for those not yet dispatched.
    pub workload: Vec<(Option<String>, u32)>,
    /// Ratings per month of closing (`YYYY-MM` in the zone), oldest first,
    /// the last `TREND_MONTHS` months: how many, and their sum.
    pub ratings: Vec<(String, u32, u32)>,
}

impl ServiceBoard {
    /// A month's average rating to one decimal, rounded down (exact
    /// integer arithmetic); `None` for a month with none.
    pub fn average(count: u32, sum: u32) -> Option<String> {
        (count > 0).then(|| {
            let tenths = sum * 10 / count;
            format!("{}.{}", tenths / 10, tenths % 10)
        })
    }
}

/// The board over `tickets` at `now`, months counted in `tz`.
pub fn service_board(tickets: &[&Fields], now: DateTime<Utc>, tz: chrono_tz::Tz) -> ServiceBoard {
    let mut board = ServiceBoard::default();
    let mut workload: std::collections::BTreeMap<Option<String>, u32> = Default::default();
    let mut trend = RatingTrend::new(now, tz);
    for ticket in tickets {
        let status = status_of(ticket);
        if status == "closed" {
            let rating = ticket
                .get("rating")
                .and_then(Value::as_str)
                .and_then(|r| r.parse::<u32>().ok());
            if let (Some(rating), Some(closed)) = (rating, stored_instant(ticket, "closed_at")) {
                trend.add(closed, rating);
            }
        }
        if is_done(status) {
            continue;
        }
        board.open += 1;
        if let Some(opened) = stored_instant(ticket, "opened_at") {
            board.by_age[age_band(now, opened)] += 1;
        }
        for deadline in ticket_deadlines(ticket, tz) {
            let (running, overdue) = if deadline.kind == CONTACT_CLOCK {
                (&mut board.contact_running, &mut board.contact_overdue)
            } else {
                (&mut board.handling_running, &mut board.handling_overdue)
            };
            match deadline.state(now) {
                DeadlineState::Running(_) => *running += 1,
                DeadlineState::Overdue(_) => *overdue += 1,
                DeadlineState::MetInTime | DeadlineState::MetLate => {}
            }
        }
        if [CONTACT_CLOCK, HANDLING_CLOCK]
            .into_iter()
            .any(|clock| ticket.get(escalation_mark(clock)).is_some_and(|v| !v.is_null()))
        {
            board.escalated += 1;
        }
        let technician = ticket
            .get("technician_name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        *workload.entry(technician).or_default() += 1;
    }
    board.workload = by_load(workload);
    board.ratings = trend.months();
    board
}

/// Which of `AGE_BANDS_HOURS` a ticket opened at `opened` falls in at
/// `now` (whole hours since, as a clock on the wall counts them).
pub fn age_band(now: DateTime<Utc>, opened: DateTime<Utc>) -> usize {
    let hours = (now - opened).num_hours();
    AGE_BANDS_HOURS
        .iter()
        .take_while(|limit| hours >= **limit)
        .count()
}

/// Each technician's open tickets, most loaded first, the undispatched
/// (`None`) last.
pub fn by_load(workload: std::collections::BTreeMap<Option<String>, u32>) -> Vec<(Option<String>, u32)> {
    let mut workload: Vec<(Option<String>, u32)> = workload.into_iter().collect();
    workload.sort_by(|a, b| {
        a.0.is_none()
            .cmp(&b.0.is_none())
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(&b.0))
    });
    workload
}

/// The customers' ratings (1-5) of the last `TREND_MONTHS` months, this one
/// last, months counted in a zone.
pub struct RatingTrend {
    tz: chrono_tz::Tz,
    months: Vec<(i32, u32)>,
    ratings: Vec<(u32, u32)>,
}

impl RatingTrend {
    pub fn new(now: DateTime<Utc>, tz: chrono_tz::Tz) -> Self {
        let (mut year, mut month) = Self::month_of(now, tz);
        let mut months = Vec::with_capacity(TREND_MONTHS);
        for _ in 0..TREND_MONTHS {
            months.push((year, month));
            (year, month) = if month == 1 {
                (year - 1, 12)
            } else {
                (year, month - 1)
            };
        }
        months.reverse();
        Self {
            tz,
            months,
            ratings: vec![(0, 0); TREND_MONTHS],
        }
    }

    fn month_of(at: DateTime<Utc>, tz: chrono_tz::Tz) -> (i32, u32) {
        use chrono::Datelike;
        let local = at.with_timezone(&tz);
        (local.year(), local.month())
    }

    /// The first instant of each of the trend's months, oldest first, in
    /// its zone: a rating closed before the first counts in none.
    pub fn month_starts(&self) -> Vec<DateTime<Utc>> {
        use chrono::TimeZone;
        self.months
            .iter()
            .map(|(year, month)| {
                self.tz
                    .with_ymd_and_hms(*year, *month, 1, 0, 0, 0)
                    .earliest()
                    .map_or(DateTime::<Utc>::MIN_UTC, |at| at.with_timezone(&Utc))
            })
            .collect()
    }

    /// `count` ratings summing to `sum` counted elsewhere for the
    /// `index`-th month (of `month_starts`).
    pub fn add_month(&mut self, index: usize, count: u32, sum: u32) {
        if let Some(month) = self.ratings.get_mut(index) {
            month.0 += count;
            month.1 += sum;
        }
    }

    /// A rating given when a ticket closed at `closed`; one outside 1-5 or
    /// the trend's months counts in none.
    pub fn add(&mut self, closed: DateTime<Utc>, rating: u32) {
        if !(1..=5).contains(&rating) {
            return;
        }
        if let Some(i) = self
            .months
            .iter()
            .position(|m| *m == Self::month_of(closed, self.tz))
        {
            self.ratings[i].0 += 1;
            self.ratings[i].1 += rating;
        }
    }

    /// (`YYYY-MM`, how many, their sum) per month, oldest first.
    pub fn months(self) -> Vec<(String, u32, u32)> {
        self.months
            .into_iter()
            .zip(self.ratings)
            .map(|((year, month), (count, sum))| (format!("{year}-{month:02}"), count, sum))
            .collect()
    }
}

/// The ticket's two deadlines with when each was met: the first contact
/// meets the 2-hour clock, the resolution the 24-hour one. What the page
/// and the cards count down, and what the server's clocks come from.
pub fn ticket_deadlines(fields: &Fields, tz: chrono_tz::Tz) -> Vec<Deadline> {
    let Some(due) = deadlines(fields, tz) else {
        return Vec::new();
    };
    let contact = Deadline {
        kind: CONTACT_CLOCK,
        due_at: due.contact,
        met_at: stored_instant(fields, "contacted_at"),
    };
    let resolved = stored_instant(fields, "resolved_at");
    // A ticket done before resolutions were timed has no moment to judge.
    if resolved.is_none() && is_done(status_of(fields)) {
        return vec![contact];
    }
    vec![
        contact,
        Deadline {
            kind: HANDLING_CLOCK,
            due_at: due.handling,
            met_at: resolved,
        },
    ]
}

/// The deadlines still running: not met, and the ticket not done (a ticket
/// closed without a resolution stops its clocks too).
fn ticket_clocks(call: &ClockCall) -> Vec<Clock> {
    if is_done(status_of(call.record)) {
        return survey::survey_clock(call).into_iter().collect();
    }
    ticket_deadlines(call.record, call.tz)
        .into_iter()
        .filter(|d| d.met_at.is_none())
        .map(|d| Clock {
            kind: d.kind,
            due_at: d.due_at,
        })
        .collect()
}

/// The field a clock's escalation (上报) is marked in.
fn escalation_mark(clock: &str) -> &'static str {
    match clock {
        CONTACT_CLOCK => "contact_escalated_at",
        _ => "handling_escalated_at",
    }
}

fn raise_ticket_clock(call: &DueCall) -> Raised {
    if call.kind == survey::SURVEY_CLOCK {
        return survey::raise_survey(call);
    }
    let mark = escalation_mark(call.kind);
    Raised {
        changes: std::iter::once((mark.to_owned(), instant(call.due_at))).collect(),
        notify: vec![Recipient::Role(Role::ServiceSupervisor), Recipient::Owner],
        to_pool: false,
        secret: None,
    }
}

pub const TICKET_SCREEN: RecordScreen = RecordScreen {
    spec: &TICKET,
    new: Words {
        zh: "新建工单",
        en: "New ticket",
    },
    when: "opened_at",
    path: "/tickets",
    from: None,
    dedup: false,
    offered: &[Offer {
        command: RECORD_BEFORE,
        when: is_repair,
    }],
    args: &[
        CommandArgs {
            command: CONTACT,
            fields: &[CONTACT_METHOD.required(), CONTACT_NOTE],
            applies: crate::screen::always,
        },
        CommandArgs {
            command: DISPATCH,
            fields: &[field(
                "technician",
                Input::Person(Role::Technician),
                "派工给",
                "Dispatch to",
            )
            .required()],
            applies: crate::screen::always,
        },
        // Before a repair, its condition is checked and recorded with the
        // customer, who confirms it (seed 004, 6.6.3).
        CommandArgs {
            command: RECORD_BEFORE,
            fields: BEFORE_RECORD,
            applies: is_repair,
        },
        // A repair is resolved on site with the customer (seed 004, 6.6):
        // the product's condition before and after, what was done, and the
        // customer's signature. The rule asks for them on a dispatched
        // repair only.
        CommandArgs {
            command: RESOLVE,
            fields: REPAIR_RECORD,
            applies: is_repair,
        },
        // A return or exchange records what came back and what replaced it.
        CommandArgs {
            command: RESOLVE,
            fields: RETURN_RECORD,
            applies: is_return,
        },
        // Answers the desk records on a call.
        CommandArgs {
            command: survey::ANSWER_SURVEY,
            fields: survey::ANSWERS,
            applies: crate::screen::always,
        },
        CommandArgs {
            command: CLOSE,
            fields: &[RATING.required(), RATING_COMMENT],
            applies: crate::screen::always,
        },
    ],
    deadlines: Some(|_, fields, tz, _| ticket_deadlines(fields, tz)),
    rates: Some(service_rates),
    board: Some("/service-board"),
    share: Some(crate::screen::Share {
        field: survey::TOKEN,
        path: "/survey/",
    }),
    photos: true,
    pairs: None,
    proposal: None,
    order: None,
    badge: None,
    summary: &[],
    status: Some(status_of),
};

/// The parts a repair used (更换零部件), a line each: what, how many, in
/// what unit. A ticket resolved before they were lines keeps them as the
/// text it was written with (`Lines::text_before`).
pub const PARTS: Lines = Lines {
    fields: &[
        field("part", Input::Text, "零部件", "Part").required(),
        // Optional, as it always was in what is stored: a part written
        // without a count stays readable, and its ticket closable.
        field(
            "quantity",
            Input::Whole { min: 1, max: 99_999 },
            "数量",
            "Quantity",
        ),
        field("unit", Input::Text, "单位", "Unit"),
    ],
    flag: None,
    max: 30,
    text_before: true,
};

/// The parts used as stored or sent: lines of `PARTS`, or the free text of
/// a ticket resolved before they were lines (or sent by a phone that has
/// not yet updated).
/// The parts used as a resolution stores them: lines with their values
/// trimmed and empty ones left out, or the text trimmed; `None` for none.
fn parts_value(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::String(text) => Some(text.trim()).filter(|t| !t.is_empty()).map(Value::from),
        Value::Array(lines) => {
            let lines: Vec<Value> = lines
                .iter()
                .filter_map(Value::as_object)
                .map(|line| {
                    line.iter()
                        .filter_map(|(k, v)| {
                            let text = v.as_str()?.trim();
                            (!text.is_empty()).then(|| (k.clone(), Value::from(text)))
                        })
                        .collect::<Fields>()
                })
                .filter(|line| !line.is_empty())
                .map(Value::Object)
                .collect();
            (!lines.is_empty()).then_some(Value::Array(lines))
        }
        _ => None,
    }
}

/// What is checked with the customer before a repair (seed 004, 6.6.3:
/// 外观、功能、性能), with notes, and who of the customer confirmed it.
pub const BEFORE_RECORD: &[Field] = &[
    BEFORE_APPEARANCE.required(),
    BEFORE_FUNCTION.required(),
    BEFORE_PERFORMANCE.required(),
    CONDITION_BEFORE.required(),
    BEFORE_CONFIRMED_BY.required(),
];
const BEFORE_APPEARANCE: Field = field(
    "before_appearance",
    Input::Choice(CONDITIONS),
    "外观（维修前）",
    "Appearance (before)",
);
const BEFORE_FUNCTION: Field = field(
    "before_function",
    Input::Choice(CONDITIONS),
    "功能（维修前）",
    "Function (before)",
);
const BEFORE_PERFORMANCE: Field = field(
    "before_performance",
    Input::Choice(CONDITIONS),
    "性能（维修前）",
    "Performance (before)",
);
const CONDITION_BEFORE: Field = field(
    "condition_before",
    Input::Long,
    "维修前产品状况",
    "Condition before the repair",
);
const BEFORE_CONFIRMED_BY: Field = field(
    "before_confirmed_by",
    Input::Text,
    "确认人（客户方）",
    "Confirmed by (customer)",
);

/// How a part of the product was found: as it should be, or not.
pub const CONDITIONS: &[&str] = &["condition_ok", "condition_fault"];

/// What a repair's resolution records with the customer on site, once its
/// condition before was confirmed (`RECORD_BEFORE`).
pub const REPAIR_RECORD: &[Field] = &[REPAIR_WORK, PARTS_USED, CONDITION_AFTER, SIGNED_BY, SIGNATURE];
const REPAIR_WORK: Field = field("repair_work", Input::Long, "维修内容", "Work done");
const PARTS_USED: Field = field("parts_used", Input::Lines(&PARTS), "更换零部件", "Parts used");
const CONDITION_AFTER: Field = field(
    "condition_after",
    Input::Long,
    "维修后产品状况",
    "Condition after the repair",
);
const SIGNED_BY: Field = field("signed_by", Input::Text, "客户签字人", "Signed by");
const SIGNATURE: Field = field("signature", Input::Signature, "客户签名", "Customer's signature");

/// What the resolution of a return or exchange (不合格品退换) records: the
/// defective item that came back and what the customer got instead.
pub const RETURN_RECORD: &[Field] = &[RETURNED_ITEM.required(), REPLACEMENT_ITEM.required()];
const RETURNED_ITEM: Field = field(
    "returned_item",
    Input::Text,
    "退回的不合格品",
    "Defective item returned",
);
const REPLACEMENT_ITEM: Field = field("replacement_item", Input::Text, "更换的产品", "Replacement given");

fn ticket_type(fields: &Fields) -> Option<&str> {
    fields.get("ticket_type").and_then(Value::as_str)
}

fn is_repair(fields: &Fields) -> bool {
    ticket_type(fields) == Some("repair")
}

fn is_return(fields: &Fields) -> bool {
    ticket_type(fields) == Some("return_exchange")
}

/// Where a ticket came in (DOMAIN.md: 400 hotline, phone, email, web, visit).
pub const TICKET_CHANNELS: &[&str] = &["hotline", "phone", "email", "web", "visit"];
/// 投诉, 维修, 咨询, 培训, 不合格品退换.
pub const TICKET_TYPES: &[&str] = &[
    "complaint",
    "repair",
    "consultation",
    "training",
    "return_exchange",
];
/// How urgent the request is (a line down before a question on upkeep).
pub const TICKET_PRIORITIES: &[&str] = &[
    "priority_urgent",
    "priority_high",
    "priority_normal",
    "priority_low",
];
/// A ticket's statuses, in their order. A new ticket is `open`.
pub const TICKET_STATUSES: &[&str] = &["open", "contacted", "in_progress", "resolved", "closed"];

/// The customer was reached (the first contact).
pub const CONTACT: &str = "contact";
/// Work on it has begun.
pub const START: &str = "start";
pub const RESOLVE: &str = "resolve";
/// 维修前确认: the repair's condition before, confirmed by the customer.
pub const RECORD_BEFORE: &str = "record_before";
pub const CLOSE: &str = "close";
/// A resolved or closed ticket needs more work.
pub const REOPEN: &str = "reopen";
/// 派工: the service desk sends the ticket to a technician, who then owns
/// it (it reaches their phone; the desk still sees it).
pub const DISPATCH: &str = "dispatch";

/// A ticket's status as stored: absent means open.
pub fn status_of(fields: &Fields) -> &str {
    fields.get("status").and_then(Value::as_str).unwrap_or("open")
}

/// The status a command moves a ticket to from `status`, or why not.
pub fn transition(status: &str, command: &str) -> Result<&'static str, Refusal> {
    let allowed: &[&str] = match command {
        CONTACT => &["open"],
        START => &["open", "contacted"],
        RESOLVE => &["open", "contacted", "in_progress"],
        CLOSE => &["resolved"],
        REOPEN => &["resolved", "closed"],
        _ => return Err(Refusal::Rule("unknown_command")),
    };
    if !allowed.contains(&status) {
        return Err(Refusal::Rule(match status {
            "closed" => "ticket_closed",
            _ => "ticket_wrong_status",
        }));
    }
    Ok(match command {
        CONTACT => "contacted",
        START | REOPEN => "in_progress",
        RESOLVE => "resolved",
        _ => "closed",
    })
}

/// The customer's rating of the service, which closes a ticket (5 best).
pub const RATINGS: &[&str] = &["5", "4", "3", "2", "1"];
const RATING: Field = field("rating", Input::Choice(RATINGS), "客户评分", "Customer's rating");
const RATING_COMMENT: Field = field("rating_comment", Input::Long, "客户评价", "Customer's comment");

/// How the first contact was made.
pub const CONTACT_METHODS: &[&str] = &["phone", "visit", "message", "email"];
const CONTACT_METHOD: Field = field(
    "contact_method",
    Input::Choice(CONTACT_METHODS),
    "联系方式",
    "How the customer was reached",
);
const CONTACT_NOTE: Field = field(
    "contact_note",
    Input::Long,
    "联系记录（约定事项）",
    "What was agreed",
);

/// Dispatching: by the service desk, of a ticket not yet done, to an
/// active technician (as the server knows them when it decides).
fn decide_dispatch(call: &CommandCall) -> Result<Decided, Refusal> {
    if !matches!(call.actor.role, Role::ServiceAgent | Role::ServiceSupervisor) {
        return Err(Refusal::Rule("dispatch_by_service_desk"));
    }
    let status = status_of(call.record);
    if is_done(status) {
        return Err(Refusal::Rule(if status == "closed" {
            "ticket_closed"
        } else {
            "ticket_wrong_status"
        }));
    }
    let mut read = Reader::args(call.args);
    read.required("technician", SHORT_TEXT);
    read.finish().map_err(Refusal::Invalid)?;
    let technician = call
        .context
        .person(call.args, "technician")
        .filter(|p| p.active && p.role == Role::Technician)
        .ok_or(Refusal::Rule("dispatch_not_technician"))?;
    let mut changes = Fields::new();
    changes.insert(
        "technician_name".into(),
        Value::String(technician.display_name.clone()),
    );
    changes.insert("dispatched_at".into(), instant(call.now));
    Ok(Decided {
        changes,
        number: None,
        owner: Some(technician.id),
        ..Decided::default()
    })
}

/// The on-site record a resolution carries: on a repair dispatched to a
/// technician (done at the customer's), the condition before and after,
/// the work done, who signed and their signature, all required; on a
/// ticket resolved on the call, whatever of them was given.
fn repair_record(call: &CommandCall) -> Result<Fields, Refusal> {
    let repair = is_repair(call.record) && call.record.contains_key("dispatched_at");
    // The condition before is confirmed with the customer first; a phone
    // of an older build still sends it with the resolution, as one record
    // that the customer's signature covers.
    let confirmed = before_confirmed(call.record);
    if repair && !confirmed && Reader::args(call.args).is_empty("condition_before") {
        return Err(Refusal::Rule("repair_before_not_confirmed"));
    }
    let mut read = Reader::args(call.args);
    read.optional("condition_before", LONG_TEXT);
    for name in ["repair_work", "condition_after"] {
        if repair {
            read.required(name, LONG_TEXT);
        } else {
            read.optional(name, LONG_TEXT);
        }
    }
    crate::schema::check(&[PARTS_USED], &mut read, call.now);
    for name in ["returned_item", "replacement_item"] {
        if is_return(call.record) {
            read.required(name, SHORT_TEXT);
        } else {
            read.optional(name, SHORT_TEXT);
        }
    }
    if repair {
        read.required("signed_by", SHORT_TEXT);
    } else {
        read.optional("signed_by", SHORT_TEXT);
    }
    if repair && read.is_empty("signature") {
        read.check.fail("signature", FieldProblem::Required);
    }
    read.signature("signature");
    read.finish().map_err(Refusal::Invalid)?;
    let before = CONDITION_BEFORE;
    Ok(REPAIR_RECORD
        .iter()
        .chain(RETURN_RECORD)
        .chain((!confirmed).then_some(&before))
        .filter_map(|f| {
            if f.name == "parts_used" {
                return parts_value(call.args.get(f.name)).map(|v| (f.name.to_owned(), v));
            }
            let value = call.args.get(f.name)?.as_str()?.trim();
            (!value.is_empty()).then(|| (f.name.to_owned(), Value::String(value.to_owned())))
        })
        .collect())
}

/// Whether the repair's condition before stands confirmed (a reopened
/// repair's is cleared: its next visit confirms it again).
fn before_confirmed(fields: &Fields) -> bool {
    stored_instant(fields, "before_confirmed_at").is_some()
}

/// 维修前确认: on a repair at the customer's (dispatched, not yet
/// resolved), once: the condition of its appearance, function and
/// performance, notes, and the customer who confirmed them.
fn record_before(call: &CommandCall) -> Result<Decided, Refusal> {
    if !is_repair(call.record) || !call.record.contains_key("dispatched_at") {
        return Err(Refusal::Rule("repair_not_on_site"));
    }
    if is_done(status_of(call.record)) {
        return Err(Refusal::Rule(if status_of(call.record) == "closed" {
            "ticket_closed"
        } else {
            "ticket_wrong_status"
        }));
    }
    if before_confirmed(call.record) {
        return Err(Refusal::Rule("repair_before_confirmed"));
    }
    let mut read = Reader::args(call.args);
    crate::schema::check(BEFORE_RECORD, &mut read, call.now);
    read.finish().map_err(Refusal::Invalid)?;
    let mut changes: Fields = BEFORE_RECORD
        .iter()
        .filter_map(|f| {
            Some((
                f.name.to_owned(),
                Value::String(call.args.get(f.name)?.as_str()?.trim().to_owned()),
            ))
        })
        .collect();
    changes.insert("before_confirmed_at".into(), instant(call.now));
    // With the customer on site, the customer has been reached.
    if !call.record.contains_key("contacted_at") {
        changes.insert("contacted_at".into(), instant(call.now));
        changes.insert(
            "contacted_by".into(),
            Value::String(call.actor.display_name.clone()),
        );
    }
    // Work has begun: an open or contacted ticket is in progress now.
    if status_of(call.record) != "in_progress" {
        changes.insert("status".into(), Value::String("in_progress".into()));
    }
    Ok(Decided::changes(changes))
}

pub fn decide_ticket(call: &CommandCall) -> Result<Decided, Refusal> {
    if call.name == DISPATCH {
        return decide_dispatch(call);
    }
    if matches!(call.name, survey::SEND_SURVEY | survey::ANSWER_SURVEY) {
        return survey::decide_survey(call);
    }
    if call.name == RECORD_BEFORE {
        return record_before(call);
    }
    let next = transition(status_of(call.record), call.name)?;
    let mut changes = Fields::new();
    changes.insert("status".to_owned(), Value::String(next.to_owned()));
    let first_contact = !call.record.contains_key("contacted_at");
    if call.name == CONTACT {
        let mut read = Reader::args(call.args);
        read.choice("contact_method", |raw| {
            CONTACT_METHODS.contains(&raw).then_some(())
        });
        read.optional("contact_note", LONG_TEXT);
        read.finish().map_err(Refusal::Invalid)?;
        changes.insert("contact_method".into(), call.args["contact_method"].clone());
        if let Some(note) = call.args.get("contact_note").and_then(Value::as_str) {
            let note = note.trim();
            if !note.is_empty() {
                changes.insert("contact_note".into(), Value::String(note.to_owned()));
            }
        }
    }
    // Starting or resolving without a recorded contact means the customer
    // was reached then (a question answered on the call): the 2-hour
    // clock stops at that moment.
    if first_contact && matches!(call.name, CONTACT | START | RESOLVE) {
        changes.insert("contacted_at".into(), instant(call.now));
        changes.insert(
            "contacted_by".into(),
            Value::String(call.actor.display_name.clone()),
        );
    }
    match call.name {
        RESOLVE => {
            changes.extend(repair_record(call)?);
            changes.insert("resolved_at".into(), instant(call.now));
        }
        CLOSE => {
            // The customer's rating and word close it (seed 004, 6.7).
            let mut read = Reader::args(call.args);
            read.choice("rating", |raw| RATINGS.contains(&raw).then_some(()));
            read.optional("rating_comment", LONG_TEXT);
            read.finish().map_err(Refusal::Invalid)?;
            changes.insert("rating".into(), call.args["rating"].clone());
            let comment = call
                .args
                .get("rating_comment")
                .and_then(Value::as_str)
                .map(str::trim);
            changes.insert(
                "rating_comment".into(),
                comment
                    .filter(|c| !c.is_empty())
                    .map_or(Value::Null, |c| Value::String(c.to_owned())),
            );
            changes.insert("closed_at".into(), instant(call.now));
        }
        // Within the company's window after closing (`settings`); later, a
        // new ticket is opened instead (so the closed one's rating and
        // rates stand).
        REOPEN => {
            if let Some(closed) = stored_instant(call.record, "closed_at") {
                let window = crate::settings::ProcessSettings::of(&call.context.singles).reopen_within_days;
                if call.now > closed + chrono::Duration::days(window) {
                    return Err(Refusal::Rule("reopen_window_passed"));
                }
            }
            changes.insert("resolved_at".into(), Value::Null);
            changes.insert("closed_at".into(), Value::Null);
            // More work on a repair starts from its condition as it is
            // then, confirmed with the customer again.
            if before_confirmed(call.record) {
                changes.insert("before_confirmed_at".into(), Value::Null);
            }
        }
        _ => {}
    }
    Ok(Decided::changes(changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-24T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_ticket_needs_customer_channel_type_description_and_time() {
        let names: Vec<String> = TICKET
            .check(&Fields::new(), now())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            names,
            [
                "customer_name",
                "channel",
                "ticket_type",
                "description",
                "opened_at"
            ]
        );
        let ticket = json!({
            "customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "repair",
            "description": "叉车液压系统漏油", "opened_at": "2026-11-24T01:00:00Z", "contact_phone": "0574-87654321"
        });
        assert_eq!(TICKET.check(ticket.as_object().unwrap(), now()), Ok(()));
    }

    #[test]
    fn the_board_counts_open_tickets_by_age_clock_and_technician_and_ratings_by_month() {
        let now: DateTime<Utc> = "2026-12-03T08:00:00Z".parse().unwrap();
        let ago = |hours: i64| instant(now - chrono::Duration::hours(hours));
        let tickets = [
            // 1 hour old, contacted, dispatched to 蒋师傅: both clocks fine.
            json!({"opened_at": ago(1), "status": "contacted", "contacted_at": ago(0),
                   "technician_name": "蒋师傅"}),
            // Exactly 2 hours old, never contacted: the contact clock has
            // just run out (not a second late yet: it still runs).
            json!({"opened_at": ago(2)}),
            // 30 hours old, escalated twice, with 蒋师傅.
            json!({"opened_at": ago(30), "technician_name": "蒋师傅",
                   "contact_escalated_at": ago(28), "handling_escalated_at": ago(6)}),
            // Four days old, with 沈师傅.
            json!({"opened_at": ago(96), "status": "in_progress", "contacted_at": ago(95),
                   "technician_name": "沈师傅"}),
            // Closed this month with a 5 and last month with a 4 and a 3;
            // one closed in June is past the trend.
            json!({"opened_at": ago(50), "status": "closed", "rating": "5",
                   "contacted_at": ago(49), "resolved_at": ago(40), "closed_at": ago(39)}),
            json!({"opened_at": ago(800), "status": "closed", "rating": "4",
                   "resolved_at": ago(790), "closed_at": "2026-11-10T02:00:00Z"}),
            json!({"opened_at": ago(800), "status": "closed", "rating": "3",
                   "resolved_at": ago(790), "closed_at": "2026-11-30T17:00:00Z"}),
            json!({"opened_at": ago(4000), "status": "closed", "rating": "1",
                   "resolved_at": ago(3990), "closed_at": "2026-06-01T02:00:00Z"}),
        ];
        let fields: Vec<Fields> = tickets.iter().map(|t| t.as_object().unwrap().clone()).collect();
        let refs: Vec<&Fields> = fields.iter().collect();
        let board = service_board(&refs, now, chrono_tz::Asia::Shanghai);
        assert_eq!(board.open, 4);
        assert_eq!(board.by_age, [1, 1, 1, 1]);
        assert_eq!((board.contact_running, board.contact_overdue), (1, 1));
        assert_eq!((board.handling_running, board.handling_overdue), (2, 2));
        assert_eq!(board.escalated, 1);
        assert_eq!(
            board.workload,
            [
                (Some("蒋师傅".to_owned()), 2),
                (Some("沈师傅".to_owned()), 1),
                (None, 1)
            ]
        );
        // 2026-11-30 17:00 UTC is already December in Shanghai.
        assert_eq!(
            board.ratings,
            [
                ("2026-07".to_owned(), 0, 0),
                ("2026-08".to_owned(), 0, 0),
                ("2026-09".to_owned(), 0, 0),
                ("2026-10".to_owned(), 0, 0),
                ("2026-11".to_owned(), 1, 4),
                ("2026-12".to_owned(), 2, 8),
            ]
        );
        assert_eq!(ServiceBoard::average(2, 8).as_deref(), Some("4.0"));
        assert_eq!(ServiceBoard::average(3, 13).as_deref(), Some("4.3"));
        assert_eq!(ServiceBoard::average(0, 0), None);
    }

    #[test]
    fn a_ticket_moves_only_along_its_lifecycle() {
        assert_eq!(transition("open", CONTACT), Ok("contacted"));
        assert_eq!(transition("contacted", START), Ok("in_progress"));
        assert_eq!(transition("in_progress", RESOLVE), Ok("resolved"));
        assert_eq!(transition("resolved", CLOSE), Ok("closed"));
        assert_eq!(transition("closed", REOPEN), Ok("in_progress"));
        assert_eq!(
            transition("open", CLOSE),
            Err(Refusal::Rule("ticket_wrong_status"))
        );
        assert_eq!(transition("closed", RESOLVE), Err(Refusal::Rule("ticket_closed")));
        // Only a closed ticket is locked against edits; a resolved one is
        // still corrected before the customer closes it.
        for (status, locked) in [
            ("open", None),
            ("resolved", None),
            ("closed", Some("ticket_closed")),
        ] {
            let ticket = json!({ "status": status });
            assert_eq!(ticket_locked(ticket.as_object().unwrap()), locked, "{status}");
        }
        assert_eq!(
            transition("contacted", CONTACT),
            Err(Refusal::Rule("ticket_wrong_status"))
        );
    }

    fn command(
        name: &str,
        args: serde_json::Value,
        record: &Fields,
        now: DateTime<Utc>,
    ) -> Result<Fields, Refusal> {
        let actor = crate::roles::CurrentUser {
            id: uuid::Uuid::from_u128(7),
            username: "agent1".into(),
            display_name: "周静".into(),
            role: Role::ServiceAgent,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        };
        decide_ticket(&CommandCall {
            name,
            args: args.as_object().unwrap(),
            record,
            ownership: crate::policy::Ownership {
                owner_id: actor.id,
                owner_team_id: None,
            },
            actor: &actor,
            now,
            context: &crate::sync::entity::Context::default(),
        })
        .map(|decided| decided.changes)
    }

    fn before_again() -> serde_json::Value {
        json!({
            "before_appearance": "condition_ok", "before_function": "condition_ok",
            "before_performance": "condition_fault", "condition_before": "仍有轻微渗油",
            "before_confirmed_by": "王建国",
        })
    }

    #[test]
    fn a_dispatched_repair_is_resolved_with_its_condition_and_the_customers_signature() {
        let mut ticket = opened("2026-11-24T01:00:00Z");
        ticket.insert("dispatched_at".into(), json!("2026-11-24T02:00:00Z"));
        // Its condition before is confirmed with the customer first.
        assert_eq!(
            command(RESOLVE, json!({}), &ticket, now()),
            Err(Refusal::Rule("repair_before_not_confirmed"))
        );
        let Err(Refusal::Invalid(problems)) = command(RECORD_BEFORE, json!({}), &ticket, now()) else {
            panic!("the condition before needs every part");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "before_appearance",
                "before_function",
                "before_performance",
                "condition_before",
                "before_confirmed_by"
            ]
        );
        let before = json!({
            "before_appearance": "condition_ok", "before_function": "condition_fault",
            "before_performance": "condition_fault", "condition_before": " 液压管接头渗油 ",
            "before_confirmed_by": "王建国",
        });
        let confirmed = command(RECORD_BEFORE, before.clone(), &ticket, now()).unwrap();
        assert_eq!(confirmed["condition_before"], "液压管接头渗油");
        assert_eq!(confirmed["status"], "in_progress");
        let mut on_site = ticket.clone();
        on_site.extend(confirmed);
        assert_eq!(TICKET.check(&on_site, now()), Ok(()));
        assert_eq!(
            command(RECORD_BEFORE, before, &on_site, now()),
            Err(Refusal::Rule("repair_before_confirmed"))
        );
        // Confirmed, the resolution records the rest, all required.
        let Err(Refusal::Invalid(problems)) = command(RESOLVE, json!({}), &on_site, now()) else {
            panic!("an on-site repair needs its record");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["repair_work", "condition_after", "signed_by", "signature"]
        );
        let signature = format!("{}iVBORw0KGgo=", crate::stored::SIGNATURE_PREFIX);
        let rest = json!({
            "repair_work": "更换密封圈并试压", "condition_after": "保压 30 分钟无渗漏",
            "signed_by": "王建国", "signature": signature,
        });
        let changes = command(RESOLVE, rest, &on_site, now()).unwrap();
        assert!(!changes.contains_key("condition_before"), "kept as confirmed");
        // Reopened for more work, the next visit confirms the condition again.
        let mut resolved = on_site.clone();
        resolved.extend(changes);
        let reopened = command(REOPEN, json!({}), &resolved, now()).unwrap();
        assert_eq!(reopened["before_confirmed_at"], Value::Null);
        resolved.extend(reopened);
        assert!(command(RECORD_BEFORE, before_again(), &resolved, now()).is_ok());
        // Not dispatched, there is nothing to confirm on site.
        assert_eq!(
            command(RECORD_BEFORE, json!({}), &opened("2026-11-24T01:00:00Z"), now()),
            Err(Refusal::Rule("repair_not_on_site"))
        );
        // A phone of an older build sends the condition before with the
        // resolution: one record, covered by the signature.
        let signature = format!("{}iVBORw0KGgo=", crate::stored::SIGNATURE_PREFIX);
        let record = json!({
            "condition_before": "液压管接头渗油", "repair_work": "更换密封圈并试压",
            "condition_after": "保压 30 分钟无渗漏", "signed_by": "王建国", "signature": signature,
        });
        let changes = command(RESOLVE, record.clone(), &ticket, now()).unwrap();
        assert_eq!(changes["signature"], signature.as_str());
        assert_eq!(changes["signed_by"], "王建国");
        let mut resolved = ticket.clone();
        resolved.extend(changes);
        assert_eq!(TICKET.check(&resolved, now()), Ok(()));
        // Not a PNG, or too big to be a signature: refused.
        for bad in [
            "data:image/jpeg;base64,/9j/4AAQ".to_owned(),
            format!("{}not base64!", crate::stored::SIGNATURE_PREFIX),
            format!(
                "{}{}",
                crate::stored::SIGNATURE_PREFIX,
                "A".repeat(crate::stored::MAX_SIGNATURE)
            ),
        ] {
            let mut args = record.clone();
            args["signature"] = json!(bad);
            let Err(Refusal::Invalid(problems)) = command(RESOLVE, args, &ticket, now()) else {
                panic!("{bad:.40} must be refused");
            };
            assert_eq!(problems[0].problem, FieldProblem::InvalidImage);
        }
        // Resolved on the call (not dispatched), a repair needs none of it.
        assert!(command(RESOLVE, json!({}), &opened("2026-11-24T01:00:00Z"), now()).is_ok());
        // The parts used go with the record when given: lines of what, how
        // many and the unit, trimmed.
        let mut with_parts = record.clone();
        with_parts["parts_used"] = json!([
            {"part": " 密封圈 ", "quantity": "2", "unit": "个"},
            {"part": "液压油", "quantity": "4", "unit": " 升 "},
        ]);
        let changes = command(RESOLVE, with_parts.clone(), &ticket, now()).unwrap();
        assert_eq!(
            changes["parts_used"],
            json!([{"part": "密封圈", "quantity": "2", "unit": "个"}, {"part": "液压油", "quantity": "4", "unit": "升"}])
        );
        let mut resolved = ticket.clone();
        resolved.extend(changes);
        assert_eq!(TICKET.check(&resolved, now()), Ok(()));
        // A line needs a part, and a quantity given is a whole number; one
        // without a quantity is kept.
        with_parts["parts_used"] = json!([{"part": "密封圈", "quantity": "两个"}, {"quantity": "1"}]);
        let Err(Refusal::Invalid(problems)) = command(RESOLVE, with_parts.clone(), &ticket, now()) else {
            panic!("bad lines must be refused");
        };
        let found: Vec<_> = problems.iter().map(|p| (p.field.as_str(), p.problem)).collect();
        assert_eq!(
            found,
            [
                ("parts_used", FieldProblem::InvalidNumber),
                ("parts_used", FieldProblem::Required)
            ]
        );
        // A phone still on the build before lines sends text: kept as text,
        // and a ticket stored so still reads.
        with_parts["parts_used"] = json!(" 密封圈 ×2，液压油 4 升 ");
        let changes = command(RESOLVE, with_parts, &ticket, now()).unwrap();
        assert_eq!(changes["parts_used"], "密封圈 ×2，液压油 4 升");
        let mut legacy = ticket.clone();
        legacy.extend(changes);
        assert_eq!(TICKET.check(&legacy, now()), Ok(()));
        // A part stored without its count still reads, and its ticket
        // still takes commands.
        let mut uncounted = legacy.clone();
        uncounted.insert("parts_used".into(), json!([{"part": "密封圈"}]));
        assert_eq!(TICKET.check(&uncounted, now()), Ok(()));
    }

    #[test]
    fn a_return_is_resolved_with_the_defective_item_and_its_replacement() {
        let mut ticket = opened("2026-11-24T01:00:00Z");
        ticket.insert("ticket_type".into(), json!("return_exchange"));
        assert!(is_return(&ticket) && !is_repair(&ticket));
        let Err(Refusal::Invalid(problems)) =
            command(RESOLVE, json!({"returned_item": "  "}), &ticket, now())
        else {
            panic!("a return records both items");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["returned_item", "replacement_item"]);
        let items = json!({"returned_item": "液压泵 HP-200（编号 A1093，漏油）",
                           "replacement_item": "液压泵 HP-200（编号 A2217）"});
        let changes = command(RESOLVE, items, &ticket, now()).unwrap();
        assert_eq!(changes["returned_item"], "液压泵 HP-200（编号 A1093，漏油）");
        assert_eq!(changes["replacement_item"], "液压泵 HP-200（编号 A2217）");
        assert!(!changes.contains_key("condition_before"));
        let mut resolved = ticket.clone();
        resolved.extend(changes);
        assert_eq!(TICKET.check(&resolved, now()), Ok(()));
        // Another type is not asked for them, and a patch cannot set them.
        assert!(command(RESOLVE, json!({}), &opened("2026-11-24T01:00:00Z"), now()).is_ok());
        assert!(
            TICKET.workflow().any(|f| f == "returned_item") && TICKET.workflow().any(|f| f == "parts_used")
        );
    }

    #[test]
    fn the_customers_rating_closes_a_ticket_which_reopens_only_within_its_window() {
        let mut ticket = opened("2026-11-24T01:00:00Z");
        ticket.extend(command(RESOLVE, json!({}), &ticket, now()).unwrap());
        let Err(Refusal::Invalid(problems)) = command(CLOSE, json!({"rating": "6"}), &ticket, now()) else {
            panic!("a rating of 6 must be refused");
        };
        assert_eq!(problems[0].field, "rating");
        let closing = command(
            CLOSE,
            json!({"rating": "4", "rating_comment": " 师傅很专业 "}),
            &ticket,
            now(),
        )
        .unwrap();
        assert_eq!(
            (
                &closing["status"],
                &closing["rating"],
                &closing["rating_comment"],
                &closing["closed_at"]
            ),
            (
                &json!("closed"),
                &json!("4"),
                &json!("师傅很专业"),
                &json!("2026-11-24T08:00:00Z")
            )
        );
        ticket.extend(closing);
        assert_eq!(TICKET.check(&ticket, now()), Ok(()));
        let in_time =
            now() + chrono::Duration::days(crate::settings::ProcessSettings::default().reopen_within_days);
        let reopened = command(REOPEN, json!({}), &ticket, in_time).unwrap();
        assert_eq!(
            (&reopened["status"], &reopened["closed_at"]),
            (&json!("in_progress"), &json!(null))
        );
        assert_eq!(
            command(REOPEN, json!({}), &ticket, in_time + chrono::Duration::seconds(1)),
            Err(Refusal::Rule("reopen_window_passed"))
        );
    }

    #[test]
    fn the_rates_count_met_and_missed_clocks_not_running_ones() {
        let with = |opened: &str, pairs: &[(&str, &str)]| {
            let mut ticket = self::opened(opened);
            for (k, v) in pairs {
                ticket.insert((*k).into(), json!(v));
            }
            ticket
        };
        let now = at("2026-11-30T12:00:00Z");
        let tickets = [
            // Contacted in time, resolved in time.
            with(
                "2026-11-29T01:00:00Z",
                &[
                    ("contacted_at", "2026-11-29T02:00:00Z"),
                    ("resolved_at", "2026-11-29T20:00:00Z"),
                    ("status", "resolved"),
                ],
            ),
            // Contacted one second late; resolution still running.
            with(
                "2026-11-30T09:00:00Z",
                &[("contacted_at", "2026-11-30T11:00:01Z"), ("status", "contacted")],
            ),
            // Never contacted, 2 hours gone: missed; 24 hours not yet.
            with("2026-11-30T08:00:00Z", &[]),
            // Opened a minute ago: both clocks running, counted in neither.
            with("2026-11-30T11:59:00Z", &[]),
            // Never resolved and 24 hours gone: missed.
            with(
                "2026-11-28T01:00:00Z",
                &[
                    ("contacted_at", "2026-11-28T01:30:00Z"),
                    ("status", "in_progress"),
                ],
            ),
        ];
        let refs: Vec<&Fields> = tickets.iter().collect();
        let rates = service_rates(&refs, now, SHANGHAI);
        assert_eq!(
            rates,
            [
                Rate {
                    kind: "deadline_contact",
                    met: 2,
                    decided: 4
                },
                Rate {
                    kind: "deadline_handling",
                    met: 1,
                    decided: 2
                },
            ]
        );
        assert_eq!((rates[0].percent(), rates[1].percent()), (Some(50), Some(50)));
        assert_eq!(service_rates(&[], now, SHANGHAI)[0].percent(), None);
    }

    fn opened(at: &str) -> Fields {
        json!({
            "customer_name": "宁波远航物流", "channel": "hotline", "ticket_type": "repair",
            "description": "叉车液压系统漏油", "opened_at": at
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn a_ticket_opened_at_half_past_eleven_at_night_is_due_in_calendar_hours() {
        // 23:30 on Monday 30 November in Shanghai.
        let ticket = opened("2026-11-30T15:30:00Z");
        let due = deadlines(&ticket, SHANGHAI).unwrap();
        assert_eq!(due.contact, at("2026-11-30T17:30:00Z"));
        assert_eq!(due.handling, at("2026-12-01T15:30:00Z"));
        // In working hours the night does not count: 11:00 on Tuesday.
        let opened_at = at("2026-11-30T15:30:00Z");
        let due = due_times(opened_at, ClockMode::WorkingHours, SHANGHAI, &Calendar::china());
        assert_eq!(due.contact, at("2026-12-01T03:00:00Z"));
        let running = ticket_clocks(&ClockCall {
            id: uuid::Uuid::nil(),
            record: &ticket,
            tz: SHANGHAI,
            singles: &Default::default(),
        });
        let kinds: Vec<&str> = running.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [CONTACT_CLOCK, HANDLING_CLOCK]);
    }

    #[test]
    fn five_minutes_before_closing_on_the_eve_of_a_holiday_the_rest_waits_for_the_holiday_to_end() {
        // 17:55 on Wednesday 30 September 2026 in Shanghai; 1-7 October are off.
        let due = due_times(
            at("2026-09-30T09:55:00Z"),
            ClockMode::WorkingHours,
            SHANGHAI,
            &Calendar::china(),
        );
        // Five minutes on the 30th, 115 from 09:00 on Thursday 8 October.
        assert_eq!(due.contact, at("2026-10-08T02:55:00Z"));
        // 24 working hours: 5 minutes, then 8 October 9 h, 9 October 9 h,
        // Saturday 10 October (a make-up working day) the last 5 h 55 min.
        assert_eq!(due.handling, at("2026-10-10T06:55:00Z"));
    }

    #[test]
    fn a_ticket_keeps_the_clock_mode_of_the_day_it_was_opened() {
        let working = |mode: &str| {
            let mut singles = crate::sync::entity::Singles::default();
            singles.0.insert(
                crate::settings::SETTINGS.name,
                serde_json::from_value(json!({"ticket_clock_mode": mode})).unwrap(),
            );
            singles
        };
        // 23:30 on Monday: in working hours, contact by 11:00 on Tuesday.
        let mut ticket = opened("2026-11-30T15:30:00Z");
        let stamped = stamp_ticket(&ticket, true, &working("working_hours"));
        assert_eq!(stamped[CLOCK_MODE_FIELD], "working_hours");
        assert_eq!(stamped[CONTACT_DUE], "2026-12-01T03:00:00Z");
        ticket.extend(stamped);
        assert_eq!(
            deadlines(&ticket, SHANGHAI).unwrap().contact,
            at("2026-12-01T03:00:00Z")
        );
        assert_eq!(TICKET.check(&ticket, at("2026-12-01T00:00:00Z")), Ok(()));
        // The company goes back to calendar hours: this ticket keeps its
        // mode, and an edit of its opening time moves its deadlines by it.
        ticket.insert("opened_at".into(), json!("2026-11-30T01:00:00Z"));
        let again = stamp_ticket(&ticket, false, &working("calendar_hours"));
        assert_eq!(again[CLOCK_MODE_FIELD], "working_hours");
        assert_eq!(again[CONTACT_DUE], "2026-11-30T03:00:00Z");
        // A new ticket takes the mode of the day.
        let fresh = stamp_ticket(&opened("2026-11-30T15:30:00Z"), true, &working("calendar_hours"));
        assert_eq!(fresh[CONTACT_DUE], "2026-11-30T17:30:00Z");
        // One opened before modes were kept stays in calendar hours.
        let old = stamp_ticket(&opened("2026-11-30T15:30:00Z"), false, &working("working_hours"));
        assert_eq!(old[CLOCK_MODE_FIELD], "calendar_hours");
    }

    #[test]
    fn a_first_contact_one_second_late_misses_the_two_hour_clock() {
        let mut ticket = opened("2026-11-30T01:00:00Z");
        assert_eq!(contact_met(&ticket, SHANGHAI), None);
        ticket.insert("contacted_at".into(), json!("2026-11-30T03:00:00Z"));
        assert_eq!(contact_met(&ticket, SHANGHAI), Some(true));
        ticket.insert("contacted_at".into(), json!("2026-11-30T03:00:01Z"));
        assert_eq!(contact_met(&ticket, SHANGHAI), Some(false));
        // Contacted, the 2-hour clock no longer runs; resolved, neither runs.
        let call = |record: &Fields| {
            ticket_clocks(&ClockCall {
                id: uuid::Uuid::nil(),
                record,
                tz: SHANGHAI,
                singles: &Default::default(),
            })
            .into_iter()
            .map(|c| c.kind)
            .collect::<Vec<_>>()
        };
        assert_eq!(call(&ticket), [HANDLING_CLOCK]);
        ticket.insert("status".into(), json!("resolved"));
        assert!(call(&ticket).is_empty());
    }

    #[test]
    fn resolving_on_the_call_records_the_contact_and_the_resolution() {
        let me = crate::roles::CurrentUser {
            id: uuid::Uuid::from_u128(1),
            username: "agent1".into(),
            display_name: "褚静".into(),
            role: Role::ServiceAgent,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        };
        let ticket = opened("2026-11-30T01:00:00Z");
        let call = CommandCall {
            name: RESOLVE,
            args: &Fields::new(),
            record: &ticket,
            ownership: crate::policy::Ownership {
                owner_id: me.id,
                owner_team_id: None,
            },
            actor: &me,
            now: at("2026-11-30T01:30:00Z"),
            context: &crate::sync::entity::Context::default(),
        };
        let changes = decide_ticket(&call).unwrap().changes;
        assert_eq!(changes["status"], "resolved");
        assert_eq!(changes["contacted_at"], "2026-11-30T01:30:00Z");
        assert_eq!(changes["contacted_by"], "褚静");
        assert_eq!(changes["resolved_at"], "2026-11-30T01:30:00Z");
        // Contact needs to say how.
        let contact = CommandCall {
            name: CONTACT,
            ..call
        };
        assert!(matches!(decide_ticket(&contact), Err(Refusal::Invalid(_))));
        let args = json!({"contact_method": "phone", "contact_note": " 约明早上门 "});
        let contact = CommandCall {
            args: args.as_object().unwrap(),
            ..contact
        };
        let changes = decide_ticket(&contact).unwrap().changes;
        assert_eq!(changes["contact_note"], "约明早上门");
        assert_eq!(changes["status"], "contacted");
    }

    #[test]
    fn a_raised_clock_marks_the_ticket_and_tells_the_service_supervisors() {
        let ticket = opened("2026-11-30T01:00:00Z");
        let raised = raise_ticket_clock(&DueCall {
            kind: CONTACT_CLOCK,
            id: uuid::Uuid::nil(),
            record: &ticket,
            owner: uuid::Uuid::nil(),
            due_at: at("2026-11-30T03:00:00Z"),
            now: at("2026-11-30T03:00:00Z"),
        });
        assert_eq!(raised.changes["contact_escalated_at"], "2026-11-30T03:00:00Z");
        assert!(raised.notify.contains(&Recipient::Role(Role::ServiceSupervisor)));
        let mut marked = ticket.clone();
        marked.extend(raised.changes);
        assert_eq!(TICKET.check(&marked, at("2026-11-30T03:00:00Z")), Ok(()));
    }

    #[test]
    fn the_service_desk_dispatches_to_an_active_technician_who_then_owns_the_ticket() {
        use crate::sync::entity::{Context, Person};
        let user = |n: u128, role: Role| crate::roles::CurrentUser {
            id: uuid::Uuid::from_u128(n),
            username: format!("u{n}"),
            display_name: format!("用户{n}"),
            role,
            team_id: None,
            time_zone: "Asia/Shanghai".into(),
        };
        let person = |n: u128, role: Role, active: bool| Person {
            id: uuid::Uuid::from_u128(n),
            display_name: format!("师傅{n}"),
            role,
            team_id: None,
            active,
        };
        let mut context = Context::default();
        for p in [
            person(10, Role::Technician, true),
            person(11, Role::Technician, false),
            person(12, Role::Rep, true),
        ] {
            context.people.insert(p.id, p);
        }
        let agent = user(1, Role::ServiceAgent);
        let ticket = opened("2026-11-30T01:00:00Z");
        let dispatch = |actor: &crate::roles::CurrentUser, record: &Fields, to: u128| {
            let args = json!({"technician": uuid::Uuid::from_u128(to).to_string()});
            decide_ticket(&CommandCall {
                name: DISPATCH,
                args: args.as_object().unwrap(),
                record,
                ownership: crate::policy::Ownership {
                    owner_id: agent.id,
                    owner_team_id: None,
                },
                actor,
                now: at("2026-11-30T01:10:00Z"),
                context: &context,
            })
        };
        let sent = dispatch(&agent, &ticket, 10).unwrap();
        assert_eq!(sent.owner, Some(uuid::Uuid::from_u128(10)));
        assert_eq!(sent.changes["technician_name"], "师傅10");
        assert_eq!(sent.changes["dispatched_at"], "2026-11-30T01:10:00Z");
        // Not to someone who left, nor to a rep, nor to nobody the server knows.
        for to in [11, 12, 99] {
            assert_eq!(
                dispatch(&agent, &ticket, to).unwrap_err(),
                Refusal::Rule("dispatch_not_technician")
            );
        }
        // Only the service desk dispatches; a resolved ticket is not sent out.
        let tech = user(10, Role::Technician);
        assert_eq!(
            dispatch(&tech, &ticket, 10).unwrap_err(),
            Refusal::Rule("dispatch_by_service_desk")
        );
        let mut done = ticket.clone();
        done.insert("status".into(), json!("resolved"));
        assert_eq!(
            dispatch(&agent, &done, 10).unwrap_err(),
            Refusal::Rule("ticket_wrong_status")
        );
        // Without a choice the argument is missing, not a rule's refusal.
        let none = decide_ticket(&CommandCall {
            name: DISPATCH,
            args: &Fields::new(),
            record: &ticket,
            ownership: crate::policy::Ownership {
                owner_id: agent.id,
                owner_team_id: None,
            },
            actor: &agent,
            now: at("2026-11-30T01:10:00Z"),
            context: &context,
        });
        assert!(matches!(none, Err(Refusal::Invalid(_))));
    }

    #[test]
    fn a_priority_is_one_of_the_four_or_none() {
        let now = at("2026-12-01T00:00:00Z");
        let mut ticket = opened("2026-11-30T01:00:00Z");
        assert_eq!(TICKET.check(&ticket, now), Ok(()));
        ticket.insert("priority".into(), json!("priority_urgent"));
        assert_eq!(TICKET.check(&ticket, now), Ok(()));
        ticket.insert("priority".into(), json!("very"));
        let errors = TICKET.check(&ticket, now).unwrap_err();
        assert_eq!(errors[0].field, "priority");
    }
}

/// `/service-board`: the service supervisor's board over the tickets on
/// the device (the desk's devices hold them all), counted again each
/// minute.
#[leptos::component]
pub fn ServiceBoardPage() -> impl leptos::IntoView {
    crate::ui::with_user(|me| leptos::view! { <ServiceBoardView me /> })
}

#[leptos::component]
fn ServiceBoardView(me: crate::roles::CurrentUser) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let locale = crate::ui::use_locale();
    let t = locale.texts();
    let tz = me.tz();
    let now = crate::ui::use_now();
    let tickets = crate::client::use_prepared_records(
        TICKET.name,
        |r| Some(r.fields),
        |_, _| std::cmp::Ordering::Equal,
    );
    let served = LocalResource::new(move || {
        now.track();
        board::board()
    });
    let word = move |key: &str| locale.word(key);
    let row = move |label: String, value: String, testid: String| {
        view! {
            <div class="row" data-testid=testid>
                <dt>{label}</dt>
                <dd>{value}</dd>
            </div>
        }
    };
    view! {
        <leptos_meta::Title text=format!("{} · {}", word("service_board"), t.app_name) />
        <p>
            <leptos_router::components::A href=TICKET_SCREEN.path>
                {format!("‹ {}", locale.say(TICKET.plural))}
            </leptos_router::components::A>
        </p>
        <h1>{word("service_board")}</h1>
        {move || {
            let now = now.get();
            // The server's count when it answers (every ticket the user may
            // read); the device's own tickets offline.
            let served = served.get().and_then(Result::ok).map(|answer| (answer.board.clone(), answer.rates()));
            let source = if served.is_some() { "server" } else { "device" };
            served
                .or_else(|| {
                    tickets.with(|read| match read {
                        Some(Ok(list)) => {
                            let refs: Vec<&Fields> = list.iter().collect();
                            Some((service_board(&refs, now, tz), service_rates(&refs, now, tz)))
                        }
                        _ => None,
                    })
                })
                .map(move |(board, rates)| {
                    let ages = ["age_under_2h", "age_2h_24h", "age_1d_3d", "age_over_3d"]
                        .into_iter()
                        .zip(board.by_age)
                        .map(|(key, n)| row(word(key).to_owned(), n.to_string(), format!("board-{key}")))
                        .collect_view();
                    let clocks = [
                        ("deadline_contact", board.contact_running, board.contact_overdue),
                        ("deadline_handling", board.handling_running, board.handling_overdue),
                    ]
                        .into_iter()
                        .map(|(kind, running, overdue)| {
                            row(
                                word(kind).to_owned(),
                                format!("{} {running} · {} {overdue}", word("clock_running"), word("clock_overdue")),
                                format!("board-{kind}"),
                            )
                        })
                        .collect_view();
                    let rates = rates
                        .iter()
                        .map(|rate| {
                            row(
                                format!("{} {}", word(rate.kind), word("rate")),
                                format!("{}/{} · {}", rate.met, rate.decided, rate.share()),
                                format!("board-rate-{}", rate.kind),
                            )
                        })
                        .collect_view();
                    let workload = board
                        .workload
                        .iter()
                        .map(|(name, n)| {
                            let name = name.clone().unwrap_or_else(|| word("not_dispatched").to_owned());
                            row(name, n.to_string(), "board-workload".to_owned())
                        })
                        .collect_view();
                    let trend = board
                        .ratings
                        .iter()
                        .map(|(month, count, sum)| {
                            let average = ServiceBoard::average(*count, *sum)
                                .map_or_else(|| "—".to_owned(), |a| format!("{a} ({count})"));
                            row(month.clone(), average, "board-rating".to_owned())
                        })
                        .collect_view();
                    view! {
                        <div class="board" data-testid="service-board" data-source=source>
                            <section class="card">
                                <h2>{format!("{} · {}", word("open_tickets"), board.open)}</h2>
                                <dl class="sheet-fields">{ages}</dl>
                            </section>
                            <section class="card">
                                <h2>{format!("{} · {} {}", word("deadlines"), word("escalated"), board.escalated)}</h2>
                                <dl class="sheet-fields">{clocks}{rates}</dl>
                            </section>
                            <section class="card">
                                <h2>{word("technician_workload")}</h2>
                                <dl class="sheet-fields">{workload}</dl>
                            </section>
                            <section class="card">
                                <h2>{word("satisfaction_trend")}</h2>
                                <dl class="sheet-fields">{trend}</dl>
                            </section>
                        </div>
                    }
                    .into_any()
                })
                .unwrap_or_else(|| view! { <p class="empty">{t.loading}</p> }.into_any())
        }}
    }
}
