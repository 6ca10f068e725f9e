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
use crate::error::Error;
use crate::header::{payload_hash, GENESIS_PREV};
use crate::ledger::Ledger;
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
    /// Hex RFC 9162 Merkle root recomputed from the events that verified.
    pub root: String,
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

/// What one pass over the records learns.
#[derive(Default)]
struct Chain {
    checked: u64,
    last_good: Hash,
    /// A keyed digest of each event's subject and stored record, by seq, to compare
    /// with the subject index copies.
    digests: Vec<u64>,
    /// Seqs whose payload is absent: each must be named by a redaction.
    missing_payloads: Vec<u64>,
    redacted_targets: Vec<u64>,
    /// The Merkle tree recomputed from the event hashes.
    frontier: crate::merkle::Frontier,
    /// Recomputed subtrees of the levels the store keeps, to compare with it.
    stored_nodes: Vec<(u8, u64, Hash)>,
    /// Tree sizes of the stored checkpoints, and the roots recomputed at those sizes.
    checkpoint_sizes: std::collections::BTreeSet<u64>,
    recomputed_roots: Vec<(u64, Hash)>,
}

impl Ledger {
    /// Verifies the whole ledger. IO failures while reading are reported as the
    /// problem, never hidden.
    pub fn verify(&self) -> VerifyReport {
        let mut chain = Chain::default();
        let mut blobs = 0;
        let checkpoints = self.checkpoints();
        if let Ok(held) = &checkpoints {
            chain.checkpoint_sizes = held
                .iter()
                .map(|c| c.unverified_checkpoint().size)
                .collect();
            if chain.checkpoint_sizes.contains(&0) {
                chain
                    .recomputed_roots
                    .push((0, crate::merkle::empty_root()));
            }
        }
        // The subject index parts are read on the second core while the log is
        // checked on this one, which then helps with the parts that are left.
        let next_part = std::sync::atomic::AtomicU8::new(0);
        // A fresh random key for every run, so nobody can prepare a copy that differs
        // from the log yet digests the same.
        let key = std::collections::hash_map::RandomState::new();
        let (records, index) = std::thread::scope(|scope| {
            let helper = scope.spawn(|| self.read_index_parts(&next_part, &key));
            let records = self.verify_records(&mut chain, &key);
            let mine = self.read_index_parts(&next_part, &key);
            let theirs = helper
                .join()
                .unwrap_or_else(|_| fail(None, "the index check stopped unexpectedly"));
            (records, merge_index(self.head().size, mine, theirs))
        });
        let outcome = records
            .and_then(|()| check_redactions(&mut chain))
            .and(index)
            .and_then(|copies| compare_index(&chain, &copies))
            .and_then(|()| self.compare_tree(&chain))
            .and_then(|()| compare_checkpoints(&chain, checkpoints))
            .and_then(|()| self.verify_blobs(&mut blobs));
        let (ok, first_bad_seq, problem) = match outcome {
            Ok(()) => (true, None, None),
            Err(failure) => (false, failure.seq, Some(failure.problem)),
        };
        VerifyReport {
            ok,
            size: chain.checked,
            head: crate::hex::hex(&chain.last_good),
            first_bad_seq,
            problem,
            blobs,
            root: crate::hex::hex(&chain.frontier.root()),
        }
    }

    /// The stored frontier and stored subtrees must be the ones the events give.
    fn compare_tree(&self, chain: &Chain) -> std::result::Result<(), Failure> {
        if chain.frontier != *self.frontier() {
            return fail(None, "the stored Merkle tree does not match the events: its root would prove a different history");
        }
        for (level, index, hash) in &chain.stored_nodes {
            let stored = self.store_get(&crate::tree::node_key(*level, *index))?;
            if stored.as_deref() != Some(hash.as_slice()) {
                let first_seq = index << level;
                return fail(
                    Some(first_seq),
                    format!(
                        "the stored Merkle subtree ({level}, {index}) does not match the events"
                    ),
                );
            }
        }
        Ok(())
    }

