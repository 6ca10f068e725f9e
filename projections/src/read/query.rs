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

/// Decodes stored events, given in seq order, into what the folds read, and puts the
/// structure kept of each erased event (`record.structure_kept`, see
/// `crate::erasure`) back in that event's place, so an erasure removes words but
/// never a record from any view.
#[derive(Debug, Default)]
pub struct Decoder {
    events: Vec<Recorded>,
    /// The kinds of the events read so far whose payload is missing, by seq.
    erased: std::collections::HashMap<u64, String>,
}

impl Decoder {
    pub fn with_capacity(events: usize) -> Decoder {
        Decoder {
            events: Vec::with_capacity(events),
            erased: Default::default(),
        }
    }

    /// Adds the next event (seqs must increase).
    pub fn push(&mut self, event: Event) -> Result<(), ledger::Error> {
        let (seq, kind) = (event.header.seq, event.header.kind.clone());
        let recorded = decode_stored(event)?;
        match &recorded.event {
            None => {
                self.erased.insert(seq, kind);
            }
            Some(DomainEvent::StructureKept(kept)) => {
                if let Some((target, skeleton)) = skeleton_of(&mut self.erased, seq, kept)? {
                    if let Ok(at) = self.events.binary_search_by_key(&target, |r| r.stamp.seq) {
                        self.events[at].event = Some(skeleton);
                    }
                }
            }
            Some(_) => {}
        }
        self.events.push(recorded);
        Ok(())
    }

    pub fn finish(self) -> Vec<Recorded> {
        self.events
    }
}

/// The structure kept of an erased event, decoded as the erased event's kind: only
/// in place of a payload that is really gone (`erased`, by seq), and only once.
fn skeleton_of(
    erased: &mut std::collections::HashMap<u64, String>,
    seq: u64,
    kept: &crate::events::StructureKept,
) -> Result<Option<(u64, DomainEvent)>, ledger::Error> {
    let Some(kind) = erased.remove(&kept.target_seq) else {
        return Ok(None);
    };
    let skeleton = DomainEvent::decode(&kind, kept.schema, &kept.payload).map_err(|why| {
        ledger::Error::Corruption {
            seq: Some(seq),
            what: format!(
                "the structure kept of erased event {} does not decode as {kind}: {why}",
                kept.target_seq
            ),
        }
    })?;
    Ok(Some((kept.target_seq, skeleton)))
}

/// The kind of a `record.structure_kept` event, as the kinds table names it.
fn structure_kept_kind() -> &'static str {
    DomainEvent::StructureKept(crate::events::StructureKept {
        target_seq: 0,
        schema: 0,
        payload: Vec::new(),
    })
    .kind()
}

/// `Decoder` for reads that stream the log one event at a time (the history of a
/// million events without holding them): a first pass `note`s every event, cheaply
/// (only the structures kept are decoded), then `decode` gives each event with the
/// structure kept of it in place when its payload was erased, as `Decoder` does.
#[derive(Debug, Default)]
pub struct Skeletons {
    erased: std::collections::HashMap<u64, String>,
    kept: std::collections::HashMap<u64, DomainEvent>,
}

impl Skeletons {
    /// Notes the next event of a first pass (seqs must increase).
    pub fn note(&mut self, event: &Event) -> Result<(), ledger::Error> {
        let header = &event.header;
        if event.body.is_none() {
            self.erased.insert(header.seq, header.kind.clone());
        } else if header.kind == structure_kept_kind() {
            let decoded = domain_event(event).map_err(|what| ledger::Error::Corruption {
                seq: Some(header.seq),
                what,
            })?;
            if let Some(DomainEvent::StructureKept(kept)) = decoded {
                if let Some((target, skeleton)) = skeleton_of(&mut self.erased, header.seq, &kept)?
                {
                    self.kept.insert(target, skeleton);
                }
            }
        }
        Ok(())
    }

    /// An event decoded, with the structure kept of it when its payload was erased.
    pub fn decode(&self, event: Event) -> Result<Recorded, ledger::Error> {
        let mut recorded = decode_stored(event)?;
        if recorded.event.is_none() {
            recorded.event = self.kept.get(&recorded.stamp.seq).cloned();
        }
        Ok(recorded)
    }
}

/// [`Decoder`] over a set of stored events in any order.
pub fn decode_all(mut events: Vec<Event>) -> Result<Vec<Recorded>, ledger::Error> {
    events.sort_unstable_by_key(|e| e.header.seq);
    events.dedup_by_key(|e| e.header.seq);
    let mut decoder = Decoder::with_capacity(events.len());
    for event in events {
        decoder.push(event)?;
    }
    Ok(decoder.finish())
}

/// The world as of a time query, from any set of events (in any order).
pub fn world_at(events: &[Recorded], query: TimeQuery) -> World {
    World::replay(events.iter().filter(|r| query.admits(&r.stamp))).0
}
