//! The HTML pages: dashboard, plan, action, challenge log, history, verification and
//! the inspection report, with the forms that record changes.
//!
//! Reads come from `Live` (durable events only); every change goes through the
//! writer and the page answers after it is durable, by redirecting to the page that
//! shows it (post/redirect/get), or by showing the form again with an error summary.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use projections::commands::{check_id, require_text, Planned};
use projections::events::*;
use projections::query::TimeQuery;
use projections::views::{
    self, challenge_log, plan_view, ChallengeFilter, ChallengeView, PlanView,
};
use projections::world::ChallengeStatus;
use projections::{Rag, Rejection, World};
use serde::Deserialize;

use super::accounts::Role;
use super::html::{self, csrf, error_summary, or_none, page, respond, summary_row, tag, text_tag};
use super::state::WriteError;
use super::{AppState, Caller, Need, Routes};
use crate::dates::{parse_date, parse_moment, today};

pub(super) fn register(routes: Routes) -> Routes {
    routes
        .add(Method::GET, "/static/style.css", Need::Public, || async {
            html::stylesheet()
        })
        .add(Method::GET, "/login", Need::Public, login_form)
        .add(Method::POST, "/login", Need::Public, login)
        .add(Method::POST, "/logout", Need::Read, logout)
        .add(Method::GET, "/", Need::Read, dashboard)
        .add(Method::GET, "/plans/{id}", Need::Read, plan_page)
        .add(Method::GET, "/plans/{id}/csv", Need::Read, plan_csv)
        .add(Method::GET, "/plans/{id}/report", Need::Audit, report_page)
        .add(
            Method::GET,
            "/plans/{id}/actions/{ref}",
            Need::Read,
            action_page,
        )
        .add(
            Method::POST,
            "/plans/{id}/actions/{ref}/status",
            Need::Manage,
            post_status,
        )
        .add(
            Method::POST,
            "/plans/{id}/actions/{ref}/progress",
            Need::Progress,
            post_progress,
        )
        .add(
            Method::POST,
            "/plans/{id}/actions/{ref}/carry-over",
            Need::Manage,
            post_carry_over,
        )
        .add(Method::GET, "/challenges", Need::Read, challenges_page)
        .add(Method::GET, "/challenges/csv", Need::Read, challenges_csv)
        .add(Method::POST, "/challenges", Need::Chair, post_raise)
        .add(Method::GET, "/challenges/{id}", Need::Read, challenge_page)
        .add(
            Method::POST,
            "/challenges/{id}/respond",
            Need::Respond,
            post_respond,
        )
        .add(
            Method::POST,
            "/challenges/{id}/escalate",
            Need::Chair,
            post_escalate,
        )
        .add(
            Method::POST,
            "/challenges/{id}/close",
            Need::Chair,
            post_close,
        )
        .add(Method::GET, "/history", Need::Audit, history_page)
        .add(Method::GET, "/verify", Need::Audit, verify_page)
        .add(Method::POST, "/verify", Need::Audit, run_verify)
        .add(Method::POST, "/checkpoint", Need::Manage, sign_checkpoint)
        .add(
            Method::POST,
            "/checkpoint/cosign",
            Need::Chair,
            cosign_checkpoint,
        )
        .add(Method::GET, "/export", Need::Audit, export_bundle)
        .add(Method::GET, "/evidence/{hash}", Need::Read, evidence)
}

type Params = Query<HashMap<String, String>>;

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Ids in a path are checked before anything else looks at them.
fn valid_id(what: &str, id: &str) -> bool {
    check_id(what, id).is_ok()
}

fn bad_request(detail: &str) -> Response {
    html::error_page(StatusCode::BAD_REQUEST, "There is a problem", detail)
}

// ---------------------------------------------------------------- sign in / out

async fn login_form(State(state): State<AppState>, Query(params): Params) -> Response {
    let next = safe_next(param(&params, "next"));
    respond(StatusCode::OK, login_markup(&state, &next, &[], ""))
}

fn login_markup(_state: &AppState, next: &str, errors: &[String], name: &str) -> Markup {
    let anonymous = Caller {
        principal: None,
        csrf: String::new(),
    };
    page(
        "Sign in",
        &anonymous,
        html! {
            (error_summary(errors))
            h1 class="heading-l" { "Sign in" }
            form method="post" action="/login" novalidate {
                input type="hidden" name="next" value=(next);
                div class="form-group" {
                    label for="username" { "User name" }
                    input type="text" id="username" name="username" value=(name) autocomplete="username" spellcheck="false";
                }
                div class="form-group" {
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password";
                }
                button class="button" type="submit" { "Sign in" }
            }
        },
    )
}

/// Only a local path may follow sign-in (no `//host` or `https:` redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let name = form.username.trim().to_owned();
    let next = safe_next(Some(&form.next));
    if let Some(wait) = state.sessions.locked(&name) {
        let minutes = wait.as_secs() / 60 + 1;
        return respond(
            StatusCode::TOO_MANY_REQUESTS,
            login_markup(
                &state,
                &next,
                &[format!(
                    "Too many failed sign-ins for this user. Try again in {minutes} minutes."
                )],
                &name,
            ),
        );
    }
    let accounts = state.accounts();
    let password = form.password;
    let checked = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || accounts.check_password(&name, &password))
            .await
            .ok()
            .flatten()
    };
    let Some(principal) = checked else {
        state.sessions.failed(&name);
        return respond(
            StatusCode::UNAUTHORIZED,
            login_markup(
                &state,
                &next,
                &["The user name or password is not right.".to_owned()],
                &name,
            ),
        );
    };
    state.sessions.succeeded(&name);
    let old = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| super::session::cookie(c, super::session::COOKIE));
    let _ = caller;
    let Ok(id) = state.sessions.create(principal, old) else {
        return html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The service could not start a session. Try again.",
        );
    };
    let cookie = format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        super::session::COOKIE,
        super::session::IDLE.as_secs(),
        if state.secure { "; Secure" } else { "" }
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(id) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| super::session::cookie(c, super::session::COOKIE))
    {
        state.sessions.remove(id);
    }
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        super::session::COOKIE
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

// ---------------------------------------------------------------- dashboard

async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let today = today();
    let (plans, challenges, size) = {
        let live = state.shared.read();
        let world = live.world.world();
        let plans: Vec<PlanView> = world.plans.values().map(|p| plan_view(p, today)).collect();
        let filter = ChallengeFilter {
            open_only: false,
            agency: caller.partner_agency().map(str::to_owned),
        };
        (plans, challenge_log(world, &filter, today), live.size())
    };
    let (checkpoint, stopped) = {
        let live = state.shared.read();
        (live.checkpoint, live.stopped)
    };
    let verified = state
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let open = challenges
        .iter()
        .filter(|c| c.status != ChallengeStatus::Closed)
        .count();
    let overdue = challenges.iter().filter(|c| c.overdue).count();
    let manage = Need::Manage.allows(caller.role());
    let body = html! {
        (done_notice(&params))
        @if stopped {
            (error_summary(&["The ledger stopped taking changes after a storage failure, to keep what it holds whole. Pages still show everything recorded; an administrator must restart the service (its log says what failed).".to_owned()]))
        }
        h1 class="heading-l" { "Dashboard" }
        div class="cards" {
            @for plan in &plans {
                div class="card" {
                    h2 class="heading-m" { a href={ "/plans/" (plan.plan.id) } { (plan.plan.title) } }
                    p class="secondary" { (plan.plan.id) @if let Some(p) = &plan.plan.period { " · " (p) } }
                    ul class="counts" aria-label="Actions by status" {
                        @for rag in Rag::ALL {
                            @let n = plan.counts.get(rag.as_str()).copied().unwrap_or(0);
                            @if n > 0 { li { (tag(rag)) " " (n) } }
                        }
                    }
                    p { (plan.actions.iter().filter(|a| a.overdue).count()) " overdue actions" }
                }
            }
            @if plans.is_empty() { p { "No plans yet." } }
        }
        h2 class="heading-m" { "Challenge log" }
        p {
            a href="/challenges?open=1" { (open) " open challenges" } ", "
            a href="/challenges?overdue=1" { (overdue) " overdue" }
            @if let Some(a) = caller.partner_agency() { " (addressed to " (a) ")" }
        }
        @if Need::Audit.allows(caller.role()) {
            h2 class="heading-m" { "Ledger" }
            dl class="summary" {
                (summary_row("Events", html! { (size) }))
                (summary_row("Last signed checkpoint", match checkpoint {
                    Some((n, sigs)) => html! { "tree size " (n) ", " (sigs) " signature(s)" },
                    None => html! { "none yet" },
                }))
                (summary_row("Verification", match &verified {
                    Some((at, report)) if report.ok => html! { (text_tag("ok", "Verified")) " " (report.size) " events at " (at) },
                    Some((at, report)) => html! { (text_tag("bad", "Failed")) " at " (at) ": " (report.problem.clone().unwrap_or_default()) },
                    None => html! { "not run since the service started — " a href="/verify" { "verify now" } },
                }))
            }
        }
        @if manage {
            h2 class="heading-m" { "Import a plan" }
            p { a class="button" href="/import" { "Import a plan" } " from Word, Excel, OpenDocument or CSV: you see what would be recorded first." }
        }
    };
    respond(StatusCode::OK, page("Dashboard", &caller, body))
}

