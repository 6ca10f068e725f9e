//! The log as a C2SP tlog-tiles publication (`proof::tiles` is the format): the
//! bytes of any tile or entry bundle of the tree at a checkpoint's size, from the
//! store, and a folder of them written or brought up to date for a static host.
//!
//! Full tiles never change, so an update writes only what is new: the full tiles
//! completed since, the partial ones of the new size, then the checkpoint — last,
//! after everything it names is durable, so a reader never sees a checkpoint whose
//! tiles are missing. A check (`check_tiles`) instead reads every file back and
//! rewrites any whose bytes are not the log's: a folder altered or damaged on its
//! host is repaired, and the count says so.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::checkpoint::SignedCheckpoint;
use crate::chunks::scan_records;
use crate::codec;
use crate::error::{Error, Result};
use crate::merkle::{self, NodeSource};
use crate::proof::tiles::{entry_bundle, tiles_of, Tile, TILE_WIDTH};
use crate::storage::{create_dir_all_durably, sync_dir};
use crate::tree::StoredTree;
use crate::{Hash, Ledger};

/// What `write_tiles` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TilesWritten {
    /// The tree size published (the checkpoint's).
    pub size: u64,
    /// Tile and entry-bundle files written.
    pub written: usize,
    /// Full tiles already in the folder, left as they were.
    pub kept: usize,
    /// Of those written, files that were there with other bytes (a check only).
    pub repaired: usize,
}

impl Ledger {
    /// The bytes of `tile` (a Merkle tile, or with `entries` its entry bundle) in the
    /// tree of the first `size` events; refused when that tree has no such tile.
    pub fn tile(&self, tile: Tile, entries: bool, size: u64) -> Result<Vec<u8>> {
        if size > self.size() || !tiles_of(size).contains(&tile) || (entries && tile.level > 0) {
            return Err(Error::Rejected(format!(
                "the tree of {size} events has no {}",
                if entries {
                    tile.entries_path()
                } else {
                    tile.path()
                }
            )));
        }
        let (start, end) = tile.leaves();
        if tile.level == 0 {
            let hashes = self.event_hashes(start, end)?;
            return Ok(if entries {
                entry_bundle(&hashes)
            } else {
                hashes.iter().flat_map(merkle::leaf_hash).collect()
            });
        }
        // Each hash is a complete subtree of 256^level leaves, kept in the store.
        let tree = StoredTree {
            store: &*self.store,
            size,
        };
        let height = 8 * tile.level;
        let first = tile.index * TILE_WIDTH;
        let mut bytes = Vec::with_capacity(tile.width as usize * 32);
        for i in first..first + tile.width {
            bytes.extend_from_slice(&tree.node(height, i)?);
        }
        Ok(bytes)
    }

    fn event_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
        let mut hashes = Vec::with_capacity((end - start) as usize);
        scan_records(&*self.store, start..end, &mut |seq, record| {
            let parts =
                codec::split_record(record).map_err(|why| Error::corruption(Some(seq), why))?;
            hashes.push(*blake3::hash(parts.leaf).as_bytes());
            Ok(true)
        })?;
        if hashes.len() as u64 != end - start {
            return Err(Error::corruption(
                Some(start + hashes.len() as u64),
                "the event is missing from the store",
            ));
        }
        Ok(hashes)
    }

    /// Writes (or brings up to date) the tlog-tiles publication of `checkpoint` in
    /// `out`: every tile and entry bundle of its tree not already there, then the
    /// checkpoint. The checkpoint must be one of this ledger's (its root is checked).
    pub fn write_tiles(&self, out: &Path, checkpoint: &SignedCheckpoint) -> Result<TilesWritten> {
        self.publish_tiles(out, checkpoint, false)
    }

    /// Like `write_tiles`, but every file of the tree is read back and compared with
    /// the log's bytes, and rewritten where it differs (`repaired` counts those).
    pub fn check_tiles(&self, out: &Path, checkpoint: &SignedCheckpoint) -> Result<TilesWritten> {
        self.publish_tiles(out, checkpoint, true)
    }

    fn publish_tiles(
        &self,
        out: &Path,
        checkpoint: &SignedCheckpoint,
        check: bool,
    ) -> Result<TilesWritten> {
        let body = checkpoint.unverified_checkpoint();
        let size = body.size;
        if size > self.size() || self.root_at(size)? != body.root {
            return Err(Error::Rejected(format!(
                "the checkpoint of size {size} does not match this ledger's tree"
            )));
        }
        let mut done = TilesWritten {
            size,
            ..TilesWritten::default()
        };
        // Full tiles inside the tree the folder already published were written before
        // its checkpoint was: only what lies beyond it is looked at.
        let published = if check {
            0
        } else {
            self.published_size(out).min(size)
        };
        let mut dirs = BTreeSet::new();
        for tile in tiles_of(size) {
            if tile.is_full() && tile.leaves().1 <= published {
                done.kept += if tile.level == 0 { 2 } else { 1 };
                continue;
            }
            let mut files = vec![(tile.path(), false)];
            if tile.level == 0 {
                files.push((tile.entries_path(), true));
            }
            for (path, entries) in files {
                let file = out.join(&path);
                let expected = if entries {
                    tile.width * 34
                } else {
                    tile.width * 32
                };
                if tile.is_full()
                    && !check
                    && fs::metadata(&file).is_ok_and(|m| m.len() == expected)
                {
                    done.kept += 1;
                    continue;
                }
                let bytes = self.tile(tile, entries, size)?;
                if check {
                    match fs::read(&file) {
                        Ok(there) if there == bytes && tile.is_full() => {
                            done.kept += 1;
                            continue;
                        }
                        Ok(there) if there != bytes => done.repaired += 1,
                        _ => {}
                    }
                }
                write_file(&file, &bytes)?;
                if let Some(dir) = file.parent() {
                    dirs.insert(dir.to_path_buf());
                }
                done.written += 1;
            }
        }
        for dir in &dirs {
            sync_dir(dir)?;
        }
        // The checkpoint last, replacing the old one in one rename.
        let staged = out.join(".checkpoint.new");
        write_file(&staged, checkpoint.to_string().as_bytes())?;
        fs::rename(&staged, out.join("checkpoint"))
            .map_err(|e| Error::io("publishing the checkpoint", e))?;
        sync_dir(out)?;
        Ok(done)
    }
}

