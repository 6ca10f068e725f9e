//! Export bundles (FORMAT v1 §4): the whole ledger, or an excerpt of one subject with
//! an inclusion proof per event, for inspectors to verify offline — written alike for
//! `assure export` and the service's download; and the check a bundle's
//! human-readable bodies need beyond what the ledger crate verifies.

use std::path::Path;

use anyhow::{Context as _, Result};
use ledger::bundle::{write_bundle_from, BundleEvent};
use ledger::checkpoint::SignedCheckpoint;
use ledger::Event;
use ledger::Ledger;
use projections::DomainEvent;

use super::keys::{checkpoint_covering, ledger_vkey};
use crate::exit::Usage;

/// What an export wrote, for the caller to report.
#[derive(Debug, Clone)]
pub struct Exported {
    pub excerpt: bool,
    /// Events in the bundle, and in the ledger when it was written.
    pub events: usize,
    pub ledger_size: u64,
    pub evidence_files: usize,
    /// The size of the checkpoint it was written under.
    pub size: u64,
    /// The ledger's verifier key, to verify it with.
    pub vkey: String,
    /// What each witness said when asked to co-sign the checkpoint this export
    /// made (none when it used one already made).
    pub witnesses: Vec<super::witnessing::Asked>,
}

fn decoded(event: &Event) -> Option<DomainEvent> {
    projections::read::domain_event(event).ok().flatten()
}

/// `cosigners`: the verifier keys of those who may co-sign (the accounts' registered
/// keys); the bundle's `keys` lists each whose signature stands on its checkpoint.
pub fn export(
    ledger: &mut Ledger,
    out: &Path,
    subject: Option<&str>,
    key: Option<&Path>,
    cosigners: &[ledger::note::VerifierKey],
) -> Result<Exported> {
    // A bundle of the whole ledger needs a checkpoint that covers every event.
    let events = ledger.size();
    let held = ledger.latest_checkpoint()?.map(|c| c.to_string());
    let mut checkpoint = checkpoint_covering(ledger, events, key)?;
    let mut witnesses = Vec::new();
    if held.as_ref() != Some(&checkpoint.to_string()) {
        // A new checkpoint goes to the witnesses, as `assure checkpoint`'s does, and
        // the bundle carries their cosignatures (a witness that does not answer is
        // reported; the export stands on the ledger's own signature).
        let data = ledger.dir().to_path_buf();
        witnesses = super::witnessing::ask_all(&data, &mut |step| step(ledger))?;
        if witnesses.iter().any(|w| w.outcome.is_ok()) {
            checkpoint = ledger
                .latest_checkpoint()?
                .context("reading back the checkpoint the witnesses co-signed")?;
        }
    }
    let keys = signers(&checkpoint, ledger_vkey(ledger.dir())?, cosigners);
    let mut exported = write(ledger, out, subject, checkpoint, &keys)?;
    exported.witnesses = witnesses;
    Ok(exported)
}

/// The keys whose signatures stand on `checkpoint`: the ledger's first, then each
/// co-signer's (FORMAT v1 §4: the bundle's `keys` lists the keys that signed).
fn signers(
    checkpoint: &SignedCheckpoint,
    ledger_key: ledger::note::VerifierKey,
    cosigners: &[ledger::note::VerifierKey],
) -> Vec<ledger::note::VerifierKey> {
    let mut keys = vec![ledger_key];
    for key in cosigners {
        let signed = checkpoint.note().verify(std::slice::from_ref(key)).is_ok();
        if signed
            && !keys
                .iter()
                .any(|k| k.to_vkey_string() == key.to_vkey_string())
        {
            keys.push(key.clone());
        }
    }
    keys
}

/// A bundle of the ledger as its latest checkpoint covers it, signing nothing: what
/// the service's read-only export gives (a reader must never change which checkpoint
/// the pages show). Refused when no checkpoint has been signed yet.
pub fn export_at_latest_checkpoint(
    ledger: &mut Ledger,
    out: &Path,
    cosigners: &[ledger::note::VerifierKey],
) -> Result<Exported> {
    let Some(checkpoint) = ledger.latest_checkpoint()? else {
        return Err(Usage(
            "no checkpoint has been signed yet, so there is nothing an export could be verified against; a business manager or the chair signs one on the Verification page, then export again".into(),
        )
        .into());
    };
    let keys = signers(&checkpoint, ledger_vkey(ledger.dir())?, cosigners);
    write(ledger, out, None, checkpoint, &keys)
}

/// `export` with a key in hand rather than on disk (benchmarks and tests).
pub fn export_to(
    ledger: &mut Ledger,
    out: &Path,
    subject: Option<&str>,
    key: &ledger::note::SigningKey,
) -> Result<Exported> {
    let checkpoint = ledger.make_checkpoint(key)?;
    write(ledger, out, subject, checkpoint, &[key.verifier()])
}

/// The events of a bundle straight from the ledger, one at a time, and the evidence
/// their payloads name (collected as they pass: a hash each).
struct FromLedger<'a> {
    ledger: &'a Ledger,
    /// An excerpt's events (few, so loaded); `None` for the whole ledger.
    chosen: Option<Vec<Event>>,
    size: u64,
    /// Whether each event carries its inclusion proof (an excerpt).
    excerpt: bool,
    blob_hashes: Vec<[u8; 32]>,
    events: usize,
}

