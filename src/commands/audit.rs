//! Ledger-wide commands: history, verify and redact (the one way a payload is erased;
//! its builder is `Ledger::redact`, which the ledger crate owns).

use anyhow::{Context as _, Result};
use projections::read::decode_stored;
use projections::views::history_entry;
use projections::World;

use super::{print_json, report_verification, Verdict};
use crate::app::App;
use crate::exit::Usage;
use crate::table;

/// What to say when no subject starts with `prefix`: the subjects nearest it (those
/// that share its first part and its last), so `plan/X/2.3` leads to
/// `plan/X/action/2.3`.
fn no_such_subject(app: &App, prefix: &str) -> Result<String> {
    let first = prefix.split('/').next().unwrap_or_default();
    let last = prefix
        .rsplit('/')
        .find(|p| !p.is_empty())
        .unwrap_or_default();
    let mut near: Vec<String> = app
        .ledger
        .subjects_with_prefix(first)?
        .into_iter()
        .filter(|s| !last.is_empty() && s.split('/').any(|part| part == last))
        .take(5)
        .collect();
    if near.is_empty() {
        near = app
            .ledger
            .subjects_with_prefix(first)?
            .into_iter()
            .take(5)
            .collect();
    }
    let mut message = format!("No event has a subject starting with {prefix:?}.");
    if !near.is_empty() {
        message.push_str(&format!(" Subjects near it: {}.", near.join(", ")));
    }
    message.push_str(" Subjects look like plan/ID, plan/ID/action/REF and challenge/C-0001.");
    Ok(message)
}

pub fn history(app: &App, prefix: Option<&str>, json: bool) -> Result<()> {
    let events = match prefix {
        Some(prefix) => app.ledger.events_with_subject_prefix(prefix)?,
        None => {
            let mut all = Vec::new();
            app.ledger.scan(0..u64::MAX, &mut |event| {
                all.push(event);
                Ok(true)
            })?;
            all
        }
    };
    let mut recorded = Vec::with_capacity(events.len());
    let mut hashes = Vec::with_capacity(events.len());
    for event in events {
        hashes.push((
            ledger::hex::hex(&event.header.event_hash()),
            event.header.kind.clone(),
        ));
        recorded.push(decode_stored(event)?);
    }
    if let (Some(prefix), true) = (prefix, recorded.is_empty()) {
        eprintln!("{}", no_such_subject(app, prefix)?);
    }
    // Redactions are ledger-wide events; they explain gaps in any subject's history.
    let redaction_events = app.load(&[crate::app::Subjects::Exact(
        projections::events::subject::LEDGER.into(),
    )])?;
    let redactions = World::replay(&redaction_events).0.redactions;
    let entries: Vec<_> = recorded
        .iter()
        .zip(hashes)
        .map(|(r, (hash, kind))| history_entry(r, hash, &kind, &redactions))
        .collect();
    if json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.hash.chars().take(12).collect(),
                e.recorded_at.clone(),
                e.effective.clone(),
                e.actor.clone(),
                e.subject.clone(),
                e.summary.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "seq",
                "hash",
                "recorded at",
                "effective",
                "actor",
                "subject",
                "summary"
            ],
            &rows,
            60
        )
    );
    Ok(())
}

pub fn verify(app: &App, json: bool) -> Result<()> {
    let mut report = app.ledger.verify();
    if report.ok {
        if let Some(problem) = crate::app::keys::check_stored_signatures(&app.ledger)? {
            report.ok = false;
            report.problem = Some(problem);
        }
    }
    if report.ok {
        if let Some((seq, problem)) = missing_evidence(app)? {
            report.ok = false;
            report.first_bad_seq = Some(seq);
            report.problem = Some(problem);
        }
    }
    let ok_line = format!(
        "OK: {} events and {} evidence files verified; head {}, Merkle root {}.\n\
         Whoever can write to this folder could still rewrite all of it: keep co-signed checkpoints \
         outside it and check them with `assure verify --against CHECKPOINT --trust VKEY`.",
        report.size, report.blobs, report.head, report.root
    );
    let verdict = Verdict {
        ok: report.ok,
        ok_line,
        first_bad_seq: report.first_bad_seq,
        problem: report.problem.as_deref(),
    };
    if !report.ok && !json {
        eprintln!("{} events verified before the problem.", report.size);
    }
    report_verification(&report, json, verdict)
}

