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
    /// The plan's years, for two-digit years.
    years: PlanYears,
}

impl<'a> Segment<'a> {
    fn new(text: &'a str, years: PlanYears) -> Segment<'a> {
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
        Segment { tokens, years }
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

    /// Whether the word at `at` begins with a capital ("May", not the verb "may").
    fn capitalised(&self, at: usize) -> bool {
        matches!(self.tokens.get(at).map(|t| t.kind), Some(TokenKind::Word(word))
            if word.chars().next().is_some_and(char::is_uppercase))
    }

    /// Whether the word at `at` comes straight after a number ("2009 May"), or after
    /// one and a slash or dot with no space ("9/May"): a day the date before it left
    /// unread. ("9-May" is a day the date before reads; "Sept 09-March 10" a range.)
    fn follows_number(&self, at: usize) -> bool {
        let Some(previous) = at.checked_sub(1) else {
            return false;
        };
        let tied_by_mark = matches!(self.mark(previous), Some('/' | '.'))
            && self.joined(previous)
            && self.joined(at)
            && previous
                .checked_sub(1)
                .is_some_and(|number| self.number(number).is_some());
        self.number(previous).is_some() || tied_by_mark
    }

    /// Whether the date in tokens `at..end` is written as a start: after start
    /// wording ("from", "w/c", "w.e.f.") or before "onwards".
    fn written_as_start(&self, at: usize, end: usize) -> bool {
        let mut before: Vec<String> = Vec::new();
        for token in self.tokens.get(..at).unwrap_or_default().iter().rev() {
            match token.kind {
                TokenKind::Number { .. } => break,
                TokenKind::Mark(_) => {}
                TokenKind::Word(word) => {
                    let word = word.to_lowercase();
                    if before.is_empty() && BETWEEN_START_AND_DATE.contains(&word.as_str()) {
                        continue;
                    }
                    before.push(word);
                    if before.len() == 3 {
                        break;
                    }
                }
            }
        }
        let before: Vec<&str> = before.iter().map(String::as_str).collect();
        let after_start = match before.as_slice() {
            [word, ..] if START_WORDS.contains(word) => true,
            ["c" | "b", "w", ..] | ["f", "e", "w", ..] => true,
            _ => false,
        };
        let onwards = self
            .tokens
            .get(end..)
            .unwrap_or_default()
            .iter()
            .find_map(|token| match token.kind {
                TokenKind::Mark(_) => None,
                TokenKind::Word(word) if word.eq_ignore_ascii_case("and") => None,
                TokenKind::Word(word) => Some(ONWARDS.iter().any(|o| word.eq_ignore_ascii_case(o))),
                TokenKind::Number { .. } => Some(false),
            })
            .unwrap_or(false);
        after_start || onwards
    }

    /// Whether the segment names a recurrence ("annually", "thereafter").
    fn recurs(&self) -> bool {
        self.tokens.iter().any(|token| {
            matches!(token.kind, TokenKind::Word(word)
                if RECURRENCE_WORDS.iter().any(|r| word.eq_ignore_ascii_case(r)))
        })
    }

    /// The year a number written as a date's year means: four digits as written; two
    /// in the century nearest the plan's years, or this century when they are unknown.
    /// `None` when two centuries are equally near, or the plan spans a century.
    fn full_year(&self, year: u32, digits: usize) -> Option<u32> {
        match (digits, self.years == PlanYears::default()) {
            (2, true) => Some(year.saturating_add(2000)),
            (2, false) => self.years.nearest(year).map(|(year, _)| year),
            _ => Some(year),
        }
    }

    /// "Oct 09": the year a two-digit number written apart from its month means, if it
    /// is read at all: only with the plan's years, within [`SPACED_YEAR_REACH`] of them,
    /// and standing alone (not "09th", "10:30", "09/10").
    fn spaced_year(&self, at: usize, short: u32) -> Option<u32> {
        let (year, outside) = self.years.nearest(short)?;
        let stands_alone = match self.tokens.get(at + 1) {
            None => true,
            Some(next) if next.spaced => true,
            Some(Token {
                kind: TokenKind::Mark(mark),
                ..
            }) => {
                let joins_number = self.joined(at + 2) && self.number(at + 2).is_some();
                !(matches!(mark, ':' | '.' | '/' | '-' | '–' | '—') && joins_number)
            }
            Some(_) => false,
        };
        (outside <= SPACED_YEAR_REACH && stands_alone).then_some(year)
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
                let year = self.full_year(third, third_digits);
                Found::from(year.and_then(|year| ymd(year, second, first)), 5)
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
        match (month, self.year_after_month(next + 1, true)) {
            (Some(month), Some((year, used))) => Found::from(
                year.and_then(|year| ymd(year, month, day)),
                next + 1 + used - at,
            ),
            _ => Found::NoDate,
        }
    }

    /// "March 31, 2024" or "March 31st 2024", else a month alone: "May 2024",
    /// "Sept. 2024", "Mar-24", "Mar '24", and with the plan's years "Oct 09".
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
        // "9 May 10" was the date before's to read; "may 10" is the verb.
        let spaced_year = self.capitalised(at) && !self.follows_number(at);
        match self.year_after_month(next, spaced_year) {
            Some((year, used)) => Found::from(
                year.and_then(|year| end_of_month(year, month)),
                next + used - at,
            ),
            None => Found::NoDate,
        }
    }

    /// The year written after a month name, and how many tokens it used: "2024",
    /// ", 2024", a two-digit year tied on by a dash or apostrophe ("Mar-24"), or when
    /// `spaced` allows, one written apart ("Oct 09"). The year is `None` when it is
    /// plainly written but cannot be told (two centuries equally near the plan).
    fn year_after_month(&self, at: usize, spaced: bool) -> Option<(Option<u32>, usize)> {
        match (self.mark(at), self.number(at), self.number(at + 1)) {
            (_, Some((year, 4)), _) => Some((Some(year), 1)),
            (_, Some((short, 2)), _) if spaced => {
                self.spaced_year(at, short).map(|year| (Some(year), 1))
            }
            (Some(',' | '-'), _, Some((year, 4))) => Some((Some(year), 2)),
            (Some('-' | '\'' | '’'), _, Some((year, 2))) if self.joined(at + 1) => {
                Some((self.full_year(year, 2), 2))
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
/// The month a word names ("Sept", "march"), 1-based: any prefix of three letters or
/// more of a month's name.
pub fn month_number(word: &str) -> Option<u32> {
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
        // Without the plan's years a two-digit year written apart is not read, and a
        // day and month with no year is not a date; tied on, it is this century's.
        ("Oct 09", &[]),
        ("May 09\nSept 09", &[]),
        ("09 May", &[]),
        ("Mar-09", &[("Mar-09", "2009-03-31")]),
        // A start is not a deadline: no milestone, unless it opens a range.
        ("from April 2024", &[]),
        ("From April 2024", &[]),
        ("starting April 2024", &[]),
        ("Starting in April 2024", &[]),
        ("commencing Jan 2024", &[]),
        ("Commencing on 1st April 2024", &[]),
        ("with effect from 1 April 2024", &[]),
        ("w.e.f. 1 April 2024", &[]),
        ("wef 1/4/2024", &[]),
        ("w/c 5 Feb 2024", &[]),
        ("W/B 5 Feb 2024", &[]),
        ("from early April 2024", &[]),
        ("April 2024 onwards", &[]),
        ("April 2024 - onwards", &[]),
        ("since April 2024", &[]),
        ("after March 2024", &[]),
        ("by the start of April 2024", &[]),
        ("from Jan 2024 until further notice", &[]),
        ("from Jan 2024 - ongoing", &[]),
        ("from Jan 2025 - Jan 2024", &[]),
        (
            "from Jan 2024 to March 2024",
            &[("from Jan 2024 to March 2024", "2024-03-31")],
        ),
        (
            "from Jan 2024 - March 2024",
            &[("from Jan 2024 - March 2024", "2024-03-31")],
        ),
        (
            "w/c 5 Feb 2024 - 9 Feb 2024",
            &[("w/c 5 Feb 2024 - 9 Feb 2024", "2024-02-09")],
        ),
        (
            "Review: from April 2024; Report: June 2024",
            &[("Report", "2024-06-30")],
        ),
        // Start wording in the label names the milestone; start wording apart from
        // the date does not make it a start.
        (
            "Delivered from: April 2024",
            &[("Delivered from", "2024-04-30")],
        ),
        (
            "Feedback from partners May 2024",
            &[("Feedback from partners May 2024", "2024-05-31")],
        ),
        (
            "Launch in April 2024",
            &[("Launch in April 2024", "2024-04-30")],
        ),
        // A recurrence is due at its first date, even after start wording, and its
        // label keeps the recurrence visible.
        (
            "March 2024 then quarterly",
            &[("March 2024 then quarterly", "2024-03-31")],
        ),
        (
            "Annually from May 2024",
            &[("Annually from May 2024", "2024-05-31")],
        ),
        (
            "from April 2024 and monthly thereafter",
            &[("from April 2024 and monthly thereafter", "2024-04-30")],
        ),
        (
            "Quarterly from April 2024 onwards",
            &[("Quarterly from April 2024 onwards", "2024-04-30")],
        ),
        (
            "Six-monthly, starting Oct 2024",
            &[("Six-monthly, starting Oct 2024", "2024-10-31")],
        ),
        (
            "Quarterly report: from April 2024",
            &[("Quarterly report: from April 2024", "2024-04-30")],
        ),
        (
            "Quarterly from Jan 2024 to Dec 2024",
            &[("Quarterly from Jan 2024 to Dec 2024", "2024-12-31")],
        ),
        ("Annual review from April 2024", &[]),
    ];

    /// Milestones as (label, ISO date).
    type Expected = &'static [(&'static str, &'static str)];

    /// Timescales in a plan whose period is written as the first item, and the
    /// milestones they must give. The same text may read differently in another plan.
    const IN_PLAN_YEARS: &[(&str, &str, Expected)] = &[
        ("2009-10", "Oct 09", &[("Oct 09", "2009-10-31")]),
        (
            "2009-10",
            "May 09\nSept 09",
            &[("May 09", "2009-05-31"), ("Sept 09", "2009-09-30")],
        ),
        ("2009-10", "Sept. 09", &[("Sept. 09", "2009-09-30")]),
        ("2009-10", "(Oct 09)", &[("(Oct 09)", "2009-10-31")]),
        ("2009-10", "OCT 09", &[("OCT 09", "2009-10-31")]),
        ("2009-10", "Oct09", &[("Oct09", "2009-10-31")]),
        ("2009-10", "March 10.", &[("March 10.", "2010-03-31")]),
        ("2009-10", "Jan 2010", &[("Jan 2010", "2010-01-31")]),
        (
            "2009-10",
            "May 09 - Sept 09",
            &[("May 09 - Sept 09", "2009-09-30")],
        ),
        (
            "2009-10",
            "Sept 09-March 10",
            &[("Sept 09-March 10", "2010-03-31")],
        ),
        ("2009-10", "9/May 10", &[]),
        ("2009-10", "2009 May 10", &[]),
        ("2009-10", "Oct 09 onwards", &[]),
        (
            "2009-10",
            "Audit: Oct 09; Report: Mar 10",
            &[("Audit", "2009-10-31"), ("Report", "2010-03-31")],
        ),
        // Two years beyond the plan, written apart, is still read; three is not,
        // because "March 31" may be a day.
        ("2009-10", "Oct 12", &[("Oct 12", "2012-10-31")]),
        ("2009-10", "Oct 06", &[]),
        ("2009-10", "Oct 13", &[]),
        ("2024-25", "March 31", &[]),
        (
            "2024-25",
            "March 31, 2025",
            &[("March 31, 2025", "2025-03-31")],
        ),
        // Forms tied to their month or day: the century nearest the plan, any distance.
        ("2009-10", "Mar-09", &[("Mar-09", "2009-03-31")]),
        ("2009-10", "Mar '10", &[("Mar '10", "2010-03-31")]),
        ("2009-10", "31/03/10", &[("31/03/10", "2010-03-31")]),
        ("2009-10", "31.03.10", &[("31.03.10", "2010-03-31")]),
        ("2009-10", "31-Mar-10", &[("31-Mar-10", "2010-03-31")]),
        ("2009-10", "Mar-24", &[("Mar-24", "2024-03-31")]),
        ("2009-10", "Mar 24", &[]),
        ("2024", "Mar-24", &[("Mar-24", "2024-03-31")]),
        ("2024", "Mar 24", &[("Mar 24", "2024-03-31")]),
        ("2001", "Oct 99", &[("Oct 99", "1999-10-31")]),
        ("2001", "Mar-99", &[("Mar-99", "1999-03-31")]),
        ("2001", "31/03/99", &[("31/03/99", "1999-03-31")]),
        ("1999-00", "Jan 00", &[("Jan 00", "2000-01-31")]),
        // A day before the month makes a day, month and year.
        ("2009-10", "31 Mar 10", &[("31 Mar 10", "2010-03-31")]),
        ("2009-10", "9th May 10", &[("9th May 10", "2010-05-09")]),
        // Never a guess, never a wrong date.
        ("2009-10", "09 May", &[]),
        ("2009-10", "31/02/09", &[]),
        ("2009-10", "30 Feb 10", &[]),
        ("2009-10", "May 09th", &[]),
        ("2009-10", "May 10:30", &[]),
        ("2009-10", "May 09/10", &[]),
        ("2009-10", "may 10", &[]),
        ("2009-10", "Oct 9", &[]),
        ("2009-10", "03/10", &[]),
        ("2050", "Mar-00", &[]),
        ("2050", "Mar-00 then May 2050", &[]),
        ("next year", "Oct 09", &[]),
        ("next year", "Mar-09", &[("Mar-09", "2009-03-31")]),
        // Starts and recurrences, as without the plan's years.
        ("2009-10", "from April 2009", &[]),
        ("2009-10", "from Oct 09", &[]),
        (
            "2009-10",
            "from Oct 09 to Mar 10",
            &[("from Oct 09 to Mar 10", "2010-03-31")],
        ),
        (
            "2009-10",
            "Annually from May 09",
            &[("Annually from May 09", "2009-05-31")],
        ),
        (
            "2009-10",
            "March 2010 and annually thereafter",
            &[("March 2010 and annually thereafter", "2010-03-31")],
        ),
        (
            "2023-24",
            "Feb 2024 and annually thereafter",
            &[("Feb 2024 and annually thereafter", "2024-02-29")],
        ),
        ("2024-25", "Dates as in CCPS", &[]),
        ("2024-25", "May 2024", &[("May 2024", "2024-05-31")]),
    ];

    /// Periods as plans write them, and the years they name.
    const PERIODS: &[(&str, Option<i32>, Option<i32>)] = &[
        ("2009-10", Some(2009), Some(2010)),
        ("2009/10", Some(2009), Some(2010)),
        ("2009-2010", Some(2009), Some(2010)),
        ("2009/2010", Some(2009), Some(2010)),
        ("2009 - 10", Some(2009), Some(2010)),
        ("2009–10", Some(2009), Some(2010)),
        ("2024", Some(2024), Some(2024)),
        ("April 2024 – March 2025", Some(2024), Some(2025)),
        ("2023-24 plan", Some(2023), Some(2024)),
        ("Business Plan 2023-24 (draft)", Some(2023), Some(2024)),
        ("01/04/2024 - 31/03/2025", Some(2024), Some(2025)),
        ("2024 - 31/03/2025", Some(2024), Some(2025)),
        ("2024-04-01 to 2025-03-31", Some(2024), Some(2025)),
        ("1999-00", Some(1999), Some(2000)),
        ("2020-25", Some(2020), Some(2025)),
        ("2025 - 2024", Some(2024), Some(2025)),
        // A two-digit "year" more than ten years on is not a second year.
        ("2024-03", Some(2024), Some(2024)),
        ("2009-09", Some(2009), Some(2009)),
        ("", None, None),
        ("next year", None, None),
        ("FY09/10", None, None),
        ("ref 12345", None, None),
        ("1850", None, None),
    ];

    fn as_written(milestones: &[Milestone]) -> Vec<(String, String)> {
        milestones
            .iter()
            .map(|m| (m.label.clone(), days_to_date(m.on).unwrap().to_string()))
            .collect()
    }

    fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(label, date)| ((*label).to_owned(), (*date).to_owned()))
            .collect()
    }

    #[test]
    fn timescales_from_real_plans_give_these_milestones() {
        for (raw, expected) in TIMESCALES {
            assert_eq!(
                as_written(&parse_timescale(raw)),
                owned(expected),
                "timescale {raw:?}"
            );
            assert_eq!(
                as_written(&parse_timescale_in(raw, PlanYears::default())),
                owned(expected),
                "timescale {raw:?} with no plan years"
            );
        }
    }

    #[test]
    fn timescales_in_a_plans_years_give_these_milestones() {
        for (period, raw, expected) in IN_PLAN_YEARS {
            let years = PlanYears::from_period(period);
            assert_eq!(
                as_written(&parse_timescale_in(raw, years)),
                owned(expected),
                "timescale {raw:?} in a {period:?} plan"
            );
        }
    }

    #[test]
    fn periods_name_the_plans_years() {
        for (period, first, last) in PERIODS {
            assert_eq!(
                PlanYears::from_period(period),
                PlanYears {
                    first: *first,
                    last: *last
                },
                "period {period:?}"
            );
        }
        assert_eq!(
            PlanYears::around(2001),
            PlanYears {
                first: Some(2001),
                last: Some(2001)
            }
        );
    }

    #[test]
    fn plan_years_known_in_part_or_out_of_order_still_read() {
        let table = [
            (Some(2009), None, "2009-10-31"),
            (None, Some(2009), "2009-10-31"),
            (Some(2010), Some(2009), "2009-10-31"),
            (Some(2102), Some(2110), "2109-10-31"),
        ];
        for (first, last, date) in table {
            let years = PlanYears { first, last };
            assert_eq!(
                as_written(&parse_timescale_in("Oct 09", years)),
                owned(&[("Oct 09", date)]),
                "{years:?}"
            );
        }
        // Plans spanning a century, or beyond any calendar, read no two-digit year.
        let unreadable = [
            (Some(1950), Some(2050)),
            (Some(i32::MIN), Some(i32::MAX)),
            (Some(i32::MAX), None),
            (None, Some(i32::MIN)),
        ];
        for (first, last) in unreadable {
            let years = PlanYears { first, last };
            for raw in ["Oct 09", "Mar-09", "31/03/09"] {
                assert_eq!(parse_timescale_in(raw, years), [], "{raw:?} in {years:?}");
            }
            assert_eq!(
                as_written(&parse_timescale_in("May 2024", years)),
                owned(&[("May 2024", "2024-05-31")])
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
        fn any_text_in_any_plan_parses_without_panicking_to_real_dates(
            raw in "\\PC{0,120}",
            first in proptest::option::of(proptest::num::i32::ANY),
            last in proptest::option::of(1800i32..2300),
        ) {
            let _ = PlanYears::from_period(&raw);
            for milestone in parse_timescale_in(&raw, PlanYears { first, last }) {
                proptest::prop_assert!(days_to_date(milestone.on).is_some());
            }
        }

        #[test]
        fn date_like_text_in_a_plan_never_panics(
            raw in "[0-9MayOctSeptfromw/c.\\- :;'’,\n]{0,60}",
            first in 1850i32..2250,
            length in 0i32..5,
        ) {
            let years = PlanYears { first: Some(first), last: Some(first + length) };
            let _ = parse_timescale_in(&raw, years);
            let _ = PlanYears::from_period(&raw);
        }

        #[test]
        fn without_plan_years_nothing_is_added(raw in "\\PC{0,80}|[0-9MayOct/.\\- :;',\n]{0,40}") {
            let plain = parse_timescale(&raw);
            let without = parse_timescale_in(&raw, PlanYears::default());
            for milestone in &without {
                proptest::prop_assert!(plain.contains(milestone), "{:?} added", milestone);
            }
            proptest::prop_assert_eq!(without, plain);
        }

        /// The plan's years only ever change how two-digit years are read: text with
        /// none reads the same in any plan.
        #[test]
        fn plan_years_change_only_two_digit_years(
            raw in "[0-9MayOctSeptfrom/.\\- :;',\n]{0,60}",
            first in 1850i32..2250,
            length in 0i32..5,
        ) {
            // Every run of exactly two digits gets a third, so none is left.
            let mut text = String::new();
            let mut run = String::new();
            for c in raw.chars().chain(std::iter::once(' ')) {
                if c.is_ascii_digit() {
                    run.push(c);
                    continue;
                }
                if run.len() == 2 {
                    text.push('1');
                }
                text.push_str(&run);
                run.clear();
                text.push(c);
            }
            let years = PlanYears { first: Some(first), last: Some(first + length) };
            proptest::prop_assert_eq!(parse_timescale_in(&text, years), parse_timescale(&text));
        }

        /// A two-digit year is read in the century nearest the plan: tied to its month
        /// or day at any distance under fifty years, written apart within two.
        #[test]
        fn two_digit_years_read_back_nearest_the_plan(
            year in 1905i32..2195,
            month in 1u32..13,
            day in 1u32..29,
            far in -49i32..50,
            near in -2i32..3,
        ) {
            const NAMES: [&str; 12] = [
                "January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December",
            ];
            let name = NAMES[usize::try_from(month - 1).unwrap()];
            let short = year.rem_euclid(100);
            let end = u32::try_from(year).ok().and_then(|y| end_of_month(y, month)).unwrap();
            let on_day = NaiveDate::from_ymd_opt(year, month, day).unwrap();
            let read = |raw: &str, plan: i32| {
                parse_timescale_in(raw, PlanYears::around(plan))
                    .iter()
                    .map(|m| m.on)
                    .collect::<Vec<_>>()
            };
            let tied = [
                (format!("{}-{short:02}", &name[..3]), end),
                (format!("{name} '{short:02}"), end),
                (format!("{day:02}/{month:02}/{short:02}"), on_day),
                (format!("{day}-{}-{short:02}", &name[..3]), on_day),
            ];
            for (raw, date) in &tied {
                let expected = vec![date_to_days(*date)];
                proptest::prop_assert_eq!(read(raw, year + far), expected, "{}", raw);
            }
            let apart = [
                (format!("{name} {short:02}"), end),
                (format!("{} {short:02}", &name[..3]), end),
                (format!("{day} {name} {short:02}"), on_day),
            ];
            for (raw, date) in &apart {
                let expected = vec![date_to_days(*date)];
                proptest::prop_assert_eq!(read(raw, year + near), expected, "{}", raw);
                if far.unsigned_abs() > SPACED_YEAR_REACH {
                    proptest::prop_assert_eq!(read(raw, year + far), Vec::<i32>::new(), "{}", raw);
                }
            }
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
