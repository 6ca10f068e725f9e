//! A witness's record of each log's latest co-signed checkpoint, on disk: read
//! (an absent file is a witness that has co-signed nothing) and written durably
//! (a file beside it, fsynced, renamed over it) before any answer is given, for
//! `assure witness add-checkpoint` and `assure witness serve` alike.

use std::path::Path;

use anyhow::{Context as _, Result};
use ledger::witness::Witnessed;

pub fn load(state: &Path) -> Result<Witnessed> {
    match std::fs::read(state) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a witness record ({e}); restore it from a backup — a witness that forgets what it co-signed can be shown a forked history",
                state.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Witnessed::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", state.display())),
    }
}

pub fn save(state: &Path, witnessed: &Witnessed) -> Result<()> {
    super::write_durably(state, &serde_json::to_vec_pretty(witnessed)?)
}

/// Now, as a cosignature's timestamp (POSIX seconds).
pub fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}
