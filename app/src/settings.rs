//! 系统设置, the company's process numbers: how long a customer may go
//! without a follow-up before it returns to the public pool (per class),
//! the pool's warning, quota and cooldown, how long a closed ticket may be
//! reopened, whether a new ticket's clocks count calendar or working
//! hours, the scores that propose a lead's grade, how often a customer
//! under warranty is followed up, and the
//! days the company adds to the statutory calendar (its own holidays and
//! make-up working days). DOMAIN.md calls each of these configurable.
//!
//! One record (`EntitySpec::single`), edited by the admin like any record
//! and synced to every device, so the rules read the same numbers in the
//! browser and on the server; until the admin first saves it, the seeds'
//! numbers (`ProcessSettings::default`) hold. When it changes, the server
//! plans every running clock again by it in the same transaction.

use crate::calendar::{Calendar, ClockMode, Period};
use crate::error::FieldError;
use crate::policy::Kind;
use crate::screen::{field, FormField, Input, Lines, RecordScreen};
use crate::stored::Reader;
use crate::sync::entity::{EntitySpec, Singles};
use crate::sync::Fields;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

/// The settings record's id: there is one.
pub const SETTINGS_ID: uuid::Uuid = uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_5e77_1265_0001);

/// The classes a customer's pool period is set for, and the field of each.
pub const POOL_DAYS: &[(&str, &str)] = &[
    ("class_a", "pool_days_class_a"),
    ("class_b", "pool_days_class_b"),
    ("class_c", "pool_days_class_c"),
    ("class_d", "pool_days_class_d"),
];

/// The company's own calendar days: a date and what it is.
const CALENDAR_DAYS: Lines = Lines {
    fields: &[
        field("date", Input::Date, true),
        field("day_name", Input::Text, false),
    ],
    flag: None,
    max: 100,
};

pub const SETTINGS: EntitySpec = EntitySpec {
    name: "settings",
    kind: Kind::Settings,
    fields: &[
        "company_name",
        "pool_days_class_a",
        "pool_days_class_b",
        "pool_days_class_c",
        "pool_days_class_d",
        "pool_days_unclassed",
        "pool_warn_days",
        "pool_daily_quota",
        "pool_cooldown_days",
        "ticket_clock_mode",
        "lead_grade_a_points",
        "lead_grade_b_points",
        "class_sales_large",
        "class_sales_medium",
        "reopen_within_days",
        "warranty_follow_up_days",
        "survey_period",
        "days_off",
        "working_days",
    ],
    workflow: &[],
    commands: &[],
    title: "company_name",
    searched: &[],
    check: check_settings,
    decide: crate::sync::entity::no_commands,
    projection: None,
    clocks: None,
    person_args: &[],
    references: &[],
    locked: crate::sync::entity::never_locked,
    claim: None,
    hidden: crate::sync::entity::nothing_hidden,
    touches: &[],
    single: Some(SETTINGS_ID),
    stamp: None,
    merged_into: None,
};

pub const SETTINGS_SCREEN: RecordScreen = RecordScreen {
    spec: &SETTINGS,
    fields: &[
        field("company_name", Input::Text, true),
        whole("pool_days_class_a"),
        whole("pool_days_class_b"),
        whole("pool_days_class_c"),
        whole("pool_days_class_d"),
        whole("pool_days_unclassed"),
        whole("pool_warn_days"),
        whole("pool_daily_quota"),
        whole("pool_cooldown_days"),
        field("ticket_clock_mode", Input::Choice(ClockMode::ALL), false),
        whole("lead_grade_a_points"),
        whole("lead_grade_b_points"),
        whole("class_sales_large"),
        whole("class_sales_medium"),
        whole("reopen_within_days"),
        whole("warranty_follow_up_days"),
        field("survey_period", Input::Choice(Period::ALL), false),
        field("days_off", Input::Lines(&CALENDAR_DAYS), false),
        field("working_days", Input::Lines(&CALENDAR_DAYS), false),
    ],
    when: "company_name",
    path: "/company-settings",
    from: None,
    dedup: false,
    facts: &[],
    args: &[],
    deadlines: None,
    rates: None,
    board: None,
    share: None,
    photos: false,
    pairs: None,
    proposal: None,
    order: None,
    badge: None,
    summary: &[],
    status: None,
};

