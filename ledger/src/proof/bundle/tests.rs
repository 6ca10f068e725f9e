//! Tests of export bundles: written by `export.rs`, checked by `check.rs`.

#![allow(clippy::unwrap_used)]

use std::fs::{self};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::blobs::blake3_of;
use crate::checkpoint::{SignedCheckpoint, TlogProof};
use crate::export::write_bundle;
use crate::header::{payload_hash, EventHeader, SaltedPayload, GENESIS_PREV};
use crate::hex::{hex, parse_hash as parse_hex};
use crate::merkle::Frontier;
use crate::redaction::{Redaction, REDACTION_KIND};
use crate::Hash;

use super::*;
use crate::checkpoint::Checkpoint;
use crate::codec::encode_payload;
use crate::merkle::{inclusion_proof, MemNodes};
use crate::note::SigningKey;
use serde_json::Value;

const ORIGIN: &str = "test-ledger";
const T0: i64 = 1_709_287_200_000_123; // 2024-03-01T10:00:00.000123Z

/// A hand-made log of `n` events; if `redact` is set, the event it names has no
/// body and the last event is the `ledger.redacted` event that authorises that.
struct Log {
    events: Vec<BundleEvent>,
    nodes: MemNodes,
    key: SigningKey,
    signed: SignedCheckpoint,
}

fn log(n: u64, redact: Option<u64>) -> Log {
    let mut events = Vec::new();
    let mut nodes = MemNodes::new();
    let mut prev = GENESIS_PREV;
    for seq in 0..n {
        let (kind, payload) = match redact {
            Some(target) if seq == n - 1 => (
                REDACTION_KIND,
                encode_payload(&Redaction {
                    target_seq: target,
                    reason: "erasure request E-1".into(),
                    authorised_by: "dpo".into(),
                })
                .unwrap(),
            ),
            _ => (
                "action.status_changed",
                encode_payload(&format!("body {seq}")).unwrap(),
            ),
        };
        let salt = [seq as u8 ^ 0x5a; 16];
        let header = EventHeader {
            seq,
            prev,
            recorded_at: T0 + seq as i64 * 1_000_000,
            effective: 19_783 + seq as i32,
            actor: "sam".into(),
            subject: format!("plan/p/action/1.{seq}"),
            kind: kind.into(),
            payload_schema: 1,
            payload_hash: payload_hash(&salt, &payload),
        };
        prev = header.event_hash();
        nodes.push(prev).unwrap();
        let body = (redact != Some(seq)).then_some(SaltedPayload { salt, payload });
        let body_json = Some(serde_json::json!({ "note": format!("body {seq}") }));
        events.push(BundleEvent {
            header,
            body,
            body_json,
            proof: None,
        });
    }
    let key = SigningKey::generate(ORIGIN).unwrap();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: n,
        root: nodes.root(),
        extensions: vec![],
    };
    let signed = SignedCheckpoint::sign(&checkpoint, &[&key]).unwrap();
    Log {
        events,
        nodes,
        key,
        signed,
    }
}

fn write_full(log: &Log) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    write_bundle(
        &dir,
        &log.events,
        false,
        &log.signed,
        &[log.key.verifier()],
        &[b"evidence".to_vec()],
    )
    .unwrap();
    (tmp, dir)
}

fn excerpt_of(log: &Log, seqs: &[u64]) -> Vec<BundleEvent> {
    let size = log.nodes.size();
    seqs.iter()
        .map(|&s| {
            let mut e = log.events[s as usize].clone();
            e.proof = Some(inclusion_proof(s, size, &log.nodes).unwrap());
            e
        })
        .collect()
}

fn verify(log: &Log, dir: &Path) -> BundleReport {
    verify_bundle(dir, &[log.key.verifier()])
}

fn read_lines(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join(EVENTS_FILE))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write_lines(dir: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|v| v.to_string() + "\n").collect();
    fs::write(dir.join(EVENTS_FILE), text).unwrap();
}

/// Renumbers seqs and recomputes every `prev` and `hash`, as a forger would.
fn rehash(lines: &mut [Value]) -> Vec<Hash> {
    let mut prev = GENESIS_PREV;
    let mut hashes = Vec::new();
    for (i, line) in lines.iter_mut().enumerate() {
        line["seq"] = Value::from(i as u64);
        line["prev"] = Value::from(hex(&prev));
        let header = parse_line(&line.to_string()).ok().unwrap().header;
        prev = header.event_hash();
        line["hash"] = Value::from(hex(&prev));
        hashes.push(prev);
    }
    hashes
}

