//! Records that say what happened (issue 12), end to end through the binary: dates
//! that cannot land in the wrong century, no change signed by an unknown actor,
//! statuses as plans write them, carry-overs that keep the board's RAG, late entries
//! made visible, a challenge's whole life, and the command line's rough edges.
//! Regression tests are named after what broke.

#![allow(clippy::unwrap_used)]

use std::io::Read as _;
use std::process::Stdio;

use crate::support::{assure, Ledger};

#[test]
fn a_two_digit_or_pre_1990_year_is_refused_and_nothing_is_recorded() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let before = ledger.history();
    for (flag, date) in [
        ("--effective", "5/3/24"),
        ("--effective", "0024-03-05"),
        ("--effective", "1989-12-31"),
    ] {
        ledger
            .run(&["status", "mcr", "1.1", "amber", "--note", "n", flag, date])
            .fails_with(2, &[flag, "four-digit year"]);
    }
    ledger
        .run(&["create-plan", "q", "--title", "Q", "--effective", "1/4/24"])
        .fails_with(2, "--effective");
    ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "GMP",
            "--text",
            "t",
            "--due",
            "30/4/24",
        ])
        .fails_with(2, "--due");
    ledger
        .run(&["plan", "mcr", "--known-at", "24-03-31"])
        .fails_with(2, "--known-at");
    assert_eq!(ledger.history(), before);
    // The UK form with four digits is the same day as the ISO one.
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "amber",
            "--note",
            "n",
            "--effective",
            "05/03/2024",
        ])
        .ok();
    let history = ledger.history();
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["effective"],
        "2024-03-05"
    );
}

#[test]
fn no_change_is_signed_by_an_unknown_or_empty_actor() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let before = ledger.history();
    // No --actor, no ASSURE_ACTOR, no login name.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("--data")
        .arg(&ledger.data)
        .args(["status", "mcr", "1.1", "amber", "--note", "n"])
        .env_remove("ASSURE_ACTOR")
        .env_remove("ASSURE_DATA")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    crate::support::Run::from_output(output).fails_with(2, &["--actor", "ASSURE_ACTOR"]);
    ledger
        .run_as("", &["status", "mcr", "1.1", "amber", "--note", "n"])
        .fails_with(2, "--actor");
    ledger
        .run_as("  ", &["status", "mcr", "1.1", "amber", "--note", "n"])
        .fails_with(2, "--actor");
    assert_eq!(ledger.history(), before);
    // Reading needs no one named.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("--data")
        .arg(&ledger.data)
        .args(["plans"])
        .env_remove("ASSURE_ACTOR")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    crate::support::Run::from_output(output).ok();
}

#[test]
fn grey_is_complete_and_blue_says_to_carry_over() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&["status", "mcr", "1.1", "grey", "--note", "done"])
        .ok();
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert_eq!(Ledger::action(&plan, "1.1")["status"], "complete");
    ledger
        .run(&["status", "mcr", "1.2", "blue", "--note", "next year"])
        .fails_with(2, "carry-over");
}

#[test]
fn a_missing_evidence_file_is_rejected_input_exit_2() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            "n",
            "--evidence",
            "/no/such/file.pdf",
        ])
        .fails_with(2, &["/no/such/file.pdf", "check the path"]);
}

#[test]
fn history_json_into_a_closed_pipe_ends_quietly_without_a_panic() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    for _ in 0..20 {
        ledger
            .run(&[
                "progress",
                "mcr",
                "1.1",
                "--note",
                &"a long note ".repeat(400),
            ])
            .ok();
    }
    for args in [
        &["history", "--json"][..],
        &["checkpoints"][..],
        &["history"][..],
    ] {
        let mut child = assure(&ledger.data, "tester")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then hang up, as `| head -c 1` does.
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        let _ = out.read(&mut first);
        drop(out);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(status.success(), "{args:?}: {status:?} {stderr}");
    }
}

