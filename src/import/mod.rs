//! Reading an action plan from the file a board keeps it in — a Word document's
//! tables, an Excel or OpenDocument sheet, or CSV/TSV text — into priorities and
//! actions, and the events that record them.
//!
//! Pure: file bytes in, a plan and its warnings out; the ledger is touched only by
//! the caller, once the user has seen the preview and confirmed. It never returns
//! some rows without the others, so an import is one atomic batch or nothing.
//!
//! The layers, top to bottom:
//! - `sniff` tells what the file is from its content (never its name) and refuses
//!   what cannot be read, saying what to export instead;
//! - `text`, `docx` and `sheet` read the file into a [`grid::Grid`]: rows of cells
//!   with their text, fill colour and merges, where the user finds them;
//!   `office` holds what the Word and spreadsheet readers share;
//! - `layout` reads the plan out of the grid (header, title block, priority rows,
//!   continuations, cross-references, compound cells), `columns` says which column
//!   is which field, `status` reads RAG words and colours;
//! - [`plan_events`] turns the plan into the events to record; `preview` shows
//!   exactly those, as text or JSON.

pub mod columns;
mod docx;
pub mod grid;
mod layout;
mod office;
pub mod preview;
mod sheet;
mod sniff;
pub mod status;
mod text;

use std::fmt;

use projections::events::{
    subject, ActionAdded, ActionDetails, DomainEvent, ExtraField, PlanCreated, PriorityAdded,
    ProgressNoted, StatusChanged,
};
use projections::planned::{check_id, require_text, Planned};
use projections::timescale::Milestone;
pub use projections::timescale::PlanYears;
use projections::{Rag, Rejection, World};

pub use columns::{ColumnMapping, Field, Use};
use grid::RowAt;
pub use sniff::FileKind;
use status::Legend;

/// How to read a file: the user's choices.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The sheet of a workbook to read (the first visible one by default).
    pub sheet: Option<String>,
    /// `--map "HEADER=FIELD"`, by normalised header.
    pub maps: Vec<(String, Use)>,
    pub legend: Legend,
    /// The plan's years (from `--period`), which make two-digit years in timescales
    /// unambiguous. When unknown, the years in the file's title block are used, and
    /// failing those the year around `around_year`.
    pub years: PlanYears,
    /// The year the plan starts (from `--effective`).
    pub around_year: Option<i32>,
}

impl ImportOptions {
    /// Reads `--map` and `--legend` values, refusing any that cannot be used.
    pub fn new(
        sheet: Option<String>,
        maps: &[String],
        legends: &[String],
        years: PlanYears,
    ) -> Result<ImportOptions, String> {
        let mut options = ImportOptions {
            sheet,
            years,
            ..ImportOptions::default()
        };
        for map in maps {
            let Some((header, field)) = map.rsplit_once('=') else {
                return Err(format!("--map {map:?} is not HEADER=FIELD; write it as \"Evidence of progress=outcome\""));
            };
            let used_as = Use::parse(field).ok_or_else(|| {
                format!("--map {map:?}: {:?} is not a field; use ref, priority, action, impact, outcome, lead, due, status, progress, cross_refs, keep or ignore", field.trim())
            })?;
            options
                .maps
                .push((columns::normalise_header(header), used_as));
        }
        for legend in legends {
            options.legend.set(legend)?;
        }
        Ok(options)
    }
}

/// A priority of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPriority {
    /// "6" for actions 6.1, 6.2, … or the number of its heading row.
    pub key: String,
    /// The heading row's text, the first priority cell among its actions, or
    /// "Priority 6".
    pub title: String,
    /// Its Aim / Link / Outcome rows, one per line.
    pub description: String,
}

