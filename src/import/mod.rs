//! Reading an action plan from a spreadsheet export (CSV): which column is which,
//! one validated row per action, and the priorities the actions fall under.
//!
//! Pure: it takes the file's bytes and returns either every row or one error that
//! names the file, row and column and says what to do. It never touches the ledger
//! and never returns some rows without the others, so the caller imports the whole
//! file in one atomic batch or nothing. A timescale never makes a row fail: its raw
//! text is always kept and milestones are read from it where possible.
//!
//! Columns are matched by the meaningful words of their headers, case, spacing and
//! punctuation aside, because real plans write "Who Responsible / linked plan" or
//! "Progress & Evidence RAG" rather than our names:
//! - A header that is exactly a field's name ("ref", "cross_refs", "Cross refs") is
//!   that field.
//! - Otherwise each field has keywords with weights (see [`KEYWORDS`]); a header
//!   scores the sum of the weights of its words, and goes to its best-scoring field.
//!   Ties go to the more specific field, in the order of [`Field::ALL`], so that
//!   "action" only wins when nothing else does ("Action owner" is the lead).
//! - "Objective" is the priority (plans state one objective per priority) and
//!   "Critical Success Factor" is the outcome (it says what success looks like).
//! - A header that mentions RAG or status but reads best as another field
//!   ("Progress & Evidence RAG") is the status column when no other column reads as
//!   status; otherwise it keeps its best field.
//! - One column per field: the best-scoring column (leftmost on a tie) takes the
//!   field, and the others that matched it are ignored and reported.

pub mod grid;
mod sniff;
mod text;

use std::collections::HashMap;
use std::fmt;

use projections::commands::{check_id, require_text, Planned};
use projections::events::{
    subject, ActionAdded, ActionDetails, DomainEvent, PlanCreated, PriorityAdded,
};
use projections::timescale::{parse_timescale, Milestone};
use projections::{Rag, Rejection, World};

/// The fields Assure reads from a plan, one column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Ref,
    Priority,
    Action,
    Impact,
    Outcome,
    Lead,
    Due,
    Status,
    Progress,
    CrossRefs,
}

impl Field {
    /// Every field, most specific first: the order that breaks ties between fields.
    pub const ALL: [Field; 10] = [
        Field::Ref,
        Field::CrossRefs,
        Field::Status,
        Field::Due,
        Field::Lead,
        Field::Impact,
        Field::Outcome,
        Field::Progress,
        Field::Priority,
        Field::Action,
    ];

    /// The field's name in messages, and its canonical header.
    pub fn name(self) -> &'static str {
        match self {
            Field::Ref => "ref",
            Field::Priority => "priority",
            Field::Action => "action",
            Field::Impact => "impact",
            Field::Outcome => "outcome",
            Field::Lead => "lead",
            Field::Due => "due",
            Field::Status => "status",
            Field::Progress => "progress",
            Field::CrossRefs => "cross_refs",
        }
    }
}

/// Words in a header that point to a field, and how strongly. Strong, specific
/// words weigh 3; words that only qualify a header ("action", "date", "who") weigh
/// less, so that "Action owner" is the lead and "Date for completion" the due date.
#[rustfmt::skip]
pub const KEYWORDS: &[(Field, u32, &[&str])] = &[
    (Field::Ref, 3, &["ref", "reference", "id", "no", "number"]),
    (Field::Priority, 3, &["priority", "priorities", "objective", "objectives"]),
    (Field::Priority, 2, &["theme", "improvement", "recommendation"]),
    (Field::Priority, 1, &["area"]),
    (Field::Action, 2, &["action", "actions", "task"]),
    (Field::Action, 1, &["specific", "improve", "what"]),
    (Field::Impact, 3, &["impact", "difference"]),
    (Field::Outcome, 3, &["outcome", "outcomes", "success", "kpi"]),
    (Field::Outcome, 2, &["measure", "measures", "indicator", "indicators"]),
    (Field::Outcome, 1, &["critical", "factor", "know"]),
    (Field::Lead, 3, &["lead", "leads", "responsible", "owner", "accountable"]),
    (Field::Lead, 2, &["who", "officer"]),
    (Field::Lead, 1, &["agency"]),
    (Field::Due, 3, &["due", "timescale", "timescales", "timeframe", "completion", "deadline"]),
    (Field::Due, 2, &["date", "when"]),
    (Field::Due, 1, &["target"]),
    (Field::Status, 3, &["rag", "status"]),
    (Field::Status, 1, &["rating"]),
    (Field::Progress, 3, &["progress"]),
    (Field::Progress, 2, &["evidence", "update", "updates"]),
    (Field::Progress, 1, &["commentary", "comments"]),
    (Field::CrossRefs, 4, &["cross"]),
    (Field::CrossRefs, 2, &["linked", "links", "related", "dependencies"]),
];

/// How one column of the file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// 1-based, as the spreadsheet counts.
    pub column: usize,
    pub header: String,
    /// The field read from this column; `None` when the column is ignored.
    pub field: Option<Field>,
    /// For an ignored column that matched a field another column took: that field and
    /// the column chosen for it, so the user can see why the column was skipped.
    pub duplicate_of: Option<(Field, usize)>,
}

impl ColumnMapping {
    /// One line for the user, e.g. `column 3 "Specific action" → action`.
    pub fn describe(&self) -> String {
        let column = format!("column {} {:?}", self.column, self.header);
        match (self.field, self.duplicate_of) {
            (Some(field), _) => format!("{column} → {}", field.name()),
            (None, Some((field, taken_by))) => format!(
                "{column} ignored: {} is already read from column {taken_by}",
                field.name()
            ),
            (None, None) => format!("{column} ignored: it matches no field"),
        }
    }
}

