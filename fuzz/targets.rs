//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (cargo-fuzz,
//! libFuzzer) and `tests/it/fuzz_inputs.rs` (proptest, in the normal `cargo test`).
//! Each takes arbitrary bytes and must never panic: bad input is an `Err`.
//! Properties beyond "no panic" are asserted where they are cheap: what parses
//! prints back to something that parses to the same value.

#![allow(dead_code)]

use ledger::bundle::{verify_bundle, CHECKPOINT_FILE, EVENTS_FILE, KEYS_FILE};
use ledger::checkpoint::{SignedCheckpoint, TlogProof};
use ledger::note::{Note, SigningKey, VerifierKey};
use projections::DomainEvent;

/// Every payload kind the domain knows, the ledger's redaction, and one nobody knows.
pub fn kinds() -> Vec<&'static str> {
    let mut kinds = DomainEvent::KINDS.to_vec();
    kinds.extend(["ledger.redacted", "no.such.kind"]);
    kinds
}

/// The plan importer, for every kind of file it reads (the content says which).
pub fn plan_import(data: &[u8]) {
    let options = assure::import::ImportOptions::default();
    if let Ok(plan) = assure::import::read_plan("fuzz", data, &options) {
        // A plan that parsed has something in it to show.
        let _ = format!("{plan:?}");
    }
}

/// Payload decoding by kind and schema, and the store's record, chunk and head
/// decoders. Byte 0 picks the kind, byte 1 the schema (mostly 1 or 2), the rest is the
/// payload (or the stored bytes).
pub fn payload(data: &[u8]) {
    let kinds = kinds();
    let (kind, schema, rest) = match data {
        [k, s, rest @ ..] => (
            kinds[usize::from(*k) % kinds.len()],
            if *s < 250 {
                1 + u16::from(*s % 2)
            } else {
                u16::from(*s)
            },
            rest,
        ),
        _ => ("plan.created", 1, data),
    };
    if let Ok(event) = DomainEvent::decode(kind, schema, rest) {
        assert_eq!(event.kind(), kind);
        // A schema-1 payload of a kind that has a schema 2 is re-encoded as schema 2.
        let again =
            DomainEvent::decode(kind, event.schema(), &event.encode()).expect("re-encoded payload");
        assert_eq!(again, event);
    }
    let _ = ledger::codec::decode_head(data);
    if let Ok(header) = ledger::codec::decode_header(data) {
        assert_eq!(
            ledger::codec::decode_header(&ledger::codec::encode_header(&header)).ok(),
            Some(header)
        );
    }
    if let Ok(parts) = ledger::codec::split_record(data) {
        let _ = ledger::codec::decode_header(parts.leaf);
        let _ = parts.salted();
    }
    for record in ledger::codec::chunk_records(data).take(10_000) {
        if record.is_err() {
            break;
        }
    }
}

/// The signed-note, checkpoint and tlog-proof parsers.
pub fn checkpoint(data: &[u8]) {
    if let Ok(note) = Note::parse(data) {
        let text = note.to_string();
        assert_eq!(
            Note::parse(text.as_bytes()).as_ref().ok(),
            Some(&note),
            "note round trip"
        );
        let _ = note.verify(&[fuzz_key().verifier()]);
    }
    if let Ok(signed) = SignedCheckpoint::parse(data) {
        let text = signed.to_string();
        let again = SignedCheckpoint::parse(text.as_bytes()).expect("checkpoint round trip");
        assert_eq!(again.to_string(), text);
        let _ = signed.verify(&[fuzz_key().verifier()]);
    }
    if let Ok(proof) = TlogProof::parse(data) {
        let text = proof.to_string();
        let again = TlogProof::parse(text.as_bytes()).expect("tlog-proof round trip");
        assert_eq!(again.to_string(), text);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VerifierKey::parse(text);
    }
}

/// The key that signs the bundle seeds, so fuzzed bundles can get past the signature.
pub fn fuzz_key() -> SigningKey {
    SigningKey::from_bytes("fuzz.example/bundle", &[1; 32]).expect("a valid key name")
}

/// Splits a bundle input: `events.jsonl`, then this line, then the checkpoint.
pub const BUNDLE_SPLIT: &[u8] = b"\n==== checkpoint ====\n";

/// The bundle reader, on a temporary folder holding the fuzzed `events.jsonl` and
/// `checkpoint` (and empty `blobs/`).
pub fn bundle(data: &[u8]) {
    let (events, checkpoint) = match data
        .windows(BUNDLE_SPLIT.len())
        .position(|w| w == BUNDLE_SPLIT)
    {
        Some(at) => (&data[..at], &data[at + BUNDLE_SPLIT.len()..]),
        None => (data, &b""[..]),
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join(EVENTS_FILE), events).expect("write events");
    std::fs::write(dir.path().join(CHECKPOINT_FILE), checkpoint).expect("write checkpoint");
    std::fs::create_dir(dir.path().join("blobs")).expect("blobs folder");
    write_keys(dir.path());
    let report = verify_bundle(dir.path(), &[fuzz_key().verifier()]);
    assert!(
        report.ok || report.problem.is_some(),
        "a failed check names its problem"
    );
}

/// The informational `keys` file of a bundle signed by [`fuzz_key`].
pub fn write_keys(dir: &std::path::Path) {
    let text = fuzz_key().verifier().to_vkey_string() + "\n";
    std::fs::write(dir.join(KEYS_FILE), text).expect("write keys");
}

