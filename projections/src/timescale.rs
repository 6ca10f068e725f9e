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

/// The due date of one segment: its first date, or the end of a range it opens.
fn date_in(text: &str) -> Option<NaiveDate> {
    let segment = Segment::new(text);
    let mut at = 0;
    while at < segment.tokens.len() {
        match segment.date_at(at) {
            Found::NoDate => at += 1,
            Found::Impossible => return None,
            Found::Date(start, used) => {
                let range_end = segment.skip_range_words(at + used);
                if range_end == at + used {
                    return Some(start);
                }
                return match segment.date_at(range_end) {
                    Found::Date(end, _) if end >= start => Some(end),
                    Found::Impossible => None,
                    _ => Some(start),
                };
            }
        }
    }
    None
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

impl Found {
    /// A date from the calendar, if it is real and within years a plan can mean.
    fn from(date: Option<NaiveDate>, used: usize) -> Found {
        match date {
            Some(date) if (1900..=2200).contains(&date.year()) => Found::Date(date, used),
            _ => Found::Impossible,
        }
    }

    fn or_else(self, next: impl FnOnce() -> Found) -> Found {
        match self {
            Found::NoDate => next(),
            found => found,
        }
    }
}

/// One piece of a segment: a run of ASCII digits, a run of letters, or one other
/// character. `spaced` says whether whitespace came before it, because "31/03/2024"
/// is a date while "31 / 03" is not.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: TokenKind<'a>,
    spaced: bool,
}

#[derive(Debug, Clone, Copy)]
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

/// A segment's tokens, with the look-ups the date patterns use. Every look-up past
/// the end answers "nothing", so patterns never index out of bounds.
struct Segment<'a> {
    tokens: Vec<Token<'a>>,
}

