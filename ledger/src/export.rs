//! Writing export bundles (FORMAT v1 §4) from the ledger's events: the whole folder
//! is built under a temporary sibling name, checked with `verify_bundle`, and only
//! then renamed into place, so a half-written or self-inconsistent bundle never
//! appears under the requested name.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::blobs::blake3_of;
use crate::checkpoint::{SignedCheckpoint, TlogProof};
use crate::error::{Error, Result};
use crate::faults::{self, Op};
use crate::hex::hex;
use crate::note::VerifierKey;
use crate::storage::sync_dir;

use crate::proof::bundle::*;

/// Where a bundle's events and evidence come from, a piece at a time, so a bundle of
/// a million events is written without holding them.
pub trait BundleSource {
    /// Visits the events, in seq order.
    fn events(&mut self, visit: &mut dyn FnMut(BundleEvent) -> Result<()>) -> Result<()>;
    /// Visits the evidence files (after `events`, which may be what names them).
    fn blobs(&mut self, visit: &mut dyn FnMut(Vec<u8>) -> Result<()>) -> Result<()>;
}

/// Events and evidence already in memory.
struct InMemory<'a> {
    events: &'a [BundleEvent],
    blobs: &'a [Vec<u8>],
}

impl BundleSource for InMemory<'_> {
    fn events(&mut self, visit: &mut dyn FnMut(BundleEvent) -> Result<()>) -> Result<()> {
        self.events.iter().try_for_each(|e| visit(e.clone()))
    }

    fn blobs(&mut self, visit: &mut dyn FnMut(Vec<u8>) -> Result<()>) -> Result<()> {
        self.blobs.iter().try_for_each(|b| visit(b.clone()))
    }
}

/// `write_bundle_from` for events and evidence in memory.
pub fn write_bundle(
    dir: &Path,
    events: &[BundleEvent],
    excerpt: bool,
    checkpoint: &SignedCheckpoint,
    keys: &[VerifierKey],
    blobs: &[Vec<u8>],
) -> Result<()> {
    write_bundle_from(
        dir,
        &mut InMemory { events, blobs },
        excerpt,
        checkpoint,
        keys,
    )
}

/// Writes the bundle of `source`'s events under `checkpoint`, signed by `keys`.
pub fn write_bundle_from(
    dir: &Path,
    source: &mut dyn BundleSource,
    excerpt: bool,
    checkpoint: &SignedCheckpoint,
    keys: &[VerifierKey],
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
    let built = fill_bundle(&tmp, source, excerpt, checkpoint, keys).and_then(|()| {
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
    source: &mut dyn BundleSource,
    excerpt: bool,
    checkpoint: &SignedCheckpoint,
    keys: &[VerifierKey],
) -> Result<()> {
    let proof_dir = dir.join(PROOFS_DIR);
    if excerpt {
        fs::create_dir(&proof_dir).map_err(|e| Error::io("creating proofs/", e))?;
    }
    let events_path = dir.join(EVENTS_FILE);
    let target = format!("export {}", events_path.display());
    let file = faults::io(Op::Create, &target, || File::create(&events_path))
        .map_err(|e| Error::io(format!("writing {}", events_path.display()), e))?;
    let mut jsonl = std::io::BufWriter::with_capacity(1 << 20, file);
    source.events(&mut |event| {
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
        let mut text = serde_json::to_string(&line).map_err(|e| bad(&e.to_string()))?;
        text.push('\n');
        faults::io(Op::Write, &target, || jsonl.write_all(text.as_bytes()))
            .map_err(|e| Error::io(format!("writing {}", events_path.display()), e))?;
        if excerpt {
            let receipt = TlogProof {
                index: h.seq,
                extra: None,
                proof: event.proof.clone().unwrap_or_default(),
                checkpoint: checkpoint.note().clone(),
            };
            let path = proof_dir.join(format!("{}.tlog-proof", h.seq));
            write_file(&path, receipt.to_string().as_bytes())?;
        }
        Ok(())
    })?;
    let file = jsonl
        .into_inner()
        .map_err(|e| Error::io(format!("writing {}", events_path.display()), e.into_error()))?;
    faults::io(Op::Fsync, &target, || file.sync_all())
        .map_err(|e| Error::io(format!("writing {}", events_path.display()), e))?;
    if excerpt {
        sync_dir(&proof_dir)?;
    }
    write_file(
        &dir.join(CHECKPOINT_FILE),
        checkpoint.to_string().as_bytes(),
    )?;
    let keys_text: String = keys.iter().map(|k| k.to_vkey_string() + "\n").collect();
    write_file(&dir.join(KEYS_FILE), keys_text.as_bytes())?;
    let blob_dir = dir.join(BLOBS_DIR);
    fs::create_dir(&blob_dir).map_err(|e| Error::io("creating blobs/", e))?;
    source.blobs(&mut |blob| write_file(&blob_dir.join(hex(&blake3_of(&blob))), &blob))?;
    sync_dir(&blob_dir)?;
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
         5. Check BLAKE3 of every file in blobs/ equals its name.\n\
         6. Decode each payload with the tables of docs/FORMAT.md section 2a and check that `body`\n   \
         says exactly what it says, and that every evidence file it names is in blobs/.\n\n\
         docs/verify_bundle.py (Python 3 with blake3 and cryptography) does all six and prints\n\
         the events as text: python3 verify_bundle.py DIR --trust 'name+keyid+base64key' --print\n",
        origin = cp.origin,
        size = cp.size,
        root = hex(&cp.root),
    )
}