/// One action, read and cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAction {
    /// Where its row is in the file.
    pub at: RowAt,
    pub reference: String,
    pub priority_key: String,
    /// The action text, without a ref written at its start.
    pub title: String,
    pub impact: String,
    pub outcome: String,
    /// One lead per paragraph, line or `;`; commas stay inside a lead.
    pub leads: Vec<String>,
    /// The ids of the registered agencies its leads name (`app::import::resolve_leads`;
    /// empty until resolved). Shown in the preview; the leads are recorded as written.
    pub lead_agencies: Vec<String>,
    /// The timescale exactly as written (with any date read from the lead cell).
    pub due_raw: String,
    pub milestones: Vec<Milestone>,
    pub status: Option<Rag>,
    pub progress: String,
    pub cross_refs: Vec<String>,
    /// Columns no field holds, under their headers.
    pub extras: Vec<ExtraField>,
}

/// Something the user should check before confirming: a judgement the import made
/// or text it did not take in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where: "table 1 row 7, column 6 (RAG)".
    pub at: Option<String>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Everything read from one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPlan {
    /// What the file was read as ("Word document, 2 tables").
    pub source: String,
    /// Facts about the reading (the sheet read, repeated headers skipped, dates
    /// found in lead cells), not needing a decision.
    pub notes: Vec<String>,
    /// The rows above the header: the first is the plan's default title.
    pub title_block: Vec<String>,
    pub columns: Vec<ColumnMapping>,
    /// Header rows further down that differ from the first, and their columns.
    pub later_columns: Vec<(RowAt, Vec<ColumnMapping>)>,
    /// In order of first appearance.
    pub priorities: Vec<ImportedPriority>,
    pub actions: Vec<ImportedAction>,
    pub warnings: Vec<Warning>,
}

/// Why a file was refused: where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file's display name, as given by the caller.
    pub file: String,
    pub at: Option<RowAt>,
    /// The column as the user names it ("C", or "3") and its header.
    pub column: Option<String>,
    /// What is wrong and what to do, without a final full stop.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(at) = self.at {
            write!(f, " {at}")?;
        }
        if let Some(column) = &self.column {
            let comma = if self.at.is_some() { "," } else { "" };
            write!(f, "{comma} column {column}")?;
        }
        write!(f, ": {}. Nothing from the file was imported.", self.message)
    }
}

impl std::error::Error for ImportError {}

/// The longest text accepted in one cell, the same limit as other free text in
/// Assure; longer material belongs in evidence.
pub const MAX_CELL_BYTES: usize = 16 * 1024;

/// The largest plan file read, in bytes: a 100,000-action CSV is about 7 MB and a
/// 10,000-action workbook under 1 MB, so this is far beyond any plan, and it bounds
/// what the file itself takes in memory (the web's upload limit is lower still).
pub const FILE_LIMIT: u64 = 32 * 1024 * 1024;

/// Reads a plan from a file's bytes, whatever its kind. `file` names it in errors.
pub fn read_plan(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportedPlan, ImportError> {
    let refuse = |message: String| ImportError {
        file: file.to_owned(),
        at: None,
        column: None,
        message,
    };
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(refuse(format!(
            "the file is larger than {} MiB, the limit for a plan file, far more than any \
             action plan needs; check it is the plan, or split the plan into smaller files and \
             import each",
            FILE_LIMIT / (1024 * 1024)
        )));
    }
    let kind = sniff::file_kind(bytes).map_err(|u| refuse(u.message))?;
    if options.sheet.is_some() && matches!(kind, FileKind::Word | FileKind::Text) {
        return Err(refuse(
            "--sheet is for workbooks (.xlsx, .ods), and this file is not one; import it without --sheet".to_owned(),
        ));
    }
    let sheet = options.sheet.as_deref();
    let grid = match kind {
        FileKind::Word => docx::read_docx(bytes),
        FileKind::Excel => sheet::read_xlsx(bytes, sheet),
        FileKind::OpenDocument => sheet::read_ods(bytes, sheet),
        FileKind::Text => text::read_text(bytes),
    }
    .map_err(|u| refuse(u.message))?;
    layout::read_layout(file, grid, options)
}

