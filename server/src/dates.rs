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

/// A `YYYY-MM-DD` date from a form or query string.
pub fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).ok()
}
