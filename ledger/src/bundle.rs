//! Export bundles (FORMAT v1 §4): a folder an outside auditor can check with nothing
//! but BLAKE3, SHA-256, Ed25519 and the keys they trust.
//!
//! `write_bundle` builds the whole folder under a temporary sibling name, checks it
//! with `verify_bundle`, and only then renames it into place, so a half-written or
//! self-inconsistent bundle never appears under the requested name. `verify_bundle`
//! fails closed and reports the first problem, with the seq or file line concerned.
//!
//! This module never trusts a key because a bundle names it: the `keys` file is
//! informational, trust comes only from the caller. It never panics on any input.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::blobs::{blake3_of, hex, parse_hex};
use crate::checkpoint::{SignedCheckpoint, TlogProof};
use crate::codec::decode_payload;
use crate::error::{Error, Result};
use crate::faults::{self, Op};
use crate::header::{payload_hash, EventHeader, SaltedPayload, GENESIS_PREV};
use crate::merkle::{self, Frontier};
use crate::note::VerifierKey;
use crate::redaction::{Redaction, REDACTION_KIND};
use crate::storage::sync_dir;
use crate::Hash;

/// The file names of a bundle (FORMAT v1 §4).
pub const EVENTS_FILE: &str = "events.jsonl";
pub const CHECKPOINT_FILE: &str = "checkpoint";
pub const KEYS_FILE: &str = "keys";
pub const BLOBS_DIR: &str = "blobs";
pub const PROOFS_DIR: &str = "proofs";
pub const README_FILE: &str = "README.txt";

/// One event to export, with what a person needs to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleEvent {
    pub header: EventHeader,
    /// Salt and payload, or `None` when redacted or withheld.
    pub body: Option<SaltedPayload>,
    /// The decoded payload as JSON, for people; supplied by the caller, never verified.
    pub body_json: Option<serde_json::Value>,
    /// Excerpts only: the RFC 9162 inclusion proof of this event in the checkpoint's
    /// tree, leaf sibling first.
    pub proof: Option<Vec<Hash>>,
}

/// The outcome of checking a bundle. A failed check is a value, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleReport {
    /// True only if every check passed.
    pub ok: bool,
    /// True if the bundle is an excerpt (events carry inclusion proofs).
    pub excerpt: bool,
    /// Number of events checked (lines of `events.jsonl` read before any failure).
    pub events: u64,
    /// Tree size of the verified checkpoint (0 until it verified).
    pub size: u64,
    /// Lower-case hex root of the verified checkpoint (empty until it verified).
    pub root: String,
    /// Names of the trusted keys whose signatures on the checkpoint verified.
    pub signers: Vec<String>,
    /// The seq of the first problem, where one seq is concerned.
    pub first_bad_seq: Option<u64>,
    /// The first problem, saying which file, line and seq.
    pub problem: Option<String>,
    /// Seqs whose payload is absent under a `ledger.redacted` event in the bundle:
    /// their headers are checked, their contents cannot be.
    pub redacted: Vec<u64>,
}

/// One line of `events.jsonl`, as written.
#[derive(Serialize)]
struct LineOut<'a> {
    seq: u64,
    prev: String,
    hash: String,
    recorded_at: String,
    recorded_at_micros: i64,
    effective: String,
    actor: &'a str,
    subject: &'a str,
    kind: &'a str,
    payload_schema: u16,
    payload_hash: String,
    salt: Option<String>,
    payload: Option<String>,
    body: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proof: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
}

/// One line of `events.jsonl`, as read. Unknown fields (such as `body`) are ignored.
#[derive(Deserialize)]
struct LineIn {
    seq: u64,
    prev: String,
    hash: String,
    recorded_at: String,
    recorded_at_micros: i64,
    effective: String,
    actor: String,
    subject: String,
    kind: String,
    payload_schema: u16,
    payload_hash: String,
    #[serde(default)]
    salt: Option<String>,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    proof: Option<Vec<String>>,
    #[serde(default)]
    index: Option<u64>,
}

