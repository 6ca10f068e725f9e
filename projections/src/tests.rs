//! Data-first tests of the fold, and property tests over random command histories:
//! the incrementally maintained world equals a replay, and the world as of any date
//! equals the replay of exactly the events effective by then.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use crate::events::*;
use crate::planned::{validate, Context, Planned};
use crate::read::LiveWorld;
use crate::read::{world_at, TimeQuery};
use crate::views::plan_view;
use crate::world::{ChallengeStatus, Recorded, Rejection, Stamp, World};

fn details(priority: &str, title: &str) -> ActionDetails {
    ActionDetails {
        priority_key: priority.into(),
        title: title.into(),
        impact: String::new(),
        outcome: String::new(),
        leads: vec!["Police".into()],
        timescale: "May 2024".into(),
        milestones: Vec::new(),
        cross_refs: Vec::new(),
        extras: Vec::new(),
    }
}

/// Builds recorded events with consecutive seqs.
struct History {
    events: Vec<Recorded>,
}

impl History {
    fn new() -> History {
        History { events: Vec::new() }
    }

    fn push(&mut self, effective: i32, subject: String, event: DomainEvent) -> &mut History {
        let seq = self.events.len() as u64;
        self.events.push(Recorded {
            stamp: Stamp {
                seq,
                recorded_at: 1_000 + seq as i64,
                effective,
                actor: "t".into(),
            },
            subject,
            event: Some(event),
        });
        self
    }

    fn plan(&mut self, id: &str, effective: i32) -> &mut History {
        self.push(
            effective,
            subject::plan(id),
            DomainEvent::PlanCreated(PlanCreated {
                title: id.into(),
                period: None,
            }),
        )
        .push(
            effective,
            subject::plan(id),
            DomainEvent::PriorityAdded(PriorityAdded {
                key: "1".into(),
                title: "Safety".into(),
                description: String::new(),
            }),
        )
    }

    fn action(&mut self, plan: &str, reference: &str, effective: i32) -> &mut History {
        self.push(
            effective,
            subject::action(plan, reference),
            DomainEvent::ActionAdded(ActionAdded {
                details: details("1", reference),
                status: Rag::NotStarted,
                progress: String::new(),
                source: "test".into(),
            }),
        )
    }

    fn status(&mut self, plan: &str, reference: &str, status: Rag, effective: i32) -> &mut History {
        self.push(
            effective,
            subject::action(plan, reference),
            DomainEvent::StatusChanged(StatusChanged {
                status,
                rationale: "why".into(),
            }),
        )
    }
}

#[test]
fn a_plan_folds_into_its_view_grouped_and_counted() {
    let mut h = History::new();
    h.plan("p", 10)
        .action("p", "1.10", 10)
        .action("p", "1.2", 10)
        .status("p", "1.2", Rag::Green, 12);
    let world = World::replay_strict(&h.events).unwrap();
    let view = plan_view(world.plan("p").unwrap(), 20);
    let refs: Vec<&str> = view.actions.iter().map(|a| a.reference.as_str()).collect();
    assert_eq!(refs, ["1.2", "1.10"]);
    assert_eq!(view.counts["green"], 1);
    assert_eq!(view.counts["not-started"], 1);
    assert_eq!(view.actions[0].last_update.seq, 4);
}

#[test]
fn events_that_do_not_fit_are_rejected_strictly_and_skipped_leniently() {
    let mut h = History::new();
    h.plan("p", 10)
        .status("p", "9.9", Rag::Green, 11)
        .action("p", "1.1", 12);
    assert!(World::replay_strict(&h.events)
        .unwrap_err()
        .0
        .contains("no action 9.9"));
    let (world, skipped) = World::replay(&h.events);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, 2);
    assert!(world.plan("p").unwrap().action("1.1").is_some());
}

#[test]
fn a_redacted_payload_keeps_history_and_breaks_nothing() {
    let mut h = History::new();
    h.plan("p", 10)
        .action("p", "1.1", 10)
        .status("p", "1.1", Rag::Red, 11);
    h.events[3].event = None;
    let world = World::replay_strict(&h.events).unwrap();
    assert_eq!(
        world.plan("p").unwrap().action("1.1").unwrap().status,
        Rag::NotStarted
    );
}

