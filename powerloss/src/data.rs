//! The calls that change a file's bytes or length, or make them durable: each is run,
//! then recorded with the inode, the offset and the bytes that the call reports done.

use super::*;

/// Runs `traced` under the shim's lock if `fd` is a file under the folder, else
/// `untraced` as if the shim were not there.
fn with_fd<R>(
    fd: c_int,
    untraced: impl FnOnce() -> R,
    traced: impl FnOnce(&Tracer, Tracked) -> R,
) -> R {
    let Some((tracer, _inside)) = enter() else {
        return untraced();
    };
    let mut fds = tracer.lock();
    match tracer.tracked(&mut fds, fd) {
        Some(t) => {
            let result = traced(tracer, t);
            drop(fds);
            result
        }
        None => {
            drop(fds);
            untraced()
        }
    }
}

/// Records a successful write of `n` bytes from `bytes` at `at`, keeping errno.
fn wrote(tracer: &Tracer, t: Tracked, at: u64, n: isize, bytes: impl FnOnce(usize) -> Vec<u8>) {
    if n > 0 {
        let saved = errno();
        tracer.emit_write(t.ino, at, &bytes(n as usize));
        set_errno(saved);
    }
}

fn output(n: isize, bytes: impl FnOnce(usize) -> Vec<u8>) {
    if n > 0 {
        if let Some((tracer, _inside)) = enter() {
            let saved = errno();
            tracer.emit(OUTPUT, &bytes(n as usize));
            if tracer.kill_after_output {
                tracer.close_the_trace();
                // SAFETY: the process ends itself, as asked by the test.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
            set_errno(saved);
        }
    }
}

fn slice(buf: *const c_void, n: usize) -> Vec<u8> {
    // SAFETY: the kernel has just read these `n` bytes from the caller's buffer.
    unsafe { std::slice::from_raw_parts(buf as *const u8, n) }.to_vec()
}

/// # Safety
/// As libc's `write`.
#[no_mangle]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    let real = real!(write: fn(c_int, *const c_void, size_t) -> ssize_t);
    if fd == libc::STDOUT_FILENO {
        let n = call!(real, -1, fd, buf, count);
        output(n, |n| slice(buf, n));
        return n;
    }
    with_fd(
        fd,
        || call!(real, -1, fd, buf, count),
        |tracer, t| {
            let at = current_offset(fd, t);
            let n = call!(real, -1, fd, buf, count);
            wrote(tracer, t, at, n, |n| slice(buf, n));
            n
        },
    )
}

/// # Safety
/// As libc's `writev`.
#[no_mangle]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, count: c_int) -> ssize_t {
    let real = real!(writev: fn(c_int, *const iovec, c_int) -> ssize_t);
    if fd == libc::STDOUT_FILENO {
        let n = call!(real, -1, fd, iov, count);
        output(n, |n| gather(iov, count, n));
        return n;
    }
    with_fd(
        fd,
        || call!(real, -1, fd, iov, count),
        |tracer, t| {
            let at = current_offset(fd, t);
            let n = call!(real, -1, fd, iov, count);
            wrote(tracer, t, at, n, |n| gather(iov, count, n));
            n
        },
    )
}

macro_rules! positional_write {
    ($name:ident, $off:ty) => {
        /// # Safety
        /// As libc's function of this name.
        #[no_mangle]
        pub unsafe extern "C" fn $name(fd: c_int, buf: *const c_void, count: size_t, offset: $off) -> ssize_t {
            let real = real!($name: fn(c_int, *const c_void, size_t, $off) -> ssize_t);
            with_fd(
                fd,
                || call!(real, -1, fd, buf, count, offset),
                |tracer, t| {
                    let n = call!(real, -1, fd, buf, count, offset);
                    wrote(tracer, t, offset as u64, n, |n| slice(buf, n));
                    n
                },
            )
        }
    };
}

positional_write!(pwrite, off_t);
positional_write!(pwrite64, off64_t);

macro_rules! positional_writev {
    ($name:ident, $off:ty) => {
        /// # Safety
        /// As libc's function of this name.
        #[no_mangle]
        pub unsafe extern "C" fn $name(fd: c_int, iov: *const iovec, count: c_int, offset: $off) -> ssize_t {
            let real = real!($name: fn(c_int, *const iovec, c_int, $off) -> ssize_t);
            with_fd(
                fd,
                || call!(real, -1, fd, iov, count, offset),
                |tracer, t| {
                    let n = call!(real, -1, fd, iov, count, offset);
                    wrote(tracer, t, offset as u64, n, |n| gather(iov, count, n));
                    n
                },
            )
        }
    };
}

positional_writev!(pwritev, off_t);
positional_writev!(pwritev64, off64_t);

