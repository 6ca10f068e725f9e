//! The checker: the real binary (without the shim) on a rebuilt folder. Every event
//! acknowledged before the cut must be there with its hash; `verify` must pass or name
//! the damage; the next append must work or be refused cleanly; nothing may panic,
//! die of a signal or hang.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How a command on a rebuilt folder ended.
pub struct Ended {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The real binary on `data`, untraced.
pub fn assure(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_assure"));
    command
        .arg("--data")
        .arg(data)
        .arg("--actor=power-loss")
        .env_remove("ASSURE_DATA")
        .env_remove("ASSURE_ACTOR")
        .env_remove("LD_PRELOAD");
    command
}

/// Runs `command` to its end, or kills it after `limit` (then `code` is `None` and
/// `stderr` says so).
pub fn run_with_limit(mut command: Command, limit: Duration) -> Ended {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match receive.recv_timeout(limit) {
        Ok(output) => {
            let output = output.unwrap();
            Ended {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            Ended {
                code: None,
                stdout: String::new(),
                stderr: format!("HUNG: no end within {} s (killed)", limit.as_secs()),
            }
        }
    }
}

fn run(data: &Path, args: &[&str]) -> Ended {
    let mut command = assure(data);
    command.args(args);
    run_with_limit(command, Duration::from_secs(60))
}

/// Exit 0, or 1 (damage, IO) or 2 (refused input) with a message; never a panic
/// (101), a signal or a hang.
fn clean(ended: &Ended, what: &str) -> Result<(), String> {
    let panicked = ended.stderr.contains("panicked") || ended.stderr.contains("RUST_BACKTRACE");
    match ended.code {
        Some(0) if !panicked => Ok(()),
        Some(1 | 2) if !panicked && !ended.stderr.trim().is_empty() => Ok(()),
        _ => Err(format!(
            "`{what}` ended badly (exit {:?}): {}{}",
            ended.code, ended.stdout, ended.stderr
        )),
    }
}

/// What the checks found on one rebuilt folder that passed them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen {
    /// `verify` refused the folder, naming damage (exit 1), with nothing acknowledged lost.
    pub verify_named_damage: bool,
    /// The next append was refused (exit 1 or 2, a message).
    pub append_refused: bool,
    /// Events present beyond those acknowledged (durable, never acknowledged).
    pub unacknowledged: usize,
}

/// Every acknowledged event (`hashes[seq]` for seq below `acknowledged`) present in
/// `history --json`, with its hash, seqs in order from 0.
fn history_holds(
    data: &Path,
    hashes: &[String],
    acknowledged: usize,
    when: &str,
) -> Result<usize, String> {
    let history = run(data, &["history", "--json"]);
    clean(&history, "history --json")?;
    if history.code != Some(0) {
        return Err(format!(
            "LOST: {acknowledged} events were acknowledged, and `history` {when} refuses the folder: {}",
            history.stderr.trim()
        ));
    }
    let events: Value = serde_json::from_str(&history.stdout)
        .map_err(|e| format!("`history --json` printed no JSON ({e})"))?;
    let events = events
        .as_array()
        .ok_or("`history --json` printed no list")?;
    for (i, event) in events.iter().enumerate() {
        if event["seq"].as_u64() != Some(i as u64) {
            return Err(format!("a gap or disorder in the history at {i}: {event}"));
        }
    }
    for (seq, hash) in hashes.iter().enumerate().take(acknowledged) {
        match events.get(seq) {
            None => {
                return Err(format!(
                    "LOST: acknowledged event {seq} is missing {when}; the history has {} events, {acknowledged} were acknowledged",
                    events.len()
                ))
            }
            Some(event) if event["hash"].as_str() != Some(hash) => {
                return Err(format!(
                    "LOST: acknowledged event {seq} has hash {} {when}, acknowledged as {hash}",
                    event["hash"]
                ))
            }
            Some(_) => {}
        }
    }
    Ok(events.len())
}

/// The checks on one rebuilt folder: `Ok` with what was seen, or what went wrong.
/// `acknowledged` is `None` when not even the ledger's creation was acknowledged:
/// then every command must only end cleanly.
pub fn check(data: &Path, hashes: &[String], acknowledged: Option<usize>) -> Result<Seen, String> {
    let mut seen = Seen::default();
    let verify = run(data, &["verify", "--json"]);
    clean(&verify, "verify --json")?;
    let Some(acknowledged) = acknowledged else {
        clean(&run(data, &["history", "--json"]), "history --json")?;
        let append = run(
            data,
            &["progress", "mcr", "1.1", "--note", "after the power cut"],
        );
        clean(&append, "progress (the next append)")?;
        seen.append_refused = append.code != Some(0);
        return Ok(seen);
    };
    seen.verify_named_damage = verify.code == Some(1);
    let size = history_holds(data, hashes, acknowledged, "after the cut")?;
    seen.unacknowledged = size.saturating_sub(acknowledged);
    let append = run(
        data,
        &["progress", "mcr", "1.1", "--note", "after the power cut"],
    );
    clean(&append, "progress (the next append)")?;
    seen.append_refused = append.code != Some(0);
    let after = history_holds(data, hashes, acknowledged, "after the next append")?;
    if append.code == Some(0) && after != size + 1 {
        return Err(format!(
            "the next append succeeded but the history went from {size} to {after} events"
        ));
    }
    Ok(seen)
}
