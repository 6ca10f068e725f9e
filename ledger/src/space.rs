//! The free-space guard: a write is refused, before anything of it is written, while
//! the disk holding the ledger has less free space than the write needs plus a
//! reserve. sled 0.34 must never meet a full disk — after a real ENOSPC it can hang
//! forever closing the store — so the reserve is what sled may still need to finish
//! what it has started (applying logged batches, its log segments, a snapshot).
//!
//! The reserve is 64 MiB unless `ASSURE_FREE_SPACE_RESERVE` (bytes) says otherwise
//! (a small disk for tests); `set_reserve` changes it for this process.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The reserve when nothing says otherwise.
pub const DEFAULT_RESERVE: u64 = 64 * 1024 * 1024;
/// What a batch may need on disk for each byte it holds: the write-ahead log's frame,
/// the store's record and its subject-index copy, and sled's own rewriting of them.
pub const BYTES_PER_BYTE: u64 = 4;
/// What one event may need on disk beyond its payload (header, keys, tree nodes).
pub const BYTES_PER_EVENT: u64 = 1024;

static RESERVE: OnceLock<AtomicU64> = OnceLock::new();

fn reserve_cell() -> &'static AtomicU64 {
    RESERVE.get_or_init(|| {
        let from_env = std::env::var("ASSURE_FREE_SPACE_RESERVE")
            .ok()
            .and_then(|v| v.trim().parse().ok());
        AtomicU64::new(from_env.unwrap_or(DEFAULT_RESERVE))
    })
}

/// The reserve in bytes.
pub fn reserve() -> u64 {
    reserve_cell().load(Ordering::Relaxed)
}

/// Sets the reserve for this process (tests on a small disk).
pub fn set_reserve(bytes: u64) {
    reserve_cell().store(bytes, Ordering::Relaxed);
}

/// Free space for an unprivileged writer on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> Result<u64> {
    let stat = rustix::fs::statvfs(dir).map_err(|e| {
        Error::io(
            format!("checking the free space for {}", dir.display()),
            e.into(),
        )
    })?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Refuses, with `Error::DiskFull`, unless `needed` bytes and the reserve are free.
pub fn ensure(dir: &Path, needed: u64) -> Result<()> {
    let free = free_bytes(dir)?;
    let wanted = needed.saturating_add(reserve());
    if free < wanted {
        return Err(Error::DiskFull {
            path: dir.to_path_buf(),
            free,
            needed: wanted,
        });
    }
    Ok(())
}

/// What a batch of events with these payload sizes may need on disk.
pub fn needed_for(payload_bytes: impl Iterator<Item = usize>) -> u64 {
    payload_bytes
        .map(|n| (n as u64).saturating_add(BYTES_PER_EVENT))
        .fold(0u64, u64::saturating_add)
        .saturating_mul(BYTES_PER_BYTE)
}
