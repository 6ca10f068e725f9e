//! The service under API writers, traced: `assure serve` with a few clients appending
//! progress notes through the JSON API (group commit: the writer stages, the syncer
//! logs and answers, the applier applies and flushes). Each 201 is marked in the trace
//! as it arrives; it acknowledges the seq it names and every one before it.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check::assure;
use crate::http::post;
use crate::trace;
use crate::workload::{Traced, Workload};

/// A manager's API token on the folder (made untraced, before the snapshot).
pub fn token(data: &Path) -> String {
    let mut user = assure(data)
        .args(["user", "add", "power", "--role", "manager"])
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
    let output = assure(data)
        .args(["token", "new", "power"])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// Runs the service traced for about `for_how_long` under `clients` writers, then
/// stops it with SIGTERM (its graceful stop flushes, traced too).
pub fn run(shim: &Path, clients: usize, for_how_long: Duration) -> (Traced, usize) {
    let mut token_made = String::new();
    let workload = Workload::start_with(shim, |data| token_made = token(data));
    let token = token_made;
    let addr = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let log = workload.dir.path().join("serve.log");
    let mut server = workload
        .traced()
        .args(["serve", "--addr", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(
            server.try_wait().unwrap().is_none(),
            "serve exited: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(Instant::now() < deadline, "serve did not start in 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let (stop, token, trace) = (stop.clone(), token.clone(), workload.trace.clone());
            std::thread::spawn(move || {
                let mut acknowledged = 0;
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body = serde_json::json!({ "note": format!("client {client} note {n}") })
                        .to_string();
                    match post(
                        addr,
                        "/api/v1/plans/mcr/actions/1.1/progress",
                        &token,
                        &body,
                    ) {
                        Some((201, reply)) => {
                            let reply: Value = serde_json::from_str(&reply).unwrap();
                            let seq = reply["events"][0]["seq"].as_u64().unwrap();
                            trace::mark(&trace, &format!("ack seq {seq}"));
                            acknowledged += 1;
                        }
                        other => panic!("the service answered {other:?}"),
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(for_how_long);
    stop.store(true, Ordering::SeqCst);
    let acknowledged = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let status = server.wait().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success() && !stderr.contains("panicked"),
        "serve ended {status}: {stderr}"
    );
    (workload.finish(), acknowledged)
}
