//! `assure witness serve`: a C2SP tlog-witness over HTTP — `POST /add-checkpoint`,
//! answered by `ledger::witness::add_checkpoint` with the spec's statuses — for a
//! third party that witnesses a board's ledger from a machine of its own. Requests
//! are taken one at a time; the record is on disk before a cosignature is given.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use axum::Router;
use ledger::note::{SigningKey, VerifierKey};
use ledger::witness::{add_checkpoint, Witnessed};

use super::connections::{serve_on, Limits};

/// A request is a proof of at most 63 hashes and one checkpoint: a few KiB.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

struct Witness {
    state: PathBuf,
    key: SigningKey,
    trusted: Vec<VerifierKey>,
    witnessed: Mutex<Witnessed>,
}

/// The witness's routes: `POST /add-checkpoint` only.
pub fn witness_routes(state: &Path, key: SigningKey, trusted: Vec<VerifierKey>) -> Result<Router> {
    let witnessed = crate::app::witness::load(state)?;
    let witness = Arc::new(Witness {
        state: state.to_path_buf(),
        key,
        trusted,
        witnessed: Mutex::new(witnessed),
    });
    Ok(Router::new()
        .route("/add-checkpoint", post(add))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness))
}

async fn add(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let answered = tokio::task::spawn_blocking(move || {
        let mut held = witness.witnessed.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = held.clone();
        let now = crate::app::witness::now();
        match add_checkpoint(&mut next, &witness.trusted, &witness.key, &body, now) {
            Ok(line) => match crate::app::witness::save(&witness.state, &next) {
                Ok(()) => {
                    *held = next;
                    (StatusCode::OK, "text/plain; charset=utf-8", line)
                }
                Err(e) => {
                    eprintln!("assure witness: keeping the record failed: {e:#}");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain; charset=utf-8",
                        "the witness could not keep its record; nothing was co-signed\n".into(),
                    )
                }
            },
            Err(refused) => {
                let status =
                    StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST);
                let kind = if refused.status == 409 {
                    "text/x.tlog.size"
                } else {
                    "text/plain; charset=utf-8"
                };
                (status, kind, refused.body)
            }
        }
    })
    .await;
    match answered {
        Ok((status, kind, body)) => (status, [(header::CONTENT_TYPE, kind)], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves the witness on `addr` until Ctrl-C or SIGTERM.
pub fn serve_witness(addr: SocketAddr, router: Router) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        println!("Assure witness on http://{bound}/add-checkpoint (Ctrl-C to stop)");
        serve_on(
            listener,
            router,
            Limits::default(),
            super::shutdown_signal(),
        )
        .await;
        anyhow::Ok(())
    })
}
