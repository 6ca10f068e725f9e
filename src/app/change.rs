//! `Change`: every kind of change a user can make, in plain inputs, and the one
//! builder that turns it into planned events — used alike by the command line, the
//! pages and the API, so a change is never built twice.
//!
//! A builder sees the world the change will land in (the command line's replay of
//! the subjects it touches; the service's writer's world, which already holds every
//! earlier request) and the agency the caller acts for: a partner lead is confined
//! to its own agency by the rules in `access.rs`; the board's roles pass `None`.
//! Nothing here parses user text (see `input.rs`) or does IO.

use projections::events::*;
use projections::planned::{check_id, require_text, CarryOptions, Planned};
use projections::world::Challenge;
use projections::{Rejection, World};

use super::access;
use crate::import::{plan_events, ImportedPlan, Recording};

/// One change, as a user asks for it.
#[derive(Debug, Clone)]
pub enum Change {
    /// A plan read from a file, recorded as the preview showed it.
    Import {
        plan: Box<ImportedPlan>,
        recording: Recording,
    },
    CreatePlan {
        id: String,
        title: String,
        period: Option<String>,
    },
    Status {
        at: ActionRef,
        status: Rag,
        rationale: String,
    },
    Progress {
        at: ActionRef,
        note: String,
        evidence: Vec<Evidence>,
    },
    Amend {
        at: ActionRef,
        title: Option<String>,
        /// Semicolon-separated, as a plan writes them.
        leads: Option<String>,
        timescale: Option<String>,
        reason: String,
    },
    CarryOver {
        from: ActionRef,
        to: ActionRef,
        reason: String,
        forum: Option<String>,
        /// New priority, timescale or RAG in next year's plan.
        options: CarryOptions,
    },
    Raise {
        to_agency: String,
        text: String,
        about: Vec<ActionRef>,
        due: Option<i32>,
    },
    Respond {
        id: String,
        text: String,
        evidence: Vec<Evidence>,
    },
    Escalate {
        id: String,
        to: String,
        reason: String,
    },
    Close {
        id: String,
        outcome: String,
        impact: Option<String>,
    },
    Reopen {
        id: String,
        reason: String,
        /// A new date the response is due by.
        due: Option<i32>,
    },
    /// Register a partner agency, with the other names plans use for it.
    RegisterAgency {
        id: String,
        name: String,
        aliases: Vec<String>,
    },
    /// Set the ledger's lateness threshold, in days.
    SetLateAfter { days: u16, reason: String },
    /// Set or move the date a challenge's response is due by.
    SetDue {
        id: String,
        due: i32,
        reason: String,
    },
}

/// The agency a typed name means: before any agency is registered, the name as
/// typed (as ledgers always did); after, a registered agency by any of its names,
/// given by its full name — or a refusal listing the registered ones.
pub fn registered_agency(world: &World, typed: &str, to_do: &str) -> Result<String, Rejection> {
    if world.agencies.is_empty() {
        return Ok(typed.trim().to_owned());
    }
    match world.agency_named(typed) {
        Some(agency) => Ok(agency.name.clone()),
        None => {
            let known: Vec<String> = world
                .agencies
                .values()
                .map(|a| format!("{} ({})", a.name, a.id))
                .collect();
            Err(Rejection(format!(
                "{typed:?} is not a registered agency; {to_do} one of: {} — or register it first with `assure agency add`",
                known.join(", ")
            )))
        }
    }
}

/// Every agency's events, as a group name for `Subjects::group`.
pub const AGENCIES: &str = "agency/";

/// What a change is built against.
#[derive(Debug, Clone, Copy)]
pub struct Against<'a> {
    /// The world the change will land in.
    pub world: &'a World,
    /// The agency a partner lead acts for; `None` for the board's roles.
    pub agency: Option<&'a str>,
    /// Every challenge subject the ledger holds, redacted ones included, so a new
    /// challenge never reuses an id (read only for `Change::Raise`).
    pub challenge_subjects: &'a [String],
}