/// # Safety
/// As libc's `pwritev2` (an offset of -1 writes at the current position).
#[no_mangle]
pub unsafe extern "C" fn pwritev2(
    fd: c_int,
    iov: *const iovec,
    count: c_int,
    offset: off_t,
    flags: c_int,
) -> ssize_t {
    let real = real!(pwritev2: fn(c_int, *const iovec, c_int, off_t, c_int) -> ssize_t);
    with_fd(
        fd,
        || call!(real, -1, fd, iov, count, offset, flags),
        |tracer, t| {
            let at = if offset < 0 {
                current_offset(fd, t)
            } else {
                offset as u64
            };
            let n = call!(real, -1, fd, iov, count, offset, flags);
            wrote(tracer, t, at, n, |n| gather(iov, count, n));
            n
        },
    )
}

macro_rules! set_length {
    ($name:ident, $off:ty) => {
        /// # Safety
        /// As libc's function of this name.
        #[no_mangle]
        pub unsafe extern "C" fn $name(fd: c_int, length: $off) -> c_int {
            let real = real!($name: fn(c_int, $off) -> c_int);
            with_fd(
                fd,
                || call!(real, -1, fd, length),
                |tracer, t| {
                    let r = call!(real, -1, fd, length);
                    if r == 0 {
                        tracer.emit_ino(TRUNCATE, t.ino, &(length as u64).to_le_bytes());
                    }
                    r
                },
            )
        }
    };
}

set_length!(ftruncate, off_t);
set_length!(ftruncate64, off64_t);

macro_rules! set_length_by_path {
    ($name:ident, $off:ty) => {
        /// # Safety
        /// As libc's function of this name.
        #[no_mangle]
        pub unsafe extern "C" fn $name(path: *const c_char, length: $off) -> c_int {
            let real = real!($name: fn(*const c_char, $off) -> c_int);
            let Some((tracer, _inside)) = enter() else {
                return call!(real, -1, path, length);
            };
            let Some(full) = absolute(libc::AT_FDCWD, path).filter(|p| tracer.under(p)) else {
                return call!(real, -1, path, length);
            };
            let _fds = tracer.lock();
            let r = call!(real, -1, path, length);
            if r == 0 {
                let saved = errno();
                if let Some((_, ino)) = stat_path(&full) {
                    tracer.emit_ino(TRUNCATE, ino, &(length as u64).to_le_bytes());
                }
                set_errno(saved);
            }
            r
        }
    };
}

set_length_by_path!(truncate, off_t);
set_length_by_path!(truncate64, off64_t);

/// Records what an allocation did to the length: the file's size after it, if it grew.
fn allocated(tracer: &Tracer, fd: c_int, t: Tracked, before: Option<i64>) {
    // SAFETY: an all-zero stat is valid to be overwritten by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid stat to write into.
    if unsafe { libc::fstat(fd, &mut st) } == 0 && Some(st.st_size) != before {
        tracer.emit_ino(TRUNCATE, t.ino, &(st.st_size as u64).to_le_bytes());
    }
}

fn size_of(fd: c_int) -> Option<i64> {
    // SAFETY: as in `allocated`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st.st_size)
}

macro_rules! allocate {
    ($name:ident, $off:ty) => {
        /// # Safety
        /// As libc's function of this name.
        #[no_mangle]
        pub unsafe extern "C" fn $name(fd: c_int, mode: c_int, offset: $off, len: $off) -> c_int {
            let real = real!($name: fn(c_int, c_int, $off, $off) -> c_int);
            with_fd(
                fd,
                || call!(real, -1, fd, mode, offset, len),
                |tracer, t| {
                    let before = size_of(fd);
                    let r = call!(real, -1, fd, mode, offset, len);
                    let saved = errno();
                    if r == 0 {
                        allocated(tracer, fd, t, before);
                    }
                    set_errno(saved);
                    r
                },
            )
        }
    };
}

allocate!(fallocate, off_t);
allocate!(fallocate64, off64_t);

macro_rules! posix_allocate {
    ($name:ident, $off:ty) => {
        /// # Safety
        /// As libc's function of this name (it returns an error number).
        #[no_mangle]
        pub unsafe extern "C" fn $name(fd: c_int, offset: $off, len: $off) -> c_int {
            let real = real!($name: fn(c_int, $off, $off) -> c_int);
            with_fd(
                fd,
                || call!(real, libc::ENOSYS, fd, offset, len),
                |tracer, t| {
                    let before = size_of(fd);
                    let r = call!(real, libc::ENOSYS, fd, offset, len);
                    if r == 0 {
                        allocated(tracer, fd, t, before);
                    }
                    r
                },
            )
        }
    };
}

posix_allocate!(posix_fallocate, off_t);
posix_allocate!(posix_fallocate64, off64_t);

macro_rules! sync {
    ($name:ident, $kind:expr) => {
        /// # Safety
        /// As libc's function of this name.
        #[no_mangle]
        pub unsafe extern "C" fn $name(fd: c_int) -> c_int {
            let real = real!($name: fn(c_int) -> c_int);
            with_fd(
                fd,
                || call!(real, -1, fd),
                |tracer, t| {
                    let r = call!(real, -1, fd);
                    if r == 0 {
                        tracer.emit_ino($kind, t.ino, &[]);
                    }
                    r
                },
            )
        }
    };
}

