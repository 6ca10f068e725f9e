//! `Live`: the durable events as the service's readers see them — the world now,
//! and each event's slot and hash. The events themselves stay in the log: pages read
//! a plan's or challenge's events back through `ledger::LogReader` (without the
//! writer's ledger lock), the last few plans decoded kept; a backdated event's replay
//! reads the whole log back in replay order, a window at a time.
//!
//! Only the syncer adds to it (`publish`), under the write lock, events already
//! durable.

use std::sync::{Arc, Mutex, RwLock};

use ledger::LogReader;
use projections::read::{EventSource, LiveWorld, Skeletons, Slot};
use projections::{Recorded, Stamp, World};

/// The durable events, as the readers see them: the world as it stands and, for
/// every event, its slot and hash; the events themselves stay in the log and are
/// read back (a few plans' worth kept decoded) when a question needs them.
#[derive(Debug)]
pub struct Live {
    /// The world now, and every durable event's slot by plan and challenge.
    pub world: LiveWorld,
    /// `event_hash` of every event, by seq.
    pub hashes: Vec<[u8; 32]>,
    /// The latest checkpoint's tree size and number of signatures, kept here so the
    /// dashboard never waits for the ledger while the writer holds it.
    pub checkpoint: Option<(u64, usize)>,
    /// Set when a failed store write made the ledger refuse writes until reopened.
    pub stopped: bool,
    /// The log, read without the writer's ledger; only seqs below `size` are asked
    /// for (it also holds groups staged and not yet durable).
    log: LogReader,
    /// The structure an erasure kept of each erased event, put back in its place
    /// (only the command line erases, and not while the service runs).
    skeletons: Arc<Skeletons>,
    /// The plans and challenges read last, decoded.
    recent: Mutex<Recent>,
}

/// Most events kept decoded in `Live::recent`.
const RECENT_EVENTS: usize = 65_536;

/// Plans and challenges read lately: `(group, events)`, oldest first.
#[derive(Debug, Default)]
struct Recent {
    groups: std::collections::VecDeque<(String, Arc<[Arc<Recorded>]>)>,
    events: usize,
}

impl Live {
    pub(super) fn new(log: LogReader, skeletons: Skeletons) -> Live {
        Live {
            world: LiveWorld::default(),
            hashes: Vec::new(),
            checkpoint: None,
            stopped: false,
            log,
            skeletons: Arc::new(skeletons),
            recent: Mutex::default(),
        }
    }

    /// A plan's or challenge's events, as slots, in seq order.
    pub fn group_slots(&self, group: &str) -> &[Slot] {
        self.world.slots().group_slots(group)
    }

    pub fn size(&self) -> u64 {
        self.hashes.len() as u64
    }

    /// One event as the history shows it (pages and API alike): its hash, and what
    /// it was or why its payload is gone.
    pub fn history_entry(&self, recorded: &Recorded) -> projections::views::HistoryEntry {
        let hash = self
            .hashes
            .get(recorded.stamp.seq as usize)
            .map(|h| ledger::hex::hex(h))
            .unwrap_or_default();
        let kind = recorded.event.as_ref().map_or("redacted", |e| e.kind());
        projections::views::history_entry(recorded, hash, kind, &self.world.world().redactions)
    }

    /// The events of one plan (its actions included) or one challenge, in seq order,
    /// read back from the log's index (or kept from a recent read): shared, so the
    /// caller can let go of the lock before replaying them.
    pub fn group_events(&self, group: &str) -> Result<Arc<[Arc<Recorded>]>, ledger::Error> {
        let slots = self.group_slots(group);
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = recent.groups.iter().position(|(g, _)| g == group) {
            let (name, events) = recent.groups.remove(at).unwrap_or_default();
            if events.len() == slots.len() {
                recent.groups.push_back((name, events.clone()));
                return Ok(events);
            }
            recent.events -= events.len();
        }
        drop(recent);
        let mut events = Vec::with_capacity(slots.len());
        for event in self.log.events_in_group(group)? {
            let seq = event.header.seq;
            if seq >= self.size() || ledger::group_of(&event.header.subject) != group {
                continue;
            }
            events.push(Arc::new(self.skeletons.decode(event)?));
        }
        let seqs = events.iter().map(|r| r.stamp.seq);
        if !seqs.eq(slots.iter().map(|s| s.seq)) {
            return Err(ledger::Error::Corruption {
                seq: None,
                what: format!("the subject index does not list the events of {group} that the log holds; `assure verify` says where"),
            });
        }
        let events: Arc<[Arc<Recorded>]> = events.into();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() <= RECENT_EVENTS && !recent.groups.iter().any(|(g, _)| g == group) {
            while recent.events + events.len() > RECENT_EVENTS {
                let Some((_, old)) = recent.groups.pop_front() else {
                    break;
                };
                recent.events -= old.len();
            }
            recent.events += events.len();
            recent.groups.push_back((group.to_owned(), events.clone()));
        }
        Ok(events)
    }

    /// The seqs of the durable events whose subject starts with `prefix`, ascending
    /// (from the log's subject index; every seq for no prefix).
    pub fn seqs_with_prefix(&self, prefix: &str) -> Result<Vec<u64>, ledger::Error> {
        if prefix.is_empty() {
            return Ok((0..self.size()).collect());
        }
        let mut seqs = self.log.seqs_with_subject_prefix(prefix)?;
        seqs.retain(|&seq| seq < self.size());
        Ok(seqs)
    }

