//! Reading a plan out of a grid of cells: where the header is, which rows are
//! priorities, their descriptions, actions, continuations and cross-references, and
//! what each action's cells say.
//!
//! Pure, and faithful above all: every cell with text ends up in the plan (as a
//! field, an extra field, a priority's title or description, the title block) or in
//! a warning that says what was not read and why. Every judgement (a status word
//! read as its nearest status, a colour, a joined row, a ref given to an action
//! without one) is listed as a warning, so the preview shows it before anything is
//! recorded. A row that cannot be read refuses the whole file.

use std::collections::{HashMap, HashSet};

use projections::events::ExtraField;
use projections::planned::clean_text;
use projections::timescale::{month_number, parse_timescale_in, PlanYears};

use super::columns::{
    header_score, is_ref_token, is_usable_ref, leading_ref, map_columns, normalise_header, refs_in,
    ColumnContent, ColumnMapping, Field, Use,
};
use super::grid::{column_letters, Grid, Row, RowAt};
use super::status::is_blank_fill;
use super::{
    ImportError, ImportOptions, ImportedAction, ImportedPlan, ImportedPriority, Warning,
    MAX_CELL_BYTES,
};

/// How many rows (not counting a document's paragraphs) the header is looked for in.
const HEADER_SEARCH_ROWS: usize = 30;

/// Reads the plan in `grid`. `file` names the file in errors.
pub fn read_layout(
    file: &str,
    mut grid: Grid,
    options: &ImportOptions,
) -> Result<ImportedPlan, ImportError> {
    let at_error = |at: Option<RowAt>, column: Option<String>, message: String| ImportError {
        file: file.to_owned(),
        at,
        column,
        message,
    };
    // Refuse over-long cells where they are, then clean every cell once.
    let first_row = grid.rows.iter().find(|r| !r.is_blank());
    for row in &grid.rows {
        if let Some((index, cell)) = row
            .cells
            .iter()
            .enumerate()
            .find(|(_, c)| c.text.len() > MAX_CELL_BYTES)
        {
            let message = format!("this cell holds {} bytes, over the {} KiB limit for one cell; shorten it (longer material can be attached as evidence) and import again", cell.text.len(), MAX_CELL_BYTES / 1024);
            let header = first_row
                .and_then(|r| r.cells.get(index))
                .map_or("", |c| c.text.trim());
            let column = format!("{} ({header})", column_name(&grid, index));
            return Err(at_error(Some(row.at), Some(column), message));
        }
    }
    for row in &mut grid.rows {
        for cell in &mut row.cells {
            cell.text = clean_text(&cell.text);
        }
    }
    let Some(header_index) = find_header(&grid.rows) else {
        return Err(at_error(None, None, "the file is empty: it holds no rows of text; export the plan with its header row (ref, action, lead, …) and its actions, then import again".to_owned()));
    };
    let header_row = &grid.rows[header_index];
    let headers: Vec<String> = header_row.cells.iter().map(|c| c.text.clone()).collect();
    let mut title_block: Vec<String> = grid.rows[..header_index]
        .iter()
        .filter(|r| !r.is_blank())
        .map(row_text)
        .collect();
    // A numbered priority heading above the first header row ("1. The MSCB will
    // …", as a plan that repeats its header per section lays it out) starts the
    // first priority, with any Aim rows after it; the title is never one.
    let opening_priority = title_block
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, line)| priority_heading(line).is_some_and(|(key, _)| key.is_some()))
        .map(|(index, _)| index);
    let opening_rows = match opening_priority {
        Some(index) => title_block.split_off(index),
        None => Vec::new(),
    };
    let width = grid.rows[header_index..]
        .iter()
        .map(|r| r.cells.len())
        .max()
        .unwrap_or(0);
    let mut content = vec![ColumnContent::default(); width];
    for row in &grid.rows[header_index + 1..] {
        if distinct_texts(row) > 1 {
            for (index, cell) in row.cells.iter().enumerate() {
                if let Some(column) = content.get_mut(index) {
                    column.add(&cell.text);
                }
            }
        }
    }
    let columns = map_columns(&headers, &content, &options.maps, grid.lettered_columns)
        .map_err(|message| at_error(Some(header_row.at), None, message))?;
    let mut years = options.years;
    if years == PlanYears::default() {
        years = PlanYears::from_period(&title_block.join(" "));
    }
    if years == PlanYears::default() {
        years = options
            .around_year
            .map(PlanYears::around)
            .unwrap_or_default();
    }
    let mut reader = Reader::new(&grid, columns, content, options, years);
    for line in opening_rows {
        match priority_heading(&line) {
            Some((key, title)) if key.is_some() => reader.start_priority(key, title),
            _ if is_description(&line) => reader.describe(&line),
            _ => title_block.push(line),
        }
    }
    if reader.column(Field::Action).is_none() {
        let seen: Vec<String> = headers
            .iter()
            .filter(|h| !h.is_empty())
            .map(|h| format!("{h:?}"))
            .collect();
        let message = format!("no column holds the action text (headers seen: {}); head the column of actions \"action\" or \"Specific action\", or say which it is with --map \"HEADER=action\", and import again", seen.join(", "));
        return Err(at_error(Some(header_row.at), None, message));
    }
    if headers.len() < width
        && !grid.lettered_columns
        && grid.rows.iter().all(|r| r.at.table.is_none())
    {
        // In text, a value past the header's last column is almost always a comma
        // that should have been quoted: every later cell of that row is shifted.
        for row in &grid.rows[header_index + 1..] {
            if let Some(index) =
                (headers.len()..row.cells.len()).find(|&i| !row.cells[i].text.is_empty())
            {
                let message = format!("this row has a value beyond the header's last column ({}); remove the stray value (often an unquoted comma) or give the column a header, then import again", headers.len());
                return Err(at_error(
                    Some(row.at),
                    Some(format!("{} (no header)", index + 1)),
                    message,
                ));
            }
        }
    }
    for row in &grid.rows[header_index + 1..] {
        reader.read_row(row).map_err(|(column, message)| {
            let column = column.map(|i| {
                let header = reader.headers.get(i).map_or("no header", String::as_str);
                format!("{} ({header})", column_name(&grid, i))
            });
            at_error(Some(row.at), column, message)
        })?;
    }
    let plan = reader.finish(grid.description.clone(), grid.notes.clone(), title_block);
    if plan.actions.is_empty() {
        return Err(at_error(
            None,
            None,
            "the file has a header row but no actions; export the plan's rows too and import again"
                .to_owned(),
        ));
    }
    Ok(plan)
}

