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
    /// Whether an event with this stamp counts for the query.
    pub fn admits(&self, stamp: &Stamp) -> bool {
        self.admits_at(stamp.effective, stamp.recorded_at)
    }

    /// The one rule: effective on or before `as_of`, recorded at or before `known_at`.
    pub fn admits_at(&self, effective: i32, recorded_at: i64) -> bool {
        self.as_of.is_none_or(|d| effective <= d) && self.known_at.is_none_or(|t| recorded_at <= t)
    }
}

/// The domain event in a stored event's payload: `None` when the payload was
/// redacted, an error naming the seq when it is present but does not decode.
pub fn domain_event(event: &Event) -> Result<Option<DomainEvent>, String> {
    let header = &event.header;
    event
        .payload()
        .map(|payload| {
            DomainEvent::decode(&header.kind, header.payload_schema, payload)
                .map_err(|why| format!("event {}: {why}", header.seq))
        })
        .transpose()
}

/// Turns a stored event into what the fold reads, taking it by value so its strings
/// move rather than copy.
pub fn decode_owned(event: Event) -> Result<Recorded, String> {
    let decoded = domain_event(&event)?;
    let header = event.header;
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

/// `decode_owned` for a reader of the ledger: a payload that is present but does not
/// decode is damage, reported at its seq like any other.
pub fn decode_stored(event: Event) -> Result<Recorded, ledger::Error> {
    let seq = event.header.seq;
    decode_owned(event).map_err(|what| ledger::Error::Corruption {
        seq: Some(seq),
        what,
    })
}

/// The world as of a time query, from any set of events (in any order).
pub fn world_at(events: &[Recorded], query: TimeQuery) -> World {
    World::replay(events.iter().filter(|r| query.admits(&r.stamp))).0
}
