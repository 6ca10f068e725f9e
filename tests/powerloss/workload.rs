//! Traced workloads: a ledger is made and snapshotted untraced, then commands run on it
//! under the shim, and the test marks in the trace where each change was acknowledged.
//!
//! "Acknowledged" is what a user could have seen: for a command line change, the first
//! line it printed on its standard output (the shim records it, in order with the
//! fsyncs before it) of a run that ended with exit 0, or that was killed after
//! printing it; it covers every event up to the size of the ledger after the command.
//! For the service, a 2xx answer, marked by the test as it arrives; it covers the seq
//! it names and every one before it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::check::assure;
use crate::disk::Snapshot;
use crate::trace::{self, Call, Record};

/// A workload under way: the folder, the trace and the steps so far.
pub struct Workload {
    pub dir: tempfile::TempDir,
    /// The folder watched and rebuilt: the data folder, or the folder it is made in.
    root: PathBuf,
    pub data: PathBuf,
    pub trace: PathBuf,
    shim: PathBuf,
    snapshot: Snapshot,
    /// The ledger's size in the snapshot; `None` before `init`.
    initial: Option<usize>,
    steps: usize,
    /// The ledger's size after the last change.
    size: usize,
}

/// A finished workload: everything the rebuilder and the checker need.
pub struct Traced {
    pub dir: tempfile::TempDir,
    /// The folder watched and rebuilt.
    pub root: PathBuf,
    /// Where the data folder is in it (empty: it is the root).
    pub within: PathBuf,
    pub snapshot: Snapshot,
    pub records: Vec<Record>,
    /// Each event's hash, by seq, from the history after the workload.
    pub hashes: Vec<String>,
    /// (record index, ledger size): from that record on, the ledger must open and
    /// events below the size are acknowledged. The first is (0, the size of the
    /// snapshot), unless the workload starts before `init`.
    pub acks: Vec<(usize, usize)>,
    /// (record index, step): from that record on, that step is acknowledged.
    pub steps: Vec<(usize, usize)>,
}

impl Traced {
    /// How many events are acknowledged when the power goes after `cut` records;
    /// `None` if not even the ledger's creation is.
    pub fn acknowledged_at(&self, cut: usize) -> Option<usize> {
        self.acks
            .iter()
            .filter(|(at, _)| *at < cut)
            .map(|&(_, size)| size)
            .max()
    }

    /// The last step acknowledged when the power goes after `cut` records (0: none).
    pub fn acknowledged_step(&self, cut: usize) -> usize {
        self.steps
            .iter()
            .filter(|(at, _)| *at < cut)
            .map(|&(_, step)| step)
            .max()
            .unwrap_or(0)
    }
}

