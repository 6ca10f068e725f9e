//! Signing in and out: the form, the throttled check of a password, the session
//! cookie, and where to go next (only ever a path on this site).

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::*;
use crate::web::html::{self, error_summary, page, respond};
use crate::web::{AppState, Caller};

pub(super) async fn login_form(State(state): State<AppState>, Query(params): Params) -> Response {
    let next = safe_next(param(&params, "next"));
    respond(StatusCode::OK, login_markup(&state, &next, &[], ""))
}

pub(super) fn login_markup(_state: &AppState, next: &str, errors: &[String], name: &str) -> Markup {
    let anonymous = Caller {
        principal: None,
        csrf: String::new(),
    };
    page(
        "Sign in",
        &anonymous,
        html! {
            (error_summary(errors))
            h1 class="heading-l" { "Sign in" }
            form method="post" action="/login" novalidate {
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
    // Served without connection details (never by `serve`), all clients are one.
    let client = client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0 .0.ip());
    if let Some(wait) = state.sessions.wait(client, &name) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = respond(
            StatusCode::TOO_MANY_REQUESTS,
            login_markup(
                &state,
                &next,
                &[format!(
                    "Too many failed sign-ins for this user name from here. Wait {seconds} second{} and try again.",
                    if seconds == 1 { "" } else { "s" }
                )],
                &name,
            ),
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
        return respond(
            StatusCode::UNAUTHORIZED,
            login_markup(
                &state,
                &next,
                &["The user name or password is not right.".to_owned()],
                &name,
            ),
        );
    };
    state.sessions.succeeded(client, &name);
    let old = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| crate::web::session::cookie(c, crate::web::session::COOKIE));
    let _ = caller;
    let Ok(id) = state.sessions.create(principal, old) else {
        return html::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The service could not start a session. Try again.",
        );
    };
    let cookie = format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        crate::web::session::COOKIE,
        crate::web::session::IDLE.as_secs(),
        if state.secure { "; Secure" } else { "" }
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(id) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| crate::web::session::cookie(c, crate::web::session::COOKIE))
    {
        state.sessions.remove(id);
    }
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        crate::web::session::COOKIE
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}
