//! The inspection report: a standalone, print-ready page of the plan, its history
//! and its challenges as they stood on a date, with a verification statement (also
//! written by `assure report`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use projections::views::{self, ChallengeView, PlanView};
use projections::{Rag, World};

use super::forms::*;
use crate::dates::today;
use crate::web::html::{self, or_none, page, respond, summary_row, tag};
use crate::web::read::*;
use crate::web::{AppState, Caller};

pub(super) async fn report_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    if !valid_id("plan id", &id) {
        return html::not_found();
    }
    let query = match time_query(&params, PAGE_TIME) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    let (Some(view), Some(world)) = (
        plan_view_at(&state, &id, query),
        report_world(&state, &id, query),
    ) else {
        return html::not_found();
    };
    let statement = {
        let ledger = state.shared.ledger();
        verification_statement(&ledger)
    };
    let late_after = state.shared.read().world.world().late_after();
    match report_markup(&view, &world, query.as_of, &statement, late_after) {
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
        root: ledger::hex::hex(&ledger.root()),
        checkpoint: ledger
            .latest_checkpoint()
            .ok()
            .flatten()
            .map(|c| c.to_string()),
    }
}

/// The inspection report: a standalone, print-ready page (also `assure report`).
/// `view` is the plan at the time asked (`projections::read::plan_at`, as every
/// front end computes it); `world` holds, for the same time, the entries of its
/// actions and the challenge log.
pub fn report_markup(
    view: &PlanView,
    world: &World,
    as_of: Option<i32>,
    statement: &Statement,
    late_after: i64,
) -> Option<Markup> {
    let id = view.plan.id.as_str();
    let plan = world.plan(id)?;
    let day = as_of.unwrap_or_else(today);
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
    // Entries an import took from the plan "as at" a later date are counted apart.
    let imported = plan
        .actions
        .values()
        .flat_map(|a| {
            a.entries
                .iter()
                .filter(|e| views::at_import(&e.stamp, &a.added))
        })
        .count();
    let stamps = plan
        .actions
        .values()
        .flat_map(|a| {
            a.entries
                .iter()
                .filter(|e| !views::at_import(&e.stamp, &a.added))
                .map(|e| &e.stamp)
        })
        .chain(
            world
                .challenges
                .values()
                .filter(|c| challenges.iter().any(|shown| shown.id == c.id))
                .flat_map(|c| c.responses.iter().chain(&c.escalations).map(|e| &e.stamp)),
        );
    let (entries, late) = stamps.fold((0, 0), |(n, late), stamp| {
        (
            n + 1,
            late + usize::from(views::is_late(views::late_days(stamp), late_after)),
        )
    });
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
                    h2 class="heading-m" { (html::priority_heading(&priority.key, &priority.title)) }
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
                                    tbody { @for e in &action.entries { tr { td { (views::date(e.stamp.effective)) (html::late(views::late_days(&e.stamp), views::at_import(&e.stamp, &action.added), late_after)) } td { strong { (e.kind) } ": " (html::multiline(&e.text)) } td { (e.stamp.actor) } td { (e.stamp.seq) } } } }
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
                    @for r in &c.responses { p { strong { "Response " (r.effective) " (" (r.actor) "): " } (html::multiline(&r.text)) (html::late(r.late_days, false, late_after)) } }
                    @for e in &c.escalations { p { strong { "Escalated " (e.effective) ": " } (html::multiline(&e.text)) } }
                    @if let Some(o) = &c.outcome { p { strong { "Outcome: " } (o) } }
                    @if let Some(i) = &c.impact { p { strong { "Impact: " } (i) } }
                }
            }
            section class="report-section" {
                h2 class="heading-m" { "Verification statement" }
                p { "Entries recorded more than " (late_after) " days after they took effect are marked \u{201c}Recorded N days later\u{201d}: "
                    (late) " of the " (entries) " entries in this report were."
                    @if imported > 0 { " Another " (imported) " were taken from the plan as it stood at a later date when it was imported, and are marked \u{201c}Recorded at import\u{201d}." } }
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