/// A priority of the plan, keyed by the major number of its actions' refs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPriority {
    /// "6" for actions 6.1, 6.2, …
    pub key: String,
    /// The first non-empty priority cell among its actions, else "Priority 6".
    pub title: String,
}

/// A RAG status as plans write it; `None` on the action when the cell is blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedStatus {
    Green,
    Amber,
    Red,
    Complete,
    CarriedOver,
    NotStarted,
}

/// One action row, validated and cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAction {
    /// The spreadsheet row the user sees (the header is row 1, blank rows count).
    pub row: usize,
    pub reference: String,
    pub priority_key: String,
    /// The action text, without a ref written at its start.
    pub title: String,
    pub impact: String,
    pub outcome: String,
    /// One lead per line or `;`; commas stay inside a lead ("Al Ford, Director").
    pub leads: Vec<String>,
    /// The timescale exactly as written (cleaned), always kept.
    pub due_raw: String,
    pub milestones: Vec<Milestone>,
    pub status: Option<ImportedStatus>,
    pub progress: String,
    pub cross_refs: Vec<String>,
}

/// Everything read from one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPlan {
    pub columns: Vec<ColumnMapping>,
    /// In order of first appearance.
    pub priorities: Vec<ImportedPriority>,
    pub actions: Vec<ImportedAction>,
}

/// Why a file was refused: where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file's display name, as given by the caller.
    pub file: String,
    /// The spreadsheet row, counted as in [`ImportedAction::row`].
    pub row: Option<usize>,
    /// The 1-based column and its header.
    pub column: Option<(usize, String)>,
    /// What is wrong and what to do, without a final full stop.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        if let Some((column, header)) = &self.column {
            let comma = if self.row.is_some() { "," } else { "" };
            write!(f, "{comma} column {column} ({header})")?;
        }
        write!(f, ": {}. Nothing from the file was imported.", self.message)
    }
}

impl std::error::Error for ImportError {}

/// The longest text accepted in one cell, the same limit as other free text in
/// Assure; longer material belongs in evidence.
const MAX_CELL_BYTES: usize = 16 * 1024;

/// The events that bring an imported plan into the ledger: the plan (if new), its
/// new priorities and every action. All or nothing: an action whose ref the plan
/// already has refuses the whole import.
pub fn plan_events(
    world: &World,
    plan_id: &str,
    imported: &ImportedPlan,
    title: String,
    period: Option<String>,
    file_name: &str,
) -> Result<Vec<Planned>, Rejection> {
    check_id("plan id", plan_id)?;
    let mut planned = Vec::new();
    let existing = world.plan(plan_id);
    if existing.is_none() {
        planned.push(Planned::new(
            subject::plan(plan_id),
            DomainEvent::PlanCreated(PlanCreated {
                title: require_text("the plan title", &title)?,
                period,
            }),
        ));
    }
    for priority in &imported.priorities {
        let known = existing.is_some_and(|p| p.priorities.iter().any(|q| q.key == priority.key));
        if !known {
            planned.push(Planned::new(
                subject::plan(plan_id),
                DomainEvent::PriorityAdded(PriorityAdded {
                    key: priority.key.clone(),
                    title: priority.title.clone(),
                }),
            ));
        }
    }
    for action in &imported.actions {
        check_id("action ref", &action.reference)
            .map_err(|e| Rejection(format!("{file_name} row {}: {e}", action.row)))?;
        if existing.is_some_and(|plan| plan.action(&action.reference).is_some()) {
            return Err(Rejection(format!(
                "{file_name} row {}: plan {plan_id} already has an action {}; nothing was imported. \
                 Import into a new plan, or record changes to existing actions with status, progress or amend",
                action.row, action.reference
            )));
        }
        planned.push(Planned::new(
            subject::action(plan_id, &action.reference),
            DomainEvent::ActionAdded(ActionAdded {
                details: ActionDetails {
                    priority_key: action.priority_key.clone(),
                    title: action.title.clone(),
                    impact: action.impact.clone(),
                    outcome: action.outcome.clone(),
                    leads: action.leads.clone(),
                    timescale: action.due_raw.clone(),
                    milestones: action.milestones.clone(),
                    cross_refs: action.cross_refs.clone(),
                },
                status: status_of(action.status),
                progress: action.progress.clone(),
                source: format!("{file_name} row {}", action.row),
            }),
        ));
    }
    Ok(planned)
}

fn status_of(imported: Option<ImportedStatus>) -> Rag {
    match imported {
        None | Some(ImportedStatus::NotStarted) => Rag::NotStarted,
        Some(ImportedStatus::Green) => Rag::Green,
        Some(ImportedStatus::Amber) => Rag::Amber,
        Some(ImportedStatus::Red) => Rag::Red,
        Some(ImportedStatus::Complete) => Rag::Complete,
        Some(ImportedStatus::CarriedOver) => Rag::CarriedOver,
    }
}

/// Reads a CSV export of a plan. Any bad row rejects the whole file.
pub fn parse_plan_csv(file_name: &str, bytes: &[u8]) -> Result<ImportedPlan, ImportError> {
    let at = Locator { file: file_name };
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(at.error(None, None, "the file is UTF-16 text; save it from the spreadsheet as \"CSV UTF-8 (Comma delimited)\" and import again"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = RowCounter::default();
    let mut record = csv::ByteRecord::new();
    // Set by the first row that is not blank: the header row.
    let mut plan: Option<PlanBuilder> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let message = format!(
                    "the row cannot be read as CSV ({error}); check its quotes and import again"
                );
                return Err(at.error(Some(rows.last + 1), None, message));
            }
        }
        let row = rows.next(bytes, &record);
        let headers = plan
            .as_ref()
            .map_or(&[][..], |plan| plan.headers.as_slice());
        let cells = read_cells(&at, row, &record, headers)?;
        if cells.iter().all(String::is_empty) {
            continue;
        }
        match &mut plan {
            Some(plan) => plan.add_row(&at, row, &cells)?,
            None => plan = Some(PlanBuilder::new(&at, row, cells)?),
        }
    }
    let Some(plan) = plan else {
        return Err(at.error(None, None, "the file is empty; export the plan with its header row (ref, priority, action, …) and import again"));
    };
    if plan.actions.is_empty() {
        return Err(at.error(
            None,
            None,
            "the file has a header row but no actions; export the plan's rows too and import again",
        ));
    }
    Ok(plan.finish())
}

