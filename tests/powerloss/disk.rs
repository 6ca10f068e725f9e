//! The disk rebuilder: from a snapshot of the data folder (taken as durable) and the
//! trace of what the workload did to it, the folder as a power cut just after record
//! `cut` could leave it. The model (docs/RELIABILITY.md, "Power loss"):
//!
//! - A file's bytes and length are durable as of its last `fsync`/`fdatasync` before
//!   the cut. Each later change (a write, a run of zeros, a new length) may have
//!   reached the disk or not, independently; a write or zero run that spans several
//!   4 KiB blocks of the file may have reached it only in some of those blocks (torn),
//!   and a block written past the durable end leaves zeros in any gap before it.
//! - A directory entry made, removed or renamed (create, mkdir, unlink, rmdir, rename)
//!   is durable once every folder it changes has been fsynced after it; until then it
//!   may have been kept or reverted, each independently, a rename as a whole. An entry
//!   whose folder is not there, or whose file has been moved by an earlier kept change,
//!   is not applied.
//! - `sync_file_range` persists nothing (it does not persist the length or the file's
//!   metadata; treating it as nothing gives more possible disks, never fewer). Files
//!   are named by inode in the trace, so a write through a descriptor still reaches
//!   its file after the file or its folder was renamed.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path};

use crate::rng::Rng;
use crate::trace::{Call, Record};

const BLOCK: u64 = 4096;

type Id = usize;

/// A file or folder as the workload found it.
struct Initial {
    dir: bool,
    socket: bool,
    bytes: Vec<u8>,
    mode: u32,
}

/// The data folder before the traced workload: its files, folders and their inodes.
pub struct Snapshot {
    objects: Vec<Initial>,
    tree: HashMap<Id, BTreeMap<OsString, Id>>,
    inos: HashMap<u64, Id>,
}

impl Snapshot {
    pub fn take(root: &Path) -> Snapshot {
        let mut snapshot = Snapshot {
            objects: Vec::new(),
            tree: HashMap::new(),
            inos: HashMap::new(),
        };
        snapshot.add(root);
        snapshot
    }

    fn add(&mut self, path: &Path) -> Id {
        let meta = std::fs::symlink_metadata(path).unwrap();
        let id = self.objects.len();
        self.inos.insert(meta.ino(), id);
        self.objects.push(Initial {
            dir: meta.is_dir(),
            socket: meta.file_type().is_socket(),
            bytes: if meta.is_file() {
                std::fs::read(path).unwrap()
            } else {
                Vec::new()
            },
            mode: meta.permissions().mode() & 0o7777,
        });
        if meta.is_dir() {
            let mut entries = BTreeMap::new();
            for entry in std::fs::read_dir(path).unwrap() {
                let entry = entry.unwrap();
                let child = self.add(&entry.path());
                entries.insert(entry.file_name(), child);
            }
            self.tree.insert(id, entries);
        }
        id
    }
}

/// A change to a file's bytes or length, borrowed from the trace.
enum Change<'a> {
    Write { offset: u64, bytes: &'a [u8] },
    Zeros { offset: u64, len: u64 },
    Length(u64),
}

/// A change to a directory entry, by the ids of the folders and the file it moves.
enum Name {
    Link {
        parent: Id,
        name: OsString,
        child: Id,
    },
    Unlink {
        parent: Id,
        name: OsString,
        child: Id,
    },
    Rename {
        from: (Id, OsString),
        to: (Id, OsString),
        child: Id,
    },
}

struct NameChange {
    change: Name,
    /// The folders still to be fsynced before the change is durable.
    waiting: Vec<Id>,
}

struct Object<'a> {
    dir: bool,
    /// A Unix socket's entry (the service's `.service/socket`): no bytes.
    socket: bool,
    changes: Vec<Change<'a>>,
    /// How many of `changes` are durable (made before the file's last fsync).
    synced: usize,
}

/// Which of the changes that are not durable reached the disk.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// None: only what was fsynced.
    Durable,
    /// All of them, whole (what a SIGKILL leaves).
    Everything,
    /// Each with probability ½; a write over several blocks torn with probability ½
    /// (then each block kept with probability ½). Seeded.
    Random(u64),
}

/// The trace replayed up to a cut: every file's changes and how many are durable, and
/// every entry change and whether it is.
pub struct Replay<'a> {
    snapshot: &'a Snapshot,
    objects: Vec<Object<'a>>,
    names: Vec<NameChange>,
    /// The folder tree as the workload saw it (every change applied).
    tree: HashMap<Id, BTreeMap<OsString, Id>>,
    inos: HashMap<u64, Id>,
}

