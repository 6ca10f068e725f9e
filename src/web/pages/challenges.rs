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
use serde::{Deserialize, Serialize};

use super::forms::*;
use super::plan::csv_response;
use crate::app::{access, input, Change};
use crate::dates::today;
use crate::web::accounts::Role;
use crate::web::html::{
    self, csrf, field_error_summary, or_none, page, respond, summary_row, text_tag,
};
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
    render_challenges(
        &state,
        &caller,
        &params,
        &Refused::default(),
        StatusCode::OK,
    )
}

fn raise_fields<'a>(registered: bool) -> [Field<'a>; 4] {
    let mut to = Field::new("to", "to", "To agency", Kind::Text)
        .required("Enter the agency the challenge is to")
        .called(&["the agency", "agency"])
        .suggest("registered-agencies");
    if registered {
        to = to.hint("One of the registered agencies, by its name or another name it has");
    }
    [
        to,
        Field::new("text", "text", "Challenge", Kind::Textarea(4))
            .required("Enter the challenge")
            .called(&["the challenge text"]),
        Field::new("about", "about", "About actions (optional)", Kind::Text)
            .hint("PLAN/REF, separated by spaces, for example mcr-jtai-2023/1.2")
            .called(&["about", "no action", "no plan"]),
        Field::new("raise-due", "due", "Response due (optional)", Kind::Date)
            .called(&["the response due date", "due"]),
    ]
}

