//! A witness (C2SP tlog-witness) on the command line: it co-signs a ledger's
//! checkpoints while the history grows, the ledger keeps the witness's
//! cosignature, and a second copy of the ledger that went another way — the same
//! key and origin, a forked history — is refused.

use std::path::Path;

use crate::support::{ok, Run};

const PLAN: &str = "mcr-jtai-2023";

fn assure(data: &Path, args: &[&str]) -> Run {
    crate::support::run(data, "witness.tester", args)
}

/// A new signing key for the witness at `out`.
fn new_witness_key(data: &Path, out: &Path) -> std::path::PathBuf {
    ok(
        assure(
            data,
            &[
                "key",
                "new",
                "--name",
                "inspectorate.example/witness",
                "--out",
                out.to_str().unwrap(),
            ],
        ),
        "the witness's key",
    );
    out.to_path_buf()
}

/// The size of a ledger's latest checkpoint.
fn latest_size(data: &Path) -> u64 {
    let listed = ok(assure(data, &["checkpoints"]), "checkpoints").stdout;
    let last = listed.lines().last().unwrap().to_owned();
    last.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_witness_cosigns_a_growing_ledger_and_refuses_a_forked_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let data = path("data");
    assure::demo::run(&data).unwrap();
    let vkey = std::fs::read_to_string(data.join("keys/ledger.vkey")).unwrap();
    let vkey = vkey.trim();
    let witness_key = new_witness_key(&data, &path("witness.key"));
    let witness_vkey = ok(
        assure(
            &data,
            &[
                "key",
                "show",
                "--key",
                witness_key.to_str().unwrap(),
                "--cosigner",
            ],
        ),
        "the witness's cosigner key",
    )
    .stdout
    .trim()
    .to_owned();
    let state = path("witnessed.json");
    let witness = |request: &str| {
        let file = path("request");
        std::fs::write(&file, request).unwrap();
        assure(
            &data,
            &[
                "witness",
                "add-checkpoint",
                "--state",
                state.to_str().unwrap(),
                "--key",
                witness_key.to_str().unwrap(),
                "--log",
                vkey,
                "--in",
                file.to_str().unwrap(),
            ],
        )
    };

    // First sight.
    let first = latest_size(&data);
    let request = ok(
        assure(&data, &["witness", "request", "--old", "0"]),
        "request",
    )
    .stdout;
    let line = ok(witness(&request), "the first cosignature").stdout;
    assert!(
        line.starts_with("— inspectorate.example/witness "),
        "{line}"
    );
    // The ledger keeps it: the checkpoint with the witness's line.
    let checkpoint = request.split_once("\n\n").unwrap().1;
    let cosigned = path("cosigned");
    std::fs::write(&cosigned, format!("{checkpoint}{line}")).unwrap();
    ok(
        assure(
            &data,
            &[
                "witness",
                "attach",
                cosigned.to_str().unwrap(),
                "--witness",
                &witness_vkey,
            ],
        ),
        "attach",
    );
    let listed = ok(assure(&data, &["checkpoints"]), "checkpoints").stdout;
    assert!(listed.contains("inspectorate.example/witness"), "{listed}");
    // The report says, in words, that the witness co-signed.
    let report = path("report.html");
    ok(
        assure(&data, &["report", PLAN, "--out", report.to_str().unwrap()]),
        "report",
    );
    let words = std::fs::read_to_string(&report).unwrap();
    assert!(
        words.contains("Witness inspectorate.example/witness co-signed the record as it stood on"),
        "{words}"
    );
    // An export names the witness's key among those that signed its checkpoint.
    let witnessed_bundle = path("witnessed-bundle");
    ok(
        assure(
            &data,
            &["export", "--out", witnessed_bundle.to_str().unwrap()],
        ),
        "export the witnessed checkpoint",
    );
    let keys = std::fs::read_to_string(witnessed_bundle.join("keys")).unwrap();
    assert!(keys.lines().any(|k| k == witness_vkey), "{keys}");
    let verified = ok(
        assure(
            &data,
            &[
                "verify",
                "--bundle",
                witnessed_bundle.to_str().unwrap(),
                "--trust",
                &witness_vkey,
            ],
        ),
        "the bundle verifies trusting only the witness",
    );
    // Each cosigner with the time it vouched for the head.
    let today = chrono::Utc::now().format("%-d %B %Y").to_string();
    assert!(
        verified.stdout.contains(&format!(
            "inspectorate.example/witness, co-signed on {today} at "
        )),
        "{}",
        verified.stdout
    );

    // A copy of the ledger as it stands, kept by the operator.
    let bundle = path("bundle");
    ok(
        assure(&data, &["export", "--out", bundle.to_str().unwrap()]),
        "export",
    );
    let copy = path("copy");
    ok(
        assure(
            &copy,
            &[
                "restore",
                "--bundle",
                bundle.to_str().unwrap(),
                "--trust",
                vkey,
                "--key",
                data.join("keys/ledger.key").to_str().unwrap(),
            ],
        ),
        "restore a copy",
    );

    // The ledger grows; the witness co-signs the next checkpoint from the first.
    ok(
        assure(
            &data,
            &[
                "status",
                PLAN,
                "1.2",
                "green",
                "--note",
                "Reported to the board",
            ],
        ),
        "a change",
    );
    ok(assure(&data, &["checkpoint"]), "a new checkpoint");
    let grown = latest_size(&data);
    assert!(grown > first);
    let request = ok(
        assure(&data, &["witness", "request", "--old", &first.to_string()]),
        "request",
    )
    .stdout;
    ok(witness(&request), "the witness co-signs the grown ledger");
    // Asked again from the old size: it says which size it holds.
    let stale = witness(&request);
    assert_eq!(stale.code, 2);
    assert!(
        stale.stderr.contains("HTTP 409") && stale.stderr.contains(&grown.to_string()),
        "{}",
        stale.stderr
    );

    // The copy goes another way: the same key and origin, another change, a
    // checkpoint of the same size — shown to the witness, it is refused.
    ok(
        assure(
            &copy,
            &["status", PLAN, "1.2", "red", "--note", "Not reported"],
        ),
        "another change in the copy",
    );
    ok(assure(&copy, &["checkpoint"]), "a checkpoint of the copy");
    assert_eq!(latest_size(&copy), grown);
    let forked = ok(
        assure(&copy, &["witness", "request", "--old", &grown.to_string()]),
        "the copy's request",
    )
    .stdout;
    let refused = witness(&forked);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(refused.stderr.contains("HTTP 422"), "{}", refused.stderr);
    // The record still holds the real ledger's checkpoint.
    let record = std::fs::read_to_string(&state).unwrap();
    assert!(record.contains(&grown.to_string()), "{record}");
}