/// The confirmation after a change: fixed messages only, never text from the URL.
fn done_notice(params: &HashMap<String, String>) -> Markup {
    let message = match param(params, "done") {
        Some("status") => "The status change is recorded.",
        Some("progress") => "The progress note is recorded.",
        Some("carried") => "The action is carried over.",
        Some("raised") => "The challenge is raised.",
        Some("responded") => "The response is recorded.",
        Some("escalated") => "The escalation is recorded.",
        Some("closed") => "The challenge is closed.",
        Some("imported") => "The plan is imported.",
        Some("checkpoint") => "A new checkpoint is signed.",
        Some("verified") => "Verification has run.",
        Some("cosigned") => "Your co-signature is added to the checkpoint.",
        _ => return html! {},
    };
    let event = param(params, "event").and_then(|e| e.parse::<u64>().ok());
    html! {
        div class="notice" role="status" {
            p { (message) @if let Some(seq) = event { " Ledger event " (seq) "." } }
        }
    }
}

fn too_large_upload() -> Response {
    html::error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The upload could not be read",
        "The file is larger than the 25 MiB limit, or the upload was cut short. Attach a smaller file and try again.",
    )
}

pub(super) fn redirect_done(path: &str, done: &str, event: Option<u64>) -> Response {
    let event = event.map(|e| format!("&event={e}")).unwrap_or_default();
    Redirect::to(&format!("{path}?done={done}{event}")).into_response()
}

pub(super) fn write_error_page(e: &WriteError) -> Response {
    match e {
        WriteError::Rejected(why) => html::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This change was not recorded",
            why,
        ),
        WriteError::Storage(_) | WriteError::Stopped => html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "This change was not recorded",
            &e.to_string(),
        ),
    }
}

// ---------------------------------------------------------------- plan

/// The time query of a page: `as_of` (a date) and `known_at` (a moment).
fn time_query(params: &HashMap<String, String>) -> Result<TimeQuery, String> {
    let as_of = param(params, "as_of")
        .map(|d| parse_date("as it stood on", d).map_err(|e| e.to_string()))
        .transpose()?;
    let known_at = param(params, "known_at")
        .map(|t| {
            // A browser's datetime-local control sends minutes without seconds.
            let full = if t.len() == 16 {
                format!("{t}:00")
            } else {
                t.to_owned()
            };
            parse_moment("as recorded at", &full).map_err(|e| e.to_string())
        })
        .transpose()?;
    Ok(TimeQuery { as_of, known_at })
}

/// The world the inspection report shows: the plan and the challenge log, now or
/// replayed for a time query.
fn report_world(state: &AppState, id: &str, query: TimeQuery) -> Option<World> {
    let live = state.shared.read();
    if query == TimeQuery::default() {
        let world = live.world.world();
        let mut one = World::default();
        one.plans.insert(id.to_owned(), world.plan(id)?.clone());
        one.challenges = world.challenges.clone();
        return Some(one);
    }
    let mut events = live.group_events(&subject::plan(id));
    let groups: Vec<String> = live
        .world
        .world()
        .challenges
        .keys()
        .map(|c| subject::challenge(c))
        .collect();
    for group in groups {
        events.extend(live.group_events(&group));
    }
    drop(live);
    let world = World::replay(
        events
            .iter()
            .map(|r| &**r)
            .filter(|r| query.admits(&r.stamp)),
    )
    .0;
    world.plan(id)?;
    Some(world)
}

/// Plan views for a time query, each kept with how many of the plan's events it
/// has seen; it is used again only while no event appended since could change it.
#[derive(Debug, Default)]
pub struct ViewCache {
    entries: HashMap<ViewKey, (usize, Arc<PlanView>)>,
}

type ViewKey = (String, Option<i32>, Option<i64>, i32);

/// Most views kept.
const VIEW_CACHE_MAX: usize = 512;

/// The plan view a plan page or CSV shows: for "now", computed under the read lock;
/// for a time query, a replay of the plan's events outside it (or a cached view that
/// no later event could change).
pub(super) fn plan_view_at(state: &AppState, id: &str, query: TimeQuery) -> Option<Arc<PlanView>> {
    let day = query.as_of.unwrap_or_else(today);
    let group = subject::plan(id);
    let live = state.shared.read();
    if query == TimeQuery::default() {
        return live
            .world
            .world()
            .plan(id)
            .map(|p| Arc::new(plan_view(p, day)));
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
        let unchanged = slots
            .get(seen..)
            .is_some_and(|new| new.iter().all(|s| !s.admitted(&query)));
        if unchanged {
            return Some(view);
        }
    }
    let seen = slots.len();
    drop(live);
    let world = state
        .shared
        .snapshots
        .world_at(&state.shared.live, &group, &query);
    let view = Arc::new(plan_view(world.plan(id)?, day));
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
    Some(view)
}

/// The plan a page or download asks for, at the time its query names.
/// A past date may replay thousands of events: that runs on the blocking pool, so
/// the async workers go on answering pages for "now" meanwhile.
async fn requested_plan_view(
    state: &AppState,
    id: &str,
    params: &HashMap<String, String>,
) -> Result<(TimeQuery, Arc<PlanView>), Box<Response>> {
    if !valid_id("plan id", id) {
        return Err(Box::new(html::not_found()));
    }
    let query = time_query(params).map_err(|e| Box::new(bad_request(&e)))?;
    let view = if query == TimeQuery::default() {
        plan_view_at(state, id, query)
    } else {
        let (state, id) = (state.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || plan_view_at(&state, &id, query))
            .await
            .ok()
            .flatten()
    };
    let view = view.ok_or_else(|| Box::new(html::not_found()))?;
    Ok((query, view))
}

fn filtered_actions<'a>(
    view: &'a PlanView,
    params: &HashMap<String, String>,
) -> Vec<&'a views::ActionView> {
    let lead = param(params, "lead").map(str::to_lowercase);
    let status = param(params, "status").and_then(Rag::parse);
    view.actions
        .iter()
        .filter(|a| {
            lead.as_ref()
                .is_none_or(|l| a.leads.iter().any(|x| x.to_lowercase().contains(l)))
        })
        .filter(|a| status.is_none_or(|s| a.status == s))
        .collect()
}

