//! The fold: domain events in, the state of every plan and challenge out.
//!
//! `World::apply` is the single place where an event changes state. It checks the
//! event against the state it lands on and refuses what would make the history
//! incoherent (an unknown action, a response to a closed challenge …); commands use
//! that strictness before anything is appended, and views replay leniently, setting
//! aside (never panicking on) anything that does not fit. Pure: no IO, no clock.

use std::collections::{BTreeMap, HashMap};

use crate::events::*;
use crate::order::RefOrder;

/// What one event contributes to the views: who, when, which seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    pub recorded_at: i64,
    /// Days since 1970-01-01.
    pub effective: i32,
    pub actor: String,
}

/// A decoded event with the header facts the fold needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub stamp: Stamp,
    pub subject: String,
    /// `None` when the payload was redacted: the event still counts in history.
    pub event: Option<DomainEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct World {
    pub plans: BTreeMap<String, Plan>,
    pub challenges: BTreeMap<String, Challenge>,
    /// The names challenges were raised to, each once (the challenge log's filter
    /// lists them without reading every challenge).
    pub challenged_agencies: std::collections::BTreeSet<String>,
    /// The partner agencies registered, by id.
    pub agencies: BTreeMap<String, Agency>,
    /// Seqs whose payload was redacted, with the redaction's reason and authoriser.
    pub redactions: BTreeMap<u64, (String, String)>,
    /// The lateness threshold the ledger recorded (`ledger.late_after_set`), if any.
    pub late_after_days: Option<i64>,
    /// Set by `replay_statuses`: actions keep their state but not their entries.
    statuses_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: String,
    pub title: String,
    pub period: Option<String>,
    pub created: Stamp,
    pub priorities: Vec<PriorityAdded>,
    /// By ref; `Plan::actions_in_order` lists them in natural ref order.
    pub actions: HashMap<String, Action>,
}

impl Plan {
    pub fn action(&self, reference: &str) -> Option<&Action> {
        self.actions.get(reference)
    }

    /// The actions in natural ref order (1.2 before 1.10).
    pub fn actions_in_order(&self) -> Vec<&Action> {
        let mut actions: Vec<&Action> = self.actions.values().collect();
        actions.sort_by_cached_key(|a| RefOrder::new(&a.reference));
        actions
    }
}

/// A dated entry in an action's story (status change, progress note, amendment …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stamp: Stamp,
    pub kind: &'static str,
    pub text: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub reference: String,
    pub details: ActionDetails,
    pub status: Rag,
    pub added: Stamp,
    pub last_update: Stamp,
    pub carried_to: Option<ActionRef>,
    pub carried_from: Option<ActionRef>,
    /// Progress already written in an imported plan.
    pub imported_progress: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChallengeStatus {
    Open,
    Responded,
    Escalated,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id: String,
    pub raised: Stamp,
    pub to_agency: String,
    pub about: Vec<ActionRef>,
    pub text: String,
    pub response_due: Option<i32>,
    pub status: ChallengeStatus,
    pub responses: Vec<Entry>,
    /// Escalations, due-date changes, earlier closures and reopenings, in order.
    pub escalations: Vec<Entry>,
    /// Where it was last escalated to.
    pub escalated_to: Option<String>,
    /// Whether a response came since it was raised or last reopened: until then it
    /// is awaited, and overdue past its due date.
    pub answered: bool,
    /// The outcome and impact of its closure; cleared when it is reopened (the
    /// closure stays in `escalations`, so the thread keeps it).
    pub outcome: Option<String>,
    pub impact: Option<String>,
    pub closed: Option<Stamp>,
    pub last_update: Stamp,
}

/// A registered partner agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub registered: Stamp,
}

impl Agency {
    /// Every way it is named: its id, its name and its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [self.id.as_str(), self.name.as_str()]
            .into_iter()
            .chain(self.aliases.iter().map(String::as_str))
    }
}

/// Why an event does not fit the state it lands on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejection(pub String);

fn reject<T>(message: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection(message.into()))
}

fn day(days: i32) -> String {
    crate::timescale::days_to_date(days)
        .map(|d| d.to_string())
        .unwrap_or_else(|| format!("day {days}"))
}

