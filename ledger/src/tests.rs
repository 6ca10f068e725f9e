//! Tests of the ledger against a model: whatever sequence of appends and reopenings,
//! the store must behave like a `Vec` of events, verify cleanly, and report any
//! single damaged byte with the seq it belongs to.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use proptest::prelude::*;

use crate::header::NewEvent;
use crate::{Error, Ledger};

pub(crate) fn new_event(i: usize, subject: &str) -> NewEvent {
    NewEvent {
        effective: 19_000 + i as i32,
        actor: "tester".into(),
        subject: subject.into(),
        kind: "test.event".into(),
        payload_schema: 1,
        payload: format!("payload {i}").into_bytes(),
    }
}

fn fresh() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let ledger = Ledger::init(&path).unwrap();
    (dir, ledger)
}

#[test]
fn appends_are_gapless_chained_and_verify() {
    let (_dir, mut ledger) = fresh();
    let first = ledger
        .append(vec![new_event(0, "a"), new_event(1, "b")])
        .unwrap();
    let second = ledger.append(vec![new_event(2, "a")]).unwrap();
    assert_eq!(first[0].seq, 0);
    assert_eq!(first[1].prev, first[0].event_hash());
    assert_eq!(second[0].seq, 2);
    assert_eq!(second[0].prev, first[1].event_hash());
    assert_eq!(ledger.seqs_with_subject("a").unwrap(), vec![0, 2]);
    assert_eq!(ledger.seqs_with_subject_prefix("").unwrap(), vec![0, 1, 2]);
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.size, 3);
}

#[test]
fn recorded_at_never_decreases_even_if_the_clock_does() {
    let (_dir, mut ledger) = fresh();
    let times = std::sync::Arc::new(std::sync::Mutex::new(vec![100, 50, 200]));
    let source = times.clone();
    ledger.set_clock(Box::new(move || source.lock().unwrap().remove(0)));
    let a = ledger.append(vec![new_event(0, "s")]).unwrap();
    let b = ledger.append(vec![new_event(1, "s")]).unwrap();
    let c = ledger.append(vec![new_event(2, "s")]).unwrap();
    assert_eq!(
        (a[0].recorded_at, b[0].recorded_at, c[0].recorded_at),
        (100, 100, 200)
    );
    assert_eq!(ledger.size_known_at(99).unwrap(), 0);
    assert_eq!(ledger.size_known_at(100).unwrap(), 2);
    assert_eq!(ledger.size_known_at(199).unwrap(), 2);
    assert_eq!(ledger.size_known_at(i64::MAX).unwrap(), 3);
}

#[test]
fn a_second_open_is_refused_as_in_use() {
    let (dir, _ledger) = fresh();
    match Ledger::open(&dir.path().join("data")) {
        Err(Error::InUse { .. }) => {}
        other => panic!("expected InUse, got {other:?}"),
    }
}

#[test]
fn foreign_and_missing_folders_are_not_ledgers_and_are_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    assert!(matches!(
        Ledger::open(dir.path()),
        Err(Error::NotALedger { .. })
    ));
    assert!(matches!(
        Ledger::open(&dir.path().join("nope")),
        Err(Error::NotALedger { .. })
    ));
    assert!(matches!(
        Ledger::init(dir.path()),
        Err(Error::AlreadyExists { .. })
    ));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("notes.txt")]);
    assert!(!dir.path().join("nope").exists());
}

#[test]
fn oversized_and_malformed_events_are_rejected_whole() {
    let (_dir, mut ledger) = fresh();
    let mut big = new_event(1, "s");
    big.payload = vec![0; crate::ledger::MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        ledger.append(vec![new_event(0, "s"), big]),
        Err(Error::Rejected(_))
    ));
    let mut control = new_event(2, "s");
    control.subject = "plan/\u{0}x".into();
    assert!(matches!(
        ledger.append(vec![control]),
        Err(Error::Rejected(_))
    ));
    assert_eq!(ledger.size(), 0);
}

#[test]
fn events_removed_from_the_end_are_detected_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let mut ledger = Ledger::init(&path).unwrap();
    ledger
        .append(vec![new_event(0, "s"), new_event(1, "s")])
        .unwrap();
    let head_after_two = std::fs::read(path.join("HEAD")).unwrap();
    ledger.append(vec![new_event(2, "s")]).unwrap();
    drop(ledger);
    // Put back an older head file: the store is then ahead, which open rolls forward.
    std::fs::write(path.join("HEAD"), &head_after_two).unwrap();
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.size(), 3);
    drop(ledger);
    // A head file that claims more than the store holds means events were removed.
    let mut forged = crate::codec::decode_head(&std::fs::read(path.join("HEAD")).unwrap()).unwrap();
    forged.size += 1;
    std::fs::write(path.join("HEAD"), crate::codec::encode_head(&forged)).unwrap();
    assert!(matches!(Ledger::open(&path), Err(Error::Corruption { .. })));
}

