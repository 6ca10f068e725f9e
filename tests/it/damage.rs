//! Damaged stores: a small real ledger is built once per test, its views and the
//! bytes of every file recorded; then copies of it are damaged (a zero-byte file, a
//! truncated file, flipped bytes, a missing file, a folder that is not a ledger at
//! all) and every read command plus `verify` is run on each copy.
//!
//! Each command must end either with a clear error (non-zero exit, a message, no
//! panic) or with exactly the original output. A view that differs while `verify`
//! says OK is a silent difference: a failure. A view that differs while `verify`
//! fails is counted apart ("caught only by verify"). Read commands must not write
//! or delete anything in the copy (outside `store/`, where sled owns the files:
//! changes there are counted and reported).
//!
//! `ASSURE_DAMAGE_TRIALS` (default 240) sets the number of flipped-byte trials,
//! `ASSURE_DAMAGE_SEED` replays a seed (printed with `--nocapture`). See
//! docs/RELIABILITY.md.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::assure;
use crate::support::rng::{self, env_count, Rng};

fn seed(name: &str) -> u64 {
    rng::seed("ASSURE_DAMAGE_SEED", name)
}

/// The read commands and verify, each compared with the undamaged output.
const COMMANDS: &[&[&str]] = &[
    &["history", "--json"],
    &["plans", "--json"],
    &["plan", "mcr", "--json"],
    &["challenges", "--json"],
    &["verify", "--json"],
];
const VERIFY: usize = 4;

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

/// Runs `assure --data DATA ARGS` with its output in files under `scratch` (never
/// in the data folder), killing it after 30 s.
fn run(data: &Path, scratch: &Path, args: &[&str]) -> Out {
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let mut child = assure(data, "damage")
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Out {
        code: status.code(),
        stdout: String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned(),
        timed_out,
    }
}

/// Everything under a path: relative name → contents (`None` for a folder).
type Snapshot = BTreeMap<String, Option<Vec<u8>>>;

fn snapshot(root: &Path) -> Snapshot {
    fn walk(path: &Path, name: String, into: &mut Snapshot) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if meta.is_dir() {
            into.insert(format!("{name}/"), None);
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            entries.sort();
            for entry in entries {
                let child = format!("{name}/{}", entry.to_string_lossy());
                walk(&path.join(&entry), child, into);
            }
        } else {
            into.insert(name, Some(std::fs::read(path).unwrap_or_default()));
        }
    }
    let mut into = Snapshot::new();
    walk(root, String::new(), &mut into);
    into
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The undamaged ledger: its folder, its files and the output of every command.
struct Original {
    _dir: tempfile::TempDir,
    data: PathBuf,
    views: Vec<String>,
    /// Relative paths of the files in the data folder (no folders), e.g. `/store/db`.
    files: Vec<String>,
    snapshot: Snapshot,
}

impl Original {
    fn build() -> Original {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let scratch = dir.path();
        let must = |args: &[&str]| {
            let out = run(&data, scratch, args);
            assert_eq!(
                out.code,
                Some(0),
                "building the ledger: {args:?}: {}",
                out.stderr
            );
        };
        let csv = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/manchester-jtai-2023.csv");
        assert!(csv.is_file(), "missing fixture {}", csv.display());
        let evidence = dir.path().join("minutes.txt");
        std::fs::write(&evidence, "Minutes of the partnership board, item 4.\n").unwrap();
        must(&["init"]);
        must(&["import", csv.to_str().unwrap(), "--plan", "mcr"]);
        must(&["progress", "mcr", "1.1", "--note", "Framework drafted"]);
        must(&[
            "progress",
            "mcr",
            "1.2",
            "--note",
            "Board minutes attached",
            "--evidence",
            evidence.to_str().unwrap(),
        ]);
        must(&["status", "mcr", "1.1", "amber", "--note", "Scorecard late"]);
        must(&[
            "challenge",
            "raise",
            "--to",
            "GMP",
            "--text",
            "Where is the custody data?",
        ]);
        must(&["progress", "mcr", "6.3", "--note", "Audit booked"]);
        let views: Vec<String> = COMMANDS
            .iter()
            .map(|args| {
                let out = run(&data, scratch, args);
                assert_eq!(
                    out.code,
                    Some(0),
                    "{args:?} on the original: {}",
                    out.stderr
                );
                out.stdout
            })
            .collect();
        let snapshot = snapshot(&data);
        let files = snapshot
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        Original {
            _dir: dir,
            data,
            views,
            files,
            snapshot,
        }
    }

