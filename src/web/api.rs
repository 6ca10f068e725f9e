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
use projections::events::ActionRef;
use projections::planned::check_id;
use projections::views::{self, plan_view};
use serde::Deserialize;
use serde_json::{json, Value};

use super::html;
use super::inputs::{CarryFields, Step, StepFields};
use super::read::{page_request, plan_view_at, time_query, verify_now, visible_challenge_page};
use super::{AppState, Caller, Need, Routes};
use crate::app::{access, input, Change};
use crate::dates::today;

/// What the API calls the two inputs of a time query.
const API_TIME: [&str; 2] = ["as_of", "known_at"];

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
        .add(
            Method::POST,
            "/api/v1/challenges/{id}/due",
            Need::Chair,
            post_due,
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
    let query = match time_query(&params, API_TIME) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    match plan_view_at(&state, &id, query) {
        Ok(Some(view)) => Json(&*view).into_response(),
        Ok(None) => not_found(&format!("plan {id}")),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, super::read::UNREADABLE),
    }
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
            let agency = caller.partner_agency();
            timeline
                .challenges
                .retain(|c| access::may_see_challenge_to(live.world.world(), agency, &c.to));
            Json(timeline).into_response()
        }
        None => not_found(&format!("action {at}")),
    }
}

/// Sends a change to the writer: 201 with the new events' seqs and hashes once they
/// are durable; 422 when an input cannot be read (a date with a two-digit year) or
/// the history refuses the change; 503 when the disk did.
async fn write(
    state: &AppState,
    caller: &Caller,
    effective: Option<&str>,
    evidence: Vec<Vec<u8>>,
    change: anyhow::Result<Change>,
) -> Response {
    let input = input::effective_day(effective, "effective")
        .and_then(|day| change.map(|change| (day, change)));
    let (effective, change) = match input {
        Ok(input) => input,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    };
    match state
        .shared
        .write(caller, effective, evidence, change)
        .await
    {
        Ok(headers) => {
            let events: Vec<Value> = headers
                .iter()
                .map(|h| json!({ "seq": h.seq, "hash": ledger::hex::hex(&h.event_hash()), "subject": h.subject, "kind": h.kind }))
                .collect();
            (StatusCode::CREATED, Json(json!({ "events": events }))).into_response()
        }
        Err(e) => error(e.status(), &e.to_string()),
    }
}

fn action_ref(id: &str, reference: &str) -> ActionRef {
    ActionRef {
        plan: id.to_owned(),
        reference: reference.to_owned(),
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
    let change = input::status(&body.status).map(|status| Change::Status {
        at: action_ref(&id, &reference),
        status,
        rationale: body.rationale,
    });
    write(
        &state,
        &caller,
        body.effective.as_deref(),
        Vec::new(),
        change,
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
        match input::evidence(&file.name, &bytes) {
            Ok(record) => records.push(record),
            Err(_) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("evidence[{i}] is over the 25 MiB limit"),
                )
            }
        }
        blobs.push(bytes);
    }
    let change = Change::Progress {
        at: action_ref(&id, &reference),
        note: body.note,
        evidence: records,
    };
    write(
        &state,
        &caller,
        body.effective.as_deref(),
        blobs,
        Ok(change),
    )
    .await
}

async fn post_carry_over(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    body: Result<Json<CarryFields>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    if !ids_ok(&id, &reference) {
        return not_found("such action");
    }
    let effective = body.effective.clone();
    let change = body.change(&id, &reference);
    write(&state, &caller, effective.as_deref(), Vec::new(), change).await
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
    let day = projections::timescale::days_to_date(recording.effective).map(|d| d.to_string());
    let change = Change::Import {
        plan: Box::new(imported),
        recording,
    };
    write(&state, &caller, day.as_deref(), Vec::new(), Ok(change)).await
}

async fn list_challenges(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let mut params = params;
    params
        .entry("limit".to_owned())
        .or_insert_with(|| API_PAGE.to_string());
    let (after, limit) = match page_request(&params, API_PAGE_MAX) {
        Ok(page) => page,
        Err(why) => return error(StatusCode::BAD_REQUEST, &why),
    };
    let page = visible_challenge_page(&state, &caller, &params, after, limit);
    let mut response = Json(&page.items).into_response();
    let headers = response.headers_mut();
    if let Ok(total) = header::HeaderValue::from_str(&page.total.to_string()) {
        headers.insert("x-total-count", total);
    }
    if let Some(next) = page.next {
        let filters: String = ["open", "overdue", "agency"]
            .iter()
            .filter_map(|k| {
                params
                    .get(*k)
                    .map(|v| format!("&{k}={}", html::url_encode(v)))
            })
            .collect();
        let link =
            format!("</api/v1/challenges?after={next}&limit={limit}{filters}>; rel=\"next\"");
        if let Ok(link) = header::HeaderValue::from_str(&link) {
            headers.insert(header::LINK, link);
        }
    }
    response
}

/// Entries in a page of an API list unless `limit` says otherwise, and the most.
const API_PAGE: usize = 100;
const API_PAGE_MAX: usize = 1000;

async fn get_challenge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let live = state.shared.read();
    let found = live
        .world
        .world()
        .challenges
        .get(&id)
        .filter(|c| access::may_see_challenge(live.world.world(), caller.partner_agency(), c));
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
    let today = today();
    let change = input::optional_date(body.due.as_deref(), "due").and_then(|due| {
        let about = input::action_refs(body.about.iter().map(String::as_str), "about")?;
        Ok(Change::raise(
            &body.to_agency,
            &body.text,
            about,
            due,
            today,
        )?)
    });
    write(&state, &caller, None, Vec::new(), change).await
}

async fn step(
    state: AppState,
    caller: Caller,
    id: String,
    step: Step,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_json(e),
    };
    if check_id("challenge id", &id).is_err() {
        return not_found("such challenge");
    }
    let change = body.change(&id, step);
    write(&state, &caller, None, Vec::new(), change).await
}

async fn post_respond(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, Step::Respond, body).await
}

async fn post_escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, Step::Escalate, body).await
}

async fn post_due(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, Step::SetDue, body).await
}

async fn post_close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<StepFields>, JsonRejection>,
) -> Response {
    step(state, caller, id, Step::Close, body).await
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
        .unwrap_or(API_PAGE)
        .clamp(1, API_PAGE_MAX);
    let live = state.shared.read();
    let page = live.seqs_with_prefix(&prefix).and_then(|seqs| {
        let start = seqs.partition_point(|&seq| seq < after);
        let chosen = &seqs[start..(start + limit).min(seqs.len())];
        // Where the next page starts (its `after`), when there is more.
        let next = (start + limit < seqs.len()).then(|| chosen.last().map_or(after, |s| s + 1));
        Ok((live.events(chosen)?, next))
    });
    let (events, next) = match page {
        Ok(page) => page,
        Err(e) => {
            eprintln!("assure serve: reading the history back failed: {e}");
            return error(StatusCode::SERVICE_UNAVAILABLE, super::read::UNREADABLE);
        }
    };
    let entries: Vec<views::HistoryEntry> = events.iter().map(|r| live.history_entry(r)).collect();
    Json(json!({ "size": live.size(), "events": entries, "next": next })).into_response()
}

async fn verify(State(state): State<AppState>) -> Response {
    let report = verify_now(&state).await;
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
