//! A plan as it stood on any date, without replaying its whole history each time.
//!
//! A plan's state on date D is the replay, in effective-date order (ties by seq), of
//! its events in effect by D. For each plan asked about, this keeps that order (as
//! `Slot`s) and the replayed world after every `every`-th event of it, so a date
//! costs one snapshot's clone and at most `every - 1` events instead of the plan's
//! whole history (about 10,000 events for a plan of the 1,000,000-event benchmark).
//!
//! Events are only ever added. One that sorts after everything already ordered (the
//! usual case) leaves every snapshot valid; a backdated one drops the snapshots from
//! where it sorts in, and they are rebuilt when next needed.
//!
//! "As recorded at" a moment admits only the events recorded by then. A snapshot
//! still serves if every event before it in the order was recorded by then: events
//! are mostly recorded in the order they take effect, so that is most of them, and
//! the events after it are filtered by their slots before any is replayed.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use super::index::{EventSource, Slot};
use super::query::TimeQuery;
use crate::events::subject;
use crate::views::{plan_view, PlanView};
use crate::world::World;

/// Events between two snapshots.
const EVERY: usize = 256;
/// Plans whose snapshots are kept (a snapshot of a 100-action plan is ~90 KB).
const PLANS_MAX: usize = 32;

#[derive(Debug)]
pub struct Snapshots {
    every: usize,
    /// Read-locked on the common path (nothing new, snapshot built), so a reader
    /// that the scheduler preempts holds no one else up; write-locked to catch up.
    plans: RwLock<HashMap<String, Arc<RwLock<PlanSnapshots>>>>,
}

impl Default for Snapshots {
    fn default() -> Snapshots {
        Snapshots::every(EVERY)
    }
}

#[derive(Debug, Default)]
struct PlanSnapshots {
    /// The plan's events in replay order: effective date, then seq.
    order: Vec<Slot>,
    /// How many of the plan's slots (in seq order, only ever added) `order` holds.
    seen: usize,
    /// `worlds[j]`: the statuses-only world after the first `j * every` events of
    /// `order`; `worlds[0]` is the empty world.
    worlds: Vec<Arc<World>>,
}

fn key(slot: &Slot) -> (i32, u64) {
    (slot.effective, slot.seq)
}

impl PlanSnapshots {
    /// For `query`: how many events of `order` may count (those in effect by its
    /// date), and how many of those come before the first one it does not admit —
    /// the snapshots up to there hold only admitted events.
    fn reach(&self, query: &TimeQuery) -> (usize, usize) {
        let wanted = query.as_of.map_or(self.order.len(), |day| {
            self.order.partition_point(|s| s.effective <= day)
        });
        let whole = self.order[..wanted]
            .iter()
            .position(|s| !s.admitted(query))
            .unwrap_or(wanted);
        (wanted, whole)
    }

    /// The slots of the events `query` admits in `order[from..wanted]`.
    fn admitted(&self, from: usize, wanted: usize, query: &TimeQuery) -> Vec<Slot> {
        self.order[from.min(wanted)..wanted]
            .iter()
            .filter(|s| s.admitted(query))
            .copied()
            .collect()
    }

    /// The snapshot to start from for `query` and the slots of the events to replay
    /// on it, if nothing came since the last catch-up (`slots` of the plan) and it
    /// is built.
    fn ready(
        &self,
        slots: usize,
        query: &TimeQuery,
        every: usize,
    ) -> Option<(Arc<World>, Vec<Slot>)> {
        if self.seen != slots || self.worlds.is_empty() {
            return None;
        }
        let (wanted, whole) = self.reach(query);
        let base = whole / every;
        let start = self.worlds.get(base)?.clone();
        Some((start, self.admitted(base * every, wanted, query)))
    }

    /// Takes in the slots added since the last call, keeping `order` sorted and only
    /// the snapshots whose events are all still the first ones in it.
    fn catch_up(&mut self, slots: &[Slot], every: usize) {
        let Some(new) = slots.get(self.seen..).filter(|n| !n.is_empty()) else {
            return;
        };
        let earliest = new.iter().map(key).min().unwrap_or_default();
        let unchanged = self.order.partition_point(|s| key(s) < earliest);
        self.worlds.truncate(unchanged / every + 1);
        self.order.extend_from_slice(new);
        if unchanged < self.order.len() - new.len() || !new.is_sorted_by_key(key) {
            self.order.sort_unstable_by_key(key);
        }
        self.seen = slots.len();
    }
}

