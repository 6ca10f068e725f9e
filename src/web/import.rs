//! The import pages: upload a plan file, see exactly what would be recorded (the
//! same preview as `assure import --dry-run`: columns, notes, warnings, priorities,
//! every action in full), and record it only when the user confirms.
//!
//! Nothing here reads a file itself (`crate::import` does) and nothing is recorded
//! by the preview. A preview waits on the server for its confirmation, bound to the
//! user who made it and for 30 minutes at most; confirming reads the file again
//! against the ledger as it is then, and records only if that gives the very
//! preview the user saw (the same digest), so a plan that changed in between is
//! shown again rather than recorded unseen.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Multipart, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use maud::{html, Markup};
use serde::Deserialize;

use super::html::{self, csrf, page, respond};
use super::{AppState, Caller, Need, Routes};
use crate::app::import::{read_import, resolve_leads, ImportRequest};
use crate::import::{plan_events, preview, ImportedPlan, Recording};

/// How long a preview waits for its confirmation.
const PENDING_FOR: Duration = Duration::from_secs(30 * 60);
/// How many previews wait at once, per user and in all; the oldest goes first.
const PENDING_PER_USER: usize = 8;
const PENDING_IN_ALL: usize = 64;

pub(super) fn register(routes: Routes) -> Routes {
    routes
        .add(Method::GET, "/import", Need::Manage, form_page)
        .add(Method::POST, "/import", Need::Manage, preview_page)
        .add(Method::POST, "/import/confirm", Need::Manage, confirm)
}

/// What the user asked for, kept to read the file again on confirmation.
#[derive(Debug, Clone, Default)]
pub(super) struct Request {
    pub plan: String,
    pub title: String,
    pub period: String,
    pub effective: String,
    pub as_at: String,
    pub sheet: String,
    /// `HEADER=FIELD` choices, one per line.
    pub maps: String,
    /// `COLOUR=STATUS` meanings, one per line.
    pub legends: String,
    pub file_name: String,
}

/// A preview waiting for its confirmation.
#[derive(Debug)]
struct Pending {
    user: String,
    made: Instant,
    request: Request,
    bytes: Vec<u8>,
    /// BLAKE3 of the preview JSON the user was shown.
    digest: [u8; 32],
}

/// The previews waiting for confirmation, by token.
#[derive(Debug, Default)]
pub struct PendingImports(Mutex<HashMap<String, Pending>>);

impl PendingImports {
    /// Keeps `pending` and returns its token; `None` when the system gives no
    /// randomness, since a guessable token must never confirm an import.
    fn put(&self, pending: Pending) -> Option<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).ok()?;
        let token = ledger::hex::hex(&bytes);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, p| p.made.elapsed() < PENDING_FOR);
        let user = pending.user.clone();
        while map.values().filter(|p| p.user == user).count() >= PENDING_PER_USER
            || map.len() >= PENDING_IN_ALL
        {
            let oldest = map
                .iter()
                .filter(|(_, p)| map.len() >= PENDING_IN_ALL || p.user == user)
                .min_by_key(|(_, p)| p.made)
                .map(|(t, _)| t.clone());
            match oldest {
                Some(token) => map.remove(&token),
                None => break,
            };
        }
        map.insert(token.clone(), pending);
        Some(token)
    }

    fn take(&self, token: &str, user: &str) -> Result<Pending, &'static str> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(token) {
            None => Err("This preview is no longer waiting: it was confirmed, replaced by newer ones, or the service restarted. Upload the file again."),
            Some(p) if p.user != user => Err("This preview was made by another user; only they can confirm it."),
            Some(p) if p.made.elapsed() >= PENDING_FOR => {
                map.remove(token);
                Err("This preview waited more than 30 minutes. Upload the file again to see it as the ledger is now.")
            }
            Some(_) => map.remove(token).ok_or("This preview is no longer waiting."),
        }
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The plan read from the file and the events it would record, or what is wrong.
pub(super) struct Read {
    pub imported: ImportedPlan,
    pub recording: Recording,
    events: usize,
    /// The preview, as `assure import --dry-run --json` prints it.
    pub json: serde_json::Value,
    digest: [u8; 32],
}

