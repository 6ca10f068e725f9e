//! The payload golden vectors (`docs/vectors/payloads.json`) and the encoding rules of
//! `docs/FORMAT.md` §2a, held against the real code.
//!
//! The examples below are inputs only: every byte, hash and `body` in the vectors file
//! is what the real code made of them (`ASSURE_BLESS=1 cargo test -p projections
//! --test payload_vectors` rewrites the file). A normal run checks, for every vector,
//! that encoding the example gives the bytes, decoding the bytes gives the example,
//! the body is `DomainEvent::body_json` of it and the hash is `BLAKE3(salt ‖ payload)`.
//! It also fails when a kind of `DomainEvent::KINDS` (every variant, by an exhaustive
//! `match`) or one of its readable schemas has no table in `docs/FORMAT.md` or fewer
//! than two vectors.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ledger::codec::{decode_payload, encode_payload};
use ledger::header::payload_hash;
use ledger::hex::hex;
use ledger::redaction::Redaction;
use projections::events::*;
use projections::timescale::Milestone;
use serde_json::{json, Value};

/// One example payload: its kind and schema, the bytes the real code writes for it and
/// the event a reader decodes from them.
struct Example {
    name: String,
    kind: &'static str,
    schema: u16,
    bytes: Vec<u8>,
    decoded: DomainEvent,
}

/// An example in the kind's current layout: written by `DomainEvent::encode`.
fn current(variant: &str, event: DomainEvent) -> Example {
    Example {
        name: format!("{}/{variant}", event.kind()),
        kind: event.kind(),
        schema: event.schema(),
        bytes: event.encode(),
        decoded: event,
    }
}

/// An example in an older layout: written from its `v1` struct, read back as the
/// current event with the fields that layout lacks at their defaults.
fn older<T: bincode::Encode>(
    kind: &'static str,
    variant: &str,
    old: T,
    decoded: DomainEvent,
) -> Example {
    Example {
        name: format!("{kind}/schema-1/{variant}"),
        kind,
        schema: SCHEMA_V1,
        bytes: encode_payload(&old).unwrap(),
        decoded,
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn hash_of(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7))
}

fn details_full() -> ActionDetails {
    ActionDetails {
        priority_key: s("6"),
        title: s("Réduire la violence grave — « Engage » 🚦"),
        impact: s("Fewer young people drawn into violence"),
        outcome: s("Ymgysylltu ag ysgolion: Ŵ ŷ"),
        leads: vec![s("GMP"), s("Children’s Services")],
        timescale: s("Strategy developed: March 2024; 31/12/1969"),
        milestones: vec![
            Milestone {
                label: s("Strategy developed"),
                on: 19_813,
            },
            Milestone {
                label: s("31/12/1969"),
                on: -1,
            },
        ],
        cross_refs: vec![s("1.2"), s("6.1")],
        extras: vec![ExtraField {
            header: s("Output"),
            text: s("Données publiées ✓"),
        }],
    }
}

fn details_minimal() -> ActionDetails {
    ActionDetails {
        priority_key: s(""),
        title: s(""),
        impact: s(""),
        outcome: s(""),
        leads: vec![],
        timescale: s(""),
        milestones: vec![],
        cross_refs: vec![],
        extras: vec![],
    }
}

fn v1_details(d: ActionDetails) -> v1::ActionDetails {
    v1::ActionDetails {
        priority_key: d.priority_key,
        title: d.title,
        impact: d.impact,
        outcome: d.outcome,
        leads: d.leads,
        timescale: d.timescale,
        milestones: d.milestones,
        cross_refs: d.cross_refs,
    }
}

/// `details` as a schema-1 reader gives it back: without extra fields.
fn without_extras(mut d: ActionDetails) -> ActionDetails {
    d.extras.clear();
    d
}

fn evidence(name: &str, seed: u8, bytes: u64) -> Evidence {
    Evidence {
        name: s(name),
        blake3: hash_of(seed),
        bytes,
    }
}