async fn plan_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    let (query, view) = match requested_plan_view(&state, &id, &params).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let actions = filtered_actions(&view, &params);
    let mut leads: Vec<&String> = view.actions.iter().flat_map(|a| a.leads.iter()).collect();
    leads.sort();
    leads.dedup();
    let value = |name: &str| param(&params, name).unwrap_or("").to_owned();
    let query_string = ["as_of", "known_at", "lead", "status"]
        .iter()
        .filter_map(|k| param(&params, k).map(|v| format!("{k}={}", html::url_encode(v))))
        .collect::<Vec<_>>()
        .join("&");
    let body = html! {
        (done_notice(&params))
        span class="caption" { "Plan " (view.plan.id) @if let Some(p) = &view.plan.period { " · " (p) } }
        h1 class="heading-l" { (view.plan.title) }
        @if query != TimeQuery::default() {
            div class="notice" role="status" { p {
                "Showing the plan "
                @if let Some(d) = query.as_of { "as it stood on " (views::date(d)) " " }
                @if let Some(t) = query.known_at { "as recorded at " (views::timestamp(t)) }
                ". " a href={ "/plans/" (id) } { "Show it as it stands now" }
            } }
        }
        form method="get" action={ "/plans/" (id) } class="filters" {
            div class="form-group" {
                label for="as_of" { "As it stood on" }
                input type="date" id="as_of" name="as_of" value=(value("as_of"));
            }
            div class="form-group" {
                label for="known_at" { "As recorded at" }
                input type="datetime-local" id="known_at" name="known_at" value=(value("known_at"));
            }
            div class="form-group" {
                label for="lead" { "Lead" }
                select id="lead" name="lead" {
                    option value="" { "Any lead" }
                    @for l in &leads { option value=(l) selected[value("lead") == **l] { (l) } }
                }
            }
            div class="form-group" {
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "Any status" }
                    @for r in Rag::ALL { option value=(r.as_str()) selected[value("status") == r.as_str()] { (r.label()) } }
                }
            }
            button class="button button-secondary" type="submit" { "Show" }
        }
        p class="no-print" {
            a href={ "/plans/" (id) "/csv" @if !query_string.is_empty() { "?" (query_string) } } download { "Download as CSV" }
            @if Need::Audit.allows(caller.role()) {
                " · " a href={ "/plans/" (id) "/report" @if let Some(d) = query.as_of { "?as_of=" (views::date(d)) } } { "Inspection report" }
            }
        }
        ul class="counts" aria-label="Actions by status" {
            @for rag in Rag::ALL {
                @let n = view.counts.get(rag.as_str()).copied().unwrap_or(0);
                @if n > 0 { li { (tag(rag)) " " (n) } }
            }
        }
        @for priority in &view.priorities {
            @let in_priority: Vec<_> = actions.iter().filter(|a| a.priority == priority.key).collect();
            @if !in_priority.is_empty() {
                h2 class="heading-m" { "Priority " (priority.key) ": " (priority.title) }
                @if !priority.description.is_empty() { p class="hint" { (html::multiline(&priority.description)) } }
                table {
                    thead { tr { th scope="col" { "Ref" } th scope="col" { "Action" } th scope="col" { "Leads" } th scope="col" { "Timescale" } th scope="col" { "Status" } th scope="col" { "Last update" } } }
                    tbody {
                        @for a in in_priority {
                            tr {
                                td { a href={ "/plans/" (id) "/actions/" (a.reference) } { (a.reference) } }
                                td { (a.title) }
                                td { (or_none(&a.leads.join("; "))) }
                                td { (or_none(&a.due)) @if a.overdue { " " (text_tag("overdue", "Overdue")) } }
                                td { (tag(a.status)) }
                                td { (a.last_update.effective) " by " (a.last_update.actor) }
                            }
                        }
                    }
                }
            }
        }
        @if actions.is_empty() { p { "No actions match." } }
    };
    respond(StatusCode::OK, page(&view.plan.title, &caller, body))
}

