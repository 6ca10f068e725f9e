//! Priority rows: headings ("1. Priority: …", "Priority objective 2 – …", "3) …")
//! with their keys and titles, the Aim and Outcome rows that describe a priority,
//! and which priority each action falls under — the heading above it, or the one its
//! ref's first part names.
//!
//! An action filed under a heading its ref disagrees with is warned about, never
//! silently moved.

use super::super::columns::normalise_header;
use super::super::grid::RowAt;
use super::reader::{Priority, Reader};

/// Words that open a priority heading, before its number.
const PRIORITY_WORDS: &[&str] = &[
    "strategic priority",
    "priority objective",
    "priority area",
    "key priority",
    "priority",
    "strategic objective",
    "objective",
    "section",
    "theme",
];

/// A priority heading: "1. Priority: Development of …", "Priority objective 1: To
/// reduce …", "Priority 3 – Reduce …", "2) Safeguarding …". Gives the number (the
/// priority's key) when the heading has one, and the title without it.
pub(super) fn priority_heading(text: &str) -> Option<(Option<String>, String)> {
    priority_heading_worded(text).map(|(key, title, _)| (key, title))
}

/// As [`priority_heading`], and whether the heading says "Priority", "Objective" …
/// (rather than only starting with a number, as an action's text may).
pub(super) fn priority_heading_worded(text: &str) -> Option<(Option<String>, String, bool)> {
    let trimmed = text.trim();
    let lower = trimmed.to_lowercase();
    for word in PRIORITY_WORDS {
        let Some(after) = lower.strip_prefix(word) else {
            continue;
        };
        if !after.is_empty()
            && !after.starts_with(|c: char| c.is_whitespace() || c == ':' || c == '-' || c == '–')
        {
            continue;
        }
        let rest = &trimmed[trimmed.len() - after.len()..];
        let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ':');
        let (number, title) = number_prefix(rest, false).unwrap_or((None, rest));
        let title = strip_label(title);
        let title = if title.is_empty() { trimmed } else { title };
        return Some((number, title.to_owned(), true));
    }
    let (number, title) = number_prefix(trimmed, true)?;
    let stripped = strip_label(title);
    let worded = stripped.len() < title.len();
    let title = if stripped.is_empty() {
        trimmed
    } else {
        stripped
    };
    Some((number, title.to_owned(), worded))
}

/// "1. Rest" / "1: Rest" / "1) Rest" (and with `marked` false also "1 Rest"): the
/// number, at most two digits, and the rest.
fn number_prefix(text: &str, marked: bool) -> Option<(Option<String>, &str)> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let (number, rest) = text.split_at(digits);
    let mark = rest.starts_with(['.', ':', ')', '-', '–']);
    if marked && !mark {
        return None;
    }
    // "1.2 …" is an action's ref, not a heading.
    if rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_start_matches(['.', ':', ')', '-', '–']);
    if !rest.starts_with(char::is_whitespace) && !rest.is_empty() {
        return None;
    }
    Some((Some(number.to_owned()), rest.trim()))
}

/// "Priority: Development …" → "Development …".
fn strip_label(title: &str) -> &str {
    let lower = title.to_lowercase();
    for word in ["priority objective", "priority"] {
        if let Some(after) = lower.strip_prefix(word) {
            if after.trim_start().starts_with([':', '-', '–']) {
                return title[title.len() - after.len()..]
                    .trim_start()
                    .trim_start_matches([':', '-', '–'])
                    .trim();
            }
        }
    }
    title
}

/// Labels of the rows that describe a priority rather than act on it.
const DESCRIPTION_LABELS: &[&str] = &[
    "aim",
    "aims",
    "strategic aim",
    "link to strategic aim",
    "link to",
    "links to",
    "linked to",
    "outcome",
    "outcomes",
    "desired outcome",
    "intended outcome",
    "identified improvement area",
    "rationale",
    "purpose",
    "why",
];

/// "Aim: …", "Link to strategic aim – …", "Outcome: …".
pub(super) fn is_description(text: &str) -> bool {
    let Some((label, rest)) = text.split_once([':', '–', '-']) else {
        return false;
    };
    !rest.trim().is_empty() && is_description_label(label)
}

pub(super) fn is_description_label(label: &str) -> bool {
    let label = normalise_header(label);
    DESCRIPTION_LABELS.contains(&label.as_str())
        || label.starts_with("link to ")
        || label.starts_with("linked to ")
}

impl<'a> Reader<'a> {
    pub(super) fn start_priority(&mut self, key: Option<String>, title: String) {
        // A heading repeated for a priority already started (a new table, "continued")
        // continues it.
        if let Some(existing) = key.as_ref().and_then(|k| {
            self.priorities
                .iter()
                .position(|p| p.key.as_ref() == Some(k) && !p.implicit)
        }) {
            self.current_priority = Some(existing);
            return;
        }
        self.priorities.push(Priority {
            key,
            title,
            description: Vec::new(),
            implicit: false,
        });
        self.current_priority = Some(self.priorities.len() - 1);
    }

    pub(super) fn describe(&mut self, text: &str) {
        if let Some(priority) = self
            .current_priority
            .and_then(|i| self.priorities.get_mut(i))
        {
            priority.description.push(text.to_owned());
        }
    }

    /// The priority an action with `reference` falls under: the heading above it,
    /// or (with no heading) the priority its ref's first part names.
    pub(super) fn priority_for(
        &mut self,
        reference: &str,
        priority_cell: &str,
        at: RowAt,
    ) -> usize {
        let major = reference.split('.').next().unwrap_or(reference);
        if let Some(current) = self.current_priority {
            if let Some(priority) = self.priorities.get_mut(current) {
                match &priority.key {
                    None if !reference.is_empty() => {
                        let used = self
                            .priorities
                            .iter()
                            .any(|p| p.key.as_deref() == Some(major));
                        if !used {
                            self.priorities[current].key = Some(major.to_owned());
                        }
                    }
                    // Its ref and its priority cell both name another priority:
                    // the heading's rows have ended.
                    Some(key)
                        if !priority.implicit
                            && key != major
                            && reference.contains('.')
                            && !priority_cell.is_empty() =>
                    {
                        self.current_priority = None;
                    }
                    Some(key)
                        if !priority.implicit
                            && !reference.is_empty()
                            && key != major
                            && reference.contains('.') =>
                    {
                        let message = format!("action {reference} is under the heading of priority {key}; it is filed under priority {key}, as the file lays it out, although its ref starts {major}");
                        self.warn(at, None, message);
                    }
                    _ => {}
                }
            }
            if let Some(current) = self.current_priority {
                if !self.priorities.get(current).is_some_and(|p| p.implicit) {
                    return current;
                }
            }
        }
        // An action with no ref and no heading above it sits with the action above.
        if reference.is_empty() {
            if let Some(last) = self.drafts.last() {
                return last.priority;
            }
        }
        let key = if reference.is_empty() { "0" } else { major };
        let existing = self
            .priorities
            .iter()
            .position(|p| p.implicit && p.key.as_deref() == Some(key));
        let index = existing.unwrap_or_else(|| {
            self.priorities.push(Priority {
                key: Some(key.to_owned()),
                title: String::new(),
                description: Vec::new(),
                implicit: true,
            });
            self.priorities.len() - 1
        });
        if let Some(priority) = self.priorities.get_mut(index) {
            if priority.title.is_empty() && !priority_cell.is_empty() {
                priority.title = priority_cell.to_owned();
            }
        }
        index
    }
}
