//! The fuzz targets of `fuzz/` (cargo-fuzz) as proptest properties in the normal
//! test suite: arbitrary bytes, and mutated real inputs (the fixture CSV, C2SP
//! signed notes and checkpoints, a real bundle and its payloads), must never panic;
//! bad input is an error. The bodies are the same file the fuzzers run
//! (`fuzz/targets.rs`). Every crash found is kept as a regression case below.
//! Long runs: see docs/RELIABILITY.md.

#![allow(clippy::unwrap_used)]

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

use ledger::bundle::{write_bundle, BundleEvent, CHECKPOINT_FILE, EVENTS_FILE};
use ledger::{Ledger, NewEvent};
use proptest::prelude::*;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// A seed with a few byte-level mutations, as a fuzzer makes them.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (
        0..n,
        prop::collection::vec((0u8..5, any::<prop::sample::Index>(), any::<u8>()), 1..6),
    )
        .prop_map(move |(which, edits)| {
            let mut bytes = seeds[which].clone();
            for (op, at, byte) in edits {
                let len = bytes.len();
                let i = if len == 0 { 0 } else { at.index(len) };
                match op {
                    0 if len > 0 => bytes[i] = byte,
                    1 if len > 0 => bytes[i] ^= 1 << (byte % 8),
                    2 => bytes.insert(i, byte),
                    3 if len > 0 => {
                        bytes.remove(i);
                    }
                    _ => bytes.truncate(i),
                }
            }
            bytes
        })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn plan_import_arbitrary(data in prop::collection::vec(any::<u8>(), 0..600)) {
        targets::plan_import(&data);
    }

    #[test]
    fn plan_import_mutated(data in mutated(corpus("plan_import"))) {
        targets::plan_import(&data);
    }

    #[test]
    fn payload_arbitrary(data in prop::collection::vec(any::<u8>(), 0..300)) {
        targets::payload(&data);
    }

    #[test]
    fn payload_mutated(data in mutated(corpus("payload"))) {
        targets::payload(&data);
    }

    #[test]
    fn checkpoint_arbitrary(data in prop::collection::vec(any::<u8>(), 0..400)) {
        targets::checkpoint(&data);
    }

    #[test]
    fn checkpoint_mutated(data in mutated(corpus("checkpoint"))) {
        targets::checkpoint(&data);
    }
}

proptest! {
    // Each case writes two files: fewer cases.
    #![proptest_config(config(1000))]

    #[test]
    fn bundle_arbitrary(data in prop::collection::vec(any::<u8>(), 0..400)) {
        targets::bundle(&data);
    }

    #[test]
    fn bundle_mutated(data in mutated(corpus("bundle"))) {
        targets::bundle(&data);
    }

    #[test]
    fn witness_arbitrary(data in prop::collection::vec(any::<u8>(), 0..400)) {
        targets::witness(&data);
    }

    #[test]
    fn witness_mutated(data in mutated(corpus("witness"))) {
        targets::witness(&data);
    }

    #[test]
    fn inputs_arbitrary(data in prop::collection::vec(any::<u8>(), 0..200)) {
        targets::inputs(&data);
    }

    #[test]
    fn inputs_mutated(data in mutated(corpus("inputs"))) {
        targets::inputs(&data);
    }
}

proptest! {
    // Each case is a request to a running service (and some record a change).
    #![proptest_config(config(300))]

    #[test]
    fn api_arbitrary(data in prop::collection::vec(any::<u8>(), 0..300)) {
        targets::api(&data);
    }

    #[test]
    fn api_mutated(data in mutated(corpus("api"))) {
        targets::api(&data);
    }
}

/// The witness seeds are real requests: the first is co-signed unmutated.
#[test]
fn the_witness_seed_is_cosigned() {
    let seed = corpus("witness")
        .into_iter()
        .find(|s| s.starts_with(b"old 0\n"))
        .unwrap();
    let witness = ledger::note::SigningKey::from_bytes("fuzz.example/witness", &[3; 32]).unwrap();
    let mut seen = ledger::witness::Witnessed::default();
    let log = targets::fuzz_log_key().verifier();
    ledger::witness::add_checkpoint(&mut seen, &[log], &witness, &seed, 1).unwrap();
}

