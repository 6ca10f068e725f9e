//! An `LD_PRELOAD` shim for the power-loss simulator (`tests/powerloss/`): it records, in
//! order, every call by which a process changes files under one folder — ours and
//! sled's alike — so that a test can rebuild what a disk could hold after a power cut
//! at any of those calls (in the style of ALICE and CrashMonkey).
//!
//! Inert unless `ASSURE_POWERLOSS_DIR` (the folder watched, an absolute path without
//! symbolic links) and `ASSURE_POWERLOSS_LOG` (the trace file, appended to) are both
//! set. It wraps, through `dlsym(RTLD_NEXT, …)`, the libc functions a Rust program and
//! sled call: `open`/`openat`/`creat` (and their `64` forms), `write`, `pwrite`,
//! `writev`, `pwritev`, `ftruncate`, `truncate`, `fallocate`, `posix_fallocate`,
//! `fsync`, `fdatasync`, `sync_file_range`, `rename`/`renameat`/`renameat2`,
//! `unlink`/`unlinkat`/`rmdir`, `mkdir`/`mkdirat`, `copy_file_range`, `sendfile`,
//! `close`, `dup2`/`dup3`, and `bind` of a Unix socket (an entry). It also records
//! what the process writes to its standard output, where the command line
//! acknowledges a change.
//!
//! Each record is one `write` to the trace file opened with `O_APPEND`, so records of
//! several threads, and the test's own markers written between commands, never
//! interleave. A process-wide mutex is held across the real call and its record, so
//! the order of the trace is the order in which the kernel saw the calls. Files are
//! named by inode number in data records (a descriptor outlives a rename of its
//! folder) and by path in directory records. The record format is `trace.rs` in
//! `tests/powerloss/`, which reads it; the constants below are its kinds.
//!
//! The shim must never change what a call does or returns: it only observes (but
//! for `ASSURE_POWERLOSS_KILL_AFTER_OUTPUT`, a test's request that the process die
//! just after it acknowledges). Its own
//! IO (the trace, `readlink`, `fstat`) goes to the real functions, and a thread-local
//! flag passes through any call the shim itself makes while recording.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use libc::{iovec, mode_t, off64_t, off_t, size_t, ssize_t};

/// A file was created (`ino`, path).
pub const CREATE: u8 = 1;
/// A file's length was set (`ino`, length).
pub const TRUNCATE: u8 = 2;
/// Bytes were written (`ino`, offset, bytes).
pub const WRITE: u8 = 3;
/// Zero bytes were written (`ino`, offset, length): sled zeroes large ranges.
pub const ZEROS: u8 = 4;
/// `fsync` of a file or folder (`ino`).
pub const FSYNC: u8 = 5;
/// `fdatasync` of a file or folder (`ino`).
pub const FDATASYNC: u8 = 6;
/// A rename (from, to).
pub const RENAME: u8 = 7;
/// A file's name was removed (path).
pub const UNLINK: u8 = 8;
/// A folder was made (`ino`, path).
pub const MKDIR: u8 = 9;
/// A folder was removed (path).
pub const RMDIR: u8 = 10;
/// The process wrote to its standard output (bytes).
pub const OUTPUT: u8 = 11;
/// A marker written by the test between commands (bytes).
pub const MARK: u8 = 12;
/// `sync_file_range` (`ino`, offset, length): recorded, persists nothing in the model.
pub const SYNC_RANGE: u8 = 13;
/// `renameat2` with `RENAME_EXCHANGE` (path, path): the rebuilder refuses it.
pub const EXCHANGE: u8 = 14;

/// A Unix socket was bound to a path (`ino`, path): an entry with no bytes.
pub const SOCKET: u8 = 15;

/// A descriptor under the folder: its inode, and whether it appends.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    dev: u64,
    ino: u64,
    append: bool,
}

#[derive(Debug)]
struct Tracer {
    /// The watched folder, without a trailing slash.
    dir: Vec<u8>,
    log: c_int,
    /// Descriptors seen, under the folder or not; held across each traced call.
    fds: Mutex<HashMap<c_int, Option<Tracked>>>,
    /// `ASSURE_POWERLOSS_KILL_AFTER_OUTPUT`: the process kills itself (SIGKILL) just
    /// after its first write to standard output, i.e. just after it acknowledged,
    /// between two traced calls (a SIGKILL from outside may land between a call and
    /// its record).
    kill_after_output: bool,
}

