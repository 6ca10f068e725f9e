//! The two time axes: which events a view may see.
//!
//! `as_of` is a date in the world (an event's effective date); `known_at` is a moment
//! on the ledger's clock (an event's recorded time). A view as of D known at T is the
//! replay of exactly the events effective on or before D and recorded at or before T.

use ledger::Event;

use crate::events::DomainEvent;
use crate::world::{Recorded, Stamp, World};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeQuery {
    /// Days since 1970: only events effective on or before this date.
    pub as_of: Option<i32>,
    /// UTC microseconds: only events recorded at or before this moment.
    pub known_at: Option<i64>,
}

impl TimeQuery {
    pub fn admits(&self, stamp: &Stamp) -> bool {
        self.as_of.is_none_or(|d| stamp.effective <= d)
            && self.known_at.is_none_or(|t| stamp.recorded_at <= t)
    }
}

/// Turns a stored event into what the fold reads. A payload that is present but does
/// not decode is an error naming the seq; a redacted one is `event: None`.
pub fn decode(event: &Event) -> Result<Recorded, String> {
    decode_owned(event.clone())
}

/// `decode`, taking the event by value so its strings move rather than copy.
pub fn decode_owned(event: Event) -> Result<Recorded, String> {
    let header = event.header;
    let decoded = match &event.body {
        Some(body) => Some(
            DomainEvent::decode(&header.kind, header.payload_schema, &body.payload)
                .map_err(|why| format!("event {}: {why}", header.seq))?,
        ),
        None => None,
    };
    Ok(Recorded {
        stamp: Stamp {
            seq: header.seq,
            recorded_at: header.recorded_at,
            effective: header.effective,
            actor: header.actor,
        },
        subject: header.subject,
        event: decoded,
    })
}

/// The world as of a time query, from any set of events (in any order).
pub fn world_at(events: &[Recorded], query: TimeQuery) -> World {
    World::replay(events.iter().filter(|r| query.admits(&r.stamp))).0
}
