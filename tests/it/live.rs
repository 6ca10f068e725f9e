//! The service keeps each event's slot and hash, not the events: it reads them back
//! from the log when a page needs them, and replays the world from the log when a
//! backdated change arrives. After many clients' changes, in order and backdated,
//! its world must be exactly the command line's replay of the same log, and the
//! history it pages through must be every event once.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use assure::web::accounts::Role;
use serde_json::json;

use crate::support::rng::{seed, Rng};
use crate::support::server::*;

const ACTIONS: [&str; 6] = ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1"];
const STATUSES: [&str; 4] = ["green", "amber", "red", "not started"];

#[test]
fn after_backdated_changes_from_many_clients_the_service_world_is_the_replay_of_its_log() {
    let server = Server::start();
    let seed = seed("ASSURE_LIVE_SEED", "the live world test");
    let clients = 4;
    std::thread::scope(|scope| {
        for client in 0..clients {
            let server = &server;
            scope.spawn(move || {
                let mut rng = Rng(seed ^ (client as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                for i in 0..25 {
                    let action = ACTIONS[rng.below(ACTIONS.len() as u64) as usize];
                    // Days through the first half of 2024, in no order: most are
                    // before a day already recorded, so each is a replay.
                    let day = 1 + rng.below(180);
                    let effective = (chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
                        + chrono::Days::new(day))
                    .format("%Y-%m-%d")
                    .to_string();
                    let path = |what: &str| format!("/api/v1/plans/{PLAN}/actions/{action}/{what}");
                    let reply = if rng.below(2) == 0 {
                        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
                        server.api(
                            Role::Manager,
                            "POST",
                            &path("status"),
                            json!({ "status": status, "rationale": format!("client {client} change {i}"), "effective": effective }),
                        )
                    } else {
                        server.api(
                            Role::Manager,
                            "POST",
                            &path("progress"),
                            json!({ "note": format!("client {client} note {i}"), "effective": effective }),
                        )
                    };
                    // Recorded, or refused for the history it lands in; never a failure.
                    assert!(
                        reply.status == 201 || reply.status == 422,
                        "client {client} change {i}: {} {}",
                        reply.status,
                        reply.body
                    );
                }
            });
        }
    });

    let shared = &server.state().shared;
    let live = shared.read().world.world().clone();
    let size = shared.read().size();
    let replayed = {
        let ledger = shared.ledger();
        let mut events = Vec::new();
        ledger
            .scan(0..ledger.size(), &mut |e| {
                events.push(e);
                Ok(true)
            })
            .unwrap();
        assert_eq!(ledger.size(), size);
        let events = projections::read::decode_all(events).unwrap();
        projections::World::replay(&events).0
    };
    assert!(
        live == replayed,
        "the service's world differs from a replay of its log (seed {seed:#x})"
    );

    // The history, page by page through the API, is every event once, in seq order.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = server
            .api(
                Role::Auditor,
                "GET",
                &format!("/api/v1/history?after={after}&limit=37"),
                serde_json::Value::Null,
            )
            .json();
        for event in page["events"].as_array().unwrap() {
            seen.push(event["seq"].as_u64().unwrap());
        }
        match page["next"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, (0..size).collect::<Vec<_>>());
    // One plan's history: exactly the events filed under it.
    let subject = format!("plan/{PLAN}");
    let page = server
        .api(
            Role::Auditor,
            "GET",
            &format!("/api/v1/history?subject={subject}&limit=1000"),
            serde_json::Value::Null,
        )
        .json();
    let listed: BTreeSet<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["subject"].as_str().unwrap().starts_with(&subject), "{e}");
            e["seq"].as_u64().unwrap()
        })
        .collect();
    let filed: BTreeSet<u64> = shared
        .ledger()
        .seqs_with_subject_prefix(&subject)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(listed, filed);
    // The history page shows the newest events, read back from the log.
    let history = server.page(Role::Auditor, "/history");
    assert_eq!(history.status, 200);
    assert!(history.body.contains("client "), "{}", history.body);
}
