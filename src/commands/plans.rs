//! Plan commands: create, import, list, show (as of any date), one action's timeline,
//! status, progress, amendment and carry-over.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use projections::events::*;
use projections::planned::CarryOptions;
use projections::read::{world_at, TimeQuery};
use projections::views::{action_timeline, date};
use projections::World;

use super::{print_json, read_evidence};
use crate::app::import::{read_import, resolve_leads, ImportRequest};
use crate::app::{input, App, Change, Subjects};
use crate::cli::ImportArgs;
use crate::cli::TimeArgs;
use crate::dates::today;
use crate::exit::Usage;
use crate::import::{plan_events, preview};
use crate::table;

pub fn time_query(time: &TimeArgs) -> Result<TimeQuery> {
    input::time_query(
        time.as_of.as_deref(),
        time.known_at.as_deref(),
        ["--as-of", "--known-at"],
    )
}

pub fn create(
    app: &mut App,
    id: &str,
    title: &str,
    period: Option<String>,
    effective: i32,
) -> Result<()> {
    let change = Change::CreatePlan {
        id: id.to_owned(),
        title: title.to_owned(),
        period,
    };
    let headers = app.record(change, effective, &[])?;
    crate::outln!(
        "Created plan {id} (event {}).",
        headers.first().map_or(0, |h| h.seq)
    );
    Ok(())
}

/// `assure import`: reads the file, shows how it was read, and records the plan in
/// one atomic batch — or, with `--dry-run`, records nothing and prints exactly what
/// would be recorded.
pub fn import<'a>(
    data: &Path,
    open: impl Fn() -> Result<App<'a>>,
    args: &ImportArgs,
) -> Result<()> {
    // A dry run needs no ledger: without one, the plan is new.
    let mut app = match open() {
        Ok(app) => Some(app),
        Err(_) if args.dry_run && !data.exists() => None,
        Err(error) => return Err(error),
    };
    import_into(app.as_mut(), args)
}

/// `import` into an open ledger (`None`: a dry run with no ledger yet).
pub fn import_into(app: Option<&mut App>, args: &ImportArgs) -> Result<()> {
    // Never more than one byte past the limit is read: `read_plan` refuses the rest.
    let mut bytes = Vec::new();
    std::fs::File::open(&args.file)
        .and_then(|file| {
            file.take(crate::import::FILE_LIMIT + 1)
                .read_to_end(&mut bytes)
        })
        .with_context(|| format!("reading {}", args.file.display()))?;
    let file_name = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let request = ImportRequest {
        plan: args.plan.clone(),
        file_name: file_name.clone(),
        shown_as: args.file.display().to_string(),
        title: args.title.clone(),
        period: args.period.clone(),
        effective: args.effective.clone(),
        as_at: args.as_at.clone(),
        sheet: args.sheet.clone(),
        maps: args.maps.clone(),
        legends: args.legends.clone(),
        fallback_title: args
            .file
            .file_stem()
            .map_or_else(|| args.plan.clone(), |s| s.to_string_lossy().into_owned()),
        date_names: ["--effective", "--as-at"],
    };
    let (mut imported, recording) = read_import(&request, &bytes)?;
    let (effective, as_at) = (recording.effective, recording.as_at);
    let (history, agencies) = match &app {
        Some(app) => (
            app.load(&Subjects::plan(&args.plan))?,
            app.load(&[Subjects::Prefix("agency/".into())])?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    resolve_leads(&World::replay(&agencies).0, &mut imported);
    let world = World::replay(&history).0;
    let planned = plan_events(&world, &imported, &recording).map_err(|e| Usage(e.0))?;
    let count = planned.len();
    if args.dry_run {
        if let Some(app) = &app {
            app.check(&history, &planned, effective)?;
        }
        if args.json {
            return print_json(&preview::to_json(&imported, &recording, count, true));
        }
        crate::out!("{}", preview::to_text(&imported, &recording, count));
        crate::outln!("Nothing was recorded (--dry-run).");
        return Ok(());
    }
    let Some(app) = app else {
        return Err(anyhow::anyhow!("no ledger to record into"));
    };
    if !args.json {
        crate::errln!("Read {} as {}.", file_name, imported.source);
        for column in &imported.columns {
            crate::errln!("{}", column.describe());
        }
        for warning in &imported.warnings {
            crate::errln!("warning: {warning}");
        }
    }
    let headers = app.commit(&history, planned, effective, &[])?;
    let (first, last) = (
        headers.first().map_or(0, |h| h.seq),
        headers.last().map_or(0, |h| h.seq),
    );
    if args.json {
        let mut preview = preview::to_json(&imported, &recording, count, false);
        preview["recorded"] = serde_json::json!({"first_seq": first, "last_seq": last});
        return print_json(&preview);
    }
    let as_at_note = if as_at > effective {
        format!("; statuses and progress as at {}", date(as_at))
    } else {
        String::new()
    };
    crate::outln!(
        "Imported {} actions under {} priorities into plan {} (events {first}–{last}), effective {}{as_at_note}, with {} warnings.",
        imported.actions.len(),
        imported.priorities.len(),
        args.plan,
        date(effective),
        imported.warnings.len()
    );
    Ok(())
}

pub fn list(app: &App, json: bool) -> Result<()> {
    let plans = crate::app::summaries::plan_summaries(app)?;
    if json {
        let plans: Vec<_> = plans
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "title": p.title, "period": p.period, "actions": p.actions, "counts": p.counts}))
            .collect();
        return print_json(&plans);
    }
    if plans.is_empty() {
        crate::outln!("No plans yet. Import one with `assure import FILE.csv --plan ID`.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = plans
        .iter()
        .map(|p| {
            let counts = p
                .counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                p.id.clone(),
                p.title.clone(),
                p.period.clone().unwrap_or_default(),
                p.actions.to_string(),
                counts,
            ]
        })
        .collect();
    crate::out!(
        "{}",
        table::render(
            &["plan", "title", "period", "actions", "by status"],
            &rows,
            50
        )
    );
    Ok(())
}

