//! The plan page (filtered by lead and status, at any date or moment) and the plan
//! as CSV (`csv_cell` neutralises formulas so a download never runs in Excel).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::html;
use projections::read::TimeQuery;
use projections::views::{self, PlanView};
use projections::Rag;

use super::forms::*;
use crate::web::html::{self, or_none, page, respond, tag, text_tag};
use crate::web::read::*;
use crate::web::{chart, AppState, Caller, Need};

pub(super) fn filtered_actions<'a>(
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

pub(super) async fn plan_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    let (query, view) = match requested_plan_view(&state, &id, &params).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let picture = plan_months(&state, &id, query).await;
    let (months, quiet_after) = (&picture.0, picture.1);
    let actions = filtered_actions(&view, &params);
    let late_after = state.shared.read().world.world().late_after();
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
                @if let Some(d) = query.as_of { "as it stood on " (html::day_of(d)) " " }
                @if let Some(t) = query.known_at { "as recorded at " (html::moment_of(t)) }
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
        (chart::rag_chart(months, Some(&format!("/plans/{id}")), quiet_after))
        @if query.known_at.is_some() {
            p class="hint" { "The month-by-month picture is drawn for the plan as it stood on a date, as now known; it is not drawn for a page \u{201c}as recorded at\u{201d} a moment." }
        }
        @for priority in &view.priorities {
            @let in_priority: Vec<_> = actions.iter().filter(|a| a.priority == priority.key).collect();
            @if !in_priority.is_empty() {
                h2 class="heading-m" { (html::priority_heading(&priority.key, &priority.title)) }
                @if !priority.description.is_empty() { p class="hint" { (html::multiline(&priority.description)) } }
                div class="table-scroll" role="region" aria-label=(html::priority_heading(&priority.key, &priority.title)) tabindex="0" { table class="stack" {
                    thead { tr { th scope="col" { "Ref" } th scope="col" { "Action" } th scope="col" { "Leads" } th scope="col" { "Timescale" } th scope="col" { "Status" } th scope="col" { "Last update" } } }
                    tbody {
                        @for a in in_priority {
                            tr {
                                td data-label="Ref" { a href={ "/plans/" (id) "/actions/" (a.reference) } { (a.reference) } }
                                td data-label="Action" { (a.title) }
                                td data-label="Leads" { (or_none(&a.leads.join("; "))) }
                                td data-label="Timescale" { (or_none(&a.due)) @if a.overdue { " " (text_tag("overdue", "Overdue")) } }
                                td data-label="Status" { (tag(a.status))
                                    @if let Some(to) = &a.carried_to {
                                        @if let Some((plan, reference)) = to.split_once('/') {
                                            br; span class="hint-inline" { "to " a href={ "/plans/" (plan) "/actions/" (reference) } { (to) } }
                                        }
                                    } }
                                td data-label="Last update" { (html::day(&a.last_update.effective)) " by " (a.last_update.actor) (html::late(a.last_update.late_days, a.last_update.recorded_at_import, late_after)) }
                            }
                        }
                    }
                } }
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

pub(super) async fn plan_csv(
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
pub(super) fn other_columns(a: &views::ActionView) -> String {
    a.extras
        .iter()
        .map(|e| format!("{}: {}", e.header, e.text))
        .collect::<Vec<_>>()
        .join("\n")
}
