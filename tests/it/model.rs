//! A model-based state-machine test: random sequences of commands run in-process
//! against a real ledger (the same `assure::commands` functions the CLI calls), next
//! to a small in-memory model of what they should do. After every step the ledger
//! must agree with the model — the plan views' statuses, each action's progress notes
//! and redactions, the challenge log's statuses, the number of events — and `verify`
//! must pass.
//!
//! Operations: import a small generated plan (or re-import a ref that exists, which
//! must be refused), status and progress on an existing action (or on one that does
//! not exist, refused), carry-over, challenge raise/respond/escalate/close/reopen/
//! extend, agency registration (after which a challenge to an unregistered agency
//! is refused),
//! redact (any event: its structure must stay in every view; what an erasure appended
//! may not be erased), checkpoint, export +
//! offline `verify --bundle`, restart (drop and reopen), and crash (the real binary
//! killed mid-append, then reopened).
//!
//! `PROPTEST_CASES` (default 24) and `ASSURE_MODEL_STEPS` (default 20) make it longer.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use assure::app::{App, Subjects};
use assure::cli::ImportArgs;
use assure::commands::{audit, challenges, export, plans, proofs};
use projections::events::Rag;
use projections::read::{world_at, TimeQuery};
use projections::views::{challenge_log, ChallengeFilter};
use projections::world::ChallengeStatus;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

// ------------------------------------------------------------------ operations

/// One step. Numbers pick among what exists when the step runs (modulo the count),
/// so every sequence is meaningful and shrinks well.
#[derive(Debug, Clone)]
enum Op {
    Import { actions: u8, statuses: Vec<u8> },
    ImportExistingRef { plan: usize, action: usize },
    Status { action: usize, rag: u8 },
    Progress { action: usize, note: u16 },
    StatusOnMissingAction { plan: usize },
    CarryOver { action: usize, to: usize },
    Raise { agency: u8, about: Option<usize> },
    Respond { challenge: usize },
    Escalate { challenge: usize },
    Close { challenge: usize },
    Reopen { challenge: usize },
    Extend { challenge: usize, days: u8 },
    RegisterAgency { agency: u8 },
    Redact { pick: usize },
    Checkpoint,
    Export,
    Restart,
    Crash { delay_ms: u8, action: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1u8..=4, prop::collection::vec(0u8..6, 4))
            .prop_map(|(actions, statuses)| Op::Import { actions, statuses }),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(plan, action)| Op::ImportExistingRef { plan, action }),
        5 => (any::<usize>(), 0u8..5).prop_map(|(action, rag)| Op::Status { action, rag }),
        5 => (any::<usize>(), any::<u16>()).prop_map(|(action, note)| Op::Progress { action, note }),
        1 => any::<usize>().prop_map(|plan| Op::StatusOnMissingAction { plan }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(action, to)| Op::CarryOver { action, to }),
        3 => (0u8..3, prop::option::of(any::<usize>()))
            .prop_map(|(agency, about)| Op::Raise { agency, about }),
        2 => any::<usize>().prop_map(|challenge| Op::Respond { challenge }),
        1 => any::<usize>().prop_map(|challenge| Op::Escalate { challenge }),
        2 => any::<usize>().prop_map(|challenge| Op::Close { challenge }),
        1 => any::<usize>().prop_map(|challenge| Op::Reopen { challenge }),
        1 => (any::<usize>(), 0u8..60).prop_map(|(challenge, days)| Op::Extend { challenge, days }),
        1 => (0u8..3).prop_map(|agency| Op::RegisterAgency { agency }),
        2 => any::<usize>().prop_map(|pick| Op::Redact { pick }),
        1 => Just(Op::Checkpoint),
        1 => Just(Op::Export),
        1 => Just(Op::Restart),
        1 => (0u8..40, any::<usize>()).prop_map(|(delay_ms, action)| Op::Crash { delay_ms, action }),
    ]
}

