//! The application layer: what the command line and the web service both call, so a
//! change is built once, a date is read once and "the plan on date D" is answered
//! once. Neither front end is imported here.
//!
//! - `change.rs` — `Change`, one builder per kind of change; `access.rs` — the
//!   partner-agency rules; `input.rs` — reading dates, time queries, statuses,
//!   action refs and evidence as users type them.
//! - `keys.rs` — the ledger's signing and verifier keys on disk; `summaries.rs` —
//!   per-plan summaries for `assure plans`, cached beside the store; `export.rs` —
//!   export bundles and the check of their human-readable bodies.
//! - This file: `App` (an open ledger and who is acting) for the command line: load
//!   the events of some subjects, and record a change after checking it. The service
//!   records through its writer (`web/state.rs`), which takes the same steps: build,
//!   check (`projections::planned::validate`), store evidence (`store_evidence`),
//!   stage the planned events (`Planned::to_new_event`).

pub mod access;
pub mod change;
pub mod export;
pub mod import;
pub mod input;
pub mod keys;
pub mod summaries;
pub mod witness;
pub mod witnessing;

use std::path::Path;

use anyhow::{Context as _, Result};
use ledger::{EventHeader, Ledger};
use projections::events::subject;
use projections::planned::{validate, Context, Planned};
use projections::read::{self, decode_all, world_at, EventIndex, Snapshots, TimeQuery};
use projections::views::PlanView;
use projections::Recorded;

pub use change::{Against, Change};

use crate::dates::today;
use crate::exit::Usage;

#[derive(Debug)]
pub struct App<'a> {
    pub ledger: Held<'a>,
    pub actor: String,
}

/// The ledger a command works on: its own (the command line opened the folder), or
/// the running service's, lent for one read-only command the command line beside it
/// asked for (`commands/beside.rs`), held under the service's ledger lock meanwhile.
#[derive(Debug)]
pub enum Held<'a> {
    Own(Ledger),
    Lent(std::sync::MutexGuard<'a, Ledger>),
}

impl Held<'_> {
    /// The ledger itself, for a step that takes it over (a rewrite); refused for a
    /// lent one, which only reads.
    pub fn into_own(self) -> Result<Ledger> {
        match self {
            Held::Own(ledger) => Ok(ledger),
            Held::Lent(_) => Err(anyhow::anyhow!(
                "this command changes the ledger and cannot run through the service"
            )),
        }
    }

    fn is_lent(&self) -> bool {
        matches!(self, Held::Lent(_))
    }
}

impl std::ops::Deref for Held<'_> {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        match self {
            Held::Own(ledger) => ledger,
            Held::Lent(guard) => guard,
        }
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Ledger {
        match self {
            Held::Own(ledger) => ledger,
            Held::Lent(guard) => &mut *guard,
        }
    }
}

/// Which events to load: one exact subject, or every subject under a prefix.
#[derive(Debug, Clone)]
pub enum Subjects {
    Exact(String),
    Prefix(String),
}

impl Subjects {
    /// A plan's own events and all of its actions'.
    pub fn plan(id: &str) -> Vec<Subjects> {
        vec![
            Subjects::Exact(subject::plan(id)),
            Subjects::Prefix(format!("{}/", subject::plan(id))),
        ]
    }

    /// Every event of a log group (`ledger::group_of`): a plan with its actions,
    /// or one challenge.
    pub fn group(group: &str) -> Vec<Subjects> {
        if group == change::AGENCIES {
            return vec![Subjects::Prefix(group.to_owned())];
        }
        match group.strip_prefix("plan/") {
            Some(id) => Subjects::plan(id),
            None => vec![Subjects::Exact(group.to_owned())],
        }
    }
}

