//! The partner agencies page: the registered agencies with the other names plans use
//! for them, and for business managers and chairs a form to register one (as
//! `assure agency add`).

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::html;
use serde::{Deserialize, Serialize};

use super::forms::*;
use crate::app::change::Change;
use crate::dates::today;
use crate::web::html::{csrf, field_error_summary, page, respond};
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
        &Refused::default(),
        StatusCode::OK,
    )
}

fn agency_fields<'a>() -> [Field<'a>; 3] {
    [
        Field::new("id", "id", "Id", Kind::Text)
            .hint("Short, without spaces, for example gmp")
            .required("Enter a short id for the agency")
            .called(&["agency id", "id"]),
        Field::new("name", "name", "Full name", Kind::Text)
            .required("Enter the agency's full name")
            .called(&["the agency's name", "name"]),
        Field::new("aliases", "aliases", "Other names (optional)", Kind::Text)
            .hint("Names plans use for it, separated by commas, for example GMP, Police")
            .called(&["an alias", "alias"]),
    ]
}

#[derive(Deserialize, Serialize, Default)]
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
    refused: &Refused,
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
    let title = refused.title("Partner agencies");
    let fields = agency_fields();
    let body = html! {
        (field_error_summary(&refused.errors))
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
            form method="post" action="/agencies" novalidate {
                (csrf(caller))
                fieldset {
                    legend { h2 class="heading-m" { "Register an agency" } }
                    p { "Registering is recorded in the ledger and cannot be undone." }
                    @for f in &fields { (field("agency", f, refused)) }
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
    let fields = agency_fields();
    let typed = Refused::typed("agency", &form).check_required(&fields);
    if typed.is_refused() {
        return render(
            &state,
            &caller,
            &HashMap::new(),
            &typed,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
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
            &typed.refused_by(&e.to_string(), &fields),
            e.status(),
        ),
    }
}