fn describe_time(query: &TimeQuery) -> String {
    let mut parts = Vec::new();
    if let Some(d) = query.as_of {
        parts.push(format!("as it stood on {}", date(d)));
    }
    if let Some(t) = query.known_at {
        parts.push(format!(
            "as recorded by {}",
            projections::views::timestamp(t)
        ));
    }
    if parts.is_empty() {
        "as it stands now".to_owned()
    } else {
        parts.join(", ")
    }
}

pub fn show(app: &App, id: &str, time: &TimeArgs, json: bool) -> Result<()> {
    let query = time_query(time)?;
    let Some(view) = app.plan_at(id, query)? else {
        return Err(Usage(format!(
            "no plan {id} {}; `assure plans` lists the plans",
            describe_time(&query)
        ))
        .into());
    };
    if json {
        return print_json(&view);
    }
    let period = view
        .plan
        .period
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    crate::outln!(
        "Plan {} — {}{period}, {}",
        view.plan.id,
        view.plan.title,
        describe_time(&query)
    );
    for priority in &view.priorities {
        let rows: Vec<Vec<String>> = view
            .actions
            .iter()
            .filter(|a| a.priority == priority.key)
            .map(|a| {
                let link = match (&a.carried_from, &a.carried_to) {
                    (_, Some(to)) => format!("→ {to}"),
                    (Some(from), None) => format!("← {from}"),
                    _ => String::new(),
                };
                let overdue = if a.overdue { " (overdue)" } else { "" };
                vec![
                    a.reference.clone(),
                    format!("{}{overdue}", a.status.label()),
                    a.title.clone(),
                    a.leads.join("; "),
                    a.due.clone(),
                    format!("{} {}", a.last_update.effective, a.last_update.actor),
                    link,
                ]
            })
            .collect();
        // A priority with no title of its own is named after its key already.
        if priority.title == format!("Priority {}", priority.key) {
            crate::outln!("\n{}", priority.title);
        } else {
            crate::outln!("\nPriority {}: {}", priority.key, priority.title);
        }
        crate::out!(
            "{}",
            table::render(
                &[
                    "ref",
                    "status",
                    "action",
                    "leads",
                    "timescale",
                    "last update",
                    "carry-over"
                ],
                &rows,
                40
            )
        );
    }
    let counts = view
        .counts
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    crate::outln!("\n{} actions: {counts}", view.actions.len());
    Ok(())
}

/// Loads the plans an action's timeline may cross: its own, and every plan that a
/// carry-over leads to or from, followed until no new plan appears.
fn load_linked_plans(app: &App, first: &str) -> Result<Vec<projections::Recorded>> {
    let mut plans = vec![first.to_owned()];
    let mut events = Vec::new();
    let mut i = 0;
    while let Some(plan) = plans.get(i).cloned() {
        i += 1;
        let loaded = app.load(&Subjects::plan(&plan))?;
        for recorded in &loaded {
            let linked = match &recorded.event {
                Some(DomainEvent::CarriedOver(c)) => Some(c.to.plan.clone()),
                Some(DomainEvent::CarriedIn(c)) => Some(c.from.plan.clone()),
                _ => None,
            };
            if let Some(linked) = linked {
                if !plans.contains(&linked) && plans.len() < 100 {
                    plans.push(linked);
                }
            }
        }
        events.extend(loaded);
    }
    Ok(events)
}