/// At exit (`main` returned, or `exit`): other threads may still be writing, and
/// `exit_group` would end them between a call and its record. Wait for those, and
/// make this thread's later calls (there should be none) pass through.
extern "C" fn at_exit() {
    if let Some(Some(tracer)) = TRACER.get() {
        let _ = INSIDE.try_with(|c| c.set(true));
        tracer.close_the_trace();
    }
}

static TRACER: OnceLock<Option<Tracer>> = OnceLock::new();

thread_local! {
    /// Set while the shim runs on this thread: its own calls pass straight through.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Resets `INSIDE` when the shim's work on this thread is done.
struct Inside;

impl Drop for Inside {
    fn drop(&mut self) {
        let _ = INSIDE.try_with(|c| c.set(false));
    }
}

/// The real function named `$name`, with the C signature given, or `None` if libc
/// lacks it (then the wrapper fails the call with ENOSYS, as libc would not link).
macro_rules! real {
    ($name:ident : fn($($arg:ty),*) -> $ret:ty) => {{
        static PTR: AtomicUsize = AtomicUsize::new(0);
        let mut p = PTR.load(Ordering::Relaxed);
        if p == 0 {
            // SAFETY: dlsym is given a NUL-terminated name and RTLD_NEXT.
            p = unsafe { libc::dlsym(libc::RTLD_NEXT, concat!(stringify!($name), "\0").as_ptr().cast()) } as usize;
            PTR.store(p, Ordering::Relaxed);
        }
        (p != 0).then(|| {
            // SAFETY: the next definition of this libc symbol has this C signature.
            unsafe { std::mem::transmute::<usize, unsafe extern "C" fn($($arg),*) -> $ret>(p) }
        })
    }};
}

/// Calls the real function, or fails with ENOSYS when libc has none.
macro_rules! call {
    ($real:expr, $fail:expr $(, $arg:expr)*) => {
        match $real {
            // SAFETY: the caller's arguments, passed on unchanged to the function they meant.
            Some(f) => unsafe { f($($arg),*) },
            None => {
                set_errno(libc::ENOSYS);
                $fail
            }
        }
    };
}

fn set_errno(e: c_int) {
    // SAFETY: errno is thread-local; its location is always valid.
    unsafe { *libc::__errno_location() = e };
}

fn errno() -> c_int {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() }
}

/// The tracer, if tracing is on and this thread is not already inside the shim.
fn enter() -> Option<(&'static Tracer, Inside)> {
    if INSIDE.try_with(|c| c.replace(true)).unwrap_or(true) {
        return None;
    }
    let guard = Inside;
    let tracer = TRACER.get_or_init(Tracer::from_env).as_ref()?;
    Some((tracer, guard))
}

fn real_write_all(fd: c_int, mut bytes: &[u8]) {
    let write = real!(write: fn(c_int, *const c_void, size_t) -> ssize_t);
    while !bytes.is_empty() {
        let n = call!(write, -1, fd, bytes.as_ptr().cast(), bytes.len());
        if n <= 0 {
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

fn readlink(path: &CStr) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: buf has buf.len() writable bytes; path is NUL-terminated.
    let n = unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n > 0).then(|| {
        buf.truncate(n as usize);
        buf
    })
}

fn fd_path(fd: c_int) -> Option<Vec<u8>> {
    let link = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).ok()?;
    readlink(&link)
}