impl<'a> Segment<'a> {
    fn new(text: &'a str) -> Segment<'a> {
        let mut tokens = Vec::new();
        let mut spaced = true;
        let mut rest = text;
        while let Some(first) = rest.chars().next() {
            if first.is_whitespace() {
                spaced = true;
                rest = rest.get(first.len_utf8()..).unwrap_or_default();
                continue;
            }
            let run =
                |same: fn(&char) -> bool| rest.chars().take_while(same).map(char::len_utf8).sum();
            let length = if first.is_ascii_digit() {
                run(char::is_ascii_digit)
            } else if first.is_alphabetic() {
                run(|c| c.is_alphabetic())
            } else {
                first.len_utf8()
            };
            let Some((piece, remainder)) = rest.split_at_checked(length) else {
                break;
            };
            rest = remainder;
            let kind = if first.is_ascii_digit() {
                let value = piece.parse().unwrap_or(u32::MAX);
                TokenKind::Number {
                    value,
                    digits: piece.len(),
                }
            } else if first.is_alphabetic() {
                TokenKind::Word(piece)
            } else {
                TokenKind::Mark(first)
            };
            tokens.push(Token { kind, spaced });
            spaced = false;
        }
        Segment { tokens }
    }

    fn number(&self, at: usize) -> Option<(u32, usize)> {
        match self.tokens.get(at)?.kind {
            TokenKind::Number { value, digits } => Some((value, digits)),
            _ => None,
        }
    }

    fn word(&self, at: usize) -> Option<String> {
        match self.tokens.get(at)?.kind {
            TokenKind::Word(word) => Some(word.to_lowercase()),
            _ => None,
        }
    }

    fn mark(&self, at: usize) -> Option<char> {
        match self.tokens.get(at)?.kind {
            TokenKind::Mark(mark) => Some(mark),
            _ => None,
        }
    }

    /// Whether the token at `at` follows the one before it with no space between.
    fn joined(&self, at: usize) -> bool {
        self.tokens.get(at).is_some_and(|t| !t.spaced)
    }

    /// The position after an ordinal suffix ("st" in "31st"), if one is at `at`.
    fn skip_ordinal(&self, at: usize) -> usize {
        let ordinal = self
            .word(at)
            .is_some_and(|w| ["st", "nd", "rd", "th"].contains(&w.as_str()));
        if ordinal && self.joined(at) {
            at + 1
        } else {
            at
        }
    }

    /// The position after any words that join the two ends of a range ("to", "-").
    fn skip_range_words(&self, mut at: usize) -> usize {
        while let Some(token) = self.tokens.get(at) {
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

    fn date_at(&self, at: usize) -> Found {
        if let Some(first) = self.number(at) {
            return self
                .numeric_date(at, first)
                .or_else(|| self.day_first_date(at, first));
        }
        let Some(word) = self.word(at) else {
            return Found::NoDate;
        };
        match month_number(&word) {
            Some(month) => self.month_first_date(at, month),
            None => self
                .quarter(at, &word)
                .or_else(|| self.season_or_year_end(at, &word)),
        }
    }

    /// 31/03/2024, 31.03.24, 2024-03-31, 2024-03, 03/2024, and financial years 2024/25.
    fn numeric_date(&self, at: usize, (first, first_digits): (u32, usize)) -> Found {
        let separator = self.mark(at + 1).filter(|m| matches!(m, '/' | '.' | '-'));
        let (Some(separator), Some((second, second_digits)), true) = (
            separator,
            self.number(at + 2),
            self.joined(at + 1) && self.joined(at + 2),
        ) else {
            return Found::NoDate;
        };
        let third_part =
            self.mark(at + 3) == Some(separator) && self.joined(at + 3) && self.joined(at + 4);
        if let (true, Some((third, third_digits))) = (third_part, self.number(at + 4)) {
            return if first_digits == 4 && second_digits <= 2 && third_digits <= 2 {
                Found::from(ymd(first, second, third), 5)
            } else if first_digits <= 2 && second_digits <= 2 && matches!(third_digits, 2 | 4) {
                // UK order: day first.
                Found::from(ymd(full_year(third, third_digits), second, first), 5)
            } else {
                Found::NoDate
            };
        }
        if first_digits == 4 && separator != '.' {
            return if is_next_year(first, (second, second_digits)) {
                Found::from(ymd(first.saturating_add(1), 3, 31), 3)
            } else if separator == '-' && second_digits == 2 {
                Found::from(end_of_month(first, second), 3)
            } else {
                Found::Impossible
            };
        }
        if first_digits <= 2 && second_digits == 4 {
            return Found::from(end_of_month(second, first), 3);
        }
        Found::NoDate
    }

    /// "31 March 2024", "31st of March 2024", "31-Mar-24".
    fn day_first_date(&self, at: usize, (day, digits): (u32, usize)) -> Found {
        if digits > 2 {
            return Found::NoDate;
        }
        let mut next = self.skip_ordinal(at + 1);
        if self.word(next).as_deref() == Some("of") || self.mark(next) == Some('-') {
            next += 1;
        }
        let month = self.word(next).as_deref().and_then(month_number);
        match (month, self.year_after_month(next + 1)) {
            (Some(month), Some((year, used))) => {
                Found::from(ymd(year, month, day), next + 1 + used - at)
            }
            _ => Found::NoDate,
        }
    }

    /// "March 31, 2024" or "March 31st 2024", else a month alone: "May 2024",
    /// "Sept. 2024", "Mar-24", "Mar '24".
    fn month_first_date(&self, at: usize, month: u32) -> Found {
        let mut next = at + 1;
        if self.mark(next) == Some('.') && self.joined(next) {
            next += 1;
        }
        if let Some((day, 1..=2)) = self.number(next) {
            let mut after_day = self.skip_ordinal(next + 1);
            if self.mark(after_day) == Some(',') {
                after_day += 1;
            }
            if let Some((year, 4)) = self.number(after_day) {
                return Found::from(ymd(year, month, day), after_day + 1 - at);
            }
        }
        match self.year_after_month(next) {
            Some((year, used)) => Found::from(end_of_month(year, month), next + used - at),
            None => Found::NoDate,
        }
    }

    /// The year written after a month name, and how many tokens it used: "2024",
    /// ", 2024", or a two-digit year tied on by a dash or apostrophe ("Mar-24").
    fn year_after_month(&self, at: usize) -> Option<(u32, usize)> {
        match (self.mark(at), self.number(at), self.number(at + 1)) {
            (_, Some((year, 4)), _) => Some((year, 1)),
            (Some(',' | '-'), _, Some((year, 4))) => Some((year, 2)),
            (Some('-' | '\'' | '’'), _, Some((year, 2))) if self.joined(at + 1) => {
                Some((full_year(year, 2), 2))
            }
            _ => None,
        }
    }

    /// "Q1 2024" is the end of a calendar quarter; "Q1 2024/25" of a financial one,
    /// whose year starts in April.
    fn quarter(&self, at: usize, word: &str) -> Found {
        let (Some((quarter, 1)), Some((year, 4)), true) = (
            self.number(at + 1),
            self.number(at + 2),
            word == "q" && self.joined(at + 1),
        ) else {
            return Found::NoDate;
        };
        if !(1..=4).contains(&quarter) {
            return Found::Impossible;
        }
        let written_second_year = matches!(self.mark(at + 3), Some('/' | '-'))
            && self.joined(at + 3)
            && self.joined(at + 4);
        match (
            written_second_year.then(|| self.number(at + 4)).flatten(),
            quarter,
        ) {
            (None, _) => Found::from(end_of_month(year, quarter * 3), 3),
            (Some(next), _) if !is_next_year(year, next) => Found::Impossible,
            (Some(_), 4) => Found::from(end_of_month(year.saturating_add(1), 3), 5),
            (Some(_), _) => Found::from(end_of_month(year, quarter * 3 + 3), 5),
        }
    }

    /// "Spring 2024" (the end of that meteorological season) and "end of 2024".
    fn season_or_year_end(&self, at: usize, word: &str) -> Found {
        let season_end = match word {
            "spring" => Some(5),
            "summer" => Some(8),
            "autumn" | "fall" => Some(11),
            _ => None,
        };
        if let (Some(month), Some((year, 4))) = (season_end, self.number(at + 1)) {
            return Found::from(end_of_month(year, month), 2);
        }
        if word == "end" {
            let year_at = if self.word(at + 1).as_deref() == Some("of") {
                at + 2
            } else {
                at + 1
            };
            // "end of 2024/25" is a financial year, read when the scan reaches it.
            let financial_year =
                matches!(self.mark(year_at + 1), Some('/' | '-')) && self.joined(year_at + 1);
            if let (Some((year, 4)), false) = (self.number(year_at), financial_year) {
                return Found::from(ymd(year, 12, 31), year_at + 1 - at);
            }
        }
        Found::NoDate
    }
}

/// Whether `next`, written with 2 or 4 digits, is the year after `year`, as in the
/// financial years "2024/25" and "2024/2025".
fn is_next_year(year: u32, (next, digits): (u32, usize)) -> bool {
    let following = year.saturating_add(1);
    (digits == 2 && next == following % 100) || (digits == 4 && next == following)
}

/// Two-digit years in plans are this century's: "31/03/24" is 2024.
fn full_year(year: u32, digits: usize) -> u32 {
    if digits == 2 {
        year.saturating_add(2000)
    } else {
        year
    }
}

fn ymd(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

fn end_of_month(year: u32, month: u32) -> Option<NaiveDate> {
    if !(1..=12).contains(&month) {
        return None;
    }
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    ymd(next_year, next_month, 1)?.pred_opt()
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
        ("Q1 2024/26", &[]),
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
