//! The reads the pages and the API share: a page's time query, and the plan at a time —
//! "now" from the live world under the read lock, a past date or moment through
//! `projections::read::plan_at` (snapshots, outside the lock), kept in `ViewCache`
//! while no later event could change it — and the world the report shows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use projections::events::*;
use projections::read::TimeQuery;
use projections::views::{
    self, challenge_log, challenge_page, plan_view, ChallengeFilter, ChallengeView, Page, PlanView,
};
use projections::World;

use crate::app::input;
use crate::dates::today;
use crate::web::html::{self};
use crate::web::pages::forms::{bad_request, param, valid_id};
use crate::web::{AppState, Caller};

/// The time query of a page or an API call: `as_of` (a date) and `known_at` (a
/// moment), named in errors as `names` says.
pub(super) fn time_query(
    params: &HashMap<String, String>,
    names: [&str; 2],
) -> Result<TimeQuery, String> {
    let get = |name| params.get(name).map(String::as_str);
    input::time_query(get("as_of"), get("known_at"), names).map_err(|e| e.to_string())
}

/// The log could not be read back (a damaged store): the page or call cannot be
/// answered. Logged where it happens; the user is told to tell the administrator.
#[derive(Debug)]
pub struct Unreadable;

impl Unreadable {
    pub(super) fn logged(e: ledger::Error) -> Unreadable {
        eprintln!("assure serve: reading the log back failed: {e}");
        Unreadable
    }

    pub(super) fn page(&self) -> Response {
        html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The ledger could not be read",
            UNREADABLE,
        )
    }
}

/// What a user is told when the log could not be read back.
pub(super) const UNREADABLE: &str = "the ledger could not read part of its history back from the disk; nothing was changed. Tell the administrator: the service's error output says what failed, and `assure verify` says where";

/// What a page calls the two inputs of a time query.
pub(super) const PAGE_TIME: [&str; 2] = ["as it stood on", "as recorded at"];

/// The world the inspection report shows: the plan and the challenge log, now or
/// replayed for a time query.
pub(super) fn report_world(
    state: &AppState,
    id: &str,
    query: TimeQuery,
) -> Result<Option<World>, Unreadable> {
    let live = state.shared.read();
    if query == TimeQuery::default() {
        let world = live.world.world();
        let Some(plan) = world.plan(id) else {
            return Ok(None);
        };
        let mut one = World::default();
        one.plans.insert(id.to_owned(), plan.clone());
        one.challenges = world.challenges.clone();
        return Ok(Some(one));
    }
    let mut events = live
        .group_events(&subject::plan(id))
        .map_err(Unreadable::logged)?
        .to_vec();
    let groups: Vec<String> = live
        .world
        .world()
        .challenges
        .keys()
        .map(|c| subject::challenge(c))
        .collect();
    for group in groups {
        events.extend_from_slice(&live.group_events(&group).map_err(Unreadable::logged)?);
    }
    drop(live);
    let events: Vec<projections::Recorded> = events.iter().map(|r| (**r).clone()).collect();
    let world = projections::read::world_at(&events, query);
    Ok(world.plan(id).is_some().then_some(world))
}

/// Plan views for a time query, each kept with how many of the plan's events it
/// has seen; it is used again only while no event appended since could change it.
#[derive(Debug, Default)]
pub struct ViewCache {
    entries: HashMap<ViewKey, (usize, Arc<PlanView>)>,
    /// The board's picture of a plan (`plan_months`), kept while no event of the
    /// plan came after it: one lookup per page instead of one view per month.
    charts: HashMap<ViewKey, (usize, Arc<Chart>)>,
    /// A plan's counts at a month's end (the picture's bars), kept apart from the
    /// views so a flood of pages for new dates never evicts them.
    month_ends: HashMap<(String, i32), (usize, Counts)>,
}

type Counts = std::collections::BTreeMap<&'static str, usize>;

/// Most month-end counts kept (a few hundred bytes each); when full they are
/// dropped together and made again as pages ask.
const MONTH_ENDS_MAX: usize = 65_536;

/// A plan's months and, when they stop before the date shown, its last change.
pub type Chart = (Vec<super::chart::Month>, Option<i32>);

pub(super) type ViewKey = (String, Option<i32>, Option<i64>, i32);

