//! The service's connections under clients that misbehave: half-sent headers, stalled
//! bodies, idle keep-alive, more sockets than the cap, requests hidden in the body of
//! a refused one, and a stop asked for while all that is going on.
//!
//! In-process services run `serve_on` with shortened `Limits`, so each rule is seen
//! in well under a second; the last test runs the real binary with the real limits.
//! Time is asserted only where the rule is a time limit, with generous margins.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use assure::web::accounts::Role;
use assure::web::Limits;
use serde_json::{json, Value};

use crate::support::server::{read_reply, Reply, Server, PASSWORD, PLAN};

/// Short limits, so that a test sees each rule without waiting for the real ones.
fn short() -> Limits {
    Limits {
        header_read: Duration::from_millis(300),
        body_idle: Duration::from_millis(300),
        connections: 512,
        shutdown_grace: Duration::from_secs(2),
    }
}

/// What the peer sent until it closed the connection; fails when the connection is
/// still open after `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> String {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A close with unread data in the service's buffers is a reset.
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "the connection is still open after {within:?} ({e}); read: {:?}",
            String::from_utf8_lossy(&raw)
        ),
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// One answer from a connection that stays open: the head, then a body of the
/// length it states.
fn one_reply(stream: &mut TcpStream) -> Reply {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "closed mid-head: {raw:?}"
        );
        raw.push(byte[0]);
    }
    let head = String::from_utf8(raw).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no Content-Length in {head}"));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    let mut text = head.into_bytes();
    text.extend(body);
    read_reply(&mut &text[..])
}

/// The number of answers in what a connection received.
fn answers(raw: &str) -> usize {
    raw.matches("HTTP/1.1 ").count()
}

fn progress_path() -> String {
    format!("/api/v1/plans/{PLAN}/actions/1.1/progress")
}

#[test]
fn a_half_sent_request_header_is_closed_after_the_header_timeout() {
    let server = Server::start_with(short());
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nUser-Agent: slow")
        .unwrap();
    let mut silent = TcpStream::connect(server.addr).unwrap();
    for stream in [&mut stalled, &mut silent] {
        let raw = closed_within(stream, Duration::from_secs(10));
        assert!(!raw.contains(" 200 "), "a half request was answered: {raw}");
    }
    assert_eq!(server.send("GET", "/login", &[], b"").status, 200);
}

#[test]
fn a_stalled_body_is_closed_and_nothing_is_recorded() {
    let server = Server::start_with(short());
    let size = server.state().shared.read().size();
    // The API: a note promised 200 bytes long, 20 of them sent.
    let mut api = TcpStream::connect(server.addr).unwrap();
    let auth = server.bearer(Role::Manager);
    write!(
        api,
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"note\": \"stalled ",
        progress_path()
    )
    .unwrap();
    let raw = closed_within(&mut api, Duration::from_secs(10));
    assert!(!raw.contains(" 201 "), "a stalled body was recorded: {raw}");
    // A page form: the guard reads it for its CSRF token and says what happened.
    let (cookie, csrf) = server.session(Role::Manager);
    let mut page = TcpStream::connect(server.addr).unwrap();
    write!(
        page,
        "POST /plans/{PLAN}/actions/1.1/status HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ncsrf={csrf}&status=red"
    )
    .unwrap();
    let raw = closed_within(&mut page, Duration::from_secs(10));
    assert!(raw.starts_with("HTTP/1.1 408 "), "{raw}");
    assert!(raw.contains("did not arrive"), "{raw}");
    assert_eq!(server.state().shared.read().size(), size);
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let server = Server::start_with(short());
    let mut stream = TcpStream::connect(server.addr).unwrap();
    // Two requests on one connection: it is kept alive while in use...
    for _ in 0..2 {
        stream
            .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let reply = one_reply(&mut stream);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_ne!(reply.header("connection"), Some("close"));
    }
    // ...and closed once it is left idle, with nothing more said.
    let raw = closed_within(&mut stream, Duration::from_secs(10));
    assert!(raw.is_empty(), "{raw}");
}

