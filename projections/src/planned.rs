//! Planned events: what a change will append, built (carry-over, raising a
//! challenge) and checked against the history before anything is appended.
//!
//! A change is accepted only if replaying the relevant history with the planned
//! events added (at their effective date, so backdating is checked too) applies every
//! planned event and breaks no event that applied before. Pure: the caller loads the
//! history and appends; nothing here does IO.

use crate::events::*;
use crate::world::{Recorded, Rejection, Stamp, World};

/// An event the user asked for, not yet in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub subject: String,
    pub event: DomainEvent,
    /// When this event takes effect, if not on the change's own effective date: an
    /// import records a plan from its start and the file's statuses as at a later
    /// date, in one atomic change.
    pub effective: Option<i32>,
}

impl Planned {
    pub fn new(subject: String, event: DomainEvent) -> Planned {
        Planned {
            subject,
            event,
            effective: None,
        }
    }

    /// The same event, taking effect on `day` (days since 1970).
    pub fn effective_on(mut self, day: i32) -> Planned {
        self.effective = Some(day);
        self
    }

    /// The day this event takes effect within a change made in `context`.
    pub fn effective_in(&self, context: &Context) -> i32 {
        self.effective.unwrap_or(context.effective)
    }

    /// The event for the ledger to stage, stamped with `context`'s actor and this
    /// event's effective day (the ledger assigns seq and recorded time).
    pub fn to_new_event(&self, context: &Context) -> ledger::NewEvent {
        ledger::NewEvent {
            effective: self.effective_in(context),
            actor: context.actor.clone(),
            subject: self.subject.clone(),
            kind: self.event.kind().to_owned(),
            payload_schema: self.event.schema(),
            payload: self.event.encode(),
        }
    }
}

/// The planned events as the fold will read them once recorded in `context`:
/// consecutive seqs from `context.next_seq`, its recorded time and actor.
pub fn stamped(planned: &[Planned], context: &Context) -> Vec<Recorded> {
    planned
        .iter()
        .enumerate()
        .map(|(offset, p)| Recorded {
            stamp: Stamp {
                seq: context.next_seq + offset as u64,
                recorded_at: context.recorded_at,
                effective: p.effective_in(context),
                actor: context.actor.clone(),
            },
            subject: p.subject.clone(),
            event: Some(p.event.clone()),
        })
        .collect()
}

/// The facts the ledger will stamp on the planned events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub next_seq: u64,
    pub recorded_at: i64,
    pub effective: i32,
    /// Today by the ledger's clock: nothing may take effect later than this.
    pub today: i32,
    pub actor: String,
}

/// Checks planned events against `history` (every event of the subjects they touch).
pub fn validate(
    history: &[Recorded],
    planned: &[Planned],
    context: &Context,
) -> Result<(), Rejection> {
    let latest = planned
        .iter()
        .map(|p| p.effective_in(context))
        .fold(context.effective, i32::max);
    if latest > context.today {
        return Err(Rejection(format!(
            "the effective date {} is in the future; record changes on or after the day they happen",
            crate::timescale::days_to_date(latest).map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    let before: Vec<u64> = World::replay(history)
        .1
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    let mut combined: Vec<Recorded> = history.to_vec();
    combined.extend(stamped(planned, context));
    let (_, after) = World::replay(&combined);
    for (seq, why) in after {
        if seq >= context.next_seq {
            return Err(why);
        }
        if !before.contains(&seq) {
            return Err(Rejection(format!(
                "this would contradict event {seq}, recorded earlier with a later effective date ({why}); choose a later effective date"
            )));
        }
    }
    Ok(())
}

/// Refuses empty or over-long free text, naming the field; keeps it cleaned (see
/// `clean_text`), so no recorded text hides or reorders what it shows.
pub fn require_text(field: &str, value: &str) -> Result<String, Rejection> {
    let cleaned = clean_text(value);
    let trimmed = cleaned.as_str();
    if trimmed.is_empty() {
        return Err(Rejection(format!(
            "{field} is empty; say what happened and why"
        )));
    }
    if trimmed.len() > 16 * 1024 {
        return Err(Rejection(format!(
            "{field} is {} bytes, over the 16 KiB limit; attach longer material as evidence",
            trimmed.len()
        )));
    }
    Ok(trimmed.to_owned())
}

/// Trims a cell and removes control characters other than new lines and tabs
/// (Windows line ends become new lines), a stray byte-order mark, and the
/// bidirectional overrides that can make text display differently from what is
/// stored, which an audit record must not allow.
pub fn clean_text(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => cleaned.push('\n'),
            '\n' | '\t' => cleaned.push(c),
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{FEFF}' => {}
            c if c.is_control() => {}
            c => cleaned.push(c),
        }
    }
    let trimmed = cleaned.trim();
    if trimmed.len() == cleaned.len() {
        cleaned
    } else {
        trimmed.to_owned()
    }
}

/// Plan ids, refs and challenge ids become parts of subjects and file names, so
/// they are restricted to letters, digits and `. _ -`, with no `..`.
pub fn check_id(what: &str, id: &str) -> Result<(), Rejection> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !id.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Rejection(format!(
            "{what} {id:?} is not allowed: use letters, digits, '.', '_' and '-' (up to 64, starting with a letter or digit, no '..')"
        )))
    }
}