#[test]
fn a_checkpoint_saved_with_windows_line_endings_still_verifies() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let vkey = ledger.run(&["key", "show"]).ok().stdout.trim().to_owned();
    let note = ledger.run(&["checkpoint"]).ok().stdout;
    let crlf = ledger.file("minutes.txt", note.replace('\n', "\r\n").as_bytes());
    let extra = ledger.file("extra.txt", format!("{note}\n\n").as_bytes());
    ledger
        .run(&["status", "mcr", "1.1", "green", "--note", "done"])
        .ok();
    for file in [&crlf, &extra] {
        let report = ledger
            .run(&["verify", "--against", file, "--trust", &vkey, "--json"])
            .ok()
            .json();
        assert_eq!(report["ok"], true, "{file}");
    }
}

#[test]
fn a_history_subject_that_matches_nothing_names_the_subjects_near_it() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let run = ledger.run(&["history", "--subject", "plan/mcr/2.3"]).ok();
    assert!(run.stderr.contains("plan/mcr/action/2.3"), "{}", run.stderr);
}

#[test]
fn a_carried_action_keeps_the_boards_rag_and_takes_a_new_priority_and_timescale() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&["status", "mcr", "1.1", "red", "--note", "stalled"])
        .ok();
    ledger
        .run(&[
            "create-plan",
            "next",
            "--title",
            "2024-25",
            "--period",
            "2024-25",
        ])
        .ok();
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "1.1",
            "--to",
            "next",
            "--reason",
            "unfinished",
        ])
        .ok();
    let next = ledger.run(&["plan", "next", "--json"]).ok().json();
    let carried = Ledger::action(&next, "1.1");
    assert_eq!(
        carried["status"], "red",
        "the board's RAG, never a made-up Amber"
    );
    assert_eq!(carried["carried_from"], "mcr/1.1");
    // A priority the new plan lacks is refused, naming the ones it has.
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "1.2",
            "--to",
            "next",
            "--reason",
            "r",
            "--priority",
            "9",
        ])
        .fails_with(2, "no priority 9");
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "1.2",
            "--to",
            "next",
            "--reason",
            "rebaselined",
            "--priority",
            "1",
            "--timescale",
            "March 2025",
            "--status",
            "amber",
        ])
        .ok();
    let next = ledger.run(&["plan", "next", "--json"]).ok().json();
    let moved = Ledger::action(&next, "1.2");
    assert_eq!(moved["status"], "amber");
    assert_eq!(moved["due"], "March 2025");
    assert_eq!(moved["milestones"][0]["date"], "2025-03-31");
}

#[test]
fn an_entry_recorded_two_years_after_it_took_effect_is_marked_late() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&["status", "mcr", "1.1", "green", "--note", "on time"])
        .ok();
    ledger
        .run(&[
            "status",
            "mcr",
            "1.2",
            "amber",
            "--note",
            "late",
            "--effective",
            "2023-12-01",
        ])
        .ok();
    let history = ledger.history();
    let entries = history.as_array().unwrap();
    let on_time = &entries[entries.len() - 2];
    let late = &entries[entries.len() - 1];
    assert_eq!(on_time["late_days"], 0);
    assert!(late["late_days"].as_i64().unwrap() > 365, "{late}");
    let action = ledger.run(&["action", "mcr", "1.2"]).ok().stdout;
    assert!(action.contains("days later"), "{action}");
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert!(
        Ledger::action(&plan, "1.2")["last_update"]["late_days"]
            .as_i64()
            .unwrap()
            > 365
    );
}