#[test]
fn the_connection_cap_holds_and_waiting_clients_are_served_when_a_connection_closes() {
    let cap = 4;
    let server = Server::start_with(Limits {
        connections: cap,
        // Longer than the test: only the test closes the stalled sockets.
        header_read: Duration::from_secs(60),
        ..short()
    });
    let mut stalled: Vec<TcpStream> = (0..cap)
        .map(|_| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream.write_all(b"GET /login HTTP/1.1\r\n").unwrap();
            stream
        })
        .collect();
    // Past the cap, connections wait in the backlog, unanswered.
    let mut waiting: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream
                .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            stream
        })
        .collect();
    waiting[0]
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = waiting[0].read(&mut byte);
    assert!(
        early
            .as_ref()
            .is_err_and(|e| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a connection past the cap was served (or closed): {early:?}"
    );
    // Two stalled clients leave; every waiting client is then served in turn.
    stalled.truncate(cap - 2);
    for stream in &mut waiting {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let reply = read_reply(stream);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    assert_eq!(server.send("GET", "/login", &[], b"").status, 200);
    drop(stalled);
}

#[test]
fn an_early_refusal_closes_the_connection_so_a_request_in_its_body_is_never_served() {
    let server = Server::start_with(Limits {
        // The rule seen here is the close, not a timeout.
        header_read: Duration::from_secs(60),
        ..short()
    });
    let auth = server.bearer(Role::Manager);
    let hidden = format!("GET /api/v1/plans HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n");
    let (cookie, csrf) = server.session(Role::Manager);
    let form = format!("csrf={csrf}&status=red&");
    let cases = [
        // A post another site's page made: 403 before the body is read.
        (
            403,
            format!(
                "POST /plans/{PLAN}/actions/1.1/status HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nSec-Fetch-Site: cross-site\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}{hidden}",
                form.len() + hidden.len()
            ),
        ),
        // A body declared over the limit: 413 before it is read. The client sends a
        // request at once instead of the body it promised.
        (
            413,
            format!(
                "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n{hidden}",
                progress_path()
            ),
        ),
        // No token: 401 before the body is read.
        (
            401,
            format!(
                "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{hidden}",
                progress_path(),
                hidden.len()
            ),
        ),
    ];
    for (status, request) in cases {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let raw = closed_within(&mut stream, Duration::from_secs(10));
        assert_eq!(answers(&raw), 1, "the hidden request was served: {raw}");
        let reply = read_reply(&mut raw.as_bytes());
        assert_eq!(reply.status, status, "{raw}");
        assert_eq!(reply.header("connection"), Some("close"), "{raw}");
    }
    // An accepted request keeps its connection: the rule is the refusal's.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "GET /api/v1/plans HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n"
    )
    .unwrap();
    let reply = one_reply(&mut stream);
    assert_eq!(reply.status, 200);
    assert_ne!(reply.header("connection"), Some("close"));
}

