//! The `Syncer`: makes staged batches durable, from any thread and without the
//! ledger, so that the next batch can be prepared while one is logged (group commit
//! in a pipeline). `sync` logs (the frames written and fdatasynced in the
//! write-ahead log); `maintain` applies and, when the log is large or old, flushes;
//! `flush_store` flushes (sled flushed and fsynced, the head file updated, the log
//! emptied).

use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::head::HeadFile;
use crate::ledger::{note_failure, writable, Failure};
use crate::settling::{Settling, SETTLE_EVENTS};
use crate::storage::Store;

/// How large the write-ahead log grows, or how long, before the store is flushed
/// and the log emptied.
const FLUSH_BYTES: u64 = 64 << 20;
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The write-ahead log and when the store was last flushed.
#[derive(Debug)]
pub(crate) struct Logged {
    pub(crate) wal: crate::wal::Wal,
    pub(crate) flushed_at: std::time::Instant,
}

/// Makes staged batches durable, from any thread and without the ledger, so that the
/// next batch can be prepared while one is logged (group commit in a pipeline).
#[derive(Clone)]
pub struct Syncer {
    pub(crate) store: Arc<Settling>,
    pub(crate) wal: Arc<Mutex<Logged>>,
    pub(crate) head_file: Arc<HeadFile>,
    pub(crate) failed: Failure,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer").finish_non_exhaustive()
    }
}

impl Syncer {
    /// Logs staged batches (makes them durable): appends their frames (from `Staged::frame`, in
    /// staging order) to the write-ahead log and fdatasyncs it. A failure makes the
    /// ledger refuse writes, as a failed `append` does: nothing staged after the last
    /// successful sync may be acknowledged.
    pub fn sync(&self, frames: &[&[u8]]) -> Result<()> {
        writable(&self.failed)?;
        let mut logged = self.wal.lock().unwrap_or_else(|p| p.into_inner());
        // One group frame for all of them: a torn write is then one torn frame.
        let appended = logged.wal.append(&crate::wal::group(frames));
        note_failure(&self.failed, appended)
    }

    /// Housekeeping after syncs: applies staged batches to the store once enough
    /// wait, and flushes the store and empties the log once it is large or old.
    pub fn maintain(&self) -> Result<()> {
        if self.store.pending_events() >= SETTLE_EVENTS {
            self.store.settle()?;
        }
        let due = {
            let logged = self.wal.lock().unwrap_or_else(|p| p.into_inner());
            logged.wal.len() >= FLUSH_BYTES
                || (logged.wal.len() > 0 && logged.flushed_at.elapsed() >= FLUSH_EVERY)
        };
        if due {
            self.flush_store()?;
        }
        Ok(())
    }

    /// Flushes: makes everything staged durable in the store itself — applies it,
    /// flushes and fsyncs sled, records the head in the head file and empties the
    /// write-ahead log. (Not a checkpoint: that word is the signed tree head.)
    pub fn flush_store(&self) -> Result<()> {
        writable(&self.failed)?;
        // Holding the log: every frame in it is of a batch staged before, which the
        // flush below covers.
        let mut logged = self.wal.lock().unwrap_or_else(|p| p.into_inner());
        let flushed = self.store.sync().and_then(|()| {
            let head = *self.store.applied.lock().unwrap_or_else(|p| p.into_inner());
            self.head_file.write(&head)
        });
        note_failure(&self.failed, flushed)?;
        let emptied = logged.wal.empty();
        note_failure(&self.failed, emptied)?;
        logged.flushed_at = std::time::Instant::now();
        Ok(())
    }
}
