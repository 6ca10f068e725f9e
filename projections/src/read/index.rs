//! `EventIndex`: the events a reader holds, in seq order, and for each plan or
//! challenge (a log group, `ledger::group_of`) where its events are and when they
//! took effect and were recorded — so a replay for a past date sorts and filters
//! without touching the events themselves. Only ever added to.

use std::borrow::Borrow;
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

///
/// `E` is how the index holds an event: shared (`Arc`, the default), so a reader can
/// take a set of events and let go of whatever guards the index; or borrowed, for a
/// one-off reader over events it already holds (`EventIndex::of`).
#[derive(Debug, Clone)]
pub struct EventIndex<E = Arc<Recorded>> {
    events: Vec<E>,
    /// Each group's slots, in seq order; `by_group` says which entry is whose.
    slots: Vec<Vec<Slot>>,
    by_group: HashMap<String, usize>,
    /// The group of the event pushed last and its entry in `slots`: events mostly
    /// come in runs of one group (a plan loaded, an import), which then need no
    /// hashing at all.
    last: Option<(String, usize)>,
}

impl<E> Default for EventIndex<E> {
    fn default() -> EventIndex<E> {
        EventIndex {
            events: Vec::new(),
            slots: Vec::new(),
            by_group: HashMap::new(),
            last: None,
        }
    }
}

impl<'a> EventIndex<&'a Recorded> {
    /// An index of `events` (in seq order) that borrows them, for a one-off reader
    /// such as a command.
    pub fn of(events: &'a [Recorded]) -> EventIndex<&'a Recorded> {
        let mut index = EventIndex {
            events: Vec::with_capacity(events.len()),
            ..EventIndex::default()
        };
        for recorded in events {
            index.push(recorded);
        }
        index
    }
}

impl EventIndex {
    /// Adds the next event (seqs arrive in increasing order), to be shared.
    pub fn push_owned(&mut self, recorded: Recorded) {
        self.push(Arc::new(recorded));
    }
}

impl<E: Borrow<Recorded> + Clone> EventIndex<E> {
    /// Adds the next event (seqs arrive in increasing order).
    pub fn push(&mut self, event: E) {
        let recorded: &Recorded = event.borrow();
        let slot = Slot {
            position: self.events.len() as u32,
            effective: recorded.stamp.effective,
            recorded_at: recorded.stamp.recorded_at,
            seq: recorded.stamp.seq,
        };
        let group = ledger::group_of(&recorded.subject);
        let entry = match &self.last {
            Some((last, entry)) if last == group => *entry,
            _ => {
                let entry = match self.by_group.get(group) {
                    Some(&entry) => entry,
                    None => {
                        self.slots.push(Vec::new());
                        self.by_group.insert(group.to_owned(), self.slots.len() - 1);
                        self.slots.len() - 1
                    }
                };
                self.last = Some((group.to_owned(), entry));
                entry
            }
        };
        self.slots[entry].push(slot);
        self.events.push(event);
    }

    pub fn events(&self) -> &[E] {
        &self.events
    }

    /// A plan's (its actions' included) or a challenge's events, as slots, in seq order.
    pub fn group_slots(&self, group: &str) -> &[Slot] {
        self.by_group
            .get(group)
            .and_then(|&entry| self.slots.get(entry))
            .map_or(&[], Vec::as_slice)
    }

    /// Every plan and challenge (log group) with events, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.by_group.keys().map(String::as_str)
    }

    /// A plan's or challenge's events, in seq order: shared, so the caller can let go
    /// of its lock before replaying them.
    pub fn group_events(&self, group: &str) -> Vec<E> {
        self.group_slots(group)
            .iter()
            .filter_map(|s| self.events.get(s.position as usize).cloned())
            .collect()
    }
}

impl<E> AsRef<EventIndex<E>> for EventIndex<E> {
    fn as_ref(&self) -> &EventIndex<E> {
        self
    }
}
