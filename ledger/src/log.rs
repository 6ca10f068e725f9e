//! `Ledger`: the append-only event log in a data folder.
//!
//! A data folder holds a marker file, a lock file, the head file, the sled store and
//! the evidence blobs. One process at a time opens it (an OS file lock), and within
//! that process `&mut self` makes `append` the single writer. `append` assigns seq,
//! prev, recorded_at and salt, writes a whole batch atomically and returns only once
//! it is durable. There is no API here that deletes or rewrites an event header.
//! Reads by subject live in `index.rs`, lawful erasure in `redaction.rs`.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::blobs::BlobStore;
use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::faults::{self, Op};
use crate::header::{payload_hash, Event, EventHeader, NewEvent, SaltedPayload, GENESIS_PREV};
use crate::storage::{sync_dir, SledStore, Store, Visitor, Write as StoreWrite};

const MARKER_FILE: &str = "ASSURE-LEDGER";
const MARKER_TEXT: &str = "Assure ledger\nformat: 1\n";
const LOCK_FILE: &str = "LOCK";
const HEAD_FILE: &str = "HEAD";
const STORE_DIR: &str = "store";
const BLOBS_DIR: &str = "blobs";
const WAL_FILE: &str = "wal";
/// Staged events the store may lag behind by before they are applied to it.
const SETTLE_EVENTS: usize = 2048;
/// How large the write-ahead log grows, or how long, before the store is flushed
/// and the log emptied.
const CHECKPOINT_BYTES: u64 = 64 << 20;
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The most events stored in one chunk of the log.
const CHUNK_EVENTS: usize = 128;

/// The largest payload of one event (64 KiB). Longer material belongs in evidence.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
const MAX_ACTOR_BYTES: usize = 256;
const MAX_SUBJECT_BYTES: usize = 1024;
const MAX_KIND_BYTES: usize = 128;

/// Key layout of the store. Seqs and times are big-endian so byte order is numeric order.
pub(crate) use keys::INDEX_PARTS;

pub(crate) mod keys {
    /// `e ‖ first seq` → a chunk of consecutive event records (the log itself).
    pub const EVENT: u8 = b'e';
    pub const SUBJECT: u8 = b's';
    pub const TIME: u8 = b't';
    pub const HEAD: &[u8] = b"m/head";

    pub fn seq_key(space: u8, seq: u64) -> [u8; 9] {
        let mut key = [space; 9];
        key[1..].copy_from_slice(&seq.to_be_bytes());
        key
    }

    /// The subject index is split by `first seq % INDEX_PARTS` so that `verify` can
    /// check the parts on both cores.
    pub const INDEX_PARTS: u8 = 4;

    /// The index groups events by the first two parts of their subject: a plan
    /// (`plan/{id}` and all its actions), one challenge, `ledger`.
    pub fn group_of(subject: &str) -> &str {
        match subject.match_indices('/').nth(1) {
            Some((at, _)) => &subject[..at],
            None => subject,
        }
    }

    /// `s ‖ part ‖ group ‖ 0x00 ‖ first seq` → a chunk of copies of the records of that
    /// group's events appended in one batch: a covering index, so a plan's events are
    /// a few contiguous reads. `verify` checks every copy against the log. Subjects
    /// hold no control characters, so 0x00 ends the group.
    pub fn index_key(group: &str, first_seq: u64) -> Vec<u8> {
        let mut key = Vec::with_capacity(group.len() + 11);
        key.push(SUBJECT);
        key.push(b'0' + (first_seq % u64::from(INDEX_PARTS)) as u8);
        key.extend_from_slice(group.as_bytes());
        key.push(0);
        key.extend_from_slice(&first_seq.to_be_bytes());
        key
    }

    /// `t ‖ recorded_at (sign bit flipped, big-endian) ‖ seq`.
    pub fn time_key(recorded_at: i64, seq: u64) -> [u8; 17] {
        let mut key = [TIME; 17];
        key[1..9].copy_from_slice(&((recorded_at as u64) ^ (1 << 63)).to_be_bytes());
        key[9..].copy_from_slice(&seq.to_be_bytes());
        key
    }

