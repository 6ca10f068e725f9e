//! Data-first tests of the application layer: a change and a world in, the planned
//! events (or the refusal) out — the same answers the command line, the pages and
//! the API get, because they all build through `Change::build`.

#![allow(clippy::unwrap_used)]

use projections::events::*;
use projections::{Recorded, Stamp, World};

use super::change::{Against, Change};
use super::{access, input};

fn recorded(seq: u64, subject: String, event: DomainEvent) -> Recorded {
    Recorded {
        stamp: Stamp {
            seq,
            recorded_at: seq as i64,
            effective: 0,
            actor: "t".into(),
        },
        subject,
        event: Some(event),
    }
}

/// Plan `p` with action 1.1 led by "Greater Manchester Police; Health", and
/// challenge C-0001 raised to "GMP".
fn world() -> World {
    let details = ActionDetails {
        priority_key: "1".into(),
        title: "Audit referrals".into(),
        impact: String::new(),
        outcome: String::new(),
        leads: vec!["Greater Manchester Police".into(), "Health".into()],
        timescale: "May 2024".into(),
        milestones: Vec::new(),
        cross_refs: Vec::new(),
        extras: Vec::new(),
    };
    let events = [
        recorded(
            0,
            subject::plan("p"),
            DomainEvent::PlanCreated(PlanCreated {
                title: "Plan".into(),
                period: None,
            }),
        ),
        recorded(
            1,
            subject::plan("p"),
            DomainEvent::PriorityAdded(PriorityAdded {
                key: "1".into(),
                title: "Safety".into(),
                description: String::new(),
            }),
        ),
        recorded(
            3,
            subject::action("p", "1.1"),
            DomainEvent::ActionAdded(ActionAdded {
                details,
                status: Rag::Amber,
                progress: String::new(),
                source: "test".into(),
            }),
        ),
        recorded(
            2,
            subject::challenge("C-0001"),
            DomainEvent::ChallengeRaised(ChallengeRaised {
                to_agency: "GMP".into(),
                about: Vec::new(),
                text: "Why?".into(),
                response_due: None,
            }),
        ),
    ];
    World::replay(&events).0
}

fn at(plan: &str, reference: &str) -> ActionRef {
    ActionRef {
        plan: plan.into(),
        reference: reference.into(),
    }
}

fn build(
    change: Change,
    world: &World,
    agency: Option<&str>,
    taken: &[String],
) -> Result<Vec<projections::planned::Planned>, String> {
    change
        .build(Against {
            world,
            agency,
            challenge_subjects: taken,
        })
        .map_err(|r| r.0)
}

#[test]
fn a_partner_lead_records_progress_only_on_actions_its_agency_leads() {
    let world = world();
    let progress = |plan: &str| Change::Progress {
        at: at(plan, "1.1"),
        note: "Done".into(),
        evidence: Vec::new(),
    };
    assert!(build(progress("p"), &world, Some("health"), &[]).is_ok());
    assert!(build(progress("p"), &world, None, &[]).is_ok());
    let refused = build(progress("p"), &world, Some("Probation"), &[]).unwrap_err();
    assert!(
        refused.contains("Probation does not lead action p/1.1"),
        "{refused}"
    );
    assert!(
        build(progress("p"), &world, Some(""), &[]).is_err(),
        "an empty agency leads nothing"
    );
}

#[test]
fn a_partner_lead_cannot_respond_to_another_agencys_challenge_nor_learn_it_exists() {
    let world = world();
    let respond = Change::Respond {
        id: "C-0001".into(),
        text: "Our answer".into(),
        evidence: Vec::new(),
    };
    assert!(build(respond.clone(), &world, Some("gmp"), &[]).is_ok());
    let other = build(respond.clone(), &world, Some("Health"), &[]).unwrap_err();
    let missing = build(
        Change::Respond {
            id: "C-0099".into(),
            text: "x".into(),
            evidence: Vec::new(),
        },
        &world,
        None,
        &[],
    )
    .unwrap_err();
    assert_eq!(other, "there is no challenge C-0001");
    assert_eq!(missing, "there is no challenge C-0099");
}

