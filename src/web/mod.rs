//! `assure serve`: the web service. Server-rendered pages (maud, auto-escaping) and a
//! JSON API over the same state, on axum and tokio.
//!
//! Every route is registered through `Routes::add` with the permission it needs, so
//! the guard in front of it is never forgotten and the route × role test reads the
//! real table. The guard signs the caller in (session cookie for pages, bearer token
//! for the API), denies by default, and checks the CSRF token of every page form; a
//! refusal closes the connection. The sockets underneath (timeouts, the connection cap,
//! the shutdown deadline) are `connections.rs`'s.

pub mod accounts;
mod api;
pub mod assurance;
pub mod chart;
mod connections;
mod html;
mod import;
mod inputs;
mod live;
pub mod pages;
mod read;
pub mod session;
pub mod sign_ins;
pub mod state;
mod tiles;
pub mod tokens;
pub mod witness;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use ledger::Ledger;

use accounts::{Accounts, Principal, Role};
use session::{cookie, same_secret, Sessions};
use state::Shared;

pub use connections::{serve_on, Limits, MAX_CONNECTIONS};

/// Largest ordinary form or JSON body.
pub const FORM_LIMIT: usize = 64 * 1024;
/// Largest upload (a plan CSV or evidence files), a little over the blob limit.
pub const UPLOAD_LIMIT: usize = 26 * 1024 * 1024;

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not (sign-in page, stylesheet, API description).
    Public,
    /// Any signed-in role.
    Read,
    /// Everyone but partner leads: the whole history, verification, reports, export.
    Audit,
    /// Business managers and chairs: import, status, carry-over, checkpoints.
    Manage,
    /// Managers and chairs; partner leads on actions their agency leads.
    Progress,
    /// Managers and chairs; partner leads for challenges addressed to their agency.
    Respond,
    /// The independent chair only.
    Chair,
}

impl Need {
    pub fn allows(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Need::Public, _) => true,
            (_, None) => false,
            (Need::Read, Some(_)) => true,
            (Need::Audit, Some(r)) => r != Role::Partner,
            (Need::Manage, Some(r)) => matches!(r, Role::Chair | Role::Manager),
            (Need::Progress | Need::Respond, Some(r)) => r != Role::Auditor,
            (Need::Chair, Some(r)) => r == Role::Chair,
        }
    }
}

/// One registered route, as the route × role test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
    pub upload: bool,
}

/// The signed-in caller of a request, put there by the guard.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Option<Principal>,
    /// The session's CSRF token, for the forms a page renders.
    pub csrf: String,
}

impl Caller {
    pub fn name(&self) -> &str {
        self.principal.as_ref().map_or("", |p| p.name.as_str())
    }

    pub fn role(&self) -> Option<Role> {
        self.principal.as_ref().map(|p| p.role)
    }

    /// The agency a partner lead is confined to; `None` for every other role.
    pub fn partner_agency(&self) -> Option<&str> {
        match &self.principal {
            Some(Principal {
                role: Role::Partner,
                agency,
                ..
            }) => Some(agency.as_deref().unwrap_or("")),
            _ => None,
        }
    }
}

/// What every request handler shares; cloned for each request, so one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

#[derive(Debug)]
pub struct AppInner {
    pub shared: Shared,
    pub sessions: Arc<Sessions>,
    pub data: PathBuf,
    accounts: Arc<Mutex<AccountsCache>>,
    /// Cookies get `Secure` when the service sits behind TLS.
    pub secure: bool,
    /// The last verification run: when, and what it said.
    pub verified: Arc<Mutex<Option<(String, ledger::VerifyReport)>>>,
    /// Plan views for past dates (see `read::ViewCache`).
    pub views: Arc<Mutex<read::ViewCache>>,
    /// Import previews waiting for their confirmation.
    pub imports: import::PendingImports,
}

/// The accounts file as last read, and when it was last looked at.
#[derive(Debug, Default)]
struct AccountsCache {
    version: Option<accounts::FileVersion>,
    checked: Option<std::time::Instant>,
    accounts: Arc<Accounts>,
}