/// What to record, besides the plan read from the file.
#[derive(Debug, Clone)]
pub struct Recording {
    pub plan_id: String,
    pub title: String,
    pub period: Option<String>,
    /// When the plan starts: the plan and its actions take effect then.
    pub effective: i32,
    /// The date the file's statuses and progress describe; on or after `effective`.
    pub as_at: i32,
    /// The file's name, kept on each action as where it came from.
    pub file_name: String,
}

/// The events that bring an imported plan into the ledger: the plan (if new), its
/// new priorities and every action, effective at the plan's start; when the file's
/// statuses describe a later date (`as_at`), each action's status and progress are
/// their own events effective then, so the plan as it stood on its first day shows
/// none of them. All or nothing: an action whose ref the plan already has refuses
/// the whole import.
pub fn plan_events(
    world: &World,
    imported: &ImportedPlan,
    recording: &Recording,
) -> Result<Vec<Planned>, Rejection> {
    let plan_id = recording.plan_id.as_str();
    check_id("plan id", plan_id)?;
    if recording.as_at < recording.effective {
        return Err(Rejection("--as-at is before --effective: the statuses in a file cannot describe a date before the plan starts; give --as-at on or after --effective".to_owned()));
    }
    let later = recording.as_at > recording.effective;
    let at_start = |p: Planned| p.effective_on(recording.effective);
    let mut planned = Vec::new();
    let existing = world.plan(plan_id);
    if existing.is_none() {
        planned.push(at_start(Planned::new(
            subject::plan(plan_id),
            DomainEvent::PlanCreated(PlanCreated {
                title: require_text("the plan title", &recording.title)?,
                period: recording.period.clone(),
            }),
        )));
    }
    for priority in &imported.priorities {
        let known = existing.is_some_and(|p| p.priorities.iter().any(|q| q.key == priority.key));
        if !known {
            planned.push(at_start(Planned::new(
                subject::plan(plan_id),
                DomainEvent::PriorityAdded(PriorityAdded {
                    key: priority.key.clone(),
                    title: priority.title.clone(),
                    description: priority.description.clone(),
                }),
            )));
        }
    }
    let mut later_events = Vec::new();
    for action in &imported.actions {
        let source = format!("{} {}", recording.file_name, action.at);
        check_id("action ref", &action.reference)
            .map_err(|e| Rejection(format!("{source}: {e}")))?;
        if existing.is_some_and(|plan| plan.action(&action.reference).is_some()) {
            return Err(Rejection(format!(
                "{source}: plan {plan_id} already has an action {}; nothing was imported. \
                 Import into a new plan, or record changes to existing actions with status, progress or amend",
                action.reference
            )));
        }
        let status = action.status.unwrap_or(Rag::NotStarted);
        let subject = subject::action(plan_id, &action.reference);
        planned.push(at_start(Planned::new(
            subject.clone(),
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
                    extras: action.extras.clone(),
                },
                status: if later { Rag::NotStarted } else { status },
                progress: if later {
                    String::new()
                } else {
                    action.progress.clone()
                },
                source: source.clone(),
            }),
        )));
        if later {
            if status != Rag::NotStarted {
                let rationale = format!("Status as at {} in {source}", day_text(recording.as_at));
                later_events.push(
                    Planned::new(
                        subject.clone(),
                        DomainEvent::StatusChanged(StatusChanged { status, rationale }),
                    )
                    .effective_on(recording.as_at),
                );
            }
            if !action.progress.is_empty() {
                later_events.push(
                    Planned::new(
                        subject,
                        DomainEvent::ProgressNoted(ProgressNoted {
                            note: action.progress.clone(),
                            evidence: Vec::new(),
                        }),
                    )
                    .effective_on(recording.as_at),
                );
            }
        }
    }
    planned.extend(later_events);
    Ok(planned)
}

fn day_text(day: i32) -> String {
    projections::timescale::days_to_date(day).map_or_else(|| day.to_string(), |d| d.to_string())
}

#[cfg(test)]
mod tests;