/// The key of the log whose checkpoints the witness seeds carry.
pub fn fuzz_log_key() -> SigningKey {
    SigningKey::from_bytes("fuzz.example/log", &[2; 32]).expect("a valid key name")
}

/// A witness's `add-checkpoint` (C2SP tlog-witness): the request body is outside
/// input. Whatever it says, the witness answers with a cosignature or a refusal with
/// the spec's status, and co-signs only what verifies with the log's key.
pub fn witness(data: &[u8]) {
    use ledger::witness::{add_checkpoint, Witnessed};
    let witness = SigningKey::from_bytes("fuzz.example/witness", &[3; 32]).expect("key");
    let mut seen = Witnessed::default();
    match add_checkpoint(
        &mut seen,
        &[fuzz_log_key().verifier()],
        &witness,
        data,
        1_764_000_000,
    ) {
        Ok(line) => {
            assert!(line.starts_with("— fuzz.example/witness "), "{line}");
            // Co-signed: the same request again is refused, as the spec says (409).
            let again = add_checkpoint(&mut seen, &[fuzz_log_key().verifier()], &witness, data, 1);
            assert!(again.is_err_and(|r| r.status == 409));
        }
        Err(refused) => assert!(
            matches!(refused.status, 400 | 403 | 404 | 409 | 422),
            "status {}",
            refused.status
        ),
    }
}

/// What people type: dates, time queries, statuses, action references, evidence
/// names, and the tile paths a client asks the service for. Each line of the input
/// goes to every parser; none may panic.
pub fn inputs(data: &[u8]) {
    use assure::app::input;
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        let _ = input::effective_day(Some(line), "--effective");
        let _ = input::optional_date(Some(line), "--due");
        let _ = input::parse_due(line);
        let _ = input::time_query(Some(line), None, ["--as-of", "--known-at"]);
        let _ = input::time_query(None, Some(line), ["--as-of", "--known-at"]);
        let _ = input::status(line);
        let _ = input::action_refs(line.split(','), "--refs");
        let _ = input::evidence(line, line.as_bytes());
        let _ = input::display_name(line);
        if let Some((tile, _)) = ledger::proof::tiles::Tile::parse(line) {
            // A tile that parses names itself by the path it came from, or a
            // canonical spelling of it that parses back the same.
            let path = tile.path();
            assert_eq!(
                ledger::proof::tiles::Tile::parse(&path).map(|(t, _)| t),
                Some(tile)
            );
        }
    }
}

/// The JSON API's request bodies, through the real service on a demo ledger: byte 0
/// picks the route, the rest is the body. Whatever the body, the answer is a 2xx or a
/// 4xx that says why (never a 500 or a dropped connection); 503 only if the disk is
/// full. The service is started once per process.
pub fn api(data: &[u8]) {
    const ROUTES: [&str; 11] = [
        "/api/v1/plans/mcr-jtai-2023/import?file=plan.csv",
        "/api/v1/plans/mcr-jtai-2023/actions/1.1",
        "/api/v1/plans/mcr-jtai-2023/actions/1.1/status",
        "/api/v1/plans/mcr-jtai-2023/actions/1.1/progress",
        "/api/v1/plans/mcr-jtai-2023/actions/1.2/carry-over",
        "/api/v1/challenges",
        "/api/v1/challenges/C-0001",
        "/api/v1/challenges/C-0001/respond",
        "/api/v1/challenges/C-0001/escalate",
        "/api/v1/challenges/C-0001/close",
        "/api/v1/challenges/C-0001/due",
    ];
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (addr, token) = api_service();
    let path = ROUTES[usize::from(pick) % ROUTES.len()];
    let status = api_post(*addr, path, token, body);
    assert!(
        (200..300).contains(&status) || (400..500).contains(&status),
        "{path}: HTTP {status} for a body of {} bytes",
        body.len()
    );
}

fn api_service() -> &'static (std::net::SocketAddr, String) {
    use std::sync::OnceLock;
    static SERVICE: OnceLock<(std::net::SocketAddr, String)> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let dir = Box::leak(Box::new(tempfile::tempdir().expect("a temporary folder")));
        let data = dir.path().join("data");
        assure::demo::run(&data).expect("the demo ledger");
        let mut accounts = assure::web::accounts::Accounts::load(&data).expect("accounts");
        accounts
            .add_user(
                "fuzz",
                assure::web::accounts::Role::Chair,
                None,
                "fuzz password long enough",
            )
            .expect("user");
        let (token, _) = accounts
            .new_token("fuzz", None, None, chrono::Utc::now())
            .expect("token");
        accounts.save(&data).expect("save accounts");
        let (state, writer) = assure::web::open_state(&data, false).expect("open");
        std::mem::forget(writer);
        let (router, _) = assure::web::routes(state);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                assure::web::serve_on(
                    listener,
                    router,
                    assure::web::Limits::default(),
                    std::future::pending(),
                )
                .await;
            });
        });
        (addr, token)
    })
}

/// One POST on its own connection; the status, or 0 if the connection failed.
fn api_post(addr: std::net::SocketAddr, path: &str, token: &str, body: &[u8]) -> u16 {
    use std::io::{Read as _, Write as _};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return 0;
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    if stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .is_err()
    {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    std::str::from_utf8(&answer[..answer.len().min(64)])
        .ok()
        .and_then(|t| t.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