/// The bundle seed is a real export: it must verify unmutated, or the mutations
/// above would only ever exercise the first check.
#[test]
fn the_bundle_seed_verifies() {
    for seed in corpus("bundle") {
        let (events, checkpoint) = split(&seed);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(EVENTS_FILE), events).unwrap();
        std::fs::write(dir.path().join(CHECKPOINT_FILE), checkpoint).unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        targets::write_keys(dir.path());
        let report = ledger::bundle::verify_bundle(dir.path(), &[targets::fuzz_key().verifier()]);
        assert!(report.ok, "{report:?}");
    }
}

fn split(seed: &[u8]) -> (&[u8], &[u8]) {
    let at = seed
        .windows(targets::BUNDLE_SPLIT.len())
        .position(|w| w == targets::BUNDLE_SPLIT)
        .unwrap();
    (&seed[..at], &seed[at + targets::BUNDLE_SPLIT.len()..])
}

// Regression cases: inputs that crashed a target.

/// A payload whose first string claims 2^40 bytes: bincode allocated the whole
/// length before reading (an abort, "memory allocation failed"), and a length near
/// 2^64 panicked with "capacity overflow".
#[test]
fn a_payload_claiming_a_huge_length_is_an_error_not_an_abort() {
    for len in [1u64 << 40, u64::MAX, (1 << 33) + 7] {
        let mut payload = vec![253u8];
        payload.extend_from_slice(&len.to_le_bytes());
        payload.extend_from_slice(b"short");
        for kind in targets::kinds() {
            assert!(projections::DomainEvent::decode(kind, 1, &payload).is_err());
        }
        let mut data = vec![0u8, 1];
        data.extend_from_slice(&payload);
        targets::payload(&data);
    }
}

