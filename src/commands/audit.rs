//! Ledger-wide commands: history, verify and redact (the one way a payload is erased;
//! its builder is `Ledger::redact`, which the ledger crate owns).

use anyhow::{Context as _, Result};
use projections::read::Skeletons;
use projections::views::history_entry;
use projections::World;

use super::{report_verification, Verdict};
use crate::app::App;
use crate::exit::Usage;
use crate::table::Columns;

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

/// `assure history`: every event (or a subject's), in seq order, with its hash. The
/// whole log is streamed — read twice, never held: a first pass notes the structures
/// kept of erased events and measures the columns, a second prints — so a million
/// events take the memory of a few.
pub fn history(app: &App, prefix: Option<&str>, json: bool) -> Result<()> {
    // A subject's events are loaded (they are few); the whole log is scanned.
    let chosen = match prefix {
        Some(prefix) => {
            let mut events = app.ledger.events_with_subject_prefix(prefix)?;
            events.sort_unstable_by_key(|e| e.header.seq);
            Some(events)
        }
        None => None,
    };
    let each = |visit: &mut dyn FnMut(ledger::Event) -> Result<()>| -> Result<()> {
        match &chosen {
            Some(events) => events.iter().try_for_each(|e| visit(e.clone())),
            None => {
                let mut failed = None;
                app.ledger
                    .scan(0..u64::MAX, &mut |event| match visit(event) {
                        Ok(()) => Ok(true),
                        Err(error) => {
                            failed = Some(error);
                            Ok(false)
                        }
                    })?;
                failed.map_or(Ok(()), Err)
            }
        }
    };
    // Redactions are ledger-wide events; they explain gaps in any subject's history.
    let redaction_events = app.load(&[crate::app::Subjects::Exact(
        projections::events::subject::LEDGER.into(),
    )])?;
    let redactions = World::replay(&redaction_events).0.redactions;

    let mut skeletons = Skeletons::default();
    let mut table = Columns::new(&HISTORY_COLUMNS, CELL_WIDTH);
    let mut count = 0u64;
    each(&mut |event| {
        skeletons.note(&event)?;
        // Every column but the summary comes from the header; the summary is the
        // last column, which is never padded.
        let h = &event.header;
        table.measure(&[
            h.seq.to_string(),
            // The short hash: always 12 hex digits.
            "0".repeat(12),
            projections::views::timestamp(h.recorded_at),
            projections::views::date(h.effective),
            h.actor.clone(),
            h.subject.clone(),
        ]);
        count += 1;
        Ok(())
    })?;
    if let (Some(prefix), 0) = (prefix, count) {
        crate::errln!("{}", no_such_subject(app, prefix)?);
    }
    let entry = |event: ledger::Event| -> Result<projections::views::HistoryEntry> {
        let hash = ledger::hex::hex(&event.header.event_hash());
        let kind = event.header.kind.clone();
        let recorded = skeletons.decode(event)?;
        Ok(history_entry(&recorded, hash, &kind, &redactions))
    };
    if json {
        use serde::ser::{SerializeSeq as _, Serializer as _};
        let mut out = std::io::BufWriter::new(crate::output::Out);
        {
            let mut serializer = serde_json::Serializer::pretty(&mut out);
            let mut entries = serializer.serialize_seq(Some(count as usize))?;
            each(&mut |event| Ok(entries.serialize_element(&entry(event)?)?))?;
            entries.end()?;
        }
        std::io::Write::write_all(&mut out, b"\n")?;
        std::io::Write::flush(&mut out)?;
        return Ok(());
    }
    crate::out!("{}", table.head(&HISTORY_COLUMNS));
    each(&mut |event| {
        let e = entry(event)?;
        crate::out!(
            "{}",
            table.line(&[
                e.seq.to_string(),
                e.hash.chars().take(12).collect(),
                e.recorded_at,
                e.effective,
                e.actor,
                e.subject,
                e.summary,
            ])
        );
        Ok(())
    })
}

const HISTORY_COLUMNS: [&str; 7] = [
    "seq",
    "hash",
    "recorded at",
    "effective",
    "actor",
    "subject",
    "summary",
];

/// The widest a history cell is shown.
const CELL_WIDTH: usize = 60;

