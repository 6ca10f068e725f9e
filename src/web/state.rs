//! The service's state: what readers see, and the one writer that changes it.
//!
//! Readers look at `Live`, an in-memory projection of every *durable* event (a
//! `projections::read::LiveWorld`) behind a `RwLock` that only the syncer takes to
//! write, to add events already made durable, so a page never waits for a disk
//! flush and never shows an event that could still be lost.
//!
//! Appends go through a pipeline of three threads, so that one group is prepared
//! while the one before it is logged (group commit); the words are the ledger's
//! (staged → logged → applied → flushed, see `ledger`'s crate docs):
//!
//! - the writer owns appends. It takes every request waiting in its queue, builds
//!   each `Change` against its own copy of the world (which already includes every
//!   earlier request, durable or not), checks it, and stages all that passed as one
//!   atomic batch (`Ledger::stage`), then hands the group on;
//! - the syncer takes every group staged so far, logs them with one write and
//!   `fdatasync` of the write-ahead log (`Syncer::sync`), publishes them to `Live`,
//!   and only then answers each request;
//! - the applier applies logged groups to the store in large batches and flushes it
//!   now and then (`Syncer::maintain`), off the path of any answer.
//!
//! A failed sync answers every request it covered with the error, marks `Live`
//! stopped and the ledger refuses writes from then on: nothing is shown as recorded.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{anyhow, Result};
use ledger::{EventHeader, Ledger, NewEvent};
use projections::events::subject;
use projections::planned::{stamped, validate, Context, Planned};
use projections::read::{LiveWorld, Skeletons, Snapshots};

pub use super::live::Live;
use projections::{DomainEvent, Recorded, Rejection, Stamp, World};
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::Caller;
use crate::app::{Against, Change};
use crate::dates::today;

/// Most requests one staged group takes from the queue.
const GROUP_MAX: usize = 512;

/// A change for the writer to build against the world as it will stand (durable
/// events plus the earlier requests of the group), check and stage.
pub struct WriteRequest {
    pub actor: String,
    /// The agency a partner lead acts for (`Caller::partner_agency`).
    pub agency: Option<String>,
    pub effective: i32,
    pub evidence: Vec<Vec<u8>>,
    pub change: Change,
    pub reply: oneshot::Sender<Result<Vec<EventHeader>, WriteError>>,
}

impl std::fmt::Debug for WriteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteRequest")
            .field("actor", &self.actor)
            .field("effective", &self.effective)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The request does not fit the history: the user's to fix.
    #[error("{0}")]
    Rejected(String),
    /// The ledger could not make it durable: nothing was recorded. The cause is in
    /// the service's error output (stderr), not in the answer (it may name files on the server).
    #[error("the ledger could not record this change, so nothing was recorded; try again, and tell the administrator if it happens again")]
    Storage(String),
    /// The disk is nearly full: nothing written; changes resume once space is freed.
    #[error("the disk is nearly full; nothing was recorded. An administrator must free some space on the server's disk, then try again")]
    DiskFull,
    /// A failed store write made the ledger refuse all writes until reopened.
    #[error("the ledger stopped taking changes after a storage failure, to keep what it holds whole; nothing was recorded. An administrator must restart the service (its error output says what failed)")]
    Stopped,
}

impl WriteError {
    /// The HTTP status that answers it: 422 for the user's to fix, 503 for the disk's.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            WriteError::Rejected(_) => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            WriteError::Storage(_) | WriteError::Stopped | WriteError::DiskFull => {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

/// Handles shared by every request.
#[derive(Debug, Clone)]
pub struct Shared {
    pub live: Arc<RwLock<Live>>,
    pub ledger: Arc<Mutex<Ledger>>,
    /// Plans as they stood on past dates, from snapshots of `live`.
    pub snapshots: Arc<Snapshots>,
    /// The ledger's evidence files, read without its lock (they are immutable and
    /// named by hash).
    pub blobs: ledger::blobs::BlobStore,
    writer: mpsc::Sender<ToWriter>,
}

/// What the writer thread is sent: a change to record, or the service stopping.
#[derive(Debug)]
// Nearly every message is a write: boxing it would cost an allocation each for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ToWriter {
    Write(WriteRequest),
    /// Finish what is queued and stop (a task still holding the state must not keep
    /// the writer, and so the process, alive).
    Stop,
}

