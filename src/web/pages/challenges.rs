//! The challenge log (a partner lead sees its own agency's only), its CSV, raising
//! a challenge, one challenge's page, and the steps of its life (respond, escalate,
//! close).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use maud::{html, Markup};
use projections::views::{self, ChallengeView};
use projections::world::ChallengeStatus;
use serde::Deserialize;

use super::forms::*;
use super::plan::csv_response;
use crate::app::{access, input, Change};
use crate::dates::today;
use crate::web::accounts::Role;
use crate::web::html::{self, csrf, error_summary, or_none, page, respond, summary_row, text_tag};
use crate::web::inputs::*;
use crate::web::read::*;
use crate::web::{AppState, Caller, Need};

pub(super) fn challenge_status_tag(c: &ChallengeView) -> Markup {
    let (class, label) = match c.status {
        ChallengeStatus::Open => ("open", "Open"),
        ChallengeStatus::Responded => ("responded", "Responded"),
        ChallengeStatus::Escalated => ("escalated", "Escalated"),
        ChallengeStatus::Closed => ("closed", "Closed"),
    };
    html! { (text_tag(class, label)) @if c.overdue { " " (text_tag("overdue", "Overdue")) } }
}

pub(super) async fn challenges_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    render_challenges(&state, &caller, &params, &[], StatusCode::OK)
}

pub(super) fn render_challenges(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
    errors: &[String],
    status: StatusCode,
) -> Response {
    let log = visible_challenges(state, caller, params);
    let registered: Vec<(String, String)> = {
        let live = state.shared.read();
        live.world
            .world()
            .agencies
            .values()
            .map(|a| (a.name.clone(), a.aliases.join(", ")))
            .collect()
    };
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
            thead { tr { th scope="col" { "Id" } th scope="col" { "To" } th scope="col" { "Challenge" } th scope="col" { "Raised" } th scope="col" { "Response due" } th scope="col" { "Status" } th scope="col" { "Latest response" } } }
            tbody {
                @for c in &log {
                    tr {
                        td { a href={ "/challenges/" (c.id) } { (c.id) } }
                        td { (c.to) }
                        td { (c.text) }
                        td { (c.raised_on) " by " (c.raised_by) }
                        td { (c.due.clone().unwrap_or_default()) }
                        td { (challenge_status_tag(c)) @if let Some(to) = &c.escalated_to { br; "Escalated to " (to) } }
                        td { @if let Some(r) = c.responses.last() { (r.effective) ": " (r.text) } }
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
                    @if !registered.is_empty() { span class="hint" id="to-hint" { "One of the registered agencies, by its name or another name it has" } }
                    input type="text" id="to" name="to" list="registered-agencies" aria-describedby=[(!registered.is_empty()).then_some("to-hint")];
                    datalist id="registered-agencies" { @for (name, aliases) in &registered { option value=(name) { (aliases) } } }
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

pub(super) async fn challenges_csv(
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
        "Escalated to",
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
            c.escalated_to.clone().unwrap_or_default(),
            c.outcome.clone().unwrap_or_default(),
            c.impact.clone().unwrap_or_default(),
            c.closed_on.clone().unwrap_or_default(),
        ]);
    }
    csv_response("challenge-log.csv", rows)
}

#[derive(Deserialize)]
pub(super) struct RaiseForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    about: String,
    #[serde(default)]
    due: String,
}

pub(super) async fn post_raise(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<RaiseForm>,
) -> Response {
    let errors = |e: String, code| render_challenges(&state, &caller, &HashMap::new(), &[e], code);
    let today = today();
    let change = input::optional_date(Some(&form.due), "the response due date").and_then(|due| {
        let about = input::action_refs(form.about.split_whitespace(), "about")?;
        Ok(Change::raise(&form.to, &form.text, about, due, today)?)
    });
    let change = match change {
        Ok(change) => change,
        Err(e) => return errors(e.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    };
    match state.shared.write(&caller, today, Vec::new(), change).await {
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
        Err(e) => errors(e.to_string(), e.status()),
    }
}

/// A challenge a caller may read: `None` (not found) for a partner lead of another agency.
pub(super) fn readable_challenge(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Option<ChallengeView> {
    let live = state.shared.read();
    let challenge = live.world.world().challenges.get(id)?;
    access::may_see_challenge(live.world.world(), caller.partner_agency(), challenge)
        .then(|| views::challenge_view(challenge, today()))
}

pub(super) async fn challenge_page(
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

pub(super) fn render_challenge(
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
    let late_after = state.shared.read().world.world().late_after();
    let chair = caller.role() == Some(Role::Chair);
    let may_respond = Need::Respond.allows(caller.role());
    let entries = |title: &str, list: &[views::EntryView]| {
        html! {
            @if !list.is_empty() {
                h2 class="heading-m" { (title) }
                @for e in list {
                    div class="summary" {
                        p { strong { (e.effective) " · " (e.actor) } " (event " (e.seq) ")" (html::late(e.late_days, false, late_after)) }
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
        (entries("Escalations, due dates, earlier closures and reopenings", &c.escalations))
        @if let Some(to) = &c.escalated_to { p { "Last escalated to " strong { (to) } "." } }
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
                h2 class="heading-m" { "Response due date" }
                form method="post" action={ (base) "/due" } {
                    (csrf(caller))
                    div class="form-group" { label for="due" { "The response is due by" } span class="hint" id="due-hint" { "For example 2025-03-31 or 31/03/2025" } input type="text" id="due" name="due" aria-describedby="due-hint"; }
                    div class="form-group" { label for="due-reason" { "Why this date" } textarea id="due-reason" name="reason" rows="2" {} }
                    button class="button button-secondary" type="submit" { "Set the due date" }
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

pub(super) async fn challenge_step(
    state: AppState,
    caller: Caller,
    id: String,
    step: Step,
    fields: StepFields,
    done: &str,
) -> Response {
    if !valid_id("challenge id", &id) || readable_challenge(&state, &caller, &id).is_none() {
        return html::not_found();
    }
    let change = match fields.change(&id, step) {
        Ok(change) => change,
        Err(e) => {
            let errors = [e.to_string()];
            return render_challenge(
                &state,
                &caller,
                &id,
                &errors,
                &HashMap::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match state
        .shared
        .write(&caller, today(), Vec::new(), change)
        .await
    {
        Ok(headers) => redirect_done(
            &format!("/challenges/{id}"),
            done,
            headers.first().map(|h| h.seq),
        ),
        Err(e) => render_challenge(
            &state,
            &caller,
            &id,
            &[e.to_string()],
            &HashMap::new(),
            e.status(),
        ),
    }
}

pub(super) async fn post_respond(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(state, caller, id, Step::Respond, form, "responded").await
}

pub(super) async fn post_escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(state, caller, id, Step::Escalate, form, "escalated").await
}

pub(super) async fn post_due(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(state, caller, id, Step::SetDue, form, "due").await
}

pub(super) async fn post_close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepFields>,
) -> Response {
    challenge_step(state, caller, id, Step::Close, form, "closed").await
}
