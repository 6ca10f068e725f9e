//! Benchmarks on a synthetic 1,000,000-event ledger (100 plans × 100 actions, the
//! rest status, progress and challenge events), each beside a raw baseline measured
//! in the same run. Figures go in `benches/README.md`.
//!
//! The ledger is built once under `target/bench-data/` and reused while its size is
//! right; set `ASSURE_BENCH_EVENTS` to build a smaller one for a quick run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use assure::app::App;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ledger::{Ledger, NewEvent};
use projections::read::{decode_owned, TimeQuery};
use projections::World;

mod common;
use common::*;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn appends(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = Ledger::init(&dir.path().join("append")).expect("init");
    let batch: Vec<NewEvent> = (0..10_000).map(activity).collect();
    let mut group = c.benchmark_group("append");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("durable batch of 10,000", |b| {
        b.iter(|| ledger.append(batch.clone()).expect("append"))
    });
    // Baseline: the same number of records of the same size, straight into sled, flushed.
    let raw = sled::Config::new()
        .path(dir.path().join("raw"))
        .open()
        .expect("sled");
    let bytes: Vec<Vec<u8>> = batch.iter().map(|e| e.payload.clone()).collect();
    let mut next = 0u64;
    group.bench_function("raw sled batch insert + flush (baseline)", |b| {
        b.iter(|| {
            let mut sled_batch = sled::Batch::default();
            for payload in &bytes {
                let mut record = vec![0u8; 150];
                record.extend_from_slice(payload);
                sled_batch.insert(&next.to_be_bytes(), record);
                next += 1;
            }
            raw.apply_batch(sled_batch).expect("raw batch");
            raw.flush().expect("flush");
        })
    });
    group.finish();
    // The median of single durable appends, measured directly as well, because the
    // target is stated as a median.
    let mut times: Vec<Duration> = (0..500)
        .map(|i| {
            let start = Instant::now();
            ledger.append(vec![activity(i)]).expect("append");
            start.elapsed()
        })
        .collect();
    times.sort();
    eprintln!(
        "single durable append over 500 calls: median {:?}, p90 {:?}, p99 {:?}",
        times[250], times[450], times[495]
    );
    let mut group = c.benchmark_group("append");
    group.sample_size(50);
    group.bench_function("one durable event", |b| {
        b.iter(|| ledger.append(vec![activity(1)]).expect("append"))
    });
    group.finish();
}