/// Neutralises a CSV cell that a spreadsheet would run as a formula.
pub fn csv_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub fn csv_response(file_name: &str, rows: Vec<Vec<String>>) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        if writer.write_record(&cells).is_err() {
            return html::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Download failed",
                "The CSV could not be written.",
            );
        }
    }
    let bytes = writer.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn plan_csv(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    let (_, view) = match requested_plan_view(&state, &id, &params).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let mut rows = vec![[
        "Ref",
        "Priority",
        "Action",
        "Leads",
        "Timescale",
        "Status",
        "Overdue",
        "Outcome",
        "Last update",
        "Updated by",
        "Other columns",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for a in filtered_actions(&view, &params) {
        rows.push(vec![
            a.reference.clone(),
            a.priority.clone(),
            a.title.clone(),
            a.leads.join("; "),
            a.due.clone(),
            a.status.label().to_owned(),
            if a.overdue { "yes" } else { "no" }.to_owned(),
            a.outcome.clone(),
            a.last_update.effective.clone(),
            a.last_update.actor.clone(),
            other_columns(a),
        ]);
    }
    csv_response(&format!("{id}.csv"), rows)
}

/// An action's extra fields (the plan's own columns) as one cell: "header: text".
fn other_columns(a: &views::ActionView) -> String {
    a.extras
        .iter()
        .map(|e| format!("{}: {}", e.header, e.text))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------- action

async fn action_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    if !valid_id("plan id", &id) || !valid_id("action ref", &reference) {
        return html::not_found();
    }
    render_action(
        &state,
        &caller,
        &id,
        &reference,
        &[],
        &params,
        StatusCode::OK,
    )
}

/// Whether a partner lead's agency leads this action.
fn agency_leads(world: &World, id: &str, reference: &str, agency: &str) -> bool {
    let agency = agency.to_lowercase();
    !agency.is_empty()
        && world
            .plan(id)
            .and_then(|p| p.action(reference))
            .is_some_and(|a| {
                a.details
                    .leads
                    .iter()
                    .any(|l| l.to_lowercase().contains(&agency))
            })
}

fn render_action(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reference: &str,
    errors: &[String],
    params: &HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let today = today();
    let (timeline, may_progress, plans) = {
        let live = state.shared.read();
        let world = live.world.world();
        let at = ActionRef {
            plan: id.to_owned(),
            reference: reference.to_owned(),
        };
        let Some(mut timeline) = views::action_timeline(world, &at, today) else {
            return html::not_found();
        };
        if let Some(agency) = caller.partner_agency() {
            timeline
                .challenges
                .retain(|c| c.to.eq_ignore_ascii_case(agency));
        }
        let may_progress = match caller.partner_agency() {
            Some(agency) => agency_leads(world, id, reference, agency),
            None => Need::Progress.allows(caller.role()),
        };
        let plans: Vec<String> = world
            .plans
            .keys()
            .filter(|p| p.as_str() != id)
            .cloned()
            .collect();
        (timeline, may_progress, plans)
    };
    let Some(step) = timeline.steps.iter().find(|s| s.plan == id) else {
        return html::not_found();
    };
    let a = &step.action;
    let manage = Need::Manage.allows(caller.role());
    let base = format!("/plans/{id}/actions/{reference}");
    let effective_field = |prefix: &str| {
        html! {
            div class="form-group" {
                label for={ (prefix) "-effective" } { "Date it took effect" }
                span class="hint" id={ (prefix) "-effective-hint" } { "Leave empty for today. It may be earlier, never later." }
                input type="date" id={ (prefix) "-effective" } name="effective" aria-describedby={ (prefix) "-effective-hint" };
            }
        }
    };
    let body = html! {
        (error_summary(errors))
        (done_notice(params))
        span class="caption" { a href={ "/plans/" (id) } { "Plan " (id) } " · Priority " (a.priority) }
        h1 class="heading-l" { (a.reference) " " (a.title) }
        dl class="summary" {
            (summary_row("Status", html! { (tag(a.status)) @if a.overdue { " " (text_tag("overdue", "Overdue")) } }))
            (summary_row("Leads", or_none(&a.leads.join("; "))))
            (summary_row("Timescale", or_none(&a.due)))
            (summary_row("Outcome measure", or_none(&a.outcome)))
            (summary_row("Impact", or_none(&a.impact)))
            @if !a.cross_refs.is_empty() { (summary_row("See also", html! { (a.cross_refs.join(", ")) })) }
            @for extra in &a.extras { (summary_row(&extra.header, html::multiline(&extra.text))) }
            (summary_row("Last update", html! { (a.last_update.effective) " by " (a.last_update.actor) " (event " (a.last_update.seq) ")" }))
            @if let Some(from) = &a.carried_from { (summary_row("Carried in from", html! { (from) })) }
            @if let Some(to) = &a.carried_to { (summary_row("Carried over to", html! { (to) })) }
        }
        h2 class="heading-m" { "Timeline" }
        @for s in &timeline.steps {
            h3 class="heading-s" { "In plan " a href={ "/plans/" (s.plan) "/actions/" (s.action.reference) } { (s.plan) " / " (s.action.reference) } }
            @if !s.imported_progress.is_empty() { p { "Progress at import: " (html::multiline(&s.imported_progress)) } }
            @if s.entries.is_empty() { p { "Nothing recorded yet." } } @else { table {
                thead { tr { th scope="col" { "Effective" } th scope="col" { "What" } th scope="col" { "By" } th scope="col" { "Event" } } }
                tbody {
                    @for e in &s.entries {
                        tr {
                            td { (e.effective) }
                            td { strong { (e.kind) } ": " (html::multiline(&e.text))
                                @for ev in &e.evidence { br; "Evidence: " a href={ "/evidence/" (ev.blake3) } { (ev.name) } " (" (ev.bytes) " bytes)" } }
                            td { (e.actor) }
                            td { (e.seq) }
                        }
                    }
                }
            } }
        }
        @if !timeline.challenges.is_empty() {
            h2 class="heading-m" { "Challenges about this action" }
            ul { @for c in &timeline.challenges { li { a href={ "/challenges/" (c.id) } { (c.id) } " to " (c.to) ": " (c.text) } } }
        }
        @if a.carried_to.is_none() {
            @if manage {
                h2 class="heading-m" { "Change the status" }
                form method="post" action={ (base) "/status" } {
                    (csrf(caller))
                    div class="form-group" {
                        label for="status" { "New status" }
                        select id="status" name="status" {
                            @for r in [Rag::Green, Rag::Amber, Rag::Red, Rag::Complete, Rag::NotStarted] {
                                option value=(r.as_str()) selected[r == a.status] { (r.label()) }
                            }
                        }
                    }
                    div class="form-group" {
                        label for="rationale" { "Why (the rationale inspectors will read)" }
                        textarea id="rationale" name="rationale" rows="3" {}
                    }
                    (effective_field("status"))
                    button class="button" type="submit" { "Record the status" }
                }
            }
            @if may_progress {
                h2 class="heading-m" { "Add a progress note" }
                form method="post" action={ (base) "/progress?csrf=" (html::url_encode(&caller.csrf)) } enctype="multipart/form-data" {
                    div class="form-group" {
                        label for="note" { "Progress" }
                        textarea id="note" name="note" rows="4" {}
                    }
                    div class="form-group" {
                        label for="evidence" { "Evidence files (optional)" }
                        span class="hint" id="evidence-hint" { "Up to 25 MiB in all. Files are kept by their BLAKE3 hash." }
                        input type="file" id="evidence" name="evidence" multiple aria-describedby="evidence-hint";
                    }
                    (effective_field("progress"))
                    button class="button" type="submit" { "Record the progress" }
                }
            }
            @if manage && a.status != Rag::Complete {
                h2 class="heading-m" { "Carry over into another plan" }
                @if plans.is_empty() { p { "There is no other plan to carry it into. Import or create next year's plan first." } }
                @else {
                    form method="post" action={ (base) "/carry-over" } {
                        (csrf(caller))
                        div class="form-group" {
                            label for="to_plan" { "Into plan" }
                            select id="to_plan" name="to_plan" { @for p in &plans { option value=(p) { (p) } } }
                        }
                        div class="form-group" {
                            label for="to_ref" { "As action (ref)" }
                            span class="hint" id="to_ref-hint" { "Leave empty to keep " (a.reference) }
                            input type="text" id="to_ref" name="to_ref" aria-describedby="to_ref-hint";
                        }
                        div class="form-group" {
                            label for="reason" { "Why it is carried over" }
                            textarea id="reason" name="reason" rows="3" {}
                        }
                        div class="form-group" {
                            label for="forum" { "Agreed at (optional)" }
                            input type="text" id="forum" name="forum";
                        }
                        (effective_field("carry"))
                        button class="button button-secondary" type="submit" { "Carry it over" }
                    }
                }
            }
        }
    };
    respond(
        status,
        page(&format!("{} {}", a.reference, a.title), caller, body),
    )
}

fn effective_of(text: &str) -> Result<i32, String> {
    if text.trim().is_empty() {
        Ok(today())
    } else {
        parse_date("the date it took effect", text).map_err(|e| e.to_string())
    }
}

/// Sends a change to the writer; on refusal shows the action page again with why.
#[allow(clippy::too_many_arguments)]
async fn write_action(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reference: &str,
    effective: &str,
    evidence: Vec<Vec<u8>>,
    build: super::state::Build,
    done: &str,
) -> Response {
    if !valid_id("plan id", id) || !valid_id("action ref", reference) {
        return html::not_found();
    }
    let effective = match effective_of(effective) {
        Ok(d) => d,
        Err(e) => {
            return render_action(
                state,
                caller,
                id,
                reference,
                &[e],
                &HashMap::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    match state
        .shared
        .write(caller.name(), effective, evidence, build)
        .await
    {
        Ok(headers) => redirect_done(
            &format!("/plans/{id}/actions/{reference}"),
            done,
            headers.first().map(|h| h.seq),
        ),
        Err(e) => {
            let code = match e {
                WriteError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
                WriteError::Storage(_) | WriteError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            };
            render_action(
                state,
                caller,
                id,
                reference,
                &[e.to_string()],
                &HashMap::new(),
                code,
            )
        }
    }
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    rationale: String,
    #[serde(default)]
    effective: String,
}

/// The events of a status change (shared with the API).
pub fn status_build(
    id: &str,
    reference: &str,
    status: &str,
    rationale: &str,
) -> super::state::Build {
    let (id, reference, status, rationale) = (
        id.to_owned(),
        reference.to_owned(),
        status.to_owned(),
        rationale.to_owned(),
    );
    Box::new(move |_world: &World| {
        let status = Rag::parse(&status)
            .filter(|r| *r != Rag::CarriedOver)
            .ok_or_else(|| {
                Rejection(format!(
                    "{status:?} is not a status: choose green, amber, red, complete or not-started"
                ))
            })?;
        let rationale = require_text("the rationale", &rationale)?;
        Ok(vec![Planned::new(
            subject::action(&id, &reference),
            DomainEvent::StatusChanged(StatusChanged { status, rationale }),
        )])
    })
}

async fn post_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    Form(form): Form<StatusForm>,
) -> Response {
    let build = status_build(&id, &reference, &form.status, &form.rationale);
    write_action(
        &state,
        &caller,
        &id,
        &reference,
        &form.effective,
        Vec::new(),
        build,
        "status",
    )
    .await
}

/// The events of a progress note; a partner lead only on actions its agency leads.
pub fn progress_build(
    caller: &Caller,
    id: &str,
    reference: &str,
    note: &str,
    evidence: Vec<Evidence>,
) -> super::state::Build {
    let (id, reference, note) = (id.to_owned(), reference.to_owned(), note.to_owned());
    let agency = caller.partner_agency().map(str::to_owned);
    Box::new(move |world: &World| {
        if let Some(agency) = &agency {
            if !agency_leads(world, &id, &reference, agency) {
                return Err(Rejection(format!("{agency} does not lead action {id}/{reference}; ask the business manager to record this")));
            }
        }
        let note = require_text("the progress note", &note)?;
        Ok(vec![Planned::new(
            subject::action(&id, &reference),
            DomainEvent::ProgressNoted(ProgressNoted { note, evidence }),
        )])
    })
}

async fn post_progress(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    mut multipart: Multipart,
) -> Response {
    let mut note = String::new();
    let mut effective = String::new();
    let mut blobs = Vec::new();
    let mut records = Vec::new();
    let mut total = 0u64;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    return too_large_upload();
                };
                match name.as_str() {
                    "note" => note = String::from_utf8_lossy(&bytes).into_owned(),
                    "effective" => effective = String::from_utf8_lossy(&bytes).into_owned(),
                    "evidence" if !bytes.is_empty() => {
                        total += bytes.len() as u64;
                        if total > ledger::blobs::MAX_BLOB_BYTES {
                            return too_large_upload();
                        }
                        records.push(Evidence {
                            name: display_name(file_name.as_deref().unwrap_or("evidence")),
                            blake3: ledger::blobs::blake3_of(&bytes),
                            bytes: bytes.len() as u64,
                        });
                        blobs.push(bytes.to_vec());
                    }
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return too_large_upload(),
        }
    }
    let build = progress_build(&caller, &id, &reference, &note, records);
    write_action(
        &state, &caller, &id, &reference, &effective, blobs, build, "progress",
    )
    .await
}

/// A file name for display only: the last path part, no control characters.
pub fn display_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = projections::commands::clean_text(last)
        .chars()
        .take(200)
        .collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        "evidence".to_owned()
    } else {
        clean
    }
}