/// Reads the file as `request` says and builds the events it would record against
/// the world as it is now; shared by the pages and the API.
pub(super) fn read(state: &AppState, request: &Request, bytes: &[u8]) -> Result<Read, String> {
    let given = |text: &str| Some(text.to_owned()).filter(|t| !t.trim().is_empty());
    let import = ImportRequest {
        plan: request.plan.clone(),
        file_name: request.file_name.clone(),
        shown_as: request.file_name.clone(),
        title: given(&request.title),
        period: given(&request.period),
        effective: given(&request.effective),
        as_at: given(&request.as_at),
        sheet: given(&request.sheet),
        maps: lines(&request.maps),
        legends: lines(&request.legends),
        fallback_title: request.plan.clone(),
        date_names: ["plan starts", "statuses as at"],
    };
    let (mut imported, recording) = read_import(&import, bytes).map_err(|e| e.to_string())?;
    let events = {
        let live = state.shared.read();
        resolve_leads(live.world.world(), &mut imported);
        plan_events(live.world.world(), &imported, &recording).map_err(|e| e.0)?
    }
    .len();
    let json = preview::to_json(&imported, &recording, events, true);
    let digest = *blake3::hash(json.to_string().as_bytes()).as_bytes();
    Ok(Read {
        imported,
        recording,
        events,
        json,
        digest,
    })
}

async fn form_page(Extension(caller): Extension<Caller>) -> Response {
    respond(
        StatusCode::OK,
        page(
            "Import a plan",
            &caller,
            form(&caller, &Request::default(), None),
        ),
    )
}

/// The upload form, keeping what the user entered, with an error above it.
fn form(caller: &Caller, request: &Request, error: Option<&str>) -> Markup {
    let field = |id: &str, label: &str, hint: &str, value: &str, kind: &str| {
        html! {
            div class="form-group" {
                label for=(id) { (label) }
                @if !hint.is_empty() { span class="hint" id={ (id) "-hint" } { (hint) } }
                input type=(kind) id=(id) name=(id) value=(value) aria-describedby={ (id) "-hint" } spellcheck="false";
            }
        }
    };
    html! {
        h1 class="heading-l" { "Import a plan" }
        @if let Some(error) = error {
            div class="error-summary" role="alert" { h2 { "The file was not imported" } p { (error) } }
        }
        p { "Word (.docx), Excel (.xlsx, .xlsm), OpenDocument (.ods) or CSV/TSV text. You see what would be recorded before anything is." }
        form method="post" action={ "/import?csrf=" (html::url_encode(&caller.csrf)) } enctype="multipart/form-data" {
            div class="form-group" {
                label for="file" { "The plan's file" }
                input type="file" id="file" name="file" accept=".docx,.xlsx,.xlsm,.ods,.csv,.tsv,.txt";
            }
            (field("plan", "Plan id", "Letters, digits, '.', '_' and '-', for example mcr-jtai-2025", &request.plan, "text"))
            (field("title", "Title (for a new plan)", "Leave empty to use the first line above the file's header row", &request.title, "text"))
            (field("period", "Period", "For example 2024-25; it also reads two-digit years such as \"Oct 09\"", &request.period, "text"))
            (field("effective", "The plan starts", "The plan and its actions exist from this date", &request.effective, "date"))
            (field("as_at", "Statuses and progress as at", "The date the file's statuses describe (default: the start)", &request.as_at, "date"))
            (field("sheet", "Sheet (workbooks)", "Leave empty for the first visible sheet", &request.sheet, "text"))
            div class="form-group" {
                label for="maps" { "Column choices (optional)" }
                span class="hint" id="maps-hint" { "One per line, HEADER=FIELD: ref, priority, action, impact, outcome, lead, due, status, progress, cross_refs, keep or ignore" }
                textarea id="maps" name="maps" rows="2" aria-describedby="maps-hint" { (request.maps) }
            }
            div class="form-group" {
                label for="legends" { "Colour and word meanings (optional)" }
                span class="hint" id="legends-hint" { "One per line, COLOUR=STATUS, for example Blue=carried-over or #92D050=green" }
                textarea id="legends" name="legends" rows="2" aria-describedby="legends-hint" { (request.legends) }
            }
            button class="button" type="submit" { "Preview" }
        }
    }
}