pub(super) fn render_challenges(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
    refused: &Refused,
    status: StatusCode,
) -> Response {
    let (after, limit) = match page_request(params, 500) {
        Ok(page) => page,
        Err(why) => return bad_request(&why),
    };
    let log = visible_challenge_page(state, caller, params, after, limit);
    let (registered, agencies) = {
        let live = state.shared.read();
        let world = live.world.world();
        let registered: Vec<(String, String)> = world
            .agencies
            .values()
            .map(|a| (a.name.clone(), a.aliases.join(", ")))
            .collect();
        let agencies: Vec<String> = world.challenged_agencies.iter().cloned().collect();
        (registered, agencies)
    };
    let filters: Vec<String> = ["open", "overdue", "agency"]
        .iter()
        .filter_map(|k| param(params, k).map(|v| format!("{k}={}", html::url_encode(v))))
        .collect();
    let link = |after: Option<u64>| {
        let mut query = filters.clone();
        query.extend(after.map(|a| format!("after={a}")));
        if limit != PAGE_SIZE {
            query.push(format!("limit={limit}"));
        }
        format!("/challenges?{}", query.join("&"))
    };
    let body = html! {
        (field_error_summary(&refused.errors))
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
        p class="no-print" { a href={ "/challenges/csv" @if !filters.is_empty() { "?" (filters.join("&")) } } download { "Download all of them as CSV" } }
        @if log.items.is_empty() { p { "No challenges match." } } @else {
            div class="table-scroll" role="region" aria-label="Challenges" tabindex="0" { table class="stack" {
                thead { tr { th scope="col" { "Id" } th scope="col" { "To" } th scope="col" { "Challenge" } th scope="col" { "Raised" } th scope="col" { "Response due" } th scope="col" { "Status" } th scope="col" { "Latest response" } } }
                tbody {
                    @for c in &log.items {
                        tr {
                            td data-label="Id" { a href={ "/challenges/" (c.id) } { (c.id) } }
                            td data-label="To" { (c.to) }
                            td data-label="Challenge" { (c.text) }
                            td data-label="Raised" { (html::day(&c.raised_on)) " by " (c.raised_by) }
                            td data-label="Response due" { (or_none(&c.due.as_deref().map(html::day).unwrap_or_default())) }
                            td data-label="Status" { (challenge_status_tag(c)) @if let Some(to) = &c.escalated_to { br; "Escalated to " (to) } }
                            td data-label="Latest response" { @if let Some(r) = c.responses.last() { (html::day(&r.effective)) ": " (r.text) } @else { (or_none("")) } }
                        }
                    }
                }
            } }
            (html::pagination(&log, link, "Earlier challenges", "Later challenges"))
        }
        @if Need::Chair.allows(caller.role()) {
            @let fields = raise_fields(!registered.is_empty());
            form method="post" action="/challenges" novalidate {
                (csrf(caller))
                fieldset {
                    legend { h2 class="heading-m" { "Raise a challenge" } }
                    @for f in &fields { (field("raise", f, refused)) }
                    datalist id="registered-agencies" { @for (name, aliases) in &registered { option value=(name) { (aliases) } } }
                }
                button class="button" type="submit" { "Raise the challenge" }
            }
        }
    };
    respond(status, page(&refused.title("Challenge log"), caller, body))
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

#[derive(Deserialize, Serialize)]
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
    let fields = raise_fields(false);
    let typed = Refused::typed("raise", &form).check_required(&fields);
    let refused = |refused: Refused, code| {
        render_challenges(&state, &caller, &HashMap::new(), &refused, code)
    };
    if typed.is_refused() {
        return refused(typed, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let today = today();
    let change = input::optional_date(Some(&form.due), "the response due date").and_then(|due| {
        let about = input::action_refs(form.about.split_whitespace(), "about")?;
        Ok(Change::raise(&form.to, &form.text, about, due, today)?)
    });
    let change = match change {
        Ok(change) => change,
        Err(e) => {
            let message = e.to_string();
            return refused(
                typed.refused_by(&message, &fields),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
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
        Err(e) => refused(typed.refused_by(&e.to_string(), &fields), e.status()),
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
    render_challenge(
        &state,
        &caller,
        &id,
        &Refused::default(),
        &params,
        StatusCode::OK,
    )
}

/// The form of each step, as `Refused::form` names it and as its address ends.
fn form_name(step: Step) -> &'static str {
    match step {
        Step::Respond => "respond",
        Step::Escalate => "escalate",
        Step::Close => "close",
        Step::SetDue => "due",
    }
}

fn step_fields<'a>(step: Step) -> Vec<Field<'a>> {
    match step {
        Step::Respond => vec![Field::new("response", "text", "Response", Kind::Textarea(4))
            .required("Enter the response")
            .called(&["the response"])],
        Step::Escalate => vec![
            Field::new("esc-to", "to", "Escalate to", Kind::Text)
                .hint("Who takes it up, for example the Safeguarding Adults Board or the agency's chief officer")
                .required("Enter who the challenge is escalated to")
                .called(&["escalate to"]),
            Field::new("esc-reason", "reason", "Why it is escalated", Kind::Textarea(3))
                .required("Enter why the challenge is escalated")
                .called(&["the reason"]),
        ],
        Step::SetDue => vec![
            Field::new("due", "due", "The response is due by", Kind::Text)
                .hint("For example 31/03/2025 or 2025-03-31")
                .required("Enter the date the response is due by")
                .called(&["the due date", "give the date"]),
            Field::new("due-reason", "reason", "Why this date", Kind::Textarea(2))
                .required("Enter why the response is due by this date")
                .called(&["the reason"]),
        ],
        Step::Close => vec![
            Field::new("outcome", "outcome", "Outcome", Kind::Textarea(3))
                .hint("What the challenge achieved, in the words inspectors will read")
                .required("Enter the outcome")
                .called(&["the outcome"]),
            Field::new("impact", "impact", "Impact (optional)", Kind::Textarea(3))
                .hint("The difference it made for children, adults or families")
                .called(&["the impact"]),
        ],
    }
}

pub(super) fn render_challenge(
    state: &AppState,
    caller: &Caller,
    id: &str,
    refused: &Refused,
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
                        p { strong { (html::day(&e.effective)) " · " (e.actor) } " (event " (e.seq) ")" (html::late(e.late_days, false, late_after)) }
                        p { (html::multiline(&e.text)) }
                        @for ev in &e.evidence { p { "Evidence: " a href={ "/evidence/" (ev.blake3) } { (ev.name) } " (" (html::bytes(ev.bytes)) ")" } }
                    }
                }
            }
        }
    };
    let base = format!("/challenges/{id}");
    let step_form = |step: Step, title: &str, button: &str, class: &str, intro: Option<&str>| {
        let fields = step_fields(step);
        html! {
            form method="post" action={ (base) "/" (form_name(step)) } novalidate {
                (csrf(caller))
                fieldset {
                    legend { h2 class="heading-m" { (title) } }
                    @if let Some(intro) = intro { p class="hint" { (intro) } }
                    @for f in &fields { (field(form_name(step), f, refused)) }
                }
                button class={ "button " (class) } type="submit" { (button) }
            }
        }
    };
    let body = html! {
        (field_error_summary(&refused.errors))
        (done_notice(params))
        span class="caption" { a href="/challenges" { "Challenge log" } }
        h1 class="heading-l" { "Challenge " (c.id) " to " (c.to) }
        dl class="summary" {
            (summary_row("Status", challenge_status_tag(&c)))
            (summary_row("Challenge", html::multiline(&c.text)))
            (summary_row("Raised", html! { (html::day(&c.raised_on)) " by " (c.raised_by) }))
            (summary_row("Response due", or_none(&c.due.as_deref().map(html::day).unwrap_or_default())))
            (summary_row("About", html! { @for a in &c.about { @if let Some((p, r)) = a.split_once('/') { a href={ "/plans/" (p) "/actions/" (r) } { (a) } " " } } }))
            @if let Some(o) = &c.outcome { (summary_row("Outcome", html::multiline(o))) }
            @if let Some(i) = &c.impact { (summary_row("Impact", html::multiline(i))) }
            @if let Some(d) = &c.closed_on { (summary_row("Closed on", html! { (html::day(d)) })) }
        }
        (entries("Responses", &c.responses))
        (entries("Escalations, due dates, earlier closures and reopenings", &c.escalations))
        @if let Some(to) = &c.escalated_to { p { "Last escalated to " strong { (to) } "." } }
        @if c.status != ChallengeStatus::Closed {
            @if may_respond { (step_form(Step::Respond, "Record the response", "Record the response", "", None)) }
            @if chair {
                (step_form(Step::Escalate, "Escalate", "Escalate", "button-secondary", None))
                (step_form(Step::SetDue, "Response due date", "Set the due date", "button-secondary", None))
                (step_form(Step::Close, "Close the challenge", "Continue", "button-secondary", Some("You will see what closing records and confirm before anything is recorded.")))
            }
        }
    };
    respond(
        status,
        page(&refused.title(&format!("Challenge {}", c.id)), caller, body),
    )
}

