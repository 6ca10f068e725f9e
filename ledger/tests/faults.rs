//! IO fault injection (see `ledger::faults` and docs/RELIABILITY.md).
//!
//! 1. Durable means durable: the traced order of writes, fsyncs, creations and
//!    renames shows that `init`, `append`, evidence, checkpoints and exports return
//!    only after the data and the directory entries they created were fsynced.
//! 2. SQLite-style sweeps: for N = 1, 2, … fail the Nth file operation of an
//!    operation, once (transient) and from then on (persistent), until the operation
//!    completes without reaching N. Every failure must be an `Error::Io` naming what
//!    failed, nothing may panic, and after reopening with a healthy layer the ledger
//!    verifies with everything acknowledged present. The guarantee, precisely: an
//!    acknowledged batch is present after reopening; a batch whose `append` failed is
//!    present entirely or not at all (never in part), and if present it was never
//!    acknowledged.
//! 3. Disk full: ENOSPC is INJECTED here (every write and creation fails with errno
//!    28), and, when the test can mount a 4 MiB tmpfs (root in a sandbox), also real.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ledger::bundle::{verify_bundle, write_bundle, BundleEvent};
use ledger::faults::{self, Injector, Mode, Op, Traced};
use ledger::note::SigningKey;
use ledger::{Error, EventHeader, Ledger, NewEvent};

