//! `assure backup`: everything `assure restore` needs to rebuild a working ledger,
//! in one folder that is either whole or absent.
//!
//! `OUT/assure-backup-<UTC time>-<size>/` holds `bundle/` (a full export, verified as
//! it was written), `checkpoints/<size>.note` (every checkpoint the ledger holds,
//! co-signatures and witnesses' cosignatures included), `keys/` (the ledger's,
//! co-signers' and witnesses' public keys, the witnesses it asks), `accounts.json`
//! (owner-only) and `RESTORE.txt` (the command that restores it). It is written under
//! a hidden name, every file and folder fsynced, then renamed into place. The
//! ledger's signing key is never in a backup: it is kept apart, by its owner.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use ledger::Ledger;

use crate::app::keys::{COSIGNERS_FILE, VKEY_FILE};

/// What a backup holds beside its bundle, as paths inside it (and inside a data
/// folder): restore puts each back.
pub const KEPT: [&str; 4] = [
    VKEY_FILE,
    COSIGNERS_FILE,
    crate::app::witnessing::FILE,
    ACCOUNTS_FILE,
];
/// The service's accounts (`web::accounts::FILE`, named here because the command line
/// reaches into the web only to serve; the backup test checks they are the same file).
pub const ACCOUNTS_FILE: &str = "accounts.json";
pub const BUNDLE: &str = "bundle";
pub const CHECKPOINTS: &str = "checkpoints";
pub const README: &str = "RESTORE.txt";

/// Whether `dir` is a backup (not a bare bundle).
pub fn is_backup(dir: &Path) -> bool {
    dir.join(BUNDLE).is_dir() && dir.join(README).is_file()
}

pub fn backup(
    ledger: &mut Ledger,
    out: &Path,
    key: Option<&Path>,
    cosigners: &[ledger::note::VerifierKey],
) -> Result<()> {
    let data = ledger.dir().to_path_buf();
    ledger::storage::create_dir_all_durably(out)?;
    let name = format!(
        "assure-backup-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        ledger.size()
    );
    let staging = out.join(format!(".{name}.partial"));
    let target = out.join(&name);
    if target.exists() {
        return Err(crate::exit::Usage(format!(
            "{} exists already; wait a second and run the backup again",
            target.display()
        ))
        .into());
    }
    let _ = std::fs::remove_dir_all(&staging);
    let written = write(ledger, &data, &staging, key, cosigners);
    let exported = match written {
        Ok(exported) => exported,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error.context("writing the backup; no backup was made"));
        }
    };
    std::fs::rename(&staging, &target)
        .with_context(|| format!("moving the backup into {}", target.display()))?;
    ledger::storage::sync_dir(out)?;
    crate::outln!(
        "Backed up {} events, {} evidence files and {} checkpoints to {}.",
        exported.events,
        exported.evidence_files,
        exported.checkpoints,
        target.display()
    );
    crate::outln!(
        "Restore it with: assure restore --bundle {} --trust {} --data NEW-FOLDER --key YOUR-SIGNING-KEY",
        target.display(),
        exported.vkey
    );
    Ok(())
}

struct Written {
    events: usize,
    evidence_files: usize,
    checkpoints: usize,
    vkey: String,
}

fn write(
    ledger: &mut Ledger,
    data: &Path,
    dir: &Path,
    key: Option<&Path>,
    cosigners: &[ledger::note::VerifierKey],
) -> Result<Written> {
    std::fs::create_dir_all(dir.join(CHECKPOINTS))
        .with_context(|| format!("making {}", dir.display()))?;
    let exported = crate::app::export::export(ledger, &dir.join(BUNDLE), None, key, cosigners)?;
    for answer in &exported.witnesses {
        crate::errln!("{answer}");
    }
    let checkpoints = ledger.checkpoints()?;
    for checkpoint in &checkpoints {
        let size = checkpoint.unverified_checkpoint().size;
        std::fs::write(
            dir.join(CHECKPOINTS).join(format!("{size}.note")),
            checkpoint.to_string(),
        )?;
    }
    for kept in KEPT {
        let from = data.join(kept);
        if from.is_file() {
            let to = dir.join(kept);
            std::fs::create_dir_all(to.parent().unwrap_or(dir))?;
            std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        }
    }
    std::fs::write(
        dir.join(README),
        format!(
            "An Assure backup of the ledger in {data}: {events} events, under a checkpoint of size {size}.\n\n\
             Restore it into a new folder, trusting the ledger's verifier key as you know it\n\
             (not only as this backup says; it is also in keys/ledger.vkey here):\n\n\
             \tassure restore --bundle THIS-FOLDER --trust '{vkey}' --data NEW-FOLDER --key THE-LEDGER-SIGNING-KEY\n\n\
             The bundle is verified first; the restored ledger has every event, evidence file and\n\
             checkpoint as they were, and the accounts, co-signers and witnesses kept here.\n\
             The signing key is not in a backup: without --key the restored ledger can be read\n\
             and verified but signs no checkpoint until it is given.\n",
            data = data.display(),
            events = exported.events,
            size = exported.size,
            vkey = exported.vkey,
        ),
    )?;
    sync_tree(dir)?;
    Ok(Written {
        events: exported.events,
        evidence_files: exported.evidence_files,
        checkpoints: checkpoints.len(),
        vkey: exported.vkey,
    })
}

/// Every file and folder under `dir` on disk, the folders after what they hold.
pub(crate) fn sync_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("syncing {}", path.display()))?;
        }
    }
    ledger::storage::sync_dir(dir)?;
    Ok(())
}

/// Restore's part, before the ledger is rebuilt: the checkpoints a backup holds, as
/// paths for `--checkpoint`, smallest size first.
pub fn checkpoints_in(backup: &Path) -> Result<Vec<PathBuf>> {
    let folder = backup.join(CHECKPOINTS);
    let mut notes: Vec<(u64, PathBuf)> = std::fs::read_dir(&folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let size = p.file_stem()?.to_str()?.parse().ok()?;
            Some((size, p))
        })
        .collect();
    notes.sort();
    Ok(notes.into_iter().map(|(_, p)| p).collect())
}

/// Restore's part, once the ledger is rebuilt in `staging`: what a backup keeps
/// beside its bundle put back (the ledger's verifier key is restore's own work).
/// Returns the files put back.
pub fn restore_beside(backup: &Path, staging: &Path) -> Result<Vec<&'static str>> {
    let mut put_back = Vec::new();
    for kept in KEPT.iter().filter(|k| **k != VKEY_FILE) {
        let from = backup.join(kept);
        if from.is_file() {
            let to = staging.join(kept);
            std::fs::create_dir_all(to.parent().unwrap_or(staging))?;
            std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
            put_back.push(*kept);
        }
    }
    Ok(put_back)
}
