//! The partner agencies page: the registered agencies with the other names plans use
//! for them, and for business managers and chairs a form to register one (as
//! `assure agency add`).

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use serde::Deserialize;

use super::forms::*;
use crate::app::change::Change;
use crate::dates::today;
use crate::web::html::{csrf, error_summary, page, respond};
use crate::web::{AppState, Caller, Need};

pub(super) async fn agencies_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    render(
        &state,
        &caller,
        &params,
        &[],
        &AgencyForm::default(),
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default)]
pub(super) struct AgencyForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    /// Other names, one per line or separated by commas.
    #[serde(default)]
    aliases: String,
}

fn render(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
    errors: &[String],
    typed: &AgencyForm,
    status: StatusCode,
) -> Response {
    let agencies: Vec<(String, String, String)> = {
        let live = state.shared.read();
        live.world
            .world()
            .agencies
            .values()
            .map(|a| (a.id.clone(), a.name.clone(), a.aliases.join(", ")))
            .collect()
    };
    let manage = Need::Manage.allows(caller.role());
    let title = if errors.is_empty() {
        "Partner agencies".to_owned()
    } else {
        "Error: Partner agencies".to_owned()
    };
    let body = html! {
        (error_summary(errors))
        (done_notice(params))
        h1 class="heading-l" { "Partner agencies" }
        @if agencies.is_empty() {
            p { "No agency is registered yet. Until one is, a challenge may name any agency as typed, and leads are kept as written." }
        } @else {
            p { "A challenge goes to one of these agencies, and a partner lead speaks for one. Each name below means one agency wherever a plan or a person uses it." }
            table {
                thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Other names" } } }
                tbody { @for (id, name, aliases) in &agencies { tr { td { (id) } td { (name) } td { (aliases) } } } }
            }
        }
        @if manage {
            h2 class="heading-m" { "Register an agency" }
            p { "Registering is recorded in the ledger and cannot be undone." }
            form method="post" action="/agencies" {
                (csrf(caller))
                div class="form-group" {
                    label for="id" { "Id" }
                    span class="hint" id="id-hint" { "Short, without spaces, for example gmp" }
                    input type="text" id="id" name="id" value=(typed.id) aria-describedby="id-hint" spellcheck="false";
                }
                div class="form-group" {
                    label for="name" { "Full name" }
                    input type="text" id="name" name="name" value=(typed.name);
                }
                div class="form-group" {
                    label for="aliases" { "Other names (optional)" }
                    span class="hint" id="aliases-hint" { "Names plans use for it, separated by commas, for example GMP, Police" }
                    input type="text" id="aliases" name="aliases" value=(typed.aliases) aria-describedby="aliases-hint";
                }
                button class="button" type="submit" { "Register the agency" }
            }
        }
    };
    respond(status, page(&title, caller, body))
}

pub(super) async fn post_agency(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<AgencyForm>,
) -> Response {
    let aliases: Vec<String> = form
        .aliases
        .split([',', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let change = Change::RegisterAgency {
        id: form.id.trim().to_owned(),
        name: form.name.trim().to_owned(),
        aliases,
    };
    match state
        .shared
        .write(&caller, today(), Vec::new(), change)
        .await
    {
        Ok(headers) => redirect_done("/agencies", "agency", headers.first().map(|h| h.seq)),
        Err(e) => render(
            &state,
            &caller,
            &HashMap::new(),
            &[e.to_string()],
            &form,
            e.status(),
        ),
    }
}