#[derive(Deserialize)]
struct CarryForm {
    #[serde(default)]
    to_plan: String,
    #[serde(default)]
    to_ref: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    forum: String,
    #[serde(default)]
    effective: String,
}

pub fn carry_build(
    id: &str,
    reference: &str,
    to_plan: &str,
    to_ref: &str,
    reason: &str,
    forum: &str,
) -> super::state::Build {
    let from = ActionRef {
        plan: id.to_owned(),
        reference: reference.to_owned(),
    };
    let to_ref = if to_ref.trim().is_empty() {
        reference.to_owned()
    } else {
        to_ref.trim().to_owned()
    };
    let to = ActionRef {
        plan: to_plan.trim().to_owned(),
        reference: to_ref,
    };
    let reason = reason.to_owned();
    let forum = Some(forum.trim().to_owned()).filter(|f| !f.is_empty());
    Box::new(move |world: &World| {
        check_id("plan id", &to.plan)?;
        check_id("action ref", &to.reference)?;
        projections::commands::carry_over(world, &from, &to, &reason, forum)
    })
}

async fn post_carry_over(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    Form(form): Form<CarryForm>,
) -> Response {
    let build = carry_build(
        &id,
        &reference,
        &form.to_plan,
        &form.to_ref,
        &form.reason,
        &form.forum,
    );
    write_action(
        &state,
        &caller,
        &id,
        &reference,
        &form.effective,
        Vec::new(),
        build,
        "carried",
    )
    .await
}

// ---------------------------------------------------------------- challenges

/// The challenge log a caller may read: a partner lead sees its own agency's only.
pub fn visible_challenges(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
) -> Vec<ChallengeView> {
    let today = today();
    let agency = match caller.partner_agency() {
        Some(a) => Some(a.to_owned()),
        None => param(params, "agency").map(str::to_owned),
    };
    let filter = ChallengeFilter {
        open_only: param(params, "open").is_some(),
        agency,
    };
    let live = state.shared.read();
    let mut log = challenge_log(live.world.world(), &filter, today);
    if param(params, "overdue").is_some() {
        log.retain(|c| c.overdue);
    }
    log
}

fn challenge_status_tag(c: &ChallengeView) -> Markup {
    let (class, label) = match c.status {
        ChallengeStatus::Open => ("open", "Open"),
        ChallengeStatus::Responded => ("responded", "Responded"),
        ChallengeStatus::Escalated => ("escalated", "Escalated"),
        ChallengeStatus::Closed => ("closed", "Closed"),
    };
    html! { (text_tag(class, label)) @if c.overdue { " " (text_tag("overdue", "Overdue")) } }
}

async fn challenges_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    render_challenges(&state, &caller, &params, &[], StatusCode::OK)
}

fn render_challenges(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
    errors: &[String],
    status: StatusCode,
) -> Response {
    let log = visible_challenges(state, caller, params);
    let agencies: Vec<String> = {
        let live = state.shared.read();
        let mut a: Vec<String> = live
            .world
            .world()
            .challenges
            .values()
            .map(|c| c.to_agency.clone())
            .collect();
        a.sort();
        a.dedup();
        a
    };
    let query_string = ["open", "overdue", "agency"]
        .iter()
        .filter_map(|k| param(params, k).map(|v| format!("{k}={}", html::url_encode(v))))
        .collect::<Vec<_>>()
        .join("&");
    let body = html! {
        (error_summary(errors))
        (done_notice(params))
        h1 class="heading-l" { "Challenge log" }
        form method="get" action="/challenges" class="filters" {
            div class="form-group" {
                input type="checkbox" id="open" name="open" value="1" checked[param(params, "open").is_some()];
                label for="open" class="inline" { " Open only" }
            }
            div class="form-group" {
                input type="checkbox" id="overdue" name="overdue" value="1" checked[param(params, "overdue").is_some()];
                label for="overdue" class="inline" { " Overdue only" }
            }
            @if caller.partner_agency().is_none() {
                div class="form-group" {
                    label for="agency" { "Agency" }
                    select id="agency" name="agency" {
                        option value="" { "Any agency" }
                        @for a in &agencies { option value=(a) selected[param(params, "agency") == Some(a.as_str())] { (a) } }
                    }
                }
            }
            button class="button button-secondary" type="submit" { "Show" }
        }
        p class="no-print" { a href={ "/challenges/csv" @if !query_string.is_empty() { "?" (query_string) } } download { "Download as CSV" } }
        table {
            thead { tr { th scope="col" { "Id" } th scope="col" { "To" } th scope="col" { "Challenge" } th scope="col" { "Raised" } th scope="col" { "Response due" } th scope="col" { "Status" } } }
            tbody {
                @for c in &log {
                    tr {
                        td { a href={ "/challenges/" (c.id) } { (c.id) } }
                        td { (c.to) }
                        td { (c.text) }
                        td { (c.raised_on) " by " (c.raised_by) }
                        td { (c.due.clone().unwrap_or_default()) }
                        td { (challenge_status_tag(c)) }
                    }
                }
            }
        }
        @if log.is_empty() { p { "No challenges match." } }
        @if Need::Chair.allows(caller.role()) {
            h2 class="heading-m" { "Raise a challenge" }
            form method="post" action="/challenges" {
                (csrf(caller))
                div class="form-group" {
                    label for="to" { "To agency" }
                    input type="text" id="to" name="to";
                }
                div class="form-group" {
                    label for="text" { "Challenge" }
                    textarea id="text" name="text" rows="4" {}
                }
                div class="form-group" {
                    label for="about" { "About actions (optional)" }
                    span class="hint" id="about-hint" { "PLAN/REF, separated by spaces, for example mcr-jtai-2023/1.2" }
                    input type="text" id="about" name="about" aria-describedby="about-hint";
                }
                div class="form-group" {
                    label for="due" { "Response due (optional)" }
                    input type="date" id="due" name="due";
                }
                button class="button" type="submit" { "Raise the challenge" }
            }
        }
    };
    respond(status, page("Challenge log", caller, body))
}

