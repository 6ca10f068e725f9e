//! Reading by subject: the covering index that groups copies of each batch's records
//! by plan or challenge, so a plan's events are a few contiguous reads whatever the
//! size of the log. `verify` checks every copy against the log.

use std::collections::BTreeSet;

use crate::codec;
use crate::error::{Error, Result};
use crate::header::Event;
use crate::layout::keys;
use crate::ledger::{IndexVisitor, Ledger};
use crate::reads::{decode_event, LogReader};
use crate::storage::Store;

impl Ledger {
    /// Events whose subject is exactly `subject`, from the covering index, in seq order.
    pub fn events_with_subject(&self, subject: &str) -> Result<Vec<Event>> {
        self.reader().index_events(subject, true)
    }

    /// Events whose subject starts with `prefix`, from the covering index, in seq order.
    /// Its cost grows with the answer, not with the log.
    pub fn events_with_subject_prefix(&self, prefix: &str) -> Result<Vec<Event>> {
        self.reader().index_events(prefix, false)
    }

    /// The log groups (`group_of`: a plan, a challenge …) whose name starts with
    /// `prefix` and that hold events: one seek per group in each part of the index,
    /// whatever the size of the log.
    pub fn groups_with_prefix(&self, prefix: &str) -> Result<BTreeSet<String>> {
        let mut groups = BTreeSet::new();
        for part in 0..keys::INDEX_PARTS {
            let (mut start, end) = keys::group_range(part, prefix.as_bytes(), false);
            loop {
                let mut first = None;
                self.store.scan(&start, &end, &mut |key, _| {
                    first = Some(key.to_vec());
                    Ok(false)
                })?;
                let Some(key) = first else { break };
                // `s ‖ part ‖ group ‖ 0x00 ‖ first seq`
                let name = key
                    .get(2..)
                    .and_then(|rest| rest.split(|&b| b == 0).next())
                    .and_then(|name| std::str::from_utf8(name).ok())
                    .ok_or_else(|| Error::corruption(None, "a stored index key is malformed"))?;
                start = key[..2 + name.len()].to_vec();
                start.push(1);
                groups.insert(name.to_owned());
            }
        }
        Ok(groups)
    }

    /// Every copy in one part of the covering subject index, for `verify`.
    pub(crate) fn scan_index_part(&self, part: u8, visit: &mut IndexVisitor<'_>) -> Result<()> {
        let (start, end) = keys::group_range(part, b"", false);
        self.reader().scan_index_range(&start, &end, visit)
    }

    /// Seqs of every event whose subject is `prefix` or starts with it, ascending.
    pub fn seqs_with_subject_prefix(&self, prefix: &str) -> Result<Vec<u64>> {
        self.reader().seqs_with_subject_prefix(prefix)
    }

    /// Seqs of every event whose subject is exactly `subject`, ascending.
    pub fn seqs_with_subject(&self, subject: &str) -> Result<Vec<u64>> {
        self.reader().index_seqs(subject, true)
    }

    /// The distinct subjects that start with `prefix`, sorted.
    pub fn subjects_with_prefix(&self, prefix: &str) -> Result<Vec<String>> {
        let mut subjects = std::collections::BTreeSet::new();
        self.reader()
            .scan_subjects(prefix, false, &mut |subject, _, _| {
                if !subjects.contains(subject) {
                    subjects.insert(subject.to_vec());
                }
                Ok(true)
            })?;
        Ok(subjects
            .into_iter()
            .map(|s| String::from_utf8_lossy(&s).into_owned())
            .collect())
    }

    /// The index chunk holding the copy of `seq`, filed under `subject`'s group.
    pub(crate) fn index_chunk_containing(
        &self,
        subject: &str,
        seq: u64,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>, usize)> {
        let group = keys::group_of(subject);
        for part in 0..keys::INDEX_PARTS {
            let (start, end) = keys::group_range(part, group.as_bytes(), true);
            let mut found = None;
            self.store.scan(&start, &end, &mut |key, chunk| {
                let mut records = Vec::new();
                let mut at = None;
                for record in codec::chunk_records(chunk) {
                    let record = record.map_err(|why| Error::corruption(Some(seq), why))?;
                    let parts = codec::split_record(record)
                        .map_err(|why| Error::corruption(Some(seq), why))?;
                    if codec::decode_header_ref(parts.leaf).map(|h| h.seq) == Ok(seq) {
                        at = Some(records.len());
                    }
                    records.push(record.to_vec());
                }
                if let Some(at) = at {
                    found = Some((key.to_vec(), records, at));
                    return Ok(false);
                }
                Ok(true)
            })?;
            if let Some(found) = found {
                return Ok(found);
            }
        }
        Err(Error::corruption(
            Some(seq),
            "the event is missing from the subject index",
        ))
    }
}

