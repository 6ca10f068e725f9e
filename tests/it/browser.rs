//! End-to-end browser test: `assure serve --demo` driven by headless Chromium
//! (playwright-core), with axe-core accessibility checks on every page visited.
//!
//! The browser side is `tests/browser/run.mjs`; this test starts the server on a
//! free port in a fresh data folder, runs the script against it and stops the
//! server. Without `/usr/bin/chromium`, `node` or `tests/browser/node_modules`
//! (`cd tests/browser && npm ci`) it is skipped with a message, unless
//! `ASSURE_REQUIRE_BROWSER=1` is set (as CI does), when it fails instead.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::free_port;

const CHROMIUM: &str = "/usr/bin/chromium";
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
const BROWSER_RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// A child process that is killed (and reaped) when dropped, so a failing
/// assertion never leaves a server or a browser behind.
#[derive(Debug)]
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch folder under the system temp dir, removed when dropped.
#[derive(Debug)]
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("ASSURE_BROWSER_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

fn node_works() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Why the browser test cannot run here, if it cannot.
fn missing_prerequisite(browser_dir: &Path) -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!(
            "{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
        ));
    }
    if !node_works() {
        return Some("node is missing or does not run".to_owned());
    }
    if !browser_dir.join("node_modules").is_dir() {
        return Some(format!(
            "{} is missing (cd tests/browser && npm ci)",
            browser_dir.join("node_modules").display()
        ));
    }
    None
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Wait until something accepts connections on `addr`, or the server exits, or time runs out.
fn wait_for_port(server: &mut KillOnDrop, addr: SocketAddr, log: &Path) {
    let deadline = Instant::now() + SERVER_START_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            return;
        }
        if let Some(status) = server.0.try_wait().expect("poll the server process") {
            panic!(
                "assure serve exited ({status}) before answering on {addr}\n--- server output ---\n{}",
                read_lossy(log)
            );
        }
        assert!(
            Instant::now() < deadline,
            "assure serve did not answer on {addr} within {SERVER_START_TIMEOUT:?}\n--- server output ---\n{}",
            read_lossy(log)
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_web_pages_work_in_a_browser_and_pass_axe() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    let required = std::env::var("ASSURE_REQUIRE_BROWSER").is_ok_and(|v| v == "1");

    if let Some(why) = missing_prerequisite(&browser_dir) {
        assert!(
            !required,
            "ASSURE_REQUIRE_BROWSER=1 but the browser test cannot run: {why}"
        );
        println!("skipping the browser test: {why}");
        return;
    }

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let scratch = Scratch(
        std::env::temp_dir().join(format!("assure-browser-{}-{nanos}", std::process::id())),
    );
    fs::create_dir_all(&scratch.0).expect("create the scratch folder");
    let data = scratch.0.join("demo");
    let server_log = scratch.0.join("server.log");

    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = File::create(&server_log).expect("create the server log");
    let mut server = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_assure"))
            .arg("--data")
            .arg(&data)
            .args(["serve", "--demo", "--addr"])
            .arg(addr.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the server log handle"))
            .stderr(log)
            .spawn()
            .expect("start assure serve --demo"),
    );
    wait_for_port(&mut server, addr, &server_log);
    assert!(
        data.join("demo-accounts.txt").is_file(),
        "the demo server answers but wrote no {}\n--- server output ---\n{}",
        data.join("demo-accounts.txt").display(),
        read_lossy(&server_log)
    );

    let base = format!("http://{addr}");
    let node_log = scratch.0.join("node.log");
    let out = File::create(&node_log).expect("create the browser log");
    let mut node = KillOnDrop(
        Command::new("node")
            .arg(browser_dir.join("run.mjs"))
            .arg(&base)
            .arg(&data)
            .current_dir(root)
            .env("CHROMIUM", CHROMIUM)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the browser log handle"))
            .stderr(out)
            .spawn()
            .expect("start node tests/browser/run.mjs"),
    );
    let deadline = Instant::now() + BROWSER_RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = node.0.try_wait().expect("poll the browser run") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(200));
    };
    drop(node);
    drop(server);

    let output = read_lossy(&node_log);
    println!(
        "--- node tests/browser/run.mjs {base} {} ---",
        data.display()
    );
    println!("{output}");
    match status {
        Some(status) => assert!(
            status.success(),
            "the browser test failed ({status}); its output is above\n--- server output ---\n{}",
            read_lossy(&server_log)
        ),
        None => panic!(
            "the browser test did not finish within {BROWSER_RUN_TIMEOUT:?}; its output is above"
        ),
    }
}