pub fn action(app: &App, id: &str, reference: &str, time: &TimeArgs, json: bool) -> Result<()> {
    let query = time_query(time)?;
    let mut history = load_linked_plans(app, id)?;
    history.extend(app.load(&[Subjects::Prefix("challenge/".into())])?);
    let world = world_at(&history, query);
    let at = ActionRef {
        plan: id.to_owned(),
        reference: reference.to_owned(),
    };
    let Some(timeline) = action_timeline(&world, &at, query.as_of.unwrap_or_else(today)) else {
        return Err(Usage(format!(
            "plan {id} has no action {reference} {}",
            describe_time(&query)
        ))
        .into());
    };
    if json {
        return print_json(&timeline);
    }
    let late_after = app.late_after()?;
    for step in &timeline.steps {
        let a = &step.action;
        crate::outln!("{}/{} — {}", step.plan, a.reference, a.title);
        crate::outln!("  status:    {}", a.status.label());
        crate::outln!("  leads:     {}", a.leads.join("; "));
        crate::outln!("  timescale: {}", a.due);
        for m in &a.milestones {
            crate::outln!("             {} by {}", m.label, m.date);
        }
        if !a.impact.is_empty() {
            crate::outln!("  impact:    {}", a.impact);
        }
        if !a.outcome.is_empty() {
            crate::outln!("  outcome:   {}", a.outcome);
        }
        if !a.cross_refs.is_empty() {
            crate::outln!("  see also:  {}", a.cross_refs.join(", "));
        }
        for extra in &a.extras {
            crate::outln!("  {}: {}", extra.header, extra.text.replace('\n', "\n    "));
        }
        if !step.imported_progress.is_empty() {
            crate::outln!("  progress (imported): {}", step.imported_progress);
        }
        for e in &step.entries {
            let late = if e.recorded_at_import {
                ", recorded at import".to_owned()
            } else if projections::views::is_late(e.late_days, late_after) {
                format!(", recorded {} days later", e.late_days)
            } else {
                String::new()
            };
            crate::outln!(
                "  {} [{}] {} — {} (seq {}{late})",
                e.effective,
                e.kind,
                e.text,
                e.actor,
                e.seq
            );
            for file in &e.evidence {
                crate::outln!(
                    "      evidence: {} ({} bytes, blake3 {})",
                    file.name,
                    file.bytes,
                    file.blake3
                );
            }
        }
        crate::outln!();
    }
    for c in &timeline.challenges {
        crate::outln!(
            "Challenge {} to {} ({:?}), raised {}: {}",
            c.id,
            c.to,
            c.status,
            c.raised_on,
            c.text
        );
    }
    Ok(())
}

pub fn status(
    app: &mut App,
    id: &str,
    reference: &str,
    status: Rag,
    note: &str,
    effective: i32,
) -> Result<()> {
    let change = Change::Status {
        at: action_ref(id, reference),
        status,
        rationale: note.to_owned(),
    };
    let headers = app.record(change, effective, &[])?;
    crate::outln!(
        "{id}/{reference} is now {} (event {}).",
        status.label(),
        headers.first().map_or(0, |h| h.seq)
    );
    Ok(())
}

fn action_ref(plan: &str, reference: &str) -> ActionRef {
    ActionRef {
        plan: plan.to_owned(),
        reference: reference.to_owned(),
    }
}

pub fn progress(
    app: &mut App,
    id: &str,
    reference: &str,
    note: &str,
    evidence: &[PathBuf],
    effective: i32,
) -> Result<()> {
    let (blobs, records) = read_evidence(evidence)?;
    let change = Change::Progress {
        at: action_ref(id, reference),
        note: note.to_owned(),
        evidence: records,
    };
    let headers = app.record(change, effective, &blobs)?;
    crate::outln!(
        "Progress recorded on {id}/{reference} (event {}, {} evidence file(s)).",
        headers.first().map_or(0, |h| h.seq),
        blobs.len()
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn amend(
    app: &mut App,
    id: &str,
    reference: &str,
    title: Option<String>,
    leads: Option<String>,
    timescale: Option<String>,
    reason: &str,
    effective: i32,
) -> Result<()> {
    let change = Change::Amend {
        at: action_ref(id, reference),
        title,
        leads,
        timescale,
        reason: reason.to_owned(),
    };
    let headers = app.record(change, effective, &[])?;
    crate::outln!(
        "Amended {id}/{reference} (event {}).",
        headers.first().map_or(0, |h| h.seq)
    );
    Ok(())
}

pub fn carry_over(
    app: &mut App,
    (id, reference): (&str, &str),
    (to_plan, to_ref): (&str, &str),
    reason: &str,
    forum: Option<String>,
    options: CarryOptions,
    effective: i32,
) -> Result<()> {
    let (from, to) = (action_ref(id, reference), action_ref(to_plan, to_ref));
    let change = Change::CarryOver {
        from: from.clone(),
        to: to.clone(),
        reason: reason.to_owned(),
        forum,
        options,
    };
    app.record(change, effective, &[])?;
    crate::outln!("Carried {from} over to {to}.");
    Ok(())
}

/// `late-after DAYS`: records the ledger's lateness threshold.
pub fn late_after(app: &mut App, days: u16, reason: &str, effective: i32) -> Result<()> {
    let change = Change::SetLateAfter {
        days,
        reason: reason.to_owned(),
    };
    let headers = app.record(change, effective, &[])?;
    crate::outln!(
        "Entries recorded more than {days} days after they took effect are now marked late (event {}).",
        headers.first().map_or(0, |h| h.seq)
    );
    Ok(())
}
