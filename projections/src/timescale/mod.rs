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
//! - Two-digit years are read in the plan's years when the caller knows them
//!   ([`parse_timescale_in`] with [`PlanYears`], e.g. 2009 and 2010 for "2009-10"): in
//!   the century that puts the year nearest those years, so "Oct 09" in a 2009-10 plan
//!   is October 2009 and "Mar-99" in a 2001 plan is March 1999; when two centuries are
//!   equally near, the segment gives nothing. Without the plan's years
//!   ([`parse_timescale`]) a two-digit year tied to its month or day ("Mar-24",
//!   "Mar '24", "31-Mar-24", "31/03/24") is this century's, as it always has been.
//! - "Month YY" with a space ("Oct 09", "Sept. 09") is a month and a year, never a
//!   day: UK plans write "May 09" for May 2009. It is read only with the plan's years
//!   and only within two years of them, because "March 31" may be a day rather than
//!   2031; without them it gives nothing. The month must be capitalised (a lower-case
//!   "may" is the verb) and the year must stand alone (not "May 09th", "May 10:30",
//!   "May 09/10"). A day and a month with no year ("09 May") gives nothing.
//! - A start is not a deadline: a date written after "from", "starting", "start(s)",
//!   "commencing", "beginning", "with effect from", "w.e.f.", "w/c", "w/b", "after" or
//!   "since" (words such as "in", "the", "early" may come between: "starting in early
//!   April 2024"), or followed by "onwards", gives no milestone, unless it opens a
//!   range ("from Jan 2024 to March 2024" is due at its end, as any range). Start
//!   wording before the colon is part of the label, which names the milestone:
//!   "Delivered from: April 2024" is a milestone called "Delivered from".
//! - A recurrence is due at its first date: a segment naming one (annually, yearly,
//!   quarterly, monthly, weekly, fortnightly, termly, thereafter) takes its first date
//!   even after start wording, so "Annually from May 2024" is due by 31 May 2024 like
//!   "Feb 2024 and annually thereafter" by 29 February 2024. The label, the segment's
//!   own text when it has none before a colon, keeps the recurrence visible.

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

/// The plan's years, which make two-digit years unambiguous: 2009 and 2010 for a
/// "2009-10" plan. Either may be unknown; both unknown (the default) means two-digit
/// years are read as [`parse_timescale`] reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanYears {
    pub first: Option<i32>,
    pub last: Option<i32>,
}

impl PlanYears {
    /// The years a period or title names: "2009-10", "2009/10", "2009-2010",
    /// "2009/2010", "2024", "April 2024 – March 2025", "2023-24 plan". Every four-digit
    /// year from 1900 to 2200 in the text counts, and a two-digit year after one and a
    /// dash or slash completes it ("2009-10" is 2009 to 2010) when that is at most ten
    /// years on and not the start of a date, so "2024-03" (a month) and the "31" of
    /// "2024 - 31/03/2025" add nothing. The first year is the earliest,
    /// the last the latest; text naming no year gives `PlanYears::default()`.
    pub fn from_period(period: &str) -> PlanYears {
        let segment = Segment::new(period, PlanYears::default());
        let mut years: Vec<i32> = Vec::new();
        for at in 0..segment.tokens.len() {
            let Some((year, 4)) = segment.number(at) else {
                continue;
            };
            let Ok(year) = i32::try_from(year) else {
                continue;
            };
            if !(1900..=2200).contains(&year) {
                continue;
            }
            years.push(year);
            // "2009-10", but not the day of "2009 - 31/03/2010".
            let dash = matches!(segment.mark(at + 1), Some('-' | '/' | '–' | '—'));
            let part_of_date = segment.joined(at + 3)
                && matches!(segment.mark(at + 3), Some('-' | '/' | '.' | ':'));
            if let (true, false, Some((short, 2))) = (dash, part_of_date, segment.number(at + 2)) {
                let short = i32::try_from(short).unwrap_or(i32::MAX);
                let later = year + 1 + (short - (year + 1)).rem_euclid(100);
                if later - year <= 10 {
                    years.push(later);
                }
            }
        }
        PlanYears {
            first: years.iter().copied().min(),
            last: years.iter().copied().max(),
        }
    }

    /// A plan within one year, e.g. the year it took effect.
    pub fn around(year: i32) -> PlanYears {
        PlanYears {
            first: Some(year),
            last: Some(year),
        }
    }

