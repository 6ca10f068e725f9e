//! The inspection report: a standalone, print-ready document of a plan as it stood
//! on a date — a one-page summary first (counts by status, the board's picture,
//! overdue actions, open challenges, what the ledger check found), then every
//! action with its history and the challenge log, then the verification statement.
//! Printed, each page carries the plan and the date in a running header and its
//! page number; an action or a challenge is kept whole on a page where it fits,
//! a priority is not (that is what left pages nearly blank). `assure report` writes
//! the same document with its styles inside it.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use projections::views::{self, ActionView, ChallengeView, PlanView};
use projections::world::ChallengeStatus;
use projections::{Rag, World};

use super::forms::*;
use crate::dates::today;
use crate::web::assurance::{self, Checked, Checkpoints};
use crate::web::chart::{self, Month};
use crate::web::html::{self, or_none, summary_row, tag, text_tag};
use crate::web::read::*;
use crate::web::AppState;

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
    let found = plan_view_at(&state, &id, query)
        .and_then(|view| Ok((view, report_world(&state, &id, query)?)));
    let (view, world) = match found {
        Ok((Some(view), Some(world))) => (view, world),
        Ok(_) => return html::not_found(),
        Err(e) => return e.page(),
    };
    let months = plan_months(&state, &id, query).await;
    let (months, quiet_after) = (&months.0, months.1);
    // The statement rests on a check of the ledger as it is now: the last one when
    // nothing was recorded since, else a new one.
    let size = state.shared.read().size();
    let last = state
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .map(|(_, report)| report);
    let checked = match last {
        Some(report) if report.ok && report.size == size => report,
        _ => verify_now(&state).await,
    };
    let statement = Statement {
        size,
        root: checked.root.clone(),
        checked: Checked::from(&checked),
        checkpoints: checkpoints_apart(&state),
    };
    let late_after = state.shared.read().world.world().late_after();
    let picture = Picture {
        months,
        quiet_after,
    };
    let Some(report) = report_markup(
        &view,
        &world,
        query.as_of,
        &statement,
        late_after,
        &picture,
        Styles::Linked,
    ) else {
        return html::not_found();
    };
    let mut response = html::respond(StatusCode::OK, report.markup);
    // The running header's words are in the page's own style, allowed by its hash.
    let policy = format!(
        "default-src 'none'; style-src 'self' '{}'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        report.style_hash
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// What the report says about the ledger it came from.
#[derive(Debug, Clone)]
pub struct Statement {
    pub size: u64,
    pub root: String,
    pub checked: Checked,
    pub checkpoints: Checkpoints,
}

/// Checks the ledger and reads its checkpoints, for `assure report`.
pub fn verification_statement(
    ledger: &ledger::Ledger,
    accounts: &crate::web::accounts::Accounts,
) -> Statement {
    let report = ledger.verify();
    Statement {
        size: ledger.size(),
        root: report.root.clone(),
        checked: Checked::from(&report),
        checkpoints: assurance::checkpoints(ledger, accounts),
    }
}

/// The board's picture for the report: the months and, when the chart stops before
/// the date shown, the day of the plan's last change.
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    pub months: &'a [Month],
    pub quiet_after: Option<i32>,
}

/// Where the report's styles come from: the service's stylesheet, or (a file
/// written by `assure report`) inside the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Styles {
    Linked,
    Inline,
}

/// The document and the CSP hash of its own style element.
#[derive(Debug)]
pub struct Report {
    pub markup: Markup,
    pub style_hash: String,
}

/// Most overdue actions the summary names; the rest are marked below.
const SUMMARY_MAX: usize = 5;

