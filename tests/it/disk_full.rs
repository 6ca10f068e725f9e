//! A real full disk, for the real binary and the running service: a 24 MiB tmpfs
//! (when the test may mount one — root in a sandbox; skipped with a message where it
//! may not). The free-space guard refuses each change that would bring the disk within
//! its reserve, before anything of it is written, with a clear message (exit 1; HTTP
//! 503 "the disk is nearly full; nothing was recorded"); nothing acknowledged is lost,
//! reads go on, and once space is freed the same command and service take changes again.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::server::Reply;
use crate::support::{run_with_input, Run};

const RESERVE: &str = "4194304";

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        if std::env::var_os("ASSURE_NO_MOUNT").is_some() {
            return None;
        }
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }

    fn grow(&self, size: &str) {
        let ok = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
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

fn assure(data: &Path, args: &[&str]) -> Run {
    let mut command = crate::support::assure(data, "disk.tester");
    command.env("ASSURE_FREE_SPACE_RESERVE", RESERVE);
    Run::from_output(command.args(args).output().unwrap())
}

fn size(data: &Path) -> usize {
    let history = assure(data, &["history", "--json"]).ok().json();
    history.as_array().unwrap().len()
}

/// A fresh ledger with the Manchester plan on a small tmpfs, or `None` (skipped).
fn small_disk(dir: &Path) -> Option<(Mount, PathBuf)> {
    let mnt = dir.join("small");
    std::fs::create_dir(&mnt).unwrap();
    let Some(mount) = Mount::tmpfs(&mnt, "24m") else {
        println!("real disk-full test skipped: cannot mount a tmpfs here");
        return None;
    };
    let data = mnt.join("data");
    assure(&data, &["init"]).ok();
    let file = crate::support::fixture("manchester-jtai-2023.csv");
    let import = [
        "import",
        file.to_str().unwrap(),
        "--plan",
        "mcr",
        "--effective",
        "2023-11-20",
    ];
    assure(&data, &import).ok();
    Some((mount, data))
}

/// A file of `n` bytes that differs for each `i` (so each is a new evidence file).
fn evidence(dir: &Path, i: usize, n: usize) -> PathBuf {
    let path = dir.join(format!("evidence-{i}.bin"));
    let mut bytes = format!("evidence {i} ").into_bytes();
    bytes.resize(n, b'.');
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_command_line_refuses_on_a_nearly_full_disk_and_recovers_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let Some((mount, data)) = small_disk(dir.path()) else {
        return;
    };
    let mut acknowledged = size(&data);
    let mut refused = None;
    for i in 0..200 {
        let file = evidence(dir.path(), i, 1024 * 1024);
        let note = format!("note {i}");
        let run = assure(
            &data,
            &[
                "progress",
                "mcr",
                "1.1",
                "--note",
                &note,
                "--evidence",
                file.to_str().unwrap(),
            ],
        );
        if run.code == 0 {
            acknowledged += 1;
            continue;
        }
        refused = Some(run);
        break;
    }
    let refused = refused.expect("a 24 MiB disk never filled");
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("nearly full"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("nothing was recorded"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("panicked"), "{}", refused.stderr);
    // Nothing of it recorded, every acknowledged change there, reads go on.
    assert_eq!(size(&data), acknowledged);
    assert_eq!(assure(&data, &["verify"]).code, 0);
    assure(&data, &["plan", "mcr"]).ok();
    // Space returns: the same change is taken.
    mount.grow("96m");
    let file = evidence(dir.path(), 999, 1024 * 1024);
    assure(
        &data,
        &[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "after",
            "--evidence",
            file.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(size(&data), acknowledged + 1);
    assure(&data, &["verify"]).ok();
}

fn serve(data: &Path, log: &Path) -> (Child, std::net::SocketAddr) {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], crate::support::free_port()));
    let child = crate::support::assure(data, "disk.tester")
        .env("ASSURE_FREE_SPACE_RESERVE", RESERVE)
        .args(["serve", "--addr", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, addr)
}

/// Sends change `i` (`send(i)`, i = 0, 1 …, at most `most`) until one is not taken:
/// how many were (201), and the reply that was not.
fn until_refused(most: usize, send: impl Fn(usize) -> Reply) -> (usize, Option<Reply>) {
    for i in 0..most {
        let reply = send(i);
        if reply.status != 201 {
            return (i, Some(reply));
        }
    }
    (most, None)
}

/// The service's answer to a change on a nearly full disk.
fn refused_as_full(reply: Reply) {
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("the disk is nearly full; nothing was recorded"),
        "{}",
        reply.body
    );
}

#[test]
fn the_service_answers_503_on_a_nearly_full_disk_and_takes_changes_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let Some((mount, data)) = small_disk(dir.path()) else {
        return;
    };
    let added = run_with_input(
        &data,
        "disk.tester",
        &["user", "add", "writer", "--role", "manager"],
        "long enough password\n",
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    let token = assure(&data, &["token", "new", "writer"])
        .ok()
        .stdout
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let log = dir.path().join("serve.log");
    let (mut service, addr) = serve(&data, &log);
    let path = "/api/v1/plans/mcr/actions/1.1/progress";
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let note = "x".repeat(8 * 1024);
    let send =
        |body: String| crate::support::server::send(addr, "POST", path, &headers, body.as_bytes());
    let (mut acknowledged, full) = until_refused(20_000, |i| {
        send(serde_json::json!({ "note": format!("{i} {note}") }).to_string())
    });
    refused_as_full(full.expect("a 24 MiB disk never filled"));
    assert!(acknowledged > 10, "refused too early: {acknowledged}");
    // A change with an evidence file is refused the same way when the file cannot be
    // kept (the writer then rebuilds its world, reading the log back).
    let with_evidence = |i: usize| {
        use base64::Engine as _;
        let bytes = format!("scan {i} {}", "y".repeat(1024 * 1024)).into_bytes();
        let content = base64::engine::general_purpose::STANDARD.encode(bytes);
        serde_json::json!({
            "note": format!("with evidence {i}"),
            "evidence": [{ "name": format!("scan-{i}.pdf"), "content": content }],
        })
        .to_string()
    };
    // The log emptied into the store may free a little room meanwhile: a change taken
    // then is acknowledged like any other, until the disk refuses one.
    let (taken, refused) = until_refused(50, |i| send(with_evidence(100 + i)));
    acknowledged += taken;
    refused_as_full(refused.expect("50 changes of 1 MiB went onto a full 24 MiB disk"));
    // Reads go on; the service is not stopped: once space is freed it takes changes.
    let page = crate::support::server::send(addr, "GET", "/api/v1/plans/mcr", &headers, b"");
    assert_eq!(page.status, 200);
    // Room for sled to apply what the write-ahead log holds (its store takes several
    // times the notes' size: each batch rewrites its plan's index chunk) and for the
    // copy of the store the next command keeps, the service having stopped.
    mount.grow("512m");
    let body = serde_json::json!({ "note": "after" }).to_string();
    let reply = crate::support::server::send(addr, "POST", path, &headers, body.as_bytes());
    assert_eq!(reply.status, 201, "{}", reply.body);
    let reply =
        crate::support::server::send(addr, "POST", path, &headers, with_evidence(1).as_bytes());
    assert_eq!(reply.status, 201, "{}", reply.body);
    let _ = std::process::Command::new("kill")
        .arg(service.id().to_string())
        .status();
    let status = service.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        status.code().is_some(),
        "the service died of a signal: {log}"
    );
    let history = assure(&data, &["history", "--json"]).ok().json();
    let notes = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "action.progress_noted")
        .count();
    assert_eq!(
        notes,
        acknowledged + 2,
        "every acknowledged change is there, nothing refused is"
    );
    assure(&data, &["verify"]).ok();
}
