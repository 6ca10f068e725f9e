//! The log as the store holds it: each event's record in chunks of up to
//! `CHUNK_EVENTS` consecutive seqs, copied again by plan or challenge (the covering
//! subject index). `batch_writes` lays staged batches out so; `scan_records` reads
//! records back by seq. Takes the store, never the `Ledger`.

use std::ops::Range;

use crate::codec;
use crate::error::{Error, Result};
use crate::layout::{keys, CHUNK_EVENTS};
use crate::storage::{Store, Write as StoreWrite};

/// The store writes for consecutive staged batches: their records in chunks of up to
/// `CHUNK_EVENTS` by seq, again by plan or challenge (the covering index), each
/// batch's own writes, and the head and frontier after the last.
pub(crate) fn batch_writes(batches: &[crate::wal::Batch]) -> Vec<StoreWrite> {
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

/// The stored records of the events in `range` (which the store must hold), in seq
/// order, read straight from the store's chunks: for the ledger's raw scan and the
/// Merkle tree's recomputed subtrees.
pub(crate) fn scan_records(
    store: &dyn Store,
    range: Range<u64>,
    visit: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
) -> Result<()> {
    let end = range.end;
    if range.start >= end {
        return Ok(());
    }
    // Start at the chunk that holds `range.start`.
    let first_key = store
        .last_in(
            &keys::seq_key(keys::EVENT, 0),
            &keys::seq_key(keys::EVENT, range.start.saturating_add(1)),
        )?
        .map(|(key, _)| key)
        .ok_or_else(|| {
            Error::corruption(Some(range.start), "the event is missing from the store")
        })?;
    let mut expected = None;
    store.scan(
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