    /// The key range of one index part holding `group` exactly, or every group that
    /// starts with it.
    pub fn group_range(part: u8, group: &[u8], exact: bool) -> (Vec<u8>, Vec<u8>) {
        let mut start = vec![SUBJECT, b'0' + part];
        start.extend_from_slice(group);
        let mut end = start.clone();
        if exact {
            start.push(0);
            end.push(1);
        } else {
            // No UTF-8 byte is 0xFF, so this is past every key that starts with `start`.
            end.push(0xFF);
        }
        (start, end)
    }

    pub fn seq_from_suffix(key: &[u8]) -> Option<u64> {
        let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
        Some(u64::from_be_bytes(tail))
    }
}

/// A visitor of subject-index entries: the subject, the seq and the record copy.
pub(crate) type IndexVisitor<'a> = dyn FnMut(&[u8], u64, &[u8]) -> Result<bool> + 'a;

/// The clock that stamps `recorded_at`: UTC microseconds since 1970.
pub type Clock = Box<dyn FnMut() -> i64 + Send + Sync>;

fn system_clock() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// An open data folder. Dropping it releases the lock.
pub struct Ledger {
    dir: PathBuf,
    pub(crate) store: Arc<Settling>,
    head: Head,
    head_file: Arc<HeadFile>,
    wal: Arc<Mutex<Logged>>,
    blobs: BlobStore,
    clock: Clock,
    /// The right edge of the Merkle tree over every event so far.
    frontier: crate::merkle::Frontier,
    /// Set when a store commit failed: the store may then hold, in memory or on disk,
    /// a batch that was never acknowledged and may not be durable (after a failed
    /// fsync the OS may have dropped the pages: "fsyncgate"). Writing on top of it
    /// would leave stale index entries or build on a hole, so this handle refuses
    /// further writes; reopening reconciles the store and the head file. Shared with
    /// this ledger's `Syncer`s, whose failures count the same.
    failed: Failure,
    /// Held for the lifetime of the ledger: the OS lock that keeps other processes out.
    _lock: File,
}

impl Drop for Ledger {
    /// Moves what the write-ahead log holds into the store, so that the log is empty
    /// between runs. If that fails the log keeps it, and the next open applies it.
    fn drop(&mut self) {
        let logged = self.wal.lock().map_or(0, |l| l.wal.len());
        if (logged > 0 || self.store.pending_events() > 0) && !self.writes_refused() {
            let _ = self.syncer().checkpoint();
        }
    }
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("dir", &self.dir)
            .field("head", &self.head)
            .finish()
    }
}

/// Why writes are refused, once a store write or sync has failed (see `Ledger::failed`).
type Failure = Arc<Mutex<Option<String>>>;