/// The real binary with the real limits: a stop asked for with a half-sent header, a
/// stalled body and an idle connection open ends within 10 s, and every change the
/// service acknowledged before it is in the ledger afterwards.
#[test]
fn sigterm_with_stalled_clients_exits_within_ten_seconds_and_keeps_every_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assure::demo::run(&data).unwrap();
    let cli = |args: &[&str], stdin: &str| {
        let mut child = crate::support::assure(&data, "connections.tester")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "assure {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    cli(
        &["user", "add", "writer", "--role", "manager"],
        &format!("{PASSWORD}\n"),
    );
    let token = cli(&["token", "new", "writer"], "").trim().to_owned();
    let mut service = crate::support::assure(&data, "connections.tester")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = service.stdout.take().unwrap();
    let addr = serving_address(&mut stdout);

    // The misbehaving clients: a half-sent header, a stalled body, an idle connection.
    let mut half_header = TcpStream::connect(addr).unwrap();
    half_header
        .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut stalled_body = TcpStream::connect(addr).unwrap();
    write!(
        stalled_body,
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"note\": ",
        progress_path()
    )
    .unwrap();
    let _idle = TcpStream::connect(addr).unwrap();

    // An API writer appends until the service goes; the stop is asked for once some
    // appends are acknowledged.
    let (acked_tx, acked_rx) = std::sync::mpsc::channel::<(u64, String)>();
    let writer = std::thread::spawn(move || {
        for n in 0.. {
            let note = format!("before the stop, note {n}");
            let body = json!({ "note": note }).to_string();
            let Ok(mut stream) = TcpStream::connect(addr) else {
                break;
            };
            let request = format!(
                "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                progress_path(),
                body.len()
            );
            if stream.write_all(request.as_bytes()).is_err() {
                break;
            }
            let mut raw = Vec::new();
            let _ = stream.read_to_end(&mut raw);
            let text = String::from_utf8_lossy(&raw);
            let Some(body) = text.strip_prefix("HTTP/1.1 201 ") else {
                break;
            };
            let json: Value = serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap()).unwrap();
            let seq = json["events"][0]["seq"].as_u64().unwrap();
            if acked_tx.send((seq, note)).is_err() {
                break;
            }
        }
    });
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    while acknowledged.len() < 5 {
        let ack = acked_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("no append acknowledged within 30 s");
        acknowledged.push(ack);
    }

    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The listener closes at once: new connections are refused while the service
    // lets what is in flight finish.
    loop {
        match TcpStream::connect(addr) {
            Err(_) => break,
            Ok(stream) => drop(stream),
        }
        assert!(
            service.try_wait().unwrap().is_none(),
            "the service accepted connections until it exited"
        );
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "the service still accepts connections 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let exit = loop {
        if let Some(exit) = service.try_wait().unwrap() {
            break exit;
        }
        // The rule is 10 s; a second more allows for a loaded test machine.
        assert!(
            signalled.elapsed() < Duration::from_secs(11),
            "the service has not exited {:?} after SIGTERM",
            signalled.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = signalled.elapsed();
    writer.join().unwrap();
    acknowledged.extend(acked_rx.try_iter());
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    let mut err = String::new();
    service
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(exit.success(), "{exit:?}\n{out}\n{err}");
    assert!(
        out.contains("every acknowledged change is on disk"),
        "{out}"
    );
    // The stalled body was still open at the deadline: the cut is what ended it.
    assert!(err.contains("still open"), "{err}");
    println!("SIGTERM with stalled clients: exited in {took:?}");

    // The stalled clients were closed, not left hanging.
    for stream in [&mut half_header, &mut stalled_body] {
        let raw = closed_within(stream, Duration::from_secs(5));
        assert!(!raw.contains(" 201 "), "{raw}");
    }
    let history: Value = serde_json::from_str(&cli(&["history", "--json"], "")).unwrap();
    let events = history.as_array().unwrap();
    for (seq, note) in &acknowledged {
        let event = events
            .iter()
            .find(|e| e["seq"] == *seq)
            .unwrap_or_else(|| panic!("acknowledged event {seq} is missing"));
        assert!(
            event["summary"].as_str().unwrap().contains(note.as_str()),
            "{event}"
        );
    }
    cli(&["verify"], "");
}

/// The address `assure serve` prints on its first line of standard output.
pub(crate) fn serving_address(stdout: &mut impl std::io::Read) -> SocketAddr {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        if stdout.read(&mut byte).unwrap() == 0 {
            panic!(
                "the service ended before saying where it serves: {}",
                String::from_utf8_lossy(&line)
            );
        }
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).unwrap();
    let at = line.find("http://").unwrap_or_else(|| panic!("{line}")) + "http://".len();
    line[at..]
        .split('/')
        .next()
        .unwrap_or_default()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}