fn stat_fd(fd: c_int) -> Option<(u64, u64)> {
    // SAFETY: an all-zero stat is a valid value to be overwritten by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid stat to write into.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

fn stat_path(path: &[u8]) -> Option<(u64, u64)> {
    let c = std::ffi::CString::new(path).ok()?;
    // SAFETY: as in stat_fd; c is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    (unsafe { libc::lstat(c.as_ptr(), &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

/// `path` made absolute (against `dirfd`, or the working folder), `.` and `..` resolved
/// by name.
fn absolute(dirfd: c_int, path: *const c_char) -> Option<Vec<u8>> {
    if path.is_null() {
        return None;
    }
    // SAFETY: a non-null path argument of a libc call is a NUL-terminated string.
    let path = unsafe { CStr::from_ptr(path) }.to_bytes();
    let mut full = if path.first() == Some(&b'/') {
        Vec::new()
    } else if dirfd == libc::AT_FDCWD {
        std::env::current_dir()
            .ok()
            .map(|d| d.into_os_string().into_encoded_bytes())?
    } else {
        fd_path(dirfd)?
    };
    full.push(b'/');
    full.extend_from_slice(path);
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in full.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let mut out = Vec::with_capacity(full.len());
    for part in parts {
        out.push(b'/');
        out.extend_from_slice(part);
    }
    Some(out)
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl Tracer {
    fn from_env() -> Option<Tracer> {
        let dir = std::env::var_os("ASSURE_POWERLOSS_DIR")?.into_encoded_bytes();
        let log = std::env::var_os("ASSURE_POWERLOSS_LOG")?;
        let log = std::ffi::CString::new(log.into_encoded_bytes()).ok()?;
        let open = real!(open: fn(*const c_char, c_int, mode_t) -> c_int);
        let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC;
        let log = call!(open, -1, log.as_ptr(), flags, 0o644);
        let dir = dir.strip_suffix(b"/").map(<[u8]>::to_vec).unwrap_or(dir);
        if log < 0 {
            return None;
        }
        // SAFETY: registers a plain function to run at exit.
        unsafe { libc::atexit(at_exit) };
        Some(Tracer {
            dir,
            log,
            fds: Mutex::new(HashMap::new()),
            kill_after_output: std::env::var_os("ASSURE_POWERLOSS_KILL_AFTER_OUTPUT").is_some(),
        })
    }

    /// Waits for every traced call under way to be recorded, and lets no other begin:
    /// the trace then ends exactly where the process's changes do.
    fn close_the_trace(&self) {
        std::mem::forget(self.lock());
    }

    fn under(&self, path: &[u8]) -> bool {
        path.strip_prefix(&self.dir[..])
            .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<c_int, Option<Tracked>>> {
        self.fds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One record: `u32 length of the rest ‖ kind ‖ u32 pid ‖ fields`, in one write.
    fn emit(&self, kind: u8, fields: &[u8]) {
        let mut out = Vec::with_capacity(9 + fields.len());
        out.extend_from_slice(&(5 + fields.len() as u32).to_le_bytes());
        out.push(kind);
        out.extend_from_slice(&std::process::id().to_le_bytes());
        out.extend_from_slice(fields);
        real_write_all(self.log, &out);
    }

    fn emit_ino(&self, kind: u8, ino: u64, rest: &[u8]) {
        let mut fields = ino.to_le_bytes().to_vec();
        fields.extend_from_slice(rest);
        self.emit(kind, &fields);
    }

    fn emit_path(&self, kind: u8, ino: Option<u64>, paths: &[&[u8]]) {
        let mut fields = Vec::new();
        if let Some(ino) = ino {
            fields.extend_from_slice(&ino.to_le_bytes());
        }
        for path in paths {
            field(&mut fields, path);
        }
        self.emit(kind, &fields);
    }

    /// Bytes written at `offset`: a ZEROS record for a run of zeros, else WRITE.
    fn emit_write(&self, ino: u64, offset: u64, bytes: &[u8]) {
        let mut rest = offset.to_le_bytes().to_vec();
        if bytes.len() >= 64 && bytes.iter().all(|&b| b == 0) {
            rest.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            self.emit_ino(ZEROS, ino, &rest);
        } else {
            field(&mut rest, bytes);
            self.emit_ino(WRITE, ino, &rest);
        }
    }

    /// The descriptor's file if it is under the folder; checked against its inode, as
    /// a number may have been closed behind the shim's back and reused.
    fn tracked(&self, fds: &mut HashMap<c_int, Option<Tracked>>, fd: c_int) -> Option<Tracked> {
        if fd < 0 {
            return None;
        }
        if let Some(Some(t)) = fds.get(&fd) {
            if stat_fd(fd) == Some((t.dev, t.ino)) {
                return Some(*t);
            }
        }
        let resolved = fd_path(fd)
            .filter(|p| self.under(p))
            .and_then(|_| stat_fd(fd))
            .map(|(dev, ino)| Tracked {
                dev,
                ino,
                // SAFETY: F_GETFL reads the descriptor's flags.
                append: unsafe { libc::fcntl(fd, libc::F_GETFL) } & libc::O_APPEND != 0,
            });
        fds.insert(fd, resolved);
        resolved
    }
}

/// The offset a `write` on `fd` lands at: the end for an appending descriptor.
fn current_offset(fd: c_int, t: Tracked) -> u64 {
    // SAFETY: lseek and fstat only read the descriptor's state.
    let at = unsafe {
        if t.append {
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(fd, &mut st);
            st.st_size
        } else {
            libc::lseek(fd, 0, libc::SEEK_CUR)
        }
    };
    at.max(0) as u64
}

/// The first `n` bytes of an iovec array.
fn gather(iov: *const iovec, count: c_int, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    for i in 0..count.max(0) as usize {
        if out.len() >= n {
            break;
        }
        // SAFETY: the caller passed `count` valid iovecs, and the kernel read them.
        let v = unsafe { &*iov.add(i) };
        let take = v.iov_len.min(n - out.len());
        // SAFETY: each iovec describes iov_len readable bytes.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(v.iov_base as *const u8, take) });
    }
    out
}

// ------------------------------------------------------------------------ opening

fn traced_open(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    open: impl FnOnce() -> c_int,
) -> c_int {
    let Some((tracer, _inside)) = enter() else {
        return open();
    };
    let Some(full) = absolute(dirfd, path).filter(|p| tracer.under(p)) else {
        return open();
    };
    let mut fds = tracer.lock();
    let existed = stat_path(&full).is_some();
    let fd = open();
    if fd < 0 {
        return fd;
    }
    let saved = errno();
    if let Some((dev, ino)) = stat_fd(fd) {
        fds.insert(
            fd,
            Some(Tracked {
                dev,
                ino,
                append: flags & libc::O_APPEND != 0,
            }),
        );
        if !existed {
            tracer.emit_path(CREATE, Some(ino), &[&full]);
        } else if flags & libc::O_TRUNC != 0 && flags & libc::O_ACCMODE != libc::O_RDONLY {
            tracer.emit_ino(TRUNCATE, ino, &0u64.to_le_bytes());
        }
    }
    set_errno(saved);
    fd
}

// `open` and `openat` are variadic in C; their mode is read as a plain third (fourth)
// argument, which is where the x86-64 and AArch64 Linux calling conventions put it.

/// # Safety
/// As libc's `open`.
#[no_mangle]
pub unsafe extern "C" fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let real = real!(open: fn(*const c_char, c_int, mode_t) -> c_int);
    traced_open(libc::AT_FDCWD, path, flags, || {
        call!(real, -1, path, flags, mode)
    })
}

/// # Safety
/// As libc's `open64`.
#[no_mangle]
pub unsafe extern "C" fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let real = real!(open64: fn(*const c_char, c_int, mode_t) -> c_int);
    traced_open(libc::AT_FDCWD, path, flags, || {
        call!(real, -1, path, flags, mode)
    })
}

/// # Safety
/// As libc's `openat`.
#[no_mangle]
pub unsafe extern "C" fn openat(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: mode_t,
) -> c_int {
    let real = real!(openat: fn(c_int, *const c_char, c_int, mode_t) -> c_int);
    traced_open(dirfd, path, flags, || {
        call!(real, -1, dirfd, path, flags, mode)
    })
}

/// # Safety
/// As libc's `openat64`.
#[no_mangle]
pub unsafe extern "C" fn openat64(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: mode_t,
) -> c_int {
    let real = real!(openat64: fn(c_int, *const c_char, c_int, mode_t) -> c_int);
    traced_open(dirfd, path, flags, || {
        call!(real, -1, dirfd, path, flags, mode)
    })
}

/// # Safety
/// As libc's `creat`.
#[no_mangle]
pub unsafe extern "C" fn creat(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: creat is open with these flags, by definition.
    unsafe { open(path, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, mode) }
}

/// # Safety
/// As libc's `creat64`.
#[no_mangle]
pub unsafe extern "C" fn creat64(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: as creat.
    unsafe { open64(path, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, mode) }
}

/// # Safety
/// As libc's `close`.
#[no_mangle]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    let real = real!(close: fn(c_int) -> c_int);
    if let Some((tracer, _inside)) = enter() {
        tracer.lock().remove(&fd);
    }
    call!(real, -1, fd)
}

fn forget(fd: c_int) {
    if let Some((tracer, _inside)) = enter() {
        tracer.lock().remove(&fd);
    }
}

/// # Safety
/// As libc's `dup2`.
#[no_mangle]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    let real = real!(dup2: fn(c_int, c_int) -> c_int);
    forget(new);
    call!(real, -1, old, new)
}

/// # Safety
/// As libc's `dup3`.
#[no_mangle]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    let real = real!(dup3: fn(c_int, c_int, c_int) -> c_int);
    forget(new);
    call!(real, -1, old, new, flags)
}

mod data;
mod names;
