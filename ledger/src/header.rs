//! The event header: the part of every event that is hashed, chained and never rewritten.
//!
//! A header commits to its payload only through `payload_hash`, so a payload can be
//! redacted later while the header, the chain and the Merkle tree stay intact. The
//! canonical bytes are written by `codec` alone; nothing here may hash serde output.

use crate::{codec, Hash};

/// The only format version this code writes or accepts (FORMAT v1 §1).
pub const FORMAT_VERSION: u8 = 1;

/// The 32 zero bytes that stand for "no previous event" in the header of seq 0.
pub const GENESIS_PREV: Hash = [0; 32];

/// The header of one event, exactly the fields of FORMAT v1 §1 (the format byte is implied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHeader {
    /// Position in the log: 0, 1, 2 … with no gaps.
    pub seq: u64,
    /// `event_hash` of event `seq - 1`; `GENESIS_PREV` for seq 0. This is the chain.
    pub prev: Hash,
    /// When the ledger recorded the event: UTC microseconds since 1970, never decreasing.
    pub recorded_at: i64,
    /// When the change took effect in the world: days since 1970-01-01.
    pub effective: i32,
    /// Who made the change (a user name).
    pub actor: String,
    /// What the event is about, e.g. `plan/oldham-2018-19/action/1.4` or `challenge/C-0007`.
    pub subject: String,
    /// The event type, e.g. `action.status_changed`.
    pub kind: String,
    /// Version of this kind's payload layout.
    pub payload_schema: u16,
    /// `BLAKE3(salt ‖ payload)`: the header's only link to its payload.
    pub payload_hash: Hash,
}

impl EventHeader {
    /// The canonical bytes that are hashed (FORMAT v1 §1).
    pub fn leaf_bytes(&self) -> Vec<u8> {
        codec::encode_header(self)
    }

    /// `event_hash = BLAKE3(leaf_bytes)`, the leaf data of the Merkle tree.
    pub fn event_hash(&self) -> Hash {
        *blake3::hash(&self.leaf_bytes()).as_bytes()
    }
}

/// `payload_hash = BLAKE3(salt ‖ payload)` (FORMAT v1 §2).
pub fn payload_hash(salt: &[u8; 16], payload: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(salt);
    hasher.update(payload);
    *hasher.finalize().as_bytes()
}

/// One event as stored: the header, and the salted payload unless it was redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub header: EventHeader,
    /// The salt and payload, or `None` once the payload was lawfully redacted.
    pub body: Option<SaltedPayload>,
}

/// The 16 random salt bytes and the bincode payload they are hashed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltedPayload {
    pub salt: [u8; 16],
    pub payload: Vec<u8>,
}

impl Event {
    /// The payload bytes, if they have not been redacted.
    pub fn payload(&self) -> Option<&[u8]> {
        self.body.as_ref().map(|body| body.payload.as_slice())
    }
}

/// An event as a caller hands it to `Ledger::append`: the ledger assigns seq, prev,
/// recorded_at and salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub effective: i32,
    pub actor: String,
    pub subject: String,
    pub kind: String,
    pub payload_schema: u16,
    pub payload: Vec<u8>,
}