fn root_of(hashes: &[Hash]) -> Hash {
    let mut frontier = Frontier::new();
    for h in hashes {
        frontier.push(*h).unwrap();
    }
    frontier.root()
}

/// Applies `tamper` to a fresh copy of a 6-event bundle and returns the report.
fn tampered(tamper: impl FnOnce(&Log, &Path, &mut Vec<Value>)) -> BundleReport {
    let log = log(6, None);
    let (_tmp, dir) = write_full(&log);
    let mut lines = read_lines(&dir);
    tamper(&log, &dir, &mut lines);
    let report = verify(&log, &dir);
    assert!(!report.ok, "tampering went unnoticed: {report:?}");
    assert!(report.problem.is_some());
    report
}

#[test]
fn dates_are_written_as_the_format_says() {
    assert_eq!(
        format_recorded_at(T0).unwrap(),
        "2024-03-01T10:00:00.000123Z"
    );
    assert_eq!(format_effective(19_783).unwrap(), "2024-03-01");
    assert_eq!(parse_effective("2024-03-01"), Some(19_783));
    assert_eq!(parse_effective("1969-12-31"), Some(-1));
    assert_eq!(parse_effective("2024-3-1"), None);
}

#[test]
fn a_full_bundle_verifies_and_names_its_signer() {
    let log = log(6, None);
    let (tmp, dir) = write_full(&log);
    let report = verify(&log, &dir);
    assert!(report.ok, "{report:?}");
    assert!(!report.excerpt);
    assert_eq!((report.events, report.size), (6, 6));
    assert_eq!(report.root, hex(&log.nodes.root()));
    assert_eq!(report.signers, vec![ORIGIN.to_string()]);
    for file in [EVENTS_FILE, CHECKPOINT_FILE, KEYS_FILE, README_FILE] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    assert!(dir
        .join(BLOBS_DIR)
        .join(hex(&blake3_of(b"evidence")))
        .is_file());
    // Nothing but the bundle is left beside it.
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    let first = &read_lines(&dir)[0];
    assert_eq!(first["recorded_at"], "2024-03-01T10:00:00.000123Z");
    assert_eq!(first["effective"], "2024-03-01");
    assert_eq!(first["body"]["note"], "body 0");
}

#[test]
fn an_empty_log_bundle_verifies() {
    let log = log(0, None);
    let (_tmp, dir) = write_full(&log);
    assert!(verify(&log, &dir).ok);
}

#[test]
fn writing_refuses_a_non_empty_folder_and_leaves_nothing_on_failure() {
    let log = log(3, None);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("x"), b"x").unwrap();
    assert!(write_bundle(
        &dir,
        &log.events,
        false,
        &log.signed,
        &[log.key.verifier()],
        &[]
    )
    .is_err());
    // A bundle that would not verify (one event missing) is never put in place.
    let other = tmp.path().join("other");
    let err = write_bundle(
        &other,
        &log.events[..2],
        false,
        &log.signed,
        &[log.key.verifier()],
        &[],
    );
    assert!(err.is_err());
    assert!(!other.exists());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    // An existing empty folder is fine.
    fs::remove_file(dir.join("x")).unwrap();
    write_bundle(
        &dir,
        &log.events,
        false,
        &log.signed,
        &[log.key.verifier()],
        &[],
    )
    .unwrap();
    assert!(verify(&log, &dir).ok);
}

#[test]
fn a_flipped_payload_bit_is_found_at_its_seq() {
    let report = tampered(|_, dir, lines| {
        let mut payload = STANDARD
            .decode(lines[1]["payload"].as_str().unwrap())
            .unwrap();
        payload[0] ^= 1;
        lines[1]["payload"] = Value::from(STANDARD.encode(payload));
        write_lines(dir, lines);
    });
    assert_eq!(report.first_bad_seq, Some(1));
    assert!(report.problem.unwrap().contains("payload"));
}

#[test]
fn edited_fields_are_found_at_their_seq() {
    let edits: [(&str, Value); 5] = [
        ("actor", Value::from("eve")),
        ("effective", Value::from("2024-03-09")),
        ("recorded_at", Value::from("2024-03-01T10:00:02.000124Z")),
        ("recorded_at_micros", Value::from(T0 + 2_000_001)),
        ("payload_schema", Value::from(2)),
    ];
    for (field, value) in edits {
        let report = tampered(|_, dir, lines| {
            lines[2][field] = value;
            write_lines(dir, lines);
        });
        assert_eq!(report.first_bad_seq, Some(2), "{field}: {report:?}");
    }
}

