//! The verification side, as pure formats: everything an auditor's own tool must
//! agree with, and nothing that stores anything. RFC 9162 Merkle trees and proofs
//! (`merkle`), C2SP signed notes and keys (`note`), C2SP checkpoints and tlog-proofs
//! (`checkpoint`), the redaction payload (`redaction`), C2SP tlog-tiles (`tiles`), and the check of an export
//! bundle (`bundle`, which reads the bundle's files but never a ledger).
//!
//! Nothing in this folder may import the store (`storage`, sled), the `Ledger` or the
//! write-ahead log: `tests.rs` at the crate root greps for it.

pub mod bundle;
pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod redaction;
pub mod tiles;
pub mod witness;
