//! End-to-end tests: the real `assure` binary on temporary data folders.
//!
//! Each test builds its own folder, so tests run in parallel. Regression tests are
//! named after what broke.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{Ledger, Run};

#[test]
fn the_manchester_fixture_imports_with_every_action() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert_eq!(plan["plan"]["id"], "mcr");
    assert_eq!(plan["plan"]["title"], "Manchester JTAI");
    assert_eq!(plan["actions"].as_array().unwrap().len(), 14);
    let a63 = Ledger::action(&plan, "6.3");
    assert_eq!(a63["milestones"].as_array().unwrap().len(), 2);
    assert_eq!(a63["status"], "not-started");
    assert_eq!(Ledger::action(&plan, "5.1")["cross_refs"][0], "3.1");
    let leads = Ledger::action(&plan, "6.2")["leads"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(leads, vec![Value::from("Health"), Value::from("GMP")]);
}

#[test]
fn plan_as_of_an_earlier_date_shows_what_was_true_then() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "amber",
            "--note",
            "Framework drafted",
            "--effective",
            "2024-01-15",
        ])
        .ok();
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "green",
            "--note",
            "Scorecard live",
            "--effective",
            "2024-03-01",
        ])
        .ok();
    let status_on = |date: &str| {
        let plan = ledger
            .run(&["plan", "mcr", "--as-of", date, "--json"])
            .ok()
            .json();
        Ledger::action(&plan, "1.1")["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status_on("2023-12-01"), "not-started");
    assert_eq!(status_on("2024-02-01"), "amber");
    assert_eq!(status_on("2024-03-01"), "green");
    // Before the plan was imported (by effective date) there was no plan at all.
    ledger
        .run(&["plan", "mcr", "--as-of", "2023-01-01"])
        .fails_with(2, "no plan mcr");
}

#[test]
fn backdated_change_lands_in_effective_order() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&[
            "status",
            "mcr",
            "1.2",
            "green",
            "--note",
            "later",
            "--effective",
            "2024-03-01",
        ])
        .ok();
    // Recorded after, but effective before: the current status stays green.
    ledger
        .run(&[
            "status",
            "mcr",
            "1.2",
            "red",
            "--note",
            "board decision last month",
            "--effective",
            "2024-02-01",
        ])
        .ok();
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert_eq!(Ledger::action(&plan, "1.2")["status"], "green");
    let before = ledger
        .run(&["plan", "mcr", "--as-of", "2024-02-15", "--json"])
        .ok()
        .json();
    assert_eq!(Ledger::action(&before, "1.2")["status"], "red");
}

#[test]
fn known_at_hides_what_was_recorded_later() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let history = ledger.run(&["history", "--json"]).ok().json();
    let imported_at = history.as_array().unwrap().last().unwrap()["recorded_at"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(5));
    ledger
        .run(&[
            "status",
            "mcr",
            "2.1",
            "red",
            "--note",
            "audit slipped",
            "--effective",
            "2024-01-10",
        ])
        .ok();
    let then = ledger
        .run(&["plan", "mcr", "--known-at", &imported_at, "--json"])
        .ok()
        .json();
    assert_eq!(Ledger::action(&then, "2.1")["status"], "not-started");
    let now = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert_eq!(Ledger::action(&now, "2.1")["status"], "red");
}

#[test]
fn invalid_commands_are_rejected_and_append_nothing() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let size = |l: &Ledger| {
        l.run(&["verify", "--json"]).ok().json()["size"]
            .as_u64()
            .unwrap()
    };
    let before = size(&ledger);
    ledger
        .run(&["status", "nope", "1.1", "green", "--note", "x"])
        .fails_with(2, "no plan nope");
    ledger
        .run(&["status", "mcr", "9.9", "green", "--note", "x"])
        .fails_with(2, "no action 9.9");
    ledger
        .run(&["status", "mcr", "1.1", "green", "--note", "  "])
        .fails_with(2, "empty");
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "green",
            "--note",
            "x",
            "--effective",
            "2999-01-01",
        ])
        .fails_with(2, "future");
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "green",
            "--note",
            "x",
            "--effective",
            "2020-01-01",
        ])
        .fails_with(2, "no plan mcr on 2020-01-01");
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "green",
            "--note",
            "x",
            "--effective",
            "31/02/2024",
        ])
        .fails_with(2, "not a date");
    ledger
        .run(&["challenge", "respond", "C-0009", "--text", "x"])
        .fails_with(2, "no challenge C-0009");
    ledger
        .run(&["create-plan", "../evil", "--title", "x"])
        .fails_with(2, "not allowed");
    assert_eq!(size(&ledger), before);
}

