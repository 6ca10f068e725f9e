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
use serde::{Deserialize, Serialize};

use super::forms::*;
use crate::app::{access, input, Change};
use crate::dates::today;
use crate::web::html::{
    self, csrf, field_error_summary, or_none, page, respond, summary_row, tag, text_tag,
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
        &Refused::default(),
        &params,
        StatusCode::OK,
    )
}

/// The words every "date it took effect" field shares; each form names its own.
const EFFECTIVE_HINT: &str = "Leave empty for today. It may be earlier, never later.";
const EFFECTIVE_CALLED: &[&str] = &["the date it took effect", "the effective date"];

fn status_fields<'a>(options: &'a [(String, String)], current: &'a str) -> [Field<'a>; 3] {
    [
        Field::new(
            "status",
            "status",
            "New status",
            Kind::Select {
                options,
                selected: current,
            },
        )
        .called(&["is not a status"]),
        Field::new(
            "rationale",
            "rationale",
            "Why (the rationale inspectors will read)",
            Kind::Textarea(3),
        )
        .required("Enter why the status changed")
        .called(&["the rationale"]),
        Field::new(
            "status-effective",
            "effective",
            "Date the status changed",
            Kind::Date,
        )
        .hint(EFFECTIVE_HINT)
        .called(EFFECTIVE_CALLED),
    ]
}

fn progress_fields<'a>() -> [Field<'a>; 2] {
    [
        Field::new("note", "note", "Progress made", Kind::Textarea(4))
            .required("Enter the progress made")
            .called(&["the progress note", "evidence file"]),
        Field::new(
            "progress-effective",
            "effective",
            "Date of the progress",
            Kind::Date,
        )
        .hint(EFFECTIVE_HINT)
        .called(EFFECTIVE_CALLED),
    ]
}

fn carry_fields<'a>(
    a: &views::ActionView,
    plans: &'a [(String, String)],
    statuses: &'a [(String, String)],
) -> [Field<'a>; 8] {
    [
        Field::new(
            "to_plan",
            "to_plan",
            "Into plan",
            Kind::Select {
                options: plans,
                selected: "",
            },
        )
        .called(&["no plan", "plan id"]),
        Field::new("to_ref", "to_ref", "As action (ref)", Kind::Text)
            .hint(format!("Leave empty to keep {}", a.reference))
            .called(&["action ref", "already has an action"]),
        Field::new(
            "reason",
            "reason",
            "Why it is carried over",
            Kind::Textarea(3),
        )
        .required("Enter why the action is carried over")
        .called(&["the reason"]),
        Field::new("forum", "forum", "Agreed at (optional)", Kind::Text)
            .hint("The meeting that agreed it, for example the board of 12 March 2025"),
        Field::new(
            "carry-priority",
            "priority",
            "Under priority (optional)",
            Kind::Text,
        )
        .hint(format!(
            "A priority key of the new plan; leave empty to keep {}",
            a.priority
        ))
        .called(&["priority"]),
        Field::new(
            "carry-timescale",
            "timescale",
            "New timescale (optional)",
            Kind::Text,
        )
        .hint(format!("Leave empty to keep {}", a.due))
        .called(&["the timescale"]),
        Field::new(
            "carry-status",
            "status",
            "Status in the new plan",
            Kind::Select {
                options: statuses,
                selected: "",
            },
        )
        .called(&["is not a status"]),
        Field::new(
            "carry-effective",
            "effective",
            "Date the carry-over was agreed",
            Kind::Date,
        )
        .hint(EFFECTIVE_HINT)
        .called(EFFECTIVE_CALLED),
    ]
}