/// The inspection report. `view` is the plan at the time asked
/// (`projections::read::plan_at`, as every front end computes it); `world` holds,
/// for the same time, the entries of its actions and the challenge log.
pub fn report_markup(
    view: &PlanView,
    world: &World,
    as_of: Option<i32>,
    statement: &Statement,
    late_after: i64,
    picture: &Picture<'_>,
    styles: Styles,
) -> Option<Report> {
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
    let overdue: Vec<&ActionView> = view.actions.iter().filter(|a| a.overdue).collect();
    let open: Vec<&ChallengeView> = challenges
        .iter()
        .filter(|c| c.status != ChallengeStatus::Closed)
        .collect();
    let words = assurance::in_words(
        Some(&statement.checked),
        statement.size,
        &statement.checkpoints,
    );
    let stood = html::day_of(day);
    let style = page_style(&view.plan.title, &stood);
    let title = format!("Inspection report: {}", view.plan.title);
    let markup = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Assure" }
                @match styles {
                    Styles::Linked => link rel="stylesheet" href="/static/style.css";,
                    Styles::Inline => style { (PreEscaped(html::STYLESHEET)) },
                }
                style { (PreEscaped(&style)) }
            }
            body {
                main class="width report" id="main" {
                    section class="report-summary" aria-labelledby="summary" {
                        span class="caption" { "Inspection report · plan " (id) @if let Some(p) = &view.plan.period { " · " (p) } }
                        h1 class="heading-l" { (view.plan.title) }
                        p { "As it stood on " strong { (stood) } ". Produced " (html::moment_of(chrono::Utc::now().timestamp_micros())) " from the Assure ledger." }
                        h2 class="heading-m" id="summary" { "Summary" }
                        ul class="counts" aria-label="Actions by status" {
                            @for rag in Rag::ALL {
                                @let n = view.counts.get(rag.as_str()).copied().unwrap_or(0);
                                @if n > 0 { li { (tag(rag)) " " (n) } }
                            }
                        }
                        p {
                            (html::count_of(view.actions.len(), "action", "actions")) "; "
                            (html::count_of(overdue.len(), "overdue action", "overdue actions")) "; "
                            (html::count_of(open.len(), "open challenge", "open challenges"))
                            @let late_challenges = open.iter().filter(|c| c.overdue).count();
                            @if late_challenges > 0 { ", " (late_challenges) " past due with no response" }
                            "."
                        }
                        h3 class="heading-s" { "The record" }
                        @for sentence in &words { p { (sentence) } }
                        (chart::rag_chart(picture.months, None, picture.quiet_after))
                        @if !overdue.is_empty() {
                            h3 class="heading-s" { "Overdue actions" }
                            ul class="list" {
                                @for a in overdue.iter().take(SUMMARY_MAX) {
                                    li { strong { (a.reference) } " " (html::first_words(&a.title, 70)) @if !a.due.is_empty() { " — due " (html::first_words(&a.due, 30)) } }
                                }
                            }
                            @if overdue.len() > SUMMARY_MAX { p { "And " (overdue.len() - SUMMARY_MAX) " more, marked Overdue below." } }
                        }
                    }
                    @for priority in &view.priorities {
                        @let actions: Vec<&ActionView> = view.actions.iter().filter(|a| a.priority == priority.key).collect();
                        section class="report-priority" {
                            // The heading goes with its first action onto a page.
                            div class="report-keep" {
                                h2 class="heading-m" { (html::priority_heading(&priority.key, &priority.title)) }
                                @if !priority.description.is_empty() { p { (html::multiline(&priority.description)) } }
                                @if let Some(first) = actions.first() { (action(first, plan, late_after)) }
                            }
                            @for a in actions.iter().skip(1) { (action(a, plan, late_after)) }
                        }
                    }
                    section class="report-priority" {
                        div class="report-keep" {
                            h2 class="heading-m" { "Challenge log" }
                            @if challenges.is_empty() { p { "No challenges were recorded about this plan by this date." } }
                            @if let Some(first) = challenges.first() { (challenge(first, late_after)) }
                        }
                        @for c in challenges.iter().skip(1) { (challenge(c, late_after)) }
                    }
                    section class="report-priority" {
                        h2 class="heading-m" { "Verification statement" }
                        @for sentence in &words { p { (sentence) } }
                        p { "Entries recorded more than " (late_after) " days after they took effect are marked \u{201c}Recorded N days later\u{201d}: "
                            (late) " of the " (entries) " entries in this report were."
                            @if imported > 0 { " Another " (imported) " were taken from the plan as it stood at a later date when it was imported, and are marked \u{201c}Recorded at import\u{201d}." } }
                        p { "For auditors: the ledger held " (statement.size) " events; their RFC 9162 Merkle root is" }
                        p { code class="hash" { (statement.root) } }
                        @if let Some(c) = &statement.checkpoints.cosigned {
                            p { "The co-signed checkpoint:" }
                            pre { code { (c.note) } }
                        }
                        @if let Some(c) = statement.checkpoints.latest.as_ref().filter(|l| Some(*l) != statement.checkpoints.cosigned.as_ref()) {
                            p { "The latest checkpoint (signed by the ledger only):" }
                            pre { code { (c.note) } }
                        }
                        p { "To verify without trusting this server: ask the business manager for an export bundle (" code { "assure export" } "), then run "
                            code { "assure verify --bundle DIR --trust KEY" } " with the ledger's published verifier key, or follow the bundle's README.txt with your own tools." }
                    }
                }
            }
        }
    };
    Some(Report {
        markup,
        style_hash: style_hash(&style),
    })
}

