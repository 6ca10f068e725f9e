//! The dashboard: what needs attention (overdue actions, challenges past their due
//! date with no response — a partner lead sees only its agency's), every plan with
//! its counts by status, the open and overdue challenges, and for auditors the
//! ledger's state in words with the co-signed checkpoint apart from the latest.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use projections::events::ActionRef;
use projections::views::{
    challenge_log, plan_view, ActionView, ChallengeFilter, ChallengeView, PlanView,
};
use projections::world::ChallengeStatus;
use projections::Rag;

use super::forms::*;
use crate::app::access;
use crate::dates::today;
use crate::web::assurance::{in_words, Checked, Checkpoints};
use crate::web::html::{self, error_summary, page, respond, summary_row, tag, text_tag};
use crate::web::read::checkpoints_apart;
use crate::web::{AppState, Caller, Need};

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let today = today();
    let (plans, challenges, size, late_actions) = {
        let live = state.shared.read();
        let world = live.world.world();
        let plans: Vec<PlanView> = world.plans.values().map(|p| plan_view(p, today)).collect();
        let filter = ChallengeFilter {
            agency: caller.partner_agency().map(str::to_owned),
            ..ChallengeFilter::default()
        };
        // Overdue actions: a partner lead's are those its agency leads.
        let late_actions: Vec<(String, String, ActionView)> = plans
            .iter()
            .flat_map(|plan| {
                plan.actions
                    .iter()
                    .filter(|a| a.overdue)
                    .map(|a| (plan.plan.id.clone(), plan.plan.title.clone(), a.clone()))
            })
            .filter(|(plan, _, a)| {
                caller.partner_agency().is_none_or(|agency| {
                    let at = ActionRef {
                        plan: plan.clone(),
                        reference: a.reference.clone(),
                    };
                    access::leads_action(world, &at, agency)
                })
            })
            .collect();
        (
            plans,
            challenge_log(world, &filter, today),
            live.size(),
            late_actions,
        )
    };
    let late_challenges: Vec<&ChallengeView> = challenges.iter().filter(|c| c.overdue).collect();
    let stopped = state.shared.read().stopped;
    let verified = state
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let audit = Need::Audit.allows(caller.role());
    let points = if audit {
        checkpoints_apart(&state)
    } else {
        Checkpoints::default()
    };
    let checked = verified.as_ref().map(|(_, report)| Checked::from(report));
    let statement = in_words(checked.as_ref(), size, &points);
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
        (needs_attention(&late_actions, &late_challenges, caller.partner_agency()))
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
        @if audit {
            h2 class="heading-m" { "Ledger" }
            @for sentence in &statement { p { (sentence) } }
            dl class="summary" {
                (summary_row("Changes recorded", html! { (html::number(size)) }))
                (summary_row("Co-signed", match &points.cosigned {
                    Some(c) => html! { (html::number(c.size)) " changes, by " (c.cosigners.join(" and ")) },
                    None => html! { "not yet — the chair co-signs on the " a href="/verify" { "verification page" } },
                }))
                (summary_row("Latest checkpoint", match &points.latest {
                    Some(c) if c.cosigners.is_empty() => html! { (html::number(c.size)) " changes, signed by the ledger only" },
                    Some(c) => html! { (html::number(c.size)) " changes, co-signed" },
                    None => html! { "none yet" },
                }))
                (summary_row("Verification", match &verified {
                    Some((at, report)) if report.ok => html! { (text_tag("ok", "Verified")) " " (html::number(report.size)) " changes, " (html::moment(at)) },
                    Some((at, report)) => html! { (text_tag("bad", "Failed")) " " (html::moment(at)) ": " (report.problem.clone().unwrap_or_default()) },
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

/// Most entries of each kind the dashboard lists; the rest are a link away.
const ATTENTION_MAX: usize = 10;

/// What needs attention: overdue actions and challenges past due with no response.
fn needs_attention(
    actions: &[(String, String, ActionView)],
    challenges: &[&ChallengeView],
    agency: Option<&str>,
) -> maud::Markup {
    let whose = agency.map(|a| format!(" ({a})")).unwrap_or_default();
    html! {
        section aria-labelledby="attention" {
            h2 class="heading-m" id="attention" { "Needs attention" (whose) }
            @if actions.is_empty() && challenges.is_empty() {
                p { "Nothing is overdue: no action is past its timescale and every challenge due a response has one." }
            }
            @if !actions.is_empty() {
                div class="table-scroll" role="region" aria-label="Overdue actions" tabindex="0" {
                    table class="stack" {
                        caption class="heading-s" { (html::count_of(actions.len(), "overdue action", "overdue actions")) }
                        thead { tr { th scope="col" { "Action" } th scope="col" { "Plan" } th scope="col" { "Lead" } th scope="col" { "Timescale" } th scope="col" { "Status" } } }
                        tbody {
                            @for (plan, title, a) in actions.iter().take(ATTENTION_MAX) {
                                tr {
                                    td data-label="Action" { a href={ "/plans/" (plan) "/actions/" (a.reference) } { (a.reference) " " (a.title) } }
                                    td data-label="Plan" { (title) }
                                    td data-label="Lead" { (a.leads.join("; ")) }
                                    td data-label="Timescale" { (a.due) }
                                    td data-label="Status" { (tag(a.status)) }
                                }
                            }
                        }
                    }
                }
                @if actions.len() > ATTENTION_MAX { p { "And " (actions.len() - ATTENTION_MAX) " more: each plan's page marks its overdue actions." } }
            }
            @if !challenges.is_empty() {
                div class="table-scroll" role="region" aria-label="Challenges past due with no response" tabindex="0" {
                    table class="stack" {
                        caption class="heading-s" { (html::count_of(challenges.len(), "challenge past due with no response", "challenges past due with no response")) }
                        thead { tr { th scope="col" { "Challenge" } th scope="col" { "To" } th scope="col" { "Raised" } th scope="col" { "Response due" } } }
                        tbody {
                            @for c in challenges.iter().take(ATTENTION_MAX) {
                                tr {
                                    td data-label="Challenge" { a href={ "/challenges/" (c.id) } { (c.id) } " " (html::sentence(&html::first_words(&c.text, 80))) }
                                    td data-label="To" { (c.to) }
                                    td data-label="Raised" { (html::day(&c.raised_on)) }
                                    td data-label="Response due" { (c.due.as_deref().map(html::day).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
                @if challenges.len() > ATTENTION_MAX { p { a href="/challenges?overdue=1" { "All " (challenges.len()) " overdue challenges" } } }
            }
        }
    }
}