const fn whole(name: &'static str) -> FormField {
    field(name, Input::Whole, false)
}

/// A number of days (at most ten years) and of customers claimed a day.
const DAYS: std::ops::RangeInclusive<i64> = 1..=3650;
const QUOTA: std::ops::RangeInclusive<i64> = 1..=1000;
/// Annual sales in 万元 (ten thousand yuan), up to a trillion yuan.
const SALES_WAN: std::ops::RangeInclusive<i64> = 1..=100_000_000;

/// The settings as stored: each number in its range, each calendar day a
/// date, and no date both a day off and a working day.
pub fn check_settings(fields: &Fields, _now: DateTime<Utc>) -> Result<(), Vec<FieldError>> {
    let mut read = Reader::new(fields);
    read.required("company_name", crate::leads::SHORT_TEXT);
    for (_, name) in POOL_DAYS {
        read.whole(name, DAYS);
    }
    for name in [
        "pool_days_unclassed",
        "pool_warn_days",
        "pool_cooldown_days",
        "reopen_within_days",
        "warranty_follow_up_days",
    ] {
        read.whole(name, DAYS);
    }
    read.whole("pool_daily_quota", QUOTA);
    read.optional_choice("ticket_clock_mode", ClockMode::parse);
    read.optional_choice("survey_period", Period::parse);
    let points = 1..=i64::from(crate::leads::MAX_SCORE);
    let (a, b) = (
        read.whole("lead_grade_a_points", points.clone()),
        read.whole("lead_grade_b_points", points),
    );
    let (large, medium) = (
        read.whole("class_sales_large", SALES_WAN),
        read.whole("class_sales_medium", SALES_WAN),
    );
    for list in ["days_off", "working_days"] {
        read.lines(list, CALENDAR_DAYS.max, None, |line| {
            if line.date("date").is_none() && line.is_empty("date") {
                line.check.fail("date", crate::error::FieldProblem::Required);
            }
            line.optional("day_name", crate::leads::SHORT_TEXT);
        });
    }
    let mut problems = read.finish().err().unwrap_or_default();
    // Grade A needs more points than grade B, and a large customer's sales
    // start above a medium one's (the seeds' numbers stand in for one unset).
    let seed = ProcessSettings::default();
    for ((upper, lower), (upper_seed, lower_seed)) in [
        (
            (("lead_grade_a_points", a), ("lead_grade_b_points", b)),
            (seed.lead_grade_a_points, seed.lead_grade_b_points),
        ),
        (
            (("class_sales_large", large), ("class_sales_medium", medium)),
            (seed.class_sales_large, seed.class_sales_medium),
        ),
    ] {
        let pair = ordered_pair(
            upper.1.unwrap_or(upper_seed.into()),
            lower.1.unwrap_or(lower_seed.into()),
        );
        let named = |p: &FieldError| p.field == upper.0 || p.field == lower.0;
        if pair.is_none() && !problems.iter().any(named) {
            problems.push(FieldError::new(
                upper.0,
                crate::error::FieldProblem::InvalidNumber,
            ));
        }
    }
    let off = calendar_days(fields, "days_off");
    if calendar_days(fields, "working_days")
        .iter()
        .any(|day| off.contains(day))
    {
        problems.push(FieldError::new(
            "working_days",
            crate::error::FieldProblem::DayOffAndWorking,
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Two thresholds, if they make a pair (the first above the second): the
/// least scores for grades A and B, the sales bands (万元) of a large and a
/// medium customer.
fn ordered_pair(a: i64, b: i64) -> Option<(u32, u32)> {
    match (u32::try_from(a), u32::try_from(b)) {
        (Ok(a), Ok(b)) if a > b => Some((a, b)),
        _ => None,
    }
}

/// The dates of a calendar list as stored (lines that do not read are
/// left out: the check refuses them before they are stored).
fn calendar_days(fields: &Fields, list: &str) -> Vec<NaiveDate> {
    fields
        .get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|line| line.get("date")?.as_str())
        .filter_map(|raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .collect()
}

/// The numbers the rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSettings {
    /// Days without a follow-up after which a customer of a class returns
    /// to the pool, by class (`class_a` … `class_d`).
    pub pool_days: [(&'static str, i64); 4],
    /// For a customer not yet classed.
    pub pool_days_unclassed: i64,
    /// The owner is warned this many days before the return.
    pub pool_warn_days: i64,
    /// Customers one rep may claim per day (their zone's day).
    pub pool_daily_quota: u32,
    /// Days in which the owner a customer left may not claim it back.
    pub pool_cooldown_days: i64,
    /// How a new ticket's 2-hour and 24-hour clocks count time (a ticket
    /// keeps the mode of the day it was opened).
    pub ticket_clock_mode: ClockMode,
    /// The least score (of `leads::MAX_SCORE`) that proposes a lead's
    /// grade A, and B.
    pub lead_grade_a_points: u32,
    pub lead_grade_b_points: u32,
    /// Annual sales (万元) from which a customer's sales count as high,
    /// and as medium, in the class it is proposed (`customers::class`).
    pub class_sales_large: u32,
    pub class_sales_medium: u32,
    /// Days after closing within which a ticket may be reopened.
    pub reopen_within_days: i64,
    /// Days between a customer's warranty follow-ups.
    pub warranty_follow_up_days: i64,
    /// How often the customers served are asked the satisfaction survey
    /// (满意度调查): each ticket served in a period gets its link at the
    /// period's end (`tickets::survey::survey_clock`).
    pub survey_period: Period,
    /// The company's own holidays and make-up working days.
    pub days_off: Vec<NaiveDate>,
    pub working_days: Vec<NaiveDate>,
}

/// The seeds' numbers (seed 001 客户管理, seed 004 6.7).
impl Default for ProcessSettings {
    fn default() -> Self {
        Self {
            pool_days: [("class_a", 90), ("class_b", 60), ("class_c", 30), ("class_d", 15)],
            pool_days_unclassed: 30,
            pool_warn_days: 3,
            pool_daily_quota: 5,
            pool_cooldown_days: 30,
            ticket_clock_mode: ClockMode::CalendarHours,
            lead_grade_a_points: 6,
            lead_grade_b_points: 3,
            class_sales_large: 5_000,
            class_sales_medium: 1_000,
            reopen_within_days: 30,
            warranty_follow_up_days: 90,
            survey_period: Period::Never,
            days_off: Vec::new(),
            working_days: Vec::new(),
        }
    }
}

impl ProcessSettings {
    /// The numbers as the settings' form starts them before the first save.
    pub fn to_fields(&self) -> Fields {
        let mut fields = Fields::new();
        let mut set = |name: &str, n: i64| {
            fields.insert(name.to_owned(), Value::String(n.to_string()));
        };
        for ((_, days), (_, name)) in self.pool_days.iter().zip(POOL_DAYS) {
            set(name, *days);
        }
        set("pool_days_unclassed", self.pool_days_unclassed);
        set("pool_warn_days", self.pool_warn_days);
        set("pool_daily_quota", self.pool_daily_quota.into());
        set("pool_cooldown_days", self.pool_cooldown_days);
        set("lead_grade_a_points", self.lead_grade_a_points.into());
        set("lead_grade_b_points", self.lead_grade_b_points.into());
        set("class_sales_large", self.class_sales_large.into());
        set("class_sales_medium", self.class_sales_medium.into());
        set("reopen_within_days", self.reopen_within_days);
        set("warranty_follow_up_days", self.warranty_follow_up_days);
        fields.insert(
            "ticket_clock_mode".into(),
            Value::String(self.ticket_clock_mode.as_str().into()),
        );
        fields.insert(
            "survey_period".into(),
            Value::String(self.survey_period.as_str().into()),
        );
        fields
    }

    /// The settings a stored record gives: each number it holds in its
    /// range, the seeds' number for any it does not.
    pub fn from_fields(fields: &Fields) -> Self {
        let number = |name: &str, range: std::ops::RangeInclusive<i64>, default: i64| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .and_then(|raw| raw.parse::<i64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        let seed = Self::default();
        let mut pool_days = seed.pool_days;
        // The grade thresholds as a pair: one that is not above the other
        // reads as the seeds' pair.
        let max = i64::from(crate::leads::MAX_SCORE);
        let a = number("lead_grade_a_points", 1..=max, seed.lead_grade_a_points.into());
        let b = number("lead_grade_b_points", 1..=max, seed.lead_grade_b_points.into());
        let points = ordered_pair(a, b).unwrap_or((seed.lead_grade_a_points, seed.lead_grade_b_points));
        let bands = ordered_pair(
            number("class_sales_large", SALES_WAN, seed.class_sales_large.into()),
            number("class_sales_medium", SALES_WAN, seed.class_sales_medium.into()),
        )
        .unwrap_or((seed.class_sales_large, seed.class_sales_medium));
        for ((_, days), (_, name)) in pool_days.iter_mut().zip(POOL_DAYS) {
            *days = number(name, DAYS, *days);
        }
        Self {
            pool_days,
            pool_days_unclassed: number("pool_days_unclassed", DAYS, seed.pool_days_unclassed),
            pool_warn_days: number("pool_warn_days", DAYS, seed.pool_warn_days),
            pool_daily_quota: u32::try_from(number("pool_daily_quota", QUOTA, seed.pool_daily_quota.into()))
                .unwrap_or(seed.pool_daily_quota),
            pool_cooldown_days: number("pool_cooldown_days", DAYS, seed.pool_cooldown_days),
            ticket_clock_mode: fields
                .get("ticket_clock_mode")
                .and_then(Value::as_str)
                .and_then(ClockMode::parse)
                .unwrap_or(seed.ticket_clock_mode),
            lead_grade_a_points: points.0,
            lead_grade_b_points: points.1,
            class_sales_large: bands.0,
            class_sales_medium: bands.1,
            reopen_within_days: number("reopen_within_days", DAYS, seed.reopen_within_days),
            warranty_follow_up_days: number("warranty_follow_up_days", DAYS, seed.warranty_follow_up_days),
            survey_period: fields
                .get("survey_period")
                .and_then(Value::as_str)
                .and_then(Period::parse)
                .unwrap_or(seed.survey_period),
            days_off: calendar_days(fields, "days_off"),
            working_days: calendar_days(fields, "working_days"),
        }
    }

    /// The settings the rules of a call read.
    pub fn of(singles: &Singles) -> Self {
        singles
            .of(SETTINGS.name)
            .map(Self::from_fields)
            .unwrap_or_default()
    }

    /// How long a customer of this class may go without a follow-up.
    pub fn pool_return_after(&self, class: Option<&str>) -> chrono::Duration {
        let days = class
            .and_then(|c| self.pool_days.iter().find(|(name, _)| *name == c))
            .map_or(self.pool_days_unclassed, |(_, days)| *days);
        chrono::Duration::days(days)
    }

    /// China's statutory calendar with the company's own days: a day
    /// the company adds as a working day is one, even on a holiday.
    pub fn calendar(&self) -> Calendar {
        let calendar = self
            .days_off
            .iter()
            .fold(Calendar::china(), |calendar, day| calendar.with_day(*day, false));
        self.working_days
            .iter()
            .fold(calendar, |calendar, day| calendar.with_day(*day, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(value: Value) -> Fields {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_record_gives_its_numbers_and_the_seeds_fill_the_rest() {
        assert_eq!(
            ProcessSettings::of(&Singles::default()),
            ProcessSettings::default()
        );
        let settings = ProcessSettings::from_fields(&stored(json!({
            "company_name": "华东机电",
            "pool_days_class_c": "10",
            "pool_daily_quota": "1",
            // What a check would refuse still reads as the seed's number.
            "pool_warn_days": "0",
            "days_off": [{"date": "2026-12-24", "day_name": "年会"}],
        })));
        assert_eq!(
            settings.pool_return_after(Some("class_c")),
            chrono::Duration::days(10)
        );
        assert_eq!(
            settings.pool_return_after(Some("class_a")),
            chrono::Duration::days(90)
        );
        assert_eq!(settings.pool_return_after(None), chrono::Duration::days(30));
        assert_eq!(settings.pool_daily_quota, 1);
        assert_eq!(settings.pool_warn_days, 3);
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        // A Thursday off; the statutory calendar around it stays.
        assert!(!settings.calendar().is_working_day(day("2026-12-24")));
        assert!(settings.calendar().is_working_day(day("2026-12-23")));
        assert!(!settings.calendar().is_working_day(day("2026-10-01")));
    }

    #[test]
    fn a_company_working_day_overrides_a_holiday() {
        let settings = ProcessSettings::from_fields(&stored(json!({
            "working_days": [{"date": "2026-10-02"}],
        })));
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        assert!(!ProcessSettings::default()
            .calendar()
            .is_working_day(day("2026-10-02")));
        assert!(settings.calendar().is_working_day(day("2026-10-02")));
    }

    #[test]
    fn the_check_refuses_numbers_out_of_range_and_a_day_both_off_and_working() {
        let now = Utc::now();
        let good = stored(json!({
            "company_name": "华东机电",
            "pool_days_class_a": "120",
            "pool_daily_quota": "3",
            "days_off": [{"date": "2026-12-24", "day_name": "年会"}],
        }));
        assert_eq!(check_settings(&good, now), Ok(()));
        let problems = |value: Value| -> Vec<String> {
            check_settings(&stored(value), now)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(
            problems(json!({"company_name": "x", "pool_days_class_a": "0", "pool_daily_quota": "1001"})),
            ["pool_days_class_a", "pool_daily_quota"]
        );
        assert_eq!(
            problems(json!({"company_name": "x", "pool_warn_days": "3.5", "reopen_within_days": " 30"})),
            ["pool_warn_days", "reopen_within_days"]
        );
        assert_eq!(
            problems(json!({"company_name": "x", "days_off": [{"date": "2026-13-01"}]})).len(),
            1
        );
        assert_eq!(
            problems(json!({
                "company_name": "x",
                "days_off": [{"date": "2026-12-24"}],
                "working_days": [{"date": "2026-12-24"}],
            })),
            ["working_days"]
        );
        assert_eq!(problems(json!({"pool_days_class_b": "60"})), ["company_name"]);
        // High sales start above medium ones, set or standard.
        assert_eq!(
            problems(json!({"company_name": "x", "class_sales_large": "500"})),
            ["class_sales_large"]
        );
        assert_eq!(
            problems(json!({"company_name": "x", "class_sales_large": "0", "class_sales_medium": "100"})),
            ["class_sales_large"]
        );
        // Grade A needs more points than grade B, set or standard.
        assert_eq!(
            problems(json!({"company_name": "x", "lead_grade_a_points": "3", "lead_grade_b_points": "3"})),
            ["lead_grade_a_points"]
        );
        assert_eq!(
            problems(json!({"company_name": "x", "lead_grade_b_points": "7"})),
            ["lead_grade_a_points"]
        );
        assert_eq!(
            problems(json!({"company_name": "x", "lead_grade_a_points": "9"})),
            ["lead_grade_a_points"]
        );
    }
}
