//! Calendar dates as the portal stores and shows them: `YYYY-MM-DD`, UTC, weeks from Monday.

use time::{Date, Duration, OffsetDateTime};

/// Today's date (UTC).
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// The Monday of the week `date` is in.
pub fn monday_of(date: Date) -> Date {
    date - Duration::days(i64::from(date.weekday().number_days_from_monday()))
}

/// The first day of the month `date` is in.
pub fn first_of_month(date: Date) -> Date {
    date - Duration::days(i64::from(date.day()) - 1)
}

/// `YYYY-MM-DD`.
pub fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The years a date from outside (a form, a query string, the data feed) may fall in. Far
/// enough either way for any real timesheet, invoice or deadline, and far enough from the
/// calendar's ends that a report may add weeks and months to it without overflowing.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A `YYYY-MM-DD` date from a form, a query string or the data feed, in [`YEARS`].
pub fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .ok()
        .filter(|date| YEARS.contains(&date.year()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_the_years_are_refused() {
        for text in [
            "9999-12-31",
            "-0001-01-01",
            "0000-01-01",
            "1899-12-31",
            "3000-01-01",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        for text in ["1900-01-01", "2026-02-28", "2999-12-31"] {
            assert!(parse_date(text).is_some(), "{text}");
        }
    }
}