#[test]
fn evidence_is_content_addressed_and_checked() {
    let (_dir, ledger) = fresh();
    let hash = ledger.blobs().put(b"minutes of the board").unwrap();
    assert_eq!(ledger.blobs().put(b"minutes of the board").unwrap(), hash);
    assert_eq!(ledger.blobs().get(&hash).unwrap(), b"minutes of the board");
    let path = ledger.blobs().dir().join(crate::hex::hex(&hash));
    std::fs::write(&path, b"minutes of the bored").unwrap();
    assert!(matches!(
        ledger.blobs().get(&hash),
        Err(Error::Corruption { .. })
    ));
    let report = ledger.verify();
    assert!(!report.ok);
    assert!(report.problem.unwrap().contains("no longer matches"));
}

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<u8>),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::collection::vec(0u8..4, 1..4).prop_map(Op::Append),
        1 => Just(Op::Reopen),
    ]
}

fn check_against_model(ledger: &Ledger, model: &[(String, Vec<u8>)]) {
    assert_eq!(ledger.size(), model.len() as u64);
    let mut seen = 0;
    ledger
        .scan(0..u64::MAX, &mut |event| {
            let (subject, payload) = &model[event.header.seq as usize];
            assert_eq!(&event.header.subject, subject);
            assert_eq!(event.payload().unwrap(), payload.as_slice());
            seen += 1;
            Ok(true)
        })
        .unwrap();
    assert_eq!(seen, model.len());
    for s in 0..4u8 {
        let subject = format!("subject/{s}");
        let expected: Vec<u64> = model
            .iter()
            .enumerate()
            .filter(|(_, (sub, _))| *sub == subject)
            .map(|(i, _)| i as u64)
            .collect();
        assert_eq!(ledger.seqs_with_subject(&subject).unwrap(), expected);
    }
    assert!(ledger.verify().ok);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random appends and reopenings behave like a Vec of events.
    #[test]
    fn ledger_behaves_like_a_vec(ops in proptest::collection::vec(op(), 1..20)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let mut ledger = Ledger::init(&path).unwrap();
        let mut model: Vec<(String, Vec<u8>)> = Vec::new();
        for op in ops {
            match op {
                Op::Append(subjects) => {
                    let batch: Vec<NewEvent> = subjects.iter().map(|s| {
                        let mut e = new_event(model.len(), &format!("subject/{s}"));
                        e.payload = format!("event {} of {s}", model.len()).into_bytes();
                        e
                    }).collect();
                    for e in &batch {
                        model.push((e.subject.clone(), e.payload.clone()));
                    }
                    ledger.append(batch).unwrap();
                }
                Op::Reopen => {
                    drop(ledger);
                    ledger = Ledger::open(&path).unwrap();
                }
            }
            check_against_model(&ledger, &model);
        }
    }
}

/// Every file of the store, with each byte flipped in turn (sampled), must give either
/// a clean error or a ledger that still verifies with the same content: never a
/// panic and never a silent difference.
fn flip_and_check(path: &Path, expected_size: u64) -> (usize, usize) {
    let mut detected = 0;
    let mut harmless = 0;
    let mut files = Vec::new();
    for entry in walk(path) {
        files.push(entry);
    }
    for file in files {
        // sled replaces its snapshot files when it opens, so a file listed before the
        // trials may be gone: that is sled's own housekeeping, not damage.
        let Ok(original) = std::fs::read(&file) else {
            continue;
        };
        if original.is_empty() {
            continue;
        }
        let step = (original.len() / 40).max(1);
        for at in (0..original.len()).step_by(step) {
            let mut damaged = original.clone();
            damaged[at] ^= 0x20;
            std::fs::write(&file, &damaged).unwrap();
            let outcome = std::panic::catch_unwind(|| match Ledger::open(path) {
                Err(_) => true,
                Ok(ledger) => {
                    let report = ledger.verify();
                    !report.ok || {
                        assert_eq!(
                            report.size,
                            expected_size,
                            "silent difference after flipping {} at {at}",
                            file.display()
                        );
                        false
                    }
                }
            });
            match outcome {
                Ok(true) => detected += 1,
                Ok(false) => harmless += 1,
                Err(_) => panic!("panic after flipping byte {at} of {}", file.display()),
            }
            std::fs::write(&file, &original).unwrap();
        }
    }
    (detected, harmless)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path.ends_with("LOCK") {
            out.push(path);
        }
    }
    out
}

