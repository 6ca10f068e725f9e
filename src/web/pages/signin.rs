//! Signing in and out: the form, the throttled check of a password, the session
//! cookie, and where to go next (only ever a path on this site). A success is noted
//! in `sign-ins.json` (`web/sign_ins.rs`); a disabled account gets the same answer
//! as a wrong password.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::*;
use crate::web::html::{self, field_error_summary, page, respond, FieldError};
use crate::web::{AppState, Caller};

/// The cookie that carries the sign-in form's CSRF token (double submit: a page on
/// another site can neither read it nor set it, so it cannot fill in the field).
const LOGIN_COOKIE: &str = "assure_login";

pub(super) async fn login_form(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(params): Params,
) -> Response {
    let next = safe_next(param(&params, "next"));
    login_page(&state, &headers, &next, &[], "", StatusCode::OK)
}

/// The form token the browser already holds, if any.
fn login_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| crate::web::session::cookie(c, LOGIN_COOKIE))
        .filter(|t| {
            t.len() == 43
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The sign-in page with its form token (the one the browser holds, so two open
/// sign-in tabs both work, or a fresh one), set in its cookie too.
fn login_page(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    next: &str,
    errors: &[String],
    name: &str,
    status: StatusCode,
) -> Response {
    let token = match login_token(headers) {
        Some(held) => Ok(held.to_owned()),
        None => crate::web::accounts::random_id(),
    };
    let Ok(token) = token else {
        return html::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is not available",
            "The service could not make a form token. Try again in a moment.",
        );
    };
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if state.secure { "; Secure" } else { "" }
    );
    let mut response = respond(status, login_markup(&token, next, errors, name));
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn login_markup(token: &str, next: &str, errors: &[String], name: &str) -> Markup {
    let anonymous = Caller {
        principal: None,
        csrf: String::new(),
    };
    // Whatever was wrong, the summary leads back to the first field.
    let errors: Vec<FieldError> = errors
        .iter()
        .map(|message| FieldError {
            id: Some("username".to_owned()),
            message: message.clone(),
        })
        .collect();
    let title = if errors.is_empty() {
        "Sign in"
    } else {
        "Error: Sign in"
    };
    page(
        title,
        &anonymous,
        html! {
            (field_error_summary(&errors))
            h1 class="heading-l" { "Sign in" }
            form method="post" action="/login" novalidate {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                div class="form-group" {
                    label for="username" { "User name" }
                    input type="text" id="username" name="username" value=(name) autocomplete="username" spellcheck="false";
                }
                div class="form-group" {
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password";
                }
                button class="button" type="submit" { "Sign in" }
            }
        },
    )
}

/// Only a path on this site may follow sign-in: it starts with one `/`, and holds no
/// backslash, whitespace or control character (browsers drop tabs and newlines from
/// URLs, so `/\t/evil.example/` would become `//evil.example/`, another site; and a
/// newline cannot go in a `Location` header). Anything else goes to `/`.
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let name = form.username.trim().to_owned();
    let next = safe_next(Some(&form.next));
    if !login_token(&headers).is_some_and(|t| crate::web::session::same_secret(t, &form.csrf)) {
        return login_page(
            &state,
            &headers,
            &next,
            &["The sign-in form had expired. Enter your user name and password again.".to_owned()],
            &name,
            StatusCode::FORBIDDEN,
        );
    }
    // Served without connection details (never by `serve`), all clients are one.
    let client = client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0 .0.ip());
    if let Some(wait) = state.sessions.wait(client, &name) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = login_page(
            &state,
            &headers,
            &next,
            &[format!(
                "Too many failed sign-ins for this user name from here. Wait {seconds} second{} and try again.",
                if seconds == 1 { "" } else { "s" }
            )],
            &name,
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let accounts = state.accounts();
    let password = form.password;
    let checked = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || accounts.check_password(&name, &password))
            .await
            .ok()
            .flatten()
    };
    let Some(principal) = checked else {
        state.sessions.failed(client, &name);
        return login_page(
            &state,
            &headers,
            &next,
            &["The user name or password is not right.".to_owned()],
            &name,
            StatusCode::UNAUTHORIZED,
        );
    };
    state.sessions.succeeded(client, &name);
    let old = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            crate::web::session::cookie(c, crate::web::session::cookie_name(state.secure))
        });
    let _ = caller;
    let signed_in = principal.name.clone();
    let Ok(id) = state.sessions.create(principal, old) else {
        return html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The service could not start a session. Try again.",
        );
    };
    // For `assure user list`. A failure to note it does not undo the sign-in.
    let data = state.data.clone();
    let noted = tokio::task::spawn_blocking(move || {
        crate::web::sign_ins::record(&data, &signed_in, chrono::Utc::now())
    })
    .await;
    if let Ok(Err(e)) = noted {
        eprintln!("assure serve: {e:#}; the sign-in goes on, unrecorded");
    }
    let cookie = crate::web::session::set_cookie(Some(&id), state.secure);
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(id) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            crate::web::session::cookie(c, crate::web::session::cookie_name(state.secure))
        })
    {
        state.sessions.remove(id);
    }
    let cookie = crate::web::session::set_cookie(None, state.secure);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}