impl Snapshots {
    /// Snapshots every `every` events (`Default` uses `EVERY`; tests use a few).
    pub fn every(every: usize) -> Snapshots {
        Snapshots {
            every: every.max(1),
            plans: RwLock::new(HashMap::new()),
        }
    }

    /// Keeps no snapshots: every question replays the admitted events, for a one-off
    /// reader such as a command, which asks once.
    pub fn none() -> Snapshots {
        Snapshots::every(usize::MAX)
    }

    fn plan(&self, group: &str) -> Arc<RwLock<PlanSnapshots>> {
        let found = self
            .plans
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(group)
            .cloned();
        if let Some(plan) = found {
            return plan;
        }
        let mut plans = self.plans.write().unwrap_or_else(|p| p.into_inner());
        if !plans.contains_key(group) && plans.len() >= PLANS_MAX {
            plans.clear();
        }
        plans.entry(group.to_owned()).or_default().clone()
    }

    /// The statuses-only world of the plan or challenge `group` as `query` sees it:
    /// what `World::replay_statuses_in_order` gives for the events it admits (in
    /// effect by its date, recorded by its moment). `read` gives the events (for the
    /// server, under its readers' lock, taken twice and briefly); snapshots are built
    /// (once) with that lock let go; only the plan's own snapshots are locked meanwhile.
    /// An error is the source's: an event it could not read.
    pub fn world_at<G>(
        &self,
        read: impl Fn() -> G,
        group: &str,
        query: &TimeQuery,
    ) -> Result<World, ledger::Error>
    where
        G: Deref,
        G::Target: EventSource,
    {
        let plan = self.plan(group);
        let ready = {
            let guard = read();
            let source = &*guard;
            let snapshots = plan.read().unwrap_or_else(|p| p.into_inner());
            match snapshots.ready(source.group_slots(group).len(), query, self.every) {
                Some((start, slots)) => Some((start, source.events_at(group, &slots)?)),
                None => None,
            }
        };
        let (start, tail) = match ready {
            Some(ready) => ready,
            None => self.catch_up_and_build(&plan, read(), group, query)?,
        };
        let mut world = (*start).clone();
        for recorded in &tail {
            let _ = world.apply(recorded.borrow());
        }
        Ok(world)
    }

    /// `world_at` when events came since or the snapshot it needs is not built:
    /// the snapshot to start from and the events to replay on it.
    #[allow(clippy::type_complexity)]
    fn catch_up_and_build<G>(
        &self,
        plan: &RwLock<PlanSnapshots>,
        read: G,
        group: &str,
        query: &TimeQuery,
    ) -> Result<(Arc<World>, Vec<<G::Target as EventSource>::Event>), ledger::Error>
    where
        G: Deref,
        G::Target: EventSource,
    {
        let every = self.every;
        let mut plan = plan.write().unwrap_or_else(|p| p.into_inner());
        let source = &*read;
        plan.catch_up(source.group_slots(group), every);
        let (wanted, whole) = plan.reach(query);
        let base = whole / every;
        let built = plan.worlds.len().max(1) - 1;
        // The events to build the missing snapshots from (all admitted: they come
        // before `whole`), then those to replay on the base snapshot; read under the
        // readers' lock, replayed after it.
        let chosen = source.events_at(
            group,
            &plan.order[(built * every).min(base * every)..base * every],
        )?;
        let tail = source.events_at(group, &plan.admitted(base * every, wanted, query))?;
        drop(read);
        if plan.worlds.is_empty() {
            plan.worlds
                .push(Arc::new(World::replay_statuses_in_order([])));
        }
        let mut next = chosen.chunks_exact(every);
        while plan.worlds.len() <= base {
            let mut world = plan
                .worlds
                .last()
                .map_or_else(World::default, |w| (**w).clone());
            for recorded in next.next().unwrap_or_default() {
                let _ = world.apply(recorded.borrow());
            }
            plan.worlds.push(Arc::new(world));
        }
        Ok((plan.worlds[base].clone(), tail))
    }
}

