//! Continuation rows: a row with no ref and only more text is joined to the action
//! above, field by field, and the join is said in a warning so the preview shows it.
//!
//! It never joins a lead, date, status, ref or priority: those make a row an action
//! of its own.

use projections::events::ExtraField;

use super::super::columns::{refs_in, Field, Use};
use super::super::grid::Row;
use super::display_ref;
use super::reader::Reader;

impl<'a> Reader<'a> {
    /// Adds a row's text to the action above, field by field, and says so.
    pub(super) fn join_to_last(
        &mut self,
        row: &Row,
        texts: &[&str],
    ) -> Result<(), (Option<usize>, String)> {
        let columns: Vec<(usize, Use)> = self
            .columns
            .iter()
            .map(|c| (c.column - 1, c.used_as))
            .collect();
        let names: Vec<String> = (0..texts.len()).map(|i| self.extra_name(i)).collect();
        let Some(draft) = self.drafts.last_mut() else {
            return Ok(());
        };
        let action = &mut draft.action;
        let append = |field: &mut String, text: &str| {
            if !field.is_empty() {
                field.push('\n');
            }
            field.push_str(text);
        };
        let mut joined = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            let covered = row.cells.get(index).is_some_and(|c| c.covered);
            if text.is_empty() || covered {
                continue;
            }
            let used_as = columns
                .iter()
                .find(|(i, _)| *i == index)
                .map_or(Use::Keep, |c| c.1);
            match used_as {
                Use::Field(Field::Action) => append(&mut action.title, text),
                Use::Field(Field::Impact) => append(&mut action.impact, text),
                Use::Field(Field::Outcome) => append(&mut action.outcome, text),
                Use::Field(Field::Progress) => append(&mut action.progress, text),
                Use::Field(Field::CrossRefs) => action.cross_refs.extend(refs_in(text)),
                Use::Field(
                    Field::Lead | Field::Due | Field::Status | Field::Ref | Field::Priority,
                )
                | Use::Ignore => continue,
                Use::Keep => {
                    let name = names.get(index).cloned().unwrap_or_default();
                    match action.extras.iter_mut().find(|e| e.header == name) {
                        Some(extra) => append(&mut extra.text, text),
                        None => action.extras.push(ExtraField {
                            header: name,
                            text: (*text).to_owned(),
                        }),
                    }
                }
            }
            joined.push(used_as.name());
        }
        let reference = display_ref(&action.reference);
        let message = format!(
            "this row has no ref and only more text ({}); it is joined to action {reference} above",
            joined.join(", ")
        );
        self.warn(row.at, None, message);
        Ok(())
    }
}