/// Every example, at least two per kind and readable schema: one with every optional
/// field present (and non-ASCII text, and integers that need the longer varint
/// forms), one with none.
fn examples() -> Vec<Example> {
    use DomainEvent as E;
    let long_rationale = "Pas encore d’accord sur la date de révision annuelle — ".repeat(6);
    let erased = E::ChallengeResponded(ChallengeResponded {
        text: s("[erased 2026-12-05: ER-9; authorised by dpo]"),
        evidence: vec![],
        on_behalf_of: Some(s("Greater Manchester Police")),
    });
    vec![
        current(
            "full",
            E::PlanCreated(PlanCreated {
                title: s("Plan d’action — Salford 2024–25 🚦"),
                period: Some(s("2024–25")),
            }),
        ),
        current(
            "minimal",
            E::PlanCreated(PlanCreated {
                title: s(""),
                period: None,
            }),
        ),
        current(
            "full",
            E::PriorityAdded(PriorityAdded {
                key: s("6"),
                title: s("Atal trais difrifol"),
                description: s("Aim: fewer knife crimes\nLink: Strategic aim 2 — “Safer streets”"),
            }),
        ),
        current(
            "minimal",
            E::PriorityAdded(PriorityAdded {
                key: s(""),
                title: s(""),
                description: s(""),
            }),
        ),
        older(
            "plan.priority_added",
            "full",
            v1::PriorityAdded {
                key: s("6"),
                title: s("Atal trais difrifol"),
            },
            E::PriorityAdded(PriorityAdded {
                key: s("6"),
                title: s("Atal trais difrifol"),
                description: s(""),
            }),
        ),
        older(
            "plan.priority_added",
            "minimal",
            v1::PriorityAdded {
                key: s(""),
                title: s(""),
            },
            E::PriorityAdded(PriorityAdded {
                key: s(""),
                title: s(""),
                description: s(""),
            }),
        ),
        current(
            "full",
            E::ActionAdded(ActionAdded {
                details: details_full(),
                status: Rag::CarriedOver,
                progress: s("Évaluation en cours"),
                source: s("plan.csv row 7"),
            }),
        ),
        current(
            "minimal",
            E::ActionAdded(ActionAdded {
                details: details_minimal(),
                status: Rag::Green,
                progress: s(""),
                source: s(""),
            }),
        ),
        older(
            "action.added",
            "full",
            v1::ActionAdded {
                details: v1_details(details_full()),
                status: Rag::NotStarted,
                progress: s("Évaluation en cours"),
                source: s("plan.csv row 7"),
            },
            E::ActionAdded(ActionAdded {
                details: without_extras(details_full()),
                status: Rag::NotStarted,
                progress: s("Évaluation en cours"),
                source: s("plan.csv row 7"),
            }),
        ),
        older(
            "action.added",
            "minimal",
            v1::ActionAdded {
                details: v1_details(details_minimal()),
                status: Rag::Green,
                progress: s(""),
                source: s(""),
            },
            E::ActionAdded(ActionAdded {
                details: details_minimal(),
                status: Rag::Green,
                progress: s(""),
                source: s(""),
            }),
        ),
        current(
            "full",
            E::ActionAmended(ActionAmended {
                title: Some(s("Lansio’r cynllun peilot — ‘waiting well’")),
                leads: Some(vec![s("MFT"), s("Santé publique")]),
                timescale: Some((
                    s("June 2025"),
                    vec![Milestone {
                        label: s("June 2025"),
                        on: 20_269,
                    }],
                )),
                reason: s("Rebaselined by the board — délai"),
            }),
        ),
        current(
            "minimal",
            E::ActionAmended(ActionAmended {
                title: None,
                leads: None,
                timescale: None,
                reason: s(""),
            }),
        ),
        current(
            "full",
            E::StatusChanged(StatusChanged {
                status: Rag::NotStarted,
                rationale: long_rationale,
            }),
        ),
        current(
            "minimal",
            E::StatusChanged(StatusChanged {
                status: Rag::Green,
                rationale: s(""),
            }),
        ),
        current(
            "full",
            E::ProgressNoted(ProgressNoted {
                note: s("Scorecard reported — tableau de bord ✓"),
                evidence: vec![
                    evidence("scorecard-Q4 ✓.pdf", 1, 70_000),
                    evidence("minutes.txt", 2, 5_000_000_000),
                    evidence("", 3, 300),
                ],
            }),
        ),
        current(
            "minimal",
            E::ProgressNoted(ProgressNoted {
                note: s(""),
                evidence: vec![],
            }),
        ),
        current(
            "full",
            E::CarriedOver(CarriedOver {
                to: ActionRef {
                    plan: s("mcr-2024"),
                    reference: s("1.1"),
                },
                reason: s("Pilot not yet launched — à poursuivre"),
                forum: Some(s("MSP Executive, avril 2024")),
            }),
        ),
        current(
            "minimal",
            E::CarriedOver(CarriedOver {
                to: ActionRef {
                    plan: s(""),
                    reference: s(""),
                },
                reason: s(""),
                forum: None,
            }),
        ),
        current(
            "full",
            E::CarriedIn(CarriedIn {
                from: ActionRef {
                    plan: s("mcr-2023"),
                    reference: s("6.5"),
                },
                details: details_full(),
                status: Rag::Amber,
                reason: s("Pilot not yet launched — à poursuivre"),
            }),
        ),
        current(
            "minimal",
            E::CarriedIn(CarriedIn {
                from: ActionRef {
                    plan: s(""),
                    reference: s(""),
                },
                details: details_minimal(),
                status: Rag::Green,
                reason: s(""),
            }),
        ),
        older(
            "action.carried_in",
            "full",
            v1::CarriedIn {
                from: ActionRef {
                    plan: s("mcr-2023"),
                    reference: s("6.5"),
                },
                details: v1_details(details_full()),
                status: Rag::Red,
                reason: s("Pilot not yet launched — à poursuivre"),
            },
            E::CarriedIn(CarriedIn {
                from: ActionRef {
                    plan: s("mcr-2023"),
                    reference: s("6.5"),
                },
                details: without_extras(details_full()),
                status: Rag::Red,
                reason: s("Pilot not yet launched — à poursuivre"),
            }),
        ),
        older(
            "action.carried_in",
            "minimal",
            v1::CarriedIn {
                from: ActionRef {
                    plan: s(""),
                    reference: s(""),
                },
                details: v1_details(details_minimal()),
                status: Rag::Complete,
                reason: s(""),
            },
            E::CarriedIn(CarriedIn {
                from: ActionRef {
                    plan: s(""),
                    reference: s(""),
                },
                details: details_minimal(),
                status: Rag::Complete,
                reason: s(""),
            }),
        ),
        current(
            "full",
            E::ChallengeRaised(ChallengeRaised {
                to_agency: s("Greater Manchester Police"),
                about: vec![
                    ActionRef {
                        plan: s("mcr-2023"),
                        reference: s("6.2"),
                    },
                    ActionRef {
                        plan: s("mcr-2023"),
                        reference: s("6.10"),
                    },
                ],
                text: s("How is the “Engage” offer communicated? — Sut?"),
                response_due: Some(19_797),
            }),
        ),
        current(
            "minimal",
            E::ChallengeRaised(ChallengeRaised {
                to_agency: s(""),
                about: vec![],
                text: s(""),
                response_due: None,
            }),
        ),
        current(
            "full",
            E::ChallengeResponded(ChallengeResponded {
                text: s("Briefing added to the bulletin; 240 praticiens atteints ✓"),
                evidence: vec![evidence("bulletin – mars.pdf", 4, 250)],
                on_behalf_of: Some(s("Greater Manchester Police")),
            }),
        ),
        current(
            "minimal",
            E::ChallengeResponded(ChallengeResponded {
                text: s(""),
                evidence: vec![],
                on_behalf_of: None,
            }),
        ),
        older(
            "challenge.responded",
            "full",
            v1::ChallengeResponded {
                text: s("Briefing added to the bulletin; 240 praticiens atteints ✓"),
                evidence: vec![evidence("bulletin – mars.pdf", 4, 251)],
            },
            E::ChallengeResponded(ChallengeResponded {
                text: s("Briefing added to the bulletin; 240 praticiens atteints ✓"),
                evidence: vec![evidence("bulletin – mars.pdf", 4, 251)],
                on_behalf_of: None,
            }),
        ),
        older(
            "challenge.responded",
            "minimal",
            v1::ChallengeResponded {
                text: s(""),
                evidence: vec![],
            },
            E::ChallengeResponded(ChallengeResponded {
                text: s(""),
                evidence: vec![],
                on_behalf_of: None,
            }),
        ),
        current(
            "full",
            E::ChallengeEscalated(ChallengeEscalated {
                to: s("Independent Scrutineer — Ŵ"),
                reason: s("No answer by the due date"),
            }),
        ),
        current(
            "minimal",
            E::ChallengeEscalated(ChallengeEscalated {
                to: s(""),
                reason: s(""),
            }),
        ),
        current(
            "full",
            E::ChallengeClosed(ChallengeClosed {
                outcome: s("Assured: communication delivered — réglé"),
                impact: Some(s("Referrals up 18% 📈")),
            }),
        ),
        current(
            "minimal",
            E::ChallengeClosed(ChallengeClosed {
                outcome: s(""),
                impact: None,
            }),
        ),
        current(
            "full",
            E::ChallengeReopened(ChallengeReopened {
                reason: s("Nouvelles données — new figures"),
                response_due: Some(20_000),
            }),
        ),
        current(
            "minimal",
            E::ChallengeReopened(ChallengeReopened {
                reason: s(""),
                response_due: None,
            }),
        ),
        older(
            "challenge.reopened",
            "full",
            v1::ChallengeReopened {
                reason: s("Nouvelles données — new figures"),
            },
            E::ChallengeReopened(ChallengeReopened {
                reason: s("Nouvelles données — new figures"),
                response_due: None,
            }),
        ),
        older(
            "challenge.reopened",
            "minimal",
            v1::ChallengeReopened { reason: s("") },
            E::ChallengeReopened(ChallengeReopened {
                reason: s(""),
                response_due: None,
            }),
        ),
        current(
            "full",
            E::ChallengeDueSet(ChallengeDueSet {
                response_due: 20_100,
                reason: s("Extended at the agency’s request — prorogé"),
            }),
        ),
        current(
            "minimal",
            E::ChallengeDueSet(ChallengeDueSet {
                response_due: 0,
                reason: s(""),
            }),
        ),
        current(
            "full",
            E::AgencyRegistered(AgencyRegistered {
                name: s("Heddlu Gogledd Cymru"),
                aliases: vec![s("NWP"), s("Police Nord-Galles")],
            }),
        ),
        current(
            "minimal",
            E::AgencyRegistered(AgencyRegistered {
                name: s(""),
                aliases: vec![],
            }),
        ),
        current(
            "full",
            E::Redacted(Redaction {
                target_seq: 300,
                reason: s("ER-9 — données personnelles"),
                authorised_by: s("dpo"),
            }),
        ),
        current(
            "minimal",
            E::Redacted(Redaction {
                target_seq: 0,
                reason: s(""),
                authorised_by: s(""),
            }),
        ),
        current(
            "full",
            E::StructureKept(StructureKept {
                target_seq: 70_000,
                schema: erased.schema(),
                payload: erased.encode(),
            }),
        ),
        current(
            "minimal",
            E::StructureKept(StructureKept {
                target_seq: 0,
                schema: 0,
                payload: vec![],
            }),
        ),
        current(
            "full",
            E::LateAfterSet(LateAfterSet {
                days: 400,
                reason: s("Board agreed 400 days — période de grâce"),
            }),
        ),
        current(
            "minimal",
            E::LateAfterSet(LateAfterSet {
                days: 0,
                reason: s(""),
            }),
        ),
    ]
}