/// Whether a view made when a plan had `seen` events still holds for `query`: no
/// event of the plan since then counts for it.
fn unchanged_since(slots: &[projections::read::Slot], seen: usize, query: &TimeQuery) -> bool {
    slots
        .get(seen..)
        .is_some_and(|new| new.iter().all(|s| !s.admitted(query)))
}

/// Most views kept.
pub(super) const VIEW_CACHE_MAX: usize = 512;

/// The plan view a plan page, CSV or API call shows: for "now", from the live world
/// under the read lock; for a time query, `projections::read::plan_at` outside it
/// (or a cached view that no later event could change).
pub(super) fn plan_view_at(
    state: &AppState,
    id: &str,
    query: TimeQuery,
) -> Result<Option<Arc<PlanView>>, Unreadable> {
    let day = query.as_of.unwrap_or_else(today);
    let group = subject::plan(id);
    let live = state.shared.read();
    if query == TimeQuery::default() {
        return Ok(live
            .world
            .world()
            .plan(id)
            .map(|p| Arc::new(plan_view(p, day))));
    }
    let key: ViewKey = (id.to_owned(), query.as_of, query.known_at, day);
    let slots = live.group_slots(&group);
    let cached = state
        .views
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entries
        .get(&key)
        .cloned();
    if let Some((seen, view)) = cached {
        if unchanged_since(slots, seen, &query) {
            return Ok(Some(view));
        }
    }
    let seen = slots.len();
    drop(live);
    let view = projections::read::plan_at(
        &state.shared.snapshots,
        || state.shared.read(),
        id,
        &query,
        day,
    )
    .map_err(Unreadable::logged)?;
    let Some(view) = view.map(Arc::new) else {
        return Ok(None);
    };
    let mut cache = state.views.lock().unwrap_or_else(|p| p.into_inner());
    // Full: one view makes room (any: a view costs a fraction of a millisecond to
    // make again), freed after the lock is let go, so no reader waits on it.
    let evicted = if cache.entries.len() >= VIEW_CACHE_MAX {
        let any = cache.entries.keys().next().cloned();
        any.and_then(|k| cache.entries.remove(&k))
    } else {
        None
    };
    cache.entries.insert(key, (seen, view.clone()));
    drop(cache);
    drop(evicted);
    Ok(Some(view))
}

/// The plan's counts by status at the end of each month from its start to the day
/// `query` shows, or to the month of its last change when that came earlier (with
/// that day, so the page can say nothing changed since). Each month is the plan as
/// `plan_view_at` gives it (cached like any past view); the whole picture is kept
/// until an event of the plan comes after it, so a page asks the cache once.
/// A page "as recorded at" a moment gets no picture: each of its months would be
/// a replay of its own, and the picture is of the plan as it stood, as now known.
pub(super) async fn plan_months(state: &AppState, id: &str, query: TimeQuery) -> Arc<Chart> {
    if query.known_at.is_some() {
        return Arc::new((Vec::new(), None));
    }
    let shown = query.as_of.unwrap_or_else(today);
    let key: ViewKey = (id.to_owned(), query.as_of, query.known_at, shown);
    let (span, seen) = {
        let live = state.shared.read();
        let seen = live.group_slots(&subject::plan(id)).len();
        let cached = state
            .views
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .charts
            .get(&key)
            .filter(|(at, _)| *at == seen)
            .map(|(_, chart)| chart.clone());
        if let Some(chart) = cached {
            return chart;
        }
        let span = live
            .world
            .world()
            .plan(id)
            .map(|plan| super::chart::span(plan, shown));
        (span, seen)
    };
    let Some((start, until, quiet)) = span else {
        return Arc::new((Vec::new(), None));
    };
    let (state, id) = (state.clone(), id.to_owned());
    tokio::task::spawn_blocking(move || {
        let months = super::chart::months(start, until, |day| {
            if day == shown {
                // The date shown: the page's own view (live for "now", else cached).
                let view = plan_view_at(&state, &id, query).ok().flatten();
                return view.map(|view| view.counts.clone());
            }
            month_end_counts(&state, &id, day)
        });
        let chart = Arc::new((months, quiet));
        let mut cache = state.views.lock().unwrap_or_else(|p| p.into_inner());
        if cache.charts.len() >= VIEW_CACHE_MAX {
            let any = cache.charts.keys().next().cloned();
            if let Some(any) = any {
                cache.charts.remove(&any);
            }
        }
        cache.charts.insert(key, (seen, chart.clone()));
        chart
    })
    .await
    .unwrap_or_else(|_| Arc::new((Vec::new(), None)))
}