#[derive(Deserialize, Serialize)]
pub(super) struct StepForm {
    #[serde(flatten)]
    fields: StepFields,
    /// "yes" once a confirmation page was seen and agreed to (closing).
    #[serde(default)]
    confirm: String,
    /// Sent by "Change what I typed" on the confirmation page.
    #[serde(default)]
    back: String,
}

pub(super) async fn challenge_step(
    state: AppState,
    caller: Caller,
    id: String,
    step: Step,
    form: StepForm,
    done: &str,
) -> Response {
    if !valid_id("challenge id", &id) || readable_challenge(&state, &caller, &id).is_none() {
        return html::not_found();
    }
    let fields = step_fields(step);
    let typed = Refused::typed(form_name(step), &form.fields).check_required(&fields);
    let refused = |refused: Refused, code| {
        render_challenge(&state, &caller, &id, &refused, &HashMap::new(), code)
    };
    if typed.is_refused() || !form.back.is_empty() {
        let code = if typed.is_refused() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return refused(typed, code);
    }
    let change = match form.fields.change(&id, step) {
        Ok(change) => change,
        Err(e) => {
            return refused(
                typed.refused_by(&e.to_string(), &fields),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    if matches!(step, Step::Close) && form.confirm != "yes" {
        return match state.shared.precheck(&caller, &change) {
            Ok(()) => confirm_close(&state, &caller, &id, &typed),
            Err(why) => refused(
                typed.refused_by(&why, &fields),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        };
    }
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
        Err(e) => refused(typed.refused_by(&e.to_string(), &fields), e.status()),
    }
}

/// What closing a challenge records, asked before it is recorded.
fn confirm_close(state: &AppState, caller: &Caller, id: &str, typed: &Refused) -> Response {
    let Some(c) = readable_challenge(state, caller, id) else {
        return html::not_found();
    };
    let value = |name: &str| typed.value("close", name).unwrap_or("").trim().to_owned();
    let body = html! {
        span class="caption" { a href={ "/challenges/" (id) } { "Challenge " (id) } }
        h1 class="heading-l" { "Close challenge " (id) " to " (c.to) "?" }
        div class="warning" {
            p { strong { "Closing is recorded in the ledger with today's date." } }
            p { "The challenge leaves the open list and the dashboard; its thread stays as it is. The chair can reopen it later, and the closure stays in its history." }
            @if c.responses.is_empty() { p { strong { "No response has been recorded to this challenge." } } }
        }
        dl class="summary" {
            (summary_row("Challenge", html::multiline(&c.text)))
            (summary_row("Outcome", html::multiline(&value("outcome"))))
            (summary_row("Impact", or_none(&value("impact"))))
        }
        form method="post" action={ "/challenges/" (id) "/close" } {
            (csrf(caller))
            @for (name, value) in &typed.typed { input type="hidden" name=(name) value=(value); }
            input type="hidden" name="confirm" value="yes";
            div class="button-group" {
                button class="button button-warning" type="submit" { "Yes, close the challenge" }
                button class="button button-secondary" type="submit" name="back" value="1" { "Change what I typed" }
            }
        }
    };
    respond(
        StatusCode::OK,
        page(&format!("Close challenge {id}?"), caller, body),
    )
}

pub(super) async fn post_respond(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    challenge_step(state, caller, id, Step::Respond, form, "responded").await
}

pub(super) async fn post_escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    challenge_step(state, caller, id, Step::Escalate, form, "escalated").await
}

pub(super) async fn post_due(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    challenge_step(state, caller, id, Step::SetDue, form, "due").await
}

pub(super) async fn post_close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    challenge_step(state, caller, id, Step::Close, form, "closed").await
}
