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
    write_durably(state, &serde_json::to_vec_pretty(witnessed)?)
}

/// Writes `bytes` to `path` so that after a crash it holds either its old content or
/// all of the new: a file beside it, fsynced, renamed over it, the folder fsynced.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::io::Write::write_all(&mut file, bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("syncing {}", parent.display()))?;
    }
    Ok(())
}

/// Now, as a cosignature's timestamp (POSIX seconds).
pub fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}
