//! `LiveWorld`: the world as it stands now, kept up to date as events are appended,
//! with the slots of every event (not the events: a long-running reader such as the
//! server keeps those in the log and reads them back when a question needs them).
//!
//! Events normally arrive in effective-date order and are simply applied. A backdated
//! event (effective before one already applied) changes the past: the caller replays
//! every event (`replay_in_order`, reading them back in the order a replay from
//! scratch applies them) and hands the world over (`push_replayed`); the property
//! tests hold this equal to a replay from scratch.

use std::collections::HashMap;
use std::ops::Range;

use super::index::GroupSlots;
use crate::world::{Recorded, Rejection, World};

#[derive(Debug, Clone, Default)]
pub struct LiveWorld {
    slots: GroupSlots,
    world: World,
    /// `(effective, seq)` of the latest event in the order a replay applies them.
    last: Option<(i32, u64)>,
}

impl LiveWorld {
    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn slots(&self) -> &GroupSlots {
        &self.slots
    }

    /// The `(effective, seq)` of the latest event: one before it changes the past
    /// and needs a replay.
    pub fn last(&self) -> Option<(i32, u64)> {
        self.last
    }

    /// Whether `recorded` comes after every event so far in the replay order, so
    /// `push` can simply apply it.
    pub fn in_order(&self, recorded: &Recorded) -> bool {
        self.last
            .is_none_or(|last| (recorded.stamp.effective, recorded.stamp.seq) > last)
    }

    /// Adds one newly appended event (seqs must arrive in increasing order) and
    /// applies it: only for one `in_order` (a backdated one goes through
    /// `push_replayed`). Returns whether it did.
    #[must_use]
    pub fn push(&mut self, recorded: &Recorded) -> bool {
        if !self.in_order(recorded) {
            return false;
        }
        // An event that does not fit is set aside, exactly as `World::replay` does.
        let _ = self.world.apply(recorded);
        self.note(recorded);
        true
    }

    /// Adds newly appended events together with `world`, the replay of every event
    /// so far and these (`replay_in_order`), computed while nothing guards this value.
    pub fn push_replayed(&mut self, recorded: &[Recorded], world: World) {
        for r in recorded {
            self.note(r);
        }
        self.world = world;
    }

    /// Notes an event's slot without applying it: for a reader that gives the
    /// world of all of them at once after (`push_replayed`).
    pub fn note(&mut self, recorded: &Recorded) {
        self.slots.push(recorded, recorded.stamp.seq as u32);
        let key = (recorded.stamp.effective, recorded.stamp.seq);
        self.last = self.last.max(Some(key));
    }

    /// Every event's `(effective, seq)` in the order a replay applies them.
    pub fn replay_order(&self) -> Vec<(i32, u64)> {
        let mut order: Vec<(i32, u64)> = self.slots.all().map(|s| (s.effective, s.seq)).collect();
        order.sort_unstable();
        order
    }
}

/// Events read at once by `replay_in_order`, and most kept waiting for their turn.
const READ_AHEAD: u64 = 1024;
const WAITING_MAX: usize = 65_536;

/// `World::replay` of the events whose `(effective, seq)` are `order` (sorted, as
/// `LiveWorld::replay_order` gives), reading them in seq ranges with `read` instead
/// of holding them all: events read ahead wait for their turn, at most
/// `WAITING_MAX` of them (beyond that they are dropped and read again when due).
/// An event `read` does not give is an error, `missing(seq)`: nothing is replayed
/// without it.
pub fn replay_in_order<E>(
    order: &[(i32, u64)],
    size: u64,
    mut read: impl FnMut(Range<u64>) -> Result<Vec<Recorded>, E>,
    missing: impl Fn(u64) -> E,
) -> Result<(World, Vec<(u64, Rejection)>), E> {
    let mut done = vec![false; size as usize];
    let mut waiting: HashMap<u64, Recorded> = HashMap::new();
    let mut world = World::default();
    let mut skipped = Vec::new();
    for &(_, seq) in order {
        let recorded = match waiting.remove(&seq) {
            Some(recorded) => recorded,
            None => {
                if waiting.len() > WAITING_MAX {
                    waiting.clear();
                }
                let mut found = None;
                for r in read(seq..(seq + READ_AHEAD).min(size))? {
                    let at = r.stamp.seq;
                    if at == seq {
                        found = Some(r);
                    } else if !done.get(at as usize).copied().unwrap_or(true) {
                        waiting.insert(at, r);
                    }
                }
                found.ok_or_else(|| missing(seq))?
            }
        };
        if let Some(d) = done.get_mut(seq as usize) {
            *d = true;
        }
        if let Err(why) = world.apply(&recorded) {
            skipped.push((seq, why));
        }
    }
    Ok((world, skipped))
}