#[test]
fn carry_over_links_both_plans_and_refuses_twice() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "6.5",
            "--to",
            "mcr-2024",
            "--reason",
            "not launched",
        ])
        .fails_with(2, "create-plan");
    ledger
        .run(&[
            "create-plan",
            "mcr-2024",
            "--title",
            "Next year",
            "--effective",
            "2024-04-01",
        ])
        .ok();
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "6.5",
            "--to",
            "mcr-2024",
            "--as",
            "1.1",
            "--reason",
            "not launched",
            "--effective",
            "2024-04-02",
        ])
        .ok();
    let old = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert_eq!(Ledger::action(&old, "6.5")["status"], "carried-over");
    assert_eq!(Ledger::action(&old, "6.5")["carried_to"], "mcr-2024/1.1");
    let new = ledger.run(&["plan", "mcr-2024", "--json"]).ok().json();
    assert_eq!(Ledger::action(&new, "1.1")["carried_from"], "mcr/6.5");
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "6.5",
            "--to",
            "mcr-2024",
            "--as",
            "1.2",
            "--reason",
            "again",
            "--effective",
            "2024-04-03",
        ])
        .fails_with(2, "already carried over");
    ledger
        .run(&[
            "status",
            "mcr",
            "6.5",
            "green",
            "--note",
            "x",
            "--effective",
            "2024-04-05",
        ])
        .fails_with(2, "carried over");
    let timeline = ledger
        .run(&["action", "mcr-2024", "1.1", "--json"])
        .ok()
        .json();
    assert_eq!(timeline["steps"].as_array().unwrap().len(), 2);
    assert_eq!(timeline["steps"][0]["plan"], "mcr");
}

#[test]
fn blue_rows_without_a_destination_can_be_carried_into_a_named_plan() {
    let ledger = Ledger::new();
    let csv = ledger.file(
        "old.csv",
        b"ref,priority,action,lead,due,status\n1.1,Safety,Audit referrals,Police,March 2019,Blue\n",
    );
    ledger
        .run(&["import", &csv, "--plan", "old", "--effective", "2018-04-01"])
        .ok();
    ledger
        .run(&[
            "create-plan",
            "new",
            "--title",
            "2019-20",
            "--effective",
            "2019-04-01",
        ])
        .ok();
    ledger
        .run(&[
            "carry-over",
            "old",
            "1.1",
            "--to",
            "new",
            "--reason",
            "carried at year end",
            "--effective",
            "2019-04-01",
        ])
        .fails_with(2, "no RAG of its own");
    ledger
        .run(&[
            "carry-over",
            "old",
            "1.1",
            "--to",
            "new",
            "--reason",
            "carried at year end",
            "--status",
            "amber",
            "--effective",
            "2019-04-01",
        ])
        .ok();
    let new = ledger.run(&["plan", "new", "--json"]).ok().json();
    assert_eq!(Ledger::action(&new, "1.1")["carried_from"], "old/1.1");
    assert_eq!(Ledger::action(&new, "1.1")["status"], "amber");
    let old = ledger
        .run(&["plan", "old", "--as-of", "2019-03-31", "--json"])
        .ok()
        .json();
    assert_eq!(Ledger::action(&old, "1.1")["status"], "carried-over");
    assert_eq!(Ledger::action(&old, "1.1")["carried_to"], Value::Null);
}

#[test]
fn the_challenge_log_follows_a_challenge_from_raised_to_closed() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let raised = ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "GMP",
            "--text",
            "Evidence of Engage?",
            "--about",
            "mcr/6.2",
            "--due",
            "2024-03-15",
            "--effective",
            "2024-02-20",
        ])
        .ok();
    assert_eq!(raised.stdout.trim(), "C-0001");
    let second = ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "Health",
            "--text",
            "Waiting well?",
            "--due",
            "2024-01-31",
            "--effective",
            "2024-01-02",
        ])
        .ok();
    assert_eq!(second.stdout.trim(), "C-0002");
    ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "GMP",
            "--text",
            "x",
            "--about",
            "mcr/9.9",
        ])
        .fails_with(2, "mcr/9.9");
    let evidence = ledger.file("briefing.txt", b"Engage briefing, March 2024");
    ledger
        .run(&[
            "challenge",
            "respond",
            "C-0001",
            "--text",
            "Briefing sent",
            "--evidence",
            &evidence,
            "--effective",
            "2024-03-10",
        ])
        .ok();
    ledger
        .run(&[
            "challenge",
            "escalate",
            "C-0002",
            "--to",
            "MSP Executive",
            "--reason",
            "No answer",
            "--effective",
            "2024-02-10",
        ])
        .ok();
    ledger
        .run(&[
            "challenge",
            "close",
            "C-0001",
            "--outcome",
            "Assured",
            "--impact",
            "Referrals up",
            "--effective",
            "2024-03-25",
        ])
        .ok();
    ledger
        .run(&[
            "challenge",
            "respond",
            "C-0001",
            "--text",
            "late",
            "--effective",
            "2024-03-26",
        ])
        .fails_with(2, "closed");
    let log = ledger.run(&["challenges", "--json"]).ok().json();
    let first = &log[0];
    assert_eq!(first["id"], "C-0001");
    assert_eq!(first["status"], "closed");
    assert_eq!(first["about"][0], "mcr/6.2");
    assert_eq!(first["outcome"], "Assured");
    assert_eq!(first["impact"], "Referrals up");
    assert_eq!(first["responses"][0]["evidence"][0]["name"], "briefing.txt");
    assert_eq!(log[1]["status"], "escalated");
    assert_eq!(log[1]["overdue"], true);
    let open = ledger.run(&["challenges", "--open", "--json"]).ok().json();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let as_then = ledger
        .run(&["challenges", "--as-of", "2024-03-12", "--json"])
        .ok()
        .json();
    assert_eq!(as_then[0]["status"], "responded");
    let gmp = ledger
        .run(&["challenges", "--agency", "gmp", "--json"])
        .ok()
        .json();
    assert_eq!(gmp.as_array().unwrap().len(), 1);
    ledger
        .run(&[
            "challenge",
            "reopen",
            "C-0001",
            "--reason",
            "New data",
            "--effective",
            "2024-04-01",
        ])
        .ok();
    assert_eq!(
        ledger.run(&["challenges", "--json"]).ok().json()[0]["status"],
        "open"
    );
}