fn context(history: &[Recorded], effective: i32) -> Context {
    Context {
        next_seq: history.len() as u64,
        recorded_at: 5_000,
        effective,
        today: 100,
        actor: "t".into(),
    }
}

#[test]
fn validation_refuses_a_backdated_event_that_breaks_a_later_one() {
    let mut h = History::new();
    h.plan("p", 10)
        .action("p", "1.1", 10)
        .status("p", "1.1", Rag::Green, 30);
    // Next year's plan, created before either date tried below.
    let carry = |effective| {
        let mut with_next = h.events.clone();
        let mut next = History { events: Vec::new() };
        next.plan("q", 5);
        for mut e in next.events {
            e.stamp.seq += 100;
            with_next.push(e);
        }
        let world_q = world_at(&with_next, TimeQuery::default());
        let from = ActionRef {
            plan: "p".into(),
            reference: "1.1".into(),
        };
        let to = ActionRef {
            plan: "q".into(),
            reference: "1.1".into(),
        };
        let planned =
            crate::planned::carry_over(&world_q, &from, &to, "continue", None, Default::default())
                .unwrap();
        validate(
            &with_next,
            &planned,
            &Context {
                next_seq: 200,
                ..context(&with_next, effective)
            },
        )
    };
    // Carrying over on day 20 would make the status change recorded for day 30 land
    // on a carried-over action: refused, naming the earlier event.
    let refused = carry(20).unwrap_err();
    assert!(refused.0.contains("event 3"), "{refused}");
    assert!(carry(40).is_ok());
}

#[test]
fn challenge_life_cycle_and_its_refusals() {
    let mut h = History::new();
    h.plan("p", 10).action("p", "1.1", 10);
    let raise = Planned::new(
        subject::challenge("C-0001"),
        DomainEvent::ChallengeRaised(ChallengeRaised {
            to_agency: "GMP".into(),
            about: vec![],
            text: "why?".into(),
            response_due: Some(20),
        }),
    );
    validate(
        &h.events,
        std::slice::from_ref(&raise),
        &context(&h.events, 15),
    )
    .unwrap();
    h.push(15, raise.subject, raise.event);
    h.push(
        18,
        subject::challenge("C-0001"),
        DomainEvent::ChallengeClosed(ChallengeClosed {
            outcome: "ok".into(),
            impact: None,
        }),
    );
    let respond = Planned::new(
        subject::challenge("C-0001"),
        DomainEvent::ChallengeResponded(ChallengeResponded {
            text: "late".into(),
            evidence: vec![],
            on_behalf_of: None,
        }),
    );
    assert!(validate(
        &h.events,
        std::slice::from_ref(&respond),
        &context(&h.events, 19)
    )
    .unwrap_err()
    .0
    .contains("closed"));
    // Backdated to before the close, the response is fine.
    validate(&h.events, &[respond], &context(&h.events, 16)).unwrap();
    let world = World::replay_strict(&h.events).unwrap();
    assert_eq!(world.challenges["C-0001"].status, ChallengeStatus::Closed);
}

#[test]
fn the_future_is_refused() {
    let h = History::new();
    let plan = Planned::new(
        subject::plan("p"),
        DomainEvent::PlanCreated(PlanCreated {
            title: "p".into(),
            period: None,
        }),
    );
    assert!(validate(&h.events, &[plan], &context(&h.events, 101))
        .unwrap_err()
        .0
        .contains("future"));
}

