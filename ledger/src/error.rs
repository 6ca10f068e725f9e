//! The ledger's error type. Corruption is its own variant and carries the seq where
//! it was found; a failed verification is not an error but a `VerifyReport`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder exists but is not an Assure ledger (or its marker is unreadable).
    #[error("{path}: not an Assure ledger: {why}. Check --data, or run `assure init` to create a ledger in a new folder")]
    NotALedger { path: PathBuf, why: String },

    /// `init` was pointed at a folder that already holds something.
    #[error("{path}: {why}")]
    AlreadyExists { path: PathBuf, why: String },

    /// Another process holds the ledger's lock.
    #[error("{path} is in use by another process (another assure command or the server); wait for it to finish or stop it, then try again")]
    InUse { path: PathBuf },

    /// Stored bytes do not decode or do not match what the ledger recorded.
    #[error("ledger damaged{}: {what}. Keep a copy of the data folder as it is now for investigation, restore it from a backup or an export (`assure --data NEW restore --bundle DIR --trust VKEY`), and run `assure verify` for a full report", seq.map(|s| format!(" at seq {s}")).unwrap_or_default())]
    Corruption { seq: Option<u64>, what: String },

    /// An operating-system IO failure, with what we were doing. The IO error is
    /// part of the message, not a `source()`: a chain printed whole (`{:#}`) would
    /// say it twice.
    #[error("{what}: {io}")]
    Io { what: String, io: std::io::Error },

    /// The storage engine reported an error.
    #[error("storage engine failed while {what}: {message}")]
    Storage { what: String, message: String },

    /// The disk is nearly full: refused before anything was written (`space.rs`).
    #[error("the disk holding {} is nearly full ({} MiB free; recording safely needs {} MiB, a reserve included): nothing was recorded. Free some space on that disk, then try again", path.display(), free / 1024 / 1024, needed.div_ceil(1024 * 1024))]
    DiskFull {
        path: std::path::PathBuf,
        free: u64,
        needed: u64,
    },

    /// The caller asked for something the ledger refuses (too large, unknown seq …).
    #[error("{0}")]
    Rejected(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            io: source,
        }
    }

    pub(crate) fn corruption(seq: Option<u64>, what: impl Into<String>) -> Error {
        crate::preserve::damage_seen();
        Error::Corruption {
            seq,
            what: what.into(),
        }
    }
}