#[test]
fn history_lists_every_event_with_hash_and_body() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&["status", "mcr", "1.1", "amber", "--note", "drafted"])
        .ok();
    let history = ledger.run(&["history", "--json"]).ok().json();
    let events = history.as_array().unwrap();
    // plan.created + 5 priorities + 14 actions + 1 status change
    assert_eq!(events.len(), 21);
    let last = events.last().unwrap();
    for field in [
        "seq",
        "hash",
        "recorded_at",
        "effective",
        "actor",
        "subject",
        "kind",
        "body",
    ] {
        assert!(!last[field].is_null(), "missing {field}");
    }
    assert_eq!(last["kind"], "action.status_changed");
    assert_eq!(last["subject"], "plan/mcr/action/1.1");
    assert_eq!(last["actor"], "tester");
    assert_eq!(last["body"]["rationale"], "drafted");
    let only = ledger
        .run(&["history", "--subject", "plan/mcr/action/1.1", "--json"])
        .ok()
        .json();
    assert_eq!(only.as_array().unwrap().len(), 2);
}

#[test]
fn import_is_atomic_and_names_the_bad_row() {
    let ledger = Ledger::new();
    let csv = ledger.file(
        "bad.csv",
        b"ref,action,status\n1.1,Good row,green\n1.2,,amber\n",
    );
    ledger
        .run(&["import", &csv, "--plan", "p"])
        .fails_with(2, "row 3");
    let dup = ledger.file("dup.csv", b"ref,action\n1.1,One\n1.1,Two\n");
    ledger
        .run(&["import", &dup, "--plan", "p"])
        .fails_with(2, "1.1");
    // An unclosed quote would swallow every row after it: refused, naming its row.
    let unclosed = ledger.file("quote.csv", b"ref,action\n1.1,One\n1.2,\"Two\n1.3,Three\n");
    ledger
        .run(&["import", &unclosed, "--plan", "p"])
        .fails_with(2, "row 3: a cell opens a quote");
    assert_eq!(ledger.run(&["verify", "--json"]).ok().json()["size"], 0);
    ledger.run(&["plan", "p"]).fails_with(2, "no plan p");
}

#[test]
fn import_accepts_bom_crlf_and_real_headers() {
    let ledger = Ledger::new();
    let mut csv = vec![0xEF, 0xBB, 0xBF];
    csv.extend_from_slice(
        b"Objective,Specific action,Who Responsible / linked plan,Timescale,Progress & Evidence RAG\r\n\
Keep children safe,\"1.4 Independent scrutiny of \"\"front door\"\"\",\"Police; Health\nSchools\",April 2018*,Green\r\n",
    );
    let file = ledger.file("real.csv", &csv);
    let run = ledger
        .run(&[
            "import",
            &file,
            "--plan",
            "oldham",
            "--effective",
            "2018-04-01",
        ])
        .ok();
    assert!(
        run.stderr.contains("Specific action"),
        "mapping report: {}",
        run.stderr
    );
    let plan = ledger
        .run(&["plan", "oldham", "--as-of", "2019-03-31", "--json"])
        .ok()
        .json();
    let action = Ledger::action(&plan, "1.4");
    assert_eq!(action["status"], "green");
    assert_eq!(action["title"], "Independent scrutiny of \"front door\"");
    assert_eq!(action["leads"].as_array().unwrap().len(), 3);
    assert_eq!(action["milestones"][0]["date"], "2018-04-30");
}

#[test]
fn evidence_over_the_limit_or_missing_is_refused_clearly() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "see file",
            "--evidence",
            "/nonexistent/file.pdf",
        ])
        .fails_with(2, "/nonexistent/file.pdf");
    let empty = ledger.file("empty.txt", b"");
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "empty file",
            "--evidence",
            &empty,
        ])
        .ok();
    let action = ledger.run(&["action", "mcr", "1.1", "--json"]).ok().json();
    assert_eq!(action["steps"][0]["entries"][0]["evidence"][0]["bytes"], 0);
}

#[test]
fn verify_reports_ok_with_size_and_head() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let report = ledger.run(&["verify", "--json"]).ok().json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["size"], 20);
    assert_eq!(report["first_bad_seq"], Value::Null);
    assert_eq!(report["head"].as_str().unwrap().len(), 64);
}

