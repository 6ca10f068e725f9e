//! Keys, checkpoints and proofs: what lets people who do not trust the operator check
//! the history (FORMAT v1 §3). The ledger's key lives in `DATA/keys/` unless `init
//! --key` names one kept elsewhere; a chair's or auditor's key never enters the folder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use ledger::checkpoint::{SignedCheckpoint, TlogProof};
use ledger::note::{SigningKey, VerifierKey};
use ledger::Ledger;

use super::{report_verification, Verdict};
use crate::app::keys::{
    checkpoint_covering, getrandom_fill, ledger_key, ledger_vkey, read_key, read_note,
    write_private, KEY_FILE, KEY_LOCATION, VKEY_FILE,
};
use crate::app::write_durably;
use crate::app::App;
use crate::exit::Usage;

pub fn init(data: &Path, key: Option<&Path>) -> Result<()> {
    let ledger =
        Ledger::init(data).with_context(|| format!("creating a ledger in {}", data.display()))?;
    drop(ledger);
    // Every file below is fsynced with its folder before init answers: without its
    // keys a ledger's checkpoints could not be signed as before, or checked.
    let keys = data.join("keys");
    std::fs::create_dir(&keys).with_context(|| format!("creating {}", keys.display()))?;
    ledger::storage::sync_dir(data)?;
    let signing = match key {
        Some(path) => {
            let signing = read_key(path)?;
            let location = std::fs::canonicalize(path)
                .with_context(|| format!("locating {}", path.display()))?;
            write_durably(
                &data.join(KEY_LOCATION),
                location.to_string_lossy().as_bytes(),
            )
            .context("recording where the key is")?;
            signing
        }
        None => {
            let mut id = [0u8; 4];
            getrandom_fill(&mut id)?;
            let name = format!("assure.ledger/{}", ledger::hex::hex(&id));
            let signing = SigningKey::generate(&name)
                .map_err(|e| anyhow::anyhow!("making the ledger's key: {e}"))?;
            write_private(&data.join(KEY_FILE), &signing.to_file_string())?;
            signing
        }
    };
    write_durably(
        &data.join(VKEY_FILE),
        format!("{}\n", signing.verifier().to_vkey_string()).as_bytes(),
    )
    .context("writing the verifier key")?;
    crate::outln!("Created an empty ledger in {}.", data.display());
    crate::outln!(
        "Its verifier key (give this to chairs and auditors): {}",
        signing.verifier().to_vkey_string()
    );
    Ok(())
}

pub fn key_new(name: &str, out: &Path) -> Result<()> {
    let key = SigningKey::generate(name)
        .map_err(|e| Usage(format!("cannot make a key named {name:?}: {e}")))?;
    write_private(out, &key.to_file_string())?;
    crate::outln!("{}", key.verifier().to_vkey_string());
    crate::errln!(
        "Signing key written to {} (readable by you only). Share the line above, never the file.",
        out.display()
    );
    Ok(())
}

pub fn key_show(data: &Path, key: Option<&Path>, cosigner: bool) -> Result<()> {
    match key {
        Some(path) if cosigner => crate::outln!(
            "{}",
            read_key(path)?.verifier().as_cosigner().to_vkey_string()
        ),
        Some(path) => crate::outln!("{}", read_key(path)?.verifier().to_vkey_string()),
        None => crate::outln!("{}", ledger_vkey(data)?.to_vkey_string()),
    }
    Ok(())
}

pub fn checkpoint(app: &mut App, key: Option<&Path>) -> Result<()> {
    let key = ledger_key(app.ledger.dir(), key)?;
    let signed = app
        .ledger
        .make_checkpoint(&key)
        .context("making a checkpoint")?;
    crate::out!("{signed}");
    // Its witnesses are asked at once; what they say goes to standard error, so the
    // checkpoint printed above stays the note as signed.
    let data = app.ledger.dir().to_path_buf();
    let ledger = &mut *app.ledger;
    for answer in crate::app::witnessing::ask_all(&data, &mut |step| step(ledger))? {
        crate::errln!("{answer}");
    }
    Ok(())
}

