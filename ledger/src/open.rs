//! Opening a data folder: `Ledger::init` (a new, empty ledger) and `Ledger::open`
//! (the marker, the OS lock, the write-ahead log's replay, and the head file
//! reconciled with the store). Opening a folder that is not a ledger writes nothing.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::blobs::BlobStore;
use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::faults::{self, Op};
use crate::storage::{sync_dir, SledStore, Store};

use crate::chunks::batch_writes;
use crate::head::HeadFile;
use crate::layout::*;
use crate::ledger::*;
use crate::settling::Settling;
use crate::syncer::Logged;

fn lock(dir: &Path, file: File) -> Result<File> {
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::InUse {
            path: dir.to_path_buf(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(Error::io(
            format!("locking {}", dir.join(LOCK_FILE).display()),
            e,
        )),
    }
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = path.display().to_string();
    let mut file = faults::io(Op::Create, &target, || {
        OpenOptions::new().write(true).create_new(true).open(path)
    })
    .map_err(|e| Error::io(format!("creating {target}"), e))?;
    faults::io(Op::Write, &target, || file.write_all(bytes))
        .and_then(|()| faults::io(Op::Fsync, &target, || file.sync_all()))
        .map_err(|e| Error::io(format!("writing {target}"), e))
}

impl Ledger {
    /// Creates a new, empty ledger in `dir` (which must not exist or be empty).
    pub fn init(dir: &Path) -> Result<Ledger> {
        if dir.join(MARKER_FILE).exists() {
            return Err(Error::AlreadyExists {
                path: dir.to_path_buf(),
                why: "a ledger already exists here; nothing was changed".into(),
            });
        }
        let not_empty = fs::read_dir(dir).map(|mut entries| entries.next().is_some());
        if let Ok(true) = not_empty {
            return Err(Error::AlreadyExists {
                path: dir.to_path_buf(),
                why: "the folder is not empty and is not a ledger; choose a new folder (nothing was changed)".into(),
            });
        }
        let created = !dir.exists();
        if created {
            // Folders missing above it are made, each durable in its own parent.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                crate::storage::create_dir_all_durably(parent)?;
            }
        }
        faults::io(Op::Create, &dir.display().to_string(), || {
            fs::create_dir_all(dir)
        })
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        if created {
            // The new folder's own entry must survive a power cut too.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        write_new_file(&dir.join(LOCK_FILE), b"")?;
        let lock_file =
            File::open(dir.join(LOCK_FILE)).map_err(|e| Error::io("opening the lock file", e))?;
        let lock_file = lock(dir, lock_file)?;
        write_new_file(&dir.join(HEAD_FILE), &codec::encode_head(&Head::EMPTY))?;
        faults::io(Op::Create, "evidence folder", || {
            fs::create_dir(dir.join(BLOBS_DIR))
        })
        .map_err(|e| Error::io("creating the evidence folder", e))?;
        let store = SledStore::create(&dir.join(STORE_DIR))?;
        store.commit(vec![
            (keys::HEAD.to_vec(), Some(codec::encode_head(&Head::EMPTY))),
            (
                crate::tree::FRONTIER_KEY.to_vec(),
                Some(crate::merkle::Frontier::new().to_bytes()),
            ),
        ])?;
        // The marker goes last: a folder without it was never a finished ledger.
        write_new_file(&dir.join(MARKER_FILE), MARKER_TEXT.as_bytes())?;
        sync_dir(dir)?;
        drop(store);
        drop(lock_file);
        Ledger::reopen(dir)
    }

    /// `open`, waiting out a lock let go of a moment ago: by this process (a child
    /// forked by another of its threads holds a copy of the lock's descriptor until
    /// its exec closes it — the OS lock follows the descriptor) or by a command just
    /// finishing. "In use" that lasts is reported after 2 s.
    pub fn reopen(dir: &Path) -> Result<Ledger> {
        let mut waited = std::time::Duration::ZERO;
        loop {
            match Ledger::open(dir) {
                Err(Error::InUse { .. }) if waited < std::time::Duration::from_secs(2) => {
                    let pause = std::time::Duration::from_millis(10);
                    std::thread::sleep(pause);
                    waited += pause;
                }
                reopened => return reopened,
            }
        }
    }
    /// Opens an existing ledger. A folder that is not a ledger, or is damaged, is an
    /// error; nothing is changed in that case, except that a store not as its last
    /// clean close left it is first copied to `preserved/` (`preserve.rs`), since
    /// sled's recovery may rewrite it.
    pub fn open(dir: &Path) -> Result<Ledger> {
        let not_a_ledger = |why: String| Error::NotALedger {
            path: dir.to_path_buf(),
            why,
        };
        if !dir.is_dir() {
            return Err(not_a_ledger("the folder does not exist".into()));
        }
        let marker = fs::read(dir.join(MARKER_FILE))
            .map_err(|e| not_a_ledger(format!("no readable {MARKER_FILE} file ({e})")))?;
        if marker != MARKER_TEXT.as_bytes() {
            return Err(not_a_ledger(format!(
                "{MARKER_FILE} does not say `Assure ledger, format 1`"
            )));
        }
        let lock_file = File::open(dir.join(LOCK_FILE)).map_err(|e| {
            Error::corruption(None, format!("lock file missing or unreadable: {e}"))
        })?;
        let lock_file = lock(dir, lock_file)?;
        let head_path = dir.join(HEAD_FILE);
        let head_file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&head_path)
            .map_err(|e| {
                Error::corruption(None, format!("head file missing or unreadable: {e}"))
            })?;
        let head_bytes = fs::read(&head_path).map_err(|e| Error::io("reading the head file", e))?;
        let file_head = codec::decode_head(&head_bytes)
            .map_err(|why| Error::corruption(None, format!("head file: {why}")))?;
        crate::rewrite::finish_rewrite(dir)?;
        let store_dir = dir.join(STORE_DIR);
        if !store_dir.is_dir() {
            return Err(Error::corruption(None, "the store folder is missing"));
        }
        let inner = SledStore::open(&store_dir)?;
        // Batches acknowledged from the write-ahead log that the store does not hold
        // yet (after a crash) are applied to it first; the log keeps them until the
        // store is flushed.
        let (wal, logged) = crate::wal::Wal::open(&dir.join(WAL_FILE))?;
        let mut applied = match inner.get(keys::HEAD)? {
            Some(bytes) => codec::decode_head(&bytes)
                .map_err(|why| Error::corruption(None, format!("store head record: {why}")))?,
            None => Head::EMPTY,
        };
        let mut replay = Vec::new();
        for batch in logged {
            if batch.head.size <= applied.size {
                continue;
            }
            if batch.base != applied.size {
                return Err(Error::corruption(
                    Some(applied.size),
                    format!(
                        "the write-ahead log continues at event {} but the store ends at {}: events are missing; \
                         keep a copy of the data folder and restore it from a backup or an export (`assure --data NEW restore --bundle DIR --trust VKEY`)",
                        batch.base, applied.size
                    ),
                ));
            }
            applied = batch.head;
            replay.push(batch);
        }
        if !replay.is_empty() {
            inner.apply(batch_writes(&replay))?;
        }
        let failed = Failure::default();
        let store = Arc::new(Settling {
            inner,
            pending: Mutex::new(Vec::new()),
            applying: Mutex::new(()),
            applied: Mutex::new(applied),
            failed: failed.clone(),
        });
        let blobs_dir = dir.join(BLOBS_DIR);
        if !blobs_dir.is_dir() {
            return Err(Error::corruption(None, "the evidence folder is missing"));
        }
        let mut ledger = Ledger {
            dir: dir.to_path_buf(),
            store,
            head: Head::EMPTY,
            head_file: Arc::new(HeadFile {
                file: head_file,
                size: Mutex::new(file_head.size),
            }),
            wal: Arc::new(Mutex::new(Logged {
                wal,
                flushed_at: std::time::Instant::now(),
            })),
            blobs: BlobStore::new(blobs_dir),
            clock: Box::new(system_clock),
            frontier: crate::merkle::Frontier::new(),
            failed,
            _lock: lock_file,
        };
        ledger.head = ledger.recover_head(file_head)?;
        ledger.frontier = crate::tree::read_frontier(ledger.store.get(crate::tree::FRONTIER_KEY)?)?;
        if ledger.frontier.size() != ledger.head.size {
            return Err(Error::corruption(
                None,
                format!(
                    "the Merkle tree covers {} events but the log holds {}",
                    ledger.frontier.size(),
                    ledger.head.size
                ),
            ));
        }
        Ok(ledger)
    }
    /// Reconciles the head recorded in the store with the head file and the last
    /// stored header. The store may be one batch ahead of the head file (a crash
    /// between the two writes); anything else that disagrees is damage.
    pub(crate) fn recover_head(&mut self, file_head: Head) -> Result<Head> {
        let stored = self
            .store
            .get(keys::HEAD)?
            .ok_or_else(|| Error::corruption(None, "the store has no head record"))?;
        let store_head = codec::decode_head(&stored)
            .map_err(|why| Error::corruption(None, format!("store head record: {why}")))?;
        if store_head.size < file_head.size {
            return Err(Error::corruption(
                Some(store_head.size),
                format!(
                    "the head file records {} events but the store holds {}: events were removed from the end",
                    file_head.size, store_head.size
                ),
            ));
        }
        // The last stored header must be the recorded head, with nothing after it.
        let last = self.last_stored_event()?;
        let stored_size = last.as_ref().map_or(0, |e| e.header.seq + 1);
        if stored_size != store_head.size {
            return Err(Error::corruption(
                Some(stored_size.min(store_head.size)),
                format!(
                    "the store's head record says {} events but its last event is number {}",
                    store_head.size, stored_size
                ),
            ));
        }
        if let Some(event) = last {
            if event.header.event_hash() != store_head.hash {
                return Err(Error::corruption(
                    Some(stored_size - 1),
                    "the last event does not hash to the recorded head",
                ));
            }
        }
        // Reads below need the head the store claims; it is only kept if all agrees.
        self.head = store_head;
        if store_head.size > file_head.size {
            if file_head.size > 0 {
                let at = file_head.size - 1;
                if self.header(at)?.event_hash() != file_head.hash {
                    return Err(Error::corruption(
                        Some(at),
                        "event does not match the head file: history before the head was rewritten",
                    ));
                }
            }
            self.head_file.write(&store_head)?;
        } else if store_head.hash != file_head.hash {
            return Err(Error::corruption(
                store_head.size.checked_sub(1),
                "the last event does not match the head file",
            ));
        }
        Ok(store_head)
    }
}
