//! The JSON API under `/api/v1`, for scripts: the same reads and changes as the
//! pages, signed in with a bearer token, described by `/api/v1/openapi.json`.
//! Errors are `{"error": "..."}` with a status that says whose fault it was.

use std::collections::HashMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use projections::commands::check_id;
use projections::events::{ActionRef, Evidence};
use projections::views::{self, plan_view};
use projections::World;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::{
    self, carry_build, challenge_step_build, progress_build, raise_build, status_build, StepFields,
};
use super::state::{Build, WriteError};
use super::{AppState, Caller, Need, Routes};
use crate::dates::{parse_date, today};

pub const OPENAPI: &str = include_str!("openapi.json");

pub(super) fn register(routes: Routes) -> Routes {
    routes
        .add(Method::GET, "/api/v1/openapi.json", Need::Public, openapi)
        .add(Method::GET, "/api/v1/plans", Need::Read, list_plans)
        .add(Method::GET, "/api/v1/plans/{id}", Need::Read, get_plan)
        .add(
            Method::POST,
            "/api/v1/plans/{id}/import",
            Need::Manage,
            import,
        )
        .add(
            Method::GET,
            "/api/v1/plans/{id}/actions/{ref}",
            Need::Read,
            get_action,
        )
        .add(
            Method::POST,
            "/api/v1/plans/{id}/actions/{ref}/status",
            Need::Manage,
            post_status,
        )
        .add(
            Method::POST,
            "/api/v1/plans/{id}/actions/{ref}/progress",
            Need::Progress,
            post_progress,
        )
        .add(
            Method::POST,
            "/api/v1/plans/{id}/actions/{ref}/carry-over",
            Need::Manage,
            post_carry_over,
        )
        .add(
            Method::GET,
            "/api/v1/challenges",
            Need::Read,
            list_challenges,
        )
        .add(Method::POST, "/api/v1/challenges", Need::Chair, post_raise)
        .add(
            Method::GET,
            "/api/v1/challenges/{id}",
            Need::Read,
            get_challenge,
        )
        .add(
            Method::POST,
            "/api/v1/challenges/{id}/respond",
            Need::Respond,
            post_respond,
        )
        .add(
            Method::POST,
            "/api/v1/challenges/{id}/escalate",
            Need::Chair,
            post_escalate,
        )
        .add(
            Method::POST,
            "/api/v1/challenges/{id}/close",
            Need::Chair,
            post_close,
        )
        .add(Method::GET, "/api/v1/history", Need::Audit, history)
        .add(Method::POST, "/api/v1/verify", Need::Audit, verify)
        .add(Method::GET, "/api/v1/checkpoint", Need::Audit, checkpoint)
}

pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("no {what}; GET /api/v1/plans and /api/v1/challenges list what there is"),
    )
}

fn bad_json(rejection: JsonRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        &format!(
            "the body is not the JSON this call takes: {}",
            rejection.body_text()
        ),
    )
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn list_plans(State(state): State<AppState>) -> Response {
    let live = state.shared.read();
    let views: Vec<_> = live
        .world
        .world()
        .plans
        .values()
        .map(|p| plan_view(p, today()))
        .collect();
    Json(views).into_response()
}

async fn get_plan(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if check_id("plan id", &id).is_err() {
        return not_found("such plan");
    }
    let query = match pages_time_query(&params) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let view = pages::plan_view_at(&state, &id, query);
    match view {
        Some(view) => Json(&*view).into_response(),
        None => not_found(&format!("plan {id}")),
    }
}

fn pages_time_query(
    params: &HashMap<String, String>,
) -> Result<projections::query::TimeQuery, String> {
    let as_of = params
        .get("as_of")
        .map(|d| parse_date("as_of", d).map_err(|e| e.to_string()))
        .transpose()?;
    let known_at = params
        .get("known_at")
        .map(|t| crate::dates::parse_moment("known_at", t).map_err(|e| e.to_string()))
        .transpose()?;
    Ok(projections::query::TimeQuery { as_of, known_at })
}

async fn get_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
) -> Response {
    if check_id("plan id", &id).is_err() || check_id("action ref", &reference).is_err() {
        return not_found("such action");
    }
    let live = state.shared.read();
    let at = ActionRef {
        plan: id,
        reference,
    };
    match views::action_timeline(live.world.world(), &at, today()) {
        Some(mut timeline) => {
            if let Some(agency) = caller.partner_agency() {
                timeline
                    .challenges
                    .retain(|c| c.to.eq_ignore_ascii_case(agency));
            }
            Json(timeline).into_response()
        }
        None => not_found(&format!("action {at}")),
    }
}

