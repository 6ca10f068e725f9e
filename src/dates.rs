//! Reading dates and moments typed by users, with errors that show the expected form.

use anyhow::{bail, Result};
use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime};
use projections::timescale::date_to_days;

use crate::exit::Usage;

/// The earliest year a date may name: no partnership plan in a ledger started before
/// it, so an earlier year is a typing slip ("0024" for 2024), not a date.
pub const EARLIEST_YEAR: i32 = 1990;

/// The forms a typed date may take, as `--help` and every error say it.
pub const DATE_FORMS: &str = "YYYY-MM-DD or DD/MM/YYYY, with a four-digit year from 1990";

/// `YYYY-MM-DD` (also accepted: `DD/MM/YYYY`, the UK form) → days since 1970. The
/// year must have four digits and be 1990 or later: chrono would read "5/3/24" as the
/// year 24, and a date signed into the ledger must be the one the user meant.
pub fn parse_date(flag: &str, text: &str) -> Result<i32> {
    let text = text.trim();
    let four_digit_year = |year: Option<&str>| year.is_some_and(|y| y.len() == 4);
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| four_digit_year(text.split('-').next()))
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%d/%m/%Y")
                .ok()
                .filter(|_| four_digit_year(text.split('/').nth(2)))
        });
    match parsed {
        Some(date) if date.year() >= EARLIEST_YEAR => Ok(date_to_days(date)),
        Some(date) => bail!(Usage(format!(
            "{flag} {text:?} is in the year {}, before {EARLIEST_YEAR}: a typing slip? Write the date as {DATE_FORMS}, e.g. 2024-03-31",
            date.year()
        ))),
        None => bail!(Usage(format!(
            "{flag} {text:?} is not a date; write it as {DATE_FORMS}, e.g. 2024-03-31 or 31/03/2024"
        ))),
    }
}

/// RFC 3339, `YYYY-MM-DDTHH:MM:SS` (UTC) or `YYYY-MM-DD` (the end of that day, UTC)
/// → UTC microseconds.
pub fn parse_moment(flag: &str, text: &str) -> Result<i64> {
    let text = text.trim();
    let moment = DateTime::parse_from_rfc3339(text)
        .map(|m| m.naive_utc())
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok())
        .or_else(|| {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            date.and_hms_micro_opt(23, 59, 59, 999_999)
        });
    match moment {
        Some(moment) if moment.year() >= EARLIEST_YEAR => Ok(moment.and_utc().timestamp_micros()),
        Some(moment) => bail!(Usage(format!(
            "{flag} {text:?} is in the year {}, before {EARLIEST_YEAR}: a typing slip? Write it as 2024-03-31T17:00:00Z (RFC 3339) or 2024-03-31 for the end of that day",
            moment.year()
        ))),
        None => bail!(Usage(format!(
            "{flag} {text:?} is not a moment; write it as 2024-03-31T17:00:00Z (RFC 3339) or 2024-03-31 for the end of that day"
        ))),
    }
}

/// Today's date on the ledger's clock (UTC).
pub fn today() -> i32 {
    date_to_days(chrono::Utc::now().date_naive())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(
            parse_date("--as-of", "2024-03-31").unwrap(),
            parse_date("--as-of", "31/03/2024").unwrap()
        );
        assert!(parse_date("--as-of", "2024-02-31").is_err());
        assert!(parse_date("--as-of", "yesterday").is_err());
        // Two-digit years are refused, never read as the year 24.
        assert!(parse_date("--effective", "5/3/24").is_err());
        assert!(parse_date("--effective", "24-03-05").is_err());
        // A four-digit year before 1990 is a slip, never a date in a plan.
        let slip = parse_date("--effective", "0024-03-05")
            .unwrap_err()
            .to_string();
        assert!(slip.contains("before 1990"), "{slip}");
        assert!(parse_date("--effective", "1989-12-31").is_err());
        assert!(parse_date("--effective", "1990-01-01").is_ok());
        let refused = parse_date("--due", "5/3/24").unwrap_err().to_string();
        assert!(
            refused.contains("--due") && refused.contains("four-digit year"),
            "{refused}"
        );
    }

    #[test]
    fn a_moment_before_1990_is_refused() {
        assert!(parse_moment("--known-at", "24-03-31").is_err());
        assert!(parse_moment("--known-at", "0024-03-31T00:00:00Z").is_err());
        assert!(parse_moment("--known-at", "2024-03-31T17:00:00+01:00").is_ok());
    }

    #[test]
    fn a_bare_date_means_the_end_of_that_day() {
        let end = parse_moment("--known-at", "2024-03-31").unwrap();
        let next = parse_moment("--known-at", "2024-04-01T00:00:00Z").unwrap();
        assert_eq!(end + 1, next);
    }
}
