//! The Assure ledger: an append-only, hash-chained and Merkle-committed event log.
//!
//! This crate owns everything that an outside auditor verifies (see `docs/FORMAT.md`):
//! the canonical header bytes, the salted payload commitment, the BLAKE3 chain, the
//! RFC 9162 Merkle tree, signed checkpoints and export bundles. It knows nothing of
//! plans or challenges: payloads are opaque bytes here.
//!
//! It must never offer an API that deletes or rewrites an event header, and only the
//! `storage` module may touch sled.

pub mod checkpoints;
pub(crate) mod export;
pub mod proof;
pub use proof::{checkpoint, merkle, note};

/// Export bundles: their format and check (`proof::bundle`) and their writing.
pub mod bundle {
    pub use crate::export::write_bundle;
    pub use crate::proof::bundle::*;
}

/// A 32-byte hash: BLAKE3 for event and payload hashes, SHA-256 for Merkle nodes.
pub type Hash = [u8; 32];

pub mod blobs;
pub mod codec;
pub mod error;
pub mod faults;
pub mod header;
pub mod hex;
mod index;
pub mod log;
pub mod redaction;
pub mod storage;
pub mod tree;
pub mod verify;
mod wal;

pub use codec::Head;
pub use error::{Error, Result};
pub use header::{Event, EventHeader, NewEvent, SaltedPayload};
use log::keys;
pub use log::{Ledger, Staged, Syncer};

/// The plan (`plan/{id}`, actions included) or challenge a subject belongs to: the
/// unit the subject index groups by.
pub fn log_group(subject: &str) -> &str {
    keys::group_of(subject)
}
pub use verify::VerifyReport;

#[cfg(test)]
mod tests;
