//! Timescales as plans write them ("May 2024", "April 2018*", "Plan evidence: May
//! 2024; Audit: June 2024", "Ongoing") turned into dated milestones.
//!
//! Parsing never fails and never guesses: text it cannot read exactly gives no
//! milestone, and the caller always keeps the raw text beside the milestones, so
//! nothing is lost. It must never produce a wrong date: "31/02/2024" gives nothing
//! rather than 2 March, and a segment holding an impossible date gives no milestone
//! at all. It is pure: no clock (so no "next March"), no locale, no IO.
//!
//! How a timescale is read:
//! - The text is split into segments on `;` and new lines. A segment's label is the
//!   text before its first `:` when a date follows the colon, else the whole segment.
//!   Each segment gives at most one milestone: the first date in it, or the end of a
//!   range ("Jan 2024 to March 2024", "31/01/2024 - 31/03/2024").
//! - Full dates are UK day-first: "31/03/2024", "31.03.24", "31-Mar-2024",
//!   "31st March 2024"; also ISO "2024-03-31" and "March 31, 2024".
//! - A month alone ("May 2024", "Sept. 2024", "Mar-24", "03/2024") means the last day
//!   of that month, because a plan's "May 2024" means "by the end of May".
//! - "Q1 2024" is the end of that calendar quarter (31 March); "Q1 2024/25" is the end
//!   of that financial quarter (30 June 2024).
//! - "2024/25", "2024-25" or "2024/2025" is a UK financial year, ending 31 March 2025.
//! - "end of 2024" is 31 December 2024; a year alone ("2024") is too vague to date.
//! - Seasons are the meteorological ones, dated at their end: spring → 31 May, summer
//!   → 31 August, autumn (or fall) → 30 November. "Winter 2024" is left undated
//!   because plans use it for both ends of that year, and school terms ("Spring term
//!   2024") are left undated because term dates differ between areas.

use bincode::{Decode, Encode};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// A dated point in an action's timescale.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Milestone {
    /// What is due, e.g. "Strategy developed", or the segment's own text when it has
    /// no label ("Feb 2024 and annually thereafter").
    pub label: String,
    /// The date it is due by, as days since 1970-01-01 (see [`days_to_date`]).
    pub on: i32,
}

/// The number of days from 1 January of year 1 to 1 January 1970, which turns chrono's
/// day count into the days-since-1970 that milestones and the ledger store.
const DAYS_FROM_COMMON_ERA_TO_1970: i32 = 719_163;

/// Turns days since 1970-01-01 (as stored in [`Milestone::on`]) into a date. `None`
/// only for values beyond chrono's range of about ±262,000 years, which no parsed
/// timescale produces but a damaged or hand-made value could.
pub fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(DAYS_FROM_COMMON_ERA_TO_1970)?)
}

/// Turns a date into days since 1970-01-01, the inverse of [`days_to_date`]. Every
/// chrono date fits in an `i32`, so this never fails.
pub fn date_to_days(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - DAYS_FROM_COMMON_ERA_TO_1970
}

/// Parses a free-text timescale into milestones, in the order they are written.
/// Unreadable text gives an empty list, never an error.
pub fn parse_timescale(raw: &str) -> Vec<Milestone> {
    let mut milestones = Vec::new();
    for segment in raw.split([';', '\n', '\r']) {
        // Bullets are how people list milestones in one cell; they are not part of
        // the label.
        let segment = segment
            .trim()
            .trim_start_matches(['-', '*', '•', '·'])
            .trim();
        if segment.is_empty() {
            continue;
        }
        let labelled = segment.split_once(':').and_then(|(label, rest)| {
            let label = label.trim();
            (!label.is_empty())
                .then(|| date_in(rest).map(|date| (label, date)))
                .flatten()
        });
        if let Some((label, date)) = labelled.or_else(|| date_in(segment).map(|d| (segment, d))) {
            milestones.push(Milestone {
                label: label.to_owned(),
                on: date_to_days(date),
            });
        }
    }
    milestones
}