/// Sends a change to the writer: 201 with the new events' seqs and hashes once they
/// are durable; 422 when the history refuses it; 503 when the disk did.
async fn write(
    state: &AppState,
    caller: &Caller,
    effective: Option<&str>,
    evidence: Vec<Vec<u8>>,
    build: Build,
) -> Response {
    let effective = match effective.map(str::trim).filter(|e| !e.is_empty()) {
        None => today(),
        Some(text) => match parse_date("effective", text) {
            Ok(d) => d,
            Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
        },
    };
    match state
        .shared
        .write(caller.name(), effective, evidence, build)
        .await
    {
        Ok(headers) => {
            let events: Vec<Value> = headers
                .iter()
                .map(|h| json!({ "seq": h.seq, "hash": ledger::blobs::hex(blake3::hash(&h.leaf_bytes()).as_bytes()), "subject": h.subject, "kind": h.kind }))
                .collect();
            (StatusCode::CREATED, Json(json!({ "events": events }))).into_response()
        }
        Err(e @ WriteError::Rejected(_)) => error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Err(e @ (WriteError::Storage(_) | WriteError::Stopped)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())
        }
    }
}

fn ids_ok(id: &str, reference: &str) -> bool {
    check_id("plan id", id).is_ok() && check_id("action ref", reference).is_ok()
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    rationale: String,
    effective: Option<String>,
}

async fn post_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    body: Result<Json<StatusBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    if !ids_ok(&id, &reference) {
        return not_found("such action");
    }
    let build = status_build(&id, &reference, &body.status, &body.rationale);
    write(
        &state,
        &caller,
        body.effective.as_deref(),
        Vec::new(),
        build,
    )
    .await
}

#[derive(Deserialize)]
struct EvidenceBody {
    name: String,
    /// Standard base64 of the file's bytes.
    content: String,
}

#[derive(Deserialize)]
struct ProgressBody {
    note: String,
    effective: Option<String>,
    #[serde(default)]
    evidence: Vec<EvidenceBody>,
}

async fn post_progress(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    body: Result<Json<ProgressBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    if !ids_ok(&id, &reference) {
        return not_found("such action");
    }
    let mut blobs = Vec::new();
    let mut records = Vec::new();
    for (i, file) in body.evidence.iter().enumerate() {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&file.content) else {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("evidence[{i}].content is not standard base64"),
            );
        };
        if bytes.len() as u64 > ledger::blobs::MAX_BLOB_BYTES {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("evidence[{i}] is over the 25 MiB limit"),
            );
        }
        records.push(Evidence {
            name: pages::display_name(&file.name),
            blake3: ledger::blobs::blake3_of(&bytes),
            bytes: bytes.len() as u64,
        });
        blobs.push(bytes);
    }
    let build = progress_build(&caller, &id, &reference, &body.note, records);
    write(&state, &caller, body.effective.as_deref(), blobs, build).await
}

#[derive(Deserialize)]
struct CarryBody {
    to_plan: String,
    to_ref: Option<String>,
    reason: String,
    forum: Option<String>,
    effective: Option<String>,
}

async fn post_carry_over(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    body: Result<Json<CarryBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    if !ids_ok(&id, &reference) {
        return not_found("such action");
    }
    let build = carry_build(
        &id,
        &reference,
        &body.to_plan,
        body.to_ref.as_deref().unwrap_or(""),
        &body.reason,
        body.forum.as_deref().unwrap_or(""),
    );
    write(
        &state,
        &caller,
        body.effective.as_deref(),
        Vec::new(),
        build,
    )
    .await
}

/// `POST /api/v1/plans/{id}/import?title=T&period=P&effective=D&as_at=D&sheet=S&file_name=F&map=H%3DFIELD&legend=C%3DSTATUS&dry_run=true`,
/// the body the plan's file (any kind the CLI reads). With `dry_run=true` it answers
/// 200 with the preview and records nothing; otherwise 201 with the events, as
/// every change does, once they are durable.
async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = check_id("plan id", &id) {
        return error(StatusCode::BAD_REQUEST, &e.0);
    }
    let one = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let all = |name: &str| {
        params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let file_name = Some(one("file_name"))
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| format!("{id}.csv"));
    let request = super::import::Request {
        plan: id.clone(),
        title: one("title"),
        period: one("period"),
        effective: one("effective"),
        as_at: one("as_at"),
        sheet: one("sheet"),
        maps: all("map"),
        legends: all("legend"),
        file_name,
    };
    let read = match super::import::read(&state, &request, &body) {
        Ok(read) => read,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    if one("dry_run") == "true" {
        return Json(read.json).into_response();
    }
    let super::import::Read {
        imported,
        recording,
        ..
    } = read;
    let effective = recording.effective;
    let build: Build =
        Box::new(move |world: &World| crate::import::plan_events(world, &imported, &recording));
    let day = projections::timescale::days_to_date(effective).map(|d| d.to_string());
    write(&state, &caller, day.as_deref(), Vec::new(), build).await
}

async fn list_challenges(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    Json(pages::visible_challenges(&state, &caller, &params)).into_response()
}

async fn get_challenge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let live = state.shared.read();
    let found = live.world.world().challenges.get(&id).filter(|c| {
        caller
            .partner_agency()
            .is_none_or(|agency| c.to_agency.eq_ignore_ascii_case(agency))
    });
    match found {
        Some(c) => Json(views::challenge_view(c, today())).into_response(),
        None => not_found(&format!("challenge {id}")),
    }
}