async fn challenges_csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let log = visible_challenges(&state, &caller, &params);
    let mut rows = vec![[
        "Id",
        "To",
        "About",
        "Challenge",
        "Raised on",
        "Raised by",
        "Response due",
        "Status",
        "Overdue",
        "Responses",
        "Escalations",
        "Outcome",
        "Impact",
        "Closed on",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    let joined = |entries: &[views::EntryView]| {
        entries
            .iter()
            .map(|e| format!("{} ({}): {}", e.effective, e.actor, e.text))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for c in log {
        rows.push(vec![
            c.id.clone(),
            c.to.clone(),
            c.about.join(" "),
            c.text.clone(),
            c.raised_on.clone(),
            c.raised_by.clone(),
            c.due.clone().unwrap_or_default(),
            format!("{:?}", c.status),
            if c.overdue { "yes" } else { "no" }.to_owned(),
            joined(&c.responses),
            joined(&c.escalations),
            c.outcome.clone().unwrap_or_default(),
            c.impact.clone().unwrap_or_default(),
            c.closed_on.clone().unwrap_or_default(),
        ]);
    }
    csv_response("challenge-log.csv", rows)
}

#[derive(Deserialize)]
struct RaiseForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    about: String,
    #[serde(default)]
    due: String,
}

pub fn raise_build(
    to: &str,
    text: &str,
    about: &[String],
    due: Option<i32>,
    effective: i32,
) -> Result<super::state::Build, String> {
    let mut refs = Vec::new();
    for item in about {
        let Some((plan, reference)) = item.split_once('/') else {
            return Err(format!(
                "{item:?} is not PLAN/REF, for example mcr-jtai-2023/1.2"
            ));
        };
        check_id("plan id", plan).map_err(|e| e.0)?;
        check_id("action ref", reference).map_err(|e| e.0)?;
        refs.push(ActionRef {
            plan: plan.to_owned(),
            reference: reference.to_owned(),
        });
    }
    if due.is_some_and(|d| d < effective) {
        return Err("the response is due before the challenge is raised".into());
    }
    let (to, text) = (to.to_owned(), text.to_owned());
    Ok(Box::new(move |world: &World| {
        let raised = ChallengeRaised {
            to_agency: require_text("the agency", &to)?,
            about: refs,
            text: require_text("the challenge", &text)?,
            response_due: due,
        };
        let subjects: Vec<String> = world
            .challenges
            .keys()
            .map(|k| subject::challenge(k))
            .collect();
        let id = projections::commands::next_challenge_id(subjects.iter().map(String::as_str));
        projections::commands::raise_challenge(world, &id, raised)
    }))
}

async fn post_raise(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<RaiseForm>,
) -> Response {
    let errors = |e: String| {
        render_challenges(
            &state,
            &caller,
            &HashMap::new(),
            &[e],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let due = match param_date(&form.due, "the response due date") {
        Ok(d) => d,
        Err(e) => return errors(e),
    };
    let about: Vec<String> = form.about.split_whitespace().map(str::to_owned).collect();
    let build = match raise_build(&form.to, &form.text, &about, due, today()) {
        Ok(b) => b,
        Err(e) => return errors(e),
    };
    match state
        .shared
        .write(caller.name(), today(), Vec::new(), build)
        .await
    {
        Ok(headers) => {
            let id = headers
                .first()
                .and_then(|h| h.subject.strip_prefix("challenge/").map(str::to_owned))
                .unwrap_or_default();
            redirect_done(
                &format!("/challenges/{id}"),
                "raised",
                headers.first().map(|h| h.seq),
            )
        }
        Err(e) => errors(e.to_string()),
    }
}

fn param_date(text: &str, what: &str) -> Result<Option<i32>, String> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_date(what, text).map(Some).map_err(|e| e.to_string())
    }
}

/// A challenge a caller may read: `None` (not found) for a partner lead of another agency.
fn readable_challenge(state: &AppState, caller: &Caller, id: &str) -> Option<ChallengeView> {
    let live = state.shared.read();
    let challenge = live.world.world().challenges.get(id)?;
    if let Some(agency) = caller.partner_agency() {
        if !challenge.to_agency.eq_ignore_ascii_case(agency) {
            return None;
        }
    }
    Some(views::challenge_view(challenge, today()))
}

async fn challenge_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    if !valid_id("challenge id", &id) {
        return html::not_found();
    }
    render_challenge(&state, &caller, &id, &[], &params, StatusCode::OK)
}

fn render_challenge(
    state: &AppState,
    caller: &Caller,
    id: &str,
    errors: &[String],
    params: &HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let Some(c) = readable_challenge(state, caller, id) else {
        return html::not_found();
    };
    let chair = caller.role() == Some(Role::Chair);
    let may_respond = Need::Respond.allows(caller.role());
    let entries = |title: &str, list: &[views::EntryView]| {
        html! {
            @if !list.is_empty() {
                h2 class="heading-m" { (title) }
                @for e in list {
                    div class="summary" {
                        p { strong { (e.effective) " · " (e.actor) } " (event " (e.seq) ")" }
                        p { (html::multiline(&e.text)) }
                        @for ev in &e.evidence { p { "Evidence: " a href={ "/evidence/" (ev.blake3) } { (ev.name) } } }
                    }
                }
            }
        }
    };
    let base = format!("/challenges/{id}");
    let body = html! {
        (error_summary(errors))
        (done_notice(params))
        span class="caption" { a href="/challenges" { "Challenge log" } }
        h1 class="heading-l" { "Challenge " (c.id) " to " (c.to) }
        dl class="summary" {
            (summary_row("Status", challenge_status_tag(&c)))
            (summary_row("Challenge", html::multiline(&c.text)))
            (summary_row("Raised", html! { (c.raised_on) " by " (c.raised_by) }))
            (summary_row("Response due", or_none(&c.due.clone().unwrap_or_default())))
            (summary_row("About", html! { @for a in &c.about { @if let Some((p, r)) = a.split_once('/') { a href={ "/plans/" (p) "/actions/" (r) } { (a) } " " } } }))
            @if let Some(o) = &c.outcome { (summary_row("Outcome", html::multiline(o))) }
            @if let Some(i) = &c.impact { (summary_row("Impact", html::multiline(i))) }
            @if let Some(d) = &c.closed_on { (summary_row("Closed on", html! { (d) })) }
        }
        (entries("Responses", &c.responses))
        (entries("Escalations", &c.escalations))
        @if c.status != ChallengeStatus::Closed {
            @if may_respond {
                h2 class="heading-m" { "Record the response" }
                form method="post" action={ (base) "/respond" } {
                    (csrf(caller))
                    div class="form-group" { label for="response" { "Response" } textarea id="response" name="text" rows="4" {} }
                    button class="button" type="submit" { "Record the response" }
                }
            }
            @if chair {
                h2 class="heading-m" { "Escalate" }
                form method="post" action={ (base) "/escalate" } {
                    (csrf(caller))
                    div class="form-group" { label for="esc-to" { "Escalate to" } input type="text" id="esc-to" name="to"; }
                    div class="form-group" { label for="esc-reason" { "Why" } textarea id="esc-reason" name="reason" rows="3" {} }
                    button class="button button-secondary" type="submit" { "Escalate" }
                }
                h2 class="heading-m" { "Close" }
                form method="post" action={ (base) "/close" } {
                    (csrf(caller))
                    div class="form-group" { label for="outcome" { "Outcome" } textarea id="outcome" name="outcome" rows="3" {} }
                    div class="form-group" { label for="impact" { "Impact" } textarea id="impact" name="impact" rows="3" {} }
                    button class="button button-secondary" type="submit" { "Close the challenge" }
                }
            }
        }
    };
    respond(status, page(&format!("Challenge {}", c.id), caller, body))
}

/// The fields of a challenge step (respond, escalate, close), from a page form or
/// an API body.
#[derive(Deserialize, Default)]
pub(super) struct StepFields {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub impact: String,
}

/// The event for one step of a challenge's life; a partner lead may only respond to
/// its own agency's challenges.
pub fn challenge_step_build(
    caller: &Caller,
    id: &str,
    step: &str,
    form: [&str; 2],
) -> super::state::Build {
    let (id, step) = (id.to_owned(), step.to_owned());
    let [a, b] = form.map(str::to_owned);
    let agency = caller.partner_agency().map(str::to_owned);
    Box::new(move |world: &World| {
        let Some(challenge) = world.challenges.get(&id) else {
            return Err(Rejection(format!("there is no challenge {id}")));
        };
        if let Some(agency) = &agency {
            if !challenge.to_agency.eq_ignore_ascii_case(agency) {
                return Err(Rejection(format!("there is no challenge {id}")));
            }
        }
        let event = match step.as_str() {
            "respond" => DomainEvent::ChallengeResponded(ChallengeResponded {
                text: require_text("the response", &a)?,
                evidence: Vec::new(),
            }),
            "escalate" => DomainEvent::ChallengeEscalated(ChallengeEscalated {
                to: require_text("escalate to", &a)?,
                reason: require_text("the reason", &b)?,
            }),
            _ => DomainEvent::ChallengeClosed(ChallengeClosed {
                outcome: require_text("the outcome", &a)?,
                impact: Some(b.trim().to_owned()).filter(|i| !i.is_empty()),
            }),
        };
        Ok(vec![Planned::new(subject::challenge(&id), event)])
    })
}

async fn challenge_step(
    state: AppState,
    caller: Caller,
    id: String,
    step: &str,
    fields: [&str; 2],
    done: &str,
) -> Response {
    if !valid_id("challenge id", &id) || readable_challenge(&state, &caller, &id).is_none() {
        return html::not_found();
    }
    let build = challenge_step_build(&caller, &id, step, fields);
    match state
        .shared
        .write(caller.name(), today(), Vec::new(), build)
        .await
    {
        Ok(headers) => redirect_done(
            &format!("/challenges/{id}"),
            done,
            headers.first().map(|h| h.seq),
        ),
        Err(e) => {
            let code = match e {
                WriteError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
                WriteError::Storage(_) | WriteError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            };
            render_challenge(
                &state,
                &caller,
                &id,
                &[e.to_string()],
                &HashMap::new(),
                code,
            )
        }
    }
}

