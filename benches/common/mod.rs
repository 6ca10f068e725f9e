//! The synthetic 1,000,000-event ledger the benchmarks share (100 plans × 100
//! actions, the rest status, progress and challenge events), built once under
//! `target/bench-data/` and reused while its size is right; set
//! `ASSURE_BENCH_EVENTS` to build a smaller one for a quick run.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use ledger::{Ledger, NewEvent};
use projections::events::*;

pub const PLANS: usize = 100;
pub const ACTIONS: usize = 100;
pub const FIRST_DAY: i32 = 19_000; // 2022-01-08

pub fn total_events() -> usize {
    std::env::var("ASSURE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

pub fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

pub fn new_event(subject: String, effective: i32, event: DomainEvent) -> NewEvent {
    NewEvent {
        effective,
        actor: "bench".into(),
        subject,
        kind: event.kind().into(),
        payload_schema: event.schema(),
        payload: event.encode(),
    }
}

/// The i-th synthetic event after the plans and actions: mostly status and progress,
/// with a challenge event every 20th.
pub fn activity(i: usize) -> NewEvent {
    let plan = format!("plan-{:03}", i % PLANS);
    let reference = format!("{}.{}", (i / PLANS) % 10 + 1, (i / (PLANS * 10)) % 10 + 1);
    let effective = FIRST_DAY + 30 + (i / 2_000) as i32;
    if i.is_multiple_of(20) {
        let id = format!("C-{:05}", i / 20);
        let raised = ChallengeRaised {
            to_agency: "Agency".into(),
            about: vec![],
            text: "Please evidence progress on this action".into(),
            response_due: None,
        };
        return new_event(
            subject::challenge(&id),
            effective,
            DomainEvent::ChallengeRaised(raised),
        );
    }
    if i.is_multiple_of(3) {
        let note = ProgressNoted {
            note: "Reported to the board with the quarterly scorecard".into(),
            evidence: vec![],
        };
        return new_event(
            subject::action(&plan, &reference),
            effective,
            DomainEvent::ProgressNoted(note),
        );
    }
    let status = [Rag::Green, Rag::Amber, Rag::Red][i % 3];
    new_event(
        subject::action(&plan, &reference),
        effective,
        DomainEvent::StatusChanged(StatusChanged {
            status,
            rationale: "Reviewed at the subgroup".into(),
        }),
    )
}

pub fn setup_events() -> Vec<NewEvent> {
    let mut events = Vec::new();
    for p in 0..PLANS {
        let plan = format!("plan-{p:03}");
        events.push(new_event(
            subject::plan(&plan),
            FIRST_DAY,
            DomainEvent::PlanCreated(PlanCreated {
                title: format!("Plan {p}"),
                period: None,
            }),
        ));
        for k in 1..=10 {
            events.push(new_event(
                subject::plan(&plan),
                FIRST_DAY,
                DomainEvent::PriorityAdded(PriorityAdded {
                    key: k.to_string(),
                    title: format!("Priority {k}"),
                    description: String::new(),
                }),
            ));
        }
        for a in 0..ACTIONS {
            let reference = format!("{}.{}", a % 10 + 1, a / 10 + 1);
            let details = ActionDetails {
                priority_key: (a % 10 + 1).to_string(),
                title: "Develop and embed a multi-agency approach to this priority".into(),
                impact: "Children are safer".into(),
                outcome: "Audit shows improvement".into(),
                leads: vec!["Community Safety Partnership".into()],
                timescale: "May 2024".into(),
                milestones: vec![],
                cross_refs: vec![],
                extras: Vec::new(),
            };
            let added = ActionAdded {
                details,
                status: Rag::NotStarted,
                progress: String::new(),
                source: "bench".into(),
            };
            events.push(new_event(
                subject::action(&plan, &reference),
                FIRST_DAY,
                DomainEvent::ActionAdded(added),
            ));
        }
    }
    events
}

/// Opens the synthetic ledger, building it first if it is missing or the wrong size.
pub fn synthetic_ledger() -> Ledger {
    let dir = bench_dir().join(format!("ledger-{}", total_events()));
    if let Ok(ledger) = Ledger::open(&dir) {
        if ledger.size() == total_events() as u64 {
            return ledger;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(bench_dir()).expect("bench folder");
    let mut ledger = Ledger::init(&dir).expect("init bench ledger");
    let start = Instant::now();
    let mut pending = setup_events();
    let mut i = 0;
    while (ledger.size() as usize) < total_events() {
        while pending.len() < 10_000 && ledger.size() as usize + pending.len() < total_events() {
            pending.push(activity(i));
            i += 1;
        }
        ledger.append(std::mem::take(&mut pending)).expect("append");
    }
    eprintln!("built {} events in {:.1?}", ledger.size(), start.elapsed());
    ledger
}