pub(super) fn render_action(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reference: &str,
    refused: &Refused,
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
        let plans: Vec<(String, String)> = world
            .plans
            .values()
            .filter(|p| p.id != id)
            .map(|p| (p.id.clone(), format!("{} ({})", p.title, p.id)))
            .collect();
        (timeline, may_progress, plans)
    };
    let Some(step) = timeline.steps.iter().find(|s| s.plan == id) else {
        return html::not_found();
    };
    let a = &step.action;
    let manage = Need::Manage.allows(caller.role());
    let base = format!("/plans/{id}/actions/{reference}");
    let status_options: Vec<(String, String)> = [
        Rag::Green,
        Rag::Amber,
        Rag::Red,
        Rag::Complete,
        Rag::NotStarted,
    ]
    .iter()
    .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
    .collect();
    let carry_statuses: Vec<(String, String)> =
        std::iter::once((String::new(), format!("Keep {}", a.status.label())))
            .chain(
                [Rag::Green, Rag::Amber, Rag::Red, Rag::NotStarted]
                    .iter()
                    .map(|r| (r.as_str().to_owned(), r.label().to_owned())),
            )
            .collect();
    let body = html! {
        (field_error_summary(&refused.errors))
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
            (summary_row("Last update", html! { (html::day(&a.last_update.effective)) " by " (a.last_update.actor) " (event " (a.last_update.seq) ")" (html::late(a.last_update.late_days, a.last_update.recorded_at_import, late_after)) }))
            @if let Some(from) = &a.carried_from { (summary_row("Carried in from", action_link(from))) }
            @if let Some(to) = &a.carried_to { (summary_row("Carried over to", action_link(to))) }
        }
        h2 class="heading-m" { "Timeline" }
        @for s in &timeline.steps {
            h3 class="heading-s" { "In plan " a href={ "/plans/" (s.plan) "/actions/" (s.action.reference) } { (s.plan) " / " (s.action.reference) } }
            @if !s.imported_progress.is_empty() { p { "Progress at import: " (html::multiline(&s.imported_progress)) } }
            @if s.entries.is_empty() { p { "Nothing recorded yet." } } @else {
                div class="table-scroll" role="region" aria-label={ "Timeline in plan " (s.plan) } tabindex="0" { table class="stack" {
                    thead { tr { th scope="col" { "Took effect" } th scope="col" { "What" } th scope="col" { "By" } th scope="col" { "Event" } } }
                    tbody {
                        @for e in &s.entries {
                            tr {
                                td data-label="Took effect" { (html::day(&e.effective)) (html::late(e.late_days, e.recorded_at_import, late_after)) }
                                td data-label="What" { (html::entry_what(e.kind, &e.text))
                                    @for ev in &e.evidence { br; "Evidence: " a href={ "/evidence/" (ev.blake3) } { (ev.name) } " (" (html::bytes(ev.bytes)) ")" } }
                                td data-label="By" { (e.actor) }
                                td data-label="Event" { (e.seq) }
                            }
                        }
                    }
                } }
            }
        }
        @if !timeline.challenges.is_empty() {
            h2 class="heading-m" { "Challenges about this action" }
            ul { @for c in &timeline.challenges { li { a href={ "/challenges/" (c.id) } { (c.id) } " to " (c.to) ": " (c.text) } } }
        }
        @if a.carried_to.is_none() {
            @if manage {
                @let fields = status_fields(&status_options, a.status.as_str());
                form method="post" action={ (base) "/status" } novalidate {
                    (csrf(caller))
                    fieldset {
                        legend { h2 class="heading-m" { "Change the status" } }
                        @for f in &fields { (field("status", f, refused)) }
                    }
                    button class="button" type="submit" { "Record the status" }
                }
            }
            @if may_progress {
                @let fields = progress_fields();
                form method="post" action={ (base) "/progress?csrf=" (html::url_encode(&caller.csrf)) } enctype="multipart/form-data" novalidate {
                    fieldset {
                        legend { h2 class="heading-m" { "Add a progress note" } }
                        (field("progress", &fields[0], refused))
                        div class="form-group" {
                            label for="evidence" { "Evidence files (optional)" }
                            span class="hint" id="evidence-hint" { "Up to 25 MiB in all. Each is kept under its name and found again by its BLAKE3 hash." }
                            input type="file" id="evidence" name="evidence" multiple aria-describedby="evidence-hint";
                        }
                        (field("progress", &fields[1], refused))
                    }
                    button class="button" type="submit" { "Record the progress" }
                }
            }
            @if manage && a.status != Rag::Complete {
                @if plans.is_empty() {
                    h2 class="heading-m" { "Carry over into another plan" }
                    p { "There is no other plan to carry it into. Import or create next year's plan first." }
                } @else {
                    @let fields = carry_fields(a, &plans, &carry_statuses);
                    form method="post" action={ (base) "/carry-over" } novalidate {
                        (csrf(caller))
                        fieldset {
                            legend { h2 class="heading-m" { "Carry over into another plan" } }
                            p class="hint" { "You will see what it does and confirm before anything is recorded." }
                            @for f in &fields { (field("carry", f, refused)) }
                        }
                        button class="button button-secondary" type="submit" { "Continue" }
                    }
                }
            }
        }
    };
    respond(
        status,
        page(
            &refused.title(&format!("{} {}", a.reference, a.title)),
            caller,
            body,
        ),
    )
}