    fn bytes(&self, file: &str) -> &[u8] {
        self.snapshot[file].as_deref().unwrap()
    }
}

/// How one trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Every command gave exactly the original output.
    Intact,
    /// Every command refused with a clear error.
    Refused,
    /// Some refused; the others gave exactly the original output.
    PartlyRefused,
    /// A view differed, but verify failed on the same copy.
    CaughtOnlyByVerify,
    /// Anything that breaks the rules (panic, silent difference, a write...).
    Failed,
}

#[derive(Default)]
struct Tally {
    outcomes: BTreeMap<Outcome, usize>,
    failures: Vec<String>,
    caught_only_by_verify: Vec<String>,
    store_rewritten: Vec<String>,
}

impl Tally {
    fn summary(&self, name: &str) -> String {
        let total: usize = self.outcomes.values().sum();
        let count = |o| self.outcomes.get(&o).copied().unwrap_or(0);
        format!(
            "damage {name}: {total} trials — {} intact, {} refused, {} partly refused (rest intact), \
             {} view differed but verify failed, {} failed; sled rewrote store/ in {}",
            count(Outcome::Intact),
            count(Outcome::Refused),
            count(Outcome::PartlyRefused),
            count(Outcome::CaughtOnlyByVerify),
            count(Outcome::Failed),
            self.store_rewritten.len(),
        )
    }

