//! Views: the plan, the challenge log, the history and an action's timeline, built
//! from a `World` (or the events) as plain serialisable values.
//!
//! Field names here are the JSON contract other tools rely on (see README). Views
//! are pure functions of their inputs; "today" is passed in, never read from a clock.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::events::{ActionRef, DomainEvent, Evidence, ExtraField, Rag};
use crate::timescale::days_to_date;
use crate::world::{Action, Challenge, ChallengeStatus, Entry, Plan, Recorded, Stamp, World};

/// A date as `YYYY-MM-DD`.
pub fn date(days: i32) -> String {
    days_to_date(days).map_or_else(
        || format!("day {days}"),
        |d| d.format("%Y-%m-%d").to_string(),
    )
}

/// A recorded time as RFC 3339 UTC with microseconds.
pub fn timestamp(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).map_or_else(
        || format!("{micros}µs"),
        |t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    )
}

/// Entries written more than this many days after they took effect are marked late
/// where an inspector looks (plan, timeline, challenge thread, report, history),
/// unless the ledger recorded another threshold (`World::late_after`).
pub const LATE_AFTER_DAYS: i64 = 14;

/// How many days after it took effect an event was recorded (0 when on the day).
/// Inspectors asking what the plan said on a date need to see which entries were
/// written afterwards.
pub fn late_days(stamp: &Stamp) -> i64 {
    let recorded_on = stamp.recorded_at.div_euclid(86_400_000_000);
    (recorded_on - i64::from(stamp.effective)).max(0)
}

/// Whether an entry on an action was recorded with the action itself, after it in
/// the same batch: a status or progress an import took from the plan "as at" a later
/// date (`import --as-at`). Such an entry is late by design, and marked as recorded
/// at import rather than as written afterwards. (Every event of a batch shares one
/// recorded time.)
pub fn at_import(stamp: &Stamp, added: &Stamp) -> bool {
    stamp.seq > added.seq && stamp.recorded_at == added.recorded_at
}

