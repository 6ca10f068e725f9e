//! `Ledger::redact`: lawful erasure of one earlier event's payload — the only code
//! that removes a payload, and it never touches a header. The `ledger.redacted`
//! payload itself is a format (`proof::redaction`), since `verify` and an auditor's
//! tool accept a missing payload only where such an event names it (FORMAT v1 §2).

use crate::codec;
use crate::error::{Error, Result};
use crate::header::{EventHeader, NewEvent};
use crate::layout::keys;
use crate::ledger::Ledger;
use crate::storage::Store;

pub use crate::proof::redaction::{Redaction, REDACTION_KIND};

impl Ledger {
    /// Lawful erasure: destroys the salt and payload of event `target` (in the log and
    /// in the index copy) and appends the `ledger.redacted` event that authorises it,
    /// all in one atomic batch. The header stays, so the chain and every checkpoint
    /// still verify. sled is log-structured, so the old bytes stay in its files (and
    /// perhaps in the write-ahead log) until `Ledger::rewrite_store` copies the store.
    pub fn redact(
        &mut self,
        target: u64,
        reason: &str,
        authorised_by: &str,
        effective: i32,
    ) -> Result<EventHeader> {
        self.redact_with(target, reason, authorised_by, effective, Vec::new())
    }

    /// `redact`, appending `first` (e.g. what the application keeps of the erased
    /// event: its structure without its words) in the same atomic batch, before the
    /// `ledger.redacted` event.
    pub fn redact_with(
        &mut self,
        target: u64,
        reason: &str,
        authorised_by: &str,
        effective: i32,
        first: Vec<NewEvent>,
    ) -> Result<EventHeader> {
        let event = self.event(target)?;
        if event.body.is_none() {
            return Err(Error::Rejected(format!(
                "event {target} is already redacted"
            )));
        }
        if event.header.kind == crate::redaction::REDACTION_KIND {
            return Err(Error::Rejected(format!(
                "event {target} is itself a redaction; it cannot be redacted"
            )));
        }
        if reason.trim().is_empty() {
            return Err(Error::Rejected("a redaction needs a reason".into()));
        }
        let stripped = codec::encode_record(&event.header.leaf_bytes(), None);
        let mut extra = Vec::new();
        let (key, mut records, at) = self.chunk_containing(target)?;
        records[at] = stripped.clone();
        extra.push((key, Some(codec::encode_chunk(&records))));
        let (key, mut copies, at) = self.index_chunk_containing(&event.header.subject, target)?;
        copies[at] = stripped;
        extra.push((key, Some(codec::encode_chunk(&copies))));
        let payload = crate::redaction::Redaction {
            target_seq: target,
            reason: reason.trim().to_owned(),
            authorised_by: authorised_by.to_owned(),
        };
        let payload = codec::encode_payload(&payload).map_err(Error::Rejected)?;
        let new = NewEvent {
            effective,
            actor: authorised_by.to_owned(),
            subject: "ledger".into(),
            kind: crate::redaction::REDACTION_KIND.into(),
            payload_schema: 1,
            payload,
        };
        let mut events = first;
        events.push(new);
        let mut headers = self.append_with(events, extra)?;
        headers
            .pop()
            .ok_or_else(|| Error::Rejected("the redaction event was not appended".into()))
    }

    /// The log chunk holding `seq`: its key, its records and the position of `seq`.
    pub(crate) fn chunk_containing(&self, seq: u64) -> Result<(Vec<u8>, Vec<Vec<u8>>, usize)> {
        let (key, chunk) = self
            .store
            .last_in(
                &keys::seq_key(keys::EVENT, 0),
                &keys::seq_key(keys::EVENT, seq + 1),
            )?
            .ok_or_else(|| Error::corruption(Some(seq), "the event is missing from the store"))?;
        let first = keys::seq_from_suffix(&key)
            .ok_or_else(|| Error::corruption(Some(seq), "a stored key is malformed"))?;
        let records = codec::chunk_records(&chunk)
            .map(|r| {
                r.map(<[u8]>::to_vec)
                    .map_err(|why| Error::corruption(Some(seq), why))
            })
            .collect::<Result<Vec<_>>>()?;
        let at = usize::try_from(seq - first).unwrap_or(usize::MAX);
        if at >= records.len() {
            return Err(Error::corruption(
                Some(seq),
                "the event is missing from the store",
            ));
        }
        Ok((key, records, at))
    }
}