/// The kind each variant is named by, with no `_` arm: a new variant does not compile
/// until it is named here, and the tests below then want its examples, vectors and
/// table.
fn named(event: &DomainEvent) -> &'static str {
    use DomainEvent as E;
    match event {
        E::PlanCreated(_) => "plan.created",
        E::PriorityAdded(_) => "plan.priority_added",
        E::ActionAdded(_) => "action.added",
        E::ActionAmended(_) => "action.amended",
        E::StatusChanged(_) => "action.status_changed",
        E::ProgressNoted(_) => "action.progress_noted",
        E::CarriedOver(_) => "action.carried_over",
        E::CarriedIn(_) => "action.carried_in",
        E::ChallengeRaised(_) => "challenge.raised",
        E::ChallengeResponded(_) => "challenge.responded",
        E::ChallengeEscalated(_) => "challenge.escalated",
        E::ChallengeClosed(_) => "challenge.closed",
        E::ChallengeReopened(_) => "challenge.reopened",
        E::ChallengeDueSet(_) => "challenge.due_set",
        E::AgencyRegistered(_) => "agency.registered",
        E::Redacted(_) => "ledger.redacted",
        E::StructureKept(_) => "record.structure_kept",
        E::LateAfterSet(_) => "ledger.late_after_set",
    }
}

