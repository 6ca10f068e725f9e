//! Crash loops: the real `assure` binary is killed with SIGKILL at random moments
//! while it appends, then restarted on the same data folder. Every event it
//! acknowledged (the seq it printed, or the 201 it answered, after the fsync) must
//! still be there with its text; seqs must have no gaps; `verify` must pass; what
//! was written but not acknowledged must be absent or whole (verify decodes and
//! checks every event), and nothing that was once in the log may later vanish.
//!
//! The moments are drawn from a small seeded PRNG. The seed is printed (run with
//! `--nocapture`); set `ASSURE_CRASH_SEED` to replay it. `ASSURE_CRASH_CYCLES`
//! (default 200) and `ASSURE_SERVE_CRASH_CYCLES` (default 20) set the lengths.
//! See docs/RELIABILITY.md.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::http::post;
use crate::support::rng::{self, env_count, Rng};
use crate::support::{assure, fixture};

fn seed(name: &str) -> u64 {
    rng::seed("ASSURE_CRASH_SEED", name)
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "the binary panicked: {stderr}"
    );
}

fn command(data: &Path) -> Command {
    assure(data, "crash-loop")
}

fn run(data: &Path, args: &[&str]) -> Run {
    let output = command(data).args(args).output().unwrap();
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    no_panic(&run.stderr);
    run
}

fn ok(data: &Path, args: &[&str]) -> String {
    let run = run(data, args);
    assert_eq!(
        run.code,
        Some(0),
        "assure {args:?} failed\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    run.stdout
}

/// A ledger with the Manchester plan imported (events 0–19).
fn new_ledger() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let csv = fixture("manchester-jtai-2023.csv");
    ok(&data, &["import", csv.to_str().unwrap(), "--plan", "mcr"]);
    (dir, data)
}

/// The seq in "… (event N…": what the CLI prints only after the event is durable.
fn acknowledged_seq(stdout: &str) -> Option<u64> {
    let rest = &stdout[stdout.find("(event ")? + "(event ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The text an event carries: a progress note or a status rationale.
fn event_text(event: &Value) -> Option<&str> {
    event["body"]["note"]
        .as_str()
        .or_else(|| event["body"]["rationale"].as_str())
}

/// Keeps a copy of a data folder that failed a check (the temporary one is deleted
/// when the test unwinds), and says where.
fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            let _ = std::fs::copy(entry.path(), &target);
        }
    }
}

fn keep(data: &Path, name: &str) {
    let to = std::env::temp_dir().join(format!("assure-crash-{name}"));
    copy(data, &to);
    println!("the failing data folder is kept in {}", to.display());
}

/// What the checker remembers between restarts.
#[derive(Default)]
struct Book {
    /// seq → text, for every acknowledged append.
    acknowledged: BTreeMap<u64, String>,
    /// Every text ever sent (acknowledged or not).
    attempted: BTreeSet<String>,
    /// The hashes of the log as last seen: it may only grow.
    seen: Vec<String>,
    /// Events present that were never acknowledged (the append was killed after
    /// the write and before the reply).
    durable_unacknowledged: BTreeSet<String>,
    /// Restarts that found the ledger unopenable (the known sled snapshot bug).
    unopenable: usize,
}

/// sled's unfinished snapshot files (`store/snap.*.generating`) with their sizes.
fn unfinished_snapshots(data: &Path) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = std::fs::read_dir(data.join("store"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            (name.starts_with("snap.") && name.ends_with(".generating"))
                .then(|| (name, e.metadata().map(|m| m.len()).unwrap_or(0)))
        })
        .collect();
    found.sort();
    found
}