    fn verify_records(
        &self,
        chain: &mut Chain,
        key: &std::collections::hash_map::RandomState,
    ) -> std::result::Result<(), Failure> {
        let recorded: Head = self.head();
        let mut prev = GENESIS_PREV;
        let mut last_recorded_at = i64::MIN;
        let mut failure = None;
        self.scan_raw(0..u64::MAX, &mut |seq, bytes| match check_record(
            seq,
            chain.checked,
            &prev,
            last_recorded_at,
            bytes,
            key,
        ) {
            Ok(checked) => {
                prev = checked.hash;
                last_recorded_at = checked.recorded_at;
                chain.digests.push(checked.digest);
                let nodes = &mut chain.stored_nodes;
                let grown = chain
                    .frontier
                    .push_with(checked.hash, |level, index, node| {
                        if level >= crate::tree::STORED_LEVEL {
                            nodes.push((level, index, *node));
                        }
                    });
                if let Err(e) = grown {
                    failure = Some(Failure {
                        seq: Some(seq),
                        problem: e.to_string(),
                    });
                    return Ok(false);
                }
                let size = chain.frontier.size();
                if chain.checkpoint_sizes.contains(&size) {
                    chain.recomputed_roots.push((size, chain.frontier.root()));
                }
                match checked.payload {
                    PayloadCheck::Present => {}
                    PayloadCheck::Missing => chain.missing_payloads.push(seq),
                    PayloadCheck::Redacts(target) => chain.redacted_targets.push(target),
                }
                chain.last_good = prev;
                chain.checked += 1;
                Ok(true)
            }
            Err(f) => {
                failure = Some(f);
                Ok(false)
            }
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
        let stored = chain.checked;
        if stored < recorded.size {
            return fail(Some(stored), format!(
                "the ledger recorded {} events but only {stored} are stored: events were removed from the end",
                recorded.size
            ));
        }
        if recorded.size > 0 && prev != recorded.hash {
            return fail(
                Some(recorded.size - 1),
                "the last event does not match the recorded head hash",
            );
        }
        Ok(())
    }

    fn verify_blobs(&self, count: &mut u64) -> std::result::Result<(), Failure> {
        for name in self.blobs().list()? {
            let Some(hash) = crate::hex::parse_hash(&name) else {
                return fail(
                    None,
                    format!("evidence folder holds a file not named by its hash: {name}"),
                );
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

/// The keyed digest of an event's subject and record that the log and its index copy
/// must share.
fn digest(key: &std::collections::hash_map::RandomState, subject: &[u8], record: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = key.build_hasher();
    hasher.write(subject);
    hasher.write_u8(0);
    hasher.write(record);
    hasher.finish()
}

/// Index copies found by one thread: `(seq, digest)`.
type FoundCopies = Vec<(u64, u64)>;

impl Ledger {
    /// Reads index parts until none is left, returning `(seq, digest)` for each entry.
    fn read_index_parts(
        &self,
        next_part: &std::sync::atomic::AtomicU8,
        key: &std::collections::hash_map::RandomState,
    ) -> std::result::Result<FoundCopies, Failure> {
        let mut copies = Vec::new();
        loop {
            let part = next_part.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if part >= crate::layout::INDEX_PARTS {
                return Ok(copies);
            }
            self.scan_index_part(part, &mut |subject, seq, record| {
                copies.push((seq, digest(key, subject, record)));
                Ok(true)
            })?;
        }
    }
}

/// Puts the copies found by both threads in seq order, refusing duplicates.
fn merge_index(
    size: u64,
    mine: std::result::Result<FoundCopies, Failure>,
    theirs: std::result::Result<FoundCopies, Failure>,
) -> std::result::Result<Vec<Option<u64>>, Failure> {
    let mut copies: Vec<Option<u64>> = vec![None; usize::try_from(size).unwrap_or(0)];
    for (seq, copy) in mine?.into_iter().chain(theirs?) {
        match copies.get_mut(seq as usize) {
            Some(slot @ None) => *slot = Some(copy),
            Some(Some(_)) => {
                return fail(
                    Some(seq),
                    "the subject index holds two copies of this event",
                )
            }
            None => {
                return fail(
                    Some(seq),
                    "the subject index holds an event beyond the end of the log",
                )
            }
        }
    }
    Ok(copies)
}

/// Every event must have exactly one index copy, identical to the log's record and
/// filed under its subject: views read the copies, so a copy that differs would show
/// people what verify never checked.
fn compare_index(chain: &Chain, copies: &[Option<u64>]) -> std::result::Result<(), Failure> {
    for (seq, expected) in chain.digests.iter().enumerate() {
        match copies.get(seq) {
            Some(Some(copy)) if copy == expected => {}
            Some(Some(_)) => return fail(
                Some(seq as u64),
                "the subject index copy differs from the log: views would show an altered event",
            ),
            _ => {
                return fail(
                    Some(seq as u64),
                    "the event is missing from the subject index",
                )
            }
        }
    }
    Ok(())
}

enum PayloadCheck {
    Present,
    Missing,
    Redacts(u64),
}

struct CheckedRecord {
    hash: Hash,
    digest: u64,
    recorded_at: i64,
    payload: PayloadCheck,
}

/// Every stored checkpoint must name a size the log reaches and the root the events
/// give at that size: a checkpoint that does not is a rewritten history.
fn compare_checkpoints(
    chain: &Chain,
    held: Result<Vec<crate::checkpoint::SignedCheckpoint>, Error>,
) -> std::result::Result<(), Failure> {
    for signed in held? {
        let checkpoint = signed.unverified_checkpoint();
        let recomputed = chain
            .recomputed_roots
            .iter()
            .find(|(size, _)| *size == checkpoint.size);
        match recomputed {
            Some((_, root)) if *root == checkpoint.root => {}
            Some(_) => {
                return fail(
                    checkpoint.size.checked_sub(1),
                    format!("the checkpoint for size {} names a root the events do not give: history before it was rewritten", checkpoint.size),
                )
            }
            None => {
                return fail(None, format!("a checkpoint names size {} but the log holds only {} events", checkpoint.size, chain.checked))
            }
        }
    }
    Ok(())
}

/// Every missing payload must be named by a `ledger.redacted` event.
fn check_redactions(chain: &mut Chain) -> std::result::Result<(), Failure> {
    chain.redacted_targets.sort_unstable();
    for seq in &chain.missing_payloads {
        if chain.redacted_targets.binary_search(seq).is_err() {
            return fail(
                Some(*seq),
                "payload is missing and no redaction event accounts for it",
            );
        }
    }
    Ok(())
}

/// Checks one stored record against its position and the one before it. The header
/// decoder is strict (fixed-width integers, length-prefixed strings, no trailing
/// bytes), so a header that decodes is in canonical form and hashing the stored bytes
/// is exact.
fn check_record(
    seq: u64,
    expected_seq: u64,
    prev: &Hash,
    last_recorded_at: i64,
    record: &[u8],
    key: &std::collections::hash_map::RandomState,
) -> std::result::Result<CheckedRecord, Failure> {
    let parts = codec::split_record(record).or_else(|why| fail(Some(seq), why))?;
    let bytes = parts.leaf;
    if seq != expected_seq {
        return fail(
            Some(expected_seq),
            format!("event {expected_seq} is missing (the next stored event is {seq})"),
        );
    }
    let header = codec::decode_header_ref(bytes)
        .or_else(|why| fail(Some(seq), format!("header does not decode: {why}")))?;
    if header.seq != seq {
        return fail(
            Some(seq),
            format!("header says seq {} but is stored as seq {seq}", header.seq),
        );
    }
    if &header.prev != prev {
        return fail(
            Some(seq),
            "prev does not match the hash of the event before it: the chain is broken",
        );
    }
    if header.recorded_at < last_recorded_at {
        return fail(Some(seq), "recorded_at goes backwards");
    }
    let payload = match parts.body {
        None => PayloadCheck::Missing,
        Some((salt, payload)) => {
            if payload_hash(salt, payload) != header.payload_hash {
                return fail(
                    Some(seq),
                    "payload does not match the payload_hash in its header",
                );
            }
            if header.kind == REDACTION_KIND {
                let redaction: Redaction = codec::decode_payload(payload).or_else(|why| {
                    fail(Some(seq), format!("redaction event does not decode: {why}"))
                })?;
                if redaction.target_seq >= seq {
                    return fail(
                        Some(seq),
                        "redaction event names an event that is not earlier than itself",
                    );
                }
                PayloadCheck::Redacts(redaction.target_seq)
            } else {
                PayloadCheck::Present
            }
        }
    };
    Ok(CheckedRecord {
        hash: *blake3::hash(bytes).as_bytes(),
        digest: digest(key, header.subject.as_bytes(), record),
        recorded_at: header.recorded_at,
        payload,
    })
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        Error::corruption(failure.seq, failure.problem)
    }
}
