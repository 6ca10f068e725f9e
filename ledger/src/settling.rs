//! The settling overlay: the store as the ledger sees it — sled, plus the batches
//! staged and not yet applied to it, which every read and write applies first (many
//! batches in one sled batch, which costs far less than one each). Staged batches
//! are readable at once; they are applied here and flushed by `Syncer::flush_store`.

use std::sync::Mutex;

use crate::chunks::batch_writes;
use crate::codec::Head;
use crate::error::Result;
use crate::ledger::{note_failure, Failure};
use crate::storage::{SledStore, Store, Visitor, Write as StoreWrite};

/// Staged events the store may lag behind by before they are applied to it.
pub(crate) const SETTLE_EVENTS: usize = 2048;

/// The store as the ledger sees it: sled, plus the staged batches not applied to it
/// yet, which every read and write applies first (many batches in one sled batch,
/// which costs far less than one each).
pub(crate) struct Settling {
    pub(crate) inner: SledStore,
    pub(crate) pending: Mutex<Vec<crate::wal::Batch>>,
    /// Held while staged batches are applied to sled.
    pub(crate) applying: Mutex<()>,
    /// The head of the last batch applied to sled.
    pub(crate) applied: Mutex<Head>,
    pub(crate) failed: Failure,
}

impl Settling {
    /// Applies every staged batch to sled (not durably: see `Syncer::flush_store`).
    ///
    /// Staging only waits for the moment the pending batches are taken, not for sled;
    /// readers wait for a settle in progress (`applying`), so none reads the store
    /// between batches being taken and their being applied.
    pub(crate) fn settle(&self) -> Result<()> {
        let _applying = self.applying.lock().unwrap_or_else(|p| p.into_inner());
        let batches = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        // Even after a failed write: the batches staged before it may have been
        // acknowledged, and reads must see them (only in memory: nothing is flushed
        // through a handle that refuses writes, see `Syncer::flush_store`).
        let Some(last) = batches.last().map(|b| b.head) else {
            return Ok(());
        };
        if let Err(e) = self.inner.apply(batch_writes(&batches)) {
            // Nothing was applied (a sled batch is atomic): they wait again, first.
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.splice(0..0, batches);
            return note_failure(&self.failed, Err(e));
        }
        *self.applied.lock().unwrap_or_else(|p| p.into_inner()) = last;
        Ok(())
    }

    pub(crate) fn stage(&self, batch: crate::wal::Batch) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(batch);
    }

    /// Takes back the batch staged last, whose sync failed (one stager at a time:
    /// the ledger's own `append`).
    pub(crate) fn unstage_last(&self) {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).pop();
    }

    pub(crate) fn pending_events(&self) -> usize {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.iter().map(|b| b.records.len()).sum()
    }
}

impl Store for Settling {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.settle()?;
        self.inner.get(key)
    }

    fn scan(&self, start: &[u8], end: &[u8], visit: &mut Visitor<'_>) -> Result<()> {
        self.settle()?;
        self.inner.scan(start, end, visit)
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.settle()?;
        self.inner.last_in(start, end)
    }

    fn apply(&self, writes: Vec<StoreWrite>) -> Result<()> {
        self.settle()?;
        self.inner.apply(writes)
    }

    fn sync(&self) -> Result<()> {
        self.settle()?;
        self.inner.sync()
    }
}
