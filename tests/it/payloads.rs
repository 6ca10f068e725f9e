//! The reference decoder, `docs/verify_bundle.py` (written from `docs/FORMAT.md` and
//! `docs/AUDITING.md` alone), against `assure verify --bundle`: on full bundles and
//! excerpts of a ledger holding every kind of event, an erasure and evidence, and on
//! a matrix of tampered copies, both must pass or both must fail — an edited `body`
//! included. Also: the script decodes every golden payload vector.
//!
//! Skipped, with a note, when `python3` or its packages (`blake3`, `cryptography`)
//! are missing, unless `ASSURE_REQUIRE_PYTHON=1` (as CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Ledger, Run};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the reference decoder can run here; a skip is said, or refused in CI.
fn python_ready() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import blake3, cryptography"])
        .output();
    let ready = probe.as_ref().is_ok_and(|o| o.status.success());
    if !ready {
        let why = match probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
            Err(e) => e.to_string(),
        };
        assert!(
            std::env::var("ASSURE_REQUIRE_PYTHON").as_deref() != Ok("1"),
            "ASSURE_REQUIRE_PYTHON=1 but python3 with blake3 and cryptography is not usable: {why}"
        );
        eprintln!(
            "note: skipping the reference decoder's tests: python3 with blake3 and cryptography is not usable ({why}); python3 -m pip install blake3 cryptography"
        );
    }
    ready
}

fn reference(args: &[&str]) -> Run {
    Run::from_output(
        Command::new("python3")
            .arg(repository().join("docs/verify_bundle.py"))
            .args(args)
            .output()
            .unwrap(),
    )
}

/// A ledger with every kind of event the command line records: the demonstration
/// (an import, statuses, evidence, agencies, challenges raised, answered and closed, a
/// new plan and a carry-over, a chair's cosignature/v1), then an amendment, a
/// response with evidence on an agency's behalf, an escalation, a reopening with a new
/// due date, a due date moved, the lateness threshold, a status saying "Not on
/// track", and an erasure (a kept structure and its redaction).
struct World {
    ledger: Ledger,
    vkey: String,
    chair_vkey: String,
    /// The seq whose payload was erased.
    erased: u64,
}