fn refused(failed: &Failure) -> Option<String> {
    failed.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Refuses writes after a failed store write or sync.
fn writable(failed: &Failure) -> Result<()> {
    match refused(failed) {
        None => Ok(()),
        Some(why) => Err(Error::Storage {
            what: "writing".into(),
            message: format!(
                "an earlier write to the store failed ({why}), so the store may hold a batch that is not durable; \
                 nothing more is written through this handle: reopen the ledger (restart the command or the server) and try again"
            ),
        }),
    }
}

fn note_failure<T>(failed: &Failure, result: Result<T>) -> Result<T> {
    if let Err(e) = &result {
        *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
    }
    result
}

/// The head file: the last durable head, kept outside the store so that a store
/// rolled back to an older state is caught at open. It only moves forward.
#[derive(Debug)]
struct HeadFile {
    file: File,
    /// The size it records, so that a sync finishing late never moves it back.
    size: Mutex<u64>,
}

impl HeadFile {
    fn write(&self, head: &Head) -> Result<()> {
        let mut size = self.size.lock().unwrap_or_else(|p| p.into_inner());
        if head.size <= *size {
            return Ok(()); // already recorded, or a later head is
        }
        faults::io(Op::Write, "head file", || {
            self.file.write_all_at(&codec::encode_head(head), 0)
        })
        .and_then(|()| faults::io(Op::Fsync, "head file", || self.file.sync_data()))
        .map_err(|e| Error::io("updating the head file", e))?;
        *size = head.size;
        Ok(())
    }
}

/// A batch staged by `Ledger::stage`: readable at once, durable once a `Syncer` has
/// logged its frame.
#[derive(Debug)]
pub struct Staged {
    pub headers: Vec<EventHeader>,
    /// Each header's `event_hash`, as the chain and the Merkle tree use it.
    pub hashes: Vec<crate::Hash>,
    /// The head after the batch.
    pub head: Head,
    /// The batch as a write-ahead log frame, for `Syncer::sync`.
    pub frame: Vec<u8>,
}

/// The store as the ledger sees it: sled, plus the staged batches not applied to it
/// yet, which every read and write applies first (many batches in one sled batch,
/// which costs far less than one each).
pub(crate) struct Settling {
    inner: SledStore,
    pending: Mutex<Vec<crate::wal::Batch>>,
    /// Held while staged batches are applied to sled.
    applying: Mutex<()>,
    /// The head of the last batch applied to sled.
    applied: Mutex<Head>,
    failed: Failure,
}

impl Settling {
    /// Applies every staged batch to sled (not durably: see `Syncer::checkpoint`).
    ///
    /// Staging only waits for the moment the pending batches are taken, not for sled;
    /// readers wait for a settle in progress (`applying`), so none reads the store
    /// between batches being taken and their being applied.
    fn settle(&self) -> Result<()> {
        let _applying = self.applying.lock().unwrap_or_else(|p| p.into_inner());
        let batches = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        // Even after a failed write: the batches staged before it may have been
        // acknowledged, and reads must see them (only in memory: nothing is flushed
        // through a handle that refuses writes, see `Syncer::checkpoint`).
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

    fn stage(&self, batch: crate::wal::Batch) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(batch);
    }

    /// Takes back the batch staged last, whose sync failed (one stager at a time:
    /// the ledger's own `append`).
    fn unstage_last(&self) {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).pop();
    }

    fn pending_events(&self) -> usize {
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

/// The store writes for consecutive staged batches: their records in chunks of up to
/// `CHUNK_EVENTS` by seq, again by plan or challenge (the covering index), each
/// batch's own writes, and the head and frontier after the last.
fn batch_writes(batches: &[crate::wal::Batch]) -> Vec<StoreWrite> {
    let (Some(first), Some(last)) = (batches.first(), batches.last()) else {
        return Vec::new();
    };
    let records: Vec<&(String, Vec<u8>)> = batches.iter().flat_map(|b| &b.records).collect();
    let mut writes: Vec<StoreWrite> = Vec::new();
    for (i, chunk) in records.chunks(CHUNK_EVENTS).enumerate() {
        let bytes: Vec<&[u8]> = chunk.iter().map(|(_, r)| r.as_slice()).collect();
        writes.push((
            keys::seq_key(keys::EVENT, first.base + (i * CHUNK_EVENTS) as u64).to_vec(),
            Some(codec::encode_chunk(&bytes)),
        ));
    }
    let mut groups: std::collections::BTreeMap<&str, Vec<(u64, &Vec<u8>)>> =
        std::collections::BTreeMap::new();
    for (offset, (group, record)) in records.iter().enumerate() {
        groups
            .entry(group.as_str())
            .or_default()
            .push((first.base + offset as u64, record));
    }
    for (group, members) in groups {
        for chunk in members.chunks(CHUNK_EVENTS) {
            let copies: Vec<&[u8]> = chunk.iter().map(|(_, r)| r.as_slice()).collect();
            writes.push((
                keys::index_key(group, chunk[0].0),
                Some(codec::encode_chunk(&copies)),
            ));
        }
    }
    for batch in batches {
        writes.extend(batch.writes.iter().cloned());
    }
    writes.push((keys::HEAD.to_vec(), Some(codec::encode_head(&last.head))));
    writes.push((
        crate::tree::FRONTIER_KEY.to_vec(),
        Some(last.frontier.clone()),
    ));
    writes
}

/// The write-ahead log and when the store was last flushed.
#[derive(Debug)]
struct Logged {
    wal: crate::wal::Wal,
    checkpointed: std::time::Instant,
}

/// Makes staged batches durable, from any thread and without the ledger, so that the
/// next batch can be prepared while one is logged (group commit in a pipeline).
#[derive(Clone)]
pub struct Syncer {
    store: Arc<Settling>,
    wal: Arc<Mutex<Logged>>,
    head_file: Arc<HeadFile>,
    failed: Failure,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer").finish_non_exhaustive()
    }
}

impl Syncer {
    /// Makes staged batches durable: appends their frames (from `Staged::frame`, in
    /// staging order) to the write-ahead log and fdatasyncs it. A failure makes the
    /// ledger refuse writes, as a failed `append` does: nothing staged after the last
    /// successful sync may be acknowledged.
    pub fn sync(&self, frames: &[&[u8]]) -> Result<()> {
        writable(&self.failed)?;
        let mut logged = self.wal.lock().unwrap_or_else(|p| p.into_inner());
        let appended = logged.wal.append(&frames.concat());
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
            logged.wal.len() >= CHECKPOINT_BYTES
                || (logged.wal.len() > 0 && logged.checkpointed.elapsed() >= CHECKPOINT_EVERY)
        };
        if due {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Makes everything staged durable in the store itself: applies it, flushes and
    /// fsyncs the store, records the head in the head file and empties the log.
    pub fn checkpoint(&self) -> Result<()> {
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
        logged.checkpointed = std::time::Instant::now();
        Ok(())
    }
}

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
        Ledger::open(dir)
    }

    /// Opens an existing ledger. A folder that is not a ledger, or is damaged, is an
    /// error; nothing is created, written or deleted in that case.
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
                         keep a copy of the data folder and restore it from a backup or an export",
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
                checkpointed: std::time::Instant::now(),
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
    fn recover_head(&mut self, file_head: Head) -> Result<Head> {
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

    /// Replaces the clock that stamps `recorded_at` (for tests and benchmarks).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn head(&self) -> Head {
        self.head
    }

    pub fn size(&self) -> u64 {
        self.head.size
    }

    /// The right edge of the Merkle tree over every event so far.
    pub fn frontier(&self) -> &crate::merkle::Frontier {
        &self.frontier
    }

    /// A raw read of the store, for the tree and checkpoint modules.
    pub(crate) fn store_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.store.get(key)
    }

    /// A raw scan of the store, for the checkpoint module.
    pub(crate) fn store_scan(
        &self,
        start: &[u8],
        end: &[u8],
        visit: &mut crate::storage::Visitor<'_>,
    ) -> Result<()> {
        self.store.scan(start, end, visit)
    }

    /// A durable write of one key outside the event log (checkpoints). Never used for
    /// event records or their index.
    pub(crate) fn store_put(&mut self, key: &[u8], value: Vec<u8>) -> Result<()> {
        writable(&self.failed)?;
        let committed = self.store.commit(vec![(key.to_vec(), Some(value))]);
        note_failure(&self.failed, committed)
    }

    /// Whether this handle refuses writes after a failed store commit: it must be
    /// reopened (the command or the server restarted) before anything more is written.
    pub fn writes_refused(&self) -> bool {
        refused(&self.failed).is_some()
    }

    /// A handle that makes this ledger's staged batches durable (see `stage`).
    pub fn syncer(&self) -> Syncer {
        Syncer {
            store: self.store.clone(),
            wal: self.wal.clone(),
            head_file: self.head_file.clone(),
            failed: self.failed.clone(),
        }
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Appends a batch atomically: every event or none. Returns the headers once the
    /// batch is durable on disk.
    pub fn append(&mut self, events: Vec<NewEvent>) -> Result<Vec<EventHeader>> {
        self.append_with(events, Vec::new())
    }

    /// Stages a batch (every event or none) without writing anything: the ledger's
    /// head moves on and reads see the batch at once (the store applies it first),
    /// but nothing of it may be acknowledged until `Syncer::sync` has logged its
    /// frame (`Staged::frame`). `append` is `stage`, `sync`, then the batch applied
    /// to the store. A service stages the next batch while a `Syncer` on another
    /// thread logs the one before.
    pub fn stage(&mut self, events: Vec<NewEvent>) -> Result<Staged> {
        self.stage_with(events, Vec::new())
    }

    /// `append`, with extra store writes committed in the same atomic batch.
    pub(crate) fn append_with(
        &mut self,
        events: Vec<NewEvent>,
        extra: Vec<StoreWrite>,
    ) -> Result<Vec<EventHeader>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let before = (self.head, self.frontier.clone());
        let staged = self.stage_with(events, extra)?;
        let syncer = self.syncer();
        if let Err(e) = syncer.sync(&[&staged.frame]) {
            // Refused from now on; until reopened, reads show what was durable.
            self.store.unstage_last();
            (self.head, self.frontier) = before;
            return Err(e);
        }
        // The batch is durable in the log. One append at a time (the command line)
        // gains nothing from waiting to apply it to the store, so it goes in now. A
        // failure here is reported (the batch is then present after reopening, but
        // not acknowledged) and refuses the next write.
        self.store.settle()?;
        syncer.maintain()?;
        Ok(staged.headers)
    }

    fn stage_with(&mut self, events: Vec<NewEvent>, extra: Vec<StoreWrite>) -> Result<Staged> {
        if events.is_empty() {
            return Ok(Staged {
                headers: Vec::new(),
                hashes: Vec::new(),
                head: self.head,
                frame: Vec::new(),
            });
        }
        writable(&self.failed)?;
        for event in &events {
            check_new_event(event)?;
        }
        let recorded_at = (self.clock)().max(self.head.recorded_at);
        let mut records = Vec::with_capacity(events.len());
        let mut hashes = Vec::with_capacity(events.len());
        let mut headers = Vec::with_capacity(events.len());
        let mut head = self.head;
        // One call to the OS for every salt of the batch.
        let mut salts = vec![0u8; 16 * events.len()];
        getrandom::fill(&mut salts)
            .map_err(|e| Error::Rejected(format!("no randomness for the salts: {e}")))?;
        for (event, salt_bytes) in events.into_iter().zip(salts.chunks_exact(16)) {
            let mut salt = [0u8; 16];
            salt.copy_from_slice(salt_bytes);
            let header = EventHeader {
                seq: head.size,
                prev: if head.size == 0 {
                    GENESIS_PREV
                } else {
                    head.hash
                },
                recorded_at,
                effective: event.effective,
                actor: event.actor,
                subject: event.subject,
                kind: event.kind,
                payload_schema: event.payload_schema,
                payload_hash: payload_hash(&salt, &event.payload),
            };
            let leaf = header.leaf_bytes();
            let hash = *blake3::hash(&leaf).as_bytes();
            hashes.push(hash);
            let seq = header.seq;
            let body = SaltedPayload {
                salt,
                payload: event.payload,
            };
            records.push(codec::encode_record(&leaf, Some(&body)));
            head = Head {
                size: seq + 1,
                hash,
                recorded_at,
            };
            headers.push(header);
        }
        // Every event of a batch shares one recorded_at, so one time-index entry per
        // batch (pointing at its last seq) answers "what was known at T".
        let mut writes = vec![(
            keys::time_key(recorded_at, head.size - 1).to_vec(),
            Some(Vec::new()),
        )];
        let mut frontier = self.frontier.clone();
        writes.extend(crate::tree::grow(&mut frontier, &hashes)?);
        writes.extend(extra);
        let batch = crate::wal::Batch {
            base: self.head.size,
            head,
            records: headers
                .iter()
                .zip(records)
                .map(|(h, r)| (keys::group_of(&h.subject).to_owned(), r))
                .collect(),
            writes,
            frontier: frontier.to_bytes(),
        };
        let frame = crate::wal::frame(&batch);
        self.store.stage(batch);
        self.head = head;
        self.frontier = frontier;
        Ok(Staged {
            headers,
            hashes,
            head,
            frame,
        })
    }

    /// The header of event `seq`.
    pub fn header(&self, seq: u64) -> Result<EventHeader> {
        Ok(self.event(seq)?.header)
    }

    /// Event `seq` with its payload (unless redacted).
    pub fn event(&self, seq: u64) -> Result<Event> {
        if seq >= self.head.size {
            return Err(Error::Rejected(format!(
                "no event {seq}: the ledger holds {} events",
                self.head.size
            )));
        }
        let mut found = None;
        self.scan_raw(seq..seq + 1, &mut |at, record| {
            found = Some(decode_event(at, record)?);
            Ok(false)
        })?;
        found.ok_or_else(|| Error::corruption(Some(seq), "the event is missing from the store"))
    }

    /// The last event in the store, whatever the head says.
    fn last_stored_event(&self) -> Result<Option<Event>> {
        let Some((key, chunk)) = self.store.last_in(&[keys::EVENT], &[keys::EVENT + 1])? else {
            return Ok(None);
        };
        let first = keys::seq_from_suffix(&key)
            .ok_or_else(|| Error::corruption(None, "a stored key is malformed"))?;
        let mut last = None;
        for (i, record) in codec::chunk_records(&chunk).enumerate() {
            let seq = first + i as u64;
            let record = record.map_err(|why| Error::corruption(Some(seq), why))?;
            last = Some((seq, record.to_vec()));
        }
        match last {
            Some((seq, record)) => Ok(Some(decode_event(seq, &record)?)),
            None => Err(Error::corruption(Some(first), "an empty chunk is stored")),
        }
    }

    /// Visits events in `range` in seq order until `visit` returns `Ok(false)`.
    /// Records are decoded strictly; damaged ones are errors naming their seq.
    pub fn scan(
        &self,
        range: Range<u64>,
        visit: &mut dyn FnMut(Event) -> Result<bool>,
    ) -> Result<()> {
        let mut expected = range.start;
        self.scan_raw(range, &mut |seq, bytes| {
            if seq != expected {
                return Err(Error::corruption(
                    Some(expected),
                    "the event is missing from the store",
                ));
            }
            expected += 1;
            visit(decode_event(seq, bytes)?)
        })
    }

    /// The stored records in `range`, undecoded, with their seqs.
    pub(crate) fn scan_raw(
        &self,
        range: Range<u64>,
        visit: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let end = range.end.min(self.head.size);
        if range.start >= end {
            return Ok(());
        }
        // Start at the chunk that holds `range.start`.
        let first_key = self
            .store
            .last_in(
                &keys::seq_key(keys::EVENT, 0),
                &keys::seq_key(keys::EVENT, range.start.saturating_add(1)),
            )?
            .map(|(key, _)| key)
            .ok_or_else(|| {
                Error::corruption(Some(range.start), "the event is missing from the store")
            })?;
        let mut expected = None;
        self.store.scan(
            &first_key,
            &keys::seq_key(keys::EVENT, end),
            &mut |key, chunk| {
                let first = keys::seq_from_suffix(key)
                    .ok_or_else(|| Error::corruption(None, "a stored key is malformed"))?;
                if let Some(expected) = expected {
                    if first != expected {
                        return Err(Error::corruption(
                            Some(expected),
                            format!(
                                "events {expected} to {} are missing from the store",
                                first.saturating_sub(1)
                            ),
                        ));
                    }
                }
                let mut seq = first;
                for record in codec::chunk_records(chunk) {
                    let record = record.map_err(|why| Error::corruption(Some(seq), why))?;
                    if seq >= end {
                        return Ok(false);
                    }
                    if seq >= range.start && !visit(seq, record)? {
                        return Ok(false);
                    }
                    seq += 1;
                }
                if seq == first {
                    return Err(Error::corruption(Some(first), "an empty chunk is stored"));
                }
                expected = Some(seq);
                Ok(true)
            },
        )
    }

    /// How many events had been recorded at or before `micros` (UTC microseconds):
    /// the log size as it was known then. Uses the recorded-time index.
    pub fn size_known_at(&self, micros: i64) -> Result<u64> {
        let start = [keys::TIME];
        let end = keys::time_key(micros, u64::MAX);
        let last = self.store.last_in(&start, &end)?;
        Ok(match last {
            Some((key, _)) => keys::seq_from_suffix(&key).map_or(0, |s| s + 1),
            None => {
                // `end` excludes seq u64::MAX at exactly `micros`; no log is that long.
                0
            }
        })
    }
}