/// Names the file in errors.
struct Locator<'a> {
    file: &'a str,
}

impl Locator<'_> {
    fn error(
        &self,
        row: Option<usize>,
        column: Option<(usize, String)>,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError {
            file: self.file.to_owned(),
            row,
            column,
            message: message.into(),
        }
    }
}

/// Counts rows as a spreadsheet shows them: one per record, however many lines its
/// quoted cells span, plus the blank lines that the CSV reader skips silently.
#[derive(Default)]
struct RowCounter {
    last: usize,
}

impl RowCounter {
    fn next(&mut self, input: &[u8], record: &csv::ByteRecord) -> usize {
        // The reader reports where the previous record ended, before any blank lines.
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        let mut at = start;
        // A "\n" that completes the previous record's "\r\n" is not a blank line.
        if at > 0 && input.get(at - 1) == Some(&b'\r') && input.get(at) == Some(&b'\n') {
            at += 1;
        }
        let mut blank_lines = 0;
        while let Some(&byte) = input.get(at) {
            match byte {
                b'\r' if input.get(at + 1) == Some(&b'\n') => at += 2,
                b'\r' | b'\n' => at += 1,
                _ => break,
            }
            blank_lines += 1;
        }
        self.last += 1 + blank_lines;
        self.last
    }
}

/// The cells of one record as clean text, refusing text that is not UTF-8, too
/// long, or beyond the header's last column.
fn read_cells(
    at: &Locator<'_>,
    row: usize,
    record: &csv::ByteRecord,
    headers: &[String],
) -> Result<Vec<String>, ImportError> {
    let mut cells = Vec::with_capacity(record.len());
    for (index, raw) in record.iter().enumerate() {
        let column = || {
            let header = match headers.get(index) {
                Some(header) => header.as_str(),
                None if headers.is_empty() => "header",
                None => "no header",
            };
            Some((index + 1, header.to_owned()))
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(at.error(Some(row), column(), "this cell is not UTF-8 text (a plain \"CSV\" save from Excel uses Windows-1252); save the file as \"CSV UTF-8\" and import again"));
        };
        if text.len() > MAX_CELL_BYTES {
            let message = format!("this cell holds {} bytes, over the {} KiB limit for one cell; shorten it (longer material can be attached as evidence) and import again", text.len(), MAX_CELL_BYTES / 1024);
            return Err(at.error(Some(row), column(), message));
        }
        let text = clean(text);
        let beyond_headers = !headers.is_empty() && index >= headers.len();
        if beyond_headers && !text.is_empty() {
            let message = format!("this row has a value beyond the header's last column ({}); remove the stray value (often an unquoted comma) or give the column a header, then import again", headers.len());
            return Err(at.error(Some(row), column(), message));
        }
        cells.push(text);
    }
    Ok(cells)
}

/// Collects actions and priorities row by row, in one pass.
struct PlanBuilder {
    headers: Vec<String>,
    columns: Vec<ColumnMapping>,
    /// The 0-based column of each field, by `Field as usize`, so that a row's cells
    /// are found without searching the columns.
    column_of_field: [Option<usize>; Field::ALL.len()],
    actions: Vec<ImportedAction>,
    /// Priority keys in order of first appearance, each with its title if a row gave one.
    priorities: Vec<(String, Option<String>)>,
    priority_index: HashMap<String, usize>,
    /// The row where each ref was first used, to name both rows of a duplicate.
    rows_by_ref: HashMap<String, usize>,
}

impl PlanBuilder {
    /// Starts a plan from its header row, refusing one without an action column.
    fn new(at: &Locator<'_>, row: usize, headers: Vec<String>) -> Result<Self, ImportError> {
        let columns = map_headers(&headers);
        let mut column_of_field = [None; Field::ALL.len()];
        for (index, column) in columns.iter().enumerate() {
            if let Some(slot) = column
                .field
                .and_then(|f| column_of_field.get_mut(f as usize))
            {
                *slot = Some(index);
            }
        }
        if column_of_field
            .get(Field::Action as usize)
            .copied()
            .flatten()
            .is_none()
        {
            let seen: Vec<String> = headers.iter().map(|h| format!("{h:?}")).collect();
            let message = format!("no column holds the action text (headers seen: {}); head the column of actions \"action\" or \"Specific action\" and import again", seen.join(", "));
            return Err(at.error(Some(row), None, message));
        }
        Ok(PlanBuilder {
            headers,
            columns,
            column_of_field,
            actions: Vec::new(),
            priorities: Vec::new(),
            priority_index: HashMap::new(),
            rows_by_ref: HashMap::new(),
        })
    }

