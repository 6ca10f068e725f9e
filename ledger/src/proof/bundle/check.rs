//! `verify_bundle`: the whole check an auditor's own tool makes of an export bundle —
//! every line, link, payload, proof, receipt and evidence file, against a checkpoint
//! signed by a key the caller trusts. Reads the bundle's files, never a ledger.

use std::collections::BTreeMap;
use std::fs::{self};
use std::path::Path;

use crate::checkpoint::{SignedCheckpoint, TlogProof};
use crate::codec::decode_payload;
use crate::error::Result;
use crate::header::{payload_hash, GENESIS_PREV};
use crate::hex::{hex, parse_hash as parse_hex};
use crate::merkle::{self, Frontier};
use crate::note::VerifierKey;
use crate::proof::redaction::{Redaction, REDACTION_KIND};
use crate::Hash;

use super::*;

/// Checks a bundle against `trusted` keys; see the module docs and FORMAT v1 §4.
pub fn verify_bundle(dir: &Path, trusted: &[VerifierKey]) -> BundleReport {
    let mut report = BundleReport {
        ok: false,
        excerpt: false,
        events: 0,
        size: 0,
        root: String::new(),
        signers: Vec::new(),
        first_bad_seq: None,
        problem: None,
        redacted: Vec::new(),
    };
    match check(dir, trusted, &mut report) {
        Ok(()) => report.ok = true,
        Err(Problem { seq, what }) => {
            report.first_bad_seq = seq;
            report.problem = Some(what);
        }
    }
    report
}

struct Problem {
    seq: Option<u64>,
    what: String,
}

