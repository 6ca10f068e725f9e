//! `App`: an open ledger plus who is acting, and the two things every command does
//! with it — load the events of some subjects and decode them, and append planned
//! events after checking them against that history.

use std::path::Path;

use anyhow::{Context as _, Result};
use ledger::{EventHeader, Ledger, NewEvent};
use projections::commands::{validate, Context, Planned};
use projections::events::subject;
use projections::query::decode_owned;
use projections::Recorded;

use crate::dates::today;

#[derive(Debug)]
pub struct App {
    pub ledger: Ledger,
    pub actor: String,
}

/// Which events to load: one exact subject, or every subject under a prefix.
#[derive(Debug, Clone)]
pub enum Subjects {
    Exact(String),
    Prefix(String),
}

impl Subjects {
    /// A plan's own events and all of its actions'.
    pub fn plan(id: &str) -> Vec<Subjects> {
        vec![
            Subjects::Exact(subject::plan(id)),
            Subjects::Prefix(format!("{}/", subject::plan(id))),
        ]
    }
}

/// The user name to record: --actor, $ASSURE_ACTOR, or the login name.
pub fn actor_name(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

impl App {
    pub fn open(data: &Path, actor: String) -> Result<App> {
        let ledger = Ledger::open(data)
            .with_context(|| format!("opening the ledger in {}", data.display()))?;
        Ok(App { ledger, actor })
    }

    /// The decoded events of the given subjects, in seq order, read from the ledger's
    /// covering subject index (which `verify` checks against the log).
    pub fn load(&self, selectors: &[Subjects]) -> Result<Vec<Recorded>> {
        let mut events = Vec::new();
        for selector in selectors {
            match selector {
                Subjects::Exact(s) => events.extend(self.ledger.events_with_subject(s)?),
                Subjects::Prefix(p) => events.extend(self.ledger.events_with_subject_prefix(p)?),
            }
        }
        events.sort_unstable_by_key(|e| e.header.seq);
        events.dedup_by_key(|e| e.header.seq);
        events
            .into_iter()
            .map(|event| {
                let seq = event.header.seq;
                decode_owned(event).map_err(|what| {
                    ledger::Error::Corruption {
                        seq: Some(seq),
                        what,
                    }
                    .into()
                })
            })
            .collect()
    }

    /// The facts the ledger would stamp on a change made now.
    fn context(&self, effective: i32) -> Context {
        Context {
            next_seq: self.ledger.size(),
            recorded_at: chrono::Utc::now().timestamp_micros(),
            effective,
            today: today(),
            actor: self.actor.clone(),
        }
    }

    /// Checks `planned` against `history` at `effective` without recording anything
    /// (a dry run's check is the same as a commit's).
    pub fn check(&self, history: &[Recorded], planned: &[Planned], effective: i32) -> Result<()> {
        Ok(validate(history, planned, &self.context(effective))?)
    }

    /// Checks `planned` against `history` at `effective`, stores the evidence files
    /// they name, and appends them atomically. Returns once all of it is durable.
    pub fn commit(
        &mut self,
        history: &[Recorded],
        planned: Vec<Planned>,
        effective: i32,
        evidence: &[Vec<u8>],
    ) -> Result<Vec<EventHeader>> {
        let context = self.context(effective);
        validate(history, &planned, &context)?;
        for bytes in evidence {
            self.ledger.blobs().put(bytes)?;
        }
        let events = planned
            .into_iter()
            .map(|p| NewEvent {
                effective: p.effective.unwrap_or(effective),
                actor: self.actor.clone(),
                subject: p.subject,
                kind: p.event.kind().to_owned(),
                payload_schema: p.event.schema(),
                payload: p.event.encode(),
            })
            .collect();
        Ok(self.ledger.append(events)?)
    }
}
