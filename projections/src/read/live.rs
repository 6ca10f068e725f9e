//! `LiveWorld`: the world as it stands now, kept up to date as events are appended,
//! with the index of every event, for long-running readers (the server) that should
//! not replay the log on every request.
//!
//! Events normally arrive in effective-date order and are simply applied. A backdated
//! event (effective before one already applied) changes the past, so the world is
//! rebuilt by replay; the property tests hold this equal to a replay from scratch.

use std::sync::Arc;

use super::index::EventIndex;
use crate::world::{Recorded, World};

#[derive(Debug, Clone, Default)]
pub struct LiveWorld {
    index: EventIndex,
    world: World,
    /// `(effective, seq)` of the last event applied in order.
    last: Option<(i32, u64)>,
}

impl LiveWorld {
    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn events(&self) -> &[Arc<Recorded>] {
        self.index.events()
    }

    pub fn index(&self) -> &EventIndex {
        &self.index
    }

    /// The `(effective, seq)` of the last event applied in order: an event before
    /// it changes the past and needs a replay.
    pub fn last(&self) -> Option<(i32, u64)> {
        self.last
    }

    /// Adds newly appended events together with `world`, which the caller computed by
    /// replaying every event so far and these (`World::replay`): for a backdated event,
    /// so the long replay need not run while whatever guards this value is held.
    pub fn push_replayed(&mut self, recorded: Vec<Recorded>, world: World) {
        for r in recorded {
            self.index.push_owned(r);
        }
        self.world = world;
        self.last = self.latest();
    }

    /// Adds one newly appended event (seqs must arrive in increasing order).
    pub fn push(&mut self, recorded: Recorded) {
        let key = (recorded.stamp.effective, recorded.stamp.seq);
        let in_order = self.last.is_none_or(|last| key > last);
        if in_order {
            // An event that does not fit is set aside, exactly as `World::replay` does.
            let _ = self.world.apply(&recorded);
            self.last = Some(key);
            self.index.push_owned(recorded);
        } else {
            self.index.push_owned(recorded);
            self.world = World::replay(self.index.events().iter().map(|r| &**r)).0;
            self.last = self.latest();
        }
    }

    fn latest(&self) -> Option<(i32, u64)> {
        self.index
            .events()
            .iter()
            .map(|r| (r.stamp.effective, r.stamp.seq))
            .max()
    }
}

impl AsRef<EventIndex> for LiveWorld {
    fn as_ref(&self) -> &EventIndex {
        &self.index
    }
}