/// Decodes a stored record and checks that it is stored under its own seq.
pub(crate) fn decode_event(seq: u64, bytes: &[u8]) -> Result<Event> {
    let parts = codec::split_record(bytes).map_err(|why| Error::corruption(Some(seq), why))?;
    let header =
        codec::decode_header(parts.leaf).map_err(|why| Error::corruption(Some(seq), why))?;
    if header.seq != seq {
        return Err(Error::corruption(
            Some(seq),
            format!("stored under seq {seq} but says seq {}", header.seq),
        ));
    }
    Ok(Event {
        header,
        body: parts.salted(),
    })
}

fn check_new_event(event: &NewEvent) -> Result<()> {
    let field = |name: &str, value: &str, max: usize| -> Result<()> {
        if value.is_empty() {
            return Err(Error::Rejected(format!("the event's {name} is empty")));
        }
        if value.len() > max {
            return Err(Error::Rejected(format!(
                "the event's {name} is {} bytes, over the limit of {max}",
                value.len()
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::Rejected(format!(
                "the event's {name} {value:?} contains control characters"
            )));
        }
        Ok(())
    };
    field("actor", &event.actor, MAX_ACTOR_BYTES)?;
    field("subject", &event.subject, MAX_SUBJECT_BYTES)?;
    field("kind", &event.kind, MAX_KIND_BYTES)?;
    if event.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::Rejected(format!(
            "the event's text is {} bytes, over the limit of {} KiB; shorten it or attach the material as evidence",
            event.payload.len(),
            MAX_PAYLOAD_BYTES / 1024
        )));
    }
    Ok(())
}

