//! The history page: every event, newest first, fifty to a page, with the start of
//! its hash; pages are found by seq (`before=`), so a page stays put as events arrive.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use projections::views::{self};

use super::forms::*;
use crate::web::html::{self, page, respond};
use crate::web::read::Unreadable;
use crate::web::{AppState, Caller};

pub(super) async fn history_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let prefix = param(&params, "subject").unwrap_or("").to_owned();
    let before = match param(&params, "before").map(str::parse::<u64>) {
        None => None,
        Some(Ok(seq)) => Some(seq),
        Some(Err(_)) => return bad_request("before= should be a seq number"),
    };
    let (entries, total, shown_from, newer, older, late_after) = {
        let live = state.shared.read();
        let matching = match live.seqs_with_prefix(&prefix) {
            Ok(seqs) => seqs,
            Err(e) => return Unreadable::logged(e).page(),
        };
        let total = matching.len();
        // Newest first: this page is the PAGE entries before the cursor.
        let end = before.map_or(total, |b| matching.partition_point(|&s| s < b));
        let start = end.saturating_sub(PAGE);
        let entries: Vec<views::HistoryEntry> = match live.events(&matching[start..end]) {
            Ok(events) => events.iter().rev().map(|r| live.history_entry(r)).collect(),
            Err(e) => return Unreadable::logged(e).page(),
        };
        // The newer page ends PAGE entries after this one (none: the newest page).
        let newer = (end < total).then(|| matching.get(end + PAGE).copied());
        let older = (start > 0).then(|| matching[start]);
        (
            entries,
            total,
            total - end,
            newer,
            older,
            live.world.world().late_after(),
        )
    };
    let link = |before: Option<u64>| {
        let mut link = format!("/history?subject={}", html::url_encode(&prefix));
        if let Some(b) = before {
            link.push_str(&format!("&before={b}"));
        }
        link
    };
    let body = html! {
        h1 class="heading-l" { "History" }
        p { "Every event in the ledger, newest first, with its sequence number and the start of its hash (the whole hash is kept for copying). " (html::count_of(total, "event matches", "events match")) "." }
        form method="get" action="/history" class="filters" {
            div class="form-group" {
                label for="subject" { "Subject starts with" }
                span class="hint" id="subject-hint" { "For example plan/mcr-jtai-2023 or challenge/C-0001" }
                input type="text" id="subject" name="subject" value=(prefix) aria-describedby="subject-hint" spellcheck="false";
            }
            button class="button button-secondary" type="submit" { "Filter" }
        }
        div class="table-scroll" role="region" aria-label="Events" tabindex="0" { table class="stack" {
            thead { tr { th scope="col" { "Seq" } th scope="col" { "Took effect" } th scope="col" { "Recorded" } th scope="col" { "Actor" } th scope="col" { "Subject" } th scope="col" { "What" } th scope="col" { "Hash" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td data-label="Seq" { (e.seq) }
                        td data-label="Took effect" { (html::day(&e.effective)) (html::late(e.late_days, false, late_after)) }
                        td data-label="Recorded" { (html::moment(&e.recorded_at)) }
                        td data-label="Actor" { (e.actor) }
                        td data-label="Subject" { (e.subject) }
                        td data-label="What" { (html::sentence(&e.summary)) }
                        td data-label="Hash" { (html::short_hash(&e.hash)) }
                    }
                }
            }
        } }
        nav class="pagination-nav" aria-label="Pages" {
            @if !entries.is_empty() {
                p class="hint" { "Showing " (html::number(shown_from as u64 + 1)) " to " (html::number((shown_from + entries.len()) as u64)) " of " (html::number(total as u64)) ", newest first" }
            }
            ul class="pagination" {
                @if let Some(cursor) = newer { li { a href=(link(cursor)) rel="prev" { "Newer events" } } }
                @if let Some(cursor) = older { li { a href=(link(Some(cursor))) rel="next" { "Older events" } } }
            }
        }
    };
    respond(StatusCode::OK, page("History", &caller, body))
}

/// Events on a page of the history.
pub(super) const PAGE: usize = 50;
