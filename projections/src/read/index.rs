//! `EventIndex`: the events a reader holds, in seq order, and for each plan or
//! challenge (a log group, `ledger::group_of`) where its events are and when they
//! took effect and were recorded — so a replay for a past date sorts and filters
//! without touching the events themselves. Only ever added to.

use std::collections::HashMap;
use std::sync::Arc;

use super::query::TimeQuery;
use crate::world::Recorded;

/// Where one event of a group is, and when it took effect and was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub position: u32,
    pub effective: i32,
    pub recorded_at: i64,
    pub seq: u64,
}

impl Slot {
    /// Whether `query` admits this event (`TimeQuery::admits_at`, the one rule).
    pub fn admitted(&self, query: &TimeQuery) -> bool {
        query.admits_at(self.effective, self.recorded_at)
    }
}

#[derive(Debug, Clone, Default)]
pub struct EventIndex {
    /// Shared, so a reader can take a set of events and let go of whatever guards
    /// the index.
    events: Vec<Arc<Recorded>>,
    by_group: HashMap<String, Vec<Slot>>,
}

impl EventIndex {
    /// An index of `events` (in seq order), for a one-off reader such as a command.
    pub fn of(events: impl IntoIterator<Item = Recorded>) -> EventIndex {
        let mut index = EventIndex::default();
        for recorded in events {
            index.push(recorded);
        }
        index
    }

    /// Adds the next event (seqs arrive in increasing order).
    pub fn push(&mut self, recorded: Recorded) {
        let slot = Slot {
            position: self.events.len() as u32,
            effective: recorded.stamp.effective,
            recorded_at: recorded.stamp.recorded_at,
            seq: recorded.stamp.seq,
        };
        let group = ledger::group_of(&recorded.subject);
        match self.by_group.get_mut(group) {
            Some(slots) => slots.push(slot),
            None => {
                self.by_group.insert(group.to_owned(), vec![slot]);
            }
        }
        self.events.push(Arc::new(recorded));
    }

    pub fn events(&self) -> &[Arc<Recorded>] {
        &self.events
    }

    /// A plan's (its actions' included) or a challenge's events, as slots, in seq order.
    pub fn group_slots(&self, group: &str) -> &[Slot] {
        self.by_group.get(group).map_or(&[], Vec::as_slice)
    }

    /// Every plan and challenge (log group) with events, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.by_group.keys().map(String::as_str)
    }

    /// A plan's or challenge's events, in seq order: shared, so the caller can let go
    /// of its lock before replaying them.
    pub fn group_events(&self, group: &str) -> Vec<Arc<Recorded>> {
        self.group_slots(group)
            .iter()
            .filter_map(|s| self.events.get(s.position as usize).cloned())
            .collect()
    }
}

impl AsRef<EventIndex> for EventIndex {
    fn as_ref(&self) -> &EventIndex {
        self
    }
}
