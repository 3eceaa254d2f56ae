//! The working-day calendar that deadlines are counted on: weekends off,
//! China's statutory holidays off and their make-up working days (调休) on,
//! and days an admin sets either way. Pure, so a deadline computed on the
//! phone is the one the server computes.
//!
//! The statutory table is the `chinese_holiday` crate's (the State
//! Council's notices, 2004 to 2026). A year it does not hold yet counts
//! weekends only, until the crate is updated or an admin enters the
//! year's days (`Calendar::with_day`).

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use std::collections::BTreeMap;

/// The days the statutory table covers (the crate refuses others).
const TABLE_FIRST: (i32, u32, u32) = (2004, 1, 1);
const TABLE_LAST: (i32, u32, u32) = (2026, 12, 25);

/// A working-day calendar: the statutory one and the days set on top of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Days an admin set: `true` a working day, `false` a day off.
    set: BTreeMap<NaiveDate, bool>,
}

impl Calendar {
    /// The statutory calendar of mainland China.
    pub fn china() -> Self {
        Self::default()
    }

    /// This calendar with `date` set as a working day or a day off
    /// (a company holiday, or a year the statutory table lacks).
    pub fn with_day(mut self, date: NaiveDate, working: bool) -> Self {
        self.set.insert(date, working);
        self
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if let Some(working) = self.set.get(&date) {
            return *working;
        }
        if let Some(statutory) = statutory(date) {
            return statutory;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The `n`th working day after `date` (`date` itself not counted).
    pub fn working_days_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            day = day + Days::new(1);
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        day
    }

    /// The end (midnight after) of the `n`th working day after the day on
    /// which `at` falls in `tz`: the deadline of "within n working days".
    pub fn end_of_working_days_after(&self, at: DateTime<Utc>, n: u32, tz: chrono_tz::Tz) -> DateTime<Utc> {
        let local_day = at.with_timezone(&tz).date_naive();
        let last = self.working_days_after(local_day, n);
        start_of_day(last + Days::new(1), tz)
    }

    /// The moment `minutes` of working time after `at`, counting only the
    /// hours `hours` of working days in `tz` (a clock "in working hours":
    /// a request at 17:55 on the eve of a holiday has five minutes that
    /// day and the rest after the holiday).
    pub fn working_minutes_after(
        &self,
        at: DateTime<Utc>,
        minutes: i64,
        hours: WorkingHours,
        tz: chrono_tz::Tz,
    ) -> DateTime<Utc> {
        let mut left = chrono::Duration::minutes(minutes);
        let mut now = at.with_timezone(&tz).naive_local();
        loop {
            let (day, time) = (now.date(), now.time());
            if !self.is_working_day(day) || time >= hours.close {
                now = (day + Days::new(1)).and_time(hours.open);
                continue;
            }
            if time < hours.open {
                now = day.and_time(hours.open);
                continue;
            }
            let rest_of_day = day.and_time(hours.close) - now;
            if left <= rest_of_day {
                let end = now + left;
                return tz
                    .from_local_datetime(&end)
                    .earliest()
                    .unwrap_or_else(|| tz.from_utc_datetime(&end))
                    .with_timezone(&Utc);
            }
            left -= rest_of_day;
            now = (day + Days::new(1)).and_time(hours.open);
        }
    }
}

/// How a deadline counts time: calendar hours (the seed's promise), or
/// only the working hours of working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    #[default]
    CalendarHours,
    WorkingHours,
}

impl ClockMode {
    pub const ALL: &[&str] = &["calendar_hours", "working_hours"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CalendarHours => "calendar_hours",
            Self::WorkingHours => "working_hours",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "calendar_hours" => Some(Self::CalendarHours),
            "working_hours" => Some(Self::WorkingHours),
            _ => None,
        }
    }
}

/// How often something recurs by the calendar (the satisfaction survey of
/// customers served): never, each month, each quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    #[default]
    Never,
    Month,
    Quarter,
}

impl Period {
    pub const ALL: &[&str] = &["no_survey", "monthly", "quarterly"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "no_survey",
            Self::Month => "monthly",
            Self::Quarter => "quarterly",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "no_survey" => Some(Self::Never),
            "monthly" => Some(Self::Month),
            "quarterly" => Some(Self::Quarter),
            _ => None,
        }
    }

    /// The end of the period holding `at`, counted in `tz`: midnight at
    /// the start of the next month or quarter. `None` for `Never`.
    pub fn end_of(self, at: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        let months = match self {
            Self::Never => return None,
            Self::Month => 1,
            Self::Quarter => 3,
        };
        let local = at.with_timezone(&tz).date_naive();
        let first = NaiveDate::from_ymd_opt(local.year(), (local.month0() / months) * months + 1, 1)?;
        Some(start_of_day(
            first.checked_add_months(chrono::Months::new(months))?,
            tz,
        ))
    }
}

/// The hours of a working day, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

impl WorkingHours {
    /// 09:00 to 18:00.
    pub const OFFICE: WorkingHours = WorkingHours {
        open: NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
        close: NaiveTime::from_hms_opt(18, 0, 0).expect("18:00"),
    };
}

/// Midnight at the start of `date` in `tz`, in UTC (the first moment of
/// the day where a zone skips midnight).
fn start_of_day(date: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| tz.from_utc_datetime(&midnight))
        .with_timezone(&Utc)
}