/// A salt that differs from vector to vector (any 16 bytes do; the ledger draws them
/// at random).
fn salt_for(index: usize) -> [u8; 16] {
    std::array::from_fn(|i| (index * 16 + i).wrapping_mul(37) as u8)
}

/// The vectors file as the real code writes it for `examples()`.
fn generated() -> Value {
    let vectors: Vec<Value> = examples()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let salt = salt_for(i);
            json!({
                "name": e.name,
                "kind": e.kind,
                "payload_schema": e.schema,
                "payload": hex(&e.bytes),
                "salt": hex(&salt),
                "payload_hash": hex(&payload_hash(&salt, &e.bytes)),
                "body": e.decoded.body_json(),
            })
        })
        .collect();
    json!({
        "about": "Golden vectors of every payload layout in docs/FORMAT.md §2a: the bincode bytes (hex), a salt, payload_hash = BLAKE3(salt ‖ payload) and the `body` an export shows. Written by projections/tests/payload_vectors.rs from the real code (ASSURE_BLESS=1 rewrites it); the test holds the code to it byte for byte.",
        "vectors": vectors,
    })
}

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/vectors/payloads.json")
}

fn format_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/FORMAT.md")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn stored() -> Value {
    let text = std::fs::read_to_string(vectors_path())
        .expect("docs/vectors/payloads.json (ASSURE_BLESS=1 writes it)");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_vectors_file_holds_what_the_code_writes_byte_for_byte() {
    let fresh = generated();
    if std::env::var("ASSURE_BLESS").as_deref() == Ok("1") {
        let mut text = serde_json::to_string_pretty(&fresh).unwrap();
        text.push('\n');
        std::fs::create_dir_all(vectors_path().parent().unwrap()).unwrap();
        std::fs::write(vectors_path(), text).unwrap();
        return;
    }
    let held = stored();
    let (fresh, held) = (
        fresh["vectors"].as_array().unwrap(),
        held["vectors"].as_array().unwrap(),
    );
    assert_eq!(
        fresh.len(),
        held.len(),
        "vectors added or removed: ASSURE_BLESS=1 rewrites the file; review the diff"
    );
    for (fresh, held) in fresh.iter().zip(held) {
        assert_eq!(fresh, held, "vector {} moved", held["name"]);
    }
}

