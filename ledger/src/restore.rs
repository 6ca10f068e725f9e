//! Restore: a new ledger rebuilt from an export bundle of the whole ledger, every
//! event exactly as it was (seq, prev, recorded_at, salt and payload, so every hash,
//! every Merkle root and every proof handed out before still holds), its evidence
//! files and its checkpoint. The bundle is verified against keys the caller trusts
//! before anything is written, each event is checked again as it goes in, and the
//! new ledger is verified whole before the restore reports success; a restore that
//! stops part-way leaves a folder that is not reported as restored (remove it and
//! run it again).

use std::io::BufRead as _;
use std::path::Path;

use crate::checkpoint::SignedCheckpoint;
use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::header::{payload_hash, Event, GENESIS_PREV};
use crate::layout::keys;
use crate::ledger::{check_new_event, writable};
use crate::note::VerifierKey;
use crate::proof::bundle::{parse_line, verify_bundle, BLOBS_DIR, CHECKPOINT_FILE, EVENTS_FILE};
use crate::{Ledger, NewEvent};

/// Events written per atomic batch while restoring.
const BATCH: usize = 4096;

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub events: u64,
    pub evidence_files: u64,
    /// The checkpoint's tree size (every event) and who signed it.
    pub size: u64,
    pub signers: Vec<String>,
}

impl Ledger {
    /// Creates a ledger in `into` (a new or empty folder) from the export bundle in
    /// `bundle`, which must verify against `trusted` and hold the whole ledger (not
    /// an excerpt).
    pub fn restore(
        bundle: &Path,
        trusted: &[VerifierKey],
        into: &Path,
    ) -> Result<(Ledger, Restored)> {
        let report = verify_bundle(bundle, trusted);
        if !report.ok {
            let at = report
                .first_bad_seq
                .map(|s| format!(" at seq {s}"))
                .unwrap_or_default();
            return Err(Error::Rejected(format!(
                "the bundle in {} does not verify{at}: {}; nothing was restored",
                bundle.display(),
                report.problem.unwrap_or_default()
            )));
        }
        if report.excerpt {
            return Err(Error::Rejected(format!(
                "{} is an excerpt (one subject's events), not the whole ledger; restore needs an export of the whole ledger",
                bundle.display()
            )));
        }
        let checkpoint = std::fs::read(bundle.join(CHECKPOINT_FILE))
            .map_err(|e| Error::io(format!("reading {}", bundle.display()), e))
            .and_then(|bytes| {
                SignedCheckpoint::parse(&bytes)
                    .map_err(|e| Error::Rejected(format!("{CHECKPOINT_FILE}: {e}")))
            })?;
        let mut ledger = Ledger::init(into)?;
        let evidence_files = ledger.restore_blobs(&bundle.join(BLOBS_DIR))?;
        ledger.restore_events(&bundle.join(EVENTS_FILE))?;
        ledger.keep_checkpoint(&checkpoint)?;
        let check = ledger.verify();
        if !check.ok || check.size != report.size {
            return Err(Error::corruption(
                check.first_bad_seq,
                format!(
                    "the restored ledger does not verify ({}); remove {} and restore again",
                    check
                        .problem
                        .unwrap_or_else(|| "it holds a different number of events".into()),
                    into.display()
                ),
            ));
        }
        let restored = Restored {
            events: ledger.size(),
            evidence_files,
            size: report.size,
            signers: report.signers,
        };
        Ok((ledger, restored))
    }

    fn restore_blobs(&mut self, dir: &Path) -> Result<u64> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(0);
        };
        let mut count = 0;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
            let path = entry.path();
            let bytes = std::fs::read(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            let hash = self.blobs().put(&bytes)?;
            // The bundle's check already held every name to its contents.
            if entry.file_name().to_str() != Some(crate::hex::hex(&hash).as_str()) {
                return Err(Error::Rejected(format!(
                    "evidence file {} is not named by its hash",
                    path.display()
                )));
            }
            count += 1;
        }
        Ok(count)
    }

    fn restore_events(&mut self, file: &Path) -> Result<()> {
        let open = std::fs::File::open(file)
            .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
        for (i, line) in std::io::BufReader::new(open).lines().enumerate() {
            let line = line.map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
            let parsed = parse_line(&line).map_err(|why| {
                Error::Rejected(format!("{} line {}: {why}", file.display(), i + 1))
            })?;
            let event = Event {
                header: parsed.header,
                body: parsed.body,
            };
            // A batch shares one recorded_at in the time index: a new moment starts a
            // new batch, as it did when the events were first appended.
            let new_moment = batch
                .last()
                .is_some_and(|last| last.header.recorded_at != event.header.recorded_at);
            if batch.len() == BATCH || new_moment {
                self.append_verbatim(std::mem::take(&mut batch))?;
            }
            batch.push(event);
        }
        self.append_verbatim(batch)
    }

    /// Appends events exactly as another copy of this ledger recorded them, each
    /// checked to follow the head: its seq, its link to the one before, a moment no
    /// earlier, and a payload (unless erased) that hashes to its header's.
    fn append_verbatim(&mut self, events: Vec<Event>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        writable(&self.failed)?;
        let mut head = self.head;
        let mut hashes = Vec::with_capacity(events.len());
        let mut records = Vec::with_capacity(events.len());
        for event in &events {
            let header = &event.header;
            let at = |why: String| Error::Rejected(format!("seq {}: {why}", header.seq));
            if header.seq != head.size {
                return Err(at(format!("expected seq {}", head.size)));
            }
            let prev = if head.size == 0 {
                GENESIS_PREV
            } else {
                head.hash
            };
            if header.prev != prev {
                return Err(at("it does not link to the event before it".into()));
            }
            if header.recorded_at < head.recorded_at {
                return Err(at("recorded before the event before it".into()));
            }
            check_new_event(&NewEvent {
                effective: header.effective,
                actor: header.actor.clone(),
                subject: header.subject.clone(),
                kind: header.kind.clone(),
                payload_schema: header.payload_schema,
                payload: event
                    .body
                    .as_ref()
                    .map(|b| b.payload.clone())
                    .unwrap_or_default(),
            })
            .map_err(|e| at(e.to_string()))?;
            if let Some(body) = &event.body {
                if payload_hash(&body.salt, &body.payload) != header.payload_hash {
                    return Err(at(
                        "its payload does not hash to its header's payload_hash".into()
                    ));
                }
            }
            let leaf = header.leaf_bytes();
            let hash = *blake3::hash(&leaf).as_bytes();
            hashes.push(hash);
            records.push((
                keys::group_of(&header.subject).to_owned(),
                codec::encode_record(&leaf, event.body.as_ref()),
            ));
            head = Head {
                size: header.seq + 1,
                hash,
                recorded_at: header.recorded_at,
            };
        }
        let mut writes = vec![(
            keys::time_key(head.recorded_at, head.size - 1).to_vec(),
            Some(Vec::new()),
        )];
        let mut frontier = self.frontier.clone();
        writes.extend(crate::tree::grow(&mut frontier, &hashes)?);
        let batch = crate::wal::Batch {
            base: self.head.size,
            head,
            records,
            writes,
            frontier: frontier.to_bytes(),
        };
        let frame = crate::wal::frame(&batch);
        let before = (self.head, self.frontier.clone());
        self.store.stage(batch);
        self.head = head;
        self.frontier = frontier;
        let syncer = self.syncer();
        if let Err(e) = syncer.sync(&[&frame]) {
            self.store.unstage_last();
            (self.head, self.frontier) = before;
            return Err(e);
        }
        self.store.settle()?;
        syncer.maintain()
    }
}
