//! `verify`: recompute everything the ledger committed to and report the first thing
//! that does not match, with its seq.
//!
//! It recomputes every header's canonical bytes and `event_hash`, the `prev` links,
//! gapless seqs, never-decreasing `recorded_at`, every present payload's salted hash,
//! that every missing payload was redacted by a `ledger.redacted` event, the recorded
//! head and size, and every evidence blob's hash. A chain alone cannot catch someone
//! who rewrites all of it and recomputes every hash: that needs signed checkpoints.
//! Verification reads only; it never writes or repairs.

use serde::Serialize;

use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::header::{payload_hash, GENESIS_PREV};
use crate::log::Ledger;
use crate::redaction::{Redaction, REDACTION_KIND};
use crate::Hash;

/// The outcome of a verification: a value, not an error, because "it failed" is an
/// expected answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    /// Events checked (the recorded size when everything matched).
    pub size: u64,
    /// Hex `event_hash` of the last event that verified.
    pub head: String,
    /// The first seq found wrong, if the problem lies with one event.
    pub first_bad_seq: Option<u64>,
    /// What is wrong, in words, or `None` when `ok`.
    pub problem: Option<String>,
    /// Evidence files checked.
    pub blobs: u64,
}

struct Failure {
    seq: Option<u64>,
    problem: String,
}

fn fail<T>(seq: Option<u64>, problem: impl Into<String>) -> std::result::Result<T, Failure> {
    Err(Failure {
        seq,
        problem: problem.into(),
    })
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let seq = match &error {
            Error::Corruption { seq, .. } => *seq,
            _ => None,
        };
        Failure {
            seq,
            problem: error.to_string(),
        }
    }
}

/// What the header pass learns and the payload pass needs.
struct Chain {
    payload_hashes: Vec<Hash>,
    is_redaction: Vec<bool>,
    last_good: Hash,
}

impl Ledger {
    /// Verifies the whole ledger. IO failures while reading are reported as the
    /// problem, never hidden.
    pub fn verify(&self) -> VerifyReport {
        let mut chain = Chain {
            payload_hashes: Vec::new(),
            is_redaction: Vec::new(),
            last_good: [0; 32],
        };
        let mut blobs = 0;
        let outcome = self
            .verify_headers(&mut chain)
            .and_then(|()| self.verify_payloads(&chain))
            .and_then(|()| self.verify_blobs(&mut blobs));
        let checked = chain.payload_hashes.len() as u64;
        match outcome {
            Ok(()) => VerifyReport {
                ok: true,
                size: checked,
                head: crate::blobs::hex(&chain.last_good),
                first_bad_seq: None,
                problem: None,
                blobs,
            },
            Err(failure) => VerifyReport {
                ok: false,
                size: checked,
                head: crate::blobs::hex(&chain.last_good),
                first_bad_seq: failure.seq,
                problem: Some(failure.problem),
                blobs,
            },
        }
    }