pub fn cosign(
    app: &mut App,
    file: &Path,
    key: &Path,
    out: Option<&Path>,
    cosignature_v1: bool,
) -> Result<()> {
    let key = read_key(key)?;
    let note = read_note(file)?;
    let signed = if cosignature_v1 {
        let cosigned = cosigned_v1(&note, &key, file)?;
        app.ledger.attach_cosignature(
            cosigned.to_string().as_bytes(),
            &key.verifier().as_cosigner(),
        )
    } else {
        app.ledger.cosign_checkpoint(&note, &key)
    }
    .with_context(|| format!("co-signing {}", file.display()))?;
    emit_cosigned(&signed, out)
}

/// `note` (a signed checkpoint) with `key`'s C2SP cosignature/v1 added, made now.
fn cosigned_v1(
    note: &[u8],
    key: &ledger::note::SigningKey,
    file: &Path,
) -> Result<SignedCheckpoint> {
    let signed = SignedCheckpoint::parse(note).map_err(|e| {
        Usage(format!(
            "{} is not a signed checkpoint: {e}",
            file.display()
        ))
    })?;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let line = key
        .cosign_v1(signed.note().text(), now)
        .map_err(|e| Usage(format!("co-signing {}: {e}", file.display())))?;
    SignedCheckpoint::parse(format!("{signed}{line}").as_bytes())
        .map_err(|e| anyhow::anyhow!("co-signing {}: {e}", file.display()))
}

/// Co-signs a checkpoint file alone: no ledger is opened, so this works while the
/// service holds the data folder. The service checks the result against the
/// signer's registered verifier key before keeping the signature.
pub fn cosign_offline(
    file: &Path,
    key: &Path,
    out: Option<&Path>,
    cosignature_v1: bool,
) -> Result<()> {
    let key = read_key(key)?;
    let note = read_note(file)?;
    if cosignature_v1 {
        return emit_cosigned(&cosigned_v1(&note, &key, file)?, out);
    }
    let mut signed = ledger::checkpoint::SignedCheckpoint::parse(&note).map_err(|e| {
        Usage(format!(
            "{} is not a signed checkpoint: {e}",
            file.display()
        ))
    })?;
    signed
        .add_signature(&key)
        .map_err(|e| Usage(format!("co-signing {}: {e}", file.display())))?;
    emit_cosigned(&signed, out)
}

fn emit_cosigned(signed: &SignedCheckpoint, out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => {
            write_durably(path, signed.to_string().as_bytes())?;
            crate::errln!("Co-signed checkpoint written to {}.", path.display());
        }
        None => crate::out!("{signed}"),
    }
    Ok(())
}

pub fn list(app: &App) -> Result<()> {
    let checkpoints = app.ledger.checkpoints()?;
    if checkpoints.is_empty() {
        crate::outln!(
            "No checkpoints yet. Make one with `assure checkpoint` at each board meeting."
        );
    }
    for signed in checkpoints {
        let c = signed.unverified_checkpoint();
        let signers: Vec<&str> = signed
            .note()
            .signatures()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        crate::outln!(
            "size {:>8}  root {}  signed by {}",
            c.size,
            ledger::hex::hex(&c.root),
            signers.join(", ")
        );
    }
    Ok(())
}

pub fn proof(app: &mut App, seq: u64, key: Option<&Path>) -> Result<()> {
    if seq >= app.ledger.size() {
        bail!(Usage(format!(
            "no event {seq}: the ledger holds {} events",
            app.ledger.size()
        )));
    }
    let signed = checkpoint_covering(&mut app.ledger, seq + 1, key)?;
    let size = signed.unverified_checkpoint().size;
    let proof = TlogProof {
        index: seq,
        extra: None,
        proof: app.ledger.inclusion_proof(seq, size)?,
        checkpoint: signed.note().clone(),
    };
    crate::out!("{proof}");
    Ok(())
}

/// Reads `--trust` values: vkey text, or files holding vkey lines.
pub fn trusted_keys(values: &[String]) -> Result<Vec<VerifierKey>> {
    let mut keys = Vec::new();
    for value in values {
        let path = PathBuf::from(value);
        let text = if path.is_file() {
            std::fs::read_to_string(&path).with_context(|| format!("reading {value}"))?
        } else {
            value.clone()
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            keys.push(
                VerifierKey::parse(line)
                    .map_err(|e| Usage(format!("--trust {line:?} is not a verifier key: {e}")))?,
            );
        }
    }
    if keys.is_empty() {
        bail!(Usage("name at least one key you trust with --trust VKEY (the ledger's `assure key show`, or a chair's)".into()));
    }
    Ok(keys)
}