impl Ledger {
    /// The size of the tree a folder's checkpoint publishes, if it is this ledger's
    /// (its root matches ours at that size); 0 otherwise.
    fn published_size(&self, out: &Path) -> u64 {
        let Ok(bytes) = fs::read(out.join("checkpoint")) else {
            return 0;
        };
        let Ok(checkpoint) = SignedCheckpoint::parse(&bytes) else {
            return 0;
        };
        let body = checkpoint.unverified_checkpoint();
        let ours =
            body.size <= self.size() && self.root_at(body.size).is_ok_and(|r| r == body.root);
        if ours {
            body.size
        } else {
            0
        }
    }
}

/// Writes a file whole and durably: a temporary name beside it, fsynced, renamed.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Rejected(format!("{} has no folder", path.display())))?;
    create_dir_all_durably(dir)?;
    let mut temporary = PathBuf::from(path);
    temporary.as_mut_os_string().push(".tmp");
    let mut file = fs::File::create(&temporary)
        .map_err(|e| Error::io(format!("creating {}", temporary.display()), e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| Error::io(format!("writing {}", temporary.display()), e))?;
    fs::rename(&temporary, path).map_err(|e| Error::io(format!("naming {}", path.display()), e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::note::SigningKey;
    use crate::NewEvent;

    fn ledger_of(n: u64) -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::init(&dir.path().join("data")).unwrap();
        let events: Vec<NewEvent> = (0..n as usize)
            .map(|i| crate::tests::new_event(i, "test/tiles"))
            .collect();
        for batch in events.chunks(1000) {
            ledger.append(batch.to_vec()).unwrap();
        }
        (dir, ledger)
    }

    #[test]
    fn tiles_rebuild_the_root_and_an_update_writes_only_what_is_new() {
        let key = SigningKey::generate("tiles.test/log").unwrap();
        let (dir, mut ledger) = ledger_of(70_000);
        let first = ledger.make_checkpoint(&key).unwrap();
        let out = dir.path().join("tiles");
        let written = ledger.write_tiles(&out, &first).unwrap();
        assert_eq!(written.kept, 0);
        assert_eq!(written.written, (273 + 1) * 2 + 1 + 1 + 1);

        // The level-1 tile's hashes are the roots of its 256-leaf ranges, which the
        // level-0 tiles' hashes hash to.
        let level1 = fs::read(out.join("tile/1/000")).unwrap();
        let level0 = fs::read(out.join("tile/0/003")).unwrap();
        let leaves: Vec<Hash> = level0.chunks(32).map(|c| c.try_into().unwrap()).collect();
        let mut nodes = merkle::MemNodes::new();
        for leaf in leaves {
            nodes.push_leaf_hash(leaf).unwrap();
        }
        assert_eq!(&level1[3 * 32..4 * 32], &nodes.root());
        assert_eq!(
            fs::read_to_string(out.join("checkpoint")).unwrap(),
            first.to_string()
        );

        // One more batch: only the tiles it completes or changes are written.
        let more: Vec<NewEvent> = (70_000..70_300)
            .map(|i| crate::tests::new_event(i, "test/tiles"))
            .collect();
        ledger.append(more).unwrap();
        let second = ledger.make_checkpoint(&key).unwrap();
        let update = ledger.write_tiles(&out, &second).unwrap();
        // Full level-0 tile 273 (now complete) and its bundle, partial 274 and its
        // bundle, the partial level-1 and level-2 tiles.
        assert_eq!(update.written, 2 + 2 + 1 + 1, "{update:?}");
        assert_eq!(update.kept, 273 * 2 + 1);

        // A tile altered on the host is not looked at by an update, but a check
        // rewrites it (and only it) and says so.
        let altered = out.join("tile/0/005");
        let mut bytes = fs::read(&altered).unwrap();
        bytes[100] ^= 1;
        fs::write(&altered, &bytes).unwrap();
        fs::remove_file(out.join("tile/entries/007")).unwrap();
        assert_eq!(ledger.write_tiles(&out, &second).unwrap().repaired, 0);
        let checked = ledger.check_tiles(&out, &second).unwrap();
        assert_eq!(checked.repaired, 1, "{checked:?}");
        assert_eq!(checked.written, 1 + 1 + 2 + 1 + 1, "{checked:?}");
        assert_eq!(checked.kept, 274 * 2 + 1 - 2, "{checked:?}");
        assert_eq!(
            fs::read(&altered).unwrap(),
            ledger
                .tile(
                    Tile {
                        level: 0,
                        index: 5,
                        width: 256
                    },
                    false,
                    ledger.size()
                )
                .unwrap()
        );
        assert!(out.join("tile/entries/007").exists());

        // A checkpoint of another tree is refused.
        let other = ledger_of(10).1.make_checkpoint(&key).unwrap();
        assert!(ledger.write_tiles(&out, &other).is_err());
        assert!(ledger
            .tile(
                Tile {
                    level: 0,
                    index: 999,
                    width: 256
                },
                false,
                ledger.size()
            )
            .is_err());
    }
}