impl Shared {
    /// Reads every event's slot and hash, replays the world (reading the events
    /// back in replay order, a window at a time) and starts the writer thread.
    pub fn start(ledger: Ledger) -> Result<(Shared, std::thread::JoinHandle<()>)> {
        let size = ledger.size();
        let mut skeletons = Skeletons::default();
        let mut world = LiveWorld::default();
        let mut hashes = Vec::with_capacity(size as usize);
        let mut latest = None;
        ledger.scan(0..size, &mut |event| {
            hashes.push(event.header.event_hash());
            skeletons.note(&event)?;
            let header = event.header;
            latest = latest.max(Some(header.effective));
            world.note(&Recorded {
                stamp: Stamp {
                    seq: header.seq,
                    recorded_at: header.recorded_at,
                    effective: header.effective,
                    actor: String::new(),
                },
                subject: header.subject,
                event: None,
            });
            Ok(true)
        })?;
        let mut live = Live::new(ledger.reader(), skeletons);
        live.hashes = hashes;
        live.world = world;
        let replayed = live.replay_with(&[])?;
        live.world.push_replayed(&[], replayed);
        live.checkpoint = super::assurance::checkpoint_summary(&ledger);
        let world = live.world.world().clone();
        let blobs = ledger.blobs().clone();
        let live = Arc::new(RwLock::new(live));
        let (sender, receiver) = mpsc::channel();
        let (to_syncer, syncer_queue) = mpsc::channel();
        let (poke, pokes) = mpsc::sync_channel(1);
        let (syncer, applier) = (ledger.syncer(), ledger.syncer());
        let published = live.clone();
        let syncer = std::thread::Builder::new()
            .name("assure-syncer".into())
            .spawn(move || sync_groups(&published, &syncer, syncer_queue, &poke))
            .map_err(|e| anyhow!("starting the syncer thread: {e}"))?;
        let stopped = live.clone();
        let applier = std::thread::Builder::new()
            .name("assure-applier".into())
            .spawn(move || apply_to_store(&stopped, &applier, pokes))
            .map_err(|e| anyhow!("starting the applier thread: {e}"))?;
        let writer = Writer {
            live: live.clone(),
            ledger: Arc::new(Mutex::new(ledger)),
            world,
            latest,
            replayed: false,
            to_syncer,
        };
        let ledger = writer.ledger.clone();
        let handle = std::thread::Builder::new()
            .name("assure-writer".into())
            .spawn(move || {
                writer.run(receiver);
                // The writer dropped its end: the syncer finishes what was staged, then
                // the applier what was logged.
                let _ = syncer.join();
                let _ = applier.join();
            })
            .map_err(|e| anyhow!("starting the writer thread: {e}"))?;
        Ok((
            Shared {
                live,
                ledger,
                snapshots: Arc::default(),
                blobs,
                writer: sender,
            },
            handle,
        ))
    }

    /// Sends a request to the writer and waits until it is durable (or refused).
    pub async fn write(
        &self,
        caller: &Caller,
        effective: i32,
        evidence: Vec<Vec<u8>>,
        change: Change,
    ) -> Result<Vec<EventHeader>, WriteError> {
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest {
            actor: caller.name().to_owned(),
            agency: caller.partner_agency().map(str::to_owned),
            effective,
            evidence,
            change,
            reply,
        };
        // Unbounded, so sending never blocks an async thread; the queue is bounded in
        // practice by the connections, each waiting for its answer.
        self.writer
            .send(ToWriter::Write(request))
            .map_err(|_| WriteError::Storage("the service is shutting down".into()))?;
        answer
            .await
            .map_err(|_| WriteError::Storage("the writer stopped".into()))?
    }

    /// Whether `change` could be made now, asked before a confirmation page says what
    /// it will do (the writer checks it again, against the history it lands in).
    pub fn precheck(&self, caller: &Caller, change: &Change) -> Result<(), String> {
        let live = self.read();
        let against = Against {
            world: live.world.world(),
            agency: caller.partner_agency(),
            challenge_subjects: &[],
        };
        change.clone().build(against).map(|_| ()).map_err(|r| r.0)
    }