impl World {
    /// Replays events in effective order (ties by seq), leniently: an event that does
    /// not fit is skipped and returned beside the world, never a panic.
    pub fn replay<'a>(
        events: impl IntoIterator<Item = &'a Recorded>,
    ) -> (World, Vec<(u64, Rejection)>) {
        let mut sorted: Vec<&Recorded> = events.into_iter().collect();
        sorted.sort_by_key(|r| (r.stamp.effective, r.stamp.seq));
        let mut world = World::default();
        let mut skipped = Vec::new();
        for recorded in sorted {
            if let Err(why) = world.apply(recorded) {
                skipped.push((recorded.stamp.seq, why));
            }
        }
        (world, skipped)
    }

    /// `replay`, keeping each action's state (status, details, last update, carry-over
    /// links) but not its entries: what a plan view needs, for less work when a page
    /// replays a plan as it stood on some date.
    pub fn replay_statuses<'a>(events: impl IntoIterator<Item = &'a Recorded>) -> World {
        let mut sorted: Vec<&Recorded> = events.into_iter().collect();
        sorted.sort_by_key(|r| (r.stamp.effective, r.stamp.seq));
        World::replay_statuses_in_order(sorted)
    }

    /// `replay_statuses` of events the caller has already put in effective order
    /// (ties by seq).
    pub fn replay_statuses_in_order<'a>(events: impl IntoIterator<Item = &'a Recorded>) -> World {
        let mut world = World {
            statuses_only: true,
            ..World::default()
        };
        for recorded in events {
            let _ = world.apply(recorded);
        }
        world
    }

    /// Replays strictly: the first event that does not fit is the answer.
    pub fn replay_strict<'a>(
        events: impl IntoIterator<Item = &'a Recorded>,
    ) -> Result<World, Rejection> {
        let mut sorted: Vec<&Recorded> = events.into_iter().collect();
        sorted.sort_by_key(|r| (r.stamp.effective, r.stamp.seq));
        let mut world = World::default();
        for recorded in sorted {
            world.apply(recorded)?;
        }
        Ok(world)
    }

    /// The registered agency `name` names (its id, name or an alias, ignoring case).
    pub fn agency_named(&self, name: &str) -> Option<&Agency> {
        let name = name.trim();
        self.agencies
            .values()
            .find(|a| a.names().any(|n| n.eq_ignore_ascii_case(name)))
    }

    /// Whether two names are the same agency: both name one registered agency, or,
    /// for names not registered, the same text ignoring case.
    pub fn same_agency(&self, a: &str, b: &str) -> bool {
        match (self.agency_named(a), self.agency_named(b)) {
            (Some(x), Some(y)) => x.id == y.id,
            (None, None) => a.trim().eq_ignore_ascii_case(b.trim()),
            _ => false,
        }
    }

    /// Entries recorded more than this many days after they took effect are late.
    pub fn late_after(&self) -> i64 {
        self.late_after_days
            .unwrap_or(crate::views::LATE_AFTER_DAYS)
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.get(id)
    }

    pub fn action(&self, at: &ActionRef) -> Option<&Action> {
        self.plans.get(&at.plan)?.action(&at.reference)
    }

    /// Applies one event, or says why it does not fit and changes nothing.
    pub fn apply(&mut self, recorded: &Recorded) -> Result<(), Rejection> {
        let stamp = recorded.stamp.clone();
        use crate::events::subject::Parsed;
        let Some(event) = &recorded.event else {
            // A redacted payload: the event stays in history and, on an action, in its
            // timeline as an erased entry; its effect on state is unknown, so the state
            // keeps what it had.
            if let Parsed::Action(plan_id, reference) = subject::parse(&recorded.subject) {
                let text = || {
                    let text = "[erased under a recorded redaction; see the history]";
                    (text.to_owned(), Vec::new())
                };
                let _ = self.entry(plan_id, reference, stamp, "redacted", text);
            }
            return Ok(());
        };
        match (subject::parse(&recorded.subject), event) {
            (Parsed::Plan(id), DomainEvent::PlanCreated(created)) => {
                if self.plans.contains_key(id) {
                    return reject(format!("plan {id} already exists"));
                }
                self.plans.insert(
                    id.to_owned(),
                    Plan {
                        id: id.to_owned(),
                        title: created.title.clone(),
                        period: created.period.clone(),
                        created: stamp,
                        priorities: Vec::new(),
                        actions: HashMap::new(),
                    },
                );
                Ok(())
            }
            (Parsed::Plan(id), DomainEvent::PriorityAdded(priority)) => {
                let plan = self.plan_mut(id, stamp.effective)?;
                if plan.priorities.iter().any(|p| p.key == priority.key) {
                    return reject(format!("plan {id} already has priority {}", priority.key));
                }
                plan.priorities.push(priority.clone());
                Ok(())
            }
            (Parsed::Action(plan_id, reference), DomainEvent::ActionAdded(added)) => self
                .add_action(
                    plan_id,
                    reference,
                    &added.details,
                    added.status,
                    stamp,
                    None,
                    &added.progress,
                ),
            (Parsed::Action(plan_id, reference), DomainEvent::CarriedIn(carried)) => {
                let from = carried.from.clone();
                self.add_action(
                    plan_id,
                    reference,
                    &carried.details,
                    carried.status,
                    stamp.clone(),
                    Some(from),
                    "",
                )?;
                self.entry(plan_id, reference, stamp, "carried in", || {
                    let text = format!("carried in from {}: {}", carried.from, carried.reason);
                    (text, Vec::new())
                })
            }
            (Parsed::Action(plan_id, reference), DomainEvent::ActionAmended(amended)) => {
                let action = self.action_mut(plan_id, reference, stamp.effective)?;
                let mut changes = Vec::new();
                if let Some(title) = &amended.title {
                    action.details.title = title.clone();
                    changes.push("reworded".to_owned());
                }
                if let Some(leads) = &amended.leads {
                    action.details.leads = leads.clone();
                    changes.push(format!("leads now {}", leads.join("; ")));
                }
                if let Some((raw, milestones)) = &amended.timescale {
                    action.details.timescale = raw.clone();
                    action.details.milestones = milestones.clone();
                    changes.push(format!("timescale rebaselined to {raw:?}"));
                }
                if changes.is_empty() {
                    return reject("the amendment changes nothing");
                }
                let text = || {
                    (
                        format!("{} — {}", changes.join(", "), amended.reason),
                        Vec::new(),
                    )
                };
                self.entry(plan_id, reference, stamp, "amended", text)
            }
            (Parsed::Action(plan_id, reference), DomainEvent::StatusChanged(change)) => {
                let action = self.action_mut(plan_id, reference, stamp.effective)?;
                if let Some(to) = &action.carried_to {
                    return reject(format!("action {plan_id}/{reference} was carried over to {to}; record its status there"));
                }
                if change.status == Rag::CarriedOver {
                    return reject("use carry-over to carry an action into another plan");
                }
                action.status = change.status;
                let text = || {
                    let text = format!("status {}: {}", change.status.label(), change.rationale);
                    (text, Vec::new())
                };
                self.entry(plan_id, reference, stamp, "status", text)
            }
            (Parsed::Action(plan_id, reference), DomainEvent::ProgressNoted(progress)) => {
                let action = self.action_mut(plan_id, reference, stamp.effective)?;
                if let Some(to) = &action.carried_to {
                    return reject(format!("action {plan_id}/{reference} was carried over to {to}; record progress there"));
                }
                self.entry(plan_id, reference, stamp, "progress", || {
                    (progress.note.clone(), progress.evidence.clone())
                })
            }
            (Parsed::Action(plan_id, reference), DomainEvent::CarriedOver(carry)) => {
                if carry.to.plan == plan_id {
                    return reject("an action cannot be carried over into its own plan");
                }
                let action = self.action_mut(plan_id, reference, stamp.effective)?;
                if let Some(to) = &action.carried_to {
                    return reject(format!(
                        "action {plan_id}/{reference} was already carried over to {to}"
                    ));
                }
                if action.status == Rag::Complete {
                    return reject(format!("action {plan_id}/{reference} is complete; only unfinished actions are carried over"));
                }
                action.carried_to = Some(carry.to.clone());
                action.status = Rag::CarriedOver;
                let forum = carry
                    .forum
                    .as_deref()
                    .map(|f| format!(" (agreed at {f})"))
                    .unwrap_or_default();
                let text = || {
                    let text = format!("carried over to {}: {}{forum}", carry.to, carry.reason);
                    (text, Vec::new())
                };
                self.entry(plan_id, reference, stamp, "carried over", text)
            }
            (Parsed::Challenge(id), DomainEvent::ChallengeRaised(raised)) => {
                if self.challenges.contains_key(id) {
                    return reject(format!("challenge {id} already exists"));
                }
                if !self.challenged_agencies.contains(&raised.to_agency) {
                    self.challenged_agencies.insert(raised.to_agency.clone());
                }
                self.challenges.insert(
                    id.to_owned(),
                    Challenge {
                        id: id.to_owned(),
                        raised: stamp.clone(),
                        to_agency: raised.to_agency.clone(),
                        about: raised.about.clone(),
                        text: raised.text.clone(),
                        response_due: raised.response_due,
                        status: ChallengeStatus::Open,
                        responses: Vec::new(),
                        escalations: Vec::new(),
                        escalated_to: None,
                        answered: false,
                        outcome: None,
                        impact: None,
                        closed: None,
                        last_update: stamp,
                    },
                );
                Ok(())
            }
            (Parsed::Challenge(id), DomainEvent::ChallengeResponded(response)) => {
                let challenge = self.open_challenge(id, stamp.effective, "respond to")?;
                challenge.status = ChallengeStatus::Responded;
                challenge.answered = true;
                challenge.last_update = stamp.clone();
                let text = match &response.on_behalf_of {
                    Some(agency) => format!("{} (recorded on behalf of {agency})", response.text),
                    None => response.text.clone(),
                };
                challenge.responses.push(Entry {
                    stamp,
                    kind: "response",
                    text,
                    evidence: response.evidence.clone(),
                });
                Ok(())
            }
            (Parsed::Challenge(id), DomainEvent::ChallengeDueSet(set)) => {
                let challenge = self.open_challenge(id, stamp.effective, "set the due date of")?;
                if set.response_due < challenge.raised.effective {
                    return reject(format!(
                        "the response cannot be due before challenge {id} was raised"
                    ));
                }
                let text = match challenge.response_due {
                    Some(before) if before != set.response_due => format!(
                        "response due date moved from {} to {}: {}",
                        crate::views::date(before),
                        crate::views::date(set.response_due),
                        set.reason
                    ),
                    _ => format!(
                        "response due by {}: {}",
                        crate::views::date(set.response_due),
                        set.reason
                    ),
                };
                challenge.response_due = Some(set.response_due);
                challenge.last_update = stamp.clone();
                challenge.escalations.push(Entry {
                    stamp,
                    kind: "due date",
                    text,
                    evidence: Vec::new(),
                });
                Ok(())
            }
            (Parsed::Challenge(id), DomainEvent::ChallengeEscalated(escalation)) => {
                let challenge = self.open_challenge(id, stamp.effective, "escalate")?;
                challenge.status = ChallengeStatus::Escalated;
                challenge.escalated_to = Some(escalation.to.clone());
                challenge.last_update = stamp.clone();
                let text = format!("escalated to {}: {}", escalation.to, escalation.reason);
                challenge.escalations.push(Entry {
                    stamp,
                    kind: "escalation",
                    text,
                    evidence: Vec::new(),
                });
                Ok(())
            }
            (Parsed::Challenge(id), DomainEvent::ChallengeClosed(closed)) => {
                let challenge = self.open_challenge(id, stamp.effective, "close")?;
                challenge.status = ChallengeStatus::Closed;
                challenge.outcome = Some(closed.outcome.clone());
                challenge.impact = closed.impact.clone();
                challenge.closed = Some(stamp.clone());
                challenge.last_update = stamp;
                Ok(())
            }
            (Parsed::Challenge(id), DomainEvent::ChallengeReopened(reopened)) => {
                let challenge = self.challenge_mut(id, stamp.effective)?;
                if challenge.status != ChallengeStatus::Closed {
                    return reject(format!(
                        "challenge {id} is not closed, so it cannot be reopened"
                    ));
                }
                challenge.status = ChallengeStatus::Open;
                // The closure it reopens stays in the thread; the log shows it open.
                if let (Some(closed), Some(outcome)) =
                    (challenge.closed.take(), challenge.outcome.take())
                {
                    let text = match challenge.impact.take() {
                        Some(impact) => format!("closed: {outcome} (impact: {impact})"),
                        None => format!("closed: {outcome}"),
                    };
                    challenge.escalations.push(Entry {
                        stamp: closed,
                        kind: "closed",
                        text,
                        evidence: Vec::new(),
                    });
                }
                challenge.answered = false;
                if let Some(due) = reopened.response_due {
                    challenge.response_due = Some(due);
                }
                challenge.last_update = stamp.clone();
                let text = match reopened.response_due {
                    Some(due) => format!(
                        "reopened: {} (response due by {})",
                        reopened.reason,
                        crate::views::date(due)
                    ),
                    None => format!("reopened: {}", reopened.reason),
                };
                challenge.escalations.push(Entry {
                    stamp,
                    kind: "reopened",
                    text,
                    evidence: Vec::new(),
                });
                Ok(())
            }
            (Parsed::Agency(id), DomainEvent::AgencyRegistered(agency)) => {
                let taken = agency
                    .aliases
                    .iter()
                    .map(String::as_str)
                    .chain([id, agency.name.as_str()])
                    .find_map(|name| self.agency_named(name).map(|a| (name, a.id.clone())));
                if let Some((name, by)) = taken {
                    return reject(format!(
                        "{name:?} already names agency {by}; an agency is registered once and each name means one agency"
                    ));
                }
                self.agencies.insert(
                    id.to_owned(),
                    Agency {
                        id: id.to_owned(),
                        name: agency.name.clone(),
                        aliases: agency.aliases.clone(),
                        registered: stamp,
                    },
                );
                Ok(())
            }
            (Parsed::Ledger, DomainEvent::Redacted(redaction)) => {
                self.redactions.insert(
                    redaction.target_seq,
                    (redaction.reason.clone(), redaction.authorised_by.clone()),
                );
                Ok(())
            }
            (Parsed::Ledger, DomainEvent::LateAfterSet(set)) => {
                self.late_after_days = Some(i64::from(set.days));
                Ok(())
            }
            // Read in place of the erased event it names (`read::Decoder`).
            (_, DomainEvent::StructureKept(_)) => Ok(()),
            (_, event) => reject(format!(
                "a {} event does not belong under subject {:?}",
                event.kind(),
                recorded.subject
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_action(
        &mut self,
        plan_id: &str,
        reference: &str,
        details: &ActionDetails,
        status: Rag,
        stamp: Stamp,
        carried_from: Option<ActionRef>,
        progress: &str,
    ) -> Result<(), Rejection> {
        let plan = self.plan_mut(plan_id, stamp.effective)?;
        let key = reference.to_owned();
        if plan.actions.contains_key(&key) {
            return reject(format!("plan {plan_id} already has an action {reference}"));
        }
        if !plan
            .priorities
            .iter()
            .any(|p| p.key == details.priority_key)
        {
            return reject(format!(
                "plan {plan_id} has no priority {}",
                details.priority_key
            ));
        }
        plan.actions.insert(
            key,
            Action {
                reference: reference.to_owned(),
                details: details.clone(),
                status,
                added: stamp.clone(),
                last_update: stamp,
                carried_to: None,
                carried_from,
                imported_progress: progress.to_owned(),
                entries: Vec::new(),
            },
        );
        Ok(())
    }

    fn entry(
        &mut self,
        plan_id: &str,
        reference: &str,
        stamp: Stamp,
        kind: &'static str,
        // Made only when the entry is kept (not in a statuses-only replay).
        text: impl FnOnce() -> (String, Vec<Evidence>),
    ) -> Result<(), Rejection> {
        let statuses_only = self.statuses_only;
        let action = self.action_mut(plan_id, reference, stamp.effective)?;
        if statuses_only {
            action.last_update = stamp;
            return Ok(());
        }
        action.last_update = stamp.clone();
        let (text, evidence) = text();
        action.entries.push(Entry {
            stamp,
            kind,
            text,
            evidence,
        });
        Ok(())
    }

    fn plan_mut(&mut self, id: &str, on: i32) -> Result<&mut Plan, Rejection> {
        self.plans
            .get_mut(id)
            .ok_or_else(|| Rejection(format!("no plan {id} on {}", day(on))))
    }

    fn action_mut(
        &mut self,
        plan_id: &str,
        reference: &str,
        on: i32,
    ) -> Result<&mut Action, Rejection> {
        let plan = self.plan_mut(plan_id, on)?;
        plan.actions.get_mut(reference).ok_or_else(|| {
            Rejection(format!(
                "plan {plan_id} has no action {reference} on {}",
                day(on)
            ))
        })
    }

    fn challenge_mut(&mut self, id: &str, on: i32) -> Result<&mut Challenge, Rejection> {
        self.challenges
            .get_mut(id)
            .ok_or_else(|| Rejection(format!("no challenge {id} on {}", day(on))))
    }

    fn open_challenge(
        &mut self,
        id: &str,
        on: i32,
        verb: &str,
    ) -> Result<&mut Challenge, Rejection> {
        let challenge = self.challenge_mut(id, on)?;
        if challenge.status == ChallengeStatus::Closed {
            return reject(format!(
                "challenge {id} is closed; reopen it before you {verb} it"
            ));
        }
        Ok(challenge)
    }
}
