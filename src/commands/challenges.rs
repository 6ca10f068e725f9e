//! Challenge-log commands: raise, respond, escalate, close, reopen, and the log.

use std::path::PathBuf;

use anyhow::Result;
use projections::events::*;
use projections::read::world_at;
use projections::views::{challenge_log, challenge_view, ChallengeFilter};

use super::plans::time_query;
use super::{print_json, read_evidence};
use crate::app::{input, App, Change, Subjects};
use crate::cli::TimeArgs;
use crate::dates::today;
use crate::exit::Usage;
use crate::table;

pub fn raise(
    app: &mut App,
    to: &str,
    text: &str,
    about: &[String],
    due: Option<i32>,
    effective: i32,
) -> Result<()> {
    let about = input::action_refs(about.iter().map(String::as_str), "--about")?;
    let change = Change::raise(to, text, about, due, effective)?;
    let headers = app.record(change, effective, &[])?;
    let id = headers
        .first()
        .and_then(|h| h.subject.strip_prefix("challenge/"))
        .unwrap_or_default();
    crate::outln!("{id}");
    Ok(())
}

fn challenge_history(app: &App, id: &str) -> Result<Vec<projections::Recorded>> {
    let history = app.load(&[Subjects::Exact(subject::challenge(id))])?;
    if history.is_empty() {
        return Err(Usage(format!("no challenge {id}; `assure challenges` lists them")).into());
    }
    Ok(history)
}

/// Records one step of challenge `id`'s life, once it is known to exist.
fn record(
    app: &mut App,
    id: &str,
    change: Change,
    effective: i32,
    blobs: &[Vec<u8>],
) -> Result<u64> {
    challenge_history(app, id)?;
    let headers = app.record(change, effective, blobs)?;
    Ok(headers.first().map_or(0, |h| h.seq))
}

pub fn respond(
    app: &mut App,
    id: &str,
    text: &str,
    evidence: &[PathBuf],
    effective: i32,
) -> Result<()> {
    let (blobs, records) = read_evidence(evidence)?;
    let change = Change::Respond {
        id: id.to_owned(),
        text: text.to_owned(),
        evidence: records,
    };
    let seq = record(app, id, change, effective, &blobs)?;
    crate::outln!("Response to {id} recorded (event {seq}).");
    Ok(())
}

pub fn escalate(app: &mut App, id: &str, to: &str, reason: &str, effective: i32) -> Result<()> {
    let change = Change::Escalate {
        id: id.to_owned(),
        to: to.to_owned(),
        reason: reason.to_owned(),
    };
    let seq = record(app, id, change, effective, &[])?;
    crate::outln!("{id} escalated (event {seq}).");
    Ok(())
}

pub fn close(
    app: &mut App,
    id: &str,
    outcome: &str,
    impact: Option<String>,
    effective: i32,
) -> Result<()> {
    let change = Change::Close {
        id: id.to_owned(),
        outcome: outcome.to_owned(),
        impact,
    };
    let seq = record(app, id, change, effective, &[])?;
    crate::outln!("{id} closed (event {seq}).");
    Ok(())
}

pub fn reopen(
    app: &mut App,
    id: &str,
    reason: &str,
    due: Option<i32>,
    effective: i32,
) -> Result<()> {
    let change = Change::Reopen {
        id: id.to_owned(),
        reason: reason.to_owned(),
        due,
    };
    let seq = record(app, id, change, effective, &[])?;
    crate::outln!("{id} reopened (event {seq}).");
    Ok(())
}

/// `challenge extend`: sets or moves the date the response is due by.
pub fn extend(app: &mut App, id: &str, due: i32, reason: &str, effective: i32) -> Result<()> {
    let change = Change::SetDue {
        id: id.to_owned(),
        due,
        reason: reason.to_owned(),
    };
    let seq = record(app, id, change, effective, &[])?;
    crate::outln!(
        "{id}: the response is due by {} (event {seq}).",
        projections::views::date(due)
    );
    Ok(())
}

/// `agency add`: registers a partner agency and the other names plans use for it.
pub fn agency_add(
    app: &mut App,
    id: &str,
    name: &str,
    aliases: Vec<String>,
    effective: i32,
) -> Result<()> {
    let change = Change::RegisterAgency {
        id: id.to_owned(),
        name: name.to_owned(),
        aliases,
    };
    let headers = app.record(change, effective, &[])?;
    crate::outln!(
        "Registered agency {id}: {name} (event {}).",
        headers.first().map_or(0, |h| h.seq)
    );
    Ok(())
}