#[test]
fn challenge_show_tells_the_whole_life_and_a_reopened_challenge_shows_open() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let id = ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "GMP",
            "--text",
            "Why so slow?",
            "--about",
            "mcr/1.1",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    for step in [
        &["challenge", "respond", &id, "--text", "We are on it"][..],
        &[
            "challenge",
            "escalate",
            &id,
            "--to",
            "Board",
            "--reason",
            "not enough",
        ][..],
        &[
            "challenge",
            "close",
            &id,
            "--outcome",
            "Agreed plan",
            "--impact",
            "Faster",
        ][..],
        &["challenge", "reopen", &id, "--reason", "Slipped again"][..],
    ] {
        ledger.run(step).ok();
    }
    let shown = ledger
        .run(&["challenge", "show", &id, "--json"])
        .ok()
        .json();
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["outcome"], serde_json::Value::Null);
    assert_eq!(shown["escalated_to"], "Board");
    let thread: Vec<&str> = shown["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        thread,
        [
            "escalated to Board: not enough",
            "closed: Agreed plan (impact: Faster)",
            "reopened: Slipped again"
        ]
    );
    let text = ledger.run(&["challenge", "show", &id]).ok().stdout;
    assert!(
        text.contains("We are on it") && text.contains("closed: Agreed plan"),
        "{text}"
    );
    let log = ledger.run(&["challenges"]).ok().stdout;
    assert!(
        log.contains("Board"),
        "the log names the escalation target: {log}"
    );
    ledger
        .run(&["challenge", "show", "C-0099"])
        .fails_with(2, "no challenge C-0099");
}

#[test]
fn a_due_date_is_extended_and_reset_on_reopening_and_a_response_names_on_whose_behalf() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let id = ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "GMP",
            "--text",
            "Why?",
            "--due",
            "2030-01-31",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    ledger
        .run(&[
            "challenge",
            "extend",
            &id,
            "--due",
            "2030-03-31",
            "--reason",
            "board agreed",
        ])
        .ok();
    ledger
        .run(&[
            "challenge",
            "extend",
            &id,
            "--due",
            "31/3/30",
            "--reason",
            "x",
        ])
        .fails_with(2, "--due");
    ledger
        .run(&["challenge", "respond", &id, "--text", "Our answer"])
        .ok();
    ledger
        .run(&["challenge", "close", &id, "--outcome", "Assured"])
        .ok();
    ledger
        .run(&[
            "challenge",
            "reopen",
            &id,
            "--reason",
            "Not delivered",
            "--due",
            "2030-06-30",
        ])
        .ok();
    let shown = ledger
        .run(&["challenge", "show", &id, "--json"])
        .ok()
        .json();
    assert_eq!(shown["due"], "2030-06-30");
    assert_eq!(shown["status"], "open");
    assert_eq!(
        shown["responses"][0]["text"], "Our answer (recorded on behalf of GMP)",
        "the chair or manager records a response for the agency, and it says so"
    );
    let thread: Vec<&str> = shown["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        thread[0],
        "response due date moved from 2030-01-31 to 2030-03-31: board agreed"
    );
    assert!(
        thread[2].contains("response due by 2030-06-30"),
        "{thread:?}"
    );
}

#[test]
fn redact_says_what_it_will_erase_asks_and_never_hides_a_record() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    ledger
        .run(&["progress", "mcr", "1.1", "--note", "Spoke to J. Smith"])
        .ok();
    let before = ledger.history();
    let last = before.as_array().unwrap().last().unwrap()["seq"].to_string();
    ledger
        .run(&["redact", "9999", "--reason", "r", "--yes"])
        .fails_with(2, "no event 9999");
    // Without --yes and with no one to answer, nothing is erased.
    let refused = ledger
        .run(&["redact", &last, "--reason", "ER-1"])
        .fails_with(2, "not confirmed");
    for said in ["Spoke to J. Smith", "What stays", "[erased "] {
        assert!(refused.stderr.contains(said), "{said}: {}", refused.stderr);
    }
    assert_eq!(ledger.history(), before);
    // Answered yes: erased.
    let mut child = assure(&ledger.data, "dpo")
        .args(["redact", &last, "--reason", "ER-1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let run = crate::support::Run::from_output(child.wait_with_output().unwrap()).ok();
    assert!(run.stdout.contains("were erased"), "{}", run.stdout);
    assert!(!ledger.run(&["history"]).ok().stdout.contains("J. Smith"));
    // What an erasure appended holds no words and is not erased in its turn.
    let after = ledger.history();
    let appended: Vec<String> = after.as_array().unwrap()[before.as_array().unwrap().len()..]
        .iter()
        .map(|e| e["seq"].to_string())
        .collect();
    assert_eq!(appended.len(), 2, "the kept structure and the redaction");
    for seq in &appended {
        ledger
            .run(&["redact", seq, "--reason", "r", "--yes"])
            .fails_with(2, &["cannot be erased", "Nothing was erased"]);
    }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    }
    found
}

