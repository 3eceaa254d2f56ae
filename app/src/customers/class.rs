//! 客户分级 (seed 001, 第5条): customers are classed A, B, C or D "by their
//! nature, size, sales and the trend of their business". The form proposes
//! a class from the size (staff), the annual sales and their trend, by the
//! company's sales bands; the rep confirms it or chooses another, which
//! stays (`screen::Proposal`). Pure: the browser and the server read the
//! same rule.

use crate::screen::Proposed;
use crate::settings::ProcessSettings;
use crate::sync::entity::Singles;
use crate::sync::Fields;

/// How the customer's sales are going (经营发展趋势).
pub const SALES_TRENDS: &[&str] = &["trend_rising", "trend_steady", "trend_falling"];

/// Staff from which a customer counts as large, and as medium.
pub const STAFF_LARGE: u64 = 500;
pub const STAFF_MEDIUM: u64 = 100;

/// The most points: each of size, sales and trend gives 2, 1 or 0.
pub const MAX_POINTS: u32 = 6;

/// The points of size, sales and trend, each 2 (large, high, rising), 1 or
/// 0, or `None` until all three are known: a class proposed from part of
/// them would lean low, and a low class returns to the pool sooner.
pub fn class_points(fields: &Fields, settings: &ProcessSettings) -> Option<u32> {
    let text = |name: &str| crate::stored::stored_text(fields, name);
    let band = |value: u64, large: u64, medium: u64| u32::from(value >= large) + u32::from(value >= medium);
    let size = text("staff")
        .as_deref()
        .and_then(first_number)
        .map(|staff| band(staff, STAFF_LARGE, STAFF_MEDIUM));
    let yuan = |wan: u32| u64::from(wan) * 10_000;
    let sales = text("annual_sales")
        .and_then(|raw| crate::validate::Money::parse(&raw).ok())
        .map(|money| {
            band(
                (money.fen() / 100) as u64,
                yuan(settings.class_sales_large),
                yuan(settings.class_sales_medium),
            )
        });
    let trend = text("sales_trend")
        .and_then(|raw| SALES_TRENDS.iter().position(|t| *t == raw))
        .map(|rank| 2 - rank as u32);
    Some(size? + sales? + trend?)
}

/// The class the points propose: A from 5 of 6, B from 3, C from 1.
pub fn class_of(points: u32) -> &'static str {
    match points {
        5.. => "class_a",
        3..=4 => "class_b",
        1..=2 => "class_c",
        0 => "class_d",
    }
}

/// The proposal of the customer's form (`CUSTOMER_SCREEN`).
pub fn propose_class(fields: &Fields, singles: &Singles) -> Option<Proposed> {
    let points = class_points(fields, &ProcessSettings::of(singles))?;
    Some(Proposed {
        value: class_of(points),
        score: points,
        max: MAX_POINTS,
    })
}

/// The first whole number in a text: "约 600 人" is 600, "100-300人" 100,
/// "1,200人" 1200.
fn first_number(text: &str) -> Option<u64> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '，'))
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn customer(value: serde_json::Value) -> Fields {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn size_sales_and_trend_propose_the_class_at_their_edges() {
        let seed = ProcessSettings::default();
        // Nothing known: nothing proposed.
        assert_eq!(class_points(&customer(json!({"company": "甲"})), &seed), None);
        // Exactly the bands: 500 staff is large, 499 medium; 50,000,000
        // yuan (5,000 万) is high sales, a fen less medium.
        let large = customer(
            json!({"staff": "约500人", "annual_sales": "50000000.00", "sales_trend": "trend_rising"}),
        );
        assert_eq!(class_points(&large, &seed), Some(6));
        assert_eq!(class_of(6), "class_a");
        let just_under =
            customer(json!({"staff": "499", "annual_sales": "49999999.99", "sales_trend": "trend_rising"}));
        assert_eq!(class_points(&just_under, &seed), Some(4));
        assert_eq!(class_of(4), "class_b");
        assert_eq!(class_of(5), "class_a");
        assert_eq!(class_of(3), "class_b");
        assert_eq!(class_of(2), "class_c");
        assert_eq!(class_of(1), "class_c");
        // Small, low and falling: D.
        let small =
            customer(json!({"staff": "30", "annual_sales": "800000.00", "sales_trend": "trend_falling"}));
        assert_eq!(class_points(&small, &seed), Some(0));
        assert_eq!(class_of(0), "class_d");
        // Nothing is proposed from part of them (a trend alone, or staff
        // with no number in it).
        let trend_only =
            customer(json!({"staff": "不详", "annual_sales": "800000.00", "sales_trend": "trend_steady"}));
        assert_eq!(class_points(&trend_only, &seed), None);
        assert_eq!(class_points(&customer(json!({"staff": "30"})), &seed), None);
    }

    #[test]
    fn the_companys_sales_bands_move_the_class() {
        let mid =
            customer(json!({"staff": "120", "annual_sales": "20000000.00", "sales_trend": "trend_steady"}));
        let seed = ProcessSettings::default();
        // 2,000 万 is medium by the seeds' bands (1,000 and 5,000 万): 1 + 1 + 1.
        assert_eq!(class_points(&mid, &seed), Some(3));
        // A company whose customers are smaller calls 2,000 万 high.
        let smaller = ProcessSettings::from_fields(&customer(json!({
            "class_sales_large": "2000",
            "class_sales_medium": "500",
        })));
        assert_eq!(class_points(&mid, &smaller), Some(4));
        let proposed = propose_class(&mid, &Singles::default()).unwrap();
        assert_eq!((proposed.value, proposed.score, proposed.max), ("class_b", 3, 6));
    }

    #[test]
    fn a_number_is_read_from_how_staff_was_written() {
        assert_eq!(first_number("约 600 人"), Some(600));
        assert_eq!(first_number("100-300人"), Some(100));
        assert_eq!(first_number("1,200人"), Some(1200));
        assert_eq!(first_number("１２００"), None);
        assert_eq!(first_number("不详"), None);
        assert_eq!(first_number("99999999999999999999999"), None);
    }
}
