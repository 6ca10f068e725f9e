//! `witness`: a C2SP tlog-witness on the command line. A third party (the
//! inspectorate, a partner agency) runs `witness add-checkpoint` on requests the
//! log's operator sends (`witness request`); it co-signs only a checkpoint that
//! extends the last one it co-signed for that log, so a history that forks or
//! rewinds gets no cosignature. The logic is `ledger::witness`; this keeps its
//! record durable and speaks its refusals as the HTTP statuses the spec gives.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use ledger::witness::{add_checkpoint, request as request_body};

use super::proofs::trusted_keys;
use crate::app::keys::{read_key, read_note};
use crate::app::App;
use crate::exit::Usage;

/// `witness add-checkpoint`: one request in, a cosignature line out.
pub fn add(state: &Path, key: &Path, logs: &[String], input: Option<&Path>) -> Result<()> {
    let key = read_key(key)?;
    let trusted = trusted_keys(logs)?;
    let mut body = Vec::new();
    match input {
        Some(path) => {
            body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            std::io::stdin()
                .read_to_end(&mut body)
                .context("reading the request from standard input")?;
        }
    }
    let mut witnessed = crate::app::witness::load(state)?;
    match add_checkpoint(
        &mut witnessed,
        &trusted,
        &key,
        &body,
        crate::app::witness::now(),
    ) {
        Ok(line) => {
            // Remembered before it is answered: a cosignature given is never forgotten.
            crate::app::witness::save(state, &witnessed)?;
            crate::out!("{line}");
            Ok(())
        }
        Err(refused) => Err(Usage(format!(
            "not co-signed (HTTP {}): {}",
            refused.status,
            refused.body.trim_end()
        ))
        .into()),
    }
}

/// `witness request --old N`: the body to send to a witness for the latest
/// checkpoint (signing none).
pub fn request(app: &App, old: u64) -> Result<()> {
    let Some(checkpoint) = app.ledger.latest_checkpoint()? else {
        return Err(Usage(
            "no checkpoint has been signed yet: sign one (`assure checkpoint`), then ask the witness".into(),
        )
        .into());
    };
    let size = checkpoint.unverified_checkpoint().size;
    if old > size {
        return Err(Usage(format!(
            "the witness co-signed size {old}, beyond this ledger's latest checkpoint ({size}): the witness has seen a longer history than this ledger holds — find out why before going on"
        ))
        .into());
    }
    let proof = if old == 0 || old == size {
        Vec::new()
    } else {
        app.ledger.consistency_proof(old, size)?
    };
    crate::out!("{}", request_body(old, &proof, &checkpoint));
    Ok(())
}

/// `witness attach FILE --witness VKEY`: the witness's line kept on the checkpoint.
pub fn attach(app: &mut App, file: &Path, witness: &str) -> Result<()> {
    let key = ledger::note::VerifierKey::parse(witness.trim())
        .map_err(|e| Usage(format!("--witness {witness:?} is not a verifier key: {e}")))?;
    let note = read_note(file)?;
    let kept = app
        .ledger
        .attach_cosignature(&note, &key)
        .with_context(|| format!("keeping the witness's cosignature from {}", file.display()))?;
    // So bundles name the witness among the keys that signed.
    crate::app::keys::keep_cosigner_vkey(app.ledger.dir(), &key)?;
    crate::out!("{kept}");
    Ok(())
}