#[test]
fn flipped_bytes_anywhere_are_detected_or_harmless_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let mut ledger = Ledger::init(&path).unwrap();
    for i in 0..20 {
        ledger.append(vec![new_event(i, "plan/x")]).unwrap();
    }
    ledger.blobs().put(b"evidence").unwrap();
    drop(ledger);
    let (detected, _harmless) = flip_and_check(&path, 20);
    assert!(detected > 0);
}

#[test]
fn a_flipped_bit_in_any_header_or_payload_is_reported_with_its_seq() {
    // Rewrite one stored record with one bit changed, as an attacker with write access
    // to the store could, for every bit of every record.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let mut ledger = Ledger::init(&path).unwrap();
    for i in 0..5 {
        ledger.append(vec![new_event(i, "s")]).unwrap();
    }
    for seq in 0..5u64 {
        let original = ledger.raw_record(seq).unwrap();
        for bit in 0..original.len() * 8 {
            let mut damaged = original.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            ledger.tamper_raw_record(seq, damaged);
            let report = ledger.verify();
            assert!(
                !report.ok,
                "flip of bit {bit} of record {seq} went unnoticed"
            );
            // A flip in a header is found at its seq; one that breaks nothing in its own
            // record (never the case for these fields) would be found at the next link.
            let bad = report.first_bad_seq.unwrap();
            assert!(
                bad == seq || bad == seq + 1,
                "seq {seq}, bit {bit}: reported {bad}"
            );
        }
        ledger.tamper_raw_record(seq, original);
        assert!(ledger.verify().ok);
    }
}

#[test]
fn a_missing_payload_without_a_redaction_is_tampering() {
    let (_dir, mut ledger) = fresh();
    ledger
        .append(vec![new_event(0, "s"), new_event(1, "s")])
        .unwrap();
    let record = ledger.raw_record(0).unwrap();
    let parts = crate::codec::split_record(&record).unwrap();
    let stripped = crate::codec::encode_record(parts.leaf, None);
    ledger.tamper_raw_record(0, stripped);
    let report = ledger.verify();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(0));
    assert!(report.problem.unwrap().contains("no redaction"));
}

#[test]
fn an_altered_index_copy_is_caught_so_views_cannot_be_fooled() {
    let (_dir, mut ledger) = fresh();
    ledger
        .append(vec![new_event(0, "plan/x"), new_event(1, "plan/x")])
        .unwrap();
    // A forged copy: a different payload with a consistent payload hash.
    let mut forged_event = ledger.event(1).unwrap();
    let salt = [7u8; 16];
    let payload = b"forged".to_vec();
    forged_event.header.payload_hash = crate::header::payload_hash(&salt, &payload);
    let forged = crate::codec::encode_record(
        &forged_event.header.leaf_bytes(),
        Some(&crate::header::SaltedPayload { salt, payload }),
    );
    ledger.tamper_index_copy("plan/x", 1, forged);
    let report = ledger.verify();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(1));
    assert!(report
        .problem
        .unwrap()
        .contains("subject index copy differs"));
}

#[test]
fn subject_queries_read_the_covering_index_in_seq_order() {
    let (_dir, mut ledger) = fresh();
    ledger
        .append(vec![
            new_event(0, "plan/a/action/2"),
            new_event(1, "plan/a"),
            new_event(2, "plan/ab"),
            new_event(3, "plan/a/action/1"),
        ])
        .unwrap();
    let seqs = |events: Vec<crate::Event>| events.iter().map(|e| e.header.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(ledger.events_with_subject_prefix("plan/a/").unwrap()),
        vec![0, 3]
    );
    assert_eq!(seqs(ledger.events_with_subject("plan/a").unwrap()), vec![1]);
    assert_eq!(
        seqs(ledger.events_with_subject_prefix("plan/a").unwrap()),
        vec![0, 1, 2, 3]
    );
    // One group, read without the ledger: plan/a and its actions, not plan/ab.
    let reader = ledger.reader();
    assert_eq!(
        seqs(reader.events_in_group("plan/a").unwrap()),
        vec![0, 1, 3]
    );
    assert_eq!(seqs(reader.events_in_group("plan/ab").unwrap()), vec![2]);
    assert!(reader.events_in_group("plan/").unwrap().is_empty());
    let mut read = Vec::new();
    reader
        .scan(1..3, &mut |e| {
            read.push(e.header.seq);
            Ok(true)
        })
        .unwrap();
    assert_eq!(read, vec![1, 2]);
    // Past the end of the log: the missing event is named.
    let missing = reader
        .scan(3..5, &mut |_| Ok(true))
        .unwrap_err()
        .to_string();
    assert!(missing.contains('4'), "{missing}");
}