// ------------------------------------------------------------------ the model

#[derive(Debug, Clone)]
struct MAction {
    initial: Rag,
    /// Status changes recorded on it, by seq.
    statuses: Vec<(u64, Rag)>,
    /// Progress notes, by seq.
    notes: Vec<(u64, String)>,
    carried: bool,
}

#[derive(Debug, Default)]
struct Model {
    events: u64,
    /// plan id → (priority keys, actions by ref).
    plans: BTreeMap<String, (BTreeSet<String>, BTreeMap<String, MAction>)>,
    /// challenge id → status.
    challenges: BTreeMap<String, ChallengeStatus>,
    /// Seqs whose payload was erased.
    redacted: BTreeSet<u64>,
    /// Indexes into `AGENCIES` of the agencies registered: once any is, a challenge
    /// may go only to one of them.
    agencies: BTreeSet<u8>,
    /// Seqs that may not be erased: what erasures append (the kept structure and the
    /// redaction) and agency registrations.
    redactions: Vec<u64>,
    next_plan: usize,
    next_note: u64,
}

impl MAction {
    /// Erasing an event's words keeps its status, so erasures do not matter here.
    fn status(&self) -> Rag {
        if self.carried {
            return Rag::CarriedOver;
        }
        self.statuses.last().map_or(self.initial, |(_, rag)| *rag)
    }
}

impl Model {
    /// Every action as (plan, ref), in a stable order.
    fn actions(&self) -> Vec<(String, String)> {
        self.plans
            .iter()
            .flat_map(|(p, (_, actions))| actions.keys().map(move |r| (p.clone(), r.clone())))
            .collect()
    }

    fn action_mut(&mut self, plan: &str, reference: &str) -> &mut MAction {
        self.plans
            .get_mut(plan)
            .unwrap()
            .1
            .get_mut(reference)
            .unwrap()
    }

    fn pick_action(&self, n: usize) -> Option<(String, String)> {
        let all = self.actions();
        (!all.is_empty()).then(|| all[n % all.len()].clone())
    }

    fn pick_challenge(&self, n: usize) -> Option<(String, ChallengeStatus)> {
        let all: Vec<_> = self.challenges.iter().collect();
        (!all.is_empty()).then(|| {
            let (id, status) = all[n % all.len()];
            (id.clone(), *status)
        })
    }
}

const RAGS: [Rag; 5] = [
    Rag::Green,
    Rag::Amber,
    Rag::Red,
    Rag::Complete,
    Rag::NotStarted,
];
const IMPORT_WORDS: [(&str, Rag); 6] = [
    ("green", Rag::Green),
    ("amber", Rag::Amber),
    ("red", Rag::Red),
    ("complete", Rag::Complete),
    ("not started", Rag::NotStarted),
    ("", Rag::NotStarted),
];
const AGENCIES: [&str; 3] = ["GMP", "Health", "Children's Services"];

// ------------------------------------------------------------------ the system

static FILES: AtomicU64 = AtomicU64::new(0);

struct System {
    dir: tempfile::TempDir,
    data: PathBuf,
    app: Option<App<'static>>,
    vkey: String,
}

/// Counts across the whole run, for the summary line.
#[derive(Debug, Default)]
struct Figures {
    cases: u64,
    steps: u64,
    refused: u64,
    crashes: u64,
    crash_appends_kept: u64,
    exports: u64,
    restarts: u64,
    redactions: u64,
    unopenable: u64,
}

impl System {
    fn new() -> System {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        proofs::init(&data, None).unwrap();
        let vkey = assure::app::keys::ledger_vkey(&data)
            .unwrap()
            .to_vkey_string();
        let app = App::open(&data, "model".into()).unwrap();
        System {
            dir,
            data,
            app: Some(app),
            vkey,
        }
    }