#[derive(Deserialize)]
struct RaiseBody {
    to_agency: String,
    text: String,
    #[serde(default)]
    about: Vec<String>,
    due: Option<String>,
}

async fn post_raise(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<RaiseBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    let due = match body
        .due
        .as_deref()
        .map(|d| parse_date("due", d))
        .transpose()
    {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match raise_build(&body.to_agency, &body.text, &body.about, due, today()) {
        Ok(build) => write(&state, &caller, None, Vec::new(), build).await,
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn step(
    state: AppState,
    caller: Caller,
    id: String,
    step: &str,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    if check_id("challenge id", &id).is_err() {
        return not_found("such challenge");
    }
    let fields = match step {
        "respond" => [body.text.as_str(), ""],
        "escalate" => [body.to.as_str(), body.reason.as_str()],
        _ => [body.outcome.as_str(), body.impact.as_str()],
    };
    let build = challenge_step_build(&caller, &id, step, fields);
    write(&state, &caller, None, Vec::new(), build).await
}

async fn post_respond(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, "respond", body).await
}

async fn post_escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, "escalate", body).await
}

async fn post_close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, "close", body).await
}

/// `GET /api/v1/history?subject=PREFIX&after=SEQ&limit=N`: events in seq order.
async fn history(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let prefix = params.get("subject").cloned().unwrap_or_default();
    let after: u64 = match params.get("after").map(|a| a.parse()) {
        None => 0,
        Some(Ok(a)) => a,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "after must be a seq number"),
    };
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let live = state.shared.read();
    let world = live.world.world();
    let events = live.world.events();
    let start = events.partition_point(|r| r.stamp.seq < after);
    let entries: Vec<views::HistoryEntry> = events[start..]
        .iter()
        .filter(|r| r.subject.starts_with(&prefix))
        .take(limit)
        .map(|r| {
            let hash = live
                .hashes
                .get(r.stamp.seq as usize)
                .map(ledger::blobs::hex)
                .unwrap_or_default();
            let kind = r.event.as_ref().map_or("redacted", |e| e.kind());
            views::history_entry(r, hash, kind, &world.redactions)
        })
        .collect();
    Json(json!({ "size": live.size(), "events": entries })).into_response()
}

async fn verify(State(state): State<AppState>) -> Response {
    let report = pages::verify_now(&state).await;
    let status = if report.ok {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (status, Json(report)).into_response()
}

async fn checkpoint(State(state): State<AppState>) -> Response {
    let ledger = state.shared.ledger();
    match ledger.latest_checkpoint() {
        Ok(Some(c)) => Json(json!({
            "size": c.unverified_checkpoint().size,
            "note": c.to_string(),
            "signers": c.note().signatures().iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        }))
        .into_response(),
        Ok(None) => not_found("checkpoint yet"),
        Err(e) => {
            eprintln!("assure serve: reading the checkpoint failed: {e}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the checkpoint could not be read",
            )
        }
    }
}

/// An export bundle of the whole ledger as a tar file (FORMAT v1 §4 inside).
pub async fn export_tar(state: &AppState) -> Result<Vec<u8>, String> {
    let shared = state.shared.clone();
    let data = state.data.clone();
    tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let suffix = super::accounts::random_id().map_err(|e| e.to_string())?;
        let dir = data.join(format!(".export-{}", &suffix[..12]));
        let result = (|| -> anyhow::Result<Vec<u8>> {
            let mut ledger = shared.ledger();
            crate::commands::export::export(&mut ledger, &dir, None, None)?;
            // The export may have signed a checkpoint covering every event.
            let summary = super::state::checkpoint_summary(&ledger);
            drop(ledger);
            shared
                .live
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .checkpoint = summary;
            Ok(tar_folder(&dir)?)
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result.map_err(|e| {
            eprintln!("assure serve: an export failed: {e:#}");
            "the export could not be written; the service's log says why".to_owned()
        })
    })
    .await
    .map_err(|_| "the export stopped unexpectedly".to_owned())?
}

/// A ustar archive of a folder's files (one level of subfolders, as a bundle has).
fn tar_folder(dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            for inner in std::fs::read_dir(entry.path())? {
                let inner = inner?;
                files.push((
                    format!(
                        "{}/{}",
                        entry.file_name().to_string_lossy(),
                        inner.file_name().to_string_lossy()
                    ),
                    inner.path(),
                ));
            }
        } else {
            files.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
    }
    files.sort();
    for (name, path) in files {
        let bytes = std::fs::read(&path)?;
        let name = format!("assure-export/{name}");
        let mut header = [0u8; 512];
        let name_bytes = name.as_bytes();
        if name_bytes.len() > 100 {
            return Err(std::io::Error::other(format!(
                "{name} is too long for a tar header"
            )));
        }
        header[..name_bytes.len()].copy_from_slice(name_bytes);
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", bytes.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    Ok(out)
}
