//! The log as C2SP tlog-tiles under `/log/` (`/log/checkpoint`, `/log/tile/…`), the
//! same bytes `assure tiles` writes to a folder: public, since a tile holds only
//! Merkle hashes and salted event hashes, which say nothing of what was recorded.
//! Tiles never change (a partial one's width is in its path), so they are cached
//! for a year; the checkpoint for a few seconds.

use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger::proof::tiles::{Tile, TILE_WIDTH};

use super::{AppState, Need, Routes};

pub(super) fn register(routes: Routes) -> Routes {
    routes
        .add(Method::GET, "/log/checkpoint", Need::Public, checkpoint)
        .add(Method::GET, "/log/tile/{*path}", Need::Public, tile)
}

fn plain(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

/// The latest checkpoint the ledger signed (with every co-signature it holds).
async fn checkpoint(State(state): State<AppState>) -> Response {
    let latest = state.shared.ledger().latest_checkpoint();
    match latest {
        Ok(Some(checkpoint)) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=5"),
            ],
            checkpoint.to_string(),
        )
            .into_response(),
        Ok(None) => plain(
            StatusCode::NOT_FOUND,
            "No checkpoint has been signed yet: there is no tree to publish.\n",
        ),
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "The checkpoint could not be read; try again shortly.\n",
        ),
    }
}

/// A tile or entry bundle of the tree at the latest checkpoint (a partial tile of
/// any smaller tree too: it is the same bytes whichever checkpoint asked for it).
async fn tile(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let Some((tile, entries)) = Tile::parse(&format!("tile/{path}")) else {
        return plain(StatusCode::NOT_FOUND, "There is no such tile.\n");
    };
    let shift = 8 * u32::from(tile.level);
    // The smallest tree that has this tile.
    let needs = (tile.index * TILE_WIDTH + tile.width)
        .checked_shl(shift)
        .filter(|n| n >> shift == tile.index * TILE_WIDTH + tile.width);
    let shared = state.shared.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let ledger = shared.ledger();
        let published = ledger
            .latest_checkpoint()
            .ok()
            .flatten()
            .map_or(0, |c| c.unverified_checkpoint().size);
        match needs.filter(|n| *n <= published) {
            Some(size) => ledger.tile(tile, entries, size).map(Some),
            None => Ok(None),
        }
    })
    .await;
    match bytes {
        Ok(Ok(Some(bytes))) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response(),
        Ok(Ok(None)) => plain(
            StatusCode::NOT_FOUND,
            "That tile is beyond the latest checkpoint.\n",
        ),
        _ => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "The tile could not be read; try again shortly.\n",
        ),
    }
}
