//! Erasure removes words, never records.
//!
//! Redacting an event destroys its salt and payload (FORMAT v1 §2). Before it does,
//! the application keeps the event's structure — ids, refs, dates, statuses,
//! priority keys, the agency challenged — as a `record.structure_kept` event whose
//! payload is the erased one with every free-text field replaced by a note of the
//! erasure and no evidence ([`kept_structure`]). Readers put that structure back in
//! the erased event's place ([`crate::read::Decoder`]), so every view on every time
//! axis still lists every plan, action and challenge that existed, with the erased
//! words shown as erased: when, why and on whose authority.

use crate::events::{
    ActionAdded, ActionAmended, ActionDetails, CarriedIn, CarriedOver, ChallengeClosed,
    ChallengeDueSet, ChallengeEscalated, ChallengeRaised, ChallengeReopened, ChallengeResponded,
    DomainEvent, ExtraField, PlanCreated, PriorityAdded, ProgressNoted, StatusChanged,
    StructureKept,
};

/// What a view shows in place of erased words.
pub fn note(reason: &str, authorised_by: &str, day: i32) -> String {
    format!(
        "[erased {}: {}; authorised by {authorised_by}]",
        crate::views::date(day),
        reason.trim()
    )
}

/// The `record.structure_kept` event for event `target_seq`, from its payload
/// without words (`without_words`).
pub fn kept_structure(target_seq: u64, skeleton: &DomainEvent) -> DomainEvent {
    DomainEvent::StructureKept(StructureKept {
        target_seq,
        schema: skeleton.schema(),
        payload: skeleton.encode(),
    })
}

/// `text`, or the note when it held any words.
fn erase(text: &str, note: &str) -> String {
    if text.trim().is_empty() {
        text.to_owned()
    } else {
        note.to_owned()
    }
}

fn erase_all(texts: &[String], note: &str) -> Vec<String> {
    texts.iter().map(|t| erase(t, note)).collect()
}

fn details(d: &ActionDetails, note: &str) -> ActionDetails {
    ActionDetails {
        priority_key: d.priority_key.clone(),
        title: erase(&d.title, note),
        impact: erase(&d.impact, note),
        outcome: erase(&d.outcome, note),
        // Leads may name people ("J. Smith, Head of Service"); who led the action is
        // words, not structure.
        leads: erase_all(&d.leads, note),
        // A timescale is dates, and its milestones drive what is overdue.
        timescale: d.timescale.clone(),
        milestones: d.milestones.clone(),
        cross_refs: d.cross_refs.clone(),
        extras: d
            .extras
            .iter()
            .map(|x| ExtraField {
                header: x.header.clone(),
                text: erase(&x.text, note),
            })
            .collect(),
    }
}

/// The event with its words replaced by `note` and its evidence dropped (the files
/// are deleted with the words). Its kind, and every id, ref, date and status, stay.
pub fn without_words(event: &DomainEvent, note: &str) -> Result<DomainEvent, String> {
    use DomainEvent as E;
    let e = |t: &String| erase(t, note);
    Ok(match event {
        E::PlanCreated(p) => E::PlanCreated(PlanCreated {
            title: e(&p.title),
            period: p.period.clone(),
        }),
        E::PriorityAdded(p) => E::PriorityAdded(PriorityAdded {
            key: p.key.clone(),
            title: e(&p.title),
            description: e(&p.description),
        }),
        E::ActionAdded(a) => E::ActionAdded(ActionAdded {
            details: details(&a.details, note),
            status: a.status,
            progress: e(&a.progress),
            source: a.source.clone(),
        }),
        E::ActionAmended(a) => E::ActionAmended(ActionAmended {
            title: a.title.as_ref().map(e),
            leads: a.leads.as_ref().map(|l| erase_all(l, note)),
            timescale: a.timescale.clone(),
            reason: e(&a.reason),
        }),
        E::StatusChanged(s) => E::StatusChanged(StatusChanged {
            status: s.status,
            rationale: e(&s.rationale),
        }),
        E::ProgressNoted(p) => E::ProgressNoted(ProgressNoted {
            note: e(&p.note),
            evidence: Vec::new(),
        }),
        E::CarriedOver(c) => E::CarriedOver(CarriedOver {
            to: c.to.clone(),
            reason: e(&c.reason),
            forum: c.forum.as_ref().map(e),
        }),
        E::CarriedIn(c) => E::CarriedIn(CarriedIn {
            from: c.from.clone(),
            details: details(&c.details, note),
            status: c.status,
            reason: e(&c.reason),
        }),
        E::ChallengeRaised(c) => E::ChallengeRaised(ChallengeRaised {
            // The agency challenged is structure: it decides who may read the thread.
            to_agency: c.to_agency.clone(),
            about: c.about.clone(),
            text: e(&c.text),
            response_due: c.response_due,
        }),
        E::ChallengeResponded(r) => E::ChallengeResponded(ChallengeResponded {
            text: e(&r.text),
            evidence: Vec::new(),
            on_behalf_of: r.on_behalf_of.clone(),
        }),
        E::ChallengeEscalated(x) => E::ChallengeEscalated(ChallengeEscalated {
            to: x.to.clone(),
            reason: e(&x.reason),
        }),
        E::ChallengeClosed(c) => E::ChallengeClosed(ChallengeClosed {
            outcome: e(&c.outcome),
            impact: c.impact.as_ref().map(e),
        }),
        E::ChallengeReopened(r) => E::ChallengeReopened(ChallengeReopened {
            reason: e(&r.reason),
            response_due: r.response_due,
        }),
        E::ChallengeDueSet(d) => E::ChallengeDueSet(ChallengeDueSet {
            response_due: d.response_due,
            reason: e(&d.reason),
        }),
        E::LateAfterSet(l) => E::LateAfterSet(crate::events::LateAfterSet {
            days: l.days,
            reason: e(&l.reason),
        }),
        E::AgencyRegistered(_) => {
            return Err(
                "it registers an agency: its words are the agency's names, which identify it in every lead, challenge and account, and hold nothing personal".into(),
            )
        }
        E::Redacted(_) => return Err("it is itself a redaction".into()),
        E::StructureKept(_) => {
            return Err("it is what an earlier erasure kept, which holds no words".into())
        }
    })
}
