//! Reading the log by seq: one header or event, a range (`scan`, also raw for
//! `verify`), and the size known at a moment (the recorded-time index). Reads by
//! subject are in `index.rs`.

use std::ops::Range;

use crate::codec::{self};
use crate::error::{Error, Result};
use crate::header::{Event, EventHeader};
use crate::storage::Store;

use crate::chunks::scan_records;
use crate::layout::*;
use crate::ledger::*;
use crate::merkle;
use crate::tree::{proof_error, StoredTree};
use crate::Hash;

/// Reads the log by seq and by plan or challenge without the `Ledger`
/// (`Ledger::reader`). It sees every batch staged, durable or not: a reader bounds
/// what it asks for by the size it knows to be durable.
#[derive(Clone)]
pub struct LogReader {
    pub(crate) store: std::sync::Arc<crate::settling::Settling>,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader").finish_non_exhaustive()
    }
}

impl LogReader {
    /// Visits the events in `range` in seq order until `visit` returns `Ok(false)`,
    /// strictly decoded; an event missing from the range is damage naming its seq.
    pub fn scan(
        &self,
        range: Range<u64>,
        visit: &mut dyn FnMut(Event) -> Result<bool>,
    ) -> Result<()> {
        let (mut expected, end, mut stopped) = (range.start, range.end, false);
        scan_records(&*self.store, range, &mut |seq, bytes| {
            if seq != expected {
                return Err(Error::corruption(
                    Some(expected),
                    "the event is missing from the store",
                ));
            }
            expected += 1;
            stopped = !visit(decode_event(seq, bytes)?)?;
            Ok(!stopped)
        })?;
        if expected < end && !stopped {
            return Err(Error::corruption(
                Some(expected),
                "the event is missing from the store",
            ));
        }
        Ok(())
    }
}

impl Ledger {
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
    pub(crate) fn last_stored_event(&self) -> Result<Option<Event>> {
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
        scan_records(
            &*self.store,
            range.start..range.end.min(self.head.size),
            visit,
        )
    }

    /// Reads the log without this handle, for a long-running reader that must not
    /// wait for whoever holds it (the service's pages, while its writer appends).
    pub fn reader(&self) -> LogReader {
        LogReader {
            store: self.store.clone(),
        }
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

/// Merkle roots and proofs over the log (RFC 9162), from the tree in the store.
impl Ledger {
    /// The Merkle root of the whole log, from the frontier (no recomputation).
    pub fn root(&self) -> Hash {
        self.frontier().root()
    }

    /// The Merkle root of the first `size` events.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        merkle::root_at(size, &self.tree()).map_err(proof_error)
    }

    /// The RFC 9162 inclusion proof of event `seq` in the tree of `size` events.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        merkle::inclusion_proof(seq, size, &self.tree()).map_err(proof_error)
    }

    /// The RFC 9162 consistency proof from the tree of `old_size` to that of `new_size`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        self.check_size(new_size)?;
        merkle::consistency_proof(old_size, new_size, &self.tree()).map_err(proof_error)
    }

    fn tree(&self) -> StoredTree<'_> {
        StoredTree {
            store: &*self.store,
            size: self.size(),
        }
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size() {
            return Err(Error::Rejected(format!(
                "the ledger holds {} events, not {size}",
                self.size()
            )));
        }
        Ok(())
    }
}