/// The header row: the row among the first that names the most fields (the first of
/// equals), stopping at the first row that holds a ref once one has been seen.
fn find_header(rows: &[Row]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut searched = 0;
    for (index, row) in rows.iter().enumerate() {
        if row.is_blank() {
            continue;
        }
        let cells: Vec<&str> = row.cells.iter().map(|c| c.text.as_str()).collect();
        let score = header_score(&cells);
        if best.is_some()
            && cells
                .iter()
                .any(|c| is_ref_token(c.trim_end_matches('.')) || leading_ref(c).is_some())
        {
            break;
        }
        if score > best.map_or(0, |b| b.1) {
            best = Some((index, score));
        }
        if row.at.row > 0 {
            searched += 1;
            if searched >= HEADER_SEARCH_ROWS {
                break;
            }
        }
    }
    best.map(|b| b.0)
        .or_else(|| rows.iter().position(|r| !r.is_blank()))
}

/// The distinct texts of a row's cells, in order, as one line.
fn row_text(row: &Row) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for cell in &row.cells {
        let text = cell.text.as_str();
        if !text.is_empty() && !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen.join(" ")
}

fn distinct_texts(row: &Row) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    for cell in &row.cells {
        if !cell.text.is_empty() && !seen.contains(&cell.text.as_str()) {
            seen.push(&cell.text);
        }
    }
    seen.len()
}

fn column_name(grid: &Grid, index: usize) -> String {
    if grid.lettered_columns {
        column_letters(index + 1)
    } else {
        (index + 1).to_string()
    }
}

/// The 0-based column of each field, by `Field as usize`.
#[derive(Debug, Clone, Copy)]
struct FieldColumns([Option<usize>; Field::ALL.len()]);

impl FieldColumns {
    fn get(self, field: Field) -> Option<usize> {
        self.0.get(field as usize).copied().flatten()
    }
}

/// A priority while the rows are read: its key may come later, from its first
/// action's ref.
struct Priority {
    key: Option<String>,
    title: String,
    description: Vec<String>,
    /// True for a priority made from its actions' refs rather than a heading row.
    implicit: bool,
}

/// An action while the rows are read.
struct Draft {
    action: ImportedAction,
    priority: usize,
    /// Set when the action had no ref in the file and is given one at the end.
    needs_ref: bool,
}

struct Reader<'a> {
    options: &'a ImportOptions,
    /// What each column's data cells hold, for reading later header rows.
    content: Vec<ColumnContent>,
    /// The plan's years, for two-digit years in timescales.
    years: PlanYears,
    /// The columns rows are read by now: the first header's, or a later one's.
    columns: Vec<ColumnMapping>,
    first_columns: Vec<ColumnMapping>,
    later_columns: Vec<(RowAt, Vec<ColumnMapping>)>,
    headers: Vec<String>,
    lettered: bool,
    priorities: Vec<Priority>,
    current_priority: Option<usize>,
    drafts: Vec<Draft>,
    warnings: Vec<Warning>,
    notes: Vec<String>,
    repeated_headers: Vec<RowAt>,
    stray_columns: HashSet<usize>,
    /// Where each ref was first used, to name both rows of a duplicate.
    rows_by_ref: HashMap<String, RowAt>,
}

