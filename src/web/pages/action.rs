//! The action page: its details, timeline and challenges, and the forms that
//! change it (status, progress with evidence, carry-over), each built by the
//! application layer's `Change` and recorded through the writer.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use maud::html;
use projections::events::*;
use projections::views::{self};
use projections::Rag;
use serde::Deserialize;

use super::forms::*;
use crate::app::{access, input, Change};
use crate::dates::today;
use crate::web::html::{
    self, csrf, error_summary, or_none, page, respond, summary_row, tag, text_tag,
};
use crate::web::inputs::*;
use crate::web::{AppState, Caller, Need};

pub(super) async fn action_page(
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

pub(super) fn render_action(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reference: &str,
    errors: &[String],
    params: &HashMap<String, String>,
    status: StatusCode,
) -> Response {
    let today = today();
    let late_after = state.shared.read().world.world().late_after();
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
        let agency = caller.partner_agency();
        timeline
            .challenges
            .retain(|c| access::may_see_challenge_to(world, agency, &c.to));
        let may_progress = match agency {
            Some(agency) => access::leads_action(world, &at, agency),
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
            (summary_row("Last update", html! { (a.last_update.effective) " by " (a.last_update.actor) " (event " (a.last_update.seq) ")" (html::late(a.last_update.late_days, a.last_update.recorded_at_import, late_after)) }))
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
                            td { (e.effective) (html::late(e.late_days, e.recorded_at_import, late_after)) }
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
                        div class="form-group" {
                            label for="carry-priority" { "Under priority (optional)" }
                            span class="hint" id="carry-priority-hint" { "A priority key of the new plan; leave empty to keep " (a.priority) }
                            input type="text" id="carry-priority" name="priority" aria-describedby="carry-priority-hint";
                        }
                        div class="form-group" {
                            label for="carry-timescale" { "New timescale (optional)" }
                            span class="hint" id="carry-timescale-hint" { "Leave empty to keep " (a.due) }
                            input type="text" id="carry-timescale" name="timescale" aria-describedby="carry-timescale-hint";
                        }
                        div class="form-group" {
                            label for="carry-status" { "Status in the new plan" }
                            select id="carry-status" name="status" {
                                option value="" selected { "Keep " (a.status.label()) }
                                @for rag in [Rag::Green, Rag::Amber, Rag::Red, Rag::NotStarted] { option value=(rag.as_str()) { (rag.label()) } }
                            }
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

/// Sends a change to the writer; on refusal shows the action page again with why.
#[allow(clippy::too_many_arguments)]
pub(super) async fn write_action(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reference: &str,
    effective: &str,
    evidence: Vec<Vec<u8>>,
    change: anyhow::Result<Change>,
    done: &str,
) -> Response {
    if !valid_id("plan id", id) || !valid_id("action ref", reference) {
        return html::not_found();
    }
    let refused = |errors: &[String], code| {
        render_action(state, caller, id, reference, errors, &HashMap::new(), code)
    };
    let input = input::effective_day(Some(effective), "the date it took effect")
        .and_then(|day| change.map(|change| (day, change)));
    let (effective, change) = match input {
        Ok(input) => input,
        Err(e) => return refused(&[e.to_string()], StatusCode::UNPROCESSABLE_ENTITY),
    };
    match state
        .shared
        .write(caller, effective, evidence, change)
        .await
    {
        Ok(headers) => redirect_done(
            &format!("/plans/{id}/actions/{reference}"),
            done,
            headers.first().map(|h| h.seq),
        ),
        Err(e) => refused(&[e.to_string()], e.status()),
    }
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    rationale: String,
    #[serde(default)]
    effective: String,
}

pub(super) async fn post_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    Form(form): Form<StatusForm>,
) -> Response {
    let change = input::status(&form.status).map(|status| Change::Status {
        at: action_ref(&id, &reference),
        status,
        rationale: form.rationale,
    });
    write_action(
        &state,
        &caller,
        &id,
        &reference,
        &form.effective,
        Vec::new(),
        change,
        "status",
    )
    .await
}

pub(super) async fn post_progress(
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
                        let name = file_name.as_deref().unwrap_or("evidence");
                        match input::evidence(name, &bytes) {
                            Ok(record) => records.push(record),
                            Err(_) => return too_large_upload(),
                        }
                        blobs.push(bytes.to_vec());
                    }
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return too_large_upload(),
        }
    }
    let change = Change::Progress {
        at: action_ref(&id, &reference),
        note,
        evidence: records,
    };
    write_action(
        &state,
        &caller,
        &id,
        &reference,
        &effective,
        blobs,
        Ok(change),
        "progress",
    )
    .await
}

pub(super) async fn post_carry_over(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    Form(form): Form<CarryFields>,
) -> Response {
    let effective = form.effective.clone().unwrap_or_default();
    let change = form.change(&id, &reference);
    write_action(
        &state,
        &caller,
        &id,
        &reference,
        &effective,
        Vec::new(),
        change,
        "carried",
    )
    .await
}
