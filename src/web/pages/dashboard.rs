//! The dashboard: every plan with its counts by status, the open and overdue
//! challenges, and the ledger's size and latest checkpoint.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use projections::views::{challenge_log, plan_view, ChallengeFilter, PlanView};
use projections::world::ChallengeStatus;
use projections::Rag;

use super::forms::*;
use crate::dates::today;
use crate::web::html::{self, error_summary, page, respond, summary_row, tag, text_tag};
use crate::web::{AppState, Caller, Need};

pub(super) async fn dashboard(
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
            agency: caller.partner_agency().map(str::to_owned),
            ..ChallengeFilter::default()
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
            (error_summary(&["The ledger stopped taking changes after a storage failure, to keep what it holds whole. Pages still show everything recorded; an administrator must restart the service (its error output says what failed).".to_owned()]))
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
                    p { (html::count_of(plan.actions.iter().filter(|a| a.overdue).count(), "overdue action", "overdue actions")) }
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
