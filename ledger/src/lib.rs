//! The Assure ledger: an append-only, hash-chained and Merkle-committed event log.
//!
//! This crate owns everything that an outside auditor verifies (see `docs/FORMAT.md`):
//! the canonical header bytes, the salted payload commitment, the BLAKE3 chain, the
//! RFC 9162 Merkle tree, signed checkpoints and export bundles. It knows nothing of
//! plans or challenges: payloads are opaque bytes here.
//!
//! It must never offer an API that deletes or rewrites an event header, and only the
//! `storage` module may touch sled.
//!
//! The layers, top to bottom: `Ledger` (`ledger.rs`; opening in `open.rs`, reads by
//! seq and proofs in `reads.rs`, by subject in `index.rs`, erasure in
//! `redaction.rs` (and the store rewrite after it, `rewrite.rs`), checkpoints kept in `checkpoints.rs`, `verify.rs`) → the
//! `Syncer` (`syncer.rs`), the settling overlay (`settling.rs`), the write-ahead log
//! (`wal.rs`) and the head file (`head.rs`) → the log's layout in the store
//! (`chunks.rs`, `tree.rs`, `layout.rs`) → `storage.rs` (sled). Beside them, the pure
//! formats an auditor's own tool must agree with (`proof/`: Merkle tree, signed
//! notes, checkpoints, bundle check) import none of the storage layers; `codec.rs`,
//! `header.rs` and `hex.rs` are the bytes both sides share.
//!
//! The life of an append, in these words everywhere:
//!
//! 1. **staged** (`Ledger::stage`): seq, prev, recorded time and salt assigned; the
//!    batch is readable at once through the settling overlay, but not durable;
//! 2. **logged** (`Syncer::sync`): its frame written and fdatasynced in the
//!    write-ahead log — durable, and only now may it be acknowledged;
//! 3. **applied** (`Settling::settle`): written into sled, many batches at once;
//! 4. **flushed** (`Syncer::flush_store`): sled flushed and fsynced, the head file
//!    updated, the write-ahead log emptied.
//!
//! `Ledger::append` is stage and log in one call. "Sync" is only the write-ahead
//! log's fdatasync; "flush" is only sled's; a "checkpoint" is only a signed tree head.

pub mod checkpoints;
pub(crate) mod export;
pub mod proof;
pub use proof::{checkpoint, merkle, note, witness};
pub use tiles::TilesWritten;

/// Export bundles: their format and check (`proof::bundle`) and their writing.
pub mod bundle {
    pub use crate::export::{write_bundle, write_bundle_from, BundleSource};
    pub use crate::proof::bundle::*;
}

/// A 32-byte hash: BLAKE3 for event and payload hashes, SHA-256 for Merkle nodes.
pub type Hash = [u8; 32];

pub mod blobs;
mod chunks;
pub mod codec;
pub mod error;
pub mod faults;
mod head;
pub mod header;
pub mod hex;
mod index;
mod layout;
pub mod ledger;
mod open;
pub mod preserve;
mod reads;
pub mod redaction;
mod restore;
pub mod space;
pub use restore::Restored;
mod rewrite;
mod settling;
pub mod storage;
mod syncer;
mod tiles;
pub mod tree;
pub mod verify;
mod wal;

pub use codec::Head;
pub use error::{Error, Result};
pub use header::{Event, EventHeader, NewEvent, SaltedPayload};
use layout::keys;
pub use ledger::{Ledger, Staged};
pub use reads::LogReader;
pub use syncer::Syncer;

/// The plan (`plan/{id}`, actions included) or challenge a subject belongs to: the
/// unit the subject index groups by.
pub fn group_of(subject: &str) -> &str {
    keys::group_of(subject)
}
pub use verify::VerifyReport;

#[cfg(test)]
mod tests;
