//! The calls that change directory entries: renames, removals, new folders. Recorded
//! by absolute path (after they succeed) when either path is under the folder.

use super::*;

/// Runs `call` under the shim's lock and records `kind` with `paths` if it succeeded
/// and a path is under the folder; `ino` of the first path is recorded for a folder or socket made.
fn traced_names(kind: u8, paths: &[Option<Vec<u8>>], call: impl FnOnce() -> c_int) -> c_int {
    let Some((tracer, _inside)) = enter() else {
        return call();
    };
    if !paths.iter().flatten().any(|p| tracer.under(p)) || paths.iter().any(Option::is_none) {
        return call();
    }
    let paths: Vec<&[u8]> = paths.iter().flatten().map(Vec::as_slice).collect();
    let _fds = tracer.lock();
    let r = call();
    if r == 0 {
        let saved = errno();
        if kind == MKDIR || kind == SOCKET {
            if let Some((_, ino)) = stat_path(paths[0]) {
                tracer.emit_path(kind, Some(ino), &paths);
            }
        } else {
            tracer.emit_path(kind, None, &paths);
        }
        set_errno(saved);
    }
    r
}

/// # Safety
/// As libc's `rename`.
#[no_mangle]
pub unsafe extern "C" fn rename(from: *const c_char, to: *const c_char) -> c_int {
    let real = real!(rename: fn(*const c_char, *const c_char) -> c_int);
    let paths = [absolute(libc::AT_FDCWD, from), absolute(libc::AT_FDCWD, to)];
    traced_names(RENAME, &paths, || call!(real, -1, from, to))
}

/// # Safety
/// As libc's `renameat`.
#[no_mangle]
pub unsafe extern "C" fn renameat(
    from_dir: c_int,
    from: *const c_char,
    to_dir: c_int,
    to: *const c_char,
) -> c_int {
    let real = real!(renameat: fn(c_int, *const c_char, c_int, *const c_char) -> c_int);
    let paths = [absolute(from_dir, from), absolute(to_dir, to)];
    traced_names(RENAME, &paths, || {
        call!(real, -1, from_dir, from, to_dir, to)
    })
}

/// # Safety
/// As libc's `renameat2`.
#[no_mangle]
pub unsafe extern "C" fn renameat2(
    from_dir: c_int,
    from: *const c_char,
    to_dir: c_int,
    to: *const c_char,
    flags: c_uint,
) -> c_int {
    let real = real!(renameat2: fn(c_int, *const c_char, c_int, *const c_char, c_uint) -> c_int);
    let paths = [absolute(from_dir, from), absolute(to_dir, to)];
    let kind = if flags & libc::RENAME_EXCHANGE != 0 {
        EXCHANGE
    } else {
        RENAME
    };
    traced_names(kind, &paths, || {
        call!(real, -1, from_dir, from, to_dir, to, flags)
    })
}

/// # Safety
/// As libc's `unlink`.
#[no_mangle]
pub unsafe extern "C" fn unlink(path: *const c_char) -> c_int {
    let real = real!(unlink: fn(*const c_char) -> c_int);
    traced_names(UNLINK, &[absolute(libc::AT_FDCWD, path)], || {
        call!(real, -1, path)
    })
}

/// # Safety
/// As libc's `rmdir`.
#[no_mangle]
pub unsafe extern "C" fn rmdir(path: *const c_char) -> c_int {
    let real = real!(rmdir: fn(*const c_char) -> c_int);
    traced_names(RMDIR, &[absolute(libc::AT_FDCWD, path)], || {
        call!(real, -1, path)
    })
}

/// # Safety
/// As libc's `unlinkat`.
#[no_mangle]
pub unsafe extern "C" fn unlinkat(dir: c_int, path: *const c_char, flags: c_int) -> c_int {
    let real = real!(unlinkat: fn(c_int, *const c_char, c_int) -> c_int);
    let kind = if flags & libc::AT_REMOVEDIR != 0 {
        RMDIR
    } else {
        UNLINK
    };
    traced_names(kind, &[absolute(dir, path)], || {
        call!(real, -1, dir, path, flags)
    })
}

/// # Safety
/// As libc's `mkdir`.
#[no_mangle]
pub unsafe extern "C" fn mkdir(path: *const c_char, mode: mode_t) -> c_int {
    let real = real!(mkdir: fn(*const c_char, mode_t) -> c_int);
    traced_names(MKDIR, &[absolute(libc::AT_FDCWD, path)], || {
        call!(real, -1, path, mode)
    })
}

/// # Safety
/// As libc's `mkdirat`.
#[no_mangle]
pub unsafe extern "C" fn mkdirat(dir: c_int, path: *const c_char, mode: mode_t) -> c_int {
    let real = real!(mkdirat: fn(c_int, *const c_char, mode_t) -> c_int);
    traced_names(MKDIR, &[absolute(dir, path)], || {
        call!(real, -1, dir, path, mode)
    })
}

/// # Safety
/// As libc's `bind`. A Unix socket bound to a path makes an entry under the folder.
#[no_mangle]
pub unsafe extern "C" fn bind(
    fd: c_int,
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> c_int {
    let real = real!(bind: fn(c_int, *const libc::sockaddr, libc::socklen_t) -> c_int);
    // SAFETY: a non-null address of a bind call has at least its family to read.
    if addr.is_null() || c_int::from(unsafe { (*addr).sa_family }) != libc::AF_UNIX {
        return call!(real, -1, fd, addr, len);
    }
    // SAFETY: an AF_UNIX address is a sockaddr_un; its path is NUL-terminated within it
    // for a path socket (an abstract socket starts with NUL and gives an empty path).
    let path = unsafe { (*(addr as *const libc::sockaddr_un)).sun_path.as_ptr() };
    // SAFETY: as above; an empty path is no entry.
    if unsafe { *path } == 0 {
        return call!(real, -1, fd, addr, len);
    }
    traced_names(SOCKET, &[absolute(libc::AT_FDCWD, path)], || {
        call!(real, -1, fd, addr, len)
    })
}