    fn add_row(
        &mut self,
        at: &Locator<'_>,
        row: usize,
        cells: &[String],
    ) -> Result<(), ImportError> {
        // These borrow only two fields, so the maps below can still be updated.
        let (column_of_field, headers) = (&self.column_of_field, &self.headers);
        let column_of = |field: Field| column_of_field.get(field as usize).copied().flatten();
        let located = |field: Field| {
            column_of(field).map(|index| {
                let header = headers.get(index).cloned().unwrap_or_default();
                (index + 1, header)
            })
        };
        let cell = |field: Field| {
            column_of(field)
                .and_then(|index| cells.get(index))
                .map_or("", String::as_str)
        };
        let action_text = cell(Field::Action);
        let ref_cell = cell(Field::Ref).trim_end_matches('.');
        let (reference, title) = match leading_ref(action_text) {
            Some((found, rest)) if ref_cell.is_empty() || ref_cell == found => (found, rest),
            _ => (ref_cell, action_text),
        };
        if title.is_empty() {
            let only_priority = cells.iter().filter(|c| !c.is_empty()).count() == 1
                && !cell(Field::Priority).is_empty();
            let hint = if only_priority {
                "; this looks like a priority heading row, so put its text in the priority column of its actions and delete the row"
            } else {
                ""
            };
            let message = format!("no action text; every row needs the action it describes, so fill it in or delete the row{hint}");
            return Err(at.error(Some(row), located(Field::Action), message));
        }
        let ref_column = located(Field::Ref).or_else(|| located(Field::Action));
        if reference.is_empty() {
            return Err(at.error(Some(row), ref_column, "no ref; give the action a ref in a column headed \"ref\", or start its text with one, as in \"1.4 Independent scrutiny of …\""));
        }
        if !is_usable_ref(reference) {
            let message = format!("ref {reference:?} cannot be used; a ref is up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, such as 1.4 or A2");
            return Err(at.error(Some(row), ref_column, message));
        }
        if let Some(first_row) = self.rows_by_ref.get(reference) {
            let message = format!("ref {reference} is also used on row {first_row}; give each action its own ref and import again");
            return Err(at.error(Some(row), ref_column, message));
        }
        let status = match status_from_word(cell(Field::Status)) {
            Ok(status) => status,
            Err(message) => return Err(at.error(Some(row), located(Field::Status), message)),
        };
        // "6.1" is under priority 6; a ref without a dot ("A1", "7") is its own key.
        let priority_key = reference.split('.').next().unwrap_or(reference).to_owned();
        let priority_text = cell(Field::Priority);
        let index = *self
            .priority_index
            .entry(priority_key.clone())
            .or_insert_with(|| {
                self.priorities.push((priority_key.clone(), None));
                self.priorities.len() - 1
            });
        if let Some((_, title @ None)) = self.priorities.get_mut(index) {
            if !priority_text.is_empty() {
                *title = Some(priority_text.to_owned());
            }
        }
        let due_raw = cell(Field::Due).to_owned();
        let action = ImportedAction {
            row,
            reference: reference.to_owned(),
            priority_key,
            title: title.to_owned(),
            impact: cell(Field::Impact).to_owned(),
            outcome: cell(Field::Outcome).to_owned(),
            leads: split_list(cell(Field::Lead), |c| matches!(c, ';' | '\n')),
            milestones: parse_timescale(&due_raw),
            due_raw,
            status,
            progress: cell(Field::Progress).to_owned(),
            cross_refs: split_list(cell(Field::CrossRefs), |c| {
                c == ';' || c == ',' || c.is_whitespace()
            })
            .into_iter()
            .map(|r| r.trim_end_matches('.').to_owned())
            .filter(|r| !r.is_empty())
            .collect(),
        };
        self.rows_by_ref.insert(action.reference.clone(), row);
        self.actions.push(action);
        Ok(())
    }

    fn finish(self) -> ImportedPlan {
        let priorities = self
            .priorities
            .into_iter()
            .map(|(key, title)| ImportedPriority {
                title: title.unwrap_or_else(|| format!("Priority {key}")),
                key,
            })
            .collect();
        ImportedPlan {
            columns: self.columns,
            priorities,
            actions: self.actions,
        }
    }
}

/// Maps each header to a field by the rules in this module's documentation.
fn map_headers(headers: &[String]) -> Vec<ColumnMapping> {
    let words: Vec<Vec<String>> = headers.iter().map(|h| header_words(h)).collect();
    let mut best: Vec<Option<(Field, u32)>> = words.iter().map(|w| best_field(w)).collect();
    let status_taken = best
        .iter()
        .flatten()
        .any(|(field, _)| *field == Field::Status);
    if !status_taken {
        let mentions_status = |w: &Vec<String>| w.iter().any(|w| w == "rag" || w == "status");
        if let Some(index) = words.iter().position(mentions_status) {
            if let Some(slot) = best.get_mut(index) {
                *slot = Some((Field::Status, 3));
            }
        }
    }
    // The winner for each field: the highest score, then the leftmost column.
    let mut winners: HashMap<Field, (usize, u32)> = HashMap::new();
    for (index, (field, score)) in best
        .iter()
        .enumerate()
        .filter_map(|(i, b)| Some((i, (*b)?)))
    {
        let held = winners.get(&field).map_or(0, |(_, held)| *held);
        if score > held {
            winners.insert(field, (index, score));
        }
    }
    headers
        .iter()
        .zip(&best)
        .enumerate()
        .map(|(index, (header, best))| {
            let winner = best.and_then(|(field, _)| Some((field, winners.get(&field)?.0)));
            let (field, duplicate_of) = match winner {
                Some((field, at)) if at == index => (Some(field), None),
                Some((field, at)) => (None, Some((field, at + 1))),
                None => (None, None),
            };
            ColumnMapping {
                column: index + 1,
                header: header.clone(),
                field,
                duplicate_of,
            }
        })
        .collect()
}