#[cfg(test)]
impl Ledger {
    /// The stored record of an event in the log (tests only).
    pub(crate) fn raw_record(&self, seq: u64) -> Option<Vec<u8>> {
        let mut found = None;
        self.scan_raw(seq..seq + 1, &mut |_, record| {
            found = Some(record.to_vec());
            Ok(false)
        })
        .ok()?;
        found
    }

    /// Replaces one record inside its chunk behind the ledger's back, as an attacker
    /// with write access to the store could (tests only).
    #[allow(clippy::unwrap_used)]
    pub(crate) fn tamper_raw_record(&self, seq: u64, bytes: Vec<u8>) {
        let (key, mut records, at) = self.chunk_containing(seq).unwrap();
        records[at] = bytes;
        self.store
            .commit(vec![(key, Some(codec::encode_chunk(&records)))])
            .unwrap();
    }

    /// Replaces the subject-index copy of an event (tests only).
    #[allow(clippy::unwrap_used)]
    pub(crate) fn tamper_index_copy(&self, subject: &str, seq: u64, bytes: Vec<u8>) {
        let (key, mut records, at) = self.index_chunk_containing(subject, seq).unwrap();
        records[at] = bytes;
        self.store
            .commit(vec![(key, Some(codec::encode_chunk(&records)))])
            .unwrap();
    }

    /// Overwrites any store key behind the ledger's back (tests only).
    #[allow(clippy::unwrap_used)]
    pub(crate) fn tamper_store(&self, key: &[u8], bytes: Vec<u8>) {
        self.store
            .commit(vec![(key.to_vec(), Some(bytes))])
            .unwrap();
    }
}