/// Payload bytes are part of what is hashed: these pin the encoding of a few kinds.
#[test]
fn payload_golden_bytes() {
    let status = DomainEvent::StatusChanged(StatusChanged {
        status: Rag::Amber,
        rationale: "ok".into(),
    });
    assert_eq!(status.encode(), vec![1, 2, b'o', b'k']);
    let raised = DomainEvent::ChallengeRaised(ChallengeRaised {
        to_agency: "GMP".into(),
        about: vec![ActionRef {
            plan: "p".into(),
            reference: "1.1".into(),
        }],
        text: "?".into(),
        response_due: Some(19_800),
    });
    assert_eq!(
        raised.encode(),
        vec![3, b'G', b'M', b'P', 1, 1, b'p', 3, b'1', b'.', b'1', 1, b'?', 1, 251, 0xB0, 0x9A]
    );
    for event in [status, raised] {
        assert_eq!(
            DomainEvent::decode(event.kind(), event.schema(), &event.encode()).unwrap(),
            event
        );
    }
    // Schema 1 of the kinds that gained a field still decode, the field empty.
    let old_response = [2, b'o', b'k', 0];
    assert_eq!(
        DomainEvent::decode("challenge.responded", 1, &old_response).unwrap(),
        DomainEvent::ChallengeResponded(ChallengeResponded {
            text: "ok".into(),
            evidence: vec![],
            on_behalf_of: None,
        })
    );
    let new_response = DomainEvent::ChallengeResponded(ChallengeResponded {
        text: "ok".into(),
        evidence: vec![],
        on_behalf_of: Some("GMP".into()),
    });
    assert_eq!(new_response.schema(), 2);
    assert_eq!(
        new_response.encode(),
        vec![2, b'o', b'k', 0, 1, 3, b'G', b'M', b'P']
    );
    assert_eq!(
        DomainEvent::decode("challenge.reopened", 1, &[1, b'r']).unwrap(),
        DomainEvent::ChallengeReopened(ChallengeReopened {
            reason: "r".into(),
            response_due: None,
        })
    );
    let due = DomainEvent::ChallengeDueSet(ChallengeDueSet {
        response_due: 19_800,
        reason: "r".into(),
    });
    assert_eq!((due.kind(), due.schema()), ("challenge.due_set", 1));
    // i32 zigzag: 19,800 → 39,600 = 0x9AB0, written after the 251 marker.
    assert_eq!(due.encode(), vec![251, 0xB0, 0x9A, 1, b'r']);
    for event in [new_response, due] {
        assert_eq!(
            DomainEvent::decode(event.kind(), event.schema(), &event.encode()).unwrap(),
            event
        );
    }
    assert!(DomainEvent::decode("challenge.responded", 2, &old_response).is_err());
    assert!(DomainEvent::decode("action.status_changed", 2, &[1, 0]).is_err());
    assert!(DomainEvent::decode("action.status_changed", 1, &[1, 0, 0]).is_err());
    assert!(DomainEvent::decode("nonsense", 1, &[]).is_err());
}

// ---- property tests over random command histories ----

#[derive(Debug, Clone)]
enum Op {
    AddAction(u8),
    Status(u8, u8),
    Progress(u8),
    CarryOver(u8),
    Raise(u8),
    Respond(u8),
    Close(u8),
}

fn op() -> impl Strategy<Value = (Op, i32)> {
    let op = prop_oneof![
        2 => (0u8..6).prop_map(Op::AddAction),
        4 => (0u8..6, 0u8..5).prop_map(|(a, s)| Op::Status(a, s)),
        2 => (0u8..6).prop_map(Op::Progress),
        1 => (0u8..6).prop_map(Op::CarryOver),
        1 => (0u8..3).prop_map(Op::Raise),
        1 => (0u8..3).prop_map(Op::Respond),
        1 => (0u8..3).prop_map(Op::Close),
    ];
    (op, 0i32..60)
}

fn planned_for(op: &Op, world: &World) -> Vec<Planned> {
    let rag = [
        Rag::Green,
        Rag::Amber,
        Rag::Red,
        Rag::Complete,
        Rag::NotStarted,
    ];
    match op {
        Op::AddAction(a) => vec![Planned::new(
            subject::action("p", &format!("1.{a}")),
            DomainEvent::ActionAdded(ActionAdded {
                details: details("1", "x"),
                status: Rag::NotStarted,
                progress: String::new(),
                source: "t".into(),
            }),
        )],
        Op::Status(a, s) => vec![Planned::new(
            subject::action("p", &format!("1.{a}")),
            DomainEvent::StatusChanged(StatusChanged {
                status: rag[*s as usize % rag.len()],
                rationale: "r".into(),
            }),
        )],
        Op::Progress(a) => vec![Planned::new(
            subject::action("p", &format!("1.{a}")),
            DomainEvent::ProgressNoted(ProgressNoted {
                note: "n".into(),
                evidence: vec![],
            }),
        )],
        Op::CarryOver(a) => {
            let from = ActionRef {
                plan: "p".into(),
                reference: format!("1.{a}"),
            };
            let to = ActionRef {
                plan: "q".into(),
                reference: format!("1.{a}"),
            };
            crate::planned::carry_over(world, &from, &to, "r", None, Default::default())
                .unwrap_or_default()
        }
        Op::Raise(c) => vec![Planned::new(
            subject::challenge(&format!("C-{c}")),
            DomainEvent::ChallengeRaised(ChallengeRaised {
                to_agency: "A".into(),
                about: vec![],
                text: "t".into(),
                response_due: None,
            }),
        )],
        Op::Respond(c) => vec![Planned::new(
            subject::challenge(&format!("C-{c}")),
            DomainEvent::ChallengeResponded(ChallengeResponded {
                text: "t".into(),
                evidence: vec![],
                on_behalf_of: None,
            }),
        )],
        Op::Close(c) => vec![Planned::new(
            subject::challenge(&format!("C-{c}")),
            DomainEvent::ChallengeClosed(ChallengeClosed {
                outcome: "o".into(),
                impact: None,
            }),
        )],
    }
}

