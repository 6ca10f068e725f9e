//! What every page with a form shares: reading query parameters, the fields of a
//! form and how a refused one is shown again (what was typed kept, each error tied
//! to its field: the GOV.UK error pattern), the confirmation after a change
//! (post/redirect/get), and the error pages of a refused change.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use projections::planned::check_id;
use serde::Serialize;

use crate::web::html::{self, FieldError};
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
        Some("checkpoint-unwitnessed") => {
            "A new checkpoint is signed, but not every witness co-signed it (the service's log says which and why); it stands without them and they are asked again with the next one."
        }
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
        WriteError::Storage(_) | WriteError::Stopped | WriteError::DiskFull => html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "This change was not recorded",
            &e.to_string(),
        ),
    }
}

/// One field of a form.
pub(in crate::web) struct Field<'a> {
    /// Its element id, unique on the page (the error summary links to it).
    pub id: &'a str,
    /// Its name in the form body.
    pub name: &'a str,
    pub label: &'a str,
    pub hint: Option<String>,
    pub kind: Kind<'a>,
    /// What to say when it is left empty; `None` when it is optional.
    pub missing: Option<&'a str>,
    /// The words the application layer calls it by in a refusal ("the rationale"),
    /// so a refusal is shown at this field.
    pub called: &'a [&'a str],
    /// The id of a `datalist` of suggestions for a text field.
    pub list: Option<&'a str>,
}

pub(in crate::web) enum Kind<'a> {
    Text,
    Date,
    Textarea(u8),
    /// Options as (value, label); the typed value, else `selected`, is chosen.
    Select {
        options: &'a [(String, String)],
        selected: &'a str,
    },
}

impl<'a> Field<'a> {
    pub fn new(id: &'a str, name: &'a str, label: &'a str, kind: Kind<'a>) -> Field<'a> {
        Field {
            id,
            name,
            label,
            hint: None,
            kind,
            missing: None,
            called: &[],
            list: None,
        }
    }

    pub fn suggest(mut self, datalist: &'a str) -> Self {
        self.list = Some(datalist);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn required(mut self, missing: &'a str) -> Self {
        self.missing = Some(missing);
        self
    }

    pub fn called(mut self, called: &'a [&'a str]) -> Self {
        self.called = called;
        self
    }
}

/// A form sent back: which form on the page it was, what was typed, what was wrong.
/// `Refused::default()` is the page shown afresh.
#[derive(Debug, Default, Clone)]
pub(in crate::web) struct Refused {
    pub form: &'static str,
    pub typed: HashMap<String, String>,
    pub errors: Vec<FieldError>,
}

impl Refused {
    /// The form `form` as typed (any serializable form body), with nothing wrong yet.
    pub fn typed(form: &'static str, body: &impl Serialize) -> Refused {
        let typed = match serde_json::to_value(body) {
            Ok(serde_json::Value::Object(fields)) => fields
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                .collect(),
            _ => HashMap::new(),
        };
        Refused {
            form,
            typed,
            errors: Vec::new(),
        }
    }

    /// Every required field left empty, each with its own message.
    pub fn check_required(mut self, fields: &[Field]) -> Self {
        for f in fields {
            if let Some(missing) = f.missing {
                let empty = self.typed.get(f.name).is_none_or(|v| v.trim().is_empty());
                if empty {
                    self.errors.push(FieldError {
                        id: Some(f.id.to_owned()),
                        message: missing.to_owned(),
                    });
                }
            }
        }
        self
    }

    /// A refusal from the application layer, shown at the field it names (the one
    /// whose words come first in it), else at the form's first field.
    pub fn refused_by(mut self, message: &str, fields: &[Field]) -> Self {
        let lower = message.to_lowercase();
        let named = fields
            .iter()
            .filter_map(|f| {
                let at = f.called.iter().filter_map(|c| lower.find(c)).min()?;
                Some((at, f))
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, f)| f)
            .or(fields.first());
        self.errors.push(FieldError {
            id: named.map(|f| f.id.to_owned()),
            message: message.to_owned(),
        });
        self
    }

    pub fn is_refused(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The page title, "Error: " first when something was wrong.
    pub fn title(&self, title: &str) -> String {
        if self.is_refused() {
            format!("Error: {title}")
        } else {
            title.to_owned()
        }
    }

    /// What was typed in field `name` of form `form`, if that form came back.
    pub fn value(&self, form: &str, name: &str) -> Option<&str> {
        (self.form == form)
            .then(|| self.typed.get(name).map(String::as_str))
            .flatten()
    }

    fn error(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.id.as_deref() == Some(id))
            .map(|e| e.message.as_str())
    }
}

/// A field with its label, hint and (when the form came back) its error and what
/// was typed, described for assistive technology (`aria-describedby`,
/// `aria-invalid`).
pub(in crate::web) fn field(form: &str, f: &Field, refused: &Refused) -> Markup {
    let error = (refused.form == form)
        .then(|| refused.error(f.id))
        .flatten();
    let hint_id = format!("{}-hint", f.id);
    let error_id = format!("{}-error", f.id);
    let described: Vec<&str> = [
        f.hint.as_ref().map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = error.map(|_| "true");
    let value = refused.value(form, f.name).unwrap_or("");
    html! {
        div class={ "form-group" @if error.is_some() { " form-group-error" } } {
            label for=(f.id) { (f.label) }
            @if let Some(hint) = &f.hint { span class="hint" id=(hint_id) { (hint) } }
            @if let Some(e) = error {
                p class="error-message" id=(error_id) { span class="visually-hidden" { "Error: " } (html::sentence(e)) }
            }
            @match &f.kind {
                Kind::Text => input type="text" id=(f.id) name=(f.name) value=(value) list=[f.list] aria-describedby=[&described] aria-invalid=[invalid];,
                Kind::Date => input type="date" id=(f.id) name=(f.name) value=(value) aria-describedby=[&described] aria-invalid=[invalid];,
                Kind::Textarea(rows) => textarea id=(f.id) name=(f.name) rows=(rows) aria-describedby=[&described] aria-invalid=[invalid] { (value) },
                Kind::Select { options, selected } => {
                    @let chosen = refused.value(form, f.name).unwrap_or(selected);
                    select id=(f.id) name=(f.name) aria-describedby=[&described] aria-invalid=[invalid] {
                        @for (v, label) in options.iter() { option value=(v) selected[v == chosen] { (label) } }
                    }
                }
            }
        }
    }
}
