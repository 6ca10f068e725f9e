//! Timescales read within a plan's years: what `timescale` cannot know alone.
//!
//! A 2009-10 business plan writes "Oct 09" and "May 09⏎Sept 09": with the plan's
//! years these are October 2009, May 2009 and September 2009; without them a
//! two-digit year is not read at all, never guessed. Two more rules boards rely on:
//! - "from April 2024", "starting …", "commencing …", "with effect from …", "w/c …"
//!   is when work starts, not when it is due: that segment gives no milestone
//!   (unless it is a range, "from Jan 2024 to March 2024", read by its end).
//! - "Feb 2024 and annually thereafter", "quarterly from May 2024": a recurrence;
//!   its first date is the milestone and the label keeps the recurrence visible.
//!
//! Pure, like `timescale`, on which it builds: segment by segment, a two-digit year
//! after a month is written out in full before the segment is read, and the label
//! is the segment as written.

use crate::timescale::{parse_timescale, Milestone};

/// The years a plan covers, which make two-digit years unambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanYears {
    pub first: Option<i32>,
    pub last: Option<i32>,
}

impl PlanYears {
    /// The years named in a period or title: "2009-10", "2009/2010", "2024",
    /// "April 2024 – March 2025", "Business Plan 2023-24". Nothing if none is named.
    pub fn from_period(period: &str) -> PlanYears {
        let mut years = Vec::new();
        let bytes = period.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if digits == 4 && before_ok {
                let year: i32 = period[i..i + 4].parse().unwrap_or(0);
                if (1900..=2200).contains(&year) {
                    years.push(year);
                    // "2009-10" or "2009/10": a two-digit second year.
                    let rest = &bytes[i + 4..];
                    if rest.len() >= 3
                        && matches!(rest[0], b'-' | b'/')
                        && rest[1..3].iter().all(u8::is_ascii_digit)
                        && rest.get(3).is_none_or(|b| !b.is_ascii_digit())
                    {
                        let short: i32 = period[i + 5..i + 7].parse().unwrap_or(0);
                        years.push(
                            year - year % 100 + short + if short < year % 100 { 100 } else { 0 },
                        );
                    }
                }
            }
            i += digits.max(1);
        }
        PlanYears {
            first: years.iter().copied().min(),
            last: years.iter().copied().max(),
        }
    }

    /// A plan that starts in `year`.
    pub fn around(year: i32) -> PlanYears {
        PlanYears {
            first: Some(year),
            last: Some(year),
        }
    }

    /// The four-digit year a two-digit one means: the one nearest the plan's years.
    fn full_year(self, short: i32) -> Option<i32> {
        let first = self.first.or(self.last)?;
        let last = self.last.unwrap_or(first);
        let distance = |year: i32| {
            if year < first {
                first - year
            } else if year > last {
                year - last
            } else {
                0
            }
        };
        let century = first - first.rem_euclid(100);
        [century - 100, century, century + 100]
            .into_iter()
            .map(|c| c + short)
            .min_by_key(|&year| distance(year))
    }
}

const MONTHS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
];

/// Words that say a segment is when work starts.
const STARTS: &[&str] = &[
    "from",
    "starting",
    "commencing",
    "start",
    "beginning",
    "w/c",
];
/// Words that say a segment recurs.
const RECURS: &[&str] = &[
    "annually",
    "yearly",
    "quarterly",
    "monthly",
    "weekly",
    "thereafter",
];
/// Words that make a segment a range, read by its end.
const RANGE_WORDS: &[&str] = &["to", "until", "till", "-", "–", "through"];

/// Milestones of a timescale, reading two-digit years within `years`.
pub fn parse_timescale_in(raw: &str, years: PlanYears) -> Vec<Milestone> {
    let mut milestones = Vec::new();
    for segment in raw.split([';', '\n', '\r']) {
        let trimmed = segment.trim();
        // "Review: from April 2024" starts after its label.
        let body = trimmed.split_once(':').map_or(trimmed, |(_, rest)| rest);
        if trimmed.is_empty() || is_start_only(trimmed) || is_start_only(body) {
            continue;
        }
        let written = with_full_years(trimmed, years);
        for mut milestone in parse_timescale(&written) {
            // The label as the plan wrote it, not as rewritten.
            if milestone.label == written.trim_start_matches(['-', '*', '•', '·']).trim() {
                milestone.label = trimmed
                    .trim_start_matches(['-', '*', '•', '·'])
                    .trim()
                    .to_owned();
            }
            milestones.push(milestone);
        }
    }
    milestones
}

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// "from April 2024", "commencing Jan 2024", "with effect from …": not a deadline.
fn is_start_only(segment: &str) -> bool {
    let words = words(segment);
    let opens = match words.first().map(String::as_str) {
        Some("with") => words.get(1).is_some_and(|w| w == "effect"),
        Some(first) => STARTS.contains(&first),
        None => false,
    };
    let ranged = words
        .iter()
        .skip(1)
        .any(|w| RANGE_WORDS.contains(&w.as_str()));
    let recurs = words.iter().any(|w| RECURS.contains(&w.as_str()));
    opens && !ranged && !recurs
}

