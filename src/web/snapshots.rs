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
//! where it sorts in, and they are rebuilt when next needed. Only "as it stood on"
//! queries use this; "as recorded at" admits events by recording time, so those still
//! replay (`pages::plan_view_at`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use projections::{Recorded, World};

use super::state::{Live, Slot};

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
    /// The snapshot to start from for `as_of` and the events to replay on it, if
    /// nothing came since the last catch-up (`slots` of the plan) and it is built.
    fn ready(
        &self,
        slots: usize,
        as_of: i32,
        every: usize,
        events: &[Arc<Recorded>],
    ) -> Option<(Arc<World>, Vec<Arc<Recorded>>)> {
        if self.seen != slots || self.worlds.is_empty() {
            return None;
        }
        let wanted = self.order.partition_point(|s| s.effective <= as_of);
        let start = self.worlds.get(wanted / every)?.clone();
        let tail = self.order[wanted / every * every..wanted]
            .iter()
            .filter_map(|s| events.get(s.position as usize).cloned())
            .collect();
        Some((start, tail))
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
    /// Snapshots every `every` events (`Default` uses 1,024; tests use a few).
    pub fn every(every: usize) -> Snapshots {
        Snapshots {
            every: every.max(1),
            plans: RwLock::new(HashMap::new()),
        }
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

    /// The statuses-only world of the plan or challenge `group` as it stood on day
    /// `as_of`: what `World::replay_statuses_in_order` gives for its events in effect
    /// by then. Snapshots are built (once) outside the readers' lock; only the plan's
    /// own snapshots are locked meanwhile.
    pub fn world_as_of(&self, live: &RwLock<Live>, group: &str, as_of: i32) -> World {
        let plan = self.plan(group);
        let ready = {
            let read = live.read().unwrap_or_else(|p| p.into_inner());
            let snapshots = plan.read().unwrap_or_else(|p| p.into_inner());
            snapshots.ready(
                read.group_slots(group).len(),
                as_of,
                self.every,
                read.world.events(),
            )
        };
        let (start, tail) = match ready {
            Some(ready) => ready,
            None => self.catch_up_and_build(&plan, live, group, as_of),
        };
        let mut world = (*start).clone();
        for recorded in &tail {
            let _ = world.apply(recorded);
        }
        world
    }

    /// `world_as_of` when events came since or the snapshot it needs is not built:
    /// the snapshot to start from and the events to replay on it.
    fn catch_up_and_build(
        &self,
        plan: &RwLock<PlanSnapshots>,
        live: &RwLock<Live>,
        group: &str,
        as_of: i32,
    ) -> (Arc<World>, Vec<Arc<Recorded>>) {
        let every = self.every;
        let mut plan = plan.write().unwrap_or_else(|p| p.into_inner());
        let read = live.read().unwrap_or_else(|p| p.into_inner());
        plan.catch_up(read.group_slots(group), every);
        let wanted = plan.order.partition_point(|s| s.effective <= as_of);
        let base = wanted / every;
        let built = plan.worlds.len().max(1) - 1;
        // The events to build the missing snapshots from, then the tail after the
        // base snapshot; read under the readers' lock, replayed after it.
        let from = built.min(base) * every;
        let events = read.world.events();
        let chosen: Vec<Arc<Recorded>> = plan.order[from..wanted]
            .iter()
            .filter_map(|s| events.get(s.position as usize).cloned())
            .collect();
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
                let _ = world.apply(recorded);
            }
            plan.worlds.push(Arc::new(world));
        }
        let start = plan.worlds[base].clone();
        let tail = chosen[(base * every - from).min(chosen.len())..].to_vec();
        (start, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::state::Live;
    use projections::events::{self, subject};
    use projections::{DomainEvent, Stamp};
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

    fn replayed(all: &[Recorded], as_of: i32) -> World {
        let mut chosen: Vec<&Recorded> =
            all.iter().filter(|r| r.stamp.effective <= as_of).collect();
        chosen.sort_by_key(|r| (r.stamp.effective, r.stamp.seq));
        World::replay_statuses_in_order(chosen)
    }

    proptest! {
        /// Asked on random dates while events (backdated ones included) keep being
        /// added, the snapshots give exactly the world a full replay gives.
        #[test]
        fn a_past_date_from_snapshots_is_the_full_replay(
            changes in proptest::collection::vec((1..60i32, 0..3usize, 0..3usize), 1..80),
            asks in proptest::collection::vec((0.0..1.0f64, 0..70i32), 1..12),
            every in 1..9usize,
        ) {
            let all = history(&changes);
            let live = RwLock::new(Live::default());
            let snapshots = Snapshots::every(every);
            let group = subject::plan(PLAN);
            let mut added = 0;
            for (fraction, as_of) in asks {
                let upto = ((all.len() as f64 * fraction) as usize).max(added);
                for r in &all[added..upto] {
                    live.write().expect("lock").push(r.clone(), [0; 32]);
                }
                added = upto;
                let got = snapshots.world_as_of(&live, &group, as_of);
                prop_assert_eq!(got, replayed(&all[..added], as_of));
            }
        }
    }
}
