//! The ledger's Merkle tree in the store: the frontier (right edge) kept with every
//! batch, and the complete subtrees of 16 leaves and more, so proofs for any size up
//! to the current one need O(log n) reads and the tree is never rebuilt on open.
//!
//! Subtrees below 16 leaves are recomputed from the event hashes when a proof needs
//! them: that keeps the append path to one extra store entry per 16 events.

use crate::chunks::scan_records;
use crate::codec;
use crate::error::{Error, Result};
use crate::merkle::{self, Frontier, NodeSource};
use crate::storage::Store;
use crate::storage::Write as StoreWrite;
use crate::Hash;

/// Subtrees at this level (2^4 = 16 leaves) and above are stored.
pub const STORED_LEVEL: u8 = 4;

pub(crate) const FRONTIER_KEY: &[u8] = b"m/frontier";

/// `n ‖ level ‖ index (big-endian)` → the hash of that complete subtree.
pub(crate) fn node_key(level: u8, index: u64) -> [u8; 10] {
    let mut key = [b'n'; 10];
    key[1] = level;
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Grows `frontier` by the event hashes of a batch and returns the new stored
/// subtrees to write; the frontier itself is written with the batch that applies them
/// (`FRONTIER_KEY`, once per store batch however many batches it holds).
pub(crate) fn grow(frontier: &mut Frontier, event_hashes: &[Hash]) -> Result<Vec<StoreWrite>> {
    let mut writes = Vec::with_capacity(event_hashes.len() / 8 + 1);
    for hash in event_hashes {
        frontier
            .push_with(*hash, |level, index, node| {
                if level >= STORED_LEVEL {
                    writes.push((node_key(level, index).to_vec(), Some(node.to_vec())));
                }
            })
            .map_err(|e| Error::Rejected(e.to_string()))?;
    }
    Ok(writes)
}

/// Reads the stored frontier; a missing or damaged one is corruption.
pub(crate) fn read_frontier(bytes: Option<Vec<u8>>) -> Result<Frontier> {
    let bytes =
        bytes.ok_or_else(|| Error::corruption(None, "the store has no Merkle tree frontier"))?;
    Frontier::from_bytes(&bytes)
        .map_err(|e| Error::corruption(None, format!("Merkle tree frontier: {e}")))
}

/// The tree of the first `size` events as the store holds it: stored subtrees read,
/// smaller ones recomputed from the events' records.
pub(crate) struct StoredTree<'a> {
    pub(crate) store: &'a dyn Store,
    pub(crate) size: u64,
}

impl NodeSource for StoredTree<'_> {
    type Error = Error;

    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        if level >= STORED_LEVEL {
            let bytes = self.store.get(&node_key(level, index))?.ok_or_else(|| {
                Error::corruption(
                    None,
                    format!("Merkle tree node ({level}, {index}) is missing"),
                )
            })?;
            return bytes.try_into().map_err(|_| {
                Error::corruption(
                    None,
                    format!("Merkle tree node ({level}, {index}) is not 32 bytes"),
                )
            });
        }
        // Recompute a small subtree from its leaves' event hashes.
        let first = index << level;
        let count = 1u64 << level;
        let mut leaves = Vec::with_capacity(count as usize);
        scan_records(
            self.store,
            first..(first + count).min(self.size),
            &mut |seq, record| {
                let parts =
                    codec::split_record(record).map_err(|why| Error::corruption(Some(seq), why))?;
                leaves.push(merkle::leaf_hash(blake3::hash(parts.leaf).as_bytes()));
                Ok(true)
            },
        )?;
        if leaves.len() as u64 != count {
            return Err(Error::Rejected(format!(
                "no complete subtree ({level}, {index}) in a ledger of {}",
                self.size
            )));
        }
        while leaves.len() > 1 {
            leaves = leaves
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
        }
        leaves
            .pop()
            .ok_or_else(|| Error::Rejected("an empty subtree".into()))
    }
}

pub(crate) fn proof_error(error: merkle::ProofError<Error>) -> Error {
    match error {
        merkle::ProofError::Source { source, .. } => source,
        other => Error::Rejected(other.to_string()),
    }
}
