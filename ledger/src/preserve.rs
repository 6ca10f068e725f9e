//! Keeping what sled's recovery could destroy. When sled 0.34 opens a store whose
//! log holds a damaged message, it zeroes the log from that message on — every later
//! record — and it cannot be asked to look without doing so. So the store is opened
//! as-is only when it is exactly as this ledger left it at its last clean close;
//! otherwise (a crash, a power cut, a file changed by anyone since) a copy of it is
//! kept first, in `DATA/preserved/store-<time>-<pid>/`, and named in any damage
//! message.
//!
//! "Exactly as left" is a fingerprint of the store's files written at each clean
//! close (`DATA/store.closed`: each file's length, modification and change times and
//! inode; the change time moves with any write and cannot be set back by user
//! tools), removed before the store is opened again. The copy holds sled's files
//! byte for byte and its blob files as hard links (sled writes a blob once and may
//! only delete it). A copy made as a precaution is removed at the next clean close
//! if no damage was met meanwhile; after damage it stays until someone acts on it.
//! What this cannot see: bits that rot on the disk without any write.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::storage::sync_dir;

/// The fingerprint of the store as the last clean close left it, in the data folder.
pub const CLOSED_FILE: &str = "store.closed";
/// Where copies of the store are kept, in the data folder.
pub const PRESERVED_DIR: &str = "preserved";

static DAMAGE_SEEN: AtomicBool = AtomicBool::new(false);
static KEPT: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Notes that this process met damage in the ledger: a copy kept before the store was
/// opened stays.
pub fn damage_seen() {
    DAMAGE_SEEN.store(true, Ordering::SeqCst);
}

/// The copy of the store this process kept before opening it, if it made one and
/// met damage (or has not closed the store yet): for the damage message.
pub fn kept_copy() -> Option<PathBuf> {
    KEPT.lock().ok()?.clone()
}

/// Each regular file of the store (and its blob folder) with what a write changes.
fn fingerprint(store: &Path) -> std::io::Result<String> {
    let mut lines = Vec::new();
    let mut add = |path: &Path, name: String| -> std::io::Result<()> {
        let meta = fs::metadata(path)?;
        lines.push(format!(
            "{name} {} {}.{} {}.{} {}",
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
            meta.ino()
        ));
        Ok(())
    };
    for entry in fs::read_dir(store)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        add(&entry.path(), name)?;
    }
    lines.sort();
    Ok(lines.join("\n") + "\n")
}

/// Before sled opens the store in `data/store`: voids the clean-close record (this
/// process may write the store from now on) and, unless the store is exactly as that
/// record says, keeps a copy of it. Returns the copy's path, if one was made.
pub(crate) fn before_open(data: &Path, store: &Path) -> Result<Option<PathBuf>> {
    let closed = data.join(CLOSED_FILE);
    let recorded = fs::read_to_string(&closed).ok();
    let now = fingerprint(store).map_err(|e| Error::io("reading the store's files", e))?;
    if recorded.is_some() {
        fs::remove_file(&closed).map_err(|e| Error::io("removing the clean-close record", e))?;
        sync_dir(data)?;
    }
    if recorded.as_deref() == Some(now.as_str()) {
        return Ok(None);
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let folder = data.join(PRESERVED_DIR);
    let copy = folder.join(format!("store-{stamp}-{}", std::process::id()));
    copy_store(store, &copy).map_err(|e| {
        let _ = fs::remove_dir_all(&copy);
        Error::io(
            format!(
                "keeping a copy of the store in {} before opening it (it was not closed cleanly, or changed since); free some space and try again",
                copy.display()
            ),
            e,
        )
    })?;
    sync_dir(&folder)?;
    if let Ok(mut kept) = KEPT.lock() {
        *kept = Some(copy.clone());
    }
    Ok(Some(copy))
}

fn copy_store(store: &Path, copy: &Path) -> std::io::Result<()> {
    // `preserved/`'s own entry durable too: a copy lost to a power cut while sled
    // recovers would be the very loss it is kept against.
    let folder = copy.parent().unwrap_or(Path::new("."));
    if !folder.is_dir() {
        fs::create_dir(folder)?;
        fs::File::open(folder.parent().unwrap_or(Path::new(".")))?.sync_all()?;
    }
    fs::create_dir(copy)?;
    for entry in fs::read_dir(store)? {
        let entry = entry?;
        let to = copy.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir(&to)?;
            for inner in fs::read_dir(entry.path())? {
                let inner = inner?;
                let target = to.join(inner.file_name());
                // sled writes a blob file once; a link keeps it if sled deletes it.
                if fs::hard_link(inner.path(), &target).is_err() {
                    fs::copy(inner.path(), &target)?;
                    fs::File::open(&target)?.sync_all()?;
                }
            }
            fs::File::open(&to)?.sync_all()?;
        } else {
            fs::copy(entry.path(), &to)?;
            fs::File::open(&to)?.sync_all()?;
        }
    }
    fs::File::open(copy)?.sync_all()
}

/// A folder's entries made durable, best effort: what is written at close is a
/// record whose loss only costs the next open a copy, so it reports no error (and so
/// does not pass through the fault layer, whose every injected fault must surface).
fn sync_dir_quietly(dir: &Path) {
    let _ = fs::File::open(dir).and_then(|d| d.sync_all());
}

/// After sled has closed the store cleanly: records its fingerprint, and removes a
/// copy made as a precaution when no damage was met.
pub(crate) fn after_close(data: &Path, store: &Path, copy: Option<&Path>) {
    let Ok(now) = fingerprint(store) else { return };
    let closed = data.join(CLOSED_FILE);
    let temporary = data.join(format!("{CLOSED_FILE}.tmp"));
    let written = fs::write(&temporary, now.as_bytes())
        .and_then(|()| fs::File::open(&temporary)?.sync_all())
        .and_then(|()| fs::rename(&temporary, &closed));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
        return;
    }
    sync_dir_quietly(data);
    if let Some(copy) = copy {
        if !DAMAGE_SEEN.load(Ordering::SeqCst) && fs::remove_dir_all(copy).is_ok() {
            if let Ok(mut kept) = KEPT.lock() {
                *kept = None;
            }
            let folder = data.join(PRESERVED_DIR);
            let _ = fs::remove_dir(&folder);
            sync_dir_quietly(data);
        }
    }
}
