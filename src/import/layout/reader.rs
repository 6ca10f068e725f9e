//! The reader of the rows after the header: what it keeps while reading (the
//! priorities, the actions so far, the columns in force, warnings and notes), and
//! `read_row`, which tells each row for what it is — a paragraph between tables, a
//! cross-reference row, a repeated or new header, a priority heading or its
//! description, or an action.
//!
//! Every judgement it makes is said in a warning or a note, and a row it cannot read
//! is an error naming the row and column.

use std::collections::{HashMap, HashSet};

use projections::timescale::PlanYears;

use super::super::columns::{
    header_score, is_ref_token, normalise_header, refs_in, ColumnContent, ColumnMapping, Field, Use,
};
use super::super::grid::{column_letters, Grid, Row, RowAt};
use super::super::{ImportOptions, ImportedAction, Warning};
use super::header::{distinct_texts, row_text};
use super::priorities::{
    is_description, is_description_label, priority_heading, priority_heading_worded,
};
use super::{display_ref, shorten};

/// The 0-based column of each field, by `Field as usize`.
#[derive(Debug, Clone, Copy)]
pub(super) struct FieldColumns([Option<usize>; Field::ALL.len()]);

impl FieldColumns {
    pub(super) fn get(self, field: Field) -> Option<usize> {
        self.0.get(field as usize).copied().flatten()
    }
}

/// A priority while the rows are read: its key may come later, from its first
/// action's ref.
pub(super) struct Priority {
    pub(super) key: Option<String>,
    pub(super) title: String,
    pub(super) description: Vec<String>,
    /// True for a priority made from its actions' refs rather than a heading row.
    pub(super) implicit: bool,
}

/// An action while the rows are read.
pub(super) struct Draft {
    pub(super) action: ImportedAction,
    pub(super) priority: usize,
    /// Set when the action had no ref in the file and is given one at the end.
    pub(super) needs_ref: bool,
}