/// One piece of a segment: a run of ASCII digits, a run of letters, or one other
/// character. `spaced` says whether whitespace came before it, because "31/03/2024"
/// is a date while "31 / 03" is not.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: TokenKind<'a>,
    spaced: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind<'a> {
    /// The value (saturating at `u32::MAX`, which is never a date part) and how many
    /// digits were written, since "2024" is a year and "24" a day, month or short year.
    Number {
        value: u32,
        digits: usize,
    },
    Word(&'a str),
    Mark(char),
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut spaced = true;
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        if first.is_whitespace() {
            spaced = true;
            rest = rest.get(first.len_utf8()..).unwrap_or_default();
            continue;
        }
        let run_length =
            |same_kind: fn(char) -> bool| rest.find(|c: char| !same_kind(c)).unwrap_or(rest.len());
        let length = if first.is_ascii_digit() {
            run_length(|c| c.is_ascii_digit())
        } else if first.is_alphabetic() {
            run_length(char::is_alphabetic)
        } else {
            first.len_utf8()
        };
        let Some((piece, remainder)) = rest.split_at_checked(length) else {
            break;
        };
        let kind = if first.is_ascii_digit() {
            TokenKind::Number {
                value: piece.parse().unwrap_or(u32::MAX),
                digits: piece.len(),
            }
        } else if first.is_alphabetic() {
            TokenKind::Word(piece)
        } else {
            TokenKind::Mark(first)
        };
        tokens.push(Token { kind, spaced });
        spaced = false;
        rest = remainder;
    }
    tokens
}

/// What matching a date at one position found.
enum Found {
    /// A date, and how many tokens it used.
    Date(NaiveDate, usize),
    /// Text that is plainly meant as a date but is not a real one ("31/02/2024"):
    /// the whole segment then gets no milestone, so none is ever wrong.
    Impossible,
    NoDate,
}

/// The due date of one segment: its first date, or the end of a range it opens.
fn date_in(segment: &str) -> Option<NaiveDate> {
    let tokens = tokens(segment);
    let mut at = 0;
    while at < tokens.len() {
        match date_at(&tokens, at) {
            Found::NoDate => at += 1,
            Found::Impossible => return None,
            Found::Date(start, used) => {
                let after_range_word = skip_range_words(&tokens, at + used);
                if after_range_word == at + used {
                    return Some(start);
                }
                return match date_at(&tokens, after_range_word) {
                    Found::Date(end, _) if end >= start => Some(end),
                    Found::Impossible => None,
                    _ => Some(start),
                };
            }
        }
    }
    None
}

