//! `LiveWorld`: a view kept up to date as events are appended, for long-running
//! readers (the server) that should not replay the log on every request.
//!
//! Events normally arrive in effective-date order and are simply applied. A backdated
//! event (effective before one already applied) changes the past, so the world is
//! rebuilt by replay; the property tests hold this equal to a replay from scratch.

use std::sync::Arc;

use crate::world::{Recorded, World};

#[derive(Debug, Clone, Default)]
pub struct LiveWorld {
    /// Shared, so a reader can take a set of events and let go of the world.
    events: Vec<Arc<Recorded>>,
    world: World,
    /// `(effective, seq)` of the last event applied in order.
    last: Option<(i32, u64)>,
}

impl LiveWorld {
    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn events(&self) -> &[Arc<Recorded>] {
        &self.events
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
        self.events.extend(recorded.into_iter().map(Arc::new));
        self.world = world;
        self.last = self
            .events
            .iter()
            .map(|r| (r.stamp.effective, r.stamp.seq))
            .max();
    }

    /// Adds one newly appended event (seqs must arrive in increasing order).
    pub fn push(&mut self, recorded: Recorded) {
        let key = (recorded.stamp.effective, recorded.stamp.seq);
        let in_order = self.last.is_none_or(|last| key > last);
        if in_order {
            // An event that does not fit is set aside, exactly as `World::replay` does.
            let _ = self.world.apply(&recorded);
            self.last = Some(key);
            self.events.push(Arc::new(recorded));
        } else {
            self.events.push(Arc::new(recorded));
            self.world = World::replay(self.events.iter().map(|r| &**r)).0;
            self.last = self
                .events
                .iter()
                .map(|r| (r.stamp.effective, r.stamp.seq))
                .max();
        }
    }
}