async fn post_respond(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(state, caller, id, "respond", [&form.text, ""], "responded").await
}

async fn post_escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(
        state,
        caller,
        id,
        "escalate",
        [&form.to, &form.reason],
        "escalated",
    )
    .await
}

async fn post_close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(
        state,
        caller,
        id,
        "close",
        [&form.outcome, &form.impact],
        "closed",
    )
    .await
}

// ---------------------------------------------------------------- history

const PAGE: usize = 50;

async fn history_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let prefix = param(&params, "subject").unwrap_or("").to_owned();
    let page_number: usize = param(&params, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (entries, total) = {
        let live = state.shared.read();
        let world = live.world.world();
        let matching: Vec<usize> = live
            .world
            .events()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.subject.starts_with(&prefix))
            .map(|(i, _)| i)
            .collect();
        let total = matching.len();
        let entries: Vec<views::HistoryEntry> = matching
            .iter()
            .rev()
            .skip((page_number - 1) * PAGE)
            .take(PAGE)
            .filter_map(|&i| {
                let r = live.world.events().get(i)?;
                let hash = live
                    .hashes
                    .get(r.stamp.seq as usize)
                    .map(ledger::blobs::hex)
                    .unwrap_or_default();
                let kind = r.event.as_ref().map_or("redacted", |e| e.kind());
                Some(views::history_entry(r, hash, kind, &world.redactions))
            })
            .collect();
        (entries, total)
    };
    let pages = total.div_ceil(PAGE).max(1);
    let link = |n: usize| format!("/history?subject={}&page={n}", html::url_encode(&prefix));
    let body = html! {
        h1 class="heading-l" { "History" }
        p { "Every event in the ledger, newest first, with its sequence number and hash. " (total) " events match." }
        form method="get" action="/history" class="filters" {
            div class="form-group" {
                label for="subject" { "Subject starts with" }
                span class="hint" id="subject-hint" { "For example plan/mcr-jtai-2023 or challenge/C-0001" }
                input type="text" id="subject" name="subject" value=(prefix) aria-describedby="subject-hint" spellcheck="false";
            }
            button class="button button-secondary" type="submit" { "Filter" }
        }
        table {
            thead { tr { th scope="col" { "Seq" } th scope="col" { "Effective" } th scope="col" { "Recorded" } th scope="col" { "Actor" } th scope="col" { "Subject" } th scope="col" { "What" } th scope="col" { "Hash" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td { (e.seq) }
                        td { (e.effective) }
                        td { (e.recorded_at) }
                        td { (e.actor) }
                        td { (e.subject) }
                        td { (e.summary) }
                        td { code class="hash" { (e.hash) } }
                    }
                }
            }
        }
        nav aria-label="Pages" {
            ul class="pagination" {
                @if page_number > 1 { li { a href=(link(page_number - 1)) { "Newer" } } }
                li { "Page " (page_number) " of " (pages) }
                @if page_number < pages { li { a href=(link(page_number + 1)) { "Older" } } }
            }
        }
    };
    respond(StatusCode::OK, page("History", &caller, body))
}

// ---------------------------------------------------------------- verification

async fn verify_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let verified = state
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (checkpoint, root, size) = {
        let ledger = state.shared.ledger();
        let root = ledger::blobs::hex(&ledger.root());
        (
            ledger.latest_checkpoint().ok().flatten(),
            root,
            ledger.size(),
        )
    };
    let body = html! {
        (done_notice(&params))
        h1 class="heading-l" { "Verification" }
        dl class="summary" {
            (summary_row("Events", html! { (size) }))
            (summary_row("Merkle root (RFC 9162)", html! { code class="hash" { (root) } }))
            (summary_row("Last run", match &verified {
                Some((at, report)) if report.ok => html! { (text_tag("ok", "Verified")) " " (report.size) " events and " (report.blobs) " evidence files at " (at) },
                Some((at, report)) => html! { (text_tag("bad", "Failed")) " at " (at) ": " (report.problem.clone().unwrap_or_default())
                    @if let Some(seq) = report.first_bad_seq { " (first bad event " (seq) ")" } },
                None => html! { "not run since the service started" },
            }))
        }
        form method="post" action="/verify" {
            (csrf(&caller))
            button class="button" type="submit" { "Verify the ledger now" }
        }
        h2 class="heading-m" { "Latest signed checkpoint" }
        @match &checkpoint {
            Some(c) => {
                p { "Tree size " (c.unverified_checkpoint().size) ", signed by:" }
                ul { @for s in c.note().signatures() { li { (s.name) " (key id " (ledger::note::key_id_hex(&s.key_id)) ")" } } }
                pre { code { (c.to_string()) } }
            }
            None => { p { "No checkpoint has been signed yet." } }
        }
        @if Need::Manage.allows(caller.role()) {
            form method="post" action="/checkpoint" {
                (csrf(&caller))
                button class="button button-secondary" type="submit" { "Sign a checkpoint of the current tree" }
            }
        }
        @if caller.role() == Some(Role::Chair) && checkpoint.is_some() {
            h2 class="heading-m" { "Co-sign the checkpoint" }
            form method="post" action="/checkpoint/cosign" {
                (csrf(&caller))
                div class="form-group" {
                    label for="note" { "The checkpoint with your co-signature" }
                    span class="hint" id="note-hint" {
                        "Save the checkpoint above to a file, run "
                        code { "assure checkpoint cosign FILE --key YOUR.key --offline" }
                        " on your own computer, and paste what it prints. Your key never leaves your computer; the signature is checked against the verifier key registered for you."
                    }
                    textarea id="note" name="note" rows="8" aria-describedby="note-hint" spellcheck="false" {}
                }
                button class="button button-secondary" type="submit" { "Add my co-signature" }
            }
        }
        h2 class="heading-m" { "Export for auditors" }
        p { a href="/export" download { "Download an export bundle (tar)" } " — verify it anywhere with "
            code { "assure verify --bundle DIR --trust KEY" } " or the steps in its README.txt." }
    };
    respond(StatusCode::OK, page("Verification", &caller, body))
}

/// Runs `verify` off the async threads and keeps the result for the dashboard.
pub async fn verify_now(state: &AppState) -> ledger::VerifyReport {
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

async fn run_verify(State(state): State<AppState>) -> Response {
    verify_now(&state).await;
    Redirect::to("/verify?done=verified").into_response()
}

async fn sign_checkpoint(State(state): State<AppState>) -> Response {
    let shared = state.shared.clone();
    let data = state.data.clone();
    let signed = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let key = crate::commands::proofs::ledger_key(&data, None)?;
        let mut ledger = shared.ledger();
        ledger.make_checkpoint(&key)?;
        let summary = super::state::checkpoint_summary(&ledger);
        drop(ledger);
        shared
            .live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .checkpoint = summary;
        Ok(())
    })
    .await;
    match signed {
        Ok(Ok(())) => Redirect::to("/verify?done=checkpoint").into_response(),
        Ok(Err(e)) => html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "No checkpoint was signed",
            &format!("{e:#}"),
        ),
        Err(_) => html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No checkpoint was signed",
            "The signing stopped unexpectedly.",
        ),
    }
}

#[derive(Deserialize)]
struct CosignForm {
    #[serde(default)]
    note: String,
}

