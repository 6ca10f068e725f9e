//! Verification and the proofs an auditor takes away: run `verify`, sign and
//! co-sign checkpoints, download an export bundle, and evidence files by hash.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;

use super::forms::*;
use crate::app::access;
use crate::web::accounts::Role;
use crate::web::assurance::{in_words, Checked};
use crate::web::html::{self, csrf, page, respond, summary_row, text_tag};
use crate::web::read::*;
use crate::web::{AppState, Caller, Need};

pub(super) async fn verify_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let verified = state
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (root, size) = {
        let ledger = state.shared.ledger();
        (ledger::hex::hex(&ledger.root()), ledger.size())
    };
    let points = checkpoints_apart(&state);
    let checked = verified.as_ref().map(|(_, report)| Checked::from(report));
    let failed = checked.as_ref().is_some_and(|c| !c.ok);
    let statement = in_words(checked.as_ref(), size, &points);
    // The latest checkpoint is shown apart when it is not the co-signed one.
    let ledger_only = points
        .latest
        .as_ref()
        .filter(|latest| Some(*latest) != points.cosigned.as_ref());
    let body = html! {
        (done_notice(&params))
        h1 class="heading-l" { "Verification" }
        div class=(if failed { "warning" } else { "notice" }) {
            h2 class="heading-m" { "What was checked" }
            @for sentence in &statement { p { (sentence) } }
        }
        form method="post" action="/verify" {
            (csrf(&caller))
            button class="button" type="submit" { "Check the ledger now" }
        }
        h2 class="heading-m" { "Co-signed by the chair" }
        @match &points.cosigned {
            Some(c) => {
                p { (c.cosigners.join(" and ")) " co-signed the record"
                    @if let Some(t) = c.as_it_stood { " as it stood on " (html::moment_of(t)) }
                    ": its first " (html::number(c.size)) " changes."
                    @if let Some(t) = c.cosigned_at { " The co-signature (C2SP cosignature/v1) says it was made " (html::moment_of(t.saturating_mul(1_000_000))) "." } }
                details { summary { "The co-signed checkpoint" } pre { code { (c.note) } } }
            }
            None => { p { "No checkpoint has been co-signed yet. The chair co-signs below, with a key that never leaves their computer." } }
        }
        @if let Some(c) = ledger_only {
            h2 class="heading-m" { "Latest checkpoint (the ledger's own signature)" }
            p { "Signed by the service's own key, covering " (html::number(c.size)) " changes"
                @if let Some(t) = c.as_it_stood { " (the record as it stood on " (html::moment_of(t)) ")" }
                ". It shows what this service recorded; only a co-signature shows that someone else saw the same." }
            details { summary { "The checkpoint" } pre { code { (c.note) } } }
        }
        @if Need::Manage.allows(caller.role()) {
            form method="post" action="/checkpoint" {
                (csrf(&caller))
                button class="button button-secondary" type="submit" { "Sign a checkpoint of the current tree" }
            }
        }
        @if caller.role() == Some(Role::Chair) && points.latest.is_some() {
            h2 class="heading-m" { "Co-sign the checkpoint" }
            form method="post" action="/checkpoint/cosign" {
                (csrf(&caller))
                div class="form-group" {
                    label for="note" { "The checkpoint with your co-signature" }
                    span class="hint" id="note-hint" {
                        "Save the latest checkpoint above to a file, run "
                        code { "assure checkpoint cosign FILE --key YOUR.key --offline" }
                        " on your own computer, and paste what it prints. Your key never leaves your computer; the signature is checked against the verifier key registered for you."
                    }
                    textarea id="note" name="note" rows="8" aria-describedby="note-hint" spellcheck="false" {}
                }
                button class="button button-secondary" type="submit" { "Add my co-signature" }
            }
        }
        h2 class="heading-m" { "For auditors: the cryptographic detail" }
        dl class="summary" {
            (summary_row("Tree size (events)", html! { (size) }))
            (summary_row("Merkle root (RFC 9162)", html! { code class="hash" { (root) } }))
            (summary_row("Last check", match &verified {
                Some((at, report)) if report.ok => html! { (text_tag("ok", "Verified")) " " (report.size) " events and " (report.blobs) " evidence files, " (html::moment(at)) "; head " code class="hash" { (report.head) } },
                Some((at, report)) => html! { (text_tag("bad", "Failed")) " " (html::moment(at)) ": " (report.problem.clone().unwrap_or_default())
                    @if let Some(seq) = report.first_bad_seq { " (first bad event " (seq) ")" } },
                None => html! { "not run since the service started" },
            }))
        }
        p { "Checkpoints are C2SP signed notes; the log is also published as C2SP tlog-tiles under " a href="/log/checkpoint" { "/log/" } ", for standard transparency-log clients." }
        h2 class="heading-m" { "Export for auditors" }
        p { a href="/export" download { "Download an export bundle (tar)" } " — verify it anywhere with "
            code { "assure verify --bundle DIR --trust KEY" } " or the steps in its README.txt." }
    };
    respond(StatusCode::OK, page("Verification", &caller, body))
}