#[test]
fn large_batches_span_chunks_and_read_back_by_seq() {
    let (_dir, mut ledger) = fresh();
    let batch: Vec<NewEvent> = (0..300).map(|i| new_event(i, "s")).collect();
    ledger.append(batch).unwrap();
    ledger.append(vec![new_event(300, "s")]).unwrap();
    for seq in [0, 127, 128, 255, 256, 299, 300] {
        let event = ledger.event(seq).unwrap();
        assert_eq!(event.header.seq, seq);
        assert_eq!(
            event.payload().unwrap(),
            format!("payload {seq}").as_bytes()
        );
    }
    let mut seen = Vec::new();
    ledger
        .scan(126..260, &mut |e| {
            seen.push(e.header.seq);
            Ok(true)
        })
        .unwrap();
    assert_eq!(seen, (126..260).collect::<Vec<_>>());
    assert!(matches!(ledger.event(301), Err(Error::Rejected(_))));
    assert!(ledger.verify().ok);
}

#[test]
fn redaction_destroys_the_payload_keeps_the_header_and_still_verifies() {
    let (_dir, mut ledger) = fresh();
    ledger
        .append(vec![
            new_event(0, "plan/x/action/1"),
            new_event(1, "plan/x/action/1"),
        ])
        .unwrap();
    let before = ledger.header(0).unwrap();
    let redaction = ledger
        .redact(0, "erasure request ER-12", "dpo", 19_500)
        .unwrap();
    assert_eq!(redaction.seq, 2);
    assert_eq!(redaction.kind, crate::redaction::REDACTION_KIND);
    let after = ledger.event(0).unwrap();
    assert_eq!(after.header, before);
    assert!(after.body.is_none());
    let copies = ledger.events_with_subject("plan/x/action/1").unwrap();
    assert!(copies[0].body.is_none());
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    assert!(matches!(
        ledger.redact(0, "again", "dpo", 19_500),
        Err(Error::Rejected(_))
    ));
    assert!(matches!(
        ledger.redact(2, "a redaction", "dpo", 19_500),
        Err(Error::Rejected(_))
    ));
    assert!(matches!(
        ledger.redact(1, " ", "dpo", 19_500),
        Err(Error::Rejected(_))
    ));
}

/// How many files under `dir` contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
        .collect()
}

#[test]
fn after_a_store_rewrite_no_file_holds_an_erased_payload() {
    let (dir, mut ledger) = fresh();
    let secret = b"Mrs Secret-Person of 12 Acacia Avenue";
    let mut events = vec![new_event(0, "plan/x/action/1")];
    events[0].payload = secret.to_vec();
    ledger.append(events).unwrap();
    for i in 1..40 {
        ledger
            .append(vec![new_event(i, "plan/x/action/2")])
            .unwrap();
    }
    // Not yet flushed: the write-ahead log may hold it as well as sled.
    let kept = new_event(99, "plan/x/action/1");
    ledger
        .redact_with(0, "erasure request ER-12", "dpo", 19_500, vec![kept])
        .unwrap();
    assert_eq!(ledger.size(), 42, "the kept event and the redaction");
    let root = ledger.root_at(42).unwrap();
    let ledger = ledger.rewrite_store().unwrap();
    assert_eq!(
        files_containing(dir.path(), secret),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(ledger.size(), 42);
    assert_eq!(ledger.root_at(42).unwrap(), root);
    assert!(ledger.event(0).unwrap().body.is_none());
    assert_eq!(
        ledger.event(41).unwrap().header.kind,
        crate::redaction::REDACTION_KIND
    );
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("store.")), "{names:?}");
}