/// How often the accounts file is looked at for changes.
const ACCOUNTS_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

impl AppInner {
    /// The accounts file, re-read when it changed (`assure user add` while serving);
    /// a change is seen within a second.
    pub fn accounts(&self) -> Arc<Accounts> {
        let mut cached = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let due = cached
            .checked
            .is_none_or(|t| t.elapsed() >= ACCOUNTS_RECHECK);
        if due {
            cached.checked = Some(std::time::Instant::now());
            let version = accounts::FileVersion::of(&self.data);
            if version != cached.version {
                match Accounts::load(&self.data) {
                    Ok(accounts) => {
                        cached.version = version;
                        cached.accounts = Arc::new(accounts);
                    }
                    Err(e) => eprintln!("assure serve: {e:#}; keeping the accounts loaded before"),
                }
            }
        }
        cached.accounts.clone()
    }
}

struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    fn add<H, T>(mut self, method: Method, path: &'static str, need: Need, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        // The import page and the API's import (`/api/v1/plans/{id}/import`) take a
        // plan file, as progress takes evidence: both get the upload limit.
        let upload = path.ends_with("/import") || path.ends_with("/progress");
        let limit = if upload { UPLOAD_LIMIT } else { FORM_LIMIT };
        let spec = RouteSpec {
            method: method.clone(),
            path,
            need,
            upload,
        };
        let filter = axum::routing::MethodFilter::try_from(method)
            .unwrap_or(axum::routing::MethodFilter::GET);
        let route = axum::routing::on(filter, handler)
            .layer(DefaultBodyLimit::max(limit))
            .route_layer(middleware::from_fn(move |request, next| {
                guard(spec.clone(), request, next)
            }));
        self.router = self.router.route(path, route);
        self.specs.push(RouteSpec {
            method: spec_method(filter),
            path,
            need,
            upload,
        });
        self
    }
}

fn spec_method(filter: axum::routing::MethodFilter) -> Method {
    if filter == axum::routing::MethodFilter::POST {
        Method::POST
    } else {
        Method::GET
    }
}

/// Every route of the service with the permission it needs, and the router.
pub fn routes(state: AppState) -> (Router, Vec<RouteSpec>) {
    let routes = Routes {
        router: Router::new(),
        specs: Vec::new(),
    };
    let routes = pages::register(routes);
    let routes = import::register(routes);
    let routes = api::register(routes);
    let routes = tiles::register(routes);
    let Routes { router, specs } = routes;
    let router = router
        .fallback(|| async { html::not_found() })
        .layer(middleware::from_fn_with_state(state.clone(), sign_in))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state);
    (router, specs)
}

/// Resolves the caller (bearer token under `/api/`, session cookie elsewhere). The
/// account is looked at on every request, so a token revoked or expired, an account
/// disabled, removed or changed, or a new password (which ends every session signed
/// in before) takes effect within `ACCOUNTS_RECHECK`.
async fn sign_in(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let headers = request.headers();
    // The session id to send back with a fresh Max-Age, when it is a live session.
    let mut slide: Option<String> = None;
    let anonymous = Caller {
        principal: None,
        csrf: String::new(),
    };
    let caller = if api {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match token.map(|t| state.accounts().by_token(t.trim(), chrono::Utc::now())) {
            Some(Ok(principal)) => Caller {
                principal: Some(principal),
                csrf: String::new(),
            },
            // A token was sent but is not accepted: say why, whatever the route.
            Some(Err(refused)) => return unauthorized(&refused.message(), true),
            None => anonymous,
        }
    } else {
        let session = headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| cookie(c, session::cookie_name(state.secure)))
            .and_then(|id| Some((id.to_owned(), state.sessions.get(id)?)));
        match session {
            Some((id, s)) => match state.accounts().still_signed_in(&s.principal) {
                Some(principal) => {
                    slide = Some(id);
                    Caller {
                        principal: Some(principal),
                        csrf: s.csrf,
                    }
                }
                // The account was disabled, removed or changed, or its password
                // changed, since this session signed in: the session ends.
                None => {
                    state.sessions.remove(&id);
                    anonymous
                }
            },
            None => anonymous,
        }
    };
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    // Activity keeps the session: the cookie is sent again with a fresh Max-Age,
    // unless the answer sets it itself (sign-in, sign-out).
    if let Some(id) = slide {
        if !response.headers().contains_key(header::SET_COOKIE) {
            if let Ok(value) = HeaderValue::from_str(&session::set_cookie(Some(&id), state.secure))
            {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
        }
    }
    response
}