sync!(fsync, FSYNC);
sync!(fdatasync, FDATASYNC);

/// # Safety
/// As libc's `sync_file_range`.
#[no_mangle]
pub unsafe extern "C" fn sync_file_range(
    fd: c_int,
    offset: off64_t,
    n: off64_t,
    flags: c_uint,
) -> c_int {
    let real = real!(sync_file_range: fn(c_int, off64_t, off64_t, c_uint) -> c_int);
    with_fd(
        fd,
        || call!(real, -1, fd, offset, n, flags),
        |tracer, t| {
            let r = call!(real, -1, fd, offset, n, flags);
            if r == 0 {
                let mut rest = (offset as u64).to_le_bytes().to_vec();
                rest.extend_from_slice(&(n as u64).to_le_bytes());
                tracer.emit_ino(SYNC_RANGE, t.ino, &rest);
            }
            r
        },
    )
}

/// Reads back `n` bytes the kernel copied into `fd` at `at` (for `copy_file_range`
/// and `sendfile`, whose bytes the caller never holds). A descriptor opened for
/// writing only (as `std::fs::copy` opens its destination) cannot be read: the file
/// is then opened again for reading through `/proc/self/fd`.
fn read_back(fd: c_int, at: u64, n: usize) -> Vec<u8> {
    let bytes = pread_all(fd, at, n);
    if bytes.len() == n {
        return bytes;
    }
    let Ok(path) = std::ffi::CString::new(format!("/proc/self/fd/{fd}")) else {
        return bytes;
    };
    // SAFETY: path is a NUL-terminated string; the descriptor is closed below.
    let again = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if again < 0 {
        return bytes;
    }
    let bytes = pread_all(again, at, n);
    // SAFETY: `again` was opened above and is not used after.
    unsafe { libc::close(again) };
    bytes
}

fn pread_all(fd: c_int, at: u64, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let mut done = 0;
    while done < n {
        // SAFETY: buf has n - done writable bytes from done.
        let r = unsafe {
            libc::pread(
                fd,
                buf[done..].as_mut_ptr().cast(),
                n - done,
                (at + done as u64) as off_t,
            )
        };
        if r <= 0 {
            break;
        }
        done += r as usize;
    }
    buf.truncate(done);
    buf
}

/// # Safety
/// As libc's `copy_file_range`.
#[no_mangle]
pub unsafe extern "C" fn copy_file_range(
    fd_in: c_int,
    off_in: *mut off64_t,
    fd_out: c_int,
    off_out: *mut off64_t,
    len: size_t,
    flags: c_uint,
) -> ssize_t {
    let real = real!(copy_file_range: fn(c_int, *mut off64_t, c_int, *mut off64_t, size_t, c_uint) -> ssize_t);
    with_fd(
        fd_out,
        || call!(real, -1, fd_in, off_in, fd_out, off_out, len, flags),
        |tracer, t| {
            // SAFETY: a non-null off_out points to the caller's offset.
            let at = if off_out.is_null() {
                current_offset(fd_out, t)
            } else {
                (unsafe { *off_out }) as u64
            };
            let n = call!(real, -1, fd_in, off_in, fd_out, off_out, len, flags);
            wrote(tracer, t, at, n, |n| read_back(fd_out, at, n));
            n
        },
    )
}

/// # Safety
/// As libc's `sendfile`.
#[no_mangle]
pub unsafe extern "C" fn sendfile(
    out: c_int,
    fd_in: c_int,
    offset: *mut off_t,
    count: size_t,
) -> ssize_t {
    let real = real!(sendfile: fn(c_int, c_int, *mut off_t, size_t) -> ssize_t);
    with_fd(
        out,
        || call!(real, -1, out, fd_in, offset, count),
        |tracer, t| {
            let at = current_offset(out, t);
            let n = call!(real, -1, out, fd_in, offset, count);
            wrote(tracer, t, at, n, |n| read_back(out, at, n));
            n
        },
    )
}

/// # Safety
/// As libc's `sendfile64`.
#[no_mangle]
pub unsafe extern "C" fn sendfile64(
    out: c_int,
    fd_in: c_int,
    offset: *mut off64_t,
    count: size_t,
) -> ssize_t {
    let real = real!(sendfile64: fn(c_int, c_int, *mut off64_t, size_t) -> ssize_t);
    with_fd(
        out,
        || call!(real, -1, out, fd_in, offset, count),
        |tracer, t| {
            let at = current_offset(out, t);
            let n = call!(real, -1, out, fd_in, offset, count);
            wrote(tracer, t, at, n, |n| read_back(out, at, n));
            n
        },
    )
}