impl Change {
    /// Raising a challenge on `raised_on` (its effective day), with the response due
    /// on `due` if given: refused when it would be due before it is raised.
    pub fn raise(
        to_agency: &str,
        text: &str,
        about: Vec<ActionRef>,
        due: Option<i32>,
        raised_on: i32,
    ) -> Result<Change, Rejection> {
        if due.is_some_and(|due| due < raised_on) {
            return Err(Rejection(
                "the response would be due before the challenge is raised; choose a later due date"
                    .into(),
            ));
        }
        Ok(Change::Raise {
            to_agency: to_agency.to_owned(),
            text: text.to_owned(),
            about,
            due,
        })
    }

    /// The plans and challenges whose history a command loads to check this change:
    /// its own, and any it names.
    pub fn groups(&self) -> Vec<String> {
        match self {
            Change::CreatePlan { id, .. } => vec![subject::plan(id)],
            Change::Import { recording, .. } => vec![subject::plan(&recording.plan_id)],
            Change::Status { at, .. } | Change::Progress { at, .. } | Change::Amend { at, .. } => {
                vec![subject::plan(&at.plan)]
            }
            Change::CarryOver { from, to, .. } => {
                vec![subject::plan(&from.plan), subject::plan(&to.plan)]
            }
            Change::Raise { about, .. } => {
                let mut plans: Vec<String> = about.iter().map(|a| subject::plan(&a.plan)).collect();
                plans.sort_unstable();
                plans.dedup();
                plans.push(AGENCIES.to_owned());
                plans
            }
            Change::RegisterAgency { .. } => vec![AGENCIES.to_owned()],
            Change::SetLateAfter { .. } => vec![subject::LEDGER.to_owned()],
            Change::Respond { id, .. }
            | Change::Escalate { id, .. }
            | Change::Close { id, .. }
            | Change::Reopen { id, .. }
            | Change::SetDue { id, .. } => vec![subject::challenge(id)],
        }
    }