/// `assure witness serve`: the same over HTTP, with the spec's statuses.
#[test]
fn the_witness_answers_over_http_as_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let data = path("data");
    assure::demo::run(&data).unwrap();
    let vkey = std::fs::read_to_string(data.join("keys/ledger.vkey")).unwrap();
    let witness_key = new_witness_key(&data, &path("witness.key"));
    let state = path("witnessed.json");
    let mut service = crate::support::assure(&data, "witness.tester")
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--key"])
        .arg(&witness_key)
        .arg("--state")
        .arg(&state)
        .args(["--log", vkey.trim()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = crate::connections::serving_address(service.stdout.as_mut().unwrap());
    let request = ok(
        assure(&data, &["witness", "request", "--old", "0"]),
        "request",
    )
    .stdout;
    let post = |body: &str| {
        crate::support::server::send(addr, "POST", "/add-checkpoint", &[], body.as_bytes())
    };
    let first = post(&request);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.starts_with("— inspectorate.example/witness "),
        "{}",
        first.body
    );
    assert!(state.is_file(), "the record is kept before the answer");
    let again = post(&request);
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.header("content-type"), Some("text/x.tlog.size"));
    let size = request
        .split_once("\n\n")
        .unwrap()
        .1
        .lines()
        .nth(1)
        .unwrap();
    assert_eq!(again.body, format!("{size}\n"));
    let garbage = post("not a request");
    assert_eq!(garbage.status, 400);
    let _ = std::process::Command::new("kill")
        .arg(service.id().to_string())
        .status();
    let _ = service.wait();
}