fn event(i: usize, subject: &str) -> NewEvent {
    NewEvent {
        effective: 19_000 + i as i32,
        actor: "fault tester".into(),
        subject: subject.into(),
        kind: "test.event".into(),
        payload_schema: 1,
        payload: format!("payload {i} for {subject}").into_bytes(),
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes("faults.example/test", &[7; 32]).unwrap()
}

fn pos(trace: &[Traced], op: Op, target: &str) -> Option<usize> {
    trace.iter().position(|t| t.op == op && t.target == target)
}

fn last_pos(trace: &[Traced], op: Op, target: &str) -> Option<usize> {
    trace.iter().rposition(|t| t.op == op && t.target == target)
}

fn dir_target(dir: &Path) -> String {
    format!("directory {}", dir.display())
}

/// Every file written in `trace` is fsynced after its last write.
fn assert_writes_fsynced(trace: &[Traced]) {
    for (i, t) in trace.iter().enumerate() {
        if t.op == Op::Write {
            let synced = trace[i..].iter().any(|s| {
                s.op == Op::Fsync && (s.target == t.target || t.target.starts_with("store"))
            });
            assert!(synced, "write of {} never fsynced: {trace:#?}", t.target);
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Durable means durable
// ---------------------------------------------------------------------------

#[test]
fn init_fsyncs_every_file_and_every_directory_entry_it_creates() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let guard = faults::install(Injector::trace());
    let ledger = Ledger::init(&data).unwrap();
    let trace = guard.trace();
    drop(guard);
    assert_writes_fsynced(&trace);
    // The data folder's own entry in its parent.
    let made = pos(&trace, Op::Create, &data.display().to_string()).unwrap();
    let parent_synced = pos(&trace, Op::Fsync, &dir_target(tmp.path())).unwrap();
    assert!(made < parent_synced, "{trace:#?}");
    // Every entry made in the data folder, then the folder fsynced after the last.
    let folder_synced = last_pos(&trace, Op::Fsync, &dir_target(&data)).unwrap();
    for (i, t) in trace.iter().enumerate() {
        if t.op == Op::Create {
            assert!(
                i < folder_synced,
                "{} created after the last folder fsync",
                t.target
            );
        }
    }
    // The store: its log file, its config file and its folder, before the marker.
    let store = data.join("store");
    let marker = pos(
        &trace,
        Op::Create,
        &data.join("ASSURE-LEDGER").display().to_string(),
    )
    .unwrap();
    for (op, target) in [
        (Op::Fsync, "store log file".to_string()),
        (Op::Fsync, "store config file".to_string()),
        (Op::Fsync, dir_target(&store)),
    ] {
        let at = pos(&trace, op, &target).unwrap_or_else(|| panic!("no {target}: {trace:#?}"));
        assert!(at < marker, "{target} after the marker");
    }
    drop(ledger);
}

#[test]
fn append_returns_only_after_the_write_ahead_log_is_fsynced_and_the_store_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut ledger = Ledger::init(&data).unwrap();
    let guard = faults::install(Injector::trace());
    ledger.append(vec![event(0, "plan/1")]).unwrap();
    let trace = guard.trace();
    // The batch is durable once its frame is written and fdatasynced, before
    // anything else is written; then it goes into the store.
    let write = pos(&trace, Op::Write, "write-ahead log").unwrap();
    let synced = write + 1;
    assert_eq!(
        trace.get(synced).map(|t| (t.op, t.target.as_str())),
        Some((Op::Fsync, "write-ahead log")),
        "{trace:#?}"
    );
    assert!(pos(&trace, Op::Write, "store batch").unwrap() > synced);
    assert!(
        trace[..write]
            .iter()
            .all(|t| t.op == Op::Create || t.op == Op::Fsync),
        "{trace:#?}"
    );
    // Closing moves it into the store: batch, flush, fsyncs, head file, then the log
    // is emptied.
    drop(ledger);
    let trace = guard.trace();
    drop(guard);
    let at = |op, target: &str| {
        last_pos(&trace, op, target).unwrap_or_else(|| panic!("{target}: {trace:#?}"))
    };
    let order = [
        at(Op::Write, "store flush"),
        at(Op::Fsync, "store log file"),
        at(Op::Write, "head file"),
        at(Op::Fsync, "head file"),
        at(Op::Fsync, "write-ahead log"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{trace:#?}");
    assert_writes_fsynced(&trace);
    assert_eq!(std::fs::metadata(data.join("wal")).unwrap().len(), 0);
    let ledger = Ledger::open(&data).unwrap();
    assert_eq!(ledger.size(), 1);
    assert!(ledger.verify().ok);
}

#[test]
fn a_staged_batch_is_readable_at_once_durable_once_logged_and_a_failed_sync_stops_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut ledger = Ledger::init(&data).unwrap();
    let syncer = ledger.syncer();
    let guard = faults::install(Injector::trace());
    let first = ledger.stage(vec![event(0, "plan/1")]).unwrap();
    // Staging writes nothing at all.
    assert!(guard.trace().is_empty(), "{:#?}", guard.trace());
    assert_eq!(ledger.size(), 1);
    assert_eq!(ledger.event(0).unwrap().header, first.headers[0]);
    // A second batch staged on top; one sync logs both frames.
    let second = ledger
        .stage(vec![event(1, "plan/1"), event(2, "plan/2")])
        .unwrap();
    assert_eq!(second.headers[0].seq, 1);
    assert_eq!(second.headers[0].prev, first.head.hash);
    let before = guard.trace().len();
    syncer.sync(&[&first.frame, &second.frame]).unwrap();
    let trace = guard.trace();
    drop(guard);
    let logged: Vec<_> = trace[before..]
        .iter()
        .filter(|t| t.op != Op::Create)
        .map(|t| (t.op, t.target.as_str()))
        .collect();
    assert!(
        logged.ends_with(&[
            (Op::Write, "write-ahead log"),
            (Op::Fsync, "write-ahead log")
        ]),
        "{trace:#?}"
    );
    // A crash now (nothing flushed into the store): the log brings both back.
    let copy = tmp.path().join("copy");
    copy_folder(&data, &copy);
    std::fs::remove_file(copy.join("LOCK")).unwrap();
    std::fs::write(copy.join("LOCK"), b"").unwrap();
    drop((ledger, syncer));
    let ledger = Ledger::open(&copy).unwrap();
    assert_eq!(ledger.size(), 3);
    assert!(ledger.verify().ok);
    drop(ledger);

    // A failed sync: the ledger refuses writes through every handle until reopened,
    // and the batch is present whole or not at all after reopening.
    let mut ledger = Ledger::open(&copy).unwrap();
    let syncer = ledger.syncer();
    let staged = ledger.stage(vec![event(3, "plan/1")]).unwrap();
    let guard = faults::install(Injector::fail(Mode::From(1)).only(&[Op::Fsync]));
    let failed = syncer.sync(&[&staged.frame]).unwrap_err();
    drop(guard);
    assert!(matches!(failed, Error::Io { .. }), "{failed}");
    assert!(ledger.writes_refused());
    let refused = ledger.stage(vec![event(4, "plan/1")]).unwrap_err();
    assert!(
        refused.to_string().contains("reopen the ledger"),
        "{refused}"
    );
    assert!(syncer.sync(&[&staged.frame]).is_err());
    drop((ledger, syncer));
    let ledger = Ledger::open(&copy).unwrap();
    assert!(matches!(ledger.size(), 3 | 4), "{}", ledger.size());
    assert!(ledger.verify().ok);
}

/// A copy of a data folder as a crash would leave it.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn evidence_checkpoints_and_exports_return_only_after_their_fsyncs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut ledger = Ledger::init(&data).unwrap();
    ledger.append(vec![event(0, "plan/1")]).unwrap();

    let guard = faults::install(Injector::trace());
    let hash = ledger.blobs().put(b"minutes of the board").unwrap();
    let trace = guard.trace();
    let name = format!("evidence {}", ledger::hex::hex(&hash));
    let order = [
        pos(&trace, Op::Create, &name).unwrap(),
        pos(&trace, Op::Write, &name).unwrap(),
        pos(&trace, Op::Fsync, &name).unwrap(),
        pos(&trace, Op::Rename, &name).unwrap(),
        pos(&trace, Op::Fsync, &dir_target(&data.join("blobs"))).unwrap(),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{trace:#?}");
    assert_eq!(order[4], trace.len() - 1);

    guard.set(Injector::trace());
    let before = guard.trace().len();
    let signed = ledger.make_checkpoint(&key()).unwrap();
    let trace = guard.trace()[before..].to_vec();
    assert_eq!(
        trace.last().map(|t| (t.op, t.target.as_str())),
        Some((Op::Fsync, "store log file")),
        "{trace:#?}"
    );

    let before = guard.trace().len();
    let out = tmp.path().join("bundle");
    export(&ledger, &out, &signed).unwrap();
    let trace = guard.trace()[before..].to_vec();
    drop(guard);
    assert_writes_fsynced(&trace);
    let renamed = pos(&trace, Op::Rename, "export folder").unwrap();
    let synced = last_pos(&trace, Op::Fsync, &dir_target(tmp.path())).unwrap();
    assert!(renamed < synced && synced == trace.len() - 1, "{trace:#?}");
    // Every file of the bundle is fsynced before the folder is renamed into place.
    assert!(
        trace[..renamed]
            .iter()
            .filter(|t| t.op == Op::Fsync)
            .count()
            >= 4
    );
}

fn export(
    ledger: &Ledger,
    out: &Path,
    signed: &ledger::checkpoint::SignedCheckpoint,
) -> ledger::Result<()> {
    let size = signed.unverified_checkpoint().size;
    let mut events = Vec::new();
    ledger.scan(0..size, &mut |e| {
        events.push(BundleEvent {
            header: e.header,
            body: e.body,
            body_json: None,
            proof: None,
        });
        Ok(true)
    })?;
    let blobs = ledger
        .blobs()
        .list()?
        .iter()
        .filter_map(|n| ledger::hex::parse_hash(n))
        .map(|h| ledger.blobs().get(&h))
        .collect::<ledger::Result<Vec<_>>>()?;
    write_bundle(out, &events, false, signed, &[key().verifier()], &blobs)
}

// ---------------------------------------------------------------------------
// 2. Fail the Nth operation, N = 1, 2, …
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Work {
    Init,
    Append,
    /// An import-sized batch: 300 events over several plans and challenges.
    Batch,
    Evidence,
    Checkpoint,
    Export,
}

/// What the caller was told succeeded before and during the run.
#[derive(Default)]
struct Acked {
    headers: Vec<EventHeader>,
    blobs: Vec<ledger::Hash>,
    checkpoints: Vec<u64>,
}

const BATCH: usize = 300;

fn batch(tag: usize) -> Vec<NewEvent> {
    (0..BATCH)
        .map(|i| {
            let subject = match i % 3 {
                0 => format!("plan/{tag}/action/{}", i % 7),
                1 => format!("challenge/{}", i % 5),
                _ => format!("plan/{}", tag + 1),
            };
            event(i, &subject)
        })
        .collect()
}

/// Runs `work` once; returns how many events it tried to append.
fn run(
    work: Work,
    data: &Path,
    ledger: &mut Option<Ledger>,
    acked: &mut Acked,
    out: &Path,
    round: usize,
) -> ledger::Result<u64> {
    match work {
        Work::Init => {
            *ledger = Some(Ledger::init(data)?);
            Ok(0)
        }
        Work::Append | Work::Batch => {
            let l = ledger.as_mut().unwrap();
            let events = if work == Work::Append {
                vec![event(round, &format!("plan/{}", 10 + round))]
            } else {
                batch(20 + round)
            };
            let n = events.len() as u64;
            let headers = l.append(events)?;
            acked.headers.extend(headers);
            Ok(n)
        }
        Work::Evidence => {
            let l = ledger.as_mut().unwrap();
            let hash = l.blobs().put(format!("evidence {round}").as_bytes())?;
            acked.blobs.push(hash);
            Ok(0)
        }
        Work::Checkpoint => {
            let l = ledger.as_mut().unwrap();
            if round > 0 {
                // A later checkpoint needs a new size.
                acked
                    .headers
                    .extend(l.append(vec![event(round, "plan/cp")])?);
            }
            let signed = l.make_checkpoint(&key())?;
            acked.checkpoints.push(signed.unverified_checkpoint().size);
            Ok(0)
        }
        Work::Export => {
            let l = ledger.as_mut().unwrap();
            let signed = l.latest_checkpoint()?.unwrap();
            let _ = std::fs::remove_dir_all(out);
            export(l, out, &signed)?;
            Ok(0)
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    runs: u64,
    injected: u64,
    errors: u64,
    /// Retries refused until reopening, after a failed store commit.
    refusals: u64,
    by_work: BTreeMap<String, (u64, u64)>,
}

/// Checks that an injected fault surfaced as a clear IO error.
fn assert_clear(work: Work, n: u64, mode: &str, e: &Error, errno: i32) {
    let text = e.to_string();
    let expected = std::io::Error::from_raw_os_error(errno).to_string();
    assert!(
        matches!(e, Error::Io { .. })
            && text.contains(&expected)
            && text.len() > expected.len() + 5,
        "{work:?} N={n} {mode}: unclear error {e:?} / {text}"
    );
}

fn reopen_and_check(work: Work, data: &Path, acked: &Acked, failed_batch: u64, label: &str) {
    let ledger = match Ledger::open(data) {
        Ok(l) => l,
        Err(e) if work == Work::Init => {
            // A failed init leaves no ledger (no marker) and says so; nothing was acked.
            assert!(matches!(e, Error::NotALedger { .. }), "{label}: {e}");
            return;
        }
        Err(e) => panic!("{label}: reopen failed: {e}"),
    };
    let report = ledger.verify();
    assert!(report.ok, "{label}: {report:?}");
    for h in &acked.headers {
        assert_eq!(
            ledger.header(h.seq).unwrap().event_hash(),
            h.event_hash(),
            "{label}"
        );
    }
    // A failed batch is there entirely (never acknowledged) or not at all.
    let unacked = ledger.size() - acked.headers.len() as u64;
    assert!(
        unacked == 0 || unacked == failed_batch,
        "{label}: {unacked} unacknowledged events, failed batch of {failed_batch}"
    );
    for b in &acked.blobs {
        ledger.blobs().get(b).unwrap();
    }
    let held: Vec<u64> = ledger
        .checkpoints()
        .unwrap()
        .iter()
        .map(|c| c.unverified_checkpoint().size)
        .collect();
    for size in &acked.checkpoints {
        assert!(held.contains(size), "{label}: checkpoint {size} lost");
    }
}

/// Runs `work` with the Nth file operation failing, for N = 1, 2, … until it
/// completes without reaching N, and checks every outcome.
fn sweep(work: Work, persistent: bool, errno: i32, tally: &mut Tally) {
    let mode_name = if persistent {
        "persistent"
    } else {
        "transient"
    };
    for n in 1..=500u64 {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let out = tmp.path().join("bundle");
        let mut acked = Acked::default();
        let mut ledger = None;
        if work != Work::Init {
            let mut l = Ledger::init(&data).unwrap();
            acked.headers = l
                .append(vec![event(0, "plan/1"), event(1, "plan/1/action/1")])
                .unwrap();
            acked
                .headers
                .extend(l.append(vec![event(2, "challenge/1")]).unwrap());
            if matches!(work, Work::Export | Work::Checkpoint) {
                acked.blobs.push(l.blobs().put(b"board minutes").unwrap());
                let signed = l.make_checkpoint(&key()).unwrap();
                acked.checkpoints.push(signed.unverified_checkpoint().size);
            }
            ledger = Some(l);
        }
        let mode = if persistent {
            Mode::From(n)
        } else {
            Mode::Once(n)
        };
        let guard = faults::install(Injector::fail(mode).errno(errno));
        let result = run(work, &data, &mut ledger, &mut acked, &out, 0);
        let injected = guard.injected() as u64;
        drop(guard);
        tally.runs += 1;
        tally.injected += injected;
        let entry = tally
            .by_work
            .entry(format!("{work:?}/{mode_name}"))
            .or_default();
        entry.0 += 1;
        entry.1 += injected;
        let label = format!("{work:?} N={n} {mode_name}");
        let mut failed_batch = 0;
        match &result {
            Ok(_) => assert_eq!(injected, 0, "{label}: an injected fault was swallowed"),
            Err(e) => {
                assert!(injected > 0, "{label}: failed without a fault: {e}");
                tally.errors += 1;
                assert_clear(work, n, mode_name, e, errno);
                failed_batch = match work {
                    Work::Append => 1,
                    Work::Batch => BATCH as u64,
                    _ => 0,
                };
                if work == Work::Export {
                    // Nothing half-written under the bundle's name or beside it: either
                    // no bundle, or (when only the final folder fsync failed) a whole one.
                    if out.exists() {
                        let report = verify_bundle(&out, &[key().verifier()]);
                        assert!(report.ok, "{label}: {report:?}");
                    }
                    let left = std::fs::read_dir(tmp.path())
                        .unwrap()
                        .flatten()
                        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
                        .count();
                    assert_eq!(left, 0, "{label}: temporary export folder left behind");
                }
            }
        }
        if result.is_err() && !persistent && work != Work::Init {
            // The fault was transient. The same handle either carries on, or, after a
            // failed store commit, refuses clearly until the ledger is reopened.
            if let Err(e) = run(work, &data, &mut ledger, &mut acked, &out, 1) {
                assert!(
                    matches!(e, Error::Storage { .. })
                        && e.to_string().contains("reopen the ledger"),
                    "{label}: retry: {e}"
                );
                tally.refusals += 1;
                drop(ledger.take());
                let reopened =
                    Ledger::open(&data).unwrap_or_else(|e| panic!("{label}: reopen: {e}"));
                ledger = Some(reopened);
                run(work, &data, &mut ledger, &mut acked, &out, 2)
                    .unwrap_or_else(|e| panic!("{label}: retry after reopen: {e}"));
            }
            if work == Work::Export {
                let report = verify_bundle(&out, &[key().verifier()]);
                assert!(report.ok, "{label}: {report:?}");
            }
        }
        if let (Ok(_), Work::Export) = (&result, work) {
            let report = verify_bundle(&out, &[key().verifier()]);
            assert!(report.ok, "{label}: {report:?}");
        }
        drop(ledger);
        reopen_and_check(work, &data, &acked, failed_batch, &label);
        if result.is_ok() {
            return;
        }
    }
    panic!("{work:?}: still failing after 500 operations");
}

#[test]
fn failing_the_nth_file_operation_never_loses_an_acknowledged_write() {
    let started = Instant::now();
    let mut tally = Tally::default();
    for work in [
        Work::Init,
        Work::Append,
        Work::Batch,
        Work::Evidence,
        Work::Checkpoint,
        Work::Export,
    ] {
        for persistent in [false, true] {
            sweep(work, persistent, faults::EIO, &mut tally);
        }
    }
    println!(
        "fault sweep (EIO): {} runs, {} faults injected, {} clear errors, {} retries refused until reopen, 0 panics, 0 acknowledged writes lost, {:.1} s; per operation (runs, faults): {:?}",
        tally.runs,
        tally.injected,
        tally.errors,
        tally.refusals,
        started.elapsed().as_secs_f64(),
        tally.by_work
    );
    assert!(tally.injected > 50);
}

// ---------------------------------------------------------------------------
// 3. Disk full
// ---------------------------------------------------------------------------

#[test]
fn injected_disk_full_is_refused_clearly_and_writes_resume_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut ledger = Ledger::init(&data).unwrap();
    let first = ledger.append(vec![event(0, "plan/1")]).unwrap();
    // INJECTED ENOSPC: every write and file creation fails as on a full disk.
    let guard = faults::install(
        Injector::fail(Mode::From(1))
            .only(&[Op::Write, Op::Create])
            .errno(faults::ENOSPC),
    );
    let e = ledger.append(vec![event(1, "plan/2")]).unwrap_err();
    assert!(
        matches!(e, Error::Io { .. }) && e.to_string().contains("No space left on device"),
        "{e}"
    );
    for attempt in 0..3 {
        let e = ledger
            .blobs()
            .put(format!("scan {attempt}").as_bytes())
            .unwrap_err();
        assert!(e.to_string().contains("No space left on device"), "{e}");
        // After a failed store commit this handle refuses writes, naming the cause.
        let e = ledger.append(vec![event(attempt, "plan/2")]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("No space left on device") && text.contains("reopen"),
            "{e}"
        );
        let e = ledger.make_checkpoint(&key()).unwrap_err();
        assert!(e.to_string().contains("No space left on device"), "{e}");
    }
    assert!(guard.injected() >= 4);
    // The chain is intact while the disk is full …
    assert_eq!(ledger.size(), 1);
    assert!(ledger.verify().ok);
    // … evidence can be stored again as soon as space returns, and events once the
    // ledger is reopened (as a restarted command or server does).
    guard.set(Injector::trace());
    ledger.blobs().put(b"scan").unwrap();
    drop(ledger);
    let mut ledger = Ledger::open(&data).unwrap();
    let second = ledger.append(vec![event(5, "plan/2")]).unwrap();
    ledger.make_checkpoint(&key()).unwrap();
    drop(guard);
    drop(ledger);
    let ledger = Ledger::open(&data).unwrap();
    assert!(ledger.verify().ok);
    assert_eq!(ledger.size(), 2);
    assert_eq!(ledger.header(0).unwrap(), first[0]);
    assert_eq!(ledger.header(1).unwrap(), second[0]);
    let mut tally = Tally::default();
    for work in [
        Work::Append,
        Work::Batch,
        Work::Evidence,
        Work::Checkpoint,
        Work::Export,
    ] {
        sweep(work, true, faults::ENOSPC, &mut tally);
    }
    println!(
        "disk full (injected ENOSPC): {} runs, {} faults injected, all refused clearly",
        tally.runs, tally.injected
    );
}

/// A real full disk: a 16 MiB tmpfs, when the test may mount one (root in a sandbox).
/// Skipped (with a message) where mounting is not allowed. The free-space guard
/// refuses the append that would bring the disk within its reserve, before anything
/// is written, so sled never meets ENOSPC (after which sled 0.34 could hang forever
/// closing the store): the ledger closes, and once space returns it opens with every
/// acknowledged event and takes appends again.
#[test]
fn a_real_full_tmpfs_is_refused_clearly_and_recovers_after_growing() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_mounted) = Mount::tmpfs(&mnt, "16m") else {
        println!(
            "real disk-full test skipped: cannot mount a tmpfs here (the injected test covers ENOSPC)"
        );
        return;
    };
    // A small disk: a reserve to match (this process's other tests are unaffected
    // by a smaller one).
    ledger::space::set_reserve(2 * 1024 * 1024);
    let data = mnt.join("data");
    let mut ledger = Ledger::init(&data).unwrap();
    let mut acked: Vec<EventHeader> = Vec::new();
    let mut refused = None;
    for i in 0..10_000 {
        let mut e = event(i, &format!("plan/{}", i % 9));
        e.payload = vec![b'x'; 60 * 1024];
        match ledger.append(vec![e]) {
            Ok(h) => acked.extend(h),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("a 16 MiB disk never filled");
    println!("real tmpfs full after {} events: {refused}", acked.len());
    assert!(
        matches!(refused, Error::DiskFull { .. }),
        "refused by the disk, not by the guard: {refused:?}"
    );
    assert!(refused.to_string().contains("nearly full"), "{refused}");
    assert!(
        refused.to_string().contains("nothing was recorded"),
        "{refused}"
    );
    assert!(
        acked.len() > 10,
        "the guard refused too early: {}",
        acked.len()
    );
    // Nothing of the refused write is there, and reads go on.
    assert_eq!(ledger.size(), acked.len() as u64);
    assert!(ledger.verify().ok);
    // Whatever is appended next is refused by the guard too, never by the disk
    // (the guard counts what the write-ahead log still holds, which the background
    // flush may empty meanwhile, so a few more may be taken first).
    for i in 0..1_000 {
        let mut more = event(i, "plan/again");
        more.payload = vec![b'x'; 60 * 1024];
        match ledger.append(vec![more]) {
            Ok(h) => acked.extend(h),
            Err(e) => {
                assert!(matches!(e, Error::DiskFull { .. }), "{e:?}");
                break;
            }
        }
    }
    // Closing must not hang (sled never met ENOSPC).
    let (closed, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(ledger);
        let _ = closed.send(());
    });
    wait.recv_timeout(std::time::Duration::from_secs(60))
        .expect("closing the ledger hung on the nearly full disk");
    // Space returns.
    Mount::remount(&mnt, "64m");
    let mut ledger = Ledger::open(&data).unwrap();
    let report = ledger.verify();
    assert!(report.ok, "{report:?}");
    assert_eq!(ledger.size(), acked.len() as u64);
    for h in &acked {
        assert_eq!(ledger.header(h.seq).unwrap().event_hash(), h.event_hash());
    }
    ledger.append(vec![event(1, "plan/after")]).unwrap();
    assert!(ledger.verify().ok);
}

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        if std::env::var_os("ASSURE_NO_MOUNT").is_some() {
            return None;
        }
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }

    fn remount(at: &Path, size: &str) {
        let ok = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(at)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A folder as a crash leaves it: three batches in the write-ahead log, none in the
/// store yet. Returns the folder and the size after each batch.
fn crashed_with_logged_batches(tmp: &Path) -> (PathBuf, Vec<u64>) {
    let data = tmp.join("data");
    let mut ledger = Ledger::init(&data).unwrap();
    let syncer = ledger.syncer();
    let mut sizes = Vec::new();
    for i in 0..3 {
        let staged = ledger
            .stage(vec![event(i, "plan/1"), event(i + 10, "plan/2")])
            .unwrap();
        syncer.sync(&[&staged.frame]).unwrap();
        sizes.push(staged.head.size);
    }
    let crashed = tmp.join("crashed");
    copy_folder(&data, &crashed);
    drop((ledger, syncer));
    (crashed, sizes)
}

#[test]
fn a_torn_write_ahead_log_loses_only_its_torn_frame_and_a_damaged_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (crashed, sizes) = crashed_with_logged_batches(tmp.path());
    let wal = std::fs::read(crashed.join("wal")).unwrap();
    assert!(!wal.is_empty());
    // Replayed whole.
    let copy = tmp.path().join("whole");
    copy_folder(&crashed, &copy);
    let ledger = Ledger::open(&copy).unwrap();
    assert_eq!(ledger.size(), sizes[2]);
    assert!(ledger.verify().ok);
    drop(ledger);
    // Torn anywhere: every whole frame before the tear comes back, nothing else.
    for cut in (0..wal.len()).step_by(7) {
        let copy = tmp.path().join(format!("torn-{cut}"));
        copy_folder(&crashed, &copy);
        std::fs::write(copy.join("wal"), &wal[..cut]).unwrap();
        let ledger = Ledger::open(&copy).unwrap();
        assert!(
            [0, sizes[0], sizes[1]].contains(&ledger.size()),
            "cut at {cut}: {}",
            ledger.size()
        );
        assert!(ledger.verify().ok, "cut at {cut}");
        drop(ledger);
        std::fs::remove_dir_all(&copy).unwrap();
    }
    // A flipped byte in the first frame, with whole frames after it: damage, named.
    let copy = tmp.path().join("damaged");
    copy_folder(&crashed, &copy);
    let mut damaged = wal.clone();
    damaged[40] ^= 0x01;
    std::fs::write(copy.join("wal"), &damaged).unwrap();
    let e = Ledger::open(&copy).unwrap_err();
    assert!(
        matches!(e, Error::Corruption { .. }) && e.to_string().contains("write-ahead log"),
        "{e}"
    );
    // The first frame gone (whole frames, but a gap before them): refused, saying
    // where the events stop and what to do.
    let copy = tmp.path().join("gap");
    copy_folder(&crashed, &copy);
    std::fs::write(copy.join("wal"), &wal[first_frame_end(&wal)..]).unwrap();
    let e = Ledger::open(&copy).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, Error::Corruption { .. })
            && text.contains("events are missing")
            && text.contains("restore it from a backup"),
        "{e}"
    );
}

/// Where the first frame of a write-ahead log ends (each frame: `u32` LE body length,
/// 32-byte checksum, body).
fn first_frame_end(wal: &[u8]) -> usize {
    4 + 32 + u32::from_le_bytes(wal[..4].try_into().unwrap()) as usize
}