    /// The events that record this change, or why it cannot be made.
    pub fn build(self, against: Against<'_>) -> Result<Vec<Planned>, Rejection> {
        let world = against.world;
        let event = match self {
            Change::Import { plan, recording } => return plan_events(world, &plan, &recording),
            Change::CreatePlan { id, title, period } => {
                check_id("plan id", &id)?;
                let created = PlanCreated {
                    title: require_text("the plan title", &title)?,
                    period,
                };
                return Ok(vec![Planned::new(
                    subject::plan(&id),
                    DomainEvent::PlanCreated(created),
                )]);
            }
            Change::Status {
                at,
                status,
                rationale,
            } => {
                if status == Rag::CarriedOver {
                    return Err(Rejection(
                        "an action is marked carried over by carrying it over, not by a status"
                            .into(),
                    ));
                }
                let rationale = require_text("the rationale", &rationale)?;
                (
                    subject::action(&at.plan, &at.reference),
                    DomainEvent::StatusChanged(StatusChanged { status, rationale }),
                )
            }
            Change::Progress { at, note, evidence } => {
                if let Some(agency) = against.agency {
                    if !access::leads_action(world, &at, agency) {
                        return Err(Rejection(format!("{agency} does not lead action {at}; ask the business manager to record this")));
                    }
                }
                let note = require_text("the progress note", &note)?;
                (
                    subject::action(&at.plan, &at.reference),
                    DomainEvent::ProgressNoted(ProgressNoted { note, evidence }),
                )
            }
            Change::Amend {
                at,
                title,
                leads,
                timescale,
                reason,
            } => {
                let amended = ActionAmended {
                    title: title.map(|t| require_text("the title", &t)).transpose()?,
                    leads: leads.map(|l| {
                        l.split(';')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect()
                    }),
                    timescale: timescale.map(|raw| {
                        let milestones = projections::timescale::parse_timescale(&raw);
                        (raw, milestones)
                    }),
                    reason: require_text("the reason", &reason)?,
                };
                (
                    subject::action(&at.plan, &at.reference),
                    DomainEvent::ActionAmended(amended),
                )
            }
            Change::CarryOver {
                from,
                to,
                reason,
                forum,
                options,
            } => {
                return projections::planned::carry_over(world, &from, &to, &reason, forum, options)
            }
            Change::Raise {
                to_agency,
                text,
                about,
                due,
            } => {
                let to_agency = require_text("the agency", &to_agency)?;
                let to_agency = registered_agency(world, &to_agency, "raise the challenge to")?;
                let raised = ChallengeRaised {
                    to_agency,
                    about,
                    text: require_text("the challenge text", &text)?,
                    response_due: due,
                };
                let pending: Vec<String> = world
                    .challenges
                    .keys()
                    .map(|k| subject::challenge(k))
                    .collect();
                let known = against.challenge_subjects.iter().chain(&pending);
                let id = projections::planned::next_challenge_id(known.map(String::as_str));
                return projections::planned::raise_challenge(world, &id, raised);
            }
            Change::Respond { id, text, evidence } => {
                let challenge = challenge_for(against, &id)?;
                // Recorded by the board's roles, a response is the agency's, on its behalf.
                let on_behalf_of = match against.agency {
                    Some(_) => None,
                    None => Some(challenge.to_agency.clone()),
                };
                (
                    subject::challenge(&id),
                    DomainEvent::ChallengeResponded(ChallengeResponded {
                        text: require_text("the response", &text)?,
                        evidence,
                        on_behalf_of,
                    }),
                )
            }
            Change::Escalate { id, to, reason } => {
                challenge_for(against, &id)?;
                (
                    subject::challenge(&id),
                    DomainEvent::ChallengeEscalated(ChallengeEscalated {
                        to: require_text("escalate to", &to)?,
                        reason: require_text("the reason", &reason)?,
                    }),
                )
            }
            Change::Close {
                id,
                outcome,
                impact,
            } => {
                challenge_for(against, &id)?;
                (
                    subject::challenge(&id),
                    DomainEvent::ChallengeClosed(ChallengeClosed {
                        outcome: require_text("the outcome", &outcome)?,
                        impact: impact.map(|i| require_text("the impact", &i)).transpose()?,
                    }),
                )
            }
            Change::Reopen { id, reason, due } => {
                challenge_for(against, &id)?;
                (
                    subject::challenge(&id),
                    DomainEvent::ChallengeReopened(ChallengeReopened {
                        reason: require_text("the reason", &reason)?,
                        response_due: due,
                    }),
                )
            }
            Change::RegisterAgency { id, name, aliases } => {
                check_id("agency id", &id)?;
                let name = require_text("the agency's name", &name)?;
                let aliases = aliases
                    .iter()
                    .map(|a| require_text("an alias", a))
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    subject::agency(&id),
                    DomainEvent::AgencyRegistered(AgencyRegistered { name, aliases }),
                )
            }
            Change::SetLateAfter { days, reason } => {
                if !(1..=366).contains(&days) {
                    return Err(Rejection(format!(
                        "{days} days is not a lateness threshold: give a number of days from 1 to 366"
                    )));
                }
                (
                    subject::LEDGER.to_owned(),
                    DomainEvent::LateAfterSet(LateAfterSet {
                        days,
                        reason: require_text("the reason", &reason)?,
                    }),
                )
            }
            Change::SetDue { id, due, reason } => {
                challenge_for(against, &id)?;
                (
                    subject::challenge(&id),
                    DomainEvent::ChallengeDueSet(ChallengeDueSet {
                        response_due: due,
                        reason: require_text("the reason", &reason)?,
                    }),
                )
            }
        };
        let (subject, event) = event;
        Ok(vec![Planned::new(subject, event)])
    }
}

/// The challenge a step is about, if the caller may act on it; a partner lead of
/// another agency is told there is no such challenge, as it cannot see it.
fn challenge_for<'a>(against: Against<'a>, id: &str) -> Result<&'a Challenge, Rejection> {
    against
        .world
        .challenges
        .get(id)
        .filter(|c| access::may_see_challenge(against.world, against.agency, c))
        .ok_or_else(|| Rejection(format!("there is no challenge {id}")))
}
