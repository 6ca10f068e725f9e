//! Rewriting the store so that erased bytes leave every file: `Ledger::rewrite_store`.
//!
//! sled is log-structured: a value it replaced (a payload a redaction destroyed)
//! stays in its log segments until sled happens to reuse them, and the write-ahead
//! log may still hold the frame that first carried it. So after an erasure the
//! ledger is flushed (the write-ahead log emptied), every key and value is copied
//! into a fresh store beside the old one, and the fresh store takes the old one's
//! place; the old folder is then deleted.
//!
//! The swap survives a crash at any point, because it is finished by `Ledger::open`
//! under the ledger's lock (`finish_rewrite`):
//!
//! 1. `store.rewrite/` is written and fsynced; then the empty file
//!    `store.rewrite.done` is created and the data folder fsynced. Without that
//!    file, a `store.rewrite/` is unfinished and is deleted.
//! 2. With it: `store/` → `store.erased/`, `store.rewrite/` → `store/`, the data
//!    folder fsynced, `store.rewrite.done` removed, `store.erased/` deleted.
//!
//! No write reaches the old store between the copy and the swap: the copy is made
//! through the only open handle, which is then dropped before the ledger reopens.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::layout::STORE_DIR;
use crate::ledger::Ledger;
use crate::storage::{sync_dir, SledStore, Store, Write as StoreWrite};

const REWRITE_DIR: &str = "store.rewrite";
const DONE_FILE: &str = "store.rewrite.done";
const OLD_DIR: &str = "store.erased";

/// Writes applied to the fresh store per sled batch.
const COPY_BATCH: usize = 4096;

impl Ledger {
    /// Copies the store into a fresh one, which replaces it, so that no byte a
    /// redaction destroyed remains in any file of the data folder. Consumes the
    /// handle and returns it reopened.
    pub fn rewrite_store(self) -> Result<Ledger> {
        let dir = self.dir.clone();
        self.syncer().flush_store()?;
        let rewrite = dir.join(REWRITE_DIR);
        if rewrite.exists() {
            remove_dir(&rewrite)?;
        }
        let fresh = SledStore::create(&rewrite)?;
        let mut writes: Vec<StoreWrite> = Vec::with_capacity(COPY_BATCH);
        let mut failed = None;
        // Past every key: no key starts with 0xFF (see `layout::keys`).
        self.store.inner.scan(&[], &[0xFF], &mut |key, value| {
            writes.push((key.to_vec(), Some(value.to_vec())));
            if writes.len() == COPY_BATCH {
                if let Err(e) = fresh.apply(std::mem::take(&mut writes)) {
                    failed = Some(e);
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        fresh.commit(writes)?;
        drop(fresh);
        sync_dir(&rewrite)?;
        let done = dir.join(DONE_FILE);
        fs::File::create(&done)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(format!("creating {}", done.display()), e))?;
        sync_dir(&dir)?;
        drop(self);
        Ledger::reopen(&dir)
    }
}

/// Finishes or discards a store rewrite that a crash interrupted (see the module
/// comment). Called by `Ledger::open` under the lock, before the store is opened.
pub(crate) fn finish_rewrite(dir: &Path) -> Result<()> {
    let store = dir.join(STORE_DIR);
    let rewrite = dir.join(REWRITE_DIR);
    let done = dir.join(DONE_FILE);
    let old = dir.join(OLD_DIR);
    if done.exists() {
        if rewrite.is_dir() {
            if store.exists() {
                wait_until_closed(&store)?;
                rename(&store, &old)?;
            }
            rename(&rewrite, &store)?;
        }
        sync_dir(dir)?;
        fs::remove_file(&done).map_err(|e| Error::io(format!("removing {}", done.display()), e))?;
        sync_dir(dir)?;
    } else if rewrite.exists() {
        remove_dir(&rewrite)?;
    }
    if old.exists() && store.is_dir() {
        remove_dir(&old)?;
        sync_dir(dir)?;
    }
    Ok(())
}

/// Waits until no sled handle in this process holds the store (sled locks its `db`
/// file; a dropped handle's background flusher lets go a moment later), so that
/// nothing writes into the old store by path once it has been moved.
fn wait_until_closed(store: &Path) -> Result<()> {
    let db = store.join("db");
    let Ok(file) = fs::File::open(&db) else {
        return Ok(());
    };
    let mut waited = std::time::Duration::ZERO;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) if waited < std::time::Duration::from_secs(10) => {
                let pause = std::time::Duration::from_millis(10);
                std::thread::sleep(pause);
                waited += pause;
            }
            Err(_) => {
                return Err(Error::InUse {
                    path: store.to_path_buf(),
                })
            }
        }
    }
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to)
        .map_err(|e| Error::io(format!("moving {} to {}", from.display(), to.display()), e))
}

fn remove_dir(path: &Path) -> Result<()> {
    fs::remove_dir_all(path).map_err(|e| Error::io(format!("removing {}", path.display()), e))
}
