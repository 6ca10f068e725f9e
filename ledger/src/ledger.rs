//! `Ledger`: the append-only event log in a data folder.
//!
//! A data folder holds a marker file, a lock file, the head file, the sled store and
//! the evidence blobs. One process at a time opens it (an OS file lock), and within
//! that process `&mut self` makes `append` the single writer. `append` assigns seq,
//! prev, recorded_at and salt, writes a whole batch atomically and returns only once
//! it is durable. There is no API here that deletes or rewrites an event header.
//! Opening is in `open.rs`, reads by seq in `reads.rs`, by subject in `index.rs`,
//! lawful erasure in `redaction.rs`; the life of an append (staged → logged →
//! applied → flushed) is told in the crate docs.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::blobs::BlobStore;
use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::header::{payload_hash, EventHeader, NewEvent, SaltedPayload, GENESIS_PREV};
use crate::storage::{Store, Write as StoreWrite};

use crate::head::HeadFile;
use crate::layout::*;
use crate::settling::Settling;
use crate::syncer::{Logged, Syncer};

/// The largest payload of one event (64 KiB). Longer material belongs in evidence.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
const MAX_ACTOR_BYTES: usize = 256;
const MAX_SUBJECT_BYTES: usize = 1024;
const MAX_KIND_BYTES: usize = 128;

pub(crate) type IndexVisitor<'a> = dyn FnMut(&[u8], u64, &[u8]) -> Result<bool> + 'a;

/// The clock that stamps `recorded_at`: UTC microseconds since 1970.
pub type Clock = Box<dyn FnMut() -> i64 + Send + Sync>;

pub(crate) fn system_clock() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// An open data folder. Dropping it releases the lock.
pub struct Ledger {
    pub(crate) dir: PathBuf,
    pub(crate) store: Arc<Settling>,
    pub(crate) head: Head,
    pub(crate) head_file: Arc<HeadFile>,
    pub(crate) wal: Arc<Mutex<Logged>>,
    pub(crate) blobs: BlobStore,
    pub(crate) clock: Clock,
    /// The right edge of the Merkle tree over every event so far.
    pub(crate) frontier: crate::merkle::Frontier,
    /// Set when a store commit failed: the store may then hold, in memory or on disk,
    /// a batch that was never acknowledged and may not be durable (after a failed
    /// fsync the OS may have dropped the pages: "fsyncgate"). Writing on top of it
    /// would leave stale index entries or build on a hole, so this handle refuses
    /// further writes; reopening reconciles the store and the head file. Shared with
    /// this ledger's `Syncer`s, whose failures count the same.
    pub(crate) failed: Failure,
    /// Held for the lifetime of the ledger: the OS lock that keeps other processes out.
    pub(crate) _lock: File,
}

impl Drop for Ledger {
    /// Moves what the write-ahead log holds into the store, so that the log is empty
    /// between runs. If that fails the log keeps it, and the next open applies it.
    fn drop(&mut self) {
        let logged = self.wal.lock().map_or(0, |l| l.wal.len());
        if (logged > 0 || self.store.pending_events() > 0) && !self.writes_refused() {
            let _ = self.syncer().flush_store();
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
pub(crate) type Failure = Arc<Mutex<Option<String>>>;

pub(crate) fn refused(failed: &Failure) -> Option<String> {
    failed.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Refuses writes after a failed store write or sync.
pub(crate) fn writable(failed: &Failure) -> Result<()> {
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

pub(crate) fn note_failure<T>(failed: &Failure, result: Result<T>) -> Result<T> {
    if let Err(e) = &result {
        *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
    }
    result
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

impl Ledger {
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
    /// `stage`, stamping the batch `recorded_at` (UTC microseconds) as read from the
    /// clock by the caller beforehand, so that what it built from that time matches
    /// the headers; never earlier than the head's, which it is raised to.
    pub fn stage_at(&mut self, events: Vec<NewEvent>, recorded_at: i64) -> Result<Staged> {
        self.stage_stamped(events, Vec::new(), Some(recorded_at))
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
    pub(crate) fn stage_with(
        &mut self,
        events: Vec<NewEvent>,
        extra: Vec<StoreWrite>,
    ) -> Result<Staged> {
        self.stage_stamped(events, extra, None)
    }
    fn stage_stamped(
        &mut self,
        events: Vec<NewEvent>,
        extra: Vec<StoreWrite>,
        at: Option<i64>,
    ) -> Result<Staged> {
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
        // What the write-ahead log holds is still to be written into the store too.
        let logged = std::fs::metadata(self.dir.join(WAL_FILE)).map_or(0, |m| m.len());
        let needed = crate::space::needed_for(events.iter().map(|e| e.payload.len()));
        crate::space::ensure(
            &self.dir,
            needed.saturating_add(logged.saturating_mul(crate::space::BYTES_PER_BYTE)),
        )?;
        let recorded_at = at
            .unwrap_or_else(|| (self.clock)())
            .max(self.head.recorded_at);
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
}

pub(crate) fn check_new_event(event: &NewEvent) -> Result<()> {
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
