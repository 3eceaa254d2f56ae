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
use crate::i18n::Words;
use crate::policy::Kind;
use crate::schema::{field, Input, Lines};
use crate::screen::RecordScreen;
use crate::stored::Reader;
use crate::sync::entity::{EntitySpec, Singles};
use crate::sync::Fields;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

/// The most a lead scores: every factor's best answer.
pub const MAX_SCORE: u32 = 8;

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
        field("date", Input::Date, "日期", "Date").required(),
        field("day_name", Input::Text, "说明", "What it is"),
    ],
    flag: None,
    max: 100,
    text_before: false,
};

/// A number of days (at most ten years).
const DAYS: Input = Input::Whole { min: 1, max: 3650 };
/// Customers one rep may claim from the pool a day.
const QUOTA: Input = Input::Whole { min: 1, max: 1000 };
/// A lead's screening score (`MAX_SCORE` at most).
const POINTS: Input = Input::Whole {
    min: 1,
    max: MAX_SCORE as i64,
};
/// Annual sales in 万元 (ten thousand yuan), up to a trillion yuan.
const SALES_WAN: Input = Input::Whole {
    min: 1,
    max: 100_000_000,
};

pub const SETTINGS: EntitySpec = EntitySpec {
    name: "settings",
    kind: Kind::Settings,
    plural: Words {
        zh: "公司设置",
        en: "Company settings",
    },
    fields: &[
        field("company_name", Input::Text, "公司名称", "Company name").required(),
        field(
            "pool_days_class_a",
            DAYS,
            "A 类客户未跟进退回公海天数",
            "Days without follow-up before a class A customer returns to the pool",
        ),
        field(
            "pool_days_class_b",
            DAYS,
            "B 类客户未跟进退回公海天数",
            "Days without follow-up before a class B customer returns to the pool",
        ),
        field(
            "pool_days_class_c",
            DAYS,
            "C 类客户未跟进退回公海天数",
            "Days without follow-up before a class C customer returns to the pool",
        ),
        field(
            "pool_days_class_d",
            DAYS,
            "D 类客户未跟进退回公海天数",
            "Days without follow-up before a class D customer returns to the pool",
        ),
        field(
            "pool_days_unclassed",
            DAYS,
            "未分类客户未跟进退回公海天数",
            "Days without follow-up before an unclassed customer returns to the pool",
        ),
        field(
            "pool_warn_days",
            DAYS,
            "退回公海前提前提醒天数",
            "Days before the return that the owner is warned",
        ),
        field(
            "pool_daily_quota",
            QUOTA,
            "每人每日公海领取上限",
            "Pool customers one rep may claim per day",
        ),
        field(
            "pool_cooldown_days",
            DAYS,
            "退回后原负责人不得领取天数",
            "Days before the owner a customer left may claim it back",
        ),
        field(
            "ticket_clock_mode",
            Input::Choice(ClockMode::ALL),
            "新工单时限计时方式",
            "How a new ticket's deadlines count time",
        ),
        field(
            "lead_grade_a_points",
            POINTS,
            "线索评为 A 类的最低得分（满分 8）",
            "Least score (of 8) for a grade A lead",
        ),
        field(
            "lead_grade_b_points",
            POINTS,
            "线索评为 B 类的最低得分（满分 8）",
            "Least score (of 8) for a grade B lead",
        ),
        field(
            "class_sales_large",
            SALES_WAN,
            "客户分级：年销售额高的下限（万元）",
            "Customer class: high annual sales from (10,000 yuan)",
        ),
        field(
            "class_sales_medium",
            SALES_WAN,
            "客户分级：年销售额中等的下限（万元）",
            "Customer class: medium annual sales from (10,000 yuan)",
        ),
        field(
            "reopen_within_days",
            DAYS,
            "工单关闭后可重新打开天数",
            "Days after closing that a ticket may be reopened",
        ),
        field(
            "warranty_follow_up_days",
            DAYS,
            "保修期客户回访间隔天数",
            "Days between follow-ups of a customer under warranty",
        ),
        field(
            "survey_period",
            Input::Choice(Period::ALL),
            "满意度调查周期（每期结束时向本期服务过的客户发出）",
            "Satisfaction survey (sent at each period's end to the customers served in it)",
        ),
        field(
            "days_off",
            Input::Lines(&CALENDAR_DAYS),
            "公司休息日",
            "Company days off",
        ),
        field(
            "working_days",
            Input::Lines(&CALENDAR_DAYS),
            "公司调休工作日",
            "Company working days",
        ),
    ],
    commands: &[],
    title: "company_name",
    rules: settings_rules,
    decide: crate::sync::entity::no_commands,
    projection: None,
    clocks: None,
    person_args: &[],
    arg_references: &[],
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
    new: Words {
        zh: "公司设置",
        en: "Company settings",
    },
    when: "company_name",
    path: "/company-settings",
    from: None,
    dedup: false,
    offered: &[],
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

/// The settings' rules beyond their fields' bounds: the threshold pairs in
/// order, and no date both a day off and a working day.
fn settings_rules(fields: &Fields, read: &mut Reader, _: DateTime<Utc>) {
    let whole = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .and_then(|raw| raw.parse::<i64>().ok())
    };
    // Grade A needs more points than grade B, and a large customer's sales
    // start above a medium one's (the seeds' numbers stand in for one unset).
    let seed = ProcessSettings::default();
    for ((upper, lower), (upper_seed, lower_seed)) in [
        (
            ("lead_grade_a_points", "lead_grade_b_points"),
            (seed.lead_grade_a_points, seed.lead_grade_b_points),
        ),
        (
            ("class_sales_large", "class_sales_medium"),
            (seed.class_sales_large, seed.class_sales_medium),
        ),
    ] {
        // A number the fields' check refused says so on its own.
        if read.has_problem(upper) || read.has_problem(lower) {
            continue;
        }
        let pair = ordered_pair(
            whole(upper).unwrap_or(upper_seed.into()),
            whole(lower).unwrap_or(lower_seed.into()),
        );
        if pair.is_none() {
            read.check.fail(upper, crate::error::FieldProblem::InvalidNumber);
        }
    }
    let off = calendar_days(fields, "days_off");
    if calendar_days(fields, "working_days")
        .iter()
        .any(|day| off.contains(day))
    {
        read.check
            .fail("working_days", crate::error::FieldProblem::DayOffAndWorking);
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
    /// The least score (of `MAX_SCORE`) that proposes a lead's
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
        // A number outside its declared bounds (never stored: the check
        // refuses it) reads as the seeds'.
        let number = |name: &str, default: i64| {
            let Some(Input::Whole { min, max }) = SETTINGS.field(name).map(|f| f.input) else {
                return default;
            };
            fields
                .get(name)
                .and_then(Value::as_str)
                .and_then(|raw| raw.parse::<i64>().ok())
                .filter(|n| (min..=max).contains(n))
                .unwrap_or(default)
        };
        let seed = Self::default();
        let mut pool_days = seed.pool_days;
        // The grade thresholds as a pair: one that is not above the other
        // reads as the seeds' pair.
        let a = number("lead_grade_a_points", seed.lead_grade_a_points.into());
        let b = number("lead_grade_b_points", seed.lead_grade_b_points.into());
        let points = ordered_pair(a, b).unwrap_or((seed.lead_grade_a_points, seed.lead_grade_b_points));
        let bands = ordered_pair(
            number("class_sales_large", seed.class_sales_large.into()),
            number("class_sales_medium", seed.class_sales_medium.into()),
        )
        .unwrap_or((seed.class_sales_large, seed.class_sales_medium));
        for ((_, days), (_, name)) in pool_days.iter_mut().zip(POOL_DAYS) {
            *days = number(name, *days);
        }
        Self {
            pool_days,
            pool_days_unclassed: number("pool_days_unclassed", seed.pool_days_unclassed),
            pool_warn_days: number("pool_warn_days", seed.pool_warn_days),
            pool_daily_quota: u32::try_from(number("pool_daily_quota", seed.pool_daily_quota.into()))
                .unwrap_or(seed.pool_daily_quota),
            pool_cooldown_days: number("pool_cooldown_days", seed.pool_cooldown_days),
            ticket_clock_mode: fields
                .get("ticket_clock_mode")
                .and_then(Value::as_str)
                .and_then(ClockMode::parse)
                .unwrap_or(seed.ticket_clock_mode),
            lead_grade_a_points: points.0,
            lead_grade_b_points: points.1,
            class_sales_large: bands.0,
            class_sales_medium: bands.1,
            reopen_within_days: number("reopen_within_days", seed.reopen_within_days),
            warranty_follow_up_days: number("warranty_follow_up_days", seed.warranty_follow_up_days),
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
        assert_eq!(SETTINGS.check(&good, now), Ok(()));
        let problems = |value: Value| -> Vec<String> {
            SETTINGS
                .check(&stored(value), now)
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