#[test]
fn deleted_reordered_and_truncated_lines_are_found() {
    let deleted = tampered(|_, dir, lines| {
        lines.remove(2);
        write_lines(dir, lines);
    });
    assert_eq!(deleted.first_bad_seq, Some(2));
    let reordered = tampered(|_, dir, lines| {
        lines.swap(1, 2);
        write_lines(dir, lines);
    });
    assert_eq!(reordered.first_bad_seq, Some(1));
    let cut_mid_line = tampered(|_, dir, _| {
        let text = fs::read(dir.join(EVENTS_FILE)).unwrap();
        fs::write(dir.join(EVENTS_FILE), &text[..text.len() - 20]).unwrap();
    });
    assert!(cut_mid_line.problem.unwrap().contains("line 6"));
    let cut_lines = tampered(|_, dir, lines| {
        lines.truncate(4);
        write_lines(dir, lines);
    });
    assert_eq!(cut_lines.first_bad_seq, Some(4));
    let emptied = tampered(|_, dir, _| fs::write(dir.join(EVENTS_FILE), b"").unwrap());
    assert_eq!(emptied.first_bad_seq, Some(0));
}

#[test]
fn an_inserted_event_with_a_fixed_up_chain_is_found() {
    let longer = tampered(|_, dir, lines| {
        let extra = lines[2].clone();
        lines.insert(2, extra);
        rehash(lines);
        write_lines(dir, lines);
    });
    assert_eq!(longer.first_bad_seq, Some(6));
    // Same size, re-chained: only the Merkle root can tell.
    let same_size = tampered(|_, dir, lines| {
        lines[2]["actor"] = Value::from("eve");
        rehash(lines);
        write_lines(dir, lines);
    });
    assert!(
        same_size
            .problem
            .as_deref()
            .unwrap_or("")
            .contains("Merkle root"),
        "{same_size:?}"
    );
}

#[test]
fn a_rewritten_chain_signed_by_a_new_key_is_untrusted() {
    let report = tampered(|_, dir, lines| {
        lines[0]["actor"] = Value::from("eve");
        let hashes = rehash(lines);
        write_lines(dir, lines);
        let forger = SigningKey::generate(ORIGIN).unwrap();
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: 6,
            root: root_of(&hashes),
            extensions: vec![],
        };
        let signed = SignedCheckpoint::sign(&cp, &[&forger]).unwrap();
        fs::write(dir.join(CHECKPOINT_FILE), signed.to_string()).unwrap();
        fs::write(
            dir.join(KEYS_FILE),
            forger.verifier().to_vkey_string() + "\n",
        )
        .unwrap();
        // The forgery is self-consistent: with the forger's key it would pass.
        assert!(verify_bundle(dir, &[forger.verifier()]).ok);
    });
    assert!(report.problem.unwrap().starts_with(CHECKPOINT_FILE));
    assert!(report.signers.is_empty());
}

#[test]
fn an_edited_checkpoint_or_a_smaller_one_is_refused() {
    let edited = tampered(|_, dir, _| {
        let text = fs::read_to_string(dir.join(CHECKPOINT_FILE)).unwrap();
        fs::write(
            dir.join(CHECKPOINT_FILE),
            text.replacen("\n6\n", "\n5\n", 1),
        )
        .unwrap();
    });
    assert!(edited.problem.unwrap().starts_with(CHECKPOINT_FILE));
    let smaller = tampered(|log, dir, lines| {
        let hashes = lines
            .iter()
            .map(|l| parse_hex(l["hash"].as_str().unwrap()).unwrap())
            .collect::<Vec<_>>();
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: 5,
            root: root_of(&hashes[..5]),
            extensions: vec![],
        };
        let signed = SignedCheckpoint::sign(&cp, &[&log.key]).unwrap();
        fs::write(dir.join(CHECKPOINT_FILE), signed.to_string()).unwrap();
    });
    assert_eq!(smaller.first_bad_seq, Some(5));
    assert_eq!(smaller.size, 5);
}

#[test]
fn a_null_payload_without_a_redaction_is_tampering() {
    let report = tampered(|_, dir, lines| {
        lines[1]["payload"] = Value::Null;
        lines[1]["salt"] = Value::Null;
        write_lines(dir, lines);
    });
    assert_eq!(report.first_bad_seq, Some(1));
    assert!(report.problem.unwrap().contains(REDACTION_KIND));
}

