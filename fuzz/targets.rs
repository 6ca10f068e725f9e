//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (cargo-fuzz,
//! libFuzzer) and `tests/it/fuzz_inputs.rs` (proptest, in the normal `cargo test`).
//! Each takes arbitrary bytes and must never panic: bad input is an `Err`.
//! Properties beyond "no panic" are asserted where they are cheap: what parses
//! prints back to something that parses to the same value.

#![allow(dead_code)]

use ledger::bundle::{verify_bundle, CHECKPOINT_FILE, EVENTS_FILE, KEYS_FILE};
use ledger::checkpoint::{SignedCheckpoint, TlogProof};
use ledger::note::{Note, SigningKey, VerifierKey};
use projections::DomainEvent;

/// Every payload kind the domain knows, and one it does not.
pub const KINDS: [&str; 15] = [
    "plan.created",
    "plan.priority_added",
    "action.added",
    "action.amended",
    "action.status_changed",
    "action.progress_noted",
    "action.carried_over",
    "action.carried_in",
    "challenge.raised",
    "challenge.responded",
    "challenge.escalated",
    "challenge.closed",
    "challenge.reopened",
    "ledger.redacted",
    "no.such.kind",
];

/// The plan importer, for every kind of file it reads (the content says which).
pub fn plan_import(data: &[u8]) {
    let options = assure::import::ImportOptions::default();
    if let Ok(plan) = assure::import::read_plan("fuzz", data, &options) {
        // A plan that parsed has something in it to show.
        let _ = format!("{plan:?}");
    }
}

/// Payload decoding by kind and schema, and the store's record, chunk and head
/// decoders. Byte 0 picks the kind, byte 1 the schema (mostly 1 or 2), the rest is the
/// payload (or the stored bytes).
pub fn payload(data: &[u8]) {
    let (kind, schema, rest) = match data {
        [k, s, rest @ ..] => (
            KINDS[usize::from(*k) % KINDS.len()],
            if *s < 250 {
                1 + u16::from(*s % 2)
            } else {
                u16::from(*s)
            },
            rest,
        ),
        _ => ("plan.created", 1, data),
    };
    if let Ok(event) = DomainEvent::decode(kind, schema, rest) {
        assert_eq!(event.kind(), kind);
        // A schema-1 payload of a kind that has a schema 2 is re-encoded as schema 2.
        let again =
            DomainEvent::decode(kind, event.schema(), &event.encode()).expect("re-encoded payload");
        assert_eq!(again, event);
    }
    let _ = ledger::codec::decode_head(data);
    if let Ok(header) = ledger::codec::decode_header(data) {
        assert_eq!(
            ledger::codec::decode_header(&ledger::codec::encode_header(&header)).ok(),
            Some(header)
        );
    }
    if let Ok(parts) = ledger::codec::split_record(data) {
        let _ = ledger::codec::decode_header(parts.leaf);
        let _ = parts.salted();
    }
    for record in ledger::codec::chunk_records(data).take(10_000) {
        if record.is_err() {
            break;
        }
    }
}

/// The signed-note, checkpoint and tlog-proof parsers.
pub fn checkpoint(data: &[u8]) {
    if let Ok(note) = Note::parse(data) {
        let text = note.to_string();
        assert_eq!(
            Note::parse(text.as_bytes()).as_ref().ok(),
            Some(&note),
            "note round trip"
        );
        let _ = note.verify(&[fuzz_key().verifier()]);
    }
    if let Ok(signed) = SignedCheckpoint::parse(data) {
        let text = signed.to_string();
        let again = SignedCheckpoint::parse(text.as_bytes()).expect("checkpoint round trip");
        assert_eq!(again.to_string(), text);
        let _ = signed.verify(&[fuzz_key().verifier()]);
    }
    if let Ok(proof) = TlogProof::parse(data) {
        let text = proof.to_string();
        let again = TlogProof::parse(text.as_bytes()).expect("tlog-proof round trip");
        assert_eq!(again.to_string(), text);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VerifierKey::parse(text);
    }
}

/// The key that signs the bundle seeds, so fuzzed bundles can get past the signature.
pub fn fuzz_key() -> SigningKey {
    SigningKey::from_bytes("fuzz.example/bundle", &[1; 32]).expect("a valid key name")
}

/// Splits a bundle input: `events.jsonl`, then this line, then the checkpoint.
pub const BUNDLE_SPLIT: &[u8] = b"\n==== checkpoint ====\n";

/// The bundle reader, on a temporary folder holding the fuzzed `events.jsonl` and
/// `checkpoint` (and empty `blobs/`).
pub fn bundle(data: &[u8]) {
    let (events, checkpoint) = match data
        .windows(BUNDLE_SPLIT.len())
        .position(|w| w == BUNDLE_SPLIT)
    {
        Some(at) => (&data[..at], &data[at + BUNDLE_SPLIT.len()..]),
        None => (data, &b""[..]),
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join(EVENTS_FILE), events).expect("write events");
    std::fs::write(dir.path().join(CHECKPOINT_FILE), checkpoint).expect("write checkpoint");
    std::fs::create_dir(dir.path().join("blobs")).expect("blobs folder");
    write_keys(dir.path());
    let report = verify_bundle(dir.path(), &[fuzz_key().verifier()]);
    assert!(
        report.ok || report.problem.is_some(),
        "a failed check names its problem"
    );
}

/// The informational `keys` file of a bundle signed by [`fuzz_key`].
pub fn write_keys(dir: &std::path::Path) {
    let text = fuzz_key().verifier().to_vkey_string() + "\n";
    std::fs::write(dir.join(KEYS_FILE), text).expect("write keys");
}