impl Book {
    /// Restart checks: verify, then the history against everything acknowledged.
    fn check(&mut self, data: &Path, when: &str) {
        let mut verify = run(data, &["verify", "--json"]);
        // KNOWN BUG (see `a_kill_during_a_sled_snapshot_does_not_stop_the_ledger_opening`):
        // a kill while sled writes a snapshot leaves `store/snap.*.generating`, and the
        // store then refuses to open. Count it, do by hand what sled should (drop the
        // unfinished snapshot: it is rebuilt from the log) and go on checking that
        // nothing acknowledged was lost. ASSURE_CRASH_STRICT=1 fails instead.
        if verify.code != Some(0)
            && verify.stderr.contains("sled found corruption")
            && std::env::var_os("ASSURE_CRASH_STRICT").is_none()
        {
            let unfinished = unfinished_snapshots(data);
            if !unfinished.is_empty() {
                println!(
                    "{when}: KNOWN BUG — the ledger does not open after the kill; unfinished \
                     sled snapshots {unfinished:?} (removed by the test)"
                );
                self.unopenable += 1;
                for (path, _) in &unfinished {
                    std::fs::remove_file(data.join("store").join(path)).unwrap();
                }
                verify = run(data, &["verify", "--json"]);
            }
        }
        assert_eq!(
            verify.code,
            Some(0),
            "{when}: verify failed after a crash\nstdout: {}\nstderr: {}",
            verify.stdout,
            verify.stderr
        );
        let history: Value = serde_json::from_str(&ok(data, &["history", "--json"])).unwrap();
        let events = history.as_array().unwrap();
        for (i, event) in events.iter().enumerate() {
            assert_eq!(
                event["seq"].as_u64(),
                Some(i as u64),
                "{when}: seq gap or disorder at position {i}: {event}"
            );
        }
        // Nothing once in the log vanishes or changes.
        assert!(
            events.len() >= self.seen.len(),
            "{when}: the log shrank from {} to {} events",
            self.seen.len(),
            events.len()
        );
        for (i, hash) in self.seen.iter().enumerate() {
            assert_eq!(
                events[i]["hash"].as_str(),
                Some(hash.as_str()),
                "{when}: event {i} changed after a restart"
            );
        }
        // Every acknowledged event is there, with its text.
        for (seq, text) in &self.acknowledged {
            let event = events.get(*seq as usize).unwrap_or_else(|| {
                panic!(
                    "{when}: LOST acknowledged event {seq} ({text:?}); the log has {} events",
                    events.len()
                )
            });
            assert_eq!(
                event_text(event),
                Some(text.as_str()),
                "{when}: acknowledged event {seq} does not carry its text: {event}"
            );
        }
        // Every event after the import is one we sent, once.
        let mut texts = BTreeSet::new();
        for event in &events[20..] {
            let text = event_text(event)
                .unwrap_or_else(|| panic!("{when}: an event we never sent: {event}"));
            assert!(
                self.attempted.contains(text),
                "{when}: an event we never sent: {event}"
            );
            assert!(
                texts.insert(text.to_owned()),
                "{when}: one append recorded twice: {text:?}"
            );
            if !self.acknowledged.values().any(|t| t == text) {
                self.durable_unacknowledged.insert(text.to_owned());
            }
        }
        self.seen = events
            .iter()
            .map(|e| e["hash"].as_str().unwrap().to_owned())
            .collect();
    }

    fn lost(&self) -> usize {
        let present: BTreeSet<u64> = (0..self.seen.len() as u64).collect();
        self.acknowledged
            .keys()
            .filter(|seq| !present.contains(seq))
            .count()
    }
}

