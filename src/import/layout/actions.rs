//! Action rows: an action's ref (its own column, or leading its text), its fields,
//! the columns kept as extra fields, and whether a row is instead more of the action
//! above. A duplicated or unusable ref, or a row with no action text, is refused.
//!
//! Every cell with text ends up somewhere: a field, an extra field named by its
//! header or position, or a warning.

use projections::events::ExtraField;

use super::super::columns::{is_usable_ref, leading_ref, refs_in, Field, Use};
use super::super::grid::{column_letters, Row};
use super::super::status::is_blank_fill;
use super::super::ImportedAction;
use super::reader::{Draft, Reader};

impl<'a> Reader<'a> {
    pub(super) fn read_action_row(
        &mut self,
        row: &Row,
        texts: &[&str],
    ) -> Result<(), (Option<usize>, String)> {
        let fields = self.field_columns();
        let column = |field: Field| fields.get(field);
        let cell = |field: Field| {
            column(field)
                .and_then(|i| texts.get(i).copied())
                .unwrap_or("")
        };
        let action_text = cell(Field::Action);
        let ref_cell = cell(Field::Ref).trim_end_matches('.');
        let ref_covered = column(Field::Ref)
            .and_then(|i| row.cells.get(i))
            .is_some_and(|c| c.covered);
        let (reference, title) = match leading_ref(action_text) {
            Some((found, rest)) if ref_cell.is_empty() || ref_cell == found => (found, rest),
            _ => (ref_cell, action_text),
        };
        // Cells past the header: kept as extra fields of their own (sheets, Word).
        for (index, text) in texts.iter().enumerate().skip(self.headers.len()) {
            if !text.is_empty() && self.stray_columns.insert(index) {
                self.warn(row.at, Some(index), "a value in a column with no header; the column is kept as an extra field named by its position".to_owned());
            }
        }
        let status_cell = column(Field::Status).and_then(|i| row.cells.get(i));
        let status_fill = status_cell
            .and_then(|c| c.fill)
            .filter(|f| !is_blank_fill(*f));
        let schedule = !cell(Field::Lead).is_empty()
            || !cell(Field::Due).is_empty()
            || !cell(Field::Status).is_empty()
            || status_fill.is_some();
        let last_ref = self.drafts.last().map(|d| d.action.reference.clone());
        let continues = match &last_ref {
            Some(last) if ref_covered && reference == last => true,
            Some(_) => reference.is_empty() && !schedule,
            None => false,
        };
        if continues {
            return self.join_to_last(row, texts);
        }
        if title.is_empty() {
            let message = "no action text; every row needs the action it describes, so fill it in or delete the row".to_owned();
            return Err((column(Field::Action), message));
        }
        if !reference.is_empty() && !is_usable_ref(reference) {
            let message = format!("ref {reference:?} cannot be used; a ref is up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, such as 1.4 or A2");
            return Err((column(Field::Ref).or(column(Field::Action)), message));
        }
        if !reference.is_empty() {
            if let Some(first) = self.rows_by_ref.get(reference) {
                let message = format!("ref {reference} is also used on {first}; give each action its own ref and import again");
                return Err((column(Field::Ref).or(column(Field::Action)), message));
            }
            self.rows_by_ref.insert(reference.to_owned(), row.at);
        }
        let priority = self.priority_for(reference, cell(Field::Priority), row.at);
        let mut action = ImportedAction {
            at: row.at,
            reference: reference.to_owned(),
            priority_key: String::new(),
            title: title.to_owned(),
            impact: cell(Field::Impact).to_owned(),
            outcome: cell(Field::Outcome).to_owned(),
            leads: Vec::new(),
            lead_agencies: Vec::new(),
            due_raw: cell(Field::Due).to_owned(),
            milestones: Vec::new(),
            status: None,
            progress: cell(Field::Progress).to_owned(),
            cross_refs: refs_in(cell(Field::CrossRefs)),
            extras: Vec::new(),
        };
        self.read_leads(&mut action, cell(Field::Lead), row.at);
        self.read_status(&mut action, cell(Field::Status), status_fill, row.at);
        action.extras = self.extras(texts);
        self.drafts.push(Draft {
            action,
            priority,
            needs_ref: reference.is_empty(),
        });
        Ok(())
    }

    /// The kept columns' texts, and any text past the header, under their names.
    fn extras(&self, texts: &[&str]) -> Vec<ExtraField> {
        let mut extras = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            if text.is_empty() {
                continue;
            }
            let kept = self
                .columns
                .get(index)
                .is_none_or(|c| c.used_as == Use::Keep);
            if kept {
                extras.push(ExtraField {
                    header: self.extra_name(index),
                    text: (*text).to_owned(),
                });
            }
        }
        extras
    }

    pub(super) fn extra_name(&self, index: usize) -> String {
        match self.headers.get(index).filter(|h| !h.is_empty()) {
            Some(header) => header.clone(),
            None if self.lettered => format!("Column {}", column_letters(index + 1)),
            None => format!("Column {}", index + 1),
        }
    }
}
