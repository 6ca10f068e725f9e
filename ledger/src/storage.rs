//! The storage engine boundary: an ordered key-value store with atomic, durable
//! batches. `SledStore` is the only code in the workspace that touches sled.
//!
//! sled 0.34's `flush()` ends in `sync_file_range`, which does not persist file size
//! or metadata (sled issues #1351, #1452, #1077). `commit` therefore flushes and then
//! fsyncs sled's files and directories itself before it returns. Nothing here may
//! panic on a damaged store: sled is called under `catch_unwind` and its panics
//! become `Error::Corruption`.

use std::collections::HashMap;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::faults::{self, Op};

/// A visitor of key-value pairs in a scan; returning `Ok(false)` stops the scan.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// One write of an atomic batch: a value to insert, or `None` to remove the key.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// What the ledger needs of a storage engine; small on purpose so another engine
/// can be swapped in.
pub trait Store: Send + Sync {
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Visits every key in `[start, end)` in ascending order until `visit` returns
    /// `Ok(false)` or an error.
    fn scan(&self, start: &[u8], end: &[u8], visit: &mut Visitor<'_>) -> Result<()>;

    /// The greatest key in `[start, end)` and its value.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>>;

    /// Applies every write or none, visible to reads at once but not yet durable.
    fn apply(&self, writes: Vec<Write>) -> Result<()>;

    /// Makes everything applied so far durable on disk. It may run on another thread
    /// while more writes are applied; those may or may not be made durable too.
    fn sync(&self) -> Result<()>;

    /// Applies every write or none, and returns only once they are durable on disk.
    fn commit(&self, writes: Vec<Write>) -> Result<()> {
        self.apply(writes)?;
        self.sync()
    }
}

/// sled 0.34.7 behind the `Store` trait.
pub struct SledStore {
    dir: PathBuf,
    db: sled::Db,
    /// Kept open so that each commit can `fdatasync` the log file without reopening it.
    db_file: File,
    /// What the last commit saw of sled's off-log blob folder, so each commit fsyncs
    /// only blob files sled wrote since, and skips the folder when it did not change.
    blob_sync: Mutex<BlobSync>,
    /// Dropped after `db` (fields drop in order): records the clean close.
    _closer: Closer,
}

/// Records the store's fingerprint once sled has closed it (`preserve::after_close`).
#[derive(Debug)]
struct Closer {
    store: PathBuf,
    /// The copy kept before this open, if one was made.
    copy: Option<PathBuf>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        if let Some(data) = self.store.parent() {
            crate::preserve::after_close(data, &self.store, self.copy.as_deref());
        }
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").field("dir", &self.dir).finish()
    }
}

#[derive(Debug)]
struct BlobSync {
    /// The blob folder's modification time when last listed.
    folder_mtime: Option<std::time::SystemTime>,
    /// Blob files modified before this moment were fsynced by an earlier commit.
    since: std::time::SystemTime,
    /// Recently modified files already fsynced, with the modification time synced.
    synced: HashMap<std::ffi::OsString, std::time::SystemTime>,
}

/// Runs a sled call, turning both its errors and its panics into our errors.
fn guarded<T>(what: &str, call: impl FnOnce() -> sled::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(sled::Error::Io(source))) => Err(Error::io(format!("store: {what}"), source)),
        Ok(Err(sled::Error::Corruption { .. })) => Err(Error::corruption(
            None,
            format!(
                "the store's files are damaged (sled found corruption while {what}; sled's recovery may already have rewritten part of store/, so the store as it was before this open is kept under preserved/ in the data folder)"
            ),
        )),
        Ok(Err(other)) => Err(Error::Storage {
            what: what.into(),
            message: other.to_string(),
        }),
        Err(_) => Err(Error::corruption(
            None,
            format!("the storage engine failed while {what}; its files are probably damaged"),
        )),
    }
}

impl SledStore {
    /// Creates a new store in `dir`, which must not exist yet.
    pub fn create(dir: &Path) -> Result<SledStore> {
        Self::open_inner(dir, true, None)
    }