#[test]
fn every_vector_decodes_to_its_example_and_renders_its_body() {
    let held = stored();
    let examples: BTreeMap<String, Example> = examples()
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect();
    for vector in held["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let example = &examples[name];
        let kind = vector["kind"].as_str().unwrap();
        let schema = u16::try_from(vector["payload_schema"].as_u64().unwrap()).unwrap();
        let bytes = unhex(vector["payload"].as_str().unwrap());
        assert_eq!(bytes, example.bytes, "{name}: encoding");
        let decoded = DomainEvent::decode(kind, schema, &bytes).unwrap();
        assert_eq!(decoded, example.decoded, "{name}: decoding");
        assert_eq!(decoded.body_json(), vector["body"], "{name}: body");
        let salt: [u8; 16] = unhex(vector["salt"].as_str().unwrap()).try_into().unwrap();
        assert_eq!(
            hex(&payload_hash(&salt, &bytes)),
            vector["payload_hash"].as_str().unwrap(),
            "{name}: payload_hash"
        );
        // The current layout re-encodes to the same bytes; an older one is only read.
        if schema == decoded.schema() {
            assert_eq!(decoded.encode(), bytes, "{name}: re-encoding");
        }
    }
}

/// Each kind's readable schemas: 1 up to the one it is written in today.
fn readable_schemas() -> BTreeMap<&'static str, Vec<u16>> {
    let mut latest: BTreeMap<&'static str, u16> = BTreeMap::new();
    for example in examples() {
        assert_eq!(named(&example.decoded), example.decoded.kind());
        if example.schema == example.decoded.schema() {
            latest.insert(example.kind, example.schema);
        }
    }
    for kind in DomainEvent::KINDS {
        assert!(
            latest.contains_key(kind),
            "kind {kind} has no example in its current layout"
        );
    }
    latest
        .into_iter()
        .map(|(kind, latest)| (kind, (SCHEMA_V1..=latest).collect()))
        .collect()
}