/// The CLI appends one event per process: each cycle runs a few appends to the end
/// and one that is SIGKILLed after a random delay, then restarts and checks.
#[test]
fn killed_cli_appends_lose_nothing_acknowledged() {
    let seed = seed("crash loop");
    let mut rng = Rng(seed);
    let cycles = env_count("ASSURE_CRASH_CYCLES", 200);
    let (dir, data) = new_ledger();
    let pristine = dir.path().join("as-left-by-the-crash");
    let mut book = Book::default();
    book.check(&data, "after import");
    let started = Instant::now();
    let (mut killed, mut finished, mut attempt) = (0usize, 0usize, 0usize);
    let refs = ["1.1", "1.2", "2.1", "6.3"];
    for cycle in 0..cycles {
        let mut story = String::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let whole_runs = rng.below(2);
            for i in 0..=whole_runs {
                let victim = i == whole_runs;
                attempt += 1;
                let text = format!("crash {seed:x} cycle {cycle} attempt {attempt}");
                book.attempted.insert(text.clone());
                let reference = refs[rng.below(refs.len() as u64) as usize];
                let mut command = command(&data);
                if rng.below(4) == 0 {
                    command.args(["status", "mcr", reference, "amber", "--note", &text]);
                } else {
                    command.args(["progress", "mcr", reference, "--note", &text]);
                }
                let mut child = command
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                if victim {
                    // A process lives ~20–30 ms here: spread the kill over all of it.
                    let delay = rng.below(30_000);
                    std::thread::sleep(Duration::from_micros(delay));
                    let _ = child.kill();
                    story.push_str(&format!("killed {text:?} after {delay} µs; "));
                }
                let output = child.wait_with_output().unwrap();
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                story.push_str(&format!(
                    "{text:?}: {} {:?} {:?}; ",
                    output.status,
                    stdout.trim(),
                    stderr.trim()
                ));
                no_panic(&stderr);
                match output.status.code() {
                Some(0) => {
                    let seq = acknowledged_seq(&stdout).unwrap_or_else(|| {
                        panic!("exit 0 without an acknowledgement: {stdout}")
                    });
                    let previous = book.acknowledged.insert(seq, text.clone());
                    assert!(
                        previous.is_none(),
                        "seq {seq} acknowledged twice: {previous:?} and {text:?}"
                    );
                    finished += 1;
                }
                Some(code) => panic!(
                    "cycle {cycle}: append exited {code} without being killed\nstdout: {stdout}\nstderr: {stderr}"
                ),
                None => {
                    // Killed. It may have printed the acknowledgement just before.
                    if let Some(seq) = acknowledged_seq(&stdout) {
                        book.acknowledged.insert(seq, text.clone());
                    }
                    killed += 1;
                }
            }
            }
            // The state the crash left, before any command opens it again.
            let _ = std::fs::remove_dir_all(&pristine);
            copy(&data, &pristine);
            book.check(&data, &format!("cycle {cycle} (seed {seed:#x})"));
        }));
        if let Err(panic) = result {
            keep(&data, &format!("cli-{seed:x}-cycle-{cycle}"));
            keep(
                &pristine,
                &format!("cli-{seed:x}-cycle-{cycle}-as-left-by-the-crash"),
            );
            println!("cycle {cycle}: {story}");
            std::panic::resume_unwind(panic);
        }
    }
    assert_eq!(book.lost(), 0);
    println!(
        "crash loop: {cycles} cycles, {} acknowledged events, {} lost; {killed} appends killed, \
         {finished} ran to the end, {} durable but unacknowledged (whole), {} restarts \
         unopenable (known sled snapshot bug); {:.1} s",
        book.acknowledged.len(),
        book.lost(),
        book.durable_unacknowledged.len(),
        book.unopenable,
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------- the service

fn free_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], crate::support::free_port()))
}