/// Runs random commands through validation, as the CLI does; returns the accepted history.
fn accepted_history(ops: &[(Op, i32)]) -> Vec<Recorded> {
    let mut h = History::new();
    h.plan("p", 0).plan("q", 0);
    for (op, effective) in ops {
        let world = world_at(
            &h.events,
            TimeQuery {
                as_of: Some(*effective),
                known_at: None,
            },
        );
        let planned = planned_for(op, &world);
        if planned.is_empty()
            || validate(&h.events, &planned, &context(&h.events, *effective)).is_err()
        {
            continue;
        }
        for p in planned {
            h.push(*effective, p.subject, p.event);
        }
    }
    h.events
}

/// The generator must produce real histories, or the properties below prove nothing.
#[test]
fn random_command_histories_are_not_trivial() {
    let ops = vec![
        (Op::AddAction(1), 5),
        (Op::Status(1, 0), 10),
        (Op::Progress(1), 12),
        (Op::Raise(0), 14),
        (Op::Respond(0), 15),
        (Op::Status(1, 1), 8), // backdated, still after the action was added
        (Op::CarryOver(1), 20),
        (Op::Status(1, 2), 25), // refused: carried over
        (Op::Close(0), 30),
    ];
    let events = accepted_history(&ops);
    // 4 plan-setup events, then 8 of the 9 commands (carry-over is two events).
    assert_eq!(events.len(), 4 + 9);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn incremental_world_equals_replay(ops in proptest::collection::vec(op(), 1..60)) {
        // What the service does: events in order are applied; a backdated one makes
        // it replay every event, read back from the log in replay order.
        let events = accepted_history(&ops);
        let mut live = LiveWorld::default();
        for (i, e) in events.iter().enumerate() {
            if !live.push(e) {
                let (world, _) = replay_from(&live, &events[..=i]);
                live.push_replayed(std::slice::from_ref(e), world);
            }
        }
        let (replayed, skipped) = World::replay(&events);
        prop_assert!(skipped.is_empty(), "accepted events must all apply: {:?}", skipped);
        prop_assert_eq!(live.world(), &replayed);
        prop_assert_eq!(live.slots().len(), events.len());
    }

    #[test]
    fn a_replay_read_back_in_ranges_equals_replay(ops in proptest::collection::vec(op(), 1..60)) {
        let events = accepted_history(&ops);
        let mut live = LiveWorld::default();
        for e in &events {
            live.push_replayed(std::slice::from_ref(e), World::default());
        }
        let (world, skipped) = replay_from(&live, &events);
        let (replayed, expected) = World::replay(&events);
        prop_assert_eq!(world, replayed);
        prop_assert_eq!(skipped.len(), expected.len());
    }

    #[test]
    fn a_statuses_only_replay_gives_the_same_plan_views(ops in proptest::collection::vec(op(), 1..60)) {
        let events = accepted_history(&ops);
        let full = World::replay(&events).0;
        let lean = World::replay_statuses(&events);
        prop_assert_eq!(full.plans.len(), lean.plans.len());
        for (id, plan) in &full.plans {
            let lean_plan = lean.plan(id);
            prop_assert!(lean_plan.is_some());
            let view = |p| serde_json::to_value(crate::views::plan_view(p, 20_000)).unwrap_or_default();
            prop_assert_eq!(view(plan), view(lean_plan.unwrap_or(plan)));
        }
    }

    #[test]
    fn as_of_equals_replay_of_exactly_the_events_effective_by_then(ops in proptest::collection::vec(op(), 1..60)) {
        let events = accepted_history(&ops);
        // Walk the history in effective order, applying one event at a time; at each
        // date boundary the running world must equal the as-of view for that date.
        let mut sorted = events.clone();
        sorted.sort_by_key(|r| (r.stamp.effective, r.stamp.seq));
        let mut running = World::default();
        for (i, e) in sorted.iter().enumerate() {
            running.apply(e).unwrap();
            let last_of_day = sorted.get(i + 1).is_none_or(|n| n.stamp.effective != e.stamp.effective);
            if last_of_day {
                let as_of = world_at(&events, TimeQuery { as_of: Some(e.stamp.effective), known_at: None });
                prop_assert_eq!(&as_of, &running);
            }
        }
        // And known-at: every prefix of the recording order.
        for n in 0..=events.len() {
            let known = world_at(&events, TimeQuery { as_of: None, known_at: Some(1_000 + n as i64 - 1) });
            prop_assert_eq!(known, World::replay(&events[..n]).0);
        }
    }
}

