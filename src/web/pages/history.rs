//! The history page: every event in seq order, fifty to a page, with its hash.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use projections::views::{self};

use super::forms::*;
use crate::web::html::{self, page, respond};
use crate::web::{AppState, Caller};

pub(super) const PAGE: usize = 50;

pub(super) async fn history_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let prefix = param(&params, "subject").unwrap_or("").to_owned();
    let page_number: usize = param(&params, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (entries, total, late_after) = {
        let live = state.shared.read();
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
            .filter_map(|&i| Some(live.history_entry(live.world.events().get(i)?)))
            .collect();
        (entries, total, live.world.world().late_after())
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
                        td { (e.effective) (html::late(e.late_days, false, late_after)) }
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