    fn verify_headers(&self, chain: &mut Chain) -> std::result::Result<(), Failure> {
        let recorded: Head = self.head();
        let mut expected_seq = 0u64;
        let mut prev = GENESIS_PREV;
        let mut last_recorded_at = i64::MIN;
        let mut failure = None;
        self.scan_raw(true, 0..u64::MAX, &mut |seq, bytes| {
            let check = || -> std::result::Result<(), Failure> {
                if seq != expected_seq {
                    return fail(Some(expected_seq), format!("event {expected_seq} is missing (the next stored event is {seq})"));
                }
                let header = codec::decode_header(bytes).or_else(|why| fail(Some(seq), format!("header does not decode: {why}")))?;
                if header.leaf_bytes() != bytes {
                    return fail(Some(seq), "header bytes are not in canonical form");
                }
                if header.seq != seq {
                    return fail(Some(seq), format!("header says seq {} but is stored as seq {seq}", header.seq));
                }
                if header.prev != prev {
                    return fail(Some(seq), "prev does not match the hash of the event before it: the chain is broken");
                }
                if header.recorded_at < last_recorded_at {
                    return fail(Some(seq), "recorded_at goes backwards");
                }
                Ok(())
            };
            if let Err(f) = check() {
                failure = Some(f);
                return Ok(false);
            }
            // Decoding succeeded in `check`; decode again only to read the fields.
            let header = match codec::decode_header(bytes) {
                Ok(h) => h,
                Err(_) => return Ok(false),
            };
            prev = *blake3::hash(bytes).as_bytes();
            chain.last_good = prev;
            last_recorded_at = header.recorded_at;
            chain.payload_hashes.push(header.payload_hash);
            chain.is_redaction.push(header.kind == REDACTION_KIND);
            expected_seq += 1;
            Ok(true)
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
        if expected_seq < recorded.size {
            return fail(Some(expected_seq), format!(
                "the ledger recorded {} events but only {expected_seq} are stored: events were removed from the end",
                recorded.size
            ));
        }
        if expected_seq > recorded.size {
            return fail(Some(recorded.size), format!(
                "{} events are stored beyond the recorded head of {}",
                expected_seq - recorded.size,
                recorded.size
            ));
        }
        if recorded.size > 0 && prev != recorded.hash {
            return fail(Some(recorded.size - 1), "the last event does not match the recorded head hash");
        }
        Ok(())
    }

    fn verify_payloads(&self, chain: &Chain) -> std::result::Result<(), Failure> {
        let size = chain.payload_hashes.len() as u64;
        let mut present = vec![false; chain.payload_hashes.len()];
        let mut redacted_targets = Vec::new();
        let mut failure = None;
        self.scan_raw(false, 0..u64::MAX, &mut |seq, bytes| {
            let mut check = || -> std::result::Result<(), Failure> {
                let Some(expected) = chain.payload_hashes.get(seq as usize) else {
                    return fail(Some(seq), format!("a payload is stored for event {seq}, beyond the end of the log ({size} events)"));
                };
                let body = codec::decode_salted(bytes).or_else(|why| fail(Some(seq), why))?;
                if payload_hash(&body.salt, &body.payload) != *expected {
                    return fail(Some(seq), "payload does not match the payload_hash in its header");
                }
                if chain.is_redaction.get(seq as usize) == Some(&true) {
                    let redaction: Redaction = codec::decode_payload(&body.payload)
                        .or_else(|why| fail(Some(seq), format!("redaction event does not decode: {why}")))?;
                    if redaction.target_seq >= seq {
                        return fail(Some(seq), "redaction event names an event that is not earlier than itself");
                    }
                    redacted_targets.push(redaction.target_seq);
                }
                Ok(())
            };
            match check() {
                Ok(()) => {
                    if let Some(flag) = present.get_mut(seq as usize) {
                        *flag = true;
                    }
                    Ok(true)
                }
                Err(f) => {
                    failure = Some(f);
                    Ok(false)
                }
            }
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
        redacted_targets.sort_unstable();
        for (seq, present) in present.iter().enumerate() {
            let seq = seq as u64;
            if !present && redacted_targets.binary_search(&seq).is_err() {
                return fail(Some(seq), "payload is missing and no redaction event accounts for it");
            }
        }
        Ok(())
    }

    fn verify_blobs(&self, count: &mut u64) -> std::result::Result<(), Failure> {
        for name in self.blobs().list()? {
            let Some(hash) = crate::blobs::parse_hex(&name) else {
                return fail(None, format!("evidence folder holds a file not named by its hash: {name}"));
            };
            self.blobs().get(&hash).map_err(|e| Failure {
                seq: None,
                problem: e.to_string(),
            })?;
            *count += 1;
        }
        Ok(())
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        Error::corruption(failure.seq, failure.problem)
    }
}

/// Hides `Result` name clash for readers: verification returns reports, not errors.
pub type VerifyResult = Result<VerifyReport>;
