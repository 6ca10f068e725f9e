//! Compound cells: a lead cell that also holds the timescale ("Sam Stabler – CSP May
//! 2024"), and a status cell (or a progress cell) that opens with a status word and
//! goes on with progress, read together with the cell's colour.
//!
//! Each reading is said: a date taken from the lead column in a note, a status word
//! read as its nearest status, a colour that disagrees with the word or matches no
//! legend colour in a warning.

use projections::timescale::{month_number, parse_timescale_in, PlanYears};

use super::super::columns::Field;
use super::super::grid::{Rgb, RowAt};
use super::super::ImportedAction;
use super::reader::Reader;
use super::{display_ref, shorten};

impl<'a> Reader<'a> {
    /// Leads, one per paragraph; a paragraph (or a trailing phrase) that is a date
    /// is the timescale, not a lead.
    pub(super) fn read_leads(&mut self, action: &mut ImportedAction, text: &str, at: RowAt) {
        let mut timescale = Vec::new();
        for part in text
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if is_date_phrase(part, self.years) {
                timescale.push(part.to_owned());
            } else if let Some((lead, date)) = trailing_date(part, self.years) {
                action.leads.push(lead.to_owned());
                timescale.push(date.to_owned());
            } else {
                action.leads.push(part.to_owned());
            }
        }
        if !timescale.is_empty() {
            let joined = timescale.join("\n");
            self.notes.push(format!(
                "{at}: {joined:?} in the lead column is read as the timescale of action {}",
                display_ref(&action.reference)
            ));
            action.due_raw = [action.due_raw.as_str(), joined.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
        }
    }

    pub(super) fn read_status(
        &mut self,
        action: &mut ImportedAction,
        text: &str,
        fill: Option<Rgb>,
        at: RowAt,
    ) {
        let column = self.column(Field::Status);
        let legend = &self.options.legend;
        let mut from_text = None;
        let mut progress_first = String::new();
        if !text.is_empty() {
            match legend.read_word(text) {
                Some(word) => {
                    if word.judged {
                        let message = format!("the status {:?} is not a RAG colour; it is read as {}, the nearest status (say otherwise with --legend \"{}=STATUS\")", word.word, word.status.label(), word.word);
                        self.warn(at, column, message);
                    }
                    from_text = Some(word.status);
                    progress_first = word.rest;
                }
                None => {
                    let message = format!("{:?} starts with no status word, so no status is read from it; the text is kept as progress (say what it means with --legend \"WORD=STATUS\")", shorten(text));
                    self.warn(at, column, message);
                    progress_first = text.to_owned();
                }
            }
        }
        // No status cell, or an empty one: a progress cell that opens with a status
        // word and a dash ("Complete – consultation responses considered") says it.
        if from_text.is_none() && fill.is_none() && text.is_empty() {
            if let Some(word) = legend.read_word(&action.progress).filter(|w| w.separated) {
                let progress_column = self.column(Field::Progress);
                let message = if word.judged {
                    format!("the progress starts with {:?}, read as the status {} (the nearest status; say otherwise with --legend \"{}=STATUS\")", word.word, word.status.label(), word.word)
                } else {
                    format!(
                        "the progress starts with {:?}, read as the status {}",
                        word.word,
                        word.status.label()
                    )
                };
                self.warn(at, progress_column, message);
                action.status = Some(word.status);
                action.progress = word.rest;
                return;
            }
        }
        let from_colour = fill.map(|f| (f, legend.colour_status(f)));
        action.status = match (from_text, from_colour) {
            (Some(status), Some((colour, Some(shown)))) if shown != status => {
                let message = format!("the status says {} but the cell is coloured {colour} ({}); it is read as {}, as written", status.label(), shown.label(), status.label());
                self.warn(at, column, message);
                Some(status)
            }
            (Some(status), _) => Some(status),
            (None, Some((_, Some(shown)))) => Some(shown),
            (None, Some((colour, None))) => {
                let message = format!("the cell is coloured {colour}, which is none of the legend's colours, so no status is read; say what it means with --legend \"{colour}=STATUS\"");
                self.warn(at, column, message);
                None
            }
            (None, None) => None,
        };
        if !progress_first.is_empty() {
            action.progress = [progress_first.as_str(), action.progress.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
        }
    }
}

/// Words besides month names that open a timescale standing in a lead cell.
const DATE_STARTS: &[&str] = &[
    "q1",
    "q2",
    "q3",
    "q4",
    "by",
    "end",
    "from",
    "ongoing",
    "quarterly",
    "annually",
    "monthly",
    "weekly",
    "throughout",
    "dates",
    "tbc",
    "spring",
    "summer",
    "autumn",
    "winter",
    "w",
    "before",
    "within",
    "immediately",
];

/// A month's name, or a word that pins a date ("Q1", "by", "end").
fn names_a_date(word: &str) -> bool {
    month_number(word).is_some() || ["q1", "q2", "q3", "q4", "by", "end"].contains(&word)
}

/// A whole lead paragraph that is a timescale: "May 2024", "Dates as in CCPS",
/// "Ongoing", "31/03/2024".
fn is_date_phrase(text: &str, years: PlanYears) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(first) = words.first() else {
        return false;
    };
    let first = first
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    let starts_like_a_date = names_a_date(&first)
        || DATE_STARTS.contains(&first.as_str())
        || first.starts_with(|c: char| c.is_ascii_digit());
    let dated = !parse_timescale_in(text, years).is_empty();
    words.len() <= 8
        && starts_like_a_date
        && (dated || !first.starts_with(|c: char| c.is_ascii_digit()))
        && (dated
            || !["by", "end", "from", "w", "before", "within"].contains(&first.as_str())
            || words.len() > 1)
}

/// "Sam Stabler – CSP May 2024" → ("Sam Stabler – CSP", "May 2024"): a lead line
/// that ends with a month and year.
fn trailing_date(text: &str, years: PlanYears) -> Option<(&str, &str)> {
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|&(i, c)| {
            !c.is_whitespace() && (i == 0 || text[..i].ends_with(char::is_whitespace))
        })
        .map(|(i, _)| i)
        .collect();
    for &start in starts.iter().rev().take(4).skip(1) {
        let (lead, date) = text.split_at(start);
        let lead = lead
            .trim_end()
            .trim_end_matches([',', '-', '–', '('])
            .trim_end();
        let first = date.split_whitespace().next().unwrap_or("").to_lowercase();
        let month_or_by = names_a_date(first.trim_end_matches('.'));
        if !lead.is_empty() && month_or_by && !parse_timescale_in(date, years).is_empty() {
            return Some((lead, date.trim()));
        }
    }
    None
}