/// What a carry-over may change as the action moves into next year's plan; what is
/// not given is kept from the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarryOptions {
    /// The priority it goes under in the new plan (which must have it).
    pub priority: Option<String>,
    /// Its new timescale, read into milestones within the new plan's years.
    pub timescale: Option<String>,
    /// Its RAG in the new plan; by default the source's own.
    pub status: Option<Rag>,
}

/// The events that carry `from` into plan `to_plan` as `to_ref`: the destination
/// action (and its priority, if that plan lacks it) first, then the mark on the source.
/// The carried action keeps the source's details and RAG except where `options` say.
pub fn carry_over(
    world: &World,
    from: &ActionRef,
    to: &ActionRef,
    reason: &str,
    forum: Option<String>,
    options: CarryOptions,
) -> Result<Vec<Planned>, Rejection> {
    check_id("plan id", &to.plan)?;
    check_id("action ref", &to.reference)?;
    let source_plan = world
        .plan(&from.plan)
        .ok_or_else(|| Rejection(format!("no plan {}", from.plan)))?;
    let source = source_plan.action(&from.reference).ok_or_else(|| {
        Rejection(format!(
            "plan {} has no action {}",
            from.plan, from.reference
        ))
    })?;
    let target_plan = world.plan(&to.plan).ok_or_else(|| {
        Rejection(format!(
            "no plan {}; create next year's plan first with create-plan",
            to.plan
        ))
    })?;
    if let Some(went) = &source.carried_to {
        return Err(Rejection(format!(
            "{from} was already carried over to {went}; carry on from there"
        )));
    }
    let mut details = source.details.clone();
    let mut planned = Vec::new();
    match &options.priority {
        Some(key) => {
            if !target_plan.priorities.iter().any(|p| &p.key == key) {
                let keys: Vec<&str> = target_plan
                    .priorities
                    .iter()
                    .map(|p| p.key.as_str())
                    .collect();
                return Err(Rejection(format!(
                    "plan {} has no priority {key}; its priorities are: {}",
                    to.plan,
                    if keys.is_empty() {
                        "none yet".to_owned()
                    } else {
                        keys.join(", ")
                    }
                )));
            }
            details.priority_key = key.clone();
        }
        None => {
            let key = &source.details.priority_key;
            if !target_plan.priorities.iter().any(|p| &p.key == key) {
                let (title, description) = source_plan
                    .priorities
                    .iter()
                    .find(|p| &p.key == key)
                    .map_or_else(
                        || (format!("Priority {key}"), String::new()),
                        |p| (p.title.clone(), p.description.clone()),
                    );
                planned.push(Planned::new(
                    subject::plan(&to.plan),
                    DomainEvent::PriorityAdded(PriorityAdded {
                        key: key.clone(),
                        title,
                        description,
                    }),
                ));
            }
        }
    }
    if let Some(raw) = options.timescale {
        let years = target_plan
            .period
            .as_deref()
            .map(crate::timescale::PlanYears::from_period)
            .unwrap_or_default();
        details.milestones = crate::timescale::parse_timescale_in(&raw, years);
        details.timescale = require_text("the timescale", &raw)?;
    }
    let status = match options.status {
        Some(Rag::CarriedOver) => {
            return Err(Rejection(
                "carried over is what the source becomes, not a status for the carried action"
                    .into(),
            ))
        }
        Some(status) => status,
        // A row a plan marked Blue has no RAG of its own to keep: the board says it.
        None if source.status == Rag::CarriedOver => {
            return Err(Rejection(format!(
                "{from} has no RAG of its own to keep (its plan marked it carried over); say its status in the new plan (--status, or the form's Status)"
            )))
        }
        None => source.status,
    };
    let reason = require_text("the reason", reason)?;
    planned.push(Planned::new(
        subject::action(&to.plan, &to.reference),
        DomainEvent::CarriedIn(CarriedIn {
            from: from.clone(),
            details,
            status,
            reason: reason.clone(),
        }),
    ));
    planned.push(Planned::new(
        subject::action(&from.plan, &from.reference),
        DomainEvent::CarriedOver(CarriedOver {
            to: to.clone(),
            reason,
            forum,
        }),
    ));
    Ok(planned)
}

/// The id the next challenge gets (C-0001, C-0002 …), from the subjects already in
/// the ledger, so an id is never reused even if a challenge's payload was redacted.
pub fn next_challenge_id<'a>(subjects: impl IntoIterator<Item = &'a str>) -> String {
    let highest = subjects
        .into_iter()
        .filter_map(|s| {
            s.strip_prefix("challenge/")?
                .strip_prefix("C-")?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    format!("C-{:04}", highest + 1)
}

/// The events that raise a challenge. Every action it is about must exist in `world`
/// (which holds those plans as of the challenge's effective date).
pub fn raise_challenge(
    world: &World,
    id: &str,
    raised: ChallengeRaised,
) -> Result<Vec<Planned>, Rejection> {
    require_text("the agency", &raised.to_agency)?;
    require_text("the challenge text", &raised.text)?;
    for about in &raised.about {
        if world.action(about).is_none() {
            return Err(Rejection(format!(
                "the challenge is about {about}, which does not exist on its effective date; check the plan id and ref"
            )));
        }
    }
    Ok(vec![Planned::new(
        subject::challenge(id),
        DomainEvent::ChallengeRaised(raised),
    )])
}
