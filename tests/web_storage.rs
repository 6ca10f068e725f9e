//! A storage failure inside the running service, injected on the service's own
//! syncer thread (`ledger::faults::install_for_thread` is process-wide, hence a test
//! binary of its own): the change is answered 503 and not shown, the ledger takes no
//! more changes and says so, and nothing acknowledged is lost.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "it/support/server.rs"]
mod server;

use assure::web::accounts::Role;
use ledger::faults::{self, Injector, Mode, Op};
use serde_json::json;
use server::{Server, PLAN};

#[test]
fn a_failed_flush_is_a_503_the_service_stops_taking_changes_and_nothing_acknowledged_is_lost() {
    let server = Server::start();
    let path = format!("/api/v1/plans/{PLAN}/actions/1.1/progress");
    let before = server.state().shared.read().size();
    let kept = server.api(Role::Manager, "POST", &path, json!({ "note": "kept" }));
    assert_eq!(kept.status, 201, "{}", kept.body);

    // From now on every fsync the syncer makes fails (EIO).
    faults::install_for_thread(
        "assure-syncer",
        Injector::fail(Mode::From(1)).only(&[Op::Fsync]),
    );
    let failed = server.api(Role::Manager, "POST", &path, json!({ "note": "lost" }));
    server.assert_not_recorded(&failed, before + 1);

    // The ledger refuses everything after it, through the API and the pages, and the
    // dashboard says why and what to do.
    let refused = server.api(Role::Manager, "POST", &path, json!({ "note": "after" }));
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.contains("restart the service"),
        "{}",
        refused.body
    );
    let form = server.form(
        Role::Manager,
        &format!("/plans/{PLAN}/actions/1.1/status"),
        &[("status", "amber"), ("rationale", "from the page")],
    );
    assert_eq!(form.status, 503, "{}", form.body);
    let dashboard = server.page(Role::Auditor, "/");
    assert!(
        dashboard.body.contains("stopped taking changes"),
        "{}",
        dashboard.body
    );
    let history = server.api(
        Role::Auditor,
        "GET",
        "/api/v1/history?subject=plan/mcr-jtai-2023/action/1.1",
        serde_json::Value::Null,
    );
    assert!(history.body.contains("kept") && !history.body.contains("lost"));

    // After a restart: the acknowledged change is there; the failed one is there
    // whole or not at all (it was never acknowledged); the chain verifies.
    let data = server.state().data.clone();
    let dir = server.stop();
    let ledger = ledger::Ledger::open(&data).unwrap();
    let size = ledger.size();
    assert!(size == before + 1 || size == before + 2, "{size}");
    assert!(ledger.verify().ok);
    let kept_event = ledger.event(before).unwrap();
    assert!(String::from_utf8_lossy(&kept_event.body.unwrap().payload).contains("kept"));
    drop((ledger, dir));
}