/// What an erasure must keep of a world: every record's ids, refs, dates and
/// statuses, and how many entries each holds.
fn structure(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for (id, plan) in &world.plans {
        let keys: Vec<&str> = plan.priorities.iter().map(|p| p.key.as_str()).collect();
        out.push(format!(
            "plan {id} {:?} {:?} {}",
            plan.period, keys, plan.created.seq
        ));
        let mut actions: Vec<_> = plan.actions.values().collect();
        actions.sort_by(|a, b| a.reference.cmp(&b.reference));
        for a in actions {
            out.push(format!(
                "action {id}/{} {:?} {} {:?} {:?} {:?} {} entries {:?}",
                a.reference,
                a.status,
                a.details.priority_key,
                a.details.milestones,
                a.carried_to,
                a.carried_from,
                a.added.seq,
                a.entries
                    .iter()
                    .map(|e| (e.stamp.seq, e.kind))
                    .collect::<Vec<_>>(),
            ));
        }
    }
    for (id, c) in &world.challenges {
        out.push(format!(
            "challenge {id} {} {:?} {:?} {:?} {} {} {}",
            c.to_agency,
            c.about,
            c.status,
            c.response_due,
            c.responses.len(),
            c.escalations.len(),
            c.answered
        ));
    }
    out
}