fn history(command: Command) -> Vec<String> {
    let mut command = command;
    let output = command.args(["history", "--json"]).output().unwrap();
    assert!(
        output.status.success(),
        "history failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Value = serde_json::from_slice(&output.stdout).unwrap();
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hash"].as_str().unwrap().to_owned())
        .collect()
}

impl Workload {
    /// A ledger with the Manchester plan imported as `mcr` (untraced), snapshotted.
    pub fn start(shim: &Path) -> Workload {
        Workload::start_with(shim, |_| {})
    }

    /// As `start`, with `setup` run on the folder (untraced) before the snapshot.
    pub fn start_with(shim: &Path, setup: impl FnOnce(&Path)) -> Workload {
        Workload::start_in(shim, false, setup)
    }

    /// As `start`, but the folder watched and rebuilt is the one the data folder is
    /// in (`root()`), so that what commands write beside it is cut too.
    pub fn start_beside(shim: &Path, setup: impl FnOnce(&Path)) -> Workload {
        Workload::start_in(shim, true, setup)
    }

    fn start_in(shim: &Path, beside: bool, setup: impl FnOnce(&Path)) -> Workload {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = if beside {
            base.join("disk")
        } else {
            base.join("data")
        };
        let data = if beside {
            root.join("data")
        } else {
            root.clone()
        };
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/manchester-jtai-2023.csv");
        assert!(
            fixture.is_file(),
            "the tests need ../shared beside the checkout"
        );
        for args in [
            vec!["init"],
            vec!["import", fixture.to_str().unwrap(), "--plan", "mcr"],
        ] {
            let output = assure(&data).args(&args).output().unwrap();
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        setup(&data);
        let initial = history(assure(&data)).len();
        Workload {
            snapshot: Snapshot::take(&root),
            trace: base.join("trace"),
            root,
            data,
            dir,
            shim: shim.to_path_buf(),
            initial: Some(initial),
            steps: 0,
            size: initial,
        }
    }

    /// No ledger yet: the folder watched is the one `init` will make the data folder in.
    pub fn start_before_init(shim: &Path) -> Workload {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let root = base.join("disk");
        std::fs::create_dir(&root).unwrap();
        Workload {
            snapshot: Snapshot::take(&root),
            trace: base.join("trace"),
            data: root.join("data"),
            root,
            dir,
            shim: shim.to_path_buf(),
            initial: None,
            steps: 0,
            size: 0,
        }
    }

    /// The binary on the folder, under the shim.
    pub fn traced(&self) -> Command {
        self.traced_on(&self.data)
    }

    /// The binary on another data folder under the root, under the shim.
    fn traced_on(&self, data: &Path) -> Command {
        let mut command = assure(data);
        command
            .env("LD_PRELOAD", &self.shim)
            .env("ASSURE_POWERLOSS_DIR", &self.root)
            .env("ASSURE_POWERLOSS_LOG", &self.trace);
        command
    }

    /// The folder watched (the data folder, unless started beside it).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The ledger's size after the last change acknowledged.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn mark(&self, text: &str) {
        trace::mark(&self.trace, text);
    }

    /// A change that must succeed; acknowledged at its first line of output. Returns
    /// its step number (see `Traced::acknowledged_step`).
    pub fn change(&mut self, args: &[&str]) -> usize {
        self.change_on(&self.data.clone(), args)
    }

    /// As `change`, with `--data` naming another folder (one `restore` makes).
    pub fn change_on(&mut self, data: &Path, args: &[&str]) -> usize {
        let step = self.begin();
        let output = self.traced_on(data).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?} failed under the shim: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        self.acknowledge(step);
        step
    }

    /// A change killed (SIGKILL, by the shim, between two traced calls) just after it
    /// printed its acknowledgement, so that its batch is left in the write-ahead log
    /// for the next command to replay.
    pub fn change_killed_after_acknowledging(&mut self, args: &[&str]) {
        let step = self.begin();
        let output = self
            .traced()
            .env("ASSURE_POWERLOSS_KILL_AFTER_OUTPUT", "1")
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.code().is_none() || output.status.success(),
            "{args:?} failed under the shim: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.stdout.is_empty() || output.status.success() {
            self.acknowledge(step);
        }
    }

    /// A command that only reads (it still opens the store, which writes).
    pub fn read(&mut self, args: &[&str]) {
        let output = self.traced().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn begin(&mut self) -> usize {
        self.steps += 1;
        self.mark(&format!("start {}", self.steps));
        self.steps
    }

    /// Marks that step `step` acknowledged every event the ledger now holds (read by
    /// a traced `history`, itself part of the workload).
    fn acknowledge(&mut self, step: usize) {
        self.mark(&format!("end {step}"));
        let size = history(self.traced()).len();
        self.size = size;
        self.mark(&format!("acknowledged {step} {size}"));
    }

    /// The trace read back, the acknowledgements placed, the final hashes taken.
    pub fn finish(self) -> Traced {
        let hashes = history(self.traced());
        let records = trace::read(&self.trace, &self.root);
        let mut acks: Vec<(usize, usize)> =
            self.initial.map(|size| (0, size)).into_iter().collect();
        let mut steps = Vec::new();
        let marks: std::collections::HashMap<&str, usize> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.call {
                Call::Mark { text } => Some((text.as_str(), i)),
                _ => None,
            })
            .collect();
        let find = |text: &str| marks.get(text).copied();
        for (i, record) in records.iter().enumerate() {
            let Call::Mark { text } = &record.call else {
                continue;
            };
            if let Some(rest) = text.strip_prefix("acknowledged ") {
                let (step, size) = rest.split_once(' ').unwrap();
                let start = find(&format!("start {step}")).unwrap();
                let end = find(&format!("end {step}")).unwrap();
                // The first line printed, else the end of the command.
                let at = (start..end)
                    .find(|&i| matches!(records[i].call, Call::Output { .. }))
                    .unwrap_or(end);
                acks.push((at, size.parse().unwrap()));
                steps.push((at, step.parse().unwrap()));
            } else if let Some(seq) = text.strip_prefix("ack seq ") {
                acks.push((i, seq.parse::<usize>().unwrap() + 1));
            }
        }
        Traced {
            dir: self.dir,
            within: self.data.strip_prefix(&self.root).unwrap().to_path_buf(),
            root: self.root,
            snapshot: self.snapshot,
            records,
            hashes,
            acks,
            steps,
        }
    }
}