#[test]
fn every_kind_and_readable_schema_has_two_vectors_and_nothing_newer_decodes() {
    let held = stored();
    let mut count: BTreeMap<(String, u16), usize> = BTreeMap::new();
    for vector in held["vectors"].as_array().unwrap() {
        let key = (
            vector["kind"].as_str().unwrap().to_owned(),
            u16::try_from(vector["payload_schema"].as_u64().unwrap()).unwrap(),
        );
        *count.entry(key).or_default() += 1;
    }
    let readable = readable_schemas();
    for (kind, schemas) in &readable {
        for schema in schemas {
            let n = count
                .get(&((*kind).to_owned(), *schema))
                .copied()
                .unwrap_or(0);
            assert!(n >= 2, "{kind} schema {schema}: {n} vectors, 2 needed");
        }
        // No layout beyond the documented ones is read.
        let next = schemas.last().unwrap() + 1;
        for example in examples().iter().filter(|e| e.kind == *kind) {
            assert!(DomainEvent::decode(kind, next, &example.bytes).is_err());
        }
    }
    for (kind, schema) in count.keys() {
        assert!(
            readable
                .get(kind.as_str())
                .is_some_and(|s| s.contains(schema)),
            "a vector for {kind} schema {schema}, which is not readable"
        );
    }
}

#[test]
fn every_kind_and_readable_schema_has_its_table_in_the_format_page() {
    let page = std::fs::read_to_string(format_path()).unwrap();
    let headings: Vec<&str> = page.lines().filter(|l| l.starts_with("#### `")).collect();
    let readable = readable_schemas();
    for (kind, schemas) in &readable {
        for schema in schemas {
            let heading = format!("#### `{kind}`, schema {schema}");
            let at = page
                .find(&format!("\n{heading}\n"))
                .unwrap_or_else(|| panic!("docs/FORMAT.md has no section {heading:?}"));
            // The section holds a field table and says what its body is.
            let section = &page[at + heading.len() + 2..];
            let section = &section[..section.find("\n#").unwrap_or(section.len())];
            assert!(
                section.contains("| field | type |") && section.contains("`body`"),
                "{heading}: a field table and the body's shape are needed"
            );
        }
    }
    for heading in headings {
        let known = readable.iter().any(|(kind, schemas)| {
            schemas
                .iter()
                .any(|s| heading == format!("#### `{kind}`, schema {s}"))
        });
        assert!(
            known,
            "docs/FORMAT.md documents {heading:?}, which the code does not read"
        );
    }
}

// ---------------------------------------------------------------- encoding rules