/// The user name to record: --actor (or $ASSURE_ACTOR, which clap reads into it),
/// else the login name. Empty when none is known — a change is then refused
/// (`App::actor`), never recorded as made by "unknown"; `--actor ""` does not fall
/// back to the login name.
pub fn actor_name(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Stores the evidence files a change names, before the events that name them are
/// staged (each is fsynced and renamed into place by the blob store).
pub fn store_evidence(ledger: &Ledger, evidence: &[Vec<u8>]) -> ledger::Result<()> {
    for bytes in evidence {
        ledger.blobs().put(bytes)?;
    }
    Ok(())
}

impl App<'_> {
    pub fn open(data: &Path, actor: String) -> Result<App<'static>> {
        let ledger = Ledger::reopen(data)
            .with_context(|| format!("opening the ledger in {}", data.display()))?;
        Ok(App {
            ledger: Held::Own(ledger),
            actor,
        })
    }

    /// The decoded events of the given subjects, in seq order, read from the ledger's
    /// covering subject index (which `verify` checks against the log).
    pub fn load(&self, selectors: &[Subjects]) -> Result<Vec<Recorded>> {
        let mut events = Vec::new();
        for selector in selectors {
            match selector {
                Subjects::Exact(s) => events.extend(self.ledger.events_with_subject(s)?),
                Subjects::Prefix(p) => events.extend(self.ledger.events_with_subject_prefix(p)?),
            }
        }
        Ok(decode_all(events)?)
    }

    /// A plan's view for a time query, reading only that plan's events.
    pub fn plan_at(&self, id: &str, query: TimeQuery) -> Result<Option<PlanView>> {
        let loaded = self.load(&Subjects::plan(id))?;
        let index = EventIndex::of(&loaded);
        Ok(read::plan_at(
            &Snapshots::none(),
            || &index,
            id,
            &query,
            today(),
        )?)
    }

    /// The ledger's lateness threshold in days (`World::late_after`).
    pub fn late_after(&self) -> Result<i64> {
        let ledger = self.load(&[Subjects::Exact(subject::LEDGER.into())])?;
        Ok(projections::World::replay(&ledger).0.late_after())
    }

    /// Who is making a change: refused when nobody is named, so no event is ever
    /// signed as made by an unknown or empty actor.
    pub fn actor(&self) -> Result<String> {
        if self.actor.trim().is_empty() {
            return Err(Usage(
                "who is making this change is not known: pass --actor NAME or set ASSURE_ACTOR (the login name is used when the system gives one)".into(),
            )
            .into());
        }
        // Taken as given: the ledger refuses a name with control characters, rather
        // than sign a cleaned name the user did not type.
        Ok(self.actor.clone())
    }

    /// The facts the ledger would stamp on a change made now.
    pub(crate) fn context(&self, effective: i32) -> Result<Context> {
        Ok(self.context_as(effective, self.actor()?))
    }

    fn context_as(&self, effective: i32, actor: String) -> Context {
        Context {
            next_seq: self.ledger.size(),
            recorded_at: chrono::Utc::now().timestamp_micros(),
            effective,
            today: today(),
            actor,
        }
    }

    /// Checks `planned` against `history` at `effective` without recording anything
    /// (a dry run's check is the same as a commit's).
    pub fn check(&self, history: &[Recorded], planned: &[Planned], effective: i32) -> Result<()> {
        // A check records nothing, so it needs no one named to sign.
        let context = self.context_as(effective, self.actor().unwrap_or_default());
        Ok(validate(history, planned, &context)?)
    }

    /// Records `change` as of `effective` for the board (a command acts for no
    /// partner agency): loads the plans and challenges it touches, builds it against
    /// them as they stood on that date, checks and commits it.
    pub fn record(
        &mut self,
        change: Change,
        effective: i32,
        evidence: &[Vec<u8>],
    ) -> Result<Vec<EventHeader>> {
        let mut history = Vec::new();
        for group in change.groups() {
            history.extend(self.load(&Subjects::group(&group))?);
        }
        let challenge_subjects = match change {
            Change::Raise { .. } => self.ledger.subjects_with_prefix("challenge/")?,
            _ => Vec::new(),
        };
        let world = world_at(
            &history,
            TimeQuery {
                as_of: Some(effective),
                known_at: None,
            },
        );
        let planned = change.build(Against {
            world: &world,
            agency: None,
            challenge_subjects: &challenge_subjects,
        })?;
        self.commit(&history, planned, effective, evidence)
    }

    /// Checks `planned` against `history` at `effective`, stores the evidence files
    /// they name, and appends them atomically. Returns once all of it is durable.
    pub fn commit(
        &mut self,
        history: &[Recorded],
        planned: Vec<Planned>,
        effective: i32,
        evidence: &[Vec<u8>],
    ) -> Result<Vec<EventHeader>> {
        if self.ledger.is_lent() {
            // The service records through its own writer; a lent ledger only reads.
            return Err(anyhow::anyhow!(
                "a change cannot be recorded through a ledger lent for reading"
            ));
        }
        let context = self.context(effective)?;
        validate(history, &planned, &context)?;
        store_evidence(&self.ledger, evidence)?;
        let events = planned.iter().map(|p| p.to_new_event(&context)).collect();
        Ok(self.ledger.append(events)?)
    }
}

/// Writes `bytes` to `path` so that after a crash it holds either its old content or
/// all of the new: a file beside it, fsynced, renamed over it, the folder fsynced.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    // A hidden name of this process's beside it: never a file of the user's.
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(name);
    let mut file = std::fs::File::create(&tmp)
        .with_context(|| format!("writing {} (through {})", path.display(), tmp.display()))?;
    std::io::Write::write_all(&mut file, bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {} (through {})", path.display(), tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(ledger::storage::sync_parent(path)?)
}

#[cfg(test)]
mod tests;