#[test]
fn a_new_challenge_never_reuses_an_id_the_ledger_holds_even_if_its_payload_was_erased() {
    let world = world();
    let raise = Change::raise("Health", "Why so slow?", vec![at("p", "1.1")], None, 0).unwrap();
    // The ledger holds C-0002 (its raising was redacted, so the world lacks it).
    let planned = build(raise, &world, None, &["challenge/C-0002".into()]).unwrap();
    assert_eq!(planned[0].subject, "challenge/C-0003");
}

#[test]
fn a_challenge_about_an_action_that_does_not_exist_is_refused() {
    let raise = Change::raise("Health", "Why?", vec![at("p", "9.9")], None, 0).unwrap();
    assert!(build(raise, &world(), None, &[])
        .unwrap_err()
        .contains("p/9.9"));
}

#[test]
fn a_response_due_before_the_challenge_is_raised_is_refused() {
    assert!(Change::raise("Health", "Why?", Vec::new(), Some(9), 10).is_err());
    assert!(Change::raise("Health", "Why?", Vec::new(), Some(10), 10).is_ok());
}

#[test]
fn carried_over_is_not_a_status_one_sets() {
    let status = Change::Status {
        at: at("p", "1.1"),
        status: Rag::CarriedOver,
        rationale: "moved".into(),
    };
    assert!(build(status, &world(), None, &[]).is_err());
    assert!(input::status("carried-over").is_err());
    assert_eq!(input::status(" Green ").unwrap(), Rag::Green);
}

#[test]
fn an_empty_impact_is_refused_when_given_and_absent_when_not() {
    let close = |impact: Option<&str>| Change::Close {
        id: "C-0001".into(),
        outcome: "Agreed".into(),
        impact: impact.map(str::to_owned),
    };
    assert!(build(close(Some("  ")), &world(), None, &[]).is_err());
    assert!(build(close(None), &world(), None, &[]).is_ok());
}

#[test]
fn a_time_query_reads_a_browsers_minutes_and_names_the_field_it_refuses() {
    let query =
        input::time_query(Some("2024-03-31"), Some("2024-04-01T09:30"), ["a", "b"]).unwrap();
    assert!(query.as_of.is_some() && query.known_at.is_some());
    let none = input::time_query(Some("  "), None, ["a", "b"]).unwrap();
    assert_eq!(none, projections::read::TimeQuery::default());
    let refused = input::time_query(Some("31/3/24"), None, ["--as-of", "--known-at"]).unwrap_err();
    assert!(refused.to_string().contains("--as-of"), "{refused}");
}

#[test]
fn evidence_keeps_only_a_clean_file_name() {
    let record = input::evidence("../../etc/pass\u{7}wd", b"x").unwrap();
    assert_eq!(record.name, "passwd");
    assert_eq!(input::display_name(".."), "evidence");
}

#[test]
fn action_refs_must_be_plan_slash_ref() {
    assert_eq!(
        input::action_refs(["p/1.1"], "--about").unwrap(),
        vec![at("p", "1.1")]
    );
    assert!(input::action_refs(["p"], "--about").is_err());
    assert!(input::action_refs(["../x/1.1"], "--about").is_err());
}

#[test]
fn the_board_sees_every_challenge_and_a_partner_only_its_own() {
    let world = world();
    let challenge = &world.challenges["C-0001"];
    assert!(access::may_see_challenge(&world, None, challenge));
    assert!(access::may_see_challenge(&world, Some("gmp"), challenge));
    assert!(!access::may_see_challenge(
        &world,
        Some("Health"),
        challenge
    ));
}

#[test]
fn an_agency_leads_an_action_only_when_a_lead_names_it_in_whole_words() {
    let world = world();
    let at = at("p", "1.1");
    // The leads are "Greater Manchester Police" and "Health".
    assert!(access::leads_action(&world, &at, "Health"));
    assert!(access::leads_action(
        &world,
        &at,
        "greater manchester police"
    ));
    assert!(access::leads_action(&world, &at, "Manchester Police"));
    assert!(
        !access::leads_action(&world, &at, "Greater Police"),
        "words in a run"
    );
    assert!(
        !access::leads_action(&world, &at, "He"),
        "whole words, not letters"
    );
    assert!(!access::leads_action(&world, &at, "Healthwatch"));
    assert!(!access::leads_action(&world, &at, " "));
}