impl<'a> Replay<'a> {
    /// The records before `cut` replayed; `ignore_sync`, if given, is a sync record
    /// treated as if it had not happened (the checker's own test uses it).
    pub fn new(
        snapshot: &'a Snapshot,
        records: &'a [Record],
        cut: usize,
        ignore_sync: Option<usize>,
    ) -> Result<Replay<'a>, String> {
        let mut replay = Replay {
            snapshot,
            objects: snapshot
                .objects
                .iter()
                .map(|o| Object {
                    dir: o.dir,
                    socket: o.socket,
                    changes: Vec::new(),
                    synced: 0,
                })
                .collect(),
            names: Vec::new(),
            tree: snapshot.tree.clone(),
            inos: snapshot.inos.clone(),
        };
        for (i, record) in records[..cut].iter().enumerate() {
            replay
                .record(&record.call, ignore_sync == Some(i))
                .map_err(|e| format!("trace record {i} ({:?}): {e}", short(&record.call)))?;
        }
        Ok(replay)
    }

    fn resolve(&self, path: &Path) -> Result<(Id, OsString), String> {
        let mut parts: Vec<&std::ffi::OsStr> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(p) => Some(p),
                _ => None,
            })
            .collect();
        let name = parts.pop().ok_or("the data folder itself")?.to_owned();
        let mut at = 0;
        for part in parts {
            at = *self
                .tree
                .get(&at)
                .and_then(|d| d.get(part))
                .ok_or_else(|| format!("no folder {}", path.display()))?;
        }
        if !self.objects[at].dir {
            return Err(format!("{} is not in a folder", path.display()));
        }
        Ok((at, name))
    }

    fn id(&self, ino: u64) -> Result<Id, String> {
        self.inos
            .get(&ino)
            .copied()
            .ok_or_else(|| format!("inode {ino} was never seen made (an untraced call?)"))
    }

    fn new_object(&mut self, ino: u64, path: &Path, dir: bool, socket: bool) -> Result<(), String> {
        let (parent, name) = self.resolve(path)?;
        let child = self.objects.len();
        self.objects.push(Object {
            dir,
            socket,
            changes: Vec::new(),
            synced: 0,
        });
        if dir {
            self.tree.insert(child, BTreeMap::new());
        }
        self.inos.insert(ino, child);
        self.tree
            .get_mut(&parent)
            .unwrap()
            .insert(name.clone(), child);
        self.names.push(NameChange {
            change: Name::Link {
                parent,
                name,
                child,
            },
            waiting: vec![parent],
        });
        Ok(())
    }

    fn remove(&mut self, path: &Path) -> Result<(), String> {
        let (parent, name) = self.resolve(path)?;
        let child = self
            .tree
            .get_mut(&parent)
            .unwrap()
            .remove(&name)
            .ok_or_else(|| format!("no entry {}", path.display()))?;
        self.names.push(NameChange {
            change: Name::Unlink {
                parent,
                name,
                child,
            },
            waiting: vec![parent],
        });
        Ok(())
    }

    fn record(&mut self, call: &'a Call, ignored: bool) -> Result<(), String> {
        match call {
            Call::Create {
                ino,
                path: Some(path),
            } => self.new_object(*ino, path, false, false)?,
            Call::Mkdir {
                ino,
                path: Some(path),
            } => self.new_object(*ino, path, true, false)?,
            Call::Socket {
                ino,
                path: Some(path),
            } => self.new_object(*ino, path, false, true)?,
            Call::Truncate { ino, len } => {
                let id = self.id(*ino)?;
                self.objects[id].changes.push(Change::Length(*len));
            }
            Call::Write { ino, offset, bytes } => {
                let id = self.id(*ino)?;
                self.objects[id].changes.push(Change::Write {
                    offset: *offset,
                    bytes,
                });
            }
            Call::Zeros { ino, offset, len } => {
                let id = self.id(*ino)?;
                self.objects[id].changes.push(Change::Zeros {
                    offset: *offset,
                    len: *len,
                });
            }
            Call::Sync { ino, .. } if !ignored => {
                let id = self.id(*ino)?;
                if self.objects[id].dir {
                    for name in &mut self.names {
                        name.waiting.retain(|&d| d != id);
                    }
                } else {
                    self.objects[id].synced = self.objects[id].changes.len();
                }
            }
            Call::Rename {
                from: Some(from),
                to: Some(to),
            } => {
                let (fp, fname) = self.resolve(from)?;
                let child = *self.tree[&fp]
                    .get(&fname)
                    .ok_or_else(|| format!("no entry {}", from.display()))?;
                let (tp, tname) = self.resolve(to)?;
                self.tree.get_mut(&fp).unwrap().remove(&fname);
                self.tree.get_mut(&tp).unwrap().insert(tname.clone(), child);
                let mut waiting = vec![fp, tp];
                waiting.dedup();
                self.names.push(NameChange {
                    change: Name::Rename {
                        from: (fp, fname),
                        to: (tp, tname),
                        child,
                    },
                    waiting,
                });
            }
            Call::Rename {
                from: Some(from),
                to: None,
            } => self.remove(from)?,
            Call::Rename {
                from: None,
                to: Some(_),
            } => {
                return Err(
                    "a file moved into the data folder from outside: its bytes are unknown".into(),
                )
            }
            Call::Unlink { path: Some(path) } | Call::Rmdir { path: Some(path) } => {
                self.remove(path)?
            }
            Call::Exchange => return Err("renameat2(RENAME_EXCHANGE) is not modelled".into()),
            _ => {}
        }
        Ok(())
    }

    /// How many file changes and entry changes are not durable at the cut.
    pub fn pending(&self) -> (usize, usize) {
        let changes = self
            .objects
            .iter()
            .map(|o| o.changes.len() - o.synced)
            .sum();
        let names = self.names.iter().filter(|n| !n.waiting.is_empty()).count();
        (changes, names)
    }

    /// Writes the folder as the power cut left it (by `keep`) to `out`, which must not exist.
    pub fn write(&self, keep: Keep, out: &Path) {
        let mut rng = Rng(match keep {
            Keep::Random(seed) => seed,
            _ => 0,
        });
        let coin = |rng: &mut Rng| match keep {
            Keep::Durable => false,
            Keep::Everything => true,
            Keep::Random(_) => rng.below(2) == 0,
        };
        let mut tree = self.snapshot.tree.clone();
        for name in &self.names {
            if !name.waiting.is_empty() && !coin(&mut rng) {
                continue;
            }
            match &name.change {
                Name::Link {
                    parent,
                    name,
                    child,
                } => {
                    tree.entry(*parent)
                        .or_default()
                        .insert(name.clone(), *child);
                    if self.objects[*child].dir {
                        tree.entry(*child).or_default();
                    }
                }
                Name::Unlink {
                    parent,
                    name,
                    child,
                } => {
                    if tree.get(parent).and_then(|d| d.get(name)) == Some(child) {
                        tree.get_mut(parent).unwrap().remove(name);
                    }
                }
                Name::Rename { from, to, child } => {
                    if tree.get(&from.0).and_then(|d| d.get(&from.1)) == Some(child) {
                        tree.get_mut(&from.0).unwrap().remove(&from.1);
                        tree.entry(to.0).or_default().insert(to.1.clone(), *child);
                    }
                }
            }
        }
        std::fs::create_dir(out).unwrap();
        self.materialise(&tree, 0, out, &mut rng, keep, 0);
    }

    fn materialise(
        &self,
        tree: &HashMap<Id, BTreeMap<OsString, Id>>,
        dir: Id,
        out: &Path,
        rng: &mut Rng,
        keep: Keep,
        depth: usize,
    ) {
        assert!(depth < 64, "a folder inside itself");
        for (name, &child) in tree.get(&dir).into_iter().flatten() {
            let path = out.join(name);
            if self.objects[child].dir {
                std::fs::create_dir(&path).unwrap();
                self.materialise(tree, child, &path, rng, keep, depth + 1);
            } else if self.objects[child].socket {
                // A socket file nobody listens on, as a process killed while serving leaves.
                drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
            } else {
                std::fs::write(&path, self.bytes(child, rng, keep)).unwrap();
                if let Some(initial) = self.snapshot.objects.get(child) {
                    let mode = std::fs::Permissions::from_mode(initial.mode);
                    std::fs::set_permissions(&path, mode).unwrap();
                }
            }
        }
    }

    /// A file's bytes: the durable changes, then those of the later ones kept.
    fn bytes(&self, id: Id, rng: &mut Rng, keep: Keep) -> Vec<u8> {
        let object = &self.objects[id];
        let mut bytes = self
            .snapshot
            .objects
            .get(id)
            .map(|o| o.bytes.clone())
            .unwrap_or_default();
        for (i, change) in object.changes.iter().enumerate() {
            let torn = if i < object.synced {
                false
            } else {
                match keep {
                    Keep::Durable => continue,
                    Keep::Everything => false,
                    Keep::Random(_) => {
                        if rng.below(2) == 0 {
                            continue;
                        }
                        rng.below(2) == 0
                    }
                }
            };
            let (offset, len, data) = match change {
                Change::Length(len) => {
                    bytes.resize(*len as usize, 0);
                    continue;
                }
                Change::Write { offset, bytes } => (*offset, bytes.len() as u64, Some(*bytes)),
                Change::Zeros { offset, len } => (*offset, *len, None),
            };
            let end = offset + len;
            let mut at = offset;
            while at < end {
                let block_end = ((at / BLOCK + 1) * BLOCK).min(end);
                if !torn || rng.below(2) == 0 {
                    if bytes.len() < block_end as usize {
                        bytes.resize(block_end as usize, 0);
                    }
                    let target = &mut bytes[at as usize..block_end as usize];
                    match data {
                        Some(data) => target.copy_from_slice(
                            &data[(at - offset) as usize..(block_end - offset) as usize],
                        ),
                        None => target.fill(0),
                    }
                }
                at = block_end;
            }
        }
        bytes
    }
}

/// A record without its bytes, for messages.
fn short(call: &Call) -> String {
    match call {
        Call::Write { ino, offset, bytes } => {
            format!("write of {} bytes at {offset} to inode {ino}", bytes.len())
        }
        Call::Output { bytes } => format!("output of {} bytes", bytes.len()),
        other => format!("{other:?}"),
    }
}

/// Every file under `root` with its bytes, by relative path (folders end in `/`).
pub fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                out.insert(format!("{name}/"), Vec::new());
                walk(root, &path, out);
            } else if path.metadata().unwrap().file_type().is_socket() {
                out.insert(format!("{name} (socket)"), Vec::new());
            } else {
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}