#[test]
fn a_damaged_or_foreign_folder_fails_cleanly_without_writing() {
    let ledger = Ledger::uninitialised();
    std::fs::create_dir_all(&ledger.data).unwrap();
    std::fs::write(ledger.data.join("thesis.docx"), b"not a ledger").unwrap();
    ledger.run(&["plans"]).fails_with(2, "not an Assure ledger");
    ledger.run(&["init"]).fails_with(2, "not empty");
    let names: Vec<_> = std::fs::read_dir(&ledger.data)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1);

    let damaged = Ledger::new();
    damaged.import_manchester();
    std::fs::write(damaged.data.join("HEAD"), b"").unwrap();
    damaged.run(&["plans"]).fails_with(1, "damaged");
    assert_eq!(
        std::fs::metadata(damaged.data.join("HEAD")).unwrap().len(),
        0
    );

    // A truncated store either fails cleanly or, where the cut lost nothing, still
    // shows exactly what it showed before: never a silent difference.
    for keep in [4096u64, 1 << 16, 1 << 19] {
        let truncated = Ledger::new();
        truncated.import_manchester();
        let before = truncated.run(&["verify", "--json"]).ok().stdout;
        let plan_before = truncated.run(&["plan", "mcr", "--json"]).ok().stdout;
        let db = truncated.data.join("store/db");
        let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        file.set_len(keep.min(file.metadata().unwrap().len()))
            .unwrap();
        let run = truncated.run(&["verify", "--json"]);
        if run.code == 0 {
            assert_eq!(
                run.stdout, before,
                "truncated to {keep}: verify changed silently"
            );
            assert_eq!(
                truncated.run(&["plan", "mcr", "--json"]).ok().stdout,
                plan_before
            );
        } else {
            assert!(
                !run.stderr.is_empty() || run.stdout.contains("\"ok\": false"),
                "no explanation: {}",
                run.stdout
            );
        }
    }
}

#[test]
fn a_second_process_gets_in_use_not_a_crash() {
    let ledger = Ledger::new();
    let _held = ledger::Ledger::open(&ledger.data).unwrap();
    ledger
        .run(&["plans"])
        .fails_with(1, "in use by another process");
}

#[test]
fn demo_runs_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_assure"))
        .current_dir(dir.path())
        .arg("demo")
        .output()
        .unwrap();
    let run = Run::from_output(output).ok();
    assert!(run.stdout.contains("as it stood on 2024-01-31"));
    assert!(run.stdout.contains("C-0001"));
    assert!(run.stdout.contains("OK:"));
    // Running it again replaces its own folder.
    let again = Command::new(env!("CARGO_BIN_EXE_assure"))
        .current_dir(dir.path())
        .arg("demo")
        .output()
        .unwrap();
    Run::from_output(again).ok();
}

#[test]
fn bad_usage_exits_2() {
    let ledger = Ledger::new();
    ledger
        .run(&["status", "mcr", "1.1", "purple", "--note", "x"])
        .fails_with(2, "purple");
    ledger.run(&["frobnicate"]).fails_with(2, "frobnicate");
}

#[test]
fn redaction_erases_a_note_keeps_history_and_verifies() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "Spoke to J. Smith (DOB 01/02/2010)",
            "--effective",
            "2024-01-10",
        ])
        .ok();
    let history = ledger
        .run(&["history", "--subject", "plan/mcr/action/1.1", "--json"])
        .ok()
        .json();
    let seq = history.as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap()
        .to_string();
    ledger
        .run(&["redact", &seq, "--reason", "Erasure request ER-7", "--yes"])
        .ok();
    ledger.run(&["verify"]).ok();
    let after = ledger.run(&["history", "--json"]).ok().json();
    let events = after.as_array().unwrap();
    let erased = events
        .iter()
        .find(|e| e["seq"].as_u64().map(|s| s.to_string()) == Some(seq.clone()))
        .unwrap();
    assert_eq!(erased["body"], Value::Null);
    assert!(erased["summary"]
        .as_str()
        .unwrap()
        .contains("Erasure request ER-7"));
    assert!(!ledger.run(&["history"]).ok().stdout.contains("J. Smith"));
    assert_eq!(events.last().unwrap()["kind"], "ledger.redacted");
    ledger
        .run(&["redact", &seq, "--reason", "again", "--yes"])
        .ok();
    assert_eq!(ledger.history(), after, "erasing again appends nothing");
}

