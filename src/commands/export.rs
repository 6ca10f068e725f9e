//! `export` (the bundle is written by `app::export`, shared with the service) and
//! `verify --bundle`, the same check an auditor's own tool would make (FORMAT v1 §4).

use std::path::Path;

use anyhow::Result;
use ledger::bundle::verify_bundle;
use ledger::Ledger;

use super::proofs::trusted_keys;
use super::{report_verification, Verdict};
use crate::app::export::check_bodies;

/// `assure export`: writes the bundle and says how to verify it.
pub fn export(
    ledger: &mut Ledger,
    out: &Path,
    subject: Option<&str>,
    key: Option<&Path>,
    cosigners: &[ledger::note::VerifierKey],
) -> Result<()> {
    let exported = crate::app::export::export(ledger, out, subject, key, cosigners)?;
    for answer in &exported.witnesses {
        crate::errln!("{answer}");
    }
    crate::outln!(
        "Wrote {} {} of {} events to {} ({} evidence files), under a checkpoint of size {}.",
        if exported.excerpt {
            "an excerpt"
        } else {
            "a bundle"
        },
        exported.events,
        exported.ledger_size,
        out.display(),
        exported.evidence_files,
        exported.size
    );
    crate::outln!(
        "Verify it with: assure verify --bundle {} --trust {}",
        out.display(),
        exported.vkey
    );
    Ok(())
}

pub fn verify(dir: &Path, trust: &[String], json: bool) -> Result<()> {
    let trusted = trusted_keys(trust)?;
    let mut report = verify_bundle(dir, &trusted);
    if report.ok {
        if let Some((seq, problem)) = check_bodies(dir)? {
            report.ok = false;
            report.first_bad_seq = Some(seq);
            report.problem = Some(problem);
        }
    }
    let ok_line = format!(
        "OK: {} {} events verified against a checkpoint of size {} (root {}) signed by {}.",
        if report.excerpt {
            "excerpt:"
        } else {
            "bundle:"
        },
        report.events,
        report.size,
        report.root,
        report.signers.join(", ")
    );
    let verdict = Verdict {
        ok: report.ok,
        ok_line,
        first_bad_seq: report.first_bad_seq,
        problem: report.problem.as_deref(),
    };
    report_verification(&report, json, verdict)
}

/// `assure restore`: the ledger rebuilt from a verified bundle of the whole ledger,
/// in a folder beside `data` renamed into place only once it verifies, so `data` is
/// either the whole restored ledger or not there.
pub fn restore(
    data: &Path,
    bundle: &Path,
    trust: &[String],
    key: Option<&Path>,
    checkpoints: &[std::path::PathBuf],
) -> Result<()> {
    use anyhow::Context as _;
    let trusted = trusted_keys(trust)?;
    // A backup (`assure backup`) is a bundle with what else a working ledger needs.
    let backup = super::backup::is_backup(bundle).then(|| bundle.to_path_buf());
    let from_backup = match &backup {
        Some(backup) => super::backup::checkpoints_in(backup)?,
        None => Vec::new(),
    };
    let bundle_dir = backup.as_ref().map(|b| b.join(super::backup::BUNDLE));
    let bundle = bundle_dir.as_deref().unwrap_or(bundle);
    if data.join("ASSURE-LEDGER").exists()
        || std::fs::read_dir(data).is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(crate::exit::Usage(format!(
            "{} is not empty: restore into a new folder (--data NEW), check it, then swap it for the old one",
            data.display()
        ))
        .into());
    }
    if let Some((seq, problem)) = check_bodies(bundle)? {
        return Err(crate::exit::Usage(format!(
            "the bundle's event {seq} cannot be restored: {problem}; nothing was restored"
        ))
        .into());
    }
    let staging = data.with_file_name(format!(
        ".{}.restoring-{}",
        data.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    // The ledger is closed (dropped) before its folder is moved into place.
    let restored = Ledger::restore(bundle, &trusted, &staging)
        .map_err(anyhow::Error::from)
        .and_then(|(mut ledger, restored)| {
            for path in from_backup.iter().chain(checkpoints) {
                keep_checkpoint(&mut ledger, path, &trusted)?;
            }
            Ok(restored)
        });
    let restored = match restored {
        Ok(restored) => restored,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error).context("restoring");
        }
    };
    // Everything in the folder is made durable before it takes its name, and the
    // name before restore says it is done.
    let kept = write_keys(&staging, bundle, key)
        .and_then(|()| match &backup {
            Some(backup) => super::backup::restore_beside(backup, &staging),
            None => Ok(Vec::new()),
        })
        .and_then(|kept| super::backup::sync_tree(&staging).map(|()| kept));
    let kept = match kept {
        Ok(kept) => kept,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    if data.exists() {
        std::fs::remove_dir(data)
            .with_context(|| format!("replacing the empty {}", data.display()))?;
    }
    std::fs::rename(&staging, data)
        .with_context(|| format!("moving the restored ledger into {}", data.display()))?;
    ledger::storage::sync_parent(data)?;
    crate::outln!(
        "Restored {} events and {} evidence files into {} from {}, every one as it was: the bundle verified against its checkpoint of size {} signed by {}, and so does the restored ledger.",
        restored.events,
        restored.evidence_files,
        data.display(),
        bundle.display(),
        restored.size,
        restored.signers.join(", ")
    );
    if key.is_none() {
        crate::outln!(
            "The ledger's signing key is not in an export: pass it with --key (or `assure checkpoint --key FILE`) before signing new checkpoints, so they are signed as before."
        );
    }
    if backup.is_some() {
        crate::outln!(
            "From the backup: {} checkpoints{}.",
            from_backup.len(),
            kept.iter().map(|k| format!(", {k}")).collect::<String>()
        );
    }
    if !kept.contains(&super::backup::ACCOUNTS_FILE) {
        crate::outln!(
            "Accounts are not in an export: copy accounts.json from the old folder, or add users again with `assure user add`."
        );
    }
    Ok(())
}