    fn app(&mut self) -> &mut App<'static> {
        self.app.as_mut().unwrap()
    }

    fn size(&mut self) -> u64 {
        self.app().ledger.size()
    }

    fn file(&self, contents: &str) -> PathBuf {
        let n = FILES.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("f{n}.csv"));
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Reopens the ledger; if a kill left sled's known unfinished snapshot (see
    /// docs/RELIABILITY.md, tests/it/crash.rs), removes it as the crash loops do.
    fn reopen(&mut self, figures: &mut Figures) {
        self.app = None;
        // Another test thread forking a child can hold a copy of the dropped lock's
        // descriptor for the moment before the child's exec closes it (the OS lock
        // follows the descriptor): "in use" then clears within milliseconds.
        let mut opened = App::open(&self.data, "model".into());
        for _ in 0..200 {
            match &opened {
                Err(e)
                    if e.to_string().contains("in use") || format!("{e:#}").contains("in use") =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                    opened = App::open(&self.data, "model".into());
                }
                _ => break,
            }
        }
        match opened {
            Ok(app) => self.app = Some(app),
            Err(first) => {
                let store = self.data.join("store");
                let mut removed = false;
                for entry in std::fs::read_dir(&store).unwrap() {
                    let path = entry.unwrap().path();
                    if path.to_string_lossy().ends_with(".generating")
                        && std::env::var_os("ASSURE_MODEL_STRICT").is_none()
                    {
                        std::fs::remove_file(&path).unwrap();
                        removed = true;
                    }
                }
                assert!(removed, "the ledger does not reopen: {first:#}");
                figures.unopenable += 1;
                self.app = Some(App::open(&self.data, "model".into()).unwrap());
            }
        }
    }
}

fn today() -> i32 {
    assure::dates::today()
}

