//! `assure plans` reads per-plan summaries kept in `DATA/cache/plans.json`: whatever
//! happened since they were written (a status change, a new plan, a carry-over, a
//! redaction, a foreign or broken cache file), the list must be exactly what a
//! computation from scratch gives, and agree with `assure plan ID`.

use serde_json::Value;

use crate::support::Ledger;

fn cache(ledger: &Ledger) -> std::path::PathBuf {
    ledger.data.join("cache").join("plans.json")
}

/// `plans --json` as the cache gives it, after checking it against a run with no cache
/// and against each plan's own view.
fn plans(ledger: &Ledger) -> Value {
    let cached = ledger.run(&["plans", "--json"]).ok().json();
    assert!(cache(ledger).exists(), "plans keeps its summaries");
    std::fs::remove_file(cache(ledger)).unwrap();
    let fresh = ledger.run(&["plans", "--json"]).ok().json();
    assert_eq!(
        cached, fresh,
        "the cached summaries are a computation from scratch"
    );
    for plan in fresh.as_array().unwrap() {
        let id = plan["id"].as_str().unwrap();
        let view = ledger.run(&["plan", id, "--json"]).ok().json();
        assert_eq!(plan["counts"], view["counts"], "plan {id}");
        assert_eq!(
            plan["actions"].as_u64().unwrap() as usize,
            view["actions"].as_array().unwrap().len()
        );
        assert_eq!(plan["title"], view["plan"]["title"]);
    }
    fresh
}

fn count(plans: &Value, id: &str, status: &str) -> u64 {
    let plan = plans
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no plan {id} in {plans}"));
    plan["counts"][status].as_u64().unwrap()
}

#[test]
fn plans_list_follows_every_kind_of_change_since_it_was_cached() {
    let ledger = Ledger::new();
    assert_eq!(plans_or_empty(&ledger), Value::Array(vec![]));
    ledger.import_manchester();
    let before = plans(&ledger);
    let green = count(&before, "mcr", "green");

    ledger
        .run(&[
            "status",
            "mcr",
            "1.1",
            "green",
            "--note",
            "Done",
            "--effective",
            "2024-01-15",
        ])
        .ok();
    ledger.run(&["plans"]).ok();
    let after = plans(&ledger);
    assert_eq!(count(&after, "mcr", "green"), green + 1);

    ledger
        .run(&[
            "create-plan",
            "mcr-2024",
            "--title",
            "Next year",
            "--effective",
            "2024-03-01",
        ])
        .ok();
    ledger.run(&["plans"]).ok();
    ledger
        .run(&[
            "carry-over",
            "mcr",
            "6.5",
            "--to",
            "mcr-2024",
            "--reason",
            "not launched",
            "--effective",
            "2024-03-31",
        ])
        .ok();
    let carried = plans(&ledger);
    assert_eq!(
        count(&carried, "mcr", "carried-over"),
        count(&before, "mcr", "carried-over") + 1
    );
    assert_eq!(carried.as_array().unwrap().len(), 2);

    // A redaction changes an earlier event's payload without touching its plan's
    // subject: the list still follows it.
    ledger.run(&["plans"]).ok();
    let history = ledger
        .run(&["history", "--subject", "plan/mcr-2024", "--json"])
        .ok()
        .json();
    let seq = history[0]["seq"].as_u64().unwrap().to_string();
    ledger
        .run(&["redact", &seq, "--reason", "Erasure request ER-9", "--yes"])
        .ok();
    let redacted = plans(&ledger);
    assert_ne!(
        redacted.as_array().unwrap()[1]["title"],
        carried.as_array().unwrap()[1]["title"],
        "the erased title is not shown from the cache"
    );
}

fn plans_or_empty(ledger: &Ledger) -> Value {
    ledger.run(&["plans", "--json"]).ok().json()
}

#[test]
fn a_foreign_or_broken_cache_is_rebuilt_not_believed() {
    let one = Ledger::new();
    one.import_manchester();
    let two = Ledger::new();
    two.import_manchester();
    two.run(&[
        "status",
        "mcr",
        "1.1",
        "green",
        "--note",
        "Done",
        "--effective",
        "2024-01-15",
    ])
    .ok();
    let truth = plans(&two);
    // The same size of log, another history: its summaries are not this ledger's.
    one.run(&[
        "status",
        "mcr",
        "1.2",
        "red",
        "--note",
        "Late",
        "--effective",
        "2024-01-15",
    ])
    .ok();
    one.run(&["plans"]).ok();
    std::fs::copy(cache(&one), cache(&two)).unwrap();
    assert_eq!(two.run(&["plans", "--json"]).ok().json(), truth);
    for broken in [&b"{\"version\":1,"[..], b"", b"\xff\xfe"] {
        std::fs::write(cache(&two), broken).unwrap();
        assert_eq!(two.run(&["plans", "--json"]).ok().json(), truth);
    }
}

/// Someone who can write the folder forges the cache with a valid checksum: `plans`
/// would show it (it is derived data, like anything in the folder it can be forged),
/// but `verify` recomputes every summary, fails naming the file, and removes it.
#[test]
fn verify_catches_a_forged_cache_and_removes_it() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let truth = plans(&ledger);
    ledger.run(&["plans"]).ok();
    let mut cached: Value =
        serde_json::from_slice(&std::fs::read(cache(&ledger)).unwrap()).unwrap();
    cached["plans"]["mcr"]["counts"]["green"] = Value::from(14);
    let content = serde_json::to_vec(&(
        &cached["version"],
        &cached["size"],
        &cached["root"],
        &cached["plans"],
    ))
    .unwrap();
    cached["check"] = Value::from(blake3::hash(&content).to_hex().to_string());
    std::fs::write(cache(&ledger), serde_json::to_vec(&cached).unwrap()).unwrap();
    let forged = ledger.run(&["plans", "--json"]).ok().json();
    assert_eq!(
        count(&forged, "mcr", "green"),
        14,
        "the forgery is believed by plans"
    );
    let verify = ledger
        .run(&["verify"])
        .fails_with(1, "disagrees with the log for plan mcr");
    assert!(verify.stdout.contains("plans.json"), "{}", verify.stdout);
    assert!(!cache(&ledger).exists(), "removed, to be rebuilt");
    assert_eq!(ledger.run(&["plans", "--json"]).ok().json(), truth);
    ledger.run(&["verify"]).ok();
}