/// A header's words, lower-cased, split on anything that is not a letter or digit.
fn header_words(header: &str) -> Vec<String> {
    header
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn best_field(words: &[String]) -> Option<(Field, u32)> {
    let joined = words.join("_");
    if let Some(field) = Field::ALL.into_iter().find(|f| f.name() == joined) {
        return Some((field, u32::MAX));
    }
    let mut best: Option<(Field, u32)> = None;
    for field in Field::ALL {
        let score: u32 = KEYWORDS
            .iter()
            .filter(|(f, _, _)| *f == field)
            .flat_map(|(_, weight, keywords)| keywords.iter().map(move |k| (*weight, *k)))
            .filter(|(_, keyword)| words.iter().any(|w| w == keyword))
            .map(|(weight, _)| weight)
            .sum();
        // Strictly greater, so an earlier (more specific) field keeps a tie.
        if score > best.map_or(0, |(_, held)| held) {
            best = Some((field, score));
        }
    }
    best
}

/// The accepted status words, for the message when a cell holds another.
const STATUS_WORDS: &str = "green, amber, red, complete (or completed, grey), carried over (or carry over, carried forward, blue), not started, in progress or ongoing (read as amber), or a blank cell";

fn status_from_word(text: &str) -> Result<Option<ImportedStatus>, String> {
    let words: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let status = match words.as_str() {
        "" => return Ok(None),
        "green" | "g" => ImportedStatus::Green,
        "amber" | "a" | "in progress" | "ongoing" => ImportedStatus::Amber,
        "red" | "r" => ImportedStatus::Red,
        "complete" | "completed" | "grey" | "gray" => ImportedStatus::Complete,
        "carry over" | "carried over" | "carried forward" | "carry forward" | "blue" => {
            ImportedStatus::CarriedOver
        }
        "not started" | "not yet started" => ImportedStatus::NotStarted,
        _ => {
            return Err(format!("{text:?} is not a status Assure knows; use {STATUS_WORDS} (if this column holds progress notes rather than a RAG status, rename its header so it does not say RAG or status)"));
        }
    };
    Ok(Some(status))
}

/// A ref written at the start of the action text, and the text after it:
/// "1.4 Independent scrutiny" → ("1.4", "Independent scrutiny"). A bare number is
/// taken only when punctuation marks it as a ref ("7. Brief…", "7) Brief…"), so that
/// "7 Minute Briefing" keeps its number.
fn leading_ref(text: &str) -> Option<(&str, &str)> {
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (token, rest) = text.split_at_checked(end)?;
    let core = token.trim_end_matches(['.', ')', ':', '-', '–']);
    let marked = core.len() < token.len();
    let mut chars = core.chars().peekable();
    let letter_prefix = chars.next_if(char::is_ascii_alphabetic).is_some();
    let mut digits = 0;
    let mut dots = 0;
    let mut letter_suffix = false;
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => digits += 1,
            '.' if digits > 0 && chars.peek().is_some_and(char::is_ascii_digit) => dots += 1,
            'a'..='z' if chars.peek().is_none() => letter_suffix = true,
            _ => return None,
        }
    }
    let distinctive = dots > 0 || letter_prefix || letter_suffix;
    if digits == 0 || !(distinctive || marked) {
        return None;
    }
    let rest = rest
        .trim_start()
        .trim_start_matches(['-', '–', ':'])
        .trim_start();
    Some((core, rest))
}

/// The rule `projections::commands::check_id` applies to action refs, checked here
/// so that a bad ref is reported with its row and column.
fn is_usable_ref(reference: &str) -> bool {
    reference.len() <= 64
        && reference.starts_with(|c: char| c.is_ascii_alphanumeric())
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !reference.contains("..")
}