/// Kinds whose event creates a record (a plan, a priority, an action, a challenge).
/// Erasing one today would hide that record from every view, so it is refused
/// until an erasure can keep the record's structure and remove only its words.
const CREATES_A_RECORD: [&str; 5] = [
    "plan.created",
    "plan.priority_added",
    "action.added",
    "action.carried_in",
    "challenge.raised",
];

/// `redact`: says exactly what will be erased and asks (`--yes` confirms for a
/// script); never erases an event whose loss would hide a record that existed.
pub fn redact(
    app: &mut App,
    seq: u64,
    reason: &str,
    effective: i32,
    confirmed: bool,
) -> Result<()> {
    let actor = app.actor()?;
    if seq >= app.ledger.size() {
        return Err(Usage(format!(
            "there is no event {seq}: the ledger holds events 0 to {}; `assure history` lists them",
            app.ledger.size().saturating_sub(1)
        ))
        .into());
    }
    let event = app.ledger.event(seq)?;
    let header = event.header.clone();
    if CREATES_A_RECORD.contains(&header.kind.as_str()) {
        return Err(Usage(format!(
            "event {seq} ({} of {}) creates a record; erasing it would hide the whole record from every view, so it is refused. Nothing was erased. Erase the later events that hold the personal words instead (`assure history --subject {}`)",
            header.kind, header.subject, header.subject
        ))
        .into());
    }
    let decoded = projections::read::domain_event(&event).ok().flatten();
    let what = decoded
        .as_ref()
        .map_or_else(|| "(no payload)".to_owned(), projections::views::summary);
    let evidence = decoded.as_ref().map_or(0, |e| e.evidence().len());
    eprintln!(
        "This erases the words of event {seq}: {} on {}, effective {}, recorded by {}:\n  {what}",
        header.kind,
        header.subject,
        projections::views::date(header.effective),
        header.actor
    );
    eprintln!(
        "Its header, its hash and every proof stay, and the erasure is recorded as a new event authorised by {actor}. The words cannot be brought back.{}",
        if evidence > 0 {
            format!(" It names {evidence} evidence file(s), which stay in the data folder.")
        } else {
            String::new()
        }
    );
    if !confirmed && !ask("Type yes to erase it: ")? {
        return Err(Usage(
            "not confirmed, so nothing was erased (answer yes, or pass --yes in a script)".into(),
        )
        .into());
    }
    let header = app
        .ledger
        .redact(seq, reason, &actor, effective)
        .with_context(|| format!("redacting event {seq}"))?;
    println!(
        "The payload of event {seq} was erased; the erasure is recorded as event {} (authorised by {}).",
        header.seq, actor
    );
    Ok(())
}

/// Asks on stderr and reads one line of stdin: `true` only for "yes".
fn ask(question: &str) -> Result<bool> {
    use std::io::Write as _;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// The ledger crate cannot read domain payloads, so it cannot know which evidence
/// files an event names. This finds the first evidence file named by a payload but
/// missing from the data folder: deleted evidence is lost history too.
fn missing_evidence(app: &App) -> Result<Option<(u64, String)>> {
    const NAMES_EVIDENCE: [&str; 2] = ["action.progress_noted", "challenge.responded"];
    let mut missing = None;
    app.ledger.scan(0..app.ledger.size(), &mut |event| {
        if !NAMES_EVIDENCE.contains(&event.header.kind.as_str()) {
            return Ok(true);
        }
        let decoded = projections::read::domain_event(&event).ok().flatten();
        for hash in decoded.iter().flat_map(projections::DomainEvent::evidence) {
            if !app.ledger.blobs().contains(&hash) {
                missing = Some((
                    event.header.seq,
                    format!(
                        "evidence file {} named by this event is missing from the data folder; restore it from a backup or an export bundle",
                        ledger::hex::hex(&hash)
                    ),
                ));
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    Ok(missing)
}