pub(super) struct Reader<'a> {
    pub(super) options: &'a ImportOptions,
    /// What each column's data cells hold, for reading later header rows.
    pub(super) content: Vec<ColumnContent>,
    /// The plan's years, for two-digit years in timescales.
    pub(super) years: PlanYears,
    /// The columns rows are read by now: the first header's, or a later one's.
    pub(super) columns: Vec<ColumnMapping>,
    pub(super) first_columns: Vec<ColumnMapping>,
    pub(super) later_columns: Vec<(RowAt, Vec<ColumnMapping>)>,
    pub(super) headers: Vec<String>,
    pub(super) lettered: bool,
    pub(super) priorities: Vec<Priority>,
    pub(super) current_priority: Option<usize>,
    pub(super) drafts: Vec<Draft>,
    pub(super) warnings: Vec<Warning>,
    pub(super) notes: Vec<String>,
    pub(super) repeated_headers: Vec<RowAt>,
    pub(super) stray_columns: HashSet<usize>,
    /// Where each ref was first used, to name both rows of a duplicate.
    pub(super) rows_by_ref: HashMap<String, RowAt>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(
        grid: &Grid,
        columns: Vec<ColumnMapping>,
        content: Vec<ColumnContent>,
        options: &'a ImportOptions,
        years: PlanYears,
    ) -> Reader<'a> {
        let headers = columns.iter().map(|c| c.header.clone()).collect();
        Reader {
            options,
            content,
            years,
            first_columns: columns.clone(),
            columns,
            later_columns: Vec::new(),
            headers,
            lettered: grid.lettered_columns,
            priorities: Vec::new(),
            current_priority: None,
            drafts: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
            repeated_headers: Vec::new(),
            stray_columns: HashSet::new(),
            rows_by_ref: HashMap::new(),
        }
    }

    pub(super) fn column(&self, field: Field) -> Option<usize> {
        self.field_columns().get(field)
    }

    /// Where each field is, as a value, so a row can be read while `self` changes.
    pub(super) fn field_columns(&self) -> FieldColumns {
        let mut at = [None; Field::ALL.len()];
        for (index, column) in self.columns.iter().enumerate() {
            if let Use::Field(field) = column.used_as {
                at[field as usize] = Some(index);
            }
        }
        FieldColumns(at)
    }

    pub(super) fn warn(&mut self, at: RowAt, column: Option<usize>, message: String) {
        let place = match column {
            Some(index) => {
                let label = if self.lettered {
                    column_letters(index + 1)
                } else {
                    (index + 1).to_string()
                };
                let header = self.headers.get(index).map_or("", String::as_str);
                format!("{at}, column {label} ({header})")
            }
            None => at.to_string(),
        };
        self.warnings.push(Warning {
            at: Some(place),
            message,
        });
    }

    /// Reads one row after the header. An error names the 0-based column, if any.
    pub(super) fn read_row(&mut self, row: &Row) -> Result<(), (Option<usize>, String)> {
        if row.is_blank() {
            return Ok(());
        }
        let texts: Vec<&str> = row.cells.iter().map(|c| c.text.as_str()).collect();
        let filled: Vec<usize> = (0..texts.len()).filter(|&i| !texts[i].is_empty()).collect();
        let fields = self.field_columns();
        let cell = |field: Field| {
            fields
                .get(field)
                .and_then(|i| texts.get(i).copied())
                .unwrap_or("")
        };
        let first_text = filled.first().map_or("", |&i| texts[i]);
        // A paragraph between Word tables: a priority heading, a description, or text
        // the plan does not hold (said in a warning).
        if row.at.row == 0 {
            let text = row_text(row);
            if let Some((key, title)) = priority_heading(&text) {
                self.start_priority(key, title);
            } else if is_description(&text) && self.current_priority.is_some() {
                self.describe(&text);
            } else {
                self.warn(row.at, None, format!("the text {:?} between tables is not part of any action and was not imported", shorten(&text)));
            }
            return Ok(());
        }
        // "Cross Ref Action | See also Action 3.1": cross-refs of the action above.
        let ref_cell = cell(Field::Ref);
        let cross_label = normalise_header(first_text).starts_with("cross ref");
        let see_also = filled.iter().any(|&i| {
            let words = normalise_header(texts[i]);
            words.starts_with("see also") || words.starts_with("see action")
        });
        if cross_label || (see_also && ref_cell.is_empty() && cell(Field::Action).is_empty()) {
            let text: Vec<&str> = filled
                .iter()
                .map(|&i| texts[i])
                .filter(|t| !normalise_header(t).starts_with("cross ref"))
                .collect();
            let refs = refs_in(&text.join(" "));
            return match self.drafts.last_mut() {
                Some(draft) => {
                    let reference = draft.action.reference.clone();
                    for r in &refs {
                        if !draft.action.cross_refs.contains(r) {
                            draft.action.cross_refs.push(r.clone());
                        }
                    }
                    self.notes.push(format!(
                        "{}: cross-references {} added to action {}",
                        row.at,
                        refs.join(", "),
                        display_ref(&reference)
                    ));
                    Ok(())
                }
                None => {
                    self.warn(row.at, None, format!("the cross-reference row {:?} comes before any action, so it was not imported", shorten(&row_text(row))));
                    Ok(())
                }
            };
        }
        if header_score(&texts) >= 2 {
            if self.is_repeated_header(&texts) {
                self.repeated_headers.push(row.at);
                return Ok(());
            }
            return self.new_header(row);
        }
        // One text across the row: a priority heading, its description, or more text
        // for the action above.
        if distinct_texts(row) == 1 {
            let text = first_text;
            let index = filled.first().copied().unwrap_or(0);
            let spans = row.cells.get(index).is_some_and(|c| c.span > 1)
                || row
                    .cells
                    .iter()
                    .filter(|c| c.covered && c.text.is_empty())
                    .count()
                    > 0;
            let in_action_column = fields.get(Field::Action) == Some(index);
            // "4) Brief …" alone in the action column is an action with its ref;
            // a heading there says "Priority", or spans the row.
            if let Some((key, title, worded)) = priority_heading_worded(text) {
                if worded || spans || !in_action_column {
                    self.start_priority(key, title);
                    return Ok(());
                }
            }
            if is_description(text) {
                if self.current_priority.is_some() {
                    self.describe(text);
                    return Ok(());
                }
            } else if spans
                || (!in_action_column
                    && !is_ref_token(text)
                    && fields.get(Field::Ref) == Some(index))
            {
                self.start_priority(None, text.to_owned());
                return Ok(());
            }
        }
        // "Aim | To ensure …": a label and its text under a priority.
        if filled.len() == 2
            && ref_cell.is_empty()
            && self.current_priority.is_some()
            && is_description_label(first_text)
        {
            self.describe(&format!("{}: {}", first_text, texts[filled[1]]));
            return Ok(());
        }
        self.read_action_row(row, &texts)
    }
}