fn listed(ledger: &Ledger, args: &[&str]) -> Vec<String> {
    let plan = ledger.run(args).ok().json();
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} {}", a["ref"], a["status"]))
        .collect()
}

#[test]
fn erasure_removes_words_never_records_and_leaves_them_in_no_file() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let secret = "Mrs Zebedee-Quartermaine";
    let evidence = ledger.file("visit.txt", b"EVIDENCE-ABOUT-ZEBEDEE-QUARTERMAINE");
    ledger
        .run(&[
            "progress",
            "mcr",
            "1.1",
            "--note",
            &format!("Visited {secret} at home"),
            "--evidence",
            &evidence,
        ])
        .ok();
    ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "Health",
            "--text",
            &format!("Why was {secret} not seen?"),
            "--about",
            "mcr/1.1",
        ])
        .ok();
    let history = ledger.history();
    let events = history.as_array().unwrap();
    let seq_of = |kind: &str| events.iter().find(|e| e["kind"] == kind).unwrap()["seq"].to_string();
    let (note, raised) = (seq_of("action.progress_noted"), seq_of("challenge.raised"));
    let known_before = events.last().unwrap()["recorded_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let plans_before = ledger.run(&["plans", "--json"]).ok().json();
    let views = [
        vec!["plan", "mcr", "--json"],
        vec!["plan", "mcr", "--json", "--as-of", "2023-11-20"],
        vec!["plan", "mcr", "--json", "--known-at", &known_before],
    ];
    let before: Vec<Vec<String>> = views.iter().map(|v| listed(&ledger, v)).collect();
    let challenges_before = ledger.run(&["challenges", "--json"]).ok().json();
    assert_eq!(
        ledger
            .dir
            .path()
            .join("data/blobs")
            .read_dir()
            .unwrap()
            .count(),
        1
    );

    // Event 0 creates the plan; the note names evidence; the challenge is a record.
    for seq in ["0", &note, &raised] {
        ledger
            .run(&["redact", seq, "--reason", "Erasure request ER-9", "--yes"])
            .ok();
    }

    // Every plan, action and challenge is still listed, on every time axis.
    let plans_after = ledger.run(&["plans", "--json"]).ok().json();
    assert_eq!(
        plans_after.as_array().unwrap().len(),
        plans_before.as_array().unwrap().len()
    );
    assert_eq!(plans_after[0]["id"], "mcr");
    let after: Vec<Vec<String>> = views.iter().map(|v| listed(&ledger, v)).collect();
    assert_eq!(after, before);
    assert_eq!(after[0].len(), 14);
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    assert!(
        plan["plan"]["title"].as_str().unwrap().contains("[erased "),
        "{}",
        plan["plan"]["title"]
    );
    assert!(plan["plan"]["title"]
        .as_str()
        .unwrap()
        .contains("Erasure request ER-9"));
    let challenges_after = ledger.run(&["challenges", "--json"]).ok().json();
    assert_eq!(challenges_after[0]["id"], challenges_before[0]["id"]);
    assert_eq!(
        challenges_after[0]["to_agency"],
        challenges_before[0]["to_agency"]
    );
    assert_eq!(
        challenges_after[0]["status"],
        challenges_before[0]["status"]
    );
    assert!(challenges_after[0]["text"]
        .as_str()
        .unwrap()
        .contains("[erased "));

    // The words and the evidence are nowhere in the data folder.
    let data = ledger.data.clone();
    assert_eq!(
        files_containing(&data, secret),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_containing(&data, "ZEBEDEE"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(data.join("blobs").read_dir().unwrap().count(), 0);
    assert!(!ledger.run(&["history"]).ok().stdout.contains(secret));
    ledger.run(&["verify"]).ok();

    // Nor in an export, which still verifies.
    let out = ledger.dir.path().join("bundle");
    ledger.run(&["export", "--out", out.to_str().unwrap()]).ok();
    assert!(files_containing(&out, secret).is_empty());
    assert!(files_containing(&out, "ZEBEDEE").is_empty());
    let vkey = ledger.run(&["key", "show"]).ok().stdout.trim().to_owned();
    ledger
        .run(&[
            "verify",
            "--bundle",
            out.to_str().unwrap(),
            "--trust",
            &vkey,
        ])
        .ok();
    // Erasing again is harmless: it only finishes what a cut-off erasure left (here
    // an evidence file it had not deleted yet) and makes sure no copy is left.
    let stray = b"EVIDENCE-ABOUT-ZEBEDEE-QUARTERMAINE again";
    let stray_name = ledger::hex::hex(&ledger::blobs::blake3_of(stray));
    std::fs::write(data.join("blobs").join(&stray_name), stray).unwrap();
    assert!(ledger
        .run(&["redact", &note, "--reason", "again", "--yes"])
        .ok()
        .stdout
        .contains("already erased"));
    assert!(files_containing(&data, "ZEBEDEE").is_empty());
}

#[test]
fn a_registered_agency_is_one_agency_by_any_of_its_names() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    // Before any is registered, a challenge may name any agency (as ledgers did).
    ledger
        .run(&["challenge", "raise", "--to", "Anyone", "--text", "t"])
        .ok();
    ledger
        .run(&[
            "agency",
            "add",
            "gmp",
            "--name",
            "Greater Manchester Police",
            "--alias",
            "GMP",
        ])
        .ok();
    ledger
        .run(&["agency", "add", "gmp2", "--name", "Other", "--alias", "gmp"])
        .fails_with(2, "already names agency gmp");
    let list = ledger.run(&["agencies", "--json"]).ok().json();
    assert_eq!(list[0]["name"], "Greater Manchester Police");
    // Now a challenge goes to a registered agency, by its full name.
    let id = ledger
        .run(&["challenge", "raise", "--to", "gmp", "--text", "Why?"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let shown = ledger
        .run(&["challenge", "show", &id, "--json"])
        .ok()
        .json();
    assert_eq!(shown["to"], "Greater Manchester Police");
    ledger
        .run(&[
            "challenge",
            "raise",
            "--to",
            "Police Scotland",
            "--text",
            "t",
        ])
        .fails_with(
            2,
            &["not a registered agency", "Greater Manchester Police (gmp)"],
        );
    // The log filtered by any of its names finds it.
    let log = ledger
        .run(&["challenges", "--agency", "GMP", "--json"])
        .ok()
        .json();
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
}

#[test]
fn an_import_warns_of_each_lead_that_names_no_registered_agency() {
    let ledger = Ledger::new();
    ledger
        .run(&[
            "agency",
            "add",
            "gmp",
            "--name",
            "Greater Manchester Police",
            "--alias",
            "GMP",
        ])
        .ok();
    ledger
        .run(&["agency", "add", "health", "--name", "Health"])
        .ok();
    let file = crate::support::fixture("manchester-jtai-2023.csv");
    let preview = ledger
        .run(&[
            "import",
            file.to_str().unwrap(),
            "--plan",
            "mcr",
            "--effective",
            "2023-11-20",
            "--dry-run",
            "--json",
        ])
        .ok()
        .json();
    let warnings = preview.to_string();
    // "Health" and "GMP" (action 6.2's leads) are registered; a person's name is not.
    assert!(!warnings.contains(r#"the lead \"GMP\""#), "{warnings}");
    assert!(!warnings.contains(r#"the lead \"Health\""#), "{warnings}");
    assert!(
        warnings.contains("names no registered agency"),
        "{warnings}"
    );
    // The preview shows which agencies each action's leads name.
    let action = preview["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ref"] == "6.2")
        .unwrap();
    assert_eq!(
        action["lead_agencies"],
        serde_json::json!(["gmp", "health"])
    );
    // Nothing is dropped: the leads are kept as written.
    ledger
        .run(&[
            "import",
            file.to_str().unwrap(),
            "--plan",
            "mcr",
            "--effective",
            "2023-11-20",
        ])
        .ok();
    let plan = ledger.run(&["plan", "mcr", "--json"]).ok().json();
    let leads = Ledger::action(&plan, "6.2")["leads"].clone();
    assert_eq!(leads, serde_json::json!(["Health", "GMP"]));
}

#[test]
fn a_partner_account_speaks_for_a_registered_agency() {
    let ledger = Ledger::new();
    let add = |agency: &str| {
        let mut child = assure(&ledger.data, "admin")
            .args(["user", "add", "pl", "--role", "partner", "--agency", agency])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"a long enough password\n")
            .unwrap();
        crate::support::Run::from_output(child.wait_with_output().unwrap())
    };
    ledger
        .run(&[
            "agency",
            "add",
            "gmp",
            "--name",
            "Greater Manchester Police",
            "--alias",
            "GMP",
        ])
        .ok();
    add("Police").fails_with(
        2,
        &["not a registered agency", "Greater Manchester Police (gmp)"],
    );
    add("gmp").ok();
    let users = ledger.run(&["user", "list"]).ok().stdout;
    assert!(
        users.lines().any(|row| row.starts_with("pl ")
            && row.contains(" partner ")
            && row.contains(" Greater Manchester Police ")),
        "{users}"
    );
}

#[test]
fn year_end_statuses_taken_at_import_are_marked_as_such_not_as_written_late() {
    let ledger = Ledger::new();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/title-rows.csv");
    ledger
        .run(&[
            "import",
            file.to_str().unwrap(),
            "--plan",
            "p",
            "--effective",
            "2024-04-01",
            "--as-at",
            "2025-03-31",
        ])
        .ok();
    let plan = ledger.run(&["plan", "p", "--json"]).ok().json();
    let imported = Ledger::action(&plan, "1.3");
    assert_eq!(imported["last_update"]["recorded_at_import"], true);
    // A status typed in now for last year is written late, and says so.
    ledger
        .run(&[
            "status",
            "p",
            "1.3",
            "amber",
            "--note",
            "Reopened",
            "--effective",
            "2025-04-02",
        ])
        .ok();
    let timeline = ledger.run(&["action", "p", "1.3"]).ok().stdout;
    assert!(timeline.contains(", recorded at import)"), "{timeline}");
    assert!(timeline.contains("days later)"), "{timeline}");
    let plan = ledger.run(&["plan", "p", "--json"]).ok().json();
    assert_eq!(
        Ledger::action(&plan, "1.3")["last_update"]["recorded_at_import"],
        false
    );
}

#[test]
fn the_lateness_threshold_is_the_ledgers_own_and_recorded() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let hundred_days_ago = (chrono::Utc::now().date_naive() - chrono::Days::new(100))
        .format("%Y-%m-%d")
        .to_string();
    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "amber",
            "--note",
            "n",
            "--effective",
            &hundred_days_ago,
        ])
        .ok();
    let recorded = ledger.history();
    let days = recorded.as_array().unwrap().last().unwrap()["late_days"]
        .as_i64()
        .unwrap();
    assert!(days >= 99, "{days}");
    let marked = |ledger: &Ledger| {
        ledger
            .run(&["action", "mcr", "1.1"])
            .ok()
            .stdout
            .contains("days later")
    };
    assert!(marked(&ledger), "late by the default 14 days");
    ledger
        .run(&["late-after", "0", "--reason", "r"])
        .fails_with(2, "from 1 to 366");
    let set = (days + 1).to_string();
    ledger
        .run(&[
            "late-after",
            &set,
            "--reason",
            "Board agreed a longer window",
        ])
        .ok();
    assert!(
        !marked(&ledger),
        "not late under the ledger's own threshold"
    );
    let history = ledger.history();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "ledger.late_after_set");
    assert!(last["summary"].as_str().unwrap().contains("Board agreed"));
}