/// The log's side: `witness add` once, then each `checkpoint` is sent to the witness
/// (run from a folder made by `witness init`) with the consistency proof from the
/// size it co-signed last, and its cosignature kept. A forked copy of the ledger and
/// an unreachable witness get no cosignature, and the checkpoint stands without it.
#[test]
fn each_checkpoint_is_sent_to_the_witnesses_and_their_cosignatures_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let data = path("data");
    assure::demo::run(&data).unwrap();
    let vkey = std::fs::read_to_string(data.join("keys/ledger.vkey")).unwrap();
    let folder = path("witness");
    let made = ok(
        assure(
            &data,
            &[
                "witness",
                "init",
                "--dir",
                folder.to_str().unwrap(),
                "--name",
                "inspectorate.example/witness",
                "--log",
                vkey.trim(),
            ],
        ),
        "witness init",
    );
    let witness_vkey = made.stdout.trim().to_owned();
    let mut service = crate::support::assure(&data, "witness.tester")
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(&folder)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = crate::connections::serving_address(service.stdout.as_mut().unwrap());
    let url = format!("http://{addr}/");
    assure(&data, &["witness", "add", &url, "not a key"]).fails_with(2, "not a verifier key");
    assure(&data, &["witness", "add", &url, vkey.trim()]).fails_with(2, "not a witness");
    ok(
        assure(&data, &["witness", "add", &url, &witness_vkey]),
        "witness add",
    );
    assure(&data, &["witness", "add", &url, &witness_vkey]).fails_with(2, "already configured");

    let signed = ok(assure(&data, &["checkpoint"]), "the first checkpoint");
    assert!(
        signed
            .stderr
            .contains("Witness inspectorate.example/witness co-signed the checkpoint of size"),
        "{}",
        signed.stderr
    );
    let first = latest_size(&data);
    let fork = path("fork");
    copy_folder(&data, &fork);

    let status = status_of_1_1("green", "Agreed");
    ok(assure(&data, &status), "a change");
    let signed = ok(assure(&data, &["checkpoint"]), "the next checkpoint");
    assert!(
        signed.stderr.contains(&format!("size {}", first + 1)),
        "{}",
        signed.stderr
    );
    let listed = ok(assure(&data, &["witness", "list"]), "witness list").stdout;
    assert!(listed.contains(&(first + 1).to_string()), "{listed}");
    let held = ok(assure(&data, &["checkpoints"]), "checkpoints").stdout;
    assert!(
        held.lines()
            .last()
            .unwrap()
            .contains("inspectorate.example/witness"),
        "{held}"
    );

    // The same ledger gone another way: the witness has co-signed the other history
    // at this size, so it refuses; the fork's checkpoint stands, unwitnessed.
    let other = status_of_1_1("red", "Stalled");
    ok(assure(&fork, &other), "the fork's change");
    let refused = ok(assure(&fork, &["checkpoint"]), "the fork's checkpoint");
    assert!(
        refused.stderr.contains("did not co-sign"),
        "{}",
        refused.stderr
    );
    let held = ok(assure(&fork, &["checkpoints"]), "checkpoints").stdout;
    assert!(
        !held
            .lines()
            .last()
            .unwrap()
            .contains("inspectorate.example/witness"),
        "{held}"
    );

    // An export that makes its own checkpoint sends it to the witness too, and the
    // bundle carries the cosignature and lists the witness's key among its signers.
    ok(
        assure(
            &data,
            &[
                "status",
                PLAN,
                "1.3",
                "green",
                "--note",
                "Done",
                "--effective",
                "2024-03-01",
            ],
        ),
        "a change before the export",
    );
    let bundle = path("bundle");
    let exported = ok(
        assure(&data, &["export", "--out", bundle.to_str().unwrap()]),
        "export",
    );
    assert!(
        exported.stderr.contains(&format!(
            "Witness inspectorate.example/witness co-signed the checkpoint of size {}",
            first + 2
        )),
        "{}",
        exported.stderr
    );
    let checkpoint = std::fs::read_to_string(bundle.join("checkpoint")).unwrap();
    assert!(
        checkpoint.contains("— inspectorate.example/witness "),
        "{checkpoint}"
    );
    let keys = std::fs::read_to_string(bundle.join("keys")).unwrap();
    assert!(keys.contains(&witness_vkey), "{keys}");
    let verified = ok(
        assure(
            &data,
            &[
                "verify",
                "--bundle",
                bundle.to_str().unwrap(),
                "--trust",
                vkey.trim(),
                "--trust",
                &witness_vkey,
            ],
        ),
        "verify the bundle",
    );
    assert!(
        verified.stdout.contains("inspectorate.example/witness"),
        "{}",
        verified.stdout
    );

    let _ = std::process::Command::new("kill")
        .arg(service.id().to_string())
        .status();
    let _ = service.wait();
    // A witness that cannot be reached is reported, and the checkpoint still signed.
    ok(
        assure(
            &data,
            &[
                "status",
                PLAN,
                "1.2",
                "amber",
                "--note",
                "n",
                "--effective",
                "2024-03-02",
            ],
        ),
        "change",
    );
    let unreached = ok(assure(&data, &["checkpoint"]), "checkpoint, witness down");
    assert!(
        unreached.stderr.contains("could not reach"),
        "{}",
        unreached.stderr
    );
    assert_eq!(latest_size(&data), first + 3);
    ok(
        assure(&data, &["witness", "remove", &url]),
        "witness remove",
    );
    let signed = ok(assure(&data, &["checkpoint"]), "checkpoint, no witness");
    assert!(!signed.stderr.contains("Witness"), "{}", signed.stderr);
}

fn copy_folder(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// `status` for action 1.1 of the demo plan, effective 1 March 2024.
fn status_of_1_1<'a>(rag: &'a str, note: &'a str) -> [&'a str; 8] {
    [
        "status",
        PLAN,
        "1.1",
        rag,
        "--note",
        note,
        "--effective",
        "2024-03-01",
    ]
}