/// The statutory answer for `date`, where the table covers it.
fn statutory(date: NaiveDate) -> Option<bool> {
    let first = NaiveDate::from_ymd_opt(TABLE_FIRST.0, TABLE_FIRST.1, TABLE_FIRST.2)?;
    let last = NaiveDate::from_ymd_opt(TABLE_LAST.0, TABLE_LAST.1, TABLE_LAST.2)?;
    if date < first || date > last {
        return None;
    }
    let ymd = chinese_holiday::Ymd::new(
        u16::try_from(date.year()).ok()?,
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    );
    Some(chinese_holiday::chinese_holiday(ymd).is_workday())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_ends_at_local_midnight_of_the_next_month_or_quarter() {
        let tz = chrono_tz::Asia::Shanghai;
        let at = |raw: &str| raw.parse::<DateTime<Utc>>().unwrap();
        // 23:30 on 31 January in Shanghai is still January there.
        let late_january = at("2026-01-31T15:30:00Z");
        assert_eq!(
            Period::Month.end_of(late_january, tz),
            Some(at("2026-01-31T16:00:00Z"))
        );
        assert_eq!(
            Period::Quarter.end_of(late_january, tz),
            Some(at("2026-03-31T16:00:00Z"))
        );
        // 00:30 on 1 April in Shanghai is the second quarter, though UTC
        // still says March.
        let april_first = at("2026-03-31T16:30:00Z");
        assert_eq!(
            Period::Quarter.end_of(april_first, tz),
            Some(at("2026-06-30T16:00:00Z"))
        );
        // December's period ends in the next year.
        let december = at("2026-12-15T04:00:00Z");
        assert_eq!(
            Period::Month.end_of(december, tz),
            Some(at("2026-12-31T16:00:00Z"))
        );
        assert_eq!(
            Period::Quarter.end_of(december, tz),
            Some(at("2026-12-31T16:00:00Z"))
        );
        assert_eq!(Period::Never.end_of(december, tz), None);
        for raw in Period::ALL {
            assert_eq!(Period::parse(raw).map(Period::as_str), Some(*raw));
        }
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn national_day_2026_is_off_and_its_make_up_days_are_on() {
        let cal = Calendar::china();
        for off in ["2026-10-01", "2026-10-05", "2026-10-07", "2026-10-11"] {
            assert!(!cal.is_working_day(day(off)), "{off}");
        }
        // Sunday 20 September and Saturday 10 October are make-up days.
        for on in ["2026-09-20", "2026-10-08", "2026-10-10", "2026-10-12"] {
            assert!(cal.is_working_day(day(on)), "{on}");
        }
        assert_eq!(cal.working_days_after(day("2026-09-30"), 3), day("2026-10-10"));
    }

    #[test]
    fn each_year_of_the_table_has_its_spring_festival() {
        let cal = Calendar::china();
        // The first day of the Spring Festival holiday, a weekday, each year.
        for first_day in ["2024-02-12", "2025-01-29", "2026-02-16"] {
            assert!(!cal.is_working_day(day(first_day)), "{first_day}");
        }
        // Make-up Saturdays or Sundays of those years.
        for make_up in ["2024-02-04", "2025-01-26", "2026-02-14"] {
            assert!(cal.is_working_day(day(make_up)), "{make_up}");
        }
    }

    #[test]
    fn beyond_the_table_weekends_count_and_an_admins_days_override() {
        let cal = Calendar::china();
        // 2027 is not in the table yet: Friday 1 October is a working day
        // until an admin says otherwise.
        assert!(cal.is_working_day(day("2027-10-01")));
        assert!(!cal.is_working_day(day("2027-10-02")));
        let cal = cal
            .with_day(day("2027-10-01"), false)
            .with_day(day("2027-10-09"), true);
        assert!(!cal.is_working_day(day("2027-10-01")));
        assert!(cal.is_working_day(day("2027-10-09")));
        // A company holiday on a statutory working day.
        let cal = Calendar::china().with_day(day("2026-11-30"), false);
        assert_eq!(cal.working_days_after(day("2026-11-27"), 1), day("2026-12-01"));
    }

    #[test]
    fn the_deadline_is_midnight_after_the_last_day_in_the_users_zone() {
        let cal = Calendar::china();
        // Friday 2026-11-27 23:30 in Shanghai is still Friday there (UTC
        // says 15:30): Monday, Tuesday, Wednesday; due at Thursday 00:00.
        let at: DateTime<Utc> = "2026-11-27T15:30:00Z".parse().unwrap();
        let due = cal.end_of_working_days_after(at, 3, chrono_tz::Asia::Shanghai);
        assert_eq!(due, "2026-12-02T16:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn working_minutes_skip_nights_weekends_and_holidays() {
        let cal = Calendar::china();
        let tz = chrono_tz::Asia::Shanghai;
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        // Wednesday 30 September 2026, 17:55 in Shanghai: the eve of
        // National Day. Five minutes that day, then 1-7 October are off and
        // Thursday 8 October opens at 09:00: 1 hour 55 minutes later.
        let due = cal.working_minutes_after(at("2026-09-30T09:55:00Z"), 120, WorkingHours::OFFICE, tz);
        assert_eq!(due, at("2026-10-08T02:55:00Z"));
        // At 23:30 on Tuesday 1 December a clock waits for Wednesday's
        // morning: 11:00 in Shanghai.
        let due = cal.working_minutes_after(at("2026-12-01T15:30:00Z"), 120, WorkingHours::OFFICE, tz);
        assert_eq!(due, at("2026-12-02T03:00:00Z"));
        // Friday 16:00 with 24 working hours: 2 on Friday, 9 on Monday, 9
        // on Tuesday, the last 4 on Wednesday: 13:00.
        let due = cal.working_minutes_after(at("2026-11-27T08:00:00Z"), 24 * 60, WorkingHours::OFFICE, tz);
        assert_eq!(due, at("2026-12-02T05:00:00Z"));
    }
}
