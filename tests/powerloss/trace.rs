//! The trace the shim (`powerloss/src/lib.rs`) writes, read back: one record per call
//! that changed something under the data folder, the process's standard output, and
//! the test's own markers, in the order they happened.

use std::path::{Path, PathBuf};

/// What one record says happened. Paths are relative to the data folder; `None` is a
/// path outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create {
        ino: u64,
        path: Option<PathBuf>,
    },
    Truncate {
        ino: u64,
        len: u64,
    },
    Write {
        ino: u64,
        offset: u64,
        bytes: Vec<u8>,
    },
    Zeros {
        ino: u64,
        offset: u64,
        len: u64,
    },
    /// `fsync` (`data_only` false) or `fdatasync` (true), of a file or a folder.
    Sync {
        ino: u64,
        data_only: bool,
    },
    Rename {
        from: Option<PathBuf>,
        to: Option<PathBuf>,
    },
    Unlink {
        path: Option<PathBuf>,
    },
    Mkdir {
        ino: u64,
        path: Option<PathBuf>,
    },
    Rmdir {
        path: Option<PathBuf>,
    },
    /// A Unix socket bound to a path: an entry with no bytes.
    Socket {
        ino: u64,
        path: Option<PathBuf>,
    },
    Output {
        bytes: Vec<u8>,
    },
    Mark {
        text: String,
    },
    SyncRange {
        ino: u64,
    },
    Exchange,
}

/// One record: the process that made the call, and the call.
#[derive(Debug, Clone)]
pub struct Record {
    pub pid: u32,
    pub call: Call,
}

/// The record kinds, as `powerloss/src/lib.rs` numbers them. Repeated, not imported:
/// linking the shim's crate into the test would put its `write`, `open` … in the test.
mod kind {
    pub const CREATE: u8 = 1;
    pub const TRUNCATE: u8 = 2;
    pub const WRITE: u8 = 3;
    pub const ZEROS: u8 = 4;
    pub const FSYNC: u8 = 5;
    pub const FDATASYNC: u8 = 6;
    pub const RENAME: u8 = 7;
    pub const UNLINK: u8 = 8;
    pub const MKDIR: u8 = 9;
    pub const RMDIR: u8 = 10;
    pub const OUTPUT: u8 = 11;
    pub const MARK: u8 = 12;
    pub const SYNC_RANGE: u8 = 13;
    pub const EXCHANGE: u8 = 14;
    pub const SOCKET: u8 = 15;
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        out
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn field(&mut self) -> Vec<u8> {
        let n = self.u32() as usize;
        self.take(n).to_vec()
    }
    fn path(&mut self, root: &Path) -> Option<PathBuf> {
        use std::os::unix::ffi::OsStrExt;
        let raw = self.field();
        let path = Path::new(std::ffi::OsStr::from_bytes(&raw));
        path.strip_prefix(root).ok().map(Path::to_path_buf)
    }
}

/// Every record of the trace at `file`, with paths made relative to `root`.
pub fn read(file: &Path, root: &Path) -> Vec<Record> {
    let bytes = std::fs::read(file).unwrap_or_default();
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    let mut records = Vec::new();
    while r.at < bytes.len() {
        let len = r.u32() as usize;
        let end = r.at + len;
        let tag = r.take(1)[0];
        let pid = r.u32();
        let call = match tag {
            kind::CREATE => Call::Create {
                ino: r.u64(),
                path: r.path(root),
            },
            kind::TRUNCATE => Call::Truncate {
                ino: r.u64(),
                len: r.u64(),
            },
            kind::WRITE => Call::Write {
                ino: r.u64(),
                offset: r.u64(),
                bytes: r.field(),
            },
            kind::ZEROS => Call::Zeros {
                ino: r.u64(),
                offset: r.u64(),
                len: r.u64(),
            },
            kind::FSYNC => Call::Sync {
                ino: r.u64(),
                data_only: false,
            },
            kind::FDATASYNC => Call::Sync {
                ino: r.u64(),
                data_only: true,
            },
            kind::RENAME => Call::Rename {
                from: r.path(root),
                to: r.path(root),
            },
            kind::UNLINK => Call::Unlink { path: r.path(root) },
            kind::MKDIR => Call::Mkdir {
                ino: r.u64(),
                path: r.path(root),
            },
            kind::SOCKET => Call::Socket {
                ino: r.u64(),
                path: r.path(root),
            },
            kind::RMDIR => Call::Rmdir { path: r.path(root) },
            kind::OUTPUT => Call::Output {
                bytes: r.take(end - r.at).to_vec(),
            },
            kind::MARK => Call::Mark {
                text: String::from_utf8_lossy(r.take(end - r.at)).into_owned(),
            },
            kind::SYNC_RANGE => Call::SyncRange { ino: r.u64() },
            kind::EXCHANGE => Call::Exchange,
            other => panic!("the trace has a record of unknown kind {other}"),
        };
        r.at = end;
        records.push(Record { pid, call });
    }
    records
}

/// Appends a marker to the trace (the test's own note of where something happened).
pub fn mark(file: &Path, text: &str) {
    use std::io::Write;
    let mut out = Vec::new();
    out.extend_from_slice(&(5 + text.len() as u32).to_le_bytes());
    out.push(kind::MARK);
    out.extend_from_slice(&std::process::id().to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    let mut trace = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(file)
        .unwrap();
    // One write on an O_APPEND file: never interleaved with the shim's records.
    trace.write_all(&out).unwrap();
}
