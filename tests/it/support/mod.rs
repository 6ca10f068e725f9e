//! What every suite of the integration tests shares: the real `assure` binary on a
//! temporary data folder (`Ledger`, `assure`), the outcome of a run (`Run`), the
//! fixtures, free ports, the in-process test service (`server`) and the seeded
//! generator the randomised suites draw from (`rng`).

#![allow(dead_code)]

pub mod http;
pub mod rng;
pub mod server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A fixture from `../shared/fixtures/` (real board documents).
pub fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(name);
    assert!(
        path.is_file(),
        "missing fixture {} — the tests need ../shared beside the checkout",
        path.display()
    );
    path
}

/// The real binary on `data`, acting as `actor`, with the environment's data folder
/// and actor cleared so that nothing outside the test decides where or who.
pub fn assure(data: &Path, actor: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_assure"));
    command
        .arg("--data")
        .arg(data)
        .arg(format!("--actor={actor}"))
        .env_remove("ASSURE_DATA")
        .env_remove("ASSURE_ACTOR");
    command
}

/// The real binary on `data` as `actor`, run to its end.
pub fn run(data: &Path, actor: &str, args: &[&str]) -> Run {
    Run::from_output(assure(data, actor).args(args).output().unwrap())
}

/// The real binary on `data` as `actor`, `input` on its standard input.
pub fn run_with_input(data: &Path, actor: &str, args: &[&str], input: &str) -> Run {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = assure(data, actor)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that needs none of its input may have ended already: its output,
    // not a broken pipe here, says how it went.
    let written = child.stdin.take().unwrap().write_all(input.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    Run::from_output(child.wait_with_output().unwrap())
}

/// A run that must have succeeded: its output, or a panic saying `what` failed and why.
pub fn ok(run: Run, what: &str) -> Run {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run
}

/// A port nobody listens on now (the probe listener is dropped on return).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("local address of the probe listener")
        .port()
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What a refusal's message must contain: one text or several.
pub trait Needles {
    fn each(&self) -> Vec<&str>;
}

impl Needles for &str {
    fn each(&self) -> Vec<&str> {
        vec![self]
    }
}

impl<const N: usize> Needles for &[&str; N] {
    fn each(&self) -> Vec<&str> {
        self.to_vec()
    }
}

impl Needles for &[&str] {
    fn each(&self) -> Vec<&str> {
        self.to_vec()
    }
}

impl Run {
    /// Never a panic, whatever the outcome: a panic is a bug.
    pub fn from_output(output: Output) -> Run {
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "the binary panicked: {}",
            run.stderr
        );
        run
    }

    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Exit `code`, and every needle in the output (the message says what and where).
    pub fn fails_with(self, code: i32, needles: impl Needles) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        for needle in needles.each() {
            assert!(
                self.stderr.contains(needle) || self.stdout.contains(needle),
                "expected {needle:?} in the output\nstdout: {}\nstderr: {}",
                self.stdout,
                self.stderr
            );
        }
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// A temporary data folder and a way to run `assure` on it.
pub struct Ledger {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
}

impl Ledger {
    /// A new, initialised ledger.
    pub fn new() -> Ledger {
        let ledger = Ledger::uninitialised();
        ledger.run(&["init"]).ok();
        ledger
    }

    /// A data folder that does not exist yet.
    pub fn uninitialised() -> Ledger {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Ledger { dir, data }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_as("tester", args)
    }

    pub fn run_as(&self, actor: &str, args: &[&str]) -> Run {
        Run::from_output(assure(&self.data, actor).args(args).output().unwrap())
    }

    /// Writes a file beside the data folder and returns its path.
    pub fn file(&self, name: &str, contents: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// The Manchester JTAI plan (14 actions) as plan `mcr`, effective 2023-11-20.
    pub fn import_manchester(&self) {
        let file = fixture("manchester-jtai-2023.csv");
        self.run(&[
            "import",
            file.to_str().unwrap(),
            "--plan",
            "mcr",
            "--title",
            "Manchester JTAI",
            "--effective",
            "2023-11-20",
        ])
        .ok();
    }

    pub fn history(&self) -> Value {
        self.run(&["history", "--json"]).ok().json()
    }

    /// One action of a plan view (`plan --json`).
    pub fn action<'a>(plan: &'a Value, reference: &str) -> &'a Value {
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ref"] == reference)
            .unwrap_or_else(|| panic!("no action {reference}"))
    }
}