fn world() -> World {
    let ledger = Ledger::uninitialised();
    let data = ledger.data.to_str().unwrap().to_owned();
    crate::support::ok(
        crate::support::run(&ledger.data, "business.manager", &["demo", "--dir", &data]),
        "demo",
    );
    let plan = "mcr-jtai-2023";
    let evidence = ledger.file("réponse.txt", "Réponse de la police — ✓\n".as_bytes());
    let as_manager = |args: &[&str]| ledger.run_as("business.manager", args).ok();
    as_manager(&[
        "amend",
        plan,
        "1.2",
        "--title",
        "Évaluer l’offre « Engage »",
        "--leads",
        "GMP; MFT",
        "--timescale",
        "June 2025",
        "--reason",
        "Rebaselined by the board",
    ]);
    let as_chair = |args: &[&str]| ledger.run_as("independent.chair", args).ok();
    as_chair(&[
        "challenge",
        "respond",
        "C-0002",
        "--text",
        "Le pilote commence en mai — Heddlu ✓",
        "--evidence",
        &evidence,
    ]);
    as_chair(&[
        "challenge",
        "escalate",
        "C-0002",
        "--to",
        "Independent Scrutineer",
        "--reason",
        "Start date slipped twice",
    ]);
    as_chair(&[
        "challenge",
        "reopen",
        "C-0001",
        "--reason",
        "New figures",
        "--due",
        "2024-06-30",
    ]);
    as_chair(&[
        "challenge",
        "extend",
        "C-0002",
        "--due",
        "2024-07-31",
        "--reason",
        "Agreed at the board",
    ]);
    as_manager(&["late-after", "21", "--reason", "Quarterly boards"]);
    as_manager(&[
        "status",
        plan,
        "2.1",
        "red",
        "--note",
        "Not on track: no lead agreed",
    ]);
    as_manager(&[
        "status",
        plan,
        "3.1",
        "amber",
        "--note",
        "Names a person: to be erased",
    ]);
    let history = ledger.history();
    let erased = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "action.status_changed")
        .unwrap()["seq"]
        .as_u64()
        .unwrap();
    as_manager(&["redact", &erased.to_string(), "--reason", "ER-9", "--yes"]);
    let vkey = ledger.run(&["key", "show"]).ok().stdout.trim().to_owned();
    let chair_key = ledger.data.join("chair.key");
    let chair_key = chair_key.to_str().unwrap();
    let chair_vkey = ledger
        .run(&["key", "show", "--key", chair_key, "--cosigner"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    // The chair co-signs the checkpoint every export below is written under.
    as_manager(&["checkpoint"]);
    let first = ledger.dir.path().join("first-export");
    as_manager(&["export", "--out", first.to_str().unwrap()]);
    as_chair(&[
        "checkpoint",
        "cosign",
        first.join("checkpoint").to_str().unwrap(),
        "--key",
        chair_key,
        "--cosignature-v1",
    ]);
    World {
        ledger,
        vkey,
        chair_vkey,
        erased,
    }
}

impl World {
    fn export(&self, name: &str, subject: Option<&str>) -> PathBuf {
        let out = self.ledger.dir.path().join(name);
        let mut args = vec!["export", "--out", out.to_str().unwrap()];
        if let Some(subject) = subject {
            args.extend(["--subject", subject]);
        }
        self.ledger.run(&args).ok();
        out
    }

    /// Both verifiers on `bundle` trusting `keys`: they must agree, and say `expected`.
    fn agree(&self, case: &str, bundle: &Path, keys: &[&str], expected: bool) {
        let dir = bundle.to_str().unwrap();
        let mut ours = vec!["verify", "--bundle", dir];
        let mut theirs = vec![dir];
        for key in keys {
            ours.extend(["--trust", key]);
            theirs.extend(["--trust", key]);
        }
        let ours = self.ledger.run(&ours);
        let theirs = reference(&theirs);
        let said = |run: &Run| format!("exit {}: {}{}", run.code, run.stdout, run.stderr);
        assert_eq!(
            (ours.code == 0, theirs.code == 0),
            (expected, expected),
            "{case}: assure verify --bundle {}; verify_bundle.py {}",
            said(&ours),
            said(&theirs)
        );
        if !expected {
            assert_eq!(
                (ours.code, theirs.code),
                (1, 1),
                "{case}: a failed check exits 1"
            );
            assert!(
                theirs.stderr.contains("FAILED: "),
                "{case}: {}",
                theirs.stderr
            );
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn read_lines(bundle: &Path) -> Vec<Value> {
    std::fs::read_to_string(bundle.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write_lines(bundle: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(bundle.join("events.jsonl"), text).unwrap();
}

fn edit_text(bundle: &Path, file: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(bundle.join(file)).unwrap();
    assert!(text.contains(from), "{file} holds no {from:?}");
    std::fs::write(bundle.join(file), text.replacen(from, to, 1)).unwrap();
}

fn line_of<'a>(lines: &'a mut [Value], kind: &str) -> &'a mut Value {
    lines
        .iter_mut()
        .find(|l| l["kind"] == kind && !l["payload"].is_null())
        .unwrap_or_else(|| panic!("no {kind} with a payload"))
}

fn flip_payload_byte(line: &mut Value) {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut payload = engine.decode(line["payload"].as_str().unwrap()).unwrap();
    let last = payload.len() - 1;
    payload[last] ^= 0x01;
    line["payload"] = Value::from(engine.encode(payload));
}

type Tamper = Box<dyn Fn(&Path)>;

/// Each case: a name and what it does to a fresh copy of the full bundle.
fn tamper_matrix(erased: u64) -> Vec<(&'static str, Tamper)> {
    let lines = |f: fn(&mut Vec<Value>)| -> Tamper {
        Box::new(move |b: &Path| {
            let mut all = read_lines(b);
            f(&mut all);
            write_lines(b, &all);
        })
    };
    vec![
        (
            "a body edited from 'Not on track' to 'On track'",
            Box::new(|b: &Path| edit_text(b, "events.jsonl", "\"Not on track", "\"On track")),
        ),
        (
            "a body's status edited",
            lines(|all| {
                let line = all
                    .iter_mut()
                    .find(|l| {
                        l["body"]["rationale"]
                            .as_str()
                            .is_some_and(|r| r.starts_with("Not on track"))
                    })
                    .unwrap();
                line["body"]["status"] = Value::from("green");
            }),
        ),
        (
            "a body taken away from a present payload",
            lines(|all| line_of(all, "plan.created")["body"] = Value::Null),
        ),
        (
            "a body with a field more",
            lines(|all| {
                line_of(all, "challenge.closed")["body"]["verdict"] = Value::from("fine");
            }),
        ),
        (
            "a body whose integer is written as a float",
            lines(|all| {
                let line = line_of(all, "action.progress_noted");
                let bytes = line["body"]["evidence"][0]["bytes"].as_u64().unwrap();
                line["body"]["evidence"][0]["bytes"] = Value::from(bytes as f64);
            }),
        ),
        (
            "a body whose on_behalf_of is dropped",
            lines(|all| {
                let line = line_of(all, "challenge.responded");
                line["body"]["on_behalf_of"] = Value::Null;
            }),
        ),
        (
            "a payload edited",
            lines(|all| flip_payload_byte(line_of(all, "action.status_changed"))),
        ),
        (
            "a payload swapped for another event's, with its salt",
            lines(|all| {
                let other = line_of(all, "challenge.escalated").clone();
                let line = line_of(all, "challenge.closed");
                line["payload"] = other["payload"].clone();
                line["salt"] = other["salt"].clone();
                line["body"] = other["body"].clone();
            }),
        ),
        (
            "a payload removed without a redaction",
            lines(|all| {
                let line = line_of(all, "action.amended");
                line["payload"] = Value::Null;
                line["salt"] = Value::Null;
                line["body"] = Value::Null;
            }),
        ),
        (
            "an evidence file missing from blobs/",
            Box::new(|b: &Path| {
                let blobs = b.join("blobs");
                let first = std::fs::read_dir(&blobs).unwrap().next().unwrap().unwrap();
                std::fs::remove_file(first.path()).unwrap();
            }),
        ),
        (
            "an evidence file's bytes changed",
            Box::new(|b: &Path| {
                let first = std::fs::read_dir(b.join("blobs"))
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap();
                std::fs::write(first.path(), b"something else").unwrap();
            }),
        ),
        (
            "a file in blobs/ not named by its hash",
            Box::new(|b: &Path| std::fs::write(b.join("blobs").join("notes.txt"), b"x").unwrap()),
        ),
        (
            "an actor edited",
            lines(|all| all[3]["actor"] = Value::from("someone else")),
        ),
        (
            "an effective date edited",
            lines(|all| all[4]["effective"] = Value::from("2020-01-01")),
        ),
        (
            "a recorded_at text that disagrees with its micros",
            lines(|all| all[5]["recorded_at"] = Value::from("2000-01-01T00:00:00.000000Z")),
        ),
        (
            "an event deleted",
            lines(|all| {
                all.remove(6);
            }),
        ),
        ("two events swapped", lines(|all| all.swap(7, 8))),
        (
            "the last event cut off",
            lines(|all| {
                all.pop();
            }),
        ),
        (
            "events.jsonl cut mid-line",
            Box::new(|b: &Path| {
                let text = std::fs::read(b.join("events.jsonl")).unwrap();
                std::fs::write(b.join("events.jsonl"), &text[..text.len() - 30]).unwrap();
            }),
        ),
        (
            "the checkpoint's size edited",
            Box::new(|b: &Path| {
                let text = std::fs::read_to_string(b.join("checkpoint")).unwrap();
                let size = text.lines().nth(1).unwrap().to_owned();
                let smaller = (size.parse::<u64>().unwrap() - 1).to_string();
                edit_text(
                    b,
                    "checkpoint",
                    &format!("\n{size}\n"),
                    &format!("\n{smaller}\n"),
                );
            }),
        ),
        (
            "the keys file garbled",
            Box::new(|b: &Path| std::fs::write(b.join("keys"), "not a key\n").unwrap()),
        ),
        (
            "the erased event's body shown again",
            Box::new(move |b: &Path| {
                let mut all = read_lines(b);
                let line = all.iter_mut().find(|l| l["seq"] == erased).unwrap();
                assert!(line["payload"].is_null());
                line["body"] = serde_json::json!({"status": "amber", "rationale": "x"});
                write_lines(b, &all);
            }),
        ),
        (
            "the redaction event's payload removed",
            lines(|all| {
                let line = line_of(all, "ledger.redacted");
                line["payload"] = Value::Null;
                line["salt"] = Value::Null;
                line["body"] = Value::Null;
            }),
        ),
    ]
}

#[test]
fn the_reference_decoder_reads_every_golden_vector() {
    if !python_ready() {
        return;
    }
    let vectors = repository().join("docs/vectors/payloads.json");
    let run = reference(&["--check-vectors", vectors.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn the_reference_decoder_agrees_with_verify_bundle_on_bundles_excerpts_and_every_tampering() {
    if !python_ready() {
        return;
    }
    let world = world();
    let (vkey, chair) = (world.vkey.as_str(), world.chair_vkey.as_str());
    let full = world.export("full", None);
    // Every kind the ledger holds is in it, so every table is exercised.
    let kinds: std::collections::BTreeSet<String> = read_lines(&full)
        .iter()
        .map(|l| l["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in projections::DomainEvent::KINDS {
        assert!(kinds.contains(*kind), "the test ledger has no {kind}");
    }
    world.agree("the full bundle", &full, &[vkey], true);
    world.agree(
        "trusting only the chair's cosignature",
        &full,
        &[chair],
        true,
    );
    world.agree("trusting both keys", &full, &[vkey, chair], true);
    let stranger = {
        let key = world.ledger.dir.path().join("stranger.key");
        let key = key.to_str().unwrap();
        world
            .ledger
            .run(&["key", "new", "--name", "stranger.example/k", "--out", key])
            .ok();
        world
            .ledger
            .run(&["key", "show", "--key", key])
            .ok()
            .stdout
            .trim()
            .to_owned()
    };
    world.agree(
        "trusting a key that did not sign",
        &full,
        &[&stranger],
        false,
    );

    let action = world.export("excerpt-action", Some("plan/mcr-jtai-2023/action/1.1"));
    world.agree("an excerpt with evidence", &action, &[vkey], true);
    let challenge = world.export("excerpt-challenge", Some("challenge/C-0002"));
    world.agree("an excerpt of a challenge", &challenge, &[vkey], true);
    let erased_subject = read_lines(&full)
        .iter()
        .find(|l| l["seq"] == world.erased)
        .unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let erased = world.export("excerpt-erased", Some(&erased_subject));
    world.agree("an excerpt with an erased event", &erased, &[vkey], true);

    for (case, tamper) in tamper_matrix(world.erased) {
        let copy = world.ledger.dir.path().join("tampered");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&full, &copy);
        tamper(&copy);
        world.agree(case, &copy, &[vkey], false);
    }

    // Excerpts: a body edited, a proof swapped, a receipt missing.
    let excerpt_cases: Vec<(&str, Tamper)> = vec![
        (
            "an excerpt's body edited",
            Box::new(|b: &Path| edit_text(b, "events.jsonl", "\"note\":\"", "\"note\":\"Not ")),
        ),
        (
            "an excerpt's proofs swapped",
            Box::new(|b: &Path| {
                let mut all = read_lines(b);
                let proof = all[0]["proof"].clone();
                all[0]["proof"] = all[1]["proof"].clone();
                all[1]["proof"] = proof;
                write_lines(b, &all);
            }),
        ),
        (
            "an excerpt's receipt missing",
            Box::new(|b: &Path| {
                let first = std::fs::read_dir(b.join("proofs"))
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap();
                std::fs::remove_file(first.path()).unwrap();
            }),
        ),
        (
            "an excerpt's evidence missing",
            Box::new(|b: &Path| {
                for entry in std::fs::read_dir(b.join("blobs")).unwrap() {
                    std::fs::remove_file(entry.unwrap().path()).unwrap();
                }
            }),
        ),
    ];
    for (case, tamper) in excerpt_cases {
        let copy = world.ledger.dir.path().join("tampered-excerpt");
        let _ = std::fs::remove_dir_all(&copy);
        copy_dir(&action, &copy);
        tamper(&copy);
        world.agree(case, &copy, &[vkey], false);
    }
}

#[test]
fn the_reference_decoder_prints_what_the_events_say() {
    if !python_ready() {
        return;
    }
    let world = world();
    let full = world.export("full", None);
    let run = reference(&[full.to_str().unwrap(), "--trust", &world.vkey, "--print"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for needle in [
        "action.status_changed",
        "rationale: \"Not on track: no lead agreed\"",
        "on_behalf_of: \"Manchester University NHS Foundation Trust\"",
        "response_due: 2024-06-30",
        "payload erased or withheld",
        "Le pilote commence en mai — Heddlu ✓",
        "OK: bundle:",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} not in:\n{}",
            run.stdout
        );
    }
}