    fn finish(self, name: &str) {
        println!("{}", self.summary(name));
        for note in &self.caught_only_by_verify {
            println!("  caught only by verify: {note}");
        }
        for note in &self.store_rewritten {
            println!("  store rewritten: {note}");
        }
        assert!(
            self.failures.is_empty(),
            "{} of the trials broke the rules:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn clear_error(out: &Out) -> bool {
    matches!(out.code, Some(c) if c != 0)
        && !out.timed_out
        && (!out.stderr.trim().is_empty() || !out.stdout.trim().is_empty())
}

/// Runs every command on `data` (already damaged) and judges the results against
/// the original. `label` names the damage for the report.
fn judge(original: &Original, data: &Path, scratch: &Path, label: &str, tally: &mut Tally) {
    let before = snapshot(data);
    let outs: Vec<Out> = COMMANDS.iter().map(|a| run(data, scratch, a)).collect();
    let after = snapshot(data);
    let verify_ok = outs[VERIFY].code == Some(0);
    let mut problems = Vec::new();
    let (mut same, mut refused, mut differed) = (0, 0, Vec::new());
    for (args, (out, view)) in COMMANDS.iter().zip(outs.iter().zip(&original.views)) {
        let cmd = args.join(" ");
        if out.stderr.contains("panicked") || out.stderr.contains("RUST_BACKTRACE") {
            problems.push(format!("`{cmd}` PANICKED: {}", out.stderr.trim()));
        } else if out.timed_out {
            problems.push(format!("`{cmd}` hung (killed after 30 s)"));
        } else if out.code.is_none() {
            problems.push(format!("`{cmd}` died of a signal: {}", out.stderr.trim()));
        } else if out.code == Some(0) {
            if out.stdout == *view {
                same += 1;
            } else {
                differed.push(cmd);
            }
        } else if clear_error(out) {
            refused += 1;
        } else {
            problems.push(format!("`{cmd}` exited {:?} with no message", out.code));
        }
    }
    if !differed.is_empty() {
        if verify_ok {
            problems.push(format!(
                "SILENT DIFFERENCE: {} gave a different view while verify said OK",
                differed.join(", ")
            ));
        } else {
            tally.caught_only_by_verify.push(format!(
                "{label}: {} (verify: {})",
                differed.join(", "),
                outs[VERIFY].stdout.trim().replace('\n', " ")
            ));
        }
    }
    // Nothing written or deleted, except by sled inside its own folder and the
    // bookkeeping beside it: the store's clean-close record, a copy of the store kept
    // before opening it (`ledger::preserve`), and derived caches (`cache/`).
    let bookkeeping = |k: &str| {
        k.starts_with("/store/")
            || k == "/store.closed"
            || k.starts_with("/preserved/")
            || k.starts_with("/cache/")
    };
    let outside = |s: &Snapshot| -> Snapshot {
        s.iter()
            .filter(|(k, _)| !bookkeeping(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if outside(&before) != outside(&after) {
        let changed: Vec<_> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .cloned()
            .collect();
        problems.push(format!("read commands CHANGED the folder: {changed:?}"));
    } else if before != after {
        let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
        names.sort();
        names.dedup();
        let changed: Vec<String> = names
            .into_iter()
            .filter(|k| before.get(*k) != after.get(*k))
            .map(|k| describe_change(k, before.get(k), after.get(k)))
            .collect();
        let verify = if verify_ok {
            "verify OK"
        } else {
            "verify failed"
        };
        tally
            .store_rewritten
            .push(format!("{label}: {} ({verify})", changed.join("; ")));
    }
    let outcome = if !problems.is_empty() {
        let mut text = format!("{label}:");
        for p in &problems {
            let _ = write!(text, "\n    {p}");
        }
        tally.failures.push(text);
        Outcome::Failed
    } else if !differed.is_empty() {
        Outcome::CaughtOnlyByVerify
    } else if same == COMMANDS.len() {
        Outcome::Intact
    } else if refused == COMMANDS.len() {
        Outcome::Refused
    } else {
        Outcome::PartlyRefused
    };
    *tally.outcomes.entry(outcome).or_default() += 1;
}

/// "name: 524286 → 524287 bytes, 12 bytes differ from offset 4096".
fn describe_change(
    name: &str,
    before: Option<&Option<Vec<u8>>>,
    after: Option<&Option<Vec<u8>>>,
) -> String {
    match (before, after) {
        (None, Some(_)) => format!("{name} created"),
        (Some(_), None) => format!("{name} deleted"),
        (Some(Some(a)), Some(Some(b))) => {
            let differ: Vec<usize> = (0..a.len().min(b.len()))
                .filter(|i| a[*i] != b[*i])
                .collect();
            format!(
                "{name}: {} → {} bytes, {} bytes differ{}",
                a.len(),
                b.len(),
                differ.len(),
                differ
                    .first()
                    .map(|i| format!(" from offset {i}"))
                    .unwrap_or_default()
            )
        }
        _ => format!("{name} changed kind"),
    }
}

/// A fresh copy of the original, damaged by `damage`, judged.
fn trial(original: &Original, label: &str, tally: &mut Tally, damage: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_tree(&original.data, &data);
    damage(&data);
    judge(original, &data, dir.path(), label, tally);
}

fn on(data: &Path, file: &str) -> PathBuf {
    data.join(file.trim_start_matches('/'))
}

#[test]
fn zero_byte_files_are_refused_or_harmless() {
    let original = Original::build();
    let mut tally = Tally::default();
    for file in &original.files {
        trial(&original, &format!("zero-byte {file}"), &mut tally, |d| {
            std::fs::write(on(d, file), b"").unwrap();
        });
    }
    tally.finish("zero-byte file");
}

#[test]
fn missing_files_are_refused_or_harmless() {
    let original = Original::build();
    let mut tally = Tally::default();
    for file in &original.files {
        trial(&original, &format!("missing {file}"), &mut tally, |d| {
            std::fs::remove_file(on(d, file)).unwrap();
        });
    }
    for folder in ["/store", "/blobs", "/keys"] {
        trial(
            &original,
            &format!("missing folder {folder}"),
            &mut tally,
            |d| {
                std::fs::remove_dir_all(on(d, folder)).unwrap();
            },
        );
    }
    tally.finish("missing file");
}

#[test]
fn truncated_files_are_refused_or_harmless() {
    let seed = seed("damage truncated");
    let mut rng = Rng(seed);
    let original = Original::build();
    let mut tally = Tally::default();
    for file in &original.files {
        let len = original.bytes(file).len() as u64;
        if len < 2 {
            continue;
        }
        // Three random lengths, and the last byte gone.
        for cut in [
            1 + rng.below(len - 1),
            1 + rng.below(len - 1),
            1 + rng.below(len - 1),
            len - 1,
        ] {
            let label = format!("truncated {file} to {cut} of {len} bytes (seed {seed:#x})");
            trial(&original, &label, &mut tally, |d| {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(on(d, file))
                    .unwrap();
                f.set_len(cut).unwrap();
            });
        }
    }
    tally.finish("truncated file");
}

#[test]
fn flipped_bytes_are_refused_or_harmless() {
    let seed = seed("damage flipped");
    let mut rng = Rng(seed);
    let original = Original::build();
    let trials = env_count("ASSURE_DAMAGE_TRIALS", 240);
    let files: Vec<&String> = original
        .files
        .iter()
        .filter(|f| !original.bytes(f).is_empty())
        .collect();
    // Positions of the non-zero bytes of each file: flips aimed at data, not padding.
    let busy: BTreeMap<&String, Vec<usize>> = files
        .iter()
        .map(|f| {
            let positions = original
                .bytes(f)
                .iter()
                .enumerate()
                .filter(|(_, b)| **b != 0)
                .map(|(i, _)| i)
                .collect();
            (*f, positions)
        })
        .collect();
    let mut tally = Tally::default();
    for n in 0..trials {
        // One file in most trials; every file at once in one trial in five.
        let targets: Vec<&String> = if rng.below(5) == 0 {
            files.clone()
        } else {
            vec![files[rng.below(files.len() as u64) as usize]]
        };
        let mut flips = Vec::new();
        for file in targets {
            let len = original.bytes(file).len();
            for _ in 0..=rng.below(4) {
                let at = match &busy[file] {
                    positions if !positions.is_empty() && rng.below(4) != 0 => {
                        positions[rng.below(positions.len() as u64) as usize]
                    }
                    _ => rng.below(len as u64) as usize,
                };
                let mask = 1 + rng.below(255) as u8;
                flips.push((file.clone(), at, mask));
            }
        }
        let label = format!(
            "flip #{n} {} (seed {seed:#x})",
            flips
                .iter()
                .map(|(f, at, mask)| format!("{f}@{at}^{mask:#04x}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        trial(&original, &label, &mut tally, |d| {
            for (file, at, mask) in &flips {
                let path = on(d, file);
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[*at] ^= mask;
                std::fs::write(&path, bytes).unwrap();
            }
        });
    }
    tally.finish("flipped bytes");
}

#[test]
fn folders_that_are_not_ledgers_are_refused_and_left_alone() {
    let seed = seed("damage foreign");
    let mut rng = Rng(seed);
    let original = Original::build();
    let mut tally = Tally::default();
    let refuse_all = |label: &str, tally: &mut Tally, make: &dyn Fn(&Path)| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        make(&data);
        let before = tally.outcomes.get(&Outcome::Refused).copied();
        judge(&original, &data, dir.path(), label, tally);
        if tally.outcomes.get(&Outcome::Refused).copied() == before {
            tally
                .failures
                .push(format!("{label}: not every command refused it"));
        }
    };
    refuse_all("an empty folder", &mut tally, &|d| {
        std::fs::create_dir(d).unwrap();
    });
    refuse_all("no folder at all", &mut tally, &|_| {});
    let noise: Vec<Vec<u8>> = (0..6)
        .map(|_| (0..rng.below(5000)).map(|_| rng.next() as u8).collect())
        .collect();
    refuse_all("a folder of random files", &mut tally, &|d| {
        std::fs::create_dir_all(d.join("store")).unwrap();
        for (i, bytes) in noise.iter().enumerate() {
            let name = ["HEAD", "LOCK", "db", "store/db", "store/conf", "notes.bin"][i];
            std::fs::write(d.join(name), bytes).unwrap();
        }
    });
    refuse_all("a file instead of a folder", &mut tally, &|d| {
        std::fs::write(d, b"Assure ledger\nformat: 1\n").unwrap();
    });
    refuse_all("a git checkout", &mut tally, &|d| {
        std::fs::create_dir_all(d.join(".git/refs/heads")).unwrap();
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::write(d.join(".git/HEAD"), b"ref: refs/heads/main\n").unwrap();
        std::fs::write(d.join(".git/config"), b"[core]\n\tbare = false\n").unwrap();
        std::fs::write(d.join("HEAD"), b"ref: refs/heads/main\n").unwrap();
        std::fs::write(d.join("README.md"), b"# A project\n").unwrap();
        std::fs::write(d.join("src/main.rs"), b"fn main() {}\n").unwrap();
    });
    // A ledger's marker in front of someone else's files.
    refuse_all("a marker and nothing else", &mut tally, &|d| {
        std::fs::create_dir(d).unwrap();
        std::fs::write(d.join("ASSURE-LEDGER"), b"Assure ledger\nformat: 1\n").unwrap();
    });
    tally.finish("foreign folder");
}

/// Found by the flipped-byte trials: on a store whose log has a damaged byte, the
/// first read command (here `verify`) lets sled's recovery zero the rest of the log
/// file from the damaged message on (tens of kB, every later event record). sled
/// cannot be asked to look without doing so; so a store that is not exactly as its
/// last clean close left it is copied before it is opened, and the copy stays, named
/// in the message, when damage is met: the bytes an investigator needs survive.
#[test]
fn a_read_command_on_a_damaged_store_keeps_a_copy_of_its_bytes() {
    let original = Original::build();
    let db = original.bytes("/store/db");
    // The first few hundred non-zero bytes of the log are event records.
    let targets: Vec<usize> = (256..db.len())
        .filter(|i| db[*i] != 0)
        .step_by(97)
        .take(12)
        .collect();
    let mut rewritten = 0;
    for at in targets {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        copy_tree(&original.data, &data);
        let path = data.join("store/db");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at] ^= 0x5a;
        std::fs::write(&path, &bytes).unwrap();
        let out = run(&data, dir.path(), &["verify", "--json"]);
        let after = std::fs::read(&path).unwrap();
        if after != bytes {
            rewritten += 1;
        }
        if out.code == Some(0) {
            continue; // a byte sled never reads back; nothing was damaged or lost
        }
        let copies: Vec<_> = std::fs::read_dir(data.join("preserved"))
            .unwrap_or_else(|e| panic!("byte {at}: no copy kept ({e}); {}", out.stderr))
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(copies.len(), 1, "byte {at}: {copies:?}");
        assert!(
            out.stderr.contains(copies[0].to_str().unwrap()),
            "byte {at}: the message names the copy: {}",
            out.stderr
        );
        let kept = std::fs::read(copies[0].join("db")).unwrap();
        assert!(
            kept == bytes,
            "byte {at}: the copy is not the store as it was before the command"
        );
    }
    // The trials are only worth having if sled's recovery did rewrite some stores.
    assert!(
        rewritten > 0,
        "no trial had its store rewritten by sled's recovery"
    );
}