#[test]
fn a_redacted_payload_with_its_redaction_event_verifies() {
    let log = log(6, Some(2));
    let (_tmp, dir) = write_full(&log);
    let report = verify(&log, &dir);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.redacted, vec![2]);
    // Without the redaction event's payload, the null payload is unexplained.
    let mut lines = read_lines(&dir);
    lines[5]["payload"] = Value::Null;
    lines[5]["salt"] = Value::Null;
    write_lines(&dir, &lines);
    assert_eq!(verify(&log, &dir).first_bad_seq, Some(2));
}

#[test]
fn bad_blobs_are_found() {
    let wrong_bytes = tampered(|_, dir, _| {
        let name = hex(&blake3_of(b"evidence"));
        fs::write(dir.join(BLOBS_DIR).join(name), b"evidencE").unwrap();
    });
    assert!(wrong_bytes.problem.unwrap().starts_with(BLOBS_DIR));
    let bad_name =
        tampered(|_, dir, _| fs::write(dir.join(BLOBS_DIR).join("notes.txt"), b"x").unwrap());
    assert!(bad_name.problem.unwrap().contains("notes.txt"));
}

#[test]
fn flipped_bytes_anywhere_in_the_events_never_panic() {
    let log = log(4, Some(1));
    let (_tmp, dir) = write_full(&log);
    let original = fs::read(dir.join(EVENTS_FILE)).unwrap();
    for at in (0..original.len()).step_by(5) {
        let mut bytes = original.clone();
        bytes[at] ^= 0x04;
        fs::write(dir.join(EVENTS_FILE), &bytes).unwrap();
        let _ = verify(&log, &dir);
    }
}

#[test]
fn an_excerpt_verifies_alone_and_carries_receipts() {
    let log = log(7, None);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("excerpt");
    let events = excerpt_of(&log, &[1, 3, 4]);
    write_bundle(&dir, &events, true, &log.signed, &[log.key.verifier()], &[]).unwrap();
    let report = verify(&log, &dir);
    assert!(report.ok, "{report:?}");
    assert!(report.excerpt);
    assert_eq!((report.events, report.size), (3, 7));
    let receipt = fs::read(dir.join(PROOFS_DIR).join("3.tlog-proof")).unwrap();
    let receipt = TlogProof::parse(&receipt).unwrap();
    receipt
        .verify(&log.events[3].header.event_hash(), &[log.key.verifier()])
        .unwrap();
}

#[test]
fn an_altered_excerpt_or_a_swapped_proof_is_found() {
    let log = log(7, None);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("excerpt");
    write_bundle(
        &dir,
        &excerpt_of(&log, &[1, 3, 4]),
        true,
        &log.signed,
        &[log.key.verifier()],
        &[],
    )
    .unwrap();
    let original = read_lines(&dir);

    let mut lines = original.clone();
    lines[1]["subject"] = Value::from("plan/p/action/9.9");
    write_lines(&dir, &lines);
    assert_eq!(verify(&log, &dir).first_bad_seq, Some(3));

    // Even a forger who fixes `hash` cannot make the proof lead to the root.
    let mut lines = original.clone();
    lines[1]["subject"] = Value::from("plan/p/action/9.9");
    let header = parse_line(&lines[1].to_string()).ok().unwrap().header;
    lines[1]["hash"] = Value::from(hex(&header.event_hash()));
    write_lines(&dir, &lines);
    let report = verify(&log, &dir);
    assert_eq!(report.first_bad_seq, Some(3));
    assert!(report.problem.unwrap().contains("inclusion proof"));

    let mut lines = original.clone();
    let proof = lines[0]["proof"].clone();
    lines[0]["proof"] = lines[2]["proof"].clone();
    lines[2]["proof"] = proof;
    write_lines(&dir, &lines);
    assert_eq!(verify(&log, &dir).first_bad_seq, Some(1));

    write_lines(&dir, &original);
    assert!(verify(&log, &dir).ok);
}

#[test]
fn an_excerpt_may_omit_a_payload_only_with_its_redaction() {
    let log = log(6, Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let with = tmp.path().join("with");
    write_bundle(
        &with,
        &excerpt_of(&log, &[2, 5]),
        true,
        &log.signed,
        &[log.key.verifier()],
        &[],
    )
    .unwrap();
    let report = verify(&log, &with);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.redacted, vec![2]);
    let without = tmp.path().join("without");
    let refused = write_bundle(
        &without,
        &excerpt_of(&log, &[2]),
        true,
        &log.signed,
        &[log.key.verifier()],
        &[],
    );
    assert!(refused.is_err());
    assert!(!without.exists());
}