/// The segment with each "Month YY" (or "Month-YY" is left to `timescale`) written
/// as "Month YYYY" when the plan's years are known.
fn with_full_years(segment: &str, years: PlanYears) -> String {
    if years == PlanYears::default() {
        return segment.to_owned();
    }
    let tokens: Vec<&str> = segment.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let previous_is_month =
            i > 0 && MONTHS.contains(&tokens[i - 1].trim_end_matches('.').to_lowercase().as_str());
        let core = token.trim_end_matches([',', '.', ')', ';']);
        let two_digits = core.len() == 2 && core.bytes().all(|b| b.is_ascii_digit());
        match (previous_is_month && two_digits, core.parse::<i32>().ok()) {
            (true, Some(short)) => match years.full_year(short) {
                Some(full) => out.push(format!("{full}{}", &token[core.len()..])),
                None => out.push((*token).to_owned()),
            },
            _ => out.push((*token).to_owned()),
        }
    }
    out.join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::timescale::days_to_date;

    fn dates(raw: &str, years: PlanYears) -> Vec<String> {
        parse_timescale_in(raw, years)
            .iter()
            .map(|m| days_to_date(m.on).unwrap().to_string())
            .collect()
    }

    #[test]
    fn periods_name_the_plans_years() {
        let years = |p: &str| {
            let y = PlanYears::from_period(p);
            (y.first, y.last)
        };
        assert_eq!(years("2009-10"), (Some(2009), Some(2010)));
        assert_eq!(years("2009/2010"), (Some(2009), Some(2010)));
        assert_eq!(
            years("Business Plan 2023-24 (draft)"),
            (Some(2023), Some(2024))
        );
        assert_eq!(years("April 2024 – March 2025"), (Some(2024), Some(2025)));
        assert_eq!(years("1999-00"), (Some(1999), Some(2000)));
        assert_eq!(years("2024"), (Some(2024), Some(2024)));
        assert_eq!(years("next year"), (None, None));
        assert_eq!(years("ref 12345"), (None, None));
    }

    #[test]
    fn two_digit_years_are_read_within_the_plan_and_never_guessed() {
        let plan = PlanYears::from_period("2009-10");
        assert_eq!(dates("Oct 09", plan), ["2009-10-31"]);
        assert_eq!(dates("May 09\nSept 09", plan), ["2009-05-31", "2009-09-30"]);
        assert_eq!(dates("March 10.", plan), ["2010-03-31"]);
        assert_eq!(dates("Oct 09", PlanYears::around(2001)), ["2009-10-31"]);
        assert_eq!(dates("Oct 99", PlanYears::around(2001)), ["1999-10-31"]);
        // Without the plan's years, nothing is guessed.
        assert_eq!(dates("Oct 09", PlanYears::default()), Vec::<String>::new());
        // Impossible dates stay impossible; a day and month without a year is not dated.
        assert_eq!(dates("31/02/09", plan), Vec::<String>::new());
        assert_eq!(dates("09 May", plan), Vec::<String>::new());
        // The label is the text as written.
        assert_eq!(parse_timescale_in("Oct 09", plan)[0].label, "Oct 09");
    }

    #[test]
    fn starts_are_not_deadlines_and_recurrences_keep_their_first_date() {
        let plan = PlanYears::around(2024);
        assert_eq!(dates("from April 2024", plan), Vec::<String>::new());
        assert_eq!(dates("Commencing Jan 2024", plan), Vec::<String>::new());
        assert_eq!(
            dates("With effect from 1 May 2024", plan),
            Vec::<String>::new()
        );
        assert_eq!(dates("from Jan 2024 to March 2024", plan), ["2024-03-31"]);
        let recurring = parse_timescale_in("Feb 2024 and annually thereafter", plan);
        assert_eq!(recurring[0].label, "Feb 2024 and annually thereafter");
        assert_eq!(
            dates("Feb 2024 and annually thereafter", plan),
            ["2024-02-29"]
        );
        assert_eq!(dates("Quarterly from May 2024", plan), ["2024-05-31"]);
        assert_eq!(
            dates("Review: from April 2024; Report: June 2024", plan),
            ["2024-06-30"]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_adds_nothing_without_years(text in "\\PC{0,60}") {
            let _ = parse_timescale_in(&text, PlanYears::from_period(&text));
            let without = parse_timescale_in(&text, PlanYears::default());
            let plain = parse_timescale(&text);
            proptest::prop_assert!(without.iter().all(|m| plain.iter().any(|p| p.on == m.on)));
        }
    }
}