fn big_ledger(c: &mut Criterion) {
    let ledger = synthetic_ledger();
    let size = ledger.size();
    let mut group = c.benchmark_group("1M-ledger");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(size));
    group.bench_function(BenchmarkId::new("verify", size), |b| {
        b.iter(|| assert!(ledger.verify().ok))
    });
    group.bench_function(BenchmarkId::new("rebuild every view", size), |b| {
        b.iter(|| {
            let mut events = Vec::with_capacity(size as usize);
            ledger
                .scan(0..u64::MAX, &mut |event| {
                    events.push(decode_owned(event).expect("decode"));
                    Ok(true)
                })
                .expect("scan");
            World::replay(&events).0.plans.len()
        })
    });
    group.finish();

    let data = ledger.dir().to_path_buf();
    // Baseline: the log's stored bytes straight from sled, re-hashed the way the
    // format requires (BLAKE3 of each header, BLAKE3 of each salt and payload) with no
    // decoding and no checks, plus the RFC 9162 tree over the event hashes: the
    // hashing every verifier of this format must do, and nothing else.
    drop(ledger);
    let raw = sled::Config::new()
        .path(data.join("store"))
        .open()
        .expect("sled");
    let mut group = c.benchmark_group("1M-ledger");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(size));
    group.bench_function(
        BenchmarkId::new("raw sled iterate + re-hash every event (baseline)", size),
        |b| {
            b.iter(|| {
                let mut events = 0u64;
                let mut frontier = ledger::merkle::Frontier::new();
                for entry in raw.range(&b"e"[..]..&b"f"[..]) {
                    let (_, chunk) = entry.expect("raw read");
                    for record in ledger::codec::chunk_records(&chunk) {
                        let parts =
                            ledger::codec::split_record(record.expect("record")).expect("parts");
                        let event_hash = blake3::hash(parts.leaf);
                        frontier.push(*event_hash.as_bytes()).expect("tree");
                        if let Some((salt, payload)) = parts.body {
                            let mut hasher = blake3::Hasher::new();
                            hasher.update(salt);
                            hasher.update(payload);
                            std::hint::black_box(hasher.finalize());
                        }
                        events += 1;
                    }
                }
                (events, frontier.root())
            })
        },
    );
    group.finish();
    drop(raw);
    // Proofs and checkpoints on the 1M ledger.
    let mut ledger = Ledger::open(&data).expect("reopen");
    // One key for every run, so a bundle exported by an earlier run still verifies.
    let key_path = bench_dir().join("bench.key");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(text) => ledger::note::SigningKey::from_file_string(&text).expect("bench key"),
        Err(_) => {
            let key = ledger::note::SigningKey::generate("bench.ledger/1").expect("key");
            std::fs::write(&key_path, key.to_file_string()).expect("write bench key");
            let _ = std::fs::remove_dir_all(bench_dir().join(format!("bundle-{}", total_events())));
            key
        }
    };
    let size = ledger.size();
    let mut group = c.benchmark_group("1M-ledger proofs");
    group.sample_size(30);
    group.bench_function("checkpoint (sign and store the current head)", |b| {
        b.iter(|| ledger.make_checkpoint(&key).expect("checkpoint"))
    });
    group.bench_function("inclusion proof", |b| {
        let mut seq = 0u64;
        b.iter(|| {
            seq = (seq + 7_919) % size;
            ledger.inclusion_proof(seq, size).expect("proof")
        })
    });
    group.bench_function("consistency proof", |b| {
        let mut old = 1u64;
        b.iter(|| {
            old = (old + 7_919) % size + 1;
            ledger.consistency_proof(old, size).expect("proof")
        })
    });
    group.finish();
    publish_tiles(&ledger, &key);
    drop(ledger);

    // Full bundle verification, on an export of the whole ledger.
    let bundle = bench_dir().join(format!("bundle-{}", total_events()));
    if !bundle.join("events.jsonl").is_file() {
        let _ = std::fs::remove_dir_all(&bundle);
        let mut app = App {
            ledger: assure::app::Held::Own(Ledger::open(&data).expect("reopen")),
            actor: "bench".into(),
        };
        assure::app::export::export_to(&mut app.ledger, &bundle, None, &key).expect("export");
    }
    let vkey = key.verifier();
    let mut group = c.benchmark_group("1M-ledger bundle");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(size));
    group.bench_function("verify --bundle (full export)", |b| {
        b.iter(|| assert!(ledger::bundle::verify_bundle(&bundle, std::slice::from_ref(&vkey)).ok))
    });
    group.finish();
    let app = App {
        ledger: assure::app::Held::Own(Ledger::open(&data).expect("reopen")),
        actor: "bench".into(),
    };
    let mut group = c.benchmark_group("1M-ledger query");
    group.sample_size(20);
    let as_of = TimeQuery {
        as_of: Some(FIRST_DAY + 200),
        known_at: None,
    };
    group.bench_function("plan --as-of, in-process", |b| {
        b.iter(|| {
            app.plan_at("plan-042", as_of)
                .expect("plan")
                .expect("exists")
        })
    });
    let summaries = data.join("cache").join("plans.json");
    group.bench_function("plans, summaries up to date", |b| {
        b.iter(|| assure::app::summaries::plan_summaries(&app).expect("plans"))
    });
    group.bench_function("plans, summaries rebuilt (no cache)", |b| {
        b.iter(|| {
            let _ = std::fs::remove_file(&summaries);
            assure::app::summaries::plan_summaries(&app).expect("plans")
        })
    });
    drop(app);
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/assure");
    if binary.is_file() {
        group.bench_function("plan --as-of, whole CLI call", |b| {
            b.iter(|| {
                let out = Command::new(&binary)
                    .args([
                        "--data",
                        data.to_str().expect("utf-8 path"),
                        "plan",
                        "plan-042",
                        "--as-of",
                        "2022-07-27",
                        "--json",
                    ])
                    .output()
                    .expect("run assure");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            })
        });
    } else {
        eprintln!(
            "skipping the CLI benchmark: build target/release/assure first (cargo build --release)"
        );
    }
    group.finish();
    eprintln!(
        "peak resident memory of the benchmark process: {:.0} MiB",
        peak_rss_mib()
    );
}

/// The tlog-tiles publication of the 1M ledger: written from scratch once (timed),
/// then brought forward 100 events at a time, twenty times (each timed), as a
/// service publishing each new checkpoint would, then checked whole once (timed).
fn publish_tiles(ledger: &Ledger, key: &ledger::note::SigningKey) {
    let size = ledger.size();
    let checkpoint_at = |n: u64| {
        let body = ledger::checkpoint::Checkpoint::new(
            key.verifier().name.clone(),
            n,
            ledger.root_at(n).expect("root"),
        );
        ledger::checkpoint::SignedCheckpoint::sign(&body, &[key]).expect("sign")
    };
    let out = bench_dir().join("tiles");
    let _ = std::fs::remove_dir_all(&out);
    let start = size - 2_000;
    let began = Instant::now();
    let first = ledger
        .write_tiles(&out, &checkpoint_at(start))
        .expect("tiles");
    eprintln!(
        "tiles of {} events from scratch: {:.2?} ({} files)",
        start,
        began.elapsed(),
        first.written
    );
    let mut steps: Vec<Duration> = (1..=20)
        .map(|k| {
            let checkpoint = checkpoint_at(start + 100 * k);
            let began = Instant::now();
            ledger.write_tiles(&out, &checkpoint).expect("tiles");
            began.elapsed()
        })
        .collect();
    steps.sort_unstable();
    eprintln!(
        "tiles brought up to a checkpoint 100 events later: median {:.2?}, max {:.2?} (20 times)",
        steps[steps.len() / 2],
        steps[steps.len() - 1]
    );
    let latest = checkpoint_at(start + 2_000);
    let began = Instant::now();
    let checked = ledger.check_tiles(&out, &latest).expect("check");
    eprintln!(
        "tiles checked (every file read back): {:.2?} ({} kept, {} written, {} repaired)",
        began.elapsed(),
        checked.kept,
        checked.written,
        checked.repaired
    );
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, appends, big_ledger);
criterion_main!(benches);