/// The events as a reader sees them once the words of `erase` (indices) are gone:
/// each in its place, rebuilt from the structure its erasure kept.
fn erased(events: &[Recorded], erase: &[usize]) -> Vec<Recorded> {
    let mut out = events.to_vec();
    for &i in erase {
        let Some(i) = (!events.is_empty()).then(|| i % events.len()) else {
            continue;
        };
        let Some(event) = &events[i].event else {
            continue;
        };
        let note = crate::erasure::note("ER-1", "dpo", 20_000);
        let skeleton = crate::erasure::without_words(event, &note)
            .expect("every kind in these histories can be erased");
        let DomainEvent::StructureKept(kept) =
            crate::erasure::kept_structure(events[i].stamp.seq, &skeleton)
        else {
            panic!("not a kept structure")
        };
        let skeleton = DomainEvent::decode(event.kind(), kept.schema, &kept.payload)
            .expect("the kept structure decodes as its kind");
        out[i].event = Some(skeleton);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn after_any_erasures_every_view_lists_the_same_records(
        ops in proptest::collection::vec(op(), 1..60),
        erase in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let events = accepted_history(&ops);
        let after = erased(&events, &erase);
        let mut queries = vec![TimeQuery::default()];
        for e in &events {
            queries.push(TimeQuery { as_of: Some(e.stamp.effective), known_at: None });
            queries.push(TimeQuery { as_of: None, known_at: Some(e.stamp.recorded_at) });
        }
        for query in queries {
            let (was, is) = (world_at(&events, query), world_at(&after, query));
            prop_assert_eq!(structure(&was), structure(&is), "{:?}", query);
            for (id, plan) in &was.plans {
                let view = |p| {
                    let v = crate::views::plan_view(p, 20_000);
                    v.actions.iter().map(|a| (a.reference.clone(), a.status)).collect::<Vec<_>>()
                };
                prop_assert_eq!(view(plan), view(&is.plans[id]));
            }
        }
    }
}

#[test]
fn an_erased_event_keeps_its_structure_and_loses_every_word() {
    let note = crate::erasure::note("ER-1", "dpo", 20_000);
    let raised = DomainEvent::ChallengeRaised(ChallengeRaised {
        to_agency: "Health".into(),
        about: vec![ActionRef {
            plan: "p".into(),
            reference: "1.1".into(),
        }],
        text: "Why was Mrs X not seen?".into(),
        response_due: Some(20_010),
    });
    let kept = crate::erasure::without_words(&raised, &note).unwrap();
    let DomainEvent::ChallengeRaised(kept) = kept else {
        panic!("kind changed")
    };
    assert_eq!(kept.to_agency, "Health");
    assert_eq!(kept.response_due, Some(20_010));
    assert_eq!(kept.about.len(), 1);
    assert_eq!(kept.text, note);
    assert!(
        note.contains("ER-1") && note.contains("dpo") && note.contains("2024-10-04"),
        "{note}"
    );
    let noted = DomainEvent::ProgressNoted(ProgressNoted {
        note: "Visited Mrs X".into(),
        evidence: vec![crate::events::Evidence {
            name: "x.pdf".into(),
            blake3: [7; 32],
            bytes: 3,
        }],
    });
    let kept = crate::erasure::without_words(&noted, &note).unwrap();
    assert!(
        kept.evidence().is_empty(),
        "the evidence goes with the words"
    );
    let agency = DomainEvent::AgencyRegistered(crate::events::AgencyRegistered {
        name: "Health".into(),
        aliases: vec![],
    });
    assert!(crate::erasure::without_words(&agency, &note).is_err());
}

#[test]
fn a_carried_action_keeps_its_rag_unless_told_and_may_take_a_new_priority_and_timescale() {
    let mut h = History::new();
    h.plan("p", 10)
        .action("p", "1.1", 10)
        .status("p", "1.1", Rag::Red, 11);
    h.plan("q", 12);
    let world = world_at(&h.events, TimeQuery::default());
    let (from, to) = (
        ActionRef {
            plan: "p".into(),
            reference: "1.1".into(),
        },
        ActionRef {
            plan: "q".into(),
            reference: "2.1".into(),
        },
    );
    let carried_in = |planned: &[Planned]| {
        planned
            .iter()
            .find_map(|p| match &p.event {
                DomainEvent::CarriedIn(c) => Some(c.clone()),
                _ => None,
            })
            .unwrap()
    };
    // By default: the source's RAG (Red, never a made-up Amber) and its priority,
    // which the new plan already has.
    let kept = crate::planned::carry_over(&world, &from, &to, "r", None, Default::default());
    let kept = kept.unwrap();
    assert_eq!(carried_in(&kept).status, Rag::Red);
    assert_eq!(carried_in(&kept).details.priority_key, "1");
    assert!(!kept
        .iter()
        .any(|p| matches!(p.event, DomainEvent::PriorityAdded(_))));
    // A priority the new plan lacks is refused, naming the ones it has.
    let options = crate::planned::CarryOptions {
        priority: Some("9".into()),
        ..Default::default()
    };
    let refused = crate::planned::carry_over(&world, &from, &to, "r", None, options).unwrap_err();
    assert!(
        refused.0.contains("no priority 9; its priorities are: 1"),
        "{refused}"
    );
    // A new timescale is read into milestones; a new status is taken.
    let options = crate::planned::CarryOptions {
        timescale: Some("March 2025".into()),
        status: Some(Rag::Amber),
        ..Default::default()
    };
    let moved = crate::planned::carry_over(&world, &from, &to, "r", None, options).unwrap();
    let carried = carried_in(&moved);
    assert_eq!(carried.status, Rag::Amber);
    assert_eq!(carried.details.timescale, "March 2025");
    assert_eq!(carried.details.milestones.len(), 1);
    // Carried over is what the source becomes, never the carried action's status.
    let options = crate::planned::CarryOptions {
        status: Some(Rag::CarriedOver),
        ..Default::default()
    };
    assert!(crate::planned::carry_over(&world, &from, &to, "r", None, options).is_err());
}

#[test]
fn an_entry_recorded_long_after_it_took_effect_is_late() {
    let day = 86_400_000_000_i64;
    let stamp = |effective: i32, recorded_day: i64| Stamp {
        seq: 0,
        recorded_at: recorded_day * day + day / 2,
        effective,
        actor: "t".into(),
    };
    use crate::views::{is_late, late_days};
    assert_eq!(late_days(&stamp(100, 100)), 0);
    assert_eq!(late_days(&stamp(100, 99)), 0, "never negative");
    assert_eq!(late_days(&stamp(100, 114)), 14);
    assert!(!is_late(late_days(&stamp(100, 114)), 14));
    assert!(is_late(late_days(&stamp(100, 115)), 14));
    // Two years later, as the issue found: visible.
    assert_eq!(late_days(&stamp(19_000, 19_730)), 730);
}

#[test]
fn a_reopened_challenge_shows_open_keeps_its_closure_in_the_thread_and_names_its_escalation() {
    let mut h = History::new();
    h.plan("p", 10);
    let c = subject::challenge("C-0001");
    h.push(
        11,
        c.clone(),
        DomainEvent::ChallengeRaised(ChallengeRaised {
            to_agency: "GMP".into(),
            about: vec![],
            text: "why?".into(),
            response_due: None,
        }),
    )
    .push(
        12,
        c.clone(),
        DomainEvent::ChallengeEscalated(ChallengeEscalated {
            to: "Board".into(),
            reason: "no answer".into(),
        }),
    )
    .push(
        13,
        c.clone(),
        DomainEvent::ChallengeClosed(ChallengeClosed {
            outcome: "agreed".into(),
            impact: Some("fewer delays".into()),
        }),
    )
    .push(
        14,
        c,
        DomainEvent::ChallengeReopened(ChallengeReopened {
            reason: "delays again".into(),
            response_due: None,
        }),
    );
    let world = world_at(&h.events, TimeQuery::default());
    let view = crate::views::challenge_view(&world.challenges["C-0001"], 20);
    assert_eq!(view.status, ChallengeStatus::Open);
    assert_eq!(
        view.outcome, None,
        "the log shows it reopened, not the old outcome"
    );
    assert_eq!(view.escalated_to.as_deref(), Some("Board"));
    let thread: Vec<&str> = view.escalations.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        thread,
        [
            "escalated to Board: no answer",
            "closed: agreed (impact: fewer delays)",
            "reopened: delays again"
        ]
    );
}