/// A link to an action named `PLAN/REF`.
fn action_link(at: &str) -> maud::Markup {
    match at.split_once('/') {
        Some((plan, reference)) => {
            html! { a href={ "/plans/" (plan) "/actions/" (reference) } { (at) } }
        }
        None => html! { (at) },
    }
}

/// Sends a change to the writer; on refusal shows the action page again with why,
/// and with what was typed.
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
    typed: Refused,
    fields: &[Field<'_>],
) -> Response {
    if !valid_id("plan id", id) || !valid_id("action ref", reference) {
        return html::not_found();
    }
    let refused = |message: &str, code| {
        let refused = typed.clone().refused_by(message, fields);
        render_action(
            state,
            caller,
            id,
            reference,
            &refused,
            &HashMap::new(),
            code,
        )
    };
    let input = input::effective_day(Some(effective), "the date it took effect")
        .and_then(|day| change.map(|change| (day, change)));
    let (effective, change) = match input {
        Ok(input) => input,
        Err(e) => return refused(&e.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
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
        Err(e) => refused(&e.to_string(), e.status()),
    }
}

/// The action page again, with the fields left empty marked.
fn missing(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reference: &str,
    refused: &Refused,
) -> Response {
    render_action(
        state,
        caller,
        id,
        reference,
        refused,
        &HashMap::new(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

#[derive(Deserialize, Serialize)]
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
    let fields = status_fields(&[], "");
    let typed = Refused::typed("status", &form).check_required(&fields);
    if typed.is_refused() {
        return missing(&state, &caller, &id, &reference, &typed);
    }
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
        typed,
        &fields,
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
    let fields = progress_fields();
    let mut typed = Refused {
        form: "progress",
        typed: HashMap::from([
            ("note".to_owned(), note.clone()),
            ("effective".to_owned(), effective.clone()),
        ]),
        errors: Vec::new(),
    }
    .check_required(&fields);
    // A browser cannot put files back in a file field: say so when some were sent.
    let attach_again = |mut refused: Refused| {
        if !blobs.is_empty() && refused.is_refused() {
            refused.errors.push(html::FieldError {
                id: Some("evidence".to_owned()),
                message:
                    "Attach the evidence files again: a browser cannot keep them after a problem"
                        .to_owned(),
            });
        }
        refused
    };
    if typed.is_refused() {
        typed = attach_again(typed);
        return missing(&state, &caller, &id, &reference, &typed);
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
        typed,
        &fields,
    )
    .await
}

#[derive(Deserialize, Serialize, Default)]
pub(super) struct CarryForm {
    #[serde(flatten)]
    fields: CarryFields,
    /// "yes" once the confirmation page was seen and agreed to.
    #[serde(default)]
    confirm: String,
    /// Sent by "Change what I typed" on the confirmation page.
    #[serde(default)]
    back: String,
}

pub(super) async fn post_carry_over(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, reference)): Path<(String, String)>,
    Form(form): Form<CarryForm>,
) -> Response {
    if !valid_id("plan id", &id) || !valid_id("action ref", &reference) {
        return html::not_found();
    }
    let Some(action) = current_action(&state, &id, &reference) else {
        return html::not_found();
    };
    let fields = carry_fields(&action, &[], &[]);
    let typed = Refused::typed("carry", &form.fields).check_required(&fields);
    if typed.is_refused() {
        return missing(&state, &caller, &id, &reference, &typed);
    }
    if !form.back.is_empty() {
        // Back from the confirmation: the form again, as typed, nothing wrong.
        return render_action(
            &state,
            &caller,
            &id,
            &reference,
            &typed,
            &HashMap::new(),
            StatusCode::OK,
        );
    }
    let effective = form.fields.effective.clone().unwrap_or_default();
    let plan = form.fields.to_plan.trim().to_owned();
    let confirmed = form.confirm == "yes";
    let change = form.fields.change(&id, &reference);
    if !confirmed {
        let checked = input::effective_day(Some(&effective), "the date it took effect")
            .and_then(|_| change.as_ref().map_err(|e| anyhow::anyhow!("{e}")).cloned())
            .map_err(|e| e.to_string())
            .and_then(|change| state.shared.precheck(&caller, &change).map(|()| change));
        return match checked {
            Ok(change) => confirm_carry(&state, &caller, &action, &plan, &typed, &change),
            Err(why) => {
                let refused = typed.refused_by(&why, &fields);
                missing(&state, &caller, &id, &reference, &refused)
            }
        };
    }
    write_action(
        &state,
        &caller,
        &id,
        &reference,
        &effective,
        Vec::new(),
        change,
        "carried",
        typed,
        &fields,
    )
    .await
}

/// The action as it stands now, if there is one.
fn current_action(state: &AppState, id: &str, reference: &str) -> Option<views::ActionView> {
    let live = state.shared.read();
    let world = live.world.world();
    let plan = world.plan(id)?;
    let view = views::plan_view(plan, today());
    view.actions.into_iter().find(|a| a.reference == reference)
}

/// What a carry-over will do, asked before it is recorded (it cannot be undone).
fn confirm_carry(
    state: &AppState,
    caller: &Caller,
    a: &views::ActionView,
    plan: &str,
    typed: &Refused,
    change: &Change,
) -> Response {
    let Change::CarryOver {
        from,
        to,
        reason,
        forum,
        options,
    } = change
    else {
        return html::not_found();
    };
    let plan_title = {
        let live = state.shared.read();
        live.world
            .world()
            .plan(plan)
            .map(|p| p.title.clone())
            .unwrap_or_default()
    };
    let effective = typed.value("carry", "effective").unwrap_or("");
    let when = if effective.trim().is_empty() {
        "today".to_owned()
    } else {
        html::day(effective.trim())
    };
    let status = options.status.unwrap_or(a.status);
    let body = html! {
        span class="caption" { a href={ "/plans/" (from.plan) "/actions/" (from.reference) } { "Action " (from) } }
        h1 class="heading-l" { "Carry " (from.reference) " over into " (plan_title) "?" }
        div class="warning" {
            p { strong { "This is recorded in the ledger and cannot be undone." } }
            p { (from) " will show as " (tag(Rag::CarriedOver)) " and take no more changes; its history stays where it is. "
                (to) " continues it in the new plan, with a link back." }
        }
        dl class="summary" {
            (summary_row("From", html! { (from) " " (a.title) }))
            (summary_row("Into", html! { (to) }))
            (summary_row("Under priority", html! { (options.priority.clone().unwrap_or_else(|| a.priority.clone())) }))
            (summary_row("Timescale", or_none(&options.timescale.clone().unwrap_or_else(|| a.due.clone()))))
            (summary_row("Status in the new plan", tag(status)))
            (summary_row("Why", html::multiline(reason)))
            (summary_row("Agreed at", or_none(forum.as_deref().unwrap_or(""))))
            (summary_row("Takes effect", html! { (when) }))
        }
        form method="post" action={ "/plans/" (from.plan) "/actions/" (from.reference) "/carry-over" } {
            (csrf(caller))
            @for (name, value) in &typed.typed { input type="hidden" name=(name) value=(value); }
            input type="hidden" name="confirm" value="yes";
            div class="button-group" {
                button class="button button-warning" type="submit" { "Yes, carry it over" }
                button class="button button-secondary" type="submit" name="back" value="1" { "Change what I typed" }
            }
        }
    };
    respond(
        StatusCode::OK,
        page(&format!("Carry {} over?", from.reference), caller, body),
    )
}
