//! What an import will record, shown before it is recorded: as text for a person at
//! a terminal, and as JSON (`columns`, `priorities`, `actions`, `warnings`, …) for
//! the web preview, scripts and golden tests. Both show every field in full; a
//! preview that cut text would not show what is signed.

use serde_json::{json, Value};

use projections::timescale::days_to_date;

use super::columns::ColumnMapping;
use super::{ImportedAction, ImportedPlan, Recording};

fn day(days: i32) -> String {
    days_to_date(days).map_or_else(|| days.to_string(), |d| d.to_string())
}

fn columns_json(columns: &[ColumnMapping]) -> Value {
    columns
        .iter()
        .map(|c| {
            json!({
                "column": c.label,
                "header": c.header,
                "field": c.used_as.name(),
                "why": c.why,
            })
        })
        .collect()
}

fn action_json(action: &ImportedAction) -> Value {
    json!({
        "at": action.at.to_string(),
        "ref": action.reference,
        "priority": action.priority_key,
        "action": action.title,
        "impact": action.impact,
        "outcome": action.outcome,
        "leads": action.leads,
        "lead_agencies": action.lead_agencies,
        "timescale": action.due_raw,
        "milestones": action.milestones.iter().map(|m| json!({"label": m.label, "due": day(m.on)})).collect::<Vec<_>>(),
        "status": action.status.map(|s| s.as_str()),
        "progress": action.progress,
        "cross_refs": action.cross_refs,
        "extras": action.extras.iter().map(|e| json!({"header": e.header, "text": e.text})).collect::<Vec<_>>(),
    })
}

/// The preview as JSON. `events` is how many events confirming would record.
pub fn to_json(plan: &ImportedPlan, recording: &Recording, events: usize, dry_run: bool) -> Value {
    json!({
        "file": recording.file_name,
        "source": plan.source,
        "dry_run": dry_run,
        "plan": {
            "id": recording.plan_id,
            "title": recording.title,
            "period": recording.period,
            "effective": day(recording.effective),
            "as_at": day(recording.as_at),
        },
        "events": events,
        "title_block": plan.title_block,
        "notes": plan.notes,
        "columns": columns_json(&plan.columns),
        "later_columns": plan.later_columns.iter().map(|(at, columns)| json!({"at": at.to_string(), "columns": columns_json(columns)})).collect::<Vec<_>>(),
        "warnings": plan.warnings.iter().map(|w| json!({"at": w.at, "message": w.message})).collect::<Vec<_>>(),
        "priorities": plan.priorities.iter().map(|p| json!({"key": p.key, "title": p.title, "description": p.description})).collect::<Vec<_>>(),
        "actions": plan.actions.iter().map(action_json).collect::<Vec<_>>(),
    })
}

/// Indents every line after the first of a multi-line text.
fn indented(text: &str, by: usize) -> String {
    text.replace('\n', &format!("\n{}", " ".repeat(by)))
}

/// The preview as text: how the file was read, every warning, the priorities and
/// every action with all it will record.
pub fn to_text(plan: &ImportedPlan, recording: &Recording, events: usize) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("Read {} as {}.", recording.file_name, plan.source));
    line(format!(
        "Plan {}: {:?}{}, starting {}; statuses and progress as at {}.",
        recording.plan_id,
        recording.title,
        recording
            .period
            .as_ref()
            .map_or(String::new(), |p| format!(" ({p})")),
        day(recording.effective),
        day(recording.as_at)
    ));
    if !plan.title_block.is_empty() {
        line("Title block (the rows above the header):".to_owned());
        for title in &plan.title_block {
            line(format!("  {}", indented(title, 2)));
        }
    }
    line("Columns:".to_owned());
    for column in &plan.columns {
        line(format!("  {}", column.describe()));
    }
    for (at, columns) in &plan.later_columns {
        line(format!("Columns from the header at {at}:"));
        for column in columns {
            line(format!("  {}", column.describe()));
        }
    }
    if !plan.notes.is_empty() {
        line("Notes:".to_owned());
        for note in &plan.notes {
            line(format!("  - {}", indented(note, 4)));
        }
    }
    if plan.warnings.is_empty() {
        line("Warnings: none.".to_owned());
    } else {
        line(format!(
            "Warnings ({}) — check each before recording:",
            plan.warnings.len()
        ));
        for warning in &plan.warnings {
            line(format!("  - {}", indented(&warning.to_string(), 4)));
        }
    }
    line(format!("Priorities ({}):", plan.priorities.len()));
    for priority in &plan.priorities {
        line(format!(
            "  {}  {}",
            priority.key,
            indented(&priority.title, 4)
        ));
        if !priority.description.is_empty() {
            line(format!("     {}", indented(&priority.description, 5)));
        }
    }
    line(format!("Actions ({}):", plan.actions.len()));
    for action in &plan.actions {
        let status = action.status.map_or("no status", |s| s.label());
        line(format!(
            "  {} (priority {}, {}) [{}]",
            action.reference, action.priority_key, action.at, status
        ));
        let mut field = |name: &str, text: &str| {
            if !text.is_empty() {
                line(format!("      {name}: {}", indented(text, 8)));
            }
        };
        field("action", &action.title);
        field("impact", &action.impact);
        field("outcome", &action.outcome);
        field("leads", &action.leads.join("; "));
        field("agencies", &action.lead_agencies.join(", "));
        field("timescale", &action.due_raw);
        let milestones: Vec<String> = action
            .milestones
            .iter()
            .map(|m| format!("{} by {}", m.label, day(m.on)))
            .collect();
        field("milestones", &milestones.join("; "));
        field("progress", &action.progress);
        field("cross-refs", &action.cross_refs.join(", "));
        for extra in &action.extras {
            field(&extra.header, &extra.text);
        }
    }
    line(format!(
        "Recording this adds {events} events to the ledger."
    ));
    out
}