/// One action: its heading, details and history, kept whole on a page where it fits.
fn action(a: &ActionView, plan: &projections::world::Plan, late_after: i64) -> Markup {
    html! {
        article class="report-action" {
            h3 class="heading-s" {
                (a.reference) " " (a.title) " " (tag(a.status))
                @if a.overdue { " " (text_tag("overdue", "Overdue")) }
            }
            dl class="summary" {
                (summary_row("Leads", or_none(&a.leads.join("; "))))
                (summary_row("Timescale", or_none(&a.due)))
                @if !a.impact.is_empty() { (summary_row("Impact", html::multiline(&a.impact))) }
                (summary_row("Outcome measure", or_none(&a.outcome)))
                @for extra in &a.extras { (summary_row(&extra.header, html::multiline(&extra.text))) }
                @if let Some(to) = &a.carried_to { (summary_row("Carried over to", html! { (to) })) }
                @if let Some(from) = &a.carried_from { (summary_row("Carried in from", html! { (from) })) }
            }
            @if let Some(action) = plan.action(&a.reference) {
                @if !action.entries.is_empty() {
                    table class="stack" {
                        caption class="visually-hidden" { "History of " (a.reference) }
                        thead { tr { th scope="col" { "Took effect" } th scope="col" { "What" } th scope="col" { "By" } th scope="col" { "Event" } } }
                        tbody {
                            @for e in &action.entries {
                                tr {
                                    td data-label="Took effect" { (html::day_of(e.stamp.effective)) (html::late(views::late_days(&e.stamp), views::at_import(&e.stamp, &action.added), late_after)) }
                                    td data-label="What" { (html::entry_what(e.kind, &e.text)) }
                                    td data-label="By" { (e.stamp.actor) }
                                    td data-label="Event" { (e.stamp.seq) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One challenge and its thread, kept whole on a page where it fits.
fn challenge(c: &ChallengeView, late_after: i64) -> Markup {
    html! {
        article class="report-challenge" {
            h3 class="heading-s" {
                (c.id) " to " (c.to) " " (super::challenges::challenge_status_tag(c))
            }
            p class="secondary" {
                "Raised " (html::day(&c.raised_on)) " by " (c.raised_by)
                @if let Some(due) = &c.due { "; response due " (html::day(due)) }
                @if let Some(closed) = &c.closed_on { "; closed " (html::day(closed)) }
            }
            p { (html::multiline(&c.text)) }
            @for r in &c.responses {
                p { strong { "Response, " (html::day(&r.effective)) " (" (r.actor) "): " } (html::multiline(&r.text)) (html::late(r.late_days, false, late_after)) }
            }
            @for e in &c.escalations {
                p { strong { (html::sentence(e.kind)) ", " (html::day(&e.effective)) " (" (e.actor) "): " } (html::multiline(&e.text)) (html::late(e.late_days, false, late_after)) }
            }
            @if let Some(o) = &c.outcome { p { strong { "Outcome: " } (o) } }
            @if let Some(i) = &c.impact { p { strong { "Impact: " } (i) } }
        }
    }
}

/// The printed page's running header: the plan and the date, in the page margin.
/// The words go into CSS strings, every character outside a safe few escaped, so
/// nothing a title holds can end the style element or the string.
fn page_style(title: &str, stood: &str) -> String {
    format!(
        "@page {{ @top-left {{ content: \"{}\"; }} @top-right {{ content: \"As it stood on {}\"; }} }}",
        css_string(title),
        css_string(stood)
    )
}

fn css_string(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ,.-()'".contains(c) {
                c.to_string()
            } else {
                format!("\\{:x} ", u32::from(c))
            }
        })
        .collect()
}

/// The CSP source that allows exactly `style`: `sha256-` and its base64 digest.
fn style_hash(style: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(style.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_cannot_leave_the_running_headers_string_or_style() {
        let style = page_style(
            "Plan \"x\"; } </style><script>alert(1)</script> \\ é",
            "3 March 2025",
        );
        // The four quotes and two braces of each margin box are the style's own.
        assert_eq!(style.matches('"').count(), 4, "{style}");
        assert_eq!(style.matches('}').count(), 3, "{style}");
        assert!(!style.contains('<') && !style.contains('>'), "{style}");
        assert!(
            style.contains("Plan \\22 x\\22 \\3b  \\7d  \\3c \\2f style"),
            "{style}"
        );
        assert!(style.contains("\\e9 "), "{style}");
        assert!(style.contains("As it stood on 3 March 2025"));
        assert!(style_hash(&style).starts_with("sha256-"));
    }
}
