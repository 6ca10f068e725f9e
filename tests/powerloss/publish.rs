//! What commands publish beside the data folder: a tiles folder (`assure tiles`) and
//! backups (`assure backup`). After a power cut, a tiles folder's checkpoint must be
//! one that was written, with every file it was published with there, byte for byte
//! (a reader never meets a checkpoint whose tiles are missing); a backup folder must
//! be whole or absent. Once the command has answered, its checkpoint (or a later one)
//! and its backup must be there. A ledger `restore` makes is likewise whole (it opens,
//! verifies and holds every event, with the backup's accounts) or absent, and there
//! once restore has answered.

use std::collections::BTreeMap;
use std::path::Path;

use crate::check;
use crate::disk;
use crate::workload::{Traced, Workload};

pub const TILES: &str = "published";
pub const BACKUPS: &str = "backups";
pub const RESTORED: &str = "restored";

type Contents = BTreeMap<String, Vec<u8>>;

/// What each publishing step left in the real folder, to compare rebuilt ones with.
#[derive(Default)]
pub struct Published {
    /// (step, the tiles folder after it), in order.
    tiles: Vec<(usize, Contents)>,
    /// (step, the backup's folder name, its contents).
    backups: Vec<(usize, String, Contents)>,
}

fn contents(dir: &Path) -> Contents {
    if dir.is_dir() {
        disk::contents(dir)
    } else {
        Contents::new()
    }
}

impl Published {
    /// `assure tiles --out ROOT/published` (with `extra` arguments) as a step.
    pub fn tiles(&mut self, workload: &mut Workload, extra: &[&str]) {
        let out = workload.root().join(TILES);
        let mut args = vec!["tiles", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let step = workload.change(&args);
        self.tiles.push((step, contents(&out)));
    }

    /// `assure backup --out ROOT/backups` as a step.
    pub fn backup(&mut self, workload: &mut Workload) {
        let out = workload.root().join(BACKUPS);
        let step = workload.change(&["backup", "--out", out.to_str().unwrap()]);
        let name = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|name| {
                !name.starts_with('.') && !self.backups.iter().any(|(_, seen, _)| seen == name)
            })
            .expect("the backup's folder");
        let folder = contents(&out.join(&name));
        self.backups.push((step, name, folder));
    }

    /// The checks on a folder rebuilt for a power cut after `cut` records.
    pub fn check(&self, traced: &Traced, rebuilt: &Path, cut: usize) -> Result<(), String> {
        let answered = traced.acknowledged_step(cut);
        self.check_tiles(&contents(&rebuilt.join(TILES)), answered)?;
        self.check_backups(&rebuilt.join(BACKUPS), answered)
    }

    fn check_tiles(&self, found: &Contents, answered: usize) -> Result<(), String> {
        let newest_answered = self.tiles.iter().rposition(|(step, _)| *step <= answered);
        let Some(checkpoint) = found.get("checkpoint") else {
            return match newest_answered {
                Some(i) => Err(format!(
                    "LOST: the tiles folder has no checkpoint, though step {} published one",
                    self.tiles[i].0
                )),
                None => Ok(()),
            };
        };
        let Some(which) = self
            .tiles
            .iter()
            .rposition(|(_, real)| real.get("checkpoint") == Some(checkpoint))
        else {
            return Err("the tiles folder's checkpoint is none that was published".into());
        };
        if newest_answered.is_some_and(|newest| which < newest) {
            return Err(format!(
                "LOST: the tiles folder went back to step {}'s checkpoint after step {} answered",
                self.tiles[which].0, answered
            ));
        }
        for (name, bytes) in &self.tiles[which].1 {
            match found.get(name) {
                Some(there) if there == bytes => {}
                Some(_) => {
                    return Err(format!(
                        "the tiles folder's checkpoint (step {}) names {name}, whose bytes differ",
                        self.tiles[which].0
                    ))
                }
                None => {
                    return Err(format!(
                        "the tiles folder's checkpoint (step {}) is there but {name} is not",
                        self.tiles[which].0
                    ))
                }
            }
        }
        Ok(())
    }

    fn check_backups(&self, dir: &Path, answered: usize) -> Result<(), String> {
        let names: Vec<String> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect(),
            Err(_) => Vec::new(),
        };
        for name in &names {
            let Some((step, _, real)) = self.backups.iter().find(|(_, n, _)| n == name) else {
                return Err(format!("{BACKUPS}/{name} is no backup that was made"));
            };
            if contents(&dir.join(name)) != *real {
                return Err(format!(
                    "{BACKUPS}/{name} (step {step}) is there but not whole"
                ));
            }
        }
        for (step, name, _) in &self.backups {
            if *step <= answered && !names.contains(name) {
                return Err(format!(
                    "LOST: the backup of step {step} ({name}) is gone, though it was reported made"
                ));
            }
        }
        Ok(())
    }
}

/// The checks on the ledger `restore` makes in `ROOT/restored` (as step `step`, from a
/// backup whose accounts are `accounts`), on a folder rebuilt for a cut after `cut`.
pub fn check_restored(
    traced: &Traced,
    rebuilt: &Path,
    cut: usize,
    step: usize,
    accounts: &[u8],
) -> Result<(), String> {
    let restored = rebuilt.join(RESTORED);
    let there = std::fs::read_dir(&restored).is_ok_and(|mut entries| entries.next().is_some());
    if !there {
        return if traced.acknowledged_step(cut) >= step {
            Err("LOST: the restored ledger is gone, though restore reported it done".into())
        } else {
            Ok(())
        };
    }
    let kept = std::fs::read(restored.join("accounts.json")).unwrap_or_default();
    check::check(&restored, &traced.hashes, Some(traced.hashes.len()))
        .map_err(|why| format!("the restored ledger: {why}"))?;
    if kept != accounts {
        return Err(format!(
            "the restored ledger's accounts.json ({} bytes) is not the backup's ({} bytes)",
            kept.len(),
            accounts.len()
        ));
    }
    Ok(())
}