/// `agencies`: the registered partner agencies.
pub fn agencies(app: &App, json: bool) -> Result<()> {
    let history = app.load(&[Subjects::Prefix("agency/".into())])?;
    let world = world_at(&history, Default::default());
    if json {
        let list: Vec<_> = world
            .agencies
            .values()
            .map(|a| serde_json::json!({"id": a.id, "name": a.name, "aliases": a.aliases}))
            .collect();
        return print_json(&list);
    }
    if world.agencies.is_empty() {
        crate::outln!("No agencies registered yet. Register one with `assure agency add ID --name NAME [--alias A]`.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = world
        .agencies
        .values()
        .map(|a| vec![a.id.clone(), a.name.clone(), a.aliases.join(", ")])
        .collect();
    crate::out!(
        "{}",
        table::render(&["id", "name", "also called"], &rows, 50)
    );
    Ok(())
}

/// `challenge show`: the whole thread of one challenge, as an inspector reads it.
pub fn show(app: &App, id: &str, json: bool) -> Result<()> {
    let history = challenge_history(app, id)?;
    let world = world_at(&history, Default::default());
    let Some(challenge) = world.challenges.get(id) else {
        return Err(Usage(format!(
            "challenge {id}'s raising was erased; `assure history --subject challenge/{id}` shows what remains"
        ))
        .into());
    };
    let view = challenge_view(challenge, today());
    if json {
        return print_json(&view);
    }
    let late_after = app.late_after()?;
    let late = |days: i64| {
        if projections::views::is_late(days, late_after) {
            format!(" (recorded {days} days later)")
        } else {
            String::new()
        }
    };
    crate::outln!("Challenge {} to {}", view.id, view.to);
    crate::outln!("  raised:   {} by {}", view.raised_on, view.raised_by);
    crate::outln!(
        "  status:   {:?}{}",
        view.status,
        if view.overdue { " (overdue)" } else { "" }
    );
    if let Some(due) = &view.due {
        crate::outln!("  due:      {due}");
    }
    if !view.about.is_empty() {
        crate::outln!("  about:    {}", view.about.join(", "));
    }
    crate::outln!("  text:     {}", view.text);
    for r in &view.responses {
        crate::outln!(
            "  {} response by {}: {}{}",
            r.effective,
            r.actor,
            r.text,
            late(r.late_days)
        );
        for file in &r.evidence {
            crate::outln!(
                "      evidence: {} ({} bytes, blake3 {})",
                file.name,
                file.bytes,
                file.blake3
            );
        }
    }
    for e in &view.escalations {
        crate::outln!(
            "  {} {} by {}: {}{}",
            e.effective,
            e.kind,
            e.actor,
            e.text,
            late(e.late_days)
        );
    }
    if let Some(to) = &view.escalated_to {
        crate::outln!("  escalated to: {to}");
    }
    if let Some(outcome) = &view.outcome {
        crate::outln!(
            "  closed {}: {outcome}",
            view.closed_on.as_deref().unwrap_or_default()
        );
    }
    if let Some(impact) = &view.impact {
        crate::outln!("  impact:   {impact}");
    }
    Ok(())
}

pub fn list(
    app: &App,
    open_only: bool,
    agency: Option<String>,
    time: &TimeArgs,
    json: bool,
) -> Result<()> {
    let query = time_query(time)?;
    // The agencies too, so a filter by any of an agency's names finds its challenges.
    let history = app.load(&[
        Subjects::Prefix("challenge/".into()),
        Subjects::Prefix("agency/".into()),
    ])?;
    let world = world_at(&history, query);
    let log = challenge_log(
        &world,
        &ChallengeFilter {
            open_only,
            agency,
            ..ChallengeFilter::default()
        },
        query.as_of.unwrap_or_else(today),
    );
    if json {
        return print_json(&log);
    }
    if log.is_empty() {
        crate::outln!("No challenges match.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = log
        .iter()
        .map(|c| {
            let status = format!(
                "{:?}{}",
                c.status,
                if c.overdue { " (overdue)" } else { "" }
            )
            .to_lowercase();
            vec![
                c.id.clone(),
                c.raised_on.clone(),
                c.to.clone(),
                status,
                c.due.clone().unwrap_or_default(),
                c.text.clone(),
                c.responses
                    .last()
                    .map(|r| r.text.clone())
                    .unwrap_or_default(),
                c.escalated_to.clone().unwrap_or_default(),
                c.outcome.clone().unwrap_or_default(),
            ]
        })
        .collect();
    crate::out!(
        "{}",
        table::render(
            &[
                "id",
                "raised",
                "to",
                "status",
                "due",
                "challenge",
                "latest response",
                "escalated to",
                "outcome"
            ],
            &rows,
            36
        )
    );
    Ok(())
}