/// Writes the seed corpus from real inputs (run by hand after a format change:
/// `cargo test --test it -- --ignored write_seed_corpus`).
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("../shared/fixtures/manchester-jtai-2023.csv");
    let csv = std::fs::read(&fixture).unwrap();
    let dir = root.join("fuzz/corpus");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        std::fs::create_dir_all(dir.join(target)).unwrap();
        std::fs::write(dir.join(target).join(name), bytes).unwrap();
    };
    put("plan_import", "manchester-jtai-2023.csv", &csv);
    for name in [
        "word-two-tables-theme-shading.docx",
        "excel-title-block-fills.xlsx",
        "plan.ods",
        "semicolon-windows1252.csv",
    ] {
        let path = root.join("tests/fixtures/import").join(name);
        put("plan_import", name, &std::fs::read(path).unwrap());
    }
    put(
        "plan_import",
        "small.csv",
        b"ref,priority,action,lead,due,status\n1.1,Safety,Do the thing,Police,2024-03-31,green\n",
    );
    for (name, path) in [
        ("signed-note-example.txt", "c2sp/signed-note-example.txt"),
        (
            "signed-note-quasimodo.txt",
            "c2sp/parse-only/signed-note-quasimodo.txt",
        ),
        (
            "tlog-checkpoint-behind-the-sofa.txt",
            "c2sp/parse-only/tlog-checkpoint-behind-the-sofa.txt",
        ),
    ] {
        put(
            "checkpoint",
            name,
            &std::fs::read(root.join("../shared/vectors").join(path)).unwrap(),
        );
    }
    // A real ledger from the fixture, and its export.
    let options = assure::import::ImportOptions::default();
    let imported = assure::import::read_plan("manchester-jtai-2023.csv", &csv, &options).unwrap();
    let recording = assure::import::Recording {
        plan_id: "mcr-2023".into(),
        title: "Manchester JTAI 2023".into(),
        period: None,
        effective: 19_500,
        as_at: 19_500,
        file_name: "manchester-jtai-2023.csv".into(),
    };
    let planned =
        assure::import::plan_events(&projections::World::default(), &imported, &recording).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&tmp.path().join("data")).unwrap();
    let events: Vec<NewEvent> = planned
        .iter()
        .take(6)
        .map(|p| NewEvent {
            effective: 19_500,
            actor: "fuzz seed".into(),
            subject: p.subject.clone(),
            kind: p.event.kind().into(),
            payload_schema: p.event.schema(),
            payload: p.event.encode(),
        })
        .collect();
    for (i, p) in planned.iter().enumerate().take(6) {
        let k = targets::kinds()
            .iter()
            .position(|k| *k == p.event.kind())
            .unwrap() as u8;
        let mut seed = vec![k, p.event.schema() as u8];
        seed.extend_from_slice(&p.event.encode());
        put("payload", &format!("{i}-{}", p.event.kind()), &seed);
    }
    ledger.append(events).unwrap();
    let key = targets::fuzz_key();
    let signed = ledger.make_checkpoint(&key).unwrap();
    let mut bundle = Vec::new();
    ledger
        .scan(0..ledger.size(), &mut |e| {
            bundle.push(BundleEvent {
                header: e.header,
                body: e.body,
                body_json: None,
                proof: None,
            });
            Ok(true)
        })
        .unwrap();
    for e in &bundle {
        put(
            "payload",
            &format!("record-{}", e.header.seq),
            &ledger::codec::encode_header(&e.header),
        );
    }
    let out = tmp.path().join("bundle");
    write_bundle(&out, &bundle, false, &signed, &[key.verifier()], &[]).unwrap();
    let mut seed = std::fs::read(out.join(EVENTS_FILE)).unwrap();
    seed.extend_from_slice(targets::BUNDLE_SPLIT);
    let checkpoint = std::fs::read(out.join(CHECKPOINT_FILE)).unwrap();
    seed.extend_from_slice(&checkpoint);
    put("bundle", "real-export", &seed);
    put("checkpoint", "real-checkpoint", &checkpoint);

    // Witness requests for a log signed by the fuzz log key: the first one (old 0),
    // and one from an earlier size with its consistency proof.
    let log = targets::fuzz_log_key();
    let mut ledger = Ledger::init(&tmp.path().join("log")).unwrap();
    let event = |i: u8| NewEvent {
        effective: 19_500,
        actor: "fuzz seed".into(),
        subject: "plan/x".into(),
        kind: "plan.created".into(),
        payload_schema: 1,
        payload: vec![i],
    };
    ledger.append((0..5).map(event).collect()).unwrap();
    let first = ledger.make_checkpoint(&log).unwrap();
    put(
        "witness",
        "first",
        ledger::witness::request(0, &[], &first).as_bytes(),
    );
    let old = ledger.size();
    ledger.append((5..12).map(event).collect()).unwrap();
    let grown = ledger.make_checkpoint(&log).unwrap();
    let proof = ledger.consistency_proof(old, ledger.size()).unwrap();
    put(
        "witness",
        "grown",
        ledger::witness::request(old, &proof, &grown).as_bytes(),
    );

    put(
        "inputs",
        "typed",
        "2024-03-31\n31/03/2024\n31/03/24\n2024-02-30\n2024-03-31T10:00\n2024-03-31T10:00:00Z\n\
         green\nAmber\nBLUE\ngrey\nnot-started\nmcr/1.1,mcr-2024/2.3\nscorecard.pdf\n\
         tile/0/x001/234\ntile/entries/005.p/17\ntile/3/000\ntile/64/001\n"
            .as_bytes(),
    );
    for (route, name, body) in [
        (
            2u8,
            "status",
            r#"{"status":"amber","note":"Framework drafted","effective":"2024-01-15"}"#,
        ),
        (
            3,
            "progress",
            r#"{"note":"Met the partners","evidence":[{"name":"a.txt","base64":"aGVsbG8="}]}"#,
        ),
        (
            4,
            "carry-over",
            r#"{"to":"mcr-2024","reason":"not launched","effective":"2024-04-01"}"#,
        ),
        (
            5,
            "raise",
            r#"{"to_agency":"GMP","text":"Why is this late?","due":"2024-05-01"}"#,
        ),
        (7, "respond", r#"{"text":"We will","on_behalf_of":"GMP"}"#),
        (8, "escalate", r#"{"to":"Board","reason":"no answer"}"#),
        (9, "close", r#"{"outcome":"resolved","impact":"better"}"#),
        (10, "due", r#"{"due":"2024-06-30"}"#),
        (
            0,
            "import",
            "ref,priority,action,lead,due,status\n1.1,Safety,Do it,Police,2024-03-31,green\n",
        ),
    ] {
        let mut seed = vec![route];
        seed.extend_from_slice(body.as_bytes());
        put("api", name, &seed);
    }
}