fn enc<T: bincode::Encode>(value: T) -> Vec<u8> {
    encode_payload(&value).unwrap()
}

#[test]
fn unsigned_integers_are_varints_with_the_documented_thresholds() {
    assert_eq!(enc(0u64), [0]);
    assert_eq!(enc(250u64), [250]);
    assert_eq!(enc(251u64), [251, 251, 0]);
    assert_eq!(enc(65_535u64), [251, 255, 255]);
    assert_eq!(enc(65_536u64), [252, 0, 0, 1, 0]);
    assert_eq!(enc(u64::from(u32::MAX)), [252, 255, 255, 255, 255]);
    assert_eq!(enc(1u64 << 32), [253, 0, 0, 0, 0, 1, 0, 0, 0]);
    let mut wide = vec![254];
    wide.extend_from_slice(&(1u128 << 64).to_le_bytes());
    assert_eq!(enc(1u128 << 64), wide);
    // u16 and u32 use the same forms; u8 is one raw byte, even above 250.
    assert_eq!(enc(400u16), [251, 144, 1]);
    assert_eq!(enc(70_000u32), [252, 112, 17, 1, 0]);
    assert_eq!(enc(255u8), [255]);
    // A reader accepts a longer form than needed, but not one wider than the type.
    assert_eq!(decode_payload::<u64>(&[251, 5, 0]), Ok(5));
    assert!(decode_payload::<u16>(&[252, 0, 0, 1, 0]).is_err());
    assert!(decode_payload::<u32>(&[253, 0, 0, 0, 0, 1, 0, 0, 0]).is_err());
    assert!(decode_payload::<u64>(&[255]).is_err());
}

#[test]
fn signed_integers_are_zigzagged_then_varints() {
    assert_eq!(enc(0i32), [0]);
    assert_eq!(enc(-1i32), [1]);
    assert_eq!(enc(1i32), [2]);
    assert_eq!(enc(-2i32), [3]);
    assert_eq!(enc(125i32), [250]);
    assert_eq!(enc(-126i32), [251, 251, 0]);
    assert_eq!(enc(19_813i32), [251, 202, 154]);
    assert_eq!(enc(i32::MIN), [252, 255, 255, 255, 255]);
    assert_eq!(enc(i32::MAX), [252, 254, 255, 255, 255]);
}

#[test]
fn bools_strings_options_sequences_arrays_tuples_and_enums() {
    assert_eq!(enc(false), [0]);
    assert_eq!(enc(true), [1]);
    assert!(decode_payload::<bool>(&[2]).is_err());
    assert_eq!(enc(s("é")), [2, 0xC3, 0xA9]);
    let mut long = vec![251, 251, 0];
    long.extend_from_slice(&[b'a'; 251]);
    assert_eq!(enc("a".repeat(251)), long);
    assert!(decode_payload::<String>(&[1, 0xFF]).is_err());
    assert_eq!(enc(None::<String>), [0]);
    assert_eq!(enc(Some(s("a"))), [1, 1, b'a']);
    assert!(decode_payload::<Option<String>>(&[2]).is_err());
    assert_eq!(enc(vec![1u32, 300]), [2, 1, 251, 44, 1]);
    assert_eq!(enc(Vec::<String>::new()), [0]);
    // A fixed-size byte array (a BLAKE3 hash) is its bytes, with no length.
    assert_eq!(enc([7u8; 4]), [7, 7, 7, 7]);
    assert_eq!(enc((s("a"), 2u64)), [1, b'a', 2]);
    for (index, rag) in Rag::ALL.into_iter().enumerate() {
        assert_eq!(enc(rag), [u8::try_from(index).unwrap()]);
    }
    assert!(decode_payload::<Rag>(&[6]).is_err());
    // A struct is its fields in order, with nothing between or around them.
    let milestone = Milestone {
        label: s("x"),
        on: -1,
    };
    assert_eq!(enc(milestone), [1, b'x', 1]);
    // A payload is read to its last byte: anything after it is refused.
    assert!(decode_payload::<String>(&[1, b'a', 0]).is_err());
}