async fn preview_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    mut multipart: Multipart,
) -> Response {
    let mut request = Request::default();
    let mut bytes = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let Ok(body) = field.bytes().await else {
                    return upload_error(&caller, &request);
                };
                let text = || String::from_utf8_lossy(&body).into_owned();
                match name.as_str() {
                    "file" => {
                        request.file_name = file_name.unwrap_or_else(|| "plan".into());
                        bytes = body.to_vec();
                    }
                    "plan" => request.plan = text().trim().to_owned(),
                    "title" => request.title = text(),
                    "period" => request.period = text(),
                    "effective" => request.effective = text(),
                    "as_at" => request.as_at = text(),
                    "sheet" => request.sheet = text(),
                    "maps" => request.maps = text(),
                    "legends" => request.legends = text(),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return upload_error(&caller, &request),
        }
    }
    if bytes.is_empty() {
        let markup = form(&caller, &request, Some("Choose the plan's file to import."));
        return respond(
            StatusCode::BAD_REQUEST,
            page("Import a plan", &caller, markup),
        );
    }
    show(&state, &caller, request, bytes, None)
}

/// Reads the file and shows its preview with a confirmation waiting, or the form
/// with what is wrong.
fn show(
    state: &AppState,
    caller: &Caller,
    request: Request,
    bytes: Vec<u8>,
    notice: Option<&str>,
) -> Response {
    let read = match read(state, &request, &bytes) {
        Ok(read) => read,
        Err(error) => {
            let markup = form(caller, &request, Some(&error));
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                page("Import a plan", caller, markup),
            );
        }
    };
    let pending = Pending {
        user: caller.name().to_owned(),
        made: Instant::now(),
        request,
        bytes,
        digest: read.digest,
    };
    let Some(token) = state.imports.put(pending) else {
        return html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The preview could not be kept",
            "The service could not draw a random token for the confirmation, so nothing can be recorded from this preview. Try again in a moment.",
        );
    };
    respond(
        StatusCode::OK,
        page(
            "Check the import",
            caller,
            preview_markup(caller, &read, &token, notice),
        ),
    )
}

fn upload_error(caller: &Caller, request: &Request) -> Response {
    let markup = form(
        caller,
        request,
        Some("The upload could not be read: the file is larger than the 25 MiB limit, or the upload was cut short."),
    );
    respond(
        StatusCode::PAYLOAD_TOO_LARGE,
        page("Import a plan", caller, markup),
    )
}