fn fail<T>(seq: Option<u64>, what: impl Into<String>) -> Result<T, Problem> {
    Err(Problem {
        seq,
        what: what.into(),
    })
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, Problem> {
    fs::read(dir.join(name)).or_else(|e| fail(None, format!("{name}: cannot be read: {e}")))
}

fn check(dir: &Path, trusted: &[VerifierKey], report: &mut BundleReport) -> Result<(), Problem> {
    // 1. The checkpoint: root and size come only from here, once it verified.
    let signed = SignedCheckpoint::parse(&read(dir, CHECKPOINT_FILE)?)
        .or_else(|e| fail(None, format!("{CHECKPOINT_FILE}: {e}")))?;
    let verified = signed
        .verify(trusted)
        .or_else(|e| fail(None, format!("{CHECKPOINT_FILE}: {e}")))?;
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    report.size = size;
    report.root = hex(&root);
    report.signers = verified.signers.iter().map(|s| s.described()).collect();

    // 2 and 3. The events, read line by line so a bundle of any size fits in memory.
    // A first pass finds the redactions (they come after the events they name).
    let redactions = redaction_targets(dir)?;
    let mut lines = EventLines::open(dir)?;
    let mut frontier = Frontier::new();
    let mut previous: Option<(u64, Hash, i64)> = None;
    let mut count = 0u64;
    while let Some((i, line)) = lines.next_line()? {
        let parsed = parse_line(&line);
        if i == 0 {
            report.excerpt = matches!(&parsed, Ok(p) if p.proof.is_some());
        }
        let line = &parsed;
        count += 1;
        let line_no = i + 1;
        let expected_seq = i as u64;
        let at = |seq: u64| format!("{EVENTS_FILE} line {line_no} (seq {seq})");
        let event = match line {
            Ok(event) => event,
            Err(why) if report.excerpt => {
                return fail(None, format!("{EVENTS_FILE} line {line_no}: {why}"))
            }
            Err(why) => return fail(Some(expected_seq), format!("{}: {why}", at(expected_seq))),
        };
        let seq = event.header.seq;
        if seq >= size {
            return fail(
                Some(seq),
                format!("{}: beyond the checkpoint's tree size {size}", at(seq)),
            );
        }
        if report.excerpt {
            let Some(proof) = &event.proof else {
                return fail(
                    Some(seq),
                    format!("{}: no inclusion proof in an excerpt", at(seq)),
                );
            };
            if event.index != Some(seq) {
                return fail(Some(seq), format!("{}: `index` must equal seq", at(seq)));
            }
            if let Some((prev_seq, _, _)) = previous {
                if seq <= prev_seq {
                    return fail(
                        Some(seq),
                        format!("{}: seqs must increase; it follows seq {prev_seq}", at(seq)),
                    );
                }
            }
            check_links(event, previous, &at)?;
            check_event(event, &redactions, &at, report)?;
            if let Err(e) =
                merkle::verify_inclusion(seq, size, &merkle::leaf_hash(&event.hash), proof, &root)
            {
                return fail(Some(seq), format!("{}: inclusion proof: {e}", at(seq)));
            }
            check_receipt(dir, event, trusted, &at)?;
        } else {
            if event.proof.is_some() {
                return fail(Some(seq), format!("{}: a proof in a full bundle", at(seq)));
            }
            if seq != expected_seq {
                return fail(
                    Some(expected_seq),
                    format!("{EVENTS_FILE} line {line_no}: seq {seq} where seq {expected_seq} belongs (a missing, extra or reordered event)"),
                );
            }
            check_links(event, previous, &at)?;
            check_event(event, &redactions, &at, report)?;
            if let Err(e) = frontier.push(event.hash) {
                return fail(Some(seq), format!("{}: {e}", at(seq)));
            }
        }
        previous = Some((seq, event.hash, event.header.recorded_at));
        report.events += 1;
    }
    if !report.excerpt {
        let n = count;
        if n != size {
            return fail(
                Some(n),
                format!("{EVENTS_FILE} holds {n} events but the checkpoint's tree size is {size}"),
            );
        }
        if frontier.root() != root {
            return fail(
                None,
                format!(
                    "the Merkle root of {EVENTS_FILE} is {}, but the checkpoint's root is {}",
                    hex(&frontier.root()),
                    hex(&root)
                ),
            );
        }
    }

    // 4. Evidence files.
    check_blobs(&dir.join(BLOBS_DIR))?;

    // 5. The keys file: informational, but it must be well formed.
    let keys = read(dir, KEYS_FILE)?;
    let keys =
        String::from_utf8(keys).or_else(|_| fail(None, format!("{KEYS_FILE}: not UTF-8")))?;
    for (i, line) in keys.lines().enumerate() {
        if let Err(e) = VerifierKey::parse(line) {
            return fail(None, format!("{KEYS_FILE} line {}: {e}", i + 1));
        }
    }
    Ok(())
}

/// Seq → redaction event seq, from `ledger.redacted` events whose own hash and
/// payload check out (they are authenticated later with the rest of the bundle).
fn redaction_targets(dir: &Path) -> Result<BTreeMap<u64, u64>, Problem> {
    let mut targets = BTreeMap::new();
    let mut lines = EventLines::open(dir)?;
    while let Some((_, line)) = lines.next_line()? {
        // Only redaction lines matter here; the full parse is left to the main pass.
        if !line.contains(REDACTION_KIND) {
            continue;
        }
        let Ok(event) = parse_line(&line) else {
            continue;
        };
        let h = &event.header;
        let Some(body) = &event.body else { continue };
        if h.kind != REDACTION_KIND
            || h.event_hash() != event.hash
            || payload_hash(&body.salt, &body.payload) != h.payload_hash
        {
            continue;
        }
        if let Ok(redaction) = decode_payload::<Redaction>(&body.payload) {
            if redaction.target_seq < h.seq {
                targets.entry(redaction.target_seq).or_insert(h.seq);
            }
        }
    }
    Ok(targets)
}

/// `events.jsonl`, one line at a time, with the checks every reader needs: UTF-8, and
/// a final newline (a file cut short is reported, not half-read).
struct EventLines {
    reader: std::io::BufReader<fs::File>,
    index: usize,
    buffer: Vec<u8>,
}

impl EventLines {
    fn open(dir: &Path) -> Result<EventLines, Problem> {
        let file = fs::File::open(dir.join(EVENTS_FILE))
            .or_else(|e| fail(None, format!("{EVENTS_FILE}: cannot be read: {e}")))?;
        Ok(EventLines {
            reader: std::io::BufReader::new(file),
            index: 0,
            buffer: Vec::new(),
        })
    }

    /// The next line (without its newline) and its 0-based index.
    fn next_line(&mut self) -> Result<Option<(usize, String)>, Problem> {
        use std::io::BufRead;
        self.buffer.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .or_else(|e| fail(None, format!("{EVENTS_FILE}: cannot be read: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        let line_no = self.index + 1;
        if self.buffer.pop() != Some(b'\n') {
            return fail(
                None,
                format!("{EVENTS_FILE} line {line_no}: the file does not end with a newline (truncated?)"),
            );
        }
        let text = String::from_utf8(std::mem::take(&mut self.buffer)).or_else(|e| {
            fail(
                None,
                format!("{EVENTS_FILE} line {line_no}: not UTF-8 ({e})"),
            )
        })?;
        let index = self.index;
        self.index += 1;
        Ok(Some((index, text)))
    }
}

fn check_links(
    event: &Parsed,
    previous: Option<(u64, Hash, i64)>,
    at: &dyn Fn(u64) -> String,
) -> Result<(), Problem> {
    let seq = event.header.seq;
    let expected_prev = match previous {
        None if seq == 0 => Some(GENESIS_PREV),
        Some((prev_seq, prev_hash, _)) if prev_seq + 1 == seq => Some(prev_hash),
        _ => None,
    };
    if let Some(expected) = expected_prev {
        if event.header.prev != expected {
            return fail(
                Some(seq),
                format!(
                    "{}: `prev` is not the hash of the event before it; the chain is broken",
                    at(seq)
                ),
            );
        }
    }
    if let Some((_, _, prev_time)) = previous {
        if event.header.recorded_at < prev_time {
            return fail(
                Some(seq),
                format!("{}: recorded_at goes back in time", at(seq)),
            );
        }
    }
    Ok(())
}

fn check_event(
    event: &Parsed,
    redactions: &BTreeMap<u64, u64>,
    at: &dyn Fn(u64) -> String,
    report: &mut BundleReport,
) -> Result<(), Problem> {
    let h = &event.header;
    let seq = h.seq;
    if h.event_hash() != event.hash {
        return fail(
            Some(seq),
            format!(
                "{}: BLAKE3 of the header fields is not `hash`; a field was changed",
                at(seq)
            ),
        );
    }
    if format_recorded_at(h.recorded_at).as_deref() != Some(event.recorded_at_text.as_str()) {
        return fail(
            Some(seq),
            format!(
                "{}: `recorded_at` disagrees with `recorded_at_micros`",
                at(seq)
            ),
        );
    }
    match &event.body {
        Some(body) => {
            if payload_hash(&body.salt, &body.payload) != h.payload_hash {
                return fail(Some(seq), format!("{}: BLAKE3(salt ‖ payload) is not `payload_hash`; the payload was changed", at(seq)));
            }
        }
        None => match redactions.get(&seq) {
            Some(_) => report.redacted.push(seq),
            None => {
                return fail(Some(seq), format!("{}: the payload is missing and no `{REDACTION_KIND}` event in the bundle names this seq", at(seq)))
            }
        },
    }
    Ok(())
}

/// An excerpt's per-event receipt must exist and verify on its own.
fn check_receipt(
    dir: &Path,
    event: &Parsed,
    trusted: &[VerifierKey],
    at: &dyn Fn(u64) -> String,
) -> Result<(), Problem> {
    let seq = event.header.seq;
    let name = format!("{PROOFS_DIR}/{seq}.tlog-proof");
    let bytes = fs::read(dir.join(&name))
        .or_else(|e| fail(Some(seq), format!("{}: {name}: {e}", at(seq))))?;
    let receipt = TlogProof::parse(&bytes).or_else(|e| fail(Some(seq), format!("{name}: {e}")))?;
    if receipt.index != seq {
        return fail(
            Some(seq),
            format!("{name}: index {} is not seq {seq}", receipt.index),
        );
    }
    receipt
        .verify(&event.hash, trusted)
        .map(|_| ())
        .or_else(|e| fail(Some(seq), format!("{name}: {e}")))
}

fn check_blobs(blob_dir: &Path) -> Result<(), Problem> {
    let entries = match fs::read_dir(blob_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return fail(None, format!("{BLOBS_DIR}/: {e}")),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.or_else(|e| fail(None, format!("{BLOBS_DIR}/: {e}")))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    for name in names {
        let Some(expected) = parse_hex(&name) else {
            return fail(
                None,
                format!("{BLOBS_DIR}/{name}: the name is not 64 lower-case hex digits"),
            );
        };
        let bytes = fs::read(blob_dir.join(&name))
            .or_else(|e| fail(None, format!("{BLOBS_DIR}/{name}: {e}")))?;
        if *blake3::hash(&bytes).as_bytes() != expected {
            return fail(
                None,
                format!("{BLOBS_DIR}/{name}: BLAKE3 of its bytes does not match its name"),
            );
        }
    }
    Ok(())
}
