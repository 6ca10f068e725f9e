//! Finishing the plan once every row is read: keys for headings without a number,
//! refs for actions without one (the priority's key and a letter), timescales read
//! into milestones, cross-references to refs the plan lacks, and implicit priorities
//! with no actions left out.
//!
//! Every ref or key it gives is said in a warning, so the user can choose another.

use std::collections::HashSet;

use projections::timescale::parse_timescale_in;

use super::super::grid::RowAt;
use super::super::{ImportedPlan, ImportedPriority, Warning};
use super::reader::{Priority, Reader};

impl<'a> Reader<'a> {
    pub(super) fn finish(
        mut self,
        source: String,
        mut notes: Vec<String>,
        title_block: Vec<String>,
    ) -> ImportedPlan {
        // Keys for headings that had no number and no action with a ref under them.
        let mut next = self
            .priorities
            .iter()
            .filter_map(|p| p.key.as_deref()?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        for priority in &mut self.priorities {
            if priority.key.is_none() {
                next += 1;
                priority.key = Some(next.to_string());
            }
        }
        let key_of = |index: usize, priorities: &[Priority]| {
            priorities
                .get(index)
                .and_then(|p| p.key.clone())
                .unwrap_or_default()
        };
        // Refs for actions that had none: the priority key plus a letter.
        let mut used: HashSet<String> = self
            .drafts
            .iter()
            .map(|d| d.action.reference.clone())
            .collect();
        let mut warnings = Vec::new();
        for draft in &mut self.drafts {
            let key = key_of(draft.priority, &self.priorities);
            draft.action.priority_key = key.clone();
            if draft.needs_ref {
                let reference = (0..)
                    .map(|n| format!("{key}{}", letters(n)))
                    .find(|r| !used.contains(r))
                    .unwrap_or_default();
                used.insert(reference.clone());
                warnings.push(Warning {
                    at: Some(draft.action.at.to_string()),
                    message: format!("the action has no ref; it is given {reference} (its priority's key and a letter); give it a ref in the file to choose another"),
                });
                draft.action.reference = reference;
            }
        }
        self.warnings.extend(warnings);
        let known: HashSet<String> = self
            .drafts
            .iter()
            .map(|d| d.action.reference.clone())
            .collect();
        for draft in &mut self.drafts {
            let action = &mut draft.action;
            action.milestones = parse_timescale_in(&action.due_raw, self.years);
            let unknown: Vec<&str> = action
                .cross_refs
                .iter()
                .filter(|r| !known.contains(*r))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                self.warnings.push(Warning {
                    at: Some(action.at.to_string()),
                    message: format!("action {} refers to {}, which the plan does not have; the cross-reference is kept as written", action.reference, unknown.join(", ")),
                });
            }
        }
        if !self.repeated_headers.is_empty() {
            let rows: Vec<String> = self.repeated_headers.iter().map(RowAt::to_string).collect();
            notes.push(format!("repeated header rows skipped: {}", rows.join(", ")));
        }
        notes.extend(self.notes);
        let priorities = self
            .priorities
            .into_iter()
            .filter(|p| {
                !p.implicit
                    || self
                        .drafts
                        .iter()
                        .any(|d| d.action.priority_key == p.key.clone().unwrap_or_default())
            })
            .map(|p| {
                let key = p.key.unwrap_or_default();
                ImportedPriority {
                    title: if p.title.is_empty() {
                        format!("Priority {key}")
                    } else {
                        p.title
                    },
                    description: p.description.join("\n"),
                    key,
                }
            })
            .collect();
        ImportedPlan {
            source,
            notes,
            title_block,
            columns: self.first_columns,
            later_columns: self.later_columns,
            priorities,
            actions: self.drafts.into_iter().map(|d| d.action).collect(),
            warnings: self.warnings,
        }
    }
}

/// a, b, … z, aa, ab …
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