/// Runs one step on the system and the model. A command the model says must be
/// refused must fail and append nothing.
fn step(sys: &mut System, model: &mut Model, op: &Op, figures: &mut Figures) -> Result<(), String> {
    let before = sys.size();
    // Some(true): must succeed; Some(false): must be refused; None: not a command.
    let (expect_ok, result): (Option<bool>, anyhow::Result<()>) = match op {
        Op::Import { actions, statuses } => {
            let id = format!("p{}", model.next_plan);
            model.next_plan += 1;
            let mut csv = String::from("ref,priority,action,lead,status\n");
            let mut added = BTreeMap::new();
            let mut keys = BTreeSet::new();
            for i in 0..usize::from(*actions) {
                let reference = format!("{}.{}", i / 2 + 1, i % 2 + 1);
                let (word, rag) = IMPORT_WORDS[usize::from(statuses[i]) % IMPORT_WORDS.len()];
                csv.push_str(&format!(
                    "{reference},Priority {},\"Action {reference}, of \"\"{id}\"\"\",GMP,{word}\n",
                    i / 2 + 1
                ));
                keys.insert(format!("{}", i / 2 + 1));
                added.insert(
                    reference,
                    MAction {
                        initial: rag,
                        statuses: Vec::new(),
                        notes: Vec::new(),
                        carried: false,
                    },
                );
            }
            let file = sys.file(&csv);
            let args = ImportArgs {
                title: Some(format!("Plan {id}")),
                ..ImportArgs::new(file, &id)
            };
            let result = plans::import_into(Some(sys.app()), &args);
            model.events += 1 + keys.len() as u64 + added.len() as u64;
            model.plans.insert(id, (keys, added));
            (Some(true), result)
        }
        Op::ImportExistingRef { plan, action } => {
            let Some((id, reference)) = model.pick_action(plan.wrapping_add(*action)) else {
                return Ok(());
            };
            let csv = format!("ref,action\n9.9,New one\n{reference},Same ref again\n");
            let file = sys.file(&csv);
            (
                Some(false),
                plans::import_into(Some(sys.app()), &ImportArgs::new(file, &id)),
            )
        }
        Op::Status { action, rag } => {
            let Some((plan, reference)) = model.pick_action(*action) else {
                return Ok(());
            };
            let rag = RAGS[usize::from(*rag)];
            let carried = model.plans[&plan].1[&reference].carried;
            let result = plans::status(sys.app(), &plan, &reference, rag, "model says so", today());
            if !carried {
                model
                    .action_mut(&plan, &reference)
                    .statuses
                    .push((before, rag));
                model.events += 1;
            }
            (Some(!carried), result)
        }
        Op::Progress { action, note } => {
            let Some((plan, reference)) = model.pick_action(*action) else {
                return Ok(());
            };
            let text = format!("note {} ({note}): \"quoted\", new\nline", model.next_note);
            model.next_note += 1;
            let carried = model.plans[&plan].1[&reference].carried;
            let result = plans::progress(sys.app(), &plan, &reference, &text, &[], today());
            if !carried {
                model
                    .action_mut(&plan, &reference)
                    .notes
                    .push((before, text));
                model.events += 1;
            }
            (Some(!carried), result)
        }
        Op::StatusOnMissingAction { plan } => {
            let ids: Vec<String> = model.plans.keys().cloned().collect();
            let id = if ids.is_empty() {
                "nope".to_owned()
            } else {
                ids[plan % ids.len()].clone()
            };
            (
                Some(false),
                plans::status(sys.app(), &id, "99.99", Rag::Red, "n", today()),
            )
        }
        Op::CarryOver { action, to } => {
            let Some((plan, reference)) = model.pick_action(*action) else {
                return Ok(());
            };
            let ids: Vec<String> = model.plans.keys().cloned().collect();
            let target = ids[to % ids.len()].clone();
            let source = model.plans[&plan].1[&reference].clone();
            let source_status = source.status();
            let allowed = target != plan
                && !source.carried
                && source_status != Rag::Complete
                && !model.plans[&target].1.contains_key(&reference);
            let result = plans::carry_over(
                sys.app(),
                (&plan, &reference),
                (&target, &reference),
                "not finished this year",
                None,
                Default::default(),
                today(),
            );
            if allowed {
                let key = reference.split('.').next().unwrap().to_owned();
                let (keys, actions) = model.plans.get_mut(&target).unwrap();
                let new_key = keys.insert(key);
                actions.insert(
                    reference.clone(),
                    MAction {
                        initial: match source_status {
                            Rag::CarriedOver | Rag::Complete => Rag::Amber,
                            other => other,
                        },
                        statuses: Vec::new(),
                        notes: Vec::new(),
                        carried: false,
                    },
                );
                model.action_mut(&plan, &reference).carried = true;
                model.events += 2 + u64::from(new_key);
            }
            (Some(allowed), result)
        }
        Op::Raise { agency, about } => {
            let about: Vec<String> = about
                .and_then(|n| model.pick_action(n))
                .map(|(p, r)| format!("{p}/{r}"))
                .into_iter()
                .collect();
            let result = challenges::raise(
                sys.app(),
                AGENCIES[usize::from(*agency)],
                "Show the evidence",
                &about,
                None,
                today(),
            );
            let allowed = model.agencies.is_empty() || model.agencies.contains(agency);
            if allowed {
                let id = format!("C-{:04}", model.challenges.len() + 1);
                model.challenges.insert(id, ChallengeStatus::Open);
                model.events += 1;
            }
            (Some(allowed), result)
        }
        Op::Respond { challenge } | Op::Escalate { challenge } | Op::Close { challenge } => {
            let Some((id, status)) = model.pick_challenge(*challenge) else {
                return Ok(());
            };
            let allowed = status != ChallengeStatus::Closed;
            let (result, next) = match op {
                Op::Respond { .. } => (
                    challenges::respond(sys.app(), &id, "Here it is", &[], today()),
                    ChallengeStatus::Responded,
                ),
                Op::Escalate { .. } => (
                    challenges::escalate(sys.app(), &id, "the Board", "no answer", today()),
                    ChallengeStatus::Escalated,
                ),
                _ => (
                    challenges::close(sys.app(), &id, "Resolved", None, today()),
                    ChallengeStatus::Closed,
                ),
            };
            if allowed {
                model.challenges.insert(id, next);
                model.events += 1;
            }
            (Some(allowed), result)
        }
        Op::Reopen { challenge } => {
            let Some((id, status)) = model.pick_challenge(*challenge) else {
                return Ok(());
            };
            let allowed = status == ChallengeStatus::Closed;
            let result = challenges::reopen(sys.app(), &id, "new information", None, today());
            if allowed {
                model.challenges.insert(id, ChallengeStatus::Open);
                model.events += 1;
            }
            (Some(allowed), result)
        }
        Op::Extend { challenge, days } => {
            let Some((id, status)) = model.pick_challenge(*challenge) else {
                return Ok(());
            };
            let allowed = status != ChallengeStatus::Closed;
            let due = today() + i32::from(*days);
            let result = challenges::extend(sys.app(), &id, due, "more time agreed", today());
            if allowed {
                model.events += 1;
            }
            (Some(allowed), result)
        }
        Op::RegisterAgency { agency } => {
            let allowed = !model.agencies.contains(agency);
            let name = AGENCIES[usize::from(*agency)];
            let id = format!("a{agency}");
            let result = challenges::agency_add(sys.app(), &id, name, Vec::new(), today());
            if allowed {
                model.agencies.insert(*agency);
                // An agency's registration holds its names, not personal words.
                model.redactions.push(before);
                model.events += 1;
            }
            (Some(allowed), result)
        }
        Op::Redact { pick } => {
            // Any event: every kind keeps its structure, so no record leaves a view.
            // Erasing one already erased only rewrites the store again.
            let seq = (*pick as u64) % before.max(1);
            let allowed = !model.redactions.contains(&seq);
            let fresh = allowed && !model.redacted.contains(&seq);
            let app = sys.app.take().unwrap();
            let result = match audit::redact(app, seq, "erasure request ER-1", today(), true) {
                Ok(app) => {
                    sys.app = Some(app);
                    Ok(())
                }
                Err(e) => {
                    sys.reopen(figures);
                    Err(e)
                }
            };
            if fresh {
                model.redacted.insert(seq);
                model.redactions.extend([before, before + 1]);
                model.events += 2;
                figures.redactions += 1;
            }
            (Some(allowed), result)
        }
        Op::Checkpoint => (None, proofs::checkpoint(sys.app(), None)),
        Op::Export => {
            let n = FILES.fetch_add(1, Ordering::Relaxed);
            let out = sys.dir.path().join(format!("bundle{n}"));
            let result = export::export(&mut sys.app().ledger, &out, None, None, &[])
                .and_then(|()| export::verify(&out, std::slice::from_ref(&sys.vkey), false));
            figures.exports += 1;
            (None, result)
        }
        Op::Restart => {
            sys.reopen(figures);
            figures.restarts += 1;
            (None, Ok(()))
        }
        Op::Crash { delay_ms, action } => {
            let Some((plan, reference)) = model.pick_action(*action) else {
                return Ok(());
            };
            let carried = model.plans[&plan].1[&reference].carried;
            let text = format!("crash note {}", model.next_note);
            model.next_note += 1;
            sys.app = None;
            let mut child = Command::new(env!("CARGO_BIN_EXE_assure"))
                .arg("--data")
                .arg(&sys.data)
                .args([
                    "--actor", "crasher", "progress", &plan, &reference, "--note", &text,
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(u64::from(*delay_ms)));
            let _ = child.kill();
            let status = child.wait().unwrap();
            figures.crashes += 1;
            sys.reopen(figures);
            let after = sys.size();
            if after == before + 1 && !carried {
                // It finished (or was durable) before the kill: the note must be whole.
                model
                    .action_mut(&plan, &reference)
                    .notes
                    .push((before, text));
                model.events += 1;
                figures.crash_appends_kept += 1;
            } else if after != before {
                return Err(format!(
                    "a killed append ({status}) left {after} events, not {before} or {}",
                    before + 1
                ));
            }
            (None, Ok(()))
        }
    };
    match (expect_ok, &result) {
        (Some(true) | None, Err(e)) => return Err(format!("{op:?} failed: {e:#}")),
        (Some(false), Ok(())) => return Err(format!("{op:?} was accepted; the model refuses it")),
        (Some(false), Err(e)) => {
            figures.refused += 1;
            let message = format!("{e:#}");
            if message.trim().is_empty() || message.contains("panicked") {
                return Err(format!("{op:?}: an unclear refusal {message:?}"));
            }
            if sys.size() != before {
                return Err(format!(
                    "{op:?} was refused ({message}) but appended events"
                ));
            }
        }
        _ => {}
    }
    check(sys, model)
}

/// Does the ledger agree with the model?
fn check(sys: &mut System, model: &Model) -> Result<(), String> {
    let app = sys.app();
    let size = app.ledger.size();
    if size != model.events {
        return Err(format!(
            "{size} events in the ledger, the model says {}",
            model.events
        ));
    }
    let report = app.ledger.verify();
    if !report.ok {
        return Err(format!("verify failed: {:?}", report.problem));
    }
    let history = app
        .load(&[Subjects::Prefix("plan/".into())])
        .map_err(|e| e.to_string())?;
    let world = world_at(&history, TimeQuery::default());
    // `assure plans` answers from summaries cached as the log grows: after every step
    // they must say what each plan's own view says.
    let summaries = assure::app::summaries::plan_summaries(app).map_err(|e| e.to_string())?;
    if summaries.len() != model.plans.len() {
        return Err(format!(
            "{} plan summaries, the model has {} plans",
            summaries.len(),
            model.plans.len()
        ));
    }
    for (id, (keys, actions)) in &model.plans {
        let view = app
            .plan_at(id, TimeQuery::default())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no plan view for {id}"))?;
        let summary = summaries.iter().find(|s| &s.id == id);
        let counts: std::collections::BTreeMap<String, usize> = view
            .counts
            .iter()
            .map(|(s, n)| ((*s).to_owned(), *n))
            .collect();
        if summary.map(|s| (&s.counts, s.actions)) != Some((&counts, view.actions.len())) {
            return Err(format!(
                "plan {id}: summary {summary:?}, the plan shows {counts:?}"
            ));
        }
        let refs: BTreeSet<&str> = view.actions.iter().map(|a| a.reference.as_str()).collect();
        let expected: BTreeSet<&str> = actions.keys().map(String::as_str).collect();
        if refs != expected {
            return Err(format!(
                "plan {id} shows {refs:?}, the model has {expected:?}"
            ));
        }
        let priorities: BTreeSet<&str> = view.priorities.iter().map(|p| p.key.as_str()).collect();
        let expected: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
        if priorities != expected {
            return Err(format!(
                "plan {id} has priorities {priorities:?}, the model {expected:?}"
            ));
        }
        for a in &view.actions {
            let m = &actions[&a.reference];
            let want = m.status();
            if a.status != want {
                return Err(format!(
                    "{id}/{} is {:?}, the model says {want:?}",
                    a.reference, a.status
                ));
            }
            let entries = &world
                .plan(id)
                .unwrap()
                .action(&a.reference)
                .unwrap()
                .entries;
            // Every note and status change stays, in order; an erased one shows the
            // erasure in place of its words.
            let erased = |text: &str| text.contains("[erased ");
            let notes: Vec<(u64, bool)> = entries
                .iter()
                .filter(|e| e.kind == "progress")
                .map(|e| (e.stamp.seq, erased(&e.text)))
                .collect();
            let want: Vec<(u64, bool)> = m
                .notes
                .iter()
                .map(|(seq, _)| (*seq, model.redacted.contains(seq)))
                .collect();
            if notes != want {
                return Err(format!(
                    "{id}/{} notes (seq, erased) {notes:?}, the model {want:?}",
                    a.reference
                ));
            }
            for e in entries
                .iter()
                .filter(|e| e.kind == "progress" && !erased(&e.text))
            {
                let text = &m
                    .notes
                    .iter()
                    .find(|(seq, _)| *seq == e.stamp.seq)
                    .unwrap()
                    .1;
                if &e.text != text {
                    return Err(format!(
                        "{id}/{} note {} reads {:?}",
                        a.reference, e.stamp.seq, e.text
                    ));
                }
            }
            let statuses: Vec<(u64, bool)> = entries
                .iter()
                .filter(|e| e.kind == "status")
                .map(|e| (e.stamp.seq, erased(&e.text)))
                .collect();
            let want: Vec<(u64, bool)> = m
                .statuses
                .iter()
                .map(|(seq, _)| (*seq, model.redacted.contains(seq)))
                .collect();
            if statuses != want {
                return Err(format!(
                    "{id}/{} status entries (seq, erased) {statuses:?}, the model {want:?}",
                    a.reference
                ));
            }
            if entries.iter().any(|e| e.kind == "redacted") {
                return Err(format!(
                    "{id}/{} has an entry with no structure",
                    a.reference
                ));
            }
        }
    }
    let challenge_events = app
        .load(&[Subjects::Prefix("challenge/".into())])
        .map_err(|e| e.to_string())?;
    let log = challenge_log(
        &world_at(&challenge_events, TimeQuery::default()),
        &ChallengeFilter::default(),
        today(),
    );
    let seen: BTreeMap<String, ChallengeStatus> =
        log.iter().map(|c| (c.id.clone(), c.status)).collect();
    if seen != model.challenges {
        return Err(format!(
            "challenge log {seen:?}, the model {:?}",
            model.challenges
        ));
    }
    Ok(())
}

#[test]
fn the_ledger_agrees_with_a_simple_model_after_every_step() {
    let cases: u32 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let max_steps: usize = std::env::var("ASSURE_MODEL_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let started = Instant::now();
    let figures = std::cell::RefCell::new(Figures::default());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    });
    // Every case starts with one plan so most steps have something to act on.
    let strategy = prop::collection::vec(op(), 1..=max_steps).prop_map(|mut ops| {
        ops.insert(
            0,
            Op::Import {
                actions: 4,
                statuses: vec![0, 1, 2, 5],
            },
        );
        ops
    });
    let result = runner.run(&strategy, |ops| {
        let mut figures = figures.borrow_mut();
        figures.cases += 1;
        let mut sys = System::new();
        let mut model = Model::default();
        for (i, op) in ops.iter().enumerate() {
            figures.steps += 1;
            step(&mut sys, &mut model, op, &mut figures)
                .map_err(|e| TestCaseError::fail(format!("step {i}: {e}")))?;
        }
        // The end state survives a final restart unchanged.
        sys.reopen(&mut figures);
        check(&mut sys, &model)
            .map_err(|e| TestCaseError::fail(format!("after reopening: {e}")))?;
        Ok(())
    });
    let figures = figures.into_inner();
    println!(
        "model: {} cases run (incl. shrinking), {} steps, {} refused as the model expected, {} exports \
         verified, {} restarts, {} redactions, {} crashes ({} kept a whole append), {} reopens hit \
         the known sled snapshot bug; {:.1} s",
        figures.cases,
        figures.steps,
        figures.refused,
        figures.exports,
        figures.restarts,
        figures.redactions,
        figures.crashes,
        figures.crash_appends_kept,
        figures.unopenable,
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