    /// Opens an existing store; a missing or empty store is corruption, never a new one.
    pub fn open(dir: &Path) -> Result<SledStore> {
        for name in ["conf", "db"] {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path)
                .map_err(|e| Error::corruption(None, format!("{}: {e}", path.display())))?;
            if meta.len() == 0 {
                return Err(Error::corruption(
                    None,
                    format!("{} is empty", path.display()),
                ));
            }
        }
        drop_unfinished_snapshots(dir)?;
        // sled's recovery may rewrite a store it finds damaged: unless the store is
        // exactly as its last clean close left it, a copy is kept first.
        let copy = match dir.parent() {
            Some(data) => crate::preserve::before_open(data, dir)?,
            None => None,
        };
        Self::open_inner(dir, false, copy)
    }

    fn open_inner(dir: &Path, create: bool, copy: Option<PathBuf>) -> Result<SledStore> {
        let config = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(64 * 1024 * 1024)
            .create_new(create);
        if create {
            faults::before(Op::Create, "store")
                .map_err(|e| Error::io(format!("creating the store in {}", dir.display()), e))?;
        }
        let db = open_with_retry(&config)?;
        if create {
            faults::after(Op::Create, "store");
        }
        let db_path = dir.join("db");
        let db_file = File::open(&db_path)
            .map_err(|e| Error::io(format!("opening {}", db_path.display()), e))?;
        let store = SledStore {
            dir: dir.to_path_buf(),
            db,
            db_file,
            blob_sync: Mutex::new(BlobSync {
                folder_mtime: None,
                // A little before now: file times can be coarse.
                since: std::time::SystemTime::now()
                    .checked_sub(std::time::Duration::from_secs(2))
                    .unwrap_or(std::time::UNIX_EPOCH),
                synced: HashMap::new(),
            }),
            _closer: Closer {
                store: dir.to_path_buf(),
                copy,
            },
        };
        if create {
            store.sync_files()?;
            // sled 0.34 writes its `conf` file without fsyncing it, and `open` refuses
            // an empty one: without this, a power cut soon after `init` could leave a
            // ledger that no longer opens.
            let conf = dir.join("conf");
            faults::io(Op::Fsync, "store config file", || {
                File::open(&conf).and_then(|f| f.sync_all())
            })
            .map_err(|e| Error::io(format!("fsync of {}", conf.display()), e))?;
            sync_dir(dir)?;
        }
        Ok(store)
    }

    /// Makes everything sled has flushed durable: the log file's data and size, and
    /// sled's off-log blob files written since the last commit with their directory
    /// entries. sled's other files (config, snapshots) are written at creation or are
    /// caches it can rebuild from the log, so the store's directory is fsynced at
    /// creation only. sled may delete a blob file at any moment; one that is gone
    /// needs no sync.
    fn sync_files(&self) -> Result<()> {
        faults::io(Op::Fsync, "store log file", || self.db_file.sync_data())
            .map_err(|e| Error::io("fsync of the store's log file", e))?;
        let blobs = self.dir.join("blobs");
        let Ok(folder_mtime) = std::fs::metadata(&blobs).and_then(|m| m.modified()) else {
            return Ok(());
        };
        let mut state = self
            .blob_sync
            .lock()
            .map_err(|_| Error::Rejected("store lock poisoned".into()))?;
        if state.folder_mtime == Some(folder_mtime) {
            return Ok(());
        }
        let listed_at = std::time::SystemTime::now();
        let entries = std::fs::read_dir(&blobs)
            .map_err(|e| Error::io("listing the store's blob files", e))?;
        let mut any_new = false;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
                continue; // sled removed it while we listed
            };
            if modified < state.since || state.synced.get(&name) == Some(&modified) {
                continue;
            }
            match File::open(entry.path()) {
                Ok(file) => faults::io(Op::Fsync, "store blob file", || file.sync_all())
                    .map_err(|e| Error::io("fsync of a store blob", e))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("opening a store blob to fsync it", e)),
            }
            state.synced.insert(name, modified);
            any_new = true;
        }
        if any_new {
            sync_dir(&blobs)?;
        }
        // Files last modified well before this listing are synced: stop tracking them.
        let cutoff = listed_at
            .checked_sub(std::time::Duration::from_secs(2))
            .unwrap_or(std::time::UNIX_EPOCH);
        if cutoff > state.since {
            state.since = cutoff;
            state.synced.retain(|_, modified| *modified >= cutoff);
        }
        state.folder_mtime = Some(folder_mtime);
        Ok(())
    }
}