    /// The plan's first and last years in order, when at least one is known and they
    /// span less than a century (over a century, no two-digit year is unambiguous).
    fn span(self) -> Option<(i64, i64)> {
        let first = self.first.or(self.last)?;
        let last = self.last.unwrap_or(first);
        let (first, last) = (i64::from(first.min(last)), i64::from(first.max(last)));
        (last - first < 100).then_some((first, last))
    }

    /// The year ending in `short` (0 to 99) nearest the plan's years, and how many
    /// years outside them it lies. `None` when the plan's years are unknown or two
    /// years are equally near ("00" in a 2050 plan).
    fn nearest(self, short: u32) -> Option<(u32, u32)> {
        let (first, last) = self.span()?;
        let short = i64::from(short);
        if !(0..100).contains(&short) {
            return None;
        }
        // The latest year ending in `short` at or before the plan's first year; the
        // nearest is it or one of the next two, since the plan spans under a century.
        let at_or_before = first - (first - short).rem_euclid(100);
        let outside = |year: i64| (first - year).max(year - last).max(0);
        let mut candidates = [0, 100, 200].map(|step| {
            let year = at_or_before + step;
            (outside(year), year)
        });
        candidates.sort_unstable();
        let [(distance, year), (next_distance, _), _] = candidates;
        if distance == next_distance {
            return None;
        }
        Some((u32::try_from(year).ok()?, u32::try_from(distance).ok()?))
    }
}

/// How far outside the plan's years a two-digit year written apart from its month
/// ("Oct 09") may lie and still be read, because "March 31" may be a day, not 2031.
const SPACED_YEAR_REACH: u32 = 2;

/// Words before a date that make it a start, not a deadline ("from April 2024").
const START_WORDS: &[&str] = &[
    "from",
    "start",
    "starts",
    "started",
    "starting",
    "commence",
    "commences",
    "commenced",
    "commencing",
    "begin",
    "begins",
    "began",
    "beginning",
    "wef",
    "after",
    "since",
];

/// Words that may stand between start wording and its date ("starting in early April").
const BETWEEN_START_AND_DATE: &[&str] = &["in", "on", "the", "of", "early", "mid", "late", "end"];

/// Words after a date that make it a start ("April 2024 onwards").
const ONWARDS: &[&str] = &["onwards", "onward"];

/// Words that make a segment a recurrence, due at its first date.
const RECURRENCE_WORDS: &[&str] = &[
    "annually",
    "yearly",
    "quarterly",
    "monthly",
    "weekly",
    "fortnightly",
    "termly",
    "thereafter",
];

/// Parses a free-text timescale into milestones, in the order they are written.
/// Unreadable text gives an empty list, never an error. For callers that know no
/// plan year: the same as [`parse_timescale_in`] with `PlanYears::default()`.
pub fn parse_timescale(raw: &str) -> Vec<Milestone> {
    parse_timescale_in(raw, PlanYears::default())
}

/// Parses a free-text timescale into milestones, in the order they are written,
/// reading two-digit years within the plan's `years` ("Oct 09" in a 2009-10 plan is
/// 31 October 2009). Unreadable text gives an empty list, never an error.
pub fn parse_timescale_in(raw: &str, years: PlanYears) -> Vec<Milestone> {
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
                .then(|| date_in(rest, years).map(|date| (label, date)))
                .flatten()
        });
        let unlabelled = || date_in(segment, years).map(|date| (segment, date));
        if let Some((label, date)) = labelled.or_else(unlabelled) {
            milestones.push(Milestone {
                label: label.to_owned(),
                on: date_to_days(date),
            });
        }
    }
    milestones
}

/// The due date of one segment: its first date, or the end of a range it opens;
/// nothing when that first date is a start and the segment names no recurrence.
fn date_in(text: &str, years: PlanYears) -> Option<NaiveDate> {
    let segment = Segment::new(text, years);
    let mut at = 0;
    while at < segment.tokens.len() {
        match segment.date_at(at) {
            Found::NoDate => at += 1,
            Found::Impossible => return None,
            Found::Date(start, used) => {
                let range_end = segment.skip_range_words(at + used);
                if range_end != at + used {
                    match segment.date_at(range_end) {
                        Found::Date(end, _) if end >= start => return Some(end),
                        Found::Impossible => return None,
                        _ => {}
                    }
                }
                let start_only = segment.written_as_start(at, at + used) && !segment.recurs();
                return (!start_only).then_some(start);
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
mod segment;
pub use segment::month_number;
use segment::*;

#[cfg(test)]
mod tests;
