//! Export bundles (FORMAT v1 §4): a folder an outside auditor can check with nothing
//! but BLAKE3, SHA-256, Ed25519 and the keys they trust. This module holds the
//! bundle's format (its files and the line of `events.jsonl`) and, in `check.rs`,
//! `verify_bundle`; the ledger writes bundles in `export.rs`, outside this folder.
//!
//! `verify_bundle` fails closed and reports the first problem, with the seq or file
//! line concerned. It never trusts a key because a bundle names it: the `keys` file
//! is informational, trust comes only from the caller. It never panics on any input.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::header::{EventHeader, SaltedPayload};
use crate::hex::parse_hash as parse_hex;
use crate::merkle::{self};
use crate::Hash;

/// The file names of a bundle (FORMAT v1 §4).
pub const EVENTS_FILE: &str = "events.jsonl";
pub const CHECKPOINT_FILE: &str = "checkpoint";
pub const KEYS_FILE: &str = "keys";
pub const BLOBS_DIR: &str = "blobs";
pub const PROOFS_DIR: &str = "proofs";
pub const README_FILE: &str = "README.txt";

/// One event to export, with what a person needs to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleEvent {
    pub header: EventHeader,
    /// Salt and payload, or `None` when redacted or withheld.
    pub body: Option<SaltedPayload>,
    /// The decoded payload as JSON, for people; supplied by the caller, never verified.
    pub body_json: Option<serde_json::Value>,
    /// Excerpts only: the RFC 9162 inclusion proof of this event in the checkpoint's
    /// tree, leaf sibling first.
    pub proof: Option<Vec<Hash>>,
}

/// The outcome of checking a bundle. A failed check is a value, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    /// True only if every check passed.
    pub ok: bool,
    /// True if the bundle is an excerpt (events carry inclusion proofs).
    pub excerpt: bool,
    /// Number of events checked (lines of `events.jsonl` read before any failure).
    pub events: u64,
    /// Tree size of the verified checkpoint (0 until it verified).
    pub size: u64,
    /// Lower-case hex root of the verified checkpoint (empty until it verified).
    pub root: String,
    /// Names of the trusted keys whose signatures on the checkpoint verified.
    pub signers: Vec<String>,
    /// The seq of the first problem, where one seq is concerned.
    pub first_bad_seq: Option<u64>,
    /// The first problem, saying which file, line and seq.
    pub problem: Option<String>,
    /// Seqs whose payload is absent under a `ledger.redacted` event in the bundle:
    /// their headers are checked, their contents cannot be.
    pub redacted: Vec<u64>,
}

/// One line of `events.jsonl`, as written.
#[derive(Serialize)]
pub(crate) struct LineOut<'a> {
    pub(crate) seq: u64,
    pub(crate) prev: String,
    pub(crate) hash: String,
    pub(crate) recorded_at: String,
    pub(crate) recorded_at_micros: i64,
    pub(crate) effective: String,
    pub(crate) actor: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) payload_schema: u16,
    pub(crate) payload_hash: String,
    pub(crate) salt: Option<String>,
    pub(crate) payload: Option<String>,
    pub(crate) body: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) proof: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) index: Option<u64>,
}

/// One line of `events.jsonl`, as read. Unknown fields (such as `body`) are ignored.
#[derive(Deserialize)]
pub(crate) struct LineIn {
    pub(crate) seq: u64,
    pub(crate) prev: String,
    pub(crate) hash: String,
    pub(crate) recorded_at: String,
    pub(crate) recorded_at_micros: i64,
    pub(crate) effective: String,
    pub(crate) actor: String,
    pub(crate) subject: String,
    pub(crate) kind: String,
    pub(crate) payload_schema: u16,
    pub(crate) payload_hash: String,
    #[serde(default)]
    pub(crate) salt: Option<String>,
    #[serde(default)]
    pub(crate) payload: Option<String>,
    #[serde(default)]
    pub(crate) proof: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) index: Option<u64>,
}

/// A line decoded into binary fields, not yet checked against anything.
pub(crate) struct Parsed {
    pub(crate) header: EventHeader,
    pub(crate) hash: Hash,
    pub(crate) recorded_at_text: String,
    pub(crate) body: Option<SaltedPayload>,
    pub(crate) proof: Option<Vec<Hash>>,
    pub(crate) index: Option<u64>,
}

/// RFC 3339 UTC with exactly six fractional digits, e.g. `2024-03-01T10:00:00.000123Z`.
pub fn format_recorded_at(micros: i64) -> Option<String> {
    DateTime::from_timestamp_micros(micros).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

pub(crate) fn epoch() -> NaiveDate {
    DateTime::UNIX_EPOCH.date_naive()
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn format_effective(days: i32) -> Option<String> {
    let date = epoch().checked_add_signed(TimeDelta::try_days(days.into())?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date written in canonical form.
pub fn parse_effective(text: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let days = i32::try_from((date - epoch()).num_days()).ok()?;
    (format_effective(days).as_deref() == Some(text)).then_some(days)
}

pub(crate) fn salt_hex(salt: &[u8; 16]) -> String {
    crate::hex::hex(salt)
}

pub(crate) fn parse_salt_hex(text: &str) -> Option<[u8; 16]> {
    crate::hex::parse::<16>(text)
}

pub(crate) fn parse_line(text: &str) -> Result<Parsed, String> {
    let line: LineIn = serde_json::from_str(text).map_err(|e| format!("not a valid event: {e}"))?;
    let hash_field = |name: &str, value: &str| {
        parse_hex(value).ok_or_else(|| format!("`{name}` is not 64 lower-case hex digits"))
    };
    let effective = parse_effective(&line.effective)
        .ok_or_else(|| format!("`effective` {:?} is not a YYYY-MM-DD date", line.effective))?;
    let header = EventHeader {
        seq: line.seq,
        prev: hash_field("prev", &line.prev)?,
        recorded_at: line.recorded_at_micros,
        effective,
        actor: line.actor,
        subject: line.subject,
        kind: line.kind,
        payload_schema: line.payload_schema,
        payload_hash: hash_field("payload_hash", &line.payload_hash)?,
    };
    let body = match (line.salt, line.payload) {
        (None, None) => None,
        (Some(salt), Some(payload)) => Some(SaltedPayload {
            salt: parse_salt_hex(&salt).ok_or("`salt` is not 32 lower-case hex digits")?,
            payload: STANDARD
                .decode(payload)
                .map_err(|_| "`payload` is not standard base64")?,
        }),
        _ => return Err("`salt` and `payload` must both be present or both null".into()),
    };
    let proof = match line.proof {
        None => None,
        Some(hashes) => Some(
            hashes
                .iter()
                .map(|h| {
                    STANDARD
                        .decode(h)
                        .ok()
                        .and_then(|b| merkle::hash_from_slice("proof hash", &b).ok())
                        .ok_or("a `proof` entry is not the standard base64 of 32 bytes")
                })
                .collect::<Result<Vec<Hash>, _>>()?,
        ),
    };
    Ok(Parsed {
        header,
        hash: hash_field("hash", &line.hash)?,
        recorded_at_text: line.recorded_at,
        body,
        proof,
        index: line.index,
    })
}

/// Writes a bundle into `dir`, which must not exist or be empty. For an excerpt every
/// event needs its inclusion proof; for a full bundle the events must be seqs
/// `0..checkpoint size`. `keys` are the verifier keys that signed the checkpoint; the
/// finished bundle must verify against them before it is moved into place.
mod check;
pub use check::verify_bundle;

#[cfg(test)]
mod tests;
