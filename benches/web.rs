//! The web service under load, over real sockets: durable appends through the API
//! with 32 concurrent clients (group commit), and the plan page and the challenge log
//! (50,000 challenges, a page of 50) on the 1,000,000-event ledger, alone and with
//! 32 concurrent readers (their p50/p99 printed). Figures go in
//! `benches/README.md`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use assure::web::accounts::{Accounts, Role};
use assure::web::{open_state, routes, serve_on, AppState, Limits};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

mod common;

const CLIENTS: usize = 32;

struct Server {
    addr: SocketAddr,
    state: AppState,
}

/// Serves `data` on 127.0.0.1:0 in a runtime of its own (two worker threads, as many
/// as the machine has cores) and makes a manager account with a token.
fn start(data: &Path) -> (Server, String) {
    let mut accounts = Accounts::load(data).expect("accounts");
    if accounts.find("bench").is_none() {
        accounts
            .add_user("bench", Role::Manager, None, "bench password long enough")
            .expect("user");
    }
    let (token, _) = accounts
        .new_token("bench", None, None, chrono::Utc::now())
        .expect("token");
    accounts.save(data).expect("save accounts");
    let (state, _writer) = open_state(data, false).expect("open");
    let (router, _) = routes(state.clone());
    let addr = serve(router, 2);
    (Server { addr, state }, token)
}

/// Serves `router` on 127.0.0.1:0 in a runtime of its own with `workers` threads, as
/// `assure serve` serves (timeouts, connection cap); returns where.
fn serve(router: axum::Router, workers: usize) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            serve_on(listener, router, Limits::default(), std::future::pending()).await;
        });
    });
    addr
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    /// Sends a request and reads the whole reply; returns the status.
    fn request(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> u16 {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n{headers}\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes()).expect("write");
        self.writer.write_all(body).expect("write body");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().expect("length");
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("body");
        status
    }
}

/// One keep-alive HTTP/1.1 connection, async.
struct AsyncClient {
    stream: tokio::io::BufStream<tokio::net::TcpStream>,
}

impl AsyncClient {
    async fn connect(addr: SocketAddr) -> AsyncClient {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        AsyncClient {
            stream: tokio::io::BufStream::new(stream),
        }
    }

    async fn request(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> u16 {
        use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n{headers}\r\n",
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await.expect("write");
        self.stream.write_all(body).await.expect("write body");
        self.stream.flush().await.expect("flush");
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().expect("length");
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.expect("body");
        status
    }
}

fn fresh_demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp");
    let data = dir.path().join("data");
    assure::demo::run(&data).expect("demo");
    (dir, data)
}