/// A plan's counts as it stood at the end of a past month, as now known: kept while
/// no event since could change them. (None also when the log could not be read
/// back: that month shows no bar, and the error is logged.)
fn month_end_counts(state: &AppState, id: &str, day: i32) -> Option<Counts> {
    let query = TimeQuery {
        as_of: Some(day),
        known_at: None,
    };
    let key = (id.to_owned(), day);
    let seen = {
        let live = state.shared.read();
        let slots = live.group_slots(&subject::plan(id));
        let cache = state.views.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, counts)) = cache.month_ends.get(&key) {
            if unchanged_since(slots, *seen, &query) {
                return Some(counts.clone());
            }
        }
        slots.len()
    };
    let view = projections::read::plan_at(
        &state.shared.snapshots,
        || state.shared.read(),
        id,
        &query,
        day,
    )
    .map_err(Unreadable::logged)
    .ok()??;
    let mut cache = state.views.lock().unwrap_or_else(|p| p.into_inner());
    if cache.month_ends.len() >= MONTH_ENDS_MAX {
        cache.month_ends.clear();
    }
    cache.month_ends.insert(key, (seen, view.counts.clone()));
    Some(view.counts)
}

/// The plan a page or download asks for, at the time its query names.
/// A past date may replay thousands of events: that runs on the blocking pool, so
/// the async workers go on answering pages for "now" meanwhile.
pub(super) async fn requested_plan_view(
    state: &AppState,
    id: &str,
    params: &HashMap<String, String>,
) -> Result<(TimeQuery, Arc<PlanView>), Box<Response>> {
    if !valid_id("plan id", id) {
        return Err(Box::new(html::not_found()));
    }
    let query = time_query(params, PAGE_TIME).map_err(|e| Box::new(bad_request(&e)))?;
    let view = if query == TimeQuery::default() {
        plan_view_at(state, id, query)
    } else {
        let (state, id) = (state.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || plan_view_at(&state, &id, query))
            .await
            .unwrap_or(Err(Unreadable))
    };
    let view = view
        .map_err(|e| Box::new(e.page()))?
        .ok_or_else(|| Box::new(html::not_found()))?;
    Ok((query, view))
}

/// The ledger's checkpoints read for people: the latest, and the latest co-signed
/// with a key registered for an account (`assurance::checkpoints`).
pub(super) fn checkpoints_apart(state: &AppState) -> super::assurance::Checkpoints {
    let accounts = state.accounts();
    // No store flush (a page load must not make the writer's work wait): a checkpoint
    // is only signed through `Shared::ledger`, which flushed, so the events it covers
    // are in the store already.
    let ledger = state
        .shared
        .ledger
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    super::assurance::checkpoints(&ledger, &accounts)
}

/// Runs `verify` off the async threads and keeps the result for the dashboard.
pub(super) async fn verify_now(state: &AppState) -> ledger::VerifyReport {
    let shared = state.shared.clone();
    let report = tokio::task::spawn_blocking(move || shared.ledger().verify())
        .await
        .unwrap_or_else(|_| ledger::VerifyReport {
            ok: false,
            size: 0,
            head: String::new(),
            first_bad_seq: None,
            problem: Some("verification stopped unexpectedly".into()),
            blobs: 0,
            root: String::new(),
        });
    let at = views::timestamp(chrono::Utc::now().timestamp_micros());
    *state.verified.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, report.clone()));
    report
}

/// The challenge log a caller may read: a partner lead sees its own agency's only.
pub(super) fn visible_challenges(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
) -> Vec<ChallengeView> {
    let live = state.shared.read();
    challenge_log(
        live.world.world(),
        &challenge_filter(caller, params),
        today(),
    )
}

/// The challenge log's filter from a page's or the API's query: a partner lead's
/// own agency always, whatever the query says.
fn challenge_filter(caller: &Caller, params: &HashMap<String, String>) -> ChallengeFilter {
    let agency = match caller.partner_agency() {
        Some(a) => Some(a.to_owned()),
        None => param(params, "agency").map(str::to_owned),
    };
    ChallengeFilter {
        open_only: param(params, "open").is_some(),
        overdue_only: param(params, "overdue").is_some(),
        agency,
    }
}

