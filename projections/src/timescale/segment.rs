//! Reading one segment of a timescale: its words and numbers as tokens, and the
//! first date (or the end of a range) in them, within the plan's years.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    kind: TokenKind<'a>,
    spaced: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum TokenKind<'a> {
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
pub(super) struct Segment<'a> {
    pub(super) tokens: Vec<Token<'a>>,
    /// The plan's years, for two-digit years.
    pub(super) years: PlanYears,
}

impl<'a> Segment<'a> {
    pub(super) fn new(text: &'a str, years: PlanYears) -> Segment<'a> {
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

    pub(super) fn number(&self, at: usize) -> Option<(u32, usize)> {
        match self.tokens.get(at)?.kind {
            TokenKind::Number { value, digits } => Some((value, digits)),
            _ => None,
        }
    }

    pub(super) fn word(&self, at: usize) -> Option<String> {
        match self.tokens.get(at)?.kind {
            TokenKind::Word(word) => Some(word.to_lowercase()),
            _ => None,
        }
    }

    pub(super) fn mark(&self, at: usize) -> Option<char> {
        match self.tokens.get(at)?.kind {
            TokenKind::Mark(mark) => Some(mark),
            _ => None,
        }
    }

    /// Whether the token at `at` follows the one before it with no space between.
    pub(super) fn joined(&self, at: usize) -> bool {
        self.tokens.get(at).is_some_and(|t| !t.spaced)
    }

    /// Whether the word at `at` begins with a capital ("May", not the verb "may").
    pub(super) fn capitalised(&self, at: usize) -> bool {
        matches!(self.tokens.get(at).map(|t| t.kind), Some(TokenKind::Word(word))
            if word.chars().next().is_some_and(char::is_uppercase))
    }

    /// Whether the word at `at` comes straight after a number ("2009 May"), or after
    /// one and a slash or dot with no space ("9/May"): a day the date before it left
    /// unread. ("9-May" is a day the date before reads; "Sept 09-March 10" a range.)
    pub(super) fn follows_number(&self, at: usize) -> bool {
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
    pub(super) fn written_as_start(&self, at: usize, end: usize) -> bool {
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
    pub(super) fn recurs(&self) -> bool {
        self.tokens.iter().any(|token| {
            matches!(token.kind, TokenKind::Word(word)
                if RECURRENCE_WORDS.iter().any(|r| word.eq_ignore_ascii_case(r)))
        })
    }

    /// The year a number written as a date's year means: four digits as written; two
    /// in the century nearest the plan's years, or this century when they are unknown.
    /// `None` when two centuries are equally near, or the plan spans a century.
    pub(super) fn full_year(&self, year: u32, digits: usize) -> Option<u32> {
        match (digits, self.years == PlanYears::default()) {
            (2, true) => Some(year.saturating_add(2000)),
            (2, false) => self.years.nearest(year).map(|(year, _)| year),
            _ => Some(year),
        }
    }

    /// "Oct 09": the year a two-digit number written apart from its month means, if it
    /// is read at all: only with the plan's years, within [`SPACED_YEAR_REACH`] of them,
    /// and standing alone (not "09th", "10:30", "09/10").
    pub(super) fn spaced_year(&self, at: usize, short: u32) -> Option<u32> {
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
    pub(super) fn skip_ordinal(&self, at: usize) -> usize {
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
    pub(super) fn skip_range_words(&self, mut at: usize) -> usize {
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

    pub(super) fn date_at(&self, at: usize) -> Found {
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
    pub(super) fn numeric_date(&self, at: usize, (first, first_digits): (u32, usize)) -> Found {
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
    pub(super) fn day_first_date(&self, at: usize, (day, digits): (u32, usize)) -> Found {
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
    pub(super) fn month_first_date(&self, at: usize, month: u32) -> Found {
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
    pub(super) fn year_after_month(&self, at: usize, spaced: bool) -> Option<(Option<u32>, usize)> {
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
    pub(super) fn quarter(&self, at: usize, word: &str) -> Found {
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
    pub(super) fn season_or_year_end(&self, at: usize, word: &str) -> Found {
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
pub(super) fn is_next_year(year: u32, (next, digits): (u32, usize)) -> bool {
    let following = year.saturating_add(1);
    (digits == 2 && next == following % 100) || (digits == 4 && next == following)
}

pub(super) fn ymd(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

pub(super) fn end_of_month(year: u32, month: u32) -> Option<NaiveDate> {
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