#[test]
fn checkpoints_cosigned_by_the_chair_prove_later_history_extends_them() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let vkey = ledger.run(&["key", "show"]).ok().stdout.trim().to_owned();
    let chair_key = ledger.data.parent().unwrap().join("chair.key");
    let chair_vkey = ledger
        .run(&[
            "key",
            "new",
            "--name",
            "chair.example/jones",
            "--out",
            chair_key.to_str().unwrap(),
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    ledger
        .run(&[
            "key",
            "new",
            "--name",
            "x",
            "--out",
            chair_key.to_str().unwrap(),
        ])
        .fails_with(1, "must not exist");
    let note = ledger.run(&["checkpoint"]).ok().stdout;
    let old = ledger.file("minutes-checkpoint.txt", note.as_bytes());
    let cosigned = ledger
        .run(&[
            "checkpoint",
            "cosign",
            &old,
            "--key",
            chair_key.to_str().unwrap(),
        ])
        .ok()
        .stdout;
    assert!(cosigned.contains("chair.example/jones"));
    let old = ledger.file("minutes-checkpoint.txt", cosigned.as_bytes());
    assert!(ledger
        .run(&["checkpoints"])
        .ok()
        .stdout
        .contains("chair.example/jones"));
    ledger
        .run(&["status", "mcr", "1.1", "green", "--note", "done"])
        .ok();
    ledger.run(&["verify"]).ok();
    let report = ledger
        .run(&[
            "verify",
            "--against",
            &old,
            "--trust",
            &chair_vkey,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["old_size"], 20);
    assert_eq!(report["size"], 21);
    ledger
        .run(&["verify", "--against", &old, "--trust", &vkey])
        .ok();
    // A key the auditor does not trust proves nothing.
    let stranger = ledger.data.parent().unwrap().join("stranger.key");
    let stranger_vkey = ledger
        .run(&[
            "key",
            "new",
            "--name",
            "stranger",
            "--out",
            stranger.to_str().unwrap(),
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    ledger
        .run(&["verify", "--against", &old, "--trust", &stranger_vkey])
        .fails_with(1, "signatures");
    // A checkpoint from a rewritten history (another ledger of the same size) fails.
    let other = Ledger::new();
    other.import_manchester();
    let other_note = other.run(&["checkpoint"]).ok().stdout;
    let other_vkey = other.run(&["key", "show"]).ok().stdout.trim().to_owned();
    let foreign = ledger.file("foreign.txt", other_note.as_bytes());
    ledger
        .run(&["verify", "--against", &foreign, "--trust", &other_vkey])
        .fails_with(1, "does not extend");
    // Co-signing a checkpoint this ledger never made is refused.
    ledger
        .run(&[
            "checkpoint",
            "cosign",
            &foreign,
            "--key",
            chair_key.to_str().unwrap(),
        ])
        .fails_with(2, "differs");
}

#[test]
fn a_proof_is_a_receipt_that_verifies_offline() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let vkey = ledger.run(&["key", "show"]).ok().stdout.trim().to_owned();
    let text = ledger.run(&["proof", "7"]).ok().stdout;
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"));
    let proof = ledger::checkpoint::TlogProof::parse(text.as_bytes()).unwrap();
    let history = ledger.run(&["history", "--json"]).ok().json();
    let hash_hex = history[7]["hash"].as_str().unwrap();
    let hash: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&hash_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let trusted = [ledger::note::VerifierKey::parse(&vkey).unwrap()];
    proof.verify(&hash, &trusted).unwrap();
    let other: [u8; 32] = {
        let h = history[8]["hash"].as_str().unwrap();
        (0..32)
            .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap()
    };
    assert!(proof.verify(&other, &trusted).is_err());
    ledger.run(&["proof", "999"]).fails_with(2, "no event 999");
}

#[test]
fn an_export_bundle_verifies_offline_and_any_edit_is_caught() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let evidence = ledger.file("scorecard.txt", b"Q4 scorecard");
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "scorecard",
            "--evidence",
            &evidence,
            "--effective",
            "2024-01-10",
        ])
        .ok();
    let vkey = ledger.run(&["key", "show"]).ok().stdout.trim().to_owned();
    let out = ledger.data.parent().unwrap().join("bundle");
    ledger.run(&["export", "--out", out.to_str().unwrap()]).ok();
    for name in ["events.jsonl", "checkpoint", "keys", "README.txt"] {
        assert!(out.join(name).is_file(), "bundle lacks {name}");
    }
    let report = ledger
        .run(&[
            "verify",
            "--bundle",
            out.to_str().unwrap(),
            "--trust",
            &vkey,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["events"], 21);
    // Exporting into a folder that already holds something is refused.
    ledger
        .run(&["export", "--out", out.to_str().unwrap()])
        .fails_with(2, "not empty");
    // An edited actor is caught, naming the seq.
    let events = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    std::fs::write(
        out.join("events.jsonl"),
        events.replacen("\"actor\":\"tester\"", "\"actor\":\"someone else\"", 1),
    )
    .unwrap();
    let report = ledger
        .run(&[
            "verify",
            "--bundle",
            out.to_str().unwrap(),
            "--trust",
            &vkey,
            "--json",
        ])
        .fails_with(1, "")
        .json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_seq"], 0);
    // A body that says something other than its payload is caught too.
    let body_edit = ledger.data.parent().unwrap().join("bundle2");
    ledger
        .run(&["export", "--out", body_edit.to_str().unwrap()])
        .ok();
    let events = std::fs::read_to_string(body_edit.join("events.jsonl")).unwrap();
    std::fs::write(
        body_edit.join("events.jsonl"),
        events.replacen("\"note\":\"scorecard\"", "\"note\":\"all fine\"", 1),
    )
    .unwrap();
    ledger
        .run(&[
            "verify",
            "--bundle",
            body_edit.to_str().unwrap(),
            "--trust",
            &vkey,
        ])
        .fails_with(1, "does not say what the signed payload says");
    // Evidence named by a signed payload must travel with the bundle.
    let no_blob = ledger.data.parent().unwrap().join("bundle3");
    ledger
        .run(&["export", "--out", no_blob.to_str().unwrap()])
        .ok();
    for entry in std::fs::read_dir(no_blob.join("blobs")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    ledger
        .run(&[
            "verify",
            "--bundle",
            no_blob.to_str().unwrap(),
            "--trust",
            &vkey,
        ])
        .fails_with(1, "is missing from blobs/");
    // An excerpt of one plan's action verifies alone.
    let excerpt = ledger.data.parent().unwrap().join("excerpt");
    ledger
        .run(&[
            "export",
            "--out",
            excerpt.to_str().unwrap(),
            "--subject",
            "plan/mcr/action/1.1",
        ])
        .ok();
    let report = ledger
        .run(&[
            "verify",
            "--bundle",
            excerpt.to_str().unwrap(),
            "--trust",
            &vkey,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(report["ok"], true);
    assert_eq!(report["excerpt"], true);
    assert_eq!(report["events"], 2);
}

#[test]
fn importing_a_ref_the_plan_already_has_names_the_row_and_adds_nothing() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let size = ledger.run(&["verify", "--json"]).ok().json()["size"].clone();
    let csv = ledger.file(
        "more.csv",
        b"ref,action\n7.1,A new action\n1.2,Clashes with the plan\n",
    );
    ledger
        .run(&["import", &csv, "--plan", "mcr"])
        .fails_with(2, "row 3: plan mcr already has an action 1.2");
    assert_eq!(ledger.run(&["verify", "--json"]).ok().json()["size"], size);
    let ok = ledger.file("ok.csv", b"ref,action\n7.1,A new action\n");
    ledger.run(&["import", &ok, "--plan", "mcr"]).ok();
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert_eq!(Ledger::action(&plan, "7.1")["title"], "A new action");
}

#[test]
fn a_plan_of_40000_rows_imports_in_one_batch_and_a_10mb_cell_is_refused_by_row_and_column() {
    let ledger = Ledger::new();
    let mut csv = String::from("ref,priority,action,lead,due,status\n");
    for i in 0..40_000 {
        csv.push_str(&format!(
            "{}.{},Priority {},Action number {i},Lead {},May 2024,amber\n",
            i / 100 + 1,
            i % 100 + 1,
            i / 100 + 1,
            i % 7
        ));
    }
    let big = ledger.file("big.csv", csv.as_bytes());
    ledger
        .run(&["import", &big, "--plan", "big", "--effective", "2024-01-01"])
        .ok();
    let plan = ledger.run(&["plan", "big", "--json"]).ok().json();
    assert_eq!(plan["actions"].as_array().unwrap().len(), 40_000);
    ledger.run(&["verify"]).ok();
    let mut huge = String::from("ref,action\n1.1,");
    huge.push_str(&"x".repeat(10 * 1024 * 1024));
    huge.push('\n');
    let huge = ledger.file("huge.csv", huge.as_bytes());
    ledger
        .run(&["import", &huge, "--plan", "huge"])
        .fails_with(2, "row 2, column 2");
}

#[test]
fn a_deleted_evidence_file_fails_verify_with_the_seq_that_named_it() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let evidence = ledger.file("minutes.txt", b"Board minutes, March 2024");
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "minutes",
            "--evidence",
            &evidence,
        ])
        .ok();
    ledger.run(&["verify"]).ok();
    for entry in std::fs::read_dir(ledger.data.join("blobs")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let report = ledger
        .run(&["verify", "--json"])
        .fails_with(1, "missing from the data folder")
        .json();
    assert_eq!(report["first_bad_seq"], 20);
}

#[test]
fn a_missing_verifier_key_file_is_reported_not_ignored() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger.run(&["checkpoint"]).ok();
    std::fs::remove_file(ledger.data.join("keys/ledger.vkey")).unwrap();
    ledger
        .run(&["verify"])
        .fails_with(1, "assure key show --key");
}