pub(super) async fn run_verify(State(state): State<AppState>) -> Response {
    verify_now(&state).await;
    Redirect::to("/verify?done=verified").into_response()
}

pub(super) async fn sign_checkpoint(State(state): State<AppState>) -> Response {
    let shared = state.shared.clone();
    let data = state.data.clone();
    let signed = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let key = crate::app::keys::ledger_key(&data, None)?;
        let mut ledger = shared.ledger();
        ledger.make_checkpoint(&key)?;
        drop(ledger);
        // Its witnesses are asked, the ledger locked only to build each request and
        // to keep each cosignature; one that does not co-sign is said on the page.
        let asked = crate::app::witnessing::ask_all(&data, &mut |step| step(&mut shared.ledger()))?;
        for answer in asked.iter().filter(|a| a.outcome.is_err()) {
            eprintln!("assure serve: {answer}");
        }
        let summary = crate::web::assurance::checkpoint_summary(&shared.ledger());
        shared
            .live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .checkpoint = summary;
        Ok(asked.iter().filter(|a| a.outcome.is_err()).count())
    })
    .await;
    match signed {
        Ok(Ok(0)) => Redirect::to("/verify?done=checkpoint").into_response(),
        Ok(Ok(_)) => Redirect::to("/verify?done=checkpoint-unwitnessed").into_response(),
        Ok(Err(e)) => html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "No checkpoint was signed",
            &format!("{e:#}"),
        ),
        Err(_) => html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No checkpoint was signed",
            "The signing stopped unexpectedly.",
        ),
    }
}

#[derive(Deserialize)]
pub(super) struct CosignForm {
    #[serde(default)]
    note: String,
}

/// The chair's offline co-signature, checked against the chair's registered
/// verifier key, is added to the checkpoint the ledger holds.
pub(super) async fn cosign_checkpoint(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<CosignForm>,
) -> Response {
    let refused = |why: &str| {
        html::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The co-signature was not added",
            why,
        )
    };
    let accounts = state.accounts();
    let Some(vkey) = accounts.find(caller.name()).and_then(|a| a.vkey.clone()) else {
        return refused(&format!(
            "No verifier key is registered for {}. Register it with `assure user vkey {} VKEY` (print it with `assure key show --key YOUR.key`).",
            caller.name(),
            caller.name()
        ));
    };
    let Ok(vkey) = ledger::note::VerifierKey::parse(&vkey) else {
        return refused("The verifier key registered for you is not valid; register it again.");
    };
    // Browsers send a text area's lines with CR LF; a signed note has LF only.
    let note = crate::app::keys::normalise_note(form.note.trim().as_bytes());
    let shared = state.shared.clone();
    let added = tokio::task::spawn_blocking(move || {
        let mut ledger = shared.ledger();
        let added = ledger.attach_cosignature(&note, &vkey);
        let summary = crate::web::assurance::checkpoint_summary(&ledger);
        drop(ledger);
        shared
            .live
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .checkpoint = summary;
        added
    })
    .await;
    match added {
        Ok(Ok(_)) => Redirect::to("/verify?done=cosigned").into_response(),
        Ok(Err(ledger::Error::Rejected(why))) => refused(&why),
        Ok(Err(e)) => {
            eprintln!("assure serve: storing a co-signature failed: {e}");
            html::error_page(StatusCode::SERVICE_UNAVAILABLE, "The co-signature was not added", "The ledger could not store it; try again, and tell the administrator if it happens again.")
        }
        Err(_) => html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The co-signature was not added",
            "The service stopped unexpectedly while adding it.",
        ),
    }
}

pub(super) async fn export_bundle(State(state): State<AppState>) -> Response {
    match crate::web::read::export_tar(&state).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "application/x-tar".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"assure-export.tar\"".to_owned(),
                ),
            ],
            body,
        )
            .into_response(),
        Err((status, why)) => html::error_page(status, "The export could not be made", &why),
    }
}

/// Evidence by hash only; a partner lead only what is attached to something it can read.
pub(super) async fn evidence(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> Response {
    let Some(parsed) = ledger::hex::parse_hash(&hash).filter(|_| hash.len() == 64) else {
        return html::not_found();
    };
    let (allowed, name) = {
        let live = state.shared.read();
        let world = live.world.world();
        let agency = caller.partner_agency();
        (
            access::may_see_evidence(world, agency, &parsed),
            access::evidence_name(world, agency, &parsed),
        )
    };
    if !allowed {
        return html::not_found();
    }
    let name = name.unwrap_or_else(|| format!("evidence-{hash}"));
    // Evidence files are immutable and named by hash: read without the ledger's lock.
    let bytes = state.shared.blobs.get(&parsed);
    match bytes {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (header::CONTENT_DISPOSITION, html::attachment(&name)),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => html::not_found(),
    }
}