pub fn verify(app: &App, json: bool) -> Result<()> {
    let mut report = app.ledger.verify();
    if report.ok {
        if let Some(problem) = crate::app::keys::check_stored_signatures(&app.ledger)? {
            report.ok = false;
            report.problem = Some(problem);
        }
    }
    if report.ok {
        if let Some(problem) = crate::app::summaries::check_cache(app)? {
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
        crate::errln!("{} events verified before the problem.", report.size);
    }
    report_verification(&report, json, verdict)
}

/// `redact`: says exactly what will be erased and asks (`--yes` confirms for a
/// script). The event's structure is kept (`projections::erasure`), so no record
/// leaves any view; its words, and evidence files no other payload names, are
/// destroyed; and the store is rewritten so that the erased bytes are in no file of
/// the data folder when this returns. Takes the ledger and gives it back reopened.
pub fn redact(
    mut app: App<'_>,
    seq: u64,
    reason: &str,
    effective: i32,
    confirmed: bool,
) -> Result<App<'static>> {
    let actor = app.actor()?;
    if seq >= app.ledger.size() {
        return Err(Usage(format!(
            "there is no event {seq}: the ledger holds events 0 to {}; `assure history` lists them",
            app.ledger.size().saturating_sub(1)
        ))
        .into());
    }
    if reason.trim().is_empty() {
        return Err(Usage(
            "a redaction needs a reason (--reason, e.g. the erasure request's reference); nothing was erased".into(),
        )
        .into());
    }
    let event = app.ledger.event(seq)?;
    let header = event.header.clone();
    let refused = |why: String| -> anyhow::Error {
        Usage(format!(
            "event {seq} ({} of {}) cannot be erased: {why}. Nothing was erased.",
            header.kind, header.subject
        ))
        .into()
    };
    let decoded = match projections::read::domain_event(&event) {
        Ok(Some(decoded)) => decoded,
        Ok(None) => {
            // Already erased: finish what an interrupted erasure may have left (its
            // evidence, the store's old bytes), so running it again is always safe.
            let all: Vec<ledger::Hash> = app
                .ledger
                .blobs()
                .list()?
                .iter()
                .filter_map(|n| ledger::hex::parse_hash(n))
                .collect();
            let deleted = delete_unnamed_evidence(&app, &all)?;
            let ledger = crate::app::Held::Own(rewrite(app.ledger.into_own()?)?);
            crate::outln!(
                "The words of event {seq} were already erased. {deleted} evidence file(s) that no record names were deleted, and the store was rewritten: the erased words are in no file of the data folder."
            );
            return Ok(App { ledger, actor });
        }
        Err(why) => return Err(refused(format!("its payload does not decode ({why})"))),
    };
    let note = projections::erasure::note(reason, &actor, effective);
    let skeleton = projections::erasure::without_words(&decoded, &note).map_err(refused)?;
    let evidence = decoded.evidence();
    crate::errln!(
        "This erases the words of event {seq}: {} on {}, effective {}, recorded by {}:\n  {}",
        header.kind,
        header.subject,
        projections::views::date(header.effective),
        header.actor,
        projections::views::summary(&decoded)
    );
    crate::errln!(
        "What stays, in every view and every proof: {}\n\
         The erasure is recorded as a new event authorised by {actor}; the words cannot be brought back.{}",
        projections::views::summary(&skeleton),
        if evidence.is_empty() {
            String::new()
        } else {
            format!(
                " Its {} evidence file(s) are deleted unless another record names them.",
                evidence.len()
            )
        }
    );
    if !confirmed && !ask("Type yes to erase it: ")? {
        return Err(Usage(
            "not confirmed, so nothing was erased (answer yes, or pass --yes in a script)".into(),
        )
        .into());
    }
    let kept = projections::planned::Planned::new(
        header.subject.clone(),
        projections::erasure::kept_structure(seq, &skeleton),
    )
    .to_new_event(&app.context(effective)?);
    let redaction = app
        .ledger
        .redact_with(seq, reason, &actor, effective, vec![kept])
        .with_context(|| format!("redacting event {seq}"))?;
    let deleted = delete_unnamed_evidence(&app, &evidence)?;
    let ledger = crate::app::Held::Own(rewrite(app.ledger.into_own()?)?);
    crate::outln!(
        "The words of event {seq} were erased; the erasure is recorded as event {} (authorised by {actor}), its structure kept as event {}.{} The store was rewritten: the erased words are in no file of the data folder.",
        redaction.seq,
        redaction.seq - 1,
        match deleted {
            0 => String::new(),
            n => format!(" {n} evidence file(s) deleted."),
        }
    );
    Ok(App { ledger, actor })
}

fn rewrite(ledger: ledger::Ledger) -> Result<ledger::Ledger> {
    let dir = ledger.dir().to_path_buf();
    ledger.rewrite_store().with_context(|| {
        format!(
            "rewriting the store so the erased words leave every file of {}; the erasure itself is recorded. Run the same `assure redact` command again to finish",
            dir.display()
        )
    })
}

/// Deletes those of `files` that no payload still present names; returns how many.
fn delete_unnamed_evidence(app: &App, files: &[ledger::Hash]) -> Result<usize> {
    if files.is_empty() {
        return Ok(0);
    }
    let mut unnamed: std::collections::BTreeSet<ledger::Hash> = files.iter().copied().collect();
    for_each_named_evidence(app, |_, hash| {
        unnamed.remove(&hash);
        !unnamed.is_empty()
    })?;
    for hash in &unnamed {
        app.ledger
            .blobs()
            .remove(hash)
            .with_context(|| format!("deleting evidence file {}", ledger::hex::hex(hash)))?;
    }
    Ok(unnamed.len())
}

/// Visits (seq, hash) for every evidence file a payload still present names, in seq
/// order, until `visit` returns false.
fn for_each_named_evidence(
    app: &App,
    mut visit: impl FnMut(u64, ledger::Hash) -> bool,
) -> Result<()> {
    /// The kinds whose payloads name evidence files.
    const NAMES_EVIDENCE: [&str; 2] = ["action.progress_noted", "challenge.responded"];
    app.ledger.scan(0..app.ledger.size(), &mut |event| {
        if !NAMES_EVIDENCE.contains(&event.header.kind.as_str()) {
            return Ok(true);
        }
        let decoded = projections::read::domain_event(&event).ok().flatten();
        for hash in decoded.iter().flat_map(projections::DomainEvent::evidence) {
            if !visit(event.header.seq, hash) {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    Ok(())
}

/// Asks on stderr and reads one line of stdin: `true` only for "yes".
pub(super) fn ask(question: &str) -> Result<bool> {
    use std::io::Write as _;
    crate::err!("{question}");
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
    let mut missing = None;
    for_each_named_evidence(app, |seq, hash| {
        if app.ledger.blobs().contains(&hash) {
            return true;
        }
        missing = Some((
            seq,
            format!(
                "evidence file {} named by this event is missing from the data folder; restore it from a backup or an export bundle",
                ledger::hex::hex(&hash)
            ),
        ));
        false
    })?;
    Ok(missing)
}