impl ledger::bundle::BundleSource for FromLedger<'_> {
    fn events(
        &mut self,
        visit: &mut dyn FnMut(BundleEvent) -> ledger::Result<()>,
    ) -> ledger::Result<()> {
        let (ledger, size, excerpt) = (self.ledger, self.size, self.excerpt);
        let (blob_hashes, count) = (&mut self.blob_hashes, &mut self.events);
        let mut one = |event: Event| -> ledger::Result<()> {
            let body = decoded(&event);
            if let Some(body) = &body {
                blob_hashes.extend(body.evidence());
            }
            let proof = if excerpt {
                Some(ledger.inclusion_proof(event.header.seq, size)?)
            } else {
                None
            };
            *count += 1;
            visit(BundleEvent {
                body_json: body.map(|b| b.body_json()),
                header: event.header,
                body: event.body,
                proof,
            })
        };
        match self.chosen.take() {
            Some(events) => events.into_iter().try_for_each(&mut one),
            None => ledger.scan(0..size, &mut |event| one(event).map(|()| true)),
        }
    }

    fn blobs(
        &mut self,
        visit: &mut dyn FnMut(Vec<u8>) -> ledger::Result<()>,
    ) -> ledger::Result<()> {
        // Only the evidence a payload still names: a file whose naming payload was
        // erased is not history any more (and is deleted by the erasure).
        self.blob_hashes.sort_unstable();
        self.blob_hashes.dedup();
        for hash in &self.blob_hashes {
            visit(self.ledger.blobs().get(hash)?)?;
        }
        Ok(())
    }
}

fn write(
    ledger: &mut Ledger,
    out: &Path,
    subject: Option<&str>,
    checkpoint: SignedCheckpoint,
    keys: &[ledger::note::VerifierKey],
) -> Result<Exported> {
    let size = checkpoint.unverified_checkpoint().size;
    let chosen = match subject {
        None => {
            if size == 0 {
                return Err(Usage("the ledger holds no events; nothing to export".into()).into());
            }
            None
        }
        Some(prefix) => {
            let mut chosen = ledger.events_with_subject_prefix(prefix)?;
            // A redacted event in an excerpt travels with the redaction that explains it.
            let redacted: Vec<u64> = chosen
                .iter()
                .filter(|e| e.body.is_none())
                .map(|e| e.header.seq)
                .collect();
            if !redacted.is_empty() {
                for e in ledger.events_with_subject(projections::events::subject::LEDGER)? {
                    if let Some(DomainEvent::Redacted(r)) = decoded(&e) {
                        if redacted.contains(&r.target_seq) {
                            chosen.push(e);
                        }
                    }
                }
                chosen.sort_by_key(|e| e.header.seq);
            }
            chosen.retain(|e| e.header.seq < size);
            if chosen.is_empty() {
                return Err(Usage(format!("no events match {prefix:?}; nothing to export")).into());
            }
            Some(chosen)
        }
    };
    let mut source = FromLedger {
        ledger,
        chosen,
        size,
        excerpt: subject.is_some(),
        blob_hashes: Vec::new(),
        events: 0,
    };
    write_bundle_from(out, &mut source, subject.is_some(), &checkpoint, keys)
        .with_context(|| format!("writing the bundle to {}", out.display()))?;
    Ok(Exported {
        excerpt: subject.is_some(),
        events: source.events,
        ledger_size: ledger.size(),
        evidence_files: source.blob_hashes.len(),
        size,
        vkey: keys.first().map(|k| k.to_vkey_string()).unwrap_or_default(),
        witnesses: Vec::new(),
    })
}

/// The ledger crate cannot read domain payloads, so it cannot tell whether the
/// human-readable `body` beside each payload says what the payload says, nor which
/// evidence files a payload names. This does both: a body that differs from its
/// (verified) payload would mislead a reader, and missing evidence would go unseen.
pub fn check_bodies(dir: &Path) -> Result<Option<(u64, String)>> {
    use base64::Engine as _;
    // Line by line: a bundle of a million events is 600 MB of JSON.
    let file = std::fs::File::open(dir.join("events.jsonl")).context("reading events.jsonl")?;
    for line in std::io::BufRead::lines(std::io::BufReader::new(file)) {
        let line = line.context("reading events.jsonl")?;
        let value: serde_json::Value =
            serde_json::from_str(&line).context("reading events.jsonl")?;
        let seq = value["seq"].as_u64().unwrap_or(u64::MAX);
        let Some(payload) = value["payload"].as_str() else {
            if !value["body"].is_null() {
                return Ok(Some((
                    seq,
                    "a body is shown for a payload that is withheld".into(),
                )));
            }
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|e| anyhow::anyhow!("seq {seq}: payload is not base64: {e}"))?;
        let kind = value["kind"].as_str().unwrap_or_default();
        let schema = value["payload_schema"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        let decoded = DomainEvent::decode(kind, schema, &bytes).ok();
        if decoded.as_ref().map(DomainEvent::body_json).as_ref() != Some(&value["body"]) {
            return Ok(Some((
                seq,
                "the human-readable body does not say what the signed payload says".into(),
            )));
        }
        for hash in decoded.iter().flat_map(DomainEvent::evidence) {
            let name = ledger::hex::hex(&hash);
            if !dir.join("blobs").join(&name).is_file() {
                return Ok(Some((
                    seq,
                    format!(
                        "evidence file {name}, named by the signed payload, is missing from blobs/"
                    ),
                )));
            }
        }
    }
    Ok(None)
}