/// Keeps an earlier checkpoint in the restored ledger: it must verify with a
/// trusted key and be the restored tree at its size.
fn keep_checkpoint(
    ledger: &mut Ledger,
    path: &Path,
    trusted: &[ledger::note::VerifierKey],
) -> Result<()> {
    let note = crate::app::keys::read_note(path)?;
    let signed = ledger::checkpoint::SignedCheckpoint::parse(&note).map_err(|e| {
        crate::exit::Usage(format!(
            "{} is not a signed checkpoint: {e}",
            path.display()
        ))
    })?;
    signed.verify(trusted).map_err(|e| {
        crate::exit::Usage(format!(
            "{} does not verify with a key you trust ({e}); nothing was restored",
            path.display()
        ))
    })?;
    ledger.keep_checkpoint(&signed).map_err(|e| {
        crate::exit::Usage(format!("{}: {e}; nothing was restored", path.display())).into()
    })
}

/// The restored ledger's keys: its verifier key (the bundle's key named as the
/// checkpoint's origin, whose signature on it verifies) and, when given, where its
/// signing key is — refused unless it is that key.
fn write_keys(dir: &Path, bundle: &Path, key: Option<&Path>) -> Result<()> {
    use anyhow::Context as _;
    let checkpoint =
        ledger::checkpoint::SignedCheckpoint::parse(&std::fs::read(bundle.join("checkpoint"))?)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let origin = checkpoint.unverified_checkpoint().origin.clone();
    let listed = std::fs::read_to_string(bundle.join("keys")).unwrap_or_default();
    let vkey = listed
        .lines()
        .filter_map(|line| ledger::note::VerifierKey::parse(line.trim()).ok())
        .find(|k| k.name == origin && checkpoint.verify(std::slice::from_ref(k)).is_ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the bundle's keys file has no key named {origin} that signed its checkpoint"
            )
        })?;
    std::fs::create_dir(dir.join("keys")).context("creating the keys folder")?;
    std::fs::write(
        dir.join(crate::app::keys::VKEY_FILE),
        format!("{}\n", vkey.to_vkey_string()),
    )
    .context("writing the ledger's verifier key")?;
    if let Some(path) = key {
        let signing = crate::app::keys::read_key(path)?;
        if signing.verifier().to_vkey_string() != vkey.to_vkey_string() {
            return Err(crate::exit::Usage(format!(
                "{} is not the key that signed this ledger's checkpoints ({}); give the ledger's own signing key",
                path.display(),
                vkey.to_vkey_string()
            ))
            .into());
        }
        let location =
            std::fs::canonicalize(path).with_context(|| format!("locating {}", path.display()))?;
        std::fs::write(
            dir.join(crate::app::keys::KEY_LOCATION),
            location.to_string_lossy().as_bytes(),
        )
        .context("recording where the key is")?;
    }
    Ok(())
}