    /// Tells the writer to finish what is queued and stop; changes sent after it are
    /// refused ("the service is shutting down").
    pub fn stop_writer(&self) {
        let _ = self.writer.send(ToWriter::Stop);
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        // A panic while holding the lock cannot leave `Live` half-changed: `push` is
        // the only mutation and it does not panic; read through a poisoned lock.
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The ledger, for what reads through it (verification, checkpoints, export,
    /// the report). A group the writer staged may not be durable yet: it is made so
    /// first, so nothing that could still be lost is ever verified, signed or
    /// exported. (After a storage failure the sync is refused and the reader goes on.)
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        let _ = ledger.syncer().flush_store();
        ledger
    }
}

struct Writer {
    live: Arc<RwLock<Live>>,
    ledger: Arc<Mutex<Ledger>>,
    /// The world with every durable event and the accepted requests of this group.
    world: World,
    /// The latest effective date in `world`: a request on or after it is in order.
    latest: Option<i32>,
    /// Whether a request of the group being built was backdated and `world`
    /// replayed: the group then carries its world to the syncer, which publishes it
    /// instead of replaying the log a second time.
    replayed: bool,
    to_syncer: mpsc::Sender<ToSyncer>,
}

/// One request that passed its checks, waiting for the group's flush.
struct Accepted {
    reply: oneshot::Sender<Result<Vec<EventHeader>, WriteError>>,
    events: usize,
}

/// What the writer hands the syncer.
enum ToSyncer {
    /// A staged group: durable once a sync covers its head.
    Group(StagedGroup),
    /// Answered once every group sent before it is published (or failed).
    Barrier(mpsc::SyncSender<()>),
}

struct StagedGroup {
    staged: ledger::Staged,
    pending: Vec<Recorded>,
    accepted: Vec<Accepted>,
    /// The world with this group, when the writer replayed it for a backdated
    /// request and the log stamped the group as the writer built it.
    world: Option<Box<World>>,
}

/// The applier thread: moves logged groups into the store in large batches and
/// flushes it now and then (`Syncer::maintain`), off the path of any answer. A
/// failure there stops writes like a failed sync.
fn apply_to_store(live: &RwLock<Live>, syncer: &ledger::Syncer, pokes: mpsc::Receiver<()>) {
    loop {
        match pokes.recv_timeout(std::time::Duration::from_millis(500)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if let Err(e) = syncer.maintain() {
            eprintln!(
                "assure serve: moving logged changes into the store failed; the ledger takes no more until the service is restarted: {e}"
            );
            live.write().unwrap_or_else(|p| p.into_inner()).stopped = true;
            return;
        }
    }
}

/// The syncer thread: makes staged groups durable, publishes them, answers them.
fn sync_groups(
    live: &RwLock<Live>,
    syncer: &ledger::Syncer,
    queue: mpsc::Receiver<ToSyncer>,
    poke: &mpsc::SyncSender<()>,
) {
    while let Ok(first) = queue.recv() {
        // Everything staged meanwhile shares this flush.
        let mut messages = vec![first];
        messages.extend(queue.try_iter());
        let mut groups = Vec::new();
        let mut barriers = Vec::new();
        for message in messages {
            match message {
                ToSyncer::Group(group) => groups.push(group),
                ToSyncer::Barrier(done) => barriers.push(done),
            }
        }
        if !groups.is_empty() {
            let frames: Vec<&[u8]> = groups.iter().map(|g| g.staged.frame.as_slice()).collect();
            match syncer.sync(&frames) {
                Ok(()) => {
                    for group in groups {
                        if let Err(e) =
                            super::live::publish(live, &group.staged, group.pending, group.world)
                        {
                            // Durable, but the pages cannot show it: stop rather
                            // than show a world without it.
                            eprintln!(
                                "assure serve: reading the log back to show a change failed; the change is recorded, and the ledger takes no more until the service is restarted: {e}"
                            );
                            live.write().unwrap_or_else(|p| p.into_inner()).stopped = true;
                            for request in group.accepted {
                                let _ = request.reply.send(Err(WriteError::Stopped));
                            }
                            continue;
                        }
                        let mut headers = group.staged.headers.into_iter();
                        for request in group.accepted {
                            let mine = headers.by_ref().take(request.events).collect();
                            let _ = request.reply.send(Ok(mine));
                        }
                    }
                    // The applier moves them into the store (if it is busy, it
                    // takes these with the next).
                    let _ = poke.try_send(());
                }
                Err(e) => {
                    let message = e.to_string();
                    eprintln!(
                        "assure serve: a flush failed; its changes were answered as not recorded, and the ledger takes no more until the service is restarted: {message}"
                    );
                    live.write().unwrap_or_else(|p| p.into_inner()).stopped = true;
                    for request in groups.into_iter().flat_map(|g| g.accepted) {
                        let _ = request
                            .reply
                            .send(Err(WriteError::Storage(message.clone())));
                    }
                }
            }
        }
        for done in barriers {
            let _ = done.send(());
        }
    }
}

impl Writer {
    fn run(mut self, receiver: mpsc::Receiver<ToWriter>) {
        let mut stopping = false;
        while let Ok(first) = receiver.recv() {
            let mut group = Vec::new();
            for message in std::iter::once(first).chain(receiver.try_iter()) {
                match message {
                    ToWriter::Write(request) => group.push(request),
                    ToWriter::Stop => stopping = true,
                }
                if group.len() == GROUP_MAX {
                    self.stage_group(std::mem::take(&mut group));
                }
            }
            if !group.is_empty() {
                self.stage_group(group);
            }
            if stopping {
                return;
            }
        }
    }

    fn stage_group(&mut self, group: Vec<WriteRequest>) {
        let handle = self.ledger.clone();
        let mut ledger = handle.lock().unwrap_or_else(|p| p.into_inner());
        let stopped = self.live.read().unwrap_or_else(|p| p.into_inner()).stopped;
        if ledger.writes_refused() || stopped {
            for request in group {
                let _ = request.reply.send(Err(WriteError::Stopped));
            }
            return;
        }
        let base = ledger.size();
        let today = today();
        // One time for the group, the one the ledger stamps on it (`stage_at`), so the
        // world built here has the stamps the log will have.
        let recorded_at = chrono::Utc::now()
            .timestamp_micros()
            .max(ledger.head().recorded_at);
        let mut pending: Vec<Recorded> = Vec::new();
        let mut accepted: Vec<Accepted> = Vec::new();
        let mut new_events: Vec<NewEvent> = Vec::new();
        for request in group {
            let context = Context {
                next_seq: base + pending.len() as u64,
                recorded_at,
                effective: request.effective,
                today,
                actor: request.actor.clone(),
            };
            let challenge_subjects = match request.change {
                Change::Raise { .. } => self.challenge_subjects(),
                _ => Vec::new(),
            };
            let against = Against {
                world: &self.world,
                agency: request.agency.as_deref(),
                challenge_subjects: &challenge_subjects,
            };
            let checked = request
                .change
                .build(against)
                .and_then(|planned| self.check(&planned, &context, &pending).map(|()| planned));
            let planned = match checked {
                Ok(planned) => planned,
                Err(why) => {
                    let _ = request.reply.send(Err(WriteError::Rejected(why.0)));
                    continue;
                }
            };
            if let Err(e) = crate::app::store_evidence(&ledger, &request.evidence) {
                eprintln!("assure serve: storing evidence failed: {e}");
                let _ = request.reply.send(Err(match e {
                    ledger::Error::DiskFull { .. } => WriteError::DiskFull,
                    e => WriteError::Storage(e.to_string()),
                }));
                self.rebuild_world(&pending);
                continue;
            }
            accepted.push(Accepted {
                reply: request.reply,
                events: planned.len(),
            });
            pending.extend(stamped(&planned, &context));
            new_events.extend(planned.iter().map(|p| p.to_new_event(&context)));
        }
        if new_events.is_empty() {
            return;
        }
        let staged = ledger.stage_at(new_events, recorded_at);
        drop(ledger);
        match staged {
            Ok(staged) => {
                // The writer's world is the one readers should see with this group
                // only if the log stamped what it was built with.
                let stamped_alike = staged.headers.iter().zip(&pending).all(|(h, r)| {
                    (h.seq, h.recorded_at, h.effective, &h.actor)
                        == (
                            r.stamp.seq,
                            r.stamp.recorded_at,
                            r.stamp.effective,
                            &r.stamp.actor,
                        )
                });
                let replayed = std::mem::take(&mut self.replayed);
                let world = (replayed && stamped_alike).then(|| Box::new(self.world.clone()));
                let group = StagedGroup {
                    staged,
                    pending,
                    accepted,
                    world,
                };
                if let Err(mpsc::SendError(ToSyncer::Group(group))) =
                    self.to_syncer.send(ToSyncer::Group(group))
                {
                    for request in group.accepted {
                        let _ = request
                            .reply
                            .send(Err(WriteError::Storage("the syncer stopped".into())));
                    }
                }
            }
            Err(e @ ledger::Error::DiskFull { .. }) => {
                eprintln!("assure serve: {e}"); // refused before any write: no stop
                for request in accepted {
                    let _ = request.reply.send(Err(WriteError::DiskFull));
                }
                self.rebuild_world(&[]);
            }
            Err(e) => {
                let message = e.to_string();
                eprintln!(
                    "assure serve: a write to the store failed; its changes were answered as not recorded, and the ledger takes no more until the service is restarted: {message}"
                );
                self.live.write().unwrap_or_else(|p| p.into_inner()).stopped = true;
                for request in accepted {
                    let _ = request
                        .reply
                        .send(Err(WriteError::Storage(message.clone())));
                }
            }
        }
    }

    /// Waits until every group staged so far is published to `Live` (or failed).
    fn wait_for_syncer(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.to_syncer.send(ToSyncer::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Checks planned events and, when they pass, adds them to the writer's world.
    ///
    /// A single event that takes effect on or after everything the world holds is
    /// checked by applying it (`World::apply` changes nothing when it refuses).
    /// Anything else — several events, or a backdated one — is checked like the
    /// command line does, by replaying the history of the plans and challenges it
    /// touches with the planned events added.
    fn check(
        &mut self,
        planned: &[Planned],
        context: &Context,
        pending: &[Recorded],
    ) -> Result<(), Rejection> {
        let days = planned.iter().map(|p| p.effective_in(context));
        let (earliest, latest) = (days.clone().min(), days.max());
        if latest.is_some_and(|day| day > context.today) || context.effective > context.today {
            return validate(&[], planned, context);
        }
        let recorded = stamped(planned, context);
        let earliest = earliest.unwrap_or(context.effective);
        let in_order = self.latest.is_none_or(|l| earliest >= l);
        if let ([only], true) = (recorded.as_slice(), in_order) {
            self.world.apply(only)?;
        } else {
            validate(&self.history_of(planned, pending)?, planned, context)?;
            if in_order {
                for r in &recorded {
                    // Validated above against the same history: this cannot refuse.
                    self.world.apply(r)?;
                }
            } else {
                // Every group staged before this one must be in `Live` to replay it.
                self.wait_for_syncer();
                let mut extra = pending.to_vec();
                extra.extend(recorded);
                self.world = self.replay(&extra).map_err(|e| {
                    eprintln!("assure serve: reading the log back to replay it failed: {e}");
                    Rejection(READ_BACK_FAILED.into())
                })?;
                self.replayed = true;
            }
        }
        self.latest = self.latest.max(Some(latest.unwrap_or(context.effective)));
        Ok(())
    }

    /// The durable and pending events of every plan and challenge the planned events
    /// touch or name.
    fn history_of(
        &self,
        planned: &[Planned],
        pending: &[Recorded],
    ) -> Result<Vec<Recorded>, Rejection> {
        let mut groups = BTreeSet::new();
        for p in planned {
            groups.insert(ledger::group_of(&p.subject).to_owned());
            for at in referenced_actions(&p.event) {
                groups.insert(subject::plan(&at.plan));
            }
        }
        let live = self.live.read().unwrap_or_else(|p| p.into_inner());
        let mut history = Vec::new();
        for group in &groups {
            let events = live.group_events(group).map_err(|e| {
                eprintln!("assure serve: reading {group} back from the log failed: {e}");
                Rejection(READ_BACK_FAILED.into())
            })?;
            history.extend(events.iter().map(|r| (**r).clone()));
        }
        history.extend(
            pending
                .iter()
                .filter(|r| groups.contains(ledger::group_of(&r.subject)))
                .cloned(),
        );
        Ok(history)
    }

    /// Every challenge subject durable so far (the group's own are in `world`).
    fn challenge_subjects(&self) -> Vec<String> {
        let live = self.live.read().unwrap_or_else(|p| p.into_inner());
        live.world
            .slots()
            .groups()
            .filter(|g| g.starts_with("challenge/"))
            .map(str::to_owned)
            .collect()
    }

    /// The world replayed from every durable event and `extra`, read back from the log.
    fn replay(&self, extra: &[Recorded]) -> Result<World, ledger::Error> {
        self.live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .replay_with(extra)
    }

    /// After a failed evidence write: the world again from the durable events and
    /// `pending`, once every group staged before is durable.
    fn rebuild_world(&mut self, pending: &[Recorded]) {
        self.wait_for_syncer();
        match self.replay(pending) {
            Ok(world) => {
                let live = self.live.read().unwrap_or_else(|p| p.into_inner());
                let durable = live.world.last().map(|(day, _)| day);
                let planned = pending.iter().map(|r| r.stamp.effective).max();
                self.latest = durable.max(planned);
                self.world = world;
            }
            Err(e) => {
                eprintln!(
                    "assure serve: reading the log back to replay it failed; the ledger takes no more changes until the service is restarted: {e}"
                );
                self.live.write().unwrap_or_else(|p| p.into_inner()).stopped = true;
            }
        }
    }
}

/// What a change is answered with when the log could not be read back to check it.
const READ_BACK_FAILED: &str = "the ledger could not read its own history back to check this change, so nothing was recorded; tell the administrator (the service's error output says what failed)";

/// The actions an event names besides its own subject.
fn referenced_actions(event: &DomainEvent) -> Vec<projections::ActionRef> {
    match event {
        DomainEvent::CarriedOver(c) => vec![c.to.clone()],
        DomainEvent::CarriedIn(c) => vec![c.from.clone()],
        DomainEvent::ChallengeRaised(c) => c.about.clone(),
        _ => Vec::new(),
    }
}