/// The plan `id` as `query` sees it, shown on `today` (which actions are overdue):
/// the one place "the plan on date D" is computed — the command line (over the plan's
/// events, with no snapshots kept), the pages, the API and the report (over the
/// server's events and its snapshots) all ask here. `None` when there was no such
/// plan by then.
pub fn plan_at<G>(
    snapshots: &Snapshots,
    read: impl Fn() -> G,
    id: &str,
    query: &TimeQuery,
    today: i32,
) -> Result<Option<PlanView>, ledger::Error>
where
    G: Deref,
    G::Target: EventSource,
{
    let world = snapshots.world_at(read, &subject::plan(id), query)?;
    Ok(world
        .plan(id)
        .map(|plan| plan_view(plan, query.as_of.unwrap_or(today))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events;
    use crate::read::EventIndex;
    use crate::world::Recorded;
    use crate::{DomainEvent, Stamp};
    use proptest::prelude::*;

    const PLAN: &str = "p";

    fn recorded(seq: u64, effective: i32, subject: String, event: DomainEvent) -> Recorded {
        Recorded {
            stamp: Stamp {
                seq,
                recorded_at: seq as i64,
                effective,
                actor: "tester".into(),
            },
            subject,
            event: Some(event),
        }
    }

    /// A plan with three actions, then status changes on the given (day, action,
    /// status) triples, recorded in that order (so some are backdated).
    fn history(changes: &[(i32, usize, usize)]) -> Vec<Recorded> {
        let mut all = Vec::new();
        let mut add = |effective: i32, subject: String, event: DomainEvent| {
            all.push(recorded(all.len() as u64, effective, subject, event));
        };
        add(
            0,
            subject::plan(PLAN),
            DomainEvent::PlanCreated(events::PlanCreated {
                title: "Plan".into(),
                period: None,
            }),
        );
        add(
            0,
            subject::plan(PLAN),
            DomainEvent::PriorityAdded(events::PriorityAdded {
                key: "1".into(),
                title: "Safety".into(),
                description: String::new(),
            }),
        );
        for a in 0..3 {
            let details = events::ActionDetails {
                priority_key: "1".into(),
                title: format!("action {a}"),
                impact: String::new(),
                outcome: String::new(),
                leads: vec!["Police".into()],
                timescale: "May 2024".into(),
                milestones: Vec::new(),
                cross_refs: Vec::new(),
                extras: Vec::new(),
            };
            add(
                0,
                subject::action(PLAN, &format!("1.{a}")),
                DomainEvent::ActionAdded(events::ActionAdded {
                    details,
                    status: events::Rag::NotStarted,
                    progress: String::new(),
                    source: "test".into(),
                }),
            );
        }
        let statuses = [events::Rag::Green, events::Rag::Amber, events::Rag::Red];
        for &(day, action, status) in changes {
            add(
                day,
                subject::action(PLAN, &format!("1.{}", action % 3)),
                DomainEvent::StatusChanged(events::StatusChanged {
                    status: statuses[status % 3],
                    rationale: "because".into(),
                }),
            );
        }
        all
    }

    fn replayed(all: &[Recorded], query: &TimeQuery) -> World {
        let mut chosen: Vec<&Recorded> = all.iter().filter(|r| query.admits(&r.stamp)).collect();
        chosen.sort_by_key(|r| (r.stamp.effective, r.stamp.seq));
        World::replay_statuses_in_order(chosen)
    }

    proptest! {
        /// Asked on random dates and moments while events (backdated ones
        /// included) keep being added, the snapshots give exactly the world a full
        /// replay of the admitted events gives.
        #[test]
        fn a_past_date_from_snapshots_is_the_full_replay(
            changes in proptest::collection::vec((1..60i32, 0..3usize, 0..3usize), 1..80),
            asks in proptest::collection::vec(
                (0.0..1.0f64, proptest::option::of(0..70i32), proptest::option::of(0..90i64)),
                1..12,
            ),
            every in 1..9usize,
        ) {
            let all = history(&changes);
            let live = RwLock::new(EventIndex::default());
            let snapshots = Snapshots::every(every);
            let group = subject::plan(PLAN);
            let mut added = 0;
            for (fraction, as_of, known_at) in asks {
                let query = TimeQuery { as_of, known_at };
                let upto = ((all.len() as f64 * fraction) as usize).max(added);
                for r in &all[added..upto] {
                    live.write().expect("lock").push_owned(r.clone());
                }
                added = upto;
                let got = snapshots.world_at(|| live.read().expect("lock"), &group, &query).expect("in memory");
                prop_assert_eq!(got, replayed(&all[..added], &query));
            }
        }
    }
}