/// The chair's offline co-signature, checked against the chair's registered
/// verifier key, is added to the checkpoint the ledger holds.
async fn cosign_checkpoint(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<CosignForm>,
) -> Response {
    let refused = |why: &str| {
        html::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The co-signature was not added",
            why,
        )
    };
    let accounts = state.accounts();
    let Some(vkey) = accounts.find(caller.name()).and_then(|a| a.vkey.clone()) else {
        return refused(&format!(
            "No verifier key is registered for {}. Register it with `assure user vkey {} VKEY` (print it with `assure key show --key YOUR.key`).",
            caller.name(),
            caller.name()
        ));
    };
    let Ok(vkey) = ledger::note::VerifierKey::parse(&vkey) else {
        return refused("The verifier key registered for you is not valid; register it again.");
    };
    // Browsers send a text area's lines with CR LF; a signed note has LF only.
    let mut note = form.note.replace("\r\n", "\n").trim().to_owned();
    note.push('\n');
    let shared = state.shared.clone();
    let added = tokio::task::spawn_blocking(move || {
        let mut ledger = shared.ledger();
        let added = ledger.attach_cosignature(note.as_bytes(), &vkey);
        let summary = super::state::checkpoint_summary(&ledger);
        drop(ledger);
        shared
            .live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .checkpoint = summary;
        added
    })
    .await;
    match added {
        Ok(Ok(_)) => Redirect::to("/verify?done=cosigned").into_response(),
        Ok(Err(ledger::Error::Rejected(why))) => refused(&why),
        Ok(Err(e)) => {
            eprintln!("assure serve: storing a co-signature failed: {e}");
            html::error_page(StatusCode::SERVICE_UNAVAILABLE, "The co-signature was not added", "The ledger could not store it; try again, and tell the administrator if it happens again.")
        }
        Err(_) => html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The co-signature was not added",
            "The service stopped unexpectedly while adding it.",
        ),
    }
}

async fn export_bundle(State(state): State<AppState>) -> Response {
    match super::api::export_tar(&state).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/x-tar".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"assure-export.tar\"".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The export could not be made",
            &e,
        ),
    }
}

/// Evidence by hash only; a partner lead only what is attached to something it can read.
async fn evidence(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> Response {
    let Some(parsed) = ledger::blobs::parse_hex(&hash).filter(|_| hash.len() == 64) else {
        return html::not_found();
    };
    if let Some(agency) = caller.partner_agency() {
        let live = state.shared.read();
        let world = live.world.world();
        let on_action = world
            .plans
            .values()
            .flat_map(|p| p.actions.values())
            .flat_map(|a| &a.entries)
            .any(|e| e.evidence.iter().any(|ev| ev.blake3 == parsed));
        let on_own_challenge = world
            .challenges
            .values()
            .filter(|c| c.to_agency.eq_ignore_ascii_case(agency))
            .flat_map(|c| c.responses.iter())
            .any(|e| e.evidence.iter().any(|ev| ev.blake3 == parsed));
        if !on_action && !on_own_challenge {
            return html::not_found();
        }
    }
    // Evidence files are immutable and named by hash: read without the ledger's lock.
    let bytes = ledger::blobs::BlobStore::new(state.data.join("blobs")).get(&parsed);
    match bytes {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"evidence-{hash}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => html::not_found(),
    }
}

// ---------------------------------------------------------------- report

async fn report_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    if !valid_id("plan id", &id) {
        return html::not_found();
    }
    let query = match time_query(&params) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    let Some(world) = report_world(&state, &id, query) else {
        return html::not_found();
    };
    let statement = {
        let ledger = state.shared.ledger();
        verification_statement(&ledger)
    };
    match report_markup(&world, &id, query.as_of, &statement) {
        Some(markup) => respond(StatusCode::OK, markup),
        None => html::not_found(),
    }
}

/// What the report says about the ledger it came from.
#[derive(Debug, Clone)]
pub struct Statement {
    pub size: u64,
    pub root: String,
    pub checkpoint: Option<String>,
}

pub fn verification_statement(ledger: &ledger::Ledger) -> Statement {
    Statement {
        size: ledger.size(),
        root: ledger::blobs::hex(&ledger.root()),
        checkpoint: ledger
            .latest_checkpoint()
            .ok()
            .flatten()
            .map(|c| c.to_string()),
    }
}

/// The inspection report: a standalone, print-ready page (also `assure report`).
pub fn report_markup(
    world: &World,
    id: &str,
    as_of: Option<i32>,
    statement: &Statement,
) -> Option<Markup> {
    let plan = world.plan(id)?;
    let day = as_of.unwrap_or_else(today);
    let view = plan_view(plan, day);
    let refs: Vec<String> = view
        .actions
        .iter()
        .map(|a| format!("{id}/{}", a.reference))
        .collect();
    let challenges: Vec<ChallengeView> = world
        .challenges
        .values()
        .filter(|c| c.about.is_empty() || c.about.iter().any(|a| refs.contains(&a.to_string())))
        .map(|c| views::challenge_view(c, day))
        .collect();
    let anonymous = Caller {
        principal: None,
        csrf: String::new(),
    };
    let title = format!("Inspection report: {}", view.plan.title);
    Some(page(
        &title,
        &anonymous,
        html! {
            span class="caption" { "Plan " (id) @if let Some(p) = &view.plan.period { " · " (p) } }
            h1 class="heading-l" { (view.plan.title) }
            p { "As it stood on " strong { (views::date(day)) } ". Produced " (views::timestamp(chrono::Utc::now().timestamp_micros())) " from the Assure ledger." }
            ul class="counts" aria-label="Actions by status" {
                @for rag in Rag::ALL {
                    @let n = view.counts.get(rag.as_str()).copied().unwrap_or(0);
                    @if n > 0 { li { (tag(rag)) " " (n) } }
                }
            }
            @for priority in &view.priorities {
                section class="report-section" {
                    h2 class="heading-m" { "Priority " (priority.key) ": " (priority.title) }
                    @if !priority.description.is_empty() { p { (html::multiline(&priority.description)) } }
                    @for a in view.actions.iter().filter(|a| a.priority == priority.key) {
                        h3 class="heading-s" { (a.reference) " " (a.title) " " (tag(a.status)) }
                        dl class="summary" {
                            (summary_row("Leads", or_none(&a.leads.join("; "))))
                            (summary_row("Timescale", or_none(&a.due)))
                            (summary_row("Outcome measure", or_none(&a.outcome)))
                            @for extra in &a.extras { (summary_row(&extra.header, html::multiline(&extra.text))) }
                        }
                        @if let Some(action) = plan.action(&a.reference) {
                            @if !action.entries.is_empty() {
                                table {
                                    caption { "History of " (a.reference) }
                                    thead { tr { th scope="col" { "Effective" } th scope="col" { "What" } th scope="col" { "By" } th scope="col" { "Event" } } }
                                    tbody { @for e in &action.entries { tr { td { (views::date(e.stamp.effective)) } td { strong { (e.kind) } ": " (html::multiline(&e.text)) } td { (e.stamp.actor) } td { (e.stamp.seq) } } } }
                                }
                            }
                        }
                    }
                }
            }
            section class="report-section" {
                h2 class="heading-m" { "Challenge log" }
                @if challenges.is_empty() { p { "No challenges were recorded about this plan by this date." } }
                @for c in &challenges {
                    h3 class="heading-s" { (c.id) " to " (c.to) ", raised " (c.raised_on) " by " (c.raised_by) }
                    p { (html::multiline(&c.text)) }
                    @for r in &c.responses { p { strong { "Response " (r.effective) " (" (r.actor) "): " } (html::multiline(&r.text)) } }
                    @for e in &c.escalations { p { strong { "Escalated " (e.effective) ": " } (html::multiline(&e.text)) } }
                    @if let Some(o) = &c.outcome { p { strong { "Outcome: " } (o) } }
                    @if let Some(i) = &c.impact { p { strong { "Impact: " } (i) } }
                }
            }
            section class="report-section" {
                h2 class="heading-m" { "Verification statement" }
                p { "This report was produced from a hash-chained ledger of " (statement.size) " events whose RFC 9162 Merkle root is" }
                p { code class="hash" { (statement.root) } }
                @match &statement.checkpoint {
                    Some(note) => { p { "The latest signed checkpoint:" } pre { code { (note) } } }
                    None => { p { "No checkpoint had been signed when this report was produced." } }
                }
                p { "To verify: ask the business manager for an export bundle (" code { "assure export" } "), then run "
                    code { "assure verify --bundle DIR --trust KEY" } " with the ledger's published verifier key, or follow the bundle's README.txt with your own tools. The tree size and root above must match the checkpoint." }
            }
        },
    ))
}
