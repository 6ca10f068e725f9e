//! Per-plan summaries for `assure plans`: each plan's title, period, number of actions
//! and actions by status, kept in `DATA/cache/plans.json` with the log size and root
//! they were computed at, so listing the plans of a large ledger does not replay every
//! plan. Only the plans that changed since (an event of theirs in the log's tail, or a
//! redaction of one) are recomputed, one at a time, each from its own events exactly
//! as `assure plan ID` shows it.
//!
//! The file is derived, never trusted: a missing, unreadable, damaged (its checksum)
//! or foreign one (its root is not this log's root at its size) is rebuilt from the
//! log, and failing to write it only costs the next run the same work. Whoever can
//! write the folder could forge it as they could forge anything there; `verify`
//! recomputes every summary and says so if the file disagrees (`check_cache`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use ledger::redaction::{Redaction, REDACTION_KIND};
use ledger::{codec, hex, Ledger};
use projections::read::TimeQuery;
use serde::{Deserialize, Serialize};

use super::App;

/// One plan as `assure plans` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub id: String,
    pub title: String,
    pub period: Option<String>,
    pub actions: usize,
    /// Number of actions by status word, every status present (zero included).
    pub counts: BTreeMap<String, usize>,
}

/// The cache file's layout; `version` changes whenever a summary would be computed
/// differently, which makes every older file a miss.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    version: u32,
    size: u64,
    root: String,
    plans: BTreeMap<String, PlanSummary>,
    /// BLAKE3 of the rest, so a damaged file is rebuilt rather than shown.
    #[serde(default)]
    check: String,
}

impl Cached {
    fn checksum(&self) -> String {
        // Through a JSON value, whose objects are key-sorted: the same bytes for the
        // same content whatever the order of fields.
        let content = serde_json::to_value((self.version, self.size, &self.root, &self.plans))
            .and_then(|value| serde_json::to_vec(&value))
            .unwrap_or_default();
        blake3::hash(&content).to_hex().to_string()
    }
}

const VERSION: u32 = 2;

fn cache_path(ledger: &Ledger) -> PathBuf {
    ledger.dir().join("cache").join("plans.json")
}

/// Every plan's summary, in plan id order.
pub fn plan_summaries(app: &App) -> Result<Vec<PlanSummary>> {
    let ledger = &*app.ledger;
    let size = ledger.size();
    let path = cache_path(ledger);
    let (from, mut plans) = match read_cache(ledger, &path) {
        Some(cached) => (cached.size, cached.plans),
        None => (0, BTreeMap::new()),
    };
    if from == size {
        return Ok(plans.into_values().collect());
    }
    for id in plans_changed(ledger, from, size)? {
        match summary_of(app, &id)? {
            Some(summary) => plans.insert(id, summary),
            None => plans.remove(&id),
        };
    }
    let mut cached = Cached {
        version: VERSION,
        size,
        root: hex::hex(&ledger.root()),
        plans,
        check: String::new(),
    };
    cached.check = cached.checksum();
    // A cache that cannot be written (a read-only copy of a data folder) is not an error.
    let _ = write_cache(&path, &cached);
    Ok(cached.plans.into_values().collect())
}

/// One plan's summary from its own events, as `assure plan ID` shows it now.
fn summary_of(app: &App, id: &str) -> Result<Option<PlanSummary>> {
    Ok(app
        .plan_at(id, TimeQuery::default())?
        .map(|view| PlanSummary {
            id: view.plan.id,
            title: view.plan.title,
            period: view.plan.period,
            actions: view.actions.len(),
            counts: view
                .counts
                .into_iter()
                .map(|(status, n)| (status.to_owned(), n))
                .collect(),
        }))
}

/// The cache, if it was computed from a prefix of this very log.
fn read_cache(ledger: &Ledger, path: &Path) -> Option<Cached> {
    let cached: Cached = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let root = ledger.root_at(cached.size).ok()?;
    (cached.version == VERSION
        && cached.check == cached.checksum()
        && cached.size <= ledger.size()
        && hex::hex(&root) == cached.root)
        .then_some(cached)
}

fn write_cache(path: &Path, cached: &Cached) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!("plans.json.{}.tmp", std::process::id()));
    std::fs::write(&temporary, serde_json::to_vec(cached)?)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// The ids of the plans with an event in `from..size`, or with an event a redaction in
/// that range erased (its text changes what the plan shows).
fn plans_changed(ledger: &Ledger, from: u64, size: u64) -> Result<BTreeSet<String>> {
    if from == 0 {
        return all_plans(ledger);
    }
    let mut subjects = Vec::new();
    ledger.scan(from..size, &mut |event| {
        if event.header.kind == REDACTION_KIND {
            if let Some(body) = &event.body {
                let redaction: Redaction =
                    codec::decode_payload(&body.payload).map_err(ledger::Error::Rejected)?;
                subjects.push(ledger.header(redaction.target_seq)?.subject);
            }
        } else {
            subjects.push(event.header.subject);
        }
        Ok(true)
    })?;
    Ok(subjects
        .iter()
        .filter_map(|s| ledger::group_of(s).strip_prefix("plan/"))
        .map(str::to_owned)
        .collect())
}

/// Every plan's id, from the index's keys rather than by reading the log.
fn all_plans(ledger: &Ledger) -> Result<BTreeSet<String>> {
    Ok(ledger
        .groups_with_prefix("plan/")?
        .iter()
        .filter_map(|group| group.strip_prefix("plan/"))
        .map(str::to_owned)
        .collect())
}

/// For `verify`: whether the cached summaries (if any) say what the log says — each
/// plan's as `plans` would show it now, against one computed afresh. A file that
/// disagrees is named and removed, to be rebuilt.
pub fn check_cache(app: &App) -> Result<Option<String>> {
    let path = cache_path(&app.ledger);
    if read_cache(&app.ledger, &path).is_none() {
        return Ok(None);
    }
    let shown = plan_summaries(app)?;
    let mut ids = all_plans(&app.ledger)?;
    ids.extend(shown.iter().map(|s| s.id.clone()));
    let mut wrong = Vec::new();
    for id in ids {
        if summary_of(app, &id)?.as_ref() != shown.iter().find(|s| s.id == id) {
            wrong.push(id);
        }
    }
    if wrong.is_empty() {
        return Ok(None);
    }
    let _ = std::fs::remove_file(&path);
    Ok(Some(format!(
        "{} disagrees with the log for plan {}; it was removed and `assure plans` will rebuild it. It is derived data, but someone or something changed it: find out how.",
        path.display(),
        wrong.join(", ")
    )))
}
