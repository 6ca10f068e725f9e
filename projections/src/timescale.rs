//! Timescales as plans write them ("May 2024", "April 2018*", "Strategy developed:
//! March 2024; delivered from: April 2024", "Ongoing") turned into dated milestones.
//!
//! Parsing never fails: text it cannot read gives no milestone, and the raw text is
//! always kept beside the milestones by the caller. It never guesses a date it cannot
//! read exactly: "31/02/2024" gives nothing rather than 2 March.

use bincode::{Decode, Encode};
use chrono::NaiveDate;
use serde::Serialize;

/// A dated point in an action's timescale.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Milestone {
    /// What is due, e.g. "Strategy developed", or the segment's own text.
    pub label: String,
    /// Due by: days since 1970-01-01. A month alone means the last day of that month.
    pub on: i32,
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Days since 1970-01-01 → a date, if it is within chrono's range.
pub fn days_to_date(days: i32) -> Option<NaiveDate> {
    epoch().checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// A date → days since 1970-01-01.
pub fn date_to_days(date: NaiveDate) -> i32 {
    i32::try_from((date - epoch()).num_days()).unwrap_or(i32::MAX)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(word: &str) -> Option<u32> {
    let word = word.to_ascii_lowercase();
    if word.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .zip(full)
        .position(|(short, long)| {
            long.starts_with(&word) && word.starts_with(short) || word == "sept" && *short == "sep"
        })
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn end_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

fn year(word: &str) -> Option<i32> {
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() == 4
        && word[digits.len()..]
            .chars()
            .all(|c| !c.is_ascii_alphanumeric())
    {
        digits.parse().ok().filter(|y| (1900..=2200).contains(y))
    } else {
        None
    }
}

/// Splits text into words of letters or digits, keeping `/`, `.` and `-` inside
/// numeric dates such as 31/03/2024.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '*' | ':'))
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect()
}

fn numeric_date(word: &str) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(date);
    }
    for separator in ['/', '.', '-'] {
        let parts: Vec<&str> = word.split(separator).collect();
        if let [day, month, year] = parts.as_slice() {
            let (day, month): (u32, u32) = (day.parse().ok()?, month.parse().ok()?);
            let mut year: i32 = year.parse().ok()?;
            if year < 100 {
                year += 2000;
            }
            // UK order: day first. An impossible date is no date.
            return NaiveDate::from_ymd_opt(year, month, day);
        }
    }
    None
}

/// The first date found in one segment of text.
fn date_in(segment: &str) -> Option<NaiveDate> {
    let words = words(segment);
    for (i, word) in words.iter().enumerate() {
        if let Some(date) = numeric_date(word) {
            return Some(date);
        }
        let numeric = word.starts_with(|c: char| c.is_ascii_digit());
        if numeric && (word.contains('/') || word.contains('.')) {
            if let Some((start, end)) = word.split_once('/').or_else(|| word.split_once('-')) {
                // "2024/25": a UK financial year, ending 31 March of the second year.
                if let (Some(first), true) = (
                    year(start),
                    end.len() == 2 && end.chars().all(|c| c.is_ascii_digit()),
                ) {
                    return NaiveDate::from_ymd_opt(first + 1, 3, 31);
                }
            }
            // An unreadable numeric date ("31/02/2024") is no date at all.
            return None;
        }
        let next = words.get(i + 1).copied();
        let after = words.get(i + 2).copied();
        // "31 March 2024", "31st March 2024"
        let day: Option<u32> = word
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .ok()
            .filter(|_| word.chars().next().is_some_and(|c| c.is_ascii_digit()));
        if let (Some(day), Some(month), Some(y)) =
            (day, next.and_then(month_number), after.and_then(year))
        {
            return NaiveDate::from_ymd_opt(y, month, day);
        }
        // "March 2024"
        if let (Some(month), Some(y)) = (month_number(word), next.and_then(year)) {
            return end_of_month(y, month);
        }
        // "Q1 2024": the end of that calendar quarter.
        if let (Some(q), Some(y)) = (
            word.strip_prefix(['Q', 'q'])
                .and_then(|q| q.parse::<u32>().ok()),
            next.and_then(year),
        ) {
            if (1..=4).contains(&q) {
                return end_of_month(y, q * 3);
            }
        }
        // "2024-25" / "2024/25" as one word handled above; "2024" alone is too vague.
    }
    None
}

/// Parses a timescale into milestones; unreadable text gives none.
pub fn parse_timescale(raw: &str) -> Vec<Milestone> {
    let mut milestones = Vec::new();
    for segment in raw.split([';', '\n']) {
        let segment = segment.trim();
        if segment.is_empty() {
            continue;
        }
        let Some(date) = date_in(segment) else {
            continue;
        };
        let label = match segment.split_once(':') {
            Some((label, _)) if !label.trim().is_empty() => label.trim(),
            _ => segment,
        };
        milestones.push(Milestone {
            label: label.to_owned(),
            on: date_to_days(date),
        });
    }
    milestones
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dates(raw: &str) -> Vec<(String, String)> {
        parse_timescale(raw)
            .into_iter()
            .map(|m| (m.label, days_to_date(m.on).unwrap().to_string()))
            .collect()
    }

    fn one(raw: &str, date: &str) {
        assert_eq!(
            dates(raw),
            vec![(raw.trim().to_owned(), date.to_owned())],
            "{raw}"
        );
    }

    #[test]
    fn real_timescales() {
        one("May 2024", "2024-05-31");
        one("April 2018*", "2018-04-30");
        one("Feb 2024 and annually thereafter", "2024-02-29");
        one("Sept 2024", "2024-09-30");
        one("Sep 2024", "2024-09-30");
        one("September 2024", "2024-09-30");
        one("31/03/2024", "2024-03-31");
        one("31.03.2024", "2024-03-31");
        one("2024-03-31", "2024-03-31");
        one("31 March 2024", "2024-03-31");
        one("31st March 2024", "2024-03-31");
        one("end of March 2024", "2024-03-31");
        one("by Dec 2024", "2024-12-31");
        one("Q1 2024", "2024-03-31");
        one("2024/25", "2025-03-31");
        assert_eq!(
            dates(
                "Strategy developed: March 2024; Strategy communicated/delivered from: April 2024"
            ),
            vec![
                ("Strategy developed".to_owned(), "2024-03-31".to_owned()),
                (
                    "Strategy communicated/delivered from".to_owned(),
                    "2024-04-30".to_owned()
                )
            ]
        );
        assert_eq!(dates("Plan evidence: May 2024; Audit: June 2024").len(), 2);
    }

    #[test]
    fn unreadable_timescales_give_no_milestone() {
        for raw in [
            "Ongoing",
            "(Dates as in CCPS)",
            "",
            "31/02/2024",
            "Mai 2024 fin",
            "2024",
            "März 2024",
            "\u{202e}May",
        ] {
            assert!(
                parse_timescale(raw)
                    .iter()
                    .all(|m| days_to_date(m.on).is_some()),
                "{raw}"
            );
        }
        assert!(parse_timescale("31/02/2024").is_empty());
        assert!(parse_timescale("Ongoing").is_empty());
        assert!(parse_timescale("(Dates as in CCPS)").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(raw in ".{0,80}") {
            let _ = parse_timescale(&raw);
        }
    }
}
