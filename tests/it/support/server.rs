//! The test service: a running server with one account (and token) per role, on a
//! demo ledger or a given data folder, and a small HTTP client. Shared by
//! the `web` and `hostile` suites and by `tests/web_storage.rs` (a process of its
//! own, which includes this file by path).

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};

use assure::web::accounts::{Accounts, Role};
use assure::web::{open_state, routes, serve_on, AppState, Limits};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";
pub const PLAN: &str = "mcr-jtai-2023";

/// A running service with one account (and token) per role.
pub struct Server {
    pub addr: SocketAddr,
    /// Taken when the service stops, so the writer thread (which ends when the last
    /// handle to the state goes) can be joined and the ledger's lock is free after.
    state: Option<AppState>,
    pub tokens: Vec<(Role, String)>,
    /// The chair's own signing key, kept "on the chair's computer".
    pub chair_key: ledger::note::SigningKey,
    pub specs: Vec<assure::web::RouteSpec>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's thread; it hands back the writer thread to join.
    thread: Option<std::thread::JoinHandle<std::thread::JoinHandle<()>>>,
    dir: Option<tempfile::TempDir>,
}

impl Server {
    /// A service on a new demo ledger (seeded from the Manchester fixture).
    pub fn start() -> Server {
        Server::start_with(Limits::default())
    }

    /// A service on a new demo ledger, with its connections under `limits`.
    pub fn start_with(limits: Limits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assure::demo::run(&data).unwrap();
        let mut server = Server::on_with(&data, limits);
        server.dir = Some(dir);
        server
    }

    /// A service on the ledger in `data`.
    pub fn on(data: &std::path::Path) -> Server {
        Server::on_with(data, Limits::default())
    }

    /// A service on the ledger in `data`, served by `serve_on` as `assure serve` is.
    pub fn on_with(data: &std::path::Path, limits: Limits) -> Server {
        let mut accounts = Accounts::default();
        let mut tokens = Vec::new();
        for role in Role::ALL {
            let agency = (role == Role::Partner).then(|| "GMP".to_owned());
            accounts
                .add_user(role.as_str(), role, agency, PASSWORD)
                .unwrap();
            let (token, _) = accounts
                .new_token(role.as_str(), None, None, chrono::Utc::now())
                .unwrap();
            tokens.push((role, token));
        }
        let chair_key = ledger::note::SigningKey::generate("board.example/chair").unwrap();
        accounts
            .set_vkey("chair", &chair_key.verifier().to_vkey_string())
            .unwrap();
        accounts.save(data).unwrap();
        let (state, writer) = open_state(data, false).unwrap();
        let (router, specs) = routes(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve_on(listener, router, limits, async {
                    let _ = stopped.await;
                })
                .await;
            });
            drop(runtime);
            writer
        });
        Server {
            addr,
            state: Some(state),
            tokens,
            chair_key,
            specs,
            stop: Some(stop),
            thread: Some(thread),
            dir: None,
        }
    }

    pub fn state(&self) -> &AppState {
        self.state.as_ref().unwrap()
    }

    pub fn bearer(&self, role: Role) -> String {
        format!("Bearer {}", self.token(role))
    }

    /// Imports `csv` as plan `plan` through the API, as a manager.
    pub fn import(&self, plan: &str, csv: &str) -> Reply {
        let auth = self.bearer(Role::Manager);
        self.send(
            "POST",
            &format!("/api/v1/plans/{plan}/import?title=Hostile"),
            &[("Authorization", &auth), ("Content-Type", "text/csv")],
            csv.as_bytes(),
        )
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }

    /// A fresh signed-in session for `role`: (cookie header, csrf token).
    pub fn session(&self, role: Role) -> (String, String) {
        let state = self.state();
        let principal = state.accounts().principal(role.as_str()).unwrap();
        let id = state.sessions.create(principal, None).unwrap();
        let csrf = state.sessions.get(&id).unwrap().csrf;
        (format!("assure_session={id}"), csrf)
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        send(self.addr, method, path, headers, body)
    }

    pub fn api(&self, role: Role, method: &str, path: &str, body: Value) -> Reply {
        let auth = self.bearer(role);
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            &body,
        )
    }

    /// A page form post with the session's cookie and CSRF token.
    pub fn form(&self, role: Role, path: &str, fields: &[(&str, &str)]) -> Reply {
        let (cookie, csrf) = self.session(role);
        let mut body = format!("csrf={}", encode(&csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", encode(v)));
        }
        self.send(
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    }

    /// `reply` is a storage failure answered as such: 503, "nothing was recorded",
    /// no server paths, and the service still shows `size` events.
    pub fn assert_not_recorded(&self, reply: &Reply, size: u64) {
        assert_eq!(reply.status, 503, "{}", reply.body);
        let message = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains("nothing was recorded"), "{message}");
        assert!(
            !message.contains(self.state().data.to_str().unwrap()),
            "the answer names server paths: {message}"
        );
        assert_eq!(
            self.state().shared.read().size(),
            size,
            "a failed change is shown"
        );
    }

    pub fn page(&self, role: Role, path: &str) -> Reply {
        let (cookie, _) = self.session(role);
        self.send("GET", path, &[("Cookie", &cookie)], b"")
    }
}

impl Server {
    /// Stops the service (the writer joined, the ledger's lock free) and hands back
    /// the demo's folder, if it made one, so the test can open the data folder.
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        self.shut_down();
        self.dir.take()
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let writer = thread.join();
            self.state.take();
            if let Ok(writer) = writer {
                let _ = writer.join();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as sent, for answers that are not text.
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Refused by the guard: not signed in, or the role may not.
    pub fn denied(&self) -> bool {
        let wrong_password = self.body.contains("is not right");
        self.status == 403
            || (self.status == 401 && !wrong_password)
            || (self.status == 303
                && self
                    .header("location")
                    .is_some_and(|l| l.starts_with("/login?next=")))
    }
}

/// One HTTP/1.1 request on its own connection.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    read_reply(&mut stream)
}

/// The answer on a connection (or in bytes already read) up to its end.
pub fn read_reply(stream: &mut impl std::io::Read) -> Reply {
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        panic!(
            "no whole reply ({e}); read so far: {}",
            String::from_utf8_lossy(&raw)
        );
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let bytes = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or_else(Vec::new, |at| raw[at + 4..].to_vec());
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
        bytes,
    }
}