#[test]
fn a_reopened_challenge_is_awaited_again_and_overdue_past_its_new_due_date() {
    let mut h = History::new();
    h.plan("p", 10);
    let c = subject::challenge("C-0001");
    h.push(
        11,
        c.clone(),
        DomainEvent::ChallengeRaised(ChallengeRaised {
            to_agency: "GMP".into(),
            about: vec![],
            text: "why?".into(),
            response_due: Some(20),
        }),
    )
    .push(
        12,
        c.clone(),
        DomainEvent::ChallengeResponded(ChallengeResponded {
            text: "because".into(),
            evidence: vec![],
            on_behalf_of: Some("GMP".into()),
        }),
    )
    .push(
        13,
        c.clone(),
        DomainEvent::ChallengeClosed(ChallengeClosed {
            outcome: "ok".into(),
            impact: None,
        }),
    )
    .push(
        14,
        c.clone(),
        DomainEvent::ChallengeReopened(ChallengeReopened {
            reason: "again".into(),
            response_due: Some(30),
        }),
    );
    let view = |h: &History, today| {
        let world = world_at(&h.events, TimeQuery::default());
        crate::views::challenge_view(&world.challenges["C-0001"], today)
    };
    assert_eq!(view(&h, 25).due.as_deref(), Some("1970-01-31"));
    assert!(!view(&h, 25).overdue);
    assert!(
        view(&h, 31).overdue,
        "reopened and unanswered past its new due date"
    );
    assert!(view(&h, 31).responses[0]
        .text
        .ends_with("(recorded on behalf of GMP)"));
    h.push(
        15,
        c,
        DomainEvent::ChallengeDueSet(ChallengeDueSet {
            response_due: 40,
            reason: "agreed more time".into(),
        }),
    );
    let extended = view(&h, 31);
    assert!(!extended.overdue);
    assert!(extended
        .escalations
        .last()
        .unwrap()
        .text
        .contains("moved from 1970-01-31 to 1970-02-10"));
}