impl<'a> Reader<'a> {
    fn new(
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

    fn column(&self, field: Field) -> Option<usize> {
        self.field_columns().get(field)
    }

    /// Where each field is, as a value, so a row can be read while `self` changes.
    fn field_columns(&self) -> FieldColumns {
        let mut at = [None; Field::ALL.len()];
        for (index, column) in self.columns.iter().enumerate() {
            if let Use::Field(field) = column.used_as {
                at[field as usize] = Some(index);
            }
        }
        FieldColumns(at)
    }

    fn warn(&mut self, at: RowAt, column: Option<usize>, message: String) {
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
    fn read_row(&mut self, row: &Row) -> Result<(), (Option<usize>, String)> {
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

    fn is_repeated_header(&self, texts: &[&str]) -> bool {
        texts.iter().enumerate().all(|(i, text)| {
            if text.is_empty() {
                return true;
            }
            let Some(column) = self.columns.get(i) else {
                return false;
            };
            normalise_header(text) == normalise_header(&column.header)
                || map_columns(&[(*text).to_owned()], &[], &[], false)
                    .ok()
                    .and_then(|m| m.first().and_then(ColumnMapping::field))
                    .is_some_and(|f| column.field() == Some(f))
        })
    }

    /// A header row that differs from the one before: the columns after it are read
    /// by it.
    fn new_header(&mut self, row: &Row) -> Result<(), (Option<usize>, String)> {
        let headers: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
        let columns = map_columns(&headers, &self.content, &self.options.maps, self.lettered)
            .map_err(|message| (None, message))?;
        if !columns
            .iter()
            .any(|c| c.used_as == Use::Field(Field::Action))
        {
            return Err((None, "this row reads as a header row but names no column of actions; make it the same as the plan's first header row, or delete it, and import again".to_owned()));
        }
        self.notes.push(format!(
            "{}: a new header row; the rows after it are read by its columns",
            row.at
        ));
        self.later_columns.push((row.at, columns.clone()));
        self.headers = headers;
        self.columns = columns;
        Ok(())
    }

    fn start_priority(&mut self, key: Option<String>, title: String) {
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

    fn describe(&mut self, text: &str) {
        if let Some(priority) = self
            .current_priority
            .and_then(|i| self.priorities.get_mut(i))
        {
            priority.description.push(text.to_owned());
        }
    }

    fn read_action_row(
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

    /// The priority an action with `reference` falls under: the heading above it,
    /// or (with no heading) the priority its ref's first part names.
    fn priority_for(&mut self, reference: &str, priority_cell: &str, at: RowAt) -> usize {
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

    /// Leads, one per paragraph; a paragraph (or a trailing phrase) that is a date
    /// is the timescale, not a lead.
    fn read_leads(&mut self, action: &mut ImportedAction, text: &str, at: RowAt) {
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

    fn read_status(
        &mut self,
        action: &mut ImportedAction,
        text: &str,
        fill: Option<super::grid::Rgb>,
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

    fn extra_name(&self, index: usize) -> String {
        match self.headers.get(index).filter(|h| !h.is_empty()) {
            Some(header) => header.clone(),
            None if self.lettered => format!("Column {}", column_letters(index + 1)),
            None => format!("Column {}", index + 1),
        }
    }

    /// Adds a row's text to the action above, field by field, and says so.
    fn join_to_last(&mut self, row: &Row, texts: &[&str]) -> Result<(), (Option<usize>, String)> {
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

    fn finish(
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

fn display_ref(reference: &str) -> String {
    if reference.is_empty() {
        "(no ref yet)".to_owned()
    } else {
        reference.to_owned()
    }
}

fn shorten(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let mut short: String = first_line.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

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
fn priority_heading(text: &str) -> Option<(Option<String>, String)> {
    priority_heading_worded(text).map(|(key, title, _)| (key, title))
}

/// As [`priority_heading`], and whether the heading says "Priority", "Objective" …
/// (rather than only starting with a number, as an action's text may).
fn priority_heading_worded(text: &str) -> Option<(Option<String>, String, bool)> {
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
fn is_description(text: &str) -> bool {
    let Some((label, rest)) = text.split_once([':', '–', '-']) else {
        return false;
    };
    !rest.trim().is_empty() && is_description_label(label)
}

fn is_description_label(label: &str) -> bool {
    let label = normalise_header(label);
    DESCRIPTION_LABELS.contains(&label.as_str())
        || label.starts_with("link to ")
        || label.starts_with("linked to ")
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