// ------------------------------------------------------------ import fixtures

/// A plan file made for these tests (`tests/fixtures/import`, written by its
/// `make_fixtures.py`; its README says what each must read as).
fn import_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Each fixture with the options a user would give it.
const PREVIEWED: &[(&str, &[&str])] = &[
    ("word-merged-priorities.docx", &[]),
    ("word-two-tables-theme-shading.docx", &[]),
    ("excel-title-block-fills.xlsx", &[]),
    (
        "excel-critical-success-factor.xlsx",
        &["--period", "2009-10"],
    ),
    ("plan.ods", &[]),
    ("semicolon-windows1252.csv", &[]),
    ("plan-utf16.csv", &[]),
    ("plan.tsv", &[]),
    ("title-rows.csv", &[]),
];

fn preview(ledger: &Ledger, name: &str, extra: &[&str]) -> Value {
    let file = import_fixture(name);
    let mut args = vec![
        "import",
        &file,
        "--plan",
        "p",
        "--effective",
        "2024-04-01",
        "--dry-run",
        "--json",
    ];
    args.extend_from_slice(extra);
    ledger.run(&args).ok().json()
}

/// The JSON preview of every fixture, byte for byte as reviewed and kept in
/// `tests/fixtures/import/golden/`. After a deliberate change, rerun with
/// `ASSURE_BLESS=1` and read the diff of the golden files before committing it.
#[test]
fn import_previews_match_their_golden_json() {
    let ledger = Ledger::new();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/golden");
    let bless = std::env::var_os("ASSURE_BLESS").is_some();
    let mut differ = Vec::new();
    for (name, extra) in PREVIEWED {
        let shown = serde_json::to_string_pretty(&preview(&ledger, name, extra)).unwrap() + "\n";
        let path = golden.join(format!("{name}.json"));
        if bless {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &shown).unwrap();
            continue;
        }
        let kept = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run with ASSURE_BLESS=1 once", path.display()));
        if kept != shown {
            differ.push(format!("{name}:\n{shown}"));
        }
    }
    assert!(
        differ.is_empty(),
        "previews differ from golden:\n{}",
        differ.join("\n")
    );
    // A dry run records nothing.
    assert_eq!(ledger.run(&["verify", "--json"]).ok().json()["size"], 0);
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn a_word_plan_with_merged_priorities_imports_as_kept() {
    let ledger = Ledger::new();
    let shown = preview(&ledger, "word-merged-priorities.docx", &[]);
    assert_eq!(
        shown["plan"]["title"],
        "Manchester JTAI Serious Violence Action Plan"
    );
    let priorities = shown["priorities"].as_array().unwrap();
    assert_eq!(priorities.len(), 2, "{shown:#}");
    assert!(priorities[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Development of the new safeguarding arrangements"));
    assert!(priorities[0]["description"]
        .as_str()
        .unwrap()
        .starts_with("Aim: "));
    assert_eq!(shown["actions"].as_array().unwrap().len(), 8);
    // A date paragraph in the lead column is the timescale, not a lead.
    let first = Ledger::action(&shown, "1.1");
    assert_eq!(first["timescale"], "May 2024");
    assert!(!strings(&first["leads"]).contains(&"May 2024"));
    assert_eq!(first["milestones"][0]["due"], "2024-05-31");
    // The continuation row is joined to the action above, and says so.
    assert!(first["action"].as_str().unwrap().contains('\n'));
    // "Complete – …" in the progress column is the status and the progress.
    assert_eq!(Ledger::action(&shown, "1.2")["status"], "complete");
    assert!(Ledger::action(&shown, "1.2")["progress"]
        .as_str()
        .unwrap()
        .starts_with("consultation responses considered"));
    // A "Cross Ref Action | See also Action 1.2" row is a cross-ref of the action above.
    assert_eq!(
        strings(&Ledger::action(&shown, "2.3")["cross_refs"]),
        ["1.2"]
    );
    // RAG only as shading.
    let statuses: Vec<&str> = ["1.1", "1.4", "2.1", "2.3", "2.4"]
        .iter()
        .map(|r| Ledger::action(&shown, r)["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["green", "amber", "red", "complete", "carried-over"]
    );
    let warnings = shown["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["message"]
        .as_str()
        .unwrap()
        .contains("joined to action 1.1")));
}

#[test]
fn a_word_plan_keeps_its_unmapped_column_and_refs_its_unnumbered_action() {
    let ledger = Ledger::new();
    let shown = preview(&ledger, "word-two-tables-theme-shading.docx", &[]);
    let columns = shown["columns"].as_array().unwrap();
    assert_eq!(columns[0]["field"], "ref", "a column of refs headed Action");
    assert_eq!(columns[1]["field"], "action");
    assert_eq!(columns[5]["field"], "keep");
    assert_eq!(
        Ledger::action(&shown, "1.1")["extras"][0],
        serde_json::json!({"header": "Resources required", "text": "Business Unit staff time"})
    );
    assert_eq!(Ledger::action(&shown, "1a")["status"], "amber");
    assert!(shown["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["message"].as_str().unwrap().contains("given 1a")));
    // A heading paragraph between the two tables starts priority 2.
    assert_eq!(
        shown["priorities"][1]["title"],
        "Improve the voice of the child"
    );
}

#[test]
fn text_plans_in_any_encoding_and_separator_import() {
    let ledger = Ledger::new();
    for (name, source) in [
        (
            "semicolon-windows1252.csv",
            "windows-1252, semicolon-separated",
        ),
        ("plan-utf16.csv", "UTF-16LE, tab-separated"),
        ("plan.tsv", "UTF-8, tab-separated"),
    ] {
        let shown = preview(&ledger, name, &[]);
        assert!(
            shown["source"].as_str().unwrap().contains(source),
            "{name}: {shown:#}"
        );
        assert!(!shown["actions"].as_array().unwrap().is_empty(), "{name}");
    }
    let shown = preview(&ledger, "title-rows.csv", &[]);
    assert_eq!(shown["plan"]["title"], "Medway Safeguarding Children Board");
    assert_eq!(shown["priorities"][1]["key"], "2");
    assert_eq!(shown["actions"].as_array().unwrap().len(), 5);
}

#[test]
fn files_that_are_not_plans_are_refused_saying_what_they_are() {
    let ledger = Ledger::new();
    for (name, needle) in [
        ("not-a-plan.pdf", "PDF"),
        ("saved-as-csv.csv", "PDF"),
        ("legacy.doc", "Word 97-2003"),
        ("legacy.xls", "Excel 97-2003"),
        ("encrypted.xlsx", "password-protected"),
        ("image.png", "image (PNG)"),
        ("empty.csv", "empty"),
        ("truncated.docx", "damaged"),
        ("unclosed-quote.csv", "row 4: a cell opens a quote"),
    ] {
        let file = import_fixture(name);
        ledger
            .run(&["import", &file, "--plan", "p"])
            .fails_with(2, needle);
    }
    assert_eq!(ledger.run(&["verify", "--json"]).ok().json()["size"], 0);
}

#[test]
fn statuses_in_a_year_end_file_take_effect_at_as_at_not_at_the_start() {
    let ledger = Ledger::new();
    let file = import_fixture("title-rows.csv");
    ledger
        .run(&[
            "import",
            &file,
            "--plan",
            "p",
            "--effective",
            "2024-04-01",
            "--as-at",
            "2025-03-31",
        ])
        .ok();
    let start = ledger
        .run(&["plan", "p", "--as-of", "2024-04-01", "--json"])
        .ok()
        .json();
    let end = ledger
        .run(&["plan", "p", "--as-of", "2025-03-31", "--json"])
        .ok()
        .json();
    let status = |plan: &Value, reference: &str| Ledger::action(plan, reference)["status"].clone();
    assert_eq!(status(&start, "1.3"), "not-started");
    assert_eq!(status(&end, "1.3"), "complete");
    assert_eq!(
        start["priorities"][0]["description"]
            .as_str()
            .unwrap()
            .lines()
            .count(),
        1
    );
    // The same file again is refused whole: its refs are taken.
    ledger
        .run(&["import", &file, "--plan", "p", "--effective", "2024-04-01"])
        .fails_with(2, "already has an action");
    ledger
        .run(&[
            "import",
            &file,
            "--plan",
            "q",
            "--effective",
            "2024-04-01",
            "--as-at",
            "2024-03-01",
        ])
        .fails_with(2, "--as-at is before --effective");
}

#[test]
fn map_and_legend_change_how_a_plan_is_read() {
    let ledger = Ledger::new();
    let csv = ledger.file(
        "plan.csv",
        b"Ref,Action,Notes,RAG\n1.1,Do it,Board to review,Purple\n1.2,Next,Spare,Ongoing\n",
    );
    let shown = |extra: &[&str]| {
        let mut args = vec!["import", &csv, "--plan", "p", "--dry-run", "--json"];
        args.extend_from_slice(extra);
        ledger.run(&args).ok().json()
    };
    let plain = shown(&[]);
    assert_eq!(plain["columns"][2]["field"], "keep");
    assert_eq!(plain["actions"][0]["status"], Value::Null);
    let mapped = shown(&[
        "--map",
        "Notes=outcome",
        "--legend",
        "Purple=red",
        "--legend",
        "Ongoing=green",
    ]);
    assert_eq!(mapped["columns"][2]["field"], "outcome");
    assert_eq!(mapped["actions"][0]["outcome"], "Board to review");
    assert_eq!(mapped["actions"][0]["status"], "red");
    assert_eq!(mapped["actions"][1]["status"], "green");
    assert_eq!(
        mapped["warnings"].as_array().unwrap().len(),
        0,
        "{mapped:#}"
    );
    let ignored = shown(&["--map", "Notes=ignore"]);
    assert_eq!(ignored["actions"][0]["extras"], serde_json::json!([]));
    ledger
        .run(&["import", &csv, "--plan", "p", "--map", "Nope=outcome"])
        .fails_with(2, "which the file does not have");
    ledger
        .run(&["import", &csv, "--plan", "p", "--map", "Notes=colour"])
        .fails_with(2, "is not a field");
    ledger
        .run(&["import", &csv, "--plan", "p", "--effective", "1/4/24"])
        .fails_with(2, "four-digit year");
}

#[test]
fn an_excel_plan_with_a_title_block_and_fill_colours_imports_as_kept() {
    let ledger = Ledger::new();
    let shown = preview(&ledger, "excel-title-block-fills.xlsx", &[]);
    assert_eq!(
        shown["plan"]["title"],
        "Safeguarding Partnership Business Plan 2024-25"
    );
    assert_eq!(
        shown["columns"][2]["field"], "action",
        "Objective holds the actions"
    );
    let statuses: Vec<&str> = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.4", "3.2"]
        .iter()
        .map(|r| Ledger::action(&shown, r)["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "green",
            "green",
            "red",
            "complete",
            "carried-over",
            "carried-over",
            "amber",
            "not-started"
        ]
    );
    assert_eq!(
        Ledger::action(&shown, "1.2")["milestones"][0]["due"],
        "2024-09-30"
    );
    assert_eq!(
        Ledger::action(&shown, "1.1")["extras"][0]["header"],
        "Output"
    );
    let keys: Vec<&str> = shown["priorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["1", "2", "3"]);
    assert_eq!(shown["priorities"][2]["title"], "Learning from reviews");
    assert!(shown["notes"][0].as_str().unwrap().contains("2 sheets"));
    // A 2009-10 plan's two-digit years, with its period, and its sections.
    let csf = preview(
        &ledger,
        "excel-critical-success-factor.xlsx",
        &["--period", "2009-10"],
    );
    assert_eq!(csf["priorities"].as_array().unwrap().len(), 3);
    assert_eq!(
        Ledger::action(&csf, "1.1")["milestones"][0]["due"],
        "2009-10-31"
    );
    assert_eq!(
        Ledger::action(&csf, "2.1")["milestones"],
        serde_json::json!([]),
        "from April 2009 is a start"
    );
}