fn api_appends(c: &mut Criterion) {
    let (_dir, data) = fresh_demo();
    let (server, token) = start(&data);
    let refs: Vec<String> = {
        let live = server.state.shared.read();
        let plan = live.world.world().plan("mcr-jtai-2023").expect("plan");
        plan.actions
            .values()
            .filter(|a| a.carried_to.is_none())
            .map(|a| a.reference.clone())
            .collect()
    };
    let auth = format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n");
    let mut group = c.benchmark_group("api");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(CLIENTS as u64));
    // The load generator: 32 keep-alive connections driven by one thread (as wrk
    // does), so the clients cost the two cores as little as they can.
    let load = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    group.bench_function(
        BenchmarkId::new("durable appends, 32 clients", CLIENTS),
        |b| {
            b.iter_custom(|rounds| {
                load.block_on(async {
                    let mut connections = Vec::new();
                    for _ in 0..CLIENTS {
                        connections.push(AsyncClient::connect(server.addr).await);
                    }
                    let start = Instant::now();
                    let tasks: Vec<_> = connections
                        .into_iter()
                        .enumerate()
                        .map(|(client, mut conn)| {
                            let auth = auth.clone();
                            let refs = refs.clone();
                            tokio::spawn(async move {
                                for i in 0..rounds as usize {
                                    let reference = &refs[(client + i) % refs.len()];
                                    let body =
                                        format!("{{\"note\":\"client {client} round {i}\"}}");
                                    let path = format!(
                                        "/api/v1/plans/mcr-jtai-2023/actions/{reference}/progress"
                                    );
                                    assert_eq!(
                                        conn.request("POST", &path, &auth, body.as_bytes()).await,
                                        201
                                    );
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("client");
                    }
                    start.elapsed()
                })
            })
        },
    );
    group.finish();
    let size = server.state.shared.read().size();
    let report = server.state.shared.ledger().verify();
    assert!(report.ok && report.size == size, "{report:?}");
    eprintln!("after the API benchmark: {size} events, verify ok");
}

/// This process's resident memory, from /proc (0 where there is none).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn plan_page(c: &mut Criterion) {
    // Building and loading the 1M ledger takes a while: skip it when a filter given
    // on the command line leaves this benchmark out.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty()
        && !filters
            .iter()
            .any(|f| f.contains("page") || f.contains("1M"))
    {
        return;
    }
    let ledger = common::synthetic_ledger();
    let data = ledger.dir().to_path_buf();
    drop(ledger);
    let started = Instant::now();
    let (server, _token) = start(&data);
    eprintln!(
        "service loaded {} events in {:.1?}; resident memory {:.0} MiB",
        server.state.shared.read().size(),
        started.elapsed(),
        rss_mib()
    );
    let principal = server
        .state
        .accounts()
        .principal("bench")
        .expect("bench user");
    let session = server
        .state
        .sessions
        .create(principal, None)
        .expect("session");
    let cookie = format!("Cookie: assure_session={session}\r\n");
    let mut group = c.benchmark_group("1M-ledger page");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    for (name, path) in [
        ("plan now", "/plans/plan-042"),
        ("plan as it stood", "/plans/plan-042?as_of=2022-06-01"),
    ] {
        let mut conn = Client::connect(server.addr);
        group.bench_function(name, |b| {
            b.iter(|| assert_eq!(conn.request("GET", path, &cookie, b""), 200))
        });
    }
    // Every snapshot of the plan, built by one past date after all its events.
    let before = rss_mib();
    let mut conn = Client::connect(server.addr);
    assert_eq!(
        conn.request("GET", "/plans/plan-042?as_of=2039-12-31", &cookie, b""),
        200
    );
    eprintln!(
        "snapshots of one plan (~10,000 events, 100 actions): {:+.1} MiB resident",
        rss_mib() - before
    );
    let mut day = 0u64;
    group.bench_function("plan as it stood, a different date each time", |b| {
        b.iter(|| {
            day += 1;
            // A date never asked before (so never cached), after every event: the
            // whole plan is replayed each time.
            let date =
                chrono::NaiveDate::from_ymd_opt(2040, 1, 1).expect("date") + chrono::Days::new(day);
            let path = format!("/plans/plan-042?as_of={date}");
            assert_eq!(conn.request("GET", &path, &cookie, b""), 200)
        })
    });
    group.finish();
    // When the plan's events were recorded, to ask "as recorded at" moments in it.
    let (first, last) = {
        let live = server.state.shared.read();
        let slots = live.group_slots("plan/plan-042");
        let first = slots.iter().map(|s| s.recorded_at).min().expect("events");
        let last = slots.iter().map(|s| s.recorded_at).max().expect("events");
        (first, last)
    };
    // p50 / p99 with 32 readers at once, each on its own connection: the plan now,
    // one past date (a cached view after the first), a different date on every
    // request after all the plan's events, a different date on every request from
    // the plan's first day on (through its history, then after it), and a different
    // "as recorded at" moment on every request, spread over the plan's recording.
    // Where pages of the challenge log start: every 50th challenge raised.
    let challenge_cursors: Arc<Vec<u64>> = {
        let live = server.state.shared.read();
        let mut seqs: Vec<u64> = live
            .world
            .world()
            .challenges
            .values()
            .map(|c| c.raised.seq)
            .collect();
        seqs.sort_unstable();
        eprintln!("the challenge log holds {} challenges", seqs.len());
        Arc::new(seqs.into_iter().step_by(50).collect())
    };
    for path in [
        "/plans/plan-042",
        "/plans/plan-042?as_of=2022-06-01",
        "DISTINCT",
        "DISTINCT-HISTORY",
        "DISTINCT-KNOWN",
        "/challenges",
        "CHALLENGE-PAGES",
        "/challenges?open=1&overdue=1",
    ] {
        let per_client = 40;
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let barrier = barrier.clone();
                let cookie = cookie.clone();
                let addr = server.addr;
                let cursors = challenge_cursors.clone();
                std::thread::spawn(move || {
                    let mut conn = Client::connect(addr);
                    barrier.wait();
                    (0..per_client)
                        .map(|i| {
                            let nth = (client * per_client + i) as u64;
                            let url = if path == "DISTINCT" {
                                let day = chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
                                    .expect("date")
                                    + chrono::Days::new(nth);
                                format!("/plans/plan-042?as_of={day}")
                            } else if path == "DISTINCT-KNOWN" {
                                let at = first + (last - first) * nth as i64 / 1_280;
                                let at = chrono::DateTime::from_timestamp_micros(at)
                                    .expect("moment")
                                    .format("%Y-%m-%dT%H:%M:%S%.6fZ");
                                format!("/plans/plan-042?known_at={at}")
                            } else if path == "CHALLENGE-PAGES" {
                                // A different page of 50 each time, spread over the log.
                                let at = (nth as usize * 7_919) % cursors.len();
                                format!("/challenges?after={}", cursors[at])
                            } else if path == "DISTINCT-HISTORY" {
                                let day = chrono::NaiveDate::from_ymd_opt(2022, 1, 8)
                                    .expect("date")
                                    + chrono::Days::new(nth);
                                format!("/plans/plan-042?as_of={day}")
                            } else {
                                path.to_owned()
                            };
                            let start = Instant::now();
                            assert_eq!(conn.request("GET", &url, &cookie, b""), 200);
                            start.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut times: Vec<Duration> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("reader"))
            .collect();
        times.sort_unstable();
        eprintln!(
            "GET {} with {CLIENTS} concurrent readers, {} requests: p50 {:.1?}, p99 {:.1?}, max {:.1?}",
            match path {
                "DISTINCT" => "/plans/plan-042?as_of=(a date never asked before, each time, after every event)",
                "DISTINCT-HISTORY" => "/plans/plan-042?as_of=(a date never asked before, each time, from the plan's first day)",
                "DISTINCT-KNOWN" => "/plans/plan-042?known_at=(a moment never asked before, each time, while the plan was recorded)",
                "CHALLENGE-PAGES" => "/challenges?after=(a different page of 50 each time, all through the log)",
                _ => path,
            },
            times.len(),
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
}

/// A witness round trip on loopback, as `assure checkpoint` makes it: the request
/// with the consistency proof from the size the witness co-signed last, the
/// witness's check and fsynced record, its cosignature checked and kept on the
/// ledger's checkpoint. Each sample follows one more appended event and checkpoint
/// (not timed).
fn witness_round_trip(c: &mut Criterion) {
    use assure::app::witnessing;
    use ledger::note::{SigningKey, VerifierKey};
    let (dir, data) = fresh_demo();
    let vkey = std::fs::read_to_string(data.join("keys/ledger.vkey")).expect("vkey");
    let log = VerifierKey::parse(vkey.trim()).expect("log key");
    let witness = || SigningKey::from_bytes("bench.example/witness", &[7; 32]).expect("key");
    let state = dir.path().join("witnessed.json");
    let router =
        assure::web::witness::witness_routes(&state, witness(), vec![log]).expect("routes");
    let addr = serve(router, 1);
    let cosigner = witness().verifier().as_cosigner().to_vkey_string();
    witnessing::add(&data, &format!("http://{addr}"), &cosigner).expect("witness add");
    let key = assure::app::keys::ledger_key(&data, None).expect("ledger key");
    let mut ledger = ledger::Ledger::open(&data).expect("open");
    let mut group = c.benchmark_group("witness");
    group.sample_size(100);
    let mut n = 0;
    group.bench_function(
        "round trip on loopback (checkpoint + consistency proof + cosignature, fsynced, kept)",
        |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    ledger.append(vec![common::activity(n)]).expect("append");
                    ledger.make_checkpoint(&key).expect("checkpoint");
                    let started = Instant::now();
                    let asked =
                        witnessing::ask_all(&data, &mut |step| step(&mut ledger)).expect("ask");
                    spent += started.elapsed();
                    assert!(asked.iter().all(|a| a.outcome.is_ok()), "{asked:?}");
                }
                spent
            })
        },
    );
    group.finish();
}

criterion_group!(benches, api_appends, plan_page, witness_round_trip);
criterion_main!(benches);