#[test]
fn an_interrupted_store_rewrite_is_finished_or_discarded_on_open() {
    let (dir, mut ledger) = fresh();
    ledger.append(vec![new_event(0, "plan/x")]).unwrap();
    drop(ledger);
    let data = dir.path().join("data");
    // Unfinished (no done file): the partial copy is discarded.
    std::fs::create_dir(data.join("store.rewrite")).unwrap();
    std::fs::write(data.join("store.rewrite/junk"), b"partial").unwrap();
    let ledger = Ledger::open(&data).unwrap();
    assert!(!data.join("store.rewrite").exists());
    assert_eq!(ledger.size(), 1);
    // Finished but cut before the swap: a copy of the store with its done file.
    drop(ledger);
    copy_dir(&data.join("store"), &data.join("store.rewrite"));
    std::fs::write(data.join("store.rewrite.done"), b"").unwrap();
    // Cut after the old store was moved aside, before the new one took its place.
    std::fs::rename(data.join("store"), data.join("store.erased")).unwrap();
    let ledger = Ledger::open(&data).unwrap();
    assert_eq!(ledger.size(), 1);
    assert!(ledger.verify().ok);
    for gone in ["store.rewrite", "store.rewrite.done", "store.erased"] {
        assert!(!data.join(gone).exists(), "{gone} left behind");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_stored_merkle_tree_matches_a_fresh_one_and_its_proofs_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let mut ledger = Ledger::init(&path).unwrap();
    let mut reference = crate::merkle::MemNodes::new();
    for batch in [1usize, 2, 13, 40, 1, 100] {
        let events: Vec<NewEvent> = (0..batch)
            .map(|i| new_event(i, "plan/t/action/1"))
            .collect();
        for header in ledger.append(events).unwrap() {
            reference.push(header.event_hash()).unwrap();
        }
        drop(ledger);
        ledger = Ledger::open(&path).unwrap();
        assert_eq!(ledger.root(), reference.root());
    }
    let size = ledger.size();
    for (seq, at) in [(0, size), (16, 17), (31, 64), (size - 1, size)] {
        let proof = ledger.inclusion_proof(seq, at).unwrap();
        let leaf = crate::merkle::leaf_hash(&ledger.header(seq).unwrap().event_hash());
        let root = ledger.root_at(at).unwrap();
        crate::merkle::verify_inclusion(seq, at, &leaf, &proof, &root).unwrap();
    }
    for old in [1, 3, 16, 17, 100, size] {
        let proof = ledger.consistency_proof(old, size).unwrap_or_default();
        crate::merkle::verify_consistency(
            old,
            size,
            &ledger.root_at(old).unwrap(),
            &ledger.root(),
            &proof,
        )
        .unwrap();
    }
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.root, crate::hex::hex(&reference.root()));
}

#[test]
fn a_tampered_stored_merkle_node_is_caught_by_verify() {
    let (_dir, mut ledger) = fresh();
    ledger
        .append((0..40).map(|i| new_event(i, "s")).collect())
        .unwrap();
    ledger.tamper_store(&crate::tree::node_key(4, 1), vec![9; 32]);
    let report = ledger.verify();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(16));
}

#[test]
fn checkpoints_are_made_for_the_current_head_cosigned_and_checked_by_verify() {
    let (_dir, mut ledger) = fresh();
    let key = crate::note::SigningKey::generate("assure.test/ledger").unwrap();
    let chair = crate::note::SigningKey::generate("chair.example/jones").unwrap();
    ledger
        .append((0..20).map(|i| new_event(i, "s")).collect())
        .unwrap();
    let first = ledger.make_checkpoint(&key).unwrap();
    assert_eq!(first.unverified_checkpoint().size, 20);
    assert_eq!(first.unverified_checkpoint().root, ledger.root());
    let cosigned = ledger
        .cosign_checkpoint(first.to_string().as_bytes(), &chair)
        .unwrap();
    let verified = cosigned.verify(&[chair.verifier()]).unwrap();
    assert_eq!(verified.checkpoint.size, 20);
    cosigned.verify(&[key.verifier()]).unwrap();
    ledger.append(vec![new_event(20, "s")]).unwrap();
    ledger.make_checkpoint(&key).unwrap();
    assert_eq!(ledger.checkpoints().unwrap().len(), 2);
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    // A checkpoint the ledger never made cannot be co-signed.
    let forged = crate::checkpoint::SignedCheckpoint::sign(
        &crate::checkpoint::Checkpoint::new("assure.test/ledger", 20, [7; 32]),
        &[&key],
    )
    .unwrap();
    assert!(matches!(
        ledger.cosign_checkpoint(forged.to_string().as_bytes(), &chair),
        Err(Error::Rejected(_))
    ));
    // A stored checkpoint whose root the events do not give is a rewritten history.
    ledger.tamper_store(
        &{
            let mut k = [b'c'; 9];
            k[1..].copy_from_slice(&20u64.to_be_bytes());
            k
        },
        forged.to_string().into_bytes(),
    );
    let report = ledger.verify();
    assert!(!report.ok);
    assert!(report.problem.unwrap().contains("rewritten"));
}