#[test]
fn pages_keep_their_place_as_entries_arrive_and_link_both_ways() {
    use crate::views::Page;
    let seqs: Vec<u64> = vec![3, 7, 8, 20, 21, 40, 41];
    let page = |after, limit| Page::select(seqs.iter().copied(), |s| *s, after, limit, |s| *s);
    let first = page(None, 3);
    assert_eq!(first.items, vec![3, 7, 8]);
    assert_eq!(
        (first.previous, first.next, first.total, first.offset),
        (None, Some(8), 7, 0)
    );
    let second = page(first.next, 3);
    assert_eq!(second.items, vec![20, 21, 40]);
    assert_eq!(
        (second.previous, second.next, second.offset),
        (Some(None), Some(40), 3)
    );
    let last = page(second.next, 3);
    assert_eq!(last.items, vec![41]);
    assert_eq!((last.previous, last.next), (Some(Some(8)), None));
    // Following "previous" from the last page lands on the second again.
    assert_eq!(page(last.previous.unwrap(), 3).items, second.items);
    // A cursor between entries (one that has since gone from the filter) still works.
    assert_eq!(page(Some(9), 3).items, vec![20, 21, 40]);
    assert!(page(Some(99), 3).items.is_empty());
    // New entries at the end never move an earlier page.
    let mut grown = seqs.clone();
    grown.extend([50, 51]);
    assert_eq!(
        Page::select(grown.iter().rev(), |s| **s, first.next, 3, |s| **s).items,
        second.items
    );
}

proptest! {
    /// Pages chosen from entries in any order are the slices of the sorted list, and
    /// following `next` from the start visits every entry once, in order.
    #[test]
    fn pages_are_slices_of_the_sorted_list(
        mut seqs in proptest::collection::btree_set(0u64..500, 0..80),
        shuffle in any::<u64>(),
        limit in 1usize..12,
        cursor in 0u64..520,
    ) {
        use crate::views::Page;
        let sorted: Vec<u64> = std::mem::take(&mut seqs).into_iter().collect();
        let mut shuffled = sorted.clone();
        let n = shuffled.len().max(1);
        for i in 0..shuffled.len() {
            shuffled.swap(i, (shuffle as usize).wrapping_mul(i + 7) % n);
        }
        let page = Page::select(shuffled.iter().copied(), |s| *s, Some(cursor), limit, |s| *s);
        let start = sorted.partition_point(|&s| s <= cursor);
        let end = (start + limit).min(sorted.len());
        prop_assert_eq!(&page.items, &sorted[start..end].to_vec());
        prop_assert_eq!(page.offset, start);
        prop_assert_eq!(page.total, sorted.len());
        prop_assert_eq!(page.next, (end < sorted.len()).then(|| sorted[end - 1]));
        let previous = (start > 0).then(|| start.checked_sub(limit + 1).map(|i| sorted[i]));
        prop_assert_eq!(page.previous, previous);
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page = Page::select(shuffled.iter().copied(), |s| *s, after, limit, |s| *s);
            walked.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        prop_assert_eq!(walked, sorted);
    }
}

/// `replay_in_order` over `events` (all of them, by seq) in the order `live` keeps,
/// plus the last one, not yet in `live`.
fn replay_from(live: &LiveWorld, events: &[Recorded]) -> (World, Vec<(u64, Rejection)>) {
    let mut order = live.replay_order();
    if let Some(last) = events.last() {
        if !order.iter().any(|o| o.1 == last.stamp.seq) {
            order.push((last.stamp.effective, last.stamp.seq));
            order.sort_unstable();
        }
    }
    let read = |range: std::ops::Range<u64>| -> Result<Vec<Recorded>, ()> {
        Ok(events[range.start as usize..range.end as usize].to_vec())
    };
    crate::read::replay_in_order(&order, events.len() as u64, read, |_| ()).expect("in memory")
}

#[test]
fn a_replay_without_an_event_its_reader_lost_is_an_error_naming_it() {
    let events = accepted_history(&[]);
    assert!(events.len() > 2);
    let order: Vec<(i32, u64)> = events
        .iter()
        .map(|r| (r.stamp.effective, r.stamp.seq))
        .collect();
    let lossy = |range: std::ops::Range<u64>| -> Result<Vec<Recorded>, u64> {
        Ok(events[range.start as usize..range.end as usize]
            .iter()
            .filter(|r| r.stamp.seq != 2)
            .cloned()
            .collect())
    };
    let replayed = crate::read::replay_in_order(&order, events.len() as u64, lossy, |seq| seq);
    assert_eq!(replayed.err(), Some(2));
}