/// A line decoded into binary fields, not yet checked against anything.
struct Parsed {
    header: EventHeader,
    hash: Hash,
    recorded_at_text: String,
    body: Option<SaltedPayload>,
    proof: Option<Vec<Hash>>,
    index: Option<u64>,
}

/// RFC 3339 UTC with exactly six fractional digits, e.g. `2024-03-01T10:00:00.000123Z`.
pub fn format_recorded_at(micros: i64) -> Option<String> {
    DateTime::from_timestamp_micros(micros).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

fn epoch() -> NaiveDate {
    DateTime::UNIX_EPOCH.date_naive()
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn format_effective(days: i32) -> Option<String> {
    let date = epoch().checked_add_signed(TimeDelta::try_days(days.into())?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date written in canonical form.
pub fn parse_effective(text: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let days = i32::try_from((date - epoch()).num_days()).ok()?;
    (format_effective(days).as_deref() == Some(text)).then_some(days)
}

fn salt_hex(salt: &[u8; 16]) -> String {
    salt.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_salt_hex(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn parse_line(text: &str) -> Result<Parsed, String> {
    let line: LineIn = serde_json::from_str(text).map_err(|e| format!("not a valid event: {e}"))?;
    let hash_field = |name: &str, value: &str| {
        parse_hex(value).ok_or_else(|| format!("`{name}` is not 64 lower-case hex digits"))
    };
    let effective = parse_effective(&line.effective)
        .ok_or_else(|| format!("`effective` {:?} is not a YYYY-MM-DD date", line.effective))?;
    let header = EventHeader {
        seq: line.seq,
        prev: hash_field("prev", &line.prev)?,
        recorded_at: line.recorded_at_micros,
        effective,
        actor: line.actor,
        subject: line.subject,
        kind: line.kind,
        payload_schema: line.payload_schema,
        payload_hash: hash_field("payload_hash", &line.payload_hash)?,
    };
    let body = match (line.salt, line.payload) {
        (None, None) => None,
        (Some(salt), Some(payload)) => Some(SaltedPayload {
            salt: parse_salt_hex(&salt).ok_or("`salt` is not 32 lower-case hex digits")?,
            payload: STANDARD
                .decode(payload)
                .map_err(|_| "`payload` is not standard base64")?,
        }),
        _ => return Err("`salt` and `payload` must both be present or both null".into()),
    };
    let proof = match line.proof {
        None => None,
        Some(hashes) => Some(
            hashes
                .iter()
                .map(|h| {
                    STANDARD
                        .decode(h)
                        .ok()
                        .and_then(|b| merkle::hash_from_slice("proof hash", &b).ok())
                        .ok_or("a `proof` entry is not the standard base64 of 32 bytes")
                })
                .collect::<Result<Vec<Hash>, _>>()?,
        ),
    };
    Ok(Parsed {
        header,
        hash: hash_field("hash", &line.hash)?,
        recorded_at_text: line.recorded_at,
        body,
        proof,
        index: line.index,
    })
}

/// Writes a bundle into `dir`, which must not exist or be empty. For an excerpt every
/// event needs its inclusion proof; for a full bundle the events must be seqs
/// `0..checkpoint size`. `keys` are the verifier keys that signed the checkpoint; the
/// finished bundle must verify against them before it is moved into place.
pub fn write_bundle(
    dir: &Path,
    events: &[BundleEvent],
    excerpt: bool,
    checkpoint: &SignedCheckpoint,
    keys: &[VerifierKey],
    blobs: &[Vec<u8>],
) -> Result<()> {
    let dir_exists = match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::AlreadyExists {
                    path: dir.to_path_buf(),
                    why: "the export folder is not empty; choose a new folder".into(),
                });
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(format!("opening {}", dir.display()), e)),
    };
    let name = dir
        .file_name()
        .ok_or_else(|| Error::Rejected(format!("{}: not a folder name", dir.display())))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = parent.join(format!(
        ".{}.tmp-{}-{nanos}",
        name.to_string_lossy(),
        std::process::id()
    ));
    fs::create_dir(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
    let built = fill_bundle(&tmp, events, excerpt, checkpoint, keys, blobs).and_then(|()| {
        let report = verify_bundle(&tmp, keys);
        if report.ok && report.excerpt == excerpt {
            Ok(())
        } else {
            Err(Error::Rejected(format!(
                "the bundle would not verify, so it was not written: {}",
                report
                    .problem
                    .as_deref()
                    .unwrap_or("it is not of the requested kind")
            )))
        }
    });
    let placed = built.and_then(|()| {
        if dir_exists {
            fs::remove_dir(dir)
                .map_err(|e| Error::io(format!("replacing {}", dir.display()), e))?;
        }
        faults::io(Op::Rename, "export folder", || fs::rename(&tmp, dir))
            .map_err(|e| Error::io(format!("moving the bundle to {}", dir.display()), e))?;
        sync_dir(&parent)
    });
    if placed.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    placed
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = format!("export {}", path.display());
    faults::io(Op::Create, &target, || File::create(path))
        .and_then(|mut f| {
            faults::io(Op::Write, &target, || f.write_all(bytes))
                .and_then(|()| faults::io(Op::Fsync, &target, || f.sync_all()))
        })
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

fn fill_bundle(
    dir: &Path,
    events: &[BundleEvent],
    excerpt: bool,
    checkpoint: &SignedCheckpoint,
    keys: &[VerifierKey],
    blobs: &[Vec<u8>],
) -> Result<()> {
    let mut jsonl = String::new();
    for event in events {
        let h = &event.header;
        let bad = |what: &str| Error::Rejected(format!("event seq {}: {what}", h.seq));
        let proof = match (excerpt, &event.proof) {
            (true, Some(proof)) => Some(proof.iter().map(|p| STANDARD.encode(p)).collect()),
            (true, None) => return Err(bad("an excerpt needs an inclusion proof for every event")),
            (false, _) => None,
        };
        let line = LineOut {
            seq: h.seq,
            prev: hex(&h.prev),
            hash: hex(&h.event_hash()),
            recorded_at: format_recorded_at(h.recorded_at)
                .ok_or_else(|| bad("recorded_at is out of the representable range"))?,
            recorded_at_micros: h.recorded_at,
            effective: format_effective(h.effective)
                .ok_or_else(|| bad("effective is out of the representable range"))?,
            actor: &h.actor,
            subject: &h.subject,
            kind: &h.kind,
            payload_schema: h.payload_schema,
            payload_hash: hex(&h.payload_hash),
            salt: event.body.as_ref().map(|b| salt_hex(&b.salt)),
            payload: event.body.as_ref().map(|b| STANDARD.encode(&b.payload)),
            body: event.body_json.as_ref(),
            index: excerpt.then_some(h.seq),
            proof,
        };
        let text = serde_json::to_string(&line).map_err(|e| bad(&e.to_string()))?;
        jsonl.push_str(&text);
        jsonl.push('\n');
    }
    write_file(&dir.join(EVENTS_FILE), jsonl.as_bytes())?;
    write_file(
        &dir.join(CHECKPOINT_FILE),
        checkpoint.to_string().as_bytes(),
    )?;
    let keys_text: String = keys.iter().map(|k| k.to_vkey_string() + "\n").collect();
    write_file(&dir.join(KEYS_FILE), keys_text.as_bytes())?;
    let blob_dir = dir.join(BLOBS_DIR);
    fs::create_dir(&blob_dir).map_err(|e| Error::io("creating blobs/", e))?;
    for blob in blobs {
        write_file(&blob_dir.join(hex(&blake3_of(blob))), blob)?;
    }
    sync_dir(&blob_dir)?;
    if excerpt {
        let proof_dir = dir.join(PROOFS_DIR);
        fs::create_dir(&proof_dir).map_err(|e| Error::io("creating proofs/", e))?;
        for event in events {
            let receipt = TlogProof {
                index: event.header.seq,
                extra: None,
                proof: event.proof.clone().unwrap_or_default(),
                checkpoint: checkpoint.note().clone(),
            };
            let path = proof_dir.join(format!("{}.tlog-proof", event.header.seq));
            write_file(&path, receipt.to_string().as_bytes())?;
        }
        sync_dir(&proof_dir)?;
    }
    write_file(
        &dir.join(README_FILE),
        readme(checkpoint, excerpt).as_bytes(),
    )?;
    sync_dir(dir)
}

fn readme(checkpoint: &SignedCheckpoint, excerpt: bool) -> String {
    let cp = checkpoint.unverified_checkpoint();
    let what = if excerpt {
        "an EXCERPT: selected events, each with an RFC 9162 inclusion proof (field `proof`, \
         and a receipt in proofs/<seq>.tlog-proof)"
    } else {
        "the FULL log: every event from seq 0"
    };
    format!(
        "Assure ledger export (format v1)\n\
         ================================\n\n\
         Log: {origin}\nTree size: {size}\nRoot (hex): {root}\n\
         This bundle is {what}.\n\n\
         Files\n  events.jsonl  one event per line, in seq order\n  \
         checkpoint    the signed checkpoint (C2SP tlog-checkpoint in a signed note)\n  \
         keys          the verifier keys that signed it (decide yourself which to trust)\n  \
         blobs/        evidence files, each named by the BLAKE3 hex of its bytes\n\n\
         Verify with the tool, naming a key you obtained independently:\n\n    \
         assure verify --bundle DIR --trust 'name+keyid+base64key'\n\n\
         Verify by hand (full steps in docs/AUDITING.md):\n\
         1. Check the checkpoint's Ed25519 signature with a key you trust.\n\
         2. For each line, rebuild leaf_bytes = 0x01 | seq u64le | prev | recorded_at_micros i64le |\n   \
         effective days i32le | actor, subject, kind (u32le length + UTF-8) | payload_schema u16le |\n   \
         payload_hash, and check BLAKE3(leaf_bytes) == hash and prev == the previous line's hash.\n\
         3. Check BLAKE3(salt | payload) == payload_hash where the payload is present; where it is\n   \
         null a `ledger.redacted` event in the bundle must name that seq.\n\
         4. Rebuild the RFC 9162 SHA-256 Merkle root over leaves SHA-256(0x00 | hash) (full bundle),\n   \
         or check each event's inclusion proof (excerpt), against the checkpoint's size and root.\n\
         5. Check BLAKE3 of every file in blobs/ equals its name.\n",
        origin = cp.origin,
        size = cp.size,
        root = hex(&cp.root),
    )
}

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
    report.signers = verified.signers.iter().map(|s| s.name.clone()).collect();

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
        if blake3_of(&bytes) != expected {
            return fail(
                None,
                format!("{BLOBS_DIR}/{name}: BLAKE3 of its bytes does not match its name"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::codec::encode_payload;
    use crate::merkle::{inclusion_proof, MemNodes};
    use crate::note::SigningKey;
    use serde_json::Value;

    const ORIGIN: &str = "test-ledger";
    const T0: i64 = 1_709_287_200_000_123; // 2024-03-01T10:00:00.000123Z

    /// A hand-made log of `n` events; if `redact` is set, the event it names has no
    /// body and the last event is the `ledger.redacted` event that authorises that.
    struct Log {
        events: Vec<BundleEvent>,
        nodes: MemNodes,
        key: SigningKey,
        signed: SignedCheckpoint,
    }

    fn log(n: u64, redact: Option<u64>) -> Log {
        let mut events = Vec::new();
        let mut nodes = MemNodes::new();
        let mut prev = GENESIS_PREV;
        for seq in 0..n {
            let (kind, payload) = match redact {
                Some(target) if seq == n - 1 => (
                    REDACTION_KIND,
                    encode_payload(&Redaction {
                        target_seq: target,
                        reason: "erasure request E-1".into(),
                        authorised_by: "dpo".into(),
                    })
                    .unwrap(),
                ),
                _ => (
                    "action.status_changed",
                    encode_payload(&format!("body {seq}")).unwrap(),
                ),
            };
            let salt = [seq as u8 ^ 0x5a; 16];
            let header = EventHeader {
                seq,
                prev,
                recorded_at: T0 + seq as i64 * 1_000_000,
                effective: 19_783 + seq as i32,
                actor: "sam".into(),
                subject: format!("plan/p/action/1.{seq}"),
                kind: kind.into(),
                payload_schema: 1,
                payload_hash: payload_hash(&salt, &payload),
            };
            prev = header.event_hash();
            nodes.push(prev).unwrap();
            let body = (redact != Some(seq)).then_some(SaltedPayload { salt, payload });
            let body_json = Some(serde_json::json!({ "note": format!("body {seq}") }));
            events.push(BundleEvent {
                header,
                body,
                body_json,
                proof: None,
            });
        }
        let key = SigningKey::generate(ORIGIN).unwrap();
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size: n,
            root: nodes.root(),
            extensions: vec![],
        };
        let signed = SignedCheckpoint::sign(&checkpoint, &[&key]).unwrap();
        Log {
            events,
            nodes,
            key,
            signed,
        }
    }

    fn write_full(log: &Log) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        write_bundle(
            &dir,
            &log.events,
            false,
            &log.signed,
            &[log.key.verifier()],
            &[b"evidence".to_vec()],
        )
        .unwrap();
        (tmp, dir)
    }

    fn excerpt_of(log: &Log, seqs: &[u64]) -> Vec<BundleEvent> {
        let size = log.nodes.size();
        seqs.iter()
            .map(|&s| {
                let mut e = log.events[s as usize].clone();
                e.proof = Some(inclusion_proof(s, size, &log.nodes).unwrap());
                e
            })
            .collect()
    }

    fn verify(log: &Log, dir: &Path) -> BundleReport {
        verify_bundle(dir, &[log.key.verifier()])
    }

    fn read_lines(dir: &Path) -> Vec<Value> {
        fs::read_to_string(dir.join(EVENTS_FILE))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn write_lines(dir: &Path, lines: &[Value]) {
        let text: String = lines.iter().map(|v| v.to_string() + "\n").collect();
        fs::write(dir.join(EVENTS_FILE), text).unwrap();
    }

    /// Renumbers seqs and recomputes every `prev` and `hash`, as a forger would.
    fn rehash(lines: &mut [Value]) -> Vec<Hash> {
        let mut prev = GENESIS_PREV;
        let mut hashes = Vec::new();
        for (i, line) in lines.iter_mut().enumerate() {
            line["seq"] = Value::from(i as u64);
            line["prev"] = Value::from(hex(&prev));
            let header = parse_line(&line.to_string()).ok().unwrap().header;
            prev = header.event_hash();
            line["hash"] = Value::from(hex(&prev));
            hashes.push(prev);
        }
        hashes
    }

    fn root_of(hashes: &[Hash]) -> Hash {
        let mut frontier = Frontier::new();
        for h in hashes {
            frontier.push(*h).unwrap();
        }
        frontier.root()
    }

    /// Applies `tamper` to a fresh copy of a 6-event bundle and returns the report.
    fn tampered(tamper: impl FnOnce(&Log, &Path, &mut Vec<Value>)) -> BundleReport {
        let log = log(6, None);
        let (_tmp, dir) = write_full(&log);
        let mut lines = read_lines(&dir);
        tamper(&log, &dir, &mut lines);
        let report = verify(&log, &dir);
        assert!(!report.ok, "tampering went unnoticed: {report:?}");
        assert!(report.problem.is_some());
        report
    }

    #[test]
    fn dates_are_written_as_the_format_says() {
        assert_eq!(
            format_recorded_at(T0).unwrap(),
            "2024-03-01T10:00:00.000123Z"
        );
        assert_eq!(format_effective(19_783).unwrap(), "2024-03-01");
        assert_eq!(parse_effective("2024-03-01"), Some(19_783));
        assert_eq!(parse_effective("1969-12-31"), Some(-1));
        assert_eq!(parse_effective("2024-3-1"), None);
    }

    #[test]
    fn a_full_bundle_verifies_and_names_its_signer() {
        let log = log(6, None);
        let (tmp, dir) = write_full(&log);
        let report = verify(&log, &dir);
        assert!(report.ok, "{report:?}");
        assert!(!report.excerpt);
        assert_eq!((report.events, report.size), (6, 6));
        assert_eq!(report.root, hex(&log.nodes.root()));
        assert_eq!(report.signers, vec![ORIGIN.to_string()]);
        for file in [EVENTS_FILE, CHECKPOINT_FILE, KEYS_FILE, README_FILE] {
            assert!(dir.join(file).is_file(), "{file}");
        }
        assert!(dir
            .join(BLOBS_DIR)
            .join(hex(&blake3_of(b"evidence")))
            .is_file());
        // Nothing but the bundle is left beside it.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
        let first = &read_lines(&dir)[0];
        assert_eq!(first["recorded_at"], "2024-03-01T10:00:00.000123Z");
        assert_eq!(first["effective"], "2024-03-01");
        assert_eq!(first["body"]["note"], "body 0");
    }

    #[test]
    fn an_empty_log_bundle_verifies() {
        let log = log(0, None);
        let (_tmp, dir) = write_full(&log);
        assert!(verify(&log, &dir).ok);
    }

    #[test]
    fn writing_refuses_a_non_empty_folder_and_leaves_nothing_on_failure() {
        let log = log(3, None);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("x"), b"x").unwrap();
        assert!(write_bundle(
            &dir,
            &log.events,
            false,
            &log.signed,
            &[log.key.verifier()],
            &[]
        )
        .is_err());
        // A bundle that would not verify (one event missing) is never put in place.
        let other = tmp.path().join("other");
        let err = write_bundle(
            &other,
            &log.events[..2],
            false,
            &log.signed,
            &[log.key.verifier()],
            &[],
        );
        assert!(err.is_err());
        assert!(!other.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
        // An existing empty folder is fine.
        fs::remove_file(dir.join("x")).unwrap();
        write_bundle(
            &dir,
            &log.events,
            false,
            &log.signed,
            &[log.key.verifier()],
            &[],
        )
        .unwrap();
        assert!(verify(&log, &dir).ok);
    }

    #[test]
    fn a_flipped_payload_bit_is_found_at_its_seq() {
        let report = tampered(|_, dir, lines| {
            let mut payload = STANDARD
                .decode(lines[1]["payload"].as_str().unwrap())
                .unwrap();
            payload[0] ^= 1;
            lines[1]["payload"] = Value::from(STANDARD.encode(payload));
            write_lines(dir, lines);
        });
        assert_eq!(report.first_bad_seq, Some(1));
        assert!(report.problem.unwrap().contains("payload"));
    }

    #[test]
    fn edited_fields_are_found_at_their_seq() {
        let edits: [(&str, Value); 5] = [
            ("actor", Value::from("eve")),
            ("effective", Value::from("2024-03-09")),
            ("recorded_at", Value::from("2024-03-01T10:00:02.000124Z")),
            ("recorded_at_micros", Value::from(T0 + 2_000_001)),
            ("payload_schema", Value::from(2)),
        ];
        for (field, value) in edits {
            let report = tampered(|_, dir, lines| {
                lines[2][field] = value;
                write_lines(dir, lines);
            });
            assert_eq!(report.first_bad_seq, Some(2), "{field}: {report:?}");
        }
    }

    #[test]
    fn deleted_reordered_and_truncated_lines_are_found() {
        let deleted = tampered(|_, dir, lines| {
            lines.remove(2);
            write_lines(dir, lines);
        });
        assert_eq!(deleted.first_bad_seq, Some(2));
        let reordered = tampered(|_, dir, lines| {
            lines.swap(1, 2);
            write_lines(dir, lines);
        });
        assert_eq!(reordered.first_bad_seq, Some(1));
        let cut_mid_line = tampered(|_, dir, _| {
            let text = fs::read(dir.join(EVENTS_FILE)).unwrap();
            fs::write(dir.join(EVENTS_FILE), &text[..text.len() - 20]).unwrap();
        });
        assert!(cut_mid_line.problem.unwrap().contains("line 6"));
        let cut_lines = tampered(|_, dir, lines| {
            lines.truncate(4);
            write_lines(dir, lines);
        });
        assert_eq!(cut_lines.first_bad_seq, Some(4));
        let emptied = tampered(|_, dir, _| fs::write(dir.join(EVENTS_FILE), b"").unwrap());
        assert_eq!(emptied.first_bad_seq, Some(0));
    }

    #[test]
    fn an_inserted_event_with_a_fixed_up_chain_is_found() {
        let longer = tampered(|_, dir, lines| {
            let extra = lines[2].clone();
            lines.insert(2, extra);
            rehash(lines);
            write_lines(dir, lines);
        });
        assert_eq!(longer.first_bad_seq, Some(6));
        // Same size, re-chained: only the Merkle root can tell.
        let same_size = tampered(|_, dir, lines| {
            lines[2]["actor"] = Value::from("eve");
            rehash(lines);
            write_lines(dir, lines);
        });
        assert!(
            same_size
                .problem
                .as_deref()
                .unwrap_or("")
                .contains("Merkle root"),
            "{same_size:?}"
        );
    }

    #[test]
    fn a_rewritten_chain_signed_by_a_new_key_is_untrusted() {
        let report = tampered(|_, dir, lines| {
            lines[0]["actor"] = Value::from("eve");
            let hashes = rehash(lines);
            write_lines(dir, lines);
            let forger = SigningKey::generate(ORIGIN).unwrap();
            let cp = Checkpoint {
                origin: ORIGIN.into(),
                size: 6,
                root: root_of(&hashes),
                extensions: vec![],
            };
            let signed = SignedCheckpoint::sign(&cp, &[&forger]).unwrap();
            fs::write(dir.join(CHECKPOINT_FILE), signed.to_string()).unwrap();
            fs::write(
                dir.join(KEYS_FILE),
                forger.verifier().to_vkey_string() + "\n",
            )
            .unwrap();
            // The forgery is self-consistent: with the forger's key it would pass.
            assert!(verify_bundle(dir, &[forger.verifier()]).ok);
        });
        assert!(report.problem.unwrap().starts_with(CHECKPOINT_FILE));
        assert!(report.signers.is_empty());
    }

    #[test]
    fn an_edited_checkpoint_or_a_smaller_one_is_refused() {
        let edited = tampered(|_, dir, _| {
            let text = fs::read_to_string(dir.join(CHECKPOINT_FILE)).unwrap();
            fs::write(
                dir.join(CHECKPOINT_FILE),
                text.replacen("\n6\n", "\n5\n", 1),
            )
            .unwrap();
        });
        assert!(edited.problem.unwrap().starts_with(CHECKPOINT_FILE));
        let smaller = tampered(|log, dir, lines| {
            let hashes = lines
                .iter()
                .map(|l| parse_hex(l["hash"].as_str().unwrap()).unwrap())
                .collect::<Vec<_>>();
            let cp = Checkpoint {
                origin: ORIGIN.into(),
                size: 5,
                root: root_of(&hashes[..5]),
                extensions: vec![],
            };
            let signed = SignedCheckpoint::sign(&cp, &[&log.key]).unwrap();
            fs::write(dir.join(CHECKPOINT_FILE), signed.to_string()).unwrap();
        });
        assert_eq!(smaller.first_bad_seq, Some(5));
        assert_eq!(smaller.size, 5);
    }

    #[test]
    fn a_null_payload_without_a_redaction_is_tampering() {
        let report = tampered(|_, dir, lines| {
            lines[1]["payload"] = Value::Null;
            lines[1]["salt"] = Value::Null;
            write_lines(dir, lines);
        });
        assert_eq!(report.first_bad_seq, Some(1));
        assert!(report.problem.unwrap().contains(REDACTION_KIND));
    }

    #[test]
    fn a_redacted_payload_with_its_redaction_event_verifies() {
        let log = log(6, Some(2));
        let (_tmp, dir) = write_full(&log);
        let report = verify(&log, &dir);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.redacted, vec![2]);
        // Without the redaction event's payload, the null payload is unexplained.
        let mut lines = read_lines(&dir);
        lines[5]["payload"] = Value::Null;
        lines[5]["salt"] = Value::Null;
        write_lines(&dir, &lines);
        assert_eq!(verify(&log, &dir).first_bad_seq, Some(2));
    }

    #[test]
    fn bad_blobs_are_found() {
        let wrong_bytes = tampered(|_, dir, _| {
            let name = hex(&blake3_of(b"evidence"));
            fs::write(dir.join(BLOBS_DIR).join(name), b"evidencE").unwrap();
        });
        assert!(wrong_bytes.problem.unwrap().starts_with(BLOBS_DIR));
        let bad_name =
            tampered(|_, dir, _| fs::write(dir.join(BLOBS_DIR).join("notes.txt"), b"x").unwrap());
        assert!(bad_name.problem.unwrap().contains("notes.txt"));
    }

    #[test]
    fn flipped_bytes_anywhere_in_the_events_never_panic() {
        let log = log(4, Some(1));
        let (_tmp, dir) = write_full(&log);
        let original = fs::read(dir.join(EVENTS_FILE)).unwrap();
        for at in (0..original.len()).step_by(5) {
            let mut bytes = original.clone();
            bytes[at] ^= 0x04;
            fs::write(dir.join(EVENTS_FILE), &bytes).unwrap();
            let _ = verify(&log, &dir);
        }
    }

    #[test]
    fn an_excerpt_verifies_alone_and_carries_receipts() {
        let log = log(7, None);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("excerpt");
        let events = excerpt_of(&log, &[1, 3, 4]);
        write_bundle(&dir, &events, true, &log.signed, &[log.key.verifier()], &[]).unwrap();
        let report = verify(&log, &dir);
        assert!(report.ok, "{report:?}");
        assert!(report.excerpt);
        assert_eq!((report.events, report.size), (3, 7));
        let receipt = fs::read(dir.join(PROOFS_DIR).join("3.tlog-proof")).unwrap();
        let receipt = TlogProof::parse(&receipt).unwrap();
        receipt
            .verify(&log.events[3].header.event_hash(), &[log.key.verifier()])
            .unwrap();
    }

    #[test]
    fn an_altered_excerpt_or_a_swapped_proof_is_found() {
        let log = log(7, None);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("excerpt");
        write_bundle(
            &dir,
            &excerpt_of(&log, &[1, 3, 4]),
            true,
            &log.signed,
            &[log.key.verifier()],
            &[],
        )
        .unwrap();
        let original = read_lines(&dir);

        let mut lines = original.clone();
        lines[1]["subject"] = Value::from("plan/p/action/9.9");
        write_lines(&dir, &lines);
        assert_eq!(verify(&log, &dir).first_bad_seq, Some(3));

        // Even a forger who fixes `hash` cannot make the proof lead to the root.
        let mut lines = original.clone();
        lines[1]["subject"] = Value::from("plan/p/action/9.9");
        let header = parse_line(&lines[1].to_string()).ok().unwrap().header;
        lines[1]["hash"] = Value::from(hex(&header.event_hash()));
        write_lines(&dir, &lines);
        let report = verify(&log, &dir);
        assert_eq!(report.first_bad_seq, Some(3));
        assert!(report.problem.unwrap().contains("inclusion proof"));

        let mut lines = original.clone();
        let proof = lines[0]["proof"].clone();
        lines[0]["proof"] = lines[2]["proof"].clone();
        lines[2]["proof"] = proof;
        write_lines(&dir, &lines);
        assert_eq!(verify(&log, &dir).first_bad_seq, Some(1));

        write_lines(&dir, &original);
        assert!(verify(&log, &dir).ok);
    }

    #[test]
    fn an_excerpt_may_omit_a_payload_only_with_its_redaction() {
        let log = log(6, Some(2));
        let tmp = tempfile::tempdir().unwrap();
        let with = tmp.path().join("with");
        write_bundle(
            &with,
            &excerpt_of(&log, &[2, 5]),
            true,
            &log.signed,
            &[log.key.verifier()],
            &[],
        )
        .unwrap();
        let report = verify(&log, &with);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.redacted, vec![2]);
        let without = tmp.path().join("without");
        let refused = write_bundle(
            &without,
            &excerpt_of(&log, &[2]),
            true,
            &log.signed,
            &[log.key.verifier()],
            &[],
        );
        assert!(refused.is_err());
        assert!(!without.exists());
    }
}