fn start_server(data: &Path, addr: SocketAddr, log: &Path) -> Child {
    let stderr = std::fs::File::create(log).unwrap();
    let mut child = command(data)
        .args(["serve", "--addr", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(addr).is_ok() {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve exited {status} on restart: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "serve did not start in 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The service batches concurrent appends (group commit): SIGKILL it while four
/// clients append, restart it on the same folder, check every 201.
#[test]
fn killed_service_loses_no_acknowledged_append() {
    let seed = seed("service crash loop");
    let mut rng = Rng(seed ^ 0x5e5e);
    let cycles = env_count("ASSURE_SERVE_CRASH_CYCLES", 20);
    let (dir, data) = new_ledger();
    let mut user = command(&data)
        .args(["user", "add", "crash", "--role", "manager"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    user.stdin
        .take()
        .unwrap()
        .write_all(b"long enough password\n")
        .unwrap();
    assert!(user.wait().unwrap().success(), "user add failed");
    let token = ok(&data, &["token", "new", "crash"])
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let log = dir.path().join("serve.log");
    let mut book = Book::default();
    book.check(&data, "after import");
    let started = Instant::now();
    let clients = 4;
    let mut refused = 0usize;
    for cycle in 0..cycles {
        let addr = free_port();
        let mut server = start_server(&data, addr, &log);
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::<(u64, String)>::new()));
        let sent = Arc::new(Mutex::new(Vec::<String>::new()));
        let odd = Arc::new(Mutex::new(Vec::<String>::new()));
        let threads: Vec<_> = (0..clients)
            .map(|client| {
                let (stop, acks, sent, odd, token) = (
                    stop.clone(),
                    acks.clone(),
                    sent.clone(),
                    odd.clone(),
                    token.clone(),
                );
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let text = format!("serve {seed:x} cycle {cycle} client {client} n {n}");
                        sent.lock().unwrap().push(text.clone());
                        let body = serde_json::json!({ "note": text }).to_string();
                        let path = "/api/v1/plans/mcr/actions/1.1/progress";
                        match post(addr, path, &token, &body) {
                            None => {
                                // Refused or cut off: the server is gone, or going.
                                if stop.load(Ordering::SeqCst) {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            Some((201, reply)) => {
                                let reply: Value = serde_json::from_str(&reply).unwrap();
                                let seq = reply["events"][0]["seq"].as_u64().unwrap();
                                acks.lock().unwrap().push((seq, text));
                            }
                            Some((status, reply)) => {
                                odd.lock().unwrap().push(format!("{status}: {reply}"));
                            }
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(10 + rng.below(250)));
        let _ = server.kill();
        let status = server.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for thread in threads {
            thread.join().unwrap();
        }
        let stderr = std::fs::read_to_string(&log).unwrap_or_default();
        no_panic(&stderr);
        assert!(status.code().is_none(), "serve exited by itself: {status}");
        let odd = odd.lock().unwrap();
        // A 5xx while the process is dying would be an honest refusal; anything
        // else from a live server is a failure of the test's requests.
        for reply in odd.iter() {
            assert!(
                reply.starts_with('5'),
                "cycle {cycle}: unexpected reply {reply}"
            );
        }
        refused += odd.len();
        book.attempted.extend(sent.lock().unwrap().iter().cloned());
        for (seq, text) in acks.lock().unwrap().iter() {
            let previous = book.acknowledged.insert(*seq, text.clone());
            assert!(previous.is_none(), "seq {seq} acknowledged twice");
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            book.check(&data, &format!("service cycle {cycle} (seed {seed:#x})"));
        }));
        if let Err(panic) = result {
            keep(&data, &format!("serve-{seed:x}-cycle-{cycle}"));
            std::panic::resume_unwind(panic);
        }
    }
    assert_eq!(book.lost(), 0);
    println!(
        "service crash loop: {cycles} cycles, {} acknowledged events, {} lost; {} durable but \
         unacknowledged (whole), {refused} refused with 5xx, {} restarts unopenable (known \
         sled snapshot bug); {:.1} s",
        book.acknowledged.len(),
        book.lost(),
        book.durable_unacknowledged.len(),
        book.unopenable,
        started.elapsed().as_secs_f64()
    );
}

/// Found by the crash loop (e.g. seed 0x18edc80edfa33837, cycle 169; and seed
/// 0x18edc7c323a57916, cycle 669): a SIGKILL while sled 0.34.7 writes a snapshot leaves
/// `store/snap.<lsn>.generating` (0 bytes, or part-written: 1 200 bytes once). sled's `read_snapshot` takes the
/// greatest `snap.*` name, `.generating` included, finds it empty (≤ 12 bytes) and
/// returns `Corruption`; every command then says "ledger damaged: the store's files are
/// damaged (sled found corruption while opening the store)" and exits 1. Nothing is
/// lost: removing the unfinished file lets the ledger open with every acknowledged
/// event (cf. spacejam/sled#1527). This reproduces the state without the race.
#[test]
fn a_kill_during_a_sled_snapshot_does_not_stop_the_ledger_opening() {
    let (_dir, data) = new_ledger();
    let snaps: Vec<u64> = std::fs::read_dir(data.join("store"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .collect();
    let next = snaps.iter().max().copied().unwrap_or(0) + 1;
    std::fs::write(
        data.join("store")
            .join(format!("snap.{next:016X}.generating")),
        b"",
    )
    .unwrap();
    let verify = run(&data, &["verify"]);
    assert_eq!(
        verify.code,
        Some(0),
        "an unfinished sled snapshot stops the ledger opening: {}",
        verify.stderr
    );
}