/// The position after any words that join the two ends of a range ("to", "-").
fn skip_range_words(tokens: &[Token<'_>], mut at: usize) -> usize {
    while let Some(token) = tokens.get(at) {
        let joins = match token.kind {
            TokenKind::Mark(mark) => matches!(mark, '-' | '–' | '—'),
            TokenKind::Word(word) => ["to", "until", "till", "through", "thru"]
                .iter()
                .any(|joiner| word.eq_ignore_ascii_case(joiner)),
            TokenKind::Number { .. } => false,
        };
        if !joins {
            break;
        }
        at += 1;
    }
    at
}

fn date_at(tokens: &[Token<'_>], at: usize) -> Found {
    let kind = |i: usize| tokens.get(i).map(|t| t.kind);
    let joined = |i: usize| tokens.get(i).is_some_and(|t| !t.spaced);
    let number = |i: usize| match kind(i) {
        Some(TokenKind::Number { value, digits }) => Some((value, digits)),
        _ => None,
    };
    let word = |i: usize| match kind(i) {
        Some(TokenKind::Word(word)) => Some(word.to_lowercase()),
        _ => None,
    };
    let mark = |i: usize| match kind(i) {
        Some(TokenKind::Mark(mark)) => Some(mark),
        _ => None,
    };
    let found = |date: Option<NaiveDate>, used: usize| match date {
        Some(date) if (1900..=2200).contains(&date.year()) => Found::Date(date, used),
        _ => Found::Impossible,
    };

    if let Some((first, first_digits)) = number(at) {
        // Numeric dates: 31/03/2024, 31.03.24, 2024-03-31, 03/2024, 2024/25.
        let separator = mark(at + 1).filter(|m| matches!(m, '/' | '.' | '-'));
        if let (Some(separator), Some((second, second_digits)), true) =
            (separator, number(at + 2), joined(at + 1) && joined(at + 2))
        {
            if let (true, Some((third, third_digits))) = (
                mark(at + 3) == Some(separator) && joined(at + 3) && joined(at + 4),
                number(at + 4),
            ) {
                if first_digits == 4 && second_digits <= 2 && third_digits <= 2 {
                    return found(ymd(first, second, third), 5);
                }
                if first_digits <= 2 && second_digits <= 2 && matches!(third_digits, 2 | 4) {
                    return found(ymd(full_year(third, third_digits), second, first), 5);
                }
                return Found::NoDate;
            }
            if first_digits == 4 && separator != '.' {
                let next_year = first.saturating_add(1);
                let financial = (second_digits == 2 && second == next_year % 100)
                    || (second_digits == 4 && second == next_year);
                if financial {
                    return found(ymd(next_year, 3, 31), 3);
                }
                if separator == '-' && second_digits == 2 {
                    return found(end_of_month(first, second), 3);
                }
                return Found::Impossible;
            }
            if first_digits <= 2 && second_digits == 4 {
                return found(end_of_month(second, first), 3);
            }
            return Found::NoDate;
        }
        // Written dates, day first: "31 March 2024", "31st of March 2024", "31-Mar-24".
        if first_digits <= 2 {
            let mut next = at + 1;
            if joined(next) && word(next).is_some_and(|w| ["st", "nd", "rd", "th"].contains(&&*w)) {
                next += 1;
            }
            if word(next).as_deref() == Some("of") || mark(next) == Some('-') {
                next += 1;
            }
            if let Some(month) = word(next).as_deref().and_then(month_number) {
                if let Some((year, used)) = year_after_month(tokens, next + 1) {
                    return found(ymd(year, month, first), next + 1 + used - at);
                }
            }
        }
        return Found::NoDate;
    }

    let Some(first_word) = word(at) else {
        return Found::NoDate;
    };
    if let Some(month) = month_number(&first_word) {
        let mut next = at + 1;
        if mark(next) == Some('.') && joined(next) {
            next += 1;
        }
        // Month first: "March 31, 2024" or "March 31st 2024".
        if let Some((day, 1..=2)) = number(next) {
            let mut after_day = next + 1;
            if joined(after_day)
                && word(after_day).is_some_and(|w| ["st", "nd", "rd", "th"].contains(&&*w))
            {
                after_day += 1;
            }
            if mark(after_day) == Some(',') {
                after_day += 1;
            }
            if let Some((year, 4)) = number(after_day) {
                return found(ymd(year, month, day), after_day + 1 - at);
            }
        }
        // A month alone: "May 2024", "Mar-24", "Mar '24".
        return match year_after_month(tokens, next) {
            Some((year, used)) => found(end_of_month(year, month), next + used - at),
            None => Found::NoDate,
        };
    }
    // Quarters: "Q1 2024" (calendar) and "Q1 2024/25" (financial, April to March).
    if first_word == "q" && joined(at + 1) {
        if let (Some((quarter, 1)), Some((year, 4))) = (number(at + 1), number(at + 2)) {
            if !(1..=4).contains(&quarter) {
                return Found::Impossible;
            }
            let financial = matches!(mark(at + 3), Some('/' | '-'))
                && joined(at + 3)
                && joined(at + 4)
                && number(at + 4).is_some();
            if financial {
                let (end_year, end_month) = if quarter == 4 {
                    (year.saturating_add(1), 3)
                } else {
                    (year, quarter * 3 + 3)
                };
                return found(end_of_month(end_year, end_month), 5);
            }
            return found(end_of_month(year, quarter * 3), 3);
        }
        return Found::NoDate;
    }
    let season_end_month = match first_word.as_str() {
        "spring" => Some(5),
        "summer" => Some(8),
        "autumn" | "fall" => Some(11),
        _ => None,
    };
    if let (Some(month), Some((year, 4))) = (season_end_month, number(at + 1)) {
        return found(end_of_month(year, month), 2);
    }
    // "end of 2024" is the last day of that calendar year.
    if first_word == "end" {
        let next = if word(at + 1).as_deref() == Some("of") {
            at + 2
        } else {
            at + 1
        };
        let followed_by_financial_year =
            matches!(mark(next + 1), Some('/' | '-')) && joined(next + 1);
        if let (Some((year, 4)), false) = (number(next), followed_by_financial_year) {
            return found(ymd(year, 12, 31), next + 1 - at);
        }
    }
    Found::NoDate
}

/// The year written after a month name, and how many tokens it used: "2024",
/// ", 2024", or a two-digit year tied on by a dash or apostrophe ("Mar-24", "Mar '24").
fn year_after_month(tokens: &[Token<'_>], at: usize) -> Option<(u32, usize)> {
    let kind = |i: usize| tokens.get(i).map(|t| t.kind);
    let joined = |i: usize| tokens.get(i).is_some_and(|t| !t.spaced);
    match (kind(at), kind(at + 1)) {
        (Some(TokenKind::Number { value, digits: 4 }), _) => Some((value, 1)),
        (Some(TokenKind::Mark(',' | '-')), Some(TokenKind::Number { value, digits: 4 })) => {
            Some((value, 2))
        }
        (Some(TokenKind::Mark('-' | '\'' | '’')), Some(TokenKind::Number { value, digits: 2 }))
            if joined(at + 1) =>
        {
            Some((full_year(value, 2), 2))
        }
        _ => None,
    }
}

/// Two-digit years in plans are this century's: "31/03/24" is 2024.
fn full_year(year: u32, digits: usize) -> u32 {
    if digits == 2 {
        2000 + year
    } else {
        year
    }
}

fn ymd(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

fn end_of_month(year: u32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month.checked_add(1)?)
    };
    ymd(next_year, next_month, 1)?
        .pred_opt()
        .filter(|_| (1..=12).contains(&month))
}

/// A month from its name: the full name, or any abbreviation of at least three
/// letters ("Sep", "Sept", "Septem"). Case does not matter.
fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
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
    let word = word.to_lowercase();
    if word.chars().count() < 3 {
        return None;
    }
    let index = MONTHS.iter().position(|month| month.starts_with(&word))?;
    u32::try_from(index + 1).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Each timescale as written in a plan, and the milestones it must give as
    /// (label, ISO date). An empty list means "no milestone": the raw text is kept.
    const TIMESCALES: &[(&str, &[(&str, &str)])] = &[
        ("May 2024", &[("May 2024", "2024-05-31")]),
        ("April 2018*", &[("April 2018*", "2018-04-30")]),
        (
            "Feb 2024 and annually thereafter",
            &[("Feb 2024 and annually thereafter", "2024-02-29")],
        ),
        ("Ongoing", &[]),
        ("(Dates as in CCPS)", &[]),
        ("", &[]),
        ("   ", &[]),
        (
            "Plan evidence: May 2024; Audit: June 2024",
            &[("Plan evidence", "2024-05-31"), ("Audit", "2024-06-30")],
        ),
        (
            "Strategy developed: March 2024; Strategy communicated/delivered from: April 2024",
            &[
                ("Strategy developed", "2024-03-31"),
                ("Strategy communicated/delivered from", "2024-04-30"),
            ],
        ),
        (
            "Pilot developed: April 2024; Roll out/Offer Launch, starting: April 2024",
            &[
                ("Pilot developed", "2024-04-30"),
                ("Roll out/Offer Launch, starting", "2024-04-30"),
            ],
        ),
        (
            "Training commissioned: February 2024\nOn the calendar: April 2024",
            &[
                ("Training commissioned", "2024-02-29"),
                ("On the calendar", "2024-04-30"),
            ],
        ),
        (
            "- Review: 31/12/2024\r\n- Report: Jan 2025",
            &[("Review", "2024-12-31"), ("Report", "2025-01-31")],
        ),
        // Full dates, UK day first.
        ("31/03/2024", &[("31/03/2024", "2024-03-31")]),
        ("1/4/2024", &[("1/4/2024", "2024-04-01")]),
        ("04/05/2024", &[("04/05/2024", "2024-05-04")]),
        ("31.03.2024", &[("31.03.2024", "2024-03-31")]),
        ("31/03/24", &[("31/03/24", "2024-03-31")]),
        ("2024-03-31", &[("2024-03-31", "2024-03-31")]),
        ("31 March 2024", &[("31 March 2024", "2024-03-31")]),
        ("31st March 2024", &[("31st March 2024", "2024-03-31")]),
        ("1st of April 2024", &[("1st of April 2024", "2024-04-01")]),
        ("31-Mar-2024", &[("31-Mar-2024", "2024-03-31")]),
        ("31-Mar-24", &[("31-Mar-24", "2024-03-31")]),
        ("March 31, 2024", &[("March 31, 2024", "2024-03-31")]),
        (
            "Review on 31/03/2024 12:00",
            &[("Review on 31/03/2024 12:00", "2024-03-31")],
        ),
        // A month alone is the end of that month.
        ("Sept 2024", &[("Sept 2024", "2024-09-30")]),
        ("Sep 2024", &[("Sep 2024", "2024-09-30")]),
        ("September 2024", &[("September 2024", "2024-09-30")]),
        ("Sept. 2024", &[("Sept. 2024", "2024-09-30")]),
        ("SEPTEMBER 2024", &[("SEPTEMBER 2024", "2024-09-30")]),
        ("Mar-24", &[("Mar-24", "2024-03-31")]),
        ("Mar '24", &[("Mar '24", "2024-03-31")]),
        ("03/2024", &[("03/2024", "2024-03-31")]),
        ("2024-02", &[("2024-02", "2024-02-29")]),
        ("Feb 2023", &[("Feb 2023", "2023-02-28")]),
        ("end of March 2024", &[("end of March 2024", "2024-03-31")]),
        ("by Dec 2024", &[("by Dec 2024", "2024-12-31")]),
        // Quarters, financial years, the end of a year, seasons.
        ("Q1 2024", &[("Q1 2024", "2024-03-31")]),
        ("Q4 2024", &[("Q4 2024", "2024-12-31")]),
        ("Q1 2024/25", &[("Q1 2024/25", "2024-06-30")]),
        ("Q4 2024/25", &[("Q4 2024/25", "2025-03-31")]),
        ("2024/25", &[("2024/25", "2025-03-31")]),
        ("2024-25", &[("2024-25", "2025-03-31")]),
        ("2024/2025", &[("2024/2025", "2025-03-31")]),
        (
            "by the end of 2024/25",
            &[("by the end of 2024/25", "2025-03-31")],
        ),
        ("end of 2024", &[("end of 2024", "2024-12-31")]),
        ("Spring 2024", &[("Spring 2024", "2024-05-31")]),
        ("Summer 2024", &[("Summer 2024", "2024-08-31")]),
        ("Autumn 2024", &[("Autumn 2024", "2024-11-30")]),
        // Ranges are due at their end.
        ("Jan - Mar 2024", &[("Jan - Mar 2024", "2024-03-31")]),
        (
            "Jan 2024 to June 2024",
            &[("Jan 2024 to June 2024", "2024-06-30")],
        ),
        (
            "01/01/2024-31/03/2024",
            &[("01/01/2024-31/03/2024", "2024-03-31")],
        ),
        (
            "May 2024 - ongoing",
            &[("May 2024 - ongoing", "2024-05-31")],
        ),
        // Never a wrong date: impossible or vague text gives no milestone.
        ("31/02/2024", &[]),
        ("30 Feb 2024", &[]),
        ("13/13/2024", &[]),
        ("03/31/2024", &[]),
        ("Review 31/02/2024 then May 2024", &[]),
        ("Q5 2024", &[]),
        ("2024/27", &[]),
        ("2024", &[]),
        ("Winter 2024", &[]),
        ("Spring term 2024", &[]),
        ("May 3000", &[]),
        ("March", &[]),
        ("6 months", &[]),
        ("see 1.2.3", &[]),
        ("Mai 2024", &[]),
        ("März 2024", &[]),
        ("Mar 24", &[]),
        (
            "Jan 2025 - Jan 2024",
            &[("Jan 2025 - Jan 2024", "2025-01-31")],
        ),
    ];

    fn as_written(milestones: &[Milestone]) -> Vec<(String, String)> {
        milestones
            .iter()
            .map(|m| (m.label.clone(), days_to_date(m.on).unwrap().to_string()))
            .collect()
    }

    #[test]
    fn timescales_from_real_plans_give_these_milestones() {
        for (raw, expected) in TIMESCALES {
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(label, date)| ((*label).to_owned(), (*date).to_owned()))
                .collect();
            assert_eq!(
                as_written(&parse_timescale(raw)),
                expected,
                "timescale {raw:?}"
            );
        }
    }

    #[test]
    fn days_count_from_1970() {
        let table = [
            (0, "1970-01-01"),
            (1, "1970-01-02"),
            (-1, "1969-12-31"),
            (19_813, "2024-03-31"),
        ];
        for (days, date) in table {
            let date: NaiveDate = date.parse().unwrap();
            assert_eq!(days_to_date(days), Some(date));
            assert_eq!(date_to_days(date), days);
        }
        assert_eq!(days_to_date(i32::MAX), None);
        assert_eq!(days_to_date(i32::MIN), None);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panicking_to_real_dates(raw in "\\PC{0,120}") {
            for milestone in parse_timescale(&raw) {
                proptest::prop_assert!(days_to_date(milestone.on).is_some());
            }
        }

        #[test]
        fn date_like_text_never_panics(raw in "[0-9QqMayDec/.\\- :;'’,\n]{0,60}") {
            let _ = parse_timescale(&raw);
        }

        #[test]
        fn days_and_dates_round_trip(days in -700_000i32..3_000_000) {
            let date = days_to_date(days).unwrap();
            proptest::prop_assert_eq!(date_to_days(date), days);
        }

        #[test]
        fn any_real_day_first_date_reads_back(date in (1900i32..2200, 1u32..13, 1u32..32)) {
            let (year, month, day) = date;
            if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
                let written = format!("{day:02}/{month:02}/{year}");
                let read = parse_timescale(&written);
                proptest::prop_assert_eq!(read.len(), 1);
                proptest::prop_assert_eq!(read.first().map(|m| m.on), Some(date_to_days(date)));
            } else {
                let impossible = format!("{day}/{month}/{year}");
                proptest::prop_assert!(parse_timescale(&impossible).is_empty());
            }
        }
    }
}