    /// The durable events `seqs` (ascending, each below `size`), read back from the log.
    pub fn events(&self, seqs: &[u64]) -> Result<Vec<Recorded>, ledger::Error> {
        let mut events = Vec::with_capacity(seqs.len());
        let mut rest = seqs;
        while let Some(&first) = rest.first() {
            // A run of consecutive seqs is one read.
            let run = rest
                .iter()
                .zip(first..)
                .take_while(|(seq, expected)| *seq == expected)
                .count();
            self.read_range(first..first + run as u64, &mut events)?;
            rest = &rest[run..];
        }
        Ok(events)
    }

    /// The durable events in `range`, decoded, added to `into`.
    fn read_range(
        &self,
        range: std::ops::Range<u64>,
        into: &mut Vec<Recorded>,
    ) -> Result<(), ledger::Error> {
        if range.end > self.size() {
            return Err(ledger::Error::Rejected(format!(
                "no event {}: the ledger holds {} events",
                range.end - 1,
                self.size()
            )));
        }
        self.log.scan(range, &mut |event| {
            into.push(self.skeletons.decode(event)?);
            Ok(true)
        })
    }

    /// The world replayed from every durable event and `extra` (events after them:
    /// staged, or planned by the writer), reading the durable ones back from the log
    /// in replay order; used when a backdated event changes the past.
    pub(super) fn replay_with(&self, extra: &[Recorded]) -> Result<World, ledger::Error> {
        let mut order = self.world.replay_order();
        order.extend(extra.iter().map(|r| (r.stamp.effective, r.stamp.seq)));
        order.sort_unstable();
        let size = self.size();
        let total = extra.iter().map(|r| r.stamp.seq + 1).fold(size, u64::max);
        let read = |range: std::ops::Range<u64>| {
            let mut events = Vec::new();
            if range.start < size {
                self.read_range(range.start..range.end.min(size), &mut events)?;
            }
            events.extend(
                extra
                    .iter()
                    .filter(|r| range.contains(&r.stamp.seq))
                    .cloned(),
            );
            Ok::<_, ledger::Error>(events)
        };
        let missing = |seq| ledger::Error::Corruption {
            seq: Some(seq),
            what: "the event is missing from the store".into(),
        };
        Ok(projections::read::replay_in_order(&order, total, read, missing)?.0)
    }
}

impl EventSource for Live {
    type Event = Arc<Recorded>;

    fn group_slots(&self, group: &str) -> &[Slot] {
        Live::group_slots(self, group)
    }

    /// From the group's events as `group_events` reads them (kept while they are
    /// among the last read): one read of the index, not one per event.
    fn events_at(&self, group: &str, slots: &[Slot]) -> Result<Vec<Arc<Recorded>>, ledger::Error> {
        let events = self.group_events(group)?;
        slots
            .iter()
            .map(|slot| {
                events
                    .binary_search_by_key(&slot.seq, |r| r.stamp.seq)
                    .map(|at| events[at].clone())
                    .map_err(|_| ledger::Error::Corruption {
                        seq: Some(slot.seq),
                        what: format!("the event is missing from {group} in the subject index"),
                    })
            })
            .collect()
    }
}

/// Shows durable events to readers. A backdated event changes the past: the world
/// is the one the writer replayed for it (`replayed`), or is replayed here, reading
/// the log back; only the syncer thread adds to `Live`, so the replay runs under the
/// readers' lock only (readers go on meanwhile) and the world is swapped in after.
/// An error is a log that could not be read back.
pub(super) fn publish(
    live: &RwLock<Live>,
    staged: &ledger::Staged,
    pending: Vec<Recorded>,
    replayed: Option<Box<World>>,
) -> Result<(), ledger::Error> {
    let published: Vec<(Recorded, [u8; 32])> = staged
        .headers
        .iter()
        .zip(&staged.hashes)
        .zip(pending)
        .map(|((header, hash), mut recorded)| {
            recorded.stamp = Stamp {
                seq: header.seq,
                recorded_at: header.recorded_at,
                effective: header.effective,
                actor: header.actor.clone(),
            };
            (recorded, *hash)
        })
        .collect();
    let mut last = live.read().unwrap_or_else(|p| p.into_inner()).world.last();
    let mut backdated = false;
    for (r, _) in &published {
        let key = (r.stamp.effective, r.stamp.seq);
        backdated |= last.is_some_and(|l| key < l);
        last = last.max(Some(key));
    }
    let (recorded, hashes): (Vec<Recorded>, Vec<[u8; 32]>) = published.into_iter().unzip();
    if !backdated {
        let mut live = live.write().unwrap_or_else(|p| p.into_inner());
        for r in &recorded {
            // In order, checked above: applied.
            let _ = live.world.push(r);
        }
        live.hashes.extend(hashes);
        return Ok(());
    }
    let world = match replayed {
        Some(world) => *world,
        None => live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .replay_with(&recorded)?,
    };
    let mut live = live.write().unwrap_or_else(|p| p.into_inner());
    live.world.push_replayed(&recorded, world);
    live.hashes.extend(hashes);
    Ok(())
}
