//! The command line beside a running service: read-only commands give the answers
//! they give on their own (the service answers them over its owner-only socket),
//! and a command that would change the ledger says the service is running and how
//! to make the change, recording nothing.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::connections::serving_address;
use crate::support::Run;

const PLAN: &str = "mcr-jtai-2023";

/// The real binary on `data`, run in `cwd`.
fn assure(data: &Path, cwd: &Path, args: &[&str]) -> Run {
    Run::from_output(
        crate::support::assure(data, "beside.tester")
            .current_dir(cwd)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

/// The read-only commands, each as a user would type it.
fn reads() -> Vec<Vec<&'static str>> {
    vec![
        vec!["plans"],
        vec!["plans", "--json"],
        vec!["plan", PLAN],
        vec!["plan", PLAN, "--as-of", "2024-01-31", "--json"],
        vec!["action", PLAN, "6.5"],
        vec!["agencies"],
        vec!["challenges"],
        vec!["challenges", "--json"],
        vec!["challenge", "show", "C-0001"],
        vec!["history"],
        vec!["history", "--json", "--subject", "challenge/"],
        vec!["verify"],
        vec!["verify", "--json"],
        vec!["checkpoints"],
        vec!["proof", "3"],
        // Refused the same way: a plan that is not there (exit 2).
        vec!["plan", "no-such-plan"],
        vec!["action", PLAN, "99.9"],
    ]
}

#[test]
fn read_only_commands_answer_the_same_while_the_service_runs_and_changes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assure::demo::run(&data).unwrap();
    let cwd = dir.path();
    // A proof first, so the checkpoint it may sign is there for both runs.
    assert_eq!(assure(&data, cwd, &["proof", "3"]).code, 0);
    let alone: Vec<Run> = reads().iter().map(|a| assure(&data, cwd, a)).collect();
    assert!(alone.iter().any(|r| r.code == 2), "the refusals refuse");

    let mut service = crate::support::assure(&data, "beside.tester")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = service.stdout.take().unwrap();
    let _addr = serving_address(&mut stdout);

    // The socket is its owner's alone, in a folder only its owner may enter.
    let folder = data.join(".service");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("socket")), 0o600);

    for (args, alone) in reads().iter().zip(&alone) {
        let beside = assure(&data, cwd, args);
        assert_eq!(
            (beside.code, &beside.stdout, &beside.stderr),
            (alone.code, &alone.stdout, &alone.stderr),
            "assure {args:?} beside the service"
        );
    }

    // An export and a report beside the service land where the command line runs.
    let exported = assure(&data, cwd, &["export", "--out", "bundle"]);
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert!(cwd.join("bundle/events.jsonl").is_file());
    let report = assure(&data, cwd, &["report", PLAN, "--out", "report.html"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(std::fs::read_to_string(cwd.join("report.html"))
        .unwrap()
        .contains("Manchester"));
    let vkey = exported.stdout.split("--trust ").nth(1).unwrap().trim();
    let checked = assure(
        &data,
        cwd,
        &["verify", "--bundle", "bundle", "--trust", vkey],
    );
    assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);

    // A change is refused, says why and how, and records nothing.
    let size = |run: &Run| run.stdout.lines().count();
    let before = size(&assure(&data, cwd, &["history"]));
    let refused = assure(
        &data,
        cwd,
        &[
            "status",
            PLAN,
            "1.2",
            "green",
            "--note",
            "Beside the service",
        ],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("assure serve is running")
            && refused.stderr.contains("through the service"),
        "{}",
        refused.stderr
    );
    assert_eq!(size(&assure(&data, cwd, &["history"])), before);

    // Stopped, the service takes its socket with it and the command line works alone.
    let stopped = std::process::Command::new("kill")
        .arg(service.id().to_string())
        .status()
        .unwrap();
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while service.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the service did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!folder.join("socket").exists());
    assert_eq!(assure(&data, cwd, &["plans"]).stdout, alone[0].stdout);
}