/// The API's 401: a JSON error saying why, and how to authenticate (RFC 6750:
/// `invalid_token` when a token was sent but is not accepted).
fn unauthorized(message: &str, invalid_token: bool) -> Response {
    let mut refused = api::error(StatusCode::UNAUTHORIZED, message);
    refused.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(if invalid_token {
            "Bearer realm=\"assure\", error=\"invalid_token\""
        } else {
            "Bearer realm=\"assure\""
        }),
    );
    refused
}

/// Denies by default: the route's need against the caller, then CSRF for page forms.
/// A refusal is answered before the body is read, so it closes the connection: what
/// the client sent after the header can never be read as a second request.
async fn guard(spec: RouteSpec, request: Request, next: Next) -> Response {
    match admit(&spec, request).await {
        Ok(request) => next.run(request).await,
        Err(mut refused) => {
            refused
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            refused
        }
    }
}

/// The guard's checks: the request to hand on, or the answer refusing it.
async fn admit(spec: &RouteSpec, request: Request) -> Result<Request, Response> {
    let api = request.uri().path().starts_with("/api/");
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller {
            principal: None,
            csrf: String::new(),
        });
    if !spec.need.allows(caller.role()) {
        return Err(match (caller.principal.is_some(), api) {
            (false, true) => unauthorized("sign in: send Authorization: Bearer TOKEN (make one with `assure token new NAME`)", false),
            (false, false) if request.method() == Method::GET => {
                let next_path = request.uri().path().to_owned();
                Redirect::to(&format!("/login?next={}", html::url_encode(&next_path))).into_response()
            }
            (false, false) => html::error_page(StatusCode::UNAUTHORIZED, "Sign in first", "Your session has ended. Sign in again and repeat the change."),
            (true, true) => api::error(StatusCode::FORBIDDEN, "your role does not allow this"),
            (true, false) => html::error_page(StatusCode::FORBIDDEN, "You cannot do this", "Your role does not allow this page or change. Ask the business manager if you need it."),
        });
    }
    let limit = if spec.upload {
        UPLOAD_LIMIT
    } else {
        FORM_LIMIT
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let what = if spec.upload {
            "The file is larger than the 25 MiB limit. Split it or attach a smaller file."
        } else {
            "The form is larger than the 64 KiB limit. Shorten the text, or attach long material as an evidence file."
        };
        return Err(if api {
            api::error(StatusCode::PAYLOAD_TOO_LARGE, what)
        } else {
            html::error_page(StatusCode::PAYLOAD_TOO_LARGE, "Too large", what)
        });
    }
    if request.method() == Method::POST && !api && cross_site(request.headers()) {
        return Err(html::error_page(
            StatusCode::FORBIDDEN,
            "This form came from another site",
            "Changes are accepted only from this service's own pages. Open the service's address yourself and try again.",
        ));
    }
    if request.method() == Method::POST && !api && spec.need != Need::Public {
        return check_csrf(&caller.csrf, request, limit).await;
    }
    Ok(request)
}