/// Opens sled, waiting briefly if its file lock is still held. Our own LOCK file
/// already keeps other processes out, so a held sled lock can only be this process's
/// previous handle, whose background flusher lets go a moment after it is dropped.
/// A process killed while sled writes a snapshot leaves `snap.<lsn>.generating`,
/// which sled 0.34.7 then takes for the newest snapshot and refuses to open
/// (spacejam/sled#1527). The file is sled's own unfinished temporary, never
/// renamed into place; its contents are rebuilt from the log. Removing it is the
/// recovery sled omits, and the only file `open` ever removes.
fn drop_unfinished_snapshots(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::corruption(None, format!("{}: {e}", dir.display())))?;
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let unfinished = name
            .strip_prefix("snap.")
            .and_then(|rest| rest.strip_suffix(".generating"))
            .is_some_and(|lsn| !lsn.is_empty() && lsn.chars().all(|c| c.is_ascii_hexdigit()));
        if unfinished && entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::remove_file(entry.path()).map_err(|e| {
                Error::io(
                    format!(
                        "removing sled's unfinished snapshot {}",
                        entry.path().display()
                    ),
                    e,
                )
            })?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

fn open_with_retry(config: &sled::Config) -> Result<sled::Db> {
    let mut waited = std::time::Duration::ZERO;
    loop {
        match guarded("opening the store", || config.open()) {
            Err(Error::Io { io: source, .. })
                if source.to_string().contains("could not acquire lock")
                    && waited < std::time::Duration::from_secs(5) =>
            {
                let pause = std::time::Duration::from_millis(10);
                std::thread::sleep(pause);
                waited += pause;
            }
            other => return other,
        }
    }
}

/// Creates `dir` and any folders missing above it, durably: each new folder's entry is
/// fsynced in its parent, so that a power cut cannot take away a folder whose files
/// were made durable in it (fsyncing the files and their own folder is the caller's).
pub fn create_dir_all_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    create_dir_all_durably(parent)?;
    match std::fs::create_dir(dir) {
        Ok(()) => sync_dir(parent),
        // Made meanwhile by another process: its entry is made durable all the same.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => sync_dir(parent),
        Err(e) => Err(Error::io(format!("creating {}", dir.display()), e)),
    }
}

/// fsyncs the folder `path` is named in (`.` for a bare name), so that its entry
/// survives a power cut.
pub fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// fsyncs a directory so that files created or renamed in it survive a power cut.
pub fn sync_dir(dir: &Path) -> Result<()> {
    faults::io(Op::Fsync, &format!("directory {}", dir.display()), || {
        File::open(dir).and_then(|d| d.sync_all())
    })
    .map_err(|e| Error::io(format!("fsync of directory {}", dir.display()), e))
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = guarded("reading", || self.db.get(key))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn scan(&self, start: &[u8], end: &[u8], visit: &mut Visitor<'_>) -> Result<()> {
        let mut iter = self.db.range(start..end);
        loop {
            let next = guarded("scanning", || iter.next().transpose())?;
            let Some((key, value)) = next else {
                return Ok(());
            };
            if !visit(&key, &value)? {
                return Ok(());
            }
        }
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let last = guarded("scanning backwards", || {
            self.db.range(start..end).next_back().transpose()
        })?;
        Ok(last.map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        faults::before(Op::Write, "store batch")
            .map_err(|e| Error::io("store: writing a batch", e))?;
        guarded("writing a batch", || self.db.apply_batch(batch))?;
        faults::after(Op::Write, "store batch");
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        faults::before(Op::Write, "store flush").map_err(|e| Error::io("store: flushing", e))?;
        guarded("flushing", || self.db.flush())?;
        faults::after(Op::Write, "store flush");
        self.sync_files()
    }
}