/// Whether an entry counts as late, given the ledger's threshold (`World::late_after`).
pub fn is_late(late_days: i64, late_after: i64) -> bool {
    late_days > late_after
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanHeading {
    pub id: String,
    pub title: String,
    pub period: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneView {
    pub label: String,
    pub date: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpdateView {
    pub seq: u64,
    pub effective: String,
    pub recorded_at: String,
    pub actor: String,
    /// Days between when it took effect and when it was recorded.
    pub late_days: i64,
    /// Recorded by the import that added the action (`views::at_import`).
    pub recorded_at_import: bool,
}

impl UpdateView {
    fn of(stamp: &Stamp, added: &Stamp) -> UpdateView {
        UpdateView {
            seq: stamp.seq,
            effective: date(stamp.effective),
            recorded_at: timestamp(stamp.recorded_at),
            actor: stamp.actor.clone(),
            late_days: late_days(stamp),
            recorded_at_import: at_import(stamp, added),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    #[serde(rename = "ref")]
    pub reference: String,
    pub priority: String,
    pub title: String,
    pub impact: String,
    pub outcome: String,
    pub leads: Vec<String>,
    pub due: String,
    pub milestones: Vec<MilestoneView>,
    pub cross_refs: Vec<String>,
    /// The plan's own columns that no field holds ("Output", "Resources required").
    pub extras: Vec<ExtraField>,
    pub status: Rag,
    pub carried_to: Option<String>,
    pub carried_from: Option<String>,
    pub last_update: UpdateView,
    /// Whether a milestone has passed and the action is not complete or carried over.
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriorityView {
    pub key: String,
    pub title: String,
    /// Its aim, its link to a strategic aim …, one per line; empty if none.
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub plan: PlanHeading,
    pub priorities: Vec<PriorityView>,
    pub actions: Vec<ActionView>,
    /// Number of actions by status word.
    pub counts: BTreeMap<&'static str, usize>,
}

fn action_view(action: &Action, today: i32) -> ActionView {
    let finished = matches!(action.status, Rag::Complete | Rag::CarriedOver);
    ActionView {
        reference: action.reference.clone(),
        priority: action.details.priority_key.clone(),
        title: action.details.title.clone(),
        impact: action.details.impact.clone(),
        outcome: action.details.outcome.clone(),
        leads: action.details.leads.clone(),
        due: action.details.timescale.clone(),
        milestones: action
            .details
            .milestones
            .iter()
            .map(|m| MilestoneView {
                label: m.label.clone(),
                date: date(m.on),
            })
            .collect(),
        cross_refs: action.details.cross_refs.clone(),
        extras: action.details.extras.clone(),
        status: action.status,
        carried_to: action.carried_to.as_ref().map(ActionRef::to_string),
        carried_from: action.carried_from.as_ref().map(ActionRef::to_string),
        last_update: UpdateView::of(&action.last_update, &action.added),
        overdue: !finished && action.details.milestones.iter().any(|m| m.on < today),
    }
}

/// The plan as the world shows it, grouped by priority in the plan's order.
pub fn plan_view(plan: &Plan, today: i32) -> PlanView {
    let mut counts: BTreeMap<&'static str, usize> =
        Rag::ALL.iter().map(|r| (r.as_str(), 0)).collect();
    let mut actions: Vec<ActionView> = Vec::with_capacity(plan.actions.len());
    let in_order = plan.actions_in_order();
    for priority in &plan.priorities {
        for action in in_order
            .iter()
            .filter(|a| a.details.priority_key == priority.key)
        {
            *counts.entry(action.status.as_str()).or_default() += 1;
            actions.push(action_view(action, today));
        }
    }
    PlanView {
        plan: PlanHeading {
            id: plan.id.clone(),
            title: plan.title.clone(),
            period: plan.period.clone(),
        },
        priorities: plan
            .priorities
            .iter()
            .map(|p| PriorityView {
                key: p.key.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
            })
            .collect(),
        actions,
        counts,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceView {
    pub name: String,
    pub blake3: String,
    pub bytes: u64,
}

fn evidence_views(evidence: &[Evidence]) -> Vec<EvidenceView> {
    evidence
        .iter()
        .map(|e| EvidenceView {
            name: e.name.clone(),
            blake3: ledger::hex::hex(&e.blake3),
            bytes: e.bytes,
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub seq: u64,
    pub effective: String,
    pub recorded_at: String,
    pub actor: String,
    pub kind: &'static str,
    pub text: String,
    pub evidence: Vec<EvidenceView>,
    /// Days between when it took effect and when it was recorded.
    pub late_days: i64,
    /// Recorded by the import that added the action (`views::at_import`).
    pub recorded_at_import: bool,
}

/// An entry as shown; `added` is the stamp of the action it is on, if any.
fn entry_view(entry: &Entry, added: Option<&Stamp>) -> EntryView {
    EntryView {
        seq: entry.stamp.seq,
        late_days: late_days(&entry.stamp),
        recorded_at_import: added.is_some_and(|added| at_import(&entry.stamp, added)),
        effective: date(entry.stamp.effective),
        recorded_at: timestamp(entry.stamp.recorded_at),
        actor: entry.stamp.actor.clone(),
        kind: entry.kind,
        text: entry.text.clone(),
        evidence: evidence_views(&entry.evidence),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChallengeView {
    pub id: String,
    pub to: String,
    pub about: Vec<String>,
    pub text: String,
    pub raised_on: String,
    pub raised_by: String,
    pub due: Option<String>,
    pub status: ChallengeStatus,
    pub overdue: bool,
    pub responses: Vec<EntryView>,
    /// Escalations, due-date changes, earlier closures and reopenings, in order.
    pub escalations: Vec<EntryView>,
    /// Where it was last escalated to.
    pub escalated_to: Option<String>,
    pub outcome: Option<String>,
    pub impact: Option<String>,
    pub closed_on: Option<String>,
}

/// One challenge; overdue when still awaiting a response after its due date.
pub fn challenge_view(challenge: &Challenge, today: i32) -> ChallengeView {
    ChallengeView {
        id: challenge.id.clone(),
        to: challenge.to_agency.clone(),
        about: challenge.about.iter().map(ActionRef::to_string).collect(),
        text: challenge.text.clone(),
        raised_on: date(challenge.raised.effective),
        raised_by: challenge.raised.actor.clone(),
        due: challenge.response_due.map(date),
        status: challenge.status,
        overdue: is_overdue(challenge, today),
        responses: challenge
            .responses
            .iter()
            .map(|e| entry_view(e, None))
            .collect(),
        escalations: challenge
            .escalations
            .iter()
            .map(|e| entry_view(e, None))
            .collect(),
        escalated_to: challenge.escalated_to.clone(),
        outcome: challenge.outcome.clone(),
        impact: challenge.impact.clone(),
        closed_on: challenge.closed.as_ref().map(|s| date(s.effective)),
    }
}

/// Which challenges to list.
#[derive(Debug, Clone, Default)]
pub struct ChallengeFilter {
    pub open_only: bool,
    /// Only those still awaiting a response after their due date.
    pub overdue_only: bool,
    pub agency: Option<String>,
}

impl ChallengeFilter {
    fn admits(&self, world: &World, challenge: &Challenge, today: i32) -> bool {
        (!self.open_only || challenge.status != ChallengeStatus::Closed)
            && (!self.overdue_only || is_overdue(challenge, today))
            && self
                .agency
                .as_ref()
                .is_none_or(|a| world.same_agency(&challenge.to_agency, a))
    }
}

/// Still awaiting a response (open or escalated, and not answered since it was
/// raised or reopened) after its due date.
pub fn is_overdue(challenge: &Challenge, today: i32) -> bool {
    let awaiting = matches!(
        challenge.status,
        ChallengeStatus::Open | ChallengeStatus::Escalated
    ) && !challenge.answered;
    awaiting && challenge.response_due.is_some_and(|due| due < today)
}

/// Every challenge the filter admits, in the order they were raised.
pub fn challenge_log(world: &World, filter: &ChallengeFilter, today: i32) -> Vec<ChallengeView> {
    matching_challenges(world, filter, today)
        .into_iter()
        .map(|c| challenge_view(c, today))
        .collect()
}

fn matching_challenges<'w>(
    world: &'w World,
    filter: &ChallengeFilter,
    today: i32,
) -> Vec<&'w Challenge> {
    let mut matching: Vec<&Challenge> = world
        .challenges
        .values()
        .filter(|c| filter.admits(world, c, today))
        .collect();
    matching.sort_unstable_by_key(|c| c.raised.seq);
    matching
}

/// One page of a list kept in seq order. A cursor names the seq a page starts
/// after (`None`: the start), so a page stays the same while new entries arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many entries the whole list has.
    pub total: usize,
    /// Where this page starts: how many entries come before it.
    pub offset: usize,
    /// The cursor of the page before, if there is one.
    pub previous: Option<Option<u64>>,
    /// The cursor of the page after, if there is one.
    pub next: Option<u64>,
}

impl<T> Page<T> {
    /// The page of `limit` entries after the cursor, from entries in any order, in
    /// one pass that keeps the `limit + 1` first entries after the cursor and the
    /// seqs before it (so a log of 50,000 is never sorted to show 50 of it).
    pub fn select<S>(
        entries: impl IntoIterator<Item = S>,
        seq: impl Fn(&S) -> u64,
        after: Option<u64>,
        limit: usize,
        view: impl Fn(&S) -> T,
    ) -> Page<T> {
        use std::collections::BinaryHeap;
        let limit = limit.max(1);
        let (mut total, mut offset) = (0, 0);
        // The smallest seqs after the cursor (a max-heap: its top goes first), and
        // the seqs at or before it (only the page before's start is wanted of them).
        let mut later: BinaryHeap<Keyed<S>> = BinaryHeap::with_capacity(limit + 2);
        let mut earlier: Vec<u64> = Vec::new();
        for entry in entries {
            total += 1;
            let key = seq(&entry);
            if after.is_some_and(|a| key <= a) {
                offset += 1;
                earlier.push(key);
            } else if later.len() <= limit {
                later.push(Keyed(key, entry));
            } else if later.peek().is_some_and(|top| key < top.0) {
                // Only an entry that beats the largest kept one goes in.
                later.pop();
                later.push(Keyed(key, entry));
            }
        }
        let mut page = later.into_sorted_vec();
        let next = (page.len() > limit).then(|| page[limit - 1].0);
        page.truncate(limit);
        // The page before starts after the entry `limit + 1` places back.
        let previous = (offset > 0).then(|| {
            (offset > limit).then(|| {
                let at = offset - limit - 1;
                *earlier.select_nth_unstable(at).1
            })
        });
        Page {
            items: page.iter().map(|Keyed(_, entry)| view(entry)).collect(),
            total,
            offset,
            previous,
            next,
        }
    }
}

/// An entry ordered by its seq alone.
struct Keyed<S>(u64, S);

impl<S> PartialEq for Keyed<S> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<S> Eq for Keyed<S> {}
impl<S> PartialOrd for Keyed<S> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<S> Ord for Keyed<S> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// One page of the challenge log, in the order the challenges were raised; the
/// views are built for that page only, so a log of 50,000 pages as fast as one of 50.
pub fn challenge_page(
    world: &World,
    filter: &ChallengeFilter,
    today: i32,
    after: Option<u64>,
    limit: usize,
) -> Page<ChallengeView> {
    let matching = world
        .challenges
        .values()
        .filter(|c| filter.admits(world, c, today));
    Page::select(
        matching,
        |c| c.raised.seq,
        after,
        limit,
        |c| challenge_view(c, today),
    )
}

/// One event in the inspection-ready history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub hash: String,
    pub recorded_at: String,
    pub effective: String,
    pub actor: String,
    pub subject: String,
    pub kind: String,
    pub summary: String,
    pub body: Option<serde_json::Value>,
    /// Days between when it took effect and when it was recorded (0 when on time).
    pub late_days: i64,
}

/// A one-line description of an event for people.
pub fn summary(event: &DomainEvent) -> String {
    match event {
        DomainEvent::PlanCreated(e) => format!("plan created: {}", e.title),
        DomainEvent::PriorityAdded(e) => format!("priority {} added: {}", e.key, e.title),
        DomainEvent::ActionAdded(e) => {
            format!("action added ({}): {}", e.status.label(), e.details.title)
        }
        DomainEvent::ActionAmended(e) => format!("action amended: {}", e.reason),
        DomainEvent::StatusChanged(e) => format!("status {}: {}", e.status.label(), e.rationale),
        DomainEvent::ProgressNoted(e) => match e.evidence.len() {
            0 => format!("progress: {}", e.note),
            n => format!(
                "progress ({n} evidence file{}): {}",
                if n == 1 { "" } else { "s" },
                e.note
            ),
        },
        DomainEvent::CarriedOver(e) => format!("carried over to {}: {}", e.to, e.reason),
        DomainEvent::CarriedIn(e) => format!("carried in from {}: {}", e.from, e.reason),
        DomainEvent::ChallengeRaised(e) => {
            format!("challenge raised to {}: {}", e.to_agency, e.text)
        }
        DomainEvent::ChallengeResponded(e) => match &e.on_behalf_of {
            Some(agency) => format!("response (recorded on behalf of {agency}): {}", e.text),
            None => format!("response: {}", e.text),
        },
        DomainEvent::AgencyRegistered(e) => match e.aliases.as_slice() {
            [] => format!("agency registered: {}", e.name),
            aliases => format!("agency registered: {} ({})", e.name, aliases.join(", ")),
        },
        DomainEvent::ChallengeDueSet(e) => {
            format!("response due by {}: {}", date(e.response_due), e.reason)
        }
        DomainEvent::ChallengeEscalated(e) => format!("escalated to {}: {}", e.to, e.reason),
        DomainEvent::ChallengeClosed(e) => format!("closed: {}", e.outcome),
        DomainEvent::ChallengeReopened(e) => format!("reopened: {}", e.reason),
        DomainEvent::LateAfterSet(e) => format!(
            "entries recorded more than {} days after they took effect are marked late: {}",
            e.days, e.reason
        ),
        DomainEvent::StructureKept(e) => format!(
            "the structure of event {} kept as its words were erased",
            e.target_seq
        ),
        DomainEvent::Redacted(e) => format!(
            "payload of event {} redacted: {} (authorised by {})",
            e.target_seq, e.reason, e.authorised_by
        ),
    }
}

/// A history line for a recorded event; `hash` is the event hash as hex.
pub fn history_entry(
    recorded: &Recorded,
    hash: String,
    kind: &str,
    redactions: &BTreeMap<u64, (String, String)>,
) -> HistoryEntry {
    let erased = redactions.get(&recorded.stamp.seq);
    let (summary_text, body) = match &recorded.event {
        // The structure an erasure kept: its payload is gone, so no body.
        Some(event) if erased.is_some() => (
            format!(
                "[words erased: {}; authorised by {}] {}",
                erased.map_or("", |e| &e.0),
                erased.map_or("", |e| &e.1),
                summary(event)
            ),
            None,
        ),
        Some(event) => (summary(event), Some(event.body_json())),
        None => match redactions.get(&recorded.stamp.seq) {
            Some((reason, by)) => (format!("[redacted: {reason}; authorised by {by}]"), None),
            None => ("[payload withheld]".to_owned(), None),
        },
    };
    HistoryEntry {
        seq: recorded.stamp.seq,
        hash,
        recorded_at: timestamp(recorded.stamp.recorded_at),
        effective: date(recorded.stamp.effective),
        actor: recorded.stamp.actor.clone(),
        subject: recorded.subject.clone(),
        kind: kind.to_owned(),
        summary: summary_text,
        body,
        late_days: late_days(&recorded.stamp),
    }
}

/// One action in one plan, with its dated entries: a step of a timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineStep {
    pub plan: String,
    pub action: ActionView,
    pub entries: Vec<EntryView>,
    pub imported_progress: String,
}

/// An action's story across carry-overs: earliest plan first.
#[derive(Debug, Clone, Serialize)]
pub struct ActionTimeline {
    pub steps: Vec<TimelineStep>,
    /// Challenges that name any step of this action.
    pub challenges: Vec<ChallengeView>,
}

pub fn action_timeline(world: &World, at: &ActionRef, today: i32) -> Option<ActionTimeline> {
    world.action(at)?;
    // Walk back to where the action started, then forward through every carry-over.
    let mut start = at.clone();
    let mut guard = 0;
    while let Some(from) = world.action(&start).and_then(|a| a.carried_from.clone()) {
        guard += 1;
        if guard > 1000 || world.action(&from).is_none() {
            break;
        }
        start = from;
    }
    let mut steps = Vec::new();
    let mut cursor = Some(start);
    while let Some(here) = cursor.take() {
        let Some(action) = world.action(&here) else {
            break;
        };
        steps.push(TimelineStep {
            plan: here.plan.clone(),
            action: action_view(action, today),
            entries: action
                .entries
                .iter()
                .map(|e| entry_view(e, Some(&action.added)))
                .collect(),
            imported_progress: action.imported_progress.clone(),
        });
        if steps.len() > 1000 {
            break;
        }
        cursor = action.carried_to.clone();
    }
    let named: Vec<String> = steps
        .iter()
        .map(|s| format!("{}/{}", s.plan, s.action.reference))
        .collect();
    let challenges = world
        .challenges
        .values()
        .filter(|c| c.about.iter().any(|a| named.contains(&a.to_string())))
        .map(|c| challenge_view(c, today))
        .collect();
    Some(ActionTimeline { steps, challenges })
}
