//! What every page with a form shares: reading query parameters, the confirmation
//! after a change (post/redirect/get), and the error pages of a refused change.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use projections::planned::check_id;

use crate::web::html::{self};
use crate::web::state::WriteError;

pub(super) type Params = Query<HashMap<String, String>>;

pub(in crate::web) fn param<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Option<&'a str> {
    params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Ids in a path are checked before anything else looks at them.
pub(in crate::web) fn valid_id(what: &str, id: &str) -> bool {
    check_id(what, id).is_ok()
}

pub(in crate::web) fn bad_request(detail: &str) -> Response {
    html::error_page(StatusCode::BAD_REQUEST, "There is a problem", detail)
}

/// The confirmation after a change: fixed messages only, never text from the URL.
pub(in crate::web) fn done_notice(params: &HashMap<String, String>) -> Markup {
    let message = match param(params, "done") {
        Some("status") => "The status change is recorded.",
        Some("progress") => "The progress note is recorded.",
        Some("carried") => "The action is carried over.",
        Some("raised") => "The challenge is raised.",
        Some("responded") => "The response is recorded.",
        Some("escalated") => "The escalation is recorded.",
        Some("closed") => "The challenge is closed.",
        Some("due") => "The response due date is set.",
        Some("agency") => "The agency is registered.",
        Some("imported") => "The plan is imported.",
        Some("checkpoint") => "A new checkpoint is signed.",
        Some("verified") => "Verification has run.",
        Some("cosigned") => "Your co-signature is added to the checkpoint.",
        _ => return html! {},
    };
    let event = param(params, "event").and_then(|e| e.parse::<u64>().ok());
    html! {
        div class="notice" role="status" {
            p { (message) @if let Some(seq) = event { " Ledger event " (seq) "." } }
        }
    }
}

pub(in crate::web) fn too_large_upload() -> Response {
    html::error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The upload could not be read",
        "The file is larger than the 25 MiB limit, or the upload was cut short. Attach a smaller file and try again.",
    )
}

pub(in crate::web) fn redirect_done(path: &str, done: &str, event: Option<u64>) -> Response {
    let event = event.map(|e| format!("&event={e}")).unwrap_or_default();
    Redirect::to(&format!("{path}?done={done}{event}")).into_response()
}

pub(in crate::web) fn write_error_page(e: &WriteError) -> Response {
    match e {
        WriteError::Rejected(why) => html::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This change was not recorded",
            why,
        ),
        WriteError::Storage(_) | WriteError::Stopped => html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "This change was not recorded",
            &e.to_string(),
        ),
    }
}
