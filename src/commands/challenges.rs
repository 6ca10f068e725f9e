//! Challenge-log commands: raise, respond, escalate, close, reopen, and the log.

use std::path::PathBuf;

use anyhow::Result;
use projections::commands::{next_challenge_id, raise_challenge, require_text, Planned};
use projections::events::*;
use projections::query::{world_at, TimeQuery};
use projections::views::{challenge_log, ChallengeFilter};

use super::plans::time_query;
use super::{print_json, read_evidence};
use crate::app::{App, Subjects};
use crate::cli::TimeArgs;
use crate::dates::today;
use crate::exit::Usage;
use crate::table;

fn parse_about(about: &[String]) -> Result<Vec<ActionRef>> {
    about
        .iter()
        .map(|text| match text.split_once('/') {
            Some((plan, reference)) if !plan.is_empty() && !reference.is_empty() => Ok(ActionRef {
                plan: plan.to_owned(),
                reference: reference.to_owned(),
            }),
            _ => Err(Usage(format!(
                "--about {text:?} should name an action as PLAN/REF, e.g. mcr-2023/1.4"
            ))
            .into()),
        })
        .collect()
}

pub fn raise(
    app: &mut App,
    to: &str,
    text: &str,
    about: &[String],
    due: Option<i32>,
    effective: i32,
) -> Result<()> {
    let about = parse_about(about)?;
    let mut history = Vec::new();
    let mut plans: Vec<&str> = about.iter().map(|a| a.plan.as_str()).collect();
    plans.sort_unstable();
    plans.dedup();
    for plan in plans {
        history.extend(app.load(&Subjects::plan(plan))?);
    }
    let world = world_at(
        &history,
        TimeQuery {
            as_of: Some(effective),
            known_at: None,
        },
    );
    let subjects = app.ledger.subjects_with_prefix("challenge/")?;
    let id = next_challenge_id(subjects.iter().map(String::as_str));
    if let Some(due) = due {
        if due < effective {
            return Err(Usage("--due is before the date the challenge was raised".into()).into());
        }
    }
    let raised = ChallengeRaised {
        to_agency: require_text("--to (the agency)", to)?,
        about,
        text: require_text("the challenge text", text)?,
        response_due: due,
    };
    let planned = raise_challenge(&world, &id, raised)?;
    app.commit(&history, planned, effective, &[])?;
    println!("{id}");
    Ok(())
}

fn challenge_history(app: &App, id: &str) -> Result<Vec<projections::Recorded>> {
    let history = app.load(&[Subjects::Exact(subject::challenge(id))])?;
    if history.is_empty() {
        return Err(Usage(format!("no challenge {id}; `assure challenges` lists them")).into());
    }
    Ok(history)
}

fn record(
    app: &mut App,
    id: &str,
    event: DomainEvent,
    effective: i32,
    blobs: &[Vec<u8>],
) -> Result<u64> {
    let history = challenge_history(app, id)?;
    let headers = app.commit(
        &history,
        vec![Planned::new(subject::challenge(id), event)],
        effective,
        blobs,
    )?;
    Ok(headers.first().map_or(0, |h| h.seq))
}

pub fn respond(
    app: &mut App,
    id: &str,
    text: &str,
    evidence: &[PathBuf],
    effective: i32,
) -> Result<()> {
    let text = require_text("the response", text)?;
    let (blobs, records) = read_evidence(evidence)?;
    let seq = record(
        app,
        id,
        DomainEvent::ChallengeResponded(ChallengeResponded {
            text,
            evidence: records,
        }),
        effective,
        &blobs,
    )?;
    println!("Response to {id} recorded (event {seq}).");
    Ok(())
}

pub fn escalate(app: &mut App, id: &str, to: &str, reason: &str, effective: i32) -> Result<()> {
    let event = ChallengeEscalated {
        to: require_text("--to", to)?,
        reason: require_text("the reason", reason)?,
    };
    let seq = record(
        app,
        id,
        DomainEvent::ChallengeEscalated(event),
        effective,
        &[],
    )?;
    println!("{id} escalated (event {seq}).");
    Ok(())
}

pub fn close(
    app: &mut App,
    id: &str,
    outcome: &str,
    impact: Option<String>,
    effective: i32,
) -> Result<()> {
    let impact = impact.map(|i| require_text("the impact", &i)).transpose()?;
    let event = ChallengeClosed {
        outcome: require_text("the outcome", outcome)?,
        impact,
    };
    let seq = record(app, id, DomainEvent::ChallengeClosed(event), effective, &[])?;
    println!("{id} closed (event {seq}).");
    Ok(())
}

pub fn reopen(app: &mut App, id: &str, reason: &str, effective: i32) -> Result<()> {
    let event = ChallengeReopened {
        reason: require_text("the reason", reason)?,
    };
    let seq = record(
        app,
        id,
        DomainEvent::ChallengeReopened(event),
        effective,
        &[],
    )?;
    println!("{id} reopened (event {seq}).");
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
    let history = app.load(&[Subjects::Prefix("challenge/".into())])?;
    let world = world_at(&history, query);
    let log = challenge_log(
        &world,
        &ChallengeFilter { open_only, agency },
        query.as_of.unwrap_or_else(today),
    );
    if json {
        return print_json(&log);
    }
    if log.is_empty() {
        println!("No challenges match.");
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
                c.outcome.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
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
                "outcome"
            ],
            &rows,
            36
        )
    );
    Ok(())
}