fn preview_markup(caller: &Caller, read: &Read, token: &str, notice: Option<&str>) -> Markup {
    let plan = &read.imported;
    let json = &read.json;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    html! {
        h1 class="heading-l" { "Check the import before it is recorded" }
        @if let Some(notice) = notice {
            div class="error-summary" role="alert" { p { (notice) } }
        }
        p { "Read " (read.recording.file_name) " as " (plan.source) ". Nothing is recorded until you confirm." }
        dl class="summary" {
            (html::summary_row("Plan", html! { (read.recording.plan_id) ": " (read.recording.title) }))
            (html::summary_row("Period", html! { (read.recording.period.clone().unwrap_or_default()) }))
            (html::summary_row("Starts", html! { (html::day(&text(&json["plan"]["effective"]))) }))
            (html::summary_row("Statuses as at", html! { (html::day(&text(&json["plan"]["as_at"]))) }))
            (html::summary_row("Would record", html! { (read.events) " events: " (plan.priorities.len()) " priorities, " (plan.actions.len()) " actions" }))
        }
        h2 class="heading-m" { "Warnings (" (plan.warnings.len()) ")" }
        @if plan.warnings.is_empty() { p { "None." } } @else {
            ul class="warnings" { @for w in &plan.warnings { li { (w.to_string()) } } }
        }
        @if !plan.notes.is_empty() {
            h2 class="heading-m" { "Notes" }
            ul { @for n in &plan.notes { li { (n) } } }
        }
        h2 class="heading-m" { "Columns" }
        table class="table" {
            thead { tr { th { "Column" } th { "Header" } th { "Read as" } th { "Why" } } }
            tbody { @for c in &plan.columns { tr { td { (c.label) } td { (c.header) } td { (c.used_as.name()) } td { (c.why) } } } }
        }
        h2 class="heading-m" { "Priorities" }
        ul { @for p in &plan.priorities { li { strong { (p.key) " " (p.title) } @if !p.description.is_empty() { br; (html::multiline(&p.description)) } } } }
        h2 class="heading-m" { "Actions" }
        table class="table" {
            thead { tr { th { "Ref" } th { "Status" } th { "Action" } th { "Leads and timescale" } th { "Progress" } th { "Other" } } }
            tbody {
                @for a in &plan.actions {
                    tr {
                        td { (a.reference) br; span class="hint" { (a.at.to_string()) } }
                        td { (a.status.map_or("none", |s| s.label())) }
                        td { (html::multiline(&a.title))
                            @if !a.outcome.is_empty() { br; "Outcome: " (html::multiline(&a.outcome)) }
                            @if !a.impact.is_empty() { br; "Impact: " (html::multiline(&a.impact)) } }
                        td { (a.leads.join("; ")) @if !a.lead_agencies.is_empty() { br; span class="hint" { "Agencies: " (a.lead_agencies.join(", ")) } } @if !a.due_raw.is_empty() { br; (html::multiline(&a.due_raw)) } }
                        td { (html::multiline(&a.progress)) }
                        td {
                            @if !a.cross_refs.is_empty() { "See also " (a.cross_refs.join(", ")) br; }
                            @for e in &a.extras { (e.header) ": " (html::multiline(&e.text)) br; }
                        }
                    }
                }
            }
        }
        form method="post" action="/import/confirm" {
            (csrf(caller))
            input type="hidden" name="token" value=(token);
            button class="button" type="submit" { "Record this plan" }
            " " a href="/import" { "Cancel" }
        }
    }
}

#[derive(Debug, Deserialize)]
struct Confirm {
    token: String,
}

async fn confirm(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Form(confirmed): Form<Confirm>,
) -> Response {
    let pending = match state.imports.take(&confirmed.token, caller.name()) {
        Ok(pending) => pending,
        Err(why) => {
            let status = if why.contains("another user") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            return html::error_page(status, "Nothing was recorded", why);
        }
    };
    let read = match read(&state, &pending.request, &pending.bytes) {
        Ok(read) => read,
        Err(error) => {
            let markup = form(&caller, &pending.request, Some(&error));
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                page("Import a plan", &caller, markup),
            );
        }
    };
    if read.digest != pending.digest {
        return show(&state, &caller, pending.request, pending.bytes, Some("The ledger changed since this preview was shown, so nothing was recorded. This is the import as it would be now: check it and confirm again."));
    }
    let Read {
        imported,
        recording,
        ..
    } = read;
    let plan = recording.plan_id.clone();
    let effective = recording.effective;
    let result = state
        .shared
        .write(
            &caller,
            effective,
            Vec::new(),
            crate::app::Change::Import {
                plan: Box::new(imported),
                recording,
            },
        )
        .await;
    match result {
        Ok(headers) => super::pages::forms::redirect_done(
            &format!("/plans/{plan}"),
            "imported",
            headers.first().map(|h| h.seq),
        ),
        Err(e) => super::pages::forms::write_error_page(&e),
    }
}