impl LogReader {
    /// Seqs of every event whose subject is `prefix` or starts with it, ascending.
    pub fn seqs_with_subject_prefix(&self, prefix: &str) -> Result<Vec<u64>> {
        self.index_seqs(prefix, false)
    }

    /// The events of one log group (`group_of`: a plan with its actions, or a
    /// challenge), from the covering index, in seq order: that group's keys only,
    /// not those of every group whose name starts with it.
    pub fn events_in_group(&self, group: &str) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        for part in 0..keys::INDEX_PARTS {
            let (start, end) = keys::group_range(part, group.as_bytes(), true);
            self.scan_index_range(&start, &end, &mut |_, seq, record| {
                events.push(decode_event(seq, record)?);
                Ok(true)
            })?;
        }
        events.sort_unstable_by_key(|e| e.header.seq);
        Ok(events)
    }

    pub(crate) fn index_events(&self, subject: &str, exact: bool) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        self.scan_subjects(subject, exact, &mut |_, seq, record| {
            events.push(decode_event(seq, record)?);
            Ok(true)
        })?;
        events.sort_unstable_by_key(|e| e.header.seq);
        Ok(events)
    }

    /// Visits the index copies of `subject` (or of every subject starting with it).
    pub(crate) fn scan_subjects(
        &self,
        subject: &str,
        exact: bool,
        visit: &mut IndexVisitor<'_>,
    ) -> Result<()> {
        // A query that names a whole group reads that group only; a shorter prefix
        // ("plan/") reads every group that starts with it.
        let group = keys::group_of(subject);
        let (groups, exact_group) = if exact || subject.len() > group.len() {
            (group, true)
        } else {
            (subject, false)
        };
        let wanted = |s: &[u8]| {
            if exact {
                s == subject.as_bytes()
            } else {
                s.starts_with(subject.as_bytes())
            }
        };
        for part in 0..keys::INDEX_PARTS {
            let (start, end) = keys::group_range(part, groups.as_bytes(), exact_group);
            self.scan_index_range(&start, &end, &mut |s, seq, record| {
                if wanted(s) {
                    visit(s, seq, record)
                } else {
                    Ok(true)
                }
            })?;
        }
        Ok(())
    }

    pub(crate) fn index_seqs(&self, subject: &str, exact: bool) -> Result<Vec<u64>> {
        let mut seqs = Vec::new();
        self.scan_subjects(subject, exact, &mut |_, seq, _| {
            seqs.push(seq);
            Ok(true)
        })?;
        seqs.sort_unstable();
        Ok(seqs)
    }

    /// Visits each record copy in the index chunks of a key range, with its subject
    /// and seq read from its header. A copy filed under the wrong group is damage.
    pub(crate) fn scan_index_range(
        &self,
        start: &[u8],
        end: &[u8],
        visit: &mut IndexVisitor<'_>,
    ) -> Result<()> {
        self.store.scan(start, end, &mut |key, chunk| {
            let malformed = || Error::corruption(None, "a subject index key is malformed");
            let group = key
                .get(2..key.len().saturating_sub(9))
                .ok_or_else(malformed)?;
            if key.get(key.len().saturating_sub(9)) != Some(&0) {
                return Err(malformed());
            }
            for record in codec::chunk_records(chunk) {
                let damaged =
                    |why: String| Error::corruption(None, format!("subject index: {why}"));
                let record = record.map_err(damaged)?;
                let parts = codec::split_record(record).map_err(damaged)?;
                let header = codec::decode_header_ref(parts.leaf).map_err(damaged)?;
                if keys::group_of(header.subject).as_bytes() != group {
                    return Err(Error::corruption(
                        Some(header.seq),
                        "the subject index files this event under another plan or challenge",
                    ));
                }
                if !visit(header.subject.as_bytes(), header.seq, record)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }
}