#[derive(Debug, serde::Serialize)]
struct AgainstReport {
    ok: bool,
    old_size: u64,
    size: u64,
    root: String,
    signers: Vec<String>,
    problem: Option<String>,
}

pub fn verify_against(app: &App, file: &Path, trust: &[String], json: bool) -> Result<()> {
    let trusted = trusted_keys(trust)?;
    let bytes = read_note(file)?;
    let report = app.ledger.verify();
    let mut outcome = AgainstReport {
        ok: false,
        old_size: 0,
        size: report.size,
        root: report.root.clone(),
        signers: Vec::new(),
        problem: None,
    };
    let mut check = || -> std::result::Result<(), String> {
        if !report.ok {
            return Err(format!(
                "today's ledger does not verify: {}",
                report.problem.clone().unwrap_or_default()
            ));
        }
        let old = SignedCheckpoint::parse(&bytes)
            .map_err(|e| format!("{} is not a signed checkpoint: {e}", file.display()))?;
        let verified = old
            .verify(&trusted)
            .map_err(|e| format!("the old checkpoint's signatures: {e}"))?;
        outcome.signers = verified.signers.iter().map(|s| s.described()).collect();
        let old = verified.checkpoint;
        outcome.old_size = old.size;
        if old.size > report.size {
            return Err(format!(
                "the checkpoint covers {} events but the ledger holds {}: events were removed",
                old.size, report.size
            ));
        }
        let root = ledger::hex::parse_hash(&report.root).ok_or("bad recomputed root")?;
        let proof = if old.size == 0 || old.size == report.size {
            Vec::new()
        } else {
            app.ledger
                .consistency_proof(old.size, report.size)
                .map_err(|e| e.to_string())?
        };
        ledger::merkle::verify_consistency(old.size, report.size, &old.root, &root, &proof).map_err(
            |e| {
                format!(
                    "today's history does not extend the checkpoint of size {}: {e}",
                    old.size
                )
            },
        )
    };
    let result = check();
    outcome.ok = result.is_ok();
    outcome.problem = result.err();
    let ok_line = format!(
        "OK: today's ledger ({} events, root {}) extends the checkpoint of {} events signed by {}.",
        outcome.size,
        outcome.root,
        outcome.old_size,
        outcome.signers.join(", ")
    );
    let verdict = Verdict {
        ok: outcome.ok,
        ok_line,
        first_bad_seq: None,
        problem: outcome.problem.as_deref(),
    };
    report_verification(&outcome, json, verdict)
}

/// `assure tiles --out DIR [--check]`: the log as a C2SP tlog-tiles publication
/// under the latest checkpoint (signing one when it does not cover every event);
/// with `--check`, every file already there is read back and repaired if altered.
pub fn tiles(app: &mut App, out: &Path, key: Option<&Path>, check: bool) -> Result<()> {
    let size = app.ledger.size();
    let checkpoint = crate::app::keys::checkpoint_covering(&mut app.ledger, size, key)?;
    let started = std::time::Instant::now();
    let done = if check {
        app.ledger.check_tiles(out, &checkpoint)
    } else {
        app.ledger.write_tiles(out, &checkpoint)
    }
    .with_context(|| format!("writing the tiles in {}", out.display()))?;
    crate::outln!(
        "Published the log of {} events in {} as C2SP tlog-tiles: {} file(s) written, {} full tile(s) already there{} ({:.1?}).",
        done.size,
        out.display(),
        done.written,
        done.kept,
        if check { " and checked" } else { "" },
        started.elapsed()
    );
    if done.repaired > 0 {
        crate::outln!(
            "{} file(s) in the folder had bytes that were not the log's and were rewritten: \
             something other than assure changed the folder (look at who can write to it).",
            done.repaired
        );
    }
    crate::outln!(
        "Serve the folder as it is from any static host; readers verify {}/checkpoint with the ledger's verifier key ({}).",
        out.display(),
        crate::app::keys::ledger_vkey(app.ledger.dir())?.to_vkey_string()
    );
    Ok(())
}