/// How many entries a page of a list shows unless `limit` says otherwise.
pub(super) const PAGE_SIZE: usize = 50;

/// The page a query asks for: `after` (a seq; the page starts after it) and
/// `limit` (1 to `max`).
pub(super) fn page_request(
    params: &HashMap<String, String>,
    max: usize,
) -> Result<(Option<u64>, usize), String> {
    let after = match param(params, "after") {
        None => None,
        Some(a) => Some(
            a.parse::<u64>()
                .map_err(|_| format!("after={a:?} is not a seq number"))?,
        ),
    };
    let limit = match param(params, "limit") {
        None => PAGE_SIZE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| format!("limit={l:?} should be a number from 1 to {max}"))?,
    };
    Ok((after, limit))
}

/// One page of the challenges a caller may see, in the order they were raised.
pub(super) fn visible_challenge_page(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
    after: Option<u64>,
    limit: usize,
) -> Page<ChallengeView> {
    let live = state.shared.read();
    challenge_page(
        live.world.world(),
        &challenge_filter(caller, params),
        today(),
        after,
        limit,
    )
}

/// An export bundle of the whole ledger as a tar file (FORMAT v1 §4 inside),
/// streamed: the bundle is written to a folder first (so a failure is still an error
/// page), then archived into the response as the client reads it, a few chunks at a
/// time; the folder is removed when the archive ends or the client goes away.
/// The error is a status and a message for people.
pub(super) async fn export_tar(state: &AppState) -> Result<axum::body::Body, (StatusCode, String)> {
    let shared = state.shared.clone();
    let data = state.data.clone();
    let mut cosigners = state.accounts().vkeys();
    cosigners.extend(crate::app::keys::cosigner_vkeys(&state.data));
    let dir = tokio::task::spawn_blocking(move || -> Result<PathBuf, (StatusCode, String)> {
        let suffix = super::accounts::random_id()
            .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
        let dir = data.join(format!(".export-{}", &suffix[..12]));
        // Reading never signs: the bundle is the ledger as the latest checkpoint
        // covers it, so the checkpoint the pages show stays the one people signed.
        let written = {
            let mut ledger = shared.ledger();
            crate::app::export::export_at_latest_checkpoint(&mut ledger, &dir, &cosigners)
        };
        match written {
            Ok(_) => Ok(dir),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(match e.downcast_ref::<crate::exit::Usage>() {
                    Some(refused) => (StatusCode::CONFLICT, refused.0.clone()),
                    None => {
                        eprintln!("assure serve: an export failed: {e:#}");
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the export could not be written; the service's error output says why"
                                .to_owned(),
                        )
                    }
                })
            }
        }
    })
    .await
    .map_err(|_| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the export stopped unexpectedly".to_owned(),
        )
    })??;
    let (sender, receiver) = tokio::sync::mpsc::channel(TAR_CHUNKS);
    tokio::task::spawn_blocking(move || {
        let mut sink = ChunkSink {
            sender: sender.clone(),
            chunk: Vec::with_capacity(TAR_CHUNK),
        };
        let archived = tar_folder(&dir, &mut sink).and_then(|()| sink.flush_chunk());
        if let Err(e) = archived {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("assure serve: an export download failed: {e}");
                // The client sees the transfer end in error, never a short archive
                // that looks whole.
                let _ = sender.blocking_send(Err(e));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(axum::body::Body::from_stream(stream))
}

/// The archive goes to the client in chunks of this size, at most this many waiting.
const TAR_CHUNK: usize = 64 * 1024;
const TAR_CHUNKS: usize = 8;

/// Bytes written, sent on as chunks; a client gone is a broken pipe.
struct ChunkSink {
    sender: tokio::sync::mpsc::Sender<std::io::Result<axum::body::Bytes>>,
    chunk: Vec<u8>,
}

impl ChunkSink {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(TAR_CHUNK));
        self.sender
            .blocking_send(Ok(chunk.into()))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl std::io::Write for ChunkSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= TAR_CHUNK {
            self.flush_chunk()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A tar archive of a bundle folder under `assure-export/`, files in name order
/// (the same folder gives the same bytes).
fn tar_folder(dir: &Path, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut archive = tar::Builder::new(out);
    archive.mode(tar::HeaderMode::Deterministic);
    archive.follow_symlinks(false);
    archive.append_dir_all("assure-export", dir)?;
    archive.finish()
}
