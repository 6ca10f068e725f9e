//! The `ledger.redacted` event's payload (FORMAT v1 §2): the one domain payload the
//! ledger understands, because a verifier accepts a missing payload only where such
//! an event names it. The erasure itself is `Ledger::redact`, outside this folder.

/// The kind of the event that authorises a redaction.
pub const REDACTION_KIND: &str = "ledger.redacted";

/// The payload of a `ledger.redacted` event.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Redaction {
    /// The earlier event whose salt and payload were destroyed.
    pub target_seq: u64,
    /// Why (e.g. the erasure request reference).
    pub reason: String,
    /// Who authorised it.
    pub authorised_by: String,
}