fn split_list(text: &str, separator: impl Fn(char) -> bool) -> Vec<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn clean(text: &str) -> String {
    projections::commands::clean_text(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Reads a file from the shared fixtures: `$ASSURE_SHARED/fixtures/NAME`, or
    /// `../shared/fixtures/NAME` beside the workspace when the variable is unset.
    fn fixture(name: &str) -> Vec<u8> {
        let shared = std::env::var("ASSURE_SHARED")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared").to_owned());
        let path = std::path::Path::new(&shared).join("fixtures").join(name);
        std::fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "fixture {} cannot be read ({error}); the tests need the shared folder beside \
                 the workspace, or ASSURE_SHARED set to it",
                path.display()
            )
        })
    }

    fn parse(csv: &str) -> Result<ImportedPlan, ImportError> {
        parse_plan_csv("plan.csv", csv.as_bytes())
    }

    /// An action with the given row, ref and title, and everything else empty.
    fn action(row: usize, reference: &str, title: &str) -> ImportedAction {
        ImportedAction {
            row,
            reference: reference.into(),
            priority_key: reference.split('.').next().unwrap().into(),
            title: title.into(),
            impact: String::new(),
            outcome: String::new(),
            leads: Vec::new(),
            due_raw: String::new(),
            milestones: Vec::new(),
            status: None,
            progress: String::new(),
            cross_refs: Vec::new(),
        }
    }

    fn where_(error: &ImportError) -> (Option<usize>, Option<usize>) {
        (error.row, error.column.as_ref().map(|(column, _)| *column))
    }

    fn field_of(headers: &[&str], column: usize) -> Option<Field> {
        let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        map_headers(&headers).get(column).unwrap().field
    }

    #[test]
    fn real_headers_map_to_these_fields() {
        let table: &[(&str, Option<Field>)] = &[
            ("ref", Some(Field::Ref)),
            ("Ref No.", Some(Field::Ref)),
            ("Action ref", Some(Field::Ref)),
            ("priority", Some(Field::Priority)),
            ("Objective", Some(Field::Priority)),
            ("Area for improvement", Some(Field::Priority)),
            ("action", Some(Field::Action)),
            ("Specific action", Some(Field::Action)),
            ("What needs to improve/ACTION", Some(Field::Action)),
            ("  SPECIFIC   ACTION ", Some(Field::Action)),
            ("impact", Some(Field::Impact)),
            (
                "What will the impact be and how will we know",
                Some(Field::Impact),
            ),
            ("What difference will it make…", Some(Field::Impact)),
            (
                "What difference will it make for children and young people?",
                Some(Field::Impact),
            ),
            ("outcome", Some(Field::Outcome)),
            ("Critical Success Factor", Some(Field::Outcome)),
            ("Outcome Measure", Some(Field::Outcome)),
            ("Success indicators", Some(Field::Outcome)),
            ("lead", Some(Field::Lead)),
            ("Who Responsible", Some(Field::Lead)),
            ("Who Responsible / linked plan", Some(Field::Lead)),
            ("Lead Agency/Officer", Some(Field::Lead)),
            ("Action owner", Some(Field::Lead)),
            ("due", Some(Field::Due)),
            ("Date for completion", Some(Field::Due)),
            ("Timescale", Some(Field::Due)),
            ("Target date", Some(Field::Due)),
            ("status", Some(Field::Status)),
            ("RAG", Some(Field::Status)),
            ("Risk RAG rating", Some(Field::Status)),
            ("progress", Some(Field::Progress)),
            ("Evidence of progress", Some(Field::Progress)),
            ("Progress & Evidence", Some(Field::Progress)),
            ("cross_refs", Some(Field::CrossRefs)),
            ("Cross refs", Some(Field::CrossRefs)),
            ("Cross reference", Some(Field::CrossRefs)),
            ("Notes for the chair", None),
            ("", None),
        ];
        for (header, expected) in table {
            assert_eq!(
                field_of(&[header, "Notes"], 0),
                *expected,
                "header {header:?}"
            );
        }
    }

    #[test]
    fn a_progress_rag_column_is_the_status_only_when_no_other_column_is() {
        let alone = ["Specific action", "Progress & Evidence RAG"];
        assert_eq!(field_of(&alone, 1), Some(Field::Status));
        let beside_status = ["Specific action", "Progress & Evidence RAG", "RAG"];
        assert_eq!(field_of(&beside_status, 1), Some(Field::Progress));
        assert_eq!(field_of(&beside_status, 2), Some(Field::Status));
    }

    #[test]
    fn a_second_column_for_a_taken_field_is_ignored_and_reported() {
        let headers: Vec<String> = ["Who Responsible", "Lead Agency/Officer", "Action", "Notes"]
            .map(String::from)
            .to_vec();
        let columns = map_headers(&headers);
        let described: Vec<String> = columns.iter().map(ColumnMapping::describe).collect();
        assert_eq!(
            described,
            [
                "column 1 \"Who Responsible\" ignored: lead is already read from column 2",
                "column 2 \"Lead Agency/Officer\" → lead",
                "column 3 \"Action\" → action",
                "column 4 \"Notes\" ignored: it matches no field",
            ]
        );
        // Equal scores: the leftmost column wins.
        assert_eq!(
            field_of(&["Status", "RAG", "action"], 0),
            Some(Field::Status)
        );
        assert_eq!(field_of(&["Status", "RAG", "action"], 1), None);
    }

    #[test]
    fn every_canonical_column_is_read() {
        let csv = "ref,priority,action,impact,outcome,lead,due,status,progress,cross_refs\n\
                   1.1,Listen to children,Run a survey,Voices heard,Survey done,\"A; B\",May 2024,Green,Draft out,\"1.2, 2.1\"\n\
                   1.2,,Act on it,,,,Ongoing,in progress,,\n";
        let plan = parse(csv).unwrap();
        let fields: Vec<Option<Field>> = plan.columns.iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            [
                Field::Ref,
                Field::Priority,
                Field::Action,
                Field::Impact,
                Field::Outcome,
                Field::Lead,
                Field::Due,
                Field::Status,
                Field::Progress,
                Field::CrossRefs
            ]
            .map(Some)
        );
        assert_eq!(
            plan.priorities,
            [ImportedPriority {
                key: "1".into(),
                title: "Listen to children".into()
            }]
        );
        let first = ImportedAction {
            impact: "Voices heard".into(),
            outcome: "Survey done".into(),
            leads: vec!["A".into(), "B".into()],
            due_raw: "May 2024".into(),
            milestones: parse_timescale("May 2024"),
            status: Some(ImportedStatus::Green),
            progress: "Draft out".into(),
            cross_refs: vec!["1.2".into(), "2.1".into()],
            ..action(2, "1.1", "Run a survey")
        };
        let second = ImportedAction {
            due_raw: "Ongoing".into(),
            status: Some(ImportedStatus::Amber),
            ..action(3, "1.2", "Act on it")
        };
        assert_eq!(plan.actions, [first, second]);
    }

    #[test]
    fn the_manchester_jtai_plan_imports_completely() {
        let plan = parse_plan_csv("manchester.csv", &fixture("manchester-jtai-2023.csv")).unwrap();
        assert_eq!(plan.actions.len(), 14);
        let keys: Vec<&str> = plan.priorities.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["1", "2", "3", "5", "6"]);
        assert!(plan.priorities[0]
            .title
            .starts_with("How effectively the arrangements"));
        assert_eq!(plan.priorities[4].title, "Priority 6");
        let by_ref = |r: &str| plan.actions.iter().find(|a| a.reference == r).unwrap();
        assert_eq!(by_ref("6.3").milestones.len(), 2);
        assert_eq!(by_ref("6.4").milestones.len(), 2);
        assert_eq!(by_ref("2.1").milestones.len(), 2);
        assert_eq!(by_ref("2.3").milestones, []);
        assert_eq!(by_ref("2.3").due_raw, "(Dates as in CCPS)");
        assert_eq!(by_ref("5.1").due_raw, "");
        assert_eq!(by_ref("5.1").milestones, []);
        assert_eq!(by_ref("5.1").cross_refs, ["3.1"]);
        assert_eq!(
            by_ref("6.3").leads,
            ["Al Ford, Director of CAMHS, Manchester University NHS Foundation Trust (MFT)"]
        );
        assert_eq!(by_ref("1.1").leads.len(), 2);
        assert_eq!(
            by_ref("2.1").leads,
            [
                "Education",
                "Health",
                "CSC",
                "Complex Safeguarding Team/SEG"
            ]
        );
        assert!(by_ref("6.1").title.starts_with("7 Minute Briefing"));
        assert!(plan.actions.iter().all(|a| a.status.is_none()));
        assert_eq!(by_ref("6.5").row, 15);
    }

    #[test]
    fn a_ref_at_the_start_of_the_action_text_is_the_ref() {
        let csv = "ref,Specific action\n\
                   ,1.4 Independent scrutiny of the plan\n\
                   ,1.5. Audit: pick cases\n\
                   2.1,2.1 - Same ref in both places\n\
                   2.2,7 Minute Briefing is shared\n\
                   ,A1) Lettered ref\n\
                   ,3a Suffixed ref\n\
                   ,4) Numbered with a bracket\n";
        let refs_and_titles: Vec<(String, String)> = parse(csv)
            .unwrap()
            .actions
            .into_iter()
            .map(|a| (a.reference, a.title))
            .collect();
        let expected = [
            ("1.4", "Independent scrutiny of the plan"),
            ("1.5", "Audit: pick cases"),
            ("2.1", "Same ref in both places"),
            ("2.2", "7 Minute Briefing is shared"),
            ("A1", "Lettered ref"),
            ("3a", "Suffixed ref"),
            ("4", "Numbered with a bracket"),
        ]
        .map(|(r, t)| (r.to_owned(), t.to_owned()));
        assert_eq!(refs_and_titles, expected);
        // Without a ref column, text that does not start with a ref is an error.
        let no_ref = parse("action\n7 Minute Briefing\n").unwrap_err();
        assert_eq!(where_(&no_ref), (Some(2), Some(1)));
        assert!(no_ref.message.starts_with("no ref"), "{no_ref}");
    }

    #[test]
    fn priorities_group_by_the_first_part_of_the_ref() {
        let csv = "ref,priority,action\n\
                   2.1,,a\n\
                   2.2,Second priority,b\n\
                   2.3,Another wording,c\n\
                   A1,Lettered,d\n\
                   1a,,e\n\
                   7,,f\n\
                   1.1,First,g\n";
        let plan = parse(csv).unwrap();
        let priorities: Vec<(&str, &str)> = plan
            .priorities
            .iter()
            .map(|p| (p.key.as_str(), p.title.as_str()))
            .collect();
        assert_eq!(
            priorities,
            [
                ("2", "Second priority"),
                ("A1", "Lettered"),
                ("1a", "Priority 1a"),
                ("7", "Priority 7"),
                ("1", "First")
            ]
        );
        let keys: Vec<&str> = plan
            .actions
            .iter()
            .map(|a| a.priority_key.as_str())
            .collect();
        assert_eq!(keys, ["2", "2", "2", "A1", "1a", "7", "1"]);
    }

    #[test]
    fn leads_split_on_semicolons_and_lines_but_not_commas() {
        let csv = "action,Who Responsible\n\
                   1.1 a,\"Al Ford, Director of CAMHS\"\n\
                   1.2 b,\"Police; Health\nSchools;; \"\n\
                   1.3 c,\n";
        let leads: Vec<Vec<String>> = parse(csv)
            .unwrap()
            .actions
            .into_iter()
            .map(|a| a.leads)
            .collect();
        let expected: [&[&str]; 3] = [
            &["Al Ford, Director of CAMHS"],
            &["Police", "Health", "Schools"],
            &[],
        ];
        assert_eq!(
            leads,
            expected.map(|l| l.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        );
    }

    #[test]
    fn status_words_are_read_leniently() {
        let table: &[(&str, Option<ImportedStatus>)] = &[
            ("", None),
            ("Green", Some(ImportedStatus::Green)),
            (" GREEN. ", Some(ImportedStatus::Green)),
            ("G", Some(ImportedStatus::Green)),
            ("amber", Some(ImportedStatus::Amber)),
            ("In progress", Some(ImportedStatus::Amber)),
            ("in-progress", Some(ImportedStatus::Amber)),
            ("Ongoing", Some(ImportedStatus::Amber)),
            ("Red!", Some(ImportedStatus::Red)),
            ("Complete", Some(ImportedStatus::Complete)),
            ("completed", Some(ImportedStatus::Complete)),
            ("Grey", Some(ImportedStatus::Complete)),
            ("gray", Some(ImportedStatus::Complete)),
            ("Carry over", Some(ImportedStatus::CarriedOver)),
            ("Carried  over", Some(ImportedStatus::CarriedOver)),
            ("carried-forward", Some(ImportedStatus::CarriedOver)),
            ("BLUE", Some(ImportedStatus::CarriedOver)),
            ("Not started", Some(ImportedStatus::NotStarted)),
        ];
        for (word, expected) in table {
            assert_eq!(status_from_word(word), Ok(*expected), "status {word:?}");
        }
        let unknown = parse("ref,action,RAG\n1.1,a,green\n1.2,b,purple\n").unwrap_err();
        assert_eq!(where_(&unknown), (Some(3), Some(3)));
        assert!(unknown.to_string().contains("column 3 (RAG)"), "{unknown}");
        assert!(unknown.message.contains("green, amber, red"), "{unknown}");
    }

    #[test]
    fn any_bad_row_rejects_the_file_naming_row_and_column() {
        let missing_action = parse("ref,Specific action\n1.1,ok\n1.2,\n").unwrap_err();
        assert_eq!(where_(&missing_action), (Some(3), Some(2)));
        assert_eq!(
            missing_action.to_string(),
            "plan.csv row 3, column 2 (Specific action): no action text; every row needs the \
             action it describes, so fill it in or delete the row. Nothing from the file was \
             imported."
        );
        let duplicate = parse("ref,action\n1.1,a\n1.2,b\n1.1,c\n").unwrap_err();
        assert_eq!(where_(&duplicate), (Some(4), Some(1)));
        assert!(
            duplicate.message.contains("ref 1.1 is also used on row 2"),
            "{duplicate}"
        );
        let latin1 = parse_plan_csv("plan.csv", b"ref,action\n1.1,ok\n1.2,caf\xE9\n").unwrap_err();
        assert_eq!(where_(&latin1), (Some(3), Some(2)));
        assert!(latin1.message.contains("UTF-8"), "{latin1}");
        let bad_header = parse_plan_csv("plan.csv", b"ref,act\xEFon\n").unwrap_err();
        assert_eq!(where_(&bad_header), (Some(1), Some(2)));
        let stray = parse("ref,action\n1.1,a,,\n1.2,b,stray\n").unwrap_err();
        assert_eq!(where_(&stray), (Some(3), Some(3)));
        assert!(
            stray.to_string().contains("column 3 (no header)"),
            "{stray}"
        );
        let bad_ref = parse("ref,action\n1 1,a\n").unwrap_err();
        assert_eq!(where_(&bad_ref), (Some(2), Some(1)));
        let heading = parse("priority,ref,action\nPriority 1: Listen,,\n").unwrap_err();
        assert!(
            heading.message.contains("priority heading row"),
            "{heading}"
        );
        let too_long = parse(&format!(
            "ref,action\n1.1,{}\n",
            "x".repeat(MAX_CELL_BYTES + 1)
        ))
        .unwrap_err();
        assert_eq!(where_(&too_long), (Some(2), Some(2)));
    }

    #[test]
    fn files_without_actions_are_refused_with_what_to_do() {
        let no_action_column = parse("Lead,Timescale\nx,May 2024\n").unwrap_err();
        assert_eq!(where_(&no_action_column), (Some(1), None));
        assert!(
            no_action_column
                .message
                .contains("headers seen: \"Lead\", \"Timescale\""),
            "{no_action_column}"
        );
        assert!(parse("").unwrap_err().message.contains("empty"));
        assert!(parse("\n\n,,\n").unwrap_err().message.contains("empty"));
        assert!(parse("ref,action\n,,\n")
            .unwrap_err()
            .message
            .contains("no actions"));
        let utf16 = parse_plan_csv("plan.csv", b"\xFF\xFEr\0e\0f\0").unwrap_err();
        assert!(utf16.message.contains("UTF-16"), "{utf16}");
    }

    #[test]
    fn bom_crlf_quotes_and_blank_rows_are_fine() {
        let csv = b"\xEF\xBB\xBFref,action,status\r\n\
                    1.1,\"Say \"\"hi\"\",\r\ntwice\",Carried over\r\n\
                    ,,\r\n\
                    \r\n\
                    1.2,Next,In progress\r\n";
        let plan = parse_plan_csv("plan.csv", csv).unwrap();
        assert_eq!(plan.columns[0].header, "ref");
        let expected = [
            ImportedAction {
                status: Some(ImportedStatus::CarriedOver),
                ..action(2, "1.1", "Say \"hi\",\ntwice")
            },
            // Rows 3 (commas only) and 4 (an empty line) are blank and skipped.
            ImportedAction {
                status: Some(ImportedStatus::Amber),
                ..action(5, "1.2", "Next")
            },
        ];
        assert_eq!(plan.actions, expected);
    }

    #[test]
    fn rows_are_counted_as_the_spreadsheet_shows_them() {
        for (csv, rows) in [
            ("\n\nref,action\n1.1,a\n", vec![4]),
            ("ref,action\n\n\n1.1,a\n\n1.2,b", vec![4, 6]),
            (
                "ref,action\r\n1.1,\"a\r\n\r\nb\"\r\n\r\n1.2,c\r\n",
                vec![2, 4],
            ),
            ("ref,action\r1.1,a\r\r1.2,b\r", vec![2, 4]),
        ] {
            let found: Vec<usize> = parse(csv).unwrap().actions.iter().map(|a| a.row).collect();
            assert_eq!(found, rows, "csv {csv:?}");
        }
        let error = parse("ref,action\n\n1.1,a\n\n1.2,\n").unwrap_err();
        assert_eq!(error.row, Some(5));
    }

    #[test]
    fn cells_are_trimmed_and_stripped_of_control_characters() {
        let csv = "ref,action,progress\n 1.1 ,\" Tab\tkept \u{7}bell gone \u{202E}override gone\",\"a\r\nb\rc\"\n";
        let action = &parse(csv).unwrap().actions[0];
        assert_eq!(action.reference, "1.1");
        assert_eq!(action.title, "Tab\tkept bell gone override gone");
        assert_eq!(action.progress, "a\nb\nc");
    }

    #[test]
    fn a_hundred_thousand_rows_import() {
        let mut csv = String::from("ref,action,lead,due,status,cross_refs\n");
        for i in 0..100_000 {
            csv.push_str(&format!(
                "{}.{},Action {i},Lead {i}; Other,May 2024,green,1.1\n",
                i / 100,
                i % 100
            ));
        }
        let plan = parse(&csv).unwrap();
        assert_eq!(plan.actions.len(), 100_000);
        assert_eq!(plan.priorities.len(), 1_000);
        assert_eq!(plan.actions[99_999].row, 100_001);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_plan_csv("fuzz.csv", &bytes);
        }

        #[test]
        fn csv_like_text_never_panics_and_keeps_every_row(
            body in "([0-9a-c.;, \"\r\n\t]|green|May 2024){0,200}"
        ) {
            let csv = format!("ref,action,lead,due,status,cross_refs\n{body}");
            if let Ok(plan) = parse(&csv) {
                let rows: Vec<usize> = plan.actions.iter().map(|a| a.row).collect();
                proptest::prop_assert!(rows.windows(2).all(|w| w[0] < w[1]));
                proptest::prop_assert!(plan.actions.iter().all(|a| !a.title.is_empty()));
            }
        }
    }
}