/// Whether a browser says the request was sent by another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` whose host is not the one the request was sent to.
/// (Forms also carry a CSRF token; this covers sign-in, which has no session yet,
/// and any browser that leaks a token.)
fn cross_site(headers: &axum::http::HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if text(HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return true;
    }
    // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even from our
    // own pages, so "null" says nothing; `Sec-Fetch-Site` above decides then.
    match (text(header::ORIGIN), text(header::HOST)) {
        (Some("null"), _) => false,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            !origin_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// Page forms carry the session's CSRF token as a `csrf` field (or, for uploads, in
/// the query string). The body is read here, bounded, and handed on.
async fn check_csrf(expected: &str, request: Request, limit: usize) -> Result<Request, Response> {
    let refused = || {
        html::error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this session. Go back, reload the page and try again.",
        )
    };
    let in_query = request
        .uri()
        .query()
        .and_then(|q| html::query_value(q, "csrf"));
    if let Some(token) = in_query {
        return if !expected.is_empty() && same_secret(&token, expected) {
            Ok(request)
        } else {
            Err(refused())
        };
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if connections::stalled(&e) => return Err(stalled_form()),
        Err(_) => {
            return Err(html::error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The form is larger than the limit. Shorten it and try again.",
            ))
        }
    };
    let token = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|body| html::query_value(body, "csrf"));
    match token {
        Some(token) if !expected.is_empty() && same_secret(&token, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(refused()),
    }
}

/// The answer to a form whose body stopped arriving (see `Limits::body_idle`).
fn stalled_form() -> Response {
    html::error_page(
        StatusCode::REQUEST_TIMEOUT,
        "The form did not arrive",
        "The connection stopped sending the form. Check the connection and send it again.",
    )
}

async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    // A page that carries its own style element (the report's running header) sets
    // the same policy with that style's hash; every other response gets this one.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            headers,
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        );
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // No page needs a camera, a location or any other powerful feature; no other
    // site's window shares a browsing context with ours, nor embeds what we serve.
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if state.secure {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Opens the ledger and builds the service's state (the writer thread starts here).
pub fn open_state(data: &Path, secure: bool) -> Result<(AppState, std::thread::JoinHandle<()>)> {
    let ledger = Ledger::reopen(data)
        .with_context(|| format!("opening the ledger in {}", data.display()))?;
    let (shared, writer) = Shared::start(ledger)?;
    let state = AppState(Arc::new(AppInner {
        shared,
        sessions: Arc::new(Sessions::default()),
        data: data.to_path_buf(),
        accounts: Arc::new(Mutex::new(AccountsCache::default())),
        secure,
        verified: Arc::new(Mutex::new(None)),
        views: Arc::new(Mutex::new(read::ViewCache::default())),
        imports: import::PendingImports::default(),
    }));
    let _ = state.accounts();
    Ok((state, writer))
}

/// Serves until Ctrl-C or SIGTERM under the default `Limits`: then stops accepting,
/// lets in-flight requests finish for up to `Limits::shutdown_grace`, and returns once
/// the writer has drained its queue, so every acknowledged change is on disk.
/// `beside` is started once the ledger is open, given the service's ledger (the
/// command line's socket, `commands/beside.rs`), and kept until the service stops.
pub fn serve<G>(
    data: &Path,
    addr: SocketAddr,
    secure: bool,
    beside: impl FnOnce(Arc<Mutex<Ledger>>) -> Result<G>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (state, writer) = open_state(data, secure)?;
    let beside = beside(state.shared.ledger.clone())?;
    if state.accounts().users.is_empty() {
        eprintln!(
            "assure serve: no accounts yet; add one with `assure --data {} user add NAME --role manager`",
            data.display()
        );
    }
    let serving = state.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        println!(
            "Assure is serving {} on http://{bound}/ (Ctrl-C to stop)",
            data.display()
        );
        let (router, _) = routes(serving);
        serve_on(listener, router, Limits::default(), shutdown_signal()).await;
        anyhow::Ok(())
    })?;
    // Every connection is closed by now. A blocking task still running (verifying a
    // large ledger, say) gets a second; past that it is left to end on its own.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    drop(beside);
    // The writer finishes its queue and stops, even while such a task holds the state.
    state.shared.stop_writer();
    drop(state);
    let (joined, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = writer.join();
        let _ = joined.send(());
    });
    match finished.recv_timeout(std::time::Duration::from_secs(2)) {
        Ok(()) => println!("Assure stopped; every acknowledged change is on disk."),
        // Acknowledged means logged and fdatasynced in the write-ahead log: the next
        // start replays it into the store.
        Err(_) => println!(
            "Assure stopped while a task still held the ledger; every acknowledged change is in the write-ahead log and goes into the store at the next start."
        ),
    }
    Ok(())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
