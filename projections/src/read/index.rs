//! `GroupSlots`: for each plan or challenge (a log group, `ledger::group_of`) where
//! its events are and when they took effect and were recorded — so a replay for a
//! past date sorts and filters without touching the events themselves; `EventIndex`:
//! those slots with the events, for a one-off reader; `EventSource`: how a reader
//! gets the events behind slots. Only ever added to.

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

/// For each plan or challenge (a log group), the slots of its events in seq order:
/// enough to sort and filter a replay for any time query without the events.
#[derive(Debug, Clone, Default)]
pub struct GroupSlots {
    /// Each group's slots, in seq order; `by_group` says which entry is whose.
    slots: Vec<Vec<Slot>>,
    by_group: HashMap<String, usize>,
    /// The group of the event pushed last and its entry in `slots`: events mostly
    /// come in runs of one group (a plan loaded, an import), which then need no
    /// hashing at all.
    last: Option<(String, usize)>,
    len: usize,
}

impl GroupSlots {
    /// Adds the next event (seqs arrive in increasing order) at `position`.
    pub fn push(&mut self, recorded: &Recorded, position: u32) {
        let slot = Slot {
            position,
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
        self.len += 1;
    }

    /// How many events have slots.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A plan's (its actions' included) or a challenge's slots, in seq order.
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

    /// Every slot, group by group.
    pub fn all(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten()
    }
}

/// Where a reader gets the events its slots point at: from memory (`EventIndex`)
/// or from the log (the service, which keeps only slots).
pub trait EventSource {
    type Event: Borrow<Recorded> + Clone;

    /// A plan's (its actions' included) or a challenge's slots, in seq order.
    fn group_slots(&self, group: &str) -> &[Slot];

    /// The events at `slots` (some of `group`'s), in the order given.
    fn events_at(&self, group: &str, slots: &[Slot]) -> Result<Vec<Self::Event>, ledger::Error>;
}

/// The events a one-off reader holds, in seq order, with their slots.
///
/// `E` is how the index holds an event: shared (`Arc`, the default), so a reader can
/// take a set of events and let go of whatever guards the index; or borrowed, for a
/// one-off reader over events it already holds (`EventIndex::of`).
#[derive(Debug, Clone)]
pub struct EventIndex<E = Arc<Recorded>> {
    events: Vec<E>,
    slots: GroupSlots,
}

impl<E> Default for EventIndex<E> {
    fn default() -> EventIndex<E> {
        EventIndex {
            events: Vec::new(),
            slots: GroupSlots::default(),
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
        self.slots.push(event.borrow(), self.events.len() as u32);
        self.events.push(event);
    }

    pub fn events(&self) -> &[E] {
        &self.events
    }

    pub fn slots(&self) -> &GroupSlots {
        &self.slots
    }

    /// A plan's or challenge's events, in seq order.
    pub fn group_events(&self, group: &str) -> Vec<E> {
        self.by_position(self.slots.group_slots(group))
    }

    fn by_position(&self, slots: &[Slot]) -> Vec<E> {
        slots
            .iter()
            .filter_map(|s| self.events.get(s.position as usize).cloned())
            .collect()
    }
}

impl<E: Borrow<Recorded> + Clone> EventSource for EventIndex<E> {
    type Event = E;

    fn group_slots(&self, group: &str) -> &[Slot] {
        self.slots.group_slots(group)
    }

    fn events_at(&self, _group: &str, slots: &[Slot]) -> Result<Vec<E>, ledger::Error> {
        Ok(self.by_position(slots))
    }
}
