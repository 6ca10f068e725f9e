//! The read model: which events a view may see, and how a long-running reader keeps
//! views without replaying the log on every question.
//!
//! - `query.rs` — `TimeQuery` (the two time axes and the one rule of which events a
//!   query admits), reading stored events (`domain_event`, `decode_owned`, and `Decoder`, which puts
//!   back the structure an erasure kept), and
//!   `world_at` for any set of events.
//! - `index.rs` — `EventIndex`: the events in seq order and, per plan or challenge,
//!   their `Slot`s (position and the stamps a time query filters and orders by).
//! - `live.rs` — `LiveWorld`: the index plus the world as it stands now, kept up to
//!   date as events are appended.
//! - `snapshots.rs` — `Snapshots`: a plan as it stood on a date without replaying its
//!   whole history; `plan_at` is the one place "the plan on date D" is computed.
//!
//! Pure like the rest of the crate: the caller owns any lock and passes a reader.

mod index;
mod live;
mod query;
mod snapshots;

pub use index::{EventIndex, EventSource, GroupSlots, Slot};
pub use live::{replay_in_order, LiveWorld};
pub use query::{
    decode_all, decode_owned, decode_stored, domain_event, world_at, Decoder, Skeletons, TimeQuery,
};
pub use snapshots::{plan_at, Snapshots};
